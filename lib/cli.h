/* cli.h — the command line of every tool: its name, its --help text, the
 * usage error, and for a tool with subcommands (opt-history, opt-replay)
 * the subcommand and the options each takes. Messages name cp_progname.
 *
 * What follows a usage error's line is each tool's documented habit, kept
 * as it was when the tools had a helper each (scripts and tests read it). */
#ifndef CHRONOPT_CLI_H
#define CHRONOPT_CLI_H
#include <getopt.h>

typedef enum {
	CLI_HINT_TRY,        /* "Try '<prog> --help'." (the default) */
	CLI_HINT_TRY_LOWER,  /* "<prog>: try '<prog> --help'" (opt-trigger) */
	CLI_HINT_USAGE,      /* the whole usage text (opt-deploy, opt-forecast) */
	CLI_HINT_NONE        /* nothing (opt-validate, opt-report) */
} cli_hint;

typedef struct {
	const char *name;    /* "opt-search" */
	const char *usage;   /* the --help text */
	cli_hint hint;
} cli_tool;

/* Start tool t: cp_progname = t->name and argv[0] too, so getopt's own
 * messages name the tool, not its path. t must outlive the process (a
 * static). */
void cli_start(const cli_tool *t, char **argv);

/* --help: the usage text on stdout; returns cp_close_stdout(). */
int cli_help(void);

/* Print "<prog>: " fmt (one %s, arg) and the tool's hint to stderr;
 * returns CP_USAGE. */
int cli_misuse(const char *fmt, const char *arg);

/* The hint alone, after a message printed otherwise (getopt's own, or
 * cp_die's); returns CP_USAGE. */
int cli_hint_usage(void);

/* The files a stage works on: the option when given (flag non-NULL),
 * else the environment variable when set and not empty, else the default:
 * --config-dir, $CHRONOPT_CONFIG_DIR, "configs"; --history,
 * $CHRONOPT_HISTORY, "history.jsonl"; and the name the settings file
 * (settings_load) goes by in messages: --config, $CHRONOPT_CONFIG,
 * "configs/chronopt.json". */
const char *cli_config_dir(const char *flag);
const char *cli_history(const char *flag);
const char *cli_settings_name(const char *flag);

typedef struct {
	const char *name;     /* "record" */
	const char *allowed;  /* the .val of each option it takes, one byte each */
} cli_command;

/* The subcommand argv[1] among the n of cmds: its index, with getopt set to
 * read options from argv[2]. Else -1 and *status: the status of writing
 * usage to stdout for -h/--help, CP_USAGE after "missing command (<list>)"
 * or "unknown command '<argv[1]>'". */
int cli_command_of(int argc, char **argv, const cli_command *cmds, int n, const char *usage,
                   const char *list, int *status);

/* The next option of cmd (getopt_long over opts, which ends with a
 * {"help", no_argument, NULL, 'h'} entry and a zero one): its .val, or -1
 * at the end of the options. -2 with *status set when the caller is to
 * return it: usage on stdout for --help, CP_USAGE after getopt's message or
 * "option '--<name>' does not apply to '<cmd>'". */
int cli_next_option(int argc, char **argv, const struct option *opts, const cli_command *cmd,
                    const char *usage, int *status);

#endif
