/*
 * The filesystem store backend. Layout under the root folder:
 *
 *   <root>/tmp/put-XXXXXX   puts in progress (mode 0600), invisible by id
 *   <root>/ab/<62 hex>      the object whose id is "ab" + those 62 digits
 *
 * A put becomes visible only by rename(2) of a fully written and fsynced
 * temp file, and the rename is made durable by fsync of the folder, so a
 * crash at any point leaves either no object or the whole object.
 */
#include "store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_CAP 4096
/* Room left in a path after the root for "/tmp/put-XXXXXX" or "/ab/<62>". */
#define ROOT_MAX (PATH_CAP - 80)

typedef struct fs_store {
	char root[PATH_CAP];
	char tmp[PATH_CAP];
} fs_store;

typedef struct fs_writer {
	fs_store *fs;
	int fd;
	char path[PATH_CAP];
} fs_writer;

typedef struct fs_reader {
	int fd;
} fs_reader;

static veil_status obj_dir(const fs_store *fs, const char *id, char *out, veil_err *err)
{
	return veil_fmt(out, PATH_CAP, err, "%s/%.2s", fs->root, id);
}

static veil_status obj_path(const fs_store *fs, const char *id, char *out, veil_err *err)
{
	return veil_fmt(out, PATH_CAP, err, "%s/%.2s/%s", fs->root, id, id + 2);
}

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == '\0';
}

veil_status veil_store_fs_open(const char *root, void **impl, veil_err *err)
{
	*impl = NULL;
	size_t n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		n--; /* "store/" and "store" are one root */
	if (n > ROOT_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "object store path is longer than %d bytes", ROOT_MAX);
	fs_store *fs = calloc(1, sizeof *fs);
	if (!fs)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory opening the object store");
	memcpy(fs->root, root, n);
	fs->root[n] = '\0';
	veil_status st = veil_fmt(fs->tmp, sizeof fs->tmp, err, "%s/tmp", fs->root);
	if (!st)
		st = veil_fs_mkdirs(fs->tmp, 0700, err);
	if (st) {
		veil_err_wrap(err, "cannot open the object store at %s", fs->root);
		free(fs);
		return st;
	}
	*impl = fs;
	return VEIL_OK;
}

static void fs_close(void *impl)
{
	free(impl);
}

/* ---- puts ---- */

static veil_status fs_put_begin(void *impl, void **bw, veil_err *err)
{
	fs_store *fs = impl;
	fs_writer *w = calloc(1, sizeof *w);
	if (!w)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory starting an object write");
	w->fs = fs;
	veil_status st = veil_fmt(w->path, sizeof w->path, err, "%s/put-XXXXXX", fs->tmp);
	if (st) {
		free(w);
		return st;
	}
	w->fd = mkostemp(w->path, O_CLOEXEC); /* created 0600, exclusively */
	if (w->fd < 0) {
		st = veil_err_errno(err, VEIL_E_IO, errno, "cannot create a temporary file in %s", fs->tmp);
		free(w);
		return st;
	}
	*bw = w;
	return VEIL_OK;
}

static veil_status fs_put_write(void *bw, const uint8_t *buf, size_t n, veil_err *err)
{
	fs_writer *w = bw;
	veil_status st = veil_fs_write_all(w->fd, buf, n, "a new object", err);
	if (st)
		veil_err_wrap(err, "object store %s", w->fs->root);
	return st;
}

static void fs_put_abort(void *bw)
{
	fs_writer *w = bw;
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->path[0])
		unlink(w->path);
	free(w);
}

/* mkdir of the id's folder; the root is synced when the folder is new so
 * the object's entry cannot outlive a crash without its folder's. */
static veil_status ensure_dir(fs_store *fs, const char *dir, veil_err *err)
{
	if (mkdir(dir, 0700) == 0)
		return veil_fs_fsync_dir(fs->root, err);
	if (errno != EEXIST)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot create folder %s", dir);
	if (!veil_fs_is_dir(dir))
		return veil_err_set(err, VEIL_E_IO, "%s is in the way of the object store: not a folder",
				    dir);
	return VEIL_OK;
}

/* An intact copy of the object is already there: keep it (dedup). A copy of
 * another size cannot hold these bytes, so it was damaged and is replaced. */
static bool have_intact(const char *path, int64_t size)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == size;
}

static veil_status fs_put_commit(void *bw, const char *id, veil_err *err)
{
	fs_writer *w = bw;
	fs_store *fs = w->fs;
	char dir[PATH_CAP], path[PATH_CAP];
	struct stat sb;
	veil_status st = VEIL_OK;
	int fd = w->fd;
	if (fsync(fd) != 0 || fstat(fd, &sb) != 0) {
		st = veil_err_errno(err, VEIL_E_IO, errno, "cannot sync a new object in %s", fs->root);
		goto out;
	}
	w->fd = -1;
	if (close(fd) != 0) {
		st = veil_err_errno(err, VEIL_E_IO, errno, "cannot close a new object in %s", fs->root);
		goto out;
	}
	if ((st = obj_dir(fs, id, dir, err)) || (st = obj_path(fs, id, path, err)) ||
	    (st = ensure_dir(fs, dir, err)))
		goto out;
	if (!have_intact(path, (int64_t)sb.st_size)) {
		if (rename(w->path, path) != 0) {
			st = veil_err_errno(err, VEIL_E_IO, errno, "cannot move new object %s into place",
					    id);
			goto out;
		}
		w->path[0] = '\0';
	}
	/* Also when deduplicated: the existing entry may be another writer's
	 * rename whose folder sync has not happened yet. */
	st = veil_fs_fsync_dir(dir, err);
out:
	fs_put_abort(w); /* closes and unlinks whatever was not moved */
	return st;
}

/* ---- reads ---- */

static veil_status not_found(const fs_store *fs, const char *id, veil_err *err)
{
	veil_err_set(err, VEIL_E_NOTFOUND, "no object %s in the store at %s", id, fs->root);
	veil_err_hint(err, "check the id, or that the catalog and the object store belong to one workspace");
	return VEIL_E_NOTFOUND;
}

static veil_status fs_get_open(void *impl, const char *id, void **br, veil_err *err)
{
	fs_store *fs = impl;
	char path[PATH_CAP];
	veil_status st = obj_path(fs, id, path, err);
	if (st)
		return st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return not_found(fs, id, err);
	if (fd < 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot open object %s", id);
	struct stat sb;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return veil_err_set(err, VEIL_E_CORRUPT, "object %s is not a regular file", id);
	}
	fs_reader *r = malloc(sizeof *r);
	if (!r) {
		close(fd);
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory opening object %s", id);
	}
	r->fd = fd;
	*br = r;
	return VEIL_OK;
}

static veil_status fs_get_read(void *br, uint8_t *buf, size_t n, size_t *got, veil_err *err)
{
	fs_reader *r = br;
	return veil_fd_read(&r->fd, buf, n, got, err);
}

static void fs_get_close(void *br)
{
	fs_reader *r = br;
	if (!r)
		return;
	close(r->fd);
	free(r);
}

/* ---- whole objects ---- */

static veil_status fs_size(void *impl, const char *id, uint64_t *size, veil_err *err)
{
	fs_store *fs = impl;
	char path[PATH_CAP];
	veil_status st = obj_path(fs, id, path, err);
	if (st)
		return st;
	struct stat sb;
	if (lstat(path, &sb) != 0) {
		if (errno == ENOENT)
			return not_found(fs, id, err);
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot look up object %s", id);
	}
	if (!S_ISREG(sb.st_mode))
		return veil_err_set(err, VEIL_E_CORRUPT, "object %s is not a regular file", id);
	*size = (uint64_t)sb.st_size;
	return VEIL_OK;
}

static veil_status fs_remove(void *impl, const char *id, veil_err *err)
{
	fs_store *fs = impl;
	char dir[PATH_CAP], path[PATH_CAP];
	veil_status st;
	if ((st = obj_dir(fs, id, dir, err)) || (st = obj_path(fs, id, path, err)))
		return st;
	if (unlink(path) != 0) {
		if (errno == ENOENT)
			return not_found(fs, id, err);
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot remove object %s", id);
	}
	return veil_fs_fsync_dir(dir, err);
}

/* Calls cb for every object file in one "ab" folder. */
static veil_status list_dir(const fs_store *fs, const char *prefix, veil_store_list_fn cb, void *ctx,
			    veil_err *err)
{
	char dir[PATH_CAP];
	veil_status st = veil_fmt(dir, sizeof dir, err, "%s/%s", fs->root, prefix);
	if (st)
		return st;
	DIR *d = opendir(dir);
	if (!d)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot list %s", dir);
	struct dirent *e;
	while (!st && (e = readdir(d))) {
		if (strlen(e->d_name) != VEIL_STORE_ID_LEN - 2 || !is_hex(e->d_name, VEIL_STORE_ID_LEN - 2))
			continue;
		char id[VEIL_STORE_ID_MAX];
		memcpy(id, prefix, 2);
		memcpy(id + 2, e->d_name, VEIL_STORE_ID_LEN - 2 + 1);
		st = cb(ctx, id, err);
	}
	closedir(d);
	return st;
}

static veil_status fs_list(void *impl, veil_store_list_fn cb, void *ctx, veil_err *err)
{
	fs_store *fs = impl;
	DIR *d = opendir(fs->root);
	if (!d)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot list the object store at %s", fs->root);
	veil_status st = VEIL_OK;
	struct dirent *e;
	while (!st && (e = readdir(d))) {
		if (strlen(e->d_name) != 2 || !is_hex(e->d_name, 2))
			continue;
		st = list_dir(fs, e->d_name, cb, ctx, err);
	}
	closedir(d);
	return st;
}

static veil_status fs_sweep_tmp(void *impl, int64_t older_than_seconds, veil_err *err)
{
	fs_store *fs = impl;
	DIR *d = opendir(fs->tmp);
	if (!d)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot list %s", fs->tmp);
	int64_t now = veil_time_now();
	veil_status st = VEIL_OK;
	struct dirent *e;
	while (!st && (e = readdir(d))) {
		struct stat sb;
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode))
			continue;
		if (now - (int64_t)sb.st_mtime < older_than_seconds)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) != 0 && errno != ENOENT)
			st = veil_err_errno(err, VEIL_E_IO, errno, "cannot remove %s/%s", fs->tmp, e->d_name);
	}
	closedir(d);
	return st;
}

const veil_store_ops veil_store_fs_ops = {
	.name = "fs",
	.close = fs_close,
	.put_begin = fs_put_begin,
	.put_write = fs_put_write,
	.put_commit = fs_put_commit,
	.put_abort = fs_put_abort,
	.get_open = fs_get_open,
	.get_read = fs_get_read,
	.get_close = fs_get_close,
	.size = fs_size,
	.remove = fs_remove,
	.list = fs_list,
	.sweep_tmp = fs_sweep_tmp,
};
