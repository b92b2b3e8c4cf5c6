/*
 * TPM 2.0 quote verification (docs/formats/tpm-quote.md): the quote's
 * signature with a pinned AK or with the key of an AK certificate that
 * chains to the caller's CA, then the nonce in extraData, then pcrDigest
 * recomputed from the PCR values; and the claims a verified quote makes.
 *
 * The order is the one a caller can act on: nothing in the quote means
 * anything until the signature holds, so a wrong nonce or PCR value is only
 * reported about a quote the AK really signed. OpenSSL 3 EVP and X509 only;
 * nothing is cached between calls.
 */
#include "claims_int.h"
#include "veil/attest.h"
#include "veil/crypto.h"

#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define AK_CHAIN_MAX 8 /* an AK certificate and its intermediates */

static const EVP_MD *hash_md(uint16_t alg)
{
	switch (alg) {
	case VEIL_TPM_ALG_SHA256:
		return EVP_sha256();
	case VEIL_TPM_ALG_SHA384:
		return EVP_sha384();
	case VEIL_TPM_ALG_SHA512:
		return EVP_sha512();
	default:
		return NULL;
	}
}

static const EVP_MD *bank_md(uint16_t alg)
{
	return alg == VEIL_TPM_ALG_SHA1 ? EVP_sha1() : hash_md(alg);
}

/* RSA of 2048..4096 bits or ECDSA P-256/P-384; anything else is refused. */
static veil_status check_key(EVP_PKEY *k, const char *what, veil_err *err)
{
	if (EVP_PKEY_is_a(k, "RSA")) {
		int bits = EVP_PKEY_get_bits(k);
		if (bits < VEIL_TPM_RSA_BITS_MIN || bits > 8 * VEIL_TPM_RSA_SIG_MAX)
			return veil_err_set(err, VEIL_E_UNSUPPORTED,
			                    "%s: an RSA key of %d bits (veil accepts %d to %d)", what, bits,
			                    VEIL_TPM_RSA_BITS_MIN, 8 * VEIL_TPM_RSA_SIG_MAX);
		return VEIL_OK;
	}
	char group[32] = "";
	if (EVP_PKEY_is_a(k, "EC") &&
	    EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, NULL) &&
	    (strcmp(group, "prime256v1") == 0 || strcmp(group, "secp384r1") == 0))
		return VEIL_OK;
	ERR_clear_error();
	return veil_err_set(err, VEIL_E_UNSUPPORTED, "%s: not an RSA, ECDSA P-256 or ECDSA P-384 key", what);
}

static veil_status pinned_key(const veil_tpm_trust *t, EVP_PKEY **out, veil_err *err)
{
	BIO *b = BIO_new_mem_buf(t->ak_pem, (int)t->ak_len);
	*out = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!*out) {
		ERR_clear_error();
		veil_err_set(err, VEIL_E_INVALID, "AK: not a PEM public key");
		return veil_err_hint(err,
		                     "give the AK as `tpm2_createak -f pem` writes it, or its certificate "
		                     "together with the CA that issued it");
	}
	return VEIL_OK;
}

/* Reads up to max PEM certificates; *n says how many. */
static veil_status read_certs(const char *pem, size_t len, const char *what, STACK_OF(X509) * sk, size_t max,
                              veil_err *err)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	if (!b)
		return veil_err_set(err, VEIL_E_NOMEM, "%s: out of memory", what);
	X509 *x = NULL;
	veil_status st = VEIL_OK;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if ((size_t)sk_X509_num(sk) >= max || !sk_X509_push(sk, x)) {
			X509_free(x);
			st = veil_err_set(err, VEIL_E_INVALID, "%s: more than %zu certificates", what, max);
			break;
		}
	}
	BIO_free(b);
	ERR_clear_error(); /* the end of the PEM reads as an error */
	if (!st && sk_X509_num(sk) == 0)
		st = veil_err_set(err, VEIL_E_INVALID, "%s: no PEM certificate", what);
	return st;
}

static veil_status chain_verify(X509 *leaf, STACK_OF(X509) * untrusted, STACK_OF(X509) * cas, int64_t now,
                                veil_err *err)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	veil_status st = VEIL_E_CRYPTO;
	if (!store || !ctx) {
		veil_err_set(err, VEIL_E_NOMEM, "AK certificate: out of memory");
		goto done;
	}
	for (int i = 0; i < sk_X509_num(cas); i++)
		if (X509_STORE_add_cert(store, sk_X509_value(cas, i)) != 1) {
			veil_err_set(err, VEIL_E_INVALID,
			             "CA: certificate %d cannot be trusted (listed twice?)", i + 1);
			st = VEIL_E_INVALID;
			goto done;
		}
	if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
		veil_err_set(err, st, "AK certificate: cannot set up the chain check");
		goto done;
	}
	X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, (time_t)now);
	/* Every certificate the caller gives as CA is an anchor, a root or not. */
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
	if (X509_verify_cert(ctx) != 1) {
		st = veil_err_set(err, VEIL_E_CORRUPT, "AK certificate: does not chain to the CA given: %s",
		                  X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		goto done;
	}
	if ((X509_get_extension_flags(leaf) & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE)) {
		st = veil_err_set(err, VEIL_E_CORRUPT,
		                  "AK certificate: its key usage does not allow signatures");
		goto done;
	}
	st = VEIL_OK;
done:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return st;
}

static veil_status certified_key(const veil_tpm_trust *t, EVP_PKEY **out, veil_err *err)
{
	if (t->ca_len == 0 || t->ca_len > VEIL_TPM_CA_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "CA: %zu bytes (expected 1 to %u)", t->ca_len,
		                    VEIL_TPM_CA_MAX);
	STACK_OF(X509) *chain = sk_X509_new_null();
	STACK_OF(X509) *cas = sk_X509_new_null();
	veil_status st;
	if (!chain || !cas) {
		st = veil_err_set(err, VEIL_E_NOMEM, "AK certificate: out of memory");
		goto done;
	}
	if ((st = read_certs(t->ak_pem, t->ak_len, "AK certificate", chain, AK_CHAIN_MAX, err)) ||
	    (st = read_certs(t->ca_pem, t->ca_len, "CA", cas, AK_CHAIN_MAX, err)))
		goto done;
	X509 *leaf = sk_X509_shift(chain); /* the first is the AK's; the rest are intermediates */
	st = chain_verify(leaf, chain, cas, t->now, err);
	if (!st) {
		*out = X509_get_pubkey(leaf);
		if (!*out)
			st = veil_err_set(err, VEIL_E_INVALID,
			                  "AK certificate: its public key does not parse");
	}
	X509_free(leaf);
done:
	ERR_clear_error();
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(cas, X509_free);
	return st;
}

static veil_status load_ak(const veil_tpm_trust *t, EVP_PKEY **out, veil_err *err)
{
	*out = NULL;
	if (!t->ak_pem || t->ak_len == 0 || t->ak_len > VEIL_TPM_AK_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "AK: %zu bytes (expected a PEM of 1 to %u)",
		                    t->ak_pem ? t->ak_len : 0, VEIL_TPM_AK_MAX);
	veil_status st = t->ca_pem ? certified_key(t, out, err) : pinned_key(t, out, err);
	if (!st && (st = check_key(*out, t->ca_pem ? "AK certificate" : "AK", err))) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	return st;
}

/* The signature as EVP wants it: RSA as is, ECDSA R and S as a DER ECDSA-Sig-Value. */
static veil_status sig_der(const veil_tpm_signature *s, unsigned char **der, size_t *der_len, veil_err *err)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *br = BN_bin2bn(s->ecc_r, (int)s->ecc_r_len, NULL);
	BIGNUM *bs = BN_bin2bn(s->ecc_s, (int)s->ecc_s_len, NULL);
	if (!sig || !br || !bs || !ECDSA_SIG_set0(sig, br, bs)) {
		BN_free(br);
		BN_free(bs);
		ECDSA_SIG_free(sig);
		return veil_err_set(err, VEIL_E_CRYPTO, "signature: cannot build the ECDSA signature");
	}
	int n = i2d_ECDSA_SIG(sig, der);
	ECDSA_SIG_free(sig); /* owns br and bs after set0 */
	if (n <= 0)
		return veil_err_set(err, VEIL_E_CRYPTO, "signature: cannot encode the ECDSA signature");
	*der_len = (size_t)n;
	return VEIL_OK;
}

static veil_status check_signature(const veil_tpm_quote *q, const veil_tpm_signature *s, EVP_PKEY *k,
                                   veil_err *err)
{
	bool rsa = EVP_PKEY_is_a(k, "RSA");
	if (rsa != (s->sig_alg != VEIL_TPM_ALG_ECDSA))
		return veil_err_set(err, VEIL_E_AUTH, "signature: %s, which the AK's %s key cannot make",
		                    veil_tpm_alg_name(s->sig_alg), rsa ? "RSA" : "EC");
	veil_status st = VEIL_E_CRYPTO;
	unsigned char *der = NULL;
	size_t der_len = 0;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!rsa && (st = sig_der(s, &der, &der_len, err)))
		goto done;
	st = VEIL_E_CRYPTO;
	if (!md || EVP_DigestVerifyInit(md, &pctx, hash_md(s->hash_alg), NULL, k) != 1) {
		veil_err_set(err, st, "signature: cannot set up %s verification",
		             veil_tpm_alg_name(s->sig_alg));
		goto done;
	}
	/* RSA-PSS: TPMs use a salt as long as the hash (or the longest that fits); any is accepted. */
	if (rsa &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, s->sig_alg == VEIL_TPM_ALG_RSAPSS ? RSA_PKCS1_PSS_PADDING
	                                                                          : RSA_PKCS1_PADDING) != 1 ||
	     (s->sig_alg == VEIL_TPM_ALG_RSAPSS &&
	      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) != 1))) {
		veil_err_set(err, st, "signature: cannot set the RSA padding");
		goto done;
	}
	const unsigned char *sig = rsa ? s->rsa : der;
	size_t sig_len = rsa ? s->rsa_len : der_len;
	if (EVP_DigestVerify(md, sig, sig_len, q->raw, q->raw_len) != 1) {
		st = veil_err_set(err, VEIL_E_AUTH, "signature: does not verify with the AK (%s, %s)",
		                  veil_tpm_alg_name(s->sig_alg), veil_tpm_alg_name(s->hash_alg));
		veil_err_hint(err, "the quote or signature was changed, or another AK signed it");
		goto done;
	}
	st = VEIL_OK;
done:
	ERR_clear_error();
	OPENSSL_free(der);
	EVP_MD_CTX_free(md); /* frees pctx */
	return st;
}

static veil_status check_nonce(const veil_tpm_quote *q, const uint8_t *nonce, size_t nonce_len, veil_err *err)
{
	/* The length is not secret; the bytes are compared in constant time all the same. */
	if (q->extra_data_len != nonce_len || !veil_ct_equal(q->extra_data, nonce, nonce_len)) {
		veil_err_set(err, VEIL_E_DENIED, "nonce: the quote's extraData is not the nonce expected");
		return veil_err_hint(
		        err, "the quote is stale or was made for another verifier: ask for a fresh one");
	}
	return VEIL_OK;
}

static veil_status check_pcr_digest(const veil_tpm_quote *q, const veil_tpm_pcrs *p, uint16_t hash_alg,
                                    veil_err *err)
{
	const EVP_MD *alg = hash_md(hash_alg);
	size_t hlen = alg ? (size_t)EVP_MD_get_size(alg) : 0;
	if (hlen == 0 || q->pcr_digest_len != hlen)
		return veil_err_set(err, VEIL_E_INVALID, "quote: pcrDigest is %zu bytes, a %s digest is %zu",
		                    q->pcr_digest_len, veil_tpm_alg_name(hash_alg), hlen);
	uint8_t d[EVP_MAX_MD_SIZE];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = md && EVP_DigestInit_ex(md, alg, NULL) == 1;
	for (size_t i = 0; ok && i < p->n; i++)
		ok = bank_md(p->pcr[i].hash_alg) && EVP_DigestUpdate(md, p->pcr[i].value, p->pcr[i].len) == 1;
	ok = ok && EVP_DigestFinal_ex(md, d, NULL) == 1;
	EVP_MD_CTX_free(md);
	if (!ok) {
		ERR_clear_error();
		return veil_err_set(err, VEIL_E_CRYPTO, "PCR values: cannot hash them");
	}
	if (!veil_ct_equal(d, q->pcr_digest, hlen)) {
		veil_err_set(err, VEIL_E_DENIED, "PCR values: they do not hash to the quote's pcrDigest");
		return veil_err_hint(err, "the PCR file is not the one tpm2_quote wrote with this quote");
	}
	return VEIL_OK;
}

static veil_status verify(const veil_tpm_evidence *ev, const veil_tpm_trust *t, const uint8_t *nonce,
                          size_t nonce_len, veil_tpm_result *r, EVP_PKEY **ak, veil_err *err)
{
	veil_tpm_signature sig;
	veil_status st;
	if ((st = veil_tpm_quote_parse(ev->quote, ev->quote_len, &r->quote, err)) ||
	    (st = veil_tpm_signature_parse(ev->sig, ev->sig_len, &sig, err)) ||
	    (st = veil_tpm_pcrs_parse(ev->pcrs, ev->pcrs_len, ev->pcrs_format, &r->quote, &r->pcrs, err)) ||
	    (st = load_ak(t, ak, err)) || (st = check_signature(&r->quote, &sig, *ak, err)) ||
	    (st = check_nonce(&r->quote, nonce, nonce_len, err)) ||
	    (st = check_pcr_digest(&r->quote, &r->pcrs, sig.hash_alg, err)))
		return st;
	r->sig_alg = sig.sig_alg;
	r->hash_alg = sig.hash_alg;
	r->ak_certified = t->ca_pem != NULL;
	return VEIL_OK;
}

veil_status veil_tpm_quote_verify(const veil_tpm_evidence *ev, const veil_tpm_trust *trust,
                                  const uint8_t *nonce, size_t nonce_len, veil_tpm_result *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	if (!ev || !trust)
		return veil_err_set(err, VEIL_E_INVALID, "TPM quote: no evidence or no trusted AK given");
	if (!nonce || nonce_len == 0 || nonce_len > VEIL_TPM_DATA_MAX)
		return veil_err_set(
		        err, VEIL_E_INVALID,
		        "nonce: %zu bytes (expected 1 to %d): a quote without one proves no freshness",
		        nonce ? nonce_len : 0, VEIL_TPM_DATA_MAX);
	veil_tpm_result *r = OPENSSL_zalloc(sizeof *r);
	if (!r)
		return veil_err_set(err, VEIL_E_NOMEM, "TPM quote: out of memory");
	EVP_PKEY *ak = NULL;
	veil_status st = verify(ev, trust, nonce, nonce_len, r, &ak, err);
	if (!st)
		*out = *r;
	EVP_PKEY_free(ak);
	OPENSSL_free(r);
	return st;
}

veil_status veil_attest_claims_from_tpm(const veil_tpm_result *res, int64_t evidence_time, const char *region,
                                        veil_attest_claims *out, veil_err *err)
{
	veil_attest_claims_init(out);
	if (!res)
		return veil_err_set(err, VEIL_E_INVALID, "no TPM verification result");
	/* veil_tpm_quote_verify zeroes the result on failure: no scheme means it did not succeed. */
	if (res->sig_alg == 0 || res->quote.pcr_digest_len == 0 ||
	    res->quote.pcr_digest_len > VEIL_ATTEST_MEASUREMENT_MAX)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "the TPM result is not from a successful verification");
	veil_attest_claims c;
	veil_status st = attest_claims_start(VEIL_TEE_VTPM, res->quote.pcr_digest, res->quote.pcr_digest_len,
	                                     evidence_time, region, &c, err);
	if (st)
		return st;
	c.debug = VEIL_DEBUG_UNKNOWN; /* a TPM quote says nothing about the VM's debug state */
	attest_claims_add_tcb(&c, "firmware", res->quote.firmware_version);
	*out = c;
	return VEIL_OK;
}
