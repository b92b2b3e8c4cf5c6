/*
 * Evidence checks of the key broker. Every path ends in the same claims
 * struct, so the release policy never sees a TEE's own format, and every
 * refusal says which check failed: the audit log records it and the
 * operator reads it.
 */
#include <string.h>

#include "veil/broker.h"
#include "veil/crypto.h"

static veil_status verify_snp_like(const veil_broker_trust *t, const veil_evidence *ev, bool sim, int64_t now,
                                   veil_attest_claims *claims,
                                   uint8_t report_data[static VEIL_PROTO_BINDING_LEN], veil_err *err)
{
	veil_snp_report r;
	veil_snp_result res;
	veil_status st = veil_snp_report_parse(ev->data, ev->len, &r, err);
	if (st)
		return st;
	if (sim) {
		if (!t->sim)
			return veil_err_set(err, VEIL_E_DENIED,
			                    "simulated evidence, and no simulated TEE is trusted here");
		if ((st = veil_snp_verify_sim(&r, t->sim, now, &res, err)) ||
		    (st = veil_attest_claims_from_sim(&r, &res, now, t->region, claims, err)))
			return st;
	} else {
		const uint8_t *vcek = ev->vcek_der;
		size_t vcek_len = ev->vcek_len;
		const char *chain = ev->chain_pem;
		size_t chain_len = ev->chain_len;
		veil_buf table_chain = {0};
		if (!vcek && ev->certtable) {
			/* The platform's own certificates: the VCEK (or VLEK) and, when
			 * present, its ASK and ARK; the ARK must still be a pinned one. */
			veil_snp_certtable tab;
			const veil_snp_cert_entry *e;
			if ((st = veil_snp_certtable_parse(ev->certtable, ev->certtable_len, &tab, err)))
				return st;
			if (!(e = veil_snp_certtable_find(&tab, VEIL_SNP_CERT_VCEK)))
				e = veil_snp_certtable_find(&tab, VEIL_SNP_CERT_VLEK);
			if (e) {
				vcek = e->der;
				vcek_len = e->len;
			}
			if (veil_snp_certtable_find(&tab, VEIL_SNP_CERT_ASK) &&
			    (st = veil_snp_certtable_chain_pem(&tab, &table_chain, err)))
				return st;
			if (table_chain.len) {
				chain = (const char *)table_chain.data;
				chain_len = table_chain.len;
			}
		}
		if (!vcek) {
			veil_buf_free(&table_chain);
			return veil_err_set(err, VEIL_E_INVALID,
			                    "SEV-SNP evidence without its VCEK certificate");
		}
		st = veil_snp_verify(&r, vcek, vcek_len, chain, chain_len, now, &res, err);
		veil_buf_free(&table_chain);
		if (st || (st = veil_attest_claims_from_snp(&r, &res, now, t->region, claims, err)))
			return st;
	}
	memcpy(report_data, r.report_data, VEIL_PROTO_BINDING_LEN);
	return VEIL_OK;
}

/* TDX: the quote carries its PCK chain; bytes after the quote's declared
 * end are allowed only as zero padding (a producer's fixed-size buffer):
 * nothing signs them, and one spelling per quote keeps the audit honest. */
static veil_status verify_tdx(const veil_broker_trust *t, const veil_evidence *ev, int64_t now,
                              veil_attest_claims *claims, uint8_t report_data[static VEIL_PROTO_BINDING_LEN],
                              veil_err *err)
{
	size_t qlen = 0;
	veil_status st = veil_tdx_quote_len(ev->data, ev->len, &qlen, err);
	if (st)
		return st;
	for (size_t i = qlen; i < ev->len; i++)
		if (ev->data[i])
			return veil_err_set(err, VEIL_E_INVALID,
			                    "%zu bytes that are not zero padding follow the TDX quote",
			                    ev->len - qlen);
	veil_tdx_quote q;
	veil_tdx_result res;
	if ((st = veil_tdx_quote_parse(ev->data, qlen, &q, err)) ||
	    (st = veil_tdx_verify(&q, NULL, now, &res, err)) ||
	    (st = veil_attest_claims_from_tdx(&q, &res, now, t->region, claims, err)))
		return st;
	memcpy(report_data, q.report_data, VEIL_PROTO_BINDING_LEN);
	return VEIL_OK;
}

veil_status veil_broker_verify(const veil_broker_trust *t, const veil_evidence *ev, int64_t now,
                               veil_attest_claims *claims, uint8_t report_data[static VEIL_PROTO_BINDING_LEN],
                               veil_err *err)
{
	veil_attest_claims_init(claims);
	memset(report_data, 0, VEIL_PROTO_BINDING_LEN);
	if (!t || !ev || !ev->tee || !ev->data)
		return veil_err_set(err, VEIL_E_INVALID, "no evidence to verify");
	veil_status st;
	if (strcmp(ev->tee, "sim") == 0)
		st = verify_snp_like(t, ev, true, now, claims, report_data, err);
	else if (strcmp(ev->tee, "sev-snp") == 0)
		st = verify_snp_like(t, ev, false, now, claims, report_data, err);
	else if (strcmp(ev->tee, "tdx") == 0)
		st = verify_tdx(t, ev, now, claims, report_data, err);
	else
		st = veil_err_set(err, VEIL_E_UNSUPPORTED, "no verifier for TEE '%s' evidence", ev->tee);
	if (st) {
		veil_attest_claims_init(claims);
		memset(report_data, 0, VEIL_PROTO_BINDING_LEN);
	}
	return st;
}

veil_status veil_broker_challenge_new(veil_broker_challenge *c, int64_t now, veil_err *err)
{
	memset(c, 0, sizeof *c);
	c->issued = now;
	return veil_random(c->nonce, sizeof c->nonce, err);
}

veil_status veil_broker_check(veil_broker_challenge *c, const veil_broker_trust *t, const veil_evidence *ev,
                              const uint8_t pub[static 32], const uint8_t sign_pub[static 32], int64_t now,
                              veil_attest_claims *claims, veil_err *err)
{
	veil_attest_claims_init(claims);
	if (c->used)
		return veil_err_set(err, VEIL_E_DENIED,
		                    "the challenge was already answered: evidence replayed");
	c->used = true;
	if (now < c->issued || now - c->issued > VEIL_BROKER_CHALLENGE_TTL)
		return veil_err_set(err, VEIL_E_DENIED,
		                    "the evidence came %lld s after its challenge (at most %d s): stale",
		                    (long long)(now - c->issued), VEIL_BROKER_CHALLENGE_TTL);
	uint8_t report_data[VEIL_PROTO_BINDING_LEN], want[VEIL_PROTO_BINDING_LEN];
	veil_status st = veil_broker_verify(t, ev, now, claims, report_data, err);
	if (st || (st = veil_proto_binding(c->nonce, pub, sign_pub, want, err)))
		return st;
	if (!veil_ct_equal(report_data, want, sizeof want)) {
		veil_attest_claims_init(claims);
		return veil_err_set(err, VEIL_E_DENIED,
		                    "the evidence's report data does not bind this challenge's nonce and the "
		                    "offered keys: "
		                    "it answers another challenge, or was made for other keys");
	}
	return VEIL_OK;
}
