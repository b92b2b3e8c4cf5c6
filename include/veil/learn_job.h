/*
 * Training job files (layer 4, learn: src/learn/job.c, job_tuning.c;
 * docs/formats/job.md): the YAML document `veil train JOB.yaml` reads,
 * parsed strictly into one plain struct that holds everything the host and
 * the trusted worker need to run the job: the data sets and columns, a
 * model spec and train config for the engine (veil/learn.h), the privacy
 * target, the splits, what the job asks of the machine, what security the
 * host must enforce, and the tuning space.
 *
 * The reader is veil's strict YAML reader (veil/yaml_read.h): unknown keys,
 * wrong types and impossible values are refused with "line L, column C: "
 * and what is allowed. The job's identity is the SHA-256 of the file's
 * bytes, which the caller computes; nothing here depends on it.
 *
 * Tuning: a job with a `tuning:` block is a list of trials, each a full
 * run configuration (veil_job_run) resolved by veil_job_trial. A grid
 * runs the cartesian product of the space; a random search draws distinct
 * combinations from splitmix64 seeded by tuning.seed. Both orders are
 * documented exactly (docs/formats/job.md) so that anyone can reproduce
 * which trial ran with which values.
 *
 * Everything here is pure computation over the text and the struct: no
 * files, no /proc, no global state; safe from any thread.
 */
#ifndef VEIL_LEARN_JOB_H
#define VEIL_LEARN_JOB_H

#include "veil/learn.h"

#define VEIL_JOB_MAX_BYTES       (1u << 20) /* the YAML text: one worker-protocol data field */
#define VEIL_JOB_NAME_MAX        65   /* a job, model or data set name and its NUL (veil_name_check: 64) */
#define VEIL_JOB_DATASETS_MAX    8    /* training data sets (owners) of one job */
#define VEIL_JOB_FEATURES_MAX    4096 /* names in `features` or in `exclude` */
#define VEIL_JOB_COLUMN_MAX      512  /* bytes of a column name (the pipeline's bound) */
#define VEIL_JOB_EPOCHS_MAX      10000
#define VEIL_JOB_BATCH_MAX       (1u << 20)
#define VEIL_JOB_PATIENCE_MAX    10000
#define VEIL_JOB_CHECKPOINT_MAX  1000000000 /* checkpoint_every, in steps */
#define VEIL_JOB_THREADS_MAX     1024
#define VEIL_JOB_CORES_MAX       65536
#define VEIL_JOB_TRIALS_MAX      256 /* trials of a tuning run, grid or random */
#define VEIL_JOB_TUNE_VALUES_MAX 64  /* values one tuned parameter may take */
#define VEIL_JOB_WARNINGS_MAX    8
#define VEIL_JOB_WARNING_LEN     256 /* bytes of one warning, NUL included */

/* A data set as a job names it: NAME or NAME@VERSION. */
typedef struct veil_job_dataset {
	char name[VEIL_JOB_NAME_MAX];
	uint32_t version; /* 1..; 0: the latest version when the job starts */
} veil_job_dataset;

/* What one run trains with: everything a tuning trial may change, and the
 * settings that go with it. The job's own run is veil_job.run; with a
 * tuning block the tuned fields there are 0 until veil_job_trial fills
 * them in. */
typedef struct veil_job_run {
	/* inputs and classes are 0: the data gives them. Tempered-sigmoid
	 * parameters and activation are set (defaults 2, 2, 1 and relu) for
	 * every kind, so that equal jobs give equal specs. */
	veil_model_spec model;
	/* dp is on exactly when the job has a privacy block; then
	 * max_grad_norm is C and noise_multiplier σ as the job gives it, or 0
	 * when only a target ε was given: the caller calibrates σ
	 * (veil_dp_noise_for_epsilon) for this run's steps before training,
	 * and veil_train_config_check refuses σ ≤ 0 if it does not. dp_seed is
	 * zero: the worker fills it from the CSPRNG. */
	veil_train_config train;
	double target_epsilon; /* > 0: the run's ε must not exceed it; 0: no target (σ given) */
	double delta;          /* the δ of the guarantee; 0 without privacy */
	double validation_split, test_split; /* fractions of the rows, each in [0, 0.5] */
	uint64_t split_seed;                 /* the split's permutation (veil_learn_data_split) */
	uint64_t checkpoint_every;           /* steps between checkpoints; 0: at epoch ends only */
} veil_job_run;

/* compute and resources: what the job asks of the machine. Recorded and
 * compared with the machine (veil_job_warnings); only threads changes how
 * the job runs. 0 means "not said" throughout. */
typedef struct veil_job_compute {
	char shape[VEIL_JOB_NAME_MAX]; /* a cloud shape, e.g. BM.Standard.E4.128; "" when not said */
	uint32_t cores;
	uint64_t memory;  /* bytes */
	uint64_t storage; /* bytes */
	uint32_t threads; /* OpenBLAS threads (veil_learn_set_threads); 0: the worker's choice */
	bool gpu;         /* resources.gpu: enabled (veil trains on the CPU and never uses one) */
	double network_gbps;
} veil_job_compute;

/* security: what the host must enforce. Encryption is always AES-256-GCM
 * (the object container) and the job always runs inside the trusted
 * worker: the file may only confirm those, so they have no field. */
typedef struct veil_job_security {
	/* true (the default): start the job only in a worker whose attestation
	 * evidence key release verified; false: a worker without verified
	 * evidence (the simulated TEE) may run it, and its record says so. */
	bool attestation_required;
} veil_job_security;

/* Tunable parameters, in the order that fixes grid and random expansion. */
typedef enum veil_job_param {
	VEIL_JOB_TUNE_LR = 0,
	VEIL_JOB_TUNE_BATCH_SIZE,
	VEIL_JOB_TUNE_EPOCHS,
	VEIL_JOB_TUNE_HIDDEN,
	VEIL_JOB_TUNE_MAX_GRAD_NORM,
	VEIL_JOB_TUNE_MOMENTUM,
	VEIL_JOB_TUNE_WEIGHT_DECAY,
	VEIL_JOB_TUNE_PARAMS
} veil_job_param;

typedef enum veil_job_strategy { VEIL_JOB_GRID = 1, VEIL_JOB_RANDOM = 2 } veil_job_strategy;
typedef enum veil_job_metric {
	VEIL_JOB_VAL_ACCURACY = 1, /* the best trial has the highest validation accuracy */
	VEIL_JOB_VAL_LOSS = 2,     /* the best trial has the lowest validation loss */
} veil_job_metric;

typedef struct veil_job_tuning {
	bool on;
	veil_job_strategy strategy;
	veil_job_metric metric;
	uint64_t seed;                        /* random only */
	size_t trials;                        /* 1..VEIL_JOB_TRIALS_MAX: the grid's size, or random's count */
	size_t nvalues[VEIL_JOB_TUNE_PARAMS]; /* 0: not tuned */
	/* Values in the file's order; integers (batch size, epochs) exactly. */
	double values[VEIL_JOB_TUNE_PARAMS][VEIL_JOB_TUNE_VALUES_MAX];
	size_t hidden[VEIL_JOB_TUNE_VALUES_MAX][VEIL_LEARN_HIDDEN_MAX]; /* VEIL_JOB_TUNE_HIDDEN's values */
	size_t n_hidden[VEIL_JOB_TUNE_VALUES_MAX];
	/* Trial t takes values[p][picks[t][p]] (hidden[picks[t][p]] for
	 * VEIL_JOB_TUNE_HIDDEN) for each tuned p; 0 for the others. Expanded
	 * by veil_job_parse in the documented order (docs/formats/job.md). */
	uint8_t picks[VEIL_JOB_TRIALS_MAX][VEIL_JOB_TUNE_PARAMS];
} veil_job_tuning;

typedef struct veil_job {
	char name[VEIL_JOB_NAME_MAX];       /* the job's name */
	char model_name[VEIL_JOB_NAME_MAX]; /* the model it makes: `model_name`, else the job's name */
	veil_job_dataset datasets[VEIL_JOB_DATASETS_MAX]; /* rows concatenated in this order */
	size_t n_datasets;                                /* 1..VEIL_JOB_DATASETS_MAX */
	bool has_test_dataset;
	veil_job_dataset test_dataset;
	char label[VEIL_JOB_COLUMN_MAX + 1]; /* "" when not given (IDX data sets need none) */
	/* Feature columns in the given order; NULL and 0 for "every column but
	 * the label and those in exclude". At most one of the two is set. */
	char **features;
	size_t n_features;
	char **exclude;
	size_t n_exclude;
	veil_job_run run;
	veil_job_compute compute;
	veil_job_security security;
	veil_job_tuning tuning;
} veil_job;

/* Reads a job file of len bytes (no NUL needed). On success *out is a new
 * job the caller frees with veil_job_free. Every refusal of the text is
 * "line L, column C: " and what was wrong: VEIL_E_INVALID, VEIL_E_UNSUPPORTED
 * for a `version` other than 1, VEIL_E_LIMIT for a bound passed (a text over
 * VEIL_JOB_MAX_BYTES is refused before reading, without a position);
 * VEIL_E_NOMEM. On error *out is NULL. */
veil_status veil_job_parse(const char *text, size_t len, veil_job **out, veil_err *err) VEIL_MUST_CHECK;
void veil_job_free(veil_job *job); /* NULL ok */

/* The number of runs the job makes: tuning.trials, or 1 without tuning. */
size_t veil_job_trials(const veil_job *job);
/* Run i (0-based, below veil_job_trials) resolved: job->run with trial
 * i's values in place. Deterministic: the same job gives the same trials
 * on every machine. VEIL_E_INVALID for i out of range (*out then zeroed). */
veil_status veil_job_trial(const veil_job *job, size_t i, veil_job_run *out, veil_err *err) VEIL_MUST_CHECK;
/* The name of a tunable parameter as the file spells it ("lr", "hidden"). */
const char *veil_job_param_name(veil_job_param p);

/* The generator of random tuning (and of the data split): splitmix64
 * (Steele, Lea and Flood 2014; Vigna's splitmix64.c). Advances *state by
 * 0x9e3779b97f4a7c15 and returns its mix. */
uint64_t veil_job_splitmix64(uint64_t *state);
/* A uniform integer in [0, n), n ≥ 1, by Lemire's multiply-and-reject
 * over splitmix64 (docs/formats/job.md gives the exact steps). */
uint64_t veil_job_draw_below(uint64_t *state, uint64_t n);

/* Appends the job's canonical one-line summary (no newline) to out, e.g.
 * "fmnist-dp: mlp 256 relu; data fashion-mnist-train; test split 0.1;
 * sgd lr 0.1 momentum 0.9; 20 epochs, batch 256; dp epsilon 3 delta 1e-05
 * C 1; attestation required". The same job always gives the same text;
 * numbers are the shortest that read back to the same value. */
veil_status veil_job_summary(const veil_job *job, veil_buf *out, veil_err *err) VEIL_MUST_CHECK;

/* What the host knows about the machine; 0 / false for "unknown". */
typedef struct veil_job_machine {
	uint32_t cores;
	uint64_t memory; /* bytes */
	uint64_t disk;   /* free bytes where the workspace is */
	bool gpu;
} veil_job_machine;

typedef struct veil_job_warning {
	char text[VEIL_JOB_WARNING_LEN];
} veil_job_warning;

/* Compares what the job asks (compute, resources) with the machine and
 * writes up to VEIL_JOB_WARNINGS_MAX warnings, e.g. "the job asks for
 * 119.2 GiB of memory (compute.memory) and this machine has 24.0 GiB".
 * Returns their number; none is fatal: the host decides what to say. */
size_t veil_job_warnings(const veil_job *job, const veil_job_machine *m,
                         veil_job_warning out[static VEIL_JOB_WARNINGS_MAX]);

#endif
