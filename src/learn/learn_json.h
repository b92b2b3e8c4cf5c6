/*
 * A bounded JSON cursor (RFC 8259) for the two JSON texts the learn module
 * must read without jansson, which veil-worker does not link
 * (tests/worker/link-allowlist.txt): the safetensors header of a model
 * file and the "architecture" member of its manifest.
 *
 * It is a cursor, not a tree: callers walk the text with the grammar they
 * expect, so memory is whatever they choose to keep, and everything they
 * do not want is checked and skipped by lj_skip. Every read is bounded by
 * the text's length, strings by a caller-given maximum, nesting by
 * LJ_DEPTH_MAX. The text must be valid UTF-8 as a whole (callers check it
 * once with veil_utf8_valid before they start).
 *
 * Errors are VEIL_E_INVALID (or VEIL_E_LIMIT for a bound) with a message
 * "<what> offset N: ...", N counted from the start of the text; they never
 * quote the text, which may be anything.
 */
#ifndef VEIL_LEARN_JSON_H
#define VEIL_LEARN_JSON_H

#include "veil/base.h"

#define LJ_DEPTH_MAX 64

typedef struct lj {
	const uint8_t *p;
	size_t n, off;
	const char *what; /* names the text in errors: "safetensors header", "manifest" */
	veil_err *err;
} lj;

void lj_init(lj *j, const void *p, size_t n, const char *what, veil_err *err);
/* Sets err with "<what> offset <off>: " and the message; returns st. */
veil_status lj_fail(lj *j, veil_status st, const char *fmt, ...) VEIL_PRINTF(3, 4);
/* Skips JSON whitespace (space, tab, LF, CR). */
void lj_ws(lj *j);
/* After whitespace: consumes c if it is next. */
bool lj_eat(lj *j, char c);
/* After whitespace: consumes c or fails naming what was expected. */
veil_status lj_expect(lj *j, char c, const char *expected) VEIL_MUST_CHECK;
/* Reads a string, escapes decoded, into a fresh NUL-terminated buffer
 * (the caller frees it). Decoded strings of more than max bytes fail with
 * VEIL_E_LIMIT; U+0000 (an escaped NUL) and lone surrogates are refused,
 * so the result is UTF-8 without NUL. out may be NULL to check and skip. */
veil_status lj_string(lj *j, size_t max, char **out, size_t *len) VEIL_MUST_CHECK;
/* An unsigned integer in JSON's grammar: 0 or a digit string not starting
 * with 0, with no sign, fraction or exponent, at most UINT64_MAX. */
veil_status lj_uint(lj *j, uint64_t *out) VEIL_MUST_CHECK;
/* Any JSON number, finite as a double. */
veil_status lj_double(lj *j, double *out) VEIL_MUST_CHECK;
/* Checks and skips one value of any kind; depth is the nesting so far. */
veil_status lj_skip(lj *j, unsigned depth) VEIL_MUST_CHECK;

/* Object members: after lj_expect(j, '{'), call with *first true until
 * *key comes back NULL (the closing brace was consumed). Each call reads
 * the separating comma, the key (at most keymax bytes, freed by the
 * caller) and the colon; the value is the caller's to read next. */
veil_status lj_member(lj *j, bool *first, size_t keymax, char **key) VEIL_MUST_CHECK;
/* Array elements: after lj_expect(j, '['), call with *first true; *more
 * says whether a value follows (the caller reads it) or the closing
 * bracket was consumed. */
veil_status lj_element(lj *j, bool *first, bool *more) VEIL_MUST_CHECK;
/* Only whitespace may remain. */
veil_status lj_finish(lj *j) VEIL_MUST_CHECK;

#endif
