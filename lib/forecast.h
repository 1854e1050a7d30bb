/* forecast.h — the forecaster interface every model implements. */
#ifndef CHRONOPT_FORECAST_H
#define CHRONOPT_FORECAST_H
#include "common.h"
#include <cJSON.h>

/* Inference settings being tuned. */
typedef struct {
	int context_length; /* observations fed to the model */
	int num_samples;    /* sample paths per window */
	double temperature; /* > 0 */
	int top_k;          /* 0: off */
	double top_p;       /* 1.0: off */
} fc_config;

/* ------------------------------------------------------------------
 * The one home of the forecaster settings (fc_config.c): their key list,
 * their domain, their JSON form.  Every tool, the deployed config
 * (depconfig.c), the search space (space.c) and the checkpoint's own
 * defaults (chronos_config.c) check and write them through these.
 *
 * Domain:  context_length  integer in [1, 100000]
 *          num_samples     integer in [1, 100000]
 *          temperature     number in (0, 100]
 *          top_k           integer in [0, 100000]    (0: off)
 *          top_p           number in (0, 1]          (1: off)
 */
enum { FC_CTX, FC_SAMPLES, FC_TEMP, FC_TOPK, FC_TOPP, FC_NKEYS };

/* "context_length", "num_samples", "temperature", "top_k", "top_p": the
 * keys in the envelope's order, indexed by FC_*. */
extern const char *const fc_key[FC_NKEYS];

/* Their command-line options: "--context-length", "--num-samples",
 * "--temperature", "--top-k", "--top-p". */
extern const char *const fc_option[FC_NKEYS];

/* Whether setting `key` holds integers. */
int fc_key_is_int(int key);

/* NULL when x is in the domain of setting `key`, else the problem as
 * "is not a finite number", "is not an integer" or "is not in (0, 100]". */
const char *fc_value_problem(int key, double x);

/* Setting `key` of c as a double, and set it from one (already checked). */
double fc_config_get(const fc_config *c, int key);
void fc_config_set(fc_config *c, int key, double v);

/* Every setting of c in its domain: 0, or -1 with `code` and
 * "<what>: '<key>' value <v> <problem>". */
int fc_config_check(const fc_config *c, const char *what, int code, cp_err *e);

/* Read the settings of the JSON object o (a deployed config, a candidate):
 * context_length and num_samples required, temperature 1, top_k 0 and
 * top_p 1 when absent, each in its domain; other keys are ignored.  Exact
 * items written by fc_config_add_json read back bit for bit.  CP_DATA
 * "<what>: '<key>' ..." (jsonutil.h's messages) on a bad or missing one. */
int fc_config_from_json(const cJSON *o, const char *what, fc_config *c, cp_err *e);

/* Read one setting of o into c if present (same domain and messages). */
int fc_config_field(const cJSON *o, int key, int flags, fc_config *c, const char *what, cp_err *e);

/* A command-line value for setting `key` (option `opt`, e.g.
 * "--temperature"): CP_USAGE "<opt>: '<arg>' is not ..." when it does not
 * parse or is outside the domain. */
int fc_config_parse_option(int key, const char *arg, const char *opt, fc_config *c, cp_err *e);

/* The values a quantile model (Chronos-Bolt, Chronos-2) runs with: it draws
 * no samples, so num_samples 1, temperature 1, top_k 0, top_p 1. */
extern const fc_config fc_config_quantile_off;

/* -1 and *key set to the first sampling setting (num_samples, temperature,
 * top_k, top_p) of c that is not its quantile-off value; 0 when all are. */
int fc_config_sampling_key(const fc_config *c, int *key);

/* A config read from `what` (a deployed config file) for a quantile model
 * of `family`: 0 when its sampling settings are the off values, else
 * CP_DATA "<what>: '<key>' is <v>, but <family> is a quantile model: ...". */
int fc_config_quantile_check(const fc_config *c, const char *family, const char *what, cp_err *e);

/* Add c's five settings to the object o in the envelope's order (fc_key),
 * each number exact (cp_json_exact: strtod reads back the same double; a
 * non-finite temperature or top_p as null).  o keeps ownership. */
void fc_config_add_json(cJSON *o, const fc_config *c);
/* A new object holding just those five keys; the caller owns it
 * (cJSON_Delete, or hand it to a parent object). */
cJSON *fc_config_json(const fc_config *c);

/* ------------------------------------------------------------------
 * An ensemble (opt-search --ensemble, chronopt-envelope(7)): members, each
 * a model (a baseline name or a model directory) with its own settings and
 * a weight.  Its JSON form, kept next to the settings' (fc_config.c):
 *   "ensemble": [{"weight": 0.5, "model": {"dir": "random_walk",
 *                 "sha256": null}, "config": {<the five settings>}}, ...]
 * 1 to FC_ENSEMBLE_MAX members, each weight in (0, 1], the weights summing
 * to 1 within 1e-9, no member an ensemble itself.  The point forecast is
 * sum_i weight_i * point_i (member order); intervals come from the
 * mixture of the members' sample paths (ensemble.h). */
#define FC_ENSEMBLE_MAX 64

typedef struct {
	double weight;
	char *model;        /* spec: baseline name or model directory (owned) */
	char sha256[65];    /* "" when not known or a baseline */
	fc_config cfg;
} fc_member;

typedef struct {
	int n;
	fc_member *m;       /* owned */
} fc_ensemble;

/* Read the "ensemble" array a (the value of an "ensemble" key) into *en:
 * CP_DATA "<what>: ensemble member <i>: <problem>" (i from 1) for an empty
 * list, a weight that is not a number in (0, 1], weights not summing to 1,
 * a member without "model"."dir" or "config", a nested ensemble, or a
 * setting outside its domain.  The member models are not opened here.
 * *en owned by the caller (fc_ensemble_release) on success only. */
int fc_ensemble_from_json(const cJSON *a, const char *what, fc_ensemble *en, cp_err *e);
/* Add "ensemble": [...] to o, every number exact. */
void fc_ensemble_add_json(cJSON *o, const fc_ensemble *en);
/* The settings an ensemble is called with: the longest member context,
 * the most member num_samples (the rows of its mixture), temperature 1,
 * top_k 0, top_p 1. */
void fc_ensemble_call(const fc_ensemble *en, fc_config *out);
void fc_ensemble_release(fc_ensemble *en);

typedef struct forecaster forecaster;
struct forecaster {
	const char *name;   /* "random_walk", "drift", "seasonal_naive", "chronos" */
	void *state;
	/*
	 * Forecast nwin windows at once. Window w's context is ctx[w][0..nctx[w]-1]
	 * (oldest first; the caller already cut it to cfg->context_length).
	 * Sample path s of window w must be drawn from the PRNG stream
	 * (seed, stream[w], s) only, so that the first k paths of a run with
	 * num_samples = N equal a run with num_samples = k.
	 * Writes paths[(w*num_samples + s)*steps + h]. If point is non-NULL and
	 * the model has its own point forecast it writes point[w*steps + h] and
	 * returns 1; returns 0 when the caller should use the sample median;
	 * -1 on error (e filled).
	 */
	int (*forecast)(forecaster *f, const fc_config *cfg, int nwin,
	                const double *const *ctx, const int *nctx, int steps,
	                uint64_t seed, const uint64_t *stream,
	                double *paths, double *point, cp_err *e);
	/* Largest context the model was trained on (0: no limit). */
	int max_context;
	/* Steps up to which the prefix property above holds (0: all steps).
	 * Chronos continues past its prediction_length from the median of all
	 * samples, so there the first k paths depend on num_samples. */
	int prefix_horizon;
	/* 1 when the first k steps of a forecast of any length equal a k-step
	 * forecast with the same settings (num_samples included): the model
	 * draws step after step from the window's stream and never looks at
	 * how many steps are asked for (Chronos-T5, the baselines). 0 when the
	 * number of steps changes the earlier ones (Chronos-2 attends over its
	 * output patches; Chronos-Bolt is left out to be safe). The forecast
	 * cache (fcache.h) serves shorter horizons from longer decodes only
	 * when this is 1. */
	int steps_prefix;
	/*
	 * Quantile models (Chronos-Bolt, Chronos-2) forecast quantiles, not
	 * sample paths: nquantiles > 0 and levels[0..nquantiles-1] (owned by
	 * the forecaster) strictly increasing in (0, 1), 0.5 among them.
	 * forecast() then uses only cfg->context_length (num_samples,
	 * temperature, top_k, top_p, seed and stream are ignored), writes the
	 * level-j quantile of window w at step h to
	 * paths[(w*nquantiles + j)*steps + h] (the caller sizes paths with
	 * fc_rows), the point forecast (the 0.5 quantile, the public
	 * pipelines' "mean") to point[w*steps + h] and returns 1.
	 * Sample models: nquantiles 0, levels NULL.
	 */
	int nquantiles;
	const double *levels;
	/* "chronos-t5", "chronos-bolt", "chronos-2" for a model directory,
	 * NULL for a baseline. */
	const char *family;
	void (*free)(forecaster *f);
};

/* Rows forecast() writes per window: f->nquantiles for a quantile model,
 * else cfg->num_samples. */
int fc_rows(const forecaster *f, const fc_config *cfg);

/* Baselines. `name` is
 *   "random_walk"    point = last value; path s draws, for each step, one
 *                    uniformly random past log-return r_i = log(y_i/y_{i-1})
 *                    of the context with prng_below on stream (seed,
 *                    stream[w], s) and compounds: path_h = last *
 *                    exp(r*_1 + ... + r*_h);
 *   "drift"          point = last + h * (last - first) / (n - 1); paths
 *                    bootstrap the de-meaned log-returns and add the mean
 *                    back: path_h = last * exp(h*rbar + sum (r*_j - rbar)),
 *                    i.e. the random walk's paths up to rounding (their
 *                    median follows the geometric drift, the point the
 *                    arithmetic one);
 *   "seasonal_naive" period P = `period` (>= 1): point = y[n-P + ((h-1) mod
 *                    P)] (h from 1); paths bootstrap the seasonal
 *                    log-differences d_i = log(y_i/y_{i-P}):
 *                    path_h = base_h * exp(d*), base_h = y[n-P+h-1] for
 *                    h <= P, else the path's own value at h-P.
 * A NaN in the context is a missing value: the log-returns (differences)
 * are those whose two ends are observed; "last" is the last observed value
 * and the g missing values after it are stepped over (random walk and
 * drift paths draw g more returns first; drift's point is last + (h + g) *
 * (last - first observed) / their distance); a seasonal base that is
 * missing falls back to the same phase a period earlier, then to "last".
 * With no missing value these are the definitions above, draw for draw.
 * All need positive observed context values (else CP_DATA naming the
 * position), at least 2 (seasonal: P+1) observations and one observed
 * pair (else CP_DATA). They return 1
 * (own point forecast), max_context 0 and prefix_horizon 0 (the prefix
 * property holds at every step). `period` is ignored except for
 * seasonal_naive. Returns a forecaster the caller frees with f->free(f),
 * or NULL with e filled: CP_USAGE for an unknown name or a period < 1. */
forecaster *baseline_new(const char *name, int period, cp_err *e);

/* The one place where model names map to constructors. spec is a baseline
 * name ("random_walk", "drift", "seasonal_naive" with period 5, or
 * "seasonal_naive:P") or a model directory, whose config.json says the
 * family (cc_family_of): Chronos-T5, Chronos-Bolt (chronos.h) or Chronos-2
 * (chronos2.h). A model directory's forecaster reads and writes the
 * forecast cache named by $CHRONOPT_CACHE when that is set and not empty
 * (fcache.h; results are the same bytes either way). Returns a forecaster
 * the caller frees with f->free(f), or NULL with e filled (CP_USAGE for an
 * unknown name or a bad $CHRONOPT_CACHE_MAX_MB, CP_DATA or CP_IO for a
 * directory that does not load or a cache directory that cannot be made). */
forecaster *forecaster_open(const char *spec, cp_err *e);

/* Whether forecaster_open could open spec, without loading it: a baseline
 * name, "seasonal_naive:P" with P in 1..100000, or an existing directory
 * (with sample_only, one whose config.json says Chronos-T5: CP_DATA "'<dir>'
 * is a chronos-bolt model: ..." for a quantile model).  0, or -1 with
 * CP_USAGE "unknown model '<spec>' ..." (CP_IO for a path that is not a
 * directory, the config reader's errors for its config.json). */
int forecaster_spec_check(const char *spec, int sample_only, cp_err *e);

#endif
