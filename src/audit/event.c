/*
 * Audit events and their canonical leaf encoding: one JSON object with the
 * fields sorted, no whitespace and every non-ASCII character escaped
 * (jansson's JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII), so the same
 * event always hashes the same. Encoding and decoding apply one set of
 * rules, so a leaf read back from disk or from a proof is held to the same
 * bounds as one appended.
 */
#include "audit_int.h"

#include <stdlib.h>
#include <string.h>

#define CANON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)

static veil_status check_text(const char *s, const char *field, size_t max, bool may_be_empty, veil_err *err)
{
	if (!s)
		return veil_err_set(err, VEIL_E_INVALID, "the audit event has no %s", field);
	size_t n = strnlen(s, max + 1);
	if (n > max) {
		veil_err_set(err, VEIL_E_LIMIT, "the audit event's %s is longer than %zu bytes", field, max);
		veil_err_hint(err, "shorten the %s; put long details in the event's detail object", field);
		return VEIL_E_LIMIT;
	}
	if (n == 0 && !may_be_empty)
		return veil_err_set(err, VEIL_E_INVALID, "the audit event's %s is empty", field);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return veil_err_set(err, VEIL_E_INVALID,
			                    "the audit event's %s has a control character at byte %zu", field,
			                    i + 1);
	}
	return VEIL_OK;
}

static veil_status check_action(const char *a, veil_err *err)
{
	veil_status st = check_text(a, "action", VEIL_AUDIT_ACTION_MAX, false, err);
	if (st)
		return st;
	for (size_t i = 0; a[i]; i++) {
		char c = a[i];
		bool ok = (c >= 'a' && c <= 'z') ||
		          (i > 0 && ((c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'));
		if (!ok) {
			veil_err_set(err, VEIL_E_INVALID,
			             "the audit event's action has a character not allowed at position %zu",
			             i + 1);
			veil_err_hint(err, "actions are lowercase words joined by '.', like data.upload");
			return VEIL_E_INVALID;
		}
	}
	return VEIL_OK;
}

static veil_status check_outcome(const char *o, veil_err *err)
{
	if (o && (!strcmp(o, "ok") || !strcmp(o, "denied") || !strcmp(o, "failed")))
		return VEIL_OK;
	veil_err_set(err, VEIL_E_INVALID,
	             "the audit event's outcome must be \"ok\", \"denied\" or \"failed\"");
	return VEIL_E_INVALID;
}

static veil_status check_time(int64_t t, veil_err *err)
{
	if (t < 0 || t > VEIL_AUDIT_TIME_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "the audit event's time %lld is outside 1970..9999",
		                    (long long)t);
	return VEIL_OK;
}

static veil_status check_event(const veil_audit_event *ev, veil_err *err)
{
	veil_status st = check_text(ev->actor, "actor", VEIL_AUDIT_ACTOR_MAX, false, err);
	if (!st)
		st = check_action(ev->action, err);
	if (!st)
		st = check_text(ev->resource, "resource", VEIL_AUDIT_RESOURCE_MAX, true, err);
	if (!st)
		st = check_outcome(ev->outcome, err);
	return st;
}

/* Parses detail text into an object, bounded and strict. */
static veil_status parse_detail(const char *text, json_t **out, veil_err *err)
{
	size_t n = strnlen(text, VEIL_AUDIT_DETAIL_MAX + 1);
	if (n > VEIL_AUDIT_DETAIL_MAX) {
		veil_err_set(err, VEIL_E_LIMIT, "the audit event's detail is longer than %u bytes",
		             VEIL_AUDIT_DETAIL_MAX);
		veil_err_hint(err, "record a summary, or a reference to the full data, in the detail");
		return VEIL_E_LIMIT;
	}
	json_error_t je;
	json_t *d = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
	if (!d)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "the audit event's detail is not valid JSON: %s (column %d)", je.text,
		                    je.column);
	if (!json_is_object(d)) {
		json_decref(d);
		return veil_err_set(err, VEIL_E_INVALID, "the audit event's detail must be a JSON object");
	}
	*out = d;
	return VEIL_OK;
}

/* json_stringn fails on invalid UTF-8: say which field. */
static veil_status put_str(json_t *o, const char *key, const char *s, veil_err *err)
{
	json_t *v = json_stringn(s, strlen(s));
	if (!v)
		return veil_err_set(err, VEIL_E_INVALID, "the audit event's %s is not valid UTF-8", key);
	if (json_object_set_new(o, key, v) != 0)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory encoding an audit event");
	return VEIL_OK;
}

static veil_status build(const veil_audit_event *ev, int64_t t, json_t *detail, json_t *o, veil_err *err)
{
	if (json_object_set_new(o, "v", json_integer(AUDIT_EVENT_VERSION)) != 0 ||
	    json_object_set_new(o, "time", json_integer((json_int_t)t)) != 0)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory encoding an audit event");
	veil_status st = put_str(o, "actor", ev->actor, err);
	if (!st)
		st = put_str(o, "action", ev->action, err);
	if (!st)
		st = put_str(o, "resource", ev->resource, err);
	if (!st)
		st = put_str(o, "outcome", ev->outcome, err);
	if (!st && detail && json_object_set(o, "detail", detail) != 0)
		st = veil_err_set(err, VEIL_E_NOMEM, "out of memory encoding an audit event");
	return st;
}

veil_status audit_event_encode(const veil_audit_event *ev, int64_t now, veil_buf *out, veil_err *err)
{
	if (!ev)
		return veil_err_set(err, VEIL_E_INVALID, "no audit event given");
	int64_t t = ev->time ? ev->time : now;
	veil_status st = check_time(t, err);
	if (!st)
		st = check_event(ev, err);
	if (st)
		return st;
	json_t *detail = NULL, *o = NULL;
	char *text = NULL;
	if (ev->detail && (st = parse_detail(ev->detail, &detail, err)))
		return st;
	if (!(o = json_object()))
		st = VEIL_E_NOMEM;
	if (!st)
		st = build(ev, t, detail, o, err);
	if (!st && !(text = json_dumps(o, CANON_FLAGS)))
		st = VEIL_E_NOMEM;
	if (st == VEIL_E_NOMEM)
		veil_err_set(err, st, "out of memory encoding an audit event");
	if (!st && strlen(text) > VEIL_AUDIT_LEAF_MAX) {
		veil_err_set(err, VEIL_E_LIMIT,
		             "the audit event is %zu bytes in canonical form, over the %u-byte limit",
		             strlen(text), VEIL_AUDIT_LEAF_MAX);
		veil_err_hint(
		        err,
		        "shorten the detail (non-ASCII text takes up to 12 bytes a character once escaped)");
		st = VEIL_E_LIMIT;
	}
	if (!st)
		st = veil_buf_append(out, text, strlen(text), err);
	free(text);
	json_decref(o);
	json_decref(detail);
	return st;
}

/* The string member `key` of o, which must exist and hold no NUL. */
static veil_status get_str(json_t *o, const char *key, const char **out, veil_err *err)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return veil_err_set(err, VEIL_E_INVALID, "the event's \"%s\" is missing or not a string",
		                    key);
	*out = json_string_value(v);
	return VEIL_OK;
}

static veil_status decode_fields(json_t *o, audit_decoded *d, veil_err *err)
{
	json_t *v = json_object_get(o, "v"), *t = json_object_get(o, "time");
	json_t *detail = json_object_get(o, "detail");
	size_t expect = detail ? 7 : 6;
	if (!json_is_integer(v) || json_integer_value(v) != AUDIT_EVENT_VERSION)
		return veil_err_set(err, VEIL_E_UNSUPPORTED, "the event is not a version %d audit event",
		                    AUDIT_EVENT_VERSION);
	if (json_object_size(o) != expect)
		return veil_err_set(err, VEIL_E_INVALID, "the event has fields other than the audit event's");
	if (!json_is_integer(t))
		return veil_err_set(err, VEIL_E_INVALID, "the event's \"time\" is missing or not an integer");
	d->ev.time = (int64_t)json_integer_value(t);
	veil_status st = check_time(d->ev.time, err);
	if (!st)
		st = get_str(o, "actor", &d->ev.actor, err);
	if (!st)
		st = get_str(o, "action", &d->ev.action, err);
	if (!st)
		st = get_str(o, "resource", &d->ev.resource, err);
	if (!st)
		st = get_str(o, "outcome", &d->ev.outcome, err);
	if (!st)
		st = check_event(&d->ev, err);
	if (st || !detail)
		return st;
	if (!json_is_object(detail))
		return veil_err_set(err, VEIL_E_INVALID, "the event's \"detail\" is not an object");
	if (!(d->detail = json_dumps(detail, CANON_FLAGS)))
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory decoding an audit event");
	d->ev.detail = d->detail;
	return VEIL_OK;
}

veil_status audit_event_decode(const uint8_t *leaf, size_t n, audit_decoded *d, veil_err *err)
{
	memset(d, 0, sizeof *d);
	if (n == 0 || n > VEIL_AUDIT_LEAF_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "an audit leaf of %zu bytes cannot be an event", n);
	json_error_t je;
	d->root = json_loadb((const char *)leaf, n, JSON_REJECT_DUPLICATES, &je);
	if (!d->root)
		return veil_err_set(err, VEIL_E_INVALID, "the leaf is not valid JSON: %s (column %d)",
		                    je.text, je.column);
	veil_status st = json_is_object(d->root)
	                         ? decode_fields(d->root, d, err)
	                         : veil_err_set(err, VEIL_E_INVALID, "the leaf is not a JSON object");
	if (st)
		audit_decoded_free(d);
	return st;
}

void audit_decoded_free(audit_decoded *d)
{
	json_decref(d->root);
	free(d->detail);
	memset(d, 0, sizeof *d);
}
