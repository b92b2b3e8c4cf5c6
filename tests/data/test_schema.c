/* Unit tests for dataset schemas (docs/formats/schema.md): every key and
 * type read as documented; each refusal with its exact line and column (a
 * table of cases); the builder's rules and its position-free messages;
 * write -> parse round trips, including strings that need escaping; the
 * bounds; whole-value pattern matching; and the shipped example
 * examples/patients.schema.yaml. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "veil/data.h"

static veil_schema *parse_ok(const char *text)
{
	veil_schema *s = NULL;
	veil_err e = {0};
	veil_status st = veil_schema_parse(text, strlen(text), &s, &e);
	if (st != VEIL_OK)
		fail_msg("schema refused: %s\n%s", e.msg, text);
	assert_non_null(s);
	return s;
}

static const veil_schema_column *col(const veil_schema *s, const char *name)
{
	ptrdiff_t i = veil_schema_find(s, name);
	if (i < 0)
		fail_msg("no column %s", name);
	return veil_schema_column_at(s, (size_t)i);
}

static const char full[] = "version: 1\n"
                           "classification: confidential\n"
                           "columns:\n"
                           "  - name: id\n"
                           "    type: int\n"
                           "    unique: true\n"
                           "    min: -5\n"
                           "    max: 9223372036854775807\n"
                           "  - name: score\n"
                           "    type: float\n"
                           "    nullable: true\n"
                           "    min: -1.5\n"
                           "    max: 2.5e3\n"
                           "    allowed: [0.1, 1, -2e-3]\n"
                           "  - {name: smoker, type: bool, quasi-identifier: false}\n"
                           "  - name: email\n"
                           "    type: string\n"
                           "    pii: email\n"
                           "    pattern: '[a-z.]+@example\\.(org|com)'\n"
                           "  - name: blood\n"
                           "    type: category\n"
                           "    allowed: [\"O+\", A+, 'AB-']\n"
                           "  - name: dob\n"
                           "    type: date\n"
                           "    pii: date-of-birth\n"
                           "    quasi-identifier: true\n"
                           "    min: 1900-01-01\n"
                           "    max: \"2026-11-22\"\n"
                           "  - name: seen\n"
                           "    type: timestamp\n"
                           "    min: 2020-01-01\n"
                           "    max: 2026-11-22T13:49:21Z\n"
                           "    allowed: [2021-06-01T00:00:00Z, 2022-01-01]\n"
                           "  - name: outcome\n"
                           "    type: int\n"
                           "    label: true\n"
                           "    nullable: false\n"
                           "    allowed: [0, 1]\n";

static void check_full(const veil_schema *s)
{
	assert_int_equal(veil_schema_ncolumns(s), 8);
	assert_int_equal(veil_schema_classification(s), VEIL_CLASS_CONFIDENTIAL);
	assert_int_equal(veil_schema_label(s), 7);
	assert_null(veil_schema_column_at(s, 8));
	assert_int_equal(veil_schema_find(s, "nope"), -1);

	const veil_schema_column *c = col(s, "id");
	assert_int_equal(c->type, VEIL_COL_INT64);
	assert_true(c->unique && !c->nullable && !c->label && !c->quasi_identifier);
	assert_true(c->has_min && c->has_max);
	assert_int_equal(c->min.i, -5);
	assert_true(c->max.i == INT64_MAX);
	assert_int_equal(c->pii, VEIL_PII_NONE);
	assert_null(c->pattern);
	assert_int_equal(c->nallowed, 0);

	c = col(s, "score");
	assert_int_equal(c->type, VEIL_COL_DOUBLE);
	assert_true(c->nullable);
	assert_true(c->min.f == -1.5 && c->max.f == 2500.0);
	assert_int_equal(c->nallowed, 3);
	assert_string_equal(c->allowed[0], "0.1"); /* canonical: shortest text that reads back */
	assert_string_equal(c->allowed[1], "1");
	assert_string_equal(c->allowed[2], "-0.002");

	c = col(s, "smoker");
	assert_int_equal(c->type, VEIL_COL_BOOL);
	assert_false(c->quasi_identifier || c->has_min || c->has_max);

	c = col(s, "email");
	assert_int_equal(c->type, VEIL_COL_STRING);
	assert_int_equal(c->pii, VEIL_PII_EMAIL);
	assert_string_equal(c->pattern, "[a-z.]+@example\\.(org|com)");

	c = col(s, "blood");
	assert_int_equal(c->type, VEIL_COL_CATEGORY);
	assert_int_equal(c->nallowed, 3);
	assert_string_equal(c->allowed[0], "O+");
	assert_string_equal(c->allowed[1], "A+");
	assert_string_equal(c->allowed[2], "AB-");

	c = col(s, "dob");
	assert_int_equal(c->type, VEIL_COL_DATE);
	assert_int_equal(c->pii, VEIL_PII_DATE_OF_BIRTH);
	assert_true(c->quasi_identifier);
	assert_int_equal(c->min.i, -25567); /* days from 1970-01-01 back to 1900-01-01 */
	assert_int_equal(c->max.i, 20779);  /* 2026-11-22 */

	c = col(s, "seen");
	assert_int_equal(c->type, VEIL_COL_TIMESTAMP);
	assert_int_equal(c->min.i, 1577836800); /* a date alone is its midnight */
	assert_int_equal(c->max.i, 1795355361);
	assert_int_equal(c->nallowed, 2);
	assert_string_equal(c->allowed[0], "2021-06-01T00:00:00Z");
	assert_string_equal(c->allowed[1], "2022-01-01T00:00:00Z");

	c = col(s, "outcome");
	assert_true(c->label);
	assert_int_equal(c->nallowed, 2);
}

static void test_every_key_and_type(void **state)
{
	(void)state;
	veil_schema *s = parse_ok(full);
	check_full(s);
	veil_schema_free(s);
}

static void test_defaults_and_document_markers(void **state)
{
	(void)state;
	veil_schema *s = parse_ok("---\nversion: 1\ncolumns: [{name: a, type: string}]\n...\n");
	assert_int_equal(veil_schema_classification(s), VEIL_CLASS_UNSET);
	assert_int_equal(veil_schema_label(s), -1);
	const veil_schema_column *c = veil_schema_column_at(s, 0);
	assert_string_equal(c->name, "a");
	assert_false(c->nullable || c->unique || c->quasi_identifier || c->label || c->has_min || c->has_max);
	assert_int_equal(c->pii, VEIL_PII_NONE);
	assert_null(c->pattern);
	assert_true(veil_schema_pattern_match(s, 0, "anything", 8));
	assert_false(veil_schema_pattern_match(s, 1, "x", 1));
	veil_schema_free(s);
}

static void test_names(void **state)
{
	(void)state;
	static const char *const types[] = {"int",      "float", "bool",     "string",
	                                    "category", "date",  "timestamp"};
	for (size_t i = 0; i < 7; i++) {
		veil_col_type t = VEIL_COL_STRING;
		assert_true(veil_schema_type_from_name(types[i], &t));
		assert_string_equal(veil_schema_type_name(t), types[i]);
	}
	veil_col_type t = VEIL_COL_STRING;
	assert_false(veil_schema_type_from_name("int64", &t)); /* the table's name, not the schema's */
	assert_string_equal(veil_schema_type_name((veil_col_type)99), "?");
	for (unsigned p = 0; p < VEIL_PII_COUNT; p++) {
		veil_pii back = VEIL_PII_NONE;
		assert_true(veil_pii_from_name(veil_pii_name((veil_pii)p), &back));
		assert_int_equal(back, p);
	}
	veil_pii p = VEIL_PII_NONE;
	assert_true(veil_pii_from_name("payment-card", &p) && p == VEIL_PII_PAYMENT_CARD);
	assert_false(veil_pii_from_name("Email", &p));
	veil_data_class c = VEIL_CLASS_UNSET;
	assert_true(veil_data_class_from_name("restricted", &c) && c == VEIL_CLASS_RESTRICTED);
	assert_false(veil_data_class_from_name("", &c));
	assert_true(VEIL_CLASS_RESTRICTED > VEIL_CLASS_CONFIDENTIAL &&
	            VEIL_CLASS_INTERNAL > VEIL_CLASS_PUBLIC);
}

typedef struct bad_case {
	const char *text;
	veil_status code;
	const char *msg; /* the start of err.msg */
} bad_case;

#define V1   "version: 1\n"
#define COLS V1 "columns:\n"

static void test_errors(void **state)
{
	(void)state;
	static const bad_case cases[] = {
	        {"", VEIL_E_INVALID, "line 1, column 1: the schema is empty"},
	        {"- a\n", VEIL_E_INVALID,
	         "line 1, column 1: a schema is a mapping of keys to values, not a list"},
	        {V1 "colour: blue\n", VEIL_E_INVALID, "line 2, column 1: unknown key 'colour'"},
	        {V1 "version: 1\n", VEIL_E_INVALID, "line 2, column 1: key 'version' appears twice"},
	        {"version: 2\ncolumns: [{name: a, type: int}]\n", VEIL_E_UNSUPPORTED,
	         "line 1, column 10: schema version 2 is not supported"},
	        {"version: \"1\"\n", VEIL_E_INVALID, "line 1, column 10: version must be a whole number"},
	        {"columns: [{name: a, type: int}]\n", VEIL_E_INVALID,
	         "line 1, column 1: the schema has no 'version' key, which is required"},
	        {V1, VEIL_E_INVALID, "line 1, column 1: the schema has no 'columns' key"},
	        {V1 "classification: secret\n", VEIL_E_INVALID,
	         "line 2, column 17: unknown classification 'secret'"},
	        {COLS "  a: b\n", VEIL_E_INVALID, "line 3, column 3: columns must be a list, not a mapping"},
	        {V1 "columns: []\n", VEIL_E_INVALID, "line 2, column 10: columns lists no column"},
	        {COLS "  - name\n", VEIL_E_INVALID,
	         "line 3, column 5: each entry of columns must be a mapping"},
	        {COLS "  - type: int\n", VEIL_E_INVALID,
	         "line 3, column 5: a column has no 'name' key, which is required"},
	        {COLS "  - name: a\n", VEIL_E_INVALID, "line 3, column 5: a column has no 'type' key"},
	        {COLS "  - name: a\n    type: integer\n", VEIL_E_INVALID,
	         "line 4, column 11: unknown type 'integer'"},
	        {COLS "  - name: a\n    type: int\n    colour: red\n", VEIL_E_INVALID,
	         "line 5, column 5: unknown column key 'colour'"},
	        {COLS "  - name: a\n    type: int\n    type: int\n", VEIL_E_INVALID,
	         "line 5, column 5: column key 'type' appears twice"},
	        {COLS "  - {name: a, type: int}\n  - {name: a, type: float}\n", VEIL_E_INVALID,
	         "line 4, column 12: column name 'a' appears twice"},
	        {COLS "  - {name: '', type: int}\n", VEIL_E_INVALID,
	         "line 3, column 12: a column name is empty"},
	        {COLS "  - {name: \"a\\tb\", type: int}\n", VEIL_E_INVALID,
	         "line 3, column 12: column name 'a\tb' holds a control character"},
	        {COLS "  - {name: [a], type: int}\n", VEIL_E_INVALID,
	         "line 3, column 12: name must be a single value, not a list"},
	        {COLS "  - {name: a, type: int, nullable: yes}\n", VEIL_E_INVALID,
	         "line 3, column 36: nullable must be true or false"},
	        {COLS "  - {name: a, type: int, unique: \"true\"}\n", VEIL_E_INVALID,
	         "line 3, column 34: unique must be true or false"},
	        {COLS "  - {name: a, type: int, min: 1.5}\n", VEIL_E_INVALID,
	         "line 3, column 31: column 'a': min must be a whole number"},
	        {COLS "  - {name: a, type: int, max: +3}\n", VEIL_E_INVALID,
	         "line 3, column 31: column 'a': max must be"},
	        {COLS "  - {name: a, type: int, min: 007}\n", VEIL_E_INVALID,
	         "line 3, column 31: column 'a': min must be"},
	        {COLS "  - {name: a, type: int, min: 9223372036854775808}\n", VEIL_E_INVALID,
	         "line 3, column 31: column 'a': min must be"},
	        {COLS "  - {name: a, type: int, min: \"5\"}\n", VEIL_E_INVALID,
	         "line 3, column 31: column 'a': min must be a whole number (no '+', no leading zeros), not "
	         "quoted"},
	        {COLS "  - {name: a, type: float, max: .5}\n", VEIL_E_INVALID,
	         "line 3, column 33: column 'a': max must be a finite decimal number"},
	        {COLS "  - {name: a, type: float, max: inf}\n", VEIL_E_INVALID,
	         "line 3, column 33: column 'a': max must be"},
	        {COLS "  - {name: a, type: float, max: 1e999}\n", VEIL_E_INVALID,
	         "line 3, column 33: column 'a': max must be"},
	        {COLS "  - {name: a, type: int, min: 5, max: 4}\n", VEIL_E_INVALID,
	         "line 3, column 39: column 'a': max is below min"},
	        {COLS "  - {name: a, type: date, min: 2026-02-29}\n", VEIL_E_INVALID,
	         "line 3, column 32: column 'a': min must be a date written 2026-11-22"},
	        {COLS "  - {name: a, type: date, min: 2026-02-01T00:00:00Z}\n", VEIL_E_INVALID,
	         "line 3, column 32: column 'a': min must be a date"},
	        {COLS "  - {name: a, type: timestamp, max: 2026-02-01 10:00}\n", VEIL_E_INVALID,
	         "line 3, column 37: column 'a': max must be a time"},
	        {COLS "  - {name: a, type: string, min: 1}\n", VEIL_E_INVALID,
	         "line 3, column 34: column 'a': min and max apply to int, float, date and timestamp "
	         "columns, not "
	         "string"},
	        {COLS "  - {name: a, type: bool, allowed: [true]}\n", VEIL_E_INVALID,
	         "line 3, column 36: column 'a': allowed does not apply to bool columns"},
	        {COLS "  - {name: a, type: int, allowed: [1, x]}\n", VEIL_E_INVALID,
	         "line 3, column 39: column 'a': allowed value 'x' is not a whole number"},
	        {COLS "  - {name: a, type: float, allowed: [1, 1.0]}\n", VEIL_E_INVALID,
	         "line 3, column 41: column 'a': allowed value '1' is listed twice"},
	        {COLS "  - {name: a, type: float, allowed: [0, -0.0]}\n", VEIL_E_INVALID,
	         "line 3, column 41: column 'a': allowed value '0' is listed twice"},
	        {COLS "  - {name: a, type: category, allowed: []}\n", VEIL_E_INVALID,
	         "line 3, column 40: allowed lists no value"},
	        {COLS "  - {name: a, type: category, allowed: [[x]]}\n", VEIL_E_INVALID,
	         "line 3, column 41: each entry of allowed must be a single value, not a list"},
	        {COLS "  - {name: a, type: category, allowed: x}\n", VEIL_E_INVALID,
	         "line 3, column 40: allowed must be a list, not a single value"},
	        {COLS "  - {name: a, type: int, pattern: x}\n", VEIL_E_INVALID,
	         "line 3, column 35: column 'a': pattern applies to string and category columns, not int"},
	        {COLS "  - {name: a, type: string, pattern: 'a(b'}\n", VEIL_E_INVALID,
	         "line 3, column 38: column 'a': pattern is not a POSIX extended regular expression: "},
	        {COLS "  - {name: a, type: string, pattern: '[z-a]'}\n", VEIL_E_INVALID,
	         "line 3, column 38: column 'a': pattern is not a POSIX extended regular expression"},
	        {COLS "  - {name: a, type: string, pattern: '(a)\\1'}\n", VEIL_E_INVALID,
	         "line 3, column 38: column 'a': pattern uses a back-reference (\\1) at offset 3"},
	        {COLS "  - {name: a, type: string, pattern: ''}\n", VEIL_E_INVALID,
	         "line 3, column 38: column 'a': pattern is empty"},
	        {COLS "  - {name: a, type: string, pattern: '((a{50}){50})'}\n", VEIL_E_LIMIT,
	         "line 3, column 38: column 'a': pattern is too complex"},
	        {COLS "  - {name: a, type: string, pii: passport}\n", VEIL_E_INVALID,
	         "line 3, column 34: unknown PII class 'passport'"},
	        {COLS "  - {name: a, type: int, label: true}\n  - {name: b, type: int, label: true}\n",
	         VEIL_E_INVALID, "line 4, column 33: column 'b' is a second label; 'a' is the label"},
	        {COLS "  - &x {name: a, type: int}\n", VEIL_E_INVALID,
	         "line 3, column 5: anchors and tags are not allowed in a schema"},
	        {COLS "  - {name: a, type: !!str int}\n", VEIL_E_INVALID,
	         "line 3, column 21: anchors and tags are not allowed"},
	        {V1 "classification: &a public\n", VEIL_E_INVALID,
	         "line 2, column 17: anchors and tags are not allowed"},
	        {COLS "  - {name: a, type: int}\n  - *x\n", VEIL_E_INVALID,
	         "line 4, column 5: aliases are not allowed in a schema"},
	        {COLS "  - {name: \"a\\0b\", type: int}\n", VEIL_E_INVALID,
	         "line 3, column 12: a value holds a NUL character"},
	        {COLS "  - {name: a, type: int}\n---\nversion: 1\n", VEIL_E_INVALID,
	         "line 4, column 1: a schema is one YAML document"},
	        {COLS "  - {name: 'a, type: int}\n", VEIL_E_INVALID,
	         "line 4, column 1: found unexpected end of stream (while scanning a quoted scalar at line "
	         "3, "
	         "column 12)"},
	        {V1 "columns:\n\t- x\n", VEIL_E_INVALID,
	         "line 3, column 1: found character that cannot start"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		veil_schema *s = (veil_schema *)&s;
		veil_err e = {0};
		veil_status st = veil_schema_parse(cases[i].text, strlen(cases[i].text), &s, &e);
		if (st != cases[i].code || strncmp(e.msg, cases[i].msg, strlen(cases[i].msg)) != 0)
			fail_msg("case %zu: got %s \"%s\", want %s \"%s\"\n%s", i, veil_status_str(st), e.msg,
			         veil_status_str(cases[i].code), cases[i].msg, cases[i].text);
		assert_null(s);
		assert_int_equal(e.code, st);
	}
}

/* Equal, and of the same sign: the round trip must keep -0.0 apart from 0.0. */
static bool same_double(double a, double b)
{
	return a == b && signbit(a) == signbit(b);
}

/* Every field of two schemas, compared. */
static void assert_same(const veil_schema *a, const veil_schema *b)
{
	assert_int_equal(veil_schema_ncolumns(a), veil_schema_ncolumns(b));
	assert_int_equal(veil_schema_classification(a), veil_schema_classification(b));
	assert_int_equal(veil_schema_label(a), veil_schema_label(b));
	for (size_t i = 0; i < veil_schema_ncolumns(a); i++) {
		const veil_schema_column *x = veil_schema_column_at(a, i), *y = veil_schema_column_at(b, i);
		assert_string_equal(x->name, y->name);
		assert_int_equal(x->type, y->type);
		assert_true(x->nullable == y->nullable && x->unique == y->unique &&
		            x->quasi_identifier == y->quasi_identifier && x->label == y->label);
		assert_int_equal(x->pii, y->pii);
		assert_true(x->has_min == y->has_min && x->has_max == y->has_max);
		assert_true(x->min.i == y->min.i && x->max.i == y->max.i);
		assert_true(same_double(x->min.f, y->min.f) && same_double(x->max.f, y->max.f));
		assert_int_equal(x->nallowed, y->nallowed);
		for (size_t j = 0; j < x->nallowed; j++)
			assert_string_equal(x->allowed[j], y->allowed[j]);
		assert_true((x->pattern == NULL) == (y->pattern == NULL));
		if (x->pattern)
			assert_string_equal(x->pattern, y->pattern);
	}
}

/* write(s) parses back to s, and writing that gives the same bytes. */
static void round_trip(const veil_schema *s)
{
	veil_buf w1 = {0}, w2 = {0};
	veil_err e = {0};
	assert_int_equal(veil_schema_write(s, &w1, &e), VEIL_OK);
	veil_schema *back = NULL;
	if (veil_schema_parse((const char *)w1.data, w1.len, &back, &e) != VEIL_OK)
		fail_msg("written schema refused: %s\n%.*s", e.msg, (int)w1.len, (const char *)w1.data);
	assert_same(s, back);
	assert_int_equal(veil_schema_write(back, &w2, &e), VEIL_OK);
	assert_int_equal(w1.len, w2.len);
	assert_memory_equal(w1.data, w2.data, w1.len);
	veil_schema_free(back);
	veil_buf_free(&w1);
	veil_buf_free(&w2);
}

static void test_round_trip(void **state)
{
	(void)state;
	veil_schema *s = parse_ok(full);
	round_trip(s);
	veil_buf w = {0};
	veil_err e = {0};
	assert_int_equal(veil_schema_write(s, &w, &e), VEIL_OK);
	/* What the writer leaves out is a default; what it writes is spelled as documented. */
	static const char expect_start[] = "version: 1\n"
	                                   "classification: confidential\n"
	                                   "columns:\n"
	                                   "  - name: \"id\"\n"
	                                   "    type: int\n"
	                                   "    unique: true\n"
	                                   "    min: -5\n"
	                                   "    max: 9223372036854775807\n"
	                                   "  - name: \"score\"\n"
	                                   "    type: float\n"
	                                   "    nullable: true\n"
	                                   "    min: -1.5\n"
	                                   "    max: 2500\n"
	                                   "    allowed: [\"0.1\", \"1\", \"-0.002\"]\n"
	                                   "  - name: \"smoker\"\n"
	                                   "    type: bool\n";
	assert_true(w.len > sizeof expect_start);
	assert_memory_equal(w.data, expect_start, sizeof expect_start - 1);
	veil_buf_free(&w);
	veil_schema_free(s);
}

static void test_builder(void **state)
{
	(void)state;
	veil_schema *s = NULL;
	veil_err e = {0};
	assert_int_equal(veil_schema_new(&s, &e), VEIL_OK);
	veil_buf w = {0};
	assert_int_equal(veil_schema_write(s, &w, &e), VEIL_E_INVALID); /* no columns: nothing to write */
	assert_int_equal(w.len, 0);

	/* Strings that a plain YAML scalar could not carry: quotes, backslashes,
	 * line breaks, YAML indicators, C1 controls, U+2028, BOM, non-ASCII. */
	static const char *const odd[] = {"say \"hi\"",
	                                  "back\\slash",
	                                  "two\nlines",
	                                  "- not a list: x",
	                                  "#no",
	                                  "\xc2\x85next-line",
	                                  "\xe2\x80\xa8sep",
	                                  "\xef\xbb\xbf\x62om",
	                                  "caf\xc3\xa9 \xf0\x9f\x98\x80",
	                                  "  padded  ",
	                                  "true",
	                                  ""};
	veil_schema_column c = {.name = "weird \"name\"\x7f?",
	                        .type = VEIL_COL_CATEGORY,
	                        .nallowed = sizeof odd / sizeof odd[0],
	                        .allowed = odd,
	                        .pattern = "[^\\\\]*|.*\"",
	                        .pii = VEIL_PII_PERSON_NAME,
	                        .unique = true};
	assert_int_equal(veil_schema_add_column(s, &c, &e), VEIL_E_INVALID); /* DEL in a name */
	assert_string_equal(e.msg,
	                    "column name 'weird \"name\"\x7f?' holds a control character or is not UTF-8");
	c.name = "na\xc3\xafve \"name\"";
	assert_int_equal(veil_schema_add_column(s, &c, &e), VEIL_OK);

	veil_schema_column f = {.name = "x",
	                        .type = VEIL_COL_DOUBLE,
	                        .has_min = true,
	                        .min.f = 0.1,
	                        .has_max = true,
	                        .max.f = 1e300,
	                        .nullable = true};
	assert_int_equal(veil_schema_add_column(s, &f, &e), VEIL_OK);
	veil_schema_column d = {.name = "d",
	                        .type = VEIL_COL_DATE,
	                        .has_min = true,
	                        .min.i = -25567,
	                        .has_max = true,
	                        .max.i = 2932896 /* 9999-12-31 */,
	                        .quasi_identifier = true};
	assert_int_equal(veil_schema_add_column(s, &d, &e), VEIL_OK);
	veil_schema_column t = {
	        .name = "t", .type = VEIL_COL_TIMESTAMP, .has_min = true, .min.i = -1, .label = true};
	assert_int_equal(veil_schema_add_column(s, &t, &e), VEIL_OK);
	veil_schema_set_classification(s, VEIL_CLASS_RESTRICTED);
	assert_int_equal(veil_schema_ncolumns(s), 4);
	assert_int_equal(veil_schema_label(s), 3);
	round_trip(s);

	/* The builder's refusals: the reader's rules, without a position; s unchanged. */
	const struct {
		veil_schema_column c;
		veil_status code;
		const char *msg;
	} bad[] = {
	        {{.name = NULL}, VEIL_E_INVALID, "a column name is empty"},
	        {{.name = "x", .type = VEIL_COL_INT64}, VEIL_E_INVALID, "column name 'x' appears twice"},
	        {{.name = "y", .type = (veil_col_type)42},
	         VEIL_E_INVALID,
	         "column 'y': unknown type or PII class"},
	        {{.name = "y", .type = VEIL_COL_INT64, .label = true},
	         VEIL_E_INVALID,
	         "column 'y' is a second label; 't' is the label"},
	        {{.name = "y",
	          .type = VEIL_COL_INT64,
	          .has_min = true,
	          .min.i = 2,
	          .has_max = true,
	          .max.i = 1},
	         VEIL_E_INVALID,
	         "column 'y': max is below min"},
	        {{.name = "y", .type = VEIL_COL_DOUBLE, .has_max = true, .max.f = 1.0 / 0.0},
	         VEIL_E_INVALID,
	         "column 'y': min and max must be finite"},
	        {{.name = "y", .type = VEIL_COL_DATE, .has_min = true, .min.i = -400000},
	         VEIL_E_INVALID,
	         "column 'y': min must be in the years 1000 to 9999"},
	        {{.name = "y", .type = VEIL_COL_BOOL, .has_min = true},
	         VEIL_E_INVALID,
	         "column 'y': min and max apply to int, float, date and timestamp columns, not bool"},
	        {{.name = "y", .type = VEIL_COL_STRING, .pattern = "(("},
	         VEIL_E_INVALID,
	         "column 'y': pattern is not a POSIX extended regular expression: "},
	        {{.name = "y", .type = VEIL_COL_STRING, .pattern = "\xff"},
	         VEIL_E_INVALID,
	         "column 'y': pattern is not UTF-8"},
	        {{.name = "y",
	          .type = VEIL_COL_STRING,
	          .nallowed = 1,
	          .allowed = (const char *const[]){"\xc0\x80"}},
	         VEIL_E_INVALID,
	         "column 'y': an allowed value is not UTF-8"},
	        {{.name = "y",
	          .type = VEIL_COL_STRING,
	          .nallowed = 2,
	          .allowed = (const char *const[]){"a", "a"}},
	         VEIL_E_INVALID,
	         "column 'y': allowed value 'a' is listed twice"},
	        {{.name = "y", .type = VEIL_COL_STRING, .nallowed = 1},
	         VEIL_E_INVALID,
	         "column 'y': nallowed is set but allowed is NULL"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		veil_err be = {0};
		veil_status st = veil_schema_add_column(s, &bad[i].c, &be);
		if (st != bad[i].code || strncmp(be.msg, bad[i].msg, strlen(bad[i].msg)) != 0)
			fail_msg("builder case %zu: got %s \"%s\", want \"%s\"", i, veil_status_str(st),
			         be.msg, bad[i].msg);
		assert_int_equal(veil_schema_ncolumns(s), 4);
	}
	veil_schema_free(s);
}

static char *repeat_columns(size_t n)
{
	size_t cap = 32 + n * 40;
	char *t = malloc(cap);
	assert_non_null(t);
	size_t used = (size_t)snprintf(t, cap, "version: 1\ncolumns:\n");
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(t + used, cap - used, "  - {name: c%zu, type: int}\n", i);
	return t;
}

static void expect(const char *text, size_t len, veil_status code, const char *msg)
{
	veil_schema *s = NULL;
	veil_err e = {0};
	veil_status st = veil_schema_parse(text, len, &s, &e);
	if (st != code || strncmp(e.msg, msg, strlen(msg)) != 0)
		fail_msg("got %s \"%s\", want %s \"%s\"", veil_status_str(st), e.msg, veil_status_str(code),
		         msg);
	if (code == VEIL_OK)
		veil_schema_free(s);
}

static void test_limits(void **state)
{
	(void)state;
	char *t = repeat_columns(VEIL_SCHEMA_COLUMNS_MAX);
	expect(t, strlen(t), VEIL_OK, "");
	free(t);
	t = repeat_columns(VEIL_SCHEMA_COLUMNS_MAX + 1);
	expect(t, strlen(t), VEIL_E_LIMIT, "line 4099, column 5: more than 4096 columns");
	free(t);

	char name[VEIL_SCHEMA_NAME_MAX + 2];
	memset(name, 'n', sizeof name);
	name[VEIL_SCHEMA_NAME_MAX] = '\0';
	char text[2048];
	(void)snprintf(text, sizeof text, "version: 1\ncolumns: [{name: %s, type: int}]\n", name);
	expect(text, strlen(text), VEIL_OK, "");
	name[VEIL_SCHEMA_NAME_MAX] = 'n';
	name[VEIL_SCHEMA_NAME_MAX + 1] = '\0';
	(void)snprintf(text, sizeof text, "version: 1\ncolumns: [{name: %s, type: int}]\n", name);
	expect(text, strlen(text), VEIL_E_LIMIT, "line 2, column 18: name is longer than 128 bytes");

	size_t cap = 64 + (VEIL_SCHEMA_ALLOWED_MAX + 1) * 8;
	char *big = malloc(cap);
	assert_non_null(big);
	for (size_t n = VEIL_SCHEMA_ALLOWED_MAX; n <= VEIL_SCHEMA_ALLOWED_MAX + 1; n++) {
		size_t used =
		        (size_t)snprintf(big, cap, "version: 1\ncolumns: [{name: a, type: int, allowed: [");
		for (size_t i = 0; i < n; i++)
			used += (size_t)snprintf(big + used, cap - used, "%s%zu", i ? "," : "", i);
		(void)snprintf(big + used, cap - used, "]}]\n");
		expect(big, strlen(big), n == VEIL_SCHEMA_ALLOWED_MAX ? VEIL_OK : VEIL_E_LIMIT,
		       n == VEIL_SCHEMA_ALLOWED_MAX
		               ? ""
		               : "line 2, column 4052: allowed lists more than 1024 values");
	}
	free(big);

	char value[VEIL_SCHEMA_VALUE_MAX + 2];
	memset(value, 'v', sizeof value);
	value[VEIL_SCHEMA_VALUE_MAX + 1] = '\0';
	(void)snprintf(text, sizeof text, "version: 1\ncolumns: [{name: a, type: string, allowed: [%s]}]\n",
	               value);
	expect(text, strlen(text), VEIL_E_LIMIT,
	       "line 2, column 45: an allowed value is longer than 256 bytes");

	char pat[VEIL_SCHEMA_PATTERN_MAX + 2];
	memset(pat, 'p', sizeof pat);
	pat[VEIL_SCHEMA_PATTERN_MAX + 1] = '\0';
	(void)snprintf(text, sizeof text, "version: 1\ncolumns: [{name: a, type: string, pattern: %s}]\n",
	               pat);
	expect(text, strlen(text), VEIL_E_LIMIT, "line 2, column 44: pattern is longer than 512 bytes");
	pat[VEIL_SCHEMA_PATTERN_MAX] = '\0';
	(void)snprintf(text, sizeof text, "version: 1\ncolumns: [{name: a, type: string, pattern: %s}]\n",
	               pat);
	expect(text, strlen(text), VEIL_OK, "");
	/* Repeats are counted as regcomp would copy them out. */
	static const char small[] =
	        "version: 1\ncolumns: [{name: a, type: string, pattern: '(a{40}){40}'}]\n";
	expect(small, strlen(small), VEIL_OK, "");
	/* Repeated groups that can match nothing are counted with their copies:
	 * eight pass, ten do not; ((a|b)+){3} has none. */
	static const char eight[] = "version: 1\ncolumns: [{name: a, type: string, pattern: "
	                            "'(x*)*(x*)*(x*)*(x*)*(x*)*(x*)*(x*)*(x*)*'}]\n";
	expect(eight, strlen(eight), VEIL_OK, "");
	static const char nine[] = "version: 1\ncolumns: [{name: a, type: string, pattern: '((x*)*){5}'}]\n";
	expect(nine, strlen(nine), VEIL_E_LIMIT, "line 2, column 44: column 'a': pattern is too complex");
	static const char stacked[] = "version: 1\ncolumns: [{name: a, type: string, pattern: 'a**'}]\n";
	expect(stacked, strlen(stacked), VEIL_E_INVALID,
	       "line 2, column 44: column 'a': pattern has two repetition operators in a row at offset 2");
	static const char nested[] =
	        "version: 1\ncolumns: [{name: a, type: string, pattern: '((((((((((((((((("
	        "(((((((((((((((((a)))))))))))))))))))))))))))))))))'}]\n";
	expect(nested, strlen(nested), VEIL_E_LIMIT, "line 2, column 44: column 'a': pattern is too complex");

	/* Over the size bound: refused before parsing, whatever the text. */
	char *huge = malloc(VEIL_SCHEMA_MAX_BYTES + 1);
	assert_non_null(huge);
	memset(huge, ' ', VEIL_SCHEMA_MAX_BYTES + 1);
	expect(huge, VEIL_SCHEMA_MAX_BYTES + 1, VEIL_E_LIMIT, "the schema is larger than 1048576 bytes");
	free(huge);
}

static void test_pattern_match(void **state)
{
	(void)state;
	veil_schema *s = parse_ok("version: 1\ncolumns:\n"
	                          "  - {name: ssn, type: string, pattern: '9[0-9]{2}-[0-9]{2}-[0-9]{4}'}\n"
	                          "  - {name: alt, type: category, pattern: 'a|bc'}\n"
	                          "  - {name: n, type: int}\n");
	assert_true(veil_schema_pattern_match(s, 0, "900-12-3456", 11));
	/* The whole value must match, not a part of it. */
	assert_false(veil_schema_pattern_match(s, 0, "x900-12-3456", 12));
	assert_false(veil_schema_pattern_match(s, 0, "900-12-34567", 12));
	assert_false(veil_schema_pattern_match(s, 0, "800-12-3456", 11));
	/* The length bounds the value: no NUL needed, a longer buffer is not read. */
	assert_true(veil_schema_pattern_match(s, 0, "900-12-3456trailing", 11));
	/* An alternation is anchored as a whole: "abc" is neither a nor bc. */
	assert_true(veil_schema_pattern_match(s, 1, "a", 1));
	assert_true(veil_schema_pattern_match(s, 1, "bc", 2));
	assert_false(veil_schema_pattern_match(s, 1, "abc", 3));
	assert_false(veil_schema_pattern_match(s, 1, "", 0));
	assert_true(veil_schema_pattern_match(s, 2, "12", 2)); /* no pattern */
	veil_schema_free(s);
}

static void test_example_file(void **state)
{
	(void)state;
	const char *root = getenv("VEIL_SOURCE_ROOT");
	char path[4096];
	(void)snprintf(path, sizeof path, "%s/examples/patients.schema.yaml", root ? root : ".");
	veil_schema *s = NULL;
	veil_err e = {0};
	if (veil_schema_load(path, &s, &e) != VEIL_OK)
		fail_msg("%s", e.msg);
	assert_int_equal(veil_schema_classification(s), VEIL_CLASS_RESTRICTED);
	assert_int_equal(veil_schema_ncolumns(s), 17);
	ptrdiff_t label = veil_schema_label(s);
	assert_true(label >= 0);
	assert_string_equal(veil_schema_column_at(s, (size_t)label)->name, "cardiac_event");
	assert_int_equal(col(s, "ssn")->pii, VEIL_PII_SSN);
	assert_int_equal(col(s, "email")->pii, VEIL_PII_EMAIL);
	assert_true(col(s, "postal_code")->quasi_identifier);
	assert_true(veil_schema_pattern_match(s, (size_t)veil_schema_find(s, "ssn"), "912-34-5678", 11));
	assert_true(veil_schema_pattern_match(s, (size_t)veil_schema_find(s, "phone"), "212-555-0142", 12));
	round_trip(s);
	veil_schema_free(s);

	assert_int_equal(veil_schema_load("/nonexistent/x.yaml", &s, &e), VEIL_E_NOTFOUND);
	assert_null(s);
	assert_true(strncmp(e.msg, "/nonexistent/x.yaml: ", 21) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_every_key_and_type),
	        cmocka_unit_test(test_defaults_and_document_markers),
	        cmocka_unit_test(test_names),
	        cmocka_unit_test(test_errors),
	        cmocka_unit_test(test_round_trip),
	        cmocka_unit_test(test_builder),
	        cmocka_unit_test(test_limits),
	        cmocka_unit_test(test_pattern_match),
	        cmocka_unit_test(test_example_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
