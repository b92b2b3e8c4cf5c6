/*
 * Fuzz target: the audit log's files as read from an untrusted disk, through
 * both of their readers: veil_audit_verify (the whole-log check, verify.c)
 * and the read-only veil_audit_open (log.c), then veil_audit_read and a
 * proof from the opened log. A valid log is made once in a scratch folder
 * (audit_base.c: events 0..4, heads of sizes 0, 2, 3 and 5); each input
 * then replaces one or two of its files.
 *
 * Input: byte 0 is the mode, the rest the file bytes.
 *   bits 0-1: 0 the leaves file, 1 the heads file, 2 log.pub, 3 both heads
 *             and leaves: a big-endian u16 heads length, the heads, then the
 *             leaves;
 *   bit 2:    fix up what the fuzzer cannot compute: each whole leaf record
 *             gets its true check hash and each head a valid signature by the
 *             log's key (as a malicious log holding its key could write),
 *             (see fix_heads);
 *   bit 3:    verify with the log's key given (else trusting log.pub).
 *
 * Invariants (abort on violation): every failure has an error message, and
 * when veil_audit_verify trusting log.pub finds the log sound, the read-only
 * open succeeds and agrees with its report, every event reads back, and an
 * inclusion proof of the last event checks out.
 */
#include "fuzz.h"
#include "audit_base.h"
#include "audit_int.h"

#include <stdlib.h>
#include <string.h>

#define HEADS_FIX_MAX 32 /* heads re-signed per input, to keep iterations fast */

static veil_buf base_leaves, base_heads, base_pub;
static char dir[4096];
static uint8_t log_pub[VEIL_ED25519_PUB_LEN];

static void make_base(void)
{
	char made[4096];
	fuzz_subdir("base", made, sizeof made);
	veil_audit_close(fuzz_audit_base_log(made));
	audit_paths p;
	FUZZ_CHECK(audit_paths_make(made, &p, NULL) == VEIL_OK, "base log paths");
	FUZZ_CHECK(veil_fs_read_file(p.leaves, 1u << 20, &base_leaves, NULL) == VEIL_OK &&
	                   veil_fs_read_file(p.heads, 1u << 20, &base_heads, NULL) == VEIL_OK &&
	                   veil_fs_read_file(p.pub, 4096, &base_pub, NULL) == VEIL_OK,
	           "cannot read the base log");
}

static void setup(void)
{
	static bool done;
	if (done)
		return;
	make_base();
	fuzz_subdir("log", dir, sizeof dir);
	FUZZ_CHECK(veil_ed25519_public(fuzz_audit_seed, log_pub, NULL) == VEIL_OK, "log key");
	done = true;
}

/* Gives every whole leaf record its true check hash, SHA-256(0x00 || leaf). */
static void fix_leaves(uint8_t *b, size_t n)
{
	veil_merkle mk;
	FUZZ_CHECK(veil_merkle_init(&mk, NULL) == VEIL_OK, "merkle init");
	size_t off = AUDIT_MAGIC_LEN;
	while (off + 4 <= n) {
		uint32_t len = veil_get_be32(b + off);
		if (len == 0 || len > VEIL_AUDIT_LEAF_MAX || n - off - 4 < (size_t)len + VEIL_AUDIT_HASH_LEN)
			break;
		FUZZ_CHECK(veil_merkle_leaf(&mk, b + off + 4, len, b + off + 4 + len, NULL) == VEIL_OK,
		           "leaf hash");
		off += AUDIT_REC_OVERHEAD + len;
	}
	veil_merkle_free(&mk);
}

/* Signs every whole head record (up to HEADS_FIX_MAX) with the log's key,
 * so mutations reach the checks behind the signature: among them, a signed
 * head that claims far more leaves than the leaves file holds (fuzz/README.md,
 * "Findings"). */
static void fix_heads(uint8_t *b, size_t n)
{
	for (size_t i = 0, off = AUDIT_MAGIC_LEN; i < HEADS_FIX_MAX && off + AUDIT_HEAD_LEN <= n;
	     i++, off += AUDIT_HEAD_LEN) {
		veil_audit_sth h;
		audit_head_decode(b + off, &h);
		FUZZ_CHECK(audit_sth_sign(fuzz_audit_seed, &h, NULL) == VEIL_OK, "cannot sign a head");
		audit_head_encode(&h, b + off);
	}
}

/* Writes the three files: the input's in place of the base's. */
static void write_log(const uint8_t *data, size_t size, unsigned mode)
{
	uint8_t *copy = malloc(size ? size : 1);
	FUZZ_CHECK(copy != NULL, "out of memory");
	if (size)
		memcpy(copy, data, size);
	uint8_t *heads = base_heads.data, *leaves = base_leaves.data, *pub = base_pub.data;
	size_t nheads = base_heads.len, nleaves = base_leaves.len, npub = base_pub.len;
	bool fix = mode & 4;
	if ((mode & 3) == 0) {
		leaves = copy;
		nleaves = size;
	} else if ((mode & 3) == 1) {
		heads = copy;
		nheads = size;
	} else if ((mode & 3) == 2) {
		pub = copy;
		npub = size;
	} else {
		size_t rest = size >= 2 ? size - 2 : 0, hl = size >= 2 ? veil_get_be16(copy) : 0;
		nheads = hl < rest ? hl : rest;
		nleaves = rest - nheads;
		heads = copy + (size >= 2 ? 2 : 0);
		leaves = heads + nheads;
	}
	if (fix && leaves != base_leaves.data)
		fix_leaves(leaves, nleaves);
	if (fix && heads != base_heads.data)
		fix_heads(heads, nheads);
	fuzz_put_file(dir, AUDIT_LEAVES_FILE, leaves, nleaves);
	fuzz_put_file(dir, AUDIT_HEADS_FILE, heads, nheads);
	fuzz_put_file(dir, AUDIT_PUB_FILE, pub, npub);
	free(copy);
}

static veil_status count_event(void *ctx, uint64_t index, const veil_audit_event *ev, veil_err *err)
{
	uint64_t *n = ctx;
	FUZZ_CHECK(index == *n, "events read out of order");
	FUZZ_CHECK(ev->actor && ev->action && ev->resource && ev->outcome,
	           "an event read back without its fields");
	(*n)++;
	return VEIL_OK;
}

/* What a sound log must allow: everything the report says, read back. */
static void check_sound(veil_audit *log, const veil_audit_report *rep)
{
	uint64_t n = 0;
	veil_audit_sth last;
	FUZZ_CHECK(veil_audit_size(log) == rep->last.size && rep->leaves == rep->last.size,
	           "open and verify disagree on the log's size");
	FUZZ_CHECK(veil_audit_head_count(log) == rep->heads, "open and verify disagree on the heads");
	FUZZ_CHECK(veil_audit_head(log, rep->heads - 1, &last, NULL) == VEIL_OK &&
	                   memcmp(&last, &rep->last, sizeof last) == 0,
	           "open and verify disagree on the last head");
	FUZZ_CHECK(veil_audit_read(log, 0, count_event, &n, NULL) == VEIL_OK && n == rep->leaves,
	           "a sound log's events do not read back");
	if (n == 0)
		return;
	veil_buf proof = {0};
	uint8_t pub[VEIL_ED25519_PUB_LEN];
	veil_audit_public_key(log, pub);
	FUZZ_CHECK(veil_audit_prove_inclusion(log, n - 1, 0, &proof, NULL) == VEIL_OK,
	           "a sound log cannot prove");
	FUZZ_CHECK(veil_audit_check_proof((const char *)proof.data, proof.len, pub, NULL, NULL) == VEIL_OK,
	           "a sound log's proof does not check out");
	veil_buf_free(&proof);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	unsigned mode = size ? data[0] : 0;
	write_log(size ? data + 1 : data, size ? size - 1 : 0, mode);

	veil_audit_report rep;
	veil_err err = {0};
	veil_status vst = veil_audit_verify(dir, mode & 8 ? log_pub : NULL, &rep, &err);
	fuzz_note("verify", vst, &err);
	if (vst)
		FUZZ_CHECK(err.code == vst && err.msg[0] != '\0', "verify failed without an error message");
	else
		FUZZ_CHECK(rep.problem == VEIL_AUDIT_SOUND && rep.heads >= 1,
		           "a sound report with a problem");

	veil_audit *log = NULL;
	veil_err oerr = {0};
	veil_status ost = veil_audit_open(dir, NULL, &log, &oerr);
	fuzz_note("open", ost, &oerr);
	if (ost) {
		FUZZ_CHECK(oerr.code == ost && oerr.msg[0] != '\0' && log == NULL,
		           "open failed without an error message");
		FUZZ_CHECK(vst != VEIL_OK || (mode & 8), "a log that verifies does not open");
		return 0;
	}
	if (vst == VEIL_OK && !(mode & 8)) {
		check_sound(log, &rep);
	} else {
		/* Not known to be sound: reading may fail, but must not crash. */
		uint64_t n = 0;
		veil_buf proof = {0};
		veil_status ignored = veil_audit_read(log, 0, count_event, &n, NULL);
		if (veil_audit_size(log) && veil_audit_prove_inclusion(log, 0, 0, &proof, NULL) == VEIL_OK)
			ignored = veil_audit_check_proof((const char *)proof.data, proof.len, log_pub, NULL,
			                                 NULL);
		(void)ignored;
		veil_buf_free(&proof);
	}
	veil_audit_close(log);
	return 0;
}
