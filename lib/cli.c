/* cli.c — see cli.h. */
#include "cli.h"

#include "common.h"

#include <stdio.h>
#include <string.h>

static void try_help(void)
{
	fprintf(stderr, "Try '%s --help'.\n", cp_progname);
}

int cli_misuse(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", cp_progname);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	try_help();
	return CP_USAGE;
}

static int help(const char *usage)
{
	fputs(usage, stdout);
	return cp_close_stdout();
}

int cli_command_of(int argc, char **argv, const cli_command *cmds, int n, const char *usage,
                   const char *list, int *status)
{
	char missing[200];
	if (argc < 2) {
		snprintf(missing, sizeof(missing), "missing command (%s)", list);
		*status = cli_misuse("%s", missing);
		return -1;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		*status = help(usage);
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (!strcmp(argv[1], cmds[i].name)) {
			optind = 2;
			return i;
		}
	*status = cli_misuse("unknown command '%s'", argv[1]);
	return -1;
}

int cli_next_option(int argc, char **argv, const struct option *opts, const cli_command *cmd,
                    const char *usage, int *status)
{
	int c = getopt_long(argc, argv, "h", opts, NULL);
	if (c == -1)
		return -1;
	if (c == 'h') {
		*status = help(usage);
		return -2;
	}
	if (c == '?') { /* getopt has said what is wrong, on one line */
		try_help();
		*status = CP_USAGE;
		return -2;
	}
	if (!strchr(cmd->allowed, c)) {
		const char *name = "?";
		for (int i = 0; opts[i].name; i++)
			if (opts[i].val == c)
				name = opts[i].name;
		fprintf(stderr, "%s: option '--%s' does not apply to '%s'\n", cp_progname, name, cmd->name);
		try_help();
		*status = CP_USAGE;
		return -2;
	}
	return c;
}
