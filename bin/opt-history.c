/* opt-history — the optimization history: record, show, last, export,
 * repair. See opt-history(1); the logic is in lib/history.c. */
#include "common.h"
#include "cli.h"
#include "history.h"
#include "stage.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"usage: opt-history record [--file F] [--wait MS] < envelopes\n"
	"       opt-history show   [--file F] [--horizon H] [--since DATE] [--limit N] [--json]\n"
	"       opt-history last   [--file F] [--horizon H] [--deployed]\n"
	"       opt-history export --format csv [--file F] [--horizon H] [--since DATE] [--limit N]\n"
	"       opt-history repair [--file F] [--wait MS]\n"
	"\n"
	"  --file F, --history F  history file (default $CHRONOPT_HISTORY, else history.jsonl)\n"
	"  --wait MS        wait up to MS milliseconds for the lock (default 10000)\n"
	"  --horizon H      only horizon H\n"
	"  --since DATE     only records optimized on or after DATE (YYYY-MM-DD)\n"
	"  --limit N        only the last N records (after the other filters)\n"
	"  --json           show: one JSON record per line instead of a table\n"
	"  --deployed       last: count only optimizations that were deployed\n"
	"  --format csv     export format (csv is the only one)\n"
	"  --config F, --config-dir D  accepted for uniformity with the other stages, unused\n"
	"  -h, --help       this help\n";
static const cli_tool tool = {"opt-history", usage, CLI_HINT_TRY};

enum { O_FILE = 256, O_WAIT, O_HORIZON, O_SINCE, O_LIMIT, O_JSON, O_DEPLOYED, O_FORMAT, O_UNUSED };

static const struct option opts[] = {
	CLI_ARG("file", O_FILE), CLI_ARG("history", O_FILE), CLI_ARG("wait", O_WAIT),
	CLI_ARG("horizon", O_HORIZON), CLI_ARG("since", O_SINCE), CLI_ARG("limit", O_LIMIT),
	CLI_FLAG("json", O_JSON), CLI_FLAG("deployed", O_DEPLOYED), CLI_ARG("format", O_FORMAT),
	CLI_ARG("config", O_UNUSED), CLI_ARG("config-dir", O_UNUSED), CLI_END,
};

/* The subcommands and the options each takes. */
enum { RECORD, SHOW, LAST, EXPORT, REPAIR };
static const cli_command cmds[] = {
	[RECORD] = {"record", "file history wait config config-dir"},
	[SHOW] = {"show", "file history horizon since limit json"},
	[LAST] = {"last", "file history horizon deployed"},
	[EXPORT] = {"export", "file history horizon since limit format"},
	[REPAIR] = {"repair", "file history wait"},
};

static int repair(const char *file, long wait_ms, cp_err *e)
{
	char moved[4200];
	long line = 0;
	size_t bytes = 0;
	int rc = history_repair(file, wait_ms, moved, sizeof(moved), &line, &bytes, e);
	if (rc == 1)
		printf("%s:%ld: moved the torn last record (%zu bytes) to '%s'\n", file, line, bytes, moved);
	else if (rc == 0)
		printf("%s: nothing to repair\n", file);
	return rc < 0 ? -1 : 0;
}

static int query(int cmd, const char *file, long wait_ms, const history_filter *f, int json, int deployed,
                 cp_err *e)
{
	history h;
	if (history_load(&h, file, wait_ms, e) < 0)
		return -1;
	int rc = cmd == SHOW ? history_show(stdout, &h, f, json, e)
	         : cmd == LAST ? history_print_last(stdout, &h, f->horizon, deployed, e)
	                       : history_export_csv(stdout, &h, f, e);
	history_free(&h);
	return rc;
}

int main(int argc, char **argv)
{
	cli_start(&tool, argv);
	int status;
	int cmd = cli_command_of(argc, argv, cmds, 5, &status);
	if (cmd < 0)
		return status;

	const char *file = NULL;
	const char *format = NULL;
	long wait_ms = HISTORY_WAIT_MS;
	int json = 0, deployed = 0;
	history_filter f = {NULL, 0, 0, -1};
	int c;
	while ((c = cli_next_option(argc, argv, opts, &cmds[cmd], &status)) != -1) {
		if (c == -2)
			return status;
		switch (c) {
		case O_FILE:
			file = optarg;
			break;
		case O_WAIT:
			if (cp_parse_long(optarg, 0, 86400000L, &wait_ms))
				return cli_misuse("--wait '%s' is not a number of milliseconds", optarg);
			break;
		case O_HORIZON:
			if (!cp_name_ok(optarg))
				return cli_misuse("--horizon '%s' is not a plain name", optarg);
			f.horizon = optarg;
			break;
		case O_SINCE:
			if (cp_parse_date(optarg, &f.since))
				return cli_misuse("--since '%s' is not a date (YYYY-MM-DD)", optarg);
			f.has_since = 1;
			break;
		case O_LIMIT:
			if (cp_parse_long(optarg, 0, 1L << 40, &f.limit))
				return cli_misuse("--limit '%s' is not a count", optarg);
			break;
		case O_JSON:
			json = 1;
			break;
		case O_DEPLOYED:
			deployed = 1;
			break;
		case O_FORMAT:
			format = optarg;
			break;
		default:  /* --config, --config-dir: accepted, unused */
			break;
		}
	}
	if (optind < argc)
		return cli_misuse("unexpected argument '%s'", argv[optind]);
	file = file && !*file ? "history.jsonl" : cli_history(file);
	if (cmd == EXPORT && (!format || strcmp(format, "csv")))
		return cli_misuse("%s", format ? "--format must be 'csv'" : "export needs --format csv");

	if (cmd == RECORD) {
		history_recorder hr = {file, wait_ms};
		stage st = {.line = history_record_line, .ctx = &hr};
		return stage_run(&st);
	}
	cp_err e = {0};
	if ((cmd == REPAIR ? repair(file, wait_ms, &e) : query(cmd, file, wait_ms, &f, json, deployed, &e)) < 0)
		return cp_die_closing(&e);
	return cp_close_stdout();
}
