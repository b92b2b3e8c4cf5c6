/* Unit tests for the access module: the policy language (every construct,
 * folding, comments, CRLF, each syntax error with its line and column, the
 * limits), the decision (a hand-written matrix of principals x resource
 * types x verbs over nested compartments, unknown attributes, three-valued
 * any/all, traces and reasons), veil_policy_check's name resolution, and
 * API tokens (shape, refusals, a SHA-256 vector, constant-time matching). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "veil/access.h"
#include "veil/crypto.h"

/* ---- helpers ---- */

static veil_policy *parse_ok(const char *text)
{
	veil_policy *p = NULL;
	veil_err e = {0};
	if (veil_policy_parse(text, strlen(text), &p, &e) != VEIL_OK)
		fail_msg("policy refused: %s (%s)\n%s", e.msg, e.hint, text);
	assert_non_null(p);
	return p;
}

static void stmt(const veil_policy *p, size_t i, veil_statement_info *si)
{
	assert_true(i < veil_policy_count(p));
	veil_policy_statement(p, i, si);
}

/* ---- the parser ---- */

static void test_parse_constructs(void **state)
{
	(void)state;
	const char *text =
	        "# every construct once\n"
	        "Allow group data-scientists to use datasets in compartment oncology\n"
	        "  where target.classification != 'restricted'\n"
	        "Deny any-user to manage keys in tenancy where request.region != 'eu-west'\n"
	        "ALLOW group a,b , c.d_e to inspect all-resources in tenancy\n"
	        "deny group a to read audit-events in compartment tenancy where all {\n"
	        "    target.tag.env = 'prod', target.owner = request.principal,\n"
	        "    request.utc-timestamp after '2026-01-01', request.utc-timestamp before "
	        "'2026-12-31T00:00:00Z',\n"
	        "    request.utc-timestamp.time-of-day between '22:00:00Z' and '06:00:00Z' }\n"
	        "Allow any-user to read workspace in tenancy where any{request.principal.kind='worker',"
	        "request.operation = 'job run',target.name=target.owner,target.region = request.region,"
	        "target.compartment='x',target.classification = ''}\n";
	veil_policy *p = parse_ok(text);
	assert_int_equal(veil_policy_count(p), 5);
	veil_statement_info si;

	stmt(p, 0, &si);
	assert_false(si.deny);
	assert_int_equal(si.line, 2);
	assert_string_equal(si.text,
	                    "Allow group data-scientists to use datasets in compartment oncology where "
	                    "target.classification != 'restricted'");
	assert_false(si.any_user);
	assert_int_equal(si.ngroups, 1);
	assert_string_equal(si.groups[0], "data-scientists");
	assert_int_equal(si.verb, VEIL_VERB_USE);
	assert_string_equal(si.resource_type, "datasets");
	assert_string_equal(si.compartment, "oncology");
	assert_int_equal(si.nconditions, 1);

	stmt(p, 1, &si);
	assert_true(si.deny);
	assert_int_equal(si.line, 4);
	assert_true(si.any_user);
	assert_int_equal(si.ngroups, 0);
	assert_int_equal(si.verb, VEIL_VERB_MANAGE);
	assert_string_equal(si.resource_type, "keys");
	assert_string_equal(si.compartment, VEIL_ACCESS_TENANCY);

	stmt(p, 2, &si);
	assert_false(si.deny); /* "ALLOW": the effect is case-insensitive */
	assert_int_equal(si.line, 5);
	assert_int_equal(si.ngroups, 3);
	assert_string_equal(si.groups[0], "a");
	assert_string_equal(si.groups[1], "b");
	assert_string_equal(si.groups[2], "c.d_e");
	assert_int_equal(si.verb, VEIL_VERB_INSPECT);
	assert_string_equal(si.resource_type, VEIL_ACCESS_ALL_RESOURCES);
	assert_int_equal(si.nconditions, 0);
	/* Spacing inside a line is kept; only runs of blanks become one. */
	assert_string_equal(si.text, "ALLOW group a,b , c.d_e to inspect all-resources in tenancy");

	stmt(p, 3, &si);
	assert_true(si.deny);
	assert_int_equal(si.line, 6);
	assert_string_equal(si.compartment, "tenancy");
	assert_string_equal(si.resource_type, "audit-events");
	assert_int_equal(si.nconditions, 5);
	assert_string_equal(si.text, "deny group a to read audit-events in compartment tenancy where all { "
	                             "target.tag.env = 'prod', target.owner = request.principal, "
	                             "request.utc-timestamp after '2026-01-01', request.utc-timestamp before "
	                             "'2026-12-31T00:00:00Z', request.utc-timestamp.time-of-day between "
	                             "'22:00:00Z' and '06:00:00Z' }");

	stmt(p, 4, &si);
	assert_int_equal(si.line, 10);
	assert_int_equal(si.nconditions, 6);
	assert_string_equal(si.resource_type, "workspace");

	/* Out of range: a zeroed view. */
	veil_policy_statement(p, 5, &si);
	assert_null(si.text);
	veil_policy_free(p);
	veil_policy_free(NULL);
	assert_int_equal(veil_policy_count(NULL), 0);
}

static void test_parse_folding_comments_crlf(void **state)
{
	(void)state;
	/* Comments anywhere outside strings, blank lines inside a folded
	 * statement, tabs, CRLF and a last line without a line break. */
	const char *text = "# header comment\r\n"
	                   "\r\n"
	                   "Allow group ops # who\r\n"
	                   "\t# a comment line inside the statement\r\n"
	                   "\r\n"
	                   "\tto read # what\r\n"
	                   "        keys in compartment k1 where target.name = 'a # not a comment'\r\n"
	                   "   # an indented comment line between statements\r\n"
	                   "Deny any-user to inspect jobs in tenancy";
	veil_policy *p = parse_ok(text);
	assert_int_equal(veil_policy_count(p), 2);
	veil_statement_info si;
	stmt(p, 0, &si);
	assert_int_equal(si.line, 3);
	assert_string_equal(si.text, "Allow group ops to read keys in compartment k1 where target.name = "
	                             "'a # not a comment'");
	stmt(p, 1, &si);
	assert_int_equal(si.line, 9);
	assert_string_equal(si.text, "Deny any-user to inspect jobs in tenancy");
	veil_policy_free(p);

	/* The same policy with LF only gives the same statements. */
	const char *lf = "Allow group ops\n    to read keys in compartment k1\nDeny any-user to inspect jobs "
	                 "in tenancy\n";
	p = parse_ok(lf);
	assert_int_equal(veil_policy_count(p), 2);
	stmt(p, 0, &si);
	assert_string_equal(si.text, "Allow group ops to read keys in compartment k1");
	veil_policy_free(p);

	/* A text need not be NUL-terminated: only len bytes are read. */
	char buf[64];
	const char *one = "Allow any-user to read keys in tenancy";
	snprintf(buf, sizeof buf, "%s garbage", one); /* parsed: only up to the end of one */
	veil_err e = {0};
	assert_int_equal(veil_policy_parse(buf, strlen(one), &p, &e), VEIL_OK);
	assert_int_equal(veil_policy_count(p), 1);
	veil_policy_free(p);
}

typedef struct err_case {
	const char *text;
	const char *msg;  /* exact */
	const char *hint; /* a substring of the hint, or NULL */
} err_case;

static const err_case err_cases[] = {
        {"Allow group a manage keys in tenancy", "line 1, column 15: expected 'to', found 'manage'", NULL},
        {"Allow group a to manage keys", "line 1, column 29: expected 'in', found the end of the statement",
         NULL},
        {"Allow group a to manage keys\nDeny any-user to read jobs in tenancy",
         "line 1, column 29: expected 'in', found the end of the statement", NULL},
        {"Allow group a to fly keys in tenancy",
         "line 1, column 18: unknown verb 'fly': expected inspect, read, use or manage", "lowercase"},
        {"Allow group a to Manage keys in tenancy",
         "line 1, column 18: unknown verb 'Manage': expected inspect, read, use or manage", NULL},
        {"Allow group a to read cats in tenancy", "line 1, column 23: unknown resource type 'cats'",
         "datasets, keys, models, jobs, deployments, principals, groups, compartments, policies, "
         "audit-events "
         "and workspace, or all-resources"},
        {"Allow group a to read keys in tenancy now",
         "line 1, column 39: expected 'where' or the end of the statement, found 'now'", NULL},
        {"Allow group a to read keys in tenancy\n  where target.name = 'x' extra",
         "line 2, column 27: expected the end of the statement, found 'extra'", "all { a, b }"},
        {"Allow group a to read keys in tenancy where target.name = 'abc",
         "line 1, column 59: this string is not closed before the end of the line", "single quotes"},
        {"Allow group a to read keys in tenancy where target.name = 'abc\n  def'",
         "line 1, column 59: this string is not closed before the end of the line", NULL},
        {"Allow group a to read keys in tenancy where any { target.name = 'a'",
         "line 1, column 68: expected ',' or '}', found the end of the statement", NULL},
        {"Allow group a to read keys in tenancy where any { target.name = 'a',\nDeny any-user to read keys "
         "in "
         "tenancy",
         "line 1, column 69: expected a variable (target.* or request.*), found the end of the statement",
         NULL},
        {"Allow group a to read keys in tenancy where any { }",
         "line 1, column 51: expected a variable (target.* or request.*), found '}'", NULL},
        {"Allow group a to read keys in tenancy where any target.name = 'a'",
         "line 1, column 49: expected '{', found 'target.name'", NULL},
        {"Allow group a to read keys in tenancy where any { all { target.name = 'a' } }",
         "line 1, column 51: any { } and all { } do not nest: they hold clauses only", NULL},
        {"Allow group a to read keys in tenancy where target.colour = 'red'",
         "line 1, column 45: unknown variable 'target.colour'", "target.tag.KEY"},
        {"Allow group a to read keys in tenancy where request.groups = 'x'",
         "line 1, column 45: unknown variable 'request.groups'", NULL},
        {"Allow group a to read keys in tenancy where",
         "line 1, column 44: expected a variable (target.* or request.*), found the end of the statement",
         NULL},
        {"Allow group a to read keys in tenancy where target.name before '2026-01-01'",
         "line 1, column 57: 'before' applies to request.utc-timestamp only; target.name takes '=' or '!='",
         NULL},
        {"Allow group a to read keys in tenancy where target.tag.env after '2026-01-01'",
         "line 1, column 60: 'after' applies to request.utc-timestamp only; target.tag.env takes '=' or '!='",
         NULL},
        {"Allow group a to read keys in tenancy where request.region between '01:00:00Z' and '02:00:00Z'",
         "line 1, column 60: 'between' applies to request.utc-timestamp.time-of-day only; request.region "
         "takes "
         "'=' or '!='",
         NULL},
        {"Allow group a to read keys in tenancy where request.utc-timestamp = '2026-01-01'",
         "line 1, column 67: request.utc-timestamp takes 'before' or 'after' and a time", NULL},
        {"Allow group a to read keys in tenancy where request.utc-timestamp.time-of-day != '01:00:00Z'",
         "line 1, column 79: request.utc-timestamp.time-of-day takes 'between' and two times of day", NULL},
        {"Allow group a to read keys in tenancy where request.utc-timestamp before '2026-02-30T00:00:00Z'",
         "line 1, column 74: '2026-02-30T00:00:00Z' is not a time", "2026-11-22T13:49:21Z"},
        {"Allow group a to read keys in tenancy where request.utc-timestamp before request.region",
         "line 1, column 74: expected a time in quotes ('2026-12-31T00:00:00Z'), found 'request.region'",
         NULL},
        {"Allow group a to read keys in tenancy where request.utc-timestamp.time-of-day between '24:00:00Z' "
         "and "
         "'01:00:00Z'",
         "line 1, column 87: '24:00:00Z' is not a time of day", "HH:MM:SSZ"},
        {"Allow group a to read keys in tenancy where request.utc-timestamp.time-of-day between '01:00:00' "
         "and "
         "'02:00:00Z'",
         "line 1, column 87: '01:00:00' is not a time of day", NULL},
        {"Allow group a to read keys in tenancy where request.utc-timestamp.time-of-day between '01:00:00Z' "
         "'02:00:00Z'",
         "line 1, column 99: expected 'and', found a string", NULL},
        {"Allow group a to read keys in tenancy where request.utc-timestamp.time-of-day between '01:00:00Z' "
         "and "
         "'01:00:00Z'",
         "line 1, column 103: the range is empty: it starts and ends at the same time", "whole day"},
        {"Allow group a to read keys in tenancy where target.name = request.utc-timestamp",
         "line 1, column 59: request.utc-timestamp is a time and cannot be compared with '='", NULL},
        {"Allow group a to read keys in tenancy where target.name = 5",
         "line 1, column 59: unknown variable '5'", NULL},
        {"Allow group a to read keys in tenancy where target.name 'x'",
         "line 1, column 57: expected an operator (=, !=, before, after or between), found a string", NULL},
        {"Allow group a to read keys in tenancy where target.name ! 'x'",
         "line 1, column 57: expected '!=' (a lone '!' means nothing)", NULL},
        {"Allow group a to read keys in tenancy where target.name = \"x\"",
         "line 1, column 59: unexpected character '\"'", "single quotes"},
        {"Allow group a to read keys in tenancy where target.tag.-x = 'y'",
         "line 1, column 56: tag key must not start with '.' or '-'", NULL},
        {"Allow group a to read keys in tenancy where target.name = 'tab\there'",
         "line 1, column 63: a tab is not allowed in a string", NULL},
        {"  Allow group a to read keys in tenancy",
         "line 1, column 3: expected a statement starting with 'Allow' or 'Deny' in column 1",
         "continues the statement above"},
        {"Allow group a to read keys in tenancy\nwhere target.name = 'x'",
         "line 2, column 1: expected 'Allow' or 'Deny' to start a statement, found 'where'", "indent a line"},
        {"Permit group a to read keys in tenancy",
         "line 1, column 1: expected 'Allow' or 'Deny' to start a statement, found 'Permit'", NULL},
        {"Allow Group a to read keys in tenancy",
         "line 1, column 7: expected 'group' or 'any-user', found 'Group'", "lowercase"},
        {"Allow group a TO read keys in tenancy", "line 1, column 15: expected 'to', found 'TO'",
         "lowercase"},
        {"Allow group a to read keys In tenancy", "line 1, column 28: expected 'in', found 'In'", NULL},
        {"Allow group a to read keys in Tenancy",
         "line 1, column 31: expected 'tenancy' or 'compartment', found 'Tenancy'", "lowercase"},
        {"Allow group a to read keys in compartment",
         "line 1, column 42: expected a compartment name, found the end of the statement", NULL},
        {"Allow group a to read keys in compartment .hidden",
         "line 1, column 43: compartment name must not start with '.' or '-'", NULL},
        {"Allow group -x to read keys in tenancy",
         "line 1, column 13: group name must not start with '.' or '-'", NULL},
        {"Allow group to read keys in tenancy", "line 1, column 16: expected 'to', found 'read'", NULL},
        {"Allow group a, to read keys in tenancy", "line 1, column 19: expected 'to', found 'read'", NULL},
        {"Allow group a, , b to read keys in tenancy", "line 1, column 16: expected a group name, found ','",
         NULL},
        {"Allow group a, b, a to read keys in tenancy", "line 1, column 19: group 'a' is named twice", NULL},
        {"Allow group 'a' to read keys in tenancy",
         "line 1, column 13: expected a group name, found a string", NULL},
        {"Allow group a to read keys in tenancy ; x", "line 1, column 39: unexpected character ';'", NULL},
        {"Allow", "line 1, column 6: expected 'group' or 'any-user', found the end of the statement", NULL},
        {"",
         "line 1, column 1: expected a statement starting with 'Allow' or 'Deny', found the end of the "
         "policy",
         "at least one statement"},
        {"# only a comment\n\n   \n",
         "line 4, column 1: expected a statement starting with 'Allow' or 'Deny', found the end of the "
         "policy",
         NULL},
        {"Allow group a to read keys in tenancy\r",
         "line 1, column 38: a carriage return must be followed by a line "
         "feed",
         NULL},
        {"Allow group a to read keys in tenancy # caf\xc3\xa9",
         "line 1, column 44: byte 0xc3 is not allowed in a "
         "policy",
         "printable ASCII"},
        {"Allow group a to read keys in tenancy where target.name = 'caf\xc3\xa9'",
         "line 1, column 63: byte 0xc3 is not allowed in a policy", NULL},
        {"Allow group a to read keys in tenancy\x7f",
         "line 1, column 38: byte 0x7f is not allowed in a policy", NULL},
        {"Allow group a to read keys in tenancy # \x1b[8m hidden",
         "line 1, column 41: byte 0x1b is not allowed in "
         "a policy",
         NULL},
};

static void test_parse_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
		const err_case *c = &err_cases[i];
		veil_policy *p = (veil_policy *)1;
		veil_err e = {0};
		veil_status st = veil_policy_parse(c->text, strlen(c->text), &p, &e);
		if (st != VEIL_E_INVALID)
			fail_msg("case %zu: status %d, not VEIL_E_INVALID\n%s", i, (int)st, c->text);
		assert_null(p);
		assert_int_equal(e.code, VEIL_E_INVALID);
		if (strcmp(e.msg, c->msg) != 0)
			fail_msg("case %zu:\n  got:  %s\n  want: %s", i, e.msg, c->msg);
		if (c->hint && !strstr(e.hint, c->hint))
			fail_msg("case %zu: hint '%s' lacks '%s'", i, e.hint, c->hint);
	}
}

static void test_parse_nul(void **state)
{
	(void)state;
	/* NUL inside a statement, a string and a comment: all refused, at their place. */
	static const struct {
		const char *text;
		size_t len;
		const char *msg;
	} cases[] = {
	        {"Allow any-user to read keys in tenancy\0", 39,
	         "line 1, column 39: a NUL byte is not allowed in a policy"},
	        {"Allow any-user to\0read keys in tenancy", 38,
	         "line 1, column 18: a NUL byte is not allowed in a policy"},
	        {"Allow any-user to read keys in tenancy where target.name = 'a\0b'", 65,
	         "line 1, column 62: a NUL byte is not allowed in a policy"},
	        {"Allow any-user to read keys in tenancy\n# x\0y\n", 46,
	         "line 2, column 4: a NUL byte is not allowed in a policy"},
	        /* Not a NUL, but the same table: a byte order mark is named as one. */
	        {"\xef\xbb\xbf"
	         "Allow any-user to read keys in tenancy\n",
	         42, "line 1, column 1: the file starts with a UTF-8 byte order mark"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		veil_policy *p = NULL;
		veil_err e = {0};
		assert_int_equal(veil_policy_parse(cases[i].text, cases[i].len, &p, &e), VEIL_E_INVALID);
		assert_null(p);
		assert_string_equal(e.msg, cases[i].msg);
	}
	veil_policy *p = NULL;
	veil_err e = {0};
	assert_int_equal(veil_policy_parse(NULL, 4, &p, &e), VEIL_E_INVALID);
	assert_int_equal(veil_policy_parse("x", 1, NULL, &e), VEIL_E_INVALID);
}

/* Appends n copies of line to a fresh buffer. */
static char *repeat(const char *head, const char *line, size_t n, const char *tail)
{
	size_t len = strlen(head) + n * strlen(line) + strlen(tail) + 1;
	char *s = malloc(len);
	assert_non_null(s);
	size_t off = (size_t)snprintf(s, len, "%s", head);
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(s + off, len - off, "%s", line);
	snprintf(s + off, len - off, "%s", tail);
	return s;
}

static void expect_refused(const char *text, const char *msg)
{
	veil_policy *p = NULL;
	veil_err e = {0};
	assert_int_equal(veil_policy_parse(text, strlen(text), &p, &e), VEIL_E_INVALID);
	assert_null(p);
	assert_string_equal(e.msg, msg);
}

static void test_parse_limits(void **state)
{
	(void)state;
	/* Statements: 256 accepted, 257 refused at the 257th. */
	const char *line = "Allow group a to read keys in tenancy\n";
	char *s = repeat("", line, VEIL_POLICY_MAX_STATEMENTS, "");
	veil_policy *p = parse_ok(s);
	assert_int_equal(veil_policy_count(p), VEIL_POLICY_MAX_STATEMENTS);
	veil_statement_info si;
	stmt(p, 255, &si);
	assert_int_equal(si.line, 256);
	veil_policy_free(p);
	free(s);
	s = repeat("", line, VEIL_POLICY_MAX_STATEMENTS + 1, "");
	expect_refused(s, "line 257, column 1: too many statements: a policy holds at most 256");
	free(s);

	/* Groups: 16 accepted, the 17th refused where it starts. */
	s = strdup("Allow group a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, b0, b1, b2, b3, b4, b5 to read keys "
	           "in tenancy");
	p = parse_ok(s);
	stmt(p, 0, &si);
	assert_int_equal(si.ngroups, VEIL_POLICY_MAX_GROUPS);
	veil_policy_free(p);
	free(s);
	expect_refused("Allow group a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, b0, b1, b2, b3, b4, b5, b6 to "
	               "read keys in "
	               "tenancy",
	               "line 1, column 77: too many groups: a statement names at most 16");

	/* Conditions: 32 accepted, the 33rd refused where it starts. */
	s = repeat("Allow any-user to read keys in tenancy where all {\n target.name = 'x'",
	           ",\n target.name = 'x'", 31, " }");
	p = parse_ok(s);
	stmt(p, 0, &si);
	assert_int_equal(si.nconditions, VEIL_POLICY_MAX_CONDITIONS);
	veil_policy_free(p);
	free(s);
	s = repeat("Allow any-user to read keys in tenancy where all {\n target.name = 'x'",
	           ",\n target.name = 'x'", 32, " }");
	expect_refused(s, "line 34, column 2: too many conditions: a statement holds at most 32");
	free(s);

	/* Strings: 256 characters accepted, 257 refused. */
	char str[300];
	memset(str, 'v', 257);
	str[257] = '\0';
	char text[512];
	snprintf(text, sizeof text, "Allow any-user to read keys in tenancy where target.name = '%.256s'",
	         str);
	p = parse_ok(text);
	veil_policy_free(p);
	snprintf(text, sizeof text, "Allow any-user to read keys in tenancy where target.name = '%s'", str);
	expect_refused(text, "line 1, column 60: this string is longer than 256 characters");

	/* Names: 64 characters accepted, 65 refused. */
	memset(str, 'n', 65);
	str[65] = '\0';
	snprintf(text, sizeof text, "Allow group %.64s to read keys in tenancy", str);
	p = parse_ok(text);
	veil_policy_free(p);
	snprintf(text, sizeof text, "Allow group %s to read keys in tenancy", str);
	expect_refused(text, "line 1, column 13: group name must be 1 to 64 characters long");

	/* Size: at the limit, the text is read; one byte more is refused before reading. */
	size_t n = VEIL_POLICY_MAX_BYTES;
	char *big = malloc(n + 1);
	assert_non_null(big);
	const char *first = "Allow any-user to read keys in tenancy\n";
	memset(big, '#', n);
	memcpy(big, first, strlen(first)); // NOLINT(bugprone-not-null-terminated-result): a length is passed
	big[n] = '\n';
	veil_err e = {0};
	assert_int_equal(veil_policy_parse(big, n, &p, &e), VEIL_OK);
	assert_int_equal(veil_policy_count(p), 1);
	veil_policy_free(p);
	p = (veil_policy *)1;
	assert_int_equal(veil_policy_parse(big, n + 1, &p, &e), VEIL_E_LIMIT);
	assert_null(p);
	assert_string_equal(e.msg, "the policy is 65537 bytes; the limit is 65536");
	free(big);
}

/* ---- the decision matrix ----
 *
 * Compartments: tenancy > clinical > oncology, and tenancy > finance. The
 * target of every request is in oncology. Three policies are in force:
 * tenancy-base at tenancy, clinical-ops at clinical and finance at finance
 * (out of scope for a target in oncology). */

static const char policy_tenancy[] =
        "# Tenancy-wide: auditors read everything, keys are used from eu-west only.\n" /* 1 */
        "Allow group auditors to read all-resources in tenancy\n"                      /* 2  s0 */
        "Allow group auditors to manage audit-events in tenancy\n"                     /* 3  s1 */
        "    where request.utc-timestamp.time-of-day between '22:00:00Z' and '06:00:00Z'\n"
        "Deny any-user to use keys in tenancy where request.region != 'eu-west'\n" /* 5  s2 */
        "Allow group data-scientists to inspect all-resources in tenancy\n"        /* 6  s3 */
        "allow any-user to inspect workspace in tenancy\n"                         /* 7  s4 */
        "Deny group auditors to read keys in tenancy\n";                           /* 8  s5 */

static const char policy_clinical[] =
        "Allow group clinicians to use datasets in compartment clinical\n" /* 1  s0 */
        "  where target.classification != 'restricted'\n"
        "Allow group data-scientists to manage models in compartment oncology where "
        "target.owner = "
        "request.principal\n"                                                            /* 3  s1 */
        "Allow group data-scientists, clinicians to read jobs in compartment clinical\n" /* 4  s2
                                                                                          */
        "  where any { target.tag.project = 'tumor-board',\n"
        "              target.region = request.region }\n"
        "Deny group clinicians to manage datasets in compartment clinical where target.tag.hold "
        "= 'legal'\n" /* 7 s3 */
        "Allow any-user to use jobs in compartment oncology where request.principal.kind = "
        "'worker'\n"                                                /* 8 s4 */
        "Allow any-user to read datasets in compartment oncology\n" /* 9 s5 */
        "  where all { request.principal.kind = 'worker', request.operation = 'job run' }\n"
        "Allow group clinicians to manage datasets in compartment oncology\n" /* 11 s6 */
        "  where request.utc-timestamp before '2027-01-01T00:00:00Z'\n"
        "# Above the compartment this policy is attached to: never honoured.\n"
        "Allow any-user to manage all-resources in tenancy\n" /* 14 s7 */
        "Allow any-user to use keys in compartment clinical where request.principal.kind = "
        "'worker'\n"; /* 15 s8 */

static const char policy_finance[] =
        "Allow group finance-team to manage all-resources in compartment finance\n"
        "Deny any-user to inspect all-resources in compartment finance\n";

typedef struct who {
	const char *name;
	const char *kind;
	const char *groups[2];
	size_t ngroups;
	const char *region; /* request.region */
} who;

static const who people[] = {
        {"alice", "user", {"data-scientists", "clinicians"}, 2, "eu-west"},
        {"worker-7", "worker", {NULL, NULL}, 0, "us-east"},
        {"audrey", "user", {"auditors", NULL}, 1, "eu-west"},
        {"frank", "user", {"finance-team", NULL}, 1, "eu-west"},
};

/* Written out by hand from the policies above: for each principal and
 * type, whether inspect, read, use and manage are allowed (A) or not (-). */
static const struct {
	const char *who, *type, *expect;
} matrix[] = {
        /* alice: inspect everything (data-scientists); datasets up to use as a
         * clinician, manage allowed at line 11 but denied by the legal hold;
         * models she owns; jobs read through the any { } */
        {"alice", "datasets", "AAA-"},
        {"alice", "keys", "A---"},
        {"alice", "models", "AAAA"},
        {"alice", "jobs", "AA--"},
        {"alice", "deployments", "A---"},
        {"alice", "principals", "A---"},
        {"alice", "groups", "A---"},
        {"alice", "compartments", "A---"},
        {"alice", "policies", "A---"},
        {"alice", "audit-events", "A---"},
        {"alice", "workspace", "A---"},
        /* worker-7: in no group, running in us-east; keys up to use are
         * allowed to workers but use is denied outside eu-west */
        {"worker-7", "datasets", "AA--"},
        {"worker-7", "keys", "AA--"},
        {"worker-7", "models", "----"},
        {"worker-7", "jobs", "AAA-"},
        {"worker-7", "deployments", "----"},
        {"worker-7", "principals", "----"},
        {"worker-7", "groups", "----"},
        {"worker-7", "compartments", "----"},
        {"worker-7", "policies", "----"},
        {"worker-7", "audit-events", "----"},
        {"worker-7", "workspace", "A---"},
        /* audrey (auditors): read everything but keys; audit events at night */
        {"audrey", "datasets", "AA--"},
        {"audrey", "keys", "A---"},
        {"audrey", "models", "AA--"},
        {"audrey", "jobs", "AA--"},
        {"audrey", "deployments", "AA--"},
        {"audrey", "principals", "AA--"},
        {"audrey", "groups", "AA--"},
        {"audrey", "compartments", "AA--"},
        {"audrey", "policies", "AA--"},
        {"audrey", "audit-events", "AAAA"},
        {"audrey", "workspace", "AA--"},
        /* frank (finance-team): his policy is attached to finance */
        {"frank", "datasets", "----"},
        {"frank", "keys", "----"},
        {"frank", "models", "----"},
        {"frank", "jobs", "----"},
        {"frank", "deployments", "----"},
        {"frank", "principals", "----"},
        {"frank", "groups", "----"},
        {"frank", "compartments", "----"},
        {"frank", "policies", "----"},
        {"frank", "audit-events", "----"},
        {"frank", "workspace", "A---"},
};

static const char *const onco_path[] = {"tenancy", "clinical", "oncology"};
static const veil_access_tag onco_tags[] = {{"project", "tumor-board"}, {"hold", "legal"}};

typedef struct world {
	veil_policy *pol[3];
	veil_policy_ref refs[3];
	int64_t now;
} world;

static int world_setup(void **state)
{
	world *w = calloc(1, sizeof *w);
	if (!w)
		return -1;
	const char *texts[3] = {policy_tenancy, policy_clinical, policy_finance};
	const char *names[3] = {"tenancy-base", "clinical-ops", "finance"};
	const char *at[3] = {"tenancy", "clinical", "finance"};
	const uint32_t versions[3] = {3, 2, 1};
	for (int i = 0; i < 3; i++) {
		veil_err e = {0};
		if (veil_policy_parse(texts[i], strlen(texts[i]), &w->pol[i], &e) != VEIL_OK) {
			fprintf(stderr, "# policy %d: %s\n", i, e.msg);
			return -1;
		}
		w->refs[i] = (veil_policy_ref){w->pol[i], names[i], versions[i], at[i]};
	}
	if (veil_time_parse("2026-06-15T23:30:00Z", &w->now, NULL) != VEIL_OK)
		return -1;
	*state = w;
	return 0;
}

static int world_teardown(void **state)
{
	world *w = *state;
	for (int i = 0; i < 3; i++)
		veil_policy_free(w->pol[i]);
	free(w);
	return 0;
}

static veil_access_request request_for(const world *w, const who *p, const char *type, veil_verb verb)
{
	return (veil_access_request){
	        .principal = p->name,
	        .principal_kind = p->kind,
	        .groups = p->groups,
	        .ngroups = p->ngroups,
	        .verb = verb,
	        .resource_type = type,
	        .operation = "job run",
	        .name = "ecg-2026",
	        .compartment_path = onco_path,
	        .ncompartments = 3,
	        .classification = "confidential",
	        .owner = "alice",
	        .region = "eu-west",
	        .tags = onco_tags,
	        .ntags = 2,
	        .request_region = p->region,
	        .time = w->now,
	};
}

typedef struct trace_log {
	size_t n;
	size_t policy[64], statement[64];
	veil_access_match m[64];
	char detail[64][128];
} trace_log;

static void record(void *ctx, size_t policy, size_t statement, veil_access_match m, const char *detail)
{
	trace_log *t = ctx;
	assert_true(t->n < 64);
	assert_non_null(detail);
	t->policy[t->n] = policy;
	t->statement[t->n] = statement;
	t->m[t->n] = m;
	snprintf(t->detail[t->n], sizeof t->detail[0], "%s", detail);
	t->n++;
}

static const who *person(const char *name)
{
	for (size_t i = 0; i < sizeof people / sizeof people[0]; i++)
		if (strcmp(people[i].name, name) == 0)
			return &people[i];
	fail_msg("no principal %s", name);
	return NULL;
}

static veil_access_decision decide(const world *w, const char *name, const char *type, veil_verb verb,
                                   trace_log *t)
{
	veil_access_request r = request_for(w, person(name), type, verb);
	veil_access_decision d;
	veil_err e = {0};
	if (veil_access_decide(w->refs, 3, &r, &d, t ? record : NULL, t, &e) != VEIL_OK)
		fail_msg("decide failed: %s", e.msg);
	return d;
}

static void test_matrix(void **state)
{
	world *w = *state;
	/* The table covers every principal and every type, once. */
	assert_int_equal(sizeof matrix / sizeof matrix[0],
	                 (sizeof people / sizeof people[0]) * veil_access_nresource_types);
	size_t unexpected = 0;
	for (size_t i = 0; i < sizeof matrix / sizeof matrix[0]; i++) {
		assert_true(veil_access_resource_type_known(matrix[i].type));
		assert_string_equal(matrix[i].type,
		                    veil_access_resource_types[i % veil_access_nresource_types]);
		for (veil_verb v = VEIL_VERB_INSPECT; v <= VEIL_VERB_MANAGE; v++) {
			trace_log t = {0};
			veil_access_decision d = decide(w, matrix[i].who, matrix[i].type, v, &t);
			bool want = matrix[i].expect[v - 1] == 'A';
			if (d.allowed != want) {
				print_error("%s %s %s: %s, expected %s (%s)\n", matrix[i].who,
				            veil_verb_name(v), matrix[i].type,
				            d.allowed ? "ALLOWED" : "denied", want ? "allowed" : "denied",
				            d.reason);
				unexpected++;
			}
			/* Every statement of every policy is traced, in order. */
			assert_int_equal(t.n, 6 + 9 + 2);
			for (size_t k = 0; k < t.n; k++) {
				size_t pol = k < 6 ? 0 : k < 15 ? 1 : 2;
				size_t st = k < 6 ? k : k < 15 ? k - 6 : k - 15;
				assert_int_equal(t.policy[k], pol);
				assert_int_equal(t.statement[k], st);
			}
			/* finance's policy and the statement above clinical never count. */
			assert_int_equal(t.m[15], VEIL_MATCH_COMPARTMENT);
			assert_int_equal(t.m[16], VEIL_MATCH_COMPARTMENT);
			assert_int_equal(t.m[6 + 7], VEIL_MATCH_COMPARTMENT);
			assert_true(d.allowed ? d.by_statement : true);
		}
	}
	assert_int_equal(unexpected, 0);
}

static void test_matrix_reasons(void **state)
{
	world *w = *state;
	trace_log t = {0};

	/* A Deny overrides an Allow (the one at line 11, which applies too). */
	veil_access_decision d = decide(w, "alice", "datasets", VEIL_VERB_MANAGE, &t);
	assert_false(d.allowed);
	assert_true(d.by_statement);
	assert_int_equal(d.policy, 1);
	assert_int_equal(d.statement, 3);
	assert_string_equal(d.reason,
	                    "denied by policy 'clinical-ops' v2 line 7: Deny group clinicians to manage "
	                    "datasets in compartment clinical where target.tag.hold = 'legal'");
	assert_int_equal(t.m[6 + 6], VEIL_MATCH_YES); /* the Allow at line 11 applied too */
	assert_int_equal(t.m[6 + 3], VEIL_MATCH_YES);
	assert_string_equal(t.detail[6 + 3], "its condition holds: target.tag.hold is 'legal'");

	/* An Allow whose condition compares two variables. */
	d = decide(w, "alice", "models", VEIL_VERB_MANAGE, NULL);
	assert_true(d.allowed);
	assert_int_equal(d.policy, 1);
	assert_int_equal(d.statement, 1);
	assert_string_equal(d.reason,
	                    "allowed by policy 'clinical-ops' v2 line 3: Allow group data-scientists to "
	                    "manage models in compartment oncology where target.owner = request.principal");

	/* The first applying Allow decides (line 6 before line 7). */
	d = decide(w, "alice", "workspace", VEIL_VERB_INSPECT, NULL);
	assert_true(d.allowed);
	assert_int_equal(d.policy, 0);
	assert_int_equal(d.statement, 3);
	assert_string_equal(d.reason,
	                    "allowed by policy 'tenancy-base' v3 line 6: Allow group data-scientists to "
	                    "inspect all-resources in tenancy");

	/* A Deny of use also denies manage; its text was on one line. */
	memset(&t, 0, sizeof t);
	d = decide(w, "worker-7", "keys", VEIL_VERB_MANAGE, &t);
	assert_false(d.allowed);
	assert_int_equal(d.policy, 0);
	assert_int_equal(d.statement, 2);
	assert_string_equal(d.reason,
	                    "denied by policy 'tenancy-base' v3 line 5: Deny any-user to use keys in tenancy "
	                    "where request.region != 'eu-west'");
	assert_int_equal(t.m[6 + 8], VEIL_MATCH_VERB); /* use keys granted, manage asked */
	assert_string_equal(t.detail[6 + 8], "it grants use and lesser verbs; manage was asked");
	/* ... and read is not denied by it. */
	memset(&t, 0, sizeof t);
	d = decide(w, "worker-7", "keys", VEIL_VERB_READ, &t);
	assert_true(d.allowed);
	assert_int_equal(d.statement, 8);
	assert_int_equal(t.m[2], VEIL_MATCH_VERB);
	assert_string_equal(t.detail[2], "it denies use and greater verbs; read was asked");
	assert_int_equal(t.m[0], VEIL_MATCH_SUBJECT);
	assert_string_equal(t.detail[0], "worker-7 is in none of the groups auditors");

	/* A Deny at read wins over the Allow of read all-resources. */
	d = decide(w, "audrey", "keys", VEIL_VERB_READ, NULL);
	assert_false(d.allowed);
	assert_int_equal(d.policy, 0);
	assert_int_equal(d.statement, 5);

	/* Time of day, wrapping past midnight: 23:30 is inside 22:00-06:00. */
	memset(&t, 0, sizeof t);
	d = decide(w, "audrey", "audit-events", VEIL_VERB_MANAGE, &t);
	assert_true(d.allowed);
	assert_int_equal(d.statement, 1);
	assert_string_equal(t.detail[1],
	                    "its condition holds: request.utc-timestamp.time-of-day is 23:30:00Z");

	/* No statement: the default deny names what was asked. */
	memset(&t, 0, sizeof t);
	d = decide(w, "frank", "datasets", VEIL_VERB_INSPECT, &t);
	assert_false(d.allowed);
	assert_false(d.by_statement);
	assert_string_equal(d.reason,
	                    "denied: no statement allows inspect on datasets in compartment oncology");
	assert_string_equal(t.detail[15], "its policy is attached to finance, not above the target");
	assert_string_equal(t.detail[6 + 7],
	                    "the statement is for tenancy, above clinical where its policy is attached");
	assert_int_equal(t.m[6 + 5], VEIL_MATCH_CONDITION_FALSE);
	assert_string_equal(t.detail[6 + 5], "request.principal.kind is 'user'");
	assert_int_equal(t.m[6 + 4], VEIL_MATCH_TYPE);
	assert_string_equal(t.detail[6 + 4], "the statement is for jobs; the request is for datasets");
	assert_int_equal(t.m[6 + 0], VEIL_MATCH_SUBJECT);
	assert_int_equal(t.m[4], VEIL_MATCH_TYPE);
	assert_string_equal(t.detail[4], "the statement is for workspace; the request is for datasets");

	/* all { } false on its second clause. */
	memset(&t, 0, sizeof t);
	veil_access_request r = request_for(w, person("worker-7"), "datasets", VEIL_VERB_READ);
	r.operation = "data download";
	veil_err e = {0};
	assert_int_equal(veil_access_decide(w->refs, 3, &r, &d, record, &t, &e), VEIL_OK);
	assert_false(d.allowed);
	assert_int_equal(t.m[6 + 5], VEIL_MATCH_CONDITION_FALSE);
	assert_string_equal(t.detail[6 + 5], "request.operation is 'data download'");

	/* The same target in clinical: the oncology statements do not reach up. */
	static const char *const clinical_path[] = {"tenancy", "clinical"};
	memset(&t, 0, sizeof t);
	r = request_for(w, person("alice"), "models", VEIL_VERB_MANAGE);
	r.compartment_path = clinical_path;
	r.ncompartments = 2;
	assert_int_equal(veil_access_decide(w->refs, 3, &r, &d, record, &t, &e), VEIL_OK);
	assert_false(d.allowed);
	assert_string_equal(d.reason, "denied: no statement allows manage on models in compartment clinical");
	assert_int_equal(t.m[6 + 1], VEIL_MATCH_COMPARTMENT);
	assert_string_equal(t.detail[6 + 1],
	                    "the statement is for compartment oncology; the target is in compartment "
	                    "clinical");

	/* A target in tenancy itself. */
	static const char *const root_path[] = {"tenancy"};
	r = request_for(w, person("frank"), "keys", VEIL_VERB_READ);
	r.compartment_path = root_path;
	r.ncompartments = 1;
	assert_int_equal(veil_access_decide(w->refs, 3, &r, &d, NULL, NULL, &e), VEIL_OK);
	assert_string_equal(d.reason, "denied: no statement allows read on keys in tenancy");

	/* Outside the time window (12:00): audrey keeps read, loses manage. */
	r = request_for(w, person("audrey"), "audit-events", VEIL_VERB_MANAGE);
	r.time = w->now - 11 * 3600 - 30 * 60;
	assert_int_equal(veil_access_decide(w->refs, 3, &r, &d, NULL, NULL, &e), VEIL_OK);
	assert_false(d.allowed);
	r.verb = VEIL_VERB_READ;
	assert_int_equal(veil_access_decide(w->refs, 3, &r, &d, NULL, NULL, &e), VEIL_OK);
	assert_true(d.allowed);
	assert_int_equal(d.statement, 0);

	/* After the before-date, alice's manage on datasets has no Allow left. */
	memset(&t, 0, sizeof t);
	r = request_for(w, person("alice"), "datasets", VEIL_VERB_MANAGE);
	r.time = w->now + 365 * 86400;
	assert_int_equal(veil_access_decide(w->refs, 3, &r, &d, record, &t, &e), VEIL_OK);
	assert_int_equal(t.m[6 + 6], VEIL_MATCH_CONDITION_FALSE);
	assert_string_equal(t.detail[6 + 6], "request.utc-timestamp is 2027-06-15T23:30:00Z");
}

/* ---- unknown attributes and three-valued logic ---- */

static veil_policy *one(const char *text)
{
	return parse_ok(text);
}

static veil_access_request plain(void)
{
	return (veil_access_request){
	        .principal = "p",
	        .verb = VEIL_VERB_READ,
	        .resource_type = "datasets",
	        .compartment_path = onco_path,
	        .ncompartments = 3,
	};
}

static veil_access_match decide_one(const veil_policy *p, const veil_access_request *r, size_t which,
                                    veil_access_decision *d)
{
	veil_policy_ref ref = {p, "t", 1, "tenancy"};
	trace_log t = {0};
	veil_err e = {0};
	assert_int_equal(veil_access_decide(&ref, 1, r, d, record, &t, &e), VEIL_OK);
	assert_int_equal(t.n, veil_policy_count(p));
	return t.m[which];
}

static void test_unknown_attributes(void **state)
{
	(void)state;
	veil_access_decision d;
	/* Allow needs true: absent is not enough. */
	veil_policy *p =
	        one("Allow any-user to read datasets in tenancy where target.classification = 'public'");
	veil_access_request r = plain();
	assert_int_equal(decide_one(p, &r, 0, &d), VEIL_MATCH_CONDITION_UNKNOWN);
	assert_false(d.allowed);
	assert_false(d.by_statement);
	r.classification = "public";
	assert_int_equal(decide_one(p, &r, 0, &d), VEIL_MATCH_YES);
	assert_true(d.allowed);
	r.classification = "Public"; /* exact, case-sensitive */
	assert_int_equal(decide_one(p, &r, 0, &d), VEIL_MATCH_CONDITION_FALSE);
	assert_false(d.allowed);
	veil_policy_free(p);

	/* Deny applies unless false: absent denies (fail closed). */
	p = one("Allow any-user to read datasets in tenancy\n"
	        "Deny any-user to read datasets in tenancy where target.owner != 'alice'");
	r = plain();
	assert_int_equal(decide_one(p, &r, 1, &d), VEIL_MATCH_YES);
	assert_false(d.allowed);
	assert_true(d.by_statement);
	assert_int_equal(d.statement, 1);
	r.owner = "alice";
	assert_int_equal(decide_one(p, &r, 1, &d), VEIL_MATCH_CONDITION_FALSE);
	assert_true(d.allowed);
	assert_int_equal(d.statement, 0);
	r.owner = "bob";
	assert_int_equal(decide_one(p, &r, 1, &d), VEIL_MATCH_YES);
	assert_false(d.allowed);
	veil_policy_free(p);

	/* With the tag set known, a tag the target does not carry reads as
	 * empty (false here); with tags unknown (NULL) it is unknown. An absent
	 * variable operand is unknown. */
	p = one("Allow any-user to read datasets in tenancy where target.tag.env = 'prod'\n"
	        "Allow any-user to read datasets in tenancy where target.region = request.region\n"
	        "Allow any-user to read datasets in tenancy where target.name = 'n'\n"
	        "Allow any-user to read datasets in tenancy where request.principal.kind = 'user'\n"
	        "Allow any-user to read datasets in tenancy where request.operation = 'op'\n"
	        "Allow any-user to read datasets in tenancy where request.principal = 'p'\n");
	r = plain();
	static const veil_access_tag other[] = {{"team", "prod"}};
	r.tags = other;
	r.ntags = 1;
	r.region = "eu";
	assert_int_equal(decide_one(p, &r, 0, &d), VEIL_MATCH_CONDITION_FALSE);
	r.tags = NULL;
	r.ntags = 0;
	assert_int_equal(decide_one(p, &r, 0, &d), VEIL_MATCH_CONDITION_UNKNOWN);
	r.tags = other;
	r.ntags = 1;
	assert_int_equal(decide_one(p, &r, 1, &d), VEIL_MATCH_CONDITION_UNKNOWN);
	assert_int_equal(decide_one(p, &r, 2, &d), VEIL_MATCH_CONDITION_UNKNOWN);
	assert_int_equal(decide_one(p, &r, 3, &d), VEIL_MATCH_CONDITION_UNKNOWN);
	assert_int_equal(decide_one(p, &r, 4, &d), VEIL_MATCH_CONDITION_UNKNOWN);
	assert_int_equal(decide_one(p, &r, 5, &d), VEIL_MATCH_YES);
	assert_int_equal(d.statement, 5);
	r.principal = NULL;
	assert_int_equal(decide_one(p, &r, 5, &d), VEIL_MATCH_CONDITION_UNKNOWN);
	assert_false(d.allowed);
	static const veil_access_tag env[] = {{"team", "x"}, {"env", "prod"}};
	r.tags = env;
	r.ntags = 2;
	r.request_region = "eu";
	r.name = "n";
	assert_int_equal(decide_one(p, &r, 0, &d), VEIL_MATCH_YES);
	assert_int_equal(decide_one(p, &r, 1, &d), VEIL_MATCH_YES);
	assert_int_equal(decide_one(p, &r, 2, &d), VEIL_MATCH_YES);
	r.request_region = "us";
	assert_int_equal(decide_one(p, &r, 1, &d), VEIL_MATCH_CONDITION_FALSE);
	veil_policy_free(p);

	/* target.compartment is the last entry of the path, never absent. */
	p = one("Allow any-user to read datasets in tenancy where target.compartment = 'oncology'\n"
	        "Allow any-user to read datasets in tenancy where target.compartment = 'clinical'");
	r = plain();
	assert_int_equal(decide_one(p, &r, 0, &d), VEIL_MATCH_YES);
	assert_int_equal(decide_one(p, &r, 1, &d), VEIL_MATCH_CONDITION_FALSE);
	veil_policy_free(p);
}

/* One clause per attribute: target.owner = 'x' and target.region = 'x';
 * 'T' sets the attribute to x, 'F' to y, 'U' leaves it absent. */
static veil_access_match three_valued(const veil_policy *p, char a, char b, bool *allowed)
{
	veil_access_request r = plain();
	r.owner = a == 'T' ? "x" : a == 'F' ? "y" : NULL;
	r.region = b == 'T' ? "x" : b == 'F' ? "y" : NULL;
	veil_access_decision d;
	veil_access_match m = decide_one(p, &r, 0, &d);
	*allowed = d.allowed;
	return m;
}

static void test_three_valued(void **state)
{
	(void)state;
	veil_policy *any = one("Allow any-user to read datasets in tenancy where any { target.owner = 'x', "
	                       "target.region = 'x' }");
	veil_policy *all = one("Allow any-user to read datasets in tenancy where all { target.owner = 'x', "
	                       "target.region = 'x' }");
	veil_policy *deny_any =
	        one("Deny any-user to read datasets in tenancy where any { target.owner = 'x', "
	            "target.region = 'x' }");
	/* Kleene's logic: rows are (a, b, any, all); T = applies, F = false, U = unknown. */
	static const char *const rows[] = {"TTTT", "TFTF", "FTTF", "TUTU", "UTTU",
	                                   "FFFF", "FUUF", "UFUF", "UUUU"};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const char *row = rows[i];
		veil_access_match want_any = row[2] == 'T'   ? VEIL_MATCH_YES
		                             : row[2] == 'F' ? VEIL_MATCH_CONDITION_FALSE
		                                             : VEIL_MATCH_CONDITION_UNKNOWN;
		veil_access_match want_all = row[3] == 'T'   ? VEIL_MATCH_YES
		                             : row[3] == 'F' ? VEIL_MATCH_CONDITION_FALSE
		                                             : VEIL_MATCH_CONDITION_UNKNOWN;
		bool allowed;
		if (three_valued(any, row[0], row[1], &allowed) != want_any)
			fail_msg("any { %c, %c } should be %c", row[0], row[1], row[2]);
		assert_true(allowed == (row[2] == 'T'));
		if (three_valued(all, row[0], row[1], &allowed) != want_all)
			fail_msg("all { %c, %c } should be %c", row[0], row[1], row[3]);
		assert_true(allowed == (row[3] == 'T'));
		/* The Deny applies exactly when the any { } is not false. */
		veil_access_match dm = three_valued(deny_any, row[0], row[1], &allowed);
		assert_int_equal(dm, row[2] == 'F' ? VEIL_MATCH_CONDITION_FALSE : VEIL_MATCH_YES);
		assert_false(allowed);
	}
	veil_policy_free(any);
	veil_policy_free(all);
	veil_policy_free(deny_any);
}

static void test_time_conditions(void **state)
{
	(void)state;
	veil_policy *p = one(
	        "Allow any-user to read datasets in tenancy where request.utc-timestamp before "
	        "'2026-12-31T00:00:00Z'\n"
	        "Allow any-user to read datasets in tenancy where request.utc-timestamp after '2026-12-31'\n"
	        "Allow any-user to read datasets in tenancy where request.utc-timestamp.time-of-day "
	        "between '09:00:00Z' and '17:00:00Z'\n"
	        "Allow any-user to read datasets in tenancy where request.utc-timestamp.time-of-day "
	        "between '22:00:00Z' and '06:00:00Z'\n");
	int64_t t0;
	assert_int_equal(veil_time_parse("2026-12-31T00:00:00Z", &t0, NULL), VEIL_OK);
	veil_access_request r = plain();
	veil_access_decision d;
	struct {
		int64_t t;
		veil_access_match m[4];
	} cases[] = {
	        /* before and after are strict */
	        {t0 - 1,
	         {VEIL_MATCH_YES, VEIL_MATCH_CONDITION_FALSE, VEIL_MATCH_CONDITION_FALSE, VEIL_MATCH_YES}},
	        {t0,
	         {VEIL_MATCH_CONDITION_FALSE, VEIL_MATCH_CONDITION_FALSE, VEIL_MATCH_CONDITION_FALSE,
	          VEIL_MATCH_YES}},
	        {t0 + 1,
	         {VEIL_MATCH_CONDITION_FALSE, VEIL_MATCH_YES, VEIL_MATCH_CONDITION_FALSE, VEIL_MATCH_YES}},
	        /* [09:00, 17:00): start in, end out */
	        {t0 + 9 * 3600,
	         {VEIL_MATCH_CONDITION_FALSE, VEIL_MATCH_YES, VEIL_MATCH_YES, VEIL_MATCH_CONDITION_FALSE}},
	        {t0 + 17 * 3600 - 1,
	         {VEIL_MATCH_CONDITION_FALSE, VEIL_MATCH_YES, VEIL_MATCH_YES, VEIL_MATCH_CONDITION_FALSE}},
	        {t0 + 17 * 3600,
	         {VEIL_MATCH_CONDITION_FALSE, VEIL_MATCH_YES, VEIL_MATCH_CONDITION_FALSE,
	          VEIL_MATCH_CONDITION_FALSE}},
	        /* [22:00, 06:00) wraps past midnight */
	        {t0 + 22 * 3600,
	         {VEIL_MATCH_CONDITION_FALSE, VEIL_MATCH_YES, VEIL_MATCH_CONDITION_FALSE, VEIL_MATCH_YES}},
	        {t0 + 6 * 3600 - 1,
	         {VEIL_MATCH_CONDITION_FALSE, VEIL_MATCH_YES, VEIL_MATCH_CONDITION_FALSE, VEIL_MATCH_YES}},
	        {t0 + 6 * 3600,
	         {VEIL_MATCH_CONDITION_FALSE, VEIL_MATCH_YES, VEIL_MATCH_CONDITION_FALSE,
	          VEIL_MATCH_CONDITION_FALSE}},
	        /* before 1970, the time of day still counts from midnight: 23:00 */
	        {-3600,
	         {VEIL_MATCH_YES, VEIL_MATCH_CONDITION_FALSE, VEIL_MATCH_CONDITION_FALSE, VEIL_MATCH_YES}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		r.time = cases[i].t;
		for (size_t s = 0; s < 4; s++)
			if (decide_one(p, &r, s, &d) != cases[i].m[s])
				fail_msg("case %zu statement %zu: %s", i, s,
				         veil_access_match_name(decide_one(p, &r, s, &d)));
	}
	veil_policy_free(p);
}

static void test_decide_refuses(void **state)
{
	(void)state;
	veil_policy *p = one("Allow any-user to read datasets in tenancy");
	veil_policy_ref ref = {p, "t", 1, "tenancy"};
	veil_access_decision d;
	veil_err e = {0};
	veil_access_request r = plain();
	assert_int_equal(veil_access_decide(&ref, 1, &r, &d, NULL, NULL, &e), VEIL_OK);
	assert_true(d.allowed);

	r.verb = (veil_verb)0;
	assert_int_equal(veil_access_decide(&ref, 1, &r, &d, NULL, NULL, &e), VEIL_E_INVALID);
	assert_false(d.allowed);
	r.verb = (veil_verb)5;
	assert_int_equal(veil_access_decide(&ref, 1, &r, &d, NULL, NULL, &e), VEIL_E_INVALID);
	r = plain();
	r.resource_type = "all-resources"; /* not a concrete type */
	assert_int_equal(veil_access_decide(&ref, 1, &r, &d, NULL, NULL, &e), VEIL_E_INVALID);
	assert_false(d.allowed);
	r.resource_type = NULL;
	assert_int_equal(veil_access_decide(&ref, 1, &r, &d, NULL, NULL, &e), VEIL_E_INVALID);
	r = plain();
	r.ncompartments = 0;
	assert_int_equal(veil_access_decide(&ref, 1, &r, &d, NULL, NULL, &e), VEIL_E_INVALID);
	static const char *const rootless[] = {"clinical", "oncology"};
	r.compartment_path = rootless;
	r.ncompartments = 2;
	assert_int_equal(veil_access_decide(&ref, 1, &r, &d, NULL, NULL, &e), VEIL_E_INVALID);
	assert_false(d.allowed);
	r = plain();
	r.ngroups = 1;
	assert_int_equal(veil_access_decide(&ref, 1, &r, &d, NULL, NULL, &e), VEIL_E_INVALID);
	assert_int_equal(veil_access_decide(&ref, 1, NULL, &d, NULL, NULL, &e), VEIL_E_INVALID);
	r = plain();
	assert_int_equal(veil_access_decide(&ref, 1, &r, NULL, NULL, NULL, &e), VEIL_E_INVALID);
	ref.attached_to = NULL;
	assert_int_equal(veil_access_decide(&ref, 1, &r, &d, NULL, NULL, &e), VEIL_E_INVALID);

	/* No policies at all: denied, not an error. */
	assert_int_equal(veil_access_decide(NULL, 0, &r, &d, NULL, NULL, &e), VEIL_OK);
	assert_false(d.allowed);
	assert_false(d.by_statement);
	veil_policy_free(p);
}

static void test_names(void **state)
{
	(void)state;
	static const char *const want[] = {"datasets",    "keys",         "models",   "jobs",
	                                   "deployments", "principals",   "groups",   "compartments",
	                                   "policies",    "audit-events", "workspace"};
	assert_int_equal(veil_access_nresource_types, 11);
	for (size_t i = 0; i < 11; i++)
		assert_string_equal(veil_access_resource_types[i], want[i]);
	assert_false(veil_access_resource_type_known("all-resources"));
	assert_false(veil_access_resource_type_known("Datasets"));
	assert_false(veil_access_resource_type_known(NULL));

	veil_verb v;
	veil_err e = {0};
	assert_int_equal(veil_verb_parse("use", &v, &e), VEIL_OK);
	assert_int_equal(v, VEIL_VERB_USE);
	assert_int_equal(veil_verb_parse("Use", &v, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.hint, "inspect, read, use and manage"));
	assert_string_equal(veil_verb_name(VEIL_VERB_INSPECT), "inspect");
	assert_string_equal(veil_verb_name(VEIL_VERB_MANAGE), "manage");
	assert_string_equal(veil_verb_name((veil_verb)9), "?");
	assert_true(VEIL_VERB_INSPECT < VEIL_VERB_READ && VEIL_VERB_READ < VEIL_VERB_USE &&
	            VEIL_VERB_USE < VEIL_VERB_MANAGE);

	static const char *const matches[] = {"applies",          "subject",     "verb",
	                                      "resource-type",    "compartment", "condition-false",
	                                      "condition-unknown"};
	for (int m = VEIL_MATCH_YES; m <= VEIL_MATCH_CONDITION_UNKNOWN; m++)
		assert_string_equal(veil_access_match_name((veil_access_match)m), matches[m]);
}

/* ---- veil_policy_check ---- */

/* tenancy > clinical > oncology, tenancy > finance; groups admins, auditors. */
static bool group_exists(void *ctx, const char *g)
{
	(void)ctx;
	return strcmp(g, "admins") == 0 || strcmp(g, "auditors") == 0;
}

static const char *parent_of(const char *c)
{
	if (strcmp(c, "oncology") == 0)
		return "clinical";
	if (strcmp(c, "clinical") == 0 || strcmp(c, "finance") == 0)
		return "tenancy";
	return NULL;
}

static bool compartment_exists(void *ctx, const char *c)
{
	int *calls = ctx;
	(*calls)++;
	return parent_of(c) != NULL;
}

static bool compartment_within(void *ctx, const char *inner, const char *outer)
{
	for (const char *c = inner; c; c = parent_of(c))
		if (strcmp(c, outer) == 0)
			return true;
	return false;
}

static void check_err(const char *text, const char *at, const char *msg)
{
	int calls = 0;
	veil_access_names n = {&calls, group_exists, compartment_exists, compartment_within};
	veil_policy *p = parse_ok(text);
	veil_err e = {0};
	assert_int_equal(veil_policy_check(p, at, &n, &e), VEIL_E_INVALID);
	if (strcmp(e.msg, msg) != 0)
		fail_msg("got:  %s\nwant: %s", e.msg, msg);
	assert_true(e.hint[0] != '\0');
	veil_policy_free(p);
}

static void test_policy_check(void **state)
{
	(void)state;
	int calls = 0;
	veil_access_names n = {&calls, group_exists, compartment_exists, compartment_within};
	veil_err e = {0};
	veil_policy *p = parse_ok("Allow group admins to manage all-resources in compartment clinical\n"
	                          "Allow group auditors, admins to read datasets in compartment oncology\n"
	                          "Deny any-user to manage keys in compartment clinical\n");
	assert_int_equal(veil_policy_check(p, "clinical", &n, &e), VEIL_OK);
	assert_int_equal(veil_policy_check(p, "tenancy", &n, &e), VEIL_OK);
	veil_policy_free(p);

	p = parse_ok("Allow group admins to manage all-resources in tenancy");
	calls = 0;
	assert_int_equal(veil_policy_check(p, "tenancy", &n, &e), VEIL_OK);
	assert_int_equal(calls, 0); /* tenancy always exists */
	veil_policy_free(p);

	check_err("Allow group admins to read keys in compartment clinical\n"
	          "Allow group admins, ghosts to read keys in compartment clinical\n",
	          "clinical", "line 2: group 'ghosts' does not exist");
	check_err("Allow group admins to read keys in compartment clinical\n"
	          "\n"
	          "Deny any-user to read keys in compartment nowhere\n",
	          "tenancy", "line 3: compartment 'nowhere' does not exist");
	check_err(
	        "Allow group admins to read keys in compartment oncology\n"
	        "Allow group admins to read keys in compartment finance\n",
	        "clinical",
	        "line 2: compartment 'finance' is outside compartment 'clinical' the policy is attached to");
	check_err(
	        "Allow group admins to read keys in compartment clinical\n", "oncology",
	        "line 1: compartment 'clinical' is outside compartment 'oncology' the policy is attached to");
	check_err("Allow group admins to read keys in tenancy\n", "clinical",
	          "line 1: tenancy is outside compartment 'clinical' the policy is attached to");
	check_err("Allow group admins to read keys in compartment clinical\n", "elsewhere",
	          "compartment 'elsewhere', where the policy is to be attached, does not exist");

	p = parse_ok("Allow group admins to read keys in tenancy");
	assert_int_equal(veil_policy_check(p, "tenancy", NULL, &e), VEIL_E_INVALID);
	veil_access_names partial = {NULL, group_exists, NULL, compartment_within};
	assert_int_equal(veil_policy_check(p, "tenancy", &partial, &e), VEIL_E_INVALID);
	veil_policy_free(p);
}

/* ---- tokens ---- */

static bool all_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static const char ws_id[] = "0123456789abcdef0123456789abcdef";

static void test_token_new(void **state)
{
	(void)state;
	char *tok = veil_secure_alloc(VEIL_TOKEN_LEN + 1);
	char *tok2 = veil_secure_alloc(VEIL_TOKEN_LEN + 1);
	assert_non_null(tok);
	assert_non_null(tok2);
	char id[VEIL_TOKEN_ID_LEN + 1], id2[VEIL_TOKEN_ID_LEN + 1];
	uint8_t hash[VEIL_TOKEN_HASH_LEN], hash2[VEIL_TOKEN_HASH_LEN], h[VEIL_TOKEN_HASH_LEN];
	veil_err e = {0};
	assert_int_equal(veil_token_new(ws_id, tok, id, hash, &e), VEIL_OK);
	assert_int_equal(strlen(tok), VEIL_TOKEN_LEN);
	assert_memory_equal(tok, "vt1_", 4);
	assert_memory_equal(tok + 4, ws_id, 32);
	assert_int_equal(tok[36], '_');
	assert_memory_equal(tok + 37, id, VEIL_TOKEN_ID_LEN);
	assert_int_equal(strlen(id), VEIL_TOKEN_ID_LEN);
	assert_true(all_lower_hex(id, VEIL_TOKEN_ID_LEN));
	assert_int_equal(tok[53], '_');
	assert_true(all_lower_hex(tok + 54, 64));
	assert_int_equal(veil_sha256(tok, VEIL_TOKEN_LEN, h, &e), VEIL_OK);
	assert_memory_equal(h, hash, 32);

	char ws[33], pid[VEIL_TOKEN_ID_LEN + 1];
	assert_int_equal(veil_token_parse(tok, VEIL_TOKEN_LEN, ws, pid, &e), VEIL_OK);
	assert_string_equal(ws, ws_id);
	assert_string_equal(pid, id);
	assert_true(veil_token_matches(tok, VEIL_TOKEN_LEN, hash));

	/* Two tokens differ in id and secret. */
	assert_int_equal(veil_token_new(ws_id, tok2, id2, hash2, &e), VEIL_OK);
	assert_string_not_equal(id, id2);
	assert_memory_not_equal(tok + 54, tok2 + 54, 64);
	assert_memory_not_equal(hash, hash2, 32);
	assert_false(veil_token_matches(tok2, VEIL_TOKEN_LEN, hash));

	/* The workspace id must be 32 lowercase hex digits. */
	assert_int_equal(veil_token_new("0123456789ABCDEF0123456789abcdef", tok2, id2, hash2, &e),
	                 VEIL_E_INVALID);
	assert_int_equal(veil_token_new("0123", tok2, id2, hash2, &e), VEIL_E_INVALID);
	assert_int_equal(veil_token_new("0123456789abcdef0123456789abcdef0", tok2, id2, hash2, &e),
	                 VEIL_E_INVALID);
	veil_secure_free(tok, VEIL_TOKEN_LEN + 1);
	veil_secure_free(tok2, VEIL_TOKEN_LEN + 1);
}

/* printf %s TOKEN | sha256sum */
static const char vector_token[] = "vt1_0123456789abcdef0123456789abcdef_00112233aabbccdd_"
                                   "0000000011111111222222223333333344444444555555556666666677777777";
static const char vector_sha256[] = "e29b1acbf318e05080ee3ec1fde5c1016accf30ce647f6887d573e8bdfd66c4a";

static void test_token_vector(void **state)
{
	(void)state;
	assert_int_equal(strlen(vector_token), VEIL_TOKEN_LEN);
	uint8_t h[VEIL_TOKEN_HASH_LEN], want[VEIL_TOKEN_HASH_LEN];
	veil_err e = {0};
	assert_int_equal(veil_hex_decode(vector_sha256, want, sizeof want, &e), VEIL_OK);
	assert_int_equal(veil_token_hash(vector_token, VEIL_TOKEN_LEN, h, &e), VEIL_OK);
	assert_memory_equal(h, want, sizeof h);
	assert_true(veil_token_matches(vector_token, VEIL_TOKEN_LEN, want));
	char ws[33], id[VEIL_TOKEN_ID_LEN + 1];
	assert_int_equal(veil_token_parse(vector_token, VEIL_TOKEN_LEN, ws, id, &e), VEIL_OK);
	assert_string_equal(ws, "0123456789abcdef0123456789abcdef");
	assert_string_equal(id, "00112233aabbccdd");

	/* One changed character, a prefix, or a wrong stored hash: no match. */
	char t[VEIL_TOKEN_LEN + 1];
	memcpy(t, vector_token, sizeof t);
	t[VEIL_TOKEN_LEN - 1] = '8';
	assert_false(veil_token_matches(t, VEIL_TOKEN_LEN, want));
	assert_false(veil_token_matches(vector_token, VEIL_TOKEN_LEN - 1, want));
	want[31] ^= 1;
	assert_false(veil_token_matches(vector_token, VEIL_TOKEN_LEN, want));
	assert_false(veil_token_matches(NULL, 0, want));
}

static void expect_bad_token(const char *t, size_t len, const char *why)
{
	char ws[33] = "x", id[VEIL_TOKEN_ID_LEN + 1] = "x";
	veil_err e = {0};
	assert_int_equal(veil_token_parse(t, len, ws, id, &e), VEIL_E_AUTH);
	assert_int_equal(e.code, VEIL_E_AUTH);
	assert_string_equal(ws, "");
	assert_string_equal(id, "");
	if (!strstr(e.msg, why))
		fail_msg("'%s' lacks '%s'", e.msg, why);
	/* Never echo any part of the token. */
	assert_null(strstr(e.msg, "0123456789abcdef"));
	assert_null(strstr(e.msg, "00112233"));
	assert_null(strstr(e.msg, "44444444"));
	assert_null(strstr(e.hint, "00112233"));
}

static void test_token_parse_refuses(void **state)
{
	(void)state;
	char t[VEIL_TOKEN_LEN + 2];
	memcpy(t, vector_token, VEIL_TOKEN_LEN + 1);
	expect_bad_token(t, VEIL_TOKEN_LEN - 1, "wrong length"); /* short */
	expect_bad_token(t, 0, "wrong length");
	t[VEIL_TOKEN_LEN] = '0';
	t[VEIL_TOKEN_LEN + 1] = '\0';
	expect_bad_token(t, VEIL_TOKEN_LEN + 1, "wrong length"); /* long */

	static const struct {
		size_t at;
		char c;
		const char *why;
	} edits[] = {
	        {2, '2', "vt1_"},                           /* vt2_ */
	        {0, 'V', "vt1_"},                           /* VT1_ */
	        {3, '-', "vt1_"},                           /* vt1- */
	        {4, 'g', "lowercase hex"},                  /* workspace id not hex */
	        {35, 'A', "lowercase hex"},                 /* workspace id uppercase */
	        {36, '-', "separated"},                     /* first separator */
	        {40, 'F', "lowercase hex"},                 /* token id uppercase */
	        {53, ':', "separated"},                     /* second separator */
	        {54, 'A', "lowercase hex"},                 /* secret uppercase */
	        {VEIL_TOKEN_LEN - 1, 'z', "lowercase hex"}, /* secret not hex */
	        {100, '\0', "lowercase hex"},               /* a NUL inside */
	        {60, ' ', "lowercase hex"},
	};
	for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
		memcpy(t, vector_token, VEIL_TOKEN_LEN + 1);
		t[edits[i].at] = edits[i].c;
		expect_bad_token(t, VEIL_TOKEN_LEN, edits[i].why);
	}
	veil_err e = {0};
	char ws[33], id[VEIL_TOKEN_ID_LEN + 1];
	assert_int_equal(veil_token_parse(NULL, 0, ws, id, &e), VEIL_E_INVALID);
}

int main(void)
{
	if (veil_crypto_init(NULL) != VEIL_OK)
		return 1;
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse_constructs),
	        cmocka_unit_test(test_parse_folding_comments_crlf),
	        cmocka_unit_test(test_parse_errors),
	        cmocka_unit_test(test_parse_nul),
	        cmocka_unit_test(test_parse_limits),
	        cmocka_unit_test_setup_teardown(test_matrix, world_setup, world_teardown),
	        cmocka_unit_test_setup_teardown(test_matrix_reasons, world_setup, world_teardown),
	        cmocka_unit_test(test_unknown_attributes),
	        cmocka_unit_test(test_three_valued),
	        cmocka_unit_test(test_time_conditions),
	        cmocka_unit_test(test_decide_refuses),
	        cmocka_unit_test(test_names),
	        cmocka_unit_test(test_policy_check),
	        cmocka_unit_test(test_token_new),
	        cmocka_unit_test(test_token_vector),
	        cmocka_unit_test(test_token_parse_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
