/*
 * The "verify" job: decrypt a dataset's stored object inside the worker and
 * check it against the size and SHA-256 the catalog recorded at upload.
 * The host streams the ciphertext as DATA messages and an END; the worker
 * answers with the size and digest it found, never with plaintext.
 */
#include <string.h>

#include "worker.h"

/* A veil_read_fn over the DATA messages of the session. */
typedef struct stream {
	worker *w;
	veil_proto_msg cur;
	size_t off;
	bool ended;
	uint64_t received;
} stream;

static veil_status stream_read(void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err)
{
	stream *s = ctx;
	*got = 0;
	while (*got < n && !s->ended) {
		const veil_proto_field *f = s->cur.body ? veil_proto_get(&s->cur, VEIL_F_DATA, 0) : NULL;
		if (f && s->off < f->len) {
			size_t take = f->len - s->off < n - *got ? f->len - s->off : n - *got;
			memcpy(buf + *got, f->value + s->off, take);
			s->off += take;
			*got += take;
			continue;
		}
		veil_proto_msg_free(&s->cur);
		s->off = 0;
		veil_status st = veil_proto_recv(&s->w->conn, &s->cur, err);
		if (st)
			return st;
		if (s->cur.type == VEIL_MSG_END) {
			s->ended = true;
		} else if (s->cur.type == VEIL_MSG_DATA) {
			s->received += veil_proto_get(&s->cur, VEIL_F_DATA, 0)->len;
		} else {
			return veil_err_set(err, VEIL_E_INVALID, "expected data or end, got a %s message",
			                    veil_proto_type_name(s->cur.type));
		}
	}
	return VEIL_OK;
}

typedef struct sink {
	veil_hash_ctx *hash;
	uint64_t bytes;
} sink;

static veil_status sink_write(void *ctx, const uint8_t *buf, size_t n, veil_err *err)
{
	sink *k = ctx;
	k->bytes += n;
	return veil_hash_update(k->hash, buf, n, err);
}

static veil_status decrypt(worker *w, const char *dek_id, const uint8_t *dek, sink *k, veil_err *err)
{
	stream s = {.w = w};
	veil_obj_header hdr;
	veil_status st = veil_obj_read_header(stream_read, &s, &hdr, err);
	if (!st && strcmp(hdr.key_id, dek_id) != 0)
		st = veil_err_set(err, VEIL_E_CORRUPT, "the object names data key %s, the job says %s",
		                  hdr.key_id, dek_id);
	veil_obj_opts opts = {.threads = 1};
	veil_obj_stats stats;
	if (!st)
		st = veil_obj_open(dek, &hdr, &opts, stream_read, &s, sink_write, k, &stats, err);
	/* The object ended where the container says; the stream must end too. */
	uint8_t extra;
	size_t got = 0;
	if (!st && (st = stream_read(&s, &extra, 1, &got, err)) == VEIL_OK && got)
		st = veil_err_set(err, VEIL_E_CORRUPT, "data follows the end of the object");
	veil_proto_msg_free(&s.cur);
	return st;
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
	sink k = {0};
	uint8_t digest[VEIL_SHA256_LEN];
	char hex[VEIL_SHA256_LEN * 2 + 1];
	if (!(st = worker_get_keys(w, ids, 1, dek, err)) &&
	    !(st = veil_hash_init(&k.hash, VEIL_HASH_SHA256, err)))
		st = decrypt(w, dek_id, dek, &k, err);
	veil_secure_free(dek, VEIL_PROTO_DEK_LEN);
	if (!st) {
		st = veil_hash_final(k.hash, digest, err);
		k.hash = NULL;
	}
	veil_hash_free(k.hash);
	if (st)
		return st;
	veil_hex_encode(digest, sizeof digest, hex);
	if (k.bytes != want_size || strcmp(hex, want_sha) != 0)
		return veil_err_set(
		        err, VEIL_E_CORRUPT,
		        "the decrypted data (%llu bytes) does not match the catalog's size and SHA-256",
		        (unsigned long long)k.bytes);
	veil_proto_out o;
	veil_proto_out_init(&o, VEIL_MSG_RESULT);
	if (!(st = veil_proto_add_u64(&o, VEIL_F_SIZE, k.bytes, err)) &&
	    !(st = veil_proto_add_text(&o, VEIL_F_SHA256, hex, err)))
		st = veil_proto_send(&w->conn, &o, err);
	veil_proto_out_free(&o);
	return st;
}
