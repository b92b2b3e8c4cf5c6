/*
 * Datasets, their numbered versions and tags, and "name@N" references.
 *
 * Invariants kept here (docs/formats/catalog.md, "Invariants"):
 *  D1. A dataset exists only with at least one version: both are created
 *      in one transaction.
 *  D2. Versions of a dataset are 1, 2, ... in the order they were added;
 *      a number is never reused, also after its version was deleted.
 *  D3. A version is never changed after it was added, except its state,
 *      which only goes live -> deleted, and its tags under a prefix, which
 *      a scan replaces as a whole (set_tags) while the version is live.
 *  D4. Owner, classification, compartment and region belong to the
 *      dataset; adding a version cannot change them. The classification
 *      can only rise, through raise_class (a scan found more than the
 *      owner declared); lowering it is not a catalog operation.
 *  D5. A dataset's compartment exists when the dataset is created; since
 *      compartments are never deleted it keeps existing. (The column is
 *      not a foreign key: see schema step 4.)
 */
#include "iam_int.h"

#include <stdlib.h>
#include <string.h>

/* The columns read_row expects, in its order, and the join they need. */
#define ROW_SELECT                                                                                           \
	"SELECT d.name, v.version, d.owner, d.classification, v.size, v.sha256, v.object_id, "               \
	"v.dek_id, v.kek, v.chunk_size, v.created, v.created_by, v.state, v.id, d.compartment, d.region "    \
	"FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id "

/* In rising order: a class's index is its rank. */
static const char *const classes[] = {"public", "internal", "confidential", "restricted"};

/* The rank of a classification, -1 for anything else. */
static int class_rank(const char *s)
{
	for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
		if (strcmp(s, classes[i]) == 0)
			return (int)i;
	return -1;
}

static bool is_class(const char *s)
{
	return class_rank(s) >= 0;
}

static veil_status bad_int(veil_catalog *c, const char *what, veil_err *err)
{
	veil_err_set(err, VEIL_E_CORRUPT, "catalog %s: a stored %s is out of range", c->path, what);
	veil_err_hint(err, "the catalog was changed outside veil; restore catalog.db from a backup");
	return VEIL_E_CORRUPT;
}

/* Copies the current row of a ROW_SELECT query into v (tags not loaded). */
static veil_status read_row(veil_catalog *c, sqlite3_stmt *s, veil_dataset_version *v, int64_t *vid,
                            veil_err *err)
{
	memset(v, 0, sizeof *v);
	veil_status st;
	if ((st = vcat_col_text(c, s, 0, v->name, sizeof v->name, false, "dataset name", err)) ||
	    (st = vcat_col_text(c, s, 2, v->owner, sizeof v->owner, false, "owner", err)) ||
	    (st = vcat_col_text(c, s, 3, v->classification, sizeof v->classification, false, "classification",
	                        err)) ||
	    (st = vcat_col_text(c, s, 5, v->sha256, sizeof v->sha256, false, "SHA-256", err)) ||
	    (st = vcat_col_text(c, s, 6, v->object_id, sizeof v->object_id, false, "object id", err)) ||
	    (st = vcat_col_text(c, s, 7, v->dek_id, sizeof v->dek_id, false, "DEK id", err)) ||
	    (st = vcat_col_text(c, s, 8, v->kek, sizeof v->kek, false, "KEK name", err)) ||
	    (st = vcat_col_text(c, s, 11, v->created_by, sizeof v->created_by, false, "creator", err)) ||
	    (st = vcat_col_text(c, s, 12, v->state, sizeof v->state, false, "state", err)) ||
	    (st = vcat_col_text(c, s, 14, v->compartment, sizeof v->compartment, false, "compartment",
	                        err)) ||
	    (st = vcat_col_text(c, s, 15, v->region, sizeof v->region, false, "region", err)))
		return st;
	int64_t version = sqlite3_column_int64(s, 1), size = sqlite3_column_int64(s, 4);
	int64_t chunk = sqlite3_column_int64(s, 9);
	if (version < 1 || version > UINT32_MAX)
		return bad_int(c, "version number", err);
	if (size < 0)
		return bad_int(c, "size", err);
	if (chunk < 1 || chunk > UINT32_MAX)
		return bad_int(c, "chunk size", err);
	v->version = (uint32_t)version;
	v->size = (uint64_t)size;
	v->chunk_size = (uint32_t)chunk;
	v->created = sqlite3_column_int64(s, 10);
	*vid = sqlite3_column_int64(s, 13);
	return VEIL_OK;
}

static veil_status check_name(const char *name, veil_err *err)
{
	if (!name)
		return veil_err_set(err, VEIL_E_INVALID, "no dataset name given");
	return veil_name_check(name, "dataset name", err);
}

/* ---- not-found messages that say what does exist ---- */

static veil_status no_dataset(const char *name, veil_err *err)
{
	veil_err_set(err, VEIL_E_NOTFOUND, "no dataset named %s", name);
	veil_err_hint(err, "check the spelling; dataset names are case-sensitive");
	return VEIL_E_NOTFOUND;
}

/* The highest version of a dataset; VEIL_E_NOTFOUND if there is none. */
static veil_status latest_of(veil_catalog *c, const char *name, uint32_t *latest, veil_err *err)
{
	*latest = 0;
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c,
	                              "SELECT max(v.version) FROM dataset_versions v "
	                              "JOIN datasets d ON d.id = v.dataset_id WHERE d.name = ?1",
	                              &s, err);
	if (st)
		return st;
	int rc = vcat_bind_text(s, 1, name) ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc != SQLITE_ROW)
		st = vcat_db_err(c, rc, "cannot look up a dataset", err);
	else if (sqlite3_column_type(s, 0) == SQLITE_NULL)
		st = no_dataset(name, err);
	else
		*latest = (uint32_t)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return st;
}

static veil_status no_version(veil_catalog *c, const char *name, uint32_t version, veil_err *err)
{
	uint32_t latest;
	veil_status st = latest_of(c, name, &latest, err);
	if (st)
		return st;
	if (version == 0) {
		veil_err_set(err, VEIL_E_NOTFOUND, "dataset %s has no live version (all %u were deleted)",
		             name, latest);
		return VEIL_E_NOTFOUND;
	}
	veil_err_set(err, VEIL_E_NOTFOUND, "dataset %s has no version %u (latest is %u)", name, version,
	             latest);
	veil_err_hint(err, "write %s@N with N from 1 to %u, or just %s for the latest", name, latest, name);
	return VEIL_E_NOTFOUND;
}

/* ---- add ---- */

/* A tag key is a name, or one namespace and a name: "source", "pii:email".
 * The namespace lets a scan own its tags (set_tags replaces them by
 * prefix) without touching the ones an owner wrote. */
static veil_status check_tag_key(const char *key, veil_err *err)
{
	size_t n = strnlen(key, VEIL_CATALOG_TAG_KEY_MAX);
	if (n == VEIL_CATALOG_TAG_KEY_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "a tag key is longer than %d characters",
		                    VEIL_CATALOG_TAG_KEY_MAX - 1);
	const char *colon = memchr(key, ':', n);
	if (!colon)
		return veil_name_check(key, "tag key", err);
	char ns[VEIL_CATALOG_TAG_KEY_MAX];
	size_t nsl = (size_t)(colon - key);
	memcpy(ns, key, nsl);
	ns[nsl] = '\0';
	veil_status st = veil_name_check(ns, "tag namespace", err);
	if (!st)
		st = veil_name_check(colon + 1, "tag name", err);
	if (st)
		veil_err_hint(err, "a tag key is a name or namespace:name, e.g. source or pii:email");
	return st;
}

static veil_status check_tags(const veil_tag *tags, size_t n, veil_err *err)
{
	if (n > VEIL_CATALOG_TAGS_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "a dataset version has at most %d tags, not %zu",
		                    VEIL_CATALOG_TAGS_MAX, n);
	if (n && !tags)
		return veil_err_set(err, VEIL_E_INVALID, "%zu tags announced but none given", n);
	veil_status st = VEIL_OK;
	for (size_t i = 0; !st && i < n; i++) {
		if (strnlen(tags[i].key, sizeof tags[i].key) == sizeof tags[i].key)
			return veil_err_set(err, VEIL_E_INVALID, "tag %zu: the key is not terminated", i + 1);
		st = check_tag_key(tags[i].key, err);
		if (!st)
			st = vcat_check_text(tags[i].value, VEIL_CATALOG_TAG_VALUE_MAX - 1, true, false,
			                     "tag value", err);
		for (size_t j = 0; !st && j < i; j++)
			if (strcmp(tags[i].key, tags[j].key) == 0)
				st = veil_err_set(err, VEIL_E_INVALID, "tag %s is given twice", tags[i].key);
	}
	return st;
}

static veil_status check_new(const veil_dataset_version *v, veil_err *err)
{
	veil_status st;
	if (strnlen(v->name, sizeof v->name) == sizeof v->name)
		return veil_err_set(err, VEIL_E_INVALID, "dataset name is not terminated");
	if ((st = check_name(v->name, err)))
		return st;
	if (v->owner[0] && (st = veil_name_check(v->owner, "owner", err)))
		return st;
	if (strnlen(v->classification, sizeof v->classification) == sizeof v->classification ||
	    (v->classification[0] && !is_class(v->classification))) {
		veil_err_set(err, VEIL_E_INVALID,
		             "classification must be public, internal, confidential or restricted");
		return VEIL_E_INVALID;
	}
	if ((st = vcat_check_field(v->compartment, sizeof v->compartment, true, "compartment", err)) ||
	    (st = vcat_check_field(v->region, sizeof v->region, true, "region", err)))
		return st;
	if ((st = vcat_check_hex64(v->sha256, "the plaintext SHA-256", err)) ||
	    (st = vcat_check_hex64(v->object_id, "the object id", err)) ||
	    (st = vcat_check_text(v->dek_id, sizeof v->dek_id - 1, false, true, "DEK id", err)) ||
	    (st = vcat_check_text(v->kek, sizeof v->kek - 1, false, true, "KEK name", err)) ||
	    (st = vcat_check_text(v->created_by, sizeof v->created_by - 1, false, true, "creator", err)))
		return st;
	if (v->size > INT64_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "dataset size %llu is too large",
		                    (unsigned long long)v->size);
	if (v->chunk_size == 0)
		return veil_err_set(err, VEIL_E_INVALID, "chunk size must not be 0");
	return check_tags(v->tags, v->ntags, err);
}

typedef struct dataset_row {
	int64_t id;
	char owner[VEIL_CATALOG_NAME_MAX];
	char classification[VEIL_CATALOG_CLASS_MAX];
	char compartment[VEIL_CATALOG_NAME_MAX];
	char region[VEIL_CATALOG_NAME_MAX];
} dataset_row;

/* Adds the dataset row for v, in v->compartment (tenancy when "", D5). */
static veil_status create_dataset(veil_catalog *c, const veil_dataset_version *v, int64_t now, dataset_row *d,
                                  veil_err *err)
{
	const char *comp = v->compartment[0] ? v->compartment : VEIL_CATALOG_TENANCY;
	veil_status st = vcat_need_compartment(c, comp, err);
	if (st)
		return st;
	sqlite3_stmt *s;
	if ((st = vcat_prepare(
	             c,
	             "INSERT INTO datasets (name, owner, classification, created, compartment, region) "
	             "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	             &s, err)))
		return st;
	if (!vcat_bind_text(s, 1, v->name) || !vcat_bind_text(s, 2, v->owner) ||
	    !vcat_bind_text(s, 3, v->classification) || !vcat_bind_int(s, 4, now) ||
	    !vcat_bind_text(s, 5, comp) || !vcat_bind_text(s, 6, v->region))
		st = vcat_db_err(c, SQLITE_NOMEM, "cannot bind a parameter", err);
	else
		st = vcat_exec(c, s, "cannot add a dataset", err);
	sqlite3_finalize(s);
	if (st)
		return st;
	d->id = sqlite3_last_insert_rowid(c->db);
	memcpy(d->owner, v->owner, sizeof d->owner);
	memcpy(d->classification, v->classification, sizeof d->classification);
	memcpy(d->compartment, comp, strlen(comp) + 1);
	memcpy(d->region, v->region, sizeof d->region);
	return VEIL_OK;
}

/* Copies a row of "SELECT id, owner, classification, compartment, region
 * FROM datasets" into d. */
static veil_status read_dataset(veil_catalog *c, sqlite3_stmt *s, dataset_row *d, veil_err *err)
{
	veil_status st;
	d->id = sqlite3_column_int64(s, 0);
	if ((st = vcat_col_text(c, s, 1, d->owner, sizeof d->owner, false, "owner", err)) ||
	    (st = vcat_col_text(c, s, 2, d->classification, sizeof d->classification, false, "classification",
	                        err)) ||
	    (st = vcat_col_text(c, s, 3, d->compartment, sizeof d->compartment, false, "compartment", err)))
		return st;
	return vcat_col_text(c, s, 4, d->region, sizeof d->region, false, "region", err);
}

/* Finds the dataset, or creates it from v (D1, D4, D5). */
static veil_status find_or_create(veil_catalog *c, const veil_dataset_version *v, int64_t now, dataset_row *d,
                                  veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(
	        c, "SELECT id, owner, classification, compartment, region FROM datasets WHERE name = ?1", &s,
	        err);
	if (st)
		return st;
	int rc = vcat_bind_text(s, 1, v->name) ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc == SQLITE_ROW) {
		st = read_dataset(c, s, d, err);
	} else if (rc != SQLITE_DONE) {
		st = vcat_db_err(c, rc, "cannot look up a dataset", err);
	}
	sqlite3_finalize(s);
	if (st || rc == SQLITE_ROW)
		return st;
	if (!v->owner[0] || !v->classification[0]) {
		veil_err_set(err, VEIL_E_INVALID, "dataset %s is new: give its owner and classification",
		             v->name);
		return VEIL_E_INVALID;
	}
	return create_dataset(c, v, now, d, err);
}

static veil_status next_version(veil_catalog *c, int64_t dataset_id, uint32_t *next, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(
	        c, "SELECT coalesce(max(version), 0) FROM dataset_versions WHERE dataset_id = ?1", &s, err);
	if (st)
		return st;
	int rc = vcat_bind_int(s, 1, dataset_id) ? sqlite3_step(s) : SQLITE_NOMEM;
	int64_t max = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return vcat_db_err(c, rc, "cannot number a new version", err);
	if (max < 0 || max >= UINT32_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "the dataset has no version numbers left");
	*next = (uint32_t)max + 1;
	return VEIL_OK;
}

static veil_status insert_version(veil_catalog *c, int64_t dataset_id, const veil_dataset_version *v,
                                  uint32_t version, int64_t created, int64_t *vid, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c,
	                              "INSERT INTO dataset_versions (dataset_id, version, size, sha256, "
	                              "object_id, dek_id, kek, chunk_size, created, created_by, state) "
	                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'live')",
	                              &s, err);
	if (st)
		return st;
	if (!vcat_bind_int(s, 1, dataset_id) || !vcat_bind_int(s, 2, version) ||
	    !vcat_bind_int(s, 3, (int64_t)v->size) || !vcat_bind_text(s, 4, v->sha256) ||
	    !vcat_bind_text(s, 5, v->object_id) || !vcat_bind_text(s, 6, v->dek_id) ||
	    !vcat_bind_text(s, 7, v->kek) || !vcat_bind_int(s, 8, v->chunk_size) ||
	    !vcat_bind_int(s, 9, created) || !vcat_bind_text(s, 10, v->created_by))
		st = vcat_db_err(c, SQLITE_NOMEM, "cannot bind a parameter", err);
	else
		st = vcat_exec(c, s, "cannot add a dataset version", err);
	sqlite3_finalize(s);
	*vid = sqlite3_last_insert_rowid(c->db);
	return st;
}

static veil_status insert_tags(veil_catalog *c, int64_t vid, const veil_tag *tags, size_t n, veil_err *err)
{
	if (n == 0)
		return VEIL_OK;
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(
	        c, "INSERT INTO dataset_tags (version_id, key, value) VALUES (?1, ?2, ?3)", &s, err);
	for (size_t i = 0; !st && i < n; i++) {
		sqlite3_reset(s);
		if (!vcat_bind_int(s, 1, vid) || !vcat_bind_text(s, 2, tags[i].key) ||
		    !vcat_bind_text(s, 3, tags[i].value))
			st = vcat_db_err(c, SQLITE_NOMEM, "cannot bind a parameter", err);
		else
			st = vcat_exec(c, s, "cannot add a tag", err);
	}
	sqlite3_finalize(s);
	return st;
}

static veil_status add_in_tx(veil_catalog *c, veil_dataset_version *v, int64_t created, dataset_row *d,
                             uint32_t *version, veil_err *err)
{
	veil_status st = find_or_create(c, v, created, d, err);
	if (st)
		return st;
	if ((v->owner[0] && strcmp(v->owner, d->owner) != 0) ||
	    (v->classification[0] && strcmp(v->classification, d->classification) != 0)) {
		veil_err_set(err, VEIL_E_INVALID,
		             "dataset %s belongs to %s and is classified %s; a new version cannot "
		             "change that",
		             v->name, d->owner, d->classification);
		veil_err_hint(err, "leave owner and classification empty to keep the dataset's");
		return VEIL_E_INVALID;
	}
	if ((v->compartment[0] && strcmp(v->compartment, d->compartment) != 0) ||
	    (v->region[0] && strcmp(v->region, d->region) != 0)) {
		veil_err_set(err, VEIL_E_INVALID,
		             "dataset %s lives in compartment %s, region %s; a new version cannot move it",
		             v->name, d->compartment, d->region[0] ? d->region : "(not recorded)");
		veil_err_hint(err, "leave compartment and region empty to keep the dataset's");
		return VEIL_E_INVALID;
	}
	int64_t vid = 0;
	if ((st = next_version(c, d->id, version, err)) ||
	    (st = insert_version(c, d->id, v, *version, created, &vid, err)))
		return st;
	return insert_tags(c, vid, v->tags, v->ntags, err);
}

veil_status veil_catalog_dataset_add_version(veil_catalog *c, veil_dataset_version *v, veil_err *err)
{
	veil_status st = check_new(v, err);
	if (st)
		return st;
	int64_t created = v->created ? v->created : veil_time_now();
	dataset_row d;
	uint32_t version = 0;
	bool own;
	if ((st = vcat_tx_begin(c, &own, err)))
		return st;
	st = add_in_tx(c, v, created, &d, &version, err);
	if ((st = vcat_tx_end(c, own, st, err)))
		return st;
	v->version = version;
	v->created = created;
	memcpy(v->owner, d.owner, sizeof v->owner);
	memcpy(v->classification, d.classification, sizeof v->classification);
	memcpy(v->compartment, d.compartment, sizeof v->compartment);
	memcpy(v->region, d.region, sizeof v->region);
	memcpy(v->state, "live", sizeof "live");
	return VEIL_OK;
}

/* ---- reads ---- */

static veil_status load_tags(veil_catalog *c, int64_t vid, veil_dataset_version *v, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(
	        c, "SELECT key, value FROM dataset_tags WHERE version_id = ?1 ORDER BY key", &s, err);
	if (st)
		return st;
	int rc = vcat_bind_int(s, 1, vid) ? SQLITE_OK : SQLITE_NOMEM;
	while (!st && rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (v->ntags == VEIL_CATALOG_TAGS_MAX) {
			st = bad_int(c, "tag count", err);
			break;
		}
		veil_tag *t = realloc(v->tags, (v->ntags + 1) * sizeof *t);
		if (!t) {
			st = veil_err_set(err, VEIL_E_NOMEM, "out of memory reading tags");
			break;
		}
		v->tags = t;
		t = &v->tags[v->ntags++];
		memset(t, 0, sizeof *t);
		if (!(st = vcat_col_text(c, s, 0, t->key, sizeof t->key, false, "tag key", err)))
			st = vcat_col_text(c, s, 1, t->value, sizeof t->value, false, "tag value", err);
		rc = SQLITE_OK;
	}
	if (!st && rc != SQLITE_DONE)
		st = vcat_db_err(c, rc, "cannot read tags", err);
	sqlite3_finalize(s);
	return st;
}

/* The row for (name, version), version 0 meaning the latest live one; rc
 * SQLITE_DONE when there is none. */
static veil_status find_version(veil_catalog *c, const char *name, uint32_t version,
                                veil_dataset_version *out, int64_t *vid, bool *found, veil_err *err)
{
	*found = false;
	sqlite3_stmt *s;
	const char *sql = version ? ROW_SELECT "WHERE d.name = ?1 AND v.version = ?2"
	                          : ROW_SELECT
	                          "WHERE d.name = ?1 AND v.state = 'live' ORDER BY v.version DESC LIMIT 1";
	veil_status st = vcat_prepare(c, sql, &s, err);
	if (st)
		return st;
	bool bound = vcat_bind_text(s, 1, name) && (!version || vcat_bind_int(s, 2, version));
	int rc = bound ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc == SQLITE_ROW) {
		*found = true;
		st = read_row(c, s, out, vid, err);
	} else if (rc != SQLITE_DONE) {
		st = vcat_db_err(c, rc, "cannot look up a dataset version", err);
	}
	sqlite3_finalize(s);
	return st;
}

veil_status veil_catalog_dataset_get(veil_catalog *c, const char *name, uint32_t version,
                                     veil_dataset_version *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	veil_status st = check_name(name, err);
	if (st)
		return st;
	int64_t vid = 0;
	bool found;
	if ((st = find_version(c, name, version, out, &vid, &found, err)))
		goto fail;
	if (!found) {
		st = no_version(c, name, version, err);
		goto fail;
	}
	if (strcmp(out->state, "live") != 0) {
		st = veil_err_set(err, VEIL_E_NOTFOUND, "version %u of dataset %s was deleted", version,
		                  name);
		goto fail;
	}
	if ((st = load_tags(c, vid, out, err)))
		goto fail;
	return VEIL_OK;
fail:
	veil_dataset_version_free(out);
	return st;
}

/* Calls cb for every row of a ROW_SELECT statement already bound. */
static veil_status walk(veil_catalog *c, sqlite3_stmt *s, veil_dataset_fn cb, void *ctx, size_t *rows,
                        veil_err *err)
{
	veil_status st = VEIL_OK;
	int rc = SQLITE_DONE;
	*rows = 0;
	while (!st && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		veil_dataset_version v;
		int64_t vid;
		if (!(st = read_row(c, s, &v, &vid, err)))
			st = cb(ctx, &v, err);
		(*rows)++;
	}
	if (!st && rc != SQLITE_DONE)
		st = vcat_db_err(c, rc, "cannot list datasets", err);
	return st;
}

veil_status veil_catalog_dataset_list(veil_catalog *c, veil_dataset_fn cb, void *ctx, veil_err *err)
{
	sqlite3_stmt *s;
	/* Per dataset: the newest live version, else the newest one. */
	veil_status st = vcat_prepare(
	        c,
	        ROW_SELECT "WHERE v.id = (SELECT x.id FROM dataset_versions x "
	                   "WHERE x.dataset_id = d.id ORDER BY x.state = 'live' DESC, x.version DESC "
	                   "LIMIT 1) ORDER BY d.name",
	        &s, err);
	if (st)
		return st;
	size_t rows;
	st = walk(c, s, cb, ctx, &rows, err);
	sqlite3_finalize(s);
	return st;
}

veil_status veil_catalog_dataset_versions(veil_catalog *c, const char *name, veil_dataset_fn cb, void *ctx,
                                          veil_err *err)
{
	veil_status st = check_name(name, err);
	if (st)
		return st;
	sqlite3_stmt *s;
	if ((st = vcat_prepare(c, ROW_SELECT "WHERE d.name = ?1 ORDER BY v.version", &s, err)))
		return st;
	size_t rows = 0;
	if (!vcat_bind_text(s, 1, name))
		st = vcat_db_err(c, SQLITE_NOMEM, "cannot bind a parameter", err);
	else
		st = walk(c, s, cb, ctx, &rows, err);
	sqlite3_finalize(s);
	if (!st && rows == 0)
		st = no_dataset(name, err);
	return st;
}

static veil_status mark_in_tx(veil_catalog *c, const char *name, uint32_t version, veil_err *err)
{
	veil_dataset_version v;
	int64_t vid = 0;
	bool found;
	veil_status st = find_version(c, name, version, &v, &vid, &found, err);
	if (st)
		return st;
	if (!found)
		return no_version(c, name, version, err);
	sqlite3_stmt *s;
	if ((st = vcat_prepare(c, "UPDATE dataset_versions SET state = 'deleted' WHERE id = ?1", &s, err)))
		return st;
	if (!vcat_bind_int(s, 1, vid))
		st = vcat_db_err(c, SQLITE_NOMEM, "cannot bind a parameter", err);
	else
		st = vcat_exec(c, s, "cannot mark a version deleted", err);
	sqlite3_finalize(s);
	return st;
}

veil_status veil_catalog_dataset_mark_deleted(veil_catalog *c, const char *name, uint32_t version,
                                              veil_err *err)
{
	veil_status st = check_name(name, err);
	if (st)
		return st;
	if (version == 0)
		return veil_err_set(err, VEIL_E_INVALID, "give the version of %s to delete (name@N)", name);
	bool own;
	if ((st = vcat_tx_begin(c, &own, err)))
		return st;
	st = mark_in_tx(c, name, version, err);
	return vcat_tx_end(c, own, st, err);
}

veil_status vcat_version_id(veil_catalog *c, const char *name, uint32_t version, bool live_only, int64_t *vid,
                            uint32_t *resolved, veil_err *err)
{
	*vid = 0;
	veil_dataset_version v;
	int64_t id = 0;
	bool found;
	veil_status st = find_version(c, name, version, &v, &id, &found, err);
	if (st)
		return st;
	if (!found)
		return no_version(c, name, version, err);
	if (live_only && strcmp(v.state, "live") != 0)
		return veil_err_set(err, VEIL_E_NOTFOUND, "version %u of dataset %s was deleted", v.version,
		                    name);
	*vid = id;
	if (resolved)
		*resolved = v.version;
	return VEIL_OK;
}

/* ---- what a scan writes: tags under a prefix, a higher class ---- */

/* A prefix of tag keys: 1..64 of the characters keys have, at most one
 * colon. Empty is refused: replacing every tag would drop the owner's. */
static veil_status check_prefix(const char *prefix, veil_err *err)
{
	if (!prefix || !prefix[0]) {
		veil_err_set(err, VEIL_E_INVALID, "no tag prefix given");
		veil_err_hint(err, "name the namespace the tags replace, e.g. pii:");
		return VEIL_E_INVALID;
	}
	size_t n = strnlen(prefix, VEIL_CATALOG_TAG_KEY_MAX), colons = 0;
	bool ok = n < VEIL_CATALOG_TAG_KEY_MAX && prefix[0] != '.' && prefix[0] != '-' && prefix[0] != ':';
	for (size_t i = 0; ok && i < n; i++) {
		char ch = prefix[i];
		colons += ch == ':';
		ok = colons <= 1 &&
		     ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '.' || ch == '_' || ch == '-' || ch == ':');
	}
	if (ok)
		return VEIL_OK;
	veil_err_set(err, VEIL_E_INVALID, "tag prefix '%.64s' cannot begin a tag key", prefix);
	veil_err_hint(err, "a tag key is a name or namespace:name; give its start, e.g. pii:");
	return VEIL_E_INVALID;
}

static veil_status count_tags(veil_catalog *c, int64_t vid, int64_t *n, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c, "SELECT count(*) FROM dataset_tags WHERE version_id = ?1", &s, err);
	if (st)
		return st;
	int rc = vcat_bind_int(s, 1, vid) ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	else
		st = vcat_db_err(c, rc, "cannot count tags", err);
	sqlite3_finalize(s);
	return st;
}

static veil_status set_tags_in_tx(veil_catalog *c, const char *name, uint32_t version, const char *prefix,
                                  const veil_tag *tags, size_t n, veil_err *err)
{
	int64_t vid = 0, kept = 0;
	veil_status st = vcat_version_id(c, name, version, true, &vid, NULL, err);
	if (st)
		return st;
	sqlite3_stmt *s;
	/* substr, not LIKE or GLOB: '_' and '.' in a prefix are not patterns. */
	if ((st = vcat_prepare(c,
	                       "DELETE FROM dataset_tags WHERE version_id = ?1 "
	                       "AND substr(key, 1, length(?2)) = ?2",
	                       &s, err)))
		return st;
	if (!vcat_bind_int(s, 1, vid) || !vcat_bind_text(s, 2, prefix))
		st = vcat_db_err(c, SQLITE_NOMEM, "cannot bind a parameter", err);
	else
		st = vcat_exec(c, s, "cannot replace tags", err);
	sqlite3_finalize(s);
	if (st || (st = count_tags(c, vid, &kept, err)))
		return st;
	if (kept < 0 || (uint64_t)kept + n > VEIL_CATALOG_TAGS_MAX) {
		veil_err_set(err, VEIL_E_LIMIT,
		             "%s@%u would have %lld tags (%lld kept, %zu under %s); at most %d are allowed",
		             name, version, (long long)kept + (long long)n, (long long)kept, n, prefix,
		             VEIL_CATALOG_TAGS_MAX);
		return VEIL_E_LIMIT;
	}
	return insert_tags(c, vid, tags, n, err);
}

veil_status veil_catalog_dataset_set_tags(veil_catalog *c, const char *name, uint32_t version,
                                          const char *prefix, const veil_tag *tags, size_t n, veil_err *err)
{
	veil_status st = check_name(name, err);
	if (st || (st = check_prefix(prefix, err)) || (st = check_tags(tags, n, err)))
		return st;
	if (version == 0)
		return veil_err_set(err, VEIL_E_INVALID, "give the version of %s to tag (name@N)", name);
	size_t plen = strlen(prefix);
	for (size_t i = 0; tags && i < n; i++) /* tags: checked above, said again for the analyzer */
		if (strncmp(tags[i].key, prefix, plen) != 0) {
			veil_err_set(err, VEIL_E_INVALID,
			             "tag %s does not start with %s, the prefix it replaces", tags[i].key,
			             prefix);
			return VEIL_E_INVALID;
		}
	bool own;
	if ((st = vcat_tx_begin(c, &own, err)))
		return st;
	st = set_tags_in_tx(c, name, version, prefix, tags, n, err);
	return vcat_tx_end(c, own, st, err);
}

static veil_status raise_in_tx(veil_catalog *c, const char *name, int rank, bool *rose, veil_err *err)
{
	sqlite3_stmt *s;
	char cur[VEIL_CATALOG_CLASS_MAX] = "";
	veil_status st = vcat_prepare(c, "SELECT classification FROM datasets WHERE name = ?1", &s, err);
	if (st)
		return st;
	int rc = vcat_bind_text(s, 1, name) ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc == SQLITE_ROW)
		st = vcat_col_text(c, s, 0, cur, sizeof cur, false, "classification", err);
	else if (rc == SQLITE_DONE)
		st = no_dataset(name, err);
	else
		st = vcat_db_err(c, rc, "cannot look up a dataset", err);
	sqlite3_finalize(s);
	if (st)
		return st;
	int have = class_rank(cur);
	if (have < 0)
		return bad_int(c, "classification", err);
	if (rank <= have)
		return VEIL_OK;
	if ((st = vcat_prepare(c, "UPDATE datasets SET classification = ?2 WHERE name = ?1", &s, err)))
		return st;
	if (!vcat_bind_text(s, 1, name) || !vcat_bind_text(s, 2, classes[rank]))
		st = vcat_db_err(c, SQLITE_NOMEM, "cannot bind a parameter", err);
	else
		st = vcat_exec(c, s, "cannot raise a classification", err);
	sqlite3_finalize(s);
	*rose = !st;
	return st;
}

veil_status veil_catalog_dataset_raise_class(veil_catalog *c, const char *name, const char *cls,
                                             bool *changed, veil_err *err)
{
	if (changed)
		*changed = false;
	veil_status st = check_name(name, err);
	if (st)
		return st;
	int rank = cls ? class_rank(cls) : -1;
	if (rank < 0)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "classification must be public, internal, confidential or restricted");
	bool own, rose = false;
	if ((st = vcat_tx_begin(c, &own, err)))
		return st;
	st = raise_in_tx(c, name, rank, &rose, err);
	if ((st = vcat_tx_end(c, own, st, err)))
		return st;
	if (changed)
		*changed = rose;
	return VEIL_OK;
}

void veil_dataset_version_free(veil_dataset_version *v)
{
	if (!v)
		return;
	free(v->tags);
	memset(v, 0, sizeof *v);
}

/* ---- references ---- */

static veil_status bad_ref(const char *ref, const char *why, veil_err *err)
{
	veil_err_set(err, VEIL_E_INVALID, "'%.80s' is not a dataset reference: %s", ref, why);
	veil_err_hint(err, "write name for the latest version or name@N (N = 1, 2, ...) for one version");
	return VEIL_E_INVALID;
}

veil_status veil_catalog_parse_ref(const char *ref, char name[VEIL_CATALOG_NAME_MAX], uint32_t *version,
                                   veil_err *err)
{
	name[0] = '\0';
	*version = 0;
	if (!ref)
		return veil_err_set(err, VEIL_E_INVALID, "no dataset reference given");
	const char *at = strchr(ref, '@');
	size_t n = at ? (size_t)(at - ref) : strnlen(ref, VEIL_CATALOG_NAME_MAX);
	if (n == 0)
		return bad_ref(ref, "the name is missing", err);
	if (n >= VEIL_CATALOG_NAME_MAX)
		return bad_ref(ref, "the name is longer than 64 characters", err);
	char tmp[VEIL_CATALOG_NAME_MAX];
	memcpy(tmp, ref, n);
	tmp[n] = '\0';
	veil_status st = veil_name_check(tmp, "dataset name", err);
	if (st)
		return st;
	uint64_t v = 0;
	if (at) {
		const char *p = at + 1;
		if (*p == '\0')
			return bad_ref(ref, "the version after '@' is missing", err);
		if (*p == '0')
			return bad_ref(ref, "versions count from 1 and have no leading zeros", err);
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return bad_ref(ref, "the version must be a whole number", err);
			v = v * 10 + (uint64_t)(*p - '0');
			if (v > UINT32_MAX)
				return bad_ref(ref, "the version number is too large", err);
		}
	}
	memcpy(name, tmp, n + 1);
	*version = (uint32_t)v;
	return VEIL_OK;
}
