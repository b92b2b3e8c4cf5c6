/*
 * Writing a pipeline back as YAML (veil_pipeline_write: the fitted
 * transform that serving applies later) and the build report's body
 * (veil_pipeline_report).
 *
 * The writer puts every option in flow style, one step per line block, and
 * every name and text value in double quotes with escapes, so that any
 * column name reads back byte for byte; numbers are written as the
 * shortest text that reads back to the same double. What it writes parses
 * to a pipeline that writes the same bytes again (the fuzz target checks).
 *
 * The report never holds a raw value of a column whose header names
 * personal data (veil_pii_from_header): for those, what a step learned is
 * reported as counts, and the one-hot columns made from them are named by
 * the index of their category.
 */
#include "pipeline_int.h"

#include <stdlib.h>
#include <string.h>

/* s as a YAML double-quoted scalar: printable characters as they are, the
 * rest (controls, DEL, C1, line and paragraph separators, BOM, U+FFFE/F)
 * escaped, as the schema writer does. */
static veil_status put_quoted(veil_buf *b, const char *s, veil_err *err)
{
	size_t n = strlen(s);
	veil_status st = veil_buf_append(b, "\"", 1, err);
	for (size_t i = 0; !st && i < n;) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp = c;
		int k = 1;
		if (c >= 0x80) {
			k = veil_utf8_seq((const uint8_t *)s + i, n - i);
			if (k <= 0)
				return PL_ERR(err, VEIL_E_INTERNAL, "a pipeline string is not UTF-8");
			cp = c & (k == 2 ? 0x1fu : k == 3 ? 0x0fu : 0x07u);
			for (int q = 1; q < k; q++)
				cp = (cp << 6) | ((unsigned char)s[i + (size_t)q] & 0x3fu);
		}
		bool printable = (cp >= 0x20 && cp <= 0x7e) ||
		                 (cp >= 0xa0 && cp <= 0xd7ff && cp != 0x2028 && cp != 0x2029) ||
		                 (cp >= 0xe000 && cp <= 0xfffd && cp != 0xfeff) || cp >= 0x10000;
		if (cp == '"' || cp == '\\')
			st = veil_buf_printf(b, err, "\\%c", (char)cp);
		else if (printable)
			st = veil_buf_append(b, s + i, (size_t)k, err);
		else if (cp <= 0xff)
			st = veil_buf_printf(b, err, "\\x%02x", (unsigned)cp);
		else
			st = veil_buf_printf(b, err, "\\u%04x", (unsigned)cp);
		i += (size_t)k;
	}
	return st ? st : veil_buf_append(b, "\"", 1, err);
}

static veil_status put_number(veil_buf *b, double v, veil_err *err)
{
	char t[PL_TEXT_MAX];
	pl_format_double(v, t);
	return veil_buf_append(b, t, strlen(t), err);
}

static veil_status put_names(veil_buf *b, char *const *v, size_t n, veil_err *err)
{
	veil_status st = veil_buf_append(b, "[", 1, err);
	for (size_t i = 0; !st && i < n; i++) {
		if (i)
			st = veil_buf_append(b, ", ", 2, err);
		if (!st)
			st = put_quoted(b, v[i], err);
	}
	return st ? st : veil_buf_append(b, "]", 1, err);
}

static veil_status put_numbers(veil_buf *b, const double *v, size_t n, veil_err *err)
{
	veil_status st = veil_buf_append(b, "[", 1, err);
	for (size_t i = 0; !st && i < n; i++) {
		if (i)
			st = veil_buf_append(b, ", ", 2, err);
		if (!st)
			st = put_number(b, v[i], err);
	}
	return st ? st : veil_buf_append(b, "]", 1, err);
}

static veil_status put_fitted(veil_buf *b, const pl_step *s, veil_err *err)
{
	const pl_fit *f = &s->fit;
	veil_status st = veil_buf_append(b, ", fitted: {", 11, err);
	switch (s->kind) {
	case PL_PSEUDONYMISE: {
		char hex[2 * PL_KEY_CHECK_LEN + 1];
		veil_hex_encode(f->key_check, PL_KEY_CHECK_LEN, hex);
		if (!st)
			st = veil_buf_printf(b, err, "key_check: \"%s\"", hex);
		break;
	}
	case PL_IMPUTE:
		if (!st)
			st = veil_buf_append(b, "values: ", 8, err);
		if (!st)
			st = put_names(b, f->values, s->ncols, err);
		break;
	case PL_STANDARDIZE:
	case PL_MINMAX:
		if (!st)
			st = veil_buf_printf(b, err, "%s: ", s->kind == PL_STANDARDIZE ? "mean" : "min");
		if (!st)
			st = put_numbers(b, f->a, s->ncols, err);
		if (!st)
			st = veil_buf_printf(b, err, ", %s: ", s->kind == PL_STANDARDIZE ? "std" : "max");
		if (!st)
			st = put_numbers(b, f->b, s->ncols, err);
		break;
	case PL_BUCKETIZE:
	case PL_ONE_HOT:
		if (!st)
			st = veil_buf_printf(b, err, "%s: [",
			                     s->kind == PL_BUCKETIZE ? "edges" : "categories");
		for (size_t j = 0; !st && j < s->ncols; j++) {
			if (j)
				st = veil_buf_append(b, ", ", 2, err);
			if (!st)
				st = s->kind == PL_BUCKETIZE ? put_numbers(b, f->edges[j], f->nedges[j], err)
				                             : put_names(b, f->cats[j], f->ncats[j], err);
		}
		if (!st)
			st = veil_buf_append(b, "]", 1, err);
		break;
	case PL_DROP:
	case PL_GENERALISE:
	case PL_CLIP:
	case PL_LOG:
	case PL_HASH_BUCKETS:
	case PL_K_ANONYMITY:
	case PL_KIND_COUNT:
		return PL_ERR(err, VEIL_E_INTERNAL, "fitted parameters for a step that learns none");
	}
	return st ? st : veil_buf_append(b, "}", 1, err);
}

static veil_status put_step(veil_buf *b, const pl_step *s, veil_err *err)
{
	veil_status st = veil_buf_printf(b, err, "  - %s: {%s: ", pl_kind_names[s->kind],
	                                 s->kind == PL_GENERALISE    ? "column"
	                                 : s->kind == PL_K_ANONYMITY ? "quasi_identifiers"
	                                                             : "columns");
	if (!st)
		st = s->kind == PL_GENERALISE ? put_quoted(b, s->cols[0], err)
		                              : put_names(b, s->cols, s->ncols, err);
	switch (s->kind) {
	case PL_IMPUTE:
		if (!st)
			st = veil_buf_printf(b, err, ", strategy: %s", pl_impute_names[s->strategy]);
		if (!st && s->value) {
			st = veil_buf_append(b, ", value: ", 9, err);
			if (!st)
				st = put_quoted(b, s->value, err);
		}
		break;
	case PL_GENERALISE:
		if (!st)
			st = veil_buf_printf(b, err, ", to: %s", pl_gen_names[s->to]);
		if (!st && s->to == PL_BAND)
			st = veil_buf_printf(b, err, ", width: %lld", (long long)s->width);
		if (!st && s->to == PL_PREFIX)
			st = veil_buf_printf(b, err, ", length: %u", s->length);
		break;
	case PL_CLIP:
		if (!st && s->has_min) {
			st = veil_buf_append(b, ", min: ", 7, err);
			if (!st)
				st = put_number(b, s->min, err);
		}
		if (!st && s->has_max) {
			st = veil_buf_append(b, ", max: ", 7, err);
			if (!st)
				st = put_number(b, s->max, err);
		}
		break;
	case PL_BUCKETIZE:
		if (!st && s->nedges) {
			st = veil_buf_append(b, ", edges: ", 9, err);
			if (!st)
				st = put_numbers(b, s->edges, s->nedges, err);
		} else if (!st) {
			st = veil_buf_printf(b, err, ", bins: %u", s->bins);
		}
		break;
	case PL_ONE_HOT:
		if (!st)
			st = veil_buf_printf(b, err, ", max_categories: %u", s->max_categories);
		break;
	case PL_HASH_BUCKETS:
		if (!st)
			st = veil_buf_printf(b, err, ", buckets: %llu", (unsigned long long)s->buckets);
		break;
	case PL_K_ANONYMITY:
		if (!st)
			st = veil_buf_printf(b, err, ", k: %llu, suppress: %s", (unsigned long long)s->k,
			                     s->suppress ? "true" : "false");
		break;
	case PL_DROP:
	case PL_PSEUDONYMISE:
	case PL_LOG:
	case PL_STANDARDIZE:
	case PL_MINMAX:
	case PL_KIND_COUNT:
		break;
	}
	if (!st && pl_learns(s) && s->fit.have)
		st = put_fitted(b, s, err);
	return st ? st : veil_buf_append(b, "}\n", 2, err);
}

veil_status veil_pipeline_write(const veil_pipeline *p, veil_buf *out, veil_err *err)
{
	if (!p || !out)
		return PL_ERR(err, VEIL_E_INVALID, "no pipeline or no buffer to write to");
	size_t start = out->len;
	bool fitted = veil_pipeline_is_fitted(p);
	veil_status st = veil_buf_printf(out, err, "version: 1\n%s", fitted ? "fitted: true\n" : "");
	if (!st && p->label) {
		st = veil_buf_append(out, "label: ", 7, err);
		if (!st)
			st = put_quoted(out, p->label, err);
		if (!st)
			st = veil_buf_append(out, "\n", 1, err);
	}
	if (!st)
		st = veil_buf_append(out, "steps:\n", 7, err);
	for (size_t i = 0; !st && i < p->n; i++)
		st = put_step(out, &p->steps[i], err);
	if (st)
		out->len = start;
	return st;
}

/* ---- the build report ---- */

static bool sensitive(const veil_pipeline *p, const char *column)
{
	if (p->redact_all)
		return true;
	return veil_pii_from_header(column) != VEIL_PII_NONE;
}

static void report_learned(veil_jw *w, const veil_pipeline *p, const pl_step *s)
{
	const pl_fit *f = &s->fit;
	veil_jw_key(w, "learned");
	veil_jw_array(w);
	for (size_t j = 0; j < s->ncols; j++) {
		bool hide = sensitive(p, s->cols[j]);
		veil_jw_object(w);
		veil_jw_kstr(w, "column", s->cols[j]);
		if (hide)
			veil_jw_kbool(w, "redacted", true); /* personal data: counts only */
		switch (s->kind) {
		case PL_IMPUTE:
			if (!hide)
				veil_jw_kstr(w, "value", f->values[j]);
			break;
		case PL_STANDARDIZE:
		case PL_MINMAX:
			if (!hide) {
				veil_jw_kdouble(w, s->kind == PL_STANDARDIZE ? "mean" : "min", f->a[j]);
				veil_jw_kdouble(w, s->kind == PL_STANDARDIZE ? "std" : "max", f->b[j]);
			}
			break;
		case PL_BUCKETIZE:
			veil_jw_kuint(w, "buckets", f->nedges[j] + 1);
			if (!hide) {
				veil_jw_key(w, "edges");
				veil_jw_array(w);
				for (size_t k = 0; k < f->nedges[j]; k++)
					veil_jw_double(w, f->edges[j][k]);
				veil_jw_end(w);
			}
			break;
		case PL_ONE_HOT:
			veil_jw_kuint(w, "categories", f->ncats[j]);
			if (!hide) {
				veil_jw_key(w, "vocabulary");
				veil_jw_array(w);
				for (size_t k = 0; k < f->ncats[j]; k++)
					veil_jw_str(w, f->cats[j][k]);
				veil_jw_end(w);
			}
			break;
		case PL_DROP:
		case PL_PSEUDONYMISE:
		case PL_GENERALISE:
		case PL_CLIP:
		case PL_LOG:
		case PL_HASH_BUCKETS:
		case PL_K_ANONYMITY:
		case PL_KIND_COUNT:
			break;
		}
		veil_jw_end(w);
	}
	veil_jw_end(w);
}

static void report_step(veil_jw *w, const veil_pipeline *p, const pl_step *s)
{
	veil_jw_object(w);
	veil_jw_kstr(w, "step", pl_kind_names[s->kind]);
	veil_jw_kuint(w, "line", s->at.line);
	veil_jw_key(w, s->kind == PL_K_ANONYMITY ? "quasi_identifiers" : "columns");
	veil_jw_array(w);
	for (size_t j = 0; j < s->ncols; j++)
		veil_jw_str(w, s->cols[j]);
	veil_jw_end(w);
	switch (s->kind) {
	case PL_IMPUTE:
		veil_jw_kstr(w, "strategy", pl_impute_names[s->strategy]);
		break;
	case PL_GENERALISE:
		veil_jw_kstr(w, "to", pl_gen_names[s->to]);
		if (s->to == PL_BAND)
			veil_jw_kint(w, "width", s->width);
		if (s->to == PL_PREFIX)
			veil_jw_kuint(w, "length", s->length);
		break;
	case PL_CLIP:
		if (s->has_min)
			veil_jw_kdouble(w, "min", s->min);
		if (s->has_max)
			veil_jw_kdouble(w, "max", s->max);
		break;
	case PL_BUCKETIZE:
		if (s->bins)
			veil_jw_kuint(w, "bins", s->bins);
		break;
	case PL_ONE_HOT:
		veil_jw_kuint(w, "max_categories", s->max_categories);
		break;
	case PL_HASH_BUCKETS:
		veil_jw_kuint(w, "buckets", s->buckets);
		break;
	case PL_K_ANONYMITY:
		veil_jw_kuint(w, "k", s->k);
		veil_jw_kbool(w, "suppress", s->suppress);
		break;
	case PL_DROP:
	case PL_PSEUDONYMISE:
	case PL_LOG:
	case PL_STANDARDIZE:
	case PL_MINMAX:
	case PL_KIND_COUNT:
		break;
	}
	if (pl_learns(s) && s->fit.have && s->kind != PL_PSEUDONYMISE)
		report_learned(w, p, s);
	veil_jw_end(w);
}

/* How an output column is named in the report: its name, or for a one-hot
 * column made from personal data "<column>=#<index>" (the category is a
 * raw value). Writes the key "column" and its value. */
static void report_column_name(veil_jw *w, const veil_pipeline *p, const char *name, char *buf, size_t bufsz)
{
	for (size_t i = 0; i < p->n; i++) {
		const pl_step *s = &p->steps[i];
		if (s->kind != PL_ONE_HOT || !s->fit.have)
			continue;
		for (size_t j = 0; j < s->ncols; j++) {
			size_t nl = strlen(s->cols[j]);
			if (!sensitive(p, s->cols[j]) || strncmp(name, s->cols[j], nl) != 0 ||
			    name[nl] != '=')
				continue;
			for (size_t k = 0; k < s->fit.ncats[j]; k++)
				if (strcmp(name + nl + 1, s->fit.cats[j][k]) == 0) {
					(void)snprintf(buf, bufsz, "%.*s=#%zu", (int)(nl < 512 ? nl : 512),
					               s->cols[j], k);
					veil_jw_kstr(w, "column", buf);
					return;
				}
		}
	}
	veil_jw_kstr(w, "column", name);
}

typedef struct mi_entry {
	size_t col;
	double bits;
	bool key; /* text, mostly distinct: its estimate says nothing */
} mi_entry;

static int by_bits(const void *ctx, size_t a, size_t b)
{
	const mi_entry *e = ctx;
	/* A key's estimate says nothing (pl_mutual_information_all): last. */
	if (e[a].key != e[b].key)
		return e[a].key ? 1 : -1;
	return e[a].bits > e[b].bits ? -1 : e[a].bits < e[b].bits;
}

veil_status veil_pipeline_report(const veil_pipeline *p, const veil_table *out,
                                 const veil_pipeline_stats *stats, veil_jw *w, veil_err *err)
{
	if (!p || !w)
		return PL_ERR(err, VEIL_E_INVALID, "no pipeline or no writer for the report");
	veil_jw_key(w, "steps");
	veil_jw_array(w);
	for (size_t i = 0; i < p->n; i++)
		report_step(w, p, &p->steps[i]);
	veil_jw_end(w);
	if (stats) {
		veil_jw_key(w, "stats");
		veil_jw_object(w);
		veil_jw_kuint(w, "rows_in", stats->rows_in);
		veil_jw_kuint(w, "rows_out", stats->rows_out);
		veil_jw_kuint(w, "rows_suppressed", stats->rows_suppressed);
		veil_jw_kbool(w, "direct_identifiers_removed", stats->direct_identifiers_removed);
		if (stats->k) {
			veil_jw_key(w, "k_anonymity");
			veil_jw_object(w);
			veil_jw_kuint(w, "k", stats->k);
			veil_jw_kuint(w, "smallest_group", stats->k_smallest_group);
			veil_jw_kuint(w, "groups_below_k", stats->k_groups_below);
			veil_jw_kbool(w, "k_met", stats->k_met);
			veil_jw_end(w);
		}
		veil_jw_end(w);
	}
	long label = out && p->label ? veil_table_find(out, p->label) : -1;
	if (label < 0)
		return VEIL_OK;
	size_t nc = veil_table_ncols(out);
	mi_entry *e = calloc(nc, sizeof *e);
	size_t *order = calloc(nc, sizeof *order), *cols = calloc(nc, sizeof *cols);
	double *bits = calloc(nc, sizeof *bits);
	bool *keyish = calloc(nc, sizeof *keyish);
	char *buf = malloc(VEIL_PIPELINE_NAME_MAX + 32);
	size_t n = 0;
	veil_status st = !e || !order || !cols || !bits || !keyish || !buf ? PL_NOMEM(err) : VEIL_OK;
	for (size_t c = 0; !st && c < nc; c++)
		if (c != (size_t)label)
			cols[n++] = c;
	if (!st)
		st = pl_mutual_information_all(out, (size_t)label, VEIL_PIPELINE_MI_BINS, cols, n, bits,
		                               keyish, err);
	for (size_t k = 0; !st && k < n; k++) {
		e[k] = (mi_entry){cols[k], bits[k], keyish[k]};
		order[k] = k;
	}
	/* Most informative first; ties in column order (the sort is stable). */
	if (!st && !pl_sort(order, n, by_bits, e))
		st = PL_ERR(err, VEIL_E_NOMEM, "out of memory writing a report");
	if (!st) {
		veil_jw_key(w, "mutual_information");
		veil_jw_object(w);
		veil_jw_kstr(w, "label", p->label);
		veil_jw_kuint(w, "bins", VEIL_PIPELINE_MI_BINS);
		veil_jw_key(w, "features");
		veil_jw_array(w);
		for (size_t k = 0; k < n; k++) {
			veil_table_col col;
			veil_table_column(out, e[order[k]].col, &col);
			veil_jw_object(w);
			report_column_name(w, p, col.name, buf, VEIL_PIPELINE_NAME_MAX + 32);
			veil_jw_kdouble(w, "bits", e[order[k]].bits);
			if (e[order[k]].key)
				veil_jw_kbool(w, "key", true);
			veil_jw_end(w);
		}
		veil_jw_end(w);
		veil_jw_end(w);
	}
	free(e);
	free(order);
	free(cols);
	free(bits);
	free(keyish);
	free(buf);
	return st;
}

void veil_pipeline_set_redact_all(veil_pipeline *p, bool on)
{
	p->redact_all = on;
}
