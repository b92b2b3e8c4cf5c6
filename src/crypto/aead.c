/*
 * AES-256-GCM, one shot, and key wrapping built on it. Decryption never
 * hands back unauthenticated plaintext: on a bad tag the output is wiped.
 */
#include "veil/crypto.h"

#include "crypto_int.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

/* EVP_*Update take an int length; longer inputs go in pieces. */
#define AEAD_PIECE ((size_t)1 << 30)
/* NIST SP 800-38D: at most 2^39 - 256 bits of plaintext per invocation. */
#define GCM_PT_MAX ((((uint64_t)1 << 39) - 256) / 8)

static const uint8_t empty[1];

static veil_status check_args(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                              const uint8_t *in, const uint8_t *out, size_t len, const uint8_t *tag,
                              veil_err *err)
{
	if (!key || !nonce || !tag || (!aad && aad_len) || ((!in || !out) && len))
		return veil_err_set(err, VEIL_E_INVALID,
		                    "AES-256-GCM: missing key, nonce, tag or data buffer");
	if ((uint64_t)len > GCM_PT_MAX) {
		veil_err_set(err, VEIL_E_LIMIT, "AES-256-GCM: %zu bytes is more than one message may hold",
		             len);
		veil_err_hint(err, "split the data into chunks (the object container does this)");
		return VEIL_E_LIMIT;
	}
	return VEIL_OK;
}

/* Feeds AAD (out == NULL) or data through the cipher in int-sized pieces. */
static int update(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in, size_t len)
{
	for (size_t done = 0; done < len;) {
		size_t k = len - done < AEAD_PIECE ? len - done : AEAD_PIECE;
		int got = 0;
		if (EVP_CipherUpdate(ctx, out ? out + done : NULL, &got, in + done, (int)k) != 1)
			return 0;
		if (out && (size_t)got != k)
			return 0; /* GCM is a stream mode: never buffers */
		done += k;
	}
	return 1;
}

/* Sets up ctx for one message: enc 1 seals, 0 opens. */
static int start(EVP_CIPHER_CTX *ctx, int enc, const uint8_t *key, const uint8_t *nonce)
{
	return EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
	       EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, VEIL_GCM_NONCE_LEN, NULL) == 1 &&
	       EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) == 1;
}

veil_status veil_aead_seal(const uint8_t key[VEIL_AES256_KEY_LEN], const uint8_t nonce[VEIL_GCM_NONCE_LEN],
                           const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len, uint8_t *ct,
                           uint8_t tag[VEIL_GCM_TAG_LEN], veil_err *err)
{
	veil_status st = check_args(key, nonce, aad, aad_len, pt, ct, pt_len, tag, err);
	if (st)
		return st;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int fin = 0;
	if (!ctx || !start(ctx, 1, key, nonce) || !update(ctx, NULL, aad_len ? aad : empty, aad_len) ||
	    !update(ctx, ct, pt, pt_len) || EVP_CipherFinal_ex(ctx, tag, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, VEIL_GCM_TAG_LEN, tag) != 1) {
		/* ct may alias pt; a half-written output is of no use either way. */
		if (pt_len)
			veil_wipe(ct, pt_len);
		veil_wipe(tag, VEIL_GCM_TAG_LEN);
		st = crypto_ossl_fail(err, "AES-256-GCM encryption", NULL);
	}
	EVP_CIPHER_CTX_free(ctx); /* cleanses the key schedule */
	return st;
}

veil_status veil_aead_open(const uint8_t key[VEIL_AES256_KEY_LEN], const uint8_t nonce[VEIL_GCM_NONCE_LEN],
                           const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
                           const uint8_t tag[VEIL_GCM_TAG_LEN], uint8_t *pt, veil_err *err)
{
	veil_status st = check_args(key, nonce, aad, aad_len, ct, pt, ct_len, tag, err);
	if (st)
		return st;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t tagcopy[VEIL_GCM_TAG_LEN], last[16];
	memcpy(tagcopy, tag, sizeof tagcopy); /* SET_TAG wants a mutable pointer */
	int fin = 0;
	if (!ctx || !start(ctx, 0, key, nonce) || !update(ctx, NULL, aad_len ? aad : empty, aad_len) ||
	    !update(ctx, pt, ct, ct_len) ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, VEIL_GCM_TAG_LEN, tagcopy) != 1) {
		st = crypto_ossl_fail(err, "AES-256-GCM decryption", NULL);
	} else if (EVP_CipherFinal_ex(ctx, last, &fin) != 1) {
		ERR_clear_error();
		veil_err_set(err, VEIL_E_AUTH,
		             "AES-256-GCM: the data or its associated data was modified, "
		             "or the key is wrong");
		veil_err_hint(err,
		              "check that the right key is used; otherwise the data is damaged or tampered "
		              "with and must not be trusted");
		st = VEIL_E_AUTH;
	}
	if (st && ct_len)
		veil_wipe(pt, ct_len); /* never release unauthenticated plaintext */
	EVP_CIPHER_CTX_free(ctx);
	return st;
}

veil_status veil_wrap(const uint8_t kek[VEIL_AES256_KEY_LEN], const uint8_t *aad, size_t aad_len,
                      const uint8_t *key, size_t key_len, uint8_t *out, veil_err *err)
{
	if (!kek || !out || (!key && key_len) || (!aad && aad_len))
		return veil_err_set(err, VEIL_E_INVALID, "veil_wrap: missing kek, key, aad or output buffer");
	/* A random 96-bit nonce per wrap: KEKs wrap far fewer than the 2^32
	 * messages SP 800-38D allows for random nonces. */
	veil_status st = veil_random(out, VEIL_GCM_NONCE_LEN, err);
	if (!st)
		st = veil_aead_seal(kek, out, aad, aad_len, key, key_len, out + VEIL_GCM_NONCE_LEN,
		                    out + VEIL_GCM_NONCE_LEN + key_len, err);
	if (st)
		veil_wipe(out, key_len + VEIL_WRAP_OVERHEAD);
	return st;
}

veil_status veil_unwrap(const uint8_t kek[VEIL_AES256_KEY_LEN], const uint8_t *aad, size_t aad_len,
                        const uint8_t *in, size_t in_len, uint8_t *key, veil_err *err)
{
	if (!kek || !in || (!aad && aad_len))
		return veil_err_set(err, VEIL_E_INVALID, "veil_unwrap: missing kek, input or aad");
	if (in_len < VEIL_WRAP_OVERHEAD) {
		veil_err_set(err, VEIL_E_INVALID,
		             "wrapped key is %zu bytes, shorter than the %d-byte minimum", in_len,
		             VEIL_WRAP_OVERHEAD);
		veil_err_hint(err, "the wrapped key is truncated; restore it from a backup");
		return VEIL_E_INVALID;
	}
	size_t key_len = in_len - VEIL_WRAP_OVERHEAD;
	if (!key && key_len)
		return veil_err_set(err, VEIL_E_INVALID, "veil_unwrap: no output buffer");
	return veil_aead_open(kek, in, aad, aad_len, in + VEIL_GCM_NONCE_LEN, key_len,
	                      in + VEIL_GCM_NONCE_LEN + key_len, key, err);
}
