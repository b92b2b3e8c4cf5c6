/*
 * veil object store: content-addressed blobs behind one backend interface
 * (docs/formats/store.md).
 *
 * An object's id is the lowercase hex SHA-256 of its bytes (for veil, the
 * ciphertext of an encrypted container). Callers hold a veil_store and call
 * the functions below; which backend serves them (the local filesystem
 * today, S3 later) is chosen once by veil_store_open from the location, so
 * callers never change when a backend is added.
 *
 * What every backend guarantees:
 *  1. Atomic visibility: an object is visible under its id complete or not
 *     at all; an aborted or failed put leaves nothing under any id.
 *  2. Content addressing: the id is computed here, from the bytes as they
 *     were written, never taken from the caller or the backend.
 *  3. Verification on read: the reader hashes what it returns and, at the
 *     end, reports VEIL_E_CORRUPT instead of the end of the stream when the
 *     bytes do not match the id, so no consumer sees a clean end of a
 *     modified object.
 *
 * A veil_store may be shared by threads once opened; a writer or a reader
 * belongs to one thread at a time.
 */
#ifndef VEIL_STORE_H
#define VEIL_STORE_H

#include "veil/base.h"

/* An id is 64 lowercase hex digits; buffers for it hold VEIL_STORE_ID_MAX. */
#define VEIL_STORE_ID_LEN 64
#define VEIL_STORE_ID_MAX (VEIL_STORE_ID_LEN + 1)
/* Longest location veil_store_open accepts. */
#define VEIL_STORE_URL_MAX 4000

typedef struct veil_store veil_store;
typedef struct veil_store_writer veil_store_writer;
typedef struct veil_store_reader veil_store_reader;

/* Opens the store at `url_or_path`: a plain path or "file:///abs/path"
 * selects the filesystem backend (its root folder and root/tmp are created,
 * mode 0700, when missing; a root/tmp that is not a real folder, a symlink
 * included, gives VEIL_E_CORRUPT). Any other "scheme://" gives
 * VEIL_E_UNSUPPORTED. On success the caller owns *out and frees it with
 * veil_store_close; on error *out is NULL. */
veil_status veil_store_open(const char *url_or_path, veil_store **out, veil_err *err) VEIL_MUST_CHECK;
void veil_store_close(veil_store *s); /* NULL ok; writers and readers must be closed first */
/* Short name of the backend serving s ("fs"). */
const char *veil_store_backend(const veil_store *s);

/* VEIL_OK when id is exactly 64 lowercase hex digits, else VEIL_E_INVALID. */
veil_status veil_store_id_check(const char *id, veil_err *err) VEIL_MUST_CHECK;

/* ---- writing: begin, write any number of times, then commit or abort ---- */
/* On error *w is NULL. */
veil_status veil_store_put_begin(veil_store *s, veil_store_writer **w, veil_err *err) VEIL_MUST_CHECK;
/* Has the shape of veil_write_fn with ctx = the veil_store_writer, so it can
 * be handed to veil_obj_seal directly. After a failure nothing of the object
 * remains on the backend; the writer only needs veil_store_put_abort. */
veil_status veil_store_put_write(void *w, const uint8_t *buf, size_t n, veil_err *err) VEIL_MUST_CHECK;
/* Makes the object durable and visible under its id, written to id_out. An
 * object already under that id is kept, and the new copy dropped, only if
 * its bytes hash to the id (checked by reading it); anything else there is
 * replaced by the new copy atomically. Always frees w, on success and on
 * error. On error id_out is "" and no partial object is visible (a complete
 * one may be, when only the final folder sync failed; putting the same
 * bytes again is then harmless). */
veil_status veil_store_put_commit(veil_store_writer *w, char id_out[VEIL_STORE_ID_MAX],
                                  veil_err *err) VEIL_MUST_CHECK;
/* Discards everything written and frees w. NULL ok. */
void veil_store_put_abort(veil_store_writer *w);

/* ---- reading, verified against the id ---- */
/* VEIL_E_INVALID for a malformed id, VEIL_E_NOTFOUND when absent,
 * VEIL_E_CORRUPT when what is stored under the id is not an object the store
 * wrote (a FIFO, symlink or folder planted in a filesystem store); it
 * returns promptly whatever was planted. On error *r is NULL. */
veil_status veil_store_get_open(veil_store *s, const char *id, veil_store_reader **r,
                                veil_err *err) VEIL_MUST_CHECK;
/* Has the shape of veil_read_fn with ctx = the veil_store_reader. *got == 0
 * is reported only after the whole object matched its id; a mismatch gives
 * VEIL_E_CORRUPT instead (and again on every later call). n must be > 0. */
veil_status veil_store_get_read(void *r, uint8_t *buf, size_t n, size_t *got, veil_err *err) VEIL_MUST_CHECK;
void veil_store_get_close(veil_store_reader *r); /* NULL ok */

/* ---- whole objects ---- */
/* VEIL_E_NOTFOUND when absent, VEIL_E_CORRUPT as for get_open. Opens nothing. */
veil_status veil_store_size(veil_store *s, const char *id, uint64_t *size, veil_err *err) VEIL_MUST_CHECK;
/* *exists is false for a well-formed id that is absent; errors are for a
 * malformed id, a backend that cannot answer, or an entry that is not an
 * object (VEIL_E_CORRUPT: never reported as absent). Opens nothing. */
veil_status veil_store_exists(veil_store *s, const char *id, bool *exists, veil_err *err) VEIL_MUST_CHECK;
/* Deletes the object durably, or whatever entry was planted under its id
 * (without opening it). VEIL_E_NOTFOUND when absent. */
veil_status veil_store_remove(veil_store *s, const char *id, veil_err *err) VEIL_MUST_CHECK;
/* Reads the object to its end: VEIL_OK, VEIL_E_CORRUPT, VEIL_E_NOTFOUND... */
veil_status veil_store_verify(veil_store *s, const char *id, veil_err *err) VEIL_MUST_CHECK;

/* Called once per object, in no particular order; entries that are not
 * objects the store wrote are skipped, and none is opened. A status other
 * than VEIL_OK stops the listing and is returned by veil_store_list. */
typedef veil_status (*veil_store_list_fn)(void *ctx, const char *id, veil_err *err);
veil_status veil_store_list(veil_store *s, veil_store_list_fn cb, void *ctx, veil_err *err) VEIL_MUST_CHECK;

/* Removes temporary files of puts that were never committed or aborted
 * (killed processes) and were last written at least older_than_seconds
 * ago. Choose an age well above the longest pause of a live upload; 0
 * removes every temporary file, for a caller that knows no put is running
 * (veil gc holds the workspace lock exclusively). */
veil_status veil_store_sweep_tmp(veil_store *s, int64_t older_than_seconds, veil_err *err) VEIL_MUST_CHECK;

#endif
