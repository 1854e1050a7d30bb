/* search.h — find the best inference config on walk-forward backtests.
 *
 * The split (chronopt-envelope(7), opt-search(1)): with n observations and
 * `steps` ahead, the most recent usable origin is n - steps. The `holdout`
 * most recent origins, spaced by `holdout_stride` (the windows opt-validate
 * judges with: settings validate.validation_origins, default 30, stride 1),
 * are never scored here. The search origins end `steps` observations before
 * the first held-out origin, so no value a search window forecasts is a
 * value a validation window forecasts; counting back from there, `windows`
 * origins spaced by `stride` are used (oldest first). With holdout 0 the
 * search ends at n - steps.
 *
 * Work is cut into units: one unit is one forecaster call over a batch of
 * windows with num_samples = the largest num_samples of the configs it
 * scores; configs that differ only in num_samples are scored on prefixes
 * of the same sample paths (the forecaster contract), unless the horizon
 * goes past f->prefix_horizon, where each num_samples gets its own call.
 * Units are self-contained JSON so they can run in other processes or on
 * other machines (plan / run-unit / reduce, search_dist.h); their results
 * carry every score bit-exact, so any split of the work gives the same
 * output. The forecaster's prefix property is what makes the shared calls
 * exact; a forecaster whose float results depend on the batch size keeps
 * it only approximately, and then only --no-reuse scores each config as
 * if alone.
 *
 * Ownership: an sr_search owns everything it points to; release it with
 * sr_release. Functions returning cJSON give the caller ownership.
 */
#ifndef CHRONOPT_SEARCH_H
#define CHRONOPT_SEARCH_H
#include "common.h"
#include "forecast.h"
#include "metrics.h"
#include "series.h"
#include "space.h"
#include "tpe.h"
#include <cJSON.h>

enum { SR_GRID, SR_RANDOM, SR_HALVING, SR_TPE, SR_NMETHOD };
enum { SR_TPE_BUDGET, SR_TPE_EXHAUSTED, SR_TPE_CONVERGED, SR_TPE_TIME };
extern const char *const sr_tpe_stop_name[4];
enum { SR_COST_NONE, SR_COST_SECONDS, SR_COST_TOKENS, SR_NCOST };
/* "rmse", "rmse,seconds", "rmse,cost" */
extern const char *const sr_objectives_name[SR_NCOST];
/* Parse an objectives list; -1 when it is not one of the names above. */
int sr_parse_objectives(const char *s, int *cost);
extern const char *const sr_method_name[SR_NMETHOD];

typedef struct {
	int method;          /* SR_GRID, SR_RANDOM, SR_HALVING, SR_TPE */
	int trials;          /* SR_RANDOM: configs to try; SR_TPE: trials */
	int eta;             /* SR_HALVING: keep 1/eta per rung (>= 2) */
	int min_windows;     /* SR_HALVING: windows of the first rung, at least */
	int windows;         /* W: search origins */
	int stride;          /* spacing of the search origins */
	int holdout;         /* most recent origins left for opt-validate */
	int holdout_stride;  /* their spacing */
	int batch;           /* windows per forecaster call; 0: all of a rung */
	int reuse;           /* 1: share calls and paths; 0: one call per config */
	uint64_t seed;
	sp_space space;
	/* SR_TPE (search_tpe.c): the sampler's options, trials suggested from
	 * the same history (a batch, scored together), and pruning: a trial is
	 * first scored on prune_fraction of the windows (spread over the
	 * span), then stopped when its RMSE there is above the median of the
	 * completed trials' RMSE on the same windows, once prune_min_trials
	 * have completed. prune_fraction 0: no pruning. */
	/* Multi-objective (search_json.c): with a cost objective the candidate
	 * is the cheapest config of the Pareto front (RMSE, cost) whose RMSE is
	 * within pareto_tol_pct % of the lowest. */
	int cost;            /* SR_COST_NONE, SR_COST_SECONDS, SR_COST_TOKENS */
	double pareto_tol_pct;
	tpe_options tpe;
	int have_sampler_seed;  /* 0: the TPE sampler uses seed */
	uint64_t sampler_seed;
	int tpe_batch;
	double prune_fraction;
	int prune_min_trials;
	/* Ensemble selection (search_ensemble.c, opt-search --ensemble N): up
	 * to `ensemble` picks, with replacement, from the configs scored on
	 * every search window and the baselines; 0: off.  The units then keep
	 * every config's point forecasts. */
	int ensemble;
} sr_options;

/* Settings (settings.h) for horizon `horizon` over *o: search.method,
 * search.trials, search.eta, search.min_windows, search.origins (W),
 * search.stride, search.batch, validate.validation_origins (holdout),
 * validate.stride (holdout stride), and the space: the seed default for
 * the horizon (else num_samples [100], temperature [1], no context list)
 * with search.spaces.<horizon> on top. `where` names the file in
 * messages. CP_DATA on bad values: -2 when the bad value is in the
 * horizon's own search.spaces.<horizon> (that horizon cannot run, the
 * others can), -1 for the rest. */
int sr_options_from_settings(sr_options *o, const cJSON *settings, const char *horizon,
                             const char *where, cp_err *e);

/* Defaults: grid, trials 0 (the method's default: random 10, tpe 40), eta 3, min_windows 2, windows 30, stride 1,
 * holdout 30, holdout_stride 1, batch 0, reuse 1, seed 0; space empty;
 * TPE: Optuna's sampler defaults (10 startup trials, 24 candidates), batch
 * 2, prune_fraction 1/3, prune_min_trials 5. */
void sr_options_default(sr_options *o);

typedef struct {
	int grid;            /* index in the space's grid (sp_config) */
	fc_config cfg;       /* as requested */
	int eff_ctx;         /* observations actually fed to the model */
} sr_trial;

enum { SR_UNIT_MODEL, SR_UNIT_RW };

typedef struct {
	int kind;            /* SR_UNIT_MODEL, or SR_UNIT_RW (random walk) */
	int rung;
	fc_config call;      /* effective config of the call */
	int ntr, *tr;        /* trials scored from the call (not for RW) */
	int nwin, *win;      /* window indices, increasing */
} sr_unit;

/* Scores of one unit: score[i*nwin + j] for trial tr[i] (RW: i = 0) and
 * window win[j]. */
typedef struct {
	int ntr, nwin;
	mt_window *score;
	int steps;                /* of point, when point is not NULL */
	double *point;            /* point[(i*nwin + j)*steps + h] when the search
	                           * keeps point forecasts (opt.ensemble > 0) */
	long long calls, sample_steps;             /* what ran */
	long long indep_calls, indep_sample_steps; /* one call per config */
	double seconds;
} sr_result;
void sr_result_release(sr_result *r);

/* What the ensemble selection found (sr_ensemble). */
typedef struct {
	int done;            /* 1: selected; 0: not asked for, or skipped */
	char skipped[256];   /* why not, when asked for and skipped ("" else) */
	int pool, pool_configs;  /* candidates: configs, then the baselines */
	int picks;           /* picks in all (the weights are count / picks) */
	fc_ensemble members; /* the selected, in pool order */
	int *trial;          /* per member: its trial, -1 for a baseline */
	int *count;          /* per member: its picks */
	int best_trial;      /* the best candidate alone: a trial, or -1 */
	char best_model[32]; /* ... or this baseline */
	double best_rmse;    /* its RMSE (en_rmse) */
	double rmse;         /* the ensemble's (en_rmse; == metrics.rmse) */
	mt_summary metrics;  /* the ensemble's windows, aggregated */
	double rw_rmse;      /* the random walk's on the same windows */
} sr_ensemble_result;

typedef struct {
	/* what is searched */
	char horizon[33];
	int steps;
	uint64_t seed;
	sr_options opt;
	char *model_dir;
	char sha256[65];     /* "" when the model is not a directory */
	int max_context, prefix_horizon;
	char family[16];     /* "chronos-bolt", ...; "" for a baseline */
	int threads;         /* OpenBLAS threads of a Chronos model (0: none) */
	char *series_path, *series_id, *series_last;
	int series_len;
	series_missing series_missing;  /* how the series was loaded (series.h) */
	/* windows: origin[w] indexes the first forecast target */
	int W, *origin;
	int32_t *date;       /* date of origin[w] */
	int hold_first, hold_last;  /* held-out origins (-1 when none) */
	int32_t hold_date[2];       /* their dates */
	int ntrial;
	sr_trial *trial;
	int nsug, *sug;      /* SR_TPE: trial number i scored config sug[i] */
	int tpe_stop;        /* SR_TPE: why it stopped (sr_tpe_stop_name) */
	int nrung, keep[SP_MAX_RUNGS], rung_win[SP_MAX_RUNGS];
	int *order;          /* window order for halving rungs */
	int nwarn;
	char **warn;
	/* state */
	mt_window *score;    /* ntrial * W */
	unsigned char *have;
	int *rung_of;        /* highest rung each trial reached (-1: none) */
	mt_window *rw;       /* W random-walk scores */
	unsigned char *rw_have;
	long long calls, sample_steps, indep_calls, indep_sample_steps;
	int units_run, units_total;
	int partial;
	double unit_seconds;
	/* with opt.ensemble > 0: each trial's point forecast on each window,
	 * point[(t*W + w)*steps + h], point_have[t*W + w] */
	double *point;
	unsigned char *point_have;
	sr_ensemble_result ens;
} sr_search;

/*
 * Set up a search for one envelope line: windows, trials, effective
 * contexts (warnings in S->warn), the model identity (sha256 of
 * <model_dir>/model.safetensors when model_dir is a directory). f is the
 * opened model (only max_context and prefix_horizon are read). Errors:
 * CP_DATA (not enough observations, bad space), CP_IO (unreadable weights).
 */
int sr_prepare(sr_search *S, const char *horizon, int steps, const sr_options *o,
               const series *s, const forecaster *f, const char *model_dir, cp_err *e);
void sr_release(sr_search *S);

/* The units of rung r (0 for grid and random): the configs still in the
 * race on the rung's windows they have not been scored on, plus random-walk
 * units for windows not scored yet. *units owned by the caller
 * (sr_units_free). */
int sr_units(const sr_search *S, int rung, sr_unit **units, int *n);
void sr_units_free(sr_unit *u, int n);

/* Run one unit: f is the model, rw a random-walk baseline. Fills *r. */
int sr_run_unit(const sr_search *S, const sr_unit *u, const series *s, forecaster *f,
                forecaster *rw, sr_result *r, cp_err *e);

/* Record a unit's result in S (scores and costs). */
void sr_absorb(sr_search *S, const sr_unit *u, const sr_result *r);

/* After rung r of a halving search: the best keep[r+1] configs (by RMSE on
 * the rung's windows; ties by trial number) go on to rung r+1. */
void sr_select(sr_search *S, int rung);

/* Progress callback: units done of total, seconds elapsed. */
typedef void (*sr_progress_fn)(void *ctx, int done, int total, double elapsed);

/*
 * Run the whole search in this process (jobs == 1) or in `jobs` forked
 * workers; results are identical. max_seconds < 0: no limit; otherwise no
 * unit starts after the deadline, except the first one of each worker, and
 * S->partial is set when units were left out. f and rw as in sr_run_unit.
 * Then the ensemble selection (sr_ensemble) when opt.ensemble > 0.
 */
int sr_execute(sr_search *S, const series *s, forecaster *f, forecaster *rw, int jobs,
               double max_seconds, sr_progress_fn progress, void *pctx, cp_err *e);

/* After sr_execute: the greedy ensemble selection of up to opt.ensemble
 * picks (ensemble.h) over the configs scored on every window, in trial
 * order, and the baselines random_walk and drift (run here on the search
 * windows with the longest effective context and the most num_samples of
 * those configs), scored by the RMSE of the weighted mean point forecast.
 * Fills S->ens; skipped (S->ens.skipped says why) for a quantile model or
 * when no config has every window. Returns 0, or -1 when a baseline fails. */
int sr_ensemble(sr_search *S, const series *s, cp_err *e);

/* The "search" section: status, seconds, method, seed, model, space,
 * split, windows, trials, random_walk, best, reuse, warnings, summary,
 * reasons, candidate. run_id and now (UTC) go into the candidate. */
cJSON *sr_section(const sr_search *S, const char *run_id, const char *now, double seconds);

/* Self-contained plan / unit / result JSON for plan / run-unit / reduce. */
cJSON *sr_plan_json(const sr_search *S);
int sr_plan_from_json(sr_search *S, const cJSON *plan, cp_err *e);
cJSON *sr_unit_json(const sr_unit *u);
int sr_unit_from_json(const sr_search *S, const cJSON *j, sr_unit *u, cp_err *e);
cJSON *sr_result_json(const sr_result *r);
int sr_result_from_json(const cJSON *j, const sr_unit *u, sr_result *r, cp_err *e);

#endif
