/*
 * veil base layer: status codes, the error object, buffers, atomic files,
 * time, durations and JSON-lines logging.
 *
 * Every fallible function in veil returns a veil_status and, on failure,
 * fills a caller-provided veil_err with a message that says what was wrong
 * and (in `hint`) what the user can do about it. Library code never prints
 * and never exits; the CLI decides what to say.
 */
#ifndef VEIL_BASE_H
#define VEIL_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VEIL_MUST_CHECK   __attribute__((warn_unused_result))
#define VEIL_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* 0 is success. Keep veil_status_str() in step: its switch has no default,
 * so -Werror reports a code that has no message. */
typedef enum veil_status {
	VEIL_OK = 0,
	VEIL_E_INVALID,     /* bad argument or malformed input */
	VEIL_E_NOMEM,       /* allocation failed */
	VEIL_E_IO,          /* read/write/open failed */
	VEIL_E_NOSPACE,     /* disk full or file size limit */
	VEIL_E_NOTFOUND,    /* named thing does not exist */
	VEIL_E_EXISTS,      /* named thing already exists */
	VEIL_E_CORRUPT,     /* integrity check failed: tampered or damaged */
	VEIL_E_AUTH,        /* authentication failed (wrong passphrase, bad tag) */
	VEIL_E_CRYPTO,      /* the crypto library failed */
	VEIL_E_KEY,         /* key missing, retired, destroyed or wrong version */
	VEIL_E_UNSUPPORTED, /* valid but not supported (format version, mechanism) */
	VEIL_E_WORKSPACE,   /* no workspace, or not a veil workspace */
	VEIL_E_DB,          /* catalog database error */
	VEIL_E_LIMIT,       /* a bound was exceeded */
	VEIL_E_DENIED,      /* refused by policy */
	VEIL_E_BUSY,        /* resource locked by another process */
	VEIL_E_INTERNAL,    /* a bug: an invariant did not hold */
	VEIL_E_DIVERGED,    /* training produced a non-finite loss or parameter */
} veil_status;

#define VEIL_ERR_MSG_MAX  512
#define VEIL_ERR_HINT_MAX 256

typedef struct veil_err {
	veil_status code;
	char msg[VEIL_ERR_MSG_MAX];   /* what went wrong; never holds secrets */
	char hint[VEIL_ERR_HINT_MAX]; /* what to do next; may be empty */
} veil_err;

/* Short stable name of a status ("corrupt", "no-space", ...). */
const char *veil_status_str(veil_status s);

/* Sets err (may be NULL) and returns code, so callers can write
 * `return veil_err_set(err, VEIL_E_INVALID, "bad %s", what);` */
veil_status veil_err_set(veil_err *err, veil_status code, const char *fmt, ...) VEIL_PRINTF(3, 4);
/* Like veil_err_set, appending ": strerror(errnum)" and mapping
 * ENOSPC/EDQUOT/EFBIG to VEIL_E_NOSPACE, ENOENT to VEIL_E_NOTFOUND,
 * EEXIST to VEIL_E_EXISTS and everything else to `code`. */
veil_status veil_err_errno(veil_err *err, veil_status code, int errnum, const char *fmt, ...)
        VEIL_PRINTF(4, 5);
/* Sets the hint of an error that was already set. Returns err->code, or
 * VEIL_E_INTERNAL when err is NULL: callers return their own code. */
veil_status veil_err_hint(veil_err *err, const char *fmt, ...) VEIL_PRINTF(2, 3);
/* Prepends "prefix: " to err->msg, keeping code and hint. Returns err->code. */
veil_status veil_err_wrap(veil_err *err, const char *fmt, ...) VEIL_PRINTF(2, 3);
void veil_err_clear(veil_err *err);

/* ---- growable byte buffer (never for secrets: it is not wiped) ---- */
typedef struct veil_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
} veil_buf;

veil_status veil_buf_reserve(veil_buf *b, size_t extra, veil_err *err) VEIL_MUST_CHECK;
veil_status veil_buf_append(veil_buf *b, const void *p, size_t n, veil_err *err) VEIL_MUST_CHECK;
veil_status veil_buf_printf(veil_buf *b, veil_err *err, const char *fmt, ...)
        VEIL_PRINTF(3, 4) VEIL_MUST_CHECK;
void veil_buf_free(veil_buf *b);

/* ---- big-endian integers ---- */
static inline void veil_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void veil_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void veil_put_be64(uint8_t *p, uint64_t v)
{
	veil_put_be32(p, (uint32_t)(v >> 32));
	veil_put_be32(p + 4, (uint32_t)v);
}
static inline uint16_t veil_get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t veil_get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t veil_get_be64(const uint8_t *p)
{
	return ((uint64_t)veil_get_be32(p) << 32) | veil_get_be32(p + 4);
}

/* ---- hex ---- */
/* Writes 2*n lowercase hex digits and a NUL to out (size >= 2*n+1). */
void veil_hex_encode(const uint8_t *in, size_t n, char *out);
/* Decodes exactly n bytes from 2*n hex digits; VEIL_E_INVALID otherwise. */
veil_status veil_hex_decode(const char *hex, uint8_t *out, size_t n, veil_err *err) VEIL_MUST_CHECK;

/* ---- files ---- */
/* Upper bound for veil_fs_read_file when the caller has no better one. */
#define VEIL_FS_READ_MAX (64u << 20)

/* Reads a whole file of at most `max` bytes into a fresh buffer. */
veil_status veil_fs_read_file(const char *path, size_t max, veil_buf *out, veil_err *err) VEIL_MUST_CHECK;
/* Writes data to path atomically: temp file in the same folder, fsync,
 * rename over path, fsync of the folder. On failure path is untouched and
 * no temp file remains. `mode` applies to the new file (e.g. 0600). */
veil_status veil_fs_write_atomic(const char *path, const void *data, size_t len, unsigned mode,
                                 veil_err *err) VEIL_MUST_CHECK;
/* Creates path exclusively (O_EXCL|O_NOFOLLOW) with the data, fsynced. For
 * secret files: fails with VEIL_E_EXISTS rather than overwrite. */
veil_status veil_fs_write_new(const char *path, const void *data, size_t len, unsigned mode,
                              veil_err *err) VEIL_MUST_CHECK;
veil_status veil_fs_fsync_dir(const char *dir, veil_err *err) VEIL_MUST_CHECK;
/* mkdir -p with the given mode for folders it creates. */
veil_status veil_fs_mkdirs(const char *path, unsigned mode, veil_err *err) VEIL_MUST_CHECK;
bool veil_fs_exists(const char *path);
bool veil_fs_is_dir(const char *path);
/* Writes all n bytes, retrying on EINTR/short writes. */
veil_status veil_fs_write_all(int fd, const void *p, size_t n, const char *what,
                              veil_err *err) VEIL_MUST_CHECK;
/* Joins a and b with '/' into out; VEIL_E_LIMIT if it does not fit. */
veil_status veil_path_join(char *out, size_t outsz, const char *a, const char *b,
                           veil_err *err) VEIL_MUST_CHECK;

/* Streaming atomic file: open, write through it, then commit or abort.
 *
 * Where the folder's filesystem supports O_TMPFILE (ext4, xfs, btrfs, tmpfs
 * on Linux), open makes an unnamed file with no entry in the folder: if the
 * process dies before commit, even by SIGKILL, the kernel frees it and no
 * data (often decrypted data) is left behind under any name. commit fsyncs
 * it, links it (through /proc/self/fd) under a fresh hidden name
 * ".veil-tmp-<random hex>" in the same folder, renames that over the final
 * path (an existing file is replaced atomically) and fsyncs the folder; only
 * a death in the instant between that link and the rename can leave the
 * hidden name behind. Without O_TMPFILE or /proc, open falls back to a named
 * ".veil-tmp-XXXXXX" file, which a killed process does leave behind.
 *
 * The new file gets exactly `mode` (umask does not apply). If commit fails,
 * the file is aborted: the final path is untouched and no temp file remains.
 * abort closes the file and removes the temp name if it has one. After open
 * succeeds, exactly one of commit or abort must follow; abort is harmless
 * after a failed open, and on a struct initialised with .fd = -1. */
typedef struct veil_atomic_file {
	int fd;
	bool unnamed;        /* O_TMPFILE: no folder entry until commit links it */
	char tmp_path[4096]; /* the temp file's name; empty while it has none */
	char final_path[4096];
} veil_atomic_file;

veil_status veil_atomic_open(veil_atomic_file *f, const char *path, unsigned mode,
                             veil_err *err) VEIL_MUST_CHECK;
veil_status veil_atomic_write(veil_atomic_file *f, const void *p, size_t n, veil_err *err) VEIL_MUST_CHECK;
veil_status veil_atomic_commit(veil_atomic_file *f, veil_err *err) VEIL_MUST_CHECK;
void veil_atomic_abort(veil_atomic_file *f);

/* ---- streams: how the container and stores move bytes without knowing
 * whether the other end is a file, a socket or memory ---- */
/* Reads up to n bytes; *got == 0 means end of stream. */
typedef veil_status (*veil_read_fn)(void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err);
/* Writes all n bytes or fails. */
typedef veil_status (*veil_write_fn)(void *ctx, const uint8_t *buf, size_t n, veil_err *err);

/* fd adaptors: ctx is a pointer to an int file descriptor. */
veil_status veil_fd_read(void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err);
veil_status veil_fd_write(void *ctx, const uint8_t *buf, size_t n, veil_err *err);
/* Memory adaptors. veil_mem_read's ctx is a veil_mem_reader over p[0..n);
 * veil_buf_write's ctx is a veil_buf to append to. */
typedef struct veil_mem_reader {
	const uint8_t *p;
	size_t n, off;
} veil_mem_reader;
veil_status veil_mem_read(void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err);
veil_status veil_buf_write(void *ctx, const uint8_t *buf, size_t n, veil_err *err);
/* Reads until buf is full or end of stream (loops over short reads). */
veil_status veil_read_full(veil_read_fn rd, void *ctx, uint8_t *buf, size_t n, size_t *got,
                           veil_err *err) VEIL_MUST_CHECK;

/* ---- time ---- */
int64_t veil_time_now(void); /* seconds since the Unix epoch, UTC */
/* "2026-11-22T13:49:21Z"; out must hold VEIL_TIME_STR_MAX bytes. */
#define VEIL_TIME_STR_MAX 32
void veil_time_format(int64_t t, char out[VEIL_TIME_STR_MAX]);
/* Parses "2026-11-22T13:49:21Z" or "2026-11-22", exactly as veil_time_format
 * writes them (two-digit fields, UTC): dates and times that do not exist
 * ("2026-02-31", "2026-02-29", "25:00:00", leap second ":60") and other
 * spellings are refused with VEIL_E_INVALID; on error *out is unchanged. */
veil_status veil_time_parse(const char *s, int64_t *out, veil_err *err) VEIL_MUST_CHECK;
/* Parses durations like "30d", "12h", "90m", "45s", "2w" into seconds. */
veil_status veil_duration_parse(const char *s, int64_t *seconds, veil_err *err) VEIL_MUST_CHECK;

/* ---- logging: JSON lines on stderr, off unless VEIL_LOG names a level.
 * Never pass secrets or plaintext. ---- */
typedef enum { VEIL_LOG_DEBUG, VEIL_LOG_INFO, VEIL_LOG_WARN, VEIL_LOG_ERROR, VEIL_LOG_OFF } veil_log_level;
void veil_log_init(void); /* reads VEIL_LOG=debug|info|warn|error */
void veil_log(veil_log_level lvl, const char *event, const char *fmt, ...) VEIL_PRINTF(3, 4);

/* ---- text ---- */
/* snprintf that reports truncation as VEIL_E_LIMIT. */
veil_status veil_fmt(char *out, size_t outsz, veil_err *err, const char *fmt, ...)
        VEIL_PRINTF(4, 5) VEIL_MUST_CHECK;
/* Validates a name (datasets, keys, owners): 1..64 of [A-Za-z0-9._-],
 * not starting with '.' or '-'. `what` names it in the error. */
veil_status veil_name_check(const char *name, const char *what, veil_err *err) VEIL_MUST_CHECK;

/* ---- UTF-8 (src/base/utf8.c) ---- */
/* Checks that p[0..n) is UTF-8 as RFC 3629 defines it (no overlong forms,
 * no surrogates, nothing above U+10FFFF). On failure *bad is the offset of
 * the first byte of the first bad sequence. */
bool veil_utf8_valid(const uint8_t *p, size_t n, size_t *bad);
/* Length of the valid UTF-8 sequence at s, whose first byte is >= 0x80: 2
 * to 4; 0 when the avail bytes are a valid prefix of a longer one; -1 when
 * invalid. */
int veil_utf8_seq(const uint8_t *s, size_t avail);

/* ---- YAML configuration: a document of nested mappings whose leaves are
 * scalars, flattened to dotted keys ("lifecycle.keep_versions"). Sequences
 * and anchors are refused: veil's config has no use for them, and refusing
 * them keeps the parser's surface small. ---- */
#define VEIL_YAML_MAX_BYTES (1u << 20)
#define VEIL_YAML_MAX_KEYS  1024
#define VEIL_YAML_MAX_DEPTH 8
typedef struct veil_kv {
	char *key;
	char *value;
	int line; /* 1-based, for error messages */
} veil_kv;
typedef struct veil_yaml_map {
	veil_kv *items;
	size_t n;
} veil_yaml_map;
veil_status veil_yaml_parse_map(const char *text, size_t len, const char *name, veil_yaml_map *out,
                                veil_err *err) VEIL_MUST_CHECK;
veil_status veil_yaml_load_map(const char *path, veil_yaml_map *out, veil_err *err) VEIL_MUST_CHECK;
/* NULL when absent. */
const char *veil_yaml_get(const veil_yaml_map *m, const char *key);
void veil_yaml_free(veil_yaml_map *m);

#endif
