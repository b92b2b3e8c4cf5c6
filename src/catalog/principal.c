/*
 * Principals: the users and service identities that act in a workspace.
 *
 * A principal is never deleted and never re-enabled once disabled (the
 * audit log names principals; a name must keep meaning one identity), so
 * the only change to a row is disabled_at going from NULL to a time.
 */
#include "iam_int.h"

#include <string.h>

#define ROW_SELECT "SELECT name, kind, region, created, disabled_at, created_by FROM principals "

static const char *const kinds[] = {"user", "worker", "endpoint", "federated-client"};

static bool is_kind(const char *s)
{
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (strcmp(s, kinds[i]) == 0)
			return true;
	return false;
}

static veil_status read_row(veil_catalog *c, sqlite3_stmt *s, void *row, veil_err *err)
{
	veil_principal *out = row;
	memset(out, 0, sizeof *out);
	veil_status st;
	if ((st = vcat_col_text(c, s, 0, out->name, sizeof out->name, false, "principal name", err)) ||
	    (st = vcat_col_text(c, s, 1, out->kind, sizeof out->kind, false, "principal kind", err)) ||
	    (st = vcat_col_text(c, s, 2, out->region, sizeof out->region, false, "principal region", err)) ||
	    (st = vcat_col_time(c, s, 3, &out->created, "creation time", err)) ||
	    (st = vcat_col_time(c, s, 4, &out->disabled_at, "disable time", err)) ||
	    (st = vcat_col_text(c, s, 5, out->created_by, sizeof out->created_by, false, "creator", err)))
		goto fail;
	/* The kind decides what a policy grants ("where request.principal.kind
	 * = 'worker'"): one the schema never allowed is not guessed at. */
	if (!is_kind(out->kind)) {
		st = vcat_bad_stored(c, "principal kind", err);
		goto fail;
	}
	out->disabled = sqlite3_column_type(s, 4) != SQLITE_NULL;
	return VEIL_OK;
fail:
	memset(out, 0, sizeof *out);
	return st;
}

static veil_status check_new(const veil_principal *p, veil_err *err)
{
	veil_status st;
	if ((st = vcat_check_field(p->name, sizeof p->name, false, "principal name", err)))
		return st;
	if (strnlen(p->kind, sizeof p->kind) == sizeof p->kind || !is_kind(p->kind)) {
		veil_err_set(err, VEIL_E_INVALID,
		             "principal kind must be user, worker, endpoint or federated-client");
		return VEIL_E_INVALID;
	}
	if ((st = vcat_check_field(p->region, sizeof p->region, true, "region", err)) ||
	    (st = vcat_check_field(p->created_by, sizeof p->created_by, false, "creator", err)))
		return st;
	return vcat_check_time(p->created, "creation time", err);
}

veil_status veil_catalog_principal_create(veil_catalog *c, const veil_principal *p, veil_err *err)
{
	veil_status st = check_new(p, err);
	if (st)
		return st;
	sqlite3_stmt *s;
	/* One statement, atomic on its own: a taken name inserts nothing. */
	if ((st = vcat_prepare(c,
	                       "INSERT INTO principals (name, kind, region, created, created_by) "
	                       "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO NOTHING",
	                       &s, err)))
		return st;
	if (!vcat_bind_text(s, 1, p->name) || !vcat_bind_text(s, 2, p->kind) ||
	    !vcat_bind_text(s, 3, p->region) ||
	    !vcat_bind_int(s, 4, p->created ? p->created : veil_time_now()) ||
	    !vcat_bind_text(s, 5, p->created_by))
		st = vcat_bind_failed(c, err);
	else
		st = vcat_exec(c, s, "cannot add a principal", err);
	sqlite3_finalize(s);
	if (!st && sqlite3_changes(c->db) == 0) {
		veil_err_set(err, VEIL_E_EXISTS, "a principal named %s already exists", p->name);
		veil_err_hint(err, "principal names are never reused, also after a principal was disabled; "
		                   "choose another");
		st = VEIL_E_EXISTS;
	}
	return st;
}

veil_status veil_catalog_principal_get(veil_catalog *c, const char *name, veil_principal *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	veil_status st = vcat_check_name(name, "principal name", err);
	if (st)
		return st;
	return vcat_get_one(c, ROW_SELECT "WHERE name = ?1", name, "principal", read_row, out,
	                    "cannot look up a principal", err);
}

typedef struct list_ctx {
	veil_principal_fn cb;
	void *ctx;
} list_ctx;

static veil_status list_row(veil_catalog *c, sqlite3_stmt *s, void *ctx, veil_err *err)
{
	list_ctx *l = ctx;
	veil_principal p;
	veil_status st = read_row(c, s, &p, err);
	return st ? st : l->cb(l->ctx, &p, err);
}

/* The callback runs while the listing's statement is open, as with
 * veil_catalog_dataset_list: it may read the catalog but not change it. */
veil_status veil_catalog_principal_list(veil_catalog *c, veil_principal_fn cb, void *ctx, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c, ROW_SELECT "ORDER BY name", &s, err);
	if (st)
		return st;
	list_ctx l = {cb, ctx};
	st = vcat_each_row(c, s, list_row, &l, "cannot list principals", err);
	sqlite3_finalize(s);
	return st;
}

veil_status veil_catalog_principal_disable(veil_catalog *c, const char *name, veil_err *err)
{
	veil_status st = vcat_check_name(name, "principal name", err);
	if (st)
		return st;
	sqlite3_stmt *s;
	/* Only an enabled row changes, so disabling twice keeps the first time. */
	if ((st = vcat_prepare(
	             c, "UPDATE principals SET disabled_at = ?2 WHERE name = ?1 AND disabled_at IS NULL", &s,
	             err)))
		return st;
	if (!vcat_bind_text(s, 1, name) || !vcat_bind_int(s, 2, veil_time_now()))
		st = vcat_bind_failed(c, err);
	else
		st = vcat_exec(c, s, "cannot disable a principal", err);
	sqlite3_finalize(s);
	if (!st && sqlite3_changes(c->db) == 0)
		st = vcat_need_principal(c, name, err);
	return st;
}

veil_status veil_catalog_principal_count(veil_catalog *c, uint64_t *n, veil_err *err)
{
	*n = 0;
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c, "SELECT count(*) FROM principals", &s, err);
	if (st)
		return st;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*n = (uint64_t)sqlite3_column_int64(s, 0);
	else
		st = vcat_db_err(c, rc, "cannot count principals", err);
	sqlite3_finalize(s);
	return st;
}
