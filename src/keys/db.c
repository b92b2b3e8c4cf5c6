/*
 * keys.db: opening it with the settings that make it crash-safe and shared
 * between processes (WAL, synchronous=FULL, a busy timeout), the versioned
 * schema migrations, and small statement helpers that turn SQLite's errors
 * into veil statuses. keys.db holds only wrapped keys and metadata.
 */
#include "keys_int.h"

#include <stdio.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000

/*
 * Schema migrations. Step i (0-based) takes the schema from version i to
 * version i + 1; each runs in one transaction together with the update of
 * schema_version. Never edit a step that has shipped: append a new one.
 * docs/formats/keys.md describes the resulting schema.
 */
static const char *const migrations[] = {
        /* 1: meta, KEK versions, DEKs, root-wrapped secrets. */
        "CREATE TABLE meta ("
        "  name TEXT PRIMARY KEY,"
        "  value BLOB NOT NULL"
        ") WITHOUT ROWID;"
        "CREATE TABLE keks ("
        "  name TEXT NOT NULL,"
        "  version INTEGER NOT NULL CHECK (version >= 1 AND version <= 4294967295),"
        "  wrapped BLOB,"
        "  created INTEGER NOT NULL,"
        "  state TEXT NOT NULL CHECK (state IN ('current', 'old', 'retired')),"
        "  retired INTEGER,"
        "  CHECK ((state = 'retired') = (wrapped IS NULL)),"
        "  PRIMARY KEY (name, version)"
        ") WITHOUT ROWID;"
        "CREATE UNIQUE INDEX keks_one_current ON keks(name) WHERE state = 'current';"
        "CREATE TABLE deks ("
        "  id TEXT PRIMARY KEY,"
        "  kek_name TEXT NOT NULL,"
        "  kek_version INTEGER NOT NULL,"
        "  wrapped BLOB,"
        "  created INTEGER NOT NULL,"
        "  destroyed INTEGER,"
        "  CHECK ((destroyed IS NULL) = (wrapped IS NOT NULL)),"
        "  FOREIGN KEY (kek_name, kek_version) REFERENCES keks(name, version)"
        ");"
        "CREATE INDEX deks_by_kek ON deks(kek_name, kek_version) WHERE destroyed IS NULL;"
        "CREATE TABLE secrets ("
        "  purpose TEXT PRIMARY KEY,"
        "  wrapped BLOB NOT NULL,"
        "  created INTEGER NOT NULL"
        ") WITHOUT ROWID;",
        /* 2: the region of a KEK, per name (rotation keeps it). No row =
         * no region, so the KEKs of a version 1 store keep releasing
         * anywhere. No foreign key: keks has no unique key on name alone. */
        "CREATE TABLE kek_regions ("
        "  name TEXT PRIMARY KEY,"
        "  region TEXT NOT NULL CHECK (length(region) BETWEEN 1 AND 64)"
        ") WITHOUT ROWID;",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

veil_status keys_db_err(sqlite3 *db, veil_err *err, const char *what)
{
	int rc = sqlite3_errcode(db);
	const char *msg = sqlite3_errmsg(db);
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		veil_err_set(err, VEIL_E_BUSY, "%s: keys.db is locked by another process (%s)", what, msg);
		veil_err_hint(err, "wait for the other veil command to finish and try again");
		return VEIL_E_BUSY;
	case SQLITE_FULL:
		veil_err_set(err, VEIL_E_NOSPACE, "%s: %s", what, msg);
		veil_err_hint(err, "free some disk space and run the command again");
		return VEIL_E_NOSPACE;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		veil_err_set(err, VEIL_E_CORRUPT, "%s: keys.db is damaged (%s)", what, msg);
		veil_err_hint(err, "restore the workspace's keys/ folder from a backup");
		return VEIL_E_CORRUPT;
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return keys_fail(err, VEIL_E_IO, "%s: %s", what, msg);
	case SQLITE_CONSTRAINT:
		return keys_fail(err, VEIL_E_CORRUPT, "%s: keys.db breaks its own rules (%s)", what, msg);
	default:
		return keys_fail(err, VEIL_E_DB, "%s: %s", what, msg);
	}
}

veil_status keys_db_exec(sqlite3 *db, const char *sql, veil_err *err)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return keys_db_err(db, err, "keys.db");
	return VEIL_OK;
}

veil_status keys_db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, veil_err *err)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return keys_db_err(db, err, "keys.db");
	}
	return VEIL_OK;
}

veil_status keys_db_begin(sqlite3 *db, veil_err *err)
{
	return keys_db_exec(db, "BEGIN IMMEDIATE", err);
}

veil_status keys_db_begin_read(sqlite3 *db, veil_err *err)
{
	return keys_db_exec(db, "BEGIN", err);
}

veil_status keys_db_commit(sqlite3 *db, veil_err *err)
{
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		veil_status st = keys_db_err(db, err, "cannot commit to keys.db");
		keys_db_rollback(db);
		return st;
	}
	return VEIL_OK;
}

void keys_db_rollback(sqlite3 *db)
{
	/* Fails harmlessly when no transaction is open (SQLite may already
	 * have rolled back after an I/O error). */
	(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

veil_status keys_db_done(sqlite3 *db, sqlite3_stmt *st, veil_err *err, const char *what)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		return keys_db_err(db, err, what);
	return VEIL_OK;
}

/* The schema version, 0 for a fresh database (no schema_version table). */
static veil_status read_version(sqlite3 *db, int *version, veil_err *err)
{
	sqlite3_stmt *st;
	*version = 0;
	veil_status s = keys_db_prepare(db,
	                                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = "
	                                "'schema_version'",
	                                &st, err);
	if (s)
		return s;
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return VEIL_OK;
	if (rc != SQLITE_ROW)
		return keys_db_err(db, err, "cannot read the keys.db schema");
	if ((s = keys_db_prepare(db, "SELECT max(version) FROM schema_version", &st, err)))
		return s;
	if (sqlite3_step(st) != SQLITE_ROW)
		s = keys_db_err(db, err, "cannot read the keys.db schema version");
	else
		*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return s;
}

static veil_status set_version(sqlite3 *db, int version, veil_err *err)
{
	sqlite3_stmt *st;
	veil_status s = keys_db_exec(db, "DELETE FROM schema_version", err);
	if (s || (s = keys_db_prepare(db, "INSERT INTO schema_version (version) VALUES (?)", &st, err)))
		return s;
	sqlite3_bind_int(st, 1, version);
	s = keys_db_done(db, st, err, "cannot record the keys.db schema version");
	sqlite3_finalize(st);
	return s;
}

static veil_status too_new(int version, veil_err *err)
{
	veil_err_set(err, VEIL_E_UNSUPPORTED, "keys.db has schema version %d; this veil knows up to %d",
	             version, SCHEMA_VERSION);
	veil_err_hint(err, "use a newer veil with this workspace");
	return VEIL_E_UNSUPPORTED;
}

/* Applies the missing steps in one transaction. The version is read again
 * inside it, so two processes opening at once do not both migrate; the
 * first read needs no write lock, so an up-to-date store opens without one. */
static veil_status migrate(sqlite3 *db, veil_err *err)
{
	int version = 0;
	veil_status s = read_version(db, &version, err);
	if (s)
		return s;
	if (version > SCHEMA_VERSION)
		return too_new(version, err);
	if (version == SCHEMA_VERSION)
		return VEIL_OK;
	if ((s = keys_db_begin(db, err)))
		return s;
	if ((s = read_version(db, &version, err)))
		goto fail;
	if (version > SCHEMA_VERSION) {
		s = too_new(version, err);
		goto fail;
	}
	if ((s = keys_db_exec(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
	                      err)))
		goto fail;
	for (int v = version; v < SCHEMA_VERSION; v++)
		if ((s = keys_db_exec(db, migrations[v], err)))
			goto fail;
	if ((s = set_version(db, SCHEMA_VERSION, err)))
		goto fail;
	return keys_db_commit(db, err);
fail:
	keys_db_rollback(db);
	return s;
}

/* Pragmas that must hold on every connection. journal_mode is checked
 * because SQLite quietly keeps the old mode when it cannot switch. */
static veil_status configure(sqlite3 *db, veil_err *err)
{
	keys_db_busy_default(db);
	sqlite3_stmt *st;
	veil_status s = keys_db_prepare(db, "PRAGMA journal_mode=WAL", &st, err);
	if (s)
		return s;
	int rc = sqlite3_step(st);
	bool wal = rc == SQLITE_ROW && sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	if (rc != SQLITE_ROW)
		s = keys_db_err(db, err, "cannot switch keys.db to WAL mode");
	else if (!wal)
		s = keys_fail(err, VEIL_E_DB, "keys.db cannot use WAL mode on this file system");
	sqlite3_finalize(st);
	if (s)
		return s;
	/* synchronous=FULL: a committed change survives power loss.
	 * secure_delete: freed pages are zeroed, so a destroyed DEK's
	 * wrapped bytes do not linger in the file. trusted_schema=OFF:
	 * the schema may not call functions with side effects. */
	return keys_db_exec(db,
	                    "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;"
	                    "PRAGMA trusted_schema=OFF;",
	                    err);
}

/* For create: the file exists (made 0600 by the caller) but is empty.
 * SQLite gives the -wal and -shm files the main file's mode. */
/* veil creates no triggers or views. One in keys.db was put there by
 * someone else, and could quietly undo a change veil makes (a trigger that
 * ignores the update destroying a DEK would defeat crypto-shredding). */
static veil_status no_foreign_schema(sqlite3 *db, veil_err *err)
{
	sqlite3_stmt *st;
	veil_status s = keys_db_prepare(
	        db, "SELECT type, name FROM sqlite_schema WHERE type IN ('trigger', 'view')", &st, err);
	if (s)
		return s;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		veil_err_set(err, VEIL_E_CORRUPT, "keys.db holds a %s named '%.64s' that veil never creates",
		             (const char *)sqlite3_column_text(st, 0),
		             (const char *)sqlite3_column_text(st, 1));
		veil_err_hint(err, "the key store was modified outside veil; restore it from a backup");
		s = VEIL_E_CORRUPT;
	} else if (rc != SQLITE_DONE) {
		s = keys_db_err(db, err, "cannot read the keys.db schema");
	}
	sqlite3_finalize(st);
	return s;
}

veil_status keys_db_open(const char *path, bool create, sqlite3 **out, veil_err *err)
{
	*out = NULL;
	if (!create && !veil_fs_exists(path)) {
		veil_err_set(err, VEIL_E_NOTFOUND, "no key store: %s does not exist", path);
		veil_err_hint(err, "check the workspace folder, or create the workspace first");
		return VEIL_E_NOTFOUND;
	}
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db,
	                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc != SQLITE_OK) {
		veil_status s = db ? keys_db_err(db, err, "cannot open keys.db")
		                   : keys_fail(err, VEIL_E_NOMEM, "cannot open %s: out of memory", path);
		sqlite3_close_v2(db);
		return s;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	veil_status s = configure(db, err);
	if (!s)
		s = no_foreign_schema(db, err);
	if (!s)
		s = migrate(db, err);
	if (s) {
		sqlite3_close_v2(db);
		return s;
	}
	*out = db;
	return VEIL_OK;
}

void keys_db_busy_default(sqlite3 *db)
{
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
}

void keys_db_close(sqlite3 *db)
{
	sqlite3_close_v2(db);
}

void keys_db_unlink(const char *path)
{
	char side[KEYS_PATH_MAX + 8];
	unlink(path);
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-journal", path);
	unlink(side);
}
