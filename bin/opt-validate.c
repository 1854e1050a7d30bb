/* opt-validate — approve a candidate config only when it is better than
 * the deployed one on held-out windows. See opt-validate(1). Thin: options
 * here, the work in lib/validate.c and lib/validate_run.c. */
#include "cli.h"
#include "common.h"
#include "envelope.h"
#include "fcache.h"
#include "settings.h"
#include "stage.h"
#include "validate.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_tool tool = {"opt-validate",
	"usage: opt-validate [options] < envelopes > envelopes\n"
	      "  --preset NAME               conservative, balanced (default), aggressive\n"
	      "  --min-rmse-improvement PCT  RMSE better by at least PCT % (5), or\n"
	      "  --min-mape-improvement PCT  MAPE better by at least PCT % (3)\n"
	      "  --max-std-increase PCT      error std up by at most PCT % (10)\n"
	      "  --max-time-increase PCT     inference time up by at most PCT % (50)\n"
	      "  --time-floor SECONDS        per-window times below this count as equal (0.01)\n"
	      "  --min-coverage FRACTION     95 % interval coverage at least (0.90)\n"
	      "  --max-bias-pct PCT          |bias| at most PCT % of the random walk's MAE\n"
	      "                              more than the random walk's |bias| (50)\n"
	      "  --max-bias UNITS            also |bias| below UNITS, in series units (off)\n"
	      "  --min-rw-improvement PCT    RMSE better than the random walk by (0)\n"
	      "  --require-significance      Diebold-Mariano one-sided p < alpha required\n"
	      "  --alpha A                   significance level (0.05)\n"
	      "  --dm-lags N                 DM autocovariance lags (0: steps-1, at most\n"
	      "                              half the windows; see opt-validate(1))\n"
	      "  --origins N --stride S      validation windows (30, 1: what opt-search held out)\n"
	      "  --batch N                   windows per forecaster call (0: all)\n"
	      "  --format json|text          envelopes (default) or a plain-text report\n"
	      "  --exit-code                 exit 1 when a line is not approved\n"
	      "  --cache DIR                 forecast cache (default $CHRONOPT_CACHE)\n"
	      "  --no-cache                  compute every window (same results)\n"
	      "  --config FILE --config-dir DIR --history FILE --help\n"
	"see opt-validate(1)\n", CLI_HINT_NONE};

enum {
	O_CONFIG = 256, O_CONFIG_DIR, O_HISTORY, O_PRESET, O_RMSE, O_MAPE, O_STD, O_TIME, O_FLOOR,
	O_COV, O_BIAS, O_BIAS_PCT, O_RW, O_SIG, O_ALPHA, O_LAGS, O_ORIGINS, O_STRIDE, O_BATCH, O_FORMAT, O_EXIT,
	O_CACHE, O_NOCACHE
};

static const struct option longopts[] = {
	CLI_ARG("config", O_CONFIG), CLI_ARG("config-dir", O_CONFIG_DIR), CLI_ARG("history", O_HISTORY),
	CLI_ARG("preset", O_PRESET), CLI_ARG("format", O_FORMAT), CLI_FLAG("exit-code", O_EXIT),
	/* the criteria */
	CLI_ARG("min-rmse-improvement", O_RMSE), CLI_ARG("min-mape-improvement", O_MAPE),
	CLI_ARG("max-std-increase", O_STD), CLI_ARG("max-time-increase", O_TIME), CLI_ARG("time-floor", O_FLOOR),
	CLI_ARG("min-coverage", O_COV), CLI_ARG("max-bias", O_BIAS), CLI_ARG("max-bias-pct", O_BIAS_PCT),
	CLI_ARG("min-rw-improvement", O_RW), CLI_FLAG("require-significance", O_SIG), CLI_ARG("alpha", O_ALPHA),
	CLI_ARG("dm-lags", O_LAGS),
	/* the windows and the forecaster */
	CLI_ARG("origins", O_ORIGINS), CLI_ARG("stride", O_STRIDE), CLI_ARG("batch", O_BATCH),
	CLI_ARG("cache", O_CACHE), CLI_FLAG("no-cache", O_NOCACHE), CLI_END,
};

/* A command-line number for criterion field *dst (applied after settings). */
typedef struct {
	int set;
	double v;
} numopt;

static int settings_int(const cJSON *st, const char *key, long lo, long hi, int *out, cp_err *e)
{
	double v;
	int got = settings_number(st, key, &v, e);
	if (got < 0)
		return -1;
	if (got) {
		if (v != (double)(long)v || v < lo || v > hi)
			return cp_fail(e, CP_DATA, "settings: %s must be an integer in %ld..%ld", key, lo, hi);
		*out = (int)v;
	}
	return 0;
}

/* One envelope: vd_line applies the stop rule and decides. */
static int validate_line(cJSON *env, stage_line *ln, void *ctx, cp_err *e)
{
	int rc = vd_line(env, ctx, e);
	if (rc < 0) /* "tool: file: line: problem" (chronopt-envelope(7)) */
		return cp_prefix(e, "%s", ln->where);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(env, "validation");
	ln->no = cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(v, "approved"));
	return rc > 0 ? STAGE_FAILED : STAGE_DONE;
}

/* --format text: the report of the line instead of the line. */
static int write_text(const cJSON *env, void *ctx, cp_err *e)
{
	char *out = NULL;
	size_t len = 0;
	int r = vd_text_report(env, &out, &len, e);
	if (r == 0 && (fwrite(out, 1, len, stdout) != len || fflush(stdout) != 0))
		r = cp_fail_errno(e, "error writing the report");
	free(out);
	return r;
}

int main(int argc, char **argv)
{
	cli_start(&tool, argv);
	const char *config = NULL, *config_dir = NULL, *preset = NULL;
	numopt rmse = {0}, mape = {0}, sd = {0}, tm = {0}, fl = {0}, cov = {0}, bias = {0}, bias_pct = {0}, rw = {0},
	       alpha = {0};
	int sig = 0, lags = -1, origins = -1, stride = -1, batch = -1, text = 0, exit_code = 0;
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		numopt *n = NULL;
		long l;
		switch (c) {
		case O_CONFIG: config = optarg; break;
		case O_CONFIG_DIR: config_dir = optarg; break;
		case O_HISTORY: break;
		case O_PRESET: preset = optarg; break;
		case O_RMSE: n = &rmse; break;
		case O_MAPE: n = &mape; break;
		case O_STD: n = &sd; break;
		case O_TIME: n = &tm; break;
		case O_FLOOR: n = &fl; break;
		case O_COV: n = &cov; break;
		case O_BIAS: n = &bias; break;
		case O_BIAS_PCT: n = &bias_pct; break;
		case O_RW: n = &rw; break;
		case O_ALPHA: n = &alpha; break;
		case O_SIG: sig = 1; break;
		case O_EXIT: exit_code = 1; break;
		case O_CACHE:
			if (!*optarg)
				return cli_misuse("--cache: the directory name is empty%s", "");
			fcache_select(optarg);
			break;
		case O_NOCACHE: fcache_select(NULL); break;
		case O_LAGS:
			if (cp_parse_long(optarg, 0, 10000, &l) < 0)
				return cli_misuse("--dm-lags '%s' must be an integer in 0..10000", optarg);
			lags = (int)l;
			break;
		case O_ORIGINS:
			if (cp_parse_long(optarg, 3, 100000, &l) < 0)
				return cli_misuse("--origins '%s' must be an integer in 3..100000", optarg);
			origins = (int)l;
			break;
		case O_STRIDE:
			if (cp_parse_long(optarg, 1, 100000, &l) < 0)
				return cli_misuse("--stride '%s' must be an integer in 1..100000", optarg);
			stride = (int)l;
			break;
		case O_BATCH:
			if (cp_parse_long(optarg, 0, 100000, &l) < 0)
				return cli_misuse("--batch '%s' must be an integer in 0..100000", optarg);
			batch = (int)l;
			break;
		case O_FORMAT:
			if (strcmp(optarg, "text") == 0)
				text = 1;
			else if (strcmp(optarg, "json") == 0)
				text = 0;
			else
				return cli_misuse("--format '%s' must be json or text", optarg);
			break;
		case 'h':
			return cli_help();
		default:
			fputs(tool.usage, stderr);
			return CP_USAGE;
		}
		if (n) {
			if (cp_parse_double(optarg, &n->v) < 0)
				return cli_misuse("'%s' is not a number", optarg);
			n->set = 1;
		}
	}
	if (optind < argc)
		return cli_misuse("unexpected argument '%s' (envelopes are read from standard input)", argv[optind]);

	cp_err e = {0};
	cJSON *settings = settings_load(config, &e);
	if (!settings)
		return cp_die(&e);
	vd_options o = {0};
	const cJSON *sp = settings_node(settings, "validate.preset");
	o.preset = preset ? preset : cJSON_IsString(sp) ? sp->valuestring : "balanced";
	o.origins = 30;
	o.stride = 1;
	o.batch = 0;
	int rc = vd_preset("balanced", &o.crit, &e);
	if (rc == 0 && preset)
		rc = vd_preset(preset, &o.crit, &e);
	if (rc == 0)
		rc = vd_criteria_from_settings(settings, preset != NULL, &o.crit, &e);
	if (rc == 0)
		rc = settings_int(settings, "validate.validation_origins", 3, 100000, &o.origins, &e);
	if (rc == 0)
		rc = settings_int(settings, "validate.stride", 1, 100000, &o.stride, &e);
	if (rc == 0)
		rc = settings_int(settings, "validate.batch", 0, 100000, &o.batch, &e);
	if (rc < 0) {
		cJSON_Delete(settings);
		return cp_die(&e);
	}
	/* the command line overrides the settings file */
	if (rmse.set) o.crit.rmse_improvement_pct = rmse.v;
	if (mape.set) o.crit.mape_improvement_pct = mape.v;
	if (sd.set) o.crit.err_std_increase_pct = sd.v;
	if (tm.set) o.crit.time_increase_pct = tm.v;
	if (fl.set) o.crit.time_floor_seconds = fl.v;
	if (cov.set) o.crit.min_coverage95 = cov.v;
	if (bias.set) o.crit.max_abs_bias = bias.v;
	if (bias_pct.set) o.crit.max_bias_pct = bias_pct.v;
	if (rw.set) o.crit.min_rw_improvement_pct = rw.v;
	if (alpha.set) o.crit.alpha = alpha.v;
	if (sig) o.crit.require_significance = 1;
	if (lags >= 0) o.crit.dm_lags = lags;
	if (origins > 0) o.origins = origins;
	if (stride > 0) o.stride = stride;
	if (batch >= 0) o.batch = batch;
	int custom = rmse.set || mape.set || sd.set || tm.set || fl.set || cov.set || bias.set || bias_pct.set ||
	             rw.set || alpha.set || sig || lags >= 0;
	if (custom && !preset)
		o.preset = "custom";
	if (vd_criteria_check(&o.crit, &e) < 0) {
		cJSON_Delete(settings);
		return cp_die(&e);
	}
	o.config_dir = cli_config_dir(config_dir);

	stage st = {.line = validate_line, .write = text ? write_text : NULL, .ctx = &o,
	            .exit_rule = exit_code ? STAGE_EXIT_ANY_NO : STAGE_EXIT_NEVER};
	rc = stage_run(&st);
	cJSON_Delete(settings);
	return rc;
}
