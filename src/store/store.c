/*
 * The store front end: picks a backend from the location, checks ids,
 * computes the content address while bytes are written and verifies it
 * while they are read. Backends (fs.c) never see an id they did not get
 * from here, so every backend gets addressing and verification for free.
 */
#include "store_int.h"

#include "veil/crypto.h"

#include <stdlib.h>
#include <string.h>

/* Read size for whole-object hashing (verify, dedup). */
#define READ_CHUNK (64u << 10)

struct veil_store {
	const veil_store_ops *ops;
	void *impl;
};

struct veil_store_writer {
	veil_store *s;
	void *bw;           /* NULL once the backend writer is gone (after a failure) */
	veil_hash_ctx *h;   /* NULL once finalised or freed */
	veil_status failed; /* the first failure; later calls repeat it */
};

enum rd_state { RD_READING, RD_VERIFIED, RD_CORRUPT };

struct veil_store_reader {
	veil_store *s;
	void *br;
	veil_hash_ctx *h;
	enum rd_state state;
	char id[VEIL_STORE_ID_MAX];
};

veil_status veil_store_id_check(const char *id, veil_err *err)
{
	if (!id)
		return veil_err_set(err, VEIL_E_INVALID, "no object id given");
	size_t n = strnlen(id, VEIL_STORE_ID_LEN + 1);
	bool ok = n == VEIL_STORE_ID_LEN;
	for (size_t i = 0; ok && i < n; i++)
		ok = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f');
	if (ok)
		return VEIL_OK;
	veil_err_set(err, VEIL_E_INVALID, "'%.80s' is not an object id", id);
	veil_err_hint(err, "an object id is the SHA-256 of the object: 64 lowercase hex digits");
	return VEIL_E_INVALID;
}

/* "s3://bucket/x" -> length of "s3"; 0 when text has no "scheme://". */
static size_t scheme_len(const char *text)
{
	size_t i = 0;
	if (!((text[0] >= 'a' && text[0] <= 'z') || (text[0] >= 'A' && text[0] <= 'Z')))
		return 0;
	for (i = 1; text[i]; i++) {
		char c = text[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		          c == '+' || c == '-' || c == '.';
		if (!ok)
			break;
	}
	return strncmp(text + i, "://", 3) == 0 ? i : 0;
}

/* Turns a location into a filesystem root, or says why it is not one. */
static veil_status fs_root_of(const char *url, const char **root, veil_err *err)
{
	size_t sl = scheme_len(url);
	if (sl == 0) {
		*root = url;
		return VEIL_OK;
	}
	if (sl == 4 && strncmp(url, "file", 4) == 0) {
		const char *p = url + 7;
		if (p[0] != '/') {
			veil_err_set(err, VEIL_E_UNSUPPORTED,
			             "file URLs with a host are not supported: %.200s", url);
			veil_err_hint(err,
			              "write file:///absolute/path (three slashes) or give a plain path");
			return VEIL_E_UNSUPPORTED;
		}
		if (strchr(p, '%')) {
			veil_err_set(err, VEIL_E_INVALID,
			             "percent-escapes in file URLs are not supported: %.200s", url);
			veil_err_hint(err, "give the folder as a plain path instead");
			return VEIL_E_INVALID;
		}
		*root = p;
		return VEIL_OK;
	}
	if (sl == 2 && strncmp(url, "s3", 2) == 0) {
		veil_err_set(err, VEIL_E_UNSUPPORTED, "this build of veil has no S3 store backend");
		veil_err_hint(err, "use a local folder (a path or file:///path) for the object store");
		return VEIL_E_UNSUPPORTED;
	}
	veil_err_set(err, VEIL_E_UNSUPPORTED, "unknown object store scheme '%.*s'", (int)(sl > 32 ? 32 : sl),
	             url);
	veil_err_hint(err, "use a local folder (a path or file:///path) for the object store");
	return VEIL_E_UNSUPPORTED;
}

veil_status veil_store_open(const char *url_or_path, veil_store **out, veil_err *err)
{
	*out = NULL;
	if (!url_or_path || !url_or_path[0])
		return veil_err_set(err, VEIL_E_INVALID, "no object store location given");
	if (strnlen(url_or_path, VEIL_STORE_URL_MAX + 1) > VEIL_STORE_URL_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "object store location is longer than %d bytes",
		                    VEIL_STORE_URL_MAX);
	const char *root;
	veil_status st = fs_root_of(url_or_path, &root, err);
	if (st)
		return st;
	veil_store *s = calloc(1, sizeof *s);
	if (!s)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory opening the object store");
	s->ops = &veil_store_fs_ops;
	if ((st = veil_store_fs_open(root, &s->impl, err))) {
		free(s);
		return st;
	}
	*out = s;
	return VEIL_OK;
}

void veil_store_close(veil_store *s)
{
	if (!s)
		return;
	s->ops->close(s->impl);
	free(s);
}

const char *veil_store_backend(const veil_store *s)
{
	return s->ops->name;
}

/* ---- writing ---- */

veil_status veil_store_put_begin(veil_store *s, veil_store_writer **w, veil_err *err)
{
	*w = NULL;
	veil_store_writer *x = calloc(1, sizeof *x);
	if (!x) {
		veil_err_set(err, VEIL_E_NOMEM, "out of memory starting an object write");
		return VEIL_E_NOMEM;
	}
	x->s = s;
	veil_status st = veil_hash_init(&x->h, VEIL_HASH_SHA256, err);
	if (!st)
		st = s->ops->put_begin(s->impl, &x->bw, err);
	if (st) {
		veil_hash_free(x->h);
		free(x);
		return st;
	}
	*w = x;
	return VEIL_OK;
}

/* After any failure the backend bytes go at once, so even a caller that is
 * killed before it aborts leaves nothing but memory behind. */
static veil_status put_fail(veil_store_writer *w, veil_status st)
{
	if (w->bw)
		w->s->ops->put_abort(w->bw);
	w->bw = NULL;
	w->failed = st;
	return st;
}

veil_status veil_store_put_write(void *ctx, const uint8_t *buf, size_t n, veil_err *err)
{
	veil_store_writer *w = ctx;
	if (w->failed)
		return veil_err_set(err, w->failed, "this object write already failed; start a new one");
	if (n == 0)
		return VEIL_OK;
	veil_status st = veil_hash_update(w->h, buf, n, err);
	if (!st)
		st = w->s->ops->put_write(w->bw, buf, n, err);
	return st ? put_fail(w, st) : VEIL_OK;
}

static void writer_free(veil_store_writer *w)
{
	if (w->bw)
		w->s->ops->put_abort(w->bw);
	veil_hash_free(w->h);
	free(w);
}

veil_status veil_store_put_commit(veil_store_writer *w, char id_out[VEIL_STORE_ID_MAX], veil_err *err)
{
	id_out[0] = '\0';
	if (w->failed) {
		veil_status code = w->failed;
		writer_free(w);
		return veil_err_set(err, code, "cannot commit an object write that failed");
	}
	uint8_t digest[VEIL_SHA256_LEN];
	veil_hash_ctx *h = w->h;
	w->h = NULL; /* final frees it, also on error */
	veil_status st = veil_hash_final(h, digest, err);
	if (st) {
		writer_free(w);
		return st;
	}
	char id[VEIL_STORE_ID_MAX];
	veil_hex_encode(digest, sizeof digest, id);
	void *bw = w->bw;
	w->bw = NULL; /* commit frees it, also on error */
	st = w->s->ops->put_commit(bw, id, err);
	writer_free(w);
	if (!st)
		memcpy(id_out, id, VEIL_STORE_ID_MAX);
	return st;
}

void veil_store_put_abort(veil_store_writer *w)
{
	if (w)
		writer_free(w);
}

/* ---- reading ---- */

veil_status veil_store_get_open(veil_store *s, const char *id, veil_store_reader **r, veil_err *err)
{
	*r = NULL;
	veil_status st = veil_store_id_check(id, err);
	if (st)
		return st;
	veil_store_reader *x = calloc(1, sizeof *x);
	if (!x) {
		veil_err_set(err, VEIL_E_NOMEM, "out of memory opening object %s", id);
		return VEIL_E_NOMEM;
	}
	x->s = s;
	memcpy(x->id, id, VEIL_STORE_ID_MAX);
	st = veil_hash_init(&x->h, VEIL_HASH_SHA256, err);
	if (!st)
		st = s->ops->get_open(s->impl, id, &x->br, err);
	if (st) {
		veil_hash_free(x->h);
		free(x);
		return st;
	}
	*r = x;
	return VEIL_OK;
}

static veil_status corrupt(veil_store_reader *r, veil_err *err)
{
	r->state = RD_CORRUPT;
	veil_err_set(err, VEIL_E_CORRUPT, "object %s does not match its address: it was modified on disk",
	             r->id);
	veil_err_hint(err,
	              "restore the object from a backup or upload the data again; do not trust its contents");
	return VEIL_E_CORRUPT;
}

/* At the end of the stored bytes: the end is reported only if they match. */
static veil_status finish(veil_store_reader *r, veil_err *err)
{
	uint8_t digest[VEIL_SHA256_LEN];
	veil_hash_ctx *h = r->h;
	r->h = NULL;
	veil_status st = veil_hash_final(h, digest, err);
	if (st)
		return st;
	char got[VEIL_STORE_ID_MAX];
	veil_hex_encode(digest, sizeof digest, got);
	if (memcmp(got, r->id, VEIL_STORE_ID_LEN) != 0)
		return corrupt(r, err);
	r->state = RD_VERIFIED;
	return VEIL_OK;
}

veil_status veil_store_get_read(void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err)
{
	veil_store_reader *r = ctx;
	*got = 0;
	if (r->state == RD_CORRUPT)
		return corrupt(r, err);
	if (r->state == RD_VERIFIED)
		return VEIL_OK;
	if (n == 0)
		return veil_err_set(err, VEIL_E_INVALID, "object read with an empty buffer");
	if (!r->h)
		return veil_err_set(err, VEIL_E_IO, "object %s: an earlier read failed; open it again",
		                    r->id);
	size_t g = 0;
	veil_status st = r->s->ops->get_read(r->br, buf, n, &g, err);
	if (!st && g > 0)
		st = veil_hash_update(r->h, buf, g, err);
	if (st) {
		/* A failed read leaves the hash incomplete: no later call may
		 * claim the object verified. */
		veil_hash_free(r->h);
		r->h = NULL;
		return st;
	}
	if (g == 0)
		return finish(r, err);
	*got = g;
	return VEIL_OK;
}

void veil_store_get_close(veil_store_reader *r)
{
	if (!r)
		return;
	r->s->ops->get_close(r->br);
	veil_hash_free(r->h);
	free(r);
}

/* ---- whole objects ---- */

veil_status veil_store_size(veil_store *s, const char *id, uint64_t *size, veil_err *err)
{
	*size = 0;
	veil_status st = veil_store_id_check(id, err);
	return st ? st : s->ops->size(s->impl, id, size, err);
}

veil_status veil_store_exists(veil_store *s, const char *id, bool *exists, veil_err *err)
{
	*exists = false;
	uint64_t size;
	veil_err e;
	veil_status st = veil_store_size(s, id, &size, &e);
	if (st == VEIL_OK)
		*exists = true;
	if (st == VEIL_OK || st == VEIL_E_NOTFOUND)
		return VEIL_OK;
	if (err)
		*err = e;
	return st;
}

veil_status veil_store_remove(veil_store *s, const char *id, veil_err *err)
{
	veil_status st = veil_store_id_check(id, err);
	return st ? st : s->ops->remove(s->impl, id, err);
}

veil_status veil_store_verify(veil_store *s, const char *id, veil_err *err)
{
	veil_store_reader *r;
	veil_status st = veil_store_get_open(s, id, &r, err);
	if (st)
		return st;
	uint8_t *buf = malloc(READ_CHUNK);
	if (!buf) {
		veil_store_get_close(r);
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory verifying object %s", id);
	}
	size_t got;
	do
		st = veil_store_get_read(r, buf, READ_CHUNK, &got, err);
	while (!st && got > 0);
	free(buf);
	veil_store_get_close(r);
	return st;
}

veil_status veil_store_id_matches(veil_read_fn rd, void *ctx, const char *id, bool *matches, veil_err *err)
{
	*matches = false;
	veil_hash_ctx *h;
	veil_status st = veil_hash_init(&h, VEIL_HASH_SHA256, err);
	if (st)
		return st;
	uint8_t *buf = malloc(READ_CHUNK);
	if (!buf) {
		veil_hash_free(h);
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory checking object %s", id);
	}
	size_t got = 0;
	do {
		st = rd(ctx, buf, READ_CHUNK, &got, err);
		if (!st && got > 0)
			st = veil_hash_update(h, buf, got, err);
	} while (!st && got > 0);
	free(buf);
	if (st) {
		veil_hash_free(h);
		return st;
	}
	uint8_t digest[VEIL_SHA256_LEN];
	if ((st = veil_hash_final(h, digest, err)))
		return st;
	char hex[VEIL_STORE_ID_MAX];
	veil_hex_encode(digest, sizeof digest, hex);
	*matches = memcmp(hex, id, VEIL_STORE_ID_LEN) == 0;
	return VEIL_OK;
}

veil_status veil_store_list(veil_store *s, veil_store_list_fn cb, void *ctx, veil_err *err)
{
	return s->ops->list(s->impl, cb, ctx, err);
}

veil_status veil_store_sweep_tmp(veil_store *s, int64_t older_than_seconds, veil_err *err)
{
	if (older_than_seconds < 0)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "the age of stale temporary files must not be negative");
	return s->ops->sweep_tmp(s->impl, older_than_seconds, err);
}
