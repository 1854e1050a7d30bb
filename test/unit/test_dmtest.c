/* test_dmtest.c — lib/dmtest.c against testdata/golden/dm.json
 * (scripts/golden_dm.py: numpy/scipy). Tolerance 1e-6 (relative above 1,
 * absolute below); small p-values also to 1e-6 relative. */
#include "dmtest.h"
#include "tap.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

static double max_err;

static void near(double got, double want, double tol, const char *name)
{
	double err = fabs(got - want) / (fabs(want) > 1 ? fabs(want) : 1);
	if (err > max_err)
		max_err = err;
	CHECK_NEAR(got, want, tol, name);
}

static cJSON *load(void)
{
	const char *root = getenv("CHRONOPT_ROOT");
	char path[4096];
	snprintf(path, sizeof(path), "%s/testdata/golden/dm.json", root ? root : ".");
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, n = 0, got;
	do {
		cap = cap ? cap * 2 : 1 << 16;
		buf = realloc(buf, cap);
		got = fread(buf + n, 1, cap - n - 1, fp);
		n += got;
	} while (got > 0);
	fclose(fp);
	buf[n] = '\0';
	cJSON *j = cJSON_Parse(buf);
	free(buf);
	return j;
}

static double num(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k)->valuedouble;
}

static double *arr(const cJSON *o, const char *k, int *n)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, k);
	*n = cJSON_GetArraySize(a);
	double *v = malloc((size_t)*n * sizeof(*v));
	int i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, a) v[i++] = it->valuedouble;
	return v;
}

int main(void)
{
	cJSON *g = load();
	CHECK(g != NULL, "golden file testdata/golden/dm.json loads");
	if (!g)
		return tap_done();

	const cJSON *c;
	int ci = 0;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(g, "cases")) {
		char name[128];
		int n, nb;
		double *a = arr(c, "loss_a", &n), *b = arr(c, "loss_b", &nb);
		dm_result r;
		cp_err e = {0};
		int rc = dm_test(a, b, n, (int)num(c, "steps"), (int)num(c, "lags_in"), &r, &e);
		snprintf(name, sizeof(name), "case %d (n=%d steps=%d): runs", ci, n, (int)num(c, "steps"));
		CHECK(rc == 0, name);
		if (rc == 0) {
			snprintf(name, sizeof(name), "case %d: lags", ci);
			CHECK(r.lags == (int)num(c, "lags"), name);
			snprintf(name, sizeof(name), "case %d: kernel", ci);
			CHECK(strcmp(r.kernel, cJSON_GetObjectItemCaseSensitive(c, "kernel")->valuestring) == 0, name);
			snprintf(name, sizeof(name), "case %d: mean difference", ci);
			near(r.mean_diff, num(c, "mean_diff"), 1e-6, name);
			snprintf(name, sizeof(name), "case %d: long-run variance", ci);
			near(r.variance, num(c, "variance"), 1e-6, name);
			snprintf(name, sizeof(name), "case %d: DM statistic", ci);
			near(r.dm, num(c, "dm"), 1e-6, name);
			snprintf(name, sizeof(name), "case %d: HLN statistic", ci);
			near(r.stat, num(c, "stat"), 1e-6, name);
			snprintf(name, sizeof(name), "case %d: two-sided p-value", ci);
			near(r.p_value, num(c, "p_value"), 1e-6, name);
			snprintf(name, sizeof(name), "case %d: one-sided p-value", ci);
			near(r.p_less, num(c, "p_less"), 1e-6, name);
			snprintf(name, sizeof(name), "case %d: two-sided p-value, relative", ci);
			CHECK(fabs(r.p_value - num(c, "p_value")) <= 1e-6 * num(c, "p_value"), name);
		}
		free(a);
		free(b);
		ci++;
	}

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(g, "betainc")) {
		char name[128];
		snprintf(name, sizeof(name), "betainc(%g, %g, %g)", num(c, "a"), num(c, "b"), num(c, "x"));
		double got = dm_betainc(num(c, "a"), num(c, "b"), num(c, "x"));
		near(got, num(c, "I"), 1e-10, name);
	}
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(g, "t_cdf")) {
		char name[128];
		snprintf(name, sizeof(name), "t cdf(%g; df %g)", num(c, "t"), num(c, "df"));
		near(dm_t_cdf(num(c, "t"), num(c, "df")), num(c, "cdf"), 1e-10, name);
	}
	cJSON_Delete(g);

	/* edge cases */
	double a[5] = {1, 2, 3, 4, 5}, b[5] = {1, 2, 3, 4, 5}, b2[5] = {0, 1, 2, 3, 4};
	dm_result r;
	cp_err e = {0};
	CHECK(dm_test(a, b, 5, 1, 0, &r, &e) == 0 && r.stat == 0 && r.p_value == 1,
	      "identical losses: statistic 0, p-value 1");
	CHECK(dm_test(a, b2, 5, 1, 0, &r, &e) < 0 && e.code == CP_DATA &&
	      strstr(e.msg, "do not vary"), "constant non-zero difference is refused");
	CHECK(dm_test(a, b2, 2, 1, 0, &r, &e) < 0 && strstr(e.msg, "at least 3 windows"),
	      "two windows are refused");
	CHECK(dm_test(a, b2, 5, 7, 4, &r, &e) < 0 && strstr(e.msg, "5 windows are too few for 4 lags"),
	      "given lags >= windows - 1 are refused");
	double big_a[30], big_b[30];
	for (int i = 0; i < 30; i++) {
		big_a[i] = i % 3;
		big_b[i] = (i * 7) % 5;
	}
	CHECK(dm_test(big_a, big_b, 30, 15, 0, &r, &e) == 0 && r.lags == 14 &&
	      strcmp(r.lag_rule, "steps - 1") == 0, "lags default to steps - 1 when the windows allow it");
	for (int steps = 16; steps <= 1000; steps++)
		if (dm_test(big_a, big_b, 30, steps, 0, &r, &e) != 0 || r.lags != 15 ||
		    strcmp(r.kernel, "bartlett") != 0 || strcmp(r.lag_rule, "half the windows") != 0)
			break;
	CHECK(r.lags == 15 && dm_test(big_a, big_b, 30, 1000, 0, &r, &e) == 0,
	      "30 windows: every horizon from 16 to 1000 steps runs with 15 lags, Bartlett");
	int all = 1;
	for (int n = 3; n <= 30; n++)
		for (int steps = 1; steps <= 120; steps++)
			all &= dm_test(big_a, big_b, n, steps, 0, &r, &e) == 0 || strstr(e.msg, "do not vary");
	CHECK(all, "the lag rule is computable for every 3 <= windows <= 30 and horizon <= 120");
	CHECK(dm_lags(30, 7, 0) == 6 && dm_lags(30, 90, 0) == 15 && dm_lags(7, 90, 0) == 3 &&
	      dm_lags(30, 90, 4) == 4, "dm_lags: min(steps - 1, windows / 2), or as given");
	CHECK(isnan(dm_betainc(-1, 1, 0.5)) && isnan(dm_betainc(1, 1, 1.5)), "betainc rejects bad arguments");
	CHECK(dm_betainc(2, 3, 0) == 0 && dm_betainc(2, 3, 1) == 1, "betainc at the ends");
	printf("# max relative error vs golden: %.3g\n", max_err);
	return tap_done();
}
