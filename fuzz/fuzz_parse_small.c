/*
 * Fuzz target: the small text parsers that read what users and files type:
 * dataset references, durations, times, hex, names and store ids. The first
 * byte picks the parser; the rest, NUL-terminated in an exact-size copy, is
 * its text (for hex, the second byte is the number of bytes wanted).
 *
 * Invariants (abort on violation): every failure has an error message and
 * leaves the outputs empty; every success round-trips:
 *  - ref:      "name" or "name@N" formats back to the input exactly, and the
 *              name passes veil_name_check;
 *  - duration: 1 second .. 100 years;
 *  - time:     formatting it and parsing that gives the same time;
 *  - hex:      encoding the bytes gives the input, lowercased;
 *  - name:     1..64 of [A-Za-z0-9._-], not starting with '.' or '-';
 *  - store id: 64 lowercase hex digits.
 */
#include "fuzz.h"
#include "veil/catalog.h"
#include "veil/store.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void failed(veil_status st, const veil_err *err)
{
	fuzz_note("parse", st, err);
	FUZZ_CHECK(st != VEIL_OK, "expected a failure");
	FUZZ_CHECK(err->code == st && err->msg[0] != '\0', "a failure without an error message");
}

static void ref(const char *s)
{
	char name[VEIL_CATALOG_NAME_MAX];
	uint32_t version = 99;
	veil_err err = {0};
	veil_status st = veil_catalog_parse_ref(s, name, &version, &err);
	if (st) {
		failed(st, &err);
		FUZZ_CHECK(name[0] == '\0' && version == 0, "a failed parse left a name or version");
		return;
	}
	FUZZ_CHECK(veil_name_check(name, "name", NULL) == VEIL_OK, "a reference with an invalid name");
	char back[VEIL_CATALOG_NAME_MAX + 16];
	if (version)
		snprintf(back, sizeof back, "%s@%u", name, version);
	else
		snprintf(back, sizeof back, "%s", name);
	FUZZ_CHECK(strcmp(back, s) == 0, "a reference does not format back to its text");
}

static void duration(const char *s)
{
	int64_t secs = -1;
	veil_err err = {0};
	veil_status st = veil_duration_parse(s, &secs, &err);
	if (st) {
		failed(st, &err);
		return;
	}
	FUZZ_CHECK(secs >= 1 && secs <= 100LL * 365 * 86400, "a duration outside 1 s .. 100 years");
}

static void timestamp(const char *s)
{
	int64_t t = 0, t2 = 0;
	veil_err err = {0};
	veil_status st = veil_time_parse(s, &t, &err);
	if (st) {
		failed(st, &err);
		return;
	}
	if (t < 0 || t > 253402300799) /* only years 1970..9999 print as the parser reads them */
		return;
	char text[VEIL_TIME_STR_MAX];
	veil_time_format(t, text);
	FUZZ_CHECK(veil_time_parse(text, &t2, NULL) == VEIL_OK && t2 == t, "a time does not round-trip");
}

static void hex(const char *s, size_t n)
{
	uint8_t out[128];
	char back[2 * sizeof out + 1];
	veil_err err = {0};
	veil_status st = veil_hex_decode(s, out, n, &err);
	if (st) {
		failed(st, &err);
		return;
	}
	FUZZ_CHECK(strlen(s) == 2 * n, "hex of the wrong length accepted");
	veil_hex_encode(out, n, back);
	for (size_t i = 0; i < 2 * n; i++)
		FUZZ_CHECK(back[i] == tolower((unsigned char)s[i]), "hex does not round-trip");
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '_' || c == '-';
}

static void name(const char *s)
{
	veil_err err = {0};
	veil_status st = veil_name_check(s, "fuzzed name", &err);
	if (st) {
		failed(st, &err);
		return;
	}
	size_t n = strlen(s);
	FUZZ_CHECK(n >= 1 && n <= 64 && s[0] != '.' && s[0] != '-', "a name of bad length or start accepted");
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(name_char(s[i]), "a name with a bad character accepted");
}

static void store_id(const char *s)
{
	veil_err err = {0};
	veil_status st = veil_store_id_check(s, &err);
	if (st) {
		failed(st, &err);
		return;
	}
	FUZZ_CHECK(strlen(s) == VEIL_STORE_ID_LEN, "a store id of the wrong length accepted");
	for (size_t i = 0; i < VEIL_STORE_ID_LEN; i++)
		FUZZ_CHECK((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'),
		           "a store id that is not lowercase hex");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	unsigned which = data[0] % 6;
	size_t skip = which == 3 && size > 1 ? 2 : 1; /* hex: data[1] is the byte count */
	char *s = fuzz_strndup(data + skip, size - skip);
	switch (which) {
	case 0:
		ref(s);
		break;
	case 1:
		duration(s);
		break;
	case 2:
		timestamp(s);
		break;
	case 3:
		hex(s, skip == 2 ? data[1] % 128 : 0);
		break;
	case 4:
		name(s);
		break;
	case 5:
		store_id(s);
		break;
	}
	free(s);
	return 0;
}
