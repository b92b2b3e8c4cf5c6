/*
 * Authentication and authorization for every command: the one enforcement
 * point (docs/access.md).
 *
 * cli_ws_open calls cli_authenticate, so no command holds an open
 * workspace without a principal; each command then calls cli_authorize for
 * what it is about to do, before it reads data, releases a key or changes
 * a record. The decision itself is veil_access_decide, a pure function of
 * the request and the policies in force; this file gathers the request
 * from the catalog and records every decision, allow or deny, in the audit
 * log with the statement that made it.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- authentication ---- */

/* Reads the token from --token, $VEIL_TOKEN or the file named by
 * $VEIL_TOKEN_FILE into secure memory. */
static veil_status read_token(cli_global *g, char **tok, size_t *len, veil_err *err)
{
	if (g->token) {
		size_t n = strnlen(g->token, VEIL_TOKEN_LEN + 1);
		/* Freed by cli_secret_free like every secret read here. */
		char *s = cli_secret_alloc();
		if (!s)
			return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory for the token");
		memcpy(s, g->token, n);
		s[n] = 0;
		/* The argv copy is visible in /proc/PID/cmdline while veil runs. */
		veil_wipe(g->token, strlen(g->token));
		g->token = NULL;
		/* An environment token is not used, and no child should see it. */
		const char *env = getenv("VEIL_TOKEN");
		if (env) {
			veil_wipe((void *)env, strlen(env));
			unsetenv("VEIL_TOKEN");
		}
		*tok = s;
		*len = n;
		return VEIL_OK;
	}
	if (!getenv("VEIL_TOKEN") && !getenv("VEIL_TOKEN_FILE")) {
		veil_err_set(err, VEIL_E_AUTH,
		             "no API token: every command in a workspace acts as a principal");
		veil_err_hint(err,
		              "set VEIL_TOKEN (or VEIL_TOKEN_FILE, or pass --token); 'veil init' printed the "
		              "first administrator's token, 'veil token issue' makes more");
		return VEIL_E_AUTH;
	}
	const char *file = getenv("VEIL_TOKEN_FILE");
	struct stat sb;
	if (!getenv("VEIL_TOKEN") && file && stat(file, &sb) == 0 && (sb.st_mode & 077))
		cli_warn("the token file %s can be read by others (mode %04o): run 'chmod 600 %s'", file,
		         (unsigned)(sb.st_mode & 07777), file);
	return cli_read_secret("API token", "VEIL_TOKEN", "VEIL_TOKEN_FILE", false, tok, len, err);
}

/* Records a refused authentication. The actor is the local user, since
 * no principal was established; the token is never recorded, only its id
 * when it had the shape of one. */
static void audit_refusal(cli_ws *ws, const veil_err *why)
{
	veil_err e2;
	veil_err_clear(&e2);
	char actor[96];
	cli_ws_actor(actor, sizeof actor);
	memcpy(ws->actor, actor, sizeof ws->actor);
	json_t *d =
	        json_pack("{s:s, s:s}", "operation", ws->g->cmd ? ws->g->cmd->name : "?", "reason", why->msg);
	if (d && ws->token_id[0])
		json_object_set_new(d, "token_id", json_string(ws->token_id));
	if (cli_audit(ws, "access.authenticate", "principals", "denied", d, &e2))
		cli_warn("%s", e2.msg);
}

static veil_status check_token(cli_ws *ws, const char *tok, size_t len, veil_err *err)
{
	char wsid[33], id[VEIL_TOKEN_ID_LEN + 1];
	veil_status st = veil_token_parse(tok, len, wsid, id, err);
	if (st)
		return st;
	memcpy(ws->token_id, id, sizeof id);
	if (strcmp(wsid, ws->cfg.workspace_id) != 0) {
		veil_err_set(err, VEIL_E_AUTH,
		             "token %s belongs to another workspace (%s), not this one (%s)", id, wsid,
		             ws->cfg.workspace_id);
		veil_err_hint(err,
		              "use a token issued in this workspace, or point --workspace at the right one");
		return VEIL_E_AUTH;
	}
	veil_token_info t;
	st = veil_catalog_token_get(ws->catalog, id, &t, err);
	if (st == VEIL_E_NOTFOUND || (!st && !veil_token_matches(tok, len, t.hash))) {
		/* One message for both: which ids exist is not the caller's business. */
		veil_err_set(err, VEIL_E_AUTH, "token %s is not valid in this workspace", id);
		veil_err_hint(err, "ask an administrator for a new token ('veil token issue')");
		return VEIL_E_AUTH;
	}
	if (st)
		return st;
	int64_t now = veil_time_now();
	if (t.revoked) {
		char when[VEIL_TIME_STR_MAX];
		veil_time_format(t.revoked, when);
		veil_err_set(err, VEIL_E_AUTH, "token %s was revoked at %s", id, when);
		veil_err_hint(err, "ask an administrator for a new token ('veil token issue')");
		return VEIL_E_AUTH;
	}
	if (t.expires && now >= t.expires) {
		char when[VEIL_TIME_STR_MAX];
		veil_time_format(t.expires, when);
		veil_err_set(err, VEIL_E_AUTH, "token %s expired at %s", id, when);
		veil_err_hint(err, "ask an administrator for a new token ('veil token issue --expires ...')");
		return VEIL_E_AUTH;
	}
	if ((st = veil_catalog_principal_get(ws->catalog, t.principal, &ws->principal, err)))
		return st == VEIL_E_NOTFOUND
		               ? veil_err_set(err, VEIL_E_AUTH, "token %s names no principal", id)
		               : st;
	if (ws->principal.disabled) {
		veil_err_set(err, VEIL_E_AUTH, "principal %s is disabled", ws->principal.name);
		veil_err_hint(err, "disabled principals cannot act; an administrator can create a new one");
		return VEIL_E_AUTH;
	}
	return veil_catalog_groups_of(ws->catalog, ws->principal.name, ws->groups, &ws->ngroups, err);
}

veil_status cli_authenticate(cli_ws *ws, veil_err *err)
{
	char *tok = NULL;
	size_t len = 0;
	veil_status st = read_token(ws->g, &tok, &len, err);
	if (!st)
		st = check_token(ws, tok, len, err);
	if (tok)
		cli_secret_free(tok);
	if (st) {
		memset(&ws->principal, 0, sizeof ws->principal);
		ws->ngroups = 0;
		if (st == VEIL_E_AUTH)
			audit_refusal(ws, err);
		return st;
	}
	memcpy(ws->actor, ws->principal.name, sizeof ws->principal.name);
	ws->request_region = ws->principal.region[0] ? ws->principal.region
	                     : ws->cfg.region[0]     ? ws->cfg.region
	                                             : NULL;
	return VEIL_OK;
}

/* ---- policies in force ---- */

typedef struct load_ctx {
	cli_policies *p;
	size_t cap;
} load_ctx;

static veil_status load_one(void *ctx, const veil_policy_record *rec, veil_err *err)
{
	load_ctx *c = ctx;
	cli_policies *p = c->p;
	if (p->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 8;
		veil_policy_record *r = realloc(p->records, cap * sizeof *r);
		if (r)
			p->records = r;
		veil_policy **q = realloc(p->parsed, cap * sizeof(veil_policy *));
		if (q)
			p->parsed = q;
		if (!r || !q)
			return veil_err_set(err, VEIL_E_NOMEM, "out of memory loading policies");
		c->cap = cap;
	}
	veil_policy_record *dst = &p->records[p->n];
	*dst = *rec;
	dst->text = malloc(rec->len + 1);
	if (!dst->text)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory loading policies");
	memcpy(dst->text, rec->text, rec->len + 1);
	p->parsed[p->n] = NULL;
	p->n++;
	veil_status st = veil_policy_parse(dst->text, dst->len, &p->parsed[p->n - 1], err);
	if (st) {
		veil_err_wrap(err, "stored policy %s v%u no longer parses", rec->name, rec->version);
		veil_err_hint(err, "the catalog was changed outside veil; every request is refused until the "
		                   "policy is applied again");
		err->code = VEIL_E_CORRUPT;
		return VEIL_E_CORRUPT;
	}
	return VEIL_OK;
}

void cli_policies_free(cli_policies *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		veil_policy_record_free(&p->records[i]);
		veil_policy_free(p->parsed[i]);
	}
	free(p->records);
	free(p->parsed);
	free(p->refs);
	free(p);
}

veil_status cli_policies_load(cli_ws *ws, veil_err *err)
{
	if (ws->policies)
		return VEIL_OK;
	cli_policies *p = calloc(1, sizeof *p);
	if (!p)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory loading policies");
	load_ctx c = {.p = p};
	veil_status st = veil_catalog_policy_list(ws->catalog, load_one, &c, err);
	/* One slot even with no policy, so refs is never NULL. */
	veil_policy_ref *refs = st ? NULL : calloc(p->n ? p->n : 1, sizeof *refs);
	if (!st && !refs) {
		veil_err_set(err, VEIL_E_NOMEM, "out of memory loading policies");
		st = VEIL_E_NOMEM;
	}
	if (st || !refs) {
		cli_policies_free(p);
		return st;
	}
	for (size_t i = 0; i < p->n; i++)
		refs[i] = (veil_policy_ref){.policy = p->parsed[i],
		                            .name = p->records[i].name,
		                            .version = p->records[i].version,
		                            .attached_to = p->records[i].compartment};
	p->refs = refs;
	ws->policies = p;
	return VEIL_OK;
}

/* ---- decisions ---- */

veil_status cli_request_make(cli_ws *ws, const veil_principal *p, const char (*groups)[VEIL_CATALOG_NAME_MAX],
                             size_t ngroups, const cli_target *t, cli_request *r, veil_err *err)
{
	memset(r, 0, sizeof *r);
	size_t n = 0;
	veil_status st = veil_catalog_compartment_path(
	        ws->catalog, t->compartment ? t->compartment : VEIL_ACCESS_TENANCY, r->path, &n, err);
	if (st)
		return st;
	for (size_t i = 0; i < n; i++)
		r->path_ptrs[i] = r->path[i];
	for (size_t i = 0; i < ngroups && i < VEIL_CATALOG_GROUPS_PER_PRINCIPAL; i++)
		r->group_ptrs[i] = groups[i];
	const char *region = p->region[0] ? p->region : ws->cfg.region[0] ? ws->cfg.region : NULL;
	/* Only datasets carry tags: every other resource's tag set is known to
	 * be empty. A dataset target without tags (a listing) leaves them
	 * unknown. */
	static const veil_access_tag no_tags[1];
	const veil_access_tag *tags = t->tags ? t->tags : strcmp(t->type, "datasets") != 0 ? no_tags : NULL;
	r->req = (veil_access_request){
	        .principal = p->name,
	        .principal_kind = p->kind,
	        .groups = r->group_ptrs,
	        .ngroups = ngroups,
	        .verb = t->verb,
	        .resource_type = t->type,
	        .operation = ws->g->cmd ? ws->g->cmd->name : NULL,
	        .name = t->name,
	        .compartment_path = r->path_ptrs,
	        .ncompartments = n,
	        .classification = t->classification,
	        .owner = t->owner,
	        .region = t->region,
	        .tags = tags,
	        .ntags = t->tags ? t->ntags : 0,
	        .request_region = region,
	        .time = veil_time_now(),
	};
	return VEIL_OK;
}

/* The audit record of a decision: what was asked and which statement
 * answered. */
static json_t *decision_detail(cli_ws *ws, const cli_target *t, const veil_access_decision *d)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "operation", ws->g->cmd ? ws->g->cmd->name : "?",
	                      "verb", veil_verb_name(t->verb), "compartment",
	                      t->compartment ? t->compartment : VEIL_ACCESS_TENANCY, "reason", d->reason);
	if (!o)
		return NULL;
	if (d->by_statement) {
		const veil_policy_ref *ref = &ws->policies->refs[d->policy];
		veil_statement_info si;
		veil_policy_statement(ref->policy, d->statement, &si);
		json_object_set_new(o, "statement",
		                    json_pack("{s:s, s:I, s:I, s:s}", "policy", ref->name, "version",
		                              (json_int_t)ref->version, "line", (json_int_t)si.line, "text",
		                              si.text));
	} else {
		json_object_set_new(o, "statement", json_null());
	}
	if (ws->request_region)
		json_object_set_new(o, "request_region", json_string(ws->request_region));
	return o;
}

void cli_audit_missing(cli_ws *ws, const char *resource, const veil_err *why)
{
	/* The command's own action: "data upload" is recorded as
	 * "data.upload", like the events of its successes. */
	char action[64];
	snprintf(action, sizeof action, "%s", ws->g->cmd ? ws->g->cmd->name : "request");
	for (char *c = action; *c; c++)
		if (*c == ' ')
			*c = '.';
	cli_audit_refusal(ws, action, resource, why);
}

static veil_status decide(cli_ws *ws, const cli_target *t, bool commit, veil_access_decision *d,
                          veil_err *err)
{
	if (!ws->principal.name[0])
		return veil_err_set(err, VEIL_E_INTERNAL, "no authenticated principal");
	ws->g->decisions++;
	veil_status st = cli_policies_load(ws, err);
	cli_request r;
	cli_target t2 = *t;
	bool missing = false;
	if (!st) {
		st = cli_request_make(ws, &ws->principal, (const char(*)[VEIL_CATALOG_NAME_MAX])ws->groups,
		                      ws->ngroups, &t2, &r, err);
		/* A compartment that does not exist: decide as in tenancy, and
		 * say it is missing only to a principal who is allowed there, so
		 * that others cannot probe which compartments exist. */
		if (st == VEIL_E_NOTFOUND && t2.compartment) {
			missing = true;
			t2.compartment = NULL;
			veil_err_clear(err);
			st = cli_request_make(ws, &ws->principal,
			                      (const char(*)[VEIL_CATALOG_NAME_MAX])ws->groups, ws->ngroups,
			                      &t2, &r, err);
		}
	}
	if (!st)
		st = veil_access_decide(ws->policies->refs, ws->policies->n, &r.req, d, NULL, NULL, err);
	if (st)
		return st;
	char resource[2 * VEIL_CATALOG_NAME_MAX + 2];
	snprintf(resource, sizeof resource, "%s%s%s", t->type, t->name ? ":" : "", t->name ? t->name : "");
	if ((st = (commit ? cli_audit : cli_audit_append)(ws, "access.decide", resource,
	                                                  d->allowed ? "ok" : "denied",
	                                                  decision_detail(ws, &t2, d), err)))
		return st;
	if (missing && d->allowed) {
		veil_err_set(err, VEIL_E_NOTFOUND, "no compartment named '%s'", t->compartment);
		veil_err_hint(err, "'veil compartment list' shows the compartments");
		cli_audit_missing(ws, resource, err);
		return VEIL_E_NOTFOUND;
	}
	return VEIL_OK;
}

veil_status cli_authorize_quiet(cli_ws *ws, const cli_target *t, bool *allowed, veil_err *err)
{
	veil_access_decision d = {0};
	veil_status st = decide(ws, t, false, &d, err);
	*allowed = !st && d.allowed;
	return st;
}

veil_status cli_authorize(cli_ws *ws, const cli_target *t, veil_err *err)
{
	veil_access_decision d = {0};
	veil_status st = decide(ws, t, true, &d, err);
	if (st)
		return st;
	if (d.allowed)
		return VEIL_OK;
	/* Without a deciding statement the reason would name the target's
	 * compartment, which tells a principal without access where (and so
	 * that) a resource exists. The audit event keeps the full reason. */
	veil_err_set(err, VEIL_E_DENIED, "%s may not %s %s%s%s: %s", ws->principal.name,
	             veil_verb_name(t->verb), t->type, t->name ? " " : "", t->name ? t->name : "",
	             d.by_statement ? d.reason : "no statement allows it");
	veil_err_hint(err,
	              "run 'veil policy explain --as %s --verb %s --resource %s%s%s' to see why, or ask an "
	              "administrator for a policy that allows it",
	              ws->principal.name, veil_verb_name(t->verb), t->type, t->name ? ":" : "",
	              t->name ? t->name : "");
	return VEIL_E_DENIED;
}

/* ---- the keeper rule ---- */

typedef struct keeper_ctx {
	cli_ws *ws;
	const veil_policy_ref *refs;
	size_t n;
	const char *compartment;
	int64_t now;
	bool found;
} keeper_ctx;

static veil_status active_token(void *ctx, const veil_token_info *t, veil_err *err)
{
	(void)err;
	keeper_ctx *k = ctx;
	if (!t->revoked && (!t->expires || t->expires > k->now))
		k->found = true;
	return VEIL_OK;
}

/* Whether p may manage policies in `compartment` (NULL: tenancy) under refs. */
static veil_status may_manage_policies(cli_ws *ws, const veil_policy_ref *refs, size_t n,
                                       const veil_principal *p, const char *compartment, bool *ok,
                                       veil_err *err)
{
	char groups[VEIL_CATALOG_GROUPS_PER_PRINCIPAL][VEIL_CATALOG_NAME_MAX];
	size_t ng = 0;
	cli_target t = {.verb = VEIL_VERB_MANAGE, .type = "policies", .compartment = compartment};
	cli_request r;
	veil_access_decision d = {0};
	veil_status st = veil_catalog_groups_of(ws->catalog, p->name, groups, &ng, err);
	if (!st)
		st = cli_request_make(ws, p, (const char(*)[VEIL_CATALOG_NAME_MAX])groups, ng, &t, &r, err);
	if (!st)
		st = veil_access_decide(refs, n, &r.req, &d, NULL, NULL, err);
	*ok = !st && d.allowed;
	return st;
}

static veil_status check_one(void *ctx, const veil_principal *p, veil_err *err)
{
	keeper_ctx *k = ctx;
	if (k->found || p->disabled)
		return VEIL_OK;
	bool ok = false;
	veil_status st = may_manage_policies(k->ws, k->refs, k->n, p, NULL, &ok, err);
	if (!st && ok && k->compartment)
		st = may_manage_policies(k->ws, k->refs, k->n, p, k->compartment, &ok, err);
	/* Last, as the dearest: does it hold a token it can act with? */
	if (!st && ok)
		st = veil_catalog_token_list(k->ws->catalog, p->name, active_token, k, err);
	return st;
}

static veil_status find_keeper(cli_ws *ws, const veil_policy_ref *refs, size_t n, const char *compartment,
                               bool *found, veil_err *err)
{
	veil_status st = VEIL_OK;
	if (!refs && !(st = cli_policies_load(ws, err))) {
		refs = ws->policies->refs;
		n = ws->policies->n;
	}
	keeper_ctx k = {.ws = ws, .refs = refs, .n = n, .compartment = compartment, .now = veil_time_now()};
	if (!st)
		st = veil_catalog_principal_list(ws->catalog, check_one, &k, err);
	*found = k.found;
	return st;
}

veil_status cli_keeper_exists(cli_ws *ws, bool *exists, veil_err *err)
{
	return find_keeper(ws, NULL, 0, NULL, exists, err);
}

veil_status cli_check_keeper(cli_ws *ws, const veil_policy_ref *refs, size_t n, const char *compartment,
                             veil_err *err)
{
	bool found = false;
	veil_status st = find_keeper(ws, refs, n, compartment, &found, err);
	if (st || found)
		return st;
	veil_err_set(
	        err, VEIL_E_INVALID,
	        "refused: afterwards no enabled principal with an active token could manage policies in %s",
	        compartment && strcmp(compartment, VEIL_ACCESS_TENANCY) != 0 ? compartment : "tenancy");
	veil_err_hint(err,
	              "keep at least one administrator who can act (an enabled principal with a token, in a "
	              "group allowed to manage policies)");
	return VEIL_E_INVALID;
}

veil_status cli_may_act_for(cli_ws *ws, const char *target, veil_err *err)
{
	if (strcmp(target, ws->principal.name) == 0)
		return VEIL_OK;
	veil_principal p;
	bool target_admin = false, actor_admin = false;
	veil_status st = cli_policies_load(ws, err);
	if (!st)
		st = veil_catalog_principal_get(ws->catalog, target, &p, err);
	if (!st)
		st = may_manage_policies(ws, ws->policies->refs, ws->policies->n, &p, NULL, &target_admin,
		                         err);
	if (!st && target_admin)
		st = may_manage_policies(ws, ws->policies->refs, ws->policies->n, &ws->principal, NULL,
		                         &actor_admin, err);
	if (st || !target_admin || actor_admin)
		return st;
	veil_err_set(
	        err, VEIL_E_DENIED,
	        "%s may not act for %s: %s administers the workspace (may manage policies in tenancy) and %s "
	        "does not",
	        ws->principal.name, target, target, ws->principal.name);
	veil_err_hint(err, "only the administrator itself, or another administrator, may issue its tokens or "
	                   "disable it");
	char resource[2 * VEIL_CATALOG_NAME_MAX];
	snprintf(resource, sizeof resource, "principals:%s", target);
	veil_err e2;
	veil_err_clear(&e2);
	if (cli_audit(ws, "access.decide", resource, "denied",
	              json_pack("{s:s, s:s, s:s}", "operation", ws->g->cmd ? ws->g->cmd->name : "?", "verb",
	                        "manage", "reason", err->msg),
	              &e2))
		cli_warn("%s", e2.msg);
	return VEIL_E_DENIED;
}

veil_status cli_dek_for_worker(cli_ws *ws, const char *kek, char id[VEIL_CATALOG_DEK_ID_MAX], veil_err *err)
{
	uint8_t *dek = veil_secure_alloc(VEIL_KMS_DEK_LEN);
	if (!dek)
		return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory");
	veil_status st = veil_kms_dek_new(ws->kms, kek, ws->request_region, id, dek, err);
	veil_secure_free(dek, VEIL_KMS_DEK_LEN);
	return st;
}

veil_status cli_release_dek(cli_ws *ws, const char *dek_id, uint8_t dek[VEIL_KMS_DEK_LEN], veil_err *err)
{
	return veil_kms_dek_get(ws->kms, dek_id, ws->request_region, dek, err);
}
