/* test_tpe.c — the TPE sampler: Optuna's gamma and weights, the Parzen
 * mixtures are distributions, suggestions are seeded and stay in range,
 * and on objectives with a known optimum TPE beats random search. */
#include "prng.h"
#include "tpe.h"
#include "tap.h"
#include <math.h>
#include <string.h>

/* Objective with a known optimum: x float in [-5, 5] (best 1.5), y log
 * float in [0.01, 100] (best 2), k int 1..64 step 1 (best 20), c one of 4
 * (best 2). */
static double objective(const double *v)
{
	double a = v[0] - 1.5, b = log(v[1] / 2), k = (v[2] - 20) / 16;
	return a * a + b * b + k * k + (v[3] == 2 ? 0 : 0.5);
}

static const tpe_param P[] = {
	{ TPE_FLOAT, -5, 5, 0, 0, 0 },
	{ TPE_FLOAT, 0.01, 100, 0, 1, 0 },
	{ TPE_INT, 1, 64, 1, 0, 0 },
	{ TPE_CAT, 0, 0, 0, 0, 4 },
};
#define NP 4
#define MAXT 100

/* Best value after `trials` trials, with TPE (startup as given) or pure
 * random (n_startup = trials). */
static double run(uint64_t seed, int trials, int startup)
{
	static double xs[MAXT][NP];
	tpe_trial h[MAXT];
	tpe_options o;
	tpe_options_default(&o);
	o.n_startup = startup;
	double best = INFINITY;
	for (int t = 0; t < trials; t++) {
		if (tpe_suggest(P, NP, h, t, &o, seed, t, xs[t]))
			return NAN;
		h[t] = (tpe_trial){ xs[t], objective(xs[t]), TPE_COMPLETE, 0, t };
		if (h[t].value < best)
			best = h[t].value;
	}
	return best;
}

int main(void)
{
	CHECK(tpe_gamma(1) == 1 && tpe_gamma(10) == 1 && tpe_gamma(11) == 2 &&
	      tpe_gamma(100) == 10 && tpe_gamma(1000) == 25, "gamma(n) = min(ceil(0.1 n), 25)");
	double w[40];
	tpe_weights(24, w);
	int ones = 1;
	for (int i = 0; i < 24; i++)
		ones &= w[i] == 1.0;
	CHECK(ones, "weights: fewer than 25 observations all weigh 1");
	tpe_weights(30, w);
	CHECK_NEAR(w[0], 1.0 / 30, 1e-15, "weights: the oldest of 30 weighs 1/30");
	CHECK_NEAR(w[2], 1.0 / 30 + (1 - 1.0 / 30) * 2 / 4, 1e-15, "weights: a linear ramp to 1");
	CHECK(w[4] == 1.0 && w[5] == 1.0 && w[29] == 1.0, "weights: the 25 newest weigh 1");

	/* The lower tail and the middle: the sampler mirrors upper tails, where
	 * 1 - p is not representable. */
	double zs[] = { -8, -5, -3, -1.959963984540054, -0.5, 0, 0.3, 1.959963984540054 };
	double worst = 0;
	for (size_t i = 0; i < sizeof zs / sizeof *zs; i++) {
		double p = tpe_norm_cdf(zs[i]);
		if (p > 0 && p < 1) {
			double d = fabs(tpe_norm_ppf(p) - zs[i]);
			worst = d > worst ? d : worst;
		}
	}
	CHECK(worst < 1e-9, "ppf inverts cdf over the lower tail and the middle");
	CHECK_NEAR(tpe_norm_ppf(0.975), 1.959963984540054, 1e-12, "ppf(0.975) = 1.95996...");

	/* Parzen mixtures are distributions: integrate / sum to 1. */
	double xv[6][NP] = { { -4, 0.02, 3, 0 }, { 1, 3, 20, 2 }, { 1.2, 2.5, 21, 2 },
	                     { 4.9, 90, 64, 3 }, { 0, 1, 1, 1 }, { 1.1, 2, 20, 2 } };
	tpe_trial g[6];
	for (int i = 0; i < 6; i++)
		g[i] = (tpe_trial){ xv[i], 0, TPE_COMPLETE, 0, i };
	for (int n = 0; n <= 6; n += 3) {
		double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
		int M = 20000;
		for (int i = 0; i < M; i++) {     /* midpoint rule */
			double x = -5 + 10.0 * (i + 0.5) / M;
			s0 += exp(tpe_group_logp(P, 0, g, n, 1.0, x)) * 10.0 / M;
			double u = log(0.01) + (log(100) - log(0.01)) * (i + 0.5) / M;
			/* a log parameter's density is per unit of log x */
			s1 += exp(tpe_group_logp(P, 1, g, n, 1.0, exp(u))) * (log(100) - log(0.01)) / M;
		}
		for (int k = 1; k <= 64; k++)
			s2 += exp(tpe_group_logp(P, 2, g, n, 1.0, k));
		for (int c = 0; c < 4; c++)
			s3 += exp(tpe_group_logp(P, 3, g, n, 1.0, c));
		char name[80];
		snprintf(name, sizeof name, "float kernel integrates to 1 (%d observations)", n);
		CHECK_NEAR(s0, 1, 1e-6, name);
		snprintf(name, sizeof name, "log kernel integrates to 1 in log x (%d observations)", n);
		CHECK_NEAR(s1, 1, 1e-4, name);
		snprintf(name, sizeof name, "int kernel sums to 1 over the grid (%d observations)", n);
		CHECK_NEAR(s2, 1, 1e-12, name);
		snprintf(name, sizeof name, "categorical kernel sums to 1 (%d observations)", n);
		CHECK_NEAR(s3, 1, 1e-12, name);
	}
	/* The mixture puts its mass near the observations. */
	CHECK(tpe_group_logp(P, 0, g + 1, 2, 1.0, 1.1) > tpe_group_logp(P, 0, g + 1, 2, 1.0, -4) + 1,
	      "the mixture is densest at its observations");
	/* Two observations of category 2 and the prior: (2/3)(4/7) + (1/3)(1/4). */
	CHECK_NEAR(exp(tpe_group_logp(P, 3, g + 1, 2, 1.0, 2)), 2.0 / 3 * 4 / 7 + 1.0 / 12, 1e-12,
	           "categorical mass: observed rows get +1 over prior_weight/kernels");

	/* Seeded, in range, on the grid. */
	double a[NP], b[NP];
	tpe_trial h[20];
	static double hx[20][NP];
	tpe_options o;
	tpe_options_default(&o);
	int inrange = 1, grid = 1;
	for (int t = 0; t < 20; t++) {
		tpe_suggest(P, NP, h, t, &o, 7, t, hx[t]);
		h[t] = (tpe_trial){ hx[t], objective(hx[t]), TPE_COMPLETE, 0, t };
		inrange &= hx[t][0] >= -5 && hx[t][0] <= 5 && hx[t][1] >= 0.01 && hx[t][1] <= 100 &&
		           hx[t][2] >= 1 && hx[t][2] <= 64 && hx[t][3] >= 0 && hx[t][3] <= 3;
		grid &= hx[t][2] == floor(hx[t][2]) && hx[t][3] == floor(hx[t][3]);
	}
	CHECK(inrange, "startup and TPE suggestions stay in their ranges");
	CHECK(grid, "integers and categories are whole numbers");
	tpe_suggest(P, NP, h, 20, &o, 7, 20, a);
	tpe_suggest(P, NP, h, 20, &o, 7, 20, b);
	CHECK(memcmp(a, b, sizeof a) == 0, "the same history, seed and number give the same suggestion");
	tpe_suggest(P, NP, h, 20, &o, 7, 21, b);
	CHECK(memcmp(a, b, sizeof a) != 0, "another trial number gives another suggestion");
	tpe_param st = { TPE_FLOAT, 0.5, 2.0, 0.25, 0, 0 };
	const char *why;
	CHECK(tpe_param_check(&st, &why) == 0, "a float range with a step is accepted");
	int ongrid = 1;
	for (int t = 0; t < 30; t++) {
		double v;
		tpe_suggest(&st, 1, h, t < 12 ? 0 : 12, &o, 3, t, &v);
		double k = (v - 0.5) / 0.25;
		ongrid &= fabs(k - nearbyint(k)) < 1e-12 && v >= 0.5 && v <= 2.0;
	}
	CHECK(ongrid, "a stepped float lands on low + k*step");
	tpe_param bad[] = { { TPE_FLOAT, 2, 1, 0, 0, 0 }, { TPE_FLOAT, 0, 1, 0, 1, 0 },
	                    { TPE_FLOAT, 0.1, 1, 0.1, 1, 0 }, { TPE_INT, 1, 10, 0.5, 0, 0 },
	                    { TPE_FLOAT, 0, 1, 0.3, 0, 0 }, { TPE_CAT, 0, 0, 0, 0, 0 } };
	int refused = 0;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		refused += tpe_param_check(&bad[i], &why) == -1;
	CHECK(refused == 6, "bad ranges are refused with a reason");

	/* TPE beats random search on the objective (20 seeds, 60 trials). */
	double tpe_sum = 0, rnd_sum = 0;
	int tpe_wins = 0;
	for (uint64_t s = 1; s <= 20; s++) {
		double bt = run(s, 60, 10), br = run(s, 60, 60);
		tpe_sum += log(bt + 1e-12);
		rnd_sum += log(br + 1e-12);
		tpe_wins += bt < br;
	}
	printf("# geometric mean best: TPE %.4g, random %.4g; TPE better on %d/20 seeds\n",
	       exp(tpe_sum / 20), exp(rnd_sum / 20), tpe_wins);
	CHECK(tpe_sum < rnd_sum - 20 * log(2.0), "TPE's best is at least 2x closer than random's (geometric mean)");
	CHECK(tpe_wins >= 15, "TPE wins on at least 15 of 20 seeds");

	/* Pruned trials count after complete ones in the split: a pruned trial
	 * with a tiny value does not pull the good group to it. */
	double px[12][1];
	tpe_trial ph[12];
	tpe_param one = { TPE_FLOAT, 0, 10, 0, 0, 0 };
	for (int i = 0; i < 12; i++) {
		px[i][0] = i < 11 ? 1 + 0.1 * i : 9;    /* completes near 1..2, pruned at 9 */
		ph[i] = (tpe_trial){ px[i], i < 11 ? 1 + i : 0.0, i < 11 ? TPE_COMPLETE : TPE_PRUNED, 3, i };
	}
	double near = 0;
	for (int t = 0; t < 20; t++) {
		double v;
		tpe_suggest(&one, 1, ph, 12, &o, 5, 100 + t, &v);
		near += v < 5;
	}
	CHECK(near >= 18, "a pruned trial's value does not make it 'good'");

	/* Median pruning. */
	double done[] = { 3, 1, 2, 5 };
	CHECK(tpe_prune(2.6, done, 4, 4) == 1, "worse than the median (2.5) is pruned");
	CHECK(tpe_prune(2.4, done, 4, 4) == 0, "better than the median is kept");
	CHECK(tpe_prune(9, done, 4, 5) == 0, "too few completed trials: never pruned");
	CHECK(tpe_prune(NAN, done, 3, 3) == 1, "a NaN objective is pruned");
	return tap_done();
}
