/*
 * veil key management (layer 2): the key hierarchy of DESIGN.md section 5.
 *
 *   root key     a 256-bit key sealed in root.sealed under a passphrase ("file"),
 *                or a non-extractable AES-256 key inside a token reached
 *                through PKCS#11 ("pkcs11"); it never leaves its home
 *     -> KEK     32 random bytes per owner, versioned, stored only wrapped by the root
 *       -> DEK   32 random bytes per object, stored only wrapped by one KEK version
 *
 * The store is the workspace's keys/ folder: keys.db (SQLite, WAL) and, for
 * the file provider, root.sealed. docs/formats/keys.md specifies both, and
 * the AAD every wrapped key is bound to.
 *
 * KEK versions move one way (keys.db column keks.state):
 *
 *   kek_create -> current --kek_rotate--> old --kek_retire--> retired
 *
 * New DEKs are wrapped under the current version; old versions still unwrap
 * their DEKs until kek_rewrap moves those to the current one; a retired
 * version has had its wrapped KEK deleted, so it can unwrap nothing.
 *
 * A veil_kms handle is for one thread at a time. Several processes may use
 * the same store at once: every change is one SQLite transaction, so a crash
 * at any instant leaves the store as it was before or after the change.
 * Every function fills `err` (may be NULL) on failure; none prints.
 */
#ifndef VEIL_KEYS_H
#define VEIL_KEYS_H

#include "veil/base.h"
#include "veil/crypto.h"

#define VEIL_KMS_NAME_MAX          64 /* KEK names and secret purposes: veil_name_check */
#define VEIL_KMS_DEK_LEN           32 /* DEK bytes (an AES-256 key, the object container's DEK) */
#define VEIL_DEK_ID_MAX            48 /* "dek-" + 32 hex digits + NUL fits; printable ASCII */
#define VEIL_KMS_PASSPHRASE_MIN    8
#define VEIL_KMS_PASSPHRASE_MAX    1024
#define VEIL_KMS_KDF_LOG_N_DEFAULT 17 /* scrypt N = 2^17, r = 8: 128 MiB */
#define VEIL_KMS_KDF_LOG_N_MIN     10
#define VEIL_KMS_KDF_LOG_N_MAX     20   /* 1 GiB: also the most an opened root.sealed may ask for */
#define VEIL_KMS_SECRET_MAX        1024 /* largest secret for veil_kms_secret_put */
#define VEIL_KMS_PKCS11_LABEL_MAX  32   /* token labels are 32 bytes in PKCS#11 */

typedef struct veil_kms veil_kms;

typedef struct veil_kms_config {
	const char *dir;              /* the workspace's keys/ folder */
	const char *provider;         /* "file" or "pkcs11" */
	const char *passphrase;       /* file provider; from a prompt, VEIL_PASSPHRASE or a file */
	size_t passphrase_len;        /* at most VEIL_KMS_PASSPHRASE_MAX; at least _MIN to create */
	const char *pkcs11_module;    /* e.g. /usr/lib/softhsm/libsofthsm2.so */
	const char *pkcs11_token;     /* token label */
	const char *pkcs11_key_label; /* label of the AES root key inside the token */
	const char *pkcs11_pin;       /* user PIN */
	unsigned kdf_log_n;           /* file provider, at creation only: scrypt cost, 0 = default 17 */
} veil_kms_config;

/* Creates the key store in cfg->dir (made 0700 if missing): keys.db (0600)
 * and, for "file", root.sealed (0600, created exclusively) holding a fresh
 * root key from the CSPRNG sealed under the passphrase with scrypt and
 * AES-256-GCM. For "pkcs11" it generates, in the token, an AES-256 key with
 * the given label that is CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, not
 * CKA_EXTRACTABLE and only CKA_ENCRYPT/CKA_DECRYPT, unless a key with that
 * label exists already (then that key becomes the root). VEIL_E_EXISTS when
 * the folder already holds a store. On failure nothing it made remains. */
veil_status veil_kms_create(const veil_kms_config *cfg, veil_err *err) VEIL_MUST_CHECK;

/* Opens the store and unlocks the root. VEIL_E_NOTFOUND: no store in
 * cfg->dir. VEIL_E_AUTH: wrong passphrase or PIN; a passphrase shorter than
 * VEIL_KMS_PASSPHRASE_MIN is simply a wrong one here (the minimum is a rule
 * for choosing one, at create). VEIL_E_CORRUPT: root.sealed
 * or keys.db is damaged or modified. VEIL_E_KEY: the root unlocked is not
 * the one this keys.db was made with. On success the caller owns *out and
 * closes it with veil_kms_close; on failure *out is NULL. */
veil_status veil_kms_open(const veil_kms_config *cfg, veil_kms **out, veil_err *err) VEIL_MUST_CHECK;
/* Wipes every secret it held (root key, cached KEKs), logs out of the token
 * and closes keys.db. NULL is fine. */
void veil_kms_close(veil_kms *kms);

typedef struct veil_kek_info {
	char name[VEIL_KMS_NAME_MAX + 1];
	char region[VEIL_KMS_NAME_MAX + 1]; /* where its DEKs may be released; "" = anywhere */
	uint32_t current_version;           /* the version new DEKs are wrapped under */
	uint32_t versions;                  /* how many versions were made, retired ones included */
	uint32_t retired;                   /* of those, how many are retired */
	int64_t created;                    /* time of version 1 (seconds since the epoch) */
	int64_t rotated;                    /* time the current version was made */
	uint64_t deks;                      /* live DEKs wrapped under this KEK (any version) */
	uint64_t deks_on_old;               /* of those, wrapped under a version older than current */
} veil_kek_info;

/* Makes version 1 of a new KEK. VEIL_E_EXISTS if the name is taken.
 * region: NULL or "" = the KEK has no region (its DEKs are released to a
 * request from anywhere); otherwise a name (veil_name_check) and the only
 * region veil_kms_dek_new/dek_get release its DEKs to. The region belongs to
 * the KEK name, not to a version: rotation keeps it, and it never changes. */
veil_status veil_kms_kek_create(veil_kms *kms, const char *name, const char *region,
                                veil_err *err) VEIL_MUST_CHECK;
/* Adds a version and makes it current; the previous one becomes old
 * (decrypt-only). new_version may be NULL. */
veil_status veil_kms_kek_rotate(veil_kms *kms, const char *name, uint32_t *new_version,
                                veil_err *err) VEIL_MUST_CHECK;
/* Re-wraps every live DEK that is under an older version of the KEK with
 * its current version, in one transaction, without touching any object (the
 * DEK bytes stay the same). *count (may be NULL) = how many were moved. */
veil_status veil_kms_kek_rewrap(veil_kms *kms, const char *name, uint64_t *count,
                                veil_err *err) VEIL_MUST_CHECK;
/* Retires an old version: refused (VEIL_E_INVALID) for the current version
 * and while a live DEK is still wrapped under it. Its wrapped KEK is then
 * deleted, so anything still referring to it fails with VEIL_E_KEY.
 * Retiring a retired version again succeeds. */
veil_status veil_kms_kek_retire(veil_kms *kms, const char *name, uint32_t version,
                                veil_err *err) VEIL_MUST_CHECK;
veil_status veil_kms_kek_get(veil_kms *kms, const char *name, veil_kek_info *out,
                             veil_err *err) VEIL_MUST_CHECK;
/* Every KEK, by name. The caller frees *out with free(); on failure *out is
 * NULL and *n is 0. */
veil_status veil_kms_kek_list(veil_kms *kms, veil_kek_info **out, size_t *n, veil_err *err) VEIL_MUST_CHECK;

typedef struct veil_dek_info {
	char id[VEIL_DEK_ID_MAX];
	char kek_name[VEIL_KMS_NAME_MAX + 1];
	uint32_t kek_version; /* the KEK version it is wrapped under (or was, if destroyed) */
	int64_t created;
	bool destroyed;
	int64_t destroyed_at; /* 0 while live */
} veil_dek_info;

_Static_assert(VEIL_DEK_ID_MAX - 1 <= VEIL_OBJ_KEY_ID_MAX, "a DEK id must fit the object header's key id");
_Static_assert(VEIL_KMS_DEK_LEN == VEIL_OBJ_DEK_LEN, "a DEK is the object container's key");

/* Both release a plaintext DEK to a request made in `request_region`: NULL
 * or "" = the request has no region, otherwise a name (veil_name_check;
 * VEIL_E_INVALID if not). If the KEK has a region and request_region is not
 * exactly that string, they fail with VEIL_E_DENIED before unwrapping
 * anything (and dek_new before making a DEK); a KEK without a region
 * releases to any request. docs/formats/keys.md: "Regions and key release".
 * The KMS cannot tell where a request comes from: it trusts request_region. */

/* Makes a fresh DEK for an object owned by `kek_name`, stores it wrapped
 * under the KEK's current version (the AAD binds DEK id, KEK name and
 * version) and returns its id and the plaintext DEK. `dek` should be
 * veil_secure_alloc memory; the caller wipes it. On failure dek is wiped. */
veil_status veil_kms_dek_new(veil_kms *kms, const char *kek_name, const char *request_region,
                             char id[static VEIL_DEK_ID_MAX], uint8_t dek[static VEIL_KMS_DEK_LEN],
                             veil_err *err) VEIL_MUST_CHECK;
/* Unwraps a DEK. VEIL_E_NOTFOUND: unknown id. VEIL_E_DENIED: its KEK's
 * region is not request_region. VEIL_E_KEY: destroyed, or its KEK version
 * retired. VEIL_E_CORRUPT: the wrapped DEK (or the wrapped KEK above it)
 * fails authentication. On failure dek is wiped. */
veil_status veil_kms_dek_get(veil_kms *kms, const char *id, const char *request_region,
                             uint8_t dek[static VEIL_KMS_DEK_LEN], veil_err *err) VEIL_MUST_CHECK;
/* Called by veil_kms_dek_list for each DEK; a non-OK return stops the list. */
typedef veil_status (*veil_kms_dek_fn)(void *ctx, const veil_dek_info *d, veil_err *err);
/* Calls fn for every live (not destroyed) DEK, in id order (strcmp order),
 * without unwrapping any; e.g. for veil gc to find DEKs that no catalog
 * version refers to. A non-OK return from fn stops the list and is
 * returned as it is. DEKs are read in batches and no statement is open
 * while fn runs, so fn may use kms, for instance to destroy the DEK it was
 * given; a DEK made or destroyed by anyone while the list runs may or may
 * not be reported. *d is valid only during the call. */
veil_status veil_kms_dek_list(veil_kms *kms, veil_kms_dek_fn fn, void *ctx, veil_err *err) VEIL_MUST_CHECK;
/* Describes a DEK without unwrapping it. VEIL_E_NOTFOUND: unknown id. */
veil_status veil_kms_dek_info(veil_kms *kms, const char *id, veil_dek_info *out,
                              veil_err *err) VEIL_MUST_CHECK;
/* Crypto-shredding: deletes the wrapped DEK for good; its row keeps a
 * tombstone with the time. Destroying a destroyed DEK succeeds (so a caller
 * that crashed half-way can run again). docs/formats/keys.md says what it
 * does not cover: copies of keys.db taken before (backups, snapshots). */
veil_status veil_kms_dek_destroy(veil_kms *kms, const char *id, veil_err *err) VEIL_MUST_CHECK;

/* Writes a consistent copy of keys.db to dest_path (one snapshot, taken
 * with SQLite's online backup from this handle's own connection, so other
 * processes may keep writing meanwhile). The copy is built in a temporary
 * file in dest_path's folder, created exclusively with mode 0600, synced,
 * and linked into place only when complete: dest_path never exists half
 * written, and is never replaced (VEIL_E_EXISTS if it exists; the folder
 * must exist). VEIL_E_BUSY if keys.db stays locked for about 10 s. The copy
 * holds only wrapped keys; it opens, as keys.db beside a copy of the same
 * root.sealed (or with the same token key), like the original did at the
 * moment of the copy. docs/formats/keys.md: "Backups", and "Crypto-shredding"
 * for what a copy means for DEKs destroyed after it. */
veil_status veil_kms_backup(veil_kms *kms, const char *dest_path, veil_err *err) VEIL_MUST_CHECK;

/* Small secrets protected directly by the root (e.g. the audit log's
 * Ed25519 signing seed), stored wrapped in keys.db under a purpose name
 * (veil_name_check). len: 1..VEIL_KMS_SECRET_MAX. put never replaces a
 * secret: VEIL_E_EXISTS if the purpose has one. get needs the exact length
 * (VEIL_E_INVALID otherwise); VEIL_E_NOTFOUND if none; on failure the
 * output is wiped. */
veil_status veil_kms_secret_put(veil_kms *kms, const char *purpose, const uint8_t *secret, size_t len,
                                veil_err *err) VEIL_MUST_CHECK;
veil_status veil_kms_secret_get(veil_kms *kms, const char *purpose, uint8_t *secret, size_t len,
                                veil_err *err) VEIL_MUST_CHECK;

#endif
