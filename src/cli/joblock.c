/*
 * Whether a job the catalog calls running still has a process running it.
 *
 * A veil train (or model eval) killed outright cannot mark its job
 * interrupted, so the process says it is alive instead: it holds an
 * exclusive flock on <workspace>/running/<job id> from before the job is
 * marked running until after it is marked finished. The kernel drops the
 * lock when the process dies, however it dies, so whoever can take the lock
 * of a job the catalog calls running knows it was interrupted, and records
 * that: `veil job list|status` and `veil train --resume` all look. The
 * checker holds the lock while it re-reads and marks the job, so a run
 * that starts (or resumes) meanwhile waits for it, and a job that finished
 * meanwhile is left alone.
 *
 * A lock file, not a pid: pids are reused, and a lock cannot outlive its
 * process. The files are never removed while veil may run a job (removing
 * a file someone else has open and locked would let a third process lock a
 * new file of the same name beside it); gc, which has the workspace to
 * itself, clears the folder. Files are empty; backups skip the folder.
 */
#include "cmds.h"
#include "train.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define RUNNING_DIR "running"

/* How long cli_job_lock waits out a checker's brief hold. */
#define LOCK_TRIES    40
#define LOCK_PAUSE_US 50000

static veil_status lock_path(const cli_ws *ws, const char *job_id, char p[4096], veil_err *err)
{
	return veil_fmt(p, 4096, err, "%s/%s/%s", ws->dir, RUNNING_DIR, job_id);
}

/* Opens (creating) the job's lock file and tries to lock it: *fd is the
 * locked descriptor, or -1 with *busy when another process holds it. */
static veil_status try_lock(cli_ws *ws, const char *job_id, int *fd, bool *busy, veil_err *err)
{
	char dir[4096], p[4096];
	*fd = -1;
	*busy = false;
	veil_status st = veil_fmt(dir, sizeof dir, err, "%s/%s", ws->dir, RUNNING_DIR);
	if (st || (st = veil_fs_mkdirs(dir, 0700, err)) || (st = lock_path(ws, job_id, p, err)))
		return st;
	/* flock needs no write access: read-only opens work on any file the
	 * workspace's owner made. */
	int f = open(p, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (f < 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot open the job's lock %s", p);
	if (flock(f, LOCK_EX | LOCK_NB) == 0) {
		*fd = f;
		return VEIL_OK;
	}
	int e = errno;
	close(f);
	if (e != EWOULDBLOCK)
		return veil_err_errno(err, VEIL_E_IO, e, "cannot lock %s", p);
	*busy = true;
	return VEIL_OK;
}

veil_status cli_job_lock(cli_ws *ws, const char *job_id, int *fd, veil_err *err)
{
	bool busy = true;
	for (int i = 0; i < LOCK_TRIES && busy; i++) {
		veil_status st = try_lock(ws, job_id, fd, &busy, err);
		if (st)
			return st;
		if (busy)
			usleep(LOCK_PAUSE_US);
	}
	if (!busy)
		return VEIL_OK;
	veil_err_set(err, VEIL_E_BUSY, "job %s is running in another veil process", job_id);
	return veil_err_hint(err, "wait for it, or follow it with 'veil job status %s'", job_id);
}

void cli_job_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* the file stays (see the top of this file) */
}

veil_status cli_job_reap(cli_ws *ws, veil_job_record *j, veil_err *err)
{
	if (strcmp(j->state, "running") != 0)
		return VEIL_OK;
	int f;
	bool busy;
	veil_status st = try_lock(ws, j->id, &f, &busy, err);
	if (st || busy)
		return st; /* busy: alive */
	/* Nobody holds it: unless the job finished meanwhile, it was cut off. */
	veil_job_record now;
	if (!(st = veil_catalog_job_get(ws->catalog, j->id, &now, err)) && strcmp(now.state, "running") == 0)
		st = veil_catalog_job_set_state(ws->catalog, j->id, "interrupted",
		                                "the veil process running it stopped (killed, or its "
		                                "machine went down)",
		                                err);
	veil_job_record_free(&now);
	if (!st && (st = veil_catalog_job_get(ws->catalog, j->id, &now, err)) == VEIL_OK) {
		snprintf(j->state, sizeof j->state, "%s", now.state);
		snprintf(j->error, sizeof j->error, "%s", now.error);
		j->updated = now.updated;
		j->finished = now.finished;
		veil_job_record_free(&now);
	}
	close(f);
	return st;
}

void cli_job_locks_clear(cli_ws *ws)
{
	char dir[4096], p[4096 + 64];
	veil_err e;
	if (veil_fmt(dir, sizeof dir, &e, "%s/%s", ws->dir, RUNNING_DIR) != VEIL_OK)
		return;
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && veil_fmt(p, sizeof p, &e, "%s/%s", dir, de->d_name) == VEIL_OK &&
		    unlink(p) != 0)
			veil_log(VEIL_LOG_WARN, "gc", "cannot remove the job lock %s: %s", p,
			         strerror(errno));
	closedir(d);
}
