/*
 * The CSPRNG: OpenSSL's private DRBG, kept apart from the public one so that
 * values an attacker sees (nonces, salts, ids) never come from the same
 * stream as keys.
 */
#include "veil/crypto.h"

#include <openssl/err.h>
#include <openssl/rand.h>

/* RAND_priv_bytes takes an int; larger requests are served in pieces. */
#define RANDOM_PIECE ((size_t)1 << 30)

veil_status veil_random(void *buf, size_t n, veil_err *err)
{
	if (!buf && n)
		return veil_err_set(err, VEIL_E_INVALID, "veil_random: no output buffer");
	uint8_t *p = buf;
	for (size_t done = 0; done < n;) {
		size_t k = n - done < RANDOM_PIECE ? n - done : RANDOM_PIECE;
		if (RAND_priv_bytes(p + done, (int)k) != 1) {
			ERR_clear_error();
			veil_wipe(buf, n);
			veil_err_set(err, VEIL_E_CRYPTO, "the random number generator failed");
			veil_err_hint(
			        err,
			        "check that the kernel's entropy source (getrandom, /dev/urandom) works");
			return VEIL_E_CRYPTO;
		}
		done += k;
	}
	return VEIL_OK;
}
