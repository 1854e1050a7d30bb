/* metrics.h — forecast accuracy of one window and over many windows.
 * Conventions: error e = forecast - actual (positive bias = over-forecast);
 * point forecast = the model's own point or the per-step sample median;
 * quantiles of the sample paths by linear interpolation (numpy's default,
 * method "linear", including its two-sided lerp);
 * CI80 = [q0.10, q0.90], CI95 = [q0.025, q0.975], both ends inclusive;
 * width = mean of (upper - lower) over the steps;
 * pinball loss = mean over q = 0.1, 0.2, ..., 0.9 and the steps of
 *   (y - q_hat) * (q - [y < q_hat]);
 * CRPS from samples = mean|X-y| - 0.5 mean|X-X'| with the plain (not the
 *   "fair") estimator: the pair mean divides by N^2 and includes i == j;
 *   computed in O(N log N) per step by sorting;
 * MAPE = 100 * mean |e| / |y| (percent), steps with y == 0 are skipped
 *   (NaN when every actual is 0);
 * sMAPE = 100 * mean 2|e| / (|f| + |y|) (percent), a step with f == y == 0
 *   counts as 0;
 * MASE = MAE / scale, scale = mean |y[t]-y[t-1]| over the whole history
 *   before the origin (bt_mase_scale); NaN when the scale is not > 0.
 * NaN values are written as JSON null. */
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
 * paths[nsamples*steps] sample-major (path s, step h at s*steps + h).
 * With nsamples == 0 (paths may be NULL) point must be given and the
 * sample-based fields (coverage, width, pinball, CRPS) are NaN.
 * err_std is the population std of the window's errors.
 * Fills *w (origin and seconds left for the caller). */
void mt_score(const double *actual, const double *point, const double *paths,
              int nsamples, int steps, double mase_scale, mt_window *w);

/* Score one window of a quantile model (Chronos-Bolt, Chronos-2):
 * quant[j*steps + h] is the level-lv[j] quantile at step h (nq levels,
 * strictly increasing in (0, 1)); point[steps] is the model's point
 * forecast.  Point metrics as mt_score.  From the quantiles:
 *   CI80 = [q0.10, q0.90] and CI95 = [q0.025, q0.975], each only when
 *     both its levels are among lv (within 1e-9), else its coverage and
 *     width are NaN (a level is never extrapolated into an interval);
 *   pinball = the same mean over q = 0.1, ..., 0.9 as mt_score, q_hat the
 *     model's value at that level, linearly interpolated between the
 *     neighbouring model levels when it has no such level (the end values
 *     beyond its range);
 *   crps = the weighted quantile loss over the model's own levels:
 *     2 * mean over j and the steps of (y - q_j) * (lv[j] - [y < q_j]),
 *     the quantile-grid approximation of the CRPS. */
void mt_score_quantiles(const double *actual, const double *point, const double *lv, int nq,
                        const double *quant, int steps, double mase_scale, mt_window *w);

/* Aggregate windows: RMSE = sqrt(mean of all squared errors); MAE, sMAPE,
 * bias, coverage, widths, pinball, CRPS = means over all (window, step)
 * pairs = means of the window means; MAPE = mean of the windows' MAPEs that
 * are not NaN (equal to the pair mean when no actual is 0); MASE = mean of
 * window MASEs; err_std = population std of all errors (pooled from the
 * window means and stds); sse and seconds = sums. nwin == 0: all NaN,
 * sse and seconds 0. */
void mt_aggregate(const mt_window *w, int nwin, int steps, mt_summary *out);

/* Linear-interpolation quantile of sorted x[n] (n >= 1, 0 <= q <= 1), the
 * same arithmetic as numpy.quantile(x, q). */
double mt_quantile_sorted(const double *x, int n, double q);

#endif
