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

/* Add c's five settings to the object o in the envelope's order:
 * "context_length", "num_samples", "temperature", "top_k", "top_p" (a
 * non-finite temperature or top_p as null).  o keeps ownership. */
void fc_config_add_json(cJSON *o, const fc_config *c);
/* A new object holding just those five keys; the caller owns it
 * (cJSON_Delete, or hand it to a parent object). */
cJSON *fc_config_json(const fc_config *c);

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

#endif
