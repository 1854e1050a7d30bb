/* ensemble.h — weighted ensembles of forecasters: the greedy selection
 * that builds them (Caruana et al., "Ensemble selection from libraries of
 * models", ICML 2004) and the forecaster that runs one.
 *
 * The combination, everywhere (selection, opt-backtest, opt-validate,
 * opt-forecast): the point forecast is sum_i weight_i * point_i, summed in
 * member order starting from 0, where point_i is member i's own point
 * forecast (the per-step median of its num_samples sample paths, or the
 * model's own point: a baseline's), computed exactly as when the member
 * runs alone.  Intervals come from the mixture of the members' sample
 * paths: of the ensemble's N rows (N = its num_samples, by default the
 * members' largest), member i contributes round(weight_i * N) by largest
 * remainder (ties to the earlier member), its paths 0, 1, ... (cycling
 * when it drew fewer).  Quantile models (Chronos-Bolt, Chronos-2) are not
 * members: they draw no sample paths to mix.
 */
#ifndef CHRONOPT_ENSEMBLE_H
#define CHRONOPT_ENSEMBLE_H
#include "common.h"
#include "forecast.h"

#include <stddef.h>

/* out[x] = sum over i of weight[i] * point[i][x] for x < n, members in
 * order, members of weight 0 skipped (so one member of weight 1 gives its
 * own values bit for bit). */
void en_combine(const double *const *point, const double *weight, int m, size_t n, double *out);

/* The RMSE of en_combine's forecast against actual[w*steps + h] over nwin
 * windows, computed as metrics.c aggregates mt_score's windows: per window
 * the sum of squared errors over the steps in order, summed over the
 * windows in order, sqrt(sum / (nwin * steps)).  NaN when a value is. */
double en_rmse(const double *const *point, const double *weight, int m, const double *actual,
               int nwin, int steps);

/* Greedy ensemble selection with replacement over m candidates, point[i]
 * the forecasts of candidate i (point[i][w*steps + h]): start from the
 * candidate with the lowest RMSE alone (ties: the lower index), then add,
 * up to `size` picks in all, the candidate whose addition gives the lowest
 * RMSE of the equally weighted picks (ties: the lower index), while that
 * is strictly lower than before.  count[i] receives the picks of candidate
 * i; the weights are count[i] / total.  Returns the total (1..size), *rmse
 * the RMSE of the result as en_rmse computes it, never above the best
 * candidate's own.  m >= 1, size >= 1. */
int en_select(const double *const *point, int m, const double *actual, int nwin, int steps,
              int size, int *count, double *rmse);

/* The members' weights as the selection states them: count[i] / total. */
void en_weights(const int *count, int m, double *weight);

/* A forecaster over the members of *en (copied): opens each member with
 * forecaster_open.  CP_DATA "<what>: ensemble member <i>: ..." when a
 * member does not open or is a quantile model.  The caller frees it with
 * f->free(f). */
forecaster *ensemble_open(const fc_ensemble *en, const char *what, cp_err *e);

/* The ensemble's forecast as forecast() gives it (cfg->num_samples rows of
 * mixture paths, the combined point, returns 1) and, when member_point is
 * not NULL, member i's own point forecast in member_point[i][w*steps + h]. */
int ensemble_forecast(forecaster *f, const fc_config *cfg, int nwin, const double *const *ctx,
                      const int *nctx, int steps, uint64_t seed, const uint64_t *stream,
                      double *paths, double *point, double *const *member_point, cp_err *e);

/* The members of an ensemble forecaster (borrowed), NULL for any other. */
const fc_ensemble *ensemble_members(const forecaster *f);

/* opt-forecast's view of one window: f an ensemble forecaster (ensemble_
 * open), y[0..n-1] the history (the forecast origin is n, the stream),
 * call the settings it runs with.  *out (caller owns) is
 * {"format":"chronopt-forecast-1","model":"ensemble","seed","stream",
 * "settings","steps","context_used","members":[{"weight","model","config",
 * "context_used","point"}],"point","samples","quantiles","median"}: each
 * member's own point forecast, the weighted point, the mixture's rows and
 * its quantiles at 0.025, 0.1, 0.5, 0.9, 0.975.  CP_DATA when a value is
 * not finite, else the forecaster's errors. */
int ensemble_forecast_json(forecaster *f, const fc_config *call, const double *y, int n, int steps,
                           uint64_t seed, cJSON **out, cp_err *e);

/* One line for people: "0.6 x drift (context 120) + 0.4 x <dir> (context
 * 60, samples 20, temperature 0.8)" from an "ensemble" list as written
 * (fc_ensemble_add_json), members in order; baselines show only their
 * context.  Into buf (n bytes, truncated with "..."); "" for a list that
 * is not one. */
void en_members_text(const cJSON *list, char *buf, size_t n);

/* A model spec naming the ensemble: "ensemble:" followed by its JSON (the
 * form fc_ensemble_add_json writes); forecaster_open opens it.  Caller
 * frees. */
char *ensemble_spec(const fc_ensemble *en);

/* Open a spec made by ensemble_spec (forecaster_open calls this). */
forecaster *ensemble_open_spec(const char *spec, cp_err *e);

#endif
