/* tpe.h — the tree-structured Parzen estimator (Bergstra et al., NeurIPS
 * 2011) as Optuna's default TPESampler defines it: each parameter is
 * sampled on its own (univariate), the first n_startup trials are uniform
 * random, then the finished trials are split into a "good" group (the
 * gamma(n) = min(ceil(0.1 n), 25) best) and a "bad" group, each group and
 * the prior become a Parzen mixture per parameter, n_candidates values are
 * drawn from the good mixture l(x) and the one with the largest
 * log l(x) - log g(x) is suggested.
 *
 * Kernels, as Optuna builds them:
 *   - numeric (float or int, optionally log-scaled, optionally on a step
 *     grid): one truncated normal per observation, centred on it, with
 *     sigma = the larger distance to its sorted neighbours (the bounds
 *     widened by step/2 act as neighbours; the first and last sigma use
 *     the inner neighbour only), clipped to [range / min(100, 1 + kernels),
 *     range]; plus the prior kernel N((low+high)/2, range). range = high -
 *     low + step. Log parameters live in log space. Step parameters put on
 *     each grid value the mass of the normal over value +- step/2.
 *   - categorical: each observation is a row with prior_weight / kernels on
 *     every choice and +1 on the observed one (rows normalised), plus a
 *     uniform prior row.
 *   Mixture weights: 1 for each of the 25 most recent observations of the
 *   group, a linear ramp from 1/n up to 1 for older ones (by trial number),
 *   prior_weight for the prior; normalised.
 *
 * Pruned trials join the split after every complete trial, the ones that
 * got further first and then by their value where they were stopped.
 *
 * Deterministic: trial t draws from the PRNG stream (seed, TPE_STREAM, t),
 * so a batch of suggestions made from the same history (parallel trials)
 * is reproducible and differs between trials. Pure arithmetic; no I/O. */
#ifndef CHRONOPT_TPE_H
#define CHRONOPT_TPE_H
#include <stdint.h>

enum { TPE_FLOAT, TPE_INT, TPE_CAT };
enum { TPE_COMPLETE, TPE_PRUNED };

typedef struct {
	int kind;        /* TPE_FLOAT, TPE_INT or TPE_CAT */
	double low;      /* numeric: inclusive bounds, low <= high */
	double high;
	double step;     /* numeric: > 0 puts values on low + k*step; 0: none
	                    (TPE_INT always has a step, at least 1) */
	int log;         /* numeric: log-scaled (low > 0, no step for floats;
	                    log ints are continuous in log space, then rounded) */
	int nchoices;    /* TPE_CAT: values are the indices 0..nchoices-1 */
} tpe_param;

typedef struct {
	int n_startup;        /* random trials first (Optuna: 10) */
	int n_candidates;     /* draws from l(x) per suggestion (24) */
	double prior_weight;  /* 1.0 */
} tpe_options;

/* One finished trial. x has one value per parameter (a category index for
 * TPE_CAT). value: the objective (smaller is better); for a pruned trial,
 * its value where it was stopped, after `step` units of work. */
typedef struct {
	const double *x;
	double value;
	int state;       /* TPE_COMPLETE or TPE_PRUNED */
	int step;        /* TPE_PRUNED: how far it got */
	int number;      /* trial number: the order trials were started in */
} tpe_trial;

#define TPE_STREAM 0x7e9a11ULL

void tpe_options_default(tpe_options *o);

/* Checks a parameter: -1 with a reason in *why (a static string) when it
 * is not usable, else 0. */
int tpe_param_check(const tpe_param *p, const char **why);

/* Suggest trial `number`'s values into out[np] from the finished trials
 * h[0..nh-1] (any order). Returns 0, or -1 on allocation failure. */
int tpe_suggest(const tpe_param *p, int np, const tpe_trial *h, int nh,
                const tpe_options *o, uint64_t seed, int number, double *out);

/* Optuna's defaults: gamma(n) = min(ceil(0.1 n), 25); weights of n
 * observations oldest first into w[n]. Exposed for the tests. */
int tpe_gamma(int n);
void tpe_weights(int n, double *w);

/* The median rule for pruning: 1 when `value` (a running trial's objective
 * on the first k units of work) is worse than the median of the completed
 * trials' objectives on the same k units, given at least min_trials of
 * them; else 0. */
int tpe_prune(double value, const double *completed, int n, int min_trials);

/* The log density (mass, on a step grid or for a category) at x of the
 * (density per unit of log x for a log-scaled float)
 * Parzen mixture of parameter p[j] built from the group g[0..n-1] (in
 * trial-number order) and the prior. For the tests. */
double tpe_group_logp(const tpe_param *p, int j, const tpe_trial *g, int n,
                      double prior_weight, double x);

/* Standard normal helpers, exposed for the tests. */
double tpe_norm_cdf(double z);
double tpe_norm_ppf(double p);   /* 0 < p < 1 */

#endif
