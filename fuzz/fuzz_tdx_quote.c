/*
 * Fuzz target: veil_tdx_quote_parse, the Intel TDX quote parser (versions 4
 * and 5, docs/formats/tdx.md), and veil_tdx_quote_len; then, for a quote
 * that parses, veil_tdx_verify at a fixed time against the pinned Intel
 * SGX Root CA and, when it verifies, veil_attest_claims_from_tdx. The
 * corpus holds the two real go-tdx-guest quotes, whose PCK chains travel
 * inside them, so mutations that keep a quote's shape reach the chain, the
 * QE report signature, the binding and the quote signature.
 *
 * Invariants (abort on violation):
 *  1. A failure has a message, is VEIL_E_INVALID, VEIL_E_UNSUPPORTED or
 *     VEIL_E_LIMIT (VEIL_E_LIMIT exactly for an input over
 *     VEIL_TDX_QUOTE_MAX) and leaves the quote zeroed; veil_tdx_quote_len
 *     then finds no quote of exactly the input's length.
 *  2. A parsed quote is the input: raw and raw_len are the input, the
 *     version is 4 or 5, the fields read back from their offsets, debug is
 *     exactly the TUD byte of td_attributes, the QE auth data and the PCK
 *     chain lie inside the input; veil_tdx_quote_len says the input's length.
 *  3. Verification succeeds only for the two genuine quotes (by SHA-256 of
 *     every part it depends on, certificates as DER: see `genuine`), says
 *     debug exactly as the quote, and its claims name tdx with the quote's
 *     MRTD; a failed verification leaves the result unverified.
 */
#include "fuzz.h"
#include "veil/attest.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* 2026-11-18: every certificate of both chains is valid then. */
#define FUZZ_NOW INT64_C(1795000000)

/* What verification depends on, for the two genuine quotes (corpus files
 * v4-genuine, the first 4935 bytes of go-tdx-guest's
 * tdx_prod_quote_SPR_E4.dat, and v5-genuine, quote_v5_sample.dat): SHA-256
 * of the signed part, the quote signature and attestation key, the QE
 * report and its signature, the QE auth data, then the DER of each PCK
 * chain certificate. The PEM text itself is only transport: a line break
 * or the unused low bits of a last base64 character may change without
 * changing a certificate (fuzzing found the latter), so a quote verifies
 * exactly when these parts are a genuine quote's. */
static const char *const genuine[2] = {
        "565bba56a730fa71fc65e15b1fe1f97eaced6f57e5802f0f842f6cf7d72cacda",
        "53c6a798991f4172141f8d85d2b7963687e2906d1759966a0fac7d56f0008f06",
};

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void check_failure(veil_status st, const veil_err *err)
{
	FUZZ_CHECK(err->code == st, "the error object holds another status than the one returned");
	FUZZ_CHECK(err->msg[0] != '\0', "an error without a message");
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void check_parsed(const veil_tdx_quote *q, const uint8_t *data, size_t size)
{
	FUZZ_CHECK(q->raw == data && q->raw_len == size, "raw is not the input");
	FUZZ_CHECK(size <= VEIL_TDX_QUOTE_MAX, "a quote over the maximum parsed");
	FUZZ_CHECK(q->version == 4 || q->version == 5, "unknown version accepted");
	FUZZ_CHECK(q->att_key_type == VEIL_TDX_ATT_KEY_P256 && q->tee_type == VEIL_TDX_TEE_TYPE,
	           "unknown key or TEE type accepted");
	size_t body = VEIL_TDX_HEADER_LEN;
	if (q->version == 5)
		body += VEIL_TDX_BODY_DESC_LEN;
	else
		FUZZ_CHECK(q->body_type == VEIL_TDX_BODY_TYPE_TDX10, "a version 4 quote with a TDX 1.5 body");
	size_t body_len =
	        q->body_type == VEIL_TDX_BODY_TYPE_TDX15 ? VEIL_TDX_BODY15_LEN : VEIL_TDX_BODY10_LEN;
	FUZZ_CHECK(q->signed_len == body + body_len, "the signed part is not header and body");
	FUZZ_CHECK(memcmp(q->mr_td, data + body + 136, VEIL_TDX_MR_LEN) == 0,
	           "MRTD not read from body + 136");
	FUZZ_CHECK(memcmp(q->report_data, data + body + 520, VEIL_TDX_REPORT_DATA_LEN) == 0,
	           "report_data not read from body + 520");
	FUZZ_CHECK(q->td_attributes == le64(data + body + 120), "td_attributes not read from body + 120");
	FUZZ_CHECK(q->debug == ((q->td_attributes & 0xff) != 0), "debug is not the TUD byte");
	if (q->body_type != VEIL_TDX_BODY_TYPE_TDX15)
		FUZZ_CHECK(all_zero(q->tee_tcb_svn2, sizeof q->tee_tcb_svn2) &&
		                   all_zero(q->mr_servicetd, sizeof q->mr_servicetd),
		           "TDX 1.5 fields set for a TDX 1.0 body");
	FUZZ_CHECK(memcmp(q->signature, data + q->signed_len + 4, VEIL_TDX_SIG_LEN) == 0,
	           "the signature is not right after the signature data length");
	const uint8_t *end = data + size;
	FUZZ_CHECK(q->qe_auth_len == 0 || (q->qe_auth > data && q->qe_auth + q->qe_auth_len <= end),
	           "the QE auth data is outside the input");
	const uint8_t *chain = (const uint8_t *)q->pck_chain;
	FUZZ_CHECK(q->pck_chain_len > 0 && chain > data && chain + q->pck_chain_len == end,
	           "the PCK chain does not end the input");
	size_t qlen = 0;
	veil_err err = {0};
	FUZZ_CHECK(veil_tdx_quote_len(data, size, &qlen, &err) == VEIL_OK && qlen == size,
	           "veil_tdx_quote_len disagrees with the parser");
}

static void hash_part(veil_hash_ctx *h, const void *p, size_t n)
{
	veil_err err = {0};
	FUZZ_CHECK(veil_hash_update(h, p, n, &err) == VEIL_OK, "SHA-256 failed");
}

/* Which genuine quote q is, by the parts verification depends on; -1 for none. */
static int which_genuine(const veil_tdx_quote *q)
{
	veil_hash_ctx *h = NULL;
	veil_err err = {0};
	FUZZ_CHECK(veil_hash_init(&h, VEIL_HASH_SHA256, &err) == VEIL_OK, "SHA-256 failed");
	hash_part(h, q->raw, q->signed_len);
	hash_part(h, q->signature, sizeof q->signature);
	hash_part(h, q->attest_key, sizeof q->attest_key);
	hash_part(h, q->qe_report, sizeof q->qe_report);
	hash_part(h, q->qe_report_sig, sizeof q->qe_report_sig);
	hash_part(h, q->qe_auth, q->qe_auth_len);
	BIO *b = BIO_new_mem_buf(q->pck_chain, (int)q->pck_chain_len);
	FUZZ_CHECK(b != NULL, "out of memory");
	X509 *x;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		unsigned char *der = NULL;
		int n = i2d_X509(x, &der);
		FUZZ_CHECK(n > 0, "a certificate that parsed does not encode");
		hash_part(h, der, (size_t)n);
		OPENSSL_free(der);
		X509_free(x);
	}
	BIO_free(b);
	ERR_clear_error();
	uint8_t d[VEIL_SHA256_LEN];
	char hex[2 * VEIL_SHA256_LEN + 1];
	FUZZ_CHECK(veil_hash_final(h, d, &err) == VEIL_OK, "SHA-256 failed");
	veil_hex_encode(d, sizeof d, hex);
	for (int i = 0; i < 2; i++)
		if (strcmp(hex, genuine[i]) == 0)
			return i;
	return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	veil_tdx_quote *q = malloc(sizeof *q);
	if (!q)
		abort(); /* out of memory: not an input's fault, but nothing to test either */
	veil_err err = {0};
	veil_status st = veil_tdx_quote_parse(data, size, q, &err);
	fuzz_note("parse", st, &err);
	if (st) {
		check_failure(st, &err);
		FUZZ_CHECK(st == VEIL_E_INVALID || st == VEIL_E_UNSUPPORTED || st == VEIL_E_LIMIT,
		           "a parse failed with an unexpected status");
		FUZZ_CHECK((st == VEIL_E_LIMIT) == (size > VEIL_TDX_QUOTE_MAX),
		           "VEIL_E_LIMIT for a size within bounds");
		FUZZ_CHECK(q->raw == NULL && q->version == 0 && q->pck_chain == NULL,
		           "a failed parse left fields behind");
		size_t qlen = 0;
		veil_status lst = veil_tdx_quote_len(data, size, &qlen, &err);
		FUZZ_CHECK(lst != VEIL_OK || qlen < size,
		           "veil_tdx_quote_len found a whole quote the parser refused");
		FUZZ_CHECK(lst == VEIL_OK || qlen == 0, "veil_tdx_quote_len failed with a length");
		free(q);
		return 0;
	}
	check_parsed(q, data, size);

	int g = which_genuine(q);
	veil_tdx_result res;
	st = veil_tdx_verify(q, NULL, FUZZ_NOW, &res, &err);
	fuzz_note("verify", st, &err);
	if (st) {
		check_failure(st, &err);
		FUZZ_CHECK(!res.verified && res.version == 0, "a failed verify left a result behind");
		FUZZ_CHECK(g < 0, "a genuine quote failed to verify");
	} else {
		FUZZ_CHECK(g >= 0, "a quote that is not genuine verified");
		FUZZ_CHECK(res.verified && res.debug == q->debug,
		           "the verified debug claim differs from the quote");
		veil_attest_claims c;
		st = veil_attest_claims_from_tdx(q, &res, 1, NULL, &c, &err);
		FUZZ_CHECK(st == VEIL_OK && c.tee == VEIL_TEE_TDX && c.measurement_len == VEIL_TDX_MR_LEN &&
		                   memcmp(c.measurement, q->mr_td, VEIL_TDX_MR_LEN) == 0,
		           "a verified quote gave other claims");
	}
	free(q);
	return 0;
}
