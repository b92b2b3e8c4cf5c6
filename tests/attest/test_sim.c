/* Unit tests for the simulated TEE: a fresh simulated chain signs reports
 * that the real SEV-SNP parser and verifier accept with that chain's ARK
 * given explicitly, and nothing else: every byte change of the signed
 * region and signature is refused, the normal verifier (pinned AMD roots)
 * refuses the chain, another chain's VCEK or ARK refuses the report, a TCB
 * the VCEK does not certify is denied, and a release policy refuses the
 * claims with the `simulated` clause unless it says allow_simulated: true. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "veil/attest.h"
#include "veil/crypto.h"

/* 2026-11-22; chains are made valid from an hour before this. */
#define NOW INT64_C(1795000000)
/* boot loader 3, TEE 0, SNP 8, microcode 115 (the virtee Milan report's). */
#define TCB    UINT64_C(0x7308000000000003)
#define POLICY UINT64_C(0x30000)

typedef struct fix {
	veil_sim_chain a, b;
	uint8_t measurement[VEIL_SNP_MEASUREMENT_LEN];
	uint8_t report_data[VEIL_SNP_REPORT_DATA_LEN];
	uint8_t rep[VEIL_SNP_REPORT_LEN]; /* signed by chain a */
} fix;

static int teardown(void **state)
{
	fix *f = *state;
	veil_sim_chain_free(&f->a);
	veil_sim_chain_free(&f->b);
	free(f);
	return 0;
}

static int setup(void **state)
{
	veil_err e = {0};
	if (veil_crypto_init(&e) != VEIL_OK)
		return -1;
	fix *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	*state = f;
	for (size_t i = 0; i < sizeof f->measurement; i++)
		f->measurement[i] = (uint8_t)(0xA0 + i);
	for (size_t i = 0; i < sizeof f->report_data; i++)
		f->report_data[i] = (uint8_t)i;
	if (veil_sim_chain_create(TCB, NOW, &f->a, &e) != VEIL_OK ||
	    veil_sim_chain_create(TCB, NOW, &f->b, &e) != VEIL_OK ||
	    veil_sim_report(&f->a, f->measurement, f->report_data, POLICY, 0, TCB, f->rep, &e) != VEIL_OK) {
		fprintf(stderr, "setup: %s\n", e.msg);
		teardown(state); /* cmocka does not run it when setup fails */
		return -1;
	}
	return 0;
}

static veil_status verify_sim(const uint8_t *rep, const veil_sim_chain *c, int64_t now, veil_snp_result *res,
                              veil_err *e)
{
	veil_snp_report *r = malloc(sizeof *r);
	assert_non_null(r);
	veil_status st = veil_snp_report_parse(rep, VEIL_SNP_REPORT_LEN, r, e);
	if (st)
		memset(res, 0, sizeof *res);
	else
		st = veil_snp_verify_sim(r, c, now, res, e);
	free(r);
	return st;
}

static void test_report_fields_and_verify(void **state)
{
	fix *f = *state;
	veil_snp_report *r = malloc(sizeof *r);
	veil_snp_result res;
	veil_err e = {0};
	assert_non_null(r);
	assert_int_equal(veil_snp_report_parse(f->rep, sizeof f->rep, r, &e), VEIL_OK);
	assert_int_equal(r->version, 2);
	assert_int_equal(r->policy, POLICY);
	assert_false(r->debug);
	assert_int_equal(r->vmpl, 0);
	assert_int_equal(r->signing_key, VEIL_SNP_SIGNING_VCEK);
	assert_int_equal(r->reported_tcb, TCB);
	assert_memory_equal(r->measurement, f->measurement, sizeof f->measurement);
	assert_memory_equal(r->report_data, f->report_data, sizeof f->report_data);

	if (veil_snp_verify_sim(r, &f->a, NOW, &res, &e) != VEIL_OK)
		fail_msg("verify_sim: %s", e.msg);
	assert_int_equal(res.product, VEIL_SNP_PRODUCT_UNKNOWN);
	assert_string_equal(res.vcek_product, VEIL_SIM_PRODUCT_NAME);
	assert_int_equal(res.reported_tcb.bootloader, 3);
	assert_int_equal(res.reported_tcb.snp, 8);
	assert_int_equal(res.reported_tcb.microcode, 115);
	assert_false(res.chip_id_masked);
	assert_false(res.debug);

	/* chip_id is the VCEK's hwID: another chain's chip_id differs. */
	uint8_t other[VEIL_SNP_REPORT_LEN];
	assert_int_equal(veil_sim_report(&f->b, f->measurement, f->report_data, POLICY, 0, TCB, other, &e),
	                 VEIL_OK);
	assert_memory_not_equal(f->rep + 0x1A0, other + 0x1A0, VEIL_SNP_CHIP_ID_LEN);
	free(r);
}

static void test_subject_names_say_simulated(void **state)
{
	fix *f = *state;
	const unsigned char *p = f->a.vcek_der.data;
	X509 *x = d2i_X509(NULL, &p, (long)f->a.vcek_der.len);
	assert_non_null(x);
	char buf[512];
	X509_NAME_oneline(X509_get_subject_name(x), buf, sizeof buf);
	assert_non_null(strstr(buf, "not a real AMD key"));
	X509_NAME_oneline(X509_get_issuer_name(x), buf, sizeof buf);
	assert_non_null(strstr(buf, "not a real AMD key"));
	X509_free(x);
	assert_non_null(f->a.vcek_key);
	assert_non_null(strstr((const char *)f->a.ark_pem.data, "-----BEGIN CERTIFICATE-----"));
	assert_true(f->a.vcek_key_len > 0);
}

static void test_every_byte_change_fails(void **state)
{
	fix *f = *state;
	veil_snp_result res;
	veil_err e = {0};
	uint8_t rep[VEIL_SNP_REPORT_LEN];
	/* The signed region and R and S: each single change must be refused. */
	for (size_t i = 0; i < VEIL_SNP_SIG_OFF + 2 * VEIL_SNP_SIG_COMPONENT; i++) {
		memcpy(rep, f->rep, sizeof rep);
		rep[i] ^= 0x01;
		veil_status st = verify_sim(rep, &f->a, NOW, &res, &e);
		if (st == VEIL_OK)
			fail_msg("byte 0x%zx changed, yet the report verified", i);
		assert_int_equal(res.product, VEIL_SNP_PRODUCT_UNKNOWN);
		assert_string_equal(res.vcek_product, "");
	}
	/* The unsigned tail too, through the parser. */
	memcpy(rep, f->rep, sizeof rep);
	rep[VEIL_SNP_REPORT_LEN - 1] = 1;
	assert_int_equal(verify_sim(rep, &f->a, NOW, &res, &e), VEIL_E_INVALID);
}

static void test_normal_verifier_refuses(void **state)
{
	fix *f = *state;
	veil_snp_report *r = malloc(sizeof *r);
	veil_snp_result res;
	veil_err e = {0};
	assert_non_null(r);
	assert_int_equal(veil_snp_report_parse(f->rep, sizeof f->rep, r, &e), VEIL_OK);
	/* With the simulated chain: its ARK is not pinned. */
	assert_int_equal(veil_snp_verify(r, f->a.vcek_der.data, f->a.vcek_der.len,
	                                 (const char *)f->a.chain_pem.data, f->a.chain_pem.len, NOW, &res,
	                                 &e),
	                 VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "pinned"));
	assert_int_equal(res.product, VEIL_SNP_PRODUCT_UNKNOWN);
	/* Without a chain: no pinned ASK issued the VCEK. */
	assert_int_equal(veil_snp_verify(r, f->a.vcek_der.data, f->a.vcek_der.len, NULL, 0, NOW, &res, &e),
	                 VEIL_E_CORRUPT);
	/* And a result of the simulated verifier never becomes sev-snp claims. */
	veil_attest_claims c;
	assert_int_equal(veil_snp_verify_sim(r, &f->a, NOW, &res, &e), VEIL_OK);
	assert_int_equal(veil_attest_claims_from_snp(r, &res, NOW, NULL, &c, &e), VEIL_E_INVALID);
	assert_int_equal(c.tee, VEIL_TEE_UNKNOWN);
	free(r);
}

static void test_other_chain_refuses(void **state)
{
	fix *f = *state;
	veil_snp_result res;
	veil_err e = {0};
	/* Chain B's VCEK did not sign it. */
	assert_int_equal(verify_sim(f->rep, &f->b, NOW, &res, &e), VEIL_E_AUTH);
	/* A's VCEK and chain, but B's ARK trusted: the anchor does not match. */
	veil_sim_chain mixed = f->a;
	mixed.ark_pem = f->b.ark_pem;
	assert_int_equal(verify_sim(f->rep, &mixed, NOW, &res, &e), VEIL_E_CORRUPT);
	/* A's VCEK under B's ASK and ARK: the VCEK -> ASK link breaks. */
	mixed = f->b;
	mixed.vcek_der = f->a.vcek_der;
	assert_int_equal(verify_sim(f->rep, &mixed, NOW, &res, &e), VEIL_E_CORRUPT);
	/* No anchor at all. */
	mixed = f->a;
	mixed.ark_pem.data = NULL;
	mixed.ark_pem.len = 0;
	assert_int_equal(verify_sim(f->rep, &mixed, NOW, &res, &e), VEIL_E_INVALID);
}

static void test_chains_differ(void **state)
{
	fix *f = *state;
	assert_true(f->a.vcek_der.len != f->b.vcek_der.len ||
	            memcmp(f->a.vcek_der.data, f->b.vcek_der.data, f->a.vcek_der.len) != 0);
	assert_true(f->a.ark_pem.len != f->b.ark_pem.len ||
	            memcmp(f->a.ark_pem.data, f->b.ark_pem.data, f->a.ark_pem.len) != 0);
	assert_true(f->a.vcek_key_len != f->b.vcek_key_len ||
	            memcmp(f->a.vcek_key, f->b.vcek_key, f->a.vcek_key_len) != 0);
}

static void test_tcb_and_time(void **state)
{
	fix *f = *state;
	veil_snp_result res;
	veil_err e = {0};
	uint8_t rep[VEIL_SNP_REPORT_LEN];
	/* A report claiming SNP SPL 9 with a VCEK for 8: as with a real chip, denied. */
	uint64_t newer = TCB + (UINT64_C(1) << 48);
	assert_int_equal(veil_sim_report(&f->a, f->measurement, f->report_data, POLICY, 0, newer, rep, &e),
	                 VEIL_OK);
	assert_int_equal(verify_sim(rep, &f->a, NOW, &res, &e), VEIL_E_DENIED);
	/* Certificates are valid from an hour before NOW for VEIL_SIM_VALID_DAYS. */
	assert_int_equal(verify_sim(f->rep, &f->a, NOW - 7200, &res, &e), VEIL_E_CORRUPT);
	assert_int_equal(
	        verify_sim(f->rep, &f->a, NOW + INT64_C(86400) * (VEIL_SIM_VALID_DAYS + 1), &res, &e),
	        VEIL_E_CORRUPT);
	/* A TCB with reserved bytes set is refused up front. */
	veil_sim_chain c;
	assert_int_equal(veil_sim_chain_create(TCB | (UINT64_C(1) << 16), NOW, &c, &e), VEIL_E_INVALID);
	assert_null(c.vcek_key);
	/* A key that is not the VCEK's is refused rather than producing a bad report. */
	veil_sim_chain mixed = f->a;
	mixed.vcek_key = f->b.vcek_key;
	mixed.vcek_key_len = f->b.vcek_key_len;
	assert_int_equal(veil_sim_report(&mixed, f->measurement, f->report_data, POLICY, 0, TCB, rep, &e),
	                 VEIL_E_INVALID);
	uint8_t zero[VEIL_SNP_REPORT_LEN] = {0};
	assert_memory_equal(rep, zero, sizeof zero);
}

static veil_status eval(const char *text, const veil_attest_claims *c, veil_release_result *res)
{
	veil_release_policy *p = NULL;
	veil_err e = {0};
	if (veil_release_policy_parse(text, strlen(text), &p, &e) != VEIL_OK)
		fail_msg("policy: %s", e.msg);
	veil_status st = veil_release_policy_eval(p, c, NOW + 10, res, &e);
	veil_release_policy_free(p);
	return st;
}

#define MEAS_HEX                                                                                             \
	"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
#define POLICY_YAML(allow)                                                                                   \
	"version: 1\ntee: [sim]\nmeasurements: [" MEAS_HEX "]\nvmpl: 0\nmin_tcb: {snp: 8, microcode: 115}\n" \
	"max_age: 5m\n" allow

static void test_claims_and_policy(void **state)
{
	fix *f = *state;
	veil_snp_report *r = malloc(sizeof *r);
	veil_snp_result res;
	veil_attest_claims c;
	veil_release_result rr;
	veil_err e = {0};
	assert_non_null(r);
	assert_int_equal(veil_snp_report_parse(f->rep, sizeof f->rep, r, &e), VEIL_OK);
	assert_int_equal(veil_snp_verify_sim(r, &f->a, NOW, &res, &e), VEIL_OK);
	assert_int_equal(veil_attest_claims_from_sim(r, &res, NOW, "eu-west", &c, &e), VEIL_OK);
	assert_int_equal(c.tee, VEIL_TEE_SIM);
	assert_true(c.simulated);
	assert_int_equal(c.measurement_len, VEIL_SNP_MEASUREMENT_LEN);
	assert_int_equal(c.debug, VEIL_DEBUG_OFF);
	assert_int_equal(c.vmpl, 0);
	assert_int_equal(c.ntcb, 4);
	assert_string_equal(c.region, "eu-west");

	/* Without allow_simulated: exactly the `simulated` clause fails. */
	assert_int_equal(eval(POLICY_YAML(""), &c, &rr), VEIL_E_DENIED);
	assert_false(rr.allowed);
	assert_int_equal(rr.nfailed, 1);
	assert_string_equal(rr.failed[0].clause, "simulated");
	assert_int_equal(eval(POLICY_YAML("allow_simulated: false\n"), &c, &rr), VEIL_E_DENIED);
	assert_string_equal(rr.failed[0].clause, "simulated");
	/* With it: allowed. */
	assert_int_equal(eval(POLICY_YAML("allow_simulated: true\n"), &c, &rr), VEIL_OK);
	assert_true(rr.allowed);
	/* A production policy (tee: [sev-snp]) refuses it even with allow_simulated. */
	assert_int_equal(eval("version: 1\ntee: [sev-snp]\nmeasurements: [" MEAS_HEX "]\nmax_age: 5m\n"
	                      "allow_simulated: true\n",
	                      &c, &rr),
	                 VEIL_E_DENIED);
	assert_string_equal(rr.failed[0].clause, "tee");

	/* A zeroed (failed) result gives no claims. */
	veil_snp_result none = {0};
	assert_int_equal(veil_attest_claims_from_sim(r, &none, NOW, NULL, &c, &e), VEIL_E_INVALID);
	assert_int_equal(c.tee, VEIL_TEE_UNKNOWN);
	assert_false(c.simulated);
	free(r);
}

static void test_debug_policy_bit(void **state)
{
	fix *f = *state;
	veil_snp_report *r = malloc(sizeof *r);
	veil_snp_result res;
	veil_attest_claims c;
	veil_err e = {0};
	uint8_t rep[VEIL_SNP_REPORT_LEN];
	assert_non_null(r);
	assert_int_equal(veil_sim_report(&f->a, f->measurement, f->report_data,
	                                 POLICY | VEIL_SNP_POLICY_DEBUG, 1, TCB, rep, &e),
	                 VEIL_OK);
	assert_int_equal(veil_snp_report_parse(rep, sizeof rep, r, &e), VEIL_OK);
	assert_int_equal(veil_snp_verify_sim(r, &f->a, NOW, &res, &e), VEIL_OK);
	assert_true(res.debug);
	assert_int_equal(veil_attest_claims_from_sim(r, &res, NOW, NULL, &c, &e), VEIL_OK);
	assert_int_equal(c.debug, VEIL_DEBUG_ON);
	assert_int_equal(c.vmpl, 1);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_report_fields_and_verify),
	        cmocka_unit_test(test_subject_names_say_simulated),
	        cmocka_unit_test(test_every_byte_change_fails),
	        cmocka_unit_test(test_normal_verifier_refuses),
	        cmocka_unit_test(test_other_chain_refuses),
	        cmocka_unit_test(test_chains_differ),
	        cmocka_unit_test(test_tcb_and_time),
	        cmocka_unit_test(test_claims_and_policy),
	        cmocka_unit_test(test_debug_policy_bit),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
