/* backtest.h — walk-forward backtesting over the forecaster interface. */
#ifndef CHRONOPT_BACKTEST_H
#define CHRONOPT_BACKTEST_H
#include "forecast.h"
#include "metrics.h"
#include "series.h"
#include <cJSON.h>

/* Origins: origin t forecasts y[t..t+steps-1] from y[0..t-1]. The most
 * recent usable origin is n - steps; counting back from it, the first
 * `holdout` origins (spaced by `stride`) are skipped and the next `count`
 * are used. Returned oldest first. */
typedef struct {
	int count;    /* W, number of origins */
	int stride;   /* spacing in observations, >= 1 */
	int holdout;  /* most recent origins left out (kept for validation) */
} bt_plan;

/* Compute the origin indices into *origins (caller frees). The earliest
 * origin must leave `min_context` observations before it, else CP_DATA
 * "<path>: not enough observations: need N, have M". */
int bt_origins(const series *s, int steps, int min_context, const bt_plan *plan,
               int **origins, cp_err *e);

typedef struct {
	int nwin;
	int steps;
	mt_window *win;     /* nwin per-window scores, oldest first (owned) */
	mt_summary sum;     /* aggregate */
} bt_result;

/* Run forecaster f with cfg over the origins, windows in one batch of at
 * most `batch` windows per call (0: all). seed is passed to the forecaster
 * with stream = origin index. Fills *r (free with bt_result_free). */
int bt_run(forecaster *f, const fc_config *cfg, const series *s,
           const int *origins, int norig, int steps, uint64_t seed, int batch,
           bt_result *r, cp_err *e);
void bt_result_free(bt_result *r);

/* MASE scale for origin t: mean |y[i]-y[i-1]|, 1 <= i < t (1.0 if 0). */
double bt_mase_scale(const series *s, int t);

/* JSON views: a summary object {"rmse":..,...}; with windows, adds
 * "windows":[{"origin":..,"date":..,...}]. Timings under "seconds". */
cJSON *mt_summary_json(const mt_summary *m);
cJSON *bt_result_json(const bt_result *r, const series *s, int with_windows);

#endif
