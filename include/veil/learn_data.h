/*
 * Training data (layer 4, src/learn/dataset.c): the float matrix and class
 * labels the engine trains on, made from the tables and IDX arrays the data
 * module reads, and split into training, validation and test rows.
 *
 * Features must be numbers already: a text, date or category column, or a
 * missing value, is refused with the column's name and the advice to add a
 * feature pipeline (docs/formats/pipeline.md) that encodes or imputes it.
 * The values themselves never appear in an error.
 *
 * Class labels: the label column's distinct values, in order (numbers by
 * value, text bytewise, false before true), become classes 0..K-1; their
 * text is what a model manifest lists. A test set is mapped with the
 * training set's classes, and a label the training set never saw is an
 * error, because the model has no output for it.
 */
#ifndef VEIL_LEARN_DATA_H
#define VEIL_LEARN_DATA_H

#include "veil/data_csv.h"
#include "veil/data_idx.h"
#include "veil/learn.h"

#define VEIL_LEARN_FEATURES_MAX 4096 /* feature columns of a tabular job */
#define VEIL_LEARN_LABEL_MAX    64   /* bytes of one class label's text, NUL included */
#define VEIL_LEARN_NAME_MAX     513  /* bytes of a feature's name, NUL included (a column name's bound) */

typedef struct veil_learn_data {
	float *x;   /* rows × cols, row-major; wiped and freed by veil_learn_data_free */
	int32_t *y; /* rows, each in 0..classes-1 */
	size_t rows, cols;
	size_t classes;
	char (*class_labels)[VEIL_LEARN_LABEL_MAX]; /* classes entries */
	char (*feature_names)[VEIL_LEARN_NAME_MAX]; /* cols entries; "pixel_<i>" for IDX */
} veil_learn_data;

/* The matrix view the engine takes. */
static inline veil_matrix veil_learn_data_matrix(const veil_learn_data *d)
{
	return (veil_matrix){.x = d->x, .y = d->y, .rows = d->rows, .cols = d->cols};
}

/* Rows of n tables with the same columns, one after the other. features
 * (nfeatures names) chooses and orders the feature columns; NULL takes
 * every column of the first table but the label and those in exclude
 * (nexclude names, each of which must be a column), in the table's order.
 * classes_from: NULL for
 * a training set (its classes are found here), else the training set
 * whose classes to use. */
veil_status veil_learn_data_from_tables(const veil_table *const *tables, size_t n, const char *label,
                                        const char *const *features, size_t nfeatures,
                                        const char *const *exclude, size_t nexclude,
                                        const veil_learn_data *classes_from, veil_learn_data *out,
                                        veil_err *err) VEIL_MUST_CHECK;

/* IDX images and labels (veil_idx_to_matrix: u8 scaled to [0,1]); the
 * classes are 0..max label, named by their numbers. With classes_from,
 * labels must be below its class count. */
veil_status veil_learn_data_from_idx(const veil_idx *images, const veil_idx *labels,
                                     const veil_learn_data *classes_from, veil_learn_data *out,
                                     veil_err *err) VEIL_MUST_CHECK;

/* Splits d by a permutation drawn from seed (splitmix64, then
 * Fisher–Yates; docs/formats/job.md gives the exact procedure so that a
 * split can be reproduced): the first round(test_frac·rows) rows of the
 * permutation are the test set, the next round(valid_frac·rows) the
 * validation set, the rest training. Fractions in [0, 0.5]; a part may be
 * empty (rows 0), training may not. Outputs share d's classes and names. */
veil_status veil_learn_data_split(const veil_learn_data *d, double valid_frac, double test_frac,
                                  uint64_t seed, veil_learn_data *train, veil_learn_data *valid,
                                  veil_learn_data *test, veil_err *err) VEIL_MUST_CHECK;

/* Frees and wipes; harmless on a zeroed struct. */
void veil_learn_data_free(veil_learn_data *d);

#endif
