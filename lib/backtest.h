/* backtest.h — walk-forward backtesting over the forecaster interface. */
#ifndef CHRONOPT_BACKTEST_H
#define CHRONOPT_BACKTEST_H
#include "forecast.h"
#include "metrics.h"
#include "series.h"
#include <cJSON.h>

/* Origins: origin t forecasts y[t..t+steps-1] from y[0..t-1]. Origins sit
 * on the grid t = 0 mod stride (anchored at the first observation, so the
 * grid does not move when observations are appended); the most recent
 * usable origin is the last grid point <= n - steps; counting back from
 * it, the first `holdout` origins are skipped and the next `count` are
 * used. Returned oldest first. */
typedef struct {
	int count;    /* W, number of origins */
	int stride;   /* spacing in observations, >= 1 */
	int holdout;  /* most recent origins left out (kept for validation) */
} bt_plan;

/* Compute the plan's count origin indices into *origins (caller frees),
 * so origins[count-1] = L - stride*holdout, L = the grid point
 * (n - steps) - (n - steps) mod stride, and origins[0] =
 * origins[count-1] - stride*(count-1) when every target is observed. An
 * origin whose targets y[t..t+steps-1] hold a missing value (NaN) is not
 * scored: it is passed over and the grid continues further back (the
 * holdout counts usable origins too). The earliest origin must leave
 * `min_context` (>= 1) observations before it, else CP_DATA "<path>: not
 * enough observations: need N, have M" with N = min_context + steps +
 * stride*(holdout+count-1) (+ stride for each origin passed over, and
 * " (K origins passed over: a target value is missing)"). count < 1,
 * stride < 1, holdout < 0, steps < 1 or min_context < 1: CP_USAGE.
 * Returns 0, or -1 with *origins NULL. */
int bt_origins(const series *s, int steps, int min_context, const bt_plan *plan,
               int **origins, cp_err *e);
/* bt_origins counting back from origin `last` instead of n - steps;
 * *skipped receives the number of grid points passed over. */
int bt_origins_from(const series *s, int steps, int min_context, int last, const bt_plan *plan,
                    int **origins, int *skipped, cp_err *e);
/* 1 when y[t..t+steps-1] are all observed (none is NaN), else 0. */
int bt_target_observed(const series *s, int t, int steps);

typedef struct {
	int nwin;
	int steps;
	mt_window *win;     /* nwin per-window scores, oldest first (owned) */
	mt_summary sum;     /* aggregate */
} bt_result;

/* Run forecaster f with cfg over the origins, windows in batches of at
 * most `batch` windows per forecaster call (0: all in one call). Window t's
 * context is y[t-L..t-1] with L = cfg->context_length, or the whole
 * history when that is <= 0 or longer than the history, capped at
 * f->max_context when that is > 0. seed is passed to the forecaster with
 * stream = origin index. A window's inference seconds are its call's time
 * divided by the number of windows in the call. The point forecast is the
 * model's own when it gives one, else the per-step sample median. A
 * quantile model (f->nquantiles > 0) is scored with mt_score_quantiles and
 * cfg's sampling settings are not used.
 * Fills *r (free with bt_result_free); on error *r is left empty, -1 is
 * returned and e filled (CP_USAGE for cfg->num_samples < 1 or steps < 1
 * or when a batch's sample paths would not fit in size_t bytes,
 * CP_INTERNAL for an origin out of range, else the forecaster's error). */
int bt_run(forecaster *f, const fc_config *cfg, const series *s,
           const int *origins, int norig, int steps, uint64_t seed, int batch,
           bt_result *r, cp_err *e);

/* Called by bt_run_cb once per window, oldest first, after scoring:
 * actual[steps], point[steps] (NULL when the model gave none and the median
 * was used), paths[nsamples*steps] sample-major; for a quantile model
 * (f->nquantiles > 0) paths holds its quantiles instead, level-major
 * (level j at j*steps + h, levels f->levels) and nsamples is nquantiles.
 * The pointers are valid only during the call. Return 0, or -1 with e filled to stop the run. */
typedef int (*bt_window_fn)(void *arg, int origin, const double *actual,
                            const double *point, const double *paths,
                            int nsamples, int steps, cp_err *e);
/* bt_run with a per-window callback (fn may be NULL). */
int bt_run_cb(forecaster *f, const fc_config *cfg, const series *s,
              const int *origins, int norig, int steps, uint64_t seed, int batch,
              bt_window_fn fn, void *arg, bt_result *r, cp_err *e);
void bt_result_free(bt_result *r);

/* MASE scale for origin t: mean |y[i]-y[i-1]| over 1 <= i < t where both
 * values are observed (not NaN); 1.0 when there is no such i. May be 0 for
 * a constant history (MASE is then NaN). */
double bt_mase_scale(const series *s, int t);

/* JSON views (caller owns the result). mt_summary_json: {"rmse":..,"mae":..,
 * "mape":..,"smape":..,"mase":..,"bias":..,"err_std":..,"cov80":..,
 * "width80":..,"cov95":..,"width95":..,"pinball":..,"crps":..,"sse":..,
 * "seconds":..}, NaN/inf written as null. bt_result_json: those fields plus
 * "nwin" and "steps"; with windows, adds "windows":[{"origin": index of the
 * first target, "origin_date": date of the last context observation y[t-1],
 * "target_end_date": date of y[t+steps-1], then the metric fields}].
 * Timings only under keys named "seconds". */
cJSON *mt_summary_json(const mt_summary *m);
cJSON *bt_result_json(const bt_result *r, const series *s, int with_windows);

#endif
