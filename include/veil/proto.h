/*
 * veil proto: the framed, versioned protocol between the host (`veil`) and
 * the trusted worker (`veil-worker`), docs/formats/worker-protocol.md, and
 * the two pieces of the key-release exchange both sides compute: the
 * evidence binding and the HPKE envelope a released data key travels in.
 *
 * Layer 2: base and crypto only, so that the worker can link it without the
 * catalog, the key store or anything that reaches SQLite.
 *
 * Everything that crosses the socket is ciphertext, wrapped keys or
 * metadata that is not secret. Every frame is bounded and checked before
 * anything reads it: a malformed frame ends the session with an error.
 */
#ifndef VEIL_PROTO_H
#define VEIL_PROTO_H

#include "veil/base.h"

/* ---- frames ---- */
#define VEIL_PROTO_VERSION    2
#define VEIL_PROTO_HEADER_LEN 8                             /* "VW", version, type, u32 body length */
#define VEIL_PROTO_DATA_MAX   (1u << 20)                    /* one DATA field: 1 MiB of ciphertext */
#define VEIL_PROTO_BODY_MAX   (VEIL_PROTO_DATA_MAX + 4096u) /* the largest body accepted */
#define VEIL_PROTO_FIELDS_MAX 64                            /* fields in one message */
#define VEIL_PROTO_FIELD_HDR  6                             /* u16 tag, u32 length */

/* Message types: the direction and order are fixed by the state machine in
 * docs/formats/worker-protocol.md; each side refuses a type out of turn. */
typedef enum veil_proto_type {
	VEIL_MSG_HELLO = 1,       /* host -> worker: TEE, WORKSPACE, [SIM_KEY, CERTS, SIM_TCB] */
	VEIL_MSG_HELLO_OK = 2,    /* worker -> host: WORKER_VERSION, TEE, MEASUREMENT */
	VEIL_MSG_JOB = 3,         /* host -> worker: JOB and the fields that job takes (worker-protocol.md) */
	VEIL_MSG_KEY_REQUEST = 4, /* worker -> host: DEK_ID (1..8) */
	VEIL_MSG_CHALLENGE = 5,   /* host -> worker: NONCE */
	VEIL_MSG_EVIDENCE = 6,    /* worker -> host: TEE, EVIDENCE, PUBKEY, SIGN_PUBKEY, [CERTS] */
	VEIL_MSG_KEYS = 7,        /* host -> worker: (DEK_ID, WRAPPED) per key, in request order */
	VEIL_MSG_DATA = 8,        /* host -> worker: DATA (ciphertext) */
	VEIL_MSG_END = 9,         /* host -> worker: no field */
	VEIL_MSG_RESULT = 10, /* worker -> host: verify: SIZE, SHA256; validate, profile: REPORT, SIGNATURE */
	VEIL_MSG_ERROR = 11,  /* either way: STATUS, MESSAGE; ends the session */
	VEIL_MSG_BYE = 12,    /* host -> worker: no field; the worker exits 0 */
	/* Training (docs/formats/worker-protocol.md, "train"): */
	VEIL_MSG_PLAN = 13,     /* worker -> host: REPORT (a run's privacy plan, to charge before it runs) */
	VEIL_MSG_GO = 14,       /* host -> worker: no field; the plan was charged */
	VEIL_MSG_PROGRESS = 15, /* worker -> host: REPORT (an epoch's figures); no answer */
	VEIL_MSG_CHECKPOINT =
	        16, /* worker -> host: STEP, SIZE, SHA256 (of the plaintext), then it sealed: DATA..., END */
} veil_proto_type;
#define VEIL_MSG_TYPE_MAX 16

/* "hello", "hello-ok", ... for messages; "type N" for an unknown one. */
const char *veil_proto_type_name(unsigned type);

typedef enum veil_proto_tag {
	VEIL_F_TEE = 1,            /* text: "sim", "sev-snp" or "tdx" */
	VEIL_F_WORKSPACE = 2,      /* text: the workspace id (a label: not trusted) */
	VEIL_F_SIM_KEY = 3,        /* bytes: the simulated VCEK's PKCS#8 key (sim only) */
	VEIL_F_WORKER_VERSION = 4, /* text */
	VEIL_F_MEASUREMENT = 5,    /* bytes: what the worker measured itself as (informative) */
	VEIL_F_JOB = 6,            /* text: "verify" or "evidence" */
	VEIL_F_DEK_ID = 7,         /* text: a data key's id; may repeat */
	VEIL_F_NONCE = 8,          /* bytes: VEIL_PROTO_NONCE_LEN */
	VEIL_F_EVIDENCE = 9,       /* bytes: the raw report or quote */
	VEIL_F_PUBKEY = 10,        /* bytes: the worker's ephemeral X25519 public key */
	VEIL_F_WRAPPED = 11,       /* bytes: an HPKE envelope; may repeat */
	VEIL_F_DATA = 12,          /* bytes: at most VEIL_PROTO_DATA_MAX */
	VEIL_F_SIZE = 13,          /* u64, big-endian */
	VEIL_F_SHA256 = 14,        /* text: lowercase hex */
	VEIL_F_STATUS = 15,        /* u32, big-endian: a veil_status */
	VEIL_F_MESSAGE = 16,       /* text: for people */
	VEIL_F_CERTS = 17,         /* bytes: certificates that come with the evidence, or the sim VCEK */
	VEIL_F_SIM_TCB = 18,       /* u64: the TCB_VERSION the simulated VCEK was made for (sim only) */
	VEIL_F_SIGN_PUBKEY = 19,   /* bytes: the worker's Ed25519 report-signing key for this session */
	VEIL_F_REPORT = 20,        /* bytes: a job's report (JSON, UTF-8) */
	VEIL_F_SIGNATURE = 21,     /* bytes: Ed25519 signature of the report (veil_proto_report_verify) */
	VEIL_F_SCHEMA = 22,        /* bytes: a schema's YAML text (validate) */
	VEIL_F_CLASS = 23,         /* text: the dataset's declared classification */
	VEIL_F_PIPELINE = 24,      /* bytes: a feature pipeline's YAML text (features) */
	VEIL_F_JOB_FILE = 25,      /* bytes: a training job file's YAML text (train, evaluate) */
	VEIL_F_STEP = 26,          /* u64: the training steps a checkpoint holds */
	VEIL_F_INPUT = 27,         /* text: an input object's role and name: "train patients@3", "test-labels
	                              fm-test.labels@1" */
} veil_proto_tag;
#define VEIL_F_TAG_MAX 27

typedef struct veil_proto_field {
	uint16_t tag;
	uint32_t len;
	const uint8_t *value; /* points into the message's body */
} veil_proto_field;

/* A decoded message: the fields point into `body`, which the message owns. */
typedef struct veil_proto_msg {
	uint8_t type;
	size_t nfields;
	veil_proto_field fields[VEIL_PROTO_FIELDS_MAX];
	uint8_t *body;
	size_t body_len;
} veil_proto_msg;

/* Parses the 8-byte header: magic "VW", version VEIL_PROTO_VERSION
 * (VEIL_E_UNSUPPORTED otherwise), a known type, a body length at most
 * VEIL_PROTO_BODY_MAX (VEIL_E_LIMIT). Anything else: VEIL_E_INVALID. */
veil_status veil_proto_header_parse(const uint8_t hdr[static VEIL_PROTO_HEADER_LEN], uint8_t *type,
                                    uint32_t *body_len, veil_err *err) VEIL_MUST_CHECK;

/* Splits a body into fields and checks each against its tag's rules (known
 * tag, the lengths and text rules of docs/formats/worker-protocol.md, which
 * tags may repeat) and the message type's required and allowed fields.
 * Takes ownership of `body` (malloc'd) on success and on failure alike; on
 * failure msg is empty. VEIL_E_INVALID names the field and what was wrong. */
veil_status veil_proto_msg_parse(uint8_t type, uint8_t *body, size_t body_len, veil_proto_msg *msg,
                                 veil_err *err) VEIL_MUST_CHECK;
void veil_proto_msg_free(veil_proto_msg *msg); /* wipes the body; NULL ok */

/* The n-th field with this tag (0 first), or NULL. */
const veil_proto_field *veil_proto_get(const veil_proto_msg *msg, uint16_t tag, size_t n);
size_t veil_proto_count(const veil_proto_msg *msg, uint16_t tag);
/* A text field copied into out (NUL-terminated); VEIL_E_INVALID if absent
 * or longer than out_len - 1. */
veil_status veil_proto_get_text(const veil_proto_msg *msg, uint16_t tag, size_t n, char *out, size_t out_len,
                                veil_err *err) VEIL_MUST_CHECK;
veil_status veil_proto_get_u64(const veil_proto_msg *msg, uint16_t tag, uint64_t *out,
                               veil_err *err) VEIL_MUST_CHECK;

/* A message being built: add fields, then send it. */
typedef struct veil_proto_out {
	uint8_t type;
	veil_buf body;
	size_t nfields;
} veil_proto_out;

void veil_proto_out_init(veil_proto_out *o, uint8_t type);
void veil_proto_out_free(veil_proto_out *o); /* wipes; NULL ok */
veil_status veil_proto_add(veil_proto_out *o, uint16_t tag, const void *value, size_t len,
                           veil_err *err) VEIL_MUST_CHECK;
veil_status veil_proto_add_text(veil_proto_out *o, uint16_t tag, const char *text,
                                veil_err *err) VEIL_MUST_CHECK;
veil_status veil_proto_add_u64(veil_proto_out *o, uint16_t tag, uint64_t v, veil_err *err) VEIL_MUST_CHECK;
veil_status veil_proto_add_u32(veil_proto_out *o, uint16_t tag, uint32_t v, veil_err *err) VEIL_MUST_CHECK;

/* ---- a session on a connected stream socket ---- */
typedef struct veil_proto_conn {
	int fd;
	int timeout_ms; /* for each read and write; <= 0: wait for ever */
} veil_proto_conn;

/* Sends one frame (header and body in one write sequence; EINTR and short
 * writes handled). VEIL_E_IO when the peer has gone. */
veil_status veil_proto_send(veil_proto_conn *c, const veil_proto_out *o, veil_err *err) VEIL_MUST_CHECK;
/* The status and message an ERROR message carries, into err ("the peer:
 * ..."); a status out of range is VEIL_E_INTERNAL. Returns the status. */
veil_status veil_proto_error_status(const veil_proto_msg *msg, veil_err *err) VEIL_MUST_CHECK;
/* Receives one frame and parses it. VEIL_E_IO for end of stream (the peer
 * ended the session) or a timeout; parse errors as above. */
veil_status veil_proto_recv(veil_proto_conn *c, veil_proto_msg *msg, veil_err *err) VEIL_MUST_CHECK;
/* As recv, then: an ERROR message becomes its status and message (with the
 * prefix "the peer: "), any other type than `want` is VEIL_E_INVALID. */
veil_status veil_proto_expect(veil_proto_conn *c, uint8_t want, veil_proto_msg *msg,
                              veil_err *err) VEIL_MUST_CHECK;
/* The same for a message that may be either of two types (DATA or END). */
veil_status veil_proto_expect_either(veil_proto_conn *c, uint8_t want, uint8_t or_want, veil_proto_msg *msg,
                                     veil_err *err) VEIL_MUST_CHECK;
/* Sends an ERROR carrying err (best effort: a peer that has gone is not an
 * error of its own). */
void veil_proto_send_error(veil_proto_conn *c, const veil_err *err);

/* ---- key release: what both sides compute ---- */
#define VEIL_PROTO_NONCE_LEN   32
#define VEIL_PROTO_BINDING_LEN 64 /* SHA-512: the report_data of SEV-SNP and TDX */
#define VEIL_PROTO_DEK_LEN     32
/* The envelope a released key travels in: HPKE base mode, DHKEM(X25519,
 * HKDF-SHA256), HKDF-SHA256, AES-256-GCM; enc || ciphertext || tag. */
#define VEIL_PROTO_WRAPPED_LEN (32 + VEIL_PROTO_DEK_LEN + 16)

/* report_data = SHA-512(nonce || X25519 public key || Ed25519 public key):
 * the evidence names the one key its released keys may be wrapped to and
 * the one key the worker's reports of this session are signed with, for
 * the one challenge. */
veil_status veil_proto_binding(const uint8_t nonce[static VEIL_PROTO_NONCE_LEN], const uint8_t pub[static 32],
                               const uint8_t sign_pub[static 32], uint8_t out[static VEIL_PROTO_BINDING_LEN],
                               veil_err *err) VEIL_MUST_CHECK;

/* A job's report is signed with the session's Ed25519 key over
 * "veil worker report v1" || 0x00 || report, so that the signature cannot
 * be taken for one over any other message veil signs. */
#define VEIL_PROTO_SIG_LEN 64
veil_status veil_proto_report_sign(const uint8_t seed[static 32], const uint8_t *report, size_t len,
                                   uint8_t sig[static VEIL_PROTO_SIG_LEN], veil_err *err) VEIL_MUST_CHECK;
/* VEIL_E_AUTH when sig is not pub's signature of this report. */
veil_status veil_proto_report_verify(const uint8_t pub[static 32], const uint8_t *report, size_t len,
                                     const uint8_t *sig, size_t sig_len, veil_err *err) VEIL_MUST_CHECK;

/* Wraps a data key to the worker's public key. The HPKE info is
 * "veil key release v1" || nonce and the AAD the key's id, so an envelope
 * opens only for this exchange and only as the key it was made for. */
veil_status veil_proto_wrap_dek(const uint8_t pub[static 32],
                                const uint8_t nonce[static VEIL_PROTO_NONCE_LEN], const char *dek_id,
                                const uint8_t dek[static VEIL_PROTO_DEK_LEN],
                                uint8_t out[static VEIL_PROTO_WRAPPED_LEN], veil_err *err) VEIL_MUST_CHECK;
/* Opens it with the worker's private key (in veil_secure_alloc memory);
 * VEIL_E_AUTH for an envelope made for another key, id or nonce. dek is
 * wiped on error. */
veil_status veil_proto_unwrap_dek(const uint8_t priv[static 32],
                                  const uint8_t nonce[static VEIL_PROTO_NONCE_LEN], const char *dek_id,
                                  const uint8_t *wrapped, size_t wrapped_len,
                                  uint8_t dek[static VEIL_PROTO_DEK_LEN], veil_err *err) VEIL_MUST_CHECK;

#endif
