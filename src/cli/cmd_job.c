/*
 * veil job list|status|log: training jobs as the catalog records them:
 * their state, progress, privacy spent, last checkpoint and model, and the
 * series of figures the worker reported at each epoch.
 */
#include "cmds.h"
#include "train.h"

#include <string.h>

/* Jobs are resources of type "jobs"; a job is its creator's. */
static veil_status job_allowed(cli_ws *ws, const veil_job_record *j, veil_verb verb, bool quiet, bool *ok,
                               veil_err *err)
{
	cli_target t = {.verb = verb,
	                .type = "jobs",
	                .name = j->id,
	                .owner = j->created_by,
	                .region = ws->request_region};
	if (quiet)
		return cli_authorize_quiet(ws, &t, ok, err);
	*ok = true;
	return cli_authorize(ws, &t, err);
}

static json_t *job_json(const veil_job_record *j)
{
	char created[VEIL_TIME_STR_MAX], updated[VEIL_TIME_STR_MAX];
	veil_time_format(j->created, created);
	veil_time_format(j->updated, updated);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:f}", "id", j->id,
	                      "kind", j->kind, "name", j->name, "state", j->state, "job_sha256",
	                      j->job_sha256, "created_by", j->created_by, "created", created, "updated",
	                      updated, "epoch", (json_int_t)j->epoch, "step", (json_int_t)j->step,
	                      "steps_total", (json_int_t)j->steps_total, "epsilon_spent", j->epsilon_spent);
	if (j->error[0])
		json_object_set_new(o, "error", json_string(j->error));
	if (j->model[0])
		json_object_set_new(
		        o, "model",
		        json_pack("{s:s, s:I}", "name", j->model, "version", (json_int_t)j->model_version));
	if (j->checkpoint.present)
		json_object_set_new(o, "checkpoint",
		                    json_pack("{s:I, s:I}", "step", (json_int_t)j->checkpoint.step, "size",
		                              (json_int_t)j->checkpoint.size));
	return o;
}

static veil_status list_row(void *ctx, const veil_job_record *j, veil_err *err)
{
	cli_list *c = ctx;
	bool ok;
	veil_status st = job_allowed(c->ws, j, VEIL_VERB_INSPECT, true, &ok, err);
	if (st || !ok)
		return st;
	return cli_list_add(c, job_json(j), err);
}

static veil_status running_row(void *ctx, const veil_job_record *j, veil_err *err)
{
	return json_array_append_new(ctx, json_string(j->id))
	               ? veil_err_set(err, VEIL_E_NOMEM, "out of memory")
	               : VEIL_OK;
}

/* Running jobs whose veil process is gone become interrupted first, so
 * that the listing tells the truth (joblock.c). */
static veil_status reap_running(cli_ws *ws, veil_err *err)
{
	json_t *ids = json_array();
	veil_status st = ids ? veil_catalog_job_list(ws->catalog, "running", running_row, ids, err)
	                     : veil_err_set(err, VEIL_E_NOMEM, "out of memory");
	size_t i;
	json_t *id;
	json_array_foreach(ids, i, id)
	{
		veil_job_record j;
		veil_err e;
		if (st || (st = veil_catalog_job_get(ws->catalog, json_string_value(id), &j, err)))
			break;
		/* A job whose lock cannot be looked at is listed as it stands. */
		if (cli_job_reap(ws, &j, &e) != VEIL_OK)
			veil_log(VEIL_LOG_WARN, "job", "cannot tell whether job %s still runs: %s", j.id,
			         e.msg);
		veil_job_record_free(&j);
	}
	json_decref(ids);
	return st;
}

static veil_status jobs(cli_ws *ws, cli_list *c, veil_err *err)
{
	veil_status st = reap_running(ws, err);
	return st ? st : veil_catalog_job_list(ws->catalog, c->arg, list_row, c, err);
}

static void job_table(json_t *arr)
{
	printf("%-19s %-6s %-20s %-11s %13s %9s %-20s %s\n", "ID", "KIND", "NAME", "STATE", "STEP", "EPSILON",
	       "MODEL", "CREATED");
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o)
	{
		char step[32], model[80] = "-";
		snprintf(step, sizeof step, "%lld/%lld",
		         (long long)json_integer_value(json_object_get(o, "step")),
		         (long long)json_integer_value(json_object_get(o, "steps_total")));
		json_t *m = json_object_get(o, "model");
		if (m)
			snprintf(model, sizeof model, "%s@%lld", cli_json_str(m, "name"),
			         (long long)json_integer_value(json_object_get(m, "version")));
		printf("%-19s %-6s %-20s %-11s %13s %9.4g %-20s %s\n", cli_json_str(o, "id"),
		       cli_json_str(o, "kind"), cli_json_str(o, "name"), cli_json_str(o, "state"), step,
		       json_number_value(json_object_get(o, "epsilon_spent")), model,
		       cli_json_str(o, "created"));
	}
}

int cmd_job_list(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("job list");
	static const struct option longopts[] = {{"state", required_argument, NULL, 's'},
	                                         {"json", no_argument, NULL, 'j'},
	                                         CLI_COMMON_OPTS,
	                                         {NULL, 0, NULL, 0}};
	bool json = false;
	const char *state = NULL;
	int opt, rc = -1;
	while ((opt = cli_opt(g, cmd, argc, argv, "s:", longopts, &rc)) != -1) {
		if (opt == 's')
			state = optarg;
		else
			json = true;
	}
	if (rc >= 0 || (rc = cli_positional(cmd, argc, argv, 0, 0)) >= 0)
		return rc;
	return cli_run_list(g, json, jobs, job_table, state);
}

static veil_status metric_row(void *ctx, const veil_metric *m, veil_err *err)
{
	json_array_append_new(ctx, json_pack("{s:I, s:I, s:s, s:f}", "epoch", (json_int_t)m->epoch, "step",
	                                     (json_int_t)m->step, "name", m->name, "value", m->value));
	return VEIL_OK;
}

static veil_status charge_row(void *ctx, const veil_budget_charge *c, veil_err *err)
{
	char ref[VEIL_CATALOG_REF_MAX];
	snprintf(ref, sizeof ref, "%s@%u", c->dataset, c->version);
	json_array_append_new(ctx, json_pack("{s:s, s:I, s:f, s:f}", "dataset", ref, "trial",
	                                     (json_int_t)c->trial, "epsilon", c->epsilon, "delta", c->delta));
	return VEIL_OK;
}

/* An evaluation's exact figures over a data set with a privacy budget are
 * shown only to those who may manage that data set, as `veil model eval`
 * itself requires (cmd_model_eval.c): *withheld says they are not. */
static veil_status eval_figures_allowed(cli_ws *ws, const veil_job_record *j, bool *withheld, veil_err *err)
{
	*withheld = false;
	json_error_t je;
	json_t *spec = json_loadb(j->spec, j->spec_len, 0, &je);
	const char *ref = json_string_value(json_object_get(json_object_get(spec, "evaluate"), "dataset"));
	char name[VEIL_CATALOG_NAME_MAX];
	uint32_t version;
	veil_dataset_version v = {0};
	veil_status st = VEIL_OK;
	bool ok = false;
	if (!ref || veil_catalog_parse_ref(ref, name, &version, err) != VEIL_OK) {
		veil_err_clear(err);
		*withheld = true; /* a spec this veil did not write: show nothing */
	} else if ((st = veil_catalog_dataset_get(ws->catalog, name, version, &v, err)) == VEIL_E_NOTFOUND) {
		veil_err_clear(err); /* its data is gone: nobody can tell who may */
		*withheld = true;
		st = VEIL_OK;
	} else if (!st) {
		st = eval_exact_allowed(ws, &v, &ok, err);
		*withheld = !ok;
		veil_dataset_version_free(&v);
	}
	json_decref(spec);
	return st;
}

/* The job (authorized for read) with its charges and, with metrics, its
 * series. */
static veil_status load_job(cli_ws *ws, const char *id, bool metrics, json_t **out, veil_err *err)
{
	veil_job_record j;
	bool ok;
	veil_status st = veil_catalog_job_get(ws->catalog, id, &j, err);
	if (st == VEIL_E_NOTFOUND)
		veil_err_hint(err, "'veil job list' shows the jobs you may see");
	if (st || (st = job_allowed(ws, &j, VEIL_VERB_READ, false, &ok, err)) ||
	    (st = cli_job_reap(ws, &j, err))) {
		veil_job_record_free(&j);
		return st;
	}
	bool withheld = false;
	if (strcmp(j.kind, "eval") == 0) { /* an evaluation's figures are its result */
		metrics = true;
		st = eval_figures_allowed(ws, &j, &withheld, err);
	}
	if (st) {
		veil_job_record_free(&j);
		return st;
	}
	*out = job_json(&j);
	json_object_set_new(*out, "spec", json_stringn(j.spec, j.spec_len));
	veil_job_record_free(&j);
	json_t *charges = json_array(), *series = json_array();
	st = veil_catalog_budget_job_charges(ws->catalog, id, charge_row, charges, err);
	if (!st && metrics)
		st = veil_catalog_metrics_list(ws->catalog, id, NULL, metric_row, series, err);
	json_object_set_new(*out, "charges", charges);
	if (metrics && !withheld)
		json_object_set_new(*out, "metrics", series);
	else
		json_decref(series);
	if (withheld)
		json_object_set_new(*out, "metrics_withheld",
		                    json_string("the evaluation's data set has a privacy budget, and exact "
		                                "figures of it are for those who may manage it"));
	return st;
}

static int run_show(cli_global *g, const char *name, bool metrics, int argc, char **argv,
                    void (*print)(json_t *))
{
	const cli_command *cmd = cli_find(name);
	bool json;
	int rc = cli_parse_json_only(g, cmd, argc, argv, &json);
	if (rc >= 0 || (rc = cli_positional(cmd, argc, argv, 1, 1)) >= 0)
		return rc;
	veil_err err;
	veil_err_clear(&err);
	cli_ws ws;
	if (cli_ws_open(g, WS_CATALOG, &ws, &err))
		return cli_fail(&err);
	json_t *o = NULL;
	veil_status st = load_job(&ws, argv[optind], metrics, &o, &err);
	cli_ws_close(&ws);
	return cli_show(st, &err, o, json, print);
}

static void print_status(json_t *o)
{
	printf("%s  %s %s: %s\n", cli_json_str(o, "id"), cli_json_str(o, "kind"), cli_json_str(o, "name"),
	       cli_json_str(o, "state"));
	printf("  by:          %s, %s (updated %s)\n", cli_json_str(o, "created_by"),
	       cli_json_str(o, "created"), cli_json_str(o, "updated"));
	printf("  progress:    epoch %lld, step %lld of %lld\n",
	       (long long)json_integer_value(json_object_get(o, "epoch")),
	       (long long)json_integer_value(json_object_get(o, "step")),
	       (long long)json_integer_value(json_object_get(o, "steps_total")));
	printf("  epsilon:     %.4g so far\n", json_number_value(json_object_get(o, "epsilon_spent")));
	json_t *c = json_object_get(o, "checkpoint"), *m = json_object_get(o, "model");
	if (c)
		printf("  checkpoint:  step %lld, encrypted (veil train --resume %s)\n",
		       (long long)json_integer_value(json_object_get(c, "step")), cli_json_str(o, "id"));
	if (m)
		printf("  model:       %s@%lld\n", cli_json_str(m, "name"),
		       (long long)json_integer_value(json_object_get(m, "version")));
	if (json_object_get(o, "error"))
		printf("  error:       %s\n", cli_json_str(o, "error"));
	if (json_object_get(o, "metrics_withheld"))
		printf("  figures:     withheld: %s\n", cli_json_str(o, "metrics_withheld"));
	size_t k;
	json_t *p;
	json_array_foreach(json_object_get(o, "metrics"), k, p)
	{
		printf("  %-12s %.4f\n", cli_json_str(p, "name"),
		       json_number_value(json_object_get(p, "value")));
	}
	size_t i;
	json_t *ch;
	json_array_foreach(json_object_get(o, "charges"), i, ch)
	{
		printf("  charged:     %s epsilon %.4g delta %.3g%s\n", cli_json_str(ch, "dataset"),
		       json_number_value(json_object_get(ch, "epsilon")),
		       json_number_value(json_object_get(ch, "delta")),
		       json_integer_value(json_object_get(ch, "trial")) ? " (a tuning trial)" : "");
	}
}

static void print_log(json_t *o)
{
	/* One line per epoch: the points of one (epoch, step) together. */
	printf("%6s %8s %10s %10s %10s %9s %12s\n", "EPOCH", "STEP", "LOSS", "VAL_LOSS", "VAL_ACC", "EPSILON",
	       "SAMPLES/S");
	json_t *series = json_object_get(o, "metrics");
	size_t i = 0, n = json_array_size(series);
	while (i < n) {
		json_t *p = json_array_get(series, i);
		json_int_t epoch = json_integer_value(json_object_get(p, "epoch"));
		json_int_t step = json_integer_value(json_object_get(p, "step"));
		double v[5] = {-1, -1, -1, -1, -1};
		static const char *const names[] = {"loss", "val_loss", "val_accuracy", "epsilon",
		                                    "samples_per_s"};
		for (; i < n; i++) {
			json_t *q = json_array_get(series, i);
			if (json_integer_value(json_object_get(q, "epoch")) != epoch ||
			    json_integer_value(json_object_get(q, "step")) != step)
				break;
			for (size_t k = 0; k < 5; k++)
				if (strcmp(cli_json_str(q, "name"), names[k]) == 0)
					v[k] = json_number_value(json_object_get(q, "value"));
		}
		printf("%6lld %8lld", (long long)epoch, (long long)step);
		for (size_t k = 0; k < 5; k++) {
			if (v[k] < 0)
				printf(" %10s", "-");
			else
				printf(k == 4 ? " %12.0f" : " %10.4f", v[k]);
		}
		printf("\n");
	}
}

int cmd_job_status(cli_global *g, int argc, char **argv)
{
	return run_show(g, "job status", false, argc, argv, print_status);
}

int cmd_job_log(cli_global *g, int argc, char **argv)
{
	return run_show(g, "job log", true, argc, argv, print_log);
}
