/*
 * Running a feature pipeline over a table (veil_pipeline_fit and
 * veil_pipeline_apply), and the frame they run on.
 *
 * A run copies the input table into a frame (src/data/pipeline_int.h): one
 * typed array and one validity byte per row for each column, text as
 * pointers into the input. Each step then replaces the columns it changes
 * with new ones, removes or adds columns, or drops rows, and the frame is
 * copied into a new table at the end. The input is never changed.
 *
 * A fit learns each step's parameters on the frame as the steps before it
 * left it, into fresh pl_fit values, and applies the step with them; only
 * when the whole run has succeeded are they moved into the pipeline. So a
 * fit that fails leaves a pipeline as it was, fitted or not.
 */
#include "data_int.h"
#include "pipeline_int.h"
#include "veil/crypto.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- values as text ---- */

void pl_format_double(double v, char out[PL_TEXT_MAX])
{
	for (int prec = 15; prec <= 17; prec++) {
		(void)snprintf(out, PL_TEXT_MAX, "%.*g", prec, v);
		double back = 0;
		if (data_conv_double(out, strlen(out), &back) && back == v)
			return;
	}
}

void pl_civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	/* The inverse of table.c's days_from_civil: 400-year eras of 146097
	 * days, each starting on 1 March. */
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void pl_format_date(int64_t days, char out[PL_TEXT_MAX])
{
	int64_t y = 0;
	unsigned m = 0, d = 0;
	pl_civil(days, &y, &m, &d);
	(void)snprintf(out, PL_TEXT_MAX, "%04" PRId64 "-%02u-%02u", y, m, d);
}

void pl_format_timestamp(int64_t secs, char out[PL_TEXT_MAX])
{
	int64_t days = floor_div(secs, 86400), rest = secs - days * 86400;
	int64_t y = 0;
	unsigned m = 0, d = 0;
	pl_civil(days, &y, &m, &d);
	(void)snprintf(out, PL_TEXT_MAX, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02uZ", y, m, d,
	               (unsigned)(rest / 3600), (unsigned)(rest / 60 % 60), (unsigned)(rest % 60));
}

pl_text pl_value_text(const pl_col *c, size_t r, char buf[PL_TEXT_MAX])
{
	switch (c->type) {
	case VEIL_COL_STRING:
	case VEIL_COL_CATEGORY:
		return (pl_text){c->s[r].p, c->s[r].len};
	case VEIL_COL_INT64:
		(void)snprintf(buf, PL_TEXT_MAX, "%" PRId64, c->i[r]);
		break;
	case VEIL_COL_DOUBLE:
		pl_format_double(c->f[r], buf);
		break;
	case VEIL_COL_BOOL:
		(void)snprintf(buf, PL_TEXT_MAX, "%s", c->i[r] ? "true" : "false");
		break;
	case VEIL_COL_DATE:
		pl_format_date(c->i[r], buf);
		break;
	case VEIL_COL_TIMESTAMP:
		pl_format_timestamp(c->i[r], buf);
		break;
	}
	return (pl_text){buf, strlen(buf)};
}

static int bytes_cmp(const char *a, size_t na, const char *b, size_t nb)
{
	int c = memcmp(a, b, na < nb ? na : nb);
	if (c)
		return c;
	return na < nb ? -1 : na > nb;
}

int pl_value_cmp(const pl_col *c, size_t r1, size_t r2)
{
	switch (c->type) {
	case VEIL_COL_STRING:
	case VEIL_COL_CATEGORY:
		return bytes_cmp(c->s[r1].p, c->s[r1].len, c->s[r2].p, c->s[r2].len);
	case VEIL_COL_DOUBLE:
		return c->f[r1] < c->f[r2] ? -1 : c->f[r1] > c->f[r2];
	case VEIL_COL_INT64:
	case VEIL_COL_BOOL:
	case VEIL_COL_DATE:
	case VEIL_COL_TIMESTAMP:
		break;
	}
	return c->i[r1] < c->i[r2] ? -1 : c->i[r1] > c->i[r2];
}

/* ---- the frame ---- */

struct pl_block {
	pl_block *next;
	size_t used, cap;
	char data[];
};

char *pl_frame_alloc(pl_frame *f, size_t n)
{
	pl_block *b = f->arena;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > ((size_t)64 << 10) ? n : ((size_t)64 << 10);
		b = malloc(sizeof *b + cap);
		if (!b)
			return NULL;
		b->next = f->arena;
		b->used = 0;
		b->cap = cap;
		f->arena = b;
	}
	char *p = b->data + b->used;
	b->used += n;
	return p;
}

void pl_col_free(pl_col *c)
{
	free(c->name);
	free(c->valid);
	free(c->i);
	free(c->f);
	free(c->s);
	memset(c, 0, sizeof *c);
}

veil_status pl_col_new(pl_col *c, const char *name, veil_col_type t, size_t nrows, veil_err *err)
{
	memset(c, 0, sizeof *c);
	c->type = t;
	size_t n = nrows ? nrows : 1;
	c->name = strdup(name);
	c->valid = calloc(n, 1);
	bool ok = c->name && c->valid;
	switch (t) {
	case VEIL_COL_DOUBLE:
		ok = ok && (c->f = calloc(n, sizeof *c->f));
		break;
	case VEIL_COL_STRING:
	case VEIL_COL_CATEGORY:
		ok = ok && (c->s = calloc(n, sizeof *c->s));
		break;
	case VEIL_COL_INT64:
	case VEIL_COL_BOOL:
	case VEIL_COL_DATE:
	case VEIL_COL_TIMESTAMP:
		ok = ok && (c->i = calloc(n, sizeof *c->i));
		break;
	}
	if (ok)
		return VEIL_OK;
	pl_col_free(c);
	return PL_ERR(err, VEIL_E_NOMEM, "out of memory for a column of %zu rows", nrows);
}

void pl_frame_free(pl_frame *f)
{
	for (size_t i = 0; f->cols && i < f->ncols; i++)
		pl_col_free(&f->cols[i]);
	free(f->cols);
	free(f->record);
	while (f->arena) {
		pl_block *b = f->arena->next;
		free(f->arena);
		f->arena = b;
	}
	memset(f, 0, sizeof *f);
}

long pl_frame_find(const pl_frame *f, const char *name)
{
	for (size_t i = 0; i < f->ncols; i++)
		if (strcmp(f->cols[i].name, name) == 0)
			return (long)i;
	return -1;
}

void pl_frame_replace(pl_frame *f, size_t i, pl_col *c)
{
	c->pii = f->cols[i].pii;
	c->pseudonymised = c->pseudonymised || f->cols[i].pseudonymised;
	pl_col_free(&f->cols[i]);
	f->cols[i] = *c;
	memset(c, 0, sizeof *c);
}

void pl_frame_remove(pl_frame *f, size_t i)
{
	pl_col_free(&f->cols[i]);
	memmove(&f->cols[i], &f->cols[i + 1], (f->ncols - i - 1) * sizeof *f->cols);
	f->ncols--;
}

veil_status pl_frame_insert(pl_frame *f, size_t i, pl_col *cols, size_t n, veil_err *err)
{
	if (f->ncols + n > VEIL_CSV_COLUMNS_MAX_LIMIT)
		return PL_ERR(err, VEIL_E_LIMIT, "the pipeline would make more than %u columns",
		              VEIL_CSV_COLUMNS_MAX_LIMIT);
	if (f->ncols + n > f->cap) {
		size_t cap = f->cap ? f->cap : 16;
		while (cap < f->ncols + n)
			cap *= 2;
		pl_col *g = realloc(f->cols, cap * sizeof *g);
		if (!g)
			return PL_ERR(err, VEIL_E_NOMEM, "out of memory adding columns");
		f->cols = g;
		f->cap = cap;
	}
	memmove(&f->cols[i + n], &f->cols[i], (f->ncols - i) * sizeof *f->cols);
	memcpy(&f->cols[i], cols, n * sizeof *cols);
	memset(cols, 0, n * sizeof *cols);
	f->ncols += n;
	return VEIL_OK;
}

void pl_frame_filter(pl_frame *f, const uint8_t *keep)
{
	size_t w = 0;
	for (size_t r = 0; r < f->nrows; r++) {
		if (!keep[r])
			continue;
		for (size_t c = 0; c < f->ncols; c++) {
			pl_col *k = &f->cols[c];
			k->valid[w] = k->valid[r];
			if (k->i)
				k->i[w] = k->i[r];
			if (k->f)
				k->f[w] = k->f[r];
			if (k->s)
				k->s[w] = k->s[r];
		}
		f->record[w++] = f->record[r];
	}
	f->nrows = w;
}

veil_status pl_frame_from_table(const veil_table *t, pl_frame *f, veil_err *err)
{
	memset(f, 0, sizeof *f);
	size_t nc = veil_table_ncols(t), nr = veil_table_nrows(t);
	f->nrows = nr;
	f->cols = calloc(nc ? nc : 1, sizeof *f->cols);
	f->record = malloc((nr ? nr : 1) * sizeof *f->record);
	if (!f->cols || !f->record) {
		pl_frame_free(f);
		return PL_ERR(err, VEIL_E_NOMEM, "out of memory copying a table of %zu rows", nr);
	}
	f->cap = nc ? nc : 1;
	for (size_t r = 0; r < nr; r++)
		f->record[r] = r + 1;
	for (size_t c = 0; c < nc; c++) {
		veil_table_col tc;
		veil_table_column(t, c, &tc);
		pl_col *k = &f->cols[c];
		veil_status st = pl_col_new(k, tc.name, tc.type, nr, err);
		if (st) {
			pl_frame_free(f);
			return st;
		}
		f->ncols = c + 1;
		k->pii = veil_pii_from_header(tc.name);
		for (size_t r = 0; r < nr; r++) {
			if (!veil_table_valid(&tc, r))
				continue;
			k->valid[r] = 1;
			switch (tc.type) {
			case VEIL_COL_INT64:
			case VEIL_COL_DATE:
			case VEIL_COL_TIMESTAMP:
				k->i[r] = tc.i64[r];
				break;
			case VEIL_COL_BOOL:
				k->i[r] = tc.b[r];
				break;
			case VEIL_COL_DOUBLE:
				k->f[r] = tc.f64[r];
				break;
			case VEIL_COL_STRING:
				k->s[r] = tc.str[r];
				break;
			case VEIL_COL_CATEGORY:
				k->s[r] = tc.dict[tc.codes[r]];
				break;
			}
		}
	}
	return VEIL_OK;
}

veil_status pl_frame_to_table(const pl_frame *f, veil_table **out, veil_err *err)
{
	*out = NULL;
	if (!f->ncols)
		return PL_ERR(err, VEIL_E_INVALID, "the pipeline drops every column");
	veil_table_col_spec *spec = calloc(f->ncols, sizeof *spec);
	veil_table_value *vals = calloc(f->ncols, sizeof *vals);
	veil_table *t = NULL;
	veil_status st = VEIL_OK;
	if (!spec || !vals)
		st = PL_ERR(err, VEIL_E_NOMEM, "out of memory for the output table");
	for (size_t c = 0; !st && c < f->ncols; c++)
		spec[c] = (veil_table_col_spec){f->cols[c].name, f->cols[c].type};
	if (!st)
		st = veil_table_new(spec, f->ncols, &t, err);
	for (size_t r = 0; !st && r < f->nrows; r++) {
		for (size_t c = 0; c < f->ncols; c++) {
			const pl_col *k = &f->cols[c];
			veil_table_value *v = &vals[c];
			memset(v, 0, sizeof *v);
			v->null = !k->valid[r];
			if (v->null)
				continue;
			if (k->i)
				v->i = k->i[r];
			else if (k->f)
				v->f = k->f[r];
			else {
				v->p = k->s[r].p;
				v->len = k->s[r].len;
			}
		}
		st = veil_table_append_values(t, vals, f->ncols, err);
	}
	free(spec);
	free(vals);
	if (st) {
		veil_table_free(t);
		return st;
	}
	*out = t;
	return VEIL_OK;
}

/* ---- the key check ---- */

veil_status pl_key_check(const uint8_t *key, uint8_t out[PL_KEY_CHECK_LEN], veil_err *err)
{
	uint8_t mac[VEIL_SHA256_LEN];
	veil_status st = veil_hmac_sha256(key, VEIL_PIPELINE_KEY_LEN, PL_KEY_CHECK_MSG,
	                                  sizeof PL_KEY_CHECK_MSG - 1, mac, err);
	if (!st)
		memcpy(out, mac, PL_KEY_CHECK_LEN);
	veil_wipe(mac, sizeof mac);
	return st;
}

/* ---- fit and apply ---- */

static bool direct_left(const pl_frame *f)
{
	for (size_t c = 0; c < f->ncols; c++)
		if (pl_direct_identifier(f->cols[c].pii) && !f->cols[c].pseudonymised)
			return true;
	return false;
}

static veil_status run(veil_pipeline *p, bool fit, const veil_table *in, const uint8_t *key, veil_table **out,
                       veil_pipeline_stats *stats, veil_err *err)
{
	*out = NULL;
	veil_pipeline_stats local = {0};
	veil_pipeline_stats *stt = stats ? stats : &local;
	memset(stt, 0, sizeof *stt);
	stt->k_met = true;
	if (!p || !in)
		return PL_ERR(err, VEIL_E_INVALID, "no pipeline or no table");
	if (veil_pipeline_needs_key(p) && !key) {
		veil_err_set(err, VEIL_E_KEY, "the pipeline pseudonymises columns, and no key was given");
		return veil_err_hint(err, "pseudonymisation needs the compartment's %d-byte key",
		                     VEIL_PIPELINE_KEY_LEN);
	}
	if (!fit && !veil_pipeline_is_fitted(p)) {
		veil_err_set(err, VEIL_E_INVALID,
		             "the pipeline is not fitted: it has no learned parameters to apply");
		return veil_err_hint(err, "fit it on training data first (veil features build)");
	}
	pl_fit *fits = NULL;
	if (fit && !(fits = calloc(p->n, sizeof *fits)))
		return PL_ERR(err, VEIL_E_NOMEM, "out of memory fitting a pipeline");
	/* Check the shape first: the pipeline as it will be once fitted is what
	 * the steps see, so a fit checks with its wildcards and the run below
	 * finds what remains. */
	pl_frame f = {0};
	veil_status st = pl_check(p, in, !fit, err);
	if (!st)
		st = pl_frame_from_table(in, &f, err);
	stt->rows_in = veil_table_nrows(in);
	for (size_t i = 0; !st && i < p->n; i++) {
		const pl_step *s = &p->steps[i];
		pl_run rn = {.key = key, .st = stt, .step_no = i + 1};
		const pl_fit *use = &s->fit;
		if (fit && pl_learns(s)) {
			st = pl_step_learn(s, &rn, &f, &fits[i], err);
			fits[i].have = true;
			use = &fits[i];
		}
		if (!st)
			st = s->kind == PL_K_ANONYMITY ? pl_kanon_apply(s, &rn, &f, err)
			                               : pl_step_apply(s, &rn, use, &f, err);
	}
	if (!st) {
		stt->rows_out = f.nrows;
		stt->direct_identifiers_removed = !direct_left(&f);
		st = pl_frame_to_table(&f, out, err);
	}
	pl_frame_free(&f);
	for (size_t i = 0; fits && i < p->n; i++) {
		pl_step *s = &p->steps[i];
		if (!st && pl_learns(s)) {
			pl_fit_free(&s->fit);
			s->fit = fits[i];
		} else {
			pl_fit_free(&fits[i]);
		}
	}
	free(fits);
	if (st) {
		memset(stt, 0, sizeof *stt);
		stt->k_met = true;
	}
	return st;
}

veil_status veil_pipeline_fit(veil_pipeline *p, const veil_table *in, const uint8_t *key, veil_table **out,
                              veil_pipeline_stats *stats, veil_err *err)
{
	return run(p, true, in, key, out, stats, err);
}

veil_status veil_pipeline_apply(const veil_pipeline *p, const veil_table *in, const uint8_t *key,
                                veil_table **out, veil_pipeline_stats *stats, veil_err *err)
{
	/* run changes p only when fitting. */
	return run((veil_pipeline *)p, false, in, key, out, stats, err);
}
