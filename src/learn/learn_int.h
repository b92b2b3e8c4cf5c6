/*
 * What the training engine's files share (model.c, train.c, dpsgd.c,
 * optim.c, rng.c): the model and trainer layouts, the forward/backward
 * workspace, the counter-based generators and the optimizer state. Not a
 * public header: tests include it to check the pieces one at a time.
 *
 * Layout of a model (veil/learn.h): layers 0..layers-1, layer i maps in[i]
 * inputs to out[i] outputs with W_i (in×out, row-major) at params + w_off[i]
 * and b_i (out) at params + b_off[i] = w_off[i] + in·out; the next layer's
 * W follows its b, so the array is W0 b0 W1 b1 ... with nothing between.
 * Hidden layers apply the spec's activation; the last layer's outputs are
 * logits (softmax over classes, or one sigmoid logit for LOGREG).
 */
#ifndef VEIL_LEARN_INT_H
#define VEIL_LEARN_INT_H

#include "veil/learn.h"

#define LAYERS_MAX (VEIL_LEARN_HIDDEN_MAX + 1)

/* veil_err_set whose value is the constant code itself: the static
 * analyser cannot see into veil_err_set, and without this it follows
 * failure paths as if they could return VEIL_OK with *out still NULL. */
#define LERR(err, code, ...) (veil_err_set((err), (code), __VA_ARGS__), (code))

/* Runs the statements in __VA_ARGS__ for i = 0..n-1: in blocks of 8, then
 * the rest. gcc at -O2 (its "very cheap" cost model) vectorises only loops
 * whose trip count is a known multiple of the vector width, which the
 * inner loop here is, and clang vectorises it too; a plain loop over n
 * stays scalar under gcc. Pointers the body writes must be restrict. The
 * order of operations per element is the plain loop's, so results do not
 * depend on the compiler's choice. */
#define FOR8(i, n, ...)                                                                                      \
	do {                                                                                                 \
		size_t n8_ = (n) / 8 * 8, i;                                                                 \
		for (size_t b8_ = 0; b8_ < n8_; b8_ += 8)                                                    \
			for (size_t j8_ = 0; j8_ < 8; j8_++) {                                               \
				i = b8_ + j8_;                                                               \
				__VA_ARGS__                                                                  \
			}                                                                                    \
		for (i = n8_; i < (n); i++) {                                                                \
			__VA_ARGS__                                                                          \
		}                                                                                            \
	} while (0)

struct veil_model {
	veil_model_spec spec;
	size_t layers;
	size_t in[LAYERS_MAX], out[LAYERS_MAX];
	size_t w_off[LAYERS_MAX], b_off[LAYERS_MAX];
	size_t n_params;
	float *params; /* n_params floats, 64-byte aligned; wiped on free */
};

/* ---- generators (rng.c) ----
 * Every random choice of training comes from AES-256-CTR keystream: the key
 * is dp_seed (DP sampling and noise) or SHA-256 of the 64-bit seed
 * (initialisation and shuffling), and the 16-byte counter block is
 * domain (4 bytes, big-endian) || index (8) || block counter (4), so each
 * (domain, index) pair (e.g. NOISE, step 812) is its own stream, reachable
 * without generating what comes before it. That is what makes a resumed run
 * exact without recording how far any generator had got. */
enum {
	LRNG_INIT = 1,    /* index 0: the parameters, layer by layer */
	LRNG_SHUFFLE = 2, /* index epoch: the non-private permutation */
	LRNG_SAMPLE = 3,  /* index step: the Poisson sample of a DP step */
	LRNG_NOISE = 4,   /* index step: the Gaussian noise of a DP step */
};
#define LRNG_KEY_LEN   32
#define LRNG_BUF       16384 /* keystream bytes per refill */
#define LRNG_ZIG       256   /* ziggurat layers: bits 0-7 of a draw; bit 8 is the sign */
#define LRNG_ZIG_SHIFT 9     /* the 23-bit magnitude is bits 9-31 */

typedef struct lrng {
	void *ctx;    /* EVP_CIPHER_CTX, keyed once */
	uint8_t *buf; /* LRNG_BUF bytes of keystream */
	size_t off, len;
	bool failed; /* the cipher failed: output is garbage, callers check lrng_ok */
	/* Marsaglia–Tsang ziggurat tables (23-bit magnitudes) */
	uint32_t zk[LRNG_ZIG];
	float zw[LRNG_ZIG];
	double zf[LRNG_ZIG];
} lrng;

veil_status lrng_new(lrng *g, const uint8_t key[LRNG_KEY_LEN], veil_err *err) VEIL_MUST_CHECK;
void lrng_free(lrng *g);
/* The key of the non-secret seed's generator. */
veil_status lrng_seed_key(uint64_t seed, uint8_t key[LRNG_KEY_LEN], veil_err *err) VEIL_MUST_CHECK;
/* Starts the stream (domain, index) at 16-byte block `block` (0: its first byte). */
void lrng_start_at(lrng *g, uint32_t domain, uint64_t index, uint32_t block);
static inline void lrng_start(lrng *g, uint32_t domain, uint64_t index)
{
	lrng_start_at(g, domain, index, 0);
}
void lrng_refill(lrng *g);
static inline bool lrng_ok(const lrng *g)
{
	return !g->failed;
}
static inline uint32_t lrng_u32(lrng *g)
{
	if (g->len - g->off < 4)
		lrng_refill(g);
	const uint8_t *p = g->buf + g->off;
	g->off += 4;
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t lrng_u64(lrng *g)
{
	uint64_t lo = lrng_u32(g);
	return lo | (uint64_t)lrng_u32(g) << 32;
}
/* Uniform in (0, 1] with 53 random bits: safe to take the log of. */
static inline double lrng_unit(lrng *g)
{
	return (double)((lrng_u64(g) >> 11) + 1) * 0x1p-53;
}
/* Uniform integer in [0, n), n ≥ 1, without modulo bias. */
uint64_t lrng_below(lrng *g, uint64_t n);
/* Standard normal (ziggurat). */
float lrng_normal_slow(lrng *g, uint32_t u);
static inline float lrng_normal(lrng *g)
{
	uint32_t u = lrng_u32(g);
	uint32_t i = u & (LRNG_ZIG - 1), j = u >> LRNG_ZIG_SHIFT;
	if (j < g->zk[i]) {
		float x = (float)j * g->zw[i];
		return (u & LRNG_ZIG) ? -x : x;
	}
	return lrng_normal_slow(g, u);
}
/* out[0..n) = a uniform permutation of 0..n-1 (Fisher–Yates). */
void lrng_permute(lrng *g, size_t *out, size_t n);

/* ---- forward and backward (model.c) ---- */
typedef struct lws {
	size_t cap;                   /* rows every buffer below holds */
	size_t width[LAYERS_MAX + 1]; /* floats per row: of x, then of act[i] and delta[i] */
	bool train;                   /* deltas and norms allocated */
	float *x;                     /* cap × inputs: the gathered batch */
	int32_t *y;                   /* cap labels */
	size_t *idx;                  /* cap row numbers of the batch */
	float *act[LAYERS_MAX]; /* cap × out[i]: layer i's outputs (the last: logits, then probabilities) */
	float *delta[LAYERS_MAX]; /* cap × out[i]: ∂loss/∂(pre-activation) of layer i, per example */
	double *norm2;            /* cap: per-example squared gradient norms (DP) */
	float *scale;             /* cap: per-example clipping factors (DP) */
} lws;

veil_status model_alloc(const veil_model_spec *spec, veil_model **out, veil_err *err) VEIL_MUST_CHECK;
/* Reserves room for `rows` examples (keeps what is there when it is enough). */
veil_status lws_reserve(lws *ws, const veil_model *m, size_t rows, bool train, veil_err *err) VEIL_MUST_CHECK;
void lws_free(lws *ws);
/* act[i] for every layer; x is rows × inputs (rows may be 0). */
void model_forward(const veil_model *m, const float *params, lws *ws, const float *x, size_t rows);
/* Turns the logits in act[last] into probabilities (rows × classes for
 * softmax; one P(class 1) per row for LOGREG) and, with y, returns the
 * summed loss; with train, writes the output delta (p − onehot(y))·scale.
 * *correct counts the rows whose most likely class is y. */
double model_output(const veil_model *m, lws *ws, const int32_t *y, size_t rows, bool train, float scale,
                    size_t *correct);
/* Backpropagates the output delta to every hidden layer (delta[i]). */
void model_backprop(const veil_model *m, const float *params, lws *ws, size_t rows);
/* Summed gradient: W_i = A_{i-1}ᵀ·delta_i (sgemm) and b_i = column sums. */
void model_grads(const veil_model *m, const lws *ws, const float *x, size_t rows, float *grad);
/* VEIL_E_INVALID naming the row (first + r) of the first label outside 0..classes-1. */
veil_status model_check_labels(const veil_model *m, const int32_t *y, size_t rows, size_t first,
                               veil_err *err) VEIL_MUST_CHECK;
/* Parameters from LRNG_INIT of g: He or Glorot uniform weights, zero biases. */
void model_init_params(veil_model *m, lrng *g);

/* ---- DP-SGD (dpsgd.c) ---- */
/* Poisson sample of 0..rows-1 with rate q into ws->idx (grown as needed);
 * LRNG_SAMPLE stream `step` of g. */
veil_status dp_sample(lrng *g, uint64_t step, size_t rows, double q, lws *ws, const veil_model *m, size_t *n,
                      veil_err *err) VEIL_MUST_CHECK;
/* Per-example squared norms of the whole gradient into ws->norm2, without
 * forming per-example gradients (‖a‖²·‖δ‖² + ‖δ‖² per dense layer). */
void dp_norms(const veil_model *m, lws *ws, const float *x, size_t rows);
/* Scales each example's deltas by min(1, C/‖g‖): clipping. */
void dp_clip(const veil_model *m, lws *ws, size_t rows, double max_norm);
/* grad = (grad + N(0, std²)) · inv, noise from LRNG_NOISE stream `step`:
 * chunk c of DP_NOISE_CHUNK parameters from block c·DP_NOISE_CHUNK_BLOCKS of
 * it, so that chunks could be drawn in any order or in parallel with the
 * same result (dpsgd.c says why they are not, today). */
#define DP_NOISE_CHUNK        ((size_t)1 << 16)
#define DP_NOISE_CHUNK_BLOCKS ((uint32_t)1 << 20) /* 16 MiB of keystream per chunk: ample */
void dp_noise(lrng *g, uint64_t step, float *grad, size_t n, double std, double inv);

/* ---- optimizers (optim.c) ---- */
typedef struct lopt {
	veil_optimizer kind;
	size_t n;
	float momentum, weight_decay, beta1, beta2, eps;
	size_t n_state; /* arrays of n floats in state: 0, 1 (momentum) or 2 (Adam m, v) */
	float *state;
	uint64_t t; /* updates applied (Adam's bias correction) */
} lopt;

veil_status lopt_init(lopt *o, const veil_train_config *cfg, size_t n, veil_err *err) VEIL_MUST_CHECK;
void lopt_free(lopt *o);
/* Applies grad to params with learning rate lr. First checks, without
 * writing anything, that every new parameter and state value is finite:
 * returns false (nothing changed) when one is not. */
bool lopt_step(lopt *o, float *params, const float *grad, double lr);
/* The learning rate of the step after `step` steps (0-based epoch). */
double lr_at(const veil_train_config *cfg, uint64_t step, size_t epoch, uint64_t total_steps);

/* ---- the trainer (train.c; its invariants are listed there) ---- */
#define NO_EPOCH SIZE_MAX

struct veil_trainer {
	veil_model_spec spec;
	veil_train_config cfg; /* dp_seed zeroed here: the secret is in dp_seed below */
	size_t rows;
	veil_model *model;
	veil_model *best; /* the parameters of the best validation loss, once validated */
	lopt opt;
	lws ws;
	float *grad;
	size_t *perm; /* non-private: the permutation of perm_epoch */
	size_t perm_epoch;
	lrng seed_rng;
	lrng dp_rng;      /* DP sampling and noise (dp_seed's key) */
	uint8_t *dp_seed; /* secure memory, DP only */
	uint64_t spe, total_steps;
	uint64_t step, step_in_epoch;
	size_t epoch;
	bool has_best, stopped;
	double best_loss;
	size_t best_epoch, bad_epochs;
	size_t val_epoch; /* epochs done at the last validation; NO_EPOCH before any */
};

#endif
