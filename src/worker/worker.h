/*
 * veil-worker internals: one session with the host over an inherited
 * socket (docs/formats/worker-protocol.md). The worker is the only process
 * that holds plaintext data keys and plaintext data; it links base, crypto,
 * proto and attest only (tests/worker/link-allowlist.txt says which shared
 * libraries that may pull in).
 */
#ifndef VEIL_WORKER_H
#define VEIL_WORKER_H

#include "veil/attest.h"
#include "veil/crypto.h"
#include "veil/proto.h"

#define WORKER_TEE_MAX 16

typedef struct worker {
	veil_proto_conn conn;
	char tee[WORKER_TEE_MAX]; /* what this session's evidence comes from: "sim", "sev-snp", "tdx" */
	uint8_t measurement[VEIL_SNP_MEASUREMENT_LEN]; /* SHA-384 of this executable */
	veil_sim_chain sim;                            /* sim only: the VCEK and its key, from hello */
	uint64_t sim_tcb;
	/* The session's report-signing key (Ed25519), made at hello. Every
	 * evidence the worker sends binds sign_pub, so a report it signs is
	 * as good as the evidence. The seed is in veil_secure_alloc memory. */
	uint8_t *sign_seed;
	uint8_t sign_pub[32];
} worker;

/* SHA-384 of the running executable: what a simulated report claims as its
 * measurement (docs/formats/worker-protocol.md, "Measurement"). */
veil_status worker_measure_self(uint8_t out[static VEIL_SNP_MEASUREMENT_LEN], veil_err *err) VEIL_MUST_CHECK;

/* Evidence for this TEE whose report data is `report_data`; certs gets
 * what the verifier needs with it (may stay empty). */
veil_status worker_evidence(worker *w, const uint8_t report_data[static VEIL_PROTO_BINDING_LEN],
                            veil_buf *evidence, veil_buf *certs, veil_err *err) VEIL_MUST_CHECK;

/* The key-release exchange for n data keys (ids): request, challenge,
 * evidence bound to a fresh X25519 key, wrapped keys. deks receives n keys
 * of VEIL_PROTO_DEK_LEN bytes in veil_secure_alloc memory of the caller. */
/* Sends an EVIDENCE message answering nonce for public key pub. */
veil_status worker_send_evidence(worker *w, const uint8_t nonce[static VEIL_PROTO_NONCE_LEN],
                                 const uint8_t pub[static 32], veil_err *err) VEIL_MUST_CHECK;
veil_status worker_get_keys(worker *w, const char *const *ids, size_t n, uint8_t *deks,
                            veil_err *err) VEIL_MUST_CHECK;

/* Decrypts the object the host streams next (DATA messages, then END)
 * with dek, writing the plaintext to wr as each chunk authenticates. The
 * object's header must name dek_id; nothing may follow the object. */
veil_status worker_decrypt(worker *w, const char *dek_id, const uint8_t *dek, veil_write_fn wr, void *wctx,
                           veil_err *err) VEIL_MUST_CHECK;

/* The same, as a stream to read (plain.c): a thread decrypts into a pipe.
 * dek must stay valid until worker_plain_close, whose status is the
 * decryption's: what was read counts only when it is VEIL_OK. bytes gets
 * the plaintext length (may be NULL). */
typedef struct worker_plain worker_plain;
veil_status worker_plain_open(worker *w, const char *dek_id, const uint8_t *dek, worker_plain **out,
                              veil_err *err) VEIL_MUST_CHECK;
veil_status worker_plain_read(void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err) VEIL_MUST_CHECK;
veil_status worker_plain_close(worker_plain *p, uint64_t *bytes, veil_err *err) VEIL_MUST_CHECK;

/* Decrypts the object the host streams next whole into in (which the
 * caller wipes and frees), checking its plaintext against want_size and
 * want_sha (lowercase hex): VEIL_E_CORRUPT when they differ. */
veil_status worker_read_whole(worker *w, const char *dek_id, const uint8_t *dek, uint64_t want_size,
                              const char *want_sha, veil_buf *in, veil_err *err) VEIL_MUST_CHECK;

/* What a job's report says of one object it wrote. */
typedef struct worker_written {
	uint64_t size;                        /* plaintext bytes */
	char sha256[2 * VEIL_SHA256_LEN + 1]; /* of the plaintext */
	uint32_t chunk_size;
} worker_written;
/* Seals plain[0..n) under dek (named id) and streams the ciphertext to
 * the host as DATA messages, then END. */
veil_status worker_send_sealed(worker *w, const uint8_t *plain, size_t n, const char *id, const uint8_t *dek,
                               worker_written *out, veil_err *err) VEIL_MUST_CHECK;

/* Sends RESULT with a job's report and its signature by the session key. */
veil_status worker_send_report(worker *w, const veil_buf *report, veil_err *err) VEIL_MUST_CHECK;

/* Jobs: each runs one JOB message to its RESULT. */
veil_status worker_job_verify(worker *w, const veil_proto_msg *job, veil_err *err) VEIL_MUST_CHECK;
/* validate (with a schema) and profile (inferring one): a signed report. */
veil_status worker_job_validate(worker *w, const veil_proto_msg *job, veil_err *err) VEIL_MUST_CHECK;
veil_status worker_job_profile(worker *w, const veil_proto_msg *job, veil_err *err) VEIL_MUST_CHECK;
/* features: fit a pipeline, send the sealed output and fitted transform. */
veil_status worker_job_features(worker *w, const veil_proto_msg *job, veil_err *err) VEIL_MUST_CHECK;
/* train: a job file's runs on decrypted inputs; the sealed model,
 * checkpoints along the way, a signed report (job_train.c). */
veil_status worker_job_train(worker *w, const veil_proto_msg *job, veil_err *err) VEIL_MUST_CHECK;
/* evaluate: a stored model's metrics on a data set (job_evaluate.c). */
veil_status worker_job_evaluate(worker *w, const veil_proto_msg *job, veil_err *err) VEIL_MUST_CHECK;
/* Evidence alone, for `veil attest evidence`: bound to the job's nonce and
 * a fresh key pair whose private half is thrown away at once. */
veil_status worker_job_evidence(worker *w, const veil_proto_msg *job, veil_err *err) VEIL_MUST_CHECK;

/* The message loop: hello, then jobs until bye. Returns when the session
 * ends; VEIL_OK only for a clean bye. */
veil_status worker_session(worker *w, veil_err *err) VEIL_MUST_CHECK;

#endif
