/*
 * Whole objects in the worker: an input decrypted into memory and checked
 * against the catalog's size and SHA-256, and an output sealed and
 * streamed to the host. Jobs that need every row at once (features,
 * train, evaluate) use these; validate and verify stream instead.
 */
#include <stdlib.h>
#include <string.h>

#include "worker.h"

veil_status worker_read_whole(worker *w, const char *dek_id, const uint8_t *dek, uint64_t want_size,
                              const char *want_sha, veil_buf *in, veil_err *err)
{
	if (want_size > SIZE_MAX - 1)
		return veil_err_set(err, VEIL_E_LIMIT, "an input of %llu bytes does not fit in memory",
		                    (unsigned long long)want_size);
	worker_plain *p = NULL;
	veil_hash_ctx *h = NULL;
	veil_status st = veil_buf_reserve(in, (size_t)want_size + 1, err);
	if (st || (st = veil_hash_init(&h, VEIL_HASH_SHA256, err)))
		return st;
	if ((st = worker_plain_open(w, dek_id, dek, &p, err))) {
		veil_hash_free(h);
		return st;
	}
	veil_status rst = VEIL_OK;
	for (;;) {
		size_t got = 0, room = in->cap - in->len;
		if (room == 0 && (rst = veil_buf_reserve(in, 64u << 10, err)))
			break;
		room = in->cap - in->len;
		if ((rst = worker_plain_read(p, in->data + in->len, room, &got, err)) || got == 0)
			break;
		if ((rst = veil_hash_update(h, in->data + in->len, got, err)))
			break;
		in->len += got;
		if (in->len > want_size) {
			rst = veil_err_set(err, VEIL_E_CORRUPT, "the input is longer than the catalog says");
			break;
		}
	}
	veil_err cerr;
	if ((st = worker_plain_close(p, NULL, &cerr)))
		*err = cerr;
	else
		st = rst;
	uint8_t digest[VEIL_SHA256_LEN];
	char hex[2 * VEIL_SHA256_LEN + 1];
	veil_status hst = veil_hash_final(h, digest, st ? NULL : err);
	if (!st)
		st = hst;
	if (!st) {
		veil_hex_encode(digest, sizeof digest, hex);
		if (in->len != want_size || strcmp(hex, want_sha) != 0)
			st = veil_err_set(err, VEIL_E_CORRUPT,
			                  "the decrypted data (%zu bytes) does not match the catalog's size "
			                  "and SHA-256",
			                  in->len);
	}
	return st;
}

/* Sends a sealed object to the host as DATA messages of up to
 * VEIL_PROTO_DATA_MAX bytes; worker_send_object ends it with END. */
typedef struct data_sender {
	worker *w;
	uint8_t *buf;
	size_t len;
} data_sender;

static veil_status send_data(data_sender *s, veil_err *err)
{
	if (s->len == 0)
		return VEIL_OK;
	veil_proto_out o;
	veil_proto_out_init(&o, VEIL_MSG_DATA);
	veil_status st = veil_proto_add(&o, VEIL_F_DATA, s->buf, s->len, err);
	if (!st)
		st = veil_proto_send(&s->w->conn, &o, err);
	veil_proto_out_free(&o);
	s->len = 0;
	return st;
}

static veil_status sender_write(void *ctx, const uint8_t *p, size_t n, veil_err *err)
{
	data_sender *s = ctx;
	while (n) {
		size_t k = VEIL_PROTO_DATA_MAX - s->len < n ? VEIL_PROTO_DATA_MAX - s->len : n;
		memcpy(s->buf + s->len, p, k);
		s->len += k;
		p += k;
		n -= k;
		veil_status st = s->len == VEIL_PROTO_DATA_MAX ? send_data(s, err) : VEIL_OK;
		if (st)
			return st;
	}
	return VEIL_OK;
}

veil_status worker_send_sealed(worker *w, const uint8_t *plain, size_t n, const char *id, const uint8_t *dek,
                               worker_written *out, veil_err *err)
{
	uint8_t digest[VEIL_SHA256_LEN];
	veil_status st = veil_hash(VEIL_HASH_SHA256, plain, n, digest, err);
	if (st)
		return st;
	data_sender s = {.w = w, .buf = malloc(VEIL_PROTO_DATA_MAX)};
	if (!s.buf)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory");
	veil_mem_reader r = {.p = plain, .n = n};
	veil_obj_opts opts = {.threads = 1};
	veil_obj_stats stats;
	st = veil_obj_seal(dek, id, &opts, veil_mem_read, &r, sender_write, &s, &stats, err);
	if (!st)
		st = send_data(&s, err);
	free(s.buf);
	if (!st) {
		veil_proto_out o;
		veil_proto_out_init(&o, VEIL_MSG_END);
		st = veil_proto_send(&w->conn, &o, err);
		veil_proto_out_free(&o);
	}
	if (!st) {
		out->size = n;
		out->chunk_size = VEIL_OBJ_CHUNK_DEFAULT;
		veil_hex_encode(digest, sizeof digest, out->sha256);
	}
	return st;
}
