/*
 * Fuzz target: veil_job_parse, the reader of training job files
 * (docs/formats/job.md), which an ML engineer writes and both the host and
 * the trusted worker read; then, for a job that parses, every trial, the
 * summary line and the machine warnings. The input is passed as it is,
 * without a NUL, so that a read past `len` is caught.
 *
 * Invariants (abort on violation):
 *  1. A failure is VEIL_E_INVALID, VEIL_E_UNSUPPORTED or VEIL_E_LIMIT with
 *     "line L, column C: " and a message (VEIL_E_LIMIT without a position
 *     only for a text over VEIL_JOB_MAX_BYTES), and leaves *out NULL.
 *  2. A parsed job keeps the format's rules: valid and distinct names,
 *     1..8 data sets, the test data set not among them, distinct feature
 *     columns without the label, not both features and exclude, values in
 *     their documented ranges, privacy fields set exactly when dp is on,
 *     dp_seed zero.
 *  3. Every trial (1..256 of them) resolves to a complete run whose tuned
 *     values come from the space; trials are distinct combinations;
 *     resolving a trial twice gives the same bytes; one past the last fails.
 *  4. The summary is one non-empty line of printable text starting with the
 *     job's name, and parsing the same bytes again gives the same job
 *     (summary and trials).
 *  5. Warnings are at most VEIL_JOB_WARNINGS_MAX non-empty strings; a
 *     machine that has everything gets at most the GPU note.
 */
#include "fuzz.h"
#include "veil/learn_job.h"

#include <string.h>

/* "line L, column C: message" with L, C >= 1 and a message. */
static bool has_position(const char *msg)
{
	const char *s = msg;
	for (int part = 0; part < 2; part++) {
		const char *label = part ? ", column " : "line ";
		size_t n = strlen(label);
		if (strncmp(s, label, n) != 0)
			return false;
		s += n;
		if (*s < '1' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return strncmp(s, ": ", 2) == 0 && s[2] != '\0';
}

static bool name_ok(const char *s)
{
	veil_err ignored = {0};
	return memchr(s, '\0', VEIL_JOB_NAME_MAX) && veil_name_check(s, "name", &ignored) == VEIL_OK;
}

static bool in(double v, double lo, double hi)
{
	return v >= lo && v <= hi;
}

/* Field by field: the structs have padding, which memcmp would compare. */
static bool same_run(const veil_job_run *a, const veil_job_run *b)
{
	const veil_model_spec *m = &a->model, *n = &b->model;
	const veil_train_config *c = &a->train, *d = &b->train;
	bool same = m->kind == n->kind && m->n_hidden == n->n_hidden && m->activation == n->activation &&
	            m->ts_scale == n->ts_scale && m->ts_temperature == n->ts_temperature &&
	            m->ts_offset == n->ts_offset && m->inputs == n->inputs && m->classes == n->classes;
	for (size_t i = 0; i < VEIL_LEARN_HIDDEN_MAX; i++)
		same = same && m->hidden[i] == n->hidden[i];
	same = same && c->epochs == d->epochs && c->batch_size == d->batch_size &&
	       c->optimizer == d->optimizer && c->lr == d->lr && c->momentum == d->momentum &&
	       c->weight_decay == d->weight_decay && c->beta1 == d->beta1 && c->beta2 == d->beta2 &&
	       c->adam_eps == d->adam_eps && c->schedule == d->schedule && c->step_epochs == d->step_epochs &&
	       c->step_gamma == d->step_gamma && c->seed == d->seed && c->patience == d->patience &&
	       c->dp == d->dp && c->noise_multiplier == d->noise_multiplier &&
	       c->max_grad_norm == d->max_grad_norm && memcmp(c->dp_seed, d->dp_seed, sizeof c->dp_seed) == 0;
	return same && a->target_epsilon == b->target_epsilon && a->delta == b->delta &&
	       a->validation_split == b->validation_split && a->test_split == b->test_split &&
	       a->split_seed == b->split_seed && a->checkpoint_every == b->checkpoint_every;
}

static bool same_tuning(const veil_job_tuning *a, const veil_job_tuning *b)
{
	bool same = a->on == b->on && a->strategy == b->strategy && a->metric == b->metric &&
	            a->seed == b->seed && a->trials == b->trials &&
	            memcmp(a->picks, b->picks, sizeof a->picks) == 0;
	for (int k = 0; k < VEIL_JOB_TUNE_PARAMS; k++) {
		same = same && a->nvalues[k] == b->nvalues[k];
		for (size_t i = 0; i < VEIL_JOB_TUNE_VALUES_MAX; i++)
			same = same && a->values[k][i] == b->values[k][i];
	}
	for (size_t i = 0; i < VEIL_JOB_TUNE_VALUES_MAX; i++)
		same = same && a->n_hidden[i] == b->n_hidden[i] &&
		       memcmp(a->hidden[i], b->hidden[i], sizeof a->hidden[i]) == 0;
	return same;
}

/* Invariant 3 for one resolved run. */
static void check_run(const veil_job *j, const veil_job_run *r)
{
	const veil_model_spec *s = &r->model;
	const veil_train_config *c = &r->train;
	FUZZ_CHECK(s->kind >= VEIL_MODEL_LOGREG && s->kind <= VEIL_MODEL_MLP, "an unknown model kind");
	FUZZ_CHECK(s->inputs == 0 && s->classes == 0, "inputs or classes set: the data gives them");
	if (s->kind == VEIL_MODEL_MLP) {
		FUZZ_CHECK(s->n_hidden >= 1 && s->n_hidden <= VEIL_LEARN_HIDDEN_MAX,
		           "an mlp without hidden layers");
		for (size_t i = 0; i < s->n_hidden; i++)
			FUZZ_CHECK(s->hidden[i] >= 1 && s->hidden[i] <= VEIL_LEARN_WIDTH_MAX,
			           "a layer width out of range");
	} else {
		FUZZ_CHECK(s->n_hidden == 0, "hidden layers outside an mlp");
	}
	FUZZ_CHECK(s->activation >= VEIL_ACT_RELU && s->activation <= VEIL_ACT_TEMPERED_SIGMOID,
	           "an unknown activation");
	FUZZ_CHECK(c->epochs >= 1 && c->epochs <= VEIL_JOB_EPOCHS_MAX, "epochs out of range");
	FUZZ_CHECK(c->batch_size >= 1 && c->batch_size <= VEIL_JOB_BATCH_MAX, "batch_size out of range");
	FUZZ_CHECK(c->lr > 0 && c->lr <= 100, "lr out of range");
	FUZZ_CHECK(c->momentum >= 0 && c->momentum < 1, "momentum out of range");
	FUZZ_CHECK(c->optimizer == VEIL_OPT_SGD || c->momentum == 0, "momentum without sgd");
	FUZZ_CHECK(in(c->weight_decay, 0, 1), "weight_decay out of range");
	FUZZ_CHECK(c->beta1 >= 0 && c->beta1 < 1 && c->beta2 >= 0 && c->beta2 < 1 && c->adam_eps > 0,
	           "Adam's parameters out of range");
	FUZZ_CHECK(c->schedule != VEIL_SCHED_STEP ||
	                   (c->step_epochs >= 1 && c->step_gamma > 0 && c->step_gamma <= 1),
	           "a step schedule without its steps");
	FUZZ_CHECK(in(r->validation_split, 0, 0.5) && in(r->test_split, 0, 0.5) &&
	                   r->validation_split + r->test_split < 1,
	           "splits out of range");
	FUZZ_CHECK(!j->has_test_dataset || r->test_split == 0, "a test split beside a test data set");
	FUZZ_CHECK(!c->patience || r->validation_split > 0, "patience without validation rows");
	static const uint8_t zero[VEIL_LEARN_DP_SEED_LEN] = {0};
	FUZZ_CHECK(memcmp(c->dp_seed, zero, sizeof zero) == 0, "dp_seed set by the reader");
	if (c->dp) {
		FUZZ_CHECK(r->delta > 0 && r->delta < 1, "delta out of range");
		FUZZ_CHECK(r->target_epsilon > 0 || c->noise_multiplier > 0,
		           "dp with neither epsilon nor sigma");
		FUZZ_CHECK(in(r->target_epsilon, 0, 100) && in(c->noise_multiplier, 0, 1e6),
		           "epsilon or sigma out of range");
		FUZZ_CHECK(c->max_grad_norm > 0 && c->max_grad_norm <= 1e6, "max_grad_norm out of range");
	} else {
		FUZZ_CHECK(r->delta == 0 && r->target_epsilon == 0 && c->noise_multiplier == 0 &&
		                   c->max_grad_norm == 0,
		           "privacy values without a privacy block");
	}
}

static void check_job(const veil_job *j)
{
	FUZZ_CHECK(name_ok(j->name) && name_ok(j->model_name), "a bad job or model name");
	FUZZ_CHECK(j->n_datasets >= 1 && j->n_datasets <= VEIL_JOB_DATASETS_MAX, "data sets out of range");
	for (size_t i = 0; i < j->n_datasets; i++) {
		FUZZ_CHECK(name_ok(j->datasets[i].name), "a bad data set name");
		for (size_t k = 0; k < i; k++)
			FUZZ_CHECK(strcmp(j->datasets[i].name, j->datasets[k].name) != 0, "a data set twice");
		FUZZ_CHECK(!j->has_test_dataset || strcmp(j->datasets[i].name, j->test_dataset.name) != 0,
		           "the test data set is a training one");
	}
	FUZZ_CHECK(!j->has_test_dataset || name_ok(j->test_dataset.name), "a bad test data set name");
	FUZZ_CHECK(memchr(j->label, '\0', sizeof j->label) != NULL, "an unterminated label");
	FUZZ_CHECK(!(j->n_features && j->n_exclude), "features and exclude both");
	FUZZ_CHECK(j->n_features <= VEIL_JOB_FEATURES_MAX && j->n_exclude <= VEIL_JOB_FEATURES_MAX,
	           "too many columns");
	for (size_t i = 0; i < j->n_features; i++) {
		size_t n = strlen(j->features[i]);
		FUZZ_CHECK(n >= 1 && n <= VEIL_JOB_COLUMN_MAX, "a feature name out of range");
		FUZZ_CHECK(strcmp(j->features[i], j->label) != 0, "the label is a feature");
	}
	for (size_t i = 0; i < j->n_exclude; i++)
		FUZZ_CHECK(strcmp(j->exclude[i], j->label) != 0, "the label is excluded");
	/* Distinct names: a small job is checked pairwise, a large one left to the unit tests. */
	for (size_t i = 0; i < j->n_features && j->n_features <= 64; i++)
		for (size_t k = 0; k < i; k++)
			FUZZ_CHECK(strcmp(j->features[i], j->features[k]) != 0, "a feature twice");

	size_t n = veil_job_trials(j);
	FUZZ_CHECK(n >= 1 && n <= VEIL_JOB_TRIALS_MAX, "trials out of range");
	FUZZ_CHECK(j->tuning.on || n == 1, "trials without tuning");
	veil_err err = {0};
	veil_job_run r, again;
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(veil_job_trial(j, i, &r, &err) == VEIL_OK, "a trial does not resolve");
		check_run(j, &r);
		FUZZ_CHECK(veil_job_trial(j, i, &again, &err) == VEIL_OK && same_run(&r, &again),
		           "a trial resolves differently twice");
		for (int k = 0; k < VEIL_JOB_TUNE_PARAMS; k++)
			FUZZ_CHECK(j->tuning.picks[i][k] < (j->tuning.nvalues[k] ? j->tuning.nvalues[k] : 1),
			           "a pick outside the space");
		for (size_t k = 0; k < i; k++)
			FUZZ_CHECK(!j->tuning.on || memcmp(j->tuning.picks[i], j->tuning.picks[k],
			                                   VEIL_JOB_TUNE_PARAMS) != 0,
			           "two trials alike");
	}
	FUZZ_CHECK(veil_job_trial(j, n, &r, &err) == VEIL_E_INVALID && err.msg[0], "a trial past the last");

	veil_job_warning w[VEIL_JOB_WARNINGS_MAX];
	veil_job_machine small = {.cores = 1, .memory = 1, .disk = 1, .gpu = false};
	veil_job_machine big = {.cores = UINT32_MAX, .memory = UINT64_MAX, .disk = UINT64_MAX, .gpu = true};
	size_t nw = veil_job_warnings(j, &small, w);
	FUZZ_CHECK(nw <= VEIL_JOB_WARNINGS_MAX, "too many warnings");
	for (size_t i = 0; i < nw; i++)
		FUZZ_CHECK(w[i].text[0] && memchr(w[i].text, '\0', sizeof w[i].text), "an empty warning");
	FUZZ_CHECK(veil_job_warnings(j, &big, w) == (j->compute.gpu ? 1u : 0u),
	           "a warning on a machine with all");
}

static void summary(const veil_job *j, veil_buf *b)
{
	veil_err err = {0};
	FUZZ_CHECK(veil_job_summary(j, b, &err) == VEIL_OK, "no summary");
	size_t n = strlen(j->name);
	FUZZ_CHECK(b->len > n + 2 && memcmp(b->data, j->name, n) == 0 && memcmp(b->data + n, ": ", 2) == 0,
	           "a summary that does not start with the name");
	for (size_t i = 0; i < b->len; i++)
		FUZZ_CHECK(b->data[i] >= 0x20 && b->data[i] < 0x7f,
		           "a summary that is not one printable line");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	veil_job *j = (veil_job *)&size; /* must become NULL on failure */
	veil_err err = {0};
	veil_status st = veil_job_parse((const char *)data, size, &j, &err);
	fuzz_note("parse", st, &err);
	if (st) {
		FUZZ_CHECK(j == NULL, "a failed parse left a job");
		FUZZ_CHECK(st == VEIL_E_INVALID || st == VEIL_E_UNSUPPORTED || st == VEIL_E_LIMIT,
		           "an unexpected status");
		FUZZ_CHECK(has_position(err.msg) ||
		                   (st == VEIL_E_LIMIT && size > VEIL_JOB_MAX_BYTES && err.msg[0]),
		           "a refusal without a line and column");
		return 0;
	}
	check_job(j);
	veil_buf a = {0}, b = {0};
	summary(j, &a);
	veil_job *k = NULL;
	FUZZ_CHECK(veil_job_parse((const char *)data, size, &k, &err) == VEIL_OK, "the same bytes refused");
	summary(k, &b);
	FUZZ_CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0, "the same bytes, another summary");
	FUZZ_CHECK(same_run(&j->run, &k->run) && same_tuning(&j->tuning, &k->tuning),
	           "the same bytes, another job");
	veil_buf_free(&a);
	veil_buf_free(&b);
	veil_job_free(k);
	veil_job_free(j);
	return 0;
}
