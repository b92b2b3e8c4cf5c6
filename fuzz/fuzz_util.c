/*
 * Harness helpers for the fuzz targets (fuzz.h): fixed keys, memory streams,
 * a scratch folder that is removed at exit, and file writes. Linked into
 * every target, both the libFuzzer executables and the corpus regression
 * tests.
 */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const uint8_t fuzz_dek[VEIL_OBJ_DEK_LEN] = {
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
        0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

/* The seed docs/formats/audit.md's example proofs were made with, so they are valid seeds too. */
const uint8_t fuzz_audit_seed[VEIL_ED25519_SEED_LEN] = {
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
        0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

void fuzz_check(bool cond, const char *what, const char *file, int line)
{
	if (cond)
		return;
	fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", file, line, what);
	abort();
}

void fuzz_note(const char *what, veil_status st, const veil_err *err)
{
	static int verbose = -1;
	if (verbose < 0)
		verbose = getenv("VEIL_FUZZ_VERBOSE") != NULL;
	if (verbose)
		fprintf(stderr, "# %s: %s%s%s\n", what, veil_status_str(st), st && err ? ": " : "",
		        st && err ? err->msg : "");
}

veil_status fuzz_mem_read(void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err)
{
	fuzz_mem *m = ctx;
	size_t left = m->len - m->off;
	size_t k = n < left ? n : left;
	if (m->step && k > m->step)
		k = m->step;
	if (k)
		memcpy(buf, m->p + m->off, k);
	m->off += k;
	*got = k;
	return VEIL_OK;
}

veil_status fuzz_buf_write(void *ctx, const uint8_t *buf, size_t n, veil_err *err)
{
	return veil_buf_append(ctx, buf, n, err);
}

char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	FUZZ_CHECK(s != NULL, "out of memory copying the input");
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static char scratch[4096];

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	remove(path); /* best effort: a file that stays does not stop the rest */
	return 0;
}

static void scratch_remove(void)
{
	if (scratch[0])
		nftw(scratch, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_scratch(void)
{
	if (scratch[0])
		return scratch;
	const char *tmp = getenv("TMPDIR");
	int n = snprintf(scratch, sizeof scratch, "%s/veil-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof scratch, "TMPDIR is too long");
	FUZZ_CHECK(mkdtemp(scratch) != NULL, "cannot make a scratch folder");
	atexit(scratch_remove);
	return scratch;
}

void fuzz_subdir(const char *name, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "%s/%s", fuzz_scratch(), name);
	FUZZ_CHECK(n > 0 && (size_t)n < outsz, "scratch path too long");
	FUZZ_CHECK(mkdir(out, 0700) == 0 || errno == EEXIST, "cannot make a scratch subfolder");
}

void fuzz_put_file(const char *dir, const char *name, const void *data, size_t size)
{
	char path[4096];
	int n = snprintf(path, sizeof path, "%s/%s", dir, name);
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof path, "scratch path too long");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0, "cannot write a scratch file");
	veil_status st = veil_fs_write_all(fd, data, size, path, NULL);
	close(fd);
	FUZZ_CHECK(st == VEIL_OK, "cannot write a scratch file");
}
