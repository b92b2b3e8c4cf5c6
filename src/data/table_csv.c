/*
 * Tables from and to CSV held whole (veil_table_from_csv,
 * veil_table_write_csv): how the feature pipeline reads its input and
 * writes its output. Reading goes through the streaming reader
 * (src/data/csv.c) over memory, twice when the column types are inferred;
 * writing produces exactly what the reader reads back to the same table
 * (docs/formats/csv.md): a missing value as an empty field, an empty
 * string as "", doubles with 17 significant digits.
 */
#include "pipeline_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The column types: the schema's for each header name, or inferred from every row. */
static veil_status types_of(const uint8_t *csv, size_t len, const veil_csv_opts *opts,
                            const veil_schema *schema, veil_col_type *types, size_t n, veil_err *err)
{
	veil_mem_reader m = {csv, len, 0};
	veil_csv_reader *r = NULL;
	veil_status st = veil_csv_reader_new(opts, veil_mem_read, &m, &r, err);
	if (st)
		return st;
	const veil_csv_field *names;
	size_t nn;
	veil_csv_header(r, &names, &nn);
	if (schema) {
		if (veil_schema_ncolumns(schema) != nn)
			st = PL_ERR(err, VEIL_E_INVALID, "the schema has %zu columns and the file %zu",
			            veil_schema_ncolumns(schema), nn);
		for (size_t c = 0; !st && c < nn; c++) {
			ptrdiff_t i = veil_schema_find(schema, names[c].p);
			if (i < 0)
				st = PL_ERR(err, VEIL_E_INVALID,
				            "column %zu (%.64s) of the file is not in the schema", c + 1,
				            names[c].p);
			else
				types[c] = veil_schema_column_at(schema, (size_t)i)->type;
		}
		veil_csv_reader_free(r);
		return st;
	}
	unsigned *mask = malloc((n ? n : 1) * sizeof *mask);
	if (!mask) {
		veil_csv_reader_free(r);
		return PL_ERR(err, VEIL_E_NOMEM, "out of memory reading a CSV file");
	}
	for (size_t c = 0; c < n; c++)
		mask[c] = VEIL_COL_ANY;
	for (;;) {
		veil_csv_row row;
		if ((st = veil_csv_next(r, &row, err)) || row.n == 0)
			break;
		for (size_t c = 0; c < row.n && c < n; c++) /* row.n is the header's count */
			mask[c] &= veil_col_type_fits(&row.fields[c]);
	}
	for (size_t c = 0; !st && c < n; c++)
		types[c] = veil_col_type_infer(mask[c]);
	free(mask);
	veil_csv_reader_free(r);
	return st;
}

veil_status veil_table_from_csv(const uint8_t *csv, size_t len, const veil_csv_opts *opts,
                                const veil_schema *schema, veil_table **out, veil_err *err)
{
	*out = NULL;
	if (!csv && len)
		return PL_ERR(err, VEIL_E_INVALID, "no CSV text");
	veil_mem_reader m = {csv ? csv : (const uint8_t *)"", len, 0};
	veil_csv_reader *r = NULL;
	veil_status st = veil_csv_reader_new(opts, veil_mem_read, &m, &r, err);
	if (st)
		return st;
	const veil_csv_field *names;
	size_t n;
	veil_csv_header(r, &names, &n);
	veil_col_type *types = calloc(n ? n : 1, sizeof *types);
	veil_table_col_spec *spec = calloc(n ? n : 1, sizeof *spec);
	veil_table *t = NULL;
	if (!types || !spec)
		st = PL_ERR(err, VEIL_E_NOMEM, "out of memory reading a CSV file");
	if (!st)
		st = types_of(m.p, len, opts, schema, types, n, err);
	for (size_t c = 0; !st && c < n; c++)
		spec[c] = (veil_table_col_spec){names[c].p, types[c]};
	if (!st)
		st = veil_table_new(spec, n, &t, err);
	for (;;) {
		veil_csv_row row;
		if (st || (st = veil_csv_next(r, &row, err)) || row.n == 0)
			break;
		st = veil_table_append(t, &row, err);
	}
	free(types);
	free(spec);
	veil_csv_reader_free(r);
	if (st) {
		veil_table_free(t);
		return st;
	}
	*out = t;
	return VEIL_OK;
}

/* ---- writing ---- */

#define FLUSH_AT ((size_t)64 << 10)

typedef struct out {
	veil_buf b;
	veil_write_fn wr;
	void *ctx;
} out;

static veil_status flush(out *o, bool force, veil_err *err)
{
	if (o->b.len == 0 || (!force && o->b.len < FLUSH_AT))
		return VEIL_OK;
	veil_status st = o->wr(o->ctx, o->b.data, o->b.len, err);
	o->b.len = 0;
	return st;
}

/* A field, in quotes when it is empty or holds a delimiter, quote, CR or LF. */
static veil_status put_field(out *o, const char *p, size_t n, veil_err *err)
{
	bool quote = n == 0;
	for (size_t i = 0; !quote && i < n; i++)
		quote = p[i] == ',' || p[i] == '"' || p[i] == '\r' || p[i] == '\n';
	if (!quote)
		return veil_buf_append(&o->b, p, n, err);
	veil_status st = veil_buf_append(&o->b, "\"", 1, err);
	for (size_t i = 0, s = 0; !st && i <= n; i++) {
		if (i < n && p[i] != '"')
			continue;
		st = veil_buf_append(&o->b, p + s, i - s, err); /* up to and not including the quote */
		if (!st && i < n)
			st = veil_buf_append(&o->b, "\"\"", 2, err);
		s = i + 1;
	}
	return st ? st : veil_buf_append(&o->b, "\"", 1, err);
}

static veil_status put_value(out *o, const veil_table_col *c, size_t r, veil_err *err)
{
	if (!veil_table_valid(c, r))
		return VEIL_OK; /* a missing value: an empty, unquoted field */
	char buf[PL_TEXT_MAX];
	switch (c->type) {
	case VEIL_COL_STRING:
		return put_field(o, c->str[r].p, c->str[r].len, err);
	case VEIL_COL_CATEGORY:
		return put_field(o, c->dict[c->codes[r]].p, c->dict[c->codes[r]].len, err);
	case VEIL_COL_INT64:
		(void)snprintf(buf, sizeof buf, "%" PRId64, c->i64[r]);
		break;
	case VEIL_COL_DOUBLE:
		(void)snprintf(buf, sizeof buf, "%.17g", c->f64[r]);
		break;
	case VEIL_COL_BOOL:
		(void)snprintf(buf, sizeof buf, "%s", c->b[r] ? "true" : "false");
		break;
	case VEIL_COL_DATE:
		pl_format_date(c->i64[r], buf);
		break;
	case VEIL_COL_TIMESTAMP:
		pl_format_timestamp(c->i64[r], buf);
		break;
	}
	return veil_buf_append(&o->b, buf, strlen(buf), err);
}

veil_status veil_table_write_csv(const veil_table *t, veil_write_fn wr, void *ctx, veil_err *err)
{
	if (!t || !wr)
		return PL_ERR(err, VEIL_E_INVALID, "no table or no writer");
	size_t nc = veil_table_ncols(t), nr = veil_table_nrows(t);
	veil_table_col *cols = calloc(nc ? nc : 1, sizeof *cols);
	if (!cols)
		return PL_ERR(err, VEIL_E_NOMEM, "out of memory writing a CSV file");
	for (size_t c = 0; c < nc; c++)
		veil_table_column(t, c, &cols[c]);
	out o = {{0}, wr, ctx};
	veil_status st = VEIL_OK;
	for (size_t c = 0; !st && c < nc; c++) {
		if (c)
			st = veil_buf_append(&o.b, ",", 1, err);
		if (!st)
			st = put_field(&o, cols[c].name, strlen(cols[c].name), err);
	}
	if (!st)
		st = veil_buf_append(&o.b, "\r\n", 2, err);
	for (size_t r = 0; !st && r < nr; r++) {
		for (size_t c = 0; !st && c < nc; c++) {
			if (c)
				st = veil_buf_append(&o.b, ",", 1, err);
			if (!st)
				st = put_value(&o, &cols[c], r, err);
		}
		if (!st)
			st = veil_buf_append(&o.b, "\r\n", 2, err);
		if (!st)
			st = flush(&o, false, err);
	}
	if (!st)
		st = flush(&o, true, err);
	veil_buf_free(&o.b);
	free(cols);
	return st;
}
