/* Wall-clock time in UTC, ISO 8601 text, and human durations ("30d"). */
#include "veil/base.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t veil_time_now(void)
{
	return (int64_t)time(NULL);
}

void veil_time_format(int64_t t, char out[VEIL_TIME_STR_MAX])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, VEIL_TIME_STR_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* strptime checks each field's range on its own and timegm then normalises
 * what is left ("2026-02-31" becomes March 3rd), so the time is accepted
 * only if it formats back to exactly the text given. That refuses dates
 * that do not exist, leap seconds and loose spellings ("2026-1-5"). */
static bool parse_exact(const char *s, bool with_time, int64_t *out)
{
	struct tm tm, back;
	memset(&tm, 0, sizeof tm);
	const char *end = with_time ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : strptime(s, "%Y-%m-%d", &tm);
	if (!end || *end)
		return false;
	time_t t = timegm(&tm);
	char text[VEIL_TIME_STR_MAX];
	if (!gmtime_r(&t, &back))
		return false;
	size_t n = with_time ? strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &back)
	                     : strftime(text, sizeof text, "%Y-%m-%d", &back);
	if (n == 0 || strcmp(text, s) != 0)
		return false;
	*out = (int64_t)t;
	return true;
}

veil_status veil_time_parse(const char *s, int64_t *out, veil_err *err)
{
	if (parse_exact(s, true, out) || parse_exact(s, false, out))
		return VEIL_OK;
	veil_err_set(err, VEIL_E_INVALID, "'%.40s' is not a time", s);
	veil_err_hint(err, "write a date that exists as 2026-11-22 or 2026-11-22T13:49:21Z (UTC)");
	return VEIL_E_INVALID;
}

veil_status veil_duration_parse(const char *s, int64_t *seconds, veil_err *err)
{
	char *end = NULL;
	if (!isdigit((unsigned char)s[0]))
		goto bad;
	long long n = strtoll(s, &end, 10);
	int64_t unit;
	if (strcmp(end, "s") == 0)
		unit = 1;
	else if (strcmp(end, "m") == 0)
		unit = 60;
	else if (strcmp(end, "h") == 0)
		unit = 3600;
	else if (strcmp(end, "d") == 0)
		unit = 86400;
	else if (strcmp(end, "w") == 0)
		unit = 7 * 86400;
	else
		goto bad;
	if (n <= 0 || n > 100LL * 365 * 86400 / unit)
		goto bad;
	*seconds = (int64_t)n * unit;
	return VEIL_OK;
bad:
	veil_err_set(err, VEIL_E_INVALID, "'%.40s' is not a duration", s);
	veil_err_hint(err, "write a positive number and a unit: 45s, 90m, 12h, 30d or 2w");
	return VEIL_E_INVALID;
}
