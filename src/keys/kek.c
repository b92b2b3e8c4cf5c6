/*
 * KEKs: one per owner, versioned (current -> old -> retired, see keys.h),
 * each with an optional region that belongs to the name and is bound into
 * every version's wrapping AAD. Creating and rotating versions, re-wrapping
 * the DEKs of old versions, retiring versions, describing KEKs, and loading
 * an unwrapped version for dek.c. Each change is one BEGIN IMMEDIATE
 * transaction.
 */
#include "keys_int.h"

#include <stdlib.h>
#include <string.h>

#define REWRAP_BATCH 128

static veil_status check_name(const char *name, veil_err *err)
{
	return veil_name_check(name, "KEK name", err);
}

static veil_status no_kek(veil_err *err, const char *name)
{
	veil_err_set(err, VEIL_E_NOTFOUND, "no KEK named '%s'", name);
	veil_err_hint(err, "check the owner's name ('veil key list' shows every key)");
	return VEIL_E_NOTFOUND;
}

static veil_status step_row(sqlite3 *db, sqlite3_stmt *st, bool *row, veil_err *err)
{
	int rc = sqlite3_step(st);
	*row = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return VEIL_OK;
	return keys_db_err(db, err, "cannot read keys.db");
}

veil_status keys_kek_current(veil_kms *kms, const char *name, uint32_t *version, veil_err *err)
{
	sqlite3_stmt *st;
	bool row = false;
	veil_status s = keys_db_prepare(
	        kms->db, "SELECT version FROM keks WHERE name = ? AND state = 'current'", &st, err);
	if (s)
		return s;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	s = step_row(kms->db, st, &row, err);
	if (!s && row)
		*version = (uint32_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (!s && !row)
		s = no_kek(err, name);
	return s;
}

/* Copies a region column (NULL = none) into region, which must hold
 * VEIL_KMS_NAME_MAX + 1 bytes. */
static veil_status column_region(sqlite3_stmt *st, int col, const char *name, char *region, veil_err *err)
{
	region[0] = '\0';
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return VEIL_OK;
	size_t len = (size_t)sqlite3_column_bytes(st, col);
	const unsigned char *text = sqlite3_column_text(st, col);
	if (!text || len == 0 || len > VEIL_KMS_NAME_MAX)
		return keys_fail(err, VEIL_E_CORRUPT,
		                 "keys.db is damaged: the region of KEK '%s' is malformed", name);
	memcpy(region, text, len);
	region[len] = '\0';
	return VEIL_OK;
}

veil_status keys_kek_region(veil_kms *kms, const char *name, char region[VEIL_KMS_NAME_MAX + 1],
                            veil_err *err)
{
	sqlite3_stmt *st;
	bool row = false;
	region[0] = '\0';
	veil_status s = keys_db_prepare(kms->db, "SELECT region FROM kek_regions WHERE name = ?", &st, err);
	if (s)
		return s;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	s = step_row(kms->db, st, &row, err);
	if (!s && row)
		s = column_region(st, 0, name, region, err);
	sqlite3_finalize(st);
	return s;
}

/* A fresh KEK from the CSPRNG, wrapped by the root (the AAD binds name,
 * version and region), inserted as the current version. It is not cached:
 * the transaction may still roll back. */
static veil_status insert_version(veil_kms *kms, const char *name, uint32_t version, const char *region,
                                  veil_err *err)
{
	uint8_t aad[KEYS_AAD_MAX], wrapped[KEYS_WRAPPED_KEY_LEN];
	size_t aad_len;
	sqlite3_stmt *st = NULL;
	uint8_t *key = veil_secure_alloc(KEYS_KEY_LEN);
	veil_status s = key ? VEIL_OK : keys_fail(err, VEIL_E_NOMEM, "out of secure memory");
	if (!s)
		s = veil_random(key, KEYS_KEY_LEN, err);
	if (!s)
		s = keys_aad_kek(name, version, region, aad, &aad_len, err);
	if (!s)
		s = kms->root->wrap(kms->root, aad, aad_len, key, KEYS_KEY_LEN, wrapped, err);
	veil_secure_free(key, KEYS_KEY_LEN);
	if (!s)
		s = keys_db_prepare(kms->db,
		                    "INSERT INTO keks (name, version, wrapped, created, state) "
		                    "VALUES (?, ?, ?, ?, 'current')",
		                    &st, err);
	if (!s) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, version);
		sqlite3_bind_blob(st, 3, wrapped, sizeof wrapped, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, veil_time_now());
		s = keys_db_done(kms->db, st, err, "cannot store the new KEK");
	}
	sqlite3_finalize(st);
	return s;
}

static veil_status kek_exists(veil_kms *kms, const char *name, bool *exists, veil_err *err)
{
	sqlite3_stmt *st;
	veil_status s = keys_db_prepare(kms->db, "SELECT 1 FROM keks WHERE name = ? LIMIT 1", &st, err);
	if (s)
		return s;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	s = step_row(kms->db, st, exists, err);
	sqlite3_finalize(st);
	return s;
}

static veil_status insert_region(veil_kms *kms, const char *name, const char *region, veil_err *err)
{
	sqlite3_stmt *st;
	veil_status s =
	        keys_db_prepare(kms->db, "INSERT INTO kek_regions (name, region) VALUES (?, ?)", &st, err);
	if (s)
		return s;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
	s = keys_db_done(kms->db, st, err, "cannot store the KEK's region");
	sqlite3_finalize(st);
	return s;
}

veil_status veil_kms_kek_create(veil_kms *kms, const char *name, const char *region, veil_err *err)
{
	bool exists = false;
	bool regional = region && region[0];
	veil_status s = check_name(name, err);
	if (!s && regional)
		s = veil_name_check(region, "region", err);
	if (s || (s = keys_db_begin(kms->db, err)))
		return s;
	s = kek_exists(kms, name, &exists, err);
	if (!s && exists)
		s = keys_fail(err, VEIL_E_EXISTS, "a KEK named '%s' exists already", name);
	/* A region row left by a KEK that no longer exists (only possible by
	 * editing keys.db) makes the insert fail: the store is then refused
	 * as inconsistent rather than given a KEK with someone else's region. */
	if (!s && regional)
		s = insert_region(kms, name, region, err);
	if (!s)
		s = insert_version(kms, name, 1, regional ? region : "", err);
	if (s) {
		keys_db_rollback(kms->db);
		return s;
	}
	return keys_db_commit(kms->db, err);
}

static veil_status rotate(veil_kms *kms, const char *name, uint32_t *out, veil_err *err)
{
	sqlite3_stmt *st;
	bool row = false;
	uint32_t cur = 0;
	char region[VEIL_KMS_NAME_MAX + 1];
	veil_status s = keys_kek_current(kms, name, &cur, err);
	if (!s)
		s = keys_kek_region(kms, name, region, err);
	if (s || (s = keys_db_prepare(kms->db, "SELECT max(version) FROM keks WHERE name = ?", &st, err)))
		return s;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	s = step_row(kms->db, st, &row, err);
	int64_t max = row ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (s)
		return s;
	if (max >= UINT32_MAX)
		return keys_fail(err, VEIL_E_LIMIT, "KEK '%s' has used every version number", name);
	if ((s = keys_db_prepare(kms->db,
	                         "UPDATE keks SET state = 'old' WHERE name = ? AND state = 'current'", &st,
	                         err)))
		return s;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	s = keys_db_done(kms->db, st, err, "cannot rotate the KEK");
	sqlite3_finalize(st);
	*out = (uint32_t)max + 1;
	return s ? s : insert_version(kms, name, *out, region, err);
}

veil_status veil_kms_kek_rotate(veil_kms *kms, const char *name, uint32_t *new_version, veil_err *err)
{
	uint32_t v = 0;
	veil_status s = check_name(name, err);
	if (s || (s = keys_db_begin(kms->db, err)))
		return s;
	if ((s = rotate(kms, name, &v, err))) {
		keys_db_rollback(kms->db);
		return s;
	}
	if ((s = keys_db_commit(kms->db, err)))
		return s;
	if (new_version)
		*new_version = v;
	return VEIL_OK;
}

/* Unwraps a KEK version's row into a fresh cache slot. */
static veil_status unwrap_into_cache(veil_kms *kms, const char *name, uint32_t version, const char *region,
                                     const uint8_t *wrapped, size_t len, const uint8_t **key, veil_err *err)
{
	uint8_t aad[KEYS_AAD_MAX];
	size_t aad_len;
	if (len != KEYS_WRAPPED_KEY_LEN)
		return keys_fail(err, VEIL_E_CORRUPT,
		                 "keys.db is damaged: the wrapped KEK '%s' version %u has "
		                 "the wrong size",
		                 name, version);
	veil_status s = keys_aad_kek(name, version, region, aad, &aad_len, err);
	if (s)
		return s;
	uint8_t *slot = keys_cache_slot(kms, name, version, region);
	s = kms->root->unwrap(kms->root, aad, aad_len, wrapped, len, slot, err);
	if (s) {
		keys_cache_drop(kms, name, version);
		if (s != VEIL_E_AUTH)
			return s;
		veil_err_set(err, VEIL_E_CORRUPT,
		             "the wrapped KEK '%s' version %u fails authentication: keys.db "
		             "was modified or damaged (its wrapped key or its region)",
		             name, version);
		veil_err_hint(err, "restore the workspace's keys/ folder from a backup");
		return VEIL_E_CORRUPT;
	}
	*key = slot;
	return VEIL_OK;
}

/* The row is read every time, even when the key is cached, so that a
 * version retired by another process is refused here too, and a region
 * changed behind the cache's back is not taken on trust: the cached key
 * only counts for the region it was authenticated with. */
veil_status keys_kek_load(veil_kms *kms, const char *name, uint32_t version, const uint8_t **key,
                          veil_err *err)
{
	sqlite3_stmt *st;
	bool row = false;
	char region[VEIL_KMS_NAME_MAX + 1] = "";
	*key = NULL;
	veil_status s = keys_db_prepare(kms->db,
	                                "SELECT k.wrapped, r.region FROM keks k LEFT JOIN kek_regions r "
	                                "ON r.name = k.name WHERE k.name = ? AND k.version = ? "
	                                "AND k.state != 'retired'",
	                                &st, err);
	if (s)
		return s;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, version);
	s = step_row(kms->db, st, &row, err);
	if (!s && !row) {
		keys_cache_drop(kms, name, version);
		veil_err_set(err, VEIL_E_KEY, "version %u of KEK '%s' is retired or does not exist", version,
		             name);
		veil_err_hint(err, "keys wrapped under a retired KEK version cannot be recovered");
		s = VEIL_E_KEY;
	}
	if (!s)
		s = column_region(st, 1, name, region, err);
	if (!s) {
		uint8_t *cached = keys_cache_find(kms, name, version, region);
		if (cached)
			*key = cached;
		else
			s = unwrap_into_cache(kms, name, version, region, sqlite3_column_blob(st, 0),
			                      (size_t)sqlite3_column_bytes(st, 0), key, err);
	}
	sqlite3_finalize(st);
	return s;
}

typedef struct rewrap_row {
	char id[VEIL_DEK_ID_MAX];
	uint32_t version;
	uint8_t wrapped[KEYS_WRAPPED_KEY_LEN];
} rewrap_row;

static veil_status rewrap_fetch(veil_kms *kms, const char *name, uint32_t cur, rewrap_row *rows, size_t *n,
                                veil_err *err)
{
	sqlite3_stmt *st;
	*n = 0;
	veil_status s = keys_db_prepare(kms->db,
	                                "SELECT id, kek_version, wrapped FROM deks WHERE kek_name = ? "
	                                "AND kek_version < ? AND destroyed IS NULL LIMIT ?",
	                                &st, err);
	if (s)
		return s;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, cur);
	sqlite3_bind_int(st, 3, REWRAP_BATCH);
	bool row = true;
	while (*n < REWRAP_BATCH && !(s = step_row(kms->db, st, &row, err)) && row) {
		rewrap_row *r = &rows[*n];
		size_t idlen = (size_t)sqlite3_column_bytes(st, 0);
		if (idlen >= sizeof r->id || (size_t)sqlite3_column_bytes(st, 2) != sizeof r->wrapped) {
			s = keys_fail(err, VEIL_E_CORRUPT,
			              "keys.db is damaged: a DEK of KEK '%s' has a "
			              "malformed row",
			              name);
			break;
		}
		memcpy(r->id, sqlite3_column_text(st, 0), idlen);
		r->id[idlen] = '\0';
		r->version = (uint32_t)sqlite3_column_int64(st, 1);
		memcpy(r->wrapped, sqlite3_column_blob(st, 2), sizeof r->wrapped);
		(*n)++;
	}
	sqlite3_finalize(st);
	return s;
}

static veil_status rewrap_one(veil_kms *kms, const char *name, uint32_t cur, const uint8_t *newkek,
                              const rewrap_row *r, uint8_t *dek, veil_err *err)
{
	uint8_t aad[KEYS_AAD_MAX], out[KEYS_WRAPPED_KEY_LEN];
	size_t aad_len;
	const uint8_t *oldkek;
	sqlite3_stmt *st = NULL;
	veil_status s = keys_kek_load(kms, name, r->version, &oldkek, err);
	if (!s)
		s = keys_aad_dek(r->id, name, r->version, aad, &aad_len, err);
	if (!s && veil_unwrap(oldkek, aad, aad_len, r->wrapped, sizeof r->wrapped, dek, NULL) != VEIL_OK) {
		veil_err_set(err, VEIL_E_CORRUPT,
		             "the wrapped DEK %s fails authentication: keys.db was modified "
		             "or damaged; nothing was re-wrapped",
		             r->id);
		s = VEIL_E_CORRUPT;
	}
	if (!s)
		s = keys_aad_dek(r->id, name, cur, aad, &aad_len, err);
	if (!s)
		s = veil_wrap(newkek, aad, aad_len, dek, KEYS_KEY_LEN, out, err);
	veil_wipe(dek, KEYS_KEY_LEN);
	if (!s)
		s = keys_db_prepare(kms->db, "UPDATE deks SET kek_version = ?, wrapped = ? WHERE id = ?", &st,
		                    err);
	if (!s) {
		sqlite3_bind_int64(st, 1, cur);
		sqlite3_bind_blob(st, 2, out, sizeof out, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, r->id, -1, SQLITE_STATIC);
		s = keys_db_done(kms->db, st, err, "cannot store a re-wrapped DEK");
	}
	sqlite3_finalize(st);
	return s;
}

/* Batches keep memory constant; each batch's rows leave the query's range
 * once updated, so the next batch picks up where it ended. */
static veil_status rewrap(veil_kms *kms, const char *name, uint8_t *newkek, uint8_t *dek, uint64_t *count,
                          veil_err *err)
{
	uint32_t cur;
	const uint8_t *k;
	veil_status s = keys_kek_current(kms, name, &cur, err);
	if (s || (s = keys_kek_load(kms, name, cur, &k, err)))
		return s;
	memcpy(newkek, k, KEYS_KEY_LEN); /* loading old versions may reuse its cache slot */
	rewrap_row *rows = calloc(REWRAP_BATCH, sizeof *rows);
	if (!rows)
		return keys_fail(err, VEIL_E_NOMEM, "out of memory");
	size_t n = 0;
	do {
		s = rewrap_fetch(kms, name, cur, rows, &n, err);
		for (size_t i = 0; i < n && !s; i++)
			if (!(s = rewrap_one(kms, name, cur, newkek, &rows[i], dek, err)))
				(*count)++;
	} while (!s && n > 0);
	free(rows);
	return s;
}

veil_status veil_kms_kek_rewrap(veil_kms *kms, const char *name, uint64_t *count, veil_err *err)
{
	uint64_t done = 0;
	veil_status s = check_name(name, err);
	if (s)
		return s;
	uint8_t *scratch = veil_secure_alloc(2 * KEYS_KEY_LEN); /* the current KEK, then one DEK at a time */
	if (!scratch)
		return keys_fail(err, VEIL_E_NOMEM, "out of secure memory");
	if (!(s = keys_db_begin(kms->db, err))) {
		s = rewrap(kms, name, scratch, scratch + KEYS_KEY_LEN, &done, err);
		if (s)
			keys_db_rollback(kms->db);
		else
			s = keys_db_commit(kms->db, err);
	}
	veil_secure_free(scratch, 2 * KEYS_KEY_LEN);
	if (!s && count)
		*count = done;
	return s;
}

static veil_status retire(veil_kms *kms, const char *name, uint32_t version, veil_err *err)
{
	sqlite3_stmt *st;
	bool row = false;
	char state[16] = "";
	veil_status s =
	        keys_db_prepare(kms->db,
	                        "SELECT state, (SELECT count(*) FROM deks WHERE kek_name = ?1 AND "
	                        "kek_version = ?2 AND destroyed IS NULL) FROM keks WHERE name = ?1 AND "
	                        "version = ?2",
	                        &st, err);
	if (s)
		return s;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, version);
	s = step_row(kms->db, st, &row, err);
	int64_t live = row ? sqlite3_column_int64(st, 1) : 0;
	if (row)
		snprintf(state, sizeof state, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (s)
		return s;
	if (!row) {
		bool exists = false;
		if ((s = kek_exists(kms, name, &exists, err)))
			return s;
		if (!exists)
			return no_kek(err, name);
		return keys_fail(err, VEIL_E_NOTFOUND, "KEK '%s' has no version %u", name, version);
	}
	if (strcmp(state, "retired") == 0)
		return VEIL_OK;
	if (strcmp(state, "current") == 0) {
		veil_err_set(err, VEIL_E_INVALID, "version %u is the current version of KEK '%s'", version,
		             name);
		veil_err_hint(err, "run 'veil key rotate %s --rewrap', then retire version %u", name,
		              version);
		return VEIL_E_INVALID;
	}
	if (live > 0) {
		veil_err_set(err, VEIL_E_INVALID,
		             "%lld DEK(s) are still wrapped under version %u of KEK '%s'", (long long)live,
		             version, name);
		veil_err_hint(err,
		              "move them to a newer version first with 'veil key rotate %s --rewrap', "
		              "then retire",
		              name);
		return VEIL_E_INVALID;
	}
	if ((s = keys_db_prepare(kms->db,
	                         "UPDATE keks SET wrapped = NULL, state = 'retired', retired = ? "
	                         "WHERE name = ? AND version = ?",
	                         &st, err)))
		return s;
	sqlite3_bind_int64(st, 1, veil_time_now());
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, version);
	s = keys_db_done(kms->db, st, err, "cannot retire the KEK version");
	sqlite3_finalize(st);
	return s;
}

veil_status veil_kms_kek_retire(veil_kms *kms, const char *name, uint32_t version, veil_err *err)
{
	veil_status s = check_name(name, err);
	if (s || (s = keys_db_begin(kms->db, err)))
		return s;
	if ((s = retire(kms, name, version, err))) {
		keys_db_rollback(kms->db);
		return s;
	}
	s = keys_db_commit(kms->db, err);
	keys_cache_drop(kms, name, version);
	return s;
}

/* One row per KEK: its current version and counts, in one statement so the
 * numbers come from one snapshot. */
#define INFO_SQL                                                                                             \
	"SELECT k.name, k.version, k.created,"                                                               \
	" (SELECT count(*) FROM keks v WHERE v.name = k.name),"                                              \
	" (SELECT count(*) FROM keks v WHERE v.name = k.name AND v.state = 'retired'),"                      \
	" (SELECT v.created FROM keks v WHERE v.name = k.name ORDER BY v.version LIMIT 1),"                  \
	" (SELECT count(*) FROM deks d WHERE d.kek_name = k.name AND d.destroyed IS NULL),"                  \
	" (SELECT count(*) FROM deks d WHERE d.kek_name = k.name AND d.destroyed IS NULL"                    \
	"   AND d.kek_version < k.version),"                                                                 \
	" (SELECT r.region FROM kek_regions r WHERE r.name = k.name)"                                        \
	" FROM keks k WHERE k.state = 'current'"

static veil_status fill_info(sqlite3_stmt *st, veil_kek_info *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	size_t len = (size_t)sqlite3_column_bytes(st, 0);
	if (len >= sizeof out->name)
		return keys_fail(err, VEIL_E_CORRUPT, "keys.db is damaged: a KEK name is too long");
	memcpy(out->name, sqlite3_column_text(st, 0), len);
	out->current_version = (uint32_t)sqlite3_column_int64(st, 1);
	out->rotated = sqlite3_column_int64(st, 2);
	out->versions = (uint32_t)sqlite3_column_int64(st, 3);
	out->retired = (uint32_t)sqlite3_column_int64(st, 4);
	out->created = sqlite3_column_int64(st, 5);
	out->deks = (uint64_t)sqlite3_column_int64(st, 6);
	out->deks_on_old = (uint64_t)sqlite3_column_int64(st, 7);
	return column_region(st, 8, out->name, out->region, err);
}

veil_status veil_kms_kek_get(veil_kms *kms, const char *name, veil_kek_info *out, veil_err *err)
{
	sqlite3_stmt *st;
	bool row = false;
	veil_status s = check_name(name, err);
	if (s || (s = keys_db_prepare(kms->db, INFO_SQL " AND k.name = ?", &st, err)))
		return s;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	s = step_row(kms->db, st, &row, err);
	if (!s && row)
		s = fill_info(st, out, err);
	sqlite3_finalize(st);
	if (!s && !row)
		s = no_kek(err, name);
	return s;
}

static veil_status grow(veil_kek_info **list, size_t *cap, veil_err *err)
{
	size_t ncap = *cap ? *cap * 2 : 16;
	if (ncap > SIZE_MAX / sizeof **list)
		return keys_fail(err, VEIL_E_NOMEM, "too many KEKs");
	veil_kek_info *p = realloc(*list, ncap * sizeof **list);
	if (!p)
		return keys_fail(err, VEIL_E_NOMEM, "out of memory");
	*list = p;
	*cap = ncap;
	return VEIL_OK;
}

veil_status veil_kms_kek_list(veil_kms *kms, veil_kek_info **out, size_t *n, veil_err *err)
{
	sqlite3_stmt *st;
	veil_kek_info *list = NULL;
	size_t len = 0, cap = 0;
	bool row = true;
	*out = NULL;
	*n = 0;
	veil_status s = keys_db_prepare(kms->db, INFO_SQL " ORDER BY k.name", &st, err);
	if (s)
		return s;
	while (!(s = step_row(kms->db, st, &row, err)) && row) {
		if (len == cap && (s = grow(&list, &cap, err)))
			break;
		if ((s = fill_info(st, &list[len], err)))
			break;
		len++;
	}
	sqlite3_finalize(st);
	if (s) {
		free(list);
		return s;
	}
	*out = list;
	*n = len;
	return VEIL_OK;
}
