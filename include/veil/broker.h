/*
 * veil broker: the key broker's checks on a worker's evidence (docs/formats/
 * worker-protocol.md, "Key release"). One function verifies evidence of any
 * supported TEE down to its root and turns it into TEE-neutral claims; the
 * challenge functions add what an online exchange needs on top: a fresh
 * nonce, used once, answered in time, and evidence whose report data binds
 * that nonce and the public key the released keys will be wrapped to.
 *
 * Deciding which keys the claims earn is the release policy's job
 * (veil/attest.h); fetching and wrapping them is the caller's.
 *
 * Layer 3: uses attest, proto and crypto.
 */
#ifndef VEIL_BROKER_H
#define VEIL_BROKER_H

#include "veil/attest.h"
#include "veil/proto.h"

/* Evidence as it arrives: the raw report or quote and what came with it. */
typedef struct veil_evidence {
	const char *tee; /* "sim", "sev-snp", "tdx" */
	const uint8_t *data;
	size_t len;
	const uint8_t *vcek_der; /* SEV-SNP: the VCEK (DER) */
	size_t vcek_len;
	const char *chain_pem; /* SEV-SNP: ASK + ARK (PEM); NULL: the pinned ones */
	size_t chain_len;
	/* SEV-SNP: the certificate table the platform returned with the report
	 * (configfs-tsm auxblob), used when vcek_der is NULL. */
	const uint8_t *certtable;
	size_t certtable_len;
} veil_evidence;

/* What the verifier trusts besides the pinned vendor roots. */
typedef struct veil_broker_trust {
	const veil_sim_chain *sim; /* the workspace's simulated chain; NULL: simulated evidence is refused */
	const char *region;        /* the worker's region as the host knows it; NULL: unknown */
} veil_broker_trust;

/* Verifies ev at `now` for its TEE and fills claims (evidence_time = now:
 * reports carry no time of their own, and an online exchange has just
 * made them) and report_data (the 64 bytes the evidence binds). Errors are
 * the verifier's, each naming what failed; on error claims claim nothing. */
veil_status veil_broker_verify(const veil_broker_trust *t, const veil_evidence *ev, int64_t now,
                               veil_attest_claims *claims, uint8_t report_data[static VEIL_PROTO_BINDING_LEN],
                               veil_err *err) VEIL_MUST_CHECK;

#define VEIL_BROKER_CHALLENGE_TTL 60 /* seconds a nonce may be answered in */

typedef struct veil_broker_challenge {
	uint8_t nonce[VEIL_PROTO_NONCE_LEN];
	int64_t issued;
	bool used;
} veil_broker_challenge;

/* A fresh random nonce issued at `now`. */
veil_status veil_broker_challenge_new(veil_broker_challenge *c, int64_t now, veil_err *err) VEIL_MUST_CHECK;

/* Checks evidence offered in answer to c, with the worker's public key:
 * c is used up by the first answer, right or wrong (a second one is a
 * replay: VEIL_E_DENIED); an answer later than VEIL_BROKER_CHALLENGE_TTL
 * or from before the challenge is stale (VEIL_E_DENIED); then the evidence
 * is verified (veil_broker_verify) and its report data must be
 * SHA-512(nonce || pub || sign_pub), else it answers another challenge or
 * names other keys (VEIL_E_DENIED). sign_pub is the worker's report-signing
 * key: once this passes, reports it signs are the attested worker's. On error claims claim nothing. */
veil_status veil_broker_check(veil_broker_challenge *c, const veil_broker_trust *t, const veil_evidence *ev,
                              const uint8_t pub[static 32], const uint8_t sign_pub[static 32], int64_t now,
                              veil_attest_claims *claims, veil_err *err) VEIL_MUST_CHECK;

#endif
