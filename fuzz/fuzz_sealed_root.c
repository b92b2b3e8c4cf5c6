/*
 * Fuzz target: the file root provider's reader of root.sealed
 * (docs/formats/keys.md), through keys_root_file_open on a scratch keys/
 * folder holding the input as root.sealed, with the corpus passphrase.
 *
 * The file ends in an unkeyed SHA-256 that the fuzzer cannot compute, so a
 * 169-byte input is also opened a second time with its checksum made right:
 * that is how mutations reach the KDF parameter checks, the passphrase check
 * and the GCM tag. In that copy a log_n the parser accepts but that is slow
 * (13..20, up to 1 GiB of scrypt) is lowered to 10 first; values outside
 * 10..20 are kept, as the parser must refuse them before any KDF runs.
 *
 * Invariants (abort on violation):
 *  1. A failure has an error message and leaves no root behind.
 *  2. A file that opens is 169 bytes with the KDF parameters of the format,
 *     and the root it holds wraps and unwraps a key.
 */
#include "fuzz.h"
#include "keys_int.h"

#include <stdlib.h>
#include <string.h>

#define SEALED_LEN 169
#define OFF_KDF    9
#define OFF_LOG_N  10
#define OFF_R      11
#define OFF_P      12
#define OFF_SUM    137
#define SLOW_LOG_N 13

static char dir[4096];

static void check_root(keys_root *r)
{
	static const uint8_t aad[] = "veil.fuzz.aad";
	uint8_t key[32], wrapped[32 + VEIL_WRAP_OVERHEAD], back[32];
	for (size_t i = 0; i < sizeof key; i++)
		key[i] = (uint8_t)(0xa0 + i);
	FUZZ_CHECK(r->wrap(r, aad, sizeof aad, key, sizeof key, wrapped, NULL) == VEIL_OK,
	           "an opened root cannot wrap");
	FUZZ_CHECK(r->unwrap(r, aad, sizeof aad, wrapped, sizeof wrapped, back, NULL) == VEIL_OK &&
	                   memcmp(back, key, sizeof key) == 0,
	           "an opened root does not unwrap what it wrapped");
	r->close(r);
}

static void open_one(const uint8_t *data, size_t size, const char *what)
{
	fuzz_put_file(dir, KEYS_ROOT_FILE, data, size);
	veil_kms_config cfg = {.dir = dir,
	                       .provider = "file",
	                       .passphrase = FUZZ_PASSPHRASE,
	                       .passphrase_len = strlen(FUZZ_PASSPHRASE)};
	keys_root *r = (keys_root *)1;
	veil_err err = {0};
	veil_status st = keys_root_file_open(&cfg, &r, &err);
	fuzz_note(what, st, &err);
	if (st) {
		FUZZ_CHECK(err.code == st && err.msg[0] != '\0', "a failure without an error message");
		FUZZ_CHECK(r == NULL, "a failed open left a root");
		FUZZ_CHECK(st == VEIL_E_CORRUPT || st == VEIL_E_UNSUPPORTED || st == VEIL_E_AUTH,
		           "a bad root.sealed failed with an unexpected status");
		return;
	}
	FUZZ_CHECK(size == SEALED_LEN, "a root.sealed of the wrong size opened");
	FUZZ_CHECK(data[OFF_KDF] == 1 && data[OFF_R] == 8 && data[OFF_P] == 1 &&
	                   data[OFF_LOG_N] >= VEIL_KMS_KDF_LOG_N_MIN &&
	                   data[OFF_LOG_N] <= VEIL_KMS_KDF_LOG_N_MAX,
	           "a root.sealed with KDF parameters outside the format opened");
	check_root(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0])
		fuzz_subdir("keys", dir, sizeof dir);
	open_one(data, size, "open");
	if (size != SEALED_LEN)
		return 0;
	uint8_t fixed[SEALED_LEN];
	memcpy(fixed, data, size);
	if (fixed[OFF_LOG_N] >= SLOW_LOG_N && fixed[OFF_LOG_N] <= VEIL_KMS_KDF_LOG_N_MAX)
		fixed[OFF_LOG_N] = FUZZ_KDF_LOG_N;
	FUZZ_CHECK(veil_sha256(fixed, OFF_SUM, fixed + OFF_SUM, NULL) == VEIL_OK, "sha256");
	if (memcmp(fixed, data, size) != 0)
		open_one(fixed, size, "open, checksum made right");
	return 0;
}
