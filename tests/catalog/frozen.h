/* The SQL of catalog schema steps 1 to 5 exactly as schema.c has them
 * (released steps are never edited), so that a test can build the catalog
 * an older veil left behind and check that opening it migrates it,
 * keeping its rows. A new step is not added here: this is what older
 * catalogs in the field look like. */
#ifndef VEIL_TEST_CATALOG_FROZEN_H
#define VEIL_TEST_CATALOG_FROZEN_H

/* step 1: catalog core: meta and schema_migrations */
#define FROZEN_STEP_1                                                                                        \
	"CREATE TABLE schema_migrations ("                                                                   \
	"  version INTEGER PRIMARY KEY CHECK (version >= 1),"                                                \
	"  description TEXT NOT NULL,"                                                                       \
	"  applied INTEGER NOT NULL"                                                                         \
	") STRICT;"                                                                                          \
	"CREATE TABLE meta ("                                                                                \
	"  key TEXT PRIMARY KEY NOT NULL CHECK (length(key) BETWEEN 1 AND 64),"                              \
	"  value TEXT NOT NULL CHECK (length(CAST(value AS BLOB)) <= 1024)"                                  \
	") STRICT;"                                                                                          \
	"INSERT INTO meta (key, value) VALUES ('format', 'veil-catalog'),"                                   \
	"  ('created', CAST(CAST(strftime('%s', 'now') AS INTEGER) AS TEXT));"

#define FROZEN_RECORD_1 "(1, 'catalog core: meta and schema_migrations', 1700000000)"

/* step 2: datasets, dataset versions and their tags */
#define FROZEN_STEP_2                                                                                        \
	"CREATE TABLE datasets ("                                                                            \
	"  id INTEGER PRIMARY KEY,"                                                                          \
	"  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),"                                 \
	"  owner TEXT NOT NULL CHECK (length(owner) BETWEEN 1 AND 64),"                                      \
	"  classification TEXT NOT NULL"                                                                     \
	"    CHECK (classification IN ('public', 'internal', 'confidential', 'restricted')),"                \
	"  created INTEGER NOT NULL"                                                                         \
	") STRICT;"                                                                                          \
	"CREATE TABLE dataset_versions ("                                                                    \
	"  id INTEGER PRIMARY KEY,"                                                                          \
	"  dataset_id INTEGER NOT NULL REFERENCES datasets (id),"                                            \
	"  version INTEGER NOT NULL CHECK (version BETWEEN 1 AND 4294967295),"                               \
	"  size INTEGER NOT NULL CHECK (size >= 0),"                                                         \
	"  sha256 TEXT NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),"              \
	"  object_id TEXT NOT NULL CHECK (length(object_id) = 64 AND object_id NOT GLOB '*[^0-9a-f]*'),"     \
	"  dek_id TEXT NOT NULL CHECK (length(dek_id) BETWEEN 1 AND 47),"                                    \
	"  kek TEXT NOT NULL CHECK (length(kek) BETWEEN 1 AND 64),"                                          \
	"  chunk_size INTEGER NOT NULL CHECK (chunk_size BETWEEN 1 AND 4294967295),"                         \
	"  created INTEGER NOT NULL,"                                                                        \
	"  created_by TEXT NOT NULL CHECK (length(created_by) BETWEEN 1 AND 64),"                            \
	"  state TEXT NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'deleted')),"                         \
	"  UNIQUE (dataset_id, version)"                                                                     \
	") STRICT;"                                                                                          \
	"CREATE TABLE dataset_tags ("                                                                        \
	"  version_id INTEGER NOT NULL REFERENCES dataset_versions (id),"                                    \
	"  key TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 64),"                                          \
	"  value TEXT NOT NULL CHECK (length(CAST(value AS BLOB)) <= 256),"                                  \
	"  PRIMARY KEY (version_id, key)"                                                                    \
	") STRICT;"

#define FROZEN_RECORD_2 "(2, 'datasets, dataset versions and their tags', 1700000000)"

/* step 3: lineage graph */
#define FROZEN_STEP_3                                                                                        \
	"CREATE TABLE lineage_nodes ("                                                                       \
	"  id INTEGER PRIMARY KEY,"                                                                          \
	"  kind TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 32),"                                        \
	"  ref TEXT NOT NULL CHECK (length(CAST(ref AS BLOB)) BETWEEN 1 AND 256),"                           \
	"  UNIQUE (kind, ref)"                                                                               \
	") STRICT;"                                                                                          \
	"CREATE TABLE lineage_edges ("                                                                       \
	"  id INTEGER PRIMARY KEY,"                                                                          \
	"  from_node INTEGER NOT NULL REFERENCES lineage_nodes (id),"                                        \
	"  to_node INTEGER NOT NULL REFERENCES lineage_nodes (id),"                                          \
	"  relation TEXT NOT NULL CHECK (length(relation) BETWEEN 1 AND 32),"                                \
	"  measurement TEXT"                                                                                 \
	"    CHECK (measurement IS NULL OR length(CAST(measurement AS BLOB)) BETWEEN 1 AND 256),"            \
	"  created INTEGER NOT NULL,"                                                                        \
	"  CHECK (from_node <> to_node),"                                                                    \
	"  UNIQUE (from_node, to_node, relation)"                                                            \
	") STRICT;"                                                                                          \
	"CREATE INDEX lineage_edges_to ON lineage_edges (to_node);"

#define FROZEN_RECORD_3 "(3, 'lineage graph', 1700000000)"

/* step 4: compartments, principals, groups, tokens, policies; dataset compartment and region */
#define FROZEN_STEP_4                                                                                        \
	"CREATE TABLE compartments ("                                                                        \
	"  name TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 1 AND 64),"                            \
	"  parent TEXT REFERENCES compartments (name),"                                                      \
	"  description TEXT NOT NULL DEFAULT ''"                                                             \
	"    CHECK (length(CAST(description AS BLOB)) <= 256),"                                              \
	"  created INTEGER NOT NULL CHECK (created >= 0),"                                                   \
	"  created_by TEXT NOT NULL CHECK (length(created_by) BETWEEN 1 AND 64),"                            \
	"  CHECK ((parent IS NULL) = (name = 'tenancy')),"                                                   \
	"  CHECK (parent IS NULL OR parent <> name)"                                                         \
	") STRICT;"                                                                                          \
	"INSERT INTO compartments (name, parent, description, created, created_by) VALUES"                   \
	"  ('tenancy', NULL, 'the root compartment', CAST(strftime('%s', 'now') AS INTEGER), 'veil');"       \
	"CREATE TABLE principals ("                                                                          \
	"  name TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 1 AND 64),"                            \
	"  kind TEXT NOT NULL CHECK (kind IN ('user', 'worker', 'endpoint', 'federated-client')),"           \
	"  region TEXT NOT NULL DEFAULT '' CHECK (length(region) <= 64),"                                    \
	"  created INTEGER NOT NULL CHECK (created >= 0),"                                                   \
	"  disabled_at INTEGER CHECK (disabled_at IS NULL OR disabled_at >= 0),"                             \
	"  created_by TEXT NOT NULL CHECK (length(created_by) BETWEEN 1 AND 64)"                             \
	") STRICT;"                                                                                          \
	"CREATE TABLE groups ("                                                                              \
	"  name TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 1 AND 64),"                            \
	"  created INTEGER NOT NULL CHECK (created >= 0),"                                                   \
	"  created_by TEXT NOT NULL CHECK (length(created_by) BETWEEN 1 AND 64)"                             \
	") STRICT;"                                                                                          \
	"CREATE TABLE group_members ("                                                                       \
	"  group_name TEXT NOT NULL REFERENCES groups (name),"                                               \
	"  principal TEXT NOT NULL REFERENCES principals (name),"                                            \
	"  added INTEGER NOT NULL CHECK (added >= 0),"                                                       \
	"  PRIMARY KEY (group_name, principal)"                                                              \
	") STRICT;"                                                                                          \
	"CREATE INDEX group_members_principal ON group_members (principal);"                                 \
	"CREATE TABLE tokens ("                                                                              \
	"  id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 16 AND id NOT GLOB '*[^0-9a-f]*'),"              \
	"  principal TEXT NOT NULL REFERENCES principals (name),"                                            \
	"  hash BLOB NOT NULL CHECK (length(hash) = 32),"                                                    \
	"  label TEXT NOT NULL DEFAULT '' CHECK (length(CAST(label AS BLOB)) <= 64),"                        \
	"  created INTEGER NOT NULL CHECK (created >= 0),"                                                   \
	"  expires INTEGER CHECK (expires IS NULL OR expires > created),"                                    \
	"  revoked INTEGER CHECK (revoked IS NULL OR revoked >= 0),"                                         \
	"  created_by TEXT NOT NULL CHECK (length(created_by) BETWEEN 1 AND 64)"                             \
	") STRICT;"                                                                                          \
	"CREATE INDEX tokens_principal ON tokens (principal);"                                               \
	"CREATE TABLE policies ("                                                                            \
	"  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),"                                        \
	"  version INTEGER NOT NULL CHECK (version BETWEEN 1 AND 4294967295),"                               \
	"  compartment TEXT NOT NULL REFERENCES compartments (name),"                                        \
	"  text TEXT NOT NULL CHECK (length(CAST(text AS BLOB)) <= 65536),"                                  \
	"  sha256 TEXT NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),"              \
	"  applied INTEGER NOT NULL CHECK (applied >= 0),"                                                   \
	"  applied_by TEXT NOT NULL CHECK (length(applied_by) BETWEEN 1 AND 64),"                            \
	"  PRIMARY KEY (name, version)"                                                                      \
	") STRICT;"                                                                                          \
	"CREATE TABLE key_compartments ("                                                                    \
	"  name TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 1 AND 64),"                            \
	"  compartment TEXT NOT NULL REFERENCES compartments (name),"                                        \
	"  created INTEGER NOT NULL CHECK (created >= 0),"                                                   \
	"  created_by TEXT NOT NULL CHECK (length(created_by) BETWEEN 1 AND 64)"                             \
	") STRICT;"                                                                                          \
	"ALTER TABLE datasets ADD COLUMN compartment TEXT NOT NULL DEFAULT 'tenancy'"                        \
	"  CHECK (length(compartment) BETWEEN 1 AND 64);"                                                    \
	"ALTER TABLE datasets ADD COLUMN region TEXT NOT NULL DEFAULT '' CHECK (length(region) <= 64);"

#define FROZEN_RECORD_4                                                                                      \
	"(4, 'compartments, principals, groups, tokens, policies; dataset compartment and region', "         \
	"1700000000)"

/* step 5: key-release policies */
#define FROZEN_STEP_5                                                                                        \
	"CREATE TABLE release_policies ("                                                                    \
	"  name TEXT NOT NULL CHECK (length(name) BETWEEN 5 AND 76"                                          \
	"    AND (name GLOB 'compartment:?*' OR name GLOB 'key:?*')),"                                       \
	"  version INTEGER NOT NULL CHECK (version BETWEEN 1 AND 4294967295),"                               \
	"  compartment TEXT NOT NULL REFERENCES compartments (name),"                                        \
	"  text TEXT NOT NULL CHECK (length(CAST(text AS BLOB)) <= 65536),"                                  \
	"  sha256 TEXT NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),"              \
	"  applied INTEGER NOT NULL CHECK (applied >= 0),"                                                   \
	"  applied_by TEXT NOT NULL CHECK (length(applied_by) BETWEEN 1 AND 64),"                            \
	"  PRIMARY KEY (name, version)"                                                                      \
	") STRICT;"

#define FROZEN_RECORD_5 "(5, 'key-release policies', 1700000000)"

#endif
