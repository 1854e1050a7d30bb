/* opt-search — find the best inference config per horizon (opt-search(1)).
 * Envelopes in, the "search" section out; or, for several processes or
 * machines, --plan (units out), --run-unit (results out), --reduce
 * (envelopes out). The work itself is in lib/search.c. */
#include "cli.h"
#include "common.h"
#include "envelope.h"
#include "jsonutil.h"
#include "forecast.h"
#include "fcache.h"
#include "search.h"
#include "search_dist.h"
#include "series.h"
#include "settings.h"
#include "stage.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MODE_RUN, MODE_PLAN, MODE_RUN_UNIT, MODE_REDUCE };

static struct {
	int mode;
	const char *config, *model;
	const char *list[SP_NDIM];
	int method, trials, eta, min_windows, windows, stride, holdout, batch, reuse, ensemble;
	int jobs;
	double max_seconds;
	int have_seed, have_sampler_seed, cost;
	uint64_t seed, sampler_seed;
	cJSON *settings;
	const char *settings_name;
} opt = {.cost = -1, .method = -1, .trials = -1, .eta = -1, .min_windows = -1, .windows = -1,
         .stride = -1, .holdout = -1, .batch = -1, .reuse = -1, .ensemble = -1, .jobs = 1, .max_seconds = -1};

static const cli_tool tool = {"opt-search",
	        "usage: opt-search [options] < envelopes > envelopes\n"
	        "       opt-search --plan [options] < envelopes > units\n"
	        "       opt-search --run-unit < units > results\n"
	        "       opt-search --reduce < results > envelopes\n"
	        "Find the best context_length, num_samples, temperature (top_k, top_p) per horizon\n"
	        "on walk-forward windows before the validation hold-out.\n"
	        "  --method grid|random|halving|tpe   search method (default grid)\n"
	        "  --trials N            random: configs to try (default 10); tpe: trials (default 40)\n"
	        "  --eta N               halving: keep 1/N per rung (default 3)\n"
	        "  --min-windows N       halving: windows of the first rung, at least (default 2)\n"
	        "  --windows N           search origins (default 30, settings search.origins)\n"
	        "  --stride N            spacing of the search origins (default 1)\n"
	        "  --holdout N           most recent origins kept for opt-validate\n"
	        "                        (default settings validate.validation_origins, else 30)\n"
	        "  --batch N             windows per forecaster call (default all)\n"
	        "  --no-reuse            one forecaster call per config (for comparisons)\n"
	        "  --context-lengths L   comma-separated values, over the settings' space\n"
	        "  --num-samples L, --temperatures L, --top-k L, --top-p L   likewise\n"
	        "  --model SPEC          model (default: the envelope's model.dir)\n"
	        "  --seed N              seed (default: the envelope's seed)\n"
	        "  --sampler-seed N      tpe: the sampler's own seed (default: the seed)\n"
	        "  --objectives L        rmse (default), rmse,cost or rmse,seconds: the Pareto\n"
	        "                        front, the cheapest config near the lowest RMSE\n"
	        "  --ensemble N          after the search, greedy ensemble selection of up to N\n"
	        "                        picks from the configs and the baselines (0: off)\n"
	        "  --jobs N              worker processes (default 1; same results)\n"
	        "  --max-seconds S       stop starting work after S seconds (status partial)\n"
	        "  --cache DIR           forecast cache (default $CHRONOPT_CACHE; opt-cache(1))\n"
	        "  --no-cache            compute every window (same results)\n"
	        "  --plan, --run-unit, --reduce   split the work (see opt-search(1))\n"
	        "  --config FILE         settings file (default configs/chronopt.json)\n"
	        "  --config-dir DIR, --history FILE   accepted for symmetry with the other stages\n"
	        "  --help                this text\n", CLI_HINT_TRY};

static void progress(void *ctx, int done, int total, double elapsed)
{
	const char *h = ctx;
	double eta = done > 0 ? elapsed / done * (total - done) : 0;
	fprintf(stderr, "\r%s: %s: %d/%d units, %.0fs elapsed, ETA %.0fs   ", cp_progname, h, done,
	        total, elapsed, eta);
}

/* Options for one envelope line: settings, then the command line.
 * Returns 0, -1 on an error that stops the stage, or 1 when this horizon
 * cannot run (no or a bad search space for it): e says why. */
static int line_options(const cJSON *env, const char *hname, sr_options *o, const char **model,
                        const char *where, cp_err *e)
{
	sr_options_default(o);
	int src = sr_options_from_settings(o, opt.settings, hname, opt.settings_name, e);
	if (src < 0)
		return src == -2 ? 1 : -1;
	static const char *const names[SP_NDIM] = {"--context-lengths", "--num-samples",
	                                           "--temperatures", "--top-k", "--top-p"};
	for (int d = 0; d < SP_NDIM; d++)
		if (opt.list[d] && sp_from_list(&o->space, d, opt.list[d], names[d], e) < 0)
			return -1;
	if (!sp_has(&o->space, SP_CTX)) {
		cp_fail(e, CP_DATA,
		        "no search space for horizon '%s': set search.spaces.%s in the settings "
		        "or give --context-lengths",
		        hname, hname);
		return 1;
	}
	if (sp_check(&o->space, opt.list[SP_CTX] || opt.list[SP_SAMPLES] || opt.list[SP_TEMP] ||
	                                opt.list[SP_TOPK] || opt.list[SP_TOPP]
	                            ? "search space (settings and options)"
	                            : "search space",
	             CP_DATA, e) < 0)
		return 1;
#define OVR(f) if (opt.f >= 0) o->f = opt.f
	OVR(method); OVR(trials); OVR(eta); OVR(min_windows); OVR(windows); OVR(stride);
	OVR(holdout); OVR(batch); OVR(reuse); OVR(cost); OVR(ensemble);
#undef OVR
	if (opt.have_seed) {
		o->seed = opt.seed;
	} else if (env_seed(env, &o->seed, e) < 0) {
		return cp_prefix(e, "%s", where);
	}
	o->have_sampler_seed = opt.have_sampler_seed;
	o->sampler_seed = opt.sampler_seed;
	*model = opt.model ? opt.model : env_string(env, "model", "dir");
	if (!*model)
		return cp_fail(e, CP_DATA, "%s: envelope has no \"model\".\"dir\" (give --model)", where);
	return 0;
}

typedef struct {
	series s;
	forecaster *f, *rw;
	sr_search S;
	int ready;
} line_work;

static void work_release(line_work *w)
{
	if (w->f)
		w->f->free(w->f);
	if (w->rw)
		w->rw->free(w->rw);
	series_free(&w->s);
	sr_release(&w->S);
	memset(w, 0, sizeof(*w));
}

/* A quantile model (f->nquantiles > 0) searches context_length only: a
 * space that names a sampling setting (option or settings file) is
 * refused, the defaults' sampling values are dropped. */
static int quantile_space(const forecaster *f, const char *hname, sr_options *o, cp_err *e)
{
	static const char *const names[SP_NDIM] = {"--context-lengths", "--num-samples",
	                                           "--temperatures", "--top-k", "--top-p"};
	char key[64];
	snprintf(key, sizeof(key), "search.spaces.%s", hname);
	const cJSON *sp = opt.settings ? settings_node(opt.settings, key) : NULL;
	for (int d = SP_SAMPLES; d < SP_NDIM; d++) {
		if (opt.list[d])
			return cp_fail(e, CP_USAGE, "%s: %s is a quantile model: it draws no samples, so "
			               "num_samples, temperature, top_k and top_p do not apply (search "
			               "context_length only)", names[d], f->family);
		if (cJSON_GetObjectItemCaseSensitive(sp, sp_dim_name[d]))
			return cp_fail(e, CP_DATA, "%s: %s.%s: %s is a quantile model: it draws no samples, so "
			               "num_samples, temperature, top_k and top_p do not apply (name only "
			               "context_length in its search space)", opt.settings_name, key,
			               sp_dim_name[d], f->family);
	}
	sp_quantile_model(&o->space);
	return 0;
}

/* Load series and model and set up the search for one envelope.
 * Returns 0, -1 on an error that stops the stage, or 1 when this horizon
 * cannot run (no or a bad search space, a series too short for its
 * windows): e says why, nothing is left to release. */
static int line_setup(const cJSON *env, line_work *w, const char *where, cp_err *e)
{
	memset(w, 0, sizeof(*w));
	const char *hname, *model;
	int steps;
	sr_options o;
	if (env_horizon(env, &hname, &steps, e) < 0)
		return cp_prefix(e, "%s", where);
	int lrc = line_options(env, hname, &o, &model, where, e);
	if (lrc != 0)
		return lrc;
	if (o.ensemble > 0 && (opt.mode == MODE_PLAN || o.cost != SR_COST_NONE))
		return cp_fail(e, CP_USAGE, "--ensemble does not go with %s (%s)",
		               opt.mode == MODE_PLAN ? "--plan" : "--objectives with a cost",
		               opt.mode == MODE_PLAN ? "the units do not carry the point forecasts "
		               "it selects from" : "it selects by RMSE alone");
	if (opt.mode == MODE_PLAN && (o.method == SR_HALVING || o.method == SR_TPE))
		return cp_fail(e, CP_USAGE, "--plan does not support --method %s "
		                            "(its later trials depend on earlier results)",
		               sr_method_name[o.method]);
	if (sr_env_series(env, &w->s, where, e) < 0)
		return -1;
	if (!(w->f = forecaster_open(model, e))) {
		/* a bad model name from the envelope is bad input, not a bad command line */
		if (!opt.model) {
			if (e->code == CP_USAGE)
				e->code = CP_DATA;
			cp_prefix(e, "%s", where);
		}
		work_release(w);
		return -1;
	}
	if ((w->f->nquantiles > 0 && quantile_space(w->f, hname, &o, e) < 0) ||
	    !(w->rw = baseline_new("random_walk", 1, e))) {
		work_release(w);
		return -1;
	}
	if (sr_prepare(&w->S, hname, steps, &o, &w->s, w->f, model, e) < 0) {
		/* the series is too short for this horizon's windows */
		int code = e->code;
		work_release(w);
		return code == CP_DATA ? 1 : -1;
	}
	for (int i = 0; i < w->S.nwarn; i++)
		fprintf(stderr, "%s: warning: %s\n", cp_progname, w->S.warn[i]);
	return 0;
}

static const char *run_id_of(const cJSON *env)
{
	const char *r = env_string(env, NULL, "run_id");
	return r ? r : "";
}

/* ------------------------------------------------------------ modes */

/* One envelope of a search: the "search" section, or the error section
 * of a horizon that cannot run. */
static int search_line(cJSON *env, stage_line *ln, void *ctx, cp_err *e)
{
	(void)ctx;
	double t0 = cp_now();
	line_work w;
	int src = line_setup(env, &w, ln->where, e);
	if (src < 0)
		return STAGE_STOP;
	if (src > 0) {
		cJSON *err = env_error(e);
		env_add_number(err, "seconds", cp_now() - t0);
		env_set(env, "search", err);
		return STAGE_FAILED;
	}
	int tty = isatty(2);
	int xrc = sr_execute(&w.S, &w.s, w.f, w.rw, opt.jobs, opt.max_seconds, tty ? progress : NULL,
	                     w.S.horizon, e);
	if (tty)
		fputc('\n', stderr);
	if (xrc < 0) {
		work_release(&w);
		return STAGE_STOP;
	}
	char now[21];
	env_utc_now(now);
	env_set(env, "search", sr_section(&w.S, run_id_of(env), now, cp_now() - t0));
	sr_env_model(env, w.S.model_dir, w.S.sha256);
	work_release(&w);
	return STAGE_DONE;
}

static int emit(cJSON *line, cp_err *e)
{
	return env_write(stdout, line, e);
}

/* --plan: one envelope becomes its unit lines. The stop rule is applied
 * here, not by the runner: a stopped line is one unit line that --reduce
 * turns back into the skipped section. */
static int plan_line(cJSON *env, stage_line *ln, void *ctx, cp_err *e)
{
	stage *st = ctx;
	char buf[1024];
	const char *reason = env_stop_reason(env, "search", buf, sizeof(buf));
	line_work w;
	int src = reason ? 0 : line_setup(env, &w, ln->where, e);
	if (src < 0)
		return STAGE_STOP;
	if (env_failed_stage(env))
		st->npartial++;
	int rc = 0;
	if (reason || src > 0) {
		/* a line an earlier stage stopped, or a horizon that cannot
		 * run: one unit line that --reduce turns back into the
		 * skipped or failed section */
		cJSON *err = NULL;
		if (src > 0) {
			env_warn_failed(ln->where, env, e);
			err = env_error(e);
			st->npartial++;
		}
		cJSON *u = sr_unit_line(ln->lineno, 0, 1, env, NULL, NULL, reason, err);
		rc = emit(u, e);
		cJSON_Delete(u);
	} else {
		sr_unit *units;
		int n;
		sr_units(&w.S, 0, &units, &n);
		cJSON *plan = sr_plan_json(&w.S);
		for (int i = 0; i < n && rc >= 0; i++) {
			cJSON *u = sr_unit_line(ln->lineno, i, n, env, plan, &units[i], NULL, NULL);
			rc = emit(u, e);
			cJSON_Delete(u);
		}
		cJSON_Delete(plan);
		sr_units_free(units, n);
		work_release(&w);
	}
	return rc < 0 ? STAGE_STOP : STAGE_WRITTEN;
}

/* Read the next non-blank JSON line of schema `schema` from stdin. */
static int read_obj(char **buf, size_t *cap, long *lineno, const char *schema, cJSON **out,
                    cp_err *e)
{
	for (;;) {
		ssize_t n = getline(buf, cap, stdin);
		if (n < 0) {
			if (ferror(stdin))
				return cp_fail_errno(e, "<stdin>: read error");
			return 0;
		}
		(*lineno)++;
		char *p = *buf;
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p)
			continue;
		cJSON *j = cp_json_parse_strict(*buf, (size_t)n, e);
		if (!j)
			return cp_prefix(e, "<stdin>:%ld", *lineno);
		const cJSON *sc = cJSON_GetObjectItemCaseSensitive(j, "schema");
		if (!cJSON_IsObject(j)) {
			cJSON_Delete(j);
			return cp_fail(e, CP_DATA, "<stdin>:%ld: not a JSON object", *lineno);
		}
		if (!cJSON_IsString(sc) || strcmp(sc->valuestring, schema) != 0) {
			cJSON_Delete(j);
			return cp_fail(e, CP_DATA, "<stdin>:%ld: expected a line with \"schema\":\"%s\"",
			               *lineno, schema);
		}
		*out = j;
		return 1;
	}
}

static int mode_run_unit(cp_err *e)
{
	char *buf = NULL;
	size_t cap = 0;
	long lineno = 0;
	cJSON *j;
	int rc;
	while ((rc = read_obj(&buf, &cap, &lineno, SR_UNIT_SCHEMA, &j, e)) == 1) {
		rc = sr_run_unit_line(j, e);
		if (rc < 0)
			cp_prefix(e, "<stdin>:%ld", lineno);
		if (rc == 0)
			rc = emit(j, e);
		cJSON_Delete(j);
		if (rc < 0)
			break;
	}
	free(buf);
	return rc < 0 ? -1 : 0;
}

static int emit_env(cJSON *env, void *ctx, cp_err *e)
{
	return stage_emit(ctx, env, NULL, e);
}

static int mode_reduce(stage *st, cp_err *e)
{
	char *buf = NULL;
	size_t cap = 0;
	long lineno = 0;
	cJSON **R = NULL, *j;
	int n = 0, rcap = 0, rc;
	while ((rc = read_obj(&buf, &cap, &lineno, SR_RESULT_SCHEMA, &j, e)) == 1) {
		if (n == rcap) {
			rcap = rcap ? 2 * rcap : 64;
			R = cp_realloc(R, (size_t)rcap * sizeof(cJSON *));
		}
		R[n++] = j;
	}
	free(buf);
	if (rc == 0)
		rc = sr_reduce(R, n, emit_env, st, e);
	for (int i = 0; i < n; i++)
		cJSON_Delete(R[i]);
	free(R);
	return rc < 0 ? -1 : 0;
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	cli_start(&tool, argv);
	enum { O_METHOD = 256, O_TRIALS, O_ETA, O_MINW, O_WINDOWS, O_STRIDE, O_HOLDOUT, O_BATCH,
	       O_NOREUSE, O_CTX, O_NS, O_TEMP, O_TOPK, O_TOPP, O_MODEL, O_SEED, O_SSEED, O_OBJ, O_JOBS,
	       O_MAXS, O_PLAN, O_RUNUNIT, O_REDUCE, O_CONFIG, O_CONFIGDIR, O_HISTORY, O_CACHE,
	       O_NOCACHE, O_ENSEMBLE, O_HELP };
	static const struct option lo[] = {
		{"method", 1, 0, O_METHOD}, {"trials", 1, 0, O_TRIALS}, {"eta", 1, 0, O_ETA},
		{"min-windows", 1, 0, O_MINW}, {"windows", 1, 0, O_WINDOWS}, {"stride", 1, 0, O_STRIDE},
		{"holdout", 1, 0, O_HOLDOUT}, {"batch", 1, 0, O_BATCH}, {"no-reuse", 0, 0, O_NOREUSE},
		{"context-lengths", 1, 0, O_CTX}, {"num-samples", 1, 0, O_NS},
		{"temperatures", 1, 0, O_TEMP}, {"top-k", 1, 0, O_TOPK}, {"top-p", 1, 0, O_TOPP},
		{"model", 1, 0, O_MODEL}, {"seed", 1, 0, O_SEED}, {"sampler-seed", 1, 0, O_SSEED},
		{"objectives", 1, 0, O_OBJ},
		{"jobs", 1, 0, O_JOBS}, {"ensemble", 1, 0, O_ENSEMBLE},
		{"max-seconds", 1, 0, O_MAXS}, {"plan", 0, 0, O_PLAN}, {"run-unit", 0, 0, O_RUNUNIT},
		{"reduce", 0, 0, O_REDUCE}, {"config", 1, 0, O_CONFIG}, {"config-dir", 1, 0, O_CONFIGDIR},
		{"history", 1, 0, O_HISTORY}, {"cache", 1, 0, O_CACHE}, {"no-cache", 0, 0, O_NOCACHE},
		{"help", 0, 0, O_HELP}, {0, 0, 0, 0}};
	cp_err e = {0};
	int c, modes = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		int rc = 0;
		switch (c) {
		case O_METHOD:
			for (opt.method = 0; opt.method < SR_NMETHOD; opt.method++)
				if (strcmp(optarg, sr_method_name[opt.method]) == 0)
					break;
			if (opt.method == SR_NMETHOD)
				rc = cp_fail(&e, CP_USAGE, "--method: '%s' is not grid, random, halving or tpe",
				             optarg);
			break;
		case O_TRIALS: rc = cp_opt_int("--trials", optarg, 1, SP_MAX_CONFIGS, &opt.trials, &e); break;
		case O_ETA: rc = cp_opt_int("--eta", optarg, 2, 1000, &opt.eta, &e); break;
		case O_MINW: rc = cp_opt_int("--min-windows", optarg, 1, 100000, &opt.min_windows, &e); break;
		case O_WINDOWS: rc = cp_opt_int("--windows", optarg, 1, 100000, &opt.windows, &e); break;
		case O_STRIDE: rc = cp_opt_int("--stride", optarg, 1, 100000, &opt.stride, &e); break;
		case O_HOLDOUT: rc = cp_opt_int("--holdout", optarg, 0, 100000, &opt.holdout, &e); break;
		case O_BATCH: rc = cp_opt_int("--batch", optarg, 0, 100000, &opt.batch, &e); break;
		case O_NOREUSE: opt.reuse = 0; break;
		case O_CTX: opt.list[SP_CTX] = optarg; break;
		case O_NS: opt.list[SP_SAMPLES] = optarg; break;
		case O_TEMP: opt.list[SP_TEMP] = optarg; break;
		case O_TOPK: opt.list[SP_TOPK] = optarg; break;
		case O_TOPP: opt.list[SP_TOPP] = optarg; break;
		case O_MODEL: opt.model = optarg; break;
		case O_SEED:
			if (cp_parse_u64(optarg, &opt.seed) < 0 || opt.seed > CP_SEED_MAX)
				rc = cp_fail(&e, CP_USAGE, "--seed: '%s' is not an integer in " CP_SEED_RANGE, optarg);
			opt.have_seed = 1;
			break;
		case O_OBJ:
			if (sr_parse_objectives(optarg, &opt.cost) < 0)
				rc = cp_fail(&e, CP_USAGE, "--objectives: '%s' is not rmse, rmse,seconds or "
				             "rmse,cost", optarg);
			break;
		case O_SSEED:
			if (cp_parse_u64(optarg, &opt.sampler_seed) < 0 || opt.sampler_seed > CP_SEED_MAX)
				rc = cp_fail(&e, CP_USAGE, "--sampler-seed: '%s' is not an integer in "
				             CP_SEED_RANGE, optarg);
			opt.have_sampler_seed = 1;
			break;
		case O_JOBS: rc = cp_opt_int("--jobs", optarg, 1, 256, &opt.jobs, &e); break;
		case O_ENSEMBLE:
			rc = cp_opt_int("--ensemble", optarg, 0, FC_ENSEMBLE_MAX, &opt.ensemble, &e);
			break;
		case O_MAXS:
			if (cp_parse_double(optarg, &opt.max_seconds) < 0 || opt.max_seconds < 0)
				rc = cp_fail(&e, CP_USAGE, "--max-seconds: '%s' is not a number >= 0", optarg);
			break;
		case O_PLAN: opt.mode = MODE_PLAN, modes++; break;
		case O_RUNUNIT: opt.mode = MODE_RUN_UNIT, modes++; break;
		case O_REDUCE: opt.mode = MODE_REDUCE, modes++; break;
		case O_CONFIG: opt.config = optarg; break;
		case O_CONFIGDIR: case O_HISTORY: break;
		case O_CACHE:
			if (!*optarg)
				rc = cp_fail(&e, CP_USAGE, "--cache: the directory name is empty");
			fcache_select(optarg);
			break;
		case O_NOCACHE: fcache_select(NULL); break;
		case O_HELP:
			return cli_help();
		default:
			if (optopt && optopt < 256)
				rc = cp_fail(&e, CP_USAGE, "unknown option '-%c'", optopt);
			else
				rc = cp_fail(&e, CP_USAGE, "unknown option or missing argument '%s'",
				             argv[optind - 1]);
		}
		if (rc < 0) {
			cp_die(&e);
			return cli_hint_usage();
		}
	}
	if (optind < argc) {
		cp_fail(&e, CP_USAGE, "unexpected argument '%s'", argv[optind]);
		cp_die(&e);
		return CP_USAGE;
	}
	if (modes > 1) {
		cp_fail(&e, CP_USAGE, "--plan, --run-unit and --reduce exclude each other");
		return cp_die(&e);
	}
	if (opt.ensemble > 0 && (opt.mode == MODE_PLAN || opt.cost > SR_COST_NONE)) {
		cp_fail(&e, CP_USAGE, "--ensemble does not go with %s (%s)",
		        opt.mode == MODE_PLAN ? "--plan" : "--objectives with a cost",
		        opt.mode == MODE_PLAN ? "the units do not carry the point forecasts it selects "
		        "from" : "it selects by RMSE alone");
		return cp_die(&e);
	}
	if (opt.mode == MODE_PLAN && (opt.method == SR_HALVING || opt.method == SR_TPE)) {
		cp_fail(&e, CP_USAGE, "--plan does not support --method %s "
		                      "(its later trials depend on earlier results)",
		        sr_method_name[opt.method]);
		return cp_die(&e);
	}
	/* The option lists and the model are checked now, as usage errors, not
	 * on the first envelope as bad input (each list replaces its whole
	 * dimension, so it is checked against the 7d default for the others). */
	static const char *const list_opt[SP_NDIM] = {"--context-lengths", "--num-samples",
	                                               "--temperatures", "--top-k", "--top-p"};
	for (int d = 0; d < SP_NDIM; d++) {
		sp_space chk;
		sp_default(&chk, "7d");
		if (opt.list[d] && (sp_from_list(&chk, d, opt.list[d], list_opt[d], &e) < 0 ||
		                    sp_check(&chk, list_opt[d], CP_USAGE, &e) < 0))
			return cp_die(&e);
	}
	if (opt.model) {
		forecaster *f = forecaster_open(opt.model, &e);
		if (!f)
			return cp_die(&e);
		for (int d = SP_SAMPLES; d < SP_NDIM && f->nquantiles > 0; d++)
			if (opt.list[d]) {
				cp_fail(&e, CP_USAGE, "%s: %s is a quantile model: it draws no samples, so "
				        "num_samples, temperature, top_k and top_p do not apply (search "
				        "context_length only)", list_opt[d], f->family);
				f->free(f);
				return cp_die(&e);
			}
		f->free(f);
	}
	int rc;
	stage st = {.section = "search", .line = search_line};
	if (opt.mode == MODE_PLAN)
		st = (stage){.line = plan_line, .ctx = &st};
	if (opt.mode == MODE_RUN || opt.mode == MODE_PLAN) {
		opt.settings = settings_load(opt.config, &e);
		if (!opt.settings)
			return cp_die(&e);
		opt.settings_name = cli_settings_name(opt.config);
	}
	switch (opt.mode) {
	case MODE_RUN_UNIT: rc = mode_run_unit(&e); break;
	case MODE_REDUCE: rc = mode_reduce(&st, &e); break;
	default: rc = stage_loop(&st, &e); break;
	}
	cJSON_Delete(opt.settings);
	return stage_exit(&st, rc, &e);
}
