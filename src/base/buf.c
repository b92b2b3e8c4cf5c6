/* Growable byte buffers, hex, bounded formatting and name checks. */
#include "veil/base.h"

#include <stdlib.h>
#include <string.h>

veil_status veil_buf_reserve(veil_buf *b, size_t extra, veil_err *err)
{
	if (extra > SIZE_MAX / 2 - b->len)
		return veil_err_set(err, VEIL_E_LIMIT, "buffer would exceed the address space");
	size_t need = b->len + extra;
	if (need <= b->cap)
		return VEIL_OK;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	uint8_t *p = realloc(b->data, cap);
	if (!p)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory growing a buffer to %zu bytes", cap);
	b->data = p;
	b->cap = cap;
	return VEIL_OK;
}

veil_status veil_buf_append(veil_buf *b, const void *p, size_t n, veil_err *err)
{
	veil_status st = veil_buf_reserve(b, n + 1, err); /* +1 keeps room for a NUL */
	if (st)
		return st;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return VEIL_OK;
}

veil_status veil_buf_printf(veil_buf *b, veil_err *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return veil_err_set(err, VEIL_E_INVALID, "bad format string");
	veil_status st = veil_buf_reserve(b, (size_t)n + 1, err);
	if (st)
		return st;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return VEIL_OK;
}

void veil_buf_free(veil_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void veil_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

veil_status veil_hex_decode(const char *hex, uint8_t *out, size_t n, veil_err *err)
{
	if (strlen(hex) != 2 * n)
		return veil_err_set(err, VEIL_E_INVALID, "expected %zu hex digits, got %zu", 2 * n,
		                    strlen(hex));
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return veil_err_set(err, VEIL_E_INVALID, "not a hex digit at position %zu",
			                    2 * i + (hi < 0 ? 0 : 1));
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return VEIL_OK;
}

veil_status veil_fmt(char *out, size_t outsz, veil_err *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, outsz, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= outsz)
		return veil_err_set(err, VEIL_E_LIMIT, "text too long (limit %zu bytes)", outsz - 1);
	return VEIL_OK;
}

veil_status veil_name_check(const char *name, const char *what, veil_err *err)
{
	size_t n = strlen(name);
	if (n == 0 || n > 64)
		return veil_err_set(err, VEIL_E_INVALID, "%s must be 1 to 64 characters long", what);
	if (name[0] == '.' || name[0] == '-')
		return veil_err_set(err, VEIL_E_INVALID, "%s must not start with '.' or '-'", what);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		          c == '.' || c == '_' || c == '-';
		if (!ok) {
			veil_err_set(err, VEIL_E_INVALID,
			             "%s has a character that is not allowed at position %zu", what, i + 1);
			veil_err_hint(err, "use letters, digits, '.', '_' and '-'");
			return VEIL_E_INVALID;
		}
	}
	return VEIL_OK;
}
