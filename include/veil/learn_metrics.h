/*
 * Evaluation metrics of a classifier (layer 4), from predicted class
 * probabilities and true labels, defined as scikit-learn defines them so
 * that a data scientist can check a figure with it:
 *
 *  - the predicted class is the most probable one, the lowest index on a
 *    tie (numpy's argmax);
 *  - accuracy: the share of rows predicted right (accuracy_score);
 *  - per class, precision tp/(tp+fp), recall tp/(tp+fn) and F1
 *    2tp/(2tp+fp+fn), each 0 where its denominator is 0
 *    (precision_recall_fscore_support with zero_division=0);
 *  - macro averages: the unweighted mean over the classes that occur in the
 *    true or the predicted labels, as scikit-learn does when it is not
 *    given `labels` (a class that occurs in neither is listed with zeros
 *    and left out of the mean);
 *  - ROC AUC, binary tasks only, the score being the probability of class
 *    1: the Mann-Whitney statistic with average ranks for ties, which is
 *    exactly the area under the ROC curve that roc_auc_score computes
 *    (a tie between a positive and a negative counts one half). Undefined
 *    (has_auc false) when only one class occurs in the labels, where
 *    scikit-learn raises an error;
 *  - log loss: the mean of -ln p(true class), p clipped to
 *    [1e-15, 1 - 1e-15] (log_loss's clipping, eps=1e-15; the rows are not
 *    renormalised: a model's probabilities sum to 1 already);
 *  - the confusion matrix, true class by row, predicted class by column
 *    (confusion_matrix).
 *
 * Sums are in double whatever the input; counts are exact.
 */
#ifndef VEIL_LEARN_METRICS_H
#define VEIL_LEARN_METRICS_H

#include "veil/base.h"
#include "veil/json_write.h"
#include "veil/learn.h"

#define VEIL_METRICS_CLIP 1e-15

typedef struct veil_metrics {
	size_t rows, classes;
	double accuracy;
	/* per class, classes entries each */
	double *precision, *recall, *f1;
	uint64_t *support;   /* rows whose true class it is */
	uint64_t *predicted; /* rows predicted as it */
	size_t present; /* classes occurring in the true or predicted labels: the macro averages' divisor */
	double macro_precision, macro_recall, macro_f1;
	bool has_auc;
	double roc_auc;
	double log_loss;
	uint64_t *confusion; /* classes × classes, row-major: [true][predicted] */
} veil_metrics;

/* Computes every metric of rows predictions. probs is rows × classes
 * (row-major), each finite and in [0, 1]; labels are in 0..classes-1;
 * rows ≥ 1, classes 2..VEIL_LEARN_CLASSES_MAX. Anything else is
 * VEIL_E_INVALID naming the row. On error *out is zeroed; free a result
 * with veil_metrics_free. */
veil_status veil_metrics_compute(const float *probs, const int32_t *labels, size_t rows, size_t classes,
                                 veil_metrics *out, veil_err *err) VEIL_MUST_CHECK;
void veil_metrics_free(veil_metrics *m); /* NULL ok; leaves m zeroed */
/* The metrics of model m's predictions on data (rows ≥ 1, labels in
 * 0..classes-1 of the model). The predictions are wiped before they are
 * freed: they are derived from the data. */
veil_status veil_metrics_of_model(const veil_model *m, const veil_matrix *data, veil_metrics *out,
                                  veil_err *err) VEIL_MUST_CHECK;

/* Writes m as one JSON object value (docs/formats/model.md section 4):
 *   {"rows":N,"classes":K,"accuracy":a,"precision":p,"recall":r,"f1":f,
 *    "roc_auc":x,"log_loss":l,
 *    "per_class":[{"class":"<label>","precision":..,"recall":..,"f1":..,
 *                  "support":n,"predicted":n},...],
 *    "confusion":[[..],..]}
 * precision, recall and f1 at the top are the macro averages; roc_auc is
 * present only for a binary task, null when undefined. class_labels
 * (classes strings) names the classes; NULL writes their indices as
 * strings. Errors stick in w (veil/json_write.h). */
void veil_metrics_write_json(veil_jw *w, const veil_metrics *m, const char *const *class_labels);

#endif
