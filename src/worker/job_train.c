/*
 * The "train" job (docs/formats/worker-protocol.md, "train"): a training
 * job file run inside the worker, from encrypted inputs to an encrypted
 * model, with nothing in plaintext leaving the TEE.
 *
 * The worker reads the job file itself rather than trusting the host's
 * reading of it, decrypts the inputs (checked against the catalog's sizes
 * and SHA-256s), splits them by the job's seed and, for each run (one, or
 * each trial of a tuning search):
 *   1. plans it: for a private run the noise multiplier σ is calibrated
 *      here to the job's target ε, with the accountant, for the steps the
 *      run will take; the plan (rows, q, steps, σ, ε, δ) goes to the host
 *      as a PLAN message, and the run starts only on the host's GO, which
 *      the host sends after charging the data sets' privacy budgets;
 *   2. trains, sending each epoch's figures (PROGRESS) and sealed
 *      checkpoints (CHECKPOINT, then the ciphertext) as it goes;
 * then evaluates the best run on the test rows and sends the model file
 * sealed under the model key, and a signed report of it all.
 *
 * The randomness DP-SGD needs (which rows a step samples, the noise) comes
 * from the CSPRNG here and is never sent anywhere but into the sealed
 * checkpoint: a host that knew it could subtract the noise. So a private
 * run cannot be repeated bit for bit, by design; a resumed one continues
 * exactly, because the checkpoint holds the generators' key.
 *
 * What the host sees besides ciphertext: the plan, each epoch's mean
 * training loss, validation loss and accuracy, and the test metrics of the
 * report. These are aggregates over many rows, released to the job's
 * owner; they are not covered by the DP guarantee (docs/threat-model.md).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "veil/learn_dp.h"
#include "veil/learn_metrics.h"
#include "veil/learn_model.h"
#include "worker_train.h"

#ifndef VEIL_VERSION
#define VEIL_VERSION "unknown"
#endif

enum { KEY_MODEL = 0, KEY_CHECKPOINT = 1, KEY_FIRST_INPUT = 2 };

/* Seconds between the progress ticks of a run. */
#define TICK_S 0.5

/* The fewest rows a private job's validation or test part may have. */
#define TRAIN_DP_PART_MIN 100

/* The checkpoint the worker seals: a header that ties the state to this
 * job file and these inputs, then the trainer's state (checkpoint.md). */
static const uint8_t ckpt_magic[4] = {'V', 'W', 'C', 'K'};
#define CKPT_VERSION 1u
#define CKPT_HEADER  (4 + 4 + VEIL_SHA256_LEN + VEIL_SHA256_LEN)

typedef struct train_job {
	worker *w;
	veil_job *job;
	const veil_proto_field *file;
	uint8_t job_sha[VEIL_SHA256_LEN];
	char job_sha_hex[2 * VEIL_SHA256_LEN + 1];
	uint8_t inputs_digest[VEIL_SHA256_LEN]; /* SHA-256 of the inputs' roles and SHA-256s */
	train_inputs in;
	char (*ids)[VEIL_OBJ_KEY_ID_MAX + 1];
	size_t nkeys;
	uint8_t *deks;
	uint64_t resume_step; /* STEP of the job: the checkpoint's */
	veil_learn_data all, train, valid, test;
} train_job;

/* Per run: what was planned and what came of it. */
typedef struct run_result {
	veil_job_run run;
	veil_model_spec spec;
	double q, sigma, epsilon;
	uint64_t steps_planned, steps_done;
	size_t epochs_done;
	bool stopped_early;
	double val_loss, val_accuracy; /* NAN without validation rows */
	double train_loss;             /* the last epoch's mean */
} run_result;

static const uint8_t *key_of(const train_job *tj, size_t k)
{
	return tj->deks + k * VEIL_PROTO_DEK_LEN;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static veil_status read_args(worker *w, const veil_proto_msg *msg, train_job *tj, veil_err *err)
{
	if (!(tj->file = veil_proto_get(msg, VEIL_F_JOB_FILE, 0)))
		return veil_err_set(err, VEIL_E_INVALID, "a train job without its job file");
	veil_status st = veil_hash(VEIL_HASH_SHA256, tj->file->value, tj->file->len, tj->job_sha, err);
	if (st)
		return st;
	veil_hex_encode(tj->job_sha, sizeof tj->job_sha, tj->job_sha_hex);
	if ((st = veil_job_parse((const char *)tj->file->value, tj->file->len, &tj->job, err))) {
		veil_err_wrap(err, "the job file");
		return st;
	}
	tj->nkeys = veil_proto_count(msg, VEIL_F_DEK_ID);
	if (tj->nkeys < KEY_FIRST_INPUT + 1)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "a train job names %zu data keys (model, checkpoint, then one per input)",
		                    tj->nkeys);
	if (!(tj->ids = calloc(tj->nkeys, sizeof *tj->ids)))
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory");
	for (size_t i = 0; i < tj->nkeys && !st; i++) {
		st = veil_proto_get_text(msg, VEIL_F_DEK_ID, i, tj->ids[i], sizeof tj->ids[i], err);
		for (size_t j = 0; !st && j < i; j++)
			if (strcmp(tj->ids[i], tj->ids[j]) == 0)
				st = veil_err_set(err, VEIL_E_INVALID, "a train job names data key %s twice",
				                  tj->ids[i]);
	}
	if (st || (st = train_inputs_read(msg, KEY_FIRST_INPUT, &tj->in, err)))
		return st;
	if (tj->in.has_checkpoint != (veil_proto_get(msg, VEIL_F_STEP, 0) != NULL))
		return veil_err_set(err, VEIL_E_INVALID,
		                    "a resumed job names its checkpoint and its step, both");
	if (tj->in.has_checkpoint && (st = veil_proto_get_u64(msg, VEIL_F_STEP, &tj->resume_step, err)))
		return st;
	if (tj->in.has_checkpoint && veil_job_trials(tj->job) > 1)
		return veil_err_set(err, VEIL_E_UNSUPPORTED, "a tuning job cannot be resumed: run it again");
	for (size_t i = 0; i < tj->in.n; i++)
		if (strcmp(tj->in.in[i].role, "model") == 0)
			return veil_err_set(err, VEIL_E_INVALID, "a train job takes no model input");
	/* What the checkpoint header binds: every input's role and digest. */
	veil_hash_ctx *h = NULL;
	if ((st = veil_hash_init(&h, VEIL_HASH_SHA256, err)))
		return st;
	for (size_t i = 0; i < tj->in.n && !st; i++) {
		const train_input *in = &tj->in.in[i];
		if (strcmp(in->role, "checkpoint") == 0)
			continue;
		if (!(st = veil_hash_update(h, in->role, strlen(in->role) + 1, err)))
			st = veil_hash_update(h, in->sha256, strlen(in->sha256) + 1, err);
	}
	veil_status fst = veil_hash_final(h, tj->inputs_digest, st ? NULL : err);
	(void)w;
	return st ? st : fst;
}

/* ---- messages to the host ---- */

static veil_status send_json(worker *w, uint8_t type, veil_buf *json, veil_err *err)
{
	veil_proto_out o;
	veil_proto_out_init(&o, type);
	veil_status st = veil_proto_add(&o, VEIL_F_REPORT, json->data, json->len, err);
	if (!st)
		st = veil_proto_send(&w->conn, &o, err);
	veil_proto_out_free(&o);
	return st;
}

/* Finishes the JSON built in jw (into b) and sends it as a type message. */
static veil_status send_built(worker *w, uint8_t type, veil_jw *jw, veil_buf *b, veil_err *err)
{
	veil_status st = veil_jw_finish(jw, err);
	if (!st)
		st = send_json(w, type, b, err);
	veil_buf_free(b);
	return st;
}

/* PLAN, then the host's GO; an ERROR from the host (a refused budget)
 * comes back as its status and message. */
static veil_status plan(train_job *tj, size_t trial, const run_result *r, veil_err *err)
{
	veil_buf b = {0};
	veil_jw jw;
	veil_jw_init(&jw, &b);
	veil_jw_object(&jw);
	veil_jw_kuint(&jw, "trial", trial);
	veil_jw_kuint(&jw, "trials", veil_job_trials(tj->job));
	veil_jw_kuint(&jw, "rows", tj->train.rows);
	veil_jw_kuint(&jw, "validation_rows", tj->valid.rows);
	veil_jw_kuint(&jw, "test_rows", tj->test.rows);
	veil_jw_kuint(&jw, "features", tj->train.cols);
	veil_jw_kuint(&jw, "classes", tj->train.classes);
	veil_jw_kuint(&jw, "epochs", r->run.train.epochs);
	veil_jw_kuint(&jw, "batch_size", r->run.train.batch_size);
	veil_jw_kuint(&jw, "steps", r->steps_planned);
	veil_jw_kbool(&jw, "private", r->run.train.dp);
	if (r->run.train.dp) {
		veil_jw_kdouble(&jw, "sample_rate", r->q);
		veil_jw_kdouble(&jw, "noise_multiplier", r->sigma);
		veil_jw_kdouble(&jw, "max_grad_norm", r->run.train.max_grad_norm);
		veil_jw_kdouble(&jw, "epsilon", r->epsilon);
		veil_jw_kdouble(&jw, "delta", r->run.delta);
	}
	veil_jw_kbool(&jw, "resumed", tj->in.has_checkpoint);
	veil_jw_end(&jw);
	veil_status st = send_built(tj->w, VEIL_MSG_PLAN, &jw, &b, err);
	veil_proto_msg m;
	if (!st && !(st = veil_proto_expect(&tj->w->conn, VEIL_MSG_GO, &m, err)))
		veil_proto_msg_free(&m);
	return st;
}

static veil_status progress(train_job *tj, size_t trial, const run_result *r, size_t epoch, uint64_t step,
                            double rate, double lr, veil_err *err)
{
	veil_buf b = {0};
	veil_jw jw;
	veil_jw_init(&jw, &b);
	veil_jw_object(&jw);
	veil_jw_kuint(&jw, "trial", trial);
	veil_jw_kuint(&jw, "epoch", epoch + 1);
	veil_jw_kuint(&jw, "epochs", r->run.train.epochs);
	veil_jw_kuint(&jw, "step", step);
	veil_jw_kuint(&jw, "steps", r->steps_planned);
	/* A private run's batch losses and sizes are not covered by the
	 * noise (the loss is taken before clipping; Poisson batch sizes tell
	 * which rows were sampled): neither is reported. */
	if (!r->run.train.dp)
		veil_jw_kdouble(&jw, "loss", r->train_loss);
	if (tj->valid.rows) {
		veil_jw_kdouble(&jw, "val_loss", r->val_loss);
		veil_jw_kdouble(&jw, "val_accuracy", r->val_accuracy);
	}
	if (r->run.train.dp) {
		double eps = 0, order = 0;
		veil_err e;
		if (veil_dp_epsilon(r->q, r->sigma, step, r->run.delta, &eps, &order, &e) == VEIL_OK)
			veil_jw_kdouble(&jw, "epsilon", eps);
	}
	veil_jw_kdouble(&jw, "samples_per_s", rate);
	veil_jw_kdouble(&jw, "lr", lr);
	veil_jw_end(&jw);
	return send_built(tj->w, VEIL_MSG_PROGRESS, &jw, &b, err);
}

/* A PROGRESS tick between epochs, for the host's progress bar: the step
 * alone, which the plan already made public. */
static veil_status tick(train_job *tj, size_t trial, uint64_t step, uint64_t steps, veil_err *err)
{
	veil_buf b = {0};
	veil_jw jw;
	veil_jw_init(&jw, &b);
	veil_jw_object(&jw);
	veil_jw_kbool(&jw, "tick", true);
	veil_jw_kuint(&jw, "trial", trial);
	veil_jw_kuint(&jw, "step", step);
	veil_jw_kuint(&jw, "steps", steps);
	veil_jw_end(&jw);
	return send_built(tj->w, VEIL_MSG_PROGRESS, &jw, &b, err);
}

/* CHECKPOINT with the step, then the sealed header and state. */
static veil_status checkpoint(train_job *tj, const veil_trainer *t, veil_err *err)
{
	veil_buf b = {0};
	uint8_t hdr[CKPT_HEADER];
	memcpy(hdr, ckpt_magic, sizeof ckpt_magic);
	veil_put_be32(hdr + 4, CKPT_VERSION);
	memcpy(hdr + 8, tj->job_sha, VEIL_SHA256_LEN);
	memcpy(hdr + 8 + VEIL_SHA256_LEN, tj->inputs_digest, VEIL_SHA256_LEN);
	veil_status st = veil_buf_append(&b, hdr, sizeof hdr, err);
	if (!st)
		st = veil_trainer_save(t, &b, err);
	uint8_t digest[VEIL_SHA256_LEN];
	char hex[2 * VEIL_SHA256_LEN + 1];
	if (!st && !(st = veil_hash(VEIL_HASH_SHA256, b.data, b.len, digest, err)))
		veil_hex_encode(digest, sizeof digest, hex);
	veil_proto_out o;
	veil_proto_out_init(&o, VEIL_MSG_CHECKPOINT);
	if (!st && !(st = veil_proto_add_u64(&o, VEIL_F_STEP, veil_trainer_steps_done(t), err)) &&
	    !(st = veil_proto_add_u64(&o, VEIL_F_SIZE, b.len, err)) &&
	    !(st = veil_proto_add_text(&o, VEIL_F_SHA256, hex, err)))
		st = veil_proto_send(&tj->w->conn, &o, err);
	veil_proto_out_free(&o);
	worker_written wr;
	if (!st)
		st = worker_send_sealed(tj->w, b.data, b.len, tj->ids[KEY_CHECKPOINT],
		                        key_of(tj, KEY_CHECKPOINT), &wr, err);
	if (b.data)
		OPENSSL_cleanse(b.data, b.cap); /* the state holds the DP generators' key */
	veil_buf_free(&b);
	return st;
}

/* The trainer a resumed job continues: the checkpoint must be of this job
 * file and these inputs, and its step the one the host recorded. */
static veil_status resume(train_job *tj, const veil_buf *ckpt, const veil_model_spec *spec,
                          const veil_train_config *cfg, veil_trainer **t, veil_err *err)
{
	if (ckpt->len < CKPT_HEADER || memcmp(ckpt->data, ckpt_magic, sizeof ckpt_magic) != 0)
		return veil_err_set(err, VEIL_E_CORRUPT, "the checkpoint is not a veil training checkpoint");
	if (veil_get_be32(ckpt->data + 4) != CKPT_VERSION)
		return veil_err_set(err, VEIL_E_UNSUPPORTED, "checkpoint version %u (this worker reads %u)",
		                    veil_get_be32(ckpt->data + 4), CKPT_VERSION);
	if (memcmp(ckpt->data + 8, tj->job_sha, VEIL_SHA256_LEN) != 0)
		return veil_err_set(err, VEIL_E_INVALID, "the checkpoint is of another job file");
	if (memcmp(ckpt->data + 8 + VEIL_SHA256_LEN, tj->inputs_digest, VEIL_SHA256_LEN) != 0)
		return veil_err_set(err, VEIL_E_INVALID, "the checkpoint was trained on other data");
	veil_status st = veil_trainer_load(spec, cfg, tj->train.rows, ckpt->data + CKPT_HEADER,
	                                   ckpt->len - CKPT_HEADER, t, err);
	if (st)
		return st;
	uint64_t step = veil_trainer_steps_done(*t);
	if (step != tj->resume_step) {
		veil_trainer_free(*t);
		*t = NULL;
		return veil_err_set(err, VEIL_E_INVALID, "the checkpoint holds step %llu, the host said %llu",
		                    (unsigned long long)step, (unsigned long long)tj->resume_step);
	}
	return VEIL_OK;
}

/* Plans run r: steps, and under DP σ (calibrated to the target ε when the
 * job gives one) and the ε of the planned steps. */
static veil_status plan_run(train_job *tj, run_result *r, veil_err *err)
{
	veil_train_config *cfg = &r->run.train;
	r->spec = r->run.model;
	r->spec.inputs = tj->train.cols;
	r->spec.classes = tj->train.classes;
	veil_status st = veil_model_spec_check(&r->spec, err);
	if (st)
		return st;
	if (cfg->batch_size > tj->train.rows)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "the batch size %zu is larger than the %zu training rows",
		                    cfg->batch_size, tj->train.rows);
	r->steps_planned = cfg->epochs * ((tj->train.rows + cfg->batch_size - 1) / cfg->batch_size);
	r->val_loss = r->val_accuracy = NAN;
	if (!cfg->dp)
		return veil_train_config_check(cfg, tj->train.rows, err);
	if ((st = veil_dp_plan(tj->train.rows, cfg->batch_size, cfg->epochs, &r->q, &r->steps_planned, err)))
		return st;
	if (r->run.target_epsilon > 0 && cfg->noise_multiplier <= 0 &&
	    (st = veil_dp_noise_for_epsilon(r->q, r->steps_planned, r->run.target_epsilon, r->run.delta,
	                                    &cfg->noise_multiplier, err)))
		return st;
	r->sigma = cfg->noise_multiplier;
	double order;
	if ((st = veil_dp_epsilon(r->q, r->sigma, r->steps_planned, r->run.delta, &r->epsilon, &order, err)))
		return st;
	if (r->run.target_epsilon > 0 && r->epsilon > r->run.target_epsilon)
		return veil_err_set(
		        err, VEIL_E_INVALID,
		        "noise multiplier %g gives epsilon %.4g over %llu steps, above the job's target %g",
		        r->sigma, r->epsilon, (unsigned long long)r->steps_planned, r->run.target_epsilon);
	/* The generators of sampling and noise: secret, from the CSPRNG. */
	if ((st = veil_random(cfg->dp_seed, sizeof cfg->dp_seed, err)))
		return st;
	return veil_train_config_check(cfg, tj->train.rows, err);
}

/* One run from plan to its trained model (in *t, which the caller frees). */
static veil_status train_run(train_job *tj, size_t trial, run_result *r, const veil_buf *ckpt,
                             veil_trainer **t, veil_err *err)
{
	veil_status st = plan_run(tj, r, err);
	if (!st && ckpt)
		st = resume(tj, ckpt, &r->spec, &r->run.train, t, err);
	else if (!st)
		st = veil_trainer_new(&r->spec, &r->run.train, tj->train.rows, t, err);
	if (st || (st = plan(tj, trial, r, err)))
		return st;
	veil_matrix train = veil_learn_data_matrix(&tj->train), valid = veil_learn_data_matrix(&tj->valid);
	uint64_t every = r->run.checkpoint_every;
	bool checkpoints = veil_job_trials(tj->job) == 1;
	double t0 = now_s(), loss_sum = 0, last_tick = t0;
	uint64_t seen = 0, since_ckpt = 0;
	veil_step_info info = {0};
	while (!info.done) {
		if ((st = veil_trainer_step(*t, &train, &info, err))) {
			if (st == VEIL_E_DIVERGED)
				veil_err_hint(err, "lower the learning rate or max_grad_norm; the last "
				                   "checkpoint is kept "
				                   "(veil job status)");
			return st;
		}
		loss_sum += info.loss * (double)info.batch;
		seen += info.batch;
		since_ckpt++;
		r->steps_done = info.step;
		if (!info.epoch_end && now_s() - last_tick >= TICK_S) {
			if ((st = tick(tj, trial, info.step, r->steps_planned, err)))
				return st;
			last_tick = now_s();
		}
		if (info.epoch_end) {
			r->epochs_done = info.epoch + 1;
			r->train_loss = seen ? loss_sum / (double)seen : 0;
			if (tj->valid.rows &&
			    (st = veil_trainer_validate(*t, &valid, &r->val_loss, &r->val_accuracy, err)))
				return st;
			/* Early stopping is decided by the validation just made. */
			if (veil_trainer_done(*t))
				info.done = true;
			double dt = now_s() - t0;
			/* Under DP the rate counts the expected batch, not the drawn one. */
			double done = r->run.train.dp ? r->q * (double)tj->train.rows *
			                                        (double)veil_trainer_steps_per_epoch(*t)
			                              : (double)seen;
			if ((st = progress(tj, trial, r, info.epoch, info.step, dt > 0 ? done / dt : 0,
			                   veil_trainer_lr(*t), err)))
				return st;
			loss_sum = 0;
			seen = 0;
			t0 = now_s();
		}
		if (checkpoints && !info.done && (info.epoch_end || (every && since_ckpt >= every))) {
			if ((st = checkpoint(tj, *t, err)))
				return st;
			since_ckpt = 0;
			if (info.epoch_end) /* samples per second measure training, not sealing */
				t0 = now_s();
		}
	}
	r->stopped_early = r->steps_done < r->steps_planned;
	if (tj->valid.rows) /* the kept model's validation figures */
		st = veil_model_loss(veil_trainer_model(*t), &valid, &r->val_loss, &r->val_accuracy, err);
	return st;
}

static bool better(const veil_job *job, const run_result *a, const run_result *best)
{
	if (job->tuning.metric == VEIL_JOB_VAL_LOSS)
		return a->val_loss < best->val_loss;
	return a->val_accuracy > best->val_accuracy;
}

/* ---- outputs ---- */

static veil_status model_file(train_job *tj, const veil_model *m, const run_result *r,
                              const veil_metrics *metrics, veil_buf *file, veil_err *err)
{
	const veil_learn_data *d = &tj->train;
	const char **features = malloc(d->cols * sizeof *features + 1);
	const char **classes = malloc(d->classes * sizeof *classes + 1);
	veil_manifest_dataset ds[TRAIN_INPUTS_MAX];
	char names[TRAIN_INPUTS_MAX][144];
	size_t nds = 0;
	veil_status st = VEIL_OK;
	if (!features || !classes) {
		st = veil_err_set(err, VEIL_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < d->cols; i++)
		features[i] = d->feature_names[i];
	for (size_t i = 0; i < d->classes; i++)
		classes[i] = d->class_labels[i];
	for (size_t i = 0; i < tj->in.n; i++) {
		const train_input *in = &tj->in.in[i];
		if (strcmp(in->role, "checkpoint") == 0)
			continue;
		const char *at = strrchr(in->ref, '@');
		size_t nl = at ? (size_t)(at - in->ref) : strlen(in->ref);
		snprintf(names[nds], sizeof names[nds], "%.*s", (int)nl, in->ref);
		ds[nds] = (veil_manifest_dataset){.name = names[nds],
		                                  .version = at ? strtoull(at + 1, NULL, 10) : 0,
		                                  .sha256 = in->sha256};
		nds++;
	}
	double orders[VEIL_DP_DEFAULT_ORDERS_N];
	veil_dp_default_orders(orders);
	veil_manifest_privacy priv = {.epsilon = r->epsilon,
	                              .delta = r->run.delta,
	                              .noise_multiplier = r->sigma,
	                              .max_grad_norm = r->run.train.max_grad_norm,
	                              .sample_rate = r->q,
	                              .steps = r->steps_planned,
	                              .orders = orders,
	                              .n_orders = VEIL_DP_DEFAULT_ORDERS_N};
	char meas[2 * VEIL_SNP_MEASUREMENT_LEN + 1];
	veil_hex_encode(tj->w->measurement, sizeof tj->w->measurement, meas);
	veil_manifest info = {.features = features,
	                      .n_features = d->cols,
	                      .label = tj->job->label[0] ? tj->job->label : "label",
	                      .class_labels = classes,
	                      .n_classes = d->classes,
	                      .metrics = metrics->rows ? metrics : NULL,
	                      .metrics_split = metrics->rows ? "test" : NULL,
	                      .privacy = r->run.train.dp ? &priv : NULL,
	                      .datasets = ds,
	                      .n_datasets = nds,
	                      .job_name = tj->job->name,
	                      .job_sha256 = tj->job_sha_hex,
	                      .measurement = meas,
	                      .created = 0, /* reproducible: the catalog says when */
	                      .veil_version = VEIL_VERSION};
	veil_buf manifest = {0};
	if (!(st = veil_modelfile_manifest(m, &info, &manifest, err)) &&
	    !(st = veil_buf_append(&manifest, "", 1, err)))
		st = veil_modelfile_write(m, (const char *)manifest.data, file, err);
	if (manifest.data) /* it names the classes, which are data */
		veil_wipe(manifest.data, manifest.cap);
	veil_buf_free(&manifest);
out:
	free(features);
	free(classes);
	return st;
}

static void write_run(veil_jw *jw, size_t i, const run_result *r)
{
	veil_jw_object(jw);
	veil_jw_kuint(jw, "trial", i);
	veil_jw_kdouble(jw, "lr", r->run.train.lr);
	veil_jw_kuint(jw, "batch_size", r->run.train.batch_size);
	veil_jw_kuint(jw, "epochs", r->run.train.epochs);
	veil_jw_key(jw, "hidden");
	veil_jw_array(jw);
	for (size_t h = 0; h < r->spec.n_hidden; h++)
		veil_jw_uint(jw, r->spec.hidden[h]);
	veil_jw_end(jw);
	if (r->run.train.dp) {
		veil_jw_kdouble(jw, "max_grad_norm", r->run.train.max_grad_norm);
		veil_jw_kdouble(jw, "noise_multiplier", r->sigma);
		veil_jw_kdouble(jw, "epsilon", r->epsilon);
	}
	veil_jw_kuint(jw, "steps", r->steps_done);
	veil_jw_kuint(jw, "epochs_run", r->epochs_done);
	veil_jw_kbool(jw, "stopped_early", r->stopped_early);
	if (!r->run.train.dp)
		veil_jw_kdouble(jw, "train_loss", r->train_loss);
	veil_jw_kdouble(jw, "val_loss", r->val_loss);
	veil_jw_kdouble(jw, "val_accuracy", r->val_accuracy);
	veil_jw_end(jw);
}

static veil_status write_report(train_job *tj, const veil_model *m, const run_result *runs, size_t nruns,
                                size_t best, const veil_metrics *metrics, const worker_written *model,
                                veil_buf *out, veil_err *err)
{
	const run_result *r = &runs[best];
	char meas[2 * VEIL_SNP_MEASUREMENT_LEN + 1];
	veil_hex_encode(tj->w->measurement, sizeof tj->w->measurement, meas);
	veil_jw jw;
	veil_jw_init(&jw, out);
	veil_jw_object(&jw);
	veil_jw_kstr(&jw, "format", "veil-report");
	veil_jw_kint(&jw, "version", 1);
	veil_jw_kstr(&jw, "job", "train");
	veil_jw_key(&jw, "worker");
	veil_jw_object(&jw);
	veil_jw_kstr(&jw, "tee", tj->w->tee);
	veil_jw_kstr(&jw, "measurement", meas);
	veil_jw_end(&jw);
	veil_jw_kint(&jw, "created", veil_time_now());
	veil_jw_kstr(&jw, "job_name", tj->job->name);
	veil_jw_kstr(&jw, "job_sha256", tj->job_sha_hex);
	veil_jw_key(&jw, "inputs");
	veil_jw_array(&jw);
	for (size_t i = 0; i < tj->in.n; i++) {
		veil_jw_object(&jw);
		veil_jw_kstr(&jw, "role", tj->in.in[i].role);
		veil_jw_kstr(&jw, "ref", tj->in.in[i].ref);
		veil_jw_kuint(&jw, "size", tj->in.in[i].size);
		veil_jw_kstr(&jw, "sha256", tj->in.in[i].sha256);
		veil_jw_end(&jw);
	}
	veil_jw_end(&jw);
	veil_jw_key(&jw, "rows");
	veil_jw_object(&jw);
	veil_jw_kuint(&jw, "train", tj->train.rows);
	veil_jw_kuint(&jw, "validation", tj->valid.rows);
	veil_jw_kuint(&jw, "test", tj->test.rows);
	veil_jw_end(&jw);
	veil_jw_kuint(&jw, "features", tj->train.cols);
	veil_jw_kuint(&jw, "classes", tj->train.classes);
	veil_jw_key(&jw, "model");
	veil_jw_object(&jw);
	veil_jw_kstr(&jw, "dek_id", tj->ids[KEY_MODEL]);
	veil_jw_kuint(&jw, "size", model->size);
	veil_jw_kstr(&jw, "sha256", model->sha256);
	veil_jw_kuint(&jw, "chunk_size", model->chunk_size);
	veil_jw_kstr(&jw, "kind",
	             r->spec.kind == VEIL_MODEL_LOGREG    ? "logreg"
	             : r->spec.kind == VEIL_MODEL_SOFTMAX ? "softmax"
	                                                  : "mlp");
	veil_jw_kuint(&jw, "parameters", veil_model_param_count(m));
	veil_jw_end(&jw);
	veil_jw_key(&jw, "privacy");
	if (r->run.train.dp) {
		veil_jw_object(&jw);
		veil_jw_kstr(&jw, "accountant", "rdp");
		veil_jw_kdouble(&jw, "epsilon", r->epsilon);
		veil_jw_kdouble(&jw, "delta", r->run.delta);
		veil_jw_kdouble(&jw, "noise_multiplier", r->sigma);
		veil_jw_kdouble(&jw, "max_grad_norm", r->run.train.max_grad_norm);
		veil_jw_kdouble(&jw, "sample_rate", r->q);
		veil_jw_kuint(&jw, "steps", r->steps_planned);
		/* What every run of the job spent together (basic composition). */
		double total = 0;
		for (size_t i = 0; i < nruns; i++)
			total += runs[i].epsilon;
		veil_jw_kdouble(&jw, "job_epsilon", total);
		veil_jw_kdouble(&jw, "job_delta", r->run.delta * (double)nruns);
		veil_jw_end(&jw);
	} else
		veil_jw_null(&jw);
	veil_jw_key(&jw, "metrics");
	if (metrics->rows)
		veil_metrics_write_json(&jw, metrics, (const char *const *)NULL);
	else
		veil_jw_null(&jw);
	veil_jw_kuint(&jw, "best_trial", best);
	veil_jw_key(&jw, "trials");
	veil_jw_array(&jw);
	for (size_t i = 0; i < nruns; i++)
		write_run(&jw, i, &runs[i]);
	veil_jw_end(&jw);
	veil_jw_end(&jw);
	return veil_jw_finish(&jw, err);
}

/* ---- the job ---- */

static veil_status read_inputs(train_job *tj, veil_buf *plain, veil_buf *ckpt, veil_err *err)
{
	veil_status st = VEIL_OK;
	for (size_t i = 0; i < tj->in.n && !st; i++) {
		const train_input *in = &tj->in.in[i];
		veil_buf *into = strcmp(in->role, "checkpoint") == 0 ? ckpt : &plain[i];
		st = worker_read_whole(tj->w, tj->ids[in->key], key_of(tj, in->key), in->size, in->sha256,
		                       into, err);
		if (st)
			veil_err_wrap(err, "%s", in->ref);
	}
	return st;
}

static veil_status run_all(train_job *tj, veil_buf *report, veil_err *err)
{
	veil_buf plain[TRAIN_INPUTS_MAX] = {0}, ckpt = {0}, file = {0};
	size_t nruns = veil_job_trials(tj->job), best = 0;
	run_result *runs = calloc(nruns, sizeof *runs);
	veil_trainer *best_t = NULL;
	veil_metrics metrics = {0};
	worker_written model = {0};
	veil_status st =
	        runs ? read_inputs(tj, plain, &ckpt, err) : veil_err_set(err, VEIL_E_NOMEM, "out of memory");
	if (!st)
		st = train_inputs_data(&tj->in, plain, tj->job, &tj->all, &tj->test, err);
	for (size_t i = 0; i < TRAIN_INPUTS_MAX; i++) {
		if (plain[i].data)
			OPENSSL_cleanse(plain[i].data, plain[i].cap);
		veil_buf_free(&plain[i]);
	}
	const veil_job_run *base = &tj->job->run;
	/* With a separate test data set nothing is held out for testing. */
	veil_learn_data unused = {0};
	if (!st)
		st = veil_learn_data_split(&tj->all, base->validation_split,
		                           tj->test.rows ? 0 : base->test_split, base->split_seed, &tj->train,
		                           &tj->valid, tj->test.rows ? &unused : &tj->test, err);
	veil_learn_data_free(&unused);
	veil_learn_data_free(&tj->all);
	/* A private job's validation and test figures are released without
	 * noise: over a handful of rows they would tell the rows themselves.
	 * Each non-empty part must be large enough to be an aggregate. */
	if (!st && base->train.dp &&
	    ((tj->valid.rows && tj->valid.rows < TRAIN_DP_PART_MIN) ||
	     (tj->test.rows && tj->test.rows < TRAIN_DP_PART_MIN)))
		st = veil_err_set(
		        err, VEIL_E_INVALID,
		        "a private job's validation and test parts need at least %d rows each (or none)",
		        TRAIN_DP_PART_MIN);
	if (!st && tj->job->tuning.on && tj->valid.rows == 0)
		st = veil_err_set(
		        err, VEIL_E_INVALID,
		        "a tuning job compares trials on validation rows: set train.validation_split");
	veil_learn_set_threads(tj->job->compute.threads);
	for (size_t i = 0; i < nruns && !st; i++) {
		veil_trainer *t = NULL;
		if ((st = veil_job_trial(tj->job, i, &runs[i].run, err)))
			break;
		st = train_run(tj, i, &runs[i], ckpt.len ? &ckpt : NULL, &t, err);
		if (!st && (!best_t || better(tj->job, &runs[i], &runs[best]))) {
			veil_trainer_free(best_t);
			best_t = t;
			best = i;
		} else
			veil_trainer_free(t);
	}
	if (ckpt.data)
		OPENSSL_cleanse(ckpt.data, ckpt.cap);
	veil_buf_free(&ckpt);
	const veil_model *m = best_t ? veil_trainer_model(best_t) : NULL;
	if (!st && tj->test.rows) {
		veil_matrix test = veil_learn_data_matrix(&tj->test);
		st = veil_metrics_of_model(m, &test, &metrics, err);
	}
	if (!st)
		st = model_file(tj, m, &runs[best], &metrics, &file, err);
	if (!st)
		st = worker_send_sealed(tj->w, file.data, file.len, tj->ids[KEY_MODEL], key_of(tj, KEY_MODEL),
		                        &model, err);
	if (!st)
		st = write_report(tj, m, runs, nruns, best, &metrics, &model, report, err);
	if (file.data)
		OPENSSL_cleanse(file.data, file.cap);
	veil_buf_free(&file);
	veil_metrics_free(&metrics);
	veil_trainer_free(best_t);
	if (runs) /* each run's config holds its DP generators' key */
		veil_wipe(runs, nruns * sizeof *runs);
	free(runs);
	return st;
}

veil_status worker_job_train(worker *w, const veil_proto_msg *msg, veil_err *err)
{
	train_job tj = {.w = w};
	veil_buf report = {0};
	veil_status st = read_args(w, msg, &tj, err);
	if (!st && !(tj.deks = veil_secure_alloc(tj.nkeys * VEIL_PROTO_DEK_LEN)))
		st = veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory");
	if (!st) {
		const char *ids[VEIL_JOB_DATASETS_MAX * 2 + 8];
		for (size_t i = 0; i < tj.nkeys && i < sizeof ids / sizeof ids[0]; i++)
			ids[i] = tj.ids[i];
		if (tj.nkeys > sizeof ids / sizeof ids[0])
			st = veil_err_set(err, VEIL_E_LIMIT, "a train job names %zu data keys", tj.nkeys);
		else
			st = worker_get_keys(w, ids, tj.nkeys, tj.deks, err);
	}
	if (!st && !(st = run_all(&tj, &report, err)))
		st = worker_send_report(w, &report, err);
	if (tj.deks)
		veil_secure_free(tj.deks, tj.nkeys * VEIL_PROTO_DEK_LEN);
	veil_learn_data_free(&tj.all);
	veil_learn_data_free(&tj.train);
	veil_learn_data_free(&tj.valid);
	veil_learn_data_free(&tj.test);
	veil_job_free(tj.job);
	free(tj.ids);
	veil_buf_free(&report);
	return st;
}
