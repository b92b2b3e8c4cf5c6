/*
 * veil data: schema. Included by veil/data.h.
 *
 * A schema (docs/formats/schema.md) says what a dataset's columns hold:
 * name, type, whether a value may be missing, bounds, allowed values, a
 * regular expression, uniqueness, a PII class, whether the column is a
 * quasi-identifier or the label, and the dataset's declared
 * classification. It is read from YAML by a strict, bounded reader
 * (veil_schema_parse), built in code (veil_schema_new + _add_column, the
 * inferred-schema path of `veil data profile`), and written back as YAML
 * that parses to the same schema (veil_schema_write).
 *
 * A schema is immutable once built except through add_column and
 * set_classification; it owns copies of every string it was given.
 */
#ifndef VEIL_DATA_SCHEMA_H
#define VEIL_DATA_SCHEMA_H

#include "veil/base.h"
#include "veil/data_csv.h"

/* Bounds of a schema text and of what it may declare. */
#define VEIL_SCHEMA_MAX_BYTES   (1u << 20) /* the YAML text */
#define VEIL_SCHEMA_COLUMNS_MAX 4096       /* columns in one schema */
#define VEIL_SCHEMA_NAME_MAX    128        /* bytes of a column name */
#define VEIL_SCHEMA_ALLOWED_MAX 1024       /* entries of one `allowed` list */
#define VEIL_SCHEMA_VALUE_MAX   256        /* bytes of one allowed value */
#define VEIL_SCHEMA_PATTERN_MAX 512        /* bytes of one regular expression */

/* Column types are the table's (veil_col_type in veil/data_csv.h); a schema
 * spells VEIL_COL_INT64 "int" and VEIL_COL_DOUBLE "float". */

typedef enum veil_pii {
	VEIL_PII_NONE,
	VEIL_PII_EMAIL,
	VEIL_PII_PHONE,
	VEIL_PII_SSN,
	VEIL_PII_PAYMENT_CARD,
	VEIL_PII_IBAN,
	VEIL_PII_IP,
	VEIL_PII_DATE_OF_BIRTH,
	VEIL_PII_POSTAL_CODE,
	VEIL_PII_PERSON_NAME,
} veil_pii;
#define VEIL_PII_COUNT 10

/* Ordered: a higher value is more sensitive, so "the higher wins" is max(). */
typedef enum veil_data_class {
	VEIL_CLASS_UNSET, /* the schema declares none */
	VEIL_CLASS_PUBLIC,
	VEIL_CLASS_INTERNAL,
	VEIL_CLASS_CONFIDENTIAL,
	VEIL_CLASS_RESTRICTED,
} veil_data_class;

/* The names used in schema files ("int", "float", "payment-card",
 * "date-of-birth", ...). Out-of-range values give "?". */
const char *veil_schema_type_name(veil_col_type t);
const char *veil_pii_name(veil_pii p);
const char *veil_data_class_name(veil_data_class c); /* "" for VEIL_CLASS_UNSET */
/* The reverse: true and *out set when s is exactly one of the names. */
bool veil_schema_type_from_name(const char *s, veil_col_type *out); /* schema spellings only */
bool veil_pii_from_name(const char *s, veil_pii *out);
bool veil_data_class_from_name(const char *s, veil_data_class *out); /* never UNSET */

/* A bound of an int column is `i`; of a date column `i` in days since
 * 1970-01-01 and of a timestamp column `i` in seconds since the Unix epoch,
 * UTC, as the table stores them; of a float column `f`. */
typedef struct veil_schema_bound {
	int64_t i;
	double f;
} veil_schema_bound;

/* One column. For veil_schema_add_column the caller fills one (strings are
 * copied); from veil_schema_column every pointer stays valid until the
 * schema is freed. Zero-initialised means: no bounds, nothing allowed-listed,
 * no pattern, not nullable, not unique, PII none. */
typedef struct veil_schema_column {
	const char *name; /* 1..VEIL_SCHEMA_NAME_MAX bytes, no control characters */
	veil_col_type type;
	bool nullable;
	bool unique;
	bool quasi_identifier;
	bool label; /* at most one column of a schema */
	veil_pii pii;
	bool has_min, has_max; /* int, float, date and timestamp columns only */
	veil_schema_bound min, max;
	/* Allowed values in their canonical text (docs/formats/schema.md, "Values"):
	 * every entry is a valid value of the column's type, none twice. */
	size_t nallowed;
	const char *const *allowed;
	const char *pattern; /* POSIX extended RE, string and category only; NULL: none */
} veil_schema_column;

typedef struct veil_schema veil_schema;

/* Reads a schema from YAML text of len bytes (no NUL needed). Every
 * refusal is "line L, column C: " and what was wrong: VEIL_E_INVALID for
 * malformed or inconsistent input, VEIL_E_UNSUPPORTED for a version other
 * than 1, VEIL_E_LIMIT for a bound exceeded (a text over
 * VEIL_SCHEMA_MAX_BYTES is refused before parsing, without a position).
 * On success the caller owns *out (veil_schema_free); on error *out is NULL. */
veil_status veil_schema_parse(const char *text, size_t len, veil_schema **out, veil_err *err) VEIL_MUST_CHECK;
/* Reads the file at path (at most VEIL_SCHEMA_MAX_BYTES); errors are
 * prefixed with the path. */
veil_status veil_schema_load(const char *path, veil_schema **out, veil_err *err) VEIL_MUST_CHECK;

/* An empty schema (no columns, classification unset) to add columns to. */
veil_status veil_schema_new(veil_schema **out, veil_err *err) VEIL_MUST_CHECK;
/* Checks `col` by the same rules as the reader (messages without a
 * position) and appends a copy. On error the schema is unchanged. */
veil_status veil_schema_add_column(veil_schema *s, const veil_schema_column *col,
                                   veil_err *err) VEIL_MUST_CHECK;
void veil_schema_set_classification(veil_schema *s, veil_data_class c);

/* Appends YAML to out that veil_schema_parse reads back to the same schema
 * (the same columns in the same order, the same classification). Only
 * what differs from the defaults is written. On error out->len is as before. */
veil_status veil_schema_write(const veil_schema *s, veil_buf *out, veil_err *err) VEIL_MUST_CHECK;

void veil_schema_free(veil_schema *s);

size_t veil_schema_ncolumns(const veil_schema *s);
/* The i-th column (declaration order), NULL when i is out of range. */
const veil_schema_column *veil_schema_column_at(const veil_schema *s, size_t i);
/* The index of the column named `name` (exact bytes), or -1. */
ptrdiff_t veil_schema_find(const veil_schema *s, const char *name);
/* The index of the label column, or -1 when there is none. */
ptrdiff_t veil_schema_label(const veil_schema *s);
veil_data_class veil_schema_classification(const veil_schema *s);

/* Whether value[0..len) (no NUL needed) matches column i's pattern as a
 * whole, not just somewhere inside. True when the column has no pattern;
 * false when i is out of range, the value holds a NUL, or memory runs out. */
bool veil_schema_pattern_match(const veil_schema *s, size_t i, const char *value, size_t len);

#endif
