/* test_ensemble.c — greedy ensemble selection against a naive reference,
 * the "never worse than its best member" property, the JSON form of an
 * ensemble (one home, fc_config.c) and the ensemble forecaster's
 * combination (weighted point, mixture rows) against its members run
 * alone. */
#include "ensemble.h"
#include "jsonutil.h"
#include "prng.h"
#include "tap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------- naive reference */

/* RMSE of sum_i c_i p_i / k, written the obvious way (one division). */
static double naive_rmse(double **p, const int *c, int m, const double *y, int n)
{
	int k = 0;
	for (int i = 0; i < m; i++)
		k += c[i];
	double s = 0;
	for (int x = 0; x < n; x++) {
		double f = 0;
		for (int i = 0; i < m; i++)
			f += c[i] * p[i][x];
		f /= k;
		s += (f - y[x]) * (f - y[x]);
	}
	return sqrt(s / n);
}

/* Caruana's greedy with replacement, from the empty ensemble. */
static int naive_select(double **p, int m, const double *y, int n, int size, int *c, double *best)
{
	memset(c, 0, (size_t)m * sizeof(int));
	double cur = INFINITY;
	int k = 0;
	while (k < size) {
		int pick = -1;
		double pr = INFINITY;
		for (int i = 0; i < m; i++) {
			c[i]++;
			double r = naive_rmse(p, c, m, y, n);
			c[i]--;
			if (r < pr)
				pick = i, pr = r;
		}
		if (!(pr < cur))
			break;
		c[pick]++;
		k++;
		cur = pr;
	}
	*best = cur;
	return k;
}

static void test_select(void)
{
	int agree = 1, never_worse = 1, rmse_ok = 1;
	for (int seed = 1; seed <= 40; seed++) {
		prng g;
		prng_init(&g, (uint64_t)seed, 0, 0);
		int m = 2 + seed % 7, nwin = 3 + seed % 5, steps = 1 + seed % 4, n = nwin * steps;
		double *y = malloc(sizeof(double) * (size_t)n);
		double **p = malloc(sizeof(double *) * (size_t)m);
		for (int x = 0; x < n; x++)
			y[x] = 100 + 5 * prng_normal(&g);
		for (int i = 0; i < m; i++) {
			p[i] = malloc(sizeof(double) * (size_t)n);
			double bias = 3 * prng_normal(&g);
			for (int x = 0; x < n; x++)
				p[i][x] = y[x] + bias + (1 + i % 3) * prng_normal(&g);
		}
		int *c = malloc(sizeof(int) * (size_t)m), *cr = malloc(sizeof(int) * (size_t)m);
		double r, rr;
		int size = 1 + seed % 12;
		int k = en_select((const double *const *)p, m, y, nwin, steps, size, c, &r);
		int kr = naive_select(p, m, y, n, size, cr, &rr);
		agree &= k == kr && memcmp(c, cr, (size_t)m * sizeof(int)) == 0;
		rmse_ok &= fabs(r - rr) <= 1e-12 * rr;
		/* never worse than its best member, exactly, by its own arithmetic */
		double *w = calloc((size_t)m, sizeof(double));
		for (int i = 0; i < m; i++) {
			memset(w, 0, sizeof(double) * (size_t)m);
			w[i] = 1;
			never_worse &= r <= en_rmse((const double *const *)p, w, m, y, nwin, steps);
		}
		/* and the weights it states give the RMSE it states */
		en_weights(c, m, w);
		never_worse &= en_rmse((const double *const *)p, w, m, y, nwin, steps) == r;
		for (int i = 0; i < m; i++)
			free(p[i]);
		free(p), free(y), free(c), free(cr), free(w);
	}
	CHECK(agree, "greedy selection picks what the naive reference picks (40 random libraries)");
	CHECK(rmse_ok, "its RMSE is the reference's within 1e-12");
	CHECK(never_worse, "never worse than its best member; the stated weights give the stated RMSE");
}

static void test_select_edges(void)
{
	/* two members with opposite biases: the mean of the two is exact */
	double y[4] = {10, 11, 12, 13}, a[4] = {11, 12, 13, 14}, b[4] = {9, 10, 11, 12};
	const double *p[3] = {a, b, a};
	int c[3];
	double r;
	int k = en_select(p, 3, y, 2, 2, 10, c, &r);
	CHECK(k == 2 && c[0] == 1 && c[1] == 1 && c[2] == 0 && r == 0,
	      "opposite biases: one pick each, RMSE 0; a duplicate candidate is never preferred to the first");
	k = en_select(p, 3, y, 2, 2, 1, c, &r);
	CHECK(k == 1 && c[0] == 1 && r == 1, "size 1 is the best member alone (ties to the lower index)");
	double one[4] = {10, 11, 12, 13.5};
	const double *q[2] = {a, one};
	k = en_select(q, 2, y, 1, 4, 5, c, &r);
	CHECK(k == 1 && c[1] == 1 && c[0] == 0, "no addition helps: the best member alone, one pick");
	double out[4], w1[2] = {0, 1};
	en_combine(q, w1, 2, 4, out);
	CHECK(memcmp(out, one, sizeof(out)) == 0, "weight 1 gives the member's values bit for bit");
}

/* ---------------------------------------------------- JSON form */

static int parse_err(const char *txt, char *msg, size_t n)
{
	cJSON *j = cJSON_Parse(txt);
	fc_ensemble en;
	cp_err e = {0};
	int rc = fc_ensemble_from_json(cJSON_GetObjectItemCaseSensitive(j, "ensemble"), "f.json", &en, &e);
	if (rc == 0)
		fc_ensemble_release(&en);
	snprintf(msg, n, "%s", e.msg);
	cJSON_Delete(j);
	return rc < 0 ? e.code : 0;
}

#define CFG "\"config\":{\"context_length\":30,\"num_samples\":10}"
static void test_json(void)
{
	char m[1024];
	CHECK(parse_err("{\"ensemble\":[]}", m, sizeof m) == CP_DATA &&
	      !strcmp(m, "f.json: 'ensemble' must list 1 to 64 members, not 0"), "an empty list is refused");
	CHECK(parse_err("{\"ensemble\":[{\"weight\":-0.5,\"model\":{\"dir\":\"drift\"}," CFG "},"
	                "{\"weight\":1.5,\"model\":{\"dir\":\"drift\"}," CFG "}]}", m, sizeof m) == CP_DATA &&
	      !strcmp(m, "f.json: ensemble member 1: 'weight' must be a number in (0, 1]"),
	      "a negative weight is refused, naming the member");
	CHECK(parse_err("{\"ensemble\":[{\"weight\":0.5,\"model\":{\"dir\":\"drift\"}," CFG "},"
	                "{\"weight\":0.6,\"model\":{\"dir\":\"random_walk\"}," CFG "}]}", m, sizeof m) == CP_DATA &&
	      strstr(m, "the ensemble's weights sum to 1.1"), "weights that do not sum to 1 are refused");
	CHECK(parse_err("{\"ensemble\":[{\"weight\":1,\"ensemble\":[],\"model\":{\"dir\":\"drift\"}," CFG "}]}",
	                m, sizeof m) == CP_DATA && strstr(m, "ensembles do not nest"), "a nested ensemble is refused");
	CHECK(parse_err("{\"ensemble\":[{\"weight\":1,\"model\":{\"dir\":\"drift\"}}]}", m, sizeof m) == CP_DATA &&
	      strstr(m, "member 1: config is not a JSON object"), "a member without config is refused");
	CHECK(parse_err("{\"ensemble\":[{\"weight\":1,\"model\":{\"dir\":\"drift\"},"
	                "\"config\":{\"context_length\":0,\"num_samples\":10}}]}", m, sizeof m) == CP_DATA &&
	      strstr(m, "member 1: 'context_length'"), "a member setting outside its domain is refused");

	/* round trip, exact */
	fc_ensemble en = {2, calloc(2, sizeof(fc_member))};
	en.m[0] = (fc_member){1.0 / 3, strdup("random_walk"), "", {40, 7, 1.0, 0, 1.0}};
	en.m[1] = (fc_member){2.0 / 3, strdup("drift"), "", {25, 9, 0.7, 5, 0.9}};
	cJSON *o = cJSON_CreateObject();
	fc_ensemble_add_json(o, &en);
	char *txt = cp_json_print(o, 0);
	cJSON *back = cJSON_Parse(txt);
	fc_ensemble en2;
	cp_err e = {0};
	int rc = fc_ensemble_from_json(cJSON_GetObjectItemCaseSensitive(back, "ensemble"), "x", &en2, &e);
	CHECK(rc == 0 && en2.n == 2 && en2.m[0].weight == 1.0 / 3 && en2.m[1].weight == 2.0 / 3 &&
	      !strcmp(en2.m[1].model, "drift") && en2.m[1].cfg.temperature == 0.7 && en2.m[1].cfg.top_k == 5,
	      "fc_ensemble_add_json reads back bit for bit");
	fc_config call;
	fc_ensemble_call(&en, &call);
	CHECK(call.context_length == 40 && call.num_samples == 9 && call.temperature == 1.0,
	      "the call: the longest context, the most samples");
	if (rc == 0)
		fc_ensemble_release(&en2);

	/* the forecaster: weighted point and mixture rows against the members alone */
	en.m[0].weight = 0.25, en.m[1].weight = 0.75;
	forecaster *f = ensemble_open(&en, "x", &e);
	double y[60];
	for (int i = 0; i < 60; i++)
		y[i] = 50 + 3 * sin(i * 0.4) + 0.1 * i;
	const double *ctx[1] = {y + 20};
	int nctx[1] = {40}, steps = 5, N = 8;
	uint64_t stream[1] = {60};
	fc_config c8 = call;
	c8.num_samples = N;
	double paths[8 * 5], point[5], mp0[5], mp1[5];
	double *mp[2] = {mp0, mp1};
	int frc = f ? ensemble_forecast(f, &c8, 1, ctx, nctx, steps, 42, stream, paths, point, mp, &e) : -1;
	forecaster *rw = baseline_new("random_walk", 1, &e), *dr = baseline_new("drift", 1, &e);
	double rp[7 * 5], rpt[5], dp[9 * 5], dpt[5];
	const double *c0[1] = {y + 20}, *c1[1] = {y + 35};
	int n0[1] = {40}, n1[1] = {25};
	rw->forecast(rw, &en.m[0].cfg, 1, c0, n0, steps, 42, stream, rp, rpt, &e);
	dr->forecast(dr, &en.m[1].cfg, 1, c1, n1, steps, 42, stream, dp, dpt, &e);
	int ok = frc == 1;
	for (int h = 0; h < steps; h++)
		ok &= mp0[h] == rpt[h] && mp1[h] == dpt[h] && point[h] == 0.25 * rpt[h] + 0.75 * dpt[h];
	CHECK(ok, "ensemble point = 0.25 random_walk + 0.75 drift, each member on its own context");
	/* rows: 0.25*8 = 2 from random_walk (its paths 0, 1), 6 from drift (0..5) */
	ok = memcmp(paths, rp, sizeof(double) * 2 * 5) == 0 &&
	     memcmp(paths + 2 * 5, dp, sizeof(double) * 6 * 5) == 0;
	CHECK(ok, "mixture rows: 2 random_walk paths, then 6 drift paths");
	if (f)
		f->free(f);
	rw->free(rw), dr->free(dr);

	/* a quantile model or an unknown member is refused at open */
	free(en.m[1].model);
	en.m[1].model = strdup("no_such_model");
	f = ensemble_open(&en, "f.json", &e);
	CHECK(!f && e.code == CP_DATA && strstr(e.msg, "f.json: ensemble member 2: unknown model 'no_such_model'"),
	      "an unknown member model is bad input naming the file and the member");
	fc_ensemble_release(&en);
	free(txt);
	cJSON_Delete(o);
	cJSON_Delete(back);
}

int main(void)
{
	test_select();
	test_select_edges();
	test_json();
	return tap_done();
}
