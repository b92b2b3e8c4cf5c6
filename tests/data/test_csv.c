/* Unit tests for the CSV reader and the columnar table (veil/data_csv.h,
 * docs/formats/csv.md): the RFC 4180 examples, every error with its exact
 * position, line ends, the byte order mark, limits that fail without
 * reading the rest, random files round-tripped through a writer, every
 * chunk boundary of a tricky input, UTF-8 vectors, table conversions,
 * nulls, redacted errors and type inference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "veil/data.h"

/* A stream over memory. split > 0 caps the first read at split bytes,
 * step > 0 caps every read at step bytes; fail_at > 0 fails the read that
 * would pass that offset. */
typedef struct mem {
	const uint8_t *p;
	size_t len, off, split, step, fail_at;
	size_t reads;
} mem;

static veil_status mem_read(void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err)
{
	mem *m = ctx;
	size_t k = m->len - m->off;
	if (k > n)
		k = n;
	if (m->reads == 0 && m->split && k > m->split)
		k = m->split;
	if (m->step && k > m->step)
		k = m->step;
	if (m->fail_at && m->off + k >= m->fail_at)
		return veil_err_set(err, VEIL_E_IO, "read failed");
	memcpy(buf, m->p + m->off, k);
	m->off += k;
	m->reads++;
	*got = k;
	return VEIL_OK;
}

/* Parses everything and writes a dump: per row "line:" then per field
 * "len[q]=value;" — or the error as "E<code> msg". */
static veil_status parse_dump(const void *in, size_t len, size_t split, size_t step, const veil_csv_opts *o,
                              veil_buf *dump, veil_err *err)
{
	mem m = {.p = in, .len = len, .split = split, .step = step};
	veil_csv_reader *r = NULL;
	veil_status st = veil_csv_reader_new(o, mem_read, &m, &r, err);
	if (st != VEIL_OK) {
		assert_null(r);
		return st;
	}
	const veil_csv_field *h;
	size_t nh;
	veil_csv_header(r, &h, &nh);
	assert_true(veil_buf_printf(dump, NULL, "H") == VEIL_OK);
	for (size_t c = 0; c < nh; c++)
		assert_true(veil_buf_printf(dump, NULL, "%zu=%s;", h[c].len, h[c].p) == VEIL_OK);
	for (;;) {
		veil_csv_row row;
		st = veil_csv_next(r, &row, err);
		if (st != VEIL_OK || row.n == 0)
			break;
		assert_int_equal(row.n, nh);
		assert_true(veil_buf_printf(dump, NULL, "\n%llu:", (unsigned long long)row.line) == VEIL_OK);
		for (size_t c = 0; c < row.n; c++) {
			assert_int_equal(row.fields[c].p[row.fields[c].len], 0);
			assert_true(veil_buf_printf(dump, NULL, "%zu%s=", row.fields[c].len,
			                            row.fields[c].quoted ? "q" : "") == VEIL_OK);
			assert_true(veil_buf_append(dump, row.fields[c].p, row.fields[c].len, NULL) ==
			            VEIL_OK);
			assert_true(veil_buf_append(dump, ";", 1, NULL) == VEIL_OK);
		}
	}
	veil_csv_reader_free(r);
	return st;
}

static char *dump_of(const char *in, size_t len, size_t split, size_t step, const veil_csv_opts *o)
{
	veil_buf d = {0};
	veil_err e = {0};
	veil_status st = parse_dump(in, len, split, step, o, &d, &e);
	if (st != VEIL_OK) {
		veil_buf_free(&d);
		assert_true(veil_buf_printf(&d, NULL, "E%d %s", (int)st, e.msg) == VEIL_OK);
	}
	assert_true(veil_buf_append(&d, "", 1, NULL) == VEIL_OK);
	return (char *)d.data;
}

static void expect_dump(const char *in, size_t len, const char *want)
{
	char *whole = dump_of(in, len, 0, 0, NULL);
	char *bytes = dump_of(in, len, 0, 1, NULL);
	assert_string_equal(whole, want);
	assert_string_equal(bytes, want);
	free(whole);
	free(bytes);
}

#define S(lit) (lit), (sizeof(lit) - 1)

static void test_rfc4180(void **state)
{
	(void)state;
	/* RFC 4180 section 2, examples 1 to 7 (each given a header). */
	expect_dump(S("aaa,bbb,ccc\r\nzzz,yyy,xxx\r\n"), "H3=aaa;3=bbb;3=ccc;\n2:3=zzz;3=yyy;3=xxx;");
	expect_dump(S("aaa,bbb,ccc\r\nzzz,yyy,xxx"), "H3=aaa;3=bbb;3=ccc;\n2:3=zzz;3=yyy;3=xxx;");
	expect_dump(S("h1,h2,h3\r\naaa,bbb,ccc\r\nzzz,yyy,xxx\r\n"),
	            "H2=h1;2=h2;2=h3;\n2:3=aaa;3=bbb;3=ccc;\n3:3=zzz;3=yyy;3=xxx;");
	expect_dump(S("a,b,c\r\naaa,bbb,ccc\r\n"), "H1=a;1=b;1=c;\n2:3=aaa;3=bbb;3=ccc;");
	expect_dump(S("\"aaa\",\"bbb\",\"ccc\"\r\nzzz,yyy,xxx"), "H3=aaa;3=bbb;3=ccc;\n2:3=zzz;3=yyy;3=xxx;");
	expect_dump(S("a,b,c\r\n\"aaa\",\"b\r\nbb\",\"ccc\"\r\nzzz,yyy,xxx"),
	            "H1=a;1=b;1=c;\n2:3q=aaa;5q=b\r\nbb;3q=ccc;\n4:3=zzz;3=yyy;3=xxx;");
	expect_dump(S("a,b,c\r\n\"aaa\",\"b\"\"bb\",\"ccc\""), "H1=a;1=b;1=c;\n2:3q=aaa;4q=b\"bb;3q=ccc;");
	/* Empty fields, quoted and not; a trailing delimiter; spaces kept. */
	expect_dump(S("a,b,c\n,\"\", x \n"), "H1=a;1=b;1=c;\n2:0=;0q=;3= x ;");
	expect_dump(S("a,b\n1,\n"), "H1=a;1=b;\n2:1=1;0=;");
	/* A header only, with and without its line end. */
	expect_dump(S("a,b\n"), "H1=a;1=b;");
	expect_dump(S("a,b"), "H1=a;1=b;");
	/* One column: a blank line is a record with one empty field. */
	expect_dump(S("a\n\nx\n"), "H1=a;\n2:0=;\n3:1=x;");
	/* The example of docs/formats/csv.md section 5. */
	expect_dump(
	        S("id,name,notes\n1,\"Smith, Ann\",\"said \"\"fine\"\"\nthen left\"\n2,Bob,\n"),
	        "H2=id;4=name;5=notes;\n2:1=1;10q=Smith, Ann;21q=said \"fine\"\nthen left;\n4:1=2;3=Bob;0=;");
	/* Multi-byte UTF-8 and a quote-only field. */
	expect_dump(S("n\n\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n\"\"\"\"\n"),
	            "H1=n;\n2:9=\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80;\n3:1q=\";");
}

typedef struct bad_case {
	const char *in;
	size_t len;
	veil_status code;
	const char *msg; /* the whole message */
	size_t max_field, max_row, max_cols;
} bad_case;

#define B(lit) (lit), (sizeof(lit) - 1)

static void test_errors(void **state)
{
	(void)state;
	static const bad_case cases[] = {
	        {B(""), VEIL_E_INVALID, "line 1, column 1: the input is empty", 0, 0, 0},
	        {B("\xef\xbb\xbf"), VEIL_E_INVALID, "line 1, column 1: the input is empty", 0, 0, 0},
	        {B("a,b\n1,\"2\n"), VEIL_E_INVALID, "line 2, column 3: a quoted field that is never closed",
	         0, 0, 0},
	        {B("a,b\n\"x\ny\",2\n3,\"4\n"), VEIL_E_INVALID,
	         "line 4, column 3: a quoted field that is never closed", 0, 0, 0},
	        {B("a,b\n1,2\"x\n"), VEIL_E_INVALID, "line 2, column 4: a quote inside an unquoted field", 0,
	         0, 0},
	        {B("a\"b\n"), VEIL_E_INVALID, "line 1, column 2: a quote inside an unquoted field", 0, 0, 0},
	        {B("a,b\n\"1\"x,2\n"), VEIL_E_INVALID,
	         "line 2, column 4: a character after the closing quote of a field", 0, 0, 0},
	        {B("a,b\n\"x\ny\"z,2\n"), VEIL_E_INVALID,
	         "line 3, column 3: a character after the closing quote of a field", 0, 0, 0},
	        {B("a,b\n\"1\" ,2\n"), VEIL_E_INVALID,
	         "line 2, column 4: a character after the closing quote of a field", 0, 0, 0},
	        {B("a,b\n1,2,3\n"), VEIL_E_INVALID, "line 2, column 5: more fields than the header has", 0, 0,
	         0},
	        {B("a,b\n1\n"), VEIL_E_INVALID, "line 2, column 2: 1 field where the header has 2", 0, 0, 0},
	        {B("a,b\r\n1\r\n"), VEIL_E_INVALID, "line 2, column 2: 1 field where the header has 2", 0, 0,
	         0},
	        {B("a,b,c\n1,2"), VEIL_E_INVALID, "line 2, column 4: 2 fields where the header has 3", 0, 0,
	         0},
	        {B("a,b\n\n1,2\n"), VEIL_E_INVALID, "line 2, column 1: 1 field where the header has 2", 0, 0,
	         0},
	        {B("a,b\n1,2\n\n"), VEIL_E_INVALID, "line 3, column 1: 1 field where the header has 2", 0, 0,
	         0},
	        {B("a,b\n1,\xc0\x80\n"), VEIL_E_INVALID, "line 2, column 3: invalid UTF-8", 0, 0, 0},
	        {B("a,b\n1,x\xed\xa0\x80\n"), VEIL_E_INVALID, "line 2, column 4: invalid UTF-8", 0, 0, 0},
	        {B("a,b\n1,\xf4\x90\x80\x80\n"), VEIL_E_INVALID, "line 2, column 3: invalid UTF-8", 0, 0, 0},
	        {B("a,b\n1,\xf5\n"), VEIL_E_INVALID, "line 2, column 3: invalid UTF-8", 0, 0, 0},
	        {B("a,b\n1,\x80\n"), VEIL_E_INVALID, "line 2, column 3: invalid UTF-8", 0, 0, 0},
	        {B("a,b\n1,\"\xe0\x80\xaf\"\n"), VEIL_E_INVALID, "line 2, column 4: invalid UTF-8", 0, 0, 0},
	        {B("a,b\n\xe2\x82,1\n"), VEIL_E_INVALID, "line 2, column 1: invalid UTF-8", 0, 0, 0},
	        {B("a,b\n1,\xe2\x82"), VEIL_E_INVALID, "line 2, column 3: a truncated UTF-8 sequence", 0, 0,
	         0},
	        {B("a,b\n1,\"\xf0\x9f\x98"), VEIL_E_INVALID, "line 2, column 4: a truncated UTF-8 sequence",
	         0, 0, 0},
	        {B("a,b\n1,x\0y\n"), VEIL_E_INVALID, "line 2, column 4: a NUL byte", 0, 0, 0},
	        {B("a,b\n1,\"x\0\"\n"), VEIL_E_INVALID, "line 2, column 5: a NUL byte", 0, 0, 0},
	        {B("a,b\r1,2\n"), VEIL_E_INVALID,
	         "line 1, column 4: a carriage return not followed by a line feed", 0, 0, 0},
	        {B("a,b\n1,2\r"), VEIL_E_INVALID,
	         "line 2, column 4: a carriage return not followed by a line feed", 0, 0, 0},
	        {B("a,,c\n"), VEIL_E_INVALID, "line 1, column 3: column 2 has an empty name", 0, 0, 0},
	        {B("a,b,\"a\"\n"), VEIL_E_INVALID, "line 1, column 5: column 3 has the same name as column 1",
	         0, 0, 0},
	        {B("\xef\xbb\xbf"
	           "a,\"b\"x\n"),
	         VEIL_E_INVALID, "line 1, column 6: a character after the closing quote of a field", 0, 0, 0},
	        {B("a,b,c,d\n"), VEIL_E_LIMIT, "line 1, column 7: too many columns", 0, 0, 3},
	        {B("a\n12345\n"), VEIL_E_LIMIT, "line 2, column 1: a field longer than the limit", 4, 0, 0},
	        {B("a,b\n1,\"x\n1234\"\n"), VEIL_E_LIMIT, "line 2, column 3: a field longer than the limit",
	         4, 0, 0},
	        {B("a,b\n1234,5678\n"), VEIL_E_LIMIT, "line 2, column 1: a record longer than the limit", 0,
	         8, 0},
	        /* The example of docs/formats/csv.md section 5, spoiled twice. */
	        {B("id,name,notes\n1,\"Smith, Ann\",\"said \"\"fine\"\"\nthen left\"\n2,Bob\n"),
	         VEIL_E_INVALID, "line 4, column 6: 2 fields where the header has 3", 0, 0, 0},
	        {B("id,name,notes\n1,\"Smith\" Ann,\"said \"\"fine\"\"\nthen left\"\n2,Bob,\n"),
	         VEIL_E_INVALID, "line 2, column 10: a character after the closing quote of a field", 0, 0,
	         0},
	        /* The limits stop the scan where they are passed, so a later error
	         * is not seen, however the bytes arrive. */
	        {B("a\n12345\xff\n"), VEIL_E_LIMIT, "line 2, column 1: a field longer than the limit", 4, 0,
	         0},
	        {B("a\n\"1\"\"345\xff\"\n"), VEIL_E_LIMIT, "line 2, column 1: a field longer than the limit",
	         4, 0, 0},
	        {B("a,b\n1234,5678\xff\n"), VEIL_E_INVALID, "line 2, column 10: invalid UTF-8", 0, 8, 0},
	        {B("a,b\n1234,56789a\xff\n"), VEIL_E_LIMIT,
	         "line 2, column 1: a record longer than the limit", 0, 8, 0},
	        {B("a,b\n1234,567\xe2\x82\xac\n"), VEIL_E_LIMIT,
	         "line 2, column 1: a record longer than the limit", 0, 8, 0},
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		const bad_case *c = &cases[k];
		veil_csv_opts o = {
		        .max_field = c->max_field, .max_row = c->max_row, .max_columns = c->max_cols};
		char want[600];
		snprintf(want, sizeof want, "E%d %s", (int)c->code, c->msg);
		for (size_t step = 0; step < 4; step++) {
			char *got = dump_of(c->in, c->len, 0, step, &o);
			if (strcmp(got, want) != 0)
				fail_msg("case %zu step %zu: got \"%s\", want \"%s\"", k, step, got, want);
			free(got);
		}
	}
}

static void test_line_ends(void **state)
{
	(void)state;
	const char *want = "H1=a;1=b;\n2:1=1;1=2;\n3:3q=x\ny;1=3;\n5:1=4;1=5;";
	expect_dump(S("a,b\n1,2\n\"x\ny\",3\n4,5\n"), want);
	expect_dump(S("a,b\n1,2\n\"x\ny\",3\n4,5"), want);
	expect_dump(S("a,b\r\n1,2\r\n\"x\ny\",3\r\n4,5\r\n"), want);
	expect_dump(S("a,b\r\n1,2\n\"x\ny\",3\r\n4,5"), want);
	/* CR LF inside quotes is data, and counts as one line. */
	expect_dump(S("a,b\r\n\"x\r\ny\",1\r\n2,3\r\n"), "H1=a;1=b;\n2:4q=x\r\ny;1=1;\n4:1=2;1=3;");
	/* A lone CR inside quotes is data too and does not start a line. */
	expect_dump(S("a\n\"x\ry\"\n2\n"), "H1=a;\n2:3q=x\ry;\n3:1=2;");
}

static void test_bom(void **state)
{
	(void)state;
	expect_dump(S("\xef\xbb\xbf"
	              "a,b\n1,2\n"),
	            "H1=a;1=b;\n2:1=1;1=2;");
	expect_dump(S("\xef\xbb\xbf"
	              "\"a\",b\n"),
	            "H1=a;1=b;");
	/* Only at the very start: elsewhere it is U+FEFF, kept as data. */
	expect_dump(S("a\n\xef\xbb\xbfx\n"), "H1=a;\n2:4=\xef\xbb\xbfx;");
	expect_dump(S("\xef\xbb"), "E1 line 1, column 1: a truncated UTF-8 sequence");
}

static void test_delimiters(void **state)
{
	(void)state;
	veil_csv_opts o = {.delimiter = ';'};
	char *d = dump_of(S("a;b\n1,5;\"x;y\"\n"), 0, 1, &o);
	assert_string_equal(d, "H1=a;1=b;\n2:3=1,5;3q=x;y;");
	free(d);
	o.delimiter = '\t';
	d = dump_of(S("a\tb\n1\t2\n"), 0, 0, &o);
	assert_string_equal(d, "H1=a;1=b;\n2:1=1;1=2;");
	free(d);
	o.delimiter = 'x';
	d = dump_of(S("a\n"), 0, 0, &o);
	assert_non_null(strstr(d, "delimiter"));
	free(d);
}

/* An endless stream: a header, then one line that never ends. */
typedef struct endless {
	const char *head;
	size_t head_len, off;
	uint64_t total;
	uint8_t fill;
} endless;

static veil_status endless_read(void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err)
{
	(void)err;
	endless *e = ctx;
	size_t k = 0;
	while (k < n && e->off < e->head_len)
		buf[k++] = (uint8_t)e->head[e->off++];
	memset(buf + k, e->fill, n - k);
	e->total += n;
	*got = n;
	return VEIL_OK;
}

static void test_limits_fail_fast(void **state)
{
	(void)state;
	/* A field over the limit in a line that never ends: refused after
	 * about the limit plus one read, not after reading (or holding) it all. */
	endless e = {.head = "a,b\n1,", .head_len = 6, .fill = 'x'};
	veil_csv_opts o = {.max_field = 1000, .max_row = 4096};
	veil_csv_reader *r = NULL;
	veil_err err = {0};
	veil_csv_row row;
	assert_int_equal(veil_csv_reader_new(&o, endless_read, &e, &r, &err), VEIL_OK);
	assert_int_equal(veil_csv_next(r, &row, &err), VEIL_E_LIMIT);
	assert_string_equal(err.msg, "line 2, column 3: a field longer than the limit");
	assert_true(e.total < 1000 + 3 * (64u << 10));
	assert_int_equal(row.n, 0);
	veil_csv_reader_free(r);

	/* The defaults and a 1 GB line: the 1 MiB field limit stops it. */
	endless g = {.head = "a\n", .head_len = 2, .fill = 'y'};
	assert_int_equal(veil_csv_reader_new(NULL, endless_read, &g, &r, &err), VEIL_OK);
	assert_int_equal(veil_csv_next(r, &row, &err), VEIL_E_LIMIT);
	assert_string_equal(err.msg, "line 2, column 1: a field longer than the limit");
	assert_true(g.total < VEIL_CSV_FIELD_MAX_DEFAULT * 2 + (256u << 10));
	veil_csv_reader_free(r);

	/* Inside quotes, and the record limit with many short fields. */
	endless q = {.head = "a\n\"", .head_len = 3, .fill = 'z'};
	assert_int_equal(veil_csv_reader_new(&o, endless_read, &q, &r, &err), VEIL_OK);
	assert_int_equal(veil_csv_next(r, &row, &err), VEIL_E_LIMIT);
	assert_string_equal(err.msg, "line 2, column 1: a field longer than the limit");
	veil_csv_reader_free(r);
	endless c = {.head = "a\n", .head_len = 2, .fill = ','};
	o.max_columns = VEIL_CSV_COLUMNS_MAX_LIMIT;
	assert_int_equal(veil_csv_reader_new(&o, endless_read, &c, &r, &err), VEIL_OK);
	assert_int_equal(veil_csv_next(r, &row, &err), VEIL_E_INVALID); /* more fields than the header */
	veil_csv_reader_free(r);
	endless h = {.head = "", .head_len = 0, .fill = ','};
	assert_int_equal(veil_csv_reader_new(&o, endless_read, &h, &r, &err),
	                 VEIL_E_LIMIT); /* a header without end */
	o.max_columns = 0;
	endless hh = {.head = "", .head_len = 0, .fill = 'h'};
	assert_int_equal(veil_csv_reader_new(&o, endless_read, &hh, &r, &err), VEIL_E_LIMIT);
	assert_true(hh.total < 4096 + 3 * (64u << 10));

	veil_csv_opts big = {.max_row = VEIL_CSV_ROW_MAX_LIMIT + 1};
	assert_int_equal(veil_csv_reader_new(&big, endless_read, &hh, &r, &err), VEIL_E_INVALID);
	assert_null(r);
}

/* ---- random files through a writer ---- */

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static const char *const pieces[] = {"a",
                                     "b",
                                     "Z",
                                     "0",
                                     " ",
                                     ",",
                                     "\"",
                                     "\n",
                                     "\r\n",
                                     "\r",
                                     "\xc3\xa9",
                                     "\xe2\x82\xac",
                                     "\xf0\x9f\x98\x80",
                                     "\t",
                                     ";"};
#define NPIECES (sizeof pieces / sizeof pieces[0])

static bool needs_quotes(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == ',' || v[i] == '"' || v[i] == '\n' || v[i] == '\r')
			return true;
	return false;
}

static void write_field(veil_buf *out, const char *v, size_t n, bool quote)
{
	if (!quote) {
		assert_true(veil_buf_append(out, v, n, NULL) == VEIL_OK);
		return;
	}
	assert_true(veil_buf_append(out, "\"", 1, NULL) == VEIL_OK);
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '"')
			assert_true(veil_buf_append(out, "\"", 1, NULL) == VEIL_OK);
		assert_true(veil_buf_append(out, v + i, 1, NULL) == VEIL_OK);
	}
	assert_true(veil_buf_append(out, "\"", 1, NULL) == VEIL_OK);
}

static void test_random_roundtrip(void **state)
{
	(void)state;
	uint64_t s = 0x9e3779b97f4a7c15ull;
	for (int iter = 0; iter < 300; iter++) {
		size_t ncols = 1 + rng_next(&s) % 6, nrows = rng_next(&s) % 20;
		veil_buf file = {0}, want = {0};
		bool crlf = rng_next(&s) & 1;
		assert_true(veil_buf_printf(&want, NULL, "H") == VEIL_OK);
		for (size_t c = 0; c < ncols; c++) {
			char name[24];
			snprintf(name, sizeof name, "c%zu", c);
			if (c)
				assert_true(veil_buf_append(&file, ",", 1, NULL) == VEIL_OK);
			write_field(&file, name, strlen(name), rng_next(&s) % 3 == 0);
			assert_true(veil_buf_printf(&want, NULL, "%zu=%s;", strlen(name), name) == VEIL_OK);
		}
		uint64_t line = 2;
		for (size_t row = 0; row < nrows; row++) {
			assert_true(veil_buf_append(&file, crlf ? "\r\n" : "\n", crlf ? 2 : 1, NULL) ==
			            VEIL_OK);
			assert_true(veil_buf_printf(&want, NULL, "\n%llu:", (unsigned long long)line) ==
			            VEIL_OK);
			for (size_t c = 0; c < ncols; c++) {
				char v[64];
				size_t n = 0, np = rng_next(&s) % 5;
				for (size_t k = 0; k < np; k++) {
					const char *pc = pieces[rng_next(&s) % NPIECES];
					while (*pc)
						v[n++] = *pc++;
				}
				/* A one-column empty unquoted field would be a blank line: fine,
				 * but a blank last line is the end of the file, so quote it. */
				bool quote =
				        needs_quotes(v, n) || rng_next(&s) % 4 == 0 || (ncols == 1 && n == 0);
				if (c)
					assert_true(veil_buf_append(&file, ",", 1, NULL) == VEIL_OK);
				write_field(&file, v, n, quote);
				assert_true(veil_buf_printf(&want, NULL, "%zu%s=", n, quote ? "q" : "") ==
				            VEIL_OK);
				assert_true(veil_buf_append(&want, v, n, NULL) == VEIL_OK);
				assert_true(veil_buf_append(&want, ";", 1, NULL) == VEIL_OK);
				for (size_t i = 0; i < n; i++)
					line += v[i] == '\n';
			}
			line++;
		}
		if (rng_next(&s) & 1)
			assert_true(veil_buf_append(&file, crlf ? "\r\n" : "\n", crlf ? 2 : 1, NULL) ==
			            VEIL_OK);
		assert_true(veil_buf_append(&want, "", 1, NULL) == VEIL_OK);
		size_t step = rng_next(&s) % 8;
		char *got = dump_of((const char *)file.data, file.len, 0, step, NULL);
		if (strcmp(got, (const char *)want.data) != 0)
			fail_msg("iteration %d (step %zu): got\n%s\nwant\n%s", iter, step, got,
			         (char *)want.data);
		free(got);
		veil_buf_free(&file);
		veil_buf_free(&want);
	}
}

static void test_chunk_boundaries(void **state)
{
	(void)state;
	static const char tricky[] = "\xef\xbb\xbf"
	                             "id,\"na\"\"me\",v\r\n"
	                             "1,\"a,b\r\nc\",\xc3\xa9\xe2\x82\xac\r\n"
	                             "2,\"\",\"\"\"\"\r\n"
	                             ",\"\xf0\x9f\x98\x80\"\"x\",\r\n";
	static const char bad[] = "a,b\n1,\"x\ny\"\n2,\"z\xe2\x82";
	const char *inputs[] = {tricky, bad};
	size_t lens[] = {sizeof tricky - 1, sizeof bad - 1};
	for (size_t t = 0; t < 2; t++) {
		char *ref = dump_of(inputs[t], lens[t], 0, 0, NULL);
		for (size_t split = 1; split <= lens[t]; split++) {
			char *got = dump_of(inputs[t], lens[t], split, 0, NULL);
			if (strcmp(got, ref) != 0)
				fail_msg("input %zu split %zu: got\n%s\nwant\n%s", t, split, got, ref);
			free(got);
		}
		for (size_t step = 1; step < 5; step++) {
			char *got = dump_of(inputs[t], lens[t], 0, step, NULL);
			assert_string_equal(got, ref);
			free(got);
		}
		free(ref);
	}
	char *d = dump_of(tricky, sizeof tricky - 1, 0, 0, NULL);
	assert_string_equal(d,
	                    "H2=id;5=na\"me;1=v;\n2:1=1;6q=a,b\r\nc;5=\xc3\xa9\xe2\x82\xac;\n4:1=2;0q=;1q=\";"
	                    "\n5:0=;6q=\xf0\x9f\x98\x80\"x;0=;");
	free(d);
	d = dump_of(bad, sizeof bad - 1, 0, 0, NULL);
	assert_string_equal(d, "E1 line 4, column 5: a truncated UTF-8 sequence");
	free(d);
}

/* The eight-bytes-at-a-time scans: a special byte at every offset of a
 * long field is found exactly where it is. */
static void test_scan_offsets(void **state)
{
	(void)state;
	for (size_t pos = 1; pos < 39; pos++) {
		char in[64], want[96];
		memset(in, 'a', sizeof in);
		memcpy(in, "h,g\n", 4);
		in[4 + pos] = '"';
		memcpy(in + 44, ",b\n", 3);
		char *d = dump_of(in, 47, 0, 0, NULL);
		snprintf(want, sizeof want, "E1 line 2, column %zu: a quote inside an unquoted field",
		         pos + 1);
		assert_string_equal(d, want);
		free(d);
		char three[64];
		memcpy(three, "h,g,f\n", 7); /* the NUL is overwritten next */
		memcpy(three + 6, in + 4, 43);
		three[6 + pos] = ',';
		d = dump_of(three, 49, 0, 0, NULL);
		snprintf(want, sizeof want, "\n2:%zu=", pos);
		assert_non_null(strstr(d, want));
		snprintf(want, sizeof want, ";%zu=", 39 - pos);
		assert_non_null(strstr(d, want));
		free(d);
		in[4 + pos] = 'a';
		in[4] = '"';
		in[5 + pos] = 0;
		memcpy(in + 44, "\",b", 3);
		d = dump_of(in, 47, 0, 0, NULL);
		snprintf(want, sizeof want, "E1 line 2, column %zu: a NUL byte", pos + 2);
		assert_string_equal(d, want);
		free(d);
		in[5 + pos] = '\n';
		d = dump_of(in, 47, 0, 0, NULL);
		assert_non_null(strstr(d, "\n2:39q="));
		assert_non_null(strstr(d, ";1=b;"));
		free(d);
	}
}

static void test_read_error_sticky(void **state)
{
	(void)state;
	static const char in[] = "a,b\n1,2\n3,4\n";
	mem m = {.p = (const uint8_t *)in, .len = sizeof in - 1, .step = 4, .fail_at = 12};
	veil_csv_reader *r = NULL;
	veil_err err = {0};
	veil_csv_row row;
	assert_int_equal(veil_csv_reader_new(NULL, mem_read, &m, &r, &err), VEIL_OK);
	assert_int_equal(veil_csv_next(r, &row, &err), VEIL_OK);
	assert_int_equal(row.n, 2);
	assert_int_equal(row.record, 1);
	assert_int_equal(veil_csv_next(r, &row, &err), VEIL_E_IO);
	assert_string_equal(err.msg, "read failed");
	veil_err_clear(&err);
	assert_int_equal(veil_csv_next(r, &row, &err), VEIL_E_IO);
	assert_string_equal(err.msg, "read failed");
	veil_csv_reader_free(r);

	/* The end is sticky too, and the offset counts every byte. */
	mem ok = {.p = (const uint8_t *)in, .len = sizeof in - 1};
	assert_int_equal(veil_csv_reader_new(NULL, mem_read, &ok, &r, &err), VEIL_OK);
	assert_int_equal(veil_csv_offset(r), 4);
	for (int k = 0; k < 2; k++)
		assert_int_equal(veil_csv_next(r, &row, &err), VEIL_OK);
	assert_int_equal(row.record, 2);
	assert_int_equal(row.line, 3);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(veil_csv_next(r, &row, &err), VEIL_OK);
		assert_int_equal(row.n, 0);
	}
	assert_int_equal(veil_csv_offset(r), sizeof in - 1);
	veil_csv_reader_free(r);
}

static void test_utf8_vectors(void **state)
{
	(void)state;
	/* Boundary and malformed cases from Markus Kuhn's UTF-8 decoder test
	 * (sections 2, 3, 4 and 5) and RFC 3629 section 4. */
	static const struct {
		const char *s;
		bool ok;
		size_t bad;
	} v[] = {
	        {"\x7f", true, 0},
	        {"\xc2\x80", true, 0},
	        {"\xdf\xbf", true, 0},
	        {"\xe0\xa0\x80", true, 0},
	        {"\xed\x9f\xbf", true, 0},
	        {"\xee\x80\x80", true, 0},
	        {"\xef\xbf\xbd", true, 0},
	        {"\xef\xbf\xbf", true, 0},
	        {"\xf0\x90\x80\x80", true, 0},
	        {"\xf4\x8f\xbf\xbf", true, 0},
	        {"abcdefgh\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", true, 0},
	        {"\x80", false, 0},
	        {"\xbf", false, 0},
	        {"ab\xc0\xaf", false, 2},
	        {"\xc1\xbf", false, 0},
	        {"\xe0\x80\xaf", false, 0},
	        {"\xe0\x9f\xbf", false, 0},
	        {"\xf0\x80\x80\xaf", false, 0},
	        {"\xf0\x8f\xbf\xbf", false, 0},
	        {"\xf4\x90\x80\x80", false, 0},
	        {"\xf8\x88\x80\x80\x80", false, 0},
	        {"\xfe", false, 0},
	        {"\xff", false, 0},
	        {"0123456789\xed\xa0\x80", false, 10},
	        {"\xed\xbf\xbf", false, 0},
	        {"\xed\xa0\x80\xed\xb0\x80", false, 0},
	        {"\xc2", false, 0},
	        {"x\xe2\x82", false, 1},
	        {"\xf0\x9f\x98", false, 0},
	        {"\xc2\x41", false, 0},
	};
	for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
		size_t bad = 99;
		bool ok = veil_utf8_valid((const uint8_t *)v[k].s, strlen(v[k].s), &bad);
		if (ok != v[k].ok || (!ok && bad != v[k].bad))
			fail_msg("vector %zu: got %d at %zu", k, ok, bad);
	}
}

/* ---- the table ---- */

static veil_csv_reader *open_str(const char *s, mem *m)
{
	*m = (mem){.p = (const uint8_t *)s, .len = strlen(s)};
	veil_csv_reader *r = NULL;
	veil_err err = {0};
	assert_int_equal(veil_csv_reader_new(NULL, mem_read, m, &r, &err), VEIL_OK);
	return r;
}

static void test_table_types(void **state)
{
	(void)state;
	static const char csv[] = "i,d,b,dt,ts,s,c\n"
	                          "1,1.5,true,2026-11-22,2026-11-22T13:49:21Z,x,red\n"
	                          ",,,,,,\n"
	                          "-9223372036854775808,-2e-3,NO,1970-01-01,1970-01-01 00:01:00,\"\",blue\n"
	                          "+42,.5,1,1969-12-31,2000-02-29T00:00:00Z,\"a,\"\"b\"\"\",red\n";
	static const veil_table_col_spec spec[] = {{"i", VEIL_COL_INT64},      {"d", VEIL_COL_DOUBLE},
	                                           {"b", VEIL_COL_BOOL},       {"dt", VEIL_COL_DATE},
	                                           {"ts", VEIL_COL_TIMESTAMP}, {"s", VEIL_COL_STRING},
	                                           {"c", VEIL_COL_CATEGORY}};
	mem m;
	veil_csv_reader *r = open_str(csv, &m);
	veil_table *t = NULL;
	veil_err err = {0};
	assert_int_equal(veil_table_new(spec, 7, &t, &err), VEIL_OK);
	veil_csv_row row;
	while (veil_csv_next(r, &row, &err) == VEIL_OK && row.n)
		assert_int_equal(veil_table_append(t, &row, &err), VEIL_OK);
	veil_csv_reader_free(r);
	assert_int_equal(veil_table_nrows(t), 4);
	assert_int_equal(veil_table_ncols(t), 7);
	assert_int_equal(veil_table_find(t, "ts"), 4);
	assert_int_equal(veil_table_find(t, "nope"), -1);

	veil_table_col c;
	veil_table_column(t, 0, &c);
	assert_int_equal(c.type, VEIL_COL_INT64);
	assert_int_equal(c.nulls, 1);
	assert_true(veil_table_valid(&c, 0) && !veil_table_valid(&c, 1) && veil_table_valid(&c, 2));
	assert_true(c.i64[0] == 1 && c.i64[1] == 0 && c.i64[2] == INT64_MIN && c.i64[3] == 42);
	veil_table_column(t, 1, &c);
	assert_true(c.f64[0] == 1.5 && c.f64[2] == -0.002 && c.f64[3] == 0.5);
	veil_table_column(t, 2, &c);
	assert_true(c.b[0] == 1 && c.b[2] == 0 && c.b[3] == 1 && !veil_table_valid(&c, 1));
	veil_table_column(t, 3, &c);
	assert_true(c.i64[0] == 20779 && c.i64[2] == 0 && c.i64[3] == -1);
	veil_table_column(t, 4, &c);
	assert_true(c.i64[0] == 1795355361 && c.i64[2] == 60 && c.i64[3] == 951782400);
	veil_table_column(t, 5, &c);
	assert_int_equal(c.nulls, 1);
	assert_string_equal(c.str[0].p, "x");
	assert_true(veil_table_valid(&c, 2) && c.str[2].len == 0); /* "" is an empty string */
	assert_string_equal(c.str[3].p, "a,\"b\"");
	veil_table_column(t, 6, &c);
	assert_int_equal(c.ndict, 2);
	assert_true(c.codes[0] == 0 && c.codes[2] == 1 && c.codes[3] == 0 && !veil_table_valid(&c, 1));
	assert_string_equal(c.dict[0].p, "red");
	assert_string_equal(c.dict[1].p, "blue");
	veil_table_free(t);
}

static void test_table_errors(void **state)
{
	(void)state;
	static const struct {
		const char *value;
		veil_col_type type;
		bool ok;
	} v[] = {
	        {"9223372036854775807", VEIL_COL_INT64, true},
	        {"9223372036854775808", VEIL_COL_INT64, false},
	        {"-9223372036854775809", VEIL_COL_INT64, false},
	        {" 1", VEIL_COL_INT64, false},
	        {"1.0", VEIL_COL_INT64, false},
	        {"-", VEIL_COL_INT64, false},
	        {"0x10", VEIL_COL_INT64, false},
	        {"1e308", VEIL_COL_DOUBLE, true},
	        {"1e999", VEIL_COL_DOUBLE, false},
	        {"1e-999", VEIL_COL_DOUBLE, true},
	        {"nan", VEIL_COL_DOUBLE, false},
	        {"inf", VEIL_COL_DOUBLE, false},
	        {"0x1p3", VEIL_COL_DOUBLE, false},
	        {"1.", VEIL_COL_DOUBLE, true},
	        {".", VEIL_COL_DOUBLE, false},
	        {"1e", VEIL_COL_DOUBLE, false},
	        {"1,5", VEIL_COL_DOUBLE, false},
	        {"Yes", VEIL_COL_BOOL, true},
	        {"2", VEIL_COL_BOOL, false},
	        {"truex", VEIL_COL_BOOL, false},
	        {"2024-02-29", VEIL_COL_DATE, true},
	        {"2026-02-29", VEIL_COL_DATE, false},
	        {"2026-11-22T00:00:00Z", VEIL_COL_DATE, false},
	        {"22/11/2026", VEIL_COL_DATE, false},
	        {"2026-11-22 24:00:00", VEIL_COL_TIMESTAMP, false},
	        {"2026-11-22T13:49:21", VEIL_COL_TIMESTAMP, false},
	        {"2026-11-22", VEIL_COL_TIMESTAMP, false},
	        {"anything", VEIL_COL_STRING, true},
	};
	for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
		veil_table_col_spec spec[] = {{"id", VEIL_COL_INT64}, {"secret value", v[k].type}};
		veil_table *t = NULL;
		veil_err err = {0};
		assert_int_equal(veil_table_new(spec, 2, &t, &err), VEIL_OK);
		veil_csv_field f[2] = {{"7", 1, false}, {v[k].value, strlen(v[k].value), false}};
		veil_csv_row row = {f, 2, 9, 1};
		veil_status st = veil_table_append(t, &row, &err);
		if (v[k].ok) {
			assert_int_equal(st, VEIL_OK);
			assert_int_equal(veil_table_nrows(t), 1);
		} else {
			assert_int_equal(st, VEIL_E_INVALID);
			char want[200];
			snprintf(want, sizeof want,
			         "line 9, column 2 (secret value): a value of %zu bytes is not ",
			         strlen(v[k].value));
			if (strncmp(err.msg, want, strlen(want)) != 0)
				fail_msg("vector %zu: %s", k, err.msg);
			if (strlen(v[k].value) > 3)
				assert_null(strstr(err.msg, v[k].value)); /* never the value itself */
			assert_int_equal(veil_table_nrows(t), 0);
			veil_table_col c;
			veil_table_column(t, 0, &c);
			assert_int_equal(c.nrows, 0);
		}
		veil_table_free(t);
	}

	/* A failed row leaves the table as it was; the next good row lands at its place. */
	veil_table_col_spec spec[] = {
	        {"s", VEIL_COL_STRING}, {"c", VEIL_COL_CATEGORY}, {"n", VEIL_COL_INT64}};
	veil_table *t = NULL;
	veil_err err = {0};
	assert_int_equal(veil_table_new(spec, 3, &t, &err), VEIL_OK);
	veil_csv_field bad[3] = {{"kept?", 5, false}, {"new", 3, false}, {"x", 1, false}};
	veil_csv_row row = {bad, 3, 2, 1};
	assert_int_equal(veil_table_append(t, &row, &err), VEIL_E_INVALID);
	assert_string_equal(err.msg, "line 2, column 3 (n): a value of 1 bytes is not an integer");
	bad[2] = (veil_csv_field){"5", 1, false};
	row.n = 2;
	assert_int_equal(veil_table_append(t, &row, &err), VEIL_E_INVALID);
	row.n = 3;
	assert_int_equal(veil_table_append(t, &row, &err), VEIL_OK);
	veil_table_col c;
	veil_table_column(t, 1, &c);
	assert_int_equal(c.ndict, 1);
	assert_int_equal(c.nrows, 1);
	assert_int_equal(c.nulls, 0);

	/* Too many categories: a limit, with the hint to use string. */
	char label[16];
	for (unsigned k = 1; k < VEIL_TABLE_CATEGORY_MAX; k++) {
		snprintf(label, sizeof label, "L%u", k);
		bad[1] = (veil_csv_field){label, strlen(label), false};
		assert_int_equal(veil_table_append(t, &row, &err), VEIL_OK);
	}
	veil_table_column(t, 1, &c);
	assert_int_equal(c.ndict, VEIL_TABLE_CATEGORY_MAX);
	assert_int_equal(c.codes[VEIL_TABLE_CATEGORY_MAX - 1], VEIL_TABLE_CATEGORY_MAX - 1);
	bad[1] = (veil_csv_field){"one more", 8, false};
	assert_int_equal(veil_table_append(t, &row, &err), VEIL_E_LIMIT);
	assert_non_null(strstr(err.hint, "string"));
	bad[1] = (veil_csv_field){"L77", 3, false};
	assert_int_equal(veil_table_append(t, &row, &err), VEIL_OK);
	veil_table_column(t, 1, &c);
	assert_int_equal(c.codes[c.nrows - 1], 77);
	veil_table_column(t, 0, &c);
	assert_string_equal(c.str[c.nrows - 1].p, "kept?");
	veil_table_free(t);

	/* Bad specs. */
	veil_table_col_spec dup[] = {{"a", VEIL_COL_INT64}, {"a", VEIL_COL_STRING}};
	assert_int_equal(veil_table_new(dup, 2, &t, &err), VEIL_E_INVALID);
	assert_null(t);
	veil_table_col_spec empty[] = {{"", VEIL_COL_INT64}};
	assert_int_equal(veil_table_new(empty, 1, &t, &err), VEIL_E_INVALID);
	assert_int_equal(veil_table_new(empty, 0, &t, &err), VEIL_E_INVALID);
}

/* Dates and timestamps agree with veil_time_parse across four centuries
 * (leap years, the 1900 and 2100 non-leap years, days that do not exist). */
static void test_dates_agree(void **state)
{
	(void)state;
	veil_table_col_spec spec[] = {{"d", VEIL_COL_DATE}, {"t", VEIL_COL_TIMESTAMP}};
	veil_table *t = NULL;
	veil_err err = {0};
	assert_int_equal(veil_table_new(spec, 2, &t, &err), VEIL_OK);
	size_t rows = 0;
	for (int y = 1899; y <= 2101; y += (y < 1905 || y > 2095 || y % 4 == 0) ? 1 : 3)
		for (int m = 1; m <= 12; m++)
			for (int d = 27; d <= 32; d++) {
				char ds[40], ts[64];
				int64_t want;
				snprintf(ds, sizeof ds, "%04d-%02d-%02d", y, m, d);
				snprintf(ts, sizeof ts, "%sT%02d:%02d:%02dZ", ds, (y + d) % 24, (m * 7) % 60,
				         d % 60);
				bool exists = veil_time_parse(ds, &want, NULL) == VEIL_OK;
				veil_csv_field f[2] = {{ds, strlen(ds), false}, {ts, strlen(ts), false}};
				veil_csv_row row = {f, 2, 2, 1};
				assert_int_equal(veil_table_append(t, &row, &err),
				                 exists ? VEIL_OK : VEIL_E_INVALID);
				if (!exists)
					continue;
				veil_table_col c;
				veil_table_column(t, 0, &c);
				assert_int_equal(c.i64[rows], want / 86400);
				assert_int_equal(veil_time_parse(ts, &want, NULL), VEIL_OK);
				veil_table_column(t, 1, &c);
				assert_int_equal(c.i64[rows], want);
				rows++;
			}
	assert_true(rows > 5000);
	veil_table_free(t);
}

static void test_infer(void **state)
{
	(void)state;
	static const char csv[] = "i,d,b,dt,ts,s,nul,mix\n"
	                          "1,1,true,2026-01-01,2026-01-01T00:00:00Z,x,,1\n"
	                          "-2,2.5,no,2026-01-02,2026-01-01 10:00:00,1,,true\n"
	                          ",,,,,,,\n";
	static const veil_col_type want[] = {VEIL_COL_INT64,  VEIL_COL_DOUBLE,    VEIL_COL_BOOL,
	                                     VEIL_COL_DATE,   VEIL_COL_TIMESTAMP, VEIL_COL_STRING,
	                                     VEIL_COL_STRING, VEIL_COL_BOOL};
	mem m;
	veil_csv_reader *r = open_str(csv, &m);
	unsigned mask[8];
	for (size_t c = 0; c < 8; c++)
		mask[c] = VEIL_COL_ANY;
	veil_csv_row row;
	veil_err err = {0};
	while (veil_csv_next(r, &row, &err) == VEIL_OK && row.n)
		for (size_t c = 0; c < row.n; c++)
			mask[c] &= veil_col_type_fits(&row.fields[c]);
	veil_col_type types[8];
	for (size_t c = 0; c < 8; c++) {
		types[c] = veil_col_type_infer(mask[c]);
		assert_int_equal(types[c], want[c]);
	}
	veil_csv_reader_free(r);

	/* The inferred types take every value: a table built with them. */
	r = open_str(csv, &m);
	veil_table *t = NULL;
	assert_int_equal(veil_table_new_from_header(r, VEIL_COL_STRING, &t, &err), VEIL_OK);
	veil_table_free(t);
	veil_table_col_spec spec[8];
	const veil_csv_field *names;
	size_t n;
	veil_csv_header(r, &names, &n);
	for (size_t c = 0; c < n; c++)
		spec[c] = (veil_table_col_spec){names[c].p, types[c]};
	assert_int_equal(veil_table_new(spec, n, &t, &err), VEIL_OK);
	while (veil_csv_next(r, &row, &err) == VEIL_OK && row.n)
		assert_int_equal(veil_table_append(t, &row, &err), VEIL_OK);
	assert_int_equal(veil_table_nrows(t), 3);
	veil_table_free(t);
	veil_csv_reader_free(r);

	veil_col_type ty;
	assert_int_equal(veil_col_type_parse("float", &ty, NULL), VEIL_OK);
	assert_int_equal(ty, VEIL_COL_DOUBLE);
	assert_int_equal(veil_col_type_parse("int", &ty, NULL), VEIL_OK);
	assert_int_equal(ty, VEIL_COL_INT64);
	assert_int_equal(veil_col_type_parse("integer", &ty, NULL), VEIL_E_INVALID);
	for (int k = 0; k < VEIL_COL_TYPE_COUNT; k++) {
		assert_int_equal(veil_col_type_parse(veil_col_type_name((veil_col_type)k), &ty, NULL),
		                 VEIL_OK);
		assert_int_equal(ty, k);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_rfc4180),
	        cmocka_unit_test(test_errors),
	        cmocka_unit_test(test_line_ends),
	        cmocka_unit_test(test_bom),
	        cmocka_unit_test(test_delimiters),
	        cmocka_unit_test(test_limits_fail_fast),
	        cmocka_unit_test(test_random_roundtrip),
	        cmocka_unit_test(test_chunk_boundaries),
	        cmocka_unit_test(test_scan_offsets),
	        cmocka_unit_test(test_read_error_sticky),
	        cmocka_unit_test(test_utf8_vectors),
	        cmocka_unit_test(test_table_types),
	        cmocka_unit_test(test_table_errors),
	        cmocka_unit_test(test_dates_agree),
	        cmocka_unit_test(test_infer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
