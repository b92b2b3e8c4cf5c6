/*
 * veil_kms_backup: a consistent copy of keys.db. SQLite's online backup
 * reads one snapshot through the handle's own connection (so it copies the
 * store this handle opened, whatever has happened to the path since, and
 * other processes may keep writing: WAL readers do not block writers). The
 * copy is written to a temporary file beside the destination that is
 * private from its first instant (mkostemp: O_EXCL, mode 0600), synced,
 * and linked into place only when complete, so the destination never
 * exists half written and is never replaced.
 */
#include "keys_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS      10000 /* the longest keys.db's locks are waited for, in total */
#define STEP_BUSY_MS 100   /* the source's busy timeout while a step runs */
#define RETRY_MS     50    /* pause between steps refused for a lock */
#define TEMP_NAME    ".keys.db.backup-XXXXXX"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The folder dest is in: "." for a bare file name, "/" for a file in /. */
static veil_status dest_dir(const char *dest, char dir[KEYS_PATH_MAX], veil_err *err)
{
	size_t n = dest ? strlen(dest) : 0;
	if (n == 0 || dest[n - 1] == '/')
		return keys_fail(err, VEIL_E_INVALID, "the key store backup needs a file name to write to");
	if (n > KEYS_PATH_MAX - sizeof TEMP_NAME - 2)
		return keys_fail(err, VEIL_E_LIMIT, "the key store backup path is too long");
	const char *slash = strrchr(dest, '/');
	size_t len = !slash ? 0 : slash == dest ? 1 : (size_t)(slash - dest);
	if (len == 0)
		return veil_fmt(dir, KEYS_PATH_MAX, err, ".");
	memcpy(dir, dest, len);
	dir[len] = '\0';
	return VEIL_OK;
}

/* A quick, friendly refusal; link() below is what guarantees that a file
 * appearing meanwhile is not replaced either. */
static veil_status check_absent(const char *dest, veil_err *err)
{
	struct stat sb;
	if (lstat(dest, &sb) == 0) {
		veil_err_set(err, VEIL_E_EXISTS, "%s exists; a key store backup never replaces a file", dest);
		veil_err_hint(err, "choose a new file name for the backup");
		return VEIL_E_EXISTS;
	}
	if (errno != ENOENT)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot check %s", dest);
	return VEIL_OK;
}

static veil_status make_temp(const char *dir, char tmp[KEYS_PATH_MAX], veil_err *err)
{
	veil_status s = veil_path_join(tmp, KEYS_PATH_MAX, dir, TEMP_NAME, err);
	if (s)
		return s;
	int fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600, which SQLite's side files copy */
	if (fd < 0) {
		s = veil_err_errno(err, VEIL_E_IO, errno, "cannot create a temporary file in %s", dir);
		if (s == VEIL_E_NOTFOUND)
			veil_err_hint(err, "create the folder %s first, or choose an existing one", dir);
		return s;
	}
	close(fd);
	return VEIL_OK;
}

static bool is_busy(int rc)
{
	return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

/* One attempt: every page in one step, so in one read transaction on the
 * source: one snapshot. Returns SQLite's code; finish leaves any error on
 * dst. */
static int attempt(sqlite3 *dst, sqlite3 *src)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b)
		return sqlite3_errcode(dst);
	int rc = sqlite3_backup_step(b, -1);
	int frc = sqlite3_backup_finish(b); /* rolls back what a failed step wrote to dst */
	return rc == SQLITE_DONE ? frc : rc;
}

/* A step refused for a lock (another process checkpointing or recovering
 * the WAL) is tried again until WAIT_MS have passed, each time with a new
 * backup object: SQLite keeps an extended busy code such as
 * SQLITE_BUSY_RECOVERY as the object's final state, so the same object
 * would never succeed. */
static veil_status run_backup(veil_kms *kms, sqlite3 *dst, veil_err *err)
{
	int64_t deadline = now_ms() + WAIT_MS;
	sqlite3_busy_timeout(kms->db, STEP_BUSY_MS);
	int rc = attempt(dst, kms->db);
	while (is_busy(rc) && now_ms() < deadline) {
		sqlite3_sleep(RETRY_MS);
		rc = attempt(dst, kms->db);
	}
	keys_db_busy_default(kms->db);
	if (is_busy(rc)) {
		veil_err_set(err, VEIL_E_BUSY, "keys.db in %s stayed locked for %d s; no backup was written",
		             kms->dir, WAIT_MS / 1000);
		veil_err_hint(err, "wait for the other veil command to finish and try again");
		return VEIL_E_BUSY;
	}
	if (rc != SQLITE_OK)
		return keys_db_err(dst, err, "cannot back up keys.db");
	return VEIL_OK;
}

/* The pages copied say WAL, as the live store's do; the copy is made a
 * plain rollback-journal database, complete in one file, as create makes
 * keys.db (open switches it to WAL again). */
static veil_status finish_copy(sqlite3 *dst, veil_err *err)
{
	sqlite3_stmt *st;
	veil_status s = keys_db_prepare(dst, "PRAGMA journal_mode=DELETE", &st, err);
	if (s)
		return s;
	if (sqlite3_step(st) != SQLITE_ROW ||
	    sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "delete") != 0)
		s = keys_db_err(dst, err, "cannot finish the key store backup");
	sqlite3_finalize(st);
	return s;
}

static veil_status copy(veil_kms *kms, const char *tmp, veil_err *err)
{
	sqlite3 *dst = NULL;
	veil_status s = VEIL_OK;
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK)
		s = dst ? keys_db_err(dst, err, "cannot open the key store backup")
		        : keys_fail(err, VEIL_E_NOMEM, "cannot open %s: out of memory", tmp);
	if (!s)
		s = keys_db_exec(dst, "PRAGMA synchronous=FULL", err);
	if (!s)
		s = run_backup(kms, dst, err);
	if (!s)
		s = finish_copy(dst, err);
	if (sqlite3_close_v2(dst) != SQLITE_OK && !s)
		s = keys_fail(err, VEIL_E_IO, "cannot close the key store backup %s", tmp);
	return s;
}

static veil_status sync_file(const char *path, veil_err *err)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot open %s", path);
	veil_status s = VEIL_OK;
	if (fsync(fd) != 0)
		s = veil_err_errno(err, VEIL_E_IO, errno, "cannot sync %s", path);
	close(fd);
	return s;
}

veil_status veil_kms_backup(veil_kms *kms, const char *dest_path, veil_err *err)
{
	char dir[KEYS_PATH_MAX], tmp[KEYS_PATH_MAX];
	veil_status s = dest_dir(dest_path, dir, err);
	if (s || (s = check_absent(dest_path, err)) || (s = make_temp(dir, tmp, err)))
		return s;
	s = copy(kms, tmp, err);
	if (!s)
		s = sync_file(tmp, err);
	/* link, not rename: it fails rather than replace a file that
	 * appeared since check_absent. */
	if (!s && link(tmp, dest_path) != 0) {
		s = veil_err_errno(err, VEIL_E_IO, errno, "cannot move the key store backup into place as %s",
		                   dest_path);
		if (s == VEIL_E_EXISTS)
			veil_err_hint(err, "something created %s meanwhile; choose a new file name",
			              dest_path);
	}
	keys_db_unlink(tmp);
	if (s)
		return s;
	return veil_fs_fsync_dir(dir, err);
}
