/* Unit tests for the IDX reader (veil/data_idx.h, docs/formats/idx.md):
 * hand-built files of every type with their big-endian values, gzip made
 * in the test with zlib's deflate (and zlib's compress, which is not gzip
 * and is refused), every truncation of a plain and a gzip file, trailing
 * bytes and trailing gzip data, damaged gzip trailers, dimensions that
 * overflow or are 0, a gzip bomb against max_bytes, bad magic, read errors,
 * reads in pieces, the training matrix, and the real Fashion-MNIST files
 * of Debian's dataset-fashion-mnist package. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "veil/crypto.h"
#include "veil/data.h"

/* A stream over memory. step > 0 caps every read at step bytes; fail_at > 0
 * fails the read that would reach that offset. */
typedef struct mem {
	const uint8_t *p;
	size_t len, off, step, fail_at;
} mem;

static veil_status mem_read(void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err)
{
	mem *m = ctx;
	size_t k = m->len - m->off;
	if (k > n)
		k = n;
	if (m->step && k > m->step)
		k = m->step;
	if (m->fail_at && m->off + k >= m->fail_at)
		return veil_err_set(err, VEIL_E_IO, "read failed");
	memcpy(buf, m->p + m->off, k);
	m->off += k;
	*got = k;
	return VEIL_OK;
}

static veil_status read_mem(const void *p, size_t len, size_t step, uint64_t max, veil_idx *x, veil_err *err)
{
	mem m = {.p = p, .len = len, .step = step};
	return veil_idx_read(mem_read, &m, max, x, err);
}

/* Copies n bytes of a literal (not a string: no NUL wanted) to dst. */
static void put(uint8_t *dst, const char *bytes, size_t n)
{
	memcpy(dst, bytes, n);
}

/* A header: type, ndims, then the dims. Returns its length. */
static size_t header(uint8_t *out, uint8_t type, unsigned ndims, const uint32_t *dims)
{
	out[0] = 0;
	out[1] = 0;
	out[2] = type;
	out[3] = (uint8_t)ndims;
	for (unsigned i = 0; i < ndims; i++)
		veil_put_be32(out + 4 + 4 * i, dims[i]);
	return 4 + 4 * (size_t)ndims;
}

/* gzip (RFC 1952) of in, through zlib's deflate with a gzip wrapper; with a
 * file name in the header when name is not NULL, as `gzip` writes it. */
static uint8_t *gzip_of(const uint8_t *in, size_t n, const char *name, size_t *out_len)
{
	z_stream z = {0};
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	gz_header gh = {0};
	if (name) {
		gh.name = (Bytef *)name;
		gh.os = 3;
		assert_int_equal(deflateSetHeader(&z, &gh), Z_OK);
	}
	size_t cap = deflateBound(&z, (uLong)n) + 64;
	uint8_t *out = malloc(cap);
	assert_non_null(out);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*out_len = z.total_out;
	deflateEnd(&z);
	return out;
}

/* ---- every type, big-endian in the file, host order in memory ---- */

static void test_types(void **state)
{
	(void)state;
	uint8_t f[64];
	veil_idx x;
	veil_err err = {0};
	uint32_t d2[] = {2};

	/* u8 */
	size_t h = header(f, 0x08, 1, d2);
	f[h] = 0x00;
	f[h + 1] = 0xff;
	assert_int_equal(read_mem(f, h + 2, 0, 64, &x, &err), VEIL_OK);
	assert_int_equal(x.type, VEIL_IDX_U8);
	assert_int_equal(x.ndims, 1);
	assert_int_equal(x.nitems, 2);
	assert_int_equal(x.item_values, 1);
	assert_int_equal(x.values_len, 2);
	assert_int_equal(((uint8_t *)x.values)[0], 0);
	assert_int_equal(((uint8_t *)x.values)[1], 255);
	veil_idx_free(&x);
	assert_null(x.values);
	assert_int_equal(x.ndims, 0);

	/* i8: 0x80 is -128, 0x7f is 127 */
	h = header(f, 0x09, 1, d2);
	f[h] = 0x80;
	f[h + 1] = 0x7f;
	assert_int_equal(read_mem(f, h + 2, 0, 64, &x, &err), VEIL_OK);
	assert_int_equal(((int8_t *)x.values)[0], -128);
	assert_int_equal(((int8_t *)x.values)[1], 127);
	veil_idx_free(&x);

	/* i16: 01 02 is 258, ff fe is -2 */
	h = header(f, 0x0B, 1, d2);
	put(f + h, "\x01\x02\xff\xfe", 4);
	assert_int_equal(read_mem(f, h + 4, 0, 64, &x, &err), VEIL_OK);
	assert_int_equal(x.values_len, 4);
	assert_int_equal(((int16_t *)x.values)[0], 258);
	assert_int_equal(((int16_t *)x.values)[1], -2);
	veil_idx_free(&x);

	/* i32: 01 02 03 04 is 16909060, ff ff ff ff is -1 */
	h = header(f, 0x0C, 1, d2);
	put(f + h, "\x01\x02\x03\x04\xff\xff\xff\xff", 8);
	assert_int_equal(read_mem(f, h + 8, 0, 64, &x, &err), VEIL_OK);
	assert_int_equal(((int32_t *)x.values)[0], 16909060);
	assert_int_equal(((int32_t *)x.values)[1], -1);
	veil_idx_free(&x);

	/* f32: 3f c0 00 00 is 1.5, c0 00 00 00 is -2 (IEEE 754 binary32) */
	h = header(f, 0x0D, 1, d2);
	put(f + h, "\x3f\xc0\x00\x00\xc0\x00\x00\x00", 8);
	assert_int_equal(read_mem(f, h + 8, 0, 64, &x, &err), VEIL_OK);
	assert_true(((float *)x.values)[0] == 1.5f);
	assert_true(((float *)x.values)[1] == -2.0f);
	veil_idx_free(&x);

	/* f64: 3f f0 .. is 1.0, bf e0 .. is -0.5, 40 09 21 fb 54 44 2d 18 is pi */
	uint32_t d3[] = {3};
	h = header(f, 0x0E, 1, d3);
	put(f + h, "\x3f\xf0\0\0\0\0\0\0\xbf\xe0\0\0\0\0\0\0\x40\x09\x21\xfb\x54\x44\x2d\x18", 24);
	assert_int_equal(read_mem(f, h + 24, 0, 64, &x, &err), VEIL_OK);
	assert_true(((double *)x.values)[0] == 1.0);
	assert_true(((double *)x.values)[1] == -0.5);
	assert_true(((double *)x.values)[2] == 3.141592653589793);
	veil_idx_free(&x);

	assert_int_equal(veil_idx_type_size(VEIL_IDX_F64), 8);
	assert_int_equal(veil_idx_type_size(0x0A), 0);
	assert_string_equal(veil_idx_type_name(VEIL_IDX_I16), "i16");
	assert_string_equal(veil_idx_type_name(0x0A), "unknown");
}

/* Shapes: item_values is the product of the dimensions after the first. */
static void test_shapes(void **state)
{
	(void)state;
	uint8_t f[4 + 32 + 64];
	veil_err err = {0};
	veil_idx x;
	uint32_t d[] = {2, 3, 4};
	size_t h = header(f, 0x0B, 3, d);
	for (size_t i = 0; i < 24; i++)
		veil_put_be16(f + h + 2 * i, (uint16_t)(1000 + i));
	assert_int_equal(read_mem(f, h + 48, 0, 48, &x, &err), VEIL_OK);
	assert_int_equal(x.ndims, 3);
	assert_int_equal(x.dims[0], 2);
	assert_int_equal(x.dims[1], 3);
	assert_int_equal(x.dims[2], 4);
	assert_int_equal(x.dims[3], 0);
	assert_int_equal(x.nitems, 2);
	assert_int_equal(x.item_values, 12);
	for (size_t i = 0; i < 24; i++)
		assert_int_equal(((int16_t *)x.values)[i], 1000 + (int)i);
	veil_idx_free(&x);

	/* exactly max_bytes is allowed; one byte less is not */
	assert_int_equal(read_mem(f, h + 48, 0, 47, &x, &err), VEIL_E_LIMIT);
	assert_string_equal(err.msg,
	                    "offset 4: the dimensions describe 48 bytes of values, over the limit of 47");
	assert_null(x.values);

	/* eight dimensions of 1, the most there may be */
	uint32_t ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
	h = header(f, 0x08, 8, ones);
	f[h] = 42;
	assert_int_equal(read_mem(f, h + 1, 0, 1, &x, &err), VEIL_OK);
	assert_int_equal(x.ndims, 8);
	assert_int_equal(x.item_values, 1);
	assert_int_equal(((uint8_t *)x.values)[0], 42);
	veil_idx_free(&x);
}

/* A file of n values of every byte pattern, for the stream tests. */
static uint8_t *sample(size_t *len)
{
	uint32_t d[] = {100, 7, 3};
	uint8_t *f = malloc(16 + 2100 * 4);
	assert_non_null(f);
	size_t h = header(f, 0x0C, 3, d);
	for (size_t i = 0; i < 2100; i++)
		veil_put_be32(f + h + 4 * i, (uint32_t)(i * 2654435761u));
	*len = h + 2100 * 4;
	return f;
}

static void check_sample(const veil_idx *x)
{
	assert_int_equal(x->type, VEIL_IDX_I32);
	assert_int_equal(x->nitems, 100);
	assert_int_equal(x->item_values, 21);
	for (size_t i = 0; i < 2100; i++)
		assert_int_equal((uint32_t)((int32_t *)x->values)[i], (uint32_t)(i * 2654435761u));
}

/* gzip is recognised and inflated; the result is the plain file's, whatever the read size. */
static void test_gzip(void **state)
{
	(void)state;
	size_t len, zlen;
	uint8_t *f = sample(&len);
	uint8_t *z = gzip_of(f, len, "sample.idx", &zlen);
	assert_true(z[0] == 0x1f && z[1] == 0x8b && (z[3] & 0x08)); /* FNAME set: the header has a name */
	veil_err err = {0};
	veil_idx x;
	size_t steps[] = {0, 1, 2, 3, 7, 1000};
	for (size_t s = 0; s < sizeof steps / sizeof *steps; s++) {
		assert_int_equal(read_mem(z, zlen, steps[s], len, &x, &err), VEIL_OK);
		check_sample(&x);
		veil_idx_free(&x);
		assert_int_equal(read_mem(f, len, steps[s], len, &x, &err), VEIL_OK);
		check_sample(&x);
		veil_idx_free(&x);
	}

	/* zlib's compress() makes a zlib stream (78 ..), not gzip: not an IDX file */
	uLongf clen = compressBound((uLong)len);
	uint8_t *c = malloc(clen);
	assert_non_null(c);
	assert_int_equal(compress(c, &clen, f, (uLong)len), Z_OK);
	assert_int_equal(c[0], 0x78);
	assert_int_equal(read_mem(c, clen, 0, len, &x, &err), VEIL_E_INVALID);
	assert_string_equal(err.msg, "offset 0: not an IDX file: the magic number starts 78 9c, not 00 00");
	free(c);
	free(z);
	free(f);
}

/* Every cut of a plain or a gzip file fails; the plain one names bytes expected and found. */
static void test_truncated(void **state)
{
	(void)state;
	size_t len, zlen;
	uint8_t *f = sample(&len);
	uint8_t *z = gzip_of(f, len, NULL, &zlen);
	veil_err err = {0};
	veil_idx x;
	for (size_t cut = 0; cut < len; cut++) {
		assert_int_equal(read_mem(f, cut, 0, len, &x, &err), VEIL_E_INVALID);
		assert_null(x.values);
		assert_true(strncmp(err.msg, "offset ", 7) == 0);
	}
	for (size_t cut = 0; cut < zlen; cut++) {
		assert_int_equal(read_mem(z, cut, 3, len, &x, &err), VEIL_E_INVALID);
		assert_null(x.values);
		assert_true(strncmp(err.msg, "offset ", 7) == 0 || strncmp(err.msg, "gzip offset ", 12) == 0);
	}
	assert_int_equal(read_mem(f, 0, 0, len, &x, &err), VEIL_E_INVALID);
	assert_string_equal(err.msg, "offset 0: truncated header: expected 4 more bytes, found 0");
	assert_int_equal(read_mem(f, 6, 0, len, &x, &err), VEIL_E_INVALID);
	assert_string_equal(err.msg, "offset 4: truncated header: expected 12 more bytes, found 2");
	assert_int_equal(read_mem(f, 16 + 1000, 0, len, &x, &err), VEIL_E_INVALID);
	assert_string_equal(
	        err.msg,
	        "offset 1016: truncated: the header's dimensions need 8400 bytes of values, found 1000");
	assert_string_equal(err.hint, "the file is incomplete: fetch it again");

	/* cut inside the deflate data: the IDX layer says what it expected */
	assert_int_equal(read_mem(z, zlen / 2, 0, len, &x, &err), VEIL_E_INVALID);
	assert_non_null(
	        strstr(err.msg, "truncated: the header's dimensions need 8400 bytes of values, found "));
	assert_non_null(strstr(err.msg, "(the gzip stream is cut short)"));
	/* every value there, the 8-byte CRC and length trailer missing */
	assert_int_equal(read_mem(z, zlen - 1, 0, len, &x, &err), VEIL_E_INVALID);
	char want[128];
	snprintf(want, sizeof want,
	         "gzip offset %zu: the gzip stream is truncated (it ends before its trailer)", zlen - 1);
	assert_string_equal(err.msg, want);
	free(z);
	free(f);
}

/* Bytes after the last value, and data after the gzip member, are refused. */
static void test_trailing(void **state)
{
	(void)state;
	size_t len, zlen, z2len;
	uint8_t *f = sample(&len);
	uint8_t *g = malloc(2 * len + 64);
	assert_non_null(g);
	memcpy(g, f, len);
	g[len] = 0;
	veil_err err = {0};
	veil_idx x;
	assert_int_equal(read_mem(g, len + 1, 0, len, &x, &err), VEIL_E_INVALID);
	assert_string_equal(
	        err.msg,
	        "offset 8416: data continues after the last value (the header accounts for 8416 bytes)");
	assert_null(x.values);

	/* inside a gzip stream */
	uint8_t *z = gzip_of(g, len + 1, NULL, &zlen);
	assert_int_equal(read_mem(z, zlen, 0, len, &x, &err), VEIL_E_INVALID);
	assert_string_equal(
	        err.msg,
	        "offset 8416: data continues after the last value (the header accounts for 8416 bytes)");
	/* the same with a damaged CRC: the values end before the damage is
	 * reached, so the trailing byte is the fault, at any read size (inflate
	 * would check the CRC early whenever the whole trailer is at hand) */
	z[zlen - 8] ^= 1;
	for (size_t step = 0; step < 12; step++) {
		assert_int_equal(read_mem(z, zlen, step, len, &x, &err), VEIL_E_INVALID);
		assert_string_equal(err.msg, "offset 8416: data continues after the last value (the header "
		                             "accounts for 8416 bytes)");
	}
	free(z);

	/* garbage after the gzip member, at each read size: the offset is the member's end */
	z = gzip_of(f, len, NULL, &zlen);
	memcpy(g, z, zlen);
	g[zlen] = 'x';
	char want[128];
	snprintf(want, sizeof want,
	         "gzip offset %zu: data after the end of the gzip stream (one gzip member only)", zlen);
	for (size_t step = 0; step < 4; step++) {
		assert_int_equal(read_mem(g, zlen + 1, step, len, &x, &err), VEIL_E_INVALID);
		assert_string_equal(err.msg, want);
	}
	/* a second gzip member (what `cat a.gz b.gz` makes) is refused too */
	uint8_t *z2 = gzip_of(f, 0, NULL, &z2len);
	memcpy(g + zlen, z2, z2len);
	assert_int_equal(read_mem(g, zlen + z2len, 0, len, &x, &err), VEIL_E_INVALID);
	assert_string_equal(err.msg, want);
	free(z2);
	free(z);
	free(g);
	free(f);
}

/* A damaged gzip stream fails its checks: CRC-32, length, method. */
static void test_gzip_corrupt(void **state)
{
	(void)state;
	size_t len, zlen;
	uint8_t *f = sample(&len);
	uint8_t *z = gzip_of(f, len, NULL, &zlen);
	veil_err err = {0};
	veil_idx x;
	z[zlen - 8] ^= 1; /* CRC-32 */
	assert_int_equal(read_mem(z, zlen, 0, len, &x, &err), VEIL_E_CORRUPT);
	assert_non_null(strstr(err.msg, "the gzip stream is damaged: incorrect data check"));
	assert_true(strncmp(err.msg, "gzip offset ", 12) == 0);
	assert_null(x.values);
	z[zlen - 8] ^= 1;
	z[zlen - 4] ^= 1; /* ISIZE */
	assert_int_equal(read_mem(z, zlen, 0, len, &x, &err), VEIL_E_CORRUPT);
	assert_non_null(strstr(err.msg, "incorrect length check"));
	z[zlen - 4] ^= 1;
	z[2] = 7; /* compression method: only 8 (deflate) exists */
	assert_int_equal(read_mem(z, zlen, 0, len, &x, &err), VEIL_E_CORRUPT);
	/* zlib reads the method and flags bytes together: it stops after byte 3 */
	assert_string_equal(err.msg, "gzip offset 4: the gzip stream is damaged: unknown compression method");
	z[2] = 8;
	/* a flipped bit in the deflate data is caught one way or another, or
	 * (deflate has more than one encoding of some data, e.g. in a dynamic
	 * block's header) decodes to the very same bytes, which the CRC vouches for */
	size_t caught = 0;
	for (size_t i = 10; i < zlen - 8; i += 97) {
		z[i] ^= 0x10;
		veil_status st = read_mem(z, zlen, 0, len, &x, &err);
		if (st == VEIL_OK) {
			check_sample(&x);
			veil_idx_free(&x);
		} else if (st == VEIL_E_CORRUPT || st == VEIL_E_INVALID) {
			assert_null(x.values);
			caught++;
		} else {
			fail_msg("bit flip at %zu: %s: %s", i, veil_status_str(st), err.msg);
		}
		z[i] ^= 0x10;
	}
	assert_true(caught > 0);
	assert_int_equal(read_mem(z, zlen, 0, len, &x, &err), VEIL_OK);
	veil_idx_free(&x);
	free(z);
	free(f);
}

/* Dimensions: a 0, a count out of 1..8, a product that overflows. */
static void test_dims(void **state)
{
	(void)state;
	uint8_t f[64] = {0};
	veil_err err = {0};
	veil_idx x;
	uint32_t zero[] = {3, 0, 5};
	size_t h = header(f, 0x08, 3, zero);
	assert_int_equal(read_mem(f, h + 16, 0, 1000, &x, &err), VEIL_E_INVALID);
	assert_string_equal(err.msg, "offset 8: dimension 2 is 0");
	assert_null(x.values);

	uint32_t big[8];
	for (int i = 0; i < 8; i++)
		big[i] = 0xffffffffu;
	h = header(f, 0x08, 8, big);
	assert_int_equal(read_mem(f, h, 0, UINT64_MAX, &x, &err), VEIL_E_LIMIT);
	assert_string_equal(err.msg, "offset 12: the dimensions' product overflows 64 bits at dimension 3");
	/* 2^32-1 squared fits 64 bits, times 8 bytes does not */
	h = header(f, 0x0E, 2, big);
	assert_int_equal(read_mem(f, h, 0, UINT64_MAX, &x, &err), VEIL_E_LIMIT);
	assert_string_equal(err.msg, "offset 8: the dimensions' product overflows 64 bits at dimension 2");
	/* no overflow, but over the limit */
	h = header(f, 0x08, 2, big);
	assert_int_equal(read_mem(f, h, 0, (uint64_t)1 << 40, &x, &err), VEIL_E_LIMIT);
	assert_string_equal(err.msg,
	                    "offset 4: the dimensions describe 18446744065119617025 bytes of values, "
	                    "over the limit of 1099511627776");
	/* within a limit of everything: the buffer grows with the data, so a
	 * header alone costs a first 1 MiB, not 16 EiB, before it is found short */
	assert_int_equal(read_mem(f, h, 0, UINT64_MAX, &x, &err), VEIL_E_INVALID);
	assert_string_equal(err.msg,
	                    "offset 12: truncated: the header's dimensions need 18446744065119617025 "
	                    "bytes of values, found 0");

	h = header(f, 0x08, 0, NULL);
	assert_int_equal(read_mem(f, h + 4, 0, 1000, &x, &err), VEIL_E_INVALID);
	assert_string_equal(err.msg, "offset 3: the header declares no dimensions");
	f[3] = 9;
	assert_int_equal(read_mem(f, 4 + 36 + 1, 0, 1000, &x, &err), VEIL_E_LIMIT);
	assert_string_equal(err.msg, "offset 3: 9 dimensions, over the limit of 8");
	f[3] = 255;
	assert_int_equal(read_mem(f, sizeof f, 0, 1000, &x, &err), VEIL_E_LIMIT);
}

/* Not IDX: every magic and type byte that is not one. */
static void test_bad_magic(void **state)
{
	(void)state;
	uint8_t f[8] = {0, 0, 0x08, 1, 0, 0, 0, 0};
	veil_err err = {0};
	veil_idx x;
	f[0] = 1;
	assert_int_equal(read_mem(f, 8, 0, 100, &x, &err), VEIL_E_INVALID);
	assert_string_equal(err.msg, "offset 0: not an IDX file: the magic number starts 01 00, not 00 00");
	assert_true(strstr(err.hint, "1f 8b") != NULL);
	f[0] = 0;
	f[1] = 8;
	assert_int_equal(read_mem(f, 8, 0, 100, &x, &err), VEIL_E_INVALID);
	f[1] = 0;
	f[0] = 0x1f; /* half a gzip magic */
	assert_int_equal(read_mem(f, 8, 0, 100, &x, &err), VEIL_E_INVALID);
	assert_string_equal(err.msg, "offset 0: not an IDX file: the magic number starts 1f 00, not 00 00");
	f[0] = 0;
	for (unsigned t = 0; t < 256; t++) {
		f[2] = (uint8_t)t;
		veil_status st = read_mem(f, 4, 0, 100, &x, &err);
		bool known = t == 8 || t == 9 || (t >= 0x0B && t <= 0x0E);
		assert_int_equal(veil_idx_type_size((uint8_t)t) != 0, known);
		if (known) {
			/* a known type gets past the type byte to the missing dimension */
			assert_int_equal(st, VEIL_E_INVALID);
			assert_string_equal(err.msg,
			                    "offset 4: truncated header: expected 4 more bytes, found 0");
		} else {
			assert_int_equal(st, VEIL_E_INVALID);
			assert_true(strncmp(err.msg, "offset 2: unknown value type", 28) == 0);
		}
	}
	f[2] = 0x0A;
	assert_int_equal(read_mem(f, 4, 0, 100, &x, &err), VEIL_E_INVALID);
	assert_string_equal(err.msg, "offset 2: unknown value type 0x0a (IDX has 08, 09, 0b, 0c, 0d and 0e)");
	/* a gzip stream whose content is not IDX */
	size_t zlen;
	uint8_t *z = gzip_of((const uint8_t *)"hello, world", 12, NULL, &zlen);
	assert_int_equal(read_mem(z, zlen, 0, 100, &x, &err), VEIL_E_INVALID);
	assert_string_equal(err.msg, "offset 0: not an IDX file: the magic number starts 68 65, not 00 00");
	free(z);
}

/* Builds a gzip stream of a header, `values` bytes of values and `extra`
 * zero bytes after them, streaming zeros into deflate. */
static uint8_t *gzip_zeros(const uint32_t *dims, unsigned ndims, uint64_t values, uint64_t extra,
                           size_t *zlen)
{
	uint8_t h[40];
	size_t hl = header(h, 0x08, ndims, dims);
	z_stream z = {0};
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	size_t cap = 1u << 20, len = 0;
	uint8_t *out = malloc(cap);
	static const uint8_t zeros[1 << 16];
	assert_non_null(out);
	uint64_t left = values + extra;
	z.next_in = h;
	z.avail_in = (uInt)hl;
	for (;;) {
		if (z.avail_in == 0 && left) {
			size_t k = left < sizeof zeros ? (size_t)left : sizeof zeros;
			z.next_in = (Bytef *)zeros;
			z.avail_in = (uInt)k;
			left -= k;
		}
		if (cap - len < 4096) {
			cap *= 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		z.next_out = out + len;
		z.avail_out = (uInt)(cap - len);
		int zr = deflate(&z, left || z.avail_in ? Z_NO_FLUSH : Z_FINISH);
		len = cap - z.avail_out;
		if (zr == Z_STREAM_END)
			break;
		assert_int_equal(zr, Z_OK);
	}
	deflateEnd(&z);
	*zlen = len;
	return out;
}

/* A gzip bomb: a header that claims a huge array is refused before any
 * allocation or decompression; one that claims a small array and inflates
 * to far more stops one byte past the array. */
static void test_bomb(void **state)
{
	(void)state;
	veil_err err = {0};
	veil_idx x;
	size_t zlen;
	uint32_t huge[] = {60000, 1000, 1000};
	uint8_t *z = gzip_zeros(huge, 3, 0, 1u << 20, &zlen);
	mem m = {.p = z, .len = zlen};
	assert_int_equal(veil_idx_read(mem_read, &m, 64u << 20, &x, &err), VEIL_E_LIMIT);
	assert_string_equal(err.msg,
	                    "offset 4: the dimensions describe 60000000000 bytes of values, over the "
	                    "limit of 67108864");
	assert_true(m.off <= (64u << 10) + 2); /* one input read, no more */
	free(z);

	/* 256 MiB of zeros after a 4-value array: about 256 KiB compressed */
	uint32_t four[] = {4};
	z = gzip_zeros(four, 1, 4, (uint64_t)256 << 20, &zlen);
	assert_true(zlen > (200u << 10));
	m = (mem){.p = z, .len = zlen};
	assert_int_equal(veil_idx_read(mem_read, &m, 64u << 20, &x, &err), VEIL_E_INVALID);
	assert_string_equal(
	        err.msg, "offset 12: data continues after the last value (the header accounts for 12 bytes)");
	assert_true(m.off <= (64u << 10) + 2);
	free(z);

	/* the same size of values is fine when the header says so */
	uint32_t many[] = {1u << 10, 1u << 10, 16};
	z = gzip_zeros(many, 3, (uint64_t)16 << 20, 0, &zlen);
	assert_int_equal(read_mem(z, zlen, 0, (uint64_t)16 << 20, &x, &err), VEIL_OK);
	assert_int_equal(x.values_len, 16u << 20);
	assert_int_equal(x.item_values, 16384);
	assert_int_equal(((uint8_t *)x.values)[x.values_len - 1], 0);
	veil_idx_free(&x);
	free(z);
}

/* A read error is passed on as it came, plain or gzip, wherever it strikes. */
static void test_read_error(void **state)
{
	(void)state;
	size_t len, zlen;
	uint8_t *f = sample(&len);
	uint8_t *z = gzip_of(f, len, NULL, &zlen);
	veil_err err = {0};
	veil_idx x;
	size_t at[] = {1, 3, 10, 100, 5000};
	for (size_t i = 0; i < sizeof at / sizeof *at; i++) {
		mem m = {.p = f, .len = len, .step = 7, .fail_at = at[i]};
		assert_int_equal(veil_idx_read(mem_read, &m, len, &x, &err), VEIL_E_IO);
		assert_string_equal(err.msg, "read failed");
		assert_null(x.values);
		if (at[i] < zlen) {
			m = (mem){.p = z, .len = zlen, .step = 7, .fail_at = at[i]};
			assert_int_equal(veil_idx_read(mem_read, &m, len, &x, &err), VEIL_E_IO);
			assert_null(x.values);
		}
	}
	/* the end-of-stream probe is a read too */
	mem m = {.p = f, .len = len, .fail_at = len};
	assert_int_equal(veil_idx_read(mem_read, &m, len, &x, &err), VEIL_E_IO);
	free(z);
	free(f);
}

/* Files: veil_idx_load reads plain and gzip files and names the path in errors. */
static void test_load(void **state)
{
	(void)state;
	char dir[] = "/tmp/veil-test-idx-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof path, "%s/t.idx.gz", dir);
	size_t len, zlen;
	uint8_t *f = sample(&len);
	uint8_t *z = gzip_of(f, len, NULL, &zlen);
	veil_err err = {0};
	assert_int_equal(veil_fs_write_atomic(path, z, zlen, 0600, &err), VEIL_OK);
	veil_idx x;
	assert_int_equal(veil_idx_load(path, len, &x, &err), VEIL_OK);
	check_sample(&x);
	veil_idx_free(&x);
	assert_int_equal(veil_idx_load(path, 8399, &x, &err), VEIL_E_LIMIT);
	char want[256];
	snprintf(want, sizeof want,
	         "%s: offset 4: the dimensions describe 8400 bytes of values, over the limit of 8399", path);
	assert_string_equal(err.msg, want);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(veil_idx_load(path, len, &x, &err), VEIL_E_NOTFOUND);
	assert_non_null(strstr(err.msg, path));
	assert_int_equal(rmdir(dir), 0);
	free(z);
	free(f);
}

/* The training matrix: u8 scaled to [0,1], other types converted, counts checked. */
static void test_matrix(void **state)
{
	(void)state;
	uint8_t f[64], g[64];
	veil_err err = {0};
	veil_idx im, lb;
	float *x;
	int32_t *y;
	size_t rows, cols;
	uint32_t d[] = {2, 1, 2}, dl[] = {2};
	size_t h = header(f, 0x08, 3, d);
	put(f + h, "\x00\xff\x33\x80", 4);
	assert_int_equal(read_mem(f, h + 4, 0, 64, &im, &err), VEIL_OK);
	h = header(g, 0x09, 1, dl);
	put(g + h, "\x07\xff", 2);
	assert_int_equal(read_mem(g, h + 2, 0, 64, &lb, &err), VEIL_OK);
	assert_int_equal(veil_idx_to_matrix(&im, &lb, &x, &y, &rows, &cols, &err), VEIL_OK);
	assert_int_equal(rows, 2);
	assert_int_equal(cols, 2);
	assert_true(x[0] == 0.0f && x[1] == 1.0f && x[2] == 0.2f && x[3] == 128.0f / 255.0f);
	assert_int_equal(y[0], 7);
	assert_int_equal(y[1], -1);
	free(x);
	free(y);

	/* labels of the wrong count, shape or type */
	uint32_t d3[] = {3};
	veil_idx lb3;
	h = header(g, 0x0C, 1, d3);
	put(g + h, "\0\0\0\1\0\0\0\2\xff\xff\xff\xfd", 12);
	assert_int_equal(read_mem(g, h + 12, 0, 64, &lb3, &err), VEIL_OK);
	assert_int_equal(veil_idx_to_matrix(&im, &lb3, &x, &y, &rows, &cols, &err), VEIL_E_INVALID);
	assert_string_equal(err.msg, "2 images but 3 labels");
	assert_null(x);
	assert_null(y);
	assert_int_equal(rows, 0);
	veil_idx_free(&lb3);
	assert_int_equal(veil_idx_to_matrix(&im, &im, &x, &y, &rows, &cols, &err), VEIL_E_INVALID);
	assert_string_equal(err.msg, "the labels must be a 1-dimensional array read by veil_idx_read");
	veil_idx lbf;
	h = header(g, 0x0D, 1, dl);
	put(g + h, "\x3f\x80\0\0\0\0\0\0", 8);
	assert_int_equal(read_mem(g, h + 8, 0, 64, &lbf, &err), VEIL_OK);
	assert_int_equal(veil_idx_to_matrix(&im, &lbf, &x, &y, &rows, &cols, &err), VEIL_E_INVALID);
	assert_string_equal(err.msg, "the labels are f32: class labels must be integers");

	/* f32 images: 1.0 and a NaN; f64 beyond float; i16 as is */
	veil_idx imf;
	h = header(f, 0x0D, 1, dl);
	put(f + h, "\x3f\x80\0\0\x7f\xc0\0\0", 8);
	assert_int_equal(read_mem(f, h + 8, 0, 64, &imf, &err), VEIL_OK);
	assert_int_equal(veil_idx_to_matrix(&imf, &lb, &x, &y, &rows, &cols, &err), VEIL_E_INVALID);
	assert_string_equal(err.msg, "image 1, value 0 is not a finite number");
	veil_idx_free(&imf);
	h = header(f, 0x0E, 1, dl);
	put(f + h, "\x3f\xf0\0\0\0\0\0\0\x7f\xe0\0\0\0\0\0\0", 16); /* 1.0, 2^1023 */
	assert_int_equal(read_mem(f, h + 16, 0, 64, &imf, &err), VEIL_OK);
	assert_int_equal(veil_idx_to_matrix(&imf, &lb, &x, &y, &rows, &cols, &err), VEIL_E_INVALID);
	assert_string_equal(err.msg, "image 1, value 0 is beyond float's range");
	veil_idx_free(&imf);
	h = header(f, 0x0B, 1, dl);
	put(f + h, "\x80\x00\x7f\xff", 4);
	assert_int_equal(read_mem(f, h + 4, 0, 64, &imf, &err), VEIL_OK);
	assert_int_equal(veil_idx_to_matrix(&imf, &lb, &x, &y, &rows, &cols, &err), VEIL_OK);
	assert_int_equal(cols, 1);
	assert_true(x[0] == -32768.0f && x[1] == 32767.0f);
	free(x);
	free(y);
	veil_idx_free(&imf);

	veil_idx empty = {0};
	assert_int_equal(veil_idx_to_matrix(&empty, &lb, &x, &y, &rows, &cols, &err), VEIL_E_INVALID);
	veil_idx_free(&lbf);
	veil_idx_free(&lb);
	veil_idx_free(&im);
}

/* ---- Fashion-MNIST, as Debian's dataset-fashion-mnist installs it ---- */

#define FASHION_DIR_DEFAULT "/usr/share/datasets/fashion-mnist"

typedef struct fashion_file {
	const char *name;
	uint32_t items;
	/* SHA-256 of the decompressed file (header and values), as shipped in
	 * dataset-fashion-mnist 0.0~git20200523.55506a9-1 (Debian 12): what
	 * `zcat FILE | sha256sum` prints. */
	const char *sha256;
} fashion_file;

static const fashion_file fashion[] = {
        {"train-images-idx3-ubyte.gz", 60000,
         "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"},
        {"train-labels-idx1-ubyte.gz", 60000,
         "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"},
        {"t10k-images-idx3-ubyte.gz", 10000,
         "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"},
        {"t10k-labels-idx1-ubyte.gz", 10000,
         "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"},
};

/* SHA-256 of the file as it was before compression: the header as the
 * reader parsed it, then the values (u8, so host order is file order). */
static void idx_sha256(const veil_idx *x, char hex[2 * VEIL_SHA256_LEN + 1])
{
	uint8_t h[VEIL_IDX_HEADER_MAX];
	size_t hl = header(h, x->type, x->ndims, x->dims);
	uint8_t *all = malloc(hl + x->values_len);
	assert_non_null(all);
	memcpy(all, h, hl);
	memcpy(all + hl, x->values, x->values_len);
	uint8_t md[VEIL_SHA256_LEN];
	assert_int_equal(veil_sha256(all, hl + x->values_len, md, NULL), VEIL_OK);
	veil_hex_encode(md, sizeof md, hex);
	free(all);
}

static void load_fashion(const fashion_file *ff, veil_idx *x)
{
	const char *dir = getenv("VEIL_FASHION_MNIST_DIR");
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : FASHION_DIR_DEFAULT, ff->name);
	if (access(path, R_OK) != 0)
		fail_msg("%s is missing: run scripts/deps.sh (it installs Debian's dataset-fashion-mnist)",
		         path);
	veil_err err = {0};
	veil_status st = veil_idx_load(path, VEIL_IDX_BYTES_DEFAULT, x, &err);
	if (st != VEIL_OK)
		fail_msg("%s: %s", veil_status_str(st), err.msg);
	char hex[2 * VEIL_SHA256_LEN + 1];
	idx_sha256(x, hex);
	assert_string_equal(hex, ff->sha256);
	assert_int_equal(x->type, VEIL_IDX_U8);
	assert_int_equal(x->nitems, ff->items);
}

static void test_fashion_mnist(void **state)
{
	(void)state;
	veil_idx x[4];
	for (size_t i = 0; i < 4; i++)
		load_fashion(&fashion[i], &x[i]);
	for (size_t i = 0; i < 4; i += 2) {
		/* images N x 28 x 28, labels N */
		assert_int_equal(x[i].ndims, 3);
		assert_int_equal(x[i].dims[1], 28);
		assert_int_equal(x[i].dims[2], 28);
		assert_int_equal(x[i].item_values, 784);
		assert_int_equal(x[i + 1].ndims, 1);
		float *m;
		int32_t *y;
		size_t rows, cols;
		veil_err err = {0};
		assert_int_equal(veil_idx_to_matrix(&x[i], &x[i + 1], &m, &y, &rows, &cols, &err), VEIL_OK);
		assert_int_equal(rows, fashion[i].items);
		assert_int_equal(cols, 784);
		/* ten classes of equal size (6000 per class in train, 1000 in test) */
		size_t per_class[10] = {0};
		for (size_t r = 0; r < rows; r++) {
			assert_in_range(y[r], 0, 9);
			per_class[y[r]]++;
		}
		for (int c = 0; c < 10; c++)
			assert_int_equal(per_class[c], rows / 10);
		float lo = 1, hi = 0;
		for (size_t k = 0; k < rows * cols; k++) {
			lo = m[k] < lo ? m[k] : lo;
			hi = m[k] > hi ? m[k] : hi;
		}
		assert_true(lo == 0.0f && hi == 1.0f);
		free(m);
		free(y);
	}
	for (size_t i = 0; i < 4; i++)
		veil_idx_free(&x[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_types),         cmocka_unit_test(test_shapes),
	        cmocka_unit_test(test_gzip),          cmocka_unit_test(test_truncated),
	        cmocka_unit_test(test_trailing),      cmocka_unit_test(test_gzip_corrupt),
	        cmocka_unit_test(test_dims),          cmocka_unit_test(test_bad_magic),
	        cmocka_unit_test(test_bomb),          cmocka_unit_test(test_read_error),
	        cmocka_unit_test(test_load),          cmocka_unit_test(test_matrix),
	        cmocka_unit_test(test_fashion_mnist),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
