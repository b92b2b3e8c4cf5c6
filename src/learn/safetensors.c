/*
 * safetensors, read and written (veil/learn_model.h, docs/formats/model.md
 * sections 1 and 2): the container of veil's model files.
 *
 * The reader treats its input as hostile. It checks the header length
 * against the format's 100 MB limit and the input before it looks at a
 * byte of JSON, checks the whole header is UTF-8, walks the JSON with the
 * bounded cursor of learn_json.h (tensors, ranks, names and metadata all
 * capped), refuses duplicate names, and then requires the tensors' byte
 * ranges, sorted, to tile the data buffer exactly: the first begins at 0,
 * each begins where the one before ended, the last ends at the end of the
 * input, and each is exactly as long as its shape and dtype say, with
 * every product checked for overflow. Only then are data pointers made.
 *
 * The writer emits what Hugging Face's serializer emits for the same
 * tensors and metadata: compact JSON, __metadata__ first, tensors in data
 * order, spaces to pad the header to a multiple of 8 so that the data
 * starts aligned.
 */
#include <stdlib.h>
#include <string.h>

#include "learn_json.h"
#include "veil/json_write.h"
#include "veil/crypto.h"
#include "veil/learn_model.h"

/* Every dtype of the format, so that a valid file of another dtype is told
 * apart (VEIL_E_UNSUPPORTED) from a malformed one (VEIL_E_INVALID). Sizes
 * are in bits: F4 and the F6 types pack several elements per byte. */
typedef struct dtype_info {
	const char *name;
	unsigned bits;
} dtype_info;

static const dtype_info dtypes[] = {
        {"BOOL", 8}, {"U8", 8},   {"I8", 8},    {"F8_E5M2", 8}, {"F8_E4M3", 8}, {"F8_E8M0", 8}, {"I16", 16},
        {"U16", 16}, {"F16", 16}, {"BF16", 16}, {"I32", 32},    {"U32", 32},    {"F32", 32},    {"F64", 64},
        {"I64", 64}, {"U64", 64}, {"C64", 64},  {"F4", 4},      {"F6_E2M3", 6}, {"F6_E3M2", 6},
};
#define N_DTYPES       (sizeof dtypes / sizeof dtypes[0])
#define DTYPE_NAME_MAX 16

static size_t dtype_f32(void)
{
	for (size_t k = 0; k < N_DTYPES; k++)
		if (strcmp(dtypes[k].name, "F32") == 0)
			return k;
	return 0; /* not reached: F32 is in the table */
}

/* A name as error messages show it: at most 64 bytes (cut at a character
 * boundary), control characters as '?', so that a hostile name can
 * neither flood a message nor drive a terminal. */
static void shown(const char *name, char out[80])
{
	size_t n = strlen(name), k = n > 64 ? 64 : n;
	while (k < n && k > 0 && ((unsigned char)name[k] & 0xc0) == 0x80)
		k--;
	for (size_t i = 0; i < k; i++)
		out[i] = (unsigned char)name[i] < 0x20 || name[i] == 0x7f ? '?' : name[i];
	if (k < n)
		memcpy(out + k, "...", 4);
	else
		out[k] = '\0';
}

/* ---- reading ---- */

/* A tensor as parsed, before its range is checked. */
typedef struct raw_tensor {
	char *name;
	size_t dtype; /* index in dtypes */
	size_t rank;
	uint64_t shape[VEIL_ST_RANK_MAX];
	uint64_t begin, end;
} raw_tensor;

typedef struct parse {
	lj j;
	raw_tensor *t;
	size_t n, cap;
	veil_st_meta *meta;
	size_t n_meta;
	bool has_meta;
} parse;

static veil_status read_dtype(parse *p, raw_tensor *t)
{
	char *s;
	size_t off = p->j.off;
	veil_status st = lj_string(&p->j, DTYPE_NAME_MAX, &s, NULL);
	if (st == VEIL_E_LIMIT) {
		p->j.off = off;
		return lj_fail(&p->j, VEIL_E_INVALID, "an unknown dtype");
	}
	if (st)
		return st;
	for (size_t k = 0; k < N_DTYPES; k++) {
		if (strcmp(s, dtypes[k].name) == 0) {
			t->dtype = k;
			free(s);
			return VEIL_OK;
		}
	}
	free(s);
	p->j.off = off;
	return lj_fail(&p->j, VEIL_E_INVALID, "an unknown dtype");
}

static veil_status read_shape(parse *p, raw_tensor *t)
{
	veil_status st = lj_expect(&p->j, '[', "'[' (a shape is an array of integers)");
	bool first = true, more;
	while (!st && !(st = lj_element(&p->j, &first, &more)) && more) {
		if (t->rank == VEIL_ST_RANK_MAX)
			return lj_fail(&p->j, VEIL_E_LIMIT, "a shape of more than %u dimensions",
			               VEIL_ST_RANK_MAX);
		st = lj_uint(&p->j, &t->shape[t->rank++]);
	}
	return st;
}

static veil_status read_offsets(parse *p, raw_tensor *t)
{
	veil_status st;
	if ((st = lj_expect(&p->j, '[', "'[' (data_offsets is [begin, end])")) ||
	    (st = lj_uint(&p->j, &t->begin)) ||
	    (st = lj_expect(&p->j, ',', "',' (data_offsets is [begin, end])")) ||
	    (st = lj_uint(&p->j, &t->end)))
		return st;
	return lj_expect(&p->j, ']', "']' (data_offsets is [begin, end])");
}

/* {"dtype": ..., "shape": [...], "data_offsets": [b, e]}: each member
 * exactly once, no other. */
static veil_status read_tensor(parse *p, raw_tensor *t)
{
	enum { DTYPE = 1, SHAPE = 2, OFFSETS = 4 };
	unsigned seen = 0;
	bool first = true;
	veil_status st = lj_expect(&p->j, '{', "'{' (a tensor is an object)");
	while (!st) {
		char *key;
		size_t off;
		lj_ws(&p->j);
		off = p->j.off;
		if ((st = lj_member(&p->j, &first, VEIL_ST_NAME_MAX, &key)) || !key)
			break;
		unsigned bit = strcmp(key, "dtype") == 0          ? DTYPE
		               : strcmp(key, "shape") == 0        ? SHAPE
		               : strcmp(key, "data_offsets") == 0 ? OFFSETS
		                                                  : 0;
		free(key);
		if (!bit || (seen & bit)) {
			p->j.off = off;
			return lj_fail(&p->j, VEIL_E_INVALID,
			               bit ? "a tensor member given twice"
			                   : "a tensor member other than dtype, shape and data_offsets");
		}
		seen |= bit;
		st = bit == DTYPE ? read_dtype(p, t) : bit == SHAPE ? read_shape(p, t) : read_offsets(p, t);
	}
	if (!st && seen != (DTYPE | SHAPE | OFFSETS))
		st = lj_fail(&p->j, VEIL_E_INVALID, "a tensor without %s",
		             !(seen & DTYPE)   ? "dtype"
		             : !(seen & SHAPE) ? "shape"
		                               : "data_offsets");
	return st;
}

static veil_status read_meta(parse *p)
{
	bool first = true;
	veil_status st = lj_expect(&p->j, '{', "'{' (__metadata__ is an object of strings)");
	p->has_meta = true;
	while (!st) {
		char *key;
		if ((st = lj_member(&p->j, &first, VEIL_ST_NAME_MAX, &key)) || !key)
			break;
		if (p->n_meta == VEIL_ST_META_MAX) {
			free(key);
			return lj_fail(&p->j, VEIL_E_LIMIT, "more than %u __metadata__ entries",
			               VEIL_ST_META_MAX);
		}
		veil_st_meta *m = &p->meta[p->n_meta++];
		m->key = key;
		lj_ws(&p->j);
		if (p->j.off >= p->j.n || p->j.p[p->j.off] != '"')
			return lj_fail(&p->j, VEIL_E_INVALID, "a __metadata__ value that is not a string");
		st = lj_string(&p->j, VEIL_ST_HEADER_MAX, &m->value, &m->value_len);
	}
	return st;
}

static veil_status read_header(parse *p)
{
	bool first = true;
	veil_status st = lj_expect(&p->j, '{', "'{' (the header is an object)");
	while (!st) {
		char *key;
		size_t off;
		lj_ws(&p->j);
		off = p->j.off;
		if ((st = lj_member(&p->j, &first, VEIL_ST_NAME_MAX, &key)) || !key)
			break;
		if (strcmp(key, "__metadata__") == 0) {
			free(key);
			if (p->has_meta) {
				p->j.off = off;
				return lj_fail(&p->j, VEIL_E_INVALID, "__metadata__ given twice");
			}
			st = read_meta(p);
			continue;
		}
		if (p->n == VEIL_ST_TENSORS_MAX) {
			free(key);
			p->j.off = off;
			return lj_fail(&p->j, VEIL_E_LIMIT, "more than %u tensors", VEIL_ST_TENSORS_MAX);
		}
		if (p->n == p->cap) {
			size_t cap = p->cap ? p->cap * 2 : 16;
			raw_tensor *t = realloc(p->t, cap * sizeof *t);
			if (!t) {
				free(key);
				return veil_err_set(p->j.err, VEIL_E_NOMEM,
				                    "out of memory reading a safetensors header");
			}
			p->t = t;
			p->cap = cap;
		}
		raw_tensor *t = &p->t[p->n++];
		memset(t, 0, sizeof *t);
		t->name = key;
		st = read_tensor(p, t);
	}
	return st ? st : lj_finish(&p->j);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first name that occurs twice among n, or NULL. */
static veil_status find_dup(const char **names, size_t n, const char **dup, veil_err *err)
{
	*dup = NULL;
	if (n < 2)
		return VEIL_OK;
	const char **s = malloc(n * sizeof *s);
	if (!s)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory checking safetensors names");
	memcpy(s, names, n * sizeof *s);
	qsort(s, n, sizeof *s, cmp_str);
	for (size_t i = 1; i < n && !*dup; i++)
		if (strcmp(s[i - 1], s[i]) == 0)
			*dup = s[i];
	free(s);
	return VEIL_OK;
}

static veil_status check_unique(const parse *p, veil_err *err)
{
	size_t n = p->n > p->n_meta ? p->n : p->n_meta;
	const char **names = malloc((n ? n : 1) * sizeof *names), *dup;
	if (!names)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory checking safetensors names");
	for (size_t i = 0; i < p->n; i++)
		names[i] = p->t[i].name;
	veil_status st = find_dup(names, p->n, &dup, err);
	char sh[80];
	if (!st && dup) {
		shown(dup, sh);
		st = veil_err_set(err, VEIL_E_INVALID,
		                  "safetensors: tensor '%s' is named twice in the header", sh);
	}
	for (size_t i = 0; !st && i < p->n_meta; i++)
		names[i] = p->meta[i].key;
	if (!st && !(st = find_dup(names, p->n_meta, &dup, err)) && dup) {
		shown(dup, sh);
		st = veil_err_set(err, VEIL_E_INVALID, "safetensors: __metadata__ key '%s' is given twice",
		                  sh);
	}
	free(names);
	return st;
}

/* A tensor's place in the data buffer, sorted without global state
 * (qsort takes no context): begin, end, then name for a stable order
 * among empty tensors. */
typedef struct range_key {
	uint64_t begin, end;
	const char *name;
	size_t idx;
} range_key;

static int cmp_range(const void *a, const void *b)
{
	const range_key *x = a, *y = b;
	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Bytes of a tensor of t's shape and dtype; false on overflow or a bit
 * count that is not whole bytes. */
static bool tensor_bytes(const raw_tensor *t, uint64_t *count, uint64_t *bytes)
{
	uint64_t c = 1;
	for (size_t d = 0; d < t->rank; d++) {
		if (t->shape[d] != 0 && c > UINT64_MAX / t->shape[d])
			return false;
		c *= t->shape[d];
	}
	unsigned bits = dtypes[t->dtype].bits;
	if (c > UINT64_MAX / bits || (c * bits) % 8 != 0)
		return false;
	*count = c;
	*bytes = c * bits / 8;
	return true;
}

/* The byte ranges tile the data buffer exactly; order is the tensors in
 * data order on success. */
static veil_status check_ranges(const parse *p, size_t data_len, size_t *order, veil_err *err)
{
	range_key *keys = malloc((p->n ? p->n : 1) * sizeof *keys);
	if (!keys)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory reading a safetensors header");
	for (size_t i = 0; i < p->n; i++)
		keys[i] = (range_key){p->t[i].begin, p->t[i].end, p->t[i].name, i};
	qsort(keys, p->n, sizeof *keys, cmp_range);
	for (size_t i = 0; i < p->n; i++)
		order[i] = keys[i].idx;
	free(keys);
	uint64_t at = 0;
	char sh[80];
	for (size_t k = 0; k < p->n; k++) {
		const raw_tensor *t = &p->t[order[k]];
		uint64_t count, bytes;
		shown(t->name, sh);
		if (t->end < t->begin)
			return veil_err_set(err, VEIL_E_INVALID,
			                    "safetensors: tensor '%s' ends (%llu) before it begins (%llu)",
			                    sh, (unsigned long long)t->end, (unsigned long long)t->begin);
		if (t->begin > at)
			return veil_err_set(err, VEIL_E_INVALID,
			                    "safetensors: %llu bytes of the data buffer before tensor '%s' "
			                    "belong to no tensor",
			                    (unsigned long long)(t->begin - at), sh);
		if (t->begin < at)
			return veil_err_set(err, VEIL_E_INVALID,
			                    "safetensors: tensor '%s' overlaps the tensor before it", sh);
		if (!tensor_bytes(t, &count, &bytes) || count > SIZE_MAX)
			return veil_err_set(
			        err, VEIL_E_INVALID,
			        "safetensors: tensor '%s': its shape's size overflows, or is not whole bytes",
			        sh);
		if (bytes != t->end - t->begin)
			return veil_err_set(err, VEIL_E_INVALID,
			                    "safetensors: tensor '%s': its shape and dtype %s make %llu "
			                    "bytes, its data_offsets %llu",
			                    sh, dtypes[t->dtype].name, (unsigned long long)bytes,
			                    (unsigned long long)(t->end - t->begin));
		at = t->end;
	}
	if (at < data_len)
		return veil_err_set(
		        err, VEIL_E_INVALID,
		        "safetensors: %llu bytes after the last tensor's data belong to no tensor",
		        (unsigned long long)(data_len - at));
	if (at > data_len)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "safetensors: the tensors need %llu bytes of data but the file holds %zu",
		                    (unsigned long long)at, data_len);
	return VEIL_OK;
}

static void parse_free(parse *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->t[i].name);
	free(p->t);
	for (size_t i = 0; p->meta && i < p->n_meta; i++) {
		free(p->meta[i].key);
		free(p->meta[i].value);
	}
	free(p->meta);
}

/* The 8-byte length, its bounds, the UTF-8 and the first byte: what must
 * hold before any JSON is read. */
static veil_status check_frame(const uint8_t *buf, size_t len, uint64_t *hlen, veil_err *err)
{
	if (len < 8)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "safetensors: %zu bytes, fewer than the 8 of the header length", len);
	uint64_t n = 0;
	for (int i = 7; i >= 0; i--)
		n = n << 8 | buf[i];
	if (n > VEIL_ST_HEADER_MAX)
		return veil_err_set(err, VEIL_E_LIMIT,
		                    "safetensors: a header of %llu bytes, over the format's %u",
		                    (unsigned long long)n, VEIL_ST_HEADER_MAX);
	if (n > len - 8)
		return veil_err_set(
		        err, VEIL_E_INVALID,
		        "safetensors: the header length %llu runs past the end of the file (%zu bytes)",
		        (unsigned long long)n, len);
	size_t bad;
	if (!veil_utf8_valid(buf + 8, (size_t)n, &bad))
		return veil_err_set(err, VEIL_E_INVALID, "safetensors header offset %zu: not UTF-8", bad);
	if (n == 0 || buf[8] != '{')
		return veil_err_set(err, VEIL_E_INVALID,
		                    "safetensors header offset 0: the header must start with '{'");
	*hlen = n;
	return VEIL_OK;
}

static veil_status first_unsupported(const parse *p, const size_t *order, veil_err *err)
{
	size_t f32 = dtype_f32();
	for (size_t k = 0; k < p->n; k++) {
		const raw_tensor *t = &p->t[order[k]];
		if (t->dtype != f32) {
			char sh[80];
			shown(t->name, sh);
			veil_err_set(err, VEIL_E_UNSUPPORTED,
			             "safetensors: tensor '%s' is %s; veil reads F32 tensors only", sh,
			             dtypes[t->dtype].name);
			return veil_err_hint(err, "convert the tensors to float32 before saving the file");
		}
	}
	return VEIL_OK;
}

veil_status veil_st_parse(const uint8_t *buf, size_t len, veil_st_file *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	uint64_t hlen = 0;
	veil_status st = check_frame(buf, len, &hlen, err);
	if (st)
		return st;
	parse p = {0};
	size_t *order = NULL;
	lj_init(&p.j, buf + 8, (size_t)hlen, "safetensors header", err);
	p.meta = calloc(VEIL_ST_META_MAX, sizeof *p.meta);
	if (!p.meta) {
		st = veil_err_set(err, VEIL_E_NOMEM, "out of memory reading a safetensors header");
		goto done;
	}
	size_t data_len = len - 8 - (size_t)hlen;
	if ((st = read_header(&p)) || (st = check_unique(&p, err)))
		goto done;
	order = calloc(p.n ? p.n : 1, sizeof *order);
	out->tensors = calloc(p.n ? p.n : 1, sizeof *out->tensors);
	out->meta = calloc(p.n_meta ? p.n_meta : 1, sizeof *out->meta);
	if (!order || !out->tensors || !out->meta) {
		st = veil_err_set(err, VEIL_E_NOMEM, "out of memory reading a safetensors header");
		goto done;
	}
	if ((st = check_ranges(&p, data_len, order, err)) || (st = first_unsupported(&p, order, err)))
		goto done;
	const uint8_t *data = buf + 8 + hlen;
	for (size_t k = 0; k < p.n; k++) {
		raw_tensor *r = &p.t[order[k]];
		veil_st_tensor *t = &out->tensors[k];
		t->name = r->name;
		r->name = NULL; /* moved */
		t->rank = r->rank;
		memcpy(t->shape, r->shape, sizeof t->shape);
		t->count = (size_t)((r->end - r->begin) / 4);
		t->begin = r->begin;
		t->end = r->end;
		t->data = data + r->begin;
	}
	out->n_tensors = p.n;
	memcpy(out->meta, p.meta, p.n_meta * sizeof *p.meta);
	out->n_meta = p.n_meta;
	p.n_meta = 0; /* moved */
	out->has_meta = p.has_meta;
	out->header_len = hlen;
	out->data_len = data_len;
done:
	free(order);
	parse_free(&p);
	if (st) {
		free(out->tensors);
		free(out->meta);
		memset(out, 0, sizeof *out);
	}
	return st;
}

void veil_st_free(veil_st_file *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_tensors; i++)
		free(f->tensors[i].name);
	free(f->tensors);
	for (size_t i = 0; i < f->n_meta; i++) {
		free(f->meta[i].key);
		/* a veil model's manifest names its classes, which are data */
		if (f->meta[i].value)
			veil_wipe(f->meta[i].value, f->meta[i].value_len);
		free(f->meta[i].value);
	}
	free(f->meta);
	memset(f, 0, sizeof *f);
}

const veil_st_tensor *veil_st_find(const veil_st_file *f, const char *name)
{
	for (size_t i = 0; i < f->n_tensors; i++)
		if (strcmp(f->tensors[i].name, name) == 0)
			return &f->tensors[i];
	return NULL;
}

const char *veil_st_meta_get(const veil_st_file *f, const char *key)
{
	for (size_t i = 0; i < f->n_meta; i++)
		if (strcmp(f->meta[i].key, key) == 0)
			return f->meta[i].value;
	return NULL;
}

float veil_st_f32(const veil_st_tensor *t, size_t i)
{
	const uint8_t *q = t->data + 4 * i;
	uint32_t u = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
	float v;
	memcpy(&v, &u, sizeof v);
	return v;
}

/* ---- writing ---- */

static veil_status check_entries(const veil_st_entry *t, size_t n, const veil_st_kv *meta, size_t n_meta,
                                 uint64_t *data_bytes, veil_err *err)
{
	if (n > VEIL_ST_TENSORS_MAX || n_meta > VEIL_ST_META_MAX)
		return veil_err_set(err, VEIL_E_LIMIT,
		                    "safetensors: at most %u tensors and %u metadata entries",
		                    VEIL_ST_TENSORS_MAX, VEIL_ST_META_MAX);
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		if (!t[i].name || strlen(t[i].name) > VEIL_ST_NAME_MAX ||
		    strcmp(t[i].name, "__metadata__") == 0)
			return veil_err_set(
			        err, VEIL_E_INVALID,
			        "safetensors: tensor %zu has no name, a name over %u bytes or __metadata__",
			        i, VEIL_ST_NAME_MAX);
		if (t[i].rank > VEIL_ST_RANK_MAX || (t[i].transpose && t[i].rank != 2))
			return veil_err_set(
			        err, VEIL_E_INVALID,
			        "safetensors: tensor %zu has rank %zu (at most %u; 2 to be transposed)", i,
			        t[i].rank, VEIL_ST_RANK_MAX);
		uint64_t c = 1;
		for (size_t d = 0; d < t[i].rank; d++) {
			if (t[i].shape[d] != 0 && c > UINT64_MAX / 4 / t[i].shape[d])
				return veil_err_set(err, VEIL_E_LIMIT, "safetensors: tensor %zu is too large",
				                    i);
			c *= t[i].shape[d];
		}
		if (total > UINT64_MAX - 4 * c)
			return veil_err_set(err, VEIL_E_LIMIT, "safetensors: the tensors are too large");
		if (c > 0 && !t[i].data)
			return veil_err_set(err, VEIL_E_INVALID, "safetensors: tensor %zu has no data", i);
		total += 4 * c;
	}
	for (size_t i = 0; i < n_meta; i++)
		if (!meta[i].key || !meta[i].value || strlen(meta[i].key) > VEIL_ST_NAME_MAX)
			return veil_err_set(err, VEIL_E_INVALID,
			                    "safetensors: metadata entry %zu lacks a key or value, or its "
			                    "key is over %u bytes",
			                    i, VEIL_ST_NAME_MAX);
	*data_bytes = total;
	return VEIL_OK;
}

static veil_status check_distinct(const veil_st_entry *t, size_t n, const veil_st_kv *meta, size_t n_meta,
                                  veil_err *err)
{
	size_t m = n > n_meta ? n : n_meta;
	const char **names = malloc((m ? m : 1) * sizeof *names), *dup;
	if (!names)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory writing a safetensors file");
	for (size_t i = 0; i < n; i++)
		names[i] = t[i].name;
	veil_status st = find_dup(names, n, &dup, err);
	char sh[80];
	if (!st && dup) {
		shown(dup, sh);
		st = veil_err_set(err, VEIL_E_INVALID, "safetensors: two tensors are named '%s'", sh);
	}
	for (size_t i = 0; !st && i < n_meta; i++)
		names[i] = meta[i].key;
	if (!st && !(st = find_dup(names, n_meta, &dup, err)) && dup) {
		shown(dup, sh);
		st = veil_err_set(err, VEIL_E_INVALID, "safetensors: two metadata entries have the key '%s'",
		                  sh);
	}
	free(names);
	return st;
}

static veil_status write_header(const veil_st_entry *t, size_t n, const veil_st_kv *meta, size_t n_meta,
                                veil_buf *h, veil_err *err)
{
	veil_jw w;
	veil_jw_init(&w, h);
	veil_jw_object(&w);
	if (n_meta) {
		veil_jw_key(&w, "__metadata__");
		veil_jw_object(&w);
		for (size_t i = 0; i < n_meta; i++)
			veil_jw_kstr(&w, meta[i].key, meta[i].value);
		veil_jw_end(&w);
	}
	uint64_t at = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t c = 1;
		veil_jw_key(&w, t[i].name);
		veil_jw_object(&w);
		veil_jw_kstr(&w, "dtype", "F32");
		veil_jw_key(&w, "shape");
		veil_jw_array(&w);
		for (size_t d = 0; d < t[i].rank; d++) {
			veil_jw_uint(&w, t[i].shape[d]);
			c *= t[i].shape[d];
		}
		veil_jw_end(&w);
		veil_jw_key(&w, "data_offsets");
		veil_jw_array(&w);
		veil_jw_uint(&w, at);
		veil_jw_uint(&w, at + 4 * c);
		veil_jw_end(&w);
		veil_jw_end(&w);
		at += 4 * c;
	}
	veil_jw_end(&w);
	veil_status st = veil_jw_finish(&w, err);
	if (st)
		return veil_err_wrap(err, "safetensors header");
	static const char pad[8] = "        ";
	if ((st = veil_buf_append(h, pad, (8 - h->len % 8) % 8, err)))
		return st;
	if (h->len > VEIL_ST_HEADER_MAX)
		return veil_err_set(err, VEIL_E_LIMIT,
		                    "safetensors: a header of %zu bytes, over the format's %u", h->len,
		                    VEIL_ST_HEADER_MAX);
	return VEIL_OK;
}

static void put_f32(uint8_t *q, float v)
{
	uint32_t u;
	memcpy(&u, &v, sizeof u);
	q[0] = (uint8_t)u;
	q[1] = (uint8_t)(u >> 8);
	q[2] = (uint8_t)(u >> 16);
	q[3] = (uint8_t)(u >> 24);
}

veil_status veil_st_write(const veil_st_entry *t, size_t n, const veil_st_kv *meta, size_t n_meta,
                          veil_buf *out, veil_err *err)
{
	uint64_t data_bytes = 0;
	veil_buf h = {0};
	size_t orig = out->len;
	veil_status st;
	if ((st = check_entries(t, n, meta, n_meta, &data_bytes, err)) ||
	    (st = check_distinct(t, n, meta, n_meta, err)) ||
	    (st = write_header(t, n, meta, n_meta, &h, err)))
		goto done;
	if (data_bytes > SIZE_MAX - 8 - h.len) {
		st = veil_err_set(err, VEIL_E_LIMIT, "safetensors: the file would be too large");
		goto done;
	}
	if ((st = veil_buf_reserve(out, 8 + h.len + (size_t)data_bytes, err)))
		goto done;
	uint8_t *q = out->data + out->len;
	for (int i = 0; i < 8; i++)
		q[i] = (uint8_t)((uint64_t)h.len >> (8 * i));
	memcpy(q + 8, h.data, h.len);
	q += 8 + h.len;
	for (size_t i = 0; i < n; i++) {
		size_t c = 1;
		for (size_t d = 0; d < t[i].rank; d++)
			c *= t[i].shape[d];
		if (t[i].transpose) {
			/* data is shape[1] × shape[0]; element (r, k) of the
			 * written matrix is data[k][r] */
			size_t rows = t[i].shape[0], cols = t[i].shape[1];
			for (size_t r = 0; r < rows; r++)
				for (size_t k = 0; k < cols; k++, q += 4)
					put_f32(q, t[i].data[k * rows + r]);
		} else {
			for (size_t k = 0; k < c; k++, q += 4)
				put_f32(q, t[i].data[k]);
		}
	}
	out->len += 8 + h.len + (size_t)data_bytes;
done:
	veil_buf_free(&h);
	if (st)
		out->len = orig;
	return st;
}
