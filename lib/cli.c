/* cli.c — see cli.h. */
#include "cli.h"

#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_tool *tool;

void cli_start(const cli_tool *t, char **argv)
{
	tool = t;
	cp_progname = t->name;
	argv[0] = (char *)t->name;
}

static void try_help(void)
{
	switch (tool ? tool->hint : CLI_HINT_TRY) {
	case CLI_HINT_TRY: fprintf(stderr, "Try '%s --help'.\n", cp_progname); break;
	case CLI_HINT_TRY_LOWER: fprintf(stderr, "%s: try '%s --help'\n", cp_progname, cp_progname); break;
	case CLI_HINT_USAGE: fputs(tool->usage, stderr); break;
	case CLI_HINT_NONE: break;
	}
}

int cli_hint_usage(void)
{
	try_help();
	return CP_USAGE;
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

int cli_help(void)
{
	return help(tool->usage);
}

static const char *path_of(const char *flag, const char *var, const char *dflt)
{
	if (flag)
		return flag;
	const char *v = getenv(var);
	return v && *v ? v : dflt;
}

const char *cli_config_dir(const char *flag)
{
	return path_of(flag, "CHRONOPT_CONFIG_DIR", "configs");
}

const char *cli_history(const char *flag)
{
	return path_of(flag, "CHRONOPT_HISTORY", "history.jsonl");
}

const char *cli_settings_name(const char *flag)
{
	return path_of(flag, "CHRONOPT_CONFIG", "configs/chronopt.json");
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
