/* Status codes and the error object every veil function fills on failure. */
#include "veil/base.h"

#include <errno.h>
#include <string.h>

const char *veil_status_str(veil_status s)
{
	switch (s) {
	case VEIL_OK:
		return "ok";
	case VEIL_E_INVALID:
		return "invalid";
	case VEIL_E_NOMEM:
		return "out-of-memory";
	case VEIL_E_IO:
		return "io";
	case VEIL_E_NOSPACE:
		return "no-space";
	case VEIL_E_NOTFOUND:
		return "not-found";
	case VEIL_E_EXISTS:
		return "exists";
	case VEIL_E_CORRUPT:
		return "corrupt";
	case VEIL_E_AUTH:
		return "auth";
	case VEIL_E_CRYPTO:
		return "crypto";
	case VEIL_E_KEY:
		return "key";
	case VEIL_E_UNSUPPORTED:
		return "unsupported";
	case VEIL_E_WORKSPACE:
		return "workspace";
	case VEIL_E_DB:
		return "database";
	case VEIL_E_LIMIT:
		return "limit";
	case VEIL_E_DENIED:
		return "denied";
	case VEIL_E_BUSY:
		return "busy";
	case VEIL_E_INTERNAL:
		return "internal";
	case VEIL_E_DIVERGED:
		return "diverged";
	}
	return "unknown";
}

VEIL_PRINTF(3, 0)
static void vset(veil_err *err, veil_status code, const char *fmt, va_list ap)
{
	err->code = code;
	err->hint[0] = '\0';
	/* Truncation of a message is acceptable; it is only ever shown. */
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

veil_status veil_err_set(veil_err *err, veil_status code, const char *fmt, ...)
{
	if (!err)
		return code;
	va_list ap;
	va_start(ap, fmt);
	vset(err, code, fmt, ap);
	va_end(ap);
	return code;
}

veil_status veil_err_errno(veil_err *err, veil_status code, int errnum, const char *fmt, ...)
{
	switch (errnum) {
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		code = VEIL_E_NOSPACE;
		break;
	case ENOENT:
		code = VEIL_E_NOTFOUND;
		break;
	case EEXIST:
		code = VEIL_E_EXISTS;
		break;
	case ENOMEM:
		code = VEIL_E_NOMEM;
		break;
	default:
		break;
	}
	if (!err)
		return code;
	va_list ap;
	va_start(ap, fmt);
	vset(err, code, fmt, ap);
	va_end(ap);
	size_t len = strlen(err->msg);
	snprintf(err->msg + len, sizeof err->msg - len, ": %s", strerror(errnum));
	if (code == VEIL_E_NOSPACE)
		veil_err_hint(
		        err, "free some disk space (or raise the file size limit) and run the command again");
	return code;
}

veil_status veil_err_hint(veil_err *err, const char *fmt, ...)
{
	if (!err)
		return VEIL_E_INTERNAL;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->hint, sizeof err->hint, fmt, ap);
	va_end(ap);
	return err->code;
}

veil_status veil_err_wrap(veil_err *err, const char *fmt, ...)
{
	if (!err)
		return VEIL_E_INTERNAL;
	char prefix[VEIL_ERR_MSG_MAX];
	char old[VEIL_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof old);
	/* Keep as much of both as fits; a cut message is still useful. */
	size_t n = strnlen(prefix, sizeof err->msg - 3);
	memcpy(err->msg, prefix, n);
	memcpy(err->msg + n, ": ", 2);
	size_t room = sizeof err->msg - n - 3;
	size_t m = strnlen(old, room);
	memcpy(err->msg + n + 2, old, m);
	err->msg[n + 2 + m] = '\0';
	return err->code;
}

void veil_err_clear(veil_err *err)
{
	if (!err)
		return;
	err->code = VEIL_OK;
	err->msg[0] = '\0';
	err->hint[0] = '\0';
}
