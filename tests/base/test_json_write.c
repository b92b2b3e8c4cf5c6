/*
 * The streaming JSON writer (veil/json_write.h): exact bytes for every
 * kind of value, escapes, refusal of strings that are not UTF-8, sticky
 * errors, the nesting limit, doubles that read back to themselves through
 * strtod, and each misuse that veil_jw_finish reports. Output is also
 * parsed with jansson, an independent reader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "veil/json_write.h"

/* The writer's output as a C string (the buffer gets a NUL after it). */
static const char *text(veil_buf *b)
{
	assert_int_equal(veil_buf_append(b, "", 1, NULL), VEIL_OK);
	b->len--;
	return (const char *)b->data;
}

static void test_every_value(void **state)
{
	(void)state;
	veil_buf out = {0};
	veil_jw w;
	veil_jw_init(&w, &out);
	veil_jw_object(&w);
	veil_jw_kstr(&w, "s", "x");
	veil_jw_kint(&w, "i", INT64_MIN);
	veil_jw_kint(&w, "j", INT64_MAX);
	veil_jw_kuint(&w, "u", UINT64_MAX);
	veil_jw_kdouble(&w, "d", 0.1);
	veil_jw_kbool(&w, "t", true);
	veil_jw_kbool(&w, "f", false);
	veil_jw_key(&w, "n");
	veil_jw_null(&w);
	veil_jw_key(&w, "a");
	veil_jw_array(&w);
	veil_jw_int(&w, 1);
	veil_jw_object(&w);
	veil_jw_key(&w, "k");
	veil_jw_array(&w);
	veil_jw_end(&w);
	veil_jw_end(&w);
	veil_jw_str(&w, "z");
	veil_jw_uint(&w, 0);
	veil_jw_double(&w, -2.5);
	veil_jw_bool(&w, false);
	veil_jw_null(&w);
	veil_jw_end(&w);
	veil_jw_key(&w, "o");
	veil_jw_object(&w);
	veil_jw_end(&w);
	veil_jw_end(&w);
	veil_err err = {0};
	assert_int_equal(veil_jw_finish(&w, &err), VEIL_OK);
	assert_string_equal(text(&out),
	                    "{\"s\":\"x\",\"i\":-9223372036854775808,\"j\":9223372036854775807,"
	                    "\"u\":18446744073709551615,\"d\":0.1,\"t\":true,\"f\":false,\"n\":null,"
	                    "\"a\":[1,{\"k\":[]},\"z\",0,-2.5,false,null],\"o\":{}}");
	json_error_t jerr;
	/* jansson's integers are signed: UINT64_MAX reads as a real */
	json_t *j = json_loadb((const char *)out.data, out.len, JSON_DECODE_INT_AS_REAL, &jerr);
	assert_non_null(j);
	assert_true(json_number_value(json_object_get(j, "i")) == -0x1p63);
	assert_true(json_number_value(json_object_get(j, "u")) == 0x1p64);
	assert_int_equal(json_array_size(json_object_get(j, "a")), 7);
	json_decref(j);
	veil_buf_free(&out);
}

static void test_scalar_documents(void **state)
{
	(void)state;
	static const struct {
		int kind;
		const char *want;
	} cases[] = {{0, "\"\""}, {1, "0"}, {2, "[]"}, {3, "{}"}, {4, "null"}};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		veil_buf out = {0};
		veil_jw w;
		veil_jw_init(&w, &out);
		switch (cases[k].kind) {
		case 0:
			veil_jw_str(&w, "");
			break;
		case 1:
			veil_jw_int(&w, 0);
			break;
		case 2:
			veil_jw_array(&w);
			veil_jw_end(&w);
			break;
		case 3:
			veil_jw_object(&w);
			veil_jw_end(&w);
			break;
		default:
			veil_jw_null(&w);
		}
		assert_int_equal(veil_jw_finish(&w, NULL), VEIL_OK);
		assert_string_equal(text(&out), cases[k].want);
		veil_buf_free(&out);
	}
}

static void test_escapes(void **state)
{
	(void)state;
	const char in[] = "q\"b\\n\nr\rt\tc\x01\x1f\x7f e\xc3\xa9 \xf0\x9f\x98\x80 /";
	veil_buf out = {0};
	veil_jw w;
	veil_jw_init(&w, &out);
	veil_jw_array(&w);
	veil_jw_str(&w, in);
	veil_jw_strn(&w, "a\0b", 3); /* a NUL inside is a control character like the others */
	veil_jw_end(&w);
	assert_int_equal(veil_jw_finish(&w, NULL), VEIL_OK);
	assert_string_equal(text(&out),
	                    "[\"q\\\"b\\\\n\\nr\\rt\\tc\\u0001\\u001f\x7f e\xc3\xa9 \xf0\x9f\x98\x80 /\","
	                    "\"a\\u0000b\"]");
	json_error_t jerr;
	json_t *j = json_loadb((const char *)out.data, out.len, JSON_ALLOW_NUL, &jerr);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_array_get(j, 0)), in);
	assert_int_equal(json_string_length(json_array_get(j, 1)), 3);
	assert_memory_equal(json_string_value(json_array_get(j, 1)), "a\0b", 3);
	json_decref(j);
	veil_buf_free(&out);
	/* keys are escaped the same way */
	veil_jw_init(&w, &out);
	veil_jw_object(&w);
	veil_jw_kint(&w, "k\"\n", 1);
	veil_jw_end(&w);
	assert_int_equal(veil_jw_finish(&w, NULL), VEIL_OK);
	assert_string_equal(text(&out), "{\"k\\\"\\n\":1}");
	veil_buf_free(&out);
}

static void test_utf8_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
	        "\xff",             /* never in UTF-8 */
	        "a\xc3",            /* cut short */
	        "\xc0\xaf",         /* overlong '/' */
	        "\xe0\x80\xaf",     /* overlong, three bytes */
	        "\xed\xa0\x80",     /* a surrogate */
	        "\xf4\x90\x80\x80", /* above U+10FFFF */
	        "\x80",             /* a lone continuation byte */
	};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		for (int as_key = 0; as_key < 2; as_key++) {
			veil_buf out = {0};
			veil_jw w;
			veil_jw_init(&w, &out);
			veil_jw_object(&w);
			if (as_key) {
				veil_jw_kint(&w, bad[k], 1);
			} else {
				veil_jw_key(&w, "k");
				veil_jw_str(&w, bad[k]);
			}
			veil_jw_end(&w);
			veil_err err = {0};
			assert_int_equal(veil_jw_finish(&w, &err), VEIL_E_INVALID);
			assert_non_null(strstr(err.msg, "UTF-8"));
			assert_null(memchr(out.data, 0xff, out.len)); /* no byte of the bad string went out */
			veil_buf_free(&out);
		}
	}
}

static void test_sticky_errors(void **state)
{
	(void)state;
	veil_buf out = {0};
	veil_jw w;
	veil_jw_init(&w, &out);
	veil_jw_array(&w);
	veil_jw_int(&w, 1);
	veil_jw_str(&w, "\xff"); /* fails after the comma went out: the output is no document now */
	size_t len = out.len;
	veil_jw_int(&w, 2); /* nothing more is written */
	veil_jw_object(&w);
	veil_jw_key(&w, "x"); /* another misuse: the first error stays */
	veil_jw_end(&w);
	veil_jw_end(&w);
	assert_int_equal(out.len, len);
	assert_string_equal(text(&out), "[1,");
	veil_err err = {0};
	assert_int_equal(veil_jw_finish(&w, &err), VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "UTF-8"));
	assert_int_equal(veil_jw_finish(&w, &err), VEIL_E_INVALID); /* and again */
	assert_non_null(strstr(err.msg, "UTF-8"));
	veil_buf_free(&out);
}

static void test_nesting(void **state)
{
	(void)state;
	veil_buf out = {0};
	veil_jw w;
	veil_jw_init(&w, &out);
	for (int d = 0; d < VEIL_JW_DEPTH_MAX; d++)
		veil_jw_array(&w);
	for (int d = 0; d < VEIL_JW_DEPTH_MAX; d++)
		veil_jw_end(&w);
	assert_int_equal(veil_jw_finish(&w, NULL), VEIL_OK);
	assert_int_equal(out.len, 2 * VEIL_JW_DEPTH_MAX);
	veil_buf_free(&out);
	veil_jw_init(&w, &out);
	for (int d = 0; d < VEIL_JW_DEPTH_MAX; d++) {
		veil_jw_object(&w);
		veil_jw_key(&w, "k");
	}
	veil_jw_array(&w); /* one too deep */
	veil_err err = {0};
	assert_int_equal(veil_jw_finish(&w, &err), VEIL_E_LIMIT);
	assert_non_null(strstr(err.msg, "nesting"));
	veil_buf_free(&out);
}

static void check_double(double v)
{
	veil_buf out = {0};
	veil_jw w;
	veil_jw_init(&w, &out);
	veil_jw_double(&w, v);
	assert_int_equal(veil_jw_finish(&w, NULL), VEIL_OK);
	const char *s = text(&out);
	char *end = NULL;
	double back = strtod(s, &end);
	assert_true(end && *end == '\0');
	uint64_t a, b; /* bit for bit: -0 must read back as -0 */
	memcpy(&a, &back, sizeof a);
	memcpy(&b, &v, sizeof b);
	if (a != b)
		fail_msg("%.17g written as %s reads back as %.17g", v, s, back);
	json_error_t jerr;
	json_t *j = json_loadb(s, out.len, JSON_DECODE_ANY, &jerr);
	assert_non_null(j);
	assert_true(json_number_value(j) == v);
	json_decref(j);
	veil_buf_free(&out);
}

static void test_doubles(void **state)
{
	(void)state;
	static const double fixed[] = {0.1,
	                               1.0 / 3,
	                               2.5,
	                               -0.0,
	                               0.0,
	                               1e21,
	                               1e-300,
	                               5e-324,
	                               DBL_MIN,
	                               DBL_MAX,
	                               -DBL_MAX,
	                               123456789012345678.0,
	                               9007199254740993.0,
	                               1e15 + 0.3};
	for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++)
		check_double(fixed[k]);
	uint64_t s = 0x243f6a8885a308d3ull;
	for (int k = 0; k < 20000; k++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		double v;
		memcpy(&v, &s, sizeof v);
		if (isfinite(v))
			check_double(v);
	}
	/* the shortest text that reads back: 0.1 rather than 0.10000000000000001 */
	veil_buf out = {0};
	veil_jw w;
	veil_jw_init(&w, &out);
	veil_jw_array(&w);
	veil_jw_double(&w, 0.1);
	veil_jw_double(&w, 100);
	veil_jw_double(&w, NAN);
	veil_jw_double(&w, INFINITY);
	veil_jw_double(&w, -INFINITY);
	veil_jw_end(&w);
	assert_int_equal(veil_jw_finish(&w, NULL), VEIL_OK);
	assert_string_equal(text(&out), "[0.1,100,null,null,null]");
	veil_buf_free(&out);
}

enum misuse {
	NOTHING,
	OPEN,
	KEY_NO_VALUE,
	VALUE_NO_KEY,
	KEY_IN_ARRAY,
	KEY_AT_TOP,
	END_NOTHING,
	TWO_VALUES,
	END_AFTER_KEY,
	KEY_AFTER_KEY
};

static void test_finish_errors(void **state)
{
	(void)state;
	static const struct {
		enum misuse m;
		const char *msg;
	} cases[] = {
	        {NOTHING, "nothing was written"},
	        {OPEN, "still open"},
	        {KEY_NO_VALUE, "a key has no value"},
	        {VALUE_NO_KEY, "needs a key"},
	        {KEY_IN_ARRAY, "a key outside an object"},
	        {KEY_AT_TOP, "a key outside an object"},
	        {END_NOTHING, "nothing open"},
	        {TWO_VALUES, "one value"},
	        {END_AFTER_KEY, "a key has no value"},
	        {KEY_AFTER_KEY, "a key has no value"},
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		veil_buf out = {0};
		veil_jw w;
		veil_jw_init(&w, &out);
		switch (cases[k].m) {
		case NOTHING:
			break;
		case OPEN:
			veil_jw_array(&w);
			veil_jw_object(&w);
			veil_jw_end(&w);
			break;
		case KEY_NO_VALUE:
			veil_jw_object(&w);
			veil_jw_key(&w, "k");
			break;
		case VALUE_NO_KEY:
			veil_jw_object(&w);
			veil_jw_int(&w, 1);
			veil_jw_end(&w);
			break;
		case KEY_IN_ARRAY:
			veil_jw_array(&w);
			veil_jw_key(&w, "k");
			veil_jw_int(&w, 1);
			veil_jw_end(&w);
			break;
		case KEY_AT_TOP:
			veil_jw_key(&w, "k");
			break;
		case END_NOTHING:
			veil_jw_end(&w);
			break;
		case TWO_VALUES:
			veil_jw_int(&w, 1);
			veil_jw_int(&w, 2);
			break;
		case END_AFTER_KEY:
			veil_jw_object(&w);
			veil_jw_key(&w, "k");
			veil_jw_end(&w);
			break;
		case KEY_AFTER_KEY:
			veil_jw_object(&w);
			veil_jw_key(&w, "k");
			veil_jw_key(&w, "l");
			break;
		}
		veil_err err = {0};
		assert_int_equal(veil_jw_finish(&w, &err), VEIL_E_INVALID);
		if (!strstr(err.msg, cases[k].msg))
			fail_msg("case %zu: '%s'", k, err.msg);
		assert_int_equal(veil_jw_finish(&w, NULL), VEIL_E_INVALID); /* err may be NULL */
		veil_buf_free(&out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_every_value),   cmocka_unit_test(test_scalar_documents),
	        cmocka_unit_test(test_escapes),       cmocka_unit_test(test_utf8_refused),
	        cmocka_unit_test(test_sticky_errors), cmocka_unit_test(test_nesting),
	        cmocka_unit_test(test_doubles),       cmocka_unit_test(test_finish_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
