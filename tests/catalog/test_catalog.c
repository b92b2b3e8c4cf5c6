/* Unit tests for the catalog: create/open/reopen, migrations, refusal of
 * newer schemas and of files that are not veil catalogs, datasets and
 * versions (tags, latest, deletion, numbering), lineage, transactions,
 * online backup while another connection writes, integrity checks, the
 * bounds checks on stored text, and "name@N" parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fixture.h"

#include <dirent.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "veil/catalog.h"

static void test_create_open(void **state)
{
	fixture *f = *state;
	veil_catalog *c = (veil_catalog *)1;
	veil_err e;
	char p[160];
	snprintf(p, sizeof p, "%s/missing.db", f->dir);
	assert_int_equal(veil_catalog_open(p, false, &c, &e), VEIL_E_NOTFOUND);
	assert_null(c);
	assert_false(access(p, F_OK) == 0);

	struct stat sb;
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	uint32_t version = 0;
	assert_int_equal(veil_catalog_schema_version(f->c, &version, &e), VEIL_OK);
	assert_int_equal(version, VEIL_CATALOG_SCHEMA_VERSION);

	char value[64];
	assert_int_equal(veil_catalog_meta_get(f->c, "format", value, sizeof value, &e), VEIL_OK);
	assert_string_equal(value, "veil-catalog");
	assert_int_equal(veil_catalog_meta_get(f->c, "workspace_id", value, sizeof value, &e),
	                 VEIL_E_NOTFOUND);
	assert_string_equal(value, "");
	assert_int_equal(veil_catalog_meta_set(f->c, "workspace_id", "0123456789abcdef0123456789abcdef", &e),
	                 VEIL_OK);
	assert_int_equal(veil_catalog_meta_set(f->c, "format", "other", &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_meta_set(f->c, "bad key", "x", &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_meta_set(f->c, "note", "line\nbreak", &e), VEIL_E_INVALID);
	char small[8];
	assert_int_equal(veil_catalog_meta_get(f->c, "workspace_id", small, sizeof small, &e), VEIL_E_LIMIT);
	veil_catalog_close(f->c);
	f->c = NULL;

	/* reopen, with and without create: the same catalog, steps not re-run */
	assert_int_equal(veil_catalog_open(f->path, false, &f->c, &e), VEIL_OK);
	assert_int_equal(veil_catalog_meta_get(f->c, "workspace_id", value, sizeof value, &e), VEIL_OK);
	assert_string_equal(value, "0123456789abcdef0123456789abcdef");
	assert_int_equal(veil_catalog_meta_set(f->c, "workspace_id", "changed", &e), VEIL_OK);
	assert_int_equal(veil_catalog_open(f->path, true, &c, &e), VEIL_OK);
	assert_int_equal(veil_catalog_meta_get(c, "workspace_id", value, sizeof value, &e), VEIL_OK);
	assert_string_equal(value, "changed");
	veil_catalog_close(c);
	veil_catalog_close(NULL);

	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM schema_migrations"),
	                 VEIL_CATALOG_SCHEMA_VERSION);
	assert_int_equal(raw_int(f->path, "SELECT max(version) FROM schema_migrations"),
	                 VEIL_CATALOG_SCHEMA_VERSION);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM schema_migrations WHERE description = '' "
	                                  "OR applied <= 0"),
	                 0);
	/* WAL mode is recorded in the file header (bytes 18 and 19 are 2) */
	FILE *fp = fopen(f->path, "rb");
	assert_non_null(fp);
	unsigned char hdr[20];
	assert_int_equal(fread(hdr, 1, sizeof hdr, fp), sizeof hdr);
	fclose(fp);
	assert_int_equal(hdr[18], 2);
	assert_int_equal(hdr[19], 2);
}

static void test_migration_from_older(void **state)
{
	fixture *f = *state;
	veil_catalog_close(f->c);
	f->c = NULL;
	/* make it a version-1 catalog, as an older veil would have left it
	 * (test_iam.c checks the step from version 3 with data in it) */
	raw_sql(f->path, "DROP TABLE budget_charges; DROP TABLE budgets; DROP TABLE job_metrics; "
	                 "DROP TABLE jobs; DROP TABLE model_versions; DROP TABLE models; "
	                 "DROP TABLE reports; DROP TABLE release_policies; DROP TABLE policies; "
	                 "DROP TABLE tokens; DROP TABLE group_members; DROP TABLE groups; "
	                 "DROP TABLE principals; DROP TABLE key_compartments; DROP TABLE compartments; "
	                 "DROP TABLE lineage_edges; DROP TABLE lineage_nodes; DROP TABLE dataset_tags; "
	                 "DROP TABLE dataset_versions; DROP TABLE datasets; DELETE FROM schema_migrations "
	                 "WHERE version > 1");
	veil_err e;
	assert_int_equal(veil_catalog_open(f->path, false, &f->c, &e), VEIL_OK);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM schema_migrations"),
	                 VEIL_CATALOG_SCHEMA_VERSION);
	veil_dataset_version v = make("d", "alice", "internal", 1);
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &v, &e), VEIL_OK);
	assert_string_equal(v.compartment, VEIL_CATALOG_TENANCY);
}

static void test_newer_schema_refused(void **state)
{
	fixture *f = *state;
	veil_catalog_close(f->c);
	f->c = NULL;
	raw_sql(f->path,
	        "INSERT INTO schema_migrations (version, description, applied) VALUES (99, 'future', 1)");
	veil_catalog *c = (veil_catalog *)1;
	veil_err e;
	assert_int_equal(veil_catalog_open(f->path, false, &c, &e), VEIL_E_UNSUPPORTED);
	assert_null(c);
	assert_non_null(strstr(e.msg, "99"));
	assert_non_null(strstr(e.hint, "upgrade veil"));
	assert_int_equal(veil_catalog_open(f->path, true, &c, &e), VEIL_E_UNSUPPORTED);
	assert_int_equal(raw_int(f->path, "SELECT max(version) FROM schema_migrations"), 99);
}

static void test_not_a_catalog(void **state)
{
	fixture *f = *state;
	veil_catalog *c;
	veil_err e;
	char p[160];

	/* another program's SQLite database: refused and left as it was */
	snprintf(p, sizeof p, "%s/other.db", f->dir);
	raw_sql(p, "CREATE TABLE t (x); INSERT INTO t VALUES (1)");
	assert_int_equal(veil_catalog_open(p, true, &c, &e), VEIL_E_WORKSPACE);
	assert_null(c);
	assert_non_null(strstr(e.msg, "not a veil catalog"));
	FILE *fp = fopen(p, "rb");
	assert_non_null(fp);
	unsigned char hdr[20];
	assert_int_equal(fread(hdr, 1, sizeof hdr, fp), sizeof hdr);
	fclose(fp);
	assert_int_equal(hdr[18], 1); /* still in rollback-journal mode: never switched to WAL */
	assert_int_equal(raw_int(p, "SELECT count(*) FROM sqlite_schema"), 1);

	/* a meta table, but not ours */
	snprintf(p, sizeof p, "%s/meta.db", f->dir);
	raw_sql(p, "CREATE TABLE meta (key, value); INSERT INTO meta VALUES ('format', 'something-else')");
	assert_int_equal(veil_catalog_open(p, false, &c, &e), VEIL_E_WORKSPACE);

	/* not SQLite at all */
	snprintf(p, sizeof p, "%s/text.db", f->dir);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs("this is a text file, long enough to look like a header of something.......................\n"
	      "and a second line to pass one hundred bytes in all.\n",
	      fp);
	fclose(fp);
	assert_int_equal(veil_catalog_open(p, false, &c, &e), VEIL_E_WORKSPACE);
	assert_non_null(strstr(e.msg, "not an SQLite database"));

	/* an empty file is only a new catalog when asked to create one */
	snprintf(p, sizeof p, "%s/empty.db", f->dir);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(veil_catalog_open(p, false, &c, &e), VEIL_E_WORKSPACE);
	assert_int_equal(veil_catalog_open(p, true, &c, &e), VEIL_OK);
	veil_catalog_close(c);
}

static void expect_same(const veil_dataset_version *a, const veil_dataset_version *b)
{
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->version, b->version);
	assert_string_equal(a->owner, b->owner);
	assert_string_equal(a->classification, b->classification);
	assert_int_equal(a->size, b->size);
	assert_string_equal(a->sha256, b->sha256);
	assert_string_equal(a->object_id, b->object_id);
	assert_string_equal(a->dek_id, b->dek_id);
	assert_string_equal(a->kek, b->kek);
	assert_int_equal(a->chunk_size, b->chunk_size);
	assert_int_equal(a->created, b->created);
	assert_string_equal(a->created_by, b->created_by);
	assert_string_equal(a->compartment, b->compartment);
	assert_string_equal(a->region, b->region);
	assert_string_equal(a->state, b->state);
}

typedef struct vrows {
	veil_dataset_version v[8];
	size_t n;
} vrows;

static veil_status collect(void *ctx, const veil_dataset_version *v, veil_err *err)
{
	vrows *r = ctx;
	if (r->n == 8)
		return veil_err_set(err, VEIL_E_LIMIT, "too many rows");
	assert_null(v->tags);
	r->v[r->n++] = *v;
	return VEIL_OK;
}

static void test_datasets(void **state)
{
	fixture *f = *state;
	veil_err e;
	veil_tag tags[] = {{"source", "ward 7"}, {"consent", "research-2026"}};
	veil_dataset_version v1 = make("patients", "alice", "confidential", 1);
	v1.tags = tags;
	v1.ntags = 2;
	v1.created = 1700000000;
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &v1, &e), VEIL_OK);
	assert_int_equal(v1.version, 1);
	assert_string_equal(v1.state, "live");

	veil_dataset_version v2 = make("patients", "", "", 2); /* owner and class inherited */
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &v2, &e), VEIL_OK);
	assert_int_equal(v2.version, 2);
	assert_string_equal(v2.owner, "alice");
	assert_string_equal(v2.classification, "confidential");
	assert_true(v2.created > 1700000000);

	veil_dataset_version bad = make("patients", "bob", "", 3);
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &bad, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "alice"));
	assert_int_equal(bad.version, 0);
	bad = make("patients", "", "public", 3);
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &bad, &e), VEIL_E_INVALID);
	bad = make("newset", "", "", 3);
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &bad, &e), VEIL_E_INVALID);
	bad = make("newset", "alice", "secret", 3);
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &bad, &e), VEIL_E_INVALID);
	bad = make("newset", "alice", "public", 3);
	bad.sha256[5] = 'A';
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &bad, &e), VEIL_E_INVALID);
	bad = make("new set", "alice", "public", 3);
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &bad, &e), VEIL_E_INVALID);
	bad = make("newset", "alice", "public", 3);
	veil_tag dup[] = {{"k", "1"}, {"k", "2"}};
	bad.tags = dup;
	bad.ntags = 2;
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &bad, &e), VEIL_E_INVALID);
	bad.ntags = VEIL_CATALOG_TAGS_MAX + 1;
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &bad, &e), VEIL_E_LIMIT);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM dataset_versions"), 2);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM datasets"), 1);

	veil_dataset_version other = make("mnist", "carol", "public", 9);
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &other, &e), VEIL_OK);
	assert_int_equal(other.version, 1);

	/* get: latest, explicit, tags sorted by key */
	veil_dataset_version got;
	assert_int_equal(veil_catalog_dataset_get(f->c, "patients", 0, &got, &e), VEIL_OK);
	expect_same(&got, &v2);
	assert_int_equal(got.ntags, 0);
	veil_dataset_version_free(&got);
	assert_int_equal(veil_catalog_dataset_get(f->c, "patients", 1, &got, &e), VEIL_OK);
	expect_same(&got, &v1);
	assert_int_equal(got.ntags, 2);
	assert_string_equal(got.tags[0].key, "consent");
	assert_string_equal(got.tags[0].value, "research-2026");
	assert_string_equal(got.tags[1].key, "source");
	assert_string_equal(got.tags[1].value, "ward 7");
	veil_dataset_version_free(&got);
	assert_null(got.tags);

	assert_int_equal(veil_catalog_dataset_get(f->c, "patients", 5, &got, &e), VEIL_E_NOTFOUND);
	assert_string_equal(e.msg, "dataset patients has no version 5 (latest is 2)");
	assert_int_equal(veil_catalog_dataset_get(f->c, "nosuch", 0, &got, &e), VEIL_E_NOTFOUND);
	assert_string_equal(e.msg, "no dataset named nosuch");
	assert_int_equal(veil_catalog_dataset_get(f->c, "bad/name", 0, &got, &e), VEIL_E_INVALID);

	/* list: one row per dataset, by name; versions: all, oldest first */
	vrows r = {0};
	assert_int_equal(veil_catalog_dataset_list(f->c, collect, &r, &e), VEIL_OK);
	assert_int_equal(r.n, 2);
	expect_same(&r.v[0], &other);
	expect_same(&r.v[1], &v2);
	memset(&r, 0, sizeof r);
	assert_int_equal(veil_catalog_dataset_versions(f->c, "patients", collect, &r, &e), VEIL_OK);
	assert_int_equal(r.n, 2);
	expect_same(&r.v[0], &v1);
	expect_same(&r.v[1], &v2);
	assert_int_equal(veil_catalog_dataset_versions(f->c, "nosuch", collect, &r, &e), VEIL_E_NOTFOUND);

	/* deleting hides a version from "latest" and from explicit gets */
	assert_int_equal(veil_catalog_dataset_mark_deleted(f->c, "patients", 2, &e), VEIL_OK);
	assert_int_equal(veil_catalog_dataset_mark_deleted(f->c, "patients", 2, &e), VEIL_OK);
	assert_int_equal(veil_catalog_dataset_mark_deleted(f->c, "patients", 7, &e), VEIL_E_NOTFOUND);
	assert_int_equal(veil_catalog_dataset_mark_deleted(f->c, "patients", 0, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_dataset_get(f->c, "patients", 0, &got, &e), VEIL_OK);
	assert_int_equal(got.version, 1);
	veil_dataset_version_free(&got);
	assert_int_equal(veil_catalog_dataset_get(f->c, "patients", 2, &got, &e), VEIL_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "deleted"));
	assert_int_equal(veil_catalog_dataset_mark_deleted(f->c, "patients", 1, &e), VEIL_OK);
	assert_int_equal(veil_catalog_dataset_get(f->c, "patients", 0, &got, &e), VEIL_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "no live version"));
	memset(&r, 0, sizeof r);
	assert_int_equal(veil_catalog_dataset_list(f->c, collect, &r, &e), VEIL_OK);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.v[1].version, 2);
	assert_string_equal(r.v[1].state, "deleted");
	memset(&r, 0, sizeof r);
	assert_int_equal(veil_catalog_dataset_versions(f->c, "patients", collect, &r, &e), VEIL_OK);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.v[0].state, "deleted");

	/* numbers are never reused */
	veil_dataset_version v3 = make("patients", "", "", 3);
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &v3, &e), VEIL_OK);
	assert_int_equal(v3.version, 3);
	assert_int_equal(veil_catalog_dataset_get(f->c, "patients", 0, &got, &e), VEIL_OK);
	assert_int_equal(got.version, 3);
	veil_dataset_version_free(&got);
}

static veil_status stop_cb(void *ctx, const veil_dataset_version *v, veil_err *err)
{
	(void)ctx, (void)v;
	return veil_err_set(err, VEIL_E_DENIED, "stop here");
}

static void test_callback_stops(void **state)
{
	fixture *f = *state;
	for (unsigned i = 0; i < 3; i++) {
		veil_dataset_version v = make("d", "alice", "public", i);
		assert_int_equal(veil_catalog_dataset_add_version(f->c, &v, NULL), VEIL_OK);
	}
	veil_err e;
	assert_int_equal(veil_catalog_dataset_versions(f->c, "d", stop_cb, NULL, &e), VEIL_E_DENIED);
	assert_string_equal(e.msg, "stop here");
	assert_int_equal(veil_catalog_dataset_list(f->c, stop_cb, NULL, &e), VEIL_E_DENIED);
}

typedef struct edges {
	veil_lineage_edge e[8];
	size_t n;
} edges;

static veil_status collect_edge(void *ctx, const veil_lineage_edge *e, veil_err *err)
{
	edges *x = ctx;
	if (x->n == 8)
		return veil_err_set(err, VEIL_E_LIMIT, "too many edges");
	x->e[x->n++] = *e;
	return VEIL_OK;
}

static void test_lineage(void **state)
{
	fixture *f = *state;
	veil_err e;
	const char *file = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	assert_int_equal(veil_catalog_lineage_add(f->c, "dataset_version", "patients@1", "uploaded_from",
	                                          "file", file, NULL, &e),
	                 VEIL_OK);
	assert_int_equal(veil_catalog_lineage_add(f->c, "dataset_version", "patients@2", "derived_from",
	                                          "dataset_version", "patients@1", "sim:measure-abc", &e),
	                 VEIL_OK);
	assert_int_equal(veil_catalog_lineage_add(f->c, "model_version", "m@1", "trained_on",
	                                          "dataset_version", "patients@2", NULL, &e),
	                 VEIL_OK);
	/* the same fact again is fine; a conflicting measurement is not */
	assert_int_equal(veil_catalog_lineage_add(f->c, "dataset_version", "patients@2", "derived_from",
	                                          "dataset_version", "patients@1", "sim:measure-abc", &e),
	                 VEIL_OK);
	assert_int_equal(veil_catalog_lineage_add(f->c, "dataset_version", "patients@2", "derived_from",
	                                          "dataset_version", "patients@1", "sim:other", &e),
	                 VEIL_E_EXISTS);
	assert_int_equal(veil_catalog_lineage_add(f->c, "dataset_version", "patients@2", "derived_from",
	                                          "dataset_version", "patients@1", NULL, &e),
	                 VEIL_E_EXISTS);
	assert_int_equal(veil_catalog_lineage_add(f->c, "file", file, "derived_from", "file", file, NULL, &e),
	                 VEIL_E_INVALID);
	assert_int_equal(
	        veil_catalog_lineage_add(f->c, "Dataset", "x", "derived_from", "file", "y", NULL, &e),
	        VEIL_E_INVALID);
	assert_int_equal(veil_catalog_lineage_add(f->c, "file", "x", "derived from", "file", "y", NULL, &e),
	                 VEIL_E_INVALID);
	assert_int_equal(veil_catalog_lineage_add(f->c, "file", "", "derived_from", "file", "y", NULL, &e),
	                 VEIL_E_INVALID);
	assert_int_equal(veil_catalog_lineage_add(f->c, "file", "x", "derived_from", "file", "y", "", &e),
	                 VEIL_E_INVALID);

	edges x = {0};
	assert_int_equal(
	        veil_catalog_lineage_edges(f->c, "dataset_version", "patients@1", collect_edge, &x, &e),
	        VEIL_OK);
	assert_int_equal(x.n, 2);
	assert_string_equal(x.e[0].from_ref, "patients@1");
	assert_string_equal(x.e[0].relation, "uploaded_from");
	assert_string_equal(x.e[0].to_kind, "file");
	assert_string_equal(x.e[0].to_ref, file);
	assert_false(x.e[0].has_measurement);
	assert_string_equal(x.e[0].measurement, "");
	assert_string_equal(x.e[1].from_ref, "patients@2");
	assert_string_equal(x.e[1].relation, "derived_from");
	assert_string_equal(x.e[1].to_ref, "patients@1");
	assert_true(x.e[1].has_measurement);
	assert_string_equal(x.e[1].measurement, "sim:measure-abc");
	assert_true(x.e[1].created > 0);

	memset(&x, 0, sizeof x);
	assert_int_equal(
	        veil_catalog_lineage_edges(f->c, "dataset_version", "patients@2", collect_edge, &x, &e),
	        VEIL_OK);
	assert_int_equal(x.n, 2);
	assert_string_equal(x.e[0].relation, "derived_from");
	assert_string_equal(x.e[1].from_kind, "model_version");
	memset(&x, 0, sizeof x);
	assert_int_equal(
	        veil_catalog_lineage_edges(f->c, "dataset_version", "nothing@1", collect_edge, &x, &e),
	        VEIL_OK);
	assert_int_equal(x.n, 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM lineage_edges"), 3);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM lineage_nodes"), 4);
}

static void test_transactions(void **state)
{
	fixture *f = *state;
	veil_err e;
	veil_dataset_version v = make("tx", "alice", "internal", 1), got;
	assert_int_equal(veil_catalog_commit(f->c, &e), VEIL_E_INVALID);
	veil_catalog_rollback(f->c); /* no-op */

	assert_int_equal(veil_catalog_begin(f->c, &e), VEIL_OK);
	assert_int_equal(veil_catalog_begin(f->c, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &v, &e), VEIL_OK);
	assert_int_equal(veil_catalog_lineage_add(f->c, "dataset_version", "tx@1", "uploaded_from", "file",
	                                          "f", NULL, &e),
	                 VEIL_OK);
	veil_catalog_rollback(f->c);
	assert_int_equal(veil_catalog_dataset_get(f->c, "tx", 0, &got, &e), VEIL_E_NOTFOUND);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM lineage_edges"), 0);

	/* a failing call inside a transaction undoes only itself */
	assert_int_equal(veil_catalog_begin(f->c, &e), VEIL_OK);
	v = make("tx", "alice", "internal", 1);
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &v, &e), VEIL_OK);
	veil_dataset_version wrong = make("tx", "bob", "", 2);
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &wrong, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_commit(f->c, &e), VEIL_OK);
	assert_int_equal(veil_catalog_dataset_get(f->c, "tx", 0, &got, &e), VEIL_OK);
	assert_int_equal(got.version, 1);
	veil_dataset_version_free(&got);

	/* a second connection sees committed rows only */
	veil_catalog *c2;
	assert_int_equal(veil_catalog_open(f->path, false, &c2, &e), VEIL_OK);
	assert_int_equal(veil_catalog_begin(f->c, &e), VEIL_OK);
	v = make("tx", "", "", 3);
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &v, &e), VEIL_OK);
	assert_int_equal(veil_catalog_dataset_get(c2, "tx", 0, &got, &e), VEIL_OK);
	assert_int_equal(got.version, 1);
	veil_dataset_version_free(&got);
	assert_int_equal(veil_catalog_commit(f->c, &e), VEIL_OK);
	assert_int_equal(veil_catalog_dataset_get(c2, "tx", 0, &got, &e), VEIL_OK);
	assert_int_equal(got.version, 2);
	veil_dataset_version_free(&got);
	veil_catalog_close(c2);
}

/* A failure after some rows were written (here a trigger refusing a tag)
 * leaves none of them: no dataset without a version, no version without
 * its tags, in a call of its own or inside a caller's transaction. */
static void test_atomic_add(void **state)
{
	fixture *f = *state;
	veil_err e;
	raw_sql(f->path, "CREATE TRIGGER boom BEFORE INSERT ON dataset_tags WHEN NEW.key = 'boom' "
	                 "BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END");
	veil_tag t[] = {{"fine", "1"}, {"boom", "2"}};
	veil_dataset_version v = make("fresh", "alice", "internal", 1),
	                     ok = make("kept", "alice", "internal", 2);
	v.tags = t;
	v.ntags = 2;
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &v, &e), VEIL_E_DB);
	assert_non_null(strstr(e.msg, "refused by test trigger"));
	assert_int_equal(v.version, 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM datasets"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM dataset_versions"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM dataset_tags"), 0);

	assert_int_equal(veil_catalog_begin(f->c, &e), VEIL_OK);
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &ok, &e), VEIL_OK);
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &v, &e), VEIL_E_DB);
	assert_int_equal(veil_catalog_commit(f->c, &e), VEIL_OK);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM datasets"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM dataset_versions"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM dataset_tags"), 0);
	veil_dataset_version got;
	assert_int_equal(veil_catalog_dataset_get(f->c, "fresh", 0, &got, &e), VEIL_E_NOTFOUND);
	assert_int_equal(veil_catalog_dataset_get(f->c, "kept", 0, &got, &e), VEIL_OK);
	veil_dataset_version_free(&got);
}

typedef struct writer {
	const char *path;
	atomic_int added;
	atomic_bool stop;
	atomic_int st; /* a veil_status */
} writer;

static void *write_loop(void *arg)
{
	writer *w = arg;
	veil_catalog *c;
	veil_err e;
	veil_status st = veil_catalog_open(w->path, false, &c, &e);
	atomic_store(&w->st, (int)st);
	if (st)
		return NULL;
	for (unsigned i = 1; !atomic_load(&w->stop) && i < 5000; i++) {
		veil_dataset_version v = make("busy", "alice", "internal", i);
		if ((st = veil_catalog_dataset_add_version(c, &v, &e))) {
			atomic_store(&w->st, (int)st);
			break;
		}
		atomic_store(&w->added, (int)i);
	}
	veil_catalog_close(c);
	return NULL;
}

static size_t dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_backup(void **state)
{
	fixture *f = *state;
	veil_err e;
	veil_dataset_version v = make("stable", "alice", "restricted", 1);
	veil_tag t = {"k", "v"};
	v.tags = &t;
	v.ntags = 1;
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &v, &e), VEIL_OK);
	assert_int_equal(veil_catalog_lineage_add(f->c, "dataset_version", "stable@1", "uploaded_from",
	                                          "file", "x", NULL, &e),
	                 VEIL_OK);

	writer w = {.path = f->path};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, write_loop, &w), 0);
	while (atomic_load(&w.added) < 20 && atomic_load(&w.st) == VEIL_OK)
		usleep(1000);
	char dest[160];
	snprintf(dest, sizeof dest, "%s/backup.db", f->dir);
	veil_status st = veil_catalog_backup(f->c, dest, &e);
	int at_end = atomic_load(&w.added);
	atomic_store(&w.stop, true);
	pthread_join(th, NULL);
	assert_int_equal(st, VEIL_OK);
	assert_int_equal(atomic_load(&w.st), VEIL_OK);
	assert_true(at_end >= 20);

	struct stat sb;
	assert_int_equal(stat(dest, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(veil_catalog_backup(f->c, dest, &e), VEIL_E_EXISTS);

	/* the copy is a catalog in its own right, and one snapshot: versions
	 * 1..k of the busy dataset, each the same as in the source */
	veil_catalog *b;
	assert_int_equal(veil_catalog_open(dest, false, &b, &e), VEIL_OK);
	assert_int_equal(veil_catalog_integrity_check(b, &e), VEIL_OK);
	veil_dataset_version got, src;
	assert_int_equal(veil_catalog_dataset_get(b, "stable", 1, &got, &e), VEIL_OK);
	assert_int_equal(got.ntags, 1);
	veil_dataset_version_free(&got);
	assert_int_equal(veil_catalog_dataset_get(b, "busy", 0, &got, &e), VEIL_OK);
	uint32_t k = got.version;
	veil_dataset_version_free(&got);
	assert_true(k >= 20);
	for (uint32_t i = 1; i <= k; i++) {
		assert_int_equal(veil_catalog_dataset_get(b, "busy", i, &got, &e), VEIL_OK);
		assert_int_equal(veil_catalog_dataset_get(f->c, "busy", i, &src, &e), VEIL_OK);
		expect_same(&got, &src);
		veil_dataset_version_free(&got);
		veil_dataset_version_free(&src);
	}
	edges x = {0};
	assert_int_equal(veil_catalog_lineage_edges(b, "dataset_version", "stable@1", collect_edge, &x, &e),
	                 VEIL_OK);
	assert_int_equal(x.n, 1);
	veil_catalog_close(b);
	/* catalog.db, its -wal and -shm, backup.db and its -wal and -shm
	 * while open; no temp files */
	size_t n = dir_entries(f->dir);
	assert_true(n >= 2 && n <= 6);
	DIR *d = opendir(f->dir);
	struct dirent *de;
	while ((de = readdir(d)))
		assert_null(strstr(de->d_name, ".tmp-"));
	closedir(d);

	/* no backup in the middle of a transaction: it would copy uncommitted rows */
	snprintf(dest, sizeof dest, "%s/backup2.db", f->dir);
	assert_int_equal(veil_catalog_begin(f->c, &e), VEIL_OK);
	assert_int_equal(veil_catalog_backup(f->c, dest, &e), VEIL_E_INVALID);
	veil_catalog_rollback(f->c);
}

static void test_integrity(void **state)
{
	fixture *f = *state;
	veil_err e;
	veil_dataset_version v = make("d", "alice", "internal", 1);
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &v, &e), VEIL_OK);
	assert_int_equal(veil_catalog_integrity_check(f->c, &e), VEIL_OK);
	/* a row written outside veil, with foreign keys off, that points nowhere */
	raw_sql(f->path, "PRAGMA foreign_keys = OFF; INSERT INTO dataset_tags (version_id, key, value) "
	                 "VALUES (999, 'k', 'v')");
	assert_int_equal(veil_catalog_integrity_check(f->c, &e), VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "dataset_tags"));
}

static void test_stored_text_bounds(void **state)
{
	fixture *f = *state;
	veil_err e;
	veil_dataset_version v = make("d", "alice", "internal", 1), got;
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &v, &e), VEIL_OK);
	/* an owner longer than the field, smuggled past the CHECK constraints */
	raw_sql(f->path,
	        "PRAGMA ignore_check_constraints = ON; UPDATE datasets SET owner = "
	        "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'");
	assert_int_equal(veil_catalog_dataset_get(f->c, "d", 0, &got, &e), VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "owner"));
	assert_string_equal(got.name, ""); /* out is zeroed on error */
	raw_sql(f->path, "PRAGMA ignore_check_constraints = ON; UPDATE datasets SET owner = 'alice';"
	                 "UPDATE dataset_versions SET version = -4");
	assert_int_equal(veil_catalog_dataset_get(f->c, "d", 0, &got, &e), VEIL_E_CORRUPT);
}

static void test_parse_ref(void **state)
{
	(void)state;
	char long_name[80], long_ref[90];
	memset(long_name, 'a', 65);
	long_name[65] = '\0';
	snprintf(long_ref, sizeof long_ref, "%s@1", long_name);
	static const char max_name[] =
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"; /* 64 */
	const struct {
		const char *in;
		veil_status st;
		const char *name;
		uint32_t version;
	} rows[] = {
	        {"a", VEIL_OK, "a", 0},
	        {"a@1", VEIL_OK, "a", 1},
	        {"patients.v2_x-y@42", VEIL_OK, "patients.v2_x-y", 42},
	        {"a@4294967295", VEIL_OK, "a", 4294967295u},
	        {max_name, VEIL_OK, max_name, 0},
	        {"a@0", VEIL_E_INVALID, "", 0},
	        {"a@01", VEIL_E_INVALID, "", 0},
	        {"a@x", VEIL_E_INVALID, "", 0},
	        {"a@", VEIL_E_INVALID, "", 0},
	        {"a@-1", VEIL_E_INVALID, "", 0},
	        {"a@+1", VEIL_E_INVALID, "", 0},
	        {"a@1 ", VEIL_E_INVALID, "", 0},
	        {"a@4294967296", VEIL_E_INVALID, "", 0},
	        {"@1", VEIL_E_INVALID, "", 0},
	        {"", VEIL_E_INVALID, "", 0},
	        {"a@1@2", VEIL_E_INVALID, "", 0},
	        {"a b@1", VEIL_E_INVALID, "", 0},
	        {".hidden", VEIL_E_INVALID, "", 0},
	        {long_name, VEIL_E_INVALID, "", 0},
	        {long_ref, VEIL_E_INVALID, "", 0},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char name[VEIL_CATALOG_NAME_MAX] = "junk";
		uint32_t version = 77;
		veil_err e;
		veil_status st = veil_catalog_parse_ref(rows[i].in, name, &version, &e);
		if (st != rows[i].st)
			fail_msg("row %zu (%s): got %s", i, rows[i].in, veil_status_str(st));
		assert_string_equal(name, rows[i].name);
		assert_int_equal(version, rows[i].version);
		if (st)
			assert_true(e.msg[0] != '\0');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_create_open, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_migration_from_older, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_not_a_catalog, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_datasets, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_callback_stops, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_lineage, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_atomic_add, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_integrity, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_stored_text_bounds, setup, teardown),
	        cmocka_unit_test(test_parse_ref),
	};
	return cmocka_run_group_tests_name("catalog", tests, NULL, NULL);
}
