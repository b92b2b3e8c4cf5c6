/*
 * Decrypting what the host streams (docs/formats/worker-protocol.md, the
 * verify job): DATA messages up to an END, read as one byte stream by the
 * container's reader, which releases plaintext chunk by chunk as each one
 * authenticates.
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

veil_status worker_decrypt(worker *w, const char *dek_id, const uint8_t *dek, veil_write_fn wr, void *wctx,
                           veil_err *err)
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
		st = veil_obj_open(dek, &hdr, &opts, stream_read, &s, wr, wctx, &stats, err);
	/* The object ended where the container says; the stream must end too. */
	uint8_t extra;
	size_t got = 0;
	if (!st && (st = stream_read(&s, &extra, 1, &got, err)) == VEIL_OK && got)
		st = veil_err_set(err, VEIL_E_CORRUPT, "data follows the end of the object");
	veil_proto_msg_free(&s.cur);
	return st;
}
