/* test_baseline.c — the baseline forecasters: points, bootstrap paths,
 * streams, the prefix property, errors, and the model registry. */
#include "forecast.h"
#include "tap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static fc_config cfg_ns(int ns)
{
	fc_config c = {.context_length = 0, .num_samples = ns, .temperature = 1,
	               .top_k = 0, .top_p = 1};
	return c;
}

/* One window, returns the forecaster's return value. */
static int fc1(forecaster *f, const double *y, int n, int steps, int ns, uint64_t seed,
               uint64_t stream, double *paths, double *point, cp_err *e)
{
	fc_config c = cfg_ns(ns);
	const double *ctx[1] = {y};
	int nctx[1] = {n};
	uint64_t st[1] = {stream};
	return f->forecast(f, &c, 1, ctx, nctx, steps, seed, st, paths, point, e);
}

static int is_one_of(double r, const double *set, int n)
{
	for (int i = 0; i < n; i++)
		if (fabs(r - set[i]) <= 1e-12)
			return 1;
	return 0;
}

static void test_random_walk(void)
{
	cp_err e = {0};
	forecaster *f = baseline_new("random_walk", 0, &e);
	CHECK(f && !strcmp(f->name, "random_walk") && f->max_context == 0 && f->prefix_horizon == 0,
	      "random_walk: constructed, no context limit, prefix holds everywhere");
	double y[] = {100, 110, 99, 105};
	double r[] = {log(1.1), log(99.0 / 110), log(105.0 / 99)};
	enum { NS = 50, H = 6 };
	double paths[NS * H], point[H];
	CHECK(fc1(f, y, 4, H, NS, 42, 9, paths, point, &e) == 1, "random_walk: returns its own point");
	int ok = 1;
	for (int h = 0; h < H; h++)
		ok &= point[h] == 105;
	CHECK(ok, "random_walk: point = last value");
	int steps_ok = 1, seen[3] = {0};
	for (int s = 0; s < NS; s++)
		for (int h = 0; h < H; h++) {
			double prev = h ? paths[s * H + h - 1] : 105;
			double lr = log(paths[s * H + h] / prev);
			steps_ok &= is_one_of(lr, r, 3);
			for (int k = 0; k < 3; k++)
				seen[k] += fabs(lr - r[k]) <= 1e-12;
		}
	CHECK(steps_ok, "random_walk: every step is one past log-return");
	CHECK(seen[0] > 60 && seen[1] > 60 && seen[2] > 60,
	      "random_walk: all past returns get drawn (300 draws, ~100 each)");

	double again[NS * H], other[NS * H], small[3 * H];
	fc1(f, y, 4, H, NS, 42, 9, again, NULL, &e);
	CHECK(!memcmp(paths, again, sizeof(paths)), "random_walk: same seed and stream, same paths");
	fc1(f, y, 4, H, NS, 42, 10, other, NULL, &e);
	CHECK(memcmp(paths, other, sizeof(paths)) != 0, "random_walk: another stream, other paths");
	fc1(f, y, 4, H, NS, 43, 9, other, NULL, &e);
	CHECK(memcmp(paths, other, sizeof(paths)) != 0, "random_walk: another seed, other paths");
	fc1(f, y, 4, H, 3, 42, 9, small, NULL, &e);
	CHECK(!memcmp(paths, small, sizeof(small)), "random_walk: first 3 of 50 paths = a 3-path run");

	/* A batch of windows: each window equals its run alone. */
	double y2[] = {50, 51, 52, 50, 49, 55};
	const double *ctx[2] = {y, y2};
	int nctx[2] = {4, 6};
	uint64_t st[2] = {9, 17};
	fc_config c = cfg_ns(NS);
	double bpaths[2 * NS * H], bpoint[2 * H], alone[NS * H];
	CHECK(f->forecast(f, &c, 2, ctx, nctx, H, 42, st, bpaths, bpoint, &e) == 1,
	      "random_walk: a batch of two windows");
	fc1(f, y2, 6, H, NS, 42, 17, alone, NULL, &e);
	CHECK(!memcmp(bpaths, paths, sizeof(paths)) && !memcmp(bpaths + NS * H, alone, sizeof(alone))
	      && bpoint[H] == 55, "random_walk: batched windows equal single runs");
	f->free(f);
}

static void test_drift(void)
{
	cp_err e = {0};
	forecaster *f = baseline_new("drift", 0, &e), *rw = baseline_new("random_walk", 0, &e);
	double y[] = {100, 103, 101, 106};
	enum { NS = 20, H = 5 };
	double paths[NS * H], point[H], rpaths[NS * H];
	CHECK(fc1(f, y, 4, H, NS, 1, 2, paths, point, &e) == 1, "drift: returns its own point");
	int ok = 1;
	for (int h = 0; h < H; h++)
		ok &= fabs(point[h] - (106 + 2.0 * (h + 1))) < 1e-12;
	CHECK(ok, "drift: point = last + h*(last-first)/(n-1)");
	fc1(rw, y, 4, H, NS, 1, 2, rpaths, NULL, &e);
	ok = 1;
	for (int i = 0; i < NS * H; i++)
		ok &= fabs(paths[i] - rpaths[i]) <= 1e-12 * rpaths[i];
	CHECK(ok, "drift: de-meaned bootstrap plus the mean = the random walk's paths");
	double g[] = {100, 110, 121};
	fc1(f, g, 3, H, NS, 1, 2, paths, NULL, &e);
	ok = 1;
	for (int s = 0; s < NS; s++)
		for (int h = 0; h < H; h++)
			ok &= fabs(paths[s * H + h] - 121 * pow(1.1, h + 1)) < 1e-9;
	CHECK(ok, "drift: constant growth gives exactly that growth");
	f->free(f);
	rw->free(rw);
}

static void test_seasonal(void)
{
	cp_err e = {0};
	forecaster *f = baseline_new("seasonal_naive", 3, &e);
	double y[] = {1, 2, 4, 2, 4, 8, 4, 8, 16}; /* every y[i]/y[i-3] = 2 */
	enum { NS = 4, H = 5 };
	double paths[NS * H], point[H];
	CHECK(fc1(f, y, 9, H, NS, 5, 6, paths, point, &e) == 1, "seasonal: returns its own point");
	CHECK(point[0] == 4 && point[1] == 8 && point[2] == 16 && point[3] == 4 && point[4] == 8,
	      "seasonal: point = y[t-P + ((h-1) mod P)]");
	double want[H] = {8, 16, 32, 16, 32};
	int ok = 1;
	for (int s = 0; s < NS; s++)
		for (int h = 0; h < H; h++)
			ok &= fabs(paths[s * H + h] - want[h]) < 1e-12;
	CHECK(ok, "seasonal: paths compound the seasonal log-differences");
	double shortc[] = {1, 2, 3};
	e.code = 0;
	CHECK(fc1(f, shortc, 3, H, NS, 5, 6, paths, point, &e) == -1 && e.code == CP_DATA,
	      "seasonal: a context of P observations is a data error");
	CHECK(strstr(e.msg, "needs at least 4 context observations, have 3") != NULL,
	      "seasonal: the message says how many are needed");
	f->free(f);

	forecaster *one = baseline_new("seasonal_naive", 1, &e), *rw = baseline_new("random_walk", 0, &e);
	double z[] = {10, 11, 12, 11, 13};
	double a[NS * H], b[NS * H];
	fc1(one, z, 5, H, NS, 8, 3, a, NULL, &e);
	fc1(rw, z, 5, H, NS, 8, 3, b, NULL, &e);
	ok = 1;
	for (int i = 0; i < NS * H; i++)
		ok &= fabs(a[i] - b[i]) <= 1e-12 * b[i];
	CHECK(ok, "seasonal with period 1 is the random walk");
	one->free(one);
	rw->free(rw);
}

static void test_errors(void)
{
	cp_err e = {0};
	CHECK(!baseline_new("arima", 0, &e) && e.code == CP_USAGE
	      && !strcmp(e.msg, "unknown baseline 'arima'"), "unknown baseline: usage error");
	e.code = 0;
	CHECK(!baseline_new("seasonal_naive", 0, &e) && e.code == CP_USAGE, "period 0: usage error");
	forecaster *f = baseline_new("random_walk", 0, &e);
	double y[] = {3, 2, 0, 4}, paths[8];
	e.code = 0;
	CHECK(fc1(f, y, 4, 2, 4, 1, 1, paths, NULL, &e) == -1 && e.code == CP_DATA
	      && strstr(e.msg, "context value '0' at position 2 is not positive"),
	      "a zero in the context is a data error naming it");
	double neg[] = {-1, 2};
	e.code = 0;
	CHECK(fc1(f, neg, 2, 2, 4, 1, 1, paths, NULL, &e) == -1 && e.code == CP_DATA,
	      "a negative context value is a data error");
	double one[] = {5};
	e.code = 0;
	CHECK(fc1(f, one, 1, 2, 4, 1, 1, paths, NULL, &e) == -1 && e.code == CP_DATA,
	      "a single observation is a data error");
	f->free(f);
}

static void test_registry(void)
{
	cp_err e = {0};
	const char *names[] = {"random_walk", "drift", "seasonal_naive", "seasonal_naive:7"};
	int ok = 1;
	for (int i = 0; i < 4; i++) {
		forecaster *f = forecaster_open(names[i], &e);
		ok &= f != NULL && !strncmp(names[i], f->name, strlen(f->name));
		if (f)
			f->free(f);
	}
	CHECK(ok, "registry: opens every baseline");
	forecaster *s7 = forecaster_open("seasonal_naive:7", &e);
	double y[8] = {1, 2, 3, 4, 5, 6, 7, 8}, paths[1], point[1];
	e.code = 0;
	CHECK(fc1(s7, y, 7, 1, 1, 1, 1, paths, point, &e) == -1 && e.code == CP_DATA,
	      "registry: seasonal_naive:7 has period 7");
	CHECK(fc1(s7, y, 8, 1, 1, 1, 1, paths, point, &e) == 1 && point[0] == 2,
	      "registry: seasonal_naive:7 point is y[n-7]");
	s7->free(s7);
	e.code = 0;
	CHECK(!forecaster_open("seasonal_naive:0", &e) && e.code == CP_USAGE, "registry: bad period");
	e.code = 0;
	CHECK(!forecaster_open("/", &e) && e.code == CP_IO
	      && !strcmp(e.msg, "cannot open '//config.json': No such file or directory"),
	      "registry: a directory means a chronos checkpoint");
	forecaster *ch = forecaster_open("testdata/chronos/relu-tied", &e);
	CHECK(ch && !strcmp(ch->name, "chronos") && ch->max_context > 0 && ch->prefix_horizon > 0,
	      "registry: a checkpoint directory opens the chronos forecaster");
	if (ch)
		ch->free(ch);
	e.code = 0;
	CHECK(!forecaster_open("nope", &e) && e.code == CP_USAGE
	      && !strncmp(e.msg, "unknown model 'nope'", 20), "registry: unknown model");
}

/* Missing values (NaN) in the context, against hand-computed forecasts:
 * the only log-return with both ends observed is log(110/100), so every
 * draw is that one and the paths are exact whatever the PRNG. */
static void test_missing(void)
{
	cp_err e = {0};
	double y[] = {NAN, 100, 110, NAN}, paths[4 * 3], point[3];
	double r = log(1.1);
	forecaster *rw = baseline_new("random_walk", 0, &e);
	CHECK(fc1(rw, y, 4, 3, 4, 1, 1, paths, point, &e) == 1, "random walk: a context with NaN is accepted");
	int ok = 1;
	for (int s = 0; s < 4; s++)
		for (int h = 0; h < 3; h++)  /* one step over the trailing NaN, then h + 1 */
			ok &= fabs(paths[s * 3 + h] - 110 * exp((h + 2) * r)) < 1e-9;
	CHECK(point[0] == 110 && point[2] == 110 && ok,
	      "random walk: point = last observed value; paths compound over the missing step too");
	rw->free(rw);
	forecaster *dr = baseline_new("drift", 0, &e);
	CHECK(fc1(dr, y, 4, 3, 4, 1, 1, paths, point, &e) == 1, "drift: accepted");
	ok = 1;
	for (int s = 0; s < 4; s++)
		for (int h = 0; h < 3; h++)
			ok &= fabs(paths[s * 3 + h] - 110 * exp((h + 2) * r)) < 1e-9;
	/* slope (110 - 100) / (2 - 1) per step, h + 1 + 1 steps from the last observation */
	CHECK(fabs(point[0] - 130) < 1e-12 && fabs(point[1] - 140) < 1e-12 && fabs(point[2] - 150) < 1e-12 && ok,
	      "drift: first and last observed values set the slope, counted from the last observed one");
	dr->free(dr);
	forecaster *sn = baseline_new("seasonal_naive", 2, &e);
	double z[] = {100, 120, 110, NAN};  /* lag-2 pairs: 110/100 observed, NaN/120 not */
	CHECK(fc1(sn, z, 4, 3, 2, 1, 1, paths, point, &e) == 1, "seasonal: accepted");
	CHECK(point[0] == 110 && point[1] == 120 && point[2] == 110,
	      "seasonal: a missing value of the last season falls back to the one a period before");
	CHECK(fabs(paths[0] - 121) < 1e-9 && fabs(paths[1] - 132) < 1e-9 && fabs(paths[2] - 133.1) < 1e-9,
	      "seasonal: paths from those bases");
	sn->free(sn);
	/* no log-return with both ends observed */
	rw = baseline_new("random_walk", 0, &e);
	double gaps[] = {100, NAN, 110, NAN};
	e.code = 0;
	CHECK(fc1(rw, gaps, 4, 3, 4, 1, 1, paths, point, &e) == -1 && e.code == CP_DATA &&
	      !strcmp(e.msg, "window 0: random_walk needs two observed context values 1 step apart, the context has none"),
	      "no observed neighbours: a data error that says so");
	rw->free(rw);
}

int main(void)
{
	test_random_walk();
	test_drift();
	test_seasonal();
	test_errors();
	test_registry();
	test_missing();
	return tap_done();
}
