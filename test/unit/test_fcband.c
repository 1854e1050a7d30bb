/* test_fcband.c — the forecast at the horizon and its bands, against
 * quantiles worked out by hand. */
#include "fcband.h"
#include "tap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A series of n days from 2026-01-01 (day numbers only matter for dates). */
static void make_series(series *s, int n)
{
	memset(s, 0, sizeof(*s));
	s->n = n;
	s->day = calloc((size_t)n, sizeof(int32_t));
	s->y = calloc((size_t)n, sizeof(double));
	int32_t d0;
	cp_parse_date("2026-01-01", &d0);
	for (int i = 0; i < n; i++) {
		s->day[i] = d0 + i;
		s->y[i] = 100 + i;
	}
}

static void test_samples(void)
{
	series s;
	make_series(&s, 40);
	fc_bands b;
	fc_bands_init(&b, &s, NULL);
	/* 101 sample paths of 3 steps; at the last step the values 200..0 (so
	 * the sort matters): quantile q of 0..100 is 100q exactly */
	int ns = 101, steps = 3;
	double *paths = malloc((size_t)ns * steps * sizeof(double));
	for (int k = 0; k < ns; k++)
		for (int h = 0; h < steps; h++)
			paths[k * steps + h] = h == steps - 1 ? (double)(100 - k) : -1.0;
	double actual[3] = {1, 2, 42};
	cp_err e = {0};
	CHECK(fc_bands_collect(&b, 10, actual, NULL, paths, ns, steps, &e) == 0, "a window is collected");
	CHECK(b.n == 1, "one band");
	CHECK_NEAR(b.band[0].median, 50, 1e-12, "median of the last step's samples");
	CHECK_NEAR(b.band[0].lo80, 10, 1e-12, "q0.10");
	CHECK_NEAR(b.band[0].hi80, 90, 1e-12, "q0.90");
	CHECK_NEAR(b.band[0].lo95, 2.5, 1e-12, "q0.025 interpolated");
	CHECK_NEAR(b.band[0].hi95, 97.5, 1e-12, "q0.975 interpolated");
	CHECK_NEAR(b.band[0].actual, 42, 0, "the actual at the last step");
	double point[3] = {0, 0, 55};
	fc_bands_collect(&b, 11, actual, point, paths, ns, steps, &e);
	CHECK_NEAR(b.band[1].median, 55, 0, "the model's own point forecast when it gives one");
	cJSON *j = fc_bands_json(&b, 1);
	char *t = cJSON_PrintUnformatted(j);
	/* origin 11: last context observation day 10 = 2026-01-11, target
	 * y[11 + 3 - 1] = day 13 = 2026-01-14 */
	CHECK(t && !strcmp(t, "[{\"origin_date\":\"2026-01-11\",\"target_date\":\"2026-01-14\",\"actual\":42,"
	                     "\"median\":55,\"lo80\":10,\"hi80\":90,\"lo95\":2.5,\"hi95\":97.5}]"),
	      "the last band as JSON with its dates");
	free(t);
	cJSON_Delete(j);
	j = fc_bands_json(&b, 0);
	CHECK(cJSON_GetArraySize(j) == 2, "all bands when last is 0");
	cJSON_Delete(j);
	fc_bands_release(&b);
	free(paths);
	series_free(&s);
}

static void test_quantiles(void)
{
	series s;
	make_series(&s, 40);
	static const double lv[9] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
	fc_bands b;
	fc_bands_init(&b, &s, lv);
	int steps = 2;
	double q[18];
	for (int j = 0; j < 9; j++) {
		q[j * steps] = -1;
		q[j * steps + 1] = 10.0 * (j + 1);
	}
	double actual[2] = {0, 33};
	cp_err e = {0};
	fc_bands_collect(&b, 5, actual, NULL, q, 9, steps, &e);
	CHECK_NEAR(b.band[0].median, 50, 0, "the 0.5 level is the median");
	CHECK_NEAR(b.band[0].lo80, 10, 0, "the 0.1 level");
	CHECK_NEAR(b.band[0].hi80, 90, 0, "the 0.9 level");
	CHECK(isnan(b.band[0].lo95) && isnan(b.band[0].hi95), "no 0.025/0.975 level: no 95 % band, never extrapolated");
	cJSON *j = fc_bands_json(&b, 0);
	char *t = cJSON_PrintUnformatted(j);
	CHECK(t && strstr(t, "\"lo95\":null,\"hi95\":null"), "a missing band is null in JSON");
	free(t);
	cJSON_Delete(j);
	fc_bands_release(&b);
	series_free(&s);
}

int main(void)
{
	test_samples();
	test_quantiles();
	return tap_done();
}
