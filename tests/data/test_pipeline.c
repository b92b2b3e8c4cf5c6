/* Unit tests for feature pipelines (docs/formats/pipeline.md): the reader
 * and its refusals with line and column (a table of cases); the check
 * against a table's columns; each step's semantics on small tables with
 * hand-computed answers; pseudonymisation against RFC 4231's published
 * HMAC-SHA-256 vectors and hash buckets against SHA-256; k-anonymity;
 * mutual information against hand-computed values; the fitted round trip
 * (fit, write, parse, apply gives the same table); the CSV round trip of
 * tables; the report's redaction; and the shipped example on the output of
 * veil-datagen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "veil/data.h"

static const uint8_t key1[VEIL_PIPELINE_KEY_LEN] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                                    11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                                    22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

static veil_pipeline *parse_ok(const char *text)
{
	veil_pipeline *p = NULL;
	veil_err e = {0};
	if (veil_pipeline_parse(text, strlen(text), &p, &e) != VEIL_OK)
		fail_msg("pipeline refused: %s\n%s", e.msg, text);
	assert_non_null(p);
	return p;
}

static veil_table *table_of(const char *csv)
{
	veil_table *t = NULL;
	veil_err e = {0};
	if (veil_table_from_csv((const uint8_t *)csv, strlen(csv), NULL, NULL, &t, &e) != VEIL_OK)
		fail_msg("table refused: %s", e.msg);
	return t;
}

static veil_status buf_write(void *ctx, const uint8_t *p, size_t n, veil_err *err)
{
	return veil_buf_append(ctx, p, n, err);
}

/* The table as CSV with LF line ends, NUL-terminated; the caller frees it. */
static char *csv_of(const veil_table *t)
{
	veil_buf b = {0};
	veil_err e = {0};
	assert_int_equal(veil_table_write_csv(t, buf_write, &b, &e), VEIL_OK);
	char *s = malloc(b.len + 1);
	assert_non_null(s);
	size_t n = 0;
	for (size_t i = 0; i < b.len; i++)
		if (!(b.data[i] == '\r' && i + 1 < b.len && b.data[i + 1] == '\n'))
			s[n++] = (char)b.data[i];
	s[n] = '\0';
	veil_buf_free(&b);
	return s;
}

/* Fits pipeline text on csv and checks the output's CSV. */
static veil_pipeline *fit_expect(const char *pipeline, const char *csv, const uint8_t *key, const char *want,
                                 veil_pipeline_stats *stats)
{
	veil_pipeline *p = parse_ok(pipeline);
	veil_table *in = table_of(csv), *out = NULL;
	veil_err e = {0};
	veil_pipeline_stats local;
	if (veil_pipeline_fit(p, in, key, &out, stats ? stats : &local, &e) != VEIL_OK)
		fail_msg("fit failed: %s", e.msg);
	char *got = csv_of(out);
	if (want && strcmp(got, want) != 0)
		fail_msg("output differs.\nwant:\n%s\ngot:\n%s", want, got);
	free(got);
	veil_table_free(in);
	veil_table_free(out);
	return p;
}

/* Fitting pipeline on csv fails with code and a message starting with prefix. */
static void fit_fails(const char *pipeline, const char *csv, veil_status code, const char *prefix)
{
	veil_pipeline *p = parse_ok(pipeline);
	veil_table *in = table_of(csv), *out = (veil_table *)&p;
	veil_err e = {0};
	veil_pipeline_stats st;
	veil_status got = veil_pipeline_fit(p, in, key1, &out, &st, &e);
	if (got != code || strncmp(e.msg, prefix, strlen(prefix)) != 0)
		fail_msg("want %d '%s...', got %d '%s'", code, prefix, got, e.msg);
	assert_null(out);
	veil_table_free(in);
	veil_pipeline_free(p);
}

static const veil_table_col *column(const veil_table *t, const char *name, veil_table_col *c)
{
	long i = veil_table_find(t, name);
	if (i < 0)
		fail_msg("no column %s", name);
	veil_table_column(t, (size_t)i, c);
	return c;
}

#define V1 "version: 1\n"

/* ---- reading ---- */

static void test_parse_every_step(void **state)
{
	(void)state;
	static const char text[] = V1 "label: readmitted\n"
	                              "steps:\n"
	                              "  - drop: {columns: [ssn, phone]}\n"
	                              "  - pseudonymise: {columns: [patient_id, email]}\n"
	                              "  - impute: {columns: [bmi], strategy: median}\n"
	                              "  - impute: {columns: [city], strategy: constant, value: unknown}\n"
	                              "  - generalise: {column: age, to: band, width: 10}\n"
	                              "  - generalise: {column: zip, to: prefix, length: 3}\n"
	                              "  - generalise: {column: visit, to: month}\n"
	                              "  - clip: {columns: [glucose], min: 40, max: 400}\n"
	                              "  - log: {columns: [income]}\n"
	                              "  - standardize: {columns: [bmi, glucose]}\n"
	                              "  - minmax: {columns: [systolic]}\n"
	                              "  - bucketize: {columns: [glucose], bins: 4}\n"
	                              "  - bucketize: {columns: [income], edges: [0, 1.5e3, 10000]}\n"
	                              "  - one_hot: {columns: [sex], max_categories: 8}\n"
	                              "  - hash_buckets: {columns: [zip], buckets: 32}\n"
	                              "  - k_anonymity:\n"
	                              "      quasi_identifiers: [age, sex, zip]\n"
	                              "      k: 5\n"
	                              "      suppress: true\n";
	veil_pipeline *p = parse_ok(text);
	assert_string_equal(veil_pipeline_label(p), "readmitted");
	assert_true(veil_pipeline_needs_key(p));
	assert_false(veil_pipeline_is_fitted(p));
	/* What it writes reads back and writes the same bytes. */
	veil_buf w1 = {0}, w2 = {0};
	veil_err e = {0};
	assert_int_equal(veil_pipeline_write(p, &w1, &e), VEIL_OK);
	veil_pipeline *q = NULL;
	assert_int_equal(veil_pipeline_parse((const char *)w1.data, w1.len, &q, &e), VEIL_OK);
	assert_int_equal(veil_pipeline_write(q, &w2, &e), VEIL_OK);
	assert_int_equal(w1.len, w2.len);
	assert_memory_equal(w1.data, w2.data, w1.len);
	veil_buf_free(&w1);
	veil_buf_free(&w2);
	veil_pipeline_free(q);
	veil_pipeline_free(p);

	/* Steps that learn nothing make a pipeline that is fitted already. */
	p = parse_ok(V1 "steps:\n  - drop: {columns: [a]}\n  - log: {columns: [b]}\n");
	assert_true(veil_pipeline_is_fitted(p));
	assert_false(veil_pipeline_needs_key(p));
	assert_null(veil_pipeline_label(p));
	veil_pipeline_free(p);
}

typedef struct bad_case {
	const char *text;
	veil_status code;
	const char *msg; /* the start of the message */
} bad_case;

static void test_parse_errors(void **state)
{
	(void)state;
	static const bad_case cases[] = {
	        {"", VEIL_E_INVALID, "line 1, column 1: the pipeline is empty"},
	        {V1 "steps:\n  - dorp: {columns: [a]}\n", VEIL_E_INVALID,
	         "line 3, column 5: unknown step 'dorp'"},
	        {V1 "steps:\n  - drop: {columns: [a], colour: red}\n", VEIL_E_INVALID,
	         "line 3, column 26: unknown option 'colour' for drop (known: columns)"},
	        {V1 "steps:\n  - impute: {columns: [a], strategy: mean, width: 3}\n", VEIL_E_INVALID,
	         "line 3, column 44: unknown option 'width' for impute (known: columns, strategy, value, "
	         "fitted)"},
	        {V1 "steps:\n  - drop: {columns: [a, b, a]}\n", VEIL_E_INVALID,
	         "line 3, column 28: column 'a' is named twice in this step"},
	        {V1 "steps:\n  - k_anonymity: {quasi_identifiers: [a, a], k: 2}\n", VEIL_E_INVALID,
	         "line 3, column 42: column 'a' is named twice"},
	        {V1 "steps:\n  - impute: {columns: [a]}\n", VEIL_E_INVALID,
	         "line 3, column 5: impute has no 'strategy' option, which is required"},
	        {V1 "steps:\n  - log: {}\n", VEIL_E_INVALID, "line 3, column 5: log has no 'columns' option"},
	        {V1 "steps:\n  - impute: {columns: [a], strategy: constant}\n", VEIL_E_INVALID,
	         "line 3, column 5: impute with strategy constant needs a 'value'"},
	        {V1 "steps:\n  - impute: {columns: [a], strategy: mean, value: 3}\n", VEIL_E_INVALID,
	         "line 3, column 44: value applies only to strategy constant"},
	        {V1 "steps:\n  - impute: {columns: [a], strategy: average}\n", VEIL_E_INVALID,
	         "line 3, column 38: unknown strategy 'average'"},
	        {V1 "steps:\n  - generalise: {column: a, to: band}\n", VEIL_E_INVALID,
	         "line 3, column 5: generalise to band needs a 'width'"},
	        {V1 "steps:\n  - generalise: {column: a, to: year, length: 2}\n", VEIL_E_INVALID,
	         "line 3, column 39: length applies only to prefix, not year"},
	        {V1 "steps:\n  - generalise: {column: a, to: band, width: 0}\n", VEIL_E_INVALID,
	         "line 3, column 46: width must be a whole number from 1 to 1000000000"},
	        {V1 "steps:\n  - clip: {columns: [a]}\n", VEIL_E_INVALID,
	         "line 3, column 5: clip needs 'min', 'max'"},
	        {V1 "steps:\n  - clip: {columns: [a], min: 5, max: 1}\n", VEIL_E_INVALID,
	         "line 3, column 34: clip: max is below min"},
	        {V1 "steps:\n  - clip: {columns: [a], min: \"5\"}\n", VEIL_E_INVALID,
	         "line 3, column 31: min must be a finite number such as 40 or 2.5, not quoted"},
	        {V1 "steps:\n  - bucketize: {columns: [a]}\n", VEIL_E_INVALID,
	         "line 3, column 5: bucketize needs exactly one of 'bins'"},
	        {V1 "steps:\n  - bucketize: {columns: [a], bins: 4, edges: [1]}\n", VEIL_E_INVALID,
	         "line 3, column 40: bucketize needs exactly one of 'bins'"},
	        {V1 "steps:\n  - bucketize: {columns: [a], edges: [1, 3, 2]}\n", VEIL_E_INVALID,
	         "line 3, column 45: edges must be strictly increasing"},
	        {V1 "steps:\n  - bucketize: {columns: [a], bins: 1}\n", VEIL_E_INVALID,
	         "line 3, column 37: bins must be a whole number from 2 to 1024"},
	        {V1 "steps:\n  - one_hot: {columns: [a, b], max_categories: 1000}\n", VEIL_E_LIMIT,
	         "line 3, column 5: one_hot could make 2000 categories"},
	        {V1 "steps:\n  - k_anonymity: {quasi_identifiers: [a], k: 1}\n", VEIL_E_INVALID,
	         "line 3, column 46: k must be a whole number from 2 to 1000000"},
	        {V1 "steps:\n  - k_anonymity: {quasi_identifiers: [a], suppress: yes, k: 2}\n",
	         VEIL_E_INVALID, "line 3, column 53: suppress must be true or false"},
	        {V1 "steps:\n  - drop: {columns: [a]}\n    log: {columns: [b]}\n", VEIL_E_INVALID,
	         "line 4, column 5: a step has one key"},
	        {V1 "steps:\n  - drop: [a]\n", VEIL_E_INVALID, "line 3, column 11: drop must be a mapping"},
	        {V1 "steps: []\n", VEIL_E_INVALID, "line 2, column 8: steps lists no step"},
	        {V1 "label: y\nsteps:\n  - log: {columns: [x, y]}\n", VEIL_E_INVALID,
	         "line 4, column 24: 'y' is the label"},
	        {V1 "steps:\n  - standardize: {columns: [a], fitted: {mean: [1], std: [2]}}\n",
	         VEIL_E_INVALID,
	         "line 3, column 5: this step has fitted parameters, but the pipeline does not say fitted: "
	         "true"},
	        {V1 "fitted: true\nsteps:\n  - standardize: {columns: [a]}\n", VEIL_E_INVALID,
	         "line 4, column 5: the pipeline says fitted: true, but this standardize step has no fitted"},
	        {V1 "fitted: true\nsteps:\n  - standardize: {columns: [a, b], fitted: {mean: [1], std: [2, "
	            "3]}}\n",
	         VEIL_E_INVALID, "line 4, column 45: fitted mean lists 1 entries for 2 columns"},
	        {V1 "fitted: true\nsteps:\n  - standardize: {columns: [a], fitted: {mean: [1], std: [-2]}}\n",
	         VEIL_E_INVALID, "line 4, column 53: a fitted std is negative"},
	        {V1 "fitted: true\nsteps:\n  - one_hot: {columns: [a], fitted: {categories: [[x, other]]}}\n",
	         VEIL_E_INVALID, "line 4, column 55: 'other' is the catch-all column"},
	        {V1 "fitted: true\nsteps:\n  - one_hot: {columns: [a], max_categories: 1, fitted: "
	            "{categories: [[x, "
	            "y]]}}\n",
	         VEIL_E_INVALID,
	         "line 4, column 57: fitted categories of column 'a' are more than max_categories"},
	        {V1 "fitted: true\nsteps:\n  - pseudonymise: {columns: [a], fitted: {key_check: abc}}\n",
	         VEIL_E_INVALID, "line 4, column 54: key_check must be 16 lowercase hex digits"},
	        {"version: 2\nsteps:\n  - log: {columns: [a]}\n", VEIL_E_UNSUPPORTED,
	         "line 1, column 10: pipeline version 2 is not supported"},
	        {"steps:\n  - log: {columns: [a]}\n", VEIL_E_INVALID,
	         "line 1, column 1: the pipeline has no 'version' key"},
	        {V1 "steps:\n  - log: &x {columns: [a]}\n", VEIL_E_INVALID, "line 3, column 10: "},
	        {V1 "steps:\n  - log: {columns: [a]}\n---\n" V1, VEIL_E_INVALID, "line 4, column 1: "},
	};
	int failed = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		veil_pipeline *p = (veil_pipeline *)&p;
		veil_err e = {0};
		veil_status st = veil_pipeline_parse(cases[i].text, strlen(cases[i].text), &p, &e);
		if (st != cases[i].code || strncmp(e.msg, cases[i].msg, strlen(cases[i].msg)) != 0) {
			print_error("case %zu: want %d '%s...', got %d '%s'\n", i, cases[i].code,
			            cases[i].msg, st, e.msg);
			failed++;
		}
		assert_null(p);
	}
	assert_int_equal(failed, 0);
	/* Bounds: more steps than allowed, a text over the limit. */
	veil_buf b = {0};
	veil_err e = {0};
	assert_int_equal(veil_buf_printf(&b, &e, V1 "steps:\n"), VEIL_OK);
	for (int i = 0; i <= VEIL_PIPELINE_STEPS_MAX; i++)
		assert_int_equal(veil_buf_printf(&b, &e, "  - log: {columns: [a]}\n"), VEIL_OK);
	veil_pipeline *p = NULL;
	assert_int_equal(veil_pipeline_parse((const char *)b.data, b.len, &p, &e), VEIL_E_LIMIT);
	assert_string_equal(e.msg, "line 259, column 5: more than 256 steps");
	veil_buf_free(&b);
	char *big = calloc(VEIL_PIPELINE_MAX_BYTES + 1, 1);
	assert_non_null(big);
	memset(big, ' ', VEIL_PIPELINE_MAX_BYTES + 1);
	assert_int_equal(veil_pipeline_parse(big, VEIL_PIPELINE_MAX_BYTES + 1, &p, &e), VEIL_E_LIMIT);
	free(big);
}

/* ---- checking against a table ---- */

static void test_check(void **state)
{
	(void)state;
	veil_table *t = table_of("name,age,bmi,city,visit,y\nAnn,34,22.5,Oslo,2024-01-02,1\n");
	static const bad_case cases[] = {
	        {V1 "steps:\n  - log: {columns: [weight]}\n", VEIL_E_INVALID,
	         "line 3, column 21: log: the input has no column 'weight'"},
	        {V1 "steps:\n  - drop: {columns: [bmi]}\n  - standardize: {columns: [age, bmi]}\n",
	         VEIL_E_INVALID,
	         "line 4, column 34: standardize: no column 'bmi' at this step (the drop step on line 3 "
	         "removed it)"},
	        {V1 "steps:\n  - impute: {columns: [city], strategy: mean}\n", VEIL_E_INVALID,
	         "line 3, column 24: impute takes int or float columns; column 'city' is string"},
	        {V1 "steps:\n  - impute: {columns: [age], strategy: constant, value: old}\n", VEIL_E_INVALID,
	         "line 3, column 24: impute: the value is not a value of column 'age' (int)"},
	        {V1 "steps:\n  - clip: {columns: [age], min: 0.5}\n", VEIL_E_INVALID,
	         "line 3, column 22: clip: column 'age' is int, so min and max must be whole numbers"},
	        {V1 "steps:\n  - generalise: {column: city, to: year}\n", VEIL_E_INVALID,
	         "line 3, column 26: generalise takes date or timestamp columns; column 'city' is string"},
	        {V1 "steps:\n  - generalise: {column: age, to: prefix, length: 1}\n", VEIL_E_INVALID,
	         "line 3, column 26: generalise takes string or category columns"},
	        {V1 "steps:\n  - one_hot: {columns: [bmi]}\n", VEIL_E_INVALID,
	         "line 3, column 25: one_hot takes columns of any type but float"},
	        {V1 "steps:\n  - generalise: {column: age, to: band, width: 10}\n  - log: {columns: [age]}\n",
	         VEIL_E_INVALID, "line 4, column 21: log takes int or float columns; column 'age' is string"},
	        {V1 "label: outcome\nsteps:\n  - log: {columns: [age]}\n", VEIL_E_INVALID,
	         "line 2, column 8: the input has no label column 'outcome'"},
	        {V1 "steps:\n  - drop: {columns: [name, age, bmi, city, visit, y]}\n", VEIL_E_INVALID,
	         "the pipeline drops every column"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		veil_pipeline *p = parse_ok(cases[i].text);
		veil_err e = {0};
		veil_status st = veil_pipeline_check(p, t, &e);
		if (st != cases[i].code || strncmp(e.msg, cases[i].msg, strlen(cases[i].msg)) != 0)
			fail_msg("case %zu: want %d '%s...', got %d '%s'", i, cases[i].code, cases[i].msg, st,
			         e.msg);
		veil_pipeline_free(p);
	}
	/* One-hot outputs are columns later steps may name, fitted or not. */
	veil_pipeline *p =
	        parse_ok(V1 "steps:\n  - one_hot: {columns: [city]}\n  - drop: {columns: [city=Oslo]}\n");
	veil_err e = {0};
	assert_int_equal(veil_pipeline_check(p, t, &e), VEIL_OK);
	veil_table *out = NULL;
	assert_int_equal(veil_pipeline_fit(p, t, NULL, &out, NULL, &e), VEIL_OK);
	assert_int_equal(veil_pipeline_check(p, t, &e), VEIL_OK);
	char *got = csv_of(out);
	assert_string_equal(got, "name,age,bmi,city=other,visit,y\nAnn,34,22.5,0,2024-01-02,1\n");
	free(got);
	veil_table_free(out);
	veil_pipeline_free(p);
	/* A name no fitted category makes is refused when the fit finds the vocabulary. */
	p = parse_ok(V1 "steps:\n  - one_hot: {columns: [city]}\n  - drop: {columns: [city=Rome]}\n");
	assert_int_equal(veil_pipeline_check(p, t, &e), VEIL_OK);
	assert_int_equal(veil_pipeline_fit(p, t, NULL, &out, NULL, &e), VEIL_E_INVALID);
	assert_string_equal(e.msg, "line 4, column 22: drop: no column 'city=Rome' at this step");
	assert_false(veil_pipeline_is_fitted(p)); /* a failed fit leaves the pipeline as it was */
	veil_pipeline_free(p);
	veil_table_free(t);
}

/* ---- steps ---- */

static void test_pseudonymise_rfc4231(void **state)
{
	(void)state;
	/* HMAC pads a key shorter than the 64-byte block with zeros, so RFC
	 * 4231's 4-byte key "Jefe" (test case 2) and its 20-byte key of 0x0b
	 * (case 1) are the same keys as these 32-byte ones. */
	uint8_t jefe[VEIL_PIPELINE_KEY_LEN] = {'J', 'e', 'f', 'e'};
	uint8_t k0b[VEIL_PIPELINE_KEY_LEN] = {0};
	memset(k0b, 0x0b, 20);
	const char *csv = "note\nwhat do ya want for nothing?\n\nHi There\nwhat do ya want for nothing?\n";
	const char *pl = V1 "steps:\n  - pseudonymise: {columns: [note]}\n";
	veil_pipeline *p = fit_expect(pl, csv, jefe,
	                              "note\n5bdcc146bf60754e6a042426089575c7\n\n"
	                              "6bfb115ca30df3be0dfdffe79a51cbee\n5bdcc146bf60754e6a042426089575c7\n",
	                              NULL);
	assert_true(veil_pipeline_is_fitted(p));
	veil_pipeline_free(p);
	p = fit_expect(pl, csv, k0b,
	               "note\n6a055afb1295ef9de35605919cbb8f86\n\nb0344c61d8db38535ca8afceaf0bf12b\n"
	               "6a055afb1295ef9de35605919cbb8f86\n",
	               NULL);
	/* The fitted pipeline refuses another key, and a missing one. */
	veil_table *in = table_of(csv), *out = NULL;
	veil_err e = {0};
	assert_int_equal(veil_pipeline_apply(p, in, jefe, &out, NULL, &e), VEIL_E_KEY);
	assert_string_equal(
	        e.msg,
	        "line 3, column 5: pseudonymise: the key is not the one this pipeline was fitted with");
	assert_null(out);
	assert_int_equal(veil_pipeline_apply(p, in, NULL, &out, NULL, &e), VEIL_E_KEY);
	assert_int_equal(veil_pipeline_apply(p, in, k0b, &out, NULL, &e), VEIL_OK);
	veil_table_free(out);
	/* The key never appears in the fitted file; its check value does. */
	veil_buf b = {0};
	assert_int_equal(veil_pipeline_write(p, &b, &e), VEIL_OK);
	assert_int_equal(veil_buf_append(&b, "", 1, &e), VEIL_OK);
	assert_non_null(strstr((const char *)b.data, "fitted: {key_check: \""));
	assert_null(memmem(b.data, b.len, k0b, 20));
	veil_buf_free(&b);
	veil_table_free(in);
	veil_pipeline_free(p);
	/* The key check of key1 (bytes 0..31), as the format documents it. */
	p = fit_expect(pl, "note\nP00000001\n", key1, "note\nfa44fc0c01626a90eb117fd6b24d1aac\n", NULL);
	assert_int_equal(veil_pipeline_write(p, &b, &e), VEIL_OK);
	assert_int_equal(veil_buf_append(&b, "", 1, &e), VEIL_OK);
	assert_non_null(strstr((const char *)b.data, "key_check: \"6901985577a2eea5\""));
	veil_buf_free(&b);
	veil_pipeline_free(p);
	/* Numbers are pseudonymised as their text: 42 as "42". */
	p = fit_expect(pl, "note\n42\n", key1, NULL, NULL);
	veil_pipeline_free(p);
	fit_fails(pl, "x\n1\n", VEIL_E_INVALID,
	          "line 3, column 30: pseudonymise: the input has no column 'note'");
}

static void test_hash_buckets(void **state)
{
	(void)state;
	/* SHA-256("abc") starts ba7816bf8f01cfea: mod 32 is 10, mod 10 is 4. */
	veil_pipeline *p = fit_expect(V1 "steps:\n  - hash_buckets: {columns: [v, w], buckets: 32}\n",
	                              "v,w\nabc,42\n,true\nF,abc\n", NULL, "v,w\n10,13\n,28\n17,10\n", NULL);
	veil_pipeline_free(p);
	p = fit_expect(V1 "steps:\n  - hash_buckets: {columns: [v], buckets: 10}\n", "v\nabc\n42\n", NULL,
	               "v\n4\n7\n", NULL);
	veil_pipeline_free(p);
}

static void test_impute(void **state)
{
	(void)state;
	const char *csv = "a,b,c,d\n1,1.5,x,2020-01-01\n2,,y,\n,3.5,y,2020-01-03\n4,2.0,,2020-01-02\n";
	veil_pipeline *p = fit_expect(V1 "steps:\n"
	                                 "  - impute: {columns: [a], strategy: mean}\n"
	                                 "  - impute: {columns: [b, d], strategy: median}\n"
	                                 "  - impute: {columns: [c], strategy: mode}\n",
	                              csv, NULL,
	                              "a,b,c,d\n1,1.5,x,2020-01-01\n2,2,y,2020-01-02\n2,3.5,y,2020-01-03\n"
	                              "4,2,y,2020-01-02\n",
	                              NULL);
	veil_buf b = {0};
	veil_err e = {0};
	assert_int_equal(veil_pipeline_write(p, &b, &e), VEIL_OK);
	assert_int_equal(veil_buf_append(&b, "", 1, &e), VEIL_OK);
	assert_string_equal(
	        (const char *)b.data,
	        "version: 1\nfitted: true\nsteps:\n"
	        "  - impute: {columns: [\"a\"], strategy: mean, fitted: {values: [\"2\"]}}\n"
	        "  - impute: {columns: [\"b\", \"d\"], strategy: median, fitted: {values: [\"2\", "
	        "\"2020-01-02\"]}}\n"
	        "  - impute: {columns: [\"c\"], strategy: mode, fitted: {values: [\"y\"]}}\n");
	/* The fitted values apply to other data as learned. */
	veil_table *in = table_of("a,b,c,d\n,,,\n7,7,z,2000-02-29\n"), *out = NULL;
	assert_int_equal(veil_pipeline_apply(p, in, NULL, &out, NULL, &e), VEIL_OK);
	char *got = csv_of(out);
	assert_string_equal(got, "a,b,c,d\n2,2,y,2020-01-02\n7,7,z,2000-02-29\n");
	free(got);
	veil_table_free(out);
	veil_table_free(in);
	veil_buf_free(&b);
	veil_pipeline_free(p);
	/* Halves round away from zero; an even count of doubles takes the mean
	 * of the middle two; ties of the mode go to the smallest value. */
	p = fit_expect(V1 "steps:\n  - impute: {columns: [a], strategy: mean}\n"
	                  "  - impute: {columns: [b], strategy: median}\n"
	                  "  - impute: {columns: [c], strategy: mode}\n"
	                  "  - impute: {columns: [n], strategy: constant, value: \"-1\"}\n",
	               "a,b,c,n\n1,1.5,b,\n2,2.0,a,3\n,3.5,b,\n,4,a,4\n,,,\n", NULL,
	               "a,b,c,n\n1,1.5,b,-1\n2,2,a,3\n2,3.5,b,-1\n2,4,a,4\n2,2.75,a,-1\n", NULL);
	veil_pipeline_free(p);
	fit_fails(V1 "steps:\n  - impute: {columns: [a], strategy: mode}\n", "a,b\n,1\n,2\n", VEIL_E_INVALID,
	          "line 3, column 24: impute: column 'a' has no values to learn mode from");
}

static double cell(const veil_table *t, const char *name, size_t r)
{
	veil_table_col c;
	column(t, name, &c);
	assert_int_equal(c.type, VEIL_COL_DOUBLE);
	assert_true(veil_table_valid(&c, r));
	return c.f64[r];
}

static void test_scaling(void **state)
{
	(void)state;
	veil_pipeline *p =
	        parse_ok(V1 "steps:\n  - standardize: {columns: [x, k]}\n  - minmax: {columns: [m, k2]}\n");
	veil_table *in = table_of("x,k,m,k2\n1,5,10,3\n2,5,20,3\n3,5,30,3\n4,5,,3\n"), *out = NULL;
	veil_err e = {0};
	assert_int_equal(veil_pipeline_fit(p, in, NULL, &out, NULL, &e), VEIL_OK);
	/* mean 2.5, population std sqrt(1.25) */
	double sd = sqrt(1.25);
	for (size_t r = 0; r < 4; r++) {
		assert_true(fabs(cell(out, "x", r) - ((double)r + 1 - 2.5) / sd) < 1e-12);
		assert_true(cell(out, "k", r) == 0);  /* std 0: every value 0 */
		assert_true(cell(out, "k2", r) == 0); /* max == min: every value 0 */
	}
	assert_true(cell(out, "m", 0) == 0 && cell(out, "m", 1) == 0.5 && cell(out, "m", 2) == 1);
	veil_table_col m;
	assert_false(veil_table_valid(column(out, "m", &m), 3)); /* missing stays missing */
	veil_table_free(out);
	veil_table_free(in);
	/* At apply, values outside the fitted range go outside 0..1. */
	in = table_of("x,k,m,k2\n2.5,5,40,7\n");
	assert_int_equal(veil_pipeline_apply(p, in, NULL, &out, NULL, &e), VEIL_OK);
	assert_true(cell(out, "x", 0) == 0 && cell(out, "m", 0) == 1.5 && cell(out, "k2", 0) == 0);
	veil_table_free(out);
	veil_table_free(in);
	veil_pipeline_free(p);
}

static void test_bucketize(void **state)
{
	(void)state;
	const char *csv = "x,y,z\n1,1,1\n2,1,2\n3,1,3\n4,1,4\n5,1,5\n6,1,6\n7,2,7\n8,3,8\n";
	/* Quantile edges of 1..8 in 4 bins: the values of rank 2, 4, 6. Edges
	 * equal to the smallest value are left out: y's edges are only [2]. */
	veil_pipeline *p = fit_expect(
	        V1 "steps:\n  - bucketize: {columns: [x, y], bins: 4}\n"
	           "  - bucketize: {columns: [z], edges: [2.5]}\n",
	        csv, NULL, "x,y,z\n0,0,0\n0,0,0\n1,0,1\n1,0,1\n2,0,1\n2,0,1\n3,1,1\n3,1,1\n", NULL);
	veil_buf b = {0};
	veil_err e = {0};
	assert_int_equal(veil_pipeline_write(p, &b, &e), VEIL_OK);
	assert_int_equal(veil_buf_append(&b, "", 1, &e), VEIL_OK);
	assert_non_null(strstr((const char *)b.data, "bins: 4, fitted: {edges: [[3, 5, 7], [2]]}}\n"));
	assert_non_null(strstr((const char *)b.data, "  - bucketize: {columns: [\"z\"], edges: [2.5]}\n"));
	veil_buf_free(&b);
	veil_pipeline_free(p);
}

static void test_one_hot(void **state)
{
	(void)state;
	veil_pipeline *p =
	        fit_expect(V1 "steps:\n  - one_hot: {columns: [sex], max_categories: 2}\n",
	                   "id,sex\n1,M\n2,F\n3,F\n4,X\n5,\n6,F\n7,M\n8,other\n", NULL,
	                   "id,sex=F,sex=M,sex=other\n1,0,1,0\n2,1,0,0\n3,1,0,0\n4,0,0,1\n5,0,0,0\n"
	                   "6,1,0,0\n7,0,1,0\n8,0,0,1\n",
	                   NULL);
	/* An unseen category at apply time goes to other. */
	veil_table *in = table_of("id,sex\n9,Z\n10,M\n"), *out = NULL;
	veil_err e = {0};
	assert_int_equal(veil_pipeline_apply(p, in, NULL, &out, NULL, &e), VEIL_OK);
	char *got = csv_of(out);
	assert_string_equal(got, "id,sex=F,sex=M,sex=other\n9,0,0,1\n10,0,1,0\n");
	free(got);
	veil_table_free(out);
	veil_table_free(in);
	veil_pipeline_free(p);
	/* Booleans and numbers by their text; ties in value order. */
	p = fit_expect(V1 "steps:\n  - one_hot: {columns: [b, n]}\n", "b,n\ntrue,10\nfalse,9\n", NULL,
	               "b=false,b=true,b=other,n=9,n=10,n=other\n0,1,0,0,1,0\n1,0,0,1,0,0\n", NULL);
	veil_pipeline_free(p);
	/* A made column may not already exist. */
	fit_fails(V1 "steps:\n  - one_hot: {columns: [s]}\n", "s,s=a\na,1\n", VEIL_E_INVALID,
	          "line 3, column 25: one_hot: column 's' would make a column that already exists");
}

static void test_generalise(void **state)
{
	(void)state;
	veil_pipeline *p = fit_expect(V1 "steps:\n"
	                                 "  - generalise: {column: age, to: band, width: 10}\n"
	                                 "  - generalise: {column: w, to: band, width: 5}\n"
	                                 "  - generalise: {column: zip, to: prefix, length: 2}\n"
	                                 "  - generalise: {column: d, to: month}\n"
	                                 "  - generalise: {column: t, to: year}\n",
	                              "age,w,zip,d,t\n"
	                              "34,39.5,\"12345\",2024-03-15,1999-12-31T23:59:59Z\n"
	                              "-5,-0.5,\xc3\xa9"
	                              "1x,1969-12-31,1969-12-31T23:59:59Z\n"
	                              "0,,7,,\n",
	                              NULL,
	                              "age,w,zip,d,t\n30-39,35-39,12,2024-03,1999\n-10--1,-5--1,\xc3\xa9"
	                              "1,1969-12,1969\n"
	                              "0-9,,7,,\n",
	                              NULL);
	veil_pipeline_free(p);
}

static void test_clip_and_log(void **state)
{
	(void)state;
	veil_pipeline *p =
	        fit_expect(V1 "steps:\n  - clip: {columns: [g, f], min: 40, max: 400}\n"
	                      "  - log: {columns: [z]}\n",
	                   "g,f,z\n30,39.5,0\n100,100.25,\n500,1e9,1.718281828459045\n", NULL, NULL, NULL);
	veil_table *in = table_of("g,f,z\n30,39.5,0\n100,100.25,\n500,1e9,1.718281828459045\n"), *out = NULL;
	veil_err e = {0};
	assert_int_equal(veil_pipeline_apply(p, in, NULL, &out, NULL, &e), VEIL_OK);
	veil_table_col g;
	column(out, "g", &g);
	assert_int_equal(g.type, VEIL_COL_INT64);
	assert_true(g.i64[0] == 40 && g.i64[1] == 100 && g.i64[2] == 400);
	assert_true(cell(out, "f", 0) == 40 && cell(out, "f", 1) == 100.25 && cell(out, "f", 2) == 400);
	assert_true(cell(out, "z", 0) == 0 && fabs(cell(out, "z", 2) - 1) < 1e-15);
	veil_table_free(out);
	veil_table_free(in);
	veil_pipeline_free(p);
	/* A negative value names its record (its row in the input, from 1). */
	fit_fails(V1 "steps:\n  - log: {columns: [a, z]}\n", "a,z\n1,2\n3,4\n5,-0.5\n", VEIL_E_INVALID,
	          "line 3, column 24: log: column 'z', record 3: a negative value; log takes values of 0 or "
	          "more");
}

static void test_k_anonymity(void **state)
{
	(void)state;
	const char *csv = "age,sex,x\n34,F,1\n31,F,2\n38,F,3\n35,M,4\n41,F,5\n49,F,6\n";
	veil_pipeline_stats st;
	veil_pipeline *p = fit_expect(V1 "steps:\n  - generalise: {column: age, to: band, width: 10}\n"
	                                 "  - k_anonymity: {quasi_identifiers: [age, sex], k: 2}\n",
	                              csv, NULL, NULL, &st);
	assert_int_equal(st.rows_in, 6);
	assert_int_equal(st.rows_out, 6);
	assert_int_equal(st.k, 2);
	assert_int_equal(st.k_smallest_group, 1);
	assert_int_equal(st.k_groups_below, 1);
	assert_int_equal(st.rows_suppressed, 0);
	assert_false(st.k_met); /* reported, not enforced */
	veil_pipeline_free(p);
	p = fit_expect(V1 "steps:\n  - generalise: {column: age, to: band, width: 10}\n"
	                  "  - k_anonymity: {quasi_identifiers: [age, sex], k: 3, suppress: true}\n",
	               csv, NULL, "age,sex,x\n30-39,F,1\n30-39,F,2\n30-39,F,3\n", &st);
	assert_int_equal(st.rows_out, 3);
	assert_int_equal(st.rows_suppressed, 3);
	assert_int_equal(st.k_smallest_group, 1);
	assert_int_equal(st.k_groups_below, 2);
	assert_true(st.k_met);
	veil_pipeline_free(p);
	/* A missing value is a value of its own; every group of 2 meets k 2. */
	p = fit_expect(V1 "steps:\n  - k_anonymity: {quasi_identifiers: [q], k: 2}\n", "q\n1\n\n1\n\n", NULL,
	               NULL, &st);
	assert_int_equal(st.k_smallest_group, 2);
	assert_int_equal(st.k_groups_below, 0);
	assert_true(st.k_met);
	veil_pipeline_free(p);
}

static void test_direct_identifiers(void **state)
{
	(void)state;
	const char *csv = "email,name,age\na@example.org,Ann,30\n";
	veil_pipeline_stats st;
	veil_pipeline *p =
	        fit_expect(V1 "steps:\n  - drop: {columns: [email]}\n  - pseudonymise: {columns: [name]}\n",
	                   csv, key1, NULL, &st);
	assert_true(st.direct_identifiers_removed);
	veil_pipeline_free(p);
	p = fit_expect(V1 "steps:\n  - drop: {columns: [email]}\n", csv, NULL, NULL, &st);
	assert_false(st.direct_identifiers_removed); /* name is left */
	veil_pipeline_free(p);
	/* One-hot columns made from an e-mail column still hold it. */
	p = fit_expect(V1 "steps:\n  - one_hot: {columns: [email]}\n  - drop: {columns: [name]}\n", csv, NULL,
	               NULL, &st);
	assert_false(st.direct_identifiers_removed);
	veil_pipeline_free(p);
	p = fit_expect(V1 "steps:\n  - drop: {columns: [age]}\n", "age,x\n30,1\n", NULL, NULL, &st);
	assert_true(st.direct_identifiers_removed); /* there were none */
	veil_pipeline_free(p);
}

/* ---- mutual information ---- */

static double mi(const char *csv, unsigned bins)
{
	veil_table *t = table_of(csv);
	double bits = -1;
	veil_err e = {0};
	assert_int_equal(veil_mutual_information(t, 0, 1, bins, &bits, &e), VEIL_OK);
	veil_table_free(t);
	return bits;
}

static void test_mutual_information(void **state)
{
	(void)state;
	/* Identical columns: I = H(label): 1 bit for two equally likely values, 2 for four. */
	assert_true(fabs(mi("x,y\n0,0\n0,0\n1,1\n1,1\n", 10) - 1) < 1e-12);
	assert_true(fabs(mi("x,y\na,a\nb,b\nc,c\nd,d\n", 10) - 2) < 1e-12);
	/* Independent columns: every joint probability is the product: 0. */
	assert_true(mi("x,y\na,0\nb,0\na,1\nb,1\n", 10) == 0);
	/* By hand: H(Y) - H(Y|X) = 1 - 3/4 H(1/3, 2/3) = 0.311278... */
	assert_true(fabs(mi("x,y\n0,0\n0,0\n0,1\n1,1\n", 10) - (1 - 0.75 * (log2(3) - 2.0 / 3))) < 1e-12);
	/* Missing values are a value of their own. */
	assert_true(fabs(mi("x,y\n,0\n,0\n1,1\n1,1\n", 10) - 1) < 1e-12);
	/* 1..100 in 10 equal-frequency bins, label x > 50: each bin lies on one
	 * side, so the bins tell the label exactly. */
	veil_buf b = {0};
	veil_err e = {0};
	assert_int_equal(veil_buf_printf(&b, &e, "x,y\n"), VEIL_OK);
	for (int i = 1; i <= 100; i++)
		assert_int_equal(veil_buf_printf(&b, &e, "%d,%d\n", i, i > 50), VEIL_OK);
	assert_int_equal(veil_buf_append(&b, "", 1, &e), VEIL_OK);
	assert_true(fabs(mi((const char *)b.data, 10) - 1) < 1e-12);
	/* With 3 bins the edges are the values of rank 33 and 66 (34 and 67):
	 * bins 1..33, 34..66, 67..100; the middle one is mixed. */
	double p1 = 17.0 / 33, h = -(p1 * log2(p1) + (1 - p1) * log2(1 - p1));
	assert_true(fabs(mi((const char *)b.data, 3) - (1 - 0.33 * h)) < 1e-12);
	veil_buf_free(&b);
	veil_table *t = table_of("x,y\n1,2\n");
	double bits = 0;
	assert_int_equal(veil_mutual_information(t, 0, 2, 10, &bits, &e), VEIL_E_INVALID);
	assert_int_equal(veil_mutual_information(t, 0, 1, 1, &bits, &e), VEIL_E_INVALID);
	veil_table_free(t);
}

/* ---- round trips ---- */

static void test_fitted_round_trip(void **state)
{
	(void)state;
	const char *pl = V1 "label: y\nsteps:\n"
	                    "  - pseudonymise: {columns: [id]}\n"
	                    "  - impute: {columns: [bmi], strategy: mean}\n"
	                    "  - impute: {columns: [city], strategy: mode}\n"
	                    "  - generalise: {column: age, to: band, width: 5}\n"
	                    "  - standardize: {columns: [bmi]}\n"
	                    "  - minmax: {columns: [g]}\n"
	                    "  - bucketize: {columns: [g2], bins: 3}\n"
	                    "  - one_hot: {columns: [city, age], max_categories: 3}\n"
	                    "  - hash_buckets: {columns: [zip], buckets: 7}\n";
	const char *csv = "id,age,bmi,city,\"zip\",g,g2,y\n"
	                  "a1,31,22.1,\"Oslo, Norway\",0101,0.1,5,1\n"
	                  "a2,47,,Rome,0102,0.2,6,0\n"
	                  "a3,52,30.25,\"Say \"\"hi\"\"\",0101,0.3,7,1\n"
	                  "a4,33,27,,0999,1e-3,8,0\n"
	                  "a5,35,19.5,Oslo,,0.15,9,1\n";
	veil_pipeline *p = parse_ok(pl);
	veil_table *in = table_of(csv), *o1 = NULL, *o2 = NULL;
	veil_err e = {0};
	veil_pipeline_stats s1, s2;
	assert_int_equal(veil_pipeline_fit(p, in, key1, &o1, &s1, &e), VEIL_OK);
	veil_buf w1 = {0}, w2 = {0};
	assert_int_equal(veil_pipeline_write(p, &w1, &e), VEIL_OK);
	veil_pipeline *q = NULL;
	if (veil_pipeline_parse((const char *)w1.data, w1.len, &q, &e) != VEIL_OK)
		fail_msg("the fitted pipeline does not read back: %s\n%.*s", e.msg, (int)w1.len,
		         (const char *)w1.data);
	assert_true(veil_pipeline_is_fitted(q));
	assert_int_equal(veil_pipeline_apply(q, in, key1, &o2, &s2, &e), VEIL_OK);
	char *c1 = csv_of(o1), *c2 = csv_of(o2);
	assert_string_equal(c1, c2);
	assert_int_equal(veil_pipeline_write(q, &w2, &e), VEIL_OK);
	assert_int_equal(w1.len, w2.len);
	assert_memory_equal(w1.data, w2.data, w1.len);
	/* Refitting on the same data learns the same parameters. */
	veil_table *o3 = NULL;
	assert_int_equal(veil_pipeline_fit(q, in, key1, &o3, NULL, &e), VEIL_OK);
	w2.len = 0;
	assert_int_equal(veil_pipeline_write(q, &w2, &e), VEIL_OK);
	assert_memory_equal(w1.data, w2.data, w1.len);
	free(c1);
	free(c2);
	veil_buf_free(&w1);
	veil_buf_free(&w2);
	veil_table_free(o1);
	veil_table_free(o2);
	veil_table_free(o3);
	veil_table_free(in);
	veil_pipeline_free(q);
	veil_pipeline_free(p);
	/* apply wants a fitted pipeline */
	p = parse_ok(pl);
	in = table_of(csv);
	assert_int_equal(veil_pipeline_apply(p, in, key1, &o1, NULL, &e), VEIL_E_INVALID);
	assert_string_equal(e.msg, "the pipeline is not fitted: it has no learned parameters to apply");
	veil_table_free(in);
	veil_pipeline_free(p);
}

static void test_csv_round_trip(void **state)
{
	(void)state;
	static const veil_table_col_spec spec[] = {{"i", VEIL_COL_INT64},      {"d", VEIL_COL_DOUBLE},
	                                           {"b", VEIL_COL_BOOL},       {"day", VEIL_COL_DATE},
	                                           {"ts", VEIL_COL_TIMESTAMP}, {"s", VEIL_COL_STRING},
	                                           {"c", VEIL_COL_CATEGORY},   {"a,\"b\"", VEIL_COL_STRING}};
	veil_table *t = NULL;
	veil_err e = {0};
	assert_int_equal(veil_table_new(spec, 8, &t, &e), VEIL_OK);
	veil_table_value rows[][8] = {
	        {{.i = INT64_MIN},
	         {.f = 0.1},
	         {.i = 1},
	         {.i = -1},
	         {.i = 0},
	         {.p = "", .len = 0},
	         {.p = "x", .len = 1},
	         {.p = "a\r\nb", .len = 4}},
	        {{.i = INT64_MAX},
	         {.f = -0.0},
	         {.i = 0},
	         {.i = 2932896},
	         {.i = 253402300799},
	         {.p = "\"q\"", .len = 3},
	         {.p = "", .len = 0},
	         {.p = "\xc3\xa9,", .len = 3}},
	        {{.null = true},
	         {.null = true},
	         {.null = true},
	         {.null = true},
	         {.null = true},
	         {.null = true},
	         {.null = true},
	         {.null = true}},
	        {{.i = 0},
	         {.f = 1.7976931348623157e308},
	         {.i = 1},
	         {.i = 0},
	         {.i = -86401},
	         {.p = " lead", .len = 5},
	         {.p = "x", .len = 1},
	         {.p = "tail ", .len = 5}},
	        {{.i = 5},
	         {.f = 4.9e-324},
	         {.i = 0},
	         {.i = -719528},
	         {.i = 1},
	         {.p = "ab", .len = 1},
	         {.p = "y", .len = 1},
	         {.p = "", .len = 0}},
	};
	for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
		assert_int_equal(veil_table_append_values(t, rows[r], 8, &e), VEIL_OK);
	/* Values a column cannot hold are refused, the table unchanged. */
	veil_table_value bad[8] = {{.i = 1}, {.f = NAN}};
	assert_int_equal(veil_table_append_values(t, bad, 8, &e), VEIL_E_INVALID);
	assert_string_equal(e.msg, "row 6, column 2 (d): a value that is not a finite number");
	bad[1].f = 1;
	bad[2].i = 2;
	assert_int_equal(veil_table_append_values(t, bad, 8, &e), VEIL_E_INVALID);
	bad[2].i = 1;
	bad[5] = (veil_table_value){.p = "a\0b", .len = 3};
	assert_int_equal(veil_table_append_values(t, bad, 8, &e), VEIL_E_INVALID);
	bad[5] = (veil_table_value){.p = "\xff", .len = 1};
	assert_int_equal(veil_table_append_values(t, bad, 8, &e), VEIL_E_INVALID);
	bad[5] = (veil_table_value){.p = "ok", .len = 2};
	bad[3].i = 2932897; /* 10000-01-01: the CSV reader could not read it back */
	assert_int_equal(veil_table_append_values(t, bad, 8, &e), VEIL_E_INVALID);
	assert_string_equal(e.msg, "row 6, column 4 (day): a value that is not in the years 0000 to 9999");
	bad[3].i = 0;
	bad[4].i = -719528LL * 86400 - 1;
	assert_int_equal(veil_table_append_values(t, bad, 8, &e), VEIL_E_INVALID);
	assert_int_equal(veil_table_append_values(t, bad, 7, &e), VEIL_E_INVALID);
	assert_int_equal(veil_table_nrows(t), 5);

	veil_buf csv = {0};
	assert_int_equal(veil_table_write_csv(t, buf_write, &csv, &e), VEIL_OK);
	veil_schema *s = NULL;
	assert_int_equal(veil_schema_new(&s, &e), VEIL_OK);
	for (size_t c = 0; c < 8; c++) {
		veil_schema_column col = {.name = spec[c].name, .type = spec[c].type, .nullable = true};
		assert_int_equal(veil_schema_add_column(s, &col, &e), VEIL_OK);
	}
	veil_table *back = NULL;
	if (veil_table_from_csv(csv.data, csv.len, NULL, s, &back, &e) != VEIL_OK)
		fail_msg("%s\n%.*s", e.msg, (int)csv.len, (const char *)csv.data);
	assert_int_equal(veil_table_nrows(back), 5);
	for (size_t c = 0; c < 8; c++) {
		veil_table_col x, y;
		veil_table_column(t, c, &x);
		veil_table_column(back, c, &y);
		assert_string_equal(x.name, y.name);
		assert_int_equal(x.type, y.type);
		assert_int_equal(x.nulls, y.nulls);
		for (size_t r = 0; r < 5; r++) {
			assert_int_equal(veil_table_valid(&x, r), veil_table_valid(&y, r));
			if (!veil_table_valid(&x, r))
				continue;
			switch (x.type) {
			case VEIL_COL_DOUBLE:
				assert_memory_equal(&x.f64[r], &y.f64[r], sizeof(double)); /* -0 stays -0 */
				break;
			case VEIL_COL_BOOL:
				assert_int_equal(x.b[r], y.b[r]);
				break;
			case VEIL_COL_STRING:
				assert_int_equal(x.str[r].len, y.str[r].len);
				assert_memory_equal(x.str[r].p, y.str[r].p, x.str[r].len);
				break;
			case VEIL_COL_CATEGORY:
				assert_string_equal(x.dict[x.codes[r]].p, y.dict[y.codes[r]].p);
				break;
			default:
				assert_int_equal(x.i64[r], y.i64[r]);
			}
		}
	}
	/* Written again, the same bytes. */
	veil_buf again = {0};
	assert_int_equal(veil_table_write_csv(back, buf_write, &again, &e), VEIL_OK);
	assert_int_equal(csv.len, again.len);
	assert_memory_equal(csv.data, again.data, csv.len);
	veil_buf_free(&again);
	veil_table_free(back);
	/* Without a schema the types are inferred from every row: here the same
	 * for the columns whose values say what they are. */
	assert_int_equal(veil_table_from_csv(csv.data, csv.len, NULL, NULL, &back, &e), VEIL_OK);
	static const veil_col_type inferred[8] = {VEIL_COL_INT64,  VEIL_COL_DOUBLE,    VEIL_COL_BOOL,
	                                          VEIL_COL_DATE,   VEIL_COL_TIMESTAMP, VEIL_COL_STRING,
	                                          VEIL_COL_STRING, VEIL_COL_STRING};
	for (size_t c = 0; c < 8; c++) {
		veil_table_col y;
		veil_table_column(back, c, &y);
		assert_int_equal(y.type, inferred[c]);
	}
	veil_table_free(back);
	/* A schema must name exactly the file's columns. */
	assert_int_equal(veil_table_from_csv((const uint8_t *)"i,zz\n1,2\n", 9, NULL, s, &back, &e),
	                 VEIL_E_INVALID);
	assert_null(back);
	/* Errors of the reader come through with their position. */
	assert_int_equal(veil_table_from_csv((const uint8_t *)"a,b\n1\n", 6, NULL, NULL, &back, &e),
	                 VEIL_E_INVALID);
	assert_string_equal(e.msg, "line 2, column 2: 1 field where the header has 2");
	veil_schema_free(s);
	veil_buf_free(&csv);
	veil_table_free(t);
}

/* ---- the report ---- */

static void test_report(void **state)
{
	(void)state;
	const char *csv =
	        "email,sex,bmi,y\nann@example.org,F,20,1\nbob@example.org,M,30,0\nann@example.org,F,22,1\n";
	veil_pipeline_stats st;
	veil_pipeline *p =
	        fit_expect(V1 "label: y\nsteps:\n  - impute: {columns: [email, sex], strategy: mode}\n"
	                      "  - one_hot: {columns: [email, sex]}\n  - standardize: {columns: [bmi]}\n"
	                      "  - k_anonymity: {quasi_identifiers: [sex=F], k: 2}\n",
	                   csv, NULL, NULL, &st);
	veil_table *in = table_of(csv), *out = NULL;
	veil_err e = {0};
	assert_int_equal(veil_pipeline_apply(p, in, NULL, &out, &st, &e), VEIL_OK);
	veil_buf b = {0};
	veil_jw w;
	veil_jw_init(&w, &b);
	veil_jw_object(&w);
	assert_int_equal(veil_pipeline_report(p, out, &st, &w, &e), VEIL_OK);
	veil_jw_end(&w);
	assert_int_equal(veil_jw_finish(&w, &e), VEIL_OK);
	assert_int_equal(veil_buf_append(&b, "", 1, &e), VEIL_OK);
	const char *j = (const char *)b.data;
	/* No raw value of the e-mail column, in what was learned or in column names. */
	assert_null(strstr(j, "example.org"));
	assert_non_null(strstr(j, "{\"column\":\"email\",\"redacted\":true}"));
	assert_non_null(strstr(j, "{\"column\":\"email\",\"redacted\":true,\"categories\":2}"));
	assert_non_null(strstr(j, "\"column\":\"email=#0\""));
	assert_non_null(strstr(j, "\"column\":\"email=other\""));
	/* The rest in full. */
	assert_non_null(strstr(j, "{\"column\":\"sex\",\"value\":\"F\"}"));
	assert_non_null(strstr(j, "{\"column\":\"sex\",\"categories\":2,\"vocabulary\":[\"F\",\"M\"]}"));
	assert_non_null(strstr(
	        j, "\"stats\":{\"rows_in\":3,\"rows_out\":3,\"rows_suppressed\":0,"
	           "\"direct_identifiers_removed\":false,\"k_anonymity\":{\"k\":2,\"smallest_group\":1,"
	           "\"groups_below_k\":1,\"k_met\":false}}"));
	/* sex=F says exactly what y is here (1 bit); the most informative come first. */
	assert_non_null(
	        strstr(j, "\"mutual_information\":{\"label\":\"y\",\"bins\":10,\"features\":[{\"column\":"
	                  "\"email=#0\",\"bits\":0.918295834054"));
	assert_non_null(strstr(j, "{\"column\":\"sex=F\",\"bits\":0.918295834054"));
	veil_buf_free(&b);
	veil_table_free(out);
	veil_table_free(in);
	veil_pipeline_free(p);
}

/* ---- the example, on veil-datagen's output ---- */

static void test_example_on_datagen(void **state)
{
	(void)state;
	const char *src = getenv("VEIL_SOURCE_ROOT"), *build = getenv("VEIL_BUILD_ROOT");
	char path[4096], cmd[4200];
	veil_err e = {0};
	(void)snprintf(path, sizeof path, "%s/examples/patients.pipeline.yaml", src ? src : ".");
	veil_pipeline *p = NULL;
	if (veil_pipeline_load(path, &p, &e) != VEIL_OK)
		fail_msg("%s", e.msg);
	assert_string_equal(veil_pipeline_label(p), "cardiac_event");
	(void)snprintf(path, sizeof path, "%s/tools/veil-datagen", build ? build : ".");
	if (access(path, X_OK) != 0) {
		veil_pipeline_free(p);
		skip(); /* built without tools/ */
	}
	(void)snprintf(cmd, sizeof cmd, "%s --rows 3000 --seed 11", path);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	veil_buf csv = {0};
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		assert_int_equal(veil_buf_append(&csv, chunk, n, &e), VEIL_OK);
	assert_int_equal(pclose(f), 0);
	(void)snprintf(path, sizeof path, "%s/examples/patients.schema.yaml", src ? src : ".");
	veil_schema *s = NULL;
	assert_int_equal(veil_schema_load(path, &s, &e), VEIL_OK);
	veil_table *in = NULL, *o1 = NULL, *o2 = NULL;
	assert_int_equal(veil_table_from_csv(csv.data, csv.len, NULL, s, &in, &e), VEIL_OK);
	assert_int_equal(veil_pipeline_check(p, in, &e), VEIL_OK);
	veil_pipeline_stats st;
	if (veil_pipeline_fit(p, in, key1, &o1, &st, &e) != VEIL_OK)
		fail_msg("%s", e.msg);
	assert_int_equal(st.rows_in, 3000);
	assert_true(st.direct_identifiers_removed);
	assert_true(st.k_met);
	assert_int_equal(st.k, 5);
	assert_true(st.rows_out + st.rows_suppressed == 3000 && st.rows_out > 2500);
	assert_true(veil_table_find(o1, "sex=F") >= 0 && veil_table_find(o1, "blood_type=O+") >= 0);
	assert_true(veil_table_find(o1, "email") < 0 && veil_table_find(o1, "ssn") < 0);
	/* The fitted file reads back and applies identically. */
	veil_buf w = {0};
	assert_int_equal(veil_pipeline_write(p, &w, &e), VEIL_OK);
	veil_pipeline *q = NULL;
	assert_int_equal(veil_pipeline_parse((const char *)w.data, w.len, &q, &e), VEIL_OK);
	assert_int_equal(veil_pipeline_apply(q, in, key1, &o2, NULL, &e), VEIL_OK);
	char *c1 = csv_of(o1), *c2 = csv_of(o2);
	assert_string_equal(c1, c2);
	/* The report names no e-mail address, SSN or postal code. */
	veil_buf r = {0};
	veil_jw jw;
	veil_jw_init(&jw, &r);
	veil_jw_object(&jw);
	assert_int_equal(veil_pipeline_report(q, o2, &st, &jw, &e), VEIL_OK);
	veil_jw_end(&jw);
	assert_int_equal(veil_jw_finish(&jw, &e), VEIL_OK);
	assert_int_equal(veil_buf_append(&r, "", 1, &e), VEIL_OK);
	assert_null(strstr((const char *)r.data, "@example."));
	assert_null(strstr((const char *)r.data, "\"postal_code=1\""));
	assert_non_null(strstr((const char *)r.data, "\"postal_code=#"));
	assert_non_null(strstr((const char *)r.data, "\"mutual_information\""));
	free(c1);
	free(c2);
	veil_buf_free(&r);
	veil_buf_free(&w);
	veil_buf_free(&csv);
	veil_table_free(o1);
	veil_table_free(o2);
	veil_table_free(in);
	veil_schema_free(s);
	veil_pipeline_free(q);
	veil_pipeline_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse_every_step),
	        cmocka_unit_test(test_parse_errors),
	        cmocka_unit_test(test_check),
	        cmocka_unit_test(test_pseudonymise_rfc4231),
	        cmocka_unit_test(test_hash_buckets),
	        cmocka_unit_test(test_impute),
	        cmocka_unit_test(test_scaling),
	        cmocka_unit_test(test_bucketize),
	        cmocka_unit_test(test_one_hot),
	        cmocka_unit_test(test_generalise),
	        cmocka_unit_test(test_clip_and_log),
	        cmocka_unit_test(test_k_anonymity),
	        cmocka_unit_test(test_direct_identifiers),
	        cmocka_unit_test(test_mutual_information),
	        cmocka_unit_test(test_fitted_round_trip),
	        cmocka_unit_test(test_csv_round_trip),
	        cmocka_unit_test(test_report),
	        cmocka_unit_test(test_example_on_datagen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
