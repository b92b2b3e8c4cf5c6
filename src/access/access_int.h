/*
 * What the access module's files share: the parsed form of a policy
 * (statements, their conditions, the variables and operators of the
 * language) that policy.c builds and decide.c evaluates. A parsed policy
 * is immutable; every string in it lives in one arena owned by the policy,
 * so that the pointers handed out by veil_policy_statement stay valid for
 * as long as the policy does.
 */
#ifndef VEIL_ACCESS_INT_H
#define VEIL_ACCESS_INT_H

#include "veil/access.h"

/* Longest quoted string a condition may hold, without the quotes. */
#define ACC_STRING_MAX 256

/* The variables a condition can name (docs/formats/policy.md, "Variables"). */
typedef enum acc_var_kind {
	ACC_VAR_TARGET_NAME,
	ACC_VAR_TARGET_CLASSIFICATION,
	ACC_VAR_TARGET_OWNER,
	ACC_VAR_TARGET_REGION,
	ACC_VAR_TARGET_COMPARTMENT,
	ACC_VAR_TARGET_TAG, /* target.tag.KEY: key holds KEY */
	ACC_VAR_REQUEST_PRINCIPAL,
	ACC_VAR_REQUEST_PRINCIPAL_KIND,
	ACC_VAR_REQUEST_REGION,
	ACC_VAR_REQUEST_OPERATION,
	ACC_VAR_REQUEST_TIME,        /* request.utc-timestamp: before / after only */
	ACC_VAR_REQUEST_TIME_OF_DAY, /* request.utc-timestamp.time-of-day: between only */
} acc_var_kind;

typedef struct acc_var {
	acc_var_kind kind;
	const char *key; /* the tag key for ACC_VAR_TARGET_TAG, else NULL */
} acc_var;

typedef enum acc_op {
	ACC_OP_EQ,      /* =  string variable against a string or a string variable */
	ACC_OP_NE,      /* != likewise */
	ACC_OP_BEFORE,  /* request.utc-timestamp before T: time < T */
	ACC_OP_AFTER,   /* request.utc-timestamp after T: time > T */
	ACC_OP_BETWEEN, /* time-of-day between A and B: [A, B), wrapping past midnight when A > B */
} acc_op;

typedef struct acc_clause {
	acc_var var;
	acc_op op;
	bool rhs_is_var;  /* EQ/NE: compare with rhs_var instead of str */
	acc_var rhs_var;  /* EQ/NE with rhs_is_var */
	const char *str;  /* EQ/NE with a string operand */
	int64_t time;     /* BEFORE/AFTER: Unix seconds */
	int32_t tod_from; /* BETWEEN: seconds since midnight, 0..86399 */
	int32_t tod_to;   /* BETWEEN: likewise, never equal to tod_from */
} acc_clause;

/* How a statement's clauses combine. */
typedef enum acc_combine {
	ACC_COND_NONE, /* no "where": always true */
	ACC_COND_ONE,  /* a single clause */
	ACC_COND_ANY,  /* any { ... } */
	ACC_COND_ALL,  /* all { ... } */
} acc_combine;

typedef struct acc_stmt {
	bool deny;
	unsigned line;
	const char *text; /* whitespace collapsed, comments removed */
	bool any_user;
	const char *groups[VEIL_POLICY_MAX_GROUPS];
	size_t ngroups;
	veil_verb verb;
	const char *resource_type; /* a concrete type or VEIL_ACCESS_ALL_RESOURCES (static strings) */
	const char *compartment;   /* VEIL_ACCESS_TENANCY (static) or a name in the arena */
	acc_combine combine;
	size_t first_clause; /* index into veil_policy.clauses */
	size_t nclauses;
} acc_stmt;

struct veil_policy {
	acc_stmt *stmts;
	size_t nstmts;
	acc_clause *clauses; /* every statement's clauses, in order */
	size_t nclauses;
	char *arena; /* every string the statements point to */
	size_t arena_used, arena_cap;
};

/* The concrete resource type equal to s, as the static string of
 * veil_access_resource_types (or VEIL_ACCESS_ALL_RESOURCES when allow_all
 * and s is "all-resources"); NULL when s names none. n is s's length. */
const char *acc_resource_type_find(const char *s, size_t n, bool allow_all);

/* The variable's name as the language spells it ("target.tag." without the
 * key for tags). */
const char *acc_var_name(acc_var_kind k);

#endif
