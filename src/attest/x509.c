/* X.509 checks shared by the SEV-SNP and TDX verifiers (x509_int.h). */
#include "x509_int.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <time.h>

veil_status attest_x509_check_validity(X509 *x, const char *what, int64_t now, veil_err *err)
{
	time_t t = (time_t)now;
	/* X509_cmp_time: -1 when the certificate's time is at or before t, 1 after, 0 on error. */
	if (X509_cmp_time(X509_get0_notBefore(x), &t) != -1)
		return veil_err_set(err, VEIL_E_CORRUPT,
		                    "%s: not valid yet (or its notBefore does not parse)", what);
	if (X509_cmp_time(X509_get0_notAfter(x), &t) != 1)
		return veil_err_set(err, VEIL_E_CORRUPT, "%s: expired (or its notAfter does not parse)",
		                    what);
	return VEIL_OK;
}

veil_status attest_x509_check_link(X509 *child, X509 *parent, const char *link, veil_err *err)
{
	if (X509_NAME_cmp(X509_get_issuer_name(child), X509_get_subject_name(parent)) != 0)
		return veil_err_set(err, VEIL_E_CORRUPT, "%s: the issuer name is not the issuer's subject",
		                    link);
	EVP_PKEY *k = X509_get0_pubkey(parent);
	if (!k || X509_verify(child, k) != 1) {
		ERR_clear_error();
		return veil_err_set(err, VEIL_E_CORRUPT, "%s: the signature does not verify", link);
	}
	return VEIL_OK;
}

veil_status attest_x509_read_pem(const char *pem, size_t len, int want, X509 **out, const char *what,
                                 const char *expected, veil_err *err)
{
	X509 *x[8] = {NULL};
	int n = 0;
	if (want < 1 || want > 7)
		return veil_err_set(err, VEIL_E_INTERNAL, "%s: %d certificates asked for", what, want);
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	if (!b)
		return veil_err_set(err, VEIL_E_NOMEM, "%s: out of memory", what);
	/* one more than wanted, to tell "too many" from "exactly" */
	while (n <= want && (x[n] = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		n++;
	BIO_free(b);
	ERR_clear_error(); /* the end of the PEM reads as an error */
	if (n != want) {
		for (int i = 0; i < n; i++)
			X509_free(x[i]);
		return veil_err_set(err, VEIL_E_INVALID, "%s: %s%d certificates in the PEM, expected %s",
		                    what, n > want ? "at least " : "", n, expected);
	}
	for (int i = 0; i < want; i++)
		out[i] = x[i];
	return VEIL_OK;
}
