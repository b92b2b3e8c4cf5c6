/*
 * Small secrets protected directly by the root key (the audit log's Ed25519
 * signing seed, for one), stored wrapped in keys.db under a purpose name.
 * A purpose is written once: replacing a signing seed by accident would
 * orphan everything signed with it, so put refuses an existing purpose.
 */
#include "keys_int.h"

#include <stdlib.h>

static veil_status check(const char *purpose, size_t len, veil_err *err)
{
	veil_status s = veil_name_check(purpose, "secret purpose", err);
	if (s)
		return s;
	if (len == 0 || len > VEIL_KMS_SECRET_MAX)
		return keys_fail(err, VEIL_E_INVALID, "a secret must be 1..%d bytes", VEIL_KMS_SECRET_MAX);
	return VEIL_OK;
}

static veil_status put(veil_kms *kms, const char *purpose, const uint8_t *wrapped, size_t wlen, veil_err *err)
{
	sqlite3_stmt *st;
	veil_status s = keys_db_prepare(kms->db, "SELECT 1 FROM secrets WHERE purpose = ?", &st, err);
	if (s)
		return s;
	sqlite3_bind_text(st, 1, purpose, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return keys_fail(err, VEIL_E_EXISTS, "a secret for '%s' is stored already", purpose);
	if (rc != SQLITE_DONE)
		return keys_db_err(kms->db, err, "cannot read keys.db");
	if ((s = keys_db_prepare(kms->db, "INSERT INTO secrets (purpose, wrapped, created) VALUES (?, ?, ?)",
	                         &st, err)))
		return s;
	sqlite3_bind_text(st, 1, purpose, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, wrapped, (int)wlen, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, veil_time_now());
	s = keys_db_done(kms->db, st, err, "cannot store the secret");
	sqlite3_finalize(st);
	return s;
}

veil_status veil_kms_secret_put(veil_kms *kms, const char *purpose, const uint8_t *secret, size_t len,
                                veil_err *err)
{
	uint8_t aad[KEYS_AAD_MAX];
	size_t aad_len;
	veil_status s = check(purpose, len, err);
	if (s || (s = keys_aad_secret(purpose, aad, &aad_len, err)))
		return s;
	size_t wlen = len + VEIL_WRAP_OVERHEAD;
	uint8_t *wrapped = malloc(wlen); /* ciphertext only: not secret */
	if (!wrapped)
		return keys_fail(err, VEIL_E_NOMEM, "out of memory");
	s = kms->root->wrap(kms->root, aad, aad_len, secret, len, wrapped, err);
	if (!s && !(s = keys_db_begin(kms->db, err))) {
		s = put(kms, purpose, wrapped, wlen, err);
		if (s)
			keys_db_rollback(kms->db);
		else
			s = keys_db_commit(kms->db, err);
	}
	free(wrapped);
	return s;
}

static veil_status get(veil_kms *kms, const char *purpose, sqlite3_stmt *st, uint8_t *secret, size_t len,
                       veil_err *err)
{
	uint8_t aad[KEYS_AAD_MAX];
	size_t aad_len;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		veil_err_set(err, VEIL_E_NOTFOUND, "no secret is stored for '%s'", purpose);
		return VEIL_E_NOTFOUND;
	}
	if (rc != SQLITE_ROW)
		return keys_db_err(kms->db, err, "cannot read keys.db");
	size_t wlen = (size_t)sqlite3_column_bytes(st, 0);
	if (wlen != len + VEIL_WRAP_OVERHEAD)
		return keys_fail(err, VEIL_E_INVALID, "the secret for '%s' is not %zu bytes long", purpose,
		                 len);
	veil_status s = keys_aad_secret(purpose, aad, &aad_len, err);
	if (s)
		return s;
	s = kms->root->unwrap(kms->root, aad, aad_len, sqlite3_column_blob(st, 0), wlen, secret, err);
	if (s == VEIL_E_AUTH) {
		veil_err_set(err, VEIL_E_CORRUPT,
		             "the wrapped secret for '%s' fails authentication: keys.db was "
		             "modified or damaged",
		             purpose);
		veil_err_hint(err, "restore the workspace's keys/ folder from a backup");
		return VEIL_E_CORRUPT;
	}
	return s;
}

veil_status veil_kms_secret_get(veil_kms *kms, const char *purpose, uint8_t *secret, size_t len,
                                veil_err *err)
{
	sqlite3_stmt *st;
	veil_status s = check(purpose, len, err);
	if (s)
		return s;
	veil_wipe(secret, len);
	if ((s = keys_db_prepare(kms->db, "SELECT wrapped FROM secrets WHERE purpose = ?", &st, err)))
		return s;
	sqlite3_bind_text(st, 1, purpose, -1, SQLITE_STATIC);
	s = get(kms, purpose, st, secret, len, err);
	sqlite3_finalize(st);
	if (s)
		veil_wipe(secret, len);
	return s;
}
