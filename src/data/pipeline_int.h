/*
 * What the files of the feature pipeline share (src/data/pipeline.c,
 * pipeline_write.c, transform.c, transform_steps.c, kanon.c): the parsed
 * pipeline, the parameters a fit learns, and the frame, the working form of
 * a table while steps run over it.
 *
 * A pipeline holds what its file said (pl_step) and, per step, what was
 * learned (pl_fit). A fit learns into fresh pl_fit values and moves them
 * into the pipeline only when every step succeeded, so a failed fit leaves
 * the pipeline as it was.
 *
 * The frame keeps each column as one typed array plus a validity byte per
 * row. Text in a frame is (p, len) and need not be NUL-terminated: it points
 * into the input table, into the pipeline (an imputed value, a category),
 * or into the frame's own arena (pseudonyms, bands, months). The output
 * table copies it.
 */
#ifndef VEIL_DATA_PIPELINE_INT_H
#define VEIL_DATA_PIPELINE_INT_H

#include "veil/data_pii.h"
#include "veil/data_pipeline.h"

/* The key check: the first bytes of HMAC-SHA-256(key, KEY_CHECK_MSG). The
 * message starts with a NUL, which no table value holds, so it is never the
 * pseudonym of a value. */
#define PL_KEY_CHECK_LEN 8
#define PL_KEY_CHECK_MSG "\0veil pipeline key check 1"

typedef enum pl_kind {
	PL_DROP,
	PL_PSEUDONYMISE,
	PL_IMPUTE,
	PL_GENERALISE,
	PL_CLIP,
	PL_LOG,
	PL_STANDARDIZE,
	PL_MINMAX,
	PL_BUCKETIZE,
	PL_ONE_HOT,
	PL_HASH_BUCKETS,
	PL_K_ANONYMITY,
	PL_KIND_COUNT
} pl_kind;

typedef enum pl_impute { PL_MEAN, PL_MEDIAN, PL_MODE, PL_CONSTANT, PL_IMPUTE_COUNT } pl_impute;
typedef enum pl_gen { PL_BAND, PL_PREFIX, PL_MONTH, PL_YEAR, PL_GEN_COUNT } pl_gen;

/* The spellings of the file. */
extern const char *const pl_kind_names[PL_KIND_COUNT];
extern const char *const pl_impute_names[PL_IMPUTE_COUNT];
extern const char *const pl_gen_names[PL_GEN_COUNT];

/* A place in the pipeline file, 1-based; line 0 when the step was not read
 * from a file. */
typedef struct pl_pos {
	unsigned line, column;
} pl_pos;

/* What a step learned; which fields are set depends on its kind. Arrays
 * run parallel to the step's columns. */
typedef struct pl_fit {
	bool have;
	char **values;                       /* impute: the fill value's canonical text, per column */
	double *a, *b;                       /* standardize: mean, std; minmax: min, max */
	double **edges;                      /* bucketize: inner edges, strictly increasing */
	size_t *nedges;                      /* bucketize: how many */
	char ***cats;                        /* one_hot: the vocabulary, most frequent first */
	size_t *ncats;                       /* one_hot: how many */
	uint8_t key_check[PL_KEY_CHECK_LEN]; /* pseudonymise */
	/* Entries values and edges/nedges/cats/ncats hold, for freeing: the
	 * step's column count once read whole, fewer or more while a file is
	 * being read. */
	size_t nvalues, nlists;
} pl_fit;

typedef struct pl_step {
	pl_kind kind;
	pl_pos at; /* the step's name */
	/* columns; for generalise its one column, for k_anonymity the quasi-identifiers */
	char **cols;
	pl_pos *col_at;
	size_t ncols;
	/* options (docs/formats/pipeline.md) */
	pl_impute strategy;
	char *value; /* impute constant, as written */
	pl_gen to;
	int64_t width;   /* band */
	unsigned length; /* prefix, in characters */
	bool has_min, has_max;
	double min, max; /* clip */
	char *min_text, *max_text;
	unsigned bins; /* bucketize: bins to learn, 0 when edges are given */
	double *edges; /* bucketize: given edges */
	size_t nedges;
	unsigned max_categories; /* one_hot */
	uint64_t buckets;        /* hash_buckets */
	uint64_t k;              /* k_anonymity */
	bool suppress;
	pl_fit fit;
} pl_step;

struct veil_pipeline {
	char *label;
	pl_pos label_at;
	pl_step *steps;
	size_t n;
	bool redact_all; /* the report shows no learned value of any column */
};

/* Whether a step of this kind (with these options) learns parameters. */
bool pl_learns(const pl_step *s);
void pl_fit_free(pl_fit *f);
/* "line L, column C: " + message, or the message alone when at->line is 0. */
veil_status pl_fail_at(veil_err *err, const pl_pos *at, veil_status code, const char *fmt, ...)
        VEIL_PRINTF(4, 5);
/* pl_fail_at and veil_err_set as expressions whose value is `code` where
 * the static analyser can see it (it cannot look into another file), so
 * that `st = PL_ERR(...)` is known to stop the loops that test st. */
#define pl_fail(err, at, code, ...) (pl_fail_at((err), (at), (code), __VA_ARGS__), (code))
#define PL_ERR(err, code, ...)      (veil_err_set((err), (code), __VA_ARGS__), (code))
#define PL_NOMEM(err)               PL_ERR((err), VEIL_E_NOMEM, "out of memory running a feature pipeline")

/* ---- values as text: the canonical forms the pipeline file and the CSV writer use ---- */

#define PL_TEXT_MAX 64 /* the longest canonical text of a value that is not text */

/* The shortest of %.15g..%.17g that reads back to v (v finite). */
void pl_format_double(double v, char out[PL_TEXT_MAX]);
/* YYYY-MM-DD of days since 1970-01-01; YYYY-MM-DDTHH:MM:SSZ of seconds. */
void pl_format_date(int64_t days, char out[PL_TEXT_MAX]);
void pl_format_timestamp(int64_t secs, char out[PL_TEXT_MAX]);
/* The proleptic Gregorian date of a day number. */
void pl_civil(int64_t days, int64_t *y, unsigned *m, unsigned *d);
/* A value of type t written as text into *out (the text of a text value
 * itself; otherwise into buf): what pseudonymise, hash_buckets, one_hot and
 * impute's mode see of a value. */
typedef struct pl_text {
	const char *p;
	size_t len;
} pl_text;

/* veil_pipeline_check; with use_fit false, as if no step were fitted (a
 * refit checks the steps, not what an earlier fit learned). */
veil_status pl_check(const veil_pipeline *p, const veil_table *in, bool use_fit, veil_err *err);

/* Whether text v (NUL-terminated) is a value of type t as the CSV reader
 * spells it (docs/formats/csv.md section 3). */
bool pl_value_fits(veil_col_type t, const char *v);

/* ---- the frame ---- */

typedef struct pl_col {
	char *name; /* owned */
	veil_col_type type;
	uint8_t *valid;    /* per row: 1 when it has a value */
	int64_t *i;        /* INT64, BOOL (0/1), DATE (days), TIMESTAMP (seconds) */
	double *f;         /* DOUBLE */
	veil_table_str *s; /* STRING, CATEGORY: (p, len), not necessarily NUL-terminated */
	veil_pii pii;      /* what the header of the input column it comes from names */
	bool pseudonymised;
} pl_col;

typedef struct pl_block pl_block;

typedef struct pl_frame {
	pl_col *cols;
	size_t ncols, cap;
	size_t nrows;
	uint64_t *record; /* per row: its record number in the input table (1-based) */
	pl_block *arena;
} pl_frame;

veil_status pl_frame_from_table(const veil_table *t, pl_frame *f, veil_err *err);
veil_status pl_frame_to_table(const pl_frame *f, veil_table **out, veil_err *err);
void pl_frame_free(pl_frame *f);
/* The index of the column named name, or -1. */
long pl_frame_find(const pl_frame *f, const char *name);
/* Room for n more bytes of text that stays put until the frame is freed. */
char *pl_frame_alloc(pl_frame *f, size_t n);
/* An empty column of type t with nrows rows (all null). */
veil_status pl_col_new(pl_col *c, const char *name, veil_col_type t, size_t nrows, veil_err *err);
void pl_col_free(pl_col *c);
/* Replaces column i with c (taking it over; the old one is freed). */
void pl_frame_replace(pl_frame *f, size_t i, pl_col *c);
/* Removes column i. */
void pl_frame_remove(pl_frame *f, size_t i);
/* Inserts the n columns of cols at position i (taking them over). */
veil_status pl_frame_insert(pl_frame *f, size_t i, pl_col *cols, size_t n, veil_err *err);
/* Keeps only the rows whose keep[r] is set. */
void pl_frame_filter(pl_frame *f, const uint8_t *keep);
/* Row r of column c as text (see pl_text); buf holds PL_TEXT_MAX bytes. */
pl_text pl_value_text(const pl_col *c, size_t r, char buf[PL_TEXT_MAX]);
/* Orders rows r1 and r2 of c by value (numbers by value, text bytewise,
 * false before true); nulls are not compared (callers skip them). */
int pl_value_cmp(const pl_col *c, size_t r1, size_t r2);

/* Sorts idx[0..n) stably by cmp(ctx, a, b); false when out of memory. */
bool pl_sort(size_t *idx, size_t n, int (*cmp)(const void *ctx, size_t a, size_t b), const void *ctx);

/* ---- running steps (transform_steps.c, kanon.c) ---- */

typedef struct pl_run {
	const uint8_t *key; /* VEIL_PIPELINE_KEY_LEN bytes, or NULL */
	veil_pipeline_stats *st;
	size_t step_no; /* 1-based, for messages */
} pl_run;

/* Learns s's parameters from the frame into *fit (zeroed first by the caller). */
veil_status pl_step_learn(const pl_step *s, const pl_run *run, const pl_frame *f, pl_fit *fit, veil_err *err);
/* Applies s with the parameters fit (s->fit, or what a fit just learned). */
veil_status pl_step_apply(const pl_step *s, const pl_run *run, const pl_fit *fit, pl_frame *f, veil_err *err);
/* The k-anonymity step (kanon.c). */
veil_status pl_kanon_apply(const pl_step *s, const pl_run *run, pl_frame *f, veil_err *err);

/* The mutual information of each of the columns cols[0..n) with the label
 * column, into bits[0..n) (veil_mutual_information, the label's codes
 * worked out once). keyish (may be NULL) gets, per column, whether it is
 * text with more than half its values distinct: a key, whose plug-in
 * estimate is close to the label's entropy however little it tells. */
veil_status pl_mutual_information_all(const veil_table *t, size_t label, unsigned bins, const size_t *cols,
                                      size_t n, double *bits, bool *keyish, veil_err *err);

/* The key check value of a key. */
veil_status pl_key_check(const uint8_t *key, uint8_t out[PL_KEY_CHECK_LEN], veil_err *err);

/* Whether a header names a direct identifier: e-mail, phone, SSN, payment
 * card, IBAN, person name, date of birth. */
bool pl_direct_identifier(veil_pii p);

#endif
