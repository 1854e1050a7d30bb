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

/* Print "<prog>: " and fmt (printf) and the tool's hint to stderr;
 * returns CP_USAGE. */
int cli_misuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

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

/* An option table is a struct option array (getopt_long) written with
 * these: CLI_ARG("wait", O_WAIT) takes an argument, CLI_FLAG("json",
 * O_JSON) does not, CLI_END closes the table with --help (.val 'h'). */
#define CLI_ARG(name, val) {name, required_argument, NULL, val}
#define CLI_FLAG(name, val) {name, no_argument, NULL, val}
#define CLI_END {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}

typedef struct {
	const char *name;     /* "record" */
	const char *options;  /* the long options it takes, by name, blank-separated:
	                         "file history wait" */
} cli_command;

/* The subcommand argv[1] among the n of cmds: its index, with getopt set to
 * read options from argv[2]. Else -1 and *status: the status of writing the
 * usage to stdout for -h/--help, CP_USAGE after "missing command (a, b or
 * c)" (the names of cmds) or "unknown command '<argv[1]>'". */
int cli_command_of(int argc, char **argv, const cli_command *cmds, int n, int *status);

/* The next option (getopt_long over opts, a table that ends with CLI_END):
 * its .val, or -1 at the end of the options. -2 with *status set when the
 * caller is to return it: the usage on stdout for --help, CP_USAGE after
 * getopt's message and the hint, or after "option '--<name>' does not apply
 * to '<cmd>'" when cmd is not NULL and does not take it. */
int cli_next_option(int argc, char **argv, const struct option *opts, const cli_command *cmd, int *status);

#endif
