/* tokenizer.c — see tokenizer.h. */
#include "tokenizer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One value of the linspace kernel's scalar path (fused multiply-add as the
 * compiled kernel does). */
static float lin_one(float start, float end, float step, long i, long n)
{
	return i < n / 2 ? fmaf(step, (float)i, start) : fmaf(-step, (float)(n - i - 1), end);
}

void tok_linspace(float start, float end, int n, float *out)
{
	if (n == 1) {
		out[0] = start;
		return;
	}
	float step = (end - start) / (float)(n - 1);
	long i = 0;
	/* vector loop: two 8-wide vectors per round, each from its own base */
	for (; i + 16 <= n; i += 16)
		for (long j = i; j < i + 16; j += 8) {
			float base = lin_one(start, end, step, j, n);
			for (int k = 0; k < 8; k++) {
				float ks = (float)k * step;  /* own statement: never fused */
				out[j + k] = base + ks;
			}
		}
	for (; i < n; i++)
		out[i] = lin_one(start, end, step, i, n);
}

int tok_init(tok_t *t, const cc_config *c)
{
	memset(t, 0, sizeof(*t));
	t->n_tokens = c->n_tokens;
	t->n_special = c->n_special_tokens;
	t->pad_id = c->pad_token_id;
	t->eos_id = c->eos_token_id;
	t->use_eos = c->use_eos_token;
	t->context_length = c->context_length;
	t->ncenters = c->n_tokens - c->n_special_tokens - 1;
	t->centers = cp_malloc(sizeof(float) * (size_t)t->ncenters);
	t->bounds = cp_malloc(sizeof(float) * (size_t)(t->ncenters + 1));
	tok_linspace((float)c->low_limit, (float)c->high_limit, t->ncenters, t->centers);
	t->bounds[0] = -1e20f;
	for (int i = 1; i < t->ncenters; i++)
		t->bounds[i] = (t->centers[i] + t->centers[i - 1]) / 2.0f;
	t->bounds[t->ncenters] = 1e20f;
	return 0;
}

void tok_free(tok_t *t)
{
	free(t->centers);
	free(t->bounds);
	memset(t, 0, sizeof(*t));
}

int tok_len(const tok_t *t, int n)
{
	if (n > t->context_length)
		n = t->context_length;
	return n + (t->use_eos ? 1 : 0);
}

/* torch.bucketize(right=True): number of boundaries <= x. */
static int bucketize(const float *b, int nb, float x)
{
	int lo = 0, hi = nb;  /* answer in [lo, hi] */
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (b[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

float tok_encode(const tok_t *t, const double *ctx, int n, int *ids, unsigned char *mask)
{
	if (n > t->context_length) {
		ctx += n - t->context_length;
		n = t->context_length;
	}
	/* mean |x| over observed values: the sum is accumulated in double and
	 * rounded once, i.e. the correctly rounded float32 sum torch's
	 * pairwise reduction gives in all but rare ulp-level cases */
	double sum = 0;
	int cnt = 0;
	for (int i = 0; i < n; i++) {
		float v = (float)ctx[i];
		if (!isnan(v)) {
			sum += fabsf(v);
			cnt++;
		}
	}
	float scale = (float)sum / (float)cnt;  /* 0/0 = NaN when nothing observed */
	if (!(scale > 0))
		scale = 1.0f;
	int nb = t->ncenters + 1;
	for (int i = 0; i < n; i++) {
		float v = (float)ctx[i];
		if (isnan(v)) {
			ids[i] = t->pad_id;
			mask[i] = 0;
			continue;
		}
		int id = bucketize(t->bounds, nb, v / scale) + t->n_special;
		if (id > t->n_tokens - 1)
			id = t->n_tokens - 1;
		ids[i] = id;
		mask[i] = 1;
	}
	if (t->use_eos) {
		ids[n] = t->eos_id;
		mask[n] = 1;
	}
	return scale;
}

float tok_decode(const tok_t *t, int id, float scale)
{
	int i = id - t->n_special - 1;
	if (i < 0)
		i = 0;
	if (i > t->ncenters - 1)
		i = t->ncenters - 1;
	return t->centers[i] * scale;
}
