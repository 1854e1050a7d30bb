/* test_drift.c — KS test against scipy golden values; PSI and severity
 * against hand-computed figures. */
#include "drift.h"
#include "tap.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#define TOL 1e-6

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		fclose(fp);
		return NULL;
	}
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* The generator described in scripts/golden_ks.py. */
static double *gen(const cJSON *g, int *n)
{
	uint64_t s = (uint64_t)cJSON_GetObjectItem(g, "seed")->valuedouble;
	*n = cJSON_GetObjectItem(g, "n")->valueint;
	double scale = cJSON_GetObjectItem(g, "scale")->valuedouble;
	double shift = cJSON_GetObjectItem(g, "shift")->valuedouble;
	double *x = malloc((size_t)*n * sizeof(double));
	for (int i = 0; i < *n; i++) {
		uint64_t tot = 0;
		for (int k = 0; k < 4; k++) {
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			tot += (s >> 33) % 1000;
		}
		x[i] = (double)tot * scale + shift;
	}
	return x;
}

static double *arr(const cJSON *a, int *n)
{
	*n = cJSON_GetArraySize(a);
	double *x = malloc((size_t)(*n ? *n : 1) * sizeof(double));
	for (int i = 0; i < *n; i++)
		x[i] = cJSON_GetArrayItem(a, i)->valuedouble;
	return x;
}

static double maxerr_d, maxerr_p;

static void golden(const cJSON *root)
{
	const cJSON *c;
	int ncase = 0, nexact = 0, nasym = 0;
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "ks_2samp")) {
		const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
		int na, nb;
		double *a = cJSON_GetObjectItem(c, "a") ? arr(cJSON_GetObjectItem(c, "a"), &na)
		                                        : gen(cJSON_GetObjectItem(c, "gen_a"), &na);
		double *b = cJSON_GetObjectItem(c, "b") ? arr(cJSON_GetObjectItem(c, "b"), &nb)
		                                        : gen(cJSON_GetObjectItem(c, "gen_b"), &nb);
		ks_result r;
		cp_err e = {0};
		int rc = ks_2samp(a, na, b, nb, &r, &e);
		double wd = cJSON_GetObjectItem(c, "statistic")->valuedouble;
		double wp = cJSON_GetObjectItem(c, "pvalue")->valuedouble;
		char label[200];
		snprintf(label, sizeof label, "ks_2samp %s: statistic", name);
		CHECK(rc == 0, "ks_2samp accepts the golden samples");
		CHECK_NEAR(r.d, wd, TOL, label);
		snprintf(label, sizeof label, "ks_2samp %s: p-value (%s)", name, r.exact ? "exact" : "asymptotic");
		CHECK_NEAR(r.p, wp, TOL, label);
		if (fabs(r.d - wd) > maxerr_d)
			maxerr_d = fabs(r.d - wd);
		if (fabs(r.p - wp) > maxerr_p)
			maxerr_p = fabs(r.p - wp);
		ncase++;
		if (r.exact)
			nexact++;
		else
			nasym++;
		free(a);
		free(b);
	}
	CHECK(ncase >= 20, "at least 20 golden ks_2samp cases");
	CHECK(nexact >= 5 && nasym >= 5, "golden cases cover both the exact and the asymptotic path");
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "kstwo_sf")) {
		int n = cJSON_GetObjectItem(c, "n")->valueint;
		double x = cJSON_GetObjectItem(c, "x")->valuedouble;
		char label[100];
		snprintf(label, sizeof label, "kstwo.sf(%g, %d)", x, n);
		CHECK_NEAR(ks_kstwo_sf(n, x), cJSON_GetObjectItem(c, "sf")->valuedouble, TOL, label);
	}
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "kolmogorov_sf")) {
		double x = cJSON_GetObjectItem(c, "x")->valuedouble;
		char label[100];
		snprintf(label, sizeof label, "kolmogorov(%g)", x);
		CHECK_NEAR(ks_kolmogorov_sf(x), cJSON_GetObjectItem(c, "sf")->valuedouble, TOL, label);
	}
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "smirnov")) {
		int n = cJSON_GetObjectItem(c, "n")->valueint;
		double x = cJSON_GetObjectItem(c, "x")->valuedouble;
		char label[100];
		snprintf(label, sizeof label, "smirnov(%d, %g)", n, x);
		CHECK_NEAR(ks_smirnov(n, x), cJSON_GetObjectItem(c, "sf")->valuedouble, TOL, label);
	}
}

int main(void)
{
	const char *root = getenv("CHRONOPT_ROOT");
	char path[4096];
	snprintf(path, sizeof path, "%s/testdata/golden/ks_2samp.json", root ? root : ".");
	char *text = slurp(path);
	CHECK(text != NULL, "golden file testdata/golden/ks_2samp.json is readable");
	cJSON *j = text ? cJSON_Parse(text) : NULL;
	CHECK(j != NULL, "golden file parses");
	if (j)
		golden(j);
	printf("# max |error| vs scipy: statistic %.3g, p-value %.3g\n", maxerr_d, maxerr_p);
	cJSON_Delete(j);
	free(text);

	/* symmetric in its arguments */
	double a[] = {0.1, 0.4, 0.35, 0.8, 0.9, 0.15, 0.5};
	double b[] = {0.6, 1.2, 0.95, 1.5, 0.7, 0.2};
	ks_result r1, r2;
	cp_err e = {0};
	ks_2samp(a, 7, b, 6, &r1, &e);
	ks_2samp(b, 6, a, 7, &r2, &e);
	CHECK(r1.d == r2.d && fabs(r1.p - r2.p) < 1e-15, "KS is symmetric in its samples");
	CHECK(ks_2samp(a, 0, b, 6, &r1, &e) < 0 && e.code == CP_DATA, "an empty sample is a data error");
	double bad[] = {1.0, NAN};
	CHECK(ks_2samp(a, 7, bad, 2, &r1, &e) < 0 && strstr(e.msg, "non-finite"), "NaN is rejected");

	/* PSI by hand: base 1..10 with 2 bins -> edge at the median 5.5;
	 * recent {1,2,3,20}: shares base (0.5,0.5), recent (0.75,0.25);
	 * PSI = 0.25 ln 1.5 + (-0.25) ln 0.5 */
	double base[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, rec[4] = {1, 2, 3, 20};
	double psi;
	int nbin;
	CHECK(drift_psi(base, 10, rec, 4, 2, 1e-4, &psi, &nbin, &e) == 0 && nbin == 2, "PSI with 2 bins");
	CHECK_NEAR(psi, 0.25 * log(1.5) - 0.25 * log(0.5), 1e-12, "PSI equals the hand value");
	/* an empty recent bin uses eps: base (0.5,0.5), recent (1, eps) */
	double rec2[3] = {1, 2, 5.5};
	drift_psi(base, 10, rec2, 3, 2, 1e-4, &psi, &nbin, &e);
	CHECK_NEAR(psi, (1 - 0.5) * log(1 / 0.5) + (1e-4 - 0.5) * log(1e-4 / 0.5), 1e-12,
	           "an empty bin counts as eps; a value on an edge falls in the lower bin");
	CHECK(drift_psi(base, 10, base, 10, 10, 1e-4, &psi, &nbin, &e) == 0 && psi == 0.0 && nbin == 10,
	      "PSI of a sample against itself is 0 with 10 bins");
	double flat[6] = {2, 2, 2, 2, 2, 3};
	CHECK(drift_psi(flat, 6, rec, 4, 10, 1e-4, &psi, &nbin, &e) == 0 && nbin == 3, /* edges 2, 2.5 */
	      "duplicate quantile edges are merged");
	CHECK(drift_psi(base, 10, rec, 4, 1, 1e-4, &psi, &nbin, &e) < 0, "one bin is refused");
	CHECK(drift_psi(base, 10, rec, 4, 10, 0, &psi, &nbin, &e) < 0, "eps 0 is refused");

	drift_rule dr;
	drift_rule_default(&dr);
	CHECK(drift_rule_check(&dr, &e) == 0, "default rule is consistent");
	CHECK(drift_grade(&dr, 0.40, 0.0009) == DRIFT_HIGH, "p<0.001 and D>=0.35 is HIGH");
	CHECK(drift_grade(&dr, 0.30, 0.0009) == DRIFT_MEDIUM, "p<0.001 but D<0.35 is MEDIUM");
	CHECK(drift_grade(&dr, 0.30, 0.03) == DRIFT_MEDIUM, "p<0.05 and D>=0.25 is MEDIUM");
	CHECK(drift_grade(&dr, 0.05, 0.03) == DRIFT_LOW, "significant but small D is LOW");
	CHECK(drift_grade(&dr, 0.30, 0.07) == DRIFT_LOW, "p<0.10 is LOW");
	CHECK(drift_grade(&dr, 0.30, 0.10) == DRIFT_NONE, "p=0.10 is NONE");
	CHECK(drift_grade(&dr, 27.0 / 90.0, 0.0308) == DRIFT_MEDIUM, "D exactly on a lattice point grades");
	drift_severity s;
	CHECK(drift_severity_parse("medium", &s) == 0 && s == DRIFT_MEDIUM, "severity names parse");
	CHECK(drift_severity_parse("huge", &s) < 0, "unknown severity name is refused");
	dr.p_high = 0.2;
	CHECK(drift_rule_check(&dr, &e) < 0 && e.code == CP_USAGE, "inconsistent cut-offs are refused");
	return tap_done();
}
