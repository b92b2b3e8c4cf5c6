/*
 * The columnar in-memory table (veil/data_csv.h): typed columns with a
 * validity bitmap, strings and category labels in an arena of blocks that
 * never move (so views stay valid across appends of strings), and the value
 * conversions and type inference that turn CSV text into typed values.
 *
 * An append converts the whole row first, then reserves every array, arena
 * block and dictionary slot it needs, and only then writes: a row that
 * fails leaves the table exactly as it was.
 *
 * Error messages name the line, the column number and its name and the
 * length of a bad value, never the value: data files hold personal data.
 */
#include "veil/crypto.h"
#include "veil/data_csv.h"
#include "data_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ARENA_BLOCK  ((size_t)1 << 20)
#define NUM_TEXT_MAX 256 /* longest text read as a number */

typedef struct block {
	struct block *next;
	size_t used, cap;
	char data[];
} block;

typedef struct col {
	char *name;
	size_t name_len;
	veil_col_type type;
	uint8_t *valid;
	void *vals;
	size_t nulls;
	veil_table_str *dict; /* CATEGORY */
	size_t ndict, dcap;
	uint32_t *slots; /* code + 1; 0 is free */
	size_t nslots;
} col;

typedef struct val {
	union {
		int64_t i;
		double d;
		uint32_t code;
	} u;
	bool null;
	bool fresh; /* a category label not yet in the dictionary */
	uint64_t hash;
} val;

struct veil_table {
	col *cols;
	size_t ncols, nrows, cap;
	block *arena;
	val *scratch;
};

static size_t elem_size(veil_col_type t)
{
	switch (t) {
	case VEIL_COL_INT64:
	case VEIL_COL_DATE:
	case VEIL_COL_TIMESTAMP:
		return sizeof(int64_t);
	case VEIL_COL_DOUBLE:
		return sizeof(double);
	case VEIL_COL_BOOL:
		return 1;
	case VEIL_COL_STRING:
		return sizeof(veil_table_str);
	case VEIL_COL_CATEGORY:
		return sizeof(uint32_t);
	}
	return 1;
}

const char *veil_col_type_name(veil_col_type t)
{
	switch (t) {
	case VEIL_COL_INT64:
		return "int64";
	case VEIL_COL_DOUBLE:
		return "double";
	case VEIL_COL_BOOL:
		return "bool";
	case VEIL_COL_DATE:
		return "date";
	case VEIL_COL_TIMESTAMP:
		return "timestamp";
	case VEIL_COL_STRING:
		return "string";
	case VEIL_COL_CATEGORY:
		return "category";
	}
	return "unknown";
}

veil_status veil_col_type_parse(const char *name, veil_col_type *out, veil_err *err)
{
	static const struct {
		const char *name;
		veil_col_type t;
	} names[] = {{"int64", VEIL_COL_INT64},         {"int", VEIL_COL_INT64},
	             {"double", VEIL_COL_DOUBLE},       {"float", VEIL_COL_DOUBLE},
	             {"bool", VEIL_COL_BOOL},           {"date", VEIL_COL_DATE},
	             {"timestamp", VEIL_COL_TIMESTAMP}, {"string", VEIL_COL_STRING},
	             {"category", VEIL_COL_CATEGORY}};
	for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
		if (strcmp(name, names[k].name) == 0) {
			*out = names[k].t;
			return VEIL_OK;
		}
	veil_err_set(err, VEIL_E_INVALID, "unknown column type");
	veil_err_hint(err, "types: int, float, bool, date, timestamp, string, category");
	return VEIL_E_INVALID;
}

/* ---- conversions: strict spellings, no locale, no leading or trailing space ---- */

bool data_conv_int(const char *p, size_t n, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	if (n && (p[0] == '+' || p[0] == '-'))
		neg = p[i++] == '-';
	if (i == n)
		return false;
	uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		unsigned d = (unsigned)(p[i] - '0');
		if (v > (lim - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

static size_t digits(const char *p, size_t n, size_t i)
{
	size_t s = i;
	while (i < n && p[i] >= '0' && p[i] <= '9')
		i++;
	return i - s;
}

/* [+-] (D+ [. D*] | . D+) [(e|E) [+-] D+], finite. strtod alone would take
 * spaces, hex, "inf" and "nan". */
bool data_conv_double(const char *p, size_t n, double *out)
{
	bool expo = false;
	size_t i = 0;
	if (n == 0 || n >= NUM_TEXT_MAX)
		return false;
	if (p[i] == '+' || p[i] == '-')
		i++;
	size_t a = digits(p, n, i);
	i += a;
	size_t b = 0;
	if (i < n && p[i] == '.') {
		b = digits(p, n, i + 1);
		i += 1 + b;
	}
	if (a + b == 0)
		return false;
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		size_t e = digits(p, n, i);
		if (e == 0)
			return false;
		i += e;
		expo = true;
	}
	if (i != n)
		return false;
	if (!out && !expo)
		return true; /* under NUM_TEXT_MAX digits and no exponent: finite */
	char tmp[NUM_TEXT_MAX];
	memcpy(tmp, p, n);
	tmp[n] = 0;
	errno = 0;
	double d = strtod(tmp, NULL);
	if (errno == ERANGE && (d > 1.0 || d < -1.0))
		return false; /* overflow; underflow to 0 or a subnormal is a fine reading */
	if (out)
		*out = d;
	return true;
}

bool data_conv_bool(const char *p, size_t n, int64_t *out)
{
	static const struct {
		const char *word;
		size_t len;
		int64_t v;
	} words[] = {{"true", 4, 1}, {"yes", 3, 1}, {"1", 1, 1}, {"false", 5, 0}, {"no", 2, 0}, {"0", 1, 0}};
	if (n == 0 || n > 5)
		return false;
	for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
		if (n == words[k].len && strncasecmp(p, words[k].word, n) == 0) {
			*out = words[k].v;
			return true;
		}
	return false;
}

/* Days from 1970-01-01 to a proleptic Gregorian date (the civil-from-days
 * arithmetic with 400-year eras of 146097 days, eras starting in March so
 * that the leap day falls at the end of one). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* n digits at p as a number, or -1. */
static int num(const char *p, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* YYYY-MM-DD of a date that exists. Written out rather than through
 * veil_time_parse: strptime, timegm and a formatting round trip cost
 * microseconds a field, and type inference tries every field. */
bool data_conv_date(const char *p, size_t n, int64_t *out)
{
	static const unsigned char mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (n != 10 || p[4] != '-' || p[7] != '-')
		return false;
	int y = num(p, 4), m = num(p + 5, 2), d = num(p + 8, 2);
	if (y < 0 || m < 1 || m > 12 || d < 1)
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[m - 1] + (m == 2 && leap))
		return false;
	*out = days_from_civil(y, (unsigned)m, (unsigned)d);
	return true;
}

/* YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DD HH:MM:SS, UTC; no leap seconds. */
bool data_conv_timestamp(const char *p, size_t n, int64_t *out)
{
	int64_t days;
	if (!((n == 20 && p[10] == 'T' && p[19] == 'Z') || (n == 19 && p[10] == ' ')))
		return false;
	if (p[13] != ':' || p[16] != ':' || !data_conv_date(p, 10, &days))
		return false;
	int h = num(p + 11, 2), mi = num(p + 14, 2), sec = num(p + 17, 2);
	if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59)
		return false;
	*out = days * 86400 + h * 3600 + mi * 60 + sec;
	return true;
}

static bool is_null(const veil_csv_field *f)
{
	return f->len == 0;
}

unsigned veil_col_type_fits(const veil_csv_field *f)
{
	if (is_null(f))
		return VEIL_COL_ANY;
	unsigned m = 1u << VEIL_COL_STRING | 1u << VEIL_COL_CATEGORY;
	int64_t i;
	/* A leading zero ("02134", "-007") marks a code (a ZIP, an account
	 * number), not a quantity: as a number it would lose the zero. */
	size_t d = f->len && (f->p[0] == '-' || f->p[0] == '+') ? 1 : 0;
	bool code = f->len > d + 1 && f->p[d] == '0' && f->p[d + 1] >= '0' && f->p[d + 1] <= '9';
	if (!code && data_conv_int(f->p, f->len, &i))
		m |= 1u << VEIL_COL_INT64;
	if (!code && data_conv_double(f->p, f->len, NULL))
		m |= 1u << VEIL_COL_DOUBLE;
	if (data_conv_bool(f->p, f->len, &i))
		m |= 1u << VEIL_COL_BOOL;
	if (data_conv_date(f->p, f->len, &i))
		m |= 1u << VEIL_COL_DATE;
	if (data_conv_timestamp(f->p, f->len, &i))
		m |= 1u << VEIL_COL_TIMESTAMP;
	return m;
}

veil_col_type veil_col_type_infer(unsigned mask)
{
	static const veil_col_type order[] = {VEIL_COL_INT64, VEIL_COL_DOUBLE, VEIL_COL_BOOL, VEIL_COL_DATE,
	                                      VEIL_COL_TIMESTAMP};
	if ((mask & VEIL_COL_ANY) == VEIL_COL_ANY)
		return VEIL_COL_STRING; /* nothing but missing values: no evidence for a type */
	for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
		if (mask & (1u << order[k]))
			return order[k];
	return VEIL_COL_STRING;
}

/* ---- names ---- */

static uint64_t hash_bytes(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
	return h;
}

/* How much of a column name goes into a message: at most 64 bytes, not
 * cutting a UTF-8 sequence. */
static int name_shown(const col *c)
{
	size_t n = c->name_len;
	if (n > 64) {
		n = 64;
		while (n > 0 && ((uint8_t)c->name[n] & 0xc0) == 0x80)
			n--;
	}
	return (int)n;
}

static veil_status names_check(const veil_table_col_spec *cols, size_t ncols, veil_err *err)
{
	size_t hcap = 16;
	while (hcap < ncols * 2)
		hcap *= 2;
	size_t *slot = calloc(hcap, sizeof *slot);
	if (!slot)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory for a table");
	veil_status st = VEIL_OK;
	for (size_t c = 0; c < ncols && st == VEIL_OK; c++) {
		const char *nm = cols[c].name;
		if (!nm || !nm[0]) {
			st = veil_err_set(err, VEIL_E_INVALID, "table column %zu has no name", c + 1);
			break;
		}
		if ((unsigned)cols[c].type >= VEIL_COL_TYPE_COUNT) {
			st = veil_err_set(err, VEIL_E_INVALID, "table column %zu has an unknown type", c + 1);
			break;
		}
		size_t h = (size_t)hash_bytes(nm, strlen(nm)) & (hcap - 1);
		for (; slot[h] && st == VEIL_OK; h = (h + 1) & (hcap - 1))
			if (strcmp(cols[slot[h] - 1].name, nm) == 0)
				st = veil_err_set(err, VEIL_E_INVALID,
				                  "table columns %zu and %zu have the same name", slot[h],
				                  c + 1);
		slot[h] = c + 1;
	}
	free(slot);
	return st;
}

veil_status veil_table_new(const veil_table_col_spec *cols, size_t ncols, veil_table **out, veil_err *err)
{
	*out = NULL;
	if (ncols == 0 || ncols > VEIL_CSV_COLUMNS_MAX_LIMIT)
		return veil_err_set(err, VEIL_E_INVALID, "a table has 1 to %u columns",
		                    VEIL_CSV_COLUMNS_MAX_LIMIT);
	veil_status st = names_check(cols, ncols, err);
	if (st != VEIL_OK)
		return st;
	veil_table *t = calloc(1, sizeof *t);
	if (!t || !(t->cols = calloc(ncols, sizeof *t->cols)) ||
	    !(t->scratch = calloc(ncols, sizeof *t->scratch))) {
		veil_table_free(t);
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory for a table");
	}
	t->ncols = ncols;
	for (size_t c = 0; c < ncols; c++) {
		t->cols[c].type = cols[c].type;
		t->cols[c].name_len = strlen(cols[c].name);
		t->cols[c].name = strdup(cols[c].name);
		if (!t->cols[c].name) {
			veil_table_free(t);
			return veil_err_set(err, VEIL_E_NOMEM, "out of memory for a table");
		}
	}
	*out = t;
	return VEIL_OK;
}

veil_status veil_table_new_from_header(const veil_csv_reader *r, veil_col_type type, veil_table **out,
                                       veil_err *err)
{
	const veil_csv_field *names;
	size_t n;
	veil_csv_header(r, &names, &n);
	veil_table_col_spec *spec = calloc(n ? n : 1, sizeof *spec);
	if (!spec)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory for a table");
	for (size_t c = 0; c < n; c++)
		spec[c] = (veil_table_col_spec){names[c].p, type};
	veil_status st = veil_table_new(spec, n, out, err);
	free(spec);
	return st;
}

/* ---- storage ---- */

static char *arena_put(veil_table *t, const char *p, size_t n)
{
	block *b = t->arena;
	char *d = b->data + b->used; /* arena_reserve made room */
	memcpy(d, p, n);
	d[n] = 0;
	b->used += n + 1;
	return d;
}

static bool arena_reserve(veil_table *t, size_t n)
{
	if (t->arena && t->arena->cap - t->arena->used >= n)
		return true;
	/* Blocks double from 4 KiB to ARENA_BLOCK: small tables stay small. */
	size_t cap = t->arena ? t->arena->cap * 2 : 4096;
	if (cap > ARENA_BLOCK)
		cap = ARENA_BLOCK;
	if (cap < n)
		cap = n;
	block *b = malloc(sizeof *b + cap);
	if (!b)
		return false;
	b->next = t->arena;
	b->used = 0;
	b->cap = cap;
	t->arena = b;
	return true;
}

static bool rows_reserve(veil_table *t)
{
	if (t->nrows < t->cap)
		return true;
	size_t ncap = t->cap ? t->cap * 2 : 64; /* a multiple of 8: whole bitmap bytes */
	for (size_t c = 0; c < t->ncols; c++) {
		col *k = &t->cols[c];
		void *v = realloc(k->vals, ncap * elem_size(k->type));
		if (!v)
			return false;
		k->vals = v;
		uint8_t *bm = realloc(k->valid, ncap / 8);
		if (!bm)
			return false;
		memset(bm + t->cap / 8, 0, (ncap - t->cap) / 8);
		k->valid = bm;
	}
	t->cap = ncap;
	return true;
}

static long dict_find(const col *k, const char *p, size_t n, uint64_t h)
{
	if (!k->nslots)
		return -1;
	for (size_t s = (size_t)h & (k->nslots - 1); k->slots[s]; s = (s + 1) & (k->nslots - 1)) {
		const veil_table_str *e = &k->dict[k->slots[s] - 1];
		if (e->len == n && memcmp(e->p, p, n) == 0)
			return (long)k->slots[s] - 1;
	}
	return -1;
}

/* Room for one more label in the dictionary and its hash table (load <= 1/2). */
static bool dict_reserve(col *k)
{
	if (k->ndict == k->dcap) {
		size_t ncap = k->dcap ? k->dcap * 2 : 16;
		veil_table_str *d = realloc(k->dict, ncap * sizeof *d);
		if (!d)
			return false;
		k->dict = d;
		k->dcap = ncap;
	}
	if ((k->ndict + 1) * 2 <= k->nslots)
		return true;
	size_t ns = k->nslots ? k->nslots * 2 : 32;
	uint32_t *sl = calloc(ns, sizeof *sl);
	if (!sl)
		return false;
	for (size_t c = 0; c < k->ndict; c++) {
		size_t s = (size_t)hash_bytes(k->dict[c].p, k->dict[c].len) & (ns - 1);
		while (sl[s])
			s = (s + 1) & (ns - 1);
		sl[s] = (uint32_t)c + 1;
	}
	free(k->slots);
	k->slots = sl;
	k->nslots = ns;
	return true;
}

static void dict_add(col *k, const char *p, size_t n, uint64_t h)
{
	size_t s = (size_t)h & (k->nslots - 1);
	while (k->slots[s])
		s = (s + 1) & (k->nslots - 1);
	k->dict[k->ndict] = (veil_table_str){p, n};
	k->slots[s] = (uint32_t)++k->ndict;
}

/* ---- append ---- */

static const char *type_words(veil_col_type t)
{
	switch (t) {
	case VEIL_COL_INT64:
		return "an integer";
	case VEIL_COL_DOUBLE:
		return "a number";
	case VEIL_COL_BOOL:
		return "a boolean (true/false, yes/no, 1/0)";
	case VEIL_COL_DATE:
		return "a date (YYYY-MM-DD)";
	case VEIL_COL_TIMESTAMP:
		return "a timestamp (YYYY-MM-DDTHH:MM:SSZ)";
	case VEIL_COL_STRING:
	case VEIL_COL_CATEGORY:
		return "text";
	}
	return "a value";
}

static veil_status bad_value(const veil_table *t, const veil_csv_row *row, size_t c, const char *what,
                             veil_status code, veil_err *err)
{
	const col *k = &t->cols[c];
	return veil_err_set(err, code, "line %llu, column %zu (%.*s): a value of %zu bytes %s",
	                    (unsigned long long)row->line, c + 1, name_shown(k), k->name, row->fields[c].len,
	                    what);
}

/* Converts field c into t->scratch[c]; *bytes grows by the arena space it needs. */
static veil_status convert(veil_table *t, const veil_csv_row *row, size_t c, size_t *bytes, veil_err *err)
{
	const veil_csv_field *f = &row->fields[c];
	col *k = &t->cols[c];
	val *v = &t->scratch[c];
	memset(v, 0, sizeof *v);
	bool text = k->type == VEIL_COL_STRING || k->type == VEIL_COL_CATEGORY;
	if (is_null(f) && !(text && f->quoted)) {
		v->null = true;
		return VEIL_OK;
	}
	bool ok = true;
	switch (k->type) {
	case VEIL_COL_INT64:
		ok = data_conv_int(f->p, f->len, &v->u.i);
		break;
	case VEIL_COL_DOUBLE:
		ok = data_conv_double(f->p, f->len, &v->u.d);
		break;
	case VEIL_COL_BOOL:
		ok = data_conv_bool(f->p, f->len, &v->u.i);
		break;
	case VEIL_COL_DATE:
		ok = data_conv_date(f->p, f->len, &v->u.i);
		break;
	case VEIL_COL_TIMESTAMP:
		ok = data_conv_timestamp(f->p, f->len, &v->u.i);
		break;
	case VEIL_COL_STRING:
		*bytes += f->len + 1;
		break;
	case VEIL_COL_CATEGORY:
		v->hash = hash_bytes(f->p, f->len);
		long code = dict_find(k, f->p, f->len, v->hash);
		if (code >= 0) {
			v->u.code = (uint32_t)code;
			break;
		}
		if (k->ndict >= VEIL_TABLE_CATEGORY_MAX) {
			bad_value(t, row, c, "would be one category too many", VEIL_E_LIMIT, err);
			veil_err_hint(err, "a category column has at most %u distinct values; use string",
			              VEIL_TABLE_CATEGORY_MAX);
			return VEIL_E_LIMIT;
		}
		v->fresh = true;
		*bytes += f->len + 1;
		break;
	}
	if (ok)
		return VEIL_OK;
	char what[64];
	snprintf(what, sizeof what, "is not %s", type_words(k->type));
	return bad_value(t, row, c, what, VEIL_E_INVALID, err);
}

static void commit(veil_table *t, const veil_csv_row *row, size_t c)
{
	col *k = &t->cols[c];
	const val *v = &t->scratch[c];
	size_t r = t->nrows;
	if (v->null) {
		k->nulls++;
		memset((uint8_t *)k->vals + r * elem_size(k->type), 0, elem_size(k->type));
		return;
	}
	k->valid[r / 8] |= (uint8_t)(1u << (r % 8));
	const veil_csv_field *f = &row->fields[c];
	switch (k->type) {
	case VEIL_COL_INT64:
	case VEIL_COL_DATE:
	case VEIL_COL_TIMESTAMP:
		((int64_t *)k->vals)[r] = v->u.i;
		break;
	case VEIL_COL_DOUBLE:
		((double *)k->vals)[r] = v->u.d;
		break;
	case VEIL_COL_BOOL:
		((uint8_t *)k->vals)[r] = (uint8_t)v->u.i;
		break;
	case VEIL_COL_STRING:
		((veil_table_str *)k->vals)[r] = (veil_table_str){arena_put(t, f->p, f->len), f->len};
		break;
	case VEIL_COL_CATEGORY:
		if (v->fresh) {
			dict_add(k, arena_put(t, f->p, f->len), f->len, v->hash);
			((uint32_t *)k->vals)[r] = (uint32_t)k->ndict - 1;
		} else
			((uint32_t *)k->vals)[r] = v->u.code;
		break;
	}
}

veil_status veil_table_append(veil_table *t, const veil_csv_row *row, veil_err *err)
{
	if (row->n != t->ncols)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "line %llu: %zu fields where the table has %zu columns",
		                    (unsigned long long)row->line, row->n, t->ncols);
	if (t->nrows >= VEIL_TABLE_ROWS_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "line %llu: a table holds at most %zu rows",
		                    (unsigned long long)row->line, VEIL_TABLE_ROWS_MAX);
	size_t bytes = 0;
	for (size_t c = 0; c < t->ncols; c++) {
		veil_status st = convert(t, row, c, &bytes, err);
		if (st != VEIL_OK)
			return st;
	}
	if (!rows_reserve(t) || (bytes && !arena_reserve(t, bytes)))
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory for table row %zu", t->nrows + 1);
	for (size_t c = 0; c < t->ncols; c++)
		if (t->scratch[c].fresh && !dict_reserve(&t->cols[c]))
			return veil_err_set(err, VEIL_E_NOMEM, "out of memory for table row %zu",
			                    t->nrows + 1);
	for (size_t c = 0; c < t->ncols; c++)
		commit(t, row, c);
	t->nrows++;
	return VEIL_OK;
}

/* Fills t->scratch[c] from a typed value (the CSV path's convert, for
 * values that are already typed); *bytes grows by the arena space it needs. */
static veil_status convert_value(veil_table *t, const veil_table_value *in, size_t c, size_t *bytes,
                                 veil_err *err)
{
	col *k = &t->cols[c];
	val *v = &t->scratch[c];
	memset(v, 0, sizeof *v);
	if (in->null) {
		v->null = true;
		return VEIL_OK;
	}
	const char *why = NULL;
	size_t bad = 0;
	/* Dates and times in the years 0000 to 9999: what the CSV reader reads
	 * and its writer writes. */
	static const int64_t day_min = -719528, day_max = 2932896; /* 0000-01-01, 9999-12-31 */
	switch (k->type) {
	case VEIL_COL_DATE:
	case VEIL_COL_TIMESTAMP: {
		bool date = k->type == VEIL_COL_DATE;
		int64_t lo = date ? day_min : day_min * 86400, hi = date ? day_max : day_max * 86400 + 86399;
		if (in->i < lo || in->i > hi)
			why = "is not in the years 0000 to 9999";
		v->u.i = in->i;
		break;
	}
	case VEIL_COL_INT64:
		v->u.i = in->i;
		break;
	case VEIL_COL_DOUBLE:
		if (!isfinite(in->f))
			why = "is not a finite number";
		v->u.d = in->f;
		break;
	case VEIL_COL_BOOL:
		if (in->i != 0 && in->i != 1)
			why = "is not a boolean (0 or 1)";
		v->u.i = in->i;
		break;
	case VEIL_COL_STRING:
	case VEIL_COL_CATEGORY:
		if ((!in->p && in->len) || (in->len && memchr(in->p, '\0', in->len)) ||
		    !veil_utf8_valid((const uint8_t *)(in->p ? in->p : ""), in->len, &bad)) {
			why = "is not UTF-8 text without NUL";
			break;
		}
		if (k->type == VEIL_COL_STRING) {
			*bytes += in->len + 1;
			break;
		}
		v->hash = hash_bytes(in->p, in->len);
		long code = dict_find(k, in->p, in->len, v->hash);
		if (code >= 0) {
			v->u.code = (uint32_t)code;
			break;
		}
		if (k->ndict >= VEIL_TABLE_CATEGORY_MAX) {
			veil_err_set(err, VEIL_E_LIMIT, "row %zu, column %zu (%.*s): one category too many",
			             t->nrows + 1, c + 1, name_shown(k), k->name);
			veil_err_hint(err, "a category column has at most %u distinct values; use string",
			              VEIL_TABLE_CATEGORY_MAX);
			return VEIL_E_LIMIT;
		}
		v->fresh = true;
		*bytes += in->len + 1;
		break;
	}
	if (why)
		return veil_err_set(err, VEIL_E_INVALID, "row %zu, column %zu (%.*s): a value that %s",
		                    t->nrows + 1, c + 1, name_shown(k), k->name, why);
	return VEIL_OK;
}

veil_status veil_table_append_values(veil_table *t, const veil_table_value *vals, size_t n, veil_err *err)
{
	if (n != t->ncols || (!vals && n))
		return veil_err_set(err, VEIL_E_INVALID, "%zu values where the table has %zu columns", n,
		                    t->ncols);
	if (t->nrows >= VEIL_TABLE_ROWS_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "a table holds at most %zu rows", VEIL_TABLE_ROWS_MAX);
	size_t bytes = 0;
	for (size_t c = 0; c < t->ncols; c++) {
		veil_status st = convert_value(t, &vals[c], c, &bytes, err);
		if (st != VEIL_OK)
			return st;
	}
	/* commit takes text from a CSV row's fields: lend it the values' text. */
	veil_csv_field small[64];
	veil_csv_field *fields = t->ncols <= 64 ? small : calloc(t->ncols, sizeof *fields);
	if (!fields || !rows_reserve(t) || (bytes && !arena_reserve(t, bytes))) {
		if (fields != small)
			free(fields);
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory for table row %zu", t->nrows + 1);
	}
	for (size_t c = 0; c < t->ncols; c++)
		if (t->scratch[c].fresh && !dict_reserve(&t->cols[c])) {
			if (fields != small)
				free(fields);
			return veil_err_set(err, VEIL_E_NOMEM, "out of memory for table row %zu",
			                    t->nrows + 1);
		}
	for (size_t c = 0; c < t->ncols; c++)
		fields[c] = (veil_csv_field){vals[c].p ? vals[c].p : "", vals[c].len, false};
	veil_csv_row row = {.fields = fields, .n = t->ncols};
	for (size_t c = 0; c < t->ncols; c++)
		commit(t, &row, c);
	if (fields != small)
		free(fields);
	t->nrows++;
	return VEIL_OK;
}

size_t veil_table_nrows(const veil_table *t)
{
	return t->nrows;
}

size_t veil_table_ncols(const veil_table *t)
{
	return t->ncols;
}

void veil_table_column(const veil_table *t, size_t c, veil_table_col *out)
{
	static const uint8_t none[1];
	const col *k = &t->cols[c];
	memset(out, 0, sizeof *out);
	out->name = k->name;
	out->type = k->type;
	out->nrows = t->nrows;
	out->nulls = k->nulls;
	out->validity = k->valid ? k->valid : none;
	switch (k->type) {
	case VEIL_COL_INT64:
	case VEIL_COL_DATE:
	case VEIL_COL_TIMESTAMP:
		out->i64 = k->vals;
		break;
	case VEIL_COL_DOUBLE:
		out->f64 = k->vals;
		break;
	case VEIL_COL_BOOL:
		out->b = k->vals;
		break;
	case VEIL_COL_STRING:
		out->str = k->vals;
		break;
	case VEIL_COL_CATEGORY:
		out->codes = k->vals;
		out->dict = k->dict;
		out->ndict = k->ndict;
		break;
	}
}

long veil_table_find(const veil_table *t, const char *name)
{
	for (size_t c = 0; c < t->ncols; c++)
		if (strcmp(t->cols[c].name, name) == 0)
			return (long)c;
	return -1;
}

void veil_table_free(veil_table *t)
{
	if (!t)
		return;
	for (size_t c = 0; t->cols && c < t->ncols; c++) {
		free(t->cols[c].name);
		free(t->cols[c].valid);
		free(t->cols[c].vals);
		free(t->cols[c].dict);
		free(t->cols[c].slots);
	}
	/* The arena holds every text value (names, e-mails): wiped, since in
	 * the worker this is plaintext of a dataset. */
	while (t->arena) {
		block *b = t->arena->next;
		veil_wipe(t->arena->data, t->arena->used);
		free(t->arena);
		t->arena = b;
	}
	free(t->cols);
	free(t->scratch);
	free(t);
}
