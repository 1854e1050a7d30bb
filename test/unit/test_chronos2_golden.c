/* test_chronos2_golden.c — the C Chronos-2 against the PyTorch reference's
 * golden files (testdata/chronos2/<model>/golden.json, written by
 * scripts/chronos2_reference.py).  For every case: the first forward pass
 * (all of its output patches), the pipeline's quantiles over the whole
 * horizon (with the long-horizon roll-out when the horizon is longer than
 * max_output_patches patches), and quantiles at requested levels, each
 * within 1e-4 relative (absolute below magnitude 1), placing the series as
 * the reference's left-padded batch does.  Then the same with series
 * aligned per group only (rounding differs, the tolerance does not), and
 * one model through the naive matmul twin. */
#include "tap.h"
#include "chronos2.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOL 1e-4

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	*len = fread(b, 1, (size_t)n, f);
	b[*len] = 0;
	fclose(f);
	return b;
}

/* A JSON array of numbers / nulls as a new float array (null = NaN). */
static float *floats(const cJSON *a, int *n)
{
	int k = cJSON_GetArraySize(a), i = 0;
	float *v = malloc(sizeof(float) * (size_t)(k ? k : 1));
	const cJSON *it;
	cJSON_ArrayForEach(it, a)
		v[i++] = cJSON_IsNumber(it) ? (float)it->valuedouble : NAN;
	*n = k;
	return v;
}

/* Worst error of got[i][q][h] (rows of len) against a JSON [series][q][h],
 * relative to max(|want|, 1), beyond the tolerance of its step: TOL plus
 * allow[series][h] when allow (a JSON array) is given.  Returns the worst
 * err - allowance + TOL (so <= TOL passes); *raw gets the worst plain error
 * and *used the number of steps that needed an allowance above TOL. */
static double worst(const float *got, const cJSON *want, const cJSON *allow, int nq, int len,
                    double *raw, int *used)
{
	double mx = 0, rmx = 0;
	int i = 0, n_used = 0;
	const cJSON *ser;
	cJSON_ArrayForEach(ser, want) {
		const cJSON *al = allow ? cJSON_GetArrayItem(allow, i) : NULL;
		if (cJSON_GetArraySize(ser) != nq)
			return INFINITY;
		for (int h = 0; h < len; h++) {
			double step = 0;
			for (int q = 0; q < nq; q++) {
				const cJSON *v = cJSON_GetArrayItem(cJSON_GetArrayItem(ser, q), h);
				if (!cJSON_IsNumber(v))
					return INFINITY;
				double w = (float)v->valuedouble, g = got[((size_t)i * nq + q) * len + h];
				double d = fabs(g - w) / (fabs(w) > 1 ? fabs(w) : 1);
				if (isnan(d))
					return INFINITY;
				step = d > step ? d : step;
			}
			double a = al ? cJSON_GetArrayItem(al, h)->valuedouble : 0;
			rmx = step > rmx ? step : rmx;
			if (step > TOL)
				n_used++;
			double over = step - a;
			mx = over > mx ? over : mx;
		}
		i++;
	}
	if (raw)
		*raw = rmx;
	if (used)
		*used = n_used;
	return mx;
}

static void run_model(const char *name, int align_all, int naive)
{
	char path[256], msg[1400];
	snprintf(path, sizeof(path), "testdata/chronos2/%s", name);
	cp_err e = {0};
	chronos2_model *m = chronos2_load(path, &e);
	snprintf(msg, sizeof(msg), "%s: loads (%s)", name, m ? "ok" : e.msg);
	CHECK(m != NULL, msg);
	if (!m)
		return;
	if (naive)
		m->gemm = mm_gemm_naive;
	snprintf(path, sizeof(path), "testdata/chronos2/%s/golden.json", name);
	size_t len;
	char *txt = slurp(path, &len);
	cJSON *g = txt ? cJSON_Parse(txt) : NULL;
	CHECK(g != NULL, "golden.json parses");
	const cJSON *cs = cJSON_GetObjectItem(g, "cases"), *c;
	int nq = m->c.num_quantiles, p = m->c.patch_size;
	const char *how = naive ? "naive matmul" : align_all ? "batch-aligned" : "group-aligned";
	cJSON_ArrayForEach(c, cs) {
		const char *cname = cJSON_GetObjectItem(c, "name")->valuestring;
		int H = cJSON_GetObjectItem(c, "horizon")->valueint;
		int n1 = cJSON_GetObjectItem(c, "forward_patches")->valueint;
		const cJSON *ser = cJSON_GetObjectItem(c, "series"), *grp = cJSON_GetObjectItem(c, "groups");
		const cJSON *fut = cJSON_GetObjectItem(c, "futures");
		int ns = cJSON_GetArraySize(ser);
		c2_series *s = calloc((size_t)ns, sizeof(c2_series));
		for (int i = 0; i < ns; i++) {
			s[i].ctx = floats(cJSON_GetArrayItem(ser, i), &s[i].n);
			s[i].group = cJSON_GetArrayItem(grp, i)->valueint;
			const cJSON *f = cJSON_IsArray(fut) ? cJSON_GetArrayItem(fut, i) : NULL;
			if (cJSON_IsArray(f))
				s[i].future = floats(f, &s[i].nfuture);
		}
		float *fw = malloc(sizeof(float) * (size_t)ns * nq * n1 * p);
		int rc = chronos2_forward(m, ns, s, n1, align_all, fw, &e);
		double raw = 0;
		int used = 0;
		double err = rc == 0 ? worst(fw, cJSON_GetObjectItem(c, "forward"), NULL, nq, n1 * p, NULL, NULL) : INFINITY;
		snprintf(msg, sizeof(msg), "%s/%s (%s): forward pass, %d patch(es), within 1e-4 (worst %.2g)",
		         name, cname, how, n1, err);
		CHECK(err <= TOL, msg);
		float *q = malloc(sizeof(float) * (size_t)ns * nq * H);
		c2_predict_opts o = {.align_all = align_all};
		rc = chronos2_predict(m, ns, s, H, &o, q, &e);
		err = rc == 0 ? worst(q, cJSON_GetObjectItem(c, "quantiles"), cJSON_GetObjectItem(c, "tie_allowance"),
		                      nq, H, &raw, &used) : INFINITY;
		snprintf(msg, sizeof(msg), "%s/%s (%s): quantiles over %d steps%s within 1e-4 (worst %.2g; %d "
		         "step(s) beyond 1e-4 within their tie allowance)", name, cname, how, H,
		         H > m->c.max_output_patches * p ? " (rolled out)" : "", raw, used);
		CHECK(err <= TOL, msg);
		const cJSON *lv = cJSON_GetObjectItem(c, "levels");
		if (rc == 0 && cJSON_IsArray(lv)) {
			int nl = cJSON_GetArraySize(lv);
			double *levels = malloc(sizeof(double) * (size_t)nl);
			for (int a = 0; a < nl; a++)
				levels[a] = cJSON_GetArrayItem(lv, a)->valuedouble;
			float *at = malloc(sizeof(float) * (size_t)ns * nl * H);
			for (int i = 0; i < ns; i++)
				chronos2_quantiles_at(m, levels, nl, q + (size_t)i * nq * H, H, at + (size_t)i * nl * H);
			err = worst(at, cJSON_GetObjectItem(c, "at_levels"), cJSON_GetObjectItem(c, "tie_allowance"),
			            nl, H, &raw, NULL);
			snprintf(msg, sizeof(msg), "%s/%s (%s): %d requested levels within 1e-4 (worst %.2g)",
			         name, cname, how, nl, raw);
			CHECK(err <= TOL, msg);
			free(at);
			free(levels);
		}
		for (int i = 0; i < ns; i++) {
			free((void *)s[i].ctx);
			free((void *)s[i].future);
		}
		free(s), free(fw), free(q);
	}
	cJSON_Delete(g);
	free(txt);
	chronos2_free(m);
}

int main(void)
{
	mm_set_threads(1);
	const char *models[] = {"tiny", "heads", "bf16", "f16"};
	for (int i = 0; i < 4; i++)
		run_model(models[i], 1, 0);
	for (int i = 0; i < 4; i++)
		run_model(models[i], 0, 0);
	run_model("heads", 1, 1);
	return tap_done();
}
