/* test_chronos.c — sampling and batching properties of the Chronos code on
 * the small reference checkpoints: HF's warper semantics, EOS never
 * sampled, paths independent of how rows are batched and of other windows,
 * the prefix property up to prediction_length, the naive matmul twin, and
 * the forecaster interface. */
#include "tap.h"
#include "chronos.h"

#include <stdlib.h>
#include <string.h>

static char dir[2][512];

static void sample_token_semantics(void)
{
	int work[16];
	chronos_sampling sp = {1, 1.0, 0, 1.0};
	float lg[8];
	/* EOS (1) is the largest logit but never sampled */
	float base[8] = {0, 10, 1, 2, 0, 0, 0, 0};
	int eos_seen = 0;
	for (int i = 0; i < 100; i++) {
		memcpy(lg, base, sizeof(lg));
		eos_seen |= chronos_sample_token(lg, 8, 1, &sp, i / 100.0, work) == 1;
	}
	CHECK(!eos_seen, "EOS suppressed at every step");
	/* top_k = 1: argmax whatever u */
	sp.top_k = 1;
	int all3 = 1;
	for (int i = 0; i < 100; i++) {
		memcpy(lg, base, sizeof(lg));
		all3 &= chronos_sample_token(lg, 8, 1, &sp, i / 100.0, work) == 3;
	}
	CHECK(all3, "top_k 1 is greedy (EOS excluded first)");
	/* top_k = 2: only the two best non-EOS tokens (3 and 2) */
	sp.top_k = 2;
	int only = 1, saw2 = 0, saw3 = 0;
	for (int i = 0; i < 1000; i++) {
		memcpy(lg, base, sizeof(lg));
		int t = chronos_sample_token(lg, 8, 1, &sp, i / 1000.0, work);
		only &= t == 2 || t == 3;
		saw2 |= t == 2, saw3 |= t == 3;
	}
	CHECK(only && saw2 && saw3, "top_k 2 keeps exactly the two best");
	/* ties at the k-th value are kept, as HF's `scores < kth` does */
	float tie[6] = {5, -INFINITY, 4, 4, 4, 0};
	int seen[6] = {0};
	for (int i = 0; i < 1000; i++) {
		memcpy(lg, tie, sizeof(tie));
		seen[chronos_sample_token(lg, 6, -1, &sp, i / 1000.0, work)]++;
	}
	CHECK(seen[0] && seen[2] && seen[3] && seen[4] && !seen[5], "top_k keeps ties with the k-th value");
	/* frequencies follow the softmax exactly for a uniform grid of u */
	sp.top_k = 0;
	float p3[3] = {logf(0.5f), logf(0.3f), logf(0.2f)};
	int cnt[3] = {0};
	for (int i = 0; i < 10000; i++) {
		memcpy(lg, p3, sizeof(p3));
		cnt[chronos_sample_token(lg, 3, -1, &sp, (i + 0.5) / 10000.0, work)]++;
	}
	CHECK(abs(cnt[0] - 5000) <= 1 && abs(cnt[1] - 3000) <= 1 && abs(cnt[2] - 2000) <= 1,
	      "sampling frequencies = softmax probabilities");
	/* top_p: ascending cumulative probs 0.2, 0.5, 1.0; drop those <= 1 - top_p */
	sp.top_p = 0.6;  /* drops 0.2 only */
	memset(cnt, 0, sizeof(cnt));
	for (int i = 0; i < 10000; i++) {
		memcpy(lg, p3, sizeof(p3));
		cnt[chronos_sample_token(lg, 3, -1, &sp, (i + 0.5) / 10000.0, work)]++;
	}
	CHECK(cnt[2] == 0 && abs(cnt[0] - 6250) <= 1 && abs(cnt[1] - 3750) <= 1, "top_p 0.6 drops the 0.2 token");
	sp.top_p = 0.4;  /* cum 0.5 > 0.6 - keeps 0.3 and 0.5? no: thr 0.6 drops 0.2 and 0.3 */
	memset(cnt, 0, sizeof(cnt));
	for (int i = 0; i < 1000; i++) {
		memcpy(lg, p3, sizeof(p3));
		cnt[chronos_sample_token(lg, 3, -1, &sp, (i + 0.5) / 1000.0, work)]++;
	}
	CHECK(cnt[0] == 1000, "top_p 0.4 keeps only the most likely token");
	sp.top_p = 0.0;
	memcpy(lg, p3, sizeof(p3));
	CHECK(chronos_sample_token(lg, 3, -1, &sp, 0.999, work) == 0, "top_p 0 keeps the most likely token");
	/* temperature divides the logits before top-k/top-p */
	sp.top_p = 1.0;
	sp.temperature = 0.5;  /* probs ∝ 0.25, 0.09, 0.04 */
	memset(cnt, 0, sizeof(cnt));
	for (int i = 0; i < 38000; i++) {
		memcpy(lg, p3, sizeof(p3));
		cnt[chronos_sample_token(lg, 3, -1, &sp, (i + 0.5) / 38000.0, work)]++;
	}
	CHECK(abs(cnt[0] - 25000) <= 2 && abs(cnt[1] - 9000) <= 2 && abs(cnt[2] - 4000) <= 2,
	      "temperature 0.5 squares the probabilities");
}

static double *run(chronos_model *m, const chronos_sampling *sp, int nwin, const double *const *cx,
                   const int *nc, int steps, const uint64_t *stream, int **tok)
{
	double *p = malloc(sizeof(double) * (size_t)nwin * sp->num_samples * steps);
	*tok = malloc(sizeof(int) * (size_t)nwin * sp->num_samples * steps);
	cp_err e = {0};
	if (chronos_predict(m, sp, nwin, cx, nc, steps, 123, stream, p, *tok, &e) < 0)
		printf("# predict: %s\n", e.msg);
	return p;
}

static void batching(int which)
{
	char nm[200];
	const char *mn = which ? "gated-untied" : "relu-tied";
	cp_err e = {0};
	chronos_model *m = chronos_load(dir[which], &e);
	CHECK(m != NULL, "model loads");
	if (!m)
		return;
	int P = m->c.prediction_length, steps = 2 * P, V = m->c.vocab_size;
	double a[70], b[40];
	for (int i = 0; i < 70; i++)
		a[i] = 100 + 30 * sin(i * 0.5) + i;
	for (int i = 0; i < 40; i++)
		b[i] = (i % 7) * 3.0 - 5;
	const double *cx[2] = {a, b};
	int nc[2] = {70, 40};
	uint64_t stream[2] = {11, 12};
	chronos_sampling sp = {6, 1.0, 0, 1.0};
	int *t_all, *t_small, *t_chunk, *t_one;
	double *all = run(m, &sp, 2, cx, nc, steps, stream, &t_all);
	int eos = 0, bad = 0;
	for (int i = 0; i < 2 * 6 * steps; i++) {
		eos |= t_all[i] == m->c.eos_token_id;
		bad |= t_all[i] < 0 || t_all[i] >= V;
	}
	snprintf(nm, sizeof(nm), "%s: sampled paths never contain EOS, ids in range", mn);
	CHECK(!eos && !bad, nm);
	/* rows decoded 4 at a time (chunks cut windows) give the same paths */
	m->max_rows = 4;
	double *chunk = run(m, &sp, 2, cx, nc, steps, stream, &t_chunk);
	m->max_rows = 0;
	snprintf(nm, sizeof(nm), "%s: paths independent of the decode batch size", mn);
	CHECK(memcmp(t_all, t_chunk, sizeof(int) * 2 * 6 * steps) == 0, nm);
	/* window 1 alone (its own stream) gives the same paths as in the pair */
	double *one = run(m, &sp, 1, cx + 1, nc + 1, steps, stream + 1, &t_one);
	snprintf(nm, sizeof(nm), "%s: a window's paths do not depend on the other windows", mn);
	CHECK(memcmp(t_all + 6 * steps, t_one, sizeof(int) * 6 * steps) == 0 &&
	      memcmp(all + 6 * steps, one, sizeof(double) * 6 * steps) == 0, nm);
	/* prefix property: first 2 paths of a 6-path run = a 2-path run, up to
	 * prediction_length (later steps follow the median of all paths) */
	chronos_sampling sp2 = sp;
	sp2.num_samples = 2;
	double *small = run(m, &sp2, 2, cx, nc, steps, stream, &t_small);
	int pre = 1;
	for (int w = 0; w < 2; w++)
		for (int s = 0; s < 2; s++)
			for (int h = 0; h < P; h++)
				pre &= t_small[(w * 2 + s) * steps + h] == t_all[(w * 6 + s) * steps + h];
	snprintf(nm, sizeof(nm), "%s: first k paths equal a k-path run up to prediction_length", mn);
	CHECK(pre, nm);
	/* different streams differ; paths within a window differ */
	int differ = 0;
	for (int h = 0; h < P; h++)
		differ |= t_all[h] != t_all[steps + h];
	snprintf(nm, sizeof(nm), "%s: distinct sample streams give distinct paths", mn);
	CHECK(differ, nm);
	/* the naive matmul twin gives the same greedy forecast */
	chronos_sampling g = {2, 1.0, 1, 1.0};
	int *tg1, *tg2;
	double *g1 = run(m, &g, 2, cx, nc, steps, stream, &tg1);
	m->gemm = mm_gemm_naive;
	double *g2 = run(m, &g, 2, cx, nc, steps, stream, &tg2);
	m->gemm = mm_gemm;
	snprintf(nm, sizeof(nm), "%s: naive matmul twin gives the same greedy forecast", mn);
	CHECK(memcmp(tg1, tg2, sizeof(int) * 2 * 2 * steps) == 0 && memcmp(g1, g2, sizeof(double) * 2 * 2 * steps) == 0, nm);
	/* logits with the naive twin agree with sgemm */
	int ids[80];
	unsigned char mask[80];
	int n = tok_len(&m->tok, 40);
	tok_encode(&m->tok, b, 40, ids, mask);
	int prefix[3] = {0, 100, 200};
	float *l1 = malloc(sizeof(float) * 3 * V), *l2 = malloc(sizeof(float) * 3 * V);
	chronos_logits(m, ids, mask, n, prefix, 3, l1);
	m->gemm = mm_gemm_naive;
	chronos_logits(m, ids, mask, n, prefix, 3, l2);
	m->gemm = mm_gemm;
	double mx = 0;
	for (int i = 0; i < 3 * V; i++)
		mx = fmax(mx, fabs(l1[i] - l2[i]));
	snprintf(nm, sizeof(nm), "%s: logits sgemm vs naive twin max abs diff %.2g <= 1e-4", mn, mx);
	CHECK(mx <= 1e-4, nm);
	/* greedy continuation = greedy run on the context plus round 1 */
	double ext[40 + 64];
	memcpy(ext, b, sizeof(double) * 40);
	for (int h = 0; h < P; h++)
		ext[40 + h] = g1[2 * steps + h];
	const double *cx2[1] = {ext};
	int nc2 = 40 + P;
	chronos_sampling g1s = {1, 1.0, 1, 1.0};
	int *tc;
	double *cont = run(m, &g1s, 1, cx2, &nc2, P, stream, &tc);
	snprintf(nm, sizeof(nm), "%s: steps beyond prediction_length continue from the appended median", mn);
	CHECK(memcmp(cont, g1 + 2 * steps + P, sizeof(double) * P) == 0, nm);
	free(all), free(chunk), free(one), free(small), free(g1), free(g2), free(cont), free(l1), free(l2);
	free(t_all), free(t_chunk), free(t_one), free(t_small), free(tg1), free(tg2), free(tc);
	chronos_free(m);
}

static void forecaster_interface(void)
{
	cp_err e = {0};
	forecaster *f = chronos_forecaster_new(dir[0], 1, &e);
	CHECK(f && strcmp(f->name, "chronos") == 0 && f->max_context == 64 && f->prefix_horizon == 8,
	      "forecaster: name, max_context = context_length, prefix_horizon = prediction_length");
	CHECK(mm_threads() == 1, "OpenBLAS thread count recorded");
	double a[30];
	for (int i = 0; i < 30; i++)
		a[i] = 5 + i * 0.1;
	const double *cx[1] = {a};
	int nc = 30;
	uint64_t st[1] = {9};
	fc_config cfg = {64, 5, 1.0, 50, 1.0};
	double paths[5 * 10], point[10];
	CHECK(f->forecast(f, &cfg, 1, cx, &nc, 10, 1, st, paths, point, &e) == 0, "forecast returns 0 (use the median)");
	int fin = 1;
	for (int i = 0; i < 50; i++)
		fin &= isfinite(paths[i]);
	CHECK(fin, "paths finite");
	cfg.temperature = 0;
	CHECK(f->forecast(f, &cfg, 1, cx, &nc, 10, 1, st, paths, point, &e) == -1 && e.code == CP_USAGE,
	      "temperature 0 refused with CP_USAGE");
	f->free(f);
	cp_err e2 = {0};
	CHECK(chronos_forecaster_new("/nonexistent", 1, &e2) == NULL && e2.code == CP_IO,
	      "missing model directory is CP_IO");
}

int main(void)
{
	const char *root = getenv("CHRONOPT_ROOT");
	snprintf(dir[0], sizeof(dir[0]), "%s/testdata/chronos/relu-tied", root ? root : ".");
	snprintf(dir[1], sizeof(dir[1]), "%s/testdata/chronos/gated-untied", root ? root : ".");
	mm_set_threads(1);
	sample_token_semantics();
	batching(0);
	batching(1);
	forecaster_interface();
	return tap_done();
}
