/*
 * The policy language's reader (docs/formats/policy.md): a lexer that turns
 * the text into words, strings and punctuation while keeping track of
 * lines, columns and which tokens start a statement, and a recursive
 * descent parser over one statement at a time. Also the read-only view of
 * statements and veil_policy_check, which resolves a parsed policy's names
 * against the caller's catalog.
 *
 * The text is untrusted input (anyone who may attach a policy writes it),
 * so every count is bounded, every error names the line and column where
 * it was found, and only printable ASCII is accepted: what a reviewer sees
 * on screen is exactly what is evaluated (no control characters, no
 * look-alike or bidirectional Unicode).
 */
#include "access_int.h"

#include <stdlib.h>
#include <string.h>

/* The longest word echoed back in an error message. */
#define ECHO_MAX 40

typedef enum tok_type {
	T_EOF,
	T_WORD,   /* a run of [A-Za-z0-9._-]: keywords, names, variables */
	T_STRING, /* '...' (off/len include the quotes) */
	T_COMMA,
	T_LBRACE,
	T_RBRACE,
	T_EQ,
	T_NE,
} tok_type;

typedef struct tok {
	tok_type type;
	size_t off, len;    /* the token's bytes in the source */
	unsigned line, col; /* where it starts, 1-based */
	bool bol;           /* first token of its line, in column 1: starts a statement */
	bool space_before;  /* blanks, a line break or a comment separate it from the token before */
} tok;

typedef struct parser {
	const char *s;
	size_t len;
	size_t pos;                 /* the lexer's position */
	unsigned line, col;         /* ... as line and column */
	unsigned last_tok_line;     /* line of the token lexed before cur; 0 before the first */
	tok cur;                    /* the token being looked at */
	unsigned end_line, end_col; /* just past the last token consumed, for "found the end" errors */
	veil_policy *p;
	char *text; /* the current statement, collapsed (len + 1 bytes) */
	size_t tlen;
	acc_clause clauses[VEIL_POLICY_MAX_CONDITIONS]; /* the current statement's */
	veil_err *err;
} parser;

/* Sets a syntax error: "line L, column C: " and the message. */
VEIL_PRINTF(4, 5)
static void set_at(parser *ps, unsigned line, unsigned col, const char *fmt, ...)
{
	char msg[VEIL_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	veil_err_set(ps->err, VEIL_E_INVALID, "line %u, column %u: %s", line, col, msg);
}

/* set_at as an expression worth VEIL_E_INVALID, written so that the
 * static analyser sees the status (it does not look into variadic calls). */
#define FAIL_AT(ps, line, col, ...) (set_at((ps), (line), (col), __VA_ARGS__), VEIL_E_INVALID)

/* Rewrites an error from a helper (veil_name_check, veil_time_parse) as a
 * syntax error at line:col, keeping its hint. */
static void rewrap_at(parser *ps, unsigned line, unsigned col, const veil_err *inner)
{
	set_at(ps, line, col, "%s", inner->msg);
	if (inner->hint[0])
		veil_err_hint(ps->err, "%s", inner->hint);
}
#define WRAP_AT(ps, line, col, inner) (rewrap_at((ps), (line), (col), (inner)), VEIL_E_INVALID)

/* ---- lexer ---- */

static bool word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '_' || c == '-';
}

/* A byte that may appear in a comment or a string: printable ASCII or tab. */
static bool text_byte(unsigned char c)
{
	return (c >= 0x20 && c < 0x7f) || c == '\t';
}

static veil_status bad_byte(parser *ps)
{
	unsigned char c = (unsigned char)ps->s[ps->pos];
	if (c == 0)
		return FAIL_AT(ps, ps->line, ps->col, "a NUL byte is not allowed in a policy");
	if (c == '\r')
		return FAIL_AT(ps, ps->line, ps->col, "a carriage return must be followed by a line feed");
	if (ps->pos == 0 && ps->len >= 3 && memcmp(ps->s, "\xef\xbb\xbf", 3) == 0) {
		set_at(ps, 1, 1, "the file starts with a UTF-8 byte order mark");
		veil_err_hint(ps->err, "save it as plain ASCII, without a byte order mark");
		return VEIL_E_INVALID;
	}
	set_at(ps, ps->line, ps->col, "byte 0x%02x is not allowed in a policy", c);
	veil_err_hint(ps->err, "policies are printable ASCII, with tabs and line breaks (LF or CRLF)");
	return VEIL_E_INVALID;
}

/* Skips blanks, line breaks and comments; *space tells whether there were any. */
static veil_status skip_space(parser *ps, bool *space)
{
	while (ps->pos < ps->len) {
		char c = ps->s[ps->pos];
		if (c == ' ' || c == '\t') {
			ps->pos++;
			ps->col++;
		} else if (c == '\n' || (c == '\r' && ps->pos + 1 < ps->len && ps->s[ps->pos + 1] == '\n')) {
			ps->pos += c == '\r' ? 2 : 1;
			ps->line++;
			ps->col = 1;
		} else if (c == '#') {
			while (ps->pos < ps->len && ps->s[ps->pos] != '\n' &&
			       !(ps->s[ps->pos] == '\r' && ps->pos + 1 < ps->len &&
			         ps->s[ps->pos + 1] == '\n')) {
				if (!text_byte((unsigned char)ps->s[ps->pos]))
					return bad_byte(ps);
				ps->pos++;
				ps->col++;
			}
		} else {
			return VEIL_OK;
		}
		*space = true;
	}
	return VEIL_OK;
}

static veil_status lex_string(parser *ps, tok *t)
{
	size_t i = ps->pos + 1;
	while (i < ps->len && ps->s[i] != '\'') {
		if (ps->s[i] == '\n' || ps->s[i] == '\r')
			break;
		if (!text_byte((unsigned char)ps->s[i]) || ps->s[i] == '\t') {
			ps->col += (unsigned)(i - ps->pos);
			ps->pos = i;
			if (ps->s[i] == '\t')
				return FAIL_AT(ps, ps->line, ps->col, "a tab is not allowed in a string");
			return bad_byte(ps);
		}
		i++;
	}
	if (i >= ps->len || ps->s[i] != '\'') {
		set_at(ps, t->line, t->col, "this string is not closed before the end of the line");
		veil_err_hint(ps->err, "strings are in single quotes, on one line, and cannot hold a quote");
		return VEIL_E_INVALID;
	}
	if (i - ps->pos - 1 > ACC_STRING_MAX)
		return FAIL_AT(ps, t->line, t->col, "this string is longer than %d characters",
		               ACC_STRING_MAX);
	t->type = T_STRING;
	t->len = i + 1 - ps->pos;
	return VEIL_OK;
}

/* Reads the next token into ps->cur. */
static veil_status lex(parser *ps)
{
	bool space = false;
	veil_status st = skip_space(ps, &space);
	if (st)
		return st;
	tok t = {.type = T_EOF, .off = ps->pos, .line = ps->line, .col = ps->col, .space_before = space};
	t.bol = ps->line != ps->last_tok_line && ps->col == 1;
	if (ps->pos < ps->len) {
		char c = ps->s[ps->pos];
		if (word_char(c)) {
			size_t i = ps->pos;
			while (i < ps->len && word_char(ps->s[i]))
				i++;
			t.type = T_WORD;
			t.len = i - ps->pos;
		} else if (c == '\'') {
			if ((st = lex_string(ps, &t)))
				return st;
		} else if (c == ',' || c == '{' || c == '}' || c == '=') {
			t.type = c == ',' ? T_COMMA : c == '{' ? T_LBRACE : c == '}' ? T_RBRACE : T_EQ;
			t.len = 1;
		} else if (c == '!' && ps->pos + 1 < ps->len && ps->s[ps->pos + 1] == '=') {
			t.type = T_NE;
			t.len = 2;
		} else if (c == '!') {
			return FAIL_AT(ps, ps->line, ps->col, "expected '!=' (a lone '!' means nothing)");
		} else if (c > 0x20 && c < 0x7f) {
			set_at(ps, ps->line, ps->col, "unexpected character '%c'", c);
			veil_err_hint(
			        ps->err,
			        "names are letters, digits, '.', '_' and '-'; strings are in single quotes");
			return VEIL_E_INVALID;
		} else {
			return bad_byte(ps);
		}
	}
	ps->pos += t.len;
	ps->col += (unsigned)t.len;
	ps->last_tok_line = t.line;
	ps->cur = t;
	return VEIL_OK;
}

/* ---- parser helpers ---- */

/* Whether the statement being parsed has no more tokens. */
static bool at_end(const parser *ps)
{
	return ps->cur.type == T_EOF || ps->cur.bol;
}

static bool is_word(const parser *ps, const char *w)
{
	size_t n = strlen(w);
	return !at_end(ps) && ps->cur.type == T_WORD && ps->cur.len == n &&
	       memcmp(ps->s + ps->cur.off, w, n) == 0;
}

/* Case-insensitive: only Allow and Deny are spelled in any case. */
static bool is_word_ci(const parser *ps, const char *w)
{
	size_t n = strlen(w);
	if (ps->cur.type != T_WORD || ps->cur.len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = ps->s[ps->cur.off + i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != w[i])
			return false;
	}
	return true;
}

/* Appends the current token to the statement's text and reads the next. */
static veil_status consume(parser *ps)
{
	if (ps->tlen > 0 && ps->cur.space_before)
		ps->text[ps->tlen++] = ' ';
	memcpy(ps->text + ps->tlen, ps->s + ps->cur.off, ps->cur.len);
	ps->tlen += ps->cur.len;
	ps->end_line = ps->cur.line;
	ps->end_col = ps->cur.col + (unsigned)ps->cur.len;
	return lex(ps);
}

/* Says what the current token is, for "expected X, found Y". */
static void describe(const parser *ps, char *out, size_t outsz)
{
	const tok *t = &ps->cur;
	if (t->type == T_WORD)
		snprintf(out, outsz, "'%.*s'%s", (int)(t->len > ECHO_MAX ? ECHO_MAX : t->len), ps->s + t->off,
		         t->len > ECHO_MAX ? "..." : "");
	else if (t->type == T_STRING)
		snprintf(out, outsz, "a string");
	else if (t->type == T_EOF)
		snprintf(out, outsz, "the end of the policy");
	else
		snprintf(out, outsz, "'%.*s'", (int)t->len, ps->s + t->off);
}

/* "expected WHAT, found ...", at the current token or, when the statement
 * has ended, just after its last token. */
static veil_status expected(parser *ps, const char *what)
{
	if (at_end(ps))
		return FAIL_AT(ps, ps->end_line, ps->end_col, "expected %s, found the end of the statement",
		               what);
	char found[ECHO_MAX + 16];
	describe(ps, found, sizeof found);
	return FAIL_AT(ps, ps->cur.line, ps->cur.col, "expected %s, found %s", what, found);
}

/* expected() with the hint that keywords are lowercase when the word
 * would match in another case. */
static veil_status expected_kw(parser *ps, const char *what, const char *kw1, const char *kw2)
{
	bool other_case = (kw1 && is_word_ci(ps, kw1)) || (kw2 && is_word_ci(ps, kw2));
	expected(ps, what);
	if (other_case && !at_end(ps))
		veil_err_hint(ps->err, "keywords other than Allow and Deny are written in lowercase");
	return VEIL_E_INVALID;
}

static veil_status expect_word(parser *ps, const char *w)
{
	char what[32];
	if (!is_word(ps, w)) {
		snprintf(what, sizeof what, "'%s'", w);
		return expected_kw(ps, what, w, NULL);
	}
	return consume(ps);
}

static const char *arena_copy(veil_policy *p, const char *s, size_t n)
{
	/* veil_policy_parse sizes the arena for every copy a text can need. */
	if (p->arena_cap - p->arena_used < n + 1)
		return NULL;
	char *d = p->arena + p->arena_used;
	memcpy(d, s, n);
	d[n] = '\0';
	p->arena_used += n + 1;
	return d;
}

static veil_status arena_fail(parser *ps)
{
	veil_err_set(ps->err, VEIL_E_INTERNAL, "policy parser: string arena exhausted");
	return VEIL_E_INTERNAL;
}

/* Checks the word s[0..n) as veil_name_check does and copies it. */
static veil_status take_name(parser *ps, const char *s, size_t n, unsigned line, unsigned col,
                             const char *what, const char **out)
{
	char buf[VEIL_ACCESS_NAME_MAX];
	if (n >= sizeof buf)
		return FAIL_AT(ps, line, col, "%s must be 1 to 64 characters long", what);
	memcpy(buf, s, n);
	buf[n] = '\0';
	veil_err inner = {0};
	if (veil_name_check(buf, what, &inner) != VEIL_OK)
		return WRAP_AT(ps, line, col, &inner);
	if (!(*out = arena_copy(ps->p, s, n)))
		return arena_fail(ps);
	return VEIL_OK;
}

/* A name as the current token; what says which ("group name"). */
static veil_status parse_name(parser *ps, const char *what, const char **out)
{
	if (at_end(ps) || ps->cur.type != T_WORD) {
		char w[48];
		snprintf(w, sizeof w, "a %s", what);
		return expected(ps, w);
	}
	veil_status st =
	        take_name(ps, ps->s + ps->cur.off, ps->cur.len, ps->cur.line, ps->cur.col, what, out);
	return st ? st : consume(ps);
}

/* ---- statements ---- */

static veil_status parse_groups(parser *ps, acc_stmt *st)
{
	for (;;) {
		if (st->ngroups == VEIL_POLICY_MAX_GROUPS)
			return FAIL_AT(ps, ps->cur.line, ps->cur.col,
			               "too many groups: a statement names at most %d",
			               VEIL_POLICY_MAX_GROUPS);
		unsigned line = ps->cur.line, col = ps->cur.col;
		const char *g = NULL;
		veil_status s = parse_name(ps, "group name", &g);
		if (s)
			return s;
		for (size_t i = 0; i < st->ngroups; i++)
			if (strcmp(st->groups[i], g) == 0)
				return FAIL_AT(ps, line, col, "group '%s' is named twice", g);
		st->groups[st->ngroups++] = g;
		if (at_end(ps) || ps->cur.type != T_COMMA)
			return VEIL_OK;
		if ((s = consume(ps)))
			return s;
	}
}

static veil_status parse_verb(parser *ps, acc_stmt *st)
{
	if (at_end(ps) || ps->cur.type != T_WORD)
		return expected(ps, "a verb (inspect, read, use or manage)");
	for (veil_verb v = VEIL_VERB_INSPECT; v <= VEIL_VERB_MANAGE; v++) {
		if (is_word(ps, veil_verb_name(v))) {
			st->verb = v;
			return consume(ps);
		}
	}
	const tok *t = &ps->cur;
	set_at(ps, t->line, t->col, "unknown verb '%.*s': expected inspect, read, use or manage",
	       (int)(t->len > ECHO_MAX ? ECHO_MAX : t->len), ps->s + t->off);
	veil_err_hint(ps->err, "verbs are lowercase and ordered: each grants the ones before it");
	return VEIL_E_INVALID;
}

static veil_status parse_resource(parser *ps, acc_stmt *st)
{
	if (at_end(ps) || ps->cur.type != T_WORD)
		return expected(ps, "a resource type or all-resources");
	const tok *t = &ps->cur;
	if (!(st->resource_type = acc_resource_type_find(ps->s + t->off, t->len, true))) {
		set_at(ps, t->line, t->col, "unknown resource type '%.*s'",
		       (int)(t->len > ECHO_MAX ? ECHO_MAX : t->len), ps->s + t->off);
		veil_err_hint(ps->err,
		              "the resource types are datasets, keys, models, jobs, deployments, principals, "
		              "groups, compartments, policies, audit-events and workspace, or all-resources");
		return VEIL_E_INVALID;
	}
	return consume(ps);
}

static veil_status parse_location(parser *ps, acc_stmt *st)
{
	veil_status s = expect_word(ps, "in");
	if (s)
		return s;
	if (is_word(ps, "tenancy")) {
		st->compartment = VEIL_ACCESS_TENANCY;
		return consume(ps);
	}
	if (!is_word(ps, "compartment"))
		return expected_kw(ps, "'tenancy' or 'compartment'", "tenancy", "compartment");
	if ((s = consume(ps)))
		return s;
	return parse_name(ps, "compartment name", &st->compartment);
}

/* ---- conditions ---- */

static const struct {
	const char *name;
	acc_var_kind kind;
} variables[] = {
        {"target.name", ACC_VAR_TARGET_NAME},
        {"target.classification", ACC_VAR_TARGET_CLASSIFICATION},
        {"target.owner", ACC_VAR_TARGET_OWNER},
        {"target.region", ACC_VAR_TARGET_REGION},
        {"target.compartment", ACC_VAR_TARGET_COMPARTMENT},
        {"request.principal", ACC_VAR_REQUEST_PRINCIPAL},
        {"request.principal.kind", ACC_VAR_REQUEST_PRINCIPAL_KIND},
        {"request.region", ACC_VAR_REQUEST_REGION},
        {"request.operation", ACC_VAR_REQUEST_OPERATION},
        {"request.utc-timestamp", ACC_VAR_REQUEST_TIME},
        {"request.utc-timestamp.time-of-day", ACC_VAR_REQUEST_TIME_OF_DAY},
};

#define TAG_PREFIX "target.tag."

static bool is_time_var(acc_var_kind k)
{
	return k == ACC_VAR_REQUEST_TIME || k == ACC_VAR_REQUEST_TIME_OF_DAY;
}

static veil_status parse_variable(parser *ps, acc_var *out)
{
	if (at_end(ps) || ps->cur.type != T_WORD)
		return expected(ps, "a variable (target.* or request.*)");
	const tok *t = &ps->cur;
	const char *w = ps->s + t->off;
	for (size_t i = 0; i < sizeof variables / sizeof variables[0]; i++) {
		if (strlen(variables[i].name) == t->len && memcmp(variables[i].name, w, t->len) == 0) {
			*out = (acc_var){.kind = variables[i].kind};
			return consume(ps);
		}
	}
	size_t plen = strlen(TAG_PREFIX);
	if (t->len > plen && memcmp(w, TAG_PREFIX, plen) == 0) {
		*out = (acc_var){.kind = ACC_VAR_TARGET_TAG};
		veil_status s = take_name(ps, w + plen, t->len - plen, t->line, t->col + (unsigned)plen,
		                          "tag key", &out->key);
		return s ? s : consume(ps);
	}
	if (is_word(ps, "any") || is_word(ps, "all"))
		return FAIL_AT(ps, t->line, t->col,
		               "any { } and all { } do not nest: they hold clauses only");
	set_at(ps, t->line, t->col, "unknown variable '%.*s'", (int)(t->len > ECHO_MAX ? ECHO_MAX : t->len),
	       w);
	veil_err_hint(ps->err,
	              "variables: target.name, target.classification, target.owner, target.region, "
	              "target.compartment, target.tag.KEY, request.principal, request.principal.kind, "
	              "request.region, request.operation, request.utc-timestamp, "
	              "request.utc-timestamp.time-of-day");
	return VEIL_E_INVALID;
}

/* The current string token's contents (without quotes) in a buffer. */
static void string_value(const parser *ps, char out[ACC_STRING_MAX + 1])
{
	size_t n = ps->cur.len - 2;
	memcpy(out, ps->s + ps->cur.off + 1, n);
	out[n] = '\0';
}

static bool two_digits(const char *s, int max, int *out)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return false;
	*out = (s[0] - '0') * 10 + (s[1] - '0');
	return *out <= max;
}

/* 'HH:MM:SSZ' into seconds since midnight. */
static veil_status parse_tod(parser *ps, int32_t *out)
{
	if (at_end(ps) || ps->cur.type != T_STRING)
		return expected(ps, "a time of day in quotes ('HH:MM:SSZ')");
	char v[ACC_STRING_MAX + 1];
	string_value(ps, v);
	int h, m, s;
	if (strlen(v) != 9 || !two_digits(v, 23, &h) || v[2] != ':' || !two_digits(v + 3, 59, &m) ||
	    v[5] != ':' || !two_digits(v + 6, 59, &s) || v[8] != 'Z') {
		set_at(ps, ps->cur.line, ps->cur.col, "'%.40s' is not a time of day", v);
		veil_err_hint(ps->err, "write HH:MM:SSZ in UTC, from '00:00:00Z' to '23:59:59Z'");
		return VEIL_E_INVALID;
	}
	*out = h * 3600 + m * 60 + s;
	return consume(ps);
}

static veil_status parse_operand(parser *ps, acc_clause *c)
{
	veil_status s;
	if (c->op == ACC_OP_BEFORE || c->op == ACC_OP_AFTER) {
		if (at_end(ps) || ps->cur.type != T_STRING)
			return expected(ps, "a time in quotes ('2026-12-31T00:00:00Z')");
		char v[ACC_STRING_MAX + 1];
		string_value(ps, v);
		veil_err inner = {0};
		if (veil_time_parse(v, &c->time, &inner) != VEIL_OK)
			return WRAP_AT(ps, ps->cur.line, ps->cur.col, &inner);
		return consume(ps);
	}
	if (c->op == ACC_OP_BETWEEN) {
		if ((s = parse_tod(ps, &c->tod_from)) || (s = expect_word(ps, "and")))
			return s;
		unsigned line = ps->cur.line, col = ps->cur.col;
		if ((s = parse_tod(ps, &c->tod_to)))
			return s;
		if (c->tod_from == c->tod_to) {
			set_at(ps, line, col, "the range is empty: it starts and ends at the same time");
			veil_err_hint(ps->err, "to allow the whole day, leave the condition out");
			return VEIL_E_INVALID;
		}
		return VEIL_OK;
	}
	if (!at_end(ps) && ps->cur.type == T_STRING) {
		char v[ACC_STRING_MAX + 1];
		string_value(ps, v);
		if (!(c->str = arena_copy(ps->p, v, strlen(v))))
			return arena_fail(ps);
		return consume(ps);
	}
	if (at_end(ps) || ps->cur.type != T_WORD)
		return expected(ps, "a string in single quotes or a variable");
	unsigned line = ps->cur.line, col = ps->cur.col;
	c->rhs_is_var = true;
	if ((s = parse_variable(ps, &c->rhs_var)))
		return s;
	if (is_time_var(c->rhs_var.kind))
		return FAIL_AT(ps, line, col, "%s is a time and cannot be compared with '%s'",
		               acc_var_name(c->rhs_var.kind), c->op == ACC_OP_EQ ? "=" : "!=");
	return VEIL_OK;
}

static veil_status parse_clause(parser *ps, acc_clause *c)
{
	veil_status s = parse_variable(ps, &c->var);
	if (s)
		return s;
	unsigned line = ps->cur.line, col = ps->cur.col;
	if (!at_end(ps) && ps->cur.type == T_EQ)
		c->op = ACC_OP_EQ;
	else if (!at_end(ps) && ps->cur.type == T_NE)
		c->op = ACC_OP_NE;
	else if (is_word(ps, "before"))
		c->op = ACC_OP_BEFORE;
	else if (is_word(ps, "after"))
		c->op = ACC_OP_AFTER;
	else if (is_word(ps, "between"))
		c->op = ACC_OP_BETWEEN;
	else
		return expected(ps, "an operator (=, !=, before, after or between)");
	const char *var = acc_var_name(c->var.kind);
	if (c->var.kind == ACC_VAR_REQUEST_TIME && c->op != ACC_OP_BEFORE && c->op != ACC_OP_AFTER) {
		set_at(ps, line, col, "%s takes 'before' or 'after' and a time", var);
		veil_err_hint(ps->err, "e.g. request.utc-timestamp before '2026-12-31T00:00:00Z'");
		return VEIL_E_INVALID;
	}
	if (c->var.kind == ACC_VAR_REQUEST_TIME_OF_DAY && c->op != ACC_OP_BETWEEN) {
		set_at(ps, line, col, "%s takes 'between' and two times of day", var);
		veil_err_hint(ps->err,
		              "e.g. request.utc-timestamp.time-of-day between '08:00:00Z' and '18:00:00Z'");
		return VEIL_E_INVALID;
	}
	if (!is_time_var(c->var.kind) && (c->op == ACC_OP_BEFORE || c->op == ACC_OP_AFTER))
		return FAIL_AT(
		        ps, line, col, "'%s' applies to request.utc-timestamp only; %s%s takes '=' or '!='",
		        c->op == ACC_OP_BEFORE ? "before" : "after", var, c->var.key ? c->var.key : "");
	if (!is_time_var(c->var.kind) && c->op == ACC_OP_BETWEEN)
		return FAIL_AT(
		        ps, line, col,
		        "'between' applies to request.utc-timestamp.time-of-day only; %s%s takes '=' or '!='",
		        var, c->var.key ? c->var.key : "");
	if ((s = consume(ps)))
		return s;
	return parse_operand(ps, c);
}

static veil_status add_clause(parser *ps, acc_stmt *st)
{
	if (st->nclauses == VEIL_POLICY_MAX_CONDITIONS)
		return FAIL_AT(ps, ps->cur.line, ps->cur.col,
		               "too many conditions: a statement holds at most %d",
		               VEIL_POLICY_MAX_CONDITIONS);
	acc_clause *c = &ps->clauses[st->nclauses];
	memset(c, 0, sizeof *c);
	veil_status s = parse_clause(ps, c);
	if (s)
		return s;
	st->nclauses++;
	return VEIL_OK;
}

static veil_status parse_condition(parser *ps, acc_stmt *st)
{
	veil_status s;
	if (!is_word(ps, "any") && !is_word(ps, "all")) {
		st->combine = ACC_COND_ONE;
		return add_clause(ps, st);
	}
	st->combine = is_word(ps, "any") ? ACC_COND_ANY : ACC_COND_ALL;
	if ((s = consume(ps)))
		return s;
	if (at_end(ps) || ps->cur.type != T_LBRACE)
		return expected(ps, "'{'");
	if ((s = consume(ps)))
		return s;
	for (;;) {
		if ((s = add_clause(ps, st)))
			return s;
		if (!at_end(ps) && ps->cur.type == T_RBRACE)
			return consume(ps);
		if (at_end(ps) || ps->cur.type != T_COMMA)
			return expected(ps, "',' or '}'");
		if ((s = consume(ps)))
			return s;
	}
}

/* Adds the statement just parsed (and its clauses) to the policy. */
static veil_status commit_statement(parser *ps, acc_stmt *st)
{
	veil_policy *p = ps->p;
	if (!(st->text = arena_copy(p, ps->text, ps->tlen)))
		return arena_fail(ps);
	if (st->nclauses) {
		acc_clause *c = realloc(p->clauses, (p->nclauses + st->nclauses) * sizeof *c);
		if (!c)
			return veil_err_set(ps->err, VEIL_E_NOMEM, "out of memory reading a policy");
		p->clauses = c;
		memcpy(c + p->nclauses, ps->clauses, st->nclauses * sizeof *c);
	}
	st->first_clause = p->nclauses;
	p->nclauses += st->nclauses;
	if ((p->nstmts & (p->nstmts - 1)) == 0) { /* 0, 1, 2, 4, ...: grow by doubling */
		acc_stmt *n = realloc(p->stmts, (p->nstmts ? 2 * p->nstmts : 1) * sizeof *n);
		if (!n)
			return veil_err_set(ps->err, VEIL_E_NOMEM, "out of memory reading a policy");
		p->stmts = n;
	}
	p->stmts[p->nstmts++] = *st;
	return VEIL_OK;
}

static veil_status parse_statement(parser *ps)
{
	acc_stmt st = {.line = ps->cur.line};
	veil_status s;
	ps->tlen = 0;
	if (!is_word_ci(ps, "allow") && !is_word_ci(ps, "deny")) {
		char found[ECHO_MAX + 16];
		describe(ps, found, sizeof found);
		set_at(ps, ps->cur.line, ps->cur.col,
		       "expected 'Allow' or 'Deny' to start a statement, found %s", found);
		if (ps->p->nstmts > 0)
			veil_err_hint(ps->err, "indent a line to continue the statement above it");
		return VEIL_E_INVALID;
	}
	st.deny = is_word_ci(ps, "deny");
	if ((s = consume(ps)))
		return s;
	if (is_word(ps, "any-user")) {
		st.any_user = true;
		s = consume(ps);
	} else if (is_word(ps, "group")) {
		if (!(s = consume(ps)))
			s = parse_groups(ps, &st);
	} else {
		s = expected_kw(ps, "'group' or 'any-user'", "group", "any-user");
	}
	if (s || (s = expect_word(ps, "to")) || (s = parse_verb(ps, &st)) || (s = parse_resource(ps, &st)) ||
	    (s = parse_location(ps, &st)))
		return s;
	if (!at_end(ps)) {
		if (!is_word(ps, "where"))
			return expected_kw(ps, "'where' or the end of the statement", "where", NULL);
		if ((s = consume(ps)) || (s = parse_condition(ps, &st)))
			return s;
		if (!at_end(ps)) {
			expected(ps, "the end of the statement");
			veil_err_hint(ps->err,
			              "a statement has one condition; combine clauses with all { a, b } or "
			              "any { a, b }");
			return VEIL_E_INVALID;
		}
	}
	return commit_statement(ps, &st);
}

veil_status veil_policy_parse(const char *text, size_t len, veil_policy **out, veil_err *err)
{
	if (!out || (!text && len))
		return veil_err_set(err, VEIL_E_INVALID, "veil_policy_parse: missing text or output");
	*out = NULL;
	if (len > VEIL_POLICY_MAX_BYTES) {
		veil_err_set(err, VEIL_E_LIMIT, "the policy is %zu bytes; the limit is %u", len,
		             VEIL_POLICY_MAX_BYTES);
		veil_err_hint(err, "split it into several policies");
		return VEIL_E_LIMIT;
	}
	parser *ps = calloc(1, sizeof *ps);
	veil_policy *p = calloc(1, sizeof *p);
	/* Every string copied out is at most its token's length plus a NUL, and
	 * tokens do not overlap; each statement's text is at most its span of the
	 * source plus a NUL. So three times the text (plus NULs) always fits. */
	size_t cap = 3 * len + 2 * VEIL_POLICY_MAX_STATEMENTS + 16;
	char *arena = malloc(cap);
	char *tbuf = malloc(len + 1);
	veil_status st = VEIL_OK;
	if (!ps || !p || !arena || !tbuf) {
		st = veil_err_set(err, VEIL_E_NOMEM, "out of memory reading a policy");
		goto done;
	}
	p->arena = arena;
	p->arena_cap = cap;
	arena = NULL;
	*ps = (parser){
	        .s = text ? text : "", .len = len, .line = 1, .col = 1, .p = p, .text = tbuf, .err = err};
	if ((st = lex(ps)))
		goto done;
	while (ps->cur.type != T_EOF) {
		if (!ps->cur.bol) {
			st = FAIL_AT(ps, ps->cur.line, ps->cur.col,
			             "expected a statement starting with 'Allow' or 'Deny' in column 1");
			veil_err_hint(err,
			              "an indented line continues the statement above it, and there is none");
			goto done;
		}
		if (p->nstmts == VEIL_POLICY_MAX_STATEMENTS) {
			st = FAIL_AT(ps, ps->cur.line, ps->cur.col,
			             "too many statements: a policy holds at most %d",
			             VEIL_POLICY_MAX_STATEMENTS);
			veil_err_hint(err, "split it into several policies");
			goto done;
		}
		if ((st = parse_statement(ps)))
			goto done;
	}
	if (p->nstmts == 0) {
		st = FAIL_AT(
		        ps, ps->cur.line, ps->cur.col,
		        "expected a statement starting with 'Allow' or 'Deny', found the end of the policy");
		veil_err_hint(err, "a policy holds at least one statement");
		goto done;
	}
	*out = p;
	p = NULL;
done:
	veil_policy_free(p);
	free(arena);
	free(tbuf);
	free(ps);
	return st;
}

void veil_policy_free(veil_policy *p)
{
	if (!p)
		return;
	free(p->stmts);
	free(p->clauses);
	free(p->arena);
	free(p);
}

size_t veil_policy_count(const veil_policy *p)
{
	return p ? p->nstmts : 0;
}

void veil_policy_statement(const veil_policy *p, size_t i, veil_statement_info *out)
{
	memset(out, 0, sizeof *out);
	if (!p || i >= p->nstmts)
		return;
	const acc_stmt *s = &p->stmts[i];
	out->deny = s->deny;
	out->line = s->line;
	out->text = s->text;
	out->any_user = s->any_user;
	out->groups = s->groups;
	out->ngroups = s->ngroups;
	out->verb = s->verb;
	out->resource_type = s->resource_type;
	out->compartment = s->compartment;
	out->nconditions = s->nclauses;
}

/* ---- names against the catalog ---- */

static bool is_tenancy(const char *c)
{
	return strcmp(c, VEIL_ACCESS_TENANCY) == 0;
}

static veil_status outside(veil_err *err, unsigned line, const char *what, const char *attached_to)
{
	veil_err_set(err, VEIL_E_INVALID,
	             "line %u: %s is outside compartment '%.64s' the policy is attached to", line, what,
	             attached_to);
	veil_err_hint(err, "a policy grants or denies only in the compartment it is attached to and below; "
	                   "attach it higher up");
	return VEIL_E_INVALID;
}

static veil_status missing(veil_err *err, unsigned line, const char *kind, const char *name)
{
	veil_err_set(err, VEIL_E_INVALID, "line %u: %s '%s' does not exist", line, kind, name);
	veil_err_hint(err, "create the %s first, or correct its name in the policy", kind);
	return VEIL_E_INVALID;
}

veil_status veil_policy_check(const veil_policy *p, const char *attached_to, const veil_access_names *names,
                              veil_err *err)
{
	if (!p || !attached_to || !names || !names->group_exists || !names->compartment_exists ||
	    !names->compartment_within)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "veil_policy_check: missing policy, compartment or callbacks");
	bool root = is_tenancy(attached_to);
	if (!root && !names->compartment_exists(names->ctx, attached_to)) {
		veil_err_set(err, VEIL_E_INVALID,
		             "compartment '%.64s', where the policy is to be attached, does not exist",
		             attached_to);
		veil_err_hint(err, "create the compartment first, or attach the policy to tenancy");
		return VEIL_E_INVALID;
	}
	for (size_t i = 0; i < p->nstmts; i++) {
		const acc_stmt *s = &p->stmts[i];
		for (size_t g = 0; g < s->ngroups; g++)
			if (!names->group_exists(names->ctx, s->groups[g]))
				return missing(err, s->line, "group", s->groups[g]);
		/* tenancy always exists, and everything is within it. */
		if (is_tenancy(s->compartment)) {
			if (!root)
				return outside(err, s->line, "tenancy", attached_to);
			continue;
		}
		if (!names->compartment_exists(names->ctx, s->compartment))
			return missing(err, s->line, "compartment", s->compartment);
		if (!root && !names->compartment_within(names->ctx, s->compartment, attached_to)) {
			char what[VEIL_ACCESS_NAME_MAX + 16];
			snprintf(what, sizeof what, "compartment '%s'", s->compartment);
			return outside(err, s->line, what, attached_to);
		}
	}
	return VEIL_OK;
}
