/*
 * veil train JOB.yaml | --resume JOB_ID: a training job file run in the
 * trusted worker (src/worker/job_train.c). This process never holds the
 * data or the model in plaintext: it checks the job file and who may use
 * each data set, makes the model's and the checkpoints' data keys, streams
 * the encrypted inputs, charges each run's privacy cost to the data sets'
 * budgets when the worker sends its plan (and refuses a run that would
 * overspend before any training step), stores checkpoints as they come,
 * and at the end records the model version, its lineage and the job.
 *
 * Failure leaves the job failed with its reason and its last checkpoint
 * (veil train --resume continues from it); a model object or key that was
 * not recorded is removed. A privacy charge stays once made: the worker
 * may have trained on the data by then.
 */
#include "cmds.h"
#include "compliance.h"
#include "reports.h"
#include "train.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#include "veil/learn_job.h"

static void destroy_object(cli_ws *ws, const char *object_id, const char *dek_id)
{
	veil_err e;
	if (object_id && object_id[0] && veil_store_remove(ws->store, object_id, &e))
		veil_log(VEIL_LOG_WARN, "train.cleanup", "cannot remove object %s: %s", object_id, e.msg);
	if (dek_id && dek_id[0] && veil_kms_dek_destroy(ws->kms, dek_id, &e))
		veil_log(VEIL_LOG_WARN, "train.cleanup", "cannot destroy data key %s: %s", dek_id, e.msg);
}

void train_job_failed(cli_ws *ws, const char *job_id, const veil_err *why)
{
	/* The catalog keeps a reason of printable text on one line. */
	char text[VEIL_CATALOG_JOB_ERROR_MAX];
	snprintf(text, sizeof text, "%s", why->msg);
	for (char *c = text; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	veil_err e;
	if (veil_catalog_job_set_state(ws->catalog, job_id, "failed", text, &e))
		veil_log(VEIL_LOG_WARN, "job", "cannot mark job %s failed: %s", job_id, e.msg);
}

/* ---- the inputs ---- */

veil_status train_add_dataset(cli_ws *ws, train_host_input *inputs, size_t *n, const char *name,
                              uint32_t version, const char *role, veil_err *err)
{
	char ref[VEIL_CATALOG_REF_MAX];
	if (version)
		snprintf(ref, sizeof ref, "%s@%u", name, version);
	else
		snprintf(ref, sizeof ref, "%s", name);
	for (int pass = 0; pass < 2; pass++) {
		if (*n == TRAIN_HOST_INPUTS_MAX)
			return veil_err_set(err, VEIL_E_LIMIT, "the job names more than %d input objects",
			                    TRAIN_HOST_INPUTS_MAX);
		train_host_input *in = &inputs[*n];
		veil_status st;
		if (pass == 1) {
			/* IDX images come with their labels as NAME.labels. */
			char lref[VEIL_CATALOG_REF_MAX + 8];
			veil_dataset_version lv;
			snprintf(lref, sizeof lref, "%s.labels", name);
			if (strlen(lref) > 64 ||
			    veil_catalog_dataset_get(ws->catalog, lref, 0, &lv, err) != VEIL_OK) {
				veil_err_clear(err);
				return VEIL_OK;
			}
			snprintf(ref, sizeof ref, "%.64s", lref);
		}
		if ((st = cli_authorize_dataset_and_key(ws, ref, VEIL_VERB_USE, &in->r, err)))
			return st;
		(*n)++;
		snprintf(in->role, sizeof in->role, "%s%s", role, pass ? "-labels" : "");
		/* The workspace's compliance rules (a restricted data set only
		 * once de-identified) decide before any budget or key. */
		char why[512] = "";
		/* Every input, test data included: a test set's metrics are
		 * computed from its rows too. */
		st = cli_compliance_check(ws, &in->r.dataset, "training", why, sizeof why, err);
		if (st)
			return st;
	}
	return VEIL_OK;
}

static veil_status gather_inputs(cli_ws *ws, train_run *tr, veil_err *err)
{
	if (!tr->job)
		return veil_err_set(err, VEIL_E_INTERNAL, "no job file was read");
	veil_status st = VEIL_OK;
	for (size_t i = 0; i < tr->job->n_datasets && !st; i++)
		st = train_add_dataset(ws, tr->inputs, &tr->n_inputs, tr->job->datasets[i].name,
		                       tr->job->datasets[i].version, "train", err);
	if (!st && tr->job->has_test_dataset)
		st = train_add_dataset(ws, tr->inputs, &tr->n_inputs, tr->job->test_dataset.name,
		                       tr->job->test_dataset.version, "test", err);
	/* The model belongs where its first data set lives: making a version
	 * of it there is managing models there. */
	if (st)
		return st;
	tr->home = &tr->inputs[0].r.dataset;
	veil_model_version existing;
	bool exists = veil_catalog_model_get(ws->catalog, tr->job->model_name, 0, &existing, err) == VEIL_OK;
	veil_err_clear(err);
	cli_target t = {.verb = VEIL_VERB_MANAGE,
	                .type = "models",
	                .name = tr->job->model_name,
	                .compartment = exists ? existing.compartment : tr->home->compartment,
	                .classification = exists ? existing.classification : tr->home->classification,
	                .owner = exists ? existing.owner : tr->home->owner,
	                .region = ws->request_region};
	return cli_authorize(ws, &t, err);
}

/* The budget rule, checked before any worker starts: a private job needs
 * a budget on every data set it reads (training, test and IDX labels
 * alike: each feeds what the job reveals) with room for its target ε; a
 * data set with a budget takes only private jobs. And the job's figures
 * must fit the catalog, or a long tuning run would spend its budget and
 * then fail on the cap. */
static veil_status precheck_budgets(cli_ws *ws, train_run *tr, veil_err *err)
{
	const veil_job_run *run = &tr->job->run;
	size_t trials = veil_job_trials(tr->job), epochs = 0;
	for (size_t t = 0; t < trials; t++) {
		veil_job_run r;
		veil_status st = veil_job_trial(tr->job, t, &r, err);
		if (st)
			return st;
		epochs += r.train.epochs;
	}
	if (epochs * TRAIN_POINTS_PER_EPOCH > VEIL_CATALOG_METRICS_MAX)
		return veil_err_set(
		        err, VEIL_E_LIMIT,
		        "the job runs %zu epochs in all; the catalog keeps the figures of at most %d", epochs,
		        VEIL_CATALOG_METRICS_MAX / TRAIN_POINTS_PER_EPOCH);
	for (size_t i = 0; i < tr->n_inputs; i++) {
		const veil_dataset_version *v = &tr->inputs[i].r.dataset;
		veil_budget b;
		veil_status st = veil_catalog_budget_get(ws->catalog, v->name, v->version, &b, err);
		if (st && st != VEIL_E_NOTFOUND)
			return st;
		if (st == VEIL_E_NOTFOUND) {
			veil_err_clear(err);
			if (!run->train.dp)
				continue;
			veil_err_set(err, VEIL_E_DENIED, "%s@%u has no privacy budget", v->name, v->version);
			veil_err_hint(
			        err,
			        "its owner sets one with 'veil data budget set %s@%u --epsilon E --delta D'",
			        v->name, v->version);
			return VEIL_E_DENIED;
		}
		if (!run->train.dp) {
			veil_err_set(err, VEIL_E_DENIED,
			             "%s@%u has a privacy budget, so only private jobs may train on it",
			             v->name, v->version);
			veil_err_hint(err,
			              "add a privacy block (epsilon, delta, max_grad_norm) to the job file");
			return VEIL_E_DENIED;
		}
		double want = run->target_epsilon * (double)trials;
		if (tr->resume_job[0] == '\0' && want > 0 &&
		    want > b.epsilon_remaining * (1 + VEIL_CATALOG_BUDGET_TOLERANCE)) {
			veil_err_set(
			        err, VEIL_E_DENIED,
			        "the job asks for epsilon %g (%zu run%s) but %s@%u has %g of its %g left",
			        want, trials, trials == 1 ? "" : "s", v->name, v->version,
			        b.epsilon_remaining, b.epsilon_total);
			veil_err_hint(err, "lower the job's epsilon, or ask the owner for a larger budget");
			return VEIL_E_DENIED;
		}
	}
	return VEIL_OK;
}

/* ---- the session with the worker ---- */

static veil_status send_job(cli_ws *ws, train_run *tr, cli_worker *w, veil_err *err)
{
	veil_proto_out job;
	veil_proto_out_init(&job, VEIL_MSG_JOB);
	const char *ids[TRAIN_HOST_INPUTS_MAX + 2] = {tr->model_dek, tr->ckpt_dek};
	size_t nids = 2;
	veil_status st = veil_proto_add_text(&job, VEIL_F_JOB, "train", err);
	if (!st)
		st = veil_proto_add(&job, VEIL_F_JOB_FILE, tr->spec, tr->spec_len, err);
	if (!st)
		st = veil_proto_add_text(&job, VEIL_F_DEK_ID, tr->model_dek, err);
	if (!st)
		st = veil_proto_add_text(&job, VEIL_F_DEK_ID, tr->ckpt_dek, err);
	for (size_t i = 0; i < tr->n_inputs && !st; i++)
		if (!(st = veil_proto_add_text(&job, VEIL_F_DEK_ID, tr->inputs[i].r.dataset.dek_id, err)))
			ids[nids++] = tr->inputs[i].r.dataset.dek_id;
	char text[200];
	if (!st && tr->resume_ckpt.present) {
		if (!(st = veil_proto_add_text(&job, VEIL_F_INPUT, "checkpoint checkpoint@1", err)) &&
		    !(st = veil_proto_add_u64(&job, VEIL_F_SIZE, tr->resume_ckpt.size, err)) &&
		    !(st = veil_proto_add_text(&job, VEIL_F_SHA256, tr->resume_ckpt.sha256, err)))
			st = veil_proto_add_u64(&job, VEIL_F_STEP, tr->resume_ckpt.step, err);
	}
	for (size_t i = 0; i < tr->n_inputs && !st; i++) {
		const veil_dataset_version *v = &tr->inputs[i].r.dataset;
		snprintf(text, sizeof text, "%s %s@%u", tr->inputs[i].role, v->name, v->version);
		if (!(st = veil_proto_add_text(&job, VEIL_F_INPUT, text, err)) &&
		    !(st = veil_proto_add_u64(&job, VEIL_F_SIZE, v->size, err)))
			st = veil_proto_add_text(&job, VEIL_F_SHA256, v->sha256, err);
	}
	if (!st)
		st = veil_proto_send(&w->conn, &job, err);
	veil_proto_out_free(&job);
	if (!st)
		st = cli_worker_release(ws, w, ids, nids, err);
	bool sending = false;
	if (!st && tr->resume_ckpt.present &&
	    (st = cli_worker_stream_object(ws, w, tr->resume_ckpt.object_id, &sending, err)))
		return sending ? cli_worker_reason(w, st, err) : (veil_proto_send_error(&w->conn, err), st);
	for (size_t i = 0; i < tr->n_inputs && !st; i++)
		if ((st = cli_worker_stream_object(ws, w, tr->inputs[i].r.dataset.object_id, &sending, err)))
			return sending ? cli_worker_reason(w, st, err)
			               : (veil_proto_send_error(&w->conn, err), st);
	return st;
}

static json_t *parse_json(const veil_proto_msg *m, veil_err *err)
{
	const veil_proto_field *f = veil_proto_get(m, VEIL_F_REPORT, 0);
	json_error_t je;
	json_t *j = f ? json_loadb((const char *)f->value, f->len, JSON_REJECT_DUPLICATES, &je) : NULL;
	if (!j || !json_is_object(j)) {
		json_decref(j);
		veil_err_set(err, VEIL_E_INVALID, "the worker sent a %s that is not a JSON object",
		             veil_proto_type_name(m->type));
		return NULL;
	}
	return j;
}

static double jnum(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* PLAN: charge the run's (ε, δ) to every training data set, then GO. A
 * non-private run is charged nothing. */
static veil_status on_plan(cli_ws *ws, train_run *tr, cli_worker *w, const veil_proto_msg *m, veil_err *err)
{
	json_t *p = parse_json(m, err);
	if (!p)
		return VEIL_E_INVALID;
	veil_status st = VEIL_OK;
	bool priv = json_is_true(json_object_get(p, "private"));
	uint32_t trial = (uint32_t)json_integer_value(json_object_get(p, "trial"));
	tr->steps_total = (uint64_t)json_integer_value(json_object_get(p, "steps"));
	if (priv != tr->job->run.train.dp)
		st = veil_err_set(err, VEIL_E_INVALID,
		                  "the worker's plan does not match the job's privacy setting");
	if (!st && priv) {
		double eps = jnum(p, "epsilon"), delta = jnum(p, "delta");
		veil_budget_ref refs[TRAIN_HOST_INPUTS_MAX] = {0};
		size_t n = 0;
		for (size_t i = 0; i < tr->n_inputs; i++) {
			/* Every input is charged: the test rows' metrics and the labels
			 * come from the data as much as the model does. */
			snprintf(refs[n].dataset, sizeof refs[0].dataset, "%s", tr->inputs[i].r.dataset.name);
			refs[n++].version = tr->inputs[i].r.dataset.version;
		}
		char note[128];
		snprintf(note, sizeof note, "sigma %.6g, q %.6g, %lld steps", jnum(p, "noise_multiplier"),
		         jnum(p, "sample_rate"), (long long)tr->steps_total);
		uint32_t t = veil_job_trials(tr->job) > 1 ? trial + 1 : 0;
		st = veil_catalog_budget_charge(ws->catalog, refs, n, tr->job_id, t, eps, delta, note, err);
		if (st == VEIL_E_EXISTS && tr->resume_job[0]) { /* charged when the job first ran */
			veil_err_clear(err);
			st = VEIL_OK;
		} else if (!st) {
			tr->epsilon += eps;
			json_t *d = json_pack("{s:s, s:i, s:f, s:f, s:f, s:f, s:I}", "job", tr->job_id,
			                      "trial", (int)t, "epsilon", eps, "delta", delta,
			                      "noise_multiplier", jnum(p, "noise_multiplier"), "sample_rate",
			                      jnum(p, "sample_rate"), "steps", (json_int_t)tr->steps_total);
			for (size_t i = 0; i < n && !st; i++) {
				char ref[VEIL_CATALOG_REF_MAX];
				snprintf(ref, sizeof ref, "%.64s@%u", refs[i].dataset, refs[i].version);
				st = cli_audit(ws, "privacy.charge", ref, "ok", json_incref(d), err);
			}
			json_decref(d);
		}
		if (!st && !tr->quiet)
			cli_progress_clear(&tr->bar);
		if (!st && !tr->quiet)
			fprintf(stderr,
			        "veil: run %u of %zu: epsilon %.4g, delta %g (noise multiplier %.4g, %lld "
			        "steps)\n",
			        trial + 1, veil_job_trials(tr->job), eps, delta, jnum(p, "noise_multiplier"),
			        (long long)tr->steps_total);
	}
	json_decref(p);
	if (st) {
		veil_proto_send_error(&w->conn, err);
		return st;
	}
	cli_progress_clear(&tr->bar);
	cli_progress_start_units(&tr->bar, tr->g, veil_job_trials(tr->job) > 1 ? "trial" : "training",
	                         tr->steps_total, tr->resume_ckpt.present ? tr->resume_ckpt.step : 0,
	                         "steps");
	tr->bar.enabled = tr->bar.enabled && !tr->quiet;
	veil_proto_out o;
	veil_proto_out_init(&o, VEIL_MSG_GO);
	st = veil_proto_send(&w->conn, &o, err);
	veil_proto_out_free(&o);
	return st;
}

static veil_status on_progress(cli_ws *ws, train_run *tr, const veil_proto_msg *m, veil_err *err)
{
	json_t *p = parse_json(m, err);
	if (!p)
		return VEIL_E_INVALID;
	uint32_t epoch = (uint32_t)json_integer_value(json_object_get(p, "epoch"));
	uint64_t step = (uint64_t)json_integer_value(json_object_get(p, "step"));
	if (json_is_true(json_object_get(p, "tick"))) { /* only the bar moves */
		cli_progress_set(&tr->bar, step);
		json_decref(p);
		return VEIL_OK;
	}
	static const char *const names[] = {"loss",    "val_loss",      "val_accuracy",
	                                    "epsilon", "samples_per_s", "lr"};
	veil_metric pts[6];
	size_t n = 0;
	for (size_t i = 0; i < 6; i++) {
		double v = jnum(p, names[i]);
		if (!isfinite(v))
			continue;
		pts[n] = (veil_metric){.epoch = epoch, .step = step, .value = v};
		snprintf(pts[n].name, sizeof pts[n].name, "%s", names[i]);
		n++;
	}
	double eps = jnum(p, "epsilon");
	veil_status st = veil_catalog_metrics_add(ws->catalog, tr->job_id, pts, n, err);
	if (!st)
		st = veil_catalog_job_set_progress(ws->catalog, tr->job_id, epoch, step, tr->steps_total,
		                                   isfinite(eps) ? eps : 0, err);
	if (!st && !tr->quiet) {
		char line[256];
		int k = snprintf(line, sizeof line, "epoch %3u/%lld", epoch,
		                 (long long)json_integer_value(json_object_get(p, "epochs")));
		if (isfinite(jnum(p, "loss")) && k > 0 && (size_t)k < sizeof line) /* not reported under DP */
			k += snprintf(line + k, sizeof line - (size_t)k, "  loss %.4f", jnum(p, "loss"));
		if (isfinite(jnum(p, "val_loss")) && k > 0 && (size_t)k < sizeof line)
			k += snprintf(line + k, sizeof line - (size_t)k, "  val_loss %.4f  val_acc %.4f",
			              jnum(p, "val_loss"), jnum(p, "val_accuracy"));
		if (isfinite(eps) && k > 0 && (size_t)k < sizeof line)
			k += snprintf(line + k, sizeof line - (size_t)k, "  epsilon %.3f", eps);
		if (k > 0 && (size_t)k < sizeof line)
			snprintf(line + k, sizeof line - (size_t)k, "  %.0f samples/s",
			         jnum(p, "samples_per_s"));
		cli_progress_clear(&tr->bar);
		fprintf(stderr, "%s\n", line);
		cli_progress_set(&tr->bar, step);
	}
	json_decref(p);
	return st;
}

/* CHECKPOINT: store the sealed state, point the job at it, and only then
 * remove the one it replaces. */
static veil_status on_checkpoint(cli_ws *ws, train_run *tr, cli_worker *w, const veil_proto_msg *m,
                                 veil_err *err)
{
	veil_job_checkpoint ck = {.present = true}, prev = {0};
	veil_status st = veil_proto_get_u64(m, VEIL_F_STEP, &ck.step, err);
	if (st || (st = cli_worker_receive_object(ws, w, NULL, ck.object_id, err)))
		return st;
	tr->stored_ckpt = true;
	snprintf(ck.dek_id, sizeof ck.dek_id, "%s", tr->ckpt_dek);
	snprintf(ck.kek, sizeof ck.kek, "%s", tr->home->kek);
	const veil_proto_field *size = veil_proto_get(m, VEIL_F_SIZE, 0);
	ck.size = size ? veil_get_be64(size->value) : 0;
	st = veil_proto_get_text(m, VEIL_F_SHA256, 0, ck.sha256, sizeof ck.sha256, err);
	if (!st)
		st = veil_catalog_job_set_checkpoint(ws->catalog, tr->job_id, &ck, &prev, err);
	if (st) {
		destroy_object(ws, ck.object_id, NULL);
		return st;
	}
	if (prev.present && strcmp(prev.object_id, ck.object_id) != 0)
		destroy_object(ws, prev.object_id, NULL);
	return VEIL_OK;
}

/* The worker's messages until its signed report: plans, progress,
 * checkpoints, then the model object, then RESULT. */
static veil_status session(cli_ws *ws, train_run *tr, cli_worker *w, veil_buf *report,
                           uint8_t sig[static VEIL_PROTO_SIG_LEN], veil_err *err)
{
	veil_status st = send_job(ws, tr, w, err);
	while (!st) {
		veil_proto_msg m;
		if ((st = veil_proto_recv(&w->conn, &m, err)))
			break;
		switch (m.type) {
		case VEIL_MSG_PLAN:
			st = on_plan(ws, tr, w, &m, err);
			break;
		case VEIL_MSG_PROGRESS:
			st = on_progress(ws, tr, &m, err);
			break;
		case VEIL_MSG_CHECKPOINT:
			st = on_checkpoint(ws, tr, w, &m, err);
			break;
		case VEIL_MSG_DATA: /* the model, sealed */
			if (tr->model_object[0])
				st = veil_err_set(err, VEIL_E_INVALID, "the worker sent a second model");
			else
				st = cli_worker_receive_object(ws, w, &m, tr->model_object, err);
			break;
		case VEIL_MSG_RESULT:
			if (!tr->model_object[0])
				st = veil_err_set(err, VEIL_E_INVALID,
				                  "the worker's result came without a model");
			else
				st = cli_worker_result(w, &m, report, sig, err);
			veil_proto_msg_free(&m);
			return st;
		case VEIL_MSG_ERROR:
			st = veil_proto_error_status(&m, err);
			break;
		default:
			st = veil_err_set(err, VEIL_E_INVALID, "the worker sent a %s message during training",
			                  veil_proto_type_name(m.type));
		}
		veil_proto_msg_free(&m);
	}
	return st;
}

/* The model's catalog summary: what the signed report says of it, small
 * enough to list (architecture, test metrics' headline, privacy). */
static json_t *model_summary(json_t *report)
{
	json_t *metrics = json_object_get(report, "metrics");
	json_t *s = json_pack("{s:O, s:O, s:O, s:O, s:O}", "model", json_object_get(report, "model"), "rows",
	                      json_object_get(report, "rows"), "privacy", json_object_get(report, "privacy"),
	                      "job_sha256", json_object_get(report, "job_sha256"), "best_trial",
	                      json_object_get(report, "best_trial"));
	if (s && json_is_object(metrics)) {
		static const char *const keep[] = {"accuracy", "f1",      "precision", "recall",
		                                   "log_loss", "roc_auc", "rows"};
		json_t *m = json_object();
		for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
			if (json_object_get(metrics, keep[i]))
				json_object_set(m, keep[i], json_object_get(metrics, keep[i]));
		json_object_set_new(s, "metrics", m);
	}
	return s;
}

/* In one audited catalog transaction: the model version, its lineage (the
 * data it was trained on, the job), the job's model and its end. */
static veil_status record(cli_ws *ws, train_run *tr, const cli_worker *w, json_t *report,
                          const cli_sealed *envelope, veil_err *err)
{
	json_t *m = json_object_get(report, "model");
	const char *sha = json_string_value(json_object_get(m, "sha256"));
	const char *dek = json_string_value(json_object_get(m, "dek_id"));
	json_int_t size = json_integer_value(json_object_get(m, "size"));
	json_int_t chunk = json_integer_value(json_object_get(m, "chunk_size"));
	const char *job_sha = json_string_value(json_object_get(report, "job_sha256"));
	if (!sha || !dek || strcmp(dek, tr->model_dek) != 0 || size <= 0 || chunk <= 0 ||
	    chunk > UINT32_MAX || !job_sha || strcmp(job_sha, tr->job_sha) != 0)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "the worker's report does not describe this job's model");
	veil_model_version *v = &tr->model;
	memset(v, 0, sizeof *v);
	snprintf(v->name, sizeof v->name, "%s", tr->job->model_name);
	snprintf(v->owner, sizeof v->owner, "%s", tr->home->owner);
	snprintf(v->compartment, sizeof v->compartment, "%s", tr->home->compartment);
	/* The model is as sensitive as the most sensitive data it learnt from. */
	static const char *const order[] = {"public", "internal", "confidential", "restricted"};
	size_t cls = 0;
	for (size_t i = 0; i < tr->n_inputs; i++)
		for (size_t k = 0; k < 4; k++)
			if (strcmp(tr->inputs[i].r.dataset.classification, order[k]) == 0 && k > cls)
				cls = k;
	snprintf(v->classification, sizeof v->classification, "%s", order[cls]);
	v->size = (uint64_t)size;
	v->chunk_size = (uint32_t)chunk;
	snprintf(v->sha256, sizeof v->sha256, "%s", sha);
	snprintf(v->object_id, sizeof v->object_id, "%s", tr->model_object);
	snprintf(v->dek_id, sizeof v->dek_id, "%s", tr->model_dek);
	snprintf(v->kek, sizeof v->kek, "%s", tr->home->kek);
	snprintf(v->job_id, sizeof v->job_id, "%s", tr->job_id);
	snprintf(v->created_by, sizeof v->created_by, "%s", ws->principal.name);
	json_t *priv = json_object_get(report, "privacy");
	v->dp = json_is_object(priv);
	if (v->dp) {
		v->epsilon = json_number_value(json_object_get(priv, "job_epsilon"));
		v->delta = json_number_value(json_object_get(priv, "job_delta"));
	}
	json_t *summary = model_summary(report);
	char *text = summary ? json_dumps(summary, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(summary);
	if (!text || strlen(text) >= sizeof v->summary) {
		free(text);
		return veil_err_set(err, VEIL_E_LIMIT, "the model's summary does not fit the catalog");
	}
	snprintf(v->summary, sizeof v->summary, "%s", text);
	free(text);
	v->report.present = true;
	memcpy(v->report.object_id, envelope->object_id, sizeof v->report.object_id);
	memcpy(v->report.dek_id, envelope->dek_id, sizeof v->report.dek_id);
	memcpy(v->report.sha256, envelope->sha256, sizeof v->report.sha256);
	v->report.size = envelope->size;
	veil_status st = veil_catalog_begin(ws->catalog, err);
	if (st)
		return st;
	if ((st = veil_catalog_model_add_version(ws->catalog, v, err)) == VEIL_E_INVALID)
		veil_err_hint(
		        err,
		        "model %s exists with another owner or compartment: set model_name in the job file",
		        v->name);
	char mref[VEIL_CATALOG_REF_MAX], dref[VEIL_CATALOG_REF_MAX];
	snprintf(mref, sizeof mref, "%s@%u", v->name, v->version);
	for (size_t i = 0; i < tr->n_inputs && !st; i++) {
		const veil_dataset_version *d = &tr->inputs[i].r.dataset;
		snprintf(dref, sizeof dref, "%s@%u", d->name, d->version);
		st = veil_catalog_lineage_add(ws->catalog, "model_version", mref,
		                              strncmp(tr->inputs[i].role, "test", 4) == 0 ? "evaluated_on"
		                                                                          : "trained_on",
		                              "dataset_version", dref, w->measurement, err);
	}
	if (!st)
		st = veil_catalog_lineage_add(ws->catalog, "model_version", mref, "made_by", "job",
		                              tr->job_id, w->measurement, err);
	if (!st)
		st = veil_catalog_job_set_model(ws->catalog, tr->job_id, v->name, v->version, err);
	if (!st)
		st = veil_catalog_job_set_state(ws->catalog, tr->job_id, "succeeded", NULL, err);
	veil_job_checkpoint prev = {0};
	if (!st)
		st = veil_catalog_job_set_checkpoint(ws->catalog, tr->job_id, NULL, &prev, err);
	json_t *detail = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:b, s:f, s:f}", "job", tr->job_id,
	                           "sha256", v->sha256, "size", (json_int_t)v->size, "object_id",
	                           v->object_id, "dek_id", v->dek_id, "classification", v->classification,
	                           "private", v->dp, "epsilon", v->epsilon, "delta", v->delta);
	st = cli_commit_audited(ws, st, "model.create", mref, detail, err);
	if (!st && prev.present) /* the job is done: its checkpoint goes, and the key with it */
		destroy_object(ws, prev.object_id, NULL);
	if (!st)
		destroy_object(ws, NULL, tr->ckpt_dek);
	return st;
}

/* Reads and parses the job file (or, resuming, the job's own text from
 * the catalog), so that a bad one is refused before anything starts. */
static veil_status load_job(cli_ws *ws, train_run *tr, veil_err *err)
{
	veil_status st;
	if (tr->resume_job[0]) {
		veil_job_record jr;
		if ((st = veil_catalog_job_get(ws->catalog, tr->resume_job, &jr, err)))
			return st;
		/* Someone else's job is theirs to resume, unless managing jobs is
		 * granted: it runs their job file and shows its figures. */
		if (strcmp(jr.created_by, ws->principal.name) != 0) {
			cli_target t = {.verb = VEIL_VERB_MANAGE,
			                .type = "jobs",
			                .name = jr.id,
			                .owner = jr.created_by,
			                .region = ws->request_region};
			st = cli_authorize(ws, &t, err);
		}
		/* A job whose veil was killed is running no longer (joblock.c). */
		if (!st)
			st = cli_job_reap(ws, &jr, err);
		if (!st && strcmp(jr.kind, "eval") == 0)
			st = veil_err_set(
			        err, VEIL_E_INVALID,
			        "job %s is an evaluation, not training: run 'veil model eval' again", jr.id);
		else if (!st && strcmp(jr.state, "failed") != 0 && strcmp(jr.state, "interrupted") != 0)
			st = veil_err_set(err, VEIL_E_INVALID,
			                  "job %s is %s: only a failed or interrupted job resumes", jr.id,
			                  jr.state);
		else if (!st && !jr.checkpoint.present)
			st = veil_err_set(err, VEIL_E_NOTFOUND,
			                  "job %s has no checkpoint to resume from: run it again", jr.id);
		if (!st) {
			tr->resume_ckpt = jr.checkpoint;
			snprintf(tr->ckpt_dek, sizeof tr->ckpt_dek, "%s", jr.checkpoint.dek_id);
			snprintf(tr->job_id, sizeof tr->job_id, "%s", jr.id);
			tr->spec = jr.spec;
			tr->spec_len = jr.spec_len;
			jr.spec = NULL;
		}
		veil_job_record_free(&jr);
		if (st)
			return st;
	} else {
		veil_buf b = {0};
		if ((st = veil_fs_read_file(tr->path, VEIL_CATALOG_JOB_SPEC_MAX, &b, err)))
			return st;
		if (!(tr->spec = malloc(b.len + 1))) {
			veil_buf_free(&b);
			return veil_err_set(err, VEIL_E_NOMEM, "out of memory");
		}
		memcpy(tr->spec, b.data, b.len);
		tr->spec[b.len] = '\0';
		tr->spec_len = b.len;
		veil_buf_free(&b);
	}
	uint8_t d[VEIL_SHA256_LEN];
	if ((st = veil_hash(VEIL_HASH_SHA256, tr->spec, tr->spec_len, d, err)))
		return st;
	veil_hex_encode(d, sizeof d, tr->job_sha);
	if ((st = veil_job_parse(tr->spec, tr->spec_len, &tr->job, err)))
		veil_err_wrap(err, "%s", tr->path ? tr->path : "the job's file");
	return st;
}

static void warn_machine(const train_run *tr)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN), pages = sysconf(_SC_PHYS_PAGES),
	     psz = sysconf(_SC_PAGESIZE);
	veil_job_machine mc = {.cores = cores > 0 ? (uint32_t)cores : 0,
	                       .memory = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz : 0,
	                       .gpu = false};
	veil_job_warning warns[VEIL_JOB_WARNINGS_MAX];
	size_t n = veil_job_warnings(tr->job, &mc, warns);
	for (size_t i = 0; i < n; i++)
		cli_warn("%s", warns[i].text);
}

static void print_model(const train_run *tr, json_t *report)
{
	json_t *m = json_object_get(report, "metrics"), *p = json_object_get(report, "privacy");
	json_t *rows = json_object_get(report, "rows");
	printf("Trained %s@%u in the trusted worker (job %s)\n", tr->model.name, tr->model.version,
	       tr->job_id);
	printf("  rows:      %lld train, %lld validation, %lld test\n",
	       (long long)json_integer_value(json_object_get(rows, "train")),
	       (long long)json_integer_value(json_object_get(rows, "validation")),
	       (long long)json_integer_value(json_object_get(rows, "test")));
	if (json_is_object(m)) {
		printf("  test:      accuracy %.4f, macro F1 %.4f, log loss %.4f",
		       json_number_value(json_object_get(m, "accuracy")),
		       json_number_value(json_object_get(m, "f1")),
		       json_number_value(json_object_get(m, "log_loss")));
		if (json_is_number(json_object_get(m, "roc_auc")))
			printf(", ROC AUC %.4f", json_number_value(json_object_get(m, "roc_auc")));
		printf("\n");
	}
	if (json_is_object(p))
		printf("  privacy:   (%.4g, %.3g)-DP (RDP accountant; noise multiplier %.4g, clipping "
		       "%.4g)\n",
		       json_number_value(json_object_get(p, "job_epsilon")),
		       json_number_value(json_object_get(p, "job_delta")),
		       json_number_value(json_object_get(p, "noise_multiplier")),
		       json_number_value(json_object_get(p, "max_grad_norm")));
	else
		printf("  privacy:   none (trained without differential privacy)\n");
	json_t *trials = json_object_get(report, "trials");
	if (json_array_size(trials) > 1) {
		printf("  tuning:    %zu trials, best %lld by %s:\n", json_array_size(trials),
		       (long long)json_integer_value(json_object_get(report, "best_trial")),
		       tr->job->tuning.metric == VEIL_JOB_VAL_LOSS ? "validation loss"
		                                                   : "validation accuracy");
		cli_trials_table(trials, json_integer_value(json_object_get(report, "best_trial")));
	}
	printf("  model:     encrypted, %llu bytes (veil model inspect %s@%u)\n",
	       (unsigned long long)tr->model.size, tr->model.name, tr->model.version);
}

/* Everything from the job row to the recorded model. */
static veil_status run(cli_ws *ws, train_run *tr, veil_err *err)
{
	veil_status st;
	if (!tr->resume_job[0]) {
		veil_job_record jr = {0};
		snprintf(jr.kind, sizeof jr.kind, "%s", veil_job_trials(tr->job) > 1 ? "tune" : "train");
		snprintf(jr.name, sizeof jr.name, "%s", tr->job->name);
		jr.spec = tr->spec;
		jr.spec_len = tr->spec_len;
		snprintf(jr.created_by, sizeof jr.created_by, "%s", ws->principal.name);
		if ((st = veil_catalog_job_add(ws->catalog, &jr, err)))
			return st;
		snprintf(tr->job_id, sizeof tr->job_id, "%s", jr.id);
		if (!(st = cli_dek_for_worker(ws, tr->home->kek, tr->ckpt_dek, err)))
			st = cli_job_lock(ws, tr->job_id, &tr->lock_fd, err);
		if (st) { /* a new job that never ran leaves nothing but its failure */
			destroy_object(ws, NULL, tr->ckpt_dek);
			train_job_failed(ws, tr->job_id, err);
			return st;
		}
	} else if ((st = cli_job_lock(ws, tr->job_id, &tr->lock_fd, err))) {
		return st; /* another process resumed it first: its job, untouched */
	}
	if ((st = veil_catalog_job_set_state(ws->catalog, tr->job_id, "running", NULL, err)))
		return st;
	if (!(st = cli_audit(ws, tr->resume_job[0] ? "job.resume" : "job.start", tr->job_id, "ok",
	                     json_pack("{s:s, s:s}", "name", tr->job->name, "job_sha256", tr->job_sha), err)))
		st = cli_dek_for_worker(ws, tr->home->kek, tr->model_dek, err);
	if (!st && !tr->quiet)
		fprintf(stderr, "veil: job %s%s\n", tr->job_id,
		        tr->resume_job[0] ? " resumed from its checkpoint" : "");
	cli_worker w;
	memset(&w, 0, sizeof w);
	w.conn.fd = -1;
	veil_buf report = {0};
	uint8_t sig[VEIL_PROTO_SIG_LEN];
	json_t *parsed = NULL;
	if (!st && !(st = cli_worker_start(ws, &w, err))) {
		w.conn.timeout_ms = TRAIN_TIMEOUT_MS;
		if (!tr->job->security.attestation_required)
			veil_log(VEIL_LOG_INFO, "train", "the job allows a worker without verified evidence");
		st = session(ws, tr, &w, &report, sig, err);
	}
	if (!st) {
		json_error_t je;
		parsed = json_loadb((const char *)report.data, report.len, JSON_REJECT_DUPLICATES, &je);
		if (!parsed || !json_is_object(parsed))
			st = veil_err_set(err, VEIL_E_INVALID, "the worker's report is not a JSON object");
	}
	/* The signed report, kept with the evidence that proves who signed it
	 * (veil model inspect --verify), sealed like the model. */
	cli_sealed envelope = {0};
	if (!st && !(st = cli_report_seal(ws, &w, &report, sig, tr->home->kek, &envelope, err)) &&
	    (st = record(ws, tr, &w, parsed, &envelope, err)))
		cli_sealed_discard(ws, &envelope);
	cli_worker_stop(&w);
	cli_progress_clear(&tr->bar);
	if (!st && !tr->quiet)
		print_model(tr, parsed);
	if (!st && tr->json)
		cli_print_json(json_pack("{s:s, s:s, s:I, s:O}", "job", tr->job_id, "model", tr->model.name,
		                         "version", (json_int_t)tr->model.version, "report", parsed));
	json_decref(parsed);
	veil_buf_free(&report);
	if (st) {
		/* The job keeps its last checkpoint; a model nobody recorded goes. */
		destroy_object(ws, tr->model_object, tr->model_dek);
		if (!tr->stored_ckpt && !tr->resume_job[0])
			destroy_object(ws, NULL, tr->ckpt_dek);
		train_job_failed(ws, tr->job_id, err);
	}
	return st;
}

int cmd_train(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("train");
	static const struct option longopts[] = {{"resume", required_argument, NULL, 'r'},
	                                         {"json", no_argument, NULL, 'j'},
	                                         CLI_COMMON_OPTS,
	                                         {NULL, 0, NULL, 0}};
	train_run tr = {.lock_fd = -1};
	int opt, rc = -1;
	while ((opt = cli_opt(g, cmd, argc, argv, "r:", longopts, &rc)) != -1) {
		if (opt == 'r')
			snprintf(tr.resume_job, sizeof tr.resume_job, "%s", optarg);
		else
			tr.json = true;
	}
	if (rc >= 0 ||
	    (rc = cli_positional(cmd, argc, argv, tr.resume_job[0] ? 0 : 1, tr.resume_job[0] ? 0 : 1)) >= 0)
		return rc;
	tr.path = tr.resume_job[0] ? NULL : argv[optind];
	tr.quiet = g->quiet || tr.json;
	tr.g = g;
	veil_err err;
	veil_err_clear(&err);
	veil_status st = VEIL_OK;
	cli_ws ws;
	if (cli_ws_open(g, WS_CATALOG | WS_STORE | WS_AUDIT | WS_KMS, &ws, &err))
		return cli_fail(&err);
	if (!(st = load_job(&ws, &tr, &err))) {
		warn_machine(&tr);
		if (!(st = gather_inputs(&ws, &tr, &err)) && !(st = precheck_budgets(&ws, &tr, &err)))
			st = run(&ws, &tr, &err);
	}
	if (st) {
		cli_audit_refusal(&ws, "job.train",
		                  tr.job_id[0] ? tr.job_id : (tr.job ? tr.job->name : "job"), &err);
		rc = cli_fail(&err);
	} else
		rc = 0;
	cli_job_unlock(tr.lock_fd); /* after the job's final state */
	for (size_t i = 0; i < tr.n_inputs; i++)
		cli_resource_free(&tr.inputs[i].r);
	veil_job_free(tr.job);
	free(tr.spec);
	cli_ws_close(&ws);
	return rc;
}
