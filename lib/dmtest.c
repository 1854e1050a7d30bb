/* dmtest.c — see dmtest.h. */
#include "dmtest.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

/* ---------------------------------------------------------------------
 * Regularized incomplete beta function
 * ------------------------------------------------------------------- */

#define LENTZ_TINY 1e-300

/* One term of the modified Lentz method: fold the partial numerator num
 * into the running *c and *d and return the factor for the fraction. */
static double lentz_step(double num, double *c, double *d)
{
	*d = 1.0 + num * *d;
	if (fabs(*d) < LENTZ_TINY)
		*d = LENTZ_TINY;
	*c = 1.0 + num / *c;
	if (fabs(*c) < LENTZ_TINY)
		*c = LENTZ_TINY;
	*d = 1.0 / *d;
	return *d * *c;
}

/* Continued fraction for I_x(a,b) (the even/odd terms of the classic
 * expansion), evaluated with the modified Lentz method. Converges quickly
 * for x < (a+1)/(a+b+2). */
static double beta_cf(double a, double b, double x)
{
	const double eps = 1e-16;
	double c = 1.0;
	double d = 1.0 - (a + b) * x / (a + 1.0);
	if (fabs(d) < LENTZ_TINY)
		d = LENTZ_TINY;
	d = 1.0 / d;
	double f = d;
	for (int m = 1; m <= 10000; m++) {
		double m2 = 2.0 * m;
		/* even step: d_{2m} */
		f *= lentz_step(m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)), &c, &d);
		/* odd step: d_{2m+1} */
		double delta = lentz_step(-(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0)), &c, &d);
		f *= delta;
		if (fabs(delta - 1.0) < eps)
			break;
	}
	return f;
}

double dm_betainc(double a, double b, double x)
{
	if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1) || !isfinite(a) || !isfinite(b))
		return NAN;
	if (x == 0)
		return 0.0;
	if (x == 1)
		return 1.0;
	/* front factor x^a (1-x)^b / (a B(a,b)), in logs */
	double lfront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
	if (x < (a + 1.0) / (a + b + 2.0))
		return exp(lfront) * beta_cf(a, b, x) / a;
	return 1.0 - exp(lfront) * beta_cf(b, a, 1.0 - x) / b;
}

double dm_t_cdf(double t, double df)
{
	if (isnan(t) || !(df > 0))
		return NAN;
	if (isinf(t))
		return t > 0 ? 1.0 : 0.0;
	/* P(|T| > |t|) = I_{df/(df+t^2)}(df/2, 1/2); computed so that the
	 * small tail keeps its relative precision. */
	double x = df / (df + t * t);
	double tail = 0.5 * dm_betainc(0.5 * df, 0.5, x);
	return t < 0 ? tail : 1.0 - tail;
}

/* ---------------------------------------------------------------------
 * The test
 * ------------------------------------------------------------------- */

int dm_lags(int n, int steps, int lags)
{
	if (lags > 0)
		return lags;
	int half = n / 2;
	return steps - 1 < half ? steps - 1 : half;
}

static int dm_core(const double *loss_a, const double *loss_b, int n, int steps, int lags, int bartlett,
                   dm_result *r, cp_err *e)
{
	if (steps < 1)
		return cp_fail(e, CP_DATA, "dm test: horizon must be at least 1 step");
	if (n < 3)
		return cp_fail(e, CP_DATA, "dm test: need at least 3 windows, have %d", n);
	int given = lags > 0;
	lags = dm_lags(n, steps, lags);
	if (lags >= n - 1)
		return cp_fail(e, CP_DATA, "dm test: %d windows are too few for %d lags (need at least %d)",
		               n, lags, lags + 2);
	/* the full overlap gets the rectangular kernel of Diebold and Mariano;
	 * a bandwidth cut below it gets Bartlett weights */
	int rectangular = lags >= steps - 1 && !bartlett;
	double T = n, h = lags + 1;
	double hln = (T + 1.0 - 2.0 * h + h * (h - 1.0) / T) / T;
	if (!(hln > 0))
		return cp_fail(e, CP_DATA, "dm test: %d windows are too few for %d lags", n, lags);

	double *d = cp_malloc((size_t)n * sizeof(*d));
	double sum = 0;
	int allzero = 1;
	for (int t = 0; t < n; t++) {
		if (!isfinite(loss_a[t]) || !isfinite(loss_b[t])) {
			free(d);
			return cp_fail(e, CP_DATA, "dm test: loss of window %d is not finite", t + 1);
		}
		d[t] = loss_a[t] - loss_b[t];
		allzero &= d[t] == 0;
		sum += d[t];
	}
	double mean = sum / T;
	/* autocovariances, centred */
	double *g = cp_malloc((size_t)(lags + 1) * sizeof(*g));
	for (int k = 0; k <= lags; k++) {
		double s = 0;
		for (int t = k; t < n; t++)
			s += (d[t] - mean) * (d[t - k] - mean);
		g[k] = s / T;
	}
	free(d);
	double v = g[0];
	r->kernel = "rectangular";
	if (rectangular)
		for (int k = 1; k <= lags; k++)
			v += 2.0 * g[k];
	if (!rectangular || (!(v > 0) && lags > 0)) {
		v = g[0];
		for (int k = 1; k <= lags; k++)
			v += 2.0 * (1.0 - k / h) * g[k];
		r->kernel = "bartlett";
	}
	r->lag_rule = given ? "given" : lags == steps - 1 ? "steps - 1" : "half the windows";
	free(g);

	r->n = n;
	r->lags = lags;
	r->df = n - 1;
	r->mean_diff = mean;
	r->variance = v;
	if (allzero) {
		r->dm = r->stat = 0.0;
		r->p_value = 1.0;
		r->p_less = 0.5;
		return 0;
	}
	/* relative test so that rounding noise in a constant series counts as
	 * zero variance */
	if (!(v > DBL_EPSILON * DBL_EPSILON * mean * mean) || !isfinite(v))
		return cp_fail(e, CP_DATA, "dm test: the loss differences do not vary, the test is undefined");
	r->dm = mean / sqrt(v / T);
	r->stat = r->dm * sqrt(hln);
	double cdf = dm_t_cdf(r->stat, r->df);
	r->p_less = cdf;
	/* two-sided straight from the incomplete beta (keeps small p exact) */
	r->p_value = dm_betainc(0.5 * r->df, 0.5, r->df / (r->df + r->stat * r->stat));
	if (r->p_value > 1)
		r->p_value = 1;
	return 0;
}

int dm_test(const double *loss_a, const double *loss_b, int n, int steps, int lags,
            dm_result *r, cp_err *e)
{
	return dm_core(loss_a, loss_b, n, steps, lags, 0, r, e);
}

int dm_test_bartlett(const double *loss_a, const double *loss_b, int n, int steps, int lags,
                     dm_result *r, cp_err *e)
{
	return dm_core(loss_a, loss_b, n, steps, lags, 1, r, e);
}
