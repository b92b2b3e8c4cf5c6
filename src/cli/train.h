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
	veil_job_checkpoint resume_ckpt;
	bool quiet, json;
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

#endif
