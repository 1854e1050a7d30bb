/* fcband.h — the forecast at the horizon of each backtest window, with its
 * 80 % and 95 % bands, for the dashboard's forecasts-against-actuals panel
 * (chronopt-envelope(7): validation.candidate.forecasts). */
#ifndef CHRONOPT_FCBAND_H
#define CHRONOPT_FCBAND_H
#include "backtest.h"
#include <cJSON.h>

/* The last step's forecast of one window: the median (the model's point
 * forecast when it gives one, else the sample median) and the 80 % and
 * 95 % central bands (sample quantiles 0.10/0.90 and 0.025/0.975, numpy's
 * linear rule; for a quantile model its own levels, NaN when it has no such
 * level).  actual is the observed value at that step. */
typedef struct {
	double actual, median, lo80, hi80, lo95, hi95;
} fc_band;

/* Collects one fc_band per window, oldest first, through bt_run_cb. */
typedef struct {
	const series *s;
	const double *levels; /* a quantile model's levels, NULL for samples */
	int steps;
	int n, cap;
	int *origin;          /* origin index of each band (first target) */
	fc_band *band;
} fc_bands;

/* Empty collector for series s; levels as f->levels (NULL when
 * f->nquantiles is 0).  s and levels are borrowed. */
void fc_bands_init(fc_bands *b, const series *s, const double *levels);
void fc_bands_release(fc_bands *b);

/* The bt_window_fn that fills arg (an fc_bands). */
int fc_bands_collect(void *arg, int origin, const double *actual, const double *point,
                     const double *paths, int nsamples, int steps, cp_err *e);

/* The last `last` bands (all when last <= 0) as a JSON array, oldest first:
 * [{"origin_date": date of the last context observation, "target_date":
 * date of the forecast step, "actual", "median", "lo80", "hi80", "lo95",
 * "hi95"}], numbers that are not finite as null.  Caller owns it. */
cJSON *fc_bands_json(const fc_bands *b, int last);

#endif
