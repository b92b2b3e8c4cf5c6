/*
 * HPKE (RFC 9180), base mode only, for DHKEM(X25519, HKDF-SHA256) and
 * HKDF-SHA256 with any of the three AEADs the RFC names. Debian 12's
 * OpenSSL 3.0 has no OSSL_HPKE, so this file builds it from EVP pieces:
 * X25519 from ecc.c, HKDF extract and expand as separate EVP_KDF steps, and
 * the AEAD through EVP_CIPHER. Each function below cites the RFC section it
 * implements, and uses the RFC's names, so that a reviewer can read the two
 * side by side. Every intermediate secret (ephemeral key, DH output, shared
 * secret, key schedule secret) lives in veil_secure_alloc memory and is
 * wiped on every path; a context is one secure allocation wiped on free.
 */
#include "veil/crypto.h"

#include "crypto_int.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#define NH          32u /* HKDF-SHA256: Nh, and the size of every PRK */
#define NSECRET     32u /* DHKEM(X25519): Nsecret */
#define NN          12u /* Nn of all three AEADs */
#define NK_MAX      32u /* the largest Nk */
#define KEM_SID_LEN 5u  /* "KEM" || I2OSP(kem_id, 2) */
#define SID_LEN     10u /* "HPKE" || kem_id || kdf_id || aead_id, two bytes each */
#define VERSION     "HPKE-v1"
#define VERSION_LEN 7u
#define KSC_LEN     (1u + 2u * NH) /* mode || psk_id_hash || info_hash */
#define MODE_BASE   0x00u

_Static_assert(VEIL_HPKE_SK_LEN == VEIL_X25519_KEY_LEN && VEIL_HPKE_PK_LEN == VEIL_X25519_KEY_LEN &&
                       VEIL_HPKE_ENC_LEN == VEIL_X25519_KEY_LEN && NSECRET == VEIL_X25519_KEY_LEN,
               "DHKEM(X25519) keys, enc and shared secret are raw X25519 values");
_Static_assert(VEIL_HPKE_EXPORT_MAX / 255u == NH, "RFC 9180 5.3: L <= 255 * Nh");
_Static_assert(VEIL_HPKE_EXPORT_MAX <= 0xffffu, "L is encoded in two bytes in LabeledExpand");
_Static_assert(VEIL_HPKE_MSG_MAX <= 0x7fffffffu, "one EVP update per message: lengths fit an int");

struct veil_hpke_ctx {
	bool sender; /* seals if true, opens if false: one direction per context */
	unsigned aead_id;
	const EVP_CIPHER *cipher;
	size_t nk;
	uint64_t seq; /* the next message's sequence number */
	uint8_t key[NK_MAX];
	uint8_t base_nonce[NN];
	uint8_t exporter_secret[NH];
};

/* The secrets of one set-up, in one secure allocation so that a single
 * free wipes them all whichever step failed. */
typedef struct setup_secrets {
	uint8_t ske[VEIL_HPKE_SK_LEN]; /* the sender's ephemeral private key */
	uint8_t dh[NSECRET];
	uint8_t shared_secret[NSECRET];
	uint8_t secret[NH]; /* the key schedule's secret */
} setup_secrets;

/* The helpers return their code themselves rather than veil_err_set's
 * result, so that the analyzer can see that a failure is never VEIL_OK. */
static veil_status invalid(veil_err *err, const char *fn, const char *what)
{
	veil_err_set(err, VEIL_E_INVALID, "%s: missing %s", fn, what);
	return VEIL_E_INVALID;
}

static veil_status nomem(veil_err *err, const char *what)
{
	veil_err_set(err, VEIL_E_NOMEM, "HPKE: out of memory for %s", what);
	return VEIL_E_NOMEM;
}

/* Appends n bytes at dst and returns the end; how the labeled inputs are
 * built. */
static uint8_t *put(uint8_t *dst, const void *src, size_t n)
{
	if (n && src)
		memcpy(dst, src, n);
	return dst + n;
}

static veil_status too_long(veil_err *err, const char *what, size_t len, size_t max)
{
	veil_err_set(err, VEIL_E_LIMIT, "HPKE: %s is %zu bytes, more than the %zu allowed", what, len, max);
	veil_err_hint(err, "see the limits in docs/formats/hpke.md");
	return VEIL_E_LIMIT;
}

/* The AEAD for an RFC 9180 identifier (section 7.3); NULL if not one of ours. */
static const EVP_CIPHER *aead_cipher(unsigned aead_id, size_t *nk)
{
	switch (aead_id) {
	case VEIL_HPKE_AEAD_AES128_GCM:
		*nk = 16;
		return EVP_aes_128_gcm();
	case VEIL_HPKE_AEAD_AES256_GCM:
		*nk = 32;
		return EVP_aes_256_gcm();
	case VEIL_HPKE_AEAD_CHACHA20:
		*nk = 32;
		return EVP_chacha20_poly1305();
	default:
		return NULL;
	}
}

static veil_status unsupported(veil_err *err, const char *what, unsigned id)
{
	veil_err_set(err, VEIL_E_UNSUPPORTED, "HPKE: %s 0x%04x is not supported", what, id);
	veil_err_hint(err,
	              "veil speaks DHKEM(X25519, HKDF-SHA256) (0x0020), HKDF-SHA256 (0x0001) and the AEADs "
	              "AES-128-GCM (0x0001), AES-256-GCM (0x0002), ChaCha20-Poly1305 (0x0003)");
	return VEIL_E_UNSUPPORTED;
}

veil_status veil_hpke_suite_check(unsigned kem_id, unsigned kdf_id, unsigned aead_id, veil_err *err)
{
	size_t nk = 0;
	if (kem_id != VEIL_HPKE_KEM_X25519_SHA256)
		return unsupported(err, "KEM", kem_id);
	if (kdf_id != VEIL_HPKE_KDF_HKDF_SHA256)
		return unsupported(err, "KDF", kdf_id);
	if (!aead_cipher(aead_id, &nk))
		return unsupported(err, "AEAD", aead_id);
	return VEIL_OK;
}

/* ---- HKDF-SHA256 as two steps (RFC 5869 2.2 and 2.3) ---- */

/* One EVP_KDF "HKDF" run in EXTRACT_ONLY or EXPAND_ONLY mode. key is the
 * IKM when extracting and the PRK when expanding. An empty salt is left
 * out: OpenSSL then uses Nh zero bytes, as RFC 5869 says. */
static veil_status hkdf_step(int mode, const uint8_t *key, size_t key_len, const uint8_t *salt,
                             size_t salt_len, const uint8_t *info, size_t info_len, uint8_t *out,
                             size_t out_len, veil_err *err)
{
	OSSL_PARAM params[6], *p = params;
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, key_len);
	if (salt_len)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
	if (info_len)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
	*p = OSSL_PARAM_construct_end();

	veil_status st = VEIL_OK;
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	if (!kctx || EVP_KDF_derive(kctx, out, out_len, params) != 1) {
		veil_wipe(out, out_len);
		st = crypto_ossl_fail(err, "HPKE: HKDF-SHA256", NULL);
	}
	EVP_KDF_CTX_free(kctx); /* cleanses its copies of key and salt */
	EVP_KDF_free(kdf);
	return st;
}

/* LabeledExtract(salt, label, ikm) (RFC 9180 4):
 *   Extract(salt, "HPKE-v1" || suite_id || label || ikm)
 * ikm is often secret (the DH output), so the concatenation is built in
 * secure memory. */
static veil_status labeled_extract(const uint8_t *sid, size_t sid_len, const uint8_t *salt, size_t salt_len,
                                   const char *label, const uint8_t *ikm, size_t ikm_len, uint8_t out[NH],
                                   veil_err *err)
{
	size_t label_len = strlen(label);
	size_t n = VERSION_LEN + sid_len + label_len + ikm_len;
	uint8_t *buf = veil_secure_alloc(n);
	if (!buf)
		return nomem(err, "LabeledExtract");
	uint8_t *q = put(buf, VERSION, VERSION_LEN);
	q = put(q, sid, sid_len);
	q = put(q, label, label_len);
	put(q, ikm, ikm_len);
	veil_status st =
	        hkdf_step(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, buf, n, salt, salt_len, NULL, 0, out, NH, err);
	veil_secure_free(buf, n);
	return st;
}

/* LabeledExpand(prk, label, info, L) (RFC 9180 4):
 *   Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L) */
static veil_status labeled_expand(const uint8_t *sid, size_t sid_len, const uint8_t prk[NH],
                                  const char *label, const uint8_t *info, size_t info_len, size_t L,
                                  uint8_t *out, veil_err *err)
{
	size_t label_len = strlen(label);
	size_t n = 2 + VERSION_LEN + sid_len + label_len + info_len;
	uint8_t *buf = veil_secure_alloc(n);
	if (!buf)
		return nomem(err, "LabeledExpand");
	veil_put_be16(buf, (uint16_t)L);
	uint8_t *q = put(buf + 2, VERSION, VERSION_LEN);
	q = put(q, sid, sid_len);
	q = put(q, label, label_len);
	put(q, info, info_len);
	veil_status st = hkdf_step(EVP_KDF_HKDF_MODE_EXPAND_ONLY, prk, NH, NULL, 0, buf, n, out, L, err);
	veil_secure_free(buf, n);
	return st;
}

/* ---- DHKEM(X25519, HKDF-SHA256) (RFC 9180 4.1) ---- */

static void kem_suite_id(uint8_t sid[KEM_SID_LEN])
{
	put(sid, "KEM", 3);
	veil_put_be16(sid + 3, VEIL_HPKE_KEM_X25519_SHA256);
}

/* ExtractAndExpand(dh, kem_context):
 *   eae_prk = LabeledExtract("", "eae_prk", dh)
 *   shared_secret = LabeledExpand(eae_prk, "shared_secret", kem_context, Nsecret) */
static veil_status extract_and_expand(const uint8_t dh[NSECRET], const uint8_t enc[VEIL_HPKE_ENC_LEN],
                                      const uint8_t pkR[VEIL_HPKE_PK_LEN], uint8_t shared_secret[NSECRET],
                                      veil_err *err)
{
	uint8_t sid[KEM_SID_LEN], kem_context[VEIL_HPKE_ENC_LEN + VEIL_HPKE_PK_LEN];
	kem_suite_id(sid);
	memcpy(kem_context, enc, VEIL_HPKE_ENC_LEN);
	memcpy(kem_context + VEIL_HPKE_ENC_LEN, pkR, VEIL_HPKE_PK_LEN);
	uint8_t *eae_prk = veil_secure_alloc(NH);
	if (!eae_prk)
		return nomem(err, "the KEM");
	veil_status st = labeled_extract(sid, sizeof sid, NULL, 0, "eae_prk", dh, NSECRET, eae_prk, err);
	if (!st)
		st = labeled_expand(sid, sizeof sid, eae_prk, "shared_secret", kem_context,
		                    sizeof kem_context, NSECRET, shared_secret, err);
	veil_secure_free(eae_prk, NH);
	return st;
}

/* Encap(pkR) with the ephemeral private key given (random or derived):
 * enc = pkE, dh = DH(skE, pkR), shared_secret = ExtractAndExpand. */
static veil_status encap(setup_secrets *s, const uint8_t pkR[VEIL_HPKE_PK_LEN],
                         uint8_t enc[VEIL_HPKE_ENC_LEN], veil_err *err)
{
	veil_status st = veil_x25519_public(s->ske, enc, err);
	if (!st)
		st = veil_x25519(s->ske, pkR, s->dh, err);
	if (!st)
		st = extract_and_expand(s->dh, enc, pkR, s->shared_secret, err);
	if (st)
		veil_err_wrap(err, "HPKE encapsulation to the receiver's public key");
	return st;
}

/* Decap(enc, skR): dh = DH(skR, pkE), kem_context = enc || pk(skR). */
static veil_status decap(setup_secrets *s, const uint8_t skR[VEIL_HPKE_SK_LEN],
                         const uint8_t enc[VEIL_HPKE_ENC_LEN], veil_err *err)
{
	uint8_t pkR[VEIL_HPKE_PK_LEN];
	veil_status st = veil_x25519(skR, enc, s->dh, err);
	if (!st)
		st = veil_x25519_public(skR, pkR, err);
	if (!st)
		st = extract_and_expand(s->dh, enc, pkR, s->shared_secret, err);
	if (st)
		veil_err_wrap(err, "HPKE decapsulation of enc");
	return st;
}

/* DeriveKeyPair(ikm) (RFC 9180 7.1.3), X25519 branch:
 *   dkp_prk = LabeledExtract("", "dkp_prk", ikm)
 *   sk = LabeledExpand(dkp_prk, "sk", "", Nsk)
 * X25519 clamps the scalar itself, so sk needs no further change. */
veil_status veil_hpke_derive_keypair(const uint8_t *ikm, size_t ikm_len, uint8_t sk[VEIL_HPKE_SK_LEN],
                                     uint8_t pk[VEIL_HPKE_PK_LEN], veil_err *err)
{
	if (!ikm || !sk || !pk)
		return invalid(err, "veil_hpke_derive_keypair", "ikm or output buffer");
	if (ikm_len < VEIL_HPKE_IKM_MIN || ikm_len > VEIL_HPKE_IKM_MAX) {
		veil_err_set(err, VEIL_E_INVALID, "HPKE: ikm is %zu bytes, outside %u..%u", ikm_len,
		             VEIL_HPKE_IKM_MIN, VEIL_HPKE_IKM_MAX);
		veil_err_hint(err, "pass %u to %u bytes of secret, uniformly random ikm (RFC 9180 7.1)",
		              VEIL_HPKE_IKM_MIN, VEIL_HPKE_IKM_MAX);
		return VEIL_E_INVALID;
	}
	uint8_t sid[KEM_SID_LEN];
	kem_suite_id(sid);
	uint8_t *dkp_prk = veil_secure_alloc(NH);
	if (!dkp_prk)
		return nomem(err, "DeriveKeyPair");
	veil_status st = labeled_extract(sid, sizeof sid, NULL, 0, "dkp_prk", ikm, ikm_len, dkp_prk, err);
	if (!st)
		st = labeled_expand(sid, sizeof sid, dkp_prk, "sk", NULL, 0, VEIL_HPKE_SK_LEN, sk, err);
	if (!st)
		st = veil_x25519_public(sk, pk, err);
	veil_secure_free(dkp_prk, NH);
	if (st) {
		veil_wipe(sk, VEIL_HPKE_SK_LEN);
		veil_wipe(pk, VEIL_HPKE_PK_LEN);
	}
	return st;
}

/* ---- the key schedule (RFC 9180 5.1), mode_base ---- */

static void hpke_suite_id(unsigned aead_id, uint8_t sid[SID_LEN])
{
	put(sid, "HPKE", 4);
	veil_put_be16(sid + 4, VEIL_HPKE_KEM_X25519_SHA256);
	veil_put_be16(sid + 6, VEIL_HPKE_KDF_HKDF_SHA256);
	veil_put_be16(sid + 8, (uint16_t)aead_id);
}

/* KeySchedule(mode_base, shared_secret, info, psk = "", psk_id = ""):
 *   key_schedule_context = mode || LabeledExtract("", "psk_id_hash", "")
 *                               || LabeledExtract("", "info_hash", info)
 *   secret = LabeledExtract(shared_secret, "secret", "")
 *   key, base_nonce, exporter_secret = LabeledExpand(secret, "key" | "base_nonce" | "exp",
 *                                                    key_schedule_context, Nk | Nn | Nh) */
static veil_status key_schedule(veil_hpke_ctx *c, setup_secrets *s, const uint8_t *info, size_t info_len,
                                veil_err *err)
{
	uint8_t sid[SID_LEN], ksc[KSC_LEN];
	hpke_suite_id(c->aead_id, sid);
	ksc[0] = MODE_BASE;
	veil_status st = labeled_extract(sid, sizeof sid, NULL, 0, "psk_id_hash", NULL, 0, ksc + 1, err);
	if (!st)
		st = labeled_extract(sid, sizeof sid, NULL, 0, "info_hash", info, info_len, ksc + 1 + NH,
		                     err);
	if (!st)
		st = labeled_extract(sid, sizeof sid, s->shared_secret, NSECRET, "secret", NULL, 0, s->secret,
		                     err);
	if (!st)
		st = labeled_expand(sid, sizeof sid, s->secret, "key", ksc, sizeof ksc, c->nk, c->key, err);
	if (!st)
		st = labeled_expand(sid, sizeof sid, s->secret, "base_nonce", ksc, sizeof ksc, NN,
		                    c->base_nonce, err);
	if (!st)
		st = labeled_expand(sid, sizeof sid, s->secret, "exp", ksc, sizeof ksc, NH,
		                    c->exporter_secret, err);
	return st;
}

/* Checks the arguments every set-up shares and makes the empty context.
 * On success *c and *s are fresh secure allocations owned by the caller. */
static veil_status setup_start(unsigned aead_id, const uint8_t *info, size_t info_len, bool sender,
                               veil_hpke_ctx **c, setup_secrets **s, veil_err *err)
{
	if (!info && info_len)
		return invalid(err, "HPKE set-up", "info");
	if (info_len > VEIL_HPKE_INFO_MAX)
		return too_long(err, "info", info_len, VEIL_HPKE_INFO_MAX);
	size_t nk = 0;
	const EVP_CIPHER *cipher = aead_cipher(aead_id, &nk);
	if (!cipher)
		return unsupported(err, "AEAD", aead_id);
	*c = veil_secure_alloc(sizeof **c);
	*s = veil_secure_alloc(sizeof **s);
	if (!*c || !*s) {
		veil_secure_free(*c, sizeof **c);
		veil_secure_free(*s, sizeof **s);
		*c = NULL;
		*s = NULL;
		return nomem(err, "a context");
	}
	(*c)->sender = sender;
	(*c)->aead_id = aead_id;
	(*c)->cipher = cipher;
	(*c)->nk = nk;
	return VEIL_OK;
}

/* Runs the key schedule, frees the set-up secrets and hands the context
 * over, or frees it. */
static veil_status setup_finish(veil_status st, veil_hpke_ctx *c, setup_secrets *s, const uint8_t *info,
                                size_t info_len, veil_hpke_ctx **out, veil_err *err)
{
	if (!st)
		st = key_schedule(c, s, info, info_len, err);
	veil_secure_free(s, sizeof *s);
	if (st) {
		veil_hpke_free(c);
		return st;
	}
	*out = c;
	return VEIL_OK;
}

/* SetupBaseS with skE either drawn (ikmE NULL) or derived from ikmE. */
static veil_status setup_sender(unsigned aead_id, const uint8_t *pkR, const uint8_t *info, size_t info_len,
                                const uint8_t *ikmE, size_t ikmE_len, uint8_t *enc, veil_hpke_ctx **out,
                                veil_err *err)
{
	if (!out || !enc)
		return invalid(err, "HPKE sender set-up", "enc or context output");
	*out = NULL;
	veil_wipe(enc, VEIL_HPKE_ENC_LEN);
	if (!pkR)
		return invalid(err, "HPKE sender set-up", "receiver public key");
	veil_hpke_ctx *c = NULL;
	setup_secrets *s = NULL;
	veil_status st = setup_start(aead_id, info, info_len, true, &c, &s, err);
	if (st)
		return st;
	uint8_t pkE[VEIL_HPKE_PK_LEN];
	if (ikmE)
		st = veil_hpke_derive_keypair(ikmE, ikmE_len, s->ske, pkE, err);
	else
		st = veil_x25519_keygen(s->ske, pkE, err);
	if (!st)
		st = encap(s, pkR, enc, err);
	st = setup_finish(st, c, s, info, info_len, out, err);
	if (st)
		veil_wipe(enc, VEIL_HPKE_ENC_LEN);
	return st;
}

veil_status veil_hpke_setup_sender(unsigned aead_id, const uint8_t pkR[VEIL_HPKE_PK_LEN], const uint8_t *info,
                                   size_t info_len, uint8_t enc[VEIL_HPKE_ENC_LEN], veil_hpke_ctx **out,
                                   veil_err *err)
{
	return setup_sender(aead_id, pkR, info, info_len, NULL, 0, enc, out, err);
}

veil_status veil_hpke_setup_sender_derand(unsigned aead_id, const uint8_t pkR[VEIL_HPKE_PK_LEN],
                                          const uint8_t *info, size_t info_len, const uint8_t *ikmE,
                                          size_t ikmE_len, uint8_t enc[VEIL_HPKE_ENC_LEN],
                                          veil_hpke_ctx **out, veil_err *err)
{
	if (!ikmE) {
		if (out)
			*out = NULL;
		return invalid(err, "veil_hpke_setup_sender_derand", "ikmE");
	}
	return setup_sender(aead_id, pkR, info, info_len, ikmE, ikmE_len, enc, out, err);
}

veil_status veil_hpke_setup_receiver(unsigned aead_id, const uint8_t skR[VEIL_HPKE_SK_LEN],
                                     const uint8_t enc[VEIL_HPKE_ENC_LEN], const uint8_t *info,
                                     size_t info_len, veil_hpke_ctx **out, veil_err *err)
{
	if (!out)
		return invalid(err, "HPKE receiver set-up", "context output");
	*out = NULL;
	if (!skR || !enc)
		return invalid(err, "HPKE receiver set-up", "private key or enc");
	veil_hpke_ctx *c = NULL;
	setup_secrets *s = NULL;
	veil_status st = setup_start(aead_id, info, info_len, false, &c, &s, err);
	if (st)
		return st;
	st = decap(s, skR, enc, err);
	return setup_finish(st, c, s, info, info_len, out, err);
}

void veil_hpke_free(veil_hpke_ctx *ctx)
{
	veil_secure_free(ctx, sizeof *ctx);
}

/* ---- the encryption context (RFC 9180 5.2) ---- */

uint64_t veil_hpke_seq(const veil_hpke_ctx *ctx)
{
	return ctx ? ctx->seq : 0;
}

veil_status veil_hpke_skip_to(veil_hpke_ctx *ctx, uint64_t seq, veil_err *err)
{
	if (!ctx)
		return invalid(err, "veil_hpke_skip_to", "context");
	if (seq < ctx->seq) {
		veil_err_set(err, VEIL_E_INVALID, "HPKE: sequence number %llu is behind the context's %llu",
		             (unsigned long long)seq, (unsigned long long)ctx->seq);
		veil_err_hint(err, "a sequence number is never reused; set up a new context instead");
		return VEIL_E_INVALID;
	}
	ctx->seq = seq;
	return VEIL_OK;
}

/* ComputeNonce(seq) = base_nonce XOR I2OSP(seq, Nn). The RFC refuses seq
 * >= 2^(8 Nn) - 1; our counter is 64 bits, so the same rule at 2^64 - 1
 * keeps it from wrapping round to a used nonce. */
static veil_status compute_nonce(const veil_hpke_ctx *c, uint8_t nonce[NN], veil_err *err)
{
	if (c->seq == UINT64_MAX) {
		veil_err_set(err, VEIL_E_LIMIT, "HPKE: this context's sequence numbers are used up");
		veil_err_hint(err, "set up a new HPKE context for further messages");
		return VEIL_E_LIMIT;
	}
	uint8_t seq[8];
	veil_put_be64(seq, c->seq);
	memcpy(nonce, c->base_nonce, NN);
	for (size_t i = 0; i < sizeof seq; i++)
		nonce[NN - sizeof seq + i] ^= seq[i];
	return VEIL_OK;
}

/* One AEAD message: enc 1 seals pt into out and writes tag, enc 0 opens
 * into out and checks tag. Lengths are bounded by VEIL_HPKE_MSG_MAX, so
 * each goes through EVP in one int-sized update. On failure out is wiped;
 * a bad tag is VEIL_E_AUTH. */
static veil_status aead_run(const veil_hpke_ctx *c, int enc, const uint8_t nonce[NN], const uint8_t *aad,
                            size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
                            uint8_t tag[VEIL_HPKE_TAG_LEN], veil_err *err)
{
	veil_status st = VEIL_OK;
	int got = 0;
	uint8_t last[16]; /* Final writes nothing for these stream-like AEADs */
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (!ctx || EVP_CipherInit_ex(ctx, c->cipher, NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, NN, NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, c->key, nonce, enc) != 1 ||
	    (aad_len && EVP_CipherUpdate(ctx, NULL, &got, aad, (int)aad_len) != 1) ||
	    (len && (EVP_CipherUpdate(ctx, out, &got, in, (int)len) != 1 || (size_t)got != len)) ||
	    (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, VEIL_HPKE_TAG_LEN, tag) != 1)) {
		st = crypto_ossl_fail(err, enc ? "HPKE: AEAD encryption" : "HPKE: AEAD decryption", NULL);
	} else if (EVP_CipherFinal_ex(ctx, last, &got) != 1) {
		if (enc) {
			st = crypto_ossl_fail(err, "HPKE: AEAD encryption", NULL);
		} else {
			ERR_clear_error();
			veil_err_set(
			        err, VEIL_E_AUTH,
			        "HPKE: the message does not open: it or its associated data was modified, "
			        "it is out of order, or it was sealed to another key or info");
			veil_err_hint(err,
			              "the message must not be trusted; ask the sender to send it again");
			st = VEIL_E_AUTH;
		}
	} else if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, VEIL_HPKE_TAG_LEN, tag) != 1) {
		st = crypto_ossl_fail(err, "HPKE: AEAD encryption", NULL);
	}
	if (st) {
		if (len)
			veil_wipe(out, len); /* never release unauthenticated plaintext */
		if (enc)
			veil_wipe(tag, VEIL_HPKE_TAG_LEN);
	}
	EVP_CIPHER_CTX_free(ctx); /* cleanses the key schedule */
	return st;
}

static veil_status message_args(const char *fn, const uint8_t *aad, size_t aad_len, const uint8_t *in,
                                const uint8_t *out, size_t len, veil_err *err)
{
	if ((!aad && aad_len) || ((!in || !out) && len))
		return invalid(err, fn, "aad or data buffer");
	if (aad_len > VEIL_HPKE_MSG_MAX)
		return too_long(err, "aad", aad_len, VEIL_HPKE_MSG_MAX);
	if (len > VEIL_HPKE_MSG_MAX)
		return too_long(err, "the message", len, VEIL_HPKE_MSG_MAX);
	return VEIL_OK;
}

static veil_status wrong_role(veil_err *err, const char *fn, bool sender)
{
	veil_err_set(err, VEIL_E_INVALID, "%s: this is a %s context", fn, sender ? "sender" : "receiver");
	veil_err_hint(err, "seal with the context from veil_hpke_setup_sender, open with the one from "
	                   "veil_hpke_setup_receiver");
	return VEIL_E_INVALID;
}

veil_status veil_hpke_seal(veil_hpke_ctx *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *pt,
                           size_t pt_len, uint8_t *ct, veil_err *err)
{
	if (!ctx || !ct)
		return invalid(err, "veil_hpke_seal", "context or ciphertext buffer");
	veil_status st = message_args("veil_hpke_seal", aad, aad_len, pt, ct, pt_len, err);
	if (!st && !ctx->sender)
		st = wrong_role(err, "veil_hpke_seal", ctx->sender);
	uint8_t nonce[NN];
	if (!st)
		st = compute_nonce(ctx, nonce, err);
	if (!st)
		st = aead_run(ctx, 1, nonce, aad, aad_len, pt, pt_len, ct, ct + pt_len, err);
	if (st)
		return st; /* the sequence number stays: the nonce was never used for output */
	ctx->seq++;        /* IncrementSeq */
	return VEIL_OK;
}

veil_status veil_hpke_open(veil_hpke_ctx *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *ct,
                           size_t ct_len, uint8_t *pt, veil_err *err)
{
	if (!ctx || !ct)
		return invalid(err, "veil_hpke_open", "context or ciphertext");
	if (ct_len < VEIL_HPKE_TAG_LEN) {
		veil_err_set(err, VEIL_E_INVALID,
		             "HPKE: a %zu-byte ciphertext is shorter than its %d-byte tag", ct_len,
		             VEIL_HPKE_TAG_LEN);
		veil_err_hint(err, "the message is truncated; ask the sender to send it again");
		return VEIL_E_INVALID;
	}
	size_t pt_len = ct_len - VEIL_HPKE_TAG_LEN;
	veil_status st = message_args("veil_hpke_open", aad, aad_len, ct, pt, pt_len, err);
	if (!st && ctx->sender)
		st = wrong_role(err, "veil_hpke_open", ctx->sender);
	uint8_t nonce[NN], tag[VEIL_HPKE_TAG_LEN];
	if (!st)
		st = compute_nonce(ctx, nonce, err);
	if (st)
		return st;
	/* Copied first: with pt == ct the tag still sits after the text, but
	 * EVP wants a mutable tag. */
	memcpy(tag, ct + pt_len, VEIL_HPKE_TAG_LEN);
	st = aead_run(ctx, 0, nonce, aad, aad_len, ct, pt_len, pt, tag, err);
	if (st)
		return st;
	ctx->seq++;
	return VEIL_OK;
}

/* Context.Export(exporter_context, L) =
 *   LabeledExpand(exporter_secret, "sec", exporter_context, L) */
veil_status veil_hpke_export(const veil_hpke_ctx *ctx, const uint8_t *exp_ctx, size_t exp_ctx_len, size_t L,
                             uint8_t *out, veil_err *err)
{
	if (!ctx || !out || (!exp_ctx && exp_ctx_len))
		return invalid(err, "veil_hpke_export", "context, exporter context or output buffer");
	if (L == 0 || L > VEIL_HPKE_EXPORT_MAX) {
		veil_err_set(err, VEIL_E_INVALID, "HPKE: export length %zu is outside 1..%u", L,
		             VEIL_HPKE_EXPORT_MAX);
		veil_err_hint(err,
		              "export at most %u bytes per call; use distinct exporter contexts for more",
		              VEIL_HPKE_EXPORT_MAX);
		return VEIL_E_INVALID;
	}
	if (exp_ctx_len > VEIL_HPKE_EXP_CTX_MAX) {
		veil_wipe(out, L);
		return too_long(err, "exporter context", exp_ctx_len, VEIL_HPKE_EXP_CTX_MAX);
	}
	uint8_t sid[SID_LEN];
	hpke_suite_id(ctx->aead_id, sid);
	return labeled_expand(sid, sizeof sid, ctx->exporter_secret, "sec", exp_ctx, exp_ctx_len, L, out,
	                      err);
}

/* ---- single-shot (RFC 9180 6.1): enc || ct ---- */

veil_status veil_hpke_seal_base(unsigned aead_id, const uint8_t pkR[VEIL_HPKE_PK_LEN], const uint8_t *info,
                                size_t info_len, const uint8_t *aad, size_t aad_len, const uint8_t *pt,
                                size_t pt_len, uint8_t *out, veil_err *err)
{
	if (!out)
		return invalid(err, "veil_hpke_seal_base", "output buffer");
	veil_status st = message_args("veil_hpke_seal_base", aad, aad_len, pt, out, pt_len, err);
	if (st)
		return st;
	veil_hpke_ctx *ctx = NULL;
	st = veil_hpke_setup_sender(aead_id, pkR, info, info_len, out, &ctx, err);
	if (!st)
		st = veil_hpke_seal(ctx, aad, aad_len, pt, pt_len, out + VEIL_HPKE_ENC_LEN, err);
	veil_hpke_free(ctx);
	if (st)
		veil_wipe(out, pt_len + VEIL_HPKE_SEAL_OVERHEAD);
	return st;
}

veil_status veil_hpke_open_base(unsigned aead_id, const uint8_t skR[VEIL_HPKE_SK_LEN], const uint8_t *info,
                                size_t info_len, const uint8_t *aad, size_t aad_len, const uint8_t *in,
                                size_t in_len, uint8_t *pt, veil_err *err)
{
	if (!in)
		return invalid(err, "veil_hpke_open_base", "input");
	if (in_len < VEIL_HPKE_SEAL_OVERHEAD) {
		veil_err_set(err, VEIL_E_INVALID, "HPKE: %zu bytes is shorter than enc and tag (%d bytes)",
		             in_len, VEIL_HPKE_SEAL_OVERHEAD);
		veil_err_hint(err, "the message is truncated; ask the sender to send it again");
		return VEIL_E_INVALID;
	}
	veil_hpke_ctx *ctx = NULL;
	veil_status st = veil_hpke_setup_receiver(aead_id, skR, in, info, info_len, &ctx, err);
	if (!st)
		st = veil_hpke_open(ctx, aad, aad_len, in + VEIL_HPKE_ENC_LEN, in_len - VEIL_HPKE_ENC_LEN, pt,
		                    err);
	veil_hpke_free(ctx);
	if (st && pt && in_len > VEIL_HPKE_SEAL_OVERHEAD)
		veil_wipe(pt, in_len - VEIL_HPKE_SEAL_OVERHEAD);
	return st;
}
