/*
 * The catalog schema as an ordered list of migration steps, and the runner
 * that applies the missing ones.
 *
 * Rules (docs/formats/catalog.md, "Migrations"): steps are only ever
 * appended; a released step is never edited; each step runs in one
 * transaction together with the schema_migrations row that records it, so
 * a crash leaves the catalog at the previous version, never between two.
 * Adding tables for a later feature = appending a step and raising
 * VEIL_CATALOG_SCHEMA_VERSION.
 */
#include "catalog_int.h"

#include <assert.h>

typedef struct step {
	uint32_t version;
	const char *description;
	const char *sql;
} step;

static const step steps[] = {
        {1, "catalog core: meta and schema_migrations",
         "CREATE TABLE schema_migrations ("
         "  version INTEGER PRIMARY KEY CHECK (version >= 1),"
         "  description TEXT NOT NULL,"
         "  applied INTEGER NOT NULL"
         ") STRICT;"
         "CREATE TABLE meta ("
         "  key TEXT PRIMARY KEY NOT NULL CHECK (length(key) BETWEEN 1 AND 64),"
         "  value TEXT NOT NULL CHECK (length(CAST(value AS BLOB)) <= 1024)"
         ") STRICT;"
         "INSERT INTO meta (key, value) VALUES ('format', 'veil-catalog'),"
         "  ('created', CAST(CAST(strftime('%s', 'now') AS INTEGER) AS TEXT));"},
        {2, "datasets, dataset versions and their tags",
         "CREATE TABLE datasets ("
         "  id INTEGER PRIMARY KEY,"
         "  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),"
         "  owner TEXT NOT NULL CHECK (length(owner) BETWEEN 1 AND 64),"
         "  classification TEXT NOT NULL"
         "    CHECK (classification IN ('public', 'internal', 'confidential', 'restricted')),"
         "  created INTEGER NOT NULL"
         ") STRICT;"
         "CREATE TABLE dataset_versions ("
         "  id INTEGER PRIMARY KEY,"
         "  dataset_id INTEGER NOT NULL REFERENCES datasets (id),"
         "  version INTEGER NOT NULL CHECK (version BETWEEN 1 AND 4294967295),"
         "  size INTEGER NOT NULL CHECK (size >= 0),"
         "  sha256 TEXT NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),"
         "  object_id TEXT NOT NULL CHECK (length(object_id) = 64 AND object_id NOT GLOB '*[^0-9a-f]*'),"
         "  dek_id TEXT NOT NULL CHECK (length(dek_id) BETWEEN 1 AND 47),"
         "  kek TEXT NOT NULL CHECK (length(kek) BETWEEN 1 AND 64),"
         "  chunk_size INTEGER NOT NULL CHECK (chunk_size BETWEEN 1 AND 4294967295),"
         "  created INTEGER NOT NULL,"
         "  created_by TEXT NOT NULL CHECK (length(created_by) BETWEEN 1 AND 64),"
         "  state TEXT NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'deleted')),"
         "  UNIQUE (dataset_id, version)"
         ") STRICT;"
         "CREATE TABLE dataset_tags ("
         "  version_id INTEGER NOT NULL REFERENCES dataset_versions (id),"
         "  key TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 64),"
         "  value TEXT NOT NULL CHECK (length(CAST(value AS BLOB)) <= 256),"
         "  PRIMARY KEY (version_id, key)"
         ") STRICT;"},
        {3, "lineage graph",
         "CREATE TABLE lineage_nodes ("
         "  id INTEGER PRIMARY KEY,"
         "  kind TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 32),"
         "  ref TEXT NOT NULL CHECK (length(CAST(ref AS BLOB)) BETWEEN 1 AND 256),"
         "  UNIQUE (kind, ref)"
         ") STRICT;"
         "CREATE TABLE lineage_edges ("
         "  id INTEGER PRIMARY KEY,"
         "  from_node INTEGER NOT NULL REFERENCES lineage_nodes (id),"
         "  to_node INTEGER NOT NULL REFERENCES lineage_nodes (id),"
         "  relation TEXT NOT NULL CHECK (length(relation) BETWEEN 1 AND 32),"
         "  measurement TEXT"
         "    CHECK (measurement IS NULL OR length(CAST(measurement AS BLOB)) BETWEEN 1 AND 256),"
         "  created INTEGER NOT NULL,"
         "  CHECK (from_node <> to_node),"
         "  UNIQUE (from_node, to_node, relation)"
         ") STRICT;"
         "CREATE INDEX lineage_edges_to ON lineage_edges (to_node);"},
        /* Identity and access. Records are keyed by name: names are unique
         * per kind and never renamed, and the audit log and policy texts
         * refer to them by name. The dataset's compartment is not a
         * REFERENCES column: SQLite refuses to add one with a non-NULL
         * default to a table that has rows (every catalog with datasets),
         * so dataset.c checks it on insert; compartments are never
         * deleted, so it stays valid. */
        {4, "compartments, principals, groups, tokens, policies; dataset compartment and region",
         "CREATE TABLE compartments ("
         "  name TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 1 AND 64),"
         "  parent TEXT REFERENCES compartments (name),"
         "  description TEXT NOT NULL DEFAULT ''"
         "    CHECK (length(CAST(description AS BLOB)) <= 256),"
         "  created INTEGER NOT NULL CHECK (created >= 0),"
         "  created_by TEXT NOT NULL CHECK (length(created_by) BETWEEN 1 AND 64),"
         "  CHECK ((parent IS NULL) = (name = 'tenancy')),"
         "  CHECK (parent IS NULL OR parent <> name)"
         ") STRICT;"
         "INSERT INTO compartments (name, parent, description, created, created_by) VALUES"
         "  ('tenancy', NULL, 'the root compartment', CAST(strftime('%s', 'now') AS INTEGER), 'veil');"
         "CREATE TABLE principals ("
         "  name TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 1 AND 64),"
         "  kind TEXT NOT NULL CHECK (kind IN ('user', 'worker', 'endpoint', 'federated-client')),"
         "  region TEXT NOT NULL DEFAULT '' CHECK (length(region) <= 64),"
         "  created INTEGER NOT NULL CHECK (created >= 0),"
         "  disabled_at INTEGER CHECK (disabled_at IS NULL OR disabled_at >= 0),"
         "  created_by TEXT NOT NULL CHECK (length(created_by) BETWEEN 1 AND 64)"
         ") STRICT;"
         "CREATE TABLE groups ("
         "  name TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 1 AND 64),"
         "  created INTEGER NOT NULL CHECK (created >= 0),"
         "  created_by TEXT NOT NULL CHECK (length(created_by) BETWEEN 1 AND 64)"
         ") STRICT;"
         "CREATE TABLE group_members ("
         "  group_name TEXT NOT NULL REFERENCES groups (name),"
         "  principal TEXT NOT NULL REFERENCES principals (name),"
         "  added INTEGER NOT NULL CHECK (added >= 0),"
         "  PRIMARY KEY (group_name, principal)"
         ") STRICT;"
         "CREATE INDEX group_members_principal ON group_members (principal);"
         "CREATE TABLE tokens ("
         "  id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 16 AND id NOT GLOB '*[^0-9a-f]*'),"
         "  principal TEXT NOT NULL REFERENCES principals (name),"
         "  hash BLOB NOT NULL CHECK (length(hash) = 32),"
         "  label TEXT NOT NULL DEFAULT '' CHECK (length(CAST(label AS BLOB)) <= 64),"
         "  created INTEGER NOT NULL CHECK (created >= 0),"
         "  expires INTEGER CHECK (expires IS NULL OR expires > created),"
         "  revoked INTEGER CHECK (revoked IS NULL OR revoked >= 0),"
         "  created_by TEXT NOT NULL CHECK (length(created_by) BETWEEN 1 AND 64)"
         ") STRICT;"
         "CREATE INDEX tokens_principal ON tokens (principal);"
         "CREATE TABLE policies ("
         "  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),"
         "  version INTEGER NOT NULL CHECK (version BETWEEN 1 AND 4294967295),"
         "  compartment TEXT NOT NULL REFERENCES compartments (name),"
         "  text TEXT NOT NULL CHECK (length(CAST(text AS BLOB)) <= 65536),"
         "  sha256 TEXT NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),"
         "  applied INTEGER NOT NULL CHECK (applied >= 0),"
         "  applied_by TEXT NOT NULL CHECK (length(applied_by) BETWEEN 1 AND 64),"
         "  PRIMARY KEY (name, version)"
         ") STRICT;"
         "CREATE TABLE key_compartments ("
         "  name TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 1 AND 64),"
         "  compartment TEXT NOT NULL REFERENCES compartments (name),"
         "  created INTEGER NOT NULL CHECK (created >= 0),"
         "  created_by TEXT NOT NULL CHECK (length(created_by) BETWEEN 1 AND 64)"
         ") STRICT;"
         "ALTER TABLE datasets ADD COLUMN compartment TEXT NOT NULL DEFAULT 'tenancy'"
         "  CHECK (length(compartment) BETWEEN 1 AND 64);"
         "ALTER TABLE datasets ADD COLUMN region TEXT NOT NULL DEFAULT '' CHECK (length(region) <= 64);"},
        {5, "key-release policies",
         /* The same shape as policies: versioned texts, never changed. The
          * name is the scope, "compartment:C" or "key:K"; compartment is
          * where the policy is attached (C, or K's compartment), which is
          * where changing it is authorized. */
         "CREATE TABLE release_policies ("
         "  name TEXT NOT NULL CHECK (length(name) BETWEEN 5 AND 76"
         "    AND (name GLOB 'compartment:?*' OR name GLOB 'key:?*')),"
         "  version INTEGER NOT NULL CHECK (version BETWEEN 1 AND 4294967295),"
         "  compartment TEXT NOT NULL REFERENCES compartments (name),"
         "  text TEXT NOT NULL CHECK (length(CAST(text AS BLOB)) <= 65536),"
         "  sha256 TEXT NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),"
         "  applied INTEGER NOT NULL CHECK (applied >= 0),"
         "  applied_by TEXT NOT NULL CHECK (length(applied_by) BETWEEN 1 AND 64),"
         "  PRIMARY KEY (name, version)"
         ") STRICT;"},
        /* What the trusted worker reported on a dataset version: where the
         * signed, encrypted envelope is and a summary to list and decide on.
         * The summary is checked with SQLite's JSON functions (built in since
         * 3.38; Debian 12 has 3.40). A CHECK's AND stops at the first false
         * term, so text that is not JSON fails the CHECK rather than making
         * json_type raise "malformed JSON"; either way the row is refused. */
        {6, "reports of the trusted worker",
         "CREATE TABLE reports ("
         "  id INTEGER PRIMARY KEY,"
         "  version_id INTEGER NOT NULL REFERENCES dataset_versions (id),"
         "  kind TEXT NOT NULL CHECK (kind IN ('validate', 'profile', 'features')),"
         "  passed INTEGER NOT NULL CHECK (passed IN (-1, 0, 1)),"
         "  summary TEXT NOT NULL CHECK (length(CAST(summary AS BLOB)) <= 4096"
         "    AND json_valid(summary) AND json_type(summary) = 'object'),"
         "  object_id TEXT NOT NULL CHECK (length(object_id) = 64 AND object_id NOT GLOB '*[^0-9a-f]*'),"
         "  dek_id TEXT NOT NULL CHECK (length(dek_id) BETWEEN 1 AND 47),"
         "  kek TEXT NOT NULL CHECK (length(kek) BETWEEN 1 AND 64),"
         "  size INTEGER NOT NULL CHECK (size >= 0),"
         "  sha256 TEXT NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),"
         "  signer TEXT NOT NULL CHECK (length(signer) = 64 AND signer NOT GLOB '*[^0-9a-f]*'),"
         "  measurement TEXT NOT NULL CHECK (length(CAST(measurement AS BLOB)) BETWEEN 1 AND 256"
         "    AND measurement NOT GLOB '*[^ -~]*'),"
         "  tee TEXT NOT NULL CHECK (length(tee) BETWEEN 1 AND 64),"
         "  created INTEGER NOT NULL CHECK (created >= 0),"
         "  created_by TEXT NOT NULL CHECK (length(created_by) BETWEEN 1 AND 64)"
         ") STRICT;"
         "CREATE INDEX reports_version ON reports (version_id);"},
        /* Training: jobs with their progress, last checkpoint and metric
         * series; models and their versions (shaped like datasets); privacy
         * budgets per dataset version and what each job was charged.
         *
         * jobs and model_versions refer to each other (a version was made
         * by a job; a finished job names its model): SQLite checks a
         * foreign key when a row is written, not when the table is
         * created, so jobs can name model_versions before it exists.
         * Reals are finite: a NaN binds as NULL, which NOT NULL refuses,
         * and "x = x AND abs(x) < 1e308" keeps out infinities (and a NaN
         * that found another way in). A job's checkpoint columns are all
         * NULL or all set, and finished is 0 exactly while the job can
         * still run. A charge refers to its budget, so a version without
         * a budget cannot be charged, and (job, version, trial) is
         * UNIQUE: a resumed job is not charged twice. */
        {7, "training jobs, metrics, models, privacy budgets",
         "CREATE TABLE jobs ("
         "  id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 18 AND substr(id, 1, 2) = 'j-'"
         "    AND substr(id, 3) NOT GLOB '*[^0-9a-f]*'),"
         "  kind TEXT NOT NULL CHECK (kind IN ('train', 'tune', 'eval')),"
         "  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),"
         "  state TEXT NOT NULL"
         "    CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'interrupted')),"
         "  job_sha256 TEXT NOT NULL CHECK (length(job_sha256) = 64 AND job_sha256 NOT GLOB '*[^0-9a-f]*'),"
         "  spec TEXT NOT NULL CHECK (length(CAST(spec AS BLOB)) BETWEEN 1 AND 65536),"
         "  created_by TEXT NOT NULL CHECK (length(created_by) BETWEEN 1 AND 64),"
         "  created INTEGER NOT NULL CHECK (created >= 0),"
         "  updated INTEGER NOT NULL CHECK (updated >= created),"
         "  finished INTEGER NOT NULL DEFAULT 0 CHECK (finished = 0 OR finished >= created),"
         "  error TEXT NOT NULL DEFAULT '' CHECK (length(CAST(error AS BLOB)) <= 512),"
         "  model_version_id INTEGER REFERENCES model_versions (id),"
         "  ckpt_object_id TEXT"
         "    CHECK (length(ckpt_object_id) = 64 AND ckpt_object_id NOT GLOB '*[^0-9a-f]*'),"
         "  ckpt_dek_id TEXT CHECK (length(ckpt_dek_id) BETWEEN 1 AND 47),"
         "  ckpt_kek TEXT CHECK (length(ckpt_kek) BETWEEN 1 AND 64),"
         "  ckpt_size INTEGER CHECK (ckpt_size >= 0),"
         "  ckpt_sha256 TEXT CHECK (length(ckpt_sha256) = 64 AND ckpt_sha256 NOT GLOB '*[^0-9a-f]*'),"
         "  ckpt_step INTEGER CHECK (ckpt_step >= 0),"
         "  epoch INTEGER NOT NULL DEFAULT 0 CHECK (epoch BETWEEN 0 AND 4294967295),"
         "  step INTEGER NOT NULL DEFAULT 0 CHECK (step >= 0),"
         "  steps_total INTEGER NOT NULL DEFAULT 0 CHECK (steps_total >= 0),"
         "  epsilon_spent REAL NOT NULL DEFAULT 0.0"
         "    CHECK (epsilon_spent = epsilon_spent AND epsilon_spent >= 0 AND epsilon_spent < 1e308),"
         "  CHECK ((finished = 0) = (state IN ('queued', 'running'))),"
         "  CHECK (error = '' OR state IN ('failed', 'interrupted')),"
         "  CHECK ((ckpt_object_id IS NULL) = (ckpt_dek_id IS NULL)"
         "    AND (ckpt_object_id IS NULL) = (ckpt_kek IS NULL)"
         "    AND (ckpt_object_id IS NULL) = (ckpt_size IS NULL)"
         "    AND (ckpt_object_id IS NULL) = (ckpt_sha256 IS NULL)"
         "    AND (ckpt_object_id IS NULL) = (ckpt_step IS NULL))"
         ") STRICT;"
         "CREATE INDEX jobs_created ON jobs (created);"
         "CREATE TABLE job_metrics ("
         "  job_id TEXT NOT NULL REFERENCES jobs (id),"
         "  seq INTEGER NOT NULL CHECK (seq BETWEEN 1 AND 100000),"
         "  epoch INTEGER NOT NULL CHECK (epoch BETWEEN 0 AND 4294967295),"
         "  step INTEGER NOT NULL CHECK (step >= 0),"
         "  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64 AND name NOT GLOB '*[^a-z0-9_.]*'),"
         "  value REAL NOT NULL CHECK (value = value AND abs(value) < 1e308),"
         "  time INTEGER NOT NULL CHECK (time >= 0),"
         "  PRIMARY KEY (job_id, seq)"
         ") STRICT;"
         "CREATE TABLE models ("
         "  id INTEGER PRIMARY KEY,"
         "  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),"
         "  owner TEXT NOT NULL CHECK (length(owner) BETWEEN 1 AND 64),"
         "  compartment TEXT NOT NULL REFERENCES compartments (name),"
         "  classification TEXT NOT NULL"
         "    CHECK (classification IN ('public', 'internal', 'confidential', 'restricted')),"
         "  created INTEGER NOT NULL CHECK (created >= 0)"
         ") STRICT;"
         "CREATE TABLE model_versions ("
         "  id INTEGER PRIMARY KEY,"
         "  model_id INTEGER NOT NULL REFERENCES models (id),"
         "  version INTEGER NOT NULL CHECK (version BETWEEN 1 AND 4294967295),"
         "  size INTEGER NOT NULL CHECK (size >= 0),"
         "  sha256 TEXT NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),"
         "  object_id TEXT NOT NULL CHECK (length(object_id) = 64 AND object_id NOT GLOB '*[^0-9a-f]*'),"
         "  dek_id TEXT NOT NULL CHECK (length(dek_id) BETWEEN 1 AND 47),"
         "  kek TEXT NOT NULL CHECK (length(kek) BETWEEN 1 AND 64),"
         "  chunk_size INTEGER NOT NULL CHECK (chunk_size BETWEEN 1 AND 4294967295),"
         "  job_id TEXT NOT NULL REFERENCES jobs (id),"
         "  summary TEXT NOT NULL CHECK (length(CAST(summary AS BLOB)) <= 16384"
         "    AND json_valid(summary) AND json_type(summary) = 'object'),"
         "  epsilon REAL CHECK (epsilon = epsilon AND epsilon > 0 AND epsilon < 1e308),"
         "  delta REAL CHECK (delta = delta AND delta >= 0 AND delta < 1),"
         "  created INTEGER NOT NULL CHECK (created >= 0),"
         "  created_by TEXT NOT NULL CHECK (length(created_by) BETWEEN 1 AND 64),"
         "  state TEXT NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'deleted')),"
         "  CHECK ((epsilon IS NULL) = (delta IS NULL)),"
         "  UNIQUE (model_id, version)"
         ") STRICT;"
         "CREATE INDEX model_versions_job ON model_versions (job_id);"
         "CREATE TABLE budgets ("
         "  version_id INTEGER PRIMARY KEY REFERENCES dataset_versions (id),"
         "  epsilon_total REAL NOT NULL"
         "    CHECK (epsilon_total = epsilon_total AND epsilon_total > 0 AND epsilon_total < 1e308),"
         "  delta_total REAL NOT NULL CHECK (delta_total > 0 AND delta_total < 1),"
         "  set_by TEXT NOT NULL CHECK (length(set_by) BETWEEN 1 AND 64),"
         "  set_at INTEGER NOT NULL CHECK (set_at >= 0)"
         ") STRICT;"
         "CREATE TABLE budget_charges ("
         "  id INTEGER PRIMARY KEY,"
         "  version_id INTEGER NOT NULL REFERENCES budgets (version_id),"
         "  job_id TEXT NOT NULL REFERENCES jobs (id),"
         "  trial INTEGER NOT NULL DEFAULT 0 CHECK (trial BETWEEN 0 AND 4294967295),"
         "  epsilon REAL NOT NULL CHECK (epsilon = epsilon AND epsilon > 0 AND epsilon < 1e308),"
         "  delta REAL NOT NULL CHECK (delta >= 0 AND delta < 1),"
         "  at INTEGER NOT NULL CHECK (at >= 0),"
         "  note TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 256 AND note NOT GLOB '*[^ -~]*'),"
         "  UNIQUE (job_id, version_id, trial)"
         ") STRICT;"
         "CREATE INDEX budget_charges_version ON budget_charges (version_id);"},
        /* A model version keeps the worker's signed training report as a
         * sealed envelope (docs/formats/report-envelope.md), so that who
         * trained it can be checked offline (veil model inspect --verify).
         * Versions made before this step have none: all four are NULL. */
        {8, "model versions keep their signed training report",
         "ALTER TABLE model_versions ADD COLUMN report_object_id TEXT CHECK (report_object_id IS NULL OR"
         "  (length(report_object_id) = 64 AND report_object_id NOT GLOB '*[^0-9a-f]*'));"
         "ALTER TABLE model_versions ADD COLUMN report_dek_id TEXT CHECK (report_dek_id IS NULL OR"
         "  length(report_dek_id) BETWEEN 1 AND 47);"
         "ALTER TABLE model_versions ADD COLUMN report_size INTEGER CHECK (report_size IS NULL OR"
         "  report_size BETWEEN 1 AND 4194304);"
         "ALTER TABLE model_versions ADD COLUMN report_sha256 TEXT CHECK (report_sha256 IS NULL OR"
         "  (length(report_sha256) = 64 AND report_sha256 NOT GLOB '*[^0-9a-f]*'));"},
};

#define NSTEPS (sizeof steps / sizeof steps[0])
static_assert(NSTEPS == VEIL_CATALOG_SCHEMA_VERSION, "raise VEIL_CATALOG_SCHEMA_VERSION with each new step");

veil_status vcat_current_version(veil_catalog *c, uint32_t *version, veil_err *err)
{
	*version = 0;
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c,
	                              "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
	                              "name = 'schema_migrations'",
	                              &s, err);
	if (st)
		return st;
	int rc = sqlite3_step(s);
	bool have = rc == SQLITE_ROW && sqlite3_column_int64(s, 0) == 1;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return vcat_db_err(c, rc, "cannot read the schema", err);
	if (!have)
		return VEIL_OK;
	if ((st = vcat_prepare(c, "SELECT coalesce(max(version), 0) FROM schema_migrations", &s, err)))
		return st;
	rc = sqlite3_step(s);
	int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return vcat_db_err(c, rc, "cannot read the schema version", err);
	if (v < 0 || v > UINT32_MAX) {
		veil_err_set(err, VEIL_E_CORRUPT, "catalog %s: schema version %lld is out of range", c->path,
		             (long long)v);
		return VEIL_E_CORRUPT;
	}
	*version = (uint32_t)v;
	return VEIL_OK;
}

veil_status vcat_check_version(veil_catalog *c, uint32_t version, veil_err *err)
{
	if (version <= VEIL_CATALOG_SCHEMA_VERSION)
		return VEIL_OK;
	veil_err_set(err, VEIL_E_UNSUPPORTED,
	             "catalog %s has schema version %u, newer than this veil understands (%u)", c->path,
	             version, (unsigned)VEIL_CATALOG_SCHEMA_VERSION);
	veil_err_hint(err, "upgrade veil to the version that last wrote this workspace (or newer)");
	return VEIL_E_UNSUPPORTED;
}

static veil_status record(veil_catalog *c, const step *p, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c,
	                              "INSERT INTO schema_migrations (version, description, applied) "
	                              "VALUES (?1, ?2, ?3)",
	                              &s, err);
	if (st)
		return st;
	if (!vcat_bind_int(s, 1, p->version) || !vcat_bind_text(s, 2, p->description) ||
	    !vcat_bind_int(s, 3, veil_time_now()))
		st = vcat_db_err(c, SQLITE_NOMEM, "cannot bind a parameter", err);
	else
		st = vcat_exec(c, s, "cannot record a schema step", err);
	sqlite3_finalize(s);
	return st;
}

/* Applies one step unless another process applied it first: the version
 * is read again under the write lock. */
static veil_status apply(veil_catalog *c, const step *p, veil_err *err)
{
	veil_status st = vcat_exec_sql(c, "BEGIN IMMEDIATE", "cannot start a schema change", err);
	if (st)
		return st;
	uint32_t have = 0;
	st = vcat_current_version(c, &have, err);
	if (!st)
		st = vcat_check_version(c, have, err);
	if (!st && have < p->version) {
		st = vcat_exec_sql(c, p->sql, "cannot apply a schema step", err);
		if (!st)
			st = record(c, p, err);
		if (st)
			veil_err_wrap(err, "schema step %u (%s)", p->version, p->description);
	}
	if (st) {
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
		return st;
	}
	st = vcat_exec_sql(c, "COMMIT", "cannot commit a schema change", err);
	if (st)
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	return st;
}

veil_status vcat_migrate(veil_catalog *c, veil_err *err)
{
	uint32_t have = 0;
	veil_status st = vcat_current_version(c, &have, err);
	for (size_t i = 0; !st && i < NSTEPS; i++) {
		if (steps[i].version != i + 1)
			return veil_err_set(err, VEIL_E_INTERNAL,
			                    "catalog schema steps are out of order at %zu", i);
		if (steps[i].version > have)
			st = apply(c, &steps[i], err);
	}
	return st;
}
