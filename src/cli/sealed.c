/*
 * Small objects the workspace keeps besides datasets (a worker's report
 * envelope, a fitted feature transform): sealed into the store in the
 * object format of docs/formats/object.md under a fresh data key wrapped
 * by the dataset's key encryption key, exactly as an upload is, so that
 * backup, restore, key rotation and crypto-shredding treat them alike.
 */
#include "cmds.h"
#include "sealed.h"

#include <string.h>

typedef struct mem_writer {
	veil_buf *out;
	size_t max;
} mem_writer;

static veil_status mem_write(void *ctx, const uint8_t *buf, size_t n, veil_err *err)
{
	mem_writer *m = ctx;
	if (n > m->max - m->out->len)
		return veil_err_set(err, VEIL_E_LIMIT, "the object holds more than the %zu bytes expected",
		                    m->max);
	return veil_buf_append(m->out, buf, n, err);
}

veil_status cli_seal_bytes(cli_ws *ws, const char *kek, const uint8_t *p, size_t n, cli_sealed *out,
                           veil_err *err)
{
	memset(out, 0, sizeof *out);
	uint8_t *dek = veil_secure_alloc(VEIL_KMS_DEK_LEN);
	if (!dek)
		return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory");
	veil_store_writer *w = NULL;
	veil_mem_reader r = {.p = p, .n = n};
	uint8_t digest[VEIL_SHA256_LEN];
	veil_status st = veil_kms_dek_new(ws->kms, kek, ws->request_region, out->dek_id, dek, err);
	if (!st && !(st = veil_hash(VEIL_HASH_SHA256, p, n, digest, err)) &&
	    !(st = veil_store_put_begin(ws->store, &w, err))) {
		veil_obj_opts opts = {.chunk_size = ws->cfg.chunk_size, .threads = 1};
		veil_obj_stats stats;
		st = veil_obj_seal(dek, out->dek_id, &opts, veil_mem_read, &r, veil_store_put_write, w,
		                   &stats, err);
		if (!st)
			st = veil_store_put_commit(w, out->object_id, err);
		else
			veil_store_put_abort(w);
	}
	veil_secure_free(dek, VEIL_KMS_DEK_LEN);
	if (st) {
		cli_sealed_discard(ws, out);
		return st;
	}
	veil_hex_encode(digest, sizeof digest, out->sha256);
	out->size = n;
	return VEIL_OK;
}

void cli_sealed_discard(cli_ws *ws, cli_sealed *s)
{
	veil_err e;
	if (s->dek_id[0] && veil_kms_dek_destroy(ws->kms, s->dek_id, &e))
		veil_log(VEIL_LOG_WARN, "sealed.cleanup", "cannot destroy data key %s: %s", s->dek_id, e.msg);
	if (s->object_id[0] && veil_store_remove(ws->store, s->object_id, &e) && e.code != VEIL_E_NOTFOUND)
		veil_log(VEIL_LOG_WARN, "sealed.cleanup", "cannot remove object %s: %s", s->object_id, e.msg);
	memset(s, 0, sizeof *s);
}

veil_status cli_open_bytes(cli_ws *ws, const char *object_id, const char *dek_id, const char *sha256,
                           size_t max, veil_buf *out, veil_err *err)
{
	uint8_t *dek = veil_secure_alloc(VEIL_KMS_DEK_LEN);
	if (!dek)
		return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory");
	veil_store_reader *r = NULL;
	veil_obj_header hdr;
	mem_writer m = {.out = out, .max = max};
	veil_status st = cli_release_dek(ws, dek_id, dek, err);
	if (!st && !(st = veil_store_get_open(ws->store, object_id, &r, err)) &&
	    !(st = veil_obj_read_header(veil_store_get_read, r, &hdr, err))) {
		if (strcmp(hdr.key_id, dek_id) != 0)
			st = veil_err_set(err, VEIL_E_CORRUPT,
			                  "object %s names data key %s, but the catalog says %s", object_id,
			                  hdr.key_id, dek_id);
		veil_obj_opts opts = {.threads = 1};
		veil_obj_stats stats;
		if (!st)
			st = veil_obj_open(dek, &hdr, &opts, veil_store_get_read, r, mem_write, &m, &stats,
			                   err);
	}
	veil_secure_free(dek, VEIL_KMS_DEK_LEN);
	veil_store_get_close(r);
	uint8_t digest[VEIL_SHA256_LEN];
	char hex[2 * VEIL_SHA256_LEN + 1];
	if (!st && !(st = veil_hash(VEIL_HASH_SHA256, out->data, out->len, digest, err))) {
		veil_hex_encode(digest, sizeof digest, hex);
		if (strcmp(hex, sha256) != 0)
			st = veil_err_set(err, VEIL_E_CORRUPT,
			                  "object %s does not match the catalog's SHA-256", object_id);
	}
	if (st == VEIL_E_CORRUPT)
		veil_err_hint(err, "the stored object was damaged or tampered with; restore it from a backup "
		                   "(veil restore) and report it to your security officer");
	return st;
}
