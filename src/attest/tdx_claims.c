/*
 * TEE-neutral claims from a verified TDX quote (include/veil/attest_tdx.h).
 * The TCB parts and their names are documented in docs/formats/tdx.md,
 * because release policies name them. Nothing here verifies anything: the
 * quote must already have passed veil_tdx_verify.
 */
#include "claims_int.h"
#include "veil/attest.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* TEE_TCB_SVN bytes veil names (Intel PCS TCB info: tdxtcbcomponents[0..2]). */
enum { SVN_MODULE = 0, SVN_MAJOR = 1, SVN_UCODE = 2 };

/* For TDX 1.5 the quote has the SVN the TD was built under (TEE_TCB_SVN)
 * and the one of the TDX module running now (TEE_TCB_SVN2, after a
 * TD-preserving update). A minimum must hold for both: the TD lived under
 * each. */
static uint8_t svn(const veil_tdx_quote *q, size_t i)
{
	uint8_t v = q->tee_tcb_svn[i];
	if (q->body_type == VEIL_TDX_BODY_TYPE_TDX15 && q->tee_tcb_svn2[i] < v)
		v = q->tee_tcb_svn2[i];
	return v;
}

static veil_status from_quote(const veil_tdx_quote *q, const veil_tdx_result *res, int64_t evidence_time,
                              const char *region, veil_attest_claims *out, veil_err *err)
{
	if (res->version != q->version || res->body_type != q->body_type || res->qe_isv_svn != q->qe_isv_svn)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "the TDX result is not the verification of this quote");
	veil_attest_claims c;
	static_assert(VEIL_TDX_MR_LEN <= VEIL_ATTEST_MEASUREMENT_MAX, "MRTD fits");
	veil_status st =
	        attest_claims_start(VEIL_TEE_TDX, q->mr_td, VEIL_TDX_MR_LEN, evidence_time, region, &c, err);
	if (st)
		return st;
	/* Either saying debug is enough. */
	c.debug = (res->debug || q->debug) ? VEIL_DEBUG_ON : VEIL_DEBUG_OFF;
	c.vmpl = -1;
	static_assert(VEIL_ATTEST_TCB_MAX >= 4, "four TDX TCB parts fit");
	attest_claims_add_tcb(&c, "tdx_module", svn(q, SVN_MODULE));
	attest_claims_add_tcb(&c, "tdx_major", svn(q, SVN_MAJOR));
	attest_claims_add_tcb(&c, "tdx_ucode", svn(q, SVN_UCODE));
	attest_claims_add_tcb(&c, "qe_svn", q->qe_isv_svn);
	*out = c;
	return VEIL_OK;
}

veil_status veil_attest_claims_from_tdx(const veil_tdx_quote *quote, const veil_tdx_result *res,
                                        int64_t evidence_time, const char *region, veil_attest_claims *out,
                                        veil_err *err)
{
	veil_attest_claims_init(out);
	if (!quote || !res || !quote->raw)
		return veil_err_set(err, VEIL_E_INVALID, "no TDX quote or verification result");
	/* veil_tdx_verify zeroes the result on failure: verified is set only on success. */
	if (!res->verified)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "the TDX result is not from a successful verification");
	/* As in veil_tdx_verify, only the raw bytes count: a field edited after
	 * parsing cannot become a claim. */
	veil_tdx_quote *q = malloc(sizeof *q);
	if (!q)
		return veil_err_set(err, VEIL_E_NOMEM, "TDX claims: out of memory");
	veil_status st = veil_tdx_quote_parse(quote->raw, quote->raw_len, q, err);
	if (!st)
		st = from_quote(q, res, evidence_time, region, out, err);
	free(q);
	return st;
}
