/* pending.c — TEMPORARY stand-ins so the search branch links and runs before
 * the real pieces land on main: mt_* and bt_mase_scale (branch backtest), baseline_new and
 * forecaster_open (branch backtest).  Each part is deleted as soon as the
 * real file arrives with `git merge main`; nothing here is meant to stay.
 * Every definition is weak: if this file is still here when the real ones
 * land, they win at link time without a clash.
 * Behaviour follows the contracts in series.h, metrics.h, backtest.h and
 * forecast.h closely enough for the search tool and its tests. */
#include "backtest.h"
#include "common.h"
#include "forecast.h"
#include "metrics.h"
#include "prng.h"
#include "series.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Weak, so a real definition elsewhere in the library always wins and the
 * two never clash, whichever lands first. */
#define PENDING __attribute__((weak))

/* --------------------------------------------------------------- metrics */

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

PENDING double mt_quantile_sorted(const double *x, int n, double q)
{
	double v = (double)(n - 1) * q;
	if (v <= 0)
		return x[0];
	if (v >= (double)(n - 1))
		return x[n - 1];
	int lo = (int)floor(v);
	double g = v - lo;
	return x[lo] + (x[lo + 1] - x[lo]) * g;
}

PENDING void mt_score(const double *actual, const double *point, const double *paths,
              int nsamples, int steps, double mase_scale, mt_window *w)
{
	double *col = cp_malloc((size_t)(nsamples > 0 ? nsamples : 1) * sizeof(double));
	double sse = 0, sae = 0, se = 0, sape = 0, ssape = 0, se2 = 0;
	double c80 = 0, w80 = 0, c95 = 0, w95 = 0, pin = 0, crps = 0;
	for (int h = 0; h < steps; h++) {
		for (int s = 0; s < nsamples; s++)
			col[s] = paths[(size_t)s * steps + h];
		qsort(col, (size_t)nsamples, sizeof(double), cmp_d);
		double y = actual[h];
		double f = point ? point[h] : mt_quantile_sorted(col, nsamples, 0.5);
		double er = f - y;
		sse += er * er;
		sae += fabs(er);
		se += er;
		se2 += er * er;
		sape += y != 0 ? 100 * fabs(er) / fabs(y) : 0;
		ssape += fabs(f) + fabs(y) > 0 ? 200 * fabs(er) / (fabs(f) + fabs(y)) : 0;
		double l80 = mt_quantile_sorted(col, nsamples, 0.1), u80 = mt_quantile_sorted(col, nsamples, 0.9);
		double l95 = mt_quantile_sorted(col, nsamples, 0.025), u95 = mt_quantile_sorted(col, nsamples, 0.975);
		c80 += y >= l80 && y <= u80;
		c95 += y >= l95 && y <= u95;
		w80 += u80 - l80;
		w95 += u95 - l95;
		for (int qi = 1; qi <= 9; qi++) {
			double q = qi / 10.0, qh = mt_quantile_sorted(col, nsamples, q);
			pin += (y - qh) * (q - (y < qh));
		}
		double a = 0, b = 0;
		for (int k = 0; k < nsamples; k++) {
			a += fabs(col[k] - y);
			b += col[k] * (2.0 * k - nsamples + 1);
		}
		crps += a / nsamples - b / ((double)nsamples * nsamples);
	}
	free(col);
	double n = steps;
	w->rmse = sqrt(sse / n);
	w->mae = sae / n;
	w->mape = sape / n;
	w->smape = ssape / n;
	w->mase = w->mae / mase_scale;
	w->bias = se / n;
	w->err_std = sqrt(fmax(0, se2 / n - (se / n) * (se / n)));
	w->cov80 = c80 / n;
	w->width80 = w80 / n;
	w->cov95 = c95 / n;
	w->width95 = w95 / n;
	w->pinball = pin / (9 * n);
	w->crps = crps / n;
	w->sse = sse;
}

PENDING void mt_aggregate(const mt_window *w, int nwin, int steps, mt_summary *out)
{
	memset(out, 0, sizeof(*out));
	out->origin = -1;
	double sse = 0, m2 = 0;
	for (int i = 0; i < nwin; i++) {
		sse += w[i].sse;
		out->mae += w[i].mae / nwin;
		out->mape += w[i].mape / nwin;
		out->smape += w[i].smape / nwin;
		out->mase += w[i].mase / nwin;
		out->bias += w[i].bias / nwin;
		out->cov80 += w[i].cov80 / nwin;
		out->width80 += w[i].width80 / nwin;
		out->cov95 += w[i].cov95 / nwin;
		out->width95 += w[i].width95 / nwin;
		out->pinball += w[i].pinball / nwin;
		out->crps += w[i].crps / nwin;
		out->seconds += w[i].seconds;
		m2 += w[i].err_std * w[i].err_std + w[i].bias * w[i].bias;
	}
	out->sse = sse;
	out->rmse = nwin ? sqrt(sse / ((double)nwin * steps)) : NAN;
	out->err_std = nwin ? sqrt(fmax(0, m2 / nwin - out->bias * out->bias)) : NAN;
}

PENDING double bt_mase_scale(const series *s, int t)
{
	double a = 0;
	for (int i = 1; i < t; i++)
		a += fabs(s->y[i] - s->y[i - 1]);
	return t > 1 && a > 0 ? a / (t - 1) : 1.0;
}

PENDING cJSON *mt_summary_json(const mt_summary *m)
{
	cJSON *j = cJSON_CreateObject();
#define F(k) if (isfinite(m->k)) cJSON_AddNumberToObject(j, #k, m->k); else cJSON_AddNullToObject(j, #k)
	F(rmse); F(mae); F(mape); F(smape); F(mase); F(bias); F(err_std);
	F(cov80); F(width80); F(cov95); F(width95); F(pinball); F(crps); F(seconds);
#undef F
	return j;
}

/* ------------------------------------------------------------- baselines */

typedef struct {
	int kind; /* 0 rw, 1 drift, 2 seasonal */
	int period;
} bl_state;

static int bl_forecast(forecaster *f, const fc_config *cfg, int nwin,
                       const double *const *ctx, const int *nctx, int steps,
                       uint64_t seed, const uint64_t *stream,
                       double *paths, double *point, cp_err *e)
{
	bl_state *st = f->state;
	int P = st->kind == 2 ? st->period : 1;
	for (int w = 0; w < nwin; w++) {
		const double *x = ctx[w];
		int n = nctx[w];
		if (n < P + 1)
			return cp_fail(e, CP_DATA, "%s: context of %d observations is too short", f->name, n);
		for (int i = 0; i < n; i++)
			if (!(x[i] > 0))
				return cp_fail(e, CP_DATA, "%s: context value %d is not positive", f->name, i + 1);
		int nr = n - P;
		double *r = cp_malloc((size_t)nr * sizeof(double));
		double rbar = 0;
		for (int i = 0; i < nr; i++) {
			r[i] = log(x[i + P] / x[i]);
			rbar += r[i] / nr;
		}
		double last = x[n - 1];
		for (int h = 0; h < steps; h++) {
			double p = last;
			if (st->kind == 1)
				p = last + (h + 1) * (last - x[0]) / (n - 1);
			else if (st->kind == 2)
				p = x[n - P + (h % P)];
			if (point)
				point[(size_t)w * steps + h] = p;
		}
		for (int s = 0; s < cfg->num_samples; s++) {
			prng g;
			prng_init(&g, seed, stream[w], (uint64_t)s);
			double *out = paths + ((size_t)w * cfg->num_samples + s) * steps;
			double acc = 0;
			for (int h = 0; h < steps; h++) {
				double d = r[prng_below(&g, (uint64_t)nr)];
				if (st->kind == 2) {
					double base = h < P ? x[n - P + h] : out[h - P];
					out[h] = base * exp(d);
				} else {
					acc += d;
					out[h] = last * exp(acc);
				}
			}
		}
		free(r);
	}
	return point ? 1 : 0;
}

static void bl_free(forecaster *f)
{
	if (!f)
		return;
	free(f->state);
	free(f);
}

PENDING forecaster *baseline_new(const char *name, int period, cp_err *e)
{
	int kind;
	if (strcmp(name, "random_walk") == 0)
		kind = 0;
	else if (strcmp(name, "drift") == 0)
		kind = 1;
	else if (strcmp(name, "seasonal_naive") == 0)
		kind = 2;
	else
		return cp_fail(e, CP_USAGE, "unknown model '%s'", name), NULL;
	if (kind == 2 && period < 1)
		return cp_fail(e, CP_USAGE, "seasonal period must be >= 1"), NULL;
	forecaster *f = cp_calloc(1, sizeof(*f));
	bl_state *st = cp_calloc(1, sizeof(*st));
	st->kind = kind;
	st->period = period;
	f->name = kind == 0 ? "random_walk" : kind == 1 ? "drift" : "seasonal_naive";
	f->state = st;
	f->forecast = bl_forecast;
	f->free = bl_free;
	return f;
}

PENDING forecaster *forecaster_open(const char *spec, cp_err *e)
{
	struct stat st;
	if (stat(spec, &st) == 0 && S_ISDIR(st.st_mode))
		return cp_fail(e, CP_USAGE, "chronos support not built yet"), NULL;
	if (strncmp(spec, "seasonal_naive:", 15) == 0) {
		long p;
		if (cp_parse_long(spec + 15, 1, 100000, &p) < 0)
			return cp_fail(e, CP_USAGE, "unknown model '%s'", spec), NULL;
		return baseline_new("seasonal_naive", (int)p, e);
	}
	return baseline_new(spec, 5, e);
}
