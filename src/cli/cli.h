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

typedef struct cli_global {
	const char *workspace; /* --workspace, else VEIL_WORKSPACE, else search upward */
	bool quiet;            /* -q: only errors */
	const char *prog;      /* argv[0] basename, for messages */
} cli_global;

typedef int (*cli_main_fn)(cli_global *g, int argc, char **argv);

typedef struct cli_command {
	const char *name; /* "data upload" */
	cli_main_fn run;
	const char *summary;
	const char *usage; /* full --help text */
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
/* Long options every subcommand accepts; append these to its own table. */
#define CLI_COMMON_OPTS                                                                                      \
	{"help", no_argument, NULL, 'h'}, {"workspace", required_argument, NULL, 'W'},                       \
	{                                                                                                    \
		"quiet", no_argument, NULL, 'q'                                                              \
	}
/* Handles a common option returned by getopt_long. Returns -1 if the option
 * was not a common one, 0 if handled, or an exit code to return now. */
int cli_common_opt(cli_global *g, const cli_command *cmd, int opt);
/* getopt_long with the common options added to `shortopts`/handled: returns
 * the next option that is the command's own, or -1 when there are no more
 * or the command must return at once, with *rc set to its exit code (help
 * printed, or a usage error). Callers: `int rc = -1; while ((opt =
 * cli_opt(...)) != -1) {...} if (rc >= 0) return rc;` */
int cli_opt(cli_global *g, const cli_command *cmd, int argc, char **argv, const char *shortopts,
            const struct option *longopts, int *rc);
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
	unsigned keep_versions; /* lifecycle: 0 = keep all */
	unsigned expire_days;   /* lifecycle: 0 = never */
} cli_ws_config;

enum {
	WS_CATALOG = 1 << 0,
	WS_KMS = 1 << 1, /* needs the root key: asks for the passphrase or PIN */
	WS_STORE = 1 << 2,
	WS_AUDIT = 1 << 3,     /* append to the audit log (implies WS_KMS for the signing key) */
	WS_EXCLUSIVE = 1 << 4, /* hold the workspace lock exclusively (gc, backup, rotate) */
};

typedef struct cli_ws {
	char dir[4096];
	cli_ws_config cfg;
	veil_catalog *catalog;
	veil_kms *kms;
	veil_store *store;
	veil_audit *audit;
	int lock_fd;
	char actor[96]; /* who is acting: "local:<user>" until principals exist */
} cli_ws;

/* Finds the workspace (g->workspace, VEIL_WORKSPACE, or upward from the
 * current folder) and opens the parts named in `what`. */
veil_status cli_ws_open(cli_global *g, unsigned what, cli_ws *ws, veil_err *err) VEIL_MUST_CHECK;
void cli_ws_close(cli_ws *ws);
/* Who is acting: "local:<user>" until principals exist (issue 3). */
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

/* Removes a folder tree (cmd_init.c); used to undo a failed init, backup or restore. */
void cli_remove_tree(const char *dir);

/* ---- secrets from the user (secret.c) ---- */
/* Reads a secret from env var `env`, from the file named by env var
 * `env_file`, or from a prompt on the terminal (echo off). With confirm, a
 * prompt asks twice. Returns secure memory; free with cli_secret_free. */
veil_status cli_read_secret(const char *what, const char *env, const char *env_file, bool confirm, char **out,
                            size_t *len, veil_err *err) VEIL_MUST_CHECK;
void cli_secret_free(char *s);

/* ---- progress (progress.c): a bar on stderr when it is a terminal and the
 * job has taken more than a second ---- */
typedef struct cli_progress {
	const char *label;
	uint64_t total; /* 0 if unknown */
	uint64_t done;
	double start, last;
	double after; /* seconds before the bar first appears */
	bool shown;
	bool enabled;
} cli_progress;
void cli_progress_start(cli_progress *p, cli_global *g, const char *label, uint64_t total);
void cli_progress_add(cli_progress *p, uint64_t n);
void cli_progress_end(cli_progress *p);

#endif
