/*
 * JSON-lines logging to stderr for operators. Off unless VEIL_LOG is set,
 * so a user's terminal only shows the CLI's own messages. The level is the
 * only global mutable state in veil (DESIGN.md section 8).
 */
#include "veil/base.h"

#include <stdlib.h>
#include <string.h>

static veil_log_level g_level = VEIL_LOG_OFF;

void veil_log_init(void)
{
	const char *v = getenv("VEIL_LOG");
	if (!v)
		return;
	if (strcmp(v, "debug") == 0)
		g_level = VEIL_LOG_DEBUG;
	else if (strcmp(v, "info") == 0)
		g_level = VEIL_LOG_INFO;
	else if (strcmp(v, "warn") == 0)
		g_level = VEIL_LOG_WARN;
	else if (strcmp(v, "error") == 0)
		g_level = VEIL_LOG_ERROR;
}

static void json_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

void veil_log(veil_log_level lvl, const char *event, const char *fmt, ...)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	if (lvl < g_level || lvl >= VEIL_LOG_OFF)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	char ts[VEIL_TIME_STR_MAX];
	veil_time_format(veil_time_now(), ts);
	fprintf(stderr, "{\"time\":\"%s\",\"level\":\"%s\",\"event\":\"", ts, names[lvl]);
	json_escape(stderr, event);
	fputs("\",\"msg\":\"", stderr);
	json_escape(stderr, msg);
	fputs("\"}\n", stderr);
}
