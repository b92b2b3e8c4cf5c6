/*
 * Training job files (docs/formats/job.md): the strict reader of the YAML
 * document `veil train JOB.yaml` takes, and the expansion of its tuning
 * space into trials. Resolving a trial, the summary line and the machine
 * warnings are in job_tuning.c.
 *
 * The reader pulls libyaml events through the strict document reader every
 * veil format shares (veil/yaml_read.h), as the pipeline and release-policy
 * readers do: each block is a mapping of known keys, read by one loop
 * (read_map) that refuses unknown and repeated keys and records where each
 * key was; each value is checked as it is read (its type, its spelling,
 * its range); rules that tie keys together (momentum only with SGD, a
 * tuned parameter not also fixed, the label not a feature) are checked
 * once the whole document is read, at the position of the key that breaks
 * them. Every count is bounded and every refusal names a line and column.
 */
#include "veil/learn_data.h"
#include "veil/learn_job.h"
#include "veil/yaml_read.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static_assert(VEIL_JOB_TUNE_VALUES_MAX <= 256, "a trial's picks are bytes");
static_assert(VEIL_JOB_FEATURES_MAX == VEIL_LEARN_FEATURES_MAX, "a job names what the data may hold");

/* ---- the keys of each block ---- */

enum {
	J_VERSION,
	J_NAME,
	J_MODEL_NAME,
	J_DATASET,
	J_TEST_DATASET,
	J_LABEL,
	J_FEATURES,
	J_EXCLUDE,
	J_MODEL,
	J_TRAIN,
	J_PRIVACY,
	J_COMPUTE,
	J_SECURITY,
	J_RESOURCES,
	J_TUNING,
	J_COUNT
};
static const char *const job_keys[J_COUNT] = {
        "version", "name",  "model_name", "dataset", "test_dataset", "label",     "features", "exclude",
        "model",   "train", "privacy",    "compute", "security",     "resources", "tuning"};

enum { M_TYPE, M_HIDDEN, M_ACTIVATION, M_SCALE, M_TEMPERATURE, M_OFFSET, M_COUNT };
static const char *const model_keys[M_COUNT] = {"type",  "hidden",      "activation",
                                                "scale", "temperature", "offset"};

enum {
	T_EPOCHS,
	T_BATCH_SIZE,
	T_OPTIMIZER,
	T_LR,
	T_MOMENTUM,
	T_WEIGHT_DECAY,
	T_BETA1,
	T_BETA2,
	T_ADAM_EPS,
	T_SCHEDULE,
	T_STEP_EPOCHS,
	T_GAMMA,
	T_SEED,
	T_SPLIT_SEED,
	T_PATIENCE,
	T_VALIDATION,
	T_TEST_SPLIT,
	T_CHECKPOINT,
	T_COUNT
};
static const char *const train_keys[T_COUNT] = {
        "epochs",     "batch_size",      "optimizer",   "lr",
        "momentum",   "weight_decay",    "beta1",       "beta2",
        "adam_eps",   "schedule",        "step_epochs", "gamma",
        "seed",       "split_seed",      "patience",    "validation_split",
        "test_split", "checkpoint_every"};

enum { P_EPSILON, P_DELTA, P_NOISE, P_MAX_GRAD_NORM, P_COUNT };
static const char *const privacy_keys[P_COUNT] = {"epsilon", "delta", "noise_multiplier", "max_grad_norm"};

enum { C_SHAPE, C_CORES, C_MEMORY, C_STORAGE, C_THREADS, C_COUNT };
static const char *const compute_keys[C_COUNT] = {"shape", "cores", "memory", "storage", "threads"};

enum { S_ENCLAVE, S_ENCRYPTION, S_ATTESTATION, S_COUNT };
static const char *const security_keys[S_COUNT] = {"enclave", "encryption", "attestation"};

enum { R_GPU, R_NETWORK, R_COUNT };
static const char *const resources_keys[R_COUNT] = {"gpu", "network"};

enum { U_STRATEGY, U_TRIALS, U_METRIC, U_SEED, U_SPACE, U_COUNT };
static const char *const tuning_keys[U_COUNT] = {"strategy", "trials", "metric", "seed", "space"};

#define KEYS_MAX ((int)T_COUNT)
static_assert((int)J_COUNT <= KEYS_MAX && (int)M_COUNT <= KEYS_MAX && (int)P_COUNT <= KEYS_MAX &&
                      (int)C_COUNT <= KEYS_MAX && (int)S_COUNT <= KEYS_MAX && (int)R_COUNT <= KEYS_MAX &&
                      (int)U_COUNT <= KEYS_MAX && (int)VEIL_JOB_TUNE_PARAMS <= KEYS_MAX,
              "every block's keys fit its marks");

/* Where a block's mapping and each of its keys were, and which were seen. */
typedef struct marks {
	yaml_mark_t start;
	bool seen[KEYS_MAX];
	yaml_mark_t at[KEYS_MAX];
} marks;

typedef veil_yread reader;

typedef struct parser {
	reader r;
	veil_job *job;
	marks top, model, train, privacy, compute, security, resources, tuning, space;
	yaml_mark_t test_at;  /* the test_dataset value */
	yaml_mark_t *feat_at; /* each entry of features */
	yaml_mark_t *excl_at; /* each entry of exclude */
	size_t feat_cap, excl_cap;
} parser;

/* ---- messages ---- */

/* A refusal at the current event. */
static veil_status bad(parser *p, veil_status code, const char *fmt, ...) VEIL_PRINTF(3, 4);
static veil_status bad(parser *p, veil_status code, const char *fmt, ...)
{
	char msg[VEIL_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof msg, fmt, ap); /* a long message is cut, never overrun */
	va_end(ap);
	return veil_yread_fail(&p->r, p->r.ev.start_mark, code, "%s", msg);
}

static veil_status nomem(parser *p)
{
	return veil_err_set(p->r.err, VEIL_E_NOMEM, "out of memory reading a job file");
}

static bool plain(const parser *p)
{
	return p->r.ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static const char *text(const parser *p)
{
	return veil_yread_scalar(&p->r);
}

static size_t text_len(const parser *p)
{
	return p->r.ev.data.scalar.length;
}

/* "a, b, c": names joined for "(known: ...)". */
static void join(const char *const *names, int n, char *out, size_t outsz)
{
	size_t used = 0;
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		int w = snprintf(out + used, outsz - used, "%s%s", i ? ", " : "", names[i]);
		if (w < 0 || (size_t)w >= outsz - used)
			return;
		used += (size_t)w;
	}
}

/* ---- scalars ---- */

#define NUM_TEXT_MAX 64

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The job's number grammar, -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?,
 * finite: no hex, inf, nan, '+', '.5', '5.', '1_000' or trailing junk. */
static bool number_text(const char *s, size_t n, double *out)
{
	size_t i = 0;
	if (n == 0 || n > NUM_TEXT_MAX)
		return false;
	if (s[i] == '-')
		i++;
	if (i >= n || !is_digit(s[i]))
		return false;
	if (s[i] == '0')
		i++;
	else
		while (i < n && is_digit(s[i]))
			i++;
	if (i < n && s[i] == '.') {
		size_t d = ++i;
		while (i < n && is_digit(s[i]))
			i++;
		if (i == d)
			return false;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t d = i;
		while (i < n && is_digit(s[i]))
			i++;
		if (i == d)
			return false;
	}
	if (i != n)
		return false;
	char tmp[NUM_TEXT_MAX + 1];
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	char *end = NULL;
	errno = 0;
	double v = strtod(tmp, &end);
	if (end != tmp + n || !isfinite(v))
		return false;    /* overflow; an underflow to 0 then fails its range */
	*out = v == 0 ? 0.0 : v; /* -0 is 0 */
	return true;
}

/* A whole number: decimal digits, no sign, no leading zero, up to 2^64 − 1. */
static bool uint_text(const char *s, size_t n, uint64_t *out)
{
	if (n == 0 || n > 20 || (s[0] == '0' && n > 1))
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* The current scalar as a whole number in [min, max]. */
static veil_status cur_uint(parser *p, const char *what, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (!plain(p) || !uint_text(text(p), text_len(p), &v) || v < min || v > max)
		return bad(p, VEIL_E_INVALID, "%s must be a whole number from %llu to %llu, not '%.40s'",
		           what, (unsigned long long)min, (unsigned long long)max, text(p));
	*out = v;
	return VEIL_OK;
}

static veil_status read_uint(parser *p, const char *what, uint64_t min, uint64_t max, uint64_t *out)
{
	veil_status st = veil_yread_want(&p->r, YAML_SCALAR_EVENT, what, "a whole number");
	return st ? st : cur_uint(p, what, min, max, out);
}

/* An interval of real numbers, each end open or closed. */
typedef struct range {
	double lo, hi;
	bool lo_open, hi_open;
	bool single; /* the value is stored as a float: check the float */
} range;

static const range R_LR = {0, 100, true, false, true};
static const range R_UNIT_OPEN = {0, 1, false, true, true}; /* momentum, betas: [0, 1) */
static const range R_UNIT = {0, 1, false, false, true};     /* weight decay: [0, 1] */
static const range R_ADAM_EPS = {0, 1, true, false, true};  /* (0, 1] */
static const range R_GAMMA = {0, 1, true, false, true};     /* (0, 1] */
static const range R_TS = {0, 1000, true, false, true};     /* tempered sigmoid scale, temperature */
static const range R_OFFSET = {-1000, 1000, false, false, true};
static const range R_SPLIT = {0, 0.5, false, false, false};
static const range R_EPSILON = {0, 100, true, false, false};
static const range R_DELTA = {0, 1, true, true, false};
static const range R_SIGMA = {0, 1e6, true, false, false};
static const range R_CLIP = {0, 1e6, true, false, false};

static bool in_range(const range *g, double v)
{
	return (g->lo_open ? v > g->lo : v >= g->lo) && (g->hi_open ? v < g->hi : v <= g->hi);
}

/* The current scalar as a number in g. */
static veil_status cur_real(parser *p, const char *what, const range *g, double *out)
{
	double v = 0;
	if (!plain(p))
		return bad(p, VEIL_E_INVALID, "%s must be a number, written without quotes", what);
	if (!number_text(text(p), text_len(p), &v))
		return bad(p, VEIL_E_INVALID, "%s must be a number such as 0.5 or 1e-05, not '%.40s'", what,
		           text(p));
	/* A float must be in range too, as the engine will hold it: 1e-50 is
	 * not "greater than 0" once it is a float. */
	if (!in_range(g, v) || (g->single && !in_range(g, (double)(float)v)))
		return bad(p, VEIL_E_INVALID, "%s must be %s %g and %s %g, not %.40s", what,
		           g->lo_open ? "greater than" : "at least", g->lo,
		           g->hi_open ? "less than" : "at most", g->hi, text(p));
	*out = v;
	return VEIL_OK;
}

static veil_status read_real(parser *p, const char *what, const range *g, double *out)
{
	veil_status st = veil_yread_want(&p->r, YAML_SCALAR_EVENT, what, "a number");
	return st ? st : cur_real(p, what, g, out);
}

static veil_status read_float(parser *p, const char *what, const range *g, float *out)
{
	double v = 0;
	veil_status st = read_real(p, what, g, &v);
	if (!st)
		*out = (float)v;
	return st;
}

/* One of names[0..n): its index. */
static veil_status read_choice(parser *p, const char *what, const char *const *names, int n, int *out)
{
	char known[256];
	join(names, n, known, sizeof known);
	veil_status st = veil_yread_want(&p->r, YAML_SCALAR_EVENT, what, "a name");
	if (st)
		return st;
	for (int i = 0; i < n; i++)
		if (strcmp(text(p), names[i]) == 0) {
			*out = i;
			return VEIL_OK;
		}
	return bad(p, VEIL_E_INVALID, "%s must be one of %s, not '%.40s'", what, known, text(p));
}

/* A name: 1 to 64 of [A-Za-z0-9._-], not starting with '.' or '-'. */
static veil_status read_name(parser *p, const char *what, char out[VEIL_JOB_NAME_MAX])
{
	veil_status st = veil_yread_want(&p->r, YAML_SCALAR_EVENT, what, "a name");
	if (st)
		return st;
	veil_err ignored = {0};
	if (text_len(p) >= VEIL_JOB_NAME_MAX || veil_name_check(text(p), what, &ignored) != VEIL_OK)
		return bad(p, VEIL_E_INVALID,
		           "%s must be 1 to 64 of letters, digits, '.', '_' and '-', not starting with '.' "
		           "or '-'",
		           what);
	memcpy(out, text(p), text_len(p) + 1);
	return VEIL_OK;
}

/* NAME or NAME@VERSION, VERSION 1 to 2^32 − 1. */
static bool ref_text(const char *s, size_t n, veil_job_dataset *d)
{
	const char *at = memchr(s, '@', n);
	size_t nl = at ? (size_t)(at - s) : n;
	if (nl == 0 || nl >= VEIL_JOB_NAME_MAX)
		return false;
	memcpy(d->name, s, nl);
	d->name[nl] = '\0';
	veil_err ignored = {0};
	if (veil_name_check(d->name, "data set", &ignored) != VEIL_OK)
		return false;
	uint64_t v = 0;
	if (at && (!uint_text(at + 1, n - nl - 1, &v) || v == 0 || v > UINT32_MAX))
		return false;
	d->version = (uint32_t)v;
	return true;
}

static veil_status cur_ref(parser *p, const char *what, veil_job_dataset *d)
{
	if (!ref_text(text(p), text_len(p), d))
		return bad(
		        p, VEIL_E_INVALID,
		        "%s must be a data set name (1 to 64 of letters, digits, '.', '_' and '-') with an "
		        "optional @VERSION, such as fashion-mnist-train or patients@3, not '%.40s'",
		        what, text(p));
	return VEIL_OK;
}

/* A column name: 1 to VEIL_JOB_COLUMN_MAX bytes without control characters
 * (they would reach terminals through messages). */
static veil_status cur_column(parser *p, const char *what)
{
	size_t n = text_len(p);
	if (n == 0)
		return bad(p, VEIL_E_INVALID, "a column name in %s is empty", what);
	if (n > VEIL_JOB_COLUMN_MAX)
		return bad(p, VEIL_E_LIMIT, "a column name in %s is longer than %d bytes", what,
		           VEIL_JOB_COLUMN_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text(p)[i];
		if (c < 0x20 || c == 0x7f)
			return bad(p, VEIL_E_INVALID, "a column name in %s holds a control character", what);
	}
	return VEIL_OK;
}

/* A size such as 128GB or 64 GiB: a whole number, an optional space, a unit. */
static bool size_text(const char *s, size_t n, uint64_t *out)
{
	static const struct {
		const char *unit;
		uint64_t mul;
	} units[] = {{"B", 1},
	             {"KB", 1000},
	             {"MB", 1000000},
	             {"GB", 1000000000},
	             {"TB", 1000000000000},
	             {"PB", 1000000000000000},
	             {"KiB", 1ull << 10},
	             {"MiB", 1ull << 20},
	             {"GiB", 1ull << 30},
	             {"TiB", 1ull << 40},
	             {"PiB", 1ull << 50}};
	size_t d = 0;
	while (d < n && is_digit(s[d]))
		d++;
	uint64_t v = 0;
	if (!uint_text(s, d, &v) || v == 0)
		return false;
	size_t u = d < n && s[d] == ' ' ? d + 1 : d;
	for (size_t k = 0; k < sizeof units / sizeof units[0]; k++)
		if (n - u == strlen(units[k].unit) && memcmp(s + u, units[k].unit, n - u) == 0) {
			if (v > (UINT64_C(1) << 60) / units[k].mul)
				return false; /* over 1 EiB */
			*out = v * units[k].mul;
			return true;
		}
	return false;
}

static veil_status read_size(parser *p, const char *what, uint64_t *out)
{
	veil_status st = veil_yread_want(&p->r, YAML_SCALAR_EVENT, what, "a size");
	if (st)
		return st;
	if (!size_text(text(p), text_len(p), out))
		return bad(
		        p, VEIL_E_INVALID,
		        "%s must be a size such as 128GB, 64GiB or 1536MB (a whole number above 0 and one of "
		        "B, KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB, PiB; at most 1 EiB), not '%.40s'",
		        what, text(p));
	return VEIL_OK;
}

/* A rate such as 25Gbps, 100 Mbps or 1.6Tbps, kept in Gbps. */
static bool rate_text(const char *s, size_t n, double *gbps)
{
	static const struct {
		const char *unit;
		double mul;
	} units[] = {{"Mbps", 1e-3}, {"Gbps", 1}, {"Tbps", 1e3}};
	size_t d = 0;
	while (d < n && (is_digit(s[d]) || s[d] == '.'))
		d++;
	double v = 0;
	if (!number_text(s, d, &v) || !(v > 0))
		return false;
	size_t u = d < n && s[d] == ' ' ? d + 1 : d;
	for (size_t k = 0; k < sizeof units / sizeof units[0]; k++)
		if (n - u == 4 && memcmp(s + u, units[k].unit, 4) == 0) {
			*gbps = v * units[k].mul;
			return *gbps > 0 && *gbps <= 1e6;
		}
	return false;
}

/* enabled / disabled. */
static veil_status read_switch(parser *p, const char *what, bool *out)
{
	static const char *const names[] = {"disabled", "enabled"};
	int v = 0;
	veil_status st = read_choice(p, what, names, 2, &v);
	if (!st)
		*out = v == 1;
	return st;
}

/* ---- lists ---- */

/* Grows a parallel pair of arrays (names and their positions) to hold n + 1. */
static bool grow(char ***names, yaml_mark_t **at, size_t *cap, size_t n)
{
	if (n < *cap)
		return true;
	size_t c = *cap ? 2 * *cap : 16;
	char **v = realloc(*names, c * sizeof *v);
	if (!v)
		return false;
	*names = v;
	yaml_mark_t *m = realloc(*at, c * sizeof *m);
	if (!m)
		return false;
	*at = m;
	*cap = c;
	return true;
}

typedef struct named {
	const char *s;
	size_t i;
} named;

static int named_cmp(const void *a, const void *b)
{
	const named *x = a, *y = b;
	int c = strcmp(x->s, y->s);
	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* The index of the earliest second occurrence of a name in v[0..n), or n. */
static veil_status find_twice(char *const *v, size_t n, size_t *dup)
{
	*dup = n;
	named *s = malloc((n ? n : 1) * sizeof *s);
	if (!s)
		return VEIL_E_NOMEM;
	for (size_t i = 0; i < n; i++)
		s[i] = (named){v[i], i};
	qsort(s, n, sizeof *s, named_cmp);
	for (size_t i = 1; i < n; i++)
		if (strcmp(s[i - 1].s, s[i].s) == 0 && s[i].i < *dup)
			*dup = s[i].i;
	free(s);
	return VEIL_OK;
}

/* features or exclude: 1..VEIL_JOB_FEATURES_MAX column names, none twice. */
static veil_status read_columns(parser *p, const char *what, char ***out, size_t *n, yaml_mark_t **at,
                                size_t *cap)
{
	veil_status st = veil_yread_want(&p->r, YAML_SEQUENCE_START_EVENT, what, "a list of column names");
	if (st)
		return st;
	yaml_mark_t start = p->r.ev.start_mark;
	for (;;) {
		bool end = false;
		if ((st = veil_yread_item(&p->r, what, YAML_SCALAR_EVENT, "a column name", &end)))
			return st;
		if (end)
			break;
		if (*n >= VEIL_JOB_FEATURES_MAX)
			return bad(p, VEIL_E_LIMIT, "%s lists more than %d columns", what,
			           VEIL_JOB_FEATURES_MAX);
		if ((st = cur_column(p, what)))
			return st;
		if (!grow(out, at, cap, *n))
			return nomem(p);
		if (!((*out)[*n] = strdup(text(p))))
			return nomem(p);
		(*at)[(*n)++] = p->r.ev.start_mark;
	}
	if (!*n)
		return veil_yread_fail(&p->r, start, VEIL_E_INVALID, "%s lists no column", what);
	size_t dup = 0;
	if (find_twice(*out, *n, &dup))
		return nomem(p);
	if (dup < *n)
		return veil_yread_fail(&p->r, (*at)[dup], VEIL_E_INVALID,
		                       "column '%.64s' is listed twice in %s", (*out)[dup], what);
	return VEIL_OK;
}

/* Parameters between hidden layers alone: a bound passed there is passed
 * whatever the data's width, so it is refused before any data is read. */
static bool hidden_fits(const size_t *h, size_t n)
{
	uint64_t params = 0;
	for (size_t i = 0; i + 1 < n; i++)
		params += (uint64_t)h[i] * h[i + 1] + h[i + 1];
	return params <= VEIL_LEARN_PARAMS_MAX;
}

/* The entries of a list of layer widths whose start event was read. */
static veil_status hidden_items(parser *p, const char *what, yaml_mark_t start,
                                size_t h[VEIL_LEARN_HIDDEN_MAX], size_t *n)
{
	*n = 0;
	for (;;) {
		bool end = false;
		veil_status st = veil_yread_item(&p->r, what, YAML_SCALAR_EVENT, "a layer width", &end);
		if (st)
			return st;
		if (end)
			break;
		if (*n >= VEIL_LEARN_HIDDEN_MAX)
			return bad(p, VEIL_E_LIMIT, "%s lists more than %d hidden layers", what,
			           VEIL_LEARN_HIDDEN_MAX);
		uint64_t w = 0;
		if ((st = cur_uint(p, "a layer width", 1, VEIL_LEARN_WIDTH_MAX, &w)))
			return st;
		h[(*n)++] = (size_t)w;
	}
	if (!*n)
		return veil_yread_fail(
		        &p->r, start, VEIL_E_INVALID,
		        "%s lists no layer: an mlp has at least one hidden layer (or use type softmax)",
		        what);
	if (!hidden_fits(h, *n))
		return veil_yread_fail(&p->r, start, VEIL_E_LIMIT,
		                       "the hidden layers of %s alone have more than %u parameters", what,
		                       (unsigned)VEIL_LEARN_PARAMS_MAX);
	return VEIL_OK;
}

/* ---- blocks ---- */

typedef veil_status (*value_fn)(parser *p, int k);

/* A block: a mapping of the keys names[0..n), each at most once, read by fn. */
static veil_status read_map(parser *p, const char *what, const char *const *names, int n, marks *m,
                            value_fn fn)
{
	veil_status st = veil_yread_want(&p->r, YAML_MAPPING_START_EVENT, what, "a mapping");
	if (st)
		return st;
	m->start = p->r.ev.start_mark;
	for (;;) {
		if ((st = veil_yread_next(&p->r)))
			return st;
		if (p->r.ev.type == YAML_MAPPING_END_EVENT)
			return VEIL_OK;
		if (p->r.ev.type != YAML_SCALAR_EVENT)
			return bad(p, VEIL_E_INVALID, "a key of %s must be a name, not %s", what,
			           veil_yread_event_what(p->r.ev.type));
		int k = 0;
		while (k < n && strcmp(text(p), names[k]) != 0)
			k++;
		if (k == n) {
			char known[512];
			join(names, n, known, sizeof known);
			return bad(p, VEIL_E_INVALID, "unknown key '%.40s' in %s (known: %s)", text(p), what,
			           known);
		}
		if (m->seen[k])
			return bad(p, VEIL_E_INVALID, "key '%s' appears twice in %s", names[k], what);
		m->seen[k] = true;
		m->at[k] = p->r.ev.start_mark;
		if ((st = fn(p, k)))
			return st;
	}
}

static veil_status model_value(parser *p, int k)
{
	static const char *const types[] = {"logreg", "softmax", "mlp"};
	static const char *const acts[] = {"relu", "tanh", "tempered_sigmoid"};
	veil_model_spec *s = &p->job->run.model;
	int c = 0;
	veil_status st = VEIL_OK;
	switch (k) {
	case M_TYPE:
		if (!(st = read_choice(p, "type", types, 3, &c)))
			s->kind = (veil_model_kind)(c + 1);
		return st;
	case M_HIDDEN:
		if ((st = veil_yread_want(&p->r, YAML_SEQUENCE_START_EVENT, "hidden",
		                          "a list of layer widths")))
			return st;
		return hidden_items(p, "hidden", p->r.ev.start_mark, s->hidden, &s->n_hidden);
	case M_ACTIVATION:
		if (!(st = read_choice(p, "activation", acts, 3, &c)))
			s->activation = (veil_activation)(c + 1);
		return st;
	case M_SCALE:
		return read_float(p, "scale", &R_TS, &s->ts_scale);
	case M_TEMPERATURE:
		return read_float(p, "temperature", &R_TS, &s->ts_temperature);
	case M_OFFSET:
		return read_float(p, "offset", &R_OFFSET, &s->ts_offset);
	default:
		return bad(p, VEIL_E_INTERNAL, "no reader for model key %d", k);
	}
}

static veil_status train_value(parser *p, int k)
{
	static const char *const opts[] = {"sgd", "adam"};
	static const char *const scheds[] = {"constant", "step", "cosine"};
	veil_job_run *run = &p->job->run;
	veil_train_config *c = &run->train;
	uint64_t u = 0;
	int ch = 0;
	veil_status st = VEIL_OK;
	switch (k) {
	case T_EPOCHS:
		if (!(st = read_uint(p, "epochs", 1, VEIL_JOB_EPOCHS_MAX, &u)))
			c->epochs = (size_t)u;
		return st;
	case T_BATCH_SIZE:
		if (!(st = read_uint(p, "batch_size", 1, VEIL_JOB_BATCH_MAX, &u)))
			c->batch_size = (size_t)u;
		return st;
	case T_OPTIMIZER:
		if (!(st = read_choice(p, "optimizer", opts, 2, &ch)))
			c->optimizer = (veil_optimizer)(ch + 1);
		return st;
	case T_LR:
		return read_float(p, "lr", &R_LR, &c->lr);
	case T_MOMENTUM:
		return read_float(p, "momentum", &R_UNIT_OPEN, &c->momentum);
	case T_WEIGHT_DECAY:
		return read_float(p, "weight_decay", &R_UNIT, &c->weight_decay);
	case T_BETA1:
		return read_float(p, "beta1", &R_UNIT_OPEN, &c->beta1);
	case T_BETA2:
		return read_float(p, "beta2", &R_UNIT_OPEN, &c->beta2);
	case T_ADAM_EPS:
		return read_float(p, "adam_eps", &R_ADAM_EPS, &c->adam_eps);
	case T_SCHEDULE:
		if (!(st = read_choice(p, "schedule", scheds, 3, &ch)))
			c->schedule = (veil_schedule)(ch + 1);
		return st;
	case T_STEP_EPOCHS:
		if (!(st = read_uint(p, "step_epochs", 1, VEIL_JOB_EPOCHS_MAX, &u)))
			c->step_epochs = (size_t)u;
		return st;
	case T_GAMMA:
		return read_float(p, "gamma", &R_GAMMA, &c->step_gamma);
	case T_SEED:
		return read_uint(p, "seed", 0, UINT64_MAX, &c->seed);
	case T_SPLIT_SEED:
		return read_uint(p, "split_seed", 0, UINT64_MAX, &run->split_seed);
	case T_PATIENCE:
		if (!(st = read_uint(p, "patience", 0, VEIL_JOB_PATIENCE_MAX, &u)))
			c->patience = (size_t)u;
		return st;
	case T_VALIDATION:
		return read_real(p, "validation_split", &R_SPLIT, &run->validation_split);
	case T_TEST_SPLIT:
		return read_real(p, "test_split", &R_SPLIT, &run->test_split);
	case T_CHECKPOINT:
		return read_uint(p, "checkpoint_every", 0, VEIL_JOB_CHECKPOINT_MAX, &run->checkpoint_every);
	default:
		return bad(p, VEIL_E_INTERNAL, "no reader for train key %d", k);
	}
}

static veil_status privacy_value(parser *p, int k)
{
	veil_job_run *run = &p->job->run;
	switch (k) {
	case P_EPSILON:
		return read_real(p, "epsilon", &R_EPSILON, &run->target_epsilon);
	case P_DELTA:
		return read_real(p, "delta", &R_DELTA, &run->delta);
	case P_NOISE:
		return read_real(p, "noise_multiplier", &R_SIGMA, &run->train.noise_multiplier);
	case P_MAX_GRAD_NORM:
		return read_real(p, "max_grad_norm", &R_CLIP, &run->train.max_grad_norm);
	default:
		return bad(p, VEIL_E_INTERNAL, "no reader for privacy key %d", k);
	}
}

static veil_status compute_value(parser *p, int k)
{
	veil_job_compute *c = &p->job->compute;
	uint64_t u = 0;
	veil_status st = VEIL_OK;
	switch (k) {
	case C_SHAPE:
		return read_name(p, "shape", c->shape);
	case C_CORES:
		if (!(st = read_uint(p, "cores", 1, VEIL_JOB_CORES_MAX, &u)))
			c->cores = (uint32_t)u;
		return st;
	case C_MEMORY:
		return read_size(p, "memory", &c->memory);
	case C_STORAGE:
		return read_size(p, "storage", &c->storage);
	case C_THREADS:
		if (!(st = read_uint(p, "threads", 1, VEIL_JOB_THREADS_MAX, &u)))
			c->threads = (uint32_t)u;
		return st;
	default:
		return bad(p, VEIL_E_INTERNAL, "no reader for compute key %d", k);
	}
}

static veil_status security_value(parser *p, int k)
{
	static const char *const attest[] = {"required", "optional"};
	veil_status st = veil_yread_want(&p->r, YAML_SCALAR_EVENT, security_keys[k], "a name");
	if (st)
		return st;
	switch (k) {
	case S_ENCLAVE:
		if (strcmp(text(p), "enabled") != 0)
			return bad(p, VEIL_E_INVALID,
			           "enclave must be enabled, not '%.40s': veil trains only inside the "
			           "trusted worker's "
			           "TEE",
			           text(p));
		return VEIL_OK;
	case S_ENCRYPTION:
		if (strcmp(text(p), "AES-256") != 0 && strcmp(text(p), "AES-256-GCM") != 0)
			return bad(p, VEIL_E_INVALID,
			           "encryption must be AES-256 (or AES-256-GCM, the same), not '%.40s': it "
			           "is the "
			           "only one veil does",
			           text(p));
		return VEIL_OK;
	case S_ATTESTATION:
		for (int i = 0; i < 2; i++)
			if (strcmp(text(p), attest[i]) == 0) {
				p->job->security.attestation_required = i == 0;
				return VEIL_OK;
			}
		return bad(p, VEIL_E_INVALID, "attestation must be required or optional, not '%.40s'",
		           text(p));
	default:
		return bad(p, VEIL_E_INTERNAL, "no reader for security key %d", k);
	}
}

static veil_status resources_value(parser *p, int k)
{
	veil_status st = VEIL_OK;
	switch (k) {
	case R_GPU:
		return read_switch(p, "gpu", &p->job->compute.gpu);
	case R_NETWORK:
		if ((st = veil_yread_want(&p->r, YAML_SCALAR_EVENT, "network", "a rate")))
			return st;
		if (!rate_text(text(p), text_len(p), &p->job->compute.network_gbps))
			return bad(
			        p, VEIL_E_INVALID,
			        "network must be a rate such as 25Gbps, 100Mbps or 1.6Tbps (above 0, at most "
			        "1000Tbps), not '%.40s'",
			        text(p));
		return VEIL_OK;
	default:
		return bad(p, VEIL_E_INTERNAL, "no reader for resources key %d", k);
	}
}

/* What each tuned parameter's values must be, as the key it replaces. */
static const range *param_range(int k)
{
	switch (k) {
	case VEIL_JOB_TUNE_LR:
		return &R_LR;
	case VEIL_JOB_TUNE_MAX_GRAD_NORM:
		return &R_CLIP;
	case VEIL_JOB_TUNE_MOMENTUM:
		return &R_UNIT_OPEN;
	case VEIL_JOB_TUNE_WEIGHT_DECAY:
		return &R_UNIT;
	default:
		return NULL; /* whole numbers or hidden */
	}
}

/* One parameter's list of values in the space. */
static veil_status space_value(parser *p, int k)
{
	veil_job_tuning *t = &p->job->tuning;
	char what[64];
	(void)snprintf(what, sizeof what, "space.%s", veil_job_param_name((veil_job_param)k));
	bool nested = k == VEIL_JOB_TUNE_HIDDEN;
	veil_status st = veil_yread_want(&p->r, YAML_SEQUENCE_START_EVENT, what,
	                                 nested ? "a list of lists of layer widths" : "a list of values");
	if (st)
		return st;
	yaml_mark_t start = p->r.ev.start_mark;
	size_t *n = &t->nvalues[k];
	for (;;) {
		bool end = false;
		if ((st = veil_yread_item(&p->r, what, nested ? YAML_SEQUENCE_START_EVENT : YAML_SCALAR_EVENT,
		                          nested ? "a list of layer widths" : "a single value", &end)))
			return st;
		if (end)
			break;
		if (*n >= VEIL_JOB_TUNE_VALUES_MAX)
			return bad(p, VEIL_E_LIMIT, "%s lists more than %d values", what,
			           VEIL_JOB_TUNE_VALUES_MAX);
		yaml_mark_t at = p->r.ev.start_mark;
		bool twice = false;
		if (nested) {
			size_t *h = t->hidden[*n], *nh = &t->n_hidden[*n];
			if ((st = hidden_items(p, "a value of space.hidden", at, h, nh)))
				return st;
			for (size_t i = 0; i < *n && !twice; i++)
				twice = t->n_hidden[i] == *nh &&
				        memcmp(t->hidden[i], h, *nh * sizeof *h) == 0;
		} else {
			double v = 0;
			uint64_t u = 0;
			const range *g = param_range(k);
			if (g)
				st = cur_real(p, what, g, &v);
			else if (k == VEIL_JOB_TUNE_BATCH_SIZE)
				st = cur_uint(p, what, 1, VEIL_JOB_BATCH_MAX, &u);
			else
				st = cur_uint(p, what, 1, VEIL_JOB_EPOCHS_MAX, &u);
			if (st)
				return st;
			if (!g)
				v = (double)u;
			t->values[k][*n] = v;
			for (size_t i = 0; i < *n && !twice; i++)
				twice = t->values[k][i] == v;
		}
		if (twice)
			return veil_yread_fail(&p->r, at, VEIL_E_INVALID,
			                       "a value is listed twice in %s (every trial would run twice)",
			                       what);
		(*n)++;
	}
	if (!*n)
		return veil_yread_fail(&p->r, start, VEIL_E_INVALID, "%s lists no value", what);
	return VEIL_OK;
}

static veil_status tuning_value(parser *p, int k)
{
	static const char *const strategies[] = {"grid", "random"};
	static const char *const metrics[] = {"val_accuracy", "val_loss"};
	const char *params[VEIL_JOB_TUNE_PARAMS];
	for (int i = 0; i < VEIL_JOB_TUNE_PARAMS; i++)
		params[i] = veil_job_param_name((veil_job_param)i);
	veil_job_tuning *t = &p->job->tuning;
	uint64_t u = 0;
	int c = 0;
	veil_status st = VEIL_OK;
	switch (k) {
	case U_STRATEGY:
		if (!(st = read_choice(p, "strategy", strategies, 2, &c)))
			t->strategy = (veil_job_strategy)(c + 1);
		return st;
	case U_TRIALS:
		if (!(st = read_uint(p, "trials", 1, VEIL_JOB_TRIALS_MAX, &u)))
			t->trials = (size_t)u;
		return st;
	case U_METRIC:
		if (!(st = read_choice(p, "metric", metrics, 2, &c)))
			t->metric = (veil_job_metric)(c + 1);
		return st;
	case U_SEED:
		return read_uint(p, "seed", 0, UINT64_MAX, &t->seed);
	case U_SPACE:
		return read_map(p, "space", params, VEIL_JOB_TUNE_PARAMS, &p->space, space_value);
	default:
		return bad(p, VEIL_E_INTERNAL, "no reader for tuning key %d", k);
	}
}

/* dataset: one reference or a list of 1..VEIL_JOB_DATASETS_MAX, none twice. */
static veil_status read_datasets(parser *p)
{
	veil_job *j = p->job;
	veil_status st = veil_yread_next(&p->r);
	if (st)
		return st;
	if (p->r.ev.type == YAML_SCALAR_EVENT) {
		j->n_datasets = 1;
		return cur_ref(p, "dataset", &j->datasets[0]);
	}
	if (p->r.ev.type != YAML_SEQUENCE_START_EVENT)
		return bad(p, VEIL_E_INVALID, "dataset must be a data set name or a list of them, not %s",
		           veil_yread_event_what(p->r.ev.type));
	yaml_mark_t start = p->r.ev.start_mark;
	for (;;) {
		bool end = false;
		if ((st = veil_yread_item(&p->r, "dataset", YAML_SCALAR_EVENT, "a data set name", &end)))
			return st;
		if (end)
			break;
		if (j->n_datasets >= VEIL_JOB_DATASETS_MAX)
			return bad(p, VEIL_E_LIMIT, "dataset lists more than %d data sets",
			           VEIL_JOB_DATASETS_MAX);
		veil_job_dataset *d = &j->datasets[j->n_datasets];
		if ((st = cur_ref(p, "each entry of dataset", d)))
			return st;
		for (size_t i = 0; i < j->n_datasets; i++)
			if (strcmp(j->datasets[i].name, d->name) == 0)
				return bad(p, VEIL_E_INVALID, "data set '%s' is listed twice in dataset",
				           d->name);
		j->n_datasets++;
	}
	if (!j->n_datasets)
		return veil_yread_fail(&p->r, start, VEIL_E_INVALID, "dataset lists no data set");
	return VEIL_OK;
}

static veil_status job_value(parser *p, int k)
{
	veil_job *j = p->job;
	uint64_t u = 0;
	veil_status st = VEIL_OK;
	switch (k) {
	case J_VERSION:
		if ((st = read_uint(p, "version", 0, UINT32_MAX, &u)))
			return st;
		if (u != 1)
			return bad(p, VEIL_E_UNSUPPORTED,
			           "job file version %llu is not supported (this veil reads version 1)",
			           (unsigned long long)u);
		return VEIL_OK;
	case J_NAME:
		return read_name(p, "name", j->name);
	case J_MODEL_NAME:
		return read_name(p, "model_name", j->model_name);
	case J_DATASET:
		return read_datasets(p);
	case J_TEST_DATASET:
		if ((st = veil_yread_want(&p->r, YAML_SCALAR_EVENT, "test_dataset", "a data set name")))
			return st;
		p->test_at = p->r.ev.start_mark;
		j->has_test_dataset = true;
		return cur_ref(p, "test_dataset", &j->test_dataset);
	case J_LABEL:
		if ((st = veil_yread_want(&p->r, YAML_SCALAR_EVENT, "label", "a column name")))
			return st;
		if ((st = cur_column(p, "label")))
			return st;
		memcpy(j->label, text(p), text_len(p) + 1);
		return VEIL_OK;
	case J_FEATURES:
		return read_columns(p, "features", &j->features, &j->n_features, &p->feat_at, &p->feat_cap);
	case J_EXCLUDE:
		return read_columns(p, "exclude", &j->exclude, &j->n_exclude, &p->excl_at, &p->excl_cap);
	case J_MODEL:
		return read_map(p, "model", model_keys, M_COUNT, &p->model, model_value);
	case J_TRAIN:
		return read_map(p, "train", train_keys, T_COUNT, &p->train, train_value);
	case J_PRIVACY:
		return read_map(p, "privacy", privacy_keys, P_COUNT, &p->privacy, privacy_value);
	case J_COMPUTE:
		return read_map(p, "compute", compute_keys, C_COUNT, &p->compute, compute_value);
	case J_SECURITY:
		return read_map(p, "security", security_keys, S_COUNT, &p->security, security_value);
	case J_RESOURCES:
		return read_map(p, "resources", resources_keys, R_COUNT, &p->resources, resources_value);
	case J_TUNING:
		p->job->tuning.on = true;
		return read_map(p, "tuning", tuning_keys, U_COUNT, &p->tuning, tuning_value);
	default:
		return bad(p, VEIL_E_INTERNAL, "no reader for key %d", k);
	}
}

/* ---- rules across keys ---- */

static veil_status fail_at(parser *p, yaml_mark_t m, veil_status code, const char *fmt, ...)
        VEIL_PRINTF(4, 5);
static veil_status fail_at(parser *p, yaml_mark_t m, veil_status code, const char *fmt, ...)
{
	char msg[VEIL_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return veil_yread_fail(&p->r, m, code, "%s", msg);
}

static bool tuned(const parser *p, veil_job_param k)
{
	return p->job->tuning.nvalues[k] > 0;
}

/* A key the job needs: present (and not tuned), or tuned (and absent). */
static veil_status need(parser *p, const marks *m, const char *block, const char *const *names, int k,
                        veil_job_param param)
{
	bool is_tuned = param < VEIL_JOB_TUNE_PARAMS && tuned(p, param);
	if (m->seen[k] && is_tuned)
		return fail_at(p, p->space.at[param], VEIL_E_INVALID,
		               "%s is tuned; leave it out of %s (the space's values replace it)", names[k],
		               block);
	if (!m->seen[k] && !is_tuned)
		return fail_at(p, m->start, VEIL_E_INVALID, "%s has no '%s' key, which is required%s", block,
		               names[k], param < VEIL_JOB_TUNE_PARAMS ? " (or tune it in tuning.space)" : "");
	return VEIL_OK;
}

/* A key that only goes with something else: refused where it is. */
static veil_status only_with(parser *p, const marks *m, const char *const *names, int k, bool ok,
                             const char *with)
{
	if (m->seen[k] && !ok)
		return fail_at(p, m->at[k], VEIL_E_INVALID, "%s applies only to %s", names[k], with);
	return VEIL_OK;
}

static veil_status check_model(parser *p)
{
	veil_model_spec *s = &p->job->run.model;
	const marks *m = &p->model;
	veil_status st = VEIL_OK;
	if (!m->seen[M_TYPE])
		return fail_at(p, m->start, VEIL_E_INVALID,
		               "model has no 'type' key, which is required (logreg, softmax or mlp)");
	bool mlp = s->kind == VEIL_MODEL_MLP;
	if ((st = only_with(p, m, model_keys, M_HIDDEN, mlp, "type mlp (the others have no hidden layer)")) ||
	    (st = only_with(p, m, model_keys, M_ACTIVATION, mlp, "type mlp")))
		return st;
	bool ts = s->activation == VEIL_ACT_TEMPERED_SIGMOID;
	for (int k = M_SCALE; k <= M_OFFSET; k++)
		if ((st = only_with(p, m, model_keys, k, ts, "activation tempered_sigmoid")))
			return st;
	if (tuned(p, VEIL_JOB_TUNE_HIDDEN) && !mlp)
		return fail_at(p, p->space.at[VEIL_JOB_TUNE_HIDDEN], VEIL_E_INVALID,
		               "hidden can be tuned only for type mlp");
	if (mlp)
		return need(p, m, "model", model_keys, M_HIDDEN, VEIL_JOB_TUNE_HIDDEN);
	return VEIL_OK;
}

static veil_status check_train(parser *p)
{
	veil_job *j = p->job;
	veil_train_config *c = &j->run.train;
	const marks *m = &p->train;
	veil_status st = VEIL_OK;
	if ((st = need(p, m, "train", train_keys, T_EPOCHS, VEIL_JOB_TUNE_EPOCHS)) ||
	    (st = need(p, m, "train", train_keys, T_BATCH_SIZE, VEIL_JOB_TUNE_BATCH_SIZE)) ||
	    (st = need(p, m, "train", train_keys, T_LR, VEIL_JOB_TUNE_LR)))
		return st;
	if (m->seen[T_MOMENTUM] && tuned(p, VEIL_JOB_TUNE_MOMENTUM))
		return need(p, m, "train", train_keys, T_MOMENTUM, VEIL_JOB_TUNE_MOMENTUM);
	if (m->seen[T_WEIGHT_DECAY] && tuned(p, VEIL_JOB_TUNE_WEIGHT_DECAY))
		return need(p, m, "train", train_keys, T_WEIGHT_DECAY, VEIL_JOB_TUNE_WEIGHT_DECAY);
	bool sgd = c->optimizer == VEIL_OPT_SGD;
	if ((st = only_with(p, m, train_keys, T_MOMENTUM, sgd, "optimizer sgd")) ||
	    (st = only_with(p, m, train_keys, T_BETA1, !sgd, "optimizer adam")) ||
	    (st = only_with(p, m, train_keys, T_BETA2, !sgd, "optimizer adam")) ||
	    (st = only_with(p, m, train_keys, T_ADAM_EPS, !sgd, "optimizer adam")))
		return st;
	if (tuned(p, VEIL_JOB_TUNE_MOMENTUM) && !sgd)
		return fail_at(p, p->space.at[VEIL_JOB_TUNE_MOMENTUM], VEIL_E_INVALID,
		               "momentum can be tuned only with optimizer sgd");
	bool step = c->schedule == VEIL_SCHED_STEP;
	if ((st = only_with(p, m, train_keys, T_STEP_EPOCHS, step, "schedule step")) ||
	    (st = only_with(p, m, train_keys, T_GAMMA, step, "schedule step")))
		return st;
	if (step && !m->seen[T_STEP_EPOCHS])
		return fail_at(
		        p, m->at[T_SCHEDULE], VEIL_E_INVALID,
		        "schedule step needs step_epochs: the epochs between two cuts of the learning rate");
	if (m->seen[T_TEST_SPLIT] && j->has_test_dataset)
		return fail_at(
		        p, m->at[T_TEST_SPLIT], VEIL_E_INVALID,
		        "test_split applies only without test_dataset (the test set is then that data set)");
	if (j->has_test_dataset)
		j->run.test_split = 0;
	if (j->run.validation_split + j->run.test_split >= 1)
		return fail_at(p, m->at[T_VALIDATION], VEIL_E_INVALID,
		               "validation_split and test_split together leave no rows to train on");
	if (c->patience && j->run.validation_split == 0)
		return fail_at(p, m->at[T_PATIENCE], VEIL_E_INVALID,
		               "patience needs validation rows to watch, and validation_split is 0");
	if (j->tuning.on && j->run.validation_split == 0)
		return fail_at(p, p->top.at[J_TUNING], VEIL_E_INVALID,
		               "tuning picks the best trial on validation rows, and validation_split is 0");
	if (!m->seen[T_SPLIT_SEED])
		j->run.split_seed = c->seed;
	return VEIL_OK;
}

static veil_status check_privacy(parser *p)
{
	veil_job_run *run = &p->job->run;
	const marks *m = &p->privacy;
	if (!p->top.seen[J_PRIVACY]) {
		if (tuned(p, VEIL_JOB_TUNE_MAX_GRAD_NORM))
			return fail_at(p, p->space.at[VEIL_JOB_TUNE_MAX_GRAD_NORM], VEIL_E_INVALID,
			               "max_grad_norm can be tuned only with a privacy block");
		return VEIL_OK;
	}
	run->train.dp = true;
	if (!m->seen[P_DELTA])
		return fail_at(
		        p, m->start, VEIL_E_INVALID,
		        "privacy has no 'delta' key, which is required: the δ of the guarantee, such as "
		        "1e-05 (below one over the number of rows)");
	if (!m->seen[P_EPSILON] && !m->seen[P_NOISE])
		return fail_at(
		        p, m->start, VEIL_E_INVALID,
		        "privacy needs epsilon (a target ε to calibrate the noise for), noise_multiplier, "
		        "or both");
	return need(p, m, "privacy", privacy_keys, P_MAX_GRAD_NORM, VEIL_JOB_TUNE_MAX_GRAD_NORM);
}

static veil_status check_columns(parser *p)
{
	veil_job *j = p->job;
	if (j->n_features && j->n_exclude)
		return fail_at(
		        p, p->top.at[J_EXCLUDE], VEIL_E_INVALID,
		        "list features or exclude, not both (exclude trims the default of every column)");
	if (!j->label[0])
		return VEIL_OK;
	for (size_t i = 0; i < j->n_features; i++)
		if (strcmp(j->features[i], j->label) == 0)
			return fail_at(p, p->feat_at[i], VEIL_E_INVALID,
			               "the label '%.64s' cannot also be a feature", j->label);
	for (size_t i = 0; i < j->n_exclude; i++)
		if (strcmp(j->exclude[i], j->label) == 0)
			return fail_at(p, p->excl_at[i], VEIL_E_INVALID,
			               "the label is never a feature; leave it out of exclude");
	return VEIL_OK;
}

/* Fills tuning.picks in the documented order (docs/formats/job.md). */
static veil_status expand(parser *p)
{
	veil_job_tuning *t = &p->job->tuning;
	const marks *m = &p->tuning;
	if (!m->seen[U_SPACE])
		return fail_at(p, m->start, VEIL_E_INVALID,
		               "tuning has no 'space' key, which is required: the values to try");
	uint64_t combos = 1;
	bool any = false;
	for (int k = 0; k < VEIL_JOB_TUNE_PARAMS; k++)
		if (t->nvalues[k]) {
			any = true;
			combos *= t->nvalues[k]; /* at most 64^7 = 2^42 */
		}
	if (!any)
		return fail_at(p, p->space.start, VEIL_E_INVALID, "space lists no parameter to tune");
	bool grid = t->strategy == VEIL_JOB_GRID;
	if (grid) {
		if (m->seen[U_TRIALS])
			return fail_at(
			        p, m->at[U_TRIALS], VEIL_E_INVALID,
			        "trials applies only to strategy random (a grid runs every combination)");
		if (m->seen[U_SEED])
			return fail_at(p, m->at[U_SEED], VEIL_E_INVALID,
			               "seed applies only to strategy random");
		if (combos > VEIL_JOB_TRIALS_MAX)
			return fail_at(
			        p, m->at[U_SPACE], VEIL_E_LIMIT,
			        "the grid has %llu combinations and a tuning run at most %d trials (fewer "
			        "values, or strategy random)",
			        (unsigned long long)combos, VEIL_JOB_TRIALS_MAX);
		t->trials = (size_t)combos;
		for (size_t i = 0; i < t->trials; i++) {
			size_t rest = i;
			for (int k = VEIL_JOB_TUNE_PARAMS - 1; k >= 0; k--)
				if (t->nvalues[k]) { /* the last parameter varies fastest */
					t->picks[i][k] = (uint8_t)(rest % t->nvalues[k]);
					rest /= t->nvalues[k];
				}
		}
		return VEIL_OK;
	}
	if (!m->seen[U_TRIALS])
		return fail_at(p, m->start, VEIL_E_INVALID,
		               "strategy random needs trials: how many combinations to draw");
	if (t->trials > combos)
		return fail_at(
		        p, m->at[U_TRIALS], VEIL_E_INVALID,
		        "trials is %zu and the space has only %llu combinations (a random search never "
		        "draws one twice; strategy grid runs them all)",
		        t->trials, (unsigned long long)combos);
	uint64_t state = t->seed;
	for (size_t i = 0; i < t->trials;) {
		for (int k = 0; k < VEIL_JOB_TUNE_PARAMS; k++)
			if (t->nvalues[k])
				t->picks[i][k] = (uint8_t)veil_job_draw_below(&state, t->nvalues[k]);
		bool seen = false;
		for (size_t e = 0; e < i && !seen; e++)
			seen = memcmp(t->picks[e], t->picks[i], sizeof t->picks[i]) == 0;
		if (!seen)
			i++; /* a combination drawn before is drawn again, all of it */
	}
	return VEIL_OK;
}

static veil_status finish(parser *p)
{
	veil_job *j = p->job;
	static const int required[] = {J_NAME, J_DATASET, J_MODEL, J_TRAIN};
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		if (!p->top.seen[required[i]])
			return fail_at(p, p->top.start, VEIL_E_INVALID,
			               "training_job has no '%s' key, which is required",
			               job_keys[required[i]]);
	if (!p->top.seen[J_MODEL_NAME])
		memcpy(j->model_name, j->name, sizeof j->name);
	if (j->has_test_dataset)
		for (size_t i = 0; i < j->n_datasets; i++)
			if (strcmp(j->datasets[i].name, j->test_dataset.name) == 0)
				return fail_at(
				        p, p->test_at, VEIL_E_INVALID,
				        "test_dataset '%s' is also a training data set: its scores would say "
				        "nothing about data the model has not seen",
				        j->test_dataset.name);
	veil_status st = VEIL_OK;
	if ((st = check_columns(p)) || (st = check_model(p)) || (st = check_train(p)) ||
	    (st = check_privacy(p)))
		return st;
	if (j->tuning.on)
		return expand(p);
	j->tuning.trials = 0;
	return VEIL_OK;
}

/* ---- the document ---- */

static void defaults(veil_job *j)
{
	veil_job_run *run = &j->run;
	run->model.activation = VEIL_ACT_RELU;
	run->model.ts_scale = 2;
	run->model.ts_temperature = 2;
	run->model.ts_offset = 1;
	run->train.optimizer = VEIL_OPT_SGD;
	run->train.schedule = VEIL_SCHED_CONSTANT;
	run->train.beta1 = 0.9f;
	run->train.beta2 = 0.999f;
	run->train.adam_eps = 1e-8f;
	run->train.step_gamma = 0.1f;
	run->validation_split = 0.1;
	run->test_split = 0.1;
	j->security.attestation_required = true;
	j->tuning.strategy = VEIL_JOB_GRID;
	j->tuning.metric = VEIL_JOB_VAL_ACCURACY;
}

static veil_status read_doc(parser *p)
{
	marks outer = {0};
	outer.start = p->r.ev.start_mark;
	veil_status st = VEIL_OK;
	for (;;) {
		if ((st = veil_yread_next(&p->r)))
			return st;
		if (p->r.ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (p->r.ev.type != YAML_SCALAR_EVENT)
			return bad(p, VEIL_E_INVALID, "a key must be a name, not %s",
			           veil_yread_event_what(p->r.ev.type));
		if (strcmp(text(p), "training_job") != 0)
			return bad(p, VEIL_E_INVALID,
			           "unknown key '%.40s' (a job file holds one key, training_job)", text(p));
		if (outer.seen[0])
			return bad(p, VEIL_E_INVALID, "key 'training_job' appears twice");
		outer.seen[0] = true;
		if ((st = read_map(p, "training_job", job_keys, J_COUNT, &p->top, job_value)))
			return st;
	}
	if (!outer.seen[0])
		return fail_at(p, outer.start, VEIL_E_INVALID, "the job file has no 'training_job' key");
	if ((st = veil_yread_end(&p->r)))
		return st;
	return finish(p);
}

veil_status veil_job_parse(const char *text, size_t len, veil_job **out, veil_err *err)
{
	*out = NULL;
	if (len > VEIL_JOB_MAX_BYTES)
		return veil_err_set(err, VEIL_E_LIMIT, "a job file is at most %u bytes; this one has %zu",
		                    VEIL_JOB_MAX_BYTES, len);
	parser p = {0};
	if (!(p.job = calloc(1, sizeof *p.job)))
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory reading a job file");
	defaults(p.job);
	veil_status st = veil_yread_begin(&p.r, text, len, "job file", err);
	if (!st)
		st = read_doc(&p);
	veil_yread_close(&p.r);
	free(p.feat_at);
	free(p.excl_at);
	if (st) {
		veil_job_free(p.job);
		return st;
	}
	*out = p.job;
	return VEIL_OK;
}

static void strs_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void veil_job_free(veil_job *job)
{
	if (!job)
		return;
	strs_free(job->features, job->n_features);
	strs_free(job->exclude, job->n_exclude);
	free(job);
}
