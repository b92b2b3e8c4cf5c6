/*
 * Ed25519 signatures (RFC 8032) and X25519 key agreement (RFC 7748) on raw
 * 32-byte keys, so that callers store and move plain byte strings and never
 * an OpenSSL object. Every EVP object is freed on every path; OpenSSL
 * cleanses its copies of private keys when they are freed.
 */
#include "veil/crypto.h"

#include "crypto_int.h"

#include <openssl/err.h>
#include <openssl/evp.h>

static const uint8_t empty[1];

/* raw_public and keygen serve both curves with one key size. */
#define KEY_LEN 32
_Static_assert(VEIL_ED25519_SEED_LEN == KEY_LEN && VEIL_ED25519_PUB_LEN == KEY_LEN &&
                       VEIL_X25519_KEY_LEN == KEY_LEN,
               "Ed25519 and X25519 keys are 32 bytes");

static veil_status missing(veil_err *err, const char *fn)
{
	return veil_err_set(err, VEIL_E_INVALID, "%s: missing key, message or output buffer", fn);
}

/* The public half of a raw private key of the given type. */
static veil_status raw_public(int type, const uint8_t priv[KEY_LEN], uint8_t pub[KEY_LEN], const char *what,
                              veil_err *err)
{
	veil_status st = VEIL_OK;
	size_t len = KEY_LEN;
	EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(type, NULL, priv, KEY_LEN);
	if (!pk || EVP_PKEY_get_raw_public_key(pk, pub, &len) != 1 || len != KEY_LEN) {
		veil_wipe(pub, KEY_LEN);
		st = crypto_ossl_fail(err, what, NULL);
	}
	EVP_PKEY_free(pk);
	return st;
}

/* A fresh random private key and its public key; both wiped on failure. */
static veil_status keygen(int type, uint8_t priv[KEY_LEN], uint8_t pub[KEY_LEN], const char *what,
                          veil_err *err)
{
	veil_status st = veil_random(priv, KEY_LEN, err);
	if (!st)
		st = raw_public(type, priv, pub, what, err);
	if (st) {
		veil_wipe(priv, KEY_LEN);
		veil_wipe(pub, KEY_LEN);
	}
	return st;
}

veil_status veil_ed25519_keygen(uint8_t seed[VEIL_ED25519_SEED_LEN], uint8_t pub[VEIL_ED25519_PUB_LEN],
                                veil_err *err)
{
	if (!seed || !pub)
		return missing(err, "veil_ed25519_keygen");
	return keygen(EVP_PKEY_ED25519, seed, pub, "Ed25519 key generation", err);
}

veil_status veil_ed25519_public(const uint8_t seed[VEIL_ED25519_SEED_LEN], uint8_t pub[VEIL_ED25519_PUB_LEN],
                                veil_err *err)
{
	if (!seed || !pub)
		return missing(err, "veil_ed25519_public");
	return raw_public(EVP_PKEY_ED25519, seed, pub, "Ed25519 public key derivation", err);
}

veil_status veil_ed25519_sign(const uint8_t seed[VEIL_ED25519_SEED_LEN], const void *msg, size_t n,
                              uint8_t sig[VEIL_ED25519_SIG_LEN], veil_err *err)
{
	if (!seed || !sig || (!msg && n))
		return missing(err, "veil_ed25519_sign");
	veil_status st = VEIL_OK;
	size_t len = VEIL_ED25519_SIG_LEN;
	EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, VEIL_ED25519_SEED_LEN);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	/* Pure Ed25519: no digest is named, the message is hashed inside. */
	if (!pk || !md || EVP_DigestSignInit(md, NULL, NULL, NULL, pk) != 1 ||
	    EVP_DigestSign(md, sig, &len, n ? msg : empty, n) != 1 || len != VEIL_ED25519_SIG_LEN) {
		veil_wipe(sig, VEIL_ED25519_SIG_LEN);
		st = crypto_ossl_fail(err, "Ed25519 signing", NULL);
	}
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	return st;
}

veil_status veil_ed25519_verify(const uint8_t pub[VEIL_ED25519_PUB_LEN], const void *msg, size_t n,
                                const uint8_t sig[VEIL_ED25519_SIG_LEN], veil_err *err)
{
	if (!pub || !sig || (!msg && n))
		return missing(err, "veil_ed25519_verify");
	veil_status st = VEIL_OK;
	EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, VEIL_ED25519_PUB_LEN);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!pk || !md || EVP_DigestVerifyInit(md, NULL, NULL, NULL, pk) != 1) {
		st = crypto_ossl_fail(err, "Ed25519 verification set-up", NULL);
	} else if (EVP_DigestVerify(md, sig, VEIL_ED25519_SIG_LEN, n ? msg : empty, n) != 1) {
		/* Fail closed: an error inside verification counts as a bad signature. */
		ERR_clear_error();
		veil_err_set(err, VEIL_E_AUTH, "Ed25519 signature does not verify");
		veil_err_hint(err, "the data or signature was modified, or it was signed with another key");
		st = VEIL_E_AUTH;
	}
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	return st;
}

veil_status veil_x25519_keygen(uint8_t priv[VEIL_X25519_KEY_LEN], uint8_t pub[VEIL_X25519_KEY_LEN],
                               veil_err *err)
{
	if (!priv || !pub)
		return missing(err, "veil_x25519_keygen");
	return keygen(EVP_PKEY_X25519, priv, pub, "X25519 key generation", err);
}

veil_status veil_x25519_public(const uint8_t priv[VEIL_X25519_KEY_LEN], uint8_t pub[VEIL_X25519_KEY_LEN],
                               veil_err *err)
{
	if (!priv || !pub)
		return missing(err, "veil_x25519_public");
	return raw_public(EVP_PKEY_X25519, priv, pub, "X25519 public key derivation", err);
}

static veil_status small_order(veil_err *err)
{
	veil_err_set(err, VEIL_E_CRYPTO,
	             "X25519: the peer's public key gives an all-zero shared secret "
	             "(a small-order point)");
	veil_err_hint(err, "the peer key is invalid or malicious; obtain the peer's real public key");
	return VEIL_E_CRYPTO;
}

veil_status veil_x25519(const uint8_t priv[VEIL_X25519_KEY_LEN], const uint8_t peer[VEIL_X25519_KEY_LEN],
                        uint8_t shared[VEIL_X25519_KEY_LEN], veil_err *err)
{
	if (!priv || !peer || !shared)
		return missing(err, "veil_x25519");
	static const uint8_t zero[VEIL_X25519_KEY_LEN];
	veil_status st = VEIL_OK;
	size_t len = VEIL_X25519_KEY_LEN;
	EVP_PKEY *me = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, VEIL_X25519_KEY_LEN);
	EVP_PKEY *them = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, VEIL_X25519_KEY_LEN);
	EVP_PKEY_CTX *ctx = me ? EVP_PKEY_CTX_new(me, NULL) : NULL;
	if (!me || !them || !ctx || EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer(ctx, them) != 1) {
		st = crypto_ossl_fail(err, "X25519 key agreement set-up", NULL);
	} else if (EVP_PKEY_derive(ctx, shared, &len) != 1 || len != VEIL_X25519_KEY_LEN) {
		/* OpenSSL itself refuses an all-zero result (RFC 7748 section 6.1). */
		ERR_clear_error();
		st = small_order(err);
	} else if (veil_ct_equal(shared, zero, VEIL_X25519_KEY_LEN)) {
		st = small_order(err); /* checked here too, whatever OpenSSL does */
	}
	if (st)
		veil_wipe(shared, VEIL_X25519_KEY_LEN);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(them);
	EVP_PKEY_free(me);
	return st;
}
