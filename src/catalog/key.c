/*
 * Which compartment each key encryption key belongs to. The keys
 * themselves live in the KMS (keys.db), which knows nothing of
 * compartments; policies do, so the placement is catalog metadata like a
 * dataset's. A key is placed once, when it is made, and never moves: a
 * move would silently change which policies govern data already wrapped
 * under it.
 */
#include "iam_int.h"

#include <string.h>

veil_status veil_catalog_key_set_compartment(veil_catalog *c, const char *key, const char *compartment,
                                             const char *created_by, veil_err *err)
{
	veil_status st;
	if ((st = vcat_check_name(key, "key name", err)) ||
	    (st = vcat_check_name(compartment, "compartment", err)) ||
	    (st = vcat_check_name(created_by, "creator", err)))
		return st;
	bool own;
	if ((st = vcat_tx_begin(c, &own, err)))
		return st;
	char have[VEIL_CATALOG_NAME_MAX];
	st = vcat_need_compartment(c, compartment, err);
	if (!st) {
		veil_status got = veil_catalog_key_compartment(c, key, have, err);
		bool recorded = false;
		if (!got) {
			bool found;
			got = vcat_exists(c, "SELECT 1 FROM key_compartments WHERE name = ?1", key, &found,
			                  err);
			recorded = !got && found;
		}
		if (got)
			st = got;
		else if (recorded && strcmp(have, compartment) != 0)
			st = veil_err_set(err, VEIL_E_EXISTS, "key %s is already in compartment %s", key,
			                  have);
		else if (!recorded) {
			sqlite3_stmt *s;
			if (!(st = vcat_prepare(
			              c,
			              "INSERT INTO key_compartments (name, compartment, created, created_by) "
			              "VALUES (?1, ?2, ?3, ?4)",
			              &s, err))) {
				if (!vcat_bind_text(s, 1, key) || !vcat_bind_text(s, 2, compartment) ||
				    !vcat_bind_int(s, 3, veil_time_now()) ||
				    !vcat_bind_text(s, 4, created_by))
					st = vcat_bind_failed(c, err);
				else
					st = vcat_exec(c, s, "cannot record a key's compartment", err);
				sqlite3_finalize(s);
			}
		}
	}
	return vcat_tx_end(c, own, st, err);
}

veil_status veil_catalog_key_compartment(veil_catalog *c, const char *key, char out[VEIL_CATALOG_NAME_MAX],
                                         veil_err *err)
{
	memcpy(out, VEIL_CATALOG_TENANCY, sizeof VEIL_CATALOG_TENANCY);
	veil_status st = vcat_check_name(key, "key name", err);
	if (st)
		return st;
	sqlite3_stmt *s;
	if ((st = vcat_prepare(c, "SELECT compartment FROM key_compartments WHERE name = ?1", &s, err)))
		return st;
	int rc = vcat_bind_text(s, 1, key) ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc == SQLITE_ROW)
		st = vcat_col_text(c, s, 0, out, VEIL_CATALOG_NAME_MAX, false, "key compartment", err);
	else if (rc != SQLITE_DONE)
		st = vcat_db_err(c, rc, "cannot look up a key's compartment", err);
	sqlite3_finalize(s);
	if (st)
		memcpy(out, VEIL_CATALOG_TENANCY, sizeof VEIL_CATALOG_TENANCY);
	return st;
}
