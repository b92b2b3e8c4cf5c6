/*
 * Fuzz target: the safetensors reader, the veil model file reader and the
 * manifest's column reader (src/learn/safetensors.c, src/learn/modelfile.c,
 * docs/formats/model.md). The input is a whole file, given to
 * veil_st_parse and then to veil_modelfile_read; the manifest of a model
 * file that reads goes to veil_modelfile_manifest_columns. The input itself
 * (when it is UTF-8 and at most 1 MiB) goes to
 * veil_modelfile_manifest_columns too, so that a bare manifest reaches the
 * column reader without a valid safetensors wrapper around it.
 *
 * Invariants (abort on violation):
 *  1. A refusal is VEIL_E_INVALID, VEIL_E_LIMIT or VEIL_E_UNSUPPORTED with
 *     a message, and leaves the result zeroed.
 *  2. A parsed file is exactly its input: 8 + header + data bytes; its
 *     tensors, in data order, tile the data from 0 to its end, each as long
 *     as its shape says (4 bytes an element), pointing at its own range;
 *     ranks within the bound; names, and metadata keys, distinct; metadata
 *     values as long as their length says (no NUL inside).
 *  3. Writing the parsed tensors and metadata again gives a file that
 *     parses to the same names, shapes, bytes and metadata, and writing
 *     that one again gives the same bytes (the writer's output is a fixed
 *     point).
 *  4. A model file that reads gives a model and a manifest that write a
 *     model file which reads again to the same parameters and manifest; a
 *     refusal sets both outputs to NULL.
 *  5. The columns of a manifest (a model file's, or the input's) either
 *     read, VEIL_OK, with n_features == spec.inputs (== the read model's
 *     inputs) and n_classes == spec.classes (== the model's classes), every
 *     feature and label name under VEIL_LEARN_NAME_MAX bytes, every class
 *     label under VEIL_LEARN_LABEL_MAX and distinct, the label non-NULL, and
 *     the spec the one veil_modelfile_manifest_spec reads; or are refused
 *     with VEIL_E_INVALID or VEIL_E_LIMIT, a message and the result zeroed.
 *  6. Columns that read, written again by veil_modelfile_manifest for a
 *     model of their spec (when it has at most 65536 parameters: the
 *     harness builds one), read back to the same spec and names.
 */
#include "fuzz.h"
#include "veil/learn_data.h"
#include "veil/learn_model.h"

#include <stdlib.h>
#include <string.h>

static void check_refusal(veil_status st, const veil_err *e)
{
	FUZZ_CHECK(st == VEIL_E_INVALID || st == VEIL_E_LIMIT || st == VEIL_E_UNSUPPORTED,
	           "a refusal other than invalid, limit or unsupported");
	FUZZ_CHECK(e->code == st && e->msg[0] != '\0', "a refusal says why");
}

static void check_file(const veil_st_file *f, const uint8_t *data, size_t size)
{
	FUZZ_CHECK(8 + f->header_len + f->data_len == size, "header and data make the input");
	FUZZ_CHECK(f->header_len <= VEIL_ST_HEADER_MAX && f->n_tensors <= VEIL_ST_TENSORS_MAX &&
	                   f->n_meta <= VEIL_ST_META_MAX,
	           "counts within bounds");
	FUZZ_CHECK(f->has_meta || f->n_meta == 0, "metadata without __metadata__");
	const uint8_t *base = data + 8 + f->header_len;
	uint64_t at = 0;
	for (size_t i = 0; i < f->n_tensors; i++) {
		const veil_st_tensor *t = &f->tensors[i];
		FUZZ_CHECK(t->rank <= VEIL_ST_RANK_MAX, "rank within the bound");
		uint64_t count = 1;
		for (size_t d = 0; d < t->rank; d++)
			count *= t->shape[d]; /* cannot overflow: the parser checked, and the check follows */
		FUZZ_CHECK(count == t->count && t->begin == at && t->end - t->begin == 4 * count,
		           "a tensor's range is its shape's size, right after the one before");
		FUZZ_CHECK(t->data == base + t->begin, "a tensor points at its own range");
		FUZZ_CHECK(strlen(t->name) <= VEIL_ST_NAME_MAX, "a name within the bound");
		for (size_t k = 0; k < i; k++)
			FUZZ_CHECK(strcmp(f->tensors[k].name, t->name) != 0, "tensor names are distinct");
		at = t->end;
	}
	FUZZ_CHECK(at == f->data_len, "the tensors end at the end of the data");
	for (size_t i = 0; i < f->n_meta; i++) {
		FUZZ_CHECK(strlen(f->meta[i].value) == f->meta[i].value_len, "a metadata value holds no NUL");
		for (size_t k = 0; k < i; k++)
			FUZZ_CHECK(strcmp(f->meta[k].key, f->meta[i].key) != 0, "metadata keys are distinct");
	}
}

/* Writes f's tensors and metadata as a new file. */
static void rewrite(const veil_st_file *f, veil_buf *out)
{
	veil_st_entry *e = calloc(f->n_tensors + 1, sizeof *e);
	veil_st_kv *kv = calloc(f->n_meta + 1, sizeof *kv);
	float *vals = NULL;
	size_t total = 0;
	if (!e || !kv)
		abort(); /* the harness, not the code under test */
	for (size_t i = 0; i < f->n_tensors; i++)
		total += f->tensors[i].count;
	vals = malloc((total + 1) * sizeof *vals);
	if (!vals)
		abort();
	size_t at = 0;
	for (size_t i = 0; i < f->n_tensors; i++) {
		const veil_st_tensor *t = &f->tensors[i];
		e[i].name = t->name;
		e[i].rank = t->rank;
		for (size_t d = 0; d < t->rank; d++)
			e[i].shape[d] = (size_t)t->shape[d];
		e[i].data = vals + at;
		/* bit copies: a float variable could quieten a signalling NaN */
		memcpy(vals + at, t->data, 4 * t->count);
		at += t->count;
	}
	for (size_t i = 0; i < f->n_meta; i++)
		kv[i] = (veil_st_kv){f->meta[i].key, f->meta[i].value};
	veil_err e2;
	veil_status st = veil_st_write(e, f->n_tensors, kv, f->n_meta, out, &e2);
	if (st)
		fuzz_note("rewrite", st, &e2);
	FUZZ_CHECK(st == VEIL_OK, "what parsed writes again");
	free(e);
	free(kv);
	free(vals);
}

static void check_same(const veil_st_file *a, const veil_st_file *b)
{
	FUZZ_CHECK(a->n_tensors == b->n_tensors && a->n_meta == b->n_meta, "the same counts after a rewrite");
	for (size_t i = 0; i < a->n_tensors; i++) {
		const veil_st_tensor *x = &a->tensors[i], *y = &b->tensors[i];
		FUZZ_CHECK(strcmp(x->name, y->name) == 0 && x->rank == y->rank && x->count == y->count,
		           "the same tensor after a rewrite");
		FUZZ_CHECK(memcmp(x->shape, y->shape, sizeof x->shape) == 0,
		           "the same shape after a rewrite");
		FUZZ_CHECK(x->count == 0 || memcmp(x->data, y->data, 4 * x->count) == 0,
		           "the same bytes after a rewrite");
	}
	for (size_t i = 0; i < a->n_meta; i++)
		FUZZ_CHECK(strcmp(a->meta[i].key, b->meta[i].key) == 0 &&
		                   strcmp(a->meta[i].value, b->meta[i].value) == 0,
		           "the same metadata after a rewrite");
}

/* ---- the manifest's columns (invariants 5 and 6) ---- */

#define COLUMNS_RAW_MAX   (1u << 20) /* the raw input goes to the column reader up to this size */
#define COLUMNS_PARAM_MAX 65536u     /* the round trip builds a model only this small */

static uint32_t f32_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	return u;
}

static bool same_spec(const veil_model_spec *a, const veil_model_spec *b)
{
	if (a->kind != b->kind || a->inputs != b->inputs || a->classes != b->classes ||
	    a->n_hidden != b->n_hidden)
		return false;
	for (size_t i = 0; i < a->n_hidden; i++)
		if (a->hidden[i] != b->hidden[i])
			return false;
	if (a->kind != VEIL_MODEL_MLP)
		return true;
	if (a->activation != b->activation)
		return false;
	/* bit comparisons: -0 and 0 are equal floats but not the same text */
	return a->activation != VEIL_ACT_TEMPERED_SIGMOID ||
	       (f32_bits(a->ts_scale) == f32_bits(b->ts_scale) &&
	        f32_bits(a->ts_temperature) == f32_bits(b->ts_temperature) &&
	        f32_bits(a->ts_offset) == f32_bits(b->ts_offset));
}

/* The parameters a model of spec s has, or SIZE_MAX when over max. */
static size_t param_count(const veil_model_spec *s, size_t max)
{
	size_t in = s->inputs, total = 0;
	for (size_t i = 0; i <= s->n_hidden; i++) {
		size_t out = i < s->n_hidden ? s->hidden[i] : s->kind == VEIL_MODEL_LOGREG ? 1 : s->classes;
		/* widths are at most VEIL_LEARN_WIDTH_MAX: no overflow in (in + 1) * out */
		total += (in + 1) * out;
		if (total > max)
			return SIZE_MAX;
		in = out;
	}
	return total;
}

/* Every member zero, the spec's included (member by member: padding may
 * hold anything). */
static bool columns_zeroed(const veil_manifest_columns *c)
{
	const veil_model_spec *s = &c->spec;
	bool zero = !c->features && !c->n_features && !c->label && !c->classes && !c->n_classes && !s->kind &&
	            !s->inputs && !s->classes && !s->n_hidden && !s->activation && !f32_bits(s->ts_scale) &&
	            !f32_bits(s->ts_temperature) && !f32_bits(s->ts_offset);
	for (size_t i = 0; i < VEIL_LEARN_HIDDEN_MAX; i++)
		zero = zero && !s->hidden[i];
	return zero;
}

static void check_columns_read(const veil_manifest_columns *c)
{
	FUZZ_CHECK(c->n_features == c->spec.inputs && c->n_classes == c->spec.classes,
	           "as many names as the architecture has inputs and classes");
	FUZZ_CHECK(c->label && strlen(c->label) < VEIL_LEARN_NAME_MAX, "a label name within the bound");
	for (size_t i = 0; i < c->n_features; i++)
		FUZZ_CHECK(c->features[i] && strlen(c->features[i]) < VEIL_LEARN_NAME_MAX,
		           "a feature name within the bound");
	for (size_t i = 0; i < c->n_classes; i++) {
		FUZZ_CHECK(c->classes[i] && strlen(c->classes[i]) < VEIL_LEARN_LABEL_MAX,
		           "a class label within the bound");
		for (size_t k = 0; k < i; k++)
			FUZZ_CHECK(c->classes[k] && c->classes[i] &&
			                   strcmp(c->classes[k], c->classes[i]) != 0,
			           "class labels are distinct");
	}
}

/* Invariant 6: the writer's text of these columns reads back to them. */
static void columns_round_trip(const veil_manifest_columns *c)
{
	if (param_count(&c->spec, COLUMNS_PARAM_MAX) == SIZE_MAX)
		return;
	veil_model *m = NULL;
	veil_err e;
	veil_status st = veil_model_new(&c->spec, 1, &m, &e);
	if (st)
		fuzz_note("columns model", st, &e);
	FUZZ_CHECK(st == VEIL_OK, "a spec that reads makes a model");
	veil_manifest info = {
	        .features = (const char *const *)c->features,
	        .n_features = c->n_features,
	        .label = c->label,
	        .class_labels = (const char *const *)c->classes,
	        .n_classes = c->n_classes,
	        .job_name = "fuzz",
	        .job_sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
	        .veil_version = "0",
	};
	veil_buf out = {0};
	st = veil_modelfile_manifest(m, &info, &out, &e);
	if (st)
		fuzz_note("columns rewrite", st, &e);
	FUZZ_CHECK(st == VEIL_OK, "columns that read write again");
	veil_manifest_columns back;
	st = veil_modelfile_manifest_columns((const char *)out.data, out.len, &back, &e);
	if (st)
		fuzz_note("columns reread", st, &e);
	FUZZ_CHECK(st == VEIL_OK, "written columns read again");
	FUZZ_CHECK(same_spec(&back.spec, &c->spec) && back.n_features == c->n_features &&
	                   back.n_classes == c->n_classes && strcmp(back.label, c->label) == 0,
	           "the same spec, counts and label after a rewrite");
	for (size_t i = 0; i < c->n_features; i++)
		FUZZ_CHECK(strcmp(back.features[i], c->features[i]) == 0,
		           "the same features after a rewrite");
	for (size_t i = 0; i < c->n_classes; i++)
		FUZZ_CHECK(strcmp(back.classes[i], c->classes[i]) == 0, "the same classes after a rewrite");
	veil_manifest_columns_free(&back);
	veil_buf_free(&out);
	veil_model_free(m);
}

/* Invariant 5 for the manifest text of len bytes; model is the model read
 * with it, or NULL. */
static void check_columns(const char *text, size_t len, const veil_model *model)
{
	veil_manifest_columns c;
	veil_err e;
	memset(&c, 0xa5, sizeof c); /* the reader must set every byte, on success or failure */
	veil_status st = veil_modelfile_manifest_columns(text, len, &c, &e);
	fuzz_note("columns", st, &e);
	veil_model_spec spec;
	veil_err e2;
	veil_status st2 = veil_modelfile_manifest_spec(text, len, &spec, &e2);
	if (st) {
		FUZZ_CHECK(st == VEIL_E_INVALID || st == VEIL_E_LIMIT,
		           "a column refusal other than invalid or limit");
		FUZZ_CHECK(e.code == st && e.msg[0] != '\0', "a column refusal says why");
		FUZZ_CHECK(columns_zeroed(&c), "a column refusal leaves the result zeroed");
		return;
	}
	check_columns_read(&c);
	FUZZ_CHECK(st2 == VEIL_OK && same_spec(&spec, &c.spec),
	           "columns that read have the architecture veil_modelfile_manifest_spec reads");
	if (model) {
		const veil_model_spec *ms = veil_model_get_spec(model);
		FUZZ_CHECK(c.n_features == ms->inputs && c.n_classes == ms->classes && same_spec(ms, &c.spec),
		           "a model file's columns fit its model");
	}
	columns_round_trip(&c);
	veil_manifest_columns_free(&c);
	FUZZ_CHECK(columns_zeroed(&c), "freed columns are zeroed");
}

static void model_round_trip(const uint8_t *data, size_t size)
{
	veil_model *m = (veil_model *)&m, *back = NULL;
	char *text = (char *)&text, *text2 = NULL;
	veil_err e;
	veil_status st = veil_modelfile_read(data, size, &m, &text, &e);
	if (st) {
		fuzz_note("model file", st, &e);
		FUZZ_CHECK(e.code == st && e.msg[0] != '\0', "a refused model file says why");
		FUZZ_CHECK(m == NULL && text == NULL, "a refused model file leaves no model or manifest");
		return;
	}
	check_columns(text, strlen(text), m);
	veil_buf out = {0};
	st = veil_modelfile_write(m, text, &out, &e);
	if (st)
		fuzz_note("model rewrite", st, &e);
	FUZZ_CHECK(st == VEIL_OK, "a model that reads writes again");
	st = veil_modelfile_read(out.data, out.len, &back, &text2, &e);
	FUZZ_CHECK(st == VEIL_OK, "a rewritten model file reads");
	FUZZ_CHECK(strcmp(text, text2) == 0, "the same manifest after a rewrite");
	FUZZ_CHECK(veil_model_param_count(m) == veil_model_param_count(back) &&
	                   memcmp(veil_model_params(m), veil_model_params(back),
	                          veil_model_param_count(m) * sizeof(float)) == 0,
	           "the same parameters after a rewrite");
	veil_buf_free(&out);
	veil_model_free(m);
	veil_model_free(back);
	free(text);
	free(text2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	veil_st_file f, g, h;
	veil_err e;
	veil_status st = veil_st_parse(data, size, &f, &e);
	fuzz_note("safetensors", st, &e);
	if (st) {
		check_refusal(st, &e);
		FUZZ_CHECK(!f.tensors && !f.n_tensors && !f.meta && !f.n_meta && !f.has_meta &&
		                   !f.header_len && !f.data_len,
		           "a refusal leaves the result zeroed");
	} else {
		check_file(&f, data, size);
		veil_buf one = {0}, two = {0};
		rewrite(&f, &one);
		FUZZ_CHECK(veil_st_parse(one.data, one.len, &g, &e) == VEIL_OK, "a rewritten file parses");
		check_file(&g, one.data, one.len);
		check_same(&f, &g);
		rewrite(&g, &two);
		FUZZ_CHECK(one.len == two.len && memcmp(one.data, two.data, one.len) == 0,
		           "writing what the writer wrote gives the same bytes");
		FUZZ_CHECK(veil_st_parse(two.data, two.len, &h, &e) == VEIL_OK, "the second rewrite parses");
		veil_st_free(&h);
		veil_st_free(&g);
		veil_st_free(&f);
		veil_buf_free(&one);
		veil_buf_free(&two);
	}
	model_round_trip(data, size);
	/* the input as a bare manifest: the same checks, without a model */
	if (size <= COLUMNS_RAW_MAX && veil_utf8_valid(data, size, &(size_t){0}))
		check_columns((const char *)data, size, NULL);
	return 0;
}
