/*
 * Internal interface of the `veil` command-line tool: the command table,
 * user-facing messages, the open workspace, and small helpers shared by the
 * subcommand files (cmd_*.c). Nothing here is a library API.
 */
#ifndef VEIL_CLI_H
#define VEIL_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <sys/stat.h>

#include "veil/access.h"
#include "veil/audit.h"
#include "veil/base.h"
#include "veil/catalog.h"
#include "veil/crypto.h"
#include "veil/keys.h"
#include "veil/store.h"

/* Exit codes (docs/cli.md). A failed veil_status exits with
 * VEIL_EXIT_STATUS_BASE + status, so scripts can tell causes apart. */
enum {
	VEIL_EXIT_OK = 0,
	VEIL_EXIT_CHECK = 1, /* the command ran and found a problem (overdue key, bad log) */
	VEIL_EXIT_USAGE = 2, /* bad command line */
	VEIL_EXIT_STATUS_BASE = 10,
};

struct cli_command;

typedef struct cli_global {
	const char *workspace;         /* --workspace, else VEIL_WORKSPACE, else search upward */
	char *token;                   /* --token (the argv copy is wiped once read) */
	bool quiet;                    /* -q: only errors */
	const char *prog;              /* argv[0] basename, for messages */
	const struct cli_command *cmd; /* the command running: request.operation */
	/* Set by cli_ws_open and cli_authorize: main refuses to report success
	 * for a command that opened a workspace and made no access decision,
	 * so a command that forgot to authorize fails loudly in every test. */
	unsigned ws_opened, decisions;
} cli_global;

typedef int (*cli_main_fn)(cli_global *g, int argc, char **argv);

/* What a command needs: a verb on a resource type (docs/access.md). A
 * command whose needs[0].type is NULL runs without a workspace and
 * without a principal (init, version, audit check-proof, policy
 * operations). */
typedef struct cli_need {
	veil_verb verb;
	const char *type;
} cli_need;

typedef struct cli_command {
	const char *name; /* "data upload" */
	cli_main_fn run;
	const char *summary;
	const char *usage; /* full --help text */
	cli_need needs[3]; /* what cli_authorize is asked for; the later ones may be empty */
} cli_command;

extern const cli_command cli_commands[];
extern const size_t cli_ncommands;

/* ---- messages (msg.c): the only place that writes to the terminal ---- */
void cli_msg_init(cli_global *g);
/* Prints "veil: error: <msg>" and "hint: <hint>" to stderr; returns the exit code for err. */
int cli_fail(const veil_err *err);
int cli_usage_error(const cli_command *cmd, const char *fmt, ...) VEIL_PRINTF(2, 3);
void cli_warn(const char *fmt, ...) VEIL_PRINTF(1, 2);
void cli_info(const char *fmt, ...) VEIL_PRINTF(1, 2); /* stderr, suppressed by -q */
int cli_exit_code(veil_status st);
/* Prints a JSON value to stdout (indented, sorted keys) and frees it. */
int cli_print_json(json_t *v);
void cli_print_help(const cli_command *cmd);
/* Formats a byte count as "1.5 MiB". */
void cli_human_size(uint64_t n, char out[32]);

/* ---- option parsing shared by subcommands (opts.c) ---- */
/* getopt value of --token: not a character, so no command's own option
 * can collide with it. */
#define CLI_OPT_TOKEN 0x100
/* Long options every subcommand accepts; append these to its own table. */
#define CLI_COMMON_OPTS                                                                                      \
	{"help", no_argument, NULL, 'h'}, {"workspace", required_argument, NULL, 'W'},                       \
	        {"quiet", no_argument, NULL, 'q'},                                                           \
	{                                                                                                    \
		"token", required_argument, NULL, CLI_OPT_TOKEN                                              \
	}
/* Handles a common option returned by getopt_long. Returns -1 if the option
 * was not a common one, 0 if handled, or an exit code to return now. */
int cli_common_opt(cli_global *g, const cli_command *cmd, int opt);
/* getopt_long with the common options added to `shortopts`/handled: returns
 * the next option that is the command's own and that its usage text
 * names (others are a usage error), or -1 when there are no more
 * or the command must return at once, with *rc set to its exit code (help
 * printed, or a usage error). Callers: `int rc = -1; while ((opt =
 * cli_opt(...)) != -1) {...} if (rc >= 0) return rc;` */
int cli_opt(cli_global *g, const cli_command *cmd, int argc, char **argv, const char *shortopts,
            const struct option *longopts, int *rc);
/* The positional arguments left after cli_opt: -1 when there are min..max
 * of them, else the exit code of a usage error (already printed). */
int cli_positional(const cli_command *cmd, int argc, char **argv, int min, int max);
/* A decimal option value (digits, point, exponent; no sign, hex, nan, inf
 * or junk) into *out: -1 to go on, else the usage error's exit code. */
int cli_parse_real(const cli_command *cmd, const char *opt, const char *s, double *out);
/* For commands whose only own option is --json. Returns -1 to go on, or
 * an exit code to return. */
int cli_parse_json_only(cli_global *g, const cli_command *cmd, int argc, char **argv, bool *json);
/* For commands with only the common options. Same returns. */
int cli_parse_plain(cli_global *g, const cli_command *cmd, int argc, char **argv);
const cli_command *cli_find(const char *name);

/* ---- the open workspace (workspace.c) ---- */
#define CLI_WS_CONFIG    "veil.yaml"
#define CLI_WS_CATALOG   "catalog.db"
#define CLI_WS_OBJECTS   "objects"
#define CLI_WS_KEYS      "keys"
#define CLI_WS_AUDIT     "audit"
#define CLI_WS_LOCK      ".lock"
#define CLI_AUDIT_SECRET "audit-signing-key"

typedef struct cli_ws_config {
	char workspace_id[33];
	char provider[16]; /* file | pkcs11 */
	char pkcs11_module[512];
	char pkcs11_token[64];
	char pkcs11_key_label[64];
	int64_t key_rotation; /* seconds; 0 = no rotation period */
	uint32_t chunk_size;
	unsigned threads;
	unsigned keep_versions;             /* lifecycle: 0 = keep all */
	unsigned expire_days;               /* lifecycle: 0 = never */
	char region[VEIL_CATALOG_NAME_MAX]; /* where this workspace runs; "" in pre-0.2 workspaces */
	/* compliance.restricted_training: deidentified: a restricted dataset
	 * may be trained on only once a feature pipeline has dropped or
	 * pseudonymised its direct identifiers (compliance.c). */
	bool restricted_training_deidentified;
} cli_ws_config;

enum {
	WS_CATALOG = 1 << 0,
	WS_KMS = 1 << 1, /* needs the root key: asks for the passphrase or PIN */
	WS_STORE = 1 << 2,
	WS_AUDIT = 1 << 3,     /* append to the audit log (implies WS_KMS for the signing key) */
	WS_EXCLUSIVE = 1 << 4, /* hold the workspace lock exclusively (gc, backup, rotate) */
	/* Open the audit log for writing only at cli_ws_audit_flush: events
	 * are held until then. For commands that read the log as evidence
	 * (audit verify): opening a writer repairs an interrupted commit and
	 * refuses a damaged log, which would hide what verify must report. */
	WS_AUDIT_DEFER = 1 << 5,
	/* Do not authenticate: only for `principal create --first-admin` in a
	 * workspace that has no principal yet. */
	WS_NO_PRINCIPAL = 1 << 6,
};
/* cli_ws_open always opens the catalog, the KMS and the audit log and
 * authenticates the principal: every command decides on access, and every
 * decision is audited. */
#define WS_AUTHZ (WS_CATALOG | WS_KMS | WS_AUDIT)

struct cli_ws;
typedef struct cli_ws {
	char dir[4096];
	cli_ws_config cfg;
	veil_catalog *catalog;
	veil_kms *kms;
	veil_store *store;
	veil_audit *audit;
	int lock_fd;
	cli_global *g;
	char actor[96]; /* who is acting: the principal's name once authenticated */
	/* the authenticated principal (authz.c) */
	veil_principal principal;
	char groups[VEIL_CATALOG_GROUPS_PER_PRINCIPAL][VEIL_CATALOG_NAME_MAX];
	size_t ngroups;
	char token_id[VEIL_CATALOG_TOKEN_ID_MAX];
	const char *request_region; /* the principal's region, else the workspace's; NULL if neither */
	/* the policies in force, loaded at the first decision */
	struct cli_policies *policies;
	bool audit_deferred; /* WS_AUDIT_DEFER: events wait in `held` */
	json_t *held;
} cli_ws;

/* Finds the workspace (g->workspace, VEIL_WORKSPACE, or upward from the
 * current folder) and opens the parts named in `what`. */
veil_status cli_ws_open(cli_global *g, unsigned what, cli_ws *ws, veil_err *err) VEIL_MUST_CHECK;
/* Closes everything; events still held (WS_AUDIT_DEFER) are written first,
 * or a warning says they could not be. */
void cli_ws_close(cli_ws *ws);
/* WS_AUDIT_DEFER: opens the audit writer and writes the held events. */
veil_status cli_ws_audit_flush(cli_ws *ws, veil_err *err) VEIL_MUST_CHECK;
/* The local user running veil ("local:<user>"), recorded as the actor of
 * refused authentications, which have no principal. */
void cli_ws_actor(char *out, size_t n);
veil_status cli_ws_load_config(const char *dir, cli_ws_config *cfg, veil_err *err) VEIL_MUST_CHECK;
/* Builds a KMS config from the workspace config, asking for the passphrase
 * or PIN. secret must be freed with cli_secret_free. */
veil_status cli_kms_config(const char *dir, const cli_ws_config *cfg, veil_kms_config *kc, char **secret,
                           bool confirm, veil_err *err) VEIL_MUST_CHECK;
/* Appends an audit event and commits it. Audit failures are errors: a
 * change that cannot be audited must not be reported as done. */
veil_status cli_audit(cli_ws *ws, const char *action, const char *resource, const char *outcome,
                      json_t *detail /* stolen; may be NULL */, veil_err *err) VEIL_MUST_CHECK;
/* Records a request refused for bad input after it was authorized (a
 * policy that does not validate, a disabled principal): outcome "failed"
 * with the error message. A failure to record it is only a warning: the
 * request is refused either way. */
void cli_audit_refusal(cli_ws *ws, const char *action, const char *resource, const veil_err *why);
/* Records a request refused because what it names does not exist, after
 * access to it was allowed: the command's action ("data.upload"), outcome
 * "failed". */
void cli_audit_missing(cli_ws *ws, const char *resource, const veil_err *why);
/* Appends without committing: for a batch of decisions (a listing) that
 * the caller commits at once with veil_audit_commit. The first append
 * holds the log's lock until then, so keep batches short-lived. */
veil_status cli_audit_append(cli_ws *ws, const char *action, const char *resource, const char *outcome,
                             json_t *detail /* stolen; may be NULL */, veil_err *err) VEIL_MUST_CHECK;
/* Ends a catalog transaction the caller began for one change: when st (the
 * change's status) is VEIL_OK the change is audited and then committed,
 * so no record exists that the log does not know of; otherwise, or when
 * auditing fails, it is rolled back. A crash between audit and commit
 * leaves an audited change that did not happen, which verify reports;
 * never the reverse. detail is stolen. Returns the first failure. */
veil_status cli_commit_audited(cli_ws *ws, veil_status st, const char *action, const char *resource,
                               json_t *detail, veil_err *err) VEIL_MUST_CHECK;
/* What the audit log's data.upload events say each version is. */
typedef struct cli_upload {
	char ref[VEIL_CATALOG_REF_MAX]; /* "name@version" */
	char object_id[VEIL_CATALOG_HEX_MAX];
	char dek_id[VEIL_CATALOG_DEK_ID_MAX];
	char sha256[VEIL_CATALOG_HEX_MAX];
	char kek[VEIL_CATALOG_NAME_MAX];
	uint64_t size;
	uint64_t seq; /* order in the log */
	bool failed;  /* a "failed" event: the catalog did not keep the version */
	bool gone;    /* failed, or undone by a failed event after it */
} cli_upload;
typedef struct cli_uploads {
	cli_upload *v; /* sorted by (ref, seq) */
	size_t n, cap;
	const char **deks, **objs; /* ids named by entries not gone, sorted (cli_cmp_ids) */
	size_t live;
} cli_uploads;
/* Reads every upload event; with pin, first checks the log is still the
 * one signed by that key. Free with cli_uploads_free. */
veil_status cli_read_uploads(cli_ws *ws, const uint8_t pin[VEIL_ED25519_PUB_LEN], cli_uploads *u,
                             veil_err *err) VEIL_MUST_CHECK;
void cli_uploads_free(cli_uploads *u);
/* qsort/bsearch comparator for arrays of id strings (const char *). */
int cli_cmp_ids(const void *a, const void *b);
const cli_upload *cli_uploads_find(const cli_uploads *u, const char *ref);
/* Whether any upload event names this data key or object. */
bool cli_uploads_name(const cli_uploads *u, const char *dek_id, const char *object_id);

/* The audit log's public key as the key store holds it (needs WS_KMS). */
veil_status cli_log_key(cli_ws *ws, uint8_t pub[VEIL_ED25519_PUB_LEN], veil_err *err) VEIL_MUST_CHECK;
/* Verifies the workspace's audit log against pub (never trusting
 * audit/log.pub) and that every catalog version has its upload event
 * (needs WS_CATALOG). VEIL_E_CORRUPT with rep->what on a problem. */
veil_status cli_verify_log(cli_ws *ws, const uint8_t pub[VEIL_ED25519_PUB_LEN], veil_audit_report *rep,
                           uint64_t *versions, veil_err *err) VEIL_MUST_CHECK;

/* Streaming SHA-256 of a regular file (links and other types are refused
 * as VEIL_E_CORRUPT), and a copy to a new file (mode 0600, fsynced) that
 * hashes as it goes (files.c). */
veil_status cli_hash_file(const char *path, char hex[2 * VEIL_SHA256_LEN + 1], veil_err *err) VEIL_MUST_CHECK;
veil_status cli_copy_file(const char *src, const char *dst, char hex[2 * VEIL_SHA256_LEN + 1],
                          veil_err *err) VEIL_MUST_CHECK;

/* The catalog row's data key must be wrapped under the dataset owner's key
 * (cmd_data.c): else an edited catalog could point one owner's dataset at
 * another's object and key. VEIL_E_CORRUPT with a hint otherwise. */
veil_status cli_check_dataset_key(cli_ws *ws, const veil_dataset_version *v, veil_dek_info *di,
                                  veil_err *err) VEIL_MUST_CHECK;

/* Removes a folder tree (cmd_init.c); used to undo a failed init, backup or restore. */
void cli_remove_tree(const char *dir);

/* ---- access control (authz.c): the one enforcement point ---- */
/* What an operation acts on. Attributes that do not apply stay NULL. */
typedef struct cli_target {
	veil_verb verb;
	const char *type;        /* a resource type of veil/access.h */
	const char *name;        /* NULL for an operation on the type (list) */
	const char *compartment; /* where it lives; NULL = tenancy */
	const char *classification, *owner, *region;
	const veil_access_tag *tags;
	size_t ntags;
} cli_target;

/* Authenticates the principal for an open workspace (called by
 * cli_ws_open). A refused token is audited and VEIL_E_AUTH. */
veil_status cli_authenticate(cli_ws *ws, veil_err *err) VEIL_MUST_CHECK;
/* Decides whether the workspace's principal may do t, and audits the
 * decision (action "access.decide", outcome "allow" or "deny", with the
 * statement that decided). Every command calls it before it touches data,
 * keys or records; nothing else opens a path to them. Denied:
 * VEIL_E_DENIED with the reason and a hint to run 'veil policy explain'. */
veil_status cli_authorize(cli_ws *ws, const cli_target *t, veil_err *err) VEIL_MUST_CHECK;
/* Like cli_authorize for list filtering: *allowed says whether t may be
 * shown; only an error in deciding or auditing is returned. The decision
 * is appended to the audit log's pending batch, which the caller commits
 * (cli_run_list does). */
veil_status cli_authorize_quiet(cli_ws *ws, const cli_target *t, bool *allowed,
                                veil_err *err) VEIL_MUST_CHECK;
/* The policies in force, parsed (loaded once per workspace handle). A
 * stored policy that no longer parses is VEIL_E_CORRUPT: fail closed. */
typedef struct cli_policies {
	veil_policy_record *records;
	veil_policy **parsed;
	veil_policy_ref *refs;
	size_t n;
} cli_policies;
veil_status cli_policies_load(cli_ws *ws, veil_err *err) VEIL_MUST_CHECK;
void cli_policies_free(cli_policies *p);
/* Makes the request for principal p (groups from the catalog) on t. The
 * strings live in the caller's storage `req_store`. */
typedef struct cli_request {
	veil_access_request req;
	char path[VEIL_CATALOG_COMPARTMENT_DEPTH][VEIL_CATALOG_NAME_MAX];
	const char *path_ptrs[VEIL_CATALOG_COMPARTMENT_DEPTH];
	const char *group_ptrs[VEIL_CATALOG_GROUPS_PER_PRINCIPAL];
} cli_request;
veil_status cli_request_make(cli_ws *ws, const veil_principal *p, const char (*groups)[VEIL_CATALOG_NAME_MAX],
                             size_t ngroups, const cli_target *t, cli_request *r,
                             veil_err *err) VEIL_MUST_CHECK;
/* cli_ws_open, then cli_authorize(t); on any failure the workspace is
 * closed again. */
veil_status cli_ws_open_for(cli_global *g, unsigned what, const cli_target *t, cli_ws *ws,
                            veil_err *err) VEIL_MUST_CHECK;
/* A named resource's attributes as a target for verb: its compartment,
 * classification, owner, region and tags from the catalog or the KMS
 * (docs/access.md lists them per type). A resource that does not exist is
 * authorized as the bare name in `fallback` (the compartment the caller
 * would create it in; NULL = tenancy) and, when that is allowed,
 * reported VEIL_E_NOTFOUND: a principal without access cannot tell what
 * exists from what is forbidden. */
typedef struct cli_resource {
	cli_target t;
	char name[VEIL_CATALOG_REF_MAX];
	char compartment[VEIL_CATALOG_NAME_MAX];
	char classification[VEIL_CATALOG_CLASS_MAX];
	char owner[VEIL_CATALOG_NAME_MAX];
	char region[VEIL_CATALOG_NAME_MAX];
	veil_access_tag tags[VEIL_CATALOG_TAGS_MAX];
	veil_dataset_version dataset; /* for datasets: the version, tags owned here */
	bool found;
	veil_err missing; /* why it was not found, told only to the allowed */
} cli_resource;
veil_status cli_resource_find(cli_ws *ws, const char *type, const char *name, veil_verb verb, cli_resource *r,
                              veil_err *err) VEIL_MUST_CHECK;
void cli_resource_free(cli_resource *r);
/* cli_resource_find, then cli_authorize; VEIL_E_NOTFOUND for a missing
 * resource only after access to it would have been allowed. */
veil_status cli_authorize_resource(cli_ws *ws, const char *type, const char *name, veil_verb verb,
                                   cli_resource *r, veil_err *err) VEIL_MUST_CHECK;

/* A dataset (verb) and the use of its key: what reaching a dataset's
 * plaintext needs, in the client (download: manage) or in the worker
 * (verify: use). On success r holds the dataset; free with
 * cli_resource_free. */
veil_status cli_authorize_dataset_and_key(cli_ws *ws, const char *ref, veil_verb verb, cli_resource *r,
                                          veil_err *err) VEIL_MUST_CHECK;
/* cli_ws_open, then cli_authorize_dataset_and_key: the start of every
 * command that works on one dataset's data. On failure the workspace is
 * closed again and r holds nothing. */
veil_status cli_ws_open_dataset(cli_global *g, unsigned what, const char *ref, veil_verb verb, cli_ws *ws,
                                cli_resource *r, veil_err *err) VEIL_MUST_CHECK;

/* ---- listings (listing.c) ---- */
typedef struct cli_list {
	struct cli_ws *ws;
	json_t *arr;     /* what the command will print, one object per entry */
	const char *arg; /* the command's filter, if any */
} cli_list;
/* Opens the workspace, lets `fill` append one object per entry it may
 * show (authorizing each), then prints the array as JSON or with `table`. */
int cli_run_list(cli_global *g, bool json, veil_status (*fill)(struct cli_ws *, cli_list *, veil_err *),
                 void (*table)(json_t *), const char *arg);
/* Appends a row (owned; NULL, from a failed json_pack, is out of memory). */
veil_status cli_list_add(cli_list *c, json_t *row, veil_err *err) VEIL_MUST_CHECK;
/* The end of a command that shows one JSON value o (owned): on error st,
 * fails with err; else prints o as JSON or with print. Frees o. */
int cli_show(veil_status st, const veil_err *err, json_t *o, bool json, void (*print)(json_t *));
/* o[k] as a string, "-" when absent or empty. */
const char *cli_json_str(json_t *o, const char *k);
/* "a,b,c" from a JSON array of strings ("-" when empty). */
void cli_json_join(json_t *arr, char *out, size_t n);

/* Issuing a token for principal `target`, or disabling it, is acting for
 * or against it. When the target administers the workspace (may manage
 * policies in tenancy), only the target itself or another administrator
 * may: otherwise `manage principals` alone would let its holder become an
 * administrator by issuing one a token, or lock them out. Refused:
 * VEIL_E_DENIED, audited as a denied decision. */
veil_status cli_may_act_for(cli_ws *ws, const char *target, veil_err *err) VEIL_MUST_CHECK;
/* The keeper rule: some enabled principal that holds an active token must
 * still be able to manage policies in tenancy (and in `compartment`, when
 * given) under `refs` (NULL: the policies in force), or nobody could ever
 * repair the policies again. Reads the catalog as the caller's open
 * transaction sees it, so a change can be checked before it commits.
 * VEIL_E_INVALID when the rule would be broken. */
veil_status cli_check_keeper(cli_ws *ws, const veil_policy_ref *refs, size_t n, const char *compartment,
                             veil_err *err) VEIL_MUST_CHECK;
/* Whether the rule holds now, without an error when it does not. */
veil_status cli_keeper_exists(cli_ws *ws, bool *exists, veil_err *err) VEIL_MUST_CHECK;

/* Makes key (KEK) `name` in `compartment`, bound to the request's region:
 * the catalog records where it lives, the KMS makes version 1, the audit
 * log says so, all or nothing on the catalog's side (a KEK whose catalog
 * record was lost to a crash counts as in tenancy). The caller has
 * authorized `manage keys`. VEIL_E_EXISTS when the name is taken. */
veil_status cli_key_create(cli_ws *ws, const char *name, const char *compartment, const char *reason,
                           veil_err *err) VEIL_MUST_CHECK;

/* A fresh data key under kek, for an object the trusted worker will seal
 * (features build, train): its plaintext is wiped here at once, so only
 * the worker, through attested key release, ever uses it. */
veil_status cli_dek_for_worker(cli_ws *ws, const char *kek, char id[VEIL_CATALOG_DEK_ID_MAX],
                               veil_err *err) VEIL_MUST_CHECK;
/* Releases a data key to this process: the KMS refuses a key held in
 * another region than the request's. */
veil_status cli_release_dek(cli_ws *ws, const char *dek_id, uint8_t dek[VEIL_KMS_DEK_LEN],
                            veil_err *err) VEIL_MUST_CHECK;

/* The first administrator (cmd_principal.c): principal `admin` (a user) in
 * group CLI_ADMIN_GROUP, the policy CLI_ADMIN_POLICY that lets the group do
 * everything, and a token that never expires, in one transaction. */
#define CLI_ADMIN_GROUP  "administrators"
#define CLI_ADMIN_POLICY "administrators"
extern const char cli_admin_policy[];
veil_status cli_first_admin(veil_catalog *cat, const char *ws_id, const char *admin, char *token,
                            char token_id[VEIL_TOKEN_ID_LEN + 1], veil_err *err) VEIL_MUST_CHECK;

/* ---- secrets from the user (secret.c) ---- */
/* Reads a secret from env var `env`, from the file named by env var
 * `env_file`, or from a prompt on the terminal (echo off). With confirm, a
 * prompt asks twice. Returns secure memory; free with cli_secret_free. */
veil_status cli_read_secret(const char *what, const char *env, const char *env_file, bool confirm, char **out,
                            size_t *len, veil_err *err) VEIL_MUST_CHECK;
void cli_secret_free(char *s);
/* A secret buffer of the size cli_secret_free expects (NULL on failure). */
char *cli_secret_alloc(void);

/* ---- progress (progress.c): a bar on stderr when it is a terminal and the
 * job has taken more than a second ---- */
typedef struct cli_progress {
	const char *label;
	uint64_t total; /* 0 if unknown */
	uint64_t done;
	double start, last;
	double after;     /* seconds before the bar first appears */
	const char *unit; /* NULL: done and total are bytes; else what they count ("steps") */
	uint64_t base;    /* done before this process began (a resumed job's steps) */
	bool shown;
	bool enabled;
} cli_progress;
void cli_progress_start(cli_progress *p, cli_global *g, const char *label, uint64_t total);
void cli_progress_add(cli_progress *p, uint64_t n);
void cli_progress_end(cli_progress *p);
/* A bar of unit things (steps), done of them done already, with the time
 * left at this process's rate so far. */
void cli_progress_start_units(cli_progress *p, cli_global *g, const char *label, uint64_t total,
                              uint64_t done, const char *unit);
void cli_progress_set(cli_progress *p, uint64_t done); /* done so far, not an increment */
/* Erases the bar so that a line can be printed; the next update redraws it. */
void cli_progress_clear(cli_progress *p);

#endif
