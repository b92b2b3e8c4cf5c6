/*
 * Key derivation: HKDF-SHA-256 (RFC 5869) for keys from keys, scrypt
 * (RFC 7914) for keys from passphrases. Both through OpenSSL's EVP_KDF.
 */
#include "veil/crypto.h"

#include "crypto_int.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

/* RFC 5869 section 2.3: L <= 255 * HashLen. */
#define HKDF_OUT_MAX (255u * VEIL_SHA256_LEN)
/* The bounds crypto.h documents for scrypt. */
#define SCRYPT_LOG_N_MIN 10u
#define SCRYPT_LOG_N_MAX 22u
#define SCRYPT_R_MAX     32u
#define SCRYPT_P_MAX     16u
/* A generous cap on the derived length (RFC 7914 allows far more). */
#define SCRYPT_OUT_MAX 4096u

/* OSSL_PARAM octet strings want a non-NULL pointer even for zero bytes. */
static const uint8_t empty[1];

/* Runs one EVP_KDF by name with the given parameters; wipes out on failure. */
static veil_status derive(const char *name, const OSSL_PARAM *params, uint8_t *out, size_t out_len,
                          const char *hint, veil_err *err)
{
	veil_status st = VEIL_OK;
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, name, NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	if (!ctx || EVP_KDF_derive(ctx, out, out_len, params) != 1) {
		veil_wipe(out, out_len);
		st = crypto_ossl_fail(err, name, hint);
	}
	EVP_KDF_CTX_free(ctx); /* cleanses the key material it copied */
	EVP_KDF_free(kdf);
	return st;
}

veil_status veil_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                             const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len,
                             veil_err *err)
{
	if (!out || (!ikm && ikm_len) || (!salt && salt_len) || (!info && info_len))
		return veil_err_set(err, VEIL_E_INVALID, "veil_hkdf_sha256: missing input or output buffer");
	if (out_len == 0 || out_len > HKDF_OUT_MAX) {
		veil_err_set(err, VEIL_E_INVALID, "HKDF-SHA-256 output length %zu is outside 1..%u", out_len,
		             HKDF_OUT_MAX);
		veil_err_hint(err, "derive at most %u bytes per call; use distinct info strings for more",
		              HKDF_OUT_MAX);
		return VEIL_E_INVALID;
	}
	OSSL_PARAM params[5], *p = params;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)(ikm_len ? ikm : empty),
	                                         ikm_len);
	/* An absent salt is HashLen zero bytes (RFC 5869 2.2); OpenSSL does that
	 * itself when no salt is given. */
	if (salt_len)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
	if (info_len)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
	*p = OSSL_PARAM_construct_end();
	return derive("HKDF", params, out, out_len, "check that OpenSSL 3 is installed correctly", err);
}

static veil_status scrypt_bounds(unsigned log_n, unsigned r, unsigned p, size_t out_len, veil_err *err)
{
	if (log_n < SCRYPT_LOG_N_MIN || log_n > SCRYPT_LOG_N_MAX || r < 1 || r > SCRYPT_R_MAX || p < 1 ||
	    p > SCRYPT_P_MAX) {
		veil_err_set(err, VEIL_E_INVALID, "scrypt parameters log_n=%u r=%u p=%u are out of range",
		             log_n, r, p);
		veil_err_hint(err, "use log_n in [%u, %u], r in [1, %u] and p in [1, %u]", SCRYPT_LOG_N_MIN,
		              SCRYPT_LOG_N_MAX, SCRYPT_R_MAX, SCRYPT_P_MAX);
		return VEIL_E_INVALID;
	}
	if (out_len == 0 || out_len > SCRYPT_OUT_MAX) {
		veil_err_set(err, VEIL_E_INVALID, "scrypt output length %zu is outside 1..%u", out_len,
		             SCRYPT_OUT_MAX);
		veil_err_hint(err, "derive a key of at most %u bytes and expand it with HKDF",
		              SCRYPT_OUT_MAX);
		return VEIL_E_INVALID;
	}
	return VEIL_OK;
}

veil_status veil_scrypt(const char *pass, size_t pass_len, const uint8_t *salt, size_t salt_len,
                        unsigned log_n, unsigned r, unsigned p, uint8_t *out, size_t out_len, veil_err *err)
{
	if (!out || (!pass && pass_len) || (!salt && salt_len))
		return veil_err_set(err, VEIL_E_INVALID, "veil_scrypt: missing input or output buffer");
	veil_status st = scrypt_bounds(log_n, r, p, out_len, err);
	if (st)
		return st;
	uint64_t n = (uint64_t)1 << log_n;
	uint32_t r32 = r, p32 = p;
	/* OpenSSL refuses to run when its working set (V: 128*r*(N+2), B:
	 * 128*r*p, plus scratch) exceeds maxmem, whose default (32 MiB) is below
	 * what our upper bounds need; allow exactly what was asked for. */
	uint64_t maxmem = 128u * (uint64_t)r * (n + 2) + 128u * (uint64_t)r * p + 256u * (uint64_t)r + 4096u;
	void *pw = pass_len ? (void *)pass : (void *)empty;
	void *sa = salt_len ? (void *)salt : (void *)empty;
	OSSL_PARAM params[] = {
	        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, pw, pass_len),
	        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, sa, salt_len),
	        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
	        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r32),
	        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p32),
	        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
	        OSSL_PARAM_construct_end(),
	};
	char hint[160]; /* a truncated hint would still help */
	snprintf(hint, sizeof hint,
	         "scrypt needs about %llu MiB of memory here: free memory or lower log_n or r",
	         (unsigned long long)(maxmem >> 20) + 1);
	return derive("SCRYPT", params, out, out_len, hint, err);
}
