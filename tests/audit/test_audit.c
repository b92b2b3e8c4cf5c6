/* Tests of the audit log through its public API: create/open, append and
 * commit, read back, verify, proofs checked with only the public key, every
 * kind of tampering with files and proofs, interrupted commits, forks,
 * several writing processes, and processes killed at random moments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "../common/scratch.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "veil/audit.h"

#define T0 1700000000

static const uint8_t seed[VEIL_ED25519_SEED_LEN] = {
        0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
        0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
};
static const uint8_t other_seed[VEIL_ED25519_SEED_LEN] = {1, 2, 3};

/* ---- scratch folders and files ---- */

typedef struct scratch {
	char root[128]; /* a mkdtemp folder under the run's folder */
	char dir[160];  /* root/audit: the log's folder, made by create */
	char leaves[192], heads[192], pub[192];
} scratch;

/* Every scratch folder lives under one folder per run, removed by the group
 * teardown even when a test fails half-way. */
static char run_dir[] = "/tmp/veil-audit-test-XXXXXX";

static void scratch_make(scratch *s)
{
	snprintf(s->root, sizeof s->root, "%s/XXXXXX", run_dir);
	assert_non_null(mkdtemp(s->root));
	snprintf(s->dir, sizeof s->dir, "%s/audit", s->root);
	snprintf(s->leaves, sizeof s->leaves, "%s/leaves", s->dir);
	snprintf(s->heads, sizeof s->heads, "%s/heads", s->dir);
	snprintf(s->pub, sizeof s->pub, "%s/log.pub", s->dir);
}

static void scratch_free(scratch *s)
{
	assert_int_equal(scratch_remove(s->root), 0);
}

static int group_setup(void **state)
{
	(void)state;
	return mkdtemp(run_dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	return scratch_remove(run_dir);
}

static off_t file_size(const char *path)
{
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	return sb.st_size;
}

static void flip(const char *path, off_t off, uint8_t mask)
{
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	uint8_t b;
	assert_int_equal(pread(fd, &b, 1, off), 1);
	b ^= mask;
	assert_int_equal(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

static void append_bytes(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

static void copy_file(const char *from, const char *to)
{
	veil_buf b = {0};
	assert_int_equal(veil_fs_read_file(from, VEIL_FS_READ_MAX, &b, NULL), VEIL_OK);
	int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
	close(fd);
	veil_buf_free(&b);
}

/* Offset of leaf record i in the leaves file (8-byte header, then records
 * of be32 length, leaf, 32-byte hash). */
static off_t leaf_offset(const char *path, uint64_t i)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	off_t off = 8;
	for (uint64_t k = 0; k < i; k++) {
		uint8_t len[4];
		assert_int_equal(pread(fd, len, 4, off), 4);
		off += 4 + (off_t)veil_get_be32(len) + 32;
	}
	close(fd);
	return off;
}

#define HEAD_OFF(i) (8 + (off_t)(i)*112)

/* ---- events ---- */

static char detail_buf[64];

static veil_audit_event event_n(uint64_t n)
{
	snprintf(detail_buf, sizeof detail_buf, "{\"n\": %llu, \"kind\": \"test\"}", (unsigned long long)n);
	veil_audit_event ev = {
	        .time = T0 + (int64_t)n,
	        .actor = "alice",
	        .action = "data.upload",
	        .resource = "ds-1",
	        .outcome = "ok",
	        .detail = detail_buf,
	};
	return ev;
}

/* Appends events n = size .. size+count-1 and commits them. */
static void add_events(veil_audit *log, uint64_t count)
{
	uint64_t base = veil_audit_size(log);
	for (uint64_t k = 0; k < count; k++) {
		veil_audit_event ev = event_n(base + k);
		uint64_t idx = UINT64_MAX;
		assert_int_equal(veil_audit_append(log, &ev, &idx, NULL), VEIL_OK);
		assert_int_equal(idx, base + k);
	}
	assert_int_equal(veil_audit_commit(log, NULL), VEIL_OK);
	assert_int_equal(veil_audit_size(log), base + count);
}

/* A log of `n` events committed in batches of `batch`. */
static void make_log(scratch *s, uint64_t n, uint64_t batch)
{
	scratch_make(s);
	assert_int_equal(veil_audit_create(s->dir, seed, NULL), VEIL_OK);
	veil_audit *log;
	assert_int_equal(veil_audit_open(s->dir, seed, &log, NULL), VEIL_OK);
	for (uint64_t done = 0; done < n; done += batch)
		add_events(log, n - done < batch ? n - done : batch);
	veil_audit_close(log);
}

static veil_status verify(const scratch *s, veil_audit_report *rep)
{
	return veil_audit_verify(s->dir, NULL, rep, NULL);
}

/* ---- create, open, append, read ---- */

static void test_create_open(void **state)
{
	(void)state;
	scratch s;
	scratch_make(&s);
	veil_err e;
	veil_audit_report rep;
	assert_int_equal(veil_audit_open(s.dir, NULL, &(veil_audit *){NULL}, &e), VEIL_E_NOTFOUND);
	assert_true(e.hint[0] != '\0');
	assert_int_equal(veil_audit_verify(s.dir, NULL, &rep, NULL), VEIL_E_NOTFOUND);
	assert_int_equal(veil_audit_verify(s.root, NULL, &rep, NULL), VEIL_E_NOTFOUND);
	assert_int_equal(veil_audit_create(s.dir, seed, NULL), VEIL_OK);
	assert_int_equal(veil_audit_create(s.dir, seed, &e), VEIL_E_EXISTS);

	/* log.pub is the public key in hex, with a newline */
	uint8_t pub[32];
	char hex[65];
	assert_int_equal(veil_ed25519_public(seed, pub, NULL), VEIL_OK);
	veil_hex_encode(pub, 32, hex);
	veil_buf b = {0};
	assert_int_equal(veil_fs_read_file(s.pub, 100, &b, NULL), VEIL_OK);
	assert_int_equal(b.len, 65);
	assert_memory_equal(b.data, hex, 64);
	assert_int_equal(b.data[64], '\n');
	veil_buf_free(&b);

	veil_audit *log;
	assert_int_equal(veil_audit_open(s.dir, NULL, &log, NULL), VEIL_OK);
	assert_int_equal(veil_audit_size(log), 0);
	assert_int_equal(veil_audit_head_count(log), 1);
	veil_audit_sth h;
	assert_int_equal(veil_audit_head(log, 0, &h, NULL), VEIL_OK);
	assert_int_equal(h.size, 0);
	assert_int_equal(veil_audit_sth_verify(pub, &h, NULL), VEIL_OK);
	assert_int_equal(veil_audit_head(log, 1, &h, NULL), VEIL_E_INVALID);
	uint8_t got[32];
	veil_audit_public_key(log, got);
	assert_memory_equal(got, pub, 32);
	veil_audit_event ev = event_n(0);
	assert_int_equal(veil_audit_append(log, &ev, NULL, &e), VEIL_E_INVALID); /* read-only */
	veil_audit_close(log);

	assert_int_equal(veil_audit_open(s.dir, other_seed, &log, &e), VEIL_E_KEY);
	assert_int_equal(verify(&s, &rep), VEIL_OK);
	assert_int_equal(rep.heads, 1);
	assert_int_equal(rep.leaves, 0);
	/* a key from elsewhere that is not the log's */
	uint8_t wrong[32];
	assert_int_equal(veil_ed25519_public(other_seed, wrong, NULL), VEIL_OK);
	assert_int_equal(veil_audit_verify(s.dir, wrong, &rep, NULL), VEIL_E_CORRUPT);
	assert_int_equal(rep.problem, VEIL_AUDIT_BAD_FILE);
	assert_int_equal(veil_audit_verify(s.dir, pub, &rep, NULL), VEIL_OK);
	scratch_free(&s);
}

typedef struct collected {
	uint64_t count, first;
	char actions[8][16];
	char details[8][128];
	int64_t times[8];
	uint64_t ns_ok; /* events whose detail says n == index */
} collected;

static veil_status collect(void *ctx, uint64_t index, const veil_audit_event *ev, veil_err *err)
{
	(void)err;
	collected *c = ctx;
	if (c->count == 0)
		c->first = index;
	if (c->count < 8) {
		snprintf(c->actions[c->count], sizeof c->actions[0], "%s", ev->action);
		snprintf(c->details[c->count], sizeof c->details[0], "%s",
		         ev->detail ? ev->detail : "(null)");
		c->times[c->count] = ev->time;
	}
	char want[64];
	snprintf(want, sizeof want, "{\"kind\":\"test\",\"n\":%llu}", (unsigned long long)index);
	if (ev->detail && !strcmp(ev->detail, want) && ev->time == T0 + (int64_t)index)
		c->ns_ok++;
	c->count++;
	return VEIL_OK;
}

static void test_append_commit_read(void **state)
{
	(void)state;
	scratch s;
	scratch_make(&s);
	assert_int_equal(veil_audit_create(s.dir, seed, NULL), VEIL_OK);
	veil_audit *log;
	assert_int_equal(veil_audit_open(s.dir, seed, &log, NULL), VEIL_OK);
	for (int i = 0; i < 10; i++) {
		veil_audit_event ev = event_n((uint64_t)i);
		uint64_t idx;
		assert_int_equal(veil_audit_append(log, &ev, &idx, NULL), VEIL_OK);
		assert_int_equal(idx, i);
	}
	assert_int_equal(veil_audit_size(log), 0); /* nothing is committed before commit */
	assert_int_equal(veil_audit_commit(log, NULL), VEIL_OK);
	assert_int_equal(veil_audit_size(log), 10);
	assert_int_equal(veil_audit_head_count(log), 2);
	assert_int_equal(veil_audit_commit(log, NULL), VEIL_OK); /* an empty commit signs nothing */
	assert_int_equal(veil_audit_head_count(log), 2);

	/* canonical form: keys sorted, no spaces, non-ASCII escaped; no detail */
	veil_audit_event ev = {.time = 0,
	                       .actor = "bob",
	                       .action = "key.unwrap",
	                       .resource = "",
	                       .outcome = "denied",
	                       .detail = "{ \"z\" : 1, \"a\" : \"\xc3\xa9\", \"m\": {\"y\":2,\"b\":[1]} }"};
	int64_t before = veil_time_now();
	assert_int_equal(veil_audit_append(log, &ev, NULL, NULL), VEIL_OK);
	ev.detail = NULL;
	ev.time = T0;
	assert_int_equal(veil_audit_append(log, &ev, NULL, NULL), VEIL_OK);
	assert_int_equal(veil_audit_commit(log, NULL), VEIL_OK);
	veil_audit_close(log);

	assert_int_equal(veil_audit_open(s.dir, NULL, &log, NULL), VEIL_OK);
	assert_int_equal(veil_audit_size(log), 12);
	collected c = {0};
	assert_int_equal(veil_audit_read(log, 0, collect, &c, NULL), VEIL_OK);
	assert_int_equal(c.count, 12);
	assert_int_equal(c.ns_ok, 10);
	assert_string_equal(c.actions[0], "data.upload");
	memset(&c, 0, sizeof c);
	assert_int_equal(veil_audit_read(log, 10, collect, &c, NULL), VEIL_OK);
	assert_int_equal(c.count, 2);
	assert_int_equal(c.first, 10);
	assert_string_equal(c.actions[0], "key.unwrap");
	assert_string_equal(c.details[0], "{\"a\":\"\\u00E9\",\"m\":{\"b\":[1],\"y\":2},\"z\":1}");
	assert_true(c.times[0] >= before && c.times[0] <= veil_time_now()); /* time 0 means now */
	assert_string_equal(c.details[1], "(null)");
	assert_int_equal(c.times[1], T0);
	memset(&c, 0, sizeof c);
	assert_int_equal(veil_audit_read(log, 12, collect, &c, NULL), VEIL_OK);
	assert_int_equal(c.count, 0);
	veil_audit_close(log);

	veil_audit_report rep;
	assert_int_equal(verify(&s, &rep), VEIL_OK);
	assert_int_equal(rep.problem, VEIL_AUDIT_SOUND);
	assert_int_equal(rep.leaves, 12);
	assert_int_equal(rep.heads, 3);
	assert_int_equal(rep.last.size, 12);
	assert_int_equal(rep.uncommitted_bytes, 0);
	scratch_free(&s);
}

static veil_status stop_at_3(void *ctx, uint64_t index, const veil_audit_event *ev, veil_err *err)
{
	(void)ev;
	*(uint64_t *)ctx = index;
	return index == 3 ? veil_err_set(err, VEIL_E_LIMIT, "enough") : VEIL_OK;
}

static void test_read_stops(void **state)
{
	(void)state;
	scratch s;
	make_log(&s, 6, 6);
	veil_audit *log;
	assert_int_equal(veil_audit_open(s.dir, NULL, &log, NULL), VEIL_OK);
	uint64_t last = 0;
	veil_err e;
	assert_int_equal(veil_audit_read(log, 0, stop_at_3, &last, &e), VEIL_E_LIMIT);
	assert_int_equal(last, 3);
	assert_string_equal(e.msg, "enough");
	veil_audit_close(log);
	scratch_free(&s);
}

/* Each rule names its field, and a refused event leaves the batch as it was. */
static void test_event_rules(void **state)
{
	(void)state;
	scratch s;
	scratch_make(&s);
	assert_int_equal(veil_audit_create(s.dir, seed, NULL), VEIL_OK);
	veil_audit *log;
	assert_int_equal(veil_audit_open(s.dir, seed, &log, NULL), VEIL_OK);
	static char big[VEIL_AUDIT_DETAIL_MAX + 100];
	static char wide[VEIL_AUDIT_DETAIL_MAX];
	struct {
		veil_audit_event ev;
		veil_status want;
		const char *needle;
	} cases[] = {
	        {{T0, "alice", "data.upload", "r", "maybe", NULL}, VEIL_E_INVALID, "outcome"},
	        {{T0, "", "data.upload", "r", "ok", NULL}, VEIL_E_INVALID, "actor"},
	        {{T0, NULL, "data.upload", "r", "ok", NULL}, VEIL_E_INVALID, "actor"},
	        {{T0, "alice", "Data.Upload", "r", "ok", NULL}, VEIL_E_INVALID, "action"},
	        {{T0, "alice", "1data", "r", "ok", NULL}, VEIL_E_INVALID, "action"},
	        {{T0, "alice", "data.upload", "a\nb", "ok", NULL}, VEIL_E_INVALID, "resource"},
	        {{T0,
	          "al\xff"
	          "ice",
	          "data.upload", "r", "ok", NULL},
	         VEIL_E_INVALID,
	         "UTF-8"},
	        {{-5, "alice", "data.upload", "r", "ok", NULL}, VEIL_E_INVALID, "time"},
	        {{T0, "alice", "data.upload", "r", "ok", "not json"}, VEIL_E_INVALID, "detail"},
	        {{T0, "alice", "data.upload", "r", "ok", "[1, 2]"}, VEIL_E_INVALID, "object"},
	        {{T0, "alice", "data.upload", "r", "ok", "{\"a\":1,\"a\":2}"}, VEIL_E_INVALID, "detail"},
	        {{T0, "alice", "data.upload", "r", "ok", big}, VEIL_E_LIMIT, "detail"},
	        {{T0, "alice", "data.upload", "r", "ok", wide}, VEIL_E_LIMIT, "canonical"},
	        {{T0, "alice", big, "r", "ok", NULL}, VEIL_E_LIMIT, "action"},
	        {{T0, big, "data.upload", "r", "ok", NULL}, VEIL_E_LIMIT, "actor"},
	        {{T0, "alice", "data.upload", big, "ok", NULL}, VEIL_E_LIMIT, "resource"},
	};
	memset(big, 'a', sizeof big - 1);
	/* {"x":"é é ..."}: under the detail limit as UTF-8, over the leaf
	 * limit once every é is escaped as \u00e9 */
	size_t n = 0;
	n += (size_t)snprintf(wide, sizeof wide, "{\"x\":\"");
	while (n + 4 < sizeof wide) {
		wide[n++] = '\xc3';
		wide[n++] = '\xa9';
	}
	snprintf(wide + n, sizeof wide - n, "\"}");
	veil_audit_event ok = event_n(0);
	assert_int_equal(veil_audit_append(log, &ok, NULL, NULL), VEIL_OK);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		veil_err e;
		uint64_t idx = 77;
		assert_int_equal(veil_audit_append(log, &cases[i].ev, &idx, &e), cases[i].want);
		if (!strstr(e.msg, cases[i].needle))
			fail_msg("case %zu: \"%s\" does not mention %s", i, e.msg, cases[i].needle);
		assert_int_equal(idx, 77);
	}
	assert_int_equal(veil_audit_append(log, NULL, NULL, NULL), VEIL_E_INVALID);
	ok = event_n(1);
	assert_int_equal(veil_audit_append(log, &ok, NULL, NULL), VEIL_OK);
	assert_int_equal(veil_audit_commit(log, NULL), VEIL_OK);
	assert_int_equal(veil_audit_size(log), 2);
	veil_audit_close(log);
	veil_audit_report rep;
	assert_int_equal(verify(&s, &rep), VEIL_OK);
	scratch_free(&s);
}

/* N appends, one commit: one new head (the two fsyncs of one commit). */
static void test_batch(void **state)
{
	(void)state;
	scratch s;
	scratch_make(&s);
	assert_int_equal(veil_audit_create(s.dir, seed, NULL), VEIL_OK);
	veil_audit *log;
	assert_int_equal(veil_audit_open(s.dir, seed, &log, NULL), VEIL_OK);
	size_t heads = veil_audit_head_count(log);
	off_t heads_bytes = file_size(s.heads);
	add_events(log, 1000);
	assert_int_equal(veil_audit_head_count(log), heads + 1);
	assert_int_equal(file_size(s.heads), heads_bytes + 112);
	/* a handle that never commits leaves nothing behind */
	veil_audit_event ev = event_n(1000);
	assert_int_equal(veil_audit_append(log, &ev, NULL, NULL), VEIL_OK);
	off_t leaves_bytes = file_size(s.leaves);
	veil_audit_close(log);
	assert_int_equal(file_size(s.leaves), leaves_bytes);
	assert_int_equal(veil_audit_open(s.dir, NULL, &log, NULL), VEIL_OK);
	assert_int_equal(veil_audit_size(log), 1000);
	collected c = {0};
	assert_int_equal(veil_audit_read(log, 0, collect, &c, NULL), VEIL_OK);
	assert_int_equal(c.ns_ok, 1000);
	veil_audit_close(log);
	veil_audit_report rep;
	assert_int_equal(verify(&s, &rep), VEIL_OK);
	assert_int_equal(rep.leaves, 1000);
	assert_int_equal(rep.heads, 2);
	scratch_free(&s);
}

/* ---- proofs ---- */

static void pubkey(uint8_t pub[32])
{
	assert_int_equal(veil_ed25519_public(seed, pub, NULL), VEIL_OK);
}

/* Heads at sizes 0, 3, 7, 8, 20. */
static void make_proof_log(scratch *s)
{
	scratch_make(s);
	assert_int_equal(veil_audit_create(s->dir, seed, NULL), VEIL_OK);
	veil_audit *log;
	assert_int_equal(veil_audit_open(s->dir, seed, &log, NULL), VEIL_OK);
	add_events(log, 3);
	add_events(log, 4);
	add_events(log, 1);
	add_events(log, 12);
	veil_audit_close(log);
}

static void test_proofs(void **state)
{
	(void)state;
	scratch s;
	make_proof_log(&s);
	uint8_t pub[32];
	pubkey(pub);
	veil_audit *log;
	assert_int_equal(veil_audit_open(s.dir, NULL, &log, NULL), VEIL_OK);
	const uint64_t sizes[] = {3, 7, 8, 20};
	for (size_t k = 0; k < 4; k++) {
		veil_audit_sth head;
		assert_int_equal(veil_audit_head(log, k + 1, &head, NULL), VEIL_OK);
		assert_int_equal(head.size, sizes[k]);
		for (uint64_t i = 0; i < sizes[k]; i++) {
			veil_buf proof = {0};
			veil_audit_proof_info info;
			assert_int_equal(veil_audit_prove_inclusion(log, i, sizes[k], &proof, NULL), VEIL_OK);
			veil_err e;
			if (veil_audit_check_proof((char *)proof.data, proof.len, pub, &info, &e))
				fail_msg("inclusion %llu in %llu: %s", (unsigned long long)i,
				         (unsigned long long)sizes[k], e.msg);
			assert_int_equal(info.kind, VEIL_AUDIT_PROOF_INCLUSION);
			assert_int_equal(info.leaf_index, i);
			assert_int_equal(info.head.size, sizes[k]);
			assert_memory_equal(info.head.root, head.root, 32);
			assert_non_null(strstr(info.description, "data.upload"));
			veil_buf_free(&proof);
		}
		for (size_t j = 0; j <= k; j++) {
			veil_buf proof = {0};
			veil_audit_proof_info info;
			assert_int_equal(veil_audit_prove_consistency(log, sizes[j], sizes[k], &proof, NULL),
			                 VEIL_OK);
			assert_int_equal(
			        veil_audit_check_proof((char *)proof.data, proof.len, pub, &info, NULL),
			        VEIL_OK);
			assert_int_equal(info.kind, VEIL_AUDIT_PROOF_CONSISTENCY);
			assert_int_equal(info.old_head.size, sizes[j]);
			assert_int_equal(info.head.size, sizes[k]);
			veil_buf_free(&proof);
		}
	}
	/* 0 means the latest head */
	veil_buf proof = {0};
	veil_audit_proof_info info;
	assert_int_equal(veil_audit_prove_inclusion(log, 5, 0, &proof, NULL), VEIL_OK);
	assert_int_equal(veil_audit_check_proof((char *)proof.data, proof.len, pub, &info, NULL), VEIL_OK);
	assert_int_equal(info.head.size, 20);
	proof.len = 0;
	assert_int_equal(veil_audit_prove_consistency(log, 7, 0, &proof, NULL), VEIL_OK);
	assert_int_equal(veil_audit_check_proof((char *)proof.data, proof.len, pub, &info, NULL), VEIL_OK);
	assert_int_equal(info.head.size, 20);
	veil_buf_free(&proof);
	/* only signed sizes are provable; the error names the nearest */
	veil_err e;
	assert_int_equal(veil_audit_prove_inclusion(log, 1, 5, &proof, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "nearest are 3 and 7"));
	assert_int_equal(veil_audit_prove_inclusion(log, 1, 25, &proof, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "latest has size 20"));
	assert_int_equal(veil_audit_prove_consistency(log, 4, 20, &proof, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "nearest are 3 and 7"));
	assert_int_equal(veil_audit_prove_inclusion(log, 7, 7, &proof, &e), VEIL_E_INVALID);
	assert_int_equal(veil_audit_prove_consistency(log, 0, 20, &proof, &e), VEIL_E_INVALID);
	assert_int_equal(veil_audit_prove_consistency(log, 8, 7, &proof, &e), VEIL_E_INVALID);
	assert_int_equal(proof.len, 0);
	veil_buf_free(&proof);
	veil_audit_close(log);
	scratch_free(&s);
}

/* Rewrites a proof document with f applied to it, and checks it. */
static veil_status check_edited(const veil_buf *proof, void (*f)(json_t *, size_t), size_t arg,
                                const uint8_t *pub)
{
	json_t *o = json_loadb((const char *)proof->data, proof->len, 0, NULL);
	assert_non_null(o);
	f(o, arg);
	char *text = json_dumps(o, JSON_COMPACT);
	assert_non_null(text);
	veil_status st = veil_audit_check_proof(text, strlen(text), pub, NULL, NULL);
	free(text);
	json_decref(o);
	return st;
}

/* Flips one bit of a hex string member, at hex digit `digit`. */
static void flip_hex(json_t *holder, const char *key, size_t digit)
{
	json_t *v = json_object_get(holder, key);
	char *s = strdup(json_string_value(v));
	s[digit] = s[digit] == '0' ? '1' : '0';
	json_object_set_new(holder, key, json_string(s));
	free(s);
}

static void e_path(json_t *o, size_t i)
{
	json_t *a = json_object_get(o, "path");
	char *s = strdup(json_string_value(json_array_get(a, i)));
	s[5] = s[5] == 'f' ? 'e' : 'f';
	json_array_set_new(a, i, json_string(s));
	free(s);
}
static void e_leaf(json_t *o, size_t i)
{
	flip_hex(o, "leaf", i);
}
static void e_index(json_t *o, size_t d)
{
	json_int_t v = json_integer_value(json_object_get(o, "leaf_index"));
	json_object_set_new(o, "leaf_index", json_integer(d ? v + 1 : v - 1));
}
static void e_tree_size(json_t *o, size_t d)
{
	json_int_t v = json_integer_value(json_object_get(o, "tree_size"));
	json_object_set_new(o, "tree_size", json_integer(v + (json_int_t)d));
}
static void e_head_size(json_t *o, size_t d)
{
	json_t *h = json_object_get(o, "head");
	json_int_t v = json_integer_value(json_object_get(h, "size"));
	json_object_set_new(h, "size", json_integer(v + (json_int_t)d));
	json_object_set_new(o, "tree_size", json_integer(v + (json_int_t)d));
}
static void e_head_root(json_t *o, size_t i)
{
	flip_hex(json_object_get(o, "head"), "root", i);
}
static void e_head_sig(json_t *o, size_t i)
{
	flip_hex(json_object_get(o, "head"), "signature", i);
}
static void e_head_time(json_t *o, size_t d)
{
	json_t *h = json_object_get(o, "head");
	json_object_set_new(
	        h, "timestamp",
	        json_integer(json_integer_value(json_object_get(h, "timestamp")) + (json_int_t)d));
}
static void e_key(json_t *o, size_t i)
{
	flip_hex(o, "log_key", i);
}
static void e_format(json_t *o, size_t i)
{
	(void)i;
	json_object_set_new(o, "format", json_string("veil-audit-proof-v2"));
}
static void e_kind(json_t *o, size_t i)
{
	(void)i;
	json_object_set_new(o, "kind", json_string("exclusion"));
}
static void e_long_path(json_t *o, size_t n)
{
	json_t *a = json_object_get(o, "path");
	while (json_array_size(a) < n)
		json_array_append(a, json_array_get(a, 0));
}
static void e_drop(json_t *o, size_t i)
{
	static const char *keys[] = {"leaf", "leaf_index", "tree_size", "head", "path", "kind", "format"};
	json_object_del(o, keys[i]);
}
static void e_old_sig(json_t *o, size_t i)
{
	flip_hex(json_object_get(o, "old_head"), "signature", i);
}
static void e_swap_heads(json_t *o, size_t i)
{
	(void)i;
	json_t *a = json_incref(json_object_get(o, "old_head")),
	       *b = json_incref(json_object_get(o, "new_head"));
	json_object_set_new(o, "old_head", b);
	json_object_set_new(o, "new_head", a);
	json_t *os = json_incref(json_object_get(o, "old_size")),
	       *ns = json_incref(json_object_get(o, "new_size"));
	json_object_set_new(o, "old_size", ns);
	json_object_set_new(o, "new_size", os);
}

static void test_proof_tamper(void **state)
{
	(void)state;
	scratch s;
	make_proof_log(&s);
	uint8_t pub[32], wrong[32];
	pubkey(pub);
	assert_int_equal(veil_ed25519_public(other_seed, wrong, NULL), VEIL_OK);
	veil_audit *log;
	assert_int_equal(veil_audit_open(s.dir, NULL, &log, NULL), VEIL_OK);
	veil_buf p = {0};
	assert_int_equal(veil_audit_prove_inclusion(log, 5, 20, &p, NULL), VEIL_OK);
	json_t *doc = json_loadb((const char *)p.data, p.len, 0, NULL);
	size_t path_len = json_array_size(json_object_get(doc, "path"));
	size_t leaf_hex = json_string_length(json_object_get(doc, "leaf"));
	json_decref(doc);
	assert_int_equal(path_len, 5);

	for (size_t i = 0; i < path_len; i++)
		assert_int_equal(check_edited(&p, e_path, i, pub), VEIL_E_CORRUPT);
	for (size_t i = 0; i < leaf_hex; i += 37)
		assert_int_equal(check_edited(&p, e_leaf, i, pub), VEIL_E_CORRUPT);
	assert_int_equal(check_edited(&p, e_index, 0, pub), VEIL_E_CORRUPT);
	assert_int_equal(check_edited(&p, e_index, 1, pub), VEIL_E_CORRUPT);
	assert_int_equal(check_edited(&p, e_tree_size, 1, pub), VEIL_E_CORRUPT);
	assert_int_equal(check_edited(&p, e_head_size, 1, pub), VEIL_E_AUTH);
	assert_int_equal(check_edited(&p, e_head_root, 0, pub), VEIL_E_AUTH);
	assert_int_equal(check_edited(&p, e_head_root, 63, pub), VEIL_E_AUTH);
	assert_int_equal(check_edited(&p, e_head_sig, 0, pub), VEIL_E_AUTH);
	assert_int_equal(check_edited(&p, e_head_sig, 127, pub), VEIL_E_AUTH);
	assert_int_equal(check_edited(&p, e_head_time, 1, pub), VEIL_E_AUTH);
	assert_int_equal(check_edited(&p, e_key, 3, pub), VEIL_E_AUTH);
	assert_int_equal(check_edited(&p, e_format, 0, pub), VEIL_E_UNSUPPORTED);
	assert_int_equal(check_edited(&p, e_kind, 0, pub), VEIL_E_INVALID);
	assert_int_equal(check_edited(&p, e_long_path, 65, pub), VEIL_E_LIMIT);
	assert_int_equal(check_edited(&p, e_long_path, 6, pub), VEIL_E_CORRUPT);
	for (size_t i = 0; i < 7; i++)
		assert_int_not_equal(check_edited(&p, e_drop, i, pub), VEIL_OK);
	/* a forged head: signed with another key, claiming to be this log */
	assert_int_equal(veil_audit_check_proof((char *)p.data, p.len, wrong, NULL, NULL), VEIL_E_AUTH);
	/* not JSON, cut short, too big, duplicate keys */
	assert_int_equal(veil_audit_check_proof((char *)p.data, p.len / 2, pub, NULL, NULL), VEIL_E_INVALID);
	assert_int_equal(veil_audit_check_proof("{\"format\":1,\"format\":2}", 23, pub, NULL, NULL),
	                 VEIL_E_INVALID);
	assert_int_equal(veil_audit_check_proof((char *)p.data, VEIL_AUDIT_PROOF_MAX + 1, pub, NULL, NULL),
	                 VEIL_E_LIMIT);
	assert_int_equal(veil_audit_check_proof((char *)p.data, p.len, pub, NULL, NULL), VEIL_OK);

	/* consistency: every hash, the old head's signature, swapped heads */
	p.len = 0;
	assert_int_equal(veil_audit_prove_consistency(log, 7, 20, &p, NULL), VEIL_OK);
	doc = json_loadb((const char *)p.data, p.len, 0, NULL);
	path_len = json_array_size(json_object_get(doc, "path"));
	json_decref(doc);
	assert_true(path_len >= 3);
	for (size_t i = 0; i < path_len; i++)
		assert_int_equal(check_edited(&p, e_path, i, pub), VEIL_E_CORRUPT);
	assert_int_equal(check_edited(&p, e_old_sig, 10, pub), VEIL_E_AUTH);
	assert_int_not_equal(check_edited(&p, e_swap_heads, 0, pub), VEIL_OK);
	assert_int_equal(check_edited(&p, e_long_path, path_len + 1, pub), VEIL_E_CORRUPT);
	assert_int_equal(veil_audit_check_proof((char *)p.data, p.len, pub, NULL, NULL), VEIL_OK);
	veil_buf_free(&p);
	veil_audit_close(log);
	scratch_free(&s);
}

/* ---- tampering with the files ---- */

static void expect_problem(const scratch *s, veil_audit_problem what, uint64_t index, const char *needle)
{
	veil_audit_report rep;
	veil_err e;
	assert_int_equal(veil_audit_verify(s->dir, NULL, &rep, &e), VEIL_E_CORRUPT);
	if (rep.problem != what || rep.index != index || !strstr(rep.what, needle))
		fail_msg("verify said %d/%llu \"%s\"; expected %d/%llu \"%s\"", rep.problem,
		         (unsigned long long)rep.index, rep.what, what, (unsigned long long)index, needle);
	assert_non_null(strstr(e.msg, rep.what));
	assert_true(e.hint[0] != '\0');
}

static void test_tamper_leaf(void **state)
{
	(void)state;
	scratch s;
	make_log(&s, 30, 5);
	off_t off = leaf_offset(s.leaves, 17);
	/* a byte of the event itself */
	flip(s.leaves, off + 4 + 10, 0x01);
	expect_problem(&s, VEIL_AUDIT_BAD_LEAF, 17, "leaf 17 was modified");
	veil_audit *log;
	assert_int_equal(veil_audit_open(s.dir, NULL, &log, NULL), VEIL_OK); /* open trusts stored hashes */
	collected c = {0};
	assert_int_equal(veil_audit_read(log, 0, collect, &c, NULL), VEIL_E_CORRUPT);
	assert_int_equal(c.count, 17); /* 0..16 were delivered, 17 refused */
	veil_buf p = {0};
	assert_int_equal(veil_audit_prove_inclusion(log, 17, 0, &p, NULL), VEIL_E_CORRUPT);
	veil_buf_free(&p);
	veil_audit_close(log);
	flip(s.leaves, off + 4 + 10, 0x01);
	veil_audit_report rep;
	assert_int_equal(verify(&s, &rep), VEIL_OK);

	/* its stored check hash */
	uint8_t len4[4];
	int fd = open(s.leaves, O_RDONLY);
	assert_int_equal(pread(fd, len4, 4, off), 4);
	close(fd);
	off_t hash_at = off + 4 + (off_t)veil_get_be32(len4);
	flip(s.leaves, hash_at + 31, 0x80);
	expect_problem(&s, VEIL_AUDIT_BAD_LEAF, 17, "leaf 17 was modified");
	flip(s.leaves, hash_at + 31, 0x80);

	/* its length field */
	flip(s.leaves, off + 1, 0x40);
	expect_problem(&s, VEIL_AUDIT_BAD_LEAF, 17, "leaf 17");
	assert_int_equal(veil_audit_open(s.dir, seed, &log, NULL), VEIL_E_CORRUPT);
	flip(s.leaves, off + 1, 0x40);

	/* a leaf rewritten with its hash recomputed: only the heads can tell */
	veil_buf leaf = {0};
	assert_int_equal(veil_fs_read_file(s.leaves, VEIL_FS_READ_MAX, &leaf, NULL), VEIL_OK);
	uint32_t n = veil_get_be32(leaf.data + off);
	uint8_t *bytes = leaf.data + off + 4;
	char *at = strstr((char *)bytes, "alice");
	assert_non_null(at);
	memcpy(at, "mallo", 5); /* same length */
	uint8_t *tmp = malloc(n + 1);
	tmp[0] = 0;
	memcpy(tmp + 1, bytes, n);
	assert_int_equal(veil_sha256(tmp, n + 1, bytes + n, NULL), VEIL_OK);
	free(tmp);
	assert_int_equal(veil_fs_write_atomic(s.leaves, leaf.data, leaf.len, 0600, NULL), VEIL_OK);
	veil_buf_free(&leaf);
	/* leaves 15..19 were committed by head 4 (sizes 0,5,10,15,20,...) */
	expect_problem(&s, VEIL_AUDIT_BAD_HEAD, 4, "leaves 15..19 were changed");
	assert_int_equal(veil_audit_open(s.dir, NULL, &log, NULL), VEIL_E_CORRUPT);
	scratch_free(&s);
}

static void test_tamper_heads(void **state)
{
	(void)state;
	scratch s;
	make_log(&s, 30, 5); /* heads 0..6 */
	const struct {
		off_t at;
		const char *what;
	} spots[] = {{0, "signature invalid"},  {7, "signature invalid"},  {8, "signature invalid"},
	             {16, "signature invalid"}, {47, "signature invalid"}, {48, "signature invalid"},
	             {111, "signature invalid"}};
	for (size_t k = 0; k < sizeof spots / sizeof *spots; k++) {
		flip(s.heads, HEAD_OFF(5) + spots[k].at, 0x01);
		if (spots[k].at < 8) /* the size: the order check or the signature catches it */
			expect_problem(&s, VEIL_AUDIT_BAD_HEAD, 5, "tree head 5");
		else
			expect_problem(&s, VEIL_AUDIT_BAD_HEAD, 5, spots[k].what);
		flip(s.heads, HEAD_OFF(5) + spots[k].at, 0x01);
	}
	/* the last head damaged: no writer may build on it */
	flip(s.heads, HEAD_OFF(6) + 60, 0x04);
	expect_problem(&s, VEIL_AUDIT_BAD_HEAD, 6, "tree head 6 (size 30) signature invalid");
	veil_audit *log;
	assert_int_equal(veil_audit_open(s.dir, seed, &log, NULL), VEIL_E_CORRUPT);
	flip(s.heads, HEAD_OFF(6) + 60, 0x04);
	/* the magic */
	flip(s.heads, 2, 0x20);
	expect_problem(&s, VEIL_AUDIT_BAD_FILE, 0, "heads file");
	flip(s.heads, 2, 0x20);
	flip(s.leaves, 0, 0x20);
	expect_problem(&s, VEIL_AUDIT_BAD_FILE, 0, "leaves file");
	flip(s.leaves, 0, 0x20);
	veil_audit_report rep;
	assert_int_equal(verify(&s, &rep), VEIL_OK);
	assert_int_equal(rep.heads, 7);
	scratch_free(&s);
}

static void test_truncation(void **state)
{
	(void)state;
	scratch s;
	make_log(&s, 12, 4); /* heads at sizes 0, 4, 8, 12 */
	veil_buf heads = {0}, cut = {0};
	assert_int_equal(veil_fs_read_file(s.heads, VEIL_FS_READ_MAX, &heads, NULL), VEIL_OK);
	/* the heads file cut back to its header */
	assert_int_equal(truncate(s.heads, 8), 0);
	expect_problem(&s, VEIL_AUDIT_BAD_FILE, 0, "heads file truncated");
	veil_audit *log;
	assert_int_equal(veil_audit_open(s.dir, seed, &log, NULL), VEIL_E_CORRUPT);
	/* the first head cut away, the header kept */
	assert_int_equal(veil_buf_append(&cut, heads.data, 8, NULL), VEIL_OK);
	assert_int_equal(veil_buf_append(&cut, heads.data + 8 + 112, heads.len - 8 - 112, NULL), VEIL_OK);
	assert_int_equal(veil_fs_write_atomic(s.heads, cut.data, cut.len, 0600, NULL), VEIL_OK);
	expect_problem(&s, VEIL_AUDIT_BAD_HEAD, 0, "start of the heads file is missing");
	assert_int_equal(veil_fs_write_atomic(s.heads, heads.data, heads.len, 0600, NULL), VEIL_OK);
	veil_audit_report rep;
	assert_int_equal(verify(&s, &rep), VEIL_OK);
	veil_buf_free(&heads);
	veil_buf_free(&cut);

	/* committed leaves cut off, mid-record and at a record boundary */
	off_t off = leaf_offset(s.leaves, 9);
	assert_int_equal(truncate(s.leaves, off + 20), 0);
	expect_problem(&s, VEIL_AUDIT_BAD_LEAF, 9, "leaf 9 is cut short");
	assert_int_equal(veil_audit_open(s.dir, seed, &log, NULL), VEIL_E_CORRUPT);
	assert_int_equal(truncate(s.leaves, off), 0);
	expect_problem(&s, VEIL_AUDIT_BAD_LEAF, 9, "leaves file truncated");
	/* files missing */
	assert_int_equal(unlink(s.leaves), 0);
	expect_problem(&s, VEIL_AUDIT_BAD_FILE, 0, "leaves file is missing");
	assert_int_equal(unlink(s.pub), 0);
	expect_problem(&s, VEIL_AUDIT_BAD_FILE, 0, "log.pub is missing");
	assert_int_equal(veil_audit_open(s.dir, NULL, &log, NULL), VEIL_E_CORRUPT);
	scratch_free(&s);
}

/* What an interrupted commit leaves -- a torn record, whole records and a
 * partial head beyond the last head -- is not corruption: verify notes it,
 * readers ignore it and the next writer removes it. */
static void test_torn_tail(void **state)
{
	(void)state;
	scratch s;
	make_log(&s, 10, 5);
	off_t leaves = file_size(s.leaves), heads = file_size(s.heads);
	/* whole records of a batch whose head was never written: copy two */
	veil_buf b = {0};
	assert_int_equal(veil_fs_read_file(s.leaves, VEIL_FS_READ_MAX, &b, NULL), VEIL_OK);
	off_t from = leaf_offset(s.leaves, 3), to = leaf_offset(s.leaves, 5);
	append_bytes(s.leaves, b.data + from, (size_t)(to - from));
	/* then a torn one: a length and part of the bytes */
	append_bytes(s.leaves, b.data + from, 30);
	veil_buf_free(&b);
	/* and half a head */
	static const uint8_t junk[50] = {0, 0, 0, 0, 0, 0, 0, 12};
	append_bytes(s.heads, junk, sizeof junk);

	veil_audit_report rep;
	assert_int_equal(verify(&s, &rep), VEIL_OK);
	assert_int_equal(rep.leaves, 10);
	assert_int_equal(rep.uncommitted_bytes, (uint64_t)(to - from) + 30 + 50);
	veil_audit *log;
	assert_int_equal(veil_audit_open(s.dir, NULL, &log, NULL), VEIL_OK); /* readers change nothing */
	assert_int_equal(veil_audit_size(log), 10);
	veil_audit_close(log);
	assert_int_equal(file_size(s.leaves), leaves + (to - from) + 30);

	assert_int_equal(veil_audit_open(s.dir, seed, &log, NULL), VEIL_OK);
	assert_int_equal(file_size(s.leaves), leaves);
	assert_int_equal(file_size(s.heads), heads);
	assert_int_equal(veil_audit_size(log), 10);
	add_events(log, 3);
	veil_audit_close(log);
	assert_int_equal(verify(&s, &rep), VEIL_OK);
	assert_int_equal(rep.leaves, 13);
	assert_int_equal(rep.uncommitted_bytes, 0);

	/* a zero-filled head, as an unsynced append may read after a power loss */
	static const uint8_t zeros[112];
	append_bytes(s.heads, zeros, sizeof zeros);
	assert_int_equal(verify(&s, &rep), VEIL_OK);
	assert_int_equal(rep.uncommitted_bytes, 112);
	assert_int_equal(veil_audit_open(s.dir, seed, &log, NULL), VEIL_OK);
	veil_audit_close(log);
	assert_int_equal(file_size(s.heads), heads + 112);

	/* garbage that is not even a record, with a writer already open */
	assert_int_equal(veil_audit_open(s.dir, seed, &log, NULL), VEIL_OK);
	static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 1, 2, 3};
	append_bytes(s.leaves, garbage, sizeof garbage);
	add_events(log, 2); /* the batch's lock-time catch-up removes it first */
	veil_audit_close(log);
	assert_int_equal(verify(&s, &rep), VEIL_OK);
	assert_int_equal(rep.leaves, 15);
	assert_int_equal(veil_audit_open(s.dir, NULL, &log, NULL), VEIL_OK);
	collected c = {0};
	assert_int_equal(veil_audit_read(log, 0, collect, &c, NULL), VEIL_OK);
	assert_int_equal(c.ns_ok, 15);
	veil_audit_close(log);
	scratch_free(&s);
}

/* Two copies of one log that diverge after a common prefix, both signed
 * with the log's key: a fork. */
static void test_fork(void **state)
{
	(void)state;
	scratch a, b;
	make_log(&a, 5, 5);
	scratch_make(&b);
	assert_int_equal(mkdir(b.dir, 0700), 0);
	copy_file(a.leaves, b.leaves);
	copy_file(a.heads, b.heads);
	copy_file(a.pub, b.pub);
	veil_audit *la, *lb;
	assert_int_equal(veil_audit_open(a.dir, seed, &la, NULL), VEIL_OK);
	assert_int_equal(veil_audit_open(b.dir, seed, &lb, NULL), VEIL_OK);
	add_events(la, 3);
	veil_audit_event ev = event_n(5);
	ev.outcome = "denied"; /* B's history differs from here */
	for (int i = 0; i < 3; i++)
		assert_int_equal(veil_audit_append(lb, &ev, NULL, NULL), VEIL_OK);
	assert_int_equal(veil_audit_commit(lb, NULL), VEIL_OK);
	uint8_t pub[32];
	pubkey(pub);

	/* An auditor who kept A's head of size 8 gets B's proofs: each checks on
	 * its own, but B's head of size 8 has another root -- two signed heads
	 * of one size with different roots prove the fork. */
	veil_buf pa = {0}, pb = {0};
	veil_audit_proof_info ia, ib;
	assert_int_equal(veil_audit_prove_inclusion(la, 6, 8, &pa, NULL), VEIL_OK);
	assert_int_equal(veil_audit_prove_consistency(lb, 5, 8, &pb, NULL), VEIL_OK);
	assert_int_equal(veil_audit_check_proof((char *)pa.data, pa.len, pub, &ia, NULL), VEIL_OK);
	assert_int_equal(veil_audit_check_proof((char *)pb.data, pb.len, pub, &ib, NULL), VEIL_OK);
	assert_int_equal(ia.head.size, ib.head.size);
	assert_memory_not_equal(ia.head.root, ib.head.root, 32);
	/* B's consistency path does not lead to A's head */
	json_t *doc = json_loadb((const char *)pb.data, pb.len, 0, NULL);
	json_t *ja = json_loadb((const char *)pa.data, pa.len, 0, NULL);
	json_object_set(doc, "new_head", json_object_get(ja, "head"));
	char *text = json_dumps(doc, 0);
	assert_int_equal(veil_audit_check_proof(text, strlen(text), pub, NULL, NULL), VEIL_E_CORRUPT);
	free(text);
	json_decref(doc);
	json_decref(ja);
	veil_buf_free(&pa);
	veil_buf_free(&pb);
	veil_audit_close(la);
	veil_audit_close(lb);

	/* A's head spliced into B's heads file: verify sees it does not match */
	int fa = open(a.heads, O_RDONLY), fb = open(b.heads, O_WRONLY);
	uint8_t rec[112];
	assert_int_equal(pread(fa, rec, sizeof rec, HEAD_OFF(2)), 112);
	assert_int_equal(pwrite(fb, rec, sizeof rec, HEAD_OFF(2)), 112);
	close(fa);
	close(fb);
	expect_problem(&b, VEIL_AUDIT_BAD_HEAD, 2, "a fork");
	scratch_free(&a);
	scratch_free(&b);
}

/* ---- several processes ---- */

typedef struct per_actor {
	uint64_t count[4], next[4];
	bool in_order;
} per_actor;

static veil_status count_actor(void *ctx, uint64_t index, const veil_audit_event *ev, veil_err *err)
{
	(void)index;
	(void)err;
	per_actor *p = ctx;
	int who = ev->actor[1] - '0';
	json_t *d = json_loads(ev->detail, 0, NULL);
	uint64_t seq = (uint64_t)json_integer_value(json_object_get(d, "seq"));
	json_decref(d);
	if (who < 0 || who > 3 || seq != p->next[who])
		p->in_order = false;
	else
		p->next[who]++;
	p->count[who < 0 || who > 3 ? 0 : who]++;
	return VEIL_OK;
}

static void writer_child(const char *dir, int who, int commits)
{
	char actor[4] = {'p', (char)('0' + who), 0}, detail[32];
	veil_audit *log;
	if (veil_audit_open(dir, seed, &log, NULL))
		_exit(2);
	for (int c = 0, seq = 0; c < commits; c++) {
		for (int k = 0; k < 2; k++, seq++) {
			snprintf(detail, sizeof detail, "{\"seq\":%d}", seq);
			veil_audit_event ev = {T0, actor, "job.step", "j", "ok", detail};
			if (veil_audit_append(log, &ev, NULL, NULL))
				_exit(3);
		}
		if (veil_audit_commit(log, NULL))
			_exit(4);
	}
	veil_audit_close(log);
	_exit(0);
}

static void test_processes(void **state)
{
	(void)state;
	scratch s;
	make_log(&s, 0, 1);
	pid_t pids[4];
	for (int i = 0; i < 4; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			writer_child(s.dir, i, 25);
	}
	for (int i = 0; i < 4; i++) {
		int ws;
		assert_int_equal(waitpid(pids[i], &ws, 0), pids[i]);
		assert_true(WIFEXITED(ws));
		assert_int_equal(WEXITSTATUS(ws), 0);
	}
	veil_audit_report rep;
	assert_int_equal(verify(&s, &rep), VEIL_OK);
	assert_int_equal(rep.leaves, 200);
	assert_int_equal(rep.heads, 101);
	veil_audit *log;
	assert_int_equal(veil_audit_open(s.dir, NULL, &log, NULL), VEIL_OK);
	per_actor p = {.in_order = true};
	assert_int_equal(veil_audit_read(log, 0, count_actor, &p, NULL), VEIL_OK);
	assert_true(p.in_order);
	for (int i = 0; i < 4; i++)
		assert_int_equal(p.count[i], 50);
	veil_audit_close(log);
	scratch_free(&s);
}

/* Appends and commits batches of 1..5 forever, writing the committed size
 * to fd after each commit. Events carry n == their index. */
static void crash_child(const char *dir, int fd, unsigned salt)
{
	veil_audit *log;
	if (veil_audit_open(dir, seed, &log, NULL))
		_exit(2);
	uint64_t next = veil_audit_size(log);
	for (unsigned round = salt;; round++) {
		for (unsigned k = 0; k <= round % 5; k++) {
			veil_audit_event ev = event_n(next);
			uint64_t idx;
			if (veil_audit_append(log, &ev, &idx, NULL) || idx != next)
				_exit(3);
			next++;
		}
		if (veil_audit_commit(log, NULL))
			_exit(4);
		uint8_t size[8];
		veil_put_be64(size, veil_audit_size(log));
		if (write(fd, size, sizeof size) != (ssize_t)sizeof size)
			_exit(5);
	}
}

static void test_crash(void **state)
{
	(void)state;
	scratch s;
	make_log(&s, 0, 1);
	uint64_t committed = 0;
	for (unsigned round = 0; round < 20; round++) {
		int fds[2];
		assert_int_equal(pipe(fds), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			crash_child(s.dir, fds[1], round);
		}
		close(fds[1]);
		/* 1..40 ms, spread so the kill lands at different steps */
		struct timespec t = {0, (long)(1 + (round * 7919) % 40) * 1000000L};
		nanosleep(&t, NULL);
		assert_int_equal(kill(pid, SIGKILL), 0);
		int ws;
		assert_int_equal(waitpid(pid, &ws, 0), pid);
		if (!WIFSIGNALED(ws))
			fail_msg("round %u: the writer exited with %d instead of being killed", round,
			         WEXITSTATUS(ws));
		uint8_t size[8];
		ssize_t r;
		while ((r = read(fds[0], size, sizeof size)) == (ssize_t)sizeof size)
			committed = veil_get_be64(size);
		close(fds[0]);

		veil_audit *log;
		veil_err e;
		if (veil_audit_open(s.dir, seed, &log, &e))
			fail_msg("round %u: reopening failed: %s", round, e.msg);
		uint64_t have = veil_audit_size(log);
		veil_audit_close(log);
		if (have < committed)
			fail_msg("round %u: %llu events committed but only %llu present", round,
			         (unsigned long long)committed, (unsigned long long)have);
		committed = have;
		veil_audit_report rep;
		if (verify(&s, &rep))
			fail_msg("round %u: verify: %s", round, rep.what);
		assert_int_equal(rep.uncommitted_bytes, 0);
	}
	veil_audit *log;
	assert_int_equal(veil_audit_open(s.dir, NULL, &log, NULL), VEIL_OK);
	collected c = {0};
	assert_int_equal(veil_audit_read(log, 0, collect, &c, NULL), VEIL_OK);
	assert_int_equal(c.count, committed);
	assert_int_equal(c.ns_ok, committed);
	assert_true(committed > 0);
	veil_audit_close(log);
	scratch_free(&s);
}

static off_t size_of(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? sb.st_size : -1;
}

/* In a child (the file size limit is per process): a commit that cannot
 * write its leaves fails, leaves the files as they were, and the handle
 * goes on working once there is room. Returns an exit code. */
static int commit_failure_child(const scratch *s)
{
	veil_audit *log;
	veil_err e;
	signal(SIGXFSZ, SIG_IGN);
	if (veil_audit_open(s->dir, seed, &log, NULL))
		return 2;
	off_t leaves = size_of(s->leaves), heads = size_of(s->heads);
	struct rlimit old, rl;
	getrlimit(RLIMIT_FSIZE, &old);
	rl = old;
	rl.rlim_cur = (rlim_t)leaves + 300;
	if (setrlimit(RLIMIT_FSIZE, &rl))
		return 3;
	for (uint64_t n = 3; n < 23; n++) {
		veil_audit_event ev = event_n(n);
		if (veil_audit_append(log, &ev, NULL, NULL))
			return 4;
	}
	if (veil_audit_commit(log, &e) != VEIL_E_NOSPACE ||
	    !strstr(e.msg, "20 audit events were not committed"))
		return 5;
	if (size_of(s->leaves) != leaves || size_of(s->heads) != heads || veil_audit_size(log) != 3)
		return 6;
	if (setrlimit(RLIMIT_FSIZE, &old))
		return 7;
	veil_audit_event ev = event_n(3);
	uint64_t idx;
	if (veil_audit_append(log, &ev, &idx, NULL) || idx != 3 || veil_audit_commit(log, NULL))
		return 8;
	veil_audit_close(log);
	return 0;
}

static void test_commit_failure(void **state)
{
	(void)state;
	scratch s;
	make_log(&s, 3, 3);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(commit_failure_child(&s));
	int ws;
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 0);
	veil_audit_report rep;
	assert_int_equal(verify(&s, &rep), VEIL_OK);
	assert_int_equal(rep.leaves, 4);
	assert_int_equal(rep.heads, 3);
	assert_int_equal(rep.uncommitted_bytes, 0);
	scratch_free(&s);
}

/* A writer holding the lock makes another wait, then proceed. */
static void test_lock_wait(void **state)
{
	(void)state;
	scratch s;
	make_log(&s, 1, 1);
	veil_audit *a, *b;
	assert_int_equal(veil_audit_open(s.dir, seed, &a, NULL), VEIL_OK);
	veil_audit_event ev = event_n(1);
	uint64_t idx;
	assert_int_equal(veil_audit_append(a, &ev, &idx, NULL), VEIL_OK); /* a holds the lock */
	assert_int_equal(idx, 1);
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		if (veil_audit_open(s.dir, seed, &b, NULL)) /* opening also waits for the lock */
			_exit(2);
		veil_audit_event e2 = event_n(2);
		if (veil_audit_append(b, &e2, &idx, NULL) || idx != 2 || veil_audit_commit(b, NULL))
			_exit(3);
		veil_audit_close(b);
		_exit(0);
	}
	close(fds[1]);
	struct timespec t = {0, 100 * 1000000L};
	nanosleep(&t, NULL);
	int ws;
	assert_int_equal(waitpid(pid, &ws, WNOHANG), 0); /* still waiting */
	assert_int_equal(veil_audit_commit(a, NULL), VEIL_OK);
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 0);
	close(fds[0]);
	veil_audit_close(a);
	veil_audit_report rep;
	assert_int_equal(verify(&s, &rep), VEIL_OK);
	assert_int_equal(rep.leaves, 3);
	scratch_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_create_open),  cmocka_unit_test(test_append_commit_read),
	        cmocka_unit_test(test_read_stops),   cmocka_unit_test(test_event_rules),
	        cmocka_unit_test(test_batch),        cmocka_unit_test(test_proofs),
	        cmocka_unit_test(test_proof_tamper), cmocka_unit_test(test_tamper_leaf),
	        cmocka_unit_test(test_tamper_heads), cmocka_unit_test(test_truncation),
	        cmocka_unit_test(test_torn_tail),    cmocka_unit_test(test_fork),
	        cmocka_unit_test(test_processes),    cmocka_unit_test(test_crash),
	        cmocka_unit_test(test_lock_wait),    cmocka_unit_test(test_commit_failure),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
