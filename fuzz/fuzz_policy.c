/*
 * Fuzz target: veil_policy_parse, the reader of policy documents (written
 * by anyone who may attach a policy), then everything a parsed policy
 * reaches: the statement view, veil_policy_check with callbacks that
 * accept every name, and veil_access_decide for fixed requests. The input
 * is passed as it is, without a NUL, so that a read past `len` is caught.
 *
 * Invariants (abort on violation):
 *  1. A failure is VEIL_E_INVALID with "line L, column C: " and a message
 *     (VEIL_E_LIMIT only for a text over VEIL_POLICY_MAX_BYTES) and leaves
 *     *out NULL.
 *  2. A parsed policy has 1..VEIL_POLICY_MAX_STATEMENTS statements, each
 *     with a line (increasing), a one-line text, a verb, a known resource
 *     type, a compartment, any-user or 1..16 named groups, and at most 32
 *     conditions.
 *  3. Each statement's text parses again on its own to the same statement
 *     and the same text (the collapsed form is a fixed point).
 *  4. veil_policy_check succeeds when every name exists (at tenancy).
 *  5. Decisions: the trace sees every statement once, in order; an allow
 *     names an applying Allow statement and a deny by statement a Deny; and
 *     verbs are monotone: what allows a verb allows every lesser one.
 */
#include "fuzz.h"
#include "veil/access.h"

#include <string.h>

static bool yes(void *ctx, const char *name)
{
	(void)ctx;
	return name && name[0];
}

static bool yes2(void *ctx, const char *inner, const char *outer)
{
	(void)ctx;
	return inner && outer;
}

typedef struct seen {
	size_t n;
	veil_access_match m[VEIL_POLICY_MAX_STATEMENTS];
} seen;

static void trace(void *ctx, size_t policy, size_t statement, veil_access_match m, const char *detail)
{
	seen *s = ctx;
	FUZZ_CHECK(policy == 0 && statement == s->n, "a statement traced out of order or twice");
	FUZZ_CHECK(detail != NULL && detail[0] != '\0', "a trace without a detail");
	FUZZ_CHECK(m >= VEIL_MATCH_YES && m <= VEIL_MATCH_CONDITION_UNKNOWN, "a trace with an unknown match");
	s->m[s->n++] = m;
}

static void same_statement(const veil_statement_info *a, const veil_statement_info *b)
{
	if (!a->resource_type || !b->resource_type || !a->compartment || !b->compartment || !a->text ||
	    !b->text) {
		FUZZ_CHECK(false, "a statement view without a type, compartment or text");
		return;
	}
	FUZZ_CHECK(a->deny == b->deny && a->any_user == b->any_user && a->ngroups == b->ngroups &&
	                   a->verb == b->verb && a->nconditions == b->nconditions,
	           "a statement's text parses to a different statement");
	FUZZ_CHECK(strcmp(a->resource_type, b->resource_type) == 0 &&
	                   strcmp(a->compartment, b->compartment) == 0 && strcmp(a->text, b->text) == 0,
	           "a statement's text parses to a different statement");
	for (size_t g = 0; g < a->ngroups; g++)
		FUZZ_CHECK(strcmp(a->groups[g], b->groups[g]) == 0, "a statement's text names other groups");
}

static void check_statement(const veil_policy *p, size_t i, unsigned *last_line)
{
	veil_statement_info si;
	veil_policy_statement(p, i, &si);
	FUZZ_CHECK(si.text && si.text[0] && !strchr(si.text, '\n'), "a statement without a one-line text");
	FUZZ_CHECK(si.line > *last_line, "statement lines do not increase");
	*last_line = si.line;
	FUZZ_CHECK(si.verb >= VEIL_VERB_INSPECT && si.verb <= VEIL_VERB_MANAGE, "a statement without a verb");
	FUZZ_CHECK(si.resource_type && (veil_access_resource_type_known(si.resource_type) ||
	                                strcmp(si.resource_type, VEIL_ACCESS_ALL_RESOURCES) == 0),
	           "a statement with an unknown resource type");
	FUZZ_CHECK(si.compartment && veil_name_check(si.compartment, "compartment", NULL) == VEIL_OK,
	           "a statement with an invalid compartment");
	FUZZ_CHECK(si.any_user ? si.ngroups == 0 : si.ngroups >= 1 && si.ngroups <= VEIL_POLICY_MAX_GROUPS,
	           "a statement with a wrong number of groups");
	for (size_t g = 0; g < si.ngroups; g++)
		FUZZ_CHECK(veil_name_check(si.groups[g], "group", NULL) == VEIL_OK, "an invalid group name");
	FUZZ_CHECK(si.nconditions <= VEIL_POLICY_MAX_CONDITIONS, "too many conditions");

	veil_policy *again = NULL;
	veil_err err = {0};
	veil_status st = veil_policy_parse(si.text, strlen(si.text), &again, &err);
	FUZZ_CHECK(st == VEIL_OK, "a statement's own text does not parse");
	FUZZ_CHECK(veil_policy_count(again) == 1, "a statement's own text is not one statement");
	veil_statement_info si2;
	veil_policy_statement(again, 0, &si2);
	FUZZ_CHECK(si2.line == 1, "a statement's own text does not start on line 1");
	same_statement(&si, &si2);
	veil_policy_free(again);
}

static const char *const path[] = {"tenancy", "clinical", "oncology"};
static const char *const groups[] = {"a", "admins", "data-scientists"};
static const veil_access_tag tags[] = {{"env", "prod"}, {"project", "x"}};

static bool decide(const veil_policy *p, veil_access_request *r, bool full)
{
	veil_policy_ref ref = {p, "fuzz", 1, full ? "tenancy" : "clinical"};
	veil_access_decision d;
	seen s = {0};
	veil_err err = {0};
	veil_status st = veil_access_decide(&ref, 1, r, &d, trace, &s, &err);
	FUZZ_CHECK(st == VEIL_OK, "a well-formed request was refused");
	FUZZ_CHECK(s.n == veil_policy_count(p), "not every statement was traced");
	FUZZ_CHECK(d.reason[0] != '\0', "a decision without a reason");
	FUZZ_CHECK(!d.allowed || d.by_statement, "allowed without a statement");
	if (d.by_statement) {
		veil_statement_info si;
		FUZZ_CHECK(d.policy == 0 && d.statement < veil_policy_count(p),
		           "a decision names no statement");
		veil_policy_statement(p, d.statement, &si);
		FUZZ_CHECK(si.deny != d.allowed, "a decision by a statement of the other effect");
		FUZZ_CHECK(s.m[d.statement] == VEIL_MATCH_YES,
		           "a decision by a statement that did not apply");
		FUZZ_CHECK(strstr(d.reason, si.text) != NULL || strlen(d.reason) == VEIL_ERR_MSG_MAX - 1,
		           "a reason that does not quote its statement");
	}
	return d.allowed;
}

static void decisions(const veil_policy *p)
{
	int64_t now = 1781566200; /* 2026-06-15T23:30:00Z */
	for (int variant = 0; variant < 4; variant++) {
		bool full = variant & 1;
		bool allowed[VEIL_VERB_MANAGE + 1];
		for (veil_verb v = VEIL_VERB_INSPECT; v <= VEIL_VERB_MANAGE; v++) {
			veil_access_request r = {
			        .principal = "alice",
			        .principal_kind = "user",
			        .groups = groups,
			        .ngroups = sizeof groups / sizeof groups[0],
			        .verb = v,
			        .resource_type = variant & 2 ? "keys" : "datasets",
			        .compartment_path = path,
			        .ncompartments = 3,
			        .time = now,
			};
			if (full) { /* every attribute present */
				r.operation = "data show";
				r.name = "ecg";
				r.classification = "restricted";
				r.owner = "alice";
				r.region = "eu-west";
				r.request_region = "eu-west";
				r.tags = tags;
				r.ntags = sizeof tags / sizeof tags[0];
			}
			allowed[v] = decide(p, &r, full);
			if (v > VEIL_VERB_INSPECT && allowed[v])
				FUZZ_CHECK(allowed[v - 1], "a verb is allowed but a lesser one is not");
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	veil_policy *p = (veil_policy *)&size; /* must come back NULL on failure */
	veil_err err = {0};
	veil_status st = veil_policy_parse((const char *)data, size, &p, &err);
	fuzz_note("policy", st, &err);
	if (st) {
		FUZZ_CHECK(err.code == st && err.msg[0] != '\0', "a failure without an error message");
		FUZZ_CHECK(p == NULL, "a failed parse left a policy");
		if (size > VEIL_POLICY_MAX_BYTES)
			FUZZ_CHECK(st == VEIL_E_LIMIT, "an oversized policy was not refused as too large");
		else
			FUZZ_CHECK(st == VEIL_E_INVALID && strncmp(err.msg, "line ", 5) == 0 &&
			                   strstr(err.msg, ", column "),
			           "a syntax error without its line and column");
		return 0;
	}
	size_t n = veil_policy_count(p);
	FUZZ_CHECK(n >= 1 && n <= VEIL_POLICY_MAX_STATEMENTS, "a policy with a wrong number of statements");
	unsigned last_line = 0;
	for (size_t i = 0; i < n; i++)
		check_statement(p, i, &last_line);
	veil_access_names names = {NULL, yes, yes, yes2};
	st = veil_policy_check(p, VEIL_ACCESS_TENANCY, &names, &err);
	FUZZ_CHECK(st == VEIL_OK, "a policy was refused although every name exists");
	decisions(p);
	veil_policy_free(p);
	return 0;
}
