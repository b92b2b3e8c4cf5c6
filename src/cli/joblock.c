/*
 * Whether a job the catalog calls running still has a process running it.
 *
 * A veil train (or model eval) killed outright cannot mark its job
 * interrupted, so the process says it is alive instead: it holds an
 * exclusive flock on <workspace>/running/<job id> from before the job is
 * marked running until after it is marked finished. The kernel drops the
 * lock when the process dies, however it dies, so whoever finds a running
 * job whose lock nobody holds (or whose file is gone) knows it was
 * interrupted, and records that: `veil job list|status` and
 * `veil train --resume` all look. The check re-reads the job after taking
 * the lock, so a job that finished in between is left alone.
 *
 * A lock file, not a pid: pids are reused, and a lock cannot outlive its
 * process. The folder holds only these empty files; backups skip it.
 */
#include "cmds.h"
#include "train.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define RUNNING_DIR "running"

static veil_status lock_path(const cli_ws *ws, const char *job_id, char p[4096], veil_err *err)
{
	return veil_fmt(p, 4096, err, "%s/%s/%s", ws->dir, RUNNING_DIR, job_id);
}

veil_status cli_job_lock(cli_ws *ws, const char *job_id, int *fd, veil_err *err)
{
	char dir[4096], p[4096];
	*fd = -1;
	veil_status st = veil_fmt(dir, sizeof dir, err, "%s/%s", ws->dir, RUNNING_DIR);
	if (st || (st = veil_fs_mkdirs(dir, 0700, err)) || (st = lock_path(ws, job_id, p, err)))
		return st;
	int f = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (f < 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot create the job's lock %s", p);
	if (flock(f, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(f);
		if (e == EWOULDBLOCK) {
			veil_err_set(err, VEIL_E_BUSY, "job %s is running in another veil process", job_id);
			return veil_err_hint(err, "wait for it, or follow it with 'veil job status %s'",
			                     job_id);
		}
		return veil_err_errno(err, VEIL_E_IO, e, "cannot lock %s", p);
	}
	*fd = f;
	return VEIL_OK;
}

void cli_job_unlock(cli_ws *ws, const char *job_id, int fd)
{
	if (fd < 0)
		return;
	char p[4096];
	veil_err e;
	/* Unlinked while still locked: a checker that opened it before sees
	 * the job's final state once it gets the lock. */
	if (lock_path(ws, job_id, p, &e) == VEIL_OK && unlink(p) != 0 && errno != ENOENT)
		veil_log(VEIL_LOG_WARN, "job", "cannot remove the lock of job %s: %s", job_id,
		         strerror(errno));
	close(fd);
}

/* Whether a live process holds the job's lock. The lock taken must be on
 * the file the path names now: a holder unlinks its file as it finishes,
 * and a resumed run may already have made a new one. */
static veil_status lock_held(const char *p, bool *held, int *fd, veil_err *err)
{
	*fd = -1;
	for (int tries = 0; tries < 8; tries++) {
		int f = open(p, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (f < 0 && errno == ENOENT) {
			*held = false;
			return VEIL_OK;
		}
		if (f < 0)
			return veil_err_errno(err, VEIL_E_IO, errno, "cannot open the job's lock %s", p);
		if (flock(f, LOCK_EX | LOCK_NB) != 0) {
			int e = errno;
			close(f);
			if (e != EWOULDBLOCK)
				return veil_err_errno(err, VEIL_E_IO, e, "cannot lock %s", p);
			*held = true;
			return VEIL_OK;
		}
		struct stat a, b;
		if (fstat(f, &a) == 0 && stat(p, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
			*held = false;
			*fd = f; /* kept locked while the job is marked */
			return VEIL_OK;
		}
		close(f);
	}
	*held = true; /* changing under us all along: someone is busy with it */
	return VEIL_OK;
}

veil_status cli_job_reap(cli_ws *ws, veil_job_record *j, veil_err *err)
{
	if (strcmp(j->state, "running") != 0)
		return VEIL_OK;
	char p[4096];
	bool held;
	int f;
	veil_status st = lock_path(ws, j->id, p, err);
	if (st || (st = lock_held(p, &held, &f, err)) || held)
		return st;
	/* Nobody holds it: unless the job finished meanwhile, it was cut off. */
	veil_job_record now;
	if (!(st = veil_catalog_job_get(ws->catalog, j->id, &now, err)) && strcmp(now.state, "running") == 0)
		st = veil_catalog_job_set_state(ws->catalog, j->id, "interrupted",
		                                "the veil process running it stopped (killed, or its "
		                                "machine went down); its last checkpoint is kept",
		                                err);
	veil_job_record_free(&now);
	if (!st && (st = veil_catalog_job_get(ws->catalog, j->id, &now, err)) == VEIL_OK) {
		snprintf(j->state, sizeof j->state, "%s", now.state);
		snprintf(j->error, sizeof j->error, "%s", now.error);
		j->updated = now.updated;
		j->finished = now.finished;
		veil_job_record_free(&now);
	}
	if (f >= 0)
		close(f); /* the file stays: a resumed run takes the same one */
	return st;
}
