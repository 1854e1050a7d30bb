/* chronos_sample.c — token sampling as HF generate does it, and the Chronos
 * forecaster (forecast.h); see chronos.h. */
#include "chronos.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The k-th largest (k >= 1) of a[0..n-1]; a is reordered. */
static float kth_largest(float *a, int n, int k)
{
	int lo = 0, hi = n - 1, want = k - 1;  /* index in descending order */
	while (lo < hi) {
		float p = a[lo + (hi - lo) / 2];
		int i = lo, j = hi;
		while (i <= j) {
			while (a[i] > p)
				i++;
			while (a[j] < p)
				j--;
			if (i <= j) {
				float t = a[i];
				a[i++] = a[j];
				a[j--] = t;
			}
		}
		if (want <= j)
			hi = j;
		else if (want >= i)
			lo = i;
		else
			return a[want];
	}
	return a[want];
}

static int cmp_idx(const void *a, const void *b, void *keys)
{
	int i = *(const int *)a, j = *(const int *)b;
	float x = ((const float *)keys)[i], y = ((const float *)keys)[j];
	if (x != y)
		return x < y ? -1 : 1;
	return i - j;
}

int chronos_sample_token(float *lg, int V, int eos, const chronos_sampling *sp, double u, int *work)
{
	/* MinNewTokensLengthLogitsProcessor: EOS impossible at every step */
	if (eos >= 0 && eos < V)
		lg[eos] = -INFINITY;
	if (sp->temperature != 1.0) {
		float t = (float)sp->temperature;
		for (int i = 0; i < V; i++)
			lg[i] = lg[i] / t;
	}
	if (sp->top_k > 0 && sp->top_k < V) {
		/* TopKLogitsWarper: drop scores below the k-th largest (ties kept) */
		float *tmp = (float *)work;
		memcpy(tmp, lg, sizeof(float) * V);
		float thr = kth_largest(tmp, V, sp->top_k);
		for (int i = 0; i < V; i++)
			if (lg[i] < thr)
				lg[i] = -INFINITY;
	}
	if (sp->top_p < 1.0) {
		/* TopPLogitsWarper: ascending sort, drop tokens whose cumulative
		 * probability is <= 1 - top_p, always keep the most likely one */
		int *idx = work + V;
		for (int i = 0; i < V; i++)
			idx[i] = i;
		qsort_r(idx, (size_t)V, sizeof(int), cmp_idx, lg);
		float mx = lg[idx[V - 1]], sum = 0;
		float *p = (float *)work;
		for (int i = 0; i < V; i++)
			sum += (p[i] = expf(lg[idx[i]] - mx));
		float thr = (float)(1.0 - sp->top_p), cum = 0;
		for (int i = 0; i < V - 1; i++) {
			cum += p[i] / sum;
			if (cum <= thr)
				lg[idx[i]] = -INFINITY;
		}
	}
	float mx = -INFINITY;
	int best = 0;
	for (int i = 0; i < V; i++)
		if (lg[i] > mx) {
			mx = lg[i];
			best = i;
		}
	if (mx == -INFINITY || isnan(mx))
		return best;
	double sum = 0;
	for (int i = 0; i < V; i++)
		sum += lg[i] == -INFINITY ? 0.0 : (double)expf(lg[i] - mx);
	double target = u * sum, acc = 0;
	int last = best;
	for (int i = 0; i < V; i++) {
		if (lg[i] == -INFINITY)
			continue;
		acc += (double)expf(lg[i] - mx);
		last = i;
		if (acc > target)
			return i;
	}
	return last;
}

/* ------------------------------------------------------------ forecaster */

static int fc_forecast(forecaster *f, const fc_config *cfg, int nwin,
                       const double *const *ctx, const int *nctx, int steps,
                       uint64_t seed, const uint64_t *stream,
                       double *paths, double *point, cp_err *e)
{
	chronos_model *m = f->state;
	(void)point;
	if (cfg->context_length < 1)
		return cp_fail(e, CP_USAGE, "context_length must be positive");
	chronos_sampling sp = {cfg->num_samples, cfg->temperature, cfg->top_k, cfg->top_p};
	const double **cx = cp_malloc(sizeof(*cx) * (size_t)(nwin ? nwin : 1));
	int *nc = cp_malloc(sizeof(int) * (size_t)(nwin ? nwin : 1));
	for (int w = 0; w < nwin; w++) {
		nc[w] = nctx[w] < cfg->context_length ? nctx[w] : cfg->context_length;
		cx[w] = ctx[w] + nctx[w] - nc[w];
	}
	int rc = chronos_predict(m, &sp, nwin, cx, nc, steps, seed, stream, paths, NULL, e);
	free(cx);
	free(nc);
	return rc < 0 ? -1 : 0;
}

static void fc_free(forecaster *f)
{
	if (!f)
		return;
	chronos_free(f->state);
	free(f);
}

forecaster *chronos_forecaster_new(const char *model_dir, int threads, cp_err *e)
{
	chronos_model *m = chronos_load(model_dir, e);
	if (!m)
		return NULL;
	mm_set_threads(threads);
	forecaster *f = cp_calloc(1, sizeof(*f));
	f->name = "chronos";
	f->state = m;
	f->forecast = fc_forecast;
	f->max_context = m->c.context_length;
	f->prefix_horizon = m->c.prediction_length;
	f->free = fc_free;
	return f;
}
