/*
 * Models and their numbered versions, shaped like datasets: a version is
 * an encrypted model file in the store, made by one training job, with a
 * JSON summary (architecture, metrics, privacy) and the (epsilon, delta)
 * it was trained under. Also the list of objects that training rows
 * refer to, which garbage collection needs. Schema step 7.
 *
 * Invariants kept here (docs/formats/catalog.md, "Invariants"):
 *  M1. A model exists only with at least one version: both are created in
 *      one transaction. Versions are 1, 2, ... and never reused.
 *  M2. Owner and compartment belong to the model: a version cannot change
 *      them. The model's classification is the highest of the data any
 *      of its versions was trained on, so it only rises.
 *  M3. A version never changes after it was added, except its state,
 *      which only goes live -> deleted.
 *  M4. A version was made by a job that exists (a foreign key) and was
 *      running or had succeeded when the version was added.
 */
#include "train_int.h"

#include <string.h>

#define ROW_SELECT                                                                                           \
	"SELECT m.name, mv.version, m.owner, m.compartment, m.classification, mv.size, mv.sha256, "          \
	"mv.object_id, mv.dek_id, mv.kek, mv.chunk_size, mv.job_id, mv.summary, mv.epsilon, mv.delta, "      \
	"mv.created, mv.created_by, mv.state, mv.id, mv.report_object_id, mv.report_dek_id, "                \
	"mv.report_size, mv.report_sha256 "                                                                  \
	"FROM model_versions mv JOIN models m ON m.id = mv.model_id "

/* In rising order: a class's index is its rank (as in dataset.c). */
static const char *const classes[] = {"public", "internal", "confidential", "restricted"};

static int class_rank(const char *s)
{
	for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
		if (strcmp(s, classes[i]) == 0)
			return (int)i;
	return -1;
}

static veil_status read_privacy(veil_catalog *c, sqlite3_stmt *s, veil_model_version *v, veil_err *err)
{
	bool eps_null = sqlite3_column_type(s, 13) == SQLITE_NULL;
	if (eps_null != (sqlite3_column_type(s, 14) == SQLITE_NULL))
		return vcat_bad_stored(c, "model privacy", err);
	if (eps_null)
		return VEIL_OK;
	double eps = sqlite3_column_double(s, 13), delta = sqlite3_column_double(s, 14);
	if (!vcat_real_ok(eps) || eps <= 0 || !vcat_real_ok(delta) || delta < 0 || delta >= 1)
		return vcat_bad_stored(c, "model privacy", err);
	v->dp = true;
	v->epsilon = eps;
	v->delta = delta;
	return VEIL_OK;
}

/* Columns 19..22 of a ROW_SELECT row: all NULL (no report kept) or all set. */
static veil_status read_report(veil_catalog *c, sqlite3_stmt *s, veil_sealed_ref *r, veil_err *err)
{
	int nulls = 0;
	for (int i = 19; i <= 22; i++)
		nulls += sqlite3_column_type(s, i) == SQLITE_NULL;
	if (nulls == 4)
		return VEIL_OK;
	if (nulls)
		return vcat_bad_stored(c, "model report", err);
	veil_status st;
	if ((st = vcat_col_text(c, s, 19, r->object_id, sizeof r->object_id, false, "report object id",
	                        err)) ||
	    (st = vcat_col_text(c, s, 20, r->dek_id, sizeof r->dek_id, false, "report DEK id", err)) ||
	    (st = vcat_col_text(c, s, 22, r->sha256, sizeof r->sha256, false, "report SHA-256", err)))
		return st;
	int64_t size = sqlite3_column_int64(s, 21);
	if (size < 1)
		return vcat_bad_stored(c, "report size", err);
	r->size = (uint64_t)size;
	r->present = true;
	return VEIL_OK;
}

/* Copies the current row of a ROW_SELECT query into v. */
static veil_status read_row(veil_catalog *c, sqlite3_stmt *s, veil_model_version *v, int64_t *mvid,
                            veil_err *err)
{
	memset(v, 0, sizeof *v);
	veil_status st;
	if ((st = vcat_col_text(c, s, 0, v->name, sizeof v->name, false, "model name", err)) ||
	    (st = vcat_col_text(c, s, 2, v->owner, sizeof v->owner, false, "owner", err)) ||
	    (st = vcat_col_text(c, s, 3, v->compartment, sizeof v->compartment, false, "compartment", err)) ||
	    (st = vcat_col_text(c, s, 4, v->classification, sizeof v->classification, false, "classification",
	                        err)) ||
	    (st = vcat_col_text(c, s, 6, v->sha256, sizeof v->sha256, false, "SHA-256", err)) ||
	    (st = vcat_col_text(c, s, 7, v->object_id, sizeof v->object_id, false, "object id", err)) ||
	    (st = vcat_col_text(c, s, 8, v->dek_id, sizeof v->dek_id, false, "DEK id", err)) ||
	    (st = vcat_col_text(c, s, 9, v->kek, sizeof v->kek, false, "KEK name", err)) ||
	    (st = vcat_col_text(c, s, 11, v->job_id, sizeof v->job_id, false, "job id", err)) ||
	    (st = vcat_col_text(c, s, 12, v->summary, sizeof v->summary, false, "model summary", err)) ||
	    (st = vcat_col_time(c, s, 15, &v->created, "model time", err)) ||
	    (st = vcat_col_text(c, s, 16, v->created_by, sizeof v->created_by, false, "creator", err)) ||
	    (st = vcat_col_text(c, s, 17, v->state, sizeof v->state, false, "state", err)))
		return st;
	int64_t version = sqlite3_column_int64(s, 1), size = sqlite3_column_int64(s, 5);
	int64_t chunk = sqlite3_column_int64(s, 10);
	if (version < 1 || version > UINT32_MAX)
		return vcat_bad_stored(c, "version number", err);
	if (size < 0)
		return vcat_bad_stored(c, "size", err);
	if (chunk < 1 || chunk > UINT32_MAX)
		return vcat_bad_stored(c, "chunk size", err);
	if (class_rank(v->classification) < 0)
		return vcat_bad_stored(c, "classification", err);
	v->version = (uint32_t)version;
	v->size = (uint64_t)size;
	v->chunk_size = (uint32_t)chunk;
	*mvid = sqlite3_column_int64(s, 18);
	if ((st = read_report(c, s, &v->report, err)))
		return st;
	return read_privacy(c, s, v, err);
}

static veil_status no_model(const char *name, veil_err *err)
{
	veil_err_set(err, VEIL_E_NOTFOUND, "no model named %s", name);
	veil_err_hint(err,
	              "check the spelling (model names are case-sensitive); `veil model list` shows them");
	return VEIL_E_NOTFOUND;
}

/* ---- add ---- */

static veil_status check_privacy(const veil_model_version *v, veil_err *err)
{
	if (!v->dp) {
		if (v->epsilon != 0 || v->delta != 0)
			return veil_err_set(
			        err, VEIL_E_INVALID,
			        "a model trained without differential privacy has no epsilon or delta");
		return VEIL_OK;
	}
	if (!vcat_real_ok(v->epsilon) || v->epsilon <= 0)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "a private model's epsilon must be a finite number > 0");
	if (!vcat_real_ok(v->delta) || v->delta < 0 || v->delta >= 1)
		return veil_err_set(err, VEIL_E_INVALID, "a private model's delta must be >= 0 and < 1");
	return VEIL_OK;
}

static veil_status check_new(veil_catalog *c, const veil_model_version *v, veil_err *err)
{
	veil_status st;
	if ((st = vcat_check_field(v->name, sizeof v->name, false, "model name", err)) ||
	    (st = vcat_check_field(v->owner, sizeof v->owner, true, "owner", err)) ||
	    (st = vcat_check_field(v->compartment, sizeof v->compartment, true, "compartment", err)))
		return st;
	if (strnlen(v->classification, sizeof v->classification) == sizeof v->classification ||
	    class_rank(v->classification) < 0) {
		veil_err_set(
		        err, VEIL_E_INVALID,
		        "give the classification of the data the model was trained on: public, internal, "
		        "confidential or restricted");
		return VEIL_E_INVALID;
	}
	if ((st = vcat_check_hex64(v->sha256, "the plaintext SHA-256", err)) ||
	    (st = vcat_check_hex64(v->object_id, "the object id", err)) ||
	    (st = vcat_check_text(v->dek_id, sizeof v->dek_id - 1, false, true, "DEK id", err)) ||
	    (st = vcat_check_text(v->kek, sizeof v->kek - 1, false, true, "KEK name", err)) ||
	    (st = vcat_check_text(v->created_by, sizeof v->created_by - 1, false, true, "creator", err)) ||
	    (st = vcat_check_time(v->created, "the model's creation time", err)))
		return st;
	if (strnlen(v->job_id, sizeof v->job_id) == sizeof v->job_id)
		return veil_err_set(err, VEIL_E_INVALID, "job id is not terminated");
	if ((st = vcat_check_job_id(v->job_id, err)))
		return st;
	if (v->size > INT64_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "model size %llu is too large",
		                    (unsigned long long)v->size);
	if (v->chunk_size == 0)
		return veil_err_set(err, VEIL_E_INVALID, "chunk size must not be 0");
	if ((st = check_privacy(v, err)))
		return st;
	return vcat_check_json_object(c, v->summary, VEIL_CATALOG_MODEL_SUMMARY_MAX, "model summary", err);
}

typedef struct model_row {
	int64_t id;
	char owner[VEIL_CATALOG_NAME_MAX];
	char compartment[VEIL_CATALOG_NAME_MAX];
	char classification[VEIL_CATALOG_CLASS_MAX];
} model_row;

static veil_status create_model(veil_catalog *c, const veil_model_version *v, int64_t now, model_row *m,
                                veil_err *err)
{
	const char *comp = v->compartment[0] ? v->compartment : VEIL_CATALOG_TENANCY;
	veil_status st = vcat_need_compartment(c, comp, err);
	if (st)
		return st;
	sqlite3_stmt *s;
	if ((st = vcat_prepare(c,
	                       "INSERT INTO models (name, owner, compartment, classification, created) "
	                       "VALUES (?1, ?2, ?3, ?4, ?5)",
	                       &s, err)))
		return st;
	if (!vcat_bind_text(s, 1, v->name) || !vcat_bind_text(s, 2, v->owner) ||
	    !vcat_bind_text(s, 3, comp) || !vcat_bind_text(s, 4, v->classification) ||
	    !vcat_bind_int(s, 5, now))
		st = vcat_bind_failed(c, err);
	else
		st = vcat_exec(c, s, "cannot add a model", err);
	sqlite3_finalize(s);
	if (st)
		return st;
	m->id = sqlite3_last_insert_rowid(c->db);
	memcpy(m->owner, v->owner, sizeof m->owner);
	memcpy(m->compartment, comp, strlen(comp) + 1);
	memcpy(m->classification, v->classification, sizeof m->classification);
	return VEIL_OK;
}

/* Finds the model, or creates it from v (M1). */
static veil_status find_or_create(veil_catalog *c, const veil_model_version *v, int64_t now, model_row *m,
                                  veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(
	        c, "SELECT id, owner, compartment, classification FROM models WHERE name = ?1", &s, err);
	if (st)
		return st;
	int rc = vcat_bind_text(s, 1, v->name) ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc == SQLITE_ROW) {
		m->id = sqlite3_column_int64(s, 0);
		if (!(st = vcat_col_text(c, s, 1, m->owner, sizeof m->owner, false, "owner", err)) &&
		    !(st = vcat_col_text(c, s, 2, m->compartment, sizeof m->compartment, false, "compartment",
		                         err)))
			st = vcat_col_text(c, s, 3, m->classification, sizeof m->classification, false,
			                   "classification", err);
		if (!st && class_rank(m->classification) < 0)
			st = vcat_bad_stored(c, "classification", err);
	} else if (rc != SQLITE_DONE) {
		st = vcat_db_err(c, rc, "cannot look up a model", err);
	}
	sqlite3_finalize(s);
	if (st || rc == SQLITE_ROW)
		return st;
	if (!v->owner[0])
		return veil_err_set(err, VEIL_E_INVALID, "model %s is new: give its owner", v->name);
	return create_model(c, v, now, m, err);
}

/* M2: the model's class becomes the higher of its own and this version's. */
static veil_status raise_class(veil_catalog *c, model_row *m, const char *cls, veil_err *err)
{
	if (class_rank(cls) <= class_rank(m->classification))
		return VEIL_OK;
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c, "UPDATE models SET classification = ?2 WHERE id = ?1", &s, err);
	if (st)
		return st;
	if (!vcat_bind_int(s, 1, m->id) || !vcat_bind_text(s, 2, cls))
		st = vcat_bind_failed(c, err);
	else
		st = vcat_exec(c, s, "cannot raise a model's classification", err);
	sqlite3_finalize(s);
	if (!st)
		memcpy(m->classification, cls, strlen(cls) + 1);
	return st;
}

static veil_status next_version(veil_catalog *c, int64_t model_id, uint32_t *next, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(
	        c, "SELECT coalesce(max(version), 0) FROM model_versions WHERE model_id = ?1", &s, err);
	if (st)
		return st;
	int rc = vcat_bind_int(s, 1, model_id) ? sqlite3_step(s) : SQLITE_NOMEM;
	int64_t max = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return vcat_db_err(c, rc, "cannot number a new model version", err);
	if (max < 0 || max >= UINT32_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "the model has no version numbers left");
	*next = (uint32_t)max + 1;
	return VEIL_OK;
}

static bool bind_real_or_null(sqlite3_stmt *s, int idx, bool set, double x)
{
	return (set ? sqlite3_bind_double(s, idx, x) : sqlite3_bind_null(s, idx)) == SQLITE_OK;
}

static bool bind_report(sqlite3_stmt *s, const veil_sealed_ref *r)
{
	if (!r->present) {
		for (int i = 15; i <= 18; i++)
			if (sqlite3_bind_null(s, i) != SQLITE_OK)
				return false;
		return true;
	}
	return vcat_bind_text(s, 15, r->object_id) && vcat_bind_text(s, 16, r->dek_id) &&
	       vcat_bind_int(s, 17, (int64_t)r->size) && vcat_bind_text(s, 18, r->sha256);
}

static veil_status insert_version(veil_catalog *c, int64_t model_id, const veil_model_version *v,
                                  uint32_t version, int64_t created, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st =
	        vcat_prepare(c,
	                     "INSERT INTO model_versions (model_id, version, size, sha256, object_id, "
	                     "dek_id, kek, chunk_size, job_id, summary, epsilon, delta, created, "
	                     "created_by, state, report_object_id, report_dek_id, report_size, "
	                     "report_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
	                     "?12, ?13, ?14, 'live', ?15, ?16, ?17, ?18)",
	                     &s, err);
	if (st)
		return st;
	if (!vcat_bind_int(s, 1, model_id) || !vcat_bind_int(s, 2, version) ||
	    !vcat_bind_int(s, 3, (int64_t)v->size) || !vcat_bind_text(s, 4, v->sha256) ||
	    !vcat_bind_text(s, 5, v->object_id) || !vcat_bind_text(s, 6, v->dek_id) ||
	    !vcat_bind_text(s, 7, v->kek) || !vcat_bind_int(s, 8, v->chunk_size) ||
	    !vcat_bind_text(s, 9, v->job_id) || !vcat_bind_text(s, 10, v->summary) ||
	    !bind_real_or_null(s, 11, v->dp, v->epsilon) || !bind_real_or_null(s, 12, v->dp, v->delta) ||
	    !vcat_bind_int(s, 13, created) || !vcat_bind_text(s, 14, v->created_by) ||
	    !bind_report(s, &v->report))
		st = vcat_bind_failed(c, err);
	else
		st = vcat_exec(c, s, "cannot add a model version", err);
	sqlite3_finalize(s);
	return st;
}

static veil_status add_in_tx(veil_catalog *c, const veil_model_version *v, int64_t created, model_row *m,
                             uint32_t *version, veil_err *err)
{
	char state[VEIL_CATALOG_JOB_STATE_MAX];
	veil_status st = vcat_job_state(c, v->job_id, state, err);
	if (st)
		return st;
	if (strcmp(state, "running") != 0 && strcmp(state, "succeeded") != 0)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "job %s is %s; only a running or succeeded job makes a model", v->job_id,
		                    state);
	if ((st = find_or_create(c, v, created, m, err)))
		return st;
	if ((v->owner[0] && strcmp(v->owner, m->owner) != 0) ||
	    (v->compartment[0] && strcmp(v->compartment, m->compartment) != 0)) {
		veil_err_set(err, VEIL_E_INVALID,
		             "model %s belongs to %s in compartment %s; a new version cannot change that",
		             v->name, m->owner, m->compartment);
		veil_err_hint(err, "leave owner and compartment empty to keep the model's");
		return VEIL_E_INVALID;
	}
	if ((st = raise_class(c, m, v->classification, err)) || (st = next_version(c, m->id, version, err)))
		return st;
	return insert_version(c, m->id, v, *version, created, err);
}

veil_status veil_catalog_model_add_version(veil_catalog *c, veil_model_version *v, veil_err *err)
{
	veil_status st = check_new(c, v, err);
	if (st)
		return st;
	int64_t created = v->created ? v->created : veil_time_now();
	model_row m;
	memset(&m, 0, sizeof m);
	uint32_t version = 0;
	bool own;
	if ((st = vcat_tx_begin(c, &own, err)))
		return st;
	st = add_in_tx(c, v, created, &m, &version, err);
	if ((st = vcat_tx_end(c, own, st, err)))
		return st;
	v->version = version;
	v->created = created;
	memcpy(v->owner, m.owner, sizeof v->owner);
	memcpy(v->compartment, m.compartment, sizeof v->compartment);
	memcpy(v->classification, m.classification, sizeof v->classification);
	memcpy(v->state, "live", sizeof "live");
	return VEIL_OK;
}

/* ---- reads ---- */

/* The row for (name, version), version 0 meaning the latest live one. */
static veil_status find_version(veil_catalog *c, const char *name, uint32_t version, veil_model_version *out,
                                int64_t *mvid, bool *found, veil_err *err)
{
	*found = false;
	sqlite3_stmt *s;
	const char *sql = version ? ROW_SELECT "WHERE m.name = ?1 AND mv.version = ?2"
	                          : ROW_SELECT
	                          "WHERE m.name = ?1 AND mv.state = 'live' ORDER BY mv.version DESC LIMIT 1";
	veil_status st = vcat_prepare(c, sql, &s, err);
	if (st)
		return st;
	bool bound = vcat_bind_text(s, 1, name) && (!version || vcat_bind_int(s, 2, version));
	int rc = bound ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc == SQLITE_ROW) {
		*found = true;
		st = read_row(c, s, out, mvid, err);
	} else if (rc != SQLITE_DONE) {
		st = vcat_db_err(c, rc, "cannot look up a model version", err);
	}
	sqlite3_finalize(s);
	return st;
}

/* Says what does exist when name@version does not. */
static veil_status no_version(veil_catalog *c, const char *name, uint32_t version, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c,
	                              "SELECT max(mv.version) FROM model_versions mv JOIN models m "
	                              "ON m.id = mv.model_id WHERE m.name = ?1",
	                              &s, err);
	if (st)
		return st;
	int rc = vcat_bind_text(s, 1, name) ? sqlite3_step(s) : SQLITE_NOMEM;
	bool none = rc == SQLITE_ROW && sqlite3_column_type(s, 0) == SQLITE_NULL;
	int64_t latest = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return vcat_db_err(c, rc, "cannot look up a model", err);
	if (none)
		return no_model(name, err);
	if (version == 0)
		return veil_err_set(err, VEIL_E_NOTFOUND,
		                    "model %s has no live version (all %lld were deleted)", name,
		                    (long long)latest);
	veil_err_set(err, VEIL_E_NOTFOUND, "model %s has no version %u (latest is %lld)", name, version,
	             (long long)latest);
	veil_err_hint(err, "write %s@N with N from 1 to %lld, or just %s for the latest", name,
	              (long long)latest, name);
	return VEIL_E_NOTFOUND;
}

veil_status veil_catalog_model_get(veil_catalog *c, const char *name, uint32_t version,
                                   veil_model_version *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	veil_status st = vcat_check_name(name, "model name", err);
	if (st)
		return st;
	int64_t mvid = 0;
	bool found = false;
	if ((st = find_version(c, name, version, out, &mvid, &found, err)))
		goto fail;
	if (!found) {
		st = no_version(c, name, version, err);
		goto fail;
	}
	if (strcmp(out->state, "live") != 0) {
		st = veil_err_set(err, VEIL_E_NOTFOUND, "version %u of model %s was deleted", version, name);
		goto fail;
	}
	return VEIL_OK;
fail:
	memset(out, 0, sizeof *out);
	return st;
}

typedef struct list_ctx {
	veil_model_fn cb;
	void *ctx;
	size_t rows;
} list_ctx;

static veil_status list_row(veil_catalog *c, sqlite3_stmt *s, void *ctx, veil_err *err)
{
	list_ctx *x = ctx;
	veil_model_version v;
	int64_t mvid;
	x->rows++;
	veil_status st = read_row(c, s, &v, &mvid, err);
	return st ? st : x->cb(x->ctx, &v, err);
}

veil_status veil_catalog_model_list(veil_catalog *c, veil_model_fn cb, void *ctx, veil_err *err)
{
	sqlite3_stmt *s;
	/* Per model: the newest live version, else the newest one. */
	veil_status st = vcat_prepare(c,
	                              ROW_SELECT "WHERE mv.id = (SELECT x.id FROM model_versions x "
	                                         "WHERE x.model_id = m.id ORDER BY x.state = 'live' DESC, "
	                                         "x.version DESC LIMIT 1) ORDER BY m.name",
	                              &s, err);
	if (st)
		return st;
	list_ctx x = {cb, ctx, 0};
	st = vcat_each_row(c, s, list_row, &x, "cannot list models", err);
	sqlite3_finalize(s);
	return st;
}

veil_status veil_catalog_model_versions(veil_catalog *c, const char *name, veil_model_fn cb, void *ctx,
                                        veil_err *err)
{
	veil_status st = vcat_check_name(name, "model name", err);
	if (st)
		return st;
	sqlite3_stmt *s;
	if ((st = vcat_prepare(c, ROW_SELECT "WHERE m.name = ?1 ORDER BY mv.version", &s, err)))
		return st;
	list_ctx x = {cb, ctx, 0};
	if (!vcat_bind_text(s, 1, name))
		st = vcat_bind_failed(c, err);
	else
		st = vcat_each_row(c, s, list_row, &x, "cannot list model versions", err);
	sqlite3_finalize(s);
	if (!st && x.rows == 0)
		st = no_model(name, err);
	return st;
}

static veil_status mark_in_tx(veil_catalog *c, const char *name, uint32_t version, veil_err *err)
{
	veil_model_version v;
	int64_t mvid = 0;
	bool found = false;
	veil_status st = find_version(c, name, version, &v, &mvid, &found, err);
	if (st)
		return st;
	if (!found)
		return no_version(c, name, version, err);
	sqlite3_stmt *s;
	if ((st = vcat_prepare(c, "UPDATE model_versions SET state = 'deleted' WHERE id = ?1", &s, err)))
		return st;
	if (!vcat_bind_int(s, 1, mvid))
		st = vcat_bind_failed(c, err);
	else
		st = vcat_exec(c, s, "cannot mark a model version deleted", err);
	sqlite3_finalize(s);
	return st;
}

veil_status veil_catalog_model_mark_deleted(veil_catalog *c, const char *name, uint32_t version,
                                            veil_err *err)
{
	veil_status st = vcat_check_name(name, "model name", err);
	if (st)
		return st;
	if (version == 0)
		return veil_err_set(err, VEIL_E_INVALID, "give the version of %s to delete (name@N)", name);
	bool own;
	if ((st = vcat_tx_begin(c, &own, err)))
		return st;
	st = mark_in_tx(c, name, version, err);
	return vcat_tx_end(c, own, st, err);
}

/* ---- objects for garbage collection ---- */

typedef struct object_ctx {
	veil_training_object_fn cb;
	void *ctx;
	const char *kind;
} object_ctx;

/* A row of (ref, object_id, dek_id, live). */
static veil_status object_row(veil_catalog *c, sqlite3_stmt *s, void *ctx, veil_err *err)
{
	object_ctx *x = ctx;
	veil_training_object o;
	memset(&o, 0, sizeof o);
	memcpy(o.kind, x->kind, strlen(x->kind) + 1);
	veil_status st;
	if ((st = vcat_col_text(c, s, 0, o.ref, sizeof o.ref, false, "object owner", err)) ||
	    (st = vcat_col_text(c, s, 1, o.object_id, sizeof o.object_id, false, "object id", err)) ||
	    (st = vcat_col_text(c, s, 2, o.dek_id, sizeof o.dek_id, false, "DEK id", err)))
		return st;
	o.live = sqlite3_column_int64(s, 3) != 0;
	return x->cb(x->ctx, &o, err);
}

static veil_status objects_of(veil_catalog *c, const char *sql, const char *kind, veil_training_object_fn cb,
                              void *ctx, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c, sql, &s, err);
	if (st)
		return st;
	object_ctx x = {cb, ctx, kind};
	st = vcat_each_row(c, s, object_row, &x, "cannot list training objects", err);
	sqlite3_finalize(s);
	return st;
}

veil_status veil_catalog_training_objects(veil_catalog *c, veil_training_object_fn cb, void *ctx,
                                          veil_err *err)
{
	veil_status st =
	        objects_of(c,
	                   "SELECT m.name || '@' || mv.version, mv.object_id, mv.dek_id, mv.state = 'live' "
	                   "FROM model_versions mv JOIN models m ON m.id = mv.model_id "
	                   "ORDER BY m.name, mv.version",
	                   "model_version", cb, ctx, err);
	if (!st)
		st = objects_of(
		        c,
		        "SELECT m.name || '@' || mv.version, mv.report_object_id, mv.report_dek_id, "
		        "mv.state = 'live' FROM model_versions mv JOIN models m ON m.id = mv.model_id "
		        "WHERE mv.report_object_id IS NOT NULL ORDER BY m.name, mv.version",
		        "model_report", cb, ctx, err);
	if (st)
		return st;
	return objects_of(c,
	                  "SELECT id, ckpt_object_id, ckpt_dek_id, state <> 'succeeded' FROM jobs "
	                  "WHERE ckpt_object_id IS NOT NULL ORDER BY id",
	                  "checkpoint", cb, ctx, err);
}
