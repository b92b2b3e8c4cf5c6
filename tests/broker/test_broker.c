/*
 * The key broker's evidence checks (veil/broker.h) on simulated evidence
 * made here, and on the real SEV-SNP sample: the good answer passes; a
 * replayed, stale, early, foreign-nonce or other-key answer is refused; so
 * is simulated evidence where nothing simulated is trusted, and every
 * changed byte of the report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "veil/broker.h"
#include "veil/crypto.h"

#define TCB (UINT64_C(3) | (UINT64_C(8) << 48) | (UINT64_C(115) << 56))
#define NOW INT64_C(1795000000)

static veil_sim_chain chain;
static uint8_t measurement[VEIL_SNP_MEASUREMENT_LEN];

static int setup(void **state)
{
	(void)state;
	veil_err e;
	memset(measurement, 0x5a, sizeof measurement);
	return veil_crypto_init(&e) || veil_sim_chain_create(TCB, NOW, &chain, &e);
}

static int teardown(void **state)
{
	(void)state;
	veil_sim_chain_free(&chain);
	return 0;
}

/* The report-signing key every answer offers (one test offers another). */
static const uint8_t sign_pub[32] = {0x5e, 0x1f};

/* A simulated report whose report data binds nonce, pub and sign_pub. */
static void report_for(const uint8_t nonce[VEIL_PROTO_NONCE_LEN], const uint8_t pub[32],
                       uint8_t out[VEIL_SNP_REPORT_LEN])
{
	veil_err e;
	uint8_t rd[VEIL_PROTO_BINDING_LEN];
	assert_int_equal(veil_proto_binding(nonce, pub, sign_pub, rd, &e), VEIL_OK);
	assert_int_equal(veil_sim_report(&chain, measurement, rd, UINT64_C(1) << 17, 0, TCB, out, &e),
	                 VEIL_OK);
}

static const veil_broker_trust trust = {.sim = &chain, .region = "eu-west"};

static void test_good_answer(void **state)
{
	(void)state;
	veil_err e;
	veil_broker_challenge c;
	uint8_t pub[32] = {7}, report[VEIL_SNP_REPORT_LEN];
	assert_int_equal(veil_broker_challenge_new(&c, NOW, &e), VEIL_OK);
	report_for(c.nonce, pub, report);
	veil_evidence ev = {.tee = "sim", .data = report, .len = sizeof report};
	veil_attest_claims claims;
	assert_int_equal(veil_broker_check(&c, &trust, &ev, pub, sign_pub, NOW + 5, &claims, &e), VEIL_OK);
	assert_int_equal(claims.tee, VEIL_TEE_SIM);
	assert_true(claims.simulated);
	assert_int_equal(claims.measurement_len, sizeof measurement);
	assert_memory_equal(claims.measurement, measurement, sizeof measurement);
	assert_int_equal(claims.debug, VEIL_DEBUG_OFF);
	assert_int_equal(claims.vmpl, 0);
	assert_int_equal(claims.evidence_time, NOW + 5);
	assert_string_equal(claims.region, "eu-west");

	/* the same answer again: a replay */
	assert_int_equal(veil_broker_check(&c, &trust, &ev, pub, sign_pub, NOW + 6, &claims, &e),
	                 VEIL_E_DENIED);
	assert_non_null(strstr(e.msg, "replayed"));
	assert_int_equal(claims.tee, VEIL_TEE_UNKNOWN);
	/* and to a fresh challenge, the old evidence names the old nonce */
	veil_broker_challenge c2;
	assert_int_equal(veil_broker_challenge_new(&c2, NOW, &e), VEIL_OK);
	assert_memory_not_equal(c.nonce, c2.nonce, sizeof c.nonce);
	assert_int_equal(veil_broker_check(&c2, &trust, &ev, pub, sign_pub, NOW + 1, &claims, &e),
	                 VEIL_E_DENIED);
	assert_non_null(strstr(e.msg, "another challenge"));
}

static void test_refusals(void **state)
{
	(void)state;
	veil_err e;
	veil_attest_claims claims;
	uint8_t pub[32] = {7}, other_pub[32] = {8}, report[VEIL_SNP_REPORT_LEN];
	veil_broker_challenge c;

	/* stale: answered after the challenge's time to live */
	assert_int_equal(veil_broker_challenge_new(&c, NOW, &e), VEIL_OK);
	report_for(c.nonce, pub, report);
	veil_evidence ev = {.tee = "sim", .data = report, .len = sizeof report};
	assert_int_equal(veil_broker_check(&c, &trust, &ev, pub, sign_pub,
	                                   NOW + VEIL_BROKER_CHALLENGE_TTL + 1, &claims, &e),
	                 VEIL_E_DENIED);
	assert_non_null(strstr(e.msg, "stale"));
	/* at the limit it is still fresh */
	assert_int_equal(veil_broker_challenge_new(&c, NOW, &e), VEIL_OK);
	report_for(c.nonce, pub, report);
	assert_int_equal(veil_broker_check(&c, &trust, &ev, pub, sign_pub, NOW + VEIL_BROKER_CHALLENGE_TTL,
	                                   &claims, &e),
	                 VEIL_OK);
	/* an answer from before the challenge */
	assert_int_equal(veil_broker_challenge_new(&c, NOW, &e), VEIL_OK);
	report_for(c.nonce, pub, report);
	assert_int_equal(veil_broker_check(&c, &trust, &ev, pub, sign_pub, NOW - 1, &claims, &e),
	                 VEIL_E_DENIED);

	/* evidence for another key than the one offered */
	assert_int_equal(veil_broker_challenge_new(&c, NOW, &e), VEIL_OK);
	report_for(c.nonce, pub, report);
	assert_int_equal(veil_broker_check(&c, &trust, &ev, other_pub, sign_pub, NOW, &claims, &e),
	                 VEIL_E_DENIED);
	assert_non_null(strstr(e.msg, "other keys"));
	/* evidence for another report-signing key than the one offered: a
	 * host could otherwise pass off its own signatures as the worker's */
	uint8_t other_sign[32] = {0x5e, 0x1e};
	assert_int_equal(veil_broker_challenge_new(&c, NOW, &e), VEIL_OK);
	report_for(c.nonce, pub, report);
	assert_int_equal(veil_broker_check(&c, &trust, &ev, pub, other_sign, NOW, &claims, &e),
	                 VEIL_E_DENIED);
	assert_non_null(strstr(e.msg, "other keys"));
	/* a foreign nonce */
	uint8_t foreign[VEIL_PROTO_NONCE_LEN] = {1, 2, 3};
	assert_int_equal(veil_broker_challenge_new(&c, NOW, &e), VEIL_OK);
	report_for(foreign, pub, report);
	assert_int_equal(veil_broker_check(&c, &trust, &ev, pub, sign_pub, NOW, &claims, &e), VEIL_E_DENIED);

	/* simulated evidence where no simulated TEE is trusted */
	veil_broker_trust none = {0};
	assert_int_equal(veil_broker_challenge_new(&c, NOW, &e), VEIL_OK);
	report_for(c.nonce, pub, report);
	assert_int_equal(veil_broker_check(&c, &none, &ev, pub, sign_pub, NOW, &claims, &e), VEIL_E_DENIED);
	assert_non_null(strstr(e.msg, "no simulated TEE"));
	/* ... or passed off as real SEV-SNP: its chain ends in no pinned root */
	ev.tee = "sev-snp";
	ev.vcek_der = chain.vcek_der.data;
	ev.vcek_len = chain.vcek_der.len;
	ev.chain_pem = (const char *)chain.chain_pem.data;
	ev.chain_len = chain.chain_pem.len;
	assert_int_equal(veil_broker_challenge_new(&c, NOW, &e), VEIL_OK);
	report_for(c.nonce, pub, report);
	assert_int_not_equal(veil_broker_check(&c, &trust, &ev, pub, sign_pub, NOW, &claims, &e), VEIL_OK);
	assert_int_equal(claims.tee, VEIL_TEE_UNKNOWN);
	ev = (veil_evidence){.tee = "tpm", .data = report, .len = sizeof report};
	assert_int_equal(veil_broker_challenge_new(&c, NOW, &e), VEIL_OK);
	assert_int_equal(veil_broker_check(&c, &trust, &ev, pub, sign_pub, NOW, &claims, &e),
	                 VEIL_E_UNSUPPORTED);
}

/* Every byte of the report counts: the signed part through the signature,
 * the signature itself, and the zero tail through the parser. */
static void test_every_byte(void **state)
{
	(void)state;
	veil_err e;
	uint8_t pub[32] = {7}, report[VEIL_SNP_REPORT_LEN], rd[VEIL_PROTO_BINDING_LEN];
	uint8_t nonce[VEIL_PROTO_NONCE_LEN] = {4};
	report_for(nonce, pub, report);
	veil_evidence ev = {.tee = "sim", .data = report, .len = sizeof report};
	veil_attest_claims claims;
	assert_int_equal(veil_broker_verify(&trust, &ev, NOW, &claims, rd, &e), VEIL_OK);
	for (size_t i = 0; i < sizeof report; i++) {
		report[i] ^= 0x01;
		assert_int_not_equal(veil_broker_verify(&trust, &ev, NOW, &claims, rd, &e), VEIL_OK);
		report[i] ^= 0x01;
	}
	ev.len = sizeof report - 1;
	assert_int_equal(veil_broker_verify(&trust, &ev, NOW, &claims, rd, &e), VEIL_E_INVALID);
}

/* The real Milan report verifies through the broker with its VCEK and
 * chain, and its report data comes back as the report holds it. */
static void test_real_snp(void **state)
{
	(void)state;
	const char *root = getenv("VEIL_SOURCE_ROOT");
	assert_non_null(root);
	char p[4096];
	veil_err e;
	veil_buf hex = {0}, vcek = {0}, chain_pem = {0};
	snprintf(p, sizeof p, "%s/../shared/vectors/sev-snp/virtee-sev/report_milan.hex", root);
	assert_int_equal(veil_fs_read_file(p, 1 << 16, &hex, &e), VEIL_OK);
	uint8_t report[VEIL_SNP_REPORT_LEN];
	size_t n = 0;
	for (size_t i = 0; i + 1 < hex.len && n < sizeof report;) {
		char pair[3] = {(char)hex.data[i], (char)hex.data[i + 1], 0};
		if (strchr("0123456789abcdefABCDEF", pair[0]) && pair[0]) {
			report[n++] = (uint8_t)strtoul(pair, NULL, 16);
			i += 2;
		} else {
			i++;
		}
	}
	assert_int_equal(n, sizeof report);
	snprintf(p, sizeof p, "%s/../shared/vectors/sev-snp/virtee-sev/vcek_milan.der", root);
	assert_int_equal(veil_fs_read_file(p, 1 << 16, &vcek, &e), VEIL_OK);
	snprintf(p, sizeof p, "%s/../shared/vectors/sev-snp/virtee-sev/cert_chain_milan", root);
	assert_int_equal(veil_fs_read_file(p, 1 << 16, &chain_pem, &e), VEIL_OK);
	veil_evidence ev = {.tee = "sev-snp",
	                    .data = report,
	                    .len = sizeof report,
	                    .vcek_der = vcek.data,
	                    .vcek_len = vcek.len,
	                    .chain_pem = (const char *)chain_pem.data,
	                    .chain_len = chain_pem.len};
	veil_broker_trust real = {0};
	veil_attest_claims claims;
	uint8_t rd[VEIL_PROTO_BINDING_LEN];
	assert_int_equal(veil_broker_verify(&real, &ev, NOW, &claims, rd, &e), VEIL_OK);
	assert_int_equal(claims.tee, VEIL_TEE_SEV_SNP);
	assert_false(claims.simulated);
	assert_memory_equal(rd, report + 0x50, sizeof rd);
	/* the real report is not simulated evidence, whatever the caller says */
	ev.tee = "sim";
	assert_int_not_equal(veil_broker_verify(&trust, &ev, NOW, &claims, rd, &e), VEIL_OK);
	/* without its VCEK it cannot be verified */
	ev = (veil_evidence){.tee = "sev-snp", .data = report, .len = sizeof report};
	assert_int_equal(veil_broker_verify(&real, &ev, NOW, &claims, rd, &e), VEIL_E_INVALID);
	veil_buf_free(&hex);
	veil_buf_free(&vcek);
	veil_buf_free(&chain_pem);
}

/* The real TDX v5 quote verifies through the broker (its PCK chain inside),
 * and a copy with non-zero bytes after it is refused: only zero padding
 * may follow a quote. */
static void test_real_tdx(void **state)
{
	(void)state;
	const char *root = getenv("VEIL_SOURCE_ROOT");
	char p[4096];
	veil_err e;
	veil_buf q = {0};
	snprintf(p, sizeof p, "%s/../shared/vectors/tdx/go-tdx-guest/quote_v5_sample.dat", root);
	assert_int_equal(veil_fs_read_file(p, 1 << 16, &q, &e), VEIL_OK);
	veil_evidence ev = {.tee = "tdx", .data = q.data, .len = q.len};
	veil_broker_trust real = {0};
	veil_attest_claims claims;
	uint8_t rd[VEIL_PROTO_BINDING_LEN];
	/* inside the PCK certificate's validity (2026-01-27 .. 2033) */
	int64_t when = INT64_C(1800000000);
	assert_int_equal(veil_broker_verify(&real, &ev, when, &claims, rd, &e), VEIL_OK);
	assert_int_equal(claims.tee, VEIL_TEE_TDX);
	assert_int_equal(claims.measurement_len, 48);
	assert_int_equal(veil_buf_append(&q, "\0\0\0\0", 4, &e), VEIL_OK);
	ev.data = q.data;
	ev.len = q.len;
	assert_int_equal(veil_broker_verify(&real, &ev, when, &claims, rd, &e), VEIL_OK);
	q.data[q.len - 1] = 'x';
	assert_int_equal(veil_broker_verify(&real, &ev, when, &claims, rd, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "not zero padding"));
	veil_buf_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_good_answer), cmocka_unit_test(test_refusals),
	        cmocka_unit_test(test_every_byte),  cmocka_unit_test(test_real_snp),
	        cmocka_unit_test(test_real_tdx),
	};
	return cmocka_run_group_tests_name("broker", tests, setup, teardown);
}
