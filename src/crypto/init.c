/*
 * Process hardening and secure memory: the OpenSSL secure heap (mlocked,
 * guard pages, excluded from core dumps), no core dumps, no ptrace attach,
 * and the two helpers every secret needs: a wipe the compiler keeps and a
 * constant-time comparison.
 */
#include "veil/crypto.h"

#include "crypto_int.h"

#include <errno.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

/* Big enough for the long-lived keys one process holds (KEKs, signing and
 * HPKE keys, OpenSSL's own copies of them); when it runs out,
 * veil_secure_alloc falls back to ordinary memory that is still wiped. */
#define SECURE_HEAP_BYTES ((size_t)1 << 20)
#define SECURE_HEAP_MIN   32

static void secure_heap(void)
{
	if (CRYPTO_secure_malloc_initialized())
		return;
	/* 0: no heap at all (mmap failed or the build has none); 2: heap made but
	 * mlock refused (RLIMIT_MEMLOCK). Both leave veil working, with secrets
	 * in ordinary memory, so only an operator's log hears about it. */
	int rc = CRYPTO_secure_malloc_init(SECURE_HEAP_BYTES, SECURE_HEAP_MIN);
	ERR_clear_error();
	if (rc == 0)
		veil_log(VEIL_LOG_WARN, "crypto.secure_heap",
		         "no secure heap; secrets live in ordinary memory");
	else if (rc == 2)
		veil_log(VEIL_LOG_WARN, "crypto.secure_heap",
		         "secure heap is not locked in memory (mlock refused)");
}

veil_status veil_crypto_init(veil_err *err)
{
	secure_heap();
	/* Not dumpable also forbids ptrace attach by same-uid processes. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		veil_status st =
		        veil_err_errno(err, VEIL_E_DENIED, errno, "could not mark the process non-dumpable");
		veil_err_hint(err,
		              "run veil where prctl(PR_SET_DUMPABLE) is allowed (check the seccomp profile)");
		return st;
	}
	struct rlimit none = {0, 0};
	if (setrlimit(RLIMIT_CORE, &none) != 0) {
		veil_status st = veil_err_errno(err, VEIL_E_DENIED, errno, "could not disable core dumps");
		veil_err_hint(err,
		              "run veil where setrlimit(RLIMIT_CORE) is allowed (check the seccomp profile)");
		return st;
	}
	return VEIL_OK;
}

void *veil_secure_alloc(size_t n)
{
	size_t sz = n ? n : 1; /* a unique pointer even for n == 0 */
	/* A full secure heap leaves an error on OpenSSL's queue; it is not an
	 * error for us, so drop it and fall back. */
	ERR_set_mark();
	void *p = OPENSSL_secure_zalloc(sz);
	ERR_pop_to_mark();
	if (!p)
		p = OPENSSL_zalloc(sz);
	return p;
}

void veil_secure_free(void *p, size_t n)
{
	if (!p)
		return;
	/* Each pointer goes back to the allocator it came from. */
	if (CRYPTO_secure_allocated(p))
		OPENSSL_secure_clear_free(p, n);
	else
		OPENSSL_clear_free(p, n);
}

void veil_wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}

bool veil_ct_equal(const void *a, const void *b, size_t n)
{
	if (n == 0)
		return true;
	return CRYPTO_memcmp(a, b, n) == 0;
}

veil_status crypto_ossl_fail(veil_err *err, const char *what, const char *hint)
{
	unsigned long e = ERR_peek_last_error();
	const char *why = e ? ERR_reason_error_string(e) : NULL;
	ERR_clear_error();
	veil_err_set(err, VEIL_E_CRYPTO, "%s failed (OpenSSL: %s)", what, why ? why : "no reason given");
	veil_err_hint(err, "%s",
	              hint ? hint
	                   : "check that OpenSSL 3 is installed correctly and that memory is available");
	return VEIL_E_CRYPTO;
}
