/* What the catalog's test files share: a fresh catalog in a scratch
 * folder per test, raw SQL on the file as someone outside veil would run
 * it, and a dataset version with made-up hashes. */
#ifndef VEIL_TEST_CATALOG_FIXTURE_H
#define VEIL_TEST_CATALOG_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "../common/scratch.h"
#include "veil/catalog.h"

typedef struct fixture {
	char dir[64];
	char path[128];
	veil_catalog *c;
} fixture;

static inline int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/veil-catalog-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof f->path, "%s/catalog.db", f->dir);
	if (veil_catalog_open(f->path, true, &f->c, NULL) != VEIL_OK)
		return -1;
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	fixture *f = *state;
	veil_catalog_close(f->c);
	scratch_remove(f->dir);
	free(f);
	return 0;
}

/* Runs SQL on the file directly, as someone outside veil would. */
static inline void raw_sql(const char *path, const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
	sqlite3_close(db);
}

static inline int64_t raw_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* The text of one value; the caller frees it. */
static inline char *raw_text(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	const unsigned char *t = sqlite3_column_text(s, 0);
	assert_non_null(t);
	char *out = strdup((const char *)t);
	assert_non_null(out);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return out;
}

/* Every object of the schema with its SQL, in name order: two catalogs
 * with the same text have the same tables, columns, checks and indexes. */
#define SCHEMA_TEXT_WHERE(cond)                                                                              \
	"SELECT group_concat(type || ' ' || name || ': ' || coalesce(sql, ''), char(10)) FROM "              \
	"(SELECT * FROM sqlite_schema WHERE " cond " ORDER BY name)"
#define SCHEMA_TEXT SCHEMA_TEXT_WHERE("1")

static inline void hex_of(unsigned seed, char out[VEIL_CATALOG_HEX_MAX])
{
	for (int i = 0; i < 64; i++)
		out[i] = "0123456789abcdef"[(seed * 7u + (unsigned)i * 13u) % 16u];
	out[64] = '\0';
}

static inline veil_dataset_version make(const char *name, const char *owner, const char *cls, unsigned seed)
{
	veil_dataset_version v;
	memset(&v, 0, sizeof v);
	snprintf(v.name, sizeof v.name, "%s", name);
	snprintf(v.owner, sizeof v.owner, "%s", owner);
	snprintf(v.classification, sizeof v.classification, "%s", cls);
	v.size = 1000u + seed;
	hex_of(seed, v.sha256);
	hex_of(seed + 1000, v.object_id);
	snprintf(v.dek_id, sizeof v.dek_id, "dek-%u", seed);
	snprintf(v.kek, sizeof v.kek, "hospital-kek");
	v.chunk_size = 65536;
	snprintf(v.created_by, sizeof v.created_by, "alice");
	return v;
}

#endif
