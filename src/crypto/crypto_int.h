/* Private helpers shared by the files of the crypto module. */
#ifndef VEIL_CRYPTO_INT_H
#define VEIL_CRYPTO_INT_H

#include "veil/base.h"

/* Reports an OpenSSL failure by its reason (never by data), empties
 * OpenSSL's error queue so the next call starts clean, and returns
 * VEIL_E_CRYPTO. hint NULL: the generic "check OpenSSL" hint. */
veil_status crypto_ossl_fail(veil_err *err, const char *what, const char *hint);

#endif
