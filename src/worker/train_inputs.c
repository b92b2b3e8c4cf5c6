/*
 * The inputs of a train or evaluate job (docs/formats/worker-protocol.md,
 * "train"): which objects the host streams, with what key, size and
 * SHA-256, and in what role; and the training data they become.
 *
 * Each input is named by one INPUT field, "<role> <name>@<version>", with a
 * SIZE and a SHA256 field at the same index. The name is the host's label
 * (a manifest records it); the size and SHA-256 are what the worker checks
 * the decrypted plaintext against, so the data trained on is the data the
 * catalog describes. Roles: "train" (a CSV table, or IDX images followed by
 * their "train-labels"), "test" and "test-labels" likewise, "model" (for
 * evaluate), "checkpoint" (to resume).
 */
#include <string.h>

#include "veil/data_pipeline.h"
#include "worker_train.h"

static veil_status parse_input(const veil_proto_msg *job, size_t i, train_input *in, veil_err *err)
{
	char text[161];
	veil_status st = veil_proto_get_text(job, VEIL_F_INPUT, i, text, sizeof text, err);
	if (st)
		return st;
	const char *sp = strchr(text, ' ');
	if (!sp || sp == text || !sp[1] || (size_t)(sp - text) >= sizeof in->role ||
	    strlen(sp + 1) >= sizeof in->ref)
		return veil_err_set(err, VEIL_E_INVALID, "input %zu is not \"<role> <name>@<version>\"",
		                    i + 1);
	memcpy(in->role, text, (size_t)(sp - text));
	in->role[sp - text] = '\0';
	snprintf(in->ref, sizeof in->ref, "%s", sp + 1);
	static const char *const roles[] = {"train",       "train-labels", "test",
	                                    "test-labels", "model",        "checkpoint"};
	bool known = false;
	for (size_t r = 0; r < sizeof roles / sizeof roles[0]; r++)
		known |= strcmp(in->role, roles[r]) == 0;
	if (!known)
		return veil_err_set(err, VEIL_E_INVALID, "input %zu has the unknown role '%s'", i + 1,
		                    in->role);
	const veil_proto_field *size = veil_proto_get(job, VEIL_F_SIZE, i);
	if (!size || (st = veil_proto_get_text(job, VEIL_F_SHA256, i, in->sha256, sizeof in->sha256, err)))
		return st ? st : veil_err_set(err, VEIL_E_INVALID, "input %zu has no size", i + 1);
	in->size = veil_get_be64(size->value);
	if (in->size > TRAIN_INPUT_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "input %s is %llu bytes; a job takes at most %llu",
		                    in->ref, (unsigned long long)in->size,
		                    (unsigned long long)TRAIN_INPUT_MAX);
	return VEIL_OK;
}

veil_status train_inputs_read(const veil_proto_msg *job, size_t first_key, train_inputs *t, veil_err *err)
{
	memset(t, 0, sizeof *t);
	size_t n = veil_proto_count(job, VEIL_F_INPUT);
	if (n == 0 || n > TRAIN_INPUTS_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "a job names %zu inputs (1 to %d)", n,
		                    TRAIN_INPUTS_MAX);
	if (veil_proto_count(job, VEIL_F_SIZE) != n || veil_proto_count(job, VEIL_F_SHA256) != n)
		return veil_err_set(err, VEIL_E_INVALID, "each input needs one size and one sha256");
	size_t keys = veil_proto_count(job, VEIL_F_DEK_ID);
	size_t k = first_key;
	veil_status st = VEIL_OK;
	for (size_t i = 0; i < n && !st; i++) {
		train_input *in = &t->in[i];
		if ((st = parse_input(job, i, in, err)))
			break;
		/* A checkpoint is sealed under the job's checkpoint key (key 1);
		 * every other input has its own key, in input order. */
		if (strcmp(in->role, "checkpoint") == 0) {
			in->key = 1;
			if (i != 0)
				return veil_err_set(err, VEIL_E_INVALID,
				                    "the checkpoint must be the first input");
			t->has_checkpoint = true;
			continue;
		}
		if (k >= keys)
			return veil_err_set(err, VEIL_E_INVALID, "input %zu has no data key", i + 1);
		in->key = k++;
		/* Labels follow the images they label. */
		const char *want = strcmp(in->role, "train-labels") == 0  ? "train"
		                   : strcmp(in->role, "test-labels") == 0 ? "test"
		                                                          : NULL;
		if (want && (i == 0 || strcmp(t->in[i - 1].role, want) != 0))
			return veil_err_set(err, VEIL_E_INVALID, "input %zu (%s) does not follow a %s input",
			                    i + 1, in->role, want);
	}
	if (!st && k != keys)
		st = veil_err_set(err, VEIL_E_INVALID, "the job names %zu data keys for %zu inputs", keys, n);
	t->n = n;
	return st;
}

/* Whether plaintext is IDX: its magic (two zero bytes, a type, a rank), or
 * gzip, which only IDX inputs are (a CSV is never compressed). */
static bool looks_idx(const veil_buf *b)
{
	if (b->len >= 2 && b->data[0] == 0x1f && b->data[1] == 0x8b)
		return true;
	return b->len >= 4 && b->data[0] == 0 && b->data[1] == 0 && veil_idx_type_size(b->data[2]) != 0 &&
	       b->data[3] >= 1 && b->data[3] <= VEIL_IDX_DIMS_MAX;
}

static veil_status parse_idx(const veil_buf *b, const char *ref, veil_idx *out, veil_err *err)
{
	veil_mem_reader r = {.p = b->data, .n = b->len};
	veil_status st = veil_idx_read(veil_mem_read, &r, (uint64_t)b->len * 64 + 4096, out, err);
	if (st)
		veil_err_wrap(err, "%s", ref);
	return st;
}

veil_status train_inputs_role(const train_inputs *t, veil_buf *plain, const char *role,
                              const char *labels_role, const train_columns *cols,
                              const veil_learn_data *classes_from, veil_learn_data *out, veil_err *err)
{
	veil_table *tables[TRAIN_INPUTS_MAX] = {0};
	size_t nt = 0;
	veil_status st = VEIL_OK;
	bool idx = false;
	for (size_t i = 0; i < t->n && !st; i++) {
		if (strcmp(t->in[i].role, role) != 0)
			continue;
		if (looks_idx(&plain[i])) {
			/* IDX: images, then their labels; one pair per job. */
			idx = true;
			if (nt || i + 1 >= t->n || strcmp(t->in[i + 1].role, labels_role) != 0) {
				st = veil_err_set(err, VEIL_E_INVALID,
				                  "%s is IDX data: it needs its labels (a data set named "
				                  "%s.labels), and a "
				                  "job takes one IDX data set",
				                  t->in[i].ref, t->in[i].ref);
				break;
			}
			veil_idx images = {0}, labels = {0};
			if (!(st = parse_idx(&plain[i], t->in[i].ref, &images, err)) &&
			    !(st = parse_idx(&plain[i + 1], t->in[i + 1].ref, &labels, err)))
				st = veil_learn_data_from_idx(&images, &labels, classes_from, out, err);
			if (images.values)
				veil_wipe(images.values, images.values_len);
			if (labels.values)
				veil_wipe(labels.values, labels.values_len);
			veil_idx_free(&images);
			veil_idx_free(&labels);
			break;
		}
		if (!cols->label || !cols->label[0]) {
			st = veil_err_set(err, VEIL_E_INVALID,
			                  "%s is a table: the job must name its label column", t->in[i].ref);
			break;
		}
		if ((st = veil_table_from_csv(plain[i].data, plain[i].len, NULL, NULL, &tables[nt], err)))
			veil_err_wrap(err, "%s", t->in[i].ref);
		else
			nt++;
	}
	if (!st && !idx) {
		if (nt == 0)
			st = veil_err_set(err, VEIL_E_INVALID, "the job has no %s data", role);
		else
			st = veil_learn_data_from_tables((const veil_table *const *)tables, nt, cols->label,
			                                 cols->features, cols->n_features, cols->exclude,
			                                 cols->n_exclude, classes_from, out, err);
	}
	for (size_t i = 0; i < nt; i++)
		veil_table_free(tables[i]);
	return st;
}

veil_status train_inputs_data(const train_inputs *t, veil_buf *plain, const veil_job *job,
                              veil_learn_data *train, veil_learn_data *test, veil_err *err)
{
	memset(test, 0, sizeof *test);
	train_columns cols = {.label = job->label,
	                      .features = (const char *const *)job->features,
	                      .n_features = job->n_features,
	                      .exclude = (const char *const *)job->exclude,
	                      .n_exclude = job->n_exclude};
	veil_status st = train_inputs_role(t, plain, "train", "train-labels", &cols, NULL, train, err);
	bool has_test = false;
	for (size_t i = 0; i < t->n; i++)
		has_test |= strcmp(t->in[i].role, "test") == 0;
	if (!st && has_test)
		st = train_inputs_role(t, plain, "test", "test-labels", &cols, train, test, err);
	if (!st && has_test && test->cols != train->cols)
		st = veil_err_set(err, VEIL_E_INVALID,
		                  "the test data has %zu features and the training data %zu", test->cols,
		                  train->cols);
	if (st) {
		veil_learn_data_free(train);
		veil_learn_data_free(test);
	}
	return st;
}
