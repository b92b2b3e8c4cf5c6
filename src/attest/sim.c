/*
 * The simulated TEE: a workspace-local ARK -> ASK -> VCEK chain shaped like
 * AMD's, and SEV-SNP reports signed with its VCEK, so that machines without
 * a TEE run the real parser and verifier (snp_verify.c) end to end. The
 * host holds the VCEK key, so a simulated report proves nothing about what
 * runs: the chain is trusted only by veil_snp_verify_sim, with the ARK its
 * caller passes, and its claims say tee "sim" and simulated.
 *
 * OpenSSL 3 EVP and X509 only. The VCEK key leaves here as PKCS#8 DER in
 * secure memory; OpenSSL's own encoder may use ordinary heap on the way.
 */
#include "snp_int.h"
#include "veil/crypto.h"

#include <assert.h>
#include <limits.h>
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

#define OID_PRODUCT_NAME "1.3.6.1.4.1.3704.1.2"
#define OID_BOOTLOADER   "1.3.6.1.4.1.3704.1.3.1"
#define OID_TEE          "1.3.6.1.4.1.3704.1.3.2"
#define OID_SNP          "1.3.6.1.4.1.3704.1.3.3"
#define OID_UCODE        "1.3.6.1.4.1.3704.1.3.8"
#define OID_HWID         "1.3.6.1.4.1.3704.1.4"

#define NAME_NOTE "veil simulated TEE - not a real AMD key"

/* ---- certificates ---- */

static bool add_name(X509_NAME *n, const char *cn)
{
	return X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)NAME_NOTE, -1, -1,
	                                  0) == 1 &&
	       X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) == 1;
}

static bool add_ext_nid(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	bool ok = e && X509_add_ext(x, e, -1) == 1;
	X509_EXTENSION_free(e);
	return ok;
}

/* An AMD extension: extnValue holds `der` as given (an encoded INTEGER,
 * IA5String, or the raw hwID bytes), as the KDS writes them. */
static bool add_ext_raw(X509 *x, const char *oid, const unsigned char *der, int len)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e = NULL;
	bool ok = obj && v && ASN1_OCTET_STRING_set(v, der, len) == 1 &&
	          (e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, v)) != NULL && X509_add_ext(x, e, -1) == 1;
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(v);
	ASN1_OBJECT_free(obj);
	return ok;
}

static bool add_spl(X509 *x, const char *oid, uint8_t v)
{
	/* DER INTEGER: a leading zero keeps 0x80..0xFF positive. */
	unsigned char der[4] = {0x02, 0x01, v, 0};
	if (v >= 0x80) {
		der[1] = 0x02;
		der[2] = 0x00;
		der[3] = v;
	}
	return add_ext_raw(x, oid, der, 2 + der[1]);
}

static bool set_serial(X509 *x, veil_err *err)
{
	uint8_t r[16];
	if (veil_random(r, sizeof r, err) != VEIL_OK)
		return false;
	r[0] &= 0x7f; /* positive */
	r[0] |= 0x01; /* and never zero */
	BIGNUM *bn = BN_bin2bn(r, sizeof r, NULL);
	ASN1_INTEGER *ai = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	bool ok = ai && X509_set_serialNumber(x, ai) == 1;
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return ok;
}

/* RSA-PSS, SHA-384, MGF1-SHA-384, salt 48: the parameters of AMD's chain. */
static bool sign_pss(X509 *x, EVP_PKEY *issuer_key)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	bool ok = md && EVP_DigestSignInit_ex(md, &pctx, "SHA384", NULL, NULL, issuer_key, NULL) == 1 &&
	          EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
	          EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48) == 1 &&
	          EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, "SHA384", NULL) == 1 && X509_sign_ctx(x, md) > 0;
	EVP_MD_CTX_free(md);
	return ok;
}

/* A certificate with the common parts set; the caller adds extensions and signs. */
static X509 *new_cert(const char *cn, X509 *issuer, EVP_PKEY *key, int64_t now, veil_err *err)
{
	X509 *x = X509_new();
	time_t t = (time_t)now;
	if (!x || X509_set_version(x, X509_VERSION_3) != 1 || !set_serial(x, err) ||
	    !add_name(X509_get_subject_name(x), cn) ||
	    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : X509_get_subject_name(x)) != 1 ||
	    !X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, &t) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), VEIL_SIM_VALID_DAYS, 0, &t) ||
	    X509_set_pubkey(x, key) != 1) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static X509 *make_ca(const char *cn, X509 *issuer, EVP_PKEY *key, EVP_PKEY *issuer_key, int64_t now,
                     veil_err *err)
{
	X509 *x = new_cert(cn, issuer, key, now, err);
	if (!x || !add_ext_nid(x, NID_basic_constraints, "critical,CA:TRUE") ||
	    !add_ext_nid(x, NID_key_usage, "critical,keyCertSign,cRLSign") || !sign_pss(x, issuer_key)) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static X509 *make_vcek(X509 *ask, EVP_PKEY *key, EVP_PKEY *ask_key, uint64_t tcb,
                       const uint8_t hwid[VEIL_SNP_CHIP_ID_LEN], int64_t now, veil_err *err)
{
	veil_snp_tcb t;
	veil_snp_tcb_decode(tcb, VEIL_SNP_PRODUCT_UNKNOWN, &t);
	static const unsigned char product[] = {0x16, 3, 'S', 'i', 'm'}; /* IA5String VEIL_SIM_PRODUCT_NAME */
	X509 *x = new_cert("SEV-VCEK (" NAME_NOTE ")", ask, key, now, err);
	if (!x || !add_ext_raw(x, OID_PRODUCT_NAME, product, sizeof product) ||
	    !add_spl(x, OID_BOOTLOADER, t.bootloader) || !add_spl(x, OID_TEE, t.tee) ||
	    !add_spl(x, OID_SNP, t.snp) || !add_spl(x, OID_UCODE, t.microcode) ||
	    !add_ext_raw(x, OID_HWID, hwid, VEIL_SNP_CHIP_ID_LEN) || !sign_pss(x, ask_key)) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* ---- output ---- */

static veil_status append_pem(veil_buf *out, X509 *x, veil_err *err)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n = 0;
	veil_status st = VEIL_OK;
	if (!b || PEM_write_bio_X509(b, x) != 1 || (n = BIO_get_mem_data(b, &p)) <= 0)
		st = veil_err_set(err, VEIL_E_CRYPTO, "simulated chain: cannot write a PEM certificate");
	else
		st = veil_buf_append(out, p, (size_t)n, err);
	BIO_free(b);
	return st;
}

static veil_status put_der(veil_buf *out, X509 *x, veil_err *err)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	veil_status st = n > 0 ? veil_buf_append(out, der, (size_t)n, err)
	                       : veil_err_set(err, VEIL_E_CRYPTO, "simulated chain: cannot encode the VCEK");
	OPENSSL_free(der);
	return st;
}

/* PKCS#8 DER straight into secure memory. */
static veil_status put_key(veil_sim_chain *c, EVP_PKEY *k, veil_err *err)
{
	PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(k);
	int n = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8, NULL) : 0;
	veil_status st = VEIL_OK;
	if (n <= 0)
		st = veil_err_set(err, VEIL_E_CRYPTO, "simulated chain: cannot encode the VCEK key");
	else if (!(c->vcek_key = veil_secure_alloc((size_t)n)))
		st = veil_err_set(err, VEIL_E_NOMEM, "simulated chain: no secure memory for the VCEK key");
	else {
		unsigned char *p = c->vcek_key;
		c->vcek_key_len = (size_t)n;
		if (i2d_PKCS8_PRIV_KEY_INFO(p8, &p) != n)
			st = veil_err_set(err, VEIL_E_CRYPTO, "simulated chain: cannot encode the VCEK key");
	}
	PKCS8_PRIV_KEY_INFO_free(p8);
	return st;
}

void veil_sim_chain_free(veil_sim_chain *c)
{
	if (!c)
		return;
	veil_buf_free(&c->vcek_der);
	veil_buf_free(&c->chain_pem);
	veil_buf_free(&c->ark_pem);
	veil_secure_free(c->vcek_key, c->vcek_key_len);
	memset(c, 0, sizeof *c);
}

veil_status veil_sim_chain_create(uint64_t tcb, int64_t now, veil_sim_chain *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	veil_snp_tcb t;
	veil_snp_tcb_decode(tcb, VEIL_SNP_PRODUCT_UNKNOWN, &t);
	if (!t.reserved_zero)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "simulated chain: the TCB has non-zero reserved bytes (2..5), which no "
		                    "VCEK certifies");
	uint8_t hwid[VEIL_SNP_CHIP_ID_LEN];
	veil_status st = veil_random(hwid, sizeof hwid, err);
	if (st)
		return st;
	EVP_PKEY *ark_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)VEIL_SIM_RSA_BITS);
	EVP_PKEY *ask_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)VEIL_SIM_RSA_BITS);
	EVP_PKEY *vcek_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	X509 *ark = NULL, *ask = NULL, *vcek = NULL;
	veil_sim_chain c = {0};
	if (!ark_key || !ask_key || !vcek_key) {
		st = veil_err_set(err, VEIL_E_CRYPTO, "simulated chain: key generation failed");
		goto done;
	}
	veil_err_clear(err);
	ark = make_ca("SEV-ARK (" NAME_NOTE ")", NULL, ark_key, ark_key, now, err);
	ask = ark ? make_ca("SEV-ASK (" NAME_NOTE ")", ark, ask_key, ark_key, now, err) : NULL;
	vcek = ask ? make_vcek(ask, vcek_key, ask_key, tcb, hwid, now, err) : NULL;
	if (!vcek) {
		/* set_serial may have said why (the CSPRNG); otherwise OpenSSL failed. */
		st = err && err->code ? err->code
		                      : veil_err_set(err, VEIL_E_CRYPTO,
		                                     "simulated chain: cannot build the certificates");
		goto done;
	}
	if ((st = put_der(&c.vcek_der, vcek, err)) || (st = append_pem(&c.chain_pem, ask, err)) ||
	    (st = append_pem(&c.chain_pem, ark, err)) || (st = append_pem(&c.ark_pem, ark, err)) ||
	    (st = put_key(&c, vcek_key, err)))
		goto done;
	*out = c;
	memset(&c, 0, sizeof c);
done:
	ERR_clear_error();
	veil_sim_chain_free(&c);
	X509_free(ark);
	X509_free(ask);
	X509_free(vcek);
	EVP_PKEY_free(ark_key);
	EVP_PKEY_free(ask_key);
	EVP_PKEY_free(vcek_key);
	return st;
}

/* ---- reports ---- */

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The VCEK's key, checked against the VCEK's certificate, and its hwID. */
static veil_status load_signer(const veil_sim_chain *c, EVP_PKEY **key, uint8_t hwid[VEIL_SNP_CHIP_ID_LEN],
                               veil_err *err)
{
	veil_status st = VEIL_E_INVALID;
	const unsigned char *p = c->vcek_key;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	X509 *x = NULL;
	*key = NULL;
	if (c->vcek_key && c->vcek_key_len > 0 && c->vcek_key_len <= LONG_MAX)
		p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)c->vcek_key_len);
	*key = p8 ? EVP_PKCS82PKEY(p8) : NULL;
	const unsigned char *q = c->vcek_der.data;
	if (c->vcek_der.len > 0 && c->vcek_der.len <= VEIL_SNP_CERT_MAX)
		x = d2i_X509(NULL, &q, (long)c->vcek_der.len);
	if (!*key || !x) {
		veil_err_set(err, st, "simulated chain: its VCEK key or certificate does not parse");
		goto done;
	}
	if (EVP_PKEY_eq(*key, X509_get0_pubkey(x)) != 1) {
		veil_err_set(err, st, "simulated chain: the VCEK key is not the one of its certificate");
		goto done;
	}
	ASN1_OBJECT *obj = OBJ_txt2obj(OID_HWID, 1);
	int idx = obj ? X509_get_ext_by_OBJ(x, obj, -1) : -1;
	ASN1_OBJECT_free(obj);
	const ASN1_OCTET_STRING *v = idx >= 0 ? X509_EXTENSION_get_data(X509_get_ext(x, idx)) : NULL;
	if (!v || ASN1_STRING_length(v) != VEIL_SNP_CHIP_ID_LEN) {
		veil_err_set(err, st, "simulated chain: the VCEK has no 64-byte hwID");
		goto done;
	}
	memcpy(hwid, ASN1_STRING_get0_data(v), VEIL_SNP_CHIP_ID_LEN);
	st = VEIL_OK;
done:
	if (st) {
		EVP_PKEY_free(*key);
		*key = NULL;
	}
	ERR_clear_error();
	PKCS8_PRIV_KEY_INFO_free(p8);
	X509_free(x);
	return st;
}

/* ECDSA P-384 over 0x000..0x29F; R and S little-endian, zero-padded to 72. */
static veil_status sign_report(EVP_PKEY *key, uint8_t rep[VEIL_SNP_REPORT_LEN], veil_err *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[160]; /* a P-384 ECDSA-Sig-Value is at most 104 bytes */
	size_t der_len = sizeof der;
	ECDSA_SIG *sig = NULL;
	veil_status st = VEIL_E_CRYPTO;
	if (!md || EVP_DigestSignInit_ex(md, NULL, "SHA384", NULL, NULL, key, NULL) != 1 ||
	    EVP_DigestSign(md, der, &der_len, rep, VEIL_SNP_SIGNED_LEN) != 1) {
		veil_err_set(err, st, "simulated report: ECDSA P-384 signing failed");
		goto done;
	}
	const unsigned char *p = der;
	sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	const BIGNUM *r = NULL, *s = NULL;
	if (sig)
		ECDSA_SIG_get0(sig, &r, &s);
	if (!r || !s || BN_bn2lebinpad(r, rep + VEIL_SNP_SIG_OFF, VEIL_SNP_SIG_COMPONENT) < 0 ||
	    BN_bn2lebinpad(s, rep + VEIL_SNP_SIG_OFF + VEIL_SNP_SIG_COMPONENT, VEIL_SNP_SIG_COMPONENT) < 0) {
		veil_err_set(err, st, "simulated report: cannot encode the signature");
		goto done;
	}
	st = VEIL_OK;
done:
	ERR_clear_error();
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
	return st;
}

veil_status veil_sim_report(const veil_sim_chain *chain,
                            const uint8_t measurement[static VEIL_SNP_MEASUREMENT_LEN],
                            const uint8_t report_data[static VEIL_SNP_REPORT_DATA_LEN], uint64_t policy,
                            uint32_t vmpl, uint64_t tcb, uint8_t out[static VEIL_SNP_REPORT_LEN],
                            veil_err *err)
{
	memset(out, 0, VEIL_SNP_REPORT_LEN);
	if (!chain)
		return veil_err_set(err, VEIL_E_INVALID, "simulated report: no chain");
	EVP_PKEY *key = NULL;
	uint8_t hwid[VEIL_SNP_CHIP_ID_LEN];
	veil_status st = load_signer(chain, &key, hwid, err);
	if (st)
		return st;
	uint8_t *r = out;
	put_le32(r + 0x000, 2); /* VERSION */
	put_le64(r + 0x008, policy);
	put_le32(r + 0x030, vmpl);
	put_le32(r + 0x034, VEIL_SNP_SIG_ALGO_P384);
	put_le64(r + 0x038, tcb); /* CURRENT_TCB */
	/* key_info 0: signed by the VCEK, chip key not masked, no author key. */
	memcpy(r + 0x050, report_data, VEIL_SNP_REPORT_DATA_LEN);
	memcpy(r + 0x090, measurement, VEIL_SNP_MEASUREMENT_LEN);
	if ((st = veil_random(r + 0x140, VEIL_SNP_REPORT_ID_LEN, err)))
		goto done;
	memset(r + 0x160, 0xff, VEIL_SNP_REPORT_ID_LEN); /* REPORT_ID_MA: no migration agent */
	put_le64(r + 0x180, tcb);                        /* REPORTED_TCB */
	memcpy(r + 0x1A0, hwid, VEIL_SNP_CHIP_ID_LEN);
	put_le64(r + 0x1E0, tcb); /* COMMITTED_TCB */
	put_le64(r + 0x1F0, tcb); /* LAUNCH_TCB */
	st = sign_report(key, r, err);
done:
	EVP_PKEY_free(key);
	if (st)
		memset(out, 0, VEIL_SNP_REPORT_LEN);
	return st;
}

/* ---- verification and claims ---- */

veil_status veil_snp_verify_sim(const veil_snp_report *report, const veil_sim_chain *chain, int64_t now,
                                veil_snp_result *out, veil_err *err)
{
	if (!report || !chain || !chain->ark_pem.data || !chain->chain_pem.data) {
		memset(out, 0, sizeof *out);
		return veil_err_set(err, VEIL_E_INVALID, "simulated verify: no report or no simulated chain");
	}
	veil_status st = snp_verify_anchored(
	        report, chain->vcek_der.data, chain->vcek_der.len, (const char *)chain->chain_pem.data,
	        chain->chain_pem.len, (const char *)chain->ark_pem.data, chain->ark_pem.len, now, out, err);
	if (st)
		return st;
	/* The anchor is the caller's, but the VCEK must still say it is a simulated one. */
	if (strcmp(out->vcek_product, VEIL_SIM_PRODUCT_NAME) != 0) {
		memset(out, 0, sizeof *out);
		return veil_err_set(err, VEIL_E_INVALID, "simulated verify: the VCEK's product is not \"%s\"",
		                    VEIL_SIM_PRODUCT_NAME);
	}
	return VEIL_OK;
}
