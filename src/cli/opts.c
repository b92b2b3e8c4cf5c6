/* Options every subcommand shares (--help, --workspace, --quiet) and the
 * command lookup. */
#include "cli.h"

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
	case '?':
	case ':':
		/* getopt_long already said what was wrong. */
		fprintf(stderr, "hint: run 'veil %s --help' for usage\n", cmd->name);
		return VEIL_EXIT_USAGE;
	default:
		return -1;
	}
}

const cli_command *cli_find(const char *name)
{
	for (size_t i = 0; i < cli_ncommands; i++)
		if (strcmp(cli_commands[i].name, name) == 0)
			return &cli_commands[i];
	return NULL;
}
