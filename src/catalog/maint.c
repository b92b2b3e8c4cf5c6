/*
 * Catalog maintenance: online backup and integrity checks.
 *
 * The backup copies every page in one read transaction (one backup step
 * with -1), which under WAL is a snapshot that writers on other
 * connections do not disturb and are not blocked by. The copy is written
 * to a temp file beside the destination and linked into place only when
 * complete and synced, so a reader never finds half a backup.
 */
#include "train_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BACKUP_TRIES    50
#define BACKUP_PAUSE_MS 100

static veil_status fsync_path(const char *path, veil_err *err)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot open %s", path);
	int rc = fsync(fd);
	int e = errno;
	close(fd);
	return rc == 0 ? VEIL_OK : veil_err_errno(err, VEIL_E_IO, e, "cannot sync %s", path);
}

/* Copies the catalog into the (empty) database file at tmp. */
static veil_status copy_pages(veil_catalog *c, const char *tmp, veil_err *err)
{
	sqlite3 *dst = NULL;
	int rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL);
	sqlite3_backup *b = rc == SQLITE_OK ? sqlite3_backup_init(dst, "main", c->db, "main") : NULL;
	if (b) {
		for (int i = 0; i < BACKUP_TRIES; i++) {
			rc = sqlite3_backup_step(b, -1);
			if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
				break;
			sqlite3_sleep(BACKUP_PAUSE_MS);
		}
		int frc = sqlite3_backup_finish(b);
		rc = rc == SQLITE_DONE ? frc : rc;
	} else if (rc == SQLITE_OK) {
		rc = sqlite3_errcode(dst);
	}
	veil_status st = VEIL_OK;
	if (rc != SQLITE_OK) {
		st = (rc & 0xff) == SQLITE_FULL   ? VEIL_E_NOSPACE
		     : (rc & 0xff) == SQLITE_BUSY ? VEIL_E_BUSY
		                                  : VEIL_E_DB;
		veil_err_set(err, st, "cannot back up catalog %s to %s: %s", c->path, tmp,
		             dst ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
	}
	if (sqlite3_close(dst) != SQLITE_OK && !st)
		st = veil_err_set(err, VEIL_E_DB, "cannot close the backup %s", tmp);
	return st;
}

/* Puts the finished copy at dest without replacing anything there:
 * link(2) fails if dest exists, where rename(2) would overwrite it. */
static veil_status publish(const char *tmp, const char *dest, veil_err *err)
{
	if (link(tmp, dest) != 0) {
		if (errno == EEXIST) {
			veil_err_set(err, VEIL_E_EXISTS, "%s already exists", dest);
			veil_err_hint(err, "choose a new file name for the backup, or move the old one away");
			return VEIL_E_EXISTS;
		}
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot create the backup %s", dest);
	}
	char dir[VCAT_PATH_MAX];
	veil_status st = veil_fmt(dir, sizeof dir, err, "%s", dest);
	return st ? st : veil_fs_fsync_dir(dirname(dir), err);
}

veil_status veil_catalog_backup(veil_catalog *c, const char *dest_path, veil_err *err)
{
	if (!dest_path || !dest_path[0])
		return veil_err_set(err, VEIL_E_INVALID, "no backup path given");
	if (!sqlite3_get_autocommit(c->db))
		return veil_err_set(err, VEIL_E_INVALID,
		                    "commit or roll back the open transaction before a backup");
	if (veil_fs_exists(dest_path)) {
		veil_err_set(err, VEIL_E_EXISTS, "%s already exists", dest_path);
		veil_err_hint(err, "choose a new file name for the backup, or move the old one away");
		return VEIL_E_EXISTS;
	}
	char tmp[VCAT_PATH_MAX], side[VCAT_PATH_MAX];
	veil_status st = veil_fmt(tmp, sizeof tmp - 16, err, "%s.tmp-XXXXXX", dest_path);
	if (st)
		return st;
	int fd = mkostemp(tmp, O_CLOEXEC); /* 0600; SQLite keeps the mode */
	if (fd < 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot create a temporary file for %s",
		                      dest_path);
	close(fd);
	st = copy_pages(c, tmp, err);
	if (!st)
		st = fsync_path(tmp, err);
	if (!st)
		st = publish(tmp, dest_path, err);
	unlink(tmp);
	/* Side files SQLite may leave after a failed copy. */
	if (veil_fmt(side, sizeof side, NULL, "%s-journal", tmp) == VEIL_OK)
		unlink(side);
	if (veil_fmt(side, sizeof side, NULL, "%s-wal", tmp) == VEIL_OK)
		unlink(side);
	if (veil_fmt(side, sizeof side, NULL, "%s-shm", tmp) == VEIL_OK)
		unlink(side);
	return st;
}

/* SQLite's own check of pages, indexes and constraints: one row "ok", or
 * rows describing problems (the first is reported). */
static veil_status integrity(veil_catalog *c, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c, "PRAGMA integrity_check(20)", &s, err);
	if (st)
		return st;
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		st = vcat_db_err(c, rc, "cannot check integrity", err);
	} else {
		const unsigned char *t = sqlite3_column_text(s, 0);
		if (!t || strcmp((const char *)t, "ok") != 0) {
			veil_err_set(err, VEIL_E_CORRUPT, "catalog %s is damaged: %.300s", c->path,
			             t ? (const char *)t : "(no detail)");
			veil_err_hint(err, "restore catalog.db from a backup");
			st = VEIL_E_CORRUPT;
		}
	}
	sqlite3_finalize(s);
	return st;
}

/* Every row whose foreign key has no parent row is a problem. */
static veil_status foreign_keys(veil_catalog *c, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c, "PRAGMA foreign_key_check", &s, err);
	if (st)
		return st;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *table = sqlite3_column_text(s, 0), *parent = sqlite3_column_text(s, 2);
		veil_err_set(err, VEIL_E_CORRUPT,
		             "catalog %s is inconsistent: row %lld of %.64s refers to a missing "
		             "row of %.64s",
		             c->path, (long long)sqlite3_column_int64(s, 1),
		             table ? (const char *)table : "?", parent ? (const char *)parent : "?");
		veil_err_hint(err, "restore catalog.db from a backup");
		st = VEIL_E_CORRUPT;
	} else if (rc != SQLITE_DONE) {
		st = vcat_db_err(c, rc, "cannot check references", err);
	}
	sqlite3_finalize(s);
	return st;
}

/* datasets.compartment could not be declared a foreign key (SQLite cannot
 * add one with a default to a table that has rows), so it is checked here. */
static veil_status dataset_compartments(veil_catalog *c, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c,
	                              "SELECT name, compartment FROM datasets WHERE compartment NOT IN "
	                              "(SELECT name FROM compartments) LIMIT 1",
	                              &s, err);
	if (st)
		return st;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(s, 0), *comp = sqlite3_column_text(s, 1);
		veil_err_set(err, VEIL_E_CORRUPT,
		             "catalog %s is inconsistent: dataset %.64s is in compartment %.64s, "
		             "which does not exist",
		             c->path, name ? (const char *)name : "?", comp ? (const char *)comp : "?");
		veil_err_hint(err, "restore catalog.db from a backup");
		st = VEIL_E_CORRUPT;
	} else if (rc != SQLITE_DONE) {
		st = vcat_db_err(c, rc, "cannot check dataset compartments", err);
	}
	sqlite3_finalize(s);
	return st;
}

veil_status veil_catalog_integrity_check(veil_catalog *c, veil_err *err)
{
	veil_status st = integrity(c, err);
	if (!st)
		st = foreign_keys(c, err);
	if (!st)
		st = dataset_compartments(c, err);
	return st ? st : vcat_training_check(c, err);
}
