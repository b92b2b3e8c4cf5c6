/*
 * Unit tests for the crypto primitives: known answers from the published
 * vectors (each cites its source), round trips, and tampering that must be
 * refused with the output wiped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "veil/crypto.h"

/* ---- helpers ---- */

/* Decodes a hex vector into out (capacity cap); returns its length. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2;
	assert_true(n <= cap);
	assert_int_equal(veil_hex_decode(hex, out, n, NULL), VEIL_OK);
	return n;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* A failure must say what went wrong and leave OpenSSL's queue empty, so
 * that one module's failure never shows up as another's. */
static void assert_failed(veil_status st, veil_status want, const veil_err *e)
{
	assert_int_equal(st, want);
	assert_int_equal(e->code, want);
	assert_true(e->msg[0] != '\0');
	assert_int_equal(ERR_peek_error(), 0);
}

/* ---- SHA-2 ---- */

/* FIPS 180-4 examples (NIST CSRC "Cryptographic Standards and Guidelines:
 * Examples with Intermediate Values", SHA256.pdf, SHA2_Additional and
 * SHA384.pdf, SHA512.pdf): "abc", the two-block message, and the empty
 * string. */
static const struct {
	veil_hash_alg alg;
	const char *msg;
	const char *digest;
} sha_kat[] = {
        {VEIL_HASH_SHA256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {VEIL_HASH_SHA256, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {VEIL_HASH_SHA256, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {VEIL_HASH_SHA384, "abc",
         "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"},
        {VEIL_HASH_SHA384, "",
         "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b"},
        {VEIL_HASH_SHA512, "abc",
         "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454"
         "d4423643ce80e2a9ac94fa54ca49f"},
        {VEIL_HASH_SHA512, "",
         "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b"
         "931bd47417a81a538327af927da3e"},
};

static void test_sha_kat(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof sha_kat / sizeof sha_kat[0]; i++) {
		uint8_t want[VEIL_SHA512_LEN], got[VEIL_SHA512_LEN];
		size_t n = unhex(sha_kat[i].digest, want, sizeof want);
		assert_int_equal(n, veil_hash_len(sha_kat[i].alg));
		const char *m = sha_kat[i].msg;
		assert_int_equal(veil_hash(sha_kat[i].alg, m, strlen(m), got, NULL), VEIL_OK);
		assert_memory_equal(got, want, n);
		/* streaming, one byte at a time */
		veil_hash_ctx *c = NULL;
		assert_int_equal(veil_hash_init(&c, sha_kat[i].alg, NULL), VEIL_OK);
		for (size_t k = 0; k < strlen(m); k++)
			assert_int_equal(veil_hash_update(c, m + k, 1, NULL), VEIL_OK);
		memset(got, 0, sizeof got);
		assert_int_equal(veil_hash_final(c, got, NULL), VEIL_OK);
		assert_memory_equal(got, want, n);
	}
	uint8_t d[VEIL_SHA256_LEN], want[VEIL_SHA256_LEN];
	unhex(sha_kat[0].digest, want, sizeof want);
	assert_int_equal(veil_sha256("abc", 3, d, NULL), VEIL_OK);
	assert_memory_equal(d, want, sizeof d);
	/* the empty message may come as a NULL pointer */
	unhex(sha_kat[1].digest, want, sizeof want);
	assert_int_equal(veil_sha256(NULL, 0, d, NULL), VEIL_OK);
	assert_memory_equal(d, want, sizeof d);
}

static void test_sha_streaming(void **state)
{
	(void)state;
	static const size_t pieces[] = {0, 1, 2, 3, 55, 56, 63, 64, 65, 127, 128, 129, 1000, 4093};
	size_t total = 0;
	for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++)
		total += pieces[i];
	uint8_t *data = malloc(total);
	assert_non_null(data);
	for (size_t i = 0; i < total; i++)
		data[i] = (uint8_t)(i * 131 + 7);
	veil_hash_alg algs[] = {VEIL_HASH_SHA256, VEIL_HASH_SHA384, VEIL_HASH_SHA512};
	for (size_t a = 0; a < sizeof algs / sizeof algs[0]; a++) {
		uint8_t one[VEIL_SHA512_LEN], streamed[VEIL_SHA512_LEN];
		assert_int_equal(veil_hash(algs[a], data, total, one, NULL), VEIL_OK);
		veil_hash_ctx *c = NULL;
		assert_int_equal(veil_hash_init(&c, algs[a], NULL), VEIL_OK);
		size_t off = 0;
		for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
			assert_int_equal(veil_hash_update(c, data + off, pieces[i], NULL), VEIL_OK);
			off += pieces[i];
		}
		assert_int_equal(veil_hash_final(c, streamed, NULL), VEIL_OK);
		assert_memory_equal(one, streamed, veil_hash_len(algs[a]));
		/* one byte more gives another digest */
		assert_int_equal(veil_hash(algs[a], data, total - 1, streamed, NULL), VEIL_OK);
		assert_memory_not_equal(one, streamed, veil_hash_len(algs[a]));
	}
	free(data);
	/* abandoning a context is fine */
	veil_hash_ctx *c = NULL;
	assert_int_equal(veil_hash_init(&c, VEIL_HASH_SHA256, NULL), VEIL_OK);
	assert_int_equal(veil_hash_update(c, "x", 1, NULL), VEIL_OK);
	veil_hash_free(c);
	veil_hash_free(NULL);
}

static void test_sha_errors(void **state)
{
	(void)state;
	veil_err e;
	uint8_t d[VEIL_SHA384_LEN];
	assert_failed(veil_hash((veil_hash_alg)7, "abc", 3, d, &e), VEIL_E_INVALID, &e);
	assert_true(e.hint[0] != '\0');
	assert_int_equal(veil_hash_len((veil_hash_alg)7), 0);
	veil_hash_ctx *c = (veil_hash_ctx *)&e; /* must be reset to NULL */
	assert_failed(veil_hash_init(&c, (veil_hash_alg)7, &e), VEIL_E_INVALID, &e);
	assert_null(c);
	assert_failed(veil_hash(VEIL_HASH_SHA256, NULL, 3, d, &e), VEIL_E_INVALID, &e);
	/* final without an output buffer still frees the context */
	assert_int_equal(veil_hash_init(&c, VEIL_HASH_SHA256, NULL), VEIL_OK);
	assert_failed(veil_hash_final(c, NULL, &e), VEIL_E_INVALID, &e);
}

/* ---- HMAC-SHA-256 ---- */

/* RFC 4231 section 4.2 (test case 1) and 4.3 (test case 2). */
static void test_hmac_kat(void **state)
{
	(void)state;
	uint8_t key[20], want[VEIL_SHA256_LEN], got[VEIL_SHA256_LEN];
	memset(key, 0x0b, sizeof key);
	unhex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", want, sizeof want);
	assert_int_equal(veil_hmac_sha256(key, sizeof key, "Hi There", 8, got, NULL), VEIL_OK);
	assert_memory_equal(got, want, sizeof want);

	const char *msg = "what do ya want for nothing?";
	unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", want, sizeof want);
	assert_int_equal(veil_hmac_sha256((const uint8_t *)"Jefe", 4, msg, strlen(msg), got, NULL), VEIL_OK);
	assert_memory_equal(got, want, sizeof want);
	/* a different key gives a different MAC */
	assert_int_equal(veil_hmac_sha256((const uint8_t *)"Jeff", 4, msg, strlen(msg), got, NULL), VEIL_OK);
	assert_memory_not_equal(got, want, sizeof want);
	/* An empty key is allowed: RFC 2104 section 2 pads K with zeros to the
	 * block size, so it must equal a 64-byte key of zeros. */
	uint8_t zeros[64] = {0};
	assert_int_equal(veil_hmac_sha256(zeros, sizeof zeros, "", 0, want, NULL), VEIL_OK);
	assert_int_equal(veil_hmac_sha256(NULL, 0, NULL, 0, got, NULL), VEIL_OK);
	assert_memory_equal(got, want, sizeof want);
	veil_err e;
	assert_failed(veil_hmac_sha256(NULL, 4, msg, 1, got, &e), VEIL_E_INVALID, &e);
}

/* ---- HKDF-SHA-256 ---- */

/* RFC 5869 appendix A.1 to A.3 (test cases 1 to 3). */
static const struct {
	const char *ikm, *salt, *info, *okm;
} hkdf_kat[] = {
        {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c", "f0f1f2f3f4f5f6f7f8f9",
         "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
        {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
         "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
         "404142434445464748494a4b4c4d4e4f",
         "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
         "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
         "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
         "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
         "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
         "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
         "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
         "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
         "cc30c58179ec3e87c14c01d5c1f3434f1d87"},
        {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
         "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
};

static void test_hkdf_kat(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof hkdf_kat / sizeof hkdf_kat[0]; i++) {
		uint8_t ikm[80], salt[80], info[80], want[82], got[82];
		size_t ni = unhex(hkdf_kat[i].ikm, ikm, sizeof ikm);
		size_t ns = unhex(hkdf_kat[i].salt, salt, sizeof salt);
		size_t nf = unhex(hkdf_kat[i].info, info, sizeof info);
		size_t no = unhex(hkdf_kat[i].okm, want, sizeof want);
		assert_int_equal(
		        veil_hkdf_sha256(ikm, ni, ns ? salt : NULL, ns, nf ? info : NULL, nf, got, no, NULL),
		        VEIL_OK);
		assert_memory_equal(got, want, no);
	}
	/* RFC 5869 section 2.2: no salt is a HashLen string of zeros */
	uint8_t ikm[22], zeros[VEIL_SHA256_LEN] = {0}, a[42], b[42];
	memset(ikm, 0x0b, sizeof ikm);
	assert_int_equal(veil_hkdf_sha256(ikm, sizeof ikm, NULL, 0, NULL, 0, a, sizeof a, NULL), VEIL_OK);
	assert_int_equal(veil_hkdf_sha256(ikm, sizeof ikm, zeros, sizeof zeros, NULL, 0, b, sizeof b, NULL),
	                 VEIL_OK);
	assert_memory_equal(a, b, sizeof a);
	/* info separates outputs */
	assert_int_equal(
	        veil_hkdf_sha256(ikm, sizeof ikm, NULL, 0, (const uint8_t *)"x", 1, b, sizeof b, NULL),
	        VEIL_OK);
	assert_memory_not_equal(a, b, sizeof a);
}

static void test_hkdf_bounds(void **state)
{
	(void)state;
	static uint8_t out[255 * VEIL_SHA256_LEN + 1];
	uint8_t ikm[32] = {1};
	veil_err e;
	assert_int_equal(
	        veil_hkdf_sha256(ikm, sizeof ikm, NULL, 0, NULL, 0, out, 255 * VEIL_SHA256_LEN, NULL),
	        VEIL_OK);
	assert_failed(veil_hkdf_sha256(ikm, sizeof ikm, NULL, 0, NULL, 0, out, sizeof out, &e),
	              VEIL_E_INVALID, &e);
	assert_true(e.hint[0] != '\0');
	assert_failed(veil_hkdf_sha256(ikm, sizeof ikm, NULL, 0, NULL, 0, out, 0, &e), VEIL_E_INVALID, &e);
	assert_failed(veil_hkdf_sha256(NULL, 32, NULL, 0, NULL, 0, out, 32, &e), VEIL_E_INVALID, &e);
	assert_failed(veil_hkdf_sha256(ikm, 32, NULL, 5, NULL, 0, out, 32, &e), VEIL_E_INVALID, &e);
}

/* ---- scrypt ---- */

/* RFC 7914 section 12. The first vector (N = 16) is below the bounds
 * crypto.h documents, so veil_scrypt must refuse it; it checks OpenSSL's
 * own scrypt instead, which then serves as the reference for an empty
 * passphrase and salt at an allowed N. */
static const char scrypt_empty[] = "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
                                   "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906";

static void test_scrypt_kat(void **state)
{
	(void)state;
	static const struct {
		const char *pass, *salt;
		unsigned log_n, r, p;
		const char *dk;
	} kat[] = {
	        {"password", "NaCl", 10, 8, 16,
	         "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
	         "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"},
	        {"pleaseletmein", "SodiumChloride", 14, 8, 1,
	         "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
	         "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887"},
	};
	for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
		uint8_t want[64], got[64];
		unhex(kat[i].dk, want, sizeof want);
		assert_int_equal(veil_scrypt(kat[i].pass, strlen(kat[i].pass), (const uint8_t *)kat[i].salt,
		                             strlen(kat[i].salt), kat[i].log_n, kat[i].r, kat[i].p, got,
		                             sizeof got, NULL),
		                 VEIL_OK);
		assert_memory_equal(got, want, sizeof want);
	}
	uint8_t want[64], got[64], ref[64];
	unhex(scrypt_empty, want, sizeof want);
	veil_err e;
	assert_failed(veil_scrypt("", 0, NULL, 0, 4, 1, 1, got, sizeof got, &e), VEIL_E_INVALID, &e);
	assert_true(e.hint[0] != '\0');
	assert_int_equal(EVP_PBE_scrypt("", 0, (const unsigned char *)"", 0, 16, 1, 1, 0, ref, sizeof ref),
	                 1);
	assert_memory_equal(ref, want, sizeof want);
	assert_int_equal(EVP_PBE_scrypt("", 0, (const unsigned char *)"", 0, 1024, 1, 1, 0, ref, sizeof ref),
	                 1);
	assert_int_equal(veil_scrypt(NULL, 0, NULL, 0, 10, 1, 1, got, sizeof got, NULL), VEIL_OK);
	assert_memory_equal(got, ref, sizeof ref);
}

static void test_scrypt_bounds(void **state)
{
	(void)state;
	uint8_t out[32];
	veil_err e;
	const uint8_t salt[16] = {0};
	static const unsigned bad[][3] = {{9, 8, 1},   {23, 8, 1}, {10, 0, 1},
	                                  {10, 33, 1}, {10, 8, 0}, {10, 8, 17}};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_failed(veil_scrypt("pw", 2, salt, sizeof salt, bad[i][0], bad[i][1], bad[i][2], out,
		                          sizeof out, &e),
		              VEIL_E_INVALID, &e);
	assert_failed(veil_scrypt("pw", 2, salt, sizeof salt, 10, 1, 1, out, 0, &e), VEIL_E_INVALID, &e);
	assert_failed(veil_scrypt(NULL, 2, salt, sizeof salt, 10, 1, 1, out, sizeof out, &e), VEIL_E_INVALID,
	              &e);
	/* the edges of the range are accepted (log_n 10 with r 32 and p 16:
	 * above OpenSSL's default 32 MiB maxmem once r * p grows) */
	assert_int_equal(veil_scrypt("pw", 2, salt, sizeof salt, 10, 32, 16, out, sizeof out, NULL), VEIL_OK);
	assert_int_equal(veil_scrypt("pw", 2, salt, sizeof salt, 16, 8, 1, out, sizeof out, NULL), VEIL_OK);
}

/* ---- AES-256-GCM ---- */

/* McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", revised
 * 2005, appendix B, test cases 13 to 16 (the AES-256 ones). */
static const char gcm_key15[] = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
static const char gcm_pt15[] = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                               "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
static const char gcm_ct15[] = "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                               "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad";
static const struct {
	const char *key, *iv, *pt, *aad, *ct, *tag;
} gcm_kat[] = {
        /* 13 */
        {"0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", "",
         "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
        /* 14 */
        {"0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000",
         "00000000000000000000000000000000", "", "cea7403d4d606b6e074ec5d3baf39d18",
         "d0d1c8a799996bf0265b98b5d48ab919"},
        /* 15 */
        {gcm_key15, "cafebabefacedbaddecaf888", gcm_pt15, "", gcm_ct15, "b094dac5d93471bdec1a502270e3cc6c"},
        /* 16: the first 60 bytes of 15's plaintext, with AAD */
        {gcm_key15, "cafebabefacedbaddecaf888",
         "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
         "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
         "feedfacedeadbeeffeedfacedeadbeefabaddad2",
         "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
         "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
         "76fc6ece0f4e1768cddf8853bb2d551b"},
};

typedef struct {
	uint8_t key[32], iv[12], pt[64], aad[20], ct[64], tag[16];
	size_t npt, naad;
} gcm_case;

static void gcm_load(size_t i, gcm_case *c)
{
	memset(c, 0, sizeof *c);
	unhex(gcm_kat[i].key, c->key, sizeof c->key);
	unhex(gcm_kat[i].iv, c->iv, sizeof c->iv);
	c->npt = unhex(gcm_kat[i].pt, c->pt, sizeof c->pt);
	c->naad = unhex(gcm_kat[i].aad, c->aad, sizeof c->aad);
	assert_int_equal(unhex(gcm_kat[i].ct, c->ct, sizeof c->ct), c->npt);
	unhex(gcm_kat[i].tag, c->tag, sizeof c->tag);
}

/* Opens with one thing changed; must fail with VEIL_E_AUTH and leave the
 * (pre-filled) output all zero. */
static void gcm_refused(const gcm_case *c, const uint8_t *aad, size_t naad, const uint8_t *ct,
                        const uint8_t *tag)
{
	uint8_t out[64];
	memset(out, 0xa5, sizeof out);
	veil_err e;
	assert_failed(veil_aead_open(c->key, c->iv, aad, naad, ct, c->npt, tag, out, &e), VEIL_E_AUTH, &e);
	assert_true(all_zero(out, c->npt));
	assert_true(e.hint[0] != '\0');
}

static void test_gcm_kat(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof gcm_kat / sizeof gcm_kat[0]; i++) {
		gcm_case c;
		gcm_load(i, &c);
		uint8_t ct[64], tag[16], pt[64];
		assert_int_equal(veil_aead_seal(c.key, c.iv, c.naad ? c.aad : NULL, c.naad,
		                                c.npt ? c.pt : NULL, c.npt, ct, tag, NULL),
		                 VEIL_OK);
		assert_memory_equal(ct, c.ct, c.npt);
		assert_memory_equal(tag, c.tag, sizeof tag);
		memset(pt, 0xa5, sizeof pt);
		assert_int_equal(veil_aead_open(c.key, c.iv, c.aad, c.naad, c.ct, c.npt, c.tag, pt, NULL),
		                 VEIL_OK);
		assert_memory_equal(pt, c.pt, c.npt);
	}
}

static void test_gcm_tamper(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof gcm_kat / sizeof gcm_kat[0]; i++) {
		gcm_case c;
		gcm_load(i, &c);
		uint8_t ct[64], tag[16], aad[21], key[32], iv[12];
		for (size_t k = 0; k < c.npt; k++) { /* every ciphertext byte */
			memcpy(ct, c.ct, c.npt);
			ct[k] ^= 0x01;
			gcm_refused(&c, c.aad, c.naad, ct, c.tag);
		}
		for (size_t k = 0; k < sizeof tag; k++) { /* every tag byte */
			memcpy(tag, c.tag, sizeof tag);
			tag[k] ^= 0x80;
			gcm_refused(&c, c.aad, c.naad, c.ct, tag);
		}
		for (size_t k = 0; k < c.naad; k++) { /* every AAD byte */
			memcpy(aad, c.aad, c.naad);
			aad[k] ^= 0x10;
			gcm_refused(&c, aad, c.naad, c.ct, c.tag);
		}
		/* AAD added, or one byte dropped or appended */
		memcpy(aad, c.aad, c.naad);
		aad[c.naad] = 0;
		gcm_refused(&c, aad, c.naad + 1, c.ct, c.tag);
		if (c.naad)
			gcm_refused(&c, aad, c.naad - 1, c.ct, c.tag);
		/* wrong key or nonce */
		gcm_case w = c;
		memcpy(key, c.key, sizeof key);
		key[31] ^= 1;
		memcpy(w.key, key, sizeof key);
		gcm_refused(&w, c.aad, c.naad, c.ct, c.tag);
		w = c;
		memcpy(iv, c.iv, sizeof iv);
		iv[0] ^= 1;
		memcpy(w.iv, iv, sizeof iv);
		gcm_refused(&w, c.aad, c.naad, c.ct, c.tag);
	}
}

static void test_gcm_inplace_and_args(void **state)
{
	(void)state;
	gcm_case c;
	gcm_load(3, &c);
	uint8_t buf[64], tag[16];
	memcpy(buf, c.pt, c.npt);
	assert_int_equal(veil_aead_seal(c.key, c.iv, c.aad, c.naad, buf, c.npt, buf, tag, NULL), VEIL_OK);
	assert_memory_equal(buf, c.ct, c.npt);
	assert_int_equal(veil_aead_open(c.key, c.iv, c.aad, c.naad, buf, c.npt, tag, buf, NULL), VEIL_OK);
	assert_memory_equal(buf, c.pt, c.npt);
	/* a truncated ciphertext fails (the tag covers the length) */
	gcm_case t = c;
	t.npt = c.npt - 1;
	gcm_refused(&t, c.aad, c.naad, c.ct, c.tag);
	veil_err e;
	assert_failed(veil_aead_seal(NULL, c.iv, NULL, 0, c.pt, c.npt, buf, tag, &e), VEIL_E_INVALID, &e);
	assert_failed(veil_aead_seal(c.key, c.iv, NULL, 3, c.pt, c.npt, buf, tag, &e), VEIL_E_INVALID, &e);
	assert_failed(veil_aead_open(c.key, c.iv, NULL, 0, c.ct, c.npt, NULL, buf, &e), VEIL_E_INVALID, &e);
	assert_failed(veil_aead_open(c.key, c.iv, NULL, 0, NULL, c.npt, c.tag, buf, &e), VEIL_E_INVALID, &e);
}

/* A larger message, sealed and opened, to cover more than one GCM block
 * run and a flip deep inside it. */
static void test_gcm_large(void **state)
{
	(void)state;
	size_t n = (1u << 20) + 7;
	uint8_t *pt = malloc(n), *ct = malloc(n), *back = malloc(n);
	assert_true(pt && ct && back);
	uint8_t key[32], iv[12], tag[16];
	assert_int_equal(veil_random(key, sizeof key, NULL), VEIL_OK);
	assert_int_equal(veil_random(iv, sizeof iv, NULL), VEIL_OK);
	assert_int_equal(veil_random(pt, n, NULL), VEIL_OK);
	assert_int_equal(veil_aead_seal(key, iv, iv, sizeof iv, pt, n, ct, tag, NULL), VEIL_OK);
	assert_int_equal(veil_aead_open(key, iv, iv, sizeof iv, ct, n, tag, back, NULL), VEIL_OK);
	assert_memory_equal(pt, back, n);
	ct[n / 2] ^= 4;
	assert_int_equal(veil_aead_open(key, iv, iv, sizeof iv, ct, n, tag, back, NULL), VEIL_E_AUTH);
	assert_true(all_zero(back, n));
	free(pt);
	free(ct);
	free(back);
}

/* ---- key wrapping ---- */

static void test_wrap(void **state)
{
	(void)state;
	uint8_t kek[32], other[32], dek[32], w[32 + VEIL_WRAP_OVERHEAD], w2[sizeof w], back[32];
	const uint8_t aad[] = "kek:owner-a:v3:dek";
	assert_int_equal(veil_random(kek, sizeof kek, NULL), VEIL_OK);
	assert_int_equal(veil_random(dek, sizeof dek, NULL), VEIL_OK);
	memcpy(other, kek, sizeof kek);
	other[0] ^= 1;
	assert_int_equal(veil_wrap(kek, aad, sizeof aad, dek, sizeof dek, w, NULL), VEIL_OK);
	assert_int_equal(veil_unwrap(kek, aad, sizeof aad, w, sizeof w, back, NULL), VEIL_OK);
	assert_memory_equal(back, dek, sizeof dek);
	/* layout: nonce || ct || tag, opened by plain AES-256-GCM */
	assert_int_equal(veil_aead_open(kek, w, aad, sizeof aad, w + 12, 32, w + 44, back, NULL), VEIL_OK);
	assert_memory_equal(back, dek, sizeof dek);
	/* fresh nonce each time: two wraps of the same key differ */
	assert_int_equal(veil_wrap(kek, aad, sizeof aad, dek, sizeof dek, w2, NULL), VEIL_OK);
	assert_memory_not_equal(w, w2, VEIL_GCM_NONCE_LEN);
	assert_memory_not_equal(w + 12, w2 + 12, 32);

	veil_err e;
	memset(back, 0xa5, sizeof back);
	assert_failed(veil_unwrap(other, aad, sizeof aad, w, sizeof w, back, &e), VEIL_E_AUTH, &e);
	assert_true(all_zero(back, sizeof back));
	memset(back, 0xa5, sizeof back);
	assert_failed(veil_unwrap(kek, aad, sizeof aad - 1, w, sizeof w, back, &e), VEIL_E_AUTH, &e);
	assert_true(all_zero(back, sizeof back));
	assert_failed(veil_unwrap(kek, NULL, 0, w, sizeof w, back, &e), VEIL_E_AUTH, &e);
	for (size_t i = 0; i < sizeof w; i++) {
		for (unsigned bit = 0; bit < 8; bit += 7) {
			memcpy(w2, w, sizeof w);
			w2[i] ^= (uint8_t)(1u << bit);
			memset(back, 0xa5, sizeof back);
			assert_failed(veil_unwrap(kek, aad, sizeof aad, w2, sizeof w2, back, &e), VEIL_E_AUTH,
			              &e);
			assert_true(all_zero(back, sizeof back));
		}
	}
	/* dropping a byte shifts the tag: refused */
	assert_failed(veil_unwrap(kek, aad, sizeof aad, w, sizeof w - 1, back, &e), VEIL_E_AUTH, &e);
	for (size_t n = 0; n < VEIL_WRAP_OVERHEAD; n++)
		assert_failed(veil_unwrap(kek, aad, sizeof aad, w, n, back, &e), VEIL_E_INVALID, &e);
	/* an empty secret still authenticates its aad */
	uint8_t w0[VEIL_WRAP_OVERHEAD];
	assert_int_equal(veil_wrap(kek, aad, sizeof aad, NULL, 0, w0, NULL), VEIL_OK);
	assert_int_equal(veil_unwrap(kek, aad, sizeof aad, w0, sizeof w0, NULL, NULL), VEIL_OK);
	assert_failed(veil_unwrap(kek, aad, 3, w0, sizeof w0, NULL, &e), VEIL_E_AUTH, &e);
	assert_failed(veil_wrap(NULL, aad, sizeof aad, dek, sizeof dek, w, &e), VEIL_E_INVALID, &e);
}

/* ---- Ed25519 ---- */

/* RFC 8032 section 7.1, TEST 1, TEST 2 and TEST 3. */
static const struct {
	const char *seed, *pub, *msg, *sig;
} ed_kat[] = {
        {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
         "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
        {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
         "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
         "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
        {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
         "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
         "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
         "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

static void test_ed25519_kat(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof ed_kat / sizeof ed_kat[0]; i++) {
		uint8_t seed[32], pub[32], msg[4], sig[64], got[64];
		unhex(ed_kat[i].seed, seed, sizeof seed);
		unhex(ed_kat[i].pub, pub, sizeof pub);
		size_t n = unhex(ed_kat[i].msg, msg, sizeof msg);
		unhex(ed_kat[i].sig, sig, sizeof sig);
		assert_int_equal(veil_ed25519_public(seed, got, NULL), VEIL_OK);
		assert_memory_equal(got, pub, 32);
		assert_int_equal(veil_ed25519_sign(seed, n ? msg : NULL, n, got, NULL), VEIL_OK);
		assert_memory_equal(got, sig, 64);
		assert_int_equal(veil_ed25519_verify(pub, msg, n, sig, NULL), VEIL_OK);

		veil_err e;
		uint8_t longer[5];
		memcpy(longer, msg, n);
		longer[n] = 0;
		assert_failed(veil_ed25519_verify(pub, longer, n + 1, sig, &e), VEIL_E_AUTH, &e);
		if (n) {
			msg[0] ^= 1;
			assert_failed(veil_ed25519_verify(pub, msg, n, sig, &e), VEIL_E_AUTH, &e);
			msg[0] ^= 1;
		}
		for (size_t k = 0; k < 64; k++) {
			memcpy(got, sig, 64);
			got[k] ^= 0x20;
			assert_failed(veil_ed25519_verify(pub, msg, n, got, &e), VEIL_E_AUTH, &e);
		}
		/* another test's key does not verify this signature */
		uint8_t other[32];
		unhex(ed_kat[(i + 1) % 3].pub, other, sizeof other);
		assert_failed(veil_ed25519_verify(other, msg, n, sig, &e), VEIL_E_AUTH, &e);
	}
}

static void test_ed25519_roundtrip(void **state)
{
	(void)state;
	uint8_t seed[32], pub[32], pub2[32], sig[64];
	const char *msg = "signed tree head: size 42";
	assert_int_equal(veil_ed25519_keygen(seed, pub, NULL), VEIL_OK);
	assert_false(all_zero(seed, sizeof seed));
	assert_int_equal(veil_ed25519_public(seed, pub2, NULL), VEIL_OK);
	assert_memory_equal(pub, pub2, 32);
	assert_int_equal(veil_ed25519_sign(seed, msg, strlen(msg), sig, NULL), VEIL_OK);
	assert_int_equal(veil_ed25519_verify(pub, msg, strlen(msg), sig, NULL), VEIL_OK);
	veil_err e;
	assert_failed(veil_ed25519_verify(pub, msg, strlen(msg) - 1, sig, &e), VEIL_E_AUTH, &e);
	/* S >= L (non-canonical) is refused: RFC 8032 section 5.1.7 */
	uint8_t bad[64];
	memcpy(bad, sig, 64);
	memset(bad + 32, 0xff, 32);
	assert_failed(veil_ed25519_verify(pub, msg, strlen(msg), bad, &e), VEIL_E_AUTH, &e);
	assert_failed(veil_ed25519_sign(NULL, msg, 1, sig, &e), VEIL_E_INVALID, &e);
	assert_failed(veil_ed25519_verify(pub, NULL, 3, sig, &e), VEIL_E_INVALID, &e);
}

/* ---- X25519 ---- */

static void test_x25519_kat(void **state)
{
	(void)state;
	/* RFC 7748 section 5.2, the first two vectors (one iteration each) */
	static const char *const vec[][3] = {
	        {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
	         "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
	         "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
	        {"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
	         "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
	         "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
	};
	for (size_t i = 0; i < 2; i++) {
		uint8_t k[32], u[32], want[32], got[32];
		unhex(vec[i][0], k, 32);
		unhex(vec[i][1], u, 32);
		unhex(vec[i][2], want, 32);
		assert_int_equal(veil_x25519(k, u, got, NULL), VEIL_OK);
		assert_memory_equal(got, want, 32);
	}
	/* RFC 7748 section 6.1, Diffie-Hellman */
	uint8_t a[32], apub[32], b[32], bpub[32], k[32], got[32];
	unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a, 32);
	unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", apub, 32);
	unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b, 32);
	unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", bpub, 32);
	unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", k, 32);
	assert_int_equal(veil_x25519_public(a, got, NULL), VEIL_OK);
	assert_memory_equal(got, apub, 32);
	assert_int_equal(veil_x25519_public(b, got, NULL), VEIL_OK);
	assert_memory_equal(got, bpub, 32);
	assert_int_equal(veil_x25519(a, bpub, got, NULL), VEIL_OK);
	assert_memory_equal(got, k, 32);
	assert_int_equal(veil_x25519(b, apub, got, NULL), VEIL_OK);
	assert_memory_equal(got, k, 32);
}

static void test_x25519_roundtrip_and_small_order(void **state)
{
	(void)state;
	uint8_t a[32], apub[32], b[32], bpub[32], s1[32], s2[32];
	assert_int_equal(veil_x25519_keygen(a, apub, NULL), VEIL_OK);
	assert_int_equal(veil_x25519_keygen(b, bpub, NULL), VEIL_OK);
	assert_memory_not_equal(a, b, 32);
	assert_int_equal(veil_x25519(a, bpub, s1, NULL), VEIL_OK);
	assert_int_equal(veil_x25519(b, apub, s2, NULL), VEIL_OK);
	assert_memory_equal(s1, s2, 32);
	/* RFC 7748 section 6.1: small-order points give an all-zero secret,
	 * which must be refused. u = 0 and u = 1 are two of them. */
	uint8_t small[32] = {0};
	veil_err e;
	for (int u = 0; u < 2; u++) {
		small[0] = (uint8_t)u;
		memset(s1, 0xa5, sizeof s1);
		assert_failed(veil_x25519(a, small, s1, &e), VEIL_E_CRYPTO, &e);
		assert_true(all_zero(s1, sizeof s1));
		assert_true(e.hint[0] != '\0');
	}
	assert_failed(veil_x25519(a, NULL, s1, &e), VEIL_E_INVALID, &e);
}

/* ---- randomness and secure memory ---- */

static void test_random(void **state)
{
	(void)state;
	uint8_t a[32], b[32];
	assert_int_equal(veil_random(a, sizeof a, NULL), VEIL_OK);
	assert_int_equal(veil_random(b, sizeof b, NULL), VEIL_OK);
	assert_memory_not_equal(a, b, sizeof a);
	assert_false(all_zero(a, sizeof a));
	assert_int_equal(veil_random(NULL, 0, NULL), VEIL_OK);
	veil_err e;
	assert_failed(veil_random(NULL, 1, &e), VEIL_E_INVALID, &e);
}

static void test_secure_memory(void **state)
{
	(void)state;
	veil_err e;
	assert_int_equal(veil_crypto_init(&e), VEIL_OK);
	assert_int_equal(veil_crypto_init(&e), VEIL_OK); /* twice is fine */
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
	struct rlimit rl;
	assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
	assert_int_equal(rl.rlim_cur, 0);
	assert_int_equal(ERR_peek_error(), 0);

	uint8_t *p = veil_secure_alloc(100);
	assert_non_null(p);
	assert_true(all_zero(p, 100));
	if (CRYPTO_secure_malloc_initialized())
		assert_true(CRYPTO_secure_allocated(p));
	memset(p, 0x5a, 100);
	veil_secure_free(p, 100);
	veil_secure_free(NULL, 0);
	veil_secure_free(NULL, 100);

	/* more than the whole secure heap: falls back to ordinary memory,
	 * still zeroed, freed through the right allocator, no error left */
	size_t big = (size_t)2 << 20;
	uint8_t *q = veil_secure_alloc(big);
	assert_non_null(q);
	assert_false(CRYPTO_secure_allocated(q));
	assert_true(all_zero(q, big));
	assert_int_equal(ERR_peek_error(), 0);
	memset(q, 0x5a, big);
	veil_secure_free(q, big);
	uint8_t *z = veil_secure_alloc(0);
	assert_non_null(z);
	veil_secure_free(z, 0);

	uint8_t w[16];
	memset(w, 0xff, sizeof w);
	veil_wipe(w, sizeof w);
	assert_true(all_zero(w, sizeof w));
	veil_wipe(NULL, 0);
}

static void test_ct_equal(void **state)
{
	(void)state;
	uint8_t a[33], b[33];
	memset(a, 7, sizeof a);
	memset(b, 7, sizeof b);
	assert_true(veil_ct_equal(a, b, sizeof a));
	assert_true(veil_ct_equal(a, b, 0));
	for (size_t i = 0; i < sizeof a; i++) {
		b[i] ^= 0x80;
		assert_false(veil_ct_equal(a, b, sizeof a));
		assert_true(veil_ct_equal(a, b, i)); /* the prefix before it still matches */
		b[i] ^= 0x80;
	}
}

int main(void)
{
	/* As every veil executable does, before any secret exists. */
	if (veil_crypto_init(NULL) != VEIL_OK)
		return 1;
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_sha_kat),
	        cmocka_unit_test(test_sha_streaming),
	        cmocka_unit_test(test_sha_errors),
	        cmocka_unit_test(test_hmac_kat),
	        cmocka_unit_test(test_hkdf_kat),
	        cmocka_unit_test(test_hkdf_bounds),
	        cmocka_unit_test(test_scrypt_kat),
	        cmocka_unit_test(test_scrypt_bounds),
	        cmocka_unit_test(test_gcm_kat),
	        cmocka_unit_test(test_gcm_tamper),
	        cmocka_unit_test(test_gcm_inplace_and_args),
	        cmocka_unit_test(test_gcm_large),
	        cmocka_unit_test(test_wrap),
	        cmocka_unit_test(test_ed25519_kat),
	        cmocka_unit_test(test_ed25519_roundtrip),
	        cmocka_unit_test(test_x25519_kat),
	        cmocka_unit_test(test_x25519_roundtrip_and_small_order),
	        cmocka_unit_test(test_random),
	        cmocka_unit_test(test_secure_memory),
	        cmocka_unit_test(test_ct_equal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
