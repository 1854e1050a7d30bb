/* bench_tpe.c — how often TPE with 40 trials finds a config within 1 % of
 * the best, on cheap synthetic objectives with a known optimum, over 10
 * sampler seeds, against random search with the same budget:
 *   - lists: a 210-config grid shaped like a search space (7 context
 *     lengths x 3 sample counts x 10 temperatures as categoricals, the way
 *     opt-search hands lists to TPE), optimum found by enumeration;
 *   - ranges: an int range, a float range and a log float range (the
 *     space's range form), optimum 1 by construction.
 * Pure CPU, milliseconds; the model-based figure is scripts/bench.d/tpe_search.sh. */
#include "prng.h"
#include "tpe.h"
#include <math.h>
#include <stdio.h>

#define TRIALS 40
#define SEEDS 10

static double f_lists(const double *x)
{
	/* index space: ctx 0..6 (best 4), samples 0..2 (best 2), temp 0..9 (best 6) */
	double a = (x[0] - 4) / 2.5, c = (x[2] - 6) / 3.0;
	return 1 + a * a + 0.6 * c * c + (x[1] == 2 ? 0 : x[1] == 1 ? 0.015 : 0.05) + 0.02 * a * c;
}

static double f_ranges(const double *x)
{
	double a = (x[0] - 384) / 256, b = (x[1] - 0.9) / 0.5, c = log(x[2] / 0.3);
	return 1 + a * a + b * b + 0.25 * c * c;
}

static double run(double (*f)(const double *), const tpe_param *p, int np, uint64_t seed,
                  int startup)
{
	double xs[TRIALS][3];
	tpe_trial h[TRIALS];
	tpe_options o;
	tpe_options_default(&o);
	o.n_startup = startup;
	double best = INFINITY;
	for (int t = 0; t < TRIALS; t++) {
		tpe_suggest(p, np, h, t, &o, seed, t, xs[t]);
		h[t] = (tpe_trial){xs[t], f(xs[t]), TPE_COMPLETE, 0, t};
		best = h[t].value < best ? h[t].value : best;
	}
	return best;
}

static void report(const char *name, double (*f)(const double *), const tpe_param *p, int np,
                   double opt, int nconf)
{
	int tpe_hits = 0, rnd_hits = 0;
	double tpe_gap = 0, rnd_gap = 0;
	for (uint64_t s = 1; s <= SEEDS; s++) {
		double bt = run(f, p, np, s, 10), br = run(f, p, np, s, TRIALS);
		tpe_hits += bt <= opt * 1.01;
		rnd_hits += br <= opt * 1.01;
		tpe_gap += bt / opt - 1;
		rnd_gap += br / opt - 1;
	}
	printf("tpe synthetic %s (%s): %d trials, within 1 %% of the optimum on %d/%d seeds "
	       "(random search: %d/%d); mean gap to the optimum %.2f %% (random %.2f %%)\n",
	       name, nconf > 0 ? "210 configs" : "continuous", TRIALS, tpe_hits, SEEDS, rnd_hits,
	       SEEDS, 100 * tpe_gap / SEEDS, 100 * rnd_gap / SEEDS);
}

int main(void)
{
	tpe_param lists[] = {
		{TPE_CAT, 0, 0, 0, 0, 7}, {TPE_CAT, 0, 0, 0, 0, 3}, {TPE_CAT, 0, 0, 0, 0, 10}};
	double opt = INFINITY;
	for (int a = 0; a < 7; a++)
		for (int b = 0; b < 3; b++)
			for (int c = 0; c < 10; c++) {
				double x[3] = {a, b, c};
				opt = f_lists(x) < opt ? f_lists(x) : opt;
			}
	int near = 0;
	for (int a = 0; a < 7; a++)
		for (int b = 0; b < 3; b++)
			for (int c = 0; c < 10; c++) {
				double x[3] = {a, b, c};
				near += f_lists(x) <= opt * 1.01;
			}
	printf("tpe synthetic lists: %d of 210 configs are within 1 %% of the optimum\n", near);
	report("lists", f_lists, lists, 3, opt, 210);
	tpe_param ranges[] = {
		{TPE_INT, 32, 1024, 32, 0, 0}, {TPE_FLOAT, 0.1, 2.0, 0, 0, 0}, {TPE_FLOAT, 0.01, 10, 0, 1, 0}};
	report("ranges", f_ranges, ranges, 3, 1.0, 0);
	return 0;
}
