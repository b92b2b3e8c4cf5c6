/*
 * veil audit log (layer 2): the tamper-evident transparency log of DESIGN.md
 * section 6.
 *
 * Every state change, key use and access decision is an event (time, actor,
 * action, resource, outcome, detail). Events are the leaves of an append-only
 * Merkle tree hashed exactly as RFC 9162 section 2.1 specifies; after each
 * batch the log signs a tree head {size, timestamp, root} with its Ed25519 key.
 * Anyone holding the public key can check a head, an inclusion proof (this
 * event is in the log) and a consistency proof (this later log extends that
 * earlier one) without the log itself. docs/formats/audit.md specifies every
 * byte: the leaf encoding, the files, the signed head and the proof JSON.
 *
 * Life of a writer:
 *
 *   veil_audit_open(dir, seed) --append--> [batch pending, lock held]
 *        ^                                   |  append ...
 *        +----------- commit / close --------+
 *
 * An event is committed when a signed head covers it: commit returns VEIL_OK
 * only after the leaves and then the head are on disk (two fsyncs per batch,
 * however many events). A crash at any instant loses at most the batch being
 * committed; reopening removes its torn remains. Several processes may append
 * to one log: the first append of a batch takes an exclusive lock on the log
 * (waiting at most VEIL_AUDIT_LOCK_WAIT_MS) and commit or close releases it.
 *
 * A veil_audit handle is for one thread at a time; two writing handles in
 * one process contend for the lock like two processes. Every function fills
 * `err` (may be NULL) on failure; none prints.
 */
#ifndef VEIL_AUDIT_H
#define VEIL_AUDIT_H

#include "veil/base.h"
#include "veil/crypto.h"

#define VEIL_AUDIT_HASH_LEN     32           /* SHA-256 */
#define VEIL_AUDIT_LEAF_MAX     (64u << 10)  /* canonical event bytes, the whole leaf */
#define VEIL_AUDIT_ACTOR_MAX    256          /* bytes of actor */
#define VEIL_AUDIT_ACTION_MAX   64           /* bytes of action: [a-z0-9._-], starts with a letter */
#define VEIL_AUDIT_RESOURCE_MAX 1024         /* bytes of resource */
#define VEIL_AUDIT_DETAIL_MAX   (32u << 10)  /* bytes of detail JSON text, before canonical re-encoding */
#define VEIL_AUDIT_TIME_MAX     253402300799 /* 9999-12-31T23:59:59Z */
#define VEIL_AUDIT_BATCH_MAX    (64u << 20)  /* bytes of events pending before a commit is required */
#define VEIL_AUDIT_PATH_MAX     64           /* hashes in an inclusion or consistency path */
#define VEIL_AUDIT_PROOF_MAX    (1u << 20)   /* bytes of proof JSON */
#define VEIL_AUDIT_LOCK_WAIT_MS 10000        /* longest wait for another process's batch */
#define VEIL_AUDIT_DESC_MAX     512

/* An open log. */
typedef struct veil_audit veil_audit;

/* One event. All strings are NUL-terminated UTF-8 without control characters
 * (detail excepted, which is JSON). Bounds are the _MAX constants above. */
typedef struct veil_audit_event {
	int64_t time;         /* seconds since the epoch; 0 on append means "now" */
	const char *actor;    /* who: a principal name, "system", ... (non-empty) */
	const char *action;   /* what: "data.upload", "key.unwrap", "access.check" */
	const char *resource; /* on what: a dataset, key or job name; may be "" */
	const char *outcome;  /* exactly "ok", "denied" or "failed" */
	const char *detail;   /* a JSON object as text, or NULL; stored in canonical form */
} veil_audit_event;

/* A signed tree head: the log's statement that its first `size` events hash
 * to `root`. The signed bytes are in docs/formats/audit.md. */
typedef struct veil_audit_sth {
	uint64_t size;
	int64_t timestamp;
	uint8_t root[VEIL_AUDIT_HASH_LEN];
	uint8_t sig[VEIL_ED25519_SIG_LEN];
} veil_audit_sth;

/* ---- creating and opening ---- */

/* Creates an empty log in dir (made 0700 if missing): the leaves and heads
 * files, the first signed head (size 0) and log.pub, the public key as 64
 * hex digits and a newline. Fails with VEIL_E_EXISTS if dir holds a log.
 * The caller keeps the seed (sealed by the KMS); the log never stores it. */
veil_status veil_audit_create(const char *dir, const uint8_t seed[VEIL_ED25519_SEED_LEN],
                              veil_err *err) VEIL_MUST_CHECK;

/* Opens the log in dir. With a seed (which must match log.pub, else
 * VEIL_E_KEY) the handle can append; it is copied into locked memory and
 * wiped on close. It first takes the lock (waiting like append) and removes
 * whatever an interrupted commit left beyond the last signed head. With seed
 * NULL the handle is read-only, takes no lock and changes nothing. Either way the open checks
 * that every head's root matches the leaf hashes and that the last head's
 * signature is valid; VEIL_E_CORRUPT means run veil_audit_verify.
 * On success the caller owns *out and frees it with veil_audit_close. */
veil_status veil_audit_open(const char *dir, const uint8_t *seed, veil_audit **out,
                            veil_err *err) VEIL_MUST_CHECK;

/* Discards any uncommitted events, releases the lock, wipes the seed and
 * frees the handle. NULL is fine. */
void veil_audit_close(veil_audit *log);

/* ---- appending ---- */

/* Validates the event, encodes it as its canonical leaf and adds it to the
 * pending batch; *index (may be NULL) gets its final position in the log.
 * The first append of a batch takes the lock (VEIL_E_BUSY after
 * VEIL_AUDIT_LOCK_WAIT_MS) and catches up with other processes' commits.
 * Nothing is written until commit. VEIL_E_INVALID or VEIL_E_LIMIT name the
 * offending field; the batch is unchanged then. */
veil_status veil_audit_append(veil_audit *log, const veil_audit_event *ev, uint64_t *index,
                              veil_err *err) VEIL_MUST_CHECK;

/* Writes the pending batch, fsyncs once, signs a head over the new tree,
 * appends it to the heads file, fsyncs again and releases the lock. With
 * nothing pending it does nothing. On failure nothing of the batch is
 * committed, the batch is discarded and the lock released: the caller
 * should treat those events' actions as not audited. */
veil_status veil_audit_commit(veil_audit *log, veil_err *err) VEIL_MUST_CHECK;

/* ---- reading ---- */

/* Number of committed events (the size of the latest signed head). */
uint64_t veil_audit_size(const veil_audit *log);
/* Number of signed heads, at least 1 (the head of the empty log). */
size_t veil_audit_head_count(const veil_audit *log);
/* The i-th signed head, 0 being the oldest; VEIL_E_INVALID if i is too big. */
veil_status veil_audit_head(const veil_audit *log, size_t i, veil_audit_sth *out,
                            veil_err *err) VEIL_MUST_CHECK;
void veil_audit_public_key(const veil_audit *log, uint8_t pub[VEIL_ED25519_PUB_LEN]);

/* Called for each event in order. The event's strings (detail in canonical
 * form) live only until the callback returns. A non-OK return stops the
 * reading and is returned by veil_audit_read. */
typedef veil_status (*veil_audit_read_fn)(void *ctx, uint64_t index, const veil_audit_event *ev,
                                          veil_err *err);
/* Calls fn for the committed events from `from` on. Each leaf is checked
 * against its hash first: VEIL_E_CORRUPT if it was modified. */
veil_status veil_audit_read(veil_audit *log, uint64_t from, veil_audit_read_fn fn, void *ctx,
                            veil_err *err) VEIL_MUST_CHECK;

/* ---- checking the whole log ---- */

typedef enum veil_audit_problem {
	VEIL_AUDIT_SOUND = 0, /* no problem */
	VEIL_AUDIT_BAD_FILE,  /* a file is missing or its header is damaged */
	VEIL_AUDIT_BAD_LEAF,  /* index is the first bad leaf */
	VEIL_AUDIT_BAD_HEAD,  /* index is the first bad head */
} veil_audit_problem;

typedef struct veil_audit_report {
	veil_audit_problem problem;
	uint64_t index;              /* leaf or head number, per problem */
	char what[VEIL_ERR_MSG_MAX]; /* "leaf 17 was modified ...", or empty */
	uint64_t leaves;             /* committed leaves checked and found sound */
	uint64_t heads;              /* signed heads checked and found sound */
	uint64_t uncommitted_bytes;  /* remains of an interrupted commit; the next writer removes them */
	veil_audit_sth last;         /* the last sound head */
} veil_audit_report;

/* Checks the log in dir from scratch, changing nothing: recomputes every
 * leaf hash and the root at every signed head, checks every head's
 * signature, that sizes increase and timestamps never go back, and that the
 * records are well formed. pub is the log's key as the caller knows it
 * (from the KMS); NULL trusts dir/log.pub. Returns VEIL_OK for a sound log,
 * VEIL_E_CORRUPT with report->problem, index and what naming the first bad
 * entry (the message is in err too), or another code if a file could not
 * be read (the report is then incomplete). */
veil_status veil_audit_verify(const char *dir, const uint8_t *pub, veil_audit_report *report,
                              veil_err *err) VEIL_MUST_CHECK;

/* ---- proofs: self-contained JSON documents (docs/formats/audit.md) ---- */

/* Proves that event `index` is in the tree of size tree_size (0: the latest
 * head). tree_size must have a signed head; the error lists the nearest.
 * Appends the JSON to out_json, which the caller frees. */
veil_status veil_audit_prove_inclusion(veil_audit *log, uint64_t index, uint64_t tree_size,
                                       veil_buf *out_json, veil_err *err) VEIL_MUST_CHECK;
/* Proves that the tree of size new_size (0: the latest head) extends the
 * tree of size old_size, 1 <= old_size <= new_size; both need signed heads. */
veil_status veil_audit_prove_consistency(veil_audit *log, uint64_t old_size, uint64_t new_size,
                                         veil_buf *out_json, veil_err *err) VEIL_MUST_CHECK;

typedef enum veil_audit_proof_kind {
	VEIL_AUDIT_PROOF_INCLUSION = 1,
	VEIL_AUDIT_PROOF_CONSISTENCY = 2,
} veil_audit_proof_kind;

/* What a checked proof established. Compare the heads with heads seen
 * elsewhere: two valid heads of one size with different roots prove a fork. */
typedef struct veil_audit_proof_info {
	veil_audit_proof_kind kind;
	uint64_t leaf_index;                    /* inclusion */
	uint8_t leaf_hash[VEIL_AUDIT_HASH_LEN]; /* inclusion: RFC 9162 leaf hash of the leaf */
	veil_audit_sth head;                    /* inclusion: the head; consistency: the new head */
	veil_audit_sth old_head;                /* consistency */
	char description[VEIL_AUDIT_DESC_MAX];  /* one line for people */
} veil_audit_proof_info;

/* The outside auditor's check: needs only the proof text and the log's
 * public key. Verifies the head signature(s), then the RFC 9162 section
 * 2.1.3.2 or 2.1.4.2 algorithm. VEIL_OK and *out filled if the proof holds;
 * VEIL_E_AUTH for a bad signature, VEIL_E_CORRUPT for a path that does not
 * lead to the signed root, VEIL_E_INVALID or VEIL_E_LIMIT for a malformed
 * or oversized document. out may be NULL. */
veil_status veil_audit_check_proof(const char *json, size_t len, const uint8_t pub[VEIL_ED25519_PUB_LEN],
                                   veil_audit_proof_info *out, veil_err *err) VEIL_MUST_CHECK;

/* Checks one signed head: VEIL_OK or VEIL_E_AUTH. */
veil_status veil_audit_sth_verify(const uint8_t pub[VEIL_ED25519_PUB_LEN], const veil_audit_sth *sth,
                                  veil_err *err) VEIL_MUST_CHECK;

#endif
