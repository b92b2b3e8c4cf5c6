/*
 * The training engine's generators: AES-256-CTR keystream (OpenSSL EVP) as
 * the one source of uniform bits, with uniform integers, uniform reals, a
 * Fisher–Yates permutation and standard normals (ziggurat) on top.
 *
 * Why AES-CTR: the DP noise and the Poisson sample must be unpredictable to
 * anyone without dp_seed (whoever could predict the noise could subtract
 * it), so they need a cryptographic generator; AES-CTR is one, runs at
 * several GB/s with AES-NI, and is counter-based: the counter block is
 * domain || index || block (learn_int.h), so every (domain, index) stream
 * starts anywhere in O(1). The non-secret seed's streams (initialisation,
 * shuffling) use the same machinery under a key hashed from the seed, so
 * there is one generator to test.
 *
 * Normals: the ziggurat of Marsaglia and Tsang ("The Ziggurat Method for
 * Generating Random Variables", J. Stat. Softw. 5(8), 2000) with 256 layers
 * (their r and v for 256). Each draw takes one 32-bit word whose bits are
 * split, not shared: bits 0-7 pick the layer, bit 8 is the sign, bits 9-31
 * are the 23-bit magnitude. (The paper's version reuses the layer bits in
 * the magnitude, the flaw Doornik 2005 points out; splitting them avoids
 * it.) About 99.3% of draws return after one comparison and one
 * multiplication; the rest take the wedge test or the tail (Marsaglia
 * 1964), which draw fresh 53-bit uniforms. 256 layers rather than 128
 * halve how often that slower path runs, which was a third of the noise's
 * cost. The fast path's values lie on a grid of 2^-23 of the layer's
 * width: float32's own resolution.
 */
#include "learn_int.h"

#include <math.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "veil/crypto.h"

/* Keystream is the encryption of zeros. */
static const uint8_t zeros[LRNG_BUF];

#define ZIG_R 3.6541528853610088 /* the start of the tail (256 layers) */
#define ZIG_V 0.00492867323399   /* the area of each layer */
#define ZIG_M 8388608.0          /* 2^23: the magnitude's range */

static void zig_tables(lrng *g)
{
	double dn = ZIG_R, tn = dn;
	double q = ZIG_V / exp(-0.5 * dn * dn);
	g->zk[0] = (uint32_t)((dn / q) * ZIG_M);
	g->zk[1] = 0;
	g->zw[0] = (float)(q / ZIG_M);
	g->zw[LRNG_ZIG - 1] = (float)(dn / ZIG_M);
	g->zf[0] = 1.0;
	g->zf[LRNG_ZIG - 1] = exp(-0.5 * dn * dn);
	for (size_t i = LRNG_ZIG - 2; i >= 1; i--) {
		dn = sqrt(-2.0 * log(ZIG_V / dn + exp(-0.5 * dn * dn)));
		g->zk[i + 1] = (uint32_t)((dn / tn) * ZIG_M);
		tn = dn;
		g->zf[i] = exp(-0.5 * dn * dn);
		g->zw[i] = (float)(dn / ZIG_M);
	}
}

veil_status lrng_new(lrng *g, const uint8_t key[LRNG_KEY_LEN], veil_err *err)
{
	memset(g, 0, sizeof *g);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	g->buf = malloc(LRNG_BUF);
	static const uint8_t iv[16];
	if (!ctx || !g->buf) {
		EVP_CIPHER_CTX_free(ctx);
		free(g->buf);
		g->buf = NULL;
		return LERR(err, VEIL_E_NOMEM, "out of memory for a generator");
	}
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_ctr(), NULL, key, iv) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		free(g->buf);
		g->buf = NULL;
		return LERR(err, VEIL_E_CRYPTO, "AES-256-CTR set-up failed");
	}
	g->ctx = ctx;
	zig_tables(g);
	return VEIL_OK;
}

void lrng_free(lrng *g)
{
	if (!g)
		return;
	EVP_CIPHER_CTX_free(g->ctx); /* cleanses the key schedule */
	if (g->buf) {
		veil_wipe(g->buf, LRNG_BUF); /* keystream of a secret key */
		free(g->buf);
	}
	memset(g, 0, sizeof *g);
}

veil_status lrng_seed_key(uint64_t seed, uint8_t key[LRNG_KEY_LEN], veil_err *err)
{
	static const char label[] = "veil learn seed v1";
	uint8_t msg[sizeof label - 1 + 8];
	memcpy(msg, label, sizeof label - 1);
	for (size_t i = 0; i < 8; i++)
		msg[sizeof label - 1 + i] = (uint8_t)(seed >> (8 * i));
	return veil_sha256(msg, sizeof msg, key, err);
}

void lrng_start_at(lrng *g, uint32_t domain, uint64_t index, uint32_t block)
{
	uint8_t iv[16] = {0};
	veil_put_be32(iv, domain);
	veil_put_be64(iv + 4, index);
	veil_put_be32(iv + 12, block);
	if (EVP_EncryptInit_ex(g->ctx, NULL, NULL, NULL, iv) != 1)
		g->failed = true;
	g->off = g->len = 0;
}

void lrng_refill(lrng *g)
{
	int outl = 0;
	if (g->failed || EVP_EncryptUpdate(g->ctx, g->buf, &outl, zeros, LRNG_BUF) != 1 || outl != LRNG_BUF) {
		/* Sticky: the caller checks lrng_ok after its batch of draws.
		 * Zeros keep every draw finite in the meantime. */
		g->failed = true;
		memset(g->buf, 0, LRNG_BUF);
	}
	g->off = 0;
	g->len = LRNG_BUF;
}

uint64_t lrng_below(lrng *g, uint64_t n)
{
	/* Reject the top (2^64 mod n) values so that x mod n is uniform. */
	uint64_t limit = UINT64_MAX - (UINT64_MAX % n + 1) % n;
	for (;;) {
		uint64_t x = lrng_u64(g);
		if (x <= limit || g->failed)
			return x % n;
	}
}

float lrng_normal_slow(lrng *g, uint32_t u)
{
	for (;;) {
		uint32_t i = u & (LRNG_ZIG - 1), j = u >> LRNG_ZIG_SHIFT;
		bool neg = (u & LRNG_ZIG) != 0;
		double x;
		if (j < g->zk[i]) {
			x = (double)j * (double)g->zw[i];
			return (float)(neg ? -x : x);
		}
		if (i == 0) {
			/* The tail beyond ZIG_R (Marsaglia 1964). */
			double y;
			do {
				x = -log(lrng_unit(g)) / ZIG_R;
				y = -log(lrng_unit(g));
			} while (y + y < x * x && !g->failed);
			x += ZIG_R;
			return (float)(neg ? -x : x);
		}
		x = (double)j * (double)g->zw[i];
		if (g->zf[i] + (1.0 - lrng_unit(g)) * (g->zf[i - 1] - g->zf[i]) < exp(-0.5 * x * x))
			return (float)(neg ? -x : x);
		if (g->failed)
			return 0.0f;
		u = lrng_u32(g);
	}
}

void lrng_permute(lrng *g, size_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = i;
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)lrng_below(g, i);
		size_t t = out[i - 1];
		out[i - 1] = out[j];
		out[j] = t;
	}
}
