/*
 * TEE-neutral claims (include/veil/attest.h): what a verifier hands to the
 * release policy. Each evidence format gets one function that turns its
 * verified report into claims; this file holds the SEV-SNP one. Nothing
 * here verifies anything: the input must already have passed its verifier.
 */
#include "claims_int.h"

#include <assert.h>
#include <string.h>

const char *veil_tee_name(veil_tee t)
{
	switch (t) {
	case VEIL_TEE_UNKNOWN:
		return "unknown";
	case VEIL_TEE_SEV_SNP:
		return "sev-snp";
	case VEIL_TEE_TDX:
		return "tdx";
	case VEIL_TEE_VTPM:
		return "vtpm";
	case VEIL_TEE_SIM:
		return "sim";
	}
	return "unknown";
}

void veil_attest_claims_init(veil_attest_claims *c)
{
	memset(c, 0, sizeof *c);
	c->vmpl = -1;
}

veil_status attest_claims_start(veil_tee tee, const uint8_t *measurement, size_t len, int64_t evidence_time,
                                const char *region, veil_attest_claims *c, veil_err *err)
{
	veil_attest_claims_init(c);
	if (region) {
		veil_status st = veil_name_check(region, "region", err);
		if (st)
			return st;
	}
	if (len > VEIL_ATTEST_MEASUREMENT_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "a measurement of %zu bytes", len);
	c->tee = tee;
	c->simulated = tee == VEIL_TEE_SIM;
	memcpy(c->measurement, measurement, len);
	c->measurement_len = len;
	c->evidence_time = evidence_time;
	if (region) {
		static_assert(VEIL_ATTEST_REGION_MAX > 64, "a veil name fits");
		memcpy(c->region, region, strlen(region) + 1);
	}
	return VEIL_OK;
}

void attest_claims_add_tcb(veil_attest_claims *c, const char *name, uint64_t value)
{
	veil_attest_tcb_part *t = &c->tcb[c->ntcb++];
	memcpy(t->name, name, strlen(name) + 1);
	t->value = value;
}

/* What an SNP-format report says, for a real or a simulated chain: the
 * callers have checked which verification the result comes from. */
static veil_status from_report(const veil_snp_report *report, const veil_snp_result *res, veil_tee tee,
                               int64_t evidence_time, const char *region, veil_attest_claims *out,
                               veil_err *err)
{
	if (report->vmpl > INT32_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "the report's VMPL %u is out of range",
		                    (unsigned)report->vmpl);
	veil_attest_claims c;
	static_assert(VEIL_SNP_MEASUREMENT_LEN <= VEIL_ATTEST_MEASUREMENT_MAX, "an SNP measurement fits");
	veil_status st = attest_claims_start(tee, report->measurement, VEIL_SNP_MEASUREMENT_LEN,
	                                     evidence_time, region, &c, err);
	if (st)
		return st;
	c.debug = (res->debug || report->debug) ? VEIL_DEBUG_ON : VEIL_DEBUG_OFF;
	c.vmpl = (int32_t)report->vmpl;
	const veil_snp_tcb *t = &res->reported_tcb;
	if (res->product == VEIL_SNP_PRODUCT_TURIN)
		attest_claims_add_tcb(&c, "fmc", t->fmc);
	attest_claims_add_tcb(&c, "bootloader", t->bootloader);
	attest_claims_add_tcb(&c, "tee", t->tee);
	attest_claims_add_tcb(&c, "snp", t->snp);
	attest_claims_add_tcb(&c, "microcode", t->microcode);
	*out = c;
	return VEIL_OK;
}

veil_status veil_attest_claims_from_snp(const veil_snp_report *report, const veil_snp_result *res,
                                        int64_t evidence_time, const char *region, veil_attest_claims *out,
                                        veil_err *err)
{
	veil_attest_claims_init(out);
	if (!report || !res)
		return veil_err_set(err, VEIL_E_INVALID, "no SEV-SNP report or verification result");
	/* veil_snp_verify zeroes the result on failure: no product means it did not succeed. */
	if (res->product == VEIL_SNP_PRODUCT_UNKNOWN)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "the SEV-SNP result is not from a successful verification");
	return from_report(report, res, VEIL_TEE_SEV_SNP, evidence_time, region, out, err);
}

veil_status veil_attest_claims_from_sim(const veil_snp_report *report, const veil_snp_result *res,
                                        int64_t evidence_time, const char *region, veil_attest_claims *out,
                                        veil_err *err)
{
	veil_attest_claims_init(out);
	if (!report || !res)
		return veil_err_set(err, VEIL_E_INVALID, "no simulated report or verification result");
	/* veil_snp_verify_sim leaves product UNKNOWN and names the VCEK "Sim"; a zeroed result names nothing.
	 */
	if (res->product != VEIL_SNP_PRODUCT_UNKNOWN || strcmp(res->vcek_product, VEIL_SIM_PRODUCT_NAME) != 0)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "the result is not from a successful simulated verification");
	return from_report(report, res, VEIL_TEE_SIM, evidence_time, region, out, err);
}
