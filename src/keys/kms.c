/*
 * The KMS handle: creating a key store, opening it (keys.db first, then the
 * root, then a check that the two belong together), closing it, and the
 * cache of unwrapped KEKs that lives in secure memory while it is open.
 */
#include "keys_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static veil_status check_config(const veil_kms_config *cfg, veil_err *err)
{
	if (!cfg || !cfg->dir || !cfg->dir[0])
		return keys_fail(err, VEIL_E_INVALID, "the key store folder is not set");
	if (!cfg->provider || (strcmp(cfg->provider, "file") != 0 && strcmp(cfg->provider, "pkcs11") != 0)) {
		veil_err_set(err, VEIL_E_INVALID, "unknown root key provider '%s'",
		             cfg->provider ? cfg->provider : "");
		veil_err_hint(err, "use \"file\" (a sealed key file) or \"pkcs11\" (an HSM)");
		return VEIL_E_INVALID;
	}
	if (strlen(cfg->dir) > KEYS_PATH_MAX - 64)
		return keys_fail(err, VEIL_E_LIMIT, "the key store folder path is too long");
	return VEIL_OK;
}

static bool is_file(const veil_kms_config *cfg)
{
	return strcmp(cfg->provider, "file") == 0;
}

/* The root-check row: 32 zero bytes wrapped by the root. Unwrapping it at
 * open proves the root unlocked is the one this keys.db was made with. */
static veil_status root_check_make(keys_root *root, uint8_t out[KEYS_WRAPPED_KEY_LEN], veil_err *err)
{
	uint8_t aad[KEYS_AAD_MAX], zero[KEYS_KEY_LEN] = {0};
	size_t aad_len;
	veil_status st = keys_aad_root_check(aad, &aad_len, err);
	return st ? st : root->wrap(root, aad, aad_len, zero, sizeof zero, out, err);
}

static veil_status write_meta(sqlite3 *db, keys_root *root, veil_err *err)
{
	uint8_t check[KEYS_WRAPPED_KEY_LEN];
	sqlite3_stmt *st = NULL;
	veil_status s = root_check_make(root, check, err);
	if (s || (s = keys_db_begin(db, err)))
		return s;
	s = keys_db_prepare(db,
	                    "INSERT INTO meta (name, value) VALUES ('provider', ?1), ('root_check', ?2), "
	                    "('created', ?3)",
	                    &st, err);
	if (!s) {
		sqlite3_bind_text(st, 1, root->name, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, check, sizeof check, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, veil_time_now());
		s = keys_db_done(db, st, err, "cannot write keys.db");
	}
	sqlite3_finalize(st);
	if (s) {
		keys_db_rollback(db);
		return s;
	}
	return keys_db_commit(db, err);
}

/* Builds keys.db under a temporary name, self-contained (rollback journal,
 * so no -wal beside it), then links it into place: a crash leaves either no
 * keys.db or a complete one, and link() never replaces a store that
 * appeared meanwhile. Open switches it to WAL. */
static veil_status db_build(sqlite3 *db, keys_root *root, veil_err *err)
{
	sqlite3_stmt *st;
	veil_status s = write_meta(db, root, err);
	if (s || (s = keys_db_prepare(db, "PRAGMA journal_mode=DELETE", &st, err)))
		return s;
	if (sqlite3_step(st) != SQLITE_ROW ||
	    sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "delete"))
		s = keys_db_err(db, err, "cannot finish the new keys.db");
	sqlite3_finalize(st);
	return s;
}

/* *placed: keys.db is in place (even if syncing the folder then failed), so
 * the root it refers to must be kept. */
static veil_status db_create(const char *dir, const char *final, keys_root *root, bool *placed, veil_err *err)
{
	*placed = false;
	char tmp[KEYS_PATH_MAX];
	veil_status s = veil_path_join(tmp, sizeof tmp, dir, ".keys.db.new-XXXXXX", err);
	if (s)
		return s;
	int fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600, which SQLite's side files copy */
	if (fd < 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot create a temporary file in %s", dir);
	close(fd);
	sqlite3 *db;
	s = keys_db_open(tmp, true, &db, err);
	if (!s) {
		s = db_build(db, root, err);
		keys_db_close(db);
	}
	if (!s && link(tmp, final) != 0) {
		s = veil_err_errno(err, VEIL_E_IO, errno, "cannot move the new key store into place as %s",
		                   final);
		if (s == VEIL_E_EXISTS)
			veil_err_hint(err, "another process created a key store there at the same time");
	}
	*placed = !s;
	keys_db_unlink(tmp);
	if (s)
		return s;
	return veil_fs_fsync_dir(dir, err);
}

veil_status veil_kms_create(const veil_kms_config *cfg, veil_err *err)
{
	char path[KEYS_PATH_MAX];
	keys_root *root = NULL;
	veil_status st = check_config(cfg, err);
	if (st || (st = veil_fs_mkdirs(cfg->dir, 0700, err)))
		return st;
	if ((st = veil_path_join(path, sizeof path, cfg->dir, KEYS_DB_FILE, err)))
		return st;
	if (veil_fs_exists(path)) {
		veil_err_set(err, VEIL_E_EXISTS, "a key store already exists in %s", cfg->dir);
		veil_err_hint(err, "open the existing workspace, or choose another folder");
		return VEIL_E_EXISTS;
	}
	st = is_file(cfg) ? keys_root_file_create(cfg, &root, err) : keys_root_pkcs11_create(cfg, &root, err);
	if (st)
		return st;
	bool placed = false;
	st = db_create(cfg->dir, path, root, &placed, err);
	if (st && !placed)
		root->abandon(root);
	root->close(root);
	return st;
}

static veil_status meta_get(sqlite3 *db, const char *name, veil_buf *out, veil_err *err)
{
	sqlite3_stmt *st;
	veil_status s = keys_db_prepare(db, "SELECT value FROM meta WHERE name = ?", &st, err);
	if (s)
		return s;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		s = veil_buf_append(out, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
		                    err);
	else if (rc == SQLITE_DONE)
		s = keys_fail(err, VEIL_E_CORRUPT, "keys.db is damaged: its '%s' record is missing", name);
	else
		s = keys_db_err(db, err, "cannot read keys.db");
	sqlite3_finalize(st);
	return s;
}

static veil_status check_provider(sqlite3 *db, const veil_kms_config *cfg, veil_err *err)
{
	veil_buf b = {0};
	veil_status s = meta_get(db, "provider", &b, err);
	if (!s && (!b.data || b.len != strlen(cfg->provider) || memcmp(b.data, cfg->provider, b.len) != 0)) {
		veil_err_set(err, VEIL_E_INVALID, "the key store in %s uses the %.*s root provider, not %s",
		             cfg->dir, (int)(b.len < 16 ? b.len : 16), b.data ? (const char *)b.data : "",
		             cfg->provider);
		veil_err_hint(err, "set the workspace's key provider to the one it was created with");
		s = VEIL_E_INVALID;
	}
	veil_buf_free(&b);
	return s;
}

static veil_status verify_root(veil_kms *kms, veil_err *err)
{
	uint8_t aad[KEYS_AAD_MAX], zero[KEYS_KEY_LEN] = {0}, got[KEYS_KEY_LEN];
	size_t aad_len;
	veil_buf b = {0};
	veil_status s = meta_get(kms->db, "root_check", &b, err);
	if (!s && b.len != KEYS_WRAPPED_KEY_LEN)
		s = keys_fail(err, VEIL_E_CORRUPT, "keys.db is damaged: its root check has the wrong size");
	if (!s)
		s = keys_aad_root_check(aad, &aad_len, err);
	if (!s) {
		s = kms->root->unwrap(kms->root, aad, aad_len, b.data, b.len, got, err);
		if (s == VEIL_E_AUTH || (!s && !veil_ct_equal(got, zero, sizeof got))) {
			veil_err_set(err, VEIL_E_KEY,
			             "the %s root key is not the one the key store in %s was made "
			             "with (or keys.db was modified)",
			             kms->root->name, kms->dir);
			veil_err_hint(err, kms->root->name[0] == 'f'
			                           ? "restore the root.sealed that belongs with this keys.db"
			                           : "check pkcs11_token and pkcs11_key_label");
			s = VEIL_E_KEY;
		}
	}
	veil_wipe(got, sizeof got);
	veil_buf_free(&b);
	return s;
}

veil_status veil_kms_open(const veil_kms_config *cfg, veil_kms **out, veil_err *err)
{
	char path[KEYS_PATH_MAX];
	*out = NULL;
	veil_status st = check_config(cfg, err);
	if (st || (st = veil_path_join(path, sizeof path, cfg->dir, KEYS_DB_FILE, err)))
		return st;
	veil_kms *kms = calloc(1, sizeof *kms);
	if (!kms)
		return keys_fail(err, VEIL_E_NOMEM, "out of memory");
	kms->cache = veil_secure_alloc(KEYS_CACHE_SLOTS * KEYS_KEY_LEN);
	if (!kms->cache)
		st = keys_fail(err, VEIL_E_NOMEM, "out of secure memory");
	if (!st)
		st = veil_fmt(kms->dir, sizeof kms->dir, err, "%s", cfg->dir);
	/* keys.db first: a missing or mismatched store fails before the
	 * slow passphrase KDF or the token login. */
	if (!st)
		st = keys_db_open(path, false, &kms->db, err);
	if (!st)
		st = check_provider(kms->db, cfg, err);
	if (!st)
		st = is_file(cfg) ? keys_root_file_open(cfg, &kms->root, err)
		                  : keys_root_pkcs11_open(cfg, &kms->root, err);
	if (!st)
		st = verify_root(kms, err);
	if (st) {
		veil_kms_close(kms);
		return st;
	}
	*out = kms;
	return VEIL_OK;
}

void veil_kms_close(veil_kms *kms)
{
	if (!kms)
		return;
	veil_secure_free(kms->cache, KEYS_CACHE_SLOTS * KEYS_KEY_LEN);
	if (kms->root)
		kms->root->close(kms->root);
	keys_db_close(kms->db);
	veil_wipe(kms, sizeof *kms);
	free(kms);
}

uint8_t *keys_cache_find(veil_kms *kms, const char *name, uint32_t version, const char *region)
{
	for (unsigned i = 0; i < KEYS_CACHE_SLOTS; i++)
		if (kms->slots[i].version == version && strcmp(kms->slots[i].name, name) == 0 &&
		    strcmp(kms->slots[i].region, region) == 0)
			return kms->cache + (size_t)i * KEYS_KEY_LEN;
	return NULL;
}

/* Takes the next slot round-robin, so a key just loaded survives the next
 * KEYS_CACHE_SLOTS - 1 loads. Returns where the caller writes the key. */
uint8_t *keys_cache_slot(veil_kms *kms, const char *name, uint32_t version, const char *region)
{
	unsigned i = kms->next;
	kms->next = (kms->next + 1) % KEYS_CACHE_SLOTS;
	uint8_t *key = kms->cache + (size_t)i * KEYS_KEY_LEN;
	veil_wipe(key, KEYS_KEY_LEN);
	kms->slots[i].version = version;
	snprintf(kms->slots[i].name, sizeof kms->slots[i].name, "%s", name);
	snprintf(kms->slots[i].region, sizeof kms->slots[i].region, "%s", region);
	return key;
}

/* Every slot of (name, version), whatever region it was unwrapped with: a
 * retired version must leave no copy behind. */
void keys_cache_drop(veil_kms *kms, const char *name, uint32_t version)
{
	for (unsigned i = 0; i < KEYS_CACHE_SLOTS; i++) {
		if (kms->slots[i].version != version || strcmp(kms->slots[i].name, name) != 0)
			continue;
		veil_wipe(kms->cache + (size_t)i * KEYS_KEY_LEN, KEYS_KEY_LEN);
		kms->slots[i].name[0] = '\0';
		kms->slots[i].region[0] = '\0';
		kms->slots[i].version = 0;
	}
}
