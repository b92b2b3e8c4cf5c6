/*
 * veil attest: Intel TDX quotes (versions 4 and 5): parsing and verification to the pinned Intel SGX root.
 * Included by veil/attest.h; include that one. docs/formats/tdx.md has the byte layout and every check.
 *
 * A TDX quote is a TD report (the TD's measurements and 64 bytes of
 * report_data it chose) signed by an attestation key that Intel's TD
 * quoting enclave (QE) holds. The QE's own SGX report binds that key and is
 * signed by the platform's PCK, whose certificate chains to the Intel SGX
 * Root CA pinned in src/attest/tdx_roots.c.
 *
 * What a successful veil_tdx_verify establishes:
 *  1. the PCK certificate was issued by an Intel SGX PCK Platform or
 *     Processor CA that the pinned Intel SGX Root CA issued, every
 *     certificate valid at `now`;
 *  2. the QE report was signed (ECDSA P-256, SHA-256) by that PCK's key,
 *     and it is a report of Intel's TD quoting enclave (MRSIGNER and
 *     ISVPRODID pinned, not a debug enclave);
 *  3. the QE report binds the attestation key: its report_data is
 *     SHA-256(attestation key || QE auth data) followed by 32 zero bytes;
 *  4. the header and TD report body (for version 5 with the body
 *     descriptor) were signed (ECDSA P-256, SHA-256) by that attestation key.
 * It does not judge the claims (debug, MRTD, TCB minimums): that is the
 * release policy's job, from veil_attest_claims_from_tdx. TCB collateral
 * (Intel PCS TCB info, QE identity) is not checked yet: see
 * veil_tdx_collateral.
 */
#ifndef VEIL_ATTEST_TDX_H
#define VEIL_ATTEST_TDX_H

#include "veil/attest.h"

/* ---- sizes (Intel TDX DCAP Quoting Library API, appendix "Quote format") ---- */
#define VEIL_TDX_QUOTE_MAX        (64u << 10) /* a larger quote is refused before parsing */
#define VEIL_TDX_HEADER_LEN       48
#define VEIL_TDX_BODY_DESC_LEN    6   /* version 5: body type (2 bytes) and body size (4) */
#define VEIL_TDX_BODY10_LEN       584 /* TD report body, TDX 1.0 (version 4, or version 5 type 2) */
#define VEIL_TDX_BODY15_LEN       648 /* TD report body, TDX 1.5 (version 5 type 3) */
#define VEIL_TDX_BODY_TYPE_TDX10  2
#define VEIL_TDX_BODY_TYPE_TDX15  3
#define VEIL_TDX_ATT_KEY_P256     2    /* attestation key type: ECDSA-256-with-P-256 */
#define VEIL_TDX_TEE_TYPE         0x81 /* TDX (0 would be SGX) */
#define VEIL_TDX_MR_LEN           48   /* MRTD, RTMRs, MRSEAM, ...: SHA-384 sized */
#define VEIL_TDX_REPORT_DATA_LEN  64
#define VEIL_TDX_SVN_LEN          16 /* TEE_TCB_SVN */
#define VEIL_TDX_QE_VENDOR_LEN    16
#define VEIL_TDX_USER_DATA_LEN    20
#define VEIL_TDX_SIG_LEN          64  /* ECDSA P-256 R || S, big-endian */
#define VEIL_TDX_KEY_LEN          64  /* P-256 point X || Y, big-endian, no 0x04 prefix */
#define VEIL_TDX_QE_REPORT_LEN    384 /* an SGX REPORT body */
#define VEIL_TDX_CERT_PCK_CHAIN   5   /* certification data type: PCK leaf, CA, root (PEM) */
#define VEIL_TDX_CERT_QE_REPORT   6   /* certification data type: QE report certification data */
#define VEIL_TDX_PCK_CHAIN_MAX    (32u << 10)
#define VEIL_TDX_TD_ATTR_DEBUG    (UINT64_C(1) << 0)
#define VEIL_TDX_TD_ATTR_TUD_MASK UINT64_C(0xff) /* bits 0..7: "TD under debug"; 1..7 reserved */
#define VEIL_TDX_QE_PRODID        2              /* ISVPRODID of Intel's TD quoting enclave */

typedef struct veil_tdx_quote {
	/* The quote as given: borrowed, not copied. The struct points into the
	 * caller's bytes (raw, qe_auth, pck_chain) and must not outlive them. */
	const uint8_t *raw;
	size_t raw_len;
	size_t signed_len; /* what the quote signature covers: raw[0 .. signed_len) */
	/* header */
	uint16_t version;      /* 4 or 5 */
	uint16_t att_key_type; /* VEIL_TDX_ATT_KEY_P256 */
	uint32_t tee_type;     /* VEIL_TDX_TEE_TYPE */
	uint8_t qe_vendor_id[VEIL_TDX_QE_VENDOR_LEN];
	uint8_t user_data[VEIL_TDX_USER_DATA_LEN];
	/* TD report body */
	uint16_t body_type; /* VEIL_TDX_BODY_TYPE_TDX10 (always for version 4) or _TDX15 */
	uint8_t tee_tcb_svn[VEIL_TDX_SVN_LEN];
	uint8_t mr_seam[VEIL_TDX_MR_LEN];
	uint8_t mr_signer_seam[VEIL_TDX_MR_LEN];
	uint64_t seam_attributes; /* little-endian decoded, as are the next two */
	uint64_t td_attributes;
	uint64_t xfam;
	uint8_t mr_td[VEIL_TDX_MR_LEN]; /* the TD's build-time measurement */
	uint8_t mr_config_id[VEIL_TDX_MR_LEN];
	uint8_t mr_owner[VEIL_TDX_MR_LEN];
	uint8_t mr_owner_config[VEIL_TDX_MR_LEN];
	uint8_t rtmr[4][VEIL_TDX_MR_LEN];
	uint8_t report_data[VEIL_TDX_REPORT_DATA_LEN];
	uint8_t tee_tcb_svn2[VEIL_TDX_SVN_LEN]; /* TDX 1.5 only; zero for TDX 1.0 */
	uint8_t mr_servicetd[VEIL_TDX_MR_LEN];  /* TDX 1.5 only; zero for TDX 1.0 */
	bool debug;                             /* any of td_attributes bits 0..7 (TUD) */
	/* signature data */
	uint8_t signature[VEIL_TDX_SIG_LEN];
	uint8_t attest_key[VEIL_TDX_KEY_LEN];
	uint8_t qe_report[VEIL_TDX_QE_REPORT_LEN];
	uint8_t qe_report_sig[VEIL_TDX_SIG_LEN];
	const uint8_t *qe_auth; /* into raw; may be empty (then NULL) */
	size_t qe_auth_len;
	const char *pck_chain; /* into raw: PEM, PCK leaf first, then its CA, then the root */
	size_t pck_chain_len;
	/* decoded from qe_report */
	uint8_t qe_mr_enclave[32];
	uint8_t qe_mr_signer[32];
	uint16_t qe_isv_prod_id;
	uint16_t qe_isv_svn;
	uint8_t qe_attributes[16];
} veil_tdx_quote;

/* Parses a TDX quote of exactly len bytes (the quote's own lengths must
 * account for every byte: trailing bytes, which nothing would cover, are
 * refused). Refuses: more than VEIL_TDX_QUOTE_MAX bytes
 * (VEIL_E_LIMIT); a version other than 4 or 5, an attestation key type
 * other than 2, a TEE type other than 0x81, a version 5 body type other
 * than 2 or 3, certification data types other than 6 then 5
 * (VEIL_E_UNSUPPORTED); truncation, trailing bytes, a body size that does
 * not match its type, an empty or oversized PCK chain (VEIL_E_INVALID).
 * Parsing checks no signature: the fields are claims until veil_tdx_verify
 * succeeds. On success *out borrows bytes (see the struct); on error *out
 * is zeroed. */
veil_status veil_tdx_quote_parse(const uint8_t *bytes, size_t len, veil_tdx_quote *out,
                                 veil_err *err) VEIL_MUST_CHECK;

/* The length a quote's header and length fields declare, for a producer
 * whose buffer may hold padding after the quote (an ioctl's fixed-size
 * buffer): *quote_len is then the length to pass to veil_tdx_quote_parse.
 * Reads the same fields as the parser with the same refusals, except that
 * bytes after the declared end are allowed. On error *quote_len is 0. */
veil_status veil_tdx_quote_len(const uint8_t *bytes, size_t len, size_t *quote_len,
                               veil_err *err) VEIL_MUST_CHECK;

/* Intel PCS collateral for the TCB check (TCB info and QE identity JSON
 * with their issuer chain). Not checked by this version: veil_tdx_verify
 * refuses non-NULL collateral with VEIL_E_UNSUPPORTED rather than pretend
 * to have checked it. The fields say what a later version will read. */
typedef struct veil_tdx_collateral {
	const char *tcb_info_json; /* {"tcbInfo": ..., "signature": ...} from Intel PCS */
	size_t tcb_info_len;
	const char *qe_identity_json; /* {"enclaveIdentity": ..., "signature": ...} */
	size_t qe_identity_len;
	const char *issuer_chain_pem; /* Intel SGX TCB Signing certificate and the root */
	size_t issuer_chain_len;
} veil_tdx_collateral;

/* Which Intel CA issued the PCK certificate. */
typedef enum veil_tdx_pck_ca {
	VEIL_TDX_PCK_CA_UNKNOWN = 0,
	VEIL_TDX_PCK_CA_PLATFORM, /* "Intel SGX PCK Platform CA" */
	VEIL_TDX_PCK_CA_PROCESSOR /* "Intel SGX PCK Processor CA" */
} veil_tdx_pck_ca;

/* What verification established, beyond the quote's own fields. A zeroed
 * result (what a failed verification leaves) has verified false. */
typedef struct veil_tdx_result {
	bool verified;          /* every check passed */
	bool debug;             /* the claim `debug = true`: td_attributes bits 0..7 (TUD) */
	uint16_t version;       /* 4 or 5 */
	uint16_t body_type;     /* VEIL_TDX_BODY_TYPE_* */
	veil_tdx_pck_ca pck_ca; /* the PCK's issuing CA */
	uint16_t qe_isv_svn;    /* the quoting enclave's SVN, from the signed QE report */
	bool tcb_checked;       /* TCB collateral was checked: always false in this version */
} veil_tdx_result;

/* Verifies a parsed quote: checks 1..4 at the top of this header, in that
 * order (chain, QE report signature and identity, binding, quote
 * signature). `now` (seconds since the epoch) is the time every
 * certificate must be valid at. Only quote->raw is read (parsed again): a
 * field edited after parsing counts for nothing. collateral must be NULL.
 *
 * Errors, each naming the link that failed:
 *  - VEIL_E_INVALID: malformed chain (not three PEM certificates), a key
 *    that is not P-256, an attestation key that is not a curve point;
 *  - VEIL_E_CORRUPT: a root that is not the pinned Intel SGX Root CA, a
 *    certificate not signed by its issuer, names that do not chain, a CA
 *    that is not a PCK CA, a certificate not valid at `now`;
 *  - VEIL_E_AUTH: the QE report signature (with the PCK key) or the quote
 *    signature (with the attestation key) does not verify;
 *  - VEIL_E_DENIED: the QE report does not bind the attestation key, or is
 *    not a report of Intel's TD quoting enclave;
 *  - VEIL_E_UNSUPPORTED: collateral given.
 * On error *out is zeroed. */
veil_status veil_tdx_verify(const veil_tdx_quote *quote, const veil_tdx_collateral *collateral, int64_t now,
                            veil_tdx_result *out, veil_err *err) VEIL_MUST_CHECK;

/* ---- the pinned Intel root (src/attest/tdx_roots.c) ---- */
/* The PEM of the Intel SGX Root CA, which anchors every PCK chain. */
const char *veil_tdx_pinned_root_pem(void);

/* Claims from a quote that veil_tdx_verify accepted and its result: tee
 * tdx, not simulated, measurement MRTD (48 bytes), debug (on if the result
 * or the quote says so), vmpl -1 (TDX has none), and TCB parts named in
 * docs/formats/tdx.md: "tdx_module", "tdx_major", "tdx_ucode" (bytes 0, 1,
 * 2 of TEE_TCB_SVN; for TDX 1.5 the lower of TEE_TCB_SVN and TEE_TCB_SVN2)
 * and "qe_svn". evidence_time and region come from the caller (a quote
 * carries neither); region may be NULL (unknown) and must be a valid veil
 * name otherwise. Like veil_tdx_verify it reads only quote->raw (parsed
 * again), so an edited field cannot become a claim. VEIL_E_INVALID for a
 * result that is not verified, one that does not match the quote, or a bad
 * region. On error *out claims nothing. */
veil_status veil_attest_claims_from_tdx(const veil_tdx_quote *quote, const veil_tdx_result *res,
                                        int64_t evidence_time, const char *region, veil_attest_claims *out,
                                        veil_err *err) VEIL_MUST_CHECK;

#endif
