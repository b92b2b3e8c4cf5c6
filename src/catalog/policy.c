/*
 * Policy texts: named, versioned, each version attached to a compartment.
 * The catalog stores and returns the text as given; veil/access.h parses
 * and checks it.
 *
 * Versions of a policy are 1, 2, ... and are never changed or removed, so
 * "which rules were in force when" can always be answered. Applying the
 * text and compartment the current version already has stores nothing:
 * re-running `veil policy apply` on an unchanged file is not a change.
 * Each version carries the SHA-256 of its text, checked again on every
 * read, so a text damaged or edited outside veil is reported rather than
 * enforced.
 */
#include "iam_int.h"

#include "veil/crypto.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Access policies and key-release policies are stored the same way, each
 * in a table of its own; `what` names one in messages. */
typedef struct ptable {
	const char *table, *what;
} ptable;
static const ptable access_table = {"policies", "policy"};
static const ptable release_table = {"release_policies", "release policy"};

#define SQL_MAX 512
#define COLUMNS "name, version, compartment, text, sha256, applied, applied_by"

/* SQL for table t: fmt has one %s per mention of the table. */
static veil_status sql_for(const ptable *t, char out[SQL_MAX], veil_err *err, const char *fmt, ...)
        VEIL_PRINTF(4, 5);
static veil_status sql_for(const ptable *t, char out[SQL_MAX], veil_err *err, const char *fmt, ...)
{
	(void)t; /* the callers pass t->table among the arguments */
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, SQL_MAX, fmt, ap);
	va_end(ap);
	return n < 0 || n >= SQL_MAX ? veil_err_set(err, VEIL_E_INTERNAL, "policy SQL too long") : VEIL_OK;
}

static veil_status text_sha256(const char *text, size_t len, char hex[VEIL_CATALOG_HEX_MAX], veil_err *err)
{
	uint8_t md[VEIL_SHA256_LEN];
	veil_status st = veil_sha256(text, len, md, err);
	if (!st)
		veil_hex_encode(md, sizeof md, hex);
	return st;
}

/* Copies the current row into out; out->text is allocated (free with
 * veil_policy_record_free, also on error). */
static veil_status read_row(veil_catalog *c, const ptable *tab, sqlite3_stmt *s, veil_policy_record *out,
                            veil_err *err)
{
	memset(out, 0, sizeof *out);
	veil_status st;
	if ((st = vcat_col_text(c, s, 0, out->name, sizeof out->name, false, tab->what, err)) ||
	    (st = vcat_col_text(c, s, 2, out->compartment, sizeof out->compartment, false, "compartment",
	                        err)) ||
	    (st = vcat_col_text(c, s, 4, out->sha256, sizeof out->sha256, false, "policy SHA-256", err)) ||
	    (st = vcat_col_time(c, s, 5, &out->applied, "apply time", err)) ||
	    (st = vcat_col_text(c, s, 6, out->applied_by, sizeof out->applied_by, false, "principal name",
	                        err)))
		return st;
	int64_t version = sqlite3_column_int64(s, 1);
	if (version < 1 || version > UINT32_MAX)
		return vcat_bad_stored(c, "policy version", err);
	out->version = (uint32_t)version;
	const unsigned char *t = sqlite3_column_text(s, 3);
	size_t n = (size_t)sqlite3_column_bytes(s, 3);
	if (!t || n > VEIL_CATALOG_POLICY_MAX_BYTES || memchr(t, '\0', n))
		return vcat_bad_stored(c, "policy text", err);
	if (!(out->text = malloc(n + 1)))
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory reading a policy");
	memcpy(out->text, t, n);
	out->text[n] = '\0';
	out->len = n;
	char hex[VEIL_CATALOG_HEX_MAX];
	if ((st = text_sha256(out->text, n, hex, err)))
		return st;
	if (strcmp(hex, out->sha256) != 0) {
		veil_err_set(err, VEIL_E_CORRUPT,
		             "catalog %s: version %u of %s %s does not match its SHA-256", c->path,
		             out->version, tab->what, out->name);
		veil_err_hint(
		        err,
		        "the catalog was changed outside veil; restore catalog.db from a backup, or apply "
		        "the policy again");
		return VEIL_E_CORRUPT;
	}
	return VEIL_OK;
}

/* A release policy's scope: "compartment:" or "key:" and a veil name. */
static veil_status check_scope(const char *scope, veil_err *err)
{
	const char *rest = NULL;
	if (scope && strncmp(scope, "compartment:", 12) == 0)
		rest = scope + 12;
	else if (scope && strncmp(scope, "key:", 4) == 0)
		rest = scope + 4;
	if (!rest)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "a release policy's scope is compartment:NAME or key:NAME");
	return vcat_check_name(rest, "release policy scope", err);
}

static veil_status check_put(const ptable *t, const char *name, const char *compartment, const char *text,
                             size_t len, const char *applied_by, veil_err *err)
{
	veil_status st;
	if ((st = t == &release_table ? check_scope(name, err) : vcat_check_name(name, "policy name", err)) ||
	    (st = vcat_check_name(compartment, "compartment name", err)) ||
	    (st = vcat_check_name(applied_by, "principal name", err)))
		return st;
	if (!text)
		return veil_err_set(err, VEIL_E_INVALID, "no policy text given");
	if (len > VEIL_CATALOG_POLICY_MAX_BYTES)
		return veil_err_set(err, VEIL_E_LIMIT, "policy %s is %zu bytes; a policy is at most %u bytes",
		                    name, len, VEIL_CATALOG_POLICY_MAX_BYTES);
	const char *nul = memchr(text, '\0', len);
	if (nul)
		return veil_err_set(err, VEIL_E_INVALID, "policy %s has a NUL byte at offset %zu", name,
		                    (size_t)(nul - text));
	return VEIL_OK;
}

/* The current version of name (0 when there is none) and whether it has
 * exactly this compartment and text. */
static veil_status current(veil_catalog *c, const ptable *t, const char *name, const char *compartment,
                           const char *text, size_t len, uint32_t *version, bool *same, veil_err *err)
{
	*version = 0;
	*same = false;
	sqlite3_stmt *s;
	char sql[SQL_MAX];
	veil_status st = sql_for(t, sql, err,
	                         "SELECT version, compartment = ?2 AND text = ?3 FROM %s "
	                         "WHERE name = ?1 ORDER BY version DESC LIMIT 1",
	                         t->table);
	if (st || (st = vcat_prepare(c, sql, &s, err)))
		return st;
	bool bound = vcat_bind_text(s, 1, name) && vcat_bind_text(s, 2, compartment) &&
	             sqlite3_bind_text(s, 3, text, (int)len, SQLITE_TRANSIENT) == SQLITE_OK;
	int rc = bound ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc == SQLITE_ROW) {
		int64_t v = sqlite3_column_int64(s, 0);
		if (v < 1 || v > UINT32_MAX)
			st = vcat_bad_stored(c, "policy version", err);
		*version = (uint32_t)v;
		*same = sqlite3_column_int64(s, 1) == 1;
	} else if (rc != SQLITE_DONE) {
		st = vcat_db_err(c, rc, "cannot look up a policy", err);
	}
	sqlite3_finalize(s);
	return st;
}

static veil_status put_in_tx(veil_catalog *c, const ptable *t, const char *name, const char *compartment,
                             const char *text, size_t len, const char *applied_by, uint32_t *version,
                             bool *changed, veil_err *err)
{
	char hex[VEIL_CATALOG_HEX_MAX];
	uint32_t cur;
	bool same;
	veil_status st;
	if ((st = vcat_need_compartment(c, compartment, err)) ||
	    (st = current(c, t, name, compartment, text, len, &cur, &same, err)))
		return st;
	if (same) {
		*version = cur;
		return VEIL_OK;
	}
	if (cur == UINT32_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "%s %s has no version numbers left", t->what, name);
	if ((st = text_sha256(text, len, hex, err)))
		return st;
	sqlite3_stmt *s;
	char sql[SQL_MAX];
	if ((st = sql_for(t, sql, err, "INSERT INTO %s (" COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	                  t->table)) ||
	    (st = vcat_prepare(c, sql, &s, err)))
		return st;
	bool bound = vcat_bind_text(s, 1, name) && vcat_bind_int(s, 2, (int64_t)cur + 1) &&
	             vcat_bind_text(s, 3, compartment) &&
	             sqlite3_bind_text(s, 4, text, (int)len, SQLITE_TRANSIENT) == SQLITE_OK &&
	             vcat_bind_text(s, 5, hex) && vcat_bind_int(s, 6, veil_time_now()) &&
	             vcat_bind_text(s, 7, applied_by);
	st = bound ? vcat_exec(c, s, "cannot store a policy", err) : vcat_bind_failed(c, err);
	sqlite3_finalize(s);
	if (!st) {
		*version = cur + 1;
		*changed = true;
	}
	return st;
}

static veil_status put(veil_catalog *c, const ptable *t, const char *name, const char *compartment,
                       const char *text, size_t len, const char *applied_by, uint32_t *version, bool *changed,
                       veil_err *err)
{
	*version = 0;
	*changed = false;
	veil_status st = check_put(t, name, compartment, text, len, applied_by, err);
	bool own;
	if (st || (st = vcat_tx_begin(c, &own, err)))
		return st;
	uint32_t v = 0;
	bool ch = false;
	st = put_in_tx(c, t, name, compartment, text, len, applied_by, &v, &ch, err);
	if ((st = vcat_tx_end(c, own, st, err)))
		return st;
	*version = v;
	*changed = ch;
	return VEIL_OK;
}

veil_status veil_catalog_policy_put(veil_catalog *c, const char *name, const char *compartment,
                                    const char *text, size_t len, const char *applied_by, uint32_t *version,
                                    bool *changed, veil_err *err)
{
	return put(c, &access_table, name, compartment, text, len, applied_by, version, changed, err);
}

veil_status veil_catalog_release_policy_put(veil_catalog *c, const char *scope, const char *compartment,
                                            const char *text, size_t len, const char *applied_by,
                                            uint32_t *version, bool *changed, veil_err *err)
{
	return put(c, &release_table, scope, compartment, text, len, applied_by, version, changed, err);
}

/* Why (name, version) was not found: no such policy, or no such version. */
static veil_status no_version(veil_catalog *c, const ptable *t, const char *name, uint32_t version,
                              veil_err *err)
{
	sqlite3_stmt *s;
	char sql[SQL_MAX];
	veil_status st = sql_for(t, sql, err, "SELECT max(version) FROM %s WHERE name = ?1", t->table);
	if (st || (st = vcat_prepare(c, sql, &s, err)))
		return st;
	int rc = vcat_bind_text(s, 1, name) ? sqlite3_step(s) : SQLITE_NOMEM;
	int64_t latest = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0; /* NULL reads as 0 */
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return vcat_db_err(c, rc, "cannot look up a policy", err);
	if (latest == 0)
		return vcat_missing(t->what, name, err);
	veil_err_set(err, VEIL_E_NOTFOUND, "%s %s has no version %u (latest is %lld)", t->what, name, version,
	             (long long)latest);
	return VEIL_E_NOTFOUND;
}

static veil_status get(veil_catalog *c, const ptable *t, const char *name, uint32_t version,
                       veil_policy_record *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	veil_status st =
	        t == &release_table ? check_scope(name, err) : vcat_check_name(name, "policy name", err);
	if (st)
		return st;
	sqlite3_stmt *s;
	char sql[SQL_MAX];
	st = version ? sql_for(t, sql, err, "SELECT " COLUMNS " FROM %s WHERE name = ?1 AND version = ?2",
	                       t->table)
	             : sql_for(t, sql, err,
	                       "SELECT " COLUMNS " FROM %s WHERE name = ?1 ORDER BY version DESC LIMIT 1",
	                       t->table);
	if (st || (st = vcat_prepare(c, sql, &s, err)))
		return st;
	bool bound = vcat_bind_text(s, 1, name) && (!version || vcat_bind_int(s, 2, version));
	int rc = bound ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc == SQLITE_ROW)
		st = read_row(c, t, s, out, err);
	else if (rc != SQLITE_DONE)
		st = vcat_db_err(c, rc, "cannot look up a policy", err);
	sqlite3_finalize(s);
	if (!st && rc == SQLITE_DONE)
		st = no_version(c, t, name, version, err);
	if (st)
		veil_policy_record_free(out);
	return st;
}

veil_status veil_catalog_policy_get(veil_catalog *c, const char *name, uint32_t version,
                                    veil_policy_record *out, veil_err *err)
{
	return get(c, &access_table, name, version, out, err);
}

veil_status veil_catalog_release_policy_get(veil_catalog *c, const char *scope, uint32_t version,
                                            veil_policy_record *out, veil_err *err)
{
	return get(c, &release_table, scope, version, out, err);
}

typedef struct list_ctx {
	veil_policy_record_fn cb;
	void *ctx;
} list_ctx;

static veil_status list_row(veil_catalog *c, sqlite3_stmt *s, void *ctx, veil_err *err)
{
	list_ctx *l = ctx;
	veil_policy_record p;
	veil_status st = read_row(c, &access_table, s, &p, err);
	if (!st)
		st = l->cb(l->ctx, &p, err);
	veil_policy_record_free(&p);
	return st;
}

/* The callback runs while the listing's statement is open, as with
 * veil_catalog_dataset_list: it may read the catalog but not change it.
 * The record, text included, is valid only during the call. */
veil_status veil_catalog_policy_list(veil_catalog *c, veil_policy_record_fn cb, void *ctx, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st =
	        vcat_prepare(c,
	                     "SELECT " COLUMNS " FROM policies WHERE version = (SELECT max(q.version) "
	                     "FROM policies q WHERE q.name = policies.name) ORDER BY name",
	                     &s, err);
	if (st)
		return st;
	list_ctx l = {cb, ctx};
	st = vcat_each_row(c, s, list_row, &l, "cannot list policies", err);
	sqlite3_finalize(s);
	return st;
}

void veil_policy_record_free(veil_policy_record *p)
{
	if (!p)
		return;
	free(p->text);
	memset(p, 0, sizeof *p);
}
