/*
 * What the catalog's files share: the connection object, SQLite error
 * mapping, transactions that nest inside a caller's, bounded copies of
 * text out of result rows, and the checks on text that goes in.
 */
#ifndef VEIL_CATALOG_INT_H
#define VEIL_CATALOG_INT_H

#include "veil/catalog.h"

#include <sqlite3.h>

#define VCAT_PATH_MAX 4096

struct veil_catalog {
	sqlite3 *db;
	char path[VCAT_PATH_MAX];
};

/* Fills err from the connection's last error, mapping SQLite's code to a
 * veil_status (busy, no space, corrupt, ...), and returns it. Read
 * immediately after the failing call: SQLite keeps only the last error. */
veil_status vcat_db_err(veil_catalog *c, int rc, const char *what, veil_err *err);
/* Text for a column the schema CHECKs as one JSON object (a summary): at
 * most max - 1 bytes of UTF-8 that SQLite's own parser takes for an object,
 * so that the code and the schema's CHECK can never disagree. what names it
 * in errors ("model summary"). */
veil_status vcat_check_json_object(veil_catalog *c, const char *text, size_t max, const char *what,
                                   veil_err *err);
/* Prepares one constant statement; parameters are bound by the caller. */
veil_status vcat_prepare(veil_catalog *c, const char *sql, sqlite3_stmt **stmt,
                         veil_err *err) VEIL_MUST_CHECK;
/* Binds text (NULL binds SQL NULL) and integers; false when binding failed. */
bool vcat_bind_text(sqlite3_stmt *s, int idx, const char *text);
bool vcat_bind_int(sqlite3_stmt *s, int idx, int64_t v);
/* Steps a statement that returns no rows. */
veil_status vcat_exec(veil_catalog *c, sqlite3_stmt *s, const char *what, veil_err *err) VEIL_MUST_CHECK;
/* Runs constant SQL text without parameters (pragmas, schema steps). */
veil_status vcat_exec_sql(veil_catalog *c, const char *sql, const char *what, veil_err *err) VEIL_MUST_CHECK;

/* Starts a write transaction for one API call: BEGIN IMMEDIATE when none is
 * open (*own = true), else a savepoint inside the caller's. vcat_tx_end
 * commits or, when st is an error, rolls back just this call's changes;
 * it returns st, or the commit's error. */
veil_status vcat_tx_begin(veil_catalog *c, bool *own, veil_err *err) VEIL_MUST_CHECK;
veil_status vcat_tx_end(veil_catalog *c, bool own, veil_status st, veil_err *err);

/* Copies column col of the current row into out (size outsz). NULL gives
 * "" when null_ok, else VEIL_E_CORRUPT; text that does not fit or holds a
 * NUL byte is VEIL_E_CORRUPT, naming `what`. */
veil_status vcat_col_text(veil_catalog *c, sqlite3_stmt *s, int col, char *out, size_t outsz, bool null_ok,
                          const char *what, veil_err *err) VEIL_MUST_CHECK;

/* Text checks for values stored in the catalog. `what` names the field. */
veil_status vcat_check_hex64(const char *s, const char *what, veil_err *err) VEIL_MUST_CHECK;
/* 1..max bytes (0..max when empty_ok) with no control characters; with
 * no_space also no spaces. */
veil_status vcat_check_text(const char *s, size_t max, bool empty_ok, bool no_space, const char *what,
                            veil_err *err) VEIL_MUST_CHECK;

/* The row id of dataset version name@version (dataset.c); version 0 is the
 * latest live one. An unknown dataset or version is VEIL_E_NOTFOUND with a
 * message saying what exists; so is a deleted version when live_only.
 * *resolved (may be NULL) gets the version number. */
veil_status vcat_version_id(veil_catalog *c, const char *name, uint32_t version, bool live_only, int64_t *vid,
                            uint32_t *resolved, veil_err *err) VEIL_MUST_CHECK;

/* Brings the schema to VEIL_CATALOG_SCHEMA_VERSION (schema.c). */
veil_status vcat_migrate(veil_catalog *c, veil_err *err) VEIL_MUST_CHECK;
/* Highest applied step; 0 when the schema_migrations table is absent. */
veil_status vcat_current_version(veil_catalog *c, uint32_t *version, veil_err *err) VEIL_MUST_CHECK;
/* VEIL_E_UNSUPPORTED, with the "upgrade veil" hint, when version is newer
 * than this code. */
veil_status vcat_check_version(veil_catalog *c, uint32_t version, veil_err *err) VEIL_MUST_CHECK;

#endif
