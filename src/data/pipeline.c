/*
 * Feature pipelines (docs/formats/pipeline.md): the strict YAML reader,
 * the accessors, and veil_pipeline_check, which follows a table's columns
 * through the steps without touching data.
 *
 * The reader pulls libyaml events one at a time through the strict
 * document reader every veil format shares (veil/yaml_read.h), as the
 * schema reader does (src/data/schema.c): only the shapes the format
 * defines are accepted, every count is bounded, and every refusal names
 * the line and column of the event that broke a rule. A step is a mapping
 * with one key, the step's name, whose value is the mapping of its options;
 * each option is checked against the step's own list, so an option of
 * another step is refused rather than ignored.
 *
 * Rules that need the input's columns (a column that exists at that step,
 * a type the step takes) are veil_pipeline_check's; it keeps a "shape" of
 * the columns (name and type) and changes it as each step would.
 */
#include "data_int.h"
#include "pipeline_int.h"
#include "veil/yaml_read.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

const char *const pl_kind_names[PL_KIND_COUNT] = {[PL_DROP] = "drop",
                                                  [PL_PSEUDONYMISE] = "pseudonymise",
                                                  [PL_IMPUTE] = "impute",
                                                  [PL_GENERALISE] = "generalise",
                                                  [PL_CLIP] = "clip",
                                                  [PL_LOG] = "log",
                                                  [PL_STANDARDIZE] = "standardize",
                                                  [PL_MINMAX] = "minmax",
                                                  [PL_BUCKETIZE] = "bucketize",
                                                  [PL_ONE_HOT] = "one_hot",
                                                  [PL_HASH_BUCKETS] = "hash_buckets",
                                                  [PL_K_ANONYMITY] = "k_anonymity"};
const char *const pl_impute_names[PL_IMPUTE_COUNT] = {"mean", "median", "mode", "constant"};
const char *const pl_gen_names[PL_GEN_COUNT] = {"band", "prefix", "month", "year"};

veil_status pl_fail_at(veil_err *err, const pl_pos *at, veil_status code, const char *fmt, ...)
{
	char msg[VEIL_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof msg, fmt, ap); /* a long message is cut, never overrun */
	va_end(ap);
	if (!at || !at->line)
		return PL_ERR(err, code, "%s", msg);
	return PL_ERR(err, code, "line %u, column %u: %s", at->line, at->column, msg);
}

bool pl_learns(const pl_step *s)
{
	switch (s->kind) {
	case PL_PSEUDONYMISE:
	case PL_STANDARDIZE:
	case PL_MINMAX:
	case PL_ONE_HOT:
		return true;
	case PL_IMPUTE:
		return s->strategy != PL_CONSTANT;
	case PL_BUCKETIZE:
		return s->nedges == 0; /* given edges are not learned */
	case PL_DROP:
	case PL_GENERALISE:
	case PL_CLIP:
	case PL_LOG:
	case PL_HASH_BUCKETS:
	case PL_K_ANONYMITY:
	case PL_KIND_COUNT:
		break;
	}
	return false;
}

bool pl_direct_identifier(veil_pii p)
{
	switch (p) {
	case VEIL_PII_EMAIL:
	case VEIL_PII_PHONE:
	case VEIL_PII_SSN:
	case VEIL_PII_PAYMENT_CARD:
	case VEIL_PII_IBAN:
	case VEIL_PII_PERSON_NAME:
	case VEIL_PII_DATE_OF_BIRTH:
		return true;
	case VEIL_PII_NONE:
	case VEIL_PII_IP:
	case VEIL_PII_POSTAL_CODE:
		break;
	}
	return false;
}

static void strs_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void pl_fit_free(pl_fit *f)
{
	strs_free(f->values, f->nvalues);
	free(f->a);
	free(f->b);
	for (size_t i = 0; f->edges && i < f->nlists; i++)
		free(f->edges[i]);
	free(f->edges);
	free(f->nedges);
	for (size_t i = 0; f->cats && i < f->nlists; i++)
		strs_free(f->cats[i], f->ncats[i]);
	free(f->cats);
	free(f->ncats);
	memset(f, 0, sizeof *f);
}

static void step_free(pl_step *s)
{
	pl_fit_free(&s->fit);
	strs_free(s->cols, s->ncols);
	free(s->col_at);
	free(s->value);
	free(s->min_text);
	free(s->max_text);
	free(s->edges);
}

void veil_pipeline_free(veil_pipeline *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		step_free(&p->steps[i]);
	free(p->steps);
	free(p->label);
	free(p);
}

bool veil_pipeline_is_fitted(const veil_pipeline *p)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (pl_learns(&p->steps[i]) && !p->steps[i].fit.have)
			return false;
	return p != NULL;
}

bool veil_pipeline_needs_key(const veil_pipeline *p)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (p->steps[i].kind == PL_PSEUDONYMISE)
			return true;
	return false;
}

const char *veil_pipeline_label(const veil_pipeline *p)
{
	return p ? p->label : NULL;
}

/* ---- sorting (shared with the transforms) ---- */

static void merge(size_t *idx, size_t *tmp, size_t n, int (*cmp)(const void *, size_t, size_t),
                  const void *ctx)
{
	if (n < 2)
		return;
	size_t h = n / 2;
	merge(idx, tmp, h, cmp, ctx);
	merge(idx + h, tmp, n - h, cmp, ctx);
	if (cmp(ctx, idx[h - 1], idx[h]) <= 0)
		return; /* already in order: sorted input costs n comparisons */
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		tmp[k++] = cmp(ctx, idx[j], idx[i]) < 0 ? idx[j++] : idx[i++];
	while (i < h)
		tmp[k++] = idx[i++];
	memcpy(idx, tmp, k * sizeof *idx); /* the rest of the right half is in place */
}

bool pl_sort(size_t *idx, size_t n, int (*cmp)(const void *ctx, size_t a, size_t b), const void *ctx)
{
	if (n < 2)
		return true;
	size_t *tmp = malloc(n * sizeof *tmp);
	if (!tmp)
		return false;
	merge(idx, tmp, n, cmp, ctx);
	free(tmp);
	return true;
}

/* ---- reading ---- */

typedef veil_yread reader;

static pl_pos here(const reader *r)
{
	return (pl_pos){(unsigned)r->ev.start_mark.line + 1, (unsigned)r->ev.start_mark.column + 1};
}

/* A refusal at the current event. */
static veil_status bad(reader *r, veil_status code, const char *fmt, ...) VEIL_PRINTF(3, 4);
static veil_status bad(reader *r, veil_status code, const char *fmt, ...)
{
	char msg[VEIL_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	pl_pos at = here(r);
	return pl_fail(r->err, &at, code, "%s", msg);
}

static veil_status nomem(reader *r)
{
	return PL_ERR(r->err, VEIL_E_NOMEM, "out of memory reading a pipeline");
}

static bool plain(const reader *r)
{
	return r->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* A scalar of at most max bytes, copied. */
static veil_status read_text(reader *r, const char *what, size_t max, char **out)
{
	veil_status st = veil_yread_want(r, YAML_SCALAR_EVENT, what, "a single value");
	if (st)
		return st;
	if (r->ev.data.scalar.length > max)
		return bad(r, VEIL_E_LIMIT, "%s is longer than %zu bytes", what, max);
	if (!(*out = strdup(veil_yread_scalar(r))))
		return nomem(r);
	return VEIL_OK;
}

/* A plain whole number in [min, max]. */
static veil_status read_uint(reader *r, const char *what, uint64_t min, uint64_t max, uint64_t *out)
{
	veil_status st = veil_yread_want(r, YAML_SCALAR_EVENT, what, "a whole number");
	if (st)
		return st;
	const char *s = veil_yread_scalar(r);
	size_t n = strlen(s);
	int64_t v = 0;
	if (!plain(r) || n == 0 || strspn(s, "0123456789") != n || (n > 1 && s[0] == '0') ||
	    !data_conv_int(s, n, &v) || v < 0 || (uint64_t)v < min || (uint64_t)v > max)
		return bad(r, VEIL_E_INVALID, "%s must be a whole number from %llu to %llu", what,
		           (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)v;
	return VEIL_OK;
}

/* A plain finite number (the CSV reader's spelling of a double). */
static bool scalar_number(const reader *r, double *out)
{
	const char *s = veil_yread_scalar(r);
	return plain(r) && data_conv_double(s, strlen(s), out) && isfinite(*out);
}

static veil_status read_number(reader *r, const char *what, double *out)
{
	veil_status st = veil_yread_want(r, YAML_SCALAR_EVENT, what, "a number");
	if (st)
		return st;
	if (!scalar_number(r, out))
		return bad(r, VEIL_E_INVALID, "%s must be a finite number such as 40 or 2.5, not quoted",
		           what);
	return VEIL_OK;
}

/* A list of numbers, strictly increasing (edges), 1..max of them. */
static veil_status read_edges(reader *r, const char *what, size_t max, double **out, size_t *n)
{
	veil_status st = veil_yread_want(r, YAML_SEQUENCE_START_EVENT, what, "a list of numbers");
	if (st)
		return st;
	pl_pos start = here(r);
	size_t cap = 0;
	for (;;) {
		bool end;
		if ((st = veil_yread_item(r, what, YAML_SCALAR_EVENT, "a number", &end)))
			return st;
		if (end)
			break;
		if (*n >= max)
			return bad(r, VEIL_E_LIMIT, "%s lists more than %zu numbers", what, max);
		double v = 0;
		if (!scalar_number(r, &v))
			return bad(r, VEIL_E_INVALID, "each entry of %s must be a finite number, not quoted",
			           what);
		if (*n && !(v > (*out)[*n - 1]))
			return bad(r, VEIL_E_INVALID, "%s must be strictly increasing", what);
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			double *g = realloc(*out, cap * sizeof *g);
			if (!g)
				return nomem(r);
			*out = g;
		}
		(*out)[(*n)++] = v == 0 ? 0.0 : v; /* -0 is the edge 0 */
	}
	if (!*n)
		return pl_fail(r->err, &start, VEIL_E_INVALID, "%s lists no number", what);
	return VEIL_OK;
}

static int name_cmp(const void *ctx, size_t a, size_t b)
{
	char *const *v = ctx;
	return strcmp(v[a], v[b]);
}

/* The index of a name that appears twice in v[0..n), or n. */
static veil_status find_twice(char *const *v, size_t n, size_t *dup)
{
	*dup = n;
	size_t *idx = malloc((n ? n : 1) * sizeof *idx);
	if (!idx)
		return VEIL_E_NOMEM;
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	if (!pl_sort(idx, n, name_cmp, v)) {
		free(idx);
		return VEIL_E_NOMEM;
	}
	for (size_t i = 1; i < n; i++)
		if (strcmp(v[idx[i - 1]], v[idx[i]]) == 0) {
			size_t later = idx[i] > idx[i - 1] ? idx[i] : idx[i - 1];
			if (later < *dup)
				*dup = later;
		}
	free(idx);
	return VEIL_OK;
}

/* A list of column names: 1..VEIL_PIPELINE_COLUMNS_MAX, none twice. */
static veil_status read_names(reader *r, const char *what, pl_step *s)
{
	veil_status st = veil_yread_want(r, YAML_SEQUENCE_START_EVENT, what, "a list of column names");
	if (st)
		return st;
	pl_pos start = here(r);
	size_t cap = 0;
	for (;;) {
		bool end;
		if ((st = veil_yread_item(r, what, YAML_SCALAR_EVENT, "a column name", &end)))
			return st;
		if (end)
			break;
		if (s->ncols >= VEIL_PIPELINE_COLUMNS_MAX)
			return bad(r, VEIL_E_LIMIT, "%s lists more than %d columns", what,
			           VEIL_PIPELINE_COLUMNS_MAX);
		if (r->ev.data.scalar.length == 0)
			return bad(r, VEIL_E_INVALID, "a column name in %s is empty", what);
		if (r->ev.data.scalar.length > VEIL_PIPELINE_NAME_MAX)
			return bad(r, VEIL_E_LIMIT, "a column name in %s is longer than %d bytes", what,
			           VEIL_PIPELINE_NAME_MAX);
		if (s->ncols == cap) {
			cap = cap ? 2 * cap : 8;
			char **c = realloc(s->cols, cap * sizeof *c);
			if (c)
				s->cols = c;
			pl_pos *p = c ? realloc(s->col_at, cap * sizeof *p) : NULL;
			if (p)
				s->col_at = p;
			if (!c || !p)
				return nomem(r);
		}
		s->col_at[s->ncols] = here(r);
		if (!(s->cols[s->ncols] = strdup(veil_yread_scalar(r))))
			return nomem(r);
		s->ncols++;
	}
	if (!s->ncols)
		return pl_fail(r->err, &start, VEIL_E_INVALID, "%s lists no column", what);
	size_t dup = 0;
	if (find_twice(s->cols, s->ncols, &dup))
		return nomem(r);
	if (dup < s->ncols)
		return pl_fail(r->err, &s->col_at[dup], VEIL_E_INVALID,
		               "column '%.64s' is named twice in this step", s->cols[dup]);
	return VEIL_OK;
}

enum {
	O_COLUMNS,
	O_COLUMN,
	O_QI,
	O_STRATEGY,
	O_VALUE,
	O_TO,
	O_WIDTH,
	O_LENGTH,
	O_MIN,
	O_MAX,
	O_BINS,
	O_EDGES,
	O_MAX_CATEGORIES,
	O_BUCKETS,
	O_K,
	O_SUPPRESS,
	O_FITTED,
	O_COUNT
};
static const char *const opt_names[O_COUNT] = {"columns",
                                               "column",
                                               "quasi_identifiers",
                                               "strategy",
                                               "value",
                                               "to",
                                               "width",
                                               "length",
                                               "min",
                                               "max",
                                               "bins",
                                               "edges",
                                               "max_categories",
                                               "buckets",
                                               "k",
                                               "suppress",
                                               "fitted"};

#define B(o) (1u << (o))
/* The options each step takes. */
static const unsigned step_opts[PL_KIND_COUNT] = {
        [PL_DROP] = B(O_COLUMNS),
        [PL_PSEUDONYMISE] = B(O_COLUMNS) | B(O_FITTED),
        [PL_IMPUTE] = B(O_COLUMNS) | B(O_STRATEGY) | B(O_VALUE) | B(O_FITTED),
        [PL_GENERALISE] = B(O_COLUMN) | B(O_TO) | B(O_WIDTH) | B(O_LENGTH),
        [PL_CLIP] = B(O_COLUMNS) | B(O_MIN) | B(O_MAX),
        [PL_LOG] = B(O_COLUMNS),
        [PL_STANDARDIZE] = B(O_COLUMNS) | B(O_FITTED),
        [PL_MINMAX] = B(O_COLUMNS) | B(O_FITTED),
        [PL_BUCKETIZE] = B(O_COLUMNS) | B(O_BINS) | B(O_EDGES) | B(O_FITTED),
        [PL_ONE_HOT] = B(O_COLUMNS) | B(O_MAX_CATEGORIES) | B(O_FITTED),
        [PL_HASH_BUCKETS] = B(O_COLUMNS) | B(O_BUCKETS),
        [PL_K_ANONYMITY] = B(O_QI) | B(O_K) | B(O_SUPPRESS),
};

#define ONEHOT_DEFAULT 16

/* "columns, strategy, value, fitted": the options of a step, for messages. */
static void opts_list(pl_kind k, char *out, size_t outsz)
{
	size_t used = 0;
	out[0] = '\0';
	for (int o = 0; o < O_COUNT; o++)
		if (step_opts[k] & B(o)) {
			int w = snprintf(out + used, outsz - used, "%s%s", used ? ", " : "", opt_names[o]);
			if (w < 0 || (size_t)w >= outsz - used)
				return;
			used += (size_t)w;
		}
}

/* What reading one step gathers besides the step itself. */
typedef struct step_marks {
	pl_pos opt[O_COUNT];
	bool seen[O_COUNT];
	pl_pos fitted_key[4]; /* where each key of `fitted` was */
	size_t fitted_len[4]; /* the length of each list in `fitted` */
	bool fitted_seen[4];
} step_marks;

/* A list of text values (impute's fitted values; a vocabulary). */
static veil_status read_values(reader *r, const char *what, size_t max, bool lists, char ***out, size_t *n)
{
	veil_status st = veil_yread_want(r, YAML_SEQUENCE_START_EVENT, what, "a list");
	if (st)
		return st;
	size_t cap = 0;
	for (;;) {
		bool end;
		if ((st = veil_yread_item(r, what, YAML_SCALAR_EVENT, "a single value", &end)))
			return st;
		if (end)
			return VEIL_OK;
		if (*n >= max)
			return bad(r, VEIL_E_LIMIT, "%s lists more than %zu values", what, max);
		if (r->ev.data.scalar.length > VEIL_PIPELINE_VALUE_MAX)
			return bad(r, VEIL_E_LIMIT, "a value in %s is longer than %d bytes", what,
			           VEIL_PIPELINE_VALUE_MAX);
		if (lists) { /* a vocabulary: distinct, and not the catch-all's name */
			const char *v = veil_yread_scalar(r);
			if (strcmp(v, "other") == 0)
				return bad(r, VEIL_E_INVALID,
				           "'other' is the catch-all column of one_hot, not a category");
			for (size_t i = 0; i < *n; i++)
				if (strcmp((*out)[i], v) == 0)
					return bad(r, VEIL_E_INVALID, "a category is listed twice in %s",
					           what);
		}
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			char **g = realloc(*out, cap * sizeof *g);
			if (!g)
				return nomem(r);
			*out = g;
		}
		if (!((*out)[*n] = strdup(veil_yread_scalar(r))))
			return nomem(r);
		(*n)++;
	}
}

/* A list of numbers, one per column (mean, std, min, max). */
static veil_status read_numbers(reader *r, const char *what, double **out, size_t *n)
{
	veil_status st = veil_yread_want(r, YAML_SEQUENCE_START_EVENT, what, "a list of numbers");
	if (st)
		return st;
	size_t cap = 0;
	for (;;) {
		bool end;
		if ((st = veil_yread_item(r, what, YAML_SCALAR_EVENT, "a number", &end)))
			return st;
		if (end)
			return VEIL_OK;
		if (*n >= VEIL_PIPELINE_COLUMNS_MAX)
			return bad(r, VEIL_E_LIMIT, "%s lists more than %d numbers", what,
			           VEIL_PIPELINE_COLUMNS_MAX);
		double v = 0;
		if (!scalar_number(r, &v))
			return bad(r, VEIL_E_INVALID, "each entry of %s must be a finite number, not quoted",
			           what);
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			double *g = realloc(*out, cap * sizeof *g);
			if (!g)
				return nomem(r);
			*out = g;
		}
		(*out)[(*n)++] = v;
	}
}

/* A list of lists, one per column: bucket edges (numbers) or vocabularies (text). */
static veil_status read_nested(reader *r, const char *what, bool text, pl_fit *f, size_t *n)
{
	veil_status st = veil_yread_want(r, YAML_SEQUENCE_START_EVENT, what, "a list of lists");
	if (st)
		return st;
	size_t cap = 0;
	for (;;) {
		if ((st = veil_yread_next(r)))
			return st;
		if (r->ev.type == YAML_SEQUENCE_END_EVENT)
			return VEIL_OK;
		if (*n >= VEIL_PIPELINE_COLUMNS_MAX)
			return bad(r, VEIL_E_LIMIT, "%s lists more than %d lists", what,
			           VEIL_PIPELINE_COLUMNS_MAX);
		if (r->ev.type != YAML_SEQUENCE_START_EVENT)
			return bad(r, VEIL_E_INVALID, "each entry of %s must be a list, not %s", what,
			           veil_yread_event_what(r->ev.type));
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			bool ok = true;
			if (text) {
				char ***c = realloc(f->cats, cap * sizeof *c);
				ok = c != NULL;
				if (c)
					f->cats = c;
			} else {
				double **e = realloc(f->edges, cap * sizeof *e);
				ok = e != NULL;
				if (e)
					f->edges = e;
			}
			size_t *m = ok ? realloc(text ? f->ncats : f->nedges, cap * sizeof *m) : NULL;
			if (m)
				*(text ? &f->ncats : &f->nedges) = m;
			if (!m)
				return nomem(r);
		}
		/* Enter the inner list: the readers below want its start event, so
		 * handle its entries here. */
		size_t k = (*n)++;
		if (text) {
			f->cats[k] = NULL;
			f->ncats[k] = 0;
		} else {
			f->edges[k] = NULL;
			f->nedges[k] = 0;
		}
		size_t icap = 0;
		for (;;) {
			if ((st = veil_yread_next(r)))
				return st;
			if (r->ev.type == YAML_SEQUENCE_END_EVENT)
				break;
			if (r->ev.type != YAML_SCALAR_EVENT)
				return bad(r, VEIL_E_INVALID,
				           "each entry of a list in %s must be a single value, not %s", what,
				           veil_yread_event_what(r->ev.type));
			size_t *cnt = text ? &f->ncats[k] : &f->nedges[k];
			size_t max = text ? VEIL_PIPELINE_ONEHOT_MAX : VEIL_PIPELINE_BINS_MAX - 1;
			if (*cnt >= max)
				return bad(r, VEIL_E_LIMIT, "a list in %s holds more than %zu entries", what,
				           max);
			if (*cnt == icap) {
				icap = icap ? 2 * icap : 8;
				void *g = text ? (void *)realloc(f->cats[k], icap * sizeof(char *))
				               : (void *)realloc(f->edges[k], icap * sizeof(double));
				if (!g)
					return nomem(r);
				if (text)
					f->cats[k] = g;
				else
					f->edges[k] = g;
			}
			if (text) {
				const char *v = veil_yread_scalar(r);
				if (r->ev.data.scalar.length > VEIL_PIPELINE_VALUE_MAX)
					return bad(r, VEIL_E_LIMIT, "a category is longer than %d bytes",
					           VEIL_PIPELINE_VALUE_MAX);
				if (strcmp(v, "other") == 0)
					return bad(
					        r, VEIL_E_INVALID,
					        "'other' is the catch-all column of one_hot, not a category");
				for (size_t i = 0; i < *cnt; i++)
					if (strcmp(f->cats[k][i], v) == 0)
						return bad(r, VEIL_E_INVALID, "a category is listed twice");
				if (!(f->cats[k][*cnt] = strdup(v)))
					return nomem(r);
			} else {
				double v = 0;
				if (!scalar_number(r, &v))
					return bad(r, VEIL_E_INVALID,
					           "a bucket edge must be a finite number, not quoted");
				if (*cnt && !(v > f->edges[k][*cnt - 1]))
					return bad(r, VEIL_E_INVALID,
					           "bucket edges must be strictly increasing");
				f->edges[k][*cnt] = v == 0 ? 0.0 : v;
			}
			(*cnt)++;
		}
	}
}

/* The keys `fitted` takes, per step: up to two. */
static const char *const fitted_keys[PL_KIND_COUNT][2] = {
        [PL_PSEUDONYMISE] = {"key_check"}, [PL_IMPUTE] = {"values"},   [PL_STANDARDIZE] = {"mean", "std"},
        [PL_MINMAX] = {"min", "max"},      [PL_BUCKETIZE] = {"edges"}, [PL_ONE_HOT] = {"categories"},
};

static veil_status read_fitted(reader *r, pl_step *s, step_marks *m)
{
	veil_status st = veil_yread_want(r, YAML_MAPPING_START_EVENT, "fitted", "a mapping");
	if (st)
		return st;
	pl_fit *f = &s->fit;
	f->have = true;
	for (;;) {
		if ((st = veil_yread_next(r)))
			return st;
		if (r->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (r->ev.type != YAML_SCALAR_EVENT)
			return bad(r, VEIL_E_INVALID, "a key of fitted must be a name, not %s",
			           veil_yread_event_what(r->ev.type));
		const char *key = veil_yread_scalar(r);
		int k = 0;
		while (k < 2 && !(fitted_keys[s->kind][k] && strcmp(key, fitted_keys[s->kind][k]) == 0))
			k++;
		if (k == 2)
			return bad(r, VEIL_E_INVALID,
			           "unknown key '%.40s' in the fitted parameters of %s (known: %s%s%s)", key,
			           pl_kind_names[s->kind], fitted_keys[s->kind][0],
			           fitted_keys[s->kind][1] ? ", " : "",
			           fitted_keys[s->kind][1] ? fitted_keys[s->kind][1] : "");
		if (m->fitted_seen[k])
			return bad(r, VEIL_E_INVALID, "key '%s' appears twice in fitted",
			           fitted_keys[s->kind][k]);
		m->fitted_seen[k] = true;
		m->fitted_key[k] = here(r);
		size_t *len = &m->fitted_len[k];
		switch (s->kind) {
		case PL_PSEUDONYMISE: {
			char hex[2 * PL_KEY_CHECK_LEN + 1];
			if ((st = veil_yread_want(r, YAML_SCALAR_EVENT, "key_check", "hex digits")))
				return st;
			const char *v = veil_yread_scalar(r);
			veil_err ignored = {0};
			size_t n = strlen(v);
			if (n != 2 * PL_KEY_CHECK_LEN || strspn(v, "0123456789abcdef") != n)
				return bad(r, VEIL_E_INVALID, "key_check must be %d lowercase hex digits",
				           2 * PL_KEY_CHECK_LEN);
			memcpy(hex, v, n + 1);
			if (veil_hex_decode(hex, f->key_check, PL_KEY_CHECK_LEN, &ignored))
				return bad(r, VEIL_E_INVALID, "key_check must be %d lowercase hex digits",
				           2 * PL_KEY_CHECK_LEN);
			*len = 1;
			break;
		}
		case PL_IMPUTE:
			st = read_values(r, "values", VEIL_PIPELINE_COLUMNS_MAX, false, &f->values,
			                 &f->nvalues);
			*len = f->nvalues;
			if (st)
				return st;
			break;
		case PL_STANDARDIZE:
		case PL_MINMAX:
			if ((st = read_numbers(r, fitted_keys[s->kind][k], k ? &f->b : &f->a, len)))
				return st;
			break;
		case PL_BUCKETIZE:
		case PL_ONE_HOT:
			st = read_nested(r, s->kind == PL_ONE_HOT ? "categories" : "edges",
			                 s->kind == PL_ONE_HOT, f, &f->nlists);
			*len = f->nlists;
			if (st)
				return st;
			break;
		case PL_DROP:
		case PL_GENERALISE:
		case PL_CLIP:
		case PL_LOG:
		case PL_HASH_BUCKETS:
		case PL_K_ANONYMITY:
		case PL_KIND_COUNT:
			return bad(r, VEIL_E_INTERNAL, "no fitted parameters for this step");
		}
	}
	return VEIL_OK;
}

/* The value of option `key` as one of names[0..n): its index, or "unknown
 * <kind> 'x' (known: <known>)". */
static veil_status read_choice(reader *r, const char *key, const char *kind, const char *const *names, int n,
                               const char *known, int *out)
{
	veil_status st = veil_yread_want(r, YAML_SCALAR_EVENT, key, "a name");
	if (st)
		return st;
	const char *v = veil_yread_scalar(r);
	for (int i = 0; i < n; i++)
		if (strcmp(v, names[i]) == 0) {
			*out = i;
			return VEIL_OK;
		}
	return bad(r, VEIL_E_INVALID, "unknown %s '%.40s' (known: %s)", kind, v, known);
}

static veil_status read_option(reader *r, pl_step *s, int o, step_marks *m)
{
	veil_status st;
	uint64_t u = 0;
	int choice = 0;
	switch (o) {
	case O_COLUMNS:
	case O_QI:
		return read_names(r, opt_names[o], s);
	case O_COLUMN:
		if ((st = veil_yread_want(r, YAML_SCALAR_EVENT, "column", "a column name")))
			return st;
		if (r->ev.data.scalar.length == 0)
			return bad(r, VEIL_E_INVALID, "the column name is empty");
		if (r->ev.data.scalar.length > VEIL_PIPELINE_NAME_MAX)
			return bad(r, VEIL_E_LIMIT, "the column name is longer than %d bytes",
			           VEIL_PIPELINE_NAME_MAX);
		s->cols = calloc(1, sizeof *s->cols);
		s->col_at = calloc(1, sizeof *s->col_at);
		if (!s->cols || !s->col_at || !(s->cols[0] = strdup(veil_yread_scalar(r))))
			return nomem(r);
		s->col_at[0] = here(r);
		s->ncols = 1;
		return VEIL_OK;
	case O_STRATEGY:
		if ((st = read_choice(r, "strategy", "strategy", pl_impute_names, PL_IMPUTE_COUNT,
		                      "mean, median, mode, constant", &choice)))
			return st;
		s->strategy = (pl_impute)choice;
		return VEIL_OK;
	case O_VALUE:
		return read_text(r, "value", VEIL_PIPELINE_VALUE_MAX, &s->value);
	case O_TO:
		if ((st = read_choice(r, "to", "generalisation", pl_gen_names, PL_GEN_COUNT,
		                      "band, prefix, month, year", &choice)))
			return st;
		s->to = (pl_gen)choice;
		return VEIL_OK;
	case O_WIDTH:
		if ((st = read_uint(r, "width", 1, VEIL_PIPELINE_WIDTH_MAX, &u)))
			return st;
		s->width = (int64_t)u;
		return VEIL_OK;
	case O_LENGTH:
		if ((st = read_uint(r, "length", 1, VEIL_PIPELINE_VALUE_MAX, &u)))
			return st;
		s->length = (unsigned)u;
		return VEIL_OK;
	case O_MIN:
	case O_MAX:
		if ((st = read_number(r, opt_names[o], o == O_MIN ? &s->min : &s->max)))
			return st;
		*(o == O_MIN ? &s->has_min : &s->has_max) = true;
		return VEIL_OK;
	case O_BINS:
		if ((st = read_uint(r, "bins", 2, VEIL_PIPELINE_BINS_MAX, &u)))
			return st;
		s->bins = (unsigned)u;
		return VEIL_OK;
	case O_EDGES:
		return read_edges(r, "edges", VEIL_PIPELINE_BINS_MAX - 1, &s->edges, &s->nedges);
	case O_MAX_CATEGORIES:
		if ((st = read_uint(r, "max_categories", 1, VEIL_PIPELINE_ONEHOT_MAX, &u)))
			return st;
		s->max_categories = (unsigned)u;
		return VEIL_OK;
	case O_BUCKETS:
		if ((st = read_uint(r, "buckets", 1, VEIL_PIPELINE_BUCKETS_MAX, &u)))
			return st;
		s->buckets = u;
		return VEIL_OK;
	case O_K:
		if ((st = read_uint(r, "k", 2, VEIL_PIPELINE_K_MAX, &u)))
			return st;
		s->k = u;
		return VEIL_OK;
	case O_SUPPRESS:
		return veil_yread_bool(r, "suppress", &s->suppress);
	case O_FITTED:
		return read_fitted(r, s, m);
	default:
		return bad(r, VEIL_E_INTERNAL, "no reader for option %d", o);
	}
}

/* The rules between a step's options, once all are read. */
static veil_status step_rules(reader *r, pl_step *s, const step_marks *m, const pl_pos *at)
{
	const char *kind = pl_kind_names[s->kind];
	int need = s->kind == PL_GENERALISE ? O_COLUMN : s->kind == PL_K_ANONYMITY ? O_QI : O_COLUMNS;
	static const struct {
		pl_kind kind;
		int opt;
	} required[] = {{PL_IMPUTE, O_STRATEGY},
	                {PL_GENERALISE, O_TO},
	                {PL_HASH_BUCKETS, O_BUCKETS},
	                {PL_K_ANONYMITY, O_K}};
	if (!m->seen[need])
		return pl_fail(r->err, at, VEIL_E_INVALID, "%s has no '%s' option, which is required", kind,
		               opt_names[need]);
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		if (required[i].kind == s->kind && !m->seen[required[i].opt])
			return pl_fail(r->err, at, VEIL_E_INVALID, "%s has no '%s' option, which is required",
			               kind, opt_names[required[i].opt]);
	switch (s->kind) {
	case PL_IMPUTE:
		if (s->strategy == PL_CONSTANT && !s->value)
			return pl_fail(r->err, at, VEIL_E_INVALID,
			               "impute with strategy constant needs a 'value'");
		if (s->strategy != PL_CONSTANT && s->value)
			return pl_fail(r->err, &m->opt[O_VALUE], VEIL_E_INVALID,
			               "value applies only to strategy constant, not %s",
			               pl_impute_names[s->strategy]);
		if (s->strategy == PL_CONSTANT && m->seen[O_FITTED])
			return pl_fail(r->err, &m->opt[O_FITTED], VEIL_E_INVALID,
			               "impute with strategy constant learns nothing: no fitted parameters");
		break;
	case PL_GENERALISE:
		if (s->to == PL_BAND && !m->seen[O_WIDTH])
			return pl_fail(r->err, at, VEIL_E_INVALID, "generalise to band needs a 'width'");
		if (s->to == PL_PREFIX && !m->seen[O_LENGTH])
			return pl_fail(r->err, at, VEIL_E_INVALID, "generalise to prefix needs a 'length'");
		if (s->to != PL_BAND && m->seen[O_WIDTH])
			return pl_fail(r->err, &m->opt[O_WIDTH], VEIL_E_INVALID,
			               "width applies only to band, not %s", pl_gen_names[s->to]);
		if (s->to != PL_PREFIX && m->seen[O_LENGTH])
			return pl_fail(r->err, &m->opt[O_LENGTH], VEIL_E_INVALID,
			               "length applies only to prefix, not %s", pl_gen_names[s->to]);
		break;
	case PL_CLIP:
		if (!s->has_min && !s->has_max)
			return pl_fail(r->err, at, VEIL_E_INVALID, "clip needs 'min', 'max' or both");
		if (s->has_min && s->has_max && s->min > s->max)
			return pl_fail(r->err, &m->opt[O_MAX], VEIL_E_INVALID, "clip: max is below min");
		break;
	case PL_BUCKETIZE:
		if (m->seen[O_BINS] == m->seen[O_EDGES])
			return pl_fail(
			        r->err, m->seen[O_BINS] ? &m->opt[O_EDGES] : at, VEIL_E_INVALID,
			        "bucketize needs exactly one of 'bins' (edges learned from the data) and "
			        "'edges' (edges given)");
		if (s->nedges && m->seen[O_FITTED])
			return pl_fail(r->err, &m->opt[O_FITTED], VEIL_E_INVALID,
			               "bucketize with given edges learns nothing: no fitted parameters");
		break;
	case PL_ONE_HOT:
		if (!m->seen[O_MAX_CATEGORIES])
			s->max_categories = ONEHOT_DEFAULT;
		if ((size_t)s->max_categories * s->ncols > VEIL_PIPELINE_ONEHOT_MAX)
			return pl_fail(r->err, at, VEIL_E_LIMIT,
			               "one_hot could make %zu categories; one step makes at most %d",
			               (size_t)s->max_categories * s->ncols, VEIL_PIPELINE_ONEHOT_MAX);
		break;
	case PL_DROP:
	case PL_K_ANONYMITY:
	case PL_PSEUDONYMISE:
	case PL_LOG:
	case PL_STANDARDIZE:
	case PL_MINMAX:
	case PL_HASH_BUCKETS:
	case PL_KIND_COUNT:
		break;
	}
	if (!m->seen[O_FITTED])
		return VEIL_OK;
	/* The fitted parameters: every key there, one entry per column. */
	const pl_pos *fat = &m->opt[O_FITTED];
	for (int k = 0; k < 2 && fitted_keys[s->kind][k]; k++) {
		const char *key = fitted_keys[s->kind][k];
		if (!m->fitted_seen[k])
			return pl_fail(r->err, fat, VEIL_E_INVALID,
			               "the fitted parameters of %s have no '%s'", kind, key);
		if (s->kind != PL_PSEUDONYMISE && m->fitted_len[k] != s->ncols)
			return pl_fail(r->err, &m->fitted_key[k], VEIL_E_INVALID,
			               "fitted %s lists %zu entries for %zu columns", key, m->fitted_len[k],
			               s->ncols);
	}
	const pl_fit *f = &s->fit;
	size_t total = 0;
	for (size_t j = 0; j < s->ncols; j++) {
		if (s->kind == PL_STANDARDIZE && !(f->b[j] >= 0))
			return pl_fail(r->err, &m->fitted_key[1], VEIL_E_INVALID, "a fitted std is negative");
		if (s->kind == PL_MINMAX && f->a[j] > f->b[j])
			return pl_fail(r->err, &m->fitted_key[1], VEIL_E_INVALID,
			               "a fitted max is below its min");
		if (s->kind == PL_ONE_HOT) {
			if (f->ncats[j] > s->max_categories)
				return pl_fail(r->err, &m->fitted_key[0], VEIL_E_INVALID,
				               "fitted categories of column '%.64s' are more than "
				               "max_categories (%u)",
				               s->cols[j], s->max_categories);
			total += f->ncats[j];
		}
	}
	(void)total; /* bounded by max_categories * columns, checked above */
	return VEIL_OK;
}

/* One entry of steps: a mapping of one key, the step's name, to its options. */
static veil_status read_step(reader *r, veil_pipeline *p)
{
	pl_step *s = &p->steps[p->n];
	memset(s, 0, sizeof *s);
	p->n++; /* owned by p from here, so that an error frees what was read */
	veil_status st = veil_yread_next(r);
	if (st)
		return st;
	if (r->ev.type == YAML_MAPPING_END_EVENT)
		return bad(r, VEIL_E_INVALID, "a step is empty: it needs one key, the step's name");
	if (r->ev.type != YAML_SCALAR_EVENT)
		return bad(r, VEIL_E_INVALID, "a step's name must be a name, not %s",
		           veil_yread_event_what(r->ev.type));
	const char *name = veil_yread_scalar(r);
	int k = 0;
	while (k < PL_KIND_COUNT && strcmp(name, pl_kind_names[k]) != 0)
		k++;
	if (k == PL_KIND_COUNT)
		return bad(r, VEIL_E_INVALID,
		           "unknown step '%.40s' (known: drop, pseudonymise, impute, generalise, clip, log, "
		           "standardize, minmax, bucketize, one_hot, hash_buckets, k_anonymity)",
		           name);
	s->kind = (pl_kind)k;
	s->at = here(r);
	if ((st = veil_yread_want(r, YAML_MAPPING_START_EVENT, pl_kind_names[k], "a mapping of options")))
		return st;
	step_marks m = {0};
	for (;;) {
		if ((st = veil_yread_next(r)))
			return st;
		if (r->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (r->ev.type != YAML_SCALAR_EVENT)
			return bad(r, VEIL_E_INVALID, "an option's name must be a name, not %s",
			           veil_yread_event_what(r->ev.type));
		const char *opt = veil_yread_scalar(r);
		int o = 0;
		while (o < O_COUNT && !((step_opts[k] & B(o)) && strcmp(opt, opt_names[o]) == 0))
			o++;
		if (o == O_COUNT) {
			char known[256];
			opts_list(s->kind, known, sizeof known);
			return bad(r, VEIL_E_INVALID, "unknown option '%.40s' for %s (known: %s)", opt,
			           pl_kind_names[k], known);
		}
		if (m.seen[o])
			return bad(r, VEIL_E_INVALID, "option '%s' appears twice", opt_names[o]);
		m.seen[o] = true;
		m.opt[o] = here(r);
		if ((st = read_option(r, s, o, &m)))
			return st;
	}
	if ((st = step_rules(r, s, &m, &s->at)))
		return st;
	/* The step's mapping of one key ends here. */
	if ((st = veil_yread_next(r)))
		return st;
	if (r->ev.type != YAML_MAPPING_END_EVENT)
		return bad(r, VEIL_E_INVALID, "a step has one key, its name; put its options inside it");
	return VEIL_OK;
}

static veil_status read_steps(reader *r, veil_pipeline *p)
{
	veil_status st = veil_yread_want(r, YAML_SEQUENCE_START_EVENT, "steps", "a list");
	if (st)
		return st;
	pl_pos start = here(r);
	for (;;) {
		bool end;
		if ((st = veil_yread_item(r, "steps", YAML_MAPPING_START_EVENT, "a mapping", &end)))
			return st;
		if (end)
			break;
		if (p->n >= VEIL_PIPELINE_STEPS_MAX)
			return bad(r, VEIL_E_LIMIT, "more than %d steps", VEIL_PIPELINE_STEPS_MAX);
		if ((st = read_step(r, p)))
			return st;
	}
	if (!p->n)
		return pl_fail(r->err, &start, VEIL_E_INVALID, "steps lists no step");
	return VEIL_OK;
}

enum { K_VERSION, K_FITTED, K_LABEL, K_STEPS, K_COUNT };
static const char *const keys[K_COUNT] = {"version", "fitted", "label", "steps"};

static veil_status read_keys(reader *r, veil_pipeline *p)
{
	pl_pos top = here(r);
	bool seen[K_COUNT] = {false};
	bool fitted = false;
	for (;;) {
		veil_status st = veil_yread_next(r);
		if (st)
			return st;
		if (r->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (r->ev.type != YAML_SCALAR_EVENT)
			return bad(r, VEIL_E_INVALID, "a key must be a name, not %s",
			           veil_yread_event_what(r->ev.type));
		int k = 0;
		while (k < K_COUNT && strcmp(veil_yread_scalar(r), keys[k]) != 0)
			k++;
		if (k == K_COUNT)
			return bad(r, VEIL_E_INVALID,
			           "unknown key '%.40s' (known: version, fitted, label, steps)",
			           veil_yread_scalar(r));
		if (seen[k])
			return bad(r, VEIL_E_INVALID, "key '%s' appears twice", keys[k]);
		seen[k] = true;
		switch (k) {
		case K_VERSION:
			if ((st = veil_yread_want(r, YAML_SCALAR_EVENT, "version", "a number")))
				return st;
			if (!plain(r) || strspn(veil_yread_scalar(r), "0123456789") == 0 ||
			    veil_yread_scalar(r)[strspn(veil_yread_scalar(r), "0123456789")] != '\0')
				return bad(r, VEIL_E_INVALID, "version must be a whole number");
			if (strcmp(veil_yread_scalar(r), "1") != 0)
				return bad(
				        r, VEIL_E_UNSUPPORTED,
				        "pipeline version %.20s is not supported (this veil reads version 1)",
				        veil_yread_scalar(r));
			break;
		case K_FITTED:
			if ((st = veil_yread_bool(r, "fitted", &fitted)))
				return st;
			break;
		case K_LABEL:
			if ((st = read_text(r, "label", VEIL_PIPELINE_NAME_MAX, &p->label)))
				return st;
			p->label_at = here(r);
			if (!p->label || !p->label[0])
				return bad(r, VEIL_E_INVALID, "the label's name is empty");
			break;
		case K_STEPS:
			if (!(p->steps = calloc(VEIL_PIPELINE_STEPS_MAX, sizeof *p->steps)))
				return nomem(r);
			if ((st = read_steps(r, p)))
				return st;
			break;
		default:
			return bad(r, VEIL_E_INTERNAL, "no reader for key %d", k);
		}
	}
	for (int k = 0; k < K_COUNT; k++)
		if ((k == K_VERSION || k == K_STEPS) && !seen[k])
			return pl_fail(r->err, &top, VEIL_E_INVALID,
			               "the pipeline has no '%s' key, which is required", keys[k]);
	/* A fitted file has every learning step's parameters; an unfitted one
	 * none. The label passes through untouched. */
	for (size_t i = 0; i < p->n; i++) {
		const pl_step *s = &p->steps[i];
		for (size_t j = 0; p->label && j < s->ncols; j++)
			if (strcmp(s->cols[j], p->label) == 0)
				return pl_fail(r->err, &s->col_at[j], VEIL_E_INVALID,
				               "'%.64s' is the label: it passes through every step "
				               "untouched, and no step "
				               "may name it",
				               p->label);
		if (fitted && pl_learns(s) && !s->fit.have)
			return pl_fail(
			        r->err, &s->at, VEIL_E_INVALID,
			        "the pipeline says fitted: true, but this %s step has no fitted parameters",
			        pl_kind_names[s->kind]);
		if (!fitted && s->fit.have)
			return pl_fail(r->err, &s->at, VEIL_E_INVALID,
			               "this step has fitted parameters, but the pipeline does not say "
			               "fitted: true");
	}
	return VEIL_OK;
}

veil_status veil_pipeline_parse(const char *text, size_t len, veil_pipeline **out, veil_err *err)
{
	*out = NULL;
	if (!text && len)
		return PL_ERR(err, VEIL_E_INVALID, "no pipeline text");
	if (len > VEIL_PIPELINE_MAX_BYTES)
		return PL_ERR(err, VEIL_E_LIMIT, "the pipeline is larger than %u bytes",
		              VEIL_PIPELINE_MAX_BYTES);
	veil_pipeline *p = calloc(1, sizeof *p);
	if (!p)
		return PL_ERR(err, VEIL_E_NOMEM, "out of memory reading a pipeline");
	reader r;
	veil_status st = veil_yread_begin(&r, text ? text : "", len, "pipeline", err);
	if (!st)
		st = read_keys(&r, p);
	if (!st)
		st = veil_yread_end(&r);
	veil_yread_close(&r);
	if (st) {
		veil_pipeline_free(p);
		return st;
	}
	if (p->n > 0 && p->n < VEIL_PIPELINE_STEPS_MAX) { /* give back the room that was not needed */
		pl_step *s = realloc(p->steps, p->n * sizeof *s);
		if (s)
			p->steps = s;
	}
	*out = p;
	return VEIL_OK;
}

veil_status veil_pipeline_load(const char *path, veil_pipeline **out, veil_err *err)
{
	*out = NULL;
	veil_buf b = {0};
	veil_status st = veil_fs_read_file(path, VEIL_PIPELINE_MAX_BYTES, &b, err);
	if (!st)
		st = veil_pipeline_parse((const char *)b.data, b.len, out, err);
	veil_buf_free(&b);
	if (st)
		veil_err_wrap(err, "%s", path);
	return st;
}

/* ---- checking against a table's columns ---- */

typedef struct sh_col {
	char *name; /* owned */
	veil_col_type type;
	bool wild; /* the outputs of a one_hot not fitted yet: every name "<name>..." */
} sh_col;

typedef struct gone {
	const char *name; /* a step's column name */
	size_t step;      /* which step removed it (0-based) */
} gone;

typedef struct shape {
	sh_col *c;
	size_t n, cap;
	gone *g;
	size_t ng, gcap;
} shape;

static void shape_free(shape *sh)
{
	for (size_t i = 0; i < sh->n; i++)
		free(sh->c[i].name);
	free(sh->c);
	free(sh->g);
}

static veil_status shape_insert(shape *sh, size_t at, const char *name, size_t len, veil_col_type t,
                                bool wild, veil_err *err)
{
	if (sh->n >= VEIL_CSV_COLUMNS_MAX_LIMIT)
		return PL_ERR(err, VEIL_E_LIMIT, "the pipeline would make more than %u columns",
		              VEIL_CSV_COLUMNS_MAX_LIMIT);
	if (sh->n == sh->cap) {
		size_t cap = sh->cap ? 2 * sh->cap : 32;
		sh_col *c = realloc(sh->c, cap * sizeof *c);
		if (!c)
			return PL_ERR(err, VEIL_E_NOMEM, "out of memory checking a pipeline");
		sh->c = c;
		sh->cap = cap;
	}
	char *copy = malloc(len + 1);
	if (!copy)
		return PL_ERR(err, VEIL_E_NOMEM, "out of memory checking a pipeline");
	memcpy(copy, name, len);
	copy[len] = '\0';
	memmove(&sh->c[at + 1], &sh->c[at], (sh->n - at) * sizeof *sh->c);
	sh_col *slot = &sh->c[at];
	slot->name = copy; /* the shape owns it now: shape_free frees it */
	slot->type = t;
	slot->wild = wild;
	sh->n++;
	return VEIL_OK;
}

static veil_status shape_remove(shape *sh, size_t i, const char *name, size_t step, veil_err *err)
{
	if (sh->ng == sh->gcap) {
		size_t cap = sh->gcap ? 2 * sh->gcap : 32;
		gone *g = realloc(sh->g, cap * sizeof *g);
		if (!g)
			return PL_ERR(err, VEIL_E_NOMEM, "out of memory checking a pipeline");
		sh->g = g;
		sh->gcap = cap;
	}
	sh->g[sh->ng++] = (gone){name, step};
	free(sh->c[i].name);
	memmove(&sh->c[i], &sh->c[i + 1], (sh->n - i - 1) * sizeof *sh->c);
	sh->n--;
	return VEIL_OK;
}

static const char *type_word(veil_col_type t)
{
	return veil_schema_type_name(t);
}

/* Finds step s's column j in the shape; a name a wildcard covers becomes a
 * column of its own (an int 0/1, as one_hot makes). */
static veil_status shape_find(shape *sh, const veil_pipeline *p, const pl_step *s, size_t j, size_t *out,
                              veil_err *err)
{
	const char *name = s->cols[j];
	for (size_t i = 0; i < sh->n; i++)
		if (!sh->c[i].wild && strcmp(sh->c[i].name, name) == 0) {
			*out = i;
			return VEIL_OK;
		}
	for (size_t i = 0; i < sh->n; i++) {
		size_t pn = strlen(sh->c[i].name);
		if (sh->c[i].wild && strncmp(sh->c[i].name, name, pn) == 0 && name[pn]) {
			*out = i + 1;
			return shape_insert(sh, i + 1, name, strlen(name), VEIL_COL_INT64, false, err);
		}
	}
	for (size_t g = sh->ng; g-- > 0;)
		if (strcmp(sh->g[g].name, name) == 0) {
			const pl_step *by = &p->steps[sh->g[g].step];
			return pl_fail(
			        err, &s->col_at[j], VEIL_E_INVALID,
			        "%s: no column '%.64s' at this step (the %s step on line %u removed it)",
			        pl_kind_names[s->kind], name, pl_kind_names[by->kind], by->at.line);
		}
	return pl_fail(err, &s->col_at[j], VEIL_E_INVALID, "%s: the input has no column '%.64s'",
	               pl_kind_names[s->kind], name);
}

static bool numeric(veil_col_type t)
{
	return t == VEIL_COL_INT64 || t == VEIL_COL_DOUBLE;
}

static bool textual(veil_col_type t)
{
	return t == VEIL_COL_STRING || t == VEIL_COL_CATEGORY;
}

/* Whether step s takes a column of type t; *takes names what it takes. */
static bool accepts(const pl_step *s, veil_col_type t, const char **takes)
{
	*takes = "int or float columns";
	switch (s->kind) {
	case PL_DROP:
	case PL_PSEUDONYMISE:
	case PL_HASH_BUCKETS:
	case PL_K_ANONYMITY:
		return true;
	case PL_IMPUTE:
		if (s->strategy == PL_MEAN)
			return numeric(t);
		if (s->strategy == PL_MEDIAN) {
			*takes = "int, float, date or timestamp columns";
			return numeric(t) || t == VEIL_COL_DATE || t == VEIL_COL_TIMESTAMP;
		}
		return true;
	case PL_GENERALISE:
		if (s->to == PL_PREFIX) {
			*takes = "string or category columns";
			return textual(t);
		}
		if (s->to != PL_BAND) {
			*takes = "date or timestamp columns";
			return t == VEIL_COL_DATE || t == VEIL_COL_TIMESTAMP;
		}
		return numeric(t);
	case PL_CLIP:
	case PL_LOG:
	case PL_STANDARDIZE:
	case PL_MINMAX:
	case PL_BUCKETIZE:
		return numeric(t);
	case PL_ONE_HOT:
		*takes = "columns of any type but float (bucketize a float first)";
		return t != VEIL_COL_DOUBLE;
	case PL_KIND_COUNT:
		break;
	}
	return false;
}

/* The type a step makes of a column of type t. */
static veil_col_type result_type(const pl_step *s, veil_col_type t)
{
	switch (s->kind) {
	case PL_PSEUDONYMISE:
	case PL_GENERALISE:
		return VEIL_COL_STRING;
	case PL_LOG:
	case PL_STANDARDIZE:
	case PL_MINMAX:
		return VEIL_COL_DOUBLE;
	case PL_BUCKETIZE:
	case PL_HASH_BUCKETS:
	case PL_ONE_HOT:
		return VEIL_COL_INT64;
	case PL_DROP:
	case PL_IMPUTE:
	case PL_CLIP:
	case PL_K_ANONYMITY:
	case PL_KIND_COUNT:
		break;
	}
	return t;
}

bool pl_value_fits(veil_col_type t, const char *v)
{
	size_t n = strlen(v);
	int64_t i = 0;
	double d = 0;
	switch (t) {
	case VEIL_COL_INT64:
		return data_conv_int(v, n, &i);
	case VEIL_COL_DOUBLE:
		return data_conv_double(v, n, &d) && isfinite(d);
	case VEIL_COL_BOOL:
		return data_conv_bool(v, n, &i);
	case VEIL_COL_DATE:
		return data_conv_date(v, n, &i);
	case VEIL_COL_TIMESTAMP:
		return data_conv_timestamp(v, n, &i);
	case VEIL_COL_STRING:
	case VEIL_COL_CATEGORY:
		return true;
	}
	return false;
}

/* A whole number a double holds exactly. */
static bool whole(double v)
{
	return v == floor(v) && fabs(v) <= 9007199254740992.0;
}

/* The rules that depend on a column's type, beyond accepts(). */
static veil_status type_rules(const pl_step *s, size_t j, veil_col_type t, bool use_fit, veil_err *err)
{
	const pl_pos *at = &s->col_at[j];
	const char *name = s->cols[j];
	if (s->kind == PL_IMPUTE && s->strategy == PL_CONSTANT && !pl_value_fits(t, s->value))
		return pl_fail(err, at, VEIL_E_INVALID,
		               "impute: the value is not a value of column '%.64s' (%s)", name, type_word(t));
	if (s->kind == PL_IMPUTE && use_fit && s->fit.have && s->fit.values &&
	    !pl_value_fits(t, s->fit.values[j]))
		return pl_fail(err, at, VEIL_E_INVALID,
		               "impute: the fitted value is not a value of column '%.64s' (%s)", name,
		               type_word(t));
	if (s->kind == PL_CLIP && t == VEIL_COL_INT64 &&
	    ((s->has_min && !whole(s->min)) || (s->has_max && !whole(s->max))))
		return pl_fail(err, at, VEIL_E_INVALID,
		               "clip: column '%.64s' is int, so min and max must be whole numbers", name);
	return VEIL_OK;
}

static bool shape_has(const shape *sh, const char *name, size_t len)
{
	for (size_t i = 0; i < sh->n; i++)
		if (!sh->c[i].wild && strlen(sh->c[i].name) == len && memcmp(sh->c[i].name, name, len) == 0)
			return true;
	return false;
}

/* Replaces column at (step s's column j) by what one_hot makes of it:
 * "<name>=<category>" for each fitted category and "<name>=other"; before a
 * fit, a wildcard for every "<name>=...". */
static veil_status shape_onehot(shape *sh, const pl_step *s, size_t j, size_t at, size_t step, bool use_fit,
                                veil_err *err)
{
	const char *name = s->cols[j];
	size_t n = strlen(name);
	veil_status st = shape_remove(sh, at, name, step, err);
	if (st)
		return st;
	size_t bufsz = n + 1 + VEIL_PIPELINE_VALUE_MAX + 1;
	char *buf = malloc(bufsz);
	if (!buf)
		return PL_ERR(err, VEIL_E_NOMEM, "out of memory checking a pipeline");
	if (!use_fit || !s->fit.have) {
		(void)snprintf(buf, bufsz, "%s=", name);
		st = shape_insert(sh, at, buf, n + 1, VEIL_COL_INT64, true, err);
		free(buf);
		return st;
	}
	size_t ncats = s->fit.ncats[j];
	for (size_t c = 0; !st && c <= ncats; c++) {
		(void)snprintf(buf, bufsz, "%s=%s", name, c < ncats ? s->fit.cats[j][c] : "other");
		size_t len = strlen(buf);
		if (shape_has(sh, buf, len))
			st = pl_fail(err, &s->col_at[j], VEIL_E_INVALID,
			             "one_hot: column '%.64s' would make a column that already exists", name);
		else
			st = shape_insert(sh, at + c, buf, len, VEIL_COL_INT64, false, err);
	}
	free(buf);
	return st;
}

static const char *kind_name(pl_kind k)
{
	return (unsigned)k < PL_KIND_COUNT ? pl_kind_names[k] : "?";
}

static veil_status check_step(shape *sh, const veil_pipeline *p, size_t step, bool use_fit, veil_err *err)
{
	const pl_step *s = &p->steps[step];
	for (size_t j = 0; j < s->ncols; j++) {
		size_t at = 0;
		veil_status st = shape_find(sh, p, s, j, &at, err);
		if (st)
			return st;
		veil_col_type t = sh->c[at].type;
		const char *takes = "";
		if (!accepts(s, t, &takes))
			return pl_fail(err, &s->col_at[j], VEIL_E_INVALID,
			               "%s takes %s; column '%.64s' is %s", kind_name(s->kind), takes,
			               s->cols[j], type_word(t));
		if ((st = type_rules(s, j, t, use_fit, err)))
			return st;
		if (s->kind == PL_DROP)
			st = shape_remove(sh, at, s->cols[j], step, err);
		else if (s->kind == PL_ONE_HOT)
			st = shape_onehot(sh, s, j, at, step, use_fit, err);
		else
			sh->c[at].type = result_type(s, t);
		if (st)
			return st;
	}
	return VEIL_OK;
}

veil_status pl_check(const veil_pipeline *p, const veil_table *in, bool use_fit, veil_err *err)
{
	if (!p || !in)
		return PL_ERR(err, VEIL_E_INVALID, "no pipeline or no table to check");
	shape sh = {0};
	veil_status st = VEIL_OK;
	for (size_t c = 0; !st && c < veil_table_ncols(in); c++) {
		veil_table_col col;
		veil_table_column(in, c, &col);
		st = shape_insert(&sh, sh.n, col.name, strlen(col.name), col.type, false, err);
	}
	if (!st && p->label && veil_table_find(in, p->label) < 0)
		st = pl_fail(err, &p->label_at, VEIL_E_INVALID, "the input has no label column '%.64s'",
		             p->label);
	for (size_t i = 0; !st && i < p->n; i++)
		st = check_step(&sh, p, i, use_fit, err);
	if (!st && sh.n == 0)
		st = PL_ERR(err, VEIL_E_INVALID, "the pipeline drops every column");
	shape_free(&sh);
	return st;
}

veil_status veil_pipeline_check(const veil_pipeline *p, const veil_table *in, veil_err *err)
{
	return pl_check(p, in, true, err);
}
