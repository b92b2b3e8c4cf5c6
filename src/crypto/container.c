/*
 * The encrypted object container (docs/formats/object.md): a header that
 * names the data-encryption key without holding it, then AES-256-GCM chunks
 * under a per-object key from HKDF-SHA-256. Each chunk's nonce carries its
 * index and a last-chunk flag and its AAD is the whole header, so editing,
 * truncating, extending, reordering or splicing an object all fail to
 * authenticate.
 *
 * Streaming in constant memory: each thread owns one buffer of
 * chunk_size + 16 bytes and one EVP_CIPHER_CTX keyed once. Threads take
 * chunks in order under a read lock, encrypt or decrypt them in place in
 * parallel, and write them back in order; with one thread no thread is
 * started. The last flag needs one byte of look-ahead, which is carried
 * from the thread that read it to the thread that reads the next chunk.
 *
 * Opening releases each chunk's plaintext as soon as that chunk verifies,
 * so on any error the caller must discard what it was given: write to a
 * temporary file and commit only on success.
 */
#include "veil/crypto.h"

#include <assert.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Header layout (object.md section 3); all integers big-endian. */
enum {
	OFF_MAGIC = 0,
	OFF_VERSION = 8,
	OFF_SUITE = 9,
	OFF_HLEN = 10,
	OFF_CHUNK = 12,
	OFF_RESERVED = 16,
	OFF_OBJID = 20,
	OFF_SALT = OFF_OBJID + VEIL_OBJ_ID_LEN,
	OFF_NONCE = OFF_SALT + VEIL_OBJ_SALT_LEN,
	OFF_KIDLEN = OFF_NONCE + VEIL_OBJ_NONCE_PREFIX_LEN,
	OFF_KID = OFF_KIDLEN + 1,
	/* Enough to read magic, version, suite and header length. */
	PREAMBLE_LEN = 12,
};

#define OBJ_VERSION      1
#define OBJ_SUITE        1
#define INFO_LABEL       "veil object v1"
#define INFO_LABEL_LEN   (sizeof INFO_LABEL - 1)
#define TAG_LEN          VEIL_GCM_TAG_LEN
#define THREADS_AUTO_MAX 8u
#define THREADS_MAX      64u
/* Bounded busy-wait before sleeping on a lock or on the write turn: when every thread has a core, a
 * neighbour is usually about to finish, and sleeping then waking costs microseconds, a good part of
 * the time one chunk takes. 128 pauses last 1 to 10 microseconds depending on the CPU. */
#define SPIN_ROUNDS 128

static_assert(OFF_KID == VEIL_OBJ_HEADER_FIXED, "header offsets add up to the fixed length");
static_assert(OFF_SALT == 36 && OFF_NONCE == 68 && OFF_KIDLEN == 75, "offsets match object.md");
static_assert(VEIL_OBJ_NONCE_PREFIX_LEN + 4 + 1 == VEIL_GCM_NONCE_LEN, "nonce = prefix || index || flag");
static_assert(VEIL_OBJ_HEADER_MAX <= UINT16_MAX, "header length fits its u16 field");
static_assert(VEIL_OBJ_CHUNK_MAX + TAG_LEN <= INT_MAX, "a chunk fits EVP's int lengths");
static_assert(INFO_LABEL_LEN == 14, "info label as object.md spells it");

static const uint8_t obj_magic[8] = {'V', 'E', 'I', 'L', 'O', 'B', 'J', 0};

#define HINT_HEADER "check that the input is a veil object and was not cut or damaged in transfer"
#define HINT_NEWER  "the object was written by a newer veil; upgrade veil to read it"
#define HINT_TAMPER                                                                                          \
	"the object was damaged or tampered with, or the key its key id names is not the one it was sealed " \
	"with; discard any output written so far and fetch the object again from a trusted copy"

/* ---- header ---- */

static bool printable(uint8_t c)
{
	return c >= 0x21 && c <= 0x7e;
}

/* Sets the hint of an error already set and returns its code (err may be NULL). */
static veil_status hinted(veil_err *err, veil_status code, const char *hint)
{
	veil_err_hint(err, "%s", hint);
	return code;
}

/*
 * Checks the fixed part of a header (object.md section 5, checks H1-H10, in
 * that order) from the first len bytes and reports the whole header's
 * length. Needs only the fixed 76 bytes, so a streaming reader learns how
 * much more to read.
 */
static veil_status parse_fixed(const uint8_t *b, size_t len, size_t *hlen, veil_err *err)
{
	const veil_status inv = VEIL_E_INVALID, unsup = VEIL_E_UNSUPPORTED, cut = VEIL_E_CORRUPT;
	if (len == 0) {
		veil_err_set(err, inv, "object header: the input is empty, not a veil object");
		return hinted(err, inv, HINT_HEADER);
	}
	if (memcmp(b, obj_magic, len < sizeof obj_magic ? len : sizeof obj_magic) != 0) {
		veil_err_set(err, inv, "object header: bad magic, not a veil object");
		return hinted(err, inv, HINT_HEADER);
	}
	if (len < PREAMBLE_LEN) {
		veil_err_set(err, cut, "object header: truncated after %zu bytes", len);
		return hinted(err, cut, HINT_HEADER);
	}
	if (b[OFF_VERSION] != OBJ_VERSION) {
		veil_err_set(err, unsup,
		             "object header: format version %u is not supported (this veil reads "
		             "version %u)",
		             b[OFF_VERSION], OBJ_VERSION);
		return hinted(err, unsup, HINT_NEWER);
	}
	if (b[OFF_SUITE] != OBJ_SUITE) {
		veil_err_set(err, unsup,
		             "object header: cipher suite %u is not supported (this veil knows suite %u)",
		             b[OFF_SUITE], OBJ_SUITE);
		return hinted(err, unsup, HINT_NEWER);
	}
	if (len < VEIL_OBJ_HEADER_FIXED) {
		veil_err_set(err, cut, "object header: truncated after %zu of at least %d bytes", len,
		             VEIL_OBJ_HEADER_FIXED);
		return hinted(err, cut, HINT_HEADER);
	}
	unsigned kid_len = b[OFF_KIDLEN];
	if (kid_len < 1 || kid_len > VEIL_OBJ_KEY_ID_MAX) {
		veil_err_set(err, inv, "object header: key id length %u is outside 1..%d", kid_len,
		             VEIL_OBJ_KEY_ID_MAX);
		return hinted(err, inv, HINT_HEADER);
	}
	unsigned stated = veil_get_be16(b + OFF_HLEN);
	if (stated != VEIL_OBJ_HEADER_FIXED + kid_len) {
		veil_err_set(err, inv,
		             "object header: the header length field says %u bytes but the key id length "
		             "makes it %u",
		             stated, VEIL_OBJ_HEADER_FIXED + kid_len);
		return hinted(err, inv, HINT_HEADER);
	}
	uint32_t cs = veil_get_be32(b + OFF_CHUNK);
	if (cs < VEIL_OBJ_CHUNK_MIN || cs > VEIL_OBJ_CHUNK_MAX) {
		veil_err_set(err, inv, "object header: chunk size %" PRIu32 " is outside %u to %u bytes", cs,
		             VEIL_OBJ_CHUNK_MIN, VEIL_OBJ_CHUNK_MAX);
		return hinted(err, inv, HINT_HEADER);
	}
	if (veil_get_be32(b + OFF_RESERVED) != 0) {
		veil_err_set(err, inv, "object header: the reserved field is not 0");
		return hinted(err, inv, HINT_HEADER);
	}
	*hlen = stated;
	return VEIL_OK;
}

veil_status veil_obj_parse_header(const uint8_t *buf, size_t len, veil_obj_header *hdr, veil_err *err)
{
	memset(hdr, 0, sizeof *hdr);
	if (!buf)
		len = 0;
	size_t hlen = 0;
	veil_status st = parse_fixed(buf, len, &hlen, err);
	if (st)
		return st;
	if (len < hlen) {
		veil_err_set(err, VEIL_E_CORRUPT, "object header: truncated after %zu of %zu bytes", len,
		             hlen);
		return hinted(err, VEIL_E_CORRUPT, HINT_HEADER);
	}
	size_t kid_len = hlen - VEIL_OBJ_HEADER_FIXED;
	for (size_t i = 0; i < kid_len; i++) {
		if (!printable(buf[OFF_KID + i])) {
			veil_err_set(err, VEIL_E_INVALID,
			             "object header: key id byte %zu is not printable ASCII "
			             "(0x21..0x7e)",
			             i + 1);
			return hinted(err, VEIL_E_INVALID, HINT_HEADER);
		}
	}
	hdr->version = buf[OFF_VERSION];
	hdr->suite = buf[OFF_SUITE];
	hdr->chunk_size = veil_get_be32(buf + OFF_CHUNK);
	memcpy(hdr->key_id, buf + OFF_KID, kid_len);
	hdr->key_id[kid_len] = '\0';
	memcpy(hdr->object_id, buf + OFF_OBJID, VEIL_OBJ_ID_LEN);
	memcpy(hdr->salt, buf + OFF_SALT, VEIL_OBJ_SALT_LEN);
	memcpy(hdr->nonce_prefix, buf + OFF_NONCE, VEIL_OBJ_NONCE_PREFIX_LEN);
	memcpy(hdr->raw, buf, hlen);
	hdr->raw_len = hlen;
	return VEIL_OK;
}

veil_status veil_obj_read_header(veil_read_fn rd, void *rctx, veil_obj_header *hdr, veil_err *err)
{
	memset(hdr, 0, sizeof *hdr);
	if (!rd)
		return veil_err_set(err, VEIL_E_INVALID, "veil_obj_read_header needs a read function");
	uint8_t b[VEIL_OBJ_HEADER_MAX];
	size_t got = 0, hlen = 0, more = 0;
	veil_status st = veil_read_full(rd, rctx, b, VEIL_OBJ_HEADER_FIXED, &got, err);
	if (!st && !(st = parse_fixed(b, got, &hlen, err)))
		st = veil_read_full(rd, rctx, b + got, hlen - got, &more, err);
	if (st)
		return st;
	return veil_obj_parse_header(b, got + more, hdr, err);
}

/* Checks seal's key id: the same rule a reader applies (1..64 printable ASCII). */
static veil_status check_key_id(const char *key_id, size_t *len, veil_err *err)
{
	size_t n = key_id ? strnlen(key_id, VEIL_OBJ_KEY_ID_MAX + 1) : 0;
	if (n < 1 || n > VEIL_OBJ_KEY_ID_MAX) {
		veil_err_set(err, VEIL_E_INVALID, "key id must be 1 to %d characters long",
		             VEIL_OBJ_KEY_ID_MAX);
		veil_err_hint(err, "pass the name of the data-encryption key in the key store");
		return VEIL_E_INVALID;
	}
	for (size_t i = 0; i < n; i++) {
		if (!printable((uint8_t)key_id[i])) {
			veil_err_set(
			        err, VEIL_E_INVALID,
			        "key id character %zu is not printable ASCII (spaces and control characters "
			        "are not allowed)",
			        i + 1);
			veil_err_hint(err, "name keys with letters, digits and punctuation only");
			return VEIL_E_INVALID;
		}
	}
	*len = n;
	return VEIL_OK;
}

/* Builds a fresh header; random fields come from the CSPRNG unless opts fixes them (test vectors). */
static veil_status build_header(const char *key_id, uint32_t cs, const veil_obj_opts *o, veil_obj_header *hdr,
                                veil_err *err)
{
	size_t kid_len = 0;
	veil_status st = check_key_id(key_id, &kid_len, err);
	if (st)
		return st;
	uint8_t *b = hdr->raw;
	memset(b, 0, sizeof hdr->raw);
	memcpy(b + OFF_MAGIC, obj_magic, sizeof obj_magic);
	b[OFF_VERSION] = OBJ_VERSION;
	b[OFF_SUITE] = OBJ_SUITE;
	veil_put_be16(b + OFF_HLEN, (uint16_t)(VEIL_OBJ_HEADER_FIXED + kid_len));
	veil_put_be32(b + OFF_CHUNK, cs);
	const struct {
		const uint8_t *fixed;
		size_t off, len;
	} rnd[] = {
	        {o ? o->fixed_object_id : NULL, OFF_OBJID, VEIL_OBJ_ID_LEN},
	        {o ? o->fixed_salt : NULL, OFF_SALT, VEIL_OBJ_SALT_LEN},
	        {o ? o->fixed_nonce_prefix : NULL, OFF_NONCE, VEIL_OBJ_NONCE_PREFIX_LEN},
	};
	for (size_t i = 0; i < sizeof rnd / sizeof rnd[0]; i++) {
		if (rnd[i].fixed)
			memcpy(b + rnd[i].off, rnd[i].fixed, rnd[i].len);
		else if ((st = veil_random(b + rnd[i].off, rnd[i].len, err)))
			return st;
	}
	b[OFF_KIDLEN] = (uint8_t)kid_len;
	memcpy(b + OFF_KID, key_id, kid_len);
	veil_obj_header parsed;
	if ((st = veil_obj_parse_header(b, VEIL_OBJ_HEADER_FIXED + kid_len, &parsed, err)))
		return st;
	*hdr = parsed;
	return VEIL_OK;
}

/* ---- per-object key ---- */

/* K = HKDF-SHA-256(DEK, salt, "veil object v1" || object id), 32 bytes, in secure memory. */
static veil_status derive_key(const uint8_t dek[VEIL_OBJ_DEK_LEN], const veil_obj_header *hdr, uint8_t **key,
                              veil_err *err)
{
	uint8_t info[INFO_LABEL_LEN + VEIL_OBJ_ID_LEN];
	memcpy(info, INFO_LABEL, INFO_LABEL_LEN);
	memcpy(info + INFO_LABEL_LEN, hdr->object_id, VEIL_OBJ_ID_LEN);
	uint8_t *k = veil_secure_alloc(VEIL_AES256_KEY_LEN);
	if (!k)
		return veil_err_set(err, VEIL_E_NOMEM, "out of secure memory for the object key");
	veil_status st = veil_hkdf_sha256(dek, VEIL_OBJ_DEK_LEN, hdr->salt, VEIL_OBJ_SALT_LEN, info,
	                                  sizeof info, k, VEIL_AES256_KEY_LEN, err);
	if (st) {
		veil_secure_free(k, VEIL_AES256_KEY_LEN);
		return st;
	}
	*key = k;
	return VEIL_OK;
}

/* ---- the chunk engine shared by seal and open ---- */

typedef struct engine {
	/* Fixed for the call. */
	EVP_CIPHER *cipher;
	const uint8_t *key;
	const veil_obj_header *hdr; /* raw is the AAD */
	uint32_t chunk_size;
	int enc;
	unsigned threads;
	bool spin; /* threads <= online cores: short waits may busy-wait */
	veil_read_fn rd;
	void *rctx;
	veil_write_fn wr;
	void *wctx;
	atomic_bool stop; /* set on the first error; no new chunk is read after it */

	/* Read side: the input stream, the chunk counter and the look-ahead byte. */
	pthread_mutex_t rlock;
	uint64_t next_read;
	bool read_done;
	bool have_carry;
	uint8_t carry;
	unsigned started; /* worker threads started (main thread only, under rlock) */
	pthread_t tid[THREADS_MAX];

	/* Write side: output order, totals and the error of the lowest-numbered failing chunk. */
	pthread_mutex_t wlock;
	pthread_cond_t wcond;
	_Atomic uint64_t next_write;  /* changed under wlock; read without it only to busy-wait */
	uint64_t in_bytes, out_bytes; /* read and written, header excluded */
	veil_status st;
	uint64_t err_index;
	veil_err err;
} engine;

/* One thread's working set: a cipher context keyed once and one chunk buffer. */
typedef struct lane {
	engine *e;
	EVP_CIPHER_CTX *ctx;
	uint8_t *buf; /* chunk_size + TAG_LEN bytes; holds plaintext, so wiped before free */
	size_t cap;
	bool main;
} lane;

static void lane_free(lane *l)
{
	if (l->buf) {
		veil_wipe(l->buf, l->cap);
		free(l->buf);
	}
	EVP_CIPHER_CTX_free(l->ctx); /* cleanses the key schedule */
	l->buf = NULL;
	l->ctx = NULL;
}

static veil_status lane_init(lane *l, engine *e, bool is_main, veil_err *err)
{
	memset(l, 0, sizeof *l);
	l->e = e;
	l->main = is_main;
	l->cap = (size_t)e->chunk_size + TAG_LEN;
	void *p = NULL;
	if (posix_memalign(&p, 64, l->cap) != 0) {
		veil_err_set(err, VEIL_E_NOMEM, "out of memory for a %zu-byte chunk buffer", l->cap);
		return VEIL_E_NOMEM;
	}
	l->buf = p;
	l->ctx = EVP_CIPHER_CTX_new();
	if (!l->ctx || !EVP_CipherInit_ex2(l->ctx, e->cipher, e->key, NULL, e->enc, NULL)) {
		lane_free(l);
		veil_err_set(err, VEIL_E_CRYPTO, "cannot set up AES-256-GCM");
		return VEIL_E_CRYPTO;
	}
	return VEIL_OK;
}

/* Records a failure of chunk i; the lowest index wins so the error does not depend on timing. */
static void engine_fail(engine *e, uint64_t i, veil_status st, const veil_err *le)
{
	pthread_mutex_lock(&e->wlock);
	if (e->st == VEIL_OK || i < e->err_index) {
		e->st = st;
		e->err_index = i;
		e->err = *le;
		e->err.code = st;
	}
	atomic_store(&e->stop, true);
	pthread_cond_broadcast(&e->wcond);
	pthread_mutex_unlock(&e->wlock);
}

/* Every integrity failure of a chunk is VEIL_E_CORRUPT with the same advice. */
static veil_status tampered(veil_err *err)
{
	return hinted(err, VEIL_E_CORRUPT, HINT_TAMPER);
}

/*
 * Reads chunk i into l->buf (under rlock): *n bytes, *last when it is the
 * final chunk. A full chunk is final only if no byte follows it, so one byte
 * is read ahead and handed to the reader of chunk i + 1.
 */
static veil_status fetch(lane *l, uint64_t i, size_t *n, bool *last, veil_err *err)
{
	engine *e = l->e;
	size_t full = e->enc ? e->chunk_size : l->cap, have = 0, got = 0;
	if (e->have_carry) {
		l->buf[0] = e->carry;
		e->have_carry = false;
		have = 1;
	}
	veil_status st = veil_read_full(e->rd, e->rctx, l->buf + have, full - have, &got, err);
	if (st) {
		veil_err_wrap(err, "cannot read chunk %" PRIu64, i);
		return st;
	}
	have += got;
	*n = have;
	*last = have < full;
	if (!*last) {
		if ((st = veil_read_full(e->rd, e->rctx, &e->carry, 1, &got, err))) {
			veil_err_wrap(err, "cannot read past chunk %" PRIu64, i);
			return st;
		}
		e->have_carry = got == 1;
		*last = got == 0;
	}
	if (e->enc) {
		if (!*last && i == UINT32_MAX) {
			veil_err_set(err, VEIL_E_LIMIT,
			             "the input is larger than 2^32 chunks of %" PRIu32 " bytes",
			             e->chunk_size);
			veil_err_hint(err, "seal it with a larger chunk size");
			return VEIL_E_LIMIT;
		}
		return VEIL_OK;
	}
	/* object.md section 5, checks C2-C5. */
	if (have == 0 && i == 0) {
		veil_err_set(err, VEIL_E_CORRUPT,
		             "chunk 0 is missing: the object was truncated after its header");
		return tampered(err);
	}
	if (have < TAG_LEN) {
		veil_err_set(err, VEIL_E_CORRUPT,
		             "chunk %" PRIu64 " is shorter than its 16-byte tag: the object was "
		             "truncated",
		             i);
		return tampered(err);
	}
	if (have == TAG_LEN && i > 0) {
		veil_err_set(err, VEIL_E_CORRUPT,
		             "chunk %" PRIu64 " is an empty final chunk, which only an empty "
		             "object has",
		             i);
		return tampered(err);
	}
	if (!*last && i == UINT32_MAX) {
		veil_err_set(err, VEIL_E_CORRUPT,
		             "data follows chunk %" PRIu64 ": an object has at most 2^32 chunks", i);
		return tampered(err);
	}
	return VEIL_OK;
}

static void make_nonce(const engine *e, uint64_t i, bool last, uint8_t nonce[VEIL_GCM_NONCE_LEN])
{
	memcpy(nonce, e->hdr->nonce_prefix, VEIL_OBJ_NONCE_PREFIX_LEN);
	veil_put_be32(nonce + VEIL_OBJ_NONCE_PREFIX_LEN, (uint32_t)i);
	nonce[VEIL_GCM_NONCE_LEN - 1] = last ? 0x01 : 0x00;
}

/* One GCM pass over buf[0..n) in place with the given direction; the tag is read or written at tag. */
static bool gcm_pass(lane *l, const uint8_t nonce[VEIL_GCM_NONCE_LEN], int enc, size_t n, uint8_t *tag)
{
	const veil_obj_header *h = l->e->hdr;
	int outl = 0, finl = 0;
	if (!EVP_CipherInit_ex2(l->ctx, NULL, NULL, nonce, enc, NULL))
		return false;
	if (!EVP_CipherUpdate(l->ctx, NULL, &outl, h->raw, (int)h->raw_len))
		return false;
	if (!enc && !EVP_CIPHER_CTX_ctrl(l->ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag))
		return false;
	if (n && !EVP_CipherUpdate(l->ctx, l->buf, &outl, l->buf, (int)n))
		return false;
	if (EVP_CipherFinal_ex(l->ctx, l->buf + outl, &finl) <= 0)
		return false;
	return !enc || EVP_CIPHER_CTX_ctrl(l->ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) > 0;
}

/*
 * After chunk i failed to open with flag `last`, says whether it opens with
 * the other flag: then the object was cut after it or had data appended, a
 * more useful message than "failed". The failed pass left C xor keystream in
 * buf; encrypting with the same nonce restores C (CTR is its own inverse).
 */
static bool opens_with_other_flag(lane *l, uint64_t i, bool last, size_t ct_len)
{
	uint8_t nonce[VEIL_GCM_NONCE_LEN], other[VEIL_GCM_NONCE_LEN], scratch[TAG_LEN];
	make_nonce(l->e, i, last, nonce);
	make_nonce(l->e, i, !last, other);
	bool ok = gcm_pass(l, nonce, 1, ct_len, scratch) && gcm_pass(l, other, 0, ct_len, l->buf + ct_len);
	veil_wipe(l->buf, ct_len); /* whatever the outcome, this chunk is not released */
	return ok;
}

/* Encrypts or verifies-and-decrypts chunk i in place; *out is how many bytes to write. */
static veil_status crypt_chunk(lane *l, uint64_t i, size_t n, bool last, size_t *out, veil_err *err)
{
	uint8_t nonce[VEIL_GCM_NONCE_LEN];
	make_nonce(l->e, i, last, nonce);
	if (l->e->enc) {
		if (!gcm_pass(l, nonce, 1, n, l->buf + n))
			return veil_err_set(err, VEIL_E_CRYPTO, "AES-256-GCM failed on chunk %" PRIu64, i);
		*out = n + TAG_LEN;
		return VEIL_OK;
	}
	size_t ct_len = n - TAG_LEN;
	if (gcm_pass(l, nonce, 0, ct_len, l->buf + ct_len)) {
		*out = ct_len;
		return VEIL_OK;
	}
	ERR_clear_error(); /* a failed tag is our error to report, not OpenSSL's queue to keep */
	/* Unverified plaintext never leaves: the diagnosis below wipes it. */
	if (!opens_with_other_flag(l, i, last, ct_len))
		veil_err_set(err, VEIL_E_CORRUPT,
		             "chunk %" PRIu64 " failed authentication: the object was modified, "
		             "reordered or spliced, or the key is wrong",
		             i);
	else if (last)
		veil_err_set(err, VEIL_E_CORRUPT,
		             "the object ends after chunk %" PRIu64 ", which is not its final "
		             "chunk: it was truncated",
		             i);
	else
		veil_err_set(err, VEIL_E_CORRUPT,
		             "chunk %" PRIu64 " is the object's final chunk but more data "
		             "follows: the object was extended",
		             i);
	return tampered(err);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static void lock_read_side(engine *e)
{
	for (int k = 0; e->spin && k < SPIN_ROUNDS; k++) {
		if (pthread_mutex_trylock(&e->rlock) == 0)
			return;
		cpu_relax();
	}
	pthread_mutex_lock(&e->rlock);
}

/* Writes chunk i (out bytes; in were read for it) once every earlier chunk is written. VEIL_OK with
 * *stopped when another chunk failed. */
static veil_status emit(lane *l, uint64_t i, size_t in, size_t out, bool *stopped, veil_err *err)
{
	engine *e = l->e;
	for (int k = 0; e->spin && k < SPIN_ROUNDS; k++) {
		if (atomic_load(&e->next_write) == i || atomic_load(&e->stop))
			break;
		cpu_relax();
	}
	pthread_mutex_lock(&e->wlock);
	while (atomic_load(&e->next_write) != i && !atomic_load(&e->stop))
		pthread_cond_wait(&e->wcond, &e->wlock);
	*stopped = atomic_load(&e->stop);
	pthread_mutex_unlock(&e->wlock);
	if (*stopped)
		return VEIL_OK;
	/* Only the thread holding chunk next_write gets here, so the write needs no lock. */
	veil_status st = e->wr(e->wctx, l->buf, out, err);
	if (st) {
		veil_err_wrap(err, "cannot write chunk %" PRIu64, i);
		return st;
	}
	pthread_mutex_lock(&e->wlock);
	atomic_fetch_add(&e->next_write, 1);
	e->in_bytes += in;
	e->out_bytes += out;
	pthread_cond_broadcast(&e->wcond);
	pthread_mutex_unlock(&e->wlock);
	return VEIL_OK;
}

static void *worker_main(void *arg);

/* Starts the other threads once the object proves to have a second chunk (under rlock). */
static void start_workers(engine *e)
{
	while (e->started + 1 < e->threads) {
		/* A thread that cannot be started only costs speed, never correctness. */
		if (pthread_create(&e->tid[e->started], NULL, worker_main, e) != 0)
			break;
		e->started++;
	}
}

/* The loop every thread runs: take the next chunk, transform it, write it in order. */
static void lane_run(lane *l)
{
	engine *e = l->e;
	for (;;) {
		veil_err le = {0};
		size_t n = 0, out = 0;
		bool last = false, stopped = false;
		lock_read_side(e);
		if (e->read_done || atomic_load(&e->stop)) {
			pthread_mutex_unlock(&e->rlock);
			return;
		}
		uint64_t i = e->next_read++;
		veil_status st = fetch(l, i, &n, &last, &le);
		e->read_done = st != VEIL_OK || last;
		if (!e->read_done && l->main && e->started == 0)
			start_workers(e);
		pthread_mutex_unlock(&e->rlock);
		/* A chunk already read is always transformed, even after another chunk failed, so
		 * the error reported is that of the lowest failing index whatever the timing. */
		if (!st)
			st = crypt_chunk(l, i, n, last, &out, &le);
		if (!st)
			st = emit(l, i, n, out, &stopped, &le);
		if (st) {
			engine_fail(e, i, st, &le);
			return;
		}
		if (stopped)
			return;
	}
}

static void *worker_main(void *arg)
{
	engine *e = arg;
	lane l;
	veil_err le = {0};
	/* A worker that cannot set up stays out; the others do its share. */
	if (lane_init(&l, e, false, &le) == VEIL_OK) {
		lane_run(&l);
		lane_free(&l);
	}
	return NULL;
}

static unsigned resolve_threads(const veil_obj_opts *o, veil_err *err)
{
	unsigned t = o ? o->threads : 0;
	if (t == 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		t = cores < 1 ? 1u : cores > (long)THREADS_AUTO_MAX ? THREADS_AUTO_MAX : (unsigned)cores;
	}
	if (t > THREADS_MAX) {
		veil_err_set(err, VEIL_E_INVALID, "threads is %u; at most %u are allowed", t, THREADS_MAX);
		veil_err_hint(err, "use 0 for one thread per core");
		return 0;
	}
	return t;
}

/* Runs the engine over the whole chunk stream; the caller has written or read the header. */
static veil_status engine_run(engine *e, veil_obj_stats *stats, veil_err *err)
{
	lane l;
	veil_status st = lane_init(&l, e, true, err);
	if (st)
		return st;
	pthread_mutex_init(&e->rlock, NULL);
	pthread_mutex_init(&e->wlock, NULL);
	pthread_cond_init(&e->wcond, NULL);
	lane_run(&l);
	/* Only the main thread starts workers, and it has left its loop: started is stable. */
	for (unsigned t = 0; t < e->started; t++)
		pthread_join(e->tid[t], NULL);
	lane_free(&l);
	pthread_cond_destroy(&e->wcond);
	pthread_mutex_destroy(&e->wlock);
	pthread_mutex_destroy(&e->rlock);
	if (e->st) {
		if (err)
			*err = e->err;
		return e->st;
	}
	if (e->next_write != e->next_read || !e->read_done)
		return veil_err_set(err, VEIL_E_INTERNAL,
		                    "object engine stopped after %" PRIu64 " of %" PRIu64
		                    " chunks without an error",
		                    e->next_write, e->next_read);
	stats->chunks = e->next_write;
	stats->plaintext_bytes = e->enc ? e->in_bytes : e->out_bytes;
	stats->ciphertext_bytes = e->hdr->raw_len + (e->enc ? e->out_bytes : e->in_bytes);
	return VEIL_OK;
}

/* Sets up the engine for one call: cipher, per-object key, threads. */
static veil_status engine_call(engine *e, const uint8_t *dek, const veil_obj_header *hdr, unsigned threads,
                               int enc, veil_obj_stats *stats, veil_err *err)
{
	/* e arrives with its streams set; the rest is filled here. */
	veil_obj_stats s = {0};
	uint8_t *key = NULL;
	e->hdr = hdr;
	e->chunk_size = hdr->chunk_size;
	e->enc = enc;
	e->threads = threads;
	e->spin = threads > 1 && (long)threads <= sysconf(_SC_NPROCESSORS_ONLN);
	e->cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	if (!e->cipher)
		return veil_err_set(err, VEIL_E_CRYPTO, "OpenSSL has no AES-256-GCM");
	veil_status st = derive_key(dek, hdr, &key, err);
	if (!st) {
		e->key = key;
		st = engine_run(e, &s, err);
		veil_secure_free(key, VEIL_AES256_KEY_LEN);
	}
	EVP_CIPHER_free(e->cipher);
	if (!st && stats)
		*stats = s;
	return st;
}

static veil_status check_streams(const uint8_t *dek, veil_read_fn rd, veil_write_fn wr, veil_err *err)
{
	if (!dek || !rd || !wr)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "the object container needs a key, a reader and a writer");
	return VEIL_OK;
}

veil_status veil_obj_seal(const uint8_t dek[VEIL_OBJ_DEK_LEN], const char *key_id, const veil_obj_opts *opts,
                          veil_read_fn rd, void *rctx, veil_write_fn wr, void *wctx, veil_obj_stats *stats,
                          veil_err *err)
{
	if (stats)
		memset(stats, 0, sizeof *stats);
	veil_status st = check_streams(dek, rd, wr, err);
	if (st)
		return st;
	uint32_t cs = opts && opts->chunk_size ? opts->chunk_size : VEIL_OBJ_CHUNK_DEFAULT;
	if (cs < VEIL_OBJ_CHUNK_MIN || cs > VEIL_OBJ_CHUNK_MAX) {
		veil_err_set(err, VEIL_E_INVALID, "chunk size %" PRIu32 " is outside 1024 to %u bytes", cs,
		             VEIL_OBJ_CHUNK_MAX);
		veil_err_hint(err, "use 0 for the default of %u bytes", VEIL_OBJ_CHUNK_DEFAULT);
		return VEIL_E_INVALID;
	}
	unsigned threads = resolve_threads(opts, err);
	if (!threads)
		return VEIL_E_INVALID;
	veil_obj_header hdr;
	if ((st = build_header(key_id, cs, opts, &hdr, err)))
		return st;
	if ((st = wr(wctx, hdr.raw, hdr.raw_len, err))) {
		veil_err_wrap(err, "cannot write the object header");
		return st;
	}
	engine e = {.rd = rd, .rctx = rctx, .wr = wr, .wctx = wctx};
	return engine_call(&e, dek, &hdr, threads, 1, stats, err);
}

veil_status veil_obj_open(const uint8_t dek[VEIL_OBJ_DEK_LEN], const veil_obj_header *hdr,
                          const veil_obj_opts *opts, veil_read_fn rd, void *rctx, veil_write_fn wr,
                          void *wctx, veil_obj_stats *stats, veil_err *err)
{
	if (stats)
		memset(stats, 0, sizeof *stats);
	veil_status st = check_streams(dek, rd, wr, err);
	if (st)
		return st;
	if (!hdr || hdr->raw_len > sizeof hdr->raw)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "veil_obj_open needs a header from veil_obj_read_header");
	/* Work from the raw bytes, which are what the tags bind, never from fields a caller could edit. */
	veil_obj_header h;
	if ((st = veil_obj_parse_header(hdr->raw, hdr->raw_len, &h, err)))
		return st;
	if (h.raw_len != hdr->raw_len)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "the header's raw length does not match its contents");
	unsigned threads = resolve_threads(opts, err);
	if (!threads)
		return VEIL_E_INVALID;
	engine e = {.rd = rd, .rctx = rctx, .wr = wr, .wctx = wctx};
	return engine_call(&e, dek, &h, threads, 0, stats, err);
}
