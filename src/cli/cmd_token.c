/*
 * veil token issue|list|revoke: API tokens, the principals' credentials.
 * A token is shown once, when issued; the catalog keeps only its SHA-256.
 * Issuing or revoking a token for principal P needs `manage principals`
 * on P (so "where target.name = request.principal" lets users manage
 * their own tokens); listing needs `inspect principals`.
 */
#include "cmds.h"

#include <string.h>
#include <unistd.h>

#define DEFAULT_EXPIRY (90 * 86400)

typedef struct token_args {
	bool json, never;
	int64_t expires_in;
	const char *label, *output, *principal, *pos;
} token_args;

static int parse(cli_global *g, const cli_command *cmd, int argc, char **argv, bool want_pos, token_args *a)
{
	static const struct option longopts[] = {
	        {"json", no_argument, NULL, 'j'},
	        {"expires", required_argument, NULL, 'e'},
	        {"label", required_argument, NULL, 'l'},
	        {"output", required_argument, NULL, 'o'},
	        {"principal", required_argument, NULL, 'p'},
	        CLI_COMMON_OPTS,
	        {NULL, 0, NULL, 0},
	};
	memset(a, 0, sizeof *a);
	a->expires_in = DEFAULT_EXPIRY;
	int opt, rc = -1;
	veil_err err;
	while ((opt = cli_opt(g, cmd, argc, argv, "o:", longopts, &rc)) != -1) {
		if (opt == 'j')
			a->json = true;
		else if (opt == 'e') {
			a->never = strcmp(optarg, "never") == 0;
			if (!a->never &&
			    (veil_duration_parse(optarg, &a->expires_in, &err) || a->expires_in <= 0))
				return cli_usage_error(
				        cmd, "--expires takes a duration such as 12h, 30d or 1y, or "
				             "'never'");
		} else if (opt == 'l') {
			a->label = optarg;
		} else if (opt == 'o')
			a->output = optarg;
		else
			a->principal = optarg;
	}
	if (rc >= 0 || (rc = cli_positional(cmd, argc, argv, want_pos, want_pos)) >= 0)
		return rc;
	a->pos = want_pos ? argv[optind] : NULL;
	if (a->label) {
		size_t n = strlen(a->label);
		bool ok = n < VEIL_CATALOG_TOKEN_LABEL_MAX;
		for (size_t i = 0; ok && i < n; i++)
			ok = a->label[i] >= 0x20 && a->label[i] < 0x7f;
		if (!ok)
			return cli_usage_error(cmd, "--label takes 0 to %d printable characters",
			                       VEIL_CATALOG_TOKEN_LABEL_MAX - 1);
	}
	return -1;
}

int cmd_token_issue(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("token issue");
	token_args a;
	int rc = parse(g, cmd, argc, argv, true, &a);
	if (rc >= 0)
		return rc;
	veil_err err;
	veil_err_clear(&err);
	cli_ws ws;
	if (cli_ws_open(g, 0, &ws, &err))
		return cli_fail(&err);
	cli_resource r;
	veil_status st = cli_authorize_resource(&ws, "principals", a.pos, VEIL_VERB_MANAGE, &r, &err);
	if (!st)
		st = cli_may_act_for(&ws, a.pos, &err);
	char *token = NULL;
	veil_token_info t = {0};
	if (!st) {
		cli_resource_free(&r);
		veil_principal p;
		if (!(st = veil_catalog_principal_get(ws.catalog, a.pos, &p, &err)) && p.disabled) {
			veil_err_set(&err, VEIL_E_INVALID, "principal %s is disabled", p.name);
			st = veil_err_hint(&err, "a disabled principal cannot act; create a new one");
			cli_audit_refusal(&ws, "token.issue", a.pos, &err);
		}
	}
	if (!st && !(token = veil_secure_alloc(VEIL_TOKEN_LEN + 1)))
		st = veil_err_set(&err, VEIL_E_NOMEM, "cannot allocate secure memory");
	if (!st)
		st = veil_token_new(ws.cfg.workspace_id, token, t.id, t.hash, &err);
	if (!st) {
		snprintf(t.principal, sizeof t.principal, "%s", a.pos);
		snprintf(t.label, sizeof t.label, "%s", a.label ? a.label : "");
		snprintf(t.created_by, sizeof t.created_by, "%s", ws.principal.name);
		t.created = veil_time_now();
		t.expires = a.never ? 0 : t.created + a.expires_in;
		if (!(st = veil_catalog_begin(ws.catalog, &err))) {
			st = veil_catalog_token_add(ws.catalog, &t, &err);
			char exp[VEIL_TIME_STR_MAX] = "never";
			if (t.expires)
				veil_time_format(t.expires, exp);
			if (!st)
				st = cli_audit(&ws, "token.issue", a.pos, "ok",
				               json_pack("{s:s, s:s, s:s}", "token_id", t.id, "expires", exp,
				                         "label", t.label),
				               &err);
			/* The file is written before the commit: a token that cannot be
			 * delivered must not exist. Only a file this command made is
			 * removed again, never one that was there before. */
			bool wrote = false;
			if (!st && a.output && token)
				wrote = !(st = veil_fs_write_new(a.output, token, strlen(token), 0600, &err));
			if (!st)
				st = veil_catalog_commit(ws.catalog, &err);
			else
				veil_catalog_rollback(ws.catalog);
			if (st && wrote)
				unlink(a.output);
		}
	}
	cli_ws_close(&ws);
	if (st) {
		veil_secure_free(token, VEIL_TOKEN_LEN + 1);
		return cli_fail(&err);
	}
	char exp[VEIL_TIME_STR_MAX] = "never";
	if (t.expires)
		veil_time_format(t.expires, exp);
	if (a.json) {
		json_t *o =
		        json_pack("{s:s, s:s, s:s}", "id", t.id, "principal", t.principal, "expires", exp);
		if (!a.output)
			json_object_set_new(o, "token", json_string(token));
		veil_secure_free(token, VEIL_TOKEN_LEN + 1);
		return cli_print_json(o);
	}
	if (!a.output)
		printf("%s\n", token);
	veil_secure_free(token, VEIL_TOKEN_LEN + 1);
	cli_info("Issued token %s for %s (expires %s)%s%s. It is shown only once.", t.id, t.principal, exp,
	         a.output ? ", written to " : "", a.output ? a.output : "");
	return 0;
}

static const char *token_status(const veil_token_info *t, int64_t now)
{
	return t->revoked ? "revoked" : t->expires && now >= t->expires ? "expired" : "active";
}

static veil_status list_token(void *ctx, const veil_token_info *t, veil_err *err)
{
	cli_list *c = ctx;
	cli_target tg = {.verb = VEIL_VERB_INSPECT, .type = "principals", .name = t->principal};
	bool ok;
	veil_status st = cli_authorize_quiet(c->ws, &tg, &ok, err);
	if (st || !ok)
		return st;
	veil_principal p;
	if ((st = veil_catalog_principal_get(c->ws->catalog, t->principal, &p, err)))
		return st;
	char created[VEIL_TIME_STR_MAX], expires[VEIL_TIME_STR_MAX] = "never",
	                                 revoked[VEIL_TIME_STR_MAX] = "";
	veil_time_format(t->created, created);
	if (t->expires)
		veil_time_format(t->expires, expires);
	if (t->revoked)
		veil_time_format(t->revoked, revoked);
	json_array_append_new(c->arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", t->id,
	                                        "principal", t->principal, "label", t->label, "created",
	                                        created, "expires", expires, "revoked", revoked, "status",
	                                        p.disabled ? "disabled" : token_status(t, veil_time_now()),
	                                        "created_by", t->created_by));
	return VEIL_OK;
}

static veil_status tokens(cli_ws *ws, cli_list *c, veil_err *err)
{
	return veil_catalog_token_list(ws->catalog, c->arg, list_token, c, err);
}

static void token_table(json_t *arr)
{
	printf("%-16s  %-20s %-8s %-20s %s\n", "ID", "PRINCIPAL", "STATUS", "EXPIRES", "LABEL");
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o)
	        printf("%-16s  %-20s %-8s %-20s %s\n", cli_json_str(o, "id"), cli_json_str(o, "principal"),
	               cli_json_str(o, "status"), cli_json_str(o, "expires"), cli_json_str(o, "label"));
}

int cmd_token_list(cli_global *g, int argc, char **argv)
{
	token_args a;
	int rc = parse(g, cli_find("token list"), argc, argv, false, &a);
	if (rc >= 0)
		return rc;
	return cli_run_list(g, a.json, tokens, token_table, a.principal);
}

int cmd_token_revoke(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("token revoke");
	token_args a;
	int rc = parse(g, cmd, argc, argv, true, &a);
	if (rc >= 0)
		return rc;
	veil_err err;
	veil_err_clear(&err);
	cli_ws ws;
	if (cli_ws_open(g, 0, &ws, &err))
		return cli_fail(&err);
	veil_token_info t;
	veil_status st = veil_catalog_token_get(ws.catalog, a.pos, &t, &err);
	/* An unknown id is authorized as a token of nobody in particular, so
	 * that a principal without rights learns nothing from the answer. */
	cli_target tg = {.verb = VEIL_VERB_MANAGE, .type = "principals", .name = st ? NULL : t.principal};
	veil_err why = err;
	if (st == VEIL_E_NOTFOUND || !st) {
		veil_err_clear(&err);
		veil_status a2 = cli_authorize(&ws, &tg, &err);
		if (!a2 && st)
			err = why;
		else
			st = a2;
	}
	if (!st && !(st = veil_catalog_begin(ws.catalog, &err)))
		st = cli_commit_audited(&ws, veil_catalog_token_revoke(ws.catalog, a.pos, &err),
		                        "token.revoke", t.principal, json_pack("{s:s}", "token_id", a.pos),
		                        &err);
	cli_ws_close(&ws);
	if (st)
		return cli_fail(&err);
	cli_info("Revoked token %s of %s", a.pos, t.principal);
	return 0;
}
