/*
 * The authorization decision (docs/formats/policy.md, "Evaluation"): which
 * statements of the policies in force apply to a request, the three-valued
 * evaluation of their conditions (true, false, unknown when an attribute
 * is absent), and the rule that turns them into allow or deny: the first
 * applying Deny wins, then the first applying Allow, else deny. Every
 * statement considered is reported to the trace callback, which is how
 * `veil policy explain` shows its work.
 *
 * A decision is a pure function of its inputs: nothing here reads the
 * clock, the environment or storage.
 */
#include "access_int.h"

#include <string.h>

#define WHY_MAX 256

typedef enum tv { TV_FALSE, TV_TRUE, TV_UNKNOWN } tv;

/* Explanations are only ever shown: cutting a long one short is fine. */
VEIL_PRINTF(3, 4)
static void say(char *out, size_t outsz, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, outsz, fmt, ap);
	va_end(ap);
}

const char *veil_access_match_name(veil_access_match m)
{
	switch (m) {
	case VEIL_MATCH_YES:
		return "applies";
	case VEIL_MATCH_SUBJECT:
		return "subject";
	case VEIL_MATCH_VERB:
		return "verb";
	case VEIL_MATCH_TYPE:
		return "resource-type";
	case VEIL_MATCH_COMPARTMENT:
		return "compartment";
	case VEIL_MATCH_CONDITION_FALSE:
		return "condition-false";
	case VEIL_MATCH_CONDITION_UNKNOWN:
		return "condition-unknown";
	}
	return "?";
}

/* ---- conditions ---- */

/* A string variable's value in the request; NULL when absent. */
static const char *var_value(const acc_var *v, const veil_access_request *r)
{
	switch (v->kind) {
	case ACC_VAR_TARGET_NAME:
		return r->name;
	case ACC_VAR_TARGET_CLASSIFICATION:
		return r->classification;
	case ACC_VAR_TARGET_OWNER:
		return r->owner;
	case ACC_VAR_TARGET_REGION:
		return r->region;
	case ACC_VAR_TARGET_COMPARTMENT:
		return r->compartment_path[r->ncompartments - 1];
	case ACC_VAR_TARGET_TAG:
		/* tags NULL: the request does not know the resource's tags (a
		 * listing), so every tag is unknown. Otherwise the set is complete
		 * and a tag it lacks is known to be absent: the empty value, so a
		 * Deny on `target.tag.hold = 'legal'` does not catch every
		 * resource that has no hold at all. */
		if (!r->tags)
			return NULL;
		for (size_t i = 0; i < r->ntags; i++)
			if (strcmp(r->tags[i].key, v->key) == 0)
				return r->tags[i].value;
		return "";
	case ACC_VAR_REQUEST_PRINCIPAL:
		return r->principal;
	case ACC_VAR_REQUEST_PRINCIPAL_KIND:
		return r->principal_kind;
	case ACC_VAR_REQUEST_REGION:
		return r->request_region;
	case ACC_VAR_REQUEST_OPERATION:
		return r->operation;
	case ACC_VAR_REQUEST_TIME:
	case ACC_VAR_REQUEST_TIME_OF_DAY:
		break; /* not strings: the parser never compares them with = */
	}
	return NULL;
}

/* The variable as written: "target.tag.KEY" for tags. */
static void var_label(const acc_var *v, char *out, size_t outsz)
{
	say(out, outsz, "%s%s", acc_var_name(v->kind), v->key ? v->key : "");
}

static void tod_format(int32_t s, char out[16])
{
	say(out, 16, "%02d:%02d:%02dZ", (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
}

/* Evaluates one clause; why says what the request held. */
static tv eval_clause(const acc_clause *c, const veil_access_request *r, char *why, size_t whysz)
{
	char lhs[96], rhs[96];
	var_label(&c->var, lhs, sizeof lhs);
	if (c->op == ACC_OP_BEFORE || c->op == ACC_OP_AFTER) {
		char now[VEIL_TIME_STR_MAX];
		veil_time_format(r->time, now);
		say(why, whysz, "%s is %s", lhs, now);
		return (c->op == ACC_OP_BEFORE ? r->time < c->time : r->time > c->time) ? TV_TRUE : TV_FALSE;
	}
	if (c->op == ACC_OP_BETWEEN) {
		int64_t d = r->time % 86400;
		if (d < 0)
			d += 86400; /* times before 1970 still have a time of day */
		int32_t t = (int32_t)d;
		char now[16];
		tod_format(t, now);
		say(why, whysz, "%s is %s", lhs, now);
		bool in = c->tod_from < c->tod_to ? (t >= c->tod_from && t < c->tod_to)
		                                  : (t >= c->tod_from || t < c->tod_to);
		return in ? TV_TRUE : TV_FALSE;
	}
	const char *a = var_value(&c->var, r);
	if (!a) {
		say(why, whysz, "%s is absent", lhs);
		return TV_UNKNOWN;
	}
	const char *b = c->str;
	if (c->rhs_is_var) {
		var_label(&c->rhs_var, rhs, sizeof rhs);
		if (!(b = var_value(&c->rhs_var, r))) {
			say(why, whysz, "%s is absent", rhs);
			return TV_UNKNOWN;
		}
		say(why, whysz, "%s is '%.64s' and %s is '%.64s'", lhs, a, rhs, b);
	} else {
		say(why, whysz, "%s is '%.64s'", lhs, a);
	}
	bool eq = strcmp(a, b) == 0;
	return (c->op == ACC_OP_EQ) == eq ? TV_TRUE : TV_FALSE;
}

/* Evaluates a statement's condition in three-valued logic. why explains a
 * false or unknown result by its first false or unknown clause. */
static tv eval_condition(const veil_policy *p, const acc_stmt *s, const veil_access_request *r, char *why,
                         size_t whysz)
{
	if (s->combine == ACC_COND_NONE) {
		say(why, whysz, "no condition");
		return TV_TRUE;
	}
	size_t ntrue = 0, nfalse = 0, nunknown = 0;
	char first_false[WHY_MAX] = "", first_unknown[WHY_MAX] = "", first_true[WHY_MAX] = "", w[WHY_MAX];
	for (size_t i = 0; i < s->nclauses; i++) {
		tv v = eval_clause(&p->clauses[s->first_clause + i], r, w, sizeof w);
		size_t *count = v == TV_TRUE ? &ntrue : v == TV_FALSE ? &nfalse : &nunknown;
		char *first = v == TV_TRUE ? first_true : v == TV_FALSE ? first_false : first_unknown;
		if ((*count)++ == 0)
			memcpy(first, w, sizeof w);
	}
	tv result;
	if (s->combine == ACC_COND_ANY)
		result = ntrue ? TV_TRUE : nunknown ? TV_UNKNOWN : TV_FALSE;
	else /* ONE is ALL of one clause */
		result = nfalse ? TV_FALSE : nunknown ? TV_UNKNOWN : TV_TRUE;
	const char *src = result == TV_TRUE ? first_true : result == TV_FALSE ? first_false : first_unknown;
	say(why, whysz, "%s", src);
	return result;
}

/* ---- matching a statement ---- */

/* Index of compartment c on the target's path, or -1. */
static long path_index(const veil_access_request *r, const char *c)
{
	for (size_t i = 0; i < r->ncompartments; i++)
		if (strcmp(r->compartment_path[i], c) == 0)
			return (long)i;
	return -1;
}

static bool in_group(const veil_access_request *r, const acc_stmt *s)
{
	for (size_t i = 0; i < s->ngroups; i++)
		for (size_t j = 0; j < r->ngroups; j++)
			if (strcmp(s->groups[i], r->groups[j]) == 0)
				return true;
	return false;
}

static void list_groups(const acc_stmt *s, char *out, size_t outsz)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < s->ngroups && used < outsz; i++) {
		int n = snprintf(out + used, outsz - used, "%s%s", i ? ", " : "", s->groups[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* How statement s of a policy attached at path index `attach` matches r. */
static veil_access_match match(const veil_policy *p, const acc_stmt *s, long attach,
                               const veil_access_request *r, char *why, size_t whysz)
{
	const char *where = r->compartment_path[r->ncompartments - 1];
	long at = path_index(r, s->compartment);
	if (at < 0) {
		say(why, whysz, "the statement is for %s%s; the target is in %s%s",
		    strcmp(s->compartment, VEIL_ACCESS_TENANCY) ? "compartment " : "", s->compartment,
		    strcmp(where, VEIL_ACCESS_TENANCY) ? "compartment " : "", where);
		return VEIL_MATCH_COMPARTMENT;
	}
	if (at < attach) {
		/* veil_policy_check refuses this when the policy is attached; it is
		 * ignored here too, so a policy never reaches above its attachment. */
		say(why, whysz, "the statement is for %s, above %s where its policy is attached",
		    s->compartment, r->compartment_path[attach]);
		return VEIL_MATCH_COMPARTMENT;
	}
	if (!s->any_user && !in_group(r, s)) {
		char groups[160];
		list_groups(s, groups, sizeof groups);
		say(why, whysz, "%.64s is in none of the groups %s",
		    r->principal ? r->principal : "the principal", groups);
		return VEIL_MATCH_SUBJECT;
	}
	if (strcmp(s->resource_type, VEIL_ACCESS_ALL_RESOURCES) != 0 &&
	    strcmp(s->resource_type, r->resource_type) != 0) {
		say(why, whysz, "the statement is for %s; the request is for %s", s->resource_type,
		    r->resource_type);
		return VEIL_MATCH_TYPE;
	}
	if (s->deny ? r->verb < s->verb : r->verb > s->verb) {
		say(why, whysz, "it %s %s and %s; %s was asked", s->deny ? "denies" : "grants",
		    veil_verb_name(s->verb), s->deny ? "greater verbs" : "lesser verbs",
		    veil_verb_name(r->verb));
		return VEIL_MATCH_VERB;
	}
	char cw[WHY_MAX];
	tv v = eval_condition(p, s, r, cw, sizeof cw);
	if (v == TV_FALSE) {
		say(why, whysz, "%s", cw);
		return VEIL_MATCH_CONDITION_FALSE;
	}
	if (v == TV_UNKNOWN && !s->deny) {
		say(why, whysz, "%s: an Allow needs every condition known", cw);
		return VEIL_MATCH_CONDITION_UNKNOWN;
	}
	if (v == TV_UNKNOWN)
		say(why, whysz, "%s: a Deny applies when a condition is unknown (fail closed)", cw);
	else
		say(why, whysz, s->combine == ACC_COND_NONE ? "applies" : "its condition holds: %s", cw);
	return VEIL_MATCH_YES;
}

/* ---- the decision ---- */

VEIL_PRINTF(2, 3)
static void set_reason(veil_access_decision *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out->reason, sizeof out->reason, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof out->reason) /* say that it was cut */
		memcpy(out->reason + sizeof out->reason - 4, "...", 4);
}

static veil_status check_request(const veil_policy_ref *policies, size_t npolicies,
                                 const veil_access_request *r, veil_err *err)
{
	if (!r)
		return veil_err_set(err, VEIL_E_INVALID, "access decision: no request");
	if (r->verb < VEIL_VERB_INSPECT || r->verb > VEIL_VERB_MANAGE)
		return veil_err_set(err, VEIL_E_INVALID, "access decision: unknown verb %d", (int)r->verb);
	if (!veil_access_resource_type_known(r->resource_type))
		return veil_err_set(err, VEIL_E_INVALID, "access decision: unknown resource type '%.64s'",
		                    r->resource_type ? r->resource_type : "");
	if (!r->compartment_path || r->ncompartments == 0)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "access decision: the target has no compartment path");
	for (size_t i = 0; i < r->ncompartments; i++)
		if (!r->compartment_path[i])
			return veil_err_set(err, VEIL_E_INVALID,
			                    "access decision: compartment path entry %zu is NULL", i);
	/* A path that does not start at the root would silently skip the
	 * tenancy's policies, Deny statements included. */
	if (strcmp(r->compartment_path[0], VEIL_ACCESS_TENANCY) != 0)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "access decision: the compartment path must start with %s",
		                    VEIL_ACCESS_TENANCY);
	if (r->ngroups && !r->groups)
		return veil_err_set(err, VEIL_E_INVALID, "access decision: groups missing");
	for (size_t i = 0; i < r->ngroups; i++)
		if (!r->groups[i])
			return veil_err_set(err, VEIL_E_INVALID, "access decision: group %zu is NULL", i);
	if (r->ntags && !r->tags)
		return veil_err_set(err, VEIL_E_INVALID, "access decision: tags missing");
	for (size_t i = 0; i < r->ntags; i++)
		if (!r->tags[i].key || !r->tags[i].value)
			return veil_err_set(err, VEIL_E_INVALID,
			                    "access decision: tag %zu has no key or value", i);
	if (npolicies && !policies)
		return veil_err_set(err, VEIL_E_INVALID, "access decision: policies missing");
	for (size_t i = 0; i < npolicies; i++)
		if (!policies[i].policy || !policies[i].attached_to)
			return veil_err_set(err, VEIL_E_INVALID,
			                    "access decision: policy %zu has no statements or "
			                    "attachment",
			                    i);
	return VEIL_OK;
}

static void statement_reason(veil_access_decision *out, const veil_policy_ref *ref, const acc_stmt *s)
{
	set_reason(out, "%s by policy '%.64s' v%u line %u: %s", out->allowed ? "allowed" : "denied",
	           ref->name ? ref->name : "(unnamed)", (unsigned)ref->version, s->line, s->text);
}

veil_status veil_access_decide(const veil_policy_ref *policies, size_t npolicies,
                               const veil_access_request *req, veil_access_decision *out,
                               veil_access_trace_fn trace, void *ctx, veil_err *err)
{
	if (!out)
		return veil_err_set(err, VEIL_E_INVALID, "access decision: no decision to fill");
	memset(out, 0, sizeof *out);
	set_reason(out, "denied: malformed request");
	veil_status st = check_request(policies, npolicies, req, err);
	if (st)
		return st;
	bool have_deny = false, have_allow = false;
	size_t deny_p = 0, deny_s = 0, allow_p = 0, allow_s = 0;
	char why[WHY_MAX];
	for (size_t i = 0; i < npolicies; i++) {
		const veil_policy *p = policies[i].policy;
		long attach = path_index(req, policies[i].attached_to);
		for (size_t j = 0; j < p->nstmts; j++) {
			const acc_stmt *s = &p->stmts[j];
			veil_access_match m;
			if (attach < 0) {
				say(why, sizeof why, "its policy is attached to %.64s, not above the target",
				    policies[i].attached_to);
				m = VEIL_MATCH_COMPARTMENT;
			} else {
				m = match(p, s, attach, req, why, sizeof why);
			}
			if (trace)
				trace(ctx, i, j, m, why);
			if (m != VEIL_MATCH_YES)
				continue;
			if (s->deny && !have_deny) {
				have_deny = true;
				deny_p = i;
				deny_s = j;
			} else if (!s->deny && !have_allow) {
				have_allow = true;
				allow_p = i;
				allow_s = j;
			}
		}
	}
	if (have_deny || have_allow) {
		out->allowed = !have_deny;
		out->by_statement = true;
		out->policy = have_deny ? deny_p : allow_p;
		out->statement = have_deny ? deny_s : allow_s;
		statement_reason(out, &policies[out->policy],
		                 &policies[out->policy].policy->stmts[out->statement]);
		return VEIL_OK;
	}
	const char *where = req->compartment_path[req->ncompartments - 1];
	bool root = strcmp(where, VEIL_ACCESS_TENANCY) == 0;
	set_reason(out, "denied: no statement allows %s on %s in %s%s", veil_verb_name(req->verb),
	           req->resource_type, root ? "" : "compartment ", where);
	return VEIL_OK;
}
