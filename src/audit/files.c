/*
 * The audit log's on-disk formats, byte for byte as docs/formats/audit.md
 * gives them: the folder's file names, log.pub, the file magics, the
 * fixed-size head record and the signed tree head message, and a buffered
 * reader that walks the leaves file record by record and says exactly how a
 * record is broken (cut short, or a length out of bounds) so that callers
 * can tell an interrupted commit from damage.
 */
#include "audit_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READER_BUF (1u << 20)
static_assert(READER_BUF >= AUDIT_REC_MAX, "a whole record fits the reader's buffer");

veil_status audit_paths_make(const char *dir, audit_paths *p, veil_err *err)
{
	veil_status st = veil_path_join(p->pub, sizeof p->pub, dir, AUDIT_PUB_FILE, err);
	if (!st)
		st = veil_path_join(p->leaves, sizeof p->leaves, dir, AUDIT_LEAVES_FILE, err);
	if (!st)
		st = veil_path_join(p->heads, sizeof p->heads, dir, AUDIT_HEADS_FILE, err);
	if (!st)
		st = veil_path_join(p->lock, sizeof p->lock, dir, AUDIT_LOCK_FILE, err);
	return st;
}

veil_status audit_pub_read(const char *path, uint8_t pub[VEIL_ED25519_PUB_LEN], veil_err *err)
{
	veil_buf b = {0};
	veil_status st = veil_fs_read_file(path, 256, &b, err);
	if (st) {
		veil_buf_free(&b);
		return st;
	}
	char hex[2 * VEIL_ED25519_PUB_LEN + 1];
	size_t n = b.len;
	if (n && b.data[n - 1] == '\n')
		n--;
	if (n != 2 * VEIL_ED25519_PUB_LEN) {
		veil_buf_free(&b);
		veil_err_set(err, VEIL_E_CORRUPT, "%s does not hold a public key (64 hex digits)", path);
		veil_err_hint(err, "restore log.pub from a backup, or pass the log's public key explicitly");
		return VEIL_E_CORRUPT;
	}
	memcpy(hex, b.data, n);
	hex[n] = '\0';
	veil_buf_free(&b);
	if (veil_hex_decode(hex, pub, VEIL_ED25519_PUB_LEN, NULL)) {
		veil_err_set(err, VEIL_E_CORRUPT, "%s holds something that is not a hex public key", path);
		veil_err_hint(err, "restore log.pub from a backup, or pass the log's public key explicitly");
		return VEIL_E_CORRUPT;
	}
	return VEIL_OK;
}

veil_status audit_magic_check(int fd, const char *magic, const char *what, veil_err *err)
{
	uint8_t got[AUDIT_MAGIC_LEN];
	size_t n = 0;
	veil_status st = audit_pread_all(fd, got, sizeof got, 0, &n, err);
	if (st)
		return st;
	if (n != AUDIT_MAGIC_LEN || memcmp(got, magic, AUDIT_MAGIC_LEN) != 0)
		return veil_err_set(err, VEIL_E_CORRUPT, "the audit %s file has a damaged or unknown header",
		                    what);
	return VEIL_OK;
}

veil_status audit_heads_count(int fd, uint64_t file_size, uint64_t floor, uint64_t *count, veil_err *err)
{
	static const uint8_t zero[AUDIT_HEAD_LEN];
	uint64_t n = file_size < AUDIT_MAGIC_LEN ? 0 : (file_size - AUDIT_MAGIC_LEN) / AUDIT_HEAD_LEN;
	while (n > floor) {
		uint8_t rec[AUDIT_HEAD_LEN];
		size_t got = 0;
		veil_status st = audit_pread_all(fd, rec, sizeof rec,
		                                 AUDIT_MAGIC_LEN + (n - 1) * AUDIT_HEAD_LEN, &got, err);
		if (st)
			return st;
		if (got != sizeof rec || memcmp(rec, zero, sizeof rec) != 0)
			break;
		n--;
	}
	*count = n;
	return VEIL_OK;
}

void audit_sth_message(const veil_audit_sth *sth, uint8_t msg[AUDIT_STH_MSG_LEN])
{
	memcpy(msg, AUDIT_STH_CONTEXT, AUDIT_STH_CONTEXT_LEN);
	veil_put_be64(msg + AUDIT_STH_CONTEXT_LEN, sth->size);
	veil_put_be64(msg + AUDIT_STH_CONTEXT_LEN + 8, (uint64_t)sth->timestamp);
	memcpy(msg + AUDIT_STH_CONTEXT_LEN + 16, sth->root, VEIL_AUDIT_HASH_LEN);
}

void audit_head_encode(const veil_audit_sth *sth, uint8_t rec[AUDIT_HEAD_LEN])
{
	veil_put_be64(rec, sth->size);
	veil_put_be64(rec + 8, (uint64_t)sth->timestamp);
	memcpy(rec + 16, sth->root, VEIL_AUDIT_HASH_LEN);
	memcpy(rec + 16 + VEIL_AUDIT_HASH_LEN, sth->sig, VEIL_ED25519_SIG_LEN);
}

void audit_head_decode(const uint8_t rec[AUDIT_HEAD_LEN], veil_audit_sth *sth)
{
	sth->size = veil_get_be64(rec);
	sth->timestamp = (int64_t)veil_get_be64(rec + 8);
	memcpy(sth->root, rec + 16, VEIL_AUDIT_HASH_LEN);
	memcpy(sth->sig, rec + 16 + VEIL_AUDIT_HASH_LEN, VEIL_ED25519_SIG_LEN);
}

veil_status audit_sth_sign(const uint8_t seed[VEIL_ED25519_SEED_LEN], veil_audit_sth *sth, veil_err *err)
{
	uint8_t msg[AUDIT_STH_MSG_LEN];
	audit_sth_message(sth, msg);
	return veil_ed25519_sign(seed, msg, sizeof msg, sth->sig, err);
}

veil_status veil_audit_sth_verify(const uint8_t pub[VEIL_ED25519_PUB_LEN], const veil_audit_sth *sth,
                                  veil_err *err)
{
	uint8_t msg[AUDIT_STH_MSG_LEN];
	audit_sth_message(sth, msg);
	if (veil_ed25519_verify(pub, msg, sizeof msg, sth->sig, NULL) != VEIL_OK)
		return veil_err_set(err, VEIL_E_AUTH,
		                    "the signature on the tree head of size %llu is not valid",
		                    (unsigned long long)sth->size);
	return VEIL_OK;
}

veil_status audit_pread_all(int fd, void *buf, size_t n, uint64_t off, size_t *got, veil_err *err)
{
	uint8_t *p = buf;
	size_t have = 0;
	while (have < n) {
		ssize_t r = pread(fd, p + have, n - have, (off_t)(off + have));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return veil_err_errno(err, VEIL_E_IO, errno, "cannot read the audit log");
		if (r == 0)
			break;
		have += (size_t)r;
	}
	*got = have;
	return VEIL_OK;
}

veil_status audit_pwrite_all(int fd, const void *buf, size_t n, uint64_t off, veil_err *err)
{
	const uint8_t *p = buf;
	size_t done = 0;
	while (done < n) {
		ssize_t w = pwrite(fd, p + done, n - done, (off_t)(off + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return veil_err_errno(err, VEIL_E_IO, errno, "cannot write the audit log");
		done += (size_t)w;
	}
	return VEIL_OK;
}

veil_status audit_reader_init(audit_reader *r, int fd, uint64_t offset, veil_err *err)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->off = offset;
	r->buf = malloc(READER_BUF);
	if (!r->buf)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory reading the audit log");
	r->cap = READER_BUF;
	return VEIL_OK;
}

void audit_reader_free(audit_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

uint64_t audit_reader_tell(const audit_reader *r)
{
	return r->off + r->pos;
}

/* Makes at least `need` unread bytes available unless the file ends first. */
static veil_status fill(audit_reader *r, size_t need, veil_err *err)
{
	if (r->len - r->pos >= need || r->eof)
		return VEIL_OK;
	memmove(r->buf, r->buf + r->pos, r->len - r->pos);
	r->off += r->pos;
	r->len -= r->pos;
	r->pos = 0;
	while (r->len < need && !r->eof) {
		size_t got = 0;
		veil_status st =
		        audit_pread_all(r->fd, r->buf + r->len, r->cap - r->len, r->off + r->len, &got, err);
		if (st)
			return st;
		if (got < r->cap - r->len)
			r->eof = true;
		r->len += got;
	}
	return VEIL_OK;
}

veil_status audit_reader_next(audit_reader *r, audit_record *rec, audit_rec_kind *kind, veil_err *err)
{
	memset(rec, 0, sizeof *rec);
	rec->offset = audit_reader_tell(r);
	veil_status st = fill(r, 4, err);
	if (st)
		return st;
	size_t avail = r->len - r->pos;
	if (avail == 0) {
		*kind = AUDIT_REC_END;
		return VEIL_OK;
	}
	if (avail < 4) {
		*kind = AUDIT_REC_TORN;
		return VEIL_OK;
	}
	uint32_t len = veil_get_be32(r->buf + r->pos);
	rec->raw_len = len;
	if (len == 0 || len > VEIL_AUDIT_LEAF_MAX) {
		*kind = AUDIT_REC_BADLEN;
		return VEIL_OK;
	}
	size_t total = AUDIT_REC_OVERHEAD + (size_t)len;
	if ((st = fill(r, total, err)))
		return st;
	if (r->len - r->pos < total) {
		*kind = AUDIT_REC_TORN;
		return VEIL_OK;
	}
	rec->leaf = r->buf + r->pos + 4;
	rec->len = len;
	rec->hash = rec->leaf + len;
	r->pos += total;
	rec->end = audit_reader_tell(r);
	*kind = AUDIT_REC_OK;
	return VEIL_OK;
}
