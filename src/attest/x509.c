/* X.509 checks shared by the SEV-SNP and TDX verifiers (x509_int.h). */
#include "x509_int.h"

#include <openssl/err.h>
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
