/* test_bolt_golden.c — the C Chronos-Bolt against the PyTorch reference's
 * golden files (testdata/bolt/<model>/golden.json, written by
 * scripts/bolt_reference.py), without Python: the scaling (loc, scale),
 * the first block of quantiles, the rolled-out forecast and
 * predict_quantiles at off-grid and on-grid levels, each to a relative
 * error of 1e-4 (|c - g| <= 1e-4 * max(|g|, scale / 10), so a value that
 * happens to sit near zero is judged on the series' scale).  Also the same
 * numbers through the naive matmul twin and through a batch of all
 * windows at once, and the forecaster interface (levels, point = median). */
#include "tap.h"
#include "chronos_bolt.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOL 1e-4

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	size_t got = fread(b, 1, (size_t)n, f);
	b[got] = 0;
	fclose(f);
	return b;
}

static double num(const cJSON *j)
{
	return cJSON_IsNumber(j) ? j->valuedouble : NAN;
}

/* Largest relative error of c[r * cols + k] against rows x cols of JSON. */
static double rel_err(const float *c, const cJSON *rows, int nrows, int cols, double floor_abs)
{
	double mx = 0;
	if (cJSON_GetArraySize(rows) != nrows)
		return INFINITY;
	for (int r = 0; r < nrows; r++) {
		const cJSON *row = cJSON_GetArrayItem(rows, r);
		if (cJSON_GetArraySize(row) != cols)
			return INFINITY;
		for (int k = 0; k < cols; k++) {
			double g = num(cJSON_GetArrayItem(row, k)), v = c[(size_t)r * cols + k];
			double den = fabs(g) > floor_abs ? fabs(g) : floor_abs;
			double d = fabs(v - g) / den;
			if (!(d <= mx))
				mx = d;
		}
	}
	return mx;
}

static int run_model(const char *root, const char *name)
{
	char dir[512], path[600], msg[1400];
	snprintf(dir, sizeof(dir), "%s/testdata/bolt/%s", root, name);
	snprintf(path, sizeof(path), "%s/golden.json", dir);
	char *txt = slurp(path);
	CHECK(txt != NULL, "golden file readable");
	if (!txt)
		return -1;
	cJSON *g = cJSON_Parse(txt);
	free(txt);
	cp_err e = {0};
	chronos_model *m = chronos_load(dir, &e);
	snprintf(msg, sizeof(msg), "%s: loads as chronos-bolt (%s)", name, m ? "ok" : e.msg);
	CHECK(m && m->c.family == CC_BOLT, msg);
	if (!m || !g) {
		cJSON_Delete(g);
		chronos_free(m);
		return -1;
	}
	const cc_config *c = &m->c;
	int Q = c->nquantiles, P = c->prediction_length;
	const cJSON *cases = cJSON_GetObjectItem(g, "cases"), *cs;
	int ncase = cJSON_GetArraySize(cases);
	double **ctx = calloc((size_t)ncase, sizeof(double *));
	int *nctx = calloc((size_t)ncase, sizeof(int)), ci = 0, allsteps = 1 << 30;
	cJSON_ArrayForEach(cs, cases) {
		const char *cname = cJSON_GetObjectItem(cs, "name")->valuestring;
		const cJSON *cx = cJSON_GetObjectItem(cs, "context");
		int n = cJSON_GetArraySize(cx), steps = (int)num(cJSON_GetObjectItem(cs, "steps"));
		allsteps = steps < allsteps ? steps : allsteps;
		ctx[ci] = malloc(sizeof(double) * (size_t)n);
		nctx[ci] = n;
		float *xf = malloc(sizeof(float) * (size_t)n);
		for (int i = 0; i < n; i++) {
			const cJSON *v = cJSON_GetArrayItem(cx, i);
			ctx[ci][i] = cJSON_IsNull(v) ? NAN : v->valuedouble;
			xf[i] = (float)ctx[ci][i];
		}
		/* one forward pass: scaling and the first block */
		float *first = malloc(sizeof(float) * (size_t)Q * P), loc, scale;
		const float *xp = xf;
		bolt_forward(m, 1, &xp, &n, first, &loc, &scale);
		double gs = num(cJSON_GetObjectItem(cs, "scale"));
		snprintf(msg, sizeof(msg), "%s/%s: loc and scale", name, cname);
		CHECK(fabs(loc - num(cJSON_GetObjectItem(cs, "loc"))) <= TOL * (fabs(loc) + gs) &&
		      fabs(scale - gs) <= TOL * gs, msg);
		double fl = 0.1 * gs, err = rel_err(first, cJSON_GetObjectItem(cs, "first_block"), Q, P, fl);
		snprintf(msg, sizeof(msg), "%s/%s: first block of %d x %d quantiles (max rel err %.2g)",
		         name, cname, Q, P, err);
		CHECK(err <= TOL, msg);
		/* the forecast, rolled out past prediction_length when steps > P */
		float *q = malloc(sizeof(float) * (size_t)Q * steps);
		const double *cp = ctx[ci];
		int rc = bolt_predict(m, 1, &cp, &n, steps, q, &e);
		err = rc == 0 ? rel_err(q, cJSON_GetObjectItem(cs, "quantiles"), Q, steps, fl) : INFINITY;
		snprintf(msg, sizeof(msg), "%s/%s: %d steps (%s; max rel err %.2g)", name, cname, steps,
		         steps > P ? "rolled out" : "one block", err);
		CHECK(err <= TOL, msg);
		/* predict_quantiles at other levels */
		const char *kinds[2][2] = {{"query_levels", "query_quantiles"}, {"subset_levels", "subset_quantiles"}};
		for (int k = 0; k < 2; k++) {
			const cJSON *lj = cJSON_GetObjectItem(cs, kinds[k][0]);
			int nl = cJSON_GetArraySize(lj);
			double *lv = malloc(sizeof(double) * (size_t)nl);
			for (int i = 0; i < nl; i++)
				lv[i] = num(cJSON_GetArrayItem(lj, i));
			float *col = malloc(sizeof(float) * (size_t)Q), *o = malloc(sizeof(float) * (size_t)nl);
			float *all = malloc(sizeof(float) * (size_t)nl * steps);
			for (int h = 0; h < steps; h++) {
				for (int j = 0; j < Q; j++)
					col[j] = q[(size_t)j * steps + h];
				bolt_quantiles_at(c->quantiles, Q, col, nl, lv, o);
				for (int i = 0; i < nl; i++)
					all[(size_t)i * steps + h] = o[i];
			}
			err = rel_err(all, cJSON_GetObjectItem(cs, kinds[k][1]), nl, steps, fl);
			snprintf(msg, sizeof(msg), "%s/%s: predict_quantiles at %d %s levels (max rel err %.2g)",
			         name, cname, nl, k ? "model" : "other", err);
			CHECK(err <= TOL, msg);
			free(lv), free(col), free(o), free(all);
		}
		/* the naive matmul twin gives the same numbers */
		mm_fn *fast = m->gemm;
		m->gemm = mm_gemm_naive;
		float *qn = malloc(sizeof(float) * (size_t)Q * P);
		bolt_forward(m, 1, &xp, &n, qn, NULL, NULL);
		m->gemm = fast;
		err = rel_err(qn, cJSON_GetObjectItem(cs, "first_block"), Q, P, fl);
		snprintf(msg, sizeof(msg), "%s/%s: naive matmul agrees (max rel err %.2g)", name, cname, err);
		CHECK(err <= TOL, msg);
		free(first), free(q), free(qn), free(xf);
		ci++;
	}
	/* all windows in one call, through the forecaster interface */
	forecaster f = {0};
	bolt_forecaster_init(&f, m);
	CHECK(f.nquantiles == Q && f.levels == c->quantiles && f.family && !strcmp(f.family, "chronos-bolt"),
	      "forecaster reports the model's quantile levels");
	fc_config cfg = {1 << 20, 7, 0.5, 3, 0.5};  /* sampling settings must not matter */
	double *paths = malloc(sizeof(double) * (size_t)ncase * Q * allsteps);
	double *point = malloc(sizeof(double) * (size_t)ncase * allsteps);
	uint64_t *stream = calloc((size_t)ncase, sizeof(uint64_t));
	int own = f.forecast(&f, &cfg, ncase, (const double *const *)ctx, nctx, allsteps, 1, stream,
	                     paths, point, &e);
	CHECK(own == 1, "quantile forecaster gives its own point forecast");
	int mid = -1;
	for (int j = 0; j < Q; j++)
		if (c->quantiles[j] == 0.5)
			mid = j;
	double worst = 0, worst_med = 0;
	ci = 0;
	cJSON_ArrayForEach(cs, cases) {
		const cJSON *rows = cJSON_GetObjectItem(cs, "quantiles");
		const cJSON *med = cJSON_GetObjectItem(cs, "median");
		double fl = 0.1 * num(cJSON_GetObjectItem(cs, "scale"));
		for (int j = 0; j < Q; j++)
			for (int h = 0; h < allsteps; h++) {
				double gv = num(cJSON_GetArrayItem(cJSON_GetArrayItem(rows, j), h));
				double v = paths[((size_t)ci * Q + j) * allsteps + h];
				double d = fabs(v - gv) / (fabs(gv) > fl ? fabs(gv) : fl);
				worst = d > worst || isnan(d) ? d : worst;
			}
		for (int h = 0; h < allsteps; h++) {
			double gv = num(cJSON_GetArrayItem(med, h)), v = point[(size_t)ci * allsteps + h];
			double d = fabs(v - gv) / (fabs(gv) > fl ? fabs(gv) : fl);
			worst_med = d > worst_med || isnan(d) ? d : worst_med;
			/* the point is exactly the 0.5 level */
			if (v != paths[((size_t)ci * Q + mid) * allsteps + h])
				worst_med = INFINITY;
		}
		ci++;
	}
	/* a window's numbers do not depend on the windows that share its call */
	int same = 1;
	float *one = malloc(sizeof(float) * (size_t)Q * allsteps);
	for (int w = 0; w < ncase; w++) {
		const double *cp = ctx[w];
		bolt_predict(m, 1, &cp, &nctx[w], allsteps, one, &e);
		for (int i = 0; i < Q * allsteps; i++)
			same &= (double)one[i] == paths[(size_t)w * Q * allsteps + i];
	}
	free(one);
	snprintf(msg, sizeof(msg), "%s: each window alone gives bit for bit what the batch gave", name);
	CHECK(same, msg);
	snprintf(msg, sizeof(msg), "%s: %d windows batched agree (max rel err %.2g)", name, ncase, worst);
	CHECK(worst <= TOL, msg);
	snprintf(msg, sizeof(msg), "%s: point forecast is the 0.5 quantile (max rel err %.2g)", name, worst_med);
	CHECK(worst_med <= TOL, msg);
	for (int i = 0; i < ncase; i++)
		free(ctx[i]);
	free(ctx), free(nctx), free(paths), free(point), free(stream);
	cJSON_Delete(g);
	chronos_free(m);
	return 0;
}

/* A copy of testdata/bolt/tiny whose safetensors holds one more tensor,
 * `extra`, of 1 float: the loader must refuse it by name. */
static void test_extra_tensor(const char *root)
{
	char src[600], dir[] = "/tmp/chronopt-bolt-XXXXXX", path[700];
	snprintf(src, sizeof(src), "%s/testdata/bolt/tiny/model.safetensors", root);
	FILE *f = fopen(src, "rb");
	if (!mkdtemp(dir) || !f) {
		CHECK(0, "temporary checkpoint");
		if (f)
			fclose(f);
		return;
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *b = malloc((size_t)n);
	size_t got = fread(b, 1, (size_t)n, f);
	fclose(f);
	uint64_t hl = 0;
	for (int i = 0; i < 8; i++)
		hl |= (uint64_t)b[i] << (8 * i);
	cJSON *h = cJSON_ParseWithLength((const char *)b + 8, (size_t)hl);
	long data = n - 8 - (long)hl;
	cJSON *t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "dtype", "F32");
	cJSON_AddItemToObject(t, "shape", cJSON_CreateIntArray((const int[]){1}, 1));
	cJSON_AddItemToObject(t, "data_offsets", cJSON_CreateIntArray((const int[]){(int)data, (int)data + 4}, 2));
	cJSON_AddItemToObject(h, "extra", t);
	char *txt = cJSON_PrintUnformatted(h);
	size_t tl = strlen(txt), pad = (8 - tl % 8) % 8;
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	FILE *o = fopen(path, "wb");
	uint64_t nl = tl + pad;
	for (int i = 0; i < 8; i++)
		fputc((int)((nl >> (8 * i)) & 0xff), o);
	fwrite(txt, 1, tl, o);
	for (size_t i = 0; i < pad; i++)
		fputc(' ', o);
	fwrite(b + 8 + hl, 1, (size_t)data, o);
	float one = 1;
	fwrite(&one, 4, 1, o);
	fclose(o);
	snprintf(src, sizeof(src), "%s/testdata/bolt/tiny/config.json", root);
	char *cfg = slurp(src);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	o = fopen(path, "wb");
	fputs(cfg ? cfg : "", o);
	fclose(o);
	cp_err e = {0};
	chronos_model *m = chronos_load(dir, &e);
	CHECK(got == (size_t)n && !m && e.code == CP_DATA &&
	      strstr(e.msg, "model.safetensors: tensor 'extra' is not part of a chronos-bolt model"),
	      "a tensor Chronos-Bolt does not have is refused by name");
	if (!m)
		printf("# %s\n", e.msg);
	chronos_free(m);
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	remove(path);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	remove(path);
	remove(dir);
	free(b), free(txt), free(cfg);
	cJSON_Delete(h);
}

int main(void)
{
	const char *root = getenv("CHRONOPT_ROOT");
	if (!root)
		root = ".";
	mm_set_threads(1);
	static const char *models[] = {"tiny", "gated-inner", "bf16-stride", "small-layout"};
	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++)
		run_model(root, models[i]);
	test_extra_tensor(root);

	/* torch.quantile arithmetic on known values */
	float v[5] = {4, 1, 3, 2, 5};
	CHECK(bolt_torch_quantile(v, 5, 0.5f) == 3.0f, "torch.quantile: median of 5");
	float w2[4] = {0, 10, 20, 30};
	CHECK(fabsf(bolt_torch_quantile(w2, 4, 0.25f) - 7.5f) < 1e-6f, "torch.quantile: linear between ranks");
	float wn[3] = {1, NAN, 2};
	CHECK(isnan(bolt_torch_quantile(wn, 3, 0.5f)), "torch.quantile: NaN in, NaN out");
	return tap_done();
}
