/*
 * Helpers the identity and access records share (iam_int.h): input
 * checks, existence look-ups with messages that say what to do, and the
 * row walker behind every list.
 */
#include "iam_int.h"

#include <string.h>

veil_status vcat_check_name(const char *s, const char *what, veil_err *err)
{
	if (!s)
		return veil_err_set(err, VEIL_E_INVALID, "no %s given", what);
	return veil_name_check(s, what, err);
}

veil_status vcat_check_field(const char *s, size_t size, bool empty_ok, const char *what, veil_err *err)
{
	if (strnlen(s, size) == size)
		return veil_err_set(err, VEIL_E_INVALID, "%s is not terminated", what);
	if (empty_ok && !s[0])
		return VEIL_OK;
	return veil_name_check(s, what, err);
}

veil_status vcat_check_ascii(const char *s, size_t max, const char *what, veil_err *err)
{
	size_t n = strnlen(s, max + 1);
	if (n > max)
		return veil_err_set(err, VEIL_E_INVALID, "%s is longer than %zu characters", what, max);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch > 0x7e) {
			veil_err_set(err, VEIL_E_INVALID,
			             "%s has a character that is not printable ASCII at position %zu", what,
			             i + 1);
			veil_err_hint(err, "use letters, digits, spaces and punctuation only");
			return VEIL_E_INVALID;
		}
	}
	return VEIL_OK;
}

veil_status vcat_check_time(int64_t t, const char *what, veil_err *err)
{
	if (t < 0)
		return veil_err_set(err, VEIL_E_INVALID, "%s (%lld) is before 1970", what, (long long)t);
	return VEIL_OK;
}

veil_status vcat_bind_failed(veil_catalog *c, veil_err *err)
{
	return vcat_db_err(c, SQLITE_NOMEM, "cannot bind a parameter", err);
}

veil_status vcat_exists(veil_catalog *c, const char *sql, const char *param, bool *found, veil_err *err)
{
	*found = false;
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c, sql, &s, err);
	if (st)
		return st;
	int rc = vcat_bind_text(s, 1, param) ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc == SQLITE_ROW)
		*found = true;
	else if (rc != SQLITE_DONE)
		st = vcat_db_err(c, rc, "cannot look up a record", err);
	sqlite3_finalize(s);
	return st;
}

veil_status vcat_get_one(veil_catalog *c, const char *sql, const char *name, const char *kind,
                         vcat_read_fn read, void *out, const char *what, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c, sql, &s, err);
	if (st)
		return st;
	int rc = vcat_bind_text(s, 1, name) ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc == SQLITE_ROW)
		st = read(c, s, out, err);
	else if (rc == SQLITE_DONE)
		st = vcat_missing(kind, name, err);
	else
		st = vcat_db_err(c, rc, what, err);
	sqlite3_finalize(s);
	return st;
}

veil_status vcat_missing(const char *kind, const char *name, veil_err *err)
{
	veil_err_set(err, VEIL_E_NOTFOUND, "no %s named %s", kind, name);
	if (strcmp(kind, "compartment") == 0)
		veil_err_hint(err, "check the spelling (names are case-sensitive), or create it with "
		                   "`veil compartment create`");
	else
		veil_err_hint(err, "check the spelling; %s names are case-sensitive", kind);
	return VEIL_E_NOTFOUND;
}

static veil_status need(veil_catalog *c, const char *sql, const char *kind, const char *name, veil_err *err)
{
	bool found;
	veil_status st = vcat_exists(c, sql, name, &found, err);
	if (st || found)
		return st;
	return vcat_missing(kind, name, err);
}

veil_status vcat_need_compartment(veil_catalog *c, const char *name, veil_err *err)
{
	return need(c, "SELECT 1 FROM compartments WHERE name = ?1", "compartment", name, err);
}

veil_status vcat_need_principal(veil_catalog *c, const char *name, veil_err *err)
{
	return need(c, "SELECT 1 FROM principals WHERE name = ?1", "principal", name, err);
}

veil_status vcat_need_group(veil_catalog *c, const char *name, veil_err *err)
{
	return need(c, "SELECT 1 FROM groups WHERE name = ?1", "group", name, err);
}

veil_status vcat_bad_stored(veil_catalog *c, const char *what, veil_err *err)
{
	veil_err_set(err, VEIL_E_CORRUPT, "catalog %s: a stored %s is out of range", c->path, what);
	veil_err_hint(err, "the catalog was changed outside veil; restore catalog.db from a backup");
	return VEIL_E_CORRUPT;
}

veil_status vcat_col_time(veil_catalog *c, sqlite3_stmt *s, int col, int64_t *out, const char *what,
                          veil_err *err)
{
	*out = 0;
	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return VEIL_OK;
	int64_t t = sqlite3_column_int64(s, col);
	if (t < 0)
		return vcat_bad_stored(c, what, err);
	*out = t;
	return VEIL_OK;
}

veil_status vcat_each_row(veil_catalog *c, sqlite3_stmt *s, vcat_row_fn fn, void *ctx, const char *what,
                          veil_err *err)
{
	veil_status st = VEIL_OK;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((st = fn(c, s, ctx, err)))
			return st;
	return rc == SQLITE_DONE ? VEIL_OK : vcat_db_err(c, rc, what, err);
}
