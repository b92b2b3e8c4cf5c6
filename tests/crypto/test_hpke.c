/*
 * Unit tests for HPKE (RFC 9180) base mode: every mode_base case of the
 * RFC's Appendix A vectors for DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 with
 * AES-128-GCM and ChaCha20-Poly1305, read from
 * $VEIL_SOURCE_ROOT/../shared/vectors/hpke-rfc9180-x25519-base.txt; then
 * AES-256-GCM (veil's suite, which has no published vector) through the
 * same path: round trips, every kind of tampering refused, and output that
 * differs from AES-128-GCM's for the same inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "veil/crypto.h"

/* The vector file holds one mode_base section per AEAD we test. */
#define BASE_CASES_EXPECTED 2
#define MAX_ENCS            16
#define MAX_EXPORTS         8
#define HEX_MAX             256 /* bytes of any one value in the file */

/* ---- the vector file ---- */

typedef struct bytes {
	uint8_t b[HEX_MAX];
	size_t n;
	bool set;
} bytes;

typedef struct enc_case {
	uint64_t seq;
	bytes pt, aad, nonce, ct;
} enc_case;

typedef struct exp_case {
	bytes ctx;
	size_t L;
	bytes value;
} exp_case;

typedef struct suite_case {
	unsigned mode, kem_id, kdf_id, aead_id;
	bytes info, ikmE, pkEm, skEm, ikmR, pkRm, skRm, enc, shared_secret, key, base_nonce, exporter_secret;
	enc_case encs[MAX_ENCS];
	size_t n_encs;
	exp_case exps[MAX_EXPORTS];
	size_t n_exps;
} suite_case;

typedef struct vector_file {
	suite_case cases[8];
	size_t n;
} vector_file;

static bool is_hex_line(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr("0123456789abcdefABCDEF", *s))
			return false;
	return true;
}

static void append_hex(bytes *v, const char *hex)
{
	size_t n = strlen(hex);
	assert_true(n % 2 == 0);
	assert_true(v->n + n / 2 <= HEX_MAX);
	assert_int_equal(veil_hex_decode(hex, v->b + v->n, n / 2, NULL), VEIL_OK);
	v->n += n / 2;
}

static unsigned long parse_uint(const char *text)
{
	char *end = NULL;
	unsigned long x = strtoul(text, &end, 10);
	assert_true(end != text && *end == '\0');
	return x;
}

/* Where a "name: value" line's value goes in the case being read. */
static bytes *field(suite_case *c, const char *name, bool in_encs, bool in_exps)
{
	if (in_encs && c->n_encs) {
		enc_case *e = &c->encs[c->n_encs - 1];
		if (!strcmp(name, "pt"))
			return &e->pt;
		if (!strcmp(name, "aad"))
			return &e->aad;
		if (!strcmp(name, "nonce"))
			return &e->nonce;
		if (!strcmp(name, "ct"))
			return &e->ct;
	}
	if (in_exps && c->n_exps) {
		exp_case *x = &c->exps[c->n_exps - 1];
		if (!strcmp(name, "exporter_context"))
			return &x->ctx;
		if (!strcmp(name, "exported_value"))
			return &x->value;
	}
	static const struct {
		const char *name;
		size_t off;
	} top[] = {
	        {"info", offsetof(suite_case, info)},
	        {"ikmE", offsetof(suite_case, ikmE)},
	        {"pkEm", offsetof(suite_case, pkEm)},
	        {"skEm", offsetof(suite_case, skEm)},
	        {"ikmR", offsetof(suite_case, ikmR)},
	        {"pkRm", offsetof(suite_case, pkRm)},
	        {"skRm", offsetof(suite_case, skRm)},
	        {"enc", offsetof(suite_case, enc)},
	        {"shared_secret", offsetof(suite_case, shared_secret)},
	        {"key", offsetof(suite_case, key)},
	        {"base_nonce", offsetof(suite_case, base_nonce)},
	        {"exporter_secret", offsetof(suite_case, exporter_secret)},
	};
	for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
		if (!strcmp(name, top[i].name))
			return (bytes *)((char *)c + top[i].off);
	return NULL; /* key_schedule_context, secret, psk...: not checked */
}

/* Reads the RFC 9180 appendix text: "## " starts a suite, "mode:" a setup,
 * "#### Encryptions" and "#### Exported Values" their lists. A value may
 * follow its name on the same line and continue on lines of bare hex, or
 * start on the next line; "name:" with nothing after it is empty. */
static void parse_vectors(const char *text, vector_file *vf)
{
	char line[512];
	suite_case *c = NULL;
	bytes *cur = NULL;
	bool in_encs = false, in_exps = false;
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		assert_true(len < sizeof line);
		memcpy(line, p, len);
		line[len] = '\0';
		while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
			line[--len] = '\0';
		p = nl ? nl + 1 : p + len;

		if (!strncmp(line, "mode:", 5)) {
			assert_true(vf->n < sizeof vf->cases / sizeof vf->cases[0]);
			c = &vf->cases[vf->n++];
			memset(c, 0, sizeof *c);
			c->mode = (unsigned)parse_uint(line + 6);
			in_encs = in_exps = false;
			cur = NULL;
			continue;
		}
		if (!c)
			continue;
		if (!strncmp(line, "#", 1)) {
			in_encs = strstr(line, "Encryptions") != NULL;
			in_exps = strstr(line, "Exported Values") != NULL;
			cur = NULL;
			continue;
		}
		if (!strcmp(line, "~~~") || !len) {
			cur = NULL;
			continue;
		}
		if (cur && is_hex_line(line)) {
			append_hex(cur, line);
			continue;
		}
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		const char *name = line, *value = colon + 1;
		while (*value == ' ')
			value++;
		cur = NULL;
		if (!strcmp(name, "kem_id")) {
			c->kem_id = (unsigned)parse_uint(value);
		} else if (!strcmp(name, "kdf_id")) {
			c->kdf_id = (unsigned)parse_uint(value);
		} else if (!strcmp(name, "aead_id")) {
			c->aead_id = (unsigned)parse_uint(value);
		} else if (in_encs && !strcmp(name, "sequence number")) {
			assert_true(c->n_encs < MAX_ENCS);
			c->encs[c->n_encs++].seq = parse_uint(value);
		} else if (in_exps && !strcmp(name, "exporter_context")) {
			assert_true(c->n_exps < MAX_EXPORTS);
			c->n_exps++;
			cur = field(c, name, in_encs, in_exps);
		} else if (in_exps && !strcmp(name, "L")) {
			assert_true(c->n_exps > 0);
			c->exps[c->n_exps - 1].L = parse_uint(value);
		} else {
			cur = field(c, name, in_encs, in_exps);
		}
		if (cur) {
			cur->set = true;
			if (*value)
				append_hex(cur, value);
		}
	}
}

static void load_vectors(vector_file *vf)
{
	const char *root = getenv("VEIL_SOURCE_ROOT");
	if (!root)
		fail_msg(
		        "VEIL_SOURCE_ROOT is not set: run through `meson test` or set it to the source tree");
	char path[4096];
	int n = snprintf(path, sizeof path, "%s/../shared/vectors/hpke-rfc9180-x25519-base.txt", root);
	assert_true(n > 0 && (size_t)n < sizeof path);
	veil_buf file = {0};
	veil_err err = {0};
	if (veil_fs_read_file(path, 1u << 20, &file, &err) != VEIL_OK)
		fail_msg("cannot read %s: %s", path, err.msg);
	assert_int_equal(veil_buf_append(&file, "", 1, NULL), VEIL_OK); /* NUL-terminate */
	memset(vf, 0, sizeof *vf);
	parse_vectors((const char *)file.data, vf);
	veil_buf_free(&file);
}

/* The mode_base cases for our KEM and KDF, which is all this module does. */
static size_t base_cases(const vector_file *vf, const suite_case **out, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i < vf->n; i++) {
		const suite_case *c = &vf->cases[i];
		if (c->mode != 0 || veil_hpke_suite_check(c->kem_id, c->kdf_id, c->aead_id, NULL) != VEIL_OK)
			continue;
		assert_true(k < cap);
		out[k++] = c;
	}
	return k;
}

static void assert_bytes(const uint8_t *got, const bytes *want, size_t n)
{
	assert_true(want->set);
	assert_int_equal(want->n, n);
	assert_memory_equal(got, want->b, n);
}

/* ---- known answers ---- */

static void test_vector_file(void **state)
{
	(void)state;
	vector_file *vf = malloc(sizeof *vf);
	assert_non_null(vf);
	load_vectors(vf);
	const suite_case *cases[8];
	size_t n = base_cases(vf, cases, 8);
	/* Too few cases would let a broken parser pass every other test. */
	assert_int_equal(n, BASE_CASES_EXPECTED);
	bool aes128 = false, chacha = false;
	for (size_t i = 0; i < n; i++) {
		aes128 |= cases[i]->aead_id == VEIL_HPKE_AEAD_AES128_GCM;
		chacha |= cases[i]->aead_id == VEIL_HPKE_AEAD_CHACHA20;
		assert_int_equal(cases[i]->n_encs, 6);
		assert_int_equal(cases[i]->n_exps, 3);
		assert_true(cases[i]->encs[5].seq == 256);
		assert_int_equal(cases[i]->exps[0].ctx.n, 0); /* the empty exporter context */
		assert_true(cases[i]->exps[0].ctx.set);
		assert_int_equal(cases[i]->enc.n, VEIL_HPKE_ENC_LEN);
	}
	assert_true(aes128 && chacha);
	free(vf);
}

static void check_keypairs(const suite_case *c)
{
	uint8_t *sk = veil_secure_alloc(VEIL_HPKE_SK_LEN);
	uint8_t pk[VEIL_HPKE_PK_LEN];
	assert_non_null(sk);
	assert_int_equal(veil_hpke_derive_keypair(c->ikmE.b, c->ikmE.n, sk, pk, NULL), VEIL_OK);
	assert_bytes(sk, &c->skEm, VEIL_HPKE_SK_LEN);
	assert_bytes(pk, &c->pkEm, VEIL_HPKE_PK_LEN);
	assert_int_equal(veil_hpke_derive_keypair(c->ikmR.b, c->ikmR.n, sk, pk, NULL), VEIL_OK);
	assert_bytes(sk, &c->skRm, VEIL_HPKE_SK_LEN);
	assert_bytes(pk, &c->pkRm, VEIL_HPKE_PK_LEN);
	veil_secure_free(sk, VEIL_HPKE_SK_LEN);
}

/* The listed encryptions: seq 0, 1, 2, 4, 255, 256. The sender skips to
 * each; the receiver opens the sender's output at the same numbers. The
 * nonce is base_nonce XOR seq, so the ciphertexts at several numbers prove
 * key and base_nonce both. */
static void check_encryptions(const suite_case *c, veil_hpke_ctx *s, veil_hpke_ctx *r)
{
	uint8_t ct[HEX_MAX], pt[HEX_MAX];
	for (size_t i = 0; i < c->n_encs; i++) {
		const enc_case *e = &c->encs[i];
		assert_int_equal(veil_hpke_skip_to(s, e->seq, NULL), VEIL_OK);
		assert_int_equal(veil_hpke_skip_to(r, e->seq, NULL), VEIL_OK);
		assert_true(e->pt.n + VEIL_HPKE_TAG_LEN <= sizeof ct);
		assert_int_equal(veil_hpke_seal(s, e->aad.b, e->aad.n, e->pt.b, e->pt.n, ct, NULL), VEIL_OK);
		assert_bytes(ct, &e->ct, e->pt.n + VEIL_HPKE_TAG_LEN);
		assert_true(veil_hpke_seq(s) == e->seq + 1);
		assert_int_equal(veil_hpke_open(r, e->aad.b, e->aad.n, e->ct.b, e->ct.n, pt, NULL), VEIL_OK);
		assert_bytes(pt, &e->pt, e->pt.n);
		assert_true(veil_hpke_seq(r) == e->seq + 1);
	}
}

static void check_exports(const suite_case *c, const veil_hpke_ctx *s, const veil_hpke_ctx *r)
{
	uint8_t a[HEX_MAX], b[HEX_MAX];
	for (size_t i = 0; i < c->n_exps; i++) {
		const exp_case *x = &c->exps[i];
		assert_true(x->L <= sizeof a);
		assert_int_equal(veil_hpke_export(s, x->ctx.b, x->ctx.n, x->L, a, NULL), VEIL_OK);
		assert_bytes(a, &x->value, x->L);
		assert_int_equal(veil_hpke_export(r, x->ctx.b, x->ctx.n, x->L, b, NULL), VEIL_OK);
		assert_bytes(b, &x->value, x->L);
	}
}

static void test_rfc9180_base(void **state)
{
	(void)state;
	vector_file *vf = malloc(sizeof *vf);
	assert_non_null(vf);
	load_vectors(vf);
	const suite_case *cases[8];
	size_t n = base_cases(vf, cases, 8);
	assert_int_equal(n, BASE_CASES_EXPECTED);
	for (size_t i = 0; i < n; i++) {
		const suite_case *c = cases[i];
		check_keypairs(c);
		uint8_t enc[VEIL_HPKE_ENC_LEN];
		veil_hpke_ctx *s = NULL, *r = NULL;
		veil_err err = {0};
		assert_int_equal(veil_hpke_setup_sender_derand(c->aead_id, c->pkRm.b, c->info.b, c->info.n,
		                                               c->ikmE.b, c->ikmE.n, enc, &s, &err),
		                 VEIL_OK);
		assert_bytes(enc, &c->enc, VEIL_HPKE_ENC_LEN);
		assert_int_equal(veil_hpke_setup_receiver(c->aead_id, c->skRm.b, c->enc.b, c->info.b,
		                                          c->info.n, &r, &err),
		                 VEIL_OK);
		check_encryptions(c, s, r);
		check_exports(c, s, r);
		veil_hpke_free(s);
		veil_hpke_free(r);
	}
	free(vf);
}

/* ---- AES-256-GCM: the same path, and tampering ---- */

static const uint8_t info[] = "veil key release v1";
static const uint8_t aad[] = "dek:owner/alice:v3";
static const uint8_t msg[] = "a 32-byte data key wrapped here.";

typedef struct keypair {
	uint8_t *sk; /* secure memory */
	uint8_t pk[VEIL_HPKE_PK_LEN];
} keypair;

static void keypair_new(keypair *kp, uint8_t seed)
{
	uint8_t ikm[32];
	memset(ikm, seed, sizeof ikm);
	kp->sk = veil_secure_alloc(VEIL_HPKE_SK_LEN);
	assert_non_null(kp->sk);
	assert_int_equal(veil_hpke_derive_keypair(ikm, sizeof ikm, kp->sk, kp->pk, NULL), VEIL_OK);
}

static void keypair_free(keypair *kp)
{
	veil_secure_free(kp->sk, VEIL_HPKE_SK_LEN);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void assert_auth_fail(veil_status st, const veil_err *e, const uint8_t *pt, size_t n)
{
	assert_int_equal(st, VEIL_E_AUTH);
	assert_int_equal(e->code, VEIL_E_AUTH);
	assert_true(e->msg[0] != '\0');
	assert_true(all_zero(pt, n)); /* no unauthenticated plaintext escapes */
	assert_int_equal(ERR_peek_error(), 0);
}

#define N_MSG 3

static void test_aes256_roundtrip(void **state)
{
	(void)state;
	keypair kp;
	keypair_new(&kp, 1);
	uint8_t enc[VEIL_HPKE_ENC_LEN], ct[N_MSG][sizeof msg + VEIL_HPKE_TAG_LEN], pt[sizeof msg];
	veil_hpke_ctx *s = NULL, *r = NULL;
	assert_int_equal(
	        veil_hpke_setup_sender(VEIL_HPKE_AEAD_AES256_GCM, kp.pk, info, sizeof info, enc, &s, NULL),
	        VEIL_OK);
	for (int i = 0; i < N_MSG; i++)
		assert_int_equal(veil_hpke_seal(s, aad, sizeof aad, msg, sizeof msg, ct[i], NULL), VEIL_OK);
	/* One nonce per message: the same plaintext never gives the same bytes. */
	assert_memory_not_equal(ct[0], ct[1], sizeof ct[0]);
	assert_memory_not_equal(ct[1], ct[2], sizeof ct[0]);
	assert_int_equal(
	        veil_hpke_setup_receiver(VEIL_HPKE_AEAD_AES256_GCM, kp.sk, enc, info, sizeof info, &r, NULL),
	        VEIL_OK);
	for (int i = 0; i < N_MSG; i++) {
		memset(pt, 0, sizeof pt);
		assert_int_equal(veil_hpke_open(r, aad, sizeof aad, ct[i], sizeof ct[i], pt, NULL), VEIL_OK);
		assert_memory_equal(pt, msg, sizeof msg);
	}
	/* Both sides export the same secret, and it depends on the context. */
	uint8_t xs[32], xr[32], other[32];
	assert_int_equal(veil_hpke_export(s, (const uint8_t *)"a", 1, 32, xs, NULL), VEIL_OK);
	assert_int_equal(veil_hpke_export(r, (const uint8_t *)"a", 1, 32, xr, NULL), VEIL_OK);
	assert_int_equal(veil_hpke_export(r, (const uint8_t *)"b", 1, 32, other, NULL), VEIL_OK);
	assert_memory_equal(xs, xr, 32);
	assert_memory_not_equal(xs, other, 32);
	/* Empty message and empty aad work; in-place sealing and opening too. */
	uint8_t buf[sizeof msg + VEIL_HPKE_TAG_LEN];
	assert_int_equal(veil_hpke_seal(s, NULL, 0, NULL, 0, buf, NULL), VEIL_OK);
	assert_int_equal(veil_hpke_open(r, NULL, 0, buf, VEIL_HPKE_TAG_LEN, NULL, NULL), VEIL_OK);
	memcpy(buf, msg, sizeof msg);
	assert_int_equal(veil_hpke_seal(s, aad, sizeof aad, buf, sizeof msg, buf, NULL), VEIL_OK);
	assert_int_equal(veil_hpke_open(r, aad, sizeof aad, buf, sizeof buf, buf, NULL), VEIL_OK);
	assert_memory_equal(buf, msg, sizeof msg);
	veil_hpke_free(s);
	veil_hpke_free(r);

	/* Single shot: enc || ct, opened by the receiver's key alone. */
	uint8_t one[sizeof msg + VEIL_HPKE_SEAL_OVERHEAD];
	assert_int_equal(veil_hpke_seal_base(VEIL_HPKE_AEAD_AES256_GCM, kp.pk, info, sizeof info, aad,
	                                     sizeof aad, msg, sizeof msg, one, NULL),
	                 VEIL_OK);
	memset(pt, 0, sizeof pt);
	assert_int_equal(veil_hpke_open_base(VEIL_HPKE_AEAD_AES256_GCM, kp.sk, info, sizeof info, aad,
	                                     sizeof aad, one, sizeof one, pt, NULL),
	                 VEIL_OK);
	assert_memory_equal(pt, msg, sizeof msg);
	keypair_free(&kp);
}

/* Opens one single-shot message with one thing changed; must be refused. */
static void expect_open_base_auth(unsigned aead, const uint8_t *sk, const uint8_t *inf, size_t inf_len,
                                  const uint8_t *ad, size_t ad_len, const uint8_t *in, size_t in_len)
{
	uint8_t pt[sizeof msg + 1];
	size_t n = in_len - VEIL_HPKE_SEAL_OVERHEAD;
	assert_true(n <= sizeof pt);
	memset(pt, 0xee, sizeof pt);
	veil_err err = {0};
	veil_status st = veil_hpke_open_base(aead, sk, inf, inf_len, ad, ad_len, in, in_len, pt, &err);
	assert_auth_fail(st, &err, pt, n);
}

static void test_aes256_tamper(void **state)
{
	(void)state;
	keypair kp, other;
	keypair_new(&kp, 2);
	keypair_new(&other, 3);
	const unsigned A = VEIL_HPKE_AEAD_AES256_GCM;
	uint8_t one[sizeof msg + VEIL_HPKE_SEAL_OVERHEAD];
	assert_int_equal(
	        veil_hpke_seal_base(A, kp.pk, info, sizeof info, aad, sizeof aad, msg, sizeof msg, one, NULL),
	        VEIL_OK);
	/* Every bit of enc, ciphertext and tag matters. */
	for (size_t i = 0; i < sizeof one; i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			one[i] ^= (uint8_t)(1u << bit);
			uint8_t pt[sizeof msg];
			memset(pt, 0xee, sizeof pt);
			veil_err err = {0};
			veil_status st = veil_hpke_open_base(A, kp.sk, info, sizeof info, aad, sizeof aad,
			                                     one, sizeof one, pt, &err);
			one[i] ^= (uint8_t)(1u << bit);
			/* A changed enc can land on a small-order point only by a
			 * 1-in-2^250 chance: every change must be an auth failure. */
			assert_auth_fail(st, &err, pt, sizeof pt);
		}
	}
	static const uint8_t bad_aad[] = "dek:owner/alice:v4";
	static const uint8_t bad_info[] = "veil key release v2";
	expect_open_base_auth(A, kp.sk, info, sizeof info, bad_aad, sizeof bad_aad, one, sizeof one);
	expect_open_base_auth(A, kp.sk, info, sizeof info, NULL, 0, one, sizeof one);
	expect_open_base_auth(A, kp.sk, bad_info, sizeof bad_info, aad, sizeof aad, one, sizeof one);
	expect_open_base_auth(A, kp.sk, NULL, 0, aad, sizeof aad, one, sizeof one);
	expect_open_base_auth(A, other.sk, info, sizeof info, aad, sizeof aad, one, sizeof one);
	/* Opened under another AEAD: another suite id, so other keys. */
	expect_open_base_auth(VEIL_HPKE_AEAD_AES128_GCM, kp.sk, info, sizeof info, aad, sizeof aad, one,
	                      sizeof one);
	expect_open_base_auth(VEIL_HPKE_AEAD_CHACHA20, kp.sk, info, sizeof info, aad, sizeof aad, one,
	                      sizeof one);
	/* One byte short or long: the tag no longer lines up. */
	expect_open_base_auth(A, kp.sk, info, sizeof info, aad, sizeof aad, one, sizeof one - 1);
	uint8_t longer[sizeof one + 1];
	memcpy(longer, one, sizeof one);
	longer[sizeof one] = 0;
	expect_open_base_auth(A, kp.sk, info, sizeof info, aad, sizeof aad, longer, sizeof longer);

	/* Reordered messages: the second cannot open first, and a failure
	 * leaves the sequence number where it was. */
	uint8_t enc[VEIL_HPKE_ENC_LEN], c0[sizeof msg + VEIL_HPKE_TAG_LEN], c1[sizeof c0], pt[sizeof msg];
	veil_hpke_ctx *s = NULL, *r = NULL;
	assert_int_equal(veil_hpke_setup_sender(A, kp.pk, info, sizeof info, enc, &s, NULL), VEIL_OK);
	assert_int_equal(veil_hpke_seal(s, aad, sizeof aad, msg, sizeof msg, c0, NULL), VEIL_OK);
	assert_int_equal(veil_hpke_seal(s, aad, sizeof aad, msg, sizeof msg, c1, NULL), VEIL_OK);
	assert_int_equal(veil_hpke_setup_receiver(A, kp.sk, enc, info, sizeof info, &r, NULL), VEIL_OK);
	veil_err err = {0};
	memset(pt, 0xee, sizeof pt);
	assert_auth_fail(veil_hpke_open(r, aad, sizeof aad, c1, sizeof c1, pt, &err), &err, pt, sizeof pt);
	assert_true(veil_hpke_seq(r) == 0);
	assert_int_equal(veil_hpke_open(r, aad, sizeof aad, c0, sizeof c0, pt, NULL), VEIL_OK);
	/* A replay of the first is refused too: it is now message 1's turn. */
	memset(pt, 0xee, sizeof pt);
	assert_auth_fail(veil_hpke_open(r, aad, sizeof aad, c0, sizeof c0, pt, &err), &err, pt, sizeof pt);
	assert_int_equal(veil_hpke_open(r, aad, sizeof aad, c1, sizeof c1, pt, NULL), VEIL_OK);
	assert_memory_equal(pt, msg, sizeof msg);
	veil_hpke_free(s);
	veil_hpke_free(r);
	keypair_free(&kp);
	keypair_free(&other);
}

/* The AEAD id reaches the key schedule: AES-256-GCM's output differs from
 * AES-128-GCM's for the same ephemeral key, receiver, info, aad and text. */
static void test_aes256_differs(void **state)
{
	(void)state;
	keypair kp;
	keypair_new(&kp, 4);
	uint8_t ikmE[32];
	memset(ikmE, 5, sizeof ikmE);
	uint8_t enc128[VEIL_HPKE_ENC_LEN], enc256[VEIL_HPKE_ENC_LEN];
	uint8_t c128[sizeof msg + VEIL_HPKE_TAG_LEN], c256[sizeof c128], x128[32], x256[32];
	veil_hpke_ctx *s128 = NULL, *s256 = NULL;
	assert_int_equal(veil_hpke_setup_sender_derand(VEIL_HPKE_AEAD_AES128_GCM, kp.pk, info, sizeof info,
	                                               ikmE, sizeof ikmE, enc128, &s128, NULL),
	                 VEIL_OK);
	assert_int_equal(veil_hpke_setup_sender_derand(VEIL_HPKE_AEAD_AES256_GCM, kp.pk, info, sizeof info,
	                                               ikmE, sizeof ikmE, enc256, &s256, NULL),
	                 VEIL_OK);
	assert_memory_equal(enc128, enc256, sizeof enc128); /* same KEM output... */
	assert_int_equal(veil_hpke_seal(s128, aad, sizeof aad, msg, sizeof msg, c128, NULL), VEIL_OK);
	assert_int_equal(veil_hpke_seal(s256, aad, sizeof aad, msg, sizeof msg, c256, NULL), VEIL_OK);
	assert_memory_not_equal(c128, c256, sizeof c128); /* ...other keys */
	assert_int_equal(veil_hpke_export(s128, NULL, 0, 32, x128, NULL), VEIL_OK);
	assert_int_equal(veil_hpke_export(s256, NULL, 0, 32, x256, NULL), VEIL_OK);
	assert_memory_not_equal(x128, x256, 32); /* the suite id differs */
	/* And a fresh sender draws a fresh ephemeral key each time. */
	veil_hpke_ctx *a = NULL, *b = NULL;
	uint8_t ea[VEIL_HPKE_ENC_LEN], eb[VEIL_HPKE_ENC_LEN];
	assert_int_equal(
	        veil_hpke_setup_sender(VEIL_HPKE_AEAD_AES256_GCM, kp.pk, info, sizeof info, ea, &a, NULL),
	        VEIL_OK);
	assert_int_equal(
	        veil_hpke_setup_sender(VEIL_HPKE_AEAD_AES256_GCM, kp.pk, info, sizeof info, eb, &b, NULL),
	        VEIL_OK);
	assert_memory_not_equal(ea, eb, sizeof ea);
	veil_hpke_free(a);
	veil_hpke_free(b);
	veil_hpke_free(s128);
	veil_hpke_free(s256);
	keypair_free(&kp);
}

/* ---- misuse and bounds ---- */

static void assert_failed(veil_status st, veil_status want, const veil_err *e)
{
	assert_int_equal(st, want);
	assert_int_equal(e->code, want);
	assert_true(e->msg[0] != '\0');
	assert_int_equal(ERR_peek_error(), 0);
}

static void test_suites_and_args(void **state)
{
	(void)state;
	veil_err err = {0};
	assert_int_equal(veil_hpke_suite_check(0x20, 1, 1, NULL), VEIL_OK);
	assert_int_equal(veil_hpke_suite_check(0x20, 1, 2, NULL), VEIL_OK);
	assert_int_equal(veil_hpke_suite_check(0x20, 1, 3, NULL), VEIL_OK);
	assert_failed(veil_hpke_suite_check(0x10, 1, 1, &err), VEIL_E_UNSUPPORTED, &err); /* P-256 */
	assert_failed(veil_hpke_suite_check(0x20, 2, 1, &err), VEIL_E_UNSUPPORTED, &err); /* SHA-384 */
	assert_failed(veil_hpke_suite_check(0x20, 1, 0xffff, &err), VEIL_E_UNSUPPORTED,
	              &err); /* export-only */

	keypair kp;
	keypair_new(&kp, 6);
	uint8_t enc[VEIL_HPKE_ENC_LEN];
	veil_hpke_ctx *s = (veil_hpke_ctx *)&kp; /* must be reset to NULL on failure */
	assert_failed(veil_hpke_setup_sender(0, kp.pk, NULL, 0, enc, &s, &err), VEIL_E_UNSUPPORTED, &err);
	assert_null(s);
	assert_failed(veil_hpke_setup_receiver(4, kp.sk, kp.pk, NULL, 0, &s, &err), VEIL_E_UNSUPPORTED, &err);
	assert_null(s);
	assert_failed(veil_hpke_setup_sender(1, NULL, NULL, 0, enc, &s, &err), VEIL_E_INVALID, &err);
	assert_failed(veil_hpke_setup_sender(1, kp.pk, NULL, 3, enc, &s, &err), VEIL_E_INVALID, &err);

	/* info is bounded. */
	uint8_t *big = calloc(1, VEIL_HPKE_EXP_CTX_MAX + VEIL_HPKE_INFO_MAX + 1);
	assert_non_null(big);
	assert_failed(veil_hpke_setup_sender(2, kp.pk, big, VEIL_HPKE_INFO_MAX + 1, enc, &s, &err),
	              VEIL_E_LIMIT, &err);
	assert_null(s);
	assert_int_equal(veil_hpke_setup_sender(2, kp.pk, big, VEIL_HPKE_INFO_MAX, enc, &s, NULL), VEIL_OK);

	/* Small-order points: all-zero DH output is refused on both sides. */
	static const uint8_t zero[VEIL_HPKE_PK_LEN];
	veil_hpke_ctx *t = NULL;
	uint8_t enc_bad[VEIL_HPKE_ENC_LEN];
	memset(enc_bad, 0x11, sizeof enc_bad);
	assert_failed(veil_hpke_setup_sender(2, zero, NULL, 0, enc_bad, &t, &err), VEIL_E_CRYPTO, &err);
	assert_null(t);
	assert_true(all_zero(enc_bad, sizeof enc_bad));
	assert_failed(veil_hpke_setup_receiver(2, kp.sk, zero, NULL, 0, &t, &err), VEIL_E_CRYPTO, &err);
	assert_null(t);

	/* Export bounds; the longest export and context work. */
	uint8_t *out = malloc(VEIL_HPKE_EXPORT_MAX);
	assert_non_null(out);
	assert_int_equal(veil_hpke_export(s, big, VEIL_HPKE_EXP_CTX_MAX, VEIL_HPKE_EXPORT_MAX, out, NULL),
	                 VEIL_OK);
	assert_failed(veil_hpke_export(s, big, VEIL_HPKE_EXP_CTX_MAX + 1, 32, out, &err), VEIL_E_LIMIT, &err);
	assert_failed(veil_hpke_export(s, NULL, 0, VEIL_HPKE_EXPORT_MAX + 1, out, &err), VEIL_E_INVALID,
	              &err);
	assert_failed(veil_hpke_export(s, NULL, 0, 0, out, &err), VEIL_E_INVALID, &err);
	free(out);
	free(big);

	/* A sender does not open, a receiver does not seal. */
	uint8_t ct[sizeof msg + VEIL_HPKE_TAG_LEN], pt[sizeof msg];
	assert_int_equal(veil_hpke_seal(s, NULL, 0, msg, sizeof msg, ct, NULL), VEIL_OK);
	assert_failed(veil_hpke_open(s, NULL, 0, ct, sizeof ct, pt, &err), VEIL_E_INVALID, &err);
	veil_hpke_ctx *r = NULL;
	assert_int_equal(veil_hpke_setup_receiver(2, kp.sk, enc, NULL, 0, &r, NULL), VEIL_OK);
	assert_failed(veil_hpke_seal(r, NULL, 0, msg, sizeof msg, ct, &err), VEIL_E_INVALID, &err);
	/* Shorter than a tag; truncated single-shot input. */
	assert_failed(veil_hpke_open(r, NULL, 0, ct, VEIL_HPKE_TAG_LEN - 1, pt, &err), VEIL_E_INVALID, &err);
	assert_failed(
	        veil_hpke_open_base(2, kp.sk, NULL, 0, NULL, 0, ct, VEIL_HPKE_SEAL_OVERHEAD - 1, pt, &err),
	        VEIL_E_INVALID, &err);
	veil_hpke_free(r);

	/* ikm bounds for DeriveKeyPair. */
	uint8_t ikm[VEIL_HPKE_IKM_MIN] = {0}, sk[VEIL_HPKE_SK_LEN], pk[VEIL_HPKE_PK_LEN];
	assert_failed(veil_hpke_derive_keypair(ikm, sizeof ikm - 1, sk, pk, &err), VEIL_E_INVALID, &err);
	assert_failed(
	        veil_hpke_setup_sender_derand(2, kp.pk, NULL, 0, ikm, sizeof ikm - 1, enc_bad, &t, &err),
	        VEIL_E_INVALID, &err);
	assert_null(t);
	veil_hpke_free(s);
	veil_hpke_free(NULL);
	keypair_free(&kp);
}

/* The sequence number only moves forward and refuses to wrap. */
static void test_sequence(void **state)
{
	(void)state;
	keypair kp;
	keypair_new(&kp, 7);
	uint8_t enc[VEIL_HPKE_ENC_LEN], ct[sizeof msg + VEIL_HPKE_TAG_LEN], pt[sizeof msg];
	veil_hpke_ctx *s = NULL, *r = NULL;
	veil_err err = {0};
	assert_int_equal(veil_hpke_setup_sender(2, kp.pk, NULL, 0, enc, &s, NULL), VEIL_OK);
	assert_int_equal(veil_hpke_setup_receiver(2, kp.sk, enc, NULL, 0, &r, NULL), VEIL_OK);
	assert_int_equal(veil_hpke_skip_to(s, 10, NULL), VEIL_OK);
	assert_failed(veil_hpke_skip_to(s, 9, &err), VEIL_E_INVALID, &err);
	assert_true(veil_hpke_seq(s) == 10);
	assert_int_equal(veil_hpke_skip_to(s, UINT64_MAX - 1, NULL), VEIL_OK);
	assert_int_equal(veil_hpke_seal(s, NULL, 0, msg, sizeof msg, ct, NULL), VEIL_OK);
	/* The last message still opens at its number. */
	assert_int_equal(veil_hpke_skip_to(r, UINT64_MAX - 1, NULL), VEIL_OK);
	assert_int_equal(veil_hpke_open(r, NULL, 0, ct, sizeof ct, pt, NULL), VEIL_OK);
	assert_memory_equal(pt, msg, sizeof msg);
	memset(ct, 0x11, sizeof ct);
	assert_failed(veil_hpke_seal(s, NULL, 0, msg, sizeof msg, ct, &err), VEIL_E_LIMIT, &err);
	assert_true(veil_hpke_seq(s) == UINT64_MAX);
	assert_failed(veil_hpke_open(r, NULL, 0, ct, sizeof ct, pt, &err), VEIL_E_LIMIT, &err);
	veil_hpke_free(s);
	veil_hpke_free(r);
	keypair_free(&kp);
}

int main(void)
{
	if (veil_crypto_init(NULL) != VEIL_OK)
		return 1;
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_vector_file),      cmocka_unit_test(test_rfc9180_base),
	        cmocka_unit_test(test_aes256_roundtrip), cmocka_unit_test(test_aes256_tamper),
	        cmocka_unit_test(test_aes256_differs),   cmocka_unit_test(test_suites_and_args),
	        cmocka_unit_test(test_sequence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
