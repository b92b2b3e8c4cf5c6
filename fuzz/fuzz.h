/*
 * What the fuzz targets share (fuzz/README.md): the libFuzzer entry point
 * that each fuzz_<name>.c defines, the fixed keys that the targets and the
 * corpus generator agree on, and small harness helpers (a memory stream, a
 * scratch folder removed at exit, whole-file writes, invariant checks).
 *
 * Harness failures and broken invariants abort(): libFuzzer then reports a
 * crash with the input that caused it, and the corpus driver fails its test.
 * The targets do not call veil_crypto_init on purpose: without the OpenSSL
 * secure heap every secret buffer comes from malloc, where AddressSanitizer
 * can see an overflow of it.
 */
#ifndef VEIL_FUZZ_H
#define VEIL_FUZZ_H

#include "veil/crypto.h"

/* The entry point libFuzzer (or fuzz/driver.c) calls once per input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The DEK every corpus object is sealed with (bytes 0x00..0x1f). */
extern const uint8_t fuzz_dek[VEIL_OBJ_DEK_LEN];
/* The audit log signing seed of the corpus proofs and logs (bytes 0x00..0x1f). */
extern const uint8_t fuzz_audit_seed[VEIL_ED25519_SEED_LEN];
/* The passphrase of the corpus root.sealed files, and their scrypt cost:
 * the lowest veil accepts, so an iteration that reaches the KDF stays fast. */
#define FUZZ_PASSPHRASE "veil fuzz passphrase"
#define FUZZ_KDF_LOG_N  10
/* Chunk size of the corpus objects: the smallest, so few bytes make several chunks. */
#define FUZZ_CHUNK VEIL_OBJ_CHUNK_MIN

/* Aborts with file, line and what when cond is false. */
#define FUZZ_CHECK(cond, what) fuzz_check((cond), (what), __FILE__, __LINE__)
void fuzz_check(bool cond, const char *what, const char *file, int line);

/* With VEIL_FUZZ_VERBOSE set, prints "# what: status: message" to stderr,
 * so a person can see what each corpus input reaches; silent otherwise. */
void fuzz_note(const char *what, veil_status st, const veil_err *err);

/* A read stream over memory. step > 0 caps each read at step bytes, so
 * readers meet short reads as they would on a pipe. */
typedef struct fuzz_mem {
	const uint8_t *p;
	size_t len, off, step;
} fuzz_mem;
veil_status fuzz_mem_read(void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err);

/* A write stream appending to a veil_buf (ctx). */
veil_status fuzz_buf_write(void *ctx, const uint8_t *buf, size_t n, veil_err *err);

/* An exact-size NUL-terminated copy of data (so that AddressSanitizer sees
 * a read past the NUL); the caller frees it. */
char *fuzz_strndup(const uint8_t *data, size_t size);

/* A folder of this process, made on first use under $TMPDIR (or /tmp) and
 * removed with everything in it when the process exits. */
const char *fuzz_scratch(void);
/* Makes the folder <scratch>/name if missing and returns its path in out. */
void fuzz_subdir(const char *name, char *out, size_t outsz);
/* Writes dir/name with exactly these bytes (no fsync: scratch data). */
void fuzz_put_file(const char *dir, const char *name, const void *data, size_t size);

#endif
