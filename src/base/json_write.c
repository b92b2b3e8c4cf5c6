/*
 * A small streaming JSON writer (veil/json_write.h). The trusted worker
 * writes its reports with it because it does not link jansson; the state
 * is a stack of "is an object / has a member" flags, and the first failure
 * sticks so that callers check once, at veil_jw_finish.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "veil/json_write.h"

void veil_jw_init(veil_jw *w, veil_buf *out)
{
	memset(w, 0, sizeof *w);
	w->out = out;
}

static void fail(veil_jw *w, veil_status st, const char *what)
{
	if (w->st)
		return;
	w->st = veil_err_set(&w->err, st, "JSON writer: %s", what);
}

static void put(veil_jw *w, const void *p, size_t n)
{
	if (!w->st && veil_buf_append(w->out, p, n, &w->err))
		w->st = w->err.code;
}

/* Before any value: a value inside an object needs its key first; one in
 * an array needs a comma after the previous member. */
static bool begin_value(veil_jw *w)
{
	if (w->st)
		return false;
	if (w->depth > 0 && w->is_object[w->depth]) {
		if (!w->after_key) {
			fail(w, VEIL_E_INVALID, "a value inside an object needs a key");
			return false;
		}
		w->after_key = false;
		return true;
	}
	if (w->depth == 0 && w->need_comma[0]) {
		fail(w, VEIL_E_INVALID, "a document holds one value");
		return false;
	}
	if (w->need_comma[w->depth])
		put(w, ",", 1);
	w->need_comma[w->depth] = true;
	return !w->st;
}

static void open_container(veil_jw *w, bool object)
{
	if (!begin_value(w))
		return;
	if (w->depth >= VEIL_JW_DEPTH_MAX) {
		fail(w, VEIL_E_LIMIT, "nesting deeper than 32");
		return;
	}
	put(w, object ? "{" : "[", 1);
	w->depth++;
	w->is_object[w->depth] = object;
	w->need_comma[w->depth] = false;
}

void veil_jw_object(veil_jw *w)
{
	open_container(w, true);
}

void veil_jw_array(veil_jw *w)
{
	open_container(w, false);
}

void veil_jw_end(veil_jw *w)
{
	if (w->st)
		return;
	if (w->depth == 0 || w->after_key) {
		fail(w, VEIL_E_INVALID, w->depth == 0 ? "nothing open to end" : "a key has no value");
		return;
	}
	put(w, w->is_object[w->depth] ? "}" : "]", 1);
	w->depth--;
}

/* Writes s[0..n) as a JSON string: valid UTF-8 only, with '"', '\\' and
 * control characters escaped (RFC 8259 section 7). */
static void put_string(veil_jw *w, const char *s, size_t n)
{
	size_t bad;
	if (!veil_utf8_valid((const uint8_t *)s, n, &bad)) {
		fail(w, VEIL_E_INVALID, "a string is not valid UTF-8");
		return;
	}
	put(w, "\"", 1);
	size_t run = 0; /* bytes copied as they are, written in one append */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(w, s + run, i - run);
		run = i + 1;
		char esc[8];
		switch (c) {
		case '"':
			put(w, "\\\"", 2);
			break;
		case '\\':
			put(w, "\\\\", 2);
			break;
		case '\n':
			put(w, "\\n", 2);
			break;
		case '\r':
			put(w, "\\r", 2);
			break;
		case '\t':
			put(w, "\\t", 2);
			break;
		default:
			snprintf(esc, sizeof esc, "\\u%04x", c);
			put(w, esc, 6);
		}
	}
	put(w, s + run, n - run);
	put(w, "\"", 1);
}

void veil_jw_key(veil_jw *w, const char *key)
{
	if (w->st)
		return;
	if (w->depth == 0 || !w->is_object[w->depth] || w->after_key) {
		fail(w, VEIL_E_INVALID, w->after_key ? "a key has no value" : "a key outside an object");
		return;
	}
	if (w->need_comma[w->depth])
		put(w, ",", 1);
	w->need_comma[w->depth] = true;
	put_string(w, key, strlen(key));
	put(w, ":", 1);
	w->after_key = true;
}

void veil_jw_strn(veil_jw *w, const char *s, size_t n)
{
	if (begin_value(w))
		put_string(w, s, n);
}

void veil_jw_str(veil_jw *w, const char *s)
{
	veil_jw_strn(w, s, strlen(s));
}

static void put_number(veil_jw *w, const char *fmt, ...) VEIL_PRINTF(2, 3);
static void put_number(veil_jw *w, const char *fmt, ...)
{
	char num[40];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(num, sizeof num, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof num)
		fail(w, VEIL_E_INTERNAL, "a number did not fit");
	else
		put(w, num, (size_t)n);
}

void veil_jw_int(veil_jw *w, int64_t v)
{
	if (begin_value(w))
		put_number(w, "%" PRId64, v);
}

void veil_jw_uint(veil_jw *w, uint64_t v)
{
	if (begin_value(w))
		put_number(w, "%" PRIu64, v);
}

void veil_jw_double(veil_jw *w, double v)
{
	if (!begin_value(w))
		return;
	if (!isfinite(v)) {
		put(w, "null", 4);
		return;
	}
	/* The shortest of %.15g and %.17g that reads back as v: 0.1 stays
	 * "0.1" instead of "0.10000000000000001". */
	char num[40];
	snprintf(num, sizeof num, "%.15g", v);
	if (strtod(num, NULL) != v)
		snprintf(num, sizeof num, "%.17g", v);
	put(w, num, strlen(num));
}

void veil_jw_bool(veil_jw *w, bool v)
{
	if (begin_value(w))
		put(w, v ? "true" : "false", v ? 4 : 5);
}

void veil_jw_null(veil_jw *w)
{
	if (begin_value(w))
		put(w, "null", 4);
}

void veil_jw_kstr(veil_jw *w, const char *key, const char *s)
{
	veil_jw_key(w, key);
	veil_jw_str(w, s);
}

void veil_jw_kint(veil_jw *w, const char *key, int64_t v)
{
	veil_jw_key(w, key);
	veil_jw_int(w, v);
}

void veil_jw_kuint(veil_jw *w, const char *key, uint64_t v)
{
	veil_jw_key(w, key);
	veil_jw_uint(w, v);
}

void veil_jw_kdouble(veil_jw *w, const char *key, double v)
{
	veil_jw_key(w, key);
	veil_jw_double(w, v);
}

void veil_jw_kbool(veil_jw *w, const char *key, bool v)
{
	veil_jw_key(w, key);
	veil_jw_bool(w, v);
}

veil_status veil_jw_finish(veil_jw *w, veil_err *err)
{
	if (!w->st && (w->depth != 0 || w->after_key))
		fail(w, VEIL_E_INVALID, w->after_key ? "a key has no value" : "a container is still open");
	if (!w->st && !w->need_comma[0])
		fail(w, VEIL_E_INVALID, "nothing was written");
	if (w->st && err)
		*err = w->err;
	return w->st;
}
