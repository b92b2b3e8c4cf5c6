/* Unit tests for model files and metrics (veil/learn_model.h,
 * veil/learn_metrics.h, docs/formats/model.md):
 *  - safetensors known answers: the byte vectors of Hugging Face's own
 *    serializer tests (safetensors/src/tensor.rs: test_serialization,
 *    test_empty, test_serialization_forced_alignement) come out of
 *    veil_st_write byte for byte, and its doc example (an I32 file) is
 *    valid but refused as unsupported;
 *  - round trips (ranks 0 to 4, empty tensors, transposed writes, metadata
 *    with escapes), and headers in any member order and spacing;
 *  - every refusal of the header rules, table-driven, with its status and
 *    message;
 *  - veil model files of every kind: round trip, PyTorch's [out, in]
 *    layout, the manifest, and each kind of mismatch or tampering;
 *  - the manifest's columns (features, label, classes) read back as
 *    written, and every refusal of their reader, with the result zeroed;
 *  - metrics against scikit-learn's documentation examples and hand
 *    computation (AUC with ties, zero division, clipping), and of models
 *    whose weights are set by hand.
 *
 * With arguments the binary is the C side of the Python compatibility test
 * (safetensors_check.py): `st-write PATH`, `st-read PATH`, `model-write
 * PATH`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "veil/json_write.h"
#include "veil/learn_data.h"
#include "veil/learn_model.h"

/* ---- helpers ---- */

/* A safetensors file with this header text (its length taken with
 * strlen) and data_len bytes of data, each byte its offset mod 251. */
static uint8_t *mk(const char *json, size_t data_len, size_t *len)
{
	size_t n = strlen(json);
	uint8_t *b = malloc(8 + n + data_len + 1);
	assert_non_null(b);
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)((uint64_t)n >> (8 * i));
	memcpy(b + 8, json, n + 1); /* the NUL lands where the data starts, and is overwritten */
	for (size_t i = 0; i < data_len; i++)
		b[8 + n + i] = (uint8_t)(i % 251);
	*len = 8 + n + data_len;
	return b;
}

static void assert_zeroed_file(const veil_st_file *f)
{
	veil_st_file z;
	memset(&z, 0, sizeof z);
	assert_memory_equal(f, &z, sizeof z);
}

static void assert_msg(const veil_err *err, const char *part)
{
	if (!strstr(err->msg, part))
		fail_msg("message \"%s\" lacks \"%s\"", err->msg, part);
}

static veil_model_spec spec_of(veil_model_kind kind, size_t inputs, size_t classes, const size_t *hidden,
                               size_t n_hidden, veil_activation act)
{
	veil_model_spec s;
	veil_model_spec_defaults(&s);
	s.kind = kind;
	s.inputs = inputs;
	s.classes = classes;
	s.n_hidden = n_hidden;
	for (size_t i = 0; i < n_hidden; i++)
		s.hidden[i] = hidden[i];
	s.activation = act;
	return s;
}

static const char HASH_A[] = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
static const char HASH_B[] = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

/* A manifest for m with made-up names; appends to out. */
static veil_status manifest_for(const veil_model *m, veil_buf *out, veil_err *err)
{
	const veil_model_spec *s = veil_model_get_spec(m);
	static const char *const feats[] = {"age", "bmi", "bp", "glucose", "f4", "f5", "f6", "f7"};
	static const char *const classes[] = {"no", "yes", "maybe", "c3", "c4"};
	static const char *const lineage[] = {"patients@1", "pipeline pseudonymise", "patients-features@2"};
	static const double orders[] = {1.5, 2, 32, INFINITY};
	assert_true(s->inputs <= 8 && s->classes <= 5);
	veil_manifest_dataset ds = {"patients-features", 2, HASH_A, lineage, 3};
	veil_manifest_privacy pv = {3.0, 1e-5, 1.1, 1.0, 0.01, 1200, orders, 4};
	veil_manifest in = {
	        .features = feats,
	        .n_features = s->inputs,
	        .label = "outcome",
	        .class_labels = classes,
	        .n_classes = s->classes,
	        .privacy = &pv,
	        .datasets = &ds,
	        .n_datasets = 1,
	        .job_name = "job-1",
	        .job_sha256 = HASH_B,
	        .measurement = "00ff",
	        .created = 1795000000,
	        .veil_version = "0.1.0",
	};
	return veil_modelfile_manifest(m, &in, out, err);
}

/* A NUL-terminated copy of a buffer's bytes. */
static char *text_of(const veil_buf *b)
{
	char *s = malloc(b->len + 1);
	assert_non_null(s);
	memcpy(s, b->data, b->len);
	s[b->len] = '\0';
	return s;
}

/* ---- safetensors: known answers ---- */

static void put_floats_le(uint8_t *q, const float *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t u;
		memcpy(&u, &v[i], 4);
		for (int k = 0; k < 4; k++)
			q[4 * i + (size_t)k] = (uint8_t)(u >> (8 * k));
	}
}

/* tensor.rs test_serialization: "attn.0", F32, [1, 2, 3], 0..5. */
static void test_st_hf_vector(void **state)
{
	(void)state;
	static const char hdr[] =
	        "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}";
	static const float v[] = {0, 1, 2, 3, 4, 5};
	uint8_t want[8 + 64 + 24] = {64};
	assert_int_equal(strlen(hdr), 64);
	memcpy(want + 8, hdr, sizeof hdr - 1);
	put_floats_le(want + 72, v, 6);
	/* spot-check against the vector's literal bytes: 1.0f is 00 00 80 3f */
	assert_int_equal(want[76], 0);
	assert_int_equal(want[78], 128);
	assert_int_equal(want[79], 63);
	veil_st_entry e = {.name = "attn.0", .rank = 3, .shape = {1, 2, 3}, .data = v};
	veil_buf out = {0};
	veil_err err = {0};
	assert_int_equal(veil_st_write(&e, 1, NULL, 0, &out, &err), VEIL_OK);
	assert_int_equal(out.len, sizeof want);
	assert_memory_equal(out.data, want, sizeof want);

	veil_st_file f;
	assert_int_equal(veil_st_parse(out.data, out.len, &f, &err), VEIL_OK);
	assert_int_equal(f.n_tensors, 1);
	assert_string_equal(f.tensors[0].name, "attn.0");
	assert_int_equal(f.tensors[0].rank, 3);
	assert_int_equal(f.tensors[0].count, 6);
	for (size_t i = 0; i < 6; i++)
		assert_true(veil_st_f32(&f.tensors[0], i) == v[i]);
	assert_false(f.has_meta);
	veil_st_free(&f);
	veil_buf_free(&out);
}

/* tensor.rs test_serialization_forced_alignement: "attn0", [1, 1, 2, 3]:
 * a 65-byte header padded with 7 spaces to 72. */
static void test_st_hf_alignment(void **state)
{
	(void)state;
	static const char hdr[] =
	        "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ";
	static const float v[] = {0, 1, 2, 3, 4, 5};
	assert_int_equal(strlen(hdr), 72);
	veil_st_entry e = {.name = "attn0", .rank = 4, .shape = {1, 1, 2, 3}, .data = v};
	veil_buf out = {0};
	veil_err err = {0};
	assert_int_equal(veil_st_write(&e, 1, NULL, 0, &out, &err), VEIL_OK);
	assert_int_equal(out.len, 8 + 72 + 24);
	assert_int_equal(out.data[0], 72);
	assert_memory_equal(out.data + 8, hdr, 72);
	veil_buf_free(&out);
}

/* tensor.rs test_empty: no tensors, then metadata {"framework": "pt"}. */
static void test_st_hf_empty(void **state)
{
	(void)state;
	static const uint8_t want0[] = {8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '};
	static const char hdr1[] = "{\"__metadata__\":{\"framework\":\"pt\"}}     ";
	veil_buf out = {0};
	veil_err err = {0};
	assert_int_equal(veil_st_write(NULL, 0, NULL, 0, &out, &err), VEIL_OK);
	assert_int_equal(out.len, sizeof want0);
	assert_memory_equal(out.data, want0, sizeof want0);
	veil_st_file f;
	assert_int_equal(veil_st_parse(out.data, out.len, &f, &err), VEIL_OK);
	assert_int_equal(f.n_tensors, 0);
	assert_int_equal(f.data_len, 0);
	veil_st_free(&f);

	out.len = 0;
	veil_st_kv kv = {"framework", "pt"};
	assert_int_equal(veil_st_write(NULL, 0, &kv, 1, &out, &err), VEIL_OK);
	assert_int_equal(out.len, 8 + 40);
	assert_int_equal(out.data[0], 40);
	assert_memory_equal(out.data + 8, hdr1, 40);
	assert_int_equal(veil_st_parse(out.data, out.len, &f, &err), VEIL_OK);
	assert_true(f.has_meta);
	assert_string_equal(veil_st_meta_get(&f, "framework"), "pt");
	assert_null(veil_st_meta_get(&f, "format"));
	veil_st_free(&f);
	veil_buf_free(&out);
}

/* The doc example of SafeTensors::deserialize: a valid I32 file, which
 * veil refuses as unsupported rather than malformed. */
static void test_st_hf_i32_unsupported(void **state)
{
	(void)state;
	size_t len;
	uint8_t *b = mk("{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16, &len);
	assert_int_equal(b[0], 60);
	veil_st_file f;
	veil_err err = {0};
	assert_int_equal(veil_st_parse(b, len, &f, &err), VEIL_E_UNSUPPORTED);
	assert_msg(&err, "tensor 'test' is I32; veil reads F32 tensors only");
	assert_true(err.hint[0] != '\0');
	assert_zeroed_file(&f);
	free(b);
}

/* ---- safetensors: round trips and accepted spellings ---- */

static void test_st_round_trip(void **state)
{
	(void)state;
	float a[24], m23[6] = {1, 2, 3, 4, 5, 6}, scalar = -42.25f,
	             big[] = {3.4028235e38f, -0.0f, 1e-45f, 0.1f};
	for (int i = 0; i < 24; i++)
		a[i] = (float)i * 0.5f - 3;
	veil_st_entry e[] = {
	        {.name = "a.rank4", .rank = 4, .shape = {1, 2, 3, 4}, .data = a},
	        {.name = "scalar", .rank = 0, .data = &scalar},
	        {.name = "empty", .rank = 2, .shape = {0, 5}, .data = NULL},
	        {.name = "t", .rank = 2, .shape = {3, 2}, .data = m23, .transpose = true},
	        {.name = "caf\xc3\xa9 \"q\"", .rank = 1, .shape = {4}, .data = big},
	};
	veil_st_kv kv[] = {{"k\n1", "line\nbreak \"quoted\" back\\slash caf\xc3\xa9"}, {"empty", ""}};
	veil_buf out = {0};
	veil_err err = {0};
	assert_int_equal(veil_st_write(e, 5, kv, 2, &out, &err), VEIL_OK);
	uint64_t n = 0;
	for (int i = 7; i >= 0; i--)
		n = n << 8 | out.data[i];
	assert_int_equal(n % 8, 0);
	assert_int_equal(out.len, 8 + n + 4 * (24 + 1 + 0 + 6 + 4));

	veil_st_file f;
	assert_int_equal(veil_st_parse(out.data, out.len, &f, &err), VEIL_OK);
	assert_int_equal(f.n_tensors, 5);
	/* data order is write order; the empty tensor sits at 100..100 before
	 * "t" at 100..124 */
	assert_string_equal(f.tensors[0].name, "a.rank4");
	assert_string_equal(f.tensors[1].name, "scalar");
	assert_string_equal(f.tensors[2].name, "empty");
	assert_string_equal(f.tensors[3].name, "t");
	assert_string_equal(f.tensors[4].name, "caf\xc3\xa9 \"q\"");
	assert_int_equal(f.tensors[0].count, 24);
	for (size_t i = 0; i < 24; i++)
		assert_true(veil_st_f32(&f.tensors[0], i) == a[i]);
	assert_int_equal(f.tensors[1].rank, 0);
	assert_int_equal(f.tensors[1].count, 1);
	assert_true(veil_st_f32(&f.tensors[1], 0) == scalar);
	assert_int_equal(f.tensors[2].count, 0);
	assert_int_equal(f.tensors[2].begin, f.tensors[2].end);
	assert_int_equal(f.tensors[2].shape[1], 5);
	/* the transpose of the 2x3 matrix [[1,2,3],[4,5,6]] */
	static const float tr[] = {1, 4, 2, 5, 3, 6};
	assert_int_equal(f.tensors[3].shape[0], 3);
	assert_int_equal(f.tensors[3].shape[1], 2);
	for (size_t i = 0; i < 6; i++)
		assert_true(veil_st_f32(&f.tensors[3], i) == tr[i]);
	for (size_t i = 0; i < 4; i++) {
		float got = veil_st_f32(&f.tensors[4], i);
		assert_memory_equal(&got, &big[i], 4); /* -0.0 and the subnormal too */
	}
	assert_int_equal(f.n_meta, 2);
	assert_string_equal(f.meta[0].key, "k\n1");
	assert_string_equal(veil_st_meta_get(&f, "k\n1"), kv[0].value);
	assert_int_equal(f.meta[0].value_len, strlen(kv[0].value));
	assert_string_equal(veil_st_meta_get(&f, "empty"), "");
	assert_non_null(veil_st_find(&f, "t"));
	assert_null(veil_st_find(&f, "T"));
	veil_st_free(&f);
	veil_st_free(&f); /* twice is harmless */
	veil_buf_free(&out);
}

/* What other writers may produce: any member order, whitespace, escapes
 * (a surrogate pair, \/), empty metadata, a header padded with spaces. */
static void test_st_accepts(void **state)
{
	(void)state;
	size_t len;
	uint8_t *b = mk(
	        "{ \"b\" : { \"data_offsets\" : [ 4 , 8 ] , \"shape\" : [ 1 ] , \"dtype\" : \"F32\" } ,\n"
	        "\t\"a\\/\\u00e9\\ud83d\\ude00\":{\"shape\":[],\"dtype\":\"F32\",\"data_offsets\":[0,4]},\r\n"
	        "\"__metadata__\":{}, \"z\":{\"dtype\":\"F32\",\"shape\":[2,0],\"data_offsets\":[8,8]}}   ",
	        8, &len);
	veil_st_file f;
	veil_err err = {0};
	assert_int_equal(veil_st_parse(b, len, &f, &err), VEIL_OK);
	assert_int_equal(f.n_tensors, 3);
	assert_string_equal(f.tensors[0].name, "a/\xc3\xa9\xf0\x9f\x98\x80");
	assert_string_equal(f.tensors[1].name, "b");
	assert_string_equal(f.tensors[2].name, "z");
	assert_true(f.has_meta);
	assert_int_equal(f.n_meta, 0);
	/* the data bytes are offset mod 251: tensor b starts at data byte 4 */
	assert_ptr_equal(f.tensors[1].data, b + len - 4);
	assert_int_equal(f.tensors[1].data[0], 4);
	veil_st_free(&f);
	free(b);
}

/* ---- safetensors: refusals ---- */

typedef struct bad_case {
	const char *what;
	const char *json;
	size_t data;
	veil_status st;
	const char *msg;
} bad_case;

#define T(name, off)       "\"" name "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[" off "]}"
#define T2(name, shp, off) "\"" name "\":{\"dtype\":\"F32\",\"shape\":[" shp "],\"data_offsets\":[" off "]}"

static const bad_case bad[] = {
        /* JSON */
        {"trailing comma", "{" T("a", "0,4") ",}", 4, VEIL_E_INVALID, "offset 54: expected a member name"},
        {"unterminated", "{\"a\":", 0, VEIL_E_INVALID, "the text ends where '{'"},
        {"unterminated string", "{\"a", 0, VEIL_E_INVALID, "ends inside a string"},
        {"garbage after", "{} x", 0, VEIL_E_INVALID, "offset 3: something other than whitespace"},
        {"two objects", "{}{}", 0, VEIL_E_INVALID, "something other than whitespace"},
        {"leading space", " {}", 0, VEIL_E_INVALID, "must start with '{'"},
        {"empty header", "", 0, VEIL_E_INVALID, "must start with '{'"},
        {"top-level array", "[]", 0, VEIL_E_INVALID, "must start with '{'"},
        {"not UTF-8", "{\"__metadata__\":{\"k\":\"\xff\"}}", 0, VEIL_E_INVALID, "offset 22: not UTF-8"},
        {"overlong UTF-8", "{\"__metadata__\":{\"k\":\"\xc0\xaf\"}}", 0, VEIL_E_INVALID, "not UTF-8"},
        {"UTF-8 surrogate", "{\"__metadata__\":{\"k\":\"\xed\xa0\x80\"}}", 0, VEIL_E_INVALID, "not UTF-8"},
        {"bad escape", "{\"__metadata__\":{\"k\":\"\\q\"}}", 0, VEIL_E_INVALID, "an unknown escape"},
        {"short \\u", "{\"__metadata__\":{\"k\":\"\\u12\"}}", 0, VEIL_E_INVALID, "four hex digits"},
        {"lone high surrogate", "{\"__metadata__\":{\"k\":\"\\ud800\"}}", 0, VEIL_E_INVALID,
         "high surrogate"},
        {"lone low surrogate", "{\"__metadata__\":{\"k\":\"\\udc00\"}}", 0, VEIL_E_INVALID, "low surrogate"},
        {"escaped NUL", "{\"__metadata__\":{\"k\\u0000\":\"v\"}}", 0, VEIL_E_INVALID, "U+0000"},
        {"raw tab in string", "{\"__metadata__\":{\"k\":\"a\tb\"}}", 0, VEIL_E_INVALID, "control character"},
        {"single quotes", "{'a':1}", 0, VEIL_E_INVALID, "expected a member name"},
        {"missing colon", "{\"__metadata__\" {}}", 0, VEIL_E_INVALID, "expected ':'"},
        /* structure */
        {"tensor not an object", "{\"a\":[1]}", 0, VEIL_E_INVALID, "a tensor is an object"},
        {"shape not an array", "{\"a\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", 4,
         VEIL_E_INVALID, "a shape is an array"},
        {"negative offset", "{" T("a", "-4,0") "}", 0, VEIL_E_INVALID, "without sign, fraction or exponent"},
        {"fractional offset", "{" T("a", "0.0,4") "}", 4, VEIL_E_INVALID,
         "without sign, fraction or exponent"},
        {"exponent offset", "{" T("a", "0,4e0") "}", 4, VEIL_E_INVALID, "without sign, fraction or exponent"},
        {"leading zero", "{" T("a", "00,4") "}", 4, VEIL_E_INVALID, "expected a non-negative integer"},
        {"offset above 2^64", "{" T("a", "0,18446744073709551616") "}", 4, VEIL_E_INVALID, "above 2^64 - 1"},
        {"string offset", "{" T("a", "\"0\",4") "}", 4, VEIL_E_INVALID, "expected a non-negative integer"},
        {"three offsets", "{" T("a", "0,4,8") "}", 4, VEIL_E_INVALID, "']' (data_offsets"},
        {"one offset", "{" T("a", "0") "}", 4, VEIL_E_INVALID, "',' (data_offsets"},
        {"unknown dtype", "{\"a\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
         VEIL_E_INVALID, "offset 14: an unknown dtype"},
        {"lower-case dtype", "{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
         VEIL_E_INVALID, "an unknown dtype"},
        {"long dtype", "{\"a\":{\"dtype\":\"F32F32F32F32F32F32F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
         4, VEIL_E_INVALID, "an unknown dtype"},
        {"dtype twice", "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
         4, VEIL_E_INVALID, "a tensor member given twice"},
        {"unknown member", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"offsets\":[0,4]}}", 4, VEIL_E_INVALID,
         "other than dtype, shape and data_offsets"},
        {"no data_offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, VEIL_E_INVALID,
         "a tensor without data_offsets"},
        {"no dtype", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, VEIL_E_INVALID,
         "a tensor without dtype"},
        {"rank 9", "{" T2("a", "1,1,1,1,1,1,1,1,1", "0,4") "}", 4, VEIL_E_LIMIT, "more than 8 dimensions"},
        {"metadata not an object", "{\"__metadata__\":[]}", 0, VEIL_E_INVALID, "__metadata__ is an object"},
        {"metadata value a number", "{\"__metadata__\":{\"k\":1}}", 0, VEIL_E_INVALID, "not a string"},
        {"metadata value null", "{\"__metadata__\":{\"k\":null}}", 0, VEIL_E_INVALID, "not a string"},
        {"metadata null", "{\"__metadata__\":null}", 0, VEIL_E_INVALID, "__metadata__ is an object"},
        /* duplicates */
        {"duplicate tensor", "{" T("a", "0,4") "," T("a", "4,8") "}", 8, VEIL_E_INVALID,
         "tensor 'a' is named twice"},
        {"duplicate tensor by escape", "{" T("a", "0,4") "," T("\\u0061", "4,8") "}", 8, VEIL_E_INVALID,
         "tensor 'a' is named twice"},
        {"duplicate metadata key", "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, VEIL_E_INVALID,
         "__metadata__ key 'k' is given twice"},
        {"__metadata__ twice", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, VEIL_E_INVALID,
         "__metadata__ given twice"},
        /* the data buffer */
        {"overlap", "{" T2("a", "2", "0,8") "," T("b", "4,8") "}", 8, VEIL_E_INVALID,
         "tensor 'b' overlaps the tensor before it"},
        {"same range", "{" T("a", "0,4") "," T("b", "0,4") "}", 4, VEIL_E_INVALID, "overlaps"},
        {"hole between", "{" T("a", "0,4") "," T("b", "8,12") "}", 12, VEIL_E_INVALID,
         "4 bytes of the data buffer before tensor 'b' belong to no tensor"},
        {"hole at start", "{" T("a", "4,8") "}", 8, VEIL_E_INVALID, "before tensor 'a' belong to no tensor"},
        {"trailing bytes", "{" T("a", "0,4") "}", 8, VEIL_E_INVALID, "4 bytes after the last tensor's data"},
        {"trailing byte, no tensors", "{}", 1, VEIL_E_INVALID, "1 bytes after the last tensor's data"},
        {"data too short", "{" T2("a", "2", "0,8") "}", 4, VEIL_E_INVALID,
         "need 8 bytes of data but the file holds 4"},
        {"shape and length", "{" T2("a", "3", "0,8") "}", 8, VEIL_E_INVALID,
         "its shape and dtype F32 make 12 bytes, its data_offsets 8"},
        {"scalar of 8 bytes", "{" T2("a", "", "0,8") "}", 8, VEIL_E_INVALID, "make 4 bytes"},
        {"end before begin", "{" T2("a", "", "4,0") "}", 4, VEIL_E_INVALID, "ends (0) before it begins (4)"},
        {"shape overflow", "{" T2("a", "4294967296,4294967296,4", "0,4") "}", 4, VEIL_E_INVALID, "overflows"},
        {"bytes overflow", "{" T2("a", "4611686018427387904", "0,4") "}", 4, VEIL_E_INVALID, "overflows"},
        {"sub-byte dtype, odd count", "{\"a\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", 2,
         VEIL_E_INVALID, "not whole bytes"},
        {"I64 of the wrong length", "{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
         VEIL_E_INVALID, "make 8 bytes"},
        /* valid files of other dtypes */
        {"I64", "{\"a\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", 16, VEIL_E_UNSUPPORTED,
         "is I64"},
        {"F16 after F32",
         "{" T("a", "0,4") ",\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[4,8]}}", 8,
         VEIL_E_UNSUPPORTED, "tensor 'b' is F16"},
        {"F4", "{\"a\":{\"dtype\":\"F4\",\"shape\":[4],\"data_offsets\":[0,2]}}", 2, VEIL_E_UNSUPPORTED,
         "is F4"},
        {"BOOL", "{\"a\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[0,3]}}", 3, VEIL_E_UNSUPPORTED,
         "is BOOL"},
        /* names in messages are cut and cleaned */
        {"control characters in a name", "{" T("\\u001b[31m", "4,8") "}", 8, VEIL_E_INVALID,
         "tensor '?[31m'"},
};

static void test_st_refusals(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t len;
		uint8_t *b = mk(bad[i].json, bad[i].data, &len);
		veil_st_file f;
		veil_err err = {0};
		veil_status st = veil_st_parse(b, len, &f, &err);
		if (st != bad[i].st || !strstr(err.msg, bad[i].msg))
			fail_msg("%s: got %s \"%s\", want %s \"...%s...\"", bad[i].what, veil_status_str(st),
			         err.msg, veil_status_str(bad[i].st), bad[i].msg);
		assert_int_equal(err.code, st);
		assert_zeroed_file(&f);
		free(b);
	}
}

/* The 8-byte length: too short a file, a length past the end, the
 * format's 100 MB limit (checked before the file's length). */
static void test_st_frame(void **state)
{
	(void)state;
	veil_st_file f;
	veil_err err = {0};
	uint8_t b[16] = {2, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
	assert_int_equal(veil_st_parse(b, 0, &f, &err), VEIL_E_INVALID);
	assert_msg(&err, "0 bytes, fewer than the 8");
	assert_int_equal(veil_st_parse(b, 7, &f, &err), VEIL_E_INVALID);
	assert_msg(&err, "7 bytes, fewer than the 8");
	assert_int_equal(veil_st_parse(b, 10, &f, &err), VEIL_OK);
	veil_st_free(&f);
	assert_int_equal(veil_st_parse(b, 9, &f, &err), VEIL_E_INVALID);
	assert_msg(&err, "the header length 2 runs past the end of the file (9 bytes)");
	b[0] = 0x01; /* 100,000,001 = 0x05f5e101 */
	b[1] = 0xe1;
	b[2] = 0xf5;
	b[3] = 0x05;
	assert_int_equal(veil_st_parse(b, 16, &f, &err), VEIL_E_LIMIT);
	assert_msg(&err, "a header of 100000001 bytes, over the format's 100000000");
	b[0] = 0x00; /* exactly the limit: allowed, but past this file's end */
	assert_int_equal(veil_st_parse(b, 16, &f, &err), VEIL_E_INVALID);
	assert_msg(&err, "runs past the end");
	memset(b, 0xff, 8); /* 2^64 - 1 */
	assert_int_equal(veil_st_parse(b, 16, &f, &err), VEIL_E_LIMIT);
	assert_zeroed_file(&f);
}

/* A header of n empty tensors, NUL-terminated. */
static void many_tensors(unsigned n, veil_buf *j)
{
	veil_err err = {0};
	j->len = 0;
	assert_int_equal(veil_buf_append(j, "{", 1, &err), VEIL_OK);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(
		        veil_buf_printf(j, &err,
		                        "%s\"t%u\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}",
		                        i ? "," : "", i),
		        VEIL_OK);
	assert_int_equal(veil_buf_append(j, "}", 2, &err), VEIL_OK); /* with the NUL */
}

/* More tensors and metadata entries than the bounds allow. */
static void test_st_counts(void **state)
{
	(void)state;
	veil_buf j = {0};
	veil_err err = {0};
	size_t len;
	veil_st_file f;
	many_tensors(VEIL_ST_TENSORS_MAX + 1, &j);
	uint8_t *b = mk((const char *)j.data, 0, &len);
	assert_int_equal(veil_st_parse(b, len, &f, &err), VEIL_E_LIMIT);
	assert_msg(&err, "more than 4096 tensors");
	free(b);
	/* 4096 empty tensors are fine */
	many_tensors(VEIL_ST_TENSORS_MAX, &j);
	b = mk((const char *)j.data, 0, &len);
	assert_int_equal(veil_st_parse(b, len, &f, &err), VEIL_OK);
	assert_int_equal(f.n_tensors, VEIL_ST_TENSORS_MAX);
	veil_st_free(&f);
	free(b);

	j.len = 0;
	assert_int_equal(veil_buf_append(&j, "{\"__metadata__\":{", 17, &err), VEIL_OK);
	for (unsigned i = 0; i <= VEIL_ST_META_MAX; i++)
		assert_int_equal(veil_buf_printf(&j, &err, "%s\"k%u\":\"v\"", i ? "," : "", i), VEIL_OK);
	assert_int_equal(veil_buf_append(&j, "}}", 3, &err), VEIL_OK);
	b = mk((const char *)j.data, 0, &len);
	assert_int_equal(veil_st_parse(b, len, &f, &err), VEIL_E_LIMIT);
	assert_msg(&err, "more than 256 __metadata__ entries");
	free(b);
	veil_buf_free(&j);

	/* a name of 513 bytes */
	char name[VEIL_ST_NAME_MAX + 2], json[700];
	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	assert_true(snprintf(json, sizeof json, "{\"%s\":{}}", name) < (int)sizeof json);
	b = mk(json, 0, &len);
	assert_int_equal(veil_st_parse(b, len, &f, &err), VEIL_E_LIMIT);
	assert_msg(&err, "longer than 512 bytes");
	free(b);
}

static void test_st_write_refusals(void **state)
{
	(void)state;
	float v[4] = {0};
	veil_buf out = {0};
	veil_err err = {0};
	assert_int_equal(veil_buf_append(&out, "keep", 4, &err), VEIL_OK);
	veil_st_entry two[] = {{.name = "x", .rank = 1, .shape = {1}, .data = v},
	                       {.name = "x", .rank = 1, .shape = {1}, .data = v}};
	assert_int_equal(veil_st_write(two, 2, NULL, 0, &out, &err), VEIL_E_INVALID);
	assert_msg(&err, "two tensors are named 'x'");
	veil_st_entry md = {.name = "__metadata__", .rank = 1, .shape = {1}, .data = v};
	assert_int_equal(veil_st_write(&md, 1, NULL, 0, &out, &err), VEIL_E_INVALID);
	veil_st_entry tr = {.name = "t", .rank = 1, .shape = {4}, .data = v, .transpose = true};
	assert_int_equal(veil_st_write(&tr, 1, NULL, 0, &out, &err), VEIL_E_INVALID);
	veil_st_entry deep = {.name = "d", .rank = VEIL_ST_RANK_MAX + 1, .data = v};
	assert_int_equal(veil_st_write(&deep, 1, NULL, 0, &out, &err), VEIL_E_INVALID);
	veil_st_entry nodata = {.name = "n", .rank = 1, .shape = {4}};
	assert_int_equal(veil_st_write(&nodata, 1, NULL, 0, &out, &err), VEIL_E_INVALID);
	veil_st_entry huge = {.name = "h", .rank = 2, .shape = {SIZE_MAX / 2, 4}, .data = v};
	assert_int_equal(veil_st_write(&huge, 1, NULL, 0, &out, &err), VEIL_E_LIMIT);
	veil_st_entry notutf8 = {.name = "\xff", .rank = 1, .shape = {1}, .data = v};
	assert_int_equal(veil_st_write(&notutf8, 1, NULL, 0, &out, &err), VEIL_E_INVALID);
	assert_msg(&err, "UTF-8");
	veil_st_kv kv[] = {{"k", "1"}, {"k", "2"}};
	assert_int_equal(veil_st_write(NULL, 0, kv, 2, &out, &err), VEIL_E_INVALID);
	assert_msg(&err, "two metadata entries have the key 'k'");
	veil_st_kv nokey = {NULL, "v"};
	assert_int_equal(veil_st_write(NULL, 0, &nokey, 1, &out, &err), VEIL_E_INVALID);
	/* every failure left the buffer as it was */
	assert_int_equal(out.len, 4);
	assert_memory_equal(out.data, "keep", 4);
	veil_buf_free(&out);
}

/* ---- veil model files ---- */

static void round_trip(const veil_model_spec *spec, uint64_t seed)
{
	veil_model *m = NULL, *back = NULL;
	veil_err err = {0};
	veil_buf man = {0}, file = {0};
	char *text = NULL;
	assert_int_equal(veil_model_new(spec, seed, &m, &err), VEIL_OK);
	assert_int_equal(manifest_for(m, &man, &err), VEIL_OK);
	char *mtext = text_of(&man);
	assert_int_equal(veil_modelfile_write(m, mtext, &file, &err), VEIL_OK);
	assert_int_equal(veil_modelfile_read(file.data, file.len, &back, &text, &err), VEIL_OK);
	assert_string_equal(text, mtext);
	const veil_model_spec *a = veil_model_get_spec(m), *b = veil_model_get_spec(back);
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->inputs, b->inputs);
	assert_int_equal(a->classes, b->classes);
	assert_int_equal(a->n_hidden, b->n_hidden);
	assert_int_equal(veil_model_param_count(m), veil_model_param_count(back));
	assert_memory_equal(veil_model_params(m), veil_model_params(back),
	                    veil_model_param_count(m) * sizeof(float));

	/* the layout on disk: layers.<i>.weight is [out, in], W transposed */
	veil_st_file f;
	assert_int_equal(veil_st_parse(file.data, file.len, &f, &err), VEIL_OK);
	assert_int_equal(f.n_tensors, 2 * veil_model_layers(m));
	for (size_t i = 0; i < veil_model_layers(m); i++) {
		float *w, *bias;
		size_t in, out;
		char wn[48], bn[48];
		veil_model_layer(m, i, &w, &in, &out, &bias);
		snprintf(wn, sizeof wn, "layers.%zu.weight", i);
		snprintf(bn, sizeof bn, "layers.%zu.bias", i);
		const veil_st_tensor *tw = veil_st_find(&f, wn), *tb = veil_st_find(&f, bn);
		assert_non_null(tw);
		assert_non_null(tb);
		/* bias before weight, layer by layer: the names' sorted order */
		assert_ptr_equal(tb, &f.tensors[2 * i]);
		assert_ptr_equal(tw, &f.tensors[2 * i + 1]);
		assert_int_equal(tw->rank, 2);
		assert_int_equal(tw->shape[0], out);
		assert_int_equal(tw->shape[1], in);
		for (size_t r = 0; r < out; r++)
			for (size_t k = 0; k < in; k++)
				assert_true(veil_st_f32(tw, r * in + k) == w[k * out + r]);
		for (size_t r = 0; r < out; r++)
			assert_true(veil_st_f32(tb, r) == bias[r]);
	}
	assert_string_equal(veil_st_meta_get(&f, "format"), "veil-model");
	assert_string_equal(veil_st_meta_get(&f, "format_version"), "1");
	assert_string_equal(f.meta[0].key, "format");
	veil_st_free(&f);

	/* the same predictions */
	float x[3 * 8], p1[3 * 5], p2[3 * 5];
	for (size_t i = 0; i < 3 * spec->inputs; i++)
		x[i] = (float)i * 0.37f - 1.5f;
	assert_int_equal(veil_model_predict(m, x, 3, p1, &err), VEIL_OK);
	assert_int_equal(veil_model_predict(back, x, 3, p2, &err), VEIL_OK);
	assert_memory_equal(p1, p2, 3 * spec->classes * sizeof(float));

	free(text);
	free(mtext);
	veil_buf_free(&man);
	veil_buf_free(&file);
	veil_model_free(m);
	veil_model_free(back);
}

static void test_model_round_trips(void **state)
{
	(void)state;
	size_t h1[] = {5}, h2[] = {6, 3};
	veil_model_spec s = spec_of(VEIL_MODEL_LOGREG, 4, 2, NULL, 0, VEIL_ACT_RELU);
	round_trip(&s, 1);
	s = spec_of(VEIL_MODEL_SOFTMAX, 3, 5, NULL, 0, VEIL_ACT_RELU);
	round_trip(&s, 2);
	s = spec_of(VEIL_MODEL_MLP, 4, 3, h1, 1, VEIL_ACT_RELU);
	round_trip(&s, 3);
	s = spec_of(VEIL_MODEL_MLP, 8, 2, h2, 2, VEIL_ACT_TANH);
	round_trip(&s, 4);
	s = spec_of(VEIL_MODEL_MLP, 2, 3, h2, 2, VEIL_ACT_TEMPERED_SIGMOID);
	s.ts_scale = 1.5f;
	s.ts_temperature = 0.3f;
	s.ts_offset = 0.1f;
	round_trip(&s, 5);
}

static void test_model_manifest(void **state)
{
	(void)state;
	size_t h[] = {5};
	veil_model_spec s = spec_of(VEIL_MODEL_MLP, 4, 2, h, 1, VEIL_ACT_TEMPERED_SIGMOID);
	s.ts_scale = 0.1f;
	veil_model *m;
	veil_err err = {0};
	veil_buf out = {0};
	assert_int_equal(veil_model_new(&s, 9, &m, &err), VEIL_OK);
	assert_int_equal(manifest_for(m, &out, &err), VEIL_OK);
	char *t = text_of(&out);
	/* 0.1f written so that it reads back as the same float */
	assert_non_null(strstr(
	        t, "{\"architecture\":{\"kind\":\"mlp\",\"inputs\":4,\"classes\":2,\"hidden\":[5],"
	           "\"activation\":\"tempered_sigmoid\",\"tempered_sigmoid\":{\"scale\":0.10000000149011612,"
	           "\"temperature\":2,\"offset\":1}},\"features\":[\"age\",\"bmi\",\"bp\",\"glucose\"],"
	           "\"label\":{\"name\":\"outcome\",\"classes\":[\"no\",\"yes\"]},\"metrics\":{},"
	           "\"privacy\":{\"mechanism\":\"dp-sgd\",\"accountant\":\"rdp\",\"epsilon\":3,"
	           "\"delta\":1e-05,\"noise_multiplier\":1.1,"
	           "\"max_grad_norm\":1,\"sample_rate\":0.01,\"steps\":1200,\"orders\":[1.5,2,32,null]},"
	           "\"datasets\":[{\"name\":\"patients-features\",\"version\":2,\"sha256\":\"9f86d0"));
	assert_non_null(
	        strstr(t, "\"lineage\":[\"patients@1\",\"pipeline pseudonymise\",\"patients-features@2\"]}],"
	                  "\"job\":{\"name\":\"job-1\",\"sha256\":\"60303ae2"));
	assert_non_null(strstr(t, "\"worker_measurement\":\"00ff\",\"created\":\"2026-11-18T"));
	assert_non_null(strstr(t, "\"veil_version\":\"0.1.0\"}"));
	veil_model_spec back;
	assert_int_equal(veil_modelfile_manifest_spec(t, strlen(t), &back, &err), VEIL_OK);
	assert_true(back.ts_scale == 0.1f);
	assert_int_equal(back.activation, VEIL_ACT_TEMPERED_SIGMOID);
	assert_int_equal(back.hidden[0], 5);
	free(t);

	/* with metrics, without privacy or measurement */
	static const float probs[] = {0.9f, 0.1f, 0.2f, 0.8f, 0.6f, 0.4f};
	static const int32_t y[] = {0, 1, 1};
	veil_metrics mt;
	assert_int_equal(veil_metrics_compute(probs, y, 3, 2, &mt, &err), VEIL_OK);
	static const char *const feats[] = {"a", "b", "c", "d"}, *const cls[] = {"neg", "pos"};
	veil_manifest in = {.features = feats,
	                    .n_features = 4,
	                    .label = "y",
	                    .class_labels = cls,
	                    .n_classes = 2,
	                    .metrics = &mt,
	                    .metrics_split = "test",
	                    .job_name = "j",
	                    .job_sha256 = HASH_A,
	                    .created = 0,
	                    .veil_version = "0.1.0"};
	out.len = 0;
	assert_int_equal(veil_modelfile_manifest(m, &in, &out, &err), VEIL_OK);
	t = text_of(&out);
	assert_non_null(strstr(
	        t, "\"metrics\":{\"test\":{\"rows\":3,\"classes\":2,\"accuracy\":0.66666666666666663,"));
	assert_non_null(strstr(t, "\"per_class\":[{\"class\":\"neg\","));
	assert_non_null(strstr(t, "\"privacy\":null,\"datasets\":[],\"job\":{\"name\":\"j\","));
	/* created 0 is left out: the same job on the same data, the same bytes */
	assert_non_null(strstr(t, "\"worker_measurement\":null,\"veil_version\":\"0.1.0\"}"));
	assert_null(strstr(t, "created"));
	free(t);

	/* refusals: counts that disagree with the model, bad hashes */
	size_t before = out.len;
	in.n_features = 3;
	assert_int_equal(veil_modelfile_manifest(m, &in, &out, &err), VEIL_E_INVALID);
	assert_msg(&err, "3 feature names for a model of 4 inputs");
	in.n_features = 4;
	in.n_classes = 3;
	assert_int_equal(veil_modelfile_manifest(m, &in, &out, &err), VEIL_E_INVALID);
	in.n_classes = 2;
	in.job_sha256 = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";
	assert_int_equal(veil_modelfile_manifest(m, &in, &out, &err), VEIL_E_INVALID);
	assert_msg(&err, "64 lowercase hex digits");
	in.job_sha256 = HASH_A;
	in.measurement = "abc";
	assert_int_equal(veil_modelfile_manifest(m, &in, &out, &err), VEIL_E_INVALID);
	in.measurement = NULL;
	in.metrics_split = NULL;
	assert_int_equal(veil_modelfile_manifest(m, &in, &out, &err), VEIL_E_INVALID);
	in.metrics_split = "test";
	in.label = "\xff";
	assert_int_equal(veil_modelfile_manifest(m, &in, &out, &err), VEIL_E_INVALID);
	assert_msg(&err, "UTF-8");
	assert_int_equal(out.len, before);
	veil_metrics_free(&mt);
	veil_buf_free(&out);
	veil_model_free(m);
}

typedef struct arch_case {
	const char *json;
	veil_status st;
	const char *msg;
} arch_case;

static void test_model_manifest_spec(void **state)
{
	(void)state;
	static const arch_case cases[] = {
	        {"{\"architecture\":{\"kind\":\"softmax\",\"inputs\":3,\"classes\":4},\"x\":[1,{\"y\":null}]"
	         "}",
	         VEIL_OK, ""},
	        {" {\"a\":\"\\u00e9\",\"architecture\":{\"classes\":2,\"inputs\":3,\"kind\":\"logreg\"}} ",
	         VEIL_OK, ""},
	        {"{}", VEIL_E_INVALID, "no architecture"},
	        {"[]", VEIL_E_INVALID, "the manifest is an object"},
	        {"{\"architecture\":{\"kind\":\"softmax\",\"inputs\":3,\"classes\":4},\"architecture\":{}}",
	         VEIL_E_INVALID, "a member given twice"},
	        {"{\"x\":1,\"x\":2,\"architecture\":{\"kind\":\"softmax\",\"inputs\":3,\"classes\":4}}",
	         VEIL_E_INVALID, "a member given twice"},
	        {"{\"architecture\":{\"kind\":\"cnn\",\"inputs\":3,\"classes\":4}}", VEIL_E_INVALID,
	         "an unknown name"},
	        {"{\"architecture\":{\"kind\":\"softmax\",\"inputs\":3,\"classes\":4,\"depth\":2}}",
	         VEIL_E_INVALID, "an unknown architecture member"},
	        {"{\"architecture\":{\"kind\":\"softmax\",\"inputs\":3,\"inputs\":3,\"classes\":4}}",
	         VEIL_E_INVALID, "an architecture member given twice"},
	        {"{\"architecture\":{\"kind\":\"softmax\",\"classes\":4}}", VEIL_E_INVALID, "lacks inputs"},
	        {"{\"architecture\":{\"kind\":\"softmax\",\"inputs\":3,\"classes\":4,\"hidden\":[2]}}",
	         VEIL_E_INVALID, "must not have hidden"},
	        {"{\"architecture\":{\"kind\":\"mlp\",\"inputs\":3,\"classes\":4,\"hidden\":[2]}}",
	         VEIL_E_INVALID, "lacks activation"},
	        {"{\"architecture\":{\"kind\":\"mlp\",\"inputs\":3,\"classes\":4,\"hidden\":[2],"
	         "\"activation\":\"relu\","
	         "\"tempered_sigmoid\":{\"scale\":2,\"temperature\":2,\"offset\":1}}}",
	         VEIL_E_INVALID, "must not have tempered_sigmoid"},
	        {"{\"architecture\":{\"kind\":\"mlp\",\"inputs\":3,\"classes\":4,\"hidden\":[2],"
	         "\"activation\":\"tempered_sigmoid\",\"tempered_sigmoid\":{\"scale\":2,\"temperature\":2}}}",
	         VEIL_E_INVALID, "needs scale, temperature and offset"},
	        {"{\"architecture\":{\"kind\":\"mlp\",\"inputs\":3,\"classes\":4,\"hidden\":[2],"
	         "\"activation\":\"tempered_sigmoid\",\"tempered_sigmoid\":{\"scale\":1e39,\"temperature\":2,"
	         "\"offset\":1}}}",
	         VEIL_E_INVALID, "out of float range"},
	        {"{\"architecture\":{\"kind\":\"mlp\",\"inputs\":3,\"classes\":4,\"hidden\":[1,1,1,1,1,1,1,1,"
	         "1],"
	         "\"activation\":\"relu\"}}",
	         VEIL_E_LIMIT, "more than 8 hidden layers"},
	        {"{\"architecture\":{\"kind\":\"mlp\",\"inputs\":3,\"classes\":4,\"hidden\":[],"
	         "\"activation\":\"relu\"}}",
	         VEIL_E_INVALID, "manifest architecture: an MLP has 1..8 hidden layers"},
	        {"{\"architecture\":{\"kind\":\"logreg\",\"inputs\":3,\"classes\":3}}", VEIL_E_INVALID,
	         "logistic regression has 2 classes"},
	        {"{\"architecture\":{\"kind\":\"softmax\",\"inputs\":3.0,\"classes\":4}}", VEIL_E_INVALID,
	         "non-negative integer"},
	        {"{\"architecture\":{\"kind\":\"softmax\",\"inputs\":3,\"classes\":4}} x", VEIL_E_INVALID,
	         "other than whitespace"},
	        {"{\"architecture\":{\"kind\":\"softmax\",\"inputs\":3,\"classes\":4},\"x\":[1,]}",
	         VEIL_E_INVALID, "offset 65: expected a number"},
	        {"{\"architecture\":{\"kind\":\"softmax\",\"inputs\":3,\"classes\":4},\"x\":tru}",
	         VEIL_E_INVALID, "expected a number"},
	        {"{\"architecture\":{\"kind\":\"softmax\",\"inputs\":3,\"classes\":4},\"x\":\"\xc3\"}",
	         VEIL_E_INVALID, "not UTF-8"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		veil_model_spec s;
		veil_err err = {0};
		veil_status st = veil_modelfile_manifest_spec(cases[i].json, strlen(cases[i].json), &s, &err);
		if (st != cases[i].st || !strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: got %s \"%s\", want %s \"...%s...\"", i, veil_status_str(st),
			         err.msg, veil_status_str(cases[i].st), cases[i].msg);
		if (st) {
			veil_model_spec z;
			memset(&z, 0, sizeof z);
			assert_memory_equal(&s, &z, sizeof z);
		}
	}
	/* nesting beyond the cursor's depth in a skipped member */
	char deep[80] = "{\"x\":";
	memset(deep + 5, '[', 70);
	deep[75] = '\0';
	veil_model_spec s;
	veil_err err = {0};
	assert_int_equal(veil_modelfile_manifest_spec(deep, strlen(deep), &s, &err), VEIL_E_LIMIT);
	assert_msg(&err, "nesting deeper than 64");
}

/* ---- the manifest's columns (what evaluation reads back) ---- */

static void assert_same_spec(const veil_model_spec *a, const veil_model_spec *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->inputs, b->inputs);
	assert_int_equal(a->classes, b->classes);
	assert_int_equal(a->n_hidden, b->n_hidden);
	for (size_t i = 0; i < a->n_hidden; i++)
		assert_int_equal(a->hidden[i], b->hidden[i]);
	if (a->kind == VEIL_MODEL_MLP)
		assert_int_equal(a->activation, b->activation);
	if (a->kind == VEIL_MODEL_MLP && a->activation == VEIL_ACT_TEMPERED_SIGMOID)
		assert_true(a->ts_scale == b->ts_scale && a->ts_temperature == b->ts_temperature &&
		            a->ts_offset == b->ts_offset);
}

static void assert_zeroed_columns(const veil_manifest_columns *c)
{
	veil_manifest_columns z;
	memset(&z, 0, sizeof z);
	assert_memory_equal(c, &z, sizeof z);
}

/* Writes the manifest of a fresh model of spec s with these names, reads
 * its columns back (from the text and from the model file that carries
 * it) and checks they are what was written. */
static void columns_round_trip(const veil_model_spec *s, const char *const *feats, const char *label,
                               const char *const *classes)
{
	veil_model *m = NULL, *back = NULL;
	veil_err err = {0};
	veil_buf man = {0}, file = {0};
	char *text = NULL;
	assert_int_equal(veil_model_new(s, 17, &m, &err), VEIL_OK);
	veil_manifest in = {.features = feats,
	                    .n_features = s->inputs,
	                    .label = label,
	                    .class_labels = classes,
	                    .n_classes = s->classes,
	                    .job_name = "eval-job",
	                    .job_sha256 = HASH_A,
	                    .veil_version = "0.1.0"};
	assert_int_equal(veil_modelfile_manifest(m, &in, &man, &err), VEIL_OK);
	char *mtext = text_of(&man);
	assert_int_equal(veil_modelfile_write(m, mtext, &file, &err), VEIL_OK);
	assert_int_equal(veil_modelfile_read(file.data, file.len, &back, &text, &err), VEIL_OK);
	for (int pass = 0; pass < 2; pass++) {
		const char *t = pass ? text : mtext;
		veil_manifest_columns c;
		memset(&c, 0xa5, sizeof c);
		if (veil_modelfile_manifest_columns(t, strlen(t), &c, &err) != VEIL_OK)
			fail_msg("columns: %s", err.msg);
		assert_same_spec(&c.spec, s);
		assert_int_equal(c.n_features, s->inputs);
		for (size_t i = 0; i < s->inputs; i++)
			assert_string_equal(c.features[i], feats[i]);
		assert_string_equal(c.label, label);
		assert_int_equal(c.n_classes, s->classes);
		for (size_t i = 0; i < s->classes; i++)
			assert_string_equal(c.classes[i], classes[i]);
		/* the architecture is the one veil_modelfile_manifest_spec reads */
		veil_model_spec only;
		assert_int_equal(veil_modelfile_manifest_spec(t, strlen(t), &only, &err), VEIL_OK);
		assert_same_spec(&only, &c.spec);
		veil_manifest_columns_free(&c);
		assert_zeroed_columns(&c);
	}
	free(text);
	free(mtext);
	veil_buf_free(&man);
	veil_buf_free(&file);
	veil_model_free(m);
	veil_model_free(back);
}

static void test_model_columns(void **state)
{
	(void)state;
	/* logistic regression: escapes, UTF-8 and a control character in the
	 * names, which the writer escapes and the reader decodes */
	static const char *const f2[] = {"caf\xc3\xa9", "say \"hi\"\\\t/"};
	static const char *const c2[] = {"0", "1"};
	veil_model_spec s = spec_of(VEIL_MODEL_LOGREG, 2, 2, NULL, 0, VEIL_ACT_RELU);
	columns_round_trip(&s, f2, "outcome \xe2\x9c\x93", c2);

	/* an MLP of several classes, "1" among the labels, names of every width */
	static const char *const f5[] = {"age", "\xf0\x9f\x98\x80", "x", "a b", "\xe2\x82\xac"};
	static const char *const c4[] = {"1", "10", "one", "\xc3\xa9t\xc3\xa9"};
	size_t h[] = {6, 3};
	s = spec_of(VEIL_MODEL_MLP, 5, 4, h, 2, VEIL_ACT_TEMPERED_SIGMOID);
	s.ts_scale = 1.5f;
	s.ts_temperature = 0.3f;
	s.ts_offset = 0.1f;
	columns_round_trip(&s, f5, "kind", c4);
	s = spec_of(VEIL_MODEL_SOFTMAX, 2, 3, NULL, 0, VEIL_ACT_RELU);
	static const char *const c3[] = {"1", "2", "3"};
	columns_round_trip(&s, f2, "y", c3);

	/* written by hand: any member order and spacing, \u escapes (a
	 * surrogate pair too), names at exactly their bounds, other members
	 * skipped */
	veil_buf b = {0};
	veil_err err = {0};
	char long_name[VEIL_LEARN_NAME_MAX], long_label[VEIL_LEARN_LABEL_MAX];
	memset(long_name, 'n', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	memset(long_label, 'c', sizeof long_label - 1);
	long_label[sizeof long_label - 1] = '\0';
	assert_int_equal(
	        veil_buf_printf(
	                &b, &err,
	                " {\"label\" : {\"classes\": [\"%s\", \"\\u0031\"], \"name\": \"\\ud83d\\ude00\"},\n"
	                "\t\"metrics\": {\"test\": {\"features\": 1}},\n"
	                "\"features\":[ \"caf\\u00e9\" , \"%s\" ,\"\\\"q\\\"\"],"
	                "\"architecture\": {\"classes\": 2, \"inputs\": 3, \"kind\": \"softmax\"}} ",
	                long_label, long_name),
	        VEIL_OK);
	veil_manifest_columns c;
	if (veil_modelfile_manifest_columns((const char *)b.data, b.len, &c, &err) != VEIL_OK)
		fail_msg("hand-written manifest: %s", err.msg);
	assert_int_equal(c.spec.kind, VEIL_MODEL_SOFTMAX);
	assert_int_equal(c.n_features, 3);
	assert_string_equal(c.features[0], "caf\xc3\xa9");
	assert_string_equal(c.features[1], long_name);
	assert_string_equal(c.features[2], "\"q\"");
	assert_string_equal(c.label, "\xf0\x9f\x98\x80");
	assert_int_equal(c.n_classes, 2);
	assert_string_equal(c.classes[0], long_label);
	assert_string_equal(c.classes[1], "1");
	veil_manifest_columns_free(&c);
	veil_manifest_columns_free(NULL);
	veil_buf_free(&b);
}

/* A manifest of a logistic regression of 2 inputs with these features
 * and label members; NULL leaves the member out. */
#define COLS_ARCH  "\"architecture\":{\"kind\":\"logreg\",\"inputs\":2,\"classes\":2}"
#define COLS_FEATS "\"features\":[\"a\",\"b\"]"
#define COLS_LABEL "\"label\":{\"name\":\"y\",\"classes\":[\"no\",\"yes\"]}"

typedef struct cols_case {
	const char *json;
	veil_status st;
	const char *msg;
} cols_case;

static void assert_columns_refused(const char *json, size_t len, veil_status want, const char *msg, size_t i)
{
	veil_manifest_columns c;
	veil_err err = {0};
	memset(&c, 0xa5, sizeof c);
	veil_status st = veil_modelfile_manifest_columns(json, len, &c, &err);
	if (st != want || !strstr(err.msg, msg))
		fail_msg("case %zu: got %s \"%s\", want %s \"...%s...\"", i, veil_status_str(st), err.msg,
		         veil_status_str(want), msg);
	assert_int_equal(err.code, st);
	assert_zeroed_columns(&c);
}

static void test_model_columns_refusals(void **state)
{
	(void)state;
	static const cols_case cases[] = {
	        {"{" COLS_ARCH "," COLS_LABEL "}", VEIL_E_INVALID, "manifest: no features"},
	        {"{" COLS_ARCH "," COLS_FEATS "}", VEIL_E_INVALID, "manifest: no label"},
	        {"{" COLS_FEATS "," COLS_LABEL "}", VEIL_E_INVALID, "manifest: no architecture"},
	        {"{" COLS_ARCH "," COLS_FEATS ",\"label\":{\"name\":\"y\"}}", VEIL_E_INVALID,
	         "label needs its name and its classes"},
	        {"{" COLS_ARCH "," COLS_FEATS ",\"label\":{\"classes\":[\"no\",\"yes\"]}}", VEIL_E_INVALID,
	         "label needs its name and its classes"},
	        {"{" COLS_ARCH "," COLS_FEATS
	         ",\"label\":{\"name\":\"y\",\"classes\":[\"no\",\"yes\"],\"x\":1}}",
	         VEIL_E_INVALID, "an unknown label member"},
	        {"{" COLS_ARCH "," COLS_FEATS ",\"label\":{\"name\":\"y\",\"name\":\"z\","
	         "\"classes\":[\"no\",\"yes\"]}}",
	         VEIL_E_INVALID, "a label member given twice"},
	        {"{" COLS_ARCH ",\"features\":[\"a\",\"b\",\"c\"]," COLS_LABEL "}", VEIL_E_INVALID,
	         "3 feature names for a model of 2 inputs"},
	        {"{" COLS_ARCH ",\"features\":[]," COLS_LABEL "}", VEIL_E_INVALID,
	         "0 feature names for a model of 2 inputs"},
	        {"{" COLS_ARCH "," COLS_FEATS
	         ",\"label\":{\"name\":\"y\",\"classes\":[\"no\",\"yes\",\"maybe\"]}}",
	         VEIL_E_INVALID, "3 class labels for a model of 2 classes"},
	        {"{\"architecture\":{\"kind\":\"softmax\",\"inputs\":2,\"classes\":3}," COLS_FEATS
	         ",\"label\":{\"name\":\"y\",\"classes\":[\"a\",\"b\",\"a\"]}}",
	         VEIL_E_INVALID, "a class label is given twice"},
	        {"{" COLS_ARCH "," COLS_FEATS ",\"label\":{\"name\":\"y\",\"classes\":[\"1\",\"\\u0031\"]}}",
	         VEIL_E_INVALID, "a class label is given twice"},
	        {"{" COLS_ARCH ",\"features\":[\"a\",\"a\"]," COLS_LABEL "}", VEIL_E_INVALID,
	         "a feature name is given twice"},
	        {"{" COLS_ARCH ",\"features\":[\"a\",\"\"]," COLS_LABEL "}", VEIL_E_INVALID,
	         "feature name 1 is empty"},
	        {"{" COLS_ARCH "," COLS_FEATS ",\"label\":{\"name\":\"\",\"classes\":[\"no\",\"yes\"]}}",
	         VEIL_E_INVALID, "the label's name is empty"},
	        {"{" COLS_ARCH ",\"features\":\"a\"," COLS_LABEL "}", VEIL_E_INVALID, "an array of strings"},
	        {"{" COLS_ARCH ",\"features\":{\"a\":1}," COLS_LABEL "}", VEIL_E_INVALID,
	         "an array of strings"},
	        {"{" COLS_ARCH ",\"features\":[\"a\",2]," COLS_LABEL "}", VEIL_E_INVALID,
	         "offset 73: expected a string"},
	        {"{" COLS_ARCH ",\"features\":[\"a\",null]," COLS_LABEL "}", VEIL_E_INVALID,
	         "expected a string"},
	        {"{" COLS_ARCH ",\"features\":[\"a\",\"b\",]," COLS_LABEL "}", VEIL_E_INVALID,
	         "expected a string"},
	        {"{" COLS_ARCH ",\"features\":[\"a\\u0000\",\"b\"]," COLS_LABEL "}", VEIL_E_INVALID,
	         "U+0000"},
	        {"{" COLS_ARCH ",\"features\":[\"a\",\"\\ud800\"]," COLS_LABEL "}", VEIL_E_INVALID,
	         "a high surrogate without a low one"},
	        {"{" COLS_ARCH ",\"features\":[\"a\",\"\xc3\"]," COLS_LABEL "}", VEIL_E_INVALID, "not UTF-8"},
	        {"{" COLS_ARCH "," COLS_FEATS ",\"label\":\"y\"}", VEIL_E_INVALID, "label is an object"},
	        {"{" COLS_ARCH "," COLS_FEATS ",\"label\":{\"name\":1,\"classes\":[\"no\",\"yes\"]}}",
	         VEIL_E_INVALID, "expected a string"},
	        {"{" COLS_ARCH "," COLS_FEATS ",\"label\":{\"name\":\"y\",\"classes\":\"no\"}}",
	         VEIL_E_INVALID, "an array of strings"},
	        {"{" COLS_ARCH "," COLS_FEATS ",\"label\":{\"name\":\"y\",\"classes\":[\"no\",[\"yes\"]]}}",
	         VEIL_E_INVALID, "expected a string"},
	        {"{" COLS_ARCH "," COLS_FEATS "," COLS_LABEL "," COLS_LABEL "}", VEIL_E_INVALID,
	         "a member given twice"},
	        {"{" COLS_ARCH "," COLS_FEATS "," COLS_LABEL "," COLS_FEATS "}", VEIL_E_INVALID,
	         "a member given twice"},
	        {"{\"architecture\":{\"kind\":\"logreg\",\"inputs\":2,\"classes\":3}," COLS_FEATS
	         ",\"label\":{\"name\":\"y\",\"classes\":[\"a\",\"b\",\"c\"]}}",
	         VEIL_E_INVALID, "logistic regression has 2 classes"},
	        {"{" COLS_ARCH "," COLS_FEATS "," COLS_LABEL "", VEIL_E_INVALID, "the text ends"},
	        {"{" COLS_ARCH "," COLS_FEATS "," COLS_LABEL "}}", VEIL_E_INVALID, "other than whitespace"},
	        {"[" COLS_FEATS "]", VEIL_E_INVALID, "the manifest is an object"},
	        {"", VEIL_E_INVALID, "the text ends"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_columns_refused(cases[i].json, strlen(cases[i].json), cases[i].st, cases[i].msg, i);

	/* names one byte over their bounds (counted decoded: é is 2 bytes):
	 * refused as malformed, not as a limit of the reader */
	char name[VEIL_LEARN_NAME_MAX + 8], label[VEIL_LEARN_LABEL_MAX + 8];
	memset(name, 'n', VEIL_LEARN_NAME_MAX);
	name[VEIL_LEARN_NAME_MAX] = '\0'; /* 513 bytes */
	memset(label, 'c', VEIL_LEARN_LABEL_MAX);
	label[VEIL_LEARN_LABEL_MAX] = '\0'; /* 64 bytes */
	struct {
		const char *before, *arg, *after, *msg;
	} over[] = {
	        {"{" COLS_ARCH ",\"features\":[\"a\",\"", name, "\"]," COLS_LABEL "}",
	         "a feature name over 512 bytes"},
	        {"{" COLS_ARCH "," COLS_FEATS ",\"label\":{\"name\":\"", name,
	         "\",\"classes\":[\"no\",\"yes\"]}}", "a label name over 512 bytes"},
	        {"{" COLS_ARCH "," COLS_FEATS ",\"label\":{\"name\":\"y\",\"classes\":[\"", label,
	         "\",\"yes\"]}}", "a class label over 63 bytes"},
	        {"{" COLS_ARCH ",\"features\":[\"a\",\"", name + 2, "\\u00e9\"]," COLS_LABEL "}",
	         "a feature name over 512 bytes"},
	        {"{" COLS_ARCH "," COLS_FEATS ",\"label\":{\"name\":\"y\",\"classes\":[\"no\",\"", label + 2,
	         "\\u00e9\"]}}", "a class label over 63 bytes"},
	};
	for (size_t i = 0; i < sizeof over / sizeof over[0]; i++) {
		veil_buf b = {0};
		veil_err err = {0};
		assert_int_equal(
		        veil_buf_printf(&b, &err, "%s%s%s", over[i].before, over[i].arg, over[i].after),
		        VEIL_OK);
		assert_columns_refused((const char *)b.data, b.len, VEIL_E_INVALID, over[i].msg, 100 + i);
		veil_buf_free(&b);
	}
	/* the offset in the message is where the long name starts */
	veil_buf b = {0};
	veil_err err = {0};
	assert_int_equal(
	        veil_buf_printf(&b, &err, "{" COLS_ARCH ",\"features\":[\"a\",\"%s\"]," COLS_LABEL "}", name),
	        VEIL_OK);
	assert_columns_refused((const char *)b.data, b.len, VEIL_E_INVALID, "manifest offset 73: ", 200);
	veil_buf_free(&b);

	/* a bound of the reader: nesting in a skipped member; a manifest over
	 * VEIL_MODELFILE_MANIFEST_MAX, refused before it is read */
	assert_int_equal(veil_buf_printf(&b, &err, "{" COLS_ARCH "," COLS_FEATS "," COLS_LABEL ",\"x\":"),
	                 VEIL_OK);
	for (int i = 0; i < 70; i++)
		assert_int_equal(veil_buf_append(&b, "[", 1, &err), VEIL_OK);
	assert_columns_refused((const char *)b.data, b.len, VEIL_E_LIMIT, "nesting deeper than 64", 300);
	veil_buf_free(&b);
	size_t big = (size_t)VEIL_MODELFILE_MANIFEST_MAX + 1;
	char *huge = malloc(big);
	assert_non_null(huge);
	memset(huge, ' ', big);
	static const char good[] = "{" COLS_ARCH "," COLS_FEATS "," COLS_LABEL "}";
	memcpy(huge, good, sizeof good - 1);
	assert_columns_refused(huge, big, VEIL_E_LIMIT, "over 16777216", 301);
	/* the same text within the bound reads */
	veil_manifest_columns c;
	assert_int_equal(veil_modelfile_manifest_columns(huge, big - 1, &c, &err), VEIL_OK);
	assert_int_equal(c.n_features, 2);
	veil_manifest_columns_free(&c);
	free(huge);
}

/* A model file built by hand from the pieces of a good one, so that each
 * piece can be wrong on its own. */
typedef struct forge {
	veil_model *m;
	char *manifest;
	veil_st_entry e[4];
	veil_st_kv kv[4];
	size_t n_e, n_kv;
	float nan_w[4 * 2];
} forge;

static void forge_init(forge *g)
{
	memset(g, 0, sizeof *g);
	veil_model_spec s = spec_of(VEIL_MODEL_SOFTMAX, 4, 2, NULL, 0, VEIL_ACT_RELU);
	veil_err err = {0};
	veil_buf man = {0};
	assert_int_equal(veil_model_new(&s, 11, &g->m, &err), VEIL_OK);
	assert_int_equal(manifest_for(g->m, &man, &err), VEIL_OK);
	g->manifest = text_of(&man);
	veil_buf_free(&man);
	float *w, *b;
	size_t in, out;
	veil_model_layer(g->m, 0, &w, &in, &out, &b);
	g->e[0] = (veil_st_entry){.name = "layers.0.bias", .rank = 1, .shape = {out}, .data = b};
	g->e[1] = (veil_st_entry){
	        .name = "layers.0.weight", .rank = 2, .shape = {out, in}, .data = w, .transpose = true};
	g->n_e = 2;
	g->kv[0] = (veil_st_kv){"format", "veil-model"};
	g->kv[1] = (veil_st_kv){"format_version", "1"};
	g->kv[2] = (veil_st_kv){"veil.manifest", g->manifest};
	g->n_kv = 3;
}

static veil_status forge_read(forge *g, veil_err *err)
{
	veil_buf file = {0};
	veil_err werr = {0};
	assert_int_equal(veil_st_write(g->e, g->n_e, g->kv, g->n_kv, &file, &werr), VEIL_OK);
	veil_model *m = (veil_model *)1;
	char *text = (char *)1;
	veil_status st = veil_modelfile_read(file.data, file.len, &m, &text, err);
	if (st) {
		assert_null(m);
		assert_null(text);
	}
	veil_model_free(m);
	free(text);
	veil_buf_free(&file);
	return st;
}

static void forge_free(forge *g)
{
	veil_model_free(g->m);
	free(g->manifest);
}

static void test_model_tampering(void **state)
{
	(void)state;
	forge g;
	veil_err err = {0};
	forge_init(&g);
	assert_int_equal(forge_read(&g, &err), VEIL_OK); /* the unforged file reads */

	g.kv[0].value = "pt";
	assert_int_equal(forge_read(&g, &err), VEIL_E_INVALID);
	assert_msg(&err, "not a veil model file");
	g.n_kv = 0;
	assert_int_equal(forge_read(&g, &err), VEIL_E_INVALID);
	assert_msg(&err, "not a veil model file");
	forge_free(&g);

	forge_init(&g);
	g.kv[1].value = "2";
	assert_int_equal(forge_read(&g, &err), VEIL_E_UNSUPPORTED);
	assert_msg(&err, "format_version 2; this veil reads version 1");
	g.kv[1].value = "\x1b]0;x\x07";
	assert_int_equal(forge_read(&g, &err), VEIL_E_UNSUPPORTED);
	assert_null(strchr(err.msg, 0x1b));
	g.kv[1].value = "1";
	g.kv[3] = (veil_st_kv){"extra", "x"};
	g.n_kv = 4;
	assert_int_equal(forge_read(&g, &err), VEIL_E_INVALID);
	assert_msg(&err, "a __metadata__ entry other than");
	g.n_kv = 2; /* no manifest */
	assert_int_equal(forge_read(&g, &err), VEIL_E_INVALID);
	assert_msg(&err, "no veil.manifest");
	g.n_kv = 3;
	g.kv[2].value = "{\"architecture\":{\"kind\":\"softmax\",\"inputs\":4,\"classes\":3}}";
	assert_int_equal(forge_read(&g, &err), VEIL_E_INVALID);
	assert_msg(&err, "layers.0.weight is not of shape [3, 4]");
	g.kv[2].value = "{\"architecture\":{\"kind\":\"mlp\",\"inputs\":4,\"classes\":2,\"hidden\":[2],"
	                "\"activation\":\"relu\"}}";
	assert_int_equal(forge_read(&g, &err), VEIL_E_INVALID);
	assert_msg(&err, "2 tensors, where the architecture has 4");
	/* a model of nearly the most parameters allowed, claimed by a small file: refused on its
	 * tensors' shapes before a gigabyte is allocated for it */
	g.kv[2].value = "{\"architecture\":{\"kind\":\"softmax\",\"inputs\":65536,\"classes\":4000}}";
	assert_int_equal(forge_read(&g, &err), VEIL_E_INVALID);
	assert_msg(&err, "layers.0.weight is not of shape [4000, 65536]");
	g.kv[2].value = "not json";
	assert_int_equal(forge_read(&g, &err), VEIL_E_INVALID);
	assert_msg(&err, "model file: manifest offset 0:");
	g.kv[2].value = g.manifest;

	/* tensors: missing, renamed, reshaped, extra, non-finite */
	g.n_e = 1;
	assert_int_equal(forge_read(&g, &err), VEIL_E_INVALID);
	assert_msg(&err, "1 tensors, where the architecture has 2");
	g.n_e = 2;
	g.e[1].name = "layers.1.weight";
	assert_int_equal(forge_read(&g, &err), VEIL_E_INVALID);
	assert_msg(&err, "no tensor layers.0.weight");
	g.e[1].name = "layers.0.weight";
	g.e[1].transpose = false;
	g.e[1].shape[0] = 4;
	g.e[1].shape[1] = 2;
	assert_int_equal(forge_read(&g, &err), VEIL_E_INVALID);
	assert_msg(&err, "layers.0.weight is not of shape [2, 4]");
	g.e[1].shape[0] = 2;
	g.e[1].shape[1] = 4;
	g.e[1].transpose = true;
	g.e[0].rank = 2;
	g.e[0].shape[1] = 1;
	assert_int_equal(forge_read(&g, &err), VEIL_E_INVALID);
	assert_msg(&err, "layers.0.bias is not of shape [2]");
	g.e[0].rank = 1;
	g.e[2] = g.e[0];
	g.e[2].name = "layers.0.extra";
	g.n_e = 3;
	assert_int_equal(forge_read(&g, &err), VEIL_E_INVALID);
	assert_msg(&err, "3 tensors, where the architecture has 2");
	g.n_e = 2;
	for (size_t i = 0; i < 8; i++)
		g.nan_w[i] = 0.5f;
	g.nan_w[5] = NAN;
	g.e[1].data = g.nan_w;
	assert_int_equal(forge_read(&g, &err), VEIL_E_INVALID);
	assert_msg(&err, "layers.0.weight holds a non-finite value");
	g.nan_w[5] = INFINITY;
	assert_int_equal(forge_read(&g, &err), VEIL_E_INVALID);
	g.nan_w[5] = 0;
	assert_int_equal(forge_read(&g, &err), VEIL_OK);
	forge_free(&g);

	/* not safetensors at all: the parser's message, prefixed */
	veil_model *m;
	char *text;
	assert_int_equal(veil_modelfile_read((const uint8_t *)"junk", 4, &m, &text, &err), VEIL_E_INVALID);
	assert_msg(&err, "model file: safetensors: 4 bytes, fewer than the 8");
	assert_null(m);
	assert_null(text);
}

static void test_model_write_refusals(void **state)
{
	(void)state;
	size_t h[] = {3};
	veil_model_spec s = spec_of(VEIL_MODEL_MLP, 4, 2, h, 1, VEIL_ACT_RELU);
	veil_model *m;
	veil_err err = {0};
	veil_buf out = {0};
	assert_int_equal(veil_model_new(&s, 1, &m, &err), VEIL_OK);
	assert_int_equal(
	        veil_modelfile_write(m,
	                             "{\"architecture\":{\"kind\":\"mlp\",\"inputs\":4,\"classes\":2,"
	                             "\"hidden\":[3],\"activation\":\"tanh\"}}",
	                             &out, &err),
	        VEIL_E_INVALID);
	assert_msg(&err, "the manifest describes mlp 4-3-2 tanh but the model is mlp 4-3-2 relu");
	assert_int_equal(veil_modelfile_write(
	                         m, "{\"architecture\":{\"kind\":\"softmax\",\"inputs\":4,\"classes\":2}}",
	                         &out, &err),
	                 VEIL_E_INVALID);
	assert_msg(&err, "describes softmax 4-2 but the model is mlp 4-3-2 relu");
	assert_int_equal(veil_modelfile_write(m, "{}", &out, &err), VEIL_E_INVALID);
	assert_int_equal(out.len, 0);
	const char *ok = "{\"architecture\":{\"kind\":\"mlp\",\"inputs\":4,\"classes\":2,\"hidden\":[3],"
	                 "\"activation\":"
	                 "\"relu\"}}";
	veil_model_params(m)[7] = NAN;
	assert_int_equal(veil_modelfile_write(m, ok, &out, &err), VEIL_E_DIVERGED);
	assert_msg(&err, "non-finite");
	veil_model_params(m)[7] = 1;
	assert_int_equal(veil_modelfile_write(m, ok, &out, &err), VEIL_OK);
	/* a minimal manifest is enough for the reader; the host wants more */
	veil_model *back;
	char *text;
	assert_int_equal(veil_modelfile_read(out.data, out.len, &back, &text, &err), VEIL_OK);
	assert_string_equal(text, ok);
	free(text);
	veil_model_free(back);
	veil_buf_free(&out);
	veil_model_free(m);
}

/* ---- metrics ---- */

/* Probabilities that predict pred[i] (one-hot, 0.7 on the predicted class). */
static float *onehot(const int32_t *pred, size_t rows, size_t classes)
{
	float *p = calloc(rows * classes, sizeof *p);
	assert_non_null(p);
	for (size_t r = 0; r < rows; r++) {
		for (size_t c = 0; c < classes; c++)
			p[r * classes + c] = 0.3f / (float)(classes - 1);
		p[r * classes + (size_t)pred[r]] = 0.7f;
	}
	return p;
}

static void assert_near(double got, double want, double tol)
{
	if (!(fabs(got - want) <= tol))
		fail_msg("got %.17g, want %.17g", got, want);
}

/* scikit-learn's precision_recall_fscore_support, precision_score,
 * recall_score and f1_score docstrings: y_true [0,1,2,0,1,2], y_pred
 * [0,2,1,0,0,1]: macro precision 0.22, recall 0.33, F1 0.26; per class
 * F1 [0.8, 0, 0]. */
static void test_metrics_sklearn_prf(void **state)
{
	(void)state;
	static const int32_t y[] = {0, 1, 2, 0, 1, 2}, pred[] = {0, 2, 1, 0, 0, 1};
	float *p = onehot(pred, 6, 3);
	veil_metrics m;
	veil_err err = {0};
	assert_int_equal(veil_metrics_compute(p, y, 6, 3, &m, &err), VEIL_OK);
	assert_near(m.macro_precision, 2.0 / 9, 1e-15);
	assert_near(m.macro_recall, 1.0 / 3, 1e-15);
	assert_near(m.macro_f1, 0.8 / 3, 1e-15);
	assert_near(m.precision[0], 2.0 / 3, 1e-15);
	assert_near(m.recall[0], 1, 0);
	assert_near(m.f1[0], 0.8, 1e-15);
	for (int c = 1; c < 3; c++) {
		assert_near(m.precision[c], 0, 0);
		assert_near(m.recall[c], 0, 0);
		assert_near(m.f1[c], 0, 0);
	}
	assert_near(m.accuracy, 2.0 / 6, 1e-15);
	assert_int_equal(m.present, 3);
	assert_false(m.has_auc); /* not binary */
	veil_metrics_free(&m);
	free(p);
}

/* Zero division (precision_score's docstring, zero_division=0): y_pred all
 * 0 leaves classes 1 and 2 never predicted: precision [1/3, 0, 0], recall
 * [1, 0, 0], F1 [0.5, 0, 0]. */
static void test_metrics_zero_division(void **state)
{
	(void)state;
	static const int32_t y[] = {0, 1, 2, 0, 1, 2}, pred[] = {0, 0, 0, 0, 0, 0};
	float *p = onehot(pred, 6, 3);
	veil_metrics m;
	veil_err err = {0};
	assert_int_equal(veil_metrics_compute(p, y, 6, 3, &m, &err), VEIL_OK);
	assert_near(m.precision[0], 1.0 / 3, 1e-15);
	assert_near(m.precision[1], 0, 0);
	assert_near(m.precision[2], 0, 0);
	assert_near(m.recall[0], 1, 0);
	assert_near(m.f1[0], 0.5, 1e-15);
	assert_near(m.macro_precision, 1.0 / 9, 1e-15);
	assert_near(m.macro_f1, 0.5 / 3, 1e-15);
	veil_metrics_free(&m);
	free(p);

	/* a class in neither labels nor predictions: zeros, left out of the
	 * macro mean (scikit-learn's labels=None); 4 classes, class 3 absent */
	static const int32_t y2[] = {0, 1, 2, 0}, pred2[] = {0, 1, 1, 0};
	p = onehot(pred2, 4, 4);
	assert_int_equal(veil_metrics_compute(p, y2, 4, 4, &m, &err), VEIL_OK);
	assert_int_equal(m.present, 3);
	assert_near(m.f1[3], 0, 0);
	assert_near(m.precision[1], 0.5, 0);
	assert_near(m.macro_precision, (1 + 0.5 + 0) / 3, 1e-15);
	assert_near(m.macro_recall, (1 + 1 + 0) / 3.0, 1e-15);
	assert_near(m.macro_f1, (1 + 2.0 / 3 + 0) / 3, 1e-15);
	veil_metrics_free(&m);
	free(p);
}

/* confusion_matrix's docstring: y_true [2,0,2,2,0,1], y_pred
 * [0,0,2,2,0,2] gives [[2,0,0],[0,0,1],[1,0,2]]. */
static void test_metrics_confusion(void **state)
{
	(void)state;
	static const int32_t y[] = {2, 0, 2, 2, 0, 1}, pred[] = {0, 0, 2, 2, 0, 2};
	static const uint64_t want[] = {2, 0, 0, 0, 0, 1, 1, 0, 2};
	float *p = onehot(pred, 6, 3);
	veil_metrics m;
	veil_err err = {0};
	assert_int_equal(veil_metrics_compute(p, y, 6, 3, &m, &err), VEIL_OK);
	assert_memory_equal(m.confusion, want, sizeof want);
	assert_int_equal(m.support[2], 3);
	assert_int_equal(m.predicted[0], 3);
	assert_near(m.accuracy, 4.0 / 6, 1e-15);
	veil_metrics_free(&m);
	free(p);
}

static void binary(const float *p1, const int32_t *y, size_t n, veil_metrics *m)
{
	float p[64];
	assert_true(n <= 32);
	for (size_t i = 0; i < n; i++) {
		p[2 * i] = 1 - p1[i];
		p[2 * i + 1] = p1[i];
	}
	veil_err err = {0};
	assert_int_equal(veil_metrics_compute(p, y, n, 2, m, &err), VEIL_OK);
}

/* roc_auc_score's docstring example (y [0,0,1,1], scores [0.1,0.4,0.35,
 * 0.8]: 0.75), then ties counted one half, by hand. */
static void test_metrics_auc(void **state)
{
	(void)state;
	veil_metrics m;
	static const int32_t y1[] = {0, 0, 1, 1};
	static const float s1[] = {0.1f, 0.4f, 0.35f, 0.8f};
	binary(s1, y1, 4, &m);
	assert_true(m.has_auc);
	assert_near(m.roc_auc, 0.75, 1e-15);
	veil_metrics_free(&m);

	/* positives {0.5, 0.8}, negatives {0.5, 0.2}: 0.8 beats both (2),
	 * 0.5 beats 0.2 (1) and ties 0.5 (1/2): 3.5 of 4 pairs */
	static const int32_t y2[] = {0, 1, 0, 1};
	static const float s2[] = {0.5f, 0.5f, 0.2f, 0.8f};
	binary(s2, y2, 4, &m);
	assert_near(m.roc_auc, 0.875, 1e-15);
	veil_metrics_free(&m);

	/* all scores equal: every pair a tie */
	static const int32_t y3[] = {0, 1, 1, 0, 1};
	static const float s3[] = {0.3f, 0.3f, 0.3f, 0.3f, 0.3f};
	binary(s3, y3, 5, &m);
	assert_near(m.roc_auc, 0.5, 1e-15);
	veil_metrics_free(&m);

	/* a run of ties in the middle, ranks 1..8: positives at scores
	 * 0.9 (rank 8), 0.6 (ranks 4-7 tie: 5.5, two of them), 0.1 (rank 1);
	 * U = 8 + 5.5 + 5.5 + 1 - 4*5/2 = 10, over 4 * 4 pairs */
	static const int32_t y4[] = {1, 1, 0, 1, 0, 0, 1, 0};
	static const float s4[] = {0.9f, 0.6f, 0.6f, 0.6f, 0.6f, 0.3f, 0.1f, 0.2f};
	binary(s4, y4, 8, &m);
	assert_near(m.roc_auc, 10.0 / 16, 1e-15);
	veil_metrics_free(&m);

	/* reversed scores: 0; one class only: undefined */
	static const float s5[] = {0.9f, 0.6f, 0.4f, 0.2f};
	static const int32_t y5[] = {0, 0, 1, 1};
	binary(s5, y5, 4, &m);
	assert_near(m.roc_auc, 0, 0);
	veil_metrics_free(&m);
	static const int32_t y6[] = {1, 1, 1, 1};
	binary(s5, y6, 4, &m);
	assert_false(m.has_auc);
	veil_metrics_free(&m);
}

/* log_loss's docstring: log_loss(["spam", "ham", "ham", "spam"],
 * [[.1, .9], [.9, .1], [.8, .2], [.35, .65]]) = 0.21616...; the exact
 * double from these float32 inputs differs by about 2e-8. Then clipping:
 * a probability of 0 for the true class costs -ln(1e-15). */
static void test_metrics_log_loss(void **state)
{
	(void)state;
	static const float p[] = {0.1f, 0.9f, 0.9f, 0.1f, 0.8f, 0.2f, 0.35f, 0.65f};
	static const int32_t y[] = {1, 0, 0, 1}; /* ham 0, spam 1 */
	veil_metrics m;
	veil_err err = {0};
	assert_int_equal(veil_metrics_compute(p, y, 4, 2, &m, &err), VEIL_OK);
	assert_near(m.log_loss, 0.21616187468057912, 5e-8);
	assert_near(m.accuracy, 1, 0);
	veil_metrics_free(&m);

	static const float q[] = {1, 0, 0, 1};
	static const int32_t yq[] = {1, 1};
	assert_int_equal(veil_metrics_compute(q, yq, 2, 2, &m, &err), VEIL_OK);
	assert_near(m.log_loss, (34.538776394910684 + 9.992007221626415e-16) / 2, 1e-12);
	veil_metrics_free(&m);
}

static void test_metrics_refusals(void **state)
{
	(void)state;
	float p[] = {0.5f, 0.5f, 0.2f, 0.8f};
	int32_t y[] = {0, 2};
	veil_metrics m;
	veil_err err = {0};
	assert_int_equal(veil_metrics_compute(p, y, 2, 2, &m, &err), VEIL_E_INVALID);
	assert_msg(&err, "row 1 has label 2, outside 0..1");
	y[1] = -1;
	assert_int_equal(veil_metrics_compute(p, y, 2, 2, &m, &err), VEIL_E_INVALID);
	y[1] = 1;
	p[3] = NAN;
	assert_int_equal(veil_metrics_compute(p, y, 2, 2, &m, &err), VEIL_E_INVALID);
	assert_msg(&err, "row 1, class 1");
	p[3] = 1.5f;
	assert_int_equal(veil_metrics_compute(p, y, 2, 2, &m, &err), VEIL_E_INVALID);
	p[3] = 0.8f;
	assert_int_equal(veil_metrics_compute(p, y, 0, 2, &m, &err), VEIL_E_INVALID);
	assert_int_equal(veil_metrics_compute(p, y, 2, 1, &m, &err), VEIL_E_INVALID);
	veil_metrics z;
	memset(&z, 0, sizeof z);
	assert_memory_equal(&m, &z, sizeof z);
	assert_int_equal(veil_metrics_compute(p, y, 2, 2, &m, &err), VEIL_OK);
	veil_metrics_free(&m);
	veil_metrics_free(NULL);
}

/* The JSON, byte for byte, for a small binary case; argmax ties go to
 * the lower class. */
static void test_metrics_json(void **state)
{
	(void)state;
	static const float p[] = {0.5f, 0.5f, 0.25f, 0.75f, 1, 0};
	static const int32_t y[] = {1, 1, 0};
	veil_metrics m;
	veil_err err = {0};
	assert_int_equal(veil_metrics_compute(p, y, 3, 2, &m, &err), VEIL_OK);
	veil_buf out = {0};
	veil_jw w;
	veil_jw_init(&w, &out);
	static const char *const labels[] = {"ham", "spam"};
	veil_metrics_write_json(&w, &m, labels);
	assert_int_equal(veil_jw_finish(&w, &err), VEIL_OK);
	char *t = text_of(&out);
	/* row 0 ties and is predicted 0 (wrong), row 1 right, row 2 right:
	 * class 0 tp 1 fp 1 fn 0, class 1 tp 1 fp 0 fn 1; AUC: positives
	 * 0.5, 0.75 over the negative 0: 1 */
	/* log loss (ln 2 + ln(4/3) + -ln(1 - 1e-15)) / 3, as Python computes it */
	assert_string_equal(t,
	                    "{\"rows\":3,\"classes\":2,\"accuracy\":0.66666666666666663,"
	                    "\"precision\":0.75,\"recall\":0.75,\"f1\":0.66666666666666663,\"roc_auc\":1,"
	                    "\"log_loss\":0.3269430843372424,\"per_class\":["
	                    "{\"class\":\"ham\",\"precision\":0.5,\"recall\":1,\"f1\":0.66666666666666663,"
	                    "\"support\":1,\"predicted\":2},"
	                    "{\"class\":\"spam\",\"precision\":1,\"recall\":0.5,\"f1\":0.66666666666666663,"
	                    "\"support\":2,\"predicted\":1}],\"confusion\":[[1,0],[1,1]]}");
	free(t);
	out.len = 0;
	veil_jw_init(&w, &out);
	veil_metrics_write_json(&w, &m, NULL);
	assert_int_equal(veil_jw_finish(&w, &err), VEIL_OK);
	t = text_of(&out);
	assert_non_null(strstr(t, "{\"class\":\"1\","));
	free(t);
	veil_buf_free(&out);
	veil_metrics_free(&m);
}

/* veil_metrics_of_model on models whose weights are set by hand, so that
 * every prediction is known: the figures are computed here from them. */
static void test_metrics_of_model(void **state)
{
	(void)state;
	veil_err err = {0};
	veil_metrics m;
	float *w, *b;
	size_t in, out;

	/* softmax regression, 2 inputs, 3 classes: logits (x0, x1, 0.5) */
	veil_model *sm;
	veil_model_spec s = spec_of(VEIL_MODEL_SOFTMAX, 2, 3, NULL, 0, VEIL_ACT_RELU);
	assert_int_equal(veil_model_new(&s, 1, &sm, &err), VEIL_OK);
	assert_int_equal(veil_model_layers(sm), 1);
	veil_model_layer(sm, 0, &w, &in, &out, &b);
	assert_int_equal(in, 2);
	assert_int_equal(out, 3);
	static const float w3[] = {1, 0, 0, 0, 1, 0}, b3[] = {0, 0, 0.5f};
	memcpy(w, w3, sizeof w3);
	memcpy(b, b3, sizeof b3);
	/* predicted 0, 1, 2, 2, 0, 1 */
	static const float x3[] = {3, 0, 0, 3, 0, 0, -3, -3, 3, 1, 1, 3};
	static const int32_t y3[] = {0, 1, 2, 0, 1, 1};
	veil_matrix d = {.x = x3, .y = y3, .rows = 6, .cols = 2};
	memset(&m, 0xa5, sizeof m);
	assert_int_equal(veil_metrics_of_model(sm, &d, &m, &err), VEIL_OK);
	static const uint64_t conf3[] = {1, 0, 1, 1, 2, 0, 0, 0, 1};
	static const uint64_t support3[] = {2, 3, 1}, predicted3[] = {2, 2, 2};
	assert_int_equal(m.rows, 6);
	assert_int_equal(m.classes, 3);
	assert_near(m.accuracy, 4.0 / 6, 1e-15);
	assert_memory_equal(m.confusion, conf3, sizeof conf3);
	assert_memory_equal(m.support, support3, sizeof support3);
	assert_memory_equal(m.predicted, predicted3, sizeof predicted3);
	assert_near(m.precision[1], 1, 0);
	assert_near(m.recall[1], 2.0 / 3, 1e-15);
	assert_false(m.has_auc);
	/* log loss: the mean of -ln softmax(logits)[y], in double here; the
	 * model computes in float */
	double ll = 0;
	for (size_t r = 0; r < 6; r++) {
		double z[3] = {x3[2 * r], x3[2 * r + 1], 0.5}, sum = 0;
		for (int k = 0; k < 3; k++)
			sum += exp(z[k]);
		ll -= log(exp(z[y3[r]]) / sum);
	}
	assert_near(m.log_loss, ll / 6, 1e-6);
	veil_metrics_free(&m);

	/* rows 0 is refused and leaves the result zeroed; so is a label
	 * outside the model's classes */
	veil_metrics z;
	memset(&z, 0, sizeof z);
	d.rows = 0;
	memset(&m, 0xa5, sizeof m);
	assert_int_equal(veil_metrics_of_model(sm, &d, &m, &err), VEIL_E_INVALID);
	assert_msg(&err, "0 rows");
	assert_memory_equal(&m, &z, sizeof z);
	static const int32_t y_bad[] = {0, 1, 3};
	d = (veil_matrix){.x = x3, .y = y_bad, .rows = 3, .cols = 2};
	memset(&m, 0xa5, sizeof m);
	assert_int_equal(veil_metrics_of_model(sm, &d, &m, &err), VEIL_E_INVALID);
	assert_msg(&err, "row 2 has label 3, outside 0..2");
	assert_memory_equal(&m, &z, sizeof z);
	veil_model_free(sm);

	/* logistic regression, 1 input: P(1) = σ(2x - 1). x = 0.5 gives
	 * exactly 0.5, a tie that goes to class 0 (numpy's argmax) */
	veil_model *lr;
	s = spec_of(VEIL_MODEL_LOGREG, 1, 2, NULL, 0, VEIL_ACT_RELU);
	assert_int_equal(veil_model_new(&s, 1, &lr, &err), VEIL_OK);
	veil_model_layer(lr, 0, &w, &in, &out, &b);
	assert_int_equal(in, 1);
	assert_int_equal(out, 1);
	w[0] = 2;
	b[0] = -1;
	/* predicted 0, 0, 0 (the tie), 1, 1 */
	static const float x1[] = {-1, 0, 0.5f, 1, 2};
	static const int32_t y1[] = {0, 1, 1, 1, 0};
	d = (veil_matrix){.x = x1, .y = y1, .rows = 5, .cols = 1};
	assert_int_equal(veil_metrics_of_model(lr, &d, &m, &err), VEIL_OK);
	static const uint64_t conf2[] = {1, 1, 2, 1};
	assert_near(m.accuracy, 2.0 / 5, 1e-15);
	assert_memory_equal(m.confusion, conf2, sizeof conf2);
	assert_int_equal(m.predicted[0], 3);
	assert_int_equal(m.predicted[1], 2);
	assert_near(m.precision[1], 0.5, 0);
	assert_near(m.recall[1], 1.0 / 3, 1e-15);
	/* positives score σ(-1), σ(0), σ(1); negatives σ(-3), σ(3): each
	 * positive beats one negative, 3 of 6 pairs */
	assert_true(m.has_auc);
	assert_near(m.roc_auc, 0.5, 1e-15);
	veil_metrics_free(&m);
	veil_model_free(lr);
}

/* ---- the C side of tests/learn/safetensors_check.py ---- */

static int helper_fail(const char *what, const veil_err *err)
{
	fprintf(stderr, "test_model: %s: %s\n", what, err ? err->msg : "");
	return 1;
}

static int write_file(const char *path, const veil_buf *b)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(b->data, 1, b->len, f) != b->len || fclose(f) != 0)
		return helper_fail("cannot write the file", NULL);
	return 0;
}

/* The tensors safetensors_check.py expects (it computes the same values). */
static int helper_st_write(const char *path)
{
	float alpha[6], beta[] = {1e-3f, -2.5f, 3.4028235e38f, -0.0f}, scalar = 42.25f,
	                m23[] = {1, 2, 3, 4, 5, 6};
	for (int i = 0; i < 6; i++)
		alpha[i] = (float)i * 0.5f - 1;
	veil_st_entry e[] = {
	        {.name = "alpha", .rank = 2, .shape = {2, 3}, .data = alpha},
	        {.name = "beta", .rank = 1, .shape = {4}, .data = beta},
	        {.name = "gamma.scalar", .rank = 0, .data = &scalar},
	        {.name = "delta.T", .rank = 2, .shape = {3, 2}, .data = m23, .transpose = true},
	        {.name = "empty", .rank = 2, .shape = {0, 5}},
	};
	veil_st_kv kv[] = {{"framework", "veil"}, {"note", "caf\xc3\xa9 \"quoted\" \\ back"}};
	veil_buf out = {0};
	veil_err err = {0};
	if (veil_st_write(e, 5, kv, 2, &out, &err))
		return helper_fail("st-write", &err);
	int rc = write_file(path, &out);
	veil_buf_free(&out);
	return rc;
}

/* Prints what a file holds: "meta KEY VALUE" and "tensor NAME RANK DIMS...
 * : BITS..." with each float's bits in hex, so the comparison is exact. */
static int helper_st_read(const char *path)
{
	veil_buf in = {0};
	veil_err err = {0};
	veil_st_file f;
	if (veil_fs_read_file(path, VEIL_FS_READ_MAX, &in, &err) || veil_st_parse(in.data, in.len, &f, &err))
		return helper_fail("st-read", &err);
	for (size_t i = 0; i < f.n_meta; i++)
		printf("meta %s %s\n", f.meta[i].key, f.meta[i].value);
	for (size_t i = 0; i < f.n_tensors; i++) {
		const veil_st_tensor *t = &f.tensors[i];
		printf("tensor %s %zu", t->name, t->rank);
		for (size_t d = 0; d < t->rank; d++)
			printf(" %llu", (unsigned long long)t->shape[d]);
		printf(" :");
		for (size_t k = 0; k < t->count; k++) {
			float v = veil_st_f32(t, k);
			uint32_t u;
			memcpy(&u, &v, 4);
			printf(" %08x", (unsigned)u);
		}
		printf("\n");
	}
	veil_st_free(&f);
	veil_buf_free(&in);
	return 0;
}

/* A veil model file (MLP 4-5-3-3, ReLU), then two input rows and the
 * probabilities veil predicts for them, as "x ..." and "p ..." lines. */
static int helper_model_write(const char *path)
{
	size_t h[] = {5, 3};
	veil_model_spec s = spec_of(VEIL_MODEL_MLP, 4, 3, h, 2, VEIL_ACT_RELU);
	veil_model *m;
	veil_err err = {0};
	veil_buf man = {0}, out = {0};
	if (veil_model_new(&s, 2026, &m, &err) || manifest_for(m, &man, &err))
		return helper_fail("model-write", &err);
	char *text = text_of(&man);
	int rc = veil_modelfile_write(m, text, &out, &err) ? helper_fail("model-write", &err)
	                                                   : write_file(path, &out);
	float x[8] = {0.5f, -1.25f, 2, 0.125f, -0.75f, 1.5f, 0.25f, -2};
	float p[6];
	if (!rc && veil_model_predict(m, x, 2, p, &err))
		rc = helper_fail("predict", &err);
	for (int r = 0; !rc && r < 2; r++) {
		printf("x %.9g %.9g %.9g %.9g\n", x[4 * r], x[4 * r + 1], x[4 * r + 2], x[4 * r + 3]);
		printf("p %.9g %.9g %.9g\n", p[3 * r], p[3 * r + 1], p[3 * r + 2]);
	}
	free(text);
	veil_buf_free(&man);
	veil_buf_free(&out);
	veil_model_free(m);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "st-write") == 0)
		return helper_st_write(argv[2]);
	if (argc == 3 && strcmp(argv[1], "st-read") == 0)
		return helper_st_read(argv[2]);
	if (argc == 3 && strcmp(argv[1], "model-write") == 0)
		return helper_model_write(argv[2]);
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_st_hf_vector),
	        cmocka_unit_test(test_st_hf_alignment),
	        cmocka_unit_test(test_st_hf_empty),
	        cmocka_unit_test(test_st_hf_i32_unsupported),
	        cmocka_unit_test(test_st_round_trip),
	        cmocka_unit_test(test_st_accepts),
	        cmocka_unit_test(test_st_refusals),
	        cmocka_unit_test(test_st_frame),
	        cmocka_unit_test(test_st_counts),
	        cmocka_unit_test(test_st_write_refusals),
	        cmocka_unit_test(test_model_round_trips),
	        cmocka_unit_test(test_model_manifest),
	        cmocka_unit_test(test_model_manifest_spec),
	        cmocka_unit_test(test_model_columns),
	        cmocka_unit_test(test_model_columns_refusals),
	        cmocka_unit_test(test_model_tampering),
	        cmocka_unit_test(test_model_write_refusals),
	        cmocka_unit_test(test_metrics_sklearn_prf),
	        cmocka_unit_test(test_metrics_zero_division),
	        cmocka_unit_test(test_metrics_confusion),
	        cmocka_unit_test(test_metrics_auc),
	        cmocka_unit_test(test_metrics_log_loss),
	        cmocka_unit_test(test_metrics_refusals),
	        cmocka_unit_test(test_metrics_json),
	        cmocka_unit_test(test_metrics_of_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
