/*
 * TDX quote verification (include/veil/attest_tdx.h, docs/formats/tdx.md):
 * the PCK chain (PCK -> PCK Platform/Processor CA -> Intel SGX Root CA, the
 * root byte for byte the pinned one), the QE report's ECDSA P-256 signature
 * with the PCK key and the QE's identity, the QE report's binding of the
 * attestation key, and the quote's ECDSA P-256 signature with that key.
 *
 * Each link depends on the one before: the attestation key is worth
 * nothing until the QE report that names it is known to come from Intel's
 * quoting enclave on a genuine platform, so the checks run in that order
 * and the error names the first link that failed. Nothing is cached
 * between calls. OpenSSL 3 EVP and X509 only.
 */
#include "x509_int.h"
#include "veil/attest.h"
#include "veil/crypto.h"

#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* MRSIGNER of Intel's TD quoting enclave: the hash of Intel's enclave
 * signing key, as Intel PCS QE identity collateral ("id": "TD_QE") names it
 * (../shared/vectors/tdx/go-tdx-guest/sample_qeIdentity_response). */
static const uint8_t td_qe_mr_signer[32] = {0xdc, 0x9e, 0x2a, 0x7c, 0x6f, 0x94, 0x8f, 0x17, 0x47, 0x4e, 0x34,
                                            0xa7, 0xfc, 0x43, 0xed, 0x03, 0x0f, 0x7c, 0x15, 0x63, 0xf1, 0xba,
                                            0xbd, 0xdf, 0x63, 0x40, 0xc8, 0x2e, 0x0e, 0x54, 0xa8, 0xc5};
#define SGX_ATTR_DEBUG 0x02u /* byte 0 of an SGX report's ATTRIBUTES: a debug enclave */

#define CN_LEAF      "Intel SGX PCK Certificate"
#define CN_PLATFORM  "Intel SGX PCK Platform CA"
#define CN_PROCESSOR "Intel SGX PCK Processor CA"

typedef struct pck_chain {
	X509 *leaf, *ca, *root;
} pck_chain;

static void chain_free(pck_chain *c)
{
	X509_free(c->leaf);
	X509_free(c->ca);
	X509_free(c->root);
}

/* Exactly three PEM certificates, in Intel's order: PCK, its CA, the root. */
static veil_status load_chain(const char *pem, size_t len, pck_chain *c, veil_err *err)
{
	if (!pem || len == 0 || len > VEIL_TDX_PCK_CHAIN_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "PCK chain: %zu bytes (1..%u)", len,
		                    VEIL_TDX_PCK_CHAIN_MAX);
	X509 *x[3];
	veil_status st =
	        attest_x509_read_pem(pem, len, 3, x, "PCK chain", "the PCK, its CA and the root", err);
	if (st)
		return st;
	c->leaf = x[0];
	c->ca = x[1];
	c->root = x[2];
	return VEIL_OK;
}

static bool same_der(X509 *a, X509 *b)
{
	unsigned char *da = NULL, *db = NULL;
	int la = i2d_X509(a, &da), lb = i2d_X509(b, &db);
	bool eq = la > 0 && la == lb && memcmp(da, db, (size_t)la) == 0;
	OPENSSL_free(da);
	OPENSSL_free(db);
	return eq;
}

static veil_status match_pinned_root(X509 *root, veil_err *err)
{
	const char *pem = veil_tdx_pinned_root_pem();
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *pin = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!pin) {
		ERR_clear_error();
		return veil_err_set(err, VEIL_E_INTERNAL, "the pinned Intel SGX Root CA does not parse");
	}
	bool eq = same_der(root, pin);
	X509_free(pin);
	if (eq)
		return VEIL_OK;
	veil_err_set(err, VEIL_E_CORRUPT, "root: not the pinned Intel SGX Root CA");
	return veil_err_hint(
	        err, "the PCK chain must end in Intel's own root; a chain from elsewhere is not trusted");
}

/* The subject's common name is exactly `want`. */
static bool cn_is(X509 *x, const char *want)
{
	char cn[128];
	int n = X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
	ERR_clear_error();
	return n > 0 && (size_t)n == strlen(want) && strcmp(cn, want) == 0;
}

static veil_status check_chain(pck_chain *c, int64_t now, veil_tdx_pck_ca *ca, veil_err *err)
{
	veil_status st;
	if ((st = match_pinned_root(c->root, err)) ||
	    (st = attest_x509_check_link(c->root, c->root, "root (self-signed)", err)) ||
	    (st = attest_x509_check_link(c->ca, c->root, "PCK CA -> root", err)) ||
	    (st = attest_x509_check_link(c->leaf, c->ca, "PCK -> PCK CA", err)))
		return st;
	if (X509_check_ca(c->ca) == 0)
		return veil_err_set(err, VEIL_E_CORRUPT, "PCK CA: not a CA certificate");
	if (cn_is(c->ca, CN_PLATFORM))
		*ca = VEIL_TDX_PCK_CA_PLATFORM;
	else if (cn_is(c->ca, CN_PROCESSOR))
		*ca = VEIL_TDX_PCK_CA_PROCESSOR;
	else
		return veil_err_set(err, VEIL_E_CORRUPT,
		                    "PCK CA: not an Intel SGX PCK Platform or Processor CA");
	if (!cn_is(c->leaf, CN_LEAF))
		return veil_err_set(err, VEIL_E_CORRUPT,
		                    "PCK: its subject is not an Intel SGX PCK Certificate");
	if ((st = attest_x509_check_validity(c->root, "root", now, err)) ||
	    (st = attest_x509_check_validity(c->ca, "PCK CA", now, err)) ||
	    (st = attest_x509_check_validity(c->leaf, "PCK certificate", now, err)))
		return st;
	return VEIL_OK;
}

static bool is_p256(EVP_PKEY *k)
{
	char group[32] = "";
	bool ok = k && EVP_PKEY_is_a(k, "EC") &&
	          EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, NULL) &&
	          strcmp(group, "prime256v1") == 0;
	ERR_clear_error();
	return ok;
}

/* The attestation key (X || Y) as a P-256 public key; NULL if it is not a point on the curve. */
static EVP_PKEY *attest_key(const uint8_t key[VEIL_TDX_KEY_LEN])
{
	uint8_t point[1 + VEIL_TDX_KEY_LEN];
	point[0] = 0x04; /* uncompressed */
	memcpy(point + 1, key, VEIL_TDX_KEY_LEN);
	EVP_PKEY *k = NULL;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	bool ready = bld && ctx &&
	             OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
	             OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point) &&
	             (params = OSSL_PARAM_BLD_to_param(bld)) != NULL && EVP_PKEY_fromdata_init(ctx) == 1;
	if (!ready || EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) != 1)
		k = NULL;
	/* fromdata decodes the point, which refuses one off the curve; check it anyway. */
	if (k) {
		EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
		if (!chk || EVP_PKEY_public_check(chk) != 1) {
			EVP_PKEY_free(k);
			k = NULL;
		}
		EVP_PKEY_CTX_free(chk);
	}
	ERR_clear_error();
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return k;
}

/* ECDSA with SHA-256 over msg; sig is R || S, 32 bytes each, big-endian.
 * VEIL_OK, VEIL_E_AUTH (does not verify) or VEIL_E_CRYPTO (could not try). */
static veil_status ecdsa_p256_verify(EVP_PKEY *k, const uint8_t sig[VEIL_TDX_SIG_LEN], const uint8_t *msg,
                                     size_t n)
{
	veil_status st = VEIL_E_CRYPTO;
	unsigned char *der = NULL;
	EVP_MD_CTX *md = NULL;
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *br = BN_bin2bn(sig, VEIL_TDX_SIG_LEN / 2, NULL);
	BIGNUM *bs = BN_bin2bn(sig + VEIL_TDX_SIG_LEN / 2, VEIL_TDX_SIG_LEN / 2, NULL);
	if (!s || !br || !bs || !ECDSA_SIG_set0(s, br, bs)) {
		BN_free(br);
		BN_free(bs);
		goto done;
	}
	int der_len = i2d_ECDSA_SIG(s, &der);
	md = EVP_MD_CTX_new();
	if (der_len <= 0 || !md || EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, k, NULL) != 1)
		goto done;
	st = EVP_DigestVerify(md, der, (size_t)der_len, msg, n) == 1 ? VEIL_OK : VEIL_E_AUTH;
done:
	ERR_clear_error();
	ECDSA_SIG_free(s); /* owns br and bs after set0 */
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	return st;
}

static veil_status check_qe_report(const veil_tdx_quote *q, X509 *leaf, veil_err *err)
{
	EVP_PKEY *k = X509_get0_pubkey(leaf);
	if (!is_p256(k))
		return veil_err_set(err, VEIL_E_INVALID,
		                    "PCK certificate: its key is not an ECDSA P-256 key");
	veil_status st = ecdsa_p256_verify(k, q->qe_report_sig, q->qe_report, VEIL_TDX_QE_REPORT_LEN);
	if (st == VEIL_E_CRYPTO)
		return veil_err_set(err, st, "QE report signature: cannot set up ECDSA P-256 verification");
	if (st) {
		veil_err_set(err, st, "QE report signature: does not verify with the PCK certificate's key");
		return veil_err_hint(err,
		                     "the QE report was changed, or the PCK chain is another platform's");
	}
	/* The PCK certifies more than one enclave's reports: only Intel's TD quoting enclave speaks for TDX.
	 */
	if (memcmp(q->qe_mr_signer, td_qe_mr_signer, sizeof td_qe_mr_signer) != 0 ||
	    q->qe_isv_prod_id != VEIL_TDX_QE_PRODID)
		return veil_err_set(
		        err, VEIL_E_DENIED,
		        "QE report: not Intel's TD quoting enclave (MRSIGNER or ISVPRODID %u differs)",
		        (unsigned)q->qe_isv_prod_id);
	if (q->qe_attributes[0] & SGX_ATTR_DEBUG)
		return veil_err_set(err, VEIL_E_DENIED, "QE report: the quoting enclave runs in debug mode");
	return VEIL_OK;
}

/* QE report_data = SHA-256(attestation key || QE auth data) || 32 zero bytes. */
static veil_status check_binding(const veil_tdx_quote *q, veil_err *err)
{
	uint8_t h[VEIL_SHA256_LEN];
	veil_hash_ctx *ctx = NULL;
	veil_status st = veil_hash_init(&ctx, VEIL_HASH_SHA256, err);
	if (!st)
		st = veil_hash_update(ctx, q->attest_key, VEIL_TDX_KEY_LEN, err);
	if (!st && q->qe_auth_len)
		st = veil_hash_update(ctx, q->qe_auth, q->qe_auth_len, err);
	if (st) {
		veil_hash_free(ctx);
		return st;
	}
	if ((st = veil_hash_final(ctx, h, err))) /* frees ctx */
		return st;
	const uint8_t *rd = q->qe_report + VEIL_TDX_QE_REPORT_LEN - 64;
	uint8_t rest = 0;
	for (size_t i = VEIL_SHA256_LEN; i < 64; i++)
		rest |= rd[i];
	if (memcmp(rd, h, VEIL_SHA256_LEN) != 0 || rest != 0) {
		veil_err_set(
		        err, VEIL_E_DENIED,
		        "QE report binding: its report_data is not SHA-256(attestation key || QE auth data)");
		return veil_err_hint(err, "the attestation key or the QE auth data was replaced");
	}
	return VEIL_OK;
}

static veil_status check_quote_signature(const veil_tdx_quote *q, veil_err *err)
{
	EVP_PKEY *k = attest_key(q->attest_key);
	if (!k)
		return veil_err_set(err, VEIL_E_INVALID, "attestation key: not a point on P-256");
	veil_status st = ecdsa_p256_verify(k, q->signature, q->raw, q->signed_len);
	EVP_PKEY_free(k);
	if (st == VEIL_E_CRYPTO)
		return veil_err_set(err, st, "quote signature: cannot set up ECDSA P-256 verification");
	if (st) {
		veil_err_set(
		        err, st,
		        "quote signature: the header and TD report do not verify with the attestation key");
		return veil_err_hint(err, "the quote was changed after the quoting enclave signed it");
	}
	return VEIL_OK;
}

veil_status veil_tdx_verify(const veil_tdx_quote *quote, const veil_tdx_collateral *collateral, int64_t now,
                            veil_tdx_result *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	if (!quote || !quote->raw)
		return veil_err_set(err, VEIL_E_INVALID, "TDX verify: no quote");
	if (collateral) {
		veil_err_set(err, VEIL_E_UNSUPPORTED,
		             "TDX verify: TCB collateral is not checked by this version of veil");
		return veil_err_hint(
		        err, "verify without collateral, and judge the TCB from the claims' tcb parts");
	}
	/* Only the raw bytes count: the fields are read again from them, so a
	 * caller's edit of a parsed field cannot pass for a signed one. */
	veil_tdx_quote *q = OPENSSL_malloc(sizeof *q);
	if (!q)
		return veil_err_set(err, VEIL_E_NOMEM, "TDX verify: out of memory");
	pck_chain c = {0};
	veil_tdx_result res = {0};
	veil_status st = veil_tdx_quote_parse(quote->raw, quote->raw_len, q, err);
	if (st || (st = load_chain(q->pck_chain, q->pck_chain_len, &c, err)) ||
	    (st = check_chain(&c, now, &res.pck_ca, err)) || (st = check_qe_report(q, c.leaf, err)) ||
	    (st = check_binding(q, err)) || (st = check_quote_signature(q, err)))
		goto done;
	res.verified = true;
	res.debug = q->debug;
	res.version = q->version;
	res.body_type = q->body_type;
	res.qe_isv_svn = q->qe_isv_svn;
	*out = res;
done:
	chain_free(&c);
	OPENSSL_free(q);
	return st;
}
