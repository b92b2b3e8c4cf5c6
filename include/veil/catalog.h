/*
 * veil catalog: the workspace's metadata in SQLite (docs/formats/catalog.md)
 * — datasets, their versions and tags, the lineage graph, the identity
 * and access records: compartments, principals, groups, API tokens (their
 * hashes only) and policy texts, and training: jobs, their metrics,
 * models and privacy budgets.
 *
 * The catalog holds only metadata: names, sizes, hashes, object ids and the
 * ids of wrapped keys; never key material or plaintext. Its schema is a
 * numbered list of migration steps; opening applies the missing ones and
 * refuses a catalog written by a newer veil.
 *
 * One veil_catalog is one SQLite connection: use it from one thread at a
 * time; open one per thread or process (they coordinate through SQLite's
 * locks, waiting up to 5 s for each other). Every function that changes
 * rows runs in its own transaction unless the caller has opened one with
 * veil_catalog_begin, in which case it joins it.
 */
#ifndef VEIL_CATALOG_H
#define VEIL_CATALOG_H

#include "veil/base.h"

/* The schema version this code writes; a catalog with a higher one is
 * refused. */
#define VEIL_CATALOG_SCHEMA_VERSION 8

/* Field sizes include the NUL. */
#define VEIL_CATALOG_NAME_MAX        65 /* names: 1..64 chars, see veil_name_check */
#define VEIL_CATALOG_CLASS_MAX       16 /* "public" ... "restricted" */
#define VEIL_CATALOG_HEX_MAX         65 /* SHA-256 / object id: 64 lowercase hex */
#define VEIL_CATALOG_DEK_ID_MAX      48 /* 1..47 printable, no spaces */
#define VEIL_CATALOG_STATE_MAX       8  /* "live", "deleted" */
#define VEIL_CATALOG_TAG_KEY_MAX     65
#define VEIL_CATALOG_TAG_VALUE_MAX   257
#define VEIL_CATALOG_TAGS_MAX        64 /* per dataset version */
#define VEIL_CATALOG_META_KEY_MAX    65
#define VEIL_CATALOG_META_VALUE_MAX  1025
#define VEIL_CATALOG_KIND_MAX        33  /* lineage node kinds and relations: [a-z0-9_], 1..32 */
#define VEIL_CATALOG_REF_MAX         257 /* lineage node refs: 1..256 printable */
#define VEIL_CATALOG_MEASUREMENT_MAX 257

typedef struct veil_catalog veil_catalog;

/* Opens the catalog at path. create: make a new one (mode 0600) when path
 * does not exist; without it a missing file is VEIL_E_NOTFOUND. A file that
 * is not a veil catalog is VEIL_E_WORKSPACE and is left unmodified; a
 * catalog from a newer veil is VEIL_E_UNSUPPORTED. Missing migration steps
 * are applied. On error *out is NULL. */
veil_status veil_catalog_open(const char *path, bool create, veil_catalog **out,
                              veil_err *err) VEIL_MUST_CHECK;
void veil_catalog_close(veil_catalog *c); /* NULL ok; rolls back an open transaction */
/* The schema version of the open catalog (the highest step applied). */
veil_status veil_catalog_schema_version(veil_catalog *c, uint32_t *version, veil_err *err) VEIL_MUST_CHECK;

/* Explicit transactions (BEGIN IMMEDIATE: the write lock is taken at once,
 * so a later statement cannot fail for lack of it). commit rolls back and
 * reports the error when it cannot commit. Nesting is VEIL_E_INVALID. */
veil_status veil_catalog_begin(veil_catalog *c, veil_err *err) VEIL_MUST_CHECK;
veil_status veil_catalog_commit(veil_catalog *c, veil_err *err) VEIL_MUST_CHECK;
void veil_catalog_rollback(veil_catalog *c); /* no-op without a transaction */

/* Workspace-level settings ("workspace_id", ...). key: a name (see
 * veil_name_check); value: at most VEIL_CATALOG_META_VALUE_MAX - 1 bytes.
 * "format" and "created" are written by veil and cannot be set. get copies
 * the value into out (VEIL_E_LIMIT if outsz is too small, VEIL_E_NOTFOUND
 * when absent; out is "" on error). */
veil_status veil_catalog_meta_get(veil_catalog *c, const char *key, char *out, size_t outsz,
                                  veil_err *err) VEIL_MUST_CHECK;
veil_status veil_catalog_meta_set(veil_catalog *c, const char *key, const char *value,
                                  veil_err *err) VEIL_MUST_CHECK;

/* ---- datasets ---- */
typedef struct veil_tag {
	char key[VEIL_CATALOG_TAG_KEY_MAX];     /* a name, or namespace:name (each a name), <= 64 */
	char value[VEIL_CATALOG_TAG_VALUE_MAX]; /* 0..256 printable characters */
} veil_tag;

typedef struct veil_dataset_version {
	char name[VEIL_CATALOG_NAME_MAX];
	uint32_t version; /* 1, 2, ...; never reused, also after a delete */
	char owner[VEIL_CATALOG_NAME_MAX];
	char classification[VEIL_CATALOG_CLASS_MAX]; /* public, internal, confidential, restricted */
	uint64_t size;                               /* plaintext bytes */
	char sha256[VEIL_CATALOG_HEX_MAX];           /* of the plaintext, lowercase hex */
	char object_id[VEIL_CATALOG_HEX_MAX];        /* store id of the encrypted container */
	char dek_id[VEIL_CATALOG_DEK_ID_MAX];        /* the wrapped DEK, in the key store */
	char kek[VEIL_CATALOG_NAME_MAX];             /* the KEK that wraps it */
	uint32_t chunk_size;                         /* container chunk size */
	int64_t created;                             /* Unix seconds; 0 on add = now */
	char created_by[VEIL_CATALOG_NAME_MAX];      /* the principal that added it */
	char compartment[VEIL_CATALOG_NAME_MAX];     /* where the dataset lives; "tenancy" by default */
	char region[VEIL_CATALOG_NAME_MAX];          /* where it must stay; "" = not recorded (pre-v4) */
	char state[VEIL_CATALOG_STATE_MAX];          /* "live" or "deleted"; set by the catalog */
	veil_tag *tags;                              /* owned; free with veil_dataset_version_free */
	size_t ntags;
} veil_dataset_version;

/* Adds version N+1 of v->name (N = the highest version ever added, 0 for a
 * new dataset). A new dataset takes v->owner and v->classification, which
 * are then required, and v->compartment ("" = tenancy; it must exist:
 * VEIL_E_NOTFOUND) and v->region ("" allowed). For an existing dataset
 * each of the four may be "" (meaning: keep the dataset's) or must equal
 * the dataset's: a mismatch is VEIL_E_INVALID, since a version cannot
 * change who owns the dataset, how it is classified, or where it lives. On success v->version, v->owner,
 * v->classification, v->created (when 0) and v->state are filled in; v->tags are stored with the version and
 * stay the caller's. On error nothing is stored. */
veil_status veil_catalog_dataset_add_version(veil_catalog *c, veil_dataset_version *v,
                                             veil_err *err) VEIL_MUST_CHECK;
/* version 0: the latest live version. A deleted version, an unknown dataset
 * or version is VEIL_E_NOTFOUND. On success out holds the tags (free with
 * veil_dataset_version_free); on error out is zeroed. */
veil_status veil_catalog_dataset_get(veil_catalog *c, const char *name, uint32_t version,
                                     veil_dataset_version *out, veil_err *err) VEIL_MUST_CHECK;
/* Callbacks get a version without tags (tags NULL, ntags 0), valid only
 * during the call. A status other than VEIL_OK stops the walk and is
 * returned. */
typedef veil_status (*veil_dataset_fn)(void *ctx, const veil_dataset_version *v, veil_err *err);
/* One call per dataset in name order, with its latest live version (or,
 * when every version is deleted, its latest version, state "deleted"). */
veil_status veil_catalog_dataset_list(veil_catalog *c, veil_dataset_fn cb, void *ctx,
                                      veil_err *err) VEIL_MUST_CHECK;
/* Every version of one dataset, deleted ones included, oldest first. */
veil_status veil_catalog_dataset_versions(veil_catalog *c, const char *name, veil_dataset_fn cb, void *ctx,
                                          veil_err *err) VEIL_MUST_CHECK;
/* Marks a version deleted (the row stays, for lineage and audit). Marking
 * a deleted version again is VEIL_OK. */
veil_status veil_catalog_dataset_mark_deleted(veil_catalog *c, const char *name, uint32_t version,
                                              veil_err *err) VEIL_MUST_CHECK;
/* Frees v->tags and zeroes v. NULL ok. */
void veil_dataset_version_free(veil_dataset_version *v);

/* Replaces the tags of one version whose keys start with `prefix` (e.g.
 * "pii:") by tags[0..n) (each key must start with prefix), keeping its
 * other tags: what a scan found replaces what an earlier scan found. Tag
 * keys are names (veil_name_check) optionally preceded by one namespace
 * and a colon ("pii:email"). The total stays at most VEIL_CATALOG_TAGS_MAX
 * (VEIL_E_LIMIT). VEIL_E_NOTFOUND for an unknown or deleted version. The
 * version must be named (0 is VEIL_E_INVALID: a scan describes the bytes it
 * read), and prefix must not be empty (it would drop the owner's tags).
 * On error the tags are as they were. */
veil_status veil_catalog_dataset_set_tags(veil_catalog *c, const char *name, uint32_t version,
                                          const char *prefix, const veil_tag *tags, size_t n,
                                          veil_err *err) VEIL_MUST_CHECK;
/* Raises the dataset's classification to cls when cls is higher (public <
 * internal < confidential < restricted); a lower or equal one changes
 * nothing. *changed (may be NULL) says whether it rose. Classification only
 * ever rises here: lowering it is an owner's decision, not a scan's. */
veil_status veil_catalog_dataset_raise_class(veil_catalog *c, const char *name, const char *cls,
                                             bool *changed, veil_err *err) VEIL_MUST_CHECK;

/* ---- reports: what the trusted worker found in a dataset version ----
 * A report's body is stored encrypted in the object store (an envelope
 * with the worker's signature and the evidence that binds its key,
 * docs/formats/report-envelope.md); the catalog keeps where it is and a
 * summary to list and to decide on (the compliance rule reads it). */
#define VEIL_CATALOG_REPORT_KIND_MAX    16   /* "validate", "profile", "features" */
#define VEIL_CATALOG_REPORT_SUMMARY_MAX 4097 /* JSON, at most 4096 bytes */
typedef struct veil_report_record {
	int64_t id; /* set by add: 1, 2, ... */
	char dataset[VEIL_CATALOG_NAME_MAX];
	uint32_t version;
	char kind[VEIL_CATALOG_REPORT_KIND_MAX];
	int passed; /* 1, 0, or -1 when the kind has no verdict (profile) */
	char summary[VEIL_CATALOG_REPORT_SUMMARY_MAX]; /* a JSON object */
	char object_id[VEIL_CATALOG_HEX_MAX];          /* the encrypted envelope in the store */
	char dek_id[VEIL_CATALOG_DEK_ID_MAX];
	char kek[VEIL_CATALOG_NAME_MAX];
	uint64_t size;                                  /* plaintext bytes of the envelope */
	char sha256[VEIL_CATALOG_HEX_MAX];              /* of the plaintext envelope */
	char signer[VEIL_CATALOG_HEX_MAX];              /* the worker's Ed25519 public key, hex */
	char measurement[VEIL_CATALOG_MEASUREMENT_MAX]; /* of the worker that signed, hex */
	char tee[VEIL_CATALOG_NAME_MAX];                /* "sim", "sev-snp", "tdx" */
	int64_t created;                                /* 0 on add: now */
	char created_by[VEIL_CATALOG_NAME_MAX];
} veil_report_record;
/* Adds a report of an existing version (VEIL_E_NOTFOUND otherwise; a
 * deleted version may still get none). r->version must be named (0 is
 * VEIL_E_INVALID). Every field is checked as the schema does; summary must
 * be a JSON object in UTF-8 (it is stored as text, and SQLite's json_valid
 * checks it). r->id and r->created are filled in. */
veil_status veil_catalog_report_add(veil_catalog *c, veil_report_record *r, veil_err *err) VEIL_MUST_CHECK;
/* The newest report of `kind` (NULL: any kind) for name@version (version
 * 0: the latest live version; a deleted version named by number keeps its
 * reports readable), VEIL_E_NOTFOUND when none. On error out is zeroed. */
veil_status veil_catalog_report_latest(veil_catalog *c, const char *name, uint32_t version, const char *kind,
                                       veil_report_record *out, veil_err *err) VEIL_MUST_CHECK;
veil_status veil_catalog_report_get(veil_catalog *c, int64_t id, veil_report_record *out,
                                    veil_err *err) VEIL_MUST_CHECK;
typedef veil_status (*veil_report_fn)(void *ctx, const veil_report_record *r, veil_err *err);
/* Every report of a dataset (every version, oldest first, i.e. by id);
 * name NULL: all. An unknown dataset is VEIL_E_NOTFOUND. */
veil_status veil_catalog_report_list(veil_catalog *c, const char *name, veil_report_fn cb, void *ctx,
                                     veil_err *err) VEIL_MUST_CHECK;

/* Splits "name" or "name@N" (N >= 1, decimal, no sign or leading zero).
 * *version is 0 for a bare name (meaning "latest"). On error name is "". */
veil_status veil_catalog_parse_ref(const char *ref, char name[VEIL_CATALOG_NAME_MAX], uint32_t *version,
                                   veil_err *err) VEIL_MUST_CHECK;

/* ---- lineage: a graph of (kind, ref) nodes and typed edges ---- */
typedef struct veil_lineage_edge {
	char from_kind[VEIL_CATALOG_KIND_MAX];
	char from_ref[VEIL_CATALOG_REF_MAX];
	char relation[VEIL_CATALOG_KIND_MAX];
	char to_kind[VEIL_CATALOG_KIND_MAX];
	char to_ref[VEIL_CATALOG_REF_MAX];
	bool has_measurement;
	char measurement[VEIL_CATALOG_MEASUREMENT_MAX]; /* "" when !has_measurement */
	int64_t created;
} veil_lineage_edge;

/* Adds the edge from -> to, creating the nodes as needed, e.g.
 * ("dataset_version", "patients@3") -[derived_from]-> ("dataset_version",
 * "patients@2"). kind and relation: 1..32 of [a-z0-9_]; ref: 1..256
 * printable characters; measurement: NULL or 1..256 printable (the
 * attested measurement of the code that made the edge). Adding an edge
 * that exists with the same measurement is VEIL_OK; with a different one,
 * VEIL_E_EXISTS. A self-edge is VEIL_E_INVALID. */
veil_status veil_catalog_lineage_add(veil_catalog *c, const char *from_kind, const char *from_ref,
                                     const char *relation, const char *to_kind, const char *to_ref,
                                     const char *measurement, veil_err *err) VEIL_MUST_CHECK;
typedef veil_status (*veil_lineage_fn)(void *ctx, const veil_lineage_edge *e, veil_err *err);
/* Every edge into or out of the node, oldest first; an unknown node has no
 * edges (VEIL_OK, no calls). */
veil_status veil_catalog_lineage_edges(veil_catalog *c, const char *kind, const char *ref, veil_lineage_fn cb,
                                       void *ctx, veil_err *err) VEIL_MUST_CHECK;

/* ---- identity and access (docs/access.md) ----
 * Names of compartments, principals, groups and policies follow
 * veil_name_check. Every list is in name order (tokens: in id order). */

/* Compartments form a tree under "tenancy" (VEIL_CATALOG_TENANCY), which
 * the schema step creates. Names are unique in the whole workspace, so a
 * statement's "in compartment NAME" is never ambiguous. */
#define VEIL_CATALOG_TENANCY           "tenancy"
#define VEIL_CATALOG_COMPARTMENT_DEPTH 16 /* tenancy counts as depth 1 */
#define VEIL_CATALOG_DESCRIPTION_MAX   257
typedef struct veil_compartment {
	char name[VEIL_CATALOG_NAME_MAX];
	char parent[VEIL_CATALOG_NAME_MAX];             /* "" for tenancy */
	char description[VEIL_CATALOG_DESCRIPTION_MAX]; /* 0..256 printable */
	int64_t created;
	char created_by[VEIL_CATALOG_NAME_MAX];
} veil_compartment;
/* parent must exist (VEIL_E_NOTFOUND); the name must be free
 * (VEIL_E_EXISTS); the new one may not be deeper than
 * VEIL_CATALOG_COMPARTMENT_DEPTH (VEIL_E_LIMIT). description may be NULL. */
veil_status veil_catalog_compartment_create(veil_catalog *c, const char *name, const char *parent,
                                            const char *description, const char *created_by,
                                            veil_err *err) VEIL_MUST_CHECK;
veil_status veil_catalog_compartment_get(veil_catalog *c, const char *name, veil_compartment *out,
                                         veil_err *err) VEIL_MUST_CHECK;
/* The path from tenancy down to `name` inclusive: path[0] is "tenancy",
 * path[*n - 1] is name. VEIL_E_NOTFOUND for an unknown compartment. */
veil_status veil_catalog_compartment_path(veil_catalog *c, const char *name,
                                          char path[VEIL_CATALOG_COMPARTMENT_DEPTH][VEIL_CATALOG_NAME_MAX],
                                          size_t *n, veil_err *err) VEIL_MUST_CHECK;
typedef veil_status (*veil_compartment_fn)(void *ctx, const veil_compartment *c, veil_err *err);
veil_status veil_catalog_compartment_list(veil_catalog *c, veil_compartment_fn cb, void *ctx,
                                          veil_err *err) VEIL_MUST_CHECK;

/* Principals: users and service identities. kind is one of "user",
 * "worker", "endpoint", "federated-client" (VEIL_E_INVALID otherwise). */
#define VEIL_CATALOG_KIND_NAME_MAX 24
typedef struct veil_principal {
	char name[VEIL_CATALOG_NAME_MAX];
	char kind[VEIL_CATALOG_KIND_NAME_MAX];
	char region[VEIL_CATALOG_NAME_MAX]; /* "" = none (users act in the workspace's region) */
	bool disabled;
	int64_t created;
	int64_t disabled_at; /* 0 while enabled */
	char created_by[VEIL_CATALOG_NAME_MAX];
} veil_principal;
/* Adds p (created 0 = now; disabled ignored). VEIL_E_EXISTS if taken. */
veil_status veil_catalog_principal_create(veil_catalog *c, const veil_principal *p,
                                          veil_err *err) VEIL_MUST_CHECK;
veil_status veil_catalog_principal_get(veil_catalog *c, const char *name, veil_principal *out,
                                       veil_err *err) VEIL_MUST_CHECK;
typedef veil_status (*veil_principal_fn)(void *ctx, const veil_principal *p, veil_err *err);
veil_status veil_catalog_principal_list(veil_catalog *c, veil_principal_fn cb, void *ctx,
                                        veil_err *err) VEIL_MUST_CHECK;
/* Disables for good (there is no enable: create a new principal). Disabling
 * a disabled principal is VEIL_OK. VEIL_E_NOTFOUND if unknown. */
veil_status veil_catalog_principal_disable(veil_catalog *c, const char *name, veil_err *err) VEIL_MUST_CHECK;
/* How many principals exist (disabled ones included). */
veil_status veil_catalog_principal_count(veil_catalog *c, uint64_t *n, veil_err *err) VEIL_MUST_CHECK;

/* Groups of principals. */
#define VEIL_CATALOG_GROUPS_PER_PRINCIPAL 64
typedef struct veil_group {
	char name[VEIL_CATALOG_NAME_MAX];
	uint64_t members;
	int64_t created;
	char created_by[VEIL_CATALOG_NAME_MAX];
} veil_group;
veil_status veil_catalog_group_create(veil_catalog *c, const char *name, const char *created_by,
                                      veil_err *err) VEIL_MUST_CHECK;
veil_status veil_catalog_group_get(veil_catalog *c, const char *name, veil_group *out,
                                   veil_err *err) VEIL_MUST_CHECK;
typedef veil_status (*veil_group_fn)(void *ctx, const veil_group *g, veil_err *err);
veil_status veil_catalog_group_list(veil_catalog *c, veil_group_fn cb, void *ctx,
                                    veil_err *err) VEIL_MUST_CHECK;
/* Unknown group or principal: VEIL_E_NOTFOUND naming which. Adding a
 * member twice: VEIL_E_EXISTS. Removing a non-member: VEIL_E_NOTFOUND.
 * A principal may be in at most VEIL_CATALOG_GROUPS_PER_PRINCIPAL groups
 * (VEIL_E_LIMIT). */
veil_status veil_catalog_group_add(veil_catalog *c, const char *group, const char *principal,
                                   veil_err *err) VEIL_MUST_CHECK;
veil_status veil_catalog_group_remove(veil_catalog *c, const char *group, const char *principal,
                                      veil_err *err) VEIL_MUST_CHECK;
/* The groups `principal` is in, in name order. */
veil_status veil_catalog_groups_of(veil_catalog *c, const char *principal,
                                   char groups[VEIL_CATALOG_GROUPS_PER_PRINCIPAL][VEIL_CATALOG_NAME_MAX],
                                   size_t *n, veil_err *err) VEIL_MUST_CHECK;
/* Members of a group, in name order, as principal names. */
typedef veil_status (*veil_name_fn)(void *ctx, const char *name, veil_err *err);
veil_status veil_catalog_group_members(veil_catalog *c, const char *group, veil_name_fn cb, void *ctx,
                                       veil_err *err) VEIL_MUST_CHECK;

/* API tokens: only the SHA-256 of the token is stored (veil/access.h). */
#define VEIL_CATALOG_TOKEN_ID_MAX    17 /* 16 lowercase hex */
#define VEIL_CATALOG_TOKEN_LABEL_MAX 65 /* 0..64 printable */
typedef struct veil_token_info {
	char id[VEIL_CATALOG_TOKEN_ID_MAX];
	char principal[VEIL_CATALOG_NAME_MAX];
	uint8_t hash[32];
	char label[VEIL_CATALOG_TOKEN_LABEL_MAX];
	int64_t created;
	int64_t expires; /* 0 = never */
	int64_t revoked; /* 0 = not revoked */
	char created_by[VEIL_CATALOG_NAME_MAX];
} veil_token_info;
/* The principal must exist (VEIL_E_NOTFOUND); a taken id is VEIL_E_EXISTS. */
veil_status veil_catalog_token_add(veil_catalog *c, const veil_token_info *t, veil_err *err) VEIL_MUST_CHECK;
veil_status veil_catalog_token_get(veil_catalog *c, const char *id, veil_token_info *out,
                                   veil_err *err) VEIL_MUST_CHECK;
typedef veil_status (*veil_token_fn)(void *ctx, const veil_token_info *t, veil_err *err);
/* principal NULL: every token. */
veil_status veil_catalog_token_list(veil_catalog *c, const char *principal, veil_token_fn cb, void *ctx,
                                    veil_err *err) VEIL_MUST_CHECK;
/* Marks revoked now; revoking a revoked token is VEIL_OK. */
veil_status veil_catalog_token_revoke(veil_catalog *c, const char *id, veil_err *err) VEIL_MUST_CHECK;

/* Keys (KEKs) live in the KMS; which compartment each belongs to is access
 * metadata and lives here. set records it for a new key (an existing
 * record with the same compartment is VEIL_OK, another is VEIL_E_EXISTS);
 * the compartment must exist. A key with no record (made before v4) is in
 * tenancy. */
veil_status veil_catalog_key_set_compartment(veil_catalog *c, const char *key, const char *compartment,
                                             const char *created_by, veil_err *err) VEIL_MUST_CHECK;
veil_status veil_catalog_key_compartment(veil_catalog *c, const char *key, char out[VEIL_CATALOG_NAME_MAX],
                                         veil_err *err) VEIL_MUST_CHECK;

/* Policies: named, versioned texts attached to a compartment. Each apply
 * stores a new version; old versions stay for history and audit. */
#define VEIL_CATALOG_POLICY_MAX_BYTES (64u * 1024u)
#define VEIL_CATALOG_SCOPE_MAX        (VEIL_CATALOG_NAME_MAX + 12) /* "compartment:" + a name */
typedef struct veil_policy_record {
	char name[VEIL_CATALOG_SCOPE_MAX]; /* a policy name, or a release policy's scope */
	uint32_t version;
	char compartment[VEIL_CATALOG_NAME_MAX]; /* attached to */
	char *text; /* owned, NUL-terminated; free with veil_policy_record_free */
	size_t len;
	char sha256[VEIL_CATALOG_HEX_MAX]; /* of the text */
	int64_t applied;
	char applied_by[VEIL_CATALOG_NAME_MAX];
} veil_policy_record;
/* Stores text (len bytes, at most VEIL_CATALOG_POLICY_MAX_BYTES, no NUL)
 * as the next version of policy `name` attached to `compartment` (must
 * exist). When the current version already has this exact text and
 * compartment nothing is stored and *changed is false. *version gets the
 * current version either way. */
veil_status veil_catalog_policy_put(veil_catalog *c, const char *name, const char *compartment,
                                    const char *text, size_t len, const char *applied_by, uint32_t *version,
                                    bool *changed, veil_err *err) VEIL_MUST_CHECK;
/* version 0: the current one. */
veil_status veil_catalog_policy_get(veil_catalog *c, const char *name, uint32_t version,
                                    veil_policy_record *out, veil_err *err) VEIL_MUST_CHECK;
typedef veil_status (*veil_policy_record_fn)(void *ctx, const veil_policy_record *p, veil_err *err);
/* The current version of every policy, with its text. */
veil_status veil_catalog_policy_list(veil_catalog *c, veil_policy_record_fn cb, void *ctx,
                                     veil_err *err) VEIL_MUST_CHECK;
void veil_policy_record_free(veil_policy_record *p); /* NULL ok; zeroes */

/* ---- key-release policies (docs/formats/release-policy.md) ----
 * Stored and versioned exactly as access policies, in a table of their own:
 * the record's name is the scope, "compartment:C" or "key:K" (C and K
 * veil names), and its compartment is where the policy is attached (C
 * itself, or the compartment of key K), which must exist. The text is
 * stored as given; veil/attest.h parses it. */
veil_status veil_catalog_release_policy_put(veil_catalog *c, const char *scope, const char *compartment,
                                            const char *text, size_t len, const char *applied_by,
                                            uint32_t *version, bool *changed, veil_err *err) VEIL_MUST_CHECK;
/* version 0: the current one; VEIL_E_NOTFOUND when the scope has none. */
veil_status veil_catalog_release_policy_get(veil_catalog *c, const char *scope, uint32_t version,
                                            veil_policy_record *out, veil_err *err) VEIL_MUST_CHECK;

/* ---- maintenance ---- */
/* Writes a consistent copy of the catalog to dest_path (mode 0600) with the
 * SQLite online backup API, while other connections keep writing: the copy
 * is one snapshot. The copy is synced and appears under dest_path only when
 * complete; an existing dest_path is VEIL_E_EXISTS. */
veil_status veil_catalog_backup(veil_catalog *c, const char *dest_path, veil_err *err) VEIL_MUST_CHECK;
/* PRAGMA integrity_check and foreign_key_check, and what the schema cannot
 * say: every dataset's compartment exists, every job's spec matches its
 * SHA-256, a job's model was made by that job, and no privacy budget is
 * overspent. VEIL_E_CORRUPT naming the first problem. */
veil_status veil_catalog_integrity_check(veil_catalog *c, veil_err *err) VEIL_MUST_CHECK;

/* ---- training jobs (schema step 7) ----
 * A job is one run of a job file: its YAML text is kept (it holds settings
 * only, never data) so that an interrupted or failed job can be resumed
 * from its last checkpoint. States and the only moves between them:
 *
 *   from          to
 *   queued        running; failed (refused before it started)
 *   running       succeeded, failed, interrupted
 *   interrupted   running (resumed)
 *   failed        running (resumed)
 *   succeeded     none: it is final
 *
 * Any other move is VEIL_E_INVALID. finished is 0 exactly while a job is
 * queued or running. */
#define VEIL_CATALOG_JOB_ID_MAX    19            /* "j-" and 16 lowercase hex */
#define VEIL_CATALOG_JOB_KIND_MAX  8             /* "train", "tune", "eval" */
#define VEIL_CATALOG_JOB_STATE_MAX 12            /* "queued" ... "interrupted" */
#define VEIL_CATALOG_JOB_SPEC_MAX  (64u * 1024u) /* bytes of job file text */
#define VEIL_CATALOG_JOB_ERROR_MAX 513           /* 0..512 bytes of UTF-8, no control characters */

/* Where the job's last checkpoint is: an encrypted container in the store. */
typedef struct veil_job_checkpoint {
	bool present; /* false: none; the other fields are then zero */
	char object_id[VEIL_CATALOG_HEX_MAX];
	char dek_id[VEIL_CATALOG_DEK_ID_MAX];
	char kek[VEIL_CATALOG_NAME_MAX];
	uint64_t size;                     /* plaintext bytes */
	char sha256[VEIL_CATALOG_HEX_MAX]; /* of the plaintext */
	uint64_t step;                     /* the training step it holds */
} veil_job_checkpoint;

typedef struct veil_job_record {
	char id[VEIL_CATALOG_JOB_ID_MAX];
	char kind[VEIL_CATALOG_JOB_KIND_MAX];
	char name[VEIL_CATALOG_NAME_MAX]; /* the job file's name (veil_name_check) */
	char state[VEIL_CATALOG_JOB_STATE_MAX];
	char job_sha256[VEIL_CATALOG_HEX_MAX]; /* of spec; computed by add, checked on every get */
	char *spec;      /* the job file's text (UTF-8, no NUL): the caller's on add, owned after get */
	size_t spec_len; /* 1..VEIL_CATALOG_JOB_SPEC_MAX */
	char created_by[VEIL_CATALOG_NAME_MAX];
	int64_t created, updated;
	int64_t finished;                       /* when it left running for good; 0 while queued or running */
	char error[VEIL_CATALOG_JOB_ERROR_MAX]; /* why it failed or stopped; "" otherwise */
	char model[VEIL_CATALOG_NAME_MAX];      /* set_model: the model it made; "" before */
	uint32_t model_version;                 /* 0 before */
	veil_job_checkpoint checkpoint;
	uint32_t epoch; /* progress */
	uint64_t step;
	uint64_t steps_total; /* 0: not known */
	double epsilon_spent; /* so far, from the accountant; 0 for a non-private job */
} veil_job_record;

/* Adds a queued job. j->id "" makes a fresh one ("j-" and 16 hex digits
 * from veil_random); a given id must be free (VEIL_E_EXISTS). kind,
 * name, spec (spec_len bytes of UTF-8 without NUL, at most
 * VEIL_CATALOG_JOB_SPEC_MAX: VEIL_E_LIMIT) and created_by are required;
 * created 0 is now. j->job_sha256 "" is computed; a given one must match
 * the spec (VEIL_E_INVALID). On success id, job_sha256, state, created and
 * updated are filled in and every other output field is zeroed; spec stays
 * the caller's. On error nothing is stored. */
veil_status veil_catalog_job_add(veil_catalog *c, veil_job_record *j, veil_err *err) VEIL_MUST_CHECK;
/* On success out->spec is allocated (free with veil_job_record_free); a spec
 * that does not match job_sha256 is VEIL_E_CORRUPT. On error out is zeroed. */
veil_status veil_catalog_job_get(veil_catalog *c, const char *id, veil_job_record *out,
                                 veil_err *err) VEIL_MUST_CHECK;
/* Callbacks get a job without its spec (NULL, 0). */
typedef veil_status (*veil_job_record_fn)(void *ctx, const veil_job_record *j, veil_err *err);
/* Newest first (by created, then by order added); state NULL: every job,
 * else only jobs in that state (an unknown state is VEIL_E_INVALID). */
veil_status veil_catalog_job_list(veil_catalog *c, const char *state, veil_job_record_fn cb, void *ctx,
                                  veil_err *err) VEIL_MUST_CHECK;
/* Moves the job to state along the diagram above (VEIL_E_INVALID
 * otherwise, naming both states). error: NULL or the reason, kept only for
 * failed and interrupted (for other states it must be NULL or "", and
 * entering running clears the old one). Entering succeeded, failed or
 * interrupted sets finished; entering running sets it back to 0. */
veil_status veil_catalog_job_set_state(veil_catalog *c, const char *id, const char *state, const char *error,
                                       veil_err *err) VEIL_MUST_CHECK;
/* Replaces the job's checkpoint with ckpt (present must be true; the job
 * must be running), or with ckpt NULL clears it (any state). *prev (may be
 * NULL) gets the checkpoint it replaced, so that the caller can destroy its
 * key and remove its object once the change is committed; prev->present is
 * false when there was none or when it names the same object as ckpt. */
veil_status veil_catalog_job_set_checkpoint(veil_catalog *c, const char *id, const veil_job_checkpoint *ckpt,
                                            veil_job_checkpoint *prev, veil_err *err) VEIL_MUST_CHECK;
/* Records progress of a running job (VEIL_E_INVALID in other states):
 * step <= steps_total unless steps_total is 0; epsilon_spent finite, >= 0.
 * A resumed job may report less than before (it restarts from its
 * checkpoint). */
veil_status veil_catalog_job_set_progress(veil_catalog *c, const char *id, uint32_t epoch, uint64_t step,
                                          uint64_t steps_total, double epsilon_spent,
                                          veil_err *err) VEIL_MUST_CHECK;
/* Records the model version the job made (for an "eval" job, the one it
 * evaluated): model@version must exist and, unless the job is an
 * evaluation, have been added with this job's id (VEIL_E_INVALID
 * otherwise); the job
 * must be running or succeeded. Setting the same again is VEIL_OK; another
 * one is VEIL_E_EXISTS. */
veil_status veil_catalog_job_set_model(veil_catalog *c, const char *id, const char *model, uint32_t version,
                                       veil_err *err) VEIL_MUST_CHECK;
/* Frees j->spec and zeroes j. NULL ok. */
void veil_job_record_free(veil_job_record *j);

/* ---- a job's metric series ----
 * Points are numbered 1, 2, ... per job in the order added; a resumed job
 * may add points for steps it had reported before (readers keep the last). */
#define VEIL_CATALOG_METRICS_MAX     100000 /* points per job */
#define VEIL_CATALOG_METRIC_NAME_MAX 65     /* 1..64 of [a-z0-9_.] */
typedef struct veil_metric {
	uint64_t seq; /* set by the catalog */
	uint64_t step;
	double value; /* finite, |value| < 1e308 */
	int64_t time; /* 0 on add: now */
	uint32_t epoch;
	char name[VEIL_CATALOG_METRIC_NAME_MAX]; /* "loss", "val.accuracy", "epsilon" */
} veil_metric;
/* Adds pts[0..n) to the job's series in one transaction: all or none. A
 * point that is not finite or has a bad name is VEIL_E_INVALID; more than
 * VEIL_CATALOG_METRICS_MAX points for the job in all is VEIL_E_LIMIT. */
veil_status veil_catalog_metrics_add(veil_catalog *c, const char *job_id, const veil_metric *pts, size_t n,
                                     veil_err *err) VEIL_MUST_CHECK;
typedef veil_status (*veil_metric_fn)(void *ctx, const veil_metric *m, veil_err *err);
/* The job's points in the order added; name NULL: every series, else one.
 * An unknown job is VEIL_E_NOTFOUND. */
veil_status veil_catalog_metrics_list(veil_catalog *c, const char *job_id, const char *name,
                                      veil_metric_fn cb, void *ctx, veil_err *err) VEIL_MUST_CHECK;

/* ---- models: like datasets, a name with numbered versions ----
 * A version's object is an encrypted container holding the model file
 * (safetensors and manifest); the row says where it is, which job made it
 * and what privacy it cost. Owner and compartment belong to the model;
 * its classification is the highest of its versions' training data, so
 * it only rises. */
#define VEIL_CATALOG_MODEL_SUMMARY_MAX 16385 /* JSON object, at most 16384 bytes */
/* A small sealed object in the store: a report envelope. */
typedef struct veil_sealed_ref {
	bool present; /* false: none; the other fields are then zero */
	char object_id[VEIL_CATALOG_HEX_MAX];
	char dek_id[VEIL_CATALOG_DEK_ID_MAX];
	uint64_t size;                     /* plaintext bytes, 1 .. 4 MiB */
	char sha256[VEIL_CATALOG_HEX_MAX]; /* of the plaintext */
} veil_sealed_ref;

typedef struct veil_model_version {
	char name[VEIL_CATALOG_NAME_MAX];
	uint32_t version; /* 1, 2, ...; never reused */
	char owner[VEIL_CATALOG_NAME_MAX];
	char compartment[VEIL_CATALOG_NAME_MAX];
	/* On add: the highest classification of the data this version was
	 * trained on (required). Read back: the model's, the highest of all. */
	char classification[VEIL_CATALOG_CLASS_MAX];
	uint64_t size;                        /* plaintext bytes of the model file */
	char sha256[VEIL_CATALOG_HEX_MAX];    /* of the plaintext */
	char object_id[VEIL_CATALOG_HEX_MAX]; /* store id of the container */
	char dek_id[VEIL_CATALOG_DEK_ID_MAX];
	char kek[VEIL_CATALOG_NAME_MAX];
	uint32_t chunk_size;
	char job_id[VEIL_CATALOG_JOB_ID_MAX];         /* the job that made it; must exist */
	char summary[VEIL_CATALOG_MODEL_SUMMARY_MAX]; /* JSON object: architecture, metrics, privacy */
	bool dp;                                      /* trained with differential privacy */
	double epsilon, delta;                        /* when dp: epsilon > 0, 0 <= delta < 1; else 0 */
	int64_t created;                              /* 0 on add: now */
	char created_by[VEIL_CATALOG_NAME_MAX];
	char state[VEIL_CATALOG_STATE_MAX]; /* "live" or "deleted"; set by the catalog */
	/* The worker's signed training report as a sealed envelope, under kek;
	 * absent for versions made before schema version 8. */
	veil_sealed_ref report;
} veil_model_version;
/* Adds version N+1 of v->name, creating the model with its first version:
 * then v->owner is required and v->compartment "" means tenancy (it must
 * exist: VEIL_E_NOTFOUND). For an existing model owner and compartment
 * may be "" (keep) or must equal the model's (VEIL_E_INVALID). The job
 * must exist (VEIL_E_NOTFOUND). On success v->version, owner,
 * compartment, classification (the model's), created and state are
 * filled in. On error nothing is stored. */
veil_status veil_catalog_model_add_version(veil_catalog *c, veil_model_version *v,
                                           veil_err *err) VEIL_MUST_CHECK;
/* version 0: the latest live version. Unknown, or deleted: VEIL_E_NOTFOUND.
 * On error out is zeroed. */
veil_status veil_catalog_model_get(veil_catalog *c, const char *name, uint32_t version,
                                   veil_model_version *out, veil_err *err) VEIL_MUST_CHECK;
typedef veil_status (*veil_model_fn)(void *ctx, const veil_model_version *v, veil_err *err);
/* One call per model in name order, with its latest live version (or,
 * when every version is deleted, its latest, state "deleted"). */
veil_status veil_catalog_model_list(veil_catalog *c, veil_model_fn cb, void *ctx,
                                    veil_err *err) VEIL_MUST_CHECK;
/* Every version of one model, deleted ones included, oldest first. */
veil_status veil_catalog_model_versions(veil_catalog *c, const char *name, veil_model_fn cb, void *ctx,
                                        veil_err *err) VEIL_MUST_CHECK;
/* Marks a version deleted (the row stays). Again is VEIL_OK. */
veil_status veil_catalog_model_mark_deleted(veil_catalog *c, const char *name, uint32_t version,
                                            veil_err *err) VEIL_MUST_CHECK;

/* ---- objects that training rows refer to, for garbage collection ----
 * kind "model_version" (ref "name@N"; live while the version is live),
 * "model_report" (its training report's envelope, likewise) or
 * "checkpoint" (ref the job id; live unless the job succeeded: a queued,
 * running, failed or interrupted job may still resume from it). A
 * non-live object is still referenced: gc destroys its key and removes
 * its object, as it does for a deleted dataset version, and clears a
 * checkpoint with veil_catalog_job_set_checkpoint(..., NULL, ...). */
typedef struct veil_training_object {
	char kind[16];
	char ref[VEIL_CATALOG_REF_MAX];
	char object_id[VEIL_CATALOG_HEX_MAX];
	char dek_id[VEIL_CATALOG_DEK_ID_MAX];
	bool live;
} veil_training_object;
typedef veil_status (*veil_training_object_fn)(void *ctx, const veil_training_object *o, veil_err *err);
/* Every model version (by model name, then version), every kept training
 * report (likewise), then every job checkpoint (by job id). */
veil_status veil_catalog_training_objects(veil_catalog *c, veil_training_object_fn cb, void *ctx,
                                          veil_err *err) VEIL_MUST_CHECK;

/* ---- privacy budgets (basic composition) ----
 * A dataset version's owner sets a total (epsilon, delta); each job, and
 * each trial of a tuning job, is charged before it reads the data. Spent
 * is the sum of the charges (compensated summation, in the order charged);
 * remaining is total - spent, never below 0. A charge fits when spent +
 * asked <= total * (1 + VEIL_CATALOG_BUDGET_TOLERANCE), for epsilon and
 * for delta: the tolerance lets a job spend exactly what is left, whose
 * decimal figures rarely add up exactly in binary (0.1 + 0.2 + 0.2 is
 * more than 0.5 in doubles), while refusing anything measurably over. */
#define VEIL_CATALOG_BUDGET_TOLERANCE 1e-12
#define VEIL_CATALOG_NOTE_MAX         257 /* 0..256 printable ASCII */
typedef struct veil_budget {
	char dataset[VEIL_CATALOG_NAME_MAX];
	uint32_t version;
	double epsilon_total, delta_total;
	double epsilon_spent, delta_spent;
	double epsilon_remaining, delta_remaining;
	uint64_t charges;
	char set_by[VEIL_CATALOG_NAME_MAX];
	int64_t set_at;
} veil_budget;
/* Sets the budget of name@version (named: 0 is VEIL_E_INVALID; live:
 * VEIL_E_NOTFOUND): epsilon_total finite and > 0, 0 < delta_total < 1.
 * Setting it again replaces it; a total below what was already spent is
 * VEIL_E_INVALID, naming both figures. Who may set it (the owner) is for
 * the caller to decide. */
veil_status veil_catalog_budget_set(veil_catalog *c, const char *name, uint32_t version, double epsilon_total,
                                    double delta_total, const char *set_by, veil_err *err) VEIL_MUST_CHECK;
/* version 0: the latest live version. No budget: VEIL_E_NOTFOUND. A
 * deleted version named by number still reads its budget. */
veil_status veil_catalog_budget_get(veil_catalog *c, const char *name, uint32_t version, veil_budget *out,
                                    veil_err *err) VEIL_MUST_CHECK;
typedef veil_status (*veil_budget_fn)(void *ctx, const veil_budget *b, veil_err *err);
/* Every budget, by dataset name and version. */
veil_status veil_catalog_budget_list(veil_catalog *c, veil_budget_fn cb, void *ctx,
                                     veil_err *err) VEIL_MUST_CHECK;

typedef struct veil_budget_ref {
	char dataset[VEIL_CATALOG_NAME_MAX];
	uint32_t version; /* named: 0 is VEIL_E_INVALID */
} veil_budget_ref;
/* Charges (epsilon, delta) to every version in refs[0..n) for job_id
 * (queued or running) and trial (0 for a job, 1, 2, ... for the trials of
 * a tuning job), in one transaction: all or nothing. A version listed
 * twice is VEIL_E_INVALID; an unknown or deleted one VEIL_E_NOTFOUND; one
 * without a budget, or one whose budget this charge would overspend,
 * VEIL_E_DENIED with the figures (total, spent, asked, remaining); one
 * this job and trial were charged for already, VEIL_E_EXISTS (a resumed
 * job is not charged twice). epsilon finite and > 0, 0 <= delta < 1. note:
 * NULL or 0..256 printable ASCII. */
veil_status veil_catalog_budget_charge(veil_catalog *c, const veil_budget_ref *refs, size_t n,
                                       const char *job_id, uint32_t trial, double epsilon, double delta,
                                       const char *note, veil_err *err) VEIL_MUST_CHECK;
typedef struct veil_budget_charge {
	int64_t id;
	char dataset[VEIL_CATALOG_NAME_MAX];
	uint32_t version;
	char job_id[VEIL_CATALOG_JOB_ID_MAX];
	uint32_t trial;
	double epsilon, delta;
	int64_t at;
	char note[VEIL_CATALOG_NOTE_MAX];
} veil_budget_charge;
typedef veil_status (*veil_budget_charge_fn)(void *ctx, const veil_budget_charge *ch, veil_err *err);
/* The charges of name@version (0: latest live; a deleted version by
 * number), oldest first. No budget: VEIL_E_NOTFOUND. */
veil_status veil_catalog_budget_charges(veil_catalog *c, const char *name, uint32_t version,
                                        veil_budget_charge_fn cb, void *ctx, veil_err *err) VEIL_MUST_CHECK;
/* What one job was charged, oldest first; an unknown job is
 * VEIL_E_NOTFOUND, one never charged calls cb never. */
veil_status veil_catalog_budget_job_charges(veil_catalog *c, const char *job_id, veil_budget_charge_fn cb,
                                            void *ctx, veil_err *err) VEIL_MUST_CHECK;

#endif
