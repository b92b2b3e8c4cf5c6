/*
 * veil base: a small streaming JSON writer (RFC 8259) for the documents
 * code that cannot link jansson produces: the trusted worker's reports.
 *
 * Errors are sticky, so a report can be written as a straight sequence of
 * calls and checked once at the end: the first failure (out of memory, a
 * string that is not UTF-8, a key where a value belongs, nesting deeper
 * than VEIL_JW_DEPTH_MAX) is kept, every later call does nothing, and
 * veil_jw_finish returns it. Output is compact (no spaces) and in the
 * order written, so the same calls give the same bytes: reports are signed.
 */
#ifndef VEIL_JSON_WRITE_H
#define VEIL_JSON_WRITE_H

#include "veil/base.h"

#define VEIL_JW_DEPTH_MAX 32

typedef struct veil_jw {
	veil_buf *out;
	veil_status st; /* the first failure, VEIL_OK so far */
	veil_err err;
	unsigned depth;
	bool need_comma[VEIL_JW_DEPTH_MAX + 1]; /* the container at this depth has a member already */
	bool is_object[VEIL_JW_DEPTH_MAX + 1];
	bool after_key; /* a key was written: a value must follow */
} veil_jw;

/* Appends to out (which the caller owns and frees). */
void veil_jw_init(veil_jw *w, veil_buf *out);
void veil_jw_object(veil_jw *w); /* { */
void veil_jw_array(veil_jw *w);  /* [ */
void veil_jw_end(veil_jw *w);    /* } or ], whichever is open */
/* A member's key; only inside an object, and each key must be followed by
 * exactly one value (or container). */
void veil_jw_key(veil_jw *w, const char *key);
/* Values. Strings must be valid UTF-8 (VEIL_E_INVALID otherwise); control
 * characters, '"' and '\\' are escaped. A double that is not finite is
 * written as null; others with up to 17 significant digits, enough to read
 * back the same double. */
void veil_jw_str(veil_jw *w, const char *s);
void veil_jw_strn(veil_jw *w, const char *s, size_t n);
void veil_jw_int(veil_jw *w, int64_t v);
void veil_jw_uint(veil_jw *w, uint64_t v);
void veil_jw_double(veil_jw *w, double v);
void veil_jw_bool(veil_jw *w, bool v);
void veil_jw_null(veil_jw *w);
/* Key and value in one call, the common case in reports. */
void veil_jw_kstr(veil_jw *w, const char *key, const char *s);
void veil_jw_kint(veil_jw *w, const char *key, int64_t v);
void veil_jw_kuint(veil_jw *w, const char *key, uint64_t v);
void veil_jw_kdouble(veil_jw *w, const char *key, double v);
void veil_jw_kbool(veil_jw *w, const char *key, bool v);
/* The first failure, or VEIL_E_INVALID when a container is still open or a
 * key has no value; copied into err. */
veil_status veil_jw_finish(veil_jw *w, veil_err *err) VEIL_MUST_CHECK;

#endif
