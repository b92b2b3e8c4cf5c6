/*
 * veil policy apply|list|show|explain|operations and veil compartment
 * create|list.
 *
 * Policies are text files kept under version control by their authors;
 * `apply` validates one completely (syntax, every group and compartment it
 * names, the attachment rule) before anything is stored, and refuses a
 * change that would leave nobody able to manage policies. `explain`
 * replays the decision for any principal, the way a policy troubleshooter
 * does, with the same function the enforcement point uses.
 */
#include "cmds.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct policy_args {
	bool json, verbose, dry_run;
	const char *name, *compartment, *parent, *description;
	const char *as, *verb, *resource, *region, *at, *operation;
	uint32_t version;
	const char *pos;
} policy_args;

static int parse(cli_global *g, const cli_command *cmd, int argc, char **argv, int npos, policy_args *a)
{
	static const struct option longopts[] = {
	        {"json", no_argument, NULL, 'j'},
	        {"verbose", no_argument, NULL, 'v'},
	        {"dry-run", no_argument, NULL, 'n'},
	        {"name", required_argument, NULL, 'N'},
	        {"compartment", required_argument, NULL, 'C'},
	        {"parent", required_argument, NULL, 'P'},
	        {"description", required_argument, NULL, 'D'},
	        {"as", required_argument, NULL, 'a'},
	        {"verb", required_argument, NULL, 'V'},
	        {"resource", required_argument, NULL, 'R'},
	        {"region", required_argument, NULL, 'r'},
	        {"at", required_argument, NULL, 't'},
	        {"operation", required_argument, NULL, 'o'},
	        {"version", required_argument, NULL, 'E'},
	        CLI_COMMON_OPTS,
	        {NULL, 0, NULL, 0},
	};
	memset(a, 0, sizeof *a);
	int opt, rc = -1;
	while ((opt = cli_opt(g, cmd, argc, argv, "", longopts, &rc)) != -1) {
		switch (opt) {
		case 'j':
			a->json = true;
			break;
		case 'v':
			a->verbose = true;
			break;
		case 'n':
			a->dry_run = true;
			break;
		case 'N':
			a->name = optarg;
			break;
		case 'C':
			a->compartment = optarg;
			break;
		case 'P':
			a->parent = optarg;
			break;
		case 'D':
			a->description = optarg;
			break;
		case 'a':
			a->as = optarg;
			break;
		case 'V':
			a->verb = optarg;
			break;
		case 'R':
			a->resource = optarg;
			break;
		case 'r':
			a->region = optarg;
			break;
		case 't':
			a->at = optarg;
			break;
		case 'o':
			a->operation = optarg;
			break;
		case 'E': {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (optarg[0] < '1' || optarg[0] > '9' || *end || errno || v > UINT32_MAX)
				return cli_usage_error(cmd, "--version must be a whole number from 1");
			a->version = (uint32_t)v;
			break;
		}
		default:
			return cli_usage_error(cmd, "option not valid for 'veil %s'", cmd->name);
		}
	}
	if (rc >= 0 || (rc = cli_positional(cmd, argc, argv, npos, npos)) >= 0)
		return rc;
	a->pos = npos ? argv[optind] : NULL;
	return -1;
}

/* ---- names a policy may refer to, answered from the catalog ---- */

static bool group_exists(void *ctx, const char *name)
{
	veil_group gr;
	return veil_catalog_group_get(ctx, name, &gr, NULL) == VEIL_OK;
}

static bool compartment_exists(void *ctx, const char *name)
{
	veil_compartment c;
	return veil_catalog_compartment_get(ctx, name, &c, NULL) == VEIL_OK;
}

static bool compartment_within(void *ctx, const char *inner, const char *outer)
{
	char path[VEIL_CATALOG_COMPARTMENT_DEPTH][VEIL_CATALOG_NAME_MAX];
	size_t n = 0;
	if (veil_catalog_compartment_path(ctx, inner, path, &n, NULL))
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(path[i], outer) == 0)
			return true;
	return false;
}

/* The policies in force with `pol` in place of policy `name`: a change
 * must leave someone able to manage policies, there and in tenancy. */
static veil_status keeps_a_keeper(cli_ws *ws, const char *name, const veil_policy *pol,
                                  const char *compartment, veil_err *err)
{
	veil_status st = cli_policies_load(ws, err);
	if (st)
		return st;
	cli_policies *cur = ws->policies;
	veil_policy_ref *refs = calloc(cur->n + 1, sizeof *refs);
	if (!refs)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory");
	size_t n = 0;
	for (size_t i = 0; i < cur->n; i++)
		if (strcmp(cur->refs[i].name, name) != 0)
			refs[n++] = cur->refs[i];
	refs[n++] = (veil_policy_ref){.policy = pol, .name = name, .version = 0, .attached_to = compartment};
	st = cli_check_keeper(ws, refs, n, compartment, err);
	free(refs);
	return st;
}

/* The policy name from --name or from FILE's base name without its
 * extension ("policies/oncology.policy" -> "oncology"). */
static veil_status policy_name(const policy_args *a, char out[VEIL_CATALOG_NAME_MAX], veil_err *err)
{
	if (a->name)
		snprintf(out, VEIL_CATALOG_NAME_MAX, "%s", a->name);
	else {
		const char *file = a->pos ? a->pos : "";
		const char *base = strrchr(file, '/');
		base = base ? base + 1 : file;
		size_t n = strcspn(base, ".");
		snprintf(out, VEIL_CATALOG_NAME_MAX, "%.*s", (int)(n < VEIL_CATALOG_NAME_MAX ? n : 64), base);
	}
	veil_status st = veil_name_check(out, "policy name", err);
	if (st && !a->name)
		veil_err_hint(err, "name the policy with --name");
	return st;
}

int cmd_policy_apply(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("policy apply");
	policy_args a;
	int rc = parse(g, cmd, argc, argv, 1, &a);
	if (rc >= 0)
		return rc;
	veil_err err;
	veil_err_clear(&err);
	char name[VEIL_CATALOG_NAME_MAX], attached[VEIL_CATALOG_NAME_MAX];
	veil_buf text = {0};
	veil_policy *pol = NULL;
	if (policy_name(&a, name, &err))
		return cli_fail(&err);
	cli_ws ws;
	if (cli_ws_open(g, 0, &ws, &err))
		return cli_fail(&err);
	/* A new version of an existing policy is a change where it is
	 * attached: authorized there, and it stays there. Moving it would let
	 * whoever manages policies in one compartment replace a policy that
	 * governs another (a tenancy Deny, say). */
	cli_resource r;
	veil_status st = cli_resource_find(&ws, "policies", name, VEIL_VERB_MANAGE, &r, &err);
	bool exists = !st && r.found;
	snprintf(attached, sizeof attached, "%s",
	         exists          ? r.compartment
	         : a.compartment ? a.compartment
	                         : VEIL_ACCESS_TENANCY);
	if (!st)
		cli_resource_free(&r);
	const char *compartment = attached;
	cli_target t = {
	        .verb = VEIL_VERB_MANAGE, .type = "policies", .name = name, .compartment = compartment};
	if (!st)
		st = cli_authorize(&ws, &t, &err);
	if (!st && exists && a.compartment && strcmp(a.compartment, attached) != 0) {
		st = veil_err_set(&err, VEIL_E_INVALID, "policy %s is attached to %s; a policy does not move",
		                  name, attached);
		veil_err_hint(
		        &err,
		        "apply it without --compartment (or with --compartment %s), or under another name",
		        attached);
		cli_audit_refusal(&ws, "policy.apply", name, &err);
	}
	if (st) {
		cli_ws_close(&ws);
		return cli_fail(&err);
	}
	veil_access_names names = {.ctx = ws.catalog,
	                           .group_exists = group_exists,
	                           .compartment_exists = compartment_exists,
	                           .compartment_within = compartment_within};
	uint32_t version = 0;
	bool changed = false;
	st = veil_fs_read_file(a.pos, VEIL_POLICY_MAX_BYTES, &text, &err);
	if (st == VEIL_E_LIMIT)
		veil_err_hint(&err, "a policy file holds at most %u bytes; split it into several policies",
		              VEIL_POLICY_MAX_BYTES);
	if (!st && !compartment_exists(ws.catalog, compartment)) {
		veil_err_set(&err, VEIL_E_NOTFOUND, "no compartment named '%s'", compartment);
		st = veil_err_hint(&err, "'veil compartment list' shows them");
	}
	if (!st && (st = veil_policy_parse((const char *)text.data, text.len, &pol, &err)))
		veil_err_wrap(&err, "%s", a.pos);
	if (!st && (st = veil_policy_check(pol, compartment, &names, &err)))
		veil_err_wrap(&err, "%s", a.pos);
	if (!st)
		st = keeps_a_keeper(&ws, name, pol, compartment, &err);
	/* A policy that does not validate is a refused request: recorded,
	 * with what was wrong, and nothing stored. */
	if (st)
		cli_audit_refusal(&ws, "policy.apply", name, &err);
	if (!st && !a.dry_run && !(st = veil_catalog_begin(ws.catalog, &err))) {
		st = veil_catalog_policy_put(ws.catalog, name, compartment, (const char *)text.data, text.len,
		                             ws.principal.name, &version, &changed, &err);
		if (!st && changed) {
			char hex[2 * VEIL_SHA256_LEN + 1];
			uint8_t h[VEIL_SHA256_LEN];
			if (!(st = veil_sha256(text.data, text.len, h, &err))) {
				veil_hex_encode(h, sizeof h, hex);
				st = cli_audit(&ws, "policy.apply", name, "ok",
				               json_pack("{s:I, s:s, s:s, s:I}", "version",
				                         (json_int_t)version, "compartment", compartment,
				                         "sha256", hex, "statements",
				                         (json_int_t)veil_policy_count(pol)),
				               &err);
			}
		}
		if (!st)
			st = veil_catalog_commit(ws.catalog, &err);
		else
			veil_catalog_rollback(ws.catalog);
	}
	size_t count = pol ? veil_policy_count(pol) : 0;
	veil_policy_free(pol);
	veil_buf_free(&text);
	cli_ws_close(&ws);
	if (st)
		return cli_fail(&err);
	if (a.dry_run)
		cli_info("%s is valid: %zu statement%s; nothing was stored (--dry-run)", a.pos, count,
		         count == 1 ? "" : "s");
	else if (changed)
		cli_info("Applied policy %s version %u: %zu statement%s attached to %s", name, version, count,
		         count == 1 ? "" : "s", compartment);
	else
		cli_info("Policy %s is unchanged (version %u)", name, version);
	return 0;
}

static veil_status list_policy(void *ctx, const veil_policy_record *p, veil_err *err)
{
	cli_list *c = ctx;
	cli_target t = {.verb = VEIL_VERB_INSPECT,
	                .type = "policies",
	                .name = p->name,
	                .compartment = p->compartment};
	bool ok;
	veil_status st = cli_authorize_quiet(c->ws, &t, &ok, err);
	if (st || !ok)
		return st;
	char applied[VEIL_TIME_STR_MAX];
	veil_time_format(p->applied, applied);
	veil_policy *pol = NULL;
	size_t n = veil_policy_parse(p->text, p->len, &pol, NULL) ? 0 : veil_policy_count(pol);
	veil_policy_free(pol);
	json_array_append_new(c->arr, json_pack("{s:s, s:I, s:s, s:I, s:s, s:s, s:s}", "name", p->name,
	                                        "version", (json_int_t)p->version, "compartment",
	                                        p->compartment, "statements", (json_int_t)n, "applied",
	                                        applied, "applied_by", p->applied_by, "sha256", p->sha256));
	return VEIL_OK;
}

static veil_status policies(cli_ws *ws, cli_list *c, veil_err *err)
{
	return veil_catalog_policy_list(ws->catalog, list_policy, c, err);
}

static void policy_table(json_t *arr)
{
	printf("%-24s %7s %-20s %10s  %-20s %s\n", "NAME", "VERSION", "COMPARTMENT", "STATEMENTS", "APPLIED",
	       "BY");
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o) printf("%-24s %7lld %-20s %10lld  %-20s %s\n", cli_json_str(o, "name"),
	                                     (long long)json_integer_value(json_object_get(o, "version")),
	                                     cli_json_str(o, "compartment"),
	                                     (long long)json_integer_value(json_object_get(o, "statements")),
	                                     cli_json_str(o, "applied"), cli_json_str(o, "applied_by"));
}

int cmd_policy_list(cli_global *g, int argc, char **argv)
{
	policy_args a;
	int rc = parse(g, cli_find("policy list"), argc, argv, 0, &a);
	return rc >= 0 ? rc : cli_run_list(g, a.json, policies, policy_table, NULL);
}

int cmd_policy_show(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("policy show");
	policy_args a;
	int rc = parse(g, cmd, argc, argv, 1, &a);
	if (rc >= 0)
		return rc;
	veil_err err;
	veil_err_clear(&err);
	cli_ws ws;
	if (cli_ws_open(g, 0, &ws, &err))
		return cli_fail(&err);
	cli_resource r;
	veil_policy_record p = {0};
	veil_status st = cli_authorize_resource(&ws, "policies", a.pos, VEIL_VERB_READ, &r, &err);
	if (!st) {
		cli_resource_free(&r);
		st = veil_catalog_policy_get(ws.catalog, a.pos, a.version, &p, &err);
	}
	cli_ws_close(&ws);
	if (st)
		return cli_fail(&err);
	if (a.json) {
		char applied[VEIL_TIME_STR_MAX];
		veil_time_format(p.applied, applied);
		json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s}", "name", p.name, "version",
		                      (json_int_t)p.version, "compartment", p.compartment, "applied", applied,
		                      "applied_by", p.applied_by, "sha256", p.sha256, "text", p.text);
		veil_policy_record_free(&p);
		return cli_print_json(o);
	}
	fwrite(p.text, 1, p.len, stdout);
	if (p.len && p.text[p.len - 1] != '\n')
		putchar('\n');
	veil_policy_record_free(&p);
	return 0;
}

/* ---- explain ---- */

typedef struct trace_ctx {
	const cli_policies *pols;
	json_t *arr;
} trace_ctx;

static void trace(void *ctx, size_t policy, size_t statement, veil_access_match m, const char *detail)
{
	trace_ctx *t = ctx;
	const veil_policy_ref *ref = &t->pols->refs[policy];
	veil_statement_info si;
	veil_policy_statement(ref->policy, statement, &si);
	json_array_append_new(t->arr, json_pack("{s:s, s:I, s:I, s:s, s:s, s:s}", "policy", ref->name,
	                                        "version", (json_int_t)ref->version, "line",
	                                        (json_int_t)si.line, "text", si.text, "match",
	                                        veil_access_match_name(m), "detail", detail ? detail : ""));
}

/* --resource TYPE or TYPE:NAME */
static veil_status split_resource(const char *s, char type[32], char name[VEIL_CATALOG_REF_MAX],
                                  veil_err *err)
{
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	if (n == 0 || n >= 32 || (colon && !colon[1])) {
		veil_err_set(err, VEIL_E_INVALID,
		             "--resource takes TYPE or TYPE:NAME, e.g. datasets:patients");
		return VEIL_E_INVALID;
	}
	memcpy(type, s, n);
	type[n] = 0;
	snprintf(name, VEIL_CATALOG_REF_MAX, "%s", colon ? colon + 1 : "");
	if (!veil_access_resource_type_known(type)) {
		veil_err_set(err, VEIL_E_INVALID, "unknown resource type '%s'", type);
		veil_err_hint(err, "run 'veil policy operations' for the resource types");
		return VEIL_E_INVALID;
	}
	return VEIL_OK;
}

static json_t *explain_json(const policy_args *a, const veil_principal *p, const cli_request *r,
                            const veil_access_decision *d, const cli_policies *pols, json_t *steps)
{
	json_t *path = json_array();
	for (size_t i = 0; i < r->req.ncompartments; i++)
		json_array_append_new(path, json_string(r->req.compartment_path[i]));
	json_t *groups = json_array();
	for (size_t i = 0; i < r->req.ngroups; i++)
		json_array_append_new(groups, json_string(r->req.groups[i]));
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:s}", "decision",
	                      d->allowed ? "allow" : "deny", "principal", p->name, "kind", p->kind, "groups",
	                      groups, "verb", veil_verb_name(r->req.verb), "resource", a->resource,
	                      "compartment_path", path, "reason", d->reason);
	json_object_set_new(o, "request_region",
	                    r->req.request_region ? json_string(r->req.request_region) : json_null());
	if (d->by_statement) {
		veil_statement_info si;
		veil_policy_statement(pols->refs[d->policy].policy, d->statement, &si);
		json_object_set_new(o, "statement",
		                    json_pack("{s:s, s:I, s:I, s:s}", "policy", pols->refs[d->policy].name,
		                              "version", (json_int_t)pols->refs[d->policy].version, "line",
		                              (json_int_t)si.line, "text", si.text));
	} else {
		json_object_set_new(o, "statement", json_null());
	}
	json_object_set_new(o, "statements", steps);
	return o;
}

static void explain_text(json_t *o, bool verbose)
{
	json_t *st = json_object_get(o, "statement");
	char path[1024] = "";
	size_t i, used = 0;
	json_t *v;
	json_array_foreach(json_object_get(o, "compartment_path"), i, v)
	{
		int w = snprintf(path + used, sizeof path - used, "%s%s", i ? " > " : "",
		                 json_string_value(v));
		if (w < 0 || (size_t)w >= sizeof path - used)
			break;
		used += (size_t)w;
	}
	char groups[512];
	cli_json_join(json_object_get(o, "groups"), groups, sizeof groups);
	printf("decision:   %s\n", strcmp(cli_json_str(o, "decision"), "allow") == 0 ? "ALLOW" : "DENY");
	printf("principal:  %s (%s; groups: %s)\n", cli_json_str(o, "principal"), cli_json_str(o, "kind"),
	       groups);
	printf("request:    %s %s in %s; region %s\n", cli_json_str(o, "verb"), cli_json_str(o, "resource"),
	       path, cli_json_str(o, "request_region"));
	if (json_is_object(st))
		printf("decided by: policy %s v%lld, line %lld\n            %s\n", cli_json_str(st, "policy"),
		       (long long)json_integer_value(json_object_get(st, "version")),
		       (long long)json_integer_value(json_object_get(st, "line")), cli_json_str(st, "text"));
	else
		printf("decided by: no statement (%s)\n", cli_json_str(o, "reason"));
	if (!verbose)
		return;
	printf("\nstatements considered:\n");
	json_array_foreach(json_object_get(o, "statements"), i, v)
	{
		const char *detail = cli_json_str(v, "detail");
		printf("  %-17s %s v%lld line %lld: %s%s%s%s\n", cli_json_str(v, "match"),
		       cli_json_str(v, "policy"),
		       (long long)json_integer_value(json_object_get(v, "version")),
		       (long long)json_integer_value(json_object_get(v, "line")), cli_json_str(v, "text"),
		       strcmp(detail, "-") ? " (" : "", strcmp(detail, "-") ? detail : "",
		       strcmp(detail, "-") ? ")" : "");
	}
}

int cmd_policy_explain(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("policy explain");
	policy_args a;
	int rc = parse(g, cmd, argc, argv, 0, &a);
	if (rc >= 0)
		return rc;
	if (!a.as || !a.verb || !a.resource)
		return cli_usage_error(cmd, "--as, --verb and --resource are required");
	veil_err err;
	veil_err_clear(&err);
	veil_verb verb;
	char type[32], name[VEIL_CATALOG_REF_MAX];
	int64_t at = 0;
	if (veil_verb_parse(a.verb, &verb, &err) || split_resource(a.resource, type, name, &err) ||
	    (a.region && veil_name_check(a.region, "region", &err)) ||
	    (a.at && veil_time_parse(a.at, &at, &err)))
		return cli_fail(&err);
	if (a.operation && !cli_find(a.operation))
		return cli_usage_error(cmd, "--operation: '%s' is not a veil command", a.operation);
	cli_target t0 = {.verb = VEIL_VERB_READ, .type = "policies"};
	cli_ws ws;
	if (cli_ws_open_for(g, 0, &t0, &ws, &err))
		return cli_fail(&err);
	veil_principal p;
	char groups[VEIL_CATALOG_GROUPS_PER_PRINCIPAL][VEIL_CATALOG_NAME_MAX];
	size_t ng = 0;
	cli_resource r = {0};
	cli_request req = {0};
	veil_access_decision d = {0};
	trace_ctx tc = {.arr = json_array()};
	veil_status st = veil_catalog_principal_get(ws.catalog, a.as, &p, &err);
	if (st == VEIL_E_NOTFOUND)
		veil_err_hint(&err, "'veil principal list' shows the principals");
	if (!st)
		st = veil_catalog_groups_of(ws.catalog, p.name, groups, &ng, &err);
	if (!st && name[0])
		st = cli_resource_find(&ws, type, name, verb, &r, &err);
	else if (!st)
		r.t = (cli_target){.verb = verb, .type = type};
	if (!st && a.compartment && r.found) {
		veil_err_set(&err, VEIL_E_INVALID,
		             "%s %s exists in compartment %s: --compartment is for a resource "
		             "that does not exist yet",
		             type, name, r.compartment);
		st = veil_err_hint(&err,
		                   "leave out --compartment to explain the decision enforcement would make");
	}
	if (!st && a.compartment)
		r.t.compartment = a.compartment;
	if (!st)
		st = cli_policies_load(&ws, &err);
	if (!st)
		st = cli_request_make(&ws, &p, (const char(*)[VEIL_CATALOG_NAME_MAX])groups, ng, &r.t, &req,
		                      &err);
	if (!st) {
		if (a.region)
			req.req.request_region = a.region;
		if (a.at)
			req.req.time = at;
		/* The request explained is not this command's own: its operation
		 * is what --operation says, or absent. */
		req.req.operation = a.operation;
		tc.pols = ws.policies;
		st = veil_access_decide(ws.policies->refs, ws.policies->n, &req.req, &d, trace, &tc, &err);
	}
	if (!st && p.disabled) {
		/* Authentication stops a disabled principal before any policy. */
		d.allowed = false;
		d.by_statement = false;
		snprintf(d.reason, sizeof d.reason, "principal %s is disabled: every request is refused",
		         p.name);
	}
	json_t *out = st ? NULL : explain_json(&a, &p, &req, &d, ws.policies, tc.arr);
	if (st)
		json_decref(tc.arr);
	bool found = r.found;
	cli_resource_free(&r);
	cli_ws_close(&ws);
	if (st)
		return cli_fail(&err);
	bool allowed = d.allowed;
	if (a.json)
		cli_print_json(out);
	else {
		if (!found && name[0])
			cli_warn("there is no %s named '%s': explained for a resource of that name in %s",
			         type, name, a.compartment ? a.compartment : VEIL_ACCESS_TENANCY);
		explain_text(out, a.verbose);
		json_decref(out);
	}
	return allowed ? 0 : VEIL_EXIT_CHECK;
}

/* ---- operations: the documented mapping, from the command table ---- */

int cmd_policy_operations(cli_global *g, int argc, char **argv)
{
	policy_args a;
	int rc = parse(g, cli_find("policy operations"), argc, argv, 0, &a);
	if (rc >= 0)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < cli_ncommands; i++) {
		const cli_command *c = &cli_commands[i];
		json_t *needs = json_array();
		for (size_t k = 0; k < sizeof c->needs / sizeof c->needs[0] && c->needs[k].type; k++)
			json_array_append_new(needs, json_pack("{s:s, s:s}", "verb",
			                                       veil_verb_name(c->needs[k].verb),
			                                       "resource_type", c->needs[k].type));
		json_array_append_new(arr, json_pack("{s:s, s:o}", "command", c->name, "needs", needs));
	}
	if (a.json)
		return cli_print_json(arr);
	printf("%-20s %s\n", "COMMAND", "NEEDS");
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o)
	{
		char needs[128] = "";
		size_t k;
		json_t *n;
		json_array_foreach(json_object_get(o, "needs"), k, n)
		{
			size_t used = strlen(needs);
			snprintf(needs + used, sizeof needs - used, "%s%s %s", k ? ", " : "",
			         cli_json_str(n, "verb"), cli_json_str(n, "resource_type"));
		}
		printf("%-20s %s\n", cli_json_str(o, "command"),
		       needs[0] ? needs : "(no workspace, no principal)");
	}
	json_decref(arr);
	printf("\nResource types:");
	for (size_t t = 0; t < veil_access_nresource_types; t++)
		printf(" %s", veil_access_resource_types[t]);
	printf("\nVerbs: inspect < read < use < manage (a verb includes those before it)\n");
	return 0;
}

/* ---- compartments ---- */

int cmd_compartment_create(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("compartment create");
	policy_args a;
	int rc = parse(g, cmd, argc, argv, 1, &a);
	if (rc >= 0)
		return rc;
	veil_err err;
	veil_err_clear(&err);
	if (veil_name_check(a.pos, "compartment name", &err))
		return cli_fail(&err);
	const char *parent = a.parent ? a.parent : VEIL_ACCESS_TENANCY;
	cli_ws ws;
	if (cli_ws_open(g, 0, &ws, &err))
		return cli_fail(&err);
	/* Creating in P is managing compartments in P. */
	cli_target t = {
	        .verb = VEIL_VERB_MANAGE, .type = "compartments", .name = a.pos, .compartment = parent};
	veil_status st = cli_authorize(&ws, &t, &err);
	if (!st && !(st = veil_catalog_begin(ws.catalog, &err)))
		st = cli_commit_audited(
		        &ws,
		        veil_catalog_compartment_create(ws.catalog, a.pos, parent, a.description,
		                                        ws.principal.name, &err),
		        "compartment.create", a.pos, json_pack("{s:s}", "parent", parent), &err);
	cli_ws_close(&ws);
	if (st)
		return cli_fail(&err);
	cli_info("Created compartment %s in %s", a.pos, parent);
	return 0;
}

static veil_status list_compartment(void *ctx, const veil_compartment *c, veil_err *err)
{
	cli_list *l = ctx;
	cli_target t = {.verb = VEIL_VERB_INSPECT,
	                .type = "compartments",
	                .name = c->name,
	                .compartment = c->parent[0] ? c->parent : VEIL_ACCESS_TENANCY};
	bool ok;
	veil_status st = cli_authorize_quiet(l->ws, &t, &ok, err);
	if (st || !ok)
		return st;
	char created[VEIL_TIME_STR_MAX];
	veil_time_format(c->created, created);
	json_array_append_new(l->arr, json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", c->name, "parent",
	                                        c->parent, "description", c->description, "created", created,
	                                        "created_by", c->created_by));
	return VEIL_OK;
}

static veil_status compartments(cli_ws *ws, cli_list *c, veil_err *err)
{
	return veil_catalog_compartment_list(ws->catalog, list_compartment, c, err);
}

static void compartment_table(json_t *arr)
{
	printf("%-24s %-24s %s\n", "NAME", "PARENT", "DESCRIPTION");
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o) printf("%-24s %-24s %s\n", cli_json_str(o, "name"),
	                                     cli_json_str(o, "parent"), cli_json_str(o, "description"));
}

int cmd_compartment_list(cli_global *g, int argc, char **argv)
{
	policy_args a;
	int rc = parse(g, cli_find("compartment list"), argc, argv, 0, &a);
	return rc >= 0 ? rc : cli_run_list(g, a.json, compartments, compartment_table, NULL);
}
