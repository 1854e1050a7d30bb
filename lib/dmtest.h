/* dmtest.h — Diebold-Mariano test of equal predictive accuracy, with the
 * Harvey-Leybourne-Newbold (1997) small-sample correction.
 *
 * Input: per-window losses of two forecasts on the same windows (e.g. the
 * sum of squared errors of each walk-forward window, mt_window.sse), and
 * the forecast horizon `steps`.  Windows one observation apart whose
 * targets overlap make the loss differences d[t] = loss_a[t] - loss_b[t]
 * autocorrelated up to lag steps-1, so the long-run variance is estimated
 * from the autocovariances up to L lags:
 *
 *   dbar   = mean d
 *   g(k)   = (1/T) sum_{t=k+1..T} (d[t]-dbar)(d[t-k]-dbar)
 *   V      = g(0) + 2 sum_{k=1..L} w(k) g(k)
 *   DM     = dbar / sqrt(V / T)
 *   HLN    = DM * sqrt((T + 1 - 2h + h(h-1)/T) / T),  h = L + 1
 *   p      from Student's t with T-1 degrees of freedom.
 *
 * Lag rule (lags = 0): L = min(steps - 1, floor(T / 2)).  With enough
 * windows (T >= 2 steps - 2) that is the steps - 1 of Diebold and Mariano
 * (1995), kernel rectangular, w(k) = 1, the one the HLN correction was
 * derived for.  With fewer windows (the default 30 at 30 and 90 steps) the
 * rectangular estimate at steps - 1 lags does not exist (L >= T - 1) or is
 * mostly noise, so L is capped at half the windows with Bartlett weights
 * w(k) = 1 - k/(L+1) (Newey-West, never negative): a bandwidth that grows
 * with the sample and stays computable for every T >= 3.  Simulated with
 * persistent loss differences (scripts/golden_dm.py has the definition,
 * opt-validate(1) the figures), its size at the 5 % level stays near
 * that of the full rectangular rule, where a fixed small bandwidth (3 lags)
 * rejects 25-30 % of true null hypotheses.  lags > 0: exactly that many
 * lags (rectangular when >= steps - 1, else Bartlett).
 * The rectangular estimate can come out non-positive in small samples; then
 * the Bartlett weights are used instead.  `kernel` says which was used.
 *
 * Not defined (dm_test returns -1, CP_DATA, message says why) when T < 3,
 * when given lags >= T - 1, when the HLN factor is not positive, or when
 * the differences have zero variance but a non-zero mean.  Identical
 * losses (all d == 0) give DM = 0, p = 1.
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
	const char *lag_rule; /* "steps - 1", "half the windows" or "given" (static) */
} dm_result;

/* Run the test on loss_a[n], loss_b[n] (finite) for horizon steps >= 1;
 * lags 0: the lag rule above, lags > 0: exactly that many.
 * Fills *r and returns 0, or -1 with e filled (CP_DATA). */
int dm_test(const double *loss_a, const double *loss_b, int n, int steps, int lags,
            dm_result *r, cp_err *e);

/* dm_test with Bartlett weights at every lag count (Newey-West), also at
 * steps - 1: the rectangular estimate can nearly cancel to a tiny positive
 * V on a few strongly overlapping windows and give an absurd statistic
 * (challenger.h uses this one). */
int dm_test_bartlett(const double *loss_a, const double *loss_b, int n, int steps, int lags,
                     dm_result *r, cp_err *e);

/* The lag rule: lags > 0 as given, else min(steps - 1, n / 2) (n >= 0). */
int dm_lags(int n, int steps, int lags);

/* Regularized incomplete beta I_x(a, b), a, b > 0, 0 <= x <= 1
 * (continued fraction, modified Lentz). NaN for arguments out of range. */
double dm_betainc(double a, double b, double x);

/* P(T <= t) for Student's t with df > 0 degrees of freedom. */
double dm_t_cdf(double t, double df);

#endif
