/*
 * Compliance rules of the workspace (veil.yaml, docs/operations.md). One
 * today: compliance.restricted_training = deidentified forbids training on
 * a restricted dataset version unless it is the output of a feature
 * pipeline that dropped or pseudonymised every direct identifier, which the
 * worker's signed build report of that version says (reports.c). The
 * training job calls cli_compliance_check before it asks for any key;
 * `veil data compliance` shows the same decision ahead of time.
 */
#include "cmds.h"
#include "compliance.h"
#include "reports.h"

#include <string.h>

veil_status cli_compliance_check(cli_ws *ws, const veil_dataset_version *v, const char *use, char *why,
                                 size_t why_len, veil_err *err)
{
	snprintf(why, why_len, "no compliance rule applies");
	if (strcmp(use, "training") != 0)
		return veil_err_set(err, VEIL_E_INTERNAL, "no compliance rule knows the use '%s'", use);
	if (!ws->cfg.restricted_training_deidentified) {
		snprintf(why, why_len, "compliance.restricted_training is allow");
		return VEIL_OK;
	}
	if (strcmp(v->classification, "restricted") != 0) {
		snprintf(why, why_len, "the dataset is %s, not restricted", v->classification);
		return VEIL_OK;
	}
	veil_report_record rec;
	veil_status st = veil_catalog_report_latest(ws->catalog, v->name, v->version, "features", &rec, err);
	if (st && st != VEIL_E_NOTFOUND)
		return st;
	/* The signed report decides, verified to the worker that signed it
	 * and checked to describe this version: not the catalog's summary,
	 * which anyone who can write catalog.db could edit. */
	json_t *env = NULL, *report = NULL;
	veil_attest_claims claims;
	if (!st && (st = cli_report_open(ws, &rec, v, true, &env, &report, &claims, err))) {
		veil_err_wrap(err, "the feature build report of %s@%u", v->name, v->version);
		return st;
	}
	bool removed = json_is_true(
	        json_object_get(json_object_get(report, "summary"), "direct_identifiers_removed"));
	json_decref(env);
	json_decref(report);
	if (removed) {
		snprintf(why, why_len, "feature build report %lld: no direct identifier is left",
		         (long long)rec.id);
		return VEIL_OK;
	}
	snprintf(why, why_len, "%s",
	         st ? "no feature pipeline made it" : "its feature pipeline left direct identifiers in");
	veil_err_set(err, VEIL_E_DENIED,
	             "compliance.restricted_training forbids training on %s@%u: it is restricted and %s",
	             v->name, v->version, why);
	veil_err_hint(err,
	              "build features with a pipeline that drops or pseudonymises every direct identifier "
	              "(veil features build, docs/formats/pipeline.md) and train on its output");
	return VEIL_E_DENIED;
}

int cmd_data_compliance(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("data compliance");
	bool json = false;
	int rc = cli_parse_json_only(g, cmd, argc, argv, &json);
	if (rc >= 0 || (rc = cli_positional(cmd, argc, argv, 1, 1)) >= 0)
		return rc;
	rc = 0;
	veil_err err;
	veil_err_clear(&err);
	cli_ws ws;
	if (cli_ws_open(g, WS_CATALOG | WS_STORE | WS_AUDIT, &ws, &err))
		return cli_fail(&err);
	cli_resource r;
	veil_status st = cli_authorize_resource(&ws, "datasets", argv[optind], VEIL_VERB_READ, &r, &err);
	if (st) {
		cli_ws_close(&ws);
		return cli_fail(&err);
	}
	char why[256];
	veil_err verdict;
	veil_err_clear(&verdict);
	st = cli_compliance_check(&ws, &r.dataset, "training", why, sizeof why, &verdict);
	bool allowed = st == VEIL_OK;
	if (st && st != VEIL_E_DENIED)
		rc = cli_fail(&verdict);
	else if (json)
		rc = cli_print_json(json_pack("{s:s, s:I, s:s, s:b, s:s}", "dataset", r.dataset.name,
		                              "version", (json_int_t)r.dataset.version, "use", "training",
		                              "allowed", allowed, "reason", why));
	else
		printf("%s@%u: training %s: %s\n", r.dataset.name, r.dataset.version,
		       allowed ? "allowed" : "refused", why);
	cli_resource_free(&r);
	cli_ws_close(&ws);
	/* Refused is an answer, not an error: exit 1, as checks do. */
	return rc ? rc : allowed ? 0 : VEIL_EXIT_CHECK;
}
