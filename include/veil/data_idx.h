/*
 * veil data: the IDX format of MNIST-style data sets (src/data/idx.c,
 * docs/formats/idx.md). Included by veil/data.h.
 *
 * An IDX file is a 4-byte header (00 00, a type byte, a dimension count),
 * the dimensions as big-endian 32-bit counts, then every value big-endian in
 * row-major order. Files are often gzip-compressed (MNIST and Fashion-MNIST
 * ship as .gz); the reader recognises gzip by its first two bytes (1f 8b) and
 * inflates it as it reads, through zlib.
 *
 * The reader is bounded: at most VEIL_IDX_DIMS_MAX dimensions, none of them
 * 0, and the values' size (the product of the dimensions times the type's
 * size) must fit the caller's max_bytes, checked before anything is
 * allocated, so a small file (or a gzip bomb) that claims a huge array costs
 * nothing. The data must be exactly as long as the header says: a short file
 * and trailing bytes are both errors, and so is a gzip stream that is
 * corrupt, truncated or followed by anything.
 *
 * Errors: VEIL_E_INVALID (malformed IDX, or a gzip stream cut short or
 * followed by data), VEIL_E_LIMIT (a bound passed), VEIL_E_CORRUPT (the gzip
 * stream's deflate data or CRC is wrong), VEIL_E_NOMEM, or what the read
 * function returned. Messages start "offset N: " with N the offset in the IDX
 * data (after decompression), or "gzip offset N: " with N the offset in the
 * compressed stream for faults of the gzip layer. No message holds a value.
 */
#ifndef VEIL_DATA_IDX_H
#define VEIL_DATA_IDX_H

#include "veil/base.h"

/* The value types (the third header byte) and their sizes in bytes. */
#define VEIL_IDX_U8  0x08u /* unsigned byte, 1 */
#define VEIL_IDX_I8  0x09u /* signed byte, 1 */
#define VEIL_IDX_I16 0x0Bu /* signed, 2 */
#define VEIL_IDX_I32 0x0Cu /* signed, 4 */
#define VEIL_IDX_F32 0x0Du /* IEEE 754 binary32, 4 */
#define VEIL_IDX_F64 0x0Eu /* IEEE 754 binary64, 8 */

#define VEIL_IDX_DIMS_MAX   8u
#define VEIL_IDX_HEADER_MAX (4u + 4u * VEIL_IDX_DIMS_MAX)
/* A max_bytes for callers without a better bound: 1 GiB of values, about 20
 * times Fashion-MNIST's training images. */
#define VEIL_IDX_BYTES_DEFAULT ((uint64_t)1 << 30)

typedef struct veil_idx {
	uint8_t type;                     /* one of VEIL_IDX_U8 .. VEIL_IDX_F64 */
	unsigned ndims;                   /* 1..VEIL_IDX_DIMS_MAX */
	uint32_t dims[VEIL_IDX_DIMS_MAX]; /* dims[0..ndims), each >= 1; the rest 0 */
	uint64_t nitems;                  /* dims[0]: images, labels, ... */
	size_t item_values;               /* values per item: the product of dims[1..ndims), 1 for ndims 1 */
	void *values;                     /* nitems * item_values values of `type`, host byte order */
	size_t values_len;                /* bytes at values */
} veil_idx;

/* The size in bytes of a value of `type`; 0 for a byte that names no type. */
size_t veil_idx_type_size(uint8_t type);
/* "u8", "i8", "i16", "i32", "f32", "f64"; "unknown" for any other byte. */
const char *veil_idx_type_name(uint8_t type);

/* Reads a whole IDX stream (gzip detected) through rd/ctx into host-order
 * values, refusing anything bigger than max_bytes of values. Memory used
 * grows with the data actually read, never past max_bytes plus a 64 KiB
 * input buffer (and zlib's 32 KiB window). The caller owns *out and frees it
 * with veil_idx_free. On error *out is zeroed. */
veil_status veil_idx_read(veil_read_fn rd, void *ctx, uint64_t max_bytes, veil_idx *out,
                          veil_err *err) VEIL_MUST_CHECK;
/* veil_idx_read over the file at path; errors are prefixed with the path. */
veil_status veil_idx_load(const char *path, uint64_t max_bytes, veil_idx *out, veil_err *err) VEIL_MUST_CHECK;
/* Frees the values and zeroes *x; harmless on a zeroed struct. */
void veil_idx_free(veil_idx *x);

/* Images and labels as the float matrix the training engine uses: one row
 * per item, cols = item_values of images, row-major. u8 values are scaled to
 * [0,1] (v / 255); other types are converted as they are, and a NaN, an
 * infinity or an f64 beyond float's range is refused. labels must be 1-D of
 * an integer type; they are copied as int32 without a range check (the
 * model knows its classes). The item counts must agree. The caller frees *x
 * and *y with free(). On error *x and *y are NULL and *rows, *cols 0. */
veil_status veil_idx_to_matrix(const veil_idx *images, const veil_idx *labels, float **x, int32_t **y,
                               size_t *rows, size_t *cols, veil_err *err) VEIL_MUST_CHECK;

#endif
