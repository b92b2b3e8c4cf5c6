/*
 * Optimizers and learning-rate schedules, in PyTorch's formulations so that
 * hyperparameters carry over:
 *
 *   weight decay (torch.optim SGD/Adam `weight_decay`): g ← g + λ·p, on
 *     every parameter, biases included, as PyTorch applies it;
 *   SGD with momentum μ (dampening 0, not Nesterov): v ← μ·v + g (v starts
 *     at 0, so the first v is g, as PyTorch's first step sets it),
 *     p ← p − lr·v;
 *   Adam (Kingma & Ba, with PyTorch's bias correction): m ← β1·m + (1−β1)·g,
 *     v ← β2·v + (1−β2)·g², p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε);
 *   schedules: constant; step, lr·γ^⌊epoch / step_epochs⌋ (StepLR stepped
 *     each epoch); cosine, lr·(1 + cos(π·t/T))/2 for step t of T, per step
 *     (CosineAnnealingLR with T_max = T, eta_min = 0).
 *
 * Under DP the update is post-processing of the noisy gradient, so none of
 * this affects the privacy guarantee.
 *
 * An update is applied in two passes over the same arithmetic: the first
 * writes nothing and checks that every new parameter and state value is
 * finite, the second writes. A step that would diverge thus leaves the
 * state exactly as it was, without a copy of it.
 */
#include "learn_int.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "veil/crypto.h"

veil_status lopt_init(lopt *o, const veil_train_config *cfg, size_t n, veil_err *err)
{
	memset(o, 0, sizeof *o);
	o->kind = cfg->optimizer;
	o->n = n;
	o->weight_decay = cfg->weight_decay;
	o->momentum = cfg->momentum;
	o->beta1 = cfg->beta1;
	o->beta2 = cfg->beta2;
	o->eps = cfg->adam_eps;
	o->n_state = cfg->optimizer == VEIL_OPT_ADAM ? 2 : cfg->momentum > 0.0f ? 1 : 0;
	if (o->n_state) {
		o->state = calloc(o->n_state * n, sizeof(float));
		if (!o->state)
			return LERR(err, VEIL_E_NOMEM, "out of memory for the optimizer's state");
	}
	return VEIL_OK;
}

void lopt_free(lopt *o)
{
	if (o->state) {
		veil_wipe(o->state, o->n_state * o->n * sizeof(float));
		free(o->state);
	}
	memset(o, 0, sizeof *o);
}

/* 1 when x is infinite or NaN (NaN compares false), as an int so that
 * the checks below vectorise as an OR. */
static inline int bad(float x)
{
	return !(fabsf(x) <= FLT_MAX);
}

/* SGD (momentum μ, weight decay λ), a check pass and a write pass. The
 * kernels take restrict parameters: gcc honours restrict there, not on
 * local pointers, and needs it to vectorise (FOR8). */
static int sgd_check(const float *restrict p, const float *restrict g, const float *restrict v, size_t n,
                     float lr, float mu, float wd)
{
	int fail = 0;
	if (!v)
		FOR8(k, n, fail |= bad(p[k] - lr * (g[k] + wd * p[k])););
	else
		FOR8(k, n, float vn = mu * v[k] + (g[k] + wd * p[k]); fail |= bad(p[k] - lr * vn) | bad(vn););
	return fail;
}

static void sgd_write(float *restrict p, const float *restrict g, float *restrict v, size_t n, float lr,
                      float mu, float wd)
{
	if (!v)
		FOR8(k, n, p[k] = p[k] - lr * (g[k] + wd * p[k]););
	else
		FOR8(k, n, float vn = mu * v[k] + (g[k] + wd * p[k]); v[k] = vn; p[k] = p[k] - lr * vn;);
}

typedef struct adam_k {
	float wd, b1, b2, eps, step, bc2;
} adam_k;

static adam_k adam_consts(const lopt *o, double lr)
{
	double t = (double)(o->t + 1);
	return (adam_k){.wd = o->weight_decay,
	                .b1 = o->beta1,
	                .b2 = o->beta2,
	                .eps = o->eps,
	                .step = (float)(lr / (1.0 - pow((double)o->beta1, t))),
	                .bc2 = (float)sqrt(1.0 - pow((double)o->beta2, t))};
}

static int adam_check(const float *restrict p, const float *restrict g, const float *restrict m,
                      const float *restrict v, size_t n, adam_k c)
{
	int fail = 0;
	FOR8(k, n, float gk = g[k] + c.wd * p[k]; float mn = c.b1 * m[k] + (1.0f - c.b1) * gk;
	     float vn = c.b2 * v[k] + (1.0f - c.b2) * gk * gk;
	     float pn = p[k] - c.step * mn / (sqrtf(vn) / c.bc2 + c.eps);
	     fail |= bad(pn) | bad(mn) | bad(vn););
	return fail;
}

static void adam_write(float *restrict p, const float *restrict g, float *restrict m, float *restrict v,
                       size_t n, adam_k c)
{
	FOR8(k, n, float gk = g[k] + c.wd * p[k]; float mn = c.b1 * m[k] + (1.0f - c.b1) * gk;
	     float vn = c.b2 * v[k] + (1.0f - c.b2) * gk * gk;
	     p[k] = p[k] - c.step * mn / (sqrtf(vn) / c.bc2 + c.eps); m[k] = mn; v[k] = vn;);
}

bool lopt_step(lopt *o, float *params, const float *grad, double lr)
{
	if (o->kind == VEIL_OPT_ADAM) {
		adam_k c = adam_consts(o, lr);
		float *m = o->state, *v = o->state + o->n;
		if (adam_check(params, grad, m, v, o->n, c))
			return false;
		adam_write(params, grad, m, v, o->n, c);
	} else {
		float *v = o->n_state ? o->state : NULL;
		if (sgd_check(params, grad, v, o->n, (float)lr, o->momentum, o->weight_decay))
			return false;
		sgd_write(params, grad, v, o->n, (float)lr, o->momentum, o->weight_decay);
	}
	o->t++;
	return true;
}

double lr_at(const veil_train_config *cfg, uint64_t step, size_t epoch, uint64_t total_steps)
{
	double lr = cfg->lr;
	switch (cfg->schedule) {
	case VEIL_SCHED_CONSTANT:
		break;
	case VEIL_SCHED_STEP: {
		size_t drops = epoch / cfg->step_epochs; /* whole periods: integer division on purpose */
		lr *= pow((double)cfg->step_gamma, (double)drops);
		break;
	}
	case VEIL_SCHED_COSINE:
		lr *= 0.5 * (1.0 + cos(M_PI * (double)step / (double)total_steps));
		break;
	}
	return lr;
}
