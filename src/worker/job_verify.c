/*
 * The "verify" job: decrypt a dataset's stored object inside the worker and
 * check it against the size and SHA-256 the catalog recorded at upload.
 * The host streams the ciphertext as DATA messages and an END; the worker
 * answers with the size and digest it found, never with plaintext. It reads
 * the plaintext through worker_plain, as the jobs that parse data do.
 */
#include <string.h>

#include "worker.h"

/* Hashes everything the plaintext stream yields. */
static veil_status hash_stream(worker_plain *p, uint8_t digest[VEIL_SHA256_LEN], veil_err *err)
{
	veil_hash_ctx *h = NULL;
	veil_status st = veil_hash_init(&h, VEIL_HASH_SHA256, err);
	static uint8_t buf[64 << 10];
	while (!st) {
		size_t got = 0;
		if ((st = worker_plain_read(p, buf, sizeof buf, &got, err)) || got == 0)
			break;
		st = veil_hash_update(h, buf, got, err);
	}
	if (st) {
		veil_hash_free(h);
		return st;
	}
	return veil_hash_final(h, digest, err);
}

veil_status worker_job_verify(worker *w, const veil_proto_msg *job, veil_err *err)
{
	char dek_id[VEIL_OBJ_KEY_ID_MAX + 1], want_sha[VEIL_SHA256_LEN * 2 + 1];
	uint64_t want_size;
	veil_status st;
	if ((st = veil_proto_get_text(job, VEIL_F_DEK_ID, 0, dek_id, sizeof dek_id, err)) ||
	    (st = veil_proto_get_text(job, VEIL_F_SHA256, 0, want_sha, sizeof want_sha, err)) ||
	    (st = veil_proto_get_u64(job, VEIL_F_SIZE, &want_size, err)))
		return st;
	uint8_t *dek = veil_secure_alloc(VEIL_PROTO_DEK_LEN);
	if (!dek)
		return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory");
	const char *ids[] = {dek_id};
	uint8_t digest[VEIL_SHA256_LEN];
	char hex[VEIL_SHA256_LEN * 2 + 1];
	uint64_t bytes = 0;
	worker_plain *p = NULL;
	if (!(st = worker_get_keys(w, ids, 1, dek, err)) &&
	    !(st = worker_plain_open(w, dek_id, dek, &p, err))) {
		veil_status hst = hash_stream(p, digest, err);
		/* The decryption's verdict first: it explains a stream that ended early. */
		st = worker_plain_close(p, &bytes, err);
		if (!st)
			st = hst;
	}
	veil_secure_free(dek, VEIL_PROTO_DEK_LEN);
	if (st)
		return st;
	veil_hex_encode(digest, sizeof digest, hex);
	if (bytes != want_size || strcmp(hex, want_sha) != 0)
		return veil_err_set(
		        err, VEIL_E_CORRUPT,
		        "the decrypted data (%llu bytes) does not match the catalog's size and SHA-256",
		        (unsigned long long)bytes);
	veil_proto_out o;
	veil_proto_out_init(&o, VEIL_MSG_RESULT);
	if (!(st = veil_proto_add_u64(&o, VEIL_F_SIZE, bytes, err)) &&
	    !(st = veil_proto_add_text(&o, VEIL_F_SHA256, hex, err)))
		st = veil_proto_send(&w->conn, &o, err);
	veil_proto_out_free(&o);
	return st;
}
