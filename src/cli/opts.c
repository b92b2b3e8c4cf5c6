/* Options every subcommand shares (--help, --workspace, --quiet, --token)
 * and the command lookup. */
#include "cli.h"

#include <errno.h>
#include <math.h>

#include <string.h>

int cli_common_opt(cli_global *g, const cli_command *cmd, int opt)
{
	switch (opt) {
	case 'h':
		cli_print_help(cmd);
		return VEIL_EXIT_OK;
	case 'W':
		g->workspace = optarg;
		return 0;
	case 'q':
		g->quiet = true;
		return 0;
	case CLI_OPT_TOKEN:
		g->token = optarg;
		return 0;
	case '?':
	case ':':
		/* getopt_long already said what was wrong. */
		fprintf(stderr, "hint: run 'veil %s --help' for usage\n", cmd->name);
		return VEIL_EXIT_USAGE;
	default:
		return -1;
	}
}

/* Whether the command's usage text names option `opt` ("--json"): several
 * commands share one option table, and each accepts only what its help
 * promises. An option with no long name is the command's own choice. */
static bool documented(const cli_command *cmd, const struct option *longopts, int opt)
{
	for (const struct option *o = longopts; o->name; o++) {
		if (o->val != opt)
			continue;
		size_t n = strlen(o->name);
		for (const char *p = strstr(cmd->usage, "--"); p; p = strstr(p + 2, "--")) {
			char next = p[2 + n];
			if (strncmp(p + 2, o->name, n) == 0 && !(next == '-' || (next >= 'a' && next <= 'z')))
				return true;
		}
		return false;
	}
	return true;
}

/* A decimal number as people write it: digits, an optional point and an
 * optional exponent ("0.0025", "1e-5", ".5"). Signs ("-0", "+1"), hex
 * ("0x10"), "nan", "inf", spaces, trailing junk and values a double cannot
 * hold ("1e999", "1e-999") are refused: a typo must not become a privacy
 * parameter. Returns -1 to go on, else the usage error's exit code. */
int cli_parse_real(const cli_command *cmd, const char *opt, const char *s, double *out)
{
	size_t len = strlen(s);
	bool ok = len > 0 && len <= 64 && ((s[0] >= '0' && s[0] <= '9') || s[0] == '.');
	for (size_t i = 0; ok && i < len; i++) {
		char c = s[i];
		bool exp_sign = (c == '-' || c == '+') && i > 0 && (s[i - 1] == 'e' || s[i - 1] == 'E');
		ok = (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || exp_sign;
	}
	if (ok) {
		char *end;
		errno = 0;
		double v = strtod(s, &end);
		ok = end != s && *end == '\0' && errno == 0 && isfinite(v);
		if (ok)
			*out = v;
	}
	if (!ok)
		return cli_usage_error(cmd, "%s takes a decimal number such as 0.01 or 1e-5, not '%s'", opt,
		                       s);
	return -1;
}

int cli_positional(const cli_command *cmd, int argc, char **argv, int min, int max)
{
	int n = argc - optind;
	if (n < min) {
		/* Name what is missing: the usage line says it ("veil key create NAME ..."). */
		const char *u = cmd->usage, *nl = strchr(u, '\n');
		int len = nl ? (int)(nl - u) : (int)strlen(u);
		return cli_usage_error(cmd, "%s (%.*s)", n ? "too few arguments" : "missing argument", len,
		                       u);
	}
	if (n > max)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + max]);
	return -1;
}

int cli_opt(cli_global *g, const cli_command *cmd, int argc, char **argv, const char *shortopts,
            const struct option *longopts, int *rc)
{
	char all[64];
	if (veil_fmt(all, sizeof all, NULL, "%shqW:", shortopts)) {
		*rc = VEIL_EXIT_STATUS_BASE + VEIL_E_INTERNAL;
		return -1;
	}
	for (;;) {
		int opt = getopt_long(argc, argv, all, longopts, NULL);
		if (opt == -1)
			return -1;
		int r = cli_common_opt(g, cmd, opt);
		if (r < 0 && !documented(cmd, longopts, opt)) {
			*rc = cli_usage_error(cmd, "option not valid for 'veil %s'", cmd->name);
			return -1;
		}
		if (r < 0)
			return opt;
		if (r > 0 || opt == 'h') {
			*rc = r;
			return -1;
		}
	}
}

int cli_parse_json_only(cli_global *g, const cli_command *cmd, int argc, char **argv, bool *json)
{
	static const struct option longopts[] = {
	        {"json", no_argument, NULL, 'j'}, CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	int opt, rc = -1;
	*json = false;
	while ((opt = cli_opt(g, cmd, argc, argv, "", longopts, &rc)) != -1) {
		if (opt != 'j')
			return cli_usage_error(cmd, "unexpected option");
		*json = true;
	}
	return rc;
}

int cli_parse_plain(cli_global *g, const cli_command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	int rc = -1;
	while (cli_opt(g, cmd, argc, argv, "", longopts, &rc) != -1)
		; /* cli_opt handles the common ones; there are no others */
	return rc;
}

const cli_command *cli_find(const char *name)
{
	for (size_t i = 0; i < cli_ncommands; i++)
		if (strcmp(cli_commands[i].name, name) == 0)
			return &cli_commands[i];
	return NULL;
}
