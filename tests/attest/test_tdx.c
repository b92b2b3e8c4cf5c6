/* Unit tests for Intel TDX quote parsing and verification, on real quotes
 * from go-tdx-guest (../shared/vectors/tdx/, see its README): a version 4
 * quote from a Sapphire Rapids machine and a version 5 (TDX 1.5) one, each
 * with its PCK chain inside. They verify to the pinned Intel SGX Root CA;
 * every single-byte change of the signed header and body, of the QE report,
 * its signature, the QE auth data, the attestation key and the quote
 * signature is refused with the error of the link it breaks; truncations
 * at every offset, trailing bytes, unknown versions and types, foreign
 * roots, broken chains and times outside the certificates' validity are
 * refused; claims come out of a verified quote only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "veil/attest.h"

/* 2026-11-18: every certificate of both real chains is valid then (the v4
 * PCK 2022-09-20..2029-09-20, the v5 PCK 2026-01-27..2033-01-27). */
#define NOW          INT64_C(1795000000)
#define T_2022_01_01 INT64_C(1640995200) /* before the v4 PCK */
#define T_2030_01_01 INT64_C(1893456000) /* after the v4 PCK */
#define T_2025_06_01 INT64_C(1748736000) /* before the v5 PCK */
#define T_2050_01_01 INT64_C(2524608000) /* after the root */

/* The v4 sample carries 39 bytes go-tdx-guest appended to test lenient
 * parsers ("\nextra bytes(only for testing purpose)\n"); the quote its
 * fields declare is this long. */
#define V4_QUOTE_LEN 4935
#define V5_QUOTE_LEN 5006

/* MRTD of each sample. */
static const char v4_mrtd[] =
        "6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb";
static const char v5_mrtd[] =
        "7348651a34b2d2d3462822e3a750ec6110125f36757c78480bbfc69cc0d21fb001a1ced3ee19747dda8f750c3bc8f876";

typedef struct vec {
	veil_buf v4_file; /* as stored, with the 39 extra bytes */
	veil_buf v5;
	const uint8_t *v4; /* v4_file.data, V4_QUOTE_LEN bytes */
} vec;

static void load(const char *rel, veil_buf *out)
{
	const char *root = getenv("VEIL_SOURCE_ROOT");
	char path[4096];
	veil_err e = {0};
	assert_non_null(root);
	assert_int_equal(veil_fmt(path, sizeof path, &e, "%s/../shared/vectors/tdx/%s", root, rel), VEIL_OK);
	if (veil_fs_read_file(path, 1u << 20, out, &e) != VEIL_OK)
		fail_msg("%s: %s", path, e.msg);
}

static int setup(void **state)
{
	vec *v = calloc(1, sizeof *v);
	if (!v)
		return -1;
	load("go-tdx-guest/tdx_prod_quote_SPR_E4.dat", &v->v4_file);
	load("go-tdx-guest/quote_v5_sample.dat", &v->v5);
	v->v4 = v->v4_file.data;
	*state = v;
	return 0;
}

static int teardown(void **state)
{
	vec *v = *state;
	veil_buf_free(&v->v4_file);
	veil_buf_free(&v->v5);
	free(v);
	return 0;
}

static void hex_equal(const uint8_t *got, size_t n, const char *want)
{
	char hex[2 * 64 + 1];
	assert_true(n <= 64);
	veil_hex_encode(got, n, hex);
	assert_string_equal(hex, want);
}

/* Parses and verifies bytes; the result is zeroed when parsing fails. */
static veil_status check(const uint8_t *b, size_t len, int64_t now, veil_tdx_result *res, veil_err *e)
{
	veil_tdx_quote *q = malloc(sizeof *q);
	assert_non_null(q);
	veil_status st = veil_tdx_quote_parse(b, len, q, e);
	if (st)
		memset(res, 0, sizeof *res);
	else
		st = veil_tdx_verify(q, NULL, now, res, e);
	free(q);
	return st;
}

static uint8_t *dup_bytes(const uint8_t *b, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);
	assert_non_null(d);
	memcpy(d, b, n);
	return d;
}

static void test_parse_v4(void **state)
{
	vec *v = *state;
	veil_tdx_quote *q = malloc(sizeof *q);
	veil_err e = {0};
	assert_non_null(q);
	assert_int_equal(v->v4_file.len, V4_QUOTE_LEN + 39);
	/* The file as stored: the appended bytes are refused. */
	assert_int_equal(veil_tdx_quote_parse(v->v4_file.data, v->v4_file.len, q, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "39 bytes after the end"));
	assert_null(q->raw);
	size_t n = 0;
	assert_int_equal(veil_tdx_quote_len(v->v4_file.data, v->v4_file.len, &n, &e), VEIL_OK);
	assert_int_equal(n, V4_QUOTE_LEN);

	assert_int_equal(veil_tdx_quote_parse(v->v4, V4_QUOTE_LEN, q, &e), VEIL_OK);
	assert_ptr_equal(q->raw, v->v4);
	assert_int_equal(q->raw_len, V4_QUOTE_LEN);
	assert_int_equal(q->version, 4);
	assert_int_equal(q->att_key_type, VEIL_TDX_ATT_KEY_P256);
	assert_int_equal(q->tee_type, 0x81);
	assert_int_equal(q->body_type, VEIL_TDX_BODY_TYPE_TDX10);
	assert_int_equal(q->signed_len, VEIL_TDX_HEADER_LEN + VEIL_TDX_BODY10_LEN);
	hex_equal(q->qe_vendor_id, VEIL_TDX_QE_VENDOR_LEN, "939a7233f79c4ca9940a0db3957f0607");
	hex_equal(q->tee_tcb_svn, VEIL_TDX_SVN_LEN, "03000400000000000000000000000000");
	assert_int_equal(q->seam_attributes, 0);
	assert_int_equal(q->td_attributes, UINT64_C(0x40000000));
	assert_int_equal(q->xfam, UINT64_C(0x61ae7));
	hex_equal(q->mr_td, VEIL_TDX_MR_LEN, v4_mrtd);
	hex_equal(q->report_data, VEIL_TDX_REPORT_DATA_LEN,
	          "6c62dec1b8191749a31dab490be532a35944dea47caef1f980863993d9899545"
	          "eb7406a38d1eed313b987a467dacead6f0c87a6d766c66f6f29f8acb281f1113");
	assert_false(q->debug);
	uint8_t zero[VEIL_TDX_MR_LEN] = {0};
	assert_memory_equal(q->mr_servicetd, zero, VEIL_TDX_MR_LEN);
	assert_memory_equal(q->tee_tcb_svn2, zero, VEIL_TDX_SVN_LEN);
	assert_int_equal(q->qe_auth_len, 32);
	assert_ptr_equal(q->qe_auth, v->v4 + V4_QUOTE_LEN - 3677 - 6 - 32);
	assert_int_equal(q->pck_chain_len, 3677);
	assert_ptr_equal(q->pck_chain, (const char *)v->v4 + V4_QUOTE_LEN - 3677);
	assert_int_equal(q->qe_isv_prod_id, VEIL_TDX_QE_PRODID);
	hex_equal(q->qe_mr_signer, 32, "dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5");
	free(q);
}

static void test_verify_v4(void **state)
{
	vec *v = *state;
	veil_tdx_result res;
	veil_err e = {0};
	if (check(v->v4, V4_QUOTE_LEN, NOW, &res, &e) != VEIL_OK)
		fail_msg("v4 quote: %s", e.msg);
	assert_true(res.verified);
	assert_false(res.debug);
	assert_int_equal(res.version, 4);
	assert_int_equal(res.body_type, VEIL_TDX_BODY_TYPE_TDX10);
	assert_int_equal(res.pck_ca, VEIL_TDX_PCK_CA_PLATFORM);
	assert_int_equal(res.qe_isv_svn, 4);
	assert_false(res.tcb_checked);
}

static void test_parse_verify_v5(void **state)
{
	vec *v = *state;
	veil_tdx_quote *q = malloc(sizeof *q);
	veil_err e = {0};
	assert_non_null(q);
	assert_int_equal(v->v5.len, V5_QUOTE_LEN);
	assert_int_equal(veil_tdx_quote_parse(v->v5.data, v->v5.len, q, &e), VEIL_OK);
	assert_int_equal(q->version, 5);
	assert_int_equal(q->body_type, VEIL_TDX_BODY_TYPE_TDX15);
	/* For version 5 the signature covers the body descriptor too. */
	assert_int_equal(q->signed_len, VEIL_TDX_HEADER_LEN + VEIL_TDX_BODY_DESC_LEN + VEIL_TDX_BODY15_LEN);
	hex_equal(q->tee_tcb_svn, VEIL_TDX_SVN_LEN, "0b010400000000000000000000000000");
	hex_equal(q->tee_tcb_svn2, VEIL_TDX_SVN_LEN, "0d010400000000000000000000000000");
	hex_equal(q->mr_td, VEIL_TDX_MR_LEN, v5_mrtd);
	assert_int_equal(q->td_attributes, UINT64_C(0x10000000));
	assert_false(q->debug);
	/* Its PCK chain PEM ends in a NUL, counted in its size. */
	assert_int_equal(q->pck_chain_len, 3678);
	assert_int_equal(q->pck_chain[q->pck_chain_len - 1], '\0');
	size_t n = 0;
	assert_int_equal(veil_tdx_quote_len(v->v5.data, v->v5.len, &n, &e), VEIL_OK);
	assert_int_equal(n, V5_QUOTE_LEN);

	veil_tdx_result res;
	if (veil_tdx_verify(q, NULL, NOW, &res, &e) != VEIL_OK)
		fail_msg("v5 quote: %s", e.msg);
	assert_true(res.verified);
	assert_int_equal(res.version, 5);
	assert_int_equal(res.body_type, VEIL_TDX_BODY_TYPE_TDX15);
	assert_int_equal(res.pck_ca, VEIL_TDX_PCK_CA_PLATFORM);
	assert_int_equal(res.qe_isv_svn, q->qe_isv_svn);
	free(q);
}

/* Flips every bit pattern 0x01 of [from, to) one byte at a time and expects
 * each result refused; where parsing still succeeds, verification must fail
 * with `want` (0: any error). */
static void flip_range(const uint8_t *quote, size_t len, size_t from, size_t to, veil_status want,
                       const char *what)
{
	uint8_t *b = dup_bytes(quote, len);
	for (size_t i = from; i < to; i++) {
		veil_tdx_result res;
		veil_err e = {0};
		b[i] ^= 0x01;
		veil_tdx_quote *q = malloc(sizeof *q);
		assert_non_null(q);
		veil_status st = veil_tdx_quote_parse(b, len, q, &e);
		if (st == VEIL_OK) {
			st = veil_tdx_verify(q, NULL, NOW, &res, &e);
			if (st == VEIL_OK)
				fail_msg("%s: byte %zu flipped still verifies", what, i);
			if (want && st != want)
				fail_msg("%s: byte %zu flipped gave %s (%s), expected %s", what, i,
				         veil_status_str(st), e.msg, veil_status_str(want));
			assert_false(res.verified);
		}
		free(q);
		b[i] ^= 0x01;
	}
	free(b);
}

/* Offsets of the signature data parts, from a parsed quote. */
typedef struct layout {
	size_t sig, key, qe_report, qe_sig, auth, auth_len, chain;
} layout;

static layout layout_of(const uint8_t *b, size_t len)
{
	veil_tdx_quote *q = malloc(sizeof *q);
	veil_err e = {0};
	assert_non_null(q);
	assert_int_equal(veil_tdx_quote_parse(b, len, q, &e), VEIL_OK);
	layout l;
	l.sig = q->signed_len + 4;
	l.key = l.sig + VEIL_TDX_SIG_LEN;
	l.qe_report = l.key + VEIL_TDX_KEY_LEN + 6;
	l.qe_sig = l.qe_report + VEIL_TDX_QE_REPORT_LEN;
	l.auth = l.qe_sig + VEIL_TDX_SIG_LEN + 2;
	l.auth_len = q->qe_auth_len;
	l.chain = (size_t)((const uint8_t *)q->pck_chain - b);
	assert_ptr_equal(q->qe_auth, b + l.auth);
	assert_memory_equal(q->qe_report, b + l.qe_report, VEIL_TDX_QE_REPORT_LEN);
	free(q);
	return l;
}

static void test_every_signed_byte_flip_fails(void **state)
{
	vec *v = *state;
	/* Header and body (and v5's descriptor): the quote signature breaks,
	 * unless the flip already made the parser refuse (version, type, size). */
	flip_range(v->v4, V4_QUOTE_LEN, 0, VEIL_TDX_HEADER_LEN + VEIL_TDX_BODY10_LEN, VEIL_E_AUTH,
	           "v4 header+body");
	flip_range(v->v5.data, v->v5.len, 0,
	           VEIL_TDX_HEADER_LEN + VEIL_TDX_BODY_DESC_LEN + VEIL_TDX_BODY15_LEN, VEIL_E_AUTH,
	           "v5 header+body");
}

static void test_signature_data_flips_fail(void **state)
{
	vec *v = *state;
	const struct {
		const uint8_t *b;
		size_t len;
	} qs[2] = {{v->v4, V4_QUOTE_LEN}, {v->v5.data, v->v5.len}};
	for (size_t k = 0; k < 2; k++) {
		layout l = layout_of(qs[k].b, qs[k].len);
		/* the quote signature itself */
		flip_range(qs[k].b, qs[k].len, l.sig, l.key, VEIL_E_AUTH, "quote signature");
		/* the attestation key: the QE report no longer binds it */
		flip_range(qs[k].b, qs[k].len, l.key, l.key + VEIL_TDX_KEY_LEN, VEIL_E_DENIED,
		           "attestation key");
		/* the QE report and its signature: the PCK's signature breaks */
		flip_range(qs[k].b, qs[k].len, l.qe_report, l.qe_sig + VEIL_TDX_SIG_LEN, VEIL_E_AUTH,
		           "QE report");
		/* the QE auth data: the binding breaks */
		flip_range(qs[k].b, qs[k].len, l.auth, l.auth + l.auth_len, VEIL_E_DENIED, "QE auth data");
	}
}

static void test_truncations_refused(void **state)
{
	vec *v = *state;
	const struct {
		const uint8_t *b;
		size_t len;
	} qs[2] = {{v->v4, V4_QUOTE_LEN}, {v->v5.data, v->v5.len}};
	veil_tdx_quote *q = malloc(sizeof *q);
	assert_non_null(q);
	for (size_t k = 0; k < 2; k++) {
		for (size_t n = 0; n < qs[k].len; n++) {
			/* An exact-size copy, so that a read past n would be a sanitizer error. */
			uint8_t *b = dup_bytes(qs[k].b, n);
			veil_err e = {0};
			size_t ql = 1;
			if (veil_tdx_quote_parse(b, n, q, &e) != VEIL_E_INVALID)
				fail_msg("quote %zu cut to %zu bytes: not refused as invalid (%s)", k, n,
				         e.msg);
			assert_null(q->raw);
			assert_int_not_equal(veil_tdx_quote_len(b, n, &ql, &e), VEIL_OK);
			assert_int_equal(ql, 0);
			free(b);
		}
		/* One byte more is trailing. */
		uint8_t *b = malloc(qs[k].len + 1);
		assert_non_null(b);
		memcpy(b, qs[k].b, qs[k].len);
		b[qs[k].len] = 0;
		veil_err e = {0};
		assert_int_equal(veil_tdx_quote_parse(b, qs[k].len + 1, q, &e), VEIL_E_INVALID);
		free(b);
	}
	veil_err e = {0};
	assert_int_equal(veil_tdx_quote_parse(NULL, 0, q, &e), VEIL_E_INVALID);
	free(q);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static veil_status parse_edited(const uint8_t *src, size_t len, size_t off, const uint8_t *val, size_t n,
                                veil_err *e)
{
	uint8_t *b = dup_bytes(src, len);
	veil_tdx_quote *q = malloc(sizeof *q);
	assert_non_null(q);
	memcpy(b + off, val, n);
	veil_status st = veil_tdx_quote_parse(b, len, q, e);
	free(q);
	free(b);
	return st;
}

static void test_versions_and_types(void **state)
{
	vec *v = *state;
	veil_err e = {0};
	uint8_t f[4];
	const uint16_t versions[] = {0, 3, 6, 0xffff};
	for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
		put16(f, versions[i]);
		assert_int_equal(parse_edited(v->v4, V4_QUOTE_LEN, 0, f, 2, &e), VEIL_E_UNSUPPORTED);
		assert_non_null(strstr(e.msg, "version"));
	}
	put16(f, 3); /* ECDSA-384-with-P-384 */
	assert_int_equal(parse_edited(v->v4, V4_QUOTE_LEN, 2, f, 2, &e), VEIL_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "attestation key type"));
	put32(f, 0); /* SGX */
	assert_int_equal(parse_edited(v->v4, V4_QUOTE_LEN, 4, f, 4, &e), VEIL_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "TEE type"));
	/* v5 body descriptor */
	put16(f, 1); /* an SGX enclave report body */
	assert_int_equal(parse_edited(v->v5.data, v->v5.len, 48, f, 2, &e), VEIL_E_UNSUPPORTED);
	put16(f, VEIL_TDX_BODY_TYPE_TDX10); /* a 1.0 body may not be 648 bytes */
	assert_int_equal(parse_edited(v->v5.data, v->v5.len, 48, f, 2, &e), VEIL_E_INVALID);
	put32(f, VEIL_TDX_BODY10_LEN);
	assert_int_equal(parse_edited(v->v5.data, v->v5.len, 50, f, 4, &e), VEIL_E_INVALID);
	/* certification data types */
	layout l = layout_of(v->v4, V4_QUOTE_LEN);
	put16(f, VEIL_TDX_CERT_PCK_CHAIN);
	assert_int_equal(parse_edited(v->v4, V4_QUOTE_LEN, l.key + VEIL_TDX_KEY_LEN, f, 2, &e),
	                 VEIL_E_UNSUPPORTED);
	put16(f, 3); /* an encrypted PPID with the PCE id: no chain to verify */
	assert_int_equal(parse_edited(v->v4, V4_QUOTE_LEN, l.chain - 6, f, 2, &e), VEIL_E_UNSUPPORTED);
	/* length fields that do not account for the bytes */
	put32(f, 4299 + 1);
	assert_int_equal(parse_edited(v->v4, V4_QUOTE_LEN, l.sig - 4, f, 4, &e), VEIL_E_INVALID);
	put32(f, 4299 - 1);
	assert_int_equal(parse_edited(v->v4, V4_QUOTE_LEN, l.sig - 4, f, 4, &e), VEIL_E_INVALID);
	/* one auth byte more shifts the PCK certification data header: its type no longer reads 5 */
	put16(f, (uint16_t)(l.auth_len + 1));
	assert_int_equal(parse_edited(v->v4, V4_QUOTE_LEN, l.auth - 2, f, 2, &e), VEIL_E_UNSUPPORTED);
	put16(f, 0xffff);
	assert_int_equal(parse_edited(v->v4, V4_QUOTE_LEN, l.auth - 2, f, 2, &e), VEIL_E_INVALID);
	put32(f, 0);
	assert_int_equal(parse_edited(v->v4, V4_QUOTE_LEN, l.chain - 4, f, 4, &e), VEIL_E_INVALID);

	/* Too large before anything is read. */
	veil_tdx_quote *q = malloc(sizeof *q);
	uint8_t *big = calloc(1, VEIL_TDX_QUOTE_MAX + 1);
	assert_non_null(q);
	assert_non_null(big);
	memcpy(big, v->v4, V4_QUOTE_LEN);
	assert_int_equal(veil_tdx_quote_parse(big, VEIL_TDX_QUOTE_MAX + 1, q, &e), VEIL_E_LIMIT);
	/* A declared signature data length past the maximum. */
	put32(big + l.sig - 4, VEIL_TDX_QUOTE_MAX);
	size_t n = 1;
	assert_int_equal(veil_tdx_quote_len(big, VEIL_TDX_QUOTE_MAX + 1, &n, &e), VEIL_E_LIMIT);
	assert_int_equal(n, 0);
	free(big);
	free(q);
}

/* A copy of quote with its PCK chain replaced by pem (the three lengths that count it fixed). */
static uint8_t *with_chain(const uint8_t *quote, size_t len, const char *pem, size_t pem_len, size_t *out_len)
{
	layout l = layout_of(quote, len);
	size_t n = l.chain + pem_len;
	uint8_t *b = malloc(n);
	assert_non_null(b);
	memcpy(b, quote, l.chain);
	memcpy(b + l.chain, pem, pem_len);
	put32(b + l.sig - 4, (uint32_t)(n - l.sig));
	put32(b + l.key + VEIL_TDX_KEY_LEN + 2, (uint32_t)(n - l.qe_report));
	put32(b + l.chain - 4, (uint32_t)pem_len);
	*out_len = n;
	return b;
}

/* The three certificates of a quote's chain, as PEM strings. */
typedef struct pems {
	char *c[3];
} pems;

static char *pem_of(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	assert_non_null(b);
	assert_int_equal(PEM_write_bio_X509(b, x), 1);
	char *data = NULL;
	long n = BIO_get_mem_data(b, &data);
	char *s = calloc(1, (size_t)n + 1);
	assert_non_null(s);
	memcpy(s, data, (size_t)n);
	BIO_free(b);
	return s;
}

static pems split_chain(const uint8_t *quote, size_t len)
{
	layout l = layout_of(quote, len);
	BIO *b = BIO_new_mem_buf(quote + l.chain, (int)(len - l.chain));
	assert_non_null(b);
	pems p;
	for (int i = 0; i < 3; i++) {
		X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		assert_non_null(x);
		p.c[i] = pem_of(x);
		X509_free(x);
	}
	BIO_free(b);
	return p;
}

static void pems_free(pems *p)
{
	for (int i = 0; i < 3; i++)
		free(p->c[i]);
}

/* Verifies quote with the chain made of the given PEM strings (NULL ends the list). */
static veil_status verify_chain(const uint8_t *quote, size_t len, const char *const *certs, veil_err *e)
{
	char pem[VEIL_TDX_PCK_CHAIN_MAX];
	size_t n = 0;
	for (size_t i = 0; certs[i]; i++) {
		size_t k = strlen(certs[i]);
		assert_true(n + k < sizeof pem);
		memcpy(pem + n, certs[i], k);
		n += k;
	}
	size_t blen = 0;
	uint8_t *b = with_chain(quote, len, pem, n, &blen);
	veil_tdx_result res;
	veil_status st = check(b, blen, NOW, &res, e);
	if (st)
		assert_false(res.verified);
	free(b);
	return st;
}

/* A self-signed P-256 certificate with the subject of `like`: a root that looks like Intel's. */
static char *foreign_root(const char *like_pem)
{
	BIO *b = BIO_new_mem_buf(like_pem, -1);
	X509 *like = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	assert_non_null(like);
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	assert_non_null(k);
	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(X509_set_subject_name(x, X509_get_subject_name(like)), 1);
	assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(like)), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -86400));
	assert_non_null(X509_time_adj_ex(X509_getm_notAfter(x), 36500, 0, NULL));
	assert_int_equal(X509_set_pubkey(x, k), 1);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	char *pem = pem_of(x);
	X509_free(x);
	X509_free(like);
	EVP_PKEY_free(k);
	return pem;
}

static void test_chain_refusals(void **state)
{
	vec *v = *state;
	veil_err e = {0};
	pems p4 = split_chain(v->v4, V4_QUOTE_LEN);
	pems p5 = split_chain(v->v5.data, v->v5.len);

	/* The chain rebuilt from its own certificates still verifies: the helper is sound. */
	const char *same[] = {p4.c[0], p4.c[1], p4.c[2], NULL};
	if (verify_chain(v->v4, V4_QUOTE_LEN, same, &e) != VEIL_OK)
		fail_msg("rebuilt chain: %s", e.msg);
	assert_string_equal(p4.c[2], veil_tdx_pinned_root_pem());

	/* A foreign root with Intel's name. */
	char *foreign = foreign_root(p4.c[2]);
	const char *fr[] = {p4.c[0], p4.c[1], foreign, NULL};
	assert_int_equal(verify_chain(v->v4, V4_QUOTE_LEN, fr, &e), VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "root: not the pinned Intel SGX Root CA"));
	free(foreign);

	/* Two, four, or misordered certificates. */
	const char *two[] = {p4.c[0], p4.c[2], NULL};
	assert_int_equal(verify_chain(v->v4, V4_QUOTE_LEN, two, &e), VEIL_E_INVALID);
	const char *four[] = {p4.c[0], p4.c[1], p4.c[2], p4.c[2], NULL};
	assert_int_equal(verify_chain(v->v4, V4_QUOTE_LEN, four, &e), VEIL_E_INVALID);
	const char *swapped[] = {p4.c[1], p4.c[0], p4.c[2], NULL};
	assert_int_equal(verify_chain(v->v4, V4_QUOTE_LEN, swapped, &e), VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "PCK CA -> root"));
	/* The root where the CA should be: it does not issue PCKs. */
	const char *root_as_ca[] = {p4.c[0], p4.c[2], p4.c[2], NULL};
	assert_int_equal(verify_chain(v->v4, V4_QUOTE_LEN, root_as_ca, &e), VEIL_E_CORRUPT);
	/* Not PEM at all. */
	const char *junk[] = {"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", NULL};
	assert_int_equal(verify_chain(v->v4, V4_QUOTE_LEN, junk, &e), VEIL_E_INVALID);

	/* Another platform's genuine PCK: the chain holds, the QE report's signature does not. */
	const char *other[] = {p5.c[0], p5.c[1], p5.c[2], NULL};
	assert_int_equal(verify_chain(v->v4, V4_QUOTE_LEN, other, &e), VEIL_E_AUTH);
	assert_non_null(strstr(e.msg, "QE report signature"));
	const char *other5[] = {p4.c[0], p4.c[1], p4.c[2], NULL};
	assert_int_equal(verify_chain(v->v5.data, v->v5.len, other5, &e), VEIL_E_AUTH);
	pems_free(&p4);
	pems_free(&p5);
}

static void test_validity_period(void **state)
{
	vec *v = *state;
	veil_tdx_result res;
	veil_err e = {0};
	assert_int_equal(check(v->v4, V4_QUOTE_LEN, T_2030_01_01, &res, &e), VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "PCK certificate: expired"));
	assert_false(res.verified);
	assert_int_equal(check(v->v4, V4_QUOTE_LEN, T_2022_01_01, &res, &e), VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "PCK certificate: not valid yet"));
	assert_int_equal(check(v->v5.data, v->v5.len, T_2025_06_01, &res, &e), VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "not valid yet"));
	assert_int_equal(check(v->v5.data, v->v5.len, T_2050_01_01, &res, &e), VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "root: expired"));
	/* Inside the window at both ends of the sample's range. */
	assert_int_equal(check(v->v4, V4_QUOTE_LEN, T_2025_06_01, &res, &e), VEIL_OK);
	assert_int_equal(check(v->v5.data, v->v5.len, T_2030_01_01, &res, &e), VEIL_OK);
}

static void test_collateral_and_arguments(void **state)
{
	vec *v = *state;
	veil_tdx_quote *q = malloc(sizeof *q);
	veil_tdx_result res;
	veil_err e = {0};
	assert_non_null(q);
	assert_int_equal(veil_tdx_quote_parse(v->v4, V4_QUOTE_LEN, q, &e), VEIL_OK);
	veil_tdx_collateral col = {0};
	memset(&res, 0xff, sizeof res);
	assert_int_equal(veil_tdx_verify(q, &col, NOW, &res, &e), VEIL_E_UNSUPPORTED);
	assert_false(res.verified);
	assert_int_equal(res.qe_isv_svn, 0);
	veil_tdx_quote empty;
	memset(&empty, 0, sizeof empty);
	assert_int_equal(veil_tdx_verify(&empty, NULL, NOW, &res, &e), VEIL_E_INVALID);
	free(q);
}

/* Only raw counts: an edited field neither fails verification nor becomes a claim. */
static void test_claims(void **state)
{
	vec *v = *state;
	veil_tdx_quote *q = malloc(sizeof *q);
	veil_tdx_result res;
	veil_attest_claims c;
	veil_err e = {0};
	assert_non_null(q);
	assert_int_equal(veil_tdx_quote_parse(v->v4, V4_QUOTE_LEN, q, &e), VEIL_OK);
	memset(q->mr_td, 0xaa, VEIL_TDX_MR_LEN);
	q->tee_tcb_svn[0] = 200;
	assert_int_equal(veil_tdx_verify(q, NULL, NOW, &res, &e), VEIL_OK);
	assert_int_equal(veil_attest_claims_from_tdx(q, &res, 1234, "eu-frankfurt-1", &c, &e), VEIL_OK);
	assert_int_equal(c.tee, VEIL_TEE_TDX);
	assert_string_equal(veil_tee_name(c.tee), "tdx");
	assert_false(c.simulated);
	assert_int_equal(c.measurement_len, VEIL_TDX_MR_LEN);
	hex_equal(c.measurement, VEIL_TDX_MR_LEN, v4_mrtd);
	assert_int_equal(c.debug, VEIL_DEBUG_OFF);
	assert_int_equal(c.vmpl, -1);
	assert_int_equal(c.ntcb, 4);
	const struct {
		const char *name;
		uint64_t value;
	} want4[] = {{"tdx_module", 3}, {"tdx_major", 0}, {"tdx_ucode", 4}, {"qe_svn", 4}};
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(c.tcb[i].name, want4[i].name);
		assert_int_equal(c.tcb[i].value, want4[i].value);
	}
	assert_int_equal(c.evidence_time, 1234);
	assert_string_equal(c.region, "eu-frankfurt-1");

	/* Refusals: no region is fine, a bad one is not; an unverified or foreign result is not. */
	assert_int_equal(veil_attest_claims_from_tdx(q, &res, 0, NULL, &c, &e), VEIL_OK);
	assert_string_equal(c.region, "");
	assert_int_equal(veil_attest_claims_from_tdx(q, &res, 0, "no/slash", &c, &e), VEIL_E_INVALID);
	assert_int_equal(c.tee, VEIL_TEE_UNKNOWN);
	assert_int_equal(c.vmpl, -1);
	veil_tdx_result zero = {0};
	assert_int_equal(veil_attest_claims_from_tdx(q, &zero, 0, NULL, &c, &e), VEIL_E_INVALID);
	assert_int_equal(c.measurement_len, 0);

	/* v5: TDX 1.5 takes the lower of TEE_TCB_SVN (0b 01 04) and TEE_TCB_SVN2 (0d 01 04). */
	veil_tdx_quote *q5 = malloc(sizeof *q5);
	veil_tdx_result res5;
	assert_non_null(q5);
	assert_int_equal(veil_tdx_quote_parse(v->v5.data, v->v5.len, q5, &e), VEIL_OK);
	assert_int_equal(veil_tdx_verify(q5, NULL, NOW, &res5, &e), VEIL_OK);
	/* the v4 result does not belong to the v5 quote */
	assert_int_equal(veil_attest_claims_from_tdx(q5, &res, 0, NULL, &c, &e), VEIL_E_INVALID);
	assert_int_equal(veil_attest_claims_from_tdx(q5, &res5, 0, NULL, &c, &e), VEIL_OK);
	hex_equal(c.measurement, VEIL_TDX_MR_LEN, v5_mrtd);
	assert_int_equal(c.tcb[0].value, 11);
	assert_int_equal(c.tcb[1].value, 1);
	assert_int_equal(c.tcb[2].value, 4);
	assert_string_equal(c.tcb[3].name, "qe_svn");
	assert_int_equal(c.tcb[3].value, q5->qe_isv_svn);
	free(q5);
	free(q);
}

/* The DEBUG bit (and the rest of the TUD byte) reads as debug; the edit
 * itself can only be refused, since the quote signature covers it. */
static void test_debug_attribute(void **state)
{
	vec *v = *state;
	const size_t td_attr = VEIL_TDX_HEADER_LEN + 120;
	for (unsigned bit = 0; bit < 8; bit++) {
		uint8_t *b = dup_bytes(v->v4, V4_QUOTE_LEN);
		veil_tdx_quote *q = malloc(sizeof *q);
		veil_tdx_result res;
		veil_err e = {0};
		assert_non_null(q);
		b[td_attr] = (uint8_t)(1u << bit);
		assert_int_equal(veil_tdx_quote_parse(b, V4_QUOTE_LEN, q, &e), VEIL_OK);
		assert_true(q->debug);
		assert_int_equal(q->td_attributes & VEIL_TDX_TD_ATTR_TUD_MASK, 1u << bit);
		assert_int_equal(veil_tdx_verify(q, NULL, NOW, &res, &e), VEIL_E_AUTH);
		free(q);
		free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse_v4),
	        cmocka_unit_test(test_verify_v4),
	        cmocka_unit_test(test_parse_verify_v5),
	        cmocka_unit_test(test_every_signed_byte_flip_fails),
	        cmocka_unit_test(test_signature_data_flips_fail),
	        cmocka_unit_test(test_truncations_refused),
	        cmocka_unit_test(test_versions_and_types),
	        cmocka_unit_test(test_chain_refusals),
	        cmocka_unit_test(test_validity_period),
	        cmocka_unit_test(test_collateral_and_arguments),
	        cmocka_unit_test(test_claims),
	        cmocka_unit_test(test_debug_attribute),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
