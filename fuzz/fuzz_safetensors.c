/*
 * Fuzz target: the safetensors reader and the veil model file reader
 * (src/learn/safetensors.c, src/learn/modelfile.c, docs/formats/model.md).
 * The input is a whole file, given to veil_st_parse and then to
 * veil_modelfile_read.
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
 */
#include "fuzz.h"
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
	return 0;
}
