/*
 * veil data budget set|show: a dataset version's privacy budget, the total
 * (ε, δ) its owner allows every private job on it together to spend (basic
 * composition: the charges add up). `veil train` charges each run before
 * it trains and refuses one that would overspend (cmd_train.c).
 */
#include "cmds.h"

#include <math.h>
#include <string.h>

static json_t *budget_json(const veil_budget *b)
{
	return json_pack("{s:s, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:s, s:I}", "dataset", b->dataset,
	                 "version", (json_int_t)b->version, "epsilon_total", b->epsilon_total, "delta_total",
	                 b->delta_total, "epsilon_spent", b->epsilon_spent, "delta_spent", b->delta_spent,
	                 "epsilon_remaining", b->epsilon_remaining, "delta_remaining", b->delta_remaining,
	                 "charges", (json_int_t)b->charges, "set_by", b->set_by, "set_at",
	                 (json_int_t)b->set_at);
}

int cmd_data_budget_set(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("data budget set");
	static const struct option longopts[] = {{"epsilon", required_argument, NULL, 'e'},
	                                         {"delta", required_argument, NULL, 'd'},
	                                         CLI_COMMON_OPTS,
	                                         {NULL, 0, NULL, 0}};
	double eps = NAN, delta = NAN;
	int opt, rc = -1;
	while ((opt = cli_opt(g, cmd, argc, argv, "e:d:", longopts, &rc)) != -1) {
		if ((rc = cli_parse_real(cmd, opt == 'e' ? "--epsilon" : "--delta", optarg,
		                         opt == 'e' ? &eps : &delta)) >= 0)
			return rc;
	}
	if (rc >= 0 || (rc = cli_positional(cmd, argc, argv, 1, 1)) >= 0)
		return rc;
	if (isnan(eps) || isnan(delta))
		return cli_usage_error(cmd, "--epsilon and --delta are both required");
	if (!(eps > 0))
		return cli_usage_error(cmd, "--epsilon must be above 0, not %g", eps);
	if (!(delta > 0 && delta < 1))
		return cli_usage_error(cmd, "--delta must be between 0 and 1 (exclusive), not %g", delta);
	veil_err err;
	veil_err_clear(&err);
	cli_ws ws;
	cli_resource r;
	/* The budget is the owner's decision: managing the dataset (its
	 * plaintext and key are not involved). */
	if (cli_ws_open(g, WS_CATALOG | WS_AUDIT, &ws, &err))
		return cli_fail(&err);
	if (cli_authorize_resource(&ws, "datasets", argv[optind], VEIL_VERB_MANAGE, &r, &err)) {
		cli_ws_close(&ws);
		return cli_fail(&err);
	}
	char ref[VEIL_CATALOG_REF_MAX];
	snprintf(ref, sizeof ref, "%s@%u", r.dataset.name, r.dataset.version);
	const char *by = ws.principal.name;
	veil_budget b;
	veil_status st = veil_catalog_begin(ws.catalog, &err);
	if (!st)
		st = veil_catalog_budget_set(ws.catalog, r.dataset.name, r.dataset.version, eps, delta, by,
		                             &err);
	if (!st)
		st = veil_catalog_budget_get(ws.catalog, r.dataset.name, r.dataset.version, &b, &err);
	st = cli_commit_audited(&ws, st, "budget.set", ref,
	                        json_pack("{s:f, s:f}", "epsilon", eps, "delta", delta), &err);
	cli_resource_free(&r);
	cli_ws_close(&ws);
	if (st)
		return cli_fail(&err);
	if (!g->quiet)
		printf("%s: privacy budget epsilon %g, delta %g (spent %g, %g; left %g)\n", ref,
		       b.epsilon_total, b.delta_total, b.epsilon_spent, b.delta_spent, b.epsilon_remaining);
	return 0;
}

typedef struct show_ctx {
	json_t *charges;
} show_ctx;

static veil_status charge_row(void *ctx, const veil_budget_charge *c, veil_err *err)
{
	show_ctx *s = ctx;
	json_array_append_new(s->charges,
	                      json_pack("{s:s, s:I, s:f, s:f, s:I, s:s}", "job", c->job_id, "trial",
	                                (json_int_t)c->trial, "epsilon", c->epsilon, "delta", c->delta, "at",
	                                (json_int_t)c->at, "note", c->note));
	return VEIL_OK;
}

int cmd_data_budget_show(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("data budget show");
	bool json;
	int rc = cli_parse_json_only(g, cmd, argc, argv, &json);
	if (rc >= 0)
		return rc;
	if ((rc = cli_positional(cmd, argc, argv, 1, 1)) >= 0)
		return rc;
	veil_err err;
	veil_err_clear(&err);
	cli_ws ws;
	cli_resource r;
	if (cli_ws_open(g, WS_CATALOG, &ws, &err))
		return cli_fail(&err);
	veil_status st = cli_authorize_resource(&ws, "datasets", argv[optind], VEIL_VERB_READ, &r, &err);
	veil_budget b;
	show_ctx s = {.charges = json_array()};
	if (!st) {
		st = veil_catalog_budget_get(ws.catalog, r.dataset.name, r.dataset.version, &b, &err);
		if (st == VEIL_E_NOTFOUND)
			veil_err_hint(
			        &err,
			        "its owner sets one with 'veil data budget set %s@%u --epsilon E --delta D'",
			        r.dataset.name, r.dataset.version);
		if (!st)
			st = veil_catalog_budget_charges(ws.catalog, r.dataset.name, r.dataset.version,
			                                 charge_row, &s, &err);
		cli_resource_free(&r);
	}
	cli_ws_close(&ws);
	if (st) {
		json_decref(s.charges);
		return cli_fail(&err);
	}
	json_t *out = budget_json(&b);
	json_object_set_new(out, "charged", s.charges);
	if (json)
		return cli_print_json(out);
	printf("%s@%u: privacy budget (basic composition of every private job's cost)\n", b.dataset,
	       b.version);
	printf("  epsilon   total %-10g spent %-10g left %g\n", b.epsilon_total, b.epsilon_spent,
	       b.epsilon_remaining);
	printf("  delta     total %-10g spent %-10g left %g\n", b.delta_total, b.delta_spent,
	       b.delta_remaining);
	printf("  set by    %s\n", b.set_by);
	size_t i;
	json_t *c;
	if (json_array_size(s.charges))
		printf("\n  %-20s %-6s %-10s %-10s %s\n", "JOB", "TRIAL", "EPSILON", "DELTA", "NOTE");
	json_array_foreach(s.charges, i, c)
	{
		printf("  %-20s %-6lld %-10.4g %-10.3g %s\n", json_string_value(json_object_get(c, "job")),
		       (long long)json_integer_value(json_object_get(c, "trial")),
		       json_number_value(json_object_get(c, "epsilon")),
		       json_number_value(json_object_get(c, "delta")),
		       json_string_value(json_object_get(c, "note")));
	}
	json_decref(out);
	return 0;
}
