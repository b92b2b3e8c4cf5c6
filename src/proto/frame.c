/*
 * Frames and messages of the worker protocol (docs/formats/worker-protocol.md):
 * parsing and building, no I/O. Parsing is strict because the worker's side
 * of the socket is its whole attack surface from the host: every length is
 * checked before it is read, every tag must be known and allowed in its
 * message, and a message missing a field it needs is refused here, so that
 * no handler ever sees a half-formed one.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "veil/proto.h"

enum kind { TEXT, BYTES, U32, U64 };

static const struct field_rule {
	const char *name;
	enum kind kind;
	uint32_t min, max;
} field_rules[VEIL_F_TAG_MAX + 1] = {
        [VEIL_F_TEE] = {"tee", TEXT, 1, 16},
        [VEIL_F_WORKSPACE] = {"workspace", TEXT, 1, 64},
        [VEIL_F_SIM_KEY] = {"sim-key", BYTES, 1, 1024},
        [VEIL_F_WORKER_VERSION] = {"worker-version", TEXT, 1, 64},
        [VEIL_F_MEASUREMENT] = {"measurement", BYTES, 1, 64},
        [VEIL_F_JOB] = {"job", TEXT, 1, 32},
        [VEIL_F_DEK_ID] = {"dek-id", TEXT, 1, 64},
        [VEIL_F_NONCE] = {"nonce", BYTES, VEIL_PROTO_NONCE_LEN, VEIL_PROTO_NONCE_LEN},
        [VEIL_F_EVIDENCE] = {"evidence", BYTES, 1, 64u << 10},
        [VEIL_F_PUBKEY] = {"pubkey", BYTES, 32, 32},
        [VEIL_F_WRAPPED] = {"wrapped", BYTES, VEIL_PROTO_WRAPPED_LEN, VEIL_PROTO_WRAPPED_LEN},
        [VEIL_F_DATA] = {"data", BYTES, 1, VEIL_PROTO_DATA_MAX},
        [VEIL_F_SIZE] = {"size", U64, 8, 8},
        [VEIL_F_SHA256] = {"sha256", TEXT, 64, 64},
        [VEIL_F_STATUS] = {"status", U32, 4, 4},
        [VEIL_F_MESSAGE] = {"message", TEXT, 1, 1024},
        [VEIL_F_CERTS] = {"certs", BYTES, 1, 64u << 10},
        [VEIL_F_SIM_TCB] = {"sim-tcb", U64, 8, 8},
        [VEIL_F_SIGN_PUBKEY] = {"sign-pubkey", BYTES, 32, 32},
        [VEIL_F_REPORT] = {"report", BYTES, 1, VEIL_PROTO_DATA_MAX},
        [VEIL_F_SIGNATURE] = {"signature", BYTES, VEIL_PROTO_SIG_LEN, VEIL_PROTO_SIG_LEN},
        [VEIL_F_SCHEMA] = {"schema", BYTES, 1, VEIL_PROTO_DATA_MAX},
        [VEIL_F_CLASS] = {"class", TEXT, 1, 16},
        [VEIL_F_PIPELINE] = {"pipeline", BYTES, 1, VEIL_PROTO_DATA_MAX},
        [VEIL_F_JOB_FILE] = {"job-file", BYTES, 1, 64u << 10},
        [VEIL_F_STEP] = {"step", U64, 8, 8},
        [VEIL_F_INPUT] = {"input", TEXT, 1, 160},
};

#define BIT(t)   (1u << (t))
#define KEYS_MAX 16 /* data keys in one request */
#define JOB_KEYS_MAX                                                                                         \
	16 /* data keys (and input objects) one job names: train names its inputs, model, checkpoint */

/* Per message type: the fields it must have, those it may have, and the
 * most times a field may appear (1 unless the type lists keys). */
static const struct msg_rule {
	const char *name;
	uint32_t required, allowed;
	unsigned repeat; /* DEK_ID and WRAPPED may appear this often */
} msg_rules[VEIL_MSG_TYPE_MAX + 1] = {
        [VEIL_MSG_HELLO] = {"hello", BIT(VEIL_F_TEE) | BIT(VEIL_F_WORKSPACE),
                            BIT(VEIL_F_SIM_KEY) | BIT(VEIL_F_CERTS) | BIT(VEIL_F_SIM_TCB), 1},
        [VEIL_MSG_HELLO_OK] = {"hello-ok",
                               BIT(VEIL_F_WORKER_VERSION) | BIT(VEIL_F_TEE) | BIT(VEIL_F_MEASUREMENT), 0, 1},
        /* Each job checks the fields it needs (docs/formats/worker-protocol.md). */
        [VEIL_MSG_JOB] = {"job", BIT(VEIL_F_JOB),
                          BIT(VEIL_F_DEK_ID) | BIT(VEIL_F_SIZE) | BIT(VEIL_F_SHA256) | BIT(VEIL_F_NONCE) |
                                  BIT(VEIL_F_SCHEMA) | BIT(VEIL_F_CLASS) | BIT(VEIL_F_PIPELINE) |
                                  BIT(VEIL_F_JOB_FILE) | BIT(VEIL_F_INPUT) | BIT(VEIL_F_STEP),
                          JOB_KEYS_MAX},
        [VEIL_MSG_KEY_REQUEST] = {"key-request", BIT(VEIL_F_DEK_ID), 0, KEYS_MAX},
        [VEIL_MSG_CHALLENGE] = {"challenge", BIT(VEIL_F_NONCE), 0, 1},
        [VEIL_MSG_EVIDENCE] = {"evidence",
                               BIT(VEIL_F_TEE) | BIT(VEIL_F_EVIDENCE) | BIT(VEIL_F_PUBKEY) |
                                       BIT(VEIL_F_SIGN_PUBKEY),
                               BIT(VEIL_F_CERTS), 1},
        [VEIL_MSG_KEYS] = {"keys", BIT(VEIL_F_DEK_ID) | BIT(VEIL_F_WRAPPED), 0, KEYS_MAX},
        [VEIL_MSG_DATA] = {"data", BIT(VEIL_F_DATA), 0, 1},
        [VEIL_MSG_END] = {"end", 0, 0, 1},
        /* verify answers SIZE and SHA256, validate and profile REPORT and SIGNATURE. */
        [VEIL_MSG_RESULT] = {"result", 0,
                             BIT(VEIL_F_SIZE) | BIT(VEIL_F_SHA256) | BIT(VEIL_F_REPORT) |
                                     BIT(VEIL_F_SIGNATURE),
                             1},
        [VEIL_MSG_ERROR] = {"error", BIT(VEIL_F_STATUS) | BIT(VEIL_F_MESSAGE), 0, 1},
        [VEIL_MSG_BYE] = {"bye", 0, 0, 1},
        [VEIL_MSG_PLAN] = {"plan", BIT(VEIL_F_REPORT), 0, 1},
        [VEIL_MSG_GO] = {"go", 0, 0, 1},
        [VEIL_MSG_PROGRESS] = {"progress", BIT(VEIL_F_REPORT), 0, 1},
        [VEIL_MSG_CHECKPOINT] = {"checkpoint", BIT(VEIL_F_STEP) | BIT(VEIL_F_SIZE) | BIT(VEIL_F_SHA256), 0,
                                 1},
};

const char *veil_proto_type_name(unsigned type)
{
	if (type >= 1 && type <= VEIL_MSG_TYPE_MAX)
		return msg_rules[type].name;
	return "unknown";
}

veil_status veil_proto_header_parse(const uint8_t hdr[static VEIL_PROTO_HEADER_LEN], uint8_t *type,
                                    uint32_t *body_len, veil_err *err)
{
	if (hdr[0] != 'V' || hdr[1] != 'W')
		return veil_err_set(err, VEIL_E_INVALID, "not a worker-protocol frame (bad magic %02x%02x)",
		                    hdr[0], hdr[1]);
	if (hdr[2] != VEIL_PROTO_VERSION)
		return veil_err_set(err, VEIL_E_UNSUPPORTED,
		                    "worker-protocol version %u (this veil speaks version %u)", hdr[2],
		                    VEIL_PROTO_VERSION);
	if (hdr[3] < 1 || hdr[3] > VEIL_MSG_TYPE_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "unknown message type %u", hdr[3]);
	uint32_t len = veil_get_be32(hdr + 4);
	if (len > VEIL_PROTO_BODY_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "a %s message of %u bytes (at most %u)",
		                    msg_rules[hdr[3]].name, len, VEIL_PROTO_BODY_MAX);
	*type = hdr[3];
	*body_len = len;
	return VEIL_OK;
}

static bool text_ok(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return false;
	return true;
}

static veil_status field_check(const struct msg_rule *mr, const veil_proto_field *f, unsigned seen,
                               veil_err *err)
{
	if (f->tag < 1 || f->tag > VEIL_F_TAG_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "%s message: unknown field tag %u", mr->name,
		                    f->tag);
	const struct field_rule *fr = &field_rules[f->tag];
	if (!((mr->required | mr->allowed) & BIT(f->tag)))
		return veil_err_set(err, VEIL_E_INVALID, "%s message: field %s does not belong in it",
		                    mr->name, fr->name);
	/* A job names each input object by key, size, SHA-256 and role. */
	bool may_repeat = f->tag == VEIL_F_DEK_ID || f->tag == VEIL_F_WRAPPED || f->tag == VEIL_F_SIZE ||
	                  f->tag == VEIL_F_SHA256 || f->tag == VEIL_F_INPUT;
	if (seen >= (may_repeat ? mr->repeat : 1))
		return veil_err_set(err, VEIL_E_INVALID, "%s message: field %s appears too often", mr->name,
		                    fr->name);
	if (f->len < fr->min || f->len > fr->max)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "%s message: field %s is %u bytes (%u to %u allowed)", mr->name, fr->name,
		                    f->len, fr->min, fr->max);
	if (fr->kind == TEXT && !text_ok(f->value, f->len))
		return veil_err_set(err, VEIL_E_INVALID, "%s message: field %s is not printable ASCII",
		                    mr->name, fr->name);
	if (f->tag == VEIL_F_SHA256) {
		for (size_t i = 0; i < f->len; i++)
			if (!strchr("0123456789abcdef", f->value[i]))
				return veil_err_set(err, VEIL_E_INVALID,
				                    "%s message: sha256 is not lowercase hex", mr->name);
	}
	return VEIL_OK;
}

static veil_status split(uint8_t type, const uint8_t *body, size_t len, veil_proto_msg *msg, veil_err *err)
{
	const struct msg_rule *mr = &msg_rules[type];
	unsigned seen[VEIL_F_TAG_MAX + 1] = {0};
	size_t off = 0;
	while (off < len) {
		if (msg->nfields == VEIL_PROTO_FIELDS_MAX)
			return veil_err_set(err, VEIL_E_LIMIT, "%s message: more than %d fields", mr->name,
			                    VEIL_PROTO_FIELDS_MAX);
		if (len - off < VEIL_PROTO_FIELD_HDR)
			return veil_err_set(err, VEIL_E_INVALID,
			                    "%s message: a field header is cut short at byte %zu", mr->name,
			                    off);
		veil_proto_field f = {.tag = veil_get_be16(body + off), .len = veil_get_be32(body + off + 2)};
		off += VEIL_PROTO_FIELD_HDR;
		if (f.len > len - off)
			return veil_err_set(err, VEIL_E_INVALID,
			                    "%s message: field %u says %u bytes, %zu are left", mr->name,
			                    f.tag, f.len, len - off);
		f.value = body + off;
		off += f.len;
		veil_status st = field_check(mr, &f, f.tag <= VEIL_F_TAG_MAX ? seen[f.tag] : 0, err);
		if (st)
			return st;
		seen[f.tag]++;
		msg->fields[msg->nfields++] = f;
	}
	for (unsigned t = 1; t <= VEIL_F_TAG_MAX; t++)
		if ((mr->required & BIT(t)) && !seen[t])
			return veil_err_set(err, VEIL_E_INVALID, "%s message: field %s is missing", mr->name,
			                    field_rules[t].name);
	if (type == VEIL_MSG_KEYS && seen[VEIL_F_DEK_ID] != seen[VEIL_F_WRAPPED])
		return veil_err_set(err, VEIL_E_INVALID, "keys message: %u key ids but %u wrapped keys",
		                    seen[VEIL_F_DEK_ID], seen[VEIL_F_WRAPPED]);
	return VEIL_OK;
}

veil_status veil_proto_msg_parse(uint8_t type, uint8_t *body, size_t body_len, veil_proto_msg *msg,
                                 veil_err *err)
{
	memset(msg, 0, sizeof *msg);
	veil_status st;
	if (type < 1 || type > VEIL_MSG_TYPE_MAX)
		st = veil_err_set(err, VEIL_E_INVALID, "unknown message type %u", type);
	else if (body_len > VEIL_PROTO_BODY_MAX)
		st = veil_err_set(err, VEIL_E_LIMIT, "a message body of %zu bytes", body_len);
	else
		st = split(type, body, body_len, msg, err);
	if (st) {
		if (body)
			OPENSSL_cleanse(body, body_len);
		free(body);
		memset(msg, 0, sizeof *msg);
		return st;
	}
	msg->type = type;
	msg->body = body;
	msg->body_len = body_len;
	return VEIL_OK;
}

void veil_proto_msg_free(veil_proto_msg *msg)
{
	if (!msg)
		return;
	if (msg->body)
		OPENSSL_cleanse(msg->body, msg->body_len);
	free(msg->body);
	memset(msg, 0, sizeof *msg);
}

const veil_proto_field *veil_proto_get(const veil_proto_msg *msg, uint16_t tag, size_t n)
{
	for (size_t i = 0; i < msg->nfields; i++)
		if (msg->fields[i].tag == tag && n-- == 0)
			return &msg->fields[i];
	return NULL;
}

size_t veil_proto_count(const veil_proto_msg *msg, uint16_t tag)
{
	size_t c = 0;
	for (size_t i = 0; i < msg->nfields; i++)
		c += msg->fields[i].tag == tag;
	return c;
}

static const char *tag_name(uint16_t tag)
{
	return tag >= 1 && tag <= VEIL_F_TAG_MAX ? field_rules[tag].name : "unknown";
}

veil_status veil_proto_get_text(const veil_proto_msg *msg, uint16_t tag, size_t n, char *out, size_t out_len,
                                veil_err *err)
{
	const veil_proto_field *f = veil_proto_get(msg, tag, n);
	if (!f)
		return veil_err_set(err, VEIL_E_INVALID, "%s message has no field %s",
		                    veil_proto_type_name(msg->type), tag_name(tag));
	if (f->len >= out_len)
		return veil_err_set(err, VEIL_E_INVALID, "%s message: field %s is too long here",
		                    veil_proto_type_name(msg->type), tag_name(tag));
	memcpy(out, f->value, f->len);
	out[f->len] = '\0';
	return VEIL_OK;
}

veil_status veil_proto_get_u64(const veil_proto_msg *msg, uint16_t tag, uint64_t *out, veil_err *err)
{
	const veil_proto_field *f = veil_proto_get(msg, tag, 0);
	if (!f || f->len != 8)
		return veil_err_set(err, VEIL_E_INVALID, "%s message has no 8-byte field %s",
		                    veil_proto_type_name(msg->type), tag_name(tag));
	*out = veil_get_be64(f->value);
	return VEIL_OK;
}

void veil_proto_out_init(veil_proto_out *o, uint8_t type)
{
	memset(o, 0, sizeof *o);
	o->type = type;
}

void veil_proto_out_free(veil_proto_out *o)
{
	if (!o)
		return;
	if (o->body.data)
		OPENSSL_cleanse(o->body.data, o->body.cap);
	veil_buf_free(&o->body);
	o->nfields = 0;
}

veil_status veil_proto_add(veil_proto_out *o, uint16_t tag, const void *value, size_t len, veil_err *err)
{
	if (o->nfields == VEIL_PROTO_FIELDS_MAX || len > UINT32_MAX ||
	    o->body.len + VEIL_PROTO_FIELD_HDR + len > VEIL_PROTO_BODY_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "a %s message would be too large",
		                    veil_proto_type_name(o->type));
	uint8_t hdr[VEIL_PROTO_FIELD_HDR];
	veil_put_be16(hdr, tag);
	veil_put_be32(hdr + 2, (uint32_t)len);
	/* Reserve first: a realloc of the body must not leave a copy of a key
	 * field behind, so grow once, before anything is written. */
	veil_status st = veil_buf_reserve(&o->body, sizeof hdr + len, err);
	if (!st)
		st = veil_buf_append(&o->body, hdr, sizeof hdr, err);
	if (!st && len)
		st = veil_buf_append(&o->body, value, len, err);
	if (!st)
		o->nfields++;
	return st;
}

veil_status veil_proto_add_text(veil_proto_out *o, uint16_t tag, const char *text, veil_err *err)
{
	return veil_proto_add(o, tag, text, strlen(text), err);
}

veil_status veil_proto_add_u64(veil_proto_out *o, uint16_t tag, uint64_t v, veil_err *err)
{
	uint8_t b[8];
	veil_put_be64(b, v);
	return veil_proto_add(o, tag, b, sizeof b, err);
}

veil_status veil_proto_add_u32(veil_proto_out *o, uint16_t tag, uint32_t v, veil_err *err)
{
	uint8_t b[4];
	veil_put_be32(b, v);
	return veil_proto_add(o, tag, b, sizeof b, err);
}
