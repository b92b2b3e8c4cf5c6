/*
 * The contract between the store front end (store.c) and its backends.
 *
 * The front end owns everything that must be the same for every backend:
 * id syntax, hashing on write, verification on read. A backend only moves
 * bytes and publishes them under the id the front end computed, so an S3
 * backend is one more ops table and one more line in veil_store_open.
 */
#ifndef VEIL_STORE_INT_H
#define VEIL_STORE_INT_H

#include "veil/store.h"

typedef struct veil_store_ops {
	const char *name;
	void (*close)(void *impl);
	/* Starts a put; the bytes must stay invisible under any id until commit. */
	veil_status (*put_begin)(void *impl, void **bw, veil_err *err);
	/* Writes all n bytes or fails. */
	veil_status (*put_write)(void *bw, const uint8_t *buf, size_t n, veil_err *err);
	/* Makes the bytes durable and visible under id, atomically; keeps an
	 * existing object with that id only if its bytes hash to the id, and
	 * replaces anything else there. Frees bw on success and error; on
	 * error nothing new is visible and no temporary remains. */
	veil_status (*put_commit)(void *bw, const char *id, veil_err *err);
	/* Discards the bytes and frees bw. */
	void (*put_abort)(void *bw);
	/* VEIL_E_NOTFOUND when absent, VEIL_E_CORRUPT when what is stored
	 * under id is not an object the backend wrote. Returns promptly
	 * whatever was planted there. The front end has checked the id. */
	veil_status (*get_open)(void *impl, const char *id, void **br, veil_err *err);
	/* *got == 0 at the end of the stored bytes. */
	veil_status (*get_read)(void *br, uint8_t *buf, size_t n, size_t *got, veil_err *err);
	void (*get_close)(void *br);
	veil_status (*size)(void *impl, const char *id, uint64_t *size, veil_err *err);
	veil_status (*remove)(void *impl, const char *id, veil_err *err);
	/* Every committed object once, without opening any; entries that
	 * cannot be one (wrong name, not a regular file) are skipped. */
	veil_status (*list)(void *impl, veil_store_list_fn cb, void *ctx, veil_err *err);
	veil_status (*sweep_tmp)(void *impl, int64_t older_than_seconds, veil_err *err);
} veil_store_ops;

/* Reads rd to its end and sets *matches to whether the bytes hash to id.
 * For a backend that must judge a copy it already holds (dedup at commit):
 * the hashing stays in the front end with the rest of content addressing.
 * On error *matches is false. */
veil_status veil_store_id_matches(veil_read_fn rd, void *ctx, const char *id, bool *matches,
                                  veil_err *err) VEIL_MUST_CHECK;

/* The filesystem backend (fs.c). root is a folder path. */
extern const veil_store_ops veil_store_fs_ops;
veil_status veil_store_fs_open(const char *root, void **impl, veil_err *err);

#endif
