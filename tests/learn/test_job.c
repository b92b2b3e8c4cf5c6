/* Unit tests for training job files (include/veil/learn_job.h,
 * docs/formats/job.md): the shipped examples; the defaults; every rule's
 * refusal with its line, column and text (a table of cases); numbers,
 * sizes and rates; bounds at and past their limits; grid and random
 * expansion (order, counts, determinism, against an independent
 * implementation of the documented procedure); splitmix64 against its
 * published outputs; trials resolved into runs; the summary line; and the
 * machine warnings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "veil/learn_job.h"

static veil_job *parse_ok(const char *text)
{
	veil_job *j = NULL;
	veil_err e = {0};
	if (veil_job_parse(text, strlen(text), &j, &e) != VEIL_OK)
		fail_msg("job refused: %s\n%s", e.msg, text);
	assert_non_null(j);
	return j;
}

static veil_job *load_example(const char *name)
{
	const char *src = getenv("VEIL_SOURCE_ROOT");
	char path[4096];
	(void)snprintf(path, sizeof path, "%s/examples/%s", src ? src : ".", name);
	veil_buf b = {0};
	veil_err e = {0};
	if (veil_fs_read_file(path, VEIL_JOB_MAX_BYTES, &b, &e) != VEIL_OK)
		fail_msg("%s: %s", path, e.msg);
	veil_job *j = NULL;
	if (veil_job_parse((const char *)b.data, b.len, &j, &e) != VEIL_OK)
		fail_msg("%s: %s", path, e.msg);
	veil_buf_free(&b);
	return j;
}

static char *summary_of(const veil_job *j)
{
	veil_buf b = {0};
	veil_err e = {0};
	assert_int_equal(veil_job_summary(j, &b, &e), VEIL_OK);
	assert_int_equal(veil_buf_append(&b, "", 1, &e), VEIL_OK);
	return (char *)b.data;
}

/* A valid job of five lines; cases add line 6 on or replace a line. */
#define L12  "training_job:\n  name: j\n"
#define L3   "  dataset: d\n"
#define L4   "  model: {type: logreg}\n"
#define L5   "  train: {epochs: 1, batch_size: 8, lr: 0.1}\n"
#define BASE L12 L3 L4 L5
#define MLP  "  model: {type: mlp, hidden: [4]}\n"
#define PRIV "  privacy: {epsilon: 1, delta: 1.0e-5, max_grad_norm: 1}\n"

/* ---- the examples ---- */

static void test_example_fmnist(void **state)
{
	(void)state;
	veil_job *j = load_example("fmnist.job.yaml");
	assert_string_equal(j->name, "fmnist");
	assert_string_equal(j->model_name, "fmnist");
	assert_int_equal(j->n_datasets, 1);
	assert_string_equal(j->datasets[0].name, "fashion-mnist-train");
	assert_int_equal(j->datasets[0].version, 0);
	assert_true(j->has_test_dataset);
	assert_string_equal(j->test_dataset.name, "fashion-mnist-test");
	assert_string_equal(j->label, "");
	const veil_job_run *r = &j->run;
	assert_int_equal(r->model.kind, VEIL_MODEL_MLP);
	assert_int_equal(r->model.n_hidden, 1);
	assert_int_equal(r->model.hidden[0], 256);
	assert_int_equal(r->model.inputs, 0);
	assert_int_equal(r->model.classes, 0);
	assert_int_equal(r->model.activation, VEIL_ACT_RELU);
	assert_int_equal(r->train.epochs, 20);
	assert_int_equal(r->train.batch_size, 256);
	assert_int_equal(r->train.optimizer, VEIL_OPT_SGD);
	assert_true(r->train.lr == 0.1f);
	assert_true(r->train.momentum == 0.9f);
	assert_int_equal(r->train.seed, 7);
	assert_int_equal(r->train.patience, 5);
	assert_int_equal(r->train.schedule, VEIL_SCHED_COSINE);
	assert_false(r->train.dp);
	assert_true(r->test_split == 0); /* the test data set is the test set */
	assert_true(r->validation_split == 0.1);
	assert_int_equal(j->compute.threads, 2);
	assert_int_equal(veil_job_trials(j), 1);
	veil_job_free(j);
}

/* The accuracy recipe: tanh, batches of 512, 40 epochs, no validation. */
static void test_example_fmnist_dp_tanh(void **state)
{
	(void)state;
	veil_job *j = load_example("fmnist-dp-tanh.job.yaml");
	const veil_job_run *r = &j->run;
	assert_true(r->train.dp);
	assert_true(r->target_epsilon == 3.0);
	assert_true(r->delta == 1e-5);
	assert_int_equal(r->model.activation, VEIL_ACT_TANH);
	assert_int_equal(r->train.batch_size, 512);
	assert_int_equal(r->train.epochs, 40);
	assert_true(r->validation_split == 0);
	assert_int_equal(veil_job_trials(j), 1);
	veil_job_free(j);
}

static void test_example_fmnist_dp(void **state)
{
	(void)state;
	veil_job *j = load_example("fmnist-dp.job.yaml");
	assert_string_equal(j->label, "label");
	const veil_job_run *r = &j->run;
	assert_true(r->train.dp);
	assert_true(r->target_epsilon == 3.0);
	assert_true(r->delta == 1e-5);
	assert_true(r->train.max_grad_norm == 1.0);
	assert_true(r->train.noise_multiplier == 0); /* calibrated by the worker */
	static const uint8_t zero[VEIL_LEARN_DP_SEED_LEN] = {0};
	assert_memory_equal(r->train.dp_seed, zero, sizeof zero);
	assert_string_equal(j->compute.shape, "BM.Standard.E4.128");
	assert_int_equal(j->compute.memory, 128000000000ull);
	assert_int_equal(j->compute.storage, 1000000000000ull);
	assert_true(j->compute.gpu);
	assert_true(j->compute.network_gbps == 25);
	assert_true(j->security.attestation_required);
	char *s = summary_of(j);
	assert_string_equal(s, "fmnist-dp: mlp 256 relu; data fashion-mnist-train; test fashion-mnist-test; "
	                       "validation split 0.1; sgd lr 0.1 momentum 0.9; 20 epochs, batch 256, seed 7; "
	                       "dp epsilon 3 delta 1e-05 C 1; attestation required");
	free(s);
	veil_job_free(j);
}

static void test_example_patients(void **state)
{
	(void)state;
	veil_job *j = load_example("patients-dp.job.yaml");
	assert_string_equal(j->datasets[0].name, "patients-features");
	assert_string_equal(j->label, "cardiac_event");
	assert_int_equal(j->n_features, 0);
	assert_int_equal(j->n_exclude, 1);
	assert_string_equal(j->exclude[0], "patient_id");
	assert_int_equal(j->run.model.kind, VEIL_MODEL_LOGREG);
	assert_int_equal(j->run.model.n_hidden, 0);
	assert_true(j->run.train.dp);
	assert_true(j->run.test_split == 0.2);
	assert_true(j->run.delta == 1e-6);
	assert_false(j->has_test_dataset);
	veil_job_free(j);
}

static void test_example_tune(void **state)
{
	(void)state;
	veil_job *j = load_example("fmnist-tune.job.yaml");
	assert_string_equal(j->model_name, "fmnist-tuned");
	assert_true(j->tuning.on);
	assert_int_equal(j->tuning.strategy, VEIL_JOB_RANDOM);
	assert_int_equal(j->tuning.metric, VEIL_JOB_VAL_ACCURACY);
	assert_int_equal(veil_job_trials(j), 8);
	/* The untuned run lacks what the space gives. */
	assert_true(j->run.train.lr == 0);
	assert_int_equal(j->run.model.n_hidden, 0);
	/* The known answer of docs/formats/job.md ("Random"). */
	static const struct {
		float lr;
		size_t batch, epochs, hidden;
		double clip;
	} want[8] = {{0.1f, 256, 10, 128, 0.5},  {0.1f, 256, 10, 128, 1.0}, {0.05f, 256, 5, 256, 0.5},
	             {0.05f, 256, 10, 256, 1.0}, {0.05f, 128, 5, 128, 0.5}, {0.05f, 256, 10, 128, 1.0},
	             {0.1f, 256, 5, 128, 0.5},   {0.1f, 256, 10, 256, 1.0}};
	veil_job_run r;
	veil_err e = {0};
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(veil_job_trial(j, i, &r, &e), VEIL_OK);
		assert_true(r.train.lr == want[i].lr);
		assert_int_equal(r.train.batch_size, want[i].batch);
		assert_int_equal(r.train.epochs, want[i].epochs);
		assert_true(r.train.max_grad_norm == want[i].clip);
		assert_int_equal(r.model.n_hidden, 1);
		assert_int_equal(r.model.hidden[0], want[i].hidden);
		assert_true(r.train.momentum == 0.9f);
		assert_true(r.train.dp);
		assert_true(r.target_epsilon == 1.0);
	}
	veil_job_free(j);
}

/* ---- defaults ---- */

static void test_defaults(void **state)
{
	(void)state;
	veil_job *j = parse_ok(BASE);
	assert_string_equal(j->name, "j");
	assert_string_equal(j->model_name, "j");
	const veil_job_run *r = &j->run;
	assert_int_equal(r->model.kind, VEIL_MODEL_LOGREG);
	assert_int_equal(r->model.activation, VEIL_ACT_RELU);
	assert_true(r->model.ts_scale == 2 && r->model.ts_temperature == 2 && r->model.ts_offset == 1);
	assert_int_equal(r->train.optimizer, VEIL_OPT_SGD);
	assert_int_equal(r->train.schedule, VEIL_SCHED_CONSTANT);
	assert_true(r->train.momentum == 0 && r->train.weight_decay == 0);
	assert_true(r->train.beta1 == 0.9f && r->train.beta2 == 0.999f && r->train.adam_eps == 1e-8f);
	assert_true(r->train.step_gamma == 0.1f);
	assert_int_equal(r->train.seed, 0);
	assert_int_equal(r->split_seed, 0);
	assert_int_equal(r->train.patience, 0);
	assert_true(r->validation_split == 0.1 && r->test_split == 0.1);
	assert_int_equal(r->checkpoint_every, 0);
	assert_false(r->train.dp);
	assert_true(r->delta == 0 && r->target_epsilon == 0);
	assert_true(j->security.attestation_required);
	assert_int_equal(j->compute.threads, 0);
	assert_int_equal(j->compute.memory, 0);
	assert_false(j->compute.gpu);
	assert_false(j->tuning.on);
	assert_int_equal(veil_job_trials(j), 1);
	veil_job_run t;
	veil_err e = {0};
	assert_int_equal(veil_job_trial(j, 0, &t, &e), VEIL_OK);
	assert_memory_equal(&t, r, sizeof t);
	assert_int_equal(veil_job_trial(j, 1, &t, &e), VEIL_E_INVALID);
	assert_string_equal(e.msg, "job 'j' has 1 trial; there is no trial 1");
	veil_job_free(j);

	/* split_seed follows seed unless given; version 1 and a `---` document are fine. */
	j = parse_ok("---\n" L12 "  version: 1\n" L3 L4
	             "  train: {epochs: 1, batch_size: 8, lr: 0.1, seed: 18446744073709551615}\n...\n");
	assert_int_equal(j->run.train.seed, UINT64_MAX);
	assert_int_equal(j->run.split_seed, UINT64_MAX);
	veil_job_free(j);
	j = parse_ok(L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: 0.1, seed: 3, split_seed: 0}\n");
	assert_int_equal(j->run.split_seed, 0);
	veil_job_free(j);
}

static void test_everything(void **state)
{
	(void)state;
	veil_job *j = parse_ok(
	        "training_job:\n"
	        "  name: all.keys_1\n"
	        "  model_name: m\n"
	        "  dataset: [a@1, b@4294967295, c]\n"
	        "  test_dataset: t@2\n"
	        "  label: \"y label\"\n"
	        "  features: [x1, \"x 2\", sex=F]\n"
	        "  model: {type: mlp, hidden: [64, 32, 16], activation: tempered_sigmoid, scale: 1.5, "
	        "temperature: 3, offset: -0.5}\n"
	        "  train:\n"
	        "    epochs: 10000\n"
	        "    batch_size: 1048576\n"
	        "    optimizer: adam\n"
	        "    lr: 1e-3\n"
	        "    weight_decay: 5e-4\n"
	        "    beta1: 0.8\n"
	        "    beta2: 0.99\n"
	        "    adam_eps: 1e-7\n"
	        "    schedule: step\n"
	        "    step_epochs: 10\n"
	        "    gamma: 0.5\n"
	        "    seed: 1\n"
	        "    split_seed: 2\n"
	        "    patience: 5\n"
	        "    validation_split: 0.5\n"
	        "    checkpoint_every: 1000000000\n"
	        "  privacy: {noise_multiplier: 1.1, delta: 1e-5, max_grad_norm: 0.5}\n"
	        "  compute: {shape: BM.Standard.E4.128, cores: 128, memory: 64 GiB, storage: 1536MB, "
	        "threads: 4}\n"
	        "  security: {enclave: enabled, encryption: AES-256-GCM, attestation: optional}\n"
	        "  resources: {gpu: disabled, network: 100 Mbps}\n");
	assert_string_equal(j->model_name, "m");
	assert_int_equal(j->n_datasets, 3);
	assert_int_equal(j->datasets[0].version, 1);
	assert_int_equal(j->datasets[1].version, UINT32_MAX);
	assert_int_equal(j->datasets[2].version, 0);
	assert_string_equal(j->test_dataset.name, "t");
	assert_int_equal(j->test_dataset.version, 2);
	assert_string_equal(j->label, "y label");
	assert_int_equal(j->n_features, 3);
	assert_string_equal(j->features[1], "x 2");
	assert_string_equal(j->features[2], "sex=F");
	const veil_job_run *r = &j->run;
	assert_int_equal(r->model.n_hidden, 3);
	assert_int_equal(r->model.hidden[2], 16);
	assert_int_equal(r->model.activation, VEIL_ACT_TEMPERED_SIGMOID);
	assert_true(r->model.ts_scale == 1.5f && r->model.ts_temperature == 3 && r->model.ts_offset == -0.5f);
	assert_int_equal(r->train.epochs, 10000);
	assert_int_equal(r->train.batch_size, 1048576);
	assert_int_equal(r->train.optimizer, VEIL_OPT_ADAM);
	assert_true(r->train.lr == 1e-3f && r->train.weight_decay == 5e-4f);
	assert_true(r->train.beta1 == 0.8f && r->train.beta2 == 0.99f && r->train.adam_eps == 1e-7f);
	assert_int_equal(r->train.schedule, VEIL_SCHED_STEP);
	assert_int_equal(r->train.step_epochs, 10);
	assert_true(r->train.step_gamma == 0.5f);
	assert_int_equal(r->train.seed, 1);
	assert_int_equal(r->split_seed, 2);
	assert_int_equal(r->train.patience, 5);
	assert_true(r->validation_split == 0.5 && r->test_split == 0);
	assert_int_equal(r->checkpoint_every, 1000000000);
	assert_true(r->train.dp);
	assert_true(r->train.noise_multiplier == 1.1 && r->target_epsilon == 0);
	assert_true(r->train.max_grad_norm == 0.5);
	assert_int_equal(j->compute.cores, 128);
	assert_int_equal(j->compute.memory, 64ull << 30);
	assert_int_equal(j->compute.storage, 1536000000ull);
	assert_int_equal(j->compute.threads, 4);
	assert_false(j->compute.gpu);
	assert_true(fabs(j->compute.network_gbps - 0.1) < 1e-12);
	assert_false(j->security.attestation_required);
	char *s = summary_of(j);
	assert_string_equal(s,
	                    "all.keys_1: model m, mlp 64-32-16 tempered_sigmoid(1.5,3,-0.5); data a@1, "
	                    "b@4294967295, c; test t@2; validation split 0.5; 3 features; adam lr 0.001 "
	                    "beta1 0.8 beta2 0.99 eps 1e-07 weight_decay 0.0005 step 10 x0.5; 10000 epochs, "
	                    "batch 1048576, seed 1, split seed 2, patience 5, checkpoint every 1000000000 "
	                    "steps; dp delta 1e-05 sigma 1.1 C 0.5; 4 threads; attestation optional");
	free(s);
	veil_job_free(j);
}

/* ---- refusals ---- */

typedef struct refusal {
	const char *text;
	veil_status code;
	const char *msg; /* the whole message */
} refusal;

static const refusal refusals[] = {
        /* the document */
        {"", VEIL_E_INVALID, "line 1, column 1: the job file is empty"},
        {"- a\n", VEIL_E_INVALID, "line 1, column 1: a job file is a mapping of keys to values, not a list"},
        {"training: {}\n", VEIL_E_INVALID,
         "line 1, column 1: unknown key 'training' (a job file holds one key, training_job)"},
        {"{}\n", VEIL_E_INVALID, "line 1, column 1: the job file has no 'training_job' key"},
        {BASE "---\na: 1\n", VEIL_E_INVALID, "line 6, column 1: a job file is one YAML document"},
        {L12 "  dataset: &x d\n" L4 L5, VEIL_E_INVALID,
         "line 3, column 12: anchors and tags are not allowed in a job file"},
        {BASE "  label: !!str y\n", VEIL_E_INVALID,
         "line 6, column 10: anchors and tags are not allowed in a job file"},
        {"training_job: [1]\n", VEIL_E_INVALID,
         "line 1, column 15: training_job must be a mapping, not a list"},
        {BASE "  colour: red\n", VEIL_E_INVALID,
         "line 6, column 3: unknown key 'colour' in training_job (known: version, name, model_name, dataset, "
         "test_dataset, label, features, exclude, model, train, privacy, compute, security, resources, "
         "tuning)"},
        {BASE "  name: k\n", VEIL_E_INVALID, "line 6, column 3: key 'name' appears twice in training_job"},
        {L12 L4 L5, VEIL_E_INVALID, "line 2, column 3: training_job has no 'dataset' key, which is required"},
        {L12 L3 L4, VEIL_E_INVALID, "line 2, column 3: training_job has no 'train' key, which is required"},
        {BASE "  version: 2\n", VEIL_E_UNSUPPORTED,
         "line 6, column 12: job file version 2 is not supported (this veil reads version 1)"},
        {"training_job:\n  name: [j]\n" L3 L4 L5, VEIL_E_INVALID,
         "line 2, column 9: name must be a name, not a list"},
        {"training_job:\n  name: -j\n" L3 L4 L5, VEIL_E_INVALID,
         "line 2, column 9: name must be 1 to 64 of letters, digits, '.', '_' and '-', not starting with '.' "
         "or '-'"},
        {"training_job:\n  name: a/b\n" L3 L4 L5, VEIL_E_INVALID,
         "line 2, column 9: name must be 1 to 64 of letters, digits, '.', '_' and '-', not starting with '.' "
         "or '-'"},
        /* data sets and columns */
        {L12 "  dataset: d@0\n" L4 L5, VEIL_E_INVALID,
         "line 3, column 12: dataset must be a data set name (1 to 64 of letters, digits, '.', '_' and '-') "
         "with an optional @VERSION, such as fashion-mnist-train or patients@3, not 'd@0'"},
        {L12 "  dataset: [a, b@x]\n" L4 L5, VEIL_E_INVALID,
         "line 3, column 16: each entry of dataset must be a data set name (1 to 64 of letters, digits, '.', "
         "'_' and '-') with an optional @VERSION, such as fashion-mnist-train or patients@3, not 'b@x'"},
        {L12 "  dataset: d@4294967296\n" L4 L5, VEIL_E_INVALID,
         "line 3, column 12: dataset must be a data set name (1 to 64 of letters, digits, '.', '_' and '-') "
         "with an optional @VERSION, such as fashion-mnist-train or patients@3, not 'd@4294967296'"},
        {L12 "  dataset: [a, b@2, a@3]\n" L4 L5, VEIL_E_INVALID,
         "line 3, column 21: data set 'a' is listed twice in dataset"},
        {L12 "  dataset: []\n" L4 L5, VEIL_E_INVALID, "line 3, column 12: dataset lists no data set"},
        {L12 "  dataset: {a: 1}\n" L4 L5, VEIL_E_INVALID,
         "line 3, column 12: dataset must be a data set name or a list of them, not a mapping"},
        {L12 "  dataset: [a, b, c, d, e, f, g, h, i]\n" L4 L5, VEIL_E_LIMIT,
         "line 3, column 37: dataset lists more than 8 data sets"},
        {BASE "  test_dataset: d@2\n", VEIL_E_INVALID,
         "line 6, column 17: test_dataset 'd' is also a training data set: its scores would say nothing "
         "about "
         "data the model has not seen"},
        {BASE "  label: \"\"\n", VEIL_E_INVALID, "line 6, column 10: a column name in label is empty"},
        {BASE "  label: \"a\\tb\"\n", VEIL_E_INVALID,
         "line 6, column 10: a column name in label holds a control character"},
        {BASE "  features: [a, b, a]\n", VEIL_E_INVALID,
         "line 6, column 20: column 'a' is listed twice in features"},
        {BASE "  features: []\n", VEIL_E_INVALID, "line 6, column 13: features lists no column"},
        {BASE "  features: a\n", VEIL_E_INVALID,
         "line 6, column 13: features must be a list of column names, not a single value"},
        {BASE "  features: [a, [b]]\n", VEIL_E_INVALID,
         "line 6, column 17: each entry of features must be a column name, not a list"},
        {BASE "  features: [a, y]\n  label: y\n", VEIL_E_INVALID,
         "line 6, column 17: the label 'y' cannot also be a feature"},
        {BASE "  label: y\n  exclude: [id, y]\n", VEIL_E_INVALID,
         "line 7, column 17: the label is never a feature; leave it out of exclude"},
        {BASE "  features: [a]\n  exclude: [b]\n", VEIL_E_INVALID,
         "line 7, column 3: list features or exclude, not both (exclude trims the default of every column)"},
        /* model */
        {L12 L3 "  model: {hidden: [4]}\n" L5, VEIL_E_INVALID,
         "line 4, column 10: model has no 'type' key, which is required (logreg, softmax or mlp)"},
        {L12 L3 "  model: {type: cnn}\n" L5, VEIL_E_INVALID,
         "line 4, column 17: type must be one of logreg, softmax, mlp, not 'cnn'"},
        {L12 L3 "  model: {type: logreg, hidden: [4]}\n" L5, VEIL_E_INVALID,
         "line 4, column 25: hidden applies only to type mlp (the others have no hidden layer)"},
        {L12 L3 "  model: {type: softmax, activation: tanh}\n" L5, VEIL_E_INVALID,
         "line 4, column 26: activation applies only to type mlp"},
        {L12 L3 "  model: {type: mlp}\n" L5, VEIL_E_INVALID,
         "line 4, column 10: model has no 'hidden' key, which is required (or tune it in tuning.space)"},
        {L12 L3 "  model: {type: mlp, hidden: []}\n" L5, VEIL_E_INVALID,
         "line 4, column 30: hidden lists no layer: an mlp has at least one hidden layer (or use type "
         "softmax)"},
        {L12 L3 "  model: {type: mlp, hidden: [4, 0]}\n" L5, VEIL_E_INVALID,
         "line 4, column 34: a layer width must be a whole number from 1 to 65536, not '0'"},
        {L12 L3 "  model: {type: mlp, hidden: [1, 2, 3, 4, 5, 6, 7, 8, 9]}\n" L5, VEIL_E_LIMIT,
         "line 4, column 55: hidden lists more than 8 hidden layers"},
        {L12 L3 "  model: {type: mlp, hidden: [65536, 65536]}\n" L5, VEIL_E_LIMIT,
         "line 4, column 30: the hidden layers of hidden alone have more than 268435456 parameters"},
        {L12 L3 "  model: {type: mlp, hidden: [4], scale: 2}\n" L5, VEIL_E_INVALID,
         "line 4, column 35: scale applies only to activation tempered_sigmoid"},
        {L12 L3 "  model: {type: mlp, hidden: [4], activation: tempered_sigmoid, temperature: 0}\n" L5,
         VEIL_E_INVALID, "line 4, column 78: temperature must be greater than 0 and at most 1000, not 0"},
        /* train */
        {L12 L3 L4 "  train: {epochs: 0, batch_size: 8, lr: 0.1}\n", VEIL_E_INVALID,
         "line 5, column 19: epochs must be a whole number from 1 to 10000, not '0'"},
        {L12 L3 L4 "  train: {epochs: 10001, batch_size: 8, lr: 0.1}\n", VEIL_E_INVALID,
         "line 5, column 19: epochs must be a whole number from 1 to 10000, not '10001'"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 0, lr: 0.1}\n", VEIL_E_INVALID,
         "line 5, column 34: batch_size must be a whole number from 1 to 1048576, not '0'"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 08, lr: 0.1}\n", VEIL_E_INVALID,
         "line 5, column 34: batch_size must be a whole number from 1 to 1048576, not '08'"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: \"8\", lr: 0.1}\n", VEIL_E_INVALID,
         "line 5, column 34: batch_size must be a whole number from 1 to 1048576, not '8'"},
        {L12 L3 L4 "  train: {epochs: 1.0, batch_size: 8, lr: 0.1}\n", VEIL_E_INVALID,
         "line 5, column 19: epochs must be a whole number from 1 to 10000, not '1.0'"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: 0}\n", VEIL_E_INVALID,
         "line 5, column 41: lr must be greater than 0 and at most 100, not 0"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: -0.1}\n", VEIL_E_INVALID,
         "line 5, column 41: lr must be greater than 0 and at most 100, not -0.1"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: 1e-50}\n", VEIL_E_INVALID,
         "line 5, column 41: lr must be greater than 0 and at most 100, not 1e-50"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: .nan}\n", VEIL_E_INVALID,
         "line 5, column 41: lr must be a number such as 0.5 or 1e-05, not '.nan'"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: .inf}\n", VEIL_E_INVALID,
         "line 5, column 41: lr must be a number such as 0.5 or 1e-05, not '.inf'"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: 0x1}\n", VEIL_E_INVALID,
         "line 5, column 41: lr must be a number such as 0.5 or 1e-05, not '0x1'"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: 0.1abc}\n", VEIL_E_INVALID,
         "line 5, column 41: lr must be a number such as 0.5 or 1e-05, not '0.1abc'"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: 1e999}\n", VEIL_E_INVALID,
         "line 5, column 41: lr must be a number such as 0.5 or 1e-05, not '1e999'"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: '0.1'}\n", VEIL_E_INVALID,
         "line 5, column 41: lr must be a number, written without quotes"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: [0.1]}\n", VEIL_E_INVALID,
         "line 5, column 41: lr must be a number, not a list"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8}\n", VEIL_E_INVALID,
         "line 5, column 10: train has no 'lr' key, which is required (or tune it in tuning.space)"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: 0.1, momentum: 1}\n", VEIL_E_INVALID,
         "line 5, column 56: momentum must be at least 0 and less than 1, not 1"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: 0.1, momentum: -0.5}\n", VEIL_E_INVALID,
         "line 5, column 56: momentum must be at least 0 and less than 1, not -0.5"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: 0.1, optimizer: adam, momentum: 0.9}\n",
         VEIL_E_INVALID, "line 5, column 63: momentum applies only to optimizer sgd"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: 0.1, beta2: 0.9}\n", VEIL_E_INVALID,
         "line 5, column 46: beta2 applies only to optimizer adam"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: 0.1, optimizer: rmsprop}\n", VEIL_E_INVALID,
         "line 5, column 57: optimizer must be one of sgd, adam, not 'rmsprop'"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: 0.1, schedule: step}\n", VEIL_E_INVALID,
         "line 5, column 46: schedule step needs step_epochs: the epochs between two cuts of the learning "
         "rate"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: 0.1, gamma: 0.5}\n", VEIL_E_INVALID,
         "line 5, column 46: gamma applies only to schedule step"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: 0.1, validation_split: 0.6}\n", VEIL_E_INVALID,
         "line 5, column 64: validation_split must be at least 0 and at most 0.5, not 0.6"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: 0.1, test_split: -0.1}\n", VEIL_E_INVALID,
         "line 5, column 58: test_split must be at least 0 and at most 0.5, not -0.1"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: 0.1, test_split: 0.5, validation_split: 0.5}\n",
         VEIL_E_INVALID,
         "line 5, column 63: validation_split and test_split together leave no rows to train on"},
        {BASE "  test_dataset: t\n  train: {epochs: 1, batch_size: 8, lr: 0.1, test_split: 0.2}\n",
         VEIL_E_INVALID, "line 7, column 3: key 'train' appears twice in training_job"},
        {L12 L3 "  test_dataset: t\n" L4 "  train: {epochs: 1, batch_size: 8, lr: 0.1, test_split: 0.2}\n",
         VEIL_E_INVALID,
         "line 6, column 46: test_split applies only without test_dataset (the test set is then that data "
         "set)"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: 0.1, patience: 2, validation_split: 0}\n",
         VEIL_E_INVALID,
         "line 5, column 46: patience needs validation rows to watch, and validation_split is 0"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: 0.1, seed: 18446744073709551616}\n",
         VEIL_E_INVALID,
         "line 5, column 52: seed must be a whole number from 0 to 18446744073709551615, not "
         "'18446744073709551616'"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: 0.1, seed: -1}\n", VEIL_E_INVALID,
         "line 5, column 52: seed must be a whole number from 0 to 18446744073709551615, not '-1'"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: 0.1, lr: 0.2}\n", VEIL_E_INVALID,
         "line 5, column 46: key 'lr' appears twice in train"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: 0.1, learning_rate: 0.2}\n", VEIL_E_INVALID,
         "line 5, column 46: unknown key 'learning_rate' in train (known: epochs, batch_size, optimizer, lr, "
         "momentum, weight_decay, beta1, beta2, adam_eps, schedule, step_epochs, gamma, seed, split_seed, "
         "patience, validation_split, test_split, checkpoint_every)"},
        /* privacy */
        {BASE "  privacy: {epsilon: 0, delta: 1.0e-5, max_grad_norm: 1}\n", VEIL_E_INVALID,
         "line 6, column 22: epsilon must be greater than 0 and at most 100, not 0"},
        {BASE "  privacy: {epsilon: -3, delta: 1.0e-5, max_grad_norm: 1}\n", VEIL_E_INVALID,
         "line 6, column 22: epsilon must be greater than 0 and at most 100, not -3"},
        {BASE "  privacy: {epsilon: 3, delta: 1, max_grad_norm: 1}\n", VEIL_E_INVALID,
         "line 6, column 32: delta must be greater than 0 and less than 1, not 1"},
        {BASE "  privacy: {epsilon: 3, delta: 0, max_grad_norm: 1}\n", VEIL_E_INVALID,
         "line 6, column 32: delta must be greater than 0 and less than 1, not 0"},
        {BASE "  privacy: {delta: 1.0e-5, max_grad_norm: 1}\n", VEIL_E_INVALID,
         "line 6, column 12: privacy needs epsilon (a target ε to calibrate the noise for), "
         "noise_multiplier, "
         "or both"},
        {BASE "  privacy: {epsilon: 3, max_grad_norm: 1}\n", VEIL_E_INVALID,
         "line 6, column 12: privacy has no 'delta' key, which is required: the δ of the guarantee, such as "
         "1e-05 (below one over the number of rows)"},
        {BASE "  privacy: {epsilon: 3, delta: 1.0e-5}\n", VEIL_E_INVALID,
         "line 6, column 12: privacy has no 'max_grad_norm' key, which is required (or tune it in "
         "tuning.space)"},
        {BASE "  privacy: {noise_multiplier: 0, delta: 1.0e-5, max_grad_norm: 1}\n", VEIL_E_INVALID,
         "line 6, column 31: noise_multiplier must be greater than 0 and at most 1e+06, not 0"},
        {BASE "  privacy: {epsilon: 3, delta: 1.0e-5, max_grad_norm: 0}\n", VEIL_E_INVALID,
         "line 6, column 55: max_grad_norm must be greater than 0 and at most 1e+06, not 0"},
        {BASE "  privacy: {epsilon: 3, delta: 1.0e-5, max_grad_norm: 1, sigma: 2}\n", VEIL_E_INVALID,
         "line 6, column 58: unknown key 'sigma' in privacy (known: epsilon, delta, noise_multiplier, "
         "max_grad_norm)"},
        {BASE "  privacy: true\n", VEIL_E_INVALID,
         "line 6, column 12: privacy must be a mapping, not a single value"},
        /* compute, security, resources */
        {BASE "  compute: {memory: 128XB}\n", VEIL_E_INVALID,
         "line 6, column 21: memory must be a size such as 128GB, 64GiB or 1536MB (a whole number above 0 "
         "and one of B, KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB, PiB; at most 1 EiB), not '128XB'"},
        {BASE "  compute: {storage: 1.5TB}\n", VEIL_E_INVALID,
         "line 6, column 22: storage must be a size such as 128GB, 64GiB or 1536MB (a whole number above 0 "
         "and one of B, KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB, PiB; at most 1 EiB), not '1.5TB'"},
        {BASE "  compute: {threads: 0}\n", VEIL_E_INVALID,
         "line 6, column 22: threads must be a whole number from 1 to 1024, not '0'"},
        {BASE "  compute: {shape: \"BM Standard\"}\n", VEIL_E_INVALID,
         "line 6, column 20: shape must be 1 to 64 of letters, digits, '.', '_' and '-', not starting with "
         "'.' or '-'"},
        {BASE "  resources: {network: fast}\n", VEIL_E_INVALID,
         "line 6, column 24: network must be a rate such as 25Gbps, 100Mbps or 1.6Tbps (above 0, at most "
         "1000Tbps), not 'fast'"},
        {BASE "  resources: {gpu: yes}\n", VEIL_E_INVALID,
         "line 6, column 20: gpu must be one of disabled, enabled, not 'yes'"},
        {BASE "  security: {attestation: sometimes}\n", VEIL_E_INVALID,
         "line 6, column 27: attestation must be required or optional, not 'sometimes'"},
        {BASE "  security: {enclave: disabled}\n", VEIL_E_INVALID,
         "line 6, column 23: enclave must be enabled, not 'disabled': veil trains only inside the trusted "
         "worker's TEE"},
        {BASE "  security: {encryption: AES-128}\n", VEIL_E_INVALID,
         "line 6, column 26: encryption must be AES-256 (or AES-256-GCM, the same), not 'AES-128': it is the "
         "only one veil does"},
        /* tuning */
        {BASE "  tuning: {strategy: grid}\n", VEIL_E_INVALID,
         "line 6, column 11: tuning has no 'space' key, which is required: the values to try"},
        {BASE "  tuning: {space: {}}\n", VEIL_E_INVALID,
         "line 6, column 19: space lists no parameter to tune"},
        {BASE "  tuning: {space: {seed: [1, 2]}}\n", VEIL_E_INVALID,
         "line 6, column 20: unknown key 'seed' in space (known: lr, batch_size, epochs, hidden, "
         "max_grad_norm, momentum, weight_decay)"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8}\n  tuning: {space: {lr: [0.1, 0.2, 0.1]}}\n",
         VEIL_E_INVALID,
         "line 6, column 35: a value is listed twice in space.lr (every trial would run twice)"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8}\n  tuning: {space: {lr: []}}\n", VEIL_E_INVALID,
         "line 6, column 24: space.lr lists no value"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8}\n  tuning: {space: {lr: [0.1, 0]}}\n", VEIL_E_INVALID,
         "line 6, column 30: space.lr must be greater than 0 and at most 100, not 0"},
        {BASE "  tuning: {space: {lr: [0.1, 0.2]}}\n", VEIL_E_INVALID,
         "line 6, column 20: lr is tuned; leave it out of train (the space's values replace it)"},
        {BASE "  tuning: {space: {hidden: [[4], [8]]}}\n", VEIL_E_INVALID,
         "line 6, column 20: hidden can be tuned only for type mlp"},
        {L12 L3 MLP L5 "  tuning: {space: {hidden: [[4], [8]]}}\n", VEIL_E_INVALID,
         "line 6, column 20: hidden is tuned; leave it out of model (the space's values replace it)"},
        {L12 L3 "  model: {type: mlp}\n" L5 "  tuning: {space: {hidden: [[4], [4]]}}\n", VEIL_E_INVALID,
         "line 6, column 34: a value is listed twice in space.hidden (every trial would run twice)"},
        {L12 L3 "  model: {type: mlp}\n" L5 "  tuning: {space: {hidden: [4, 8]}}\n", VEIL_E_INVALID,
         "line 6, column 29: each entry of space.hidden must be a list of layer widths, not a single value"},
        {BASE "  tuning: {space: {max_grad_norm: [1, 2]}}\n", VEIL_E_INVALID,
         "line 6, column 20: max_grad_norm can be tuned only with a privacy block"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: 0.1, optimizer: adam}\n"
                   "  tuning: {space: {momentum: [0, 0.9]}}\n",
         VEIL_E_INVALID, "line 6, column 20: momentum can be tuned only with optimizer sgd"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: 0.1, momentum: 0.5}\n"
                   "  tuning: {space: {momentum: [0, 0.9]}}\n",
         VEIL_E_INVALID,
         "line 6, column 20: momentum is tuned; leave it out of train (the space's values replace it)"},
        {BASE "  tuning: {space: {weight_decay: [0, 2]}}\n", VEIL_E_INVALID,
         "line 6, column 38: space.weight_decay must be at least 0 and at most 1, not 2"},
        {BASE "  tuning: {space: {epochs: [1, 2]}}\n", VEIL_E_INVALID,
         "line 6, column 20: epochs is tuned; leave it out of train (the space's values replace it)"},
        {L12 L3 L4 "  train: {lr: 0.1, batch_size: 8}\n  tuning: {space: {epochs: [1, 20000]}}\n",
         VEIL_E_INVALID,
         "line 6, column 32: space.epochs must be a whole number from 1 to 10000, not '20000'"},
        {L12 L3 L4 "  train: {lr: 0.1, epochs: 1}\n  tuning: {strategy: grid, trials: 4, space: {batch_size: "
                   "[1, 2]}}\n",
         VEIL_E_INVALID,
         "line 6, column 28: trials applies only to strategy random (a grid runs every combination)"},
        {L12 L3 L4 "  train: {lr: 0.1, epochs: 1}\n  tuning: {seed: 4, space: {batch_size: [1, 2]}}\n",
         VEIL_E_INVALID, "line 6, column 12: seed applies only to strategy random"},
        {L12 L3 L4
         "  train: {lr: 0.1, epochs: 1}\n  tuning: {strategy: random, space: {batch_size: [1, 2]}}\n",
         VEIL_E_INVALID, "line 6, column 11: strategy random needs trials: how many combinations to draw"},
        {L12 L3 L4 "  train: {lr: 0.1, epochs: 1}\n"
                   "  tuning: {strategy: random, trials: 3, space: {batch_size: [1, 2]}}\n",
         VEIL_E_INVALID,
         "line 6, column 30: trials is 3 and the space has only 2 combinations (a random search never draws "
         "one "
         "twice; strategy grid runs them all)"},
        {L12 L3 L4 "  train: {lr: 0.1, epochs: 1}\n  tuning: {strategy: random, trials: 257, space: "
                   "{batch_size: [1]}}\n",
         VEIL_E_INVALID, "line 6, column 38: trials must be a whole number from 1 to 256, not '257'"},
        {L12 L3 L4 "  train: {epochs: 1, batch_size: 8, lr: 0.1, validation_split: 0}\n"
                   "  tuning: {space: {momentum: [0, 0.9]}}\n",
         VEIL_E_INVALID,
         "line 6, column 3: tuning picks the best trial on validation rows, and validation_split is 0"},
        {L12 L3 L4 "  train: {epochs: 1, lr: 0.1}\n  tuning: {metric: accuracy, space: {batch_size: [1]}}\n",
         VEIL_E_INVALID, "line 6, column 20: metric must be one of val_accuracy, val_loss, not 'accuracy'"},
        {L12 L3 L4 "  train: {epochs: 1, lr: 0.1}\n  tuning: {strategy: bayes, space: {batch_size: [1]}}\n",
         VEIL_E_INVALID, "line 6, column 22: strategy must be one of grid, random, not 'bayes'"},
};

static void test_refusals(void **state)
{
	(void)state;
	size_t wrong = 0;
	for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
		const refusal *c = &refusals[i];
		veil_job *j = (veil_job *)1;
		veil_err e = {0};
		veil_status st = veil_job_parse(c->text, strlen(c->text), &j, &e);
		if (st != c->code || strcmp(e.msg, c->msg) != 0 || j != NULL) {
			print_error("case %zu:\n%s  want %s: %s\n  got  %s: %s\n", i, c->text,
			            veil_status_str(c->code), c->msg, veil_status_str(st), e.msg);
			wrong++;
		}
		if (j && j != (veil_job *)1)
			veil_job_free(j);
	}
	assert_int_equal(wrong, 0);
}

/* A text over the bound is refused before reading, without a position. */
static void test_too_long(void **state)
{
	(void)state;
	size_t n = VEIL_JOB_MAX_BYTES + 1;
	char *t = malloc(n);
	assert_non_null(t);
	memset(t, ' ', n);
	veil_job *j = NULL;
	veil_err e = {0};
	assert_int_equal(veil_job_parse(t, n, &j, &e), VEIL_E_LIMIT);
	assert_string_equal(e.msg, "a job file is at most 1048576 bytes; this one has 1048577");
	assert_null(j);
	free(t);
	veil_job_free(NULL);
}

/* ---- numbers, sizes, rates ---- */

static veil_status lr_of(const char *v, float *out, veil_err *e)
{
	char t[512]; /* block style, so that a comma is part of the value */
	(void)snprintf(t, sizeof t, L12 L3 L4 "  train:\n    epochs: 1\n    batch_size: 8\n    lr: %s\n", v);
	veil_job *j = NULL;
	veil_status st = veil_job_parse(t, strlen(t), &j, e);
	if (!st)
		*out = j->run.train.lr;
	veil_job_free(j);
	return st;
}

static void test_numbers(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		float want;
	} good[] = {{"0.1", 0.1f}, {"1", 1},     {"1e-3", 1e-3f},     {"1.0e-5", 1e-5f},
	            {"2E+1", 20},  {"100", 100}, {"0.000001", 1e-6f}, {"1e2", 100}};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		float v = 0;
		veil_err e = {0};
		if (lr_of(good[i].text, &v, &e) != VEIL_OK)
			fail_msg("%s: %s", good[i].text, e.msg);
		assert_true(v == good[i].want);
	}
	static const char *const bad[] = {"+0.1",       ".5",   "5.",    "01",   "0.1.2", "1e",    "1e+",
	                                  "nan",        "NaN",  "inf",   "-inf", ".Inf",  "0x1p3", "1_000",
	                                  "1,5",        "1e3a", "",      "~",    "null",  "0o7",   "1e-46",
	                                  "100.000001", "--1",  "1 000", "0.1e", "1.5e-", "true"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		float v = 0;
		veil_err e = {0};
		if (lr_of(bad[i], &v, &e) == VEIL_OK)
			fail_msg("lr %s was accepted as %g", bad[i], (double)v);
		if (strncmp(e.msg, "line 8, column ", 15) != 0 || !strstr(e.msg, ": lr must be "))
			fail_msg("lr %s: %s", bad[i], e.msg);
	}
}

static veil_status compute_of(const char *key, const char *v, veil_job **out, veil_err *e)
{
	char t[512];
	(void)snprintf(t, sizeof t, BASE "  %s: %s\n", key, v);
	return veil_job_parse(t, strlen(t), out, e);
}

static void test_sizes_and_rates(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		uint64_t bytes;
	} sizes[] = {{"1B", 1},
	             {"128GB", 128000000000ull},
	             {"128 GB", 128000000000ull},
	             {"64GiB", 64ull << 30},
	             {"1536MB", 1536000000ull},
	             {"2KiB", 2048},
	             {"3KB", 3000},
	             {"1TiB", 1ull << 40},
	             {"1PB", 1000000000000000ull},
	             {"1024PiB", 1ull << 60},
	             {"1152921504606846976B", 1ull << 60}};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		char v[64];
		(void)snprintf(v, sizeof v, "{memory: %s}", sizes[i].text);
		veil_job *j = NULL;
		veil_err e = {0};
		if (compute_of("compute", v, &j, &e) != VEIL_OK)
			fail_msg("%s: %s", sizes[i].text, e.msg);
		assert_int_equal(j->compute.memory, sizes[i].bytes);
		veil_job_free(j);
	}
	static const char *const bad_sizes[] = {"0GB",
	                                        "1.5GB",
	                                        "128gb",
	                                        "128G",
	                                        "GB",
	                                        "128",
	                                        "128  GB",
	                                        "-1GB",
	                                        "1025PiB",
	                                        "1153PB",
	                                        "01GB",
	                                        "1 GiB ",
	                                        "99999999999999999999B"};
	for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
		char v[64];
		(void)snprintf(v, sizeof v, "{memory: '%s'}", bad_sizes[i]);
		veil_job *j = NULL;
		veil_err e = {0};
		if (compute_of("compute", v, &j, &e) == VEIL_OK)
			fail_msg("memory %s was accepted as %llu", bad_sizes[i],
			         (unsigned long long)j->compute.memory);
		assert_non_null(strstr(e.msg, "memory must be a size such as 128GB"));
	}
	static const struct {
		const char *text;
		double gbps;
	} rates[] = {{"25Gbps", 25}, {"100Mbps", 0.1}, {"1.6Tbps", 1600}, {"25 Gbps", 25}, {"1000Tbps", 1e6}};
	for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
		char v[64];
		(void)snprintf(v, sizeof v, "{network: %s}", rates[i].text);
		veil_job *j = NULL;
		veil_err e = {0};
		if (compute_of("resources", v, &j, &e) != VEIL_OK)
			fail_msg("%s: %s", rates[i].text, e.msg);
		assert_true(fabs(j->compute.network_gbps - rates[i].gbps) <= 1e-9 * rates[i].gbps);
		veil_job_free(j);
	}
	static const char *const bad_rates[] = {"fast",    "0Gbps",    "25gbps", "25",      "25Gb/s",
	                                        "1e3Gbps", "1001Tbps", ".5Gbps", "25 Gbps "};
	for (size_t i = 0; i < sizeof bad_rates / sizeof bad_rates[0]; i++) {
		char v[64];
		(void)snprintf(v, sizeof v, "{network: '%s'}", bad_rates[i]);
		veil_job *j = NULL;
		veil_err e = {0};
		if (compute_of("resources", v, &j, &e) == VEIL_OK)
			fail_msg("network %s was accepted as %g", bad_rates[i], j->compute.network_gbps);
		assert_non_null(strstr(e.msg, "network must be a rate"));
	}
}

/* ---- limits: at the bound passes, past it fails ---- */

static char *names_job(const char *key, size_t n, size_t len)
{
	veil_buf b = {0};
	veil_err e = {0};
	assert_int_equal(veil_buf_printf(&b, &e, BASE "  %s: [", key), VEIL_OK);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(veil_buf_printf(&b, &e, "%sc%0*zu", i ? ", " : "", (int)(len - 1), i),
		                 VEIL_OK);
	}
	assert_int_equal(veil_buf_printf(&b, &e, "]\n"), VEIL_OK);
	assert_int_equal(veil_buf_append(&b, "", 1, &e), VEIL_OK);
	return (char *)b.data;
}

static void test_limits(void **state)
{
	(void)state;
	veil_err e = {0};
	veil_job *j = NULL;
	char *t = names_job("features", VEIL_JOB_FEATURES_MAX, 6);
	j = parse_ok(t);
	assert_int_equal(j->n_features, VEIL_JOB_FEATURES_MAX);
	assert_string_equal(j->features[4095], "c04095");
	veil_job_free(j);
	free(t);
	t = names_job("exclude", VEIL_JOB_FEATURES_MAX + 1, 6);
	assert_int_equal(veil_job_parse(t, strlen(t), &j, &e), VEIL_E_LIMIT);
	assert_non_null(strstr(e.msg, ": exclude lists more than 4096 columns"));
	free(t);
	/* A column name of 512 bytes, then 513. */
	t = names_job("features", 2, VEIL_JOB_COLUMN_MAX);
	j = parse_ok(t);
	assert_int_equal(strlen(j->features[1]), VEIL_JOB_COLUMN_MAX);
	veil_job_free(j);
	free(t);
	t = names_job("features", 1, VEIL_JOB_COLUMN_MAX + 1);
	assert_int_equal(veil_job_parse(t, strlen(t), &j, &e), VEIL_E_LIMIT);
	assert_string_equal(e.msg, "line 6, column 14: a column name in features is longer than 512 bytes");
	free(t);
	/* Eight data sets; a name of 64 characters, then 65. */
	j = parse_ok(L12 "  dataset: [a, b, c, d, e, f, g, h]\n" L4 L5);
	assert_int_equal(j->n_datasets, 8);
	veil_job_free(j);
	char name[80];
	memset(name, 'n', 64);
	name[64] = '\0';
	char text[512];
	(void)snprintf(text, sizeof text, L12 "  dataset: %s@7\n" L4 L5, name);
	j = parse_ok(text);
	assert_string_equal(j->datasets[0].name, name);
	veil_job_free(j);
	(void)snprintf(text, sizeof text, L12 "  dataset: %sn\n" L4 L5, name);
	assert_int_equal(veil_job_parse(text, strlen(text), &j, &e), VEIL_E_INVALID);
	(void)snprintf(text, sizeof text, "training_job:\n  name: %s\n" L3 L4 L5, name);
	j = parse_ok(text);
	veil_job_free(j);
	(void)snprintf(text, sizeof text, "training_job:\n  name: %sn\n" L3 L4 L5, name);
	assert_int_equal(veil_job_parse(text, strlen(text), &j, &e), VEIL_E_INVALID);
	/* Eight hidden layers; 64 values of a parameter, then 65; a grid of 256, then 512. */
	j = parse_ok(L12 L3 "  model: {type: mlp, hidden: [1, 2, 3, 4, 5, 6, 7, 65536]}\n" L5);
	assert_int_equal(j->run.model.n_hidden, 8);
	veil_job_free(j);
	veil_buf b = {0};
	assert_int_equal(veil_buf_printf(&b, &e,
	                                 L12 L3 L4 "  train: {epochs: 1}\n"
	                                           "  tuning: {space: {lr: ["),
	                 VEIL_OK);
	for (int i = 1; i <= 64; i++)
		assert_int_equal(veil_buf_printf(&b, &e, "%s%d", i > 1 ? ", " : "", i), VEIL_OK);
	assert_int_equal(veil_buf_printf(&b, &e, "], batch_size: [1, 2, 3, 4]}}\n"), VEIL_OK);
	assert_int_equal(veil_buf_append(&b, "", 1, &e), VEIL_OK);
	j = parse_ok((const char *)b.data);
	assert_int_equal(veil_job_trials(j), 256);
	veil_job_free(j);
	char *p = strstr((char *)b.data, "3, 4]");
	memcpy(p, "3, 4, 5, 6, 7, 8]}}\n", 21);
	assert_int_equal(veil_job_parse((const char *)b.data, strlen((const char *)b.data), &j, &e),
	                 VEIL_E_LIMIT);
	assert_string_equal(e.msg,
	                    "line 6, column 12: the grid has 512 combinations and a tuning run at most 256 "
	                    "trials (fewer values, or strategy random)");
	p = strstr((char *)b.data, "64]");
	memcpy(p, "64, 65]}}\n", 11);
	assert_int_equal(veil_job_parse((const char *)b.data, strlen((const char *)b.data), &j, &e),
	                 VEIL_E_LIMIT);
	assert_non_null(strstr(e.msg, "space.lr lists more than 64 values"));
	veil_buf_free(&b);
}

/* ---- tuning ---- */

static void test_grid_order(void **state)
{
	(void)state;
	veil_job *j = parse_ok(L12 L3 "  model: {type: mlp}\n"
	                              "  train: {epochs: 1}\n"
	                              "  tuning:\n"
	                              "    space:\n"
	                              "      hidden: [[4], [8, 2]]\n" /* file order does not matter: */
	                              "      batch_size: [16, 32, 64]\n"
	                              "      lr: [0.5, 0.25]\n");
	assert_int_equal(j->tuning.strategy, VEIL_JOB_GRID);
	assert_int_equal(j->tuning.metric, VEIL_JOB_VAL_ACCURACY);
	assert_int_equal(veil_job_trials(j), 12);
	/* lr outermost, then batch_size, hidden fastest: the parameters' order, last fastest. */
	veil_err e = {0};
	size_t i = 0;
	for (size_t l = 0; l < 2; l++)
		for (size_t bs = 0; bs < 3; bs++)
			for (size_t h = 0; h < 2; h++, i++) {
				veil_job_run r;
				assert_int_equal(veil_job_trial(j, i, &r, &e), VEIL_OK);
				assert_true(r.train.lr == (l ? 0.25f : 0.5f));
				assert_int_equal(r.train.batch_size, 16u << bs);
				assert_int_equal(r.model.n_hidden, h ? 2 : 1);
				assert_int_equal(r.model.hidden[0], h ? 8 : 4);
				assert_int_equal(r.model.hidden[1], h ? 2 : 0);
				assert_int_equal(r.train.epochs, 1);
				assert_int_equal(j->tuning.picks[i][VEIL_JOB_TUNE_EPOCHS], 0);
			}
	veil_job_run r;
	assert_int_equal(veil_job_trial(j, 12, &r, &e), VEIL_E_INVALID);
	assert_string_equal(e.msg, "job 'j' has 12 trials; there is no trial 12");
	char *s = summary_of(j);
	assert_string_equal(
	        s, "j: mlp hidden tuned relu; data d; test split 0.1; validation split 0.1; sgd lr tuned; "
	           "1 epoch, batch tuned, seed 0; not private; attestation required; tuning grid, 12 "
	           "trials by val_accuracy over lr, batch_size, hidden");
	free(s);
	veil_job_free(j);
}

/* The documented random procedure, written again from docs/formats/job.md. */
static uint64_t ref_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t ref_below(uint64_t *s, uint64_t n)
{
	for (;;) {
		unsigned __int128 m = (unsigned __int128)ref_next(s) * n;
		if ((uint64_t)m >= (uint64_t)(-n) % n)
			return (uint64_t)(m >> 64);
	}
}

static void test_random(void **state)
{
	(void)state;
	const char *text = L12 L3
	        "  model: {type: mlp}\n"
	        "  train: {batch_size: 8, optimizer: sgd}\n" PRIV "  tuning:\n"
	        "    strategy: random\n"
	        "    trials: 20\n"
	        "    seed: 12345\n"
	        "    metric: val_loss\n"
	        "    space: {lr: [0.1, 0.2, 0.3], epochs: [1, 2, 3, 4, 5], hidden: [[1], [2]], momentum: [0, "
	        "0.5, 0.9]}\n";
	veil_job *j = parse_ok(text);
	assert_int_equal(j->tuning.metric, VEIL_JOB_VAL_LOSS);
	assert_int_equal(veil_job_trials(j), 20);
	/* Against the procedure: draws in parameter order, a combination seen before redrawn whole. */
	const size_t n[VEIL_JOB_TUNE_PARAMS] = {3, 0, 5, 2, 0, 3, 0};
	uint8_t want[20][VEIL_JOB_TUNE_PARAMS];
	memset(want, 0, sizeof want);
	uint64_t s = 12345;
	for (size_t t = 0; t < 20;) {
		for (int k = 0; k < VEIL_JOB_TUNE_PARAMS; k++)
			if (n[k])
				want[t][k] = (uint8_t)ref_below(&s, n[k]);
		bool dup = false;
		for (size_t u = 0; u < t; u++)
			dup = dup || memcmp(want[u], want[t], sizeof want[t]) == 0;
		if (!dup)
			t++;
	}
	assert_memory_equal(j->tuning.picks, want, sizeof want);
	/* Every trial distinct; the same text gives the same trials; another seed others. */
	for (size_t a = 0; a < 20; a++)
		for (size_t b = a + 1; b < 20; b++)
			assert_memory_not_equal(j->tuning.picks[a], j->tuning.picks[b], VEIL_JOB_TUNE_PARAMS);
	veil_job *again = parse_ok(text);
	assert_memory_equal(&again->tuning, &j->tuning, sizeof j->tuning);
	veil_job_free(again);
	char *other = strdup(text);
	strstr(other, "12345")[4] = '6'; /* seed 12346 */
	again = parse_ok(other);
	assert_memory_not_equal(again->tuning.picks, j->tuning.picks, sizeof want);
	veil_job_free(again);
	free(other);
	veil_job_run r;
	veil_err e = {0};
	assert_int_equal(veil_job_trial(j, 3, &r, &e), VEIL_OK);
	assert_true(r.train.lr == (float)j->tuning.values[VEIL_JOB_TUNE_LR][want[3][VEIL_JOB_TUNE_LR]]);
	assert_int_equal(r.train.epochs, want[3][VEIL_JOB_TUNE_EPOCHS] + 1);
	assert_int_equal(r.model.hidden[0], want[3][VEIL_JOB_TUNE_HIDDEN] + 1);
	assert_true(r.train.momentum ==
	            (float)j->tuning.values[VEIL_JOB_TUNE_MOMENTUM][want[3][VEIL_JOB_TUNE_MOMENTUM]]);
	assert_true(r.train.max_grad_norm == 1);
	veil_job_free(j);

	/* As many trials as combinations: each combination once. */
	j = parse_ok(L12 L3 L4 "  train: {epochs: 1, lr: 0.1}\n"
	                       "  tuning: {strategy: random, trials: 6, space: {batch_size: [1, 2, 3], "
	                       "weight_decay: [0, 0.1]}}\n");
	bool seen[3][2] = {{false}};
	for (size_t t = 0; t < 6; t++) {
		assert_int_equal(veil_job_trial(j, t, &r, &e), VEIL_OK);
		size_t wd = r.train.weight_decay > 0;
		assert_false(seen[r.train.batch_size - 1][wd]);
		seen[r.train.batch_size - 1][wd] = true;
	}
	veil_job_free(j);
}

/* splitmix64's published outputs for seed 1234567 (Vigna's splitmix64.c,
 * as Rosetta Code's "Pseudo-random numbers/Splitmix64" lists them). */
static void test_splitmix64(void **state)
{
	(void)state;
	static const uint64_t want[] = {6457827717110365317ull, 3203168211198807973ull,
	                                9817491932198370423ull, 4593380528125082431ull,
	                                16408922859458223821ull};
	uint64_t s = 1234567;
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(veil_job_splitmix64(&s), want[i]);
	/* Below a power of two the draw is the output's top bits: nothing is rejected. */
	s = 1234567;
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(veil_job_draw_below(&s, 8), want[i] >> 61);
	s = 1234567;
	assert_int_equal(veil_job_draw_below(&s, 1), 0);
	/* Any n: the same as the reference, and in range. */
	uint64_t a = 99, b = 99;
	for (uint64_t n = 1; n < 2000; n += 7) {
		uint64_t x = veil_job_draw_below(&a, n);
		assert_int_equal(x, ref_below(&b, n));
		assert_true(x < n);
	}
}

/* ---- warnings ---- */

static void test_warnings(void **state)
{
	(void)state;
	veil_job *j = parse_ok(BASE "  compute: {cores: 128, memory: 128GB, storage: 1TB, threads: 4}\n"
	                            "  resources: {gpu: enabled}\n");
	veil_job_warning w[VEIL_JOB_WARNINGS_MAX];
	veil_job_machine small = {.cores = 2, .memory = 24ull << 30, .disk = 100ull << 30, .gpu = false};
	size_t n = veil_job_warnings(j, &small, w);
	assert_int_equal(n, 5);
	assert_string_equal(w[0].text, "the job asks for 128 cores (compute.cores) and this machine has 2");
	assert_string_equal(w[1].text,
	                    "the job asks for 4 threads (compute.threads) and this machine has 2 cores: it "
	                    "runs, more slowly, with the threads asked for, since their number decides "
	                    "the model's exact bits");
	assert_string_equal(
	        w[2].text,
	        "the job asks for 119.2 GiB of memory (compute.memory) and this machine has 24.0 GiB");
	assert_string_equal(w[3].text,
	                    "the job asks for 931.3 GiB of storage (compute.storage) and the workspace's "
	                    "disk has 100.0 GiB free");
	assert_string_equal(w[4].text,
	                    "the job asks for a GPU (resources.gpu) and this machine has none; veil trains "
	                    "on the CPU, so the job runs as it would anyway");
	/* A machine that has it all: only the note that the GPU goes unused. */
	veil_job_machine big = {.cores = 256, .memory = 1ull << 40, .disk = 1ull << 42, .gpu = true};
	n = veil_job_warnings(j, &big, w);
	assert_int_equal(n, 1);
	assert_string_equal(w[0].text,
	                    "the job asks for a GPU (resources.gpu); veil trains on the CPU with OpenBLAS "
	                    "and leaves it unused");
	/* Facts the host does not know compare with nothing. */
	veil_job_machine unknown = {0};
	assert_int_equal(veil_job_warnings(j, &unknown, w), 1);
	veil_job_free(j);
	/* A job that asks nothing warns about nothing; exactly what the machine has is enough. */
	j = parse_ok(BASE "  compute: {cores: 2, memory: 24GiB, threads: 2}\n");
	assert_int_equal(veil_job_warnings(j, &small, w), 0);
	veil_job_free(j);
	j = parse_ok(BASE "  compute: {memory: 1000B}\n");
	small.memory = 999;
	assert_int_equal(veil_job_warnings(j, &small, w), 1);
	assert_string_equal(w[0].text,
	                    "the job asks for 1000 bytes of memory (compute.memory) and this machine has "
	                    "999 bytes");
	veil_job_free(j);
}

/* ---- the summary ---- */

static void test_summary(void **state)
{
	(void)state;
	veil_job *j =
	        parse_ok(L12 L3 L4 "  train: {epochs: 3, batch_size: 8, lr: 0.3, momentum: 0.1, seed: 9,"
	                           " schedule: cosine, checkpoint_every: 50}\n"
	                           "  features: [a, b]\n  privacy: {epsilon: 0.7, noise_multiplier: 1.3,"
	                           " delta: 2e-7, max_grad_norm: 0.1}\n  compute: {threads: 1}\n");
	char *s = summary_of(j);
	assert_string_equal(s,
	                    "j: logreg; data d; test split 0.1; validation split 0.1; 2 features; sgd lr 0.3 "
	                    "momentum 0.1 cosine; 3 epochs, batch 8, seed 9, checkpoint every 50 steps; dp "
	                    "epsilon 0.7 delta 2e-07 sigma 1.3 C 0.1; 1 thread; attestation required");
	assert_null(strchr(s, '\n'));
	/* Appended after what the buffer holds. */
	veil_buf b = {0};
	veil_err e = {0};
	assert_int_equal(veil_buf_append(&b, "> ", 2, &e), VEIL_OK);
	assert_int_equal(veil_job_summary(j, &b, &e), VEIL_OK);
	assert_int_equal(b.len, 2 + strlen(s));
	assert_memory_equal(b.data + 2, s, strlen(s));
	veil_buf_free(&b);
	free(s);
	veil_job_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_example_fmnist),
	        cmocka_unit_test(test_example_fmnist_dp),
	        cmocka_unit_test(test_example_fmnist_dp_tanh),
	        cmocka_unit_test(test_example_patients),
	        cmocka_unit_test(test_example_tune),
	        cmocka_unit_test(test_defaults),
	        cmocka_unit_test(test_everything),
	        cmocka_unit_test(test_refusals),
	        cmocka_unit_test(test_too_long),
	        cmocka_unit_test(test_numbers),
	        cmocka_unit_test(test_sizes_and_rates),
	        cmocka_unit_test(test_limits),
	        cmocka_unit_test(test_grid_order),
	        cmocka_unit_test(test_random),
	        cmocka_unit_test(test_splitmix64),
	        cmocka_unit_test(test_warnings),
	        cmocka_unit_test(test_summary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
