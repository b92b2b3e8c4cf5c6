/*
 * The "file" root provider: a 256-bit root key from the CSPRNG, sealed in
 * root.sealed under a passphrase (scrypt, then AES-256-GCM with the file's
 * header as AAD). While the KMS is open the root key lives only in secure
 * memory; it is never written anywhere unsealed.
 *
 * The file also carries a passphrase check (HMAC under a second scrypt
 * output) and a plain SHA-256 of everything before it, so that the three
 * ways opening can fail say three different things: damaged file (checksum),
 * wrong passphrase (check), modified file (GCM tag). Layout:
 * docs/formats/keys.md, "root.sealed".
 */
#include "keys_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAGIC_LEN 8
static const uint8_t magic[MAGIC_LEN] = {'V', 'E', 'I', 'L', 'R', 'O', 'O', 'T'};
#define FORMAT_VERSION 1
#define KDF_SCRYPT     1
#define SCRYPT_R       8
#define SCRYPT_P       1
#define SALT_LEN       32

/* Byte offsets in root.sealed. */
#define OFF_VERSION 8
#define OFF_KDF     9
#define OFF_LOG_N   10
#define OFF_R       11
#define OFF_P       12
#define OFF_SALT    13
#define OFF_NONCE   (OFF_SALT + SALT_LEN)
#define HDR_LEN     (OFF_NONCE + VEIL_GCM_NONCE_LEN)
#define OFF_CHECK   HDR_LEN
#define OFF_CT      (OFF_CHECK + VEIL_SHA256_LEN)
#define OFF_TAG     (OFF_CT + KEYS_KEY_LEN)
#define OFF_SUM     (OFF_TAG + VEIL_GCM_TAG_LEN)
#define FILE_LEN    (OFF_SUM + VEIL_SHA256_LEN)
_Static_assert(HDR_LEN == 57 && FILE_LEN == 169, "root.sealed layout is fixed by docs/formats/keys.md");

#define CHECK_LABEL     "veil.root.passphrase-check.v1"
#define CHECK_LABEL_LEN (sizeof CHECK_LABEL - 1)
#define KDF_OUT         (2 * KEYS_KEY_LEN) /* sealing key || check key */

typedef struct file_root {
	keys_root base;
	uint8_t *key; /* KEYS_KEY_LEN bytes of secure memory */
	char path[KEYS_PATH_MAX];
} file_root;

static veil_status fr_wrap(keys_root *r, const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                           uint8_t *out, veil_err *err)
{
	return veil_wrap(((file_root *)r)->key, aad, aad_len, in, len, out, err);
}

static veil_status fr_unwrap(keys_root *r, const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                             uint8_t *out, veil_err *err)
{
	return veil_unwrap(((file_root *)r)->key, aad, aad_len, in, len, out, err);
}

static void fr_close(keys_root *r)
{
	if (!r)
		return;
	file_root *f = (file_root *)r;
	veil_secure_free(f->key, KEYS_KEY_LEN);
	free(f);
}

/* Only ever called on a file this process created exclusively moments ago,
 * before any key was wrapped with it. */
static void fr_abandon(keys_root *r)
{
	file_root *f = (file_root *)r;
	unlink(f->path);
}

static veil_status new_root(const veil_kms_config *cfg, file_root **out, veil_err *err)
{
	file_root *f = calloc(1, sizeof *f);
	if (!f)
		return keys_fail(err, VEIL_E_NOMEM, "out of memory");
	f->base = (keys_root){"file", fr_wrap, fr_unwrap, fr_abandon, fr_close};
	f->key = veil_secure_alloc(KEYS_KEY_LEN);
	veil_status st = f->key ? VEIL_OK : keys_fail(err, VEIL_E_NOMEM, "out of secure memory");
	if (!st)
		st = veil_path_join(f->path, sizeof f->path, cfg->dir, KEYS_ROOT_FILE, err);
	if (st) {
		fr_close(&f->base);
		return st;
	}
	*out = f;
	return VEIL_OK;
}

/* The minimum length is a rule for choosing a passphrase, so only create
 * enforces it; opening treats a short one as what it is, a wrong
 * passphrase (keys_root_file_open). */
static veil_status check_passphrase(const veil_kms_config *cfg, bool creating, veil_err *err)
{
	if (!cfg->passphrase) {
		veil_err_set(err, VEIL_E_INVALID, "no passphrase was given for the workspace root key");
		veil_err_hint(err, "type it when asked, or set VEIL_PASSPHRASE or the passphrase file");
		return VEIL_E_INVALID;
	}
	if (creating && cfg->passphrase_len < VEIL_KMS_PASSPHRASE_MIN) {
		veil_err_set(err, VEIL_E_INVALID,
		             "the passphrase for the workspace root key must be at least %d bytes",
		             VEIL_KMS_PASSPHRASE_MIN);
		veil_err_hint(err, "choose a longer passphrase (a few random words work well)");
		return VEIL_E_INVALID;
	}
	if (cfg->passphrase_len > VEIL_KMS_PASSPHRASE_MAX)
		return keys_fail(err, VEIL_E_INVALID, "the passphrase is longer than %d bytes",
		                 VEIL_KMS_PASSPHRASE_MAX);
	return VEIL_OK;
}

static veil_status wrong_passphrase(veil_err *err)
{
	veil_err_set(err, VEIL_E_AUTH, "wrong passphrase for the workspace root key");
	veil_err_hint(err, "check the passphrase (typed, from VEIL_PASSPHRASE or the passphrase file) "
	                   "and try again");
	return VEIL_E_AUTH;
}

/* kdf = scrypt(passphrase, salt): the sealing key, then the check key;
 * check = HMAC-SHA-256(check key, CHECK_LABEL || header). */
static veil_status derive(const veil_kms_config *cfg, const uint8_t hdr[HDR_LEN], uint8_t kdf[KDF_OUT],
                          uint8_t check[VEIL_SHA256_LEN], veil_err *err)
{
	veil_status st = veil_scrypt(cfg->passphrase, cfg->passphrase_len, hdr + OFF_SALT, SALT_LEN,
	                             hdr[OFF_LOG_N], hdr[OFF_R], hdr[OFF_P], kdf, KDF_OUT, err);
	if (st)
		return st;
	uint8_t msg[CHECK_LABEL_LEN + HDR_LEN];
	/* msg is bytes, not a string: no terminator wanted */
	memcpy(msg, CHECK_LABEL, CHECK_LABEL_LEN); // NOLINT(bugprone-not-null-terminated-result)
	memcpy(msg + CHECK_LABEL_LEN, hdr, HDR_LEN);
	return veil_hmac_sha256(kdf + KEYS_KEY_LEN, KEYS_KEY_LEN, msg, sizeof msg, check, err);
}

/* Fills buf with a sealing of f->key under a fresh salt and nonce. */
static veil_status seal(const veil_kms_config *cfg, const file_root *f, unsigned log_n, uint8_t buf[FILE_LEN],
                        veil_err *err)
{
	memcpy(buf, magic, MAGIC_LEN);
	buf[OFF_VERSION] = FORMAT_VERSION;
	buf[OFF_KDF] = KDF_SCRYPT;
	buf[OFF_LOG_N] = (uint8_t)log_n;
	buf[OFF_R] = SCRYPT_R;
	buf[OFF_P] = SCRYPT_P;
	uint8_t *kdf = veil_secure_alloc(KDF_OUT);
	if (!kdf)
		return keys_fail(err, VEIL_E_NOMEM, "out of secure memory");
	veil_status st = veil_random(buf + OFF_SALT, SALT_LEN + VEIL_GCM_NONCE_LEN, err);
	if (!st)
		st = derive(cfg, buf, kdf, buf + OFF_CHECK, err);
	if (!st)
		st = veil_aead_seal(kdf, buf + OFF_NONCE, buf, HDR_LEN, f->key, KEYS_KEY_LEN, buf + OFF_CT,
		                    buf + OFF_TAG, err);
	if (!st)
		st = veil_sha256(buf, OFF_SUM, buf + OFF_SUM, err);
	veil_secure_free(kdf, KDF_OUT);
	return st;
}

veil_status keys_root_file_create(const veil_kms_config *cfg, keys_root **out, veil_err *err)
{
	*out = NULL;
	unsigned log_n = cfg->kdf_log_n ? cfg->kdf_log_n : VEIL_KMS_KDF_LOG_N_DEFAULT;
	veil_status st = check_passphrase(cfg, true, err);
	if (st)
		return st;
	if (log_n < VEIL_KMS_KDF_LOG_N_MIN || log_n > VEIL_KMS_KDF_LOG_N_MAX)
		return keys_fail(err, VEIL_E_INVALID, "kdf_log_n %u is outside %d..%d", log_n,
		                 VEIL_KMS_KDF_LOG_N_MIN, VEIL_KMS_KDF_LOG_N_MAX);
	file_root *f;
	if ((st = new_root(cfg, &f, err)))
		return st;
	uint8_t buf[FILE_LEN];
	st = veil_random(f->key, KEYS_KEY_LEN, err);
	if (!st)
		st = seal(cfg, f, log_n, buf, err);
	if (!st)
		st = veil_fs_write_new(f->path, buf, sizeof buf, 0600, err);
	if (st == VEIL_E_EXISTS) {
		veil_err_set(err, st,
		             "%s exists but the key store beside it does not: an earlier create was "
		             "interrupted, or the folder holds another workspace's root key",
		             f->path);
		veil_err_hint(err,
		              "if no data was ever encrypted in this workspace, delete %s and create again",
		              f->path);
	}
	if (st) {
		fr_close(&f->base);
		return st;
	}
	*out = &f->base;
	return VEIL_OK;
}

static veil_status damaged(veil_err *err, const char *path, const char *why)
{
	veil_err_set(err, VEIL_E_CORRUPT, "%s is damaged: %s", path, why);
	veil_err_hint(err, "restore the workspace's keys/ folder from a backup");
	return VEIL_E_CORRUPT;
}

/* Checks everything that can be checked without the passphrase. */
static veil_status parse(const char *path, const veil_buf *b, veil_err *err)
{
	if (b->len < OFF_VERSION + 1 || memcmp(b->data, magic, MAGIC_LEN) != 0)
		return damaged(err, path, "it is not a veil sealed root key file");
	if (b->data[OFF_VERSION] != FORMAT_VERSION) {
		veil_err_set(err, VEIL_E_UNSUPPORTED, "%s has format version %u; this veil reads version %d",
		             path, b->data[OFF_VERSION], FORMAT_VERSION);
		veil_err_hint(err, "use a newer veil with this workspace");
		return VEIL_E_UNSUPPORTED;
	}
	if (b->len != FILE_LEN)
		return damaged(err, path, "wrong size");
	uint8_t sum[VEIL_SHA256_LEN];
	veil_status st = veil_sha256(b->data, OFF_SUM, sum, err);
	if (st)
		return st;
	if (!veil_ct_equal(sum, b->data + OFF_SUM, sizeof sum))
		return damaged(err, path, "checksum mismatch");
	if (b->data[OFF_KDF] != KDF_SCRYPT || b->data[OFF_R] != SCRYPT_R || b->data[OFF_P] != SCRYPT_P ||
	    b->data[OFF_LOG_N] < VEIL_KMS_KDF_LOG_N_MIN || b->data[OFF_LOG_N] > VEIL_KMS_KDF_LOG_N_MAX)
		return damaged(err, path, "its key derivation parameters are outside what veil accepts");
	return VEIL_OK;
}

static veil_status unseal(const veil_kms_config *cfg, file_root *f, const uint8_t *buf, veil_err *err)
{
	uint8_t check[VEIL_SHA256_LEN];
	uint8_t *kdf = veil_secure_alloc(KDF_OUT);
	if (!kdf)
		return keys_fail(err, VEIL_E_NOMEM, "out of secure memory");
	veil_status st = derive(cfg, buf, kdf, check, err);
	if (!st && !veil_ct_equal(check, buf + OFF_CHECK, sizeof check))
		st = wrong_passphrase(err);
	if (!st && veil_aead_open(kdf, buf + OFF_NONCE, buf, HDR_LEN, buf + OFF_CT, KEYS_KEY_LEN,
	                          buf + OFF_TAG, f->key, NULL) != VEIL_OK)
		st = damaged(err, f->path,
		             "the sealed key fails authentication although the passphrase is right, "
		             "so the file was modified");
	veil_secure_free(kdf, KDF_OUT);
	veil_wipe(check, sizeof check);
	return st;
}

veil_status keys_root_file_open(const veil_kms_config *cfg, keys_root **out, veil_err *err)
{
	*out = NULL;
	veil_status st = check_passphrase(cfg, false, err);
	file_root *f;
	if (st || (st = new_root(cfg, &f, err)))
		return st;
	veil_buf b = {0};
	if (!veil_fs_exists(f->path)) {
		st = keys_fail(err, VEIL_E_NOTFOUND, "the sealed root key %s is missing", f->path);
		veil_err_hint(err, "restore the workspace's keys/ folder from a backup");
	}
	if (!st)
		st = veil_fs_read_file(f->path, 4096, &b, err);
	if (st == VEIL_E_LIMIT)
		st = damaged(err, f->path, "wrong size");
	if (!st)
		st = parse(f->path, &b, err);
	/* Step 4 of the checks in docs/formats/keys.md: a passphrase shorter
	 * than any create accepts cannot be this file's, so it is wrong, and
	 * refused without spending the KDF on it. */
	if (!st)
		st = cfg->passphrase_len < VEIL_KMS_PASSPHRASE_MIN ? wrong_passphrase(err)
		                                                   : unseal(cfg, f, b.data, err);
	veil_buf_free(&b);
	if (st) {
		fr_close(&f->base);
		return st;
	}
	*out = &f->base;
	return VEIL_OK;
}
