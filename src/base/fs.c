/*
 * Files written so that a crash at any instant leaves either the old
 * content or the new, never a mix: write a temp file in the same folder,
 * fsync it, rename it over the target, fsync the folder (the rename is only
 * durable once the folder's entry is on disk). Where the filesystem allows,
 * the temp file is an unnamed O_TMPFILE that gets a name only at commit, so
 * a process killed mid-write leaves no plaintext behind in the folder.
 */
#include "veil/base.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

veil_status veil_fs_write_all(int fd, const void *p, size_t n, const char *what, veil_err *err)
{
	const uint8_t *q = p;
	while (n) {
		ssize_t w = write(fd, q, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return veil_err_errno(err, VEIL_E_IO, errno, "cannot write %s", what);
		}
		q += w;
		n -= (size_t)w;
	}
	return VEIL_OK;
}

veil_status veil_path_join(char *out, size_t outsz, const char *a, const char *b, veil_err *err)
{
	return veil_fmt(out, outsz, err, "%s/%s", a, b);
}

bool veil_fs_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

bool veil_fs_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static veil_status dir_of(const char *path, char *out, size_t outsz, veil_err *err)
{
	char tmp[4096];
	veil_status st = veil_fmt(tmp, sizeof tmp, err, "%s", path);
	if (st)
		return st;
	return veil_fmt(out, outsz, err, "%s", dirname(tmp));
}

veil_status veil_fs_fsync_dir(const char *dir, veil_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot open folder %s", dir);
	int rc = fsync(fd);
	int e = errno;
	close(fd);
	if (rc != 0)
		return veil_err_errno(err, VEIL_E_IO, e, "cannot sync folder %s", dir);
	return VEIL_OK;
}

veil_status veil_fs_mkdirs(const char *path, unsigned mode, veil_err *err)
{
	char tmp[4096];
	veil_status st = veil_fmt(tmp, sizeof tmp, err, "%s", path);
	if (st)
		return st;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) != 0 && errno != EEXIST)
			return veil_err_errno(err, VEIL_E_IO, errno, "cannot create folder %s", tmp);
		*p = '/';
	}
	if (mkdir(tmp, mode) != 0 && errno != EEXIST)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot create folder %s", tmp);
	if (!veil_fs_is_dir(tmp))
		return veil_err_set(err, VEIL_E_IO, "%s exists and is not a folder", tmp);
	return VEIL_OK;
}

veil_status veil_fs_read_file(const char *path, size_t max, veil_buf *out, veil_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot open %s", path);
	veil_status st = VEIL_OK;
	uint8_t chunk[16384];
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof chunk);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			st = veil_err_errno(err, VEIL_E_IO, errno, "cannot read %s", path);
			break;
		}
		if (r == 0)
			break;
		if (out->len + (size_t)r > max) {
			st = veil_err_set(err, VEIL_E_LIMIT, "%s is larger than the %zu-byte limit", path,
			                  max);
			break;
		}
		if ((st = veil_buf_append(out, chunk, (size_t)r, err)))
			break;
	}
	close(fd);
	return st;
}

/* The unnamed file is given its name through /proc/self/fd; check up front
 * that this path reaches it, so that a missing /proc means the named
 * fallback now rather than a failed commit after a long write. */
static bool proc_reaches(int fd)
{
	char proc[64];
	struct stat a, b;
	if (veil_fmt(proc, sizeof proc, NULL, "/proc/self/fd/%d", fd))
		return false;
	return fstat(fd, &a) == 0 && stat(proc, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Opens an O_TMPFILE file in dir. Leaves f->fd at -1 (and returns VEIL_OK)
 * where the kernel, the filesystem or /proc calls for the named fallback. */
static veil_status open_unnamed(veil_atomic_file *f, const char *dir, unsigned mode, veil_err *err)
{
#ifdef O_TMPFILE
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, (mode_t)mode);
	if (fd < 0) {
		/* EISDIR: a kernel without O_TMPFILE; EOPNOTSUPP: a filesystem without it. */
		if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)
			return VEIL_OK;
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot create a temporary file in %s", dir);
	}
	if (!proc_reaches(fd)) {
		close(fd);
		return VEIL_OK;
	}
	f->fd = fd;
	f->unnamed = true;
#else
	(void)f, (void)dir, (void)mode, (void)err;
#endif
	return VEIL_OK;
}

static veil_status open_named(veil_atomic_file *f, const char *dir, veil_err *err)
{
	veil_status st = veil_fmt(f->tmp_path, sizeof f->tmp_path, err, "%s/.veil-tmp-XXXXXX", dir);
	if (st) {
		f->tmp_path[0] = '\0';
		return st;
	}
	f->fd = mkostemp(f->tmp_path, O_CLOEXEC);
	if (f->fd < 0) {
		f->tmp_path[0] = '\0';
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot create a temporary file in %s", dir);
	}
	return VEIL_OK;
}

veil_status veil_atomic_open(veil_atomic_file *f, const char *path, unsigned mode, veil_err *err)
{
	f->fd = -1;
	f->unnamed = false;
	f->tmp_path[0] = '\0';
	veil_status st = veil_fmt(f->final_path, sizeof f->final_path, err, "%s", path);
	if (st)
		return st;
	char dir[4096];
	if ((st = dir_of(path, dir, sizeof dir, err)))
		return st;
	if ((st = open_unnamed(f, dir, mode, err)))
		return st;
	if (f->fd < 0 && (st = open_named(f, dir, err)))
		return st;
	/* The exact mode asked for, whatever the umask. */
	if (fchmod(f->fd, (mode_t)mode) != 0) {
		int e = errno;
		veil_atomic_abort(f);
		return veil_err_errno(err, VEIL_E_IO, e, "cannot set the mode of the new %s", path);
	}
	return VEIL_OK;
}

veil_status veil_atomic_write(veil_atomic_file *f, const void *p, size_t n, veil_err *err)
{
	return veil_fs_write_all(f->fd, p, n, f->final_path, err);
}

/* Links the unnamed file under a fresh ".veil-tmp-<hex>" in dir and records
 * that name in f->tmp_path, so that from here on commit and abort treat it
 * like the named fallback. linkat never replaces, so a name taken meanwhile
 * only costs another try. */
static veil_status link_unnamed(veil_atomic_file *f, const char *dir, veil_err *err)
{
	char proc[64], name[sizeof f->tmp_path], hex[17];
	uint8_t rnd[8];
	veil_status st = veil_fmt(proc, sizeof proc, err, "/proc/self/fd/%d", f->fd);
	if (st)
		return st;
	for (int tries = 0; tries < 16; tries++) {
		ssize_t r;
		while ((r = getrandom(rnd, sizeof rnd, 0)) < 0 && errno == EINTR)
			;
		if (r != (ssize_t)sizeof rnd)
			return veil_err_errno(err, VEIL_E_IO, r < 0 ? errno : EIO,
			                      "cannot pick a temporary name for %s", f->final_path);
		veil_hex_encode(rnd, sizeof rnd, hex);
		if ((st = veil_fmt(name, sizeof name, err, "%s/.veil-tmp-%s", dir, hex)))
			return st;
		if (linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW) == 0) {
			memcpy(f->tmp_path, name, sizeof name);
			f->unnamed = false;
			return VEIL_OK;
		}
		if (errno != EEXIST)
			return veil_err_errno(err, VEIL_E_IO, errno, "cannot give the new %s a name in %s",
			                      f->final_path, dir);
	}
	return veil_err_set(err, VEIL_E_IO, "cannot find a free temporary name for %s in %s", f->final_path,
	                    dir);
}

/* Every failure aborts: the final path is untouched and no temp name remains. */
veil_status veil_atomic_commit(veil_atomic_file *f, veil_err *err)
{
	if (f->fd < 0)
		return veil_err_set(err, VEIL_E_INTERNAL, "commit of %s, which is not open", f->final_path);
	veil_status st = VEIL_OK;
	char dir[4096];
	int rc;
	if (fsync(f->fd) != 0) {
		st = veil_err_errno(err, VEIL_E_IO, errno, "cannot sync %s", f->final_path);
		goto fail;
	}
	if ((st = dir_of(f->final_path, dir, sizeof dir, err)))
		goto fail;
	if (f->unnamed && (st = link_unnamed(f, dir, err)))
		goto fail;
	rc = close(f->fd);
	f->fd = -1;
	if (rc != 0) {
		st = veil_err_errno(err, VEIL_E_IO, errno, "cannot close %s", f->final_path);
		goto fail;
	}
	if (rename(f->tmp_path, f->final_path) != 0) {
		st = veil_err_errno(err, VEIL_E_IO, errno, "cannot move the new %s into place",
		                    f->final_path);
		goto fail;
	}
	f->tmp_path[0] = '\0';
	return veil_fs_fsync_dir(dir, err);
fail:
	veil_atomic_abort(f);
	return st;
}

void veil_atomic_abort(veil_atomic_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->unnamed = false;
	if (f->tmp_path[0])
		unlink(f->tmp_path);
	f->tmp_path[0] = '\0';
}

veil_status veil_fs_write_atomic(const char *path, const void *data, size_t len, unsigned mode, veil_err *err)
{
	veil_atomic_file f;
	veil_status st = veil_atomic_open(&f, path, mode, err);
	if (st)
		return st;
	if ((st = veil_atomic_write(&f, data, len, err))) {
		veil_atomic_abort(&f);
		return st;
	}
	return veil_atomic_commit(&f, err);
}

veil_status veil_fs_write_new(const char *path, const void *data, size_t len, unsigned mode, veil_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
	if (fd < 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot create %s", path);
	veil_status st = veil_fs_write_all(fd, data, len, path, err);
	if (!st && fsync(fd) != 0)
		st = veil_err_errno(err, VEIL_E_IO, errno, "cannot sync %s", path);
	close(fd);
	if (st) {
		unlink(path);
		return st;
	}
	char dir[4096];
	if ((st = dir_of(path, dir, sizeof dir, err)))
		return st;
	return veil_fs_fsync_dir(dir, err);
}

veil_status veil_fd_read(void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err)
{
	int fd = *(int *)ctx;
	for (;;) {
		ssize_t r = read(fd, buf, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return veil_err_errno(err, VEIL_E_IO, errno, "read failed");
		*got = (size_t)r;
		return VEIL_OK;
	}
}

veil_status veil_fd_write(void *ctx, const uint8_t *buf, size_t n, veil_err *err)
{
	return veil_fs_write_all(*(int *)ctx, buf, n, "output", err);
}

veil_status veil_mem_read(void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err)
{
	(void)err;
	veil_mem_reader *m = ctx;
	size_t k = m->n - m->off < n ? m->n - m->off : n;
	if (k)
		memcpy(buf, m->p + m->off, k);
	m->off += k;
	*got = k;
	return VEIL_OK;
}

veil_status veil_buf_write(void *ctx, const uint8_t *buf, size_t n, veil_err *err)
{
	return veil_buf_append(ctx, buf, n, err);
}

veil_status veil_read_full(veil_read_fn rd, void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err)
{
	size_t have = 0;
	while (have < n) {
		size_t g = 0;
		veil_status st = rd(ctx, buf + have, n - have, &g, err);
		if (st)
			return st;
		if (g == 0)
			break;
		have += g;
	}
	*got = have;
	return VEIL_OK;
}
