/*
 * The "evaluate" job (docs/formats/worker-protocol.md, "evaluate"): a
 * stored model's metrics on a data set, computed where both are in
 * plaintext only inside the TEE.
 *
 * The host names the model and the data as inputs, each with the size and
 * SHA-256 the catalog holds, and the data keys to open them. The worker
 * reads the model file (a hostile-input parser: whoever trained the model
 * need not be whoever evaluates it), takes from its manifest which columns
 * are the features, in what order, and which values of which column are the
 * classes, builds the data the same way training did, and sends a signed
 * report of the metrics. Nothing else leaves: no predictions, no rows.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "veil/learn_metrics.h"
#include "veil/learn_model.h"
#include "worker_train.h"

enum { KEY_MODEL = 0 };

typedef struct eval_job {
	worker *w;
	char (*ids)[VEIL_OBJ_KEY_ID_MAX + 1];
	size_t nkeys;
	uint8_t *deks;
	train_inputs in;
	veil_model *model;
	veil_manifest_columns cols;
	veil_learn_data data;
	veil_metrics metrics;
} eval_job;

static veil_status read_args(const veil_proto_msg *msg, eval_job *ej, veil_err *err)
{
	ej->nkeys = veil_proto_count(msg, VEIL_F_DEK_ID);
	if (ej->nkeys < 2 || ej->nkeys > TRAIN_INPUTS_MAX)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "an evaluate job names %zu data keys (the model's, then one per input)",
		                    ej->nkeys);
	if (!(ej->ids = calloc(ej->nkeys, sizeof *ej->ids)))
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory");
	veil_status st = VEIL_OK;
	for (size_t i = 0; i < ej->nkeys && !st; i++) {
		st = veil_proto_get_text(msg, VEIL_F_DEK_ID, i, ej->ids[i], sizeof ej->ids[i], err);
		for (size_t j = 0; !st && j < i; j++)
			if (strcmp(ej->ids[i], ej->ids[j]) == 0)
				st = veil_err_set(err, VEIL_E_INVALID,
				                  "an evaluate job names data key %s twice", ej->ids[i]);
	}
	if (st || (st = train_inputs_read(msg, KEY_MODEL, &ej->in, err)))
		return st;
	if (strcmp(ej->in.in[0].role, "model") != 0)
		return veil_err_set(err, VEIL_E_INVALID, "an evaluate job's first input is its model");
	for (size_t i = 1; i < ej->in.n; i++)
		if (strcmp(ej->in.in[i].role, "test") != 0 && strcmp(ej->in.in[i].role, "test-labels") != 0)
			return veil_err_set(err, VEIL_E_INVALID,
			                    "an evaluate job takes test data, not a %s input",
			                    ej->in.in[i].role);
	if (ej->in.n < 2)
		return veil_err_set(err, VEIL_E_INVALID, "an evaluate job needs data to evaluate on");
	return VEIL_OK;
}

static const uint8_t *key_of(const eval_job *ej, size_t k)
{
	return ej->deks + k * VEIL_PROTO_DEK_LEN;
}

/* The model and its columns, from the first input. */
static veil_status read_model(eval_job *ej, veil_err *err)
{
	const train_input *in = &ej->in.in[0];
	veil_buf b = {0};
	char *manifest = NULL;
	veil_status st = worker_read_whole(ej->w, ej->ids[in->key], key_of(ej, in->key), in->size, in->sha256,
	                                   &b, err);
	if (!st && (st = veil_modelfile_read(b.data, b.len, &ej->model, &manifest, err)) == VEIL_OK)
		st = veil_modelfile_manifest_columns(manifest, strlen(manifest), &ej->cols, err);
	if (st)
		veil_err_wrap(err, "%s", in->ref);
	if (manifest) { /* it names the classes, which are data */
		OPENSSL_cleanse(manifest, strlen(manifest));
		free(manifest);
	}
	if (b.data) /* the weights */
		OPENSSL_cleanse(b.data, b.cap);
	veil_buf_free(&b);
	return st;
}

/* The training classes the data's labels are mapped to: the manifest's. */
static veil_status model_classes(const eval_job *ej, veil_learn_data *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	out->classes = ej->cols.n_classes;
	if (!(out->class_labels = calloc(out->classes, sizeof *out->class_labels)))
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory");
	for (size_t i = 0; i < out->classes; i++)
		snprintf(out->class_labels[i], sizeof out->class_labels[i], "%s", ej->cols.classes[i]);
	return VEIL_OK;
}

static veil_status read_data(eval_job *ej, veil_err *err)
{
	veil_buf plain[TRAIN_INPUTS_MAX] = {0};
	veil_learn_data classes = {0};
	veil_status st = VEIL_OK;
	for (size_t i = 1; i < ej->in.n && !st; i++) {
		const train_input *in = &ej->in.in[i];
		if ((st = worker_read_whole(ej->w, ej->ids[in->key], key_of(ej, in->key), in->size,
		                            in->sha256, &plain[i], err)))
			veil_err_wrap(err, "%s", in->ref);
	}
	train_columns cols = {.label = ej->cols.label,
	                      .features = (const char *const *)ej->cols.features,
	                      .n_features = ej->cols.n_features};
	if (!st && !(st = model_classes(ej, &classes, err)) &&
	    (st = train_inputs_role(&ej->in, plain, "test", "test-labels", &cols, &classes, &ej->data, err)))
		veil_err_wrap(err, "%s", ej->in.in[1].ref);
	if (!st && ej->data.cols != ej->cols.spec.inputs)
		st = veil_err_set(err, VEIL_E_INVALID, "the data has %zu features and the model takes %zu",
		                  ej->data.cols, ej->cols.spec.inputs);
	for (size_t i = 0; i < TRAIN_INPUTS_MAX; i++) {
		if (plain[i].data)
			OPENSSL_cleanse(plain[i].data, plain[i].cap);
		veil_buf_free(&plain[i]);
	}
	veil_learn_data_free(&classes);
	return st;
}

static veil_status write_report(const eval_job *ej, veil_buf *out, veil_err *err)
{
	char meas[2 * VEIL_SNP_MEASUREMENT_LEN + 1];
	veil_hex_encode(ej->w->measurement, sizeof ej->w->measurement, meas);
	const veil_model_spec *spec = veil_model_get_spec(ej->model);
	veil_jw jw;
	veil_jw_init(&jw, out);
	veil_jw_object(&jw);
	veil_jw_kstr(&jw, "format", "veil-report");
	veil_jw_kint(&jw, "version", 1);
	veil_jw_kstr(&jw, "job", "evaluate");
	veil_jw_key(&jw, "worker");
	veil_jw_object(&jw);
	veil_jw_kstr(&jw, "tee", ej->w->tee);
	veil_jw_kstr(&jw, "measurement", meas);
	veil_jw_end(&jw);
	veil_jw_kint(&jw, "created", veil_time_now());
	veil_jw_key(&jw, "inputs");
	veil_jw_array(&jw);
	for (size_t i = 0; i < ej->in.n; i++) {
		veil_jw_object(&jw);
		veil_jw_kstr(&jw, "role", ej->in.in[i].role);
		veil_jw_kstr(&jw, "ref", ej->in.in[i].ref);
		veil_jw_kuint(&jw, "size", ej->in.in[i].size);
		veil_jw_kstr(&jw, "sha256", ej->in.in[i].sha256);
		veil_jw_end(&jw);
	}
	veil_jw_end(&jw);
	veil_jw_key(&jw, "model");
	veil_jw_object(&jw);
	veil_jw_kstr(&jw, "kind",
	             spec->kind == VEIL_MODEL_LOGREG    ? "logreg"
	             : spec->kind == VEIL_MODEL_SOFTMAX ? "softmax"
	                                                : "mlp");
	veil_jw_kuint(&jw, "parameters", veil_model_param_count(ej->model));
	veil_jw_end(&jw);
	veil_jw_kuint(&jw, "rows", ej->data.rows);
	veil_jw_kuint(&jw, "features", ej->data.cols);
	veil_jw_kuint(&jw, "classes", ej->data.classes);
	veil_jw_key(&jw, "metrics");
	/* Classes by index, as the training report gives them: their values
	 * are data, and stay in the encrypted manifest. */
	veil_metrics_write_json(&jw, &ej->metrics, (const char *const *)NULL);
	veil_jw_end(&jw);
	return veil_jw_finish(&jw, err);
}

veil_status worker_job_evaluate(worker *w, const veil_proto_msg *msg, veil_err *err)
{
	eval_job ej = {.w = w};
	veil_buf report = {0};
	veil_status st = read_args(msg, &ej, err);
	if (!st && !(ej.deks = veil_secure_alloc(ej.nkeys * VEIL_PROTO_DEK_LEN)))
		st = veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory");
	if (!st) {
		const char *ids[TRAIN_INPUTS_MAX];
		for (size_t i = 0; i < ej.nkeys; i++)
			ids[i] = ej.ids[i];
		st = worker_get_keys(w, ids, ej.nkeys, ej.deks, err);
	}
	if (!st && !(st = read_model(&ej, err)) && !(st = read_data(&ej, err))) {
		veil_matrix m = veil_learn_data_matrix(&ej.data);
		st = veil_metrics_of_model(ej.model, &m, &ej.metrics, err);
	}
	if (!st && !(st = write_report(&ej, &report, err)))
		st = worker_send_report(w, &report, err);
	if (ej.deks)
		veil_secure_free(ej.deks, ej.nkeys * VEIL_PROTO_DEK_LEN);
	veil_metrics_free(&ej.metrics);
	veil_learn_data_free(&ej.data);
	veil_manifest_columns_free(&ej.cols);
	veil_model_free(ej.model);
	free(ej.ids);
	veil_buf_free(&report);
	return st;
}
