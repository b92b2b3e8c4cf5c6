/*
 * veil attest: TPM 2.0 quotes (TPMS_ATTEST) from a vTPM: parsing and verification with a pinned or certified
 * AK. Included by veil/attest.h; include that one.
 *
 * The evidence is what `tpm2_quote` writes (docs/formats/tpm-quote.md):
 * the quote message (-m, a TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE), its
 * signature (-s, a TPMT_SIGNATURE) and the values of the quoted PCRs (-o,
 * `-F values` or `-F serialized`). The parsers check shape only; what a
 * successful veil_tpm_quote_verify establishes:
 *  1. the message was signed (RSASSA, RSA-PSS or ECDSA, SHA-256/384/512) by
 *     the AK the caller pinned (a PEM public key) or by the key of an AK
 *     certificate that chains to a CA the caller gave, valid at `now`;
 *  2. it is a TPM-generated quote (magic TPM_GENERATED_VALUE, type
 *     TPM_ST_ATTEST_QUOTE) whose extraData is exactly the caller's nonce;
 *  3. the PCR values supplied hash (in the quote's selection order, with
 *     the signature's hash) to the quote's pcrDigest, so each of them is
 *     what the TPM held when it quoted.
 * It does not judge the PCR values: that is the policy's job, through the
 * claims (measurement = pcrDigest) or a caller's own check of one PCR.
 */
#ifndef VEIL_ATTEST_TPM_H
#define VEIL_ATTEST_TPM_H

#include "veil/attest.h"

/* ---- constants of TPM 2.0 Part 2 (Structures) ---- */
#define VEIL_TPM_GENERATED_VALUE 0xff544347u /* TPM_GENERATED_VALUE: "\xffTCG" */
#define VEIL_TPM_ST_ATTEST_QUOTE 0x8018u
#define VEIL_TPM_ALG_SHA1        0x0004u
#define VEIL_TPM_ALG_SHA256      0x000Bu
#define VEIL_TPM_ALG_SHA384      0x000Cu
#define VEIL_TPM_ALG_SHA512      0x000Du
#define VEIL_TPM_ALG_RSASSA      0x0014u
#define VEIL_TPM_ALG_RSAPSS      0x0016u
#define VEIL_TPM_ALG_ECDSA       0x0018u

/* ---- bounds (every count and size is checked against these) ---- */
#define VEIL_TPM_ATTEST_MAX     1024u /* a quote message; a real one is 100..400 bytes */
#define VEIL_TPM_SIG_MAX        1024u /* a TPMT_SIGNATURE */
#define VEIL_TPM_DIGEST_MAX     64    /* SHA-512 */
#define VEIL_TPM_NAME_MAX       66    /* TPMU_NAME: a TPMT_HA (hash alg + SHA-512) */
#define VEIL_TPM_DATA_MAX       66    /* TPM2B_DATA (extraData): sizeof(TPMT_HA) */
#define VEIL_TPM_BANKS_MAX      8     /* PCR banks in one selection */
#define VEIL_TPM_PCR_SELECT_MAX 4     /* sizeofSelect: a bitmap of at most 32 PCRs */
#define VEIL_TPM_PCRS_MAX       128   /* PCRs selected in all banks together */
#define VEIL_TPM_RSA_SIG_MAX    512   /* RSA 4096 */
#define VEIL_TPM_RSA_BITS_MIN   2048
#define VEIL_TPM_ECC_COORD_MAX  66          /* one ECDSA R or S (P-521 would need 66) */
#define VEIL_TPM_AK_MAX         (64u << 10) /* the AK PEM (a key, or a certificate and intermediates) */
#define VEIL_TPM_CA_MAX         (64u << 10) /* the CA PEM */
/* tpm2-tools' `-F serialized` file: a TPML_PCR_SELECTION (4 + 16 * 8
 * bytes), a count, then that many TPML_DIGEST (4 + 8 * 66 bytes), as the C
 * structures lie in memory on a little-endian machine. */
#define VEIL_TPM_SER_SEL_LEN    132u
#define VEIL_TPM_SER_DIGEST_LEN 532u
#define VEIL_TPM_PCRS_FILE_MAX  (VEIL_TPM_SER_SEL_LEN + 4u + 32u * VEIL_TPM_SER_DIGEST_LEN)

/* One bank of a TPML_PCR_SELECTION: PCR i is selected when bit (i % 8) of
 * select[i / 8] is set. */
typedef struct veil_tpm_pcr_bank {
	uint16_t hash_alg; /* VEIL_TPM_ALG_SHA1/256/384/512 */
	uint8_t size_of_select;
	uint8_t select[VEIL_TPM_PCR_SELECT_MAX];
} veil_tpm_pcr_bank;

/* A TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE, as tpm2_quote -m writes it. */
typedef struct veil_tpm_quote {
	uint8_t qualified_signer[VEIL_TPM_NAME_MAX]; /* the AK's qualified name (not checked: see the doc) */
	size_t qualified_signer_len;
	uint8_t extra_data[VEIL_TPM_DATA_MAX]; /* the nonce the verifier gave */
	size_t extra_data_len;
	uint64_t clock; /* clockInfo: ms the TPM has been powered since it was cleared (not wall time) */
	uint32_t reset_count, restart_count;
	bool safe;
	uint64_t firmware_version; /* vendor-specific */
	size_t nbanks;
	veil_tpm_pcr_bank banks[VEIL_TPM_BANKS_MAX];
	uint8_t pcr_digest[VEIL_TPM_DIGEST_MAX]; /* hash of the selected PCR values */
	size_t pcr_digest_len;
	size_t npcrs;                     /* PCRs selected in all banks */
	uint8_t raw[VEIL_TPM_ATTEST_MAX]; /* the message as given: what the signature covers */
	size_t raw_len;
} veil_tpm_quote;

/* Parses a quote message. Refuses (VEIL_E_INVALID, naming the field): an
 * empty or longer than VEIL_TPM_ATTEST_MAX input, a magic other than
 * TPM_GENERATED_VALUE, a size over its bound, a count over
 * VEIL_TPM_BANKS_MAX or VEIL_TPM_PCRS_MAX PCRs, a bank listed twice, a
 * `safe` other than 0 or 1, a truncated field and trailing bytes.
 * VEIL_E_UNSUPPORTED: another attestation type (certify, time, ...) or a
 * PCR bank of a hash other than SHA-1/256/384/512. Checks no signature.
 * On error *out is zeroed. */
veil_status veil_tpm_quote_parse(const uint8_t *bytes, size_t len, veil_tpm_quote *out,
                                 veil_err *err) VEIL_MUST_CHECK;

/* A TPMT_SIGNATURE (tpm2_quote -s, its default `tss` format). */
typedef struct veil_tpm_signature {
	uint16_t sig_alg;                  /* VEIL_TPM_ALG_RSASSA, _RSAPSS or _ECDSA */
	uint16_t hash_alg;                 /* VEIL_TPM_ALG_SHA256, _SHA384 or _SHA512 */
	uint8_t rsa[VEIL_TPM_RSA_SIG_MAX]; /* RSASSA and RSA-PSS: the signature, big-endian */
	size_t rsa_len;
	uint8_t ecc_r[VEIL_TPM_ECC_COORD_MAX], ecc_s[VEIL_TPM_ECC_COORD_MAX]; /* ECDSA, big-endian */
	size_t ecc_r_len, ecc_s_len;
} veil_tpm_signature;

/* Parses a signature. VEIL_E_INVALID: empty, over VEIL_TPM_SIG_MAX,
 * truncated, a size 0 or over its bound, trailing bytes.
 * VEIL_E_UNSUPPORTED: a scheme other than RSASSA, RSA-PSS and ECDSA, or a
 * hash other than SHA-256/384/512 (SHA-1 signatures are refused). On error
 * *out is zeroed. */
veil_status veil_tpm_signature_parse(const uint8_t *bytes, size_t len, veil_tpm_signature *out,
                                     veil_err *err) VEIL_MUST_CHECK;

/* The quoted PCR values, in the quote's selection order (banks as listed,
 * PCRs ascending in each). */
typedef struct veil_tpm_pcr {
	uint16_t hash_alg;
	uint8_t index; /* 0..31 */
	uint8_t len;   /* the hash's size */
	uint8_t value[VEIL_TPM_DIGEST_MAX];
} veil_tpm_pcr;

typedef struct veil_tpm_pcrs {
	size_t n;
	veil_tpm_pcr pcr[VEIL_TPM_PCRS_MAX];
} veil_tpm_pcrs;

typedef enum veil_tpm_pcrs_format {
	VEIL_TPM_PCRS_AUTO = 0,   /* serialized if the length fits it, values if it fits that; never both */
	VEIL_TPM_PCRS_VALUES,     /* -F values: the digests, concatenated */
	VEIL_TPM_PCRS_SERIALIZED, /* -F serialized (tpm2_quote's default) */
} veil_tpm_pcrs_format;

/* Parses a PCR values file for the selection of `quote` (which says how
 * many values of which size to expect; the serialized form carries its own
 * selection, which must be the quote's). VEIL_E_INVALID: a length that fits
 * neither form, a selection other than the quote's, a digest of the wrong
 * size, counts over their bounds, non-zero unused slots, trailing bytes.
 * Checks nothing against pcrDigest (veil_tpm_quote_verify does). On error
 * *out is zeroed. */
veil_status veil_tpm_pcrs_parse(const uint8_t *bytes, size_t len, veil_tpm_pcrs_format format,
                                const veil_tpm_quote *quote, veil_tpm_pcrs *out,
                                veil_err *err) VEIL_MUST_CHECK;

/* The value of PCR `index` in the bank of `hash_alg`; NULL if not quoted. */
const veil_tpm_pcr *veil_tpm_pcr_find(const veil_tpm_pcrs *pcrs, uint16_t hash_alg, unsigned index);

/* "sha1", "sha256", "sha384", "sha512", "rsassa", "rsapss", "ecdsa"; "unknown" otherwise. */
const char *veil_tpm_alg_name(uint16_t alg);

/* The three files of one quote, as tpm2_quote writes them. */
typedef struct veil_tpm_evidence {
	const uint8_t *quote; /* -m */
	size_t quote_len;
	const uint8_t *sig; /* -s */
	size_t sig_len;
	const uint8_t *pcrs; /* -o */
	size_t pcrs_len;
	veil_tpm_pcrs_format pcrs_format;
} veil_tpm_evidence;

/* Whom the verifier trusts to have signed. ak_pem is either a pinned AK
 * (a "PUBLIC KEY" PEM, as `tpm2_createak -f pem` writes it) with ca_pem
 * NULL, or an AK certificate (PEM, optionally followed by intermediate
 * certificates) with ca_pem the CA certificate(s) it must chain to, every
 * certificate valid at `now` (seconds since the epoch). Keys: RSA of 2048
 * to 4096 bits, ECDSA P-256 or P-384. */
typedef struct veil_tpm_trust {
	const char *ak_pem;
	size_t ak_len;
	const char *ca_pem; /* NULL: ak_pem is a pinned public key */
	size_t ca_len;
	int64_t now;
} veil_tpm_trust;

/* What verification established. */
typedef struct veil_tpm_result {
	veil_tpm_quote quote; /* the verified quote */
	veil_tpm_pcrs pcrs;   /* the PCR values, each covered by the verified pcrDigest */
	uint16_t sig_alg;     /* 0 only in a result nobody filled (as after a failure) */
	uint16_t hash_alg;    /* the signature's hash, which is also pcrDigest's */
	bool ak_certified;    /* the AK came from a certificate that chains to the caller's CA */
} veil_tpm_result;

/* Verifies a quote: parses the three inputs, checks the signature over the
 * quote message with the AK, then that extraData equals `nonce` (1 to
 * VEIL_TPM_DATA_MAX bytes, compared in constant time), then that the hash
 * of the PCR values (the signature's hash, over the values concatenated in
 * selection order) equals pcrDigest.
 *
 * Errors, each naming what failed:
 *  - VEIL_E_INVALID: malformed quote, signature, PCR file, AK or CA; no nonce;
 *    a pcrDigest whose size is not the signature hash's;
 *  - VEIL_E_UNSUPPORTED: an unknown scheme or hash, an AK key type or size
 *    veil does not accept;
 *  - VEIL_E_CORRUPT: an AK certificate that does not chain to the CA or is
 *    not valid at `now`;
 *  - VEIL_E_AUTH: the signature does not verify with the AK (or is of a
 *    scheme the AK's key type cannot make);
 *  - VEIL_E_DENIED: extraData is not the nonce, or the PCR values do not
 *    hash to pcrDigest.
 * The caller owns *out; on error it is zeroed (sig_alg 0). */
veil_status veil_tpm_quote_verify(const veil_tpm_evidence *ev, const veil_tpm_trust *trust,
                                  const uint8_t *nonce, size_t nonce_len, veil_tpm_result *out,
                                  veil_err *err) VEIL_MUST_CHECK;

/* Claims from a result that veil_tpm_quote_verify returned: tee vtpm, not
 * simulated, measurement the quote's pcrDigest (so the policy's allowlist
 * pins both the PCR selection and the values), debug unknown (a vTPM
 * cannot say, so a policy with `debug: forbidden` refuses vTPM evidence on
 * its own: see docs/formats/tpm-quote.md), vmpl -1, one TCB part
 * "firmware" (firmwareVersion). evidence_time and region come from the
 * caller, as for SEV-SNP (a TPM's clock is not wall time). VEIL_E_INVALID
 * for a result that is not from a successful verification or a bad region.
 * On error *out claims nothing. */
veil_status veil_attest_claims_from_tpm(const veil_tpm_result *res, int64_t evidence_time, const char *region,
                                        veil_attest_claims *out, veil_err *err) VEIL_MUST_CHECK;

#endif
