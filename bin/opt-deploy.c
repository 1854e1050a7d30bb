/* opt-deploy — deploy approved configs, roll back, report, watch.
 * See opt-deploy(1). Thin: options here, the work in lib/deploy.c and
 * lib/watch.c. */
#include "challenger.h"
#include "cli.h"
#include "common.h"
#include "depconfig.h"
#include "deploy.h"
#include "envelope.h"
#include "history.h"
#include "settings.h"
#include "stage.h"
#include "watch.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const cli_tool tool = {"opt-deploy",
	"usage: opt-deploy deploy [--as-challenger] [--dry-run] [--wait MS] [--notify CMD] < envelopes\n"
	      "       opt-deploy challenge --series FILE --model MODEL [--seed N] [--id ID] [--horizon H]...\n"
	      "                  [--dry-run] [--wait MS]\n"
	      "       opt-deploy rollback HORIZON [--to BACKUP|REVISION] [--dry-run] [--wait MS]\n"
	      "       opt-deploy status [--horizon H]... [--json]\n"
	      "       opt-deploy watch HORIZON (--health CMD | --log FILE) [--checks N]\n"
	      "                  [--interval SECONDS] [--period SECONDS] [--max-failures N]\n"
	      "                  [--rmse-spike PCT] [--time-factor X] [--since DATE] [--exit-code]\n"
	      "common options: --config FILE --config-dir DIR --history FILE --json --help\n"
	"see opt-deploy(1)\n", CLI_HINT_USAGE};

enum {
	O_CONFIG = 256, O_CONFIG_DIR, O_HISTORY, O_DRY_RUN, O_WAIT, O_NOTIFY, O_TO, O_JSON, O_HORIZON,
	O_HEALTH, O_LOG, O_CHECKS, O_INTERVAL, O_PERIOD, O_MAXFAIL, O_SPIKE, O_TIMEF, O_SINCE, O_EXIT,
	O_AS_CH, O_SERIES, O_MODEL, O_SEED, O_ID
};

static const struct option longopts[] = {
	CLI_ARG("config", O_CONFIG), CLI_ARG("config-dir", O_CONFIG_DIR), CLI_ARG("history", O_HISTORY),
	CLI_FLAG("dry-run", O_DRY_RUN), CLI_ARG("wait", O_WAIT), CLI_FLAG("json", O_JSON),
	CLI_ARG("horizon", O_HORIZON), CLI_FLAG("exit-code", O_EXIT),
	/* deploy, rollback */
	CLI_ARG("notify", O_NOTIFY), CLI_FLAG("as-challenger", O_AS_CH), CLI_ARG("to", O_TO),
	/* watch */
	CLI_ARG("health", O_HEALTH), CLI_ARG("log", O_LOG), CLI_ARG("checks", O_CHECKS),
	CLI_ARG("interval", O_INTERVAL), CLI_ARG("period", O_PERIOD), CLI_ARG("max-failures", O_MAXFAIL),
	CLI_ARG("rmse-spike", O_SPIKE), CLI_ARG("time-factor", O_TIMEF), CLI_ARG("since", O_SINCE),
	/* challenge */
	CLI_ARG("series", O_SERIES), CLI_ARG("model", O_MODEL), CLI_ARG("seed", O_SEED), CLI_ARG("id", O_ID),
	CLI_END,
};

typedef struct {
	const char *config, *config_dir, *history, *notify, *to, *health, *log, *since;
	const char *series, *model, *seed, *id;
	int dry_run, json, exit_code, as_challenger;
	double wait, interval, period;
	long checks;
	int have_wait, have_interval, have_period, have_checks, have_maxfail, have_spike, have_timef;
	wt_rules rules;
	const char *horizons[64];
	int nhorizons;
} opts;

/* Split the operator's command on blanks into a NULL-terminated argv
 * (no shell, no quoting). *store is freed by the caller. */
static char **split_argv(const char *cmd, char **store)
{
	*store = cp_strdup(cmd);
	size_t n = 0, cap = 8;
	char **v = cp_malloc(cap * sizeof(*v));
	char *p = *store;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		if (n + 2 > cap) {
			cap *= 2;
			v = cp_realloc(v, cap * sizeof(*v));
		}
		v[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	v[n] = NULL;
	return v;
}

/* settings "deploy.notify": ["cmd", "arg", ...] -> argv (borrowed strings) */
static char **settings_argv(const cJSON *settings, const char *dotted, cp_err *e, int *bad)
{
	const cJSON *n = settings_node(settings, dotted);
	*bad = 0;
	if (!n)
		return NULL;
	int k = cJSON_GetArraySize(n);
	if (!cJSON_IsArray(n) || k == 0) {
		*bad = 1;
		cp_fail(e, CP_DATA, "settings: %s must be a non-empty array of strings", dotted);
		return NULL;
	}
	char **v = cp_calloc((size_t)k + 1, sizeof(*v));
	int i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, n) {
		if (!cJSON_IsString(it)) {
			free(v);
			*bad = 1;
			cp_fail(e, CP_DATA, "settings: %s must be a non-empty array of strings", dotted);
			return NULL;
		}
		v[i++] = it->valuestring;
	}
	return v;
}

/* One envelope: dp_deploy_line applies the stop rule and deploys. */
static int deploy_line(cJSON *env, stage_line *ln, void *ctx, cp_err *e)
{
	int rc = dp_deploy_line(env, ctx, e);
	if (rc != 0) /* "tool: file: line: problem" (chronopt-envelope(7)) */
		cp_prefix(e, "%s", ln->where);
	/* 1: committed, then a later step failed */
	return rc < 0 ? STAGE_STOP : rc == 1 ? STAGE_LATE : STAGE_DONE;
}

static cJSON *result_json(const char *action, const char *h, const dp_result *r, int dry)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "action", action);
	cJSON_AddStringToObject(j, "horizon", h);
	cJSON_AddBoolToObject(j, "changed", r->changed);
	cJSON_AddBoolToObject(j, "dry_run", dry);
	if (r->restored[0])
		cJSON_AddStringToObject(j, "restored", r->restored);
	if (r->backup[0])
		cJSON_AddStringToObject(j, "backup", r->backup);
	else
		cJSON_AddNullToObject(j, "backup");
	if (r->revision[0])
		cJSON_AddStringToObject(j, "revision", r->revision);
	else
		cJSON_AddNullToObject(j, "revision");
	if (r->notify_status >= 0)
		cJSON_AddNumberToObject(j, "notify_exit_status", r->notify_status);
	cJSON_AddStringToObject(j, "summary", r->summary);
	return j;
}

/* A write error is left on stdout for main's cp_close_stdout to report. */
static int print_json(cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (!s) {
		fprintf(stderr, "%s: cannot format the JSON output\n", cp_progname);
		return CP_INTERNAL;
	}
	printf("%s\n", s);
	free(s);
	return CP_OK;
}

static int cmd_rollback(const dp_options *dp, const opts *o, const char *h)
{
	cp_err e = {0};
	dp_result r;
	int rc = dp_rollback(dp, h, o->to, NULL, &r, &e);
	if (rc < 0 && !r.changed)
		return cp_die(&e);
	if (o->json)
		print_json(result_json("rollback", h, &r, o->dry_run));
	else
		printf("%s\n", r.summary);
	if (rc < 0)
		return cp_die(&e);
	return CP_OK;
}

static int cmd_status(const dp_options *dp, const opts *o, const cJSON *settings)
{
	cp_err e = {0};
	const char *names[64];
	int n = 0;
	horizon_def *defs = NULL;
	if (o->nhorizons) {
		for (int i = 0; i < o->nhorizons; i++)
			names[n++] = o->horizons[i];
	} else {
		int k;
		if (settings_horizons(settings, &defs, &k, &e) < 0)
			return cp_die(&e);
		for (int i = 0; i < k && n < 64; i++)
			names[n++] = defs[i].name;
	}
	cJSON *st = dp_status(dp, names, n, &e);
	free(defs);
	if (!st)
		return cp_die(&e);
	if (o->json) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "config_dir", dp->config_dir);
		cJSON_AddItemToObject(j, "horizons", st);
		return print_json(j);
	}
	char *t = dp_status_text(st);
	fputs(t, stdout);
	free(t);
	cJSON_Delete(st);
	return CP_OK;
}

static void sleep_seconds(double s)
{
	if (!(s > 0))
		return;
	struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static int cmd_watch(const dp_options *dp, const opts *o, const cJSON *settings, const char *h)
{
	cp_err e = {0};
	int missing;
	cJSON *cfg = dc_load(dp->config_dir, h, &missing, &e);
	if (!cfg) {
		if (missing)
			cp_fail(&e, CP_DATA, "no config deployed for '%s' in '%s'", h, dp->config_dir);
		return cp_die(&e);
	}
	/* baselines: held-out figures recorded at deploy time */
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, "validation");
	const cJSON *br = cJSON_GetObjectItemCaseSensitive(v, "rmse");
	if (!cJSON_IsNumber(br))
		br = cJSON_GetObjectItemCaseSensitive(cfg, "validation_rmse");
	const cJSON *bs = cJSON_GetObjectItemCaseSensitive(v, "seconds_per_window");
	double base_rmse = cJSON_IsNumber(br) ? br->valuedouble : NAN;
	double base_sec = cJSON_IsNumber(bs) ? bs->valuedouble : NAN;
	char since[11] = "";
	const char *at = env_string(cfg, NULL, "deployed_at");
	if (o->since)
		snprintf(since, sizeof(since), "%s", o->since);
	else if (at && strlen(at) >= 10)
		snprintf(since, sizeof(since), "%.10s", at);
	cJSON_Delete(cfg);

	wt_state s;
	wt_init(&s);
	char reason[512];
	int roll = 0;
	const char *source;
	if (o->log) {
		source = "forecast log";
		if (wt_read_log(o->log, since[0] ? since : NULL, &o->rules, &s, &e) < 0)
			return cp_die(&e);
		roll = wt_verdict(&o->rules, &s, base_rmse, base_sec, reason, sizeof(reason));
	} else {
		source = "health command";
		char *store;
		char **argv = split_argv(o->health, &store);
		if (!argv[0]) {
			free(argv);
			free(store);
			return cli_misuse("%s", "--health needs a command");
		}
		double start = cp_now();
		for (long i = 0;; i++) {
			if (o->have_checks && i >= o->checks)
				break;
			if (!o->have_checks && cp_now() - start >= o->period)
				break;
			if (i > 0)
				sleep_seconds(o->interval);
			char path[4096];
			dc_path(path, sizeof(path), dp->config_dir, h, &e);
			int st = dp_notify(argv, "health", h, path, "", &e);
			wt_observe(&s, st == 0, NAN, NAN);
			if (s.in_row >= o->rules.max_failures)
				break;
		}
		free(argv);
		free(store);
		roll = wt_verdict(&o->rules, &s, NAN, NAN, reason, sizeof(reason));
	}
	dp_result r;
	memset(&r, 0, sizeof(r));
	r.notify_status = -1;
	int rc = 0;
	char why[640] = "";
	if (roll) {
		snprintf(why, sizeof(why), "watch (%s): %s", source, reason);
		rc = dp_rollback(dp, h, NULL, why, &r, &e);
		if (rc < 0 && !r.changed)
			return cp_die(&e);
	}
	/* what the watch saw: in the output and in the history record */
	cJSON *seen = cJSON_CreateObject();
	cJSON_AddStringToObject(seen, "source", source);
	cJSON_AddNumberToObject(seen, "observations", s.n);
	cJSON_AddNumberToObject(seen, "failures", s.failures);
	cJSON_AddNumberToObject(seen, "longest_failure_run", s.max_in_row);
	env_add_number(seen, "rmse", s.nerr ? sqrt(s.sse / s.nerr) : NAN);
	env_add_number(seen, "baseline_rmse", base_rmse);
	env_add_number(seen, "seconds_per_forecast", s.ntime ? s.seconds / s.ntime : NAN);
	env_add_number(seen, "baseline_seconds", base_sec);

	/* A rollback goes into the history like one by hand (outcome
	 * rolled_back), so the audit trail and the report show it. A failure
	 * to record leaves the rollback done and is reported after the
	 * output (exit 4 or the history's code). */
	cp_err he = {0};
	int hrc = 0;
	long recno = 0;
	/* --history, else $CHRONOPT_HISTORY, else history.jsonl (as opt-history) */
	const char *hpath = cli_history(o->history);
	if (roll && r.changed && !dp->dry_run) {
		cJSON *dep = result_json("rollback", h, &r, 0);
		cJSON_AddStringToObject(dep, "reason", why);
		cJSON_AddItemToObject(dep, "watch", cJSON_Duplicate(seen, 1));
		horizon_def hd;
		cp_err ignore = {0};
		int steps = settings_horizon(settings, h, &hd, &ignore) == 0 ? hd.steps : 0;
		char run_id[64];
		env_make_run_id(run_id, sizeof(run_id));
		hrc = wt_record_rollback(hpath, run_id, h, steps, dep, HISTORY_WAIT_MS, &recno, &he);
		cJSON_Delete(dep);
		if (hrc < 0)
			cp_prefix(&he, "the rollback is done but not recorded in '%s'", hpath);
	}
	if (o->json) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "horizon", h);
		for (cJSON *it = seen->child; it; it = it->next)
			cJSON_AddItemToObject(j, it->string, cJSON_Duplicate(it, 1));
		cJSON_AddBoolToObject(j, "rolled_back", roll && r.changed);
		cJSON_AddStringToObject(j, "reason", reason);
		if (roll)
			cJSON_AddItemToObject(j, "rollback", result_json("rollback", h, &r, dp->dry_run));
		if (recno > 0) {
			cJSON *hj = cJSON_AddObjectToObject(j, "history");
			cJSON_AddStringToObject(hj, "file", hpath);
			cJSON_AddNumberToObject(hj, "record", recno);
		}
		print_json(j);
	} else {
		printf("%s: %s\n", h, reason);
		if (roll)
			printf("%s: %s\n", h, r.summary);
		if (recno > 0)
			printf("%s: recorded in %s (record %ld)\n", h, hpath, recno);
	}
	cJSON_Delete(seen);
	if (rc < 0)
		return cp_die(&e);
	if (hrc < 0)
		return cp_die(&he);
	return roll && o->exit_code ? CP_DECLINED : CP_OK;
}

int main(int argc, char **argv)
{
	cli_start(&tool, argv);
	opts o = {0};
	o.rules = (wt_rules){3, 50.0, 3.0};
	o.interval = 60;
	o.period = 3600;
	int c, status;
	while ((c = cli_next_option(argc, argv, longopts, NULL, &status)) != -1) {
		double d;
		long l;
		switch (c) {
		case -2: return status;
		case O_CONFIG: o.config = optarg; break;
		case O_CONFIG_DIR: o.config_dir = optarg; break;
		case O_HISTORY: o.history = optarg; break;
		case O_DRY_RUN: o.dry_run = 1; break;
		case O_JSON: o.json = 1; break;
		case O_EXIT: o.exit_code = 1; break;
		case O_AS_CH: o.as_challenger = 1; break;
		case O_SERIES: o.series = optarg; break;
		case O_MODEL: o.model = optarg; break;
		case O_SEED: o.seed = optarg; break;
		case O_ID: o.id = optarg; break;
		case O_NOTIFY: o.notify = optarg; break;
		case O_TO: o.to = optarg; break;
		case O_HEALTH: o.health = optarg; break;
		case O_LOG: o.log = optarg; break;
		case O_SINCE: {
			int32_t day;
			if (cp_parse_date(optarg, &day) < 0)
				return cli_misuse("--since '%s' is not a date (YYYY-MM-DD)", optarg);
			o.since = optarg;
			break;
		}
		case O_HORIZON:
			if (o.nhorizons >= 64)
				return cli_misuse("%s", "too many --horizon options");
			o.horizons[o.nhorizons++] = optarg;
			break;
		case O_WAIT:
			if (cp_parse_long(optarg, 0, 86400000, &l) < 0)
				return cli_misuse("--wait '%s' must be milliseconds in 0..86400000", optarg);
			o.wait = (double)l;
			o.have_wait = 1;
			break;
		case O_INTERVAL:
			if (cp_parse_double(optarg, &d) < 0 || d < 0 || d > 86400)
				return cli_misuse("--interval '%s' must be seconds in 0..86400", optarg);
			o.interval = d;
			break;
		case O_PERIOD:
			if (cp_parse_double(optarg, &d) < 0 || d < 0 || d > 30 * 86400)
				return cli_misuse("--period '%s' must be seconds in 0..2592000", optarg);
			o.period = d;
			break;
		case O_CHECKS:
			if (cp_parse_long(optarg, 1, 1000000, &l) < 0)
				return cli_misuse("--checks '%s' must be an integer in 1..1000000", optarg);
			o.checks = l;
			o.have_checks = 1;
			break;
		case O_MAXFAIL:
			if (cp_parse_long(optarg, 1, 1000000, &l) < 0)
				return cli_misuse("--max-failures '%s' must be an integer >= 1", optarg);
			o.rules.max_failures = (int)l;
			break;
		case O_SPIKE:
			if (cp_parse_double(optarg, &d) < 0 || d < 0)
				return cli_misuse("--rmse-spike '%s' must be a percentage >= 0", optarg);
			o.rules.rmse_spike_pct = d;
			break;
		case O_TIMEF:
			if (cp_parse_double(optarg, &d) < 0 || d <= 0)
				return cli_misuse("--time-factor '%s' must be a number > 0", optarg);
			o.rules.time_factor = d;
			break;
		}
	}
	if (optind >= argc)
		return cli_misuse("%s", "missing command (deploy, challenge, rollback, status, watch)");
	const char *cmd = argv[optind++];
	int npos = argc - optind;
	char **pos = argv + optind;

	cp_err e = {0};
	cJSON *settings = settings_load(o.config, &e);
	if (!settings)
		return cp_die(&e);
	dp_options dp = {0};
	dp.config_dir = cli_config_dir(o.config_dir);
	double wait = 0;
	if (o.have_wait) {
		wait = o.wait;
	} else {
		int got = settings_number(settings, "deploy.wait_ms", &wait, &e);
		if (got < 0 || (got && (wait < 0 || wait > 86400000))) {
			cJSON_Delete(settings);
			if (got > 0)
				cp_fail(&e, CP_DATA, "settings: deploy.wait_ms must be in 0..86400000");
			return cp_die(&e);
		}
	}
	dp.wait_ms = (long)wait;
	dp.dry_run = o.dry_run;
	if (ch_settings(settings, &dp.as_challenger, &dp.ch_origins, &dp.ch_level, &e) < 0) {
		cJSON_Delete(settings);
		return cp_die(&e);
	}
	dp.as_challenger |= o.as_challenger;
	char *store = NULL;
	char **nargv = NULL;
	int owned = 0;
	if (o.notify) {
		nargv = split_argv(o.notify, &store);
		owned = 1;
		if (!nargv[0]) {
			free(nargv);
			free(store);
			cJSON_Delete(settings);
			return cli_misuse("%s", "--notify needs a command");
		}
	} else {
		int bad;
		nargv = settings_argv(settings, "deploy.notify", &e, &bad);
		if (bad) {
			cJSON_Delete(settings);
			return cp_die(&e);
		}
	}
	dp.notify = nargv;

	int rc, ran = 0;
	stage st = {.line = deploy_line, .ctx = &dp};
	if (strcmp(cmd, "deploy") == 0) {
		if (npos) {
			rc = cli_misuse("deploy takes no arguments (envelopes on stdin), got '%s'", pos[0]);
		} else {
			rc = stage_run(&st);
			ran = 1;
		}
	} else if (strcmp(cmd, "challenge") == 0) {
		if (npos)
			rc = cli_misuse("challenge takes no arguments (use --horizon), got '%s'", pos[0]);
		else if (ch_command(&dp, settings, o.series, o.id, o.model, o.seed, o.horizons, o.nhorizons, stdout,
		                    &e) < 0)
			rc = e.code == CP_USAGE ? cli_misuse("%s", e.msg) : cp_die(&e);
		else
			rc = CP_OK;
	} else if (strcmp(cmd, "rollback") == 0) {
		if (npos != 1)
			rc = cli_misuse("%s", "rollback needs exactly one horizon");
		else
			rc = cmd_rollback(&dp, &o, pos[0]);
	} else if (strcmp(cmd, "status") == 0) {
		if (npos)
			rc = cli_misuse("status takes no arguments (use --horizon), got '%s'", pos[0]);
		else
			rc = cmd_status(&dp, &o, settings);
	} else if (strcmp(cmd, "watch") == 0) {
		if (npos != 1)
			rc = cli_misuse("%s", "watch needs exactly one horizon");
		else if (!o.health == !o.log)
			rc = cli_misuse("%s", "watch needs one of --health CMD or --log FILE");
		else
			rc = cmd_watch(&dp, &o, settings, pos[0]);
	} else {
		rc = cli_misuse("unknown command '%.40s' (deploy, challenge, rollback, status, watch)", cmd);
	}
	if (owned) {
		free(nargv);
		free(store);
	} else {
		free(nargv);
	}
	cJSON_Delete(settings);
	if (ran) /* stage_run has closed stdout */
		return rc;
	if (rc >= CP_USAGE) {
		/* already reported; a failed stdout is usually that failure */
		fclose(stdout);
		return rc;
	}
	int crc = cp_close_stdout();
	return rc != CP_OK ? rc : crc;
}
