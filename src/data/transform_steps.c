/*
 * What each pipeline step learns and does (docs/formats/pipeline.md,
 * "Steps"): pl_step_learn fills a pl_fit from the frame, pl_step_apply
 * changes the frame with one. k_anonymity is in kanon.c.
 *
 * A step that changes a column's values builds a new column and replaces
 * the old one, so a failure half-way through a column leaves the frame as
 * it was for that column (the run is abandoned anyway). Error messages name
 * the step's line and column in the pipeline file, the column and, for a
 * bad value, its record number in the input; never the value.
 */
#include "data_int.h"
#include "pipeline_int.h"
#include "veil/crypto.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/params.h>

static const char *kind(const pl_step *s)
{
	return pl_kind_names[s->kind];
}

static veil_status col_of(const pl_step *s, const pl_frame *f, size_t j, size_t *out, veil_err *err)
{
	long i = pl_frame_find(f, s->cols[j]);
	if (i < 0)
		return pl_fail(err, &s->col_at[j], VEIL_E_INVALID, "%s: no column '%.64s' at this step",
		               kind(s), s->cols[j]);
	*out = (size_t)i;
	return VEIL_OK;
}

static double num(const pl_col *c, size_t r)
{
	return c->type == VEIL_COL_DOUBLE ? c->f[r] : (double)c->i[r];
}

static veil_status nomem(veil_err *err)
{
	return PL_ERR(err, VEIL_E_NOMEM, "out of memory running a pipeline");
}

static int row_cmp(const void *ctx, size_t a, size_t b)
{
	return pl_value_cmp(ctx, a, b);
}

/* The rows of c that have a value, sorted by value; the caller frees *idx. */
static veil_status sorted_rows(const pl_col *c, size_t nrows, size_t **idx, size_t *n, veil_err *err)
{
	*n = 0;
	*idx = malloc((nrows ? nrows : 1) * sizeof **idx);
	if (!*idx)
		return nomem(err);
	for (size_t r = 0; r < nrows; r++)
		if (c->valid[r])
			(*idx)[(*n)++] = r;
	if (!pl_sort(*idx, *n, row_cmp, c)) {
		free(*idx);
		*idx = NULL;
		return nomem(err);
	}
	return VEIL_OK;
}

static char *copy_text(pl_text t)
{
	char *s = malloc(t.len + 1);
	if (s) {
		memcpy(s, t.p, t.len);
		s[t.len] = '\0';
	}
	return s;
}

static veil_status no_values(const pl_step *s, size_t j, const char *what, veil_err *err)
{
	return pl_fail(err, &s->col_at[j], VEIL_E_INVALID,
	               "%s: column '%.64s' has no values to learn %s from", kind(s), s->cols[j], what);
}

/* ---- learning ---- */

static veil_status learn_impute(const pl_step *s, size_t j, const pl_col *c, size_t nrows, char **out,
                                veil_err *err)
{
	size_t *idx = NULL, n = 0;
	veil_status st = sorted_rows(c, nrows, &idx, &n, err);
	if (st)
		return st;
	char buf[PL_TEXT_MAX];
	pl_text t = {buf, 0};
	if (n == 0) {
		st = no_values(s, j, pl_impute_names[s->strategy], err);
	} else if (s->strategy == PL_MEAN) {
		double m = 0;
		for (size_t k = 0; k < n; k++)
			m += (num(c, idx[k]) - m) / (double)(k + 1); /* a running mean cannot overflow */
		if (c->type == VEIL_COL_INT64) {
			if (!(fabs(m) < 9.2e18))
				st = pl_fail(err, &s->col_at[j], VEIL_E_INVALID,
				             "impute: the mean of column '%.64s' is out of range",
				             s->cols[j]);
			else
				(void)snprintf(buf, sizeof buf, "%lld",
				               llround(m)); /* halves away from zero */
		} else {
			pl_format_double(m == 0 ? 0.0 : m, buf);
		}
		t.len = strlen(buf);
	} else if (s->strategy == PL_MEDIAN) {
		size_t lo = idx[(n - 1) / 2], hi = idx[n / 2];
		if (c->type == VEIL_COL_DOUBLE) {
			double m = c->f[lo] / 2 + c->f[hi] / 2; /* the middle value, or the mean of the two */
			pl_format_double(m == 0 ? 0.0 : m, buf);
			t.len = strlen(buf);
		} else {
			t = pl_value_text(c, lo, buf); /* the lower middle: a value the column holds */
		}
	} else { /* mode: the longest run of equal values; the first (smallest) of ties */
		size_t best = 0, best_len = 0;
		for (size_t a = 0, b; a < n; a = b) {
			for (b = a + 1; b < n && pl_value_cmp(c, idx[a], idx[b]) == 0; b++)
				;
			if (b - a > best_len) {
				best = idx[a];
				best_len = b - a;
			}
		}
		t = pl_value_text(c, best, buf);
		if (t.len > VEIL_PIPELINE_VALUE_MAX)
			st = pl_fail(
			        err, &s->col_at[j], VEIL_E_LIMIT,
			        "impute: the most frequent value of column '%.64s' is longer than %d bytes",
			        s->cols[j], VEIL_PIPELINE_VALUE_MAX);
	}
	free(idx);
	if (!st && !(*out = copy_text(t)))
		st = nomem(err);
	return st;
}

static veil_status learn_moments(const pl_step *s, size_t j, const pl_col *c, size_t nrows, double *a,
                                 double *b, veil_err *err)
{
	size_t n = 0;
	double mean = 0, m2 = 0, lo = INFINITY, hi = -INFINITY;
	for (size_t r = 0; r < nrows; r++) {
		if (!c->valid[r])
			continue;
		double x = num(c, r), d = x - mean;
		n++;
		mean += d / (double)n; /* Welford: no sum that can overflow or cancel */
		m2 += d * (x - mean);
		lo = x < lo ? x : lo;
		hi = x > hi ? x : hi;
	}
	if (n == 0)
		return no_values(s, j, s->kind == PL_STANDARDIZE ? "a mean" : "a range", err);
	if (s->kind == PL_STANDARDIZE) {
		*a = mean == 0 ? 0.0 : mean;
		*b = sqrt(m2 / (double)n); /* the population standard deviation */
	} else {
		*a = lo == 0 ? 0.0 : lo;
		*b = hi == 0 ? 0.0 : hi;
	}
	if (!isfinite(*a) || !isfinite(*b) || (s->kind == PL_MINMAX && !isfinite(*b - *a)))
		return pl_fail(err, &s->col_at[j], VEIL_E_INVALID,
		               "%s: the values of column '%.64s' are too large", kind(s), s->cols[j]);
	return VEIL_OK;
}

static veil_status learn_edges(const pl_step *s, size_t j, const pl_col *c, size_t nrows, double **out,
                               size_t *nout, veil_err *err)
{
	size_t *idx = NULL, n = 0;
	veil_status st = sorted_rows(c, nrows, &idx, &n, err);
	if (st)
		return st;
	if (n == 0) {
		free(idx);
		return no_values(s, j, "bucket edges", err);
	}
	double *e = malloc(s->bins * sizeof *e);
	if (!e) {
		free(idx);
		return nomem(err);
	}
	size_t ne = 0;
	double first = num(c, idx[0]);
	/* Quantile k/bins is the value at rank floor(k n / bins); an edge equal
	 * to the smallest value or to the edge before it would make an empty
	 * bucket, so it is left out. */
	for (uint64_t k = 1; k < s->bins; k++) {
		double v = num(c, idx[(size_t)(k * n / s->bins)]);
		if (v > first && (ne == 0 || v > e[ne - 1]))
			e[ne++] = v;
	}
	free(idx);
	*out = e;
	*nout = ne;
	return VEIL_OK;
}

typedef struct run_of {
	size_t row, count;
} run_of;

static int by_count(const void *ctx, size_t a, size_t b)
{
	const run_of *r = ctx;
	return r[a].count > r[b].count ? -1 : r[a].count < r[b].count;
}

static veil_status learn_vocab(const pl_step *s, const pl_col *c, size_t nrows, char ***out, size_t *nout,
                               veil_err *err)
{
	size_t *idx = NULL, n = 0;
	veil_status st = sorted_rows(c, nrows, &idx, &n, err);
	if (st)
		return st;
	run_of *runs = malloc((n ? n : 1) * sizeof *runs);
	size_t *order = malloc((n ? n : 1) * sizeof *order);
	size_t nr = 0;
	char buf[PL_TEXT_MAX];
	if (!runs || !order)
		st = nomem(err);
	for (size_t a = 0, b; !st && a < n; a = b) {
		for (b = a + 1; b < n && pl_value_cmp(c, idx[a], idx[b]) == 0; b++)
			;
		pl_text t = pl_value_text(c, idx[a], buf);
		/* "other" is the catch-all already; a value too long to be a
		 * category goes there too. */
		if (t.len > VEIL_PIPELINE_VALUE_MAX || (t.len == 5 && memcmp(t.p, "other", 5) == 0))
			continue;
		order[nr] = nr;
		runs[nr++] = (run_of){idx[a], b - a};
	}
	/* Most frequent first; ties stay in value order (the sort is stable). */
	if (!st && !pl_sort(order, nr, by_count, runs))
		st = nomem(err);
	size_t keep = nr < s->max_categories ? nr : s->max_categories;
	char **v = st ? NULL : calloc(keep ? keep : 1, sizeof *v);
	if (!st && !v)
		st = nomem(err);
	for (size_t k = 0; !st && k < keep; k++)
		if (!(v[k] = copy_text(pl_value_text(c, runs[order[k]].row, buf)))) {
			for (size_t q = 0; q < k; q++)
				free(v[q]);
			free(v);
			v = NULL;
			st = nomem(err);
		}
	free(idx);
	free(runs);
	free(order);
	if (!st) {
		*out = v;
		*nout = keep;
	}
	return st;
}

veil_status pl_step_learn(const pl_step *s, const pl_run *run, const pl_frame *f, pl_fit *fit, veil_err *err)
{
	size_t n = s->ncols;
	switch (s->kind) {
	case PL_PSEUDONYMISE:
		return pl_key_check(run->key, fit->key_check, err);
	case PL_IMPUTE:
		if (!(fit->values = calloc(n, sizeof *fit->values)))
			return nomem(err);
		fit->nvalues = n;
		break;
	case PL_STANDARDIZE:
	case PL_MINMAX:
		if (!(fit->a = calloc(n, sizeof *fit->a)) || !(fit->b = calloc(n, sizeof *fit->b)))
			return nomem(err);
		break;
	case PL_BUCKETIZE:
		if (!(fit->edges = calloc(n, sizeof *fit->edges)) ||
		    !(fit->nedges = calloc(n, sizeof *fit->nedges)))
			return nomem(err);
		fit->nlists = n;
		break;
	case PL_ONE_HOT:
		if (!(fit->cats = calloc(n, sizeof *fit->cats)) ||
		    !(fit->ncats = calloc(n, sizeof *fit->ncats)))
			return nomem(err);
		fit->nlists = n;
		break;
	case PL_DROP:
	case PL_GENERALISE:
	case PL_CLIP:
	case PL_LOG:
	case PL_HASH_BUCKETS:
	case PL_K_ANONYMITY:
	case PL_KIND_COUNT:
		return VEIL_OK;
	}
	for (size_t j = 0; j < n; j++) {
		size_t i = 0;
		veil_status st = col_of(s, f, j, &i, err);
		const pl_col *c = &f->cols[i];
		if (!st && s->kind == PL_IMPUTE)
			st = learn_impute(s, j, c, f->nrows, &fit->values[j], err);
		else if (!st && (s->kind == PL_STANDARDIZE || s->kind == PL_MINMAX))
			st = learn_moments(s, j, c, f->nrows, &fit->a[j], &fit->b[j], err);
		else if (!st && s->kind == PL_BUCKETIZE)
			st = learn_edges(s, j, c, f->nrows, &fit->edges[j], &fit->nedges[j], err);
		else if (!st && s->kind == PL_ONE_HOT)
			st = learn_vocab(s, c, f->nrows, &fit->cats[j], &fit->ncats[j], err);
		if (st)
			return st;
	}
	return VEIL_OK;
}

/* ---- applying ---- */

/* HMAC-SHA-256 under one key for many values: the key is set once, and
 * each value re-initialises the context, which keeps the key (OpenSSL 3's
 * EVP_MAC_init with a NULL key). */
typedef struct hmac {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
} hmac;

static void hmac_free(hmac *h)
{
	EVP_MAC_CTX_free(h->ctx); /* cleanses the keyed state */
	EVP_MAC_free(h->mac);
}

static veil_status hmac_init(hmac *h, const uint8_t *key, veil_err *err)
{
	h->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	h->ctx = h->mac ? EVP_MAC_CTX_new(h->mac) : NULL;
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
	                       OSSL_PARAM_construct_end()};
	if (!h->ctx || EVP_MAC_init(h->ctx, key, VEIL_PIPELINE_KEY_LEN, params) != 1) {
		hmac_free(h);
		return PL_ERR(err, VEIL_E_CRYPTO, "HMAC-SHA-256 could not be set up");
	}
	return VEIL_OK;
}

static bool hmac_one(hmac *h, const char *p, size_t n, uint8_t out[VEIL_SHA256_LEN])
{
	size_t outlen = 0;
	return EVP_MAC_init(h->ctx, NULL, 0, NULL) == 1 &&
	       EVP_MAC_update(h->ctx, (const uint8_t *)(n ? p : ""), n) == 1 &&
	       EVP_MAC_final(h->ctx, out, &outlen, VEIL_SHA256_LEN) == 1 && outlen == VEIL_SHA256_LEN;
}

static veil_status apply_pseudonymise(const pl_step *s, const pl_run *run, const pl_fit *fit, pl_frame *f,
                                      veil_err *err)
{
	uint8_t kc[PL_KEY_CHECK_LEN];
	veil_status st = pl_key_check(run->key, kc, err);
	if (st)
		return st;
	if (!veil_ct_equal(kc, fit->key_check, sizeof kc)) {
		(void)pl_fail_at(err, &s->at, VEIL_E_KEY,
		                 "pseudonymise: the key is not the one this pipeline was fitted with");
		return veil_err_hint(
		        err, "apply a fitted pipeline with the key of the compartment it was fitted in");
	}
	hmac h = {0};
	if ((st = hmac_init(&h, run->key, err)))
		return st;
	for (size_t j = 0; !st && j < s->ncols; j++) {
		size_t i = 0;
		pl_col out;
		if ((st = col_of(s, f, j, &i, err)) ||
		    (st = pl_col_new(&out, s->cols[j], VEIL_COL_STRING, f->nrows, err)))
			break;
		const pl_col *c = &f->cols[i];
		char buf[PL_TEXT_MAX];
		uint8_t mac[VEIL_SHA256_LEN];
		char hex[2 * VEIL_SHA256_LEN + 1];
		for (size_t r = 0; !st && r < f->nrows; r++) {
			if (!c->valid[r])
				continue;
			pl_text t = pl_value_text(c, r, buf);
			char *p = pl_frame_alloc(f, VEIL_PIPELINE_PSEUDONYM_LEN);
			if (!p)
				st = nomem(err);
			else if (!hmac_one(&h, t.p, t.len, mac))
				st = PL_ERR(err, VEIL_E_CRYPTO, "HMAC-SHA-256 failed");
			if (st)
				break;
			veil_hex_encode(mac, VEIL_PIPELINE_PSEUDONYM_LEN / 2, hex);
			memcpy(p, hex, VEIL_PIPELINE_PSEUDONYM_LEN);
			out.s[r] = (veil_table_str){p, VEIL_PIPELINE_PSEUDONYM_LEN};
			out.valid[r] = 1;
		}
		if (st) {
			pl_col_free(&out);
			break;
		}
		out.pseudonymised = true;
		pl_frame_replace(f, i, &out);
	}
	hmac_free(&h);
	return st;
}

static veil_status apply_impute(const pl_step *s, const pl_fit *fit, pl_frame *f, veil_err *err)
{
	for (size_t j = 0; j < s->ncols; j++) {
		size_t i = 0;
		veil_status st = col_of(s, f, j, &i, err);
		if (st)
			return st;
		pl_col *c = &f->cols[i];
		const char *v = s->strategy == PL_CONSTANT ? s->value : fit->values[j];
		size_t n = strlen(v);
		int64_t iv = 0;
		double dv = 0;
		bool ok = true;
		switch (c->type) {
		case VEIL_COL_INT64:
			ok = data_conv_int(v, n, &iv);
			break;
		case VEIL_COL_DOUBLE:
			ok = data_conv_double(v, n, &dv) && isfinite(dv);
			break;
		case VEIL_COL_BOOL:
			ok = data_conv_bool(v, n, &iv);
			break;
		case VEIL_COL_DATE:
			ok = data_conv_date(v, n, &iv);
			break;
		case VEIL_COL_TIMESTAMP:
			ok = data_conv_timestamp(v, n, &iv);
			break;
		case VEIL_COL_STRING:
		case VEIL_COL_CATEGORY:
			break;
		}
		if (!ok)
			return pl_fail(err, &s->col_at[j], VEIL_E_INVALID,
			               "impute: the fill value is not a value of column '%.64s' (%s)",
			               s->cols[j], veil_schema_type_name(c->type));
		for (size_t r = 0; r < f->nrows; r++) {
			if (c->valid[r])
				continue;
			c->valid[r] = 1;
			if (c->i)
				c->i[r] = iv;
			else if (c->f)
				c->f[r] = dv;
			else
				c->s[r] = (veil_table_str){v, n};
		}
	}
	return VEIL_OK;
}

/* "lo-hi" for the band of width w that holds x: lo = floor(x / w) * w, hi = lo + w - 1. */
static bool band(const pl_col *c, size_t r, int64_t w, char out[PL_TEXT_MAX])
{
	int64_t lo;
	if (c->type == VEIL_COL_DOUBLE) {
		double q = floor(c->f[r] / (double)w) * (double)w;
		if (!(fabs(q) < 9.0e18))
			return false;
		lo = (int64_t)q;
	} else {
		int64_t x = c->i[r];
		/* |lo| and |hi| are at most |x| + w: far enough from the limits, no overflow. */
		if (x < INT64_MIN + 2 * (int64_t)VEIL_PIPELINE_WIDTH_MAX ||
		    x > INT64_MAX - 2 * (int64_t)VEIL_PIPELINE_WIDTH_MAX)
			return false;
		int64_t q = x / w;
		if (x % w != 0 && x < 0)
			q--;
		lo = q * w;
	}
	(void)snprintf(out, PL_TEXT_MAX, "%" PRId64 "-%" PRId64, lo, lo + w - 1);
	return true;
}

/* The bytes of the first `chars` characters of UTF-8 text. */
static size_t prefix_len(const char *p, size_t n, unsigned chars)
{
	size_t i = 0;
	for (unsigned k = 0; i < n && k < chars; k++) {
		i++;
		while (i < n && ((unsigned char)p[i] & 0xc0) == 0x80)
			i++;
	}
	return i;
}

static veil_status apply_generalise(const pl_step *s, pl_frame *f, veil_err *err)
{
	size_t i = 0;
	pl_col out;
	veil_status st = col_of(s, f, 0, &i, err);
	if (st || (st = pl_col_new(&out, s->cols[0], VEIL_COL_STRING, f->nrows, err)))
		return st;
	const pl_col *c = &f->cols[i];
	for (size_t r = 0; r < f->nrows; r++) {
		if (!c->valid[r])
			continue;
		char buf[PL_TEXT_MAX];
		if (s->to == PL_PREFIX) {
			out.s[r] = (veil_table_str){c->s[r].p, prefix_len(c->s[r].p, c->s[r].len, s->length)};
			out.valid[r] = 1;
			continue;
		}
		if (s->to == PL_BAND) {
			if (!band(c, r, s->width, buf)) {
				pl_col_free(&out);
				return pl_fail(err, &s->col_at[0], VEIL_E_INVALID,
				               "generalise: column '%.64s', record %" PRIu64
				               ": a value too large for a band",
				               s->cols[0], f->record[r]);
			}
		} else {
			int64_t days = c->type == VEIL_COL_TIMESTAMP
			                       ? (c->i[r] - ((c->i[r] % 86400 + 86400) % 86400)) / 86400
			                       : c->i[r];
			int64_t y = 0;
			unsigned m = 0, d = 0;
			pl_civil(days, &y, &m, &d);
			if (s->to == PL_MONTH)
				(void)snprintf(buf, sizeof buf, "%04" PRId64 "-%02u", y, m);
			else
				(void)snprintf(buf, sizeof buf, "%04" PRId64, y);
		}
		size_t n = strlen(buf);
		char *p = pl_frame_alloc(f, n + 1);
		if (!p) {
			pl_col_free(&out);
			return nomem(err);
		}
		memcpy(p, buf, n + 1);
		out.s[r] = (veil_table_str){p, n};
		out.valid[r] = 1;
	}
	pl_frame_replace(f, i, &out);
	return VEIL_OK;
}

static veil_status apply_clip(const pl_step *s, pl_frame *f, veil_err *err)
{
	for (size_t j = 0; j < s->ncols; j++) {
		size_t i = 0;
		veil_status st = col_of(s, f, j, &i, err);
		if (st)
			return st;
		pl_col *c = &f->cols[i];
		for (size_t r = 0; r < f->nrows; r++) {
			if (!c->valid[r])
				continue;
			if (c->type == VEIL_COL_DOUBLE) {
				if (s->has_min && c->f[r] < s->min)
					c->f[r] = s->min;
				if (s->has_max && c->f[r] > s->max)
					c->f[r] = s->max;
			} else { /* whole bounds within 2^53 (veil_pipeline_check) */
				if (s->has_min && c->i[r] < (int64_t)s->min)
					c->i[r] = (int64_t)s->min;
				if (s->has_max && c->i[r] > (int64_t)s->max)
					c->i[r] = (int64_t)s->max;
			}
		}
	}
	return VEIL_OK;
}

/* log, standardize, minmax, bucketize and hash_buckets: one new column per
 * named column, value by value. */
static veil_status apply_map(const pl_step *s, const pl_fit *fit, pl_frame *f, veil_err *err)
{
	veil_col_type t =
	        s->kind == PL_BUCKETIZE || s->kind == PL_HASH_BUCKETS ? VEIL_COL_INT64 : VEIL_COL_DOUBLE;
	for (size_t j = 0; j < s->ncols; j++) {
		size_t i = 0;
		pl_col out;
		veil_status st = col_of(s, f, j, &i, err);
		if (st || (st = pl_col_new(&out, s->cols[j], t, f->nrows, err)))
			return st;
		const pl_col *c = &f->cols[i];
		const double *edges = s->nedges ? s->edges : fit->edges ? fit->edges[j] : NULL;
		size_t ne = s->nedges ? s->nedges : fit->nedges ? fit->nedges[j] : 0;
		for (size_t r = 0; !st && r < f->nrows; r++) {
			if (!c->valid[r])
				continue;
			out.valid[r] = 1;
			if (s->kind == PL_HASH_BUCKETS) {
				char buf[PL_TEXT_MAX];
				uint8_t h[VEIL_SHA256_LEN];
				pl_text v = pl_value_text(c, r, buf);
				if (!(st = veil_sha256(v.p, v.len, h, err)))
					out.i[r] = (int64_t)(veil_get_be64(h) % s->buckets);
				continue;
			}
			double x = num(c, r), y = 0;
			if (s->kind == PL_BUCKETIZE) { /* the number of edges <= x */
				size_t lo = 0, hi = edges ? ne : 0;
				while (lo < hi) {
					size_t mid = lo + (hi - lo) / 2;
					if (edges[mid] <= x)
						lo = mid + 1;
					else
						hi = mid;
				}
				out.i[r] = (int64_t)lo;
				continue;
			}
			if (s->kind == PL_LOG) {
				if (x < 0) {
					st = pl_fail(err, &s->col_at[j], VEIL_E_INVALID,
					             "log: column '%.64s', record %" PRIu64
					             ": a negative value; log takes values of 0 or more",
					             s->cols[j], f->record[r]);
					break;
				}
				y = log1p(x);
			} else if (s->kind == PL_STANDARDIZE) {
				y = fit->b[j] > 0 ? (x - fit->a[j]) / fit->b[j]
				                  : 0; /* a constant column is all 0 */
			} else {
				double range = fit->b[j] - fit->a[j];
				y = range > 0 ? (x - fit->a[j]) / range : 0;
			}
			if (!isfinite(y))
				st = pl_fail(err, &s->col_at[j], VEIL_E_INVALID,
				             "%s: column '%.64s', record %" PRIu64
				             ": the result is not a finite number",
				             kind(s), s->cols[j], f->record[r]);
			out.f[r] = y == 0 ? 0.0 : y;
		}
		if (st) {
			pl_col_free(&out);
			return st;
		}
		pl_frame_replace(f, i, &out);
	}
	return VEIL_OK;
}

typedef struct vocab {
	char **cats;
	size_t n;
} vocab;

static int cat_cmp(const void *ctx, size_t a, size_t b)
{
	const vocab *v = ctx;
	return strcmp(v->cats[a], v->cats[b]);
}

/* The index of text t in the vocabulary (order: the categories sorted), or n. */
static size_t vocab_find(const vocab *v, const size_t *order, pl_text t)
{
	size_t lo = 0, hi = v->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *c = v->cats[order[mid]];
		size_t cl = strlen(c);
		int d = memcmp(c, t.p, cl < t.len ? cl : t.len);
		if (d == 0)
			d = cl < t.len ? -1 : cl > t.len;
		if (d == 0)
			return order[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return v->n;
}

static veil_status onehot_one(const pl_step *s, size_t j, char **cats, size_t ncats, pl_frame *f,
                              veil_err *err)
{
	size_t i = 0;
	veil_status st = col_of(s, f, j, &i, err);
	if (st)
		return st;
	const char *name = s->cols[j];
	size_t nl = strlen(name);
	pl_col *outs = calloc(ncats + 1, sizeof *outs);
	size_t *order = malloc((ncats + 1) * sizeof *order);
	char *buf = malloc(nl + 1 + VEIL_PIPELINE_VALUE_MAX + 1);
	size_t made = 0;
	if (!outs || !order || !buf)
		st = nomem(err);
	for (size_t k = 0; !st && k <= ncats; k++, made++) {
		const char *cat = k < ncats ? cats[k] : "other";
		(void)snprintf(buf, nl + 1 + VEIL_PIPELINE_VALUE_MAX + 1, "%s=%s", name, cat);
		if (pl_frame_find(f, buf) >= 0)
			st = pl_fail(err, &s->col_at[j], VEIL_E_INVALID,
			             "one_hot: column '%.64s' would make a column that already exists", name);
		else
			st = pl_col_new(&outs[k], buf, VEIL_COL_INT64, f->nrows, err);
		if (st)
			break;
		order[k] = k;
		memset(outs[k].valid, 1, f->nrows);
	}
	vocab v = {cats, ncats};
	if (!st && !pl_sort(order, ncats, cat_cmp, &v))
		st = nomem(err);
	if (!st) {
		const pl_col *c = &f->cols[i];
		for (size_t r = 0; r < f->nrows; r++) {
			if (!c->valid[r])
				continue; /* a missing value: every output 0 */
			char tb[PL_TEXT_MAX];
			size_t k = vocab_find(&v, order, pl_value_text(c, r, tb));
			outs[k].i[r] = 1; /* k == ncats: other */
		}
		for (size_t k = 0; k <= ncats; k++) {
			outs[k].pii = c->pii;
			outs[k].pseudonymised = c->pseudonymised;
		}
		pl_frame_remove(f, i);
		st = pl_frame_insert(f, i, outs, ncats + 1, err);
		made = st ? made : 0;
	}
	for (size_t k = 0; outs && k < made; k++)
		pl_col_free(&outs[k]);
	free(outs);
	free(order);
	free(buf);
	return st;
}

veil_status pl_step_apply(const pl_step *s, const pl_run *run, const pl_fit *fit, pl_frame *f, veil_err *err)
{
	switch (s->kind) {
	case PL_DROP:
		for (size_t j = 0; j < s->ncols; j++) {
			size_t i = 0;
			veil_status st = col_of(s, f, j, &i, err);
			if (st)
				return st;
			pl_frame_remove(f, i);
		}
		return VEIL_OK;
	case PL_PSEUDONYMISE:
		return apply_pseudonymise(s, run, fit, f, err);
	case PL_IMPUTE:
		return apply_impute(s, fit, f, err);
	case PL_GENERALISE:
		return apply_generalise(s, f, err);
	case PL_CLIP:
		return apply_clip(s, f, err);
	case PL_LOG:
	case PL_STANDARDIZE:
	case PL_MINMAX:
	case PL_BUCKETIZE:
	case PL_HASH_BUCKETS:
		return apply_map(s, fit, f, err);
	case PL_ONE_HOT:
		for (size_t j = 0; j < s->ncols; j++) {
			veil_status st = onehot_one(s, j, fit->cats[j], fit->ncats[j], f, err);
			if (st)
				return st;
		}
		return VEIL_OK;
	case PL_K_ANONYMITY:
		return pl_kanon_apply(s, run, f, err);
	case PL_KIND_COUNT:
		break;
	}
	return PL_ERR(err, VEIL_E_INTERNAL, "an unknown step");
}
