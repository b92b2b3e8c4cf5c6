/*
 * Groups of principals: what policy statements grant to ("Allow group
 * data-scientists to ..."), and who is in them.
 *
 * A principal is in at most VEIL_CATALOG_GROUPS_PER_PRINCIPAL groups, so
 * that an access request, which carries the principal's groups, has a
 * bound; group_add keeps it, and groups_of treats a catalog that breaks it
 * as corrupt rather than silently dropping groups (a dropped group could
 * hide a Deny).
 */
#include "iam_int.h"

#include <string.h>

#define ROW_SELECT                                                                                           \
	"SELECT g.name, g.created, g.created_by, "                                                           \
	"(SELECT count(*) FROM group_members m WHERE m.group_name = g.name) FROM groups g "

static veil_status read_row(veil_catalog *c, sqlite3_stmt *s, void *row, veil_err *err)
{
	veil_group *out = row;
	memset(out, 0, sizeof *out);
	veil_status st;
	if ((st = vcat_col_text(c, s, 0, out->name, sizeof out->name, false, "group name", err)) ||
	    (st = vcat_col_time(c, s, 1, &out->created, "creation time", err)) ||
	    (st = vcat_col_text(c, s, 2, out->created_by, sizeof out->created_by, false, "creator", err))) {
		memset(out, 0, sizeof *out);
		return st;
	}
	out->members = (uint64_t)sqlite3_column_int64(s, 3);
	return VEIL_OK;
}

veil_status veil_catalog_group_create(veil_catalog *c, const char *name, const char *created_by,
                                      veil_err *err)
{
	veil_status st;
	if ((st = vcat_check_name(name, "group name", err)) ||
	    (st = vcat_check_name(created_by, "creator", err)))
		return st;
	sqlite3_stmt *s;
	if ((st = vcat_prepare(c,
	                       "INSERT INTO groups (name, created, created_by) VALUES (?1, ?2, ?3) "
	                       "ON CONFLICT (name) DO NOTHING",
	                       &s, err)))
		return st;
	if (!vcat_bind_text(s, 1, name) || !vcat_bind_int(s, 2, veil_time_now()) ||
	    !vcat_bind_text(s, 3, created_by))
		st = vcat_bind_failed(c, err);
	else
		st = vcat_exec(c, s, "cannot add a group", err);
	sqlite3_finalize(s);
	if (!st && sqlite3_changes(c->db) == 0)
		st = veil_err_set(err, VEIL_E_EXISTS, "a group named %s already exists", name);
	return st;
}

veil_status veil_catalog_group_get(veil_catalog *c, const char *name, veil_group *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	veil_status st = vcat_check_name(name, "group name", err);
	if (st)
		return st;
	return vcat_get_one(c, ROW_SELECT "WHERE g.name = ?1", name, "group", read_row, out,
	                    "cannot look up a group", err);
}

typedef struct list_ctx {
	veil_group_fn cb;
	veil_name_fn name_cb;
	void *ctx;
} list_ctx;

static veil_status list_row(veil_catalog *c, sqlite3_stmt *s, void *ctx, veil_err *err)
{
	list_ctx *l = ctx;
	veil_group g;
	veil_status st = read_row(c, s, &g, err);
	return st ? st : l->cb(l->ctx, &g, err);
}

/* Callbacks here and in group_members run while the listing's statement
 * is open, as with veil_catalog_dataset_list: they may read the catalog
 * but not change it. */
veil_status veil_catalog_group_list(veil_catalog *c, veil_group_fn cb, void *ctx, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c, ROW_SELECT "ORDER BY g.name", &s, err);
	if (st)
		return st;
	list_ctx l = {.cb = cb, .ctx = ctx};
	st = vcat_each_row(c, s, list_row, &l, "cannot list groups", err);
	sqlite3_finalize(s);
	return st;
}

/* Whether principal is in group; both exist. */
static veil_status is_member(veil_catalog *c, const char *group, const char *principal, bool *member,
                             veil_err *err)
{
	*member = false;
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(
	        c, "SELECT 1 FROM group_members WHERE group_name = ?1 AND principal = ?2", &s, err);
	if (st)
		return st;
	int rc = vcat_bind_text(s, 1, group) && vcat_bind_text(s, 2, principal) ? sqlite3_step(s)
	                                                                        : SQLITE_NOMEM;
	if (rc == SQLITE_ROW)
		*member = true;
	else if (rc != SQLITE_DONE)
		st = vcat_db_err(c, rc, "cannot look up a group member", err);
	sqlite3_finalize(s);
	return st;
}

static veil_status count_groups(veil_catalog *c, const char *principal, int64_t *n, veil_err *err)
{
	*n = 0;
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c, "SELECT count(*) FROM group_members WHERE principal = ?1", &s, err);
	if (st)
		return st;
	int rc = vcat_bind_text(s, 1, principal) ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	else
		st = vcat_db_err(c, rc, "cannot count a principal's groups", err);
	sqlite3_finalize(s);
	return st;
}

/* Runs one membership statement (?1 group, ?2 principal, ?3 time when the
 * statement uses it). */
static veil_status change(veil_catalog *c, const char *sql, const char *group, const char *principal,
                          const char *what, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c, sql, &s, err);
	if (st)
		return st;
	bool bound = vcat_bind_text(s, 1, group) && vcat_bind_text(s, 2, principal) &&
	             (sqlite3_bind_parameter_count(s) < 3 || vcat_bind_int(s, 3, veil_time_now()));
	st = bound ? vcat_exec(c, s, what, err) : vcat_bind_failed(c, err);
	sqlite3_finalize(s);
	return st;
}

static veil_status add_in_tx(veil_catalog *c, const char *group, const char *principal, veil_err *err)
{
	bool member;
	int64_t n;
	veil_status st;
	if ((st = vcat_need_group(c, group, err)) || (st = vcat_need_principal(c, principal, err)) ||
	    (st = is_member(c, group, principal, &member, err)))
		return st;
	if (member)
		return veil_err_set(err, VEIL_E_EXISTS, "principal %s is already in group %s", principal,
		                    group);
	if ((st = count_groups(c, principal, &n, err)))
		return st;
	if (n >= VEIL_CATALOG_GROUPS_PER_PRINCIPAL) {
		veil_err_set(err, VEIL_E_LIMIT,
		             "principal %s is already in %lld groups, the most one can be in", principal,
		             (long long)n);
		veil_err_hint(err, "remove it from a group it no longer needs first");
		return VEIL_E_LIMIT;
	}
	return change(c, "INSERT INTO group_members (group_name, principal, added) VALUES (?1, ?2, ?3)",
	              group, principal, "cannot add a group member", err);
}

static veil_status remove_in_tx(veil_catalog *c, const char *group, const char *principal, veil_err *err)
{
	bool member;
	veil_status st;
	if ((st = vcat_need_group(c, group, err)) || (st = vcat_need_principal(c, principal, err)) ||
	    (st = is_member(c, group, principal, &member, err)))
		return st;
	if (!member)
		return veil_err_set(err, VEIL_E_NOTFOUND, "principal %s is not in group %s", principal,
		                    group);
	return change(c, "DELETE FROM group_members WHERE group_name = ?1 AND principal = ?2", group,
	              principal, "cannot remove a group member", err);
}

static veil_status check_pair(const char *group, const char *principal, veil_err *err)
{
	veil_status st = vcat_check_name(group, "group name", err);
	return st ? st : vcat_check_name(principal, "principal name", err);
}

veil_status veil_catalog_group_add(veil_catalog *c, const char *group, const char *principal, veil_err *err)
{
	veil_status st = check_pair(group, principal, err);
	bool own;
	if (st || (st = vcat_tx_begin(c, &own, err)))
		return st;
	st = add_in_tx(c, group, principal, err);
	return vcat_tx_end(c, own, st, err);
}

veil_status veil_catalog_group_remove(veil_catalog *c, const char *group, const char *principal,
                                      veil_err *err)
{
	veil_status st = check_pair(group, principal, err);
	bool own;
	if (st || (st = vcat_tx_begin(c, &own, err)))
		return st;
	st = remove_in_tx(c, group, principal, err);
	return vcat_tx_end(c, own, st, err);
}

typedef struct groups_ctx {
	char (*groups)[VEIL_CATALOG_NAME_MAX];
	size_t n;
} groups_ctx;

static veil_status group_row(veil_catalog *c, sqlite3_stmt *s, void *ctx, veil_err *err)
{
	groups_ctx *g = ctx;
	if (g->n == VEIL_CATALOG_GROUPS_PER_PRINCIPAL)
		return vcat_bad_stored(c, "number of groups of a principal", err);
	return vcat_col_text(c, s, 0, g->groups[g->n++], VEIL_CATALOG_NAME_MAX, false, "group name", err);
}

veil_status veil_catalog_groups_of(veil_catalog *c, const char *principal,
                                   char groups[VEIL_CATALOG_GROUPS_PER_PRINCIPAL][VEIL_CATALOG_NAME_MAX],
                                   size_t *n, veil_err *err)
{
	*n = 0;
	veil_status st = vcat_check_name(principal, "principal name", err);
	if (st || (st = vcat_need_principal(c, principal, err)))
		return st;
	sqlite3_stmt *s;
	if ((st = vcat_prepare(
	             c, "SELECT group_name FROM group_members WHERE principal = ?1 ORDER BY group_name", &s,
	             err)))
		return st;
	groups_ctx g = {groups, 0};
	if (!vcat_bind_text(s, 1, principal))
		st = vcat_bind_failed(c, err);
	else
		st = vcat_each_row(c, s, group_row, &g, "cannot read a principal's groups", err);
	sqlite3_finalize(s);
	if (!st)
		*n = g.n;
	return st;
}

static veil_status member_row(veil_catalog *c, sqlite3_stmt *s, void *ctx, veil_err *err)
{
	list_ctx *l = ctx;
	char name[VEIL_CATALOG_NAME_MAX];
	veil_status st = vcat_col_text(c, s, 0, name, sizeof name, false, "principal name", err);
	return st ? st : l->name_cb(l->ctx, name, err);
}

veil_status veil_catalog_group_members(veil_catalog *c, const char *group, veil_name_fn cb, void *ctx,
                                       veil_err *err)
{
	veil_status st = vcat_check_name(group, "group name", err);
	if (st || (st = vcat_need_group(c, group, err)))
		return st;
	sqlite3_stmt *s;
	if ((st = vcat_prepare(c,
	                       "SELECT principal FROM group_members WHERE group_name = ?1 ORDER BY principal",
	                       &s, err)))
		return st;
	list_ctx l = {.name_cb = cb, .ctx = ctx};
	if (!vcat_bind_text(s, 1, group))
		st = vcat_bind_failed(c, err);
	else
		st = vcat_each_row(c, s, member_row, &l, "cannot list group members", err);
	sqlite3_finalize(s);
	return st;
}
