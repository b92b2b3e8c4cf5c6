/*
 * Reports of the trusted worker: what a validation, a profile or a
 * feature build found in one dataset version. The report itself is a
 * signed envelope, encrypted in the object store; a row here says where it
 * is, who signed it under which measurement, and carries a short JSON
 * summary that listings show and the compliance rule reads.
 *
 * Reports are facts that were recorded: they are only ever added (schema
 * step 6), and "the latest" is the one added last. A report names an exact
 * version, never "the latest": a scan describes the bytes it read, and a
 * version uploaded meanwhile must not inherit its findings.
 */
#include "iam_int.h"

#include <string.h>

/* The columns read_row expects, in its order, and the joins they need. */
#define REPORT_SELECT                                                                                        \
	"SELECT r.id, d.name, v.version, r.kind, r.passed, r.summary, r.object_id, r.dek_id, r.kek, "        \
	"r.size, "                                                                                           \
	"r.sha256, r.signer, r.measurement, r.tee, r.created, r.created_by "                                 \
	"FROM reports r JOIN dataset_versions v ON v.id = r.version_id "                                     \
	"JOIN datasets d ON d.id = v.dataset_id "

static const char *const kinds[] = {"validate", "profile", "features"};

static bool is_kind(const char *s)
{
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (strcmp(s, kinds[i]) == 0)
			return true;
	return false;
}

static veil_status check_kind(const char *kind, size_t size, veil_err *err)
{
	if (strnlen(kind, size) < size && is_kind(kind))
		return VEIL_OK;
	return veil_err_set(err, VEIL_E_INVALID, "a report's kind must be validate, profile or features");
}

/* ---- reading rows ---- */

static veil_status read_row(veil_catalog *c, sqlite3_stmt *s, veil_report_record *r, veil_err *err)
{
	memset(r, 0, sizeof *r);
	veil_status st;
	if ((st = vcat_col_text(c, s, 1, r->dataset, sizeof r->dataset, false, "dataset name", err)) ||
	    (st = vcat_col_text(c, s, 3, r->kind, sizeof r->kind, false, "report kind", err)) ||
	    (st = vcat_col_text(c, s, 5, r->summary, sizeof r->summary, false, "report summary", err)) ||
	    (st = vcat_col_text(c, s, 6, r->object_id, sizeof r->object_id, false, "object id", err)) ||
	    (st = vcat_col_text(c, s, 7, r->dek_id, sizeof r->dek_id, false, "DEK id", err)) ||
	    (st = vcat_col_text(c, s, 8, r->kek, sizeof r->kek, false, "KEK name", err)) ||
	    (st = vcat_col_text(c, s, 10, r->sha256, sizeof r->sha256, false, "SHA-256", err)) ||
	    (st = vcat_col_text(c, s, 11, r->signer, sizeof r->signer, false, "signer key", err)) ||
	    (st = vcat_col_text(c, s, 12, r->measurement, sizeof r->measurement, false, "measurement",
	                        err)) ||
	    (st = vcat_col_text(c, s, 13, r->tee, sizeof r->tee, false, "TEE type", err)) ||
	    (st = vcat_col_text(c, s, 15, r->created_by, sizeof r->created_by, false, "creator", err)))
		return st;
	int64_t id = sqlite3_column_int64(s, 0), version = sqlite3_column_int64(s, 2);
	int64_t passed = sqlite3_column_int64(s, 4), size = sqlite3_column_int64(s, 9);
	/* The schema's checks keep these in range; a value outside was
	 * written around them, and is not passed on as if it were a verdict. */
	if (id < 1)
		return vcat_bad_stored(c, "report id", err);
	if (version < 1 || version > UINT32_MAX)
		return vcat_bad_stored(c, "version number", err);
	if (!is_kind(r->kind))
		return vcat_bad_stored(c, "report kind", err);
	if (passed < -1 || passed > 1)
		return vcat_bad_stored(c, "report verdict", err);
	if (size < 0)
		return vcat_bad_stored(c, "report size", err);
	if ((st = vcat_col_time(c, s, 14, &r->created, "report time", err)))
		return st;
	r->id = id;
	r->version = (uint32_t)version;
	r->passed = (int)passed;
	r->size = (uint64_t)size;
	return VEIL_OK;
}

/* ---- add ---- */

static veil_status check_new(veil_catalog *c, const veil_report_record *r, veil_err *err)
{
	veil_status st;
	if ((st = vcat_check_field(r->dataset, sizeof r->dataset, false, "dataset name", err)) ||
	    (st = check_kind(r->kind, sizeof r->kind, err)))
		return st;
	if (r->version == 0)
		return veil_err_set(err, VEIL_E_INVALID, "give the version of %s the report is about",
		                    r->dataset);
	if (r->passed < -1 || r->passed > 1)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "a report's verdict is 1 (passed), 0 (failed) or -1 (none)");
	if ((st = vcat_check_hex64(r->object_id, "the report's object id", err)) ||
	    (st = vcat_check_hex64(r->sha256, "the report's SHA-256", err)) ||
	    (st = vcat_check_hex64(r->signer, "the report's signer key", err)) ||
	    (st = vcat_check_text(r->dek_id, sizeof r->dek_id - 1, false, true, "DEK id", err)) ||
	    (st = vcat_check_text(r->kek, sizeof r->kek - 1, false, true, "KEK name", err)) ||
	    (st = vcat_check_text(r->created_by, sizeof r->created_by - 1, false, true, "creator", err)) ||
	    (st = vcat_check_field(r->tee, sizeof r->tee, false, "TEE type", err)) ||
	    (st = vcat_check_time(r->created, "the report time", err)))
		return st;
	if (!r->measurement[0])
		return veil_err_set(err, VEIL_E_INVALID,
		                    "a report needs the measurement of the worker that signed it");
	if ((st = vcat_check_ascii(r->measurement, sizeof r->measurement - 1, "measurement", err)))
		return st;
	if (r->size > INT64_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "report size %llu is too large",
		                    (unsigned long long)r->size);
	/* Shown in listings and read by the compliance rule. */
	return vcat_check_json_object(c, r->summary, VEIL_CATALOG_REPORT_SUMMARY_MAX, "report summary", err);
}

static veil_status insert(veil_catalog *c, int64_t vid, const veil_report_record *r, int64_t created,
                          int64_t *id, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st =
	        vcat_prepare(c,
	                     "INSERT INTO reports (version_id, kind, passed, summary, object_id, dek_id, "
	                     "kek, size, sha256, signer, measurement, tee, created, created_by) "
	                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
	                     &s, err);
	if (st)
		return st;
	if (!vcat_bind_int(s, 1, vid) || !vcat_bind_text(s, 2, r->kind) || !vcat_bind_int(s, 3, r->passed) ||
	    !vcat_bind_text(s, 4, r->summary) || !vcat_bind_text(s, 5, r->object_id) ||
	    !vcat_bind_text(s, 6, r->dek_id) || !vcat_bind_text(s, 7, r->kek) ||
	    !vcat_bind_int(s, 8, (int64_t)r->size) || !vcat_bind_text(s, 9, r->sha256) ||
	    !vcat_bind_text(s, 10, r->signer) || !vcat_bind_text(s, 11, r->measurement) ||
	    !vcat_bind_text(s, 12, r->tee) || !vcat_bind_int(s, 13, created) ||
	    !vcat_bind_text(s, 14, r->created_by))
		st = vcat_bind_failed(c, err);
	else
		st = vcat_exec(c, s, "cannot add a report", err);
	sqlite3_finalize(s);
	*id = st ? 0 : sqlite3_last_insert_rowid(c->db);
	return st;
}

veil_status veil_catalog_report_add(veil_catalog *c, veil_report_record *r, veil_err *err)
{
	veil_status st = check_new(c, r, err);
	if (st)
		return st;
	int64_t created = r->created ? r->created : veil_time_now();
	int64_t vid = 0, id = 0;
	bool own;
	if ((st = vcat_tx_begin(c, &own, err)))
		return st;
	st = vcat_version_id(c, r->dataset, r->version, true, &vid, NULL, err);
	if (!st)
		st = insert(c, vid, r, created, &id, err);
	if ((st = vcat_tx_end(c, own, st, err)))
		return st;
	r->id = id;
	r->created = created;
	return VEIL_OK;
}

/* ---- reads ---- */

/* Steps s (prepared and bound) for one row into out; none is
 * VEIL_E_NOTFOUND with *found false, for the caller to say what. */
static veil_status one_row(veil_catalog *c, sqlite3_stmt *s, veil_report_record *out, bool *found,
                           veil_err *err)
{
	*found = false;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*found = true;
		return read_row(c, s, out, err);
	}
	if (rc == SQLITE_DONE)
		return VEIL_E_NOTFOUND;
	return vcat_db_err(c, rc, "cannot read a report", err);
}

static veil_status latest_in(veil_catalog *c, int64_t vid, const char *kind, veil_report_record *out,
                             bool *found, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(
	        c,
	        REPORT_SELECT
	        "WHERE r.version_id = ?1 AND (?2 IS NULL OR r.kind = ?2) ORDER BY r.id DESC LIMIT 1",
	        &s, err);
	if (st)
		return st;
	if (!vcat_bind_int(s, 1, vid) || !vcat_bind_text(s, 2, kind))
		st = vcat_bind_failed(c, err);
	else
		st = one_row(c, s, out, found, err);
	sqlite3_finalize(s);
	return st;
}

veil_status veil_catalog_report_latest(veil_catalog *c, const char *name, uint32_t version, const char *kind,
                                       veil_report_record *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	veil_status st = vcat_check_name(name, "dataset name", err);
	if (st || (kind && (st = check_kind(kind, VEIL_CATALOG_REPORT_KIND_MAX, err))))
		return st;
	/* A deleted version named by number keeps its reports readable: they
	 * are part of its history, like its row. */
	int64_t vid = 0;
	uint32_t resolved = 0;
	bool found = false;
	if ((st = vcat_version_id(c, name, version, false, &vid, &resolved, err)))
		return st;
	st = latest_in(c, vid, kind, out, &found, err);
	if (st == VEIL_E_NOTFOUND && !found) {
		veil_err_set(err, VEIL_E_NOTFOUND, "%s@%u has no %s%sreport", name, resolved,
		             kind ? kind : "", kind ? " " : "");
		veil_err_hint(err,
		              "the trusted worker adds one when it validates or profiles %s@%u, or builds "
		              "features from it",
		              name, resolved);
	}
	if (st)
		memset(out, 0, sizeof *out);
	return st;
}

veil_status veil_catalog_report_get(veil_catalog *c, int64_t id, veil_report_record *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c, REPORT_SELECT "WHERE r.id = ?1", &s, err);
	if (st)
		return st;
	bool found = false;
	if (!vcat_bind_int(s, 1, id))
		st = vcat_bind_failed(c, err);
	else
		st = one_row(c, s, out, &found, err);
	sqlite3_finalize(s);
	if (st == VEIL_E_NOTFOUND && !found) {
		veil_err_set(err, VEIL_E_NOTFOUND, "no report with id %lld", (long long)id);
		veil_err_hint(err, "list a dataset's reports to see their ids");
	}
	if (st)
		memset(out, 0, sizeof *out);
	return st;
}

typedef struct list_ctx {
	veil_report_fn cb;
	void *ctx;
} list_ctx;

static veil_status list_row(veil_catalog *c, sqlite3_stmt *s, void *ctx, veil_err *err)
{
	list_ctx *x = ctx;
	veil_report_record r;
	veil_status st = read_row(c, s, &r, err);
	return st ? st : x->cb(x->ctx, &r, err);
}

veil_status veil_catalog_report_list(veil_catalog *c, const char *name, veil_report_fn cb, void *ctx,
                                     veil_err *err)
{
	veil_status st;
	if (name) {
		/* An unknown dataset is worth saying; one without reports is not
		 * an error. */
		bool found;
		if ((st = vcat_check_name(name, "dataset name", err)) ||
		    (st = vcat_exists(c, "SELECT 1 FROM datasets WHERE name = ?1", name, &found, err)))
			return st;
		if (!found)
			return vcat_missing("dataset", name, err);
	}
	sqlite3_stmt *s;
	if ((st = vcat_prepare(c,
	                       name ? REPORT_SELECT "WHERE d.name = ?1 ORDER BY r.id"
	                            : REPORT_SELECT "ORDER BY r.id",
	                       &s, err)))
		return st;
	list_ctx x = {cb, ctx};
	if (name && !vcat_bind_text(s, 1, name))
		st = vcat_bind_failed(c, err);
	else
		st = vcat_each_row(c, s, list_row, &x, "cannot list reports", err);
	sqlite3_finalize(s);
	return st;
}
