/*
 * veil model eval MODEL[@V] --dataset NAME[@V]: a stored model's metrics on
 * held-out data, computed by the trusted worker (src/worker/
 * job_evaluate.c). This process never holds the model or the data in
 * plaintext: it checks who may use each, releases their keys to the
 * attested worker, streams both objects and records what the worker's
 * signed report says.
 *
 * The figures are exact, not differentially private: over a data set with
 * a privacy budget they would answer counting queries for free. So a
 * budgeted data set is evaluated on only by whoever may take its plaintext
 * out anyway (manage datasets); everyone else evaluates on data without a
 * budget, e.g. a held-out set its owner released for the purpose.
 *
 * Each evaluation is a job (kind "eval") with its figures in the catalog's
 * metric series, a lineage edge model -[evaluated_on]-> data set, and an
 * audit event; a failure leaves the job failed with its reason.
 */
#include "cmds.h"
#include "train.h"

#include <math.h>
#include <string.h>

typedef struct eval_run {
	const char *model_ref, *dataset_ref;
	bool json, quiet;
	veil_model_version model;
	train_host_input inputs[TRAIN_HOST_INPUTS_MAX];
	size_t n_inputs;
	char job_id[VEIL_CATALOG_JOB_ID_MAX];
	int lock_fd; /* cli_job_lock's, while the job runs */
} eval_run;

/* The model, usable by the principal with its key. */
static veil_status load_model(cli_ws *ws, eval_run *er, veil_err *err)
{
	char name[VEIL_CATALOG_NAME_MAX];
	uint32_t version;
	veil_status st = veil_catalog_parse_ref(er->model_ref, name, &version, err);
	if (!st &&
	    (st = veil_catalog_model_get(ws->catalog, name, version, &er->model, err)) == VEIL_E_NOTFOUND)
		veil_err_hint(err, "'veil model list' shows the models you may see");
	if (st)
		return st;
	const veil_model_version *v = &er->model;
	/* veil_catalog_model_get gives live versions only */
	if ((st = cli_authorize_model(ws, v, VEIL_VERB_USE, err)))
		return st;
	cli_resource k;
	if ((st = cli_authorize_resource(ws, "keys", v->kek, VEIL_VERB_USE, &k, err)))
		return st;
	cli_resource_free(&k);
	return VEIL_OK;
}

veil_status eval_exact_allowed(cli_ws *ws, const veil_dataset_version *v, bool *ok, veil_err *err)
{
	veil_budget b;
	*ok = false;
	veil_status st = veil_catalog_budget_get(ws->catalog, v->name, v->version, &b, err);
	if (st == VEIL_E_NOTFOUND) {
		veil_err_clear(err);
		*ok = true;
		return VEIL_OK;
	}
	if (st)
		return st;
	cli_target t = {.verb = VEIL_VERB_MANAGE,
	                .type = "datasets",
	                .name = v->name,
	                .compartment = v->compartment,
	                .classification = v->classification,
	                .owner = v->owner,
	                .region = ws->request_region};
	return cli_authorize_quiet(ws, &t, ok, err);
}

/* The budget rule, for every input (IDX labels too). */
static veil_status check_budgets(cli_ws *ws, eval_run *er, veil_err *err)
{
	for (size_t i = 0; i < er->n_inputs; i++) {
		const veil_dataset_version *v = &er->inputs[i].r.dataset;
		bool ok;
		veil_status st = eval_exact_allowed(ws, v, &ok, err);
		if (st)
			return st;
		if (!ok) {
			veil_err_set(err, VEIL_E_DENIED,
			             "%s@%u has a privacy budget, and evaluation figures are exact, not "
			             "differentially private",
			             v->name, v->version);
			return veil_err_hint(
			        err,
			        "evaluate on a held-out data set without a budget; only those who "
			        "may manage %s (take its plaintext out) evaluate on it",
			        v->name);
		}
	}
	return VEIL_OK;
}

static veil_status send_job(cli_ws *ws, eval_run *er, cli_worker *w, veil_err *err)
{
	const veil_model_version *mv = &er->model;
	const char *ids[TRAIN_HOST_INPUTS_MAX + 1] = {mv->dek_id};
	size_t nids = 1;
	char text[200];
	veil_proto_out job;
	veil_proto_out_init(&job, VEIL_MSG_JOB);
	veil_status st = veil_proto_add_text(&job, VEIL_F_JOB, "evaluate", err);
	if (!st)
		st = veil_proto_add_text(&job, VEIL_F_DEK_ID, mv->dek_id, err);
	for (size_t i = 0; i < er->n_inputs && !st; i++)
		if (!(st = veil_proto_add_text(&job, VEIL_F_DEK_ID, er->inputs[i].r.dataset.dek_id, err)))
			ids[nids++] = er->inputs[i].r.dataset.dek_id;
	snprintf(text, sizeof text, "model %s@%u", mv->name, mv->version);
	if (!st && !(st = veil_proto_add_text(&job, VEIL_F_INPUT, text, err)) &&
	    !(st = veil_proto_add_u64(&job, VEIL_F_SIZE, mv->size, err)))
		st = veil_proto_add_text(&job, VEIL_F_SHA256, mv->sha256, err);
	for (size_t i = 0; i < er->n_inputs && !st; i++) {
		const veil_dataset_version *v = &er->inputs[i].r.dataset;
		snprintf(text, sizeof text, "%s %s@%u", er->inputs[i].role, v->name, v->version);
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
	for (size_t i = 0; i <= er->n_inputs && !st; i++) {
		const char *object = i == 0 ? mv->object_id : er->inputs[i - 1].r.dataset.object_id;
		if ((st = cli_worker_stream_object(ws, w, object, &sending, err)))
			return sending ? cli_worker_reason(w, st, err)
			               : (veil_proto_send_error(&w->conn, err), st);
	}
	return st;
}

/* The worker's signed report, checked to be of this model and these data. */
static veil_status session(cli_ws *ws, eval_run *er, cli_worker *w, json_t **out, veil_err *err)
{
	veil_buf report = {0};
	uint8_t sig[VEIL_PROTO_SIG_LEN];
	veil_proto_msg m = {0};
	veil_status st = send_job(ws, er, w, err);
	if (!st && !(st = veil_proto_expect(&w->conn, VEIL_MSG_RESULT, &m, err)))
		st = cli_worker_result(w, &m, &report, sig, err);
	veil_proto_msg_free(&m);
	json_error_t je;
	json_t *r =
	        st ? NULL : json_loadb((const char *)report.data, report.len, JSON_REJECT_DUPLICATES, &je);
	veil_buf_free(&report);
	if (st)
		return st;
	json_t *inputs = json_object_get(r, "inputs");
	bool same = json_is_object(json_object_get(r, "metrics")) &&
	            json_array_size(inputs) == er->n_inputs + 1 &&
	            strcmp(cli_json_str(json_array_get(inputs, 0), "sha256"), er->model.sha256) == 0;
	for (size_t i = 0; same && i < er->n_inputs; i++)
		same = strcmp(cli_json_str(json_array_get(inputs, i + 1), "sha256"),
		              er->inputs[i].r.dataset.sha256) == 0;
	if (!r || !same) {
		json_decref(r);
		return veil_err_set(err, VEIL_E_INVALID,
		                    "the worker's report does not describe this model and data");
	}
	*out = r;
	return VEIL_OK;
}

static double num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* In one audited transaction: the figures, the lineage edge, the job's
 * model and its end. */
static veil_status record(cli_ws *ws, eval_run *er, const cli_worker *w, json_t *report, veil_err *err)
{
	json_t *m = json_object_get(report, "metrics");
	static const char *const names[] = {"accuracy", "precision", "recall", "f1", "log_loss", "roc_auc"};
	veil_metric pts[6];
	size_t n = 0;
	for (size_t i = 0; i < 6; i++) {
		double v = num(m, names[i]);
		if (!isfinite(v))
			continue;
		pts[n] = (veil_metric){.value = v};
		snprintf(pts[n].name, sizeof pts[n].name, "%s", names[i]);
		n++;
	}
	char mref[VEIL_CATALOG_REF_MAX], dref[VEIL_CATALOG_REF_MAX];
	snprintf(mref, sizeof mref, "%s@%u", er->model.name, er->model.version);
	veil_status st = veil_catalog_begin(ws->catalog, err);
	if (st)
		return st;
	st = veil_catalog_metrics_add(ws->catalog, er->job_id, pts, n, err);
	json_t *sets = json_array();
	for (size_t i = 0; i < er->n_inputs && !st; i++) {
		const veil_dataset_version *d = &er->inputs[i].r.dataset;
		snprintf(dref, sizeof dref, "%s@%u", d->name, d->version);
		json_array_append_new(sets, json_string(dref));
		/* An edge an earlier evaluation made, by another worker build,
		 * stays as it is: the job and the audit event say who did this one. */
		st = veil_catalog_lineage_add(ws->catalog, "model_version", mref, "evaluated_on",
		                              "dataset_version", dref, w->measurement, err);
		if (st == VEIL_E_EXISTS) {
			veil_err_clear(err);
			st = VEIL_OK;
		}
	}
	if (!st)
		st = veil_catalog_job_set_model(ws->catalog, er->job_id, er->model.name, er->model.version,
		                                err);
	if (!st)
		st = veil_catalog_job_set_state(ws->catalog, er->job_id, "succeeded", NULL, err);
	/* Not the figures: the audit log is read by others than those who may
	 * see exact figures of a budgeted data set. */
	json_t *detail = json_pack("{s:s, s:o}", "job", er->job_id, "datasets", sets);
	return cli_commit_audited(ws, st, "model.evaluate", mref, detail, err);
}

static void print_report(const eval_run *er, json_t *r)
{
	json_t *m = json_object_get(r, "metrics");
	printf("Evaluated %s@%u on", er->model.name, er->model.version);
	for (size_t i = 0; i < er->n_inputs; i++)
		if (strcmp(er->inputs[i].role, "test") == 0)
			printf(" %s@%u", er->inputs[i].r.dataset.name, er->inputs[i].r.dataset.version);
	printf(" in the trusted worker (job %s)\n", er->job_id);
	printf("  rows:       %lld\n", (long long)json_integer_value(json_object_get(r, "rows")));
	printf("  accuracy:   %.4f\n", num(m, "accuracy"));
	printf("  macro:      precision %.4f, recall %.4f, F1 %.4f\n", num(m, "precision"), num(m, "recall"),
	       num(m, "f1"));
	printf("  log loss:   %.4f\n", num(m, "log_loss"));
	if (isfinite(num(m, "roc_auc")))
		printf("  ROC AUC:    %.4f\n", num(m, "roc_auc"));
	printf("  per class:  %-6s %9s %9s %9s %9s %9s\n", "CLASS", "PRECISION", "RECALL", "F1", "SUPPORT",
	       "PREDICTED");
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(m, "per_class"), i, c)
	{
		printf("              %-6s %9.4f %9.4f %9.4f %9lld %9lld\n", cli_json_str(c, "class"),
		       num(c, "precision"), num(c, "recall"), num(c, "f1"),
		       (long long)json_integer_value(json_object_get(c, "support")),
		       (long long)json_integer_value(json_object_get(c, "predicted")));
	}
	printf("  confusion (rows: true class, columns: predicted):\n");
	json_t *row;
	json_array_foreach(json_object_get(m, "confusion"), i, row)
	{
		printf("    %3zu ", i);
		size_t k;
		json_t *x;
		json_array_foreach(row, k, x) printf(" %7lld", (long long)json_integer_value(x));
		printf("\n");
	}
}

static veil_status run(cli_ws *ws, eval_run *er, veil_err *err)
{
	veil_job_record jr = {0};
	char spec[512];
	snprintf(spec, sizeof spec, "{\"evaluate\": {\"model\": \"%s@%u\", \"dataset\": \"%s@%u\"}}\n",
	         er->model.name, er->model.version, er->inputs[0].r.dataset.name,
	         er->inputs[0].r.dataset.version);
	snprintf(jr.kind, sizeof jr.kind, "eval");
	snprintf(jr.name, sizeof jr.name, "%s", er->model.name);
	jr.spec = spec;
	jr.spec_len = strlen(spec);
	snprintf(jr.created_by, sizeof jr.created_by, "%s", ws->principal.name);
	veil_status st = veil_catalog_job_add(ws->catalog, &jr, err);
	if (st)
		return st;
	snprintf(er->job_id, sizeof er->job_id, "%s", jr.id);
	if ((st = cli_job_lock(ws, er->job_id, &er->lock_fd, err)) ||
	    (st = veil_catalog_job_set_state(ws->catalog, er->job_id, "running", NULL, err))) {
		train_job_failed(ws, er->job_id, err);
		return st;
	}
	cli_worker w;
	memset(&w, 0, sizeof w);
	w.conn.fd = -1;
	json_t *report = NULL;
	if (!(st = cli_worker_start(ws, &w, err))) {
		/* After the last object the worker reads and predicts in silence:
		 * as long as an epoch of training may take. */
		w.conn.timeout_ms = TRAIN_TIMEOUT_MS;
		if (!(st = session(ws, er, &w, &report, err)))
			st = record(ws, er, &w, report, err);
	}
	cli_worker_stop(&w);
	if (!st && er->json)
		cli_print_json(json_pack("{s:s, s:s, s:I, s:O}", "job", er->job_id, "model", er->model.name,
		                         "version", (json_int_t)er->model.version, "report", report));
	else if (!st && !er->quiet)
		print_report(er, report);
	json_decref(report);
	if (st)
		train_job_failed(ws, er->job_id, err);
	return st;
}

int cmd_model_eval(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("model eval");
	static const struct option longopts[] = {{"dataset", required_argument, NULL, 'd'},
	                                         {"json", no_argument, NULL, 'j'},
	                                         CLI_COMMON_OPTS,
	                                         {NULL, 0, NULL, 0}};
	eval_run er = {.lock_fd = -1};
	int opt, rc = -1;
	while ((opt = cli_opt(g, cmd, argc, argv, "d:", longopts, &rc)) != -1) {
		if (opt == 'd')
			er.dataset_ref = optarg;
		else
			er.json = true;
	}
	if (rc >= 0 || (rc = cli_positional(cmd, argc, argv, 1, 1)) >= 0)
		return rc;
	if (!er.dataset_ref)
		return cli_usage_error(cmd, "name the data to evaluate on with --dataset NAME[@VERSION]");
	er.model_ref = argv[optind];
	er.quiet = g->quiet;
	veil_err err;
	veil_err_clear(&err);
	cli_ws ws;
	if (cli_ws_open(g, WS_CATALOG | WS_STORE | WS_AUDIT | WS_KMS, &ws, &err))
		return cli_fail(&err);
	char name[VEIL_CATALOG_NAME_MAX];
	uint32_t version = 0;
	veil_status st = load_model(&ws, &er, &err);
	if (!st)
		st = veil_catalog_parse_ref(er.dataset_ref, name, &version, &err);
	if (!st)
		st = train_add_dataset(&ws, er.inputs, &er.n_inputs, name, version, "test", &err);
	if (!st && !(st = check_budgets(&ws, &er, &err)))
		st = run(&ws, &er, &err);
	if (st) {
		cli_audit_refusal(&ws, "model.evaluate", er.job_id[0] ? er.job_id : er.model_ref, &err);
		rc = cli_fail(&err);
	} else
		rc = 0;
	cli_job_unlock(er.lock_fd);
	for (size_t i = 0; i < er.n_inputs; i++)
		cli_resource_free(&er.inputs[i].r);
	cli_ws_close(&ws);
	return rc;
}
