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

/* ---- torch's float32 sum (nansum) of a contiguous row, bit for bit ----
 * aten/src/ATen/native/cpu/SumKernel.cpp (cascade_sum): float accumulators;
 * rows of >= 8 values are summed as 8-lane vectors, four vector
 * accumulators (ILP) combined through a 4-level cascade of 16-step blocks,
 * leftover vectors into accumulator 0, then accumulators 1..3 into 0; the
 * scalar tail is summed first and the 8 lanes are added to it in order.
 * Shorter rows take the same route with scalar lanes. */

#define SUM_LEVELS 4
#define SUM_ILP 4

/* Sum of x[i * w + lane] over ...: row_sum over `size` items of `w` lanes
 * (w = 8 for vectors, 1 for scalars); result in out[0..w-1]. */
static void row_sum(const float *x, long size, int w, float *out)
{
	float acc[SUM_LEVELS][SUM_ILP][8];
	memset(acc, 0, sizeof(acc));
	long groups = size / SUM_ILP;  /* multi_row_sum over groups of ILP items */
	long i = 0;
	const long step = 16;          /* 1 << max(4, ceil_log2(groups) / 4), groups < 2^20 */
	while (i + step <= groups) {
		for (long j = 0; j < step; j++, i++)
			for (int k = 0; k < SUM_ILP; k++)
				for (int l = 0; l < w; l++)
					acc[0][k][l] += x[((i * SUM_ILP) + k) * w + l];
		for (int j = 1; j < SUM_LEVELS; j++) {
			for (int k = 0; k < SUM_ILP; k++)
				for (int l = 0; l < w; l++) {
					acc[j][k][l] += acc[j - 1][k][l];
					acc[j - 1][k][l] = 0;
				}
			if ((i & ((step - 1) << (j * 4))) != 0)
				break;
		}
	}
	for (; i < groups; i++)
		for (int k = 0; k < SUM_ILP; k++)
			for (int l = 0; l < w; l++)
				acc[0][k][l] += x[((i * SUM_ILP) + k) * w + l];
	for (int j = 1; j < SUM_LEVELS; j++)
		for (int k = 0; k < SUM_ILP; k++)
			for (int l = 0; l < w; l++)
				acc[0][k][l] += acc[j][k][l];
	for (long t = groups * SUM_ILP; t < size; t++)
		for (int l = 0; l < w; l++)
			acc[0][0][l] += x[t * w + l];
	for (int k = 1; k < SUM_ILP; k++)
		for (int l = 0; l < w; l++)
			acc[0][0][l] += acc[0][k][l];
	memcpy(out, acc[0][0], sizeof(float) * (size_t)w);
}

static float torch_sum(const double *a, int n)
{
	float *x = cp_malloc(sizeof(float) * (size_t)(n ? n : 1));
	for (int i = 0; i < n; i++)
		x[i] = (float)a[i];
	float lanes[8], total;
	if (n >= 8) {
		long nv = n / 8;
		row_sum(x, nv, 8, lanes);
		total = 0;
		for (long k = nv * 8; k < n; k++)
			total += x[k];
		for (int l = 0; l < 8; l++)
			total += lanes[l];
	} else {
		row_sum(x, n, 1, lanes);
		total = lanes[0];
	}
	free(x);
	return total;
}

float tok_encode(const tok_t *t, const double *ctx, int n, int *ids, unsigned char *mask)
{
	if (n > t->context_length) {
		ctx += n - t->context_length;
		n = t->context_length;
	}
	double *a = cp_malloc(sizeof(double) * (size_t)(n ? n : 1));
	int cnt = 0;
	for (int i = 0; i < n; i++) {
		float v = (float)ctx[i];
		a[i] = isnan(v) ? 0.0 : fabsf(v);
		cnt += !isnan(v);
	}
	float scale = torch_sum(a, n) / (float)cnt;  /* 0/0 = NaN when nothing observed */
	free(a);
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
