/* cli.h — the command line of a tool with subcommands (opt-history,
 * opt-replay): the usage error, the subcommand, the options each takes.
 * Messages name cp_progname and end with "Try '<prog> --help'.". */
#ifndef CHRONOPT_CLI_H
#define CHRONOPT_CLI_H
#include <getopt.h>

/* Print "<prog>: " fmt (one %s, arg) and "Try '<prog> --help'." to stderr;
 * returns CP_USAGE. */
int cli_misuse(const char *fmt, const char *arg);

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
