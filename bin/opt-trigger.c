/* opt-trigger — decide whether each horizon needs re-tuning (opt-trigger(1)).
 * Thin: options, envelopes in/out; the checks live in lib/trigger.c. */
#include "cli.h"
#include "common.h"
#include "envelope.h"
#include "forecast.h"
#include "series.h"
#include "settings.h"
#include "stage.h"
#include "trigger.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_tool tool = {"opt-trigger",
	"usage: opt-trigger --series CSV [--id ID] (--horizon H | --all) [options]\n"
	"       opt-trigger [options] < envelopes.ndjson\n"
	"Decide per horizon whether to re-optimize: performance, drift, time, cooldown.\n"
	"\n"
	"  --series CSV            series to check (makes new envelopes)\n"
	"  --id ID                 series id in a long-format CSV\n"
	"  --missing MODE          missing values (empty, NA, NaN, null): error (default),\n"
	"                          nan (kept, skipped by the forecasters and scores), drop\n"
	"  --list-ids              print the series ids of the --series CSV, one a line, and\n"
	"                          exit (exit 3 when one is not a plain name)\n"
	"  --horizon H             one horizon from the settings' horizons\n"
	"  --all                   every horizon in the settings\n"
	"  --model SPEC            forecaster for the performance check (default random_walk;\n"
	"                          an input envelope's model.dir wins)\n"
	"  --seed N                seed of new envelopes (default 42)\n"
	"  --forecast-log CSV      score the deployed forecaster from its log instead of a\n"
	"                          backtest (forecast_date,target_date,predicted,lower,upper;\n"
	"                          \"{h}\" in the path is replaced by the horizon)\n"
	"  --as-of DATE            evaluate as if the series ended at DATE\n"
	"  --force                 always trigger\n"
	"  --exit-code             exit 1 when no horizon should be optimized\n"
	"  --config FILE           settings file (default $CHRONOPT_CONFIG or configs/chronopt.json)\n"
	"  --config-dir DIR        deployed configs DIR/<horizon>.json (default $CHRONOPT_CONFIG_DIR\n"
	"                          or configs)\n"
	"  --history FILE          optimization history (default $CHRONOPT_HISTORY or history.jsonl)\n"
	"thresholds and windows (settings section \"trigger\" gives the defaults):\n"
	"  --degradation-pct X     performance fires at RMSE >= X % worse (15)\n"
	"  --performance-baseline B  random_walk: worse relative to the random walk on the\n"
	"                          same origins than at validation (default); validation:\n"
	"                          worse than the validation RMSE\n"
	"  --recent-origins N      origins scored (14)\n"
	"  --baseline-window N     drift baseline log-returns (90)\n"
	"  --recent-window N       drift recent log-returns (30)\n"
	"  --drift-min-severity S  drift fires at S or above: LOW, MEDIUM, HIGH (MEDIUM)\n"
	"  --drift-p-low X, --drift-p-medium X, --drift-p-high X   (0.10, 0.05, 0.001)\n"
	"  --drift-d-medium X, --drift-d-high X                    (0.25, 0.35)\n"
	"  --psi-bins N            (5)      --psi-epsilon X   (0.0001)\n"
	"  --volatility-window N   drift also fires when the mean |log-return| of the last N\n"
	"  --volatility-factor X   is >= X times the baseline window's (5, 2.5; N 0: off)\n"
	"  --max-days N            time fires at N days since the last optimization (14)\n"
	"  --min-new-origins N     ...and N new observations since it (15; 0: one is enough)\n"
	"  --backoff-max N         max days, new origins and cooldown double after each\n"
	"                          optimization that deployed nothing,\n"
	"                          at most N times (3; 0: off)\n"
	"  --cooldown-days N       no re-trigger within N days of the last optimization (7)\n"
	"  --cooldown-severity S   ...unless drift reaches S (HIGH)\n"
	"  --cooldown-factor X     ...or degradation >= X times the threshold (2)\n"
	"data checks (steps of the series' frequency: business days, days, weeks, months):\n"
	"  --stale-after-steps N   stale, never re-tuned, when the last observation is more\n"
	"                          than N steps before today or --as-of (5; 0: off)\n"
	"  --max-gap-steps N       a gap is more than N steps between observations (5)\n"
	"  --gaps refuse|warn      a gap stops re-tuning, or is only reported (refuse)\n"
	"  --help                  this text\n", CLI_HINT_TRY_LOWER};

enum {
	O_SERIES = 256, O_ID, O_MISSING, O_HORIZON, O_ALL, O_MODEL, O_SEED, O_LOG, O_ASOF, O_FORCE, O_EXITCODE,
	O_CONFIG, O_CONFDIR, O_HISTORY, O_DEG, O_ORIG, O_BASEW, O_RECW, O_MINSEV, O_PLOW, O_PMED,
	O_PHIGH, O_DMED, O_DHIGH, O_PSIB, O_PSIE, O_MAXD, O_MINNEW, O_CDD, O_CDS, O_CDF, O_STALE, O_MAXGAP, O_GAPS,
	O_PERFB, O_VOLW, O_VOLF, O_BACKOFF, O_HELP, O_LISTIDS
};

static const struct option longopts[] = {
	{"series", required_argument, 0, O_SERIES},
	{"id", required_argument, 0, O_ID},
	{"missing", required_argument, 0, O_MISSING},
	{"horizon", required_argument, 0, O_HORIZON},
	{"all", no_argument, 0, O_ALL},
	{"model", required_argument, 0, O_MODEL},
	{"seed", required_argument, 0, O_SEED},
	{"forecast-log", required_argument, 0, O_LOG},
	{"as-of", required_argument, 0, O_ASOF},
	{"force", no_argument, 0, O_FORCE},
	{"exit-code", no_argument, 0, O_EXITCODE},
	{"config", required_argument, 0, O_CONFIG},
	{"config-dir", required_argument, 0, O_CONFDIR},
	{"history", required_argument, 0, O_HISTORY},
	{"degradation-pct", required_argument, 0, O_DEG},
	{"recent-origins", required_argument, 0, O_ORIG},
	{"baseline-window", required_argument, 0, O_BASEW},
	{"recent-window", required_argument, 0, O_RECW},
	{"drift-min-severity", required_argument, 0, O_MINSEV},
	{"drift-p-low", required_argument, 0, O_PLOW},
	{"drift-p-medium", required_argument, 0, O_PMED},
	{"drift-p-high", required_argument, 0, O_PHIGH},
	{"drift-d-medium", required_argument, 0, O_DMED},
	{"drift-d-high", required_argument, 0, O_DHIGH},
	{"psi-bins", required_argument, 0, O_PSIB},
	{"psi-epsilon", required_argument, 0, O_PSIE},
	{"max-days", required_argument, 0, O_MAXD},
	{"min-new-origins", required_argument, 0, O_MINNEW},
	{"cooldown-days", required_argument, 0, O_CDD},
	{"cooldown-severity", required_argument, 0, O_CDS},
	{"cooldown-factor", required_argument, 0, O_CDF},
	{"stale-after-steps", required_argument, 0, O_STALE},
	{"max-gap-steps", required_argument, 0, O_MAXGAP},
	{"gaps", required_argument, 0, O_GAPS},
	{"performance-baseline", required_argument, 0, O_PERFB},
	{"volatility-window", required_argument, 0, O_VOLW},
	{"volatility-factor", required_argument, 0, O_VOLF},
	{"backoff-max", required_argument, 0, O_BACKOFF},
	{"help", no_argument, 0, O_HELP},
	{"list-ids", no_argument, 0, O_LISTIDS},
	{0, 0, 0, 0}};

/* Option overrides are kept as (option, text) and applied after the
 * settings file, so the command line always wins. */
typedef struct {
	int opt;
	const char *arg;
} override;

static int apply(trigger_opts *o, const override *ov, cp_err *e)
{
	long l;
	double d;
	const char *name = NULL;
	for (const struct option *p = longopts; p->name; p++)
		if (p->val == ov->opt)
			name = p->name;
	int is_int = ov->opt == O_ORIG || ov->opt == O_BASEW || ov->opt == O_RECW || ov->opt == O_PSIB ||
	             ov->opt == O_MAXD || ov->opt == O_MINNEW || ov->opt == O_CDD || ov->opt == O_STALE ||
	             ov->opt == O_MAXGAP || ov->opt == O_VOLW || ov->opt == O_BACKOFF;
	if (ov->opt == O_PERFB) {
		if (trigger_perf_baseline_parse(ov->arg, &o->perf_vs_random_walk) < 0)
			return cp_fail(e, CP_USAGE, "--performance-baseline: '%s' is not 'random_walk' or 'validation'",
			               ov->arg);
		return 0;
	}
	if (ov->opt == O_GAPS) {
		if (trigger_gaps_parse(ov->arg, &o->gaps_refuse) < 0)
			return cp_fail(e, CP_USAGE, "--gaps: '%s' is not 'refuse' or 'warn'", ov->arg);
		return 0;
	}
	int is_sev = ov->opt == O_MINSEV || ov->opt == O_CDS;
	drift_severity sev = DRIFT_NONE;
	if (is_int && cp_parse_long(ov->arg, 0, 1000000, &l) < 0)
		return cp_fail(e, CP_USAGE, "--%s: '%s' is not an integer in 0..1000000", name, ov->arg);
	if (is_sev && drift_severity_parse(ov->arg, &sev) < 0)
		return cp_fail(e, CP_USAGE, "--%s: '%s' is not one of NONE, LOW, MEDIUM, HIGH", name, ov->arg);
	if (!is_int && !is_sev && cp_parse_double(ov->arg, &d) < 0)
		return cp_fail(e, CP_USAGE, "--%s: '%s' is not a number", name, ov->arg);
	switch (ov->opt) {
	case O_DEG: o->degradation_pct = d; break;
	case O_ORIG: o->recent_origins = (int)l; break;
	case O_BASEW: o->drift_baseline = (int)l; break;
	case O_RECW: o->drift_recent = (int)l; break;
	case O_MINSEV: o->drift_min = sev; break;
	case O_PLOW: o->rule.p_low = d; break;
	case O_PMED: o->rule.p_medium = d; break;
	case O_PHIGH: o->rule.p_high = d; break;
	case O_DMED: o->rule.d_medium = d; break;
	case O_DHIGH: o->rule.d_high = d; break;
	case O_PSIB: o->psi_bins = (int)l; break;
	case O_PSIE: o->psi_eps = d; break;
	case O_MAXD: o->max_days = (int)l; break;
	case O_MINNEW: o->min_new_origins = (int)l; break;
	case O_CDD: o->cooldown_days = (int)l; break;
	case O_CDS: o->cooldown_severity = sev; break;
	case O_CDF: o->cooldown_factor = d; break;
	case O_STALE: o->data.stale_after_steps = (int)l; break;
	case O_MAXGAP: o->data.max_gap_steps = (int)l; break;
	case O_VOLW: o->vol_window = (int)l; break;
	case O_BACKOFF: o->backoff_max = (int)l; break;
	case O_VOLF: o->vol_factor = d; break;
	}
	return 0;
}

typedef struct {
	const char *series_path, *id, *horizon, *model, *log, *config, *confdir, *history;
	int all, force, exit_code, as_of_given, missing_given;
	series_missing missing;
	int32_t as_of;
	uint64_t seed;
	override ov[64];
	int nov;
} cli;

/* Evaluate one envelope: its "trigger" section; ln->yes when it should be
 * optimized. */
static int run_one(cJSON *env, const series *s, const char *hname, int steps, const char *model,
                   uint64_t seed, const cli *c, const trigger_opts *o, stage_line *ln, cp_err *e)
{
	trigger_input in = {
		.s = s, .as_of_given = c->as_of_given, .as_of = c->as_of, .today = env_today(),
		.horizon = hname, .steps = steps, .config_dir = c->confdir, .history_path = c->history,
		.model_spec = model, .forecast_log = c->log, .seed = seed, .force = c->force,
		.series_section = cJSON_GetObjectItemCaseSensitive(env, "series")};
	cJSON *sec = trigger_evaluate(&in, o, e);
	if (!sec)
		return ln->lineno > 0 ? cp_prefix(e, "%s: %s", ln->where, hname) : cp_prefix(e, "%s", hname);
	ln->yes = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sec, "should_optimize"));
	env_set(env, "trigger", sec);
	return 0;
}

static int new_envelopes(const cli *c, const cJSON *settings, const trigger_opts *o, stage *st, cp_err *e)
{
	horizon_def *hs = NULL;
	int nh = 0;
	if (c->all) {
		if (settings_horizons(settings, &hs, &nh, e) < 0)
			return -1;
	} else {
		hs = cp_malloc(sizeof *hs);
		nh = 1;
		if (settings_horizon(settings, c->horizon, hs, e) < 0) {
			free(hs);
			return -1;
		}
	}
	series s;
	if (series_load_missing(&s, c->series_path, c->id, 1, c->missing, e) < 0) {
		free(hs);
		return -1;
	}
	char run_id[96], last[11];
	env_make_run_id(run_id, sizeof run_id);
	cp_format_date(s.day[s.n - 1], last);
	int rc = 0;
	for (int i = 0; i < nh && rc == 0; i++) {
		cJSON *env = env_new(run_id, c->seed, c->series_path, s.id, last, s.n, hs[i].name, hs[i].steps,
		                     c->model);
		stage_line ln = {0};
		rc = run_one(env, &s, hs[i].name, hs[i].steps, c->model, c->seed, c, o, &ln, e);
		if (rc == 0)
			rc = stage_emit(st, env, &ln, e);
		cJSON_Delete(env);
	}
	series_free(&s);
	free(hs);
	return rc;
}

/* The envelopes on stdin: the series each names, loaded once while the
 * lines keep naming it. */
typedef struct {
	const cli *c;
	const trigger_opts *o;
	series s;
	char *spath, *sid;
	series_missing smiss;
} from_stdin;

static int stdin_line(cJSON *env, stage_line *ln, void *ctx, cp_err *e)
{
	from_stdin *x = ctx;
	const char *hname;
	int steps;
	env_horizon(env, &hname, &steps, e);
	const char *path = env_string(env, "series", "path");
	const char *id = env_string(env, "series", "id");
	const cJSON *len = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(env, "series"),
	                                                    "length");
	const char *last = env_string(env, "series", "last_date");
	uint64_t seed;
	series_missing miss;
	if (!path || !cJSON_IsNumber(len) || !last)
		return cp_fail(e, CP_DATA, "%s: envelope has no \"series\" with path, length and last_date",
		               ln->where);
	if (env_seed(env, &seed, e) < 0 || env_series_missing(env, &miss, e) < 0)
		return cp_prefix(e, "%s", ln->where);
	if (!x->spath || strcmp(x->spath, path) != 0 || strcmp(x->sid, id ? id : "") != 0 || x->smiss != miss) {
		series_free(&x->s);
		free(x->spath);
		free(x->sid);
		x->spath = cp_strdup(path);
		x->sid = cp_strdup(id ? id : "");
		x->smiss = miss;
		if (series_load_missing(&x->s, path, *x->sid ? x->sid : NULL, 1, miss, e) < 0) {
			free(x->spath);
			x->spath = NULL;
			return STAGE_STOP;
		}
	}
	char have[11];
	cp_format_date(x->s.day[x->s.n - 1], have);
	if ((double)x->s.n != len->valuedouble)
		return cp_fail(e, CP_DATA, "%s: series changed since the envelope was made (length %.17g, now %d)",
		               path, len->valuedouble, x->s.n);
	if (strcmp(have, last) != 0)
		return cp_fail(e, CP_DATA, "%s: series changed since the envelope was made (last date %.10s, now %s)",
		               path, last, have);
	cJSON *m = cJSON_GetObjectItemCaseSensitive(env, "model");
	cJSON *dir = cJSON_GetObjectItemCaseSensitive(m, "dir");
	if ((m && !cJSON_IsObject(m) && !cJSON_IsNull(m)) || (dir && !cJSON_IsString(dir) && !cJSON_IsNull(dir)))
		return cp_fail(e, CP_DATA, "%s: envelope \"model\".\"dir\" must be a string", ln->where);
	const char *model = env_string(env, "model", "dir");
	int from_env = model != NULL;
	if (!model) {
		model = x->c->model;
		if (!cJSON_IsObject(m))
			env_set(env, "model", m = cJSON_CreateObject());
		cJSON_DeleteItemFromObjectCaseSensitive(m, "dir");
		cJSON_AddStringToObject(m, "dir", model);
	}
	if (run_one(env, &x->s, hname, steps, model, seed, x->c, x->o, ln, e) < 0) {
		/* a bad model name from the envelope is bad input, not a bad command line */
		if (from_env && e->code == CP_USAGE)
			e->code = CP_DATA;
		return STAGE_STOP;
	}
	return STAGE_DONE;
}

/* --list-ids: the ids of the series CSV, one a line (series_ids). */
static int list_ids(const char *path)
{
	cp_err e = {0};
	char **ids;
	int n;
	if (series_ids(path, &ids, &n, &e) < 0)
		return cp_die(&e);
	for (int i = 0; i < n; i++) {
		printf("%s\n", ids[i]);
		free(ids[i]);
	}
	free(ids);
	return cp_close_stdout();
}

int main(int argc, char **argv)
{
	cli_start(&tool, argv);
	int listing = 0;
	cli c = {.model = "random_walk", .seed = 42};
	cp_err e = {0};
	int ch;
	opterr = 0; /* our own messages, named after the tool, not argv[0] */
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case O_SERIES: c.series_path = optarg; break;
		case O_ID: c.id = optarg; break;
		case O_MISSING:
			if (series_missing_parse(optarg, &c.missing) < 0)
				return cli_misuse("--missing: '%s' is not 'error', 'nan' or 'drop'", optarg);
			c.missing_given = 1;
			break;
		case O_HORIZON: c.horizon = optarg; break;
		case O_ALL: c.all = 1; break;
		case O_MODEL: c.model = optarg; break;
		case O_SEED:
			if (cp_parse_u64(optarg, &c.seed) < 0 || c.seed > CP_SEED_MAX)
				return cli_misuse("--seed: '%s' is not an integer in " CP_SEED_RANGE, optarg);
			break;
		case O_LOG: c.log = optarg; break;
		case O_ASOF:
			if (cp_parse_date(optarg, &c.as_of) < 0)
				return cli_misuse("--as-of: date '%s' is not a valid date", optarg);
			c.as_of_given = 1;
			break;
		case O_FORCE: c.force = 1; break;
		case O_EXITCODE: c.exit_code = 1; break;
		case O_CONFIG: c.config = optarg; break;
		case O_CONFDIR: c.confdir = optarg; break;
		case O_HISTORY: c.history = optarg; break;
		case O_HELP:
			return cli_help();
		case O_LISTIDS: listing = 1; break;
		case '?':
			for (const struct option *p = longopts; optopt && p->name; p++)
				if (p->val == optopt)
					return cli_misuse(p->has_arg ? "option '--%s' needs an argument"
					                              : "option '--%s' takes no argument", p->name);
			return cli_misuse("unknown option '%s'", argv[optind - 1]);
		default:
			if (c.nov == (int)(sizeof c.ov / sizeof c.ov[0]))
				return cli_misuse("%s", "too many options");
			c.ov[c.nov].opt = ch;
			c.ov[c.nov++].arg = optarg;
		}
	}
	if (optind < argc)
		return cli_misuse("unexpected argument '%s'", argv[optind]);
	if (listing) {
		if (!c.series_path || c.horizon || c.all || c.id)
			return cli_misuse("%s", "--list-ids takes --series CSV and nothing else");
		return list_ids(c.series_path);
	}
	if (c.series_path && !c.horizon && !c.all)
		return cli_misuse("%s", "--series needs --horizon H or --all");
	if (c.horizon && c.all)
		return cli_misuse("%s", "--horizon and --all exclude each other");
	if (!c.series_path && (c.horizon || c.all))
		return cli_misuse("%s", "--horizon and --all make new envelopes and need --series");
	if (!c.series_path && c.id)
		return cli_misuse("%s", "--id needs --series");
	if (!c.series_path && c.missing_given)
		return cli_misuse("%s", "--missing needs --series (an envelope carries its own series.missing)");
	if (c.horizon && !cp_name_ok(c.horizon))
		return cli_misuse("--horizon: '%s' is not a plain name ([A-Za-z0-9_-], 1-32 chars)", c.horizon);
	/* the model of new envelopes and of the performance check: refuse a bad
	 * one now, not only when a deployed config happens to need it */
	forecaster *f = forecaster_open(c.model, &e);
	if (!f) {
		if (e.code == CP_USAGE)
			return cli_misuse("%s", e.msg);
		return cp_die(&e);
	}
	f->free(f);
	c.confdir = cli_config_dir(c.confdir);
	c.history = cli_history(c.history);

	cJSON *settings = settings_load(c.config, &e);
	if (!settings)
		return cp_die(&e);
	trigger_opts o;
	trigger_opts_default(&o);
	int rc = trigger_opts_from_settings(&o, settings, &e);
	for (int i = 0; rc == 0 && i < c.nov; i++)
		rc = apply(&o, &c.ov[i], &e);
	if (rc == 0)
		rc = trigger_opts_check(&o, &e);
	if (rc < 0) {
		cJSON_Delete(settings);
		if (e.code == CP_USAGE)
			return cli_misuse("%s", e.msg);
		return cp_die(&e);
	}
	from_stdin x = {.c = &c, .o = &o};
	stage st = {.section = "trigger", .line = stdin_line, .ctx = &x, .first = 1,
	            .exit_rule = c.exit_code ? STAGE_EXIT_NO_YES : STAGE_EXIT_NEVER};
	rc = c.series_path ? new_envelopes(&c, settings, &o, &st, &e) : stage_loop(&st, &e);
	series_free(&x.s);
	free(x.spath);
	free(x.sid);
	cJSON_Delete(settings);
	return stage_exit(&st, rc, &e);
}
