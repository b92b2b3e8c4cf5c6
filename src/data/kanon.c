/*
 * The k-anonymity step (docs/formats/pipeline.md, "k_anonymity"): rows are
 * grouped by the values of the quasi-identifier columns as the steps
 * before left them (after generalisation, say), exactly, with a missing
 * value a value of its own; the step reports the smallest group and how
 * many groups have fewer than k rows, and with suppress removes the rows
 * of those groups.
 *
 * Groups are found by sorting the rows on their quasi-identifier values and
 * comparing neighbours, so two rows share a group only when every value is
 * equal: no hash, so no collision can merge two small groups into one that
 * looks large enough.
 */
#include "pipeline_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct qi_set {
	const pl_frame *f;
	const size_t *cols; /* the quasi-identifiers' indexes in f */
	size_t n;
} qi_set;

/* Orders rows by their quasi-identifier values, missing values first. */
static int rows_cmp(const void *ctx, size_t a, size_t b)
{
	const qi_set *q = ctx;
	for (size_t k = 0; k < q->n; k++) {
		const pl_col *c = &q->f->cols[q->cols[k]];
		int va = c->valid[a], vb = c->valid[b];
		if (va != vb)
			return va - vb;
		if (!va)
			continue;
		int d = pl_value_cmp(c, a, b);
		if (d)
			return d;
	}
	return 0;
}

static veil_status find_qis(const pl_step *s, const pl_frame *f, size_t *cols, veil_err *err)
{
	for (size_t j = 0; j < s->ncols; j++) {
		long i = pl_frame_find(f, s->cols[j]);
		if (i < 0)
			return pl_fail(err, &s->col_at[j], VEIL_E_INVALID,
			               "k_anonymity: no column '%.64s' at this step", s->cols[j]);
		cols[j] = (size_t)i;
	}
	return VEIL_OK;
}

veil_status pl_kanon_apply(const pl_step *s, const pl_run *run, pl_frame *f, veil_err *err)
{
	size_t *cols = calloc(s->ncols ? s->ncols : 1, sizeof *cols);
	size_t *idx = malloc((f->nrows ? f->nrows : 1) * sizeof *idx);
	uint8_t *keep = malloc(f->nrows ? f->nrows : 1);
	veil_status st = !cols || !idx || !keep ? PL_NOMEM(err) : find_qis(s, f, cols, err);
	if (st) {
		free(cols);
		free(idx);
		free(keep);
		return st;
	}
	qi_set q = {f, cols, s->ncols};
	for (size_t r = 0; r < f->nrows; r++)
		idx[r] = r;
	if (!pl_sort(idx, f->nrows, rows_cmp, &q))
		st = PL_NOMEM(err);
	uint64_t smallest = 0, below = 0, suppressed = 0;
	for (size_t a = 0, b; !st && a < f->nrows; a = b) {
		for (b = a + 1; b < f->nrows && rows_cmp(&q, idx[a], idx[b]) == 0; b++)
			;
		uint64_t size = b - a;
		if (smallest == 0 || size < smallest)
			smallest = size;
		bool small = size < s->k;
		below += small;
		for (size_t r = a; r < b; r++)
			keep[idx[r]] = !(small && s->suppress);
		if (small && s->suppress)
			suppressed += size;
	}
	if (!st) {
		veil_pipeline_stats *stt = run->st;
		stt->k = s->k;
		stt->k_smallest_group = smallest;
		stt->k_groups_below = below;
		stt->k_met = below == 0 || s->suppress;
		stt->rows_suppressed += suppressed;
		if (suppressed)
			pl_frame_filter(f, keep);
	}
	free(cols);
	free(idx);
	free(keep);
	return st;
}
