/* File copying and hashing for backup and restore: streaming, so memory
 * stays bounded whatever the size, and never following links. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* Reads fd to its end, hashing, and writing to out_fd when it is >= 0. */
static veil_status pump(int fd, int out_fd, const char *what, char hex[2 * VEIL_SHA256_LEN + 1],
                        veil_err *err)
{
	veil_hash_ctx *h = NULL;
	veil_status st = veil_hash_init(&h, VEIL_HASH_SHA256, err);
	uint8_t buf[65536];
	while (!st) {
		size_t got = 0;
		if ((st = veil_fd_read(&fd, buf, sizeof buf, &got, err)) || got == 0)
			break;
		if (!(st = veil_hash_update(h, buf, got, err)) && out_fd >= 0)
			st = veil_fs_write_all(out_fd, buf, got, what, err);
	}
	if (st) {
		veil_hash_free(h);
		return st;
	}
	uint8_t d[VEIL_SHA256_LEN];
	if ((st = veil_hash_final(h, d, err)))
		return st;
	veil_hex_encode(d, sizeof d, hex);
	return VEIL_OK;
}

static veil_status open_regular(const char *path, int *fd, veil_err *err)
{
	*fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (*fd < 0) {
		if (errno == ELOOP)
			return veil_err_set(err, VEIL_E_CORRUPT, "%s is a symbolic link", path);
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot open %s", path);
	}
	struct stat sb;
	if (fstat(*fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(*fd);
		*fd = -1;
		return veil_err_set(err, VEIL_E_CORRUPT, "%s is not a regular file", path);
	}
	fcntl(*fd, F_SETFL, 0); /* back to blocking reads */
	return VEIL_OK;
}

veil_status cli_hash_file(const char *path, char hex[2 * VEIL_SHA256_LEN + 1], veil_err *err)
{
	int fd;
	veil_status st = open_regular(path, &fd, err);
	if (st)
		return st;
	st = pump(fd, -1, path, hex, err);
	close(fd);
	return st;
}

veil_status cli_copy_file(const char *src, const char *dst, char hex[2 * VEIL_SHA256_LEN + 1], veil_err *err)
{
	int in;
	veil_status st = open_regular(src, &in, err);
	if (st)
		return st;
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		close(in);
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot create %s", dst);
	}
	st = pump(in, out, dst, hex, err);
	if (!st && fsync(out) != 0)
		st = veil_err_errno(err, VEIL_E_IO, errno, "cannot sync %s", dst);
	close(in);
	close(out);
	if (st)
		unlink(dst);
	return st;
}
