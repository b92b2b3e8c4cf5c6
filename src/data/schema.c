/*
 * Dataset schemas (docs/formats/schema.md): the strict YAML reader, the
 * programmatic builder, and the writer whose output reads back to the same
 * schema.
 *
 * The reader pulls libyaml events one at a time, as the key-release policy
 * reader does (src/attest/release_policy.c), and accepts only the shapes
 * the format defines; every refusal names the line and column of the event
 * that broke a rule. Anchors, aliases, tags and further documents are
 * refused so that what a person reads is what the validator checks.
 *
 * Both the reader and the builder end in one function, add_checked, which
 * applies every rule about a column (bounds for the type, canonical allowed
 * values, a pattern that compiles and is small, one label); the reader
 * passes the marks of the values so that its refusals carry a position.
 */
#include "veil/data_schema.h"
#include "veil/yaml_read.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

/* A pattern is refused when glibc would build more than this many nodes
 * for it once bounded repeats are expanded ("(a{100}){100}" is 10000):
 * regcomp's time and memory grow with that count, and patterns come from
 * whoever wrote the schema. */
#define PATTERN_NODES_MAX         2000
#define PATTERN_DEPTH_MAX         32
#define PATTERN_GROUP_REPEATS_MAX 8

static_assert(VEIL_SCHEMA_COLUMNS_MAX <= PTRDIFF_MAX, "column indexes fit ptrdiff_t");

typedef struct column {
	veil_schema_column pub; /* the view callers get; its pointers point into the fields below */
	char *name;
	char **allowed;
	char *pattern;
	regex_t re; /* "^(pattern)$", compiled with REG_NOSUB; valid when pattern != NULL */
} column;

struct veil_schema {
	column *cols;
	size_t n, cap;
	veil_data_class cls;
	ptrdiff_t label;
};

/* ---- names ---- */

static const char *const type_names[VEIL_COL_TYPE_COUNT] = {
        [VEIL_COL_INT64] = "int",          [VEIL_COL_DOUBLE] = "float",      [VEIL_COL_BOOL] = "bool",
        [VEIL_COL_STRING] = "string",      [VEIL_COL_CATEGORY] = "category", [VEIL_COL_DATE] = "date",
        [VEIL_COL_TIMESTAMP] = "timestamp"};
static const char *const pii_names[VEIL_PII_COUNT] = {"none",         "email",      "phone", "ssn",
                                                      "payment-card", "iban",       "ip",    "date-of-birth",
                                                      "postal-code",  "person-name"};
static const char *const class_names[] = {"", "public", "internal", "confidential", "restricted"};
#define CLASS_COUNT (sizeof class_names / sizeof class_names[0])

const char *veil_schema_type_name(veil_col_type t)
{
	return (unsigned)t < VEIL_COL_TYPE_COUNT ? type_names[t] : "?";
}

const char *veil_pii_name(veil_pii p)
{
	return (unsigned)p < VEIL_PII_COUNT ? pii_names[p] : "?";
}

const char *veil_data_class_name(veil_data_class c)
{
	return (unsigned)c < CLASS_COUNT ? class_names[c] : "?";
}

bool veil_schema_type_from_name(const char *s, veil_col_type *out)
{
	for (unsigned i = 0; i < VEIL_COL_TYPE_COUNT; i++)
		if (strcmp(s, type_names[i]) == 0) {
			*out = (veil_col_type)i;
			return true;
		}
	return false;
}

bool veil_pii_from_name(const char *s, veil_pii *out)
{
	for (unsigned i = 0; i < VEIL_PII_COUNT; i++)
		if (strcmp(s, pii_names[i]) == 0) {
			*out = (veil_pii)i;
			return true;
		}
	return false;
}

bool veil_data_class_from_name(const char *s, veil_data_class *out)
{
	for (unsigned i = 1; i < CLASS_COUNT; i++)
		if (strcmp(s, class_names[i]) == 0) {
			*out = (veil_data_class)i;
			return true;
		}
	return false;
}

/* ---- errors with or without a position ---- */

/* Sets err to "line L, column C: " + the message when `at` is given (the
 * reader), to the message alone otherwise (the builder). */
static veil_status fail(veil_err *err, const yaml_mark_t *at, veil_status code, const char *fmt, ...)
        VEIL_PRINTF(4, 5);
static veil_status fail(veil_err *err, const yaml_mark_t *at, veil_status code, const char *fmt, ...)
{
	char msg[VEIL_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof msg, fmt, ap); /* a long message is cut, never overrun */
	va_end(ap);
	if (!at)
		return veil_err_set(err, code, "%s", msg);
	return veil_err_set(err, code, "line %zu, column %zu: %s", at->line + 1, at->column + 1, msg);
}

/* ---- values: the canonical text of each type (docs/formats/schema.md, "Values") ---- */

/* -?(0|[1-9][0-9]*) within int64. */
static bool parse_int(const char *s, int64_t *out)
{
	bool neg = s[0] == '-';
	const char *p = s + neg;
	if (p[0] < '0' || p[0] > '9' || (p[0] == '0' && (p[1] != '\0' || neg)))
		return false;
	uint64_t v = 0;
	uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		unsigned d = (unsigned)(*p - '0');
		if (v > (lim - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

/* -?[0-9]+(.[0-9]+)?([eE][+-]?[0-9]+)?, finite. The syntax is checked before
 * strtod so that "inf", "0x1p3", " 1" and "1." never reach it. */
static bool parse_float(const char *s, double *out)
{
	const char *p = s + (s[0] == '-');
	size_t digits = strspn(p, "0123456789");
	if (!digits)
		return false;
	p += digits;
	if (*p == '.') {
		digits = strspn(p + 1, "0123456789");
		if (!digits)
			return false;
		p += 1 + digits;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		digits = strspn(p, "0123456789");
		if (!digits)
			return false;
		p += digits;
	}
	if (*p)
		return false;
	errno = 0;
	char *end = NULL;
	double v = strtod(s, &end);
	if (end != p || !isfinite(v))
		return false;
	*out = v;
	return true;
}

/* The shortest "%.Ng" that reads back to exactly v. */
static void format_float(double v, char *out, size_t outsz)
{
	for (int prec = 15; prec <= 17; prec++) {
		(void)snprintf(out, outsz, "%.*g", prec, v);
		double back = 0;
		if (parse_float(out, &back) && back == v)
			return;
	}
}

/* t is seconds since the epoch for a timestamp, days for a date. */
static bool format_date(int64_t t, bool timestamp, char *out, size_t outsz)
{
	if (!timestamp) {
		if (t > INT64_MAX / 86400 || t < INT64_MIN / 86400)
			return false;
		t *= 86400;
	}
	time_t tt = (time_t)t;
	struct tm tm;
	if ((int64_t)tt != t || !gmtime_r(&tt, &tm))
		return false;
	return strftime(out, outsz, timestamp ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d", &tm) != 0;
}

/* A date is "YYYY-MM-DD" (*out in days); a timestamp that or
 * "YYYY-MM-DDTHH:MM:SSZ" (*out in seconds). */
static bool parse_date(const char *s, bool timestamp, int64_t *out)
{
	veil_err ignored = {0};
	int64_t t = 0;
	size_t n = strlen(s);
	/* Four-digit years only: strftime writes the year 999 as "999", which
	 * veil_time_parse would otherwise accept back. */
	if ((n != 10 && !(timestamp && n == 20)) || strspn(s, "0123456789") != 4)
		return false;
	if (veil_time_parse(s, &t, &ignored) != VEIL_OK)
		return false;
	*out = timestamp ? t : t / 86400; /* exact: a date is a midnight */
	return true;
}

/* A bound that the writer can write and the reader read back: a year from
 * 1000 to 9999. */
static bool date_bound_ok(int64_t t, bool timestamp)
{
	char text[VEIL_TIME_STR_MAX];
	int64_t back = 0;
	return format_date(t, timestamp, text, sizeof text) && parse_date(text, timestamp, &back) &&
	       back == t;
}

/* The canonical text of `s` as a value of type t into out, or false. */
static bool canonical(veil_col_type t, const char *s, char *out, size_t outsz)
{
	int64_t i = 0;
	double f = 0;
	switch (t) {
	case VEIL_COL_INT64:
		if (!parse_int(s, &i))
			return false;
		break; /* the accepted spelling is the canonical one */
	case VEIL_COL_DOUBLE:
		if (!parse_float(s, &f))
			return false;
		format_float(f == 0 ? 0.0 : f, out, outsz); /* -0 is the value 0 */
		return true;
	case VEIL_COL_BOOL:
		if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0)
			return false;
		break;
	case VEIL_COL_DATE:
		if (!parse_date(s, false, &i))
			return false;
		break;
	case VEIL_COL_TIMESTAMP:
		return parse_date(s, true, &i) && format_date(i, true, out, outsz);
	case VEIL_COL_STRING:
	case VEIL_COL_CATEGORY:
		break;
	}
	size_t n = strlen(s);
	if (n >= outsz)
		return false;
	memcpy(out, s, n + 1);
	return true;
}

static bool has_bounds(veil_col_type t)
{
	return t == VEIL_COL_INT64 || t == VEIL_COL_DOUBLE || t == VEIL_COL_DATE || t == VEIL_COL_TIMESTAMP;
}

static const char *bound_kind(veil_col_type t)
{
	switch (t) {
	case VEIL_COL_INT64:
		return "a whole number (no '+', no leading zeros)";
	case VEIL_COL_DOUBLE:
		return "a finite decimal number such as 2.5 or 1e-3";
	case VEIL_COL_DATE:
		return "a date written 2026-11-22";
	case VEIL_COL_TIMESTAMP:
		return "a time written 2026-11-22T13:49:21Z (UTC) or a date";
	case VEIL_COL_BOOL:
		return "true or false";
	case VEIL_COL_STRING:
	case VEIL_COL_CATEGORY:
		break;
	}
	return "text";
}

/* ---- text checks ---- */

/* Length of the UTF-8 sequence at s[0..n) and its code point, or 0 when it
 * is not well formed (overlong, surrogate, above U+10FFFF, cut short). */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		len = 2, v = c & 0x1fu, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3, v = c & 0x0fu, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4, v = c & 0x07u, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3fu);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

static bool utf8_valid(const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		uint32_t cp = 0;
		size_t k = utf8_next((const unsigned char *)s + i, n - i, &cp);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* Offset of a repetition operator (*, +, ?, {) that directly follows
 * another one ("a**", "a+?", "a{2}{3}"), or n when there is none. POSIX
 * leaves such patterns undefined, and glibc's compiler takes time
 * exponential in a run of them ("a" and 480 "*" does not finish). */
static size_t stacked_repeat(const char *p, size_t n)
{
	bool after_repeat = false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		bool repeat = c == '*' || c == '+' || c == '?' || c == '{';
		if (repeat && after_repeat)
			return i;
		if (c == '\\') {
			i++;
		} else if (c == '[') { /* skip the bracket expression, as pattern_too_big does */
			size_t j = i + 1;
			if (j < n && p[j] == '^')
				j++;
			if (j < n && p[j] == ']')
				j++;
			while (j < n && p[j] != ']') {
				if (p[j] == '[' && j + 1 < n &&
				    (p[j + 1] == ':' || p[j + 1] == '.' || p[j + 1] == '=')) {
					char close = p[j + 1];
					j += 2;
					while (j + 1 < n && !(p[j] == close && p[j + 1] == ']'))
						j++;
					j++;
				}
				j++;
			}
			i = j;
		} else if (c == '{') {
			while (i < n && p[i] != '}')
				i++;
		}
		after_repeat = repeat;
	}
	return n;
}

/* An estimate of what glibc's regcomp builds for an extended RE, capped:
 * true when the pattern is over PATTERN_NODES_MAX nodes once bounded
 * repeats are copied out, repeats groups more than PATTERN_GROUP_REPEATS_MAX
 * times (counting the copies; only groups that can match the empty
 * string count), or nests deeper than PATTERN_DEPTH_MAX.
 * regcomp's time grows with the first and exponentially with the second
 * (its epsilon closures: 16 of "((x*)*)*" take a minute). Per nesting
 * level, sum counts the level so far and last the atom a repeat applies
 * to; the q arrays count repeated groups the same way. It only has to be
 * generous for patterns regcomp accepts, and never reads past n. */
static bool pattern_too_big(const char *p, size_t n)
{
	size_t sum[PATTERN_DEPTH_MAX + 1] = {0}, last[PATTERN_DEPTH_MAX + 1] = {0};
	size_t qsum[PATTERN_DEPTH_MAX + 1] = {0}, qlast[PATTERN_DEPTH_MAX + 1] = {0};
	/* Whether what is before the last atom, the last atom, and an earlier
	 * alternative of the level can match the empty string. */
	bool nprev[PATTERN_DEPTH_MAX + 1] = {true}, nlast[PATTERN_DEPTH_MAX + 1] = {true};
	bool nany[PATTERN_DEPTH_MAX + 1] = {false};
	size_t d = 0;
	bool group = false; /* the last atom is a group */
	for (size_t i = 0; i < n; i++) {
		size_t atom = 1, qatom = 0;
		bool natom = false;
		size_t copies = 0; /* a repeat: how many copies of the atom it makes (1 for * and ?) */
		char c = p[i];
		if (c == '\\') {
			i++;
		} else if (c == '[') {
			size_t j = i + 1;
			if (j < n && p[j] == '^')
				j++;
			if (j < n && p[j] == ']')
				j++;
			while (j < n && p[j] != ']') {
				if (p[j] == '[' && j + 1 < n &&
				    (p[j + 1] == ':' || p[j + 1] == '.' || p[j + 1] == '=')) {
					char close = p[j + 1];
					j += 2;
					while (j + 1 < n && !(p[j] == close && p[j + 1] == ']'))
						j++;
					j++;
				}
				j++;
			}
			i = j;
		} else if (c == '(') {
			if (++d > PATTERN_DEPTH_MAX)
				return true;
			sum[d] = last[d] = qsum[d] = qlast[d] = 0;
			nprev[d] = nlast[d] = true;
			nany[d] = false;
			group = false;
			continue;
		} else if (c == ')' && d > 0) {
			atom = sum[d] + 1;
			qatom = qsum[d];
			natom = nany[d] || (nprev[d] && nlast[d]);
			d--;
		} else if (c == '{') {
			size_t lo = 0, hi = 0;
			bool comma = false, have_hi = false;
			for (i++; i < n && p[i] != '}'; i++) {
				if (p[i] == ',') {
					comma = true;
				} else if (p[i] >= '0' && p[i] <= '9') {
					size_t *v = comma ? &hi : &lo;
					have_hi |= comma;
					*v = *v * 10 + (size_t)(p[i] - '0');
					if (*v > PATTERN_NODES_MAX)
						return true;
				}
			}
			copies = have_hi ? hi : comma ? lo + 1 : lo;
			if (copies < 1)
				copies = 1;
			natom = lo == 0;
		} else if (c == '+') {
			copies = 2; /* glibc compiles x+ as x x* */
		} else if (c == '*' || c == '?') {
			copies = 1;
			natom = true;
		} else if (c == '|') {
			sum[d]++;
			last[d] = qlast[d] = 0;
			nany[d] = nany[d] || (nprev[d] && nlast[d]);
			nprev[d] = nlast[d] = true;
			group = false;
			continue;
		}
		if (copies) {
			/* One node around the atom, and copies - 1 more of it; a repeated
			 * group that can match nothing counts once more, in every copy. */
			size_t q = qlast[d] + (group && nlast[d] ? 1 : 0);
			nlast[d] = nlast[d] || natom;
			sum[d] += last[d] * (copies - 1) + 1;
			last[d] = last[d] * copies + 1;
			qsum[d] += q * copies - qlast[d];
			qlast[d] = q * copies;
			group = false;
		} else {
			sum[d] += atom;
			last[d] = atom;
			qsum[d] += qatom;
			qlast[d] = qatom;
			nprev[d] = nprev[d] && nlast[d];
			nlast[d] = natom;
			group = c == ')';
		}
		if (sum[d] > PATTERN_NODES_MAX || qsum[d] > PATTERN_GROUP_REPEATS_MAX)
			return true;
	}
	return false;
}

/* Compiles `pattern` into c->re as "^(pattern)$" after checking it alone,
 * so that a pattern whose parentheses do not balance cannot pair with ours. */
static veil_status compile_pattern(column *c, const char *colname, const char *pattern, const yaml_mark_t *at,
                                   veil_err *err)
{
	size_t n = strlen(pattern);
	if (n == 0)
		return fail(err, at, VEIL_E_INVALID, "column '%.64s': pattern is empty", colname);
	if (n > VEIL_SCHEMA_PATTERN_MAX)
		return fail(err, at, VEIL_E_LIMIT, "column '%.64s': pattern is longer than %d bytes", colname,
		            VEIL_SCHEMA_PATTERN_MAX);
	for (size_t i = 0; i + 1 < n; i++) {
		if (pattern[i] != '\\')
			continue;
		if (pattern[i + 1] >= '1' && pattern[i + 1] <= '9')
			return fail(err, at, VEIL_E_INVALID,
			            "column '%.64s': pattern uses a back-reference (\\%c) at offset %zu; "
			            "back-references are not allowed",
			            colname, pattern[i + 1], i);
		i++;
	}
	size_t off = stacked_repeat(pattern, n);
	if (off < n)
		return fail(err, at, VEIL_E_INVALID,
		            "column '%.64s': pattern has two repetition operators in a row at offset %zu "
		            "(such as ** or +? or {2}{3}); POSIX leaves that undefined",
		            colname, off);
	if (pattern_too_big(pattern, n))
		return fail(err, at, VEIL_E_LIMIT,
		            "column '%.64s': pattern is too complex (more than %d elements once repeats are "
		            "expanded, more than %d repeated groups, or groups nested deeper than %d)",
		            colname, PATTERN_NODES_MAX, PATTERN_GROUP_REPEATS_MAX, PATTERN_DEPTH_MAX);
	regex_t alone;
	int rc = regcomp(&alone, pattern, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char why[128];
		(void)regerror(rc, &alone, why, sizeof why);
		return fail(err, at, VEIL_E_INVALID,
		            "column '%.64s': pattern is not a POSIX extended regular expression: %s", colname,
		            why);
	}
	regfree(&alone);
	char *anchored = malloc(n + 5);
	if (!anchored)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory compiling a pattern");
	(void)snprintf(anchored, n + 5, "^(%s)$", pattern); /* exactly fits */
	rc = regcomp(&c->re, anchored, REG_EXTENDED | REG_NOSUB);
	free(anchored);
	if (rc != 0) {
		char why[128];
		(void)regerror(rc, &c->re, why, sizeof why);
		return fail(err, at, VEIL_E_INVALID,
		            "column '%.64s': pattern cannot be anchored to the whole value: %s", colname,
		            why);
	}
	return VEIL_OK;
}

/* ---- building a column: the rules of the format, in one place ---- */

/* Where each part of a column was written, for the reader's messages. */
typedef struct col_marks {
	yaml_mark_t col, name, type, min, max, allowed, pattern, label;
	const yaml_mark_t *items; /* of each allowed value */
} col_marks;

/* A column as the reader or the builder hands it over: the reader gives
 * min and max as text (read once the type is known), the builder as numbers. */
typedef struct col_in {
	const veil_schema_column *c;
	const char *min_text, *max_text;
	bool min_quoted, max_quoted; /* a quoted number is refused; a quoted date is fine */
	const col_marks *m;          /* NULL: the builder */
} col_in;

#define AT(field) (in->m ? &in->m->field : NULL)

static void column_free(column *c)
{
	free(c->name);
	for (size_t i = 0; c->allowed && i < c->pub.nallowed; i++)
		free(c->allowed[i]);
	free(c->allowed);
	if (c->pattern) {
		regfree(&c->re);
		free(c->pattern);
	}
	memset(c, 0, sizeof *c);
}

static veil_status read_bound(const col_in *in, const char *text, bool is_max, veil_schema_bound *b,
                              veil_err *err)
{
	const veil_schema_column *c = in->c;
	const yaml_mark_t *at = is_max ? AT(max) : AT(min);
	if ((c->type == VEIL_COL_INT64 || c->type == VEIL_COL_DOUBLE) &&
	    (is_max ? in->max_quoted : in->min_quoted))
		return fail(err, at, VEIL_E_INVALID, "column '%.64s': %s must be %s, not quoted", c->name,
		            is_max ? "max" : "min", bound_kind(c->type));
	bool ok = false;
	switch (c->type) {
	case VEIL_COL_INT64:
		ok = parse_int(text, &b->i);
		break;
	case VEIL_COL_DOUBLE:
		ok = parse_float(text, &b->f);
		break;
	case VEIL_COL_DATE:
	case VEIL_COL_TIMESTAMP:
		ok = parse_date(text, c->type == VEIL_COL_TIMESTAMP, &b->i);
		break;
	case VEIL_COL_BOOL:
	case VEIL_COL_STRING:
	case VEIL_COL_CATEGORY:
		break;
	}
	if (!ok)
		return fail(err, at, VEIL_E_INVALID, "column '%.64s': %s must be %s", c->name,
		            is_max ? "max" : "min", bound_kind(c->type));
	return VEIL_OK;
}

static veil_status check_bounds(const col_in *in, veil_schema_bound *min, veil_schema_bound *max,
                                veil_err *err)
{
	const veil_schema_column *c = in->c;
	if ((c->has_min || c->has_max) && !has_bounds(c->type))
		return fail(
		        err, c->has_min ? AT(min) : AT(max), VEIL_E_INVALID,
		        "column '%.64s': min and max apply to int, float, date and timestamp columns, not %s",
		        c->name, veil_schema_type_name(c->type));
	*min = c->min;
	*max = c->max;
	veil_status st = VEIL_OK;
	if (c->has_min && in->min_text && (st = read_bound(in, in->min_text, false, min, err)))
		return st;
	if (c->has_max && in->max_text && (st = read_bound(in, in->max_text, true, max, err)))
		return st;
	bool dates = c->type == VEIL_COL_DATE || c->type == VEIL_COL_TIMESTAMP;
	for (int k = 0; k < 2 && dates; k++) {
		bool has = k ? c->has_max : c->has_min;
		if (has && !date_bound_ok(k ? max->i : min->i, c->type == VEIL_COL_TIMESTAMP))
			return fail(err, k ? AT(max) : AT(min), VEIL_E_INVALID,
			            "column '%.64s': %s must be in the years 1000 to 9999", c->name,
			            k ? "max" : "min");
	}
	if (c->type == VEIL_COL_DOUBLE &&
	    ((c->has_min && !isfinite(min->f)) || (c->has_max && !isfinite(max->f))))
		return fail(err, NULL, VEIL_E_INVALID, "column '%.64s': min and max must be finite", c->name);
	if (c->has_min && c->has_max) {
		bool above = c->type == VEIL_COL_DOUBLE ? min->f > max->f : min->i > max->i;
		if (above)
			return fail(err, AT(max), VEIL_E_INVALID, "column '%.64s': max is below min",
			            c->name);
	}
	return VEIL_OK;
}

static veil_status copy_allowed(const col_in *in, column *dst, veil_err *err)
{
	const veil_schema_column *c = in->c;
	if (c->nallowed == 0)
		return VEIL_OK;
	if (c->nallowed > VEIL_SCHEMA_ALLOWED_MAX)
		return fail(err, AT(allowed), VEIL_E_LIMIT,
		            "column '%.64s': allowed lists more than %d values", c->name,
		            VEIL_SCHEMA_ALLOWED_MAX);
	if (!c->allowed)
		return fail(err, NULL, VEIL_E_INVALID, "column '%.64s': nallowed is set but allowed is NULL",
		            c->name);
	dst->allowed = calloc(c->nallowed, sizeof *dst->allowed);
	if (!dst->allowed)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory copying allowed values");
	char canon[VEIL_SCHEMA_VALUE_MAX + VEIL_TIME_STR_MAX];
	for (size_t i = 0; i < c->nallowed; i++) {
		const yaml_mark_t *at = in->m ? &in->m->items[i] : NULL;
		const char *v = c->allowed[i];
		if (!v)
			return fail(err, at, VEIL_E_INVALID, "column '%.64s': allowed value %zu is NULL",
			            c->name, i);
		if (strlen(v) > VEIL_SCHEMA_VALUE_MAX)
			return fail(err, at, VEIL_E_LIMIT,
			            "column '%.64s': an allowed value is longer than %d bytes", c->name,
			            VEIL_SCHEMA_VALUE_MAX);
		if (!utf8_valid(v))
			return fail(err, at, VEIL_E_INVALID, "column '%.64s': an allowed value is not UTF-8",
			            c->name);
		if (!canonical(c->type, v, canon, sizeof canon))
			return fail(err, at, VEIL_E_INVALID,
			            "column '%.64s': allowed value '%.40s' is not %s", c->name, v,
			            bound_kind(c->type));
		for (size_t j = 0; j < i; j++)
			if (strcmp(dst->allowed[j], canon) == 0)
				return fail(err, at, VEIL_E_INVALID,
				            "column '%.64s': allowed value '%.40s' is listed twice", c->name,
				            canon);
		dst->allowed[i] = strdup(canon);
		if (!dst->allowed[i])
			return veil_err_set(err, VEIL_E_NOMEM, "out of memory copying allowed values");
		dst->pub.nallowed = i + 1;
	}
	return VEIL_OK;
}

static veil_status check_name(const veil_schema *s, const col_in *in, veil_err *err)
{
	const char *name = in->c->name;
	if (!name || !name[0])
		return fail(err, in->m ? &in->m->name : NULL, VEIL_E_INVALID, "a column name is empty");
	size_t n = strlen(name);
	if (n > VEIL_SCHEMA_NAME_MAX)
		return fail(err, AT(name), VEIL_E_LIMIT, "column name '%.40s...' is longer than %d bytes",
		            name, VEIL_SCHEMA_NAME_MAX);
	if (!utf8_valid(name) || has_control(name))
		return fail(err, AT(name), VEIL_E_INVALID,
		            "column name '%.40s' holds a control character or is not UTF-8", name);
	if (veil_schema_find(s, name) >= 0)
		return fail(err, AT(name), VEIL_E_INVALID, "column name '%.64s' appears twice", name);
	return VEIL_OK;
}

/* Every rule about one column, then the copy. On error s is unchanged. */
static veil_status add_checked(veil_schema *s, const col_in *in, veil_err *err)
{
	const veil_schema_column *c = in->c;
	veil_status st = check_name(s, in, err);
	if (st)
		return st;
	if (s->n >= VEIL_SCHEMA_COLUMNS_MAX)
		return fail(err, AT(col), VEIL_E_LIMIT, "more than %d columns", VEIL_SCHEMA_COLUMNS_MAX);
	if ((unsigned)c->type >= VEIL_COL_TYPE_COUNT || (unsigned)c->pii >= VEIL_PII_COUNT)
		return fail(err, NULL, VEIL_E_INVALID, "column '%.64s': unknown type or PII class", c->name);
	if (c->label && s->label >= 0)
		return fail(err, AT(label), VEIL_E_INVALID,
		            "column '%.64s' is a second label; '%.64s' is the label", c->name,
		            s->cols[s->label].name);
	if (c->pattern && c->type != VEIL_COL_STRING && c->type != VEIL_COL_CATEGORY)
		return fail(err, AT(pattern), VEIL_E_INVALID,
		            "column '%.64s': pattern applies to string and category columns, not %s", c->name,
		            veil_schema_type_name(c->type));
	if (c->pattern && !utf8_valid(c->pattern))
		return fail(err, AT(pattern), VEIL_E_INVALID, "column '%.64s': pattern is not UTF-8",
		            c->name);
	if (c->nallowed && c->type == VEIL_COL_BOOL)
		return fail(err, AT(allowed), VEIL_E_INVALID,
		            "column '%.64s': allowed does not apply to bool columns", c->name);
	veil_schema_bound min, max;
	if ((st = check_bounds(in, &min, &max, err)))
		return st;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		column *grown = realloc(s->cols, cap * sizeof *grown);
		if (!grown)
			return veil_err_set(err, VEIL_E_NOMEM, "out of memory adding a column");
		s->cols = grown;
		s->cap = cap;
	}
	column *dst = &s->cols[s->n];
	memset(dst, 0, sizeof *dst);
	if ((st = copy_allowed(in, dst, err)))
		goto undo;
	if (c->pattern && (st = compile_pattern(dst, c->name, c->pattern, AT(pattern), err)))
		goto undo;
	if (c->pattern && !(dst->pattern = strdup(c->pattern))) {
		regfree(&dst->re);
		st = veil_err_set(err, VEIL_E_NOMEM, "out of memory adding a column");
		goto undo;
	}
	if (!(dst->name = strdup(c->name))) {
		st = veil_err_set(err, VEIL_E_NOMEM, "out of memory adding a column");
		goto undo;
	}
	size_t nallowed = dst->pub.nallowed;
	dst->pub = *c;
	dst->pub.name = dst->name;
	dst->pub.min = c->has_min ? min : (veil_schema_bound){0};
	dst->pub.max = c->has_max ? max : (veil_schema_bound){0};
	dst->pub.nallowed = nallowed;
	dst->pub.allowed = (const char *const *)dst->allowed;
	dst->pub.pattern = dst->pattern;
	if (c->label)
		s->label = (ptrdiff_t)s->n;
	s->n++;
	return VEIL_OK;
undo:
	column_free(dst);
	return st;
}

#undef AT

/* ---- the public builder and accessors ---- */

veil_status veil_schema_new(veil_schema **out, veil_err *err)
{
	*out = calloc(1, sizeof **out);
	if (!*out)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory making a schema");
	(*out)->label = -1;
	return VEIL_OK;
}

veil_status veil_schema_add_column(veil_schema *s, const veil_schema_column *col, veil_err *err)
{
	if (!s || !col)
		return veil_err_set(err, VEIL_E_INVALID, "no schema or no column to add");
	col_in in = {.c = col};
	return add_checked(s, &in, err);
}

void veil_schema_set_classification(veil_schema *s, veil_data_class c)
{
	if (s && (unsigned)c < CLASS_COUNT)
		s->cls = c;
}

void veil_schema_free(veil_schema *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		column_free(&s->cols[i]);
	free(s->cols);
	free(s);
}

size_t veil_schema_ncolumns(const veil_schema *s)
{
	return s ? s->n : 0;
}

const veil_schema_column *veil_schema_column_at(const veil_schema *s, size_t i)
{
	return s && i < s->n ? &s->cols[i].pub : NULL;
}

ptrdiff_t veil_schema_find(const veil_schema *s, const char *name)
{
	for (size_t i = 0; s && name && i < s->n; i++)
		if (strcmp(s->cols[i].name, name) == 0)
			return (ptrdiff_t)i;
	return -1;
}

ptrdiff_t veil_schema_label(const veil_schema *s)
{
	return s ? s->label : -1;
}

veil_data_class veil_schema_classification(const veil_schema *s)
{
	return s ? s->cls : VEIL_CLASS_UNSET;
}

bool veil_schema_pattern_match(const veil_schema *s, size_t i, const char *value, size_t len)
{
	if (!s || i >= s->n)
		return false;
	const column *c = &s->cols[i];
	if (!c->pattern)
		return true;
	/* regexec needs a NUL-terminated string. REG_STARTEND would spare the
	 * copy, but it is a glibc and BSD extension and sanitizers read such
	 * a string up to a NUL anyway; short values are copied on the stack. */
	if ((!value && len) || len == SIZE_MAX || (len && memchr(value, '\0', len)))
		return false; /* a NUL cannot be part of text that matches */
	char small[256];
	char *copy = len < sizeof small ? small : malloc(len + 1);
	if (!copy)
		return false;
	if (len)
		memcpy(copy, value, len);
	copy[len] = '\0';
	bool ok = regexec(&c->re, copy, 0, NULL, 0) == 0;
	if (copy != small)
		free(copy);
	return ok;
}

/* ---- reading ---- */

/* The strict document reader every veil YAML format shares (veil/yaml_read.h). */
typedef veil_yread reader;

static yaml_mark_t here(const reader *r)
{
	return r->ev.start_mark;
}

/* A copy of the current scalar; *quoted (when asked) says whether it was
 * written in quotes, which a number must not be. */
static veil_status read_text(reader *r, const char *what, bool *quoted, size_t max, char **out)
{
	veil_status st = veil_yread_want(r, YAML_SCALAR_EVENT, what, "a single value");
	if (st)
		return st;
	if (quoted)
		*quoted = r->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
	if (r->ev.data.scalar.length > max)
		return fail(r->err, &r->ev.start_mark, VEIL_E_LIMIT, "%s is longer than %zu bytes", what,
		            max);
	*out = strdup(veil_yread_scalar(r));
	if (!*out)
		return veil_err_set(r->err, VEIL_E_NOMEM, "out of memory reading a schema");
	return VEIL_OK;
}

enum {
	C_NAME,
	C_TYPE,
	C_NULLABLE,
	C_MIN,
	C_MAX,
	C_ALLOWED,
	C_PATTERN,
	C_UNIQUE,
	C_PII,
	C_QI,
	C_LABEL,
	C_COUNT
};
static const char *const col_keys[C_COUNT] = {"name",    "type",    "nullable", "min", "max",
                                              "allowed", "pattern", "unique",   "pii", "quasi-identifier",
                                              "label"};

/* What the reader gathers for one column before add_checked judges it. */
typedef struct pending {
	veil_schema_column c;
	char *name, *min, *max, *pattern;
	char **allowed;
	size_t nallowed;
	yaml_mark_t *items;
	col_marks m;
	bool min_quoted, max_quoted;
	bool seen[C_COUNT];
} pending;

static void pending_free(pending *p)
{
	free(p->name);
	free(p->min);
	free(p->max);
	free(p->pattern);
	for (size_t i = 0; i < p->nallowed; i++)
		free(p->allowed[i]);
	free(p->allowed);
	free(p->items);
}

static veil_status read_allowed(reader *r, pending *p)
{
	veil_status st = veil_yread_want(r, YAML_SEQUENCE_START_EVENT, "allowed", "a list");
	if (st)
		return st;
	p->m.allowed = here(r);
	size_t cap = 0;
	for (;;) {
		bool end;
		if ((st = veil_yread_item(r, "allowed", YAML_SCALAR_EVENT, "a single value", &end)))
			return st;
		if (end)
			break;
		if (p->nallowed >= VEIL_SCHEMA_ALLOWED_MAX)
			return fail(r->err, &r->ev.start_mark, VEIL_E_LIMIT,
			            "allowed lists more than %d values", VEIL_SCHEMA_ALLOWED_MAX);
		if (r->ev.data.scalar.length > VEIL_SCHEMA_VALUE_MAX)
			return fail(r->err, &r->ev.start_mark, VEIL_E_LIMIT,
			            "an allowed value is longer than %d bytes", VEIL_SCHEMA_VALUE_MAX);
		if (p->nallowed == cap) {
			cap = cap ? 2 * cap : 8;
			char **a = realloc(p->allowed, cap * sizeof *a);
			if (a)
				p->allowed = a;
			yaml_mark_t *m = a ? realloc(p->items, cap * sizeof *m) : NULL;
			if (m)
				p->items = m;
			if (!a || !m)
				return veil_err_set(r->err, VEIL_E_NOMEM, "out of memory reading a schema");
		}
		p->items[p->nallowed] = here(r);
		if (!(p->allowed[p->nallowed] = strdup(veil_yread_scalar(r))))
			return veil_err_set(r->err, VEIL_E_NOMEM, "out of memory reading a schema");
		p->nallowed++;
	}
	if (!p->nallowed)
		return fail(r->err, &p->m.allowed, VEIL_E_INVALID,
		            "allowed lists no value: nothing would be valid");
	return VEIL_OK;
}

static veil_status read_col_value(reader *r, int k, pending *p)
{
	veil_status st;
	switch (k) {
	case C_NAME:
		if ((st = read_text(r, "name", NULL, VEIL_SCHEMA_NAME_MAX, &p->name)))
			return st;
		p->m.name = here(r);
		return VEIL_OK;
	case C_TYPE:
		if ((st = veil_yread_want(r, YAML_SCALAR_EVENT, "type", "a type name")))
			return st;
		p->m.type = here(r);
		if (!veil_schema_type_from_name(veil_yread_scalar(r), &p->c.type))
			return fail(r->err, &r->ev.start_mark, VEIL_E_INVALID,
			            "unknown type '%.40s' (known: int, float, bool, string, category, date, "
			            "timestamp)",
			            veil_yread_scalar(r));
		return VEIL_OK;
	case C_NULLABLE:
		return veil_yread_bool(r, "nullable", &p->c.nullable);
	case C_MIN:
	case C_MAX:
		if ((st = read_text(r, col_keys[k], k == C_MIN ? &p->min_quoted : &p->max_quoted,
		                    VEIL_TIME_STR_MAX + 32, k == C_MIN ? &p->min : &p->max)))
			return st;
		*(k == C_MIN ? &p->m.min : &p->m.max) = here(r);
		return VEIL_OK;
	case C_ALLOWED:
		return read_allowed(r, p);
	case C_PATTERN:
		if ((st = read_text(r, "pattern", NULL, VEIL_SCHEMA_PATTERN_MAX, &p->pattern)))
			return st;
		p->m.pattern = here(r);
		return VEIL_OK;
	case C_UNIQUE:
		return veil_yread_bool(r, "unique", &p->c.unique);
	case C_PII:
		if ((st = veil_yread_want(r, YAML_SCALAR_EVENT, "pii", "a PII class")))
			return st;
		if (!veil_pii_from_name(veil_yread_scalar(r), &p->c.pii))
			return fail(r->err, &r->ev.start_mark, VEIL_E_INVALID,
			            "unknown PII class '%.40s' (known: email, phone, ssn, payment-card, "
			            "iban, ip, "
			            "date-of-birth, postal-code, person-name, none)",
			            veil_yread_scalar(r));
		return VEIL_OK;
	case C_QI:
		return veil_yread_bool(r, "quasi-identifier", &p->c.quasi_identifier);
	case C_LABEL:
		if ((st = veil_yread_bool(r, "label", &p->c.label)))
			return st;
		p->m.label = here(r);
		return VEIL_OK;
	default:
		return fail(r->err, &r->ev.start_mark, VEIL_E_INTERNAL, "no reader for column key %d", k);
	}
}

/* One entry of `columns`, from its mapping start to its end. */
static veil_status read_column(reader *r, veil_schema *s)
{
	pending p = {0};
	p.m.col = here(r);
	veil_status st;
	for (;;) {
		if ((st = veil_yread_next(r)))
			goto done;
		if (r->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (r->ev.type != YAML_SCALAR_EVENT) {
			st = fail(r->err, &r->ev.start_mark, VEIL_E_INVALID,
			          "a column key must be a name, not %s", veil_yread_event_what(r->ev.type));
			goto done;
		}
		int k = 0;
		while (k < C_COUNT && strcmp(veil_yread_scalar(r), col_keys[k]) != 0)
			k++;
		if (k == C_COUNT) {
			st = fail(
			        r->err, &r->ev.start_mark, VEIL_E_INVALID,
			        "unknown column key '%.40s' (known: name, type, nullable, min, max, allowed, "
			        "pattern, unique, pii, quasi-identifier, label)",
			        veil_yread_scalar(r));
			goto done;
		}
		if (p.seen[k]) {
			st = fail(r->err, &r->ev.start_mark, VEIL_E_INVALID, "column key '%s' appears twice",
			          col_keys[k]);
			goto done;
		}
		p.seen[k] = true;
		if ((st = read_col_value(r, k, &p)))
			goto done;
	}
	if (!p.seen[C_NAME] || !p.seen[C_TYPE]) {
		st = fail(r->err, &p.m.col, VEIL_E_INVALID, "a column has no '%s' key, which is required",
		          p.seen[C_NAME] ? "type" : "name");
		goto done;
	}
	p.c.name = p.name;
	p.c.has_min = p.min != NULL;
	p.c.has_max = p.max != NULL;
	p.c.nallowed = p.nallowed;
	p.c.allowed = (const char *const *)p.allowed;
	p.c.pattern = p.pattern;
	p.m.items = p.items;
	col_in in = {.c = &p.c,
	             .min_text = p.min,
	             .max_text = p.max,
	             .min_quoted = p.min_quoted,
	             .max_quoted = p.max_quoted,
	             .m = &p.m};
	st = add_checked(s, &in, r->err);
done:
	pending_free(&p);
	return st;
}

static veil_status read_columns(reader *r, veil_schema *s)
{
	veil_status st = veil_yread_want(r, YAML_SEQUENCE_START_EVENT, "columns", "a list");
	if (st)
		return st;
	yaml_mark_t start = here(r);
	for (;;) {
		bool end;
		if ((st = veil_yread_item(r, "columns", YAML_MAPPING_START_EVENT, "a mapping", &end)))
			return st;
		if (end)
			break;
		if (s->n >= VEIL_SCHEMA_COLUMNS_MAX)
			return fail(r->err, &r->ev.start_mark, VEIL_E_LIMIT, "more than %d columns",
			            VEIL_SCHEMA_COLUMNS_MAX);
		if ((st = read_column(r, s)))
			return st;
	}
	if (!s->n)
		return fail(r->err, &start, VEIL_E_INVALID, "columns lists no column");
	return VEIL_OK;
}

enum { K_VERSION, K_CLASSIFICATION, K_COLUMNS, K_COUNT };
static const char *const keys[K_COUNT] = {"version", "classification", "columns"};

static veil_status read_top_value(reader *r, int k, veil_schema *s)
{
	veil_status st;
	switch (k) {
	case K_VERSION:
		if ((st = veil_yread_want(r, YAML_SCALAR_EVENT, "version", "a number")))
			return st;
		if (r->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
		    strspn(veil_yread_scalar(r), "0123456789") == 0 ||
		    veil_yread_scalar(r)[strspn(veil_yread_scalar(r), "0123456789")] != '\0')
			return fail(r->err, &r->ev.start_mark, VEIL_E_INVALID,
			            "version must be a whole number");
		if (strcmp(veil_yread_scalar(r), "1") != 0)
			return fail(r->err, &r->ev.start_mark, VEIL_E_UNSUPPORTED,
			            "schema version %.20s is not supported (this veil reads version 1)",
			            veil_yread_scalar(r));
		return VEIL_OK;
	case K_CLASSIFICATION:
		if ((st = veil_yread_want(r, YAML_SCALAR_EVENT, "classification", "a class name")))
			return st;
		if (!veil_data_class_from_name(veil_yread_scalar(r), &s->cls))
			return fail(r->err, &r->ev.start_mark, VEIL_E_INVALID,
			            "unknown classification '%.40s' (known: public, internal, confidential, "
			            "restricted)",
			            veil_yread_scalar(r));
		return VEIL_OK;
	case K_COLUMNS:
		return read_columns(r, s);
	default:
		return fail(r->err, &r->ev.start_mark, VEIL_E_INTERNAL, "no reader for key %d", k);
	}
}

static veil_status read_keys(reader *r, veil_schema *s)
{
	yaml_mark_t top = here(r);
	bool seen[K_COUNT] = {false};
	for (;;) {
		veil_status st = veil_yread_next(r);
		if (st)
			return st;
		if (r->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (r->ev.type != YAML_SCALAR_EVENT)
			return fail(r->err, &r->ev.start_mark, VEIL_E_INVALID, "a key must be a name, not %s",
			            veil_yread_event_what(r->ev.type));
		int k = 0;
		while (k < K_COUNT && strcmp(veil_yread_scalar(r), keys[k]) != 0)
			k++;
		if (k == K_COUNT)
			return fail(r->err, &r->ev.start_mark, VEIL_E_INVALID,
			            "unknown key '%.40s' (known: version, classification, columns)",
			            veil_yread_scalar(r));
		if (seen[k])
			return fail(r->err, &r->ev.start_mark, VEIL_E_INVALID, "key '%s' appears twice",
			            keys[k]);
		seen[k] = true;
		if ((st = read_top_value(r, k, s)))
			return st;
	}
	for (int k = 0; k < K_COUNT; k++)
		if (k != K_CLASSIFICATION && !seen[k])
			return fail(r->err, &top, VEIL_E_INVALID,
			            "the schema has no '%s' key, which is required", keys[k]);
	return VEIL_OK;
}

veil_status veil_schema_parse(const char *text, size_t len, veil_schema **out, veil_err *err)
{
	*out = NULL;
	if (!text && len)
		return veil_err_set(err, VEIL_E_INVALID, "no schema text");
	if (len > VEIL_SCHEMA_MAX_BYTES)
		return veil_err_set(err, VEIL_E_LIMIT, "the schema is larger than %u bytes",
		                    VEIL_SCHEMA_MAX_BYTES);
	veil_schema *s = NULL;
	veil_status st = veil_schema_new(&s, err);
	if (st)
		return st;
	reader r;
	st = veil_yread_begin(&r, text, len, "schema", err);
	if (!st)
		st = read_keys(&r, s);
	if (!st)
		st = veil_yread_end(&r);
	veil_yread_close(&r);
	if (st) {
		veil_schema_free(s);
		return st;
	}
	*out = s;
	return VEIL_OK;
}

veil_status veil_schema_load(const char *path, veil_schema **out, veil_err *err)
{
	*out = NULL;
	veil_buf b = {0};
	veil_status st = veil_fs_read_file(path, VEIL_SCHEMA_MAX_BYTES, &b, err);
	if (!st)
		st = veil_schema_parse((const char *)b.data, b.len, out, err);
	veil_buf_free(&b);
	if (st)
		veil_err_wrap(err, "%s", path);
	return st;
}

/* ---- writing ---- */

/* s as a YAML double-quoted scalar: printable characters as they are,
 * everything libyaml would refuse or fold (controls, DEL, C1, line and
 * paragraph separators, BOM, U+FFFE/F) escaped. */
static veil_status put_quoted(veil_buf *b, const char *s, veil_err *err)
{
	size_t n = strlen(s);
	veil_status st = veil_buf_append(b, "\"", 1, err);
	for (size_t i = 0; !st && i < n;) {
		uint32_t cp = 0;
		size_t k = utf8_next((const unsigned char *)s + i, n - i, &cp);
		if (!k)
			return veil_err_set(err, VEIL_E_INTERNAL, "a schema string is not UTF-8");
		bool printable = (cp >= 0x20 && cp <= 0x7e) ||
		                 (cp >= 0xa0 && cp <= 0xd7ff && cp != 0x2028 && cp != 0x2029) ||
		                 (cp >= 0xe000 && cp <= 0xfffd && cp != 0xfeff) || cp >= 0x10000;
		if (cp == '"' || cp == '\\')
			st = veil_buf_printf(b, err, "\\%c", (char)cp);
		else if (printable)
			st = veil_buf_append(b, s + i, k, err);
		else if (cp <= 0xff)
			st = veil_buf_printf(b, err, "\\x%02x", (unsigned)cp);
		else
			st = veil_buf_printf(b, err, "\\u%04x", (unsigned)cp);
		i += k;
	}
	return st ? st : veil_buf_append(b, "\"", 1, err);
}

static veil_status put_bound(veil_buf *b, const veil_schema_column *c, const char *key, veil_schema_bound v,
                             veil_err *err)
{
	char text[64];
	switch (c->type) {
	case VEIL_COL_INT64:
		return veil_buf_printf(b, err, "    %s: %lld\n", key, (long long)v.i);
	case VEIL_COL_DOUBLE:
		format_float(v.f, text, sizeof text);
		return veil_buf_printf(b, err, "    %s: %s\n", key, text);
	case VEIL_COL_DATE:
	case VEIL_COL_TIMESTAMP:
		if (!format_date(v.i, c->type == VEIL_COL_TIMESTAMP, text, sizeof text))
			return veil_err_set(err, VEIL_E_INTERNAL, "a date bound cannot be written");
		return veil_buf_printf(b, err, "    %s: %s\n", key, text);
	case VEIL_COL_BOOL:
	case VEIL_COL_STRING:
	case VEIL_COL_CATEGORY:
		break;
	}
	return veil_err_set(err, VEIL_E_INTERNAL, "a bound on a column without bounds");
}

static veil_status put_column(veil_buf *b, const veil_schema_column *c, veil_err *err)
{
	veil_status st = veil_buf_append(b, "  - name: ", 10, err);
	if (!st)
		st = put_quoted(b, c->name, err);
	if (!st)
		st = veil_buf_printf(b, err, "\n    type: %s\n", veil_schema_type_name(c->type));
	static const char *const flag_keys[] = {"nullable", "unique", "quasi-identifier", "label"};
	const bool flags[] = {c->nullable, c->unique, c->quasi_identifier, c->label};
	for (size_t i = 0; !st && i < 4; i++)
		if (flags[i])
			st = veil_buf_printf(b, err, "    %s: true\n", flag_keys[i]);
	if (!st && c->pii != VEIL_PII_NONE)
		st = veil_buf_printf(b, err, "    pii: %s\n", veil_pii_name(c->pii));
	if (!st && c->has_min)
		st = put_bound(b, c, "min", c->min, err);
	if (!st && c->has_max)
		st = put_bound(b, c, "max", c->max, err);
	if (!st && c->nallowed) {
		st = veil_buf_append(b, "    allowed: [", 14, err);
		for (size_t i = 0; !st && i < c->nallowed; i++) {
			if (i)
				st = veil_buf_append(b, ", ", 2, err);
			if (!st)
				st = put_quoted(b, c->allowed[i], err);
		}
		if (!st)
			st = veil_buf_append(b, "]\n", 2, err);
	}
	if (!st && c->pattern) {
		st = veil_buf_append(b, "    pattern: ", 13, err);
		if (!st)
			st = put_quoted(b, c->pattern, err);
		if (!st)
			st = veil_buf_append(b, "\n", 1, err);
	}
	return st;
}

veil_status veil_schema_write(const veil_schema *s, veil_buf *out, veil_err *err)
{
	if (!s || !out)
		return veil_err_set(err, VEIL_E_INVALID, "no schema or no buffer to write to");
	if (!s->n)
		return veil_err_set(err, VEIL_E_INVALID, "a schema without columns cannot be written");
	size_t start = out->len;
	veil_status st = veil_buf_printf(out, err, "version: 1\n");
	if (!st && s->cls != VEIL_CLASS_UNSET)
		st = veil_buf_printf(out, err, "classification: %s\n", veil_data_class_name(s->cls));
	if (!st)
		st = veil_buf_printf(out, err, "columns:\n");
	for (size_t i = 0; !st && i < s->n; i++)
		st = put_column(out, &s->cols[i].pub, err);
	if (st)
		out->len = start;
	return st;
}
