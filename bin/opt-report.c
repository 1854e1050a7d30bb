/* opt-report — the static HTML dashboard from the history file, or the
 * plain-text report of envelopes (--format text).
 * See opt-report(1).  Thin: options here, everything else in lib/report.c. */
#include "cli.h"
#include "durable.h"
#include "envelope.h"
#include "report.h"
#include "stage.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_tool tool = {"opt-report",
	"usage: opt-report [--history FILE] [--config-dir DIR] [--html FILE]\n"
	      "       opt-report --history FILE --config-dir DIR --history FILE --config-dir DIR ... [--html FILE]\n"
	      "       opt-report --format text < envelopes\n"
	      "Write the HTML dashboard of the optimization history (to FILE, or stdout),\n"
	      "or a plain-text report of envelopes as they were decided (nothing recomputed).\n"
	      "  --history FILE     history file (default $CHRONOPT_HISTORY, else history.jsonl);\n"
	      "                     repeated: one series each, with an overview of them all\n"
	      "  --config-dir DIR   deployed configs (default $CHRONOPT_CONFIG_DIR, else configs);\n"
	      "                     with several --history, one each, in the same order\n"
	      "  --html FILE        write the page to FILE, replaced atomically (default stdout)\n"
	      "  --format html|text html: the dashboard (default); text: the report of the\n"
	      "                     envelopes on standard input\n"
	"  --help             this text\n", CLI_HINT_USAGE};

static int report_main(int argc, char **argv, const char **hists, const char **dirs)
{
	const char *history = cli_history(NULL), *config_dir = cli_config_dir(NULL);
	const char *html = NULL;
	int text = 0, dir_given = 0, history_given = 0;
	static const struct option opts[] = {
		CLI_ARG("history", 'H'), CLI_ARG("config-dir", 'd'), CLI_ARG("html", 'o'), CLI_ARG("format", 'f'),
		CLI_END,
	};
	int c, status;
	while ((c = cli_next_option(argc, argv, opts, NULL, &status)) != -1) {
		switch (c) {
		case -2: return status;
		case 'H': hists[history_given++] = optarg; break;
		case 'd': dirs[dir_given++] = optarg; break;
		case 'o': html = optarg; break;
		case 'f':
			if (strcmp(optarg, "text") && strcmp(optarg, "html")) {
				fprintf(stderr, "opt-report: --format '%s' must be html or text\n", optarg);
				return CP_USAGE;
			}
			text = !strcmp(optarg, "text");
			break;
		}
	}
	if (optind < argc)
		return cli_misuse("unexpected argument '%s'", argv[optind]);

	if (history_given > 1 && dir_given != history_given) {
		fprintf(stderr, "opt-report: %d --history files need as many --config-dir, one each in the same "
		                "order (%d given)\n", history_given, dir_given);
		return CP_USAGE;
	}
	if (history_given <= 1 && dir_given > 1) {
		fprintf(stderr, "opt-report: one --config-dir per --history\n");
		return CP_USAGE;
	}
	if (!history_given)
		hists[0] = history;
	if (!dir_given)
		dirs[0] = config_dir;
	int nsrc = history_given > 1 ? history_given : 1;
	cp_err e = {0};
	if (text) {
		/* the envelopes say everything: nothing else is read */
		if (html || history_given || dir_given) {
			fprintf(stderr, "opt-report: --format text reads envelopes on standard input; "
			                "--html, --history and --config-dir are for the dashboard\n");
			return CP_USAGE;
		}
		report_texter rt = {.out = stdout};
		stage st = {.line = report_text_line, .ctx = &rt};
		return stage_exit(&st, report_text_end(&rt, stage_loop(&st, &e), &e), &e);
	}
	report_data *r = calloc((size_t)nsrc, sizeof(*r));
	if (!r) {
		fprintf(stderr, "opt-report: out of memory\n");
		return CP_IO;
	}
	for (int i = 0; i < nsrc; i++) {
		report_init(&r[i]);
		if (report_load(&r[i], hists[i], &e) < 0) {
			for (int k = 0; k <= i; k++)
				report_release(&r[k]);
			free(r);
			return cp_die(&e);
		}
		if (r[i].torn_tail)
			fprintf(stderr, "opt-report: warning: %s: last line is incomplete (interrupted write), left out\n",
			        hists[i]);
	}
	char now[21];
	env_utc_now(now);
	char *page = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&page, &len);
	int rc;
	if (!mem) {
		rc = cp_fail_errno(&e, "cannot allocate the page");
	} else {
		rc = report_html_many(mem, r, dirs, (size_t)nsrc, now, &e);
		if (fclose(mem) != 0 && rc == 0)
			rc = cp_fail_errno(&e, "cannot finish the page");
	}
	for (int i = 0; i < nsrc; i++)
		report_release(&r[i]);
	free(r);
	if (rc == 0) {
		if (html)
			rc = durable_write(html, page, len, &e);
		else if (fwrite(page, 1, len, stdout) != len)
			rc = cp_fail_errno(&e, "error writing the page");
	}
	free(page);
	if (rc != 0)
		return cp_die_closing(&e);
	return cp_close_stdout();
}

int main(int argc, char **argv)
{
	cli_start(&tool, argv);
	/* one (history, config dir) pair per series; at most argc of each */
	const char **hists = calloc((size_t)argc + 1, sizeof(*hists));
	const char **dirs = calloc((size_t)argc + 1, sizeof(*dirs));
	int rc = hists && dirs ? report_main(argc, argv, hists, dirs) : (fputs("opt-report: out of memory\n", stderr), CP_IO);
	free(hists);
	free(dirs);
	return rc;
}
