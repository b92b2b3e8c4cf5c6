/*
 * DP-SGD (Abadi et al., "Deep Learning with Differential Privacy", CCS
 * 2016): Poisson subsampling, per-example clipping of the whole gradient,
 * Gaussian noise. train.c calls these in that order within one step.
 *
 * Sampling: each of the rows is in a step's batch independently with
 * probability q (the sampled Gaussian mechanism the RDP accountant
 * analyses). Rather than one coin per row, the gaps between sampled rows are
 * drawn: the number of rows skipped is geometric, floor(log U / log(1−q))
 * for U uniform in (0, 1], so a step costs O(q·rows), not O(rows). The
 * draws come from the LRNG_SAMPLE stream of the step under dp_seed.
 *
 * Clipping without per-example gradients (Goodfellow, "Efficient
 * Per-Example Gradient Computations", 2015): for a dense layer the
 * example's gradient of W is the outer product aᵢ ⊗ δᵢ of its input
 * activation and its output delta, so ‖∇W‖² = ‖aᵢ‖²·‖δᵢ‖², and ‖∇b‖² =
 * ‖δᵢ‖². Summing over the layers gives the example's whole-gradient norm
 * from quantities the backward pass already has. Scaling the example's
 * deltas in every layer by sᵢ = min(1, C/‖gᵢ‖) then makes the one sgemm per
 * layer (Aᵀ·δ) produce the sum of clipped gradients directly.
 *
 * Noise: N(0, σ²C²) per parameter from the LRNG_NOISE stream of the step,
 * in chunks of 64Ki parameters that each start at a fixed block of the
 * stream, so that a parallel version would draw the same noise. It is
 * drawn on one thread: a step's noise is about a tenth of its work, and
 * drawing it on a second thread while OpenBLAS's idle workers spin for
 * their next product made DP steps slower on two cores, not faster
 * (measured: 0.96 s against 0.77-0.85 s per epoch). The noise is
 * added to the sum, which is then divided by the expected batch size q·rows
 * (= batch_size), as Opacus does for Poisson sampling: dividing by the
 * actual size would make the output depend on it unprotected.
 */
#include "learn_int.h"

#include <math.h>
#include <string.h>

veil_status dp_sample(lrng *g, uint64_t step, size_t rows, double q, lws *ws, const veil_model *m, size_t *n,
                      veil_err *err)
{
	*n = 0;
	lrng_start(g, LRNG_SAMPLE, step);
	size_t k = 0;
	if (q >= 1.0) {
		veil_status st = lws_reserve(ws, m, rows, true, err);
		if (st != VEIL_OK)
			return st;
		for (size_t i = 0; i < rows; i++)
			ws->idx[i] = i;
		*n = rows;
		return VEIL_OK;
	}
	double lq = log1p(-q); /* < 0 */
	size_t i = 0;          /* the next row that may be sampled */
	while (i < rows) {
		double gap = floor(log(lrng_unit(g)) / lq);
		if (!(gap < (double)(rows - i)))
			break;
		i += (size_t)gap;
		if (k == ws->cap) {
			size_t cap = ws->cap + ws->cap / 4 + 16;
			veil_status st = lws_reserve(ws, m, cap < rows ? cap : rows, true, err);
			if (st != VEIL_OK)
				return st;
		}
		ws->idx[k++] = i++;
	}
	*n = k;
	return VEIL_OK;
}

/* Σ a[k]² in 8 running float sums: a fixed order the compiler can
 * vectorise without -ffast-math, so the result does not depend on it. */
static double sumsq(const float *a, size_t n)
{
	float acc[8] = {0};
	size_t k = 0;
	for (; k + 8 <= n; k += 8)
		for (size_t j = 0; j < 8; j++)
			acc[j] += a[k + j] * a[k + j];
	double s = 0.0;
	for (size_t j = 0; j < 8; j++)
		s += acc[j];
	for (; k < n; k++)
		s += (double)a[k] * a[k];
	return s;
}

void dp_norms(const veil_model *m, lws *ws, const float *x, size_t rows)
{
	for (size_t r = 0; r < rows; r++)
		ws->norm2[r] = 0.0;
	for (size_t i = 0; i < m->layers; i++) {
		size_t in = m->in[i], out = m->out[i];
		const float *a = i == 0 ? x : ws->act[i - 1];
		const float *d = ws->delta[i];
		for (size_t r = 0; r < rows; r++)
			ws->norm2[r] += (sumsq(a + r * in, in) + 1.0) * sumsq(d + r * out, out);
	}
}

static void scale_row(float *restrict d, float s, size_t n)
{
	FOR8(k, n, d[k] *= s;);
}

void dp_clip(const veil_model *m, lws *ws, size_t rows, double max_norm)
{
	for (size_t r = 0; r < rows; r++) {
		double norm = sqrt(ws->norm2[r]);
		ws->scale[r] = norm > max_norm ? (float)(max_norm / norm) : 1.0f;
	}
	for (size_t i = 0; i < m->layers; i++) {
		size_t out = m->out[i];
		for (size_t r = 0; r < rows; r++) {
			float s = ws->scale[r];
			if (s == 1.0f)
				continue;
			scale_row(ws->delta[i] + r * out, s, out);
		}
	}
}

/* Noise for grad[first, first + n) from the start of chunk c's keystream. */
static void noise_chunk(lrng *g, uint64_t step, size_t c, float *grad, size_t n, float s, float v)
{
	lrng_start_at(g, LRNG_NOISE, step, (uint32_t)c * DP_NOISE_CHUNK_BLOCKS);
	size_t k = 0;
	while (k < n) {
		if (g->len - g->off < 4)
			lrng_refill(g);
		/* lrng_normal's fast path over the buffer in place, with the
		 * sign as a bit flip: a branch on it would be mispredicted half
		 * the time, which cost more than the rest of the draw. */
		const uint8_t *buf = g->buf;
		size_t off = g->off, end = g->len;
		for (; k < n && end - off >= 4; k++) {
			const uint8_t *p = buf + off;
			uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			             (uint32_t)p[3] << 24;
			off += 4;
			uint32_t i = u & (LRNG_ZIG - 1), j = u >> LRNG_ZIG_SHIFT;
			float x;
			if (j < g->zk[i]) {
				uint32_t bits;
				x = (float)j * g->zw[i];
				memcpy(&bits, &x, 4);
				bits ^= (u & LRNG_ZIG) << (31 - 8); /* bit 8 to the sign bit */
				memcpy(&x, &bits, 4);
			} else {
				g->off = off; /* the slow path draws more from the stream */
				x = lrng_normal_slow(g, u);
				off = g->off;
				end = g->len;
			}
			grad[k] = (grad[k] + s * x) * v;
		}
		g->off = off;
	}
}

void dp_noise(lrng *g, uint64_t step, float *grad, size_t n, double std, double inv)
{
	for (size_t c = 0; c * DP_NOISE_CHUNK < n; c++) {
		size_t lo = c * DP_NOISE_CHUNK, len = n - lo < DP_NOISE_CHUNK ? n - lo : DP_NOISE_CHUNK;
		noise_chunk(g, step, c, grad + lo, len, (float)std, (float)inv);
	}
}
