/* Unit tests for SEV-SNP report parsing and verification, on real reports:
 * the virtee/sev Milan report and the go-sev-guest one (DEBUG policy bit
 * set), with their VCEKs and AMD's chains, from ../shared/vectors/sev-snp/
 * (see its README). They verify; every single-byte change of the signed
 * region or the signature is refused; a wrong VCEK, an ARK that is not
 * pinned, expired certificates, broken chains and wrong sizes, versions and
 * algorithms are refused with the error the header promises. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "veil/attest.h"

#include "snp_int.h"

/* 2026-11-22: every certificate of both real chains is valid then. */
#define NOW INT64_C(1795000000)

typedef struct vec {
	veil_buf report_raw;                    /* the virtee Milan report (decoded from hex) */
	veil_buf gsg_report;                    /* go-sev-guest attestation.bin */
	veil_buf vcek, gsg_vcek, turin_vcek;    /* DER */
	veil_buf chain, gsg_chain, turin_chain; /* PEM */
} vec;

static void load(const char *rel, veil_buf *out)
{
	const char *root = getenv("VEIL_SOURCE_ROOT");
	char path[4096];
	veil_err e = {0};
	assert_non_null(root);
	assert_int_equal(veil_fmt(path, sizeof path, &e, "%s/../shared/vectors/sev-snp/%s", root, rel),
	                 VEIL_OK);
	if (veil_fs_read_file(path, 1u << 20, out, &e) != VEIL_OK)
		fail_msg("%s: %s", path, e.msg);
}

/* The virtee report is hex text, possibly with line breaks. */
static void load_hex(const char *rel, veil_buf *out)
{
	veil_buf txt = {0};
	veil_err e = {0};
	load(rel, &txt);
	char *hex = calloc(1, txt.len + 1);
	assert_non_null(hex);
	size_t n = 0;
	for (size_t i = 0; i < txt.len; i++)
		if (txt.data[i] != '\n' && txt.data[i] != '\r' && txt.data[i] != ' ')
			hex[n++] = (char)txt.data[i];
	assert_int_equal(n % 2, 0);
	assert_int_equal(veil_buf_reserve(out, n / 2, &e), VEIL_OK);
	assert_int_equal(veil_hex_decode(hex, out->data, n / 2, &e), VEIL_OK);
	out->len = n / 2;
	free(hex);
	veil_buf_free(&txt);
}

static int setup(void **state)
{
	vec *v = calloc(1, sizeof *v);
	if (!v)
		return -1;
	load_hex("virtee-sev/report_milan.hex", &v->report_raw);
	load("go-sev-guest/attestation.bin", &v->gsg_report);
	load("virtee-sev/vcek_milan.der", &v->vcek);
	load("go-sev-guest/vcek.testcer", &v->gsg_vcek);
	load("virtee-sev/vcek_turin.der", &v->turin_vcek);
	load("virtee-sev/cert_chain_milan", &v->chain);
	load("go-sev-guest/milan.testcer", &v->gsg_chain);
	load("virtee-sev/cert_chain_turin", &v->turin_chain);
	*state = v;
	return 0;
}

static int teardown(void **state)
{
	vec *v = *state;
	veil_buf *all[] = {&v->report_raw, &v->gsg_report, &v->vcek,      &v->gsg_vcek,
	                   &v->turin_vcek, &v->chain,      &v->gsg_chain, &v->turin_chain};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		veil_buf_free(all[i]);
	free(v);
	return 0;
}

static veil_status verify_bytes(const uint8_t *rep, size_t len, const veil_buf *vcek, const veil_buf *chain,
                                int64_t now, veil_snp_result *res, veil_err *e)
{
	veil_snp_report *r = malloc(sizeof *r);
	assert_non_null(r);
	veil_status st = veil_snp_report_parse(rep, len, r, e);
	if (st)
		memset(res, 0, sizeof *res); /* verify was not reached: nothing to judge it by */
	else
		st = veil_snp_verify(r, vcek->data, vcek->len, chain ? (const char *)chain->data : NULL,
		                     chain ? chain->len : 0, now, res, e);
	free(r);
	return st;
}

static uint64_t le64_at(const uint8_t *p)
{
	uint64_t x = 0;
	for (int i = 7; i >= 0; i--)
		x = (x << 8) | p[i];
	return x;
}

static void test_parse_milan(void **state)
{
	vec *v = *state;
	veil_snp_report *r = malloc(sizeof *r);
	veil_err e = {0};
	assert_non_null(r);
	assert_int_equal(v->report_raw.len, VEIL_SNP_REPORT_LEN);
	assert_int_equal(veil_snp_report_parse(v->report_raw.data, v->report_raw.len, r, &e), VEIL_OK);
	assert_int_equal(r->version, 2);
	assert_int_equal(r->policy, 0x30000);
	assert_false(r->debug);
	assert_int_equal(r->vmpl, 0);
	assert_int_equal(r->signature_algo, 1);
	assert_int_equal(r->signing_key, VEIL_SNP_SIGNING_VCEK);
	assert_int_equal(r->reported_tcb, UINT64_C(0x7308000000000003));
	assert_int_equal(r->current_tcb, UINT64_C(0x7308000000000003));
	assert_int_equal(r->platform_info, 1);
	static const uint8_t meas[8] = {0x7a, 0x1e, 0x5c, 0x26, 0x6c, 0x01, 0x08, 0xdb};
	static const uint8_t rd[4] = {0xd4, 0x47, 0xb5, 0x5d};
	static const uint8_t chip[4] = {0xd4, 0x95, 0x54, 0xec};
	assert_memory_equal(r->measurement, meas, sizeof meas);
	assert_memory_equal(r->report_data, rd, sizeof rd);
	assert_memory_equal(r->chip_id, chip, sizeof chip);
	assert_int_equal(r->current_build, 4);
	assert_int_equal(r->current_minor, 0x34);
	assert_int_equal(r->current_major, 1);
	assert_int_equal(r->sig_r[0], 0x61);
	assert_memory_equal(r->raw, v->report_raw.data, VEIL_SNP_REPORT_LEN);
	free(r);
}

static void test_verify_milan(void **state)
{
	vec *v = *state;
	veil_snp_result res;
	veil_err e = {0};
	veil_status st =
	        verify_bytes(v->report_raw.data, v->report_raw.len, &v->vcek, &v->chain, NOW, &res, &e);
	if (st)
		fail_msg("%s", e.msg);
	assert_int_equal(res.product, VEIL_SNP_PRODUCT_MILAN);
	assert_string_equal(veil_snp_product_name(res.product), "Milan");
	assert_string_equal(res.vcek_product, "Milan-B0");
	assert_false(res.debug);
	assert_false(res.chip_id_masked);
	assert_int_equal(res.signing_key, VEIL_SNP_SIGNING_VCEK);
	assert_true(res.chip_bound);
	assert_int_equal(res.reported_tcb.bootloader, 3);
	assert_int_equal(res.reported_tcb.tee, 0);
	assert_int_equal(res.reported_tcb.snp, 8);
	assert_int_equal(res.reported_tcb.microcode, 0x73);

	/* Without a chain the pinned Milan ASK is used. */
	memset(&res, 0, sizeof res);
	assert_int_equal(verify_bytes(v->report_raw.data, v->report_raw.len, &v->vcek, NULL, NOW, &res, &e),
	                 VEIL_OK);
	assert_int_equal(res.product, VEIL_SNP_PRODUCT_MILAN);
}

static void test_verify_go_sev_guest_debug(void **state)
{
	vec *v = *state;
	veil_snp_result res;
	veil_err e = {0};
	veil_status st = verify_bytes(v->gsg_report.data, v->gsg_report.len, &v->gsg_vcek, &v->gsg_chain, NOW,
	                              &res, &e);
	if (st)
		fail_msg("%s", e.msg);
	assert_true(res.debug);
	assert_int_equal(res.product, VEIL_SNP_PRODUCT_MILAN);
	assert_int_equal(res.reported_tcb.bootloader, 2);
	assert_int_equal(res.reported_tcb.snp, 5);
	assert_int_equal(res.reported_tcb.microcode, 0x44);
}

/* Every byte the signature covers, and every byte of R and S. */
static void test_every_byte_flip_fails(void **state)
{
	vec *v = *state;
	uint8_t *rep = malloc(VEIL_SNP_REPORT_LEN);
	assert_non_null(rep);
	size_t auth = 0, other = 0;
	for (size_t i = 0; i < VEIL_SNP_SIG_OFF + 2 * VEIL_SNP_SIG_COMPONENT; i++) {
		memcpy(rep, v->report_raw.data, VEIL_SNP_REPORT_LEN);
		rep[i] ^= (uint8_t)(1u << (i % 8));
		veil_snp_result res;
		memset(&res, 0xa5, sizeof res); /* verify must zero it on error */
		veil_err e = {0};
		veil_status st = verify_bytes(rep, VEIL_SNP_REPORT_LEN, &v->vcek, &v->chain, NOW, &res, &e);
		if (st == VEIL_OK)
			fail_msg("a change of byte 0x%zx verified", i);
		assert_int_equal(e.code, st);
		assert_int_equal(res.product, VEIL_SNP_PRODUCT_UNKNOWN);
		if (st == VEIL_E_AUTH)
			auth++;
		else
			other++; /* version, algorithm, signing key: refused before the signature */
	}
	assert_true(auth > 800);
	assert_true(other < 16);
	free(rep);
}

static void test_unsigned_tail_must_be_zero(void **state)
{
	vec *v = *state;
	uint8_t *rep = malloc(VEIL_SNP_REPORT_LEN);
	veil_snp_report *r = malloc(sizeof *r);
	assert_non_null(rep);
	assert_non_null(r);
	for (size_t i = VEIL_SNP_SIG_OFF + 2 * VEIL_SNP_SIG_COMPONENT; i < VEIL_SNP_REPORT_LEN; i++) {
		memcpy(rep, v->report_raw.data, VEIL_SNP_REPORT_LEN);
		rep[i] = 0x01;
		veil_err e = {0};
		assert_int_equal(veil_snp_report_parse(rep, VEIL_SNP_REPORT_LEN, r, &e), VEIL_E_INVALID);
		assert_int_equal(r->version, 0); /* zeroed on error */
	}
	free(rep);
	free(r);
}

static void test_wrong_vcek(void **state)
{
	vec *v = *state;
	veil_snp_result res;
	veil_err e = {0};
	/* The Turin VCEK under its own (valid, pinned) chain: the signature fails. */
	assert_int_equal(verify_bytes(v->report_raw.data, v->report_raw.len, &v->turin_vcek, &v->turin_chain,
	                              NOW, &res, &e),
	                 VEIL_E_AUTH);
	assert_non_null(strstr(e.msg, "signature"));
	/* The Turin VCEK under the Milan chain: the VCEK -> ASK link fails. */
	assert_int_equal(
	        verify_bytes(v->report_raw.data, v->report_raw.len, &v->turin_vcek, &v->chain, NOW, &res, &e),
	        VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "VCEK -> ASK"));
	/* Another real Milan VCEK (another chip, same chain): the signature fails. */
	assert_int_equal(
	        verify_bytes(v->report_raw.data, v->report_raw.len, &v->gsg_vcek, &v->chain, NOW, &res, &e),
	        VEIL_E_AUTH);
	/* The Milan VCEK under the Turin chain. */
	assert_int_equal(
	        verify_bytes(v->report_raw.data, v->report_raw.len, &v->vcek, &v->turin_chain, NOW, &res, &e),
	        VEIL_E_CORRUPT);
	/* Not a certificate, a certificate with a byte after it, nothing. */
	veil_buf junk = {0};
	assert_int_equal(veil_buf_append(&junk, v->vcek.data, v->vcek.len, &e), VEIL_OK);
	assert_int_equal(veil_buf_append(&junk, "", 1, &e), VEIL_OK);
	assert_int_equal(verify_bytes(v->report_raw.data, v->report_raw.len, &junk, &v->chain, NOW, &res, &e),
	                 VEIL_E_INVALID);
	junk.len = 100;
	assert_int_equal(verify_bytes(v->report_raw.data, v->report_raw.len, &junk, &v->chain, NOW, &res, &e),
	                 VEIL_E_INVALID);
	junk.len = 0;
	assert_int_equal(verify_bytes(v->report_raw.data, v->report_raw.len, &junk, &v->chain, NOW, &res, &e),
	                 VEIL_E_INVALID);
	veil_buf_free(&junk);
}

/* Re-encodes the chain with the ARK's DER changed at byte `at` (xor 1). */
static void edit_ark(const veil_buf *chain, long from_end, veil_buf *out)
{
	BIO *in = BIO_new_mem_buf(chain->data, (int)chain->len);
	X509 *ask = PEM_read_bio_X509(in, NULL, NULL, NULL);
	X509 *ark = PEM_read_bio_X509(in, NULL, NULL, NULL);
	assert_non_null(ask);
	assert_non_null(ark);
	unsigned char *der = NULL;
	int len = i2d_X509(ark, &der);
	assert_true(len > from_end);
	der[len - from_end] ^= 1;
	const unsigned char *p = der;
	X509 *ark2 = d2i_X509(NULL, &p, len);
	assert_non_null(ark2);
	BIO *o = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_X509(o, ask), 1);
	assert_int_equal(PEM_write_bio_X509(o, ark2), 1);
	char *data = NULL;
	long n = BIO_get_mem_data(o, &data);
	veil_err e = {0};
	assert_int_equal(veil_buf_append(out, data, (size_t)n, &e), VEIL_OK);
	BIO_free(o);
	BIO_free(in);
	X509_free(ask);
	X509_free(ark);
	X509_free(ark2);
	OPENSSL_free(der);
}

static void test_chain_refusals(void **state)
{
	vec *v = *state;
	veil_snp_result res;
	veil_err e = {0};
	/* The ARK's key is unchanged (the last byte of its signature differs),
	 * so only the pin catches it. */
	veil_buf unpinned = {0};
	edit_ark(&v->chain, 1, &unpinned);
	assert_int_equal(
	        verify_bytes(v->report_raw.data, v->report_raw.len, &v->vcek, &unpinned, NOW, &res, &e),
	        VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "pinned"));
	veil_buf_free(&unpinned);

	/* Only the ASK; the ASK three times. */
	const char *end = strstr((const char *)v->chain.data, "-----END CERTIFICATE-----");
	assert_non_null(end);
	size_t one = (size_t)(end - (const char *)v->chain.data) + strlen("-----END CERTIFICATE-----\n");
	veil_buf c = {0};
	assert_int_equal(veil_buf_append(&c, v->chain.data, one, &e), VEIL_OK);
	assert_int_equal(verify_bytes(v->report_raw.data, v->report_raw.len, &v->vcek, &c, NOW, &res, &e),
	                 VEIL_E_INVALID);
	assert_int_equal(veil_buf_append(&c, v->chain.data, one, &e), VEIL_OK);
	assert_int_equal(veil_buf_append(&c, v->chain.data, one, &e), VEIL_OK);
	assert_int_equal(verify_bytes(v->report_raw.data, v->report_raw.len, &v->vcek, &c, NOW, &res, &e),
	                 VEIL_E_INVALID);
	/* ASK twice: no ARK at all, so nothing pinned. */
	c.len = 0;
	assert_int_equal(veil_buf_append(&c, v->chain.data, one, &e), VEIL_OK);
	assert_int_equal(veil_buf_append(&c, v->chain.data, one, &e), VEIL_OK);
	assert_int_equal(verify_bytes(v->report_raw.data, v->report_raw.len, &v->vcek, &c, NOW, &res, &e),
	                 VEIL_E_CORRUPT);
	veil_buf_free(&c);

	/* The Genoa roots are pinned but did not issue this VCEK. */
	veil_buf genoa = {0};
	const char *ask = veil_snp_pinned_ask_pem(VEIL_SNP_PRODUCT_GENOA);
	const char *ark = veil_snp_pinned_ark_pem(VEIL_SNP_PRODUCT_GENOA);
	assert_int_equal(veil_buf_append(&genoa, ask, strlen(ask), &e), VEIL_OK);
	assert_int_equal(veil_buf_append(&genoa, ark, strlen(ark), &e), VEIL_OK);
	assert_int_equal(verify_bytes(v->report_raw.data, v->report_raw.len, &v->vcek, &genoa, NOW, &res, &e),
	                 VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "VCEK -> ASK"));
	veil_buf_free(&genoa);
	assert_null(veil_snp_pinned_ark_pem(VEIL_SNP_PRODUCT_UNKNOWN));
}

static void test_validity_period(void **state)
{
	vec *v = *state;
	veil_snp_result res;
	veil_err e = {0};
	/* 2031: the VCEK (to 2030-04-03) has expired. */
	assert_int_equal(verify_bytes(v->report_raw.data, v->report_raw.len, &v->vcek, &v->chain,
	                              INT64_C(1924992000), &res, &e),
	                 VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "VCEK: expired"));
	/* 2019: before the ARK existed. */
	assert_int_equal(verify_bytes(v->report_raw.data, v->report_raw.len, &v->vcek, &v->chain,
	                              INT64_C(1546300800), &res, &e),
	                 VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "not valid yet"));
}

static void test_sizes_versions_algorithms(void **state)
{
	vec *v = *state;
	veil_snp_report *r = malloc(sizeof *r);
	uint8_t *big = calloc(1, VEIL_SNP_REPORT_LEN + 1);
	assert_non_null(r);
	assert_non_null(big);
	veil_err e = {0};
	memcpy(big, v->report_raw.data, VEIL_SNP_REPORT_LEN);
	static const size_t lens[] = {0, 1, VEIL_SNP_SIGNED_LEN, VEIL_SNP_REPORT_LEN - 1,
	                              VEIL_SNP_REPORT_LEN + 1};
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		assert_int_equal(veil_snp_report_parse(big, lens[i], r, &e), VEIL_E_INVALID);
		assert_non_null(strstr(e.msg, "1184"));
	}
	assert_int_equal(veil_snp_report_parse(NULL, VEIL_SNP_REPORT_LEN, r, &e), VEIL_E_INVALID);

	static const struct {
		size_t off;
		uint8_t val;
		veil_status want;
	} rows[] = {
	        {0x000, 1, VEIL_E_UNSUPPORTED},
	        {0x000, 6, VEIL_E_UNSUPPORTED}, /* after the last version the ABI defines */
	        {0x000, 0xff, VEIL_E_UNSUPPORTED},
	        {0x000, 0, VEIL_E_UNSUPPORTED},
	        {0x003, 1, VEIL_E_UNSUPPORTED},
	        {0x034, 0, VEIL_E_UNSUPPORTED},
	        {0x034, 2, VEIL_E_UNSUPPORTED},
	        {0x000, 3, VEIL_OK},
	        {0x000, 4, VEIL_OK},
	        {0x000, 5, VEIL_OK},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		memcpy(big, v->report_raw.data, VEIL_SNP_REPORT_LEN);
		big[rows[i].off] = rows[i].val;
		assert_int_equal(veil_snp_report_parse(big, VEIL_SNP_REPORT_LEN, r, &e), rows[i].want);
		if (rows[i].want)
			assert_non_null(strstr(e.msg, rows[i].off < 4 ? "version" : "signature_algo"));
	}

	/* Version 5's mitigation vectors at 0x1F8 and 0x200; the same bytes are
	 * reserved before version 5 and read as nothing. */
	memcpy(big, v->report_raw.data, VEIL_SNP_REPORT_LEN);
	for (int i = 0; i < 8; i++) {
		big[0x1F8 + i] = (uint8_t)(0x11 * (i + 1));
		big[0x200 + i] = (uint8_t)(0x80 + i);
	}
	assert_int_equal(veil_snp_report_parse(big, VEIL_SNP_REPORT_LEN, r, &e), VEIL_OK);
	assert_int_equal(r->launch_mit_vector, 0);
	assert_int_equal(r->current_mit_vector, 0);
	big[0] = 5;
	assert_int_equal(veil_snp_report_parse(big, VEIL_SNP_REPORT_LEN, r, &e), VEIL_OK);
	assert_int_equal(r->version, 5);
	assert_int_equal(r->launch_mit_vector, UINT64_C(0x8877665544332211));
	assert_int_equal(r->current_mit_vector, UINT64_C(0x8786858483828180));
	assert_int_equal(r->launch_tcb,
	                 le64_at(v->report_raw.data + 0x1F0)); /* the fields before are unmoved */
	assert_memory_equal(r->chip_id, v->report_raw.data + 0x1A0, VEIL_SNP_CHIP_ID_LEN);
	free(r);
	free(big);
}

/* An unsigned report, or one whose signing key the ABI does not define, is
 * refused as unsupported before any signature work (the bytes were changed,
 * so it would fail that too). A report that says VLEK, given a VCEK, is
 * refused for the certificate's kind. */
static void test_signing_key(void **state)
{
	vec *v = *state;
	uint8_t *rep = malloc(VEIL_SNP_REPORT_LEN);
	assert_non_null(rep);
	static const struct {
		uint8_t key_info;
		veil_status want;
		const char *what;
	} rows[] = {
	        {7u << 2, VEIL_E_UNSUPPORTED, "no key"},
	        {2u << 2, VEIL_E_UNSUPPORTED, "neither"},
	        {6u << 2, VEIL_E_UNSUPPORTED, "neither"},
	        {VEIL_SNP_KEYINFO_MASK_CHIP_KEY, VEIL_E_UNSUPPORTED, "MASK_CHIP_KEY"},
	        {1u << 2, VEIL_E_INVALID, "hwID"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		memcpy(rep, v->report_raw.data, VEIL_SNP_REPORT_LEN);
		rep[0x48] = rows[i].key_info;
		veil_snp_result res;
		veil_err e = {0};
		assert_int_equal(verify_bytes(rep, VEIL_SNP_REPORT_LEN, &v->vcek, &v->chain, NOW, &res, &e),
		                 rows[i].want);
		if (!strstr(e.msg, rows[i].what))
			fail_msg("row %zu: \"%s\" does not say \"%s\"", i, e.msg, rows[i].what);
	}
	free(rep);
}

/* Edited fields of a parsed report do not count: verify reads the raw bytes. */
static void test_fields_come_from_raw(void **state)
{
	vec *v = *state;
	veil_snp_report *r = malloc(sizeof *r);
	veil_err e = {0};
	veil_snp_result res;
	assert_non_null(r);
	assert_int_equal(veil_snp_report_parse(v->gsg_report.data, v->gsg_report.len, r, &e), VEIL_OK);
	r->debug = false;
	r->policy &= ~VEIL_SNP_POLICY_DEBUG;
	assert_int_equal(veil_snp_verify(r, v->gsg_vcek.data, v->gsg_vcek.len,
	                                 (const char *)v->gsg_chain.data, v->gsg_chain.len, NOW, &res, &e),
	                 VEIL_OK);
	assert_true(res.debug);
	free(r);
}

static X509 *der_cert(const veil_buf *b)
{
	const unsigned char *p = b->data;
	X509 *x = d2i_X509(NULL, &p, (long)b->len);
	assert_non_null(x);
	return x;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The TCB and hwID comparisons, with the real VCEKs and edited reports
 * (which could not pass the signature, hence the internal entry point). */
static void test_vcek_claims(void **state)
{
	vec *v = *state;
	veil_snp_report *r = malloc(sizeof *r);
	uint8_t *rep = malloc(VEIL_SNP_REPORT_LEN);
	assert_non_null(r);
	assert_non_null(rep);
	X509 *milan = der_cert(&v->vcek), *turin = der_cert(&v->turin_vcek);
	veil_snp_result res;
	veil_err e = {0};
	static const struct {
		uint64_t tcb;
		veil_status want;
		const char *what;
	} rows[] = {
	        {UINT64_C(0x7308000000000003), VEIL_OK, NULL},
	        {UINT64_C(0x7308000000000002), VEIL_E_DENIED, "boot loader SPL 3"},
	        {UINT64_C(0x7308000000000103), VEIL_E_DENIED, "TEE SPL 0"},
	        {UINT64_C(0x7309000000000003), VEIL_E_DENIED, "SNP SPL 8"},
	        {UINT64_C(0x7208000000000003), VEIL_E_DENIED, "microcode SPL 115"},
	        {UINT64_C(0x7308000100000003), VEIL_E_DENIED, "reserved"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		memcpy(rep, v->report_raw.data, VEIL_SNP_REPORT_LEN);
		put_le64(rep + 0x180, rows[i].tcb);
		assert_int_equal(veil_snp_report_parse(rep, VEIL_SNP_REPORT_LEN, r, &e), VEIL_OK);
		memset(&res, 0, sizeof res);
		veil_status st = snp_check_vcek_claims(r, milan, VEIL_SNP_PRODUCT_MILAN, &res, &e);
		assert_int_equal(st, rows[i].want);
		if (rows[i].what && !strstr(e.msg, rows[i].what))
			fail_msg("row %zu: \"%s\" does not say \"%s\"", i, e.msg, rows[i].what);
	}

	/* hwID: one bit of chip_id, and a masked (all-zero) chip_id. */
	memcpy(rep, v->report_raw.data, VEIL_SNP_REPORT_LEN);
	rep[0x1A0 + 63] ^= 0x80;
	assert_int_equal(veil_snp_report_parse(rep, VEIL_SNP_REPORT_LEN, r, &e), VEIL_OK);
	assert_int_equal(snp_check_vcek_claims(r, milan, VEIL_SNP_PRODUCT_MILAN, &res, &e), VEIL_E_DENIED);
	assert_non_null(strstr(e.msg, "hwID"));
	memset(rep + 0x1A0, 0, VEIL_SNP_CHIP_ID_LEN);
	assert_int_equal(veil_snp_report_parse(rep, VEIL_SNP_REPORT_LEN, r, &e), VEIL_OK);
	res.chip_id_masked = false;
	assert_int_equal(snp_check_vcek_claims(r, milan, VEIL_SNP_PRODUCT_MILAN, &res, &e), VEIL_OK);
	assert_true(res.chip_id_masked);

	/* Turin: FMC in byte 0 and an 8-byte hwID. The Turin VCEK certifies
	 * FMC 0, boot loader 0, TEE 0, SNP 0, microcode 9 for chip 1e550a8ee5cf9f4d. */
	static const uint8_t turin_chip[8] = {0x1e, 0x55, 0x0a, 0x8e, 0xe5, 0xcf, 0x9f, 0x4d};
	memcpy(rep, v->report_raw.data, VEIL_SNP_REPORT_LEN);
	rep[0] = 3;
	put_le64(rep + 0x180, UINT64_C(0x0900000000000000));
	memset(rep + 0x1A0, 0, VEIL_SNP_CHIP_ID_LEN);
	memcpy(rep + 0x1A0, turin_chip, sizeof turin_chip);
	assert_int_equal(veil_snp_report_parse(rep, VEIL_SNP_REPORT_LEN, r, &e), VEIL_OK);
	res.chip_id_masked = true;
	if (snp_check_vcek_claims(r, turin, VEIL_SNP_PRODUCT_TURIN, &res, &e) != VEIL_OK)
		fail_msg("%s", e.msg);
	assert_false(res.chip_id_masked);
	assert_int_equal(res.reported_tcb.microcode, 9);
	/* Boot loader 1 in byte 1, Turin's place for it (Milan's for the TEE). */
	rep[0x181] = 1;
	assert_int_equal(veil_snp_report_parse(rep, VEIL_SNP_REPORT_LEN, r, &e), VEIL_OK);
	assert_int_equal(snp_check_vcek_claims(r, turin, VEIL_SNP_PRODUCT_TURIN, &res, &e), VEIL_E_DENIED);
	assert_non_null(strstr(e.msg, "boot loader"));
	assert_int_equal(snp_check_vcek_claims(r, turin, VEIL_SNP_PRODUCT_MILAN, &res, &e), VEIL_E_DENIED);
	assert_non_null(strstr(e.msg, "TEE"));
	rep[0x181] = 0;
	/* A byte of chip_id after the 8 that Turin's hwID has. */
	rep[0x1A0 + 8] = 1;
	assert_int_equal(veil_snp_report_parse(rep, VEIL_SNP_REPORT_LEN, r, &e), VEIL_OK);
	assert_int_equal(snp_check_vcek_claims(r, turin, VEIL_SNP_PRODUCT_TURIN, &res, &e), VEIL_E_DENIED);
	/* FMC 1 where the VCEK says 0. */
	rep[0x1A0 + 8] = 0;
	rep[0x180] = 1;
	assert_int_equal(veil_snp_report_parse(rep, VEIL_SNP_REPORT_LEN, r, &e), VEIL_OK);
	assert_int_equal(snp_check_vcek_claims(r, turin, VEIL_SNP_PRODUCT_TURIN, &res, &e), VEIL_E_DENIED);
	assert_non_null(strstr(e.msg, "FMC"));

	X509_free(milan);
	X509_free(turin);
	free(rep);
	free(r);
}

static void test_tcb_layouts(void **state)
{
	(void)state;
	veil_snp_tcb t;
	veil_snp_tcb_decode(UINT64_C(0x7308000000000003), VEIL_SNP_PRODUCT_MILAN, &t);
	assert_int_equal(t.bootloader, 3);
	assert_int_equal(t.tee, 0);
	assert_int_equal(t.snp, 8);
	assert_int_equal(t.microcode, 0x73);
	assert_int_equal(t.fmc, 0);
	assert_true(t.reserved_zero);
	veil_snp_tcb_decode(UINT64_C(0x0900000017160504), VEIL_SNP_PRODUCT_TURIN, &t);
	assert_int_equal(t.fmc, 4);
	assert_int_equal(t.bootloader, 5);
	assert_int_equal(t.tee, 0x16);
	assert_int_equal(t.snp, 0x17);
	assert_int_equal(t.microcode, 9);
	assert_true(t.reserved_zero);
	veil_snp_tcb_decode(UINT64_C(0x0900000017160504), VEIL_SNP_PRODUCT_GENOA, &t);
	assert_false(t.reserved_zero); /* bytes 2 and 3 are reserved on Genoa */
}

/* ---- VLEK: the real ASVKs, and chains made here ---- */

static X509 *pem_nth(const char *pem, size_t len, int n)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *x = NULL;
	assert_non_null(b);
	for (int i = 0; i <= n; i++) {
		X509_free(x);
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		assert_non_null(x);
	}
	BIO_free(b);
	return x;
}

static X509 *pinned(const char *pem)
{
	assert_non_null(pem);
	return pem_nth(pem, strlen(pem), 0);
}

/* The ASVKs veil pins are AMD's (the KDS vlek cert_chain files), each issued
 * by the same ARK as the product's ASK. */
static void test_pinned_asvks(void **state)
{
	(void)state;
	static const struct {
		veil_snp_product p;
		const char *file, *cn;
	} rows[] = {
	        {VEIL_SNP_PRODUCT_MILAN, "amd-roots/ask_ark_milan_vlek.pem", "SEV-VLEK-Milan"},
	        {VEIL_SNP_PRODUCT_GENOA, "amd-roots/ask_ark_genoa_vlek.pem", "SEV-VLEK-Genoa"},
	        {VEIL_SNP_PRODUCT_TURIN, "amd-roots/ask_ark_turin_vlek.pem", "SEV-VLEK-Turin"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		veil_buf f = {0};
		load(rows[i].file, &f);
		X509 *asvk = pem_nth((const char *)f.data, f.len, 0),
		     *ark = pem_nth((const char *)f.data, f.len, 1);
		X509 *pasvk = pinned(veil_snp_pinned_asvk_pem(rows[i].p));
		X509 *park = pinned(veil_snp_pinned_ark_pem(rows[i].p));
		X509 *pask = pinned(veil_snp_pinned_ask_pem(rows[i].p));
		assert_int_equal(X509_cmp(asvk, pasvk), 0);
		assert_int_equal(X509_cmp(ark, park), 0);
		assert_int_not_equal(X509_cmp(pask, pasvk), 0);
		assert_int_equal(X509_verify(pasvk, X509_get0_pubkey(park)), 1);
		assert_int_not_equal(X509_check_ca(pasvk), 0);
		char cn[64] = "";
		assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(pasvk), NID_commonName, cn,
		                                      sizeof cn) > 0);
		assert_string_equal(cn, rows[i].cn);
		X509 *xs[] = {asvk, ark, pasvk, park, pask};
		for (size_t j = 0; j < sizeof xs / sizeof xs[0]; j++)
			X509_free(xs[j]);
		veil_buf_free(&f);
	}
	assert_null(veil_snp_pinned_asvk_pem(VEIL_SNP_PRODUCT_UNKNOWN));
}

/* The Milan TCB of the virtee report: boot loader 3, TEE 0, SNP 8, microcode 0x73. */
#define TCB_MILAN UINT64_C(0x7308000000000003)

static void add_raw_ext(X509 *x, const char *oid, const unsigned char *der, int len)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
	assert_non_null(obj);
	assert_non_null(v);
	assert_int_equal(ASN1_OCTET_STRING_set(v, der, len), 1);
	X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, v);
	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(v);
	ASN1_OBJECT_free(obj);
}

static void add_spl(X509 *x, const char *oid, uint8_t v)
{
	unsigned char der[4] = {0x02, 0x01, v, 0};
	if (v >= 0x80) { /* a leading zero keeps it positive */
		der[1] = 2;
		der[2] = 0;
		der[3] = v;
	}
	add_raw_ext(x, oid, der, 2 + der[1]);
}

static void add_nid(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/* RSA-PSS, SHA-384, salt 48, as AMD signs its chains. */
static void sign_pss(X509 *x, EVP_PKEY *key)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	assert_non_null(md);
	assert_int_equal(EVP_DigestSignInit_ex(md, &pctx, "SHA384", NULL, NULL, key, NULL), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48), 1);
	assert_true(X509_sign_ctx(x, md) > 0);
	EVP_MD_CTX_free(md);
}

/* A certificate named CN=cn under `issuer` (a name; NULL: self-issued). A
 * leaf gets the SPL extensions of TCB_MILAN, and a hwID when hwid is set. */
static X509 *make_cert(const char *cn, const X509_NAME *issuer, EVP_PKEY *pub, EVP_PKEY *signer, bool ca,
                       const uint8_t *hwid)
{
	X509 *x = X509_new();
	time_t t = (time_t)NOW;
	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 7), 1);
	X509_NAME *n = X509_get_subject_name(x);
	assert_int_equal(
	        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, issuer ? issuer : n), 1);
	assert_non_null(X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, &t));
	assert_non_null(X509_time_adj_ex(X509_getm_notAfter(x), 365, 0, &t));
	assert_int_equal(X509_set_pubkey(x, pub), 1);
	if (ca) {
		add_nid(x, NID_basic_constraints, "critical,CA:TRUE");
		add_nid(x, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		static const unsigned char product[] = {0x16, 5, 'M', 'i', 'l', 'a', 'n'};
		add_raw_ext(x, "1.3.6.1.4.1.3704.1.2", product, sizeof product);
		add_spl(x, "1.3.6.1.4.1.3704.1.3.1", 3);
		add_spl(x, "1.3.6.1.4.1.3704.1.3.2", 0);
		add_spl(x, "1.3.6.1.4.1.3704.1.3.3", 8);
		add_spl(x, "1.3.6.1.4.1.3704.1.3.8", 0x73);
		if (hwid)
			add_raw_ext(x, "1.3.6.1.4.1.3704.1.4", hwid, VEIL_SNP_CHIP_ID_LEN);
	}
	sign_pss(x, signer);
	return x;
}

/* ECDSA P-384 over 0x000..0x29F; R and S little-endian, zero-padded to 72. */
static void sign_report(uint8_t *rep, EVP_PKEY *key)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[160];
	size_t der_len = sizeof der;
	assert_non_null(md);
	assert_int_equal(EVP_DigestSignInit_ex(md, NULL, "SHA384", NULL, NULL, key, NULL), 1);
	assert_int_equal(EVP_DigestSign(md, der, &der_len, rep, VEIL_SNP_SIGNED_LEN), 1);
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	assert_non_null(sig);
	const BIGNUM *r = NULL, *s = NULL;
	ECDSA_SIG_get0(sig, &r, &s);
	memset(rep + VEIL_SNP_SIG_OFF, 0, VEIL_SNP_REPORT_LEN - VEIL_SNP_SIG_OFF);
	assert_true(BN_bn2lebinpad(r, rep + VEIL_SNP_SIG_OFF, VEIL_SNP_SIG_COMPONENT) > 0);
	assert_true(BN_bn2lebinpad(s, rep + VEIL_SNP_SIG_OFF + VEIL_SNP_SIG_COMPONENT,
	                           VEIL_SNP_SIG_COMPONENT) > 0);
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
}

static void der_of(X509 *x, veil_buf *out)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	veil_err e = {0};
	assert_true(n > 0);
	out->len = 0;
	assert_int_equal(veil_buf_append(out, der, (size_t)n, &e), VEIL_OK);
	OPENSSL_free(der);
}

static void pem_of(X509 *x, veil_buf *out)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	veil_err e = {0};
	assert_non_null(b);
	assert_int_equal(PEM_write_bio_X509(b, x), 1);
	long n = BIO_get_mem_data(b, &p);
	assert_int_equal(veil_buf_append(out, p, (size_t)n, &e), VEIL_OK);
	BIO_free(b);
}

/* A report signed with `key`, from the virtee one: key_info as given, TCB_MILAN. */
static void make_report(const vec *v, uint8_t key_info, EVP_PKEY *key, uint8_t *rep)
{
	memcpy(rep, v->report_raw.data, VEIL_SNP_REPORT_LEN);
	memset(rep + 0x48, 0, 4);
	rep[0x48] = key_info;
	put_le64(rep + 0x180, TCB_MILAN);
	sign_report(rep, key);
}

static veil_status verify_anchored(const uint8_t *rep, const veil_buf *vlek, const veil_buf *chain,
                                   const veil_buf *ark, veil_snp_result *res, veil_err *e)
{
	veil_snp_report *r = malloc(sizeof *r);
	assert_non_null(r);
	assert_int_equal(veil_snp_report_parse(rep, VEIL_SNP_REPORT_LEN, r, e), VEIL_OK);
	veil_status st = snp_verify_anchored(r, vlek->data, vlek->len, (const char *)chain->data, chain->len,
	                                     (const char *)ark->data, ark->len, NOW, res, e);
	free(r);
	return st;
}

#define KEYINFO_VLEK (VEIL_SNP_SIGNING_VLEK << 2)

/* A VLEK -> ASVK -> ARK chain made here, trusted through the anchored entry
 * point (the way the simulated TEE runs veil_snp_verify's code): a VLEK
 * report verifies end to end, says it is not bound to a chip, keeps its TCB
 * checks, and is refused for a changed byte, another TCB, a VLEK that has a
 * hwID, or a claim that the VLEK is a VCEK. */
static void test_vlek_end_to_end(void **state)
{
	vec *v = *state;
	EVP_PKEY *ark_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *asvk_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *vlek_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	assert_non_null(ark_key);
	assert_non_null(asvk_key);
	assert_non_null(vlek_key);
	X509 *ark = make_cert("ARK-Test", NULL, ark_key, ark_key, true, NULL);
	X509 *asvk = make_cert("SEV-VLEK-Test", X509_get_subject_name(ark), asvk_key, ark_key, true, NULL);
	X509 *vlek = make_cert("SEV-VLEK", X509_get_subject_name(asvk), vlek_key, asvk_key, false, NULL);
	uint8_t hwid[VEIL_SNP_CHIP_ID_LEN];
	memcpy(hwid, v->report_raw.data + 0x1A0, sizeof hwid);
	X509 *vlek_hw = make_cert("SEV-VLEK", X509_get_subject_name(asvk), vlek_key, asvk_key, false, hwid);
	veil_buf vlek_der = {0}, vlek_hw_der = {0}, chain = {0}, ark_pem = {0};
	der_of(vlek, &vlek_der);
	der_of(vlek_hw, &vlek_hw_der);
	pem_of(asvk, &chain);
	pem_of(ark, &chain);
	pem_of(ark, &ark_pem);
	uint8_t *rep = malloc(VEIL_SNP_REPORT_LEN);
	assert_non_null(rep);
	veil_snp_result res;
	veil_err e = {0};

	make_report(v, KEYINFO_VLEK, vlek_key, rep);
	if (verify_anchored(rep, &vlek_der, &chain, &ark_pem, &res, &e) != VEIL_OK)
		fail_msg("%s", e.msg);
	assert_int_equal(res.signing_key, VEIL_SNP_SIGNING_VLEK);
	assert_false(res.chip_bound);
	assert_false(res.chip_id_masked);
	assert_string_equal(res.vcek_product, "Milan");
	assert_int_equal(res.reported_tcb.snp, 8);
	assert_int_equal(res.reported_tcb.microcode, 0x73);

	/* Any chip id: a VLEK names none. */
	make_report(v, KEYINFO_VLEK, vlek_key, rep);
	rep[0x1A0] ^= 0xff;
	sign_report(rep, vlek_key);
	assert_int_equal(verify_anchored(rep, &vlek_der, &chain, &ark_pem, &res, &e), VEIL_OK);
	assert_false(res.chip_bound);

	/* A changed byte after signing. */
	rep[0x90] ^= 1;
	assert_int_equal(verify_anchored(rep, &vlek_der, &chain, &ark_pem, &res, &e), VEIL_E_AUTH);
	assert_non_null(strstr(e.msg, "VLEK"));
	assert_int_equal(res.product, VEIL_SNP_PRODUCT_UNKNOWN);
	assert_int_equal(res.signing_key, 0);

	/* SNP SPL 9 where the VLEK certifies 8: the TCB is still checked. */
	make_report(v, KEYINFO_VLEK, vlek_key, rep);
	rep[0x186] = 9;
	sign_report(rep, vlek_key);
	assert_int_equal(verify_anchored(rep, &vlek_der, &chain, &ark_pem, &res, &e), VEIL_E_DENIED);
	assert_non_null(strstr(e.msg, "the VLEK is for SNP SPL 8"));

	/* A "VLEK" with a hwID is a VCEK. */
	make_report(v, KEYINFO_VLEK, vlek_key, rep);
	assert_int_equal(verify_anchored(rep, &vlek_hw_der, &chain, &ark_pem, &res, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "hwID"));

	/* The same key as a VCEK: a VCEK must name its chip, and this one does not. */
	make_report(v, 0, vlek_key, rep);
	assert_int_equal(verify_anchored(rep, &vlek_der, &chain, &ark_pem, &res, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "VCEK: the hwID extension"));

	/* veil_snp_verify trusts only AMD's ARKs, with or without the chain. */
	make_report(v, KEYINFO_VLEK, vlek_key, rep);
	assert_int_equal(verify_bytes(rep, VEIL_SNP_REPORT_LEN, &vlek_der, &chain, NOW, &res, &e),
	                 VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "pinned"));
	assert_int_equal(verify_bytes(rep, VEIL_SNP_REPORT_LEN, &vlek_der, NULL, NOW, &res, &e),
	                 VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "ASVKs"));

	veil_buf *bufs[] = {&vlek_der, &vlek_hw_der, &chain, &ark_pem};
	for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
		veil_buf_free(bufs[i]);
	X509 *xs[] = {ark, asvk, vlek, vlek_hw};
	for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++)
		X509_free(xs[i]);
	EVP_PKEY_free(ark_key);
	EVP_PKEY_free(asvk_key);
	EVP_PKEY_free(vlek_key);
	free(rep);
}

/* AMD's real VLEK chains reach the VLEK link: the ARK is pinned and the
 * ASVK -> ARK link holds (given as cert_chain, or chosen among the pinned
 * ASVKs by the VLEK's issuer), so a VLEK that AMD did not sign fails only
 * there. The VCEK chain is refused for a VLEK by name. */
static void test_vlek_real_chains(void **state)
{
	vec *v = *state;
	veil_buf vlek_chain = {0}, turin_vlek_chain = {0}, vlek_der = {0}, stranger_der = {0};
	load("amd-roots/ask_ark_milan_vlek.pem", &vlek_chain);
	load("amd-roots/ask_ark_turin_vlek.pem", &turin_vlek_chain);
	X509 *asvk = pinned(veil_snp_pinned_asvk_pem(VEIL_SNP_PRODUCT_MILAN));
	EVP_PKEY *forger = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *vlek_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	assert_non_null(forger);
	assert_non_null(vlek_key);
	X509 *vlek = make_cert("SEV-VLEK", X509_get_subject_name(asvk), vlek_key, forger, false, NULL);
	der_of(vlek, &vlek_der);
	X509_NAME *other = X509_NAME_new();
	assert_non_null(other);
	assert_int_equal(X509_NAME_add_entry_by_txt(other, "CN", MBSTRING_UTF8,
	                                            (const unsigned char *)"SEV-VLEK-Nobody", -1, -1, 0),
	                 1);
	X509 *stranger = make_cert("SEV-VLEK", other, vlek_key, forger, false, NULL);
	der_of(stranger, &stranger_der);
	uint8_t *rep = malloc(VEIL_SNP_REPORT_LEN);
	assert_non_null(rep);
	make_report(v, KEYINFO_VLEK, vlek_key, rep);
	veil_snp_result res;
	veil_err e = {0};

	assert_int_equal(verify_bytes(rep, VEIL_SNP_REPORT_LEN, &vlek_der, &vlek_chain, NOW, &res, &e),
	                 VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "VLEK -> ASVK: the signature does not verify"));
	assert_int_equal(verify_bytes(rep, VEIL_SNP_REPORT_LEN, &vlek_der, NULL, NOW, &res, &e),
	                 VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "VLEK -> ASVK: the signature does not verify"));
	/* Turin's ASVK did not issue it; Milan's VCEK chain has an ASK, not an ASVK. */
	assert_int_equal(verify_bytes(rep, VEIL_SNP_REPORT_LEN, &vlek_der, &turin_vlek_chain, NOW, &res, &e),
	                 VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "VLEK -> ASVK: the issuer name"));
	assert_int_equal(verify_bytes(rep, VEIL_SNP_REPORT_LEN, &vlek_der, &v->chain, NOW, &res, &e),
	                 VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "VLEK -> ASVK: the issuer name"));
	/* An issuer that no pinned ASVK is. */
	assert_int_equal(verify_bytes(rep, VEIL_SNP_REPORT_LEN, &stranger_der, NULL, NOW, &res, &e),
	                 VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "none of the pinned AMD ASVKs"));
	/* A VCEK report never uses the ASVKs: the Milan VCEK with the VLEK chain. */
	assert_int_equal(
	        verify_bytes(v->report_raw.data, v->report_raw.len, &v->vcek, &vlek_chain, NOW, &res, &e),
	        VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "VCEK -> ASK: the issuer name"));

	veil_buf *bufs[] = {&vlek_chain, &turin_vlek_chain, &vlek_der, &stranger_der};
	for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
		veil_buf_free(bufs[i]);
	X509_NAME_free(other);
	X509_free(asvk);
	X509_free(vlek);
	X509_free(stranger);
	EVP_PKEY_free(forger);
	EVP_PKEY_free(vlek_key);
	free(rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse_milan),
	        cmocka_unit_test(test_verify_milan),
	        cmocka_unit_test(test_verify_go_sev_guest_debug),
	        cmocka_unit_test(test_every_byte_flip_fails),
	        cmocka_unit_test(test_unsigned_tail_must_be_zero),
	        cmocka_unit_test(test_wrong_vcek),
	        cmocka_unit_test(test_chain_refusals),
	        cmocka_unit_test(test_validity_period),
	        cmocka_unit_test(test_sizes_versions_algorithms),
	        cmocka_unit_test(test_signing_key),
	        cmocka_unit_test(test_fields_come_from_raw),
	        cmocka_unit_test(test_tcb_layouts),
	        cmocka_unit_test(test_vcek_claims),
	        cmocka_unit_test(test_pinned_asvks),
	        cmocka_unit_test(test_vlek_end_to_end),
	        cmocka_unit_test(test_vlek_real_chains),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
