/* test_metrics.c — metrics against hand-computed cases and naive oracles
 * (quantiles by the textbook rank formula, CRPS by the O(N^2) pair mean).
 * Tolerances: 1e-12 relative (summation order differs from the oracles). */
#include "metrics.h"
#include "prng.h"
#include "tap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TOL 1e-12

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Oracle quantile: position (n-1)q, plain a + frac*(b-a). */
static double naive_quantile(const double *v, int n, double q)
{
	double *x = malloc((size_t)n * sizeof(double));
	memcpy(x, v, (size_t)n * sizeof(double));
	qsort(x, (size_t)n, sizeof(double), cmp);
	double pos = (n - 1) * q;
	int lo = (int)pos, hi = lo + 1 < n ? lo + 1 : n - 1;
	double r = x[lo] + (pos - lo) * (x[hi] - x[lo]);
	free(x);
	return r;
}

static double naive_crps(const double *x, int n, double y)
{
	double a = 0, b = 0;
	for (int i = 0; i < n; i++) {
		a += fabs(x[i] - y);
		for (int j = 0; j < n; j++)
			b += fabs(x[i] - x[j]);
	}
	return a / n - 0.5 * b / ((double)n * n);
}

static void test_quantile(void)
{
	double x[] = {1, 2, 3, 4};
	CHECK_NEAR(mt_quantile_sorted(x, 4, 0.5), 2.5, 0, "quantile: median of 1..4 is 2.5");
	CHECK_NEAR(mt_quantile_sorted(x, 4, 0.1), 1.3, TOL, "quantile: q0.1 of 1..4 is 1.3 (numpy)");
	CHECK_NEAR(mt_quantile_sorted(x, 4, 0.9), 3.7, TOL, "quantile: q0.9 of 1..4 is 3.7 (numpy)");
	CHECK(mt_quantile_sorted(x, 4, 0) == 1 && mt_quantile_sorted(x, 4, 1) == 4,
	      "quantile: q0 and q1 are the extremes");
	double one[] = {7.5};
	CHECK(mt_quantile_sorted(one, 1, 0.3) == 7.5, "quantile: a single sample is every quantile");
	double ten[10];
	for (int i = 0; i < 10; i++)
		ten[i] = i;
	CHECK_NEAR(mt_quantile_sorted(ten, 10, 0.025), 0.225, TOL, "quantile: q0.025 of 0..9");
	CHECK_NEAR(mt_quantile_sorted(ten, 10, 0.975), 8.775, TOL, "quantile: q0.975 of 0..9");
	double eq[] = {2, 2, 2};
	CHECK(mt_quantile_sorted(eq, 3, 0.37) == 2, "quantile: ties give the tied value exactly");
}

static void test_point_metrics(void)
{
	double actual[] = {10, 20}, point[] = {12, 17};
	double paths[] = {10, 20}; /* one sample */
	mt_window w;
	mt_score(actual, point, paths, 1, 2, 2.0, &w);
	CHECK_NEAR(w.rmse, sqrt(6.5), TOL, "point: rmse = sqrt((4+9)/2)");
	CHECK_NEAR(w.mae, 2.5, TOL, "point: mae");
	CHECK_NEAR(w.mape, 17.5, TOL, "point: mape in percent");
	CHECK_NEAR(w.smape, 100 * (4.0 / 22 + 6.0 / 37) / 2, TOL, "point: smape in percent");
	CHECK_NEAR(w.bias, -0.5, TOL, "point: bias = mean(forecast - actual)");
	CHECK_NEAR(w.err_std, 2.5, TOL, "point: err_std is the population std");
	CHECK_NEAR(w.mase, 1.25, TOL, "point: mase = mae / scale");
	CHECK_NEAR(w.sse, 13, TOL, "point: sse");

	double a0[] = {0, 10}, p0[] = {1, 12};
	mt_score(a0, p0, a0, 1, 2, 1.0, &w);
	CHECK_NEAR(w.mape, 20, TOL, "mape skips an actual of 0");
	double z[] = {0, 0}, pz[] = {0, 1};
	mt_score(z, pz, z, 1, 2, 1.0, &w);
	CHECK(isnan(w.mape), "mape is NaN when every actual is 0");
	CHECK_NEAR(w.smape, 100.0, TOL, "smape: f = y = 0 counts 0, (0,1) counts 2");
	mt_score(actual, point, paths, 1, 2, 0.0, &w);
	CHECK(isnan(w.mase), "mase is NaN for a zero scale");
	mt_score(actual, point, NULL, 0, 2, 1.0, &w);
	CHECK(isnan(w.crps) && isnan(w.cov80) && isnan(w.pinball) && w.mae == 2.5,
	      "no samples: sample metrics NaN, point metrics kept");
}

static void test_sample_metrics_by_hand(void)
{
	/* Samples 1..5 (shuffled) at one step, actual 3, no point: median 3. */
	double paths[] = {4, 1, 5, 3, 2}, actual[] = {3};
	mt_window w;
	mt_score(actual, NULL, paths, 5, 1, 1.0, &w);
	CHECK(w.bias == 0, "median point: error 0");
	CHECK_NEAR(w.crps, 1.2 - 0.8, TOL, "crps of 1..5 at 3: 1.2 - 0.5*40/25");
	CHECK_NEAR(w.width80, 3.2, TOL, "width80 = 4.6 - 1.4");
	CHECK_NEAR(w.width95, 3.8, TOL, "width95 = 4.9 - 1.1");
	CHECK(w.cov80 == 1 && w.cov95 == 1, "coverage 1 inside");
	CHECK_NEAR(w.pinball, 1.6 / 9, TOL, "pinball averaged over 9 quantiles");
	double out[] = {4.7};
	mt_score(out, NULL, paths, 5, 1, 1.0, &w);
	CHECK(w.cov80 == 0 && w.cov95 == 1, "4.7: outside CI80, inside CI95");
	double edge[] = {4.6};
	mt_score(edge, NULL, paths, 5, 1, 1.0, &w);
	CHECK(w.cov80 == 1, "coverage includes the interval's end");
}

static void test_sample_metrics_random(void)
{
	enum { NS = 37, H = 4 };
	prng g;
	prng_init(&g, 7, 1, 2);
	double paths[NS * H], actual[H], col[NS];
	for (int i = 0; i < NS * H; i++)
		paths[i] = 100 + 10 * prng_normal(&g);
	for (int h = 0; h < H; h++)
		actual[h] = 100 + 12 * prng_normal(&g);
	mt_window w;
	mt_score(actual, NULL, paths, NS, H, 3.0, &w);
	double crps = 0, pin = 0, c80 = 0, w95 = 0, sae = 0;
	for (int h = 0; h < H; h++) {
		for (int s = 0; s < NS; s++)
			col[s] = paths[s * H + h];
		crps += naive_crps(col, NS, actual[h]);
		double med = naive_quantile(col, NS, 0.5);
		sae += fabs(med - actual[h]);
		for (int k = 1; k <= 9; k++) {
			double q = k / 10.0, d = actual[h] - naive_quantile(col, NS, q);
			pin += d >= 0 ? q * d : (q - 1) * d;
		}
		double lo = naive_quantile(col, NS, 0.1), hi = naive_quantile(col, NS, 0.9);
		c80 += lo <= actual[h] && actual[h] <= hi;
		w95 += naive_quantile(col, NS, 0.975) - naive_quantile(col, NS, 0.025);
	}
	CHECK_NEAR(w.crps, crps / H, TOL, "crps (sorted form) = O(N^2) pair form");
	CHECK_NEAR(w.pinball, pin / (9 * H), TOL, "pinball = naive oracle");
	CHECK_NEAR(w.cov80, c80 / H, TOL, "cov80 = naive oracle");
	CHECK_NEAR(w.width95, w95 / H, TOL, "width95 = naive oracle");
	CHECK_NEAR(w.mae, sae / H, TOL, "median point forecast = naive median");
	CHECK_NEAR(w.mase, sae / H / 3.0, TOL, "mase");
}

static void test_aggregate(void)
{
	enum { H = 3 };
	double act[2][H] = {{10, 11, 12}, {0, 5, 6}};
	double pt[2][H] = {{11, 10, 15}, {1, 5, 4}};
	double paths[2][2 * H] = {{9, 10, 11, 12, 13, 14}, {1, 2, 3, 4, 5, 6}};
	mt_window w[2];
	for (int i = 0; i < 2; i++) {
		mt_score(act[i], pt[i], paths[i], 2, H, 1.5 + i, &w[i]);
		w[i].seconds = 0.25 * (i + 1);
	}
	mt_summary m;
	mt_aggregate(w, 2, H, &m);
	double se = 0, sse = 0, ae = 0;
	for (int i = 0; i < 2; i++)
		for (int h = 0; h < H; h++) {
			double e = pt[i][h] - act[i][h];
			se += e;
			sse += e * e;
			ae += fabs(e);
		}
	double mean = se / 6, var = 0;
	for (int i = 0; i < 2; i++)
		for (int h = 0; h < H; h++) {
			double e = pt[i][h] - act[i][h] - mean;
			var += e * e;
		}
	CHECK(m.origin == -1, "aggregate: origin -1");
	CHECK_NEAR(m.rmse, sqrt(sse / 6), TOL, "aggregate: rmse over all errors");
	CHECK_NEAR(m.mae, ae / 6, TOL, "aggregate: mae over all errors");
	CHECK_NEAR(m.bias, mean, TOL, "aggregate: bias over all errors");
	CHECK_NEAR(m.err_std, sqrt(var / 6), TOL, "aggregate: pooled err_std = population std");
	CHECK_NEAR(m.sse, sse, TOL, "aggregate: sse summed");
	CHECK_NEAR(m.seconds, 0.75, TOL, "aggregate: seconds summed");
	CHECK_NEAR(m.mase, (w[0].mase + w[1].mase) / 2, TOL, "aggregate: mean of window mase");
	CHECK_NEAR(m.mape, (w[0].mape + w[1].mape) / 2, TOL, "aggregate: mape of windows");
	CHECK_NEAR(m.crps, (w[0].crps + w[1].crps) / 2, TOL, "aggregate: crps mean");
	w[1].mape = NAN;
	mt_aggregate(w, 2, H, &m);
	CHECK_NEAR(m.mape, w[0].mape, TOL, "aggregate: NaN window mape skipped");
	mt_aggregate(w, 0, H, &m);
	CHECK(isnan(m.rmse) && m.seconds == 0, "aggregate of nothing: NaN");
}

/* Quantile scoring against hand arithmetic: 2 steps, levels that miss
 * 0.2, 0.3, 0.4, 0.6, 0.7, 0.8 (interpolated) and have no 95 % pair. */
static void test_quantiles(void)
{
	static const double lv[7] = {0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95};
	/* q[j*2 + h] */
	static const double q[14] = {1, 2,  2, 3,  4, 4,  5, 6,  6, 8,  8, 9,  9, 12};
	static const double y[2] = {7.5, 2.5}, point[2] = {5, 6};
	mt_window w;
	mt_score_quantiles(y, point, lv, 7, q, 2, 1.0, &w);
	CHECK_NEAR(w.mae, (2.5 + 3.5) / 2, 1e-15, "quantile model: point errors from its point");
	/* step 0: 7.5 in [q0.1, q0.9] = [2, 8]; step 1: 2.5 not in [3, 9] */
	CHECK_NEAR(w.cov80, 0.5, 1e-15, "80 % interval [q0.1, q0.9], ends inclusive");
	CHECK(isnan(w.cov95) && isnan(w.width95), "no 0.025/0.975 levels: no 95 % interval");
	CHECK_NEAR(w.width80, ((8 - 2) + (9 - 3)) / 2.0, 1e-15, "80 % width");
	/* pinball over 0.1..0.9, linear between the model's levels */
	double pin = 0;
	for (int h = 0; h < 2; h++)
		for (int k = 1; k <= 9; k++) {
			double a = k / 10.0, v;
			int j = 0;
			while (j < 6 && lv[j + 1] < a - 1e-12)
				j++;
			if (fabs(lv[j + 1] - a) < 1e-12)
				v = q[(j + 1) * 2 + h];
			else if (fabs(lv[j] - a) < 1e-12)
				v = q[j * 2 + h];
			else
				v = q[j * 2 + h] + (q[(j + 1) * 2 + h] - q[j * 2 + h]) * (a - lv[j]) / (lv[j + 1] - lv[j]);
			double d = y[h] - v;
			pin += d >= 0 ? a * d : (a - 1) * d;
		}
	CHECK_NEAR(w.pinball, pin / 18, 1e-12, "pinball at 0.1..0.9 interpolated between levels");
	double wql = 0;
	for (int j = 0; j < 7; j++)
		for (int h = 0; h < 2; h++) {
			double d = y[h] - q[j * 2 + h];
			wql += d >= 0 ? lv[j] * d : (lv[j] - 1) * d;
		}
	CHECK_NEAR(w.crps, 2 * wql / 14, 1e-12, "CRPS = twice the mean pinball over the model's levels");
	/* with 0.025 and 0.975 among the levels the 95 % interval exists */
	static const double lv2[3] = {0.025, 0.5, 0.975};
	static const double q2[3] = {1, 5, 9};
	double y2 = 9;
	mt_score_quantiles(&y2, &q2[1], lv2, 3, q2, 1, 1.0, &w);
	CHECK(w.cov95 == 1 && w.width95 == 8 && isnan(w.cov80), "95 % interval from 0.025/0.975, ends inclusive");
}

int main(void)
{
	test_quantiles();
	test_quantile();
	test_point_metrics();
	test_sample_metrics_by_hand();
	test_sample_metrics_random();
	test_aggregate();
	return tap_done();
}
