/*
 * Privacy budgets: the total (epsilon, delta) a dataset version's owner
 * allows to be spent on it, and what each job (and each trial of a tuning
 * job) was charged. Schema step 7.
 *
 * Accounting is basic composition: what a version has spent is the sum of
 * its charges. That is loose (a job's own accountant composes its steps
 * far more tightly), but it is the bound that holds whatever mechanisms
 * the jobs used, so it is the one a budget across jobs can rely on.
 *
 * Invariants kept here (docs/formats/catalog.md, "Invariants"):
 *  B1. A version is charged only when it has a budget (the charge refers
 *      to it) and only when every charge, this one included, fits it:
 *      spent + asked <= total * (1 + VEIL_CATALOG_BUDGET_TOLERANCE), for
 *      epsilon and for delta. The check and the insert happen under the
 *      write lock, so two jobs cannot both take the last of a budget.
 *  B2. A charge of several versions is all or nothing.
 *  B3. A job (and trial) is charged at most once per version: a resumed
 *      job is not charged again (UNIQUE in the schema).
 *  B4. A budget is never set below what was spent, so B1 keeps holding;
 *      charges are never changed or removed.
 */
#include "train_int.h"

#include <math.h>
#include <string.h>

/* ---- arithmetic ---- */

/* Neumaier's compensated sum: spent is then the sum of the charges rounded
 * once, not once per charge, and does not depend on SQLite's sum(). */
typedef struct ksum {
	double sum, comp;
} ksum;

static void ksum_add(ksum *k, double x)
{
	double t = k->sum + x;
	if (fabs(k->sum) >= fabs(x))
		k->comp += (k->sum - t) + x;
	else
		k->comp += (x - t) + k->sum;
	k->sum = t;
}

static double ksum_value(const ksum *k)
{
	return k->sum + k->comp;
}

/* B1: whether asked more fits a total of which spent is used. */
static bool fits(double spent, double asked, double total)
{
	return spent + asked <= total * (1 + VEIL_CATALOG_BUDGET_TOLERANCE);
}

static double remaining(double total, double spent)
{
	double r = total - spent;
	return r > 0 ? r : 0;
}

/* ---- reading ---- */

typedef struct spent {
	double epsilon, delta;
	uint64_t charges;
} spent;

static veil_status spent_row(veil_catalog *c, sqlite3_stmt *s, void *ctx, veil_err *err)
{
	ksum *k = ctx;
	double eps = sqlite3_column_double(s, 0), delta = sqlite3_column_double(s, 1);
	if (sqlite3_column_type(s, 0) == SQLITE_NULL || sqlite3_column_type(s, 1) == SQLITE_NULL ||
	    !vcat_real_ok(eps) || eps <= 0 || !vcat_real_ok(delta) || delta < 0 || delta >= 1)
		return vcat_bad_stored(c, "privacy charge", err);
	ksum_add(&k[0], eps);
	ksum_add(&k[1], delta);
	return VEIL_OK;
}

/* What version vid has spent, adding its charges in the order made. */
static veil_status spent_of(veil_catalog *c, int64_t vid, spent *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(
	        c, "SELECT epsilon, delta FROM budget_charges WHERE version_id = ?1 ORDER BY id", &s, err);
	if (st)
		return st;
	ksum k[2] = {{0, 0}, {0, 0}};
	if (!vcat_bind_int(s, 1, vid))
		st = vcat_bind_failed(c, err);
	else
		st = vcat_each_row(c, s, spent_row, k, "cannot add up privacy charges", err);
	sqlite3_finalize(s);
	if (st)
		return st;
	out->epsilon = ksum_value(&k[0]);
	out->delta = ksum_value(&k[1]);
	/* The count is asked separately so that a caller's figures and the
	 * number of charges come from the same rows. */
	if ((st = vcat_prepare(c, "SELECT count(*) FROM budget_charges WHERE version_id = ?1", &s, err)))
		return st;
	int rc = vcat_bind_int(s, 1, vid) ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc == SQLITE_ROW)
		out->charges = (uint64_t)sqlite3_column_int64(s, 0);
	else
		st = vcat_db_err(c, rc, "cannot count privacy charges", err);
	sqlite3_finalize(s);
	return st;
}

/* The budget of version vid into b (totals, set_by, set_at; the caller
 * fills in the name); *found false when there is none. */
static veil_status budget_row(veil_catalog *c, int64_t vid, veil_budget *b, bool *found, veil_err *err)
{
	*found = false;
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(
	        c, "SELECT epsilon_total, delta_total, set_by, set_at FROM budgets WHERE version_id = ?1", &s,
	        err);
	if (st)
		return st;
	int rc = vcat_bind_int(s, 1, vid) ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc == SQLITE_ROW) {
		*found = true;
		b->epsilon_total = sqlite3_column_double(s, 0);
		b->delta_total = sqlite3_column_double(s, 1);
		if (!(st = vcat_col_text(c, s, 2, b->set_by, sizeof b->set_by, false, "principal name", err)))
			st = vcat_col_time(c, s, 3, &b->set_at, "budget time", err);
		if (!st && (!vcat_real_ok(b->epsilon_total) || b->epsilon_total <= 0 ||
		            !vcat_real_ok(b->delta_total) || b->delta_total <= 0 || b->delta_total >= 1))
			st = vcat_bad_stored(c, "privacy budget", err);
	} else if (rc != SQLITE_DONE) {
		st = vcat_db_err(c, rc, "cannot read a privacy budget", err);
	}
	sqlite3_finalize(s);
	return st;
}

/* The whole budget of vid with what was spent; *found as budget_row. */
static veil_status load(veil_catalog *c, int64_t vid, const char *name, uint32_t version, veil_budget *b,
                        bool *found, veil_err *err)
{
	memset(b, 0, sizeof *b);
	veil_status st = budget_row(c, vid, b, found, err);
	if (st || !*found)
		return st;
	spent sp;
	if ((st = spent_of(c, vid, &sp, err)))
		return st;
	memcpy(b->dataset, name, strlen(name) + 1);
	b->version = version;
	b->epsilon_spent = sp.epsilon;
	b->delta_spent = sp.delta;
	b->epsilon_remaining = remaining(b->epsilon_total, sp.epsilon);
	b->delta_remaining = remaining(b->delta_total, sp.delta);
	b->charges = sp.charges;
	return VEIL_OK;
}

static veil_status no_budget(veil_status code, const char *name, uint32_t version, veil_err *err)
{
	veil_err_set(err, code, "no privacy budget set for %s@%u", name, version);
	veil_err_hint(err, "its owner sets one with 'veil data budget set'");
	return code;
}

/* ---- set ---- */

static veil_status check_totals(double epsilon_total, double delta_total, veil_err *err)
{
	if (!vcat_real_ok(epsilon_total) || epsilon_total <= 0)
		return veil_err_set(err, VEIL_E_INVALID, "a budget's epsilon must be a finite number > 0");
	if (!(delta_total > 0 && delta_total < 1)) {
		veil_err_set(err, VEIL_E_INVALID, "a budget's delta must be > 0 and < 1");
		veil_err_hint(err, "a common choice is below 1/n for n records, e.g. 1e-5");
		return VEIL_E_INVALID;
	}
	return VEIL_OK;
}

static veil_status set_in_tx(veil_catalog *c, const char *name, uint32_t version, double eps, double delta,
                             const char *set_by, veil_err *err)
{
	int64_t vid = 0;
	veil_status st = vcat_version_id(c, name, version, true, &vid, NULL, err);
	if (st)
		return st;
	spent sp;
	if ((st = spent_of(c, vid, &sp, err)))
		return st;
	/* B4 */
	if (!fits(sp.epsilon, 0, eps) || !fits(sp.delta, 0, delta)) {
		bool e = !fits(sp.epsilon, 0, eps);
		veil_err_set(err, VEIL_E_INVALID,
		             "%s@%u has already spent %s %.10g; a total of %.10g is less", name, version,
		             e ? "epsilon" : "delta", e ? sp.epsilon : sp.delta, e ? eps : delta);
		veil_err_hint(err, "a budget can be raised, or lowered to what was spent, but not below it");
		return VEIL_E_INVALID;
	}
	sqlite3_stmt *s;
	if ((st = vcat_prepare(c,
	                       "INSERT INTO budgets (version_id, epsilon_total, delta_total, set_by, set_at) "
	                       "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (version_id) DO UPDATE SET "
	                       "epsilon_total = excluded.epsilon_total, delta_total = excluded.delta_total, "
	                       "set_by = excluded.set_by, set_at = excluded.set_at",
	                       &s, err)))
		return st;
	if (!vcat_bind_int(s, 1, vid) || sqlite3_bind_double(s, 2, eps) != SQLITE_OK ||
	    sqlite3_bind_double(s, 3, delta) != SQLITE_OK || !vcat_bind_text(s, 4, set_by) ||
	    !vcat_bind_int(s, 5, veil_time_now()))
		st = vcat_bind_failed(c, err);
	else
		st = vcat_exec(c, s, "cannot set a privacy budget", err);
	sqlite3_finalize(s);
	return st;
}

veil_status veil_catalog_budget_set(veil_catalog *c, const char *name, uint32_t version, double epsilon_total,
                                    double delta_total, const char *set_by, veil_err *err)
{
	veil_status st = vcat_check_name(name, "dataset name", err);
	if (st || (st = vcat_check_name(set_by, "principal name", err)) ||
	    (st = check_totals(epsilon_total, delta_total, err)))
		return st;
	if (version == 0)
		return veil_err_set(err, VEIL_E_INVALID, "give the version of %s the budget is for (name@N)",
		                    name);
	bool own;
	if ((st = vcat_tx_begin(c, &own, err)))
		return st;
	st = set_in_tx(c, name, version, epsilon_total, delta_total, set_by, err);
	return vcat_tx_end(c, own, st, err);
}

/* ---- get and list ---- */

veil_status veil_catalog_budget_get(veil_catalog *c, const char *name, uint32_t version, veil_budget *out,
                                    veil_err *err)
{
	memset(out, 0, sizeof *out);
	veil_status st = vcat_check_name(name, "dataset name", err);
	if (st)
		return st;
	int64_t vid = 0;
	uint32_t resolved = 0;
	bool found = false;
	if ((st = vcat_version_id(c, name, version, false, &vid, &resolved, err)) ||
	    (st = load(c, vid, name, resolved, out, &found, err)))
		goto fail;
	if (!found) {
		st = no_budget(VEIL_E_NOTFOUND, name, resolved, err);
		goto fail;
	}
	return VEIL_OK;
fail:
	memset(out, 0, sizeof *out);
	return st;
}

typedef struct list_ctx {
	veil_budget_fn cb;
	void *ctx;
} list_ctx;

static veil_status list_row(veil_catalog *c, sqlite3_stmt *s, void *ctx, veil_err *err)
{
	list_ctx *x = ctx;
	char name[VEIL_CATALOG_NAME_MAX];
	veil_status st = vcat_col_text(c, s, 1, name, sizeof name, false, "dataset name", err);
	if (st)
		return st;
	int64_t vid = sqlite3_column_int64(s, 0), version = sqlite3_column_int64(s, 2);
	if (version < 1 || version > UINT32_MAX)
		return vcat_bad_stored(c, "version number", err);
	veil_budget b;
	bool found = false;
	if ((st = load(c, vid, name, (uint32_t)version, &b, &found, err)))
		return st;
	return found ? x->cb(x->ctx, &b, err) : vcat_bad_stored(c, "privacy budget", err);
}

veil_status veil_catalog_budget_list(veil_catalog *c, veil_budget_fn cb, void *ctx, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c,
	                              "SELECT b.version_id, d.name, v.version FROM budgets b "
	                              "JOIN dataset_versions v ON v.id = b.version_id "
	                              "JOIN datasets d ON d.id = v.dataset_id ORDER BY d.name, v.version",
	                              &s, err);
	if (st)
		return st;
	list_ctx x = {cb, ctx};
	st = vcat_each_row(c, s, list_row, &x, "cannot list privacy budgets", err);
	sqlite3_finalize(s);
	return st;
}

/* ---- charge ---- */

static veil_status check_charge(const veil_budget_ref *refs, size_t n, double eps, double delta,
                                const char *note, veil_err *err)
{
	if (n == 0 || !refs)
		return veil_err_set(err, VEIL_E_INVALID, "name the dataset versions to charge");
	if (!vcat_real_ok(eps) || eps <= 0)
		return veil_err_set(err, VEIL_E_INVALID, "a charge's epsilon must be a finite number > 0");
	if (!(delta >= 0 && delta < 1))
		return veil_err_set(err, VEIL_E_INVALID, "a charge's delta must be >= 0 and < 1");
	veil_status st;
	if (note && (st = vcat_check_ascii(note, VEIL_CATALOG_NOTE_MAX - 1, "charge note", err)))
		return st;
	for (size_t i = 0; i < n; i++) {
		if ((st = vcat_check_field(refs[i].dataset, sizeof refs[i].dataset, false, "dataset name",
		                           err)))
			return st;
		if (refs[i].version == 0)
			return veil_err_set(err, VEIL_E_INVALID, "give the version of %s to charge (name@N)",
			                    refs[i].dataset);
		for (size_t j = 0; j < i; j++)
			if (refs[j].version == refs[i].version &&
			    strcmp(refs[j].dataset, refs[i].dataset) == 0)
				return veil_err_set(err, VEIL_E_INVALID, "%s@%u is listed twice",
				                    refs[i].dataset, refs[i].version);
	}
	return VEIL_OK;
}

/* B1 for one of the two figures: VEIL_E_DENIED with all of them. */
static veil_status overspent(const char *what, const veil_budget *b, double total, double used, double asked,
                             veil_err *err)
{
	veil_err_set(err, VEIL_E_DENIED,
	             "the privacy budget of %s@%u cannot cover this job: %s total %.10g, spent %.10g, asked "
	             "%.10g, "
	             "remaining %.10g",
	             b->dataset, b->version, what, total, used, asked, remaining(total, used));
	veil_err_hint(err, "ask the owner of %s to raise its budget, or spend less (more noise, fewer steps)",
	              b->dataset);
	return VEIL_E_DENIED;
}

typedef struct charge_req {
	const char *job;
	uint32_t trial;
	double eps, delta;
	const char *note;
} charge_req;

static veil_status charged_before(veil_catalog *c, int64_t vid, const charge_req *q, bool *yes, veil_err *err)
{
	*yes = false;
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(
	        c, "SELECT 1 FROM budget_charges WHERE version_id = ?1 AND job_id = ?2 AND trial = ?3", &s,
	        err);
	if (st)
		return st;
	bool bound =
	        vcat_bind_int(s, 1, vid) && vcat_bind_text(s, 2, q->job) && vcat_bind_int(s, 3, q->trial);
	int rc = bound ? sqlite3_step(s) : SQLITE_NOMEM;
	if (rc == SQLITE_ROW)
		*yes = true;
	else if (rc != SQLITE_DONE)
		st = vcat_db_err(c, rc, "cannot look up a privacy charge", err);
	sqlite3_finalize(s);
	return st;
}

/* Checks that ref can take the charge (B1, B3) and gives its row id. */
static veil_status check_one(veil_catalog *c, const veil_budget_ref *ref, const charge_req *q, int64_t *vid,
                             veil_err *err)
{
	veil_status st = vcat_version_id(c, ref->dataset, ref->version, true, vid, NULL, err);
	if (st)
		return st;
	veil_budget b;
	bool found = false, again = false;
	if ((st = load(c, *vid, ref->dataset, ref->version, &b, &found, err)))
		return st;
	if (!found)
		return no_budget(VEIL_E_DENIED, ref->dataset, ref->version, err);
	if ((st = charged_before(c, *vid, q, &again, err)))
		return st;
	if (again) {
		veil_err_set(err, VEIL_E_EXISTS, "job %s%s was already charged for %s@%u", q->job,
		             q->trial ? " (this trial)" : "", ref->dataset, ref->version);
		veil_err_hint(err,
		              "a resumed job is not charged again; `veil job status` shows what it spent");
		return VEIL_E_EXISTS;
	}
	if (!fits(b.epsilon_spent, q->eps, b.epsilon_total))
		return overspent("epsilon", &b, b.epsilon_total, b.epsilon_spent, q->eps, err);
	if (!fits(b.delta_spent, q->delta, b.delta_total))
		return overspent("delta", &b, b.delta_total, b.delta_spent, q->delta, err);
	return VEIL_OK;
}

static veil_status insert_charge(veil_catalog *c, int64_t vid, const charge_req *q, int64_t now,
                                 veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(
	        c,
	        "INSERT INTO budget_charges (version_id, job_id, trial, epsilon, delta, at, note) "
	        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	        &s, err);
	if (st)
		return st;
	if (!vcat_bind_int(s, 1, vid) || !vcat_bind_text(s, 2, q->job) || !vcat_bind_int(s, 3, q->trial) ||
	    sqlite3_bind_double(s, 4, q->eps) != SQLITE_OK ||
	    sqlite3_bind_double(s, 5, q->delta) != SQLITE_OK || !vcat_bind_int(s, 6, now) ||
	    !vcat_bind_text(s, 7, q->note ? q->note : ""))
		st = vcat_bind_failed(c, err);
	else
		st = vcat_exec(c, s, "cannot record a privacy charge", err);
	sqlite3_finalize(s);
	return st;
}

/* B2: every version is checked before any is charged; an error on the
 * way rolls back the charges already inserted with the rest. */
static veil_status charge_in_tx(veil_catalog *c, const veil_budget_ref *refs, size_t n, const charge_req *q,
                                veil_err *err)
{
	char state[VEIL_CATALOG_JOB_STATE_MAX];
	veil_status st = vcat_job_state(c, q->job, state, err);
	if (st)
		return st;
	if (strcmp(state, "queued") != 0 && strcmp(state, "running") != 0)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "job %s is %s; only a queued or running job is charged", q->job, state);
	int64_t now = veil_time_now();
	for (size_t i = 0; !st && i < n; i++) {
		int64_t vid = 0;
		if (!(st = check_one(c, &refs[i], q, &vid, err)))
			st = insert_charge(c, vid, q, now, err);
	}
	return st;
}

veil_status veil_catalog_budget_charge(veil_catalog *c, const veil_budget_ref *refs, size_t n,
                                       const char *job_id, uint32_t trial, double epsilon, double delta,
                                       const char *note, veil_err *err)
{
	veil_status st = vcat_check_job_id(job_id, err);
	if (st || (st = check_charge(refs, n, epsilon, delta, note, err)))
		return st;
	charge_req q = {job_id, trial, epsilon, delta, note};
	bool own;
	if ((st = vcat_tx_begin(c, &own, err)))
		return st;
	st = charge_in_tx(c, refs, n, &q, err);
	return vcat_tx_end(c, own, st, err);
}

/* ---- charge listings ---- */

#define CHARGE_SELECT                                                                                        \
	"SELECT ch.id, d.name, v.version, ch.job_id, ch.trial, ch.epsilon, ch.delta, ch.at, ch.note "        \
	"FROM budget_charges ch JOIN dataset_versions v ON v.id = ch.version_id "                            \
	"JOIN datasets d ON d.id = v.dataset_id "

typedef struct charge_ctx {
	veil_budget_charge_fn cb;
	void *ctx;
} charge_ctx;

static veil_status charge_row(veil_catalog *c, sqlite3_stmt *s, void *ctx, veil_err *err)
{
	charge_ctx *x = ctx;
	veil_budget_charge ch;
	memset(&ch, 0, sizeof ch);
	veil_status st;
	if ((st = vcat_col_text(c, s, 1, ch.dataset, sizeof ch.dataset, false, "dataset name", err)) ||
	    (st = vcat_col_text(c, s, 3, ch.job_id, sizeof ch.job_id, false, "job id", err)) ||
	    (st = vcat_col_time(c, s, 7, &ch.at, "charge time", err)) ||
	    (st = vcat_col_text(c, s, 8, ch.note, sizeof ch.note, false, "charge note", err)))
		return st;
	int64_t version = sqlite3_column_int64(s, 2), trial = sqlite3_column_int64(s, 4);
	ch.id = sqlite3_column_int64(s, 0);
	ch.epsilon = sqlite3_column_double(s, 5);
	ch.delta = sqlite3_column_double(s, 6);
	if (version < 1 || version > UINT32_MAX || trial < 0 || trial > UINT32_MAX ||
	    !vcat_real_ok(ch.epsilon) || ch.epsilon <= 0 || !vcat_real_ok(ch.delta) || ch.delta < 0 ||
	    ch.delta >= 1)
		return vcat_bad_stored(c, "privacy charge", err);
	ch.version = (uint32_t)version;
	ch.trial = (uint32_t)trial;
	return x->cb(x->ctx, &ch, err);
}

static veil_status each_charge(veil_catalog *c, const char *sql, int64_t vid, const char *job,
                               veil_budget_charge_fn cb, void *ctx, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c, sql, &s, err);
	if (st)
		return st;
	charge_ctx x = {cb, ctx};
	if (job ? !vcat_bind_text(s, 1, job) : !vcat_bind_int(s, 1, vid))
		st = vcat_bind_failed(c, err);
	else
		st = vcat_each_row(c, s, charge_row, &x, "cannot list privacy charges", err);
	sqlite3_finalize(s);
	return st;
}

veil_status veil_catalog_budget_charges(veil_catalog *c, const char *name, uint32_t version,
                                        veil_budget_charge_fn cb, void *ctx, veil_err *err)
{
	veil_status st = vcat_check_name(name, "dataset name", err);
	if (st)
		return st;
	int64_t vid = 0;
	uint32_t resolved = 0;
	veil_budget b;
	bool found = false;
	if ((st = vcat_version_id(c, name, version, false, &vid, &resolved, err)) ||
	    (st = budget_row(c, vid, &b, &found, err)))
		return st;
	if (!found)
		return no_budget(VEIL_E_NOTFOUND, name, resolved, err);
	return each_charge(c, CHARGE_SELECT "WHERE ch.version_id = ?1 ORDER BY ch.id", vid, NULL, cb, ctx,
	                   err);
}

veil_status veil_catalog_budget_job_charges(veil_catalog *c, const char *job_id, veil_budget_charge_fn cb,
                                            void *ctx, veil_err *err)
{
	char state[VEIL_CATALOG_JOB_STATE_MAX];
	veil_status st = vcat_check_job_id(job_id, err);
	if (st || (st = vcat_job_state(c, job_id, state, err)))
		return st;
	return each_charge(c, CHARGE_SELECT "WHERE ch.job_id = ?1 ORDER BY ch.id", 0, job_id, cb, ctx, err);
}

/* ---- integrity (maint.c, through job.c) ---- */

static veil_status check_row(veil_catalog *c, sqlite3_stmt *s, void *ctx, veil_err *err)
{
	(void)ctx;
	char name[VEIL_CATALOG_NAME_MAX];
	veil_status st = vcat_col_text(c, s, 1, name, sizeof name, false, "dataset name", err);
	if (st)
		return st;
	int64_t vid = sqlite3_column_int64(s, 0), version = sqlite3_column_int64(s, 2);
	veil_budget b;
	bool found = false;
	if ((st = load(c, vid, name, (uint32_t)version, &b, &found, err)))
		return st;
	if (found && fits(b.epsilon_spent, 0, b.epsilon_total) && fits(b.delta_spent, 0, b.delta_total))
		return VEIL_OK;
	veil_err_set(
	        err, VEIL_E_CORRUPT,
	        "catalog %s is inconsistent: the privacy budget of %s@%lld is overspent (epsilon %.10g of "
	        "%.10g, delta %.10g of %.10g)",
	        c->path, name, (long long)version, b.epsilon_spent, b.epsilon_total, b.delta_spent,
	        b.delta_total);
	veil_err_hint(err, "the catalog was changed outside veil; restore catalog.db from a backup");
	return VEIL_E_CORRUPT;
}

veil_status vcat_budget_check(veil_catalog *c, veil_err *err)
{
	sqlite3_stmt *s;
	veil_status st = vcat_prepare(c,
	                              "SELECT b.version_id, d.name, v.version FROM budgets b "
	                              "JOIN dataset_versions v ON v.id = b.version_id "
	                              "JOIN datasets d ON d.id = v.dataset_id ORDER BY b.version_id",
	                              &s, err);
	if (st)
		return st;
	st = vcat_each_row(c, s, check_row, NULL, "cannot check privacy budgets", err);
	sqlite3_finalize(s);
	return st;
}
