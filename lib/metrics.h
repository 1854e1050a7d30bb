/* metrics.h — forecast accuracy of one window and over many windows.
 * Conventions: error e = forecast - actual (positive bias = over-forecast);
 * point forecast = the model's own point or the per-step sample median;
 * quantiles of the sample paths by linear interpolation (numpy's default);
 * CI80 = [q0.10, q0.90], CI95 = [q0.025, q0.975]; pinball loss averaged over
 * q = 0.1..0.9; CRPS from samples = mean|X-y| - 0.5 mean|X-X'|;
 * MASE scale = mean |y[t]-y[t-1]| over the whole history before the origin. */
#ifndef CHRONOPT_METRICS_H
#define CHRONOPT_METRICS_H

typedef struct {
	int origin;        /* index of the first forecast target in the series */
	double rmse, mae, mape, smape, mase, bias, err_std;
	double cov80, width80, cov95, width95, pinball, crps;
	double seconds;    /* inference time attributed to this window */
	double sse;        /* sum of squared errors over the steps (for DM tests) */
} mt_window;

typedef mt_window mt_summary; /* same fields, aggregated; origin = -1 */

/* Score one window: actual[steps], point[steps] (NULL: use sample median),
 * paths[nsamples*steps] sample-major, mase_scale > 0. Fills *w (origin and
 * seconds left for the caller). */
void mt_score(const double *actual, const double *point, const double *paths,
              int nsamples, int steps, double mase_scale, mt_window *w);

/* Aggregate windows: RMSE = sqrt(mean of all squared errors); MAE, MAPE,
 * sMAPE, bias, coverage, widths, pinball, CRPS = means over all (window,
 * step) pairs = means of the window means; MASE = mean of window MASEs;
 * err_std = population std of all errors; seconds = sum. */
void mt_aggregate(const mt_window *w, int nwin, int steps, mt_summary *out);

/* Linear-interpolation quantile of sorted x[n]. */
double mt_quantile_sorted(const double *x, int n, double q);

#endif
