/* The strict YAML document reader (veil/yaml_read.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "veil/yaml_read.h"

veil_status veil_yread_fail(veil_yread *r, yaml_mark_t m, veil_status code, const char *fmt, ...)
{
	char msg[VEIL_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof msg, fmt, ap); /* a long message is cut, never overrun */
	va_end(ap);
	return veil_err_set(r->err, code, "line %zu, column %zu: %s", m.line + 1, m.column + 1, msg);
}

const char *veil_yread_event_what(yaml_event_type_t t)
{
	switch (t) {
	case YAML_SCALAR_EVENT:
		return "a single value";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	default:
		return "the end of a block";
	}
}

veil_status veil_yread_next(veil_yread *r)
{
	if (r->have)
		yaml_event_delete(&r->ev);
	r->have = false;
	if (!yaml_parser_parse(&r->y, &r->ev)) {
		const yaml_parser_t *y = &r->y;
		if (y->context) /* where the broken construct began: an unclosed quote's opening */
			return veil_yread_fail(r, y->problem_mark, VEIL_E_INVALID,
			                       "%s (%s at line %zu, column %zu)",
			                       y->problem ? y->problem : "YAML syntax error", y->context,
			                       y->context_mark.line + 1, y->context_mark.column + 1);
		return veil_yread_fail(r, y->problem_mark, VEIL_E_INVALID, "%s",
		                       y->problem ? y->problem : "YAML syntax error");
	}
	r->have = true;
	const yaml_event_t *e = &r->ev;
	bool decorated = false;
	switch (e->type) {
	case YAML_ALIAS_EVENT:
		return veil_yread_fail(r, e->start_mark, VEIL_E_INVALID, "aliases are not allowed in a %s",
		                       r->doc);
	case YAML_SCALAR_EVENT:
		decorated = e->data.scalar.anchor || e->data.scalar.tag;
		if (strlen((const char *)e->data.scalar.value) != e->data.scalar.length)
			return veil_yread_fail(r, e->start_mark, VEIL_E_INVALID,
			                       "a value holds a NUL character");
		break;
	case YAML_SEQUENCE_START_EVENT:
		decorated = e->data.sequence_start.anchor || e->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		decorated = e->data.mapping_start.anchor || e->data.mapping_start.tag;
		break;
	default:
		break;
	}
	if (decorated)
		return veil_yread_fail(r, e->start_mark, VEIL_E_INVALID,
		                       "anchors and tags are not allowed in a %s", r->doc);
	return VEIL_OK;
}

veil_status veil_yread_want(veil_yread *r, yaml_event_type_t t, const char *what, const char *type)
{
	veil_status st = veil_yread_next(r);
	if (st)
		return st;
	if (r->ev.type != t)
		return veil_yread_fail(r, r->ev.start_mark, VEIL_E_INVALID, "%s must be %s, not %s", what,
		                       type, veil_yread_event_what(r->ev.type));
	return VEIL_OK;
}

veil_status veil_yread_item(veil_yread *r, const char *what, yaml_event_type_t t, const char *type, bool *end)
{
	veil_status st = veil_yread_next(r);
	if (st)
		return st;
	*end = r->ev.type == YAML_SEQUENCE_END_EVENT;
	if (!*end && r->ev.type != t)
		return veil_yread_fail(r, r->ev.start_mark, VEIL_E_INVALID,
		                       "each entry of %s must be %s, not %s", what, type,
		                       veil_yread_event_what(r->ev.type));
	return VEIL_OK;
}

veil_status veil_yread_bool(veil_yread *r, const char *what, bool *out)
{
	veil_status st = veil_yread_want(r, YAML_SCALAR_EVENT, what, "true or false");
	if (st)
		return st;
	bool plain = r->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	if (plain && strcmp(veil_yread_scalar(r), "true") == 0)
		*out = true;
	else if (plain && strcmp(veil_yread_scalar(r), "false") == 0)
		*out = false;
	else
		return veil_yread_fail(r, r->ev.start_mark, VEIL_E_INVALID, "%s must be true or false", what);
	return VEIL_OK;
}

const char *veil_yread_scalar(const veil_yread *r)
{
	return (const char *)r->ev.data.scalar.value;
}

veil_status veil_yread_begin(veil_yread *r, const char *text, size_t len, const char *doc, veil_err *err)
{
	memset(r, 0, sizeof *r);
	r->err = err;
	r->doc = doc;
	if (!yaml_parser_initialize(&r->y))
		return veil_err_set(err, VEIL_E_NOMEM, "cannot start the YAML parser");
	r->started = true;
	yaml_parser_set_input_string(&r->y, (const unsigned char *)(text ? text : ""), len);
	veil_status st = veil_yread_next(r); /* stream start */
	if (!st)
		st = veil_yread_next(r);
	if (st)
		return st;
	if (r->ev.type != YAML_DOCUMENT_START_EVENT)
		return veil_yread_fail(r, r->ev.start_mark, VEIL_E_INVALID, "the %s is empty", doc);
	if ((st = veil_yread_next(r)))
		return st;
	if (r->ev.type != YAML_MAPPING_START_EVENT)
		return veil_yread_fail(r, r->ev.start_mark, VEIL_E_INVALID,
		                       "a %s is a mapping of keys to values, not %s", doc,
		                       veil_yread_event_what(r->ev.type));
	return VEIL_OK;
}

veil_status veil_yread_end(veil_yread *r)
{
	veil_status st = veil_yread_next(r); /* document end */
	if (!st)
		st = veil_yread_next(r);
	if (st)
		return st;
	if (r->ev.type != YAML_STREAM_END_EVENT)
		return veil_yread_fail(r, r->ev.start_mark, VEIL_E_INVALID, "a %s is one YAML document",
		                       r->doc);
	return VEIL_OK;
}

void veil_yread_close(veil_yread *r)
{
	if (r->have)
		yaml_event_delete(&r->ev);
	r->have = false;
	if (r->started)
		yaml_parser_delete(&r->y);
	r->started = false;
}
