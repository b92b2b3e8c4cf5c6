/*
 * Private to the validator (src/data/validate*.c): its state, the bounded
 * per-column sketches (validate_stats.c) and the report writer
 * (validate_report.c). The public contract is veil/data_validate.h; the
 * report's format is docs/formats/validation-report.md.
 */
#ifndef VEIL_VALIDATE_INT_H
#define VEIL_VALIDATE_INT_H

#include "veil/data_validate.h"

#include <assert.h>

/* HyperLogLog with 2^12 one-byte registers: a standard error of
 * 1.04 / sqrt(4096), about 1.6 %, in 4 KiB per column. */
#define HLL_BITS 12
#define HLL_REGS (1u << HLL_BITS)

/* Fine bins of a histogram's grid (see struct hist). */
#define HIST_FINE 1024
static_assert(HIST_FINE >= 4 * 100, "a grid holds at least four fine bins per output bin");

/* Sensitive columns: a mean or standard deviation over fewer values than
 * this is withheld, since over one value it is that value. */
#define AGG_MIN 5

#define BINS_MAX 100

/* A 128-bit keyed hash of a value or a record. Never {0, 0}: that marks an
 * empty slot of a hash set. */
typedef struct vhash {
	uint64_t a, b;
} vhash;

/* The hash's keys: 16 random bytes per validator, stretched to four words. */
typedef struct vkey {
	uint64_t k[4];
} vkey;

/* An open-addressing set of vhash (linear probing, load at most 1/2).
 * A hash's first slot is its top bits, so that the slots keep the order
 * of the hashes: growing then reads the old table and writes the new one
 * front to back, instead of scattering writes over a table larger than
 * the cache. */
typedef struct hset {
	vhash *slot;
	size_t cap, n;
	unsigned bits; /* cap == 1 << bits */
} hset;

static inline size_t hset_first(const hset *s, vhash h)
{
	return (size_t)(h.a >> (64 - s->bits));
}

/* Welford's running mean and sum of squared deviations. */
typedef struct moments {
	uint64_t n;
	double mean, m2;
} moments;

/* An equal-width histogram on a grid of power-of-two width (docs/formats/
 * validation-report.md, "Histograms"): fine bin i counts the values v with
 * floor(v / 2^e) == base + i. The first HIST_FINE values are buffered to
 * choose the grid from their range; a value outside the grid later makes
 * it coarser (by merging whole bins, so counts stay exact) and moves it. */
typedef struct hist {
	double *buf; /* until the grid is set: up to HIST_FINE values */
	size_t nbuf;
	uint64_t *cnt; /* HIST_FINE fine bins once the grid is set */
	double base;   /* integer-valued: the first fine bin's index on the grid */
	int e;         /* bins are 2^e wide */
	double inv;    /* 2^-e, when it is a normal double (-1000 < e < 1000), else 0 */
	bool integral; /* values are integers: bins at least 1 wide */
	bool dead;     /* a range the grid cannot hold, or out of memory: no histogram */
} hist;

/* The histogram as reported: nbins bins of equal width from edge0. */
typedef struct hist_out {
	unsigned nbins;
	double edge0, width;
	uint64_t counts[BINS_MAX];
} hist_out;

/* Rules, in the order a field is checked: a field breaks at most one, the
 * first. R_DUP is a record's. */
typedef enum rule { R_TYPE, R_NULL, R_MIN, R_MAX, R_ALLOWED, R_PATTERN, R_UNIQUE, R_DUP, R_COUNT } rule;

/* The numeric track of a column: what its min, max, moments and
 * histogram are of. */
typedef enum track { T_NONE, T_NUMBER, T_DATE, T_TIMESTAMP } track;

typedef struct violation {
	uint64_t record, line;
	uint32_t col; /* NO_COL for a record's rule */
	uint8_t rule;
} violation;
#define NO_COL UINT32_MAX

/* A text in an allowed list. */
typedef struct vtext {
	const char *p;
	size_t n;
} vtext;

/* A hash waiting to go into its set: inserts are deferred and done in
 * batches, each slot prefetched when its hash is known, so that the cache
 * misses of a large set overlap instead of stalling one by one. */
typedef struct pending {
	vhash h;
	uint64_t record, line;
	uint32_t col; /* NO_COL: the record's hash, for duplicate rows */
} pending;
#define PEND_MAX 32

/* ---- validate_regex.c (declared here: vcol holds one) ---- */

/* A pattern as a DFA over bytes, matched against whole values. */
typedef struct vdfa {
	uint8_t cls[256]; /* each byte's class */
	uint16_t ncls, nstates;
	uint32_t *next;  /* nstates x ncls: the target's row offset; state 0 matches nothing more, 1 starts */
	uint8_t *accept; /* of each state */
	/* Two bytes a step, when the table is small: nstates x ncls^2, the
	 * target's row offset there; pre[b] is b's class times ncls. */
	uint32_t *next2;
	uint32_t pre[256];
} vdfa;

/* Compiles a schema's pattern (already accepted by the schema reader);
 * false, with *d empty, when it is outside the subset this compiles or
 * too big, and the caller uses veil_schema_pattern_match instead. */
bool vdfa_compile(vdfa *d, const char *pattern);
/* The answer regexec gives for "^(pattern)$" on s[0..n). */
bool vdfa_match(const vdfa *d, const char *s, size_t n);
void vdfa_free(vdfa *d);

typedef struct vcol {
	char *name; /* the header's, copied */
	size_t name_len;
	const veil_schema_column *sc; /* validate: its schema column; profile: NULL */
	size_t sidx;                  /* the schema column's index */
	veil_col_type type;           /* validate: the schema's; profile: set by finish */
	bool text;                    /* validate: string or category */
	unsigned mask;                /* profile: the types every value so far fits */

	uint64_t values;       /* validate: values (not missing); profile: non-empty fields */
	uint64_t missing;      /* validate: missing values; profile: empty unquoted fields */
	uint64_t quoted_empty; /* profile: "" fields, a value or missing by the final type */
	uint64_t invalid;      /* validate: values that are not of the type */
	uint64_t viol[R_COUNT];

	track tr;
	bool has_i; /* imin, imax hold an integer, date or timestamp value */
	int64_t imin, imax;
	double dmin, dmax;
	moments mom;
	hist h;
	uint64_t ntrue, nfalse;      /* bool values (profile: while bool is possible) */
	uint64_t lcount, lmin, lmax; /* text lengths in bytes */
	double lsum;

	uint8_t *hll; /* HLL_REGS registers, allocated at the first value */
	veil_pii_counts pii;
	hset uniq; /* validate, unique columns: the values' hashes */
	bool uniq_full;

	vdfa dfa; /* the schema's pattern, when it compiles to one */
	bool has_dfa;

	size_t nallowed; /* the schema's allowed list, typed and sorted */
	int64_t *allow_i;
	double *allow_f;
	vtext *allow_s;

	/* Set by finish (validate_report.c). */
	veil_pii found;     /* the scan's verdict */
	double found_rate;  /* its hit rate */
	veil_pii pii_class; /* declared if any, else found */
	bool quasi;
	bool sensitive;
} vcol;

struct veil_validator {
	const veil_schema *schema; /* NULL: profile */
	size_t ncols;
	vcol *cols;
	size_t max_violations, bins;
	uint64_t max_dup_rows;
	double threshold;
	veil_data_class declared;
	bool redact_all; /* every column counts as sensitive in the report */
	vkey key;

	uint64_t rows, violations, by_rule[R_COUNT];
	violation *list;
	size_t nlist, listcap;

	hset dups;
	uint64_t dup_rows, dup_checked;
	bool dup_full;
	pending pend[PEND_MAX];
	size_t npend;

	bool finished;
	veil_data_class findings, effective;
	veil_validate_summary sum;
};

/* ---- validate_stats.c, and what runs on every field, inline ---- */

/* The 64x64 -> 128-bit multiply, as its two halves and folded. */
static inline void vmum(uint64_t *a, uint64_t *b)
{
	unsigned __int128 r = (unsigned __int128)*a * *b;
	*a = (uint64_t)r;
	*b = (uint64_t)(r >> 64);
}

static inline uint64_t vmix(uint64_t a, uint64_t b)
{
	vmum(&a, &b);
	return a ^ b;
}

static inline vhash vhash_nonzero(vhash h)
{
	if (!(h.a | h.b))
		h.b = 1;
	return h;
}

/* A record's hash from its fields', in order. */
static inline void vhash_fold(vhash *acc, vhash field, size_t col)
{
	acc->a = vmix(acc->a ^ field.a, 0xa0761d6478bd642full ^ (uint64_t)col);
	acc->b = vmix(acc->b ^ field.b, 0xe7037ed1a0b428dbull + (uint64_t)col);
	*acc = vhash_nonzero(*acc);
}

/* HyperLogLog: register h's top HLL_BITS bits keeps the largest rank (the
 * position of the first 1) seen among the other bits; a sentinel bit caps
 * the rank at 64 - HLL_BITS + 1. */
static inline void hll_add(uint8_t *regs, uint64_t h)
{
	size_t idx = (size_t)(h >> (64 - HLL_BITS));
	uint64_t rest = (h << HLL_BITS) | (1ull << (HLL_BITS - 1));
	uint8_t rank = (uint8_t)(__builtin_clzll(rest) + 1);
	if (rank > regs[idx])
		regs[idx] = rank;
}

void vkey_init(vkey *k, const uint8_t seed[static 16]);
vhash vhash_bytes(const vkey *k, const char *p, size_t n);
vhash vhash_u64(const vkey *k, uint64_t v);
/* Inserts h; *fresh says whether it was new. VEIL_E_NOMEM when the set
 * cannot grow (it is unchanged then). */
veil_status hset_insert(hset *s, vhash h, bool *fresh);
void hset_free(hset *s);

double hll_estimate(const uint8_t *regs);

void moments_add(moments *m, double x);
double moments_sd(const moments *m); /* the sample standard deviation, n >= 2 */

/* integral: the values are integers (bins at least 1 wide). */
void hist_add(hist *h, double v, double vmin, double vmax);
/* hist_add's common case, inline: a value on the grid as it is. False
 * when hist_add must decide (no grid yet, or the value is off it). */
static inline bool hist_add_fast(hist *h, double v)
{
	if (!h->cnt || h->inv == 0)
		return false;
	double q = v * h->inv; /* exact: a power of two */
	if (!(q > -9e15 && q < 9e15))
		return false;
	int64_t k = (int64_t)q;
	k -= (double)k > q; /* floor */
	double i = (double)k - h->base;
	if (!(i >= 0 && i < HIST_FINE))
		return false;
	h->cnt[(size_t)i]++;
	return true;
}
/* Fills *out (at most bins bins) from the values' exact bounds; false when
 * there is no histogram (no values, or the grid died). */
bool hist_result(hist *h, double vmin, double vmax, unsigned bins, hist_out *out);
void hist_free(hist *h);

/* "YYYY-MM-DD" for days since 1970-01-01, "YYYY-MM-DDTHH:MM:SSZ" for
 * seconds since the epoch (proleptic Gregorian, UTC). */
#define VDATE_TEXT 48
void vdate_format(int64_t days, char out[static VDATE_TEXT]);
void vtimestamp_format(int64_t secs, char out[static VDATE_TEXT]);

/* ---- validate_report.c ---- */
/* Decides each column's PII class, quasi-identifier flag and sensitivity,
 * the findings' class and the effective one, and fills v->sum. */
void vreport_judge(veil_validator *v);
void vreport_write(const veil_validator *v, veil_jw *w);
const char *vrule_name(rule r);

#endif
