/*
 * What the audit module's files share and nobody else sees: the on-disk
 * formats (docs/formats/audit.md), the log handle, the record reader and the
 * canonical event codec.
 */
#ifndef VEIL_AUDIT_INT_H
#define VEIL_AUDIT_INT_H

#include "veil/audit.h"
#include "merkle.h"

#include <assert.h>
#include <jansson.h>

/* ---- files in the log's folder ---- */
#define AUDIT_PUB_FILE    "log.pub"
#define AUDIT_LEAVES_FILE "leaves"
#define AUDIT_HEADS_FILE  "heads"
#define AUDIT_LOCK_FILE   "lock"
#define AUDIT_PATH_MAX    4096

#define AUDIT_MAGIC_LEN    8
#define AUDIT_LEAVES_MAGIC "VAUDLV1\n"
#define AUDIT_HEADS_MAGIC  "VAUDHD1\n"

/* Leaf record: be32 length || leaf || SHA-256(0x00 || leaf). */
#define AUDIT_REC_OVERHEAD (4 + VEIL_AUDIT_HASH_LEN)
#define AUDIT_REC_MAX      (VEIL_AUDIT_LEAF_MAX + AUDIT_REC_OVERHEAD)

/* Head record: be64 size || be64 timestamp || root || signature. */
#define AUDIT_HEAD_LEN (8 + 8 + VEIL_AUDIT_HASH_LEN + VEIL_ED25519_SIG_LEN)
static_assert(AUDIT_HEAD_LEN == 112, "the heads file layout in docs/formats/audit.md");

/* Signed bytes: context || be64 size || be64 timestamp || root. */
#define AUDIT_STH_CONTEXT     "veil-audit-sth-v1"
#define AUDIT_STH_CONTEXT_LEN (sizeof AUDIT_STH_CONTEXT - 1)
#define AUDIT_STH_MSG_LEN     (AUDIT_STH_CONTEXT_LEN + 8 + 8 + VEIL_AUDIT_HASH_LEN)
static_assert(AUDIT_STH_MSG_LEN == 65, "the signed tree head in docs/formats/audit.md");

#define AUDIT_PROOF_FORMAT  "veil-audit-proof-v1"
#define AUDIT_EVENT_VERSION 1

static_assert(VEIL_AUDIT_PATH_MAX == VEIL_MERKLE_PATH_MAX, "one path bound");
static_assert(VEIL_AUDIT_HASH_LEN == VEIL_MERKLE_LEN, "one hash length");
static_assert(VEIL_AUDIT_DETAIL_MAX < VEIL_AUDIT_LEAF_MAX, "a detail must fit a leaf");

typedef struct audit_paths {
	char pub[AUDIT_PATH_MAX];
	char leaves[AUDIT_PATH_MAX];
	char heads[AUDIT_PATH_MAX];
	char lock[AUDIT_PATH_MAX];
} audit_paths;

veil_status audit_paths_make(const char *dir, audit_paths *p, veil_err *err) VEIL_MUST_CHECK;
/* Reads log.pub: 64 hex digits, optionally followed by a newline. */
veil_status audit_pub_read(const char *path, uint8_t pub[VEIL_ED25519_PUB_LEN],
                           veil_err *err) VEIL_MUST_CHECK;
/* Checks that fd starts with the 8-byte magic; `what` names the file. */
veil_status audit_magic_check(int fd, const char *magic, const char *what, veil_err *err) VEIL_MUST_CHECK;

/* The number of committed heads in a heads file of file_size bytes: whole
 * 112-byte records, less any all-zero records at the end (never a valid
 * head; what some filesystems leave of an unsynced append after a power
 * loss), but never fewer than `floor`. */
veil_status audit_heads_count(int fd, uint64_t file_size, uint64_t floor, uint64_t *count,
                              veil_err *err) VEIL_MUST_CHECK;

void audit_sth_message(const veil_audit_sth *sth, uint8_t msg[AUDIT_STH_MSG_LEN]);
void audit_head_encode(const veil_audit_sth *sth, uint8_t rec[AUDIT_HEAD_LEN]);
void audit_head_decode(const uint8_t rec[AUDIT_HEAD_LEN], veil_audit_sth *sth);
veil_status audit_sth_sign(const uint8_t seed[VEIL_ED25519_SEED_LEN], veil_audit_sth *sth,
                           veil_err *err) VEIL_MUST_CHECK;

veil_status audit_pread_all(int fd, void *buf, size_t n, uint64_t off, size_t *got,
                            veil_err *err) VEIL_MUST_CHECK;
veil_status audit_pwrite_all(int fd, const void *buf, size_t n, uint64_t off, veil_err *err) VEIL_MUST_CHECK;

/* ---- sequential reader of leaf records ---- */
typedef enum audit_rec_kind {
	AUDIT_REC_OK,     /* a whole record */
	AUDIT_REC_END,    /* no bytes left */
	AUDIT_REC_TORN,   /* bytes left, but fewer than a whole record */
	AUDIT_REC_BADLEN, /* the length field is 0 or above VEIL_AUDIT_LEAF_MAX */
} audit_rec_kind;

typedef struct audit_record {
	uint64_t offset;     /* of the record in the file */
	uint64_t end;        /* offset just past it */
	const uint8_t *leaf; /* valid until the next call */
	size_t len;
	const uint8_t *hash; /* the stored check hash */
	uint32_t raw_len;    /* the length field as read (for messages) */
} audit_record;

typedef struct audit_reader {
	int fd;
	uint64_t off; /* file offset of buf[0] */
	uint8_t *buf;
	size_t len, pos, cap;
	bool eof;
} audit_reader;

veil_status audit_reader_init(audit_reader *r, int fd, uint64_t offset, veil_err *err) VEIL_MUST_CHECK;
veil_status audit_reader_next(audit_reader *r, audit_record *rec, audit_rec_kind *kind,
                              veil_err *err) VEIL_MUST_CHECK;
/* File offset of the next unread byte. */
uint64_t audit_reader_tell(const audit_reader *r);
void audit_reader_free(audit_reader *r);

/* ---- canonical events (event.c) ---- */

/* Validates ev and writes its canonical JSON leaf to out (appended). time 0
 * becomes `now`. */
veil_status audit_event_encode(const veil_audit_event *ev, int64_t now, veil_buf *out,
                               veil_err *err) VEIL_MUST_CHECK;

typedef struct audit_decoded {
	veil_audit_event ev; /* strings point into root / detail */
	json_t *root;
	char *detail;
} audit_decoded;

/* Parses a leaf back into an event, applying the same rules as encode. On
 * success the caller calls audit_decoded_free. */
veil_status audit_event_decode(const uint8_t *leaf, size_t n, audit_decoded *d,
                               veil_err *err) VEIL_MUST_CHECK;
void audit_decoded_free(audit_decoded *d);

/* ---- the log handle (log.c) ---- */
struct veil_audit {
	audit_paths paths;
	int leaves_fd, heads_fd, lock_fd;
	bool writable, locked, broken;
	uint8_t *seed; /* secure memory; writable handles only */
	uint8_t pub[VEIL_ED25519_PUB_LEN];
	veil_merkle mk;
	/* Leaf hashes and record offsets: committed [0, n), then the batch. */
	uint8_t (*hashes)[VEIL_AUDIT_HASH_LEN];
	uint64_t *offsets;
	uint64_t n;
	size_t cap;
	veil_audit_sth *heads;
	size_t nheads, heads_cap;
	uint64_t leaves_end;     /* offset just past the last committed record */
	veil_merkle_stack stack; /* compact range over the committed leaves */
	veil_buf pending;        /* the batch's records, ready to write */
	uint64_t npending;
};

/* Reads committed leaf i into out (replacing its content), checking it
 * against the in-memory hash. */
veil_status audit_leaf_get(veil_audit *log, uint64_t i, veil_buf *out, veil_err *err) VEIL_MUST_CHECK;

#endif
