/*
 * Training jobs after reading (docs/formats/job.md): the generator that
 * random tuning draws from, the resolution of trial i into a full run
 * configuration, the canonical summary line (`veil job status`), and the
 * warnings that compare what a job asks of the machine with what the host
 * says it has. The reader and the expansion into trials are in job.c.
 */
#include "veil/learn_job.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the generator ---- */

uint64_t veil_job_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Lemire, "Fast random integer generation in an interval" (2019): the high
 * word of x·n is uniform in [0, n) once the low words below 2^64 mod n are
 * rejected. The same steps as the data split's (src/learn/dataset.c). */
uint64_t veil_job_draw_below(uint64_t *state, uint64_t n)
{
	if (n == 0)
		return 0; /* no interval: nothing drawn (n = 1 draws once, like any other n) */
	unsigned __int128 m = (unsigned __int128)veil_job_splitmix64(state) * n;
	uint64_t lo = (uint64_t)m;
	if (lo < n) {
		uint64_t t = -n % n; /* 2^64 mod n */
		while (lo < t) {
			m = (unsigned __int128)veil_job_splitmix64(state) * n;
			lo = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

/* ---- trials ---- */

const char *veil_job_param_name(veil_job_param p)
{
	switch (p) {
	case VEIL_JOB_TUNE_LR:
		return "lr";
	case VEIL_JOB_TUNE_BATCH_SIZE:
		return "batch_size";
	case VEIL_JOB_TUNE_EPOCHS:
		return "epochs";
	case VEIL_JOB_TUNE_HIDDEN:
		return "hidden";
	case VEIL_JOB_TUNE_MAX_GRAD_NORM:
		return "max_grad_norm";
	case VEIL_JOB_TUNE_MOMENTUM:
		return "momentum";
	case VEIL_JOB_TUNE_WEIGHT_DECAY:
		return "weight_decay";
	case VEIL_JOB_TUNE_PARAMS:
		break;
	}
	return "?";
}

size_t veil_job_trials(const veil_job *job)
{
	return job->tuning.on ? job->tuning.trials : 1;
}

veil_status veil_job_trial(const veil_job *job, size_t i, veil_job_run *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	size_t n = veil_job_trials(job);
	if (i >= n)
		return veil_err_set(err, VEIL_E_INVALID, "job '%s' has %zu trial%s; there is no trial %zu",
		                    job->name, n, n == 1 ? "" : "s", i);
	*out = job->run;
	if (!job->tuning.on)
		return VEIL_OK;
	const veil_job_tuning *t = &job->tuning;
	for (int k = 0; k < VEIL_JOB_TUNE_PARAMS; k++) {
		if (!t->nvalues[k])
			continue;
		size_t v = t->picks[i][k];
		double x = t->values[k][v];
		switch ((veil_job_param)k) {
		case VEIL_JOB_TUNE_LR:
			out->train.lr = (float)x;
			break;
		case VEIL_JOB_TUNE_BATCH_SIZE:
			out->train.batch_size = (size_t)x;
			break;
		case VEIL_JOB_TUNE_EPOCHS:
			out->train.epochs = (size_t)x;
			break;
		case VEIL_JOB_TUNE_HIDDEN:
			memcpy(out->model.hidden, t->hidden[v], sizeof out->model.hidden);
			out->model.n_hidden = t->n_hidden[v];
			break;
		case VEIL_JOB_TUNE_MAX_GRAD_NORM:
			out->train.max_grad_norm = x;
			break;
		case VEIL_JOB_TUNE_MOMENTUM:
			out->train.momentum = (float)x;
			break;
		case VEIL_JOB_TUNE_WEIGHT_DECAY:
			out->train.weight_decay = (float)x;
			break;
		case VEIL_JOB_TUNE_PARAMS:
			break;
		}
	}
	return VEIL_OK;
}

/* ---- the summary ---- */

#define NUM_MAX 32

/* The shortest %g text that reads back as v. */
static void fmt_double(char out[NUM_MAX], double v)
{
	for (int prec = 1; prec <= 17; prec++) {
		(void)snprintf(out, NUM_MAX, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

static void fmt_float(char out[NUM_MAX], float v)
{
	for (int prec = 1; prec <= 9; prec++) {
		(void)snprintf(out, NUM_MAX, "%.*g", prec, (double)v);
		if ((float)strtod(out, NULL) == v)
			return;
	}
}

static veil_status put_ref(veil_buf *b, const veil_job_dataset *d, veil_err *err)
{
	if (d->version)
		return veil_buf_printf(b, err, "%s@%u", d->name, (unsigned)d->version);
	return veil_buf_printf(b, err, "%s", d->name);
}

static bool is_tuned(const veil_job *job, veil_job_param p)
{
	return job->tuning.on && job->tuning.nvalues[p] > 0;
}

/* " <key> <value>", or " <key> tuned" for a tuned parameter. */
static veil_status put_float(veil_buf *b, const veil_job *job, const char *key, veil_job_param p, float v,
                             veil_err *err)
{
	char num[NUM_MAX];
	if (p < VEIL_JOB_TUNE_PARAMS && is_tuned(job, p))
		return veil_buf_printf(b, err, " %s tuned", key);
	fmt_float(num, v);
	return veil_buf_printf(b, err, " %s %s", key, num);
}

static veil_status put_model(veil_buf *b, const veil_job *job, veil_err *err)
{
	static const char *const kinds[] = {"?", "logreg", "softmax", "mlp"};
	static const char *const acts[] = {"?", "relu", "tanh", "tempered_sigmoid"};
	const veil_model_spec *s = &job->run.model;
	veil_status st = veil_buf_printf(b, err, "%s", kinds[s->kind <= VEIL_MODEL_MLP ? s->kind : 0]);
	if (st || s->kind != VEIL_MODEL_MLP)
		return st;
	if (is_tuned(job, VEIL_JOB_TUNE_HIDDEN))
		st = veil_buf_printf(b, err, " hidden tuned");
	for (size_t i = 0; !st && i < s->n_hidden; i++)
		st = veil_buf_printf(b, err, "%s%zu", i ? "-" : " ", s->hidden[i]);
	if (!st)
		st = veil_buf_printf(b, err, " %s",
		                     acts[s->activation <= VEIL_ACT_TEMPERED_SIGMOID ? s->activation : 0]);
	if (!st && s->activation == VEIL_ACT_TEMPERED_SIGMOID) {
		char a[NUM_MAX], t[NUM_MAX], o[NUM_MAX];
		fmt_float(a, s->ts_scale);
		fmt_float(t, s->ts_temperature);
		fmt_float(o, s->ts_offset);
		st = veil_buf_printf(b, err, "(%s,%s,%s)", a, t, o);
	}
	return st;
}

static veil_status put_data(veil_buf *b, const veil_job *job, veil_err *err)
{
	char num[NUM_MAX];
	veil_status st = veil_buf_printf(b, err, "; data ");
	for (size_t i = 0; !st && i < job->n_datasets; i++) {
		if (i)
			st = veil_buf_printf(b, err, ", ");
		if (!st)
			st = put_ref(b, &job->datasets[i], err);
	}
	if (!st && job->has_test_dataset) {
		st = veil_buf_printf(b, err, "; test ");
		if (!st)
			st = put_ref(b, &job->test_dataset, err);
	} else if (!st) {
		fmt_double(num, job->run.test_split);
		st = veil_buf_printf(b, err, "; test split %s", num);
	}
	if (!st) {
		fmt_double(num, job->run.validation_split);
		st = veil_buf_printf(b, err, "; validation split %s", num);
	}
	if (!st && job->n_features)
		st = veil_buf_printf(b, err, "; %zu features", job->n_features);
	else if (!st && job->n_exclude)
		st = veil_buf_printf(b, err, "; features all but %zu", job->n_exclude);
	return st;
}

static veil_status put_train(veil_buf *b, const veil_job *job, veil_err *err)
{
	const veil_train_config *c = &job->run.train;
	bool sgd = c->optimizer == VEIL_OPT_SGD;
	veil_status st = veil_buf_printf(b, err, "; %s", sgd ? "sgd" : "adam");
	if (!st)
		st = put_float(b, job, "lr", VEIL_JOB_TUNE_LR, c->lr, err);
	if (!st && sgd && (c->momentum > 0 || is_tuned(job, VEIL_JOB_TUNE_MOMENTUM)))
		st = put_float(b, job, "momentum", VEIL_JOB_TUNE_MOMENTUM, c->momentum, err);
	if (!st && !sgd)
		st = put_float(b, job, "beta1", VEIL_JOB_TUNE_PARAMS, c->beta1, err);
	if (!st && !sgd)
		st = put_float(b, job, "beta2", VEIL_JOB_TUNE_PARAMS, c->beta2, err);
	if (!st && !sgd)
		st = put_float(b, job, "eps", VEIL_JOB_TUNE_PARAMS, c->adam_eps, err);
	if (!st && (c->weight_decay > 0 || is_tuned(job, VEIL_JOB_TUNE_WEIGHT_DECAY)))
		st = put_float(b, job, "weight_decay", VEIL_JOB_TUNE_WEIGHT_DECAY, c->weight_decay, err);
	if (!st && c->schedule == VEIL_SCHED_STEP) {
		char g[NUM_MAX];
		fmt_float(g, c->step_gamma);
		st = veil_buf_printf(b, err, " step %zu x%s", c->step_epochs, g);
	} else if (!st && c->schedule == VEIL_SCHED_COSINE) {
		st = veil_buf_printf(b, err, " cosine");
	}
	if (!st)
		st = is_tuned(job, VEIL_JOB_TUNE_EPOCHS)
		             ? veil_buf_printf(b, err, "; epochs tuned")
		             : veil_buf_printf(b, err, "; %zu epoch%s", c->epochs, c->epochs == 1 ? "" : "s");
	if (!st)
		st = is_tuned(job, VEIL_JOB_TUNE_BATCH_SIZE)
		             ? veil_buf_printf(b, err, ", batch tuned")
		             : veil_buf_printf(b, err, ", batch %zu", c->batch_size);
	if (!st)
		st = veil_buf_printf(b, err, ", seed %llu", (unsigned long long)c->seed);
	if (!st && job->run.split_seed != c->seed)
		st = veil_buf_printf(b, err, ", split seed %llu", (unsigned long long)job->run.split_seed);
	if (!st && c->patience)
		st = veil_buf_printf(b, err, ", patience %zu", c->patience);
	if (!st && job->run.checkpoint_every)
		st = veil_buf_printf(b, err, ", checkpoint every %llu steps",
		                     (unsigned long long)job->run.checkpoint_every);
	return st;
}

static veil_status put_privacy(veil_buf *b, const veil_job *job, veil_err *err)
{
	const veil_job_run *r = &job->run;
	if (!r->train.dp)
		return veil_buf_printf(b, err, "; not private");
	char num[NUM_MAX];
	veil_status st = veil_buf_printf(b, err, "; dp");
	if (!st && r->target_epsilon > 0) {
		fmt_double(num, r->target_epsilon);
		st = veil_buf_printf(b, err, " epsilon %s", num);
	}
	if (!st) {
		fmt_double(num, r->delta);
		st = veil_buf_printf(b, err, " delta %s", num);
	}
	if (!st && r->train.noise_multiplier > 0) {
		fmt_double(num, r->train.noise_multiplier);
		st = veil_buf_printf(b, err, " sigma %s", num);
	}
	if (!st && is_tuned(job, VEIL_JOB_TUNE_MAX_GRAD_NORM))
		st = veil_buf_printf(b, err, " C tuned");
	else if (!st) {
		fmt_double(num, r->train.max_grad_norm);
		st = veil_buf_printf(b, err, " C %s", num);
	}
	return st;
}

static veil_status put_tuning(veil_buf *b, const veil_job *job, veil_err *err)
{
	const veil_job_tuning *t = &job->tuning;
	if (!t->on)
		return VEIL_OK;
	veil_status st = veil_buf_printf(b, err, "; tuning %s, %zu trials by %s over",
	                                 t->strategy == VEIL_JOB_GRID ? "grid" : "random", t->trials,
	                                 t->metric == VEIL_JOB_VAL_ACCURACY ? "val_accuracy" : "val_loss");
	bool first = true;
	for (int k = 0; !st && k < VEIL_JOB_TUNE_PARAMS; k++)
		if (t->nvalues[k]) {
			st = veil_buf_printf(b, err, "%s %s", first ? "" : ",",
			                     veil_job_param_name((veil_job_param)k));
			first = false;
		}
	if (!st && t->strategy == VEIL_JOB_RANDOM)
		st = veil_buf_printf(b, err, ", seed %llu", (unsigned long long)t->seed);
	return st;
}

veil_status veil_job_summary(const veil_job *job, veil_buf *out, veil_err *err)
{
	size_t mark = out->len;
	veil_status st = veil_buf_printf(out, err, "%s: ", job->name);
	if (!st && strcmp(job->model_name, job->name) != 0)
		st = veil_buf_printf(out, err, "model %s, ", job->model_name);
	if (!st)
		st = put_model(out, job, err);
	if (!st)
		st = put_data(out, job, err);
	if (!st)
		st = put_train(out, job, err);
	if (!st)
		st = put_privacy(out, job, err);
	if (!st && job->compute.threads)
		st = veil_buf_printf(out, err, "; %u thread%s", (unsigned)job->compute.threads,
		                     job->compute.threads == 1 ? "" : "s");
	if (!st)
		st = veil_buf_printf(out, err, "; attestation %s",
		                     job->security.attestation_required ? "required" : "optional");
	if (!st)
		st = put_tuning(out, job, err);
	if (st)
		out->len = mark; /* nothing half-written */
	return st;
}

/* ---- warnings ---- */

/* Bytes in binary units with one decimal: "119.2 GiB". */
static void fmt_bytes(char out[NUM_MAX], uint64_t v)
{
	static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	int u = 0;
	double x = (double)v;
	while (x >= 1024 && u < 6) {
		x /= 1024;
		u++;
	}
	if (u == 0)
		(void)snprintf(out, NUM_MAX, "%llu bytes", (unsigned long long)v);
	else
		(void)snprintf(out, NUM_MAX, "%.1f %s", x, units[u]);
}

static void warn(veil_job_warning *out, size_t *n, const char *fmt, ...) VEIL_PRINTF(3, 4);
static void warn(veil_job_warning *out, size_t *n, const char *fmt, ...)
{
	if (*n >= VEIL_JOB_WARNINGS_MAX)
		return;
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(out[*n].text, sizeof out[*n].text, fmt, ap); /* a long one is cut */
	va_end(ap);
	(*n)++;
}

size_t veil_job_warnings(const veil_job *job, const veil_job_machine *m,
                         veil_job_warning out[static VEIL_JOB_WARNINGS_MAX])
{
	const veil_job_compute *c = &job->compute;
	size_t n = 0;
	char want[NUM_MAX], have[NUM_MAX];
	if (c->cores && m->cores && c->cores > m->cores)
		warn(out, &n, "the job asks for %u cores (compute.cores) and this machine has %u",
		     (unsigned)c->cores, (unsigned)m->cores);
	if (c->threads && m->cores && c->threads > m->cores)
		warn(out, &n,
		     "the job asks for %u threads (compute.threads) and this machine has %u cores: it runs, "
		     "more "
		     "slowly, with the threads asked for, since their number decides the model's exact bits",
		     (unsigned)c->threads, (unsigned)m->cores);
	if (c->memory && m->memory && c->memory > m->memory) {
		fmt_bytes(want, c->memory);
		fmt_bytes(have, m->memory);
		warn(out, &n, "the job asks for %s of memory (compute.memory) and this machine has %s", want,
		     have);
	}
	if (c->storage && m->disk && c->storage > m->disk) {
		fmt_bytes(want, c->storage);
		fmt_bytes(have, m->disk);
		warn(out, &n,
		     "the job asks for %s of storage (compute.storage) and the workspace's disk has %s free",
		     want, have);
	}
	if (c->gpu && !m->gpu)
		warn(out, &n,
		     "the job asks for a GPU (resources.gpu) and this machine has none; veil trains on the "
		     "CPU, "
		     "so the job runs as it would anyway");
	else if (c->gpu)
		warn(out, &n,
		     "the job asks for a GPU (resources.gpu); veil trains on the CPU with OpenBLAS and "
		     "leaves it unused");
	return n;
}
