/* Unit tests for the training engine (veil/learn.h; src/learn/model.c,
 * train.c, dpsgd.c, optim.c, rng.c): spec and config checks; gradients of
 * every layer, activation and loss against finite differences of an
 * independent double-precision forward pass; per-example norms without
 * materialisation against materialised per-example gradients; the clipping
 * bound; the noise's distribution; Poisson batch sizes; optimizers against
 * PyTorch 1.13's own numbers; schedules; determinism (also with two
 * OpenBLAS threads); exact resume from checkpoints with and without DP;
 * refusal of damaged and mismatched checkpoints; divergence; early
 * stopping; learning separable tasks; and one epoch of Fashion-MNIST.
 *
 * With VEIL_CKPT_CORPUS=DIR set, test_write_corpus also writes the seed
 * corpus of fuzz/fuzz_checkpoint.c into DIR (fuzz/corpus/checkpoint). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "learn_int.h"
#include "veil/crypto.h"
#include "veil/data.h"

/* ---- helpers ---- */

#define CHECK(call)                                                                                          \
	do {                                                                                                 \
		veil_err e_ = {0};                                                                           \
		veil_status s_ = (call);                                                                     \
		if (s_ != VEIL_OK)                                                                           \
			fail_msg("%s: %s: %s", #call, veil_status_str(s_), e_.msg);                          \
	} while (0)

/* A small deterministic generator for test data (not the engine's). */
static uint64_t tr_state;
static double tr_unit(void)
{
	tr_state = tr_state * 6364136223846793005ull + 1442695040888963407ull;
	return (double)(tr_state >> 11) * 0x1p-53;
}
static double tr_normal(void)
{
	double u = tr_unit() + 0x1p-54, v = tr_unit();
	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

typedef struct dataset {
	float *x;
	int32_t *y;
	veil_matrix m;
} dataset;

static void ds_alloc(dataset *d, size_t rows, size_t cols)
{
	d->x = calloc(rows * cols, sizeof(float));
	d->y = calloc(rows, sizeof(int32_t));
	assert_non_null(d->x);
	assert_non_null(d->y);
	d->m = (veil_matrix){.x = d->x, .y = d->y, .rows = rows, .cols = cols};
}

static void ds_free(dataset *d)
{
	free(d->x);
	free(d->y);
}

/* Gaussian blobs: class c centred at `sep` along coordinate c mod cols. */
static void blobs(dataset *d, size_t rows, size_t cols, size_t classes, double sep, uint64_t seed)
{
	tr_state = seed;
	ds_alloc(d, rows, cols);
	for (size_t r = 0; r < rows; r++) {
		int32_t c = (int32_t)(r % classes);
		d->y[r] = c;
		for (size_t k = 0; k < cols; k++)
			d->x[r * cols + k] = (float)(tr_normal() * 0.5 + (k == (size_t)c % cols ? sep : 0.0));
	}
}

static veil_model_spec mlp_spec(size_t inputs, size_t classes, size_t h1, size_t h2, veil_activation act)
{
	veil_model_spec s;
	veil_model_spec_defaults(&s);
	s.kind = VEIL_MODEL_MLP;
	s.inputs = inputs;
	s.classes = classes;
	s.hidden[0] = h1;
	s.hidden[1] = h2;
	s.n_hidden = h2 ? 2 : 1;
	s.activation = act;
	return s;
}

static veil_model_spec linear_spec(veil_model_kind kind, size_t inputs, size_t classes)
{
	veil_model_spec s;
	veil_model_spec_defaults(&s);
	s.kind = kind;
	s.inputs = inputs;
	s.classes = classes;
	return s;
}

static veil_train_config base_cfg(size_t epochs, size_t batch, float lr)
{
	veil_train_config c;
	veil_train_config_defaults(&c);
	c.epochs = epochs;
	c.batch_size = batch;
	c.lr = lr;
	c.seed = 7;
	return c;
}

static void set_dp(veil_train_config *c, double sigma, double clip, uint8_t seed_byte)
{
	c->dp = true;
	c->noise_multiplier = sigma;
	c->max_grad_norm = clip;
	for (size_t i = 0; i < VEIL_LEARN_DP_SEED_LEN; i++)
		c->dp_seed[i] = (uint8_t)(seed_byte + i);
}

static veil_trainer *trainer(const veil_model_spec *s, const veil_train_config *c, size_t rows)
{
	veil_trainer *t = NULL;
	veil_err err = {0};
	veil_status st = veil_trainer_new(s, c, rows, &t, &err);
	if (st != VEIL_OK)
		fail_msg("veil_trainer_new: %s: %s", veil_status_str(st), err.msg);
	return t;
}

/* Steps until done (or max steps); returns the steps taken. */
static uint64_t run(veil_trainer *t, const veil_matrix *train, const veil_matrix *valid, uint64_t max)
{
	uint64_t k = 0;
	while (!veil_trainer_done(t) && k < max) {
		veil_step_info info;
		veil_err err = {0};
		veil_status st = veil_trainer_step(t, train, &info, &err);
		if (st != VEIL_OK)
			fail_msg("step %llu: %s: %s", (unsigned long long)k, veil_status_str(st), err.msg);
		k++;
		if (info.epoch_end && valid) {
			double l, a;
			st = veil_trainer_validate(t, valid, &l, &a, &err);
			if (st != VEIL_OK)
				fail_msg("validate: %s", err.msg);
		}
	}
	return k;
}

static double accuracy(const veil_model *m, const veil_matrix *d)
{
	double loss, acc;
	veil_err err = {0};
	assert_int_equal(veil_model_loss(m, d, &loss, &acc, &err), VEIL_OK);
	assert_true(isfinite(loss));
	return acc;
}

/* ---- spec and config checks ---- */

static void test_spec_check(void **state)
{
	(void)state;
	veil_err err;
	veil_model_spec s = mlp_spec(784, 10, 256, 0, VEIL_ACT_RELU);
	assert_int_equal(veil_model_spec_check(&s, &err), VEIL_OK);
	veil_model_spec bad;
	bad = s, bad.kind = 9;
	assert_int_equal(veil_model_spec_check(&bad, &err), VEIL_E_INVALID);
	bad = s, bad.inputs = 0;
	assert_int_equal(veil_model_spec_check(&bad, &err), VEIL_E_INVALID);
	bad = s, bad.inputs = VEIL_LEARN_WIDTH_MAX + 1;
	assert_int_equal(veil_model_spec_check(&bad, &err), VEIL_E_INVALID);
	bad = s, bad.classes = 1;
	assert_int_equal(veil_model_spec_check(&bad, &err), VEIL_E_INVALID);
	bad = s, bad.classes = VEIL_LEARN_CLASSES_MAX + 1;
	assert_int_equal(veil_model_spec_check(&bad, &err), VEIL_E_INVALID);
	bad = s, bad.n_hidden = 0;
	assert_int_equal(veil_model_spec_check(&bad, &err), VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "hidden"));
	bad = s, bad.n_hidden = VEIL_LEARN_HIDDEN_MAX + 1;
	assert_int_equal(veil_model_spec_check(&bad, &err), VEIL_E_INVALID);
	bad = s, bad.hidden[0] = 0;
	assert_int_equal(veil_model_spec_check(&bad, &err), VEIL_E_INVALID);
	bad = s, bad.activation = 0;
	assert_int_equal(veil_model_spec_check(&bad, &err), VEIL_E_INVALID);
	bad = s, bad.activation = VEIL_ACT_TEMPERED_SIGMOID, bad.ts_scale = 0.0f;
	assert_int_equal(veil_model_spec_check(&bad, &err), VEIL_E_INVALID);
	bad = s, bad.activation = VEIL_ACT_TEMPERED_SIGMOID, bad.ts_offset = NAN;
	assert_int_equal(veil_model_spec_check(&bad, &err), VEIL_E_INVALID);
	bad = linear_spec(VEIL_MODEL_LOGREG, 5, 3);
	assert_int_equal(veil_model_spec_check(&bad, &err), VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "2 classes"));
	bad = linear_spec(VEIL_MODEL_SOFTMAX, 5, 3), bad.n_hidden = 1, bad.hidden[0] = 4;
	assert_int_equal(veil_model_spec_check(&bad, &err), VEIL_E_INVALID);
	/* 8 hidden layers of 65536: far over the parameter limit */
	bad = s, bad.n_hidden = 8;
	for (size_t i = 0; i < 8; i++)
		bad.hidden[i] = VEIL_LEARN_WIDTH_MAX;
	assert_int_equal(veil_model_spec_check(&bad, &err), VEIL_E_LIMIT);
	/* the layout: W0 b0 W1 b1, contiguous */
	veil_model *m;
	CHECK(veil_model_new(&s, 1, &m, &e_));
	assert_int_equal(veil_model_layers(m), 2);
	assert_int_equal(veil_model_param_count(m), 784 * 256 + 256 + 256 * 10 + 10);
	float *w, *b;
	size_t in, out;
	veil_model_layer(m, 1, &w, &in, &out, &b);
	assert_ptr_equal(w, veil_model_params(m) + 784 * 256 + 256);
	assert_ptr_equal(b, w + 256 * 10);
	assert_int_equal(in, 256);
	assert_int_equal(out, 10);
	/* He bound for the ReLU layer, Glorot for the output; biases zero */
	veil_model_layer(m, 0, &w, &in, &out, &b);
	float mx = 0.0f;
	for (size_t k = 0; k < in * out; k++)
		mx = fmaxf(mx, fabsf(w[k]));
	assert_true(mx <= sqrtf(6.0f / 784.0f) && mx > 0.99f * sqrtf(6.0f / 784.0f));
	for (size_t k = 0; k < out; k++)
		assert_true(b[k] == 0.0f);
	veil_model_layer(m, 1, &w, &in, &out, &b);
	mx = 0.0f;
	for (size_t k = 0; k < in * out; k++)
		mx = fmaxf(mx, fabsf(w[k]));
	assert_true(mx <= sqrtf(6.0f / 266.0f) && mx > 0.95f * sqrtf(6.0f / 266.0f));
	/* the same seed gives the same model; another seed another */
	veil_model *m2, *m3;
	CHECK(veil_model_new(&s, 1, &m2, &e_));
	CHECK(veil_model_new(&s, 2, &m3, &e_));
	size_t bytes = veil_model_param_count(m) * sizeof(float);
	assert_memory_equal(veil_model_params(m), veil_model_params(m2), bytes);
	assert_memory_not_equal(veil_model_params(m), veil_model_params(m3), bytes);
	veil_model_free(m);
	veil_model_free(m2);
	veil_model_free(m3);
}

static void test_config_check(void **state)
{
	(void)state;
	veil_err err;
	veil_train_config c = base_cfg(3, 32, 0.1f), bad;
	assert_int_equal(veil_train_config_check(&c, 100, &err), VEIL_OK);
	assert_int_equal(veil_train_config_check(&c, 0, &err), VEIL_E_INVALID);
	bad = c, bad.batch_size = 101;
	assert_int_equal(veil_train_config_check(&bad, 100, &err), VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "larger than the 100 training rows"));
	bad = c, bad.batch_size = 0;
	assert_int_equal(veil_train_config_check(&bad, 100, &err), VEIL_E_INVALID);
	bad = c, bad.epochs = 0;
	assert_int_equal(veil_train_config_check(&bad, 100, &err), VEIL_E_INVALID);
	bad = c, bad.lr = 0.0f;
	assert_int_equal(veil_train_config_check(&bad, 100, &err), VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "lr"));
	bad = c, bad.lr = -1.0f;
	assert_int_equal(veil_train_config_check(&bad, 100, &err), VEIL_E_INVALID);
	bad = c, bad.lr = INFINITY;
	assert_int_equal(veil_train_config_check(&bad, 100, &err), VEIL_E_INVALID);
	bad = c, bad.momentum = 1.0f;
	assert_int_equal(veil_train_config_check(&bad, 100, &err), VEIL_E_INVALID);
	bad = c, bad.weight_decay = -0.1f;
	assert_int_equal(veil_train_config_check(&bad, 100, &err), VEIL_E_INVALID);
	bad = c, bad.optimizer = 7;
	assert_int_equal(veil_train_config_check(&bad, 100, &err), VEIL_E_INVALID);
	bad = c, bad.optimizer = VEIL_OPT_ADAM, bad.beta2 = 1.0f;
	assert_int_equal(veil_train_config_check(&bad, 100, &err), VEIL_E_INVALID);
	bad = c, bad.optimizer = VEIL_OPT_ADAM, bad.adam_eps = 0.0f;
	assert_int_equal(veil_train_config_check(&bad, 100, &err), VEIL_E_INVALID);
	bad = c, bad.schedule = 0;
	assert_int_equal(veil_train_config_check(&bad, 100, &err), VEIL_E_INVALID);
	bad = c, bad.schedule = VEIL_SCHED_STEP, bad.step_epochs = 0;
	assert_int_equal(veil_train_config_check(&bad, 100, &err), VEIL_E_INVALID);
	bad = c, bad.schedule = VEIL_SCHED_STEP, bad.step_gamma = 0.0f;
	assert_int_equal(veil_train_config_check(&bad, 100, &err), VEIL_E_INVALID);
	bad = c, bad.patience = 4; /* more than the epochs: never stops early, allowed */
	assert_int_equal(veil_train_config_check(&bad, 100, &err), VEIL_OK);
	/* DP: σ ≤ 0, C ≤ 0, no dp_seed */
	bad = c;
	set_dp(&bad, 1.0, 1.0, 1);
	assert_int_equal(veil_train_config_check(&bad, 100, &err), VEIL_OK);
	bad.noise_multiplier = 0.0;
	assert_int_equal(veil_train_config_check(&bad, 100, &err), VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "noise_multiplier"));
	bad.noise_multiplier = -1.0;
	assert_int_equal(veil_train_config_check(&bad, 100, &err), VEIL_E_INVALID);
	bad.noise_multiplier = NAN;
	assert_int_equal(veil_train_config_check(&bad, 100, &err), VEIL_E_INVALID);
	bad.noise_multiplier = 1.0, bad.max_grad_norm = 0.0;
	assert_int_equal(veil_train_config_check(&bad, 100, &err), VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "max_grad_norm"));
	bad.max_grad_norm = 1.0;
	memset(bad.dp_seed, 0, sizeof bad.dp_seed);
	assert_int_equal(veil_train_config_check(&bad, 100, &err), VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "dp_seed"));
	/* the trainer checks both */
	veil_model_spec s = mlp_spec(4, 2, 3, 0, VEIL_ACT_RELU);
	veil_trainer *t = NULL;
	bad = c, bad.batch_size = 200;
	assert_int_equal(veil_trainer_new(&s, &bad, 100, &t, &err), VEIL_E_INVALID);
	assert_null(t);
	s.n_hidden = 0;
	assert_int_equal(veil_trainer_new(&s, &c, 100, &t, &err), VEIL_E_INVALID);
	assert_null(t);
}

/* ---- gradients against finite differences ---- */

/* An independent forward pass in double: the mean loss over the rows. */
static double ref_loss(const veil_model *m, const double *p, const float *x, const int32_t *y, size_t rows)
{
	const veil_model_spec *s = veil_model_get_spec(m);
	size_t layers = veil_model_layers(m);
	double total = 0.0;
	double a[64] = {0}, z[64] = {0};
	assert_true(s->inputs <= 64);
	for (size_t r = 0; r < rows; r++) {
		size_t n = s->inputs, off = 0;
		for (size_t k = 0; k < n; k++)
			a[k] = x[r * n + k];
		for (size_t i = 0; i < layers; i++) {
			float *w, *b;
			size_t in, out;
			veil_model_layer(m, i, &w, &in, &out, &b);
			assert_true(out <= 64 && in == n);
			for (size_t o = 0; o < out; o++) {
				double v = p[off + in * out + o];
				for (size_t k = 0; k < in; k++)
					v += a[k] * p[off + k * out + o];
				z[o] = v;
			}
			off += in * out + out;
			for (size_t o = 0; o < out; o++) {
				if (i + 1 == layers)
					a[o] = z[o];
				else if (s->activation == VEIL_ACT_RELU)
					a[o] = z[o] > 0 ? z[o] : 0;
				else if (s->activation == VEIL_ACT_TANH)
					a[o] = tanh(z[o]);
				else
					a[o] = s->ts_scale / (1.0 + exp(-s->ts_temperature * z[o])) -
					       s->ts_offset;
			}
			n = out;
		}
		if (s->kind == VEIL_MODEL_LOGREG) {
			double t = y[r];
			total += -t * log(1.0 / (1.0 + exp(-a[0]))) - (1 - t) * log(1.0 / (1.0 + exp(a[0])));
		} else {
			double mx = a[0];
			for (size_t k = 1; k < n; k++)
				mx = fmax(mx, a[k]);
			double sum = exp(a[0] - mx);
			for (size_t k = 1; k < n; k++)
				sum += exp(a[k] - mx);
			total += log(sum) + mx - a[y[r]];
		}
	}
	return total / (double)rows;
}

/* The engine's mean-loss gradient (float) at the model's parameters. */
static void engine_grad(const veil_model *m, const float *x, const int32_t *y, size_t rows, float *grad,
                        double *loss)
{
	lws ws = {0};
	CHECK(lws_reserve(&ws, m, rows, true, &e_));
	model_forward(m, m->params, &ws, x, rows);
	*loss = model_output(m, &ws, y, rows, true, 1.0f / (float)rows, NULL) / (double)rows;
	model_backprop(m, m->params, &ws, rows);
	model_grads(m, &ws, x, rows, grad);
	lws_free(&ws);
}

/* The tolerance: the float32 analytic gradient of these small models has a
 * relative error of about 1e-6 (a few dozen roundings of 2^-24 each); the
 * double central difference with h = 1e-6 has truncation error O(h²) ≈
 * 1e-12 and rounding error ≈ 1e-16/h = 1e-10. 1e-4 (absolute, plus
 * relative) is a hundred times the expected error, and far below what any
 * real mistake gives (a missing term or a wrong sign is of the order of the
 * gradient itself, 1e-2 to 1). */
static void gradient_check(const veil_model_spec *s, uint64_t seed)
{
	veil_model *m;
	CHECK(veil_model_new(s, seed, &m, &e_));
	size_t rows = 6, n = m->n_params;
	dataset d;
	blobs(&d, rows, s->inputs, s->classes, 1.0, seed);
	/* non-zero biases so that their gradients are exercised off zero */
	for (size_t i = 0; i < m->layers; i++)
		for (size_t o = 0; o < m->out[i]; o++)
			m->params[m->b_off[i] + o] = (float)(0.1 * tr_normal());
	float *g = calloc(n, sizeof(float));
	double *p = calloc(n, sizeof(double));
	assert_non_null(g);
	assert_non_null(p);
	double loss;
	engine_grad(m, d.x, d.y, rows, g, &loss);
	for (size_t k = 0; k < n; k++)
		p[k] = m->params[k];
	assert_true(fabs(loss - ref_loss(m, p, d.x, d.y, rows)) < 1e-5 * fmax(1.0, loss));
	double h = 1e-6, worst = 0.0, gmax = 0.0;
	for (size_t k = 0; k < n; k++) {
		double keep = p[k];
		p[k] = keep + h;
		double lp = ref_loss(m, p, d.x, d.y, rows);
		p[k] = keep - h;
		double lm = ref_loss(m, p, d.x, d.y, rows);
		p[k] = keep;
		double num = (lp - lm) / (2 * h);
		double diff = fabs(num - g[k]);
		worst = fmax(worst, diff / (1e-4 + 1e-4 * fabs(num)));
		gmax = fmax(gmax, fabs(num));
		if (diff > 1e-4 + 1e-4 * fabs(num))
			fail_msg("param %zu: engine %.9g, finite difference %.9g", k, (double)g[k], num);
	}
	assert_true(gmax > 1e-3); /* the check compared something */
	free(g);
	free(p);
	ds_free(&d);
	veil_model_free(m);
}

static void test_gradients(void **state)
{
	(void)state;
	veil_model_spec s = linear_spec(VEIL_MODEL_LOGREG, 5, 2);
	gradient_check(&s, 1);
	s = linear_spec(VEIL_MODEL_SOFTMAX, 5, 4);
	gradient_check(&s, 2);
	s = mlp_spec(5, 3, 7, 0, VEIL_ACT_RELU);
	gradient_check(&s, 3);
	s = mlp_spec(5, 3, 6, 4, VEIL_ACT_RELU);
	gradient_check(&s, 4);
	s = mlp_spec(5, 3, 6, 4, VEIL_ACT_TANH);
	gradient_check(&s, 5);
	s = mlp_spec(5, 4, 6, 4, VEIL_ACT_TEMPERED_SIGMOID);
	gradient_check(&s, 6);
	/* a tempered sigmoid that is not tanh */
	s.ts_scale = 3.0f, s.ts_temperature = 0.5f, s.ts_offset = 0.7f;
	gradient_check(&s, 7);
	/* binary softmax MLP */
	s = mlp_spec(3, 2, 4, 0, VEIL_ACT_TANH);
	gradient_check(&s, 8);
}

/* Tempered sigmoid with its defaults is tanh: 2σ(2x) − 1. */
static void test_tempered_is_tanh(void **state)
{
	(void)state;
	veil_model_spec a = mlp_spec(4, 3, 5, 0, VEIL_ACT_TANH), b = a;
	b.activation = VEIL_ACT_TEMPERED_SIGMOID;
	veil_model *ma, *mb;
	CHECK(veil_model_new(&a, 3, &ma, &e_));
	CHECK(veil_model_new(&b, 3, &mb, &e_));
	dataset d;
	blobs(&d, 20, 4, 3, 1.0, 9);
	float pa[60], pb[60];
	CHECK(veil_model_predict(ma, d.x, 20, pa, &e_));
	CHECK(veil_model_predict(mb, d.x, 20, pb, &e_));
	for (size_t k = 0; k < 60; k++)
		assert_true(fabsf(pa[k] - pb[k]) < 1e-5f);
	ds_free(&d);
	veil_model_free(ma);
	veil_model_free(mb);
}

/* Softmax and sigmoid stay finite and right for huge logits. */
static void test_stable_losses(void **state)
{
	(void)state;
	veil_model_spec s = linear_spec(VEIL_MODEL_SOFTMAX, 2, 3);
	veil_model *m;
	CHECK(veil_model_new(&s, 1, &m, &e_));
	/* logits = x·W: W maps x0 to class 0 with weight 1e4, x1 to class 2 */
	memset(m->params, 0, m->n_params * sizeof(float));
	m->params[0 * 3 + 0] = 1e4f;
	m->params[1 * 3 + 2] = 1e4f;
	float x[4] = {1, 0, 0, 1};
	int32_t y[2] = {0, 0};
	veil_matrix d = {.x = x, .y = y, .rows = 2, .cols = 2};
	double loss, acc;
	CHECK(veil_model_loss(m, &d, &loss, &acc, &e_));
	/* row 0: loss 0; row 1: logits (0, 0, 1e4), true class 0: loss 1e4 */
	assert_true(fabs(loss - 5000.0) < 1e-3);
	assert_true(acc == 0.5);
	float probs[6];
	CHECK(veil_model_predict(m, x, 2, probs, &e_));
	assert_true(probs[0] == 1.0f && probs[5] == 1.0f && probs[3] == 0.0f);
	veil_model_free(m);

	s = linear_spec(VEIL_MODEL_LOGREG, 1, 2);
	CHECK(veil_model_new(&s, 1, &m, &e_));
	m->params[0] = 1.0f; /* z = x */
	m->params[1] = 0.0f;
	float xs[3] = {-800.0f, 800.0f, 0.0f};
	int32_t ys[3] = {1, 1, 0};
	veil_matrix ds = {.x = xs, .y = ys, .rows = 3, .cols = 1};
	CHECK(veil_model_loss(m, &ds, &loss, &acc, &e_));
	/* losses 800, 0, log 2 */
	assert_true(fabs(loss - (800.0 + log(2.0)) / 3.0) < 1e-9);
	assert_true(fabs(acc - 2.0 / 3.0) < 1e-12); /* z = 0 predicts class 0: right */
	float pr[6];
	CHECK(veil_model_predict(m, xs, 3, pr, &e_));
	assert_true(pr[0] == 1.0f && pr[1] == 0.0f && pr[3] == 1.0f && pr[4] == 0.5f && pr[5] == 0.5f);
	/* a label outside the classes is refused, by row */
	ys[2] = 2;
	veil_err err;
	assert_int_equal(veil_model_loss(m, &ds, &loss, &acc, &err), VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "row 2"));
	veil_model_free(m);
}

/* Predictions in chunks equal predictions row by row, and sum to 1. */
static void test_predict(void **state)
{
	(void)state;
	veil_model_spec s = mlp_spec(6, 4, 8, 0, VEIL_ACT_TANH);
	veil_model *m;
	CHECK(veil_model_new(&s, 5, &m, &e_));
	dataset d;
	blobs(&d, 2500, 6, 4, 1.0, 3);
	float *all = malloc(2500 * 4 * sizeof(float));
	assert_non_null(all);
	CHECK(veil_model_predict(m, d.x, 2500, all, &e_));
	for (size_t r = 0; r < 2500; r += 499) {
		float one[4];
		CHECK(veil_model_predict(m, d.x + r * 6, 1, one, &e_));
		assert_memory_equal(one, all + r * 4, sizeof one);
		double sum = 0;
		for (size_t k = 0; k < 4; k++)
			sum += all[r * 4 + k];
		assert_true(fabs(sum - 1.0) < 1e-6);
	}
	free(all);
	ds_free(&d);
	veil_model_free(m);
}

/* ---- DP pieces ---- */

static void dp_fixture(const veil_model_spec *s, size_t rows, veil_model **m, dataset *d, lws *ws)
{
	CHECK(veil_model_new(s, 11, m, &e_));
	blobs(d, rows, s->inputs, s->classes, 2.0, 21);
	/* a few rows far out, so that their gradients are large */
	for (size_t k = 0; k < s->inputs; k++)
		d->x[k] *= 40.0f;
	memset(ws, 0, sizeof *ws);
	CHECK(lws_reserve(ws, *m, rows, true, &e_));
	model_forward(*m, (*m)->params, ws, d->x, rows);
	(void)model_output(*m, ws, d->y, rows, true, 1.0f, NULL);
	model_backprop(*m, (*m)->params, ws, rows);
}

static double sq(const float *v, size_t n)
{
	double s = 0.0;
	for (size_t k = 0; k < n; k++)
		s += (double)v[k] * v[k];
	return s;
}

/* ‖a‖²·‖δ‖² per layer equals the squared norm of the materialised
 * per-example gradient (a batch of that one example), for each example. */
static void test_per_example_norms(void **state)
{
	(void)state;
	veil_model_spec specs[] = {mlp_spec(6, 3, 5, 4, VEIL_ACT_TANH), mlp_spec(6, 3, 7, 0, VEIL_ACT_RELU),
	                           linear_spec(VEIL_MODEL_LOGREG, 6, 2),
	                           linear_spec(VEIL_MODEL_SOFTMAX, 6, 5)};
	for (size_t si = 0; si < sizeof specs / sizeof specs[0]; si++) {
		size_t rows = 9;
		veil_model *m;
		dataset d;
		lws ws;
		dp_fixture(&specs[si], rows, &m, &d, &ws);
		dp_norms(m, &ws, d.x, rows);
		float *g = malloc(m->n_params * sizeof(float));
		assert_non_null(g);
		for (size_t r = 0; r < rows; r++) {
			lws one = {0};
			CHECK(lws_reserve(&one, m, 1, true, &e_));
			model_forward(m, m->params, &one, d.x + r * d.m.cols, 1);
			(void)model_output(m, &one, d.y + r, 1, true, 1.0f, NULL);
			model_backprop(m, m->params, &one, 1);
			model_grads(m, &one, d.x + r * d.m.cols, 1, g);
			double want = sq(g, m->n_params);
			assert_true(want > 0.0);
			if (fabs(ws.norm2[r] - want) > 1e-5 * want)
				fail_msg("spec %zu row %zu: norm² %.9g, materialised %.9g", si, r,
				         ws.norm2[r], want);
			lws_free(&one);
		}
		free(g);
		lws_free(&ws);
		ds_free(&d);
		veil_model_free(m);
	}
}

/* After clipping, each example's contribution has norm ≤ C (and the big
 * ones exactly C), small ones are untouched, and the batch gradient is the
 * sum of the clipped per-example gradients. */
static void test_clipping(void **state)
{
	(void)state;
	veil_model_spec s = mlp_spec(6, 3, 5, 4, VEIL_ACT_TANH);
	size_t rows = 9;
	veil_model *m;
	dataset d;
	lws ws;
	dp_fixture(&s, rows, &m, &d, &ws);
	dp_norms(m, &ws, d.x, rows);
	/* C between the smallest and the largest norm */
	double lo = INFINITY, hi = 0.0;
	for (size_t r = 0; r < rows; r++)
		lo = fmin(lo, sqrt(ws.norm2[r])), hi = fmax(hi, sqrt(ws.norm2[r]));
	double C = sqrt(lo * hi);
	assert_true(lo < C && C < hi);
	dp_clip(m, &ws, rows, C);
	size_t n = m->n_params;
	float *sum = malloc(n * sizeof(float)), *g = malloc(n * sizeof(float));
	double *want = calloc(n, sizeof(double));
	assert_true(sum && g && want);
	model_grads(m, &ws, d.x, rows, sum);
	size_t clipped = 0;
	for (size_t r = 0; r < rows; r++) {
		lws one = {0};
		CHECK(lws_reserve(&one, m, 1, true, &e_));
		model_forward(m, m->params, &one, d.x + r * d.m.cols, 1);
		(void)model_output(m, &one, d.y + r, 1, true, 1.0f, NULL);
		model_backprop(m, m->params, &one, 1);
		dp_norms(m, &one, d.x + r * d.m.cols, 1);
		dp_clip(m, &one, 1, C);
		model_grads(m, &one, d.x + r * d.m.cols, 1, g);
		double norm = sqrt(sq(g, n)), raw = sqrt(ws.norm2[r]);
		assert_true(norm <= C * (1 + 1e-6));
		if (raw > C) {
			assert_true(fabs(norm - C) < 1e-5 * C);
			clipped++;
		} else {
			assert_true(fabs(norm - raw) < 1e-5 * raw);
		}
		for (size_t k = 0; k < n; k++)
			want[k] += g[k];
		lws_free(&one);
	}
	assert_true(clipped > 0 && clipped < rows);
	for (size_t k = 0; k < n; k++)
		assert_true(fabs(sum[k] - want[k]) <= 1e-5 * (1 + fabs(want[k])));
	free(sum);
	free(g);
	free(want);
	lws_free(&ws);
	ds_free(&d);
	veil_model_free(m);
}

/* End to end: one example (q = 1), σ negligible, plain SGD with lr 1: the
 * update is the clipped gradient, so its norm is at most C. */
static void test_clipping_trainer(void **state)
{
	(void)state;
	veil_model_spec s = mlp_spec(4, 2, 3, 0, VEIL_ACT_RELU);
	float x[4] = {3, -2, 5, 1};
	int32_t y[1] = {1};
	veil_matrix d = {.x = x, .y = y, .rows = 1, .cols = 4};
	veil_train_config c = base_cfg(5, 1, 1.0f);
	set_dp(&c, 1e-30, 0.01, 3);
	veil_trainer *t = trainer(&s, &c, 1);
	veil_model *m = (veil_model *)veil_trainer_model(t);
	size_t n = m->n_params;
	float *before = malloc(n * sizeof(float));
	assert_non_null(before);
	for (int i = 0; i < 5; i++) {
		memcpy(before, m->params, n * sizeof(float));
		veil_step_info info;
		CHECK(veil_trainer_step(t, &d, &info, &e_));
		assert_int_equal(info.batch, 1);
		double norm = 0;
		for (size_t k = 0; k < n; k++)
			norm += ((double)m->params[k] - before[k]) * ((double)m->params[k] - before[k]);
		assert_true(sqrt(norm) <= 0.01 * (1 + 1e-5));
		if (i == 0)
			assert_true(sqrt(norm) > 0.01 * (1 - 1e-5)); /* the raw gradient was far bigger */
	}
	free(before);
	veil_trainer_free(t);
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

/* The noise: mean 0 and std as asked (bounds of 6 standard errors), the
 * whole distribution (Kolmogorov–Smirnov, critical value at p = 0.001),
 * the ziggurat's tail, and streams that differ by dp_seed and by step. */
static void test_noise(void **state)
{
	(void)state;
	uint8_t key[LRNG_KEY_LEN];
	for (size_t i = 0; i < sizeof key; i++)
		key[i] = (uint8_t)(i * 7 + 1);
	lrng g;
	CHECK(lrng_new(&g, key, &e_));
	size_t n = 200000;
	float *v = calloc(n, sizeof(float)), *w = calloc(n, sizeof(float));
	assert_true(v && w);
	double std = 2.5;
	dp_noise(&g, 42, v, n, std, 1.0);
	assert_true(lrng_ok(&g));
	double mean = 0, var = 0;
	for (size_t k = 0; k < n; k++)
		mean += v[k];
	mean /= (double)n;
	for (size_t k = 0; k < n; k++)
		var += (v[k] - mean) * (v[k] - mean);
	var /= (double)(n - 1);
	/* se(mean) = σ/√n; se(s²/σ²) = √(2/(n−1)) ≈ 0.0032 */
	assert_true(fabs(mean) < 6 * std / sqrt((double)n));
	assert_true(fabs(var / (std * std) - 1.0) < 6 * sqrt(2.0 / (double)(n - 1)));
	/* tails, where the ziggurat's own tail algorithm takes over: P(|z| >
	 * r) for its r = 3.6542 is 2.58e-4, so about 51.6 of 200000 (Poisson
	 * sd 7.2, bounds at 5 sd); P(|z| > 4.5) is 6.8e-6 (1.4 expected) */
	size_t tail = 0, far = 0;
	for (size_t k = 0; k < n; k++) {
		double z = fabs((double)v[k]) / std;
		tail += z > 3.6541528853610088;
		far += z > 4.5;
	}
	assert_true(tail > 51 - 36 && tail < 52 + 36);
	assert_true(far < 10);
	/* KS against Φ: D·√n < 1.95 at p = 0.001 */
	memcpy(w, v, n * sizeof(float));
	qsort(w, n, sizeof(float), cmp_float);
	double dmax = 0;
	for (size_t k = 0; k < n; k++) {
		double F = 0.5 * erfc(-(w[k] / std) / sqrt(2.0));
		dmax = fmax(dmax,
		            fmax(fabs(F - (double)k / (double)n), fabs(F - (double)(k + 1) / (double)n)));
	}
	assert_true(dmax * sqrt((double)n) < 1.95);
	/* same key and step: same noise; another step or key: different */
	memset(w, 0, n * sizeof(float));
	dp_noise(&g, 42, w, 1000, std, 1.0);
	assert_memory_equal(v, w, 1000 * sizeof(float));
	dp_noise(&g, 43, w, 1000, std, 1.0);
	size_t same = 0;
	for (size_t k = 0; k < 1000; k++)
		same += v[k] == w[k];
	assert_true(same < 5);
	lrng h;
	key[0] ^= 1;
	CHECK(lrng_new(&h, key, &e_));
	memset(w, 0, n * sizeof(float));
	dp_noise(&h, 42, w, 1000, std, 1.0);
	same = 0;
	for (size_t k = 0; k < 1000; k++)
		same += v[k] == w[k];
	assert_true(same < 5);
	/* chunk 1 (parameters 65536..) starts at its own block of the stream:
	 * a generator started there by hand draws the same values */
	key[0] ^= 1;
	lrng c1;
	CHECK(lrng_new(&c1, key, &e_));
	lrng_start_at(&c1, LRNG_NOISE, 42, DP_NOISE_CHUNK_BLOCKS);
	for (size_t k = 0; k < 100; k++)
		assert_true(v[DP_NOISE_CHUNK + k] == (float)std * lrng_normal(&c1));
	lrng_free(&c1);
	/* the noise is added to the gradient, then scaled */
	for (size_t k = 0; k < 1000; k++)
		w[k] = 1.0f;
	dp_noise(&g, 42, w, 1000, std, 0.5);
	for (size_t k = 0; k < 1000; k++)
		assert_true(w[k] == (1.0f + v[k]) * 0.5f);
	lrng_free(&g);
	lrng_free(&h);
	free(v);
	free(w);
}

/* Through the trainer: an all-zero gradient (no data reaches the model)
 * gets noise of std σ·C / batch_size, and other dp_seeds give other noise. */
static void test_noise_trainer(void **state)
{
	(void)state;
	veil_model_spec s = linear_spec(VEIL_MODEL_SOFTMAX, 100, 10);
	dataset d;
	ds_alloc(&d, 50, 100); /* x = 0: the weight gradients are 0 */
	veil_train_config c = base_cfg(1, 5, 1.0f);
	set_dp(&c, 2.0, 3.0, 9);
	veil_trainer *t1 = trainer(&s, &c, 50);
	c.dp_seed[5] ^= 0x80;
	veil_trainer *t2 = trainer(&s, &c, 50);
	veil_model *m1 = (veil_model *)veil_trainer_model(t1), *m2 = (veil_model *)veil_trainer_model(t2);
	assert_memory_equal(m1->params, m2->params, m1->n_params * sizeof(float));
	float *w0 = malloc(1000 * sizeof(float));
	assert_non_null(w0);
	memcpy(w0, m1->params, 1000 * sizeof(float));
	veil_step_info info;
	CHECK(veil_trainer_step(t1, &d.m, &info, &e_));
	CHECK(veil_trainer_step(t2, &d.m, &info, &e_));
	double var = 0;
	for (size_t k = 0; k < 1000; k++) {
		double dlt = (double)m1->params[k] - w0[k];
		var += dlt * dlt;
	}
	var /= 1000;
	double want = (2.0 * 3.0 / 5.0) * (2.0 * 3.0 / 5.0); /* lr 1 */
	/* se of a variance from 1000 normals: √(2/1000) = 0.045; 6 se */
	assert_true(fabs(var / want - 1.0) < 0.27);
	assert_memory_not_equal(m1->params, m2->params, 1000 * sizeof(float));
	free(w0);
	veil_trainer_free(t1);
	veil_trainer_free(t2);
	ds_free(&d);
}

/* Poisson sampling: sizes with mean q·n and variance q(1−q)n, indices
 * strictly increasing and in range, each half of the rows sampled alike. */
static void test_poisson(void **state)
{
	(void)state;
	uint8_t key[LRNG_KEY_LEN] = {5};
	lrng g;
	CHECK(lrng_new(&g, key, &e_));
	veil_model_spec s = linear_spec(VEIL_MODEL_SOFTMAX, 2, 2);
	veil_model *m;
	CHECK(veil_model_new(&s, 1, &m, &e_));
	lws ws = {0};
	CHECK(lws_reserve(&ws, m, 8, true, &e_)); /* small: dp_sample must grow it */
	size_t rows = 10000, steps = 2000;
	double q = 0.01, sum = 0, sum2 = 0, low = 0, high = 0;
	size_t first[8];
	for (size_t st = 0; st < steps; st++) {
		size_t n;
		CHECK(dp_sample(&g, st, rows, q, &ws, m, &n, &e_));
		sum += (double)n;
		sum2 += (double)n * (double)n;
		for (size_t k = 0; k < n; k++) {
			assert_true(ws.idx[k] < rows);
			if (k)
				assert_true(ws.idx[k] > ws.idx[k - 1]);
			if (ws.idx[k] < rows / 2)
				low++;
			else
				high++;
		}
		if (st == 7)
			memcpy(first, ws.idx, sizeof first);
	}
	double mean = sum / (double)steps, var = sum2 / (double)steps - mean * mean;
	double mu = q * (double)rows, sd = sqrt(q * (1 - q) * (double)rows);
	assert_true(fabs(mean - mu) < 6 * sd / sqrt((double)steps));
	assert_true(fabs(var / (sd * sd) - 1.0) < 0.2); /* se ≈ √(2/2000) = 0.032 */
	assert_true(fabs(low - high) < 6 * sqrt(low + high));
	/* the same step again is the same sample */
	size_t n;
	CHECK(dp_sample(&g, 7, rows, q, &ws, m, &n, &e_));
	assert_memory_equal(first, ws.idx, sizeof first);
	/* q = 1 takes every row */
	CHECK(dp_sample(&g, 0, 100, 1.0, &ws, m, &n, &e_));
	assert_int_equal(n, 100);
	assert_int_equal(ws.idx[99], 99);
	lws_free(&ws);
	lrng_free(&g);
	veil_model_free(m);
}

/* A DP step whose Poisson batch is empty is a step: noise only. */
static void test_empty_batch(void **state)
{
	(void)state;
	veil_model_spec s = linear_spec(VEIL_MODEL_SOFTMAX, 3, 2);
	dataset d;
	blobs(&d, 1000, 3, 2, 1.0, 4);
	veil_train_config c = base_cfg(1, 1, 0.1f); /* q = 0.001: a third of batches are empty */
	set_dp(&c, 1.0, 1.0, 4);
	veil_trainer *t = trainer(&s, &c, 1000);
	assert_int_equal(veil_trainer_steps_per_epoch(t), 1000);
	veil_model *m = (veil_model *)veil_trainer_model(t);
	float before[8];
	size_t empty = 0;
	for (size_t i = 0; i < 20; i++) {
		memcpy(before, m->params, sizeof before);
		veil_step_info info;
		CHECK(veil_trainer_step(t, &d.m, &info, &e_));
		if (info.batch == 0) {
			empty++;
			assert_true(info.loss == 0.0);
			assert_memory_not_equal(before, m->params, sizeof before);
		}
	}
	assert_true(empty > 0);
	assert_int_equal(veil_trainer_steps_done(t), 20);
	veil_trainer_free(t);
	ds_free(&d);
}

/* ---- optimizers and schedules ---- */

/* PyTorch 1.13 (Debian's python3-torch): the parameter after three steps
 * of each optimizer from p0 with the gradients below, in float32:
 *   p = torch.tensor(P0, requires_grad=True); o = torch.optim.X([p], ...)
 *   for g in G: p.grad = torch.tensor(g); o.step() */
static const float P0[5] = {0.5f, -1.0f, 2.0f, 0.0f, -0.25f};
static const float G[3][5] = {{0.1f, -0.2f, 0.3f, -0.4f, 0.0f},
                              {1.0f, 0.5f, -0.5f, 0.25f, -2.0f},
                              {-0.3f, 0.0f, 0.7f, 1.5f, 0.125f}};

static void opt_case(veil_train_config *c, const float want[5])
{
	lopt o;
	CHECK(lopt_init(&o, c, 5, &e_));
	float p[5];
	memcpy(p, P0, sizeof p);
	for (size_t s = 0; s < 3; s++)
		assert_true(lopt_step(&o, p, G[s], c->lr));
	for (size_t k = 0; k < 5; k++)
		if (fabsf(p[k] - want[k]) > 2e-7f * fmaxf(1.0f, fabsf(want[k])))
			fail_msg("param %zu: %.9g, PyTorch %.9g", k, (double)p[k], (double)want[k]);
	lopt_free(&o);
}

static void test_optimizers(void **state)
{
	(void)state;
	veil_train_config c = base_cfg(1, 1, 0.1f);
	static const float sgd[5] = {0.420000017f, -1.02999997f, 1.94999993f, -0.135000005f, -0.0624999963f};
	opt_case(&c, sgd);
	/* SGD(lr=0.1, momentum=0.9, weight_decay=0.01) */
	static const float sgd_mom[5] = {0.310235411f, -1.03522074f, 1.93255365f, -0.0892269686f,
	                                 0.118701287f};
	c.momentum = 0.9f, c.weight_decay = 0.01f;
	opt_case(&c, sgd_mom);
	/* Adam(lr=0.01) */
	static const float adam[5] = {0.477779329f, -0.997840464f, 1.98947787f, 0.0060437792f, -0.237216324f};
	c = base_cfg(1, 1, 0.01f);
	c.optimizer = VEIL_OPT_ADAM;
	opt_case(&c, adam);
	/* Adam(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1) */
	static const float adam_wd[5] = {0.476900756f, -0.992935479f, 1.98220325f, 0.00465440284f,
	                                 -0.226715684f};
	c.beta1 = 0.8f, c.beta2 = 0.99f, c.adam_eps = 1e-6f, c.weight_decay = 0.1f;
	opt_case(&c, adam_wd);
	/* a non-finite update changes nothing */
	lopt o;
	c = base_cfg(1, 1, 1e30f);
	c.momentum = 0.5f;
	CHECK(lopt_init(&o, &c, 5, &e_));
	float p[5], g[5] = {1e10f, 0, 0, 0, 0};
	memcpy(p, P0, sizeof p);
	assert_false(lopt_step(&o, p, g, 1e30));
	assert_memory_equal(p, P0, sizeof p);
	assert_true(o.state[0] == 0.0f && o.t == 0);
	lopt_free(&o);
}

static void test_schedules(void **state)
{
	(void)state;
	veil_train_config c = base_cfg(10, 10, 0.8f);
	assert_true(lr_at(&c, 55, 5, 100) == (double)0.8f);
	c.schedule = VEIL_SCHED_STEP, c.step_epochs = 3, c.step_gamma = 0.5f;
	assert_true(fabs(lr_at(&c, 0, 0, 100) - 0.8) < 1e-7);
	assert_true(fabs(lr_at(&c, 29, 2, 100) - 0.8) < 1e-7);
	assert_true(fabs(lr_at(&c, 30, 3, 100) - 0.4) < 1e-7);
	assert_true(fabs(lr_at(&c, 99, 9, 100) - 0.1) < 1e-7);
	c.schedule = VEIL_SCHED_COSINE;
	assert_true(fabs(lr_at(&c, 0, 0, 100) - 0.8) < 1e-7);
	assert_true(fabs(lr_at(&c, 50, 5, 100) - 0.4) < 1e-7);
	assert_true(fabs(lr_at(&c, 25, 2, 100) - 0.4 * (1 + sqrt(0.5))) < 1e-7);
	assert_true(lr_at(&c, 99, 9, 100) < 0.001 && lr_at(&c, 99, 9, 100) > 0);
	/* through the trainer: the lr of the next step */
	veil_model_spec s = linear_spec(VEIL_MODEL_SOFTMAX, 2, 2);
	dataset d;
	blobs(&d, 100, 2, 2, 1.0, 1);
	veil_trainer *t = trainer(&s, &c, 100);
	assert_int_equal(veil_trainer_steps_per_epoch(t), 10);
	assert_true(fabs(veil_trainer_lr(t) - 0.8) < 1e-7);
	run(t, &d.m, NULL, 50);
	assert_true(fabs(veil_trainer_lr(t) - 0.4) < 1e-7);
	veil_trainer_free(t);
	ds_free(&d);
}

/* ---- whole runs ---- */

static void test_learns_logreg(void **state)
{
	(void)state;
	dataset tr, te;
	blobs(&tr, 2000, 10, 2, 1.5, 31);
	blobs(&te, 1000, 10, 2, 1.5, 32);
	veil_model_spec s = linear_spec(VEIL_MODEL_LOGREG, 10, 2);
	veil_train_config c = base_cfg(5, 32, 0.1f);
	veil_trainer *t = trainer(&s, &c, 2000);
	run(t, &tr.m, NULL, 100000);
	double acc = accuracy(veil_trainer_model(t), &te.m);
	assert_true(acc > 0.95);
	veil_trainer_free(t);
	/* and under DP, with Adam */
	c.optimizer = VEIL_OPT_ADAM, c.lr = 0.05f;
	set_dp(&c, 0.8, 1.0, 77);
	t = trainer(&s, &c, 2000);
	run(t, &tr.m, NULL, 100000);
	assert_true(accuracy(veil_trainer_model(t), &te.m) > 0.95);
	veil_trainer_free(t);
	ds_free(&tr);
	ds_free(&te);
}

/* XOR of two coordinates' signs: no linear model gets far past 50%. */
static void xor_data(dataset *d, size_t rows, uint64_t seed)
{
	tr_state = seed;
	ds_alloc(d, rows, 2);
	for (size_t r = 0; r < rows; r++) {
		double a = tr_unit() * 2 - 1, b = tr_unit() * 2 - 1;
		if (fabs(a) < 0.1)
			a = a < 0 ? a - 0.1 : a + 0.1;
		if (fabs(b) < 0.1)
			b = b < 0 ? b - 0.1 : b + 0.1;
		d->x[2 * r] = (float)a;
		d->x[2 * r + 1] = (float)b;
		d->y[r] = (a > 0) != (b > 0);
	}
}

static void test_learns_mlp(void **state)
{
	(void)state;
	dataset tr, te;
	xor_data(&tr, 4000, 41);
	xor_data(&te, 1000, 42);
	veil_model_spec s = mlp_spec(2, 2, 16, 0, VEIL_ACT_RELU);
	veil_train_config c = base_cfg(20, 32, 0.1f);
	c.momentum = 0.9f;
	veil_trainer *t = trainer(&s, &c, 4000);
	run(t, &tr.m, NULL, 1000000);
	assert_true(accuracy(veil_trainer_model(t), &te.m) > 0.95);
	veil_trainer_free(t);
	/* softmax regression cannot (75% at best on XOR) */
	veil_model_spec lin = linear_spec(VEIL_MODEL_SOFTMAX, 2, 2);
	t = trainer(&lin, &c, 4000);
	run(t, &tr.m, NULL, 1000000);
	assert_true(accuracy(veil_trainer_model(t), &te.m) < 0.8);
	veil_trainer_free(t);
	ds_free(&tr);
	ds_free(&te);
}

static void train_params(const veil_model_spec *s, const veil_train_config *c, const dataset *d, float *out)
{
	veil_trainer *t = trainer(s, c, d->m.rows);
	run(t, &d->m, NULL, 1000000);
	const veil_model *m = veil_trainer_model(t);
	memcpy(out, m->params, m->n_params * sizeof(float));
	veil_trainer_free(t);
}

/* Two runs give byte-identical parameters, with and without DP, with one
 * and two OpenBLAS threads (the matrices are big enough for OpenBLAS to
 * split them). */
static void test_determinism(void **state)
{
	(void)state;
	dataset d;
	blobs(&d, 1024, 64, 10, 1.0, 51);
	veil_model_spec s = mlp_spec(64, 10, 192, 0, VEIL_ACT_RELU);
	veil_model *m;
	CHECK(veil_model_new(&s, 1, &m, &e_));
	size_t bytes = m->n_params * sizeof(float);
	veil_model_free(m);
	float *a = malloc(bytes), *b = malloc(bytes), *c1 = malloc(bytes);
	assert_true(a && b && c1);
	veil_train_config cfgs[2] = {base_cfg(2, 256, 0.05f), base_cfg(2, 256, 0.05f)};
	cfgs[0].momentum = 0.9f;
	cfgs[1].optimizer = VEIL_OPT_ADAM, cfgs[1].lr = 0.001f;
	set_dp(&cfgs[1], 1.0, 1.0, 8);
	for (size_t i = 0; i < 2; i++) {
		veil_learn_set_threads(1);
		train_params(&s, &cfgs[i], &d, a);
		train_params(&s, &cfgs[i], &d, b);
		assert_memory_equal(a, b, bytes);
		memcpy(c1, a, bytes);
		veil_learn_set_threads(2);
		train_params(&s, &cfgs[i], &d, a);
		train_params(&s, &cfgs[i], &d, b);
		assert_memory_equal(a, b, bytes);
		/* not promised, only noted: OpenBLAS's kernels and blocking
		 * depend on the thread count, so 1 and 2 threads may differ in
		 * the last bits (with OpenBLAS 0.3.21 here they do) */
		if (memcmp(a, c1, bytes) != 0)
			print_message("# note: 1 and 2 OpenBLAS threads give different bits (allowed)\n");
		/* another seed, another model */
		veil_train_config other = cfgs[i];
		other.seed = 8;
		train_params(&s, &other, &d, b);
		assert_memory_not_equal(a, b, bytes);
	}
	veil_learn_set_threads(0);
	free(a);
	free(b);
	free(c1);
	ds_free(&d);
}

static veil_trainer *save_load(veil_trainer *t, const veil_model_spec *s, const veil_train_config *c,
                               size_t rows)
{
	veil_buf buf = {0};
	CHECK(veil_trainer_save(t, &buf, &e_));
	veil_trainer_free(t);
	veil_trainer *r = NULL;
	CHECK(veil_trainer_load(s, c, rows, buf.data, buf.len, &r, &e_));
	/* saving the loaded state gives the same bytes */
	veil_buf again = {0};
	CHECK(veil_trainer_save(r, &again, &e_));
	assert_int_equal(again.len, buf.len);
	assert_memory_equal(again.data, buf.data, buf.len);
	veil_wipe(buf.data, buf.len);
	veil_buf_free(&buf);
	veil_buf_free(&again);
	return r;
}

/* Train, stop mid-epoch, save, load into a fresh trainer, go on: the
 * parameters (and the best state) equal an uninterrupted run's. */
static void resume_case(const veil_model_spec *s, const veil_train_config *c, uint64_t stop_at)
{
	dataset tr, va;
	blobs(&tr, 600, 8, 3, 1.0, 61);
	blobs(&va, 200, 8, 3, 1.0, 62);
	veil_trainer *a = trainer(s, c, 600);
	run(a, &tr.m, &va.m, 1000000);
	veil_trainer *b = trainer(s, c, 600);
	run(b, &tr.m, &va.m, stop_at);
	assert_int_equal(veil_trainer_steps_done(b), stop_at);
	assert_true(stop_at % veil_trainer_steps_per_epoch(b) != 0); /* mid-epoch */
	b = save_load(b, s, c, 600);
	assert_int_equal(veil_trainer_steps_done(b), stop_at);
	run(b, &tr.m, &va.m, 1000000);
	assert_int_equal(veil_trainer_steps_done(a), veil_trainer_steps_done(b));
	const veil_model *ma = veil_trainer_model(a), *mb = veil_trainer_model(b);
	assert_memory_equal(ma->params, mb->params, ma->n_params * sizeof(float));
	assert_memory_equal(a->model->params, b->model->params, ma->n_params * sizeof(float));
	veil_trainer_free(a);
	veil_trainer_free(b);
	ds_free(&tr);
	ds_free(&va);
}

static void test_resume(void **state)
{
	(void)state;
	veil_model_spec s = mlp_spec(8, 3, 12, 6, VEIL_ACT_TANH);
	veil_train_config c = base_cfg(4, 64, 0.05f); /* 10 steps per epoch */
	c.momentum = 0.9f, c.schedule = VEIL_SCHED_STEP, c.step_epochs = 1, c.step_gamma = 0.7f;
	c.weight_decay = 1e-3f;
	resume_case(&s, &c, 23);
	/* DP, Adam, cosine */
	c.optimizer = VEIL_OPT_ADAM, c.lr = 0.01f, c.schedule = VEIL_SCHED_COSINE;
	set_dp(&c, 1.1, 0.5, 33);
	resume_case(&s, &c, 17);
	/* DP SGD without momentum, resumed twice */
	veil_model_spec l = linear_spec(VEIL_MODEL_SOFTMAX, 8, 3);
	c = base_cfg(3, 50, 0.2f);
	set_dp(&c, 0.9, 1.0, 44);
	resume_case(&l, &c, 5);
	resume_case(&l, &c, 27);
}

/* Early stopping: validation labels are the opposite of the training
 * labels, so the validation loss only gets worse after the first epoch;
 * with patience 2 the run stops after epoch 3, keeping epoch 1's params. */
static void test_early_stopping(void **state)
{
	(void)state;
	dataset tr, va;
	blobs(&tr, 400, 4, 2, 2.0, 71);
	blobs(&va, 400, 4, 2, 2.0, 71);
	for (size_t r = 0; r < 400; r++)
		va.y[r] = 1 - va.y[r];
	veil_model_spec s = linear_spec(VEIL_MODEL_LOGREG, 4, 2);
	veil_train_config c = base_cfg(10, 40, 0.1f);
	c.patience = 2;
	veil_trainer *t = trainer(&s, &c, 400);
	float after1[5];
	veil_err err;
	double l, a, prev = -1;
	veil_step_info info;
	/* validation mid-epoch is refused */
	assert_int_equal(veil_trainer_validate(t, &va.m, &l, &a, &err), VEIL_E_INVALID);
	size_t epochs = 0;
	while (!veil_trainer_done(t)) {
		CHECK(veil_trainer_step(t, &tr.m, &info, &e_));
		if (!info.epoch_end)
			continue;
		epochs++;
		CHECK(veil_trainer_validate(t, &va.m, &l, &a, &e_));
		assert_true(l > prev);
		prev = l;
		if (epochs == 1)
			memcpy(after1, t->model->params, sizeof after1);
		/* a second validation of the same epoch only measures */
		CHECK(veil_trainer_validate(t, &va.m, &l, &a, &e_));
	}
	assert_int_equal(epochs, 3);
	assert_false(info.done); /* the step did not know; validate stopped it */
	assert_int_equal(veil_trainer_step(t, &tr.m, &info, &err), VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "early stopping"));
	assert_memory_equal(veil_trainer_model(t)->params, after1, sizeof after1);
	assert_memory_not_equal(t->model->params, after1, sizeof after1);
	/* the stopped state survives a checkpoint */
	t = save_load(t, &s, &c, 400);
	assert_true(veil_trainer_done(t));
	assert_memory_equal(veil_trainer_model(t)->params, after1, sizeof after1);
	veil_trainer_free(t);
	ds_free(&tr);
	ds_free(&va);
}

/* A step that makes the loss or a parameter non-finite is
 * VEIL_E_DIVERGED, and the state is the one before it. lr = 1e6 makes a
 * ReLU MLP with SGD blow up multiplicatively (W1's gradient grows with W2
 * and the other way round) until the logits overflow: the loss check. Models
 * whose gradients stay bounded (linear ones, tanh, or anything under DP's
 * clipping) only grow linearly at that rate and stay finite for thousands
 * of steps, so they are made to overflow in the update itself with an lr
 * near float's maximum: the update check. */
static void test_divergence(void **state)
{
	(void)state;
	dataset d;
	blobs(&d, 256, 8, 3, 3.0, 81);
	struct {
		veil_model_spec spec;
		bool dp;
		veil_optimizer opt;
		float lr, xscale;
		const char *why;
	} cases[] = {
	        {mlp_spec(8, 3, 16, 0, VEIL_ACT_RELU), false, VEIL_OPT_SGD, 1e6f, 1, "loss is not finite"},
	        {mlp_spec(8, 3, 16, 0, VEIL_ACT_RELU), true, VEIL_OPT_SGD, 1e38f, 1, "is not finite"},
	        {mlp_spec(8, 3, 16, 0, VEIL_ACT_TANH), true, VEIL_OPT_ADAM, 3e38f, 1, "is not finite"},
	        /* a gradient of about 1000 times lr 1e38 overflows at once */
	        {linear_spec(VEIL_MODEL_SOFTMAX, 8, 3), false, VEIL_OPT_SGD, 1e38f, 1000,
	         "update is not finite"},
	};
	float *x0 = malloc(256 * 8 * sizeof(float));
	assert_non_null(x0);
	memcpy(x0, d.x, 256 * 8 * sizeof(float));
	for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
		for (size_t k = 0; k < 256 * 8; k++)
			d.x[k] = x0[k] * cases[ci].xscale;
		veil_train_config c = base_cfg(50, 32, cases[ci].lr);
		c.optimizer = cases[ci].opt;
		if (c.optimizer == VEIL_OPT_SGD)
			c.momentum = 0.9f;
		if (cases[ci].dp)
			set_dp(&c, 1.0, 1.0, 5);
		veil_trainer *t = trainer(&cases[ci].spec, &c, 256);
		veil_model *m = t->model;
		size_t bytes = m->n_params * sizeof(float);
		float *before = malloc(bytes), *opt = malloc(bytes);
		assert_true(before && opt);
		veil_status st = VEIL_OK;
		veil_err err = {0};
		uint64_t steps = 0;
		while (st == VEIL_OK && !veil_trainer_done(t)) {
			memcpy(before, m->params, bytes);
			memcpy(opt, t->opt.state, bytes);
			steps = veil_trainer_steps_done(t);
			veil_step_info info;
			st = veil_trainer_step(t, &d.m, &info, &err);
		}
		if (st != VEIL_E_DIVERGED || !strstr(err.msg, cases[ci].why))
			fail_msg("case %zu: %s after %llu steps: %s", ci, veil_status_str(st),
			         (unsigned long long)steps, err.msg);
		assert_int_equal(err.code, VEIL_E_DIVERGED);
		assert_non_null(strstr(err.msg, "diverged at step"));
		assert_memory_equal(before, m->params, bytes);
		assert_memory_equal(opt, t->opt.state, bytes);
		assert_int_equal(veil_trainer_steps_done(t), steps);
		assert_int_equal(t->opt.t, steps);
		/* the checkpoint of that state is good */
		veil_buf buf = {0};
		CHECK(veil_trainer_save(t, &buf, &e_));
		veil_trainer *r = NULL;
		CHECK(veil_trainer_load(&cases[ci].spec, &c, 256, buf.data, buf.len, &r, &e_));
		veil_trainer_free(r);
		veil_buf_free(&buf);
		free(before);
		free(opt);
		veil_trainer_free(t);
	}
	free(x0);
	ds_free(&d);
}

/* The trainer refuses data of another shape and labels out of range. */
static void test_bad_data(void **state)
{
	(void)state;
	dataset d;
	blobs(&d, 100, 4, 2, 1.0, 91);
	veil_model_spec s = linear_spec(VEIL_MODEL_SOFTMAX, 4, 2);
	veil_train_config c = base_cfg(1, 100, 0.1f);
	veil_trainer *t = trainer(&s, &c, 100);
	veil_step_info info;
	veil_err err;
	veil_matrix other = d.m;
	other.rows = 99;
	assert_int_equal(veil_trainer_step(t, &other, &info, &err), VEIL_E_INVALID);
	other = d.m, other.cols = 3;
	assert_int_equal(veil_trainer_step(t, &other, &info, &err), VEIL_E_INVALID);
	d.y[50] = 2;
	assert_int_equal(veil_trainer_step(t, &d.m, &info, &err), VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "label"));
	d.y[50] = -1;
	assert_int_equal(veil_trainer_step(t, &d.m, &info, &err), VEIL_E_INVALID);
	assert_int_equal(veil_trainer_steps_done(t), 0);
	d.y[50] = 1;
	CHECK(veil_trainer_step(t, &d.m, &info, &e_));
	assert_true(info.done && info.epoch_end && info.batch == 100);
	assert_int_equal(veil_trainer_step(t, &d.m, &info, &err), VEIL_E_INVALID); /* finished */
	veil_trainer_free(t);
	ds_free(&d);
}

/* ---- checkpoints ---- */

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static void le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Re-seals an edited checkpoint's checksum, as a forger could. */
static void reseal(uint8_t *p, size_t len)
{
	assert_int_equal(veil_sha256(p, len - 32, p + len - 32, NULL), VEIL_OK);
}

static void test_checkpoint_refusals(void **state)
{
	(void)state;
	dataset tr, va;
	blobs(&tr, 100, 3, 2, 1.0, 101);
	blobs(&va, 50, 3, 2, 1.0, 102);
	veil_model_spec s = mlp_spec(3, 2, 4, 0, VEIL_ACT_TANH);
	veil_train_config c = base_cfg(3, 16, 0.1f);
	c.momentum = 0.9f;
	c.patience = 2;
	set_dp(&c, 1.0, 1.0, 12);
	veil_trainer *t = trainer(&s, &c, 100);
	run(t, &tr.m, &va.m, 10); /* one validation, mid-epoch 2 */
	veil_buf buf = {0};
	CHECK(veil_trainer_save(t, &buf, &e_));
	size_t n = t->model->n_params;
	/* header, params, best params, momentum, checksum */
	assert_int_equal(buf.len, 208 + 4 * n * 3 + 32);
	assert_memory_equal(buf.data, "VEILCKPT", 8);
	veil_trainer *r = NULL;
	veil_err err;
	/* every truncation */
	for (size_t len = 0; len < buf.len; len++) {
		assert_int_equal(veil_trainer_load(&s, &c, 100, buf.data, len, &r, &err), VEIL_E_CORRUPT);
		assert_null(r);
	}
	/* trailing bytes */
	uint8_t *big = malloc(buf.len + 1);
	assert_non_null(big);
	memcpy(big, buf.data, buf.len);
	big[buf.len] = 0;
	assert_int_equal(veil_trainer_load(&s, &c, 100, big, buf.len + 1, &r, &err), VEIL_E_CORRUPT);
	free(big);
	/* every bit flip */
	for (size_t i = 0; i < buf.len * 8; i++) {
		buf.data[i / 8] ^= (uint8_t)(1u << (i % 8));
		veil_status st = veil_trainer_load(&s, &c, 100, buf.data, buf.len, &r, &err);
		buf.data[i / 8] ^= (uint8_t)(1u << (i % 8));
		if (st != VEIL_E_CORRUPT && st != VEIL_E_UNSUPPORTED)
			fail_msg("bit %zu: %s", i, veil_status_str(st));
		assert_null(r);
	}
	CHECK(veil_trainer_load(&s, &c, 100, buf.data, buf.len, &r, &e_));
	veil_trainer_free(r);
	/* another spec, config, data size */
	veil_model_spec s2 = s;
	s2.hidden[0] = 5;
	assert_int_equal(veil_trainer_load(&s2, &c, 100, buf.data, buf.len, &r, &err), VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "another model spec"));
	s2 = s, s2.activation = VEIL_ACT_RELU;
	assert_int_equal(veil_trainer_load(&s2, &c, 100, buf.data, buf.len, &r, &err), VEIL_E_INVALID);
	veil_train_config c2 = c;
	c2.lr = 0.2f;
	assert_int_equal(veil_trainer_load(&s, &c2, 100, buf.data, buf.len, &r, &err), VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "another training config"));
	c2 = c, c2.noise_multiplier = 1.5;
	assert_int_equal(veil_trainer_load(&s, &c2, 100, buf.data, buf.len, &r, &err), VEIL_E_INVALID);
	assert_int_equal(veil_trainer_load(&s, &c, 101, buf.data, buf.len, &r, &err), VEIL_E_INVALID);
	c2 = c, c2.dp = false;
	assert_int_equal(veil_trainer_load(&s, &c2, 100, buf.data, buf.len, &r, &err), VEIL_E_CORRUPT);
	/* the config's dp_seed is not needed: the checkpoint's is used */
	c2 = c;
	memset(c2.dp_seed, 0, sizeof c2.dp_seed);
	CHECK(veil_trainer_load(&s, &c2, 100, buf.data, buf.len, &r, &e_));
	veil_trainer_free(r);
	/* a version from the future */
	uint8_t *p = malloc(buf.len + 1);
	assert_non_null(p);
	memcpy(p, buf.data, buf.len);
	le32(p + 8, 2);
	reseal(p, buf.len);
	assert_int_equal(veil_trainer_load(&s, &c, 100, p, buf.len, &r, &err), VEIL_E_UNSUPPORTED);
	/* forged headers with a good checksum: each field checked */
	struct {
		size_t off;
		int width;
		uint64_t value;
		const char *needle;
	} forged[] = {
	        {12, 4, 0x11, "unknown flags"},
	        {12, 4, 0x07, "early stopping"},
	        {88, 8, 11, "step count"},
	        {96, 8, 4, "epoch counters"},
	        {104, 8, 7, "epoch counters"},
	        {112, 8, 9, "one update per step"},
	        {120, 8, 0x3ff0000000000000ull, "learning rate"},
	        {128, 8, 0x7ff0000000000000ull, "best validation"},
	        {136, 8, 2, "best validation"},
	        {144, 8, 2, "without improvement"},
	        {152, 8, 0, "last validation"},
	        {152, 8, 3, "last validation"},
	        {160, 8, 999, "counts"},
	        {168, 4, 2, "counts"},
	        {172, 4, 1, "counts"},
	};
	for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
		memcpy(p, buf.data, buf.len);
		if (forged[i].width == 4)
			le32(p + forged[i].off, (uint32_t)forged[i].value);
		else
			le64(p + forged[i].off, forged[i].value);
		reseal(p, buf.len);
		veil_status st = veil_trainer_load(&s, &c, 100, p, buf.len, &r, &err);
		if (st != VEIL_E_CORRUPT || !strstr(err.msg, forged[i].needle))
			fail_msg("forged field at %zu: %s: %s", forged[i].off, veil_status_str(st), err.msg);
		assert_null(r);
	}
	/* a NaN parameter, a zero dp_seed */
	memcpy(p, buf.data, buf.len);
	le32(p + 208 + 4, 0x7fc00000u);
	reseal(p, buf.len);
	assert_int_equal(veil_trainer_load(&s, &c, 100, p, buf.len, &r, &err), VEIL_E_CORRUPT);
	assert_non_null(strstr(err.msg, "not finite"));
	memcpy(p, buf.data, buf.len);
	memset(p + 176, 0, 32);
	reseal(p, buf.len);
	assert_int_equal(veil_trainer_load(&s, &c, 100, p, buf.len, &r, &err), VEIL_E_CORRUPT);
	free(p);
	veil_buf_free(&buf);
	veil_trainer_free(t);
	ds_free(&tr);
	ds_free(&va);
}

/* The example of docs/formats/checkpoint.md, section 7: a fresh trainer's
 * checkpoint is exactly those 252 bytes (digests, counters, the seed's
 * initial parameters, checksum). */
static void test_checkpoint_vector(void **state)
{
	(void)state;
	static const uint8_t want[252] = {
	        0x56, 0x45, 0x49, 0x4c, 0x43, 0x4b, 0x50, 0x54, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	        0x00, 0x1b, 0x9d, 0x70, 0xea, 0x29, 0x29, 0x0b, 0x6a, 0xd8, 0xfc, 0xa5, 0xf4, 0x63, 0x65,
	        0x81, 0x58, 0x1f, 0x27, 0x37, 0x60, 0x59, 0x8e, 0x13, 0x7d, 0x7f, 0x94, 0xd3, 0x8d, 0xde,
	        0xb7, 0xea, 0xdc, 0x13, 0x00, 0x8d, 0x74, 0xf0, 0xc1, 0x84, 0x98, 0x6b, 0x49, 0xd0, 0xc5,
	        0x34, 0xdd, 0xe4, 0xad, 0xe4, 0x77, 0x5d, 0x02, 0xec, 0x13, 0x80, 0x14, 0x22, 0x94, 0x7a,
	        0x4a, 0xfd, 0x42, 0xbd, 0x9b, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	        0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x03, 0x00, 0x00, 0x00, 0x00,
	        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf5, 0xd7,
	        0x61, 0xbf, 0x88, 0xbe, 0x09, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x2b, 0x84, 0x37, 0xef, 0x96,
	        0xcd, 0xec, 0xd2, 0x1f, 0x64, 0x25, 0x39, 0x67, 0xf8, 0x4f, 0x7c, 0x73, 0x4a, 0xf2, 0xdb,
	        0xb3, 0xe6, 0xed, 0x1a, 0xff, 0x58, 0xf7, 0x7d, 0x4e, 0x0d, 0xbd, 0x76};
	veil_model_spec s = linear_spec(VEIL_MODEL_LOGREG, 2, 2);
	veil_train_config c = base_cfg(1, 2, 0.5f);
	c.seed = 1;
	veil_trainer *t = trainer(&s, &c, 4);
	veil_buf buf = {0};
	CHECK(veil_trainer_save(t, &buf, &e_));
	assert_int_equal(buf.len, sizeof want);
	assert_memory_equal(buf.data, want, sizeof want);
	/* and it loads */
	veil_trainer *r = NULL;
	CHECK(veil_trainer_load(&s, &c, 4, want, sizeof want, &r, &e_));
	assert_true(veil_trainer_model(r)->params[0] == -0.882201493f);
	veil_trainer_free(r);
	veil_buf_free(&buf);
	veil_trainer_free(t);
}

/* ---- Fashion-MNIST ---- */

#define FASHION_DIR_DEFAULT "/usr/share/datasets/fashion-mnist"

static void load_fashion(const char *images, const char *labels, float **x, int32_t **y, size_t *rows)
{
	const char *dir = getenv("VEIL_FASHION_MNIST_DIR");
	char pi[512], pl[512];
	snprintf(pi, sizeof pi, "%s/%s", dir && *dir ? dir : FASHION_DIR_DEFAULT, images);
	snprintf(pl, sizeof pl, "%s/%s", dir && *dir ? dir : FASHION_DIR_DEFAULT, labels);
	if (access(pi, R_OK) != 0 || access(pl, R_OK) != 0)
		fail_msg("%s is missing: run scripts/deps.sh (it installs Debian's dataset-fashion-mnist)",
		         pi);
	veil_idx im, lb;
	CHECK(veil_idx_load(pi, VEIL_IDX_BYTES_DEFAULT, &im, &e_));
	CHECK(veil_idx_load(pl, VEIL_IDX_BYTES_DEFAULT, &lb, &e_));
	size_t cols;
	CHECK(veil_idx_to_matrix(&im, &lb, x, y, rows, &cols, &e_));
	assert_int_equal(cols, 784);
	veil_idx_free(&im);
	veil_idx_free(&lb);
}

/* One epoch of the MLP (784-256-10 ReLU, batch 256, SGD lr 0.1
 * momentum 0.9), non-private: more than 80% test accuracy. */
static void test_fashion_mnist(void **state)
{
	(void)state;
	float *xtr, *xte;
	int32_t *ytr, *yte;
	size_t ntr, nte;
	load_fashion("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", &xtr, &ytr, &ntr);
	load_fashion("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", &xte, &yte, &nte);
	assert_int_equal(ntr, 60000);
	assert_int_equal(nte, 10000);
	veil_matrix tr = {.x = xtr, .y = ytr, .rows = ntr, .cols = 784};
	veil_matrix te = {.x = xte, .y = yte, .rows = nte, .cols = 784};
	veil_model_spec s = mlp_spec(784, 10, 256, 0, VEIL_ACT_RELU);
	veil_train_config c = base_cfg(1, 256, 0.1f);
	c.momentum = 0.9f;
	veil_trainer *t = trainer(&s, &c, ntr);
	assert_int_equal(veil_trainer_steps_per_epoch(t), 235);
	assert_int_equal(run(t, &tr, NULL, 1000), 235);
	double loss, acc;
	CHECK(veil_model_loss(veil_trainer_model(t), &te, &loss, &acc, &e_));
	print_message("# Fashion-MNIST, 1 epoch: test accuracy %.4f, loss %.4f\n", acc, loss);
	assert_true(acc > 0.80);
	veil_trainer_free(t);
	free(xtr);
	free(ytr);
	free(xte);
	free(yte);
}

/* ---- the fuzz target's seed corpus ---- */

/* These must match fuzz/fuzz_checkpoint.c's two set-ups. */
static void fuzz_setup(int mode, veil_model_spec *s, veil_train_config *c)
{
	if (mode == 0) {
		*s = mlp_spec(3, 2, 4, 0, VEIL_ACT_TANH);
		*c = base_cfg(3, 4, 0.1f);
		c->momentum = 0.9f;
		c->patience = 2;
	} else {
		*s = linear_spec(VEIL_MODEL_LOGREG, 3, 2);
		*c = base_cfg(3, 4, 0.05f);
		c->optimizer = VEIL_OPT_ADAM;
		c->schedule = VEIL_SCHED_COSINE;
		set_dp(c, 1.0, 1.0, 1);
	}
}

static void fuzz_data(float x[30], int32_t y[10])
{
	for (size_t r = 0; r < 10; r++) {
		y[r] = (int32_t)(r % 2);
		for (size_t k = 0; k < 3; k++)
			x[r * 3 + k] =
			        (float)((r % 2) ? 1.0 : -1.0) * (float)(k + 1) * 0.5f + (float)r * 0.01f;
	}
}

static void write_seed(const char *dir, const char *name, int mode, uint64_t steps, bool validate)
{
	veil_model_spec s;
	veil_train_config c;
	fuzz_setup(mode, &s, &c);
	float x[30];
	int32_t y[10];
	fuzz_data(x, y);
	veil_matrix d = {.x = x, .y = y, .rows = 10, .cols = 3};
	veil_trainer *t = trainer(&s, &c, 10);
	run(t, &d, validate ? &d : NULL, steps);
	veil_buf buf = {0};
	uint8_t m = (uint8_t)mode;
	CHECK(veil_buf_append(&buf, &m, 1, &e_));
	CHECK(veil_trainer_save(t, &buf, &e_));
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf.data, 1, buf.len, f), buf.len);
	assert_int_equal(fclose(f), 0);
	veil_buf_free(&buf);
	veil_trainer_free(t);
}

static void test_write_corpus(void **state)
{
	(void)state;
	const char *dir = getenv("VEIL_CKPT_CORPUS");
	if (!dir || !*dir)
		skip();
	write_seed(dir, "mlp-momentum-validated", 0, 5, true);
	write_seed(dir, "logreg-dp-adam", 1, 4, false);
	write_seed(dir, "mlp-fresh", 0, 0, false);
}

int main(void)
{
	veil_err err = {0};
	if (veil_crypto_init(&err) != VEIL_OK) {
		fprintf(stderr, "crypto init: %s\n", err.msg);
		return 1;
	}
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_spec_check),
	        cmocka_unit_test(test_config_check),
	        cmocka_unit_test(test_gradients),
	        cmocka_unit_test(test_tempered_is_tanh),
	        cmocka_unit_test(test_stable_losses),
	        cmocka_unit_test(test_predict),
	        cmocka_unit_test(test_per_example_norms),
	        cmocka_unit_test(test_clipping),
	        cmocka_unit_test(test_clipping_trainer),
	        cmocka_unit_test(test_noise),
	        cmocka_unit_test(test_noise_trainer),
	        cmocka_unit_test(test_poisson),
	        cmocka_unit_test(test_empty_batch),
	        cmocka_unit_test(test_optimizers),
	        cmocka_unit_test(test_schedules),
	        cmocka_unit_test(test_learns_logreg),
	        cmocka_unit_test(test_learns_mlp),
	        cmocka_unit_test(test_determinism),
	        cmocka_unit_test(test_resume),
	        cmocka_unit_test(test_early_stopping),
	        cmocka_unit_test(test_divergence),
	        cmocka_unit_test(test_bad_data),
	        cmocka_unit_test(test_checkpoint_refusals),
	        cmocka_unit_test(test_checkpoint_vector),
	        cmocka_unit_test(test_fashion_mnist),
	        cmocka_unit_test(test_write_corpus),
	};
	/* The corpus writer is a tool, not a test: it runs only when asked
	 * (VEIL_CKPT_CORPUS=DIR), so that the suite has no skipped case. */
	const char *corpus = getenv("VEIL_CKPT_CORPUS");
	size_t n = sizeof tests / sizeof tests[0] - (corpus && *corpus ? 0 : 1);
	return _cmocka_run_group_tests("tests", tests, n, NULL, NULL);
}
