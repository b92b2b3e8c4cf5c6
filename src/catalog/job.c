/*
 * Training jobs: one row per run of a job file, with its state, progress,
 * last checkpoint and, once it made one, its model; and each job's metric
 * series (job_metrics). Schema step 7.
 *
 * Invariants kept here (docs/formats/catalog.md, "Invariants"):
 *  J1. A job moves only along the transitions of catalog.h's table; the
 *      move is read and written under the write lock, so two processes
 *      cannot both start the same job.
 *  J2. finished is 0 exactly while the job is queued or running, and the
 *      error text is empty unless the job failed or was interrupted (the
 *      schema's CHECKs say the same).
 *  J3. A job's spec is the job file's text as submitted, never changed;
 *      its SHA-256 is checked on every read, so a resumed job runs the
 *      settings it was submitted with or is refused.
 *  J4. A training job's model was made by that job (set_model checks the
 *      model version's job id; the integrity check looks again); an eval
 *      job's model is the version it evaluated.
 *  J5. A job has at most VEIL_CATALOG_METRICS_MAX metric points, numbered
 *      1, 2, ... (the schema bounds seq), added in whole batches.
 */
#include "train_int.h"

#include "veil/crypto.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const kinds[] = {"train", "tune", "eval"};
static const char *const states[] = {"queued", "running", "succeeded", "failed", "interrupted"};

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

static bool is_kind(const char *s)
{
	return in_list(s, kinds, sizeof kinds / sizeof kinds[0]);
}

static bool is_state(const char *s)
{
	return in_list(s, states, sizeof states / sizeof states[0]);
}

/* J1: the moves catalog.h allows. */
static bool may_move(const char *from, const char *to)
{
	if (strcmp(from, "queued") == 0)
		return strcmp(to, "running") == 0 || strcmp(to, "failed") == 0;
	if (strcmp(from, "running") == 0)
		return strcmp(to, "succeeded") == 0 || strcmp(to, "failed") == 0 ||
		       strcmp(to, "interrupted") == 0;
	if (strcmp(from, "interrupted") == 0 || strcmp(from, "failed") == 0)
		return strcmp(to, "running") == 0;
	return false;
}

static bool is_final_or_stopped(const char *state)
{
	return strcmp(state, "succeeded") == 0 || strcmp(state, "failed") == 0 ||
	       strcmp(state, "interrupted") == 0;
}

/* ---- shared with model.c and budget.c (train_int.h) ---- */

bool vcat_real_ok(double x)
{
	return !isnan(x) && fabs(x) < VCAT_REAL_MAX;
}

veil_status vcat_check_job_id(const char *id, veil_err *err)
{
	if (!id)
		return veil_err_set(err, VEIL_E_INVALID, "no job id given");
	size_t n = strnlen(id, VEIL_CATALOG_JOB_ID_MAX);
	bool ok = n == VEIL_CATALOG_JOB_ID_MAX - 1 && id[0] == 'j' && id[1] == '-';
	for (size_t i = 2; ok && i < n; i++)
		ok = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f');
	if (ok)
		return VEIL_OK;
	veil_err_set(err, VEIL_E_INVALID, "'%.40s' is not a job id", id);
	veil_err_hint(err, "a job id is j- and 16 lowercase hex digits; `veil job list` shows them");
	return VEIL_E_INVALID;
}

static veil_status no_job(const char *id, veil_err *err)
{
	veil_err_set(err, VEIL_E_NOTFOUND, "no job with id %s", id);
	veil_err_hint(err, "`veil job list` shows the jobs of this workspace");
	return VEIL_E_NOTFOUND;
}

veil_status vcat_job_state(veil_catalog *c, const char *id, char state[VEIL_CATALOG_JOB_STATE_MAX],
                           veil_err *err)
{
	state[0] = '\0';
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c, "SELECT state FROM jobs WHERE id = ?1", &s, err);
	if (st)
		return st;
	int rc = vcat_bind_text(s, 1, id) ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc == SQLITE_ROW)
		st = vcat_col_text(c, s, 0, state, VEIL_CATALOG_JOB_STATE_MAX, false, "job state", err);
	else if (rc == SQLITE_DONE)
		st = no_job(id, err);
	else
		st = vcat_db_err(c, rc, "cannot look up a job", err);
	sqlite3_finalize(s);
	if (!st && !is_state(state))
		st = vcat_bad_stored(c, "job state", err);
	return st;
}

/* ---- reading rows ---- */

/* The columns read_row expects, in its order, and the joins they need. */
#define JOB_COLUMNS                                                                                          \
	"SELECT j.id, j.kind, j.name, j.state, j.job_sha256, j.created_by, j.created, j.updated, "           \
	"j.finished, j.error, m.name, mv.version, j.ckpt_object_id, j.ckpt_dek_id, j.ckpt_kek, "             \
	"j.ckpt_size, j.ckpt_sha256, j.ckpt_step, j.epoch, j.step, j.steps_total, j.epsilon_spent"
#define JOB_FROM                                                                                             \
	" FROM jobs j LEFT JOIN model_versions mv ON mv.id = j.model_version_id "                            \
	"LEFT JOIN models m ON m.id = mv.model_id "

static veil_status read_checkpoint(veil_catalog *c, sqlite3_stmt *s, veil_job_checkpoint *k, veil_err *err)
{
	memset(k, 0, sizeof *k);
	if (sqlite3_column_type(s, 12) == SQLITE_NULL)
		return VEIL_OK;
	veil_status st;
	if ((st = vcat_col_text(c, s, 12, k->object_id, sizeof k->object_id, false, "checkpoint object id",
	                        err)) ||
	    (st = vcat_col_text(c, s, 13, k->dek_id, sizeof k->dek_id, false, "checkpoint DEK id", err)) ||
	    (st = vcat_col_text(c, s, 14, k->kek, sizeof k->kek, false, "checkpoint KEK name", err)) ||
	    (st = vcat_col_text(c, s, 16, k->sha256, sizeof k->sha256, false, "checkpoint SHA-256", err)))
		return st;
	int64_t size = sqlite3_column_int64(s, 15), step = sqlite3_column_int64(s, 17);
	if (size < 0 || step < 0)
		return vcat_bad_stored(c, "checkpoint size or step", err);
	k->size = (uint64_t)size;
	k->step = (uint64_t)step;
	k->present = true;
	return VEIL_OK;
}

static veil_status read_progress(veil_catalog *c, sqlite3_stmt *s, veil_job_record *j, veil_err *err)
{
	int64_t epoch = sqlite3_column_int64(s, 18), step = sqlite3_column_int64(s, 19);
	int64_t total = sqlite3_column_int64(s, 20);
	double eps = sqlite3_column_double(s, 21);
	if (epoch < 0 || epoch > UINT32_MAX || step < 0 || total < 0)
		return vcat_bad_stored(c, "job progress", err);
	if (sqlite3_column_type(s, 21) == SQLITE_NULL || !vcat_real_ok(eps) || eps < 0)
		return vcat_bad_stored(c, "job epsilon", err);
	j->epoch = (uint32_t)epoch;
	j->step = (uint64_t)step;
	j->steps_total = (uint64_t)total;
	j->epsilon_spent = eps;
	return VEIL_OK;
}

/* Copies the current row of a JOB_COLUMNS query into j (spec not loaded). */
static veil_status read_row(veil_catalog *c, sqlite3_stmt *s, veil_job_record *j, veil_err *err)
{
	memset(j, 0, sizeof *j);
	veil_status st;
	if ((st = vcat_col_text(c, s, 0, j->id, sizeof j->id, false, "job id", err)) ||
	    (st = vcat_col_text(c, s, 1, j->kind, sizeof j->kind, false, "job kind", err)) ||
	    (st = vcat_col_text(c, s, 2, j->name, sizeof j->name, false, "job name", err)) ||
	    (st = vcat_col_text(c, s, 3, j->state, sizeof j->state, false, "job state", err)) ||
	    (st = vcat_col_text(c, s, 4, j->job_sha256, sizeof j->job_sha256, false, "job SHA-256", err)) ||
	    (st = vcat_col_text(c, s, 5, j->created_by, sizeof j->created_by, false, "creator", err)) ||
	    (st = vcat_col_time(c, s, 6, &j->created, "job time", err)) ||
	    (st = vcat_col_time(c, s, 7, &j->updated, "job time", err)) ||
	    (st = vcat_col_time(c, s, 8, &j->finished, "job time", err)) ||
	    (st = vcat_col_text(c, s, 9, j->error, sizeof j->error, false, "job error", err)) ||
	    (st = vcat_col_text(c, s, 10, j->model, sizeof j->model, true, "model name", err)))
		return st;
	if (!is_kind(j->kind))
		return vcat_bad_stored(c, "job kind", err);
	if (!is_state(j->state))
		return vcat_bad_stored(c, "job state", err);
	if (j->model[0]) {
		int64_t v = sqlite3_column_int64(s, 11);
		if (v < 1 || v > UINT32_MAX)
			return vcat_bad_stored(c, "model version", err);
		j->model_version = (uint32_t)v;
	}
	if ((st = read_checkpoint(c, s, &j->checkpoint, err)))
		return st;
	return read_progress(c, s, j, err);
}

static veil_status text_sha256(const char *text, size_t len, char hex[VEIL_CATALOG_HEX_MAX], veil_err *err)
{
	uint8_t md[VEIL_SHA256_LEN];
	veil_status st = veil_sha256(text, len, md, err);
	if (!st)
		veil_hex_encode(md, sizeof md, hex);
	return st;
}

/* Copies the spec in column col into j (allocated) and checks it against
 * j->job_sha256 (J3). */
static veil_status read_spec(veil_catalog *c, sqlite3_stmt *s, int col, veil_job_record *j, veil_err *err)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	size_t n = (size_t)sqlite3_column_bytes(s, col);
	if (!t || n == 0 || n > VEIL_CATALOG_JOB_SPEC_MAX || memchr(t, '\0', n))
		return vcat_bad_stored(c, "job file text", err);
	if (!(j->spec = malloc(n + 1)))
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory reading a job");
	memcpy(j->spec, t, n);
	j->spec[n] = '\0';
	j->spec_len = n;
	char hex[VEIL_CATALOG_HEX_MAX];
	veil_status st = text_sha256(j->spec, n, hex, err);
	if (st)
		return st;
	if (strcmp(hex, j->job_sha256) != 0) {
		veil_err_set(err, VEIL_E_CORRUPT,
		             "catalog %s: the job file of job %s does not match its SHA-256", c->path, j->id);
		veil_err_hint(err,
		              "the catalog was changed outside veil; restore catalog.db from a backup, or "
		              "submit the job again");
		return VEIL_E_CORRUPT;
	}
	return VEIL_OK;
}

/* ---- add ---- */

static veil_status check_spec(const char *spec, size_t len, veil_err *err)
{
	if (!spec || len == 0)
		return veil_err_set(err, VEIL_E_INVALID, "a job needs the text of its job file");
	if (len > VEIL_CATALOG_JOB_SPEC_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "the job file is %zu bytes; at most %u are kept", len,
		                    VEIL_CATALOG_JOB_SPEC_MAX);
	const char *nul = memchr(spec, '\0', len);
	if (nul)
		return veil_err_set(err, VEIL_E_INVALID, "the job file has a NUL byte at offset %zu",
		                    (size_t)(nul - spec));
	size_t bad = 0;
	if (!veil_utf8_valid((const uint8_t *)spec, len, &bad))
		return veil_err_set(err, VEIL_E_INVALID, "the job file is not UTF-8 (byte %zu)", bad + 1);
	return VEIL_OK;
}

static veil_status check_new(const veil_job_record *j, char hex[VEIL_CATALOG_HEX_MAX], veil_err *err)
{
	veil_status st;
	if (strnlen(j->id, sizeof j->id) == sizeof j->id)
		return veil_err_set(err, VEIL_E_INVALID, "job id is not terminated");
	if (j->id[0] && (st = vcat_check_job_id(j->id, err)))
		return st;
	if (strnlen(j->kind, sizeof j->kind) == sizeof j->kind || !is_kind(j->kind))
		return veil_err_set(err, VEIL_E_INVALID, "a job's kind must be train, tune or eval");
	if ((st = vcat_check_field(j->name, sizeof j->name, false, "job name", err)) ||
	    (st = vcat_check_field(j->created_by, sizeof j->created_by, false, "creator", err)) ||
	    (st = vcat_check_time(j->created, "the job's creation time", err)) ||
	    (st = check_spec(j->spec, j->spec_len, err)) ||
	    (st = text_sha256(j->spec, j->spec_len, hex, err)))
		return st;
	if (strnlen(j->job_sha256, sizeof j->job_sha256) == sizeof j->job_sha256)
		return veil_err_set(err, VEIL_E_INVALID, "the job file's SHA-256 is not terminated");
	if (j->job_sha256[0] && strcmp(j->job_sha256, hex) != 0)
		return veil_err_set(err, VEIL_E_INVALID, "the job file's SHA-256 is not that of its text");
	return VEIL_OK;
}

static veil_status fresh_id(char id[VEIL_CATALOG_JOB_ID_MAX], veil_err *err)
{
	uint8_t r[8];
	veil_status st = veil_random(r, sizeof r, err);
	if (st)
		return st;
	id[0] = 'j';
	id[1] = '-';
	veil_hex_encode(r, sizeof r, id + 2);
	return VEIL_OK;
}

static veil_status insert(veil_catalog *c, const veil_job_record *j, const char *id, const char *hex,
                          int64_t created, veil_err *err)
{
	bool taken = false;
	veil_status st = vcat_exists(c, "SELECT 1 FROM jobs WHERE id = ?1", id, &taken, err);
	if (st)
		return st;
	if (taken)
		return veil_err_set(err, VEIL_E_EXISTS, "a job with id %s already exists", id);
	sqlite3_stmt *s;
	if ((st = vcat_prepare(
	             c,
	             "INSERT INTO jobs (id, kind, name, state, job_sha256, spec, created_by, created, "
	             "updated) VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6, ?7, ?7)",
	             &s, err)))
		return st;
	if (!vcat_bind_text(s, 1, id) || !vcat_bind_text(s, 2, j->kind) || !vcat_bind_text(s, 3, j->name) ||
	    !vcat_bind_text(s, 4, hex) ||
	    sqlite3_bind_text(s, 5, j->spec, (int)j->spec_len, SQLITE_TRANSIENT) != SQLITE_OK ||
	    !vcat_bind_text(s, 6, j->created_by) || !vcat_bind_int(s, 7, created))
		st = vcat_bind_failed(c, err);
	else
		st = vcat_exec(c, s, "cannot add a job", err);
	sqlite3_finalize(s);
	return st;
}

veil_status veil_catalog_job_add(veil_catalog *c, veil_job_record *j, veil_err *err)
{
	char hex[VEIL_CATALOG_HEX_MAX];
	veil_status st = check_new(j, hex, err);
	if (st)
		return st;
	int64_t created = j->created ? j->created : veil_time_now();
	char id[VEIL_CATALOG_JOB_ID_MAX];
	bool own;
	if ((st = vcat_tx_begin(c, &own, err)))
		return st;
	/* A made id collides with one of 2^64 others only by accident; try
	 * again rather than report that to the user. */
	for (int tries = 0; tries < 4; tries++) {
		if (j->id[0])
			memcpy(id, j->id, sizeof id);
		else if ((st = fresh_id(id, err)))
			break;
		st = insert(c, j, id, hex, created, err);
		if (st != VEIL_E_EXISTS || j->id[0])
			break;
	}
	if ((st = vcat_tx_end(c, own, st, err)))
		return st;
	char *spec = j->spec;
	size_t len = j->spec_len;
	veil_job_record out;
	memset(&out, 0, sizeof out);
	memcpy(out.id, id, sizeof out.id);
	memcpy(out.kind, j->kind, sizeof out.kind);
	memcpy(out.name, j->name, sizeof out.name);
	memcpy(out.state, "queued", sizeof "queued");
	memcpy(out.job_sha256, hex, sizeof out.job_sha256);
	memcpy(out.created_by, j->created_by, sizeof out.created_by);
	out.spec = spec;
	out.spec_len = len;
	out.created = out.updated = created;
	*j = out;
	return VEIL_OK;
}

/* ---- reads ---- */

veil_status veil_catalog_job_get(veil_catalog *c, const char *id, veil_job_record *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	veil_status st = vcat_check_job_id(id, err);
	if (st)
		return st;
	sqlite3_stmt *s;
	if ((st = vcat_prepare(c, JOB_COLUMNS ", j.spec" JOB_FROM "WHERE j.id = ?1", &s, err)))
		return st;
	int rc = vcat_bind_text(s, 1, id) ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc == SQLITE_ROW) {
		if (!(st = read_row(c, s, out, err)))
			st = read_spec(c, s, 22, out, err);
	} else if (rc == SQLITE_DONE) {
		st = no_job(id, err);
	} else {
		st = vcat_db_err(c, rc, "cannot look up a job", err);
	}
	sqlite3_finalize(s);
	if (st)
		veil_job_record_free(out);
	return st;
}

typedef struct job_list_ctx {
	veil_job_record_fn cb;
	void *ctx;
} job_list_ctx;

static veil_status list_row(veil_catalog *c, sqlite3_stmt *s, void *ctx, veil_err *err)
{
	job_list_ctx *x = ctx;
	veil_job_record j;
	veil_status st = read_row(c, s, &j, err);
	return st ? st : x->cb(x->ctx, &j, err);
}

veil_status veil_catalog_job_list(veil_catalog *c, const char *state, veil_job_record_fn cb, void *ctx,
                                  veil_err *err)
{
	if (state &&
	    (strnlen(state, VEIL_CATALOG_JOB_STATE_MAX) == VEIL_CATALOG_JOB_STATE_MAX || !is_state(state)))
		return veil_err_set(err, VEIL_E_INVALID,
		                    "a job's state is queued, running, succeeded, failed or interrupted");
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(
	        c,
	        JOB_COLUMNS JOB_FROM "WHERE ?1 IS NULL OR j.state = ?1 ORDER BY j.created DESC, j.rowid DESC",
	        &s, err);
	if (st)
		return st;
	job_list_ctx x = {cb, ctx};
	if (!vcat_bind_text(s, 1, state))
		st = vcat_bind_failed(c, err);
	else
		st = vcat_each_row(c, s, list_row, &x, "cannot list jobs", err);
	sqlite3_finalize(s);
	return st;
}

void veil_job_record_free(veil_job_record *j)
{
	if (!j)
		return;
	free(j->spec);
	memset(j, 0, sizeof *j);
}

/* ---- state, checkpoint, progress, model ---- */

/* Binds the parameters after ?1 of an UPDATE from arg; false when binding
 * failed. */
typedef bool (*bind_fn)(sqlite3_stmt *s, const void *arg);

/* Runs sql, a constant UPDATE of the job ?1 = id whose other parameters
 * bind() binds from arg. */

static veil_status update_job(veil_catalog *c, const char *sql, const char *id, bind_fn bind, const void *arg,
                              const char *what, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c, sql, &s, err);
	if (st)
		return st;
	if (!vcat_bind_text(s, 1, id) || !bind(s, arg))
		st = vcat_bind_failed(c, err);
	else
		st = vcat_exec(c, s, what, err);
	sqlite3_finalize(s);
	return st;
}

typedef struct state_args {
	const char *state, *error;
	int64_t now;
	bool finished;
} state_args;

static bool bind_state(sqlite3_stmt *s, const void *arg)
{
	const state_args *a = arg;
	return vcat_bind_text(s, 2, a->state) && vcat_bind_text(s, 3, a->error) &&
	       vcat_bind_int(s, 4, a->now) && vcat_bind_int(s, 5, a->finished);
}

static veil_status check_error_text(const char *state, const char *error, veil_err *err)
{
	if (!error || !error[0])
		return VEIL_OK;
	if (strcmp(state, "failed") != 0 && strcmp(state, "interrupted") != 0)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "only a failed or interrupted job has an error text");
	veil_status st =
	        vcat_check_text(error, VEIL_CATALOG_JOB_ERROR_MAX - 1, true, false, "the job's error", err);
	size_t bad = 0;
	if (!st && !veil_utf8_valid((const uint8_t *)error, strlen(error), &bad))
		st = veil_err_set(err, VEIL_E_INVALID, "the job's error is not UTF-8 (byte %zu)", bad + 1);
	return st;
}

veil_status veil_catalog_job_set_state(veil_catalog *c, const char *id, const char *state, const char *error,
                                       veil_err *err)
{
	veil_status st = vcat_check_job_id(id, err);
	if (st)
		return st;
	if (!state || strnlen(state, VEIL_CATALOG_JOB_STATE_MAX) == VEIL_CATALOG_JOB_STATE_MAX ||
	    !is_state(state))
		return veil_err_set(err, VEIL_E_INVALID,
		                    "a job's state is queued, running, succeeded, failed or interrupted");
	if ((st = check_error_text(state, error, err)))
		return st;
	char from[VEIL_CATALOG_JOB_STATE_MAX];
	bool own;
	if ((st = vcat_tx_begin(c, &own, err)))
		return st;
	st = vcat_job_state(c, id, from, err);
	if (!st && !may_move(from, state)) {
		veil_err_set(err, VEIL_E_INVALID, "job %s is %s; it cannot become %s", id, from, state);
		if (strcmp(from, "succeeded") == 0)
			veil_err_hint(err,
			              "a succeeded job is final; submit the job file again for a new run");
		st = VEIL_E_INVALID;
	}
	if (!st) {
		/* J2: finished and error follow the state; times never go
		 * before created (a caller may have given a later one). */
		state_args a = {state, error ? error : "", veil_time_now(), is_final_or_stopped(state)};
		st = update_job(c,
		                "UPDATE jobs SET state = ?2, error = ?3, updated = max(?4, created), "
		                "finished = CASE WHEN ?5 THEN max(?4, created) ELSE 0 END WHERE id = ?1",
		                id, bind_state, &a, "cannot change a job's state", err);
	}
	return vcat_tx_end(c, own, st, err);
}

static veil_status check_checkpoint(const veil_job_checkpoint *k, veil_err *err)
{
	if (!k->present)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "a checkpoint to record must be present; pass NULL to clear");
	veil_status st;
	if ((st = vcat_check_hex64(k->object_id, "the checkpoint's object id", err)) ||
	    (st = vcat_check_hex64(k->sha256, "the checkpoint's SHA-256", err)) ||
	    (st = vcat_check_text(k->dek_id, sizeof k->dek_id - 1, false, true, "checkpoint DEK id", err)) ||
	    (st = vcat_check_text(k->kek, sizeof k->kek - 1, false, true, "checkpoint KEK name", err)))
		return st;
	if (k->size > INT64_MAX || k->step > INT64_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "the checkpoint's size or step is too large");
	return VEIL_OK;
}

static bool bind_checkpoint(sqlite3_stmt *s, const void *arg)
{
	const veil_job_checkpoint *k = arg;
	if (!k)
		return true; /* clearing: the statement has no other parameters */
	return vcat_bind_text(s, 2, k->object_id) && vcat_bind_text(s, 3, k->dek_id) &&
	       vcat_bind_text(s, 4, k->kek) && vcat_bind_int(s, 5, (int64_t)k->size) &&
	       vcat_bind_text(s, 6, k->sha256) && vcat_bind_int(s, 7, (int64_t)k->step) &&
	       vcat_bind_int(s, 8, veil_time_now());
}

/* The job's row (without its spec), read inside the caller's transaction;
 * j is zeroed first, so it is defined on every path. */
static veil_status read_job(veil_catalog *c, const char *id, veil_job_record *j, veil_err *err)
{
	memset(j, 0, sizeof *j);
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c, JOB_COLUMNS JOB_FROM "WHERE j.id = ?1", &s, err);
	if (st)
		return st;
	int rc = vcat_bind_text(s, 1, id) ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc == SQLITE_ROW)
		st = read_row(c, s, j, err);
	else if (rc == SQLITE_DONE)
		st = no_job(id, err);
	else
		st = vcat_db_err(c, rc, "cannot look up a job", err);
	sqlite3_finalize(s);
	return st;
}

veil_status veil_catalog_job_set_checkpoint(veil_catalog *c, const char *id, const veil_job_checkpoint *ckpt,
                                            veil_job_checkpoint *prev, veil_err *err)
{
	if (prev)
		memset(prev, 0, sizeof *prev);
	veil_status st = vcat_check_job_id(id, err);
	if (st || (ckpt && (st = check_checkpoint(ckpt, err))))
		return st;
	veil_job_record j;
	bool own;
	if ((st = vcat_tx_begin(c, &own, err)))
		return st;
	st = read_job(c, id, &j, err);
	if (!st && ckpt && strcmp(j.state, "running") != 0)
		st = veil_err_set(err, VEIL_E_INVALID, "job %s is %s; only a running job writes checkpoints",
		                  id, j.state);
	if (!st)
		st = update_job(
		        c,
		        ckpt ? "UPDATE jobs SET ckpt_object_id = ?2, ckpt_dek_id = ?3, ckpt_kek = ?4, "
		               "ckpt_size = ?5, ckpt_sha256 = ?6, ckpt_step = ?7, "
		               "updated = max(?8, created) WHERE id = ?1"
		             : "UPDATE jobs SET ckpt_object_id = NULL, ckpt_dek_id = NULL, ckpt_kek = NULL, "
		               "ckpt_size = NULL, ckpt_sha256 = NULL, ckpt_step = NULL WHERE id = ?1",
		        id, bind_checkpoint, ckpt, "cannot record a checkpoint", err);
	if ((st = vcat_tx_end(c, own, st, err)))
		return st;
	/* The same object again is not a replaced one: the caller must not
	 * remove what the job still names. */
	if (prev && j.checkpoint.present && !(ckpt && strcmp(ckpt->object_id, j.checkpoint.object_id) == 0))
		*prev = j.checkpoint;
	return VEIL_OK;
}

typedef struct progress_args {
	uint32_t epoch;
	uint64_t step, total;
	double eps;
	int64_t now;
} progress_args;

static bool bind_progress(sqlite3_stmt *s, const void *arg)
{
	const progress_args *a = arg;
	return vcat_bind_int(s, 2, a->epoch) && vcat_bind_int(s, 3, (int64_t)a->step) &&
	       vcat_bind_int(s, 4, (int64_t)a->total) && sqlite3_bind_double(s, 5, a->eps) == SQLITE_OK &&
	       vcat_bind_int(s, 6, a->now);
}

veil_status veil_catalog_job_set_progress(veil_catalog *c, const char *id, uint32_t epoch, uint64_t step,
                                          uint64_t steps_total, double epsilon_spent, veil_err *err)
{
	veil_status st = vcat_check_job_id(id, err);
	if (st)
		return st;
	if (step > INT64_MAX || steps_total > INT64_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "a job's step count is too large");
	if (steps_total && step > steps_total)
		return veil_err_set(err, VEIL_E_INVALID, "step %llu is past the job's %llu steps",
		                    (unsigned long long)step, (unsigned long long)steps_total);
	if (!vcat_real_ok(epsilon_spent) || epsilon_spent < 0)
		return veil_err_set(err, VEIL_E_INVALID, "the epsilon spent must be a finite number >= 0");
	char state[VEIL_CATALOG_JOB_STATE_MAX];
	bool own;
	if ((st = vcat_tx_begin(c, &own, err)))
		return st;
	st = vcat_job_state(c, id, state, err);
	if (!st && strcmp(state, "running") != 0)
		st = veil_err_set(err, VEIL_E_INVALID, "job %s is %s; only a running job makes progress", id,
		                  state);
	if (!st) {
		progress_args a = {epoch, step, steps_total, epsilon_spent, veil_time_now()};
		st = update_job(
		        c,
		        "UPDATE jobs SET epoch = ?2, step = ?3, steps_total = ?4, epsilon_spent = ?5, "
		        "updated = max(?6, created) WHERE id = ?1",
		        id, bind_progress, &a, "cannot record a job's progress", err);
	}
	return vcat_tx_end(c, own, st, err);
}

/* The row id of model@version and the job that made it. */
static veil_status model_version_row(veil_catalog *c, const char *model, uint32_t version, int64_t *mvid,
                                     char job[VEIL_CATALOG_JOB_ID_MAX], veil_err *err)
{
	*mvid = 0;
	sqlite3_stmt *s;
	veil_status st =
	        vcat_prepare(c,
	                     "SELECT mv.id, mv.job_id, mv.state FROM model_versions mv "
	                     "JOIN models m ON m.id = mv.model_id WHERE m.name = ?1 AND mv.version = ?2",
	                     &s, err);
	if (st)
		return st;
	char state[VEIL_CATALOG_STATE_MAX] = "";
	int rc = vcat_bind_text(s, 1, model) && vcat_bind_int(s, 2, version) ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc == SQLITE_ROW) {
		*mvid = sqlite3_column_int64(s, 0);
		if (!(st = vcat_col_text(c, s, 1, job, VEIL_CATALOG_JOB_ID_MAX, false, "job id", err)))
			st = vcat_col_text(c, s, 2, state, sizeof state, false, "state", err);
	} else if (rc == SQLITE_DONE) {
		st = veil_err_set(err, VEIL_E_NOTFOUND, "model %s has no version %u", model, version);
	} else {
		st = vcat_db_err(c, rc, "cannot look up a model version", err);
	}
	sqlite3_finalize(s);
	if (!st && strcmp(state, "live") != 0)
		st = veil_err_set(err, VEIL_E_NOTFOUND, "version %u of model %s was deleted", version, model);
	return st;
}

static bool bind_model(sqlite3_stmt *s, const void *arg)
{
	return vcat_bind_int(s, 2, *(const int64_t *)arg) && vcat_bind_int(s, 3, veil_time_now());
}

static veil_status set_model_in_tx(veil_catalog *c, const char *id, const char *model, uint32_t version,
                                   veil_err *err)
{
	veil_job_record j;
	veil_status st = read_job(c, id, &j, err);
	if (st)
		return st;
	if (strcmp(j.state, "running") != 0 && strcmp(j.state, "succeeded") != 0)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "job %s is %s; only a running or succeeded job has a model", id, j.state);
	int64_t mvid = 0;
	char maker[VEIL_CATALOG_JOB_ID_MAX] = "";
	if ((st = model_version_row(c, model, version, &mvid, maker, err)))
		return st;
	/* A training job's model is the one it made; an evaluation's is the
	 * one it evaluated, made by another job. */
	if (strcmp(j.kind, "eval") != 0 && strcmp(maker, id) != 0)
		return veil_err_set(err, VEIL_E_INVALID, "%s@%u was made by job %s, not by %s", model,
		                    version, maker, id);
	if (j.model[0] && (strcmp(j.model, model) != 0 || j.model_version != version))
		return veil_err_set(err, VEIL_E_EXISTS, "job %s already made %s@%u", id, j.model,
		                    j.model_version);
	if (j.model[0])
		return VEIL_OK;
	return update_job(c,
	                  "UPDATE jobs SET model_version_id = ?2, updated = max(?3, created) WHERE id = ?1",
	                  id, bind_model, &mvid, "cannot record a job's model", err);
}

veil_status veil_catalog_job_set_model(veil_catalog *c, const char *id, const char *model, uint32_t version,
                                       veil_err *err)
{
	veil_status st = vcat_check_job_id(id, err);
	if (st || (st = vcat_check_name(model, "model name", err)))
		return st;
	if (version == 0)
		return veil_err_set(err, VEIL_E_INVALID, "give the version of %s the job made (name@N)",
		                    model);
	bool own;
	if ((st = vcat_tx_begin(c, &own, err)))
		return st;
	st = set_model_in_tx(c, id, model, version, err);
	return vcat_tx_end(c, own, st, err);
}

/* ---- metrics ---- */

static veil_status check_metric_name(const char *name, size_t size, veil_err *err)
{
	size_t n = strnlen(name, size);
	bool ok = n >= 1 && n < size;
	for (size_t i = 0; ok && i < n; i++)
		ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		     name[i] == '_' || name[i] == '.';
	if (ok)
		return VEIL_OK;
	veil_err_set(err, VEIL_E_INVALID, "metric name '%.64s' is not valid", n < size ? name : "(too long)");
	veil_err_hint(err, "use 1 to %d of a-z, 0-9, '_' and '.', e.g. loss or val.accuracy",
	              VEIL_CATALOG_METRIC_NAME_MAX - 1);
	return VEIL_E_INVALID;
}

static veil_status check_points(const veil_metric *pts, size_t n, veil_err *err)
{
	if (n && !pts)
		return veil_err_set(err, VEIL_E_INVALID, "%zu metric points announced but none given", n);
	if (n > VEIL_CATALOG_METRICS_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "a job has at most %d metric points, not %zu",
		                    VEIL_CATALOG_METRICS_MAX, n);
	veil_status st = VEIL_OK;
	for (size_t i = 0; !st && i < n; i++) {
		if ((st = check_metric_name(pts[i].name, sizeof pts[i].name, err)) ||
		    (st = vcat_check_time(pts[i].time, "a metric's time", err)))
			break;
		if (!vcat_real_ok(pts[i].value))
			st = veil_err_set(err, VEIL_E_INVALID,
			                  "metric %s at step %llu is not a finite number", pts[i].name,
			                  (unsigned long long)pts[i].step);
		else if (pts[i].step > INT64_MAX)
			st = veil_err_set(err, VEIL_E_LIMIT, "metric %s: step %llu is too large", pts[i].name,
			                  (unsigned long long)pts[i].step);
	}
	return st;
}

static veil_status last_seq(veil_catalog *c, const char *id, int64_t *seq, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st =
	        vcat_prepare(c, "SELECT coalesce(max(seq), 0) FROM job_metrics WHERE job_id = ?1", &s, err);
	if (st)
		return st;
	int rc = vcat_bind_text(s, 1, id) ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc == SQLITE_ROW)
		*seq = sqlite3_column_int64(s, 0);
	else
		st = vcat_db_err(c, rc, "cannot count a job's metrics", err);
	sqlite3_finalize(s);
	if (!st && (*seq < 0 || *seq > VEIL_CATALOG_METRICS_MAX))
		st = vcat_bad_stored(c, "metric number", err);
	return st;
}

static veil_status insert_points(veil_catalog *c, const char *id, const veil_metric *pts, size_t n,
                                 veil_err *err)
{
	char state[VEIL_CATALOG_JOB_STATE_MAX];
	int64_t seq = 0;
	veil_status st = vcat_job_state(c, id, state, err);
	if (st || (st = last_seq(c, id, &seq, err)))
		return st;
	if ((uint64_t)seq + n > VEIL_CATALOG_METRICS_MAX) {
		veil_err_set(err, VEIL_E_LIMIT,
		             "job %s has %lld metric points; %zu more would pass the %d allowed", id,
		             (long long)seq, n, VEIL_CATALOG_METRICS_MAX);
		veil_err_hint(err, "record metrics less often (every N steps, or per epoch)");
		return VEIL_E_LIMIT;
	}
	sqlite3_stmt *s;
	if ((st = vcat_prepare(c,
	                       "INSERT INTO job_metrics (job_id, seq, epoch, step, name, value, time) "
	                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	                       &s, err)))
		return st;
	int64_t now = veil_time_now();
	for (size_t i = 0; !st && i < n; i++) {
		sqlite3_reset(s);
		if (!vcat_bind_text(s, 1, id) || !vcat_bind_int(s, 2, seq + 1 + (int64_t)i) ||
		    !vcat_bind_int(s, 3, pts[i].epoch) || !vcat_bind_int(s, 4, (int64_t)pts[i].step) ||
		    !vcat_bind_text(s, 5, pts[i].name) ||
		    sqlite3_bind_double(s, 6, pts[i].value) != SQLITE_OK ||
		    !vcat_bind_int(s, 7, pts[i].time ? pts[i].time : now))
			st = vcat_bind_failed(c, err);
		else
			st = vcat_exec(c, s, "cannot add a metric point", err);
	}
	sqlite3_finalize(s);
	return st;
}

veil_status veil_catalog_metrics_add(veil_catalog *c, const char *job_id, const veil_metric *pts, size_t n,
                                     veil_err *err)
{
	veil_status st = vcat_check_job_id(job_id, err);
	if (st || (st = check_points(pts, n, err)))
		return st;
	bool own;
	if ((st = vcat_tx_begin(c, &own, err)))
		return st;
	st = insert_points(c, job_id, pts, n, err);
	return vcat_tx_end(c, own, st, err);
}

typedef struct metric_ctx {
	veil_metric_fn cb;
	void *ctx;
} metric_ctx;

static veil_status metric_row(veil_catalog *c, sqlite3_stmt *s, void *ctx, veil_err *err)
{
	metric_ctx *x = ctx;
	veil_metric m;
	memset(&m, 0, sizeof m);
	int64_t seq = sqlite3_column_int64(s, 0), epoch = sqlite3_column_int64(s, 1);
	int64_t step = sqlite3_column_int64(s, 2);
	m.value = sqlite3_column_double(s, 4);
	veil_status st = vcat_col_text(c, s, 3, m.name, sizeof m.name, false, "metric name", err);
	if (!st)
		st = vcat_col_time(c, s, 5, &m.time, "metric time", err);
	if (st)
		return st;
	if (seq < 1 || seq > VEIL_CATALOG_METRICS_MAX || epoch < 0 || epoch > UINT32_MAX || step < 0 ||
	    sqlite3_column_type(s, 4) == SQLITE_NULL || !vcat_real_ok(m.value))
		return vcat_bad_stored(c, "metric point", err);
	m.seq = (uint64_t)seq;
	m.epoch = (uint32_t)epoch;
	m.step = (uint64_t)step;
	return x->cb(x->ctx, &m, err);
}

veil_status veil_catalog_metrics_list(veil_catalog *c, const char *job_id, const char *name,
                                      veil_metric_fn cb, void *ctx, veil_err *err)
{
	veil_status st = vcat_check_job_id(job_id, err);
	if (st || (name && (st = check_metric_name(name, VEIL_CATALOG_METRIC_NAME_MAX, err))))
		return st;
	char state[VEIL_CATALOG_JOB_STATE_MAX];
	if ((st = vcat_job_state(c, job_id, state, err)))
		return st;
	sqlite3_stmt *s;
	if ((st = vcat_prepare(c,
	                       "SELECT seq, epoch, step, name, value, time FROM job_metrics "
	                       "WHERE job_id = ?1 AND (?2 IS NULL OR name = ?2) ORDER BY seq",
	                       &s, err)))
		return st;
	metric_ctx x = {cb, ctx};
	if (!vcat_bind_text(s, 1, job_id) || !vcat_bind_text(s, 2, name))
		st = vcat_bind_failed(c, err);
	else
		st = vcat_each_row(c, s, metric_row, &x, "cannot list metrics", err);
	sqlite3_finalize(s);
	return st;
}

/* ---- integrity (maint.c) ---- */

/* J4, looked at again: a training job's model was made by that job (an
 * evaluation's is the one it evaluated). */
static veil_status model_makers(veil_catalog *c, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st =
	        vcat_prepare(c,
	                     "SELECT j.id FROM jobs j JOIN model_versions mv ON mv.id = j.model_version_id "
	                     "WHERE mv.job_id <> j.id AND j.kind <> 'eval' LIMIT 1",
	                     &s, err);
	if (st)
		return st;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *id = sqlite3_column_text(s, 0);
		veil_err_set(err, VEIL_E_CORRUPT,
		             "catalog %s is inconsistent: job %.20s names a model that another job made",
		             c->path, id ? (const char *)id : "?");
		veil_err_hint(err, "restore catalog.db from a backup");
		st = VEIL_E_CORRUPT;
	} else if (rc != SQLITE_DONE) {
		st = vcat_db_err(c, rc, "cannot check jobs", err);
	}
	sqlite3_finalize(s);
	return st;
}

static veil_status spec_row(veil_catalog *c, sqlite3_stmt *s, void *ctx, veil_err *err)
{
	(void)ctx;
	veil_job_record j;
	memset(&j, 0, sizeof j);
	veil_status st = vcat_col_text(c, s, 0, j.id, sizeof j.id, false, "job id", err);
	if (!st)
		st = vcat_col_text(c, s, 1, j.job_sha256, sizeof j.job_sha256, false, "job SHA-256", err);
	if (!st)
		st = read_spec(c, s, 2, &j, err);
	free(j.spec);
	return st;
}

veil_status vcat_training_check(veil_catalog *c, veil_err *err)
{
	veil_status st = model_makers(c, err);
	if (st)
		return st;
	sqlite3_stmt *s;
	if ((st = vcat_prepare(c, "SELECT id, job_sha256, spec FROM jobs ORDER BY rowid", &s, err)))
		return st;
	st = vcat_each_row(c, s, spec_row, NULL, "cannot check jobs", err);
	sqlite3_finalize(s);
	return st ? st : vcat_budget_check(c, err);
}
