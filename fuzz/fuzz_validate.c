/*
 * Fuzz target: the validator (veil/data_validate.h,
 * docs/formats/validation-report.md). Byte 0 holds options (bit 0: a small
 * violation cap; bit 1: a small duplicate-row cap; bits 2-4: the histogram
 * bins); the rest is a schema and a CSV file separated by a NUL byte (which
 * neither may hold), or, without a NUL, a CSV file to profile. CSV limits
 * are small (256-byte fields, 1 KiB records, 64 columns).
 *
 * Invariants (abort on violation):
 *  1. A failure is the reader's (VEIL_E_INVALID or VEIL_E_LIMIT with
 *     "line L, column C: ") or a header the schema does not match
 *     (VEIL_E_INVALID naming the column), and no report is written.
 *  2. A report is one complete JSON value (veil_jw_finish accepts it); the
 *     summary counts as many rows as the CSV reader reads, at most
 *     rows x columns + rows violations (one per field, one per record),
 *     none in a profile, duplicate rows no more than rows, and passed
 *     exactly when validated without a violation.
 *  3. The same input with the same hash key gives the same report bytes.
 *  4. A profile's inferred schema writes as YAML that parses, and
 *     validating the same file against it finds nothing but duplicate rows.
 *  5. For every pattern of the schema, the validator's DFA (when the
 *     pattern compiles to one) agrees with regexec on every value of the
 *     column, and on the pattern's own text.
 */
#include "fuzz.h"
#include "veil/data.h"

#include "../src/data/validate_int.h"

#include <string.h>

static const uint8_t KEY[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static const veil_csv_opts CSV = {.max_field = 256, .max_row = 1024, .max_columns = 64};

typedef struct result {
	veil_status st;
	veil_err err;
	veil_buf report;
	veil_validate_summary sum;
	veil_schema *inferred;
} result;

static void run(const uint8_t *csv, size_t len, const veil_schema *schema, const veil_validate_opts *o,
                bool infer, result *r)
{
	memset(r, 0, sizeof *r);
	fuzz_mem m = {csv, len, 0, 7};
	veil_jw w;
	veil_jw_init(&w, &r->report);
	r->st = veil_validate_csv(fuzz_mem_read, &m, &CSV, schema, o, &w, &r->sum,
	                          infer ? &r->inferred : NULL, &r->err);
	if (r->st == VEIL_OK) {
		veil_err err = {0};
		FUZZ_CHECK(veil_jw_finish(&w, &err) == VEIL_OK, "a report that is not one JSON value");
	}
}

static void result_free(result *r)
{
	veil_buf_free(&r->report);
	veil_schema_free(r->inferred);
}

/* Rows and columns as the reader alone sees them; false if it fails. */
static bool count_rows(const uint8_t *csv, size_t len, uint64_t *rows, size_t *cols)
{
	fuzz_mem m = {csv, len, 0, 0};
	veil_csv_reader *r = NULL;
	veil_err err = {0};
	veil_csv_row row;
	const veil_csv_field *names;
	*rows = 0;
	veil_status st = veil_csv_reader_new(&CSV, fuzz_mem_read, &m, &r, &err);
	if (st == VEIL_OK) {
		veil_csv_header(r, &names, cols);
		while ((st = veil_csv_next(r, &row, &err)) == VEIL_OK && row.n)
			(*rows)++;
	}
	veil_csv_reader_free(r);
	return st == VEIL_OK;
}

static bool positioned(const char *msg)
{
	return strncmp(msg, "line ", 5) == 0 && strstr(msg, ", column ") != NULL;
}

/* Invariant 5 over every value of every patterned column. */
static void check_patterns(const uint8_t *csv, size_t len, const veil_schema *s)
{
	for (size_t i = 0; i < veil_schema_ncolumns(s); i++) {
		const veil_schema_column *c = veil_schema_column_at(s, i);
		vdfa d;
		if (!c->pattern || !vdfa_compile(&d, c->pattern))
			continue;
		FUZZ_CHECK(vdfa_match(&d, c->pattern, strlen(c->pattern)) ==
		                   veil_schema_pattern_match(s, i, c->pattern, strlen(c->pattern)),
		           "the DFA and regexec disagree on the pattern's text");
		fuzz_mem m = {csv, len, 0, 0};
		veil_csv_reader *r = NULL;
		veil_err err = {0};
		veil_csv_row row;
		if (veil_csv_reader_new(&CSV, fuzz_mem_read, &m, &r, &err) == VEIL_OK) {
			const veil_csv_field *names;
			size_t n;
			veil_csv_header(r, &names, &n);
			size_t at = n;
			for (size_t k = 0; k < n; k++)
				if (strcmp(names[k].p, c->name) == 0)
					at = k;
			while (at < n && veil_csv_next(r, &row, &err) == VEIL_OK && row.n) {
				const veil_csv_field *f = &row.fields[at];
				FUZZ_CHECK(vdfa_match(&d, f->p, f->len) ==
				                   veil_schema_pattern_match(s, i, f->p, f->len),
				           "the DFA and regexec disagree on a value");
			}
		}
		veil_csv_reader_free(r);
		vdfa_free(&d);
	}
}

/* Invariant 4: the file against the schema inferred from it. */
static void check_inferred(const uint8_t *csv, size_t len, const result *prof, const veil_validate_opts *o)
{
	veil_buf yaml = {0};
	veil_err err = {0};
	veil_status st = veil_schema_write(prof->inferred, &yaml, &err);
	fuzz_note("write inferred", st, &err);
	FUZZ_CHECK(st == VEIL_OK, "an inferred schema cannot be written");
	veil_schema *back = NULL;
	st = veil_schema_parse((const char *)yaml.data, yaml.len, &back, &err);
	fuzz_note("parse inferred", st, &err);
	FUZZ_CHECK(st == VEIL_OK, "an inferred schema does not parse");
	result again;
	run(csv, len, back, o, false, &again);
	fuzz_note("validate against the inferred schema", again.st, &again.err);
	FUZZ_CHECK(again.st == VEIL_OK, "a file fails against the schema inferred from it");
	FUZZ_CHECK(again.sum.violations == again.sum.duplicate_rows,
	           "a file breaks a rule of the schema inferred from it");
	result_free(&again);
	veil_schema_free(back);
	veil_buf_free(&yaml);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	data++;
	size--;
	veil_validate_opts o = {
	        .max_violations = flags & 1 ? 3 : 0,
	        .max_dup_rows = flags & 2 ? 4 : 0,
	        .bins = 1 + ((flags >> 2) & 7) * 14, /* 1 .. 99 */
	        .hash_key = KEY,
	};
	const uint8_t *nul = memchr(data, 0, size), *csv = data;
	size_t csv_len = size;
	veil_schema *schema = NULL;
	if (nul) {
		veil_err err = {0};
		veil_status st = veil_schema_parse((const char *)data, (size_t)(nul - data), &schema, &err);
		fuzz_note("schema", st, &err);
		if (st != VEIL_OK)
			return 0;
		csv = nul + 1;
		csv_len = size - (size_t)(nul - data) - 1;
	}
	uint64_t rows = 0;
	size_t cols = 0;
	bool readable = count_rows(csv, csv_len, &rows, &cols);
	result r;
	run(csv, csv_len, schema, &o, !schema, &r);
	fuzz_note(schema ? "validate" : "profile", r.st, &r.err);
	if (r.st != VEIL_OK) {
		FUZZ_CHECK(r.st == VEIL_E_INVALID || r.st == VEIL_E_LIMIT,
		           "a failure other than invalid or limit");
		FUZZ_CHECK(r.err.code == r.st && r.err.msg[0], "a failure without a message");
		/* the header is checked before any record is read, so a header
		 * error can come first in a file that breaks later */
		bool header =
		        strstr(r.err.msg, "is not in the file") || strstr(r.err.msg, "is not in the schema");
		if (!readable)
			FUZZ_CHECK(positioned(r.err.msg) || header, "a reader error without a position");
		else
			FUZZ_CHECK(header || (!schema && strstr(r.err.msg, "column")),
			           "an error that names no column");
		/* a profile may fail after its report, on a name no schema can hold */
		FUZZ_CHECK(r.report.len == 0 || (!schema && readable), "a report despite a failure");
	} else {
		FUZZ_CHECK(readable, "a report for a file the reader refuses");
		FUZZ_CHECK(r.sum.rows == rows, "the validator and the reader count different rows");
		FUZZ_CHECK(r.sum.violations <= rows * cols + rows, "more violations than fields and records");
		FUZZ_CHECK(r.sum.duplicate_rows <= rows, "more duplicates than rows");
		FUZZ_CHECK(r.sum.validated == (schema != NULL), "validated says otherwise");
		FUZZ_CHECK(r.sum.passed == (schema && r.sum.violations == 0), "passed says otherwise");
		FUZZ_CHECK(schema || r.sum.violations == 0, "violations in a profile");
		FUZZ_CHECK(r.sum.classification >= VEIL_CLASS_PUBLIC &&
		                   r.sum.classification <= VEIL_CLASS_RESTRICTED,
		           "no effective classification");
		result again;
		run(csv, csv_len, schema, &o, false, &again);
		FUZZ_CHECK(again.st == VEIL_OK && again.report.len == r.report.len &&
		                   memcmp(again.report.data, r.report.data, r.report.len) == 0,
		           "the same input gives another report");
		result_free(&again);
		if (r.inferred)
			check_inferred(csv, csv_len, &r, &o);
	}
	if (schema && readable)
		check_patterns(csv, csv_len, schema);
	result_free(&r);
	veil_schema_free(schema);
	return 0;
}
