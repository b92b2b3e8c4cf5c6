/*
 * veil principal create|list|disable and veil group create|add|remove|list:
 * who can act in a workspace. Principals and groups live in tenancy.
 * Every change is authorized, then audited.
 */
#include "cmds.h"

#include <string.h>

typedef struct iam_args {
	bool json, first_admin;
	const char *kind, *region;
	const char *groups[VEIL_CATALOG_GROUPS_PER_PRINCIPAL];
	size_t ngroups;
	char **pos; /* positional arguments */
	int npos;
} iam_args;

/* Options of every command here; each accepts only what its usage names. */
static int parse(cli_global *g, const cli_command *cmd, int argc, char **argv, int min_pos, int max_pos,
                 iam_args *a)
{
	static const struct option longopts[] = {
	        {"json", no_argument, NULL, 'j'},
	        {"kind", required_argument, NULL, 'k'},
	        {"region", required_argument, NULL, 'r'},
	        {"group", required_argument, NULL, 'G'},
	        {"first-admin", no_argument, NULL, 'F'},
	        CLI_COMMON_OPTS,
	        {NULL, 0, NULL, 0},
	};
	memset(a, 0, sizeof *a);
	int opt, rc = -1;
	while ((opt = cli_opt(g, cmd, argc, argv, "", longopts, &rc)) != -1) {
		if (opt == 'j')
			a->json = true;
		else if (opt == 'F')
			a->first_admin = true;
		else if (opt == 'k')
			a->kind = optarg;
		else if (opt == 'r')
			a->region = optarg;
		else if (a->ngroups == VEIL_CATALOG_GROUPS_PER_PRINCIPAL)
			return cli_usage_error(cmd, "at most %d --group options",
			                       VEIL_CATALOG_GROUPS_PER_PRINCIPAL);
		else
			a->groups[a->ngroups++] = optarg;
	}
	if (rc >= 0 || (rc = cli_positional(cmd, argc, argv, min_pos, max_pos)) >= 0)
		return rc;
	a->pos = argv + optind;
	a->npos = argc - optind;
	return -1;
}

/* ---- principals ---- */

/* The policy every new workspace starts with: the administrators group may
 * do everything. 'veil policy apply' refuses to drop the last statement
 * that lets someone manage policies, so this cannot lock everyone out. */
const char cli_admin_policy[] =
        "# Made with the first administrator. Administrators may do everything in the workspace.\n"
        "Allow group " CLI_ADMIN_GROUP " to manage all-resources in tenancy\n";

/* The administrators group, made unless it exists (a recovery keeps it). */
static veil_status group_create_or_keep(veil_catalog *cat, const char *by, veil_err *err)
{
	veil_group gr;
	if (veil_catalog_group_get(cat, CLI_ADMIN_GROUP, &gr, NULL) == VEIL_OK)
		return VEIL_OK;
	return veil_catalog_group_create(cat, CLI_ADMIN_GROUP, by, err);
}

/* The first administrator: a user principal in the administrators group,
 * the policy that lets that group do everything, and a token. */
veil_status cli_first_admin(veil_catalog *cat, const char *ws_id, const char *admin, char *token,
                            char token_id[VEIL_TOKEN_ID_LEN + 1], veil_err *err)
{
	veil_principal p = {.created = 0};
	snprintf(p.name, sizeof p.name, "%s", admin);
	snprintf(p.kind, sizeof p.kind, "user");
	snprintf(p.created_by, sizeof p.created_by, "%s", admin);
	veil_token_info t = {.created = veil_time_now()};
	veil_status st = veil_token_new(ws_id, token, t.id, t.hash, err);
	if (st)
		return st;
	memcpy(token_id, t.id, sizeof t.id);
	snprintf(t.principal, sizeof t.principal, "%s", admin);
	snprintf(t.label, sizeof t.label, "first administrator");
	snprintf(t.created_by, sizeof t.created_by, "%s", admin);
	uint32_t version;
	bool changed;
	if ((st = veil_catalog_begin(cat, err)))
		return st;
	if (!(st = veil_catalog_principal_create(cat, &p, err)) &&
	    !(st = group_create_or_keep(cat, admin, err)) &&
	    !(st = veil_catalog_group_add(cat, CLI_ADMIN_GROUP, admin, err)) &&
	    !(st = veil_catalog_policy_put(cat, CLI_ADMIN_POLICY, VEIL_ACCESS_TENANCY, cli_admin_policy,
	                                   sizeof cli_admin_policy - 1, admin, &version, &changed, err)) &&
	    !(st = veil_catalog_token_add(cat, &t, err)))
		return veil_catalog_commit(cat, err);
	veil_catalog_rollback(cat);
	return st;
}

/* `principal create NAME --first-admin`: a workspace made before access
 * control has no principal, and one whose administrators are all gone
 * (their tokens expired, say) has nobody who can repair its policies.
 * Whoever holds the root key (who could read every key anyway) may then
 * make a new administrator: a new principal in group administrators, the
 * administrators policy restored to its original text, and a token. It is
 * refused while anyone can still manage policies. */
static int first_admin(cli_global *g, const char *name)
{
	veil_err err;
	veil_err_clear(&err);
	cli_ws ws;
	if (cli_ws_open(g, WS_NO_PRINCIPAL, &ws, &err))
		return cli_fail(&err);
	g->decisions++;
	bool keeper = false;
	char *token = NULL;
	char token_id[VEIL_TOKEN_ID_LEN + 1] = "";
	veil_status st = cli_keeper_exists(&ws, &keeper, &err);
	if (!st && keeper) {
		veil_err_set(&err, VEIL_E_DENIED,
		             "this workspace has an administrator who can act: --first-admin is only for one "
		             "that has none");
		veil_err_hint(&err,
		              "ask an administrator: 'veil principal create %s' then 'veil token issue %s'",
		              name, name);
		veil_err e2;
		if (cli_audit(&ws, "access.decide", "principals", "denied",
		              json_pack("{s:s, s:s}", "operation", "principal create", "reason", err.msg),
		              &e2))
			cli_warn("%s", e2.msg);
		st = VEIL_E_DENIED;
	}
	if (!st && !(token = veil_secure_alloc(VEIL_TOKEN_LEN + 1)))
		st = veil_err_set(&err, VEIL_E_NOMEM, "cannot allocate secure memory");
	if (!st)
		st = cli_first_admin(ws.catalog, ws.cfg.workspace_id, name, token, token_id, &err);
	if (!st) {
		snprintf(ws.actor, sizeof ws.actor, "%s", name);
		st = cli_audit(&ws, "principal.create", name, "ok",
		               json_pack("{s:s, s:[s], s:s, s:s}", "kind", "user", "groups", CLI_ADMIN_GROUP,
		                         "reason", "first administrator of a workspace without principals",
		                         "token_id", token_id),
		               &err);
	}
	cli_ws_close(&ws);
	if (st) {
		veil_secure_free(token, VEIL_TOKEN_LEN + 1);
		return cli_fail(&err);
	}
	printf("%s\n", token);
	veil_secure_free(token, VEIL_TOKEN_LEN + 1);
	cli_info("Created administrator %s. Above: its API token, shown only this once.", name);
	return 0;
}

int cmd_principal_create(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("principal create");
	iam_args a;
	int rc = parse(g, cmd, argc, argv, 1, 1, &a);
	if (rc >= 0)
		return rc;
	if (a.first_admin) {
		veil_err e;
		if (a.kind || a.region || a.ngroups || veil_name_check(a.pos[0], "principal name", &e))
			return cli_usage_error(cmd, "--first-admin takes only a valid NAME");
		return first_admin(g, a.pos[0]);
	}
	veil_principal p = {0};
	veil_err err;
	veil_err_clear(&err);
	if (veil_name_check(a.pos[0], "principal name", &err) ||
	    (a.region && veil_name_check(a.region, "region", &err)))
		return cli_fail(&err);
	snprintf(p.name, sizeof p.name, "%s", a.pos[0]);
	snprintf(p.kind, sizeof p.kind, "%s", a.kind ? a.kind : "user");
	snprintf(p.region, sizeof p.region, "%s", a.region ? a.region : "");
	cli_target t = {.verb = VEIL_VERB_MANAGE, .type = "principals", .name = p.name, .region = a.region};
	cli_ws ws;
	if (cli_ws_open_for(g, 0, &t, &ws, &err))
		return cli_fail(&err);
	/* Group memberships are group changes: each needs manage on the group. */
	veil_status st = VEIL_OK;
	for (size_t i = 0; i < a.ngroups && !st; i++) {
		cli_resource r;
		if (!(st = cli_authorize_resource(&ws, "groups", a.groups[i], VEIL_VERB_MANAGE, &r, &err)))
			cli_resource_free(&r);
	}
	snprintf(p.created_by, sizeof p.created_by, "%s", ws.principal.name);
	if (!st && !(st = veil_catalog_begin(ws.catalog, &err))) {
		st = veil_catalog_principal_create(ws.catalog, &p, &err);
		for (size_t i = 0; i < a.ngroups && !st; i++)
			st = veil_catalog_group_add(ws.catalog, a.groups[i], p.name, &err);
		json_t *groups = json_array();
		for (size_t i = 0; i < a.ngroups; i++)
			json_array_append_new(groups, json_string(a.groups[i]));
		st = cli_commit_audited(
		        &ws, st, "principal.create", p.name,
		        json_pack("{s:s, s:s, s:o}", "kind", p.kind, "region", p.region, "groups", groups),
		        &err);
	}
	cli_ws_close(&ws);
	if (st)
		return cli_fail(&err);
	cli_info("Created %s %s; issue it a token with 'veil token issue %s'", p.kind, p.name, p.name);
	return 0;
}

static json_t *names_of_groups(cli_ws *ws, const char *principal, veil_err *err)
{
	char groups[VEIL_CATALOG_GROUPS_PER_PRINCIPAL][VEIL_CATALOG_NAME_MAX];
	size_t n = 0;
	if (veil_catalog_groups_of(ws->catalog, principal, groups, &n, err))
		return NULL;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(groups[i]));
	return arr;
}

static veil_status list_principal(void *ctx, const veil_principal *p, veil_err *err)
{
	cli_list *c = ctx;
	cli_target t = {
	        .verb = VEIL_VERB_INSPECT, .type = "principals", .name = p->name, .region = p->region};
	bool ok;
	veil_status st = cli_authorize_quiet(c->ws, &t, &ok, err);
	if (st || !ok)
		return st;
	json_t *groups = names_of_groups(c->ws, p->name, err);
	if (!groups)
		return err->code ? err->code : VEIL_E_NOMEM;
	char created[VEIL_TIME_STR_MAX];
	veil_time_format(p->created, created);
	json_array_append_new(c->arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "name", p->name,
	                                        "kind", p->kind, "region", p->region, "status",
	                                        p->disabled ? "disabled" : "enabled", "created", created,
	                                        "created_by", p->created_by, "groups", groups));
	return VEIL_OK;
}

static veil_status principals(cli_ws *ws, cli_list *c, veil_err *err)
{
	return veil_catalog_principal_list(ws->catalog, list_principal, c, err);
}

static void principal_table(json_t *arr)
{
	printf("%-24s %-17s %-12s %-9s %s\n", "NAME", "KIND", "REGION", "STATUS", "GROUPS");
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o)
	{
		char groups[512];
		cli_json_join(json_object_get(o, "groups"), groups, sizeof groups);
		printf("%-24s %-17s %-12s %-9s %s\n", cli_json_str(o, "name"), cli_json_str(o, "kind"),
		       cli_json_str(o, "region"), cli_json_str(o, "status"), groups);
	}
}

int cmd_principal_list(cli_global *g, int argc, char **argv)
{
	iam_args a;
	int rc = parse(g, cli_find("principal list"), argc, argv, 0, 0, &a);
	return rc >= 0 ? rc : cli_run_list(g, a.json, principals, principal_table, NULL);
}

int cmd_principal_disable(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("principal disable");
	iam_args a;
	int rc = parse(g, cmd, argc, argv, 1, 1, &a);
	if (rc >= 0)
		return rc;
	veil_err err;
	veil_err_clear(&err);
	cli_ws ws;
	if (cli_ws_open(g, 0, &ws, &err))
		return cli_fail(&err);
	cli_resource r;
	veil_status st = cli_authorize_resource(&ws, "principals", a.pos[0], VEIL_VERB_MANAGE, &r, &err);
	if (!st && (st = cli_may_act_for(&ws, a.pos[0], &err)))
		cli_resource_free(&r);
	if (!st) {
		cli_resource_free(&r);
		if (strcmp(a.pos[0], ws.principal.name) == 0) {
			veil_err_set(&err, VEIL_E_INVALID, "%s cannot disable itself", a.pos[0]);
			st = veil_err_hint(&err, "ask another administrator, so that someone can still act");
			cli_audit_refusal(&ws, "principal.disable", a.pos[0], &err);
		}
	}
	if (!st && !(st = veil_catalog_begin(ws.catalog, &err)))
		st = cli_commit_audited(&ws, veil_catalog_principal_disable(ws.catalog, a.pos[0], &err),
		                        "principal.disable", a.pos[0], NULL, &err);
	cli_ws_close(&ws);
	if (st)
		return cli_fail(&err);
	cli_info("Disabled %s: its tokens no longer work", a.pos[0]);
	return 0;
}

/* ---- groups ---- */

int cmd_group_create(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("group create");
	iam_args a;
	int rc = parse(g, cmd, argc, argv, 1, 1, &a);
	if (rc >= 0)
		return rc;
	veil_err err;
	veil_err_clear(&err);
	if (veil_name_check(a.pos[0], "group name", &err))
		return cli_fail(&err);
	cli_target t = {.verb = VEIL_VERB_MANAGE, .type = "groups", .name = a.pos[0]};
	cli_ws ws;
	if (cli_ws_open_for(g, 0, &t, &ws, &err))
		return cli_fail(&err);
	veil_status st = veil_catalog_begin(ws.catalog, &err);
	if (!st)
		st = cli_commit_audited(
		        &ws, veil_catalog_group_create(ws.catalog, a.pos[0], ws.principal.name, &err),
		        "group.create", a.pos[0], NULL, &err);
	cli_ws_close(&ws);
	if (st)
		return cli_fail(&err);
	cli_info("Created group %s", a.pos[0]);
	return 0;
}

/* group add|remove GROUP PRINCIPAL... */
static int change_members(cli_global *g, const char *name, bool add, int argc, char **argv)
{
	const cli_command *cmd = cli_find(name);
	iam_args a;
	int rc = parse(g, cmd, argc, argv, 2, 1 + VEIL_CATALOG_GROUPS_PER_PRINCIPAL, &a);
	if (rc >= 0)
		return rc;
	veil_err err;
	veil_err_clear(&err);
	cli_ws ws;
	if (cli_ws_open(g, 0, &ws, &err))
		return cli_fail(&err);
	cli_resource r;
	veil_status st = cli_authorize_resource(&ws, "groups", a.pos[0], VEIL_VERB_MANAGE, &r, &err);
	if (!st)
		cli_resource_free(&r);
	if (!st && !(st = veil_catalog_begin(ws.catalog, &err))) {
		json_t *who = json_array();
		for (int i = 1; i < a.npos && !st; i++) {
			st = add ? veil_catalog_group_add(ws.catalog, a.pos[0], a.pos[i], &err)
			         : veil_catalog_group_remove(ws.catalog, a.pos[0], a.pos[i], &err);
			json_array_append_new(who, json_string(a.pos[i]));
		}
		st = cli_commit_audited(&ws, st, add ? "group.add" : "group.remove", a.pos[0],
		                        json_pack("{s:o}", "principals", who), &err);
	}
	cli_ws_close(&ws);
	if (st)
		return cli_fail(&err);
	cli_info("%s %d principal%s %s group %s", add ? "Added" : "Removed", a.npos - 1,
	         a.npos == 2 ? "" : "s", add ? "to" : "from", a.pos[0]);
	return 0;
}

int cmd_group_add(cli_global *g, int argc, char **argv)
{
	return change_members(g, "group add", true, argc, argv);
}

int cmd_group_remove(cli_global *g, int argc, char **argv)
{
	return change_members(g, "group remove", false, argc, argv);
}

static veil_status add_member(void *ctx, const char *name, veil_err *err)
{
	(void)err;
	return json_array_append_new(ctx, json_string(name)) ? VEIL_E_NOMEM : VEIL_OK;
}

static veil_status list_group(void *ctx, const veil_group *gr, veil_err *err)
{
	cli_list *c = ctx;
	cli_target t = {.verb = VEIL_VERB_INSPECT, .type = "groups", .name = gr->name};
	bool ok;
	veil_status st = cli_authorize_quiet(c->ws, &t, &ok, err);
	if (st || !ok)
		return st;
	json_t *members = json_array();
	if ((st = veil_catalog_group_members(c->ws->catalog, gr->name, add_member, members, err))) {
		json_decref(members);
		return st;
	}
	char created[VEIL_TIME_STR_MAX];
	veil_time_format(gr->created, created);
	json_array_append_new(c->arr, json_pack("{s:s, s:s, s:s, s:o}", "name", gr->name, "created", created,
	                                        "created_by", gr->created_by, "members", members));
	return VEIL_OK;
}

static veil_status groups(cli_ws *ws, cli_list *c, veil_err *err)
{
	return veil_catalog_group_list(ws->catalog, list_group, c, err);
}

static void group_table(json_t *arr)
{
	printf("%-24s %s\n", "GROUP", "MEMBERS");
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o)
	{
		char members[1024];
		cli_json_join(json_object_get(o, "members"), members, sizeof members);
		printf("%-24s %s\n", cli_json_str(o, "name"), members);
	}
}

int cmd_group_list(cli_global *g, int argc, char **argv)
{
	iam_args a;
	int rc = parse(g, cli_find("group list"), argc, argv, 0, 0, &a);
	return rc >= 0 ? rc : cli_run_list(g, a.json, groups, group_table, NULL);
}
