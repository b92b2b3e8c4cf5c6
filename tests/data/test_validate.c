/*
 * The validator (veil/data_validate.h, docs/formats/validation-report.md):
 * every rule caught at the right record, line and column; the violation
 * cap and the totals; statistics against values worked out by hand; the
 * distinct-count estimate's accuracy; histograms whose counts are checked
 * value by value against their edges; duplicate rows; the classification
 * rule; that no raw value of a sensitive column reaches a report; profiling
 * and the inferred schema's round trip; header mismatches; the synthetic
 * patients against examples/patients.schema.yaml; and the pattern DFA
 * against glibc's regexec. Every report is parsed with jansson and checked
 * for the documented fields.
 *
 *   test_validate [PATH-TO-veil-datagen]
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "validate_int.h"
#include "veil/data.h"

static const char *datagen; /* argv[1], when the build has veil-datagen */

static const uint8_t KEY[16] = {7, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3};

/* ---- helpers ---- */

typedef struct mem {
	const uint8_t *p;
	size_t len, off;
} mem;

static veil_status mem_read(void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err)
{
	(void)err;
	mem *m = ctx;
	size_t k = m->len - m->off;
	if (k > n)
		k = n;
	if (k > 7)
		k = k / 2 + 1; /* uneven reads, to cross the reader's buffer boundaries */
	memcpy(buf, m->p + m->off, k);
	m->off += k;
	*got = k;
	return VEIL_OK;
}

static veil_schema *schema_of(const char *yaml)
{
	veil_schema *s = NULL;
	veil_err err = {0};
	if (veil_schema_parse(yaml, strlen(yaml), &s, &err) != VEIL_OK)
		fail_msg("schema: %s", err.msg);
	return s;
}

/* Validates (schema_yaml) or profiles (NULL) csv; the report's bytes go
 * to out (NUL-terminated). */
static veil_status run(const char *csv, size_t len, const char *schema_yaml, const veil_validate_opts *o,
                       veil_buf *out, veil_validate_summary *sum, veil_schema **inferred, veil_err *err)
{
	veil_validate_opts d = {.hash_key = KEY};
	if (!o)
		o = &d;
	veil_schema *s = schema_yaml ? schema_of(schema_yaml) : NULL;
	mem m = {(const uint8_t *)csv, len, 0};
	veil_jw w;
	veil_jw_init(&w, out);
	veil_status st = veil_validate_csv(mem_read, &m, NULL, s, o, &w, sum, inferred, err);
	if (st == VEIL_OK)
		st = veil_jw_finish(&w, err);
	if (st == VEIL_OK)
		assert_int_equal(veil_buf_append(out, "", 1, NULL), VEIL_OK); /* a NUL for strstr */
	veil_schema_free(s);
	return st;
}

static json_t *get(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		fail_msg("the report has no \"%s\"", key);
	return v;
}

static uint64_t uget(const json_t *o, const char *key)
{
	json_t *v = get(o, key);
	assert_true(json_is_integer(v));
	return (uint64_t)json_integer_value(v);
}

static const char *sget(const json_t *o, const char *key)
{
	json_t *v = get(o, key);
	assert_true(json_is_string(v));
	return json_string_value(v);
}

static const char *const RULES[] = {"type",    "null",    "min",    "max",
                                    "allowed", "pattern", "unique", "duplicate-row"};

/* The fields docs/formats/validation-report.md says are always there. */
static void check_shape(const json_t *r, bool validate)
{
	assert_true(json_is_object(r));
	assert_string_equal(sget(r, "format"), "veil-validation-report");
	assert_int_equal(uget(r, "version"), 1);
	assert_string_equal(sget(r, "mode"), validate ? "validate" : "profile");
	assert_true(json_is_boolean(get(r, "passed")));
	uget(r, "rows");
	json_t *cls = get(r, "classification");
	sget(cls, "effective");
	assert_true(json_is_string(get(cls, "declared")) || json_is_null(get(cls, "declared")));
	assert_true(json_is_string(get(cls, "schema")) || json_is_null(get(cls, "schema")));
	assert_true(json_is_string(get(cls, "findings")) || json_is_null(get(cls, "findings")));
	assert_true(json_is_array(get(r, "pii")));
	assert_true(json_is_array(get(r, "quasi_identifiers")));
	json_t *v = get(r, "violations");
	uint64_t total = uget(v, "total"), listed = uget(v, "listed");
	assert_true(listed <= total && listed <= uget(v, "limit"));
	json_t *by = get(v, "by_rule");
	uint64_t sum = 0;
	for (size_t k = 0; k < 8; k++)
		sum += uget(by, RULES[k]);
	assert_int_equal(sum, total);
	assert_int_equal(json_array_size(get(v, "list")), listed);
	json_t *d = get(r, "duplicates");
	uget(d, "rows");
	uget(d, "checked");
	assert_true(json_is_boolean(get(d, "complete")));
	json_t *cols = get(r, "columns");
	assert_true(json_is_array(cols) && json_array_size(cols) > 0);
	size_t i;
	json_t *c;
	json_array_foreach(cols, i, c)
	{
		sget(c, "name");
		sget(c, "type");
		uint64_t n = uget(c, "count") + uget(c, "missing") + (validate ? uget(c, "invalid") : 0);
		assert_int_equal(n, uget(r, "rows"));
		uget(c, "distinct");
		json_t *p = get(c, "pii");
		sget(p, "declared");
		sget(p, "found");
		sget(p, "class");
		assert_true(json_is_number(get(p, "rate")));
		assert_true(json_is_boolean(get(c, "quasi_identifier")));
		assert_true(json_is_boolean(get(c, "sensitive")));
		assert_true(json_is_object(get(c, "stats")));
		if (validate) {
			json_t *cv = get(c, "violations");
			uint64_t t = 0;
			for (size_t k = 0; k < 7; k++)
				t += uget(cv, RULES[k]);
			assert_int_equal(t, uget(cv, "total"));
		}
	}
}

/* Runs, expects success, checks the shape and returns the parsed report. */
static json_t *report(const char *csv, const char *schema_yaml, const veil_validate_opts *o,
                      veil_validate_summary *sum, veil_buf *raw)
{
	veil_buf local = {0};
	veil_buf *out = raw ? raw : &local;
	veil_err err = {0};
	veil_validate_summary s = {0};
	veil_status st = run(csv, strlen(csv), schema_yaml, o, out, sum ? sum : &s, NULL, &err);
	if (st != VEIL_OK)
		fail_msg("validate: %s", err.msg);
	json_error_t jerr;
	json_t *r = json_loadb((const char *)out->data, out->len - 1, 0, &jerr);
	if (!r)
		fail_msg("the report is not JSON: %s", jerr.text);
	check_shape(r, schema_yaml != NULL);
	veil_buf_free(&local);
	return r;
}

static json_t *column(const json_t *r, const char *name)
{
	size_t i;
	json_t *c;
	json_array_foreach(get(r, "columns"), i, c) if (strcmp(sget(c, "name"), name) == 0) return c;
	fail_msg("no column %s", name);
	return NULL;
}

static double dget(const json_t *o, const char *key)
{
	json_t *v = get(o, key);
	assert_true(json_is_number(v));
	return json_number_value(v);
}

/* ---- rules ---- */

static const char RULES_SCHEMA[] = "version: 1\n"
                                   "classification: public\n"
                                   "columns:\n"
                                   "  - {name: id, type: int, unique: true}\n"
                                   "  - {name: score, type: float, nullable: true, min: 0, max: 10}\n"
                                   "  - {name: code, type: category, allowed: [A, B], pattern: '[A-Z]'}\n"
                                   "  - {name: tag, type: string, pattern: 'x[0-9]+'}\n"
                                   "  - {name: day, type: date, min: 2020-01-01}\n";

static const char RULES_CSV[] = "id,score,code,tag,day\n"
                                "1,5,A,x1,2020-01-02\n"
                                "2,,B,x2,2020-01-03\n"
                                "three,1,A,x3,2020-01-04\n"
                                "4,11,A,x4,2020-01-05\n"
                                "5,-1,A,x5,2020-01-06\n"
                                "6,1,C,x6,2020-01-07\n"
                                "7,1,a,x7,2020-01-08\n"
                                "8,1,A,y8,2020-01-09\n"
                                "9,1.0e0,A,x9,2019-12-31\n"
                                "1,1,A,x10,2020-01-10\n"
                                ",1,A,x11,2020-01-11\n"
                                "\"12\",\"2\",\"B\",\"x12\n\",2020-01-12\n"
                                "1,5,A,x1,2020-01-02\n"
                                "14,\"\",A,x14,2020-01-14\n"
                                "15,1,\"\",x15,2020-01-15\n"
                                "+16,1,B,x16,2020-02-30\n";

static void test_every_rule(void **state)
{
	(void)state;
	static const struct {
		uint64_t record, line;
		const char *column, *rule;
	} want[] = {
	        {3, 4, "id", "type"},        {4, 5, "score", "max"},    {5, 6, "score", "min"},
	        {6, 7, "code", "allowed"},   {7, 8, "code", "allowed"}, {8, 9, "tag", "pattern"},
	        {9, 10, "day", "min"},       {10, 11, "id", "unique"},  {11, 12, "id", "null"},
	        {12, 13, "tag", "pattern"},  {13, 15, "id", "unique"},  {13, 15, NULL, "duplicate-row"},
	        {15, 17, "code", "allowed"}, {16, 18, "day", "type"},
	};
	size_t n = sizeof want / sizeof want[0];
	veil_validate_summary sum;
	json_t *r = report(RULES_CSV, RULES_SCHEMA, NULL, &sum, NULL);
	assert_true(sum.validated);
	assert_false(sum.passed);
	assert_int_equal(sum.rows, 16);
	assert_int_equal(sum.violations, n);
	assert_int_equal(sum.duplicate_rows, 1);
	assert_false(json_is_true(get(r, "passed")));
	json_t *v = get(r, "violations");
	assert_int_equal(uget(v, "total"), n);
	/* Every column here is sensitive (the date column is a quasi-identifier,
	 * which makes the dataset confidential): of the violations, only those
	 * of type and null rules and duplicate rows are listed; the value rules
	 * are counted, their records withheld (a chosen rule would be an oracle
	 * on the values). */
	json_t *list = get(v, "list");
	size_t listed = 0;
	for (size_t k = 0; k < n; k++)
		listed += strcmp(want[k].rule, "type") == 0 || strcmp(want[k].rule, "null") == 0 ||
		          strcmp(want[k].rule, "duplicate-row") == 0;
	assert_int_equal(listed, 4);
	assert_int_equal(json_array_size(list), listed);
	assert_int_equal(uget(v, "withheld"), n - listed);
	for (size_t k = 0, i = 0; k < n; k++) {
		if (strcmp(want[k].rule, "type") != 0 && strcmp(want[k].rule, "null") != 0 &&
		    strcmp(want[k].rule, "duplicate-row") != 0)
			continue;
		json_t *x = json_array_get(list, i++);
		assert_int_equal(uget(x, "record"), want[k].record);
		assert_int_equal(uget(x, "line"), want[k].line);
		assert_string_equal(sget(x, "rule"), want[k].rule);
		if (want[k].column)
			assert_string_equal(sget(x, "column"), want[k].column);
		else
			assert_null(json_object_get(x, "column"));
	}
	json_t *by = get(v, "by_rule");
	static const uint64_t by_rule[] = {2, 1, 2, 1, 3, 2, 2, 1};
	for (size_t k = 0; k < 8; k++)
		assert_int_equal(uget(by, RULES[k]), by_rule[k]);
	static const struct {
		const char *name;
		uint64_t total, invalid, missing;
	} cols[] = {
	        {"id", 4, 1, 1}, {"score", 2, 0, 2}, {"code", 3, 0, 0}, {"tag", 2, 0, 0}, {"day", 2, 1, 0}};
	for (size_t k = 0; k < 5; k++) {
		json_t *c = column(r, cols[k].name);
		assert_int_equal(uget(get(c, "violations"), "total"), cols[k].total);
		assert_int_equal(uget(c, "invalid"), cols[k].invalid);
		assert_int_equal(uget(c, "missing"), cols[k].missing);
	}
	assert_int_equal(uget(get(column(r, "id"), "violations"), "unique"), 2);
	assert_true(json_is_true(get(column(r, "id"), "unique_complete")));
	json_decref(r);
}

static void test_passes(void **state)
{
	(void)state;
	veil_validate_summary sum;
	json_t *r = report("id,score,code,tag,day\n1,5,A,x1,2020-01-02\n2,,B,x2,2020-01-03\n", RULES_SCHEMA,
	                   NULL, &sum, NULL);
	assert_true(sum.passed);
	assert_int_equal(sum.violations, 0);
	assert_true(json_is_true(get(r, "passed")));
	json_decref(r);
}

static void test_cap_and_totals(void **state)
{
	(void)state;
	veil_buf csv = {0};
	assert_int_equal(veil_buf_printf(&csv, NULL, "a,b\n"), VEIL_OK);
	for (int i = 1; i <= 50; i++)
		assert_int_equal(veil_buf_printf(&csv, NULL, "%d,%s\n", i, i % 2 ? "" : "x"), VEIL_OK);
	assert_int_equal(veil_buf_append(&csv, "", 1, NULL), VEIL_OK);
	const char *schema =
	        "version: 1\ncolumns:\n  - {name: a, type: int, max: 10}\n  - {name: b, type: int}\n";
	veil_validate_opts o = {.max_violations = 5, .hash_key = KEY};
	veil_validate_summary sum;
	json_t *r = report((const char *)csv.data, schema, &o, &sum, NULL);
	/* a > 10 in records 11..50 (40); b missing in the odd records (25) and not an int in the even (25) */
	assert_int_equal(sum.violations, 90);
	json_t *v = get(r, "violations");
	assert_int_equal(uget(v, "total"), 90);
	assert_int_equal(uget(v, "listed"), 5);
	assert_int_equal(uget(v, "limit"), 5);
	assert_int_equal(uget(get(v, "by_rule"), "max"), 40);
	assert_int_equal(uget(get(v, "by_rule"), "null"), 25);
	assert_int_equal(uget(get(v, "by_rule"), "type"), 25);
	json_t *list = get(v, "list");
	for (size_t k = 0; k < 5; k++) { /* the first five, in file order */
		json_t *x = json_array_get(list, k);
		assert_int_equal(uget(x, "record"), k + 1);
		assert_string_equal(sget(x, "column"), "b");
		assert_string_equal(sget(x, "rule"), k % 2 ? "type" : "null");
	}
	assert_int_equal(uget(get(column(r, "a"), "violations"), "total"), 40);
	assert_int_equal(uget(get(column(r, "b"), "violations"), "total"), 50);
	json_decref(r);
	veil_buf_free(&csv);
}

/* ---- statistics ---- */

static void test_stats_by_hand(void **state)
{
	(void)state;
	const char *csv = "x,f,b,s,m\n"
	                  "1,0.5,true,a,\n"
	                  "2,1.5,no,bb,\n"
	                  "3,2.5,1,\"\",\n"
	                  "4,-1.0,FALSE,dddd,\n"
	                  "10,4,yes,ccc,\n"
	                  ",,,,\n";
	const char *schema = "version: 1\nclassification: internal\ncolumns:\n"
	                     "  - {name: x, type: int, nullable: true}\n"
	                     "  - {name: f, type: float, nullable: true}\n"
	                     "  - {name: b, type: bool, nullable: true}\n"
	                     "  - {name: s, type: string, nullable: true}\n"
	                     "  - {name: m, type: int, nullable: true}\n";
	for (int mode = 0; mode < 2; mode++) {
		json_t *r = report(csv, mode ? schema : NULL, NULL, NULL, NULL);
		assert_string_equal(sget(get(r, "classification"), "effective"), "internal");
		json_t *x = column(r, "x"), *st = get(x, "stats");
		assert_string_equal(sget(x, "type"), "int");
		assert_int_equal(uget(x, "count"), 5);
		assert_int_equal(uget(x, "missing"), 1);
		assert_false(json_is_true(get(x, "sensitive")));
		assert_float_equal(dget(st, "mean"), 4.0, 1e-12);
		assert_float_equal(dget(st, "stddev"), sqrt(12.5), 1e-12); /* (9 + 4 + 1 + 0 + 36) / 4 */
		assert_int_equal(uget(st, "min"), 1);
		assert_int_equal(uget(st, "max"), 10);
		assert_int_equal(uget(x, "distinct"), 5);
		json_t *f = column(r, "f");
		st = get(f, "stats");
		assert_string_equal(sget(f, "type"), "float");
		assert_float_equal(dget(st, "mean"), 1.5, 1e-12);
		assert_float_equal(dget(st, "stddev"), sqrt(14.5 / 4), 1e-12);
		assert_float_equal(dget(st, "min"), -1.0, 0);
		assert_float_equal(dget(st, "max"), 4.0, 0);
		json_t *b = column(r, "b");
		assert_string_equal(sget(b, "type"), "bool");
		assert_int_equal(uget(get(b, "stats"), "true"), 3);
		assert_int_equal(uget(get(b, "stats"), "false"), 2);
		json_t *s = column(r, "s"), *len = get(get(s, "stats"), "length");
		assert_string_equal(sget(s, "type"), "string");
		assert_int_equal(uget(s, "count"), 5); /* "" is an empty string, not missing */
		assert_int_equal(uget(s, "missing"), 1);
		assert_int_equal(uget(len, "min"), 0);
		assert_int_equal(uget(len, "max"), 4);
		assert_float_equal(dget(len, "mean"), 2.0, 1e-12);
		assert_int_equal(uget(s, "distinct"), 5);
		json_t *m = column(r, "m");
		assert_int_equal(uget(m, "count"), 0);
		assert_int_equal(uget(m, "missing"), 6);
		assert_null(json_object_get(get(m, "stats"), "mean"));
		json_decref(r);
	}
}

static void test_date_stats(void **state)
{
	(void)state;
	const char *csv = "d,t\n"
	                  "2024-01-01,2024-01-01T00:00:00Z\n"
	                  "2024-01-02,2024-01-01 00:00:10\n"
	                  "2024-01-03,2024-01-01T00:00:20Z\n"
	                  "2024-01-04,2024-01-01T00:00:30Z\n"
	                  "2024-01-05,2024-01-01T00:00:40Z\n";
	json_t *r = report(csv, NULL, NULL, NULL, NULL);
	json_t *d = column(r, "d"), *t = column(r, "t");
	assert_string_equal(sget(d, "type"), "date");
	assert_string_equal(sget(t, "type"), "timestamp");
	/* dates single people out: quasi-identifiers, so no min or max */
	assert_true(json_is_true(get(d, "quasi_identifier")));
	assert_true(json_is_true(get(d, "sensitive")));
	assert_string_equal(sget(get(d, "stats"), "mean"), "2024-01-03");
	assert_float_equal(dget(get(d, "stats"), "stddev"), sqrt(2.5), 1e-12);
	assert_null(json_object_get(get(d, "stats"), "min"));
	assert_null(json_object_get(get(d, "stats"), "histogram"));
	assert_string_equal(sget(get(t, "stats"), "mean"), "2024-01-01T00:00:20Z");
	assert_float_equal(dget(get(t, "stats"), "stddev"), sqrt(250.0), 1e-9);
	json_decref(r);
	/* under five values a sensitive column's mean is withheld */
	r = report("d\n2024-01-01\n2024-01-03\n", NULL, NULL, NULL, NULL);
	assert_null(json_object_get(get(column(r, "d"), "stats"), "mean"));
	json_decref(r);
}

static void test_distinct_estimate(void **state)
{
	(void)state;
	veil_buf csv = {0};
	const size_t n = 100000;
	assert_int_equal(veil_buf_printf(&csv, NULL, "v,few\n"), VEIL_OK);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(veil_buf_printf(&csv, NULL, "item-%zu,%zu\n", i * 7919, i % 50), VEIL_OK);
	assert_int_equal(veil_buf_append(&csv, "", 1, NULL), VEIL_OK);
	double total = 0;
	for (uint8_t k = 0; k < 5; k++) {
		uint8_t key[16];
		memcpy(key, KEY, sizeof key);
		key[0] = k;
		veil_validate_opts o = {.hash_key = key};
		json_t *r = report((const char *)csv.data, NULL, &o, NULL, NULL);
		double err = fabs((double)uget(column(r, "v"), "distinct") - (double)n) / (double)n;
		assert_true(err < 0.04); /* 1.6 % standard error: 2.5 sigma */
		total += err;
		uint64_t few = uget(column(r, "few"), "distinct");
		assert_true(few >= 49 && few <= 51); /* linear counting: all but exact */
		json_decref(r);
	}
	assert_true(total / 5 < 0.025);
	veil_buf_free(&csv);
}

/* Checks a histogram against the values: equal widths, at most `bins`,
 * covering [min, max], and each count the number of values in its bin. */
static void check_hist(const double *vals, size_t n, unsigned bins, bool integral)
{
	hist h = {.integral = integral};
	double mn = INFINITY, mx = -INFINITY;
	for (size_t i = 0; i < n; i++) {
		mn = fmin(mn, vals[i]);
		mx = fmax(mx, vals[i]);
		hist_add(&h, vals[i], mn, mx);
	}
	hist_out o;
	assert_true(hist_result(&h, mn, mx, bins, &o));
	assert_true(o.nbins >= 1 && o.nbins <= bins);
	assert_true(o.width > 0);
	assert_true(o.edge0 <= mn && o.edge0 + o.width * o.nbins > mx);
	if (integral)
		assert_true(o.edge0 == floor(o.edge0) && o.width == floor(o.width));
	uint64_t want[BINS_MAX] = {0};
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		while (k + 1 < o.nbins && vals[i] >= o.edge0 + o.width * (double)(k + 1))
			k++;
		want[k]++;
	}
	for (unsigned k = 0; k < o.nbins; k++)
		assert_int_equal(o.counts[k], want[k]);
	/* The grid keeps at least a quarter of its fine bins in use, so asking
	 * for up to 100 bins gives at least half of them; unless the values
	 * are integers close together, or doubles that differ only in their
	 * last digits (the grid is never finer than 2^-50 of their size). */
	bool coarse = integral ? mx - mn < 1000 : mx - mn < ldexp(fmax(fabs(mn), fabs(mx)), -38);
	if (!coarse && n > 1 && o.nbins * 2 < bins)
		fail_msg("%u bins of %u for %zu values in [%g, %g]", o.nbins, bins, n, mn, mx);
	hist_free(&h);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_histogram_exact(void **state)
{
	(void)state;
	size_t n = 20000;
	double *v = malloc(n * sizeof *v);
	assert_non_null(v);
	uint64_t s = 0x9e3779b97f4a7c15ull;
	struct {
		double scale, offset;
		bool integral, sorted, reversed;
	} cases[] = {
	        {1, 0, false, false, false},          {1e-300, 0, false, false, false},
	        {1e300, -5e299, false, false, false}, {1000, -500, false, false, false},
	        {1e6, 1e9, false, false, false},      {5000, 0, true, true, false},
	        {5000, 0, true, true, true},          {3, 100, true, false, false},
	        {1e15, 0, true, false, false},        {1e-3, 1e12, false, false, false},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		for (size_t i = 0; i < n; i++) {
			double u = (double)(rnd(&s) >> 11) / 9007199254740992.0;
			if (cases[c].sorted)
				u = (double)(cases[c].reversed ? n - i : i) / (double)n;
			double x = cases[c].offset + cases[c].scale * u * (i % 7 == 0 ? 3 : 1);
			v[i] = cases[c].integral ? floor(x) : x;
		}
		for (unsigned bins = 1; bins <= 100; bins = bins * 3 + 1)
			check_hist(v, n, bins, cases[c].integral);
		check_hist(v, 500, 10, cases[c].integral); /* still in the buffer */
		check_hist(v, 1, 10, cases[c].integral);
	}
	free(v);
}

static void test_histogram_report(void **state)
{
	(void)state;
	veil_buf csv = {0};
	assert_int_equal(veil_buf_printf(&csv, NULL, "reading\n"), VEIL_OK);
	for (int i = 0; i < 100; i++)
		assert_int_equal(veil_buf_printf(&csv, NULL, "%d\n", i), VEIL_OK);
	assert_int_equal(veil_buf_append(&csv, "", 1, NULL), VEIL_OK);
	json_t *r = report((const char *)csv.data, NULL, NULL, NULL, NULL);
	json_t *h = get(get(column(r, "reading"), "stats"), "histogram");
	json_t *edges = get(h, "edges"), *counts = get(h, "counts");
	assert_int_equal(json_array_size(counts), 10);
	assert_int_equal(json_array_size(edges), 11);
	for (size_t k = 0; k <= 10; k++)
		assert_int_equal(json_integer_value(json_array_get(edges, k)), 10 * k);
	for (size_t k = 0; k < 10; k++)
		assert_int_equal(json_integer_value(json_array_get(counts, k)), 10);
	json_decref(r);
	veil_buf_free(&csv);
	veil_validate_opts o = {.bins = 2, .hash_key = KEY};
	r = report("level\n0\n1\n1\n0\n1\n", NULL, &o, NULL, NULL);
	h = get(get(column(r, "level"), "stats"), "histogram");
	assert_int_equal(json_integer_value(json_array_get(get(h, "counts"), 0)), 2);
	assert_int_equal(json_integer_value(json_array_get(get(h, "counts"), 1)), 3);
	json_decref(r);
}

/* ---- duplicates ---- */

static void test_duplicates(void **state)
{
	(void)state;
	const char *csv = "k,n\na,1\nb,2\na,1\nc,3\nb,+2\na,1\n";
	veil_validate_summary sum;
	json_t *r = report(csv, NULL, NULL, &sum, NULL); /* a profile compares the text */
	assert_int_equal(sum.duplicate_rows, 2);
	assert_int_equal(sum.violations, 0);
	assert_int_equal(uget(get(r, "duplicates"), "rows"), 2);
	assert_int_equal(uget(get(r, "duplicates"), "checked"), 6);
	assert_true(json_is_true(get(get(r, "duplicates"), "complete")));
	json_decref(r);
	const char *schema = "version: 1\ncolumns:\n  - {name: k, type: string}\n  - {name: n, type: int}\n";
	r = report(csv, schema, NULL, &sum, NULL); /* validation compares the values: +2 is 2 */
	assert_int_equal(sum.duplicate_rows, 3);
	assert_int_equal(sum.violations, 3);
	json_t *list = get(get(r, "violations"), "list");
	static const uint64_t records[] = {3, 5, 6};
	for (size_t k = 0; k < 3; k++) {
		assert_int_equal(uget(json_array_get(list, k), "record"), records[k]);
		assert_string_equal(sget(json_array_get(list, k), "rule"), "duplicate-row");
	}
	json_decref(r);
	veil_validate_opts o = {.max_dup_rows = 2, .hash_key = KEY};
	r = report(csv, NULL, &o, &sum, NULL);
	assert_int_equal(sum.duplicate_rows, 0);
	assert_int_equal(uget(get(r, "duplicates"), "checked"), 2);
	assert_true(json_is_false(get(get(r, "duplicates"), "complete")));
	json_decref(r);
	/* the same cap bounds the values a unique column keeps */
	schema =
	        "version: 1\ncolumns:\n  - {name: k, type: string, unique: true}\n  - {name: n, type: int}\n";
	r = report("k,n\na,1\nb,2\nc,3\na,4\n", schema, &o, &sum, NULL);
	assert_int_equal(uget(get(get(r, "violations"), "by_rule"), "unique"), 0);
	assert_true(json_is_false(get(column(r, "k"), "unique_complete")));
	json_decref(r);
}

/* ---- classification and PII ---- */

static void test_classification(void **state)
{
	(void)state;
	static const struct {
		const char *csv, *schema;
		veil_data_class declared;
		const char *effective, *findings;
		uint32_t pii;
		uint32_t quasi;
	} cases[] = {
	        {"x\n1\n", NULL, VEIL_CLASS_UNSET, "internal", NULL, 0, 0},
	        {"x\n1\n", NULL, VEIL_CLASS_PUBLIC, "public", NULL, 0, 0},
	        {"x\n1\n", NULL, VEIL_CLASS_RESTRICTED, "restricted", NULL, 0, 0},
	        {"x\n1\n", "version: 1\nclassification: confidential\ncolumns: [{name: x, type: int}]\n",
	         VEIL_CLASS_PUBLIC, "confidential", NULL, 0, 0},
	        {"contact\nann@example.org\nbo@example.com\n", NULL, VEIL_CLASS_PUBLIC, "restricted",
	         "restricted", 1u << VEIL_PII_EMAIL, 0},
	        {"zip\n12345\n54321\n", NULL, VEIL_CLASS_UNSET, "confidential", "confidential",
	         1u << VEIL_PII_POSTAL_CODE, 1},
	        {"age\n33\n", NULL, VEIL_CLASS_UNSET, "confidential", "confidential", 0, 1},
	        {"host\n10.0.0.1\n::1\n", NULL, VEIL_CLASS_UNSET, "confidential", "confidential",
	         1u << VEIL_PII_IP, 0},
	        {"seen\n2020-01-01\n", NULL, VEIL_CLASS_UNSET, "confidential", "confidential", 0, 1},
	        {"name\nWidget\n", NULL, VEIL_CLASS_UNSET, "restricted", "restricted",
	         1u << VEIL_PII_PERSON_NAME, 0},
	        {"x\n1\n", "version: 1\ncolumns: [{name: x, type: int, pii: phone}]\n", VEIL_CLASS_UNSET,
	         "restricted", "restricted", 1u << VEIL_PII_PHONE, 0},
	        {"x\n1\n", "version: 1\ncolumns: [{name: x, type: int, quasi-identifier: true}]\n",
	         VEIL_CLASS_PUBLIC, "confidential", "confidential", 0, 1},
	        {"card\n4111111111111111\n", NULL, VEIL_CLASS_UNSET, "restricted", "restricted",
	         1u << VEIL_PII_PAYMENT_CARD, 0},
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		veil_validate_opts o = {.declared = cases[k].declared, .hash_key = KEY};
		veil_validate_summary sum;
		json_t *r = report(cases[k].csv, cases[k].schema, &o, &sum, NULL);
		json_t *c = get(r, "classification");
		if (strcmp(sget(c, "effective"), cases[k].effective) != 0)
			fail_msg("case %zu: effective %s", k, sget(c, "effective"));
		assert_string_equal(veil_data_class_name(sum.classification), cases[k].effective);
		if (cases[k].findings)
			assert_string_equal(sget(c, "findings"), cases[k].findings);
		else
			assert_true(json_is_null(get(c, "findings")));
		if (sum.pii != cases[k].pii)
			fail_msg("case %zu: pii bits %#x", k, sum.pii);
		assert_int_equal(sum.quasi_identifiers, cases[k].quasi);
		assert_int_equal(json_array_size(get(r, "quasi_identifiers")), cases[k].quasi);
		json_decref(r);
	}
}

static void test_pii_threshold(void **state)
{
	(void)state;
	/* 3 of 4 values are e-mail addresses: found at 0.75, not at the default 0.8 */
	const char *csv = "contact\nann@example.org\nbo@example.com\ncy@example.net\nnone\n";
	json_t *r = report(csv, NULL, NULL, NULL, NULL);
	assert_string_equal(sget(get(column(r, "contact"), "pii"), "found"), "none");
	json_decref(r);
	veil_validate_opts o = {.pii_threshold = 0.75, .hash_key = KEY};
	r = report(csv, NULL, &o, NULL, NULL);
	json_t *p = get(column(r, "contact"), "pii");
	assert_string_equal(sget(p, "found"), "email");
	assert_float_equal(dget(p, "rate"), 0.75, 1e-12);
	json_decref(r);
	/* declared and found both reported; the declared class wins */
	const char *schema = "version: 1\ncolumns: [{name: contact, type: string, pii: phone}]\n";
	r = report(csv, schema, &o, NULL, NULL);
	p = get(column(r, "contact"), "pii");
	assert_string_equal(sget(p, "declared"), "phone");
	assert_string_equal(sget(p, "found"), "email");
	assert_string_equal(sget(p, "class"), "phone");
	json_decref(r);
}

/* ---- redaction ---- */

static void no_value_in(const char *report_text, const char *const *values)
{
	for (; *values; values++)
		if (strstr(report_text, *values))
			fail_msg("the report holds the raw value '%s'", *values);
}

static void test_redaction(void **state)
{
	(void)state;
	static const char *const values[] = {"zq.secret.ann@example.org",
	                                     "zq.secret.bo@example.org",
	                                     "zq.secret.cy@example.org",
	                                     "zq.secret.di@example.org",
	                                     "zq.secret.ed@example.org",
	                                     "923-41-7765",
	                                     "931-52-8876",
	                                     "945-63-9987",
	                                     "952-74-1098",
	                                     "968-85-2109",
	                                     "5173021",
	                                     "6284917",
	                                     "7391562",
	                                     "8402873",
	                                     "9517364",
	                                     "1961-03-17",
	                                     "1974-11-02",
	                                     "1983-08-29",
	                                     "1990-01-13",
	                                     "1999-12-05",
	                                     "Quixotica",
	                                     "Zebulonia",
	                                     "Marvelosa",
	                                     "Thistlewood",
	                                     "Brambleford",
	                                     "30219",
	                                     "41326",
	                                     "57437",
	                                     "63548",
	                                     "88659",
	                                     NULL};
	veil_buf csv = {0};
	assert_int_equal(veil_buf_printf(&csv, NULL, "email,ssn,weight_mg,dob,surname,zip\n"), VEIL_OK);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(veil_buf_printf(&csv, NULL, "%s,%s,%s,%s,%s,%s\n", values[i], values[5 + i],
		                                 values[10 + i], values[15 + i], values[20 + i],
		                                 values[25 + i]),
		                 VEIL_OK);
	assert_int_equal(veil_buf_append(&csv, "", 1, NULL), VEIL_OK);
	veil_buf raw = {0};
	json_t *r = report((const char *)csv.data, NULL, NULL, NULL, &raw);
	assert_string_equal(sget(get(r, "classification"), "effective"), "restricted");
	no_value_in((const char *)raw.data, values);
	json_decref(r);
	veil_buf_free(&raw);
	veil_schema *inferred = NULL;
	veil_validate_summary sum;
	veil_err err = {0};
	assert_int_equal(run((const char *)csv.data, csv.len - 1, NULL, NULL, &raw, &sum, &inferred, &err),
	                 VEIL_OK);
	veil_buf yaml = {0};
	assert_int_equal(veil_schema_write(inferred, &yaml, &err), VEIL_OK);
	assert_int_equal(veil_buf_append(&yaml, "", 1, NULL), VEIL_OK);
	no_value_in((const char *)yaml.data, values); /* no bounds for sensitive columns either */
	veil_schema_free(inferred);
	veil_buf_free(&yaml);
	veil_buf_free(&raw);
	/* A column that is not sensitive, in an internal dataset: min, max and
	 * the histogram are there. The same data declared confidential: gone. */
	const char *plain = "weight_mg\n5173021\n6284917\n7391562\n8402873\n9517364\n";
	r = report(plain, NULL, NULL, NULL, &raw);
	json_t *st = get(column(r, "weight_mg"), "stats");
	assert_int_equal(uget(st, "min"), 5173021);
	assert_int_equal(uget(st, "max"), 9517364);
	assert_non_null(json_object_get(st, "histogram"));
	assert_non_null(strstr((const char *)raw.data, "9517364"));
	json_decref(r);
	veil_buf_free(&raw);
	veil_validate_opts o = {.declared = VEIL_CLASS_CONFIDENTIAL, .hash_key = KEY};
	r = report(plain, NULL, &o, NULL, &raw);
	assert_true(json_is_true(get(column(r, "weight_mg"), "sensitive")));
	no_value_in((const char *)raw.data, values);
	json_decref(r);
	veil_buf_free(&raw);
	veil_buf_free(&csv);
}

/* ---- profiling ---- */

static void same_schema(const veil_schema *a, const veil_schema *b)
{
	assert_int_equal(veil_schema_ncolumns(a), veil_schema_ncolumns(b));
	assert_int_equal(veil_schema_classification(a), veil_schema_classification(b));
	for (size_t i = 0; i < veil_schema_ncolumns(a); i++) {
		const veil_schema_column *x = veil_schema_column_at(a, i), *y = veil_schema_column_at(b, i);
		assert_string_equal(x->name, y->name);
		assert_int_equal(x->type, y->type);
		assert_int_equal(x->nullable, y->nullable);
		assert_int_equal(x->pii, y->pii);
		assert_int_equal(x->quasi_identifier, y->quasi_identifier);
		assert_int_equal(x->has_min, y->has_min);
		assert_int_equal(x->has_max, y->has_max);
		if (x->has_min)
			assert_true(x->type == VEIL_COL_DOUBLE ? x->min.f == y->min.f : x->min.i == y->min.i);
		if (x->has_max)
			assert_true(x->type == VEIL_COL_DOUBLE ? x->max.f == y->max.f : x->max.i == y->max.i);
	}
}

static veil_schema *profile(const char *csv, veil_validate_summary *sum)
{
	veil_buf raw = {0};
	veil_schema *s = NULL;
	veil_err err = {0};
	if (run(csv, strlen(csv), NULL, NULL, &raw, sum, &s, &err) != VEIL_OK)
		fail_msg("profile: %s", err.msg);
	veil_buf_free(&raw);
	assert_non_null(s);
	return s;
}

static void test_profile_round_trip(void **state)
{
	(void)state;
	const char *csv = "n,f,b,s,e,q,big\n"
	                  "1,1.5,true,hello,,\"\",9007199254740993\n"
	                  "2,0.1,no,world,,x,-9223372036854775808\n"
	                  ",3,1,\"\",,y,0\n";
	veil_validate_summary sum;
	veil_schema *s = profile(csv, &sum);
	assert_false(sum.validated);
	assert_false(sum.passed);
	assert_int_equal(veil_schema_classification(s), VEIL_CLASS_INTERNAL);
	static const struct {
		veil_col_type type;
		bool nullable, bounds;
	} want[] = {{VEIL_COL_INT64, true, true},   {VEIL_COL_DOUBLE, false, true},
	            {VEIL_COL_BOOL, false, false},  {VEIL_COL_STRING, false, false},
	            {VEIL_COL_STRING, true, false}, {VEIL_COL_STRING, false, false},
	            {VEIL_COL_INT64, false, true}};
	for (size_t i = 0; i < 7; i++) {
		const veil_schema_column *c = veil_schema_column_at(s, i);
		assert_int_equal(c->type, want[i].type);
		assert_int_equal(c->nullable, want[i].nullable);
		assert_int_equal(c->has_min, want[i].bounds);
	}
	assert_int_equal(veil_schema_column_at(s, 0)->min.i, 1);
	assert_int_equal(veil_schema_column_at(s, 0)->max.i, 2);
	assert_true(veil_schema_column_at(s, 1)->min.f == 0.1);
	assert_true(veil_schema_column_at(s, 1)->max.f == 3.0);
	assert_int_equal(veil_schema_column_at(s, 6)->min.i, INT64_MIN);
	assert_int_equal(veil_schema_column_at(s, 6)->max.i, 9007199254740993);
	/* write, parse, compare, write again: the same bytes */
	veil_buf y1 = {0}, y2 = {0};
	veil_err err = {0};
	assert_int_equal(veil_schema_write(s, &y1, &err), VEIL_OK);
	veil_schema *back = NULL;
	assert_int_equal(veil_schema_parse((const char *)y1.data, y1.len, &back, &err), VEIL_OK);
	same_schema(s, back);
	assert_int_equal(veil_schema_write(back, &y2, &err), VEIL_OK);
	assert_int_equal(y1.len, y2.len);
	assert_memory_equal(y1.data, y2.data, y1.len);
	/* and the file passes the schema inferred from it */
	assert_int_equal(veil_buf_append(&y1, "", 1, NULL), VEIL_OK);
	json_t *r = report(csv, (const char *)y1.data, NULL, &sum, NULL);
	assert_true(sum.passed);
	json_decref(r);
	veil_schema_free(back);
	veil_schema_free(s);
	veil_buf_free(&y1);
	veil_buf_free(&y2);
}

static void test_profile_sensitive(void **state)
{
	(void)state;
	veil_validate_summary sum;
	veil_schema *s = profile(
	        "email,visit,age\nann@example.org,2021-05-06,40\nbo@example.com,2022-07-08,51\n", &sum);
	assert_int_equal(veil_schema_classification(s), VEIL_CLASS_RESTRICTED);
	const veil_schema_column *email = veil_schema_column_at(s, 0), *visit = veil_schema_column_at(s, 1),
	                         *age = veil_schema_column_at(s, 2);
	assert_int_equal(email->pii, VEIL_PII_EMAIL);
	assert_int_equal(visit->type, VEIL_COL_DATE);
	assert_true(visit->quasi_identifier);
	assert_false(visit->has_min); /* bounds are raw values */
	assert_int_equal(age->type, VEIL_COL_INT64);
	assert_true(age->quasi_identifier);
	assert_false(age->has_max);
	assert_int_equal(sum.quasi_identifiers, 2);
	veil_schema_free(s);
	/* a column name no schema can hold */
	char csv[400];
	memset(csv, 'n', 200);
	memcpy(csv + 200, "\n1\n", 4);
	veil_buf raw = {0};
	veil_err err = {0};
	s = NULL;
	assert_int_equal(run(csv, strlen(csv), NULL, NULL, &raw, &sum, &s, &err), VEIL_E_LIMIT);
	assert_null(s);
	assert_non_null(strstr(err.msg, "column 1"));
	veil_buf_free(&raw);
}

/* ---- errors ---- */

static void expect_error(const char *csv, const char *schema, const veil_validate_opts *o, veil_status code,
                         const char *msg)
{
	veil_buf raw = {0};
	veil_err err = {0};
	veil_validate_summary sum;
	assert_int_equal(run(csv, strlen(csv), schema, o, &raw, &sum, NULL, &err), code);
	if (!strstr(err.msg, msg))
		fail_msg("'%s' does not say '%s'", err.msg, msg);
	assert_int_equal(raw.len, 0); /* no report */
	veil_buf_free(&raw);
}

static void test_header_mismatch(void **state)
{
	(void)state;
	const char *ab = "version: 1\ncolumns: [{name: a, type: int}, {name: b, type: int}]\n";
	expect_error("a,c\n1,2\n", ab, NULL, VEIL_E_INVALID, "the schema's column \"b\" is not in the file");
	expect_error("a\n1\n", ab, NULL, VEIL_E_INVALID, "the schema's column \"b\" is not in the file");
	expect_error("b,a,c\n1,2,3\n", ab, NULL, VEIL_E_INVALID,
	             "the file's column \"c\" is not in the schema");
	veil_validate_summary sum;
	json_t *r = report("b,a\n2,1\n", ab, NULL, &sum, NULL); /* any order */
	assert_true(sum.passed);
	json_decref(r);
}

static void test_bad_input(void **state)
{
	(void)state;
	expect_error("a,b\n1\n", NULL, NULL, VEIL_E_INVALID, "line 2");
	expect_error("a,b\n1,\"2\n", NULL, NULL, VEIL_E_INVALID, "line 2");
	veil_validate_opts o = {.pii_threshold = 1.5, .hash_key = KEY};
	expect_error("a\n1\n", NULL, &o, VEIL_E_INVALID, "threshold");
	o.pii_threshold = NAN;
	expect_error("a\n1\n", NULL, &o, VEIL_E_INVALID, "threshold");
	o = (veil_validate_opts){.bins = 101, .hash_key = KEY};
	expect_error("a\n1\n", NULL, &o, VEIL_E_INVALID, "bins");
	o = (veil_validate_opts){.declared = (veil_data_class)9, .hash_key = KEY};
	expect_error("a\n1\n", NULL, &o, VEIL_E_INVALID, "classification");
	/* the API alone: a header with a name twice, no columns, a short row, order of calls */
	veil_csv_field h[2] = {{"a", 1, false}, {"a", 1, false}};
	veil_validator *v = NULL;
	veil_err err = {0};
	assert_int_equal(veil_validator_new(NULL, h, 2, NULL, &v, &err), VEIL_E_INVALID);
	assert_null(v);
	assert_int_equal(veil_validator_new(NULL, h, 0, NULL, &v, &err), VEIL_E_INVALID);
	h[1] = (veil_csv_field){"b", 1, false};
	assert_int_equal(veil_validator_new(NULL, h, 2, NULL, &v, &err), VEIL_OK);
	veil_csv_row row = {.fields = h, .n = 1, .line = 2, .record = 1};
	assert_int_equal(veil_validator_row(v, &row, &err), VEIL_E_INVALID);
	row.n = 2;
	assert_int_equal(veil_validator_row(v, &row, &err), VEIL_OK);
	veil_schema *s = NULL;
	assert_int_equal(veil_validator_infer_schema(v, &s, &err), VEIL_E_INVALID); /* not finished */
	veil_buf out = {0};
	veil_jw w;
	veil_jw_init(&w, &out);
	veil_validate_summary sum;
	assert_int_equal(veil_validator_finish(v, &w, &sum, &err), VEIL_OK);
	assert_int_equal(sum.rows, 1);
	assert_int_equal(veil_validator_row(v, &row, &err), VEIL_E_INVALID);
	assert_int_equal(veil_validator_finish(v, &w, &sum, &err), VEIL_E_INVALID);
	assert_int_equal(veil_validator_infer_schema(v, &s, &err), VEIL_OK);
	assert_int_equal(veil_schema_ncolumns(s), 2);
	veil_schema_free(s);
	veil_validator_free(v);
	veil_buf_free(&out);
}

/* ---- the synthetic patients ---- */

static void test_patients(void **state)
{
	(void)state;
	if (!datagen)
		skip();
	char tmpl[] = "/tmp/veil-validate-test-XXXXXX";
	int fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	close(fd);
	char cmd[512];
	snprintf(cmd, sizeof cmd, "'%s' --rows 3000 --seed 11 -o '%s'", datagen, tmpl);
	assert_int_equal(system(cmd), 0);
	veil_buf csv = {0};
	veil_err err = {0};
	assert_int_equal(veil_fs_read_file(tmpl, 64u << 20, &csv, &err), VEIL_OK);
	unlink(tmpl);
	const char *root = getenv("VEIL_SOURCE_ROOT");
	char path[512];
	snprintf(path, sizeof path, "%s/examples/patients.schema.yaml", root ? root : ".");
	veil_buf yaml = {0};
	assert_int_equal(veil_fs_read_file(path, 1u << 20, &yaml, &err), VEIL_OK);
	assert_int_equal(veil_buf_append(&yaml, "", 1, NULL), VEIL_OK);
	/* the first record again, at the end: record 3001 repeats patient_id and the whole row */
	const char *first = memchr(csv.data, '\n', csv.len);
	assert_non_null(first);
	const char *second =
	        memchr(first + 1, '\n', csv.len - (size_t)((const uint8_t *)first + 1 - csv.data));
	size_t clean_len = csv.len;
	assert_int_equal(veil_buf_append(&csv, first + 1, (size_t)(second - first), NULL), VEIL_OK);
	assert_int_equal(veil_buf_append(&csv, "", 1, NULL), VEIL_OK);
	veil_validate_summary sum;
	veil_buf raw = {0};
	assert_int_equal(
	        run((const char *)csv.data, clean_len, (const char *)yaml.data, NULL, &raw, &sum, NULL, &err),
	        VEIL_OK);
	assert_true(sum.passed);
	assert_int_equal(sum.rows, 3000);
	assert_int_equal(sum.classification, VEIL_CLASS_RESTRICTED);
	uint32_t direct = 1u << VEIL_PII_EMAIL | 1u << VEIL_PII_SSN | 1u << VEIL_PII_PHONE |
	                  1u << VEIL_PII_DATE_OF_BIRTH | 1u << VEIL_PII_POSTAL_CODE |
	                  1u << VEIL_PII_PERSON_NAME;
	assert_int_equal(sum.pii & direct, direct);
	assert_true(sum.quasi_identifiers >= 4);
	veil_buf_free(&raw);
	json_t *r = report((const char *)csv.data, (const char *)yaml.data, NULL, &sum, NULL);
	assert_false(sum.passed);
	assert_int_equal(sum.violations, 2);
	/* patient_id is sensitive (the dataset is restricted): its unique
	 * violation is counted, its record withheld; the duplicate row is listed. */
	json_t *vio = get(r, "violations");
	json_t *list = get(vio, "list");
	assert_int_equal(uget(get(vio, "by_rule"), "unique"), 1);
	assert_int_equal(uget(vio, "withheld"), 1);
	assert_int_equal(uget(json_array_get(list, 0), "record"), 3001);
	assert_string_equal(sget(json_array_get(list, 0), "rule"), "duplicate-row");
	/* the scan finds what the schema declares */
	static const char *const found[][2] = {{"email", "email"},
	                                       {"ssn", "ssn"},
	                                       {"phone", "phone"},
	                                       {"date_of_birth", "date-of-birth"},
	                                       {"postal_code", "postal-code"},
	                                       {"name", "person-name"}};
	for (size_t k = 0; k < 6; k++)
		assert_string_equal(sget(get(column(r, found[k][0]), "pii"), "found"), found[k][1]);
	json_decref(r);
	veil_buf_free(&csv);
	veil_buf_free(&yaml);
}

/* ---- the pattern DFA against regexec ---- */

static void test_dfa_matches_regexec(void **state)
{
	(void)state;
	static const char *const compiled[] = {"P[0-9]{8}",
	                                       "[a-z]+\\.[a-z]+[0-9]{1,3}@example\\.(org|com)",
	                                       "9[0-9]{2}-[0-9]{2}-[0-9]{4}",
	                                       "[2-9][0-9]{2}-555-01[0-9]{2}",
	                                       "[0-9]{5}",
	                                       "a|bc",
	                                       "(a|b)*c",
	                                       "x?y+z{2,}",
	                                       "[^a-c]*",
	                                       "[]a]+",
	                                       "[a-]+",
	                                       "[-a]+",
	                                       "[[:alpha:][:digit:]_]+",
	                                       "[[:space:]]*x",
	                                       "a{0}b",
	                                       "(ab){1,3}",
	                                       "((a|b)+){3}",
	                                       ".*",
	                                       "[^]]",
	                                       "\\.\\*\\+",
	                                       "[]-a]",
	                                       "[\xc3\xa9]+",
	                                       "\xc3\xa9+",
	                                       ".{2}",
	                                       "[[:punct:]]+",
	                                       "[[:upper:]][[:lower:]]*",
	                                       "(a|ab)(c|bcd)",
	                                       "(a*)*",
	                                       "[[:xdigit:]]{2,4}",
	                                       "[[:cntrl:][:blank:]]",
	                                       "[[:print:]]?[[:graph:]]",
	                                       NULL};
	static const char *const left_to_regexec[] = {"}",     "a}",    "(|a)", "()",      "a||b",
	                                              "^a",    "a$",    "\\w+", "[[=a=]]", "[[.a.]]",
	                                              "(a|)b", "[!--]", NULL};
	const char alphabet[] = "abcdexyzP0123456789-.@_ ]}!\t\n\xc3\xa9\x80\xff"
	                        "A,";
	static const char *const seeds[] = {"P12345678",   "ann.lee12@example.org",
	                                    "912-34-5678", "234-555-0123",
	                                    "01234",       "abab",
	                                    "aab",         "]]]",
	                                    "\xc3\xa9",    "bcd",
	                                    "abcd",        "x yzz"};
	uint64_t s = 12345;
	for (int set = 0; set < 2; set++) {
		const char *const *pats = set ? left_to_regexec : compiled;
		for (size_t i = 0; pats[i]; i++) {
			vdfa d;
			bool ok = vdfa_compile(&d, pats[i]);
			if (ok != !set)
				fail_msg("'%s': compiled %d", pats[i], ok);
			if (!ok)
				continue;
			veil_schema *sch = NULL;
			veil_err err = {0};
			assert_int_equal(veil_schema_new(&sch, &err), VEIL_OK);
			veil_schema_column col = {.name = "c", .type = VEIL_COL_STRING, .pattern = pats[i]};
			assert_int_equal(veil_schema_add_column(sch, &col, &err), VEIL_OK);
			for (int t = 0; t < 20000; t++) {
				char buf[32];
				size_t n = rnd(&s) % 12;
				for (size_t k = 0; k < n; k++)
					buf[k] = alphabet[rnd(&s) % (sizeof alphabet - 1)];
				if (t % 3 == 0) { /* near a value that matches */
					const char *seed = seeds[rnd(&s) % 12];
					n = strlen(seed);
					memcpy(buf, seed, n);
					if (n && rnd(&s) % 2)
						buf[rnd(&s) % n] = alphabet[rnd(&s) % (sizeof alphabet - 1)];
				}
				bool a = vdfa_match(&d, buf, n),
				     b = veil_schema_pattern_match(sch, 0, buf, n);
				if (a != b)
					fail_msg("'%s' on '%.*s': dfa %d, regexec %d", pats[i], (int)n, buf,
					         a, b);
			}
			veil_schema_free(sch);
			vdfa_free(&d);
		}
	}
}

int main(int argc, char **argv)
{
	datagen = argc > 1 ? argv[1] : NULL;
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_every_rule),         cmocka_unit_test(test_passes),
	        cmocka_unit_test(test_cap_and_totals),     cmocka_unit_test(test_stats_by_hand),
	        cmocka_unit_test(test_date_stats),         cmocka_unit_test(test_distinct_estimate),
	        cmocka_unit_test(test_histogram_exact),    cmocka_unit_test(test_histogram_report),
	        cmocka_unit_test(test_duplicates),         cmocka_unit_test(test_classification),
	        cmocka_unit_test(test_pii_threshold),      cmocka_unit_test(test_redaction),
	        cmocka_unit_test(test_profile_round_trip), cmocka_unit_test(test_profile_sensitive),
	        cmocka_unit_test(test_header_mismatch),    cmocka_unit_test(test_bad_input),
	        cmocka_unit_test(test_patients),           cmocka_unit_test(test_dfa_matches_regexec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
