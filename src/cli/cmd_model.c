/*
 * veil model list|inspect|compare: the models training made, from the
 * catalog. A model's weights stay encrypted; what these commands show is
 * what the worker's signed report said of it (architecture, test metrics,
 * privacy cost) and where it came from (job, data, lineage).
 */
#include "cmds.h"
#include "reports.h"

#include <math.h>
#include <string.h>

/* May the principal see (verb) this model? */
static veil_status model_allowed(cli_ws *ws, const veil_model_version *v, veil_verb verb, bool quiet,
                                 bool *ok, veil_err *err)
{
	cli_target t = {.verb = verb,
	                .type = "models",
	                .name = v->name,
	                .compartment = v->compartment,
	                .classification = v->classification,
	                .owner = v->owner,
	                .region = ws->request_region};
	if (quiet)
		return cli_authorize_quiet(ws, &t, ok, err);
	*ok = true;
	return cli_authorize(ws, &t, err);
}

veil_status cli_authorize_model(cli_ws *ws, const veil_model_version *v, veil_verb verb, veil_err *err)
{
	bool ok;
	return model_allowed(ws, v, verb, false, &ok, err);
}

void cli_trials_table(json_t *trials, long long best)
{
	/* EPOCHS is how many ran (early stopping may end a trial sooner). */
	printf("    %-6s %9s %6s %6s %-12s %6s %7s %8s %7s %9s %8s\n", "TRIAL", "LR", "BATCH", "EPOCHS",
	       "HIDDEN", "CLIP", "SIGMA", "EPSILON", "STEPS", "VAL_LOSS", "VAL_ACC");
	size_t i;
	json_t *t;
	json_array_foreach(trials, i, t)
	{
		char hidden[64] = "-", num[3][16];
		size_t k, n = 0;
		json_t *h;
		json_array_foreach(json_object_get(t, "hidden"), k, h)
		{
			int w = snprintf(hidden + n, sizeof hidden - n, "%s%lld", k ? "," : "",
			                 (long long)json_integer_value(h));
			if (w < 0 || (size_t)w >= sizeof hidden - n)
				break;
			n += (size_t)w;
		}
		static const char *const dp[] = {"max_grad_norm", "noise_multiplier", "epsilon"};
		for (size_t d = 0; d < 3; d++) {
			json_t *x = json_object_get(t, dp[d]);
			if (json_is_number(x))
				snprintf(num[d], sizeof num[d], "%.4g", json_number_value(x));
			else
				snprintf(num[d], sizeof num[d], "-");
		}
		long long id = json_integer_value(json_object_get(t, "trial"));
		char label[32];
		snprintf(label, sizeof label, "%lld%s", id, id == best ? " *" : "");
		printf("    %-6s %9.4g %6lld %6lld %-12s %6s %7s %8s %7lld %9.4f %8.4f\n", label,
		       json_number_value(json_object_get(t, "lr")),
		       (long long)json_integer_value(json_object_get(t, "batch_size")),
		       (long long)json_integer_value(json_object_get(t, "epochs_run")), hidden, num[0],
		       num[1], num[2], (long long)json_integer_value(json_object_get(t, "steps")),
		       json_number_value(json_object_get(t, "val_loss")),
		       json_number_value(json_object_get(t, "val_accuracy")));
	}
}

static json_t *model_json(const veil_model_version *v)
{
	char created[VEIL_TIME_STR_MAX];
	veil_time_format(v->created, created);
	json_error_t je;
	json_t *summary = json_loads(v->summary, 0, &je);
	json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:b, s:s, s:s}", "name", v->name,
	                      "version", (json_int_t)v->version, "owner", v->owner, "compartment",
	                      v->compartment, "classification", v->classification, "size",
	                      (json_int_t)v->size, "sha256", v->sha256, "job", v->job_id, "created", created,
	                      "private", v->dp, "state", v->state, "created_by", v->created_by);
	if (v->dp) {
		json_object_set_new(o, "epsilon", json_real(v->epsilon));
		json_object_set_new(o, "delta", json_real(v->delta));
	}
	json_object_set_new(o, "summary", summary ? summary : json_object());
	return o;
}

static veil_status list_row(void *ctx, const veil_model_version *v, veil_err *err)
{
	cli_list *c = ctx;
	bool ok;
	veil_status st = model_allowed(c->ws, v, VEIL_VERB_INSPECT, true, &ok, err);
	if (st || !ok)
		return st;
	return cli_list_add(c, model_json(v), err);
}

static veil_status models(cli_ws *ws, cli_list *c, veil_err *err)
{
	return veil_catalog_model_list(ws->catalog, list_row, c, err);
}

static double metric(json_t *o, const char *k)
{
	json_t *v = json_object_get(json_object_get(json_object_get(o, "summary"), "metrics"), k);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

static void privacy_text(json_t *o, char *out, size_t n)
{
	if (json_is_true(json_object_get(o, "private")))
		snprintf(out, n, "(%.3g, %.2g)", json_number_value(json_object_get(o, "epsilon")),
		         json_number_value(json_object_get(o, "delta")));
	else
		snprintf(out, n, "none");
}

static void model_table(json_t *arr)
{
	printf("%-24s %7s %-10s %-13s %9s %-16s %-20s %s\n", "NAME", "VERSION", "KIND", "CLASS", "ACCURACY",
	       "(EPSILON, DELTA)", "JOB", "CREATED");
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o)
	{
		char priv[48];
		privacy_text(o, priv, sizeof priv);
		double acc = metric(o, "accuracy");
		printf("%-24s %7lld %-10s %-13s %9.4f %-16s %-20s %s%s\n", cli_json_str(o, "name"),
		       (long long)json_integer_value(json_object_get(o, "version")),
		       cli_json_str(json_object_get(json_object_get(o, "summary"), "model"), "kind"),
		       cli_json_str(o, "classification"), isnan(acc) ? 0.0 : acc, priv,
		       cli_json_str(o, "job"), cli_json_str(o, "created"),
		       strcmp(cli_json_str(o, "state"), "live") ? "  (deleted)" : "");
	}
}

int cmd_model_list(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("model list");
	bool json;
	int rc = cli_parse_json_only(g, cmd, argc, argv, &json);
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	return cli_run_list(g, json, models, model_table, NULL);
}

static veil_status edge_row(void *ctx, const veil_lineage_edge *e, veil_err *err)
{
	json_array_append_new(ctx, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "from_kind", e->from_kind,
	                                     "from", e->from_ref, "relation", e->relation, "to_kind",
	                                     e->to_kind, "to", e->to_ref, "measurement", e->measurement));
	return VEIL_OK;
}

/* Checks the training report kept with version v: that it is a train
 * report of exactly this model file and job file, and that its envelope
 * verifies (signature, evidence, binding); adds what it proved to o. */
static veil_status verify_report(cli_ws *ws, const veil_model_version *v, json_t *o, veil_err *err)
{
	if (!v->report.present) {
		veil_err_set(err, VEIL_E_NOTFOUND, "%s@%u was trained before veil kept training reports",
		             v->name, v->version);
		return veil_err_hint(err, "its lineage edges still carry the worker's measurement");
	}
	cli_resource k;
	veil_status st = cli_authorize_resource(ws, "keys", v->kek, VEIL_VERB_USE, &k, err);
	if (st)
		return st;
	cli_resource_free(&k);
	json_t *env = NULL, *r = NULL;
	veil_attest_claims claims;
	veil_attest_claims_init(&claims);
	st = cli_report_open_sealed(ws, v->report.object_id, v->report.dek_id, v->report.sha256, &env, &r,
	                            err);
	const char *want_job = cli_json_str(json_object_get(o, "summary"), "job_sha256");
	if (!st && (strcmp(cli_json_str(r, "job"), "train") != 0 ||
	            strcmp(cli_json_str(json_object_get(r, "model"), "sha256"), v->sha256) != 0 ||
	            strcmp(cli_json_str(r, "job_sha256"), want_job) != 0))
		st = veil_err_set(err, VEIL_E_CORRUPT,
		                  "the training report kept with %s@%u describes another model or job file",
		                  v->name, v->version);
	if (!st)
		st = cli_report_verify_envelope(ws, env, &claims, err);
	if (!st) {
		json_t *w = json_object_get(r, "worker");
		json_object_set_new(o, "verified",
		                    json_pack("{s:s, s:s, s:b, s:s}", "tee", cli_json_str(w, "tee"),
		                              "measurement", cli_json_str(w, "measurement"), "simulated",
		                              claims.simulated, "signing_key",
		                              cli_json_str(env, "signing_key")));
		json_object_set(o, "report", r);
	}
	json_decref(env);
	json_decref(r);
	return st;
}

/* The model version named by ref (NAME or NAME@V), authorized for verb,
 * as JSON with its lineage; with verify, its training report checked. */
static veil_status load_model(cli_ws *ws, const char *ref, bool verify, json_t **out, veil_err *err)
{
	char name[VEIL_CATALOG_NAME_MAX], mref[VEIL_CATALOG_REF_MAX];
	uint32_t version;
	veil_model_version v;
	bool ok;
	veil_status st = veil_catalog_parse_ref(ref, name, &version, err);
	if (!st && (st = veil_catalog_model_get(ws->catalog, name, version, &v, err)) == VEIL_E_NOTFOUND)
		veil_err_hint(err, "'veil model list' shows the models you may see");
	if (st || (st = model_allowed(ws, &v, VEIL_VERB_READ, false, &ok, err)))
		return st;
	*out = model_json(&v);
	json_t *lineage = json_array();
	snprintf(mref, sizeof mref, "%s@%u", v.name, v.version);
	st = veil_catalog_lineage_edges(ws->catalog, "model_version", mref, edge_row, lineage, err);
	json_object_set_new(*out, "lineage", lineage);
	if (!st && verify)
		st = verify_report(ws, &v, *out, err);
	return st;
}

static void print_inspect(json_t *o)
{
	json_t *s = json_object_get(o, "summary"), *m = json_object_get(s, "model"),
	       *r = json_object_get(s, "rows");
	json_t *p = json_object_get(s, "privacy");
	printf("%s@%lld  (%s, %s)\n", cli_json_str(o, "name"),
	       (long long)json_integer_value(json_object_get(o, "version")),
	       cli_json_str(o, "classification"), cli_json_str(o, "state"));
	printf("  owner:        %s (compartment %s)\n", cli_json_str(o, "owner"),
	       cli_json_str(o, "compartment"));
	printf("  model:        %s, %lld parameters; encrypted, %lld bytes, SHA-256 %.16s…\n",
	       cli_json_str(m, "kind"), (long long)json_integer_value(json_object_get(m, "parameters")),
	       (long long)json_integer_value(json_object_get(o, "size")), cli_json_str(o, "sha256"));
	printf("  trained by:   job %s (%s), %s\n", cli_json_str(o, "job"), cli_json_str(o, "created_by"),
	       cli_json_str(o, "created"));
	printf("  rows:         %lld train, %lld validation, %lld test\n",
	       (long long)json_integer_value(json_object_get(r, "train")),
	       (long long)json_integer_value(json_object_get(r, "validation")),
	       (long long)json_integer_value(json_object_get(r, "test")));
	printf("  test metrics: accuracy %.4f, macro precision %.4f, recall %.4f, F1 %.4f, log loss %.4f\n",
	       metric(o, "accuracy"), metric(o, "precision"), metric(o, "recall"), metric(o, "f1"),
	       metric(o, "log_loss"));
	if (!isnan(metric(o, "roc_auc")))
		printf("                ROC AUC %.4f\n", metric(o, "roc_auc"));
	if (json_is_object(p))
		printf("  privacy:      (%.4g, %.3g)-DP by DP-SGD (RDP accountant): noise multiplier %.4g, "
		       "clipping "
		       "norm %.4g, sampling rate %.4g, %lld steps\n",
		       json_number_value(json_object_get(p, "job_epsilon")),
		       json_number_value(json_object_get(p, "job_delta")),
		       json_number_value(json_object_get(p, "noise_multiplier")),
		       json_number_value(json_object_get(p, "max_grad_norm")),
		       json_number_value(json_object_get(p, "sample_rate")),
		       (long long)json_integer_value(json_object_get(p, "steps")));
	else
		printf("  privacy:      none: trained without differential privacy\n");
	size_t i;
	json_t *e;
	json_t *ver = json_object_get(o, "verified");
	if (ver)
		printf("  verified:     the signed training report, its evidence (%s, measurement %.16s…%s) "
		       "and their binding all check\n",
		       cli_json_str(ver, "tee"), cli_json_str(ver, "measurement"),
		       json_is_true(json_object_get(ver, "simulated"))
		               ? "; SIMULATED: proves nothing about hardware"
		               : "");
	json_t *trials = json_object_get(json_object_get(o, "report"), "trials");
	if (json_array_size(trials) > 1) {
		printf("  tuning:       %zu trials (from the verified report):\n", json_array_size(trials));
		cli_trials_table(trials, json_integer_value(json_object_get(s, "best_trial")));
	}
	printf("  lineage:\n");
	json_array_foreach(json_object_get(o, "lineage"), i, e)
	{
		printf("    %s %s %s %s (measurement %.16s…)\n", cli_json_str(e, "from"),
		       cli_json_str(e, "relation"), cli_json_str(e, "to_kind"), cli_json_str(e, "to"),
		       cli_json_str(e, "measurement"));
	}
}

int cmd_model_inspect(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("model inspect");
	static const struct option longopts[] = {{"verify", no_argument, NULL, 'v'},
	                                         {"json", no_argument, NULL, 'j'},
	                                         CLI_COMMON_OPTS,
	                                         {NULL, 0, NULL, 0}};
	bool json = false, verify = false;
	int opt, rc = -1;
	while ((opt = cli_opt(g, cmd, argc, argv, "", longopts, &rc)) != -1) {
		if (opt == 'v')
			verify = true;
		else
			json = true;
	}
	if (rc >= 0 || (rc = cli_positional(cmd, argc, argv, 1, 1)) >= 0)
		return rc;
	veil_err err;
	veil_err_clear(&err);
	cli_ws ws;
	if (cli_ws_open(g, WS_CATALOG | (verify ? WS_STORE | WS_KMS : 0), &ws, &err))
		return cli_fail(&err);
	json_t *o = NULL;
	veil_status st = load_model(&ws, argv[optind], verify, &o, &err);
	cli_ws_close(&ws);
	return cli_show(st, &err, o, json, print_inspect);
}

int cmd_model_compare(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("model compare");
	bool json;
	int rc = cli_parse_json_only(g, cmd, argc, argv, &json);
	if (rc >= 0 || (rc = cli_positional(cmd, argc, argv, 2, 2)) >= 0)
		return rc;
	veil_err err;
	veil_err_clear(&err);
	cli_ws ws;
	if (cli_ws_open(g, WS_CATALOG, &ws, &err))
		return cli_fail(&err);
	json_t *a = NULL, *b = NULL;
	veil_status st = load_model(&ws, argv[optind], false, &a, &err);
	if (!st)
		st = load_model(&ws, argv[optind + 1], false, &b, &err);
	cli_ws_close(&ws);
	if (st) {
		json_decref(a);
		json_decref(b);
		return cli_fail(&err);
	}
	if (json)
		return cli_print_json(json_pack("[o, o]", a, b));
	char na[80], nb[80], pa[48], pb[48];
	snprintf(na, sizeof na, "%s@%lld", cli_json_str(a, "name"),
	         (long long)json_integer_value(json_object_get(a, "version")));
	snprintf(nb, sizeof nb, "%s@%lld", cli_json_str(b, "name"),
	         (long long)json_integer_value(json_object_get(b, "version")));
	privacy_text(a, pa, sizeof pa);
	privacy_text(b, pb, sizeof pb);
	printf("%-22s %-24s %-24s\n", "", na, nb);
	static const char *const rows[] = {"accuracy", "precision", "recall", "f1", "log_loss", "roc_auc"};
	static const char *const names[] = {"test accuracy", "macro precision", "macro recall",
	                                    "macro F1",      "log loss",        "ROC AUC"};
	for (size_t i = 0; i < 6; i++) {
		double x = metric(a, rows[i]), y = metric(b, rows[i]);
		if (isnan(x) && isnan(y))
			continue;
		printf("%-22s %-24.4f %-24.4f\n", names[i], x, y);
	}
	printf("%-22s %-24s %-24s\n", "privacy (eps, delta)", pa, pb);
	printf("%-22s %-24s %-24s\n", "kind",
	       cli_json_str(json_object_get(json_object_get(a, "summary"), "model"), "kind"),
	       cli_json_str(json_object_get(json_object_get(b, "summary"), "model"), "kind"));
	printf("%-22s %-24s %-24s\n", "classification", cli_json_str(a, "classification"),
	       cli_json_str(b, "classification"));
	printf("%-22s %-24s %-24s\n", "job", cli_json_str(a, "job"), cli_json_str(b, "job"));
	json_decref(a);
	json_decref(b);
	return 0;
}
