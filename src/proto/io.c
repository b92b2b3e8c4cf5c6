/*
 * Frames on a connected stream socket. Reads and writes wait at most the
 * connection's timeout, so a peer that stops answering ends the session
 * with an error instead of hanging the command; the body is read only after
 * its header was checked, so a length in a frame never sizes an allocation
 * beyond VEIL_PROTO_BODY_MAX.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "veil/proto.h"

static veil_status wait_fd(veil_proto_conn *c, short events, veil_err *err)
{
	if (c->timeout_ms <= 0)
		return VEIL_OK;
	struct pollfd p = {.fd = c->fd, .events = events};
	for (;;) {
		int n = poll(&p, 1, c->timeout_ms);
		if (n > 0)
			return VEIL_OK;
		if (n == 0)
			return veil_err_set(err, VEIL_E_IO,
			                    "the other side of the worker session did not answer in %d s",
			                    c->timeout_ms / 1000);
		if (errno != EINTR)
			return veil_err_errno(err, VEIL_E_IO, errno, "waiting on the worker session");
	}
}

static veil_status write_all(veil_proto_conn *c, const uint8_t *p, size_t n, veil_err *err)
{
	while (n) {
		veil_status st = wait_fd(c, POLLOUT, err);
		if (st)
			return st;
		/* MSG_NOSIGNAL: a peer that went away is an error, not SIGPIPE. */
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return veil_err_errno(err, VEIL_E_IO, errno,
			                      "the worker session ended while sending");
		}
		p += w;
		n -= (size_t)w;
	}
	return VEIL_OK;
}

static veil_status read_all(veil_proto_conn *c, uint8_t *p, size_t n, bool *eof_at_start, veil_err *err)
{
	size_t done = 0;
	while (done < n) {
		veil_status st = wait_fd(c, POLLIN, err);
		if (st)
			return st;
		ssize_t r = read(c->fd, p + done, n - done);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return veil_err_errno(err, VEIL_E_IO, errno, "reading from the worker session");
		}
		if (r == 0) {
			if (done == 0 && eof_at_start)
				*eof_at_start = true;
			return veil_err_set(err, VEIL_E_IO, "the other side ended the worker session%s",
			                    done ? " in the middle of a frame" : "");
		}
		done += (size_t)r;
	}
	return VEIL_OK;
}

veil_status veil_proto_send(veil_proto_conn *c, const veil_proto_out *o, veil_err *err)
{
	uint8_t hdr[VEIL_PROTO_HEADER_LEN] = {'V', 'W', VEIL_PROTO_VERSION, o->type};
	veil_put_be32(hdr + 4, (uint32_t)o->body.len);
	veil_status st = write_all(c, hdr, sizeof hdr, err);
	if (!st && o->body.len)
		st = write_all(c, o->body.data, o->body.len, err);
	return st;
}

veil_status veil_proto_recv(veil_proto_conn *c, veil_proto_msg *msg, veil_err *err)
{
	memset(msg, 0, sizeof *msg);
	uint8_t hdr[VEIL_PROTO_HEADER_LEN], type;
	uint32_t len;
	bool eof = false;
	veil_status st = read_all(c, hdr, sizeof hdr, &eof, err);
	if (st)
		return st;
	if ((st = veil_proto_header_parse(hdr, &type, &len, err)))
		return st;
	uint8_t *body = malloc(len ? len : 1);
	if (!body)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory for a %u-byte message", len);
	if ((st = read_all(c, body, len, NULL, err))) {
		free(body);
		return st;
	}
	return veil_proto_msg_parse(type, body, len, msg, err);
}

veil_status veil_proto_error_status(const veil_proto_msg *msg, veil_err *err)
{
	char text[1025];
	uint64_t code = VEIL_E_INTERNAL;
	const veil_proto_field *f = veil_proto_get(msg, VEIL_F_STATUS, 0);
	if (f)
		code = veil_get_be32(f->value);
	if (code == VEIL_OK || code > VEIL_E_DIVERGED)
		code = VEIL_E_INTERNAL;
	if (veil_proto_get_text(msg, VEIL_F_MESSAGE, 0, text, sizeof text, NULL))
		text[0] = '\0';
	return veil_err_set(err, (veil_status)code, "the peer: %s", text);
}

veil_status veil_proto_expect(veil_proto_conn *c, uint8_t want, veil_proto_msg *msg, veil_err *err)
{
	return veil_proto_expect_either(c, want, want, msg, err);
}

veil_status veil_proto_expect_either(veil_proto_conn *c, uint8_t want, uint8_t or_want, veil_proto_msg *msg,
                                     veil_err *err)
{
	veil_status st = veil_proto_recv(c, msg, err);
	if (st)
		return st;
	if (msg->type == want || msg->type == or_want)
		return VEIL_OK;
	if (msg->type == VEIL_MSG_ERROR) {
		st = veil_proto_error_status(msg, err);
		veil_proto_msg_free(msg);
		return st;
	}
	st = veil_err_set(err, VEIL_E_INVALID, "expected a %s message, got %s", veil_proto_type_name(want),
	                  veil_proto_type_name(msg->type));
	veil_proto_msg_free(msg);
	return st;
}

void veil_proto_send_error(veil_proto_conn *c, const veil_err *e)
{
	veil_proto_out o;
	veil_proto_out_init(&o, VEIL_MSG_ERROR);
	veil_err ignored;
	const char *text = e && e->msg[0] ? e->msg : "unspecified error";
	/* The message field is printable ASCII: anything else becomes '?'. */
	char clean[1025];
	size_t n = 0;
	for (; n < sizeof clean - 1 && text[n]; n++)
		clean[n] = (text[n] >= 0x20 && text[n] <= 0x7e) ? text[n] : '?';
	clean[n] = '\0';
	if (!veil_proto_add_u32(&o, VEIL_F_STATUS, e && e->code ? (uint32_t)e->code : VEIL_E_INTERNAL,
	                        &ignored) &&
	    !veil_proto_add_text(&o, VEIL_F_MESSAGE, clean, &ignored) && veil_proto_send(c, &o, &ignored))
		veil_log(VEIL_LOG_DEBUG, "proto.error", "could not tell the peer: %s", ignored.msg);
	veil_proto_out_free(&o);
}
