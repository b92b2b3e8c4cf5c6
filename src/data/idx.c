/*
 * The IDX reader (veil/data_idx.h, docs/formats/idx.md): MNIST-style arrays,
 * plain or gzip-compressed.
 *
 * A `src` hands out the IDX bytes whether the stream is plain or gzip: it
 * peeks at the first two bytes, and for gzip (1f 8b) inflates with zlib
 * straight into the caller's buffer, 64 KiB of compressed input at a time.
 * The header is read and every bound checked before a byte of values is
 * allocated; the values buffer then grows with what actually arrives
 * (doubling from 1 MiB up to exactly the size the header states), so a file
 * that claims more than it holds costs only what it holds. After the last
 * value one more byte is asked for: any byte is trailing data, and for gzip
 * this also drives inflate through the member's CRC and length trailer.
 */
#include "veil/data_idx.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define IN_CHUNK    ((size_t)64 << 10)
#define GROW_MIN    ((size_t)1 << 20)
#define INFLATE_MAX ((size_t)1 << 30) /* per inflate call: avail_out is a 32-bit uInt */

typedef struct src {
	veil_read_fn rd;
	void *ctx;
	uint8_t *in;           /* IN_CHUNK bytes: compressed input, or the peeked bytes of a plain file */
	size_t in_pos, in_len; /* plain: the peeked bytes not yet handed out */
	bool eof;              /* rd returned 0 */
	bool gz, zinit, zend;  /* gzip; inflateInit2 done; Z_STREAM_END seen */
	bool ztrunc;           /* the compressed input ended before the gzip member did */
	int zerr;              /* inflate's error, reported once the bytes before it are used up */
	z_stream z;
	uint64_t pos; /* IDX bytes handed out so far: the offset in error messages */
} src;

static unsigned long long ull(uint64_t v)
{
	return (unsigned long long)v;
}

static veil_status src_read_plain(src *s, uint8_t *dst, size_t n, size_t *got, veil_err *err)
{
	size_t k = 0;
	while (k < n) {
		if (s->in_pos < s->in_len) {
			size_t c = s->in_len - s->in_pos < n - k ? s->in_len - s->in_pos : n - k;
			memcpy(dst + k, s->in + s->in_pos, c);
			s->in_pos += c;
			k += c;
			continue;
		}
		if (s->eof)
			break;
		size_t g = 0;
		veil_status st = s->rd(s->ctx, dst + k, n - k, &g, err);
		if (st != VEIL_OK)
			return st;
		if (g > n - k)
			return veil_err_set(err, VEIL_E_INTERNAL,
			                    "a read returned more bytes than asked for");
		s->eof = g == 0;
		k += g;
	}
	*got = k;
	return VEIL_OK;
}

/* Refills the compressed input when inflate has used it all. */
static veil_status refill(src *s, veil_err *err)
{
	if (s->z.avail_in > 0 || s->eof)
		return VEIL_OK;
	size_t g = 0;
	veil_status st = s->rd(s->ctx, s->in, IN_CHUNK, &g, err);
	if (st != VEIL_OK)
		return st;
	if (g > IN_CHUNK)
		return veil_err_set(err, VEIL_E_INTERNAL, "a read returned more bytes than asked for");
	s->eof = g == 0;
	s->z.next_in = s->in;
	s->z.avail_in = (uInt)g;
	return VEIL_OK;
}

static veil_status zfail(src *s, int zr, veil_err *err)
{
	unsigned long long at = s->z.total_in;
	switch (zr) {
	case Z_MEM_ERROR:
		return veil_err_set(err, VEIL_E_NOMEM, "gzip offset %llu: out of memory inflating", at);
	case Z_NEED_DICT:
		return veil_err_set(err, VEIL_E_CORRUPT,
		                    "gzip offset %llu: the stream asks for a preset dictionary", at);
	case Z_DATA_ERROR:
		veil_err_set(err, VEIL_E_CORRUPT, "gzip offset %llu: the gzip stream is damaged: %s", at,
		             s->z.msg ? s->z.msg : "invalid data");
		return veil_err_hint(err, "the compressed file is corrupt: fetch it again");
	default:
		return veil_err_set(err, VEIL_E_INTERNAL, "gzip offset %llu: zlib inflate returned %d", at,
		                    zr);
	}
}

/* Inflates up to n bytes into dst. *got < n only at the end of the member,
 * or (ztrunc set) where the compressed input ran out before it.
 *
 * An inflate error is held back while the bytes inflated before it fill the
 * request, and reported when more is asked for. inflate looks ahead by as
 * much input as it has (it may check a CRC, or a block header, with no room
 * left for output), so reporting at once would make the error depend on how
 * the stream happened to be chunked; held back, a fault of the IDX data
 * before the damaged spot (trailing values, say) is what gets reported,
 * whatever the read sizes. */
static veil_status src_read_gz(src *s, uint8_t *dst, size_t n, size_t *got, veil_err *err)
{
	size_t k = 0;
	while (k < n && !s->zend && !s->ztrunc && !s->zerr) {
		veil_status st = refill(s, err);
		if (st != VEIL_OK)
			return st;
		size_t want = n - k < INFLATE_MAX ? n - k : INFLATE_MAX;
		s->z.next_out = dst + k;
		s->z.avail_out = (uInt)want;
		int zr = inflate(&s->z, Z_NO_FLUSH);
		k += want - s->z.avail_out;
		if (zr == Z_STREAM_END)
			s->zend = true;
		else if (zr == Z_BUF_ERROR && s->eof && s->z.avail_in == 0)
			s->ztrunc = true; /* no progress is possible: the input ended inside the member */
		else if (zr != Z_OK)
			s->zerr = zr; /* Z_BUF_ERROR with input and room left too: it would loop forever */
	}
	if (k < n && s->zerr)
		return zfail(s, s->zerr, err);
	*got = k;
	return VEIL_OK;
}

/* Reads until dst is full or the IDX data ends. */
static veil_status src_read(src *s, uint8_t *dst, size_t n, size_t *got, veil_err *err)
{
	veil_status st = s->gz ? src_read_gz(s, dst, n, got, err) : src_read_plain(s, dst, n, got, err);
	if (st == VEIL_OK)
		s->pos += *got;
	return st;
}

static veil_status src_open(src *s, veil_read_fn rd, void *ctx, veil_err *err)
{
	memset(s, 0, sizeof *s);
	s->rd = rd;
	s->ctx = ctx;
	s->in = malloc(IN_CHUNK);
	if (!s->in)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory for the IDX input buffer");
	size_t g = 0;
	veil_status st = veil_read_full(rd, ctx, s->in, 2, &g, err);
	if (st != VEIL_OK)
		return st;
	s->eof = g < 2;
	if (g < 2 || s->in[0] != 0x1f || s->in[1] != 0x8b) {
		s->in_len = g;
		return VEIL_OK;
	}
	s->gz = true;
	s->z.next_in = s->in;
	s->z.avail_in = (uInt)g;
	/* 16 + 15: a gzip wrapper (not zlib, not raw deflate), with a full window. */
	int zr = inflateInit2(&s->z, 16 + MAX_WBITS);
	if (zr != Z_OK)
		return zr == Z_MEM_ERROR ? veil_err_set(err, VEIL_E_NOMEM, "out of memory for zlib")
		                         : veil_err_set(err, VEIL_E_INTERNAL, "inflateInit2 returned %d", zr);
	s->zinit = true;
	return VEIL_OK;
}

static void src_close(src *s)
{
	if (s->zinit)
		inflateEnd(&s->z);
	free(s->in);
	memset(s, 0, sizeof *s);
}

/* The IDX data has ended where the header says it should: nothing may follow,
 * and a gzip member must be complete, its trailer checked, with no byte after it. */
static veil_status src_finish(src *s, veil_err *err)
{
	uint8_t b;
	size_t g = 0;
	uint64_t end = s->pos;
	veil_status st = src_read(s, &b, 1, &g, err);
	if (st != VEIL_OK)
		return st;
	if (g) {
		veil_err_set(err, VEIL_E_INVALID,
		             "offset %llu: data continues after the last value (the header accounts for %llu "
		             "bytes)",
		             ull(end), ull(end));
		return veil_err_hint(
		        err,
		        "the dimensions in the header do not match the data: check how the file was made");
	}
	if (!s->gz)
		return VEIL_OK;
	if (s->ztrunc) {
		veil_err_set(err, VEIL_E_INVALID,
		             "gzip offset %llu: the gzip stream is truncated (it ends before its trailer)",
		             ull(s->z.total_in));
		return veil_err_hint(err, "the compressed file is incomplete: fetch it again");
	}
	if (s->z.avail_in == 0 && !s->eof) {
		st = veil_read_full(s->rd, s->ctx, s->in, 1, &g, err);
		if (st != VEIL_OK)
			return st;
		s->z.avail_in = (uInt)g;
	}
	if (s->z.avail_in > 0)
		return veil_err_set(
		        err, VEIL_E_INVALID,
		        "gzip offset %llu: data after the end of the gzip stream (one gzip member only)",
		        ull(s->z.total_in));
	return VEIL_OK;
}

size_t veil_idx_type_size(uint8_t type)
{
	switch (type) {
	case VEIL_IDX_U8:
	case VEIL_IDX_I8:
		return 1;
	case VEIL_IDX_I16:
		return 2;
	case VEIL_IDX_I32:
	case VEIL_IDX_F32:
		return 4;
	case VEIL_IDX_F64:
		return 8;
	default:
		return 0;
	}
}

const char *veil_idx_type_name(uint8_t type)
{
	switch (type) {
	case VEIL_IDX_U8:
		return "u8";
	case VEIL_IDX_I8:
		return "i8";
	case VEIL_IDX_I16:
		return "i16";
	case VEIL_IDX_I32:
		return "i32";
	case VEIL_IDX_F32:
		return "f32";
	case VEIL_IDX_F64:
		return "f64";
	default:
		return "unknown";
	}
}

/* Tells what was short: the header ends before `need` bytes at `at`. */
static veil_status short_header(uint64_t at, size_t need, size_t got, const src *s, veil_err *err)
{
	veil_err_set(err, VEIL_E_INVALID,
	             "offset %llu: truncated header: expected %zu more bytes, found %zu%s", ull(at), need,
	             got, s->ztrunc ? " (the gzip stream is cut short)" : "");
	return veil_err_hint(err, "this is not a complete IDX file");
}

/* Reads and checks the header into x; fills everything but values. */
static veil_status read_header(src *s, uint64_t max_bytes, veil_idx *x, veil_err *err)
{
	uint8_t h[VEIL_IDX_HEADER_MAX];
	size_t g = 0;
	veil_status st = src_read(s, h, 4, &g, err);
	if (st != VEIL_OK)
		return st;
	if (g < 4)
		return short_header(0, 4, g, s, err);
	if (h[0] != 0 || h[1] != 0) {
		veil_err_set(err, VEIL_E_INVALID,
		             "offset 0: not an IDX file: the magic number starts %02x %02x, not 00 00", h[0],
		             h[1]);
		return veil_err_hint(
		        err, "IDX files (MNIST and the like) start 00 00, or 1f 8b when gzip-compressed");
	}
	size_t vsize = veil_idx_type_size(h[2]);
	if (vsize == 0)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "offset 2: unknown value type 0x%02x (IDX has 08, 09, 0b, 0c, 0d and 0e)",
		                    h[2]);
	if (h[3] == 0)
		return veil_err_set(err, VEIL_E_INVALID, "offset 3: the header declares no dimensions");
	if (h[3] > VEIL_IDX_DIMS_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "offset 3: %u dimensions, over the limit of %u", h[3],
		                    VEIL_IDX_DIMS_MAX);
	x->type = h[2];
	x->ndims = h[3];
	size_t dlen = 4u * x->ndims;
	st = src_read(s, h + 4, dlen, &g, err);
	if (st != VEIL_OK)
		return st;
	if (g < dlen)
		return short_header(4, dlen, g, s, err);
	uint64_t bytes = vsize;
	for (unsigned i = 0; i < x->ndims; i++) {
		x->dims[i] = veil_get_be32(h + 4 + 4 * i);
		if (x->dims[i] == 0)
			return veil_err_set(err, VEIL_E_INVALID, "offset %u: dimension %u is 0", 4 + 4 * i,
			                    i + 1);
		if (__builtin_mul_overflow(bytes, (uint64_t)x->dims[i], &bytes))
			return veil_err_set(
			        err, VEIL_E_LIMIT,
			        "offset %u: the dimensions' product overflows 64 bits at dimension %u",
			        4 + 4 * i, i + 1);
	}
	if (bytes > max_bytes || bytes > SIZE_MAX) {
		veil_err_set(err, VEIL_E_LIMIT,
		             "offset 4: the dimensions describe %llu bytes of values, over the limit of %llu",
		             ull(bytes), ull(max_bytes));
		return veil_err_hint(err, "a larger data set needs a larger limit: is the header right?");
	}
	x->nitems = x->dims[0];
	x->values_len = (size_t)bytes;
	x->item_values = x->values_len / vsize / x->dims[0];
	return VEIL_OK;
}

/* Big-endian to host order, in place, for any host: the shifts in
 * veil_get_be* do not depend on the host's order, and compilers turn the
 * loop into byte swaps (or nothing, on a big-endian host). */
static void to_host(uint8_t *p, size_t len, size_t vsize)
{
	switch (vsize) {
	case 2:
		for (size_t i = 0; i < len; i += 2) {
			uint16_t v = veil_get_be16(p + i);
			memcpy(p + i, &v, 2);
		}
		break;
	case 4:
		for (size_t i = 0; i < len; i += 4) {
			uint32_t v = veil_get_be32(p + i);
			memcpy(p + i, &v, 4);
		}
		break;
	case 8:
		for (size_t i = 0; i < len; i += 8) {
			uint64_t v = veil_get_be64(p + i);
			memcpy(p + i, &v, 8);
		}
		break;
	default:
		break;
	}
}

/* Reads exactly x->values_len bytes of values, growing the buffer as they come. */
static veil_status read_values(src *s, veil_idx *x, veil_err *err)
{
	uint64_t start = s->pos;
	size_t have = 0, cap = 0;
	uint8_t *buf = NULL;
	while (have < x->values_len) {
		if (have == cap) {
			size_t next = cap < GROW_MIN / 2 ? GROW_MIN : cap > SIZE_MAX / 2 ? SIZE_MAX : 2 * cap;
			cap = next < x->values_len ? next : x->values_len;
			uint8_t *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return veil_err_set(err, VEIL_E_NOMEM,
				                    "out of memory for %zu bytes of IDX values", cap);
			}
			buf = nb;
		}
		size_t g = 0;
		veil_status st = src_read(s, buf + have, cap - have, &g, err);
		if (st != VEIL_OK) {
			free(buf);
			return st;
		}
		have += g;
		if (have < cap)
			break; /* the data ended */
	}
	if (have < x->values_len) {
		free(buf);
		veil_err_set(err, VEIL_E_INVALID,
		             "offset %llu: truncated: the header's dimensions need %zu bytes of values, "
		             "found %zu%s",
		             ull(start + have), x->values_len, have,
		             s->ztrunc ? " (the gzip stream is cut short)" : "");
		return veil_err_hint(err, "the file is incomplete: fetch it again");
	}
	to_host(buf, x->values_len, veil_idx_type_size(x->type));
	x->values = buf;
	return VEIL_OK;
}

veil_status veil_idx_read(veil_read_fn rd, void *ctx, uint64_t max_bytes, veil_idx *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	veil_idx x = {0};
	src s;
	veil_status st = src_open(&s, rd, ctx, err);
	if (st == VEIL_OK)
		st = read_header(&s, max_bytes, &x, err);
	if (st == VEIL_OK)
		st = read_values(&s, &x, err);
	if (st == VEIL_OK)
		st = src_finish(&s, err);
	src_close(&s);
	if (st != VEIL_OK) {
		veil_idx_free(&x);
		return st;
	}
	*out = x;
	return VEIL_OK;
}

veil_status veil_idx_load(const char *path, uint64_t max_bytes, veil_idx *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot open %s", path);
	veil_status st = veil_idx_read(veil_fd_read, &fd, max_bytes, out, err);
	close(fd);
	if (st != VEIL_OK)
		veil_err_wrap(err, "%s", path);
	return st;
}

void veil_idx_free(veil_idx *x)
{
	free(x->values);
	memset(x, 0, sizeof *x);
}

/* ---- the training matrix ---- */

/* A signed byte's value, two's complement, without a signed char in sight. */
static int32_t sbyte(uint8_t b)
{
	return (int32_t)(b ^ 0x80u) - 128;
}

/* Converts n image values to float: u8 scaled to [0,1], integers as they
 * are, floats checked finite and within float's range. */
static veil_status images_to_float(const veil_idx *im, size_t n, float *out, veil_err *err)
{
	const uint8_t *p = im->values;
	switch (im->type) {
	case VEIL_IDX_U8:
		for (size_t i = 0; i < n; i++)
			out[i] = (float)p[i] / 255.0f;
		return VEIL_OK;
	case VEIL_IDX_I8:
		for (size_t i = 0; i < n; i++)
			out[i] = (float)sbyte(p[i]);
		return VEIL_OK;
	case VEIL_IDX_I16:
		for (size_t i = 0; i < n; i++) {
			int16_t v;
			memcpy(&v, p + 2 * i, 2);
			out[i] = (float)v;
		}
		return VEIL_OK;
	case VEIL_IDX_I32:
		for (size_t i = 0; i < n; i++) {
			int32_t v;
			memcpy(&v, p + 4 * i, 4);
			out[i] = (float)v;
		}
		return VEIL_OK;
	case VEIL_IDX_F32:
	case VEIL_IDX_F64:
		for (size_t i = 0; i < n; i++) {
			double d;
			if (im->type == VEIL_IDX_F32) {
				float f;
				memcpy(&f, p + 4 * i, 4);
				d = f;
			} else {
				memcpy(&d, p + 8 * i, 8);
			}
			if (!isfinite(d) || fabs(d) > FLT_MAX)
				return veil_err_set(err, VEIL_E_INVALID, "image %zu, value %zu is %s",
				                    i / im->item_values, i % im->item_values,
				                    isfinite(d) ? "beyond float's range"
				                                : "not a finite number");
			out[i] = (float)d;
		}
		return VEIL_OK;
	default:
		return veil_err_set(err, VEIL_E_INVALID, "images of unknown type 0x%02x", im->type);
	}
}

static void labels_to_int(const veil_idx *lb, size_t n, int32_t *out)
{
	const uint8_t *p = lb->values;
	for (size_t i = 0; i < n; i++) {
		int16_t v16;
		switch (lb->type) {
		case VEIL_IDX_U8:
			out[i] = p[i];
			break;
		case VEIL_IDX_I8:
			out[i] = sbyte(p[i]);
			break;
		case VEIL_IDX_I16:
			memcpy(&v16, p + 2 * i, 2);
			out[i] = v16;
			break;
		default: /* VEIL_IDX_I32: check_shapes let no other type through */
			memcpy(&out[i], p + 4 * i, 4);
			break;
		}
	}
}

/* An array as veil_idx_read makes them: values_len agrees with the shape. */
static bool well_formed(const veil_idx *a)
{
	size_t vsize = veil_idx_type_size(a->type);
	size_t per_item;
	return a->values && vsize && a->ndims >= 1 && a->ndims <= VEIL_IDX_DIMS_MAX &&
	       a->nitems == a->dims[0] && a->nitems > 0 && a->item_values > 0 &&
	       !__builtin_mul_overflow(vsize, a->item_values, &per_item) &&
	       a->values_len / per_item == a->nitems && a->values_len % per_item == 0;
}

static veil_status check_shapes(const veil_idx *images, const veil_idx *labels, size_t *n, veil_err *err)
{
	if (!well_formed(images))
		return veil_err_set(err, VEIL_E_INVALID, "the images are not an array read by veil_idx_read");
	if (!well_formed(labels) || labels->ndims != 1)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "the labels must be a 1-dimensional array read by veil_idx_read");
	if (labels->type == VEIL_IDX_F32 || labels->type == VEIL_IDX_F64)
		return veil_err_set(err, VEIL_E_INVALID, "the labels are %s: class labels must be integers",
		                    veil_idx_type_name(labels->type));
	if (images->nitems != labels->nitems) {
		veil_err_set(err, VEIL_E_INVALID, "%llu images but %llu labels", ull(images->nitems),
		             ull(labels->nitems));
		return veil_err_hint(err, "pair an images file with its own labels file (train with train, "
		                          "test with test)");
	}
	if (__builtin_mul_overflow((size_t)images->nitems, images->item_values, n) ||
	    *n > SIZE_MAX / sizeof(float))
		return veil_err_set(err, VEIL_E_LIMIT, "the images are too large for a float matrix");
	return VEIL_OK;
}

veil_status veil_idx_to_matrix(const veil_idx *images, const veil_idx *labels, float **x, int32_t **y,
                               size_t *rows, size_t *cols, veil_err *err)
{
	*x = NULL;
	*y = NULL;
	*rows = 0;
	*cols = 0;
	size_t n = 0;
	veil_status st = check_shapes(images, labels, &n, err);
	if (st != VEIL_OK)
		return st;
	if (n == 0) /* check_shapes refuses an empty array; said again for the analyzer */
		return veil_err_set(err, VEIL_E_INTERNAL, "an empty matrix");
	float *fx = malloc(n * sizeof *fx);
	int32_t *iy = malloc((size_t)labels->nitems * sizeof *iy);
	if (!fx || !iy) {
		free(fx);
		free(iy);
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory for a %llu x %zu matrix",
		                    ull(images->nitems), images->item_values);
	}
	st = images_to_float(images, n, fx, err);
	if (st != VEIL_OK) {
		free(fx);
		free(iy);
		return st;
	}
	labels_to_int(labels, (size_t)labels->nitems, iy);
	*x = fx;
	*y = iy;
	*rows = (size_t)images->nitems;
	*cols = images->item_values;
	return VEIL_OK;
}
