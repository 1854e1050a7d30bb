/* drift.h — distribution shift between two samples: the two-sample
 * Kolmogorov-Smirnov test, the population stability index (PSI), and the
 * severity grade opt-trigger(1) acts on.
 *
 * The KS p-value follows scipy.stats.ks_2samp(a, b) with its defaults
 * (alternative='two-sided', method='auto'): the exact distribution of the
 * two-sample statistic when both samples have at most 10000 values (lattice
 * path counting, Hodges 1958; the 1-p recursion of Viehmann 2021; for equal
 * sizes the closed alternating sum), else the one-sample Kolmogorov
 * distribution of D_en at en = round(m*n/(m+n)) (Simard & L'Ecuyer 2011:
 * Ruben-Gambino ends, Durbin matrix, Pomeranz recursion, Pelz-Good series,
 * Smirnov's one-sided sum).  Same math as scipy, written from the papers and
 * scipy's description, not copied.
 *
 * No function here allocates anything the caller must free unless it says so.
 */
#ifndef CHRONOPT_DRIFT_H
#define CHRONOPT_DRIFT_H
#include "common.h"

typedef struct {
	double d;     /* sup |F_a - F_b|; on the exact path rounded to h/lcm(na,nb) */
	double p;     /* two-sided p-value in [0, 1] */
	int exact;    /* 1: exact null distribution, 0: asymptotic (kstwo) */
	int na, nb;
} ks_result;

/* Two-sample KS test of a[na] against b[nb] (any order; not modified).
 * Values must be finite.  Returns 0, or -1 with CP_DATA when a sample is
 * empty or holds a non-finite value. */
int ks_2samp(const double *a, int na, const double *b, int nb, ks_result *r, cp_err *e);

/* P(D_n >= x) for the one-sample two-sided KS statistic with n observations
 * (scipy.stats.kstwo.sf(x, n)); n >= 1. */
double ks_kstwo_sf(int n, double x);
/* P(D_n^+ >= x), the one-sided statistic (scipy.special.smirnov(n, x)). */
double ks_smirnov(int n, double x);
/* Limiting distribution P(sqrt(n) D_n > x) (scipy.special.kolmogorov). */
double ks_kolmogorov_sf(double x);

/* Population stability index of `recent` against `base`.
 * Bins: edges at the base sample's quantiles k/nbins, k = 1..nbins-1 (linear
 * interpolation, numpy's default), duplicates dropped, outer bins open; a
 * value equal to an edge falls in the lower bin.  Share of each sample per
 * bin, floored at eps (so an empty bin counts as eps, never log(0)).
 * PSI = sum (r_i - b_i) * ln(r_i / b_i).  *bins_used gets the number of bins
 * after dropping duplicate edges (may be NULL).  Returns -1 with CP_DATA on
 * empty samples, nbins < 2 or eps outside (0, 0.1]. */
int drift_psi(const double *base, int nb, const double *recent, int nr, int nbins,
              double eps, double *psi, int *bins_used, cp_err *e);

typedef enum { DRIFT_NONE = 0, DRIFT_LOW, DRIFT_MEDIUM, DRIFT_HIGH } drift_severity;

/* Severity grade from the KS p-value and the effect size D:
 *   HIGH    p < p_high   and D >= d_high
 *   MEDIUM  p < p_medium and D >= d_medium   (and not HIGH)
 *   LOW     p < p_low                        (and not above)
 *   NONE    otherwise
 * Defaults (drift_rule_default): p_low 0.10, p_medium 0.05, p_high 0.001,
 * d_medium 0.25, d_high 0.35. */
typedef struct {
	double p_low, p_medium, p_high;
	double d_medium, d_high;
} drift_rule;

void drift_rule_default(drift_rule *r);
/* 0 when 0 < p_high <= p_medium <= p_low < 1 and 0 <= d_medium <= d_high <= 1,
 * else -1 with CP_USAGE naming the offending value. */
int drift_rule_check(const drift_rule *r, cp_err *e);
drift_severity drift_grade(const drift_rule *r, double d, double p);
/* "NONE", "LOW", "MEDIUM", "HIGH". */
const char *drift_severity_name(drift_severity s);
/* Parse one of the names above (case-insensitive). 0 or -1. */
int drift_severity_parse(const char *s, drift_severity *out);

#endif
