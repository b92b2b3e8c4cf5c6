/*
 * veil data: csv. Included by veil/data.h.
 *
 * A streaming CSV reader (RFC 4180 plus what docs/formats/csv.md adds:
 * UTF-8 validated, a header row required, bounded fields, rows and columns)
 * and the columnar in-memory table that validation, feature engineering and
 * training share.
 *
 * The reader pulls bytes through a veil_read_fn (the worker feeds it
 * decrypted chunks) into one buffer that holds the record being parsed and
 * what was read after it, never more than the row limit plus two 64 KiB
 * reads: memory stays bounded whatever the file's size, and a line longer
 * than a limit fails once the limit is passed, without reading or
 * allocating the rest.
 *
 * Errors are VEIL_E_INVALID (malformed input) or VEIL_E_LIMIT (a bound
 * passed) with a message that starts "line L, column C: " (1-based,
 * physical lines, columns in bytes); a read error is passed on as the
 * read_fn returned it. No error message ever holds a byte of a field's
 * value: values may be sensitive, so messages give positions and lengths.
 */
#ifndef VEIL_DATA_CSV_H
#define VEIL_DATA_CSV_H

#include "veil/base.h"

/* Defaults of veil_csv_opts (0 in a field selects its default), and the
 * largest values a caller may ask for. */
#define VEIL_CSV_FIELD_MAX_DEFAULT   (1u << 20)  /* bytes of one value, after unquoting */
#define VEIL_CSV_ROW_MAX_DEFAULT     (16u << 20) /* bytes of one record as written, line end excluded */
#define VEIL_CSV_COLUMNS_MAX_DEFAULT 4096u
#define VEIL_CSV_ROW_MAX_LIMIT       (1u << 30)
#define VEIL_CSV_COLUMNS_MAX_LIMIT   65536u

typedef struct veil_csv_opts {
	size_t max_field;   /* 0: VEIL_CSV_FIELD_MAX_DEFAULT */
	size_t max_row;     /* 0: VEIL_CSV_ROW_MAX_DEFAULT; at most VEIL_CSV_ROW_MAX_LIMIT */
	size_t max_columns; /* 0: VEIL_CSV_COLUMNS_MAX_DEFAULT; at most VEIL_CSV_COLUMNS_MAX_LIMIT */
	char delimiter;     /* 0: ','; otherwise one of , ; TAB | */
} veil_csv_opts;

/* One field: its value (quotes removed, doubled quotes undone), followed
 * by a NUL byte that len does not count. Valid UTF-8 with no NUL inside. */
typedef struct veil_csv_field {
	const char *p;
	size_t len;
	bool quoted; /* written in quotes: "" is an empty string, an empty unquoted field a missing value */
} veil_csv_field;

typedef struct veil_csv_row {
	const veil_csv_field *fields;
	size_t n;        /* the header's field count; 0 at the end of the input */
	uint64_t line;   /* physical line on which the record starts */
	uint64_t record; /* 1 for the first record after the header */
} veil_csv_row;

typedef struct veil_csv_reader veil_csv_reader;

/* Makes a reader over rd/ctx (opts may be NULL: defaults) and reads the
 * header row, so that a missing, malformed, empty or repeated column name
 * fails here. A UTF-8 byte order mark at the very start is skipped. rd and
 * ctx must outlive the reader. On error *out is NULL. */
veil_status veil_csv_reader_new(const veil_csv_opts *opts, veil_read_fn rd, void *ctx, veil_csv_reader **out,
                                veil_err *err) VEIL_MUST_CHECK;
/* The header's names, owned by the reader and valid until it is freed. */
void veil_csv_header(const veil_csv_reader *r, const veil_csv_field **names, size_t *n);
/* Reads the next record into *row. VEIL_OK with row->n == 0 means the input
 * ended; every other VEIL_OK row has exactly the header's field count. The
 * fields point into the reader's buffer and stay valid until the next call
 * or the reader is freed. An error is sticky: later calls return it again.
 * On error *row is zeroed. */
veil_status veil_csv_next(veil_csv_reader *r, veil_csv_row *row, veil_err *err) VEIL_MUST_CHECK;
/* Bytes consumed from the stream so far (BOM included). */
uint64_t veil_csv_offset(const veil_csv_reader *r);
void veil_csv_reader_free(veil_csv_reader *r);

/* UTF-8 validation (veil_utf8_valid) is in veil/base.h. */

/* ---- the columnar table ---- */

typedef enum veil_col_type {
	VEIL_COL_INT64,     /* [+-]digits, in int64_t */
	VEIL_COL_DOUBLE,    /* decimal with optional fraction and exponent; finite */
	VEIL_COL_BOOL,      /* true/false, yes/no, 1/0 (any case) */
	VEIL_COL_DATE,      /* YYYY-MM-DD; stored as days since 1970-01-01 */
	VEIL_COL_TIMESTAMP, /* YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DD HH:MM:SS, UTC; seconds since the epoch */
	VEIL_COL_STRING,    /* any text, kept in the table's arena */
	VEIL_COL_CATEGORY,  /* text coded as an index into a per-column dictionary */
} veil_col_type;
#define VEIL_COL_TYPE_COUNT 7
/* Bit mask of every type: where type inference starts. */
#define VEIL_COL_ANY ((1u << VEIL_COL_TYPE_COUNT) - 1)

/* "int64", "double", "bool", "date", "timestamp", "string", "category". */
const char *veil_col_type_name(veil_col_type t);
/* The reverse of veil_col_type_name; also "int" and "float" as the schema
 * spells them. VEIL_E_INVALID for anything else. */
veil_status veil_col_type_parse(const char *name, veil_col_type *out, veil_err *err) VEIL_MUST_CHECK;

/* Type inference, one value at a time: start each column's mask at
 * VEIL_COL_ANY, and for each of the first N rows do
 * mask &= veil_col_type_fits(&row.fields[c]); then veil_col_type_infer(mask)
 * picks the first type left in the order int64, double, bool, date,
 * timestamp, string. A missing value (empty, unquoted) fits every type. A
 * number written with a leading zero ("02134") fits neither int64 nor
 * double: it is a code, and as a number it would lose the zero. */
unsigned veil_col_type_fits(const veil_csv_field *f);
veil_col_type veil_col_type_infer(unsigned mask);

/* Bounds of a table. Categories: a column with more distinct values is not
 * categorical; the error says to use string. */
#define VEIL_TABLE_CATEGORY_MAX (1u << 16)
#define VEIL_TABLE_ROWS_MAX     ((size_t)1 << 32)

typedef struct veil_table veil_table;

typedef struct veil_table_col_spec {
	const char *name;
	veil_col_type type;
} veil_table_col_spec;

/* A string value: p is NUL-terminated, len does not count the NUL. */
typedef struct veil_table_str {
	const char *p;
	size_t len;
} veil_table_str;

/* A read-only view of one column; the arrays hold nrows entries and are
 * valid until the next append or the table is freed (the strings they point
 * to until the table is freed). Exactly one of the value arrays is set, by
 * type; a null row's value there is 0, or {NULL, 0} for a string. */
typedef struct veil_table_col {
	const char *name;
	veil_col_type type;
	size_t nrows;
	size_t nulls;
	const uint8_t *validity;   /* bit r % 8 of byte r / 8 set: row r has a value */
	const int64_t *i64;        /* INT64; DATE (days); TIMESTAMP (seconds) */
	const double *f64;         /* DOUBLE */
	const uint8_t *b;          /* BOOL: 0 or 1 */
	const veil_table_str *str; /* STRING */
	const uint32_t *codes;     /* CATEGORY: index into dict */
	const veil_table_str *dict;
	size_t ndict;
} veil_table_col;

/* Makes an empty table with these columns (names are copied; 1..
 * VEIL_CSV_COLUMNS_MAX_LIMIT of them, non-empty and distinct). */
veil_status veil_table_new(const veil_table_col_spec *cols, size_t ncols, veil_table **out,
                           veil_err *err) VEIL_MUST_CHECK;
/* Makes a table whose columns are the reader's header, all of type t. */
veil_status veil_table_new_from_header(const veil_csv_reader *r, veil_col_type t, veil_table **out,
                                       veil_err *err) VEIL_MUST_CHECK;
/* Appends one record, converting each field to its column's type. An empty
 * unquoted field is a null of any type; "" (quoted) is an empty string for
 * string and category columns and a null for the others. A value that
 * does not convert fails with VEIL_E_INVALID "line L, column C (name): a
 * value of N bytes is not a <type>" (C is the column number; the value
 * itself is never shown). On error the table is unchanged. */
veil_status veil_table_append(veil_table *t, const veil_csv_row *row, veil_err *err) VEIL_MUST_CHECK;
/* One typed value for veil_table_append_values: null, or the field its
 * column's type uses (i: INT64, DATE in days, TIMESTAMP in seconds, BOOL 0
 * or 1; f: DOUBLE, finite; p and len: STRING and CATEGORY, UTF-8 without
 * NUL, p need not be NUL-terminated). */
typedef struct veil_table_value {
	bool null;
	int64_t i;
	double f;
	const char *p;
	size_t len;
} veil_table_value;

/* Appends one row of n typed values (n must be the column count), copying
 * text. A value its column cannot hold (a bool other than 0 or 1, a double
 * that is not finite, text that is not UTF-8 or holds a NUL, a category
 * past VEIL_TABLE_CATEGORY_MAX) fails with VEIL_E_INVALID or VEIL_E_LIMIT
 * naming row and column, never the value. On error the table is unchanged. */
veil_status veil_table_append_values(veil_table *t, const veil_table_value *vals, size_t n,
                                     veil_err *err) VEIL_MUST_CHECK;
size_t veil_table_nrows(const veil_table *t);
size_t veil_table_ncols(const veil_table *t);
/* Fills *out with column c's view; c < veil_table_ncols(t). */
void veil_table_column(const veil_table *t, size_t c, veil_table_col *out);
/* The index of the column named name, or -1. */
long veil_table_find(const veil_table *t, const char *name);
static inline bool veil_table_valid(const veil_table_col *c, size_t row)
{
	return (c->validity[row / 8] >> (row % 8)) & 1u;
}
void veil_table_free(veil_table *t);

#endif
