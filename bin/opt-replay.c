/* opt-replay — the pieces of pipeline.sh replay: cut a series to a date,
 * list the simulated cron days, make a synthetic series with a regime
 * change, write the first incumbent, and score a replay workspace into the
 * KPI report.  See opt-replay(1); the logic is in lib/replay*.c. */
#include "cli.h"
#include "common.h"
#include "envelope.h"
#include "replay.h"
#include "series.h"
#include "settings.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"usage: opt-replay cut --series F [--id ID] --until DATE\n"
	"       opt-replay weeks --from DATE (--to DATE | --series F [--id ID]) [--day D]\n"
	"       opt-replay synth [--seed N] [--start DATE] [--length N] [--level X] [--vol X]\n"
	"                        --change DATE [--vol-factor X] [--level-shift-pct X]\n"
	"       opt-replay incumbent --series F [--id ID] [--config F] --model M [--seed N]\n"
	"                        (--horizon H | --all) [--from-dir DIR]\n"
	"       opt-replay score --workspace DIR [--next N] [--no-gates] [--no-hindsight]\n"
	"                        [--format json|text] [--html FILE] [--text FILE]\n"
	"\n"
	"  cut        the series as known on DATE (observations dated <= DATE), as CSV\n"
	"  weeks      the cron days from DATE to DATE, one date a line\n"
	"  synth      a business-daily random walk with a volatility and level change at DATE\n"
	"  incumbent  the replay's first deployed config per horizon, as envelopes for\n"
	"             opt-deploy deploy (default: the middle of each search-space list)\n"
	"  score      the KPI report of a replay workspace (JSON, or text; --html also writes a page)\n"
	"\n"
	"  --series F        series CSV          --id ID        series id of a long-format CSV\n"
	"  --until DATE      last date known     --day D        cron day: sun..sat or 0..6 (default sun)\n"
	"  --from, --to DATE first and last day of the replay (--to: default the series' last date)\n"
	"  --seed N          seed (default 42)   --config F     settings file\n"
	"  --model M         Chronos directory or baseline name\n"
	"  --horizon H, --all  one horizon, or all of the settings\n"
	"  --from-dir DIR    the incumbent configs <DIR>/<horizon>.json instead of the default\n"
	"  --start DATE, --length N, --level X, --vol X, --change DATE, --vol-factor X,\n"
	"  --level-shift-pct X   the synthetic series (defaults 2020-01-01, 1000, 100, 0.006,\n"
	"                    -, 3, 10)\n"
	"  --workspace DIR   the replay workspace (pipeline.sh replay --workspace)\n"
	"  --next N          weekly origins after a deployment it is judged on (default 4)\n"
	"  --no-gates        do not re-decide the optimizations with the other gate settings\n"
	"  --no-hindsight    do not score every config of the search space\n"
	"  --format F        json (default, one line) or text\n"
	"  --html FILE       also write the report as an HTML page\n"
	"  --text FILE       also write the text report to FILE\n"
	"  -h, --help        this help\n";
static const cli_tool tool = {"opt-replay", usage, CLI_HINT_TRY};

enum { O_SERIES = 256, O_ID, O_UNTIL, O_FROM, O_TO, O_DAY, O_SEED, O_START, O_LENGTH, O_LEVEL, O_VOL,
       O_CHANGE, O_VOLF, O_SHIFT, O_CONFIG, O_MODEL, O_HORIZON, O_ALL, O_FROMDIR, O_WS, O_NEXT,
       O_NOGATES, O_NOHIND, O_FORMAT, O_HTML, O_TEXT };

static const struct option opts[] = {
	CLI_ARG("series", O_SERIES), CLI_ARG("id", O_ID), CLI_ARG("until", O_UNTIL), CLI_ARG("from", O_FROM),
	CLI_ARG("to", O_TO), CLI_ARG("day", O_DAY), CLI_ARG("seed", O_SEED),
	/* synth */
	CLI_ARG("start", O_START), CLI_ARG("length", O_LENGTH), CLI_ARG("level", O_LEVEL), CLI_ARG("vol", O_VOL),
	CLI_ARG("change", O_CHANGE), CLI_ARG("vol-factor", O_VOLF), CLI_ARG("level-shift-pct", O_SHIFT),
	/* incumbent */
	CLI_ARG("config", O_CONFIG), CLI_ARG("model", O_MODEL), CLI_ARG("horizon", O_HORIZON),
	CLI_FLAG("all", O_ALL), CLI_ARG("from-dir", O_FROMDIR),
	/* score */
	CLI_ARG("workspace", O_WS), CLI_ARG("next", O_NEXT), CLI_FLAG("no-gates", O_NOGATES),
	CLI_FLAG("no-hindsight", O_NOHIND), CLI_ARG("format", O_FORMAT), CLI_ARG("html", O_HTML),
	CLI_ARG("text", O_TEXT), CLI_END,
};

/* The subcommands and the options each takes. */
static const cli_command cmds[] = {
	{"cut", "series id until"},
	{"weeks", "series id from to day"},
	{"synth", "seed start length level vol change vol-factor level-shift-pct"},
	{"incumbent", "series id seed config model horizon all from-dir"},
	{"score", "workspace next no-gates no-hindsight format html text"},
};

/* A date or a number for option opt: 0, or -1 after the usage error. */
static int date_opt(const char *opt, const char *arg, int32_t *out)
{
	return cp_parse_date(arg, out) < 0 ? cli_misuse("%s '%s' is not a date (YYYY-MM-DD)", opt, arg), -1 : 0;
}

static int double_opt(const char *opt, const char *arg, double *out)
{
	return cp_parse_double(arg, out) < 0 ? cli_misuse("%s '%s' is not a number", opt, arg), -1 : 0;
}

typedef struct {
	const char *series, *id, *config, *model, *horizon, *from_dir, *workspace, *html, *textfile;
	int32_t until, from, to, start, change;
	int have_until, have_from, have_to, have_change, day, all, length, next, gates, hindsight, text;
	double level, vol, volf, shift;
	uint64_t seed;
} args;

static int cmd_cut(const args *a, cp_err *e)
{
	if (!a->series || !a->have_until)
		return cli_misuse("%s", "cut needs --series and --until");
	series s;
	if (series_load(&s, a->series, a->id, 1, e) < 0)
		return -1;
	int rc = rp_cut(&s, a->until, 1, stdout, e);
	series_free(&s);
	return rc;
}

static int cmd_weeks(const args *a, cp_err *e)
{
	if (!a->have_from || a->have_to == !!a->series)
		return cli_misuse("%s", "weeks needs --from, and --to or --series");
	int32_t to = a->to;
	if (a->series) {
		series s;
		if (series_load(&s, a->series, a->id, 1, e) < 0)
			return -1;
		to = s.day[s.n - 1];
		series_free(&s);
	}
	int32_t *d;
	int n = rp_weeks(a->from, to, a->day, &d, e);
	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		char b[11];
		cp_format_date(d[i], b);
		if (printf("%s\n", b) < 0) {
			free(d);
			return cp_fail_errno(e, "cannot write the weeks");
		}
	}
	free(d);
	return 0;
}

static int cmd_synth(const args *a, cp_err *e)
{
	if (!a->have_change)
		return cli_misuse("%s", "synth needs --change DATE");
	rp_synth_opts o = {a->seed, a->start, a->length, a->level, a->vol, a->change, a->volf, a->shift};
	return rp_synth(&o, stdout, e);
}

static int cmd_incumbent(const args *a, cp_err *e)
{
	if (!a->series || !a->model)
		return cli_misuse("%s", "incumbent needs --series and --model");
	if (!a->all == !a->horizon)
		return cli_misuse("%s", "incumbent needs --horizon H or --all");
	cJSON *st = settings_load(a->config, e);
	if (!st)
		return -1;
	horizon_def *hs = NULL;
	int nh = 0, rc = -1;
	series s;
	memset(&s, 0, sizeof s);
	if (a->all) {
		if (settings_horizons(st, &hs, &nh, e) < 0)
			goto out;
	} else {
		hs = cp_malloc(sizeof(*hs));
		nh = 1;
		if (settings_horizon(st, a->horizon, &hs[0], e) < 0)
			goto out;
	}
	if (series_load(&s, a->series, a->id, 2, e) < 0)
		goto out;
	char run_id[128];
	env_make_run_id(run_id, sizeof run_id);
	rc = 0;
	for (int i = 0; i < nh && rc == 0; i++) {
		cJSON *env = rp_incumbent(&s, st, a->config, hs[i].name, hs[i].steps, a->model, a->seed,
		                          a->from_dir, run_id, e);
		if (!env) {
			rc = -1;
			break;
		}
		rc = env_write(stdout, env, e);
		cJSON_Delete(env);
	}
out:
	series_free(&s);
	free(hs);
	cJSON_Delete(st);
	return rc;
}

static int cmd_score(const args *a, cp_err *e)
{
	if (!a->workspace)
		return cli_misuse("%s", "score needs --workspace DIR");
	rp_score_opts o = {a->workspace, a->next, a->gates, a->hindsight};
	cJSON *r = rp_score(&o, e);
	if (!r)
		return -1;
	int rc = 0;
	for (int k = 0; k < 2 && rc == 0; k++) {
		const char *path = k ? a->textfile : a->html;
		if (!path)
			continue;
		FILE *h = fopen(path, "w");
		if (!h) {
			rc = cp_fail_errno(e, "cannot open '%s'", path);
		} else {
			rc = k ? rp_report_text(h, r, e) : rp_report_html(h, r, e);
			if (fclose(h) == EOF && rc == 0)
				rc = cp_fail_errno(e, "cannot write '%s'", path);
		}
	}
	if (rc == 0) {
		if (a->text) {
			rc = rp_report_text(stdout, r, e);
		} else {
			char *txt = cJSON_PrintUnformatted(r);
			if (!txt)
				rc = cp_fail(e, CP_INTERNAL, "cannot format the report");
			else if (printf("%s\n", txt) < 0)
				rc = cp_fail_errno(e, "cannot write the report");
			free(txt);
		}
	}
	cJSON_Delete(r);
	return rc;
}

int main(int argc, char **argv)
{
	/* what runs each subcommand */
	static int (*const run[])(const args *, cp_err *) = {cmd_cut, cmd_weeks, cmd_synth, cmd_incumbent,
	                                                     cmd_score};
	cli_start(&tool, argv);
	int status;
	int cmd = cli_command_of(argc, argv, cmds, 5, &status);
	if (cmd < 0)
		return status;

	args a;
	memset(&a, 0, sizeof a);
	a.seed = 42;
	a.config = getenv("CHRONOPT_CONFIG");
	cp_parse_date("2020-01-01", &a.start);
	a.length = 1000, a.level = 100, a.vol = 0.006, a.volf = 3, a.shift = 10;
	a.next = 4, a.gates = 1, a.hindsight = 1;
	int c;
	while ((c = cli_next_option(argc, argv, opts, &cmds[cmd], &status)) != -1) {
		if (c == -2)
			return status;
		cp_err ue = {0};
		switch (c) {
		case O_SERIES: a.series = optarg; break;
		case O_ID: a.id = optarg; break;
		case O_UNTIL:
			if (date_opt("--until", optarg, &a.until) < 0)
				return CP_USAGE;
			a.have_until = 1;
			break;
		case O_FROM:
			if (date_opt("--from", optarg, &a.from) < 0)
				return CP_USAGE;
			a.have_from = 1;
			break;
		case O_TO:
			if (date_opt("--to", optarg, &a.to) < 0)
				return CP_USAGE;
			a.have_to = 1;
			break;
		case O_DAY:
			a.day = rp_parse_weekday(optarg);
			if (a.day < 0)
				return cli_misuse("--day '%s' is not a weekday (sun..sat or 0..6)", optarg);
			break;
		case O_SEED:
			if (cp_parse_u64(optarg, &a.seed) < 0 || a.seed > CP_SEED_MAX)
				return cli_misuse("--seed '%s' is not an integer in " CP_SEED_RANGE, optarg);
			break;
		case O_START:
			if (date_opt("--start", optarg, &a.start) < 0)
				return CP_USAGE;
			break;
		case O_LENGTH:
			if (cp_opt_int("--length", optarg, 3, 100000, &a.length, &ue) < 0)
				return cp_die(&ue);
			break;
		case O_LEVEL:
			if (double_opt("--level", optarg, &a.level) < 0)
				return CP_USAGE;
			break;
		case O_VOL:
			if (double_opt("--vol", optarg, &a.vol) < 0)
				return CP_USAGE;
			break;
		case O_CHANGE:
			if (date_opt("--change", optarg, &a.change) < 0)
				return CP_USAGE;
			a.have_change = 1;
			break;
		case O_VOLF:
			if (double_opt("--vol-factor", optarg, &a.volf) < 0)
				return CP_USAGE;
			break;
		case O_SHIFT:
			if (double_opt("--level-shift-pct", optarg, &a.shift) < 0)
				return CP_USAGE;
			break;
		case O_CONFIG: a.config = optarg; break;
		case O_MODEL: a.model = optarg; break;
		case O_HORIZON:
			if (!cp_name_ok(optarg))
				return cli_misuse("--horizon '%s' is not a plain name", optarg);
			a.horizon = optarg;
			break;
		case O_ALL: a.all = 1; break;
		case O_FROMDIR: a.from_dir = optarg; break;
		case O_WS: a.workspace = optarg; break;
		case O_NEXT:
			if (cp_opt_int("--next", optarg, 1, 1000, &a.next, &ue) < 0)
				return cp_die(&ue);
			break;
		case O_NOGATES: a.gates = 0; break;
		case O_NOHIND: a.hindsight = 0; break;
		case O_FORMAT:
			if (!strcmp(optarg, "text"))
				a.text = 1;
			else if (strcmp(optarg, "json") != 0)
				return cli_misuse("--format '%s' is not json or text", optarg);
			break;
		case O_HTML: a.html = optarg; break;
		case O_TEXT: a.textfile = optarg; break;
		}
	}
	if (optind < argc)
		return cli_misuse("unexpected argument '%s'", argv[optind]);
	cp_err e = {0};
	int rc = run[cmd](&a, &e);
	if (rc == CP_USAGE)
		return CP_USAGE; /* cli_misuse() has said why */
	if (rc < 0)
		return cp_die_closing(&e);
	return cp_close_stdout();
}
