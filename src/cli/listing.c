/* Listing commands share one shape: open, authorize each entry, print a
 * table or JSON. */
#include "cli.h"

#include <stdio.h>

int cli_run_list(cli_global *g, bool json, veil_status (*fill)(cli_ws *, cli_list *, veil_err *),
                 void (*table)(json_t *), const char *arg)
{
	veil_err err;
	veil_err_clear(&err);
	cli_ws ws;
	if (cli_ws_open(g, 0, &ws, &err))
		return cli_fail(&err);
	cli_list c = {.ws = &ws, .arr = json_array(), .arg = arg};
	veil_status st = c.arr ? fill(&ws, &c, &err) : veil_err_set(&err, VEIL_E_NOMEM, "out of memory");
	/* The per-entry decisions were appended as one batch. */
	if (!st)
		st = veil_audit_commit(ws.audit, &err);
	/* An empty listing has nothing to decide on and shows nothing; a
	 * listing that shows entries must have decided on each. */
	if (!st && json_array_size(c.arr) == 0)
		g->decisions++;
	cli_ws_close(&ws);
	return cli_show(st, &err, c.arr, json, table);
}

veil_status cli_list_add(cli_list *c, json_t *row, veil_err *err)
{
	return json_array_append_new(c->arr, row) ? veil_err_set(err, VEIL_E_NOMEM, "out of memory")
	                                          : VEIL_OK;
}

int cli_show(veil_status st, const veil_err *err, json_t *o, bool json, void (*print)(json_t *))
{
	if (st) {
		json_decref(o);
		return cli_fail(err);
	}
	if (json)
		return cli_print_json(o);
	print(o);
	json_decref(o);
	return 0;
}

const char *cli_json_str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s && *s ? s : "-";
}

void cli_json_join(json_t *arr, char *out, size_t n)
{
	size_t i, used = 0;
	json_t *v;
	out[0] = 0;
	json_array_foreach(arr, i, v)
	{
		int w = snprintf(out + used, n - used, "%s%s", i ? "," : "", json_string_value(v));
		if (w < 0 || (size_t)w >= n - used)
			break;
		used += (size_t)w;
	}
	if (!used)
		snprintf(out, n, "-");
}
