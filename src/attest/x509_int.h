/*
 * X.509 checks every verifier in attest shares (x509.c): one certificate's
 * validity at a time, and one link of a chain. Internal to the module.
 */
#ifndef VEIL_ATTEST_X509_INT_H
#define VEIL_ATTEST_X509_INT_H

#include <openssl/x509.h>

#include "veil/base.h"

/* VEIL_E_CORRUPT naming `what` unless x is valid at `now` (seconds since
 * the epoch): notBefore at or before it, notAfter after it. */
veil_status attest_x509_check_validity(X509 *x, const char *what, int64_t now, veil_err *err) VEIL_MUST_CHECK;

/* One link: `child` names `parent` as its issuer and carries a signature
 * that parent's key verifies (X509_verify reads the algorithm from the
 * certificate, RSA-PSS parameters included). VEIL_E_CORRUPT naming `link`. */
veil_status attest_x509_check_link(X509 *child, X509 *parent, const char *link,
                                   veil_err *err) VEIL_MUST_CHECK;

/* Reads exactly `want` (1..7) PEM certificates from pem (len bytes) into
 * out, in their order. VEIL_E_INVALID otherwise: "<what>: 3 certificates
 * in the PEM, expected <expected>"; VEIL_E_NOMEM. On error out is empty. */
veil_status attest_x509_read_pem(const char *pem, size_t len, int want, X509 **out, const char *what,
                                 const char *expected, veil_err *err) VEIL_MUST_CHECK;

#endif
