/* Unit tests for the catalog's identity and access records (schema step
 * 4): compartments and their paths (depth limit, corrupt parent chains),
 * principals, groups and membership (the 64-group bound), token records,
 * versioned policy texts, the compartment and region of datasets, and the
 * migration of a version-3 catalog, built here from the frozen SQL of
 * steps 1 to 3 (frozen.h) exactly as a veil of that version wrote it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fixture.h"
#include "frozen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "veil/catalog.h"

static veil_principal person(const char *name, const char *kind)
{
	veil_principal p;
	memset(&p, 0, sizeof p);
	snprintf(p.name, sizeof p.name, "%s", name);
	snprintf(p.kind, sizeof p.kind, "%s", kind);
	snprintf(p.created_by, sizeof p.created_by, "admin");
	return p;
}

static void add_person(veil_catalog *c, const char *name)
{
	veil_principal p = person(name, "user");
	veil_err e;
	if (veil_catalog_principal_create(c, &p, &e) != VEIL_OK)
		fail_msg("principal %s: %s", name, e.msg);
}

/* ---- the schema step ---- */

static void test_tenancy(void **state)
{
	fixture *f = *state;
	veil_err e;
	veil_compartment t;
	assert_int_equal(veil_catalog_compartment_get(f->c, VEIL_CATALOG_TENANCY, &t, &e), VEIL_OK);
	assert_string_equal(t.name, "tenancy");
	assert_string_equal(t.parent, "");
	assert_string_equal(t.description, "the root compartment");
	assert_string_equal(t.created_by, "veil");
	assert_true(t.created > 1600000000);
	char path[VEIL_CATALOG_COMPARTMENT_DEPTH][VEIL_CATALOG_NAME_MAX];
	size_t n = 99;
	assert_int_equal(veil_catalog_compartment_path(f->c, "tenancy", path, &n, &e), VEIL_OK);
	assert_int_equal(n, 1);
	assert_string_equal(path[0], "tenancy");
	uint64_t count = 99;
	assert_int_equal(veil_catalog_principal_count(f->c, &count, &e), VEIL_OK);
	assert_int_equal(count, 0);
	/* the schema refuses what the code refuses, for rows written around it */
	assert_int_equal(raw_int(f->path,
	                         "SELECT count(*) FROM pragma_table_list WHERE strict = 1 AND name IN "
	                         "('compartments', 'principals', 'groups', 'group_members', 'tokens', "
	                         "'policies', 'key_compartments')"),
	                 7);
}

/* Steps 1 to 3 exactly as schema.c has them (frozen.h), so this is the
 * catalog a version-3 veil left behind. */
static const char v3_schema[] = FROZEN_STEP_1 FROZEN_STEP_2 FROZEN_STEP_3
        "INSERT INTO schema_migrations (version, description, applied) VALUES " FROZEN_RECORD_1
        ", " FROZEN_RECORD_2 ", " FROZEN_RECORD_3 ";";

static const char v3_rows[] =
        "INSERT INTO datasets (id, name, owner, classification, created) VALUES"
        "  (1, 'patients', 'alice', 'confidential', 1700000000);"
        "INSERT INTO dataset_versions (id, dataset_id, version, size, sha256, object_id, dek_id, kek,"
        "  chunk_size, created, created_by, state) VALUES"
        "  (1, 1, 1, 10, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',"
        "   'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'dek-1', 'kek', 65536,"
        "   1700000000, 'alice', 'live');"
        "INSERT INTO dataset_tags (version_id, key, value) VALUES (1, 'source', 'ward 7');"
        "INSERT INTO lineage_nodes (id, kind, ref) VALUES (1, 'dataset_version', 'patients@1'), (2, 'file', "
        "'x');"
        "INSERT INTO lineage_edges (from_node, to_node, relation, created) VALUES (1, 2, 'uploaded_from', "
        "1);";

static void test_migration_from_v3(void **state)
{
	fixture *f = *state;
	veil_err e;
	char old[160];
	snprintf(old, sizeof old, "%s/v3.db", f->dir);
	raw_sql(old, v3_schema);
	raw_sql(old, v3_rows);
	assert_int_equal(raw_int(old, "SELECT count(*) FROM sqlite_schema WHERE name = 'compartments'"), 0);

	veil_catalog *c;
	assert_int_equal(veil_catalog_open(old, false, &c, &e), VEIL_OK);
	uint32_t version = 0;
	assert_int_equal(veil_catalog_schema_version(c, &version, &e), VEIL_OK);
	assert_int_equal(version, VEIL_CATALOG_SCHEMA_VERSION);
	assert_int_equal(veil_catalog_integrity_check(c, &e), VEIL_OK);

	/* the old rows are all there, the dataset now in tenancy, region unrecorded */
	veil_dataset_version got;
	assert_int_equal(veil_catalog_dataset_get(c, "patients", 1, &got, &e), VEIL_OK);
	assert_string_equal(got.owner, "alice");
	assert_string_equal(got.compartment, "tenancy");
	assert_string_equal(got.region, "");
	assert_int_equal(got.ntags, 1);
	assert_string_equal(got.tags[0].value, "ward 7");
	veil_dataset_version_free(&got);
	assert_int_equal(raw_int(old, "SELECT count(*) FROM lineage_edges"), 1);

	/* a version-3 dataset takes new versions; it cannot be moved by one */
	veil_dataset_version v = make("patients", "", "", 2);
	assert_int_equal(veil_catalog_dataset_add_version(c, &v, &e), VEIL_OK);
	assert_int_equal(v.version, 2);
	assert_string_equal(v.compartment, "tenancy");
	assert_string_equal(v.region, "");
	v = make("patients", "", "", 3);
	snprintf(v.region, sizeof v.region, "eu-west");
	assert_int_equal(veil_catalog_dataset_add_version(c, &v, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "(not recorded)"));

	/* the new tables work */
	veil_compartment t;
	assert_int_equal(veil_catalog_compartment_get(c, "tenancy", &t, &e), VEIL_OK);
	add_person(c, "alice");
	assert_int_equal(veil_catalog_group_create(c, "admins", "alice", &e), VEIL_OK);
	assert_int_equal(veil_catalog_group_add(c, "admins", "alice", &e), VEIL_OK);
	veil_catalog_close(c);

	/* and the migrated schema is the one a new catalog gets, object for object */
	char *migrated = raw_text(old, SCHEMA_TEXT);
	char *fresh = raw_text(f->path, SCHEMA_TEXT);
	assert_string_equal(migrated, fresh);
	assert_non_null(strstr(fresh, "region TEXT NOT NULL DEFAULT ''"));
	free(migrated);
	free(fresh);
	/* reopening applies nothing twice */
	assert_int_equal(veil_catalog_open(old, false, &c, &e), VEIL_OK);
	veil_catalog_close(c);
	assert_int_equal(raw_int(old, "SELECT count(*) FROM schema_migrations"), VEIL_CATALOG_SCHEMA_VERSION);
	assert_int_equal(raw_int(old, "SELECT count(*) FROM compartments"), 1);
}

/* ---- compartments ---- */

typedef struct names {
	char v[80][VEIL_CATALOG_NAME_MAX];
	size_t n;
} names;

static veil_status collect_compartment(void *ctx, const veil_compartment *c, veil_err *err)
{
	names *x = ctx;
	if (x->n == 80)
		return veil_err_set(err, VEIL_E_LIMIT, "too many");
	memcpy(x->v[x->n++], c->name, VEIL_CATALOG_NAME_MAX);
	return VEIL_OK;
}

static void test_compartments(void **state)
{
	fixture *f = *state;
	veil_err e;
	assert_int_equal(
	        veil_catalog_compartment_create(f->c, "oncology", "tenancy", "cancer research", "admin", &e),
	        VEIL_OK);
	assert_int_equal(veil_catalog_compartment_create(f->c, "trials", "oncology", NULL, "admin", &e),
	                 VEIL_OK);
	assert_int_equal(veil_catalog_compartment_create(f->c, "phase-2", "trials", "", "bob", &e), VEIL_OK);
	assert_int_equal(veil_catalog_compartment_create(f->c, "cardiology", "tenancy", NULL, "admin", &e),
	                 VEIL_OK);

	/* the path of a 3-deep tree below tenancy, root first */
	char path[VEIL_CATALOG_COMPARTMENT_DEPTH][VEIL_CATALOG_NAME_MAX];
	size_t n = 0;
	assert_int_equal(veil_catalog_compartment_path(f->c, "phase-2", path, &n, &e), VEIL_OK);
	assert_int_equal(n, 4);
	assert_string_equal(path[0], "tenancy");
	assert_string_equal(path[1], "oncology");
	assert_string_equal(path[2], "trials");
	assert_string_equal(path[3], "phase-2");
	assert_int_equal(veil_catalog_compartment_path(f->c, "trials", path, &n, &e), VEIL_OK);
	assert_int_equal(n, 3);
	assert_string_equal(path[1], "oncology");
	assert_string_equal(path[2], "trials");
	assert_int_equal(veil_catalog_compartment_path(f->c, "nowhere", path, &n, &e), VEIL_E_NOTFOUND);
	assert_int_equal(n, 0);
	assert_int_equal(veil_catalog_compartment_path(f->c, "bad name", path, &n, &e), VEIL_E_INVALID);

	veil_compartment got;
	assert_int_equal(veil_catalog_compartment_get(f->c, "oncology", &got, &e), VEIL_OK);
	assert_string_equal(got.parent, "tenancy");
	assert_string_equal(got.description, "cancer research");
	assert_string_equal(got.created_by, "admin");
	assert_true(got.created > 1600000000);
	assert_int_equal(veil_catalog_compartment_get(f->c, "trials", &got, &e), VEIL_OK);
	assert_string_equal(got.description, "");
	assert_int_equal(veil_catalog_compartment_get(f->c, "nowhere", &got, &e), VEIL_E_NOTFOUND);
	assert_string_equal(e.msg, "no compartment named nowhere");
	assert_non_null(strstr(e.hint, "veil compartment create"));
	assert_string_equal(got.name, "");

	/* errors */
	assert_int_equal(veil_catalog_compartment_create(f->c, "x", "nowhere", NULL, "admin", &e),
	                 VEIL_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "nowhere"));
	assert_int_equal(veil_catalog_compartment_create(f->c, "trials", "cardiology", NULL, "admin", &e),
	                 VEIL_E_EXISTS);
	assert_int_equal(veil_catalog_compartment_create(f->c, "tenancy", "oncology", NULL, "admin", &e),
	                 VEIL_E_EXISTS);
	assert_int_equal(veil_catalog_compartment_create(f->c, "a/b", "tenancy", NULL, "admin", &e),
	                 VEIL_E_INVALID);
	assert_int_equal(veil_catalog_compartment_create(f->c, NULL, "tenancy", NULL, "admin", &e),
	                 VEIL_E_INVALID);
	assert_int_equal(veil_catalog_compartment_create(f->c, "x", NULL, NULL, "admin", &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_compartment_create(f->c, "x", "tenancy", NULL, "", &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_compartment_create(f->c, "x", "tenancy", "tab\there", "admin", &e),
	                 VEIL_E_INVALID);
	assert_int_equal(veil_catalog_compartment_create(f->c, "x", "tenancy", "caf\xc3\xa9", "admin", &e),
	                 VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "printable ASCII"));
	char desc[VEIL_CATALOG_DESCRIPTION_MAX + 1];
	memset(desc, 'd', sizeof desc - 1);
	desc[VEIL_CATALOG_DESCRIPTION_MAX] = '\0'; /* 257 characters */
	assert_int_equal(veil_catalog_compartment_create(f->c, "x", "tenancy", desc, "admin", &e),
	                 VEIL_E_INVALID);
	desc[VEIL_CATALOG_DESCRIPTION_MAX - 1] = '\0'; /* 256: the most allowed */
	assert_int_equal(veil_catalog_compartment_create(f->c, "x", "tenancy", desc, "admin", &e), VEIL_OK);
	assert_int_equal(veil_catalog_compartment_get(f->c, "x", &got, &e), VEIL_OK);
	assert_string_equal(got.description, desc);

	names x = {0};
	assert_int_equal(veil_catalog_compartment_list(f->c, collect_compartment, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 6);
	const char *want[] = {"cardiology", "oncology", "phase-2", "tenancy", "trials", "x"};
	for (size_t i = 0; i < 6; i++)
		assert_string_equal(x.v[i], want[i]);
}

static void test_compartment_depth(void **state)
{
	fixture *f = *state;
	veil_err e;
	char parent[VEIL_CATALOG_NAME_MAX] = "tenancy", name[VEIL_CATALOG_NAME_MAX];
	/* tenancy is level 1: levels 2..16 may be made */
	for (int level = 2; level <= VEIL_CATALOG_COMPARTMENT_DEPTH; level++) {
		snprintf(name, sizeof name, "level-%d", level);
		if (veil_catalog_compartment_create(f->c, name, parent, NULL, "admin", &e) != VEIL_OK)
			fail_msg("level %d: %s", level, e.msg);
		memcpy(parent, name, sizeof name);
	}
	assert_int_equal(veil_catalog_compartment_create(f->c, "level-17", parent, NULL, "admin", &e),
	                 VEIL_E_LIMIT);
	assert_non_null(strstr(e.msg, "17 levels"));
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM compartments"),
	                 VEIL_CATALOG_COMPARTMENT_DEPTH);
	char path[VEIL_CATALOG_COMPARTMENT_DEPTH][VEIL_CATALOG_NAME_MAX];
	size_t n = 0;
	assert_int_equal(veil_catalog_compartment_path(f->c, "level-16", path, &n, &e), VEIL_OK);
	assert_int_equal(n, VEIL_CATALOG_COMPARTMENT_DEPTH);
	assert_string_equal(path[0], "tenancy");
	assert_string_equal(path[1], "level-2");
	assert_string_equal(path[15], "level-16");
	/* a sibling higher up is still fine */
	assert_int_equal(veil_catalog_compartment_create(f->c, "side", "level-15", NULL, "admin", &e),
	                 VEIL_OK);
}

/* Parent chains broken outside veil are reported, never walked forever. */
static void test_compartment_corrupt(void **state)
{
	fixture *f = *state;
	veil_err e;
	char path[VEIL_CATALOG_COMPARTMENT_DEPTH][VEIL_CATALOG_NAME_MAX];
	size_t n = 7;
	raw_sql(f->path, "INSERT INTO compartments (name, parent, created, created_by) VALUES "
	                 "('loop-a', 'tenancy', 1, 'x'), ('loop-b', 'loop-a', 1, 'x');"
	                 "UPDATE compartments SET parent = 'loop-b' WHERE name = 'loop-a';"
	                 "PRAGMA foreign_keys = OFF;"
	                 "INSERT INTO compartments (name, parent, created, created_by) VALUES "
	                 "('orphan', 'gone', 1, 'x'), ('self', 'tenancy', 1, 'x');"
	                 "PRAGMA ignore_check_constraints = ON;"
	                 "UPDATE compartments SET parent = 'self' WHERE name = 'self';"
	                 "INSERT INTO compartments (name, parent, created, created_by) VALUES ('root2', "
	                 "NULL, 1, 'x')");
	assert_int_equal(veil_catalog_compartment_path(f->c, "loop-a", path, &n, &e), VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "cycle"));
	assert_int_equal(n, 0);
	assert_int_equal(veil_catalog_compartment_path(f->c, "self", path, &n, &e), VEIL_E_CORRUPT);
	assert_int_equal(veil_catalog_compartment_path(f->c, "orphan", path, &n, &e), VEIL_E_CORRUPT);
	assert_int_equal(veil_catalog_compartment_path(f->c, "root2", path, &n, &e), VEIL_E_CORRUPT);
	/* and nothing is made below them */
	assert_int_equal(veil_catalog_compartment_create(f->c, "child", "loop-b", NULL, "admin", &e),
	                 VEIL_E_CORRUPT);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM compartments WHERE name = 'child'"), 0);
}

/* ---- principals ---- */

typedef struct people {
	veil_principal v[8];
	size_t n;
} people;

static veil_status collect_principal(void *ctx, const veil_principal *p, veil_err *err)
{
	people *x = ctx;
	if (x->n == 8)
		return veil_err_set(err, VEIL_E_LIMIT, "too many");
	x->v[x->n++] = *p;
	return VEIL_OK;
}

static void test_principals(void **state)
{
	fixture *f = *state;
	veil_err e;
	veil_principal alice = person("alice", "user");
	assert_int_equal(veil_catalog_principal_create(f->c, &alice, &e), VEIL_OK);
	veil_principal w = person("trainer-1", "worker");
	snprintf(w.region, sizeof w.region, "eu-west");
	w.created = 1700000000;
	w.disabled = true; /* ignored on create */
	assert_int_equal(veil_catalog_principal_create(f->c, &w, &e), VEIL_OK);
	veil_principal ep = person("scoring", "endpoint"), fc = person("hospital-b", "federated-client");
	assert_int_equal(veil_catalog_principal_create(f->c, &ep, &e), VEIL_OK);
	assert_int_equal(veil_catalog_principal_create(f->c, &fc, &e), VEIL_OK);

	veil_principal got;
	assert_int_equal(veil_catalog_principal_get(f->c, "trainer-1", &got, &e), VEIL_OK);
	assert_string_equal(got.kind, "worker");
	assert_string_equal(got.region, "eu-west");
	assert_int_equal(got.created, 1700000000);
	assert_false(got.disabled);
	assert_int_equal(got.disabled_at, 0);
	assert_string_equal(got.created_by, "admin");
	assert_int_equal(veil_catalog_principal_get(f->c, "alice", &got, &e), VEIL_OK);
	assert_true(got.created > 1700000000); /* 0 = now */
	assert_string_equal(got.region, "");
	assert_int_equal(veil_catalog_principal_get(f->c, "nobody", &got, &e), VEIL_E_NOTFOUND);
	assert_string_equal(e.msg, "no principal named nobody");
	assert_string_equal(got.name, "");

	/* errors */
	veil_principal bad = person("alice", "worker");
	assert_int_equal(veil_catalog_principal_create(f->c, &bad, &e), VEIL_E_EXISTS);
	const char *kinds[] = {"admin", "User", "", "service", "federated"};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		bad = person("bob", kinds[i]);
		assert_int_equal(veil_catalog_principal_create(f->c, &bad, &e), VEIL_E_INVALID);
	}
	bad = person("bo b", "user");
	assert_int_equal(veil_catalog_principal_create(f->c, &bad, &e), VEIL_E_INVALID);
	bad = person("bob", "user");
	snprintf(bad.region, sizeof bad.region, "eu west");
	assert_int_equal(veil_catalog_principal_create(f->c, &bad, &e), VEIL_E_INVALID);
	bad = person("bob", "user");
	bad.created_by[0] = '\0';
	assert_int_equal(veil_catalog_principal_create(f->c, &bad, &e), VEIL_E_INVALID);
	bad = person("bob", "user");
	memset(bad.name, 'b', sizeof bad.name); /* not terminated */
	assert_int_equal(veil_catalog_principal_create(f->c, &bad, &e), VEIL_E_INVALID);
	bad = person("bob", "user");
	bad.created = -5;
	assert_int_equal(veil_catalog_principal_create(f->c, &bad, &e), VEIL_E_INVALID);

	uint64_t count = 0;
	assert_int_equal(veil_catalog_principal_count(f->c, &count, &e), VEIL_OK);
	assert_int_equal(count, 4);

	/* disable: once, for good; again is fine and keeps the first time */
	assert_int_equal(veil_catalog_principal_disable(f->c, "scoring", &e), VEIL_OK);
	assert_int_equal(veil_catalog_principal_get(f->c, "scoring", &got, &e), VEIL_OK);
	assert_true(got.disabled);
	assert_true(got.disabled_at > 1700000000);
	raw_sql(f->path, "UPDATE principals SET disabled_at = 1234 WHERE name = 'scoring'");
	assert_int_equal(veil_catalog_principal_disable(f->c, "scoring", &e), VEIL_OK);
	assert_int_equal(veil_catalog_principal_get(f->c, "scoring", &got, &e), VEIL_OK);
	assert_int_equal(got.disabled_at, 1234);
	assert_int_equal(veil_catalog_principal_disable(f->c, "nobody", &e), VEIL_E_NOTFOUND);
	assert_int_equal(veil_catalog_principal_disable(f->c, "", &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_principal_count(f->c, &count, &e), VEIL_OK);
	assert_int_equal(count, 4); /* disabled ones count */

	people x = {0};
	assert_int_equal(veil_catalog_principal_list(f->c, collect_principal, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 4);
	assert_string_equal(x.v[0].name, "alice");
	assert_string_equal(x.v[1].name, "hospital-b");
	assert_string_equal(x.v[1].kind, "federated-client");
	assert_string_equal(x.v[2].name, "scoring");
	assert_true(x.v[2].disabled);
	assert_string_equal(x.v[3].name, "trainer-1");

	/* a kind the schema never allowed is not guessed at */
	raw_sql(f->path, "PRAGMA ignore_check_constraints = ON; UPDATE principals SET kind = 'root' "
	                 "WHERE name = 'alice'");
	assert_int_equal(veil_catalog_principal_get(f->c, "alice", &got, &e), VEIL_E_CORRUPT);
	assert_string_equal(got.kind, "");
}

/* ---- groups ---- */

typedef struct gnames {
	char v[8][VEIL_CATALOG_NAME_MAX];
	veil_group g[8];
	size_t n;
} gnames;

static veil_status collect_name(void *ctx, const char *name, veil_err *err)
{
	gnames *x = ctx;
	if (x->n == 8)
		return veil_err_set(err, VEIL_E_LIMIT, "too many");
	snprintf(x->v[x->n++], VEIL_CATALOG_NAME_MAX, "%s", name);
	return VEIL_OK;
}

static veil_status collect_group(void *ctx, const veil_group *g, veil_err *err)
{
	gnames *x = ctx;
	if (x->n == 8)
		return veil_err_set(err, VEIL_E_LIMIT, "too many");
	x->g[x->n++] = *g;
	return VEIL_OK;
}

static void test_groups(void **state)
{
	fixture *f = *state;
	veil_err e;
	add_person(f->c, "alice");
	add_person(f->c, "bob");
	add_person(f->c, "carol");
	assert_int_equal(veil_catalog_group_create(f->c, "scientists", "admin", &e), VEIL_OK);
	assert_int_equal(veil_catalog_group_create(f->c, "auditors", "admin", &e), VEIL_OK);
	assert_int_equal(veil_catalog_group_create(f->c, "scientists", "admin", &e), VEIL_E_EXISTS);
	assert_int_equal(veil_catalog_group_create(f->c, "no way", "admin", &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_group_create(f->c, "x", NULL, &e), VEIL_E_INVALID);

	assert_int_equal(veil_catalog_group_add(f->c, "scientists", "carol", &e), VEIL_OK);
	assert_int_equal(veil_catalog_group_add(f->c, "scientists", "alice", &e), VEIL_OK);
	assert_int_equal(veil_catalog_group_add(f->c, "auditors", "alice", &e), VEIL_OK);
	assert_int_equal(veil_catalog_group_add(f->c, "scientists", "alice", &e), VEIL_E_EXISTS);
	assert_int_equal(veil_catalog_group_add(f->c, "nosuch", "alice", &e), VEIL_E_NOTFOUND);
	assert_string_equal(e.msg, "no group named nosuch");
	assert_int_equal(veil_catalog_group_add(f->c, "scientists", "mallory", &e), VEIL_E_NOTFOUND);
	assert_string_equal(e.msg, "no principal named mallory");
	assert_int_equal(veil_catalog_group_remove(f->c, "auditors", "bob", &e), VEIL_E_NOTFOUND);
	assert_string_equal(e.msg, "principal bob is not in group auditors");
	assert_int_equal(veil_catalog_group_remove(f->c, "nosuch", "bob", &e), VEIL_E_NOTFOUND);
	assert_int_equal(veil_catalog_group_remove(f->c, "auditors", "mallory", &e), VEIL_E_NOTFOUND);

	veil_group g;
	assert_int_equal(veil_catalog_group_get(f->c, "scientists", &g, &e), VEIL_OK);
	assert_int_equal(g.members, 2);
	assert_string_equal(g.created_by, "admin");
	assert_true(g.created > 1600000000);
	assert_int_equal(veil_catalog_group_get(f->c, "nosuch", &g, &e), VEIL_E_NOTFOUND);

	char groups[VEIL_CATALOG_GROUPS_PER_PRINCIPAL][VEIL_CATALOG_NAME_MAX];
	size_t n = 99;
	assert_int_equal(veil_catalog_groups_of(f->c, "alice", groups, &n, &e), VEIL_OK);
	assert_int_equal(n, 2);
	assert_string_equal(groups[0], "auditors");
	assert_string_equal(groups[1], "scientists");
	assert_int_equal(veil_catalog_groups_of(f->c, "bob", groups, &n, &e), VEIL_OK);
	assert_int_equal(n, 0);
	assert_int_equal(veil_catalog_groups_of(f->c, "mallory", groups, &n, &e), VEIL_E_NOTFOUND);

	gnames x = {0};
	assert_int_equal(veil_catalog_group_members(f->c, "scientists", collect_name, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 2);
	assert_string_equal(x.v[0], "alice");
	assert_string_equal(x.v[1], "carol");
	assert_int_equal(veil_catalog_group_members(f->c, "nosuch", collect_name, &x, &e), VEIL_E_NOTFOUND);

	assert_int_equal(veil_catalog_group_remove(f->c, "scientists", "alice", &e), VEIL_OK);
	assert_int_equal(veil_catalog_group_remove(f->c, "scientists", "alice", &e), VEIL_E_NOTFOUND);
	memset(&x, 0, sizeof x);
	assert_int_equal(veil_catalog_group_list(f->c, collect_group, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 2);
	assert_string_equal(x.g[0].name, "auditors");
	assert_int_equal(x.g[0].members, 1);
	assert_string_equal(x.g[1].name, "scientists");
	assert_int_equal(x.g[1].members, 1);
}

static void test_group_limit(void **state)
{
	fixture *f = *state;
	veil_err e;
	add_person(f->c, "busy");
	char name[VEIL_CATALOG_NAME_MAX];
	for (int i = 0; i <= VEIL_CATALOG_GROUPS_PER_PRINCIPAL; i++) {
		snprintf(name, sizeof name, "g%03d", i);
		assert_int_equal(veil_catalog_group_create(f->c, name, "admin", &e), VEIL_OK);
		veil_status st = veil_catalog_group_add(f->c, name, "busy", &e);
		assert_int_equal(st, i < VEIL_CATALOG_GROUPS_PER_PRINCIPAL ? VEIL_OK : VEIL_E_LIMIT);
	}
	assert_non_null(strstr(e.msg, "64 groups"));
	char groups[VEIL_CATALOG_GROUPS_PER_PRINCIPAL][VEIL_CATALOG_NAME_MAX];
	size_t n = 0;
	assert_int_equal(veil_catalog_groups_of(f->c, "busy", groups, &n, &e), VEIL_OK);
	assert_int_equal(n, VEIL_CATALOG_GROUPS_PER_PRINCIPAL);
	assert_string_equal(groups[0], "g000");
	assert_string_equal(groups[63], "g063");
	/* leaving one group makes room for another */
	assert_int_equal(veil_catalog_group_remove(f->c, "g000", "busy", &e), VEIL_OK);
	assert_int_equal(veil_catalog_group_add(f->c, "g064", "busy", &e), VEIL_OK);
	/* more rows than the bound, written outside veil: refused, not cut short */
	raw_sql(f->path,
	        "INSERT INTO group_members (group_name, principal, added) VALUES ('g000', 'busy', 1)");
	assert_int_equal(veil_catalog_groups_of(f->c, "busy", groups, &n, &e), VEIL_E_CORRUPT);
	assert_int_equal(n, 0);
}

/* ---- tokens ---- */

typedef struct tokens {
	veil_token_info v[8];
	size_t n;
} tokens;

static veil_status collect_token(void *ctx, const veil_token_info *t, veil_err *err)
{
	tokens *x = ctx;
	if (x->n == 8)
		return veil_err_set(err, VEIL_E_LIMIT, "too many");
	x->v[x->n++] = *t;
	return VEIL_OK;
}

static veil_token_info token(const char *id, const char *principal, uint8_t fill)
{
	veil_token_info t;
	memset(&t, 0, sizeof t);
	snprintf(t.id, sizeof t.id, "%s", id);
	snprintf(t.principal, sizeof t.principal, "%s", principal);
	for (size_t i = 0; i < sizeof t.hash; i++)
		t.hash[i] = (uint8_t)(fill + i);
	snprintf(t.label, sizeof t.label, "laptop");
	snprintf(t.created_by, sizeof t.created_by, "admin");
	return t;
}

static void test_tokens(void **state)
{
	fixture *f = *state;
	veil_err e;
	add_person(f->c, "alice");
	add_person(f->c, "bob");
	veil_token_info t1 = token("00000000000000ff", "alice", 1), t2 = token("0123456789abcdef", "bob", 2),
	                t3 = token("a000000000000000", "alice", 3);
	t2.created = 1700000000;
	t2.expires = 1700086400;
	t3.label[0] = '\0';
	t3.revoked = 99; /* ignored on add */
	assert_int_equal(veil_catalog_token_add(f->c, &t1, &e), VEIL_OK);
	assert_int_equal(veil_catalog_token_add(f->c, &t2, &e), VEIL_OK);
	assert_int_equal(veil_catalog_token_add(f->c, &t3, &e), VEIL_OK);

	veil_token_info got;
	assert_int_equal(veil_catalog_token_get(f->c, "0123456789abcdef", &got, &e), VEIL_OK);
	assert_string_equal(got.principal, "bob");
	assert_memory_equal(got.hash, t2.hash, sizeof got.hash);
	assert_string_equal(got.label, "laptop");
	assert_int_equal(got.created, 1700000000);
	assert_int_equal(got.expires, 1700086400);
	assert_int_equal(got.revoked, 0);
	assert_string_equal(got.created_by, "admin");
	assert_int_equal(veil_catalog_token_get(f->c, "a000000000000000", &got, &e), VEIL_OK);
	assert_int_equal(got.expires, 0);
	assert_int_equal(got.revoked, 0);
	assert_string_equal(got.label, "");
	assert_true(got.created > 1700000000);
	assert_int_equal(veil_catalog_token_get(f->c, "ffffffffffffffff", &got, &e), VEIL_E_NOTFOUND);
	assert_string_equal(got.id, "");

	/* errors */
	veil_token_info bad = token("1111111111111111", "mallory", 4);
	assert_int_equal(veil_catalog_token_add(f->c, &bad, &e), VEIL_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "mallory"));
	bad = token("00000000000000ff", "bob", 4);
	assert_int_equal(veil_catalog_token_add(f->c, &bad, &e), VEIL_E_EXISTS);
	const char *ids[] = {"00000000000000FF", "00000000000000f", "00000000000000fff", "00000000000000fg",
	                     ""};
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		bad = token(ids[i], "bob", 4); /* the 17-digit id is cut to a valid one here */
		if (strlen(ids[i]) < sizeof bad.id)
			assert_int_equal(veil_catalog_token_add(f->c, &bad, &e), VEIL_E_INVALID);
		assert_int_equal(veil_catalog_token_get(f->c, ids[i], &got, &e), VEIL_E_INVALID);
		assert_int_equal(veil_catalog_token_revoke(f->c, ids[i], &e), VEIL_E_INVALID);
	}
	assert_int_equal(veil_catalog_token_get(f->c, NULL, &got, &e), VEIL_E_INVALID);
	bad = token("1111111111111111", "bob", 4);
	memset(bad.id, '1', sizeof bad.id); /* not terminated */
	assert_int_equal(veil_catalog_token_add(f->c, &bad, &e), VEIL_E_INVALID);
	bad = token("1111111111111111", "bob", 4);
	snprintf(bad.label, sizeof bad.label, "caf\xc3\xa9");
	assert_int_equal(veil_catalog_token_add(f->c, &bad, &e), VEIL_E_INVALID);
	memset(bad.label, 'l', sizeof bad.label); /* 65 characters: not terminated */
	assert_int_equal(veil_catalog_token_add(f->c, &bad, &e), VEIL_E_INVALID);
	bad.label[VEIL_CATALOG_TOKEN_LABEL_MAX - 1] = '\0'; /* 64: the most allowed */
	bad.created = 1700000000;
	bad.expires = 1700000000; /* not after it was issued */
	assert_int_equal(veil_catalog_token_add(f->c, &bad, &e), VEIL_E_INVALID);
	bad.expires = -1;
	assert_int_equal(veil_catalog_token_add(f->c, &bad, &e), VEIL_E_INVALID);
	bad.expires = 1700000001;
	bad.created_by[0] = '\0';
	assert_int_equal(veil_catalog_token_add(f->c, &bad, &e), VEIL_E_INVALID);
	snprintf(bad.created_by, sizeof bad.created_by, "admin");
	assert_int_equal(veil_catalog_token_add(f->c, &bad, &e), VEIL_OK);
	assert_int_equal(veil_catalog_token_get(f->c, "1111111111111111", &got, &e), VEIL_OK);
	assert_int_equal(strlen(got.label), 64);

	/* lists: every token, or one principal's, in id order */
	tokens x = {0};
	assert_int_equal(veil_catalog_token_list(f->c, NULL, collect_token, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 4);
	assert_string_equal(x.v[0].id, "00000000000000ff");
	assert_string_equal(x.v[1].id, "0123456789abcdef");
	assert_string_equal(x.v[2].id, "1111111111111111");
	assert_string_equal(x.v[3].id, "a000000000000000");
	memset(&x, 0, sizeof x);
	assert_int_equal(veil_catalog_token_list(f->c, "alice", collect_token, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 2);
	assert_string_equal(x.v[0].id, "00000000000000ff");
	assert_string_equal(x.v[1].id, "a000000000000000");
	assert_memory_equal(x.v[1].hash, t3.hash, sizeof t3.hash);
	assert_int_equal(veil_catalog_token_list(f->c, "mallory", collect_token, &x, &e), VEIL_E_NOTFOUND);

	/* revoke: once; again is fine and keeps the first time */
	assert_int_equal(veil_catalog_token_revoke(f->c, "00000000000000ff", &e), VEIL_OK);
	assert_int_equal(veil_catalog_token_get(f->c, "00000000000000ff", &got, &e), VEIL_OK);
	assert_true(got.revoked > 1700000000);
	raw_sql(f->path, "UPDATE tokens SET revoked = 4242 WHERE id = '00000000000000ff'");
	assert_int_equal(veil_catalog_token_revoke(f->c, "00000000000000ff", &e), VEIL_OK);
	assert_int_equal(veil_catalog_token_get(f->c, "00000000000000ff", &got, &e), VEIL_OK);
	assert_int_equal(got.revoked, 4242);
	assert_int_equal(veil_catalog_token_revoke(f->c, "ffffffffffffffff", &e), VEIL_E_NOTFOUND);

	/* a disabled principal gets no new tokens */
	assert_int_equal(veil_catalog_principal_disable(f->c, "bob", &e), VEIL_OK);
	bad = token("2222222222222222", "bob", 5);
	assert_int_equal(veil_catalog_token_add(f->c, &bad, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "disabled"));

	/* stored values the schema would refuse, written around it */
	raw_sql(f->path,
	        "PRAGMA ignore_check_constraints = ON; UPDATE tokens SET hash = x'0102' "
	        "WHERE id = '0123456789abcdef'; UPDATE tokens SET revoked = 0 WHERE id = 'a000000000000000'");
	assert_int_equal(veil_catalog_token_get(f->c, "0123456789abcdef", &got, &e), VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "token hash"));
	assert_int_equal(veil_catalog_token_get(f->c, "a000000000000000", &got, &e), VEIL_E_CORRUPT);
}

/* ---- policies ---- */

typedef struct policies {
	char name[4][VEIL_CATALOG_SCOPE_MAX];
	uint32_t version[4];
	char text[4][64];
	size_t n;
} policies;

static veil_status collect_policy(void *ctx, const veil_policy_record *p, veil_err *err)
{
	policies *x = ctx;
	if (x->n == 4)
		return veil_err_set(err, VEIL_E_LIMIT, "too many");
	snprintf(x->name[x->n], VEIL_CATALOG_SCOPE_MAX, "%s", p->name);
	x->version[x->n] = p->version;
	snprintf(x->text[x->n], 64, "%s", p->text);
	assert_int_equal(strlen(p->text), p->len);
	x->n++;
	return VEIL_OK;
}

static void test_policies(void **state)
{
	fixture *f = *state;
	veil_err e;
	uint32_t version = 77;
	bool changed = true;
	assert_int_equal(veil_catalog_compartment_create(f->c, "oncology", "tenancy", NULL, "admin", &e),
	                 VEIL_OK);

	/* "abc" stores with the SHA-256 of FIPS 180-2, appendix B.1 */
	assert_int_equal(
	        veil_catalog_policy_put(f->c, "base", "tenancy", "abc", 3, "admin", &version, &changed, &e),
	        VEIL_OK);
	assert_int_equal(version, 1);
	assert_true(changed);
	veil_policy_record p;
	assert_int_equal(veil_catalog_policy_get(f->c, "base", 0, &p, &e), VEIL_OK);
	assert_string_equal(p.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_string_equal(p.text, "abc");
	assert_int_equal(p.len, 3);
	assert_int_equal(p.version, 1);
	assert_string_equal(p.compartment, "tenancy");
	assert_string_equal(p.applied_by, "admin");
	assert_true(p.applied > 1600000000);
	veil_policy_record_free(&p);
	assert_null(p.text);

	/* the same text and compartment again: nothing stored */
	assert_int_equal(
	        veil_catalog_policy_put(f->c, "base", "tenancy", "abc", 3, "bob", &version, &changed, &e),
	        VEIL_OK);
	assert_int_equal(version, 1);
	assert_false(changed);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM policies"), 1);
	/* the same text attached elsewhere, then a new text: new versions */
	assert_int_equal(
	        veil_catalog_policy_put(f->c, "base", "oncology", "abc", 3, "bob", &version, &changed, &e),
	        VEIL_OK);
	assert_int_equal(version, 2);
	assert_true(changed);
	const char text3[] = "Allow group a to read datasets in tenancy\n";
	assert_int_equal(veil_catalog_policy_put(f->c, "base", "oncology", text3, strlen(text3), "bob",
	                                         &version, &changed, &e),
	                 VEIL_OK);
	assert_int_equal(version, 3);
	assert_true(changed);
	/* a prefix of the current text is a change, not a match */
	assert_int_equal(veil_catalog_policy_put(f->c, "base", "oncology", text3, strlen(text3) - 1, "bob",
	                                         &version, &changed, &e),
	                 VEIL_OK);
	assert_int_equal(version, 4);
	/* the empty text is a policy with no statements */
	assert_int_equal(
	        veil_catalog_policy_put(f->c, "empty", "tenancy", "", 0, "admin", &version, &changed, &e),
	        VEIL_OK);
	assert_int_equal(version, 1);

	assert_int_equal(veil_catalog_policy_get(f->c, "base", 3, &p, &e), VEIL_OK);
	assert_string_equal(p.text, text3);
	assert_string_equal(p.compartment, "oncology");
	assert_string_equal(p.applied_by, "bob");
	veil_policy_record_free(&p);
	assert_int_equal(veil_catalog_policy_get(f->c, "base", 1, &p, &e), VEIL_OK);
	assert_string_equal(p.text, "abc");
	assert_string_equal(p.compartment, "tenancy");
	veil_policy_record_free(&p);
	assert_int_equal(veil_catalog_policy_get(f->c, "base", 0, &p, &e), VEIL_OK);
	assert_int_equal(p.version, 4);
	assert_int_equal(p.len, strlen(text3) - 1);
	veil_policy_record_free(&p);
	assert_int_equal(veil_catalog_policy_get(f->c, "empty", 0, &p, &e), VEIL_OK);
	assert_string_equal(p.text, "");
	assert_string_equal(p.sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	veil_policy_record_free(&p);
	/* bytes that are not UTF-8 come back as they went in: the parser judges them */
	assert_int_equal(veil_catalog_policy_put(f->c, "raw", "tenancy", "# \xff\xfe\r\n", 6, "admin",
	                                         &version, &changed, &e),
	                 VEIL_OK);
	assert_int_equal(veil_catalog_policy_get(f->c, "raw", 0, &p, &e), VEIL_OK);
	assert_int_equal(p.len, 6);
	assert_memory_equal(p.text, "# \xff\xfe\r\n", 7);
	veil_policy_record_free(&p);
	assert_int_equal(veil_catalog_policy_get(f->c, "base", 9, &p, &e), VEIL_E_NOTFOUND);
	assert_string_equal(e.msg, "policy base has no version 9 (latest is 4)");
	assert_null(p.text);
	assert_int_equal(veil_catalog_policy_get(f->c, "nosuch", 0, &p, &e), VEIL_E_NOTFOUND);
	assert_string_equal(e.msg, "no policy named nosuch");
	assert_int_equal(veil_catalog_policy_get(f->c, "nosuch", 2, &p, &e), VEIL_E_NOTFOUND);

	/* errors: nothing is stored, and the outputs say so */
	int64_t rows = raw_int(f->path, "SELECT count(*) FROM policies");
	size_t big = VEIL_CATALOG_POLICY_MAX_BYTES + 1;
	char *text = malloc(big);
	assert_non_null(text);
	memset(text, '#', big);
	version = 77;
	changed = true;
	assert_int_equal(
	        veil_catalog_policy_put(f->c, "big", "tenancy", text, big, "admin", &version, &changed, &e),
	        VEIL_E_LIMIT);
	assert_int_equal(version, 0);
	assert_false(changed);
	assert_int_equal(veil_catalog_policy_put(f->c, "big", "tenancy", text, big - 1, "admin", &version,
	                                         &changed, &e),
	                 VEIL_OK); /* exactly the bound */
	text[10] = '\0';
	assert_int_equal(
	        veil_catalog_policy_put(f->c, "nul", "tenancy", text, 20, "admin", &version, &changed, &e),
	        VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "NUL"));
	free(text);
	assert_int_equal(
	        veil_catalog_policy_put(f->c, "p", "nowhere", "x", 1, "admin", &version, &changed, &e),
	        VEIL_E_NOTFOUND);
	assert_non_null(strstr(e.hint, "veil compartment create"));
	assert_int_equal(
	        veil_catalog_policy_put(f->c, "p q", "tenancy", "x", 1, "admin", &version, &changed, &e),
	        VEIL_E_INVALID);
	assert_int_equal(
	        veil_catalog_policy_put(f->c, "p", "tenancy", NULL, 0, "admin", &version, &changed, &e),
	        VEIL_E_INVALID);
	assert_int_equal(veil_catalog_policy_put(f->c, "p", "tenancy", "x", 1, "", &version, &changed, &e),
	                 VEIL_E_INVALID);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM policies"), rows + 1);

	/* list: the current version of each, by name, with its text */
	policies x = {0};
	assert_int_equal(veil_catalog_policy_list(f->c, collect_policy, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 4);
	assert_string_equal(x.name[0], "base");
	assert_int_equal(x.version[0], 4);
	assert_string_equal(x.name[1], "big");
	assert_string_equal(x.name[2], "empty");
	assert_string_equal(x.text[2], "");
	assert_string_equal(x.name[3], "raw");

	/* a text changed outside veil no longer matches its hash */
	raw_sql(f->path, "UPDATE policies SET text = 'Allow any-user to manage all-resources in tenancy' "
	                 "WHERE name = 'base' AND version = 1");
	assert_int_equal(veil_catalog_policy_get(f->c, "base", 1, &p, &e), VEIL_E_CORRUPT);
	assert_null(p.text);
	assert_int_equal(veil_catalog_policy_get(f->c, "base", 2, &p, &e), VEIL_OK);
	veil_policy_record_free(&p);
	raw_sql(f->path, "UPDATE policies SET text = 'tampered' WHERE name = 'empty'");
	memset(&x, 0, sizeof x);
	assert_int_equal(veil_catalog_policy_list(f->c, collect_policy, &x, &e), VEIL_E_CORRUPT);
	veil_policy_record_free(NULL);
}

/* Key-release policies: stored and versioned as access policies, in their
 * own table, under a scope; the two never see each other's rows. */
static void test_release_policies(void **state)
{
	fixture *f = *state;
	veil_err e;
	uint32_t version = 0;
	bool changed = false;
	assert_int_equal(veil_catalog_compartment_create(f->c, "oncology", "tenancy", NULL, "admin", &e),
	                 VEIL_OK);
	const char *v1 = "version: 1\ntee: [sim]\n", *v2 = "version: 1\ntee: [sev-snp]\n";
	assert_int_equal(veil_catalog_release_policy_put(f->c, "compartment:oncology", "oncology", v1,
	                                                 strlen(v1), "admin", &version, &changed, &e),
	                 VEIL_OK);
	assert_int_equal(version, 1);
	assert_true(changed);
	assert_int_equal(veil_catalog_release_policy_put(f->c, "compartment:oncology", "oncology", v1,
	                                                 strlen(v1), "admin", &version, &changed, &e),
	                 VEIL_OK);
	assert_false(changed);
	assert_int_equal(veil_catalog_release_policy_put(f->c, "compartment:oncology", "oncology", v2,
	                                                 strlen(v2), "bob", &version, &changed, &e),
	                 VEIL_OK);
	assert_int_equal(version, 2);
	veil_policy_record p;
	assert_int_equal(veil_catalog_release_policy_get(f->c, "compartment:oncology", 0, &p, &e), VEIL_OK);
	assert_string_equal(p.name, "compartment:oncology");
	assert_string_equal(p.text, v2);
	assert_string_equal(p.applied_by, "bob");
	veil_policy_record_free(&p);
	assert_int_equal(veil_catalog_release_policy_get(f->c, "compartment:oncology", 1, &p, &e), VEIL_OK);
	assert_string_equal(p.text, v1);
	veil_policy_record_free(&p);
	assert_int_equal(veil_catalog_release_policy_get(f->c, "compartment:oncology", 3, &p, &e),
	                 VEIL_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "latest is 2"));
	assert_int_equal(veil_catalog_release_policy_get(f->c, "key:alice", 0, &p, &e), VEIL_E_NOTFOUND);

	/* a scope names its kind; the attachment compartment must exist */
	const char *bad[] = {"oncology", "compartment:", "key:", "key:Bad Name", "dataset:x", ""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(veil_catalog_release_policy_put(f->c, bad[i], "tenancy", v1, strlen(v1),
		                                                 "admin", &version, &changed, &e),
		                 VEIL_E_INVALID);
	assert_int_equal(veil_catalog_release_policy_put(f->c, "key:alice", "nowhere", v1, strlen(v1),
	                                                 "admin", &version, &changed, &e),
	                 VEIL_E_NOTFOUND);

	/* access policies do not see release policies, nor the other way round */
	assert_int_equal(veil_catalog_policy_get(f->c, "oncology", 0, &p, &e), VEIL_E_NOTFOUND);
	assert_int_equal(
	        veil_catalog_policy_put(f->c, "base", "tenancy", "abc", 3, "admin", &version, &changed, &e),
	        VEIL_OK);
	assert_int_equal(veil_catalog_release_policy_get(f->c, "key:base", 0, &p, &e), VEIL_E_NOTFOUND);

	/* a text edited outside veil is reported, not enforced */
	raw_sql(f->path, "UPDATE release_policies SET text = 'version: 1' WHERE version = 2");
	assert_int_equal(veil_catalog_release_policy_get(f->c, "compartment:oncology", 0, &p, &e),
	                 VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "release policy compartment:oncology"));
}

/* ---- keys in compartments (key.c) ---- */

static void test_key_compartment(void **state)
{
	fixture *f = *state;
	veil_err e;
	char out[VEIL_CATALOG_NAME_MAX];
	assert_int_equal(veil_catalog_compartment_create(f->c, "oncology", "tenancy", NULL, "admin", &e),
	                 VEIL_OK);
	/* a key with no record (made before v4) is in tenancy */
	assert_int_equal(veil_catalog_key_compartment(f->c, "old-kek", out, &e), VEIL_OK);
	assert_string_equal(out, "tenancy");
	assert_int_equal(veil_catalog_key_set_compartment(f->c, "onc-kek", "oncology", "admin", &e), VEIL_OK);
	assert_int_equal(veil_catalog_key_compartment(f->c, "onc-kek", out, &e), VEIL_OK);
	assert_string_equal(out, "oncology");
	/* placed once: the same place again is fine, another is not */
	assert_int_equal(veil_catalog_key_set_compartment(f->c, "onc-kek", "oncology", "bob", &e), VEIL_OK);
	assert_int_equal(veil_catalog_key_set_compartment(f->c, "onc-kek", "tenancy", "admin", &e),
	                 VEIL_E_EXISTS);
	assert_int_equal(veil_catalog_key_compartment(f->c, "onc-kek", out, &e), VEIL_OK);
	assert_string_equal(out, "oncology");
	assert_int_equal(veil_catalog_key_set_compartment(f->c, "k2", "nowhere", "admin", &e),
	                 VEIL_E_NOTFOUND);
	assert_int_equal(veil_catalog_key_set_compartment(f->c, "k 2", "tenancy", "admin", &e),
	                 VEIL_E_INVALID);
	assert_int_equal(veil_catalog_key_compartment(f->c, "k 2", out, &e), VEIL_E_INVALID);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM key_compartments"), 1);
}

/* ---- datasets in compartments ---- */

typedef struct vrows {
	veil_dataset_version v[4];
	size_t n;
} vrows;

static veil_status collect_version(void *ctx, const veil_dataset_version *v, veil_err *err)
{
	vrows *r = ctx;
	if (r->n == 4)
		return veil_err_set(err, VEIL_E_LIMIT, "too many rows");
	r->v[r->n++] = *v;
	return VEIL_OK;
}

static void test_dataset_compartment(void **state)
{
	fixture *f = *state;
	veil_err e;
	assert_int_equal(veil_catalog_compartment_create(f->c, "oncology", "tenancy", NULL, "admin", &e),
	                 VEIL_OK);

	veil_dataset_version plain = make("mnist", "carol", "public", 1);
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &plain, &e), VEIL_OK);
	assert_string_equal(plain.compartment, "tenancy");
	assert_string_equal(plain.region, "");

	veil_dataset_version v = make("patients", "alice", "restricted", 2);
	snprintf(v.compartment, sizeof v.compartment, "oncology");
	snprintf(v.region, sizeof v.region, "eu-west");
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &v, &e), VEIL_OK);
	veil_dataset_version v2 = make("patients", "", "", 3); /* "" keeps both */
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &v2, &e), VEIL_OK);
	assert_string_equal(v2.compartment, "oncology");
	assert_string_equal(v2.region, "eu-west");
	veil_dataset_version v3 = make("patients", "", "", 4); /* or equal */
	snprintf(v3.compartment, sizeof v3.compartment, "oncology");
	snprintf(v3.region, sizeof v3.region, "eu-west");
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &v3, &e), VEIL_OK);
	assert_int_equal(v3.version, 3);

	/* a version cannot move the dataset */
	veil_dataset_version bad = make("patients", "", "", 5);
	snprintf(bad.compartment, sizeof bad.compartment, "tenancy");
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &bad, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "compartment oncology"));
	bad = make("patients", "", "", 5);
	snprintf(bad.region, sizeof bad.region, "us-east");
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &bad, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "eu-west"));
	/* a new dataset's compartment must exist */
	bad = make("genomes", "alice", "restricted", 6);
	snprintf(bad.compartment, sizeof bad.compartment, "genetics");
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &bad, &e), VEIL_E_NOTFOUND);
	assert_string_equal(e.msg, "no compartment named genetics");
	assert_non_null(strstr(e.hint, "veil compartment create"));
	bad = make("genomes", "alice", "restricted", 6);
	snprintf(bad.region, sizeof bad.region, "eu west");
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &bad, &e), VEIL_E_INVALID);
	bad = make("genomes", "alice", "restricted", 6);
	snprintf(bad.compartment, sizeof bad.compartment, "-x");
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &bad, &e), VEIL_E_INVALID);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM datasets"), 2);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM dataset_versions"), 4);

	/* get, list and versions read both back */
	veil_dataset_version got;
	assert_int_equal(veil_catalog_dataset_get(f->c, "patients", 1, &got, &e), VEIL_OK);
	assert_string_equal(got.compartment, "oncology");
	assert_string_equal(got.region, "eu-west");
	veil_dataset_version_free(&got);
	vrows r = {0};
	assert_int_equal(veil_catalog_dataset_list(f->c, collect_version, &r, &e), VEIL_OK);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.v[0].compartment, "tenancy");
	assert_string_equal(r.v[1].compartment, "oncology");
	assert_string_equal(r.v[1].region, "eu-west");
	memset(&r, 0, sizeof r);
	assert_int_equal(veil_catalog_dataset_versions(f->c, "patients", collect_version, &r, &e), VEIL_OK);
	assert_int_equal(r.n, 3);
	for (size_t i = 0; i < r.n; i++) {
		assert_string_equal(r.v[i].compartment, "oncology");
		assert_string_equal(r.v[i].region, "eu-west");
	}
}

/* ---- callbacks and transactions ---- */

static veil_status stop_compartment(void *ctx, const veil_compartment *c, veil_err *err)
{
	(void)ctx, (void)c;
	return veil_err_set(err, VEIL_E_DENIED, "stop here");
}
static veil_status stop_principal(void *ctx, const veil_principal *p, veil_err *err)
{
	(void)ctx, (void)p;
	return veil_err_set(err, VEIL_E_DENIED, "stop here");
}
static veil_status stop_group(void *ctx, const veil_group *g, veil_err *err)
{
	(void)ctx, (void)g;
	return veil_err_set(err, VEIL_E_DENIED, "stop here");
}
static veil_status stop_name(void *ctx, const char *name, veil_err *err)
{
	(void)ctx, (void)name;
	return veil_err_set(err, VEIL_E_DENIED, "stop here");
}
static veil_status stop_token(void *ctx, const veil_token_info *t, veil_err *err)
{
	(void)ctx, (void)t;
	return veil_err_set(err, VEIL_E_DENIED, "stop here");
}
static veil_status stop_policy(void *ctx, const veil_policy_record *p, veil_err *err)
{
	(void)ctx, (void)p;
	return veil_err_set(err, VEIL_E_DENIED, "stop here");
}

typedef struct reader {
	veil_catalog *c;
	size_t calls, groups;
} reader;

/* Callbacks run with the listing's statement open and may read. */
static veil_status read_groups(void *ctx, const veil_principal *p, veil_err *err)
{
	reader *r = ctx;
	char groups[VEIL_CATALOG_GROUPS_PER_PRINCIPAL][VEIL_CATALOG_NAME_MAX];
	size_t n;
	veil_status st = veil_catalog_groups_of(r->c, p->name, groups, &n, err);
	r->calls++;
	r->groups += n;
	return st;
}

static void test_callbacks(void **state)
{
	fixture *f = *state;
	veil_err e;
	add_person(f->c, "alice");
	add_person(f->c, "bob");
	assert_int_equal(veil_catalog_group_create(f->c, "g", "admin", &e), VEIL_OK);
	assert_int_equal(veil_catalog_group_add(f->c, "g", "alice", &e), VEIL_OK);
	veil_token_info t = token("0000000000000001", "alice", 0);
	assert_int_equal(veil_catalog_token_add(f->c, &t, &e), VEIL_OK);
	uint32_t version;
	bool changed;
	assert_int_equal(
	        veil_catalog_policy_put(f->c, "p", "tenancy", "x", 1, "admin", &version, &changed, &e),
	        VEIL_OK);

	assert_int_equal(veil_catalog_compartment_list(f->c, stop_compartment, NULL, &e), VEIL_E_DENIED);
	assert_string_equal(e.msg, "stop here");
	assert_int_equal(veil_catalog_principal_list(f->c, stop_principal, NULL, &e), VEIL_E_DENIED);
	assert_int_equal(veil_catalog_group_list(f->c, stop_group, NULL, &e), VEIL_E_DENIED);
	assert_int_equal(veil_catalog_group_members(f->c, "g", stop_name, NULL, &e), VEIL_E_DENIED);
	assert_int_equal(veil_catalog_token_list(f->c, NULL, stop_token, NULL, &e), VEIL_E_DENIED);
	assert_int_equal(veil_catalog_policy_list(f->c, stop_policy, NULL, &e), VEIL_E_DENIED);

	reader r = {.c = f->c};
	assert_int_equal(veil_catalog_principal_list(f->c, read_groups, &r, &e), VEIL_OK);
	assert_int_equal(r.calls, 2);
	assert_int_equal(r.groups, 1);
}

/* Inside a caller's transaction a failing call undoes only itself, and a
 * rollback undoes every call. */
static void test_caller_transaction(void **state)
{
	fixture *f = *state;
	veil_err e;
	add_person(f->c, "alice");
	assert_int_equal(veil_catalog_begin(f->c, &e), VEIL_OK);
	assert_int_equal(veil_catalog_compartment_create(f->c, "kept", "tenancy", NULL, "admin", &e),
	                 VEIL_OK);
	assert_int_equal(veil_catalog_group_create(f->c, "g", "admin", &e), VEIL_OK);
	assert_int_equal(veil_catalog_group_add(f->c, "g", "alice", &e), VEIL_OK);
	assert_int_equal(veil_catalog_group_add(f->c, "g", "alice", &e), VEIL_E_EXISTS);
	assert_int_equal(veil_catalog_compartment_create(f->c, "kept", "tenancy", NULL, "admin", &e),
	                 VEIL_E_EXISTS);
	assert_int_equal(veil_catalog_commit(f->c, &e), VEIL_OK);
	veil_group g;
	assert_int_equal(veil_catalog_group_get(f->c, "g", &g, &e), VEIL_OK);
	assert_int_equal(g.members, 1);

	assert_int_equal(veil_catalog_begin(f->c, &e), VEIL_OK);
	assert_int_equal(veil_catalog_compartment_create(f->c, "gone", "kept", NULL, "admin", &e), VEIL_OK);
	assert_int_equal(veil_catalog_group_remove(f->c, "g", "alice", &e), VEIL_OK);
	uint32_t version;
	bool changed;
	assert_int_equal(veil_catalog_policy_put(f->c, "p", "gone", "x", 1, "admin", &version, &changed, &e),
	                 VEIL_OK);
	veil_catalog_rollback(f->c);
	veil_compartment c;
	assert_int_equal(veil_catalog_compartment_get(f->c, "gone", &c, &e), VEIL_E_NOTFOUND);
	assert_int_equal(veil_catalog_group_get(f->c, "g", &g, &e), VEIL_OK);
	assert_int_equal(g.members, 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM policies"), 0);
	assert_int_equal(veil_catalog_integrity_check(f->c, &e), VEIL_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_tenancy, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_migration_from_v3, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_compartments, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_compartment_depth, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_compartment_corrupt, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_principals, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_groups, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_group_limit, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_policies, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_release_policies, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_key_compartment, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_dataset_compartment, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_callbacks, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_caller_transaction, setup, teardown),
	};
	return cmocka_run_group_tests_name("catalog-iam", tests, NULL, NULL);
}
