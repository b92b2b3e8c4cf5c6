/*
 * SEV-SNP verification: the report's ECDSA P-384 signature with the key its
 * key_info names, the VCEK -> ASK -> ARK or VLEK -> ASVK -> ARK chain
 * (RSA-PSS with SHA-384) ending in an ARK that is byte for byte one of the
 * pinned ones (roots.c), and the key's TCB extensions against the report's
 * reported_tcb and, for a VCEK, its hwID against chip_id. A VLEK is AMD's
 * key for one cloud provider's fleet, not for one chip: it has no hwID, and
 * a VLEK-signed report says nothing about which chip ran the guest.
 *
 * Order matters for the error a caller sees, not for safety: the chain is
 * checked first (so "which ARK" is known and the TCB layout with it), then
 * the signature, then the extensions. Every step must pass; nothing is
 * cached between calls. OpenSSL 3 EVP and X509 only.
 *
 * The simulated TEE (sim.c) runs this same code through snp_verify_anchored,
 * with its own ARK passed in place of the pinned ones; veil_snp_verify
 * itself only ever trusts the pinned roots.
 */
#include "x509_int.h"
#include "snp_int.h"

#include <limits.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* AMD's VCEK extensions (KDS specification, "VCEK certificate extensions"). */
#define OID_PRODUCT_NAME "1.3.6.1.4.1.3704.1.2"
#define OID_BOOTLOADER   "1.3.6.1.4.1.3704.1.3.1"
#define OID_TEE          "1.3.6.1.4.1.3704.1.3.2"
#define OID_SNP          "1.3.6.1.4.1.3704.1.3.3"
#define OID_UCODE        "1.3.6.1.4.1.3704.1.3.8"
#define OID_FMC          "1.3.6.1.4.1.3704.1.3.9"
#define OID_HWID         "1.3.6.1.4.1.3704.1.4"

static const veil_snp_product products[] = {VEIL_SNP_PRODUCT_MILAN, VEIL_SNP_PRODUCT_GENOA,
                                            VEIL_SNP_PRODUCT_TURIN};

/* vcek and ask name the signing key and its issuer whichever they are: a
 * VLEK and its ASVK when signing_key is VEIL_SNP_SIGNING_VLEK. */
typedef struct chain {
	X509 *vcek, *ask, *ark;
	veil_snp_product product;
	unsigned signing_key;
} chain;

static bool is_vlek(unsigned signing_key)
{
	return signing_key == VEIL_SNP_SIGNING_VLEK;
}

/* The names the errors use, so that a VLEK failure does not say VCEK. */
static const char *key_name(unsigned signing_key)
{
	return is_vlek(signing_key) ? "VLEK" : "VCEK";
}

static void chain_free(chain *c)
{
	X509_free(c->vcek);
	X509_free(c->ask);
	X509_free(c->ark);
}

static X509 *pem_cert(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	return x;
}

static veil_status load_vcek(const uint8_t *der, size_t len, chain *c, veil_err *err)
{
	const char *who = key_name(c->signing_key);
	if (!der || len == 0 || len > VEIL_SNP_CERT_MAX)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "%s: %zu bytes (expected a DER certificate of at most %u)", who, len,
		                    VEIL_SNP_CERT_MAX);
	const unsigned char *p = der;
	c->vcek = d2i_X509(NULL, &p, (long)len);
	if (!c->vcek || p != der + len) {
		ERR_clear_error();
		return veil_err_set(err, VEIL_E_INVALID, "%s: not one DER X.509 certificate", who);
	}
	return VEIL_OK;
}

/* Reads exactly two PEM certificates; the self-issued one is the ARK. */
static veil_status load_chain(const char *pem, size_t len, chain *c, veil_err *err)
{
	if (len == 0 || len > VEIL_SNP_CHAIN_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "ASK+ARK chain: %zu bytes (at most %u)", len,
		                    VEIL_SNP_CHAIN_MAX);
	X509 *x[2];
	veil_status st = attest_x509_read_pem(pem, len, 2, x, "ASK+ARK chain", "the ASK and the ARK", err);
	if (st)
		return st;
	int ark = X509_NAME_cmp(X509_get_subject_name(x[1]), X509_get_issuer_name(x[1])) == 0 ? 1 : 0;
	c->ark = x[ark];
	c->ask = x[1 - ark];
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

/* Sets c->product to the pinned ARK the chain's ARK equals, byte for byte. */
static veil_status match_pinned_ark(chain *c, veil_err *err)
{
	for (size_t i = 0; i < sizeof products / sizeof products[0]; i++) {
		X509 *pin = pem_cert(veil_snp_pinned_ark_pem(products[i]));
		if (!pin) {
			ERR_clear_error();
			return veil_err_set(err, VEIL_E_INTERNAL, "the pinned %s ARK does not parse",
			                    veil_snp_product_name(products[i]));
		}
		bool eq = same_der(c->ark, pin);
		X509_free(pin);
		if (eq) {
			c->product = products[i];
			return VEIL_OK;
		}
	}
	veil_err_set(err, VEIL_E_CORRUPT, "ARK: not one of the pinned AMD roots (Milan, Genoa, Turin)");
	return veil_err_hint(err,
	                     "the chain must end in AMD's own ARK; a chain from elsewhere is not trusted");
}

/* Without a chain from the caller: the pinned ASK (ASVK for a VLEK) whose
 * subject issued the signing key. */
static veil_status use_pinned_chain(chain *c, veil_err *err)
{
	bool vlek = is_vlek(c->signing_key);
	for (size_t i = 0; i < sizeof products / sizeof products[0]; i++) {
		X509 *ask = pem_cert(vlek ? veil_snp_pinned_asvk_pem(products[i])
		                          : veil_snp_pinned_ask_pem(products[i]));
		X509 *ark = pem_cert(veil_snp_pinned_ark_pem(products[i]));
		if (!ask || !ark) {
			X509_free(ask);
			X509_free(ark);
			ERR_clear_error();
			return veil_err_set(err, VEIL_E_INTERNAL, "the pinned %s roots do not parse",
			                    veil_snp_product_name(products[i]));
		}
		if (X509_NAME_cmp(X509_get_issuer_name(c->vcek), X509_get_subject_name(ask)) == 0) {
			c->ask = ask;
			c->ark = ark;
			c->product = products[i];
			return VEIL_OK;
		}
		X509_free(ask);
		X509_free(ark);
	}
	return veil_err_set(err, VEIL_E_CORRUPT, "%s: its issuer is none of the pinned AMD %s",
	                    key_name(c->signing_key), vlek ? "ASVKs" : "ASKs");
}

static veil_status check_chain(chain *c, int64_t now, veil_err *err)
{
	veil_status st;
	bool vlek = is_vlek(c->signing_key);
	const char *ask = vlek ? "ASVK" : "ASK";
	if ((st = attest_x509_check_link(c->ark, c->ark, "ARK (self-signed)", err)) ||
	    (st = attest_x509_check_link(c->ask, c->ark, vlek ? "ASVK -> ARK" : "ASK -> ARK", err)) ||
	    (st = attest_x509_check_link(c->vcek, c->ask, vlek ? "VLEK -> ASVK" : "VCEK -> ASK", err)))
		return st;
	if (X509_check_ca(c->ask) == 0 || X509_check_ca(c->ark) == 0)
		return veil_err_set(err, VEIL_E_CORRUPT, "%s or ARK: not a CA certificate", ask);
	if ((st = attest_x509_check_validity(c->ark, "ARK", now, err)) ||
	    (st = attest_x509_check_validity(c->ask, ask, now, err)) ||
	    (st = attest_x509_check_validity(c->vcek, key_name(c->signing_key), now, err)))
		return st;
	return VEIL_OK;
}

/* R and S are little-endian in the report; EVP wants a DER ECDSA-Sig-Value. */
static veil_status check_signature(const veil_snp_report *r, X509 *vcek, veil_err *err)
{
	const char *who = key_name(r->signing_key);
	EVP_PKEY *k = X509_get0_pubkey(vcek);
	char group[32] = "";
	if (!k || !EVP_PKEY_is_a(k, "EC") ||
	    !EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, NULL) ||
	    strcmp(group, "secp384r1") != 0) {
		ERR_clear_error();
		return veil_err_set(err, VEIL_E_INVALID, "%s: its key is not an ECDSA P-384 key", who);
	}
	veil_status st = VEIL_E_CRYPTO;
	unsigned char *der = NULL;
	EVP_MD_CTX *md = NULL;
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *br = BN_lebin2bn(r->sig_r, VEIL_SNP_SIG_COMPONENT, NULL);
	BIGNUM *bs = BN_lebin2bn(r->sig_s, VEIL_SNP_SIG_COMPONENT, NULL);
	if (!sig || !br || !bs || !ECDSA_SIG_set0(sig, br, bs)) {
		BN_free(br);
		BN_free(bs);
		veil_err_set(err, st, "report signature: cannot build the ECDSA signature");
		goto done;
	}
	int der_len = i2d_ECDSA_SIG(sig, &der);
	md = EVP_MD_CTX_new();
	if (der_len <= 0 || !md || EVP_DigestVerifyInit_ex(md, NULL, "SHA384", NULL, NULL, k, NULL) != 1) {
		veil_err_set(err, st, "report signature: cannot set up ECDSA P-384 verification");
		goto done;
	}
	if (EVP_DigestVerify(md, der, (size_t)der_len, r->raw, VEIL_SNP_SIGNED_LEN) != 1) {
		st = veil_err_set(err, VEIL_E_AUTH, "report signature: does not verify with the %s's key",
		                  who);
		veil_err_hint(
		        err,
		        "the report was changed, or the %s is not the one of the %s and TCB that signed it",
		        who, is_vlek(r->signing_key) ? "cloud provider" : "chip");
		goto done;
	}
	st = VEIL_OK;
done:
	ERR_clear_error();
	ECDSA_SIG_free(sig); /* owns br and bs after set0 */
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	return st;
}

/* The extension's contents: 0 absent, 1 found once, -1 present twice or more. */
static int find_ext(X509 *x, const char *oid, const unsigned char **data, int *len)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	if (!obj)
		return -1;
	int idx = X509_get_ext_by_OBJ(x, obj, -1);
	int again = idx < 0 ? -1 : X509_get_ext_by_OBJ(x, obj, idx);
	ASN1_OBJECT_free(obj);
	if (idx < 0)
		return 0;
	if (again >= 0)
		return -1;
	const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(X509_get_ext(x, idx));
	*data = ASN1_STRING_get0_data(v);
	*len = ASN1_STRING_length(v);
	return 1;
}

/* An SPL extension holds a DER INTEGER in 0..255. */
static veil_status ext_spl(X509 *x, const char *who, const char *oid, const char *name, uint8_t *out,
                           veil_err *err)
{
	const unsigned char *d = NULL;
	int len = 0;
	int found = find_ext(x, oid, &d, &len);
	if (found != 1)
		return veil_err_set(err, VEIL_E_INVALID, "%s: the %s SPL extension (%s) is %s", who, name,
		                    oid, found == 0 ? "missing" : "repeated");
	const unsigned char *p = d;
	ASN1_INTEGER *ai = d2i_ASN1_INTEGER(NULL, &p, len);
	int64_t v = -1;
	bool ok = ai && p == d + len && ASN1_INTEGER_get_int64(&v, ai) == 1 && v >= 0 && v <= 255;
	ASN1_INTEGER_free(ai);
	ERR_clear_error();
	if (!ok)
		return veil_err_set(err, VEIL_E_INVALID, "%s: the %s SPL extension is not an integer 0..255",
		                    who, name);
	*out = (uint8_t)v;
	return VEIL_OK;
}

static veil_status spl_equal(X509 *x, const char *who, const char *oid, const char *name, uint8_t reported,
                             veil_err *err)
{
	uint8_t v = 0;
	veil_status st = ext_spl(x, who, oid, name, &v, err);
	if (st)
		return st;
	if (v != reported)
		return veil_err_set(err, VEIL_E_DENIED,
		                    "TCB: the %s is for %s SPL %u, the report's reported_tcb says %u", who,
		                    name, (unsigned)v, (unsigned)reported);
	return VEIL_OK;
}

static veil_status check_tcb(const veil_snp_report *r, X509 *vcek, veil_snp_product product,
                             veil_snp_tcb *tcb, veil_err *err)
{
	veil_snp_tcb_decode(r->reported_tcb, product, tcb);
	if (!tcb->reserved_zero)
		return veil_err_set(err, VEIL_E_DENIED,
		                    "TCB: reported_tcb has non-zero reserved bytes for a %s processor, which "
		                    "no VCEK certifies",
		                    veil_snp_product_name(product));
	/* A VLEK carries the same SPL extensions as a VCEK: AMD derives it for a TCB too. */
	const char *who = key_name(r->signing_key);
	veil_status st;
	if ((st = spl_equal(vcek, who, OID_BOOTLOADER, "boot loader", tcb->bootloader, err)) ||
	    (st = spl_equal(vcek, who, OID_TEE, "TEE", tcb->tee, err)) ||
	    (st = spl_equal(vcek, who, OID_SNP, "SNP", tcb->snp, err)) ||
	    (st = spl_equal(vcek, who, OID_UCODE, "microcode", tcb->microcode, err)))
		return st;
	if (product == VEIL_SNP_PRODUCT_TURIN)
		return spl_equal(vcek, who, OID_FMC, "FMC", tcb->fmc, err);
	return VEIL_OK;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* hwID is the chip id (64 bytes; 8 on Turin, the rest of chip_id zero). A
 * chip_id of zeros means the host set MASK_CHIP_ID: nothing to compare. */
static veil_status check_hwid(const veil_snp_report *r, X509 *vcek, bool *masked, veil_err *err)
{
	const unsigned char *d = NULL;
	int len = 0;
	int found = find_ext(vcek, OID_HWID, &d, &len);
	if (found != 1)
		return veil_err_set(err, VEIL_E_INVALID, "VCEK: the hwID extension (%s) is %s", OID_HWID,
		                    found == 0 ? "missing" : "repeated");
	/* Some KDS certificates wrap the bytes in an inner OCTET STRING. */
	if (len == 2 + VEIL_SNP_CHIP_ID_LEN && d[0] == 0x04 && d[1] == VEIL_SNP_CHIP_ID_LEN) {
		d += 2;
		len -= 2;
	}
	if (len < 1 || len > VEIL_SNP_CHIP_ID_LEN)
		return veil_err_set(err, VEIL_E_INVALID, "VCEK: the hwID extension holds %d bytes (1..64)",
		                    len);
	*masked = all_zero(r->chip_id, sizeof r->chip_id);
	if (*masked)
		return VEIL_OK;
	if (memcmp(r->chip_id, d, (size_t)len) != 0 ||
	    !all_zero(r->chip_id + len, sizeof r->chip_id - (size_t)len))
		return veil_err_set(err, VEIL_E_DENIED,
		                    "hwID: the VCEK was issued to another chip than the "
		                    "report's chip_id");
	return VEIL_OK;
}

/* The VCEK's product name (an IA5String, "Milan-B0"), printable ASCII only; "" when absent. */
static void vcek_product(X509 *vcek, char out[VEIL_SNP_VCEK_PRODUCT_MAX])
{
	const unsigned char *d = NULL;
	int len = 0;
	out[0] = '\0';
	if (find_ext(vcek, OID_PRODUCT_NAME, &d, &len) != 1 || len < 2 || d[0] != 0x16 || d[1] != len - 2 ||
	    len - 2 >= VEIL_SNP_VCEK_PRODUCT_MAX)
		return;
	for (int i = 2; i < len; i++)
		if (d[i] < 0x20 || d[i] > 0x7e)
			return;
	memcpy(out, d + 2, (size_t)(len - 2));
	out[len - 2] = '\0';
}

veil_status snp_check_vcek_claims(const veil_snp_report *r, X509 *vcek, veil_snp_product product,
                                  veil_snp_result *res, veil_err *err)
{
	veil_status st = check_tcb(r, vcek, product, &res->reported_tcb, err);
	res->chip_bound = false;
	res->chip_id_masked = false;
	if (st)
		return st;
	/* A VLEK has no hwID: nothing ties the report to a chip, and the result says so. */
	if (is_vlek(r->signing_key))
		return VEIL_OK;
	st = check_hwid(r, vcek, &res->chip_id_masked, err);
	res->chip_bound = st == VEIL_OK && !res->chip_id_masked;
	return st;
}

/* A VLEK has no hwID; a certificate with one is a VCEK, whatever chain it
 * comes with. Checked before any signature, so that a VCEK offered for a
 * VLEK-signed report (or the reverse, which check_hwid refuses) gets an
 * error that says what is wrong rather than "does not verify". */
static veil_status check_key_kind(const chain *c, veil_err *err)
{
	const unsigned char *d = NULL;
	int len = 0;
	if (is_vlek(c->signing_key) && find_ext(c->vcek, OID_HWID, &d, &len) != 0) {
		veil_err_set(err, VEIL_E_INVALID,
		             "VLEK: the certificate has a hwID extension (%s), so it is a VCEK", OID_HWID);
		return veil_err_hint(err,
		                     "the report says a VLEK signed it: pass the VLEK certificate and the "
		                     "ASVK+ARK chain");
	}
	return VEIL_OK;
}

static veil_status check_signer(const veil_snp_report *r, veil_err *err)
{
	if (r->key_info & VEIL_SNP_KEYINFO_MASK_CHIP_KEY)
		return veil_err_set(err, VEIL_E_UNSUPPORTED,
		                    "report: MASK_CHIP_KEY is set, so the firmware did not sign it");
	if (r->signing_key == VEIL_SNP_SIGNING_NONE)
		return veil_err_set(err, VEIL_E_UNSUPPORTED, "report: SIGNING_KEY is 7, so no key signed it");
	if (r->signing_key != VEIL_SNP_SIGNING_VCEK && r->signing_key != VEIL_SNP_SIGNING_VLEK)
		return veil_err_set(err, VEIL_E_UNSUPPORTED,
		                    "report: signing key %u is neither a VCEK (0) nor a VLEK (1)",
		                    r->signing_key);
	return VEIL_OK;
}

/* Sets c->product to UNKNOWN after checking that the chain's ARK is, byte for
 * byte, the anchor the caller trusts instead of the pinned roots. */
static veil_status match_anchor(chain *c, const char *anchor_pem, size_t anchor_len, veil_err *err)
{
	if (anchor_len == 0 || anchor_len > VEIL_SNP_CERT_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "trusted ARK: %zu bytes (at most %u)", anchor_len,
		                    VEIL_SNP_CERT_MAX);
	BIO *b = BIO_new_mem_buf(anchor_pem, (int)anchor_len);
	X509 *anchor = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!anchor) {
		ERR_clear_error();
		return veil_err_set(err, VEIL_E_INVALID, "trusted ARK: not a PEM certificate");
	}
	bool eq = same_der(c->ark, anchor);
	X509_free(anchor);
	if (!eq)
		return veil_err_set(err, VEIL_E_CORRUPT, "ARK: not the trusted root the caller gave");
	c->product = VEIL_SNP_PRODUCT_UNKNOWN;
	return VEIL_OK;
}

/* The one verification path. anchor_pem NULL: the chain must end in a pinned
 * AMD ARK (or, without a chain, the pinned ASKs are used). Otherwise the
 * chain is required and must end in exactly that ARK. */
static veil_status verify(const veil_snp_report *report, const uint8_t *vcek_der, size_t vcek_len,
                          const char *chain_pem, size_t chain_len, const char *anchor_pem, size_t anchor_len,
                          int64_t now, veil_snp_result *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	/* Only the raw bytes count: the fields are read again from them, so a
	 * caller's edit of a parsed field cannot pass for a signed one. */
	veil_snp_report *r = OPENSSL_malloc(sizeof *r);
	if (!r)
		return veil_err_set(err, VEIL_E_NOMEM, "SEV-SNP verify: out of memory");
	chain c = {0};
	veil_snp_result res = {0};
	veil_status st = veil_snp_report_parse(report->raw, sizeof report->raw, r, err);
	if (st || (st = check_signer(r, err)))
		goto done;
	c.signing_key = r->signing_key;
	if ((st = load_vcek(vcek_der, vcek_len, &c, err)) || (st = check_key_kind(&c, err)))
		goto done;
	if (chain_pem)
		st = load_chain(chain_pem, chain_len, &c, err);
	else if (anchor_pem)
		st = veil_err_set(err, VEIL_E_INVALID, "ASK+ARK chain: required with a trusted ARK");
	else
		st = use_pinned_chain(&c, err);
	if (st)
		goto done;
	if (chain_pem)
		st = anchor_pem ? match_anchor(&c, anchor_pem, anchor_len, err) : match_pinned_ark(&c, err);
	if (st || (st = check_chain(&c, now, err)) || (st = check_signature(r, c.vcek, err)) ||
	    (st = snp_check_vcek_claims(r, c.vcek, c.product, &res, err)))
		goto done;
	res.product = c.product;
	res.signing_key = r->signing_key;
	res.debug = r->debug;
	vcek_product(c.vcek, res.vcek_product);
	*out = res;
done:
	chain_free(&c);
	OPENSSL_free(r);
	return st;
}

veil_status veil_snp_verify(const veil_snp_report *report, const uint8_t *vcek_der, size_t vcek_len,
                            const char *chain_pem, size_t chain_len, int64_t now, veil_snp_result *out,
                            veil_err *err)
{
	return verify(report, vcek_der, vcek_len, chain_pem, chain_len, NULL, 0, now, out, err);
}

veil_status snp_verify_anchored(const veil_snp_report *report, const uint8_t *vcek_der, size_t vcek_len,
                                const char *chain_pem, size_t chain_len, const char *anchor_pem,
                                size_t anchor_len, int64_t now, veil_snp_result *out, veil_err *err)
{
	if (!anchor_pem) {
		memset(out, 0, sizeof *out);
		return veil_err_set(err, VEIL_E_INVALID, "no trusted ARK given");
	}
	return verify(report, vcek_der, vcek_len, chain_pem, chain_len, anchor_pem, anchor_len, now, out,
	              err);
}
