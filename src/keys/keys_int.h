/*
 * Inside the KMS: the root provider interface, keys.db helpers, the AADs
 * that bind each wrapped key to its place, and the veil_kms struct. Only
 * the files of src/keys include this.
 */
#ifndef VEIL_KEYS_INT_H
#define VEIL_KEYS_INT_H

#include <sqlite3.h>

#include "veil/keys.h"

#define KEYS_DB_FILE         "keys.db"
#define KEYS_ROOT_FILE       "root.sealed"
#define KEYS_KEY_LEN         32
#define KEYS_WRAPPED_KEY_LEN (KEYS_KEY_LEN + VEIL_WRAP_OVERHEAD)
#define KEYS_PATH_MAX        4096
#define KEYS_AAD_MAX         160
#define KEYS_CACHE_SLOTS     64 /* unwrapped KEK versions kept while open */

/*
 * A root provider wraps and unwraps KEKs and small secrets. Both providers
 * produce the same form: nonce(12) || AES-256-GCM ciphertext || tag(16),
 * with the AAD the caller gives. unwrap returns VEIL_E_AUTH when the tag
 * fails and wipes `out`.
 */
/* veil_err_set whose value is visibly `code`: the static analyser cannot
 * see into veil_err_set, and would otherwise follow error paths as if they
 * returned VEIL_OK. */
#define keys_fail(err, code, ...) (veil_err_set((err), (code), __VA_ARGS__), (code))

typedef struct keys_root keys_root;
struct keys_root {
	const char *name; /* "file" or "pkcs11", as keys.db records it */
	veil_status (*wrap)(keys_root *r, const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
	                    uint8_t *out, veil_err *err);
	veil_status (*unwrap)(keys_root *r, const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
	                      uint8_t *out, veil_err *err);
	/* Undoes what create made (the sealed file, a generated token key);
	 * only called when creating the store failed before it was in place. */
	void (*abandon)(keys_root *r);
	void (*close)(keys_root *r); /* wipes and frees */
};

/* root_file.c: root.sealed. */
veil_status keys_root_file_create(const veil_kms_config *cfg, keys_root **out, veil_err *err) VEIL_MUST_CHECK;
veil_status keys_root_file_open(const veil_kms_config *cfg, keys_root **out, veil_err *err) VEIL_MUST_CHECK;

/* root_pkcs11.c: the AES root key in a PKCS#11 token. */
veil_status keys_root_pkcs11_create(const veil_kms_config *cfg, keys_root **out,
                                    veil_err *err) VEIL_MUST_CHECK;
veil_status keys_root_pkcs11_open(const veil_kms_config *cfg, keys_root **out, veil_err *err) VEIL_MUST_CHECK;

/* db.c: keys.db. */
veil_status keys_db_open(const char *path, bool create, sqlite3 **out, veil_err *err) VEIL_MUST_CHECK;
void keys_db_close(sqlite3 *db);
/* Removes a database file that is not in use and its side files (-wal,
 * -shm, -journal), ignoring any that are missing. */
void keys_db_unlink(const char *path);
/* Restores the busy timeout (a few seconds) after a caller lowered it. */
void keys_db_busy_default(sqlite3 *db);
/* Maps the connection's last error to a status (busy, full, corrupt, db). */
veil_status keys_db_err(sqlite3 *db, veil_err *err, const char *what);
veil_status keys_db_exec(sqlite3 *db, const char *sql, veil_err *err) VEIL_MUST_CHECK;
veil_status keys_db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, veil_err *err) VEIL_MUST_CHECK;
/* BEGIN IMMEDIATE: takes the write lock now, so a transaction never fails
 * half-way for a lock another process holds (it waits up to the busy timeout). */
veil_status keys_db_begin(sqlite3 *db, veil_err *err) VEIL_MUST_CHECK;
/* BEGIN (deferred): for reads that must see one snapshot; end it with
 * keys_db_rollback. */
veil_status keys_db_begin_read(sqlite3 *db, veil_err *err) VEIL_MUST_CHECK;
veil_status keys_db_commit(sqlite3 *db, veil_err *err) VEIL_MUST_CHECK;
void keys_db_rollback(sqlite3 *db);
/* Steps a statement expected to finish with SQLITE_DONE. */
veil_status keys_db_done(sqlite3 *db, sqlite3_stmt *st, veil_err *err, const char *what) VEIL_MUST_CHECK;

/* aad.c: the additional data each wrapped key is bound to (docs/formats/keys.md). */
/* region: "" (or NULL) for a KEK without one. */
veil_status keys_aad_kek(const char *name, uint32_t version, const char *region, uint8_t out[KEYS_AAD_MAX],
                         size_t *len, veil_err *err) VEIL_MUST_CHECK;
veil_status keys_aad_dek(const char *id, const char *kek_name, uint32_t version, uint8_t out[KEYS_AAD_MAX],
                         size_t *len, veil_err *err) VEIL_MUST_CHECK;
veil_status keys_aad_secret(const char *purpose, uint8_t out[KEYS_AAD_MAX], size_t *len,
                            veil_err *err) VEIL_MUST_CHECK;
veil_status keys_aad_root_check(uint8_t out[KEYS_AAD_MAX], size_t *len, veil_err *err) VEIL_MUST_CHECK;

typedef struct keys_cache_slot {
	char name[VEIL_KMS_NAME_MAX + 1]; /* "" when the slot is empty */
	uint32_t version;
	char region[VEIL_KMS_NAME_MAX + 1]; /* the region the KEK was unwrapped (authenticated) with */
} keys_cache_entry;

struct veil_kms {
	sqlite3 *db;
	keys_root *root;
	char dir[KEYS_PATH_MAX];
	keys_cache_entry slots[KEYS_CACHE_SLOTS];
	uint8_t *cache; /* KEYS_CACHE_SLOTS * KEYS_KEY_LEN bytes of secure memory */
	unsigned next;  /* round-robin slot to fill next */
};

/* kek.c: the unwrapped KEK for (name, version), from the cache or keys.db,
 * authenticated with the region keys.db holds for it now (see
 * keys_aad_kek). VEIL_E_KEY if the version is retired or missing. The
 * pointer stays valid until KEYS_CACHE_SLOTS - 1 further loads or the
 * version is retired. */
veil_status keys_kek_load(veil_kms *kms, const char *name, uint32_t version, const uint8_t **key,
                          veil_err *err) VEIL_MUST_CHECK;
/* The current version of a KEK; VEIL_E_NOTFOUND if there is no such KEK. */
veil_status keys_kek_current(veil_kms *kms, const char *name, uint32_t *version,
                             veil_err *err) VEIL_MUST_CHECK;
/* The region of a KEK as keys.db records it ("" = none; no check that the
 * KEK exists). VEIL_E_CORRUPT for a malformed row. */
veil_status keys_kek_region(veil_kms *kms, const char *name, char region[VEIL_KMS_NAME_MAX + 1],
                            veil_err *err) VEIL_MUST_CHECK;
/* kms.c: the KEK cache. find: the key cached for (name, version) after an
 * unwrap with `region`, or NULL. slot: claims a slot for (name, version,
 * region) and returns where to write the key; a caller whose unwrap then
 * fails calls drop. drop: wipes and frees every slot of (name, version). */
uint8_t *keys_cache_find(veil_kms *kms, const char *name, uint32_t version, const char *region);
uint8_t *keys_cache_slot(veil_kms *kms, const char *name, uint32_t version, const char *region);
void keys_cache_drop(veil_kms *kms, const char *name, uint32_t version);

#endif
