/* forecast.h — the forecaster interface every model implements. */
#ifndef CHRONOPT_FORECAST_H
#define CHRONOPT_FORECAST_H
#include "common.h"

/* Inference settings being tuned. */
typedef struct {
	int context_length; /* observations fed to the model */
	int num_samples;    /* sample paths per window */
	double temperature; /* > 0 */
	int top_k;          /* 0: off */
	double top_p;       /* 1.0: off */
} fc_config;

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
	void (*free)(forecaster *f);
};

/* Baselines. `name` is "random_walk" (paths bootstrap past log-returns of
 * the context, point = last value), "drift" (random walk with drift, point =
 * last + h * mean step), "seasonal_naive" (period `period`, paths bootstrap
 * seasonal log-differences). Returns a forecaster the caller frees with
 * f->free(f), or NULL with e filled for an unknown name. */
forecaster *baseline_new(const char *name, int period, cp_err *e);

#endif
