/*
 * Structured fuzz target for the object container's integrity: the input is
 * not an object but a list of edits applied to genuine objects sealed once
 * (fixed DEK, object id, salt and nonce prefix), and the result is opened
 * the way veil opens a download: veil_obj_read_header, then veil_obj_open.
 *
 * Input: byte 0 picks the base object (bits 0-1), the thread count (bits
 * 2-3: 1 to 4) and the read size (bits 4-6: unlimited, or 8 << n bytes per
 * read); then 4-byte edits {op, hi, lo, v}, pos = hi << 8 | lo:
 *   op % 6 = 0 xor the byte at pos with v     3 delete the byte at pos
 *            1 truncate to pos                4 swap full chunks hi and lo
 *            2 insert v before pos            5 splice chunk hi (v odd: the
 *                                               header) of the twin object
 * The twin seals the same plaintext under another object id, so a splice
 * moves bytes that authenticate, only in the wrong object.
 *
 * Invariants (abort on violation):
 *  1. Bytes equal to a genuine object open, to exactly its plaintext.
 *  2. Any other bytes fail, with VEIL_E_CORRUPT, VEIL_E_INVALID or
 *     VEIL_E_UNSUPPORTED, and an error message.
 *  3. Whatever a failed open wrote is a prefix of the plaintext made of
 *     whole chunks: nothing unverified is ever released.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#define NBASE       4
#define NOBJ        (NBASE + 1) /* the bases, then the twin of base 0 */
#define TWIN        NBASE
#define EDITS_MAX   64
#define GROW_MAX    256 /* bytes an input may add to an object */
#define KEY_ID      "dek-fuzz-object"
#define TWIN_KEY_ID "dek-fuzz-twin"

typedef struct sealed {
	veil_buf pt, ct;
} sealed;

static sealed objs[NOBJ];
static const uint8_t obj_id[VEIL_OBJ_ID_LEN] = {0x0b, 0x1e, 0xc7};
static const uint8_t twin_id[VEIL_OBJ_ID_LEN] = {0x7a, 0x1e};
static const uint8_t salt[VEIL_OBJ_SALT_LEN] = {0x5a, 0x17};
static const uint8_t nonce_prefix[VEIL_OBJ_NONCE_PREFIX_LEN] = {0x90, 0x91, 0x92};

static void seal_one(sealed *s, size_t len, const uint8_t *id, const char *key_id)
{
	veil_obj_opts o = {.chunk_size = FUZZ_CHUNK,
	                   .threads = 1,
	                   .fixed_object_id = id,
	                   .fixed_salt = salt,
	                   .fixed_nonce_prefix = nonce_prefix};
	FUZZ_CHECK(veil_buf_reserve(&s->pt, len + 1, NULL) == VEIL_OK, "out of memory");
	for (size_t i = 0; i < len; i++)
		s->pt.data[i] = (uint8_t)(i * 31 + 7);
	s->pt.len = len;
	fuzz_mem in = {.p = s->pt.data, .len = len};
	veil_status st =
	        veil_obj_seal(fuzz_dek, key_id, &o, fuzz_mem_read, &in, fuzz_buf_write, &s->ct, NULL, NULL);
	FUZZ_CHECK(st == VEIL_OK, "cannot seal a base object");
}

static void setup(void)
{
	static bool done;
	if (done)
		return;
	/* Three chunks with a short last one; two full chunks; empty; one byte. */
	static const size_t sizes[NBASE] = {2 * FUZZ_CHUNK + 452, 2 * FUZZ_CHUNK, 0, 1};
	for (int i = 0; i < NBASE; i++)
		seal_one(&objs[i], sizes[i], obj_id, KEY_ID);
	seal_one(&objs[TWIN], sizes[0], twin_id, TWIN_KEY_ID);
	done = true;
}

/* The working copy: room for the largest base plus what edits may add. */
typedef struct work {
	uint8_t *b;
	size_t len, cap;
	size_t hlen; /* header length of the base, to locate chunks */
} work;

static bool chunk_at(const work *w, size_t k, size_t *off)
{
	const size_t full = FUZZ_CHUNK + VEIL_GCM_TAG_LEN;
	*off = w->hlen + k * full;
	return *off + full <= w->len;
}

static void swap_chunks(work *w, size_t i, size_t j)
{
	size_t a, b;
	if (i == j || !chunk_at(w, i, &a) || !chunk_at(w, j, &b))
		return;
	for (size_t k = 0; k < FUZZ_CHUNK + VEIL_GCM_TAG_LEN; k++) {
		uint8_t t = w->b[a + k];
		w->b[a + k] = w->b[b + k];
		w->b[b + k] = t;
	}
}

/* Replaces the header, or full chunk k, with the twin's (whose header is
 * shorter: its key id is). */
static void splice(work *w, size_t k, bool header)
{
	const veil_buf *t = &objs[TWIN].ct;
	const size_t full = FUZZ_CHUNK + VEIL_GCM_TAG_LEN,
	             thlen = VEIL_OBJ_HEADER_FIXED + strlen(TWIN_KEY_ID);
	size_t off = 0, n = w->hlen, src = 0, srclen = thlen;
	if (!header) {
		off = w->hlen + k * full;
		n = srclen = full;
		src = thlen + k * full;
	}
	if (off + n > w->len || src + srclen > t->len || w->len - n + srclen > w->cap)
		return;
	memmove(w->b + off + srclen, w->b + off + n, w->len - off - n);
	memcpy(w->b + off, t->data + src, srclen);
	w->len = w->len - n + srclen;
}

static void apply(work *w, const uint8_t e[4])
{
	size_t pos = (size_t)e[1] << 8 | e[2];
	uint8_t v = e[3];
	switch (e[0] % 6) {
	case 0:
		if (w->len)
			w->b[pos % w->len] ^= v;
		break;
	case 1:
		w->len = pos % (w->len + 1);
		break;
	case 2:
		if (w->len < w->cap) {
			pos %= w->len + 1;
			memmove(w->b + pos + 1, w->b + pos, w->len - pos);
			w->b[pos] = v;
			w->len++;
		}
		break;
	case 3:
		if (w->len) {
			pos %= w->len;
			memmove(w->b + pos, w->b + pos + 1, w->len - pos - 1);
			w->len--;
		}
		break;
	case 4:
		swap_chunks(w, e[1] % 4, e[2] % 4);
		break;
	case 5:
		splice(w, e[1] % 4, v & 1);
		break;
	}
}

/* The genuine object these bytes are, or -1. */
static int genuine(const work *w)
{
	for (int i = 0; i < NOBJ; i++)
		if (objs[i].ct.len == w->len && memcmp(objs[i].ct.data, w->b, w->len) == 0)
			return i;
	return -1;
}

static void open_and_check(const work *w, unsigned threads, size_t step)
{
	veil_obj_header h;
	veil_err err = {0};
	veil_buf out = {0};
	fuzz_mem in = {.p = w->b, .len = w->len, .step = step};
	veil_obj_opts o = {.threads = threads};
	veil_status st = veil_obj_read_header(fuzz_mem_read, &in, &h, &err);
	if (!st)
		st = veil_obj_open(fuzz_dek, &h, &o, fuzz_mem_read, &in, fuzz_buf_write, &out, NULL, &err);
	int g = genuine(w);
	fuzz_note(g >= 0 ? "open (genuine)" : "open (modified)", st, &err);
	if (g >= 0) {
		FUZZ_CHECK(st == VEIL_OK, "a genuine object failed to open");
		FUZZ_CHECK(out.len == objs[g].pt.len &&
		                   (out.len == 0 || memcmp(out.data, objs[g].pt.data, out.len) == 0),
		           "a genuine object opened to the wrong plaintext");
	} else {
		FUZZ_CHECK(st != VEIL_OK, "a modified object opened");
		FUZZ_CHECK(st == VEIL_E_CORRUPT || st == VEIL_E_INVALID || st == VEIL_E_UNSUPPORTED,
		           "a modified object failed with an unexpected status");
		FUZZ_CHECK(err.code == st && err.msg[0] != '\0', "a failure without an error message");
		/* Released plaintext: whole verified chunks of one base (all bases share the pattern). */
		const veil_buf *pt = &objs[0].pt;
		FUZZ_CHECK(out.len % FUZZ_CHUNK == 0 && out.len <= pt->len &&
		                   (out.len == 0 || memcmp(out.data, pt->data, out.len) == 0),
		           "a failed open released bytes that are not verified plaintext");
	}
	veil_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	uint8_t mode = size ? data[0] : 0;
	const veil_buf *base = &objs[mode & 3].ct;
	unsigned threads = 1 + ((mode >> 2) & 3);
	unsigned s = (mode >> 4) & 7;
	size_t step = s ? (size_t)8 << s : 0;

	work w = {.len = base->len, .cap = objs[0].ct.len + GROW_MAX};
	w.b = malloc(w.cap);
	FUZZ_CHECK(w.b != NULL, "out of memory");
	memcpy(w.b, base->data, base->len);
	w.hlen = VEIL_OBJ_HEADER_FIXED + strlen(KEY_ID);
	size_t nedits = size > 1 ? (size - 1) / 4 : 0;
	for (size_t i = 0; i < nedits && i < EDITS_MAX; i++)
		apply(&w, data + 1 + 4 * i);
	open_and_check(&w, threads, step);
	free(w.b);
	return 0;
}
