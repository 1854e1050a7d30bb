/* chronos_sample.c — token sampling as HF generate does it, and the Chronos
 * forecaster (forecast.h); see chronos.h. */
#include "chronos.h"
#include "chronos_bolt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The k-th largest (1 <= k <= n) of a[0..n-1]: a min-heap of the k best
 * seen so far (one comparison per element once it is full). heap: k floats. */
static float kth_largest(const float *a, int n, int k, float *heap)
{
	int m = 0;
	for (int i = 0; i < n; i++) {
		float x = a[i];
		if (m < k) {
			int c = m++;  /* sift up */
			while (c > 0 && heap[(c - 1) / 2] > x) {
				heap[c] = heap[(c - 1) / 2];
				c = (c - 1) / 2;
			}
			heap[c] = x;
		} else if (x > heap[0]) {
			int c = 0;    /* replace the root, sift down */
			for (;;) {
				int l = 2 * c + 1, r = l + 1, s = c;
				float v = x;
				if (l < k && heap[l] < v)
					s = l, v = heap[l];
				if (r < k && heap[r] < v)
					s = r;
				if (s == c)
					break;
				heap[c] = heap[s];
				c = s;
			}
			heap[c] = x;
		}
	}
	return heap[0];
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
	/* candidates: the tokens the warpers leave, in index order */
	int *cand = work, nc = 0;
	if (sp->top_k > 0 && sp->top_k < V) {
		/* TopKLogitsWarper: drop scores below the k-th largest (ties kept) */
		float thr = kth_largest(lg, V, sp->top_k, (float *)(work + V));
		for (int i = 0; i < V; i++)
			if (lg[i] >= thr)
				cand[nc++] = i;
	} else {
		for (int i = 0; i < V; i++)
			if (lg[i] > -INFINITY)
				cand[nc++] = i;
	}
	if (nc == 0)
		return eos == 0 && V > 1 ? 1 : 0;
	if (sp->top_p < 1.0 && nc > 1) {
		/* TopPLogitsWarper: ascending sort, drop tokens whose cumulative
		 * probability is <= 1 - top_p, always keep the most likely one */
		int *idx = work + V;
		memcpy(idx, cand, sizeof(int) * (size_t)nc);
		qsort_r(idx, (size_t)nc, sizeof(int), cmp_idx, lg);
		float mx = lg[idx[nc - 1]], sum = 0;
		for (int i = 0; i < nc; i++)
			sum += expf(lg[idx[i]] - mx);
		float thr = (float)(1.0 - sp->top_p), cum = 0;
		for (int i = 0; i < nc - 1; i++) {
			cum += expf(lg[idx[i]] - mx) / sum;
			if (cum <= thr)
				lg[idx[i]] = -INFINITY;
		}
		int k = 0;
		for (int i = 0; i < nc; i++)
			if (lg[cand[i]] > -INFINITY)
				cand[k++] = cand[i];
		nc = k;
	}
	/* softmax over the candidates and inverse-CDF sampling with u */
	float mx = -INFINITY;
	for (int i = 0; i < nc; i++)
		mx = lg[cand[i]] > mx ? lg[cand[i]] : mx;
	if (isnan(mx) || mx == -INFINITY)
		return cand[0];
	double sum = 0;
	for (int i = 0; i < nc; i++)
		sum += (double)expf(lg[cand[i]] - mx);
	double target = u * sum, acc = 0;
	for (int i = 0; i < nc; i++) {
		acc += (double)expf(lg[cand[i]] - mx);
		if (acc > target)
			return cand[i];
	}
	return cand[nc - 1];
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
	if (m->c.family == CC_BOLT) {
		bolt_forecaster_init(f, m);
		return f;
	}
	f->name = "chronos";
	f->family = cc_family_name(CC_T5);
	f->state = m;
	f->forecast = fc_forecast;
	f->max_context = m->c.context_length;
	f->prefix_horizon = m->c.prediction_length;
	f->steps_prefix = 1;
	f->free = fc_free;
	return f;
}
