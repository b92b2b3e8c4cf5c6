/*
 * Training (layer 4): dense models in float32 on OpenBLAS, SGD with
 * momentum and Adam, learning-rate schedules, weight decay, and DP-SGD
 * (Poisson subsampling, per-example clipping of every layer, Gaussian
 * noise). Everything here is deterministic given the seeds it is handed:
 * the same model spec, config, data and OpenBLAS thread count give a
 * byte-identical model. The DP randomness (which examples a step samples,
 * the noise) comes from dp_seed, which the caller draws from the CSPRNG
 * and never lets out of the TEE: an adversary who knew it could subtract
 * the noise.
 *
 * Data is a dense row-major float matrix with int32 class labels
 * (0..classes-1). The model, the optimizer state and the generators'
 * positions together are the trainer's state; veil_trainer_save writes it
 * (docs/formats/checkpoint.md) and veil_trainer_load resumes it so that
 * the run continues exactly as if it had never stopped.
 */
#ifndef VEIL_LEARN_H
#define VEIL_LEARN_H

#include "veil/base.h"

#define VEIL_LEARN_HIDDEN_MAX  8          /* hidden layers an MLP may have */
#define VEIL_LEARN_WIDTH_MAX   65536      /* units in one layer, inputs included */
#define VEIL_LEARN_CLASSES_MAX 4096       /* classes of a classifier */
#define VEIL_LEARN_PARAMS_MAX  (1u << 28) /* parameters of one model (1 GiB of float32) */
#define VEIL_LEARN_DP_SEED_LEN 32

typedef enum veil_model_kind {
	VEIL_MODEL_LOGREG = 1,  /* binary logistic regression: one sigmoid output, classes must be 2 */
	VEIL_MODEL_SOFTMAX = 2, /* multinomial (softmax) regression: no hidden layer */
	VEIL_MODEL_MLP = 3,     /* dense hidden layers, then a softmax output */
} veil_model_kind;

typedef enum veil_activation {
	VEIL_ACT_RELU = 1,
	VEIL_ACT_TANH = 2,
	VEIL_ACT_TEMPERED_SIGMOID = 3, /* scale·sigmoid(temperature·x) − offset (Papernot et al. 2021) */
} veil_activation;

typedef struct veil_model_spec {
	veil_model_kind kind;
	size_t inputs;  /* features per example */
	size_t classes; /* ≥ 2 */
	size_t hidden[VEIL_LEARN_HIDDEN_MAX];
	size_t n_hidden; /* 0 unless kind is MLP; an MLP has at least one */
	veil_activation activation;
	float ts_scale, ts_temperature, ts_offset; /* tempered sigmoid; defaults 2, 2, 1 (= tanh) */
} veil_model_spec;

typedef enum veil_optimizer { VEIL_OPT_SGD = 1, VEIL_OPT_ADAM = 2 } veil_optimizer;
typedef enum veil_schedule {
	VEIL_SCHED_CONSTANT = 1,
	VEIL_SCHED_STEP = 2,
	VEIL_SCHED_COSINE = 3
} veil_schedule;

typedef struct veil_train_config {
	size_t epochs;     /* ≥ 1 */
	size_t batch_size; /* the mean batch under DP (q = batch_size / rows) */
	veil_optimizer optimizer;
	float lr, momentum, weight_decay; /* momentum: SGD only (0 = none) */
	float beta1, beta2, adam_eps;     /* Adam: defaults 0.9, 0.999, 1e-8 */
	veil_schedule schedule;
	size_t step_epochs; /* STEP: multiply lr by step_gamma every step_epochs epochs */
	float step_gamma;
	uint64_t seed;   /* initialisation and (without DP) shuffling */
	size_t patience; /* early stopping: epochs without a better validation loss; 0 = off */
	/* DP-SGD: on when dp is true. */
	bool dp;
	double noise_multiplier; /* σ: the noise has standard deviation σ·max_grad_norm */
	double max_grad_norm;    /* C: each example's whole gradient is clipped to this L2 norm */
	uint8_t dp_seed[VEIL_LEARN_DP_SEED_LEN];
} veil_train_config;

/* A data set in memory: rows × cols floats (row-major) and rows labels. */
typedef struct veil_matrix {
	const float *x;
	const int32_t *y;
	size_t rows, cols;
} veil_matrix;

typedef struct veil_model veil_model;
typedef struct veil_trainer veil_trainer;

/* Checks a spec: kinds, sizes within the limits above, parameter count. */
veil_status veil_model_spec_check(const veil_model_spec *spec, veil_err *err) VEIL_MUST_CHECK;
/* Checks a config against the number of training rows (a batch larger
 * than the data, lr ≤ 0, σ ≤ 0 or C ≤ 0 or an all-zero dp_seed under DP,
 * momentum outside [0, 1), ...). */
veil_status veil_train_config_check(const veil_train_config *cfg, size_t rows, veil_err *err) VEIL_MUST_CHECK;
/* Fill the whole struct: everything zero, then the defaults of the
 * optional fields. Call them first and set fields after. Config: SGD,
 * constant schedule, Adam's betas 0.9/0.999 and eps 1e-8, step_epochs 1,
 * step_gamma 0.1 (PyTorch's StepLR default). Spec: an MLP with ReLU and the
 * tempered sigmoid's 2, 2, 1 (= tanh). */
void veil_train_config_defaults(veil_train_config *cfg);
void veil_model_spec_defaults(veil_model_spec *spec);

/* Model parameters: one contiguous float array; layer i has a weight
 * matrix of in×out (row-major, so x·W) and a bias of out. veil_model_new
 * initialises weights uniformly, He's bound √(6/in) for ReLU hidden layers
 * and Glorot's √(6/(in+out)) for the others, from a generator keyed by the
 * seed; biases are 0. Logistic regression's one layer has one output
 * (P(class 1) = σ(x·W + b)). */
veil_status veil_model_new(const veil_model_spec *spec, uint64_t seed, veil_model **out,
                           veil_err *err) VEIL_MUST_CHECK;
void veil_model_free(veil_model *m); /* wipes; NULL ok */
const veil_model_spec *veil_model_get_spec(const veil_model *m);
size_t veil_model_layers(const veil_model *m);
/* Layer i's weights (in×out) and bias (out), in the model's memory. */
void veil_model_layer(const veil_model *m, size_t i, float **w, size_t *in, size_t *out, float **b);
size_t veil_model_param_count(const veil_model *m);
float *veil_model_params(veil_model *m);
/* Class probabilities for rows examples (probs: rows × classes). */
veil_status veil_model_predict(const veil_model *m, const float *x, size_t rows, float *probs,
                               veil_err *err) VEIL_MUST_CHECK;
/* Mean cross-entropy and accuracy over a data set. */
veil_status veil_model_loss(const veil_model *m, const veil_matrix *data, double *loss, double *accuracy,
                            veil_err *err) VEIL_MUST_CHECK;

/* One training run. The trainer owns its model; it borrows the data.
 * An epoch is ceil(rows / batch_size) steps, with and without DP. Without
 * DP each epoch visits a permutation of the rows (keyed by seed and epoch)
 * in slices of batch_size, the last possibly short, and averages over the
 * slice. Under DP each step is a Poisson sample: every row independently
 * with probability q = batch_size / rows (so a batch may be empty); each
 * example's whole gradient is clipped to max_grad_norm, the sum gets
 * N(0, σ²C²) noise per parameter and is divided by batch_size (the expected
 * batch). The RDP accountant is to be given exactly this q and steps. */
typedef struct veil_step_info {
	size_t epoch;   /* 0-based epoch of the step just taken */
	uint64_t step;  /* steps taken so far (1 after the first) */
	size_t batch;   /* examples in this step's batch (Poisson under DP) */
	double loss;    /* this batch's mean loss, before the update (0 for an empty
	                 * batch); under DP it is not private: keep it in the worker */
	bool epoch_end; /* the step ended its epoch */
	bool done;      /* all epochs ran, or early stopping said stop */
} veil_step_info;

veil_status veil_trainer_new(const veil_model_spec *spec, const veil_train_config *cfg, size_t train_rows,
                             veil_trainer **out, veil_err *err) VEIL_MUST_CHECK;
void veil_trainer_free(veil_trainer *t); /* wipes dp_seed and state; NULL ok */
/* Takes one step on train. A non-finite loss or parameter is VEIL_E_DIVERGED
 * (the state is then the one before the step, so the last checkpoint stays good). */
veil_status veil_trainer_step(veil_trainer *t, const veil_matrix *train, veil_step_info *info,
                              veil_err *err) VEIL_MUST_CHECK;
/* At an epoch end, with validation data: records its loss for early
 * stopping and keeps the best parameters seen (veil_trainer_model then
 * returns them). A second call at the same epoch end only measures. A
 * non-finite validation loss is VEIL_E_DIVERGED and changes nothing. */
veil_status veil_trainer_validate(veil_trainer *t, const veil_matrix *valid, double *loss, double *accuracy,
                                  veil_err *err) VEIL_MUST_CHECK;
/* True once every epoch ran or early stopping said stop (after the
 * validate that ran out of patience); a done trainer takes no more steps. */
bool veil_trainer_done(const veil_trainer *t);
uint64_t veil_trainer_steps_per_epoch(const veil_trainer *t);
uint64_t veil_trainer_steps_done(const veil_trainer *t);
double veil_trainer_lr(const veil_trainer *t); /* the learning rate the next step uses */
/* The model to keep: the best by validation loss when validation ran, else the last. */
const veil_model *veil_trainer_model(const veil_trainer *t);

/* Checkpoints (docs/formats/checkpoint.md): the whole state, dp_seed
 * included, so the bytes must only ever be stored sealed, and the caller
 * wipes its buffer (veil_wipe) before freeing it. save appends to out.
 * load checks that spec, config and train_rows match the ones the state
 * was saved with and refuses damaged or inconsistent bytes (VEIL_E_CORRUPT;
 * VEIL_E_INVALID for another spec or config; VEIL_E_UNSUPPORTED for another
 * format version); it ignores cfg->dp_seed: the run goes on with the
 * checkpoint's. Resuming gives the same bytes an uninterrupted run gives. */
veil_status veil_trainer_save(const veil_trainer *t, veil_buf *out, veil_err *err) VEIL_MUST_CHECK;
veil_status veil_trainer_load(const veil_model_spec *spec, const veil_train_config *cfg, size_t train_rows,
                              const uint8_t *state, size_t len, veil_trainer **out,
                              veil_err *err) VEIL_MUST_CHECK;

/* OpenBLAS's thread count for this process (0 = one per core), which DP
 * noise generation also uses. Results are reproducible for a given count;
 * different counts may differ in the last bits (OpenBLAS splits products
 * differently). */
void veil_learn_set_threads(size_t n);

#endif
