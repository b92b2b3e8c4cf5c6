/*
 * Evaluation metrics (veil/learn_metrics.h): one pass over the predictions
 * fills the confusion matrix and the log loss; precision, recall and F1
 * follow from the matrix; ROC AUC, for binary tasks, from one sort of the
 * scores. The definitions are scikit-learn's, stated in the header, so
 * that any figure veil reports can be checked with it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "veil/crypto.h"
#include "veil/learn.h"
#include "veil/learn_metrics.h"

typedef struct scored {
	float score;
	bool positive;
} scored;

static int cmp_scored(const void *a, const void *b)
{
	float x = ((const scored *)a)->score, y = ((const scored *)b)->score;
	return (x > y) - (x < y);
}

/* The Mann-Whitney U of the positives over the negatives, divided by
 * pos·neg: for each run of equal scores, each positive in it beats every
 * negative below the run and ties (one half) with each negative in it.
 * That is the average-rank form, and the trapezoidal area under the ROC
 * curve. Each term is an exact integer or half-integer in a double while
 * pos·neg < 2^52. */
static veil_status roc_auc(const float *probs, const int32_t *labels, size_t rows, uint64_t pos, uint64_t neg,
                           double *auc, veil_err *err)
{
	scored *s = malloc(rows * sizeof *s);
	if (!s)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory computing ROC AUC");
	for (size_t r = 0; r < rows; r++)
		s[r] = (scored){probs[2 * r + 1], labels[r] == 1};
	qsort(s, rows, sizeof *s, cmp_scored);
	double u = 0;
	uint64_t neg_below = 0;
	for (size_t i = 0; i < rows;) {
		size_t k = i;
		uint64_t p = 0, n = 0;
		while (k < rows && s[k].score == s[i].score) {
			if (s[k].positive)
				p++;
			else
				n++;
			k++;
		}
		u += (double)p * ((double)neg_below + 0.5 * (double)n);
		neg_below += n;
		i = k;
	}
	free(s);
	*auc = u / ((double)pos * (double)neg);
	return VEIL_OK;
}

static veil_status check_input(const float *probs, const int32_t *labels, size_t rows, size_t classes,
                               veil_err *err)
{
	if (rows == 0)
		return veil_err_set(err, VEIL_E_INVALID, "metrics: no rows to evaluate");
	if (classes < 2 || classes > VEIL_LEARN_CLASSES_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "metrics: %zu classes (2 to %u)", classes,
		                    (unsigned)VEIL_LEARN_CLASSES_MAX);
	if (rows > SIZE_MAX / classes / sizeof(float))
		return veil_err_set(err, VEIL_E_LIMIT, "metrics: %zu rows of %zu classes is too many", rows,
		                    classes);
	for (size_t r = 0; r < rows; r++) {
		if (labels[r] < 0 || (size_t)labels[r] >= classes)
			return veil_err_set(err, VEIL_E_INVALID,
			                    "metrics: row %zu has label %d, outside 0..%zu", r,
			                    (int)labels[r], classes - 1);
		for (size_t c = 0; c < classes; c++) {
			float p = probs[r * classes + c];
			if (!(p >= 0.0f && p <= 1.0f)) /* also refuses NaN */
				return veil_err_set(
				        err, VEIL_E_INVALID,
				        "metrics: row %zu, class %zu: a probability that is not in [0, 1]", r,
				        c);
		}
	}
	return VEIL_OK;
}

static size_t argmax(const float *p, size_t n)
{
	size_t best = 0;
	for (size_t c = 1; c < n; c++)
		if (p[c] > p[best])
			best = c;
	return best;
}

static double ratio(uint64_t num, uint64_t den)
{
	return den ? (double)num / (double)den : 0.0; /* zero_division=0 */
}

veil_status veil_metrics_compute(const float *probs, const int32_t *labels, size_t rows, size_t classes,
                                 veil_metrics *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	veil_status st = check_input(probs, labels, rows, classes, err);
	if (st)
		return st;
	size_t k = classes;
	out->rows = rows;
	out->classes = k;
	out->precision = calloc(k, sizeof(double));
	out->recall = calloc(k, sizeof(double));
	out->f1 = calloc(k, sizeof(double));
	out->support = calloc(k, sizeof(uint64_t));
	out->predicted = calloc(k, sizeof(uint64_t));
	out->confusion = calloc(k * k, sizeof(uint64_t));
	if (!out->precision || !out->recall || !out->f1 || !out->support || !out->predicted ||
	    !out->confusion) {
		veil_metrics_free(out);
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory computing metrics");
	}
	uint64_t correct = 0;
	double loss = 0;
	for (size_t r = 0; r < rows; r++) {
		const float *p = probs + r * k;
		size_t y = (size_t)labels[r], yhat = argmax(p, k);
		out->confusion[y * k + yhat]++;
		out->support[y]++;
		out->predicted[yhat]++;
		correct += y == yhat;
		double q = p[y];
		q = q < VEIL_METRICS_CLIP       ? VEIL_METRICS_CLIP
		    : q > 1 - VEIL_METRICS_CLIP ? 1 - VEIL_METRICS_CLIP
		                                : q;
		loss -= log(q);
	}
	out->accuracy = (double)correct / (double)rows;
	out->log_loss = loss / (double)rows;
	for (size_t c = 0; c < k; c++) {
		uint64_t tp = out->confusion[c * k + c], fp = out->predicted[c] - tp,
		         fn = out->support[c] - tp;
		out->precision[c] = ratio(tp, tp + fp);
		out->recall[c] = ratio(tp, tp + fn);
		out->f1[c] = ratio(2 * tp, 2 * tp + fp + fn);
		if (out->support[c] + out->predicted[c] == 0)
			continue; /* in neither labels nor predictions: not averaged */
		out->present++;
		out->macro_precision += out->precision[c];
		out->macro_recall += out->recall[c];
		out->macro_f1 += out->f1[c];
	}
	/* present >= 1: every row has a true class */
	out->macro_precision /= (double)out->present;
	out->macro_recall /= (double)out->present;
	out->macro_f1 /= (double)out->present;
	if (k == 2 && out->support[0] && out->support[1]) {
		if ((st = roc_auc(probs, labels, rows, out->support[1], out->support[0], &out->roc_auc,
		                  err))) {
			veil_metrics_free(out);
			return st;
		}
		out->has_auc = true;
	}
	return VEIL_OK;
}

void veil_metrics_free(veil_metrics *m)
{
	if (!m)
		return;
	free(m->precision);
	free(m->recall);
	free(m->f1);
	free(m->support);
	free(m->predicted);
	free(m->confusion);
	memset(m, 0, sizeof *m);
}

void veil_metrics_write_json(veil_jw *w, const veil_metrics *m, const char *const *class_labels)
{
	veil_jw_object(w);
	veil_jw_kuint(w, "rows", m->rows);
	veil_jw_kuint(w, "classes", m->classes);
	veil_jw_kdouble(w, "accuracy", m->accuracy);
	veil_jw_kdouble(w, "precision", m->macro_precision);
	veil_jw_kdouble(w, "recall", m->macro_recall);
	veil_jw_kdouble(w, "f1", m->macro_f1);
	if (m->classes == 2) {
		veil_jw_key(w, "roc_auc");
		if (m->has_auc)
			veil_jw_double(w, m->roc_auc);
		else
			veil_jw_null(w);
	}
	veil_jw_kdouble(w, "log_loss", m->log_loss);
	veil_jw_key(w, "per_class");
	veil_jw_array(w);
	for (size_t c = 0; c < m->classes; c++) {
		char idx[24];
		(void)snprintf(idx, sizeof idx, "%zu", c);
		veil_jw_object(w);
		veil_jw_kstr(w, "class", class_labels ? class_labels[c] : idx);
		veil_jw_kdouble(w, "precision", m->precision[c]);
		veil_jw_kdouble(w, "recall", m->recall[c]);
		veil_jw_kdouble(w, "f1", m->f1[c]);
		veil_jw_kuint(w, "support", m->support[c]);
		veil_jw_kuint(w, "predicted", m->predicted[c]);
		veil_jw_end(w);
	}
	veil_jw_end(w);
	veil_jw_key(w, "confusion");
	veil_jw_array(w);
	for (size_t t = 0; t < m->classes; t++) {
		veil_jw_array(w);
		for (size_t p = 0; p < m->classes; p++)
			veil_jw_uint(w, m->confusion[t * m->classes + p]);
		veil_jw_end(w);
	}
	veil_jw_end(w);
	veil_jw_end(w);
}

veil_status veil_metrics_of_model(const veil_model *m, const veil_matrix *data, veil_metrics *out,
                                  veil_err *err)
{
	memset(out, 0, sizeof *out);
	const veil_model_spec *spec = veil_model_get_spec(m);
	size_t classes = spec->classes;
	if (data->cols != spec->inputs)
		return veil_err_set(err, VEIL_E_INVALID, "the data has %zu columns and the model takes %zu",
		                    data->cols, spec->inputs);
	if (data->rows == 0 || data->rows > SIZE_MAX / sizeof(float) / classes)
		return veil_err_set(err, VEIL_E_INVALID, "metrics of %zu rows", data->rows);
	size_t n = data->rows * classes;
	float *probs = malloc(n * sizeof *probs);
	if (!probs)
		return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate %zu predictions", data->rows);
	veil_status st = veil_model_predict(m, data->x, data->rows, probs, err);
	if (!st)
		st = veil_metrics_compute(probs, data->y, data->rows, classes, out, err);
	veil_wipe(probs, n * sizeof *probs);
	free(probs);
	return st;
}
