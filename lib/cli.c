/* cli.c — see cli.h. */
#include "cli.h"

#include "common.h"

#include <stdarg.h>
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

int cli_misuse(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", cp_progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	try_help();
	return CP_USAGE;
}

int cli_help(void)
{
	fputs(tool->usage, stdout);
	return cp_close_stdout();
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

int cli_command_of(int argc, char **argv, const cli_command *cmds, int n, int *status)
{
	if (argc < 2) {
		char list[200];
		size_t used = 0;
		for (int i = 0; i < n && used < sizeof(list); i++)
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
			                         i == 0 ? "" : i == n - 1 ? " or " : ", ", cmds[i].name);
		*status = cli_misuse("missing command (%s)", list);
		return -1;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		*status = cli_help();
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

/* Whether the blank-separated list names holds name. */
static int listed(const char *names, const char *name)
{
	size_t len = strlen(name);
	for (const char *p = names; *p;) {
		size_t w = strcspn(p, " ");
		if (w == len && !strncmp(p, name, len))
			return 1;
		p += w + (p[w] == ' ');
	}
	return 0;
}

int cli_next_option(int argc, char **argv, const struct option *opts, const cli_command *cmd, int *status)
{
	int at = -1;
	int c = getopt_long(argc, argv, "h", opts, &at);
	if (c == -1)
		return -1;
	if (c == 'h') {
		*status = cli_help();
		return -2;
	}
	if (c == '?') { /* getopt has said what is wrong, on one line */
		*status = cli_hint_usage();
		return -2;
	}
	if (cmd && at >= 0 && !listed(cmd->options, opts[at].name)) {
		fprintf(stderr, "%s: option '--%s' does not apply to '%s'\n", cp_progname, opts[at].name, cmd->name);
		*status = cli_hint_usage();
		return -2;
	}
	return c;
}
