/*
 * A dataset's plaintext as a stream, inside the worker. The container is
 * decrypted chunk by chunk (veil_obj_open, which releases a chunk only
 * once it authenticated) by a thread that reads the host's DATA messages
 * and writes the plaintext into a pipe; the job reads the other end with a
 * veil_read_fn, as a reader of CSV or IDX wants it. The pipe bounds the
 * memory whatever the size, and plaintext never touches a file.
 *
 * What a job reads is provisional until worker_plain_close says the whole
 * object authenticated: a truncated or extended object is only detected at
 * its end, so a job must not report anything before then.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "worker.h"

struct worker_plain {
	worker *w;
	char dek_id[VEIL_OBJ_KEY_ID_MAX + 1];
	const uint8_t *dek;
	int rfd, wfd;
	pthread_t thread;
	bool started;
	veil_status st; /* the decryption's result, once joined */
	veil_err err;
	uint64_t bytes;
};

static veil_status pipe_write(void *ctx, const uint8_t *buf, size_t n, veil_err *err)
{
	worker_plain *p = ctx;
	while (n) {
		ssize_t k = write(p->wfd, buf, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) /* EPIPE: the job stopped reading */
			return veil_err_errno(err, VEIL_E_IO, errno, "the job stopped reading the plaintext");
		buf += k;
		n -= (size_t)k;
		p->bytes += (uint64_t)k;
	}
	return VEIL_OK;
}

static void *decrypt_main(void *arg)
{
	worker_plain *p = arg;
	veil_err_clear(&p->err);
	p->st = worker_decrypt(p->w, p->dek_id, p->dek, pipe_write, p, &p->err);
	close(p->wfd); /* end of stream for the reader, also after an error */
	p->wfd = -1;
	return NULL;
}

veil_status worker_plain_open(worker *w, const char *dek_id, const uint8_t *dek, worker_plain **out,
                              veil_err *err)
{
	*out = NULL;
	worker_plain *p = calloc(1, sizeof *p);
	if (!p)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory");
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0) {
		free(p);
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot make the plaintext pipe");
	}
	p->w = w;
	p->dek = dek;
	p->rfd = fds[0];
	p->wfd = fds[1];
	snprintf(p->dek_id, sizeof p->dek_id, "%s", dek_id);
	int rc = pthread_create(&p->thread, NULL, decrypt_main, p);
	if (rc != 0) {
		close(fds[0]);
		close(fds[1]);
		free(p);
		return veil_err_errno(err, VEIL_E_IO, rc, "cannot start the decryption thread");
	}
	p->started = true;
	*out = p;
	return VEIL_OK;
}

veil_status worker_plain_read(void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err)
{
	worker_plain *p = ctx;
	*got = 0;
	for (;;) {
		ssize_t k = read(p->rfd, buf, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return veil_err_errno(err, VEIL_E_IO, errno, "reading the plaintext");
		*got = (size_t)k;
		return VEIL_OK;
	}
}

veil_status worker_plain_close(worker_plain *p, uint64_t *bytes, veil_err *err)
{
	if (!p)
		return VEIL_OK;
	/* Closing our end first makes a writer still running fail at once. */
	close(p->rfd);
	if (p->started)
		pthread_join(p->thread, NULL);
	veil_status st = p->st;
	if (st && err)
		*err = p->err;
	if (bytes)
		*bytes = p->bytes;
	free(p);
	return st;
}
