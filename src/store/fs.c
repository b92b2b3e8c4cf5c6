/*
 * The filesystem store backend. Layout under the root folder:
 *
 *   <root>/tmp/put-XXXXXX   puts in progress (mode 0600), invisible by id
 *   <root>/ab/<62 hex>      the object whose id is "ab" + those 62 digits
 *
 * A put becomes visible only by rename(2) of a fully written and fsynced
 * temp file, and the rename is made durable by fsync of the folder, so a
 * crash at any point leaves either no object or the whole object.
 *
 * Whoever else can write under the root is untrusted (DESIGN.md section 2),
 * so nothing found there is taken at its word: folders are opened with
 * O_NOFOLLOW and objects are reached relative to them, an object file is
 * opened O_NONBLOCK (open(2) of a planted FIFO would otherwise wait for a
 * writer forever) and fstat-ed before a byte is read, and anything that is
 * not a regular file where an object should be is reported as tampering,
 * skipped by the listing, and replaced by the next put of that id.
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
/* Every open of what should be an object file: no symlink, no waiting in
 * open(2) for the writer of a FIFO, no controlling terminal from a planted
 * tty. O_NONBLOCK is cleared once fstat has shown a regular file. */
#define OBJ_OPEN_FLAGS (O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
/* Every open of a folder under the root: never through a symlink, which
 * could send reads, renames and unlinks to a folder outside the store. */
#define DIR_OPEN_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
/* mkostemp's names in tmp/: "put-" and six characters. */
#define TMP_PREFIX   "put-"
#define TMP_NAME_LEN (sizeof TMP_PREFIX - 1 + 6)

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

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == '\0';
}

/* ---- what is wrong, said once ---- */

static veil_status not_found(const fs_store *fs, const char *id, veil_err *err)
{
	veil_err_set(err, VEIL_E_NOTFOUND, "no object %s in the store at %s", id, fs->root);
	veil_err_hint(err, "check the id, or that the catalog and the object store belong to one workspace");
	return VEIL_E_NOTFOUND;
}

/* A FIFO, symlink, socket, device or folder where an object should be: veil
 * only ever renames regular files into place, so someone else put it there. */
static veil_status not_regular(const fs_store *fs, const char *id, veil_err *err)
{
	veil_err_set(err, VEIL_E_CORRUPT,
	             "object %s is not a regular file: the object store was tampered with", id);
	veil_err_hint(err,
	              "remove %s/%.2s/%s, then restore the object from a backup or upload the data again",
	              fs->root, id, id + 2);
	return VEIL_E_CORRUPT;
}

static veil_status not_folder(const char *dir, veil_err *err)
{
	veil_err_set(err, VEIL_E_CORRUPT, "%s is not a folder: the object store was tampered with", dir);
	veil_err_hint(err, "remove it (veil creates the folder again when it needs one) and check who else "
	                   "can write to the object store");
	return VEIL_E_CORRUPT;
}

/* ---- opening what is under the root, trusting none of it ---- */

/* Opens the id's "ab" folder. On success the caller closes *dfd. */
static veil_status open_prefix(const fs_store *fs, const char *id, int *dfd, veil_err *err)
{
	char dir[PATH_CAP];
	*dfd = -1;
	veil_status st = obj_dir(fs, id, dir, err);
	if (st)
		return st;
	int fd = open(dir, DIR_OPEN_FLAGS);
	if (fd >= 0) {
		*dfd = fd;
		return VEIL_OK;
	}
	if (errno == ENOENT)
		return not_found(fs, id, err);
	if (errno == ENOTDIR || errno == ELOOP)
		return not_folder(dir, err);
	return veil_err_errno(err, VEIL_E_IO, errno, "cannot open folder %s", dir);
}

/* Opens the object file in its folder dfd for reading, blocking, and only
 * if it is a regular file; *size (may be NULL) gets its size. */
static veil_status open_object(const fs_store *fs, int dfd, const char *id, int *out, int64_t *size,
                               veil_err *err)
{
	struct stat sb;
	*out = -1;
	int fd = openat(dfd, id + 2, OBJ_OPEN_FLAGS);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return not_found(fs, id, err);
		/* ELOOP for a symlink, ENXIO for a socket, ...: name the cause */
		if (fstatat(dfd, id + 2, &sb, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(sb.st_mode))
			return not_regular(fs, id, err);
		return veil_err_errno(err, VEIL_E_IO, e, "cannot open object %s", id);
	}
	veil_status st = VEIL_OK;
	int flags;
	if (fstat(fd, &sb) != 0)
		st = veil_err_errno(err, VEIL_E_IO, errno, "cannot look up object %s", id);
	else if (!S_ISREG(sb.st_mode))
		st = not_regular(fs, id, err);
	else if ((flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0)
		st = veil_err_errno(err, VEIL_E_IO, errno, "cannot set up reading object %s", id);
	if (st) {
		close(fd);
		return st;
	}
	if (size)
		*size = (int64_t)sb.st_size;
	*out = fd;
	return VEIL_OK;
}

/* fsync of the id's folder, after a rename into it or an unlink from it. */
static veil_status sync_prefix(const fs_store *fs, int dfd, const char *id, veil_err *err)
{
	if (fsync(dfd) == 0)
		return VEIL_OK;
	return veil_err_errno(err, VEIL_E_IO, errno, "cannot sync folder %s/%.2s", fs->root, id);
}

/* veil_fs_mkdirs follows symlinks; a tmp/ that is one would send puts, and
 * the sweep's unlinks, to another folder. */
static veil_status check_tmp(const fs_store *fs, veil_err *err)
{
	struct stat sb;
	if (lstat(fs->tmp, &sb) != 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot look up %s", fs->tmp);
	return S_ISDIR(sb.st_mode) ? VEIL_OK : not_folder(fs->tmp, err);
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
	if (!st)
		st = check_tmp(fs, err);
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
	veil_status st = veil_fmt(w->path, sizeof w->path, err, "%s/" TMP_PREFIX "XXXXXX", fs->tmp);
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

/* The id's folder for a put: made when missing (and the root synced then,
 * so the folder entry is durable before anything in it), then opened like
 * any other, so a symlink in its place is refused rather than written into. */
static veil_status prefix_for_put(const fs_store *fs, const char *id, int *dfd, veil_err *err)
{
	char dir[PATH_CAP];
	*dfd = -1;
	veil_status st = obj_dir(fs, id, dir, err);
	if (st)
		return st;
	if (mkdir(dir, 0700) == 0)
		st = veil_fs_fsync_dir(fs->root, err);
	else if (errno != EEXIST)
		st = veil_err_errno(err, VEIL_E_IO, errno, "cannot create folder %s", dir);
	return st ? st : open_prefix(fs, id, dfd, err);
}

/* Dedup keeps the existing copy only if it is a regular file whose bytes
 * hash to the id, checked by reading it all (rare: the same bytes put
 * twice). Anything else (a damaged copy of any size, a planted FIFO or
 * symlink, a file that cannot be read) is replaced by the new copy, which
 * is known good; so every doubt is answered "replace", which is always safe. */
static bool have_intact(const fs_store *fs, int dfd, const char *id, int64_t size)
{
	int fd = -1;
	int64_t have = -1;
	bool match = false;
	if (open_object(fs, dfd, id, &fd, &have, NULL) != VEIL_OK)
		return false;
	if (have == size && veil_store_id_matches(veil_fd_read, &fd, id, &match, NULL) != VEIL_OK)
		match = false;
	close(fd);
	return match;
}

static veil_status fs_put_commit(void *bw, const char *id, veil_err *err)
{
	fs_writer *w = bw;
	fs_store *fs = w->fs;
	struct stat sb;
	veil_status st = VEIL_OK;
	int fd = w->fd, dfd = -1;
	if (fsync(fd) != 0 || fstat(fd, &sb) != 0) {
		st = veil_err_errno(err, VEIL_E_IO, errno, "cannot sync a new object in %s", fs->root);
		goto out;
	}
	w->fd = -1;
	if (close(fd) != 0) {
		st = veil_err_errno(err, VEIL_E_IO, errno, "cannot close a new object in %s", fs->root);
		goto out;
	}
	if ((st = prefix_for_put(fs, id, &dfd, err)))
		goto out;
	if (!have_intact(fs, dfd, id, (int64_t)sb.st_size)) {
		/* rename(2) replaces any non-folder entry, planted ones included */
		if (renameat(AT_FDCWD, w->path, dfd, id + 2) != 0) {
			if (errno == EISDIR)
				st = not_regular(fs, id, err); /* a planted folder */
			else
				st = veil_err_errno(err, VEIL_E_IO, errno,
				                    "cannot move new object %s into place", id);
			goto out;
		}
		w->path[0] = '\0';
	}
	/* Also when deduplicated: the existing entry may be another writer's
	 * rename whose folder sync has not happened yet. */
	st = sync_prefix(fs, dfd, id, err);
out:
	if (dfd >= 0)
		close(dfd);
	fs_put_abort(w); /* closes and unlinks whatever was not moved */
	return st;
}

/* ---- reads ---- */

static veil_status fs_get_open(void *impl, const char *id, void **br, veil_err *err)
{
	fs_store *fs = impl;
	int dfd, fd;
	veil_status st = open_prefix(fs, id, &dfd, err);
	if (st)
		return st;
	st = open_object(fs, dfd, id, &fd, NULL, err);
	close(dfd);
	if (st)
		return st;
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
	int dfd;
	veil_status st = open_prefix(fs, id, &dfd, err);
	if (st)
		return st;
	struct stat sb;
	int rc = fstatat(dfd, id + 2, &sb, AT_SYMLINK_NOFOLLOW);
	int e = errno;
	close(dfd);
	if (rc != 0 && e == ENOENT)
		return not_found(fs, id, err);
	if (rc != 0)
		return veil_err_errno(err, VEIL_E_IO, e, "cannot look up object %s", id);
	if (!S_ISREG(sb.st_mode))
		return not_regular(fs, id, err);
	*size = (uint64_t)sb.st_size;
	return VEIL_OK;
}

/* Removes whatever entry is at the id without following or opening it, so
 * removing a planted FIFO or symlink is also how it is cleaned up. */
static veil_status fs_remove(void *impl, const char *id, veil_err *err)
{
	fs_store *fs = impl;
	int dfd;
	veil_status st = open_prefix(fs, id, &dfd, err);
	if (st)
		return st;
	if (unlinkat(dfd, id + 2, 0) == 0)
		st = sync_prefix(fs, dfd, id, err);
	else if (errno == ENOENT)
		st = not_found(fs, id, err);
	else
		st = veil_err_errno(err, VEIL_E_IO, errno, "cannot remove object %s", id);
	close(dfd);
	return st;
}

/* readdir that tells the end of the folder from a failure to read it, so a
 * listing cut short by an I/O error is not taken for a complete one. */
static veil_status next_entry(DIR *d, const char *dir, struct dirent **e, veil_err *err)
{
	errno = 0;
	*e = readdir(d);
	if (!*e && errno != 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot list %s", dir);
	return VEIL_OK;
}

/* Whether a folder entry is a regular file, judged without opening it and
 * without following a symlink. */
static bool is_regular_at(int dfd, const struct dirent *e)
{
	struct stat sb;
	if (e->d_type != DT_UNKNOWN)
		return e->d_type == DT_REG;
	return fstatat(dfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode);
}

/* Calls cb for every object file in one "ab" folder of the root rootfd.
 * A prefix that is not a real folder, and an entry that is not a regular
 * file, were not made by veil and hold no object: they are skipped; reading
 * such an id reports the tampering. */
static veil_status list_dir(const fs_store *fs, int rootfd, const char *prefix, veil_store_list_fn cb,
                            void *ctx, veil_err *err)
{
	char dir[PATH_CAP];
	veil_status st = veil_fmt(dir, sizeof dir, err, "%s/%s", fs->root, prefix);
	if (st)
		return st;
	int dfd = openat(rootfd, prefix, DIR_OPEN_FLAGS);
	if (dfd < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP))
		return VEIL_OK;
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	if (!d) {
		st = veil_err_errno(err, VEIL_E_IO, errno, "cannot list %s", dir);
		if (dfd >= 0)
			close(dfd);
		return st;
	}
	struct dirent *e;
	while (!st && !(st = next_entry(d, dir, &e, err)) && e) {
		if (strlen(e->d_name) != VEIL_STORE_ID_LEN - 2 || !is_hex(e->d_name, VEIL_STORE_ID_LEN - 2) ||
		    !is_regular_at(dfd, e))
			continue;
		char id[VEIL_STORE_ID_MAX];
		memcpy(id, prefix, 2);
		memcpy(id + 2, e->d_name, VEIL_STORE_ID_LEN - 2 + 1);
		st = cb(ctx, id, err);
	}
	closedir(d); /* closes dfd */
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
	while (!st && !(st = next_entry(d, fs->root, &e, err)) && e) {
		if (strlen(e->d_name) != 2 || !is_hex(e->d_name, 2))
			continue;
		st = list_dir(fs, dirfd(d), e->d_name, cb, ctx, err);
	}
	closedir(d);
	return st;
}

/* Only regular files named like put_begin's temps are removed: anything
 * else in tmp/ is not ours to delete. tmp/ itself is opened without
 * following a symlink, so the sweep can never unlink outside the store. */
static veil_status fs_sweep_tmp(void *impl, int64_t older_than_seconds, veil_err *err)
{
	fs_store *fs = impl;
	int dfd = open(fs->tmp, DIR_OPEN_FLAGS);
	if (dfd < 0 && (errno == ENOTDIR || errno == ELOOP))
		return not_folder(fs->tmp, err);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	if (!d) {
		veil_status st = veil_err_errno(err, VEIL_E_IO, errno, "cannot list %s", fs->tmp);
		if (dfd >= 0)
			close(dfd);
		return st;
	}
	int64_t now = veil_time_now();
	veil_status st = VEIL_OK;
	struct dirent *e;
	while (!st && !(st = next_entry(d, fs->tmp, &e, err)) && e) {
		struct stat sb;
		if (strlen(e->d_name) != TMP_NAME_LEN ||
		    strncmp(e->d_name, TMP_PREFIX, sizeof TMP_PREFIX - 1) != 0)
			continue;
		if (fstatat(dfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode))
			continue;
		if (now - (int64_t)sb.st_mtime < older_than_seconds)
			continue;
		if (unlinkat(dfd, e->d_name, 0) != 0 && errno != ENOENT)
			st = veil_err_errno(err, VEIL_E_IO, errno, "cannot remove %s/%s", fs->tmp, e->d_name);
	}
	closedir(d); /* closes dfd */
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
