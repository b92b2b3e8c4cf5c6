/*
 * veil data: validation and profiling of a CSV stream (src/data/validate.c,
 * docs/formats/validation-report.md). Included by veil/data.h.
 *
 * A validator is fed the records of one CSV file one at a time and keeps
 * only bounded state per column: counts, running moments (Welford), a
 * HyperLogLog distinct-count sketch, a fixed-bin histogram, PII detector
 * counts, and for `unique` columns and duplicate-row detection sets of
 * 128-bit keyed hashes (never the values). At the end it writes a report
 * in JSON (veil/json_write.h) and a summary the catalog keeps.
 *
 * With a schema it checks every rule of docs/formats/schema.md (type,
 * nullable, min/max, allowed, pattern, unique) and that the file's header
 * and the schema name the same columns. Without one (profiling) it infers
 * each column's type and bounds and can return them as a schema
 * (veil_validator_infer_schema) for `veil data profile` to print.
 *
 * What a report may hold: counts, rates, row numbers, rule names, and
 * aggregates (mean, standard deviation, distinct estimate). Raw values
 * (min, max, histogram edges) only for a column that is not sensitive: not
 * PII (declared or detected), not a quasi-identifier, and in a dataset
 * whose effective classification is public or internal. A violation never
 * carries the offending value, only its row, column and rule.
 */
#ifndef VEIL_DATA_VALIDATE_H
#define VEIL_DATA_VALIDATE_H

#include "veil/data_csv.h"
#include "veil/data_pii.h"
#include "veil/data_schema.h"
#include "veil/json_write.h"

#define VEIL_VALIDATE_VIOLATIONS_DEFAULT 100        /* violations listed; all are counted */
#define VEIL_VALIDATE_THRESHOLD_DEFAULT  0.8        /* PII hit rate that marks a column */
#define VEIL_VALIDATE_BINS_DEFAULT       10         /* histogram bins */
#define VEIL_VALIDATE_DUP_ROWS_DEFAULT   (1u << 24) /* rows whose hashes are kept for duplicates */
#define VEIL_VALIDATE_INFER_ROWS_DEFAULT 0          /* 0: every row decides the inferred type */

typedef struct veil_validate_opts {
	size_t max_violations; /* 0: default */
	double pii_threshold;  /* 0: default; otherwise 0 < t <= 1 */
	unsigned bins;         /* 0: default; at most 100 */
	/* 0: default; past it duplicates are not looked for (the report says
	 * so). It also caps the values a `unique` column keeps. */
	uint64_t max_dup_rows;
	/* The dataset's declared classification (the catalog's): with the
	 * schema's and the findings', the highest wins. */
	veil_data_class declared;
	/* 16 bytes that key the hash of values and records. NULL (what
	 * production passes): 16 random bytes per validator, so that a file
	 * cannot be crafted to make its values collide. Tests pass a fixed key
	 * to make distinct-count estimates repeatable. */
	const uint8_t *hash_key;
	/* Treat every column as sensitive in the report, whatever the class
	 * and the findings say. The trusted worker sets it: the declared class
	 * comes from the host, which could lower it to lift the redaction. */
	bool redact_all;
} veil_validate_opts;

/* What the catalog keeps of a report (and the CLI prints). */
typedef struct veil_validate_summary {
	bool validated;                 /* a schema was given (validate), not a profile */
	bool passed;                    /* validated and no violation */
	uint64_t rows;                  /* records after the header */
	uint64_t violations;            /* all of them, not just those listed */
	uint64_t duplicate_rows;        /* rows equal to an earlier row */
	uint32_t pii;                   /* bit c: some column is PII class c (declared or found) */
	uint32_t quasi_identifiers;     /* columns flagged as quasi-identifiers */
	veil_data_class classification; /* effective: declared, schema's and findings', highest */
} veil_validate_summary;

typedef struct veil_validator veil_validator;

/* A validator for a file with this header (names as the CSV reader gives
 * them). schema NULL: profile. With a schema, a schema column missing from
 * the header, or a header column the schema does not name, is
 * VEIL_E_INVALID here ("the schema's column \"x\" is not in the file"),
 * before any row is read. opts may be NULL. The schema must outlive the
 * validator; the header is copied. */
veil_status veil_validator_new(const veil_schema *schema, const veil_csv_field *header, size_t ncols,
                               const veil_validate_opts *opts, veil_validator **out,
                               veil_err *err) VEIL_MUST_CHECK;
/* Checks one record (row->n must equal the header's column count). A rule
 * broken is not an error: it is counted and, up to the cap, listed.
 * Errors are for memory only. */
veil_status veil_validator_row(veil_validator *v, const veil_csv_row *row, veil_err *err) VEIL_MUST_CHECK;
/* Writes the report (one JSON object, docs/formats/validation-report.md)
 * to w and fills sum. The validator may not be fed after this. */
veil_status veil_validator_finish(veil_validator *v, veil_jw *w, veil_validate_summary *sum,
                                  veil_err *err) VEIL_MUST_CHECK;
/* Profiling only, after finish: a schema of the inferred column types,
 * nullability, bounds (numbers, dates), PII classes and quasi-identifier
 * flags, and the effective classification, for people to edit. */
veil_status veil_validator_infer_schema(const veil_validator *v, veil_schema **out,
                                        veil_err *err) VEIL_MUST_CHECK;
void veil_validator_free(veil_validator *v);

/* Streams a whole CSV through a validator: the reader (opts: csv), the
 * validator, each record, the report. A malformed file is the reader's
 * error (with line and column) and no report. */
veil_status veil_validate_csv(veil_read_fn rd, void *ctx, const veil_csv_opts *csv, const veil_schema *schema,
                              const veil_validate_opts *opts, veil_jw *w, veil_validate_summary *sum,
                              veil_schema **inferred, veil_err *err) VEIL_MUST_CHECK;

#endif
