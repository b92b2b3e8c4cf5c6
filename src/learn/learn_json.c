/*
 * The bounded JSON cursor of learn_json.h: a recursive-descent reader that
 * keeps no state beyond its offset, so a hostile text costs at most its
 * own length in time and the strings the caller asks for in memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn_json.h"

#define NUM_TEXT_MAX 64 /* a number longer than this is refused, not parsed */

void lj_init(lj *j, const void *p, size_t n, const char *what, veil_err *err)
{
	j->p = p;
	j->n = n;
	j->off = 0;
	j->what = what;
	j->err = err;
}

veil_status lj_fail(lj *j, veil_status st, const char *fmt, ...)
{
	char msg[VEIL_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return veil_err_set(j->err, st, "%s offset %zu: %s", j->what, j->off, msg);
}

void lj_ws(lj *j)
{
	while (j->off < j->n) {
		uint8_t c = j->p[j->off];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return;
		j->off++;
	}
}

bool lj_eat(lj *j, char c)
{
	lj_ws(j);
	if (j->off < j->n && j->p[j->off] == (uint8_t)c) {
		j->off++;
		return true;
	}
	return false;
}

veil_status lj_expect(lj *j, char c, const char *expected)
{
	if (lj_eat(j, c))
		return VEIL_OK;
	return lj_fail(j, VEIL_E_INVALID, j->off < j->n ? "expected %s" : "the text ends where %s belongs",
	               expected);
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits after "\u" at j->off. */
static veil_status hex4(lj *j, unsigned *out)
{
	if (j->n - j->off < 4)
		return lj_fail(j, VEIL_E_INVALID, "a \\u escape needs four hex digits");
	unsigned v = 0;
	for (size_t k = 0; k < 4; k++) {
		int h = hexval(j->p[j->off + k]);
		if (h < 0)
			return lj_fail(j, VEIL_E_INVALID, "a \\u escape needs four hex digits");
		v = v << 4 | (unsigned)h;
	}
	j->off += 4;
	*out = v;
	return VEIL_OK;
}

/* Appends code point cp as UTF-8 to dst (which has room: callers reserve
 * 4 bytes per escape) and returns the bytes written. */
static size_t put_utf8(char *dst, unsigned cp)
{
	if (cp < 0x80) {
		dst[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		dst[0] = (char)(0xc0 | cp >> 6);
		dst[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		dst[0] = (char)(0xe0 | cp >> 12);
		dst[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		dst[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	dst[0] = (char)(0xf0 | cp >> 18);
	dst[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	dst[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	dst[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The escape after a backslash at j->off: its code point. */
static veil_status escape(lj *j, unsigned *cp)
{
	if (j->off >= j->n)
		return lj_fail(j, VEIL_E_INVALID, "the text ends inside an escape");
	uint8_t c = j->p[j->off++];
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *k = c ? strchr(from, c) : NULL;
	if (k) {
		*cp = (unsigned char)to[k - from];
		return VEIL_OK;
	}
	if (c != 'u') {
		j->off--;
		return lj_fail(j, VEIL_E_INVALID, "an unknown escape");
	}
	unsigned hi = 0;
	veil_status st = hex4(j, &hi);
	if (st)
		return st;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return lj_fail(j, VEIL_E_INVALID, "a low surrogate without a high one");
	if (hi >= 0xd800 && hi <= 0xdbff) {
		unsigned lo = 0;
		if (j->n - j->off < 2 || j->p[j->off] != '\\' || j->p[j->off + 1] != 'u')
			return lj_fail(j, VEIL_E_INVALID, "a high surrogate without a low one");
		j->off += 2;
		if ((st = hex4(j, &lo)))
			return st;
		if (lo < 0xdc00 || lo > 0xdfff)
			return lj_fail(j, VEIL_E_INVALID, "a high surrogate without a low one");
		hi = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (hi == 0)
		return lj_fail(j, VEIL_E_INVALID, "a string holds U+0000, which veil does not accept");
	*cp = hi;
	return VEIL_OK;
}

veil_status lj_string(lj *j, size_t max, char **out, size_t *len)
{
	if (out)
		*out = NULL;
	if (len)
		*len = 0;
	veil_status st = lj_expect(j, '"', "a string");
	if (st)
		return st;
	/* First pass: find the end and check every escape; the decoded text
	 * is never longer than the raw text, so that sizes the buffer. */
	size_t start = j->off, decoded = 0;
	for (;;) {
		if (j->off >= j->n)
			return lj_fail(j, VEIL_E_INVALID, "the text ends inside a string");
		uint8_t c = j->p[j->off];
		if (c == '"')
			break;
		if (c < 0x20)
			return lj_fail(j, VEIL_E_INVALID, "a control character inside a string");
		j->off++;
		if (c == '\\') {
			char tmp[4];
			unsigned cp = 0;
			if ((st = escape(j, &cp)))
				return st;
			decoded += put_utf8(tmp, cp);
		} else {
			decoded++;
		}
		if (decoded > max)
			return lj_fail(j, VEIL_E_LIMIT, "a string longer than %zu bytes", max);
	}
	size_t end = j->off++;
	if (len)
		*len = decoded;
	if (!out)
		return VEIL_OK;
	char *s = malloc(decoded + 1);
	if (!s)
		return veil_err_set(j->err, VEIL_E_NOMEM, "out of memory reading the %s", j->what);
	/* Second pass: decode. The escapes were checked above. */
	size_t o = 0;
	lj sub = *j;
	sub.off = start;
	while (sub.off < end) {
		uint8_t c = sub.p[sub.off++];
		unsigned cp = 0;
		if (c != '\\')
			s[o++] = (char)c;
		else if (escape(&sub, &cp) == VEIL_OK)
			o += put_utf8(s + o, cp);
	}
	s[o] = '\0';
	*out = s;
	return VEIL_OK;
}

static size_t digits(const lj *j, size_t i)
{
	size_t k = 0;
	while (i + k < j->n && j->p[i + k] >= '0' && j->p[i + k] <= '9')
		k++;
	return k;
}

/* The extent of a number in JSON's grammar at j->off (after whitespace):
 * its length, 0 when there is none. *integer says whether it has neither
 * sign, fraction nor exponent. */
static size_t number_len(lj *j, bool *integer)
{
	lj_ws(j);
	size_t i = j->off;
	*integer = true;
	if (i < j->n && j->p[i] == '-') {
		i++;
		*integer = false;
	}
	size_t a = digits(j, i);
	if (a == 0 || (a > 1 && j->p[i] == '0'))
		return 0;
	i += a;
	if (i < j->n && j->p[i] == '.') {
		size_t b = digits(j, i + 1);
		if (b == 0)
			return 0;
		i += 1 + b;
		*integer = false;
	}
	if (i < j->n && (j->p[i] == 'e' || j->p[i] == 'E')) {
		i++;
		if (i < j->n && (j->p[i] == '+' || j->p[i] == '-'))
			i++;
		size_t e = digits(j, i);
		if (e == 0)
			return 0;
		i += e;
		*integer = false;
	}
	return i - j->off;
}

veil_status lj_uint(lj *j, uint64_t *out)
{
	bool integer;
	size_t n = number_len(j, &integer);
	if (n == 0)
		return lj_fail(j, VEIL_E_INVALID, "expected a non-negative integer");
	if (!integer)
		return lj_fail(j, VEIL_E_INVALID,
		               "expected a non-negative integer, without sign, fraction or exponent");
	uint64_t v = 0;
	for (size_t k = 0; k < n; k++) {
		unsigned d = (unsigned)(j->p[j->off + k] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return lj_fail(j, VEIL_E_INVALID, "an integer above 2^64 - 1");
		v = v * 10 + d;
	}
	j->off += n;
	*out = v;
	return VEIL_OK;
}

veil_status lj_double(lj *j, double *out)
{
	bool integer;
	size_t n = number_len(j, &integer);
	if (n == 0)
		return lj_fail(j, VEIL_E_INVALID, "expected a number");
	if (n >= NUM_TEXT_MAX)
		return lj_fail(j, VEIL_E_LIMIT, "a number of more than %d characters", NUM_TEXT_MAX - 1);
	char tmp[NUM_TEXT_MAX];
	memcpy(tmp, j->p + j->off, n);
	tmp[n] = '\0';
	errno = 0;
	double d = strtod(tmp, NULL);
	if (errno == ERANGE && (d > 1.0 || d < -1.0))
		return lj_fail(j, VEIL_E_INVALID, "a number too large for a double");
	j->off += n;
	*out = d;
	return VEIL_OK;
}

static bool literal(lj *j, const char *word)
{
	size_t n = strlen(word);
	if (j->n - j->off < n || memcmp(j->p + j->off, word, n) != 0)
		return false;
	j->off += n;
	return true;
}

veil_status lj_skip(lj *j, unsigned depth)
{
	lj_ws(j);
	if (j->off >= j->n)
		return lj_fail(j, VEIL_E_INVALID, "the text ends where a value belongs");
	uint8_t c = j->p[j->off];
	veil_status st;
	if (c == '"')
		return lj_string(j, SIZE_MAX, NULL, NULL);
	if (c == '{' || c == '[') {
		if (depth >= LJ_DEPTH_MAX)
			return lj_fail(j, VEIL_E_LIMIT, "nesting deeper than %d", LJ_DEPTH_MAX);
		j->off++;
		bool first = true, more = true;
		while (more) {
			if (c == '{') {
				char *key = NULL;
				if ((st = lj_member(j, &first, SIZE_MAX, &key)))
					return st;
				more = key != NULL;
				free(key);
			} else if ((st = lj_element(j, &first, &more))) {
				return st;
			}
			if (more && (st = lj_skip(j, depth + 1)))
				return st;
		}
		return VEIL_OK;
	}
	if (literal(j, "true") || literal(j, "false") || literal(j, "null"))
		return VEIL_OK;
	double d;
	return lj_double(j, &d);
}

veil_status lj_member(lj *j, bool *first, size_t keymax, char **key)
{
	*key = NULL;
	if (lj_eat(j, '}'))
		return VEIL_OK;
	veil_status st;
	if (!*first && (st = lj_expect(j, ',', "',' or '}'")))
		return st;
	*first = false;
	lj_ws(j);
	if (j->off >= j->n || j->p[j->off] != '"')
		return lj_fail(j, VEIL_E_INVALID, "expected a member name");
	char *k;
	if ((st = lj_string(j, keymax, &k, NULL)))
		return st;
	if ((st = lj_expect(j, ':', "':'"))) {
		free(k);
		return st;
	}
	*key = k;
	return VEIL_OK;
}

veil_status lj_element(lj *j, bool *first, bool *more)
{
	*more = false;
	if (lj_eat(j, ']'))
		return VEIL_OK;
	veil_status st;
	if (!*first && (st = lj_expect(j, ',', "',' or ']'")))
		return st;
	*first = false;
	*more = true;
	return VEIL_OK;
}

veil_status lj_finish(lj *j)
{
	lj_ws(j);
	if (j->off != j->n)
		return lj_fail(j, VEIL_E_INVALID, "something other than whitespace after the value");
	return VEIL_OK;
}
