/*
 * veil: the command-line tool. Finds the command in the table
 * (commands.c), one or two words long, and runs it.
 */
#include "cmds.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fputs("usage: veil [--workspace DIR] [--token TOKEN] [--quiet] COMMAND [ARGS]\n\n"
	      "veil keeps sensitive data encrypted end to end: encrypted at the client,\n"
	      "stored as ciphertext, keys under a KMS, every change in a signed audit log.\n\n"
	      "Commands:\n",
	      f);
	for (size_t i = 0; i < cli_ncommands; i++)
		fprintf(f, "  %-20s %s\n", cli_commands[i].name, cli_commands[i].summary);
	fputs("\nRun 'veil COMMAND --help' for a command's options.\n", f);
}

/* Lists the subcommands of a group ("data") when it is given alone. */
static int group_help(const char *group, FILE *f)
{
	size_t n = strlen(group), found = 0;
	for (size_t i = 0; i < cli_ncommands; i++) {
		const char *name = cli_commands[i].name;
		if (strncmp(name, group, n) == 0 && name[n] == ' ') {
			if (!found++)
				fprintf(f, "usage: veil %s SUBCOMMAND [ARGS]\n\nSubcommands:\n", group);
			fprintf(f, "  %-20s %s\n", name, cli_commands[i].summary);
		}
	}
	return (int)found;
}

/* "veil help", "veil help data", "veil help data upload". */
static int help(int argc, char **argv)
{
	if (argc == 0 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	char name[64];
	snprintf(name, sizeof name, "%s%s%s%s%s", argv[0], argc > 1 ? " " : "", argc > 1 ? argv[1] : "",
	         argc > 2 ? " " : "", argc > 2 ? argv[2] : "");
	const cli_command *c = cli_find(name);
	if (c) {
		cli_print_help(c);
		return 0;
	}
	if (argc <= 2 && group_help(name, stdout))
		return 0;
	return cli_usage_error(NULL, "'%s' is not a veil command", name);
}

int cmd_version(cli_global *g, int argc, char **argv)
{
	(void)g;
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		cli_print_help(cli_find("version"));
		return 0;
	}
	printf("veil %s (%s)\n", VEIL_VERSION, OpenSSL_version(OPENSSL_VERSION));
	return 0;
}

int main(int argc, char **argv)
{
	cli_global g = {.prog = "veil"};
	cli_msg_init(&g);
	veil_log_init();
	veil_err err;
	veil_err_clear(&err);
	if (veil_crypto_init(&err))
		return cli_fail(&err);

	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			return cmd_version(&g, 1, argv);
		} else if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0) {
			g.quiet = true;
		} else if ((strcmp(argv[i], "-W") == 0 || strcmp(argv[i], "--workspace") == 0) &&
		           i + 1 < argc) {
			g.workspace = argv[++i];
		} else if (strncmp(argv[i], "--workspace=", 12) == 0) {
			g.workspace = argv[i] + 12;
		} else if (strcmp(argv[i], "--token") == 0 && i + 1 < argc) {
			g.token = argv[++i];
		} else if (strncmp(argv[i], "--token=", 8) == 0) {
			g.token = argv[i] + 8;
		} else {
			return cli_usage_error(NULL, "unknown option '%s'", argv[i]);
		}
	}
	if (i >= argc) {
		usage(stderr);
		return VEIL_EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0)
		return help(argc - i - 1, argv + i + 1);

	/* The longest command name that the words spell: three words
	 * ("attest policy set"), then two, then one. */
	const cli_command *cmd = NULL;
	int words = 3;
	for (; words >= 1 && !cmd; words--) {
		if (i + words > argc)
			continue;
		char name[64];
		if (words == 3)
			snprintf(name, sizeof name, "%s %s %s", argv[i], argv[i + 1], argv[i + 2]);
		else if (words == 2)
			snprintf(name, sizeof name, "%s %s", argv[i], argv[i + 1]);
		else
			snprintf(name, sizeof name, "%s", argv[i]);
		cmd = cli_find(name);
	}
	words++; /* the loop stepped once past the match */
	if (!cmd && i + 1 < argc && argv[i + 1][0] != '-') {
		/* "veil attest policy": the subcommands of a two-word group. */
		char group[64];
		snprintf(group, sizeof group, "%s %s", argv[i], argv[i + 1]);
		bool asked = i + 2 < argc &&
		             (strcmp(argv[i + 2], "--help") == 0 || strcmp(argv[i + 2], "-h") == 0);
		if ((i + 2 >= argc || asked) && group_help(group, stdout))
			return asked ? 0 : VEIL_EXIT_USAGE;
	}
	if (!cmd) {
		if (group_help(argv[i], stdout)) {
			bool asked = i + 1 < argc &&
			             (strcmp(argv[i + 1], "--help") == 0 || strcmp(argv[i + 1], "-h") == 0);
			if (i + 1 < argc && !asked)
				return cli_usage_error(NULL, "'%s %s' is not a veil command", argv[i],
				                       argv[i + 1]);
			return asked ? 0 : VEIL_EXIT_USAGE;
		}
		return cli_usage_error(NULL, "'%s' is not a veil command", argv[i]);
	}
	/* The command sees argv[0] = its own name, like a program of its own. */
	int sub_argc = argc - i - (words - 1);
	char **sub_argv = argv + i + (words - 1);
	optind = 1;
	g.cmd = cmd;
	int rc = cmd->run(&g, sub_argc, sub_argv);
	if (rc == 0 && g.ws_opened && !g.decisions) {
		/* A bug, not a user error: see cli_global.decisions. */
		fprintf(stderr, "veil: error: internal error: '%s' made no access decision\n", cmd->name);
		return VEIL_EXIT_STATUS_BASE + VEIL_E_INTERNAL;
	}
	return rc;
}
