/*
 * Fuzz target: the IDX reader (docs/formats/idx.md), plain and gzip. Byte 0
 * picks the read size (bits 0-1: whole reads, 1, 3 or 7 bytes at a time)
 * and bit 2 has the harness gzip the rest before the reader sees it, so
 * that mutations of the IDX bytes also reach the reader through inflate
 * (without it, a gzip input is fed as it is: mutations of it mostly meet
 * the CRC). The values limit is 64 KiB so that mutated dimensions reach it.
 *
 * Invariants (abort on violation):
 *  1. A failure is VEIL_E_INVALID, VEIL_E_LIMIT or VEIL_E_CORRUPT with a
 *     message starting "offset N: " or "gzip offset N: ", and *out zeroed.
 *  2. A success is well formed: a known type, 1..8 dimensions, none 0 (the
 *     rest 0), values_len = the product times the type's size <= the limit,
 *     nitems = dims[0], item_values the product of the others.
 *  3. A success is exactly its input: the header and the values written
 *     back big-endian give the input byte for byte (for gzip, what zlib's
 *     own inflate makes of it).
 *  4. Reading in small pieces gives what whole reads give: the same status,
 *     message and values.
 *  5. A 1-dimensional integer array read back is a valid label vector: the
 *     training matrix of it against itself holds its values.
 */
#include "fuzz.h"
#include "veil/data.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define MAX_BYTES (64u << 10)

static void check_error(veil_status st, const veil_err *err, const veil_idx *x)
{
	FUZZ_CHECK(st == VEIL_E_INVALID || st == VEIL_E_LIMIT || st == VEIL_E_CORRUPT,
	           "a failure other than invalid, limit or corrupt");
	FUZZ_CHECK(err->code == st, "an error whose code differs from the status");
	const char *m = err->msg;
	if (strncmp(m, "gzip ", 5) == 0)
		m += 5;
	FUZZ_CHECK(strncmp(m, "offset ", 7) == 0, "an error without an offset");
	char *end = NULL;
	(void)strtoull(m + 7, &end, 10);
	FUZZ_CHECK(end != m + 7 && strncmp(end, ": ", 2) == 0 && end[2] != '\0',
	           "an error without an offset");
	bool zeroed = x->type == 0 && x->ndims == 0 && x->nitems == 0 && x->item_values == 0 &&
	              x->values == NULL && x->values_len == 0;
	for (unsigned i = 0; i < VEIL_IDX_DIMS_MAX; i++)
		zeroed = zeroed && x->dims[i] == 0;
	FUZZ_CHECK(zeroed, "a failure that left an array");
}

static void check_shape(const veil_idx *x)
{
	size_t vsize = veil_idx_type_size(x->type);
	FUZZ_CHECK(vsize != 0, "an array of an unknown type");
	FUZZ_CHECK(x->ndims >= 1 && x->ndims <= VEIL_IDX_DIMS_MAX, "a dimension count out of bounds");
	uint64_t prod = 1;
	for (unsigned i = 0; i < VEIL_IDX_DIMS_MAX; i++) {
		if (i < x->ndims) {
			FUZZ_CHECK(x->dims[i] != 0, "a dimension of 0");
			prod *= x->dims[i]; /* bounded by the values' size below */
			FUZZ_CHECK(prod <= MAX_BYTES, "dimensions past the limit");
		} else {
			FUZZ_CHECK(x->dims[i] == 0, "a dimension past ndims");
		}
	}
	FUZZ_CHECK(x->values_len == prod * vsize && x->values_len <= MAX_BYTES, "a wrong values_len");
	FUZZ_CHECK(x->nitems == x->dims[0] && x->item_values * x->nitems == prod, "a wrong item count");
	FUZZ_CHECK(x->values != NULL, "no values");
}

/* The file the array came from: header, then values big-endian. */
static uint8_t *encode(const veil_idx *x, size_t *len)
{
	size_t vsize = veil_idx_type_size(x->type), hl = 4 + 4 * (size_t)x->ndims;
	uint8_t *out = malloc(hl + x->values_len);
	if (!out)
		abort();
	out[0] = 0;
	out[1] = 0;
	out[2] = x->type;
	out[3] = (uint8_t)x->ndims;
	for (unsigned i = 0; i < x->ndims; i++)
		veil_put_be32(out + 4 + 4 * i, x->dims[i]);
	const uint8_t *v = x->values;
	for (size_t i = 0; i < x->values_len; i += vsize) {
		uint16_t a;
		uint32_t b;
		uint64_t c;
		switch (vsize) {
		case 1:
			out[hl + i] = v[i];
			break;
		case 2:
			memcpy(&a, v + i, 2);
			veil_put_be16(out + hl + i, a);
			break;
		case 4:
			memcpy(&b, v + i, 4);
			veil_put_be32(out + hl + i, b);
			break;
		default:
			memcpy(&c, v + i, 8);
			veil_put_be64(out + hl + i, c);
			break;
		}
	}
	*len = hl + x->values_len;
	return out;
}

/* zlib's own reading of a gzip member, for invariant 3 (only called on
 * input the reader accepted, so its size is bounded by MAX_BYTES + header). */
static uint8_t *inflate_all(const uint8_t *in, size_t n, size_t *len)
{
	size_t cap = MAX_BYTES + VEIL_IDX_HEADER_MAX + 1;
	uint8_t *out = malloc(cap);
	FUZZ_CHECK(out != NULL, "out of memory");
	z_stream z = {0};
	FUZZ_CHECK(inflateInit2(&z, 16 + MAX_WBITS) == Z_OK, "inflateInit2 failed");
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	FUZZ_CHECK(inflate(&z, Z_FINISH) == Z_STREAM_END, "zlib refuses a gzip stream the reader took");
	FUZZ_CHECK(z.avail_in == 0, "the reader took a gzip stream with data after it");
	*len = z.total_out;
	inflateEnd(&z);
	return out;
}

static uint8_t *gzip_of(const uint8_t *in, size_t n, size_t *len)
{
	z_stream z = {0};
	FUZZ_CHECK(deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK,
	           "deflateInit2 failed");
	size_t cap = deflateBound(&z, (uLong)n);
	uint8_t *out = malloc(cap);
	FUZZ_CHECK(out != NULL, "out of memory");
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	FUZZ_CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END, "deflate failed");
	*len = z.total_out;
	deflateEnd(&z);
	return out;
}

static void check_labels(const veil_idx *x)
{
	if (x->ndims != 1 || x->type == VEIL_IDX_F32 || x->type == VEIL_IDX_F64)
		return;
	float *m;
	int32_t *y;
	size_t rows, cols;
	veil_err err = {0};
	veil_status st = veil_idx_to_matrix(x, x, &m, &y, &rows, &cols, &err);
	fuzz_note("idx matrix", st, &err);
	FUZZ_CHECK(st == VEIL_OK && rows == x->nitems && cols == 1, "labels that make no matrix");
	for (size_t i = 0; i < rows; i++) {
		float want = x->type == VEIL_IDX_U8 ? (float)y[i] / 255.0f : (float)y[i];
		FUZZ_CHECK(m[i] == want, "a matrix value that is not its label's");
	}
	free(m);
	free(y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const size_t steps[] = {0, 1, 3, 7};
	size_t step = steps[data[0] & 3];
	const uint8_t *in = data + 1;
	size_t n = size - 1;
	uint8_t *gz = NULL;
	if (data[0] & 4) {
		gz = gzip_of(in, n, &n);
		in = gz;
	}
	veil_idx whole, pieces;
	veil_err e1 = {0}, e2 = {0};
	fuzz_mem m1 = {.p = in, .len = n}, m2 = {.p = in, .len = n, .step = step ? step : 1};
	veil_status s1 = veil_idx_read(fuzz_mem_read, &m1, MAX_BYTES, &whole, &e1);
	veil_status s2 = veil_idx_read(fuzz_mem_read, &m2, MAX_BYTES, &pieces, &e2);
	fuzz_note("idx", s1, &e1);
	FUZZ_CHECK(s1 == s2 && (s1 == VEIL_OK || strcmp(e1.msg, e2.msg) == 0),
	           "reads in pieces fail differently");
	if (s1 != VEIL_OK) {
		check_error(s1, &e1, &whole);
		check_error(s2, &e2, &pieces);
		free(gz);
		return 0;
	}
	check_shape(&whole);
	FUZZ_CHECK(whole.values_len == pieces.values_len && whole.ndims == pieces.ndims &&
	                   memcmp(whole.dims, pieces.dims, sizeof whole.dims) == 0 &&
	                   memcmp(whole.values, pieces.values, whole.values_len) == 0,
	           "reads in pieces give other values");
	size_t elen, plen = n;
	uint8_t *enc = encode(&whole, &elen);
	uint8_t *plain = NULL;
	if (n >= 2 && in[0] == 0x1f && in[1] == 0x8b)
		plain = inflate_all(in, n, &plen);
	FUZZ_CHECK(elen == plen && memcmp(enc, plain ? plain : in, elen) == 0,
	           "an array that is not its input");
	check_labels(&whole);
	free(plain);
	free(enc);
	veil_idx_free(&whole);
	veil_idx_free(&pieces);
	free(gz);
	return 0;
}
