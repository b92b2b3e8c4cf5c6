/*
 * A small, bounded YAML reader for configuration: nested mappings of
 * scalars flattened into dotted keys. libyaml does the parsing; this file
 * only walks its events and enforces the limits in base.h.
 */
#include "veil/base.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

const char *veil_yaml_get(const veil_yaml_map *m, const char *key)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->items[i].key, key) == 0)
			return m->items[i].value;
	return NULL;
}

void veil_yaml_free(veil_yaml_map *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->items[i].key);
		free(m->items[i].value);
	}
	free(m->items);
	m->items = NULL;
	m->n = 0;
}

static veil_status add(veil_yaml_map *m, const char *key, const char *value, int line, const char *name,
                       veil_err *err)
{
	if (veil_yaml_get(m, key))
		return veil_err_set(err, VEIL_E_INVALID, "%s:%d: key '%s' appears twice", name, line, key);
	if (m->n >= VEIL_YAML_MAX_KEYS)
		return veil_err_set(err, VEIL_E_LIMIT, "%s: more than %u keys", name, VEIL_YAML_MAX_KEYS);
	veil_kv *items = realloc(m->items, (m->n + 1) * sizeof *items);
	if (!items)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory reading %s", name);
	m->items = items;
	char *k = strdup(key), *v = strdup(value);
	if (!k || !v) {
		free(k);
		free(v);
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory reading %s", name);
	}
	m->items[m->n].key = k;
	m->items[m->n].value = v;
	m->items[m->n].line = line;
	m->n++;
	return VEIL_OK;
}

veil_status veil_yaml_parse_map(const char *text, size_t len, const char *name, veil_yaml_map *out,
                                veil_err *err)
{
	memset(out, 0, sizeof *out);
	if (len > VEIL_YAML_MAX_BYTES)
		return veil_err_set(err, VEIL_E_LIMIT, "%s is larger than %u bytes", name,
		                    VEIL_YAML_MAX_BYTES);
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p))
		return veil_err_set(err, VEIL_E_NOMEM, "cannot start the YAML parser");
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);

	char prefix[VEIL_YAML_MAX_DEPTH][128];
	int depth = 0;         /* mapping nesting level */
	bool want_key = false; /* inside a mapping, next scalar is a key */
	char key[128] = "";
	veil_status st = VEIL_OK;
	for (bool done = false; !done && !st;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			st = veil_err_set(err, VEIL_E_INVALID, "%s:%zu:%zu: %s", name,
			                  p.problem_mark.line + 1, p.problem_mark.column + 1,
			                  p.problem ? p.problem : "YAML syntax error");
			break;
		}
		int line = (int)ev.start_mark.line + 1;
		switch (ev.type) {
		case YAML_MAPPING_START_EVENT:
			if (depth > 0 && want_key) {
				st = veil_err_set(err, VEIL_E_INVALID, "%s:%d: a mapping cannot be a key",
				                  name, line);
				break;
			}
			if (depth >= VEIL_YAML_MAX_DEPTH) {
				st = veil_err_set(err, VEIL_E_LIMIT, "%s:%d: nested deeper than %d", name,
				                  line, VEIL_YAML_MAX_DEPTH);
				break;
			}
			if (depth == 0)
				prefix[0][0] = '\0';
			else
				st = veil_fmt(prefix[depth], sizeof prefix[depth], err, "%s%s.",
				              prefix[depth - 1], key);
			depth++;
			want_key = true;
			break;
		case YAML_MAPPING_END_EVENT:
			depth--;
			want_key = true;
			break;
		case YAML_SCALAR_EVENT:
			if (depth == 0) {
				st = veil_err_set(err, VEIL_E_INVALID,
				                  "%s:%d: expected a mapping of keys to values", name, line);
			} else if (want_key) {
				st = veil_fmt(key, sizeof key, err, "%s", (const char *)ev.data.scalar.value);
				want_key = false;
			} else {
				char full[256];
				st = veil_fmt(full, sizeof full, err, "%s%s", prefix[depth - 1], key);
				if (!st)
					st = add(out, full, (const char *)ev.data.scalar.value, line, name,
					         err);
				want_key = true;
			}
			break;
		case YAML_SEQUENCE_START_EVENT:
			st = veil_err_set(err, VEIL_E_INVALID, "%s:%d: lists are not supported here", name,
			                  line);
			break;
		case YAML_ALIAS_EVENT:
			st = veil_err_set(err, VEIL_E_INVALID, "%s:%d: aliases are not supported", name,
			                  line);
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (st)
		veil_yaml_free(out);
	return st;
}

veil_status veil_yaml_load_map(const char *path, veil_yaml_map *out, veil_err *err)
{
	veil_buf b = {0};
	veil_status st = veil_fs_read_file(path, VEIL_YAML_MAX_BYTES, &b, err);
	if (!st)
		st = veil_yaml_parse_map(b.data ? (const char *)b.data : "", b.len, path, out, err);
	veil_buf_free(&b);
	return st;
}
