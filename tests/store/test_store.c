/* Unit tests for the object store and its filesystem backend: round trips,
 * content addressing (SHA-256 known answers from FIPS 180-2), dedup, abort,
 * tampering and truncation caught at read end, id checks, remove, list, a
 * write that hits the file size limit, the sweep of stale temp files, and
 * what an untrusted writer can plant in the folder (a FIFO, a symlink, a
 * folder, a same-size damaged copy, a symlinked "ab" or tmp folder). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "../common/scratch.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "veil/store.h"

/* FIPS 180-2, appendix B.1 ("abc") and the SHA-256 of the empty string. */
#define SHA256_ABC   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA256_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Both ends fit the stream types, so they plug into the container. */
static const veil_write_fn put_as_writer = veil_store_put_write;
static const veil_read_fn get_as_reader = veil_store_get_read;

typedef struct fixture {
	char dir[64];
	char root[128];
	veil_store *s;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/veil-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->root, sizeof f->root, "%s/objects", f->dir);
	veil_err e;
	if (veil_store_open(f->root, &f->s, &e) != VEIL_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	veil_store_close(f->s);
	scratch_remove(f->dir);
	free(f);
	return 0;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static void sha256_hex(const uint8_t *p, size_t n, char out[VEIL_STORE_ID_MAX])
{
	uint8_t d[32];
	unsigned len = 0;
	assert_int_equal(EVP_Digest(p, n, d, &len, EVP_sha256(), NULL), 1);
	veil_hex_encode(d, sizeof d, out);
}

/* Puts data in pieces of `step` bytes (odd sizes exercise the streaming). */
static veil_status put(veil_store *s, const uint8_t *p, size_t n, size_t step, char id[VEIL_STORE_ID_MAX],
                       veil_err *e)
{
	veil_store_writer *w;
	veil_status st = veil_store_put_begin(s, &w, e);
	if (st)
		return st;
	for (size_t off = 0; off < n; off += step) {
		size_t k = n - off < step ? n - off : step;
		if ((st = put_as_writer(w, p + off, k, e))) {
			veil_store_put_abort(w);
			return st;
		}
	}
	return veil_store_put_commit(w, id, e);
}

/* Reads a whole object; returns the status of the read that ended it. */
static veil_status get(veil_store *s, const char *id, uint8_t *buf, size_t cap, size_t *len, veil_err *e)
{
	veil_store_reader *r;
	veil_status st = veil_store_get_open(s, id, &r, e);
	*len = 0;
	if (st)
		return st;
	for (;;) {
		size_t got = 0;
		size_t want = cap - *len < 10007 ? cap - *len : 10007;
		if (want == 0) {
			uint8_t extra;
			st = get_as_reader(r, &extra, 1, &got, e);
			if (!st && got)
				st = VEIL_E_LIMIT;
			break;
		}
		if ((st = get_as_reader(r, buf + *len, want, &got, e)) || got == 0)
			break;
		*len += got;
	}
	veil_store_get_close(r);
	return st;
}

static void obj_path(const fixture *f, const char *id, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/%.2s/%s", f->root, id, id + 2);
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static size_t tmp_count(const fixture *f)
{
	char p[256];
	snprintf(p, sizeof p, "%s/tmp", f->root);
	return count_entries(p);
}

static veil_status count_cb(void *ctx, const char *id, veil_err *err)
{
	(void)id, (void)err;
	(*(size_t *)ctx)++;
	return VEIL_OK;
}

static size_t object_count(veil_store *s)
{
	size_t n = 0;
	assert_int_equal(veil_store_list(s, count_cb, &n, NULL), VEIL_OK);
	return n;
}

static void test_known_answers(void **state)
{
	fixture *f = *state;
	char id[VEIL_STORE_ID_MAX];
	veil_err e;
	assert_int_equal(put(f->s, (const uint8_t *)"abc", 3, 1, id, &e), VEIL_OK);
	assert_string_equal(id, SHA256_ABC);
	assert_int_equal(put(f->s, NULL, 0, 1, id, &e), VEIL_OK);
	assert_string_equal(id, SHA256_EMPTY);
	assert_string_equal(veil_store_backend(f->s), "fs");
}

static void round_trip(fixture *f, size_t n, size_t step)
{
	uint8_t *data = malloc(n + 1), *back = malloc(n + 1);
	assert_non_null(data);
	assert_non_null(back);
	fill(data, n, (uint32_t)n);
	char id[VEIL_STORE_ID_MAX], want[VEIL_STORE_ID_MAX];
	veil_err e;
	assert_int_equal(put(f->s, data, n, step, id, &e), VEIL_OK);
	sha256_hex(data, n, want);
	assert_string_equal(id, want);
	size_t len;
	assert_int_equal(get(f->s, id, back, n, &len, &e), VEIL_OK);
	assert_int_equal(len, n);
	assert_memory_equal(back, data, n);
	uint64_t size;
	assert_int_equal(veil_store_size(f->s, id, &size, &e), VEIL_OK);
	assert_int_equal(size, n);
	assert_int_equal(veil_store_verify(f->s, id, &e), VEIL_OK);
	char path[256];
	obj_path(f, id, path, sizeof path);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(tmp_count(f), 0);
	free(data);
	free(back);
}

static void test_round_trip(void **state)
{
	fixture *f = *state;
	round_trip(f, 0, 1);
	round_trip(f, 1000, 333);
	round_trip(f, 5u << 20, 65521);
	assert_int_equal(object_count(f->s), 3);
}

static void test_reader_end(void **state)
{
	fixture *f = *state;
	char id[VEIL_STORE_ID_MAX];
	assert_int_equal(put(f->s, (const uint8_t *)"abc", 3, 3, id, NULL), VEIL_OK);
	veil_store_reader *r;
	uint8_t buf[8];
	size_t got = 99;
	veil_err e;
	assert_int_equal(veil_store_get_open(f->s, id, &r, &e), VEIL_OK);
	assert_int_equal(veil_store_get_read(r, buf, 0, &got, &e), VEIL_E_INVALID);
	assert_int_equal(veil_store_get_read(r, buf, sizeof buf, &got, &e), VEIL_OK);
	assert_int_equal(got, 3);
	assert_int_equal(veil_store_get_read(r, buf, sizeof buf, &got, &e), VEIL_OK);
	assert_int_equal(got, 0);
	assert_int_equal(veil_store_get_read(r, buf, sizeof buf, &got, &e),
	                 VEIL_OK); /* the end stays the end */
	assert_int_equal(got, 0);
	veil_store_get_close(r);
}

static void test_dedup(void **state)
{
	fixture *f = *state;
	uint8_t data[5000];
	fill(data, sizeof data, 7);
	char a[VEIL_STORE_ID_MAX], b[VEIL_STORE_ID_MAX];
	char path[256];
	struct stat first, second;
	assert_int_equal(put(f->s, data, sizeof data, 999, a, NULL), VEIL_OK);
	obj_path(f, a, path, sizeof path);
	assert_int_equal(stat(path, &first), 0);
	assert_int_equal(put(f->s, data, sizeof data, 4096, b, NULL), VEIL_OK);
	assert_string_equal(a, b);
	assert_int_equal(stat(path, &second), 0);
	assert_int_equal(first.st_ino, second.st_ino); /* the first copy stays; the second was dropped */
	assert_int_equal(object_count(f->s), 1);
	assert_int_equal(tmp_count(f), 0);
	/* A damaged copy of the wrong size is replaced by a new put. */
	assert_int_equal(truncate(path, 10), 0);
	assert_int_equal(put(f->s, data, sizeof data, 4096, b, NULL), VEIL_OK);
	assert_int_equal(veil_store_verify(f->s, a, NULL), VEIL_OK);
	assert_int_equal(tmp_count(f), 0);
}

static void test_abort(void **state)
{
	fixture *f = *state;
	veil_store_writer *w;
	assert_int_equal(veil_store_put_begin(f->s, &w, NULL), VEIL_OK);
	assert_int_equal(veil_store_put_write(w, (const uint8_t *)"secret-ish", 10, NULL), VEIL_OK);
	assert_int_equal(tmp_count(f), 1); /* in progress: a temp file, no object */
	assert_int_equal(object_count(f->s), 0);
	veil_store_put_abort(w);
	veil_store_put_abort(NULL);
	assert_int_equal(tmp_count(f), 0);
	assert_int_equal(object_count(f->s), 0);
	assert_int_equal(count_entries(f->root), 1); /* only tmp/ */
}

/* Reads to the end: whatever the damage, the end must be VEIL_E_CORRUPT. */
static void expect_corrupt(fixture *f, const char *id)
{
	uint8_t *buf = malloc(1 << 20);
	assert_non_null(buf);
	size_t len;
	veil_err e;
	assert_int_equal(get(f->s, id, buf, 1 << 20, &len, &e), VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, id));
	assert_non_null(strstr(e.msg, "does not match its address"));
	assert_true(e.hint[0] != '\0');
	assert_int_equal(veil_store_verify(f->s, id, &e), VEIL_E_CORRUPT);
	free(buf);
}

static void test_tamper(void **state)
{
	fixture *f = *state;
	uint8_t data[70000];
	fill(data, sizeof data, 3);
	char id[VEIL_STORE_ID_MAX], path[256];
	assert_int_equal(put(f->s, data, sizeof data, 8192, id, NULL), VEIL_OK);
	obj_path(f, id, path, sizeof path);
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	uint8_t byte;
	assert_int_equal(pread(fd, &byte, 1, 40000), 1);
	byte ^= 0x01;
	assert_int_equal(pwrite(fd, &byte, 1, 40000), 1);
	close(fd);
	expect_corrupt(f, id);

	/* the reader stays failed after the first CORRUPT */
	veil_store_reader *r;
	uint8_t buf[100000];
	size_t got;
	assert_int_equal(veil_store_get_open(f->s, id, &r, NULL), VEIL_OK);
	assert_int_equal(veil_read_full(veil_store_get_read, r, buf, sizeof buf, &got, NULL), VEIL_E_CORRUPT);
	assert_int_equal(veil_store_get_read(r, buf, sizeof buf, &got, NULL), VEIL_E_CORRUPT);
	assert_int_equal(got, 0);
	veil_store_get_close(r);
}

static void test_truncate_extend(void **state)
{
	fixture *f = *state;
	uint8_t data[20000];
	fill(data, sizeof data, 4);
	char id[VEIL_STORE_ID_MAX], path[256];
	assert_int_equal(put(f->s, data, sizeof data, 20000, id, NULL), VEIL_OK);
	obj_path(f, id, path, sizeof path);
	assert_int_equal(truncate(path, sizeof data - 1), 0);
	expect_corrupt(f, id);
	assert_int_equal(truncate(path, 0), 0);
	expect_corrupt(f, id);
	/* put back, then extend by one byte */
	assert_int_equal(put(f->s, data, sizeof data, 20000, id, NULL), VEIL_OK);
	assert_int_equal(veil_store_verify(f->s, id, NULL), VEIL_OK);
	FILE *fp = fopen(path, "ab");
	assert_non_null(fp);
	fputc(0, fp);
	fclose(fp);
	expect_corrupt(f, id);
}

static void test_bad_ids(void **state)
{
	fixture *f = *state;
	static const char *const bad[] = {
	        "",
	        "abc",
	        SHA256_ABC "0",
	        "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
	        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",
	        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ag",
	        "../../../../../../../../../../../../../../../../../../etc/passwd",
	        "ba/816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	        NULL,
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		veil_store_reader *r = (veil_store_reader *)1;
		veil_err e;
		uint64_t size;
		bool exists = true;
		assert_int_equal(veil_store_id_check(bad[i], &e), VEIL_E_INVALID);
		assert_int_equal(veil_store_get_open(f->s, bad[i], &r, &e), VEIL_E_INVALID);
		assert_null(r);
		assert_true(e.hint[0] != '\0' || bad[i] == NULL);
		assert_int_equal(veil_store_size(f->s, bad[i], &size, NULL), VEIL_E_INVALID);
		assert_int_equal(veil_store_exists(f->s, bad[i], &exists, NULL), VEIL_E_INVALID);
		assert_false(exists);
		assert_int_equal(veil_store_remove(f->s, bad[i], NULL), VEIL_E_INVALID);
		assert_int_equal(veil_store_verify(f->s, bad[i], NULL), VEIL_E_INVALID);
	}
	assert_int_equal(veil_store_id_check(SHA256_ABC, NULL), VEIL_OK);
}

static void test_missing_and_remove(void **state)
{
	fixture *f = *state;
	veil_store_reader *r;
	veil_err e;
	bool exists = true;
	uint64_t size;
	assert_int_equal(veil_store_get_open(f->s, SHA256_ABC, &r, &e), VEIL_E_NOTFOUND);
	assert_non_null(strstr(e.msg, SHA256_ABC));
	assert_int_equal(veil_store_exists(f->s, SHA256_ABC, &exists, &e), VEIL_OK);
	assert_false(exists);
	assert_int_equal(veil_store_size(f->s, SHA256_ABC, &size, NULL), VEIL_E_NOTFOUND);
	assert_int_equal(veil_store_remove(f->s, SHA256_ABC, NULL), VEIL_E_NOTFOUND);

	char id[VEIL_STORE_ID_MAX];
	assert_int_equal(put(f->s, (const uint8_t *)"abc", 3, 3, id, NULL), VEIL_OK);
	assert_int_equal(veil_store_exists(f->s, id, &exists, NULL), VEIL_OK);
	assert_true(exists);
	assert_int_equal(veil_store_remove(f->s, id, &e), VEIL_OK);
	assert_int_equal(veil_store_exists(f->s, id, &exists, NULL), VEIL_OK);
	assert_false(exists);
	assert_int_equal(veil_store_remove(f->s, id, NULL), VEIL_E_NOTFOUND);
	assert_int_equal(object_count(f->s), 0);
}

typedef struct seen {
	char ids[8][VEIL_STORE_ID_MAX];
	size_t n;
	size_t stop_after;
} seen;

static veil_status collect(void *ctx, const char *id, veil_err *err)
{
	seen *s = ctx;
	if (s->stop_after && s->n == s->stop_after)
		return veil_err_set(err, VEIL_E_LIMIT, "stop");
	if (s->n == 8)
		return veil_err_set(err, VEIL_E_INTERNAL, "too many");
	memcpy(s->ids[s->n++], id, VEIL_STORE_ID_MAX);
	return VEIL_OK;
}

static void test_list(void **state)
{
	fixture *f = *state;
	char ids[5][VEIL_STORE_ID_MAX];
	for (int i = 0; i < 5; i++) {
		uint8_t data[100];
		fill(data, sizeof data, (uint32_t)i + 100);
		assert_int_equal(put(f->s, data, sizeof data, 100, ids[i], NULL), VEIL_OK);
	}
	/* things that are not objects are not listed */
	char p[256];
	snprintf(p, sizeof p, "%s/zz", f->root);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof p, "%s/%.2s/short", f->root, ids[0]);
	FILE *fp = fopen(p, "w");
	assert_non_null(fp);
	fclose(fp);

	seen s = {0};
	assert_int_equal(veil_store_list(f->s, collect, &s, NULL), VEIL_OK);
	assert_int_equal(s.n, 5);
	for (int i = 0; i < 5; i++) {
		bool found = false;
		for (size_t j = 0; j < s.n; j++)
			found |= strcmp(ids[i], s.ids[j]) == 0;
		assert_true(found);
	}
	seen stop = {.stop_after = 2};
	veil_err e;
	assert_int_equal(veil_store_list(f->s, collect, &stop, &e), VEIL_E_LIMIT);
	assert_int_equal(stop.n, 2);
}

/* The child puts 1 MiB under a 64 KiB file size limit, with SIGXFSZ
 * ignored so write(2) fails with EFBIG, and exits without aborting: the
 * failure itself must have removed the temp file. */
static void nospace_child(const char *root)
{
	struct rlimit rl = {.rlim_cur = 64 << 10, .rlim_max = 64 << 10};
	signal(SIGXFSZ, SIG_IGN);
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
		_exit(101);
	veil_store *s;
	veil_store_writer *w;
	veil_err e;
	if (veil_store_open(root, &s, &e) || veil_store_put_begin(s, &w, &e))
		_exit(102);
	static uint8_t chunk[16 << 10];
	veil_status st = VEIL_OK;
	for (int i = 0; i < 64 && !st; i++)
		st = veil_store_put_write(w, chunk, sizeof chunk, &e);
	if (st != VEIL_E_NOSPACE)
		_exit(103);
	if (!strstr(e.msg, "File too large") || e.hint[0] == '\0')
		_exit(104);
	char tmp[256];
	snprintf(tmp, sizeof tmp, "%s/tmp", root);
	DIR *d = opendir(tmp);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			_exit(106); /* the failed write left its temp file */
	/* a writer that failed cannot be committed */
	char id[VEIL_STORE_ID_MAX];
	if (veil_store_put_commit(w, id, &e) != VEIL_E_NOSPACE || id[0] != '\0')
		_exit(105);
	_exit((int)st);
}

static void test_nospace(void **state)
{
	fixture *f = *state;
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		nospace_child(f->root);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), VEIL_E_NOSPACE);
	assert_int_equal(tmp_count(f), 0);
	assert_int_equal(object_count(f->s), 0);
	assert_int_equal(count_entries(f->root), 1);
}

static void backdate_all(const char *dir, time_t age)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	struct timespec ts[2];
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= age;
	ts[1] = ts[0];
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			assert_int_equal(utimensat(dirfd(d), e->d_name, ts, 0), 0);
	closedir(d);
}

static void test_sweep_tmp(void **state)
{
	fixture *f = *state;
	char tmp[256];
	snprintf(tmp, sizeof tmp, "%s/tmp", f->root);
	veil_store_writer *stale, *live;
	assert_int_equal(veil_store_put_begin(f->s, &stale, NULL), VEIL_OK);
	assert_int_equal(veil_store_put_write(stale, (const uint8_t *)"old", 3, NULL), VEIL_OK);
	backdate_all(tmp, 7200); /* as if its process was killed 2 h ago */
	assert_int_equal(veil_store_put_begin(f->s, &live, NULL), VEIL_OK);
	assert_int_equal(veil_store_put_write(live, (const uint8_t *)"abc", 3, NULL), VEIL_OK);
	assert_int_equal(tmp_count(f), 2);

	assert_int_equal(veil_store_sweep_tmp(f->s, -1, NULL), VEIL_E_INVALID);
	assert_int_equal(veil_store_sweep_tmp(f->s, 3600, NULL), VEIL_OK);
	assert_int_equal(tmp_count(f), 1);
	char id[VEIL_STORE_ID_MAX];
	assert_int_equal(veil_store_put_commit(live, id, NULL), VEIL_OK);
	assert_string_equal(id, SHA256_ABC);
	veil_store_put_abort(stale); /* its file is gone already; abort must not mind */
	assert_int_equal(tmp_count(f), 0);
	assert_int_equal(object_count(f->s), 1);

	/* age 0: every temp file, however fresh */
	assert_int_equal(veil_store_put_begin(f->s, &live, NULL), VEIL_OK);
	assert_int_equal(veil_store_put_write(live, (const uint8_t *)"x", 1, NULL), VEIL_OK);
	assert_int_equal(veil_store_sweep_tmp(f->s, 0, NULL), VEIL_OK);
	assert_int_equal(tmp_count(f), 0);
	veil_store_put_abort(live);
	assert_int_equal(object_count(f->s), 1);

	/* only put's own temp files go: not another name, not a symlink out */
	char p[300], outside[256];
	snprintf(p, sizeof p, "%s/notes", tmp);
	FILE *fp = fopen(p, "w");
	assert_non_null(fp);
	fclose(fp);
	snprintf(outside, sizeof outside, "%s/outside", f->dir);
	fp = fopen(outside, "w");
	assert_non_null(fp);
	fclose(fp);
	snprintf(p, sizeof p, "%s/put-link00", tmp);
	assert_int_equal(symlink(outside, p), 0);
	backdate_all(tmp, 7200);
	assert_int_equal(veil_store_sweep_tmp(f->s, 0, NULL), VEIL_OK);
	assert_int_equal(tmp_count(f), 2);
	assert_int_equal(access(outside, F_OK), 0);
}

/* Everything a reader may meet under an id that is not a file veil wrote:
 * refused as tampering, and never listed as an object. */
static void expect_planted(fixture *f, const char *id, size_t listed)
{
	veil_store_reader *r = (veil_store_reader *)1;
	veil_err e;
	uint64_t size = 99;
	bool exists = true;
	assert_int_equal(veil_store_get_open(f->s, id, &r, &e), VEIL_E_CORRUPT);
	assert_null(r);
	assert_non_null(strstr(e.msg, id));
	assert_non_null(strstr(e.msg, "is not a regular file: the object store was tampered with"));
	assert_non_null(strstr(e.hint, "remove"));
	assert_int_equal(veil_store_size(f->s, id, &size, &e), VEIL_E_CORRUPT);
	assert_int_equal(size, 0);
	assert_int_equal(veil_store_exists(f->s, id, &exists, &e), VEIL_E_CORRUPT);
	assert_false(exists);
	assert_int_equal(veil_store_verify(f->s, id, &e), VEIL_E_CORRUPT);
	assert_int_equal(object_count(f->s), listed);
}

static bool is_regular(const char *path)
{
	struct stat sb;
	return lstat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* A FIFO under an id once made every reader (download, gc, backup) block
 * in open(2) for a writer that never comes. The alarm turns a regression
 * into a failure, the binary killed by SIGALRM, instead of a hung suite. */
static void test_planted_fifo(void **state)
{
	fixture *f = *state;
	char id[VEIL_STORE_ID_MAX], path[256], tfifo[256];
	assert_int_equal(put(f->s, (const uint8_t *)"abc", 3, 3, id, NULL), VEIL_OK);
	obj_path(f, id, path, sizeof path);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10);
	expect_planted(f, id, 0);
	/* a FIFO named like a temp file: the sweep neither opens nor removes it */
	snprintf(tfifo, sizeof tfifo, "%s/tmp/put-fifo00", f->root);
	assert_int_equal(mkfifo(tfifo, 0600), 0);
	assert_int_equal(veil_store_sweep_tmp(f->s, 0, NULL), VEIL_OK);
	assert_int_equal(tmp_count(f), 1);
	assert_int_equal(unlink(tfifo), 0);
	/* putting the bytes again replaces the FIFO with the object */
	char again[VEIL_STORE_ID_MAX];
	assert_int_equal(put(f->s, (const uint8_t *)"abc", 3, 3, again, NULL), VEIL_OK);
	assert_string_equal(again, id);
	assert_true(is_regular(path));
	assert_int_equal(veil_store_verify(f->s, id, NULL), VEIL_OK);
	assert_int_equal(object_count(f->s), 1);
	/* removing a planted FIFO deletes the entry without opening it */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(veil_store_remove(f->s, id, NULL), VEIL_OK);
	assert_int_equal(access(path, F_OK), -1);
	alarm(0);
	assert_int_equal(tmp_count(f), 0);
}

/* A symlink at an object's path is refused even when it points at the
 * right bytes, and a put replaces the link, never writing through it. */
static void test_planted_symlink(void **state)
{
	fixture *f = *state;
	uint8_t data[1000];
	fill(data, sizeof data, 11);
	char id[VEIL_STORE_ID_MAX], again[VEIL_STORE_ID_MAX], path[256], outside[256];
	assert_int_equal(put(f->s, data, sizeof data, 100, id, NULL), VEIL_OK);
	obj_path(f, id, path, sizeof path);
	snprintf(outside, sizeof outside, "%s/outside", f->dir);
	assert_int_equal(rename(path, outside), 0);
	assert_int_equal(symlink(outside, path), 0);
	expect_planted(f, id, 0);
	assert_int_equal(put(f->s, data, sizeof data, 100, again, NULL), VEIL_OK);
	assert_true(is_regular(path));
	assert_int_equal(veil_store_verify(f->s, id, NULL), VEIL_OK);
	assert_true(is_regular(outside)); /* the link was replaced, its target untouched */

	/* a dangling symlink, then a folder, at the id */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/nonexistent/veil-object", path), 0);
	expect_planted(f, id, 0);
	assert_int_equal(put(f->s, data, sizeof data, 100, again, NULL), VEIL_OK);
	assert_true(is_regular(path));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	expect_planted(f, id, 0);
	veil_err e;
	assert_int_equal(put(f->s, data, sizeof data, 100, again, &e), VEIL_E_CORRUPT);
	assert_string_equal(again, "");
	assert_non_null(strstr(e.msg, "not a regular file"));
	assert_int_equal(tmp_count(f), 0);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(put(f->s, data, sizeof data, 100, again, NULL), VEIL_OK);
	assert_int_equal(object_count(f->s), 1);
}

/* An "ab" folder that is a symlink (or a FIFO) must not lead reads, puts,
 * removes or the listing out of the store. */
static void test_planted_folder(void **state)
{
	fixture *f = *state;
	char id[VEIL_STORE_ID_MAX], again[VEIL_STORE_ID_MAX], dir[256], real[256], moved[340];
	assert_int_equal(put(f->s, (const uint8_t *)"abc", 3, 3, id, NULL), VEIL_OK);
	snprintf(dir, sizeof dir, "%s/%.2s", f->root, id);
	snprintf(real, sizeof real, "%s/real", f->dir);
	snprintf(moved, sizeof moved, "%s/%s", real, id + 2);
	assert_int_equal(rename(dir, real), 0);
	assert_int_equal(symlink(real, dir), 0);

	veil_store_reader *r;
	veil_err e;
	uint64_t size;
	assert_int_equal(veil_store_get_open(f->s, id, &r, &e), VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "is not a folder: the object store was tampered with"));
	assert_true(e.hint[0] != '\0');
	assert_int_equal(veil_store_size(f->s, id, &size, NULL), VEIL_E_CORRUPT);
	assert_int_equal(veil_store_remove(f->s, id, NULL), VEIL_E_CORRUPT);
	assert_true(is_regular(moved)); /* the remove did not reach through the link */
	assert_int_equal(object_count(f->s), 0);
	assert_int_equal(put(f->s, (const uint8_t *)"abc", 3, 3, again, NULL), VEIL_E_CORRUPT);
	assert_int_equal(count_entries(real), 1);
	assert_int_equal(tmp_count(f), 0);

	/* a FIFO in place of the folder: nothing blocks, nothing is listed */
	assert_int_equal(unlink(dir), 0);
	assert_int_equal(mkfifo(dir, 0600), 0);
	alarm(10);
	assert_int_equal(veil_store_get_open(f->s, id, &r, NULL), VEIL_E_CORRUPT);
	assert_int_equal(object_count(f->s), 0);
	assert_int_equal(put(f->s, (const uint8_t *)"abc", 3, 3, again, NULL), VEIL_E_CORRUPT);
	alarm(0);
	/* once the planted entry is gone, a put makes the folder again */
	assert_int_equal(unlink(dir), 0);
	assert_int_equal(put(f->s, (const uint8_t *)"abc", 3, 3, again, NULL), VEIL_OK);
	assert_int_equal(veil_store_verify(f->s, id, NULL), VEIL_OK);
	assert_int_equal(object_count(f->s), 1);
}

/* Dedup keeps an existing copy only if its bytes hash to the id: one of the
 * right size but wrong content is replaced by the new copy. */
static void test_dedup_same_size_damage(void **state)
{
	fixture *f = *state;
	uint8_t data[5000], junk[5000];
	fill(data, sizeof data, 21);
	fill(junk, sizeof junk, 22);
	char id[VEIL_STORE_ID_MAX], again[VEIL_STORE_ID_MAX], path[256];
	assert_int_equal(put(f->s, data, sizeof data, 1000, id, NULL), VEIL_OK);
	obj_path(f, id, path, sizeof path);
	int fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, junk, sizeof junk, 0), (ssize_t)sizeof junk);
	close(fd);
	struct stat planted, after;
	assert_int_equal(stat(path, &planted), 0);
	assert_int_equal(planted.st_size, sizeof data);
	expect_corrupt(f, id);

	assert_int_equal(put(f->s, data, sizeof data, 1000, again, NULL), VEIL_OK);
	assert_string_equal(again, id);
	assert_int_equal(stat(path, &after), 0);
	assert_int_not_equal(after.st_ino, planted.st_ino); /* replaced, not kept */
	assert_int_equal(after.st_mode & 0777, 0600);
	assert_int_equal(veil_store_verify(f->s, id, NULL), VEIL_OK);
	assert_int_equal(object_count(f->s), 1);
	assert_int_equal(tmp_count(f), 0);
	/* one flipped bit at the end is caught too */
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	uint8_t last = data[sizeof data - 1] ^ 0x80;
	assert_int_equal(pwrite(fd, &last, 1, sizeof data - 1), 1);
	close(fd);
	assert_int_equal(put(f->s, data, sizeof data, 1000, again, NULL), VEIL_OK);
	assert_int_equal(veil_store_verify(f->s, id, NULL), VEIL_OK);
}

/* A tmp/ that is a symlink would send temp files, and the sweep's unlinks,
 * outside the store: the store refuses to open. */
static void test_planted_tmp(void **state)
{
	fixture *f = *state;
	char root[256], tmp[300], elsewhere[256];
	snprintf(root, sizeof root, "%s/other", f->dir);
	snprintf(tmp, sizeof tmp, "%s/tmp", root);
	snprintf(elsewhere, sizeof elsewhere, "%s/elsewhere", f->dir);
	assert_int_equal(mkdir(root, 0700), 0);
	assert_int_equal(mkdir(elsewhere, 0700), 0);
	assert_int_equal(symlink(elsewhere, tmp), 0);
	veil_store *s = (veil_store *)1;
	veil_err e;
	assert_int_equal(veil_store_open(root, &s, &e), VEIL_E_CORRUPT);
	assert_null(s);
	assert_non_null(strstr(e.msg, "is not a folder"));
	assert_true(e.hint[0] != '\0');
}

static void test_open(void **state)
{
	fixture *f = *state;
	veil_store *s = (veil_store *)1;
	veil_err e;
	char url[300];
	snprintf(url, sizeof url, "file://%s/", f->root);
	assert_int_equal(veil_store_open(url, &s, &e), VEIL_OK);
	char id[VEIL_STORE_ID_MAX];
	assert_int_equal(put(s, (const uint8_t *)"abc", 3, 3, id, NULL), VEIL_OK);
	veil_store_close(s);
	assert_int_equal(veil_store_verify(f->s, SHA256_ABC, NULL), VEIL_OK);

	static const struct {
		const char *url;
		veil_status want;
	} rows[] = {
	        {"s3://bucket/prefix", VEIL_E_UNSUPPORTED},
	        {"gopher://host/x", VEIL_E_UNSUPPORTED},
	        {"file://host/x", VEIL_E_UNSUPPORTED},
	        {"file:///tmp/a%20b", VEIL_E_INVALID},
	        {"", VEIL_E_INVALID},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		s = (veil_store *)1;
		assert_int_equal(veil_store_open(rows[i].url, &s, &e), rows[i].want);
		assert_null(s);
		assert_true(e.msg[0] != '\0');
	}
	assert_int_equal(veil_store_open("s3://bucket", &s, &e), VEIL_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "S3"));
	/* a root that is a file, not a folder */
	char p[256];
	snprintf(p, sizeof p, "%s/plain", f->dir);
	FILE *fp = fopen(p, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_not_equal(veil_store_open(p, &s, &e), VEIL_OK);
	assert_null(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_known_answers, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_reader_end, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_dedup, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_tamper, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_truncate_extend, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_bad_ids, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_missing_and_remove, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_nospace, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_sweep_tmp, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_planted_fifo, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_planted_symlink, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_planted_folder, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_dedup_same_size_damage, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_planted_tmp, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_open, setup, teardown),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
