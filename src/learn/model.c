/*
 * Dense models in float32 (veil/learn.h): spec checks, the parameter
 * layout, initialisation, the forward pass, the losses and backpropagation.
 *
 * Every matrix product is one cblas_sgemm over a whole batch: forward
 * A_i = f(A_{i-1}·W_i + b_i), backward delta_{i-1} = (delta_i·W_iᵀ) ⊙
 * f'(A_{i-1}) and the gradient W_i = A_{i-1}ᵀ·delta_i. Elementwise work
 * (bias, activation, softmax) is in plain loops. Activation derivatives are
 * taken from the activation's output, so the forward pass keeps only A_i.
 *
 * The losses are the mean cross-entropy of a softmax over the classes,
 * computed as log-sum-exp minus the true logit with the row's maximum
 * subtracted first, and for LOGREG the binary cross-entropy of one logit z
 * in the stable form max(z, 0) − y·z + log1p(exp(−|z|)). In both the delta
 * at the output is p − onehot(y).
 */
#include "learn_int.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "veil/crypto.h"

#define ALIGN 64

void veil_model_spec_defaults(veil_model_spec *spec)
{
	memset(spec, 0, sizeof *spec);
	spec->kind = VEIL_MODEL_MLP;
	spec->activation = VEIL_ACT_RELU;
	spec->ts_scale = 2.0f;
	spec->ts_temperature = 2.0f;
	spec->ts_offset = 1.0f;
}

static bool finite_f(float v)
{
	return isfinite(v) != 0;
}

veil_status veil_model_spec_check(const veil_model_spec *spec, veil_err *err)
{
	if (!spec)
		return LERR(err, VEIL_E_INVALID, "no model spec");
	if (spec->kind != VEIL_MODEL_LOGREG && spec->kind != VEIL_MODEL_SOFTMAX &&
	    spec->kind != VEIL_MODEL_MLP)
		return LERR(err, VEIL_E_INVALID, "model kind %d is not logreg, softmax or mlp",
		            (int)spec->kind);
	if (spec->inputs < 1 || spec->inputs > VEIL_LEARN_WIDTH_MAX)
		return LERR(err, VEIL_E_INVALID, "model inputs %zu: must be 1..%d", spec->inputs,
		            VEIL_LEARN_WIDTH_MAX);
	if (spec->classes < 2 || spec->classes > VEIL_LEARN_CLASSES_MAX)
		return LERR(err, VEIL_E_INVALID, "model classes %zu: must be 2..%d", spec->classes,
		            VEIL_LEARN_CLASSES_MAX);
	if (spec->kind == VEIL_MODEL_LOGREG && spec->classes != 2) {
		veil_err_set(err, VEIL_E_INVALID, "logistic regression has 2 classes, not %zu",
		             spec->classes);
		return veil_err_hint(err, "use softmax regression for more classes");
	}
	if (spec->kind == VEIL_MODEL_MLP) {
		if (spec->n_hidden < 1 || spec->n_hidden > VEIL_LEARN_HIDDEN_MAX)
			return LERR(err, VEIL_E_INVALID, "an MLP has 1..%d hidden layers, not %zu",
			            VEIL_LEARN_HIDDEN_MAX, spec->n_hidden);
		for (size_t i = 0; i < spec->n_hidden; i++)
			if (spec->hidden[i] < 1 || spec->hidden[i] > VEIL_LEARN_WIDTH_MAX)
				return LERR(err, VEIL_E_INVALID,
				            "hidden layer %zu has %zu units: must be 1..%d", i,
				            spec->hidden[i], VEIL_LEARN_WIDTH_MAX);
		if (spec->activation != VEIL_ACT_RELU && spec->activation != VEIL_ACT_TANH &&
		    spec->activation != VEIL_ACT_TEMPERED_SIGMOID)
			return LERR(err, VEIL_E_INVALID,
			            "activation %d is not relu, tanh or tempered sigmoid",
			            (int)spec->activation);
		if (spec->activation == VEIL_ACT_TEMPERED_SIGMOID &&
		    (!finite_f(spec->ts_scale) || !finite_f(spec->ts_temperature) ||
		     !finite_f(spec->ts_offset) || spec->ts_scale <= 0.0f || spec->ts_temperature <= 0.0f))
			return LERR(
			        err, VEIL_E_INVALID,
			        "tempered sigmoid: scale and temperature must be finite and > 0, the offset "
			        "finite");
	} else if (spec->n_hidden != 0) {
		return LERR(err, VEIL_E_INVALID, "%s regression has no hidden layers",
		            spec->kind == VEIL_MODEL_LOGREG ? "logistic" : "softmax");
	}
	/* Widths are at most 2^16, so each product fits and the sum of at most
	 * 9 layers cannot overflow before it is compared. */
	size_t total = 0, in = spec->inputs;
	size_t n_layers = spec->kind == VEIL_MODEL_MLP ? spec->n_hidden + 1 : 1;
	for (size_t i = 0; i < n_layers; i++) {
		size_t out = i + 1 < n_layers                  ? spec->hidden[i]
		             : spec->kind == VEIL_MODEL_LOGREG ? 1
		                                               : spec->classes;
		total += in * out + out;
		if (total > VEIL_LEARN_PARAMS_MAX)
			return LERR(err, VEIL_E_LIMIT, "the model has more than %u parameters",
			            (unsigned)VEIL_LEARN_PARAMS_MAX);
		in = out;
	}
	return VEIL_OK;
}

/* Zeroed, 64-byte aligned room for n floats (at least one). */
static void *alloc_floats(size_t n)
{
	size_t bytes = (n ? n : 1) * sizeof(float);
	bytes = (bytes + ALIGN - 1) / ALIGN * ALIGN;
	void *p = aligned_alloc(ALIGN, bytes);
	if (p)
		memset(p, 0, bytes);
	return p;
}

veil_status model_alloc(const veil_model_spec *spec, veil_model **out, veil_err *err)
{
	*out = NULL;
	veil_status st = veil_model_spec_check(spec, err);
	if (st != VEIL_OK)
		return st;
	veil_model *m = calloc(1, sizeof *m);
	if (!m)
		return LERR(err, VEIL_E_NOMEM, "out of memory for a model");
	m->spec = *spec;
	if (spec->kind != VEIL_MODEL_MLP)
		memset(m->spec.hidden, 0, sizeof m->spec.hidden);
	m->layers = spec->kind == VEIL_MODEL_MLP ? spec->n_hidden + 1 : 1;
	size_t in = spec->inputs, off = 0;
	for (size_t i = 0; i < m->layers; i++) {
		size_t o = i + 1 < m->layers                 ? spec->hidden[i]
		           : spec->kind == VEIL_MODEL_LOGREG ? 1
		                                             : spec->classes;
		m->in[i] = in;
		m->out[i] = o;
		m->w_off[i] = off;
		m->b_off[i] = off + in * o;
		off += in * o + o;
		in = o;
	}
	m->n_params = off;
	m->params = alloc_floats(off);
	if (!m->params) {
		free(m);
		return LERR(err, VEIL_E_NOMEM, "out of memory for %zu parameters", off);
	}
	*out = m;
	return VEIL_OK;
}

void model_init_params(veil_model *m, lrng *g)
{
	lrng_start(g, LRNG_INIT, 0);
	for (size_t i = 0; i < m->layers; i++) {
		/* He uniform for ReLU layers (the bound sqrt(6/fan_in)), Glorot
		 * uniform (sqrt(6/(fan_in+fan_out))) for tanh, the tempered
		 * sigmoid and the output layer, which feeds a softmax. */
		bool relu = i + 1 < m->layers && m->spec.activation == VEIL_ACT_RELU;
		double fan = relu ? (double)m->in[i] : (double)(m->in[i] + m->out[i]);
		float bound = (float)sqrt(6.0 / fan);
		float *w = m->params + m->w_off[i];
		size_t n = m->in[i] * m->out[i];
		for (size_t k = 0; k < n; k++) {
			/* 24 bits: uniform on a grid in [-1, 1) */
			float u = (float)(lrng_u32(g) >> 8) * 0x1p-23f - 1.0f;
			w[k] = u * bound;
		}
		memset(m->params + m->b_off[i], 0, m->out[i] * sizeof(float));
	}
}

veil_status veil_model_new(const veil_model_spec *spec, uint64_t seed, veil_model **out, veil_err *err)
{
	*out = NULL;
	veil_model *m;
	veil_status st = model_alloc(spec, &m, err);
	if (st != VEIL_OK)
		return st;
	uint8_t key[LRNG_KEY_LEN];
	lrng g;
	st = lrng_seed_key(seed, key, err);
	if (st == VEIL_OK)
		st = lrng_new(&g, key, err);
	veil_wipe(key, sizeof key);
	if (st != VEIL_OK) {
		veil_model_free(m);
		return st;
	}
	model_init_params(m, &g);
	bool ok = lrng_ok(&g);
	lrng_free(&g);
	if (!ok) {
		veil_model_free(m);
		return LERR(err, VEIL_E_CRYPTO, "the initialisation generator failed");
	}
	*out = m;
	return VEIL_OK;
}

void veil_model_free(veil_model *m)
{
	if (!m)
		return;
	if (m->params) {
		veil_wipe(m->params, m->n_params * sizeof(float));
		free(m->params);
	}
	veil_wipe(m, sizeof *m);
	free(m);
}

const veil_model_spec *veil_model_get_spec(const veil_model *m)
{
	return &m->spec;
}

size_t veil_model_layers(const veil_model *m)
{
	return m->layers;
}

void veil_model_layer(const veil_model *m, size_t i, float **w, size_t *in, size_t *out, float **b)
{
	if (i >= m->layers) {
		*w = *b = NULL;
		*in = *out = 0;
		return;
	}
	*w = m->params + m->w_off[i];
	*b = m->params + m->b_off[i];
	*in = m->in[i];
	*out = m->out[i];
}

size_t veil_model_param_count(const veil_model *m)
{
	return m->n_params;
}

float *veil_model_params(veil_model *m)
{
	return m->params;
}

/* ---- workspace ---- */

static void wipe_free(void *p, size_t n)
{
	if (p) {
		veil_wipe(p, n);
		free(p);
	}
}

void lws_free(lws *ws)
{
	/* The batch, its activations and deltas are training data or
	 * functions of it, and the sampled rows are DP secrets: wipe them. */
	wipe_free(ws->x, ws->cap * ws->width[0] * sizeof(float));
	wipe_free(ws->y, ws->cap * sizeof *ws->y);
	wipe_free(ws->idx, ws->cap * sizeof *ws->idx);
	for (size_t i = 0; i < LAYERS_MAX; i++) {
		wipe_free(ws->act[i], ws->cap * ws->width[i + 1] * sizeof(float));
		wipe_free(ws->delta[i], ws->cap * ws->width[i + 1] * sizeof(float));
	}
	wipe_free(ws->norm2, ws->cap * sizeof *ws->norm2);
	wipe_free(ws->scale, ws->cap * sizeof *ws->scale);
	memset(ws, 0, sizeof *ws);
}

veil_status lws_reserve(lws *ws, const veil_model *m, size_t rows, bool train, veil_err *err)
{
	if (m->layers < 1 || m->layers > LAYERS_MAX) /* model_alloc's invariant */
		return LERR(err, VEIL_E_INTERNAL, "a model of %zu layers", m->layers);
	if (rows <= ws->cap && (!train || ws->train))
		return VEIL_OK;
	size_t cap = rows > ws->cap ? rows : ws->cap;
	if (cap < 1)
		cap = 1;
	lws n = {.cap = cap, .train = train};
	n.width[0] = m->spec.inputs;
	for (size_t i = 0; i < m->layers; i++)
		n.width[i + 1] = m->out[i];
	bool ok = (n.x = alloc_floats(cap * m->spec.inputs)) && (n.y = calloc(cap, sizeof *n.y)) &&
	          (n.idx = calloc(cap, sizeof *n.idx));
	for (size_t i = 0; ok && i < m->layers; i++) {
		ok = (n.act[i] = alloc_floats(cap * m->out[i])) != NULL;
		if (ok && train)
			ok = (n.delta[i] = alloc_floats(cap * m->out[i])) != NULL;
	}
	if (ok && train)
		ok = (n.norm2 = calloc(cap, sizeof *n.norm2)) && (n.scale = calloc(cap, sizeof *n.scale));
	if (!ok) {
		lws_free(&n);
		return LERR(err, VEIL_E_NOMEM, "out of memory for a batch of %zu rows", rows);
	}
	/* The sampled rows survive a resize (dp_sample grows as it draws). */
	if (ws->idx)
		memcpy(n.idx, ws->idx, ws->cap * sizeof *n.idx);
	lws_free(ws);
	*ws = n;
	return VEIL_OK;
}

/* ---- forward ---- */

static void activate(const veil_model_spec *s, float *a, size_t n)
{
	switch (s->activation) {
	case VEIL_ACT_RELU:
		break; /* fused with the bias in model_forward */
	case VEIL_ACT_TANH:
		for (size_t k = 0; k < n; k++)
			a[k] = tanhf(a[k]);
		break;
	case VEIL_ACT_TEMPERED_SIGMOID: {
		float sc = s->ts_scale, t = s->ts_temperature, o = s->ts_offset;
		for (size_t k = 0; k < n; k++) {
			float z = t * a[k];
			/* σ(z) without overflow: exp of a non-positive number only */
			float e = expf(-fabsf(z));
			float sig = z >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
			a[k] = sc * sig - o;
		}
		break;
	}
	}
}

/* The elementwise kernels take restrict parameters: gcc honours restrict
 * there, not on local pointers, and needs it to vectorise (FOR8). */
static void bias_relu(float *restrict z, const float *restrict b, size_t n)
{
	FOR8(k, n, float v = z[k] + b[k]; z[k] = v > 0.0f ? v : 0.0f;);
}

static void bias_add(float *restrict z, const float *restrict b, size_t n)
{
	FOR8(k, n, z[k] += b[k];);
}

static void add_row(float *restrict acc, const float *restrict row, size_t n)
{
	FOR8(k, n, acc[k] += row[k];);
}

void model_forward(const veil_model *m, const float *params, lws *ws, const float *x, size_t rows)
{
	if (rows == 0)
		return;
	const float *a = x;
	for (size_t i = 0; i < m->layers; i++) {
		size_t in = m->in[i], out = m->out[i];
		float *z = ws->act[i];
		const float *b = params + m->b_off[i];
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)out, (int)in, 1.0f, a,
		            (int)in, params + m->w_off[i], (int)out, 0.0f, z, (int)out);
		bool relu = i + 1 < m->layers && m->spec.activation == VEIL_ACT_RELU;
		for (size_t r = 0; r < rows; r++)
			(relu ? bias_relu : bias_add)(z + r * out, b, out);
		if (i + 1 < m->layers)
			activate(&m->spec, z, rows * out);
		a = z;
	}
}

/* Sum of -log p_y over the rows; logits become probabilities. */
static double softmax_rows(const veil_model *m, lws *ws, const int32_t *y, size_t rows, bool train,
                           float scale, size_t *correct)
{
	size_t c = m->spec.classes, last = m->layers - 1;
	float *p = ws->act[last];
	double loss = 0.0;
	for (size_t r = 0; r < rows; r++) {
		float *z = p + r * c;
		size_t arg = 0;
		for (size_t k = 1; k < c; k++)
			if (z[k] > z[arg])
				arg = k;
		float mx = z[arg];
		/* −log p_y = log Σ exp(z − max) − (z_y − max): every exp has an
		 * argument ≤ 0 and the sum is ≥ 1, so nothing overflows and a
		 * very wrong prediction gives a large loss, not infinity. */
		float zt = y ? z[y[r]] : 0.0f;
		double sum = 0.0;
		for (size_t k = 0; k < c; k++) {
			z[k] = expf(z[k] - mx);
			sum += z[k];
		}
		if (y) {
			loss += log(sum) - ((double)zt - (double)mx);
			if (correct && arg == (size_t)y[r])
				(*correct)++;
		}
		float inv = (float)(1.0 / sum);
		for (size_t k = 0; k < c; k++)
			z[k] *= inv;
		if (train) {
			float *d = ws->delta[last] + r * c;
			for (size_t k = 0; k < c; k++)
				d[k] = z[k] * scale;
			d[y[r]] -= scale;
		}
	}
	return loss;
}

static double sigmoid_rows(lws *ws, size_t last, const int32_t *y, size_t rows, bool train, float scale,
                           size_t *correct)
{
	float *p = ws->act[last];
	double loss = 0.0;
	for (size_t r = 0; r < rows; r++) {
		double z = p[r];
		double e = exp(-fabs(z));
		double sig = z >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
		if (y) {
			double t = (double)y[r];
			loss += (z > 0.0 ? z : 0.0) - t * z + log1p(e);
			if (correct && (z > 0.0) == (y[r] == 1))
				(*correct)++;
			if (train)
				ws->delta[last][r] = (float)((sig - t) * scale);
		}
		p[r] = (float)sig;
	}
	return loss;
}

double model_output(const veil_model *m, lws *ws, const int32_t *y, size_t rows, bool train, float scale,
                    size_t *correct)
{
	if (m->spec.kind == VEIL_MODEL_LOGREG)
		return sigmoid_rows(ws, m->layers - 1, y, rows, train, scale, correct);
	return softmax_rows(m, ws, y, rows, train, scale, correct);
}

/* ---- backward ---- */

/* d ⊙= f'(pre-activation), with f' written from the output a = f(z). */
static void activation_grad(const veil_model_spec *s, const float *restrict a, float *restrict d, size_t n)
{
	switch (s->activation) {
	case VEIL_ACT_RELU:
		FOR8(k, n, d[k] = a[k] > 0.0f ? d[k] : 0.0f;);
		break;
	case VEIL_ACT_TANH:
		FOR8(k, n, d[k] *= 1.0f - a[k] * a[k];);
		break;
	case VEIL_ACT_TEMPERED_SIGMOID: {
		/* f = s·σ(T·z) − o, so σ = (a + o)/s and f' = s·T·σ(1 − σ). */
		float st = s->ts_scale * s->ts_temperature, o = s->ts_offset, inv = 1.0f / s->ts_scale;
		FOR8(k, n, float sig = (a[k] + o) * inv; d[k] *= st * sig * (1.0f - sig););
		break;
	}
	}
}

void model_backprop(const veil_model *m, const float *params, lws *ws, size_t rows)
{
	if (rows == 0)
		return;
	for (size_t i = m->layers - 1; i >= 1; i--) {
		size_t in = m->in[i], out = m->out[i];
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)in, (int)out, 1.0f,
		            ws->delta[i], (int)out, params + m->w_off[i], (int)out, 0.0f, ws->delta[i - 1],
		            (int)in);
		activation_grad(&m->spec, ws->act[i - 1], ws->delta[i - 1], rows * in);
	}
}

void model_grads(const veil_model *m, const lws *ws, const float *x, size_t rows, float *grad)
{
	if (rows == 0) {
		memset(grad, 0, m->n_params * sizeof(float));
		return;
	}
	for (size_t i = 0; i < m->layers; i++) {
		size_t in = m->in[i], out = m->out[i];
		const float *a = i == 0 ? x : ws->act[i - 1];
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)in, (int)out, (int)rows, 1.0f, a,
		            (int)in, ws->delta[i], (int)out, 0.0f, grad + m->w_off[i], (int)out);
		float *gb = grad + m->b_off[i];
		const float *d = ws->delta[i];
		memcpy(gb, d, out * sizeof(float));
		for (size_t r = 1; r < rows; r++)
			add_row(gb, d + r * out, out);
	}
}

/* ---- predictions and evaluation ---- */

#define EVAL_ROWS 1024

veil_status veil_model_predict(const veil_model *m, const float *x, size_t rows, float *probs, veil_err *err)
{
	if (!m || (rows && (!x || !probs)))
		return LERR(err, VEIL_E_INVALID, "predict: no model, inputs or output");
	lws ws = {0};
	veil_status st = lws_reserve(&ws, m, rows < EVAL_ROWS ? rows : EVAL_ROWS, false, err);
	if (st != VEIL_OK)
		return st;
	size_t c = m->spec.classes, last = m->layers - 1;
	for (size_t r0 = 0; r0 < rows; r0 += EVAL_ROWS) {
		size_t n = rows - r0 < EVAL_ROWS ? rows - r0 : EVAL_ROWS;
		model_forward(m, m->params, &ws, x + r0 * m->spec.inputs, n);
		(void)model_output(m, &ws, NULL, n, false, 0.0f, NULL);
		if (m->spec.kind == VEIL_MODEL_LOGREG) {
			for (size_t r = 0; r < n; r++) {
				probs[(r0 + r) * 2] = 1.0f - ws.act[last][r];
				probs[(r0 + r) * 2 + 1] = ws.act[last][r];
			}
		} else {
			memcpy(probs + r0 * c, ws.act[last], n * c * sizeof(float));
		}
	}
	lws_free(&ws);
	return VEIL_OK;
}

veil_status model_check_labels(const veil_model *m, const int32_t *y, size_t rows, size_t first,
                               veil_err *err)
{
	for (size_t r = 0; r < rows; r++)
		if (y[r] < 0 || (size_t)y[r] >= m->spec.classes)
			return LERR(err, VEIL_E_INVALID, "row %zu: a label outside 0..%zu", first + r,
			            m->spec.classes - 1);
	return VEIL_OK;
}

veil_status veil_model_loss(const veil_model *m, const veil_matrix *data, double *loss, double *accuracy,
                            veil_err *err)
{
	if (!m || !data || (data->rows && (!data->x || !data->y)))
		return LERR(err, VEIL_E_INVALID, "loss: no model or data");
	if (data->cols != m->spec.inputs)
		return LERR(err, VEIL_E_INVALID, "the data has %zu columns, the model %zu inputs", data->cols,
		            m->spec.inputs);
	if (data->rows == 0)
		return LERR(err, VEIL_E_INVALID, "no rows to evaluate");
	veil_status st = model_check_labels(m, data->y, data->rows, 0, err);
	if (st != VEIL_OK)
		return st;
	lws ws = {0};
	st = lws_reserve(&ws, m, data->rows < EVAL_ROWS ? data->rows : EVAL_ROWS, false, err);
	if (st != VEIL_OK)
		return st;
	double sum = 0.0;
	size_t correct = 0;
	for (size_t r0 = 0; r0 < data->rows; r0 += EVAL_ROWS) {
		size_t n = data->rows - r0 < EVAL_ROWS ? data->rows - r0 : EVAL_ROWS;
		model_forward(m, m->params, &ws, data->x + r0 * data->cols, n);
		sum += model_output(m, &ws, data->y + r0, n, false, 0.0f, &correct);
	}
	lws_free(&ws);
	if (loss)
		*loss = sum / (double)data->rows;
	if (accuracy)
		*accuracy = (double)correct / (double)data->rows;
	return VEIL_OK;
}
