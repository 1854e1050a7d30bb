/* metrics.c — see metrics.h for every definition used here. */
#include "metrics.h"
#include "common.h"

#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double mt_quantile_sorted(const double *x, int n, double q)
{
	/* numpy "linear": virtual index (n-1)*q, gamma its fractional part,
	 * then numpy's _lerp, which interpolates from the upper end when
	 * gamma >= 0.5 (so the result is exact at both ends). */
	double v = (double)(n - 1) * q;
	if (v <= 0)
		return x[0];
	if (v >= (double)(n - 1))
		return x[n - 1];
	int lo = (int)floor(v);
	double g = v - (double)lo;
	double a = x[lo], b = x[lo + 1], d = b - a;
	return g >= 0.5 ? b - d * (1.0 - g) : a + d * g;
}

/* 0.5 * mean over all N^2 pairs of |x_i - x_j|, from sorted x:
 * sum_{i,j} |x_i - x_j| = 2 * sum_k x_(k) * (2k - N + 1), k from 0.
 * The weights sum to 0, so x is centred on its median first (same value,
 * less cancellation for large levels). */
static double half_pair_mean(const double *x, int n)
{
	double acc = 0, c = x[n / 2];
	for (int k = 0; k < n; k++)
		acc += (x[k] - c) * (double)(2 * k - n + 1);
	return acc / ((double)n * (double)n);
}

void mt_score(const double *actual, const double *point, const double *paths,
              int nsamples, int steps, double mase_scale, mt_window *w)
{
	double *col = nsamples > 0 ? cp_malloc((size_t)nsamples * sizeof(double)) : NULL;
	double *err = cp_malloc((size_t)steps * sizeof(double));
	double sse = 0, sae = 0, se = 0, sape = 0, ssape = 0;
	double in80 = 0, in95 = 0, w80 = 0, w95 = 0, pin = 0, crps = 0;
	int nape = 0;

	for (int h = 0; h < steps; h++) {
		double y = actual[h], f;
		if (nsamples > 0) {
			for (int s = 0; s < nsamples; s++)
				col[s] = paths[(size_t)s * (size_t)steps + (size_t)h];
			qsort(col, (size_t)nsamples, sizeof(double), cmp_double);
		}
		f = point ? point[h] : mt_quantile_sorted(col, nsamples, 0.5);
		double e = f - y;
		err[h] = e;
		sse += e * e;
		sae += fabs(e);
		se += e;
		if (y != 0) {
			sape += fabs(e) / fabs(y);
			nape++;
		}
		if (fabs(f) + fabs(y) > 0)
			ssape += 2.0 * fabs(e) / (fabs(f) + fabs(y));
		if (nsamples == 0)
			continue;

		double l80 = mt_quantile_sorted(col, nsamples, 0.10);
		double u80 = mt_quantile_sorted(col, nsamples, 0.90);
		double l95 = mt_quantile_sorted(col, nsamples, 0.025);
		double u95 = mt_quantile_sorted(col, nsamples, 0.975);
		in80 += l80 <= y && y <= u80;
		in95 += l95 <= y && y <= u95;
		w80 += u80 - l80;
		w95 += u95 - l95;
		for (int k = 1; k <= 9; k++) {
			double q = (double)k / 10.0;
			double d = y - mt_quantile_sorted(col, nsamples, q);
			pin += d * (q - (d < 0 ? 1.0 : 0.0));
		}
		double abs_y = 0;
		for (int s = 0; s < nsamples; s++)
			abs_y += fabs(col[s] - y);
		crps += abs_y / nsamples - half_pair_mean(col, nsamples);
	}

	double n = steps;
	double mean_e = se / n, var = 0;
	for (int h = 0; h < steps; h++)
		var += (err[h] - mean_e) * (err[h] - mean_e);
	w->rmse = sqrt(sse / n);
	w->mae = sae / n;
	w->mape = nape ? 100.0 * sape / nape : NAN;
	w->smape = 100.0 * ssape / n;
	w->mase = mase_scale > 0 && isfinite(mase_scale) ? w->mae / mase_scale : NAN;
	w->bias = mean_e;
	w->err_std = sqrt(var / n);
	w->sse = sse;
	if (nsamples > 0) {
		w->cov80 = in80 / n;
		w->cov95 = in95 / n;
		w->width80 = w80 / n;
		w->width95 = w95 / n;
		w->pinball = pin / (9.0 * n);
		w->crps = crps / n;
	} else {
		w->cov80 = w->cov95 = w->width80 = w->width95 = NAN;
		w->pinball = w->crps = NAN;
	}
	free(col);
	free(err);
}

void mt_aggregate(const mt_window *w, int nwin, int steps, mt_summary *out)
{
	mt_summary m = {0};
	m.origin = -1;
	double sse = 0, mape = 0, seconds = 0;
	int nmape = 0;
	for (int i = 0; i < nwin; i++) {
		sse += w[i].sse;
		seconds += w[i].seconds;
		m.mae += w[i].mae;
		m.smape += w[i].smape;
		m.mase += w[i].mase;
		m.bias += w[i].bias;
		m.cov80 += w[i].cov80;
		m.width80 += w[i].width80;
		m.cov95 += w[i].cov95;
		m.width95 += w[i].width95;
		m.pinball += w[i].pinball;
		m.crps += w[i].crps;
		if (!isnan(w[i].mape)) {
			mape += w[i].mape;
			nmape++;
		}
	}
	if (nwin == 0) {
		mt_summary z = {.origin = -1, .rmse = NAN, .mae = NAN, .mape = NAN,
			.smape = NAN, .mase = NAN, .bias = NAN, .err_std = NAN,
			.cov80 = NAN, .width80 = NAN, .cov95 = NAN, .width95 = NAN,
			.pinball = NAN, .crps = NAN};
		*out = z;
		return;
	}
	double k = nwin;
	m.mae /= k;
	m.smape /= k;
	m.mase /= k;
	m.bias /= k;
	m.cov80 /= k;
	m.width80 /= k;
	m.cov95 /= k;
	m.width95 /= k;
	m.pinball /= k;
	m.crps /= k;
	m.mape = nmape ? mape / nmape : NAN;
	m.rmse = sqrt(sse / (k * steps));
	/* Pooled population variance: each window contributes its own
	 * variance plus the squared distance of its mean from the overall
	 * mean (all windows have the same number of steps). */
	double var = 0;
	for (int i = 0; i < nwin; i++) {
		double d = w[i].bias - m.bias;
		var += w[i].err_std * w[i].err_std + d * d;
	}
	m.err_std = sqrt(var / k);
	m.sse = sse;
	m.seconds = seconds;
	*out = m;
}

/* Index of level q among lv[0..nq-1] (within 1e-9), or -1. */
static int level_index(const double *lv, int nq, double q)
{
	for (int j = 0; j < nq; j++)
		if (fabs(lv[j] - q) <= 1e-9)
			return j;
	return -1;
}

/* The value at level q of one step's quantiles v[j] = quant[j*steps]:
 * exact level, else linear between the neighbouring levels, flat beyond. */
static double value_at(const double *lv, int nq, const double *v, int stride, double q)
{
	int j = level_index(lv, nq, q);
	if (j >= 0)
		return v[(size_t)j * stride];
	if (q <= lv[0])
		return v[0];
	if (q >= lv[nq - 1])
		return v[(size_t)(nq - 1) * stride];
	int k = 1;
	while (lv[k] < q)
		k++;
	double a = v[(size_t)(k - 1) * stride], b = v[(size_t)k * stride];
	return a + (b - a) * (q - lv[k - 1]) / (lv[k] - lv[k - 1]);
}

void mt_score_quantiles(const double *actual, const double *point, const double *lv, int nq,
                        const double *quant, int steps, double mase_scale, mt_window *w)
{
	/* the point metrics, exactly as for a model with its own point */
	mt_score(actual, point, NULL, 0, steps, mase_scale, w);
	int l80 = level_index(lv, nq, 0.10), u80 = level_index(lv, nq, 0.90);
	int l95 = level_index(lv, nq, 0.025), u95 = level_index(lv, nq, 0.975);
	double in80 = 0, in95 = 0, w80 = 0, w95 = 0, pin = 0, wql = 0;
	for (int h = 0; h < steps; h++) {
		double y = actual[h];
		const double *v = quant + h;
		if (l80 >= 0 && u80 >= 0) {
			double lo = v[(size_t)l80 * steps], hi = v[(size_t)u80 * steps];
			in80 += lo <= y && y <= hi;
			w80 += hi - lo;
		}
		if (l95 >= 0 && u95 >= 0) {
			double lo = v[(size_t)l95 * steps], hi = v[(size_t)u95 * steps];
			in95 += lo <= y && y <= hi;
			w95 += hi - lo;
		}
		for (int k = 1; k <= 9; k++) {
			double q = (double)k / 10.0;
			double d = y - value_at(lv, nq, v, steps, q);
			pin += d * (q - (d < 0 ? 1.0 : 0.0));
		}
		for (int j = 0; j < nq; j++) {
			double d = y - v[(size_t)j * steps];
			wql += d * (lv[j] - (d < 0 ? 1.0 : 0.0));
		}
	}
	double n = steps;
	w->cov80 = l80 >= 0 && u80 >= 0 ? in80 / n : NAN;
	w->width80 = l80 >= 0 && u80 >= 0 ? w80 / n : NAN;
	w->cov95 = l95 >= 0 && u95 >= 0 ? in95 / n : NAN;
	w->width95 = l95 >= 0 && u95 >= 0 ? w95 / n : NAN;
	w->pinball = pin / (9.0 * n);
	w->crps = 2.0 * wql / ((double)nq * n);
}
