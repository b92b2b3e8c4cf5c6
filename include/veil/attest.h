/*
 * veil attest: evidence of what runs inside a TEE, verified down to a pinned
 * root (docs/formats/sev-snp.md). This first piece is AMD SEV-SNP: the
 * attestation report parser and the verifier of its signature, its VCEK ->
 * ASK -> ARK or VLEK -> ASVK -> ARK chain (the ARKs pinned in
 * src/attest/roots.c) and of the signing key's TCB extensions (and, for a
 * VCEK, its hardware id) against the report.
 *
 * Layer 2: uses base and crypto only.
 *
 * What a successful veil_snp_verify establishes:
 *  1. bytes 0x000..0x29F of the report were signed (ECDSA P-384, SHA-384) by
 *     the private key of the certificate given: a VCEK (chip-specific) or a
 *     VLEK (AMD's key for one cloud provider), as the report's key_info says;
 *  2. that certificate was issued by an ASK (VCEK) or ASVK (VLEK) that one
 *     of AMD's pinned ARKs (Milan, Genoa, Turin) issued, every certificate
 *     valid at `now`;
 *  3. the key was certified for the TCB the report claims (reported_tcb)
 *     and, for a VCEK, for the chip the report names (chip_id), unless the
 *     firmware masked the chip id (all zeros). A VLEK names no chip, so a
 *     VLEK-signed report is not tied to one; the result says which.
 * It does not judge the claims (debug, measurement, TCB minimums, VMPL):
 * that is the release policy's job, from the parsed report and the result.
 */
#ifndef VEIL_ATTEST_H
#define VEIL_ATTEST_H

#include "veil/base.h"

/* ---- the ATTESTATION_REPORT (SEV-SNP firmware ABI, Table 22/23) ---- */
#define VEIL_SNP_REPORT_LEN      1184  /* 0x4A0: the whole report, exactly */
#define VEIL_SNP_SIGNED_LEN      0x2A0 /* the signature covers bytes 0x000..0x29F */
#define VEIL_SNP_SIG_OFF         0x2A0
#define VEIL_SNP_SIG_COMPONENT   72 /* R and S: little-endian, zero-padded to 72 bytes */
#define VEIL_SNP_REPORT_DATA_LEN 64
#define VEIL_SNP_MEASUREMENT_LEN 48
#define VEIL_SNP_HOST_DATA_LEN   32
#define VEIL_SNP_KEY_DIGEST_LEN  48
#define VEIL_SNP_ID_LEN          16 /* family_id, image_id */
#define VEIL_SNP_REPORT_ID_LEN   32
#define VEIL_SNP_CHIP_ID_LEN     64
#define VEIL_SNP_SIG_ALGO_P384   1 /* ECDSA P-384 with SHA-384, the only one defined */
#define VEIL_SNP_POLICY_DEBUG    (UINT64_C(1) << 19)
#define VEIL_SNP_POLICY_MIGRATE  (UINT64_C(1) << 18)
#define VEIL_SNP_POLICY_SMT      (UINT64_C(1) << 16)
/* The report versions veil reads: 2 to 5 share one layout (3 added the
 * CPUID fields, 4 nothing veil reads, 5 the mitigation vectors). */
#define VEIL_SNP_REPORT_VERSION_MIN 2
#define VEIL_SNP_REPORT_VERSION_MAX 5
/* key_info (0x48): bit 0 AUTHOR_KEY_EN, bit 1 MASK_CHIP_KEY, bits 4:2 SIGNING_KEY. */
#define VEIL_SNP_KEYINFO_AUTHOR_KEY_EN 0x1u
#define VEIL_SNP_KEYINFO_MASK_CHIP_KEY 0x2u
#define VEIL_SNP_SIGNING_VCEK          0
#define VEIL_SNP_SIGNING_VLEK          1
#define VEIL_SNP_SIGNING_NONE          7

/* Which AMD processor generation a chain (and so a TCB layout) belongs to. */
typedef enum veil_snp_product {
	VEIL_SNP_PRODUCT_UNKNOWN = 0,
	VEIL_SNP_PRODUCT_MILAN,
	VEIL_SNP_PRODUCT_GENOA,
	VEIL_SNP_PRODUCT_TURIN,
} veil_snp_product;

/* "Milan", "Genoa", "Turin" or "unknown". */
const char *veil_snp_product_name(veil_snp_product p);

/* A TCB_VERSION, decoded. Milan and Genoa: byte 0 boot loader, 1 TEE, 2..5
 * reserved, 6 SNP, 7 microcode. Turin: 0 FMC, 1 boot loader, 2 TEE, 3 SNP,
 * 4..6 reserved, 7 microcode (fmc is 0 for the others). */
typedef struct veil_snp_tcb {
	uint64_t raw; /* as in the report, little-endian decoded */
	uint8_t fmc, bootloader, tee, snp, microcode;
	bool reserved_zero; /* the reserved bytes of this layout are all zero */
} veil_snp_tcb;

/* Decodes raw for the layout of product p (UNKNOWN reads as Milan's). */
void veil_snp_tcb_decode(uint64_t raw, veil_snp_product p, veil_snp_tcb *out);

typedef struct veil_snp_report {
	uint32_t version; /* VEIL_SNP_REPORT_VERSION_MIN..MAX */
	uint32_t guest_svn;
	uint64_t policy;
	uint8_t family_id[VEIL_SNP_ID_LEN];
	uint8_t image_id[VEIL_SNP_ID_LEN];
	uint32_t vmpl;
	uint32_t signature_algo;
	uint64_t current_tcb;
	uint64_t platform_info;
	uint32_t key_info;    /* 0x48: AUTHOR_KEY_EN, MASK_CHIP_KEY, SIGNING_KEY */
	unsigned signing_key; /* bits 4:2 of key_info: VEIL_SNP_SIGNING_* */
	uint8_t report_data[VEIL_SNP_REPORT_DATA_LEN];
	uint8_t measurement[VEIL_SNP_MEASUREMENT_LEN];
	uint8_t host_data[VEIL_SNP_HOST_DATA_LEN];
	uint8_t id_key_digest[VEIL_SNP_KEY_DIGEST_LEN];
	uint8_t author_key_digest[VEIL_SNP_KEY_DIGEST_LEN];
	uint8_t report_id[VEIL_SNP_REPORT_ID_LEN];
	uint8_t report_id_ma[VEIL_SNP_REPORT_ID_LEN];
	uint64_t reported_tcb;
	uint8_t cpuid_fam_id, cpuid_mod_id, cpuid_step; /* version 3 only; 0 in version 2 */
	uint8_t chip_id[VEIL_SNP_CHIP_ID_LEN];
	uint64_t committed_tcb;
	uint8_t current_build, current_minor, current_major;
	uint8_t committed_build, committed_minor, committed_major;
	uint64_t launch_tcb;
	uint64_t launch_mit_vector;            /* 0x1F8, version 5 (0 before): mitigations at launch */
	uint64_t current_mit_vector;           /* 0x200, version 5 (0 before): mitigations now */
	uint8_t sig_r[VEIL_SNP_SIG_COMPONENT]; /* little-endian, as in the report */
	uint8_t sig_s[VEIL_SNP_SIG_COMPONENT];
	bool debug;                       /* policy bit 19: the host can read and change the guest's memory */
	uint8_t raw[VEIL_SNP_REPORT_LEN]; /* the report as given (what the signature covers) */
} veil_snp_report;

/* Parses an attestation report of exactly VEIL_SNP_REPORT_LEN bytes.
 * Refuses: another length (VEIL_E_INVALID), a version outside
 * VEIL_SNP_REPORT_VERSION_MIN..MAX or a signature algorithm other than 1
 * (VEIL_E_UNSUPPORTED), non-zero bytes in the unsigned tail after S
 * (VEIL_E_INVALID: nothing authenticates them, so only one spelling of a
 * report is accepted). Parsing checks no signature: the fields are claims
 * until veil_snp_verify succeeds. On error *out is zeroed. */
veil_status veil_snp_report_parse(const uint8_t *bytes, size_t len, veil_snp_report *out,
                                  veil_err *err) VEIL_MUST_CHECK;

/* What verification established, beyond the report's own fields. */
#define VEIL_SNP_VCEK_PRODUCT_MAX 32
typedef struct veil_snp_result {
	veil_snp_product product;                     /* from the pinned ARK that anchors the chain */
	char vcek_product[VEIL_SNP_VCEK_PRODUCT_MAX]; /* the signing key's product name ("Milan-B0") or "" */
	veil_snp_tcb reported_tcb;                    /* decoded for product */
	bool debug;                                   /* the claim `debug = true` when policy bit 19 is set */
	bool chip_id_masked;                          /* chip_id all zero: hwID could not be compared */
	unsigned signing_key; /* VEIL_SNP_SIGNING_VCEK or VEIL_SNP_SIGNING_VLEK: the key that signed */
	bool chip_bound;      /* the VCEK's hwID equals chip_id: false for a VLEK (no chip) or a masked id */
} veil_snp_result;

/* Certificates larger than this are refused before parsing. */
#define VEIL_SNP_CERT_MAX  (16u << 10)
#define VEIL_SNP_CHAIN_MAX (64u << 10)

/* Verifies a parsed report with its signing key's certificate (DER) and the
 * intermediate+ARK chain (PEM, the two certificates AMD's KDS serves as
 * cert_chain, in either order). Which key signed is the report's key_info:
 * for VEIL_SNP_SIGNING_VCEK vcek_der is the VCEK and the chain ASK+ARK; for
 * VEIL_SNP_SIGNING_VLEK vcek_der is the VLEK and the chain ASVK+ARK (KDS
 * .../vlek/v1/<product>/cert_chain). chain_pem may be NULL: the pinned ASK
 * (or ASVK) of each product is tried instead. A VLEK is issued to a cloud
 * provider, not to a chip: it has no hwID, and chip_id is not compared
 * (the result's chip_bound is false); its TCB extensions are checked as a
 * VCEK's.
 * `now` (seconds since the epoch) is the time every certificate must be
 * valid at. Only report->raw is read (parsed again): a field edited after
 * parsing counts for nothing.
 *
 * Errors, each naming the link that failed:
 *  - VEIL_E_INVALID: malformed certificate or chain, wrong key type, a
 *    certificate with a hwID (a VCEK) for a VLEK-signed report;
 *  - VEIL_E_CORRUPT: a certificate not signed by its issuer, an ARK that is
 *    not pinned, names that do not chain, a certificate not valid at `now`;
 *  - VEIL_E_AUTH: the report's signature does not verify with the VCEK's
 *    (or VLEK's) key;
 *  - VEIL_E_DENIED: the key's TCB, or the VCEK's hwID, does not match the report;
 *  - VEIL_E_UNSUPPORTED: a report signed by no key (SIGNING_KEY 7,
 *    MASK_CHIP_KEY) or by a key the ABI does not define (2..6).
 * On error *out is zeroed. */
veil_status veil_snp_verify(const veil_snp_report *report, const uint8_t *vcek_der, size_t vcek_len,
                            const char *chain_pem, size_t chain_len, int64_t now, veil_snp_result *out,
                            veil_err *err) VEIL_MUST_CHECK;

/* ---- the pinned AMD roots (src/attest/roots.c) ---- */
/* The PEM of product p's ARK, of its VCEK-signing ASK and of its
 * VLEK-signing ASVK (the same ARK issued both); NULL for UNKNOWN. */
const char *veil_snp_pinned_ark_pem(veil_snp_product p);
const char *veil_snp_pinned_ask_pem(veil_snp_product p);
const char *veil_snp_pinned_asvk_pem(veil_snp_product p);

/* ---- claims: what verified evidence says, whatever the TEE ---- */
/* The release policy judges these, never a TEE's own report, so that one
 * policy covers SEV-SNP, TDX, vTPM and the simulated TEE. A zeroed struct
 * claims nothing (no TEE, no measurement, debug unknown, no time): every
 * clause that needs a claim then fails, but veil_attest_claims_init also
 * sets vmpl to -1. */
typedef enum veil_tee {
	VEIL_TEE_UNKNOWN = 0,
	VEIL_TEE_SEV_SNP,
	VEIL_TEE_TDX,
	VEIL_TEE_VTPM,
	VEIL_TEE_SIM,
} veil_tee;

/* "sev-snp", "tdx", "vtpm", "sim" (the policy's spelling) or "unknown". */
const char *veil_tee_name(veil_tee t);

/* Zero means unknown, so a struct nobody filled fails closed. */
typedef enum veil_attest_debug {
	VEIL_DEBUG_UNKNOWN = 0,
	VEIL_DEBUG_OFF,
	VEIL_DEBUG_ON,
} veil_attest_debug;

#define VEIL_ATTEST_MEASUREMENT_MAX 64 /* SNP and TDX: 48; room for a SHA-512 PCR digest */
#define VEIL_ATTEST_TCB_MAX         12
#define VEIL_ATTEST_TCB_NAME_MAX    16
#define VEIL_ATTEST_REGION_MAX      65 /* a veil name (64) and its NUL */

typedef struct veil_attest_tcb_part {
	char name[VEIL_ATTEST_TCB_NAME_MAX]; /* "bootloader", "tee", "snp", "microcode", "fmc" */
	uint64_t value;
} veil_attest_tcb_part;

typedef struct veil_attest_claims {
	veil_tee tee;
	bool simulated; /* produced by the simulated TEE (also implied by tee == VEIL_TEE_SIM) */
	uint8_t measurement[VEIL_ATTEST_MEASUREMENT_MAX];
	size_t measurement_len; /* 0: no measurement claimed */
	veil_attest_debug debug;
	int32_t vmpl; /* SNP's VMPL; -1 where the TEE has none or it is unknown */
	size_t ntcb;
	veil_attest_tcb_part tcb[VEIL_ATTEST_TCB_MAX]; /* names unique */
	int64_t evidence_time;               /* when the evidence was made (s since the epoch); 0: unknown */
	char region[VEIL_ATTEST_REGION_MAX]; /* the worker's, as the caller knows it; "": unknown */
} veil_attest_claims;

/* Sets *c to "nothing claimed": zeroes it and sets vmpl to -1. */
void veil_attest_claims_init(veil_attest_claims *c);

/* Fills claims from a report that veil_snp_verify accepted and its result:
 * tee sev-snp, not simulated, the measurement (48 bytes), debug (on if the
 * result or the report says so), the report's vmpl, and the reported TCB
 * decoded for the verified product (bootloader, tee, snp, microcode, and
 * fmc for Turin). evidence_time and region come from the caller (an SNP
 * report carries neither); region may be NULL (unknown) and must be a valid
 * veil name otherwise. VEIL_E_INVALID for a result with no product (not a
 * verified one) or a bad region. On error *out claims nothing. */
veil_status veil_attest_claims_from_snp(const veil_snp_report *report, const veil_snp_result *res,
                                        int64_t evidence_time, const char *region, veil_attest_claims *out,
                                        veil_err *err) VEIL_MUST_CHECK;

/* ---- key-release policies (docs/formats/release-policy.md) ---- */
#define VEIL_RELEASE_POLICY_MAX_BYTES (64u << 10)
#define VEIL_RELEASE_MEASUREMENTS_MAX 256
#define VEIL_RELEASE_FAILURES_MAX     20 /* every clause can fail at once: 7 + VEIL_ATTEST_TCB_MAX */
#define VEIL_RELEASE_CLAUSE_MAX       24
#define VEIL_RELEASE_REASON_MAX       256

typedef struct veil_release_policy veil_release_policy;

/* Parses a release policy: one YAML document, at most
 * VEIL_RELEASE_POLICY_MAX_BYTES, read strictly (unknown or repeated keys,
 * wrong types, anchors, aliases, tags and further documents are refused).
 * Errors: VEIL_E_INVALID with "line L, column C: " and what was wrong,
 * VEIL_E_UNSUPPORTED (with the position) for a version other than 1,
 * VEIL_E_LIMIT for a text too large or too many entries, VEIL_E_NOMEM. The
 * caller frees *out with veil_release_policy_free; on error *out is NULL. */
veil_status veil_release_policy_parse(const char *text, size_t len, veil_release_policy **out,
                                      veil_err *err) VEIL_MUST_CHECK;
void veil_release_policy_free(veil_release_policy *p); /* NULL ok */

typedef struct veil_release_failure {
	char clause[VEIL_RELEASE_CLAUSE_MAX]; /* stable: "tee", "simulated", "measurement", "debug", "vmpl",
	                                         "tcb.<component>", "max_age", "region" */
	char reason[VEIL_RELEASE_REASON_MAX]; /* for people: "tcb.snp is 7, the policy needs at least 8" */
} veil_release_failure;

typedef struct veil_release_result {
	bool allowed;
	size_t nfailed;                                         /* allowed == (nfailed == 0) */
	veil_release_failure failed[VEIL_RELEASE_FAILURES_MAX]; /* in the order of the list above */
} veil_release_result;

/* Evaluates every clause of p against the claims at `now` (seconds since
 * the epoch) and records each one that fails; a clause whose claim is
 * missing fails. Returns VEIL_OK only when nothing failed; VEIL_E_DENIED
 * when something did, with err naming the failed clauses and *out holding
 * all of them. Other errors (VEIL_E_INVALID for NULL arguments) leave *out
 * denying with no clause. */
veil_status veil_release_policy_eval(const veil_release_policy *p, const veil_attest_claims *claims,
                                     int64_t now, veil_release_result *out, veil_err *err) VEIL_MUST_CHECK;

/* ---- the simulated TEE (src/attest/sim.c, docs/formats/sev-snp.md) ---- */
/* For machines without a TEE: SEV-SNP-format reports signed by a
 * workspace-local simulated VCEK -> ASK -> ARK chain, so that the real
 * parser, signature, chain and TCB checks run. Nothing about it is secret
 * from the host, so it proves nothing: its ARK is never pinned, it is
 * trusted only when a caller passes it to veil_snp_verify_sim, and its
 * claims (tee "sim", simulated) pass a release policy only with
 * `tee: [sim]` and `allow_simulated: true`. */
#define VEIL_SIM_PRODUCT_NAME "Sim" /* the VCEK's product-name extension */
#define VEIL_SIM_RSA_BITS     3072  /* ARK and ASK; AMD's are 4096 */
#define VEIL_SIM_VALID_DAYS   3650  /* every certificate, from an hour before `now` */

typedef struct veil_sim_chain {
	veil_buf vcek_der;  /* the simulated VCEK (ECDSA P-384), DER */
	veil_buf chain_pem; /* ASK then ARK, PEM: what veil_snp_verify reads as chain_pem */
	veil_buf ark_pem;   /* the ARK alone, PEM: the trust anchor veil_snp_verify_sim uses */
	uint8_t *vcek_key;  /* the VCEK's private key, PKCS#8 DER, in veil_secure_alloc memory */
	size_t vcek_key_len;
} veil_sim_chain;

/* Makes a fresh chain: ARK and ASK RSA-VEIL_SIM_RSA_BITS keys (the ARK
 * self-signed, the ASK and VCEK signed with RSA-PSS SHA-384, salt 48, as
 * AMD's), a VCEK with a random 64-byte hwID, product name "Sim" and the SPL
 * extensions of `tcb` (a TCB_VERSION in the Milan/Genoa layout: bytes 2..5
 * must be zero, VEIL_E_INVALID otherwise), every certificate valid from an
 * hour before `now` for VEIL_SIM_VALID_DAYS. Subject names say "veil
 * simulated TEE - not a real AMD key". The caller frees *out with
 * veil_sim_chain_free; on error *out is empty. */
veil_status veil_sim_chain_create(uint64_t tcb, int64_t now, veil_sim_chain *out,
                                  veil_err *err) VEIL_MUST_CHECK;
void veil_sim_chain_free(veil_sim_chain *c); /* wipes the key; NULL ok */

/* Writes a version 2 report with these fields, signed with the chain's VCEK
 * key (ECDSA P-384, SHA-384, over 0x000..0x29F; R and S little-endian):
 * current, reported, committed and launch TCB all `tcb` (verification
 * refuses a tcb other than the VCEK's, as with a real chip), chip_id the
 * VCEK's hwID, signing key VCEK, a random report_id, policy as given (the
 * caller sets bit 17, which the ABI reserves as 1, and DEBUG if it wants).
 * VEIL_E_INVALID for a chain whose key does not match its VCEK. On error
 * out is zeroed. */
veil_status veil_sim_report(const veil_sim_chain *chain,
                            const uint8_t measurement[static VEIL_SNP_MEASUREMENT_LEN],
                            const uint8_t report_data[static VEIL_SNP_REPORT_DATA_LEN], uint64_t policy,
                            uint32_t vmpl, uint64_t tcb, uint8_t out[static VEIL_SNP_REPORT_LEN],
                            veil_err *err) VEIL_MUST_CHECK;

/* veil_snp_verify's checks, in the same code, with one change: the chain
 * must end in chain->ark_pem (byte for byte) instead of a pinned AMD ARK.
 * Only chain's public parts are read. On success the result's product is
 * VEIL_SNP_PRODUCT_UNKNOWN (no AMD product: the TCB is read in the
 * Milan/Genoa layout) and vcek_product is "Sim", so that
 * veil_attest_claims_from_snp refuses it; use veil_attest_claims_from_sim.
 * Errors as veil_snp_verify's. On error *out is zeroed. */
veil_status veil_snp_verify_sim(const veil_snp_report *report, const veil_sim_chain *chain, int64_t now,
                                veil_snp_result *out, veil_err *err) VEIL_MUST_CHECK;

/* Claims from a report that veil_snp_verify_sim accepted: as
 * veil_attest_claims_from_snp's, but tee VEIL_TEE_SIM and simulated true.
 * VEIL_E_INVALID for a result that is not a simulated one or a bad region.
 * On error *out claims nothing. */
veil_status veil_attest_claims_from_sim(const veil_snp_report *report, const veil_snp_result *res,
                                        int64_t evidence_time, const char *region, veil_attest_claims *out,
                                        veil_err *err) VEIL_MUST_CHECK;

/* The other evidence formats and the producers, each in a header of its own. */
#include "veil/attest_tdx.h"
#include "veil/attest_tpm.h"
#include "veil/attest_producer.h"

#endif
