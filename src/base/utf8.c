/*
 * UTF-8 validation (RFC 3629), shared by the CSV reader, which checks every
 * field, and the JSON writer, which refuses to write a string that is not.
 */
#include <string.h>

#include "veil/base.h"

/* Length of the valid UTF-8 sequence at s (first byte >= 0x80), 0 when the
 * avail bytes are a valid prefix of a longer one, -1 when invalid. */
int veil_utf8_seq(const uint8_t *s, size_t avail)
{
	uint8_t b = s[0], lo = 0x80, hi = 0xbf;
	int len;
	if (b >= 0xc2 && b <= 0xdf)
		len = 2;
	else if (b >= 0xe0 && b <= 0xef) {
		len = 3;
		if (b == 0xe0)
			lo = 0xa0; /* overlong */
		else if (b == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (b >= 0xf0 && b <= 0xf4) {
		len = 4;
		if (b == 0xf0)
			lo = 0x90; /* overlong */
		else if (b == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else
		return -1;
	for (int k = 1; k < len; k++) {
		if ((size_t)k >= avail)
			return 0;
		if (s[k] < lo || s[k] > hi)
			return -1;
		lo = 0x80;
		hi = 0xbf;
	}
	return len;
}

bool veil_utf8_valid(const uint8_t *p, size_t n, size_t *bad)
{
	size_t i = 0;
	while (i < n) {
		/* ASCII eight bytes at a time: the common case for data files. */
		while (i + 8 <= n) {
			uint64_t w;
			memcpy(&w, p + i, 8);
			if (w & 0x8080808080808080ull)
				break;
			i += 8;
		}
		if (i >= n)
			break;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		int k = veil_utf8_seq(p + i, n - i);
		if (k <= 0) {
			if (bad)
				*bad = i;
			return false;
		}
		i += (size_t)k;
	}
	return true;
}
