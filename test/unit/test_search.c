/* test_search.c — grid / random / halving enumeration, the split, reuse
 * accounting and the bit-exact plan / result round trips of lib/search.c. */
#include "prng.h"
#include "search.h"
#include "space.h"
#include "tap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------ a counting forecaster */

typedef struct {
	long calls, sample_steps;
	int last_ctx[64];
} fake_state;

/* Paths: last * exp(0.01 * T * cumulative normal) from stream (seed,
 * stream[w], s) only, so prefixes hold; point = NULL (median). */
static int fake_forecast(forecaster *f, const fc_config *cfg, int nwin,
                         const double *const *ctx, const int *nctx, int steps, uint64_t seed,
                         const uint64_t *stream, double *paths, double *point, cp_err *e)
{
	fake_state *st = f->state;
	st->calls++;
	st->sample_steps += (long)cfg->num_samples * steps * nwin;
	for (int w = 0; w < nwin; w++) {
		if (w < 64)
			st->last_ctx[w] = nctx[w];
		double last = ctx[w][nctx[w] - 1];
		double mean = 0;
		for (int i = 0; i < nctx[w]; i++)
			mean += ctx[w][i] / nctx[w];
		for (int s = 0; s < cfg->num_samples; s++) {
			prng g;
			prng_init(&g, seed, stream[w], (uint64_t)s);
			double acc = 0;
			for (int h = 0; h < steps; h++) {
				acc += 0.01 * cfg->temperature * prng_normal(&g);
				/* the context length matters through the mean */
				paths[((size_t)w * cfg->num_samples + s) * steps + h] =
				    (0.9 * last + 0.1 * mean) * exp(acc);
			}
		}
	}
	(void)point, (void)e;
	return 0;
}

static void fake_free(forecaster *f)
{
	free(f->state);
	free(f);
}

static forecaster *fake_new(int max_context, int prefix_horizon)
{
	forecaster *f = calloc(1, sizeof(*f));
	f->name = "fake";
	f->state = calloc(1, sizeof(fake_state));
	f->forecast = fake_forecast;
	f->free = fake_free;
	f->max_context = max_context;
	f->prefix_horizon = prefix_horizon;
	return f;
}

static void make_series(series *s, int n)
{
	memset(s, 0, sizeof(*s));
	s->path = strdup("synthetic.csv");
	s->id = strdup("");
	s->n = n;
	s->day = malloc((size_t)n * sizeof(int32_t));
	s->y = malloc((size_t)n * sizeof(double));
	prng g;
	prng_init(&g, 1, 2, 3);
	double y = 800;
	for (int i = 0; i < n; i++) {
		s->day[i] = 19000 + i;
		y *= exp(0.007 * prng_normal(&g));
		s->y[i] = y;
	}
}

static long fake_calls(forecaster *f)
{
	return ((fake_state *)f->state)->calls;
}

/* ---------------------------------------------------------------- tests */

static void test_space(void)
{
	sp_space sp;
	fc_config c;
	CHECK(sp_default(&sp, "7d") == 0 && sp_size(&sp) == 27, "7d seed space has 27 configs");
	CHECK(sp_default(&sp, "1d") < 0, "no built-in space for an unknown horizon");
	sp_default(&sp, "7d");
	sp_config(&sp, 0, &c);
	CHECK(c.context_length == 90 && c.num_samples == 50 && c.temperature == 0.8 &&
	      c.top_k == 0 && c.top_p == 1.0, "grid point 0 is the first of every list");
	sp_config(&sp, 1, &c);
	CHECK(c.context_length == 90 && c.num_samples == 50 && c.temperature == 1.0,
	      "temperature varies fastest among the three");
	sp_config(&sp, 3, &c);
	CHECK(c.num_samples == 100 && c.temperature == 0.8, "then num_samples");
	sp_config(&sp, 26, &c);
	CHECK(c.context_length == 270 && c.num_samples == 200 && c.temperature == 1.2,
	      "grid point 26 is the last of every list");
	/* every grid point distinct */
	int distinct = 1;
	for (int i = 0; i < 27; i++)
		for (int j = 0; j < i; j++) {
			fc_config a, b;
			sp_config(&sp, i, &a);
			sp_config(&sp, j, &b);
			if (a.context_length == b.context_length && a.num_samples == b.num_samples &&
			    a.temperature == b.temperature)
				distinct = 0;
		}
	CHECK(distinct, "the 27 grid points are distinct");

	cp_err e = {0};
	CHECK(sp_from_list(&sp, SP_TOPK, "0,50", "--top-k", &e) == 0 && sp_size(&sp) == 54,
	      "an option list adds a dimension");
	CHECK(sp_from_list(&sp, SP_TEMP, "1,,2", "--temperatures", &e) < 0 && e.code == CP_USAGE &&
	      strcmp(e.msg, "--temperatures: '1,,2' is not a comma-separated list of numbers") == 0,
	      "empty list item rejected");
	CHECK(sp_from_list(&sp, SP_TEMP, "1,x", "--temperatures", &e) < 0 &&
	      strcmp(e.msg, "--temperatures: 'x' is not a number") == 0, "junk rejected");
	sp_from_list(&sp, SP_TEMP, "1,1", "--temperatures", &e);
	CHECK(sp_check(&sp, "space", CP_USAGE, &e) < 0 &&
	      strcmp(e.msg, "space: \"temperature\" lists 1 twice") == 0, "duplicates rejected");
	sp_from_list(&sp, SP_TEMP, "0", "--temperatures", &e);
	CHECK(sp_check(&sp, "space", CP_USAGE, &e) < 0 &&
	      strcmp(e.msg, "space: \"temperature\" value 0 is not in (0, 100]") == 0,
	      "temperature 0 rejected");
	sp_default(&sp, "7d");
	sp_from_list(&sp, SP_CTX, "90.5", "--context-lengths", &e);
	CHECK(sp_check(&sp, "space", CP_USAGE, &e) < 0 && strstr(e.msg, "is not an integer"),
	      "fractional context rejected");
	sp_default(&sp, "7d");
	cJSON *j = cJSON_Parse("{\"context_length\":[60],\"top_p\":[0.9,1]}");
	CHECK(sp_from_json(&sp, j, "f: search.spaces.7d", &e) == 0 && sp_size(&sp) == 18,
	      "settings space overrides listed dimensions only");
	cJSON_Delete(j);
	j = cJSON_Parse("{\"contxt\":[60]}");
	CHECK(sp_from_json(&sp, j, "f: search.spaces.7d", &e) < 0 && e.code == CP_DATA &&
	      strcmp(e.msg, "f: search.spaces.7d: unknown key 'contxt'") == 0, "unknown key rejected");
	cJSON_Delete(j);
}

static void test_random(void)
{
	int a[27], b[27], c[27];
	int n = sp_random_pick(27, 10, 42, a);
	int ok = n == 10;
	for (int i = 1; i < n; i++)
		ok = ok && a[i] > a[i - 1] && a[i] < 27 && a[0] >= 0;
	CHECK(ok, "random picks are distinct, increasing, in range");
	sp_random_pick(27, 10, 42, b);
	CHECK(memcmp(a, b, sizeof(int) * 10) == 0, "same seed, same picks");
	sp_random_pick(27, 10, 43, c);
	CHECK(memcmp(a, c, sizeof(int) * 10) != 0, "another seed, other picks");
	CHECK(sp_random_pick(27, 100, 42, c) == 27 && c[0] == 0 && c[26] == 26,
	      "a budget above the grid takes the whole grid");
	/* uniformity, roughly: each index picked about 10/27 of the time */
	int cnt[27] = {0};
	for (uint64_t s = 0; s < 2700; s++) {
		sp_random_pick(27, 10, s, a);
		for (int i = 0; i < 10; i++)
			cnt[a[i]]++;
	}
	int lo = 1 << 30, hi = 0;
	for (int i = 0; i < 27; i++)
		lo = cnt[i] < lo ? cnt[i] : lo, hi = cnt[i] > hi ? cnt[i] : hi;
	CHECK(lo > 850 && hi < 1150, "every grid point picked about 1000 of 2700 times");
}

static void test_halving(void)
{
	int keep[SP_MAX_RUNGS], win[SP_MAX_RUNGS];
	int R = sp_halving(27, 30, 3, 2, keep, win);
	CHECK(R == 3 && keep[0] == 27 && keep[1] == 9 && keep[2] == 3, "27 configs: 27, 9, 3");
	CHECK(win[0] == 4 && win[1] == 10 && win[2] == 30, "30 windows: 4, 10, 30");
	R = sp_halving(3, 30, 3, 2, keep, win);
	CHECK(R == 1 && keep[0] == 3 && win[0] == 30, "no more configs than eta: one rung");
	R = sp_halving(100, 5, 2, 2, keep, win);
	int ok = R == 7 && keep[6] == 2 && win[R - 1] == 5;
	for (int r = 1; r < R; r++)
		ok = ok && win[r] >= win[r - 1] && win[r] >= 2 && keep[r] < keep[r - 1];
	CHECK(ok, "many configs, few windows: windows never below min_windows, never decreasing");

	int order[30], seen[30] = {0};
	sp_window_order(30, order);
	ok = order[0] == 29;
	for (int i = 0; i < 30; i++)
		ok = ok && order[i] >= 0 && order[i] < 30 && !seen[order[i]]++;
	CHECK(ok, "window order is a permutation starting with the most recent window");
	int mn = 30, mx = -1;
	for (int i = 0; i < 4; i++)
		mn = order[i] < mn ? order[i] : mn, mx = order[i] > mx ? order[i] : mx;
	CHECK(mx - mn >= 20, "the first four windows spread over the span");
}

static void opts_7d(sr_options *o)
{
	sr_options_default(o);
	sp_default(&o->space, "7d");
	o->seed = 42;
	o->windows = 30;
	o->holdout = 30;
}

static void test_split(void)
{
	series s;
	make_series(&s, 500);
	forecaster *f = fake_new(0, 0);
	sr_options o;
	opts_7d(&o);
	sr_search S;
	cp_err e = {0};
	CHECK(sr_prepare(&S, "7d", 7, &o, &s, f, "fake", &e) == 0, "prepare a 7d grid");
	/* last usable origin 493; held out 464..493; search ends at 464-7=457 */
	CHECK(S.hold_first == 464 && S.hold_last == 493, "30 held-out origins end at n - steps");
	CHECK(S.origin[S.W - 1] == 457 && S.origin[0] == 428, "search origins end `steps` before them");
	int ok = 1;
	for (int w = 0; w < S.W; w++)
		ok = ok && S.origin[w] + 7 <= S.hold_first;
	CHECK(ok, "no search target is a validation target");
	sr_release(&S);
	o.holdout = 0;
	o.stride = 5;
	sr_prepare(&S, "7d", 7, &o, &s, f, "fake", &e);
	/* the grid is t = 0 mod 5: the last point at or before 493 is 490 */
	CHECK(S.origin[S.W - 1] == 490 && S.origin[0] == 490 - 29 * 5 && S.hold_first == -1,
	      "holdout 0 and stride 5: origins on the grid anchored at the first observation");
	sr_release(&S);
	o.holdout = 30;
	o.stride = 1;
	o.windows = 200;
	CHECK(sr_prepare(&S, "7d", 7, &o, &s, f, "fake", &e) < 0 && e.code == CP_DATA &&
	      strcmp(e.msg, "synthetic.csv: not enough observations for 200 search windows of 7 "
	                    "steps with context 270 after 30 held-out origins: need 512, have 500") == 0,
	      "too short a series is CP_DATA with the figures");
	sr_release(&S);
	f->free(f);
	series_free(&s);
}

/* Run a search and return it (caller releases). */
static int run(sr_search *S, const sr_options *o, const series *s, forecaster *f, int jobs)
{
	cp_err e = {0};
	forecaster *rw = fake_new(0, 0);
	int rc = sr_prepare(S, "7d", 7, o, s, f, "fake", &e);
	if (rc == 0)
		rc = sr_execute(S, s, f, rw, jobs, -1, NULL, NULL, &e);
	rw->free(rw);
	if (rc < 0)
		printf("# %s\n", e.msg);
	return rc;
}

static int same_scores(const sr_search *a, const sr_search *b)
{
	if (a->ntrial != b->ntrial || a->W != b->W)
		return 0;
	size_t n = (size_t)a->ntrial * a->W;
	return memcmp(a->have, b->have, n) == 0 &&
	       memcmp(a->score, b->score, n * sizeof(mt_window)) == 0;
}

static void clear_seconds(sr_search *S)
{
	for (size_t i = 0; i < (size_t)S->ntrial * S->W; i++)
		S->score[i].seconds = 0;
	for (int w = 0; w < S->W; w++)
		S->rw[w].seconds = 0;
}

static void test_reuse(void)
{
	series s;
	make_series(&s, 500);
	sr_options o;
	opts_7d(&o);
	sr_search A, B, C;

	forecaster *f = fake_new(0, 0);
	CHECK(run(&A, &o, &s, f, 1) == 0, "grid runs");
	CHECK(fake_calls(f) == 9 && A.calls == 9 && A.indep_calls == 27,
	      "9 model calls (3 contexts x 3 temperatures) instead of 27");
	CHECK(A.sample_steps == 9LL * 200 * 7 * 30 && A.indep_sample_steps == 3LL * 3 * 350 * 7 * 30,
	      "sample-steps: 9 x 200 paths vs 9 x (50+100+200)");
	CHECK(((fake_state *)f->state)->sample_steps == A.sample_steps,
	      "the counted sample-steps are what the forecaster ran");
	f->free(f);

	o.reuse = 0;
	f = fake_new(0, 0);
	run(&B, &o, &s, f, 1);
	CHECK(fake_calls(f) == 27 && B.calls == 27 && B.sample_steps == B.indep_sample_steps,
	      "without reuse: 27 calls, costs equal the independent ones");
	clear_seconds(&A);
	clear_seconds(&B);
	CHECK(same_scores(&A, &B), "prefix scoring gives bit-identical scores to separate runs");
	f->free(f);
	sr_release(&B);

	o.reuse = 1;
	f = fake_new(0, 5); /* prefix property only up to step 5 < 7 */
	run(&B, &o, &s, f, 1);
	CHECK(fake_calls(f) == 27 && B.sample_steps == B.indep_sample_steps,
	      "past prefix_horizon each num_samples gets its own call");
	f->free(f);
	sr_release(&B);

	f = fake_new(180, 0); /* 270 is cut to 180 and shares 180's calls */
	run(&B, &o, &s, f, 1);
	CHECK(B.nwarn == 1 && strstr(B.warn[0], "context_length 270 is longer than the model's "
	                                        "max_context 180") != NULL,
	      "a context above max_context is warned about");
	CHECK(B.trial[26].eff_ctx == 180 && B.trial[26].cfg.context_length == 270,
	      "the effective context is recorded beside the requested one");
	CHECK(fake_calls(f) == 6, "configs with the same effective context share calls");
	f->free(f);
	sr_release(&B);

	o.batch = 7; /* 30 windows in batches of 7: 5 calls per group */
	f = fake_new(0, 0);
	run(&B, &o, &s, f, 1);
	CHECK(fake_calls(f) == 45 && B.indep_calls == 135, "batches of 7 windows: 45 calls vs 135");
	clear_seconds(&B);
	CHECK(same_scores(&A, &B), "batching does not change any score");
	f->free(f);
	sr_release(&B);
	o.batch = 0;

	f = fake_new(0, 0);
	run(&C, &o, &s, f, 2);
	clear_seconds(&C);
	CHECK(same_scores(&A, &C) && C.calls == A.calls && C.sample_steps == A.sample_steps,
	      "two worker processes give the same scores and costs");
	f->free(f);
	sr_release(&C);

	/* random */
	o.method = SR_RANDOM;
	o.trials = 5;
	f = fake_new(0, 0);
	run(&B, &o, &s, f, 1);
	int picks[5];
	sp_random_pick(27, 5, 42, picks);
	int ok = B.ntrial == 5;
	for (int i = 0; i < 5 && ok; i++)
		ok = B.trial[i].grid == picks[i];
	CHECK(ok, "random search tries the seeded picks");
	f->free(f);
	sr_release(&B);

	/* halving */
	o.method = SR_HALVING;
	f = fake_new(0, 0);
	run(&B, &o, &s, f, 1);
	int at[3] = {0}, wins[3] = {0};
	for (int t = 0; t < B.ntrial; t++) {
		int nw = 0;
		for (int w = 0; w < B.W; w++)
			nw += B.have[(size_t)t * B.W + w];
		at[B.rung_of[t]]++;
		wins[B.rung_of[t]] = nw;
	}
	CHECK(at[0] == 18 && at[1] == 6 && at[2] == 3, "halving: 18 stop at rung 0, 6 at 1, 3 reach 2");
	CHECK(wins[0] == 4 && wins[1] == 10 && wins[2] == 30, "on 4, 10 and 30 windows");
	/* survivors of rung 0 are the 9 best on the first 4 windows */
	clear_seconds(&A);
	ok = 1;
	for (int t = 0; t < 27; t++) {
		if (B.rung_of[t] != 0)
			continue;
		for (int u = 0; u < 27; u++)
			if (B.rung_of[u] >= 1) {
				/* u survived: u's RMSE on rung-0 windows <= t's */
				double su = 0, st = 0;
				for (int k = 0; k < 4; k++) {
					int w = B.order[k];
					su += B.score[(size_t)u * B.W + w].sse;
					st += B.score[(size_t)t * B.W + w].sse;
				}
				ok = ok && (su < st || (su == st && u < t));
			}
	}
	CHECK(ok, "every survivor of rung 0 beat every config that stopped there");
	/* expected calls: distinct (context, temperature) pairs among the
	 * configs of each rung */
	long want = 0;
	for (int r = 0; r < B.nrung; r++) {
		int seen[27] = {0};
		for (int t = 0; t < 27; t++)
			if (B.rung_of[t] >= r) {
				int key = (B.trial[t].grid / 9) * 3 + B.trial[t].grid % 3;
				want += !seen[key]++;
			}
	}
	CHECK(B.calls == want && fake_calls(f) == want && B.indep_calls == 27 + 9 + 3,
	      "halving shares calls within each rung (one per context and temperature)");
	f->free(f);
	sr_release(&B);
	sr_release(&A);
	series_free(&s);
}

static void test_roundtrip(void)
{
	series s;
	make_series(&s, 500);
	sr_options o;
	opts_7d(&o);
	o.seed = CP_SEED_MAX; /* the largest seed: 15 digits */
	forecaster *f = fake_new(180, 0), *rw = fake_new(0, 0);
	sr_search A, B;
	cp_err e = {0};
	sr_prepare(&A, "7d", 7, &o, &s, f, "fake", &e);
	cJSON *pj = sr_plan_json(&A);
	char *txt = cJSON_PrintUnformatted(pj);
	cJSON_Delete(pj);
	cJSON *p = cJSON_Parse(txt);
	CHECK(sr_plan_from_json(&B, p, &e) == 0, "plan JSON reads back");
	CHECK(B.seed == A.seed, "the largest seed survives the plan exactly");
	int ok = B.ntrial == A.ntrial && B.W == A.W && B.steps == 7 && B.nwarn == A.nwarn &&
	         memcmp(B.origin, A.origin, sizeof(int) * A.W) == 0 &&
	         memcmp(B.date, A.date, sizeof(int32_t) * A.W) == 0;
	for (int t = 0; t < A.ntrial && ok; t++)
		ok = B.trial[t].eff_ctx == A.trial[t].eff_ctx &&
		     B.trial[t].cfg.temperature == A.trial[t].cfg.temperature;
	CHECK(ok, "plan round trip keeps windows, trials and effective contexts");
	cJSON_Delete(p);
	free(txt);

	sr_unit *u;
	int n;
	sr_units(&A, 0, &u, &n);
	CHECK(n == 1 + 6, "one random-walk unit and 6 model units");
	sr_result r, r2;
	sr_unit u2;
	CHECK(sr_run_unit(&A, &u[1], &s, f, rw, &r, &e) == 0, "a unit runs");
	r.score[0].rmse = 0.1 + 0.2; /* needs 17 digits */
	r.score[1].mape = NAN;
	cJSON *tmp = sr_unit_json(&u[1]);
	cJSON *uj = cJSON_Parse(txt = cJSON_PrintUnformatted(tmp));
	free(txt);
	cJSON_Delete(tmp);
	tmp = sr_result_json(&r);
	cJSON *rj = cJSON_Parse(txt = cJSON_PrintUnformatted(tmp));
	free(txt);
	cJSON_Delete(tmp);
	CHECK(sr_unit_from_json(&B, uj, &u2, &e) == 0 && u2.ntr == u[1].ntr && u2.nwin == 30,
	      "unit JSON reads back");
	CHECK(sr_result_from_json(rj, &u2, &r2, &e) == 0, "result JSON reads back");
	ok = 1;
	for (int i = 0; i < r.ntr * r.nwin; i++) {
		mt_window a = r.score[i], b = r2.score[i];
		a.mape = isnan(a.mape) ? -1 : a.mape;
		b.mape = isnan(b.mape) ? -1 : b.mape;
		ok = ok && memcmp(&a, &b, sizeof(a)) == 0;
	}
	CHECK(ok, "every score survives the result JSON bit for bit (NaN as null)");
	CHECK(r2.calls == 1 && r2.sample_steps == r.sample_steps, "costs survive");
	cJSON_Delete(uj);
	cJSON_Delete(rj);
	free(u2.tr);
	free(u2.win);
	sr_result_release(&r);
	sr_result_release(&r2);
	sr_units_free(u, n);
	sr_release(&A);
	sr_release(&B);
	f->free(f);
	rw->free(rw);
	series_free(&s);
}

int main(void)
{
	test_space();
	test_random();
	test_halving();
	test_split();
	test_reuse();
	test_roundtrip();
	return tap_done();
}
