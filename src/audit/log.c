/*
 * The audit log handle: creating a log, opening one (loading its leaf hashes
 * and heads, and removing what an interrupted commit left), appending events
 * in batches under the folder's lock, committing them with one fsync for the
 * leaves and one for the signed head, and reading events back.
 *
 * Invariants, cited in the code as (I1)..(I4):
 *  (I1) Every leaf a signed head covers is on disk before that head: commit
 *       fsyncs the leaves, then writes the head, then fsyncs the heads.
 *  (I2) Whatever lies beyond the last head (leaf records, a partial head) was
 *       never committed. Only a writer holding the lock removes it; readers
 *       ignore it.
 *  (I3) In memory, hashes[0..n) and offsets[0..n) are the leaves that
 *       heads[nheads-1] covers, stack is their compact range, and leaves_end
 *       is the offset just past leaf n-1. The batch lives after them.
 *  (I4) A batch exists only while the lock is held: the first append takes
 *       it, commit and close release it, so indices given out are final.
 */
#include "audit_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char corrupt_hint[] =
        "run `veil audit verify` to find the first bad entry, and keep a copy of the log";

/* ---- creation ---- */

static veil_status create_files(const audit_paths *p, const uint8_t seed[VEIL_ED25519_SEED_LEN],
                                veil_err *err)
{
	veil_merkle mk;
	veil_audit_sth sth = {.size = 0, .timestamp = veil_time_now()};
	uint8_t pub[VEIL_ED25519_PUB_LEN], heads[AUDIT_MAGIC_LEN + AUDIT_HEAD_LEN];
	char hex[2 * VEIL_ED25519_PUB_LEN + 2];
	veil_status st = veil_merkle_init(&mk, err);
	if (st)
		return st;
	st = veil_merkle_empty(&mk, sth.root, err);
	veil_merkle_free(&mk);
	if (!st)
		st = veil_ed25519_public(seed, pub, err);
	if (!st)
		st = audit_sth_sign(seed, &sth, err);
	if (st)
		return st;
	/* The magic is 8 bytes without a NUL, by design. */
	memcpy(heads, AUDIT_HEADS_MAGIC, AUDIT_MAGIC_LEN); // NOLINT(bugprone-not-null-terminated-result)
	audit_head_encode(&sth, heads + AUDIT_MAGIC_LEN);
	veil_hex_encode(pub, sizeof pub, hex);
	hex[2 * VEIL_ED25519_PUB_LEN] = '\n';
	/* log.pub last: its presence says the log is complete. */
	st = veil_fs_write_new(p->leaves, AUDIT_LEAVES_MAGIC, AUDIT_MAGIC_LEN, 0600, err);
	if (!st && (st = veil_fs_write_new(p->heads, heads, sizeof heads, 0600, err)))
		unlink(p->leaves);
	if (!st && (st = veil_fs_write_new(p->pub, hex, sizeof hex - 1, 0644, err))) {
		unlink(p->leaves);
		unlink(p->heads);
	}
	return st;
}

veil_status veil_audit_create(const char *dir, const uint8_t seed[VEIL_ED25519_SEED_LEN], veil_err *err)
{
	if (!dir || !seed)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "creating an audit log needs a folder and a signing seed");
	audit_paths p;
	veil_status st = audit_paths_make(dir, &p, err);
	if (!st)
		st = veil_fs_mkdirs(dir, 0700, err);
	if (st)
		return st;
	if (veil_fs_exists(p.pub) || veil_fs_exists(p.leaves) || veil_fs_exists(p.heads)) {
		veil_err_set(err, VEIL_E_EXISTS, "%s already holds an audit log", dir);
		veil_err_hint(err, "open the existing log, or create the new one in an empty folder");
		return VEIL_E_EXISTS;
	}
	return create_files(&p, seed, err);
}

/* ---- the lock (I4) ---- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static veil_status lock_take(veil_audit *log, veil_err *err)
{
	int64_t deadline = now_ms() + VEIL_AUDIT_LOCK_WAIT_MS;
	for (;;) {
		if (flock(log->lock_fd, LOCK_EX | LOCK_NB) == 0) {
			log->locked = true;
			return VEIL_OK;
		}
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return veil_err_errno(err, VEIL_E_IO, errno, "cannot lock %s", log->paths.lock);
		if (now_ms() >= deadline) {
			veil_err_set(err, VEIL_E_BUSY,
			             "the audit log is locked by another process (waited %d s)",
			             VEIL_AUDIT_LOCK_WAIT_MS / 1000);
			veil_err_hint(err,
			              "another veil process is committing audit events; retry, or look for a "
			              "stuck process that holds %s",
			              log->paths.lock);
			return VEIL_E_BUSY;
		}
		struct timespec pause = {.tv_sec = 0, .tv_nsec = 2 * 1000 * 1000};
		nanosleep(&pause, NULL);
	}
}

static void lock_drop(veil_audit *log)
{
	if (log->locked)
		flock(log->lock_fd, LOCK_UN);
	log->locked = false;
}

/* ---- loading (I2, I3) ---- */

static veil_status reserve_leaves(veil_audit *log, uint64_t need, veil_err *err)
{
	if (need <= log->cap && log->hashes && log->offsets)
		return VEIL_OK;
	if (need > SIZE_MAX / 2 / VEIL_AUDIT_HASH_LEN)
		return veil_err_set(err, VEIL_E_LIMIT,
		                    "the audit log is too large for this machine's memory");
	size_t cap = log->cap ? log->cap : 1024;
	while (cap < need)
		cap *= 2;
	void *h = realloc(log->hashes, cap * VEIL_AUDIT_HASH_LEN);
	if (h)
		log->hashes = h;
	void *o = h ? realloc(log->offsets, cap * sizeof *log->offsets) : NULL;
	if (!o)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory holding %zu audit leaf hashes", cap);
	log->offsets = o;
	log->cap = cap;
	return VEIL_OK;
}

static veil_status reserve_heads(veil_audit *log, size_t need, veil_err *err)
{
	if (need <= log->heads_cap && log->heads)
		return VEIL_OK;
	if (need > SIZE_MAX / 2 / sizeof *log->heads)
		return veil_err_set(err, VEIL_E_LIMIT, "the audit log has too many tree heads");
	size_t cap = log->heads_cap ? log->heads_cap : 64;
	while (cap < need)
		cap *= 2;
	veil_audit_sth *h = realloc(log->heads, cap * sizeof *h);
	if (!h)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory holding %zu audit tree heads", cap);
	log->heads = h;
	log->heads_cap = cap;
	return VEIL_OK;
}

static veil_status corrupt(veil_err *err, const char *fmt, ...) VEIL_PRINTF(2, 3);
static veil_status corrupt(veil_err *err, const char *fmt, ...)
{
	if (!err)
		return VEIL_E_CORRUPT;
	char msg[VEIL_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	veil_err_set(err, VEIL_E_CORRUPT, "%s", msg);
	veil_err_hint(err, "%s", corrupt_hint);
	return VEIL_E_CORRUPT;
}

/* Checks that head i may follow the head before it. */
static veil_status head_order(const veil_audit *log, size_t i, veil_err *err)
{
	const veil_audit_sth *h = &log->heads[i];
	if (i == 0)
		return h->size == 0 ? VEIL_OK
		                    : corrupt(err,
		                              "tree head 0 has size %llu, but a log's first head is its "
		                              "empty tree",
		                              (unsigned long long)h->size);
	const veil_audit_sth *prev = &log->heads[i - 1];
	if (h->size <= prev->size)
		return corrupt(err, "tree head %zu (size %llu) does not grow the log", i,
		               (unsigned long long)h->size);
	if (h->timestamp < prev->timestamp)
		return corrupt(err, "tree head %zu (size %llu) is dated before the head preceding it", i,
		               (unsigned long long)h->size);
	return VEIL_OK;
}

/* Reads heads [nheads, *complete) into log->heads without counting them yet.
 * A partial or zero-filled head at the end is an interrupted commit (I2): a
 * locked writer cuts it off. */
static veil_status load_heads(veil_audit *log, size_t *complete, veil_err *err)
{
	struct stat sb;
	if (fstat(log->heads_fd, &sb) != 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot stat %s", log->paths.heads);
	uint64_t hs = (uint64_t)sb.st_size;
	if (hs < AUDIT_MAGIC_LEN + AUDIT_HEAD_LEN)
		return corrupt(err, "the audit heads file holds no tree head (it is %llu bytes long)",
		               (unsigned long long)hs);
	uint64_t whole = 0;
	veil_status st = audit_heads_count(log->heads_fd, hs, log->nheads, &whole, err);
	if (st)
		return st;
	if (whole == 0)
		return corrupt(err, "the audit heads file holds no tree head (only zeros)");
	if (whole < log->nheads || whole > SIZE_MAX / 2)
		return corrupt(err, "the audit heads file lost tree heads while open (%llu of %llu remain)",
		               (unsigned long long)whole, (unsigned long long)log->nheads);
	uint64_t keep = AUDIT_MAGIC_LEN + whole * AUDIT_HEAD_LEN;
	if (keep != hs && log->locked &&
	    (ftruncate(log->heads_fd, (off_t)keep) != 0 || fdatasync(log->heads_fd) != 0))
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot remove an interrupted commit from %s",
		                      log->paths.heads);
	st = reserve_heads(log, (size_t)whole, err);
	for (size_t i = log->nheads; !st && i < whole; i++) {
		uint8_t rec[AUDIT_HEAD_LEN];
		size_t got = 0;
		st = audit_pread_all(log->heads_fd, rec, sizeof rec,
		                     AUDIT_MAGIC_LEN + (uint64_t)i * AUDIT_HEAD_LEN, &got, err);
		if (!st && got != sizeof rec)
			st = corrupt(err, "the audit heads file shrank while being read (at head %zu)", i);
		if (st)
			break;
		audit_head_decode(rec, &log->heads[i]);
		st = head_order(log, i, err);
	}
	*complete = (size_t)whole;
	return st;
}

/* Adds the committed leaf records up to `size` from the leaves file. The
 * stored check hashes are trusted here; veil_audit_verify and read recompute
 * them. */
static veil_status load_leaves(veil_audit *log, audit_reader *r, uint64_t size, size_t head, veil_err *err)
{
	/* A head's size is only a claim until the leaves are read: reserve no
	 * more than the rest of the file can hold (each record is at least
	 * AUDIT_REC_OVERHEAD + 1 bytes), so a forged huge size cannot make us
	 * allocate without bound. Found by fuzz/fuzz_audit_files.c. */
	struct stat sb;
	if (fstat(r->fd, &sb) != 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot read the audit leaves file");
	uint64_t left =
	        (uint64_t)sb.st_size > audit_reader_tell(r) ? (uint64_t)sb.st_size - audit_reader_tell(r) : 0;
	if (size > log->n && size - log->n > left / (AUDIT_REC_OVERHEAD + 1))
		return corrupt(err,
		               "tree head %zu claims %llu events, more than the audit leaves file can hold",
		               head, (unsigned long long)size);
	veil_status st = reserve_leaves(log, size, err);
	while (!st && log->n < size) {
		audit_record rec;
		audit_rec_kind kind;
		if ((st = audit_reader_next(r, &rec, &kind, err)))
			break;
		if (kind != AUDIT_REC_OK)
			return corrupt(
			        err,
			        "the audit leaves file is cut short or damaged at leaf %llu, which tree head "
			        "%llu covers",
			        (unsigned long long)log->n, (unsigned long long)head);
		memcpy(log->hashes[log->n], rec.hash, VEIL_AUDIT_HASH_LEN);
		log->offsets[log->n] = rec.offset;
		st = veil_merkle_stack_push(&log->mk, &log->stack, rec.hash, err);
		log->n++;
		log->leaves_end = rec.end;
	}
	return st;
}

/* Catches up with the files: new heads and the leaves they cover, each
 * head's root checked against the leaves, the newest head's signature
 * checked. A locked writer also removes an interrupted commit (I2). On
 * failure the handle is inconsistent and must not be used again. */
static veil_status load(veil_audit *log, veil_err *err)
{
	size_t complete = 0;
	veil_status st = load_heads(log, &complete, err);
	if (st)
		return st;
	/* The newest head's signature first: it vouches for all the others. */
	if (complete > log->nheads &&
	    veil_audit_sth_verify(log->pub, &log->heads[complete - 1], NULL) != VEIL_OK)
		return corrupt(err, "the signature on tree head %zu (size %llu) is not valid", complete - 1,
		               (unsigned long long)log->heads[complete - 1].size);
	audit_reader r;
	if (complete > log->nheads && !(st = audit_reader_init(&r, log->leaves_fd, log->leaves_end, err))) {
		for (size_t h = log->nheads; !st && h < complete; h++) {
			uint8_t root[VEIL_AUDIT_HASH_LEN];
			st = load_leaves(log, &r, log->heads[h].size, h, err);
			if (!st)
				st = veil_merkle_stack_root(&log->mk, &log->stack, root, err);
			if (!st && !veil_ct_equal(root, log->heads[h].root, VEIL_AUDIT_HASH_LEN))
				st = corrupt(err,
				             "tree head %llu (size %llu) does not match the audit leaves",
				             (unsigned long long)h, (unsigned long long)log->heads[h].size);
		}
		audit_reader_free(&r);
		if (!st)
			log->nheads = complete;
	}
	if (st || !log->locked)
		return st;
	struct stat sb;
	if (fstat(log->leaves_fd, &sb) != 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot stat %s", log->paths.leaves);
	if ((uint64_t)sb.st_size > log->leaves_end &&
	    (ftruncate(log->leaves_fd, (off_t)log->leaves_end) != 0 || fdatasync(log->leaves_fd) != 0))
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot remove an interrupted commit from %s",
		                      log->paths.leaves);
	return VEIL_OK;
}

/* ---- open and close ---- */

static veil_status open_file(const char *path, bool rw, int *fd, veil_err *err)
{
	*fd = open(path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot open %s", path);
	return VEIL_OK;
}

static veil_status read_key(veil_audit *log, const char *dir, const uint8_t *seed, veil_err *err)
{
	veil_status st = audit_pub_read(log->paths.pub, log->pub, err);
	if (st == VEIL_E_NOTFOUND) {
		bool partial = veil_fs_exists(log->paths.heads) || veil_fs_exists(log->paths.leaves);
		veil_err_set(err, partial ? VEIL_E_CORRUPT : VEIL_E_NOTFOUND, "%s %s", dir,
		             partial ? "has audit files but no log.pub" : "holds no audit log");
		veil_err_hint(
		        err,
		        partial ? "restore log.pub from a backup; if the log's creation was interrupted, "
		                  "move the folder aside and create the log again"
		                : "create the log first (veil init creates the workspace's)");
		return partial ? VEIL_E_CORRUPT : VEIL_E_NOTFOUND;
	}
	if (st || !seed)
		return st;
	uint8_t pub[VEIL_ED25519_PUB_LEN];
	if ((st = veil_ed25519_public(seed, pub, err)))
		return st;
	if (!veil_ct_equal(pub, log->pub, sizeof pub)) {
		veil_err_set(err, VEIL_E_KEY, "the signing seed given does not belong to the audit log in %s",
		             dir);
		veil_err_hint(err, "use the audit key the KMS holds for this workspace");
		return VEIL_E_KEY;
	}
	if (!(log->seed = veil_secure_alloc(VEIL_ED25519_SEED_LEN)))
		return veil_err_set(err, VEIL_E_NOMEM, "out of secure memory for the audit signing key");
	memcpy(log->seed, seed, VEIL_ED25519_SEED_LEN);
	log->writable = true;
	return VEIL_OK;
}

static veil_status open_files(veil_audit *log, veil_err *err)
{
	veil_status st = open_file(log->paths.leaves, log->writable, &log->leaves_fd, err);
	if (!st)
		st = open_file(log->paths.heads, log->writable, &log->heads_fd, err);
	if (!st)
		st = audit_magic_check(log->leaves_fd, AUDIT_LEAVES_MAGIC, "leaves", err);
	if (!st)
		st = audit_magic_check(log->heads_fd, AUDIT_HEADS_MAGIC, "heads", err);
	if (st || !log->writable)
		return st;
	log->lock_fd = open(log->paths.lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (log->lock_fd < 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot open %s", log->paths.lock);
	return VEIL_OK;
}

veil_status veil_audit_open(const char *dir, const uint8_t *seed, veil_audit **out, veil_err *err)
{
	if (!out || !dir)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "opening an audit log needs a folder and a place for the handle");
	*out = NULL;
	veil_audit *log = calloc(1, sizeof *log);
	if (!log)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory opening the audit log");
	log->leaves_fd = log->heads_fd = log->lock_fd = -1;
	log->leaves_end = AUDIT_MAGIC_LEN;
	veil_status st = audit_paths_make(dir, &log->paths, err);
	if (!st)
		st = read_key(log, dir, seed, err);
	if (!st)
		st = open_files(log, err);
	if (!st)
		st = veil_merkle_init(&log->mk, err);
	if (!st && log->writable)
		st = lock_take(log, err);
	if (!st)
		st = load(log, err);
	lock_drop(log);
	if (st) {
		veil_audit_close(log);
		return st;
	}
	*out = log;
	return VEIL_OK;
}

static void discard_batch(veil_audit *log)
{
	log->pending.len = 0;
	log->npending = 0;
}

void veil_audit_close(veil_audit *log)
{
	if (!log)
		return;
	discard_batch(log);
	lock_drop(log);
	if (log->leaves_fd >= 0)
		close(log->leaves_fd);
	if (log->heads_fd >= 0)
		close(log->heads_fd);
	if (log->lock_fd >= 0)
		close(log->lock_fd);
	veil_secure_free(log->seed, VEIL_ED25519_SEED_LEN);
	veil_merkle_free(&log->mk);
	veil_buf_free(&log->pending);
	free(log->hashes);
	free(log->offsets);
	free(log->heads);
	free(log);
}

static veil_status usable(const veil_audit *log, bool write, veil_err *err)
{
	if (!log)
		return veil_err_set(err, VEIL_E_INVALID, "no audit log handle given");
	if (log->broken) {
		veil_err_set(err, VEIL_E_IO, "this audit log handle failed earlier and cannot be used");
		veil_err_hint(err, "close the log and open it again");
		return VEIL_E_IO;
	}
	if (write && !log->writable) {
		veil_err_set(err, VEIL_E_INVALID, "the audit log was opened read-only");
		veil_err_hint(err, "open it with the log's signing seed to append events");
		return VEIL_E_INVALID;
	}
	return VEIL_OK;
}

/* ---- appending (I1, I4) ---- */

/* Takes the lock and catches up with other writers' commits. */
static veil_status begin_batch(veil_audit *log, veil_err *err)
{
	veil_status st = lock_take(log, err);
	if (st)
		return st;
	if ((st = load(log, err))) {
		log->broken = true;
		lock_drop(log);
	}
	return st;
}

static veil_status add_record(veil_audit *log, const veil_buf *leaf, uint64_t *index, veil_err *err)
{
	uint8_t hash[VEIL_AUDIT_HASH_LEN], len[4];
	uint64_t i = log->n + log->npending;
	veil_status st = reserve_leaves(log, i + 1, err);
	if (!st)
		st = veil_merkle_leaf(&log->mk, leaf->data, leaf->len, hash, err);
	if (!st) /* room for the whole record (and the NUL veil_buf keeps), so the appends cannot fail */
		st = veil_buf_reserve(&log->pending, AUDIT_REC_OVERHEAD + leaf->len + 1, err);
	if (st)
		return st;
	uint64_t off = log->leaves_end + log->pending.len;
	veil_put_be32(len, (uint32_t)leaf->len);
	if (veil_buf_append(&log->pending, len, 4, NULL) ||
	    veil_buf_append(&log->pending, leaf->data, leaf->len, NULL) ||
	    veil_buf_append(&log->pending, hash, sizeof hash, NULL))
		return veil_err_set(err, VEIL_E_INTERNAL, "a reserved audit buffer could not take a record");
	memcpy(log->hashes[i], hash, sizeof hash);
	log->offsets[i] = off;
	log->npending++;
	if (index)
		*index = i;
	return VEIL_OK;
}

veil_status veil_audit_append(veil_audit *log, const veil_audit_event *ev, uint64_t *index, veil_err *err)
{
	veil_status st = usable(log, true, err);
	if (st)
		return st;
	veil_buf leaf = {0};
	if ((st = audit_event_encode(ev, veil_time_now(), &leaf, err)))
		goto cleanup;
	if (log->pending.len + AUDIT_REC_OVERHEAD + leaf.len > VEIL_AUDIT_BATCH_MAX) {
		veil_err_set(err, VEIL_E_LIMIT, "the pending audit batch is full (%u bytes)",
		             VEIL_AUDIT_BATCH_MAX);
		veil_err_hint(err, "commit the batch before appending more events");
		st = VEIL_E_LIMIT;
		goto cleanup;
	}
	if (!log->locked && (st = begin_batch(log, err)))
		goto cleanup;
	st = add_record(log, &leaf, index, err);
	if (st && log->npending == 0)
		lock_drop(log);
cleanup:
	veil_buf_free(&leaf);
	return st;
}

static veil_status sync_fd(int fd, const char *path, veil_err *err)
{
	if (fdatasync(fd) != 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot sync %s", path);
	return VEIL_OK;
}

/* Signs the head over the committed leaves plus the batch. */
static veil_status sign_head(veil_audit *log, veil_merkle_stack *next, veil_audit_sth *sth, veil_err *err)
{
	veil_status st = VEIL_OK;
	for (uint64_t i = log->n; !st && i < log->n + log->npending; i++)
		st = veil_merkle_stack_push(&log->mk, next, log->hashes[i], err);
	if (!st)
		st = veil_merkle_stack_root(&log->mk, next, sth->root, err);
	if (st)
		return st;
	int64_t last = log->heads[log->nheads - 1].timestamp, now = veil_time_now();
	sth->size = next->size;
	sth->timestamp =
	        now > last ? now : last; /* a clock stepped back never dates a head before its parent */
	return audit_sth_sign(log->seed, sth, err);
}

/* Takes the files back to the last commit after a failed one (I2). */
static void undo(veil_audit *log)
{
	off_t heads_end = (off_t)(AUDIT_MAGIC_LEN + (uint64_t)log->nheads * AUDIT_HEAD_LEN);
	if (ftruncate(log->leaves_fd, (off_t)log->leaves_end) != 0 ||
	    ftruncate(log->heads_fd, heads_end) != 0 || fdatasync(log->heads_fd) != 0 ||
	    fdatasync(log->leaves_fd) != 0)
		log->broken = true;
}

veil_status veil_audit_commit(veil_audit *log, veil_err *err)
{
	veil_status st = usable(log, true, err);
	if (st || log->npending == 0) {
		if (log && !log->npending)
			lock_drop(log);
		return st;
	}
	veil_merkle_stack next = log->stack;
	veil_audit_sth sth;
	uint8_t rec[AUDIT_HEAD_LEN];
	uint64_t head_off = AUDIT_MAGIC_LEN + (uint64_t)log->nheads * AUDIT_HEAD_LEN;
	st = reserve_heads(log, log->nheads + 1, err);
	/* (I1): the leaves, synced, then the head, synced. */
	if (!st)
		st = audit_pwrite_all(log->leaves_fd, log->pending.data, log->pending.len, log->leaves_end,
		                      err);
	if (!st)
		st = sync_fd(log->leaves_fd, log->paths.leaves, err);
	if (!st)
		st = sign_head(log, &next, &sth, err);
	if (!st) {
		audit_head_encode(&sth, rec);
		st = audit_pwrite_all(log->heads_fd, rec, sizeof rec, head_off, err);
	}
	if (!st)
		st = sync_fd(log->heads_fd, log->paths.heads, err);
	if (st) {
		undo(log);
		veil_err_wrap(err, "%llu audit events were not committed", (unsigned long long)log->npending);
	} else {
		log->n = next.size;
		log->leaves_end += log->pending.len;
		log->stack = next;
		log->heads[log->nheads++] = sth;
	}
	discard_batch(log);
	lock_drop(log);
	return st;
}

/* ---- reading ---- */

uint64_t veil_audit_size(const veil_audit *log)
{
	return log ? log->n : 0;
}

size_t veil_audit_head_count(const veil_audit *log)
{
	return log ? log->nheads : 0;
}

veil_status veil_audit_head(const veil_audit *log, size_t i, veil_audit_sth *out, veil_err *err)
{
	veil_status st = usable(log, false, err);
	if (st)
		return st;
	if (!out || i >= log->nheads)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "the audit log has %zu tree heads; there is no head %zu", log->nheads, i);
	*out = log->heads[i];
	return VEIL_OK;
}

void veil_audit_public_key(const veil_audit *log, uint8_t pub[VEIL_ED25519_PUB_LEN])
{
	memcpy(pub, log->pub, VEIL_ED25519_PUB_LEN);
}

/* Checks a record read for committed leaf i against the in-memory hash. */
static veil_status check_leaf(veil_audit *log, uint64_t i, const uint8_t *leaf, size_t len, veil_err *err)
{
	uint8_t h[VEIL_AUDIT_HASH_LEN];
	veil_status st = veil_merkle_leaf(&log->mk, leaf, len, h, err);
	if (st)
		return st;
	if (!veil_ct_equal(h, log->hashes[i], sizeof h))
		return corrupt(err, "audit leaf %llu was modified: its bytes no longer match the signed tree",
		               (unsigned long long)i);
	return VEIL_OK;
}

veil_status audit_leaf_get(veil_audit *log, uint64_t i, veil_buf *out, veil_err *err)
{
	uint8_t len4[4];
	size_t got = 0;
	out->len = 0;
	veil_status st = audit_pread_all(log->leaves_fd, len4, 4, log->offsets[i], &got, err);
	if (st)
		return st;
	uint32_t len = veil_get_be32(len4);
	if (got != 4 || len == 0 || len > VEIL_AUDIT_LEAF_MAX)
		return corrupt(err, "audit leaf %llu is damaged (its record header is wrong)",
		               (unsigned long long)i);
	if ((st = veil_buf_reserve(out, len + 1, err)))
		return st;
	if ((st = audit_pread_all(log->leaves_fd, out->data, len, log->offsets[i] + 4, &got, err)))
		return st;
	if (got != len)
		return corrupt(err, "audit leaf %llu is cut short", (unsigned long long)i);
	out->len = len;
	out->data[len] = '\0';
	return check_leaf(log, i, out->data, len, err);
}

static veil_status read_one(veil_audit *log, uint64_t i, const audit_record *rec, audit_rec_kind kind,
                            veil_audit_read_fn fn, void *ctx, veil_err *err)
{
	if (kind != AUDIT_REC_OK)
		return corrupt(err, "audit leaf %llu is damaged or missing", (unsigned long long)i);
	veil_status st = check_leaf(log, i, rec->leaf, rec->len, err);
	if (st)
		return st;
	audit_decoded d;
	if ((st = audit_event_decode(rec->leaf, rec->len, &d, err))) {
		veil_err_wrap(err, "audit leaf %llu", (unsigned long long)i);
		return st;
	}
	st = fn(ctx, i, &d.ev, err);
	audit_decoded_free(&d);
	return st;
}

veil_status veil_audit_read(veil_audit *log, uint64_t from, veil_audit_read_fn fn, void *ctx, veil_err *err)
{
	veil_status st = usable(log, false, err);
	if (st)
		return st;
	if (!fn)
		return veil_err_set(err, VEIL_E_INVALID, "reading the audit log needs a callback");
	if (from >= log->n)
		return VEIL_OK;
	audit_reader r;
	if ((st = audit_reader_init(&r, log->leaves_fd, log->offsets[from], err)))
		return st;
	for (uint64_t i = from; !st && i < log->n; i++) {
		audit_record rec;
		audit_rec_kind kind;
		st = audit_reader_next(&r, &rec, &kind, err);
		if (!st)
			st = read_one(log, i, &rec, kind, fn, ctx, err);
	}
	audit_reader_free(&r);
	return st;
}
