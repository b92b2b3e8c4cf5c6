/*
 * Tests of the encrypted object container (docs/formats/object.md): the
 * known-answer vectors shared with the independent Python reference
 * (tests/crypto/vectors/object_ref.py), round trips across sizes and thread
 * counts, an exhaustive one-byte tamper sweep, truncation, extension,
 * reordering and splicing, objects forged with the right key but in an
 * encoding the format forbids, header parsing, failing callbacks and a
 * 64 MiB stream through a pipe in bounded memory.
 *
 * `test_container --write-vectors DIR` writes the vectors as this C code
 * produces them, from the same inputs object_ref.py derives, so that the
 * reference can check them (`object_ref.py check DIR`). The tests themselves
 * only read the committed files and never run Python.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "veil/crypto.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define CS   1024u                   /* the chunk size of the small tests and the vectors */
#define STEP (CS + VEIL_GCM_TAG_LEN) /* one full chunk on disk */
#define KID  "test-dek-01"
#define HLEN (VEIL_OBJ_HEADER_FIXED + sizeof KID - 1)

/* ---- helpers ---- */

typedef struct mem_in {
	const uint8_t *p;
	size_t len, pos;
	size_t step;    /* when non-zero, hand out at most this many bytes per call */
	size_t max_req; /* the largest n the container asked for */
} mem_in;

static veil_status mem_read(void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err)
{
	mem_in *m = ctx;
	if (n > m->max_req)
		m->max_req = n;
	size_t k = m->len - m->pos;
	if (k > n)
		k = n;
	if (m->step && k > m->step)
		k = m->step;
	memcpy(buf, m->p + m->pos, k);
	m->pos += k;
	*got = k;
	return VEIL_OK;
}

static veil_status buf_write(void *ctx, const uint8_t *p, size_t n, veil_err *err)
{
	return veil_buf_append(ctx, p, n, err);
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	uint32_t x = 2463534242u ^ seed;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static const uint8_t *dek_a(void)
{
	static uint8_t k[VEIL_OBJ_DEK_LEN];
	fill(k, sizeof k, 1);
	return k;
}

static const uint8_t *dek_b(void)
{
	static uint8_t k[VEIL_OBJ_DEK_LEN];
	fill(k, sizeof k, 2);
	return k;
}

/* "veil object v1", the HKDF info label of object.md section 4 (no terminator). */
static const uint8_t info_label[14] = {'v', 'e', 'i', 'l', ' ', 'o', 'b', 'j', 'e', 'c', 't', ' ', 'v', '1'};

static const uint8_t fixed_id[VEIL_OBJ_ID_LEN] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                                  0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
static const uint8_t fixed_salt[VEIL_OBJ_SALT_LEN] = {0x5a, 0x17, 0x00, 0x01, 0x02, 0x03};
static const uint8_t fixed_np[VEIL_OBJ_NONCE_PREFIX_LEN] = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02};

static veil_obj_opts fixed_opts(unsigned threads)
{
	veil_obj_opts o = {.chunk_size = CS,
	                   .threads = threads,
	                   .fixed_object_id = fixed_id,
	                   .fixed_salt = fixed_salt,
	                   .fixed_nonce_prefix = fixed_np};
	return o;
}

static veil_obj_opts plain_opts(unsigned threads)
{
	veil_obj_opts o = {.chunk_size = CS, .threads = threads};
	return o;
}

static veil_status seal_mem(const uint8_t *dek, const char *kid, const veil_obj_opts *o, const uint8_t *pt,
                            size_t n, veil_buf *out, veil_obj_stats *stats, veil_err *err)
{
	mem_in in = {.p = pt, .len = n};
	out->len = 0;
	return veil_obj_seal(dek, kid, o, mem_read, &in, buf_write, out, stats, err);
}

/* read_header then open, as a caller would; step > 0 makes every read short. */
static veil_status open_mem_step(const uint8_t *dek, const uint8_t *ct, size_t n, unsigned threads,
                                 size_t step, veil_buf *out, veil_err *err)
{
	mem_in in = {.p = ct, .len = n, .step = step};
	veil_obj_header h;
	veil_obj_opts o = {.threads = threads};
	out->len = 0;
	veil_status st = veil_obj_read_header(mem_read, &in, &h, err);
	if (st)
		return st;
	veil_obj_stats stats;
	st = veil_obj_open(dek, &h, &o, mem_read, &in, buf_write, out, &stats, err);
	if (!st) {
		assert_int_equal(stats.plaintext_bytes, out->len);
		assert_int_equal(stats.ciphertext_bytes, n);
		assert_int_equal(in.pos, n);
	}
	return st;
}

static veil_status open_mem(const uint8_t *dek, const uint8_t *ct, size_t n, unsigned threads, veil_buf *out,
                            veil_err *err)
{
	return open_mem_step(dek, ct, n, threads, 0, out, err);
}

static size_t chunks_for(size_t n)
{
	return n == 0 ? 1 : (n + CS - 1) / CS;
}

/* A sealed object of n pattern bytes under fixed fields; the caller frees both buffers. */
static void make_object(size_t n, unsigned seed, veil_buf *pt, veil_buf *ct)
{
	veil_err err = {0};
	memset(pt, 0, sizeof *pt);
	memset(ct, 0, sizeof *ct);
	assert_int_equal(veil_buf_reserve(pt, n + 1, &err), VEIL_OK);
	fill(pt->data, n, seed);
	pt->len = n;
	veil_obj_opts o = fixed_opts(1);
	assert_int_equal(seal_mem(dek_a(), KID, &o, pt->data, n, ct, NULL, &err), VEIL_OK);
	assert_int_equal(ct->len, HLEN + n + VEIL_GCM_TAG_LEN * chunks_for(n));
}

/* Asserts that opening data fails with `code` and a message holding `needle`, and that what was
 * written is a whole-chunk prefix of the true plaintext. Returns the bytes written. */
static size_t expect_fail(const uint8_t *data, size_t n, unsigned threads, const veil_buf *pt,
                          veil_status code, const char *needle)
{
	veil_buf out = {0};
	veil_err err = {0};
	veil_status st = open_mem(dek_a(), data, n, threads, &out, &err);
	if (st != code || (needle && !strstr(err.msg, needle)))
		fail_msg("expected %s \"%s\", got %s \"%s\"", veil_status_str(code), needle ? needle : "",
		         veil_status_str(st), err.msg);
	assert_true(err.hint[0] != '\0');
	assert_int_equal(out.len % CS, 0);
	assert_true(out.len <= pt->len);
	if (out.len)
		assert_memory_equal(out.data, pt->data, out.len);
	size_t written = out.len;
	veil_buf_free(&out);
	return written;
}

/* ---- known-answer vectors (tests/crypto/vectors/vector-N.json) ---- */

#define VECTORS 7

typedef struct vec {
	char key_id[VEIL_OBJ_KEY_ID_MAX + 1];
	uint32_t chunk_size;
	uint8_t dek[32], object_id[16], salt[32], nonce_prefix[7], object_key[32];
	veil_buf plaintext, ciphertext;
} vec;

/* Finds `"key": ` in the one-pair-per-line file and returns what follows. */
static const char *field(const char *text, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\": ", key);
	const char *p = strstr(text, pat);
	if (!p)
		fail_msg("vector file has no \"%s\"", key);
	return p + strlen(pat);
}

static size_t str_field(const char *text, const char *key, const char **start)
{
	const char *p = field(text, key);
	assert_true(*p == '"');
	const char *end = strchr(p + 1, '"');
	assert_non_null(end);
	*start = p + 1;
	return (size_t)(end - p - 1);
}

static void hex_field(const char *text, const char *key, uint8_t *out, size_t n)
{
	const char *s = NULL;
	size_t len = str_field(text, key, &s);
	assert_int_equal(len, 2 * n);
	char *copy = strndup(s, len);
	veil_err err = {0};
	assert_int_equal(veil_hex_decode(copy, out, n, &err), VEIL_OK);
	free(copy);
}

static void hex_buf_field(const char *text, const char *key, veil_buf *out)
{
	const char *s = NULL;
	size_t len = str_field(text, key, &s);
	veil_err err = {0};
	memset(out, 0, sizeof *out);
	assert_int_equal(veil_buf_reserve(out, len / 2 + 1, &err), VEIL_OK);
	hex_field(text, key, out->data, len / 2);
	out->len = len / 2;
}

static void load_vector(int n, vec *v)
{
	const char *root = getenv("VEIL_SOURCE_ROOT");
	if (!root)
		fail_msg("VEIL_SOURCE_ROOT is not set: run through `meson test` or set it to the source "
		         "folder");
	char path[4096];
	snprintf(path, sizeof path, "%s/tests/crypto/vectors/vector-%d.json", root, n);
	veil_buf file = {0};
	veil_err err = {0};
	if (veil_fs_read_file(path, 1u << 20, &file, &err) != VEIL_OK)
		fail_msg("%s", err.msg);
	assert_int_equal(veil_buf_append(&file, "", 0, &err), VEIL_OK); /* NUL-terminates */
	const char *text = (const char *)file.data;
	memset(v, 0, sizeof *v);
	const char *s = NULL;
	size_t len = str_field(text, "key_id", &s);
	assert_true(len <= VEIL_OBJ_KEY_ID_MAX);
	memcpy(v->key_id, s, len);
	v->chunk_size = (uint32_t)strtoul(field(text, "chunk_size"), NULL, 10);
	hex_field(text, "dek", v->dek, sizeof v->dek);
	hex_field(text, "object_id", v->object_id, sizeof v->object_id);
	hex_field(text, "salt", v->salt, sizeof v->salt);
	hex_field(text, "nonce_prefix", v->nonce_prefix, sizeof v->nonce_prefix);
	hex_field(text, "object_key", v->object_key, sizeof v->object_key);
	hex_buf_field(text, "plaintext", &v->plaintext);
	hex_buf_field(text, "ciphertext", &v->ciphertext);
	veil_buf_free(&file);
}

static void free_vector(vec *v)
{
	veil_buf_free(&v->plaintext);
	veil_buf_free(&v->ciphertext);
}

static void test_vectors(void **state)
{
	(void)state;
	for (int n = 1; n <= VECTORS; n++) {
		vec v;
		load_vector(n, &v);
		veil_err err = {0};
		/* The per-object key, as object.md derives it. */
		uint8_t info[14 + 16], k[32];
		memcpy(info, info_label, 14);
		memcpy(info + 14, v.object_id, 16);
		assert_int_equal(veil_hkdf_sha256(v.dek, 32, v.salt, 32, info, sizeof info, k, 32, &err),
		                 VEIL_OK);
		assert_memory_equal(k, v.object_key, 32);
		unsigned threads[] = {1, 2, 3};
		for (size_t t = 0; t < 3; t++) {
			veil_obj_opts o = {.chunk_size = v.chunk_size,
			                   .threads = threads[t],
			                   .fixed_object_id = v.object_id,
			                   .fixed_salt = v.salt,
			                   .fixed_nonce_prefix = v.nonce_prefix};
			veil_buf ct = {0}, pt = {0};
			veil_obj_stats stats;
			assert_int_equal(seal_mem(v.dek, v.key_id, &o, v.plaintext.data, v.plaintext.len, &ct,
			                          &stats, &err),
			                 VEIL_OK);
			if (ct.len != v.ciphertext.len || memcmp(ct.data, v.ciphertext.data, ct.len) != 0)
				fail_msg(
				        "vector-%d: seal does not reproduce the committed bytes (threads %u)",
				        n, threads[t]);
			assert_int_equal(stats.plaintext_bytes, v.plaintext.len);
			assert_int_equal(stats.ciphertext_bytes, v.ciphertext.len);
			assert_int_equal(stats.chunks, chunks_for(v.plaintext.len));
			assert_int_equal(
			        open_mem(v.dek, v.ciphertext.data, v.ciphertext.len, threads[t], &pt, &err),
			        VEIL_OK);
			assert_int_equal(pt.len, v.plaintext.len);
			if (pt.len)
				assert_memory_equal(pt.data, v.plaintext.data, pt.len);
			veil_buf_free(&ct);
			veil_buf_free(&pt);
		}
		veil_obj_header h;
		assert_int_equal(veil_obj_parse_header(v.ciphertext.data, v.ciphertext.len, &h, &err),
		                 VEIL_OK);
		assert_string_equal(h.key_id, v.key_id);
		assert_int_equal(h.chunk_size, v.chunk_size);
		assert_memory_equal(h.salt, v.salt, 32);
		assert_int_equal(h.raw_len, VEIL_OBJ_HEADER_FIXED + strlen(v.key_id));
		free_vector(&v);
	}
}

/* ---- round trips ---- */

static void test_round_trips(void **state)
{
	(void)state;
	const size_t sizes[] = {0, 1, CS - 1, CS, CS + 1, 3 * CS, 3 * CS + 17};
	const unsigned threads[] = {1, 2, 4};
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		veil_buf pt = {0}, ref = {0};
		make_object(sizes[s], (unsigned)s + 10, &pt, &ref);
		for (size_t t = 0; t < 3; t++) {
			veil_err err = {0};
			veil_obj_opts o = fixed_opts(threads[t]);
			veil_buf ct = {0}, back = {0};
			veil_obj_stats stats;
			assert_int_equal(seal_mem(dek_a(), KID, &o, pt.data, pt.len, &ct, &stats, &err),
			                 VEIL_OK);
			assert_int_equal(ct.len, ref.len);
			assert_memory_equal(ct.data, ref.data,
			                    ct.len); /* same bytes whatever the thread count */
			assert_int_equal(stats.chunks, chunks_for(pt.len));
			assert_int_equal(stats.ciphertext_bytes, ct.len);
			assert_int_equal(open_mem(dek_a(), ct.data, ct.len, threads[t], &back, &err),
			                 VEIL_OK);
			assert_int_equal(back.len, pt.len);
			if (pt.len)
				assert_memory_equal(back.data, pt.data, pt.len);
			/* Readers that return a few bytes at a time see the same object. */
			assert_int_equal(open_mem_step(dek_a(), ct.data, ct.len, threads[t], 7, &back, &err),
			                 VEIL_OK);
			assert_int_equal(back.len, pt.len);
			if (pt.len)
				assert_memory_equal(back.data, pt.data, pt.len);
			veil_buf_free(&ct);
			veil_buf_free(&back);
		}
		veil_buf_free(&pt);
		veil_buf_free(&ref);
	}
}

static void test_short_reads_seal(void **state)
{
	(void)state;
	veil_buf pt = {0}, ref = {0}, ct = {0};
	make_object(3 * CS + 17, 5, &pt, &ref);
	veil_obj_opts o = fixed_opts(2);
	veil_err err = {0};
	mem_in in = {.p = pt.data, .len = pt.len, .step = 13};
	assert_int_equal(veil_obj_seal(dek_a(), KID, &o, mem_read, &in, buf_write, &ct, NULL, &err), VEIL_OK);
	assert_int_equal(ct.len, ref.len);
	assert_memory_equal(ct.data, ref.data, ct.len);
	veil_buf_free(&pt);
	veil_buf_free(&ref);
	veil_buf_free(&ct);
}

static void test_fresh_fields(void **state)
{
	(void)state;
	uint8_t pt[100];
	fill(pt, sizeof pt, 3);
	veil_buf a = {0}, b = {0}, back = {0};
	veil_err err = {0};
	veil_obj_opts o = plain_opts(1);
	assert_int_equal(seal_mem(dek_a(), KID, &o, pt, sizeof pt, &a, NULL, &err), VEIL_OK);
	assert_int_equal(seal_mem(dek_a(), KID, &o, pt, sizeof pt, &b, NULL, &err), VEIL_OK);
	veil_obj_header ha, hb;
	assert_int_equal(veil_obj_parse_header(a.data, a.len, &ha, &err), VEIL_OK);
	assert_int_equal(veil_obj_parse_header(b.data, b.len, &hb, &err), VEIL_OK);
	assert_memory_not_equal(ha.object_id, hb.object_id, VEIL_OBJ_ID_LEN);
	assert_memory_not_equal(ha.salt, hb.salt, VEIL_OBJ_SALT_LEN);
	assert_memory_not_equal(ha.nonce_prefix, hb.nonce_prefix, VEIL_OBJ_NONCE_PREFIX_LEN);
	assert_memory_not_equal(a.data + HLEN, b.data + HLEN, sizeof pt);
	assert_int_equal(ha.version, 1);
	assert_int_equal(ha.suite, 1);
	assert_int_equal(ha.chunk_size, CS);
	assert_string_equal(ha.key_id, KID);
	assert_int_equal(ha.raw_len, HLEN);
	assert_memory_equal(ha.raw, a.data, HLEN);
	assert_int_equal(open_mem(dek_a(), b.data, b.len, 1, &back, &err), VEIL_OK);
	assert_memory_equal(back.data, pt, sizeof pt);
	/* Default options: 64 KiB chunks, threads per core. */
	assert_int_equal(seal_mem(dek_a(), KID, NULL, pt, sizeof pt, &a, NULL, &err), VEIL_OK);
	assert_int_equal(veil_obj_parse_header(a.data, a.len, &ha, &err), VEIL_OK);
	assert_int_equal(ha.chunk_size, VEIL_OBJ_CHUNK_DEFAULT);
	assert_int_equal(open_mem(dek_a(), a.data, a.len, 0, &back, &err), VEIL_OK);
	assert_memory_equal(back.data, pt, sizeof pt);
	veil_buf_free(&a);
	veil_buf_free(&b);
	veil_buf_free(&back);
}

/* ---- tampering ---- */

/* Flips every byte of a 2.5-chunk object, one at a time, with three masks and thread counts. */
static void test_tamper_every_byte(void **state)
{
	(void)state;
	veil_buf pt = {0}, ct = {0};
	make_object(2 * CS + CS / 2, 7, &pt, &ct);
	const struct {
		uint8_t mask;
		unsigned threads;
	} passes[] = {{0x01, 1}, {0x80, 1}, {0xff, 3}};
	uint8_t *bad = malloc(ct.len);
	assert_non_null(bad);
	for (size_t p = 0; p < 3; p++) {
		for (size_t pos = 0; pos < ct.len; pos++) {
			memcpy(bad, ct.data, ct.len);
			bad[pos] ^= passes[p].mask;
			veil_buf out = {0};
			veil_err err = {0};
			veil_status st = open_mem(dek_a(), bad, ct.len, passes[p].threads, &out, &err);
			if (pos < HLEN) {
				if (st != VEIL_E_CORRUPT && st != VEIL_E_INVALID && st != VEIL_E_UNSUPPORTED)
					fail_msg("header byte %zu ^ 0x%02x: got %s \"%s\"", pos,
					         passes[p].mask, veil_status_str(st), err.msg);
				assert_int_equal(out.len, 0);
			} else {
				size_t k = (pos - HLEN) / STEP;
				char needle[32];
				snprintf(needle, sizeof needle, "chunk %zu ", k);
				if (st != VEIL_E_CORRUPT || !strstr(err.msg, needle))
					fail_msg("body byte %zu ^ 0x%02x: got %s \"%s\"", pos, passes[p].mask,
					         veil_status_str(st), err.msg);
				/* Only chunks before the damaged one were released, and only whole ones. */
				assert_true(out.len <= k * CS);
				if (passes[p].threads == 1)
					assert_int_equal(out.len, k * CS);
			}
			assert_true(err.hint[0] != '\0');
			if (out.len)
				assert_memory_equal(out.data, pt.data, out.len);
			veil_buf_free(&out);
		}
	}
	free(bad);
	veil_buf_free(&pt);
	veil_buf_free(&ct);
}

static void test_truncation(void **state)
{
	(void)state;
	const size_t sizes[] = {2 * CS + CS / 2, 3 * CS};
	for (size_t s = 0; s < 2; s++) {
		veil_buf pt = {0}, ct = {0};
		make_object(sizes[s], 8, &pt, &ct);
		size_t nch = chunks_for(sizes[s]);
		for (unsigned threads = 1; threads <= 2; threads++) {
			/* Inside the header: it cannot even be parsed. */
			const size_t in_header[] = {0, 5, 11, 12, 50, HLEN - 1};
			for (size_t i = 0; i < 6; i++) {
				veil_buf out = {0};
				veil_err err = {0};
				veil_status st =
				        open_mem(dek_a(), ct.data, in_header[i], threads, &out, &err);
				assert_true(st == VEIL_E_CORRUPT || st == VEIL_E_INVALID);
				veil_buf_free(&out);
			}
			expect_fail(ct.data, HLEN, threads, &pt, VEIL_E_CORRUPT, "chunk 0 is missing");
			/* At every chunk boundary: the last chunk left is not flagged final. */
			for (size_t j = 1; j < nch; j++) {
				char needle[64];
				snprintf(needle, sizeof needle, "ends after chunk %zu", j - 1);
				size_t w = expect_fail(ct.data, HLEN + j * STEP, threads, &pt, VEIL_E_CORRUPT,
				                       needle);
				assert_true(w <= (j - 1) * CS);
			}
			/* In the middle of chunks and tags. */
			const size_t mid[] = {HLEN + 1,
			                      HLEN + 15,
			                      HLEN + 16,
			                      HLEN + 17,
			                      HLEN + STEP / 2,
			                      HLEN + STEP + 3,
			                      ct.len - VEIL_GCM_TAG_LEN - 1,
			                      ct.len - VEIL_GCM_TAG_LEN,
			                      ct.len - 1};
			for (size_t i = 0; i < sizeof mid / sizeof mid[0]; i++)
				expect_fail(ct.data, mid[i], threads, &pt, VEIL_E_CORRUPT, "chunk");
		}
		veil_buf_free(&pt);
		veil_buf_free(&ct);
	}
}

static void test_extension(void **state)
{
	(void)state;
	const size_t sizes[] = {3 * CS, 2 * CS + CS / 2};
	for (size_t s = 0; s < 2; s++) {
		veil_buf pt = {0}, ct = {0};
		make_object(sizes[s], 9, &pt, &ct);
		bool full_final = sizes[s] % CS == 0;
		uint8_t *big = malloc(ct.len + STEP);
		assert_non_null(big);
		memcpy(big, ct.data, ct.len);
		for (unsigned threads = 1; threads <= 2; threads++) {
			/* One byte more. */
			big[ct.len] = 0;
			expect_fail(big, ct.len + 1, threads, &pt, VEIL_E_CORRUPT,
			            full_final ? "more data follows" : "chunk 2 ");
			/* A whole chunk more: a copy of chunk 1, then of the final chunk. */
			memcpy(big + ct.len, ct.data + HLEN + STEP, STEP);
			expect_fail(big, ct.len + STEP, threads, &pt, VEIL_E_CORRUPT,
			            full_final ? "more data follows" : "chunk 2 ");
			if (full_final) {
				memcpy(big + ct.len, ct.data + ct.len - STEP, STEP);
				expect_fail(big, ct.len + STEP, threads, &pt, VEIL_E_CORRUPT,
				            "more data follows");
			}
		}
		free(big);
		veil_buf_free(&pt);
		veil_buf_free(&ct);
	}
}

static void test_reorder(void **state)
{
	(void)state;
	veil_buf pt = {0}, ct = {0};
	make_object(4 * CS + 100, 11, &pt, &ct); /* four full chunks and a short final one */
	uint8_t *bad = malloc(ct.len);
	uint8_t tmp[STEP];
	assert_non_null(bad);
	for (unsigned threads = 1; threads <= 4; threads += 3) {
		/* Swap chunks a and b (a < b, both full). */
		const size_t pairs[][2] = {{0, 1}, {1, 2}, {1, 3}, {2, 3}};
		for (size_t i = 0; i < 4; i++) {
			size_t a = pairs[i][0], b = pairs[i][1];
			memcpy(bad, ct.data, ct.len);
			memcpy(tmp, bad + HLEN + a * STEP, STEP);
			memcpy(bad + HLEN + a * STEP, bad + HLEN + b * STEP, STEP);
			memcpy(bad + HLEN + b * STEP, tmp, STEP);
			char needle[32];
			snprintf(needle, sizeof needle, "chunk %zu ", a);
			size_t w = expect_fail(bad, ct.len, threads, &pt, VEIL_E_CORRUPT, needle);
			if (threads == 1)
				assert_int_equal(w, a * CS);
		}
		/* Chunk 1 replayed in place of chunk 2. */
		memcpy(bad, ct.data, ct.len);
		memcpy(bad + HLEN + 2 * STEP, ct.data + HLEN + STEP, STEP);
		expect_fail(bad, ct.len, threads, &pt, VEIL_E_CORRUPT, "chunk 2 ");
		/* Chunk 2 dropped. */
		memcpy(bad, ct.data, HLEN + 2 * STEP);
		memcpy(bad + HLEN + 2 * STEP, ct.data + HLEN + 3 * STEP, ct.len - HLEN - 3 * STEP);
		expect_fail(bad, ct.len - STEP, threads, &pt, VEIL_E_CORRUPT, "chunk 2 ");
	}
	free(bad);
	veil_buf_free(&pt);
	veil_buf_free(&ct);
}

/* Splices between two objects sealed under the same DEK. */
static void test_splice_between_objects(void **state)
{
	(void)state;
	size_t n = 3 * CS + 17;
	uint8_t *pt = malloc(n);
	assert_non_null(pt);
	fill(pt, n, 12);
	veil_buf a = {0}, b = {0}, out = {0};
	veil_err err = {0};
	veil_obj_opts o = plain_opts(1);
	assert_int_equal(seal_mem(dek_a(), KID, &o, pt, n, &a, NULL, &err), VEIL_OK);
	assert_int_equal(seal_mem(dek_a(), KID, &o, pt, n, &b, NULL, &err), VEIL_OK);
	veil_buf ptb = {.data = pt, .len = n};
	/* Chunk 1 of b into a. */
	uint8_t *bad = malloc(a.len);
	assert_non_null(bad);
	memcpy(bad, a.data, a.len);
	memcpy(bad + HLEN + STEP, b.data + HLEN + STEP, STEP);
	expect_fail(bad, a.len, 1, &ptb, VEIL_E_CORRUPT, "chunk 1 ");
	/* a's header on b's chunks. */
	memcpy(bad, a.data, HLEN);
	memcpy(bad + HLEN, b.data + HLEN, b.len - HLEN);
	expect_fail(bad, a.len, 2, &ptb, VEIL_E_CORRUPT, "chunk 0 ");
	/* Same salt and nonce prefix, different object id: the object id alone separates them. */
	veil_obj_opts f = fixed_opts(1);
	uint8_t other_id[VEIL_OBJ_ID_LEN];
	memcpy(other_id, fixed_id, sizeof other_id);
	other_id[15] ^= 1;
	veil_obj_opts g = f;
	g.fixed_object_id = other_id;
	assert_int_equal(seal_mem(dek_a(), KID, &f, pt, n, &a, NULL, &err), VEIL_OK);
	assert_int_equal(seal_mem(dek_a(), KID, &g, pt, n, &b, NULL, &err), VEIL_OK);
	memcpy(bad, a.data, a.len);
	memcpy(bad + HLEN + STEP, b.data + HLEN + STEP, STEP);
	expect_fail(bad, a.len, 1, &ptb, VEIL_E_CORRUPT, "chunk 1 ");
	/* Same key, object id, salt and nonce prefix, another key id: the header AAD separates them. */
	assert_int_equal(seal_mem(dek_a(), "test-dek-02", &f, pt, n, &b, NULL, &err), VEIL_OK);
	memcpy(bad, a.data, a.len);
	memcpy(bad + HLEN, b.data + HLEN, STEP);
	expect_fail(bad, a.len, 1, &ptb, VEIL_E_CORRUPT, "chunk 0 ");
	assert_int_equal(open_mem(dek_a(), b.data, b.len, 1, &out, &err), VEIL_OK);
	free(bad);
	free(pt);
	veil_buf_free(&a);
	veil_buf_free(&b);
	veil_buf_free(&out);
}

/* ---- objects forged with the right key: valid tags, but not the one encoding the format allows ---- */

/* Appends chunk `index` of plaintext pt[0..n) sealed under K with the given last flag, straight from
 * object.md (one-shot AES-GCM, not the container), so the test can build objects no writer would. */
static void forge_chunk(const uint8_t key[32], const veil_obj_header *h, uint32_t index, bool last,
                        const uint8_t *pt, size_t n, veil_buf *out)
{
	uint8_t nonce[12], tag[16];
	memcpy(nonce, h->nonce_prefix, 7);
	veil_put_be32(nonce + 7, index);
	nonce[11] = last ? 1 : 0;
	veil_err err = {0};
	assert_int_equal(veil_buf_reserve(out, n + 16, &err), VEIL_OK);
	assert_int_equal(
	        veil_aead_seal(key, nonce, h->raw, h->raw_len, pt, n, out->data + out->len, tag, &err),
	        VEIL_OK);
	out->len += n;
	assert_int_equal(veil_buf_append(out, tag, 16, &err), VEIL_OK);
}

static void test_forged_encodings(void **state)
{
	(void)state;
	veil_buf pt = {0}, ct = {0};
	make_object(CS, 17, &pt, &ct);
	veil_obj_header h;
	veil_err err = {0};
	assert_int_equal(veil_obj_parse_header(ct.data, ct.len, &h, &err), VEIL_OK);
	uint8_t info[30], key[32];
	memcpy(info, info_label, 14);
	memcpy(info + 14, h.object_id, 16);
	assert_int_equal(veil_hkdf_sha256(dek_a(), 32, h.salt, 32, info, 30, key, 32, &err), VEIL_OK);
	/* The forger reproduces the real object, so forge_chunk is right ... */
	veil_buf f = {0};
	assert_int_equal(veil_buf_append(&f, h.raw, h.raw_len, &err), VEIL_OK);
	forge_chunk(key, &h, 0, true, pt.data, CS, &f);
	assert_int_equal(f.len, ct.len);
	assert_memory_equal(f.data, ct.data, ct.len);
	/* ... a full chunk, then an empty final chunk (C4), is refused although every tag verifies ... */
	f.len = h.raw_len;
	forge_chunk(key, &h, 0, false, pt.data, CS, &f);
	forge_chunk(key, &h, 1, true, pt.data, 0, &f);
	expect_fail(f.data, f.len, 1, &pt, VEIL_E_CORRUPT, "chunk 1 is an empty final chunk");
	/* ... as are two chunks both flagged final ... */
	f.len = h.raw_len;
	forge_chunk(key, &h, 0, true, pt.data, CS, &f);
	forge_chunk(key, &h, 1, true, pt.data, 10, &f);
	expect_fail(f.data, f.len, 2, &pt, VEIL_E_CORRUPT,
	            "chunk 0 is the object's final chunk but more data");
	/* ... and an object whose only chunk is not flagged final. */
	f.len = h.raw_len;
	forge_chunk(key, &h, 0, false, pt.data, 100, &f);
	expect_fail(f.data, f.len, 1, &pt, VEIL_E_CORRUPT, "ends after chunk 0");
	veil_wipe(key, sizeof key);
	veil_buf_free(&f);
	veil_buf_free(&pt);
	veil_buf_free(&ct);
}

/* With chunks in flight on several threads, the error reported is the lowest-numbered chunk's, even
 * when a later chunk's failure is found first: here the cut inside chunk 5 is seen while reading,
 * long before chunk 1 (1 MiB) has been decrypted. */
static void test_lowest_error_wins(void **state)
{
	(void)state;
	const uint32_t big = 1u << 20;
	size_t n = 6 * (size_t)big;
	uint8_t *pt = malloc(n);
	assert_non_null(pt);
	fill(pt, n, 18);
	veil_buf ct = {0}, out = {0};
	veil_err err = {0};
	veil_obj_opts o = {.chunk_size = big, .threads = 4};
	assert_int_equal(seal_mem(dek_a(), KID, &o, pt, n, &ct, NULL, &err), VEIL_OK);
	ct.data[HLEN + big + 16 + 100] ^= 1;            /* damage chunk 1 */
	size_t cut = HLEN + 5 * ((size_t)big + 16) + 7; /* chunk 5 shorter than its tag */
	for (int r = 0; r < 5; r++) {
		assert_int_equal(open_mem(dek_a(), ct.data, cut, 4, &out, &err), VEIL_E_CORRUPT);
		if (!strstr(err.msg, "chunk 1 failed"))
			fail_msg("run %d reported \"%s\"", r, err.msg);
		assert_true(out.len <= big);
	}
	free(pt);
	veil_buf_free(&ct);
	veil_buf_free(&out);
}

static void test_wrong_dek(void **state)
{
	(void)state;
	const size_t sizes[] = {0, 1, 3 * CS};
	for (size_t s = 0; s < 3; s++) {
		veil_buf pt = {0}, ct = {0}, out = {0};
		veil_err err = {0};
		make_object(sizes[s], 13, &pt, &ct);
		assert_int_equal(open_mem(dek_b(), ct.data, ct.len, 2, &out, &err), VEIL_E_CORRUPT);
		assert_non_null(strstr(err.msg, "chunk 0 failed authentication"));
		assert_non_null(strstr(err.hint, "key"));
		assert_int_equal(out.len, 0);
		veil_buf_free(&pt);
		veil_buf_free(&ct);
		veil_buf_free(&out);
	}
}

/* The header a caller passes to open is re-parsed from its raw bytes: editing the parsed fields has no
 * effect, editing the raw bytes fails. */
static void test_open_uses_raw_header(void **state)
{
	(void)state;
	veil_buf pt = {0}, ct = {0}, out = {0};
	veil_err err = {0};
	make_object(2 * CS, 14, &pt, &ct);
	veil_obj_header h;
	assert_int_equal(veil_obj_parse_header(ct.data, ct.len, &h, &err), VEIL_OK);
	assert_int_equal(h.raw_len, HLEN); /* trailing chunk bytes are not part of the header */
	h.chunk_size = 4096;
	h.salt[0] ^= 1;
	mem_in in = {.p = ct.data + HLEN, .len = ct.len - HLEN};
	assert_int_equal(veil_obj_open(dek_a(), &h, NULL, mem_read, &in, buf_write, &out, NULL, &err),
	                 VEIL_OK);
	assert_int_equal(out.len, pt.len);
	h.raw[40] ^= 1;
	in.pos = 0;
	out.len = 0;
	assert_int_equal(veil_obj_open(dek_a(), &h, NULL, mem_read, &in, buf_write, &out, NULL, &err),
	                 VEIL_E_CORRUPT);
	h.raw_len = sizeof h.raw + 1;
	assert_int_equal(veil_obj_open(dek_a(), &h, NULL, mem_read, &in, buf_write, &out, NULL, &err),
	                 VEIL_E_INVALID);
	veil_buf_free(&pt);
	veil_buf_free(&ct);
	veil_buf_free(&out);
}

/* ---- header parsing: each malformed field has its own message ---- */

static void test_header_errors(void **state)
{
	(void)state;
	const struct {
		const char *what;
		int off, val, off2, val2;
		int len; /* -1: the whole header */
		veil_status code;
		const char *needle;
	} cases[] = {
	        {"magic", 0, 'X', -1, 0, -1, VEIL_E_INVALID, "bad magic"},
	        {"magic NUL", 7, '!', -1, 0, -1, VEIL_E_INVALID, "bad magic"},
	        {"not ours, short", 0, 'h', -1, 0, 5, VEIL_E_INVALID, "bad magic"},
	        {"version 2", 8, 2, -1, 0, -1, VEIL_E_UNSUPPORTED, "format version 2"},
	        {"version 0", 8, 0, -1, 0, -1, VEIL_E_UNSUPPORTED, "format version 0"},
	        {"suite 2", 9, 2, -1, 0, -1, VEIL_E_UNSUPPORTED, "cipher suite 2"},
	        {"header length", 11, HLEN + 1, -1, 0, -1, VEIL_E_INVALID, "header length"},
	        {"header length high", 10, 1, -1, 0, -1, VEIL_E_INVALID, "header length"},
	        {"chunk size 1023", 14, 0x03, 15, 0xff, -1, VEIL_E_INVALID, "chunk size 1023"},
	        {"chunk size 0", 14, 0, -1, 0, -1, VEIL_E_INVALID, "chunk size 0"},
	        {"chunk size > max", 12, 1, -1, 0, -1, VEIL_E_INVALID, "chunk size 16778240"},
	        {"reserved", 19, 1, -1, 0, -1, VEIL_E_INVALID, "reserved"},
	        {"reserved high", 16, 0x80, -1, 0, -1, VEIL_E_INVALID, "reserved"},
	        {"key id length 0", 75, 0, -1, 0, -1, VEIL_E_INVALID, "key id length 0"},
	        {"key id length 65", 75, 65, 11, 76 + 65, -1, VEIL_E_INVALID, "key id length 65"},
	        {"key id space", 76, ' ', -1, 0, -1, VEIL_E_INVALID, "key id byte 1 "},
	        {"key id DEL", 86, 0x7f, -1, 0, -1, VEIL_E_INVALID, "key id byte 11 "},
	        {"key id high bit", 80, 0xc3, -1, 0, -1, VEIL_E_INVALID, "key id byte 5 "},
	        {"key id NUL", 77, 0, -1, 0, -1, VEIL_E_INVALID, "key id byte 2 "},
	        {"empty", -1, 0, -1, 0, 0, VEIL_E_INVALID, "empty"},
	        {"cut in magic", -1, 0, -1, 0, 5, VEIL_E_CORRUPT, "truncated"},
	        {"cut in preamble", -1, 0, -1, 0, 10, VEIL_E_CORRUPT, "truncated"},
	        {"cut in fixed part", -1, 0, -1, 0, 50, VEIL_E_CORRUPT, "truncated"},
	        {"cut in key id", -1, 0, -1, 0, HLEN - 1, VEIL_E_CORRUPT, "truncated"},
	};
	veil_buf pt = {0}, ct = {0};
	make_object(10, 15, &pt, &ct);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t b[VEIL_OBJ_HEADER_MAX + 64];
		memset(b, 'x', sizeof b);
		memcpy(b, ct.data, HLEN);
		if (cases[i].off >= 0)
			b[cases[i].off] = (uint8_t)cases[i].val;
		if (cases[i].off2 >= 0)
			b[cases[i].off2] = (uint8_t)cases[i].val2;
		size_t len = cases[i].len < 0 ? HLEN : (size_t)cases[i].len;
		veil_obj_header h;
		veil_err err = {0};
		veil_status st = veil_obj_parse_header(b, len, &h, &err);
		if (st != cases[i].code || !strstr(err.msg, cases[i].needle))
			fail_msg("%s: parse gave %s \"%s\"", cases[i].what, veil_status_str(st), err.msg);
		assert_true(err.hint[0] != '\0');
		assert_int_equal(h.raw_len, 0);
		/* The streaming reader reaches the same verdict. */
		memset(&err, 0, sizeof err);
		mem_in in = {.p = b, .len = len, .step = 3};
		st = veil_obj_read_header(mem_read, &in, &h, &err);
		if (st != cases[i].code || !strstr(err.msg, cases[i].needle))
			fail_msg("%s: read gave %s \"%s\"", cases[i].what, veil_status_str(st), err.msg);
		assert_int_equal(h.raw_len, 0);
	}
	/* And the untouched header parses, with or without trailing bytes, and with a NULL err. */
	veil_obj_header h;
	assert_int_equal(veil_obj_parse_header(ct.data, HLEN, &h, NULL), VEIL_OK);
	assert_int_equal(veil_obj_parse_header(ct.data, ct.len, &h, NULL), VEIL_OK);
	assert_int_equal(veil_obj_parse_header(ct.data, HLEN - 1, &h, NULL), VEIL_E_CORRUPT);
	veil_buf_free(&pt);
	veil_buf_free(&ct);
}

static void test_seal_arguments(void **state)
{
	(void)state;
	char kid64[65], kid65[66];
	memset(kid64, 'k', 64);
	kid64[64] = '\0';
	memset(kid65, 'k', 65);
	kid65[65] = '\0';
	const struct {
		const char *kid;
		uint32_t cs;
		unsigned threads;
		const char *needle;
	} bad[] = {
	        {NULL, CS, 1, "key id"},
	        {"", CS, 1, "key id"},
	        {kid65, CS, 1, "key id"},
	        {"has space", CS, 1, "character 4 "},
	        {"tab\there", CS, 1, "character 4 "},
	        {"caf\xc3\xa9", CS, 1, "character 4 "},
	        {KID, CS - 1, 1, "chunk size 1023"},
	        {KID, VEIL_OBJ_CHUNK_MAX + 1, 1, "chunk size"},
	        {KID, CS, 65, "threads"},
	};
	uint8_t pt[10] = {0};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		veil_buf ct = {0};
		veil_err err = {0};
		veil_obj_opts o = {.chunk_size = bad[i].cs, .threads = bad[i].threads};
		veil_obj_stats stats = {1, 1, 1};
		assert_int_equal(seal_mem(dek_a(), bad[i].kid, &o, pt, sizeof pt, &ct, &stats, &err),
		                 VEIL_E_INVALID);
		if (!strstr(err.msg, bad[i].needle))
			fail_msg("case %zu: \"%s\" does not mention \"%s\"", i, err.msg, bad[i].needle);
		assert_true(err.hint[0] != '\0');
		assert_int_equal(stats.chunks, 0);
		veil_buf_free(&ct);
	}
	/* The limits themselves are accepted. */
	const uint32_t sizes[] = {VEIL_OBJ_CHUNK_MIN, VEIL_OBJ_CHUNK_MAX};
	for (size_t i = 0; i < 2; i++) {
		veil_buf ct = {0}, out = {0};
		veil_err err = {0};
		veil_obj_opts o = {.chunk_size = sizes[i], .threads = 2};
		assert_int_equal(seal_mem(dek_a(), kid64, &o, pt, sizeof pt, &ct, NULL, &err), VEIL_OK);
		assert_int_equal(open_mem(dek_a(), ct.data, ct.len, 2, &out, &err), VEIL_OK);
		assert_int_equal(out.len, sizeof pt);
		veil_buf_free(&ct);
		veil_buf_free(&out);
	}
	veil_err err = {0};
	assert_int_equal(veil_obj_seal(NULL, KID, NULL, mem_read, NULL, buf_write, NULL, NULL, &err),
	                 VEIL_E_INVALID);
	veil_obj_header h;
	assert_int_equal(veil_obj_read_header(NULL, NULL, &h, &err), VEIL_E_INVALID);
}

/* ---- failing callbacks ---- */

typedef struct flaky {
	mem_in in;
	size_t fail_at; /* the reader fails once this many bytes are out */
	int writes, fail_write;
	veil_buf out;
} flaky;

static veil_status flaky_read(void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err)
{
	flaky *f = ctx;
	if (f->in.pos >= f->fail_at)
		return veil_err_set(err, VEIL_E_IO, "disk on fire");
	if (n > f->fail_at - f->in.pos)
		n = f->fail_at - f->in.pos;
	return mem_read(&f->in, buf, n, got, err);
}

static veil_status flaky_write(void *ctx, const uint8_t *p, size_t n, veil_err *err)
{
	flaky *f = ctx;
	if (f->writes++ == f->fail_write)
		return veil_err_set(err, VEIL_E_NOSPACE, "disk full");
	return veil_buf_append(&f->out, p, n, err);
}

static void test_callback_failures(void **state)
{
	(void)state;
	veil_buf pt = {0}, ct = {0};
	make_object(8 * CS, 16, &pt, &ct);
	for (unsigned threads = 1; threads <= 4; threads *= 2) {
		veil_obj_opts o = fixed_opts(threads);
		veil_err err = {0};
		/* Seal: the input fails inside chunk 3, then the output fails on chunk 2 (write 0 is the
		 * header). */
		flaky f = {.in = {.p = pt.data, .len = pt.len}, .fail_at = 3 * CS + 5, .fail_write = -1};
		assert_int_equal(veil_obj_seal(dek_a(), KID, &o, flaky_read, &f, flaky_write, &f, NULL, &err),
		                 VEIL_E_IO);
		assert_non_null(strstr(err.msg, "cannot read chunk 3: disk on fire"));
		veil_buf_free(&f.out);
		f = (flaky){.in = {.p = pt.data, .len = pt.len}, .fail_at = SIZE_MAX, .fail_write = 3};
		assert_int_equal(veil_obj_seal(dek_a(), KID, &o, flaky_read, &f, flaky_write, &f, NULL, &err),
		                 VEIL_E_NOSPACE);
		assert_non_null(strstr(err.msg, "cannot write chunk 2: disk full"));
		veil_buf_free(&f.out);
		f = (flaky){.in = {.p = pt.data, .len = pt.len}, .fail_at = SIZE_MAX, .fail_write = 0};
		assert_int_equal(veil_obj_seal(dek_a(), KID, &o, flaky_read, &f, flaky_write, &f, NULL, &err),
		                 VEIL_E_NOSPACE);
		assert_non_null(strstr(err.msg, "header"));
		veil_buf_free(&f.out);
		/* Open: the same two failures. */
		veil_obj_header h;
		assert_int_equal(veil_obj_parse_header(ct.data, ct.len, &h, &err), VEIL_OK);
		f = (flaky){.in = {.p = ct.data + HLEN, .len = ct.len - HLEN},
		            .fail_at = 5 * STEP + 1,
		            .fail_write = -1};
		assert_int_equal(veil_obj_open(dek_a(), &h, &o, flaky_read, &f, flaky_write, &f, NULL, &err),
		                 VEIL_E_IO);
		assert_non_null(strstr(err.msg, "chunk 5: disk on fire"));
		veil_buf_free(&f.out);
		f = (flaky){.in = {.p = ct.data + HLEN, .len = ct.len - HLEN},
		            .fail_at = SIZE_MAX,
		            .fail_write = 6};
		assert_int_equal(veil_obj_open(dek_a(), &h, &o, flaky_read, &f, flaky_write, &f, NULL, &err),
		                 VEIL_E_NOSPACE);
		assert_non_null(strstr(err.msg, "cannot write chunk 6: disk full"));
		assert_int_equal(f.out.len, 6 * CS);
		veil_buf_free(&f.out);
	}
	veil_buf_free(&pt);
	veil_buf_free(&ct);
}

/* ---- a large stream in bounded memory ---- */

#define STREAM_BYTES (64u << 20)

typedef struct gen {
	uint64_t left, x;
	size_t max_req;
	veil_hash_ctx *hash; /* of everything generated */
} gen;

static veil_status gen_read(void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err)
{
	gen *g = ctx;
	if (n > g->max_req)
		g->max_req = n;
	if (n > g->left)
		n = (size_t)g->left;
	if (n > 40000) /* odd-sized reads, never aligned with chunks */
		n = 40000;
	for (size_t i = 0; i < n; i++) {
		g->x = g->x * 6364136223846793005u + 1442695040888963407u;
		buf[i] = (uint8_t)(g->x >> 56);
	}
	g->left -= n;
	*got = n;
	return veil_hash_update(g->hash, buf, n, err);
}

typedef struct counted_fd {
	int fd;
	size_t max_req;
} counted_fd;

static veil_status counted_read(void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err)
{
	counted_fd *c = ctx;
	if (n > c->max_req)
		c->max_req = n;
	return veil_fd_read(&c->fd, buf, n, got, err);
}

static veil_status hash_write(void *ctx, const uint8_t *p, size_t n, veil_err *err)
{
	return veil_hash_update(ctx, p, n, err);
}

typedef struct sealer {
	int fd;
	gen g;
	veil_status st;
	veil_obj_stats stats;
	veil_err err;
} sealer;

static void *seal_thread(void *arg)
{
	sealer *s = arg;
	veil_obj_opts o = {.threads = 2};
	s->st = veil_obj_seal(dek_a(), KID, &o, gen_read, &s->g, veil_fd_write, &s->fd, &s->stats, &s->err);
	close(s->fd); /* end of stream for the reader */
	return NULL;
}

static long max_rss_kib(void)
{
	struct rusage ru;
	assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

static void test_stream_64mib(void **state)
{
	(void)state;
	long rss_before = max_rss_kib();
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	veil_err err = {0};
	sealer s = {.fd = fds[1], .g = {.left = STREAM_BYTES, .x = 42}};
	assert_int_equal(veil_hash_init(&s.g.hash, VEIL_HASH_SHA256, &err), VEIL_OK);
	pthread_t tid;
	assert_int_equal(pthread_create(&tid, NULL, seal_thread, &s), 0);

	counted_fd in = {.fd = fds[0]};
	veil_hash_ctx *out_hash = NULL;
	assert_int_equal(veil_hash_init(&out_hash, VEIL_HASH_SHA256, &err), VEIL_OK);
	veil_obj_header h;
	assert_int_equal(veil_obj_read_header(counted_read, &in, &h, &err), VEIL_OK);
	veil_obj_opts o = {.threads = 2};
	veil_obj_stats stats;
	veil_status st =
	        veil_obj_open(dek_a(), &h, &o, counted_read, &in, hash_write, out_hash, &stats, &err);
	close(fds[0]);
	pthread_join(tid, NULL);
	if (st || s.st)
		fail_msg("open: %s; seal: %s", err.msg, s.err.msg);

	uint8_t a[32], b[32];
	assert_int_equal(veil_hash_final(s.g.hash, a, &err), VEIL_OK);
	assert_int_equal(veil_hash_final(out_hash, b, &err), VEIL_OK);
	assert_memory_equal(a, b, 32);
	assert_int_equal(stats.plaintext_bytes, STREAM_BYTES);
	assert_int_equal(s.stats.plaintext_bytes, STREAM_BYTES);
	assert_int_equal(stats.chunks, STREAM_BYTES / VEIL_OBJ_CHUNK_DEFAULT);
	assert_int_equal(stats.ciphertext_bytes, s.stats.ciphertext_bytes);
	/* The container never asks for more than one chunk at a time ... */
	assert_true(s.g.max_req <= VEIL_OBJ_CHUNK_DEFAULT);
	assert_true(in.max_req <= VEIL_OBJ_CHUNK_DEFAULT + VEIL_GCM_TAG_LEN);
	/* ... and the process did not grow by anything like the stream's size. */
	long grown_kib = max_rss_kib() - rss_before;
	if (grown_kib > 16 * 1024)
		fail_msg("peak memory grew by %ld KiB while streaming 64 MiB", grown_kib);
}

/* ---- `--write-vectors DIR`: the vectors as this implementation computes them ---- */

static const struct {
	int n;
	size_t len;
	const char *key_id, *desc;
} vector_defs[VECTORS] = {
        {1, 0, "test-dek-01", "empty plaintext: one chunk of 0 bytes, flagged final"},
        {2, 1, "test-dek-01", "one byte"},
        {3, 1024, "test-dek-01", "exactly one full chunk, which is final"},
        {4, 1025, "test-dek-01", "one full chunk and a final chunk of 1 byte"},
        {5, 3072, "test-dek-01", "three full chunks, the third final"},
        {6, 2560, "test-dek-01", "two full chunks and a final half chunk"},
        {7, 100, "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk-max-len",
         "a key id of the maximum 64 characters"},
};

/* object_ref.py's label(): SHA-256("veil object vector N WHAT"), first size bytes. */
static int label(int n, const char *what, uint8_t *out, size_t size)
{
	char text[64];
	uint8_t d[32];
	int len = snprintf(text, sizeof text, "veil object vector %d %s", n, what);
	if (veil_sha256(text, (size_t)len, d, NULL) != VEIL_OK)
		return -1;
	memcpy(out, d, size);
	return 0;
}

static void put_hex(FILE *f, const char *key, const uint8_t *p, size_t n, bool comma)
{
	fprintf(f, "  \"%s\": \"", key);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
	fprintf(f, "\"%s\n", comma ? "," : "");
}

static int write_vector(const char *dir, int k)
{
	int n = vector_defs[k].n;
	uint8_t dek[32], id[16], salt[32], np[7], key[32], info[30];
	uint8_t pt[4096];
	for (int i = 0; i < 32; i++)
		dek[i] = (uint8_t)i;
	for (size_t j = 0; j < vector_defs[k].len; j++)
		pt[j] = (uint8_t)(j % 251);
	if (label(n, "object id", id, 16) || label(n, "salt", salt, 32) || label(n, "nonce prefix", np, 7))
		return -1;
	memcpy(info, info_label, 14);
	memcpy(info + 14, id, 16);
	veil_buf ct = {0};
	veil_obj_opts o = {.chunk_size = CS,
	                   .threads = 1,
	                   .fixed_object_id = id,
	                   .fixed_salt = salt,
	                   .fixed_nonce_prefix = np};
	mem_in in = {.p = pt, .len = vector_defs[k].len};
	if (veil_hkdf_sha256(dek, 32, salt, 32, info, 30, key, 32, NULL) ||
	    veil_obj_seal(dek, vector_defs[k].key_id, &o, mem_read, &in, buf_write, &ct, NULL, NULL))
		return -1;
	char path[4096];
	snprintf(path, sizeof path, "%s/vector-%d.json", dir, n);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "{\n  \"name\": \"vector-%d\",\n  \"description\": \"%s\",\n", n, vector_defs[k].desc);
	put_hex(f, "dek", dek, 32, true);
	fprintf(f, "  \"key_id\": \"%s\",\n", vector_defs[k].key_id);
	put_hex(f, "object_id", id, 16, true);
	put_hex(f, "salt", salt, 32, true);
	put_hex(f, "nonce_prefix", np, 7, true);
	fprintf(f, "  \"chunk_size\": %u,\n", CS);
	put_hex(f, "plaintext", pt, vector_defs[k].len, true);
	put_hex(f, "object_key", key, 32, true);
	put_hex(f, "ciphertext", ct.data, ct.len, false);
	fprintf(f, "}\n");
	veil_buf_free(&ct);
	return fclose(f) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (veil_crypto_init(NULL) != VEIL_OK)
		return 1;
	signal(SIGPIPE, SIG_IGN); /* a failed stream test must fail, not kill the run */
	if (argc == 3 && strcmp(argv[1], "--write-vectors") == 0) {
		for (int k = 0; k < VECTORS; k++) {
			if (write_vector(argv[2], k) != 0) {
				fprintf(stderr, "cannot write vector %d into %s\n", k + 1, argv[2]);
				return 1;
			}
		}
		return 0;
	}
	const struct CMUnitTest tests[] = {
	        /* First, so that the peak-memory check is not masked by earlier tests. */
	        cmocka_unit_test(test_stream_64mib),      cmocka_unit_test(test_vectors),
	        cmocka_unit_test(test_round_trips),       cmocka_unit_test(test_short_reads_seal),
	        cmocka_unit_test(test_fresh_fields),      cmocka_unit_test(test_tamper_every_byte),
	        cmocka_unit_test(test_truncation),        cmocka_unit_test(test_extension),
	        cmocka_unit_test(test_reorder),           cmocka_unit_test(test_splice_between_objects),
	        cmocka_unit_test(test_wrong_dek),         cmocka_unit_test(test_forged_encodings),
	        cmocka_unit_test(test_lowest_error_wins), cmocka_unit_test(test_open_uses_raw_header),
	        cmocka_unit_test(test_header_errors),     cmocka_unit_test(test_seal_arguments),
	        cmocka_unit_test(test_callback_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
