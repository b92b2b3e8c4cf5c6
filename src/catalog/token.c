/*
 * API token records: which principal a token id belongs to, the SHA-256 of
 * the token (never the token: veil/access.h makes and checks tokens), its
 * label, expiry and revocation.
 *
 * A record is only ever added and revoked; revocation sets a time once and
 * keeps it, so "when was it revoked" has one answer for the audit trail.
 */
#include "iam_int.h"

#include <string.h>

#define ROW_SELECT "SELECT id, principal, hash, label, created, expires, revoked, created_by FROM tokens "

static veil_status check_id(const char *id, veil_err *err)
{
	if (!id)
		return veil_err_set(err, VEIL_E_INVALID, "no token id given");
	size_t n = strnlen(id, VEIL_CATALOG_TOKEN_ID_MAX);
	bool ok = n == VEIL_CATALOG_TOKEN_ID_MAX - 1;
	for (size_t i = 0; ok && i < n; i++)
		ok = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f');
	if (ok)
		return VEIL_OK;
	veil_err_set(err, VEIL_E_INVALID, "a token id is %d lowercase hex digits",
	             VEIL_CATALOG_TOKEN_ID_MAX - 1);
	veil_err_hint(err, "`veil token list` shows the ids");
	return VEIL_E_INVALID;
}

static veil_status read_row(veil_catalog *c, sqlite3_stmt *s, veil_token_info *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	veil_status st;
	if ((st = vcat_col_text(c, s, 0, out->id, sizeof out->id, false, "token id", err)) ||
	    (st = vcat_col_text(c, s, 1, out->principal, sizeof out->principal, false, "principal name",
	                        err)) ||
	    (st = vcat_col_text(c, s, 3, out->label, sizeof out->label, false, "token label", err)) ||
	    (st = vcat_col_time(c, s, 4, &out->created, "creation time", err)) ||
	    (st = vcat_col_time(c, s, 5, &out->expires, "expiry time", err)) ||
	    (st = vcat_col_time(c, s, 6, &out->revoked, "revocation time", err)) ||
	    (st = vcat_col_text(c, s, 7, out->created_by, sizeof out->created_by, false, "creator", err)))
		goto fail;
	const void *hash = sqlite3_column_blob(s, 2);
	if (!hash || sqlite3_column_bytes(s, 2) != (int)sizeof out->hash) {
		st = vcat_bad_stored(c, "token hash", err);
		goto fail;
	}
	memcpy(out->hash, hash, sizeof out->hash);
	/* A stored 0 would read as "never" / "not revoked": refuse it instead
	 * of turning a revoked token live. */
	if ((sqlite3_column_type(s, 5) != SQLITE_NULL && out->expires == 0) ||
	    (sqlite3_column_type(s, 6) != SQLITE_NULL && out->revoked == 0)) {
		st = vcat_bad_stored(c, "token time", err);
		goto fail;
	}
	return VEIL_OK;
fail:
	memset(out, 0, sizeof *out);
	return st;
}

static veil_status check_new(const veil_token_info *t, int64_t created, veil_err *err)
{
	veil_status st;
	if (strnlen(t->id, sizeof t->id) == sizeof t->id)
		return veil_err_set(err, VEIL_E_INVALID, "token id is not terminated");
	if ((st = check_id(t->id, err)) ||
	    (st = vcat_check_field(t->principal, sizeof t->principal, false, "principal name", err)) ||
	    (st = vcat_check_field(t->created_by, sizeof t->created_by, false, "creator", err)) ||
	    (st = vcat_check_time(t->created, "creation time", err)) ||
	    (st = vcat_check_time(t->expires, "expiry time", err)))
		return st;
	if (strnlen(t->label, sizeof t->label) == sizeof t->label)
		return veil_err_set(err, VEIL_E_INVALID, "token label is not terminated");
	if ((st = vcat_check_ascii(t->label, VEIL_CATALOG_TOKEN_LABEL_MAX - 1, "token label", err)))
		return st;
	if (t->expires && t->expires <= created)
		return veil_err_set(err, VEIL_E_INVALID, "the token would expire before it was issued");
	return VEIL_OK;
}

static veil_status add_in_tx(veil_catalog *c, const veil_token_info *t, int64_t created, veil_err *err)
{
	veil_principal p;
	veil_status st = veil_catalog_principal_get(c, t->principal, &p, err);
	if (st)
		return st;
	/* A disabled principal cannot act again (principal.c), so a token for
	 * one could only ever be refused: say so now. */
	if (p.disabled) {
		veil_err_set(err, VEIL_E_INVALID, "principal %s is disabled; it cannot get new tokens",
		             p.name);
		veil_err_hint(err, "disabled principals stay disabled; create a new principal");
		return VEIL_E_INVALID;
	}
	sqlite3_stmt *s;
	if ((st = vcat_prepare(
	             c,
	             "INSERT INTO tokens (id, principal, hash, label, created, expires, created_by) "
	             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO NOTHING",
	             &s, err)))
		return st;
	bool bound = vcat_bind_text(s, 1, t->id) && vcat_bind_text(s, 2, t->principal) &&
	             sqlite3_bind_blob(s, 3, t->hash, sizeof t->hash, SQLITE_TRANSIENT) == SQLITE_OK &&
	             vcat_bind_text(s, 4, t->label) && vcat_bind_int(s, 5, created) &&
	             (t->expires ? vcat_bind_int(s, 6, t->expires) : sqlite3_bind_null(s, 6) == SQLITE_OK) &&
	             vcat_bind_text(s, 7, t->created_by);
	st = bound ? vcat_exec(c, s, "cannot add a token", err) : vcat_bind_failed(c, err);
	sqlite3_finalize(s);
	if (!st && sqlite3_changes(c->db) == 0)
		st = veil_err_set(err, VEIL_E_EXISTS, "a token with id %s already exists", t->id);
	return st;
}

/* t->revoked is ignored: a new token is never revoked. */
veil_status veil_catalog_token_add(veil_catalog *c, const veil_token_info *t, veil_err *err)
{
	int64_t created = t->created ? t->created : veil_time_now();
	veil_status st = check_new(t, created, err);
	bool own;
	if (st || (st = vcat_tx_begin(c, &own, err)))
		return st;
	st = add_in_tx(c, t, created, err);
	return vcat_tx_end(c, own, st, err);
}

veil_status veil_catalog_token_get(veil_catalog *c, const char *id, veil_token_info *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	veil_status st = check_id(id, err);
	if (st)
		return st;
	sqlite3_stmt *s;
	if ((st = vcat_prepare(c, ROW_SELECT "WHERE id = ?1", &s, err)))
		return st;
	int rc = vcat_bind_text(s, 1, id) ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc == SQLITE_ROW)
		st = read_row(c, s, out, err);
	else if (rc == SQLITE_DONE)
		st = veil_err_set(err, VEIL_E_NOTFOUND, "no token with id %s", id);
	else
		st = vcat_db_err(c, rc, "cannot look up a token", err);
	sqlite3_finalize(s);
	return st;
}

typedef struct list_ctx {
	veil_token_fn cb;
	void *ctx;
} list_ctx;

static veil_status list_row(veil_catalog *c, sqlite3_stmt *s, void *ctx, veil_err *err)
{
	list_ctx *l = ctx;
	veil_token_info t;
	veil_status st = read_row(c, s, &t, err);
	return st ? st : l->cb(l->ctx, &t, err);
}

/* The callback runs while the listing's statement is open, as with
 * veil_catalog_dataset_list: it may read the catalog but not change it.
 * A principal that does not exist is VEIL_E_NOTFOUND, not an empty list,
 * so that a misspelt name is not read as "has no tokens". */
veil_status veil_catalog_token_list(veil_catalog *c, const char *principal, veil_token_fn cb, void *ctx,
                                    veil_err *err)
{
	veil_status st;
	if (principal && ((st = vcat_check_name(principal, "principal name", err)) ||
	                  (st = vcat_need_principal(c, principal, err))))
		return st;
	sqlite3_stmt *s;
	if ((st = vcat_prepare(c, ROW_SELECT "WHERE ?1 IS NULL OR principal = ?1 ORDER BY id", &s, err)))
		return st;
	list_ctx l = {cb, ctx};
	if (!vcat_bind_text(s, 1, principal))
		st = vcat_bind_failed(c, err);
	else
		st = vcat_each_row(c, s, list_row, &l, "cannot list tokens", err);
	sqlite3_finalize(s);
	return st;
}

veil_status veil_catalog_token_revoke(veil_catalog *c, const char *id, veil_err *err)
{
	veil_status st = check_id(id, err);
	if (st)
		return st;
	sqlite3_stmt *s;
	if ((st = vcat_prepare(c, "UPDATE tokens SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL", &s,
	                       err)))
		return st;
	if (!vcat_bind_text(s, 1, id) || !vcat_bind_int(s, 2, veil_time_now()))
		st = vcat_bind_failed(c, err);
	else
		st = vcat_exec(c, s, "cannot revoke a token", err);
	sqlite3_finalize(s);
	if (st || sqlite3_changes(c->db) != 0)
		return st;
	bool found;
	if ((st = vcat_exists(c, "SELECT 1 FROM tokens WHERE id = ?1", id, &found, err)))
		return st;
	return found ? VEIL_OK : veil_err_set(err, VEIL_E_NOTFOUND, "no token with id %s", id);
}
