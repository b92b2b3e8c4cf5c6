/*
 * veil attest: evidence of what runs inside a TEE, verified down to a pinned
 * root (docs/formats/sev-snp.md). This first piece is AMD SEV-SNP: the
 * attestation report parser and the verifier of its signature, its VCEK ->
 * ASK -> ARK chain (the ARK pinned in src/attest/roots.c) and of the VCEK's
 * TCB and hardware-id extensions against the report.
 *
 * Layer 2: uses base and crypto only.
 *
 * What a successful veil_snp_verify establishes:
 *  1. bytes 0x000..0x29F of the report were signed (ECDSA P-384, SHA-384) by
 *     the private key of the VCEK given;
 *  2. that VCEK was issued by an ASK that one of AMD's pinned ARKs (Milan,
 *     Genoa, Turin) issued, every certificate valid at `now`;
 *  3. the VCEK was made for the TCB the report claims (reported_tcb) and for
 *     the chip the report names (chip_id), unless the firmware masked the
 *     chip id (all zeros), which the result says.
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
	uint32_t version; /* 2 or 3 */
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
	uint8_t sig_r[VEIL_SNP_SIG_COMPONENT]; /* little-endian, as in the report */
	uint8_t sig_s[VEIL_SNP_SIG_COMPONENT];
	bool debug;                       /* policy bit 19: the host can read and change the guest's memory */
	uint8_t raw[VEIL_SNP_REPORT_LEN]; /* the report as given (what the signature covers) */
} veil_snp_report;

/* Parses an attestation report of exactly VEIL_SNP_REPORT_LEN bytes.
 * Refuses: another length (VEIL_E_INVALID), a version other than 2 or 3 or a
 * signature algorithm other than 1 (VEIL_E_UNSUPPORTED), non-zero bytes in
 * the unsigned tail after S (VEIL_E_INVALID: nothing authenticates them, so
 * only one spelling of a report is accepted). Parsing checks no signature:
 * the fields are claims until veil_snp_verify succeeds. On error *out is
 * zeroed. */
veil_status veil_snp_report_parse(const uint8_t *bytes, size_t len, veil_snp_report *out,
                                  veil_err *err) VEIL_MUST_CHECK;

/* What verification established, beyond the report's own fields. */
#define VEIL_SNP_VCEK_PRODUCT_MAX 32
typedef struct veil_snp_result {
	veil_snp_product product;                     /* from the pinned ARK that anchors the chain */
	char vcek_product[VEIL_SNP_VCEK_PRODUCT_MAX]; /* the VCEK's product name ("Milan-B0"); may be "" */
	veil_snp_tcb reported_tcb;                    /* decoded for product */
	bool debug;                                   /* the claim `debug = true` when policy bit 19 is set */
	bool chip_id_masked;                          /* chip_id all zero: hwID could not be compared */
} veil_snp_result;

/* Certificates larger than this are refused before parsing. */
#define VEIL_SNP_CERT_MAX  (16u << 10)
#define VEIL_SNP_CHAIN_MAX (64u << 10)

/* Verifies a parsed report with its VCEK (DER) and the ASK+ARK chain (PEM,
 * the two certificates AMD's KDS serves as cert_chain, in either order).
 * chain_pem may be NULL: the pinned ASK of each product is tried instead.
 * `now` (seconds since the epoch) is the time every certificate must be
 * valid at. Only report->raw is read (parsed again): a field edited after
 * parsing counts for nothing.
 *
 * Errors, each naming the link that failed:
 *  - VEIL_E_INVALID: malformed certificate or chain, wrong key type;
 *  - VEIL_E_CORRUPT: a certificate not signed by its issuer, an ARK that is
 *    not pinned, names that do not chain, a certificate not valid at `now`;
 *  - VEIL_E_AUTH: the report's signature does not verify with the VCEK;
 *  - VEIL_E_DENIED: the VCEK's TCB or hwID does not match the report;
 *  - VEIL_E_UNSUPPORTED: a report signed by a VLEK or by no key.
 * On error *out is zeroed. */
veil_status veil_snp_verify(const veil_snp_report *report, const uint8_t *vcek_der, size_t vcek_len,
                            const char *chain_pem, size_t chain_len, int64_t now, veil_snp_result *out,
                            veil_err *err) VEIL_MUST_CHECK;

/* ---- the pinned AMD roots (src/attest/roots.c) ---- */
/* The PEM of product p's ARK and of its VCEK-signing ASK; NULL for UNKNOWN. */
const char *veil_snp_pinned_ark_pem(veil_snp_product p);
const char *veil_snp_pinned_ask_pem(veil_snp_product p);

#endif
