/*
 * veil attest: evidence producers, the worker's side of attestation
 * (docs/formats/evidence-producers.md). Inside a confidential VM the worker
 * asks the kernel for a report that binds 64 bytes of its choosing:
 *  - configfs-tsm (Linux >= 6.7): /sys/kernel/config/tsm/report/<entry>/,
 *    the same exchange for SEV-SNP (provider "sev_guest") and TDX
 *    ("tdx_guest");
 *  - /dev/sev-guest (SNP_GET_REPORT), the SEV-SNP fallback for older kernels.
 * And the parser of the certificate table an SNP host hands out with a
 * report (configfs-tsm's auxblob; the GHCB extended guest request's table).
 *
 * Nothing here verifies anything: what comes back is untrusted until the
 * verifier (veil_snp_verify, the TDX and TPM verifiers) has checked it. The
 * producers only make sure the evidence is the answer to this request.
 * Included by veil/attest.h; include that one.
 */
#ifndef VEIL_ATTEST_PRODUCER_H
#define VEIL_ATTEST_PRODUCER_H

#include "veil/attest.h"

/* ---- configfs-tsm (Documentation/ABI/testing/configfs-tsm-report) ---- */
#define VEIL_TSM_ROOT_DEFAULT  "/sys/kernel/config/tsm/report"
#define VEIL_TSM_INBLOB_LEN    64          /* report_data: exactly what the kernel takes (TSM_INBLOB_MAX) */
#define VEIL_TSM_OUTBLOB_MAX   (32u << 10) /* the kernel's TSM_OUTBLOB_MAX: more is not the kernel */
#define VEIL_TSM_AUXBLOB_MAX   (64u << 10) /* SNP certificate tables are a few KiB */
#define VEIL_TSM_PROVIDER_MAX  32          /* "sev_guest", "tdx_guest" and their NUL fit */
#define VEIL_TSM_PRIVLEVEL_MAX 3           /* the kernel's TSM_PRIVLEVEL_MAX */

/* What to ask for. A zeroed request asks for either TEE with report_data of
 * zeros and leaves privlevel as the kernel has it. */
typedef struct veil_tsm_request {
	uint8_t report_data[VEIL_TSM_INBLOB_LEN]; /* written to inblob as is: SNP REPORT_DATA, TDX REPORTDATA
	                                           */
	veil_tee want;      /* VEIL_TEE_SEV_SNP or VEIL_TEE_TDX: refuse another provider; UNKNOWN: either */
	bool set_privlevel; /* write privlevel (SNP: the VMPL the report names) before inblob */
	unsigned privlevel; /* 0..VEIL_TSM_PRIVLEVEL_MAX, when set_privlevel */
} veil_tsm_request;

/* What came back. The caller frees it with veil_tsm_evidence_free. */
typedef struct veil_tsm_evidence {
	veil_tee tee;                         /* VEIL_TEE_SEV_SNP (sev_guest) or VEIL_TEE_TDX (tdx_guest) */
	char provider[VEIL_TSM_PROVIDER_MAX]; /* as the kernel names it, without the newline */
	uint64_t generation;                  /* the entry's generation the evidence belongs to */
	veil_buf outblob;                     /* SNP: the 1184-byte report; TDX: the quote */
	veil_buf auxblob;                     /* SNP: the certificate table (may be empty); TDX: empty */
} veil_tsm_evidence;

void veil_tsm_evidence_free(veil_tsm_evidence *ev); /* NULL ok */

/* Runs one exchange on an entry folder that already exists (what mkdir
 * under the configfs-tsm root makes): reads generation, writes privlevel
 * (if asked) and then the 64 bytes of inblob in one write, reads provider,
 * outblob and auxblob (absent or empty: no auxiliary data), and reads
 * generation again. The kernel counts every write to the entry in
 * generation, so the second reading must be the first plus this call's
 * writes; anything else means another process wrote to the entry meanwhile
 * and the outblob may answer its inblob, not ours: VEIL_E_BUSY (retry with
 * a fresh entry). Errors: VEIL_E_INVALID (bad arguments, a privlevel over
 * 3, a generation that is not a number), VEIL_E_NOTFOUND (an attribute
 * missing), VEIL_E_UNSUPPORTED (a provider other than sev_guest and
 * tdx_guest, or not the one `want` names), VEIL_E_LIMIT (an outblob or
 * auxblob over its _MAX), VEIL_E_IO (the kernel refused: its errno is in
 * the message), VEIL_E_BUSY. On error *out is empty. */
veil_status veil_tsm_exchange(const char *entry_dir, const veil_tsm_request *req, veil_tsm_evidence *out,
                              veil_err *err) VEIL_MUST_CHECK;

/* Makes a fresh entry "veil-<pid>-<random>" under root (NULL:
 * VEIL_TSM_ROOT_DEFAULT), runs veil_tsm_exchange on it and removes the
 * entry again on every path. A root that does not exist, or is not a
 * folder, is VEIL_E_UNSUPPORTED with the hint that configfs-tsm needs
 * Linux >= 6.7 in a confidential VM. Other errors as veil_tsm_exchange's,
 * and VEIL_E_IO when the entry cannot be made. On error *out is empty. */
veil_status veil_tsm_report(const char *root, const veil_tsm_request *req, veil_tsm_evidence *out,
                            veil_err *err) VEIL_MUST_CHECK;

/* ---- /dev/sev-guest (linux/sev-guest.h) ---- */
#define VEIL_SEV_GUEST_DEFAULT "/dev/sev-guest"

/* Asks the SEV-SNP firmware for a report through the sev-guest driver's
 * SNP_GET_REPORT ioctl (message version 1) with report_data and vmpl
 * (0..3), and checks the response: status 0 and a report of exactly
 * VEIL_SNP_REPORT_LEN bytes, which go to out. dev NULL means
 * VEIL_SEV_GUEST_DEFAULT. Errors: VEIL_E_NOTFOUND (no such device: not an
 * SEV-SNP guest, or the driver is not loaded), VEIL_E_INVALID (a vmpl over
 * 3, a path that is not a character device, a response with a wrong size),
 * VEIL_E_UNSUPPORTED (a device that is not sev-guest, or not Linux),
 * VEIL_E_IO (the ioctl failed: errno and the firmware and VMM error codes
 * in the message), VEIL_E_DENIED (the firmware's status is not 0). On
 * error out is zeroed. */
veil_status veil_sev_guest_report(const char *dev, const uint8_t report_data[static VEIL_SNP_REPORT_DATA_LEN],
                                  uint32_t vmpl, uint8_t out[static VEIL_SNP_REPORT_LEN],
                                  veil_err *err) VEIL_MUST_CHECK;

/* ---- the SNP certificate table (GHCB specification, MSG_REPORT_REQ) ---- */
/* Entries of a 16-byte GUID, a little-endian offset and length (u32 each)
 * into the same blob, ended by an all-zero entry; the certificates (DER)
 * follow the table. The GUIDs are in the byte order of their text. */
#define VEIL_SNP_CERTTABLE_MAX         (64u << 10) /* as VEIL_TSM_AUXBLOB_MAX */
#define VEIL_SNP_CERTTABLE_ENTRIES_MAX 16
#define VEIL_SNP_CERTTABLE_ENTRY_LEN   24
#define VEIL_SNP_GUID_LEN              16

typedef enum veil_snp_cert_kind {
	VEIL_SNP_CERT_OTHER = 0, /* a GUID veil does not know (kept, never used) */
	VEIL_SNP_CERT_VCEK,      /* 63da758d-e664-4564-adc5-f4b93be8accd */
	VEIL_SNP_CERT_VLEK,      /* a8074bc2-a25a-483e-aae6-39c045a0b8a1 */
	VEIL_SNP_CERT_ASK,       /* 4ab7b379-bbac-4fe4-a02f-05aef327c782 (the ASVK with a VLEK) */
	VEIL_SNP_CERT_ARK,       /* c0b406a4-a803-4952-9743-3fb6014cd0ae */
} veil_snp_cert_kind;

/* "VCEK", "VLEK", "ASK", "ARK" or "other". */
const char *veil_snp_cert_kind_name(veil_snp_cert_kind k);

typedef struct veil_snp_cert_entry {
	uint8_t guid[VEIL_SNP_GUID_LEN];
	veil_snp_cert_kind kind;
	const uint8_t *der; /* points into the parsed blob: valid while the blob is */
	size_t len;
} veil_snp_cert_entry;

typedef struct veil_snp_certtable {
	size_t n;
	veil_snp_cert_entry entry[VEIL_SNP_CERTTABLE_ENTRIES_MAX]; /* in the table's order */
} veil_snp_certtable;

/* Parses a certificate table of at most VEIL_SNP_CERTTABLE_MAX bytes. An
 * empty blob is a table with no entries (a host with no certificates).
 * Refuses (VEIL_E_INVALID): no terminating all-zero entry inside the blob,
 * an entry with a zero GUID or a zero length, a certificate that starts
 * inside the table or ends past the blob, a known GUID twice; VEIL_E_LIMIT:
 * a blob over the maximum or more than VEIL_SNP_CERTTABLE_ENTRIES_MAX
 * entries. Certificates are not parsed here. On error *out has no entries. */
veil_status veil_snp_certtable_parse(const uint8_t *blob, size_t len, veil_snp_certtable *out,
                                     veil_err *err) VEIL_MUST_CHECK;

/* The entry of that kind, or NULL (also for VEIL_SNP_CERT_OTHER). */
const veil_snp_cert_entry *veil_snp_certtable_find(const veil_snp_certtable *t, veil_snp_cert_kind kind);

/* Appends the table's ASK (or ASVK) and ARK to pem as the two PEM
 * certificates veil_snp_verify takes as chain_pem. VEIL_E_NOTFOUND if
 * either is missing, VEIL_E_INVALID if either is not exactly one DER
 * certificate. On error pem is as it was. */
veil_status veil_snp_certtable_chain_pem(const veil_snp_certtable *t, veil_buf *pem,
                                         veil_err *err) VEIL_MUST_CHECK;

#endif
