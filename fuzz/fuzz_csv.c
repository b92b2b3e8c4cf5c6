/*
 * Fuzz target: the streaming CSV reader (docs/formats/csv.md), then the
 * columnar table. Byte 0 picks the read size (bits 0-1: whole reads, 1, 3
 * or 7 bytes at a time) and the delimiter (bits 2-3: , ; TAB |); the rest
 * is the file. Limits are small (256-byte fields, 1 KiB records, 64
 * columns) so that mutations reach them.
 *
 * Invariants (abort on violation):
 *  1. A failure is VEIL_E_INVALID or VEIL_E_LIMIT with a message starting
 *     "line L, column C: " (L, C >= 1); a failed reader_new leaves NULL, a
 *     failed next a zeroed row, and the failure repeats on the next call.
 *  2. Header names are non-empty and distinct. Every accepted row has the
 *     header's field count and consecutive record numbers on increasing
 *     lines; every field is valid UTF-8, holds no NUL, is followed by a
 *     NUL and is within the field limit.
 *  3. Reading in small pieces gives exactly what whole reads give: the
 *     same rows, the same status and message.
 *  4. Types inferred over the rows take every row: a table of those types
 *     (and one of strings) appends all of them.
 */
#include "fuzz.h"
#include "veil/data.h"

#include <stdlib.h>
#include <string.h>

#define MAX_FIELD 256
#define MAX_ROW   1024
#define MAX_COLS  64

typedef struct outcome {
	veil_status st;
	char msg[VEIL_ERR_MSG_MAX];
	uint64_t digest, rows;
	size_t ncols;
	unsigned mask[MAX_COLS];
} outcome;

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static void check_error(veil_status st, const veil_err *err)
{
	FUZZ_CHECK(st == VEIL_E_INVALID || st == VEIL_E_LIMIT, "a failure other than invalid or limit");
	FUZZ_CHECK(err->code == st, "an error whose code differs from the status");
	char *end = NULL;
	FUZZ_CHECK(strncmp(err->msg, "line ", 5) == 0, "an error without a position");
	unsigned long long line = strtoull(err->msg + 5, &end, 10);
	FUZZ_CHECK(line >= 1 && strncmp(end, ", column ", 9) == 0, "an error without a line");
	unsigned long long col = strtoull(end + 9, &end, 10);
	FUZZ_CHECK(col >= 1 && strncmp(end, ": ", 2) == 0 && end[2] != '\0', "an error without a column");
}

static void check_field(const veil_csv_field *f)
{
	FUZZ_CHECK(f->len <= MAX_FIELD, "a field over the limit");
	FUZZ_CHECK(f->p[f->len] == '\0', "a field not followed by a NUL");
	FUZZ_CHECK(memchr(f->p, 0, f->len) == NULL, "a field holding a NUL");
	FUZZ_CHECK(veil_utf8_valid((const uint8_t *)f->p, f->len, NULL), "a field that is not UTF-8");
}

static void check_header(const veil_csv_reader *r, outcome *o)
{
	const veil_csv_field *h;
	veil_csv_header(r, &h, &o->ncols);
	FUZZ_CHECK(o->ncols >= 1 && o->ncols <= MAX_COLS, "a header with no or too many columns");
	for (size_t c = 0; c < o->ncols; c++) {
		check_field(&h[c]);
		FUZZ_CHECK(h[c].len > 0, "an empty column name");
		for (size_t d = 0; d < c; d++)
			FUZZ_CHECK(h[d].len != h[c].len || memcmp(h[d].p, h[c].p, h[c].len) != 0,
			           "a repeated column name");
		o->digest = mix(o->digest, h[c].p, h[c].len + 1);
		o->mask[c] = VEIL_COL_ANY;
	}
}

static void read_all(const uint8_t *data, size_t size, size_t step, char delim, veil_table *t, outcome *o)
{
	fuzz_mem m = {.p = data, .len = size, .step = step};
	veil_csv_opts opts = {
	        .max_field = MAX_FIELD, .max_row = MAX_ROW, .max_columns = MAX_COLS, .delimiter = delim};
	veil_csv_reader *r = NULL;
	veil_err err = {0};
	memset(o, 0, sizeof *o);
	o->digest = 1469598103934665603ull;
	o->st = veil_csv_reader_new(&opts, fuzz_mem_read, &m, &r, &err);
	fuzz_note("csv header", o->st, &err);
	if (o->st != VEIL_OK) {
		FUZZ_CHECK(r == NULL, "a failed reader_new left a reader");
		check_error(o->st, &err);
		memcpy(o->msg, err.msg, sizeof o->msg);
		return;
	}
	check_header(r, o);
	uint64_t last_line = 0;
	veil_csv_row row;
	while ((o->st = veil_csv_next(r, &row, &err)) == VEIL_OK && row.n) {
		FUZZ_CHECK(row.n == o->ncols, "a row whose field count is not the header's");
		FUZZ_CHECK(row.record == o->rows + 1 && row.line > last_line && row.line >= 2,
		           "records out of order");
		last_line = row.line;
		o->rows++;
		o->digest = mix(o->digest, &row.line, sizeof row.line);
		for (size_t c = 0; c < row.n; c++) {
			const veil_csv_field *f = &row.fields[c];
			check_field(f);
			o->digest = mix(o->digest, f->p, f->len + 1);
			o->digest = mix(o->digest, &f->quoted, 1);
			o->mask[c] &= veil_col_type_fits(f);
		}
		if (t) {
			veil_status ts = veil_table_append(t, &row, &err);
			fuzz_note("csv table", ts, &err);
			FUZZ_CHECK(ts == VEIL_OK, "a row refused by a table of its inferred types");
		}
	}
	if (o->st != VEIL_OK) {
		check_error(o->st, &err);
		FUZZ_CHECK(row.n == 0 && row.fields == NULL, "a failed next left a row");
		memcpy(o->msg, err.msg, sizeof o->msg);
		veil_err again = {0};
		FUZZ_CHECK(veil_csv_next(r, &row, &again) == o->st && strcmp(again.msg, err.msg) == 0,
		           "an error that does not repeat");
	} else {
		FUZZ_CHECK(veil_csv_next(r, &row, &err) == VEIL_OK && row.n == 0,
		           "an end that does not repeat");
	}
	fuzz_note("csv rows", o->st, &err);
	veil_csv_reader_free(r);
}

/* A table of the inferred types (or strings) over the same input. */
static void build_table(const uint8_t *data, size_t size, char delim, const outcome *o, bool strings)
{
	fuzz_mem m = {.p = data, .len = size};
	veil_csv_opts opts = {
	        .max_field = MAX_FIELD, .max_row = MAX_ROW, .max_columns = MAX_COLS, .delimiter = delim};
	veil_csv_reader *r = NULL;
	veil_err err = {0};
	FUZZ_CHECK(veil_csv_reader_new(&opts, fuzz_mem_read, &m, &r, &err) == VEIL_OK,
	           "a header read once only");
	const veil_csv_field *h;
	size_t n;
	veil_csv_header(r, &h, &n);
	veil_table_col_spec spec[MAX_COLS];
	for (size_t c = 0; c < n; c++)
		spec[c] = (veil_table_col_spec){h[c].p,
		                                strings ? VEIL_COL_STRING : veil_col_type_infer(o->mask[c])};
	veil_table *t = NULL;
	FUZZ_CHECK(veil_table_new(spec, n, &t, &err) == VEIL_OK, "a table refused the header's names");
	outcome again;
	read_all(data, size, 0, delim, t, &again);
	FUZZ_CHECK(veil_table_nrows(t) == o->rows, "a table without every row");
	for (size_t c = 0; c < n; c++) {
		veil_table_col col;
		veil_table_column(t, c, &col);
		FUZZ_CHECK(col.nrows == o->rows && col.nulls <= col.nrows, "a column of the wrong length");
	}
	veil_table_free(t);
	veil_csv_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const size_t steps[] = {0, 1, 3, 7};
	static const char delims[] = {',', ';', '\t', '|'};
	size_t step = steps[data[0] & 3];
	char delim = delims[(data[0] >> 2) & 3];
	outcome whole, pieces;
	read_all(data + 1, size - 1, 0, delim, NULL, &whole);
	read_all(data + 1, size - 1, step ? step : 1, delim, NULL, &pieces);
	FUZZ_CHECK(whole.st == pieces.st && strcmp(whole.msg, pieces.msg) == 0,
	           "reads in pieces fail differently");
	FUZZ_CHECK(whole.rows == pieces.rows && whole.digest == pieces.digest,
	           "reads in pieces give other rows");
	if (whole.st == VEIL_OK) {
		build_table(data + 1, size - 1, delim, &whole, false);
		build_table(data + 1, size - 1, delim, &whole, true);
	}
	return 0;
}
