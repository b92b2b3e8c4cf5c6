/*
 * veil data: feature pipelines (src/data/pipeline*.c, transform.c,
 * docs/formats/pipeline.md). Included by veil/data.h.
 *
 * A pipeline is a YAML file of ordered steps over the columns of a table:
 * impute, standardize, min-max, log, clip, bucketize, one-hot, hash
 * buckets, drop, keyed pseudonymisation, generalisation, and a
 * k-anonymity check. Fitting learns each step's parameters from a table
 * (means, medians, vocabularies, bucket edges); the fitted pipeline is
 * written back as the same YAML with those parameters filled in, so that
 * serving applies exactly the transform training saw, and a fitted
 * pipeline read back applies without refitting.
 *
 * Pseudonymisation is HMAC-SHA-256 (OpenSSL EVP_MAC) under a 32-byte key
 * the caller supplies (the compartment's pseudonymisation key, released to
 * the worker by attestation); the key is never written into the fitted
 * pipeline.
 */
#ifndef VEIL_DATA_PIPELINE_H
#define VEIL_DATA_PIPELINE_H

#include "veil/data_csv.h"
#include "veil/data_schema.h"
#include "veil/json_write.h"

#define VEIL_PIPELINE_MAX_BYTES  (1u << 20) /* the YAML text (a fitted one holds vocabularies) */
#define VEIL_PIPELINE_STEPS_MAX  256
#define VEIL_PIPELINE_KEY_LEN    32   /* the pseudonymisation key */
#define VEIL_PIPELINE_ONEHOT_MAX 1024 /* categories one one-hot step may make */
/* Further bounds of what a pipeline file may say (docs/formats/pipeline.md). */
#define VEIL_PIPELINE_COLUMNS_MAX   4096       /* columns one step names */
#define VEIL_PIPELINE_NAME_MAX      512        /* bytes of a column name in a pipeline */
#define VEIL_PIPELINE_VALUE_MAX     256        /* bytes of a value: impute's, a category */
#define VEIL_PIPELINE_BINS_MAX      1024       /* bucketize: bins, edges + 1 */
#define VEIL_PIPELINE_BUCKETS_MAX   (1u << 20) /* hash_buckets: buckets */
#define VEIL_PIPELINE_WIDTH_MAX     1000000000 /* generalise to band: width */
#define VEIL_PIPELINE_K_MAX         1000000    /* k_anonymity: k */
#define VEIL_PIPELINE_MI_BINS       10         /* bins of numbers in the report's mutual information */
#define VEIL_PIPELINE_PSEUDONYM_LEN 32         /* hex digits of a pseudonym: HMAC-SHA-256's first 16 bytes */

typedef struct veil_pipeline veil_pipeline;

/* Reads a pipeline, fitted or not. Every refusal is "line L, column C: "
 * and what was wrong (unknown step, unknown option, a column named twice,
 * a bad value): VEIL_E_INVALID, VEIL_E_UNSUPPORTED for a version other than
 * 1, VEIL_E_LIMIT for a bound passed. On error *out is NULL. */
veil_status veil_pipeline_parse(const char *text, size_t len, veil_pipeline **out,
                                veil_err *err) VEIL_MUST_CHECK;
veil_status veil_pipeline_load(const char *path, veil_pipeline **out, veil_err *err) VEIL_MUST_CHECK;
void veil_pipeline_free(veil_pipeline *p);

/* Whether every step that learns parameters has them (read from a fitted
 * file, or after veil_pipeline_fit). */
bool veil_pipeline_is_fitted(const veil_pipeline *p);
/* Whether the pipeline pseudonymises any column (the caller must then
 * supply a key to fit and apply). */
bool veil_pipeline_needs_key(const veil_pipeline *p);
/* The label column the pipeline names (`label:`), or NULL. */
const char *veil_pipeline_label(const veil_pipeline *p);

/* Checks the pipeline against a table's columns without touching data:
 * every step's columns exist at that point (after earlier steps' drops and
 * expansions) and have a type the step accepts. VEIL_E_INVALID names the
 * step (its line in the file) and the column. */
veil_status veil_pipeline_check(const veil_pipeline *p, const veil_table *in, veil_err *err) VEIL_MUST_CHECK;

/* What a run did, for the build report. */
typedef struct veil_pipeline_stats {
	uint64_t rows_in, rows_out;
	uint64_t rows_suppressed;        /* by a k-anonymity step with suppress */
	uint64_t k_smallest_group;       /* of the last k-anonymity step; 0 when none ran */
	uint64_t k_groups_below;         /* groups smaller than k, before suppression */
	bool direct_identifiers_removed; /* every column declared or found direct PII was dropped or
	                                    pseudonymised */
	uint64_t k;                      /* k of the last k-anonymity step; 0 when none ran */
	bool k_met;                      /* after it, every group has at least k rows (true when none ran) */
} veil_pipeline_stats;

/* Learns every step's parameters from `in`, step by step (each step is fit
 * on the output of the ones before), then applies it: *out is the
 * transformed table. key: VEIL_PIPELINE_KEY_LEN bytes, or NULL when
 * !veil_pipeline_needs_key. A pipeline already fitted is refitted. */
veil_status veil_pipeline_fit(veil_pipeline *p, const veil_table *in, const uint8_t *key, veil_table **out,
                              veil_pipeline_stats *stats, veil_err *err) VEIL_MUST_CHECK;
/* Applies a fitted pipeline (VEIL_E_INVALID if it is not) to `in`. */
veil_status veil_pipeline_apply(const veil_pipeline *p, const veil_table *in, const uint8_t *key,
                                veil_table **out, veil_pipeline_stats *stats, veil_err *err) VEIL_MUST_CHECK;
/* Appends the fitted pipeline as YAML that veil_pipeline_parse reads back
 * to a pipeline that applies identically. */
veil_status veil_pipeline_write(const veil_pipeline *p, veil_buf *out, veil_err *err) VEIL_MUST_CHECK;

/* Writes the build report's body into the open object of w: the steps as
 * run (with what each learned that is not a raw value of a sensitive
 * column), `stats`, and the mutual information (bits) between each output
 * column and the label column of `out` (none when there is no label). */
veil_status veil_pipeline_report(const veil_pipeline *p, const veil_table *out,
                                 const veil_pipeline_stats *stats, veil_jw *w, veil_err *err) VEIL_MUST_CHECK;

/* With on, the report treats every column as sensitive: counts only, no
 * learned value, vocabulary or edge, one-hot columns as "<column>=#<i>".
 * The trusted worker sets it: it cannot tell from what the host says which
 * columns of a dataset are sensitive or how the dataset is classified. */
void veil_pipeline_set_redact_all(veil_pipeline *p, bool on);

/* Mutual information in bits between two columns of a table: numbers are
 * put into `bins` equal-frequency bins, text by value; nulls are a value
 * of their own. */
veil_status veil_mutual_information(const veil_table *t, size_t a, size_t b, unsigned bins, double *bits,
                                    veil_err *err) VEIL_MUST_CHECK;

/* ---- tables from and to CSV (src/data/table_csv.c) ---- */

/* Reads a whole CSV held in memory into a table. Column types come from
 * schema (which must name exactly the file's columns) or, when schema is
 * NULL, are inferred from every row (a first pass) with
 * veil_col_type_fits. Errors as the CSV reader's and veil_table_append's. */
veil_status veil_table_from_csv(const uint8_t *csv, size_t len, const veil_csv_opts *opts,
                                const veil_schema *schema, veil_table **out, veil_err *err) VEIL_MUST_CHECK;
/* Writes a table as CSV (docs/formats/csv.md): a header row, then one
 * record per row, CRLF line ends, fields quoted when they need it, nulls as
 * empty unquoted fields, doubles with 17 significant digits, dates and
 * timestamps in the forms the reader takes. */
veil_status veil_table_write_csv(const veil_table *t, veil_write_fn wr, void *ctx,
                                 veil_err *err) VEIL_MUST_CHECK;

#endif
