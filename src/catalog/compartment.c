/*
 * Compartments: the tree that datasets, keys and policies live in, rooted
 * at "tenancy" (created by schema step 4).
 *
 * Invariants kept here (docs/formats/catalog.md, "Invariants"):
 *  C1. Every compartment but tenancy has a parent that exists; tenancy has
 *      none. Compartments are never deleted or moved, so this stays true.
 *  C2. No compartment is more than VEIL_CATALOG_COMPARTMENT_DEPTH levels
 *      deep (tenancy is level 1): checked when one is created, from the
 *      parent's path.
 *  C3. Walking up from any compartment reaches tenancy within that many
 *      steps. A catalog changed outside veil could hold a cycle, so every
 *      walk is bounded and reports VEIL_E_CORRUPT instead of looping.
 */
#include "iam_int.h"

#include <string.h>

#define ROW_SELECT "SELECT name, parent, description, created, created_by FROM compartments "

static veil_status read_row(veil_catalog *c, sqlite3_stmt *s, void *row, veil_err *err)
{
	veil_compartment *out = row;
	memset(out, 0, sizeof *out);
	veil_status st;
	if ((st = vcat_col_text(c, s, 0, out->name, sizeof out->name, false, "compartment name", err)) ||
	    (st = vcat_col_text(c, s, 1, out->parent, sizeof out->parent, true, "compartment parent", err)) ||
	    (st = vcat_col_text(c, s, 2, out->description, sizeof out->description, false,
	                        "compartment description", err)) ||
	    (st = vcat_col_text(c, s, 4, out->created_by, sizeof out->created_by, false, "creator", err)) ||
	    (st = vcat_col_time(c, s, 3, &out->created, "creation time", err)))
		memset(out, 0, sizeof *out);
	return st;
}

/* C3: the chain from name up to tenancy, name first. A name that is not
 * there is VEIL_E_NOTFOUND; a parent that is not there, a chain longer
 * than the depth limit (a cycle, or rows written outside veil) or a root
 * other than tenancy is VEIL_E_CORRUPT. */
static veil_status walk_up(veil_catalog *c, const char *name,
                           char chain[VEIL_CATALOG_COMPARTMENT_DEPTH][VEIL_CATALOG_NAME_MAX], size_t *n,
                           veil_err *err)
{
	*n = 0;
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c, "SELECT parent FROM compartments WHERE name = ?1", &s, err);
	if (st)
		return st;
	char cur[VEIL_CATALOG_NAME_MAX];
	memcpy(cur, name, strlen(name) + 1);
	for (size_t depth = 0;; depth++) {
		if (depth == VEIL_CATALOG_COMPARTMENT_DEPTH) {
			veil_err_set(
			        err, VEIL_E_CORRUPT,
			        "catalog %s: compartment %s is not within %d levels of tenancy (its parents "
			        "form a cycle or were changed outside veil)",
			        c->path, name, VEIL_CATALOG_COMPARTMENT_DEPTH);
			veil_err_hint(err, "restore catalog.db from a backup");
			st = VEIL_E_CORRUPT;
			break;
		}
		memcpy(chain[depth], cur, sizeof cur);
		sqlite3_reset(s);
		int rc = vcat_bind_text(s, 1, cur) ? sqlite3_step(s) : SQLITE_NOMEM;
		if (rc == SQLITE_DONE && depth == 0) {
			st = vcat_missing("compartment", name, err);
			break;
		}
		if (rc == SQLITE_DONE) {
			st = vcat_bad_stored(c, "compartment parent", err);
			break;
		}
		if (rc != SQLITE_ROW) {
			st = vcat_db_err(c, rc, "cannot look up a compartment", err);
			break;
		}
		if (sqlite3_column_type(s, 0) == SQLITE_NULL) {
			if (strcmp(cur, VEIL_CATALOG_TENANCY) != 0)
				st = vcat_bad_stored(c, "compartment parent", err);
			else
				*n = depth + 1;
			break;
		}
		if ((st = vcat_col_text(c, s, 0, cur, sizeof cur, false, "compartment parent", err)))
			break;
	}
	sqlite3_finalize(s);
	return st;
}

veil_status veil_catalog_compartment_path(veil_catalog *c, const char *name,
                                          char path[VEIL_CATALOG_COMPARTMENT_DEPTH][VEIL_CATALOG_NAME_MAX],
                                          size_t *n, veil_err *err)
{
	*n = 0;
	veil_status st = vcat_check_name(name, "compartment name", err);
	if (st)
		return st;
	char chain[VEIL_CATALOG_COMPARTMENT_DEPTH][VEIL_CATALOG_NAME_MAX];
	size_t len;
	if ((st = walk_up(c, name, chain, &len, err)))
		return st;
	for (size_t i = 0; i < len; i++)
		memcpy(path[i], chain[len - 1 - i], VEIL_CATALOG_NAME_MAX);
	*n = len;
	return VEIL_OK;
}

static veil_status create_in_tx(veil_catalog *c, const char *name, const char *parent,
                                const char *description, const char *created_by, veil_err *err)
{
	bool taken;
	veil_status st = vcat_exists(c, "SELECT 1 FROM compartments WHERE name = ?1", name, &taken, err);
	if (st)
		return st;
	if (taken) {
		veil_err_set(err, VEIL_E_EXISTS, "a compartment named %s already exists", name);
		veil_err_hint(err, "compartment names are unique in the whole workspace; choose another");
		return VEIL_E_EXISTS;
	}
	char chain[VEIL_CATALOG_COMPARTMENT_DEPTH][VEIL_CATALOG_NAME_MAX];
	size_t depth;
	if ((st = walk_up(c, parent, chain, &depth, err))) {
		if (st == VEIL_E_NOTFOUND)
			veil_err_wrap(err, "parent of %s", name);
		return st;
	}
	if (depth >= VEIL_CATALOG_COMPARTMENT_DEPTH) /* C2: the new one would be at depth + 1 */
		return veil_err_set(
		        err, VEIL_E_LIMIT,
		        "compartment %s would be %zu levels deep; compartments nest at most %d levels "
		        "(tenancy is level 1)",
		        name, depth + 1, VEIL_CATALOG_COMPARTMENT_DEPTH);
	sqlite3_stmt *s;
	if ((st = vcat_prepare(c,
	                       "INSERT INTO compartments (name, parent, description, created, created_by) "
	                       "VALUES (?1, ?2, ?3, ?4, ?5)",
	                       &s, err)))
		return st;
	if (!vcat_bind_text(s, 1, name) || !vcat_bind_text(s, 2, parent) ||
	    !vcat_bind_text(s, 3, description ? description : "") || !vcat_bind_int(s, 4, veil_time_now()) ||
	    !vcat_bind_text(s, 5, created_by))
		st = vcat_bind_failed(c, err);
	else
		st = vcat_exec(c, s, "cannot add a compartment", err);
	sqlite3_finalize(s);
	return st;
}

veil_status veil_catalog_compartment_create(veil_catalog *c, const char *name, const char *parent,
                                            const char *description, const char *created_by, veil_err *err)
{
	veil_status st;
	if ((st = vcat_check_name(name, "compartment name", err)) ||
	    (st = vcat_check_name(parent, "parent compartment", err)) ||
	    (st = vcat_check_name(created_by, "creator", err)))
		return st;
	if (description &&
	    (st = vcat_check_ascii(description, VEIL_CATALOG_DESCRIPTION_MAX - 1, "description", err)))
		return st;
	bool own;
	if ((st = vcat_tx_begin(c, &own, err)))
		return st;
	st = create_in_tx(c, name, parent, description, created_by, err);
	return vcat_tx_end(c, own, st, err);
}

veil_status veil_catalog_compartment_get(veil_catalog *c, const char *name, veil_compartment *out,
                                         veil_err *err)
{
	memset(out, 0, sizeof *out);
	veil_status st = vcat_check_name(name, "compartment name", err);
	if (st)
		return st;
	return vcat_get_one(c, ROW_SELECT "WHERE name = ?1", name, "compartment", read_row, out,
	                    "cannot look up a compartment", err);
}

typedef struct list_ctx {
	veil_compartment_fn cb;
	void *ctx;
} list_ctx;

static veil_status list_row(veil_catalog *c, sqlite3_stmt *s, void *ctx, veil_err *err)
{
	list_ctx *l = ctx;
	veil_compartment comp;
	veil_status st = read_row(c, s, &comp, err);
	return st ? st : l->cb(l->ctx, &comp, err);
}

/* The callback runs while the listing's statement is open, as with
 * veil_catalog_dataset_list: it may read the catalog but not change it. */
veil_status veil_catalog_compartment_list(veil_catalog *c, veil_compartment_fn cb, void *ctx, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c, ROW_SELECT "ORDER BY name", &s, err);
	if (st)
		return st;
	list_ctx l = {cb, ctx};
	st = vcat_each_row(c, s, list_row, &l, "cannot list compartments", err);
	sqlite3_finalize(s);
	return st;
}
