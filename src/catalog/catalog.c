/*
 * Opening and closing the catalog, its transactions and its meta table,
 * and the small helpers every catalog file uses (catalog_int.h).
 *
 * Opening is careful about other people's files: a file is only written
 * (WAL switch, migrations) after it was shown to be empty or a veil
 * catalog, so pointing veil at the wrong SQLite file changes nothing.
 */
#include "catalog_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000
#define FORMAT_NAME     "veil-catalog"

/* ---- helpers shared by the catalog files ---- */

static veil_status code_of(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return VEIL_E_BUSY;
	case SQLITE_FULL:
		return VEIL_E_NOSPACE;
	case SQLITE_NOMEM:
		return VEIL_E_NOMEM;
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return VEIL_E_IO;
	case SQLITE_CORRUPT:
		return VEIL_E_CORRUPT;
	case SQLITE_NOTADB:
		return VEIL_E_WORKSPACE;
	case SQLITE_TOOBIG:
		return VEIL_E_LIMIT;
	default:
		return VEIL_E_DB;
	}
}

veil_status vcat_db_err(veil_catalog *c, int rc, const char *what, veil_err *err)
{
	veil_status code = code_of(rc);
	veil_err_set(err, code, "catalog %s: %s: %s", c->path, what,
	             c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
	if (code == VEIL_E_BUSY)
		veil_err_hint(
		        err,
		        "another veil process is using the catalog; run the command again when it is done");
	else if (code == VEIL_E_NOSPACE)
		veil_err_hint(err, "free some disk space and run the command again");
	else if (code == VEIL_E_CORRUPT)
		veil_err_hint(err, "restore catalog.db from a backup");
	return code;
}

veil_status vcat_prepare(veil_catalog *c, const char *sql, sqlite3_stmt **stmt, veil_err *err)
{
	*stmt = NULL;
	int rc = sqlite3_prepare_v2(c->db, sql, -1, stmt, NULL);
	return rc == SQLITE_OK ? VEIL_OK : vcat_db_err(c, rc, "cannot prepare a query", err);
}

bool vcat_bind_text(sqlite3_stmt *s, int idx, const char *text)
{
	if (!text)
		return sqlite3_bind_null(s, idx) == SQLITE_OK;
	return sqlite3_bind_text(s, idx, text, -1, SQLITE_TRANSIENT) == SQLITE_OK;
}

bool vcat_bind_int(sqlite3_stmt *s, int idx, int64_t v)
{
	return sqlite3_bind_int64(s, idx, (sqlite3_int64)v) == SQLITE_OK;
}

veil_status vcat_exec(veil_catalog *c, sqlite3_stmt *s, const char *what, veil_err *err)
{
	int rc = sqlite3_step(s);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return VEIL_OK;
	return vcat_db_err(c, rc, what, err);
}

veil_status vcat_exec_sql(veil_catalog *c, const char *sql, const char *what, veil_err *err)
{
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? VEIL_OK : vcat_db_err(c, rc, what, err);
}

veil_status vcat_tx_begin(veil_catalog *c, bool *own, veil_err *err)
{
	*own = sqlite3_get_autocommit(c->db) != 0;
	return vcat_exec_sql(c, *own ? "BEGIN IMMEDIATE" : "SAVEPOINT vcat_call",
	                     "cannot start a transaction", err);
}

veil_status vcat_tx_end(veil_catalog *c, bool own, veil_status st, veil_err *err)
{
	if (st) {
		/* Errors here would hide the first one, which is what the
		 * caller needs; a failed rollback leaves SQLite to roll back. */
		sqlite3_exec(c->db, own ? "ROLLBACK" : "ROLLBACK TO vcat_call; RELEASE vcat_call", NULL, NULL,
		             NULL);
		return st;
	}
	st = vcat_exec_sql(c, own ? "COMMIT" : "RELEASE vcat_call", "cannot commit", err);
	if (st && own && !sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	return st;
}

veil_status vcat_col_text(veil_catalog *c, sqlite3_stmt *s, int col, char *out, size_t outsz, bool null_ok,
                          const char *what, veil_err *err)
{
	out[0] = '\0';
	const unsigned char *t = sqlite3_column_text(s, col);
	size_t n = (size_t)sqlite3_column_bytes(s, col);
	if (!t && null_ok)
		return VEIL_OK;
	if (!t || n >= outsz || strlen((const char *)t) != n) {
		veil_err_set(err, VEIL_E_CORRUPT, "catalog %s: a stored %s is missing, too long or malformed",
		             c->path, what);
		veil_err_hint(err, "the catalog was changed outside veil; restore catalog.db from a backup");
		return VEIL_E_CORRUPT;
	}
	memcpy(out, t, n + 1);
	return VEIL_OK;
}

veil_status vcat_check_hex64(const char *s, const char *what, veil_err *err)
{
	size_t n = strnlen(s, 65);
	bool ok = n == 64;
	for (size_t i = 0; ok && i < n; i++)
		ok = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
	if (ok)
		return VEIL_OK;
	veil_err_set(err, VEIL_E_INVALID, "%s must be 64 lowercase hex digits (a SHA-256)", what);
	return VEIL_E_INVALID;
}

veil_status vcat_check_text(const char *s, size_t max, bool empty_ok, bool no_space, const char *what,
                            veil_err *err)
{
	size_t n = strnlen(s, max + 1);
	if (n > max)
		return veil_err_set(err, VEIL_E_INVALID, "%s is longer than %zu bytes", what, max);
	if (n == 0 && !empty_ok)
		return veil_err_set(err, VEIL_E_INVALID, "%s must not be empty", what);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch == 0x7f || (no_space && ch == ' '))
			return veil_err_set(err, VEIL_E_INVALID, "%s has a %s at position %zu", what,
			                    ch == ' ' ? "space" : "control character", i + 1);
	}
	return VEIL_OK;
}

/* ---- opening ---- */

/* Creates the file (mode 0600, before SQLite would create it with the
 * umask's mode) or checks that it exists. */
static veil_status prepare_file(const char *path, bool create, bool *created, veil_err *err)
{
	*created = false;
	struct stat sb;
	if (stat(path, &sb) == 0)
		return VEIL_OK;
	if (errno != ENOENT)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot look at catalog %s", path);
	if (!create) {
		veil_err_set(err, VEIL_E_NOTFOUND, "no catalog at %s", path);
		veil_err_hint(err, "check the workspace folder, or create a workspace with `veil init`");
		return VEIL_E_NOTFOUND;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST
		               ? VEIL_OK
		               : veil_err_errno(err, VEIL_E_IO, errno, "cannot create catalog %s", path);
	close(fd);
	*created = true;
	char dir[VCAT_PATH_MAX];
	veil_status st = veil_fmt(dir, sizeof dir, err, "%s", path);
	return st ? st : veil_fs_fsync_dir(dirname(dir), err);
}

static veil_status not_ours(veil_catalog *c, const char *why, veil_err *err)
{
	veil_err_set(err, VEIL_E_WORKSPACE, "%s is not a veil catalog (%s)", c->path, why);
	veil_err_hint(err, "check the path; veil keeps its catalog in <workspace>/catalog.db");
	return VEIL_E_WORKSPACE;
}

/* One integer from a constant query with an optional text parameter. */
static veil_status query_int(veil_catalog *c, const char *sql, const char *param, int64_t *out, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c, sql, &s, err);
	if (st)
		return st;
	if (param && !vcat_bind_text(s, 1, param))
		st = vcat_db_err(c, SQLITE_NOMEM, "cannot bind a parameter", err);
	int rc = st ? SQLITE_MISUSE : sqlite3_step(s);
	if (!st && rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	else if (!st)
		st = vcat_db_err(c, rc, "cannot read the catalog", err);
	sqlite3_finalize(s);
	return st;
}

/* Tables exist, so they must be ours: a meta table saying format =
 * veil-catalog (written by step 1, in the transaction that creates it). */
static veil_status check_format(veil_catalog *c, bool created, bool create, veil_err *err)
{
	int64_t tables = 0, ours = 0;
	veil_status st = query_int(c, "SELECT count(*) FROM sqlite_schema", NULL, &tables, err);
	if (st == VEIL_E_WORKSPACE)
		return not_ours(c, "not an SQLite database", err);
	if (st)
		return st;
	if (tables == 0)
		return created || create ? VEIL_OK : not_ours(c, "the database is empty", err);
	if ((st = query_int(c, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'meta'",
	                    NULL, &ours, err)))
		return st;
	if (ours == 1 && (st = query_int(c, "SELECT count(*) FROM meta WHERE key = 'format' AND value = ?1",
	                                 FORMAT_NAME, &ours, err)))
		return st;
	if (ours != 1)
		return not_ours(c, "it has no veil format marker", err);
	/* veil creates no triggers or views: one found here was put there by
	 * someone else and could rewrite what veil stores (a classification, a
	 * state) behind its back. */
	int64_t foreign = 0;
	if ((st = query_int(c, "SELECT count(*) FROM sqlite_schema WHERE type IN ('trigger', 'view')", NULL,
	                    &foreign, err)))
		return st;
	if (foreign) {
		veil_err_set(err, VEIL_E_CORRUPT,
		             "catalog %s holds triggers or views that veil never creates", c->path);
		veil_err_hint(err, "the catalog was modified outside veil; restore it from a backup");
		return VEIL_E_CORRUPT;
	}
	return VEIL_OK;
}

static veil_status set_wal(veil_catalog *c, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c, "PRAGMA journal_mode = WAL", &s, err);
	if (st)
		return st;
	int rc = sqlite3_step(s);
	const unsigned char *mode = rc == SQLITE_ROW ? sqlite3_column_text(s, 0) : NULL;
	if (rc != SQLITE_ROW)
		st = vcat_db_err(c, rc, "cannot switch to write-ahead logging", err);
	else if (!mode || strcmp((const char *)mode, "wal") != 0)
		st = veil_err_set(err, VEIL_E_IO,
		                  "catalog %s: the file system does not support write-ahead logging",
		                  c->path);
	sqlite3_finalize(s);
	return st;
}

static veil_status setup(veil_catalog *c, bool create, bool created, veil_err *err)
{
	int rc = sqlite3_open_v2(c->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK)
		return vcat_db_err(c, rc, "cannot open", err);
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
	/* Nothing that could write comes before the format check. */
	veil_status st = check_format(c, created, create, err);
	if (!st)
		st = vcat_exec_sql(c, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL",
		                   "cannot configure the connection", err);
	uint32_t version = 0;
	if (!st)
		st = vcat_current_version(c, &version, err);
	if (!st)
		st = vcat_check_version(c, version, err);
	if (!st)
		st = set_wal(c, err);
	if (!st)
		st = vcat_migrate(c, err);
	return st;
}

veil_status veil_catalog_open(const char *path, bool create, veil_catalog **out, veil_err *err)
{
	*out = NULL;
	if (!path || !path[0])
		return veil_err_set(err, VEIL_E_INVALID, "no catalog path given");
	veil_catalog *c = calloc(1, sizeof *c);
	if (!c)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory opening the catalog");
	bool created = false;
	veil_status st = veil_fmt(c->path, sizeof c->path, err, "%s", path);
	if (!st)
		st = prepare_file(c->path, create, &created, err);
	if (!st)
		st = setup(c, create, created, err);
	if (st) {
		veil_catalog_close(c);
		return st;
	}
	*out = c;
	return VEIL_OK;
}

void veil_catalog_close(veil_catalog *c)
{
	if (!c)
		return;
	if (c->db && !sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	/* close_v2: statements are all finalized by their users; if one was
	 * not, the connection still goes once it is. */
	sqlite3_close_v2(c->db);
	free(c);
}

veil_status veil_catalog_schema_version(veil_catalog *c, uint32_t *version, veil_err *err)
{
	return vcat_current_version(c, version, err);
}

/* ---- transactions ---- */

veil_status veil_catalog_begin(veil_catalog *c, veil_err *err)
{
	if (!sqlite3_get_autocommit(c->db)) {
		veil_err_set(err, VEIL_E_INVALID, "a catalog transaction is already open");
		veil_err_hint(err, "commit or roll back the open transaction first");
		return VEIL_E_INVALID;
	}
	return vcat_exec_sql(c, "BEGIN IMMEDIATE", "cannot start a transaction", err);
}

veil_status veil_catalog_commit(veil_catalog *c, veil_err *err)
{
	if (sqlite3_get_autocommit(c->db))
		return veil_err_set(err, VEIL_E_INVALID, "no catalog transaction is open");
	veil_status st = vcat_exec_sql(c, "COMMIT", "cannot commit", err);
	if (st && !sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	return st;
}

void veil_catalog_rollback(veil_catalog *c)
{
	if (!sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- meta ---- */

veil_status veil_catalog_meta_get(veil_catalog *c, const char *key, char *out, size_t outsz, veil_err *err)
{
	if (outsz)
		out[0] = '\0';
	veil_status st = veil_name_check(key, "setting name", err);
	if (st)
		return st;
	sqlite3_stmt *s;
	if ((st = vcat_prepare(c, "SELECT value FROM meta WHERE key = ?1", &s, err)))
		return st;
	int rc = vcat_bind_text(s, 1, key) ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc == SQLITE_DONE) {
		st = veil_err_set(err, VEIL_E_NOTFOUND, "catalog %s has no setting '%s'", c->path, key);
	} else if (rc != SQLITE_ROW) {
		st = vcat_db_err(c, rc, "cannot read a setting", err);
	} else if ((size_t)sqlite3_column_bytes(s, 0) >= outsz) {
		st = veil_err_set(err, VEIL_E_LIMIT,
		                  "setting '%s' is longer than the %zu bytes the caller allows", key,
		                  outsz ? outsz - 1 : 0);
	} else {
		st = vcat_col_text(c, s, 0, out, outsz, false, "setting", err);
	}
	sqlite3_finalize(s);
	return st;
}

veil_status veil_catalog_meta_set(veil_catalog *c, const char *key, const char *value, veil_err *err)
{
	veil_status st = veil_name_check(key, "setting name", err);
	if (st ||
	    (st = vcat_check_text(value, VEIL_CATALOG_META_VALUE_MAX - 1, true, false, "setting value", err)))
		return st;
	if (strcmp(key, "format") == 0 || strcmp(key, "created") == 0)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "setting '%s' is written by veil and cannot be changed", key);
	sqlite3_stmt *s;
	if ((st = vcat_prepare(c,
	                       "INSERT INTO meta (key, value) VALUES (?1, ?2) "
	                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	                       &s, err)))
		return st;
	if (!vcat_bind_text(s, 1, key) || !vcat_bind_text(s, 2, value))
		st = vcat_db_err(c, SQLITE_NOMEM, "cannot bind a parameter", err);
	else
		st = vcat_exec(c, s, "cannot store a setting", err);
	sqlite3_finalize(s);
	return st;
}

veil_status vcat_check_json_object(veil_catalog *c, const char *text, size_t max, const char *what,
                                   veil_err *err)
{
	size_t n = strnlen(text, max);
	if (n == max)
		return veil_err_set(err, VEIL_E_LIMIT, "a %s is longer than %zu bytes", what, max - 1);
	size_t bad = 0;
	if (!veil_utf8_valid((const uint8_t *)text, n, &bad))
		return veil_err_set(err, VEIL_E_INVALID, "the %s is not UTF-8 (byte %zu)", what, bad + 1);
	/* CASE rather than AND: in a SELECT both sides of AND are evaluated,
	 * and json_type fails on text that is not JSON. */
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(
	        c, "SELECT CASE WHEN json_valid(?1) THEN json_type(?1) = 'object' ELSE 0 END", &s, err);
	if (st)
		return st;
	int rc = vcat_bind_text(s, 1, text) ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc != SQLITE_ROW)
		st = vcat_db_err(c, rc, "cannot check a JSON column", err);
	else if (sqlite3_column_int64(s, 0) != 1)
		st = veil_err_set(err, VEIL_E_INVALID, "the %s is not a JSON object", what);
	sqlite3_finalize(s);
	return st;
}
