/* Unit tests for schema step 6 and what a scan writes to the catalog: the
 * trusted worker's reports (add, get, latest by kind, list order, every
 * refusal, the schema's own CHECKs for rows written around the code),
 * namespaced tag keys, replacing the tags under a prefix, raising a
 * dataset's classification, and the migration of a catalog that a
 * version-5 veil wrote (frozen.h), rows and all. */
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

/* The status of raw SQL on the file, for statements meant to fail. */
static int raw_rc(const char *path, const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

static void add(veil_catalog *c, const char *name, const char *owner, const char *cls, unsigned seed)
{
	veil_dataset_version v = make(name, owner, cls, seed);
	veil_err e;
	if (veil_catalog_dataset_add_version(c, &v, &e) != VEIL_OK)
		fail_msg("dataset %s: %s", name, e.msg);
}

static veil_report_record report(const char *name, uint32_t version, const char *kind, int passed,
                                 const char *summary)
{
	veil_report_record r;
	memset(&r, 0, sizeof r);
	snprintf(r.dataset, sizeof r.dataset, "%s", name);
	r.version = version;
	snprintf(r.kind, sizeof r.kind, "%s", kind);
	r.passed = passed;
	snprintf(r.summary, sizeof r.summary, "%s", summary);
	hex_of(40 + version, r.object_id);
	snprintf(r.dek_id, sizeof r.dek_id, "dek-report-%u", version);
	snprintf(r.kek, sizeof r.kek, "hospital-kek");
	r.size = 2048;
	hex_of(50 + version, r.sha256);
	hex_of(60, r.signer);
	snprintf(r.measurement, sizeof r.measurement, "%s",
	         "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c");
	snprintf(r.tee, sizeof r.tee, "sim");
	snprintf(r.created_by, sizeof r.created_by, "alice");
	return r;
}

static void expect_same(const veil_report_record *a, const veil_report_record *b)
{
	assert_int_equal(a->id, b->id);
	assert_string_equal(a->dataset, b->dataset);
	assert_int_equal(a->version, b->version);
	assert_string_equal(a->kind, b->kind);
	assert_int_equal(a->passed, b->passed);
	assert_string_equal(a->summary, b->summary);
	assert_string_equal(a->object_id, b->object_id);
	assert_string_equal(a->dek_id, b->dek_id);
	assert_string_equal(a->kek, b->kek);
	assert_int_equal(a->size, b->size);
	assert_string_equal(a->sha256, b->sha256);
	assert_string_equal(a->signer, b->signer);
	assert_string_equal(a->measurement, b->measurement);
	assert_string_equal(a->tee, b->tee);
	assert_int_equal(a->created, b->created);
	assert_string_equal(a->created_by, b->created_by);
}

static int64_t count(const char *path, const char *table)
{
	char sql[96];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
	return raw_int(path, sql);
}

/* ---- the schema step ---- */

static void test_schema_step(void **state)
{
	fixture *f = *state;
	assert_true(VEIL_CATALOG_SCHEMA_VERSION >= 6);
	assert_int_equal(raw_int(f->path, "SELECT strict FROM pragma_table_list WHERE name = 'reports'"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_index_list('reports') "
	                                  "WHERE name = 'reports_version'"),
	                 1);
	assert_int_equal(raw_int(f->path,
	                         "SELECT count(*) FROM schema_migrations "
	                         "WHERE version = 6 AND description = 'reports of the trusted worker'"),
	                 1);

	add(f->c, "patients", "alice", "confidential", 1);
	veil_catalog_close(f->c);
	f->c = NULL;
	/* A row written around the code meets the same rules: the schema's
	 * CHECKs refuse what veil_catalog_report_add refuses. */
#define COLS                                                                                                 \
	"INSERT INTO reports (version_id, kind, passed, summary, object_id, dek_id, kek, size, sha256, "     \
	"signer, measurement, tee, created, created_by) VALUES "
#define HEX "'0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'"
#define GOOD                                                                                                 \
	COLS "(1, 'validate', 1, '{\"rows\": 10}', " HEX ", 'd', 'k', 1, " HEX ", " HEX                      \
	     ", 'm', 'sim', 1, 'a')"
	assert_int_equal(raw_rc(f->path, GOOD), SQLITE_OK);
	static const char *const bad[] = {
	        COLS "(9, 'validate', 1, '{}', " HEX ", 'd', 'k', 1, " HEX ", " HEX ", 'm', 'sim', 1, 'a')",
	        COLS "(1, 'scan', 1, '{}', " HEX ", 'd', 'k', 1, " HEX ", " HEX ", 'm', 'sim', 1, 'a')",
	        COLS "(1, 'validate', 2, '{}', " HEX ", 'd', 'k', 1, " HEX ", " HEX ", 'm', 'sim', 1, 'a')",
	        COLS "(1, 'validate', 1, '[1]', " HEX ", 'd', 'k', 1, " HEX ", " HEX ", 'm', 'sim', 1, 'a')",
	        COLS "(1, 'validate', 1, 'not json', " HEX ", 'd', 'k', 1, " HEX ", " HEX
	             ", 'm', 'sim', 1, 'a')",
	        COLS
	        "(1, 'validate', 1, printf('{\"a\": \"%s\"}', replace(printf('%4090s', ''), ' ', 'x')), " HEX
	        ", 'd', 'k', 1, " HEX ", " HEX ", 'm', 'sim', 1, 'a')",
	        COLS "(1, 'validate', 1, '{}', upper(" HEX "), 'd', 'k', 1, " HEX ", " HEX
	             ", 'm', 'sim', 1, 'a')",
	        COLS "(1, 'validate', 1, '{}', " HEX ", '', 'k', 1, " HEX ", " HEX ", 'm', 'sim', 1, 'a')",
	        COLS "(1, 'validate', 1, '{}', " HEX ", 'd', 'k', -1, " HEX ", " HEX ", 'm', 'sim', 1, 'a')",
	        COLS "(1, 'validate', 1, '{}', " HEX ", 'd', 'k', 1, substr(" HEX ", 2), " HEX
	             ", 'm', 'sim', 1, 'a')",
	        COLS "(1, 'validate', 1, '{}', " HEX ", 'd', 'k', 1, " HEX ", 'g' || substr(" HEX
	             ", 2), 'm', 'sim', 1, 'a')",
	        COLS "(1, 'validate', 1, '{}', " HEX ", 'd', 'k', 1, " HEX ", " HEX
	             ", 'm' || char(27), 'sim', 1, 'a')",
	        COLS "(1, 'validate', 1, '{}', " HEX ", 'd', 'k', 1, " HEX ", " HEX ", '', 'sim', 1, 'a')",
	        COLS "(1, 'validate', 1, '{}', " HEX ", 'd', 'k', 1, " HEX ", " HEX ", 'm', '', 1, 'a')",
	        COLS "(1, 'validate', 1, '{}', " HEX ", 'd', 'k', 1, " HEX ", " HEX ", 'm', 'sim', -1, 'a')",
	        COLS "(1, 'validate', 1, '{}', " HEX ", 'd', 'k', 1, " HEX ", " HEX ", 'm', 'sim', 1, '')",
	        COLS "(1, 'validate', 'yes', '{}', " HEX ", 'd', 'k', 1, " HEX ", " HEX
	             ", 'm', 'sim', 1, 'a')",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		/* foreign keys are per connection: the first row needs them on */
		char sql[1024];
		snprintf(sql, sizeof sql, "PRAGMA foreign_keys = ON; %s", bad[i]);
		/* a constraint, not a typo in the test's SQL, refuses it */
		int rc = raw_rc(f->path, sql);
		if (rc != SQLITE_CONSTRAINT)
			fail_msg("row %zu: %s, not a constraint failure: %s", i, sqlite3_errstr(rc), bad[i]);
	}
	assert_int_equal(count(f->path, "reports"), 1);
#undef GOOD
#undef HEX
#undef COLS
	veil_err e;
	assert_int_equal(veil_catalog_open(f->path, false, &f->c, &e), VEIL_OK);
	veil_report_record got;
	assert_int_equal(veil_catalog_report_get(f->c, 1, &got, &e), VEIL_OK);
	assert_string_equal(got.summary, "{\"rows\": 10}");
}

/* ---- migration from version 5 ---- */

static const char v5_schema[] = FROZEN_STEP_1 FROZEN_STEP_2 FROZEN_STEP_3 FROZEN_STEP_4 FROZEN_STEP_5
        "INSERT INTO schema_migrations (version, description, applied) VALUES " FROZEN_RECORD_1
        ", " FROZEN_RECORD_2 ", " FROZEN_RECORD_3 ", " FROZEN_RECORD_4 ", " FROZEN_RECORD_5 ";";

/* What a version-5 workspace holds: a dataset in a compartment with two
 * versions (one deleted) and tags, lineage, a principal in a group with a
 * token, an access policy, a placed key and a release policy. */
static const char v5_rows[] =
        "INSERT INTO compartments (name, parent, description, created, created_by) VALUES"
        "  ('oncology', 'tenancy', 'ward 7', 1700000000, 'admin');"
        "INSERT INTO principals (name, kind, region, created, created_by) VALUES"
        "  ('alice', 'user', '', 1700000000, 'admin');"
        "INSERT INTO groups (name, created, created_by) VALUES ('admins', 1700000000, 'admin');"
        "INSERT INTO group_members (group_name, principal, added) VALUES ('admins', 'alice', 1700000000);"
        "INSERT INTO tokens (id, principal, hash, label, created, created_by) VALUES"
        "  ('0123456789abcdef', 'alice', zeroblob(32), 'laptop', 1700000000, 'admin');"
        "INSERT INTO policies (name, version, compartment, text, sha256, applied, applied_by) VALUES"
        "  ('base', 1, 'tenancy', 'abc',"
        "   'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 1700000000, 'admin');"
        "INSERT INTO key_compartments (name, compartment, created, created_by) VALUES"
        "  ('onc-kek', 'oncology', 1700000000, 'admin');"
        "INSERT INTO release_policies (name, version, compartment, text, sha256, applied, applied_by) VALUES"
        "  ('compartment:oncology', 1, 'oncology', 'abc',"
        "   'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 1700000000, 'admin');"
        "INSERT INTO datasets (id, name, owner, classification, created, compartment, region) VALUES"
        "  (1, 'patients', 'alice', 'confidential', 1700000000, 'oncology', 'eu-west');"
        "INSERT INTO dataset_versions (id, dataset_id, version, size, sha256, object_id, dek_id, kek,"
        "  chunk_size, created, created_by, state) VALUES"
        "  (1, 1, 1, 10, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',"
        "   'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'dek-1', 'onc-kek', 65536,"
        "   1700000000, 'alice', 'live'),"
        "  (2, 1, 2, 20, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',"
        "   'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'dek-2', 'onc-kek', 65536,"
        "   1700000001, 'alice', 'deleted');"
        "INSERT INTO dataset_tags (version_id, key, value) VALUES (1, 'source', 'ward 7'), (1, 'consent', "
        "'yes');"
        "INSERT INTO lineage_nodes (id, kind, ref) VALUES (1, 'dataset_version', 'patients@1'),"
        "  (2, 'file', 'x');"
        "INSERT INTO lineage_edges (from_node, to_node, relation, created) VALUES (1, 2, 'uploaded_from', "
        "1);";

/* The objects of steps 6 and later (test_training.c checks step 7's). */
#define NOT_STEP_6                                                                                           \
	"tbl_name NOT IN ('reports', 'jobs', 'job_metrics', 'models', 'model_versions', 'budgets', "         \
	"'budget_charges')"

static void test_migration_from_v5(void **state)
{
	fixture *f = *state;
	veil_err e;
	char old[160];
	snprintf(old, sizeof old, "%s/v5.db", f->dir);
	raw_sql(old, v5_schema);
	raw_sql(old, v5_rows);
	/* frozen.h is what this code's steps 1 to 5 make, object for object */
	char *frozen = raw_text(old, SCHEMA_TEXT);
	char *fresh5 = raw_text(f->path, SCHEMA_TEXT_WHERE(NOT_STEP_6));
	assert_string_equal(frozen, fresh5);
	free(frozen);
	free(fresh5);
	assert_int_equal(raw_int(old, "SELECT count(*) FROM sqlite_schema WHERE name = 'reports'"), 0);

	veil_catalog *c;
	assert_int_equal(veil_catalog_open(old, false, &c, &e), VEIL_OK);
	uint32_t version = 0;
	assert_int_equal(veil_catalog_schema_version(c, &version, &e), VEIL_OK);
	assert_int_equal(version, VEIL_CATALOG_SCHEMA_VERSION);
	assert_int_equal(veil_catalog_integrity_check(c, &e), VEIL_OK);

	/* every old row is still there and reads as before */
	veil_dataset_version got;
	assert_int_equal(veil_catalog_dataset_get(c, "patients", 0, &got, &e), VEIL_OK);
	assert_int_equal(got.version, 1);
	assert_string_equal(got.classification, "confidential");
	assert_string_equal(got.compartment, "oncology");
	assert_string_equal(got.region, "eu-west");
	assert_int_equal(got.ntags, 2);
	assert_string_equal(got.tags[0].key, "consent");
	assert_string_equal(got.tags[1].value, "ward 7");
	veil_dataset_version_free(&got);
	assert_int_equal(veil_catalog_dataset_get(c, "patients", 2, &got, &e), VEIL_E_NOTFOUND);
	veil_principal p;
	assert_int_equal(veil_catalog_principal_get(c, "alice", &p, &e), VEIL_OK);
	veil_token_info t;
	assert_int_equal(veil_catalog_token_get(c, "0123456789abcdef", &t, &e), VEIL_OK);
	assert_string_equal(t.label, "laptop");
	veil_policy_record pr;
	assert_int_equal(veil_catalog_release_policy_get(c, "compartment:oncology", 0, &pr, &e), VEIL_OK);
	assert_string_equal(pr.text, "abc");
	veil_policy_record_free(&pr);
	assert_int_equal(veil_catalog_policy_get(c, "base", 0, &pr, &e), VEIL_OK);
	veil_policy_record_free(&pr);
	char comp[VEIL_CATALOG_NAME_MAX];
	assert_int_equal(veil_catalog_key_compartment(c, "onc-kek", comp, &e), VEIL_OK);
	assert_string_equal(comp, "oncology");
	assert_int_equal(raw_int(old, "SELECT count(*) FROM lineage_edges"), 1);
	assert_int_equal(raw_int(old, "SELECT count(*) FROM group_members"), 1);

	/* the old dataset takes reports, tags and a higher class */
	veil_report_record r = report("patients", 1, "validate", 1, "{\"violations\": 0}");
	assert_int_equal(veil_catalog_report_add(c, &r, &e), VEIL_OK);
	assert_int_equal(r.id, 1);
	veil_tag pii[] = {{"pii:email", "0.98"}};
	assert_int_equal(veil_catalog_dataset_set_tags(c, "patients", 1, "pii:", pii, 1, &e), VEIL_OK);
	bool rose = false;
	assert_int_equal(veil_catalog_dataset_raise_class(c, "patients", "restricted", &rose, &e), VEIL_OK);
	assert_true(rose);
	assert_int_equal(veil_catalog_integrity_check(c, &e), VEIL_OK);
	veil_catalog_close(c);

	/* the migrated schema is the one a new catalog gets */
	char *migrated = raw_text(old, SCHEMA_TEXT);
	char *fresh = raw_text(f->path, SCHEMA_TEXT);
	assert_string_equal(migrated, fresh);
	assert_non_null(strstr(fresh, "json_valid(summary)"));
	free(migrated);
	free(fresh);
	/* reopening applies nothing twice */
	assert_int_equal(veil_catalog_open(old, false, &c, &e), VEIL_OK);
	veil_catalog_close(c);
	assert_int_equal(raw_int(old, "SELECT count(*) FROM schema_migrations"), VEIL_CATALOG_SCHEMA_VERSION);
	assert_int_equal(count(old, "reports"), 1);
	assert_int_equal(count(old, "dataset_tags"), 3);
}

/* ---- reports ---- */

static void test_report_add_get(void **state)
{
	fixture *f = *state;
	veil_err e;
	add(f->c, "patients", "alice", "confidential", 1);
	veil_report_record r = report("patients", 1, "validate", 0, "{\"violations\": 3, \"rows\": 1000}");
	int64_t before = veil_time_now();
	assert_int_equal(veil_catalog_report_add(f->c, &r, &e), VEIL_OK);
	assert_int_equal(r.id, 1);
	assert_true(r.created >= before && r.created <= veil_time_now());
	veil_report_record got;
	assert_int_equal(veil_catalog_report_get(f->c, 1, &got, &e), VEIL_OK);
	expect_same(&got, &r);

	/* a given time is kept; ids count up */
	veil_report_record p = report("patients", 1, "profile", -1, "{}");
	p.created = 1700000000;
	snprintf(p.tee, sizeof p.tee, "sev-snp");
	assert_int_equal(veil_catalog_report_add(f->c, &p, &e), VEIL_OK);
	assert_int_equal(p.id, 2);
	assert_int_equal(veil_catalog_report_get(f->c, 2, &got, &e), VEIL_OK);
	expect_same(&got, &p);
	assert_int_equal(got.created, 1700000000);
	assert_int_equal(got.passed, -1);

	/* the largest summary fits exactly */
	veil_report_record big = report("patients", 1, "features", 1, "");
	memset(big.summary, 'x', sizeof big.summary - 1);
	memcpy(big.summary, "{\"a\":\"", 6);
	memcpy(big.summary + sizeof big.summary - 3, "\"}", 3);
	assert_int_equal(strlen(big.summary), 4096);
	assert_int_equal(veil_catalog_report_add(f->c, &big, &e), VEIL_OK);
	assert_int_equal(veil_catalog_report_get(f->c, big.id, &got, &e), VEIL_OK);
	expect_same(&got, &big);

	assert_int_equal(veil_catalog_report_get(f->c, 99, &got, &e), VEIL_E_NOTFOUND);
	assert_string_equal(e.msg, "no report with id 99");
	assert_int_equal(got.id, 0);
	assert_string_equal(got.dataset, "");
	assert_int_equal(veil_catalog_report_get(f->c, 0, &got, &e), VEIL_E_NOTFOUND);
	assert_int_equal(veil_catalog_report_get(f->c, -1, &got, &e), VEIL_E_NOTFOUND);
}

typedef struct refusal {
	const char *what;
	void (*spoil)(veil_report_record *r);
	veil_status want;
	const char *msg; /* a part of the message */
} refusal;

static void no_dataset(veil_report_record *r)
{
	snprintf(r->dataset, sizeof r->dataset, "nosuch");
}
static void bad_dataset(veil_report_record *r)
{
	snprintf(r->dataset, sizeof r->dataset, "bad/name");
}
static void empty_dataset(veil_report_record *r)
{
	r->dataset[0] = '\0';
}
static void unterminated_dataset(veil_report_record *r)
{
	memset(r->dataset, 'a', sizeof r->dataset);
}
static void version_0(veil_report_record *r)
{
	r->version = 0;
}
static void version_9(veil_report_record *r)
{
	r->version = 9;
}
static void deleted_version(veil_report_record *r)
{
	r->version = 2;
}
static void kind_scan(veil_report_record *r)
{
	snprintf(r->kind, sizeof r->kind, "scan");
}
static void kind_empty(veil_report_record *r)
{
	r->kind[0] = '\0';
}
static void kind_upper(veil_report_record *r)
{
	snprintf(r->kind, sizeof r->kind, "Validate");
}
static void passed_2(veil_report_record *r)
{
	r->passed = 2;
}
static void passed_minus_2(veil_report_record *r)
{
	r->passed = -2;
}
static void summary_empty(veil_report_record *r)
{
	r->summary[0] = '\0';
}
static void summary_array(veil_report_record *r)
{
	snprintf(r->summary, sizeof r->summary, "[1, 2]");
}
static void summary_string(veil_report_record *r)
{
	snprintf(r->summary, sizeof r->summary, "\"passed\"");
}
static void summary_number(veil_report_record *r)
{
	snprintf(r->summary, sizeof r->summary, "1");
}
static void summary_open(veil_report_record *r)
{
	snprintf(r->summary, sizeof r->summary, "{\"a\": 1");
}
static void summary_trailing(veil_report_record *r)
{
	snprintf(r->summary, sizeof r->summary, "{\"a\": 1} {}");
}
static void summary_escape(veil_report_record *r)
{
	snprintf(r->summary, sizeof r->summary, "{\"a\": \"\x1b[31m\"}");
}
static void summary_not_utf8(veil_report_record *r)
{
	snprintf(r->summary, sizeof r->summary, "{\"a\": \"\xc3\x28\"}");
}
static void summary_unterminated(veil_report_record *r)
{
	memset(r->summary, ' ', sizeof r->summary);
	r->summary[0] = '{';
}
static void object_upper(veil_report_record *r)
{
	r->object_id[7] = 'A';
}
static void sha_short(veil_report_record *r)
{
	r->sha256[63] = '\0';
}
static void signer_g(veil_report_record *r)
{
	r->signer[0] = 'g';
}
static void dek_empty(veil_report_record *r)
{
	r->dek_id[0] = '\0';
}
static void dek_space(veil_report_record *r)
{
	snprintf(r->dek_id, sizeof r->dek_id, "dek 1");
}
static void kek_empty(veil_report_record *r)
{
	r->kek[0] = '\0';
}
static void measurement_empty(veil_report_record *r)
{
	r->measurement[0] = '\0';
}
static void measurement_newline(veil_report_record *r)
{
	snprintf(r->measurement, sizeof r->measurement, "abc\ndef");
}
static void measurement_utf8(veil_report_record *r)
{
	snprintf(r->measurement, sizeof r->measurement, "abc\xc3\xa9");
}
static void tee_empty(veil_report_record *r)
{
	r->tee[0] = '\0';
}
static void tee_space(veil_report_record *r)
{
	snprintf(r->tee, sizeof r->tee, "sev snp");
}
static void creator_empty(veil_report_record *r)
{
	r->created_by[0] = '\0';
}
static void created_negative(veil_report_record *r)
{
	r->created = -5;
}
static void size_huge(veil_report_record *r)
{
	r->size = (uint64_t)INT64_MAX + 1;
}

static void test_report_refusals(void **state)
{
	fixture *f = *state;
	veil_err e;
	add(f->c, "patients", "alice", "confidential", 1);
	add(f->c, "patients", "", "", 2);
	assert_int_equal(veil_catalog_dataset_mark_deleted(f->c, "patients", 2, &e), VEIL_OK);
	static const refusal rows[] = {
	        {"unknown dataset", no_dataset, VEIL_E_NOTFOUND, "no dataset named nosuch"},
	        {"bad dataset name", bad_dataset, VEIL_E_INVALID, "dataset name"},
	        {"no dataset name", empty_dataset, VEIL_E_INVALID, "dataset name"},
	        {"unterminated dataset name", unterminated_dataset, VEIL_E_INVALID, "not terminated"},
	        {"version 0", version_0, VEIL_E_INVALID, "give the version"},
	        {"unknown version", version_9, VEIL_E_NOTFOUND, "has no version 9 (latest is 2)"},
	        {"deleted version", deleted_version, VEIL_E_NOTFOUND, "was deleted"},
	        {"unknown kind", kind_scan, VEIL_E_INVALID, "kind"},
	        {"no kind", kind_empty, VEIL_E_INVALID, "kind"},
	        {"kind in capitals", kind_upper, VEIL_E_INVALID, "kind"},
	        {"verdict 2", passed_2, VEIL_E_INVALID, "verdict"},
	        {"verdict -2", passed_minus_2, VEIL_E_INVALID, "verdict"},
	        {"empty summary", summary_empty, VEIL_E_INVALID, "not a JSON object"},
	        {"summary an array", summary_array, VEIL_E_INVALID, "not a JSON object"},
	        {"summary a string", summary_string, VEIL_E_INVALID, "not a JSON object"},
	        {"summary a number", summary_number, VEIL_E_INVALID, "not a JSON object"},
	        {"summary unclosed", summary_open, VEIL_E_INVALID, "not a JSON object"},
	        {"summary with more after it", summary_trailing, VEIL_E_INVALID, "not a JSON object"},
	        {"summary with a raw escape", summary_escape, VEIL_E_INVALID, "not a JSON object"},
	        {"summary not UTF-8", summary_not_utf8, VEIL_E_INVALID, "not UTF-8 (byte 8)"},
	        {"summary over 4096 bytes", summary_unterminated, VEIL_E_LIMIT, "4096"},
	        {"object id in capitals", object_upper, VEIL_E_INVALID, "object id"},
	        {"SHA-256 too short", sha_short, VEIL_E_INVALID, "SHA-256"},
	        {"signer not hex", signer_g, VEIL_E_INVALID, "signer"},
	        {"no DEK id", dek_empty, VEIL_E_INVALID, "DEK id"},
	        {"DEK id with a space", dek_space, VEIL_E_INVALID, "DEK id"},
	        {"no KEK", kek_empty, VEIL_E_INVALID, "KEK"},
	        {"no measurement", measurement_empty, VEIL_E_INVALID, "measurement"},
	        {"measurement with a newline", measurement_newline, VEIL_E_INVALID, "measurement"},
	        {"measurement not ASCII", measurement_utf8, VEIL_E_INVALID, "measurement"},
	        {"no TEE", tee_empty, VEIL_E_INVALID, "TEE"},
	        {"TEE with a space", tee_space, VEIL_E_INVALID, "TEE"},
	        {"no creator", creator_empty, VEIL_E_INVALID, "creator"},
	        {"time before 1970", created_negative, VEIL_E_INVALID, "1970"},
	        {"size over INT64_MAX", size_huge, VEIL_E_LIMIT, "too large"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		veil_report_record r = report("patients", 1, "validate", 1, "{\"ok\": true}");
		rows[i].spoil(&r);
		veil_status st = veil_catalog_report_add(f->c, &r, &e);
		if (st != rows[i].want)
			fail_msg("%s: got %s (%s), want %s", rows[i].what, veil_status_str(st), e.msg,
			         veil_status_str(rows[i].want));
		if (!strstr(e.msg, rows[i].msg))
			fail_msg("%s: message '%s' lacks '%s'", rows[i].what, e.msg, rows[i].msg);
		assert_int_equal(r.id, 0);
	}
	assert_int_equal(count(f->path, "reports"), 0);
	/* and the unspoilt record is fine */
	veil_report_record r = report("patients", 1, "validate", 1, "{\"ok\": true}");
	assert_int_equal(veil_catalog_report_add(f->c, &r, &e), VEIL_OK);
	assert_int_equal(count(f->path, "reports"), 1);
}

typedef struct ids {
	int64_t id[16];
	uint32_t version[16];
	size_t n;
} ids;

static veil_status collect(void *ctx, const veil_report_record *r, veil_err *err)
{
	ids *x = ctx;
	if (x->n == 16)
		return veil_err_set(err, VEIL_E_LIMIT, "too many reports");
	x->version[x->n] = r->version;
	x->id[x->n++] = r->id;
	return VEIL_OK;
}

static veil_status stop(void *ctx, const veil_report_record *r, veil_err *err)
{
	(void)ctx, (void)r;
	return veil_err_set(err, VEIL_E_DENIED, "stop here");
}

static int64_t add_report(veil_catalog *c, const char *name, uint32_t version, const char *kind, int passed)
{
	veil_report_record r = report(name, version, kind, passed, "{}");
	veil_err e;
	if (veil_catalog_report_add(c, &r, &e) != VEIL_OK)
		fail_msg("report on %s@%u: %s", name, version, e.msg);
	return r.id;
}

static void test_report_latest_and_list(void **state)
{
	fixture *f = *state;
	veil_err e;
	add(f->c, "patients", "alice", "confidential", 1);
	add(f->c, "patients", "", "", 2);
	add(f->c, "mnist", "carol", "public", 3);
	add(f->c, "empty", "carol", "public", 4);
	/* ids: 1 p@1 validate fail, 2 p@1 profile, 3 p@1 validate pass,
	 * 4 p@2 validate, 5 mnist@1 features, 6 p@2 profile */
	assert_int_equal(add_report(f->c, "patients", 1, "validate", 0), 1);
	assert_int_equal(add_report(f->c, "patients", 1, "profile", -1), 2);
	assert_int_equal(add_report(f->c, "patients", 1, "validate", 1), 3);
	assert_int_equal(add_report(f->c, "patients", 2, "validate", 1), 4);
	assert_int_equal(add_report(f->c, "mnist", 1, "features", 1), 5);
	assert_int_equal(add_report(f->c, "patients", 2, "profile", -1), 6);

	/* latest: the one added last, of the kind asked, of that version */
	veil_report_record got;
	assert_int_equal(veil_catalog_report_latest(f->c, "patients", 1, "validate", &got, &e), VEIL_OK);
	assert_int_equal(got.id, 3);
	assert_int_equal(got.passed, 1);
	assert_int_equal(got.version, 1);
	assert_int_equal(veil_catalog_report_latest(f->c, "patients", 1, "profile", &got, &e), VEIL_OK);
	assert_int_equal(got.id, 2);
	assert_int_equal(veil_catalog_report_latest(f->c, "patients", 1, NULL, &got, &e), VEIL_OK);
	assert_int_equal(got.id, 3);
	assert_int_equal(veil_catalog_report_latest(f->c, "patients", 0, "validate", &got, &e), VEIL_OK);
	assert_int_equal(got.id, 4);
	assert_int_equal(got.version, 2);
	assert_int_equal(veil_catalog_report_latest(f->c, "patients", 0, NULL, &got, &e), VEIL_OK);
	assert_int_equal(got.id, 6);
	assert_int_equal(veil_catalog_report_latest(f->c, "mnist", 0, "features", &got, &e), VEIL_OK);
	assert_int_equal(got.id, 5);
	assert_string_equal(got.dataset, "mnist");

	assert_int_equal(veil_catalog_report_latest(f->c, "patients", 2, "features", &got, &e),
	                 VEIL_E_NOTFOUND);
	assert_string_equal(e.msg, "patients@2 has no features report");
	assert_int_equal(got.id, 0);
	assert_int_equal(veil_catalog_report_latest(f->c, "empty", 0, NULL, &got, &e), VEIL_E_NOTFOUND);
	assert_string_equal(e.msg, "empty@1 has no report");
	assert_int_equal(veil_catalog_report_latest(f->c, "patients", 9, NULL, &got, &e), VEIL_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "no version 9"));
	assert_int_equal(veil_catalog_report_latest(f->c, "nosuch", 0, NULL, &got, &e), VEIL_E_NOTFOUND);
	assert_int_equal(veil_catalog_report_latest(f->c, "patients", 0, "scan", &got, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_report_latest(f->c, "bad/name", 0, NULL, &got, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_report_latest(f->c, NULL, 0, NULL, &got, &e), VEIL_E_INVALID);

	/* list: oldest first, one dataset's every version, or everything */
	ids x = {0};
	assert_int_equal(veil_catalog_report_list(f->c, "patients", collect, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 5);
	static const int64_t want[] = {1, 2, 3, 4, 6};
	static const uint32_t want_v[] = {1, 1, 1, 2, 2};
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(x.id[i], want[i]);
		assert_int_equal(x.version[i], want_v[i]);
	}
	memset(&x, 0, sizeof x);
	assert_int_equal(veil_catalog_report_list(f->c, NULL, collect, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 6);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(x.id[i], (int64_t)i + 1);
	memset(&x, 0, sizeof x);
	assert_int_equal(veil_catalog_report_list(f->c, "mnist", collect, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 1);
	assert_int_equal(x.id[0], 5);
	memset(&x, 0, sizeof x);
	assert_int_equal(veil_catalog_report_list(f->c, "empty", collect, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 0);
	assert_int_equal(veil_catalog_report_list(f->c, "nosuch", collect, &x, &e), VEIL_E_NOTFOUND);
	assert_string_equal(e.msg, "no dataset named nosuch");
	assert_int_equal(veil_catalog_report_list(f->c, "bad name", collect, &x, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_report_list(f->c, "patients", stop, NULL, &e), VEIL_E_DENIED);
	assert_string_equal(e.msg, "stop here");

	/* a deleted version takes no new report, but its reports stay readable
	 * by number; "latest" moves to the newest live version */
	assert_int_equal(veil_catalog_dataset_mark_deleted(f->c, "patients", 2, &e), VEIL_OK);
	veil_report_record r = report("patients", 2, "validate", 1, "{}");
	assert_int_equal(veil_catalog_report_add(f->c, &r, &e), VEIL_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "deleted"));
	assert_int_equal(veil_catalog_report_latest(f->c, "patients", 2, NULL, &got, &e), VEIL_OK);
	assert_int_equal(got.id, 6);
	assert_int_equal(veil_catalog_report_latest(f->c, "patients", 0, NULL, &got, &e), VEIL_OK);
	assert_int_equal(got.id, 3);
}

static void test_report_in_transaction(void **state)
{
	fixture *f = *state;
	veil_err e;
	add(f->c, "patients", "alice", "confidential", 1);
	/* rolled back with the caller's transaction */
	assert_int_equal(veil_catalog_begin(f->c, &e), VEIL_OK);
	add_report(f->c, "patients", 1, "validate", 1);
	veil_catalog_rollback(f->c);
	assert_int_equal(count(f->path, "reports"), 0);
	/* a refused add inside it leaves the rest of the transaction to commit */
	assert_int_equal(veil_catalog_begin(f->c, &e), VEIL_OK);
	add_report(f->c, "patients", 1, "validate", 1);
	veil_report_record r = report("patients", 7, "validate", 1, "{}");
	assert_int_equal(veil_catalog_report_add(f->c, &r, &e), VEIL_E_NOTFOUND);
	veil_tag t[] = {{"pii:email", "1"}};
	assert_int_equal(veil_catalog_dataset_set_tags(f->c, "patients", 1, "pii:", t, 1, &e), VEIL_OK);
	assert_int_equal(veil_catalog_commit(f->c, &e), VEIL_OK);
	assert_int_equal(count(f->path, "reports"), 1);
	assert_int_equal(count(f->path, "dataset_tags"), 1);
}

/* ---- tags ---- */

static void test_tag_keys(void **state)
{
	fixture *f = *state;
	veil_err e;
	/* 64 characters with a namespace is the longest key */
	veil_tag good[] = {
	        {"source", "ward 7"}, {"pii:email", "0.97"}, {"q.i_d-1:post.code_2", ""}, {"", ""}};
	memset(good[3].key, 'a', 64);
	good[3].key[10] = ':';
	veil_dataset_version v = make("patients", "alice", "confidential", 1);
	v.tags = good;
	v.ntags = 4;
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &v, &e), VEIL_OK);
	veil_dataset_version got;
	assert_int_equal(veil_catalog_dataset_get(f->c, "patients", 1, &got, &e), VEIL_OK);
	assert_int_equal(got.ntags, 4);
	assert_string_equal(got.tags[1].key, "pii:email");
	veil_dataset_version_free(&got);

	static const char *const bad[] = {"pii:",       ":email",     "a:b:c",     "pii:e mail",
	                                  "-pii:email", "pii:-email", ".x:y",      "x:.y",
	                                  "pii::email", "p/i:x",      "pii:email:"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		veil_tag t = {{0}, "1"};
		snprintf(t.key, sizeof t.key, "%s", bad[i]);
		v = make("other", "alice", "public", 2);
		v.tags = &t;
		v.ntags = 1;
		if (veil_catalog_dataset_add_version(f->c, &v, &e) != VEIL_E_INVALID)
			fail_msg("tag key '%s' was accepted", bad[i]);
		/* set_tags checks keys the same way */
		if (veil_catalog_dataset_set_tags(f->c, "patients", 1, "p", &t, 1, &e) != VEIL_E_INVALID)
			fail_msg("tag key '%s' was accepted by set_tags", bad[i]);
	}
	veil_tag t;
	memset(t.key, 'a', sizeof t.key); /* 65 characters: not terminated */
	t.key[3] = ':';
	snprintf(t.value, sizeof t.value, "1");
	v = make("other", "alice", "public", 2);
	v.tags = &t;
	v.ntags = 1;
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &v, &e), VEIL_E_INVALID);
	assert_int_equal(count(f->path, "datasets"), 1);
}

static veil_status tags_of(veil_catalog *c, const char *name, uint32_t version, char *out, size_t outsz)
{
	veil_dataset_version v;
	veil_err e;
	veil_status st = veil_catalog_dataset_get(c, name, version, &v, &e);
	if (st)
		return st;
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < v.ntags; i++) {
		int n = snprintf(out + used, outsz - used, "%s%s=%s", i ? " " : "", v.tags[i].key,
		                 v.tags[i].value);
		assert_true(n > 0 && (size_t)n < outsz - used);
		used += (size_t)n;
	}
	veil_dataset_version_free(&v);
	return VEIL_OK;
}

static void test_set_tags(void **state)
{
	fixture *f = *state;
	veil_err e;
	char got[4096];
	veil_tag first[] = {{"source", "ward 7"}, {"pii:phone", "0.5"}, {"a_b:x", "1"}, {"aXb:y", "2"}};
	veil_dataset_version v = make("patients", "alice", "confidential", 1);
	v.tags = first;
	v.ntags = 4;
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &v, &e), VEIL_OK);
	add(f->c, "patients", "", "", 2);

	/* what a scan finds replaces what the last scan found, and only that */
	veil_tag scan[] = {{"pii:ssn", "1.0"}, {"pii:email", "0.93"}};
	assert_int_equal(veil_catalog_dataset_set_tags(f->c, "patients", 1, "pii:", scan, 2, &e), VEIL_OK);
	assert_int_equal(tags_of(f->c, "patients", 1, got, sizeof got), VEIL_OK);
	assert_string_equal(got, "aXb:y=2 a_b:x=1 pii:email=0.93 pii:ssn=1.0 source=ward 7");
	assert_int_equal(tags_of(f->c, "patients", 2, got, sizeof got), VEIL_OK);
	assert_string_equal(got, "");
	/* a scan that finds nothing clears its namespace */
	assert_int_equal(veil_catalog_dataset_set_tags(f->c, "patients", 1, "pii:", NULL, 0, &e), VEIL_OK);
	assert_int_equal(tags_of(f->c, "patients", 1, got, sizeof got), VEIL_OK);
	assert_string_equal(got, "aXb:y=2 a_b:x=1 source=ward 7");
	/* '_' in a prefix is a character, not a LIKE pattern */
	assert_int_equal(veil_catalog_dataset_set_tags(f->c, "patients", 1, "a_b:", NULL, 0, &e), VEIL_OK);
	assert_int_equal(tags_of(f->c, "patients", 1, got, sizeof got), VEIL_OK);
	assert_string_equal(got, "aXb:y=2 source=ward 7");
	/* a prefix need not end at the colon */
	veil_tag one[] = {{"source", "ward 8"}};
	assert_int_equal(veil_catalog_dataset_set_tags(f->c, "patients", 1, "sour", one, 1, &e), VEIL_OK);
	assert_int_equal(tags_of(f->c, "patients", 1, got, sizeof got), VEIL_OK);
	assert_string_equal(got, "aXb:y=2 source=ward 8");

	/* refusals change nothing */
	veil_tag mixed[] = {{"pii:email", "1"}, {"quasi:age", "1"}};
	assert_int_equal(veil_catalog_dataset_set_tags(f->c, "patients", 1, "pii:", mixed, 2, &e),
	                 VEIL_E_INVALID);
	assert_string_equal(e.msg, "tag quasi:age does not start with pii:, the prefix it replaces");
	veil_tag dup[] = {{"pii:email", "1"}, {"pii:email", "2"}};
	assert_int_equal(veil_catalog_dataset_set_tags(f->c, "patients", 1, "pii:", dup, 2, &e),
	                 VEIL_E_INVALID);
	assert_int_equal(veil_catalog_dataset_set_tags(f->c, "patients", 1, "", scan, 0, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_dataset_set_tags(f->c, "patients", 1, NULL, scan, 0, &e),
	                 VEIL_E_INVALID);
	assert_int_equal(veil_catalog_dataset_set_tags(f->c, "patients", 1, "p i", NULL, 0, &e),
	                 VEIL_E_INVALID);
	assert_int_equal(veil_catalog_dataset_set_tags(f->c, "patients", 1, "a:b:", NULL, 0, &e),
	                 VEIL_E_INVALID);
	assert_int_equal(veil_catalog_dataset_set_tags(f->c, "patients", 1, ":", NULL, 0, &e),
	                 VEIL_E_INVALID);
	assert_int_equal(veil_catalog_dataset_set_tags(f->c, "patients", 0, "pii:", scan, 2, &e),
	                 VEIL_E_INVALID);
	assert_int_equal(veil_catalog_dataset_set_tags(f->c, "patients", 9, "pii:", scan, 2, &e),
	                 VEIL_E_NOTFOUND);
	assert_string_equal(e.msg, "dataset patients has no version 9 (latest is 2)");
	assert_int_equal(veil_catalog_dataset_set_tags(f->c, "nosuch", 1, "pii:", scan, 2, &e),
	                 VEIL_E_NOTFOUND);
	assert_int_equal(veil_catalog_dataset_set_tags(f->c, "bad name", 1, "pii:", scan, 2, &e),
	                 VEIL_E_INVALID);
	assert_int_equal(veil_catalog_dataset_set_tags(f->c, "patients", 1, "pii:", NULL, 1, &e),
	                 VEIL_E_INVALID);
	assert_int_equal(veil_catalog_dataset_mark_deleted(f->c, "patients", 2, &e), VEIL_OK);
	assert_int_equal(veil_catalog_dataset_set_tags(f->c, "patients", 2, "pii:", scan, 2, &e),
	                 VEIL_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "deleted"));
	assert_int_equal(tags_of(f->c, "patients", 1, got, sizeof got), VEIL_OK);
	assert_string_equal(got, "aXb:y=2 source=ward 8");

	/* the total is bounded; a scan that would pass it changes nothing,
	 * not even the tags it would have removed */
	veil_tag many[VEIL_CATALOG_TAGS_MAX + 1];
	memset(many, 0, sizeof many);
	for (size_t i = 0; i < VEIL_CATALOG_TAGS_MAX + 1; i++) {
		snprintf(many[i].key, sizeof many[i].key, "pii:k%02zu", i);
		snprintf(many[i].value, sizeof many[i].value, "%zu", i);
	}
	assert_int_equal(veil_catalog_dataset_set_tags(f->c, "patients", 1, "pii:", many, 3, &e), VEIL_OK);
	/* 2 kept + 62 = 64: fits */
	assert_int_equal(veil_catalog_dataset_set_tags(f->c, "patients", 1, "pii:", many,
	                                               VEIL_CATALOG_TAGS_MAX - 2, &e),
	                 VEIL_OK);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM dataset_tags WHERE version_id = 1"), 64);
	veil_dataset_version all;
	assert_int_equal(veil_catalog_dataset_get(f->c, "patients", 1, &all, &e), VEIL_OK);
	assert_int_equal(all.ntags, VEIL_CATALOG_TAGS_MAX);
	veil_dataset_version_free(&all);
	assert_int_equal(veil_catalog_dataset_set_tags(f->c, "patients", 1, "pii:", many, 3, &e), VEIL_OK);
	/* 2 kept + 63 = 65: too many */
	assert_int_equal(veil_catalog_dataset_set_tags(f->c, "patients", 1, "pii:", many,
	                                               VEIL_CATALOG_TAGS_MAX - 1, &e),
	                 VEIL_E_LIMIT);
	assert_non_null(strstr(e.msg, "65 tags"));
	assert_int_equal(veil_catalog_dataset_set_tags(f->c, "patients", 1, "pii:", many,
	                                               VEIL_CATALOG_TAGS_MAX + 1, &e),
	                 VEIL_E_LIMIT);
	assert_int_equal(tags_of(f->c, "patients", 1, got, sizeof got), VEIL_OK);
	assert_string_equal(got, "aXb:y=2 pii:k00=0 pii:k01=1 pii:k02=2 source=ward 8");

	/* in the caller's transaction: rolled back with it */
	assert_int_equal(veil_catalog_begin(f->c, &e), VEIL_OK);
	assert_int_equal(veil_catalog_dataset_set_tags(f->c, "patients", 1, "pii:", NULL, 0, &e), VEIL_OK);
	veil_catalog_rollback(f->c);
	assert_int_equal(tags_of(f->c, "patients", 1, got, sizeof got), VEIL_OK);
	assert_string_equal(got, "aXb:y=2 pii:k00=0 pii:k01=1 pii:k02=2 source=ward 8");
}

/* ---- classification ---- */

static void test_raise_class(void **state)
{
	fixture *f = *state;
	veil_err e;
	add(f->c, "patients", "alice", "internal", 1);
	add(f->c, "patients", "", "", 2);
	bool changed = true;
	/* lower and equal change nothing */
	assert_int_equal(veil_catalog_dataset_raise_class(f->c, "patients", "public", &changed, &e), VEIL_OK);
	assert_false(changed);
	changed = true;
	assert_int_equal(veil_catalog_dataset_raise_class(f->c, "patients", "internal", &changed, &e),
	                 VEIL_OK);
	assert_false(changed);
	veil_dataset_version got;
	assert_int_equal(veil_catalog_dataset_get(f->c, "patients", 0, &got, &e), VEIL_OK);
	assert_string_equal(got.classification, "internal");
	veil_dataset_version_free(&got);
	/* higher rises, for every version (it is the dataset's) */
	assert_int_equal(veil_catalog_dataset_raise_class(f->c, "patients", "confidential", &changed, &e),
	                 VEIL_OK);
	assert_true(changed);
	assert_int_equal(veil_catalog_dataset_raise_class(f->c, "patients", "restricted", NULL, &e), VEIL_OK);
	assert_int_equal(veil_catalog_dataset_get(f->c, "patients", 1, &got, &e), VEIL_OK);
	assert_string_equal(got.classification, "restricted");
	veil_dataset_version_free(&got);
	/* and never comes down again */
	static const char *const lower[] = {"public", "internal", "confidential", "restricted"};
	for (size_t i = 0; i < 4; i++) {
		changed = true;
		assert_int_equal(veil_catalog_dataset_raise_class(f->c, "patients", lower[i], &changed, &e),
		                 VEIL_OK);
		assert_false(changed);
	}
	assert_int_equal(
	        raw_int(f->path, "SELECT count(*) FROM datasets WHERE classification = 'restricted'"), 1);
	/* a new version keeps the raised class; it cannot bring back the old one */
	veil_dataset_version v = make("patients", "", "", 3);
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &v, &e), VEIL_OK);
	assert_string_equal(v.classification, "restricted");
	v = make("patients", "", "internal", 4);
	assert_int_equal(veil_catalog_dataset_add_version(f->c, &v, &e), VEIL_E_INVALID);

	changed = true;
	assert_int_equal(veil_catalog_dataset_raise_class(f->c, "patients", "secret", &changed, &e),
	                 VEIL_E_INVALID);
	assert_false(changed);
	assert_int_equal(veil_catalog_dataset_raise_class(f->c, "patients", "Restricted", NULL, &e),
	                 VEIL_E_INVALID);
	assert_int_equal(veil_catalog_dataset_raise_class(f->c, "patients", NULL, NULL, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_dataset_raise_class(f->c, "nosuch", "restricted", &changed, &e),
	                 VEIL_E_NOTFOUND);
	assert_string_equal(e.msg, "no dataset named nosuch");
	assert_int_equal(veil_catalog_dataset_raise_class(f->c, "bad name", "restricted", NULL, &e),
	                 VEIL_E_INVALID);

	/* in the caller's transaction: rolled back with it */
	add(f->c, "mnist", "carol", "public", 9);
	assert_int_equal(veil_catalog_begin(f->c, &e), VEIL_OK);
	assert_int_equal(veil_catalog_dataset_raise_class(f->c, "mnist", "confidential", &changed, &e),
	                 VEIL_OK);
	assert_true(changed);
	veil_catalog_rollback(f->c);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM datasets WHERE classification = 'public'"),
	                 1);

	/* a class written around the code is reported, not ranked */
	veil_catalog_close(f->c);
	f->c = NULL;
	raw_sql(f->path, "PRAGMA ignore_check_constraints = ON; "
	                 "UPDATE datasets SET classification = 'top' WHERE name = 'mnist'");
	assert_int_equal(veil_catalog_open(f->path, false, &f->c, &e), VEIL_OK);
	assert_int_equal(veil_catalog_dataset_raise_class(f->c, "mnist", "restricted", &changed, &e),
	                 VEIL_E_CORRUPT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_schema_step, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_migration_from_v5, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_report_add_get, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_report_refusals, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_report_latest_and_list, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_report_in_transaction, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_tag_keys, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_set_tags, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_raise_class, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
