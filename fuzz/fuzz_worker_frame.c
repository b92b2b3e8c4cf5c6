/*
 * Fuzz target: the worker protocol's frame parser (src/proto/frame.c), the
 * worker's whole surface towards the host. The input is one frame: the
 * 8-byte header, then the body.
 *
 * Invariants (abort on violation):
 *  1. A header that parses has magic "VW", the version, a known type and a
 *     length within VEIL_PROTO_BODY_MAX; anything else fails with a message.
 *  2. A body that parses has at most VEIL_PROTO_FIELDS_MAX fields, each
 *     with a known tag, lying inside the body, back to back and covering it.
 *  3. Building the same fields again gives the same body, byte for byte
 *     (one spelling per message), and that body parses again.
 *  4. A failure leaves the message empty.
 */
#include "fuzz.h"
#include "veil/proto.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < VEIL_PROTO_HEADER_LEN)
		return 0;
	veil_err e;
	uint8_t type;
	uint32_t len;
	veil_status st = veil_proto_header_parse(data, &type, &len, &e);
	if (st) {
		FUZZ_CHECK(e.msg[0] != '\0', "a refused header says why");
		return 0;
	}
	FUZZ_CHECK(data[0] == 'V' && data[1] == 'W' && data[2] == VEIL_PROTO_VERSION,
	           "header magic and version");
	FUZZ_CHECK(type >= 1 && type <= VEIL_MSG_TYPE_MAX && len <= VEIL_PROTO_BODY_MAX,
	           "header type and length");
	size_t avail = size - VEIL_PROTO_HEADER_LEN;
	size_t n = len < avail ? len : avail;
	uint8_t *body = malloc(n ? n : 1);
	FUZZ_CHECK(body != NULL, "allocation");
	memcpy(body, data + VEIL_PROTO_HEADER_LEN, n);
	veil_proto_msg m;
	st = veil_proto_msg_parse(type, body, n, &m, &e);
	if (st) {
		FUZZ_CHECK(m.body == NULL && m.nfields == 0 && e.msg[0], "a refused body leaves nothing");
		return 0;
	}
	FUZZ_CHECK(m.nfields <= VEIL_PROTO_FIELDS_MAX, "field count");
	size_t off = 0;
	veil_proto_out o;
	veil_proto_out_init(&o, type);
	for (size_t i = 0; i < m.nfields; i++) {
		const veil_proto_field *f = &m.fields[i];
		FUZZ_CHECK(f->tag >= 1 && f->tag <= VEIL_F_TAG_MAX, "known tag");
		FUZZ_CHECK(f->value == m.body + off + VEIL_PROTO_FIELD_HDR, "fields back to back");
		off += VEIL_PROTO_FIELD_HDR + f->len;
		FUZZ_CHECK(off <= m.body_len, "field inside the body");
		FUZZ_CHECK(veil_proto_add(&o, f->tag, f->value, f->len, &e) == VEIL_OK, "rebuild");
	}
	FUZZ_CHECK(off == m.body_len, "fields cover the body");
	FUZZ_CHECK(o.body.len == m.body_len && (!o.body.len || memcmp(o.body.data, m.body, o.body.len) == 0),
	           "one spelling per message");
	uint8_t *again = malloc(o.body.len ? o.body.len : 1);
	FUZZ_CHECK(again != NULL, "allocation");
	if (o.body.len)
		memcpy(again, o.body.data, o.body.len);
	veil_proto_msg m2;
	FUZZ_CHECK(veil_proto_msg_parse(type, again, o.body.len, &m2, &e) == VEIL_OK,
	           "the rebuilt body parses");
	veil_proto_msg_free(&m2);
	veil_proto_out_free(&o);
	veil_proto_msg_free(&m);
	return 0;
}
