/*
 * Training data from tables and IDX arrays, and the seeded split
 * (include/veil/learn_data.h). Plaintext lives here, so every buffer is
 * wiped when freed, and an error names the data set and the column only:
 * no value, no row number, no count. These errors reach the host before
 * any privacy budget is charged, so each must say nothing of the rows.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "veil/crypto.h"
#include "veil/learn_data.h"

void veil_learn_data_free(veil_learn_data *d)
{
	if (!d)
		return;
	if (d->x)
		veil_wipe(d->x, d->rows * d->cols * sizeof *d->x);
	if (d->y)
		veil_wipe(d->y, d->rows * sizeof *d->y);
	if (d->class_labels) /* a label's text is data too (a diagnosis, a name) */
		veil_wipe(d->class_labels, d->classes * sizeof *d->class_labels);
	free(d->x);
	free(d->y);
	free(d->class_labels);
	free(d->feature_names);
	memset(d, 0, sizeof *d);
}

static veil_status alloc_matrix(veil_learn_data *d, size_t rows, size_t cols, veil_err *err)
{
	if (cols == 0 || cols > VEIL_LEARN_WIDTH_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "%zu feature columns (1 to %d can be trained on)",
		                    cols, VEIL_LEARN_WIDTH_MAX);
	if (rows > SIZE_MAX / sizeof(float) / cols)
		return veil_err_set(err, VEIL_E_LIMIT, "%zu rows of %zu features do not fit in memory", rows,
		                    cols);
	d->rows = rows;
	d->cols = cols;
	d->x = malloc(rows * cols * sizeof *d->x + 1);
	d->y = malloc(rows * sizeof *d->y + 1);
	d->feature_names = calloc(cols, sizeof *d->feature_names);
	if (!d->x || !d->y || !d->feature_names)
		return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate %zu rows of %zu features", rows,
		                    cols);
	return VEIL_OK;
}

/* ---- class labels ---- */

/* A label as a sortable key: numbers by value, text bytewise. */
typedef struct label_key {
	double num;
	const char *text; /* NULL for numbers */
	size_t len;
	size_t cls; /* in a class set: the class this key is */
} label_key;

static label_key key_of(const veil_table_col *c, size_t r)
{
	/* The view sets the array of its type only; a view without it has no
	 * label to give (checked per type, which also tells the analyzer). */
	label_key k = {0};
	switch (c->type) {
	case VEIL_COL_INT64:
	case VEIL_COL_DATE:
	case VEIL_COL_TIMESTAMP:
		if (c->i64)
			k.num = (double)c->i64[r];
		break;
	case VEIL_COL_DOUBLE:
		if (c->f64)
			k.num = c->f64[r];
		break;
	case VEIL_COL_BOOL:
		if (c->b)
			k.num = c->b[r];
		break;
	case VEIL_COL_STRING:
		if (c->str) {
			k.text = c->str[r].p;
			k.len = c->str[r].len;
		}
		break;
	case VEIL_COL_CATEGORY:
		if (c->codes && c->dict) {
			k.text = c->dict[c->codes[r]].p;
			k.len = c->dict[c->codes[r]].len;
		}
		break;
	}
	return k;
}

static int key_cmp(const label_key *a, const label_key *b)
{
	if (!a->text && !b->text)
		return a->num < b->num ? -1 : a->num > b->num;
	if (!a->text || !b->text) /* one column has one type: cannot happen */
		return a->text ? 1 : -1;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->text, b->text, n);
	return c ? c : (a->len > b->len) - (a->len < b->len);
}

static int key_qsort(const void *a, const void *b)
{
	return key_cmp(a, b);
}

/* The classes of a training set: the sorted distinct labels of every
 * table. keys are kept (sorted, distinct) to map rows by binary search. */
typedef struct class_set {
	label_key *keys;
	size_t n;
} class_set;

static long class_find(const class_set *cl, const label_key *k)
{
	size_t lo = 0, hi = cl->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(&cl->keys[mid], k);
		if (c == 0)
			return (long)cl->keys[mid].cls;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static veil_status label_column(const veil_table *t, size_t ti, const char *label, veil_table_col *c,
                                veil_err *err)
{
	long li = veil_table_find(t, label);
	if (li < 0)
		return veil_err_set(err, VEIL_E_NOTFOUND, "data set %zu has no label column '%s'", ti + 1,
		                    label);
	veil_table_column(t, (size_t)li, c);
	if (c->nulls)
		return veil_err_set(
		        err, VEIL_E_INVALID,
		        "the label column '%s' of data set %zu has missing values: drop those rows before "
		        "training",
		        label, ti + 1);
	return VEIL_OK;
}

static veil_status find_classes(const veil_table *const *tables, size_t n, const char *label, class_set *cl,
                                char (**labels)[VEIL_LEARN_LABEL_MAX], veil_err *err)
{
	size_t total = 0;
	veil_table_col c = {0};
	veil_col_type type = VEIL_COL_INT64;
	for (size_t i = 0; i < n; i++) {
		veil_status st = label_column(tables[i], i, label, &c, err);
		if (st)
			return st;
		if (i == 0)
			type = c.type;
		else if ((c.type == VEIL_COL_STRING || c.type == VEIL_COL_CATEGORY) !=
		         (type == VEIL_COL_STRING || type == VEIL_COL_CATEGORY))
			return veil_err_set(
			        err, VEIL_E_INVALID,
			        "the label column '%s' is text in one data set and a number in another",
			        label);
		total += c.nrows;
	}
	if (total == 0)
		return veil_err_set(err, VEIL_E_INVALID, "the training data has no rows");
	label_key *all = malloc(total * sizeof *all);
	if (!all)
		return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate %zu labels", total);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		veil_table_col col;
		veil_table_column(tables[i], (size_t)veil_table_find(tables[i], label), &col);
		for (size_t r = 0; r < col.nrows; r++)
			all[k++] = key_of(&col, r);
	}
	qsort(all, total, sizeof *all, key_qsort);
	size_t d = 0;
	for (size_t i = 0; i < total; i++)
		if (d == 0 || key_cmp(&all[d - 1], &all[i]) != 0)
			all[d++] = all[i];
	if (d < 2 || d > VEIL_LEARN_CLASSES_MAX) {
		veil_wipe(all, total * sizeof *all);
		free(all);
		return veil_err_set(err, VEIL_E_INVALID,
		                    "the label column '%s' has %s (a classifier needs 2 to %d classes)",
		                    label, d < 2 ? "a single value" : "too many distinct values",
		                    VEIL_LEARN_CLASSES_MAX);
	}
	cl->keys = all;
	cl->n = d;
	for (size_t i = 0; i < d; i++) /* a training set's classes are its sorted values */
		all[i].cls = i;
	if (!(*labels = calloc(d, sizeof **labels)))
		return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate %zu class labels", d);
	/* Each key points into some table's column; render it from there. */
	for (size_t i = 0; i < d; i++) {
		if (all[i].text && all[i].len >= VEIL_LEARN_LABEL_MAX)
			return veil_err_set(err, VEIL_E_LIMIT,
			                    "a value of the label column '%s' is longer than %d bytes", label,
			                    VEIL_LEARN_LABEL_MAX - 1);
		if (all[i].text)
			snprintf((*labels)[i], VEIL_LEARN_LABEL_MAX, "%.*s", (int)all[i].len, all[i].text);
		else if (all[i].num == floor(all[i].num) && fabs(all[i].num) < 1e15)
			snprintf((*labels)[i], VEIL_LEARN_LABEL_MAX, "%.0f", all[i].num);
		else
			snprintf((*labels)[i], VEIL_LEARN_LABEL_MAX, "%.17g", all[i].num);
	}
	return VEIL_OK;
}

/* The classes of an existing training set (or a model's manifest), for
 * mapping a test set: its label texts parsed back into keys of this
 * column's type, each keeping the index of its class. Two texts that are
 * one value in this column's type ("1" and "01" as numbers) are refused:
 * a row of that value could not say which class it is. */
static veil_status classes_from_labels(const veil_learn_data *from, const veil_table_col *c, class_set *cl,
                                       veil_err *err)
{
	bool text = c->type == VEIL_COL_STRING || c->type == VEIL_COL_CATEGORY;
	if (!(cl->keys = calloc(from->classes, sizeof *cl->keys)))
		return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate %zu classes", from->classes);
	cl->n = from->classes;
	for (size_t i = 0; i < from->classes; i++) {
		const char *s = from->class_labels[i];
		if (text) {
			cl->keys[i] = (label_key){.text = s, .len = strlen(s), .cls = i};
			continue;
		}
		double v;
		if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
			v = strcmp(s, "true") == 0;
		} else {
			char *end = NULL;
			v = strtod(s, &end);
			if (!end || end == s || *end)
				return veil_err_set(
				        err, VEIL_E_INVALID,
				        "the test set's labels are numbers but the training set's are text");
		}
		if (!isfinite(v))
			return veil_err_set(
			        err, VEIL_E_INVALID,
			        "the model's class %zu is not a finite number, but the labels are", i);
		cl->keys[i] = (label_key){.num = v, .cls = i};
	}
	qsort(cl->keys, cl->n, sizeof *cl->keys, key_qsort);
	for (size_t i = 1; i < cl->n; i++)
		if (key_cmp(&cl->keys[i - 1], &cl->keys[i]) == 0)
			return veil_err_set(err, VEIL_E_INVALID,
			                    "classes %zu and %zu are the same value in this label column",
			                    cl->keys[i - 1].cls, cl->keys[i].cls);
	return VEIL_OK;
}

/* ---- features ---- */

static const char *feature_advice(veil_col_type t)
{
	switch (t) {
	case VEIL_COL_STRING:
	case VEIL_COL_CATEGORY:
		return "encode it in a feature pipeline (one_hot or hash) or drop it";
	case VEIL_COL_DATE:
	case VEIL_COL_TIMESTAMP:
		return "turn it into numbers in a feature pipeline (generalise to year, or drop it)";
	default:
		return "";
	}
}

static veil_status feature_column(const veil_table *t, size_t ti, const char *name, veil_table_col *c,
                                  veil_err *err)
{
	long i = veil_table_find(t, name);
	if (i < 0)
		return veil_err_set(err, VEIL_E_NOTFOUND, "data set %zu has no column '%s'", ti + 1, name);
	veil_table_column(t, (size_t)i, c);
	if (c->type != VEIL_COL_INT64 && c->type != VEIL_COL_DOUBLE && c->type != VEIL_COL_BOOL) {
		veil_err_set(err, VEIL_E_INVALID, "feature '%s' is %s, not a number", name,
		             veil_col_type_name(c->type));
		veil_err_hint(err, "%s (docs/formats/pipeline.md)", feature_advice(c->type));
		return VEIL_E_INVALID;
	}
	if (c->nulls) {
		veil_err_set(err, VEIL_E_INVALID, "feature '%s' has missing values in data set %zu", name,
		             ti + 1);
		veil_err_hint(err, "impute them in a feature pipeline (docs/formats/pipeline.md)");
		return VEIL_E_INVALID;
	}
	return VEIL_OK;
}

static float value_of(const veil_table_col *c, size_t r)
{
	switch (c->type) {
	case VEIL_COL_INT64:
		return (float)c->i64[r];
	case VEIL_COL_DOUBLE:
		return (float)c->f64[r];
	case VEIL_COL_BOOL:
		return c->b[r];
	default:
		return 0;
	}
}

/* The feature names: the given ones, or every column of the first table
 * but the label. */
static bool listed(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

static veil_status choose_features(const veil_table *t, const char *label, const char *const *features,
                                   size_t nfeatures, const char *const *exclude, size_t nexclude,
                                   const char ***names, size_t *n, veil_err *err)
{
	for (size_t i = 0; i < nexclude; i++)
		if (veil_table_find(t, exclude[i]) < 0)
			return veil_err_set(err, VEIL_E_NOTFOUND, "the data has no column '%s' to exclude",
			                    exclude[i]);
	size_t ncols = veil_table_ncols(t);
	if (features) {
		if (nfeatures == 0 || nfeatures > VEIL_LEARN_FEATURES_MAX)
			return veil_err_set(err, VEIL_E_LIMIT, "%zu features (1 to %d)", nfeatures,
			                    VEIL_LEARN_FEATURES_MAX);
		for (size_t i = 0; i < nfeatures; i++) {
			if (strcmp(features[i], label) == 0)
				return veil_err_set(err, VEIL_E_INVALID,
				                    "the label '%s' is also listed as a feature", label);
			for (size_t j = 0; j < i; j++)
				if (strcmp(features[i], features[j]) == 0)
					return veil_err_set(err, VEIL_E_INVALID,
					                    "feature '%s' is listed twice", features[i]);
		}
		*names = malloc(nfeatures * sizeof **names);
		if (!*names)
			return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate %zu feature names",
			                    nfeatures);
		memcpy(*names, features, nfeatures * sizeof **names);
		*n = nfeatures;
		return VEIL_OK;
	}
	if (ncols < 2)
		return veil_err_set(err, VEIL_E_INVALID, "the data has no column besides the label");
	if (!(*names = malloc(ncols * sizeof **names)))
		return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate %zu feature names", ncols);
	*n = 0;
	for (size_t i = 0; i < ncols; i++) {
		veil_table_col c;
		veil_table_column(t, i, &c);
		if (strcmp(c.name, label) != 0 && !listed(c.name, exclude, nexclude))
			(*names)[(*n)++] = c.name;
	}
	if (*n == 0)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "no feature column is left after the label and exclude");
	if (*n > VEIL_LEARN_FEATURES_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "%zu feature columns (at most %d)", *n,
		                    VEIL_LEARN_FEATURES_MAX);
	return VEIL_OK;
}

static veil_status fill_rows(const veil_table *const *tables, size_t n, const char *label, const char **names,
                             size_t nf, const class_set *cl, veil_learn_data *out, veil_err *err)
{
	size_t row = 0;
	veil_table_col *cols = calloc(nf ? nf : 1, sizeof *cols);
	if (!cols)
		return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate %zu columns", nf);
	veil_status st = VEIL_OK;
	for (size_t ti = 0; ti < n && !st; ti++) {
		veil_table_col lc = {0};
		if ((st = label_column(tables[ti], ti, label, &lc, err)))
			break;
		for (size_t f = 0; f < nf && !st; f++)
			st = feature_column(tables[ti], ti, names[f], &cols[f], err);
		if (st)
			break;
		size_t nr = veil_table_nrows(tables[ti]);
		for (size_t r = 0; r < nr; r++, row++) {
			label_key k = key_of(&lc, r);
			long cls = class_find(cl, &k);
			if (cls < 0) {
				st = veil_err_set(err, VEIL_E_INVALID,
				                  "data set %zu has a label the training data does not have",
				                  ti + 1);
				veil_err_hint(err, "a model only predicts the classes it was trained on");
				break;
			}
			out->y[row] = (int32_t)cls;
			float *x = out->x + row * nf;
			for (size_t f = 0; f < nf; f++) {
				x[f] = value_of(&cols[f], r);
				if (!isfinite(x[f])) { /* a double beyond float's range */
					st = veil_err_set(err, VEIL_E_INVALID,
					                  "feature '%s' in data set %zu has a value too "
					                  "large for float32: scale "
					                  "it in a feature pipeline",
					                  names[f], ti + 1);
					break;
				}
			}
			if (st)
				break;
		}
	}
	free(cols);
	return st;
}

veil_status veil_learn_data_from_tables(const veil_table *const *tables, size_t n, const char *label,
                                        const char *const *features, size_t nfeatures,
                                        const char *const *exclude, size_t nexclude,
                                        const veil_learn_data *classes_from, veil_learn_data *out,
                                        veil_err *err)
{
	memset(out, 0, sizeof *out);
	if (n == 0 || !label || !*label)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "training data needs at least one table and a label column");
	size_t rows = 0;
	for (size_t i = 0; i < n; i++)
		rows += veil_table_nrows(tables[i]);
	const char **names = NULL;
	size_t nf = 0;
	class_set cl = {0};
	veil_status st =
	        choose_features(tables[0], label, features, nfeatures, exclude, nexclude, &names, &nf, err);
	if (!st && rows == 0)
		st = veil_err_set(err, VEIL_E_INVALID, "the data has no rows");
	if (!st)
		st = alloc_matrix(out, rows, nf, err);
	if (!st && !classes_from) {
		st = find_classes(tables, n, label, &cl, &out->class_labels, err);
		out->classes = cl.n;
	} else if (!st) {
		veil_table_col lc = {0};
		if (!(st = label_column(tables[0], 0, label, &lc, err)) &&
		    !(st = classes_from_labels(classes_from, &lc, &cl, err))) {
			out->classes = classes_from->classes;
			if (!(out->class_labels = calloc(out->classes, sizeof *out->class_labels)))
				st = veil_err_set(err, VEIL_E_NOMEM, "cannot allocate class labels");
			else
				memcpy(out->class_labels, classes_from->class_labels,
				       out->classes * sizeof *out->class_labels);
		}
	}
	if (!st)
		st = fill_rows(tables, n, label, names, nf, &cl, out, err);
	for (size_t f = 0; !st && f < nf; f++)
		snprintf(out->feature_names[f], VEIL_LEARN_NAME_MAX, "%s", names[f]);
	free(names);
	free(cl.keys);
	if (st)
		veil_learn_data_free(out);
	return st;
}

veil_status veil_learn_data_from_idx(const veil_idx *images, const veil_idx *labels,
                                     const veil_learn_data *classes_from, veil_learn_data *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	veil_status st = veil_idx_to_matrix(images, labels, &out->x, &out->y, &out->rows, &out->cols, err);
	if (st)
		return st;
	if (out->rows == 0 || out->cols == 0 || out->cols > VEIL_LEARN_WIDTH_MAX) {
		st = veil_err_set(err, VEIL_E_LIMIT,
		                  "IDX data of %zu items of %zu values (1 to %d values each)", out->rows,
		                  out->cols, VEIL_LEARN_WIDTH_MAX);
		goto fail;
	}
	int32_t max = 0;
	for (size_t r = 0; r < out->rows; r++) {
		if (out->y[r] < 0) {
			st = veil_err_set(err, VEIL_E_INVALID,
			                  "a label is negative: IDX labels are class numbers");
			goto fail;
		}
		if (out->y[r] > max)
			max = out->y[r];
	}
	/* IDX labels are class numbers: the classes they are mapped to must be
	 * named by those numbers (a model trained on a table's labels "5" and
	 * "10" has no class 0 or 1 to give them). */
	for (size_t i = 0; classes_from && classes_from->class_labels && i < classes_from->classes; i++) {
		char want[24];
		snprintf(want, sizeof want, "%zu", i);
		if (strcmp(classes_from->class_labels[i], want) != 0) {
			st = veil_err_set(
			        err, VEIL_E_INVALID,
			        "the classes are not the class numbers 0 to %zu that IDX labels are",
			        classes_from->classes - 1);
			goto fail;
		}
	}
	size_t classes = classes_from ? classes_from->classes : (size_t)max + 1;
	if ((size_t)max >= classes) {
		st = veil_err_set(err, VEIL_E_INVALID, "a label is beyond the training data's %zu classes",
		                  classes);
		goto fail;
	}
	if (classes < 2 || classes > VEIL_LEARN_CLASSES_MAX) {
		st = veil_err_set(err, VEIL_E_INVALID, "labels name %zu classes (a classifier needs 2 to %d)",
		                  classes, VEIL_LEARN_CLASSES_MAX);
		goto fail;
	}
	out->classes = classes;
	out->class_labels = calloc(classes, sizeof *out->class_labels);
	out->feature_names = calloc(out->cols, sizeof *out->feature_names);
	if (!out->class_labels || !out->feature_names) {
		st = veil_err_set(err, VEIL_E_NOMEM, "cannot allocate names");
		goto fail;
	}
	for (size_t i = 0; i < classes; i++)
		snprintf(out->class_labels[i], VEIL_LEARN_LABEL_MAX, "%zu", i);
	for (size_t i = 0; i < out->cols; i++)
		snprintf(out->feature_names[i], VEIL_LEARN_NAME_MAX, "pixel_%zu", i);
	return VEIL_OK;
fail:
	veil_learn_data_free(out);
	return st;
}

/* ---- the split ---- */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A uniform integer in [0, n) without modulo bias (Lemire's method). */
static uint64_t below(uint64_t *s, uint64_t n)
{
	unsigned __int128 m = (unsigned __int128)splitmix64(s) * n;
	uint64_t lo = (uint64_t)m;
	if (lo < n) {
		uint64_t t = -n % n;
		while (lo < t) {
			m = (unsigned __int128)splitmix64(s) * n;
			lo = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

static veil_status take_rows(const veil_learn_data *d, const size_t *perm, size_t from, size_t n,
                             veil_learn_data *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	out->rows = n;
	out->cols = d->cols;
	out->classes = d->classes;
	out->x = malloc(n * d->cols * sizeof *out->x + 1);
	out->y = malloc(n * sizeof *out->y + 1);
	out->class_labels = calloc(d->classes, sizeof *out->class_labels);
	out->feature_names = calloc(d->cols, sizeof *out->feature_names);
	if (!out->x || !out->y || !out->class_labels || !out->feature_names) {
		veil_learn_data_free(out);
		return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate %zu rows", n);
	}
	memcpy(out->class_labels, d->class_labels, d->classes * sizeof *out->class_labels);
	memcpy(out->feature_names, d->feature_names, d->cols * sizeof *out->feature_names);
	for (size_t i = 0; i < n; i++) {
		size_t r = perm[from + i];
		memcpy(out->x + i * d->cols, d->x + r * d->cols, d->cols * sizeof *out->x);
		out->y[i] = d->y[r];
	}
	return VEIL_OK;
}

veil_status veil_learn_data_split(const veil_learn_data *d, double valid_frac, double test_frac,
                                  uint64_t seed, veil_learn_data *train, veil_learn_data *valid,
                                  veil_learn_data *test, veil_err *err)
{
	memset(train, 0, sizeof *train);
	memset(valid, 0, sizeof *valid);
	memset(test, 0, sizeof *test);
	if (!(valid_frac >= 0 && valid_frac <= 0.5) || !(test_frac >= 0 && test_frac <= 0.5))
		return veil_err_set(err, VEIL_E_INVALID, "split fractions must be between 0 and 0.5");
	size_t nt = (size_t)llround(test_frac * (double)d->rows);
	size_t nv = (size_t)llround(valid_frac * (double)d->rows);
	if (nt + nv >= d->rows)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "%zu rows leave none to train on after %zu test and %zu validation rows",
		                    d->rows, nt, nv);
	size_t *perm = malloc(d->rows * sizeof *perm);
	if (!perm)
		return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate a permutation of %zu rows", d->rows);
	for (size_t i = 0; i < d->rows; i++)
		perm[i] = i;
	uint64_t s = seed;
	for (size_t i = d->rows - 1; i > 0; i--) { /* Fisher–Yates, from the end */
		size_t j = (size_t)below(&s, (uint64_t)i + 1);
		size_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	veil_status st = take_rows(d, perm, 0, nt, test, err);
	if (!st)
		st = take_rows(d, perm, nt, nv, valid, err);
	if (!st)
		st = take_rows(d, perm, nt + nv, d->rows - nt - nv, train, err);
	free(perm);
	if (st) {
		veil_learn_data_free(train);
		veil_learn_data_free(valid);
		veil_learn_data_free(test);
	}
	return st;
}
