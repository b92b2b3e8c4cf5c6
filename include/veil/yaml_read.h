/*
 * veil base: a strict reader of one YAML document of keys and values, over
 * libyaml's events (src/base/yaml_read.c). The file formats that people
 * write and veil must not misread (key-release policies, schemas,
 * pipelines) share it: anchors, aliases, tags, NUL characters and further
 * documents are refused, and every error starts "line L, column C: ".
 *
 * Use: veil_yread_begin (the document's top-level mapping is open), then
 * veil_yread_next / veil_yread_want for each key and value until the
 * mapping's end event, then veil_yread_end, and veil_yread_close always.
 */
#ifndef VEIL_YAML_READ_H
#define VEIL_YAML_READ_H

#include <yaml.h>

#include "veil/base.h"

typedef struct veil_yread {
	yaml_parser_t y;
	yaml_event_t ev; /* the current event */
	bool have;       /* ev holds an event to delete */
	bool started;    /* y was initialised */
	veil_err *err;
	const char *doc; /* what the document is, for messages: "release policy", "schema" */
} veil_yread;

/* Starts reading text (len bytes, no NUL needed) as one `doc`: the stream
 * and document start and the top-level mapping are read. VEIL_E_INVALID
 * ("the <doc> is empty", "a <doc> is a mapping of keys to values, not a
 * list") or VEIL_E_NOMEM. Call veil_yread_close whatever it returns. */
veil_status veil_yread_begin(veil_yread *r, const char *text, size_t len, const char *doc,
                             veil_err *err) VEIL_MUST_CHECK;
/* After the top-level mapping's end: the document must be the only one. */
veil_status veil_yread_end(veil_yread *r) VEIL_MUST_CHECK;
void veil_yread_close(veil_yread *r);

/* The next event into r->ev; libyaml's syntax errors and what no veil
 * document holds (aliases, anchors, tags, NUL in a value) are refused. */
veil_status veil_yread_next(veil_yread *r) VEIL_MUST_CHECK;
/* The next event, which must be of type t: "<what> must be <type>, not a
 * list" otherwise. */
veil_status veil_yread_want(veil_yread *r, yaml_event_type_t t, const char *what,
                            const char *type) VEIL_MUST_CHECK;
/* The next entry of a list: *end is set at the list's end; otherwise the
 * event must be of type t: "each entry of <what> must be <type>, not a
 * mapping" otherwise. */
veil_status veil_yread_item(veil_yread *r, const char *what, yaml_event_type_t t, const char *type,
                            bool *end) VEIL_MUST_CHECK;
/* The next event as a plain `true` or `false` (quoted "true" is text, not
 * a bool): "<what> must be true or false" otherwise. */
veil_status veil_yread_bool(veil_yread *r, const char *what, bool *out) VEIL_MUST_CHECK;
/* The current scalar's text (NUL-terminated; no NUL inside). */
const char *veil_yread_scalar(const veil_yread *r);
/* Sets r->err to "line L, column C: " + the message, at mark m; returns code. */
veil_status veil_yread_fail(veil_yread *r, yaml_mark_t m, veil_status code, const char *fmt, ...)
        VEIL_PRINTF(4, 5);
/* "a single value", "a list", "a mapping", "the end of a block". */
const char *veil_yread_event_what(yaml_event_type_t t);

#endif
