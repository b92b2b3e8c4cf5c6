/*
 * Everything `veil` says to a person goes through here, with fixed
 * prefixes ("veil: error:", "hint:", "veil: warning:") so scripts and
 * people can tell messages from data. Data goes to stdout, messages to
 * stderr; -q silences everything but errors.
 */
#include "cli.h"

#include <libgen.h>
#include <string.h>

static cli_global *g_cli;

void cli_msg_init(cli_global *g)
{
	g_cli = g;
}

int cli_exit_code(veil_status st)
{
	return st == VEIL_OK ? VEIL_EXIT_OK : VEIL_EXIT_STATUS_BASE + (int)st;
}

int cli_fail(const veil_err *err)
{
	fprintf(stderr, "veil: error: %s\n", err->msg[0] ? err->msg : veil_status_str(err->code));
	if (err->hint[0])
		fprintf(stderr, "hint: %s\n", err->hint);
	return cli_exit_code(err->code ? err->code : VEIL_E_INTERNAL);
}

int cli_usage_error(const cli_command *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("veil: error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "hint: run 'veil %s --help' for usage\n", cmd->name);
	else
		fputs("hint: run 'veil --help' for the list of commands\n", stderr);
	return VEIL_EXIT_USAGE;
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("veil: warning: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void cli_info(const char *fmt, ...)
{
	if (g_cli && g_cli->quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int cli_print_json(json_t *v)
{
	if (!v) {
		veil_err e;
		veil_err_set(&e, VEIL_E_NOMEM, "out of memory building JSON output");
		return cli_fail(&e);
	}
	int rc = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	fputc('\n', stdout);
	json_decref(v);
	return rc == 0 ? VEIL_EXIT_OK : VEIL_EXIT_STATUS_BASE + VEIL_E_IO;
}

void cli_print_help(const cli_command *cmd)
{
	fputs(cmd->usage, stdout);
}

void cli_human_size(uint64_t n, char out[32])
{
	static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, 32, "%llu B", (unsigned long long)n);
	else
		snprintf(out, 32, "%.1f %s", v, units[u]);
}
