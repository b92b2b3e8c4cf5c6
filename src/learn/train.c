/*
 * The trainer (veil/learn.h): configuration checks, the training step,
 * validation with early stopping, and checkpoints
 * (docs/formats/checkpoint.md).
 *
 * State and invariants. A trainer is at step `step` (steps done), in epoch
 * `epoch` (0-based), `step_in_epoch` steps into it, with
 *  1. step = epoch·spe + step_in_epoch and step_in_epoch < spe, where spe =
 *     ceil(rows / batch_size) is the steps per epoch, with and without DP;
 *  2. the optimizer has applied exactly `step` updates;
 *  3. it is done when epoch = epochs (all ran) or early stopping said stop;
 *     a done trainer takes no more steps;
 *  4. every random choice of step s is a function of (seed, epoch) for the
 *     non-private shuffle and of (dp_seed, s) for the DP sample and noise
 *     (learn_int.h), so the counters above are the generators' positions
 *     and a checkpoint of them, the parameters and the optimizer state
 *     resumes exactly;
 *  5. a step either completes (counters advance by one) or changes nothing:
 *     a non-finite loss is found before any update and a non-finite update
 *     before it is written (optim.c), both as VEIL_E_DIVERGED.
 *
 *      new/load ──► [training] ──step──► [training] ... ──► [done]
 *                        │ epoch end: validate (loss, best params,
 *                        │ patience) ──► [done] when patience runs out
 *                        └─ step error: unchanged, still [training]
 *
 * Non-private steps take the epoch's permutation of the rows in slices of
 * batch_size (the last may be short) and average the gradient over the
 * slice. DP steps take a Poisson sample of rate q = batch_size / rows
 * (dpsgd.c), clip, sum, add noise and divide by batch_size.
 */
#include "learn_int.h"

#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "veil/crypto.h"

#define EPOCHS_MAX 100000u

void veil_train_config_defaults(veil_train_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->optimizer = VEIL_OPT_SGD;
	cfg->schedule = VEIL_SCHED_CONSTANT;
	cfg->beta1 = 0.9f;
	cfg->beta2 = 0.999f;
	cfg->adam_eps = 1e-8f;
	cfg->step_epochs = 1;
	cfg->step_gamma = 0.1f;
}

static bool fin(double v)
{
	return isfinite(v) != 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

veil_status veil_train_config_check(const veil_train_config *cfg, size_t rows, veil_err *err)
{
	if (!cfg)
		return LERR(err, VEIL_E_INVALID, "no training config");
	if (rows == 0)
		return LERR(err, VEIL_E_INVALID, "no training rows");
	if (cfg->epochs < 1 || cfg->epochs > EPOCHS_MAX)
		return LERR(err, VEIL_E_INVALID, "epochs %zu: must be 1..%u", cfg->epochs, EPOCHS_MAX);
	if (cfg->batch_size < 1)
		return LERR(err, VEIL_E_INVALID, "batch_size must be at least 1");
	if (cfg->batch_size > rows) {
		veil_err_set(err, VEIL_E_INVALID, "batch_size %zu is larger than the %zu training rows",
		             cfg->batch_size, rows);
		return veil_err_hint(err, "use a batch_size of at most %zu", rows);
	}
	if (cfg->optimizer != VEIL_OPT_SGD && cfg->optimizer != VEIL_OPT_ADAM)
		return LERR(err, VEIL_E_INVALID, "optimizer %d is not sgd or adam", (int)cfg->optimizer);
	if (!fin(cfg->lr) || cfg->lr <= 0.0f)
		return LERR(err, VEIL_E_INVALID, "lr must be a finite number > 0");
	if (!fin(cfg->weight_decay) || cfg->weight_decay < 0.0f)
		return LERR(err, VEIL_E_INVALID, "weight_decay must be a finite number >= 0");
	if (cfg->optimizer == VEIL_OPT_SGD &&
	    (!fin(cfg->momentum) || cfg->momentum < 0.0f || cfg->momentum >= 1.0f))
		return LERR(err, VEIL_E_INVALID, "momentum must be in [0, 1)");
	if (cfg->optimizer == VEIL_OPT_ADAM) {
		if (!fin(cfg->beta1) || !fin(cfg->beta2) || cfg->beta1 < 0.0f || cfg->beta1 >= 1.0f ||
		    cfg->beta2 < 0.0f || cfg->beta2 >= 1.0f)
			return LERR(err, VEIL_E_INVALID, "Adam's beta1 and beta2 must be in [0, 1)");
		if (!fin(cfg->adam_eps) || cfg->adam_eps <= 0.0f)
			return LERR(err, VEIL_E_INVALID, "Adam's eps must be a finite number > 0");
	}
	switch (cfg->schedule) {
	case VEIL_SCHED_CONSTANT:
	case VEIL_SCHED_COSINE:
		break;
	case VEIL_SCHED_STEP:
		if (cfg->step_epochs < 1)
			return LERR(err, VEIL_E_INVALID, "the step schedule needs step_epochs >= 1");
		if (!fin(cfg->step_gamma) || cfg->step_gamma <= 0.0f || cfg->step_gamma > 1.0f)
			return LERR(err, VEIL_E_INVALID, "the step schedule's gamma must be in (0, 1]");
		break;
	default:
		return LERR(err, VEIL_E_INVALID, "schedule %d is not constant, step or cosine",
		            (int)cfg->schedule);
	}
	if (cfg->dp) {
		if (!fin(cfg->noise_multiplier) || cfg->noise_multiplier <= 0.0)
			return LERR(err, VEIL_E_INVALID,
			            "noise_multiplier must be a finite number > 0 under DP");
		if (!fin(cfg->max_grad_norm) || cfg->max_grad_norm <= 0.0)
			return LERR(err, VEIL_E_INVALID,
			            "max_grad_norm must be a finite number > 0 under DP");
		if (all_zero(cfg->dp_seed, sizeof cfg->dp_seed)) {
			veil_err_set(err, VEIL_E_INVALID, "dp_seed is all zero");
			return veil_err_hint(err, "draw dp_seed with veil_random inside the worker");
		}
	}
	return VEIL_OK;
}

/* Invariants 1-3 of the file's comment, in debug builds (assert). */
static void check_invariants(const veil_trainer *t)
{
	assert(t->step_in_epoch < t->spe);                                                    /* 1 */
	assert(t->step == (uint64_t)t->epoch * t->spe + t->step_in_epoch);                    /* 1 */
	assert(t->opt.t == t->step);                                                          /* 2 */
	assert(t->epoch <= t->cfg.epochs && (t->epoch < t->cfg.epochs || !t->step_in_epoch)); /* 3 */
	assert(!t->has_best || (t->best && t->val_epoch != NO_EPOCH));
	(void)t;
}

/* ---- life cycle ---- */

void veil_trainer_free(veil_trainer *t)
{
	if (!t)
		return;
	if (t->grad && t->model) {
		/* the noisy gradient holds noise: a DP secret until applied */
		veil_wipe(t->grad, t->model->n_params * sizeof(float));
	}
	free(t->grad);
	veil_model_free(t->model);
	veil_model_free(t->best);
	lopt_free(&t->opt);
	lws_free(&t->ws);
	if (t->perm) {
		veil_wipe(t->perm, t->rows * sizeof *t->perm);
		free(t->perm);
	}
	lrng_free(&t->seed_rng);
	lrng_free(&t->dp_rng);
	veil_secure_free(t->dp_seed, VEIL_LEARN_DP_SEED_LEN);
	veil_wipe(t, sizeof *t);
	free(t);
}

/* A trainer at step 0; with init the parameters are initialised from the
 * seed, else they are zero (load fills them). dp_seed is taken from
 * `dp_seed` (the config's, or a checkpoint's). */
static veil_status trainer_create(const veil_model_spec *spec, const veil_train_config *cfg, size_t rows,
                                  const uint8_t *dp_seed, bool init, veil_trainer **out, veil_err *err)
{
	*out = NULL;
	if (!spec || !cfg)
		return LERR(err, VEIL_E_INVALID, "no model spec or training config");
	veil_status st = veil_model_spec_check(spec, err);
	if (st == VEIL_OK)
		st = veil_train_config_check(cfg, rows, err);
	if (st != VEIL_OK)
		return st;
	veil_trainer *t = calloc(1, sizeof *t);
	if (!t)
		return LERR(err, VEIL_E_NOMEM, "out of memory for a trainer");
	t->spec = *spec;
	t->cfg = *cfg;
	memset(t->cfg.dp_seed, 0, sizeof t->cfg.dp_seed);
	t->rows = rows;
	t->spe = (rows + cfg->batch_size - 1) / cfg->batch_size;
	t->total_steps = t->spe * cfg->epochs;
	t->perm_epoch = NO_EPOCH;
	t->val_epoch = NO_EPOCH;
	uint8_t key[LRNG_KEY_LEN];
	st = init ? veil_model_new(spec, cfg->seed, &t->model, err) : model_alloc(spec, &t->model, err);
	if (st == VEIL_OK)
		st = lopt_init(&t->opt, cfg, t->model->n_params, err);
	if (st == VEIL_OK && !(t->grad = calloc(t->model->n_params, sizeof(float))))
		st = LERR(err, VEIL_E_NOMEM, "out of memory for the gradient");
	if (st == VEIL_OK && !cfg->dp && !(t->perm = malloc(rows * sizeof *t->perm)))
		st = LERR(err, VEIL_E_NOMEM, "out of memory for the permutation of %zu rows", rows);
	if (st == VEIL_OK)
		st = lrng_seed_key(cfg->seed, key, err);
	if (st == VEIL_OK)
		st = lrng_new(&t->seed_rng, key, err);
	veil_wipe(key, sizeof key);
	if (st == VEIL_OK && cfg->dp) {
		if (!(t->dp_seed = veil_secure_alloc(VEIL_LEARN_DP_SEED_LEN)))
			st = LERR(err, VEIL_E_NOMEM, "out of secure memory for dp_seed");
		else {
			memcpy(t->dp_seed, dp_seed, VEIL_LEARN_DP_SEED_LEN);
			st = lrng_new(&t->dp_rng, t->dp_seed, err);
		}
	}
	if (st == VEIL_OK) {
		/* Room for a full batch; a Poisson batch rarely passes its mean
		 * by more than a few standard deviations, and grows when it does. */
		size_t cap = cfg->batch_size;
		if (cfg->dp)
			cap += 6 * (size_t)sqrt((double)cap) + 16;
		st = lws_reserve(&t->ws, t->model, cap < rows ? cap : rows, true, err);
	}
	if (st != VEIL_OK) {
		veil_trainer_free(t);
		return st;
	}
	*out = t;
	return VEIL_OK;
}

veil_status veil_trainer_new(const veil_model_spec *spec, const veil_train_config *cfg, size_t train_rows,
                             veil_trainer **out, veil_err *err)
{
	if (!out)
		return LERR(err, VEIL_E_INVALID, "no place for the trainer");
	return trainer_create(spec, cfg, train_rows, cfg ? cfg->dp_seed : NULL, true, out, err);
}

uint64_t veil_trainer_steps_per_epoch(const veil_trainer *t)
{
	return t->spe;
}

uint64_t veil_trainer_steps_done(const veil_trainer *t)
{
	return t->step;
}

bool veil_trainer_done(const veil_trainer *t)
{
	return t->stopped || t->epoch >= t->cfg.epochs;
}

double veil_trainer_lr(const veil_trainer *t)
{
	return lr_at(&t->cfg, t->step, t->epoch, t->total_steps);
}

const veil_model *veil_trainer_model(const veil_trainer *t)
{
	return t->has_best ? t->best : t->model;
}

void veil_learn_set_threads(size_t n)
{
	int k = n ? (n > 4096 ? 4096 : (int)n) : openblas_get_num_procs();
	openblas_set_num_threads(k);
}

/* ---- one step ---- */

static veil_status diverged(const veil_trainer *t, const char *what, veil_err *err)
{
	veil_err_set(err, VEIL_E_DIVERGED, "training diverged at step %llu (epoch %zu): %s",
	             (unsigned long long)t->step + 1, t->epoch + 1, what);
	return veil_err_hint(err, "lower the learning rate%s; the state is the one before this step",
	                     t->cfg.dp ? " or max_grad_norm" : "");
}

/* The rows of this step in ws->idx (DP: a Poisson sample) and their count. */
static veil_status select_batch(veil_trainer *t, size_t *n, const size_t **idx, veil_err *err)
{
	if (t->cfg.dp) {
		double q = (double)t->cfg.batch_size / (double)t->rows;
		veil_status st = dp_sample(&t->dp_rng, t->step, t->rows, q, &t->ws, t->model, n, err);
		*idx = t->ws.idx;
		return st;
	}
	if (t->perm_epoch != t->epoch) {
		lrng_start(&t->seed_rng, LRNG_SHUFFLE, t->epoch);
		lrng_permute(&t->seed_rng, t->perm, t->rows);
		t->perm_epoch = t->epoch;
	}
	size_t start = (size_t)t->step_in_epoch * t->cfg.batch_size;
	*n = t->rows - start < t->cfg.batch_size ? t->rows - start : t->cfg.batch_size;
	*idx = t->perm + start;
	return VEIL_OK;
}

veil_status veil_trainer_step(veil_trainer *t, const veil_matrix *train, veil_step_info *info, veil_err *err)
{
	if (!t || !train || !info)
		return LERR(err, VEIL_E_INVALID, "step: no trainer, data or info");
	memset(info, 0, sizeof *info);
	if (veil_trainer_done(t))
		return LERR(err, VEIL_E_INVALID, "training is finished (%s)",
		            t->stopped ? "early stopping" : "every epoch ran");
	if (train->rows != t->rows || train->cols != t->spec.inputs || !train->x || !train->y)
		return LERR(err, VEIL_E_INVALID,
		            "the training data is %zu × %zu; the trainer was made for %zu × %zu", train->rows,
		            train->cols, t->rows, t->spec.inputs);
	size_t n, cols = train->cols;
	const size_t *idx;
	veil_status st = select_batch(t, &n, &idx, err);
	if (st == VEIL_OK)
		st = lws_reserve(&t->ws, t->model, n, true, err);
	if (st != VEIL_OK)
		return st;
	if (t->cfg.dp)
		idx = t->ws.idx; /* the reserve may have moved it */
	lws *ws = &t->ws;
	for (size_t r = 0; r < n; r++) {
		memcpy(ws->x + r * cols, train->x + idx[r] * cols, cols * sizeof(float));
		ws->y[r] = train->y[idx[r]];
	}
	st = model_check_labels(t->model, ws->y, n, 0, err);
	if (st != VEIL_OK)
		return LERR(err, VEIL_E_INVALID, "a training label is outside 0..%zu", t->spec.classes - 1);

	veil_model *m = t->model;
	model_forward(m, m->params, ws, ws->x, n);
	float scale = t->cfg.dp ? 1.0f : 1.0f / (float)(n ? n : 1);
	double loss = model_output(m, ws, ws->y, n, true, scale, NULL);
	if (!fin(loss))
		return diverged(t, "the loss is not finite", err); /* invariant 5: nothing changed yet */
	model_backprop(m, m->params, ws, n);
	if (t->cfg.dp) {
		dp_norms(m, ws, ws->x, n);
		dp_clip(m, ws, n, t->cfg.max_grad_norm);
	}
	model_grads(m, ws, ws->x, n, t->grad);
	if (t->cfg.dp) {
		dp_noise(&t->dp_rng, t->step, t->grad, m->n_params,
		         t->cfg.noise_multiplier * t->cfg.max_grad_norm, 1.0 / (double)t->cfg.batch_size);
		if (!lrng_ok(&t->dp_rng))
			return LERR(err, VEIL_E_CRYPTO, "the DP generator failed");
	}
	if (!lopt_step(&t->opt, m->params, t->grad, veil_trainer_lr(t)))
		return diverged(t, "the update is not finite", err); /* invariant 5: checked before written */

	t->step++;
	info->epoch = t->epoch;
	info->step = t->step;
	info->batch = n;
	info->loss = n ? loss / (double)n : 0.0;
	if (++t->step_in_epoch == t->spe) {
		t->step_in_epoch = 0;
		t->epoch++;
		info->epoch_end = true;
	}
	info->done = veil_trainer_done(t);
	check_invariants(t);
	return VEIL_OK;
}

veil_status veil_trainer_validate(veil_trainer *t, const veil_matrix *valid, double *loss, double *accuracy,
                                  veil_err *err)
{
	if (!t)
		return LERR(err, VEIL_E_INVALID, "validate: no trainer");
	if (t->step == 0 || t->step_in_epoch != 0)
		return LERR(err, VEIL_E_INVALID, "validation runs at the end of an epoch");
	double l, a;
	veil_status st = veil_model_loss(t->model, valid, &l, &a, err);
	if (st != VEIL_OK)
		return st;
	if (loss)
		*loss = l;
	if (accuracy)
		*accuracy = a;
	if (!fin(l)) {
		/* a model so far off that its loss overflows: as a step would */
		veil_err_set(err, VEIL_E_DIVERGED, "the validation loss after epoch %zu is not finite",
		             t->epoch);
		return veil_err_hint(err, "lower the learning rate; the last checkpoint is still good");
	}
	if (t->val_epoch == t->epoch)
		return VEIL_OK; /* this epoch was judged already */
	t->val_epoch = t->epoch;
	if (!t->has_best || l < t->best_loss) {
		if (!t->best) {
			veil_model *b = NULL;
			st = model_alloc(&t->spec, &b, err);
			if (st != VEIL_OK)
				return st;
			if (!b)
				return LERR(err, VEIL_E_INTERNAL, "no best model");
			t->best = b;
		}
		memcpy(t->best->params, t->model->params, t->model->n_params * sizeof(float));
		t->has_best = true;
		t->best_loss = l;
		t->best_epoch = t->epoch;
		t->bad_epochs = 0;
	} else if (t->cfg.patience && ++t->bad_epochs >= t->cfg.patience) {
		t->stopped = true;
	}
	return VEIL_OK;
}

/* ---- checkpoints (docs/formats/checkpoint.md) ---- */

#define CK_MAGIC   "VEILCKPT"
#define CK_VERSION 1u
#define CK_HEADER  208
#define CK_F_DP    1u
#define CK_F_BEST  2u
#define CK_F_STOP  4u
#define CK_NONE    UINT64_MAX

static void put_le32(uint8_t *p, uint32_t v)
{
	for (size_t i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static void put_le64(uint8_t *p, uint64_t v)
{
	for (size_t i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}
static uint32_t f32_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}
static uint64_t f64_bits(double d)
{
	uint64_t u;
	memcpy(&u, &d, 8);
	return u;
}
static double bits_f64(uint64_t u)
{
	double d;
	memcpy(&d, &u, 8);
	return d;
}

/* A digest's canonical input: fixed-width little-endian fields. */
typedef struct canon {
	uint8_t b[256];
	size_t n;
} canon;
static void c32(canon *c, uint32_t v)
{
	put_le32(c->b + c->n, v);
	c->n += 4;
}
static void c64(canon *c, uint64_t v)
{
	put_le64(c->b + c->n, v);
	c->n += 8;
}

/* Fields that do not affect the model are left out (a tanh MLP's
 * tempered-sigmoid settings, Adam's betas under SGD, dp_seed). */
static veil_status spec_digest(const veil_model_spec *s, uint8_t out[VEIL_SHA256_LEN], veil_err *err)
{
	canon c = {.n = 0};
	memcpy(c.b, "veil-spec-v1", 12);
	c.n = 12;
	c32(&c, (uint32_t)s->kind);
	c64(&c, s->inputs);
	c64(&c, s->classes);
	if (s->kind == VEIL_MODEL_MLP) {
		c64(&c, s->n_hidden);
		for (size_t i = 0; i < s->n_hidden; i++)
			c64(&c, s->hidden[i]);
		c32(&c, (uint32_t)s->activation);
		if (s->activation == VEIL_ACT_TEMPERED_SIGMOID) {
			c32(&c, f32_bits(s->ts_scale));
			c32(&c, f32_bits(s->ts_temperature));
			c32(&c, f32_bits(s->ts_offset));
		}
	}
	return veil_sha256(c.b, c.n, out, err);
}

static veil_status config_digest(const veil_train_config *g, size_t rows, uint8_t out[VEIL_SHA256_LEN],
                                 veil_err *err)
{
	canon c = {.n = 0};
	memcpy(c.b, "veil-train-v1", 13);
	c.n = 13;
	c64(&c, rows);
	c64(&c, g->epochs);
	c64(&c, g->batch_size);
	c32(&c, (uint32_t)g->optimizer);
	c32(&c, f32_bits(g->lr));
	c32(&c, f32_bits(g->weight_decay));
	if (g->optimizer == VEIL_OPT_SGD) {
		c32(&c, f32_bits(g->momentum));
	} else {
		c32(&c, f32_bits(g->beta1));
		c32(&c, f32_bits(g->beta2));
		c32(&c, f32_bits(g->adam_eps));
	}
	c32(&c, (uint32_t)g->schedule);
	if (g->schedule == VEIL_SCHED_STEP) {
		c64(&c, g->step_epochs);
		c32(&c, f32_bits(g->step_gamma));
	}
	c64(&c, g->seed);
	c64(&c, g->patience);
	c32(&c, g->dp ? 1u : 0u);
	if (g->dp) {
		c64(&c, f64_bits(g->noise_multiplier));
		c64(&c, f64_bits(g->max_grad_norm));
	}
	return veil_sha256(c.b, c.n, out, err);
}

static void put_floats(uint8_t *p, const float *v, size_t n)
{
	for (size_t k = 0; k < n; k++)
		put_le32(p + 4 * k, f32_bits(v[k]));
}

/* Reads n floats; false when one is not finite. */
static bool get_floats(const uint8_t *p, float *v, size_t n)
{
	int bad = 0;
	for (size_t k = 0; k < n; k++) {
		uint32_t u = get_le32(p + 4 * k);
		memcpy(&v[k], &u, 4);
		bad |= (u & 0x7f800000u) == 0x7f800000u; /* exponent all ones: inf or NaN */
	}
	return bad == 0;
}

static size_t ck_len(size_t n_params, bool best, size_t n_state)
{
	return CK_HEADER + 4 * n_params * (1 + (best ? 1 : 0) + n_state) + VEIL_SHA256_LEN;
}

veil_status veil_trainer_save(const veil_trainer *t, veil_buf *out, veil_err *err)
{
	if (!t || !out)
		return LERR(err, VEIL_E_INVALID, "save: no trainer or buffer");
	size_t n = t->model->n_params, len = ck_len(n, t->has_best, t->opt.n_state);
	veil_status st = veil_buf_reserve(out, len, err);
	if (st != VEIL_OK)
		return st;
	uint8_t *p = out->data + out->len;
	memset(p, 0, CK_HEADER);
	memcpy(p, CK_MAGIC, sizeof CK_MAGIC - 1); /* 8 bytes, no NUL: the format's magic */
	put_le32(p + 8, CK_VERSION);
	put_le32(p + 12,
	         (t->cfg.dp ? CK_F_DP : 0) | (t->has_best ? CK_F_BEST : 0) | (t->stopped ? CK_F_STOP : 0));
	st = spec_digest(&t->spec, p + 16, err);
	if (st == VEIL_OK)
		st = config_digest(&t->cfg, t->rows, p + 48, err);
	if (st != VEIL_OK)
		return st;
	put_le64(p + 80, t->rows);
	put_le64(p + 88, t->step);
	put_le64(p + 96, t->epoch);
	put_le64(p + 104, t->step_in_epoch);
	put_le64(p + 112, t->opt.t);
	put_le64(p + 120, f64_bits(veil_trainer_lr(t)));
	put_le64(p + 128, f64_bits(t->has_best ? t->best_loss : 0.0));
	put_le64(p + 136, t->has_best ? t->best_epoch : 0);
	put_le64(p + 144, t->bad_epochs);
	put_le64(p + 152, t->val_epoch == NO_EPOCH ? CK_NONE : t->val_epoch);
	put_le64(p + 160, n);
	put_le32(p + 168, (uint32_t)t->opt.n_state);
	if (t->cfg.dp)
		memcpy(p + 176, t->dp_seed, VEIL_LEARN_DP_SEED_LEN);
	uint8_t *q = p + CK_HEADER;
	put_floats(q, t->model->params, n);
	q += 4 * n;
	if (t->has_best) {
		put_floats(q, t->best->params, n);
		q += 4 * n;
	}
	put_floats(q, t->opt.state, n * t->opt.n_state);
	q += 4 * n * t->opt.n_state;
	st = veil_sha256(p, (size_t)(q - p), q, err);
	if (st != VEIL_OK) {
		veil_wipe(p, len);
		return st;
	}
	out->len += len;
	return VEIL_OK;
}

/* The header's counters against the config (invariants 1-3 of the file's
 * comment); the message names the first that fails. */
static const char *ck_counters(const veil_trainer *t, const uint8_t *p, uint32_t flags)
{
	uint64_t step = get_le64(p + 88), epoch = get_le64(p + 96), sie = get_le64(p + 104);
	uint64_t val = get_le64(p + 152), bad = get_le64(p + 144), best_epoch = get_le64(p + 136);
	double best = bits_f64(get_le64(p + 128)), lr = bits_f64(get_le64(p + 120));
	if (get_le64(p + 80) != t->rows)
		return "its training row count differs";
	if (epoch > t->cfg.epochs || sie >= t->spe || (epoch == t->cfg.epochs && sie != 0))
		return "its epoch counters are out of range";
	if (step != epoch * t->spe + sie)
		return "its step count disagrees with its epoch counters";
	if (get_le64(p + 112) != step)
		return "its optimizer has not applied one update per step";
	if (val != CK_NONE && (val > epoch || val == 0))
		return "its last validation is after its epoch";
	if ((flags & CK_F_BEST) && (val == CK_NONE || !fin(best) || best_epoch == 0 || best_epoch > val))
		return "its best validation state is inconsistent";
	if (!(flags & CK_F_BEST) &&
	    (val != CK_NONE || get_le64(p + 128) != 0 || best_epoch != 0)) /* not −0 */
		return "it has a validation without a best state";
	if (bad > t->cfg.epochs || (val != CK_NONE && bad > val))
		return "its count of epochs without improvement is out of range";
	if ((flags & CK_F_STOP) && (t->cfg.patience == 0 || bad < t->cfg.patience))
		return "it says early stopping without the patience running out";
	if (!(flags & CK_F_STOP) && t->cfg.patience && bad >= t->cfg.patience)
		return "its patience ran out but it did not stop";
	double want = lr_at(&t->cfg, step, (size_t)epoch, t->total_steps);
	if (!fin(lr) || fabs(lr - want) > 1e-9 * fabs(want))
		return "its learning rate is not the schedule's";
	return NULL;
}

static veil_status corrupt(veil_err *err, const char *what)
{
	veil_err_set(err, VEIL_E_CORRUPT, "checkpoint: %s", what);
	return veil_err_hint(err, "the checkpoint is damaged; resume from an earlier one or start again");
}

veil_status veil_trainer_load(const veil_model_spec *spec, const veil_train_config *cfg, size_t train_rows,
                              const uint8_t *state, size_t len, veil_trainer **out, veil_err *err)
{
	if (!out)
		return LERR(err, VEIL_E_INVALID, "no place for the trainer");
	*out = NULL;
	if (!state && len)
		return LERR(err, VEIL_E_INVALID, "load: no checkpoint bytes");
	if (len < CK_HEADER + VEIL_SHA256_LEN || memcmp(state, CK_MAGIC, 8) != 0)
		return corrupt(err, len < 8 || memcmp(state, CK_MAGIC, 8) != 0 ? "not a veil checkpoint"
		                                                               : "shorter than its header");
	uint32_t version = get_le32(state + 8);
	if (version != CK_VERSION)
		return LERR(err, VEIL_E_UNSUPPORTED, "checkpoint format version %u; this veil reads %u",
		            version, CK_VERSION);
	/* Everything the digests below do not cover is checked against the
	 * spec and config before a length is believed. */
	uint8_t sum[VEIL_SHA256_LEN], want[VEIL_SHA256_LEN];
	veil_status st = veil_sha256(state, len - VEIL_SHA256_LEN, sum, err);
	if (st != VEIL_OK)
		return st;
	if (!veil_ct_equal(sum, state + len - VEIL_SHA256_LEN, VEIL_SHA256_LEN))
		return corrupt(err, "its checksum does not match (truncated or altered)");
	uint32_t flags = get_le32(state + 12);
	if (!cfg)
		return LERR(err, VEIL_E_INVALID, "load: no training config");
	if (((flags & CK_F_DP) != 0) != cfg->dp)
		return corrupt(err, cfg->dp ? "it was saved without DP; the config asks for DP"
		                            : "it was saved with DP; the config has none");
	if (cfg->dp ? all_zero(state + 176, VEIL_LEARN_DP_SEED_LEN)
	            : !all_zero(state + 176, VEIL_LEARN_DP_SEED_LEN))
		return corrupt(err, cfg->dp ? "its dp_seed is all zero" : "it holds a dp_seed without DP");
	/* The run goes on with the checkpoint's dp_seed, not the config's. */
	veil_train_config c = *cfg;
	memcpy(c.dp_seed, state + 176, VEIL_LEARN_DP_SEED_LEN);
	veil_trainer *t;
	st = trainer_create(spec, &c, train_rows, c.dp_seed, false, &t, err);
	veil_wipe(c.dp_seed, sizeof c.dp_seed);
	if (st != VEIL_OK)
		return st;
	const char *bad = NULL;
	size_t n = t->model->n_params;
	if ((st = spec_digest(spec, want, err)) != VEIL_OK)
		goto fail;
	if (!veil_ct_equal(want, state + 16, VEIL_SHA256_LEN)) {
		st = LERR(err, VEIL_E_INVALID, "checkpoint: saved for another model spec");
		veil_err_hint(err, "resume with the job's own model spec");
		goto fail;
	}
	if ((st = config_digest(cfg, train_rows, want, err)) != VEIL_OK)
		goto fail;
	if (!veil_ct_equal(want, state + 48, VEIL_SHA256_LEN)) {
		st = LERR(err, VEIL_E_INVALID, "checkpoint: saved for another training config or data size");
		veil_err_hint(err, "resume with the job's own config and the same training data");
		goto fail;
	}
	if (flags & ~(CK_F_DP | CK_F_BEST | CK_F_STOP))
		bad = "it has unknown flags";
	else if (get_le64(state + 160) != n || get_le32(state + 168) != t->opt.n_state ||
	         get_le32(state + 172) != 0)
		bad = "its parameter or optimizer-state counts differ from the spec";
	else if (len != ck_len(n, (flags & CK_F_BEST) != 0, t->opt.n_state))
		bad = "its length is not what its spec and flags give";
	else
		bad = ck_counters(t, state, flags);
	if (bad)
		goto fail_corrupt;

	const uint8_t *q = state + CK_HEADER;
	if (!get_floats(q, t->model->params, n)) {
		bad = "a parameter is not finite";
		goto fail_corrupt;
	}
	q += 4 * n;
	if (flags & CK_F_BEST) {
		if ((st = model_alloc(spec, &t->best, err)) != VEIL_OK)
			goto fail;
		if (!get_floats(q, t->best->params, n)) {
			bad = "a best parameter is not finite";
			goto fail_corrupt;
		}
		q += 4 * n;
	}
	if (!get_floats(q, t->opt.state, n * t->opt.n_state)) {
		bad = "an optimizer value is not finite";
		goto fail_corrupt;
	}
	t->step = get_le64(state + 88);
	t->epoch = (size_t)get_le64(state + 96);
	t->step_in_epoch = get_le64(state + 104);
	t->opt.t = get_le64(state + 112);
	t->has_best = (flags & CK_F_BEST) != 0;
	t->stopped = (flags & CK_F_STOP) != 0;
	t->best_loss = bits_f64(get_le64(state + 128));
	t->best_epoch = (size_t)get_le64(state + 136);
	t->bad_epochs = (size_t)get_le64(state + 144);
	uint64_t val = get_le64(state + 152);
	t->val_epoch = val == CK_NONE ? NO_EPOCH : (size_t)val;
	check_invariants(t);
	*out = t;
	return VEIL_OK;

fail_corrupt:
	st = corrupt(err, bad);
fail:
	veil_trainer_free(t);
	return st;
}
