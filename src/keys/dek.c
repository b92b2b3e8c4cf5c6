/*
 * DEKs: one per object, 32 random bytes, stored only wrapped (veil_wrap,
 * AES-256-GCM) by the current version of their owner's KEK, with an AAD that
 * binds the DEK id, KEK name and KEK version. Making, unwrapping,
 * describing, listing and crypto-shredding them, and the release rule:
 * a DEK of a KEK with a region goes only to a request from that region.
 */
#include "keys_int.h"

#include <stdlib.h>
#include <string.h>

#define LIST_BATCH 128 /* DEK rows read per statement by veil_kms_dek_list */

#define ID_PREFIX "dek-"
#define ID_RANDOM 16 /* bytes, so 32 hex digits */
_Static_assert(sizeof ID_PREFIX - 1 + 2 * ID_RANDOM < VEIL_DEK_ID_MAX,
               "a made DEK id must fit VEIL_DEK_ID_MAX");

static veil_status check_id(const char *id, veil_err *err)
{
	size_t n = id ? strnlen(id, VEIL_DEK_ID_MAX) : 0;
	bool ok = n > 0 && n < VEIL_DEK_ID_MAX;
	for (size_t i = 0; ok && i < n; i++) {
		char c = id[i];
		ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		     c == '_' || c == '.';
	}
	if (!ok)
		return keys_fail(err, VEIL_E_INVALID, "a DEK id is 1..%d characters of [A-Za-z0-9._-]",
		                 VEIL_DEK_ID_MAX - 1);
	return VEIL_OK;
}

static veil_status no_dek(veil_err *err, const char *id)
{
	veil_err_set(err, VEIL_E_NOTFOUND, "no DEK with id %s", id);
	veil_err_hint(err, "the object's header names its DEK id; check that it belongs to this workspace");
	return VEIL_E_NOTFOUND;
}

/* NULL or "" (a request from no region), or a region name. */
static veil_status check_request_region(const char *request_region, veil_err *err)
{
	if (!request_region || !request_region[0])
		return VEIL_OK;
	return veil_name_check(request_region, "request region", err);
}

/* The release rule (keys.h): VEIL_OK when KEK `name`, whose region is
 * `region` ("" = none), may release a DEK to a request from request_region.
 * The comparison is exact: regions are names, not patterns, and not
 * secrets. Called before anything is unwrapped, so a refused request
 * costs no root or KEK operation and leaves no key in memory. */
static veil_status release_check(const char *name, const char *region, const char *request_region,
                                 veil_err *err)
{
	if (!region[0] || (request_region && strcmp(region, request_region) == 0))
		return VEIL_OK;
	if (request_region && request_region[0])
		veil_err_set(err, VEIL_E_DENIED,
		             "key '%s' may only be released in region '%s'; this request comes from region "
		             "'%s'",
		             name, region, request_region);
	else
		veil_err_set(err, VEIL_E_DENIED,
		             "key '%s' may only be released in region '%s'; this request names no region",
		             name, region);
	veil_err_hint(err, "run the job on a worker in region '%s'", region);
	return VEIL_E_DENIED;
}

static veil_status make_id(char id[VEIL_DEK_ID_MAX], veil_err *err)
{
	uint8_t r[ID_RANDOM];
	char hex[2 * ID_RANDOM + 1];
	veil_status s = veil_random(r, sizeof r, err);
	if (s)
		return s;
	veil_hex_encode(r, sizeof r, hex);
	return veil_fmt(id, VEIL_DEK_ID_MAX, err, ID_PREFIX "%s", hex);
}

static veil_status insert(veil_kms *kms, const char *id, const char *kek_name, uint32_t version,
                          const uint8_t *wrapped, veil_err *err)
{
	sqlite3_stmt *st;
	veil_status s = keys_db_prepare(kms->db,
	                                "INSERT INTO deks (id, kek_name, kek_version, wrapped, created) "
	                                "VALUES (?, ?, ?, ?, ?)",
	                                &st, err);
	if (s)
		return s;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kek_name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, version);
	sqlite3_bind_blob(st, 4, wrapped, KEYS_WRAPPED_KEY_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, veil_time_now());
	s = keys_db_done(kms->db, st, err, "cannot store the new DEK");
	sqlite3_finalize(st);
	return s;
}

/* Inside the write transaction, so the KEK version cannot be rotated and
 * retired between reading it and inserting the DEK under it. */
static veil_status dek_new(veil_kms *kms, const char *kek_name, const char *request_region,
                           char id[VEIL_DEK_ID_MAX], uint8_t *dek, veil_err *err)
{
	uint8_t aad[KEYS_AAD_MAX], wrapped[KEYS_WRAPPED_KEY_LEN];
	size_t aad_len;
	uint32_t cur;
	char region[VEIL_KMS_NAME_MAX + 1];
	const uint8_t *kek;
	veil_status s = keys_kek_current(kms, kek_name, &cur, err);
	if (!s)
		s = keys_kek_region(kms, kek_name, region, err);
	if (!s)
		s = release_check(kek_name, region, request_region, err);
	if (!s)
		s = keys_kek_load(kms, kek_name, cur, &kek, err);
	if (!s)
		s = make_id(id, err);
	if (!s)
		s = veil_random(dek, VEIL_KMS_DEK_LEN, err);
	if (!s)
		s = keys_aad_dek(id, kek_name, cur, aad, &aad_len, err);
	if (!s)
		s = veil_wrap(kek, aad, aad_len, dek, VEIL_KMS_DEK_LEN, wrapped, err);
	if (!s)
		s = insert(kms, id, kek_name, cur, wrapped, err);
	return s;
}

veil_status veil_kms_dek_new(veil_kms *kms, const char *kek_name, const char *request_region,
                             char id[static VEIL_DEK_ID_MAX], uint8_t dek[static VEIL_KMS_DEK_LEN],
                             veil_err *err)
{
	char made[VEIL_DEK_ID_MAX];
	veil_status s = veil_name_check(kek_name, "KEK name", err);
	if (!s)
		s = check_request_region(request_region, err);
	if (!s && !(s = keys_db_begin(kms->db, err))) {
		s = dek_new(kms, kek_name, request_region, made, dek, err);
		if (s)
			keys_db_rollback(kms->db);
		else
			s = keys_db_commit(kms->db, err);
	}
	if (s) {
		veil_wipe(dek, VEIL_KMS_DEK_LEN);
		return s;
	}
	memcpy(id, made, VEIL_DEK_ID_MAX);
	return VEIL_OK;
}

typedef struct dek_row {
	char kek_name[VEIL_KMS_NAME_MAX + 1];
	uint32_t kek_version;
	int64_t created;
	int64_t destroyed; /* 0 while live */
	uint8_t wrapped[KEYS_WRAPPED_KEY_LEN];
	size_t wrapped_len;
} dek_row;

static veil_status read_row(veil_kms *kms, const char *id, dek_row *r, veil_err *err)
{
	sqlite3_stmt *st;
	memset(r, 0, sizeof *r);
	veil_status s = keys_db_prepare(kms->db,
	                                "SELECT kek_name, kek_version, created, destroyed, wrapped "
	                                "FROM deks WHERE id = ?",
	                                &st, err);
	if (s)
		return s;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		s = no_dek(err, id);
	else if (rc != SQLITE_ROW)
		s = keys_db_err(kms->db, err, "cannot read keys.db");
	size_t nlen = rc == SQLITE_ROW ? (size_t)sqlite3_column_bytes(st, 0) : 0;
	size_t wlen = rc == SQLITE_ROW ? (size_t)sqlite3_column_bytes(st, 4) : 0;
	if (!s && (nlen == 0 || nlen > VEIL_KMS_NAME_MAX || wlen > sizeof r->wrapped))
		s = keys_fail(err, VEIL_E_CORRUPT, "keys.db is damaged: the row of DEK %s is malformed", id);
	if (!s) {
		memcpy(r->kek_name, sqlite3_column_text(st, 0), nlen);
		r->kek_version = (uint32_t)sqlite3_column_int64(st, 1);
		r->created = sqlite3_column_int64(st, 2);
		r->destroyed = sqlite3_column_type(st, 3) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 3);
		if (wlen)
			memcpy(r->wrapped, sqlite3_column_blob(st, 4), wlen);
		r->wrapped_len = wlen;
	}
	sqlite3_finalize(st);
	return s;
}

static veil_status unwrap(veil_kms *kms, const char *id, const dek_row *r, uint8_t *dek, veil_err *err)
{
	uint8_t aad[KEYS_AAD_MAX];
	size_t aad_len;
	const uint8_t *kek;
	if (r->destroyed) {
		char when[VEIL_TIME_STR_MAX];
		veil_time_format(r->destroyed, when);
		veil_err_set(err, VEIL_E_KEY, "DEK %s was destroyed at %s; what it encrypted cannot be read",
		             id, when);
		return VEIL_E_KEY;
	}
	veil_status s = keys_kek_load(kms, r->kek_name, r->kek_version, &kek, err);
	if (s) {
		veil_err_wrap(err, "DEK %s", id);
		return s;
	}
	if ((s = keys_aad_dek(id, r->kek_name, r->kek_version, aad, &aad_len, err)))
		return s;
	if (r->wrapped_len != KEYS_WRAPPED_KEY_LEN ||
	    veil_unwrap(kek, aad, aad_len, r->wrapped, r->wrapped_len, dek, NULL) != VEIL_OK) {
		veil_err_set(err, VEIL_E_CORRUPT,
		             "the wrapped DEK %s fails authentication: keys.db was modified or "
		             "damaged",
		             id);
		veil_err_hint(err, "restore the workspace's keys/ folder from a backup");
		return VEIL_E_CORRUPT;
	}
	return VEIL_OK;
}

veil_status veil_kms_dek_get(veil_kms *kms, const char *id, const char *request_region,
                             uint8_t dek[static VEIL_KMS_DEK_LEN], veil_err *err)
{
	dek_row r;
	char region[VEIL_KMS_NAME_MAX + 1];
	veil_wipe(dek, VEIL_KMS_DEK_LEN);
	veil_status s = check_id(id, err);
	if (!s)
		s = check_request_region(request_region, err);
	/* One snapshot: the DEK row, its KEK's region and its KEK row as of
	 * the same moment, even while another process re-wraps and retires.
	 * The region is checked before destroyed or retired: a request from
	 * the wrong region learns no more than that. */
	if (s || (s = keys_db_begin_read(kms->db, err)))
		return s;
	s = read_row(kms, id, &r, err);
	if (!s)
		s = keys_kek_region(kms, r.kek_name, region, err);
	if (!s)
		s = release_check(r.kek_name, region, request_region, err);
	if (!s)
		s = unwrap(kms, id, &r, dek, err);
	keys_db_rollback(kms->db);
	if (s)
		veil_wipe(dek, VEIL_KMS_DEK_LEN);
	return s;
}

veil_status veil_kms_dek_info(veil_kms *kms, const char *id, veil_dek_info *out, veil_err *err)
{
	dek_row r;
	veil_status s = check_id(id, err);
	if (s || (s = read_row(kms, id, &r, err)))
		return s;
	memset(out, 0, sizeof *out);
	memcpy(out->id, id, strlen(id) + 1);
	memcpy(out->kek_name, r.kek_name, sizeof out->kek_name);
	out->kek_version = r.kek_version;
	out->created = r.created;
	out->destroyed = r.destroyed != 0;
	out->destroyed_at = r.destroyed;
	return VEIL_OK;
}

static veil_status list_row(sqlite3_stmt *st, veil_dek_info *out, veil_err *err)
{
	size_t idlen = (size_t)sqlite3_column_bytes(st, 0), nlen = (size_t)sqlite3_column_bytes(st, 1);
	const unsigned char *id = sqlite3_column_text(st, 0), *name = sqlite3_column_text(st, 1);
	if (!id || !name || idlen == 0 || idlen >= sizeof out->id || nlen == 0 ||
	    nlen >= sizeof out->kek_name)
		return keys_fail(err, VEIL_E_CORRUPT, "keys.db is damaged: a DEK row is malformed");
	memset(out, 0, sizeof *out);
	memcpy(out->id, id, idlen);
	memcpy(out->kek_name, name, nlen);
	out->kek_version = (uint32_t)sqlite3_column_int64(st, 2);
	out->created = sqlite3_column_int64(st, 3);
	return VEIL_OK;
}

/* The next batch of live DEKs with ids after `after`, in id order. The
 * statement is finalized before returning, so the caller's callback may
 * change keys.db. */
static veil_status list_fetch(veil_kms *kms, const char *after, veil_dek_info *rows, size_t *n, veil_err *err)
{
	sqlite3_stmt *st;
	*n = 0;
	veil_status s = keys_db_prepare(kms->db,
	                                "SELECT id, kek_name, kek_version, created FROM deks "
	                                "WHERE destroyed IS NULL AND id > ? ORDER BY id LIMIT ?",
	                                &st, err);
	if (s)
		return s;
	sqlite3_bind_text(st, 1, after, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, LIST_BATCH);
	while (*n < LIST_BATCH) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			s = keys_db_err(kms->db, err, "cannot read keys.db");
			break;
		}
		if ((s = list_row(st, &rows[*n], err)))
			break;
		(*n)++;
	}
	sqlite3_finalize(st);
	return s;
}

/* Keyset pagination: each batch starts after the last id of the one
 * before, so memory stays constant and rows destroyed by the callback do
 * not shift what comes next. */
veil_status veil_kms_dek_list(veil_kms *kms, veil_kms_dek_fn fn, void *ctx, veil_err *err)
{
	if (!fn)
		return keys_fail(err, VEIL_E_INVALID, "listing DEKs needs a function to call for each");
	veil_dek_info *rows = calloc(LIST_BATCH, sizeof *rows);
	if (!rows)
		return keys_fail(err, VEIL_E_NOMEM, "out of memory");
	char after[VEIL_DEK_ID_MAX] = "";
	size_t n = 0;
	veil_status s = VEIL_OK;
	do {
		s = list_fetch(kms, after, rows, &n, err);
		for (size_t i = 0; i < n && !s; i++)
			s = fn(ctx, &rows[i], err);
		if (!s && n > 0)
			memcpy(after, rows[n - 1].id, sizeof after);
	} while (!s && n == LIST_BATCH);
	free(rows);
	return s;
}

static veil_status destroy(veil_kms *kms, const char *id, veil_err *err)
{
	sqlite3_stmt *st;
	veil_status s = keys_db_prepare(kms->db,
	                                "UPDATE deks SET wrapped = NULL, destroyed = ? "
	                                "WHERE id = ? AND destroyed IS NULL",
	                                &st, err);
	if (s)
		return s;
	sqlite3_bind_int64(st, 1, veil_time_now());
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	s = keys_db_done(kms->db, st, err, "cannot destroy the DEK");
	sqlite3_finalize(st);
	if (s)
		return s;
	/* Whatever the update reported, the row must now be a tombstone:
	 * unknown ids fail here, destroyed-already is fine. */
	dek_row r;
	if ((s = read_row(kms, id, &r, err)))
		return s;
	if (!r.destroyed)
		return keys_fail(err, VEIL_E_CORRUPT, "the DEK %s is still in keys.db after being destroyed",
		                 id);
	return VEIL_OK;
}

veil_status veil_kms_dek_destroy(veil_kms *kms, const char *id, veil_err *err)
{
	veil_status s = check_id(id, err);
	if (s || (s = keys_db_begin(kms->db, err)))
		return s;
	if ((s = destroy(kms, id, err))) {
		keys_db_rollback(kms->db);
		return s;
	}
	if ((s = keys_db_commit(kms->db, err)))
		return s;
	/* secure_delete zeroed the page in the database; also move it out
	 * of the WAL and truncate that. Best effort and without waiting: a
	 * reader elsewhere may hold the WAL, and the next checkpoint will
	 * catch up. */
	sqlite3_busy_timeout(kms->db, 0);
	(void)sqlite3_wal_checkpoint_v2(kms->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	keys_db_busy_default(kms->db);
	return VEIL_OK;
}
