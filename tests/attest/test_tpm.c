/* Unit tests for TPM 2.0 quotes, over the swtpm samples in
 * tests/attest/data/tpm/ (its README says how they were made): an RSASSA,
 * an RSA-PSS and an ECDSA P-256 quote of sha256:0,1,16,23+sha1:16, each
 * with its PCR values in both tpm2_quote formats. They verify, with PCR 16
 * and 23 the values their extends give; every single-byte change of a
 * message, signature or PCR file is refused; every truncation and any
 * trailing byte is refused; wrong nonces, other AKs, unknown algorithms and
 * over-bound counts fail with the error the header promises; an AK
 * certificate verifies to its CA and to no other; the claims are vtpm's. */
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
#include <openssl/x509v3.h>

#include "veil/attest.h"
#include "veil/crypto.h"

#define NOW INT64_C(1795000000) /* 2026-11-18 */

static const char *const keys[] = {"rsa", "pss", "ecc"};
#define NKEYS (sizeof keys / sizeof keys[0])

typedef struct sample {
	veil_buf ak, msg, sig, values, serialized;
} sample;

typedef struct vec {
	sample s[NKEYS];
	veil_buf other_ak, nonce;
} vec;

static void load(const char *name, veil_buf *out)
{
	const char *root = getenv("VEIL_SOURCE_ROOT");
	char path[4096];
	veil_err e = {0};
	assert_non_null(root);
	assert_int_equal(veil_fmt(path, sizeof path, &e, "%s/tests/attest/data/tpm/%s", root, name), VEIL_OK);
	if (veil_fs_read_file(path, 1u << 20, out, &e) != VEIL_OK)
		fail_msg("%s: %s", path, e.msg);
}

static void load_key(const char *key, const char *suffix, veil_buf *out)
{
	char name[64];
	veil_err e = {0};
	assert_int_equal(veil_fmt(name, sizeof name, &e, "%s-%s", key, suffix), VEIL_OK);
	load(name, out);
}

static int setup(void **state)
{
	vec *v = calloc(1, sizeof *v);
	assert_non_null(v);
	for (size_t i = 0; i < NKEYS; i++) {
		load_key(keys[i], "ak.pem", &v->s[i].ak);
		load_key(keys[i], "quote.msg", &v->s[i].msg);
		load_key(keys[i], "quote.sig", &v->s[i].sig);
		load_key(keys[i], "pcrs.values", &v->s[i].values);
		load_key(keys[i], "pcrs.serialized", &v->s[i].serialized);
	}
	load("other-ak.pem", &v->other_ak);
	load("nonce.bin", &v->nonce);
	*state = v;
	return 0;
}

static int teardown(void **state)
{
	vec *v = *state;
	for (size_t i = 0; i < NKEYS; i++) {
		veil_buf_free(&v->s[i].ak);
		veil_buf_free(&v->s[i].msg);
		veil_buf_free(&v->s[i].sig);
		veil_buf_free(&v->s[i].values);
		veil_buf_free(&v->s[i].serialized);
	}
	veil_buf_free(&v->other_ak);
	veil_buf_free(&v->nonce);
	free(v);
	return 0;
}

/* One verification with these inputs; the result is checked zeroed on failure. */
static veil_status run(const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len,
                       const uint8_t *pcrs, size_t pcrs_len, veil_tpm_pcrs_format fmt, const veil_buf *ak,
                       const char *ca, size_t ca_len, int64_t now, const uint8_t *nonce, size_t nonce_len,
                       veil_tpm_result *res)
{
	veil_err err = {0};
	veil_tpm_evidence ev = {msg, msg_len, sig, sig_len, pcrs, pcrs_len, fmt};
	veil_tpm_trust trust = {(const char *)ak->data, ak->len, ca, ca_len, now};
	veil_status st = veil_tpm_quote_verify(&ev, &trust, nonce, nonce_len, res, &err);
	if (st) {
		assert_int_equal(err.code, st);
		assert_true(err.msg[0] != '\0');
		assert_int_equal(res->sig_alg, 0);
		assert_int_equal(res->pcrs.n, 0);
		assert_int_equal(res->quote.raw_len, 0);
	}
	return st;
}

static veil_status run_sample(const vec *v, const sample *s, veil_tpm_result *res)
{
	return run(s->msg.data, s->msg.len, s->sig.data, s->sig.len, s->values.data, s->values.len,
	           VEIL_TPM_PCRS_VALUES, &s->ak, NULL, 0, NOW, v->nonce.data, v->nonce.len, res);
}

static veil_tpm_result *new_result(void)
{
	veil_tpm_result *r = calloc(1, sizeof *r);
	assert_non_null(r);
	return r;
}

/* An extend of a fresh (zero) PCR: SHA-256(zeros || SHA-256(text)). */
static void extended(const char *text, uint8_t out[32])
{
	uint8_t buf[64] = {0};
	veil_err e = {0};
	assert_int_equal(veil_sha256(text, strlen(text), buf + 32, &e), VEIL_OK);
	assert_int_equal(veil_sha256(buf, sizeof buf, out, &e), VEIL_OK);
}

static void test_parse_fields(void **state)
{
	vec *v = *state;
	veil_tpm_quote q;
	veil_err err = {0};
	const sample *s = &v->s[0];
	assert_int_equal(veil_tpm_quote_parse(s->msg.data, s->msg.len, &q, &err), VEIL_OK);
	assert_int_equal(q.raw_len, s->msg.len);
	assert_memory_equal(q.raw, s->msg.data, s->msg.len);
	assert_int_equal(q.extra_data_len, v->nonce.len);
	assert_memory_equal(q.extra_data, v->nonce.data, v->nonce.len);
	assert_int_equal(q.qualified_signer_len, 34); /* sha256 name: alg + digest */
	assert_int_equal(veil_get_be16(q.qualified_signer), VEIL_TPM_ALG_SHA256);
	assert_true(q.safe);
	assert_int_equal(q.reset_count, 1);
	assert_int_equal(q.firmware_version, UINT64_C(0x2019102300163636)); /* libtpms 0.9 */
	assert_int_equal(q.nbanks, 2);
	assert_int_equal(q.banks[0].hash_alg, VEIL_TPM_ALG_SHA256);
	assert_int_equal(q.banks[0].size_of_select, 3);
	const uint8_t sel256[3] = {0x03, 0x00, 0x81}, sel1[3] = {0x00, 0x00, 0x01};
	assert_memory_equal(q.banks[0].select, sel256, 3);
	assert_int_equal(q.banks[1].hash_alg, VEIL_TPM_ALG_SHA1);
	assert_memory_equal(q.banks[1].select, sel1, 3);
	assert_int_equal(q.npcrs, 5);
	assert_int_equal(q.pcr_digest_len, 32);

	veil_tpm_signature sig;
	assert_int_equal(veil_tpm_signature_parse(s->sig.data, s->sig.len, &sig, &err), VEIL_OK);
	assert_int_equal(sig.sig_alg, VEIL_TPM_ALG_RSASSA);
	assert_int_equal(sig.hash_alg, VEIL_TPM_ALG_SHA256);
	assert_int_equal(sig.rsa_len, 256);
	assert_int_equal(veil_tpm_signature_parse(v->s[2].sig.data, v->s[2].sig.len, &sig, &err), VEIL_OK);
	assert_int_equal(sig.sig_alg, VEIL_TPM_ALG_ECDSA);
	assert_int_equal(sig.ecc_r_len, 32);
	assert_int_equal(sig.ecc_s_len, 32);
	assert_string_equal(veil_tpm_alg_name(VEIL_TPM_ALG_RSAPSS), "rsapss");
	assert_string_equal(veil_tpm_alg_name(0x0012), "unknown");
}

/* Every sample verifies, in both PCR formats and with the format guessed. */
static void test_known_good(void **state)
{
	vec *v = *state;
	veil_tpm_result *r = new_result();
	uint8_t want16[32], want23[32];
	extended("veil sample 16", want16);
	extended("veil sample 23", want23);
	const uint16_t algs[NKEYS] = {VEIL_TPM_ALG_RSASSA, VEIL_TPM_ALG_RSAPSS, VEIL_TPM_ALG_ECDSA};
	for (size_t i = 0; i < NKEYS; i++) {
		const sample *s = &v->s[i];
		const veil_buf *files[2] = {&s->values, &s->serialized};
		const veil_tpm_pcrs_format fmts[2] = {VEIL_TPM_PCRS_VALUES, VEIL_TPM_PCRS_SERIALIZED};
		for (int f = 0; f < 2; f++)
			for (int guess = 0; guess < 2; guess++) {
				veil_status st =
				        run(s->msg.data, s->msg.len, s->sig.data, s->sig.len, files[f]->data,
				            files[f]->len, guess ? VEIL_TPM_PCRS_AUTO : fmts[f], &s->ak, NULL,
				            0, NOW, v->nonce.data, v->nonce.len, r);
				if (st)
					fail_msg("%s, format %d%s: %s", keys[i], f, guess ? " (guessed)" : "",
					         veil_status_str(st));
				assert_int_equal(r->sig_alg, algs[i]);
				assert_int_equal(r->hash_alg, VEIL_TPM_ALG_SHA256);
				assert_false(r->ak_certified);
				assert_int_equal(r->pcrs.n, 5);
				const veil_tpm_pcr *p16 =
				        veil_tpm_pcr_find(&r->pcrs, VEIL_TPM_ALG_SHA256, 16);
				const veil_tpm_pcr *p23 =
				        veil_tpm_pcr_find(&r->pcrs, VEIL_TPM_ALG_SHA256, 23);
				const veil_tpm_pcr *p0 = veil_tpm_pcr_find(&r->pcrs, VEIL_TPM_ALG_SHA256, 0);
				const veil_tpm_pcr *sha1 = veil_tpm_pcr_find(&r->pcrs, VEIL_TPM_ALG_SHA1, 16);
				assert_non_null(p16);
				assert_non_null(p23);
				assert_non_null(p0);
				assert_non_null(sha1);
				assert_memory_equal(p16->value, want16, 32);
				assert_memory_equal(p23->value, want23, 32);
				assert_int_equal(sha1->len, 20);
				assert_null(veil_tpm_pcr_find(&r->pcrs, VEIL_TPM_ALG_SHA256, 2));
				assert_null(veil_tpm_pcr_find(&r->pcrs, VEIL_TPM_ALG_SHA384, 16));
				/* pcrDigest is SHA-256 over the values in selection order. */
				uint8_t cat[4 * 32 + 20], d[32];
				veil_err e = {0};
				for (size_t k = 0; k < 4; k++)
					memcpy(cat + 32 * k, r->pcrs.pcr[k].value, 32);
				memcpy(cat + 128, sha1->value, 20);
				assert_int_equal(r->pcrs.pcr[4].hash_alg, VEIL_TPM_ALG_SHA1);
				assert_int_equal(veil_sha256(cat, sizeof cat, d, &e), VEIL_OK);
				assert_memory_equal(d, r->quote.pcr_digest, 32);
			}
	}
	free(r);
}

/* Every byte of a quote message is signed: each single-byte change fails. */
static void test_every_message_byte(void **state)
{
	vec *v = *state;
	veil_tpm_result *r = new_result();
	for (size_t i = 0; i < NKEYS; i++) {
		const sample *s = &v->s[i];
		uint8_t m[VEIL_TPM_ATTEST_MAX] = {0};
		assert_true(s->msg.len > 80 && s->msg.len <= sizeof m);
		for (size_t k = 0; k < s->msg.len; k++) {
			memcpy(m, s->msg.data, s->msg.len);
			m[k] ^= 0x01;
			veil_status st = run(m, s->msg.len, s->sig.data, s->sig.len, s->values.data,
			                     s->values.len, VEIL_TPM_PCRS_VALUES, &s->ak, NULL, 0, NOW,
			                     v->nonce.data, v->nonce.len, r);
			if (st == VEIL_OK)
				fail_msg("%s: message byte %zu changed, still verifies", keys[i], k);
		}
		/* Where the quote still parses, it is the signature that fails. */
		memcpy(m, s->msg.data, s->msg.len);
		m[80] ^= 0x01; /* clockInfo */
		assert_int_equal(run(m, s->msg.len, s->sig.data, s->sig.len, s->values.data, s->values.len,
		                     VEIL_TPM_PCRS_VALUES, &s->ak, NULL, 0, NOW, v->nonce.data, v->nonce.len,
		                     r),
		                 VEIL_E_AUTH);
	}
	free(r);
}

static void test_every_signature_byte(void **state)
{
	vec *v = *state;
	veil_tpm_result *r = new_result();
	for (size_t i = 0; i < NKEYS; i++) {
		const sample *s = &v->s[i];
		uint8_t g[VEIL_TPM_SIG_MAX];
		for (size_t k = 0; k < s->sig.len; k++) {
			memcpy(g, s->sig.data, s->sig.len);
			g[k] ^= 0x01;
			veil_status st = run(s->msg.data, s->msg.len, g, s->sig.len, s->values.data,
			                     s->values.len, VEIL_TPM_PCRS_VALUES, &s->ak, NULL, 0, NOW,
			                     v->nonce.data, v->nonce.len, r);
			if (st == VEIL_OK)
				fail_msg("%s: signature byte %zu changed, still verifies", keys[i], k);
			/* Past the header and the TPM2B sizes (ECDSA S's at 38): the value itself is wrong.
			 */
			bool size_byte = k < 6 || (i == 2 && (k == 38 || k == 39));
			if (!size_byte && st != VEIL_E_AUTH)
				fail_msg("%s: signature byte %zu changed: %s, not auth", keys[i], k,
				         veil_status_str(st));
		}
	}
	free(r);
}

/* Each byte of a PCR value is covered by pcrDigest (denied); the
 * serialized file's structure bytes are checked against the quote (invalid),
 * all but the compiler's padding byte of each used selection slot. */
static void test_every_pcr_byte(void **state)
{
	vec *v = *state;
	veil_tpm_result *r = new_result();
	const sample *s = &v->s[0];
	uint8_t b[VEIL_TPM_PCRS_FILE_MAX];
	for (size_t k = 0; k < s->values.len; k++) {
		memcpy(b, s->values.data, s->values.len);
		b[k] ^= 0x80;
		assert_int_equal(run(s->msg.data, s->msg.len, s->sig.data, s->sig.len, b, s->values.len,
		                     VEIL_TPM_PCRS_VALUES, &s->ak, NULL, 0, NOW, v->nonce.data, v->nonce.len,
		                     r),
		                 VEIL_E_DENIED);
	}
	for (size_t k = 0; k < s->serialized.len; k++) {
		if (k == 4 + 7 || k == 4 + 8 + 7)
			continue; /* padding of the two used TPMS_PCR_SELECTION slots */
		memcpy(b, s->serialized.data, s->serialized.len);
		b[k] ^= 0x80;
		veil_status st =
		        run(s->msg.data, s->msg.len, s->sig.data, s->sig.len, b, s->serialized.len,
		            VEIL_TPM_PCRS_SERIALIZED, &s->ak, NULL, 0, NOW, v->nonce.data, v->nonce.len, r);
		if (st != VEIL_E_DENIED && st != VEIL_E_INVALID)
			fail_msg("serialized byte %zu changed: %s", k, veil_status_str(st));
	}
	free(r);
}

/* Every prefix of each input, and each input with one byte more, is refused. */
static void test_truncations(void **state)
{
	vec *v = *state;
	veil_tpm_result *r = new_result();
	const sample *s = &v->s[2];
	uint8_t b[VEIL_TPM_PCRS_FILE_MAX + 1];
	const veil_buf *parts[3] = {&s->msg, &s->sig, &s->serialized};
	for (int part = 0; part < 3; part++) {
		for (size_t n = 0; n <= parts[part]->len + 1; n++) {
			if (n == parts[part]->len)
				continue;
			memset(b, 0, sizeof b);
			memcpy(b, parts[part]->data, n < parts[part]->len ? n : parts[part]->len);
			const uint8_t *in[3] = {s->msg.data, s->sig.data, s->serialized.data};
			size_t len[3] = {s->msg.len, s->sig.len, s->serialized.len};
			in[part] = b;
			len[part] = n;
			veil_status st =
			        run(in[0], len[0], in[1], len[1], in[2], len[2], VEIL_TPM_PCRS_SERIALIZED,
			            &s->ak, NULL, 0, NOW, v->nonce.data, v->nonce.len, r);
			if (st != VEIL_E_INVALID)
				fail_msg("part %d cut to %zu bytes: %s", part, n, veil_status_str(st));
		}
	}
	/* The values file too, in both directions, and the parsers on their own. */
	for (size_t n = 0; n < s->values.len; n++)
		assert_int_equal(run(s->msg.data, s->msg.len, s->sig.data, s->sig.len, s->values.data, n,
		                     VEIL_TPM_PCRS_VALUES, &s->ak, NULL, 0, NOW, v->nonce.data, v->nonce.len,
		                     r),
		                 VEIL_E_INVALID);
	veil_tpm_quote q;
	veil_err err = {0};
	assert_int_equal(veil_tpm_quote_parse(NULL, 10, &q, &err), VEIL_E_INVALID);
	uint8_t big[VEIL_TPM_ATTEST_MAX + 1] = {0};
	memcpy(big, s->msg.data, s->msg.len);
	assert_int_equal(veil_tpm_quote_parse(big, sizeof big, &q, &err), VEIL_E_INVALID);
	assert_int_equal(q.raw_len, 0);
	free(r);
}

static void test_nonce(void **state)
{
	vec *v = *state;
	veil_tpm_result *r = new_result();
	const sample *s = &v->s[0];
	uint8_t n[VEIL_TPM_DATA_MAX + 1];
	memcpy(n, v->nonce.data, v->nonce.len);
	for (size_t k = 0; k < v->nonce.len; k++) {
		n[k] ^= 0x01;
		assert_int_equal(run(s->msg.data, s->msg.len, s->sig.data, s->sig.len, s->values.data,
		                     s->values.len, VEIL_TPM_PCRS_VALUES, &s->ak, NULL, 0, NOW, n,
		                     v->nonce.len, r),
		                 VEIL_E_DENIED);
		n[k] ^= 0x01;
	}
	/* A prefix or an extension of the nonce is another nonce. */
	n[v->nonce.len] = 0;
	assert_int_equal(run(s->msg.data, s->msg.len, s->sig.data, s->sig.len, s->values.data, s->values.len,
	                     VEIL_TPM_PCRS_VALUES, &s->ak, NULL, 0, NOW, n, v->nonce.len - 1, r),
	                 VEIL_E_DENIED);
	assert_int_equal(run(s->msg.data, s->msg.len, s->sig.data, s->sig.len, s->values.data, s->values.len,
	                     VEIL_TPM_PCRS_VALUES, &s->ak, NULL, 0, NOW, n, v->nonce.len + 1, r),
	                 VEIL_E_DENIED);
	/* No nonce proves no freshness; one longer than extraData can hold is malformed. */
	assert_int_equal(run(s->msg.data, s->msg.len, s->sig.data, s->sig.len, s->values.data, s->values.len,
	                     VEIL_TPM_PCRS_VALUES, &s->ak, NULL, 0, NOW, NULL, 0, r),
	                 VEIL_E_INVALID);
	assert_int_equal(run(s->msg.data, s->msg.len, s->sig.data, s->sig.len, s->values.data, s->values.len,
	                     VEIL_TPM_PCRS_VALUES, &s->ak, NULL, 0, NOW, n, VEIL_TPM_DATA_MAX + 1, r),
	                 VEIL_E_INVALID);
	free(r);
}

static void test_other_ak(void **state)
{
	vec *v = *state;
	veil_tpm_result *r = new_result();
	for (size_t i = 0; i < NKEYS; i++) {
		const sample *s = &v->s[i];
		const veil_buf *aks[NKEYS + 1] = {&v->s[0].ak, &v->s[1].ak, &v->s[2].ak, &v->other_ak};
		for (size_t a = 0; a < NKEYS + 1; a++) {
			if (a == i)
				continue;
			veil_status st = run(s->msg.data, s->msg.len, s->sig.data, s->sig.len, s->values.data,
			                     s->values.len, VEIL_TPM_PCRS_VALUES, aks[a], NULL, 0, NOW,
			                     v->nonce.data, v->nonce.len, r);
			if (st != VEIL_E_AUTH)
				fail_msg("%s quote with AK %zu: %s, not auth", keys[i], a,
				         veil_status_str(st));
		}
	}
	/* Not a key at all. */
	static const char junk_pem[] = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
	veil_buf junk = {(uint8_t *)junk_pem, sizeof junk_pem - 1, 0};
	assert_int_equal(run_sample(v, &(sample){junk, v->s[0].msg, v->s[0].sig, v->s[0].values, {0}}, r),
	                 VEIL_E_INVALID);
	free(r);
}

/* Copy of a sample message with a few bytes set. */
static veil_status edited_quote(const vec *v, size_t off, const uint8_t *bytes, size_t n, veil_err *err)
{
	const sample *s = &v->s[0];
	uint8_t m[VEIL_TPM_ATTEST_MAX];
	veil_tpm_quote q;
	memcpy(m, s->msg.data, s->msg.len);
	memcpy(m + off, bytes, n);
	return veil_tpm_quote_parse(m, s->msg.len, &q, err);
}

static void test_unsupported_and_bounds(void **state)
{
	vec *v = *state;
	veil_err err = {0};
	/* Offsets in the sample: magic 0, type 4, signer 6 (2+34), extraData 42 (2+32),
	 * clockInfo 76 (17), firmware 93, selection 101: count, then sha256 bank at 105, sha1 at 111. */
	assert_int_equal(edited_quote(v, 0, (const uint8_t[]){0xff, 0x54, 0x43, 0x48}, 4, &err),
	                 VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "TPM_GENERATED_VALUE"));
	assert_int_equal(edited_quote(v, 4, (const uint8_t[]){0x80, 0x17}, 2, &err), VEIL_E_UNSUPPORTED);
	assert_int_equal(edited_quote(v, 92, (const uint8_t[]){2}, 1, &err), VEIL_E_INVALID); /* safe */
	assert_int_equal(edited_quote(v, 101, (const uint8_t[]){0, 0, 0, 9}, 4, &err), VEIL_E_INVALID);
	assert_int_equal(edited_quote(v, 101, (const uint8_t[]){0, 0, 0, 0}, 4, &err), VEIL_E_INVALID);
	assert_int_equal(edited_quote(v, 105, (const uint8_t[]){0x00, 0x12}, 2, &err),
	                 VEIL_E_UNSUPPORTED); /* SM3 */
	assert_int_equal(edited_quote(v, 111, (const uint8_t[]){0x00, 0x0b}, 2, &err),
	                 VEIL_E_INVALID); /* twice */
	assert_non_null(strstr(err.msg, "twice"));
	assert_int_equal(edited_quote(v, 107, (const uint8_t[]){5}, 1, &err),
	                 VEIL_E_INVALID); /* sizeofSelect */
	assert_int_equal(edited_quote(v, 107, (const uint8_t[]){0}, 1, &err), VEIL_E_INVALID);
	assert_int_equal(edited_quote(v, 6, (const uint8_t[]){0x00, 0x43}, 2, &err),
	                 VEIL_E_INVALID); /* 67 > 66 */
	assert_int_equal(edited_quote(v, 42, (const uint8_t[]){0xff, 0xff}, 2, &err), VEIL_E_INVALID);

	veil_tpm_signature sig;
	const sample *s = &v->s[0];
	uint8_t g[VEIL_TPM_SIG_MAX];
	const struct {
		size_t off;
		uint8_t b[2];
		veil_status want;
	} rows[] = {
	        {0, {0x00, 0x05}, VEIL_E_UNSUPPORTED}, /* HMAC */
	        {0, {0x00, 0x1a}, VEIL_E_UNSUPPORTED}, /* ECSCHNORR */
	        {2, {0x00, 0x04}, VEIL_E_UNSUPPORTED}, /* SHA-1 */
	        {2, {0x00, 0x12}, VEIL_E_UNSUPPORTED}, /* SM3 */
	        {4, {0x02, 0x01}, VEIL_E_INVALID},     /* 513 > 512 */
	        {4, {0x00, 0x00}, VEIL_E_INVALID},     /* empty */
	        {4, {0x00, 0xff}, VEIL_E_INVALID},     /* trailing byte */
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		memcpy(g, s->sig.data, s->sig.len);
		memcpy(g + rows[i].off, rows[i].b, 2);
		assert_int_equal(veil_tpm_signature_parse(g, s->sig.len, &sig, &err), rows[i].want);
		assert_int_equal(sig.sig_alg, 0);
	}
	assert_int_equal(veil_tpm_signature_parse(g, 0, &sig, &err), VEIL_E_INVALID);
	/* PCR files need a parsed quote, and AUTO refuses a length that fits neither. */
	veil_tpm_pcrs pcrs;
	veil_tpm_quote q;
	assert_int_equal(
	        veil_tpm_pcrs_parse(s->values.data, s->values.len, VEIL_TPM_PCRS_VALUES, NULL, &pcrs, &err),
	        VEIL_E_INVALID);
	assert_int_equal(veil_tpm_quote_parse(s->msg.data, s->msg.len, &q, &err), VEIL_OK);
	assert_int_equal(
	        veil_tpm_pcrs_parse(s->values.data, s->values.len - 1, VEIL_TPM_PCRS_AUTO, &q, &pcrs, &err),
	        VEIL_E_INVALID);
	assert_int_equal(
	        veil_tpm_pcrs_parse(s->values.data, s->values.len, (veil_tpm_pcrs_format)7, &q, &pcrs, &err),
	        VEIL_E_INVALID);
	assert_int_equal(pcrs.n, 0);
	/* A values file is not a serialized one, nor the reverse. */
	assert_int_equal(
	        veil_tpm_pcrs_parse(s->values.data, s->values.len, VEIL_TPM_PCRS_SERIALIZED, &q, &pcrs, &err),
	        VEIL_E_INVALID);
	assert_int_equal(veil_tpm_pcrs_parse(s->serialized.data, s->serialized.len, VEIL_TPM_PCRS_VALUES, &q,
	                                     &pcrs, &err),
	                 VEIL_E_INVALID);
}

/* ---- AK certificates: a CA made here issues one for the RSA sample AK ---- */

static EVP_PKEY *ec_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	assert_non_null(k);
	return k;
}

static X509 *make_cert(EVP_PKEY *subject, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, long from,
                       long days, bool ca)
{
	X509 *x = X509_new();
	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_NAME *name = X509_get_subject_name(x);
	assert_int_equal(
	        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0),
	        1);
	assert_int_equal(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name), 1);
	assert_non_null(X509_time_adj_ex(X509_getm_notBefore(x), 0, from, NULL));
	assert_non_null(X509_time_adj_ex(X509_getm_notAfter(x), (int)days, from, NULL));
	assert_int_equal(X509_set_pubkey(x, subject), 1);
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	X509_EXTENSION *ext =
	        X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, ca ? "keyCertSign" : "digitalSignature");
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
	return x;
}

static char *pem_of(X509 *x, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	assert_non_null(b);
	assert_int_equal(PEM_write_bio_X509(b, x), 1);
	char *p = NULL;
	long n = BIO_get_mem_data(b, &p);
	char *out = malloc((size_t)n + 1);
	assert_non_null(out);
	memcpy(out, p, (size_t)n);
	out[n] = '\0';
	*len = (size_t)n;
	BIO_free(b);
	return out;
}

static EVP_PKEY *pem_pubkey(const veil_buf *pem)
{
	BIO *b = BIO_new_mem_buf(pem->data, (int)pem->len);
	EVP_PKEY *k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	assert_non_null(k);
	return k;
}

static void test_ak_certificate(void **state)
{
	vec *v = *state;
	veil_tpm_result *r = new_result();
	const sample *s = &v->s[0];
	EVP_PKEY *ca_key = ec_key(), *other_ca_key = ec_key(), *ak = pem_pubkey(&s->ak),
	         *other_ak = pem_pubkey(&v->other_ak);
	time_t now = (time_t)veil_time_now();
	/* Valid from an hour before `now`: a certificate made in a later second
	 * than `now` was read (a slow, sanitized run) must not be "not valid yet". */
	X509 *ca = make_cert(ca_key, "veil test AK CA", NULL, ca_key, -3600, 30, true);
	X509 *other_ca = make_cert(other_ca_key, "veil test AK CA", NULL, other_ca_key, -3600, 30, true);
	X509 *cert = make_cert(ak, "veil test AK", ca, ca_key, -3600, 10, false);
	X509 *wrong = make_cert(other_ak, "veil test AK", ca, ca_key, -3600, 10, false);
	size_t ca_len = 0, other_len = 0, cert_len = 0, wrong_len = 0;
	char *ca_pem = pem_of(ca, &ca_len), *other_pem = pem_of(other_ca, &other_len);
	char *cert_pem = pem_of(cert, &cert_len), *wrong_pem = pem_of(wrong, &wrong_len);
	veil_buf certb = {(uint8_t *)cert_pem, cert_len, 0}, wrongb = {(uint8_t *)wrong_pem, wrong_len, 0};

	assert_int_equal(run(s->msg.data, s->msg.len, s->sig.data, s->sig.len, s->values.data, s->values.len,
	                     VEIL_TPM_PCRS_VALUES, &certb, ca_pem, ca_len, now, v->nonce.data, v->nonce.len,
	                     r),
	                 VEIL_OK);
	assert_true(r->ak_certified);
	/* Another CA (same name, other key), a time after the AK certificate expired or before it began. */
	assert_int_equal(run(s->msg.data, s->msg.len, s->sig.data, s->sig.len, s->values.data, s->values.len,
	                     VEIL_TPM_PCRS_VALUES, &certb, other_pem, other_len, now, v->nonce.data,
	                     v->nonce.len, r),
	                 VEIL_E_CORRUPT);
	assert_int_equal(run(s->msg.data, s->msg.len, s->sig.data, s->sig.len, s->values.data, s->values.len,
	                     VEIL_TPM_PCRS_VALUES, &certb, ca_pem, ca_len, now + 20 * 86400, v->nonce.data,
	                     v->nonce.len, r),
	                 VEIL_E_CORRUPT);
	assert_int_equal(run(s->msg.data, s->msg.len, s->sig.data, s->sig.len, s->values.data, s->values.len,
	                     VEIL_TPM_PCRS_VALUES, &certb, ca_pem, ca_len, now - 86400, v->nonce.data,
	                     v->nonce.len, r),
	                 VEIL_E_CORRUPT);
	/* A genuine certificate for another AK: the chain holds, the signature does not. */
	assert_int_equal(run(s->msg.data, s->msg.len, s->sig.data, s->sig.len, s->values.data, s->values.len,
	                     VEIL_TPM_PCRS_VALUES, &wrongb, ca_pem, ca_len, now, v->nonce.data, v->nonce.len,
	                     r),
	                 VEIL_E_AUTH);
	/* A bare key where a certificate is expected, and no CA text. */
	assert_int_equal(run(s->msg.data, s->msg.len, s->sig.data, s->sig.len, s->values.data, s->values.len,
	                     VEIL_TPM_PCRS_VALUES, &s->ak, ca_pem, ca_len, now, v->nonce.data, v->nonce.len,
	                     r),
	                 VEIL_E_INVALID);
	assert_int_equal(run(s->msg.data, s->msg.len, s->sig.data, s->sig.len, s->values.data, s->values.len,
	                     VEIL_TPM_PCRS_VALUES, &certb, ca_pem, 0, now, v->nonce.data, v->nonce.len, r),
	                 VEIL_E_INVALID);
	free(ca_pem);
	free(other_pem);
	free(cert_pem);
	free(wrong_pem);
	X509_free(ca);
	X509_free(other_ca);
	X509_free(cert);
	X509_free(wrong);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(other_ca_key);
	EVP_PKEY_free(ak);
	EVP_PKEY_free(other_ak);
	free(r);
}

static void test_claims(void **state)
{
	vec *v = *state;
	veil_tpm_result *r = new_result();
	veil_attest_claims c;
	veil_err err = {0};
	/* Nobody's result claims nothing. */
	assert_int_equal(veil_attest_claims_from_tpm(r, NOW, NULL, &c, &err), VEIL_E_INVALID);
	assert_int_equal(c.tee, VEIL_TEE_UNKNOWN);
	assert_int_equal(c.vmpl, -1);
	assert_int_equal(veil_attest_claims_from_tpm(NULL, NOW, NULL, &c, &err), VEIL_E_INVALID);

	assert_int_equal(run_sample(v, &v->s[0], r), VEIL_OK);
	assert_int_equal(veil_attest_claims_from_tpm(r, NOW, "bad region!", &c, &err), VEIL_E_INVALID);
	assert_int_equal(veil_attest_claims_from_tpm(r, NOW, "eu-west", &c, &err), VEIL_OK);
	assert_int_equal(c.tee, VEIL_TEE_VTPM);
	assert_false(c.simulated);
	assert_int_equal(c.measurement_len, 32);
	assert_memory_equal(c.measurement, r->quote.pcr_digest, 32);
	assert_int_equal(c.debug, VEIL_DEBUG_UNKNOWN);
	assert_int_equal(c.vmpl, -1);
	assert_int_equal(c.ntcb, 1);
	assert_string_equal(c.tcb[0].name, "firmware");
	assert_int_equal(c.tcb[0].value, UINT64_C(0x2019102300163636));
	assert_int_equal(c.evidence_time, NOW);
	assert_string_equal(c.region, "eu-west");

	/* A release policy: vtpm evidence passes only where debug is allowed, since a vTPM cannot say. */
	char hex[2 * 32 + 1], text[512];
	veil_hex_encode(c.measurement, 32, hex);
	const char *debug[2] = {"allowed", "forbidden"};
	for (int i = 0; i < 2; i++) {
		assert_int_equal(
		        veil_fmt(text, sizeof text, &err,
		                 "version: 1\ntee: [vtpm]\nmeasurements: [%s]\ndebug: %s\nmax_age: 5m\n", hex,
		                 debug[i]),
		        VEIL_OK);
		veil_release_policy *p = NULL;
		veil_release_result rr;
		assert_int_equal(veil_release_policy_parse(text, strlen(text), &p, &err), VEIL_OK);
		veil_status st = veil_release_policy_eval(p, &c, NOW + 60, &rr, &err);
		if (i == 0) {
			assert_int_equal(st, VEIL_OK);
		} else {
			assert_int_equal(st, VEIL_E_DENIED);
			assert_int_equal(rr.nfailed, 1);
			assert_string_equal(rr.failed[0].clause, "debug");
		}
		veil_release_policy_free(p);
	}
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse_fields),
	        cmocka_unit_test(test_known_good),
	        cmocka_unit_test(test_every_message_byte),
	        cmocka_unit_test(test_every_signature_byte),
	        cmocka_unit_test(test_every_pcr_byte),
	        cmocka_unit_test(test_truncations),
	        cmocka_unit_test(test_nonce),
	        cmocka_unit_test(test_other_ak),
	        cmocka_unit_test(test_unsupported_and_bounds),
	        cmocka_unit_test(test_ak_certificate),
	        cmocka_unit_test(test_claims),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
