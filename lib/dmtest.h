/* dmtest.h — Diebold-Mariano test of equal predictive accuracy, with the
 * Harvey-Leybourne-Newbold (1997) small-sample correction.
 *
 * Input: per-window losses of two forecasts on the same windows (e.g. the
 * sum of squared errors of each walk-forward window, mt_window.sse), and
 * the forecast horizon `steps`.  Windows one observation apart whose
 * targets overlap make the loss differences d[t] = loss_a[t] - loss_b[t]
 * autocorrelated up to lag steps-1, so the long-run variance is estimated
 * from the autocovariances up to `lags` (>= steps-1):
 *
 *   dbar   = mean d
 *   g(k)   = (1/T) sum_{t=k+1..T} (d[t]-dbar)(d[t-k]-dbar)
 *   V      = g(0) + 2 sum_{k=1..lags} w(k) g(k)
 *   DM     = dbar / sqrt(V / T)
 *   HLN    = DM * sqrt((T + 1 - 2h + h(h-1)/T) / T),  h = lags + 1
 *   p      from Student's t with T-1 degrees of freedom.
 *
 * Kernel: rectangular, w(k) = 1, as in Diebold and Mariano (1995) and the
 * one the HLN correction was derived for.  The rectangular estimate can
 * come out non-positive in small samples; then Bartlett weights
 * w(k) = 1 - k/(lags+1) (Newey-West, always >= 0) are used instead and
 * `kernel` says so.
 *
 * Not defined (dm_test returns -1, CP_DATA, message says why) when T < 3,
 * when lags >= T - 1, when the HLN factor is not positive (too few windows
 * for the horizon), or when the differences have zero variance but a
 * non-zero mean.  Identical losses (all d == 0) give DM = 0, p = 1.
 */
#ifndef CHRONOPT_DMTEST_H
#define CHRONOPT_DMTEST_H
#include "common.h"

typedef struct {
	int n;            /* T, number of loss differences */
	int lags;         /* autocovariance lags used */
	double mean_diff; /* dbar = mean(loss_a - loss_b); < 0: a is better */
	double variance;  /* V, long-run variance of d */
	double dm;        /* uncorrected statistic */
	double stat;      /* HLN-corrected statistic (the one tested) */
	int df;           /* T - 1 */
	double p_value;   /* two-sided: equal accuracy vs different */
	double p_less;    /* one-sided: H1 "a has lower expected loss" */
	const char *kernel; /* "rectangular" or "bartlett" (static string) */
} dm_result;

/* Run the test on loss_a[n], loss_b[n] (finite) for horizon steps >= 1,
 * lags = max(lags, steps - 1) (pass lags = 0 for the default steps - 1).
 * Fills *r and returns 0, or -1 with e filled (CP_DATA). */
int dm_test(const double *loss_a, const double *loss_b, int n, int steps, int lags,
            dm_result *r, cp_err *e);

/* Regularized incomplete beta I_x(a, b), a, b > 0, 0 <= x <= 1
 * (continued fraction, modified Lentz). NaN for arguments out of range. */
double dm_betainc(double a, double b, double x);

/* P(T <= t) for Student's t with df > 0 degrees of freedom. */
double dm_t_cdf(double t, double df);

#endif
