/*
 * The validator (veil/data_validate.h): fed one CSV record at a time, it
 * checks each field against its schema column (or, profiling, narrows the
 * types the column could have), feeds the per-column sketches of
 * validate_stats.c and the PII counters, and looks for repeated records.
 * Finishing judges the columns and writes the report (validate_report.c,
 * docs/formats/validation-report.md).
 *
 * Each value is converted once, by the table's own conversions
 * (data_int.h), so that a file that passes validation loads into a table
 * of the schema's types. Nothing per value is allocated: the hash sets
 * grow by doubling and the violation list up to its cap. No value is kept:
 * the state holds counts, moments, sketches and keyed hashes.
 */
#include "data_int.h"
#include "validate_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "veil/crypto.h"

#define TEXT_TYPES ((1u << VEIL_COL_STRING) | (1u << VEIL_COL_CATEGORY))

/* ---- setting up ---- */

static veil_status opts_read(veil_validator *v, const veil_validate_opts *o, veil_err *err)
{
	veil_validate_opts d = {0};
	if (!o)
		o = &d;
	v->max_violations = o->max_violations ? o->max_violations : VEIL_VALIDATE_VIOLATIONS_DEFAULT;
	v->threshold = o->pii_threshold != 0 ? o->pii_threshold : VEIL_VALIDATE_THRESHOLD_DEFAULT;
	if (!(v->threshold > 0 && v->threshold <= 1))
		return veil_err_set(err, VEIL_E_INVALID, "the PII threshold must be above 0 and at most 1");
	v->bins = o->bins ? o->bins : VEIL_VALIDATE_BINS_DEFAULT;
	if (v->bins > BINS_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "a histogram has at most %d bins, not %u", BINS_MAX,
		                    o->bins);
	v->max_dup_rows = o->max_dup_rows ? o->max_dup_rows : VEIL_VALIDATE_DUP_ROWS_DEFAULT;
	if ((unsigned)o->declared > VEIL_CLASS_RESTRICTED)
		return veil_err_set(err, VEIL_E_INVALID, "an unknown declared classification");
	v->declared = o->declared;
	v->redact_all = o->redact_all;
	uint8_t seed[16];
	veil_status st;
	if (o->hash_key)
		memcpy(seed, o->hash_key, sizeof seed);
	else if ((st = veil_random(seed, sizeof seed, err)) != VEIL_OK)
		return st;
	vkey_init(&v->key, seed);
	/* Not a cryptographic key, but whoever knows it can make values
	 * collide: it stays in the validator and is wiped with it. */
	veil_wipe(seed, sizeof seed);
	return VEIL_OK;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int cmp_f64(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int cmp_text(const void *a, const void *b)
{
	const vtext *x = a, *y = b;
	int c = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);
	return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* The schema's allowed list in the column's own values, sorted, so that a
 * field is looked up by value: "1.0" is the allowed float 1, "+7" the
 * allowed int 7, as the table would read them. */
static veil_status allowed_setup(vcol *c, veil_err *err)
{
	const veil_schema_column *sc = c->sc;
	size_t n = sc->nallowed;
	if (n == 0)
		return VEIL_OK;
	bool ok = true;
	switch (c->type) {
	case VEIL_COL_INT64:
	case VEIL_COL_DATE:
	case VEIL_COL_TIMESTAMP:
		if (!(c->allow_i = calloc(n, sizeof *c->allow_i)))
			goto nomem;
		for (size_t k = 0; k < n && ok; k++) {
			const char *s = sc->allowed[k];
			ok = c->type == VEIL_COL_INT64  ? data_conv_int(s, strlen(s), &c->allow_i[k])
			     : c->type == VEIL_COL_DATE ? data_conv_date(s, strlen(s), &c->allow_i[k])
			                                : data_conv_timestamp(s, strlen(s), &c->allow_i[k]);
		}
		qsort(c->allow_i, n, sizeof *c->allow_i, cmp_i64);
		break;
	case VEIL_COL_DOUBLE:
		if (!(c->allow_f = calloc(n, sizeof *c->allow_f)))
			goto nomem;
		for (size_t k = 0; k < n && ok; k++)
			ok = data_conv_double(sc->allowed[k], strlen(sc->allowed[k]), &c->allow_f[k]);
		qsort(c->allow_f, n, sizeof *c->allow_f, cmp_f64);
		break;
	case VEIL_COL_STRING:
	case VEIL_COL_CATEGORY:
		if (!(c->allow_s = calloc(n, sizeof *c->allow_s)))
			goto nomem;
		for (size_t k = 0; k < n; k++)
			c->allow_s[k] = (vtext){sc->allowed[k], strlen(sc->allowed[k])};
		qsort(c->allow_s, n, sizeof *c->allow_s, cmp_text);
		break;
	case VEIL_COL_BOOL:
		return VEIL_OK; /* a schema never has one */
	}
	if (!ok)
		return veil_err_set(
		        err, VEIL_E_INVALID,
		        "the schema's column \"%.64s\" has an allowed value the data reader would not "
		        "read as a %s",
		        c->name, veil_schema_type_name(c->type));
	c->nallowed = n;
	return VEIL_OK;
nomem:
	return veil_err_set(err, VEIL_E_NOMEM, "out of memory for a column's allowed values");
}

/* An index of the header's names (load at most 1/2): finds a schema's
 * columns in the file and refuses a name given twice. */
typedef struct name_index {
	size_t *slot; /* column + 1; 0 is free */
	size_t cap;
} name_index;

static size_t name_slot(const veil_validator *v, const name_index *ix, const char *p, size_t n)
{
	size_t i = (size_t)vhash_bytes(&v->key, p, n).a & (ix->cap - 1);
	for (; ix->slot[i]; i = (i + 1) & (ix->cap - 1)) {
		const vcol *c = &v->cols[ix->slot[i] - 1];
		if (c->name_len == n && memcmp(c->name, p, n) == 0)
			break;
	}
	return i;
}

static veil_status names_setup(veil_validator *v, const veil_csv_field *header, name_index *ix, veil_err *err)
{
	ix->cap = 16;
	while (ix->cap < v->ncols * 2)
		ix->cap *= 2;
	if (!(ix->slot = calloc(ix->cap, sizeof *ix->slot)))
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory for the file's column names");
	for (size_t c = 0; c < v->ncols; c++) {
		const veil_csv_field *f = &header[c];
		size_t bad;
		if (!f->p || f->len == 0 || memchr(f->p, 0, f->len) ||
		    !veil_utf8_valid((const uint8_t *)f->p, f->len, &bad))
			return veil_err_set(
			        err, VEIL_E_INVALID,
			        "the file's column %zu has an empty name, or one that is not UTF-8 text",
			        c + 1);
		size_t s = name_slot(v, ix, f->p, f->len);
		if (ix->slot[s])
			return veil_err_set(err, VEIL_E_INVALID,
			                    "the file's columns %zu and %zu have the same name", ix->slot[s],
			                    c + 1);
		vcol *k = &v->cols[c];
		if (!(k->name = malloc(f->len + 1)))
			return veil_err_set(err, VEIL_E_NOMEM, "out of memory for the file's column names");
		memcpy(k->name, f->p, f->len);
		k->name[f->len] = 0;
		k->name_len = f->len;
		ix->slot[s] = c + 1;
	}
	return VEIL_OK;
}

/* Pairs the schema's columns with the file's, by name: both must name the
 * same set, in any order. */
static veil_status schema_setup(veil_validator *v, const name_index *ix, veil_err *err)
{
	size_t n = veil_schema_ncolumns(v->schema);
	for (size_t j = 0; j < n; j++) {
		const veil_schema_column *sc = veil_schema_column_at(v->schema, j);
		size_t s = name_slot(v, ix, sc->name, strlen(sc->name));
		if (!ix->slot[s]) {
			veil_err_set(err, VEIL_E_INVALID, "the schema's column \"%.64s\" is not in the file",
			             sc->name);
			return veil_err_hint(err, "the file's header must name every column of the schema");
		}
		vcol *c = &v->cols[ix->slot[s] - 1];
		c->sc = sc;
		c->sidx = j;
		c->type = sc->type;
		c->text = (TEXT_TYPES >> sc->type) & 1u;
	}
	for (size_t c = 0; c < v->ncols; c++) {
		if (!v->cols[c].sc) {
			veil_err_set(err, VEIL_E_INVALID, "the file's column \"%.64s\" is not in the schema",
			             v->cols[c].name);
			return veil_err_hint(err, "add the column to the schema, or drop it from the file");
		}
		veil_status st = allowed_setup(&v->cols[c], err);
		if (st != VEIL_OK)
			return st;
		if (v->cols[c].sc->pattern)
			v->cols[c].has_dfa = vdfa_compile(&v->cols[c].dfa, v->cols[c].sc->pattern);
	}
	return VEIL_OK;
}

veil_status veil_validator_new(const veil_schema *schema, const veil_csv_field *header, size_t ncols,
                               const veil_validate_opts *opts, veil_validator **out, veil_err *err)
{
	*out = NULL;
	if (!header || ncols == 0 || ncols > VEIL_CSV_COLUMNS_MAX_LIMIT)
		return veil_err_set(err, VEIL_E_INVALID, "a file to validate has 1 to %u columns",
		                    VEIL_CSV_COLUMNS_MAX_LIMIT);
	veil_validator *v = calloc(1, sizeof *v);
	if (!v || !(v->cols = calloc(ncols, sizeof *v->cols))) {
		free(v);
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory for a validator");
	}
	v->schema = schema;
	v->ncols = ncols;
	name_index ix = {0};
	veil_status st = opts_read(v, opts, err);
	if (st == VEIL_OK)
		st = names_setup(v, header, &ix, err);
	if (st == VEIL_OK && schema)
		st = schema_setup(v, &ix, err);
	free(ix.slot);
	for (size_t c = 0; c < ncols && st == VEIL_OK; c++) {
		vcol *k = &v->cols[c];
		k->mask = VEIL_COL_ANY;
		k->imin = INT64_MAX;
		k->imax = INT64_MIN;
		k->dmin = INFINITY;
		k->dmax = -INFINITY;
		k->lmin = UINT64_MAX;
		if (!(k->hll = calloc(HLL_REGS, 1)))
			st = veil_err_set(err, VEIL_E_NOMEM, "out of memory for a validator");
	}
	if (st != VEIL_OK) {
		veil_validator_free(v);
		return st;
	}
	*out = v;
	return VEIL_OK;
}

/* ---- one record ---- */

static bool drain(veil_validator *v);

/* Counts a violation and lists it while the list has room. The deferred
 * inserts go first, so that the list keeps the order of the file. False:
 * out of memory. */
static bool violate_at(veil_validator *v, uint64_t record, uint64_t line, uint32_t col, rule r)
{
	if (v->npend && v->nlist < v->max_violations && !drain(v))
		return false;
	v->violations++;
	v->by_rule[r]++;
	if (col != NO_COL)
		v->cols[col].viol[r]++;
	if (v->nlist >= v->max_violations)
		return true;
	if (v->nlist == v->listcap) {
		size_t cap = v->listcap ? v->listcap * 2 : 64;
		if (cap > v->max_violations)
			cap = v->max_violations;
		violation *l = realloc(v->list, cap * sizeof *l);
		if (!l)
			return false;
		v->list = l;
		v->listcap = cap;
	}
	v->list[v->nlist++] = (violation){record, line, col, (uint8_t)r};
	return true;
}

static bool violate(veil_validator *v, const veil_csv_row *row, uint32_t col, rule r)
{
	return violate_at(v, row->record, row->line, col, r);
}

/* Inserts the deferred hashes, in the order they came. */
static bool drain(veil_validator *v)
{
	pending batch[PEND_MAX];
	size_t n = v->npend;
	memcpy(batch, v->pend, n * sizeof *batch);
	v->npend = 0;
	for (size_t k = 0; k < n; k++) {
		const pending *p = &batch[k];
		bool fresh = true;
		if (p->col == NO_COL) {
			if (v->dup_checked >= v->max_dup_rows) {
				v->dup_full = true;
				continue;
			}
			if (hset_insert(&v->dups, p->h, &fresh) != VEIL_OK)
				return false;
			v->dup_checked++;
			if (fresh)
				continue;
			v->dup_rows++;
			if (v->schema && !violate_at(v, p->record, p->line, NO_COL, R_DUP))
				return false;
		} else {
			vcol *c = &v->cols[p->col];
			if (c->uniq.n >= v->max_dup_rows) {
				c->uniq_full = true;
				continue;
			}
			if (hset_insert(&c->uniq, p->h, &fresh) != VEIL_OK)
				return false;
			if (!fresh && !violate_at(v, p->record, p->line, p->col, R_UNIQUE))
				return false;
		}
	}
	return true;
}

/* Queues h for its set (the record's duplicates, or column col's unique
 * values), prefetching the slot it will probe first. */
static bool defer(veil_validator *v, const veil_csv_row *row, uint32_t col, vhash h)
{
	const hset *s = col == NO_COL ? &v->dups : &v->cols[col].uniq;
	if (s->cap)
		__builtin_prefetch(&s->slot[hset_first(s, h)], 1);
	v->pend[v->npend++] = (pending){h, row->record, row->line, col};
	return v->npend < PEND_MAX || drain(v);
}

static void number_add(vcol *c, double d)
{
	if (d < c->dmin)
		c->dmin = d;
	if (d > c->dmax)
		c->dmax = d;
	moments_add(&c->mom, d);
	if (!hist_add_fast(&c->h, d))
		hist_add(&c->h, d, c->dmin, c->dmax);
}

static void int_add(vcol *c, int64_t i)
{
	c->has_i = true;
	if (i < c->imin)
		c->imin = i;
	if (i > c->imax)
		c->imax = i;
}

static void length_add(vcol *c, size_t n)
{
	c->lcount++;
	c->lsum += (double)n;
	if (n < c->lmin)
		c->lmin = n;
	if (n > c->lmax)
		c->lmax = n;
}

static bool allowed_has(const vcol *c, int64_t i, double d, const veil_csv_field *f)
{
	switch (c->type) {
	case VEIL_COL_INT64:
	case VEIL_COL_DATE:
	case VEIL_COL_TIMESTAMP:
		return bsearch(&i, c->allow_i, c->nallowed, sizeof i, cmp_i64) != NULL;
	case VEIL_COL_DOUBLE:
		return bsearch(&d, c->allow_f, c->nallowed, sizeof d, cmp_f64) != NULL;
	case VEIL_COL_STRING:
	case VEIL_COL_CATEGORY: {
		vtext t = {f->p, f->len};
		return bsearch(&t, c->allow_s, c->nallowed, sizeof t, cmp_text) != NULL;
	}
	case VEIL_COL_BOOL:
		break;
	}
	return true;
}

/* The rules after the type, in order; the first one broken, or R_COUNT.
 * Uniqueness is decided later, when the deferred insert is done. */
static rule rules_check(veil_validator *v, const veil_csv_row *row, size_t ci, int64_t i, double d, vhash h,
                        bool *nomem)
{
	vcol *c = &v->cols[ci];
	const veil_csv_field *f = &row->fields[ci];
	const veil_schema_column *sc = c->sc;
	if (sc->has_min && (c->type == VEIL_COL_DOUBLE ? d < sc->min.f : i < sc->min.i))
		return R_MIN;
	if (sc->has_max && (c->type == VEIL_COL_DOUBLE ? d > sc->max.f : i > sc->max.i))
		return R_MAX;
	if (c->nallowed && !allowed_has(c, i, d, f))
		return R_ALLOWED;
	if (sc->pattern && !(c->has_dfa ? vdfa_match(&c->dfa, f->p, f->len)
	                                : veil_schema_pattern_match(v->schema, c->sidx, f->p, f->len)))
		return R_PATTERN;
	if (sc->unique && !c->uniq_full && !defer(v, row, (uint32_t)ci, h))
		*nomem = true;
	return R_COUNT;
}

/* The hash a missing value adds to its record's. */
static const vhash MISSING = {0x6d697373696e6721ull, 1};

/* One field against its schema column. False: out of memory. */
static bool field_check(veil_validator *v, size_t ci, const veil_csv_row *row, vhash *rowh)
{
	vcol *c = &v->cols[ci];
	const veil_csv_field *f = &row->fields[ci];
	if (f->len == 0 && (!f->quoted || !c->text)) {
		c->missing++;
		vhash_fold(rowh, MISSING, ci);
		return c->sc->nullable || violate(v, row, (uint32_t)ci, R_NULL);
	}
	c->values++;
	veil_pii_count(&c->pii, f->p, f->len);
	int64_t i = 0;
	double d = 0;
	bool ok = true;
	vhash h;
	switch (c->type) {
	case VEIL_COL_INT64:
		ok = data_conv_int(f->p, f->len, &i);
		d = (double)i;
		break;
	case VEIL_COL_DOUBLE:
		ok = data_conv_double(f->p, f->len, &d);
		if (d == 0)
			d = 0; /* -0 is the value 0 */
		break;
	case VEIL_COL_BOOL:
		ok = data_conv_bool(f->p, f->len, &i);
		break;
	case VEIL_COL_DATE:
		ok = data_conv_date(f->p, f->len, &i);
		d = (double)i;
		break;
	case VEIL_COL_TIMESTAMP:
		ok = data_conv_timestamp(f->p, f->len, &i);
		d = (double)i;
		break;
	case VEIL_COL_STRING:
	case VEIL_COL_CATEGORY:
		break;
	}
	if (!ok) {
		c->invalid++;
		vhash_fold(rowh, vhash_bytes(&v->key, f->p, f->len), ci);
		return violate(v, row, (uint32_t)ci, R_TYPE);
	}
	switch (c->type) {
	case VEIL_COL_INT64:
	case VEIL_COL_DATE:
	case VEIL_COL_TIMESTAMP:
		c->tr = c->type == VEIL_COL_INT64  ? T_NUMBER
		        : c->type == VEIL_COL_DATE ? T_DATE
		                                   : T_TIMESTAMP;
		c->h.integral = true;
		int_add(c, i);
		number_add(c, d);
		h = vhash_u64(&v->key, (uint64_t)i);
		break;
	case VEIL_COL_DOUBLE: {
		uint64_t bits;
		memcpy(&bits, &d, sizeof bits);
		c->tr = T_NUMBER;
		number_add(c, d);
		h = vhash_u64(&v->key, bits);
		break;
	}
	case VEIL_COL_BOOL:
		if (i)
			c->ntrue++;
		else
			c->nfalse++;
		h = vhash_u64(&v->key, (uint64_t)i);
		break;
	case VEIL_COL_STRING:
	case VEIL_COL_CATEGORY:
	default:
		length_add(c, f->len);
		h = vhash_bytes(&v->key, f->p, f->len);
		break;
	}
	vhash_fold(rowh, h, ci);
	hll_add(c->hll, h.a);
	bool nomem = false;
	rule r = rules_check(v, row, ci, i, d, h, &nomem);
	if (nomem)
		return false;
	return r == R_COUNT || violate(v, row, (uint32_t)ci, r);
}

/* One field of a profile: narrows the types the column could have and
 * feeds the statistics of each type still possible. */
static void field_profile(veil_validator *v, size_t ci, const veil_csv_field *f, vhash *rowh)
{
	vcol *c = &v->cols[ci];
	if (f->len == 0) {
		if (!f->quoted) {
			c->missing++;
			vhash_fold(rowh, MISSING, ci);
			return;
		}
		c->quoted_empty++; /* an empty string, or missing if the column is not text */
		length_add(c, 0);
		vhash_fold(rowh, vhash_bytes(&v->key, f->p, 0), ci);
		return;
	}
	c->values++;
	veil_pii_count(&c->pii, f->p, f->len);
	vhash h = vhash_bytes(&v->key, f->p, f->len);
	vhash_fold(rowh, h, ci);
	hll_add(c->hll, h.a);
	length_add(c, f->len);

	/* mask &= veil_col_type_fits(f): the table's own inference, skipped
	 * once only text is left. */
	unsigned m = (c->mask & ~TEXT_TYPES) ? veil_col_type_fits(f) : TEXT_TYPES;
	c->mask &= m;
	int64_t i = 0, b = 0, t = 0;
	double d = 0;
	if (c->mask & (1u << VEIL_COL_BOOL)) {
		(void)data_conv_bool(f->p, f->len, &b);
		if (b)
			c->ntrue++;
		else
			c->nfalse++;
	}
	/* The first value decides the track (a value is a number, a date or a
	 * timestamp, never two of them); a value off the track ends it, since
	 * the type is text then. */
	if (c->values == 1)
		c->tr = (m & (1u << VEIL_COL_DOUBLE))      ? T_NUMBER
		        : (m & (1u << VEIL_COL_DATE))      ? T_DATE
		        : (m & (1u << VEIL_COL_TIMESTAMP)) ? T_TIMESTAMP
		                                           : T_NONE;
	switch (c->tr) {
	case T_NUMBER:
		if (!(c->mask & (1u << VEIL_COL_DOUBLE))) {
			c->tr = T_NONE;
			break;
		}
		c->h.integral = (c->mask & (1u << VEIL_COL_INT64)) != 0;
		if (c->h.integral) { /* the conversions cannot fail: the value fits */
			(void)data_conv_int(f->p, f->len, &i);
			int_add(c, i);
			d = (double)i;
		} else {
			(void)data_conv_double(f->p, f->len, &d);
		}
		number_add(c, d == 0 ? 0 : d); /* -0 is the value 0 */
		break;
	case T_DATE:
	case T_TIMESTAMP:
		if (!(c->mask & (1u << (c->tr == T_DATE ? VEIL_COL_DATE : VEIL_COL_TIMESTAMP)))) {
			c->tr = T_NONE;
			break;
		}
		(void)(c->tr == T_DATE ? data_conv_date(f->p, f->len, &t)
		                       : data_conv_timestamp(f->p, f->len, &t));
		c->h.integral = true;
		int_add(c, t);
		number_add(c, (double)t);
		break;
	case T_NONE:
		break;
	}
}

veil_status veil_validator_row(veil_validator *v, const veil_csv_row *row, veil_err *err)
{
	if (v->finished)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "the validator has finished; it takes no more records");
	if (row->n != v->ncols)
		return veil_err_set(err, VEIL_E_INVALID, "line %llu: %zu fields where the header has %zu",
		                    (unsigned long long)row->line, row->n, v->ncols);
	v->rows++;
	vhash rowh = {v->key.k[1], v->key.k[3]};
	bool ok = true;
	for (size_t c = 0; c < v->ncols; c++) {
		if (v->schema)
			ok &= field_check(v, c, row, &rowh);
		else
			field_profile(v, c, &row->fields[c], &rowh);
	}
	if (!v->dup_full)
		ok &= defer(v, row, NO_COL, rowh);
	if (!ok)
		return veil_err_set(err, VEIL_E_NOMEM, "line %llu: out of memory validating a record",
		                    (unsigned long long)row->line);
	return VEIL_OK;
}

/* ---- the end ---- */

/* Profiling: the type every value fitted decides what the counts mean. */
static void profile_resolve(vcol *c)
{
	c->type = veil_col_type_infer(c->mask);
	c->text = (TEXT_TYPES >> c->type) & 1u;
	if (c->text)
		c->values += c->quoted_empty; /* "" is an empty string */
	else
		c->missing += c->quoted_empty; /* and a missing value of any other type */
}

veil_status veil_validator_finish(veil_validator *v, veil_jw *w, veil_validate_summary *sum, veil_err *err)
{
	if (v->finished)
		return veil_err_set(err, VEIL_E_INVALID, "the validator has finished already");
	v->finished = true;
	if (v->npend && !drain(v))
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory validating the last records");
	if (!v->schema)
		for (size_t c = 0; c < v->ncols; c++)
			profile_resolve(&v->cols[c]);
	vreport_judge(v);
	vreport_write(v, w);
	if (w->st != VEIL_OK) {
		if (err)
			*err = w->err;
		return w->st;
	}
	if (sum)
		*sum = v->sum;
	return VEIL_OK;
}

void veil_validator_free(veil_validator *v)
{
	if (!v)
		return;
	for (size_t c = 0; v->cols && c < v->ncols; c++) {
		vcol *k = &v->cols[c];
		free(k->name);
		free(k->hll);
		hist_free(&k->h);
		hset_free(&k->uniq);
		free(k->allow_i);
		free(k->allow_f);
		free(k->allow_s);
		vdfa_free(&k->dfa);
	}
	free(v->cols);
	free(v->list);
	hset_free(&v->dups);
	veil_wipe(&v->key, sizeof v->key);
	free(v);
}

veil_status veil_validate_csv(veil_read_fn rd, void *ctx, const veil_csv_opts *csv, const veil_schema *schema,
                              const veil_validate_opts *opts, veil_jw *w, veil_validate_summary *sum,
                              veil_schema **inferred, veil_err *err)
{
	if (inferred)
		*inferred = NULL;
	veil_csv_reader *r = NULL;
	veil_validator *v = NULL;
	veil_status st = veil_csv_reader_new(csv, rd, ctx, &r, err);
	if (st != VEIL_OK)
		return st;
	const veil_csv_field *names;
	size_t n;
	veil_csv_header(r, &names, &n);
	st = veil_validator_new(schema, names, n, opts, &v, err);
	if (st == VEIL_OK && v) {
		veil_csv_row row;
		while ((st = veil_csv_next(r, &row, err)) == VEIL_OK && row.n)
			if ((st = veil_validator_row(v, &row, err)) != VEIL_OK)
				break;
		if (st == VEIL_OK)
			st = veil_validator_finish(v, w, sum, err);
		if (st == VEIL_OK && inferred && !schema)
			st = veil_validator_infer_schema(v, inferred, err);
	}
	veil_validator_free(v);
	veil_csv_reader_free(r);
	return st;
}
