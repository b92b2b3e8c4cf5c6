/* Training data from tables and IDX arrays, and the seeded split
 * (include/veil/learn_data.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "veil/data_pipeline.h"
#include "veil/learn_data.h"

static veil_table *table(const char *csv)
{
	veil_table *t = NULL;
	veil_err err;
	veil_status st = veil_table_from_csv((const uint8_t *)csv, strlen(csv), NULL, NULL, &t, &err);
	if (st)
		fail_msg("table: %s", err.msg);
	return t;
}

static void test_text_labels_sorted(void **state)
{
	veil_table *t = table("a,b,y\n1,2.5,no\n3,4,yes\n5,6,maybe\n7,8,no\n");
	veil_learn_data d;
	veil_err err;
	const veil_table *ts[] = {t};
	assert_int_equal(veil_learn_data_from_tables(ts, 1, "y", NULL, 0, NULL, 0, NULL, &d, &err), VEIL_OK);
	assert_int_equal(d.rows, 4);
	assert_int_equal(d.cols, 2);
	assert_int_equal(d.classes, 3);
	assert_string_equal(d.class_labels[0], "maybe");
	assert_string_equal(d.class_labels[1], "no");
	assert_string_equal(d.class_labels[2], "yes");
	assert_int_equal(d.y[0], 1);
	assert_int_equal(d.y[1], 2);
	assert_int_equal(d.y[2], 0);
	assert_string_equal(d.feature_names[0], "a");
	assert_string_equal(d.feature_names[1], "b");
	assert_true(d.x[1] == 2.5f && d.x[2] == 3.0f);
	veil_learn_data_free(&d);
	assert_null(d.x);
	veil_table_free(t);
}

static void test_numeric_labels_by_value(void **state)
{
	/* 10 sorts after 9 by value, not as text. */
	veil_table *t = table("x,y\n1,10\n2,9\n3,10\n4,2\n");
	veil_learn_data d;
	veil_err err;
	const veil_table *ts[] = {t};
	assert_int_equal(veil_learn_data_from_tables(ts, 1, "y", NULL, 0, NULL, 0, NULL, &d, &err), VEIL_OK);
	assert_int_equal(d.classes, 3);
	assert_string_equal(d.class_labels[0], "2");
	assert_string_equal(d.class_labels[2], "10");
	assert_int_equal(d.y[0], 2);
	assert_int_equal(d.y[3], 0);
	/* A test set is mapped with the training classes... */
	veil_table *t2 = table("x,y\n5,9\n6,2\n");
	const veil_table *ts2[] = {t2};
	veil_learn_data e;
	assert_int_equal(veil_learn_data_from_tables(ts2, 1, "y", NULL, 0, NULL, 0, &d, &e, &err), VEIL_OK);
	assert_int_equal(e.classes, 3);
	assert_int_equal(e.y[0], 1);
	assert_int_equal(e.y[1], 0);
	veil_learn_data_free(&e);
	/* ... and a class it never saw is refused, without the value. */
	veil_table *t3 = table("x,y\n5,9\n6,77\n");
	const veil_table *ts3[] = {t3};
	assert_int_equal(veil_learn_data_from_tables(ts3, 1, "y", NULL, 0, NULL, 0, &d, &e, &err),
	                 VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "data set 1 has a label"));
	assert_null(strstr(err.msg, "row"));
	assert_null(strstr(err.msg, "77"));
	assert_null(e.x);
	veil_learn_data_free(&d);
	veil_table_free(t);
	veil_table_free(t2);
	veil_table_free(t3);
}

static void test_features_chosen_and_refused(void **state)
{
	veil_table *t = table("name,age,when,y\nann,30,2020-01-02,1\nbob,,2021-03-04,0\n");
	veil_learn_data d;
	veil_err err;
	const veil_table *ts[] = {t};
	/* Every column but the label: name is text. */
	assert_int_equal(veil_learn_data_from_tables(ts, 1, "y", NULL, 0, NULL, 0, NULL, &d, &err),
	                 VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "feature 'name' is string"));
	assert_non_null(strstr(err.hint, "one_hot"));
	assert_null(strstr(err.msg, "ann"));
	const char *f1[] = {"when"};
	assert_int_equal(veil_learn_data_from_tables(ts, 1, "y", f1, 1, NULL, 0, NULL, &d, &err),
	                 VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "feature 'when' is date"));
	const char *f2[] = {"age"};
	assert_int_equal(veil_learn_data_from_tables(ts, 1, "y", f2, 1, NULL, 0, NULL, &d, &err),
	                 VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "feature 'age' has missing values"));
	assert_null(strstr(err.msg, "1 "));
	assert_non_null(strstr(err.hint, "impute"));
	const char *f3[] = {"height"};
	assert_int_equal(veil_learn_data_from_tables(ts, 1, "y", f3, 1, NULL, 0, NULL, &d, &err),
	                 VEIL_E_NOTFOUND);
	assert_non_null(strstr(err.msg, "no column 'height'"));
	const char *f4[] = {"y"};
	assert_int_equal(veil_learn_data_from_tables(ts, 1, "y", f4, 1, NULL, 0, NULL, &d, &err),
	                 VEIL_E_INVALID);
	assert_int_equal(veil_learn_data_from_tables(ts, 1, "label", f2, 1, NULL, 0, NULL, &d, &err),
	                 VEIL_E_NOTFOUND);
	assert_non_null(strstr(err.msg, "no label column 'label'"));
	veil_table_free(t);
	/* One class only is not a classifier. */
	t = table("x,y\n1,a\n2,a\n");
	const veil_table *tt[] = {t};
	assert_int_equal(veil_learn_data_from_tables(tt, 1, "y", NULL, 0, NULL, 0, NULL, &d, &err),
	                 VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "a single value"));
	veil_table_free(t);
}

static void test_several_tables(void **state)
{
	veil_table *a = table("x,y\n1,b\n2,a\n");
	veil_table *b = table("y,x\nc,3\n");
	veil_learn_data d;
	veil_err err;
	const veil_table *ts[] = {a, b};
	assert_int_equal(veil_learn_data_from_tables(ts, 2, "y", NULL, 0, NULL, 0, NULL, &d, &err), VEIL_OK);
	assert_int_equal(d.rows, 3);
	assert_int_equal(d.classes, 3);
	assert_true(d.x[2] == 3.0f); /* by name, not position */
	assert_int_equal(d.y[2], 2);
	veil_learn_data_free(&d);
	veil_table_free(a);
	veil_table_free(b);
}

static void test_split(void **state)
{
	enum { N = 1000 };
	veil_table_col_spec spec[] = {{"x", VEIL_COL_INT64}, {"y", VEIL_COL_INT64}};
	veil_table *t = NULL;
	veil_err err;
	assert_int_equal(veil_table_new(spec, 2, &t, &err), VEIL_OK);
	for (int i = 0; i < N; i++) {
		veil_table_value v[2] = {{.i = i}, {.i = i % 2}};
		assert_int_equal(veil_table_append_values(t, v, 2, &err), VEIL_OK);
	}
	const veil_table *ts[] = {t};
	veil_learn_data d, tr, va, te, tr2, va2, te2;
	assert_int_equal(veil_learn_data_from_tables(ts, 1, "y", NULL, 0, NULL, 0, NULL, &d, &err), VEIL_OK);
	assert_int_equal(veil_learn_data_split(&d, 0.1, 0.2, 7, &tr, &va, &te, &err), VEIL_OK);
	assert_int_equal(te.rows, 200);
	assert_int_equal(va.rows, 100);
	assert_int_equal(tr.rows, 700);
	/* Every row lands in exactly one part, with its label. */
	int seen[N] = {0};
	const veil_learn_data *parts[] = {&tr, &va, &te};
	for (int p = 0; p < 3; p++)
		for (size_t r = 0; r < parts[p]->rows; r++) {
			int x = (int)parts[p]->x[r];
			seen[x]++;
			assert_int_equal(parts[p]->y[r], x % 2);
		}
	for (int i = 0; i < N; i++)
		assert_int_equal(seen[i], 1);
	/* The same seed gives the same split; another seed another. */
	assert_int_equal(veil_learn_data_split(&d, 0.1, 0.2, 7, &tr2, &va2, &te2, &err), VEIL_OK);
	assert_memory_equal(te.x, te2.x, te.rows * sizeof(float));
	veil_learn_data_free(&tr2);
	veil_learn_data_free(&va2);
	veil_learn_data_free(&te2);
	assert_int_equal(veil_learn_data_split(&d, 0.1, 0.2, 8, &tr2, &va2, &te2, &err), VEIL_OK);
	assert_true(memcmp(te.x, te2.x, te.rows * sizeof(float)) != 0);
	/* Not shuffled in order: the test part is not simply the first rows. */
	assert_false(te.x[0] == 0.0f && te.x[1] == 1.0f && te.x[2] == 2.0f);
	veil_learn_data_free(&tr2);
	veil_learn_data_free(&va2);
	veil_learn_data_free(&te2);
	assert_int_equal(veil_learn_data_split(&d, 0.6, 0, 1, &tr2, &va2, &te2, &err), VEIL_E_INVALID);
	assert_int_equal(veil_learn_data_split(&d, 0.5, 0.5, 1, &tr2, &va2, &te2, &err), VEIL_E_INVALID);
	assert_int_equal(veil_learn_data_split(&d, 0, 0, 1, &tr2, &va2, &te2, &err), VEIL_OK);
	assert_int_equal(tr2.rows, N);
	assert_int_equal(va2.rows, 0);
	veil_learn_data_free(&tr2);
	veil_learn_data_free(&va2);
	veil_learn_data_free(&te2);
	veil_learn_data_free(&tr);
	veil_learn_data_free(&va);
	veil_learn_data_free(&te);
	veil_learn_data_free(&d);
	veil_table_free(t);
}

static void test_idx(void **state)
{
	uint8_t px[3 * 4] = {0, 255, 51, 0, 1, 2, 3, 4, 5, 6, 7, 8};
	uint8_t lab[3] = {2, 0, 1};
	veil_idx images = {.type = VEIL_IDX_U8,
	                   .ndims = 3,
	                   .dims = {3, 2, 2},
	                   .nitems = 3,
	                   .item_values = 4,
	                   .values = px,
	                   .values_len = sizeof px};
	veil_idx labels = {.type = VEIL_IDX_U8,
	                   .ndims = 1,
	                   .dims = {3},
	                   .nitems = 3,
	                   .item_values = 1,
	                   .values = lab,
	                   .values_len = sizeof lab};
	veil_learn_data d, e;
	veil_err err;
	assert_int_equal(veil_learn_data_from_idx(&images, &labels, NULL, &d, &err), VEIL_OK);
	assert_int_equal(d.rows, 3);
	assert_int_equal(d.cols, 4);
	assert_int_equal(d.classes, 3);
	assert_true(d.x[1] == 1.0f && d.x[2] == 0.2f);
	assert_string_equal(d.class_labels[2], "2");
	assert_string_equal(d.feature_names[3], "pixel_3");
	/* A test set with a class beyond the training set's is refused. */
	lab[0] = 5;
	assert_int_equal(veil_learn_data_from_idx(&images, &labels, &d, &e, &err), VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "beyond the training data's 3 classes"));
	assert_null(strstr(err.msg, "5"));
	/* Classes named otherwise than 0..k-1 (a model trained on a table)
	 * have no class for an IDX label number. */
	lab[0] = 2;
	snprintf(d.class_labels[0], VEIL_LEARN_LABEL_MAX, "5");
	assert_int_equal(veil_learn_data_from_idx(&images, &labels, &d, &e, &err), VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "not the class numbers 0 to 2"));
	veil_learn_data_free(&d);
}

/* A model's classes, as its manifest names them, for mapping new data:
 * each keeps its index, whatever order its values sort in this column. */
static void classes_of(veil_learn_data *d, const char *const *labels, size_t n)
{
	memset(d, 0, sizeof *d);
	d->classes = n;
	d->class_labels = calloc(n, sizeof *d->class_labels);
	assert_non_null(d->class_labels);
	for (size_t i = 0; i < n; i++)
		snprintf(d->class_labels[i], VEIL_LEARN_LABEL_MAX, "%s", labels[i]);
}

static void test_classes_from_a_model(void **state)
{
	(void)state;
	/* Text classes "010", "8", "9" (in text order), numbers in the data:
	 * 8 is class 1, 9 class 2 and 10 (= "010") class 0. */
	static const char *const text_order[] = {"010", "8", "9"};
	veil_learn_data model, d;
	veil_err err;
	classes_of(&model, text_order, 3);
	veil_table *t = table("x,y\n1,8\n2,9\n3,10\n4,8\n");
	const veil_table *ts[] = {t};
	const char *const feats[] = {"x"};
	assert_int_equal(veil_learn_data_from_tables(ts, 1, "y", feats, 1, NULL, 0, &model, &d, &err),
	                 VEIL_OK);
	assert_int_equal(d.classes, 3);
	assert_int_equal(d.y[0], 1);
	assert_int_equal(d.y[1], 2);
	assert_int_equal(d.y[2], 0);
	assert_int_equal(d.y[3], 1);
	assert_string_equal(d.class_labels[0], "010");
	veil_learn_data_free(&d);
	veil_learn_data_free(&model);
	/* "1" and "01" are one number: a row of 1 could be either class. */
	static const char *const twins[] = {"01", "1"};
	classes_of(&model, twins, 2);
	veil_table *u = table("x,y\n1,1\n2,1\n");
	const veil_table *us[] = {u};
	assert_int_equal(veil_learn_data_from_tables(us, 1, "y", feats, 1, NULL, 0, &model, &d, &err),
	                 VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "the same value"));
	veil_learn_data_free(&model);
	/* and a class that is not a finite number cannot match a number */
	static const char *const nan_class[] = {"nan", "1"};
	classes_of(&model, nan_class, 2);
	assert_int_equal(veil_learn_data_from_tables(us, 1, "y", feats, 1, NULL, 0, &model, &d, &err),
	                 VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "not a finite number"));
	veil_learn_data_free(&model);
	veil_table_free(t);
	veil_table_free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_text_labels_sorted),
	        cmocka_unit_test(test_numeric_labels_by_value),
	        cmocka_unit_test(test_features_chosen_and_refused),
	        cmocka_unit_test(test_several_tables),
	        cmocka_unit_test(test_split),
	        cmocka_unit_test(test_idx),
	        cmocka_unit_test(test_classes_from_a_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
