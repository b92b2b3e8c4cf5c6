/*
 * SHA-256 and SHA-384, one-shot and streaming, and HMAC-SHA-256: the hashes
 * behind content addresses, the audit log's Merkle tree and HKDF.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "veil/crypto.h"

#include "crypto_int.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

struct veil_hash_ctx {
	EVP_MD_CTX *md;
	veil_hash_alg alg;
};

static const EVP_MD *md_of(veil_hash_alg alg)
{
	switch (alg) {
	case VEIL_HASH_SHA256:
		return EVP_sha256();
	case VEIL_HASH_SHA384:
		return EVP_sha384();
	case VEIL_HASH_SHA512:
		return EVP_sha512();
	}
	return NULL;
}

size_t veil_hash_len(veil_hash_alg alg)
{
	switch (alg) {
	case VEIL_HASH_SHA256:
		return VEIL_SHA256_LEN;
	case VEIL_HASH_SHA384:
		return VEIL_SHA384_LEN;
	case VEIL_HASH_SHA512:
		return VEIL_SHA512_LEN;
	}
	return 0;
}

static veil_status bad_alg(veil_err *err, veil_hash_alg alg)
{
	veil_err_set(err, VEIL_E_INVALID, "unknown hash algorithm %d", (int)alg);
	veil_err_hint(err, "use VEIL_HASH_SHA256, VEIL_HASH_SHA384 or VEIL_HASH_SHA512");
	return VEIL_E_INVALID;
}

veil_status veil_hash(veil_hash_alg alg, const void *data, size_t n, uint8_t *out, veil_err *err)
{
	const EVP_MD *md = md_of(alg);
	if (!md)
		return bad_alg(err, alg);
	if (!out || (!data && n))
		return veil_err_set(err, VEIL_E_INVALID, "veil_hash: missing input or output buffer");
	if (EVP_Digest(n ? data : "", n, out, NULL, md, NULL) != 1)
		return crypto_ossl_fail(err, "hashing", NULL);
	return VEIL_OK;
}

veil_status veil_sha256(const void *data, size_t n, uint8_t out[VEIL_SHA256_LEN], veil_err *err)
{
	return veil_hash(VEIL_HASH_SHA256, data, n, out, err);
}

veil_status veil_hash_init(veil_hash_ctx **ctx, veil_hash_alg alg, veil_err *err)
{
	if (!ctx)
		return veil_err_set(err, VEIL_E_INVALID, "veil_hash_init: no context pointer");
	*ctx = NULL;
	const EVP_MD *md = md_of(alg);
	if (!md)
		return bad_alg(err, alg);
	veil_hash_ctx *c = OPENSSL_zalloc(sizeof *c);
	if (!c)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory for a hash context");
	c->alg = alg;
	c->md = EVP_MD_CTX_new();
	if (!c->md || EVP_DigestInit_ex(c->md, md, NULL) != 1) {
		veil_hash_free(c);
		return crypto_ossl_fail(err, "starting a hash", NULL);
	}
	*ctx = c;
	return VEIL_OK;
}

veil_status veil_hash_update(veil_hash_ctx *ctx, const void *data, size_t n, veil_err *err)
{
	if (!ctx || (!data && n))
		return veil_err_set(err, VEIL_E_INVALID, "veil_hash_update: missing context or data");
	if (n && EVP_DigestUpdate(ctx->md, data, n) != 1)
		return crypto_ossl_fail(err, "hashing", NULL);
	return VEIL_OK;
}

veil_status veil_hash_final(veil_hash_ctx *ctx, uint8_t *out, veil_err *err)
{
	if (!ctx)
		return veil_err_set(err, VEIL_E_INVALID, "veil_hash_final: no context");
	veil_status st = VEIL_OK;
	if (!out)
		st = veil_err_set(err, VEIL_E_INVALID, "veil_hash_final: no output buffer");
	else if (EVP_DigestFinal_ex(ctx->md, out, NULL) != 1)
		st = crypto_ossl_fail(err, "finishing a hash", NULL);
	veil_hash_free(ctx);
	return st;
}

void veil_hash_free(veil_hash_ctx *ctx)
{
	if (!ctx)
		return;
	EVP_MD_CTX_free(ctx->md);
	OPENSSL_free(ctx);
}

veil_status veil_hash_file(veil_hash_alg alg, const char *path, uint8_t *out, veil_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot read %s", path);
	veil_hash_ctx *h = NULL;
	veil_status st = veil_hash_init(&h, alg, err);
	uint8_t buf[64 << 10];
	while (!st) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			st = veil_err_errno(err, VEIL_E_IO, errno, "cannot read %s", path);
		else if (n == 0)
			break;
		else
			st = veil_hash_update(h, buf, (size_t)n, err);
	}
	close(fd);
	if (st) {
		veil_hash_free(h);
		return st;
	}
	return veil_hash_final(h, out, err);
}

veil_status veil_hmac_sha256(const uint8_t *key, size_t keylen, const void *data, size_t n,
                             uint8_t out[VEIL_SHA256_LEN], veil_err *err)
{
	if (!out || (!key && keylen) || (!data && n))
		return veil_err_set(err, VEIL_E_INVALID,
		                    "veil_hmac_sha256: missing key, data or output buffer");
	static const uint8_t empty[1];
	veil_status st = VEIL_OK;
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
	        OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
	        OSSL_PARAM_construct_end(),
	};
	size_t outlen = 0;
	if (!ctx || EVP_MAC_init(ctx, keylen ? key : empty, keylen, params) != 1 ||
	    EVP_MAC_update(ctx, n ? data : empty, n) != 1 ||
	    EVP_MAC_final(ctx, out, &outlen, VEIL_SHA256_LEN) != 1 || outlen != VEIL_SHA256_LEN) {
		veil_wipe(out, VEIL_SHA256_LEN);
		st = crypto_ossl_fail(err, "HMAC-SHA-256", NULL);
	}
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return st;
}
