/* test_backtest.c — origins layout, holdout, the not-enough-data message,
 * context cutting, batching, determinism, the prefix property, MASE scale
 * and the JSON view. Series are built in memory. */
#include "backtest.h"
#include "tap.h"

#include <math.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#define N 60

static series make_series(double *y, int32_t *day)
{
	for (int i = 0; i < N; i++) {
		y[i] = 100 + 5 * sin(i * 0.7) + 0.3 * i;
		day[i] = 19000 + i + 2 * (i / 5); /* weekdays-ish: gaps every 5 */
	}
	series s = {.path = "mem.csv", .id = "", .n = N, .day = day, .y = y};
	return s;
}

/* A fake forecaster that records what it was given. Paths: sample s, step
 * h = 1000*s + h + stream (so the median and every value are known). */
typedef struct {
	int calls, k, nwin_seen[64], nctx_seen[512];
	const double *ctx_seen[512];
	uint64_t stream_seen[512], seed_seen;
	int own_point, fail;
} fake_state;

static int fake_forecast(forecaster *f, const fc_config *cfg, int nwin,
                         const double *const *ctx, const int *nctx, int steps,
                         uint64_t seed, const uint64_t *stream,
                         double *paths, double *point, cp_err *e)
{
	fake_state *st = f->state;
	if (st->fail)
		return cp_fail(e, CP_DATA, "fake failure");
	st->nwin_seen[st->calls++] = nwin;
	st->seed_seen = seed;
	for (int w = 0; w < nwin; w++) {
		int k = st->k++;
		st->ctx_seen[k] = ctx[w];
		st->nctx_seen[k] = nctx[w];
		st->stream_seen[k] = stream[w];
		for (int s = 0; s < cfg->num_samples; s++)
			for (int h = 0; h < steps; h++)
				paths[((size_t)w * cfg->num_samples + s) * steps + h] =
					1000.0 * s + h + (double)stream[w];
		for (int h = 0; h < steps && point; h++)
			point[w * steps + h] = -1;
	}
	return st->own_point;
}

static void test_origins(void)
{
	double y[N];
	int32_t day[N];
	series s = make_series(y, day);
	cp_err e = {0};
	int *o = NULL;
	bt_plan p = {.count = 4, .stride = 2, .holdout = 1};
	CHECK(bt_origins(&s, 3, 10, &p, &o, &e) == 0, "origins: a plan that fits");
	/* n - steps = 57 is off the grid t = 0 mod 2: the last point is 56 */
	CHECK(o[0] == 48 && o[1] == 50 && o[2] == 52 && o[3] == 54,
	      "origins: oldest first, on the grid t = 0 mod stride, holdout skips the newest");
	free(o);
	bt_plan p0 = {.count = 3, .stride = 1, .holdout = 0};
	bt_origins(&s, 5, 10, &p0, &o, &e);
	CHECK(o[2] == N - 5 && o[1] == N - 6 && o[0] == N - 7,
	      "origins: the last origin forecasts the last observations");
	free(o);
	/* need = min_context + (n - 56) + stride*(holdout+count-1) = 48 + 4 + 8 */
	CHECK(bt_origins(&s, 3, 48, &p, &o, &e) == 0 && o[0] == 48,
	      "origins: the earliest origin may sit exactly at min_context");
	free(o);
	e.code = 0;
	CHECK(bt_origins(&s, 3, 49, &p, &o, &e) == -1 && e.code == CP_DATA && o == NULL,
	      "origins: one observation short is a data error");
	CHECK(!strcmp(e.msg, "mem.csv: not enough observations: need 61, have 60"),
	      "origins: the message names the file and both counts");
	bt_plan bad[] = {{0, 1, 0}, {1, 0, 0}, {1, 1, -1}};
	int ok = 1;
	for (int i = 0; i < 3; i++) {
		e.code = 0;
		ok &= bt_origins(&s, 3, 1, &bad[i], &o, &e) == -1 && e.code == CP_USAGE;
	}
	e.code = 0;
	ok &= bt_origins(&s, 0, 1, &p, &o, &e) == -1 && e.code == CP_USAGE;
	CHECK(ok, "origins: bad count, stride, holdout or steps are usage errors");
}

/* The grid does not move when observations are appended: every origin of
 * the shorter series that still fits the plan is an origin of the longer. */
static void test_origins_grid_stays(void)
{
	double y[N];
	int32_t day[N];
	series s = make_series(y, day);
	cp_err e = {0};
	int ok = 1, shared = 0;
	for (int stride = 1; stride <= 4; stride++)
		for (int grow = 1; grow <= 7; grow++) {
			bt_plan p = {.count = 6, .stride = stride, .holdout = 1};
			series a = s;
			a.n = N - grow;
			int *oa = NULL, *ob = NULL;
			ok &= bt_origins(&a, 3, 5, &p, &oa, &e) == 0 && bt_origins(&s, 3, 5, &p, &ob, &e) == 0;
			for (int i = 0; ok && i < p.count; i++) {
				ok &= oa[i] % stride == 0 && ob[i] % stride == 0;
				int in = 0;
				for (int j = 0; j < p.count; j++)
					in |= ob[j] == oa[i];
				/* an old origin is left out only when it fell off the start */
				ok &= in || oa[i] < ob[0];
				shared += in;
			}
			free(oa);
			free(ob);
		}
	CHECK(ok && shared > 0, "origins: appending observations keeps the grid; later runs share the windows");
}

/* Origins whose targets hold a missing value are passed over. */
static void test_origins_missing(void)
{
	double y[N];
	int32_t day[N];
	series s = make_series(y, day);
	y[54] = NAN;  /* targets of origins 52..54 (steps 3) */
	y[20] = NAN;  /* in the contexts of the origins used; the targets of 18..20 */
	cp_err e = {0};
	int *o = NULL, skipped = -1;
	bt_plan p = {.count = 4, .stride = 1, .holdout = 1};
	CHECK(bt_origins(&s, 3, 10, &p, &o, &e) == 0, "missing: a plan that fits");
	/* grid 57, 56, 55, 54(x), 53(x), 52(x), 51, ...: holdout takes 57 */
	CHECK(o[0] == 50 && o[1] == 51 && o[2] == 55 && o[3] == 56, "missing: origins with a missing target are passed over");
	free(o);
	CHECK(bt_origins_from(&s, 3, 10, 54, &p, &o, &skipped, &e) == 0 && skipped == 3 && o[3] == 50 && o[0] == 47,
	      "missing: counting back from a given origin, the skipped ones are counted");
	free(o);
	CHECK(bt_target_observed(&s, 55, 3) && !bt_target_observed(&s, 52, 3) && bt_target_observed(&s, 18, 2),
	      "missing: target check");
	bt_plan big = {.count = 46, .stride = 1, .holdout = 0};
	e.code = 0;
	CHECK(bt_origins(&s, 3, 10, &big, &o, &e) == -1 && e.code == CP_DATA &&
	      !strcmp(e.msg, "mem.csv: not enough observations: need 64, have 60 (6 origins passed over: a target value is missing)"),
	      "missing: too few usable origins names the ones passed over");
	double acc = 0;
	int k = 0;
	for (int i = 1; i < 40; i++)
		if (i != 20 && i != 21) {
			acc += fabs(y[i] - y[i - 1]);
			k++;
		}
	CHECK(k == 37, "missing: 37 differences with both ends observed");
	CHECK_NEAR(bt_mase_scale(&s, 40), acc / 37, 1e-12, "missing: the MASE scale skips differences touching NaN");
}

static void test_mase_scale(void)
{
	double y[N];
	int32_t day[N];
	series s = make_series(y, day);
	double acc = 0;
	for (int i = 1; i < 40; i++)
		acc += fabs(y[i] - y[i - 1]);
	CHECK_NEAR(bt_mase_scale(&s, 40), acc / 39, 1e-12, "mase scale: mean abs first difference");
	CHECK(bt_mase_scale(&s, 1) == 1.0 && bt_mase_scale(&s, 0) == 1.0,
	      "mase scale: 1 with no differences");
}

static void test_run_fake(void)
{
	double y[N];
	int32_t day[N];
	series s = make_series(y, day);
	cp_err e = {0};
	fake_state st = {0};
	forecaster f = {.name = "fake", .state = &st, .forecast = fake_forecast};
	int orig[] = {20, 30, 40, 50, 55};
	fc_config cfg = {.context_length = 25, .num_samples = 3, .temperature = 1, .top_p = 1};
	bt_result r;
	CHECK(bt_run(&f, &cfg, &s, orig, 5, 4, 77, 2, &r, &e) == 0, "run: fake forecaster");
	CHECK(st.calls == 3 && st.nwin_seen[0] == 2 && st.nwin_seen[1] == 2 && st.nwin_seen[2] == 1,
	      "run: windows batched 2, 2, 1");
	CHECK(st.seed_seen == 77 && st.stream_seen[0] == 20 && st.stream_seen[4] == 55,
	      "run: seed passed, stream = origin index");
	CHECK(st.nctx_seen[0] == 20 && st.ctx_seen[0] == y,
	      "run: a short history is used whole");
	CHECK(st.nctx_seen[1] == 25 && st.ctx_seen[1] == y + 5 && st.nctx_seen[4] == 25
	      && st.ctx_seen[4] == y + 30, "run: context = the last context_length observations");
	/* No own point: the median of {stream+h, 1000+stream+h, 2000+...} */
	double want = 0;
	for (int h = 0; h < 4; h++)
		want += (1000 + 55 + h) - y[55 + h];
	CHECK_NEAR(r.win[4].bias, want / 4, 1e-12, "run: without an own point the median is used");
	CHECK(r.win[0].origin == 20 && r.win[4].origin == 55 && r.nwin == 5 && r.steps == 4,
	      "run: windows oldest first with their origins");
	CHECK(r.win[0].seconds == r.win[1].seconds && r.win[0].seconds >= 0,
	      "run: a call's time is shared by its windows");
	bt_result_free(&r);

	st = (fake_state){.own_point = 1};
	cfg.context_length = 0;
	f.max_context = 12;
	bt_run(&f, &cfg, &s, orig, 5, 4, 77, 0, &r, &e);
	CHECK(st.calls == 1 && st.nwin_seen[0] == 5, "run: batch 0 puts every window in one call");
	CHECK(st.nctx_seen[0] == 12 && st.ctx_seen[0] == y + 8, "run: max_context caps the context");
	double ybar = (y[40] + y[41] + y[42] + y[43]) / 4;
	CHECK_NEAR(r.win[2].bias, -1 - ybar, 1e-12, "run: the model's own point is used when given");
	bt_result_free(&r);

	st = (fake_state){.fail = 1};
	e.code = 0;
	CHECK(bt_run(&f, &cfg, &s, orig, 5, 4, 77, 0, &r, &e) == -1 && e.code == CP_DATA
	      && !strcmp(e.msg, "fake failure") && r.win == NULL && r.nwin == 0,
	      "run: a forecaster error is passed on, result left empty");
	int badorig[] = {N - 3};
	e.code = 0;
	CHECK(bt_run(&f, &cfg, &s, badorig, 1, 4, 77, 0, &r, &e) == -1 && e.code == CP_INTERNAL,
	      "run: an origin without enough future is refused");
	cfg.num_samples = 0;
	e.code = 0;
	CHECK(bt_run(&f, &cfg, &s, orig, 5, 4, 77, 0, &r, &e) == -1 && e.code == CP_USAGE,
	      "run: num_samples 0 is a usage error");
}

typedef struct {
	int n, ns, steps;
	double paths[8][64 * 8];
	double actual[8][8];
} capture;

static int capture_cb(void *arg, int origin, const double *actual, const double *point,
                      const double *paths, int nsamples, int steps, cp_err *e)
{
	capture *c = arg;
	memcpy(c->paths[c->n], paths, (size_t)nsamples * steps * sizeof(double));
	memcpy(c->actual[c->n], actual, (size_t)steps * sizeof(double));
	c->ns = nsamples;
	c->steps = steps;
	c->n++;
	return point ? 0 : cp_fail(e, CP_INTERNAL, "no point");
}

static int same_numbers(const mt_window *a, const mt_window *b)
{
	/* every field but seconds, bit for bit; the padding after the int
	 * origin is never compared (it is uninitialised in copies) */
	mt_window x = *a, y = *b;
	x.seconds = y.seconds = 0;
	return x.origin == y.origin &&
	       !memcmp(&x.rmse, &y.rmse, sizeof(x) - offsetof(mt_window, rmse));
}

static void test_run_random_walk(void)
{
	double y[N];
	int32_t day[N];
	series s = make_series(y, day);
	cp_err e = {0};
	forecaster *f = baseline_new("random_walk", 0, &e);
	int orig[] = {30, 35, 40, 45, 50, 53};
	fc_config cfg = {.context_length = 20, .num_samples = 64, .temperature = 1, .top_p = 1};
	bt_result a, b, c;
	static capture ca, cb, cc;
	CHECK(bt_run_cb(f, &cfg, &s, orig, 6, 7, 5, 0, capture_cb, &ca, &a, &e) == 0,
	      "rw run: ok");
	bt_run_cb(f, &cfg, &s, orig, 6, 7, 5, 1, capture_cb, &cb, &b, &e);
	int ok = ca.n == 6 && cb.n == 6;
	for (int w = 0; w < 6; w++)
		ok &= same_numbers(&a.win[w], &b.win[w]);
	ok &= !memcmp(ca.paths, cb.paths, sizeof(ca.paths));
	CHECK(ok, "rw run: same seed, batch 1 or all, identical paths and scores");
	ok = same_numbers(&a.sum, &b.sum);
	CHECK(ok, "rw run: identical summaries");

	/* The first 10 of 64 paths equal a 10-path run. */
	fc_config c10 = cfg;
	c10.num_samples = 10;
	bt_run_cb(f, &c10, &s, orig, 6, 7, 5, 0, capture_cb, &cc, &c, &e);
	ok = 1;
	for (int w = 0; w < 6; w++)
		ok &= !memcmp(ca.paths[w], cc.paths[w], 10 * 7 * sizeof(double));
	CHECK(ok, "rw run: prefix property, first k of N paths = a k-path run");
	ok = 1;
	for (int w = 0; w < 6; w++)
		ok &= a.win[w].mae == c.win[w].mae && a.win[w].crps != c.win[w].crps;
	CHECK(ok, "rw run: point errors do not depend on the sample count");
	bt_result_free(&c);

	/* The scores are mt_score of what the forecaster produced. */
	ok = 1;
	for (int w = 0; w < 6; w++) {
		double point[7];
		for (int h = 0; h < 7; h++)
			point[h] = y[orig[w] - 1];
		mt_window m;
		mt_score(y + orig[w], point, ca.paths[w], 64, 7, bt_mase_scale(&s, orig[w]), &m);
		m.origin = orig[w];
		ok &= same_numbers(&m, &a.win[w]) && !memcmp(ca.actual[w], y + orig[w], 7 * sizeof(double));
	}
	CHECK(ok, "rw run: window scores = mt_score(actual, last value, paths)");

	bt_result d;
	bt_run(f, &cfg, &s, orig, 6, 7, 6, 0, &d, &e);
	CHECK(d.sum.crps != a.sum.crps && d.sum.rmse == a.sum.rmse,
	      "rw run: another seed changes the samples, not the point");
	bt_result_free(&d);

	/* JSON view. */
	cJSON *j = bt_result_json(&a, &s, 1);
	cJSON *ws = cJSON_GetObjectItem(j, "windows");
	cJSON *w5 = cJSON_GetArrayItem(ws, 5);
	char d0[11], d1[11];
	cp_format_date(day[52], d0);
	cp_format_date(day[59], d1);
	CHECK(cJSON_GetArraySize(ws) == 6 && cJSON_GetObjectItem(w5, "origin")->valuedouble == 53,
	      "json: one entry per window with its origin");
	CHECK(!strcmp(cJSON_GetObjectItem(w5, "origin_date")->valuestring, d0)
	      && !strcmp(cJSON_GetObjectItem(w5, "target_end_date")->valuestring, d1),
	      "json: origin_date = last context date, target_end_date = last target date");
	CHECK(cJSON_GetObjectItem(j, "rmse")->valuedouble == a.sum.rmse
	      && cJSON_GetObjectItem(j, "nwin")->valuedouble == 6
	      && cJSON_IsNumber(cJSON_GetObjectItem(j, "seconds")),
	      "json: summary fields at the top");
	cJSON_Delete(j);
	j = bt_result_json(&a, &s, 0);
	CHECK(!cJSON_GetObjectItem(j, "windows"), "json: windows only on request");
	cJSON_Delete(j);
	mt_summary nanm = a.sum;
	nanm.mase = NAN;
	nanm.crps = INFINITY;
	j = mt_summary_json(&nanm);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "mase")) && cJSON_IsNull(cJSON_GetObjectItem(j, "crps")),
	      "json: non-finite numbers are null");
	cJSON_Delete(j);

	bt_result_free(&a);
	bt_result_free(&b);
	f->free(f);
}

/* batch * num_samples * steps doubles beyond size_t: refused before any
 * allocation (here it wrapped to 0 bytes, then the forecaster wrote). */
static void test_run_too_large(void)
{
	int steps = 1 << 15, norig = 1 << 16;
	series s = {.path = "big.csv", .id = "", .n = steps + 1};
	s.y = calloc((size_t)s.n, sizeof(double));
	s.day = calloc((size_t)s.n, sizeof(int32_t));
	int *orig = malloc((size_t)norig * sizeof(int));
	for (int i = 0; i < norig; i++)
		orig[i] = 1;
	fake_state st = {.fail = 1};
	forecaster f = {.name = "fake", .state = &st, .forecast = fake_forecast};
	fc_config cfg = {.context_length = 1, .num_samples = 1 << 30, .temperature = 1};
	bt_result r;
	cp_err e = {0};
	CHECK(bt_run(&f, &cfg, &s, orig, norig, steps, 1, 0, &r, &e) == -1 && e.code == CP_USAGE &&
	      !strcmp(e.msg, "num_samples 1073741824 x steps 32768 x 65536 windows per batch "
	              "is too large") && st.calls == 0,
	      "paths beyond size_t are refused before any allocation or forecaster call");
	free(orig);
	free(s.y);
	free(s.day);
}

int main(void)
{
	test_origins_missing();
	test_run_too_large();
	test_origins();
	test_origins_grid_stays();
	test_mase_scale();
	test_run_fake();
	test_run_random_walk();
	return tap_done();
}
