/*
 * veil_audit_verify: checks a whole log from its files alone, trusting
 * nothing in them, changing nothing, and names the first bad entry. It walks
 * the signed heads in order; for each it checks the signature, reads the
 * leaves the head adds (recomputing every leaf hash and parsing every
 * event), then checks that the head's root equals the root recomputed from
 * all leaves so far. Because every head is compared with the same single list of
 * leaves, each head is consistent with the one before it by construction.
 * Memory stays O(log n) however long the log: leaves stream through a
 * compact range.
 */
#include "audit_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct vctx {
	const char *dir;
	audit_paths paths;
	uint8_t pub[VEIL_ED25519_PUB_LEN];
	int leaves_fd, heads_fd;
	uint64_t nheads;
	veil_merkle mk;
	veil_merkle_stack stack;
	audit_reader rd;
	veil_audit_report *rep;
} vctx;

/* Records the first problem in the report and in err. */
static veil_status problem(vctx *v, veil_audit_problem what, uint64_t index, veil_err *err, const char *fmt,
                           ...) VEIL_PRINTF(5, 6);
static veil_status problem(vctx *v, veil_audit_problem what, uint64_t index, veil_err *err, const char *fmt,
                           ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->rep->what, sizeof v->rep->what, fmt, ap);
	va_end(ap);
	v->rep->problem = what;
	v->rep->index = index;
	veil_err_set(err, VEIL_E_CORRUPT, "the audit log in %s is not sound: %s", v->dir, v->rep->what);
	veil_err_hint(err,
	              "the log was damaged or tampered with; keep a copy, and compare its heads with heads "
	              "published elsewhere to see what an auditor saw");
	return VEIL_E_CORRUPT;
}

static veil_status check_key(vctx *v, const uint8_t *expected, veil_err *err)
{
	veil_status st = audit_pub_read(v->paths.pub, v->pub, err);
	if (st == VEIL_E_NOTFOUND && !expected)
		return problem(v, VEIL_AUDIT_BAD_FILE, 0, err, "log.pub is missing");
	if (st == VEIL_E_CORRUPT && !expected)
		return problem(v, VEIL_AUDIT_BAD_FILE, 0, err, "log.pub is damaged");
	if (!expected)
		return st;
	if (st == VEIL_OK && !veil_ct_equal(v->pub, expected, VEIL_ED25519_PUB_LEN))
		return problem(v, VEIL_AUDIT_BAD_FILE, 0, err,
		               "log.pub holds a different key than the log's");
	/* The caller's key wins: log.pub is only a copy of it, so a missing
	 * one does not make the log unsound. */
	veil_err_clear(err);
	memcpy(v->pub, expected, VEIL_ED25519_PUB_LEN);
	return VEIL_OK;
}

static veil_status open_one(vctx *v, const char *path, const char *what, const char *magic, int *fd,
                            veil_err *err)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0 && errno == ENOENT)
		return problem(v, VEIL_AUDIT_BAD_FILE, 0, err, "the %s file is missing", what);
	if (*fd < 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot open %s", path);
	veil_status st = audit_magic_check(*fd, magic, what, err);
	if (st == VEIL_E_CORRUPT)
		return problem(v, VEIL_AUDIT_BAD_FILE, 0, err, "the %s file's header is damaged", what);
	return st;
}

static veil_status open_files(vctx *v, veil_err *err)
{
	veil_status st = open_one(v, v->paths.heads, "heads", AUDIT_HEADS_MAGIC, &v->heads_fd, err);
	if (!st)
		st = open_one(v, v->paths.leaves, "leaves", AUDIT_LEAVES_MAGIC, &v->leaves_fd, err);
	if (st)
		return st;
	struct stat sb;
	if (fstat(v->heads_fd, &sb) != 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot stat %s", v->paths.heads);
	if ((st = audit_heads_count(v->heads_fd, (uint64_t)sb.st_size, 0, &v->nheads, err)))
		return st;
	v->rep->uncommitted_bytes = (uint64_t)sb.st_size - AUDIT_MAGIC_LEN - v->nheads * AUDIT_HEAD_LEN;
	if (v->nheads == 0)
		return problem(v, VEIL_AUDIT_BAD_FILE, 0, err, "heads file truncated: it holds no tree head");
	return audit_reader_init(&v->rd, v->leaves_fd, AUDIT_MAGIC_LEN, err);
}

/* Reads, rehashes and parses leaf i. */
static veil_status check_leaf(vctx *v, uint64_t i, uint64_t head, const veil_audit_sth *h, veil_err *err)
{
	audit_record rec;
	audit_rec_kind kind;
	veil_status st = audit_reader_next(&v->rd, &rec, &kind, err);
	if (st)
		return st;
	switch (kind) {
	case AUDIT_REC_OK:
		break;
	case AUDIT_REC_END:
		return problem(
		        v, VEIL_AUDIT_BAD_LEAF, i, err,
		        "leaves file truncated: leaf %llu is missing, but tree head %llu covers %llu leaves",
		        (unsigned long long)i, (unsigned long long)head, (unsigned long long)h->size);
	case AUDIT_REC_TORN:
		return problem(v, VEIL_AUDIT_BAD_LEAF, i, err,
		               "leaf %llu is cut short (the leaves file was truncated)",
		               (unsigned long long)i);
	case AUDIT_REC_BADLEN:
		return problem(v, VEIL_AUDIT_BAD_LEAF, i, err,
		               "leaf %llu's record is damaged (its length field reads %lu)",
		               (unsigned long long)i, (unsigned long)rec.raw_len);
	}
	uint8_t hash[VEIL_AUDIT_HASH_LEN];
	if ((st = veil_merkle_leaf(&v->mk, rec.leaf, rec.len, hash, err)))
		return st;
	if (!veil_ct_equal(hash, rec.hash, sizeof hash))
		return problem(v, VEIL_AUDIT_BAD_LEAF, i, err,
		               "leaf %llu was modified: its bytes do not match its hash",
		               (unsigned long long)i);
	audit_decoded d;
	veil_err e;
	if (audit_event_decode(rec.leaf, rec.len, &d, &e))
		return problem(v, VEIL_AUDIT_BAD_LEAF, i, err, "leaf %llu is not a valid audit event: %s",
		               (unsigned long long)i, e.msg);
	audit_decoded_free(&d);
	if ((st = veil_merkle_stack_push(&v->mk, &v->stack, hash, err)))
		return st;
	v->rep->leaves = i + 1;
	return VEIL_OK;
}

static veil_status check_head(vctx *v, uint64_t i, const veil_audit_sth *prev, veil_err *err)
{
	uint8_t rec[AUDIT_HEAD_LEN], root[VEIL_AUDIT_HASH_LEN];
	size_t got = 0;
	veil_audit_sth h;
	veil_status st = audit_pread_all(v->heads_fd, rec, sizeof rec, AUDIT_MAGIC_LEN + i * AUDIT_HEAD_LEN,
	                                 &got, err);
	if (st)
		return st;
	if (got != sizeof rec)
		return problem(v, VEIL_AUDIT_BAD_HEAD, i, err,
		               "heads file truncated while being read, at head %llu", (unsigned long long)i);
	audit_head_decode(rec, &h);
	if (!prev && h.size != 0)
		return problem(v, VEIL_AUDIT_BAD_HEAD, i, err,
		               "tree head 0 has size %llu, not 0: the start of the heads file is missing",
		               (unsigned long long)h.size);
	if (prev && h.size <= prev->size)
		return problem(
		        v, VEIL_AUDIT_BAD_HEAD, i, err,
		        "tree head %llu (size %llu) does not grow the log (the head before has size %llu)",
		        (unsigned long long)i, (unsigned long long)h.size, (unsigned long long)prev->size);
	/* The signature first: a damaged size must not read as missing leaves. */
	if (veil_audit_sth_verify(v->pub, &h, NULL) != VEIL_OK)
		return problem(v, VEIL_AUDIT_BAD_HEAD, i, err, "tree head %llu (size %llu) signature invalid",
		               (unsigned long long)i, (unsigned long long)h.size);
	if (prev && h.timestamp < prev->timestamp)
		return problem(v, VEIL_AUDIT_BAD_HEAD, i, err,
		               "tree head %llu is dated before the head preceding it", (unsigned long long)i);
	for (uint64_t l = v->stack.size; l < h.size; l++)
		if ((st = check_leaf(v, l, i, &h, err)))
			return st;
	if ((st = veil_merkle_stack_root(&v->mk, &v->stack, root, err)))
		return st;
	if (!veil_ct_equal(root, h.root, sizeof root))
		return problem(v, VEIL_AUDIT_BAD_HEAD, i, err,
		               "tree head %llu (size %llu) does not match the leaves: leaves %llu..%llu were "
		               "changed, "
		               "or the head was signed over a different history (a fork)",
		               (unsigned long long)i, (unsigned long long)h.size,
		               (unsigned long long)(prev ? prev->size : 0),
		               (unsigned long long)(h.size ? h.size - 1 : 0));
	v->rep->heads = i + 1;
	v->rep->last = h;
	return VEIL_OK;
}

static veil_status walk(vctx *v, veil_err *err)
{
	veil_audit_sth prev = {0};
	veil_status st = VEIL_OK;
	for (uint64_t i = 0; !st && i < v->nheads; i++) {
		st = check_head(v, i, i ? &prev : NULL, err);
		prev = v->rep->last;
	}
	if (st)
		return st;
	struct stat sb;
	if (fstat(v->leaves_fd, &sb) != 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot stat %s", v->paths.leaves);
	uint64_t used = audit_reader_tell(&v->rd);
	if ((uint64_t)sb.st_size > used)
		v->rep->uncommitted_bytes += (uint64_t)sb.st_size - used;
	return VEIL_OK;
}

veil_status veil_audit_verify(const char *dir, const uint8_t *pub, veil_audit_report *report, veil_err *err)
{
	if (!dir || !report)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "verifying an audit log needs a folder and a report");
	memset(report, 0, sizeof *report);
	vctx v = {.dir = dir, .leaves_fd = -1, .heads_fd = -1, .rep = report};
	veil_status st = audit_paths_make(dir, &v.paths, err);
	if (st)
		return st;
	if (!veil_fs_is_dir(dir) || (!veil_fs_exists(v.paths.pub) && !veil_fs_exists(v.paths.heads) &&
	                             !veil_fs_exists(v.paths.leaves))) {
		veil_err_set(err, VEIL_E_NOTFOUND, "%s holds no audit log", dir);
		veil_err_hint(err, "check the workspace path; a workspace's log is in its audit/ folder");
		return VEIL_E_NOTFOUND;
	}
	if ((st = veil_merkle_init(&v.mk, err)))
		return st;
	st = check_key(&v, pub, err);
	if (!st)
		st = open_files(&v, err);
	if (!st)
		st = walk(&v, err);
	audit_reader_free(&v.rd);
	veil_merkle_free(&v.mk);
	if (v.leaves_fd >= 0)
		close(v.leaves_fd);
	if (v.heads_fd >= 0)
		close(v.heads_fd);
	return st;
}
