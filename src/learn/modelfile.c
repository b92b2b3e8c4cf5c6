/*
 * veil model files (veil/learn_model.h, docs/formats/model.md section 3):
 * a model's layers as safetensors tensors in PyTorch's layout, with the
 * manifest that describes the model in the file's __metadata__.
 *
 * The manifest is written here, with veil's JSON writer, because the
 * worker writes it and does not link jansson. Of the manifest, this code
 * reads back only the architecture, with the bounded cursor of
 * learn_json.h: enough to rebuild the model and to require that the
 * tensors are exactly that model's. Everything else in it is for the host,
 * which gets it back as text and parses it with jansson.
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learn_json.h"
#include "veil/crypto.h"
#include "veil/json_write.h"
#include "veil/learn_data.h"
#include "veil/learn_model.h"

/* Tensors are written layer by layer, bias before weight: with at most 9
 * layers that is also their names' sorted order, the order Hugging Face's
 * serializer would give them. */
static_assert(VEIL_LEARN_HIDDEN_MAX + 1 <= 10, "layer names sort as numbers only below 10 layers");

#define MANIFEST_TOP_MAX 64 /* members of the manifest's top-level object */
#define MANIFEST_KEY_MAX 256

static const char *kind_name(veil_model_kind k)
{
	switch (k) {
	case VEIL_MODEL_LOGREG:
		return "logreg";
	case VEIL_MODEL_SOFTMAX:
		return "softmax";
	case VEIL_MODEL_MLP:
		return "mlp";
	}
	return NULL;
}

static const char *act_name(veil_activation a)
{
	switch (a) {
	case VEIL_ACT_RELU:
		return "relu";
	case VEIL_ACT_TANH:
		return "tanh";
	case VEIL_ACT_TEMPERED_SIGMOID:
		return "tempered_sigmoid";
	}
	return NULL;
}

/* ---- writing the manifest ---- */

static bool is_hex(const char *s, size_t want)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return want ? n == want : n > 0 && n % 2 == 0 && n <= 256;
}

static veil_status check_strings(const char *const *s, size_t n, const char *what, veil_err *err)
{
	if (n && !s)
		return veil_err_set(err, VEIL_E_INVALID, "manifest: no %s given", what);
	for (size_t i = 0; i < n; i++)
		if (!s[i])
			return veil_err_set(err, VEIL_E_INVALID, "manifest: %s %zu is missing", what, i);
	return VEIL_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Names a reader of the manifest can use: non-empty, within max bytes, and
 * distinct (sorted copies of the pointers: O(n log n) for a hostile
 * manifest's long lists). */
static veil_status check_names(const char *const *s, size_t n, size_t max, const char *what, veil_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (!s[i][0] || strlen(s[i]) > max)
			return veil_err_set(err, VEIL_E_INVALID,
			                    "manifest: %s %zu is empty or over %zu bytes", what, i, max);
	if (n < 2)
		return VEIL_OK;
	const char **sorted = malloc(n * sizeof *sorted);
	if (!sorted)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory checking %s names", what);
	memcpy(sorted, s, n * sizeof *sorted);
	qsort(sorted, n, sizeof *sorted, cmp_str);
	veil_status st = VEIL_OK;
	for (size_t i = 1; i < n && !st; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0)
			st = veil_err_set(err, VEIL_E_INVALID, "manifest: a %s is given twice", what);
	free(sorted);
	return st;
}

static veil_status check_info(const veil_model_spec *spec, const veil_manifest *in, veil_err *err)
{
	veil_status st;
	if (in->n_features != spec->inputs)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "manifest: %zu feature names for a model of %zu inputs", in->n_features,
		                    spec->inputs);
	if (in->n_classes != spec->classes)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "manifest: %zu class labels for a model of %zu classes", in->n_classes,
		                    spec->classes);
	if ((st = check_strings(in->features, in->n_features, "feature name", err)) ||
	    (st = check_strings(in->class_labels, in->n_classes, "class label", err)) ||
	    (st = check_names(in->features, in->n_features, VEIL_LEARN_NAME_MAX - 1, "feature name", err)) ||
	    (st = check_names(in->class_labels, in->n_classes, VEIL_LEARN_LABEL_MAX - 1, "class label", err)))
		return st;
	if (!in->label || !in->job_name || !in->veil_version)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "manifest: the label name, job name and veil version are required");
	if (!in->job_sha256 || !is_hex(in->job_sha256, 64))
		return veil_err_set(err, VEIL_E_INVALID,
		                    "manifest: the job file's SHA-256 must be 64 lowercase hex digits");
	if (in->measurement && !is_hex(in->measurement, 0))
		return veil_err_set(err, VEIL_E_INVALID,
		                    "manifest: the worker measurement must be lowercase hex, an even count "
		                    "of digits up to 256");
	if (in->metrics && (!in->metrics_split || in->metrics->classes != spec->classes))
		return veil_err_set(err, VEIL_E_INVALID,
		                    "manifest: metrics need the name of the split they were measured on, and "
		                    "the model's classes");
	if (in->n_datasets && !in->datasets)
		return veil_err_set(err, VEIL_E_INVALID, "manifest: no data sets given");
	for (size_t i = 0; i < in->n_datasets; i++) {
		const veil_manifest_dataset *d = &in->datasets[i];
		if (!d->name || !d->sha256 || !is_hex(d->sha256, 64))
			return veil_err_set(err, VEIL_E_INVALID,
			                    "manifest: data set %zu needs a name and a SHA-256 of 64 "
			                    "lowercase hex digits",
			                    i);
		if ((st = check_strings(d->lineage, d->n_lineage, "lineage step", err)))
			return st;
	}
	if (in->privacy && in->privacy->n_orders && !in->privacy->orders)
		return veil_err_set(err, VEIL_E_INVALID, "manifest: no RDP orders given");
	return VEIL_OK;
}

static void write_arch(veil_jw *w, const veil_model_spec *s)
{
	veil_jw_object(w);
	veil_jw_kstr(w, "kind", kind_name(s->kind));
	veil_jw_kuint(w, "inputs", s->inputs);
	veil_jw_kuint(w, "classes", s->classes);
	if (s->kind == VEIL_MODEL_MLP) {
		veil_jw_key(w, "hidden");
		veil_jw_array(w);
		for (size_t i = 0; i < s->n_hidden; i++)
			veil_jw_uint(w, s->hidden[i]);
		veil_jw_end(w);
		veil_jw_kstr(w, "activation", act_name(s->activation));
		if (s->activation == VEIL_ACT_TEMPERED_SIGMOID) {
			veil_jw_key(w, "tempered_sigmoid");
			veil_jw_object(w);
			veil_jw_kdouble(w, "scale", s->ts_scale);
			veil_jw_kdouble(w, "temperature", s->ts_temperature);
			veil_jw_kdouble(w, "offset", s->ts_offset);
			veil_jw_end(w);
		}
	}
	veil_jw_end(w);
}

static void write_strings(veil_jw *w, const char *const *s, size_t n)
{
	veil_jw_array(w);
	for (size_t i = 0; i < n; i++)
		veil_jw_str(w, s[i]);
	veil_jw_end(w);
}

static void write_privacy(veil_jw *w, const veil_manifest_privacy *p)
{
	if (!p) {
		veil_jw_null(w);
		return;
	}
	veil_jw_object(w);
	veil_jw_kstr(w, "mechanism", "dp-sgd");
	veil_jw_kstr(w, "accountant", "rdp");
	veil_jw_kdouble(w, "epsilon", p->epsilon);
	veil_jw_kdouble(w, "delta", p->delta);
	veil_jw_kdouble(w, "noise_multiplier", p->noise_multiplier);
	veil_jw_kdouble(w, "max_grad_norm", p->max_grad_norm);
	veil_jw_kdouble(w, "sample_rate", p->sample_rate);
	veil_jw_kuint(w, "steps", p->steps);
	veil_jw_key(w, "orders");
	veil_jw_array(w);
	for (size_t i = 0; i < p->n_orders; i++)
		veil_jw_double(w, p->orders[i]); /* ∞ becomes null */
	veil_jw_end(w);
	veil_jw_end(w);
}

veil_status veil_modelfile_manifest(const veil_model *m, const veil_manifest *in, veil_buf *out,
                                    veil_err *err)
{
	const veil_model_spec *spec = veil_model_get_spec(m);
	veil_status st = check_info(spec, in, err);
	if (st)
		return st;
	size_t orig = out->len;
	veil_jw w;
	veil_jw_init(&w, out);
	veil_jw_object(&w);
	veil_jw_key(&w, "architecture");
	write_arch(&w, spec);
	veil_jw_key(&w, "features");
	write_strings(&w, in->features, in->n_features);
	veil_jw_key(&w, "label");
	veil_jw_object(&w);
	veil_jw_kstr(&w, "name", in->label);
	veil_jw_key(&w, "classes");
	write_strings(&w, in->class_labels, in->n_classes);
	veil_jw_end(&w);
	veil_jw_key(&w, "metrics");
	veil_jw_object(&w);
	if (in->metrics) {
		veil_jw_key(&w, in->metrics_split);
		veil_metrics_write_json(&w, in->metrics, in->class_labels);
	}
	veil_jw_end(&w);
	veil_jw_key(&w, "privacy");
	write_privacy(&w, in->privacy);
	veil_jw_key(&w, "datasets");
	veil_jw_array(&w);
	for (size_t i = 0; i < in->n_datasets; i++) {
		const veil_manifest_dataset *d = &in->datasets[i];
		veil_jw_object(&w);
		veil_jw_kstr(&w, "name", d->name);
		veil_jw_kuint(&w, "version", d->version);
		veil_jw_kstr(&w, "sha256", d->sha256);
		veil_jw_key(&w, "lineage");
		write_strings(&w, d->lineage, d->n_lineage);
		veil_jw_end(&w);
	}
	veil_jw_end(&w);
	veil_jw_key(&w, "job");
	veil_jw_object(&w);
	veil_jw_kstr(&w, "name", in->job_name);
	veil_jw_kstr(&w, "sha256", in->job_sha256);
	veil_jw_end(&w);
	veil_jw_key(&w, "worker_measurement");
	if (in->measurement)
		veil_jw_str(&w, in->measurement);
	else
		veil_jw_null(&w);
	/* 0 leaves the time out, so that the same job on the same data gives
	 * a byte-identical model file (the catalog records when it was made). */
	if (in->created) {
		char when[VEIL_TIME_STR_MAX];
		veil_time_format(in->created, when);
		veil_jw_kstr(&w, "created", when);
	}
	veil_jw_kstr(&w, "veil_version", in->veil_version);
	veil_jw_end(&w);
	if (veil_jw_finish(&w, err) != VEIL_OK) {
		out->len = orig;
		return veil_err_wrap(err, "manifest");
	}
	if (out->len - orig > VEIL_MODELFILE_MANIFEST_MAX) {
		out->len = orig;
		return veil_err_set(err, VEIL_E_LIMIT, "manifest: over %u bytes",
		                    VEIL_MODELFILE_MANIFEST_MAX);
	}
	return VEIL_OK;
}

/* ---- reading the architecture back ---- */

static veil_status read_size(lj *j, size_t *out)
{
	uint64_t v;
	veil_status st = lj_uint(j, &v);
	if (st)
		return st;
	if (v > SIZE_MAX)
		return lj_fail(j, VEIL_E_INVALID, "a size too large for this machine");
	*out = (size_t)v;
	return VEIL_OK;
}

/* A string member's value, one of names (NULL-terminated); its index. */
static veil_status read_choice(lj *j, const char *const *names, int *out)
{
	char *s;
	size_t off;
	lj_ws(j);
	off = j->off;
	veil_status st = lj_string(j, 32, &s, NULL);
	if (st == VEIL_E_LIMIT)
		j->off = off;
	if (st)
		return st == VEIL_E_LIMIT ? lj_fail(j, VEIL_E_INVALID, "an unknown name") : st;
	for (int i = 0; names[i]; i++) {
		if (strcmp(s, names[i]) == 0) {
			free(s);
			*out = i;
			return VEIL_OK;
		}
	}
	free(s);
	j->off = off;
	return lj_fail(j, VEIL_E_INVALID, "an unknown name");
}

static veil_status read_hidden(lj *j, veil_model_spec *spec)
{
	veil_status st = lj_expect(j, '[', "'[' (hidden is an array of layer widths)");
	bool first = true, more;
	while (!st && !(st = lj_element(j, &first, &more)) && more) {
		if (spec->n_hidden == VEIL_LEARN_HIDDEN_MAX)
			return lj_fail(j, VEIL_E_LIMIT, "more than %d hidden layers", VEIL_LEARN_HIDDEN_MAX);
		st = read_size(j, &spec->hidden[spec->n_hidden++]);
	}
	return st;
}

static veil_status read_float(lj *j, float *out)
{
	double d;
	veil_status st = lj_double(j, &d);
	if (st)
		return st;
	if (!(fabs(d) <= 3.4e38))
		return lj_fail(j, VEIL_E_INVALID, "a number out of float range");
	*out = (float)d;
	return VEIL_OK;
}

/* The next member of an object whose members are names[] (NULL-ended),
 * each at most once: *k is its index, or -1 at the object's end. An
 * unknown or repeated member is refused as "an unknown <what> member" or
 * "a <what> member given twice", pointing at its key. */
static veil_status next_known_member(lj *j, bool *first, const char *const *names, unsigned *seen,
                                     const char *what, int *k)
{
	char *key;
	lj_ws(j);
	size_t off = j->off;
	*k = -1;
	veil_status st = lj_member(j, first, MANIFEST_KEY_MAX, &key);
	if (st || !key)
		return st;
	for (int i = 0; names[i]; i++)
		if (strcmp(key, names[i]) == 0)
			*k = i;
	free(key);
	if (*k < 0 || (*seen & 1u << *k)) {
		j->off = off;
		if (*k < 0)
			return lj_fail(j, VEIL_E_INVALID, "an unknown %s member", what);
		return lj_fail(j, VEIL_E_INVALID, "a%s %s member given twice",
		               strchr("aeiou", what[0]) ? "n" : "", what);
	}
	*seen |= 1u << *k;
	return VEIL_OK;
}

static veil_status read_ts(lj *j, veil_model_spec *spec)
{
	static const char *const names[] = {"scale", "temperature", "offset", NULL};
	float *dst[] = {&spec->ts_scale, &spec->ts_temperature, &spec->ts_offset};
	unsigned seen = 0;
	bool first = true;
	veil_status st = lj_expect(j, '{', "'{' (tempered_sigmoid is an object)");
	int k;
	while (!st && !(st = next_known_member(j, &first, names, &seen, "tempered_sigmoid", &k)) && k >= 0)
		st = read_float(j, dst[k]);
	if (!st && seen != 7)
		st = lj_fail(j, VEIL_E_INVALID, "tempered_sigmoid needs scale, temperature and offset");
	return st;
}

enum { A_KIND, A_INPUTS, A_CLASSES, A_HIDDEN, A_ACT, A_TS, A_N };

static veil_status read_arch_member(lj *j, int k, veil_model_spec *spec)
{
	static const char *const kinds[] = {"logreg", "softmax", "mlp", NULL};
	static const char *const acts[] = {"relu", "tanh", "tempered_sigmoid", NULL};
	static const veil_model_kind kind_of[] = {VEIL_MODEL_LOGREG, VEIL_MODEL_SOFTMAX, VEIL_MODEL_MLP};
	static const veil_activation act_of[] = {VEIL_ACT_RELU, VEIL_ACT_TANH, VEIL_ACT_TEMPERED_SIGMOID};
	int c = 0;
	veil_status st;
	switch (k) {
	case A_KIND:
		if (!(st = read_choice(j, kinds, &c)))
			spec->kind = kind_of[c];
		return st;
	case A_INPUTS:
		return read_size(j, &spec->inputs);
	case A_CLASSES:
		return read_size(j, &spec->classes);
	case A_HIDDEN:
		return read_hidden(j, spec);
	case A_ACT:
		if (!(st = read_choice(j, acts, &c)))
			spec->activation = act_of[c];
		return st;
	default:
		return read_ts(j, spec);
	}
}

/* The members each kind needs, exactly: an MLP names its hidden layers and
 * activation, the tempered sigmoid its parameters; nothing else does. */
static veil_status check_arch_members(lj *j, unsigned seen, const veil_model_spec *spec)
{
	unsigned want = 1u << A_KIND | 1u << A_INPUTS | 1u << A_CLASSES;
	if (spec->kind == VEIL_MODEL_MLP) {
		want |= 1u << A_HIDDEN | 1u << A_ACT;
		if (spec->activation == VEIL_ACT_TEMPERED_SIGMOID)
			want |= 1u << A_TS;
	}
	if (seen == want)
		return VEIL_OK;
	static const char *const names[] = {"kind",   "inputs",     "classes",
	                                    "hidden", "activation", "tempered_sigmoid"};
	for (int k = 0; k < A_N; k++)
		if ((seen ^ want) & 1u << k)
			return lj_fail(j, VEIL_E_INVALID, "the architecture %s %s",
			               (want & 1u << k) ? "lacks" : "must not have", names[k]);
	return VEIL_E_INTERNAL; /* not reached: seen != want */
}

static veil_status read_arch(lj *j, veil_model_spec *spec)
{
	static const char *const names[] = {"kind",       "inputs",           "classes", "hidden",
	                                    "activation", "tempered_sigmoid", NULL};
	unsigned seen = 0;
	bool first = true;
	veil_status st = lj_expect(j, '{', "'{' (the architecture is an object)");
	int k;
	while (!st && !(st = next_known_member(j, &first, names, &seen, "architecture", &k)) && k >= 0)
		st = read_arch_member(j, k, spec);
	return st ? st : check_arch_members(j, seen, spec);
}

/* ---- reading the columns back (what evaluation needs) ---- */

/* Arrays of names grow as read; the manifest's byte bound bounds them. */
static veil_status push_name(lj *j, char ***arr, size_t *n, size_t *cap, size_t max, size_t count_max,
                             const char *what)
{
	/* Bounded by what a model can have, not only by the manifest's bytes:
	 * a forged manifest of tiny names would otherwise grow millions. */
	if (*n == count_max)
		return lj_fail(j, VEIL_E_LIMIT, "more than %zu %ss", count_max, what);
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		char **p = realloc(*arr, c * sizeof *p);
		if (!p)
			return lj_fail(j, VEIL_E_NOMEM, "out of memory reading %s", what);
		*arr = p;
		*cap = c;
	}
	lj_ws(j);
	size_t off = j->off;
	veil_status st = lj_string(j, max, &(*arr)[*n], NULL);
	if (st == VEIL_E_LIMIT) {
		j->off = off;
		return lj_fail(j, VEIL_E_INVALID, "a %s over %zu bytes", what, max);
	}
	if (!st)
		(*n)++;
	return st;
}

static veil_status read_names(lj *j, char ***arr, size_t *n, size_t max, size_t count_max, const char *what)
{
	size_t cap = 0;
	bool first = true, more;
	veil_status st = lj_expect(j, '[', "'[' (an array of strings)");
	while (!st && !(st = lj_element(j, &first, &more)) && more)
		st = push_name(j, arr, n, &cap, max, count_max, what);
	return st;
}

static veil_status read_label(lj *j, veil_manifest_columns *c)
{
	static const char *const names[] = {"name", "classes", NULL};
	unsigned seen = 0;
	bool first = true;
	int k;
	veil_status st = lj_expect(j, '{', "'{' (label is an object)");
	while (!st && !(st = next_known_member(j, &first, names, &seen, "label", &k)) && k >= 0) {
		if (k == 0) {
			lj_ws(j);
			size_t off = j->off;
			if ((st = lj_string(j, VEIL_LEARN_NAME_MAX - 1, &c->label, NULL)) == VEIL_E_LIMIT) {
				j->off = off;
				st = lj_fail(j, VEIL_E_INVALID, "a label name over %d bytes",
				             VEIL_LEARN_NAME_MAX - 1);
			}
		} else
			st = read_names(j, &c->classes, &c->n_classes, VEIL_LEARN_LABEL_MAX - 1,
			                VEIL_LEARN_CLASSES_MAX, "class label");
	}
	if (!st && seen != 3)
		st = lj_fail(j, VEIL_E_INVALID, "label needs its name and its classes");
	return st;
}

/* The manifest's top-level object: the architecture always, the features
 * and the label when cols is not NULL; every other member is checked to be
 * JSON and skipped. */
static veil_status read_manifest(lj *j, veil_model_spec *spec, veil_manifest_columns *cols)
{
	char *keys[MANIFEST_TOP_MAX];
	size_t n = 0;
	bool first = true, have_arch = false, have_features = false, have_label = false;
	veil_status st = lj_expect(j, '{', "'{' (the manifest is an object)");
	while (!st) {
		char *key;
		size_t off;
		lj_ws(j);
		off = j->off;
		if ((st = lj_member(j, &first, MANIFEST_KEY_MAX, &key)) || !key)
			break;
		bool dup = false;
		for (size_t i = 0; i < n; i++)
			dup = dup || strcmp(keys[i], key) == 0;
		if (dup || n == MANIFEST_TOP_MAX) {
			free(key);
			j->off = off;
			st = lj_fail(j, dup ? VEIL_E_INVALID : VEIL_E_LIMIT,
			             dup ? "a member given twice" : "more than %d members", MANIFEST_TOP_MAX);
			break;
		}
		keys[n++] = key;
		if (strcmp(key, "architecture") == 0) {
			have_arch = true;
			st = read_arch(j, spec);
		} else if (cols && strcmp(key, "features") == 0) {
			have_features = true;
			st = read_names(j, &cols->features, &cols->n_features, VEIL_LEARN_NAME_MAX - 1,
			                VEIL_LEARN_WIDTH_MAX, "feature name");
		} else if (cols && strcmp(key, "label") == 0) {
			have_label = true;
			st = read_label(j, cols);
		} else {
			st = lj_skip(j, 1);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	if (!st && (st = lj_finish(j)) == VEIL_OK && !have_arch)
		st = veil_err_set(j->err, VEIL_E_INVALID, "manifest: no architecture");
	if (!st && cols && (!have_features || !have_label))
		st = veil_err_set(j->err, VEIL_E_INVALID, "manifest: no %s",
		                  have_features ? "label" : "features");
	return st;
}

static veil_status read_manifest_text(const char *manifest, size_t len, veil_model_spec *spec,
                                      veil_manifest_columns *cols, veil_err *err)
{
	memset(spec, 0, sizeof *spec);
	if (len > VEIL_MODELFILE_MANIFEST_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "manifest: %zu bytes, over %u", len,
		                    VEIL_MODELFILE_MANIFEST_MAX);
	size_t bad;
	if (!veil_utf8_valid((const uint8_t *)manifest, len, &bad))
		return veil_err_set(err, VEIL_E_INVALID, "manifest offset %zu: not UTF-8", bad);
	veil_model_spec s;
	memset(&s, 0, sizeof s);
	veil_model_spec_defaults(&s);
	s.n_hidden = 0;
	lj j;
	lj_init(&j, manifest, len, "manifest", err);
	veil_status st = read_manifest(&j, &s, cols);
	if (!st && (st = veil_model_spec_check(&s, err)))
		veil_err_wrap(err, "manifest architecture");
	if (!st)
		*spec = s;
	return st;
}

veil_status veil_modelfile_manifest_spec(const char *manifest, size_t len, veil_model_spec *spec,
                                         veil_err *err)
{
	return read_manifest_text(manifest, len, spec, NULL, err);
}

static void free_wiped(char *s)
{
	if (s)
		veil_wipe(s, strlen(s));
	free(s);
}

void veil_manifest_columns_free(veil_manifest_columns *c)
{
	if (!c)
		return;
	/* The class labels are data; names of columns may say much too. */
	for (size_t i = 0; i < c->n_features; i++)
		free_wiped(c->features[i]);
	for (size_t i = 0; i < c->n_classes; i++)
		free_wiped(c->classes[i]);
	free(c->features);
	free(c->classes);
	free_wiped(c->label);
	memset(c, 0, sizeof *c);
}

veil_status veil_modelfile_manifest_columns(const char *manifest, size_t len, veil_manifest_columns *out,
                                            veil_err *err)
{
	memset(out, 0, sizeof *out);
	veil_status st = read_manifest_text(manifest, len, &out->spec, out, err);
	if (!st && out->n_features != out->spec.inputs)
		st = veil_err_set(err, VEIL_E_INVALID,
		                  "manifest: %zu feature names for a model of %zu inputs", out->n_features,
		                  out->spec.inputs);
	if (!st && out->n_classes != out->spec.classes)
		st = veil_err_set(err, VEIL_E_INVALID,
		                  "manifest: %zu class labels for a model of %zu classes", out->n_classes,
		                  out->spec.classes);
	if (!st && !out->label[0])
		st = veil_err_set(err, VEIL_E_INVALID, "manifest: the label's name is empty");
	if (!st)
		st = check_names((const char *const *)out->features, out->n_features, VEIL_LEARN_NAME_MAX - 1,
		                 "feature name", err);
	if (!st)
		st = check_names((const char *const *)out->classes, out->n_classes, VEIL_LEARN_LABEL_MAX - 1,
		                 "class label", err);
	if (st)
		veil_manifest_columns_free(out);
	return st;
}

/* ---- the model file ---- */

/* "mlp 784-256-10 relu" and the like, for messages. */
static void describe(const veil_model_spec *s, char *out, size_t outsz)
{
	size_t n = 0;
	int k = snprintf(out, outsz, "%s %zu", kind_name(s->kind) ? kind_name(s->kind) : "?", s->inputs);
	n = k > 0 && (size_t)k < outsz ? (size_t)k : outsz - 1;
	for (size_t i = 0; i < s->n_hidden && s->kind == VEIL_MODEL_MLP && n < outsz - 1; i++) {
		k = snprintf(out + n, outsz - n, "-%zu", s->hidden[i]);
		n = k > 0 && (size_t)k < outsz - n ? n + (size_t)k : outsz - 1;
	}
	if (n < outsz - 1)
		(void)snprintf(
		        out + n, outsz - n, "-%zu%s%s", s->classes, s->kind == VEIL_MODEL_MLP ? " " : "",
		        s->kind == VEIL_MODEL_MLP && act_name(s->activation) ? act_name(s->activation) : "");
}

static bool same_arch(const veil_model_spec *a, const veil_model_spec *b)
{
	if (a->kind != b->kind || a->inputs != b->inputs || a->classes != b->classes)
		return false;
	if (a->kind != VEIL_MODEL_MLP)
		return true;
	if (a->n_hidden != b->n_hidden || a->activation != b->activation)
		return false;
	for (size_t i = 0; i < a->n_hidden; i++)
		if (a->hidden[i] != b->hidden[i])
			return false;
	if (a->activation != VEIL_ACT_TEMPERED_SIGMOID)
		return true;
	return a->ts_scale == b->ts_scale && a->ts_temperature == b->ts_temperature &&
	       a->ts_offset == b->ts_offset;
}

static veil_status check_finite(const veil_model *m, veil_err *err)
{
	for (size_t i = 0; i < veil_model_layers(m); i++) {
		float *w, *b;
		size_t in, out;
		veil_model_layer(m, i, &w, &in, &out, &b);
		for (size_t k = 0; k < in * out; k++)
			if (!isfinite(w[k]))
				return veil_err_set(err, VEIL_E_DIVERGED,
				                    "model file: layer %zu's weights hold a non-finite value",
				                    i);
		for (size_t k = 0; k < out; k++)
			if (!isfinite(b[k]))
				return veil_err_set(err, VEIL_E_DIVERGED,
				                    "model file: layer %zu's bias holds a non-finite value",
				                    i);
	}
	return VEIL_OK;
}

typedef struct tensor_name {
	char s[32];
} tensor_name;

static veil_status layer_names(size_t i, tensor_name *weight, tensor_name *bias, veil_err *err)
{
	veil_status st = veil_fmt(weight->s, sizeof weight->s, err, "layers.%zu.weight", i);
	return st ? st : veil_fmt(bias->s, sizeof bias->s, err, "layers.%zu.bias", i);
}

veil_status veil_modelfile_write(const veil_model *m, const char *manifest_json, veil_buf *out, veil_err *err)
{
	size_t len = strnlen(manifest_json, (size_t)VEIL_MODELFILE_MANIFEST_MAX + 1);
	veil_model_spec spec;
	veil_status st = veil_modelfile_manifest_spec(manifest_json, len, &spec, err);
	if (st)
		return st;
	const veil_model_spec *have = veil_model_get_spec(m);
	if (!same_arch(&spec, have)) {
		char a[160], b[160];
		describe(&spec, a, sizeof a);
		describe(have, b, sizeof b);
		return veil_err_set(err, VEIL_E_INVALID,
		                    "model file: the manifest describes %s but the model is %s", a, b);
	}
	if ((st = check_finite(m, err)))
		return st;
	size_t layers = veil_model_layers(m);
	veil_st_entry e[2 * (VEIL_LEARN_HIDDEN_MAX + 1)];
	tensor_name names[2 * (VEIL_LEARN_HIDDEN_MAX + 1)];
	if (layers > VEIL_LEARN_HIDDEN_MAX + 1)
		return veil_err_set(err, VEIL_E_INTERNAL, "model file: a model of %zu layers", layers);
	for (size_t i = 0; i < layers; i++) {
		float *w, *b;
		size_t in, n_out;
		veil_model_layer(m, i, &w, &in, &n_out, &b);
		if ((st = layer_names(i, &names[2 * i + 1], &names[2 * i], err)))
			return st;
		e[2 * i] = (veil_st_entry){.name = names[2 * i].s, .rank = 1, .shape = {n_out}, .data = b};
		/* veil's in×out matrix, stored as nn.Linear's [out, in] */
		e[2 * i + 1] = (veil_st_entry){.name = names[2 * i + 1].s,
		                               .rank = 2,
		                               .shape = {n_out, in},
		                               .data = w,
		                               .transpose = true};
	}
	const veil_st_kv meta[] = {
	        {"format", VEIL_MODELFILE_FORMAT},
	        {"format_version", VEIL_MODELFILE_VERSION},
	        {"veil.manifest", manifest_json},
	};
	return veil_st_write(e, 2 * layers, meta, sizeof meta / sizeof meta[0], out, err);
}

/* A version string worth showing in a message: short, digits, letters,
 * dots and dashes, so that a hostile one cannot drive a terminal. */
static bool plain(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'z') ||
		      (s[n] >= 'A' && s[n] <= 'Z') || s[n] == '.' || s[n] == '-'))
			return false;
	return n > 0 && n <= 16;
}

static veil_status check_meta(const veil_st_file *f, veil_err *err)
{
	const char *format = veil_st_meta_get(f, "format"), *version = veil_st_meta_get(f, "format_version");
	if (!format || strcmp(format, VEIL_MODELFILE_FORMAT) != 0) {
		veil_err_set(err, VEIL_E_INVALID,
		             "model file: a safetensors file, but not a veil model file "
		             "(its __metadata__ lacks \"format\": \"veil-model\")");
		return veil_err_hint(err, "veil reads the model files it writes (docs/formats/model.md)");
	}
	if (!version || strcmp(version, VEIL_MODELFILE_VERSION) != 0) {
		veil_err_set(err, VEIL_E_UNSUPPORTED,
		             "model file: format_version %s; this veil reads version %s",
		             version && plain(version) ? version : "(missing, or not a plain version)",
		             VEIL_MODELFILE_VERSION);
		return veil_err_hint(err, "read it with the veil version that wrote it, or a newer one");
	}
	for (size_t i = 0; i < f->n_meta; i++) {
		const char *k = f->meta[i].key;
		if (strcmp(k, "format") != 0 && strcmp(k, "format_version") != 0 &&
		    strcmp(k, "veil.manifest") != 0)
			return veil_err_set(err, VEIL_E_INVALID,
			                    "model file: a __metadata__ entry other than format, "
			                    "format_version and veil.manifest");
	}
	if (!veil_st_meta_get(f, "veil.manifest"))
		return veil_err_set(err, VEIL_E_INVALID, "model file: no veil.manifest in its __metadata__");
	return VEIL_OK;
}

/* The layer shapes a spec (already checked) gives, as veil/learn.h lays
 * them out: the hidden widths, then the output, one unit for LOGREG's
 * sigmoid and one per class otherwise. */
typedef struct layer_shapes {
	size_t n;
	size_t in[VEIL_LEARN_HIDDEN_MAX + 1], out[VEIL_LEARN_HIDDEN_MAX + 1];
} layer_shapes;

static void shapes_of(const veil_model_spec *s, layer_shapes *ls)
{
	ls->n = s->kind == VEIL_MODEL_MLP ? s->n_hidden + 1 : 1;
	size_t in = s->inputs;
	for (size_t i = 0; i < ls->n; i++) {
		ls->in[i] = in;
		ls->out[i] = i + 1 < ls->n ? s->hidden[i] : s->kind == VEIL_MODEL_LOGREG ? 1 : s->classes;
		in = ls->out[i];
	}
}

/* Layer i's tensors, required of nn.Linear's shapes. Checked before the
 * model is allocated, so that what the reader allocates is bounded by the
 * file it was given, not by what a small manifest claims. */
static veil_status find_layer(const veil_st_file *f, const layer_shapes *ls, size_t i,
                              const veil_st_tensor **tw, const veil_st_tensor **tb, veil_err *err)
{
	tensor_name wn, bn;
	veil_status st = layer_names(i, &wn, &bn, err);
	if (st)
		return st;
	*tw = veil_st_find(f, wn.s);
	*tb = veil_st_find(f, bn.s);
	if (!*tw || !*tb)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "model file: no tensor %s, which the architecture has",
		                    *tw ? bn.s : wn.s);
	if ((*tw)->rank != 2 || (*tw)->shape[0] != ls->out[i] || (*tw)->shape[1] != ls->in[i])
		return veil_err_set(err, VEIL_E_INVALID,
		                    "model file: %s is not of shape [%zu, %zu], as the architecture says",
		                    wn.s, ls->out[i], ls->in[i]);
	if ((*tb)->rank != 1 || (*tb)->shape[0] != ls->out[i])
		return veil_err_set(err, VEIL_E_INVALID,
		                    "model file: %s is not of shape [%zu], as the architecture says", bn.s,
		                    ls->out[i]);
	return VEIL_OK;
}

/* Copies layer i's tensors (of the shapes find_layer checked) into the
 * model, transposing nn.Linear's [out, in] to veil's in×out. */
static veil_status load_layer(const veil_st_tensor *tw, const veil_st_tensor *tb, veil_model *m, size_t i,
                              const layer_shapes *ls, veil_err *err)
{
	float *w, *b;
	size_t in, n_out;
	veil_model_layer(m, i, &w, &in, &n_out, &b);
	if (in != ls->in[i] || n_out != ls->out[i])
		return veil_err_set(err, VEIL_E_INTERNAL,
		                    "model file: layer %zu of the model is %zu x %zu, not %zu x %zu", i, in,
		                    n_out, ls->in[i], ls->out[i]);
	for (size_t r = 0; r < n_out; r++) {
		for (size_t k = 0; k < in; k++) {
			float v = veil_st_f32(tw, r * in + k);
			if (!isfinite(v))
				return veil_err_set(err, VEIL_E_INVALID,
				                    "model file: %s holds a non-finite value", tw->name);
			w[k * n_out + r] = v;
		}
		b[r] = veil_st_f32(tb, r);
		if (!isfinite(b[r]))
			return veil_err_set(err, VEIL_E_INVALID, "model file: %s holds a non-finite value",
			                    tb->name);
	}
	return VEIL_OK;
}

veil_status veil_modelfile_read(const uint8_t *buf, size_t len, veil_model **out, char **manifest_json,
                                veil_err *err)
{
	*out = NULL;
	*manifest_json = NULL;
	veil_st_file f;
	veil_model *m = NULL;
	veil_model_spec spec;
	char *text = NULL;
	veil_status st = veil_st_parse(buf, len, &f, err);
	if (st)
		return veil_err_wrap(err, "model file");
	if ((st = check_meta(&f, err)))
		goto done;
	size_t mlen = 0;
	for (size_t i = 0; i < f.n_meta; i++)
		if (strcmp(f.meta[i].key, "veil.manifest") == 0)
			mlen = f.meta[i].value_len;
	const char *manifest = veil_st_meta_get(&f, "veil.manifest");
	if ((st = veil_modelfile_manifest_spec(manifest, mlen, &spec, err))) {
		veil_err_wrap(err, "model file");
		goto done;
	}
	layer_shapes ls;
	const veil_st_tensor *tw[VEIL_LEARN_HIDDEN_MAX + 1], *tb[VEIL_LEARN_HIDDEN_MAX + 1];
	shapes_of(&spec, &ls);
	if (f.n_tensors != 2 * ls.n) {
		st = veil_err_set(err, VEIL_E_INVALID,
		                  "model file: %zu tensors, where the architecture has %zu", f.n_tensors,
		                  2 * ls.n);
		goto done;
	}
	for (size_t i = 0; i < ls.n && !st; i++)
		st = find_layer(&f, &ls, i, &tw[i], &tb[i], err);
	if (st || (st = veil_model_new(&spec, 0, &m, err)))
		goto done;
	if (veil_model_layers(m) != ls.n) {
		st = veil_err_set(err, VEIL_E_INTERNAL, "model file: the model has %zu layers, not %zu",
		                  veil_model_layers(m), ls.n);
		goto done;
	}
	for (size_t i = 0; i < ls.n && !st; i++)
		st = load_layer(tw[i], tb[i], m, i, &ls, err);
	if (st)
		goto done;
	if (!(text = malloc(mlen + 1))) {
		st = veil_err_set(err, VEIL_E_NOMEM, "out of memory reading a model file");
		goto done;
	}
	memcpy(text, manifest, mlen + 1);
done:
	veil_st_free(&f);
	if (st) {
		veil_model_free(m);
		return st;
	}
	*out = m;
	*manifest_json = text;
	return VEIL_OK;
}
