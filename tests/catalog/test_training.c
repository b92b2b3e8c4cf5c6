/* Unit tests for schema step 7, the training records: jobs (add, get,
 * every state transition, checkpoints, progress, the model a job made),
 * metric series and their bound, models and their versions (latest,
 * deleted, classification that only rises), the objects gc must know,
 * privacy budgets (set, the arithmetic of charges at the edge of a budget,
 * all-or-nothing charges of several datasets, no second charge of a
 * resumed job), the schema's own CHECKs for rows written around the code,
 * the integrity check, and the migration of a catalog that a version-6
 * veil wrote, rows and all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fixture.h"
#include "frozen.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "veil/catalog.h"

/* Schema step 6 exactly as schema.c has it (frozen.h stops at step 5; a
 * released step is never edited, so this copy stays right). */
#define FROZEN_STEP_6                                                                                        \
	"CREATE TABLE reports ("                                                                             \
	"  id INTEGER PRIMARY KEY,"                                                                          \
	"  version_id INTEGER NOT NULL REFERENCES dataset_versions (id),"                                    \
	"  kind TEXT NOT NULL CHECK (kind IN ('validate', 'profile', 'features')),"                          \
	"  passed INTEGER NOT NULL CHECK (passed IN (-1, 0, 1)),"                                            \
	"  summary TEXT NOT NULL CHECK (length(CAST(summary AS BLOB)) <= 4096"                               \
	"    AND json_valid(summary) AND json_type(summary) = 'object'),"                                    \
	"  object_id TEXT NOT NULL CHECK (length(object_id) = 64 AND object_id NOT GLOB '*[^0-9a-f]*'),"     \
	"  dek_id TEXT NOT NULL CHECK (length(dek_id) BETWEEN 1 AND 47),"                                    \
	"  kek TEXT NOT NULL CHECK (length(kek) BETWEEN 1 AND 64),"                                          \
	"  size INTEGER NOT NULL CHECK (size >= 0),"                                                         \
	"  sha256 TEXT NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),"              \
	"  signer TEXT NOT NULL CHECK (length(signer) = 64 AND signer NOT GLOB '*[^0-9a-f]*'),"              \
	"  measurement TEXT NOT NULL CHECK (length(CAST(measurement AS BLOB)) BETWEEN 1 AND 256"             \
	"    AND measurement NOT GLOB '*[^ -~]*'),"                                                          \
	"  tee TEXT NOT NULL CHECK (length(tee) BETWEEN 1 AND 64),"                                          \
	"  created INTEGER NOT NULL CHECK (created >= 0),"                                                   \
	"  created_by TEXT NOT NULL CHECK (length(created_by) BETWEEN 1 AND 64)"                             \
	") STRICT;"                                                                                          \
	"CREATE INDEX reports_version ON reports (version_id);"
#define FROZEN_RECORD_6 "(6, 'reports of the trusted worker', 1700000000)"

/* The tables of step 7, for comparing schemas without them. */
#define NOT_STEP_7                                                                                           \
	"tbl_name NOT IN ('jobs', 'job_metrics', 'models', 'model_versions', 'budgets', 'budget_charges')"

/* SHA-256("abc"), FIPS 180-2 appendix B.1. */
#define SHA256_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static const char spec_text[] = "training_job:\n  name: fmnist-dp\n  dataset: patients@1\n";

/* The status of raw SQL on the file, for statements meant to fail. */
static int raw_rc(const char *path, const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

static int64_t count(const char *path, const char *table)
{
	char sql[96];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
	return raw_int(path, sql);
}

static void add_data(veil_catalog *c, const char *name, const char *owner, const char *cls, unsigned seed)
{
	veil_dataset_version v = make(name, owner, cls, seed);
	veil_err e;
	if (veil_catalog_dataset_add_version(c, &v, &e) != VEIL_OK)
		fail_msg("dataset %s: %s", name, e.msg);
}

static veil_job_record job_of(const char *kind, const char *name)
{
	veil_job_record j;
	memset(&j, 0, sizeof j);
	snprintf(j.kind, sizeof j.kind, "%s", kind);
	snprintf(j.name, sizeof j.name, "%s", name);
	j.spec = (char *)spec_text;
	j.spec_len = sizeof spec_text - 1;
	snprintf(j.created_by, sizeof j.created_by, "bob");
	return j;
}

/* Adds a train job and gives its id. */
static void new_job(veil_catalog *c, char id[VEIL_CATALOG_JOB_ID_MAX])
{
	veil_job_record j = job_of("train", "fmnist-dp");
	veil_err e;
	if (veil_catalog_job_add(c, &j, &e) != VEIL_OK)
		fail_msg("job: %s", e.msg);
	memcpy(id, j.id, VEIL_CATALOG_JOB_ID_MAX);
}

static void set_state(veil_catalog *c, const char *id, const char *state)
{
	veil_err e;
	if (veil_catalog_job_set_state(c, id, state, NULL, &e) != VEIL_OK)
		fail_msg("job %s to %s: %s", id, state, e.msg);
}

static veil_job_checkpoint ckpt_of(unsigned seed, uint64_t step)
{
	veil_job_checkpoint k;
	memset(&k, 0, sizeof k);
	k.present = true;
	hex_of(300 + seed, k.object_id);
	snprintf(k.dek_id, sizeof k.dek_id, "dek-ckpt-%u", seed);
	snprintf(k.kek, sizeof k.kek, "ml-kek");
	k.size = 4096 + seed;
	hex_of(400 + seed, k.sha256);
	k.step = step;
	return k;
}

static veil_model_version model_of(const char *name, const char *job, const char *cls, unsigned seed)
{
	veil_model_version v;
	memset(&v, 0, sizeof v);
	snprintf(v.name, sizeof v.name, "%s", name);
	snprintf(v.owner, sizeof v.owner, "bob");
	snprintf(v.classification, sizeof v.classification, "%s", cls);
	v.size = 200000 + seed;
	hex_of(500 + seed, v.sha256);
	hex_of(600 + seed, v.object_id);
	snprintf(v.dek_id, sizeof v.dek_id, "dek-model-%u", seed);
	snprintf(v.kek, sizeof v.kek, "ml-kek");
	v.chunk_size = 65536;
	snprintf(v.job_id, sizeof v.job_id, "%s", job);
	snprintf(v.summary, sizeof v.summary, "{\"architecture\": \"mlp\", \"accuracy\": 0.%u}", 80 + seed);
	v.dp = true;
	v.epsilon = 3.0;
	v.delta = 1e-5;
	snprintf(v.created_by, sizeof v.created_by, "bob");
	return v;
}

/* A running job that made model name@N; gives the job id. */
static uint32_t add_model(veil_catalog *c, const char *name, const char *cls, unsigned seed,
                          char job[VEIL_CATALOG_JOB_ID_MAX])
{
	new_job(c, job);
	set_state(c, job, "running");
	veil_model_version v = model_of(name, job, cls, seed);
	veil_err e;
	if (veil_catalog_model_add_version(c, &v, &e) != VEIL_OK)
		fail_msg("model %s: %s", name, e.msg);
	return v.version;
}

static void same_ckpt(const veil_job_checkpoint *a, const veil_job_checkpoint *b)
{
	assert_int_equal(a->present, b->present);
	assert_string_equal(a->object_id, b->object_id);
	assert_string_equal(a->dek_id, b->dek_id);
	assert_string_equal(a->kek, b->kek);
	assert_int_equal(a->size, b->size);
	assert_string_equal(a->sha256, b->sha256);
	assert_int_equal(a->step, b->step);
}

static void same_model(const veil_model_version *a, const veil_model_version *b)
{
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->version, b->version);
	assert_string_equal(a->owner, b->owner);
	assert_string_equal(a->compartment, b->compartment);
	assert_string_equal(a->classification, b->classification);
	assert_int_equal(a->size, b->size);
	assert_string_equal(a->sha256, b->sha256);
	assert_string_equal(a->object_id, b->object_id);
	assert_string_equal(a->dek_id, b->dek_id);
	assert_string_equal(a->kek, b->kek);
	assert_int_equal(a->chunk_size, b->chunk_size);
	assert_string_equal(a->job_id, b->job_id);
	assert_string_equal(a->summary, b->summary);
	assert_int_equal(a->dp, b->dp);
	assert_true(a->epsilon == b->epsilon && a->delta == b->delta);
	assert_int_equal(a->created, b->created);
	assert_string_equal(a->created_by, b->created_by);
	assert_string_equal(a->state, b->state);
}

/* ---- the schema step ---- */

/* Every row of bad[] is refused by a constraint, not by a typo in the
 * test's SQL; foreign keys are per connection, so they are turned on. */
static void refused_all(const char *path, const char *const *bad, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char sql[2048];
		snprintf(sql, sizeof sql, "PRAGMA foreign_keys = ON; %s", bad[i]);
		int rc = raw_rc(path, sql);
		if (rc != SQLITE_CONSTRAINT)
			fail_msg("row %zu: %s, not a constraint failure: %s", i, sqlite3_errstr(rc), bad[i]);
	}
}

#define HEX  "'0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'"
#define JOB  "'j-0123456789abcdef'"
#define JOB2 "'j-00000000000000aa'"

static void test_schema_step(void **state)
{
	fixture *f = *state;
	assert_int_equal(VEIL_CATALOG_SCHEMA_VERSION, 8);
	static const char *const tables[] = {"jobs",           "job_metrics", "models",
	                                     "model_versions", "budgets",     "budget_charges"};
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		char sql[128];
		snprintf(sql, sizeof sql, "SELECT strict FROM pragma_table_list WHERE name = '%s'",
		         tables[i]);
		assert_int_equal(raw_int(f->path, sql), 1);
	}
	assert_int_equal(raw_int(f->path,
	                         "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN "
	                         "('jobs_created', 'model_versions_job', 'budget_charges_version')"),
	                 3);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM schema_migrations WHERE version = 7 AND "
	                                  "description = 'training jobs, metrics, models, privacy budgets'"),
	                 1);
	add_data(f->c, "patients", "alice", "confidential", 1);
	veil_catalog_close(f->c);
	f->c = NULL;

	/* jobs: a good row, then each column and rule broken once */
#define JCOLS                                                                                                \
	"INSERT INTO jobs (id, kind, name, state, job_sha256, spec, created_by, created, updated, "          \
	"finished, "                                                                                         \
	"error, ckpt_object_id, ckpt_dek_id, ckpt_kek, ckpt_size, ckpt_sha256, ckpt_step, epoch, step, "     \
	"steps_total, epsilon_spent) VALUES "
#define JROW(id, kind, state, sha, spec, times, error, ckpt, progress)                                       \
	JCOLS "(" id ", " kind ", 'n', " state ", " sha ", " spec ", 'bob', " times ", " error ", " ckpt     \
	      ", " progress ")"
#define NOCKPT "NULL, NULL, NULL, NULL, NULL, NULL"
#define CKPT   HEX ", 'd', 'k', 1, " HEX ", 5"
	assert_int_equal(raw_rc(f->path, JROW(JOB, "'train'", "'running'", HEX, "'x'", "1, 2, 0", "''", CKPT,
	                                      "1, 5, 10, 0.5")),
	                 SQLITE_OK);
	assert_int_equal(raw_rc(f->path, JROW(JOB2, "'tune'", "'failed'", HEX, "'x'", "1, 2, 2", "'oom'",
	                                      NOCKPT, "0, 0, 0, 0")),
	                 SQLITE_OK);
	static const char *const bad_jobs[] = {
	        JROW("'j-0123456789abcdeF'", "'train'", "'queued'", HEX, "'x'", "1, 1, 0", "''", NOCKPT,
	             "0, 0, 0, 0"),
	        JROW("'k-0123456789abcde0'", "'train'", "'queued'", HEX, "'x'", "1, 1, 0", "''", NOCKPT,
	             "0, 0, 0, 0"),
	        JROW("'j-0123456789abcde'", "'train'", "'queued'", HEX, "'x'", "1, 1, 0", "''", NOCKPT,
	             "0, 0, 0, 0"),
	        JROW("'j-0000000000000001'", "'fit'", "'queued'", HEX, "'x'", "1, 1, 0", "''", NOCKPT,
	             "0, 0, 0, 0"),
	        JROW("'j-0000000000000001'", "'train'", "'done'", HEX, "'x'", "1, 1, 0", "''", NOCKPT,
	             "0, 0, 0, 0"),
	        JROW("'j-0000000000000001'", "'train'", "'queued'", "upper(" HEX ")", "'x'", "1, 1, 0", "''",
	             NOCKPT, "0, 0, 0, 0"),
	        JROW("'j-0000000000000001'", "'train'", "'queued'", HEX, "''", "1, 1, 0", "''", NOCKPT,
	             "0, 0, 0, 0"),
	        JROW("'j-0000000000000001'", "'train'", "'queued'", HEX, "printf('%65537s', '')", "1, 1, 0",
	             "''", NOCKPT, "0, 0, 0, 0"),
	        JROW("'j-0000000000000001'", "'train'", "'queued'", HEX, "'x'", "-1, 1, 0", "''", NOCKPT,
	             "0, 0, 0, 0"),
	        JROW("'j-0000000000000001'", "'train'", "'queued'", HEX, "'x'", "2, 1, 0", "''", NOCKPT,
	             "0, 0, 0, 0"),
	        /* finished follows the state, both ways */
	        JROW("'j-0000000000000001'", "'train'", "'running'", HEX, "'x'", "1, 1, 1", "''", NOCKPT,
	             "0, 0, 0, 0"),
	        JROW("'j-0000000000000001'", "'train'", "'succeeded'", HEX, "'x'", "1, 1, 0", "''", NOCKPT,
	             "0, 0, 0, 0"),
	        JROW("'j-0000000000000001'", "'train'", "'failed'", HEX, "'x'", "5, 5, 4", "''", NOCKPT,
	             "0, 0, 0, 0"),
	        /* an error only when it failed or stopped, and at most 512 bytes */
	        JROW("'j-0000000000000001'", "'train'", "'running'", HEX, "'x'", "1, 1, 0", "'x'", NOCKPT,
	             "0, 0, 0, 0"),
	        JROW("'j-0000000000000001'", "'train'", "'failed'", HEX, "'x'", "1, 1, 1",
	             "printf('%513s', '')", NOCKPT, "0, 0, 0, 0"),
	        /* a checkpoint is whole or absent */
	        JROW("'j-0000000000000001'", "'train'", "'running'", HEX, "'x'", "1, 1, 0", "''",
	             HEX ", 'd', 'k', 1, " HEX ", NULL", "0, 0, 0, 0"),
	        JROW("'j-0000000000000001'", "'train'", "'running'", HEX, "'x'", "1, 1, 0", "''",
	             "NULL, 'd', NULL, NULL, NULL, NULL", "0, 0, 0, 0"),
	        JROW("'j-0000000000000001'", "'train'", "'running'", HEX, "'x'", "1, 1, 0", "''",
	             "substr(" HEX ", 2), 'd', 'k', 1, " HEX ", 5", "0, 0, 0, 0"),
	        JROW("'j-0000000000000001'", "'train'", "'running'", HEX, "'x'", "1, 1, 0", "''",
	             HEX ", '', 'k', 1, " HEX ", 5", "0, 0, 0, 0"),
	        JROW("'j-0000000000000001'", "'train'", "'running'", HEX, "'x'", "1, 1, 0", "''",
	             HEX ", 'd', 'k', -1, " HEX ", 5", "0, 0, 0, 0"),
	        JROW("'j-0000000000000001'", "'train'", "'running'", HEX, "'x'", "1, 1, 0", "''",
	             HEX ", 'd', 'k', 1, " HEX ", -5", "0, 0, 0, 0"),
	        /* progress */
	        JROW("'j-0000000000000001'", "'train'", "'running'", HEX, "'x'", "1, 1, 0", "''", NOCKPT,
	             "-1, 0, 0, 0"),
	        JROW("'j-0000000000000001'", "'train'", "'running'", HEX, "'x'", "1, 1, 0", "''", NOCKPT,
	             "4294967296, 0, 0, 0"),
	        JROW("'j-0000000000000001'", "'train'", "'running'", HEX, "'x'", "1, 1, 0", "''", NOCKPT,
	             "0, -1, 0, 0"),
	        JROW("'j-0000000000000001'", "'train'", "'running'", HEX, "'x'", "1, 1, 0", "''", NOCKPT,
	             "0, 0, -1, 0"),
	        JROW("'j-0000000000000001'", "'train'", "'running'", HEX, "'x'", "1, 1, 0", "''", NOCKPT,
	             "0, 0, 0, -0.5"),
	        JROW("'j-0000000000000001'", "'train'", "'running'", HEX, "'x'", "1, 1, 0", "''", NOCKPT,
	             "0, 0, 0, 9e999"),
	        JROW("'j-0000000000000001'", "'train'", "'running'", HEX, "'x'", "1, 1, 0", "''", NOCKPT,
	             "0, 0, 0, NULL"),
	        JROW("'j-0000000000000001'", "'train'", "'running'", HEX, "'x'", "1, 1, 0", "''", NOCKPT,
	             "0, 0, 0, 'much'"),
	        ("UPDATE jobs SET model_version_id = 7 WHERE id = " JOB),
	};
	refused_all(f->path, bad_jobs, sizeof bad_jobs / sizeof bad_jobs[0]);

	/* job_metrics */
#define MROW(job, seq, epoch, step, name, value, time)                                                       \
	"INSERT INTO job_metrics (job_id, seq, epoch, step, name, value, time) VALUES (" job ", " seq        \
	", " epoch ", " step ", " name ", " value ", " time ")"
	assert_int_equal(raw_rc(f->path, MROW(JOB, "1", "0", "0", "'val.loss_2'", "-1.5e300", "1")),
	                 SQLITE_OK);
	assert_int_equal(raw_rc(f->path, MROW(JOB, "100000", "4294967295", "9", "'a'", "0", "0")), SQLITE_OK);
	static const char *const bad_metrics[] = {
	        MROW("'j-0000000000000bad'", "2", "0", "0", "'loss'", "1", "1"),
	        MROW(JOB, "1", "0", "0", "'loss'", "1", "1"), /* seq taken */
	        MROW(JOB, "0", "0", "0", "'loss'", "1", "1"),
	        MROW(JOB, "100001", "0", "0", "'loss'", "1", "1"),
	        MROW(JOB, "2", "-1", "0", "'loss'", "1", "1"),
	        MROW(JOB, "2", "4294967296", "0", "'loss'", "1", "1"),
	        MROW(JOB, "2", "0", "-1", "'loss'", "1", "1"),
	        MROW(JOB, "2", "0", "0", "'Loss'", "1", "1"),
	        MROW(JOB, "2", "0", "0", "'val loss'", "1", "1"),
	        MROW(JOB, "2", "0", "0", "''", "1", "1"),
	        MROW(JOB, "2", "0", "0", "printf('%065d', 0)", "1", "1"),
	        MROW(JOB, "2", "0", "0", "'loss'", "9e999", "1"),
	        MROW(JOB, "2", "0", "0", "'loss'", "-9e999", "1"),
	        MROW(JOB, "2", "0", "0", "'loss'", "1e308", "1"),
	        MROW(JOB, "2", "0", "0", "'loss'", "NULL", "1"),
	        MROW(JOB, "2", "0", "0", "'loss'", "'high'", "1"),
	        MROW(JOB, "2", "0", "0", "'loss'", "1", "-1"),
	};
	refused_all(f->path, bad_metrics, sizeof bad_metrics / sizeof bad_metrics[0]);

	/* models and model_versions */
#define MOD(name, owner, comp, cls, created)                                                                 \
	"INSERT INTO models (name, owner, compartment, classification, created) VALUES (" name ", " owner    \
	", " comp ", " cls ", " created ")"
	assert_int_equal(raw_rc(f->path, MOD("'m'", "'bob'", "'tenancy'", "'internal'", "1")), SQLITE_OK);
	static const char *const bad_models[] = {
	        MOD("'m'", "'bob'", "'tenancy'", "'internal'", "1"),
	        MOD("''", "'bob'", "'tenancy'", "'internal'", "1"),
	        MOD("'m2'", "''", "'tenancy'", "'internal'", "1"),
	        MOD("'m2'", "'bob'", "'nowhere'", "'internal'", "1"),
	        MOD("'m2'", "'bob'", "'tenancy'", "'secret'", "1"),
	        MOD("'m2'", "'bob'", "'tenancy'", "'internal'", "-1"),
	};
	refused_all(f->path, bad_models, sizeof bad_models / sizeof bad_models[0]);
#define MV(model, version, job, summary, eps, delta, state)                                                  \
	"INSERT INTO model_versions (model_id, version, size, sha256, object_id, dek_id, kek, chunk_size, "  \
	"job_id, summary, epsilon, delta, created, created_by, state) VALUES (" model ", " version           \
	", 1, " HEX ", " HEX ", 'd', 'k', 65536, " job ", " summary ", " eps ", " delta ", 1, 'bob', " state \
	")"
	assert_int_equal(raw_rc(f->path, MV("1", "1", JOB, "'{}'", "3.0", "1e-5", "'live'")), SQLITE_OK);
	assert_int_equal(raw_rc(f->path, MV("1", "2", JOB, "'{\"a\": [1]}'", "NULL", "NULL", "'deleted'")),
	                 SQLITE_OK);
	static const char *const bad_versions[] = {
	        MV("1", "1", JOB, "'{}'", "NULL", "NULL", "'live'"), /* version taken */
	        MV("9", "3", JOB, "'{}'", "NULL", "NULL", "'live'"),
	        MV("1", "0", JOB, "'{}'", "NULL", "NULL", "'live'"),
	        MV("1", "3", "'j-0000000000000bad'", "'{}'", "NULL", "NULL", "'live'"),
	        MV("1", "3", JOB, "'[1]'", "NULL", "NULL", "'live'"),
	        MV("1", "3", JOB, "'not json'", "NULL", "NULL", "'live'"),
	        MV("1", "3", JOB, "printf('{\"a\": \"%s\"}', printf('%16380s', ''))", "NULL", "NULL",
	           "'live'"),
	        MV("1", "3", JOB, "'{}'", "0", "1e-5", "'live'"),
	        MV("1", "3", JOB, "'{}'", "9e999", "1e-5", "'live'"),
	        MV("1", "3", JOB, "'{}'", "3", "NULL", "'live'"),
	        MV("1", "3", JOB, "'{}'", "NULL", "0", "'live'"),
	        MV("1", "3", JOB, "'{}'", "3", "1", "'live'"),
	        MV("1", "3", JOB, "'{}'", "3", "-0.1", "'live'"),
	        MV("1", "3", JOB, "'{}'", "NULL", "NULL", "'gone'"),
	};
	refused_all(f->path, bad_versions, sizeof bad_versions / sizeof bad_versions[0]);

	/* budgets and charges */
#define BUD(vid, eps, delta, by, at)                                                                         \
	"INSERT INTO budgets (version_id, epsilon_total, delta_total, set_by, set_at) VALUES (" vid ", " eps \
	", " delta ", " by ", " at ")"
	assert_int_equal(raw_rc(f->path, BUD("1", "3", "1e-5", "'alice'", "1")), SQLITE_OK);
	static const char *const bad_budgets[] = {
	        BUD("1", "4", "1e-5", "'alice'", "1"),     BUD("2", "3", "1e-5", "'alice'", "1"),
	        BUD("1", "0", "1e-5", "'alice'", "1"),     BUD("1", "-1", "1e-5", "'alice'", "1"),
	        BUD("1", "9e999", "1e-5", "'alice'", "1"), BUD("1", "NULL", "1e-5", "'alice'", "1"),
	        BUD("1", "3", "0", "'alice'", "1"),        BUD("1", "3", "1", "'alice'", "1"),
	        BUD("1", "3", "1e-5", "''", "1"),          BUD("1", "3", "1e-5", "'alice'", "-1"),
	};
	refused_all(f->path, bad_budgets, sizeof bad_budgets / sizeof bad_budgets[0]);
#define CH(vid, job, trial, eps, delta, note)                                                                \
	"INSERT INTO budget_charges (version_id, job_id, trial, epsilon, delta, at, note) VALUES (" vid      \
	", " job ", " trial ", " eps ", " delta ", 1, " note ")"
	assert_int_equal(raw_rc(f->path, CH("1", JOB, "0", "1", "0", "'first run'")), SQLITE_OK);
	assert_int_equal(raw_rc(f->path, CH("1", JOB, "1", "0.5", "1e-6", "''")), SQLITE_OK);
	static const char *const bad_charges[] = {
	        CH("1", JOB, "0", "1", "0", "''"), /* the same job, version and trial */
	        CH("2", JOB, "2", "1", "0", "''"), /* no budget */
	        CH("1", "'j-0000000000000bad'", "2", "1", "0", "''"),
	        CH("1", JOB, "-1", "1", "0", "''"),
	        CH("1", JOB, "4294967296", "1", "0", "''"),
	        CH("1", JOB, "2", "0", "0", "''"),
	        CH("1", JOB, "2", "9e999", "0", "''"),
	        CH("1", JOB, "2", "NULL", "0", "''"),
	        CH("1", JOB, "2", "1", "-1e-9", "''"),
	        CH("1", JOB, "2", "1", "1", "''"),
	        CH("1", JOB, "2", "1", "0", "'a' || char(27)"),
	        CH("1", JOB, "2", "1", "0", "printf('%257s', '')"),
	};
	refused_all(f->path, bad_charges, sizeof bad_charges / sizeof bad_charges[0]);
	assert_int_equal(count(f->path, "jobs"), 2);
	assert_int_equal(count(f->path, "job_metrics"), 2);
	assert_int_equal(count(f->path, "model_versions"), 2);
	assert_int_equal(count(f->path, "budget_charges"), 2);

	/* and what was written by hand reads back through the API */
	veil_err e;
	assert_int_equal(veil_catalog_open(f->path, false, &f->c, &e), VEIL_OK);
	veil_model_version m;
	assert_int_equal(veil_catalog_model_get(f->c, "m", 0, &m, &e), VEIL_OK);
	assert_int_equal(m.version, 1);
	assert_true(m.dp);
	veil_budget b;
	assert_int_equal(veil_catalog_budget_get(f->c, "patients", 1, &b, &e), VEIL_OK);
	assert_true(b.epsilon_spent == 1.5);
	assert_int_equal(b.charges, 2);
}
#undef CH
#undef BUD
#undef MV
#undef MOD
#undef MROW
#undef JROW
#undef JCOLS
#undef NOCKPT
#undef CKPT

/* ---- migration from version 6 ---- */

static const char v6_schema[] =
        FROZEN_STEP_1 FROZEN_STEP_2 FROZEN_STEP_3 FROZEN_STEP_4 FROZEN_STEP_5 FROZEN_STEP_6
        "INSERT INTO schema_migrations (version, description, applied) VALUES " FROZEN_RECORD_1
        ", " FROZEN_RECORD_2 ", " FROZEN_RECORD_3 ", " FROZEN_RECORD_4 ", " FROZEN_RECORD_5
        ", " FROZEN_RECORD_6 ";";

/* What a version-6 workspace holds: a compartment, a dataset in it with two
 * versions (one deleted), a report, lineage and a principal. */
static const char v6_rows[] =
        "INSERT INTO compartments (name, parent, description, created, created_by) VALUES"
        "  ('oncology', 'tenancy', 'ward 7', 1700000000, 'admin');"
        "INSERT INTO principals (name, kind, region, created, created_by) VALUES"
        "  ('alice', 'user', '', 1700000000, 'admin');"
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
        "INSERT INTO reports (version_id, kind, passed, summary, object_id, dek_id, kek, size, sha256, "
        "signer,"
        "  measurement, tee, created, created_by) VALUES (1, 'validate', 1, '{\"violations\": 0}',"
        "  'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'dek-r', 'onc-kek', 5,"
        "  'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',"
        "  'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'm1', 'sim', 1700000002,"
        "  'alice');"
        "INSERT INTO lineage_nodes (id, kind, ref) VALUES (1, 'dataset_version', 'patients@1'), (2, 'file', "
        "'x');"
        "INSERT INTO lineage_edges (from_node, to_node, relation, created) VALUES (1, 2, 'uploaded_from', "
        "1);";

static void test_migration_from_v6(void **state)
{
	fixture *f = *state;
	veil_err e;
	char old[160];
	snprintf(old, sizeof old, "%s/v6.db", f->dir);
	raw_sql(old, v6_schema);
	raw_sql(old, v6_rows);
	/* the frozen steps are what this code's steps 1 to 6 make */
	char *frozen = raw_text(old, SCHEMA_TEXT);
	char *fresh6 = raw_text(f->path, SCHEMA_TEXT_WHERE(NOT_STEP_7));
	assert_string_equal(frozen, fresh6);
	free(frozen);
	free(fresh6);

	veil_catalog *c;
	assert_int_equal(veil_catalog_open(old, false, &c, &e), VEIL_OK);
	uint32_t version = 0;
	assert_int_equal(veil_catalog_schema_version(c, &version, &e), VEIL_OK);
	assert_int_equal(version, 8);
	assert_int_equal(veil_catalog_integrity_check(c, &e), VEIL_OK);

	/* the old rows are all there */
	veil_dataset_version got;
	assert_int_equal(veil_catalog_dataset_get(c, "patients", 0, &got, &e), VEIL_OK);
	assert_int_equal(got.version, 1);
	assert_string_equal(got.compartment, "oncology");
	veil_dataset_version_free(&got);
	veil_report_record r;
	assert_int_equal(veil_catalog_report_latest(c, "patients", 1, "validate", &r, &e), VEIL_OK);
	assert_string_equal(r.summary, "{\"violations\": 0}");

	/* and the old dataset takes a budget, a job, a charge and a model */
	assert_int_equal(veil_catalog_budget_set(c, "patients", 1, 3.0, 1e-5, "alice", &e), VEIL_OK);
	assert_int_equal(veil_catalog_budget_set(c, "patients", 2, 3.0, 1e-5, "alice", &e), VEIL_E_NOTFOUND);
	char job[VEIL_CATALOG_JOB_ID_MAX];
	new_job(c, job);
	veil_budget_ref ref = {"patients", 1};
	assert_int_equal(veil_catalog_budget_charge(c, &ref, 1, job, 0, 1.25, 1e-6, NULL, &e), VEIL_OK);
	set_state(c, job, "running");
	veil_model_version m = model_of("onc-model", job, "confidential", 1);
	snprintf(m.compartment, sizeof m.compartment, "oncology");
	assert_int_equal(veil_catalog_model_add_version(c, &m, &e), VEIL_OK);
	assert_int_equal(veil_catalog_lineage_add(c, "model_version", "onc-model@1", "trained_on",
	                                          "dataset_version", "patients@1", "m1", &e),
	                 VEIL_OK);
	assert_int_equal(veil_catalog_integrity_check(c, &e), VEIL_OK);
	veil_catalog_close(c);

	/* the migrated schema is the one a new catalog gets, object for object */
	char *migrated = raw_text(old, SCHEMA_TEXT);
	char *fresh = raw_text(f->path, SCHEMA_TEXT);
	assert_string_equal(migrated, fresh);
	assert_non_null(strstr(fresh, "UNIQUE (job_id, version_id, trial)"));
	free(migrated);
	free(fresh);
	/* reopening applies nothing twice */
	assert_int_equal(veil_catalog_open(old, false, &c, &e), VEIL_OK);
	veil_catalog_close(c);
	assert_int_equal(raw_int(old, "SELECT count(*) FROM schema_migrations"), 8);
	assert_int_equal(count(old, "reports"), 1);
	assert_int_equal(count(old, "budget_charges"), 1);
	assert_int_equal(count(old, "lineage_edges"), 2);
}

/* ---- jobs ---- */

static bool is_job_id(const char *id)
{
	if (strlen(id) != 18 || strncmp(id, "j-", 2) != 0)
		return false;
	for (size_t i = 2; i < 18; i++)
		if (!strchr("0123456789abcdef", id[i]))
			return false;
	return true;
}

static void test_job_add_get(void **state)
{
	fixture *f = *state;
	veil_err e;
	veil_job_record j = job_of("train", "fmnist-dp");
	int64_t before = veil_time_now();
	assert_int_equal(veil_catalog_job_add(f->c, &j, &e), VEIL_OK);
	assert_true(is_job_id(j.id));
	assert_string_equal(j.state, "queued");
	assert_true(j.created >= before && j.created <= veil_time_now());
	assert_int_equal(j.updated, j.created);
	assert_ptr_equal(j.spec, spec_text); /* the caller's still */

	veil_job_record got;
	assert_int_equal(veil_catalog_job_get(f->c, j.id, &got, &e), VEIL_OK);
	assert_string_equal(got.id, j.id);
	assert_string_equal(got.kind, "train");
	assert_string_equal(got.name, "fmnist-dp");
	assert_string_equal(got.state, "queued");
	assert_string_equal(got.created_by, "bob");
	assert_string_equal(got.job_sha256, j.job_sha256);
	assert_int_equal(got.spec_len, sizeof spec_text - 1);
	assert_memory_equal(got.spec, spec_text, sizeof spec_text);
	assert_int_equal(got.finished, 0);
	assert_string_equal(got.error, "");
	assert_string_equal(got.model, "");
	assert_int_equal(got.model_version, 0);
	assert_false(got.checkpoint.present);
	assert_int_equal(got.step, 0);
	assert_true(got.epsilon_spent == 0);
	veil_job_record_free(&got);
	assert_null(got.spec);

	/* ids differ; a given id and hash are kept; the hash is SHA-256 */
	veil_job_record k = job_of("tune", "grid");
	k.spec = (char *)"abc";
	k.spec_len = 3;
	snprintf(k.id, sizeof k.id, "j-00000000000000ff");
	snprintf(k.job_sha256, sizeof k.job_sha256, SHA256_ABC);
	k.created = 1700000000;
	assert_int_equal(veil_catalog_job_add(f->c, &k, &e), VEIL_OK);
	assert_string_equal(k.id, "j-00000000000000ff");
	assert_int_equal(k.created, 1700000000);
	veil_job_record dup = job_of("eval", "again");
	snprintf(dup.id, sizeof dup.id, "j-00000000000000ff");
	assert_int_equal(veil_catalog_job_add(f->c, &dup, &e), VEIL_E_EXISTS);
	assert_string_equal(e.msg, "a job with id j-00000000000000ff already exists");
	veil_job_record auto_hash = job_of("eval", "eval-1");
	auto_hash.spec = (char *)"abc";
	auto_hash.spec_len = 3;
	assert_int_equal(veil_catalog_job_add(f->c, &auto_hash, &e), VEIL_OK);
	assert_string_equal(auto_hash.job_sha256, SHA256_ABC);
	assert_string_not_equal(auto_hash.id, j.id);

	/* refusals store nothing */
	static const struct {
		const char *kind, *name, *spec;
		size_t len;
		const char *id, *sha, *by;
		veil_status want;
	} bad[] = {
	        {"fit", "n", "x", 1, "", "", "bob", VEIL_E_INVALID},
	        {"", "n", "x", 1, "", "", "bob", VEIL_E_INVALID},
	        {"train", "", "x", 1, "", "", "bob", VEIL_E_INVALID},
	        {"train", "a b", "x", 1, "", "", "bob", VEIL_E_INVALID},
	        {"train", "n", "x", 0, "", "", "bob", VEIL_E_INVALID},
	        {"train", "n", NULL, 1, "", "", "bob", VEIL_E_INVALID},
	        {"train", "n", "a\0b", 3, "", "", "bob", VEIL_E_INVALID},
	        {"train", "n", "\xc3\x28", 2, "", "", "bob", VEIL_E_INVALID},
	        {"train", "n", "x", 1, "j-0123", "", "bob", VEIL_E_INVALID},
	        {"train", "n", "x", 1, "J-0123456789abcdef", "", "bob", VEIL_E_INVALID},
	        {"train", "n", "x", 1, "j-0123456789ABCDEF", "", "bob", VEIL_E_INVALID},
	        {"train", "n", "x", 1, "", SHA256_ABC, "bob", VEIL_E_INVALID},
	        {"train", "n", "x", 1, "", "", "", VEIL_E_INVALID},
	        {"train", "n", "x", 1, "", "", "b b", VEIL_E_INVALID},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		veil_job_record b = job_of(bad[i].kind, bad[i].name);
		b.spec = (char *)bad[i].spec;
		b.spec_len = bad[i].len;
		snprintf(b.id, sizeof b.id, "%s", bad[i].id);
		snprintf(b.job_sha256, sizeof b.job_sha256, "%s", bad[i].sha);
		snprintf(b.created_by, sizeof b.created_by, "%s", bad[i].by);
		if (veil_catalog_job_add(f->c, &b, &e) != bad[i].want)
			fail_msg("bad job %zu: got %s", i, e.msg);
	}
	veil_job_record neg = job_of("train", "n");
	neg.created = -1;
	assert_int_equal(veil_catalog_job_add(f->c, &neg, &e), VEIL_E_INVALID);
	/* the largest spec fits, one byte more does not */
	char *big = malloc(VEIL_CATALOG_JOB_SPEC_MAX + 1);
	assert_non_null(big);
	memset(big, '#', VEIL_CATALOG_JOB_SPEC_MAX + 1);
	veil_job_record huge = job_of("train", "huge");
	huge.spec = big;
	huge.spec_len = VEIL_CATALOG_JOB_SPEC_MAX + 1;
	assert_int_equal(veil_catalog_job_add(f->c, &huge, &e), VEIL_E_LIMIT);
	huge.spec_len = VEIL_CATALOG_JOB_SPEC_MAX;
	assert_int_equal(veil_catalog_job_add(f->c, &huge, &e), VEIL_OK);
	assert_int_equal(veil_catalog_job_get(f->c, huge.id, &got, &e), VEIL_OK);
	assert_int_equal(got.spec_len, VEIL_CATALOG_JOB_SPEC_MAX);
	assert_memory_equal(got.spec, big, VEIL_CATALOG_JOB_SPEC_MAX);
	veil_job_record_free(&got);
	free(big);
	assert_int_equal(count(f->path, "jobs"), 4);

	assert_int_equal(veil_catalog_job_get(f->c, "j-0000000000000bad", &got, &e), VEIL_E_NOTFOUND);
	assert_string_equal(e.msg, "no job with id j-0000000000000bad");
	assert_string_equal(got.id, "");
	assert_int_equal(veil_catalog_job_get(f->c, "nosuch", &got, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_job_get(f->c, NULL, &got, &e), VEIL_E_INVALID);

	/* a spec changed outside veil is refused, not run */
	assert_int_equal(veil_catalog_integrity_check(f->c, &e), VEIL_OK);
	raw_sql(f->path, "UPDATE jobs SET spec = 'abd' WHERE id = 'j-00000000000000ff'");
	assert_int_equal(veil_catalog_job_get(f->c, "j-00000000000000ff", &got, &e), VEIL_E_CORRUPT);
	assert_null(got.spec);
	assert_int_equal(veil_catalog_integrity_check(f->c, &e), VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "j-00000000000000ff"));
}

/* Brings a new job to `state` along legal moves. */
static void job_in(veil_catalog *c, const char *state, char id[VEIL_CATALOG_JOB_ID_MAX])
{
	new_job(c, id);
	if (strcmp(state, "queued") == 0)
		return;
	set_state(c, id, "running");
	if (strcmp(state, "running") != 0)
		set_state(c, id, state);
}

static void test_job_transitions(void **state)
{
	fixture *f = *state;
	veil_err e;
	static const char *const states[] = {"queued", "running", "succeeded", "failed", "interrupted"};
	/* allowed[from][to], in the order of states[] */
	static const bool allowed[5][5] = {
	        {false, true, false, true, false},   /* queued */
	        {false, false, true, true, true},    /* running */
	        {false, false, false, false, false}, /* succeeded */
	        {false, true, false, false, false},  /* failed */
	        {false, true, false, false, false},  /* interrupted */
	};
	for (size_t from = 0; from < 5; from++)
		for (size_t to = 0; to < 5; to++) {
			char id[VEIL_CATALOG_JOB_ID_MAX];
			job_in(f->c, states[from], id);
			veil_status st = veil_catalog_job_set_state(f->c, id, states[to], NULL, &e);
			if (st != (allowed[from][to] ? VEIL_OK : VEIL_E_INVALID))
				fail_msg("%s -> %s: %s", states[from], states[to], veil_status_str(st));
			veil_job_record j;
			assert_int_equal(veil_catalog_job_get(f->c, id, &j, &e), VEIL_OK);
			const char *now = allowed[from][to] ? states[to] : states[from];
			assert_string_equal(j.state, now);
			bool open = strcmp(now, "queued") == 0 || strcmp(now, "running") == 0;
			assert_true(open ? j.finished == 0 : j.finished >= j.created);
			veil_job_record_free(&j);
		}
	char id[VEIL_CATALOG_JOB_ID_MAX];
	job_in(f->c, "succeeded", id);
	assert_int_equal(veil_catalog_job_set_state(f->c, id, "running", NULL, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "is succeeded; it cannot become running"));
	assert_non_null(strstr(e.hint, "final"));

	/* an error text goes with failed and interrupted, and is cleared on resume */
	job_in(f->c, "running", id);
	assert_int_equal(veil_catalog_job_set_state(f->c, id, "failed", "loss is NaN at step 812", &e),
	                 VEIL_OK);
	veil_job_record j;
	assert_int_equal(veil_catalog_job_get(f->c, id, &j, &e), VEIL_OK);
	assert_string_equal(j.error, "loss is NaN at step 812");
	assert_true(j.finished > 0);
	veil_job_record_free(&j);
	assert_int_equal(veil_catalog_job_set_state(f->c, id, "running", "x", &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_job_set_state(f->c, id, "running", "", &e), VEIL_OK);
	assert_int_equal(veil_catalog_job_get(f->c, id, &j, &e), VEIL_OK);
	assert_string_equal(j.error, "");
	assert_int_equal(j.finished, 0);
	veil_job_record_free(&j);
	char err512[VEIL_CATALOG_JOB_ERROR_MAX + 1];
	memset(err512, 'e', sizeof err512);
	err512[VEIL_CATALOG_JOB_ERROR_MAX] = '\0'; /* 513 bytes */
	assert_int_equal(veil_catalog_job_set_state(f->c, id, "interrupted", err512, &e), VEIL_E_INVALID);
	err512[VEIL_CATALOG_JOB_ERROR_MAX - 1] = '\0'; /* 512 */
	assert_int_equal(veil_catalog_job_set_state(f->c, id, "interrupted", "line\nbreak", &e),
	                 VEIL_E_INVALID);
	assert_int_equal(veil_catalog_job_set_state(f->c, id, "interrupted", "\xff", &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_job_set_state(f->c, id, "interrupted", err512, &e), VEIL_OK);
	assert_int_equal(veil_catalog_job_set_state(f->c, id, "running", NULL, &e), VEIL_OK);
	assert_int_equal(veil_catalog_job_set_state(f->c, id, "succeeded", "done", &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_job_set_state(f->c, id, "interrupted", "SIGTERM: données", &e),
	                 VEIL_OK);
	assert_int_equal(veil_catalog_job_get(f->c, id, &j, &e), VEIL_OK);
	assert_string_equal(j.error, "SIGTERM: données");
	veil_job_record_free(&j);

	assert_int_equal(veil_catalog_job_set_state(f->c, id, "done", NULL, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_job_set_state(f->c, id, NULL, NULL, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_job_set_state(f->c, "j-0000000000000bad", "running", NULL, &e),
	                 VEIL_E_NOTFOUND);
	assert_int_equal(veil_catalog_job_set_state(f->c, "bad", "running", NULL, &e), VEIL_E_INVALID);

	/* in the caller's transaction: rolled back with it */
	assert_int_equal(veil_catalog_begin(f->c, &e), VEIL_OK);
	assert_int_equal(veil_catalog_job_set_state(f->c, id, "running", NULL, &e), VEIL_OK);
	veil_catalog_rollback(f->c);
	assert_int_equal(veil_catalog_job_get(f->c, id, &j, &e), VEIL_OK);
	assert_string_equal(j.state, "interrupted");
	veil_job_record_free(&j);
}

static void test_job_checkpoint(void **state)
{
	fixture *f = *state;
	veil_err e;
	char id[VEIL_CATALOG_JOB_ID_MAX];
	new_job(f->c, id);
	veil_job_checkpoint a = ckpt_of(1, 100), b = ckpt_of(2, 200), prev;
	/* only a running job writes one */
	assert_int_equal(veil_catalog_job_set_checkpoint(f->c, id, &a, &prev, &e), VEIL_E_INVALID);
	set_state(f->c, id, "running");
	assert_int_equal(veil_catalog_job_set_checkpoint(f->c, id, &a, &prev, &e), VEIL_OK);
	assert_false(prev.present);
	veil_job_record j;
	assert_int_equal(veil_catalog_job_get(f->c, id, &j, &e), VEIL_OK);
	assert_true(j.checkpoint.present);
	same_ckpt(&j.checkpoint, &a);
	veil_job_record_free(&j);
	/* replacing gives the old one back, for the caller to shred */
	assert_int_equal(veil_catalog_job_set_checkpoint(f->c, id, &b, &prev, &e), VEIL_OK);
	assert_true(prev.present);
	same_ckpt(&prev, &a);
	/* the same object again is not a replaced one */
	b.step = 250;
	assert_int_equal(veil_catalog_job_set_checkpoint(f->c, id, &b, &prev, &e), VEIL_OK);
	assert_false(prev.present);
	assert_int_equal(veil_catalog_job_set_checkpoint(f->c, id, &a, NULL, &e), VEIL_OK);

	/* bad fields change nothing */
	veil_job_checkpoint bad = ckpt_of(3, 1);
	bad.object_id[0] = 'G';
	assert_int_equal(veil_catalog_job_set_checkpoint(f->c, id, &bad, &prev, &e), VEIL_E_INVALID);
	bad = ckpt_of(3, 1);
	bad.dek_id[0] = '\0';
	assert_int_equal(veil_catalog_job_set_checkpoint(f->c, id, &bad, &prev, &e), VEIL_E_INVALID);
	bad = ckpt_of(3, 1);
	bad.present = false;
	assert_int_equal(veil_catalog_job_set_checkpoint(f->c, id, &bad, &prev, &e), VEIL_E_INVALID);
	bad = ckpt_of(3, 1);
	bad.size = (uint64_t)INT64_MAX + 1;
	assert_int_equal(veil_catalog_job_set_checkpoint(f->c, id, &bad, &prev, &e), VEIL_E_LIMIT);
	assert_int_equal(veil_catalog_job_set_checkpoint(f->c, "j-0000000000000bad", &a, &prev, &e),
	                 VEIL_E_NOTFOUND);
	assert_int_equal(veil_catalog_job_get(f->c, id, &j, &e), VEIL_OK);
	same_ckpt(&j.checkpoint, &a);
	veil_job_record_free(&j);

	/* interrupted: kept for the resume; succeeded: cleared by gc, never replaced */
	set_state(f->c, id, "interrupted");
	assert_int_equal(veil_catalog_job_set_checkpoint(f->c, id, &b, &prev, &e), VEIL_E_INVALID);
	set_state(f->c, id, "running");
	set_state(f->c, id, "succeeded");
	assert_int_equal(veil_catalog_job_set_checkpoint(f->c, id, &b, &prev, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_job_set_checkpoint(f->c, id, NULL, &prev, &e), VEIL_OK);
	assert_true(prev.present);
	same_ckpt(&prev, &a);
	assert_int_equal(veil_catalog_job_set_checkpoint(f->c, id, NULL, &prev, &e), VEIL_OK);
	assert_false(prev.present);
	assert_int_equal(veil_catalog_job_get(f->c, id, &j, &e), VEIL_OK);
	assert_false(j.checkpoint.present);
	veil_job_record_free(&j);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM jobs WHERE ckpt_step IS NULL"), 1);
}

static void test_job_progress(void **state)
{
	fixture *f = *state;
	veil_err e;
	char id[VEIL_CATALOG_JOB_ID_MAX];
	new_job(f->c, id);
	assert_int_equal(veil_catalog_job_set_progress(f->c, id, 0, 0, 100, 0, &e), VEIL_E_INVALID);
	set_state(f->c, id, "running");
	assert_int_equal(veil_catalog_job_set_progress(f->c, id, 3, 70, 100, 1.25, &e), VEIL_OK);
	veil_job_record j;
	assert_int_equal(veil_catalog_job_get(f->c, id, &j, &e), VEIL_OK);
	assert_int_equal(j.epoch, 3);
	assert_int_equal(j.step, 70);
	assert_int_equal(j.steps_total, 100);
	assert_true(j.epsilon_spent == 1.25);
	veil_job_record_free(&j);
	/* the end, a total not known, and a resumed job going back */
	assert_int_equal(veil_catalog_job_set_progress(f->c, id, 4, 100, 100, 2.0, &e), VEIL_OK);
	assert_int_equal(veil_catalog_job_set_progress(f->c, id, UINT32_MAX, 1000000, 0, 2.0, &e), VEIL_OK);
	assert_int_equal(veil_catalog_job_set_progress(f->c, id, 2, 40, 100, 0.9, &e), VEIL_OK);
	assert_int_equal(veil_catalog_job_set_progress(f->c, id, 4, 101, 100, 2.0, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_job_set_progress(f->c, id, 4, 10, 100, -0.1, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_job_set_progress(f->c, id, 4, 10, 100, NAN, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_job_set_progress(f->c, id, 4, 10, 100, INFINITY, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_job_set_progress(f->c, id, 4, 10, 100, 1e308, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_job_set_progress(f->c, id, 4, (uint64_t)INT64_MAX + 1, 0, 1, &e),
	                 VEIL_E_LIMIT);
	assert_int_equal(veil_catalog_job_get(f->c, id, &j, &e), VEIL_OK);
	assert_int_equal(j.step, 40);
	assert_true(j.epsilon_spent == 0.9);
	assert_true(j.updated >= j.created);
	veil_job_record_free(&j);
	set_state(f->c, id, "succeeded");
	assert_int_equal(veil_catalog_job_set_progress(f->c, id, 4, 100, 100, 2.0, &e), VEIL_E_INVALID);
}

typedef struct ids {
	char id[16][VEIL_CATALOG_JOB_ID_MAX];
	char state[16][VEIL_CATALOG_JOB_STATE_MAX];
	bool spec_seen;
	size_t n;
} ids;

static veil_status collect_job(void *ctx, const veil_job_record *j, veil_err *err)
{
	(void)err;
	ids *x = ctx;
	if (x->n == 16)
		return VEIL_E_LIMIT;
	memcpy(x->id[x->n], j->id, sizeof x->id[0]);
	memcpy(x->state[x->n], j->state, sizeof x->state[0]);
	x->spec_seen |= j->spec != NULL;
	x->n++;
	return VEIL_OK;
}

static veil_status stop_job(void *ctx, const veil_job_record *j, veil_err *err)
{
	(void)ctx;
	(void)j;
	return veil_err_set(err, VEIL_E_DENIED, "stop here");
}

static void test_job_list(void **state)
{
	fixture *f = *state;
	veil_err e;
	char added[4][VEIL_CATALOG_JOB_ID_MAX];
	int64_t created[4] = {1700000100, 1700000300, 1700000200, 1700000300};
	for (int i = 0; i < 4; i++) {
		veil_job_record j = job_of("train", "fmnist-dp");
		j.created = created[i];
		assert_int_equal(veil_catalog_job_add(f->c, &j, &e), VEIL_OK);
		memcpy(added[i], j.id, sizeof added[i]);
	}
	set_state(f->c, added[0], "running");
	set_state(f->c, added[2], "running");
	set_state(f->c, added[2], "failed");
	ids x = {0};
	assert_int_equal(veil_catalog_job_list(f->c, NULL, collect_job, &x, &e), VEIL_OK);
	/* newest first; of two at the same second, the one added last */
	assert_int_equal(x.n, 4);
	assert_string_equal(x.id[0], added[3]);
	assert_string_equal(x.id[1], added[1]);
	assert_string_equal(x.id[2], added[2]);
	assert_string_equal(x.id[3], added[0]);
	assert_string_equal(x.state[2], "failed");
	assert_false(x.spec_seen);
	memset(&x, 0, sizeof x);
	assert_int_equal(veil_catalog_job_list(f->c, "queued", collect_job, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 2);
	assert_string_equal(x.id[0], added[3]);
	assert_string_equal(x.id[1], added[1]);
	memset(&x, 0, sizeof x);
	assert_int_equal(veil_catalog_job_list(f->c, "succeeded", collect_job, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 0);
	assert_int_equal(veil_catalog_job_list(f->c, "done", collect_job, &x, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_job_list(f->c, NULL, stop_job, NULL, &e), VEIL_E_DENIED);
	assert_string_equal(e.msg, "stop here");
	/* a state written around the code is reported, not listed */
	raw_sql(f->path,
	        "PRAGMA ignore_check_constraints = ON; UPDATE jobs SET state = 'paused' WHERE rowid = 1");
	assert_int_equal(veil_catalog_job_list(f->c, NULL, collect_job, &x, &e), VEIL_E_CORRUPT);
}

/* ---- metrics ---- */

typedef struct series {
	size_t n;
	uint64_t last_seq;
	double sum;
	char first[VEIL_CATALOG_METRIC_NAME_MAX];
	bool ordered;
} series;

static veil_status collect_metric(void *ctx, const veil_metric *m, veil_err *err)
{
	(void)err;
	series *x = ctx;
	if (x->n == 0)
		memcpy(x->first, m->name, sizeof x->first);
	x->ordered = (x->n == 0 || m->seq > x->last_seq) && (x->n == 0 || x->ordered);
	x->last_seq = m->seq;
	x->sum += m->value;
	x->n++;
	return VEIL_OK;
}

static void test_metrics(void **state)
{
	fixture *f = *state;
	veil_err e;
	char id[VEIL_CATALOG_JOB_ID_MAX];
	new_job(f->c, id);
	veil_metric pts[4] = {
	        {.seq = 0, .epoch = 0, .step = 10, .name = "loss", .value = 2.5, .time = 0},
	        {.seq = 0, .epoch = 0, .step = 10, .name = "val.accuracy", .value = 0.5, .time = 1700000000},
	        {.seq = 0, .epoch = 1, .step = 20, .name = "loss", .value = -1.0, .time = 0},
	        {.seq = 0, .epoch = 1, .step = 20, .name = "epsilon", .value = 1e300, .time = 0},
	};
	assert_int_equal(veil_catalog_metrics_add(f->c, id, pts, 4, &e), VEIL_OK);
	assert_int_equal(veil_catalog_metrics_add(f->c, id, pts, 0, &e), VEIL_OK);
	series x = {0};
	assert_int_equal(veil_catalog_metrics_list(f->c, id, NULL, collect_metric, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 4);
	assert_int_equal(x.last_seq, 4);
	assert_true(x.ordered);
	assert_string_equal(x.first, "loss");
	memset(&x, 0, sizeof x);
	assert_int_equal(veil_catalog_metrics_list(f->c, id, "loss", collect_metric, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 2);
	assert_true(x.sum == 1.5);
	assert_int_equal(x.last_seq, 3);
	assert_int_equal(raw_int(f->path, "SELECT time FROM job_metrics WHERE seq = 2"), 1700000000);
	assert_true(raw_int(f->path, "SELECT time FROM job_metrics WHERE seq = 1") > 1700000000);

	/* one bad point refuses the whole batch */
	static const struct {
		const char *name;
		double value;
	} bad[] = {{"Loss", 1},        {"val loss", 1},     {"", 1},         {"loss", NAN},
	           {"loss", INFINITY}, {"loss", -INFINITY}, {"loss", 1e308}, {"loss", -DBL_MAX}};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		veil_metric two[2] = {
		        {.seq = 0, .epoch = 2, .step = 30, .name = "loss", .value = 0.5, .time = 0},
		        {.seq = 0, .epoch = 2, .step = 30, .name = "", .value = 0, .time = 0}};
		snprintf(two[1].name, sizeof two[1].name, "%s", bad[i].name);
		two[1].value = bad[i].value;
		if (veil_catalog_metrics_add(f->c, id, two, 2, &e) != VEIL_E_INVALID)
			fail_msg("metric point %zu was accepted", i);
	}
	veil_metric neg = {.seq = 0, .epoch = 0, .step = 0, .name = "loss", .value = 1, .time = -1};
	assert_int_equal(veil_catalog_metrics_add(f->c, id, &neg, 1, &e), VEIL_E_INVALID);
	veil_metric longname = {.seq = 0, .epoch = 0, .step = 0, .name = "", .value = 1, .time = 0};
	memset(longname.name, 'a', sizeof longname.name); /* not terminated */
	assert_int_equal(veil_catalog_metrics_add(f->c, id, &longname, 1, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_metrics_add(f->c, id, NULL, 1, &e), VEIL_E_INVALID);
	assert_int_equal(count(f->path, "job_metrics"), 4);
	assert_int_equal(veil_catalog_metrics_add(f->c, "j-0000000000000bad", pts, 1, &e), VEIL_E_NOTFOUND);
	assert_int_equal(veil_catalog_metrics_list(f->c, "j-0000000000000bad", NULL, collect_metric, &x, &e),
	                 VEIL_E_NOTFOUND);
	assert_int_equal(veil_catalog_metrics_list(f->c, id, "Loss", collect_metric, &x, &e), VEIL_E_INVALID);

	/* at most VEIL_CATALOG_METRICS_MAX points per job, counted over batches */
	size_t fill = VEIL_CATALOG_METRICS_MAX - 4 - 1;
	veil_metric *many = calloc(VEIL_CATALOG_METRICS_MAX + 1, sizeof *many);
	assert_non_null(many);
	for (size_t i = 0; i < VEIL_CATALOG_METRICS_MAX + 1; i++) {
		many[i].step = i;
		snprintf(many[i].name, sizeof many[i].name, "loss");
		many[i].value = (double)i;
	}
	assert_int_equal(veil_catalog_metrics_add(f->c, id, many, fill, &e), VEIL_OK);
	assert_int_equal(veil_catalog_metrics_add(f->c, id, many, 2, &e), VEIL_E_LIMIT);
	assert_non_null(strstr(e.msg, "99999 metric points"));
	assert_int_equal(count(f->path, "job_metrics"), VEIL_CATALOG_METRICS_MAX - 1);
	assert_int_equal(veil_catalog_metrics_add(f->c, id, many, 1, &e), VEIL_OK);
	assert_int_equal(veil_catalog_metrics_add(f->c, id, many, 1, &e), VEIL_E_LIMIT);
	assert_int_equal(raw_int(f->path, "SELECT max(seq) FROM job_metrics"), VEIL_CATALOG_METRICS_MAX);
	/* one batch over the bound is refused before it is looked at */
	char other[VEIL_CATALOG_JOB_ID_MAX];
	new_job(f->c, other);
	assert_int_equal(veil_catalog_metrics_add(f->c, other, many, VEIL_CATALOG_METRICS_MAX + 1, &e),
	                 VEIL_E_LIMIT);
	assert_int_equal(veil_catalog_metrics_add(f->c, other, many, 3, &e), VEIL_OK);
	free(many);
	memset(&x, 0, sizeof x);
	assert_int_equal(veil_catalog_metrics_list(f->c, other, NULL, collect_metric, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 3);
	assert_int_equal(x.last_seq, 3);
}

/* ---- models ---- */

typedef struct mlist {
	size_t n;
	char ref[8][160];
} mlist;

static veil_status collect_model(void *ctx, const veil_model_version *v, veil_err *err)
{
	(void)err;
	mlist *x = ctx;
	if (x->n == 8)
		return VEIL_E_LIMIT;
	snprintf(x->ref[x->n++], sizeof x->ref[0], "%s@%u:%s:%s", v->name, v->version, v->state,
	         v->classification);
	return VEIL_OK;
}

static void test_models(void **state)
{
	fixture *f = *state;
	veil_err e;
	assert_int_equal(veil_catalog_compartment_create(f->c, "ml", VEIL_CATALOG_TENANCY, NULL, "admin", &e),
	                 VEIL_OK);
	char job[VEIL_CATALOG_JOB_ID_MAX];
	new_job(f->c, job);
	veil_model_version v = model_of("fmnist", job, "internal", 1);
	/* the job must be running or done */
	assert_int_equal(veil_catalog_model_add_version(f->c, &v, &e), VEIL_E_INVALID);
	set_state(f->c, job, "running");
	snprintf(v.compartment, sizeof v.compartment, "ml");
	int64_t before = veil_time_now();
	assert_int_equal(veil_catalog_model_add_version(f->c, &v, &e), VEIL_OK);
	assert_int_equal(v.version, 1);
	assert_string_equal(v.state, "live");
	assert_true(v.created >= before);
	veil_model_version got;
	assert_int_equal(veil_catalog_model_get(f->c, "fmnist", 1, &got, &e), VEIL_OK);
	same_model(&got, &v);

	/* later versions keep owner and compartment; the class only rises */
	veil_model_version v2 = model_of("fmnist", job, "public", 2);
	v2.owner[0] = '\0';
	v2.dp = false;
	v2.epsilon = v2.delta = 0;
	assert_int_equal(veil_catalog_model_add_version(f->c, &v2, &e), VEIL_OK);
	assert_int_equal(v2.version, 2);
	assert_string_equal(v2.owner, "bob");
	assert_string_equal(v2.compartment, "ml");
	assert_string_equal(v2.classification, "internal");
	assert_int_equal(veil_catalog_model_get(f->c, "fmnist", 0, &got, &e), VEIL_OK);
	assert_int_equal(got.version, 2);
	assert_false(got.dp);
	assert_true(got.epsilon == 0 && got.delta == 0);
	veil_model_version v3 = model_of("fmnist", job, "restricted", 3);
	assert_int_equal(veil_catalog_model_add_version(f->c, &v3, &e), VEIL_OK);
	assert_string_equal(v3.classification, "restricted");
	assert_int_equal(veil_catalog_model_get(f->c, "fmnist", 1, &got, &e), VEIL_OK);
	assert_string_equal(got.classification, "restricted");

	/* refusals */
	veil_model_version b = model_of("fmnist", job, "internal", 4);
	snprintf(b.owner, sizeof b.owner, "carol");
	assert_int_equal(veil_catalog_model_add_version(f->c, &b, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "cannot change"));
	b = model_of("fmnist", job, "internal", 4);
	snprintf(b.compartment, sizeof b.compartment, "tenancy");
	assert_int_equal(veil_catalog_model_add_version(f->c, &b, &e), VEIL_E_INVALID);
	b = model_of("other", job, "internal", 4);
	b.owner[0] = '\0';
	assert_int_equal(veil_catalog_model_add_version(f->c, &b, &e), VEIL_E_INVALID);
	assert_string_equal(e.msg, "model other is new: give its owner");
	b = model_of("other", job, "internal", 4);
	snprintf(b.compartment, sizeof b.compartment, "nowhere");
	assert_int_equal(veil_catalog_model_add_version(f->c, &b, &e), VEIL_E_NOTFOUND);
	b = model_of("other", "j-0000000000000bad", "internal", 4);
	assert_int_equal(veil_catalog_model_add_version(f->c, &b, &e), VEIL_E_NOTFOUND);
	static const char *const summaries[] = {
	        "", "[1]", "1", "{\"a\": 1", "{} {}", "{\"a\": \"\x1b\"}", "{\"a\": \"\xc3\x28\"}"};
	for (size_t i = 0; i < sizeof summaries / sizeof summaries[0]; i++) {
		b = model_of("other", job, "internal", 4);
		snprintf(b.summary, sizeof b.summary, "%s", summaries[i]);
		if (veil_catalog_model_add_version(f->c, &b, &e) != VEIL_E_INVALID)
			fail_msg("summary %zu was accepted", i);
	}
	static const struct {
		bool dp;
		double eps, delta;
	} privacy[] = {{false, 3, 0},    {false, 0, 1e-5},  {true, 0, 1e-5},
	               {true, -1, 1e-5}, {true, NAN, 1e-5}, {true, INFINITY, 1e-5},
	               {true, 3, 1},     {true, 3, -1e-9},  {true, 3, NAN}};
	for (size_t i = 0; i < sizeof privacy / sizeof privacy[0]; i++) {
		b = model_of("other", job, "internal", 4);
		b.dp = privacy[i].dp;
		b.epsilon = privacy[i].eps;
		b.delta = privacy[i].delta;
		if (veil_catalog_model_add_version(f->c, &b, &e) != VEIL_E_INVALID)
			fail_msg("privacy %zu was accepted", i);
	}
	b = model_of("other", job, "secret", 4);
	assert_int_equal(veil_catalog_model_add_version(f->c, &b, &e), VEIL_E_INVALID);
	b = model_of("other", job, "", 4);
	assert_int_equal(veil_catalog_model_add_version(f->c, &b, &e), VEIL_E_INVALID);
	b = model_of("bad name", job, "internal", 4);
	assert_int_equal(veil_catalog_model_add_version(f->c, &b, &e), VEIL_E_INVALID);
	b = model_of("other", job, "internal", 4);
	b.chunk_size = 0;
	assert_int_equal(veil_catalog_model_add_version(f->c, &b, &e), VEIL_E_INVALID);
	assert_int_equal(count(f->path, "models"), 1);
	/* the largest summary fits */
	b = model_of("other", job, "internal", 4);
	memset(b.summary, 'x', sizeof b.summary - 1);
	memcpy(b.summary, "{\"a\":\"", 6);
	memcpy(b.summary + sizeof b.summary - 3, "\"}", 3);
	assert_int_equal(strlen(b.summary), 16384);
	assert_int_equal(veil_catalog_model_add_version(f->c, &b, &e), VEIL_OK);
	assert_string_equal(b.compartment, "tenancy");
	b.summary[sizeof b.summary - 1] = 'x'; /* one byte more: not terminated within the field */
	assert_int_equal(veil_catalog_model_add_version(f->c, &b, &e), VEIL_E_LIMIT);

	/* deletion: latest moves back, numbers are not reused */
	assert_int_equal(veil_catalog_model_mark_deleted(f->c, "fmnist", 3, &e), VEIL_OK);
	assert_int_equal(veil_catalog_model_mark_deleted(f->c, "fmnist", 3, &e), VEIL_OK);
	assert_int_equal(veil_catalog_model_get(f->c, "fmnist", 0, &got, &e), VEIL_OK);
	assert_int_equal(got.version, 2);
	assert_int_equal(veil_catalog_model_get(f->c, "fmnist", 3, &got, &e), VEIL_E_NOTFOUND);
	assert_string_equal(e.msg, "version 3 of model fmnist was deleted");
	assert_string_equal(got.name, "");
	veil_model_version v4 = model_of("fmnist", job, "internal", 5);
	assert_int_equal(veil_catalog_model_add_version(f->c, &v4, &e), VEIL_OK);
	assert_int_equal(v4.version, 4);
	assert_int_equal(veil_catalog_model_get(f->c, "fmnist", 9, &got, &e), VEIL_E_NOTFOUND);
	assert_string_equal(e.msg, "model fmnist has no version 9 (latest is 4)");
	assert_int_equal(veil_catalog_model_get(f->c, "nosuch", 0, &got, &e), VEIL_E_NOTFOUND);
	assert_string_equal(e.msg, "no model named nosuch");
	assert_int_equal(veil_catalog_model_get(f->c, "bad name", 0, &got, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_model_mark_deleted(f->c, "fmnist", 0, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_model_mark_deleted(f->c, "fmnist", 9, &e), VEIL_E_NOTFOUND);
	assert_int_equal(veil_catalog_model_mark_deleted(f->c, "other", 1, &e), VEIL_OK);

	/* listings: latest live per model (or latest, all deleted), every version */
	mlist x = {0};
	assert_int_equal(veil_catalog_model_list(f->c, collect_model, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 2);
	assert_string_equal(x.ref[0], "fmnist@4:live:restricted");
	assert_string_equal(x.ref[1], "other@1:deleted:internal");
	assert_int_equal(veil_catalog_model_get(f->c, "other", 0, &got, &e), VEIL_E_NOTFOUND);
	assert_string_equal(e.msg, "model other has no live version (all 1 were deleted)");
	memset(&x, 0, sizeof x);
	assert_int_equal(veil_catalog_model_versions(f->c, "fmnist", collect_model, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 4);
	assert_string_equal(x.ref[2], "fmnist@3:deleted:restricted");
	assert_int_equal(veil_catalog_model_versions(f->c, "nosuch", collect_model, &x, &e), VEIL_E_NOTFOUND);

	/* in the caller's transaction: a model and its first version go together */
	assert_int_equal(veil_catalog_begin(f->c, &e), VEIL_OK);
	veil_model_version t = model_of("tx", job, "public", 6);
	assert_int_equal(veil_catalog_model_add_version(f->c, &t, &e), VEIL_OK);
	veil_catalog_rollback(f->c);
	assert_int_equal(count(f->path, "models"), 2);
	assert_int_equal(veil_catalog_integrity_check(f->c, &e), VEIL_OK);
}

static void test_job_set_model(void **state)
{
	fixture *f = *state;
	veil_err e;
	char a[VEIL_CATALOG_JOB_ID_MAX], b[VEIL_CATALOG_JOB_ID_MAX];
	assert_int_equal(add_model(f->c, "fmnist", "internal", 1, a), 1);
	assert_int_equal(add_model(f->c, "fmnist", "internal", 2, b), 2);
	/* a model another job made is not this job's */
	assert_int_equal(veil_catalog_job_set_model(f->c, a, "fmnist", 2, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "was made by job"));
	assert_int_equal(veil_catalog_job_set_model(f->c, a, "fmnist", 1, &e), VEIL_OK);
	assert_int_equal(veil_catalog_job_set_model(f->c, a, "fmnist", 1, &e), VEIL_OK);
	set_state(f->c, a, "succeeded");
	assert_int_equal(veil_catalog_job_set_model(f->c, a, "fmnist", 1, &e), VEIL_OK);
	veil_job_record j;
	assert_int_equal(veil_catalog_job_get(f->c, a, &j, &e), VEIL_OK);
	assert_string_equal(j.model, "fmnist");
	assert_int_equal(j.model_version, 1);
	veil_job_record_free(&j);
	/* one model per job */
	veil_model_version again = model_of("fmnist", a, "internal", 3);
	assert_int_equal(veil_catalog_model_add_version(f->c, &again, &e), VEIL_OK);
	assert_int_equal(veil_catalog_job_set_model(f->c, a, "fmnist", 3, &e), VEIL_E_EXISTS);
	assert_non_null(strstr(e.msg, "already made fmnist@1"));
	/* other refusals */
	assert_int_equal(veil_catalog_job_set_model(f->c, b, "fmnist", 0, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_job_set_model(f->c, b, "fmnist", 9, &e), VEIL_E_NOTFOUND);
	assert_int_equal(veil_catalog_job_set_model(f->c, b, "nosuch", 1, &e), VEIL_E_NOTFOUND);
	assert_int_equal(veil_catalog_job_set_model(f->c, b, "bad name", 1, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_job_set_model(f->c, "j-0000000000000bad", "fmnist", 2, &e),
	                 VEIL_E_NOTFOUND);
	assert_int_equal(veil_catalog_model_mark_deleted(f->c, "fmnist", 2, &e), VEIL_OK);
	assert_int_equal(veil_catalog_job_set_model(f->c, b, "fmnist", 2, &e), VEIL_E_NOTFOUND);
	char q[VEIL_CATALOG_JOB_ID_MAX];
	new_job(f->c, q);
	assert_int_equal(veil_catalog_job_set_model(f->c, q, "fmnist", 1, &e), VEIL_E_INVALID);
	/* an evaluation's model is the one it evaluated, which another job made */
	veil_job_record ev = job_of("eval", "fmnist");
	assert_int_equal(veil_catalog_job_add(f->c, &ev, &e), VEIL_OK);
	set_state(f->c, ev.id, "running");
	assert_int_equal(veil_catalog_job_set_model(f->c, ev.id, "fmnist", 1, &e), VEIL_OK);
	set_state(f->c, ev.id, "succeeded");
	assert_int_equal(veil_catalog_integrity_check(f->c, &e), VEIL_OK);
	/* a job pointed at another job's model, outside veil, is caught */
	veil_catalog_close(f->c);
	f->c = NULL;
	char sql[160];
	snprintf(sql, sizeof sql, "UPDATE jobs SET model_version_id = 2 WHERE id = '%s'", a);
	raw_sql(f->path, sql);
	assert_int_equal(veil_catalog_open(f->path, false, &f->c, &e), VEIL_OK);
	assert_int_equal(veil_catalog_integrity_check(f->c, &e), VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "names a model that another job made"));
}

typedef struct olist {
	size_t n;
	char line[8][400];
} olist;

static veil_status collect_object(void *ctx, const veil_training_object *o, veil_err *err)
{
	(void)err;
	olist *x = ctx;
	if (x->n == 8)
		return VEIL_E_LIMIT;
	snprintf(x->line[x->n++], sizeof x->line[0], "%s %s %.8s %s %s", o->kind, o->ref, o->object_id,
	         o->dek_id, o->live ? "live" : "gone");
	return VEIL_OK;
}

static void test_training_objects(void **state)
{
	fixture *f = *state;
	veil_err e;
	olist x = {0};
	assert_int_equal(veil_catalog_training_objects(f->c, collect_object, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 0);
	char a[VEIL_CATALOG_JOB_ID_MAX], b[VEIL_CATALOG_JOB_ID_MAX];
	add_model(f->c, "zeta", "internal", 1, a);
	add_model(f->c, "alpha", "internal", 2, b);
	assert_int_equal(veil_catalog_model_mark_deleted(f->c, "zeta", 1, &e), VEIL_OK);
	veil_job_checkpoint ka = ckpt_of(1, 10), kb = ckpt_of(2, 20);
	assert_int_equal(veil_catalog_job_set_checkpoint(f->c, a, &ka, NULL, &e), VEIL_OK);
	assert_int_equal(veil_catalog_job_set_checkpoint(f->c, b, &kb, NULL, &e), VEIL_OK);
	set_state(f->c, a, "succeeded");
	set_state(f->c, b, "failed");
	assert_int_equal(veil_catalog_training_objects(f->c, collect_object, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 4);
	char want[4][400];
	char mz[VEIL_CATALOG_HEX_MAX], ma[VEIL_CATALOG_HEX_MAX];
	hex_of(601, mz);
	hex_of(602, ma);
	snprintf(want[0], sizeof want[0], "model_version alpha@1 %.8s dek-model-2 live", ma);
	snprintf(want[1], sizeof want[1], "model_version zeta@1 %.8s dek-model-1 gone", mz);
	/* checkpoints by job id: a succeeded job's is no longer needed */
	bool a_first = strcmp(a, b) < 0;
	snprintf(want[a_first ? 2 : 3], sizeof want[0], "checkpoint %s %.8s dek-ckpt-1 gone", a,
	         ka.object_id);
	snprintf(want[a_first ? 3 : 2], sizeof want[0], "checkpoint %s %.8s dek-ckpt-2 live", b,
	         kb.object_id);
	for (int i = 0; i < 4; i++)
		assert_string_equal(x.line[i], want[i]);
}

/* A version keeps its training report's envelope (schema step 8): all of
 * it or nothing, listed for gc with the version's liveness. */
static void test_model_report(void **state)
{
	fixture *f = *state;
	veil_err e;
	char job[VEIL_CATALOG_JOB_ID_MAX];
	add_model(f->c, "plain", "internal", 1, job); /* no report, as before step 8 */
	veil_model_version v = model_of("kept", job, "internal", 2);
	v.report.present = true;
	hex_of(700, v.report.object_id);
	snprintf(v.report.dek_id, sizeof v.report.dek_id, "dek-report-2");
	v.report.size = 5000;
	hex_of(701, v.report.sha256);
	assert_int_equal(veil_catalog_model_add_version(f->c, &v, &e), VEIL_OK);
	veil_model_version got;
	assert_int_equal(veil_catalog_model_get(f->c, "kept", 1, &got, &e), VEIL_OK);
	assert_true(got.report.present);
	assert_string_equal(got.report.object_id, v.report.object_id);
	assert_string_equal(got.report.dek_id, "dek-report-2");
	assert_int_equal(got.report.size, 5000);
	assert_string_equal(got.report.sha256, v.report.sha256);
	assert_int_equal(veil_catalog_model_get(f->c, "plain", 1, &got, &e), VEIL_OK);
	assert_false(got.report.present);
	assert_string_equal(got.report.object_id, "");
	olist x = {0};
	assert_int_equal(veil_catalog_training_objects(f->c, collect_object, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 3);
	char want[400];
	snprintf(want, sizeof want, "model_report kept@1 %.8s dek-report-2 live", v.report.object_id);
	assert_string_equal(x.line[2], want);
	/* a report that is not hex is refused by the schema */
	veil_model_version bad = model_of("kept", job, "internal", 3);
	bad.report = v.report;
	snprintf(bad.report.sha256, sizeof bad.report.sha256, "not hex");
	assert_int_not_equal(veil_catalog_model_add_version(f->c, &bad, &e), VEIL_OK);
	/* half a report, written outside veil, is caught on read */
	veil_catalog_close(f->c);
	f->c = NULL;
	raw_sql(f->path, "UPDATE model_versions SET report_size = NULL WHERE report_object_id IS NOT NULL");
	assert_int_equal(veil_catalog_open(f->path, false, &f->c, &e), VEIL_OK);
	assert_int_equal(veil_catalog_model_get(f->c, "kept", 1, &got, &e), VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "model report"));
}

/* ---- privacy budgets ---- */

static void test_budget_set_get(void **state)
{
	fixture *f = *state;
	veil_err e;
	add_data(f->c, "patients", "alice", "confidential", 1);
	add_data(f->c, "patients", "", "", 2);
	veil_budget b;
	assert_int_equal(veil_catalog_budget_get(f->c, "patients", 0, &b, &e), VEIL_E_NOTFOUND);
	assert_string_equal(e.msg, "no privacy budget set for patients@2");
	assert_string_equal(e.hint, "its owner sets one with 'veil data budget set'");
	int64_t before = veil_time_now();
	assert_int_equal(veil_catalog_budget_set(f->c, "patients", 1, 3.0, 1e-5, "alice", &e), VEIL_OK);
	assert_int_equal(veil_catalog_budget_get(f->c, "patients", 1, &b, &e), VEIL_OK);
	assert_string_equal(b.dataset, "patients");
	assert_int_equal(b.version, 1);
	assert_true(b.epsilon_total == 3.0 && b.delta_total == 1e-5);
	assert_true(b.epsilon_spent == 0 && b.delta_spent == 0);
	assert_true(b.epsilon_remaining == 3.0 && b.delta_remaining == 1e-5);
	assert_int_equal(b.charges, 0);
	assert_string_equal(b.set_by, "alice");
	assert_true(b.set_at >= before);
	/* latest is version 2, which has none */
	assert_int_equal(veil_catalog_budget_get(f->c, "patients", 0, &b, &e), VEIL_E_NOTFOUND);
	assert_int_equal(b.version, 0);

	/* refusals */
	static const double bad[][2] = {{0, 1e-5}, {-1, 1e-5}, {NAN, 1e-5}, {INFINITY, 1e-5}, {1e308, 1e-5},
	                                {3, 0},    {3, 1},     {3, -1e-5},  {3, NAN}};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (veil_catalog_budget_set(f->c, "patients", 2, bad[i][0], bad[i][1], "alice", &e) !=
		    VEIL_E_INVALID)
			fail_msg("budget %zu was accepted", i);
	assert_int_equal(veil_catalog_budget_set(f->c, "patients", 0, 3, 1e-5, "alice", &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_budget_set(f->c, "patients", 9, 3, 1e-5, "alice", &e), VEIL_E_NOTFOUND);
	assert_int_equal(veil_catalog_budget_set(f->c, "nosuch", 1, 3, 1e-5, "alice", &e), VEIL_E_NOTFOUND);
	assert_int_equal(veil_catalog_budget_set(f->c, "patients", 2, 3, 1e-5, "", &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_budget_set(f->c, "patients", 2, 3, 1e-5, NULL, &e), VEIL_E_INVALID);
	assert_int_equal(count(f->path, "budgets"), 1);

	/* raised, lowered to what was spent, never below it */
	char job[VEIL_CATALOG_JOB_ID_MAX];
	new_job(f->c, job);
	veil_budget_ref r = {"patients", 1};
	assert_int_equal(veil_catalog_budget_charge(f->c, &r, 1, job, 0, 1.5, 1e-6, "first", &e), VEIL_OK);
	assert_int_equal(veil_catalog_budget_set(f->c, "patients", 1, 8.0, 1e-5, "carol", &e), VEIL_OK);
	assert_int_equal(veil_catalog_budget_set(f->c, "patients", 1, 1.25, 1e-5, "alice", &e),
	                 VEIL_E_INVALID);
	assert_string_equal(e.msg, "patients@1 has already spent epsilon 1.5; a total of 1.25 is less");
	assert_int_equal(veil_catalog_budget_set(f->c, "patients", 1, 2.0, 5e-7, "alice", &e),
	                 VEIL_E_INVALID);
	assert_string_equal(e.msg, "patients@1 has already spent delta 1e-06; a total of 5e-07 is less");
	assert_int_equal(veil_catalog_budget_get(f->c, "patients", 1, &b, &e), VEIL_OK);
	assert_true(b.epsilon_total == 8.0);
	assert_string_equal(b.set_by, "carol");
	assert_int_equal(veil_catalog_budget_set(f->c, "patients", 1, 1.5, 1e-6, "alice", &e), VEIL_OK);
	assert_int_equal(veil_catalog_budget_get(f->c, "patients", 1, &b, &e), VEIL_OK);
	assert_true(b.epsilon_remaining == 0 && b.delta_remaining == 0);
	assert_int_equal(b.charges, 1);

	/* a deleted version keeps its budget readable, but takes no new one */
	assert_int_equal(veil_catalog_dataset_mark_deleted(f->c, "patients", 1, &e), VEIL_OK);
	assert_int_equal(veil_catalog_budget_get(f->c, "patients", 1, &b, &e), VEIL_OK);
	assert_int_equal(veil_catalog_budget_set(f->c, "patients", 1, 9, 1e-5, "alice", &e), VEIL_E_NOTFOUND);
}

/* One charge of eps (delta 0) to name@1 by a fresh job. */
static veil_status charge1(veil_catalog *c, const char *name, double eps, double delta, veil_err *e)
{
	char job[VEIL_CATALOG_JOB_ID_MAX];
	new_job(c, job);
	veil_budget_ref r;
	memset(&r, 0, sizeof r);
	snprintf(r.dataset, sizeof r.dataset, "%s", name);
	r.version = 1;
	return veil_catalog_budget_charge(c, &r, 1, job, 0, eps, delta, NULL, e);
}

static void test_budget_arithmetic(void **state)
{
	fixture *f = *state;
	veil_err e;
	veil_budget b;
	/* decimal figures that do not add up in binary: 0.1 + 0.2 is
	 * 0.30000000000000004 in doubles, and spending exactly the rest of 0.3
	 * is still allowed */
	add_data(f->c, "a", "alice", "internal", 1);
	assert_int_equal(veil_catalog_budget_set(f->c, "a", 1, 0.3, 1e-5, "alice", &e), VEIL_OK);
	assert_int_equal(charge1(f->c, "a", 0.1, 0, &e), VEIL_OK);
	volatile double tenth = 0.1, fifth = 0.2;
	assert_true(tenth + fifth > 0.3); /* what the tolerance is for */
	assert_int_equal(charge1(f->c, "a", 0.2, 0, &e), VEIL_OK);
	assert_int_equal(veil_catalog_budget_get(f->c, "a", 1, &b, &e), VEIL_OK);
	assert_true(b.epsilon_remaining == 0);
	assert_int_equal(b.charges, 2);
	/* and then nothing more, however small */
	assert_int_equal(charge1(f->c, "a", 1e-9, 0, &e), VEIL_E_DENIED);
	assert_string_equal(e.msg,
	                    "the privacy budget of a@1 cannot cover this job: epsilon total 0.3, spent "
	                    "0.3, asked 1e-09, remaining 0");
	assert_non_null(strstr(e.hint, "raise its budget"));

	/* exactly the remainder as get reports it */
	add_data(f->c, "r", "alice", "internal", 2);
	assert_int_equal(veil_catalog_budget_set(f->c, "r", 1, 3.0, 1e-5, "alice", &e), VEIL_OK);
	assert_int_equal(charge1(f->c, "r", 0.7, 0, &e), VEIL_OK);
	assert_int_equal(charge1(f->c, "r", 1.1, 0, &e), VEIL_OK);
	assert_int_equal(veil_catalog_budget_get(f->c, "r", 1, &b, &e), VEIL_OK);
	assert_int_equal(charge1(f->c, "r", b.epsilon_remaining, 0, &e), VEIL_OK);

	/* the edge: spent + asked <= total * (1 + tolerance) passes, one ulp
	 * more does not. (One ulp over the remainder itself is well inside the
	 * tolerance, 1e-16 against 1e-12, and so passes: that is the point.) */
	add_data(f->c, "edge", "alice", "internal", 3);
	assert_int_equal(veil_catalog_budget_set(f->c, "edge", 1, 3.0, 1e-5, "alice", &e), VEIL_OK);
	double bound = 3.0 * (1 + VEIL_CATALOG_BUDGET_TOLERANCE);
	assert_int_equal(charge1(f->c, "edge", nextafter(bound, INFINITY), 0, &e), VEIL_E_DENIED);
	assert_int_equal(charge1(f->c, "edge", bound, 0, &e), VEIL_OK);
	add_data(f->c, "ulp", "alice", "internal", 4);
	assert_int_equal(veil_catalog_budget_set(f->c, "ulp", 1, 3.0, 1e-5, "alice", &e), VEIL_OK);
	assert_int_equal(charge1(f->c, "ulp", nextafter(3.0, INFINITY), 0, &e), VEIL_OK);
	/* a clearly larger excess is refused with all four figures */
	add_data(f->c, "over", "alice", "internal", 5);
	assert_int_equal(veil_catalog_budget_set(f->c, "over", 1, 3.0, 1e-5, "alice", &e), VEIL_OK);
	assert_int_equal(charge1(f->c, "over", 2.0, 0, &e), VEIL_OK);
	assert_int_equal(charge1(f->c, "over", 1.0 + 1e-9, 0, &e), VEIL_E_DENIED);
	assert_string_equal(e.msg,
	                    "the privacy budget of over@1 cannot cover this job: epsilon total 3, spent 2, "
	                    "asked 1.000000001, remaining 1");

	/* delta is counted the same way, and named when it is what runs out */
	assert_int_equal(charge1(f->c, "over", 0.5, 6e-6, &e), VEIL_OK);
	assert_int_equal(charge1(f->c, "over", 0.1, 5e-6, &e), VEIL_E_DENIED);
	assert_string_equal(e.msg,
	                    "the privacy budget of over@1 cannot cover this job: delta total 1e-05, spent "
	                    "6e-06, asked 5e-06, remaining 4e-06");
	assert_int_equal(charge1(f->c, "over", 0.1, 4e-6, &e), VEIL_OK);
	assert_int_equal(veil_catalog_budget_get(f->c, "over", 1, &b, &e), VEIL_OK);
	assert_true(fabs(b.epsilon_spent - 2.6) < 1e-15);
	assert_true(fabs(b.delta_spent - 1e-5) < 1e-20);
	assert_true(b.delta_remaining < 1e-20);
	assert_int_equal(veil_catalog_integrity_check(f->c, &e), VEIL_OK);
}

typedef struct clist {
	size_t n;
	char line[8][400];
} clist;

static veil_status collect_charge(void *ctx, const veil_budget_charge *ch, veil_err *err)
{
	(void)err;
	clist *x = ctx;
	if (x->n == 8)
		return VEIL_E_LIMIT;
	snprintf(x->line[x->n++], sizeof x->line[0], "%s@%u %u %g %g %s", ch->dataset, ch->version, ch->trial,
	         ch->epsilon, ch->delta, ch->note);
	return VEIL_OK;
}

static void test_budget_charge(void **state)
{
	fixture *f = *state;
	veil_err e;
	add_data(f->c, "a", "alice", "internal", 1);
	add_data(f->c, "b", "bank", "confidential", 2);
	add_data(f->c, "c", "carol", "public", 3);
	assert_int_equal(veil_catalog_budget_set(f->c, "a", 1, 1.0, 1e-5, "alice", &e), VEIL_OK);
	assert_int_equal(veil_catalog_budget_set(f->c, "b", 1, 0.5, 1e-5, "bank", &e), VEIL_OK);
	char job[VEIL_CATALOG_JOB_ID_MAX];
	new_job(f->c, job);
	veil_budget_ref ab[2] = {{"a", 1}, {"b", 1}}, ac[2] = {{"a", 1}, {"c", 1}};

	/* the second dataset over its budget: the first is not charged */
	assert_int_equal(veil_catalog_budget_charge(f->c, ab, 2, job, 0, 0.6, 1e-6, NULL, &e), VEIL_E_DENIED);
	assert_non_null(strstr(e.msg, "b@1"));
	veil_budget got;
	assert_int_equal(veil_catalog_budget_get(f->c, "a", 1, &got, &e), VEIL_OK);
	assert_int_equal(got.charges, 0);
	assert_true(got.epsilon_spent == 0);
	/* the second without a budget: the same */
	assert_int_equal(veil_catalog_budget_charge(f->c, ac, 2, job, 0, 0.1, 0, NULL, &e), VEIL_E_DENIED);
	assert_string_equal(e.msg, "no privacy budget set for c@1");
	assert_string_equal(e.hint, "its owner sets one with 'veil data budget set'");
	assert_int_equal(count(f->path, "budget_charges"), 0);
	/* both fit: both charged */
	assert_int_equal(veil_catalog_budget_charge(f->c, ab, 2, job, 0, 0.4, 1e-6, "mlp 784-256-10", &e),
	                 VEIL_OK);
	assert_int_equal(count(f->path, "budget_charges"), 2);

	/* a resumed job is not charged again; another trial is */
	set_state(f->c, job, "running");
	set_state(f->c, job, "interrupted");
	set_state(f->c, job, "running");
	assert_int_equal(veil_catalog_budget_charge(f->c, ab, 1, job, 0, 0.4, 1e-6, NULL, &e), VEIL_E_EXISTS);
	assert_non_null(strstr(e.msg, "was already charged for a@1"));
	assert_int_equal(veil_catalog_budget_charge(f->c, &ab[1], 1, job, 0, 0.01, 0, NULL, &e),
	                 VEIL_E_EXISTS);
	assert_int_equal(veil_catalog_budget_charge(f->c, ab, 1, job, 1, 0.2, 0, "trial 1", &e), VEIL_OK);
	assert_int_equal(veil_catalog_budget_charge(f->c, ab, 1, job, 2, 0.2, 0, "trial 2", &e), VEIL_OK);
	assert_int_equal(veil_catalog_budget_charge(f->c, ab, 1, job, 3, 0.25, 0, "trial 3", &e),
	                 VEIL_E_DENIED);

	/* refusals of the request itself */
	veil_budget_ref twice[2] = {{"a", 1}, {"a", 1}}, latest = {"a", 0}, missing = {"a", 9},
	                unknown = {"zz", 1}, bad = {"a b", 1};
	assert_int_equal(veil_catalog_budget_charge(f->c, twice, 2, job, 7, 0.01, 0, NULL, &e),
	                 VEIL_E_INVALID);
	assert_string_equal(e.msg, "a@1 is listed twice");
	assert_int_equal(veil_catalog_budget_charge(f->c, &latest, 1, job, 7, 0.01, 0, NULL, &e),
	                 VEIL_E_INVALID);
	assert_int_equal(veil_catalog_budget_charge(f->c, &missing, 1, job, 7, 0.01, 0, NULL, &e),
	                 VEIL_E_NOTFOUND);
	assert_int_equal(veil_catalog_budget_charge(f->c, &unknown, 1, job, 7, 0.01, 0, NULL, &e),
	                 VEIL_E_NOTFOUND);
	assert_int_equal(veil_catalog_budget_charge(f->c, &bad, 1, job, 7, 0.01, 0, NULL, &e),
	                 VEIL_E_INVALID);
	assert_int_equal(veil_catalog_budget_charge(f->c, ab, 0, job, 7, 0.01, 0, NULL, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_budget_charge(f->c, NULL, 1, job, 7, 0.01, 0, NULL, &e),
	                 VEIL_E_INVALID);
	static const double amounts[][2] = {{0, 0},       {-0.1, 0}, {NAN, 0},  {INFINITY, 0},
	                                    {0.1, -1e-9}, {0.1, 1},  {0.1, NAN}};
	for (size_t i = 0; i < sizeof amounts / sizeof amounts[0]; i++)
		if (veil_catalog_budget_charge(f->c, ab, 1, job, 7, amounts[i][0], amounts[i][1], NULL, &e) !=
		    VEIL_E_INVALID)
			fail_msg("charge %zu was accepted", i);
	assert_int_equal(veil_catalog_budget_charge(f->c, ab, 1, job, 7, 0.01, 0, "tab\there", &e),
	                 VEIL_E_INVALID);
	assert_int_equal(veil_catalog_budget_charge(f->c, ab, 1, "j-0000000000000bad", 7, 0.01, 0, NULL, &e),
	                 VEIL_E_NOTFOUND);
	assert_int_equal(veil_catalog_budget_charge(f->c, ab, 1, "job", 7, 0.01, 0, NULL, &e),
	                 VEIL_E_INVALID);
	char done[VEIL_CATALOG_JOB_ID_MAX];
	job_in(f->c, "succeeded", done);
	assert_int_equal(veil_catalog_budget_charge(f->c, ab, 1, done, 0, 0.01, 0, NULL, &e), VEIL_E_INVALID);
	assert_int_equal(veil_catalog_dataset_mark_deleted(f->c, "b", 1, &e), VEIL_OK);
	char late[VEIL_CATALOG_JOB_ID_MAX];
	new_job(f->c, late);
	assert_int_equal(veil_catalog_budget_charge(f->c, &ab[1], 1, late, 0, 0.01, 0, NULL, &e),
	                 VEIL_E_NOTFOUND);
	assert_int_equal(count(f->path, "budget_charges"), 4);

	/* listings: per version (a deleted one by number), per job */
	clist x = {0};
	assert_int_equal(veil_catalog_budget_charges(f->c, "a", 1, collect_charge, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 3);
	assert_string_equal(x.line[0], "a@1 0 0.4 1e-06 mlp 784-256-10");
	assert_string_equal(x.line[2], "a@1 2 0.2 0 trial 2");
	memset(&x, 0, sizeof x);
	assert_int_equal(veil_catalog_budget_charges(f->c, "b", 1, collect_charge, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 1);
	memset(&x, 0, sizeof x);
	assert_int_equal(veil_catalog_budget_job_charges(f->c, job, collect_charge, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 4);
	assert_string_equal(x.line[1], "b@1 0 0.4 1e-06 mlp 784-256-10");
	memset(&x, 0, sizeof x);
	assert_int_equal(veil_catalog_budget_job_charges(f->c, late, collect_charge, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 0);
	assert_int_equal(veil_catalog_budget_job_charges(f->c, "j-0000000000000bad", collect_charge, &x, &e),
	                 VEIL_E_NOTFOUND);
	assert_int_equal(veil_catalog_budget_charges(f->c, "c", 1, collect_charge, &x, &e), VEIL_E_NOTFOUND);
	assert_int_equal(veil_catalog_budget_charges(f->c, "zz", 1, collect_charge, &x, &e), VEIL_E_NOTFOUND);
}

typedef struct blist {
	size_t n;
	char line[4][160];
} blist;

static veil_status collect_budget(void *ctx, const veil_budget *b, veil_err *err)
{
	(void)err;
	blist *x = ctx;
	if (x->n == 4)
		return VEIL_E_LIMIT;
	snprintf(x->line[x->n++], sizeof x->line[0], "%s@%u %g/%g %g/%g %llu", b->dataset, b->version,
	         b->epsilon_spent, b->epsilon_total, b->delta_spent, b->delta_total,
	         (unsigned long long)b->charges);
	return VEIL_OK;
}

static void test_budget_list_and_transactions(void **state)
{
	fixture *f = *state;
	veil_err e;
	add_data(f->c, "zeta", "alice", "internal", 1);
	add_data(f->c, "alpha", "alice", "internal", 2);
	add_data(f->c, "alpha", "", "", 3);
	assert_int_equal(veil_catalog_budget_set(f->c, "zeta", 1, 2, 1e-5, "alice", &e), VEIL_OK);
	assert_int_equal(veil_catalog_budget_set(f->c, "alpha", 2, 1, 1e-6, "alice", &e), VEIL_OK);
	assert_int_equal(veil_catalog_budget_set(f->c, "alpha", 1, 2, 1e-5, "alice", &e), VEIL_OK);
	assert_int_equal(charge1(f->c, "alpha", 0.5, 1e-7, &e), VEIL_OK);

	/* a refused charge inside the caller's transaction leaves it usable;
	 * rolling it back takes the good charge with it */
	char job[VEIL_CATALOG_JOB_ID_MAX];
	new_job(f->c, job);
	veil_budget_ref z = {"zeta", 1};
	veil_budget_ref za[2] = {{"zeta", 1}, {"alpha", 1}};
	assert_int_equal(veil_catalog_begin(f->c, &e), VEIL_OK);
	assert_int_equal(veil_catalog_budget_charge(f->c, za, 2, job, 0, 1.9, 0, NULL, &e), VEIL_E_DENIED);
	assert_non_null(strstr(e.msg, "alpha@1"));
	assert_int_equal(veil_catalog_budget_charge(f->c, &z, 1, job, 0, 1.0, 0, NULL, &e), VEIL_OK);
	veil_catalog_rollback(f->c);
	assert_int_equal(count(f->path, "budget_charges"), 1);
	assert_int_equal(veil_catalog_begin(f->c, &e), VEIL_OK);
	assert_int_equal(veil_catalog_budget_charge(f->c, za, 2, job, 0, 1.9, 0, NULL, &e), VEIL_E_DENIED);
	assert_int_equal(veil_catalog_budget_charge(f->c, &z, 1, job, 0, 1.0, 0, NULL, &e), VEIL_OK);
	assert_int_equal(veil_catalog_commit(f->c, &e), VEIL_OK);
	assert_int_equal(count(f->path, "budget_charges"), 2);

	blist x = {0};
	assert_int_equal(veil_catalog_budget_list(f->c, collect_budget, &x, &e), VEIL_OK);
	assert_int_equal(x.n, 3);
	assert_string_equal(x.line[0], "alpha@1 0.5/2 1e-07/1e-05 1");
	assert_string_equal(x.line[1], "alpha@2 0/1 0/1e-06 0");
	assert_string_equal(x.line[2], "zeta@1 1/2 0/1e-05 1");
	assert_int_equal(veil_catalog_integrity_check(f->c, &e), VEIL_OK);

	/* a budget lowered outside veil below what was spent is caught */
	veil_catalog_close(f->c);
	f->c = NULL;
	raw_sql(f->path, "UPDATE budgets SET epsilon_total = 0.25 WHERE version_id = 2"); /* alpha@1 */
	assert_int_equal(veil_catalog_open(f->path, false, &f->c, &e), VEIL_OK);
	assert_int_equal(veil_catalog_integrity_check(f->c, &e), VEIL_E_CORRUPT);
	assert_non_null(strstr(e.msg, "the privacy budget of alpha@1 is overspent"));
	/* and a charge changed outside veil reads back as damage */
	raw_sql(f->path,
	        "PRAGMA ignore_check_constraints = ON; UPDATE budget_charges SET epsilon = -1 WHERE id = 2");
	veil_budget b;
	assert_int_equal(veil_catalog_budget_get(f->c, "zeta", 1, &b, &e), VEIL_E_CORRUPT);
}

/* Lineage needs nothing new: its kinds are checked as words, not listed. */
static void test_lineage_kinds(void **state)
{
	fixture *f = *state;
	veil_err e;
	char job[VEIL_CATALOG_JOB_ID_MAX];
	add_data(f->c, "patients", "alice", "confidential", 1);
	add_model(f->c, "risk", "confidential", 1, job);
	assert_int_equal(veil_catalog_lineage_add(f->c, "job", job, "trained_on", "dataset_version",
	                                          "patients@1", "sim:abc", &e),
	                 VEIL_OK);
	assert_int_equal(veil_catalog_lineage_add(f->c, "model_version", "risk@1", "produced_by", "job", job,
	                                          "sim:abc", &e),
	                 VEIL_OK);
	assert_int_equal(
	        raw_int(f->path, "SELECT count(*) FROM lineage_nodes WHERE kind IN ('job', 'model_version')"),
	        2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_schema_step, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_migration_from_v6, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_job_add_get, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_job_transitions, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_job_checkpoint, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_job_progress, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_job_list, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_models, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_job_set_model, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_training_objects, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_model_report, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_budget_set_get, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_budget_arithmetic, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_budget_charge, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_budget_list_and_transactions, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_lineage_kinds, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
