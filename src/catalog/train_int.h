/*
 * What the training records (job.c, model.c, budget.c) share with each
 * other and with the integrity check (maint.c): job id checks and look-ups,
 * the finiteness rule for stored reals, and the checks the schema's CHECKs
 * cannot express.
 */
#ifndef VEIL_CATALOG_TRAIN_INT_H
#define VEIL_CATALOG_TRAIN_INT_H

#include "iam_int.h"

/* The bound the schema puts on every stored real: finite, |x| < 1e308. */
#define VCAT_REAL_MAX 1e308

/* x is a number the schema accepts: not NaN, |x| < VCAT_REAL_MAX. */
bool vcat_real_ok(double x);

/* "j-" and 16 lowercase hex digits; NULL is "no job id given". */
veil_status vcat_check_job_id(const char *id, veil_err *err) VEIL_MUST_CHECK;
/* The state of job id (checked by the caller) into state; an unknown job
 * is VEIL_E_NOTFOUND with a hint. */
veil_status vcat_job_state(veil_catalog *c, const char *id, char state[VEIL_CATALOG_JOB_STATE_MAX],
                           veil_err *err) VEIL_MUST_CHECK;

/* What veil_catalog_integrity_check adds for the training tables (job.c):
 * each job's spec matches its SHA-256, a job's model was made by that job,
 * and no budget is overspent. VEIL_E_CORRUPT naming the first problem. */
veil_status vcat_training_check(veil_catalog *c, veil_err *err) VEIL_MUST_CHECK;
/* The overspent-budget part of it (budget.c). */
veil_status vcat_budget_check(veil_catalog *c, veil_err *err) VEIL_MUST_CHECK;

#endif
