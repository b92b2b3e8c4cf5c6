/*
 * veil access: the policy language, the authorization decision and API
 * tokens (docs/access.md, docs/formats/policy.md).
 *
 * This module is pure: it parses and evaluates, and never reads or writes
 * storage. The catalog stores principals, groups, compartments, tokens and
 * policy texts; the caller (the CLI, later the server and the worker
 * broker) gathers what a request needs into a veil_access_request and asks
 * veil_access_decide. Keeping the decision a pure function of its inputs is
 * what lets a decision-matrix test cover it exhaustively and lets
 * `veil policy explain` replay any decision exactly.
 *
 * The language is modelled on OCI IAM policy statements:
 *
 *   Allow group data-scientists to use datasets in compartment oncology
 *     where target.classification != 'restricted'
 *   Deny any-user to manage keys in tenancy where request.region != 'eu-west'
 *
 * Verbs are ordered, inspect < read < use < manage: a statement granting a
 * verb grants every lesser one. Explicit Deny wins over Allow; no matching
 * statement means deny.
 */
#ifndef VEIL_ACCESS_H
#define VEIL_ACCESS_H

#include "veil/base.h"

/* The root compartment: every other compartment is below it. Statements
 * say "in tenancy" for it, as OCI does. */
#define VEIL_ACCESS_TENANCY "tenancy"

/* Bounds (sizes include the NUL where they are sizes). */
#define VEIL_POLICY_MAX_BYTES      (64u * 1024u) /* a policy file */
#define VEIL_POLICY_MAX_STATEMENTS 256
#define VEIL_POLICY_MAX_CONDITIONS 32 /* per statement */
#define VEIL_POLICY_MAX_GROUPS     16 /* "group a, b, c" */
#define VEIL_ACCESS_NAME_MAX       65 /* names as veil_name_check allows: 1..64 */

typedef enum veil_verb {
	VEIL_VERB_INSPECT = 1, /* list, see that something exists */
	VEIL_VERB_READ,        /* see metadata in full */
	VEIL_VERB_USE,         /* work with it (jobs read data inside a TEE) */
	VEIL_VERB_MANAGE,      /* create, change, delete, take plaintext out */
} veil_verb;

/* "inspect", "read", "use", "manage"; "?" for anything else. */
const char *veil_verb_name(veil_verb v);
/* Parses a verb name (exact, lowercase). VEIL_E_INVALID names the four. */
veil_status veil_verb_parse(const char *s, veil_verb *out, veil_err *err) VEIL_MUST_CHECK;

/* Concrete resource types a request can name, in the order docs/access.md
 * and docs/formats/policy.md list them. Statements may also say "all-resources". */
extern const char *const veil_access_resource_types[];
extern const size_t veil_access_nresource_types;
#define VEIL_ACCESS_ALL_RESOURCES "all-resources"
/* Whether s is a concrete resource type (not "all-resources"). */
bool veil_access_resource_type_known(const char *s);

/* ---- policies ---- */
typedef struct veil_policy veil_policy;

/* Parses a policy document: statements separated by line breaks, each
 * starting in column 1 with "Allow" or "Deny"; an indented line continues
 * the statement above; '#' starts a comment to the end of the line; blank
 * lines are ignored. len is the text length (the text need not be NUL
 * terminated; a NUL byte inside is an error). Bounded by the limits above.
 * On a syntax error: VEIL_E_INVALID, err->msg starting "line L, column C: "
 * and saying what was expected, err->hint where one helps; *out NULL. A
 * text over VEIL_POLICY_MAX_BYTES is VEIL_E_LIMIT (nothing read). Only
 * Allow/Deny are case-insensitive; the full grammar, the byte rules
 * (printable ASCII, LF or CRLF) and every message are in
 * docs/formats/policy.md. The caller frees *out with veil_policy_free. */
veil_status veil_policy_parse(const char *text, size_t len, veil_policy **out, veil_err *err) VEIL_MUST_CHECK;
void veil_policy_free(veil_policy *p); /* NULL ok */

size_t veil_policy_count(const veil_policy *p);

/* A read-only view of statement i; pointers live as long as p. */
typedef struct veil_statement_info {
	bool deny;
	unsigned line;             /* where the statement starts, 1-based */
	const char *text;          /* the statement, whitespace collapsed to single spaces */
	bool any_user;             /* "any-user" instead of groups */
	const char *const *groups; /* ngroups names, in statement order */
	size_t ngroups;
	veil_verb verb;
	const char *resource_type; /* a concrete type or "all-resources" */
	const char *compartment;   /* "tenancy" for "in tenancy" */
	size_t nconditions;
} veil_statement_info;
void veil_policy_statement(const veil_policy *p, size_t i, veil_statement_info *out);

/* What the names in a policy must resolve to, answered by the caller (the
 * CLI looks them up in the catalog). */
typedef struct veil_access_names {
	void *ctx;
	bool (*group_exists)(void *ctx, const char *group);
	bool (*compartment_exists)(void *ctx, const char *compartment);
	/* Whether `inner` is `outer` or a compartment below it. */
	bool (*compartment_within)(void *ctx, const char *inner, const char *outer);
} veil_access_names;

/* Checks a parsed policy that is to be attached to compartment
 * `attached_to`: every group and compartment it names exists, and every
 * statement's compartment is attached_to or below it (a policy cannot
 * grant on what lies outside the compartment it is attached to, as in
 * OCI). "tenancy" always exists and every compartment is within it, so
 * the callbacks are not asked about it. All three callbacks are required.
 * VEIL_E_INVALID with "line L: ..." naming the first problem. */
veil_status veil_policy_check(const veil_policy *p, const char *attached_to, const veil_access_names *names,
                              veil_err *err) VEIL_MUST_CHECK;

/* ---- decisions ---- */
typedef struct veil_access_tag {
	const char *key;
	const char *value;
} veil_access_tag;

/* Everything a decision depends on. Strings are NUL-terminated; an
 * attribute that does not apply is NULL (absent), which conditions treat
 * as unknown (see veil_access_decide). */
typedef struct veil_access_request {
	/* who asks */
	const char *principal;      /* request.principal */
	const char *principal_kind; /* request.principal.kind: user, worker, endpoint, federated-client */
	const char *const *groups;  /* the groups the principal is in */
	size_t ngroups;
	/* what for */
	veil_verb verb;
	const char *resource_type; /* a concrete type */
	const char *operation;     /* request.operation: the CLI command, "data download" */
	/* on what: target.* */
	const char *name; /* target.name; NULL for an operation on the type (list) */
	/* The resource's compartment and its ancestors, root ("tenancy") first,
	 * the resource's own compartment last. At least one entry. */
	const char *const *compartment_path;
	size_t ncompartments;
	const char *classification; /* target.classification */
	const char *owner;          /* target.owner */
	const char *region;         /* target.region */
	/* target.tag.KEY: the resource's complete tag set (a KEY not in it
	 * reads as ''), or NULL when the caller does not know the tags, which
	 * makes every target.tag condition unknown. */
	const veil_access_tag *tags;
	size_t ntags;
	/* the request itself */
	const char *request_region; /* request.region: where the operation runs */
	int64_t time;               /* request.utc-timestamp, Unix seconds */
} veil_access_request;

/* One policy in force: its parsed statements and where it is attached. */
typedef struct veil_policy_ref {
	const veil_policy *policy;
	const char *name; /* for explanations */
	uint32_t version;
	const char *attached_to; /* a compartment name */
} veil_policy_ref;

/* Why a statement did or did not decide a request. */
typedef enum veil_access_match {
	VEIL_MATCH_YES = 0,           /* it applies: its effect counts */
	VEIL_MATCH_SUBJECT,           /* the principal is in none of its groups */
	VEIL_MATCH_VERB,              /* it grants a lesser verb than asked */
	VEIL_MATCH_TYPE,              /* another resource type */
	VEIL_MATCH_COMPARTMENT,       /* the target is not in its compartment */
	VEIL_MATCH_CONDITION_FALSE,   /* a condition is false */
	VEIL_MATCH_CONDITION_UNKNOWN, /* a condition names an absent attribute */
} veil_access_match;
/* "applies", "subject", "verb", "resource-type", "compartment",
 * "condition-false", "condition-unknown". */
const char *veil_access_match_name(veil_access_match m);

typedef struct veil_access_decision {
	bool allowed;
	bool by_statement;             /* false: no statement applied (default deny) */
	size_t policy;                 /* index into the policies given, when by_statement */
	size_t statement;              /* index within that policy, when by_statement */
	char reason[VEIL_ERR_MSG_MAX]; /* one line, for errors and audit */
} veil_access_decision;

/* Called for every statement considered, in order, with how it matched and
 * a short detail ("request.region is absent", "target.classification is
 * 'restricted'"). For `veil policy explain --verbose`. */
typedef void (*veil_access_trace_fn)(void *ctx, size_t policy, size_t statement, veil_access_match m,
                                     const char *detail);

/* Decides a request against the policies in force:
 *  1. Only policies attached to a compartment on the target's path count,
 *     and within them only statements whose compartment is on that path.
 *  2. A Deny statement applies when subject, verb (the statement's verb is
 *     at most the requested one), type and compartment match and its
 *     conditions are not false: an unknown condition makes a Deny apply
 *     (fail closed). The first applying Deny decides: denied.
 *  3. Otherwise the first applying Allow decides: allowed. An Allow needs
 *     every condition true; unknown counts as not true.
 *  4. Otherwise denied, by_statement false.
 * A Deny naming verb V denies requests for V and every greater verb
 * (denying "read" also denies "use" and "manage"); an Allow naming V
 * allows V and every lesser verb.
 * A statement whose compartment lies above its policy's attachment never
 * applies (veil_policy_check refuses it when attaching).
 * Errors only for a malformed request (VEIL_E_INVALID): an unknown verb or
 * resource type, an empty compartment path or one that does not start with
 * "tenancy", NULL entries. *out is always filled: on error it is a deny
 * with by_statement false. trace may be NULL. */
veil_status veil_access_decide(const veil_policy_ref *policies, size_t npolicies,
                               const veil_access_request *req, veil_access_decision *out,
                               veil_access_trace_fn trace, void *ctx, veil_err *err) VEIL_MUST_CHECK;

/* ---- API tokens ----
 * "vt1_" WORKSPACE_ID(32 hex) "_" TOKEN_ID(16 hex) "_" SECRET(64 hex):
 * 256 bits of secret from the CSPRNG. The catalog stores only the id and
 * SHA-256 of the whole token string; the token is shown once. */
#define VEIL_TOKEN_LEN      118 /* characters, without the NUL */
#define VEIL_TOKEN_ID_LEN   16
#define VEIL_TOKEN_HASH_LEN 32

/* Makes a new token for the workspace. `token` must be VEIL_TOKEN_LEN + 1
 * bytes of veil_secure_alloc memory (the caller wipes it); id gets the
 * token id, hash what the catalog stores. */
veil_status veil_token_new(const char *workspace_id, char *token, char id[VEIL_TOKEN_ID_LEN + 1],
                           uint8_t hash[VEIL_TOKEN_HASH_LEN], veil_err *err) VEIL_MUST_CHECK;
/* Checks a token's shape and splits out the workspace id and token id
 * (the secret is not copied). VEIL_E_AUTH for anything that is not a veil
 * token (exact length, "vt1_", '_' separators, lowercase hex only), with a
 * message that never echoes the token; both outputs are then "". */
veil_status veil_token_parse(const char *token, size_t len, char workspace_id[33],
                             char id[VEIL_TOKEN_ID_LEN + 1], veil_err *err) VEIL_MUST_CHECK;
/* SHA-256 of the token string (len bytes). */
veil_status veil_token_hash(const char *token, size_t len, uint8_t hash[VEIL_TOKEN_HASH_LEN],
                            veil_err *err) VEIL_MUST_CHECK;
/* Whether the token hashes to `stored`, compared in constant time. */
bool veil_token_matches(const char *token, size_t len, const uint8_t stored[VEIL_TOKEN_HASH_LEN]);

#endif
