/*
 * Mutual information between two columns of a table, in bits: how much
 * knowing one tells about the other, the build report's measure of each
 * feature's importance for the label.
 *
 * Each column is first turned into codes: text, booleans and categories by
 * value; numbers (int, float, date, timestamp) by value when they have at
 * most `bins` distinct values, otherwise into equal-frequency bins (inner
 * edges at the values of rank floor(k n / bins), k = 1 .. bins - 1, a value
 * going to the bin of the edges at or below it, so equal values always
 * share a bin); a missing value is a code of its own. Then
 *
 *   I(A; B) = sum over (a, b) of p(a, b) log2(p(a, b) / (p(a) p(b)))
 *
 * over the joint counts, found by sorting the pairs of codes. Everything
 * is O(n log n) in time and O(n) in memory.
 */
#include "pipeline_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool is_number(veil_col_type t)
{
	return t == VEIL_COL_INT64 || t == VEIL_COL_DOUBLE || t == VEIL_COL_DATE || t == VEIL_COL_TIMESTAMP;
}

static int cmp_rows(const void *ctx, size_t a, size_t b)
{
	const veil_table_col *c = ctx;
	switch (c->type) {
	case VEIL_COL_DOUBLE:
		return c->f64[a] < c->f64[b] ? -1 : c->f64[a] > c->f64[b];
	case VEIL_COL_INT64:
	case VEIL_COL_DATE:
	case VEIL_COL_TIMESTAMP:
		return c->i64[a] < c->i64[b] ? -1 : c->i64[a] > c->i64[b];
	case VEIL_COL_BOOL:
		return (int)c->b[a] - (int)c->b[b];
	case VEIL_COL_CATEGORY:
		return c->codes[a] < c->codes[b] ? -1 : c->codes[a] > c->codes[b];
	case VEIL_COL_STRING:
		break;
	}
	size_t na = c->str[a].len, nb = c->str[b].len;
	int d = memcmp(c->str[a].p, c->str[b].p, na < nb ? na : nb);
	return d ? d : (na < nb ? -1 : na > nb);
}

/* Codes without sorting where the values are codes already: bools,
 * categories, and ints that span fewer than `bins` values. */
static bool direct_codes(const veil_table_col *c, unsigned bins, uint32_t *code, uint32_t *k)
{
	size_t n = c->nrows;
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	uint32_t next = 0;
	switch (c->type) {
	case VEIL_COL_BOOL:
		next = 2;
		break;
	case VEIL_COL_CATEGORY:
		next = (uint32_t)c->ndict;
		break;
	case VEIL_COL_INT64:
		for (size_t r = 0; r < n; r++)
			if (veil_table_valid(c, r)) {
				lo = c->i64[r] < lo ? c->i64[r] : lo;
				hi = c->i64[r] > hi ? c->i64[r] : hi;
			}
		if (lo > hi || (uint64_t)hi - (uint64_t)lo >= bins)
			return false;
		next = (uint32_t)((uint64_t)hi - (uint64_t)lo + 1);
		break;
	case VEIL_COL_DOUBLE:
	case VEIL_COL_DATE:
	case VEIL_COL_TIMESTAMP:
	case VEIL_COL_STRING:
		return false;
	}
	for (size_t r = 0; r < n; r++) {
		if (!veil_table_valid(c, r))
			code[r] = next; /* missing: a code of its own */
		else if (c->type == VEIL_COL_BOOL)
			code[r] = c->b[r];
		else if (c->type == VEIL_COL_CATEGORY)
			code[r] = c->codes[r];
		else
			code[r] = (uint32_t)((uint64_t)c->i64[r] - (uint64_t)lo);
	}
	*k = next + 1;
	return true;
}

/* Codes 0..*k-1 for the rows of column c (missing values: the last code). */
static veil_status codes_of(const veil_table_col *c, unsigned bins, uint32_t *code, uint32_t *k,
                            veil_err *err)
{
	if (direct_codes(c, bins, code, k))
		return VEIL_OK;
	size_t n = c->nrows, m = 0;
	size_t *idx = malloc((n ? n : 1) * sizeof *idx);
	if (!idx)
		return PL_ERR(err, VEIL_E_NOMEM, "out of memory for mutual information");
	for (size_t r = 0; r < n; r++)
		if (veil_table_valid(c, r))
			idx[m++] = r;
	if (!pl_sort(idx, m, cmp_rows, c)) {
		free(idx);
		return PL_ERR(err, VEIL_E_NOMEM, "out of memory for mutual information");
	}
	size_t distinct = 0;
	for (size_t i = 0; i < m; i++)
		distinct += i == 0 || cmp_rows(c, idx[i - 1], idx[i]) != 0;
	uint32_t next = 0;
	if (!is_number(c->type) || distinct <= bins) {
		for (size_t i = 0; i < m; i++) {
			if (i > 0 && cmp_rows(c, idx[i - 1], idx[i]) != 0)
				next++;
			code[idx[i]] = next;
		}
		next = m ? next + 1 : 0;
	} else {
		/* Equal-frequency bins: the bin of a value is the number of edges
		 * (the values of rank floor(q m / bins)) at or below it; walking
		 * the sorted values passes the edges in order. */
		uint64_t q = 1;
		for (size_t i = 0; i < m; i++) {
			while (q < bins && cmp_rows(c, idx[(size_t)(q * m / bins)], idx[i]) <= 0)
				q++;
			code[idx[i]] = (uint32_t)(q - 1);
		}
		next = bins;
	}
	for (size_t r = 0; r < n; r++)
		if (!veil_table_valid(c, r))
			code[r] = next;
	*k = next + (m < n);
	free(idx);
	return VEIL_OK;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* I(A; B) from the codes of the two columns: the joint counts in a table
 * when it is small, by sorting the pairs otherwise. */
static veil_status mi_of_codes(const uint32_t *xa, uint32_t ka, const uint32_t *xb, uint32_t kb, size_t n,
                               double *bits, veil_err *err)
{
	double *pa = calloc(ka + 1, sizeof *pa), *pb = calloc(kb + 1, sizeof *pb);
	bool dense = (uint64_t)ka * kb <= ((uint64_t)1 << 22);
	uint32_t *joint = dense ? calloc((size_t)ka * kb + 1, sizeof *joint) : NULL;
	uint64_t *pairs = dense ? NULL : malloc(n * sizeof *pairs);
	if (!pa || !pb || (dense ? !joint : !pairs)) {
		free(pa);
		free(pb);
		free(joint);
		free(pairs);
		return PL_NOMEM(err);
	}
	for (size_t r = 0; r < n; r++) {
		pa[xa[r]] += 1;
		pb[xb[r]] += 1;
		if (dense)
			joint[(size_t)xa[r] * kb + xb[r]]++;
		else
			pairs[r] = (uint64_t)xa[r] << 32 | xb[r];
	}
	double mi = 0, dn = (double)n;
	if (dense) {
		for (size_t a = 0; a < ka; a++)
			for (size_t b = 0; b < kb; b++) {
				double c = joint[a * kb + b];
				if (c > 0)
					mi += c / dn * log2(c * dn / (pa[a] * pb[b]));
			}
	} else {
		qsort(pairs, n, sizeof *pairs, cmp_u64);
		for (size_t i = 0, j; i < n; i = j) {
			for (j = i + 1; j < n && pairs[j] == pairs[i]; j++)
				;
			double c = (double)(j - i);
			mi += c / dn * log2(c * dn / (pa[pairs[i] >> 32] * pb[pairs[i] & 0xffffffffu]));
		}
	}
	*bits = mi > 0 ? mi : 0; /* rounding can leave -1e-17 where there is none */
	free(pa);
	free(pb);
	free(joint);
	free(pairs);
	return VEIL_OK;
}

veil_status pl_mutual_information_all(const veil_table *t, size_t label, unsigned bins, const size_t *cols,
                                      size_t n, double *bits, bool *keyish, veil_err *err)
{
	for (size_t i = 0; i < n; i++) {
		bits[i] = 0;
		if (keyish)
			keyish[i] = false;
	}
	if (!t || label >= veil_table_ncols(t))
		return PL_ERR(err, VEIL_E_INVALID, "mutual information: no such column");
	for (size_t i = 0; i < n; i++)
		if (cols[i] >= veil_table_ncols(t))
			return PL_ERR(err, VEIL_E_INVALID, "mutual information: no such column");
	if (bins < 2 || bins > VEIL_PIPELINE_BINS_MAX)
		return PL_ERR(err, VEIL_E_INVALID, "mutual information: bins must be 2 to %d",
		              VEIL_PIPELINE_BINS_MAX);
	size_t rows = veil_table_nrows(t);
	if (rows == 0 || n == 0)
		return VEIL_OK;
	uint32_t *xl = calloc(rows, sizeof *xl), *xc = calloc(rows, sizeof *xc), kl = 0, kc = 0;
	veil_status st = !xl || !xc ? PL_NOMEM(err) : VEIL_OK;
	veil_table_col c;
	if (!st) {
		veil_table_column(t, label, &c);
		st = codes_of(&c, bins, xl, &kl, err); /* the label's codes, once */
	}
	for (size_t i = 0; !st && i < n; i++) {
		veil_table_column(t, cols[i], &c);
		st = codes_of(&c, bins, xc, &kc, err);
		if (!st)
			st = mi_of_codes(xc, kc, xl, kl, rows, &bits[i], err);
		if (!st && keyish)
			keyish[i] = !is_number(c.type) && kc > rows / 2 && rows >= 4;
	}
	free(xl);
	free(xc);
	return st;
}

veil_status veil_mutual_information(const veil_table *t, size_t a, size_t b, unsigned bins, double *bits,
                                    veil_err *err)
{
	return pl_mutual_information_all(t, b, bins, &a, 1, bits, NULL, err);
}
