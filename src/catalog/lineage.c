/*
 * The lineage graph: nodes named by (kind, ref), typed edges between them,
 * each optionally carrying the attested measurement of the code that made
 * it. Edges are facts that were recorded, so they are only ever added.
 */
#include "catalog_int.h"

#include <string.h>

static veil_status check_word(const char *s, const char *what, veil_err *err)
{
	if (!s)
		return veil_err_set(err, VEIL_E_INVALID, "no lineage %s given", what);
	size_t n = strnlen(s, VEIL_CATALOG_KIND_MAX);
	bool ok = n >= 1 && n < VEIL_CATALOG_KIND_MAX;
	for (size_t i = 0; ok && i < n; i++)
		ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_';
	if (ok)
		return VEIL_OK;
	veil_err_set(err, VEIL_E_INVALID, "lineage %s '%.40s' is not valid", what, s);
	veil_err_hint(err, "use 1 to %d of a-z, 0-9 and '_', e.g. dataset_version or derived_from",
	              VEIL_CATALOG_KIND_MAX - 1);
	return VEIL_E_INVALID;
}

static veil_status check_node(const char *kind, const char *ref, veil_err *err)
{
	veil_status st = check_word(kind, "node kind", err);
	if (!st && !ref)
		st = veil_err_set(err, VEIL_E_INVALID, "no lineage node reference given");
	if (!st)
		st = vcat_check_text(ref, VEIL_CATALOG_REF_MAX - 1, false, false, "lineage node reference",
		                     err);
	return st;
}

/* The id of node (kind, ref), made if it is new; found = false with id 0
 * when it is absent and create is false. */
static veil_status node_id(veil_catalog *c, const char *kind, const char *ref, bool create, int64_t *id,
                           veil_err *err)
{
	*id = 0;
	sqlite3_stmt *s;
	veil_status st;
	if (create) {
		if ((st = vcat_prepare(c,
		                       "INSERT INTO lineage_nodes (kind, ref) VALUES (?1, ?2) "
		                       "ON CONFLICT (kind, ref) DO NOTHING",
		                       &s, err)))
			return st;
		if (!vcat_bind_text(s, 1, kind) || !vcat_bind_text(s, 2, ref))
			st = vcat_db_err(c, SQLITE_NOMEM, "cannot bind a parameter", err);
		else
			st = vcat_exec(c, s, "cannot add a lineage node", err);
		sqlite3_finalize(s);
		if (st)
			return st;
	}
	if ((st = vcat_prepare(c, "SELECT id FROM lineage_nodes WHERE kind = ?1 AND ref = ?2", &s, err)))
		return st;
	bool bound = vcat_bind_text(s, 1, kind) && vcat_bind_text(s, 2, ref);
	int rc = bound ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE)
		st = vcat_db_err(c, rc, "cannot look up a lineage node", err);
	sqlite3_finalize(s);
	return st;
}

/* The edge exists already: the same fact again is fine, a different
 * measurement for it is a conflict worth reporting. */
static veil_status same_edge(veil_catalog *c, int64_t from, int64_t to, const char *relation,
                             const char *measurement, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c,
	                              "SELECT measurement IS ?4 FROM lineage_edges "
	                              "WHERE from_node = ?1 AND to_node = ?2 AND relation = ?3",
	                              &s, err);
	if (st)
		return st;
	bool bound = vcat_bind_int(s, 1, from) && vcat_bind_int(s, 2, to) && vcat_bind_text(s, 3, relation) &&
	             vcat_bind_text(s, 4, measurement);
	int rc = bound ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc != SQLITE_ROW)
		st = vcat_db_err(c, rc, "cannot look up a lineage edge", err);
	else if (sqlite3_column_int64(s, 0) != 1)
		st = veil_err_set(err, VEIL_E_EXISTS,
		                  "this %s lineage edge is already recorded with another measurement",
		                  relation);
	sqlite3_finalize(s);
	return st;
}

static veil_status add_in_tx(veil_catalog *c, const char *from_kind, const char *from_ref,
                             const char *relation, const char *to_kind, const char *to_ref,
                             const char *measurement, veil_err *err)
{
	int64_t from, to;
	veil_status st;
	if ((st = node_id(c, from_kind, from_ref, true, &from, err)) ||
	    (st = node_id(c, to_kind, to_ref, true, &to, err)))
		return st;
	sqlite3_stmt *s;
	if ((st = vcat_prepare(
	             c,
	             "INSERT INTO lineage_edges (from_node, to_node, relation, measurement, created) "
	             "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (from_node, to_node, relation) DO NOTHING",
	             &s, err)))
		return st;
	if (!vcat_bind_int(s, 1, from) || !vcat_bind_int(s, 2, to) || !vcat_bind_text(s, 3, relation) ||
	    !vcat_bind_text(s, 4, measurement) || !vcat_bind_int(s, 5, veil_time_now()))
		st = vcat_db_err(c, SQLITE_NOMEM, "cannot bind a parameter", err);
	else
		st = vcat_exec(c, s, "cannot add a lineage edge", err);
	sqlite3_finalize(s);
	if (!st && sqlite3_changes(c->db) == 0)
		st = same_edge(c, from, to, relation, measurement, err);
	return st;
}

veil_status veil_catalog_lineage_add(veil_catalog *c, const char *from_kind, const char *from_ref,
                                     const char *relation, const char *to_kind, const char *to_ref,
                                     const char *measurement, veil_err *err)
{
	veil_status st;
	if ((st = check_node(from_kind, from_ref, err)) || (st = check_node(to_kind, to_ref, err)) ||
	    (st = check_word(relation, "relation", err)))
		return st;
	if (measurement && (st = vcat_check_text(measurement, VEIL_CATALOG_MEASUREMENT_MAX - 1, false, false,
	                                         "measurement", err)))
		return st;
	if (strcmp(from_kind, to_kind) == 0 && strcmp(from_ref, to_ref) == 0)
		return veil_err_set(err, VEIL_E_INVALID, "a lineage edge cannot lead from a node to itself");
	bool own;
	if ((st = vcat_tx_begin(c, &own, err)))
		return st;
	st = add_in_tx(c, from_kind, from_ref, relation, to_kind, to_ref, measurement, err);
	return vcat_tx_end(c, own, st, err);
}

static veil_status read_edge(veil_catalog *c, sqlite3_stmt *s, veil_lineage_edge *e, veil_err *err)
{
	memset(e, 0, sizeof *e);
	veil_status st;
	if ((st = vcat_col_text(c, s, 0, e->from_kind, sizeof e->from_kind, false, "lineage kind", err)) ||
	    (st = vcat_col_text(c, s, 1, e->from_ref, sizeof e->from_ref, false, "lineage reference", err)) ||
	    (st = vcat_col_text(c, s, 2, e->relation, sizeof e->relation, false, "lineage relation", err)) ||
	    (st = vcat_col_text(c, s, 3, e->to_kind, sizeof e->to_kind, false, "lineage kind", err)) ||
	    (st = vcat_col_text(c, s, 4, e->to_ref, sizeof e->to_ref, false, "lineage reference", err)) ||
	    (st = vcat_col_text(c, s, 5, e->measurement, sizeof e->measurement, true, "measurement", err)))
		return st;
	e->has_measurement = sqlite3_column_type(s, 5) != SQLITE_NULL;
	e->created = sqlite3_column_int64(s, 6);
	return VEIL_OK;
}

veil_status veil_catalog_lineage_edges(veil_catalog *c, const char *kind, const char *ref, veil_lineage_fn cb,
                                       void *ctx, veil_err *err)
{
	int64_t id;
	veil_status st = check_node(kind, ref, err);
	if (st || (st = node_id(c, kind, ref, false, &id, err)) || id == 0)
		return st;
	sqlite3_stmt *s;
	if ((st = vcat_prepare(c,
	                       "SELECT f.kind, f.ref, e.relation, t.kind, t.ref, e.measurement, e.created "
	                       "FROM lineage_edges e JOIN lineage_nodes f ON f.id = e.from_node "
	                       "JOIN lineage_nodes t ON t.id = e.to_node "
	                       "WHERE e.from_node = ?1 OR e.to_node = ?1 ORDER BY e.id",
	                       &s, err)))
		return st;
	int rc = vcat_bind_int(s, 1, id) ? SQLITE_OK : SQLITE_NOMEM;
	while (!st && rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		veil_lineage_edge e;
		if (!(st = read_edge(c, s, &e, err)))
			st = cb(ctx, &e, err);
		rc = SQLITE_OK;
	}
	if (!st && rc != SQLITE_DONE)
		st = vcat_db_err(c, rc, "cannot read lineage", err);
	sqlite3_finalize(s);
	return st;
}
