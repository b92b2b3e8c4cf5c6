/*
 * The SEV-SNP ATTESTATION_REPORT parser: 1184 little-endian bytes into a
 * veil_snp_report, at the offsets of the SNP firmware ABI specification
 * (docs/formats/sev-snp.md has the table), for report versions 2 to 5. It
 * checks shape only (length, version, signature algorithm, the unsigned
 * tail); whether anything in it is true is veil_snp_verify's question.
 */
#include "veil/attest.h"

#include <assert.h>
#include <string.h>

/* Offsets of the fields, from the ABI specification's report table. */
enum {
	OFF_VERSION = 0x000,
	OFF_GUEST_SVN = 0x004,
	OFF_POLICY = 0x008,
	OFF_FAMILY_ID = 0x010,
	OFF_IMAGE_ID = 0x020,
	OFF_VMPL = 0x030,
	OFF_SIG_ALGO = 0x034,
	OFF_CURRENT_TCB = 0x038,
	OFF_PLATFORM_INFO = 0x040,
	OFF_KEY_INFO = 0x048,
	OFF_REPORT_DATA = 0x050,
	OFF_MEASUREMENT = 0x090,
	OFF_HOST_DATA = 0x0C0,
	OFF_ID_KEY_DIGEST = 0x0E0,
	OFF_AUTHOR_KEY_DIGEST = 0x110,
	OFF_REPORT_ID = 0x140,
	OFF_REPORT_ID_MA = 0x160,
	OFF_REPORTED_TCB = 0x180,
	OFF_CPUID_FAM = 0x188, /* version 3 */
	OFF_CPUID_MOD = 0x189,
	OFF_CPUID_STEP = 0x18A,
	OFF_CHIP_ID = 0x1A0,
	OFF_COMMITTED_TCB = 0x1E0,
	OFF_CURRENT_BUILD = 0x1E8, /* build, minor, major, reserved */
	OFF_COMMITTED_BUILD = 0x1EC,
	OFF_LAUNCH_TCB = 0x1F0,
	OFF_LAUNCH_MIT = 0x1F8, /* version 5 */
	OFF_CURRENT_MIT = 0x200,
	OFF_SIG_R = VEIL_SNP_SIG_OFF,
	OFF_SIG_S = VEIL_SNP_SIG_OFF + VEIL_SNP_SIG_COMPONENT,
	OFF_SIG_TAIL = VEIL_SNP_SIG_OFF + 2 * VEIL_SNP_SIG_COMPONENT,
};

static_assert(OFF_MEASUREMENT == OFF_REPORT_DATA + VEIL_SNP_REPORT_DATA_LEN, "report_data is 64 bytes");
static_assert(OFF_HOST_DATA == OFF_MEASUREMENT + VEIL_SNP_MEASUREMENT_LEN, "measurement is 48 bytes");
static_assert(OFF_COMMITTED_TCB == OFF_CHIP_ID + VEIL_SNP_CHIP_ID_LEN, "chip_id is 64 bytes");
static_assert(VEIL_SNP_SIGNED_LEN == VEIL_SNP_SIG_OFF, "the signature covers everything before it");
static_assert(OFF_CURRENT_MIT + 8 <= VEIL_SNP_SIGNED_LEN, "the mitigation vectors are signed");
static_assert(OFF_SIG_TAIL < VEIL_SNP_REPORT_LEN, "R and S fit in the signature field");

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32);
}

const char *veil_snp_product_name(veil_snp_product p)
{
	switch (p) {
	case VEIL_SNP_PRODUCT_MILAN:
		return "Milan";
	case VEIL_SNP_PRODUCT_GENOA:
		return "Genoa";
	case VEIL_SNP_PRODUCT_TURIN:
		return "Turin";
	case VEIL_SNP_PRODUCT_UNKNOWN:
		break;
	}
	return "unknown";
}

void veil_snp_tcb_decode(uint64_t raw, veil_snp_product p, veil_snp_tcb *out)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(raw >> (8 * i));
	memset(out, 0, sizeof *out);
	out->raw = raw;
	out->microcode = b[7];
	if (p == VEIL_SNP_PRODUCT_TURIN) {
		out->fmc = b[0];
		out->bootloader = b[1];
		out->tee = b[2];
		out->snp = b[3];
		out->reserved_zero = (b[4] | b[5] | b[6]) == 0;
	} else {
		out->bootloader = b[0];
		out->tee = b[1];
		out->snp = b[6];
		out->reserved_zero = (b[2] | b[3] | b[4] | b[5]) == 0;
	}
}

static void copy_fields(const uint8_t *b, veil_snp_report *r)
{
	r->version = le32(b + OFF_VERSION);
	r->guest_svn = le32(b + OFF_GUEST_SVN);
	r->policy = le64(b + OFF_POLICY);
	memcpy(r->family_id, b + OFF_FAMILY_ID, sizeof r->family_id);
	memcpy(r->image_id, b + OFF_IMAGE_ID, sizeof r->image_id);
	r->vmpl = le32(b + OFF_VMPL);
	r->signature_algo = le32(b + OFF_SIG_ALGO);
	r->current_tcb = le64(b + OFF_CURRENT_TCB);
	r->platform_info = le64(b + OFF_PLATFORM_INFO);
	r->key_info = le32(b + OFF_KEY_INFO);
	r->signing_key = (r->key_info >> 2) & 0x7u;
	memcpy(r->report_data, b + OFF_REPORT_DATA, sizeof r->report_data);
	memcpy(r->measurement, b + OFF_MEASUREMENT, sizeof r->measurement);
	memcpy(r->host_data, b + OFF_HOST_DATA, sizeof r->host_data);
	memcpy(r->id_key_digest, b + OFF_ID_KEY_DIGEST, sizeof r->id_key_digest);
	memcpy(r->author_key_digest, b + OFF_AUTHOR_KEY_DIGEST, sizeof r->author_key_digest);
	memcpy(r->report_id, b + OFF_REPORT_ID, sizeof r->report_id);
	memcpy(r->report_id_ma, b + OFF_REPORT_ID_MA, sizeof r->report_id_ma);
	r->reported_tcb = le64(b + OFF_REPORTED_TCB);
	if (r->version >= 3) {
		r->cpuid_fam_id = b[OFF_CPUID_FAM];
		r->cpuid_mod_id = b[OFF_CPUID_MOD];
		r->cpuid_step = b[OFF_CPUID_STEP];
	}
	memcpy(r->chip_id, b + OFF_CHIP_ID, sizeof r->chip_id);
	r->committed_tcb = le64(b + OFF_COMMITTED_TCB);
	r->current_build = b[OFF_CURRENT_BUILD];
	r->current_minor = b[OFF_CURRENT_BUILD + 1];
	r->current_major = b[OFF_CURRENT_BUILD + 2];
	r->committed_build = b[OFF_COMMITTED_BUILD];
	r->committed_minor = b[OFF_COMMITTED_BUILD + 1];
	r->committed_major = b[OFF_COMMITTED_BUILD + 2];
	r->launch_tcb = le64(b + OFF_LAUNCH_TCB);
	if (r->version >= 5) {
		r->launch_mit_vector = le64(b + OFF_LAUNCH_MIT);
		r->current_mit_vector = le64(b + OFF_CURRENT_MIT);
	}
	memcpy(r->sig_r, b + OFF_SIG_R, sizeof r->sig_r);
	memcpy(r->sig_s, b + OFF_SIG_S, sizeof r->sig_s);
	r->debug = (r->policy & VEIL_SNP_POLICY_DEBUG) != 0;
	memcpy(r->raw, b, sizeof r->raw);
}

veil_status veil_snp_report_parse(const uint8_t *bytes, size_t len, veil_snp_report *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	if (!bytes || len != VEIL_SNP_REPORT_LEN) {
		veil_err_set(err, VEIL_E_INVALID, "SEV-SNP report: %zu bytes, expected exactly %d", len,
		             VEIL_SNP_REPORT_LEN);
		return veil_err_hint(err, "pass the raw report as the firmware returns it (not hex, not a "
		                          "certificate table)");
	}
	/* Versions 2 to 5 share one layout: 3 filled three reserved bytes with
	 * the CPUID family, model and stepping, 4 changed nothing veil reads, 5
	 * filled two reserved words with the mitigation vectors. A later version
	 * may move what veil reads, so it is refused until someone reads its
	 * specification. */
	uint32_t version = le32(bytes + OFF_VERSION);
	if (version < VEIL_SNP_REPORT_VERSION_MIN || version > VEIL_SNP_REPORT_VERSION_MAX)
		return veil_err_set(err, VEIL_E_UNSUPPORTED,
		                    "SEV-SNP report: version %u (veil reads %d to %d)", (unsigned)version,
		                    VEIL_SNP_REPORT_VERSION_MIN, VEIL_SNP_REPORT_VERSION_MAX);
	uint32_t algo = le32(bytes + OFF_SIG_ALGO);
	if (algo != VEIL_SNP_SIG_ALGO_P384)
		return veil_err_set(err, VEIL_E_UNSUPPORTED,
		                    "SEV-SNP report: signature_algo %u (only 1, ECDSA P-384 with SHA-384)",
		                    (unsigned)algo);
	/* Bytes after S are reserved and outside the signature: insisting on
	 * zeros means no one can make two different accepted reports from one. */
	for (size_t i = OFF_SIG_TAIL; i < VEIL_SNP_REPORT_LEN; i++)
		if (bytes[i] != 0)
			return veil_err_set(
			        err, VEIL_E_INVALID,
			        "SEV-SNP report: byte 0x%zX in the reserved part of the signature "
			        "is not zero",
			        i);
	copy_fields(bytes, out);
	return VEIL_OK;
}
