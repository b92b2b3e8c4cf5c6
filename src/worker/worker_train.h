/* The train and evaluate jobs' shared pieces (train_inputs.c, job_train.c,
 * job_evaluate.c). */
#ifndef VEIL_WORKER_TRAIN_H
#define VEIL_WORKER_TRAIN_H

#include "veil/learn_data.h"
#include "veil/learn_job.h"
#include "worker.h"

#define TRAIN_INPUTS_MAX 12                  /* input objects of one job */
#define TRAIN_INPUT_MAX  ((uint64_t)4 << 30) /* plaintext bytes of one input */

typedef struct train_input {
	char role[16]; /* "train", "train-labels", "test", "test-labels", "model", "checkpoint" */
	char ref[144]; /* "name@version", the host's label for it */
	uint64_t size; /* what the plaintext must be */
	char sha256[2 * VEIL_SHA256_LEN + 1];
	size_t key; /* index of its data key among the job's DEK_ID fields */
} train_input;

typedef struct train_inputs {
	train_input in[TRAIN_INPUTS_MAX];
	size_t n;
	bool has_checkpoint; /* in[0] is the checkpoint to resume from */
} train_inputs;

/* Reads the INPUT, SIZE and SHA256 fields of a job; the data keys of the
 * inputs start at DEK_ID index first_key (a checkpoint uses key 1). */
veil_status train_inputs_read(const veil_proto_msg *job, size_t first_key, train_inputs *t,
                              veil_err *err) VEIL_MUST_CHECK;

/* Which columns of a table are the label and the features: a job file's
 * choice (features NULL: every column but the label and exclude), or a
 * model manifest's. */
typedef struct train_columns {
	const char *label;
	const char *const *features;
	size_t n_features;
	const char *const *exclude;
	size_t n_exclude;
} train_columns;

/* The data of one role ("train", "test") from the decrypted inputs
 * plain[0..t->n): CSV tables of the same columns, or one IDX pair whose
 * labels are the input of labels_role right after it. classes_from: the
 * classes to map labels to (NULL: found here, as for training data). */
veil_status train_inputs_role(const train_inputs *t, veil_buf *plain, const char *role,
                              const char *labels_role, const train_columns *cols,
                              const veil_learn_data *classes_from, veil_learn_data *out,
                              veil_err *err) VEIL_MUST_CHECK;

/* The training data (and the test data, when the job has test inputs)
 * from the decrypted inputs plain[0..t->n). */
veil_status train_inputs_data(const train_inputs *t, veil_buf *plain, const veil_job *job,
                              veil_learn_data *train, veil_learn_data *test, veil_err *err) VEIL_MUST_CHECK;

#endif
