/* veil train (cmd_train.c): one job's state on the host side. */
#ifndef VEIL_CLI_TRAIN_H
#define VEIL_CLI_TRAIN_H

#include "hostworker.h"
#include "veil/learn_job.h"

#define TRAIN_HOST_INPUTS_MAX 12 /* input objects of one job (the worker's TRAIN_INPUTS_MAX) */
/* How long the host waits for the worker's next message while it trains:
 * it reports each epoch, and an epoch of a large job can take minutes. */
#define TRAIN_TIMEOUT_MS (30 * 60 * 1000)
/* Figures the worker reports per epoch (loss, val_loss, val_accuracy,
 * epsilon, samples_per_s, lr): what a job's metric series holds. */
#define TRAIN_POINTS_PER_EPOCH 6

typedef struct train_host_input {
	char role[16]; /* "train", "train-labels", "test", "test-labels" */
	cli_resource r;
} train_host_input;

typedef struct train_run {
	const char *path; /* the job file, or NULL when resuming */
	char *spec;       /* its text */
	size_t spec_len;
	veil_job *job; /* parsed */
	char job_sha[2 * VEIL_SHA256_LEN + 1];
	char job_id[VEIL_CATALOG_JOB_ID_MAX];
	char resume_job[VEIL_CATALOG_JOB_ID_MAX]; /* "" unless --resume */
	int lock_fd;                              /* cli_job_lock's, while the job runs here */
	veil_job_checkpoint resume_ckpt;
	bool quiet, json;
	cli_global *g;
	cli_progress bar; /* the current run's steps, on a terminal */
	train_host_input inputs[TRAIN_HOST_INPUTS_MAX];
	size_t n_inputs;
	const veil_dataset_version *home; /* the first training data set: the model's owner and place */
	char model_dek[VEIL_CATALOG_DEK_ID_MAX], ckpt_dek[VEIL_CATALOG_DEK_ID_MAX];
	char model_object[VEIL_CATALOG_HEX_MAX];
	bool stored_ckpt;
	uint64_t steps_total;
	double epsilon; /* charged by this run of the command */
	veil_model_version model;
} train_run;

/* Adds data set NAME (version 0: the latest) as an input of role ("train"
 * or "test") to inputs[0..*n), and its IDX labels (NAME.labels, role
 * "<role>-labels") when there is such a data set: each authorized for use
 * with its key, and passed by the workspace's compliance rules. */
veil_status train_add_dataset(cli_ws *ws, train_host_input *inputs, size_t *n, const char *name,
                              uint32_t version, const char *role, veil_err *err) VEIL_MUST_CHECK;

/* A running job's liveness (joblock.c): the process running a job holds
 * cli_job_lock from before it marks the job running until after it marks
 * it finished (VEIL_E_BUSY when another process holds it for more than two
 * seconds). cli_job_reap marks a running job whose lock nobody holds
 * interrupted, and updates j (state, error, times) to what the catalog now
 * says. cli_job_locks_clear removes the lock files: only with the
 * workspace held exclusively (gc). */
veil_status cli_job_lock(cli_ws *ws, const char *job_id, int *fd, veil_err *err) VEIL_MUST_CHECK;
void cli_job_unlock(int fd); /* -1 ok */
veil_status cli_job_reap(cli_ws *ws, veil_job_record *j, veil_err *err) VEIL_MUST_CHECK;
void cli_job_locks_clear(cli_ws *ws);

/* Whether the principal may see exact evaluation figures over data set
 * version v (cmd_model_eval.c): when it has no privacy budget, or when the
 * principal may manage it (and so take its plaintext out anyway). */
veil_status eval_exact_allowed(cli_ws *ws, const veil_dataset_version *v, bool *ok,
                               veil_err *err) VEIL_MUST_CHECK;

/* Marks the job failed with why's message (made one printable line); a
 * failure to is only logged: the command fails either way. */
void train_job_failed(cli_ws *ws, const char *job_id, const veil_err *why);

#endif
