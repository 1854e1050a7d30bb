/* bench_chronos.c — speed and memory of the C Chronos-T5 on random-weight
 * models with the dimensions of chronos-t5-tiny, -mini and -small (vocab
 * 4096, context 512, prediction 64), 1 OpenBLAS thread:
 *   - cblas_sgemm GFLOP/s on a 1024^3 product (the same-run yardstick);
 *   - encoder time at context 512;
 *   - decode (predict) time for 20 and 200 samples x 64 steps;
 *   - achieved GFLOP/s and ratio to sgemm;
 *   - peak RSS of a child process running small dims, 200 samples x 90 steps.
 * Every figure is one line of key=value pairs starting with "chronos" or
 * "sgemm", for scripts/bench.d to parse.  Checkpoints are written to a
 * temporary directory and removed. */
#include "../unit/ckpt.h"
#include "chronos.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* CPU seconds of this process: the machine is shared, and with one
 * OpenBLAS thread CPU time measures the work without the waiting.  Wall
 * time is printed next to it. */
static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* cblas_sgemm GFLOP/s on 1024^3 (NT, like the model's products): median
 * and best of 9 runs.  The ratios use the median: the decode figures are
 * single long runs, which average over the load of a shared machine just
 * as a median does, while the best burst is the luckiest moment. */
static double sgemm_gflops(double *best)
{
	int n = 1024;
	float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
	for (int i = 0; i < n * n; i++)
		a[i] = (float)(i % 17) * 0.01f, b[i] = (float)(i % 13) * 0.02f;
	double g[9];
	for (int r = 0; r < 9; r++) {
		double t = cpu_now();
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1, a, n, b, n, 0, c, n);
		g[r] = 2.0 * n * n * n / (cpu_now() - t) / 1e9;
	}
	free(a), free(b), free(c);
	qsort(g, 9, sizeof(double), cmp_dbl);
	*best = g[8];
	return g[4];
}

static double enc_flops(const cc_config *c, int n)
{
	double d = c->d_model, in = (double)c->num_heads * c->d_kv, ff = c->d_ff;
	double per = 4 * 2 * n * d * in + 2 * 2 * (double)n * n * in + 2 * n * d * ff * (c->gated ? 3 : 2);
	return per * c->num_layers;
}

/* predict: encoder + cross K/V once per window, then rows x steps. */
static double predict_flops(const cc_config *c, int n, int rows, int steps)
{
	double d = c->d_model, in = (double)c->num_heads * c->d_kv, ff = c->d_ff, V = c->vocab_size;
	double f = enc_flops(c, n) + c->num_decoder_layers * 2.0 * 2 * n * d * in;
	for (int t = 0; t < steps; t++) {
		double per = 4 * 2 * d * in + 2 * 2 * (t + 1) * in + 2 * 2 * d * in + 2 * 2 * n * in +
		             2 * d * ff * (c->gated ? 3 : 2);
		f += rows * (per * c->num_decoder_layers + 2 * d * V);
	}
	return f;
}

static void context(double *x, int n)
{
	for (int i = 0; i < n; i++)
		x[i] = 100 + 10 * sin(i * 0.21) + 3 * sin(i * 1.7) + i * 0.05;
}

static int temperatures_probe(chronos_model *m, double *x, int n);

static int bench_dims(const char *name, const ck_dims *dm, double ref, const char *tmp)
{
	if (ck_random_model(tmp, dm, 1) < 0) {
		fprintf(stderr, "bench_chronos: cannot write a checkpoint in %s\n", tmp);
		return -1;
	}
	cp_err e = {0};
	chronos_model *m = chronos_load(tmp, &e);
	if (!m) {
		fprintf(stderr, "bench_chronos: %s\n", e.msg);
		return -1;
	}
	int n = 512;
	double x[512];
	context(x, n);
	int ids[513];
	unsigned char mask[513];
	int nt = tok_len(&m->tok, n);
	tok_encode(&m->tok, x, n, ids, mask);
	float *out = malloc(sizeof(float) * nt * m->c.d_model);
	double best = 1e30;
	for (int r = 0; r < 3; r++) {
		double t = cpu_now();
		chronos_encode(m, ids, mask, nt, out);
		t = cpu_now() - t;
		best = t < best ? t : best;
	}
	free(out);
	double gf = enc_flops(&m->c, nt) / best / 1e9;
	printf("chronos dims=%s phase=encoder ctx=%d threads=1 ms=%.1f gflops=%.2f ratio=%.3f\n",
	       name, n, best * 1e3, gf, gf / ref);
	static const int samples[] = {20, 200};
	for (int k = 0; k < 2; k++) {
		int ns = samples[k], steps = 64;
		chronos_sampling sp = {ns, 1.0, 50, 1.0};
		double *paths = malloc(sizeof(double) * ns * steps);
		const double *cx[1] = {x};
		uint64_t st[1] = {0};
		double w = cp_now(), t = cpu_now();
		if (chronos_predict(m, &sp, 1, cx, &n, steps, 1, st, paths, NULL, &e) < 0) {
			fprintf(stderr, "bench_chronos: %s\n", e.msg);
			return -1;
		}
		t = cpu_now() - t;
		w = cp_now() - w;
		gf = predict_flops(&m->c, nt, ns, steps) / t / 1e9;
		printf("chronos dims=%s phase=decode samples=%d steps=%d threads=1 ms=%.1f wall_ms=%.1f "
		       "gflops=%.2f ratio=%.3f\n", name, ns, steps, t * 1e3, w * 1e3, gf, gf / ref);
		fflush(stdout);
		free(paths);
	}
	if (!strcmp(name, "small") && temperatures_probe(m, x, n) < 0)
		return -1;
	chronos_free(m);
	return 0;
}

/* Would one call over the three temperatures of a search space beat three
 * calls?  A call over temperatures 0.8, 1.0 and 1.2 at 200 samples does
 * the work of one 600-row decode (one encoder pass, one batch; the
 * temperature only rescales each row's logits before sampling), so the
 * probe times three 200-sample calls against one 600-sample call, at 7 and
 * 64 steps: ratio = one / three (1 = no gain). */
static int temperatures_probe(chronos_model *m, double *x, int n)
{
	static const int steps_of[] = {7, 64};
	static const double temps[] = {0.8, 1.0, 1.2};
	cp_err e = {0};
	for (int k = 0; k < 2; k++) {
		int steps = steps_of[k];
		double *paths = malloc(sizeof(double) * 600 * steps);
		const double *cx[1] = {x};
		uint64_t st[1] = {0};
		double three = cpu_now();
		for (int i = 0; i < 3; i++) {
			chronos_sampling sp = {200, temps[i], 50, 1.0};
			if (chronos_predict(m, &sp, 1, cx, &n, steps, 1, st, paths, NULL, &e) < 0)
				goto fail;
		}
		three = cpu_now() - three;
		double one = cpu_now();
		chronos_sampling sp = {600, 1.0, 50, 1.0};
		if (chronos_predict(m, &sp, 1, cx, &n, steps, 1, st, paths, NULL, &e) < 0)
			goto fail;
		one = cpu_now() - one;
		printf("chronos dims=small phase=temperatures samples=200x3 steps=%d threads=1 three_calls_ms=%.1f "
		       "one_call_ms=%.1f ratio=%.3f\n", steps, three * 1e3, one * 1e3, one / three);
		fflush(stdout);
		free(paths);
		continue;
	fail:
		fprintf(stderr, "bench_chronos: %s\n", e.msg);
		free(paths);
		return -1;
	}
	return 0;
}

/* The decoder's weight products at small dims, per shape: sgemm (which
 * packs the weight on every call) against mm_packed on every path this CPU
 * has, CPU time, best of 3 after a warm-up; M = rows (samples of a window).
 * The shapes mm_packed_pays() chooses must be those where it wins here. */
static void gemm_shapes(void)
{
	static const int Ms[] = {1, 20, 64, 200, 600};
	static const struct { const char *what; int N, K; } sh[] = {
		{"qkv", 1536, 512}, {"o", 512, 512}, {"wi", 2048, 512}, {"wo", 512, 2048}, {"head", 4096, 512},
	};
	unsigned seed = 7;
	for (size_t s = 0; s < sizeof(sh) / sizeof(sh[0]); s++) {
		int N = sh[s].N, K = sh[s].K;
		float *W = malloc(sizeof(float) * N * K), *A = malloc(sizeof(float) * 600 * K);
		float *C = malloc(sizeof(float) * 600 * N);
		for (int i = 0; i < N * K; i++)
			W[i] = (float)((seed = seed * 1103515245u + 12345u) >> 16) / 65536.0f - 0.5f;
		for (int i = 0; i < 600 * K; i++)
			A[i] = (float)((seed = seed * 1103515245u + 12345u) >> 16) / 65536.0f - 0.5f;
		mm_pack pk;
		mm_pack_init(&pk, W, N, K, K);
		for (size_t mi = 0; mi < sizeof(Ms) / sizeof(Ms[0]); mi++) {
			int M = Ms[mi];
			double flop = 2.0 * M * N * K, t_s = 1e30, t_p[3] = {1e30, 1e30, 1e30};
			int reps = (int)(2e8 / flop) + 1;
			for (int r = 0; r < 4; r++) {
				double t = cpu_now();
				for (int i = 0; i < reps; i++)
					mm_gemm(1, M, N, K, 1, A, K, W, K, 0, C, N);
				t = (cpu_now() - t) / reps;
				if (r > 0 && t < t_s)
					t_s = t;
				for (int p = MM_PATH_C; p <= MM_PATH_AVX512; p++) {
					if (!mm_path_supported((mm_path)p) || (p == MM_PATH_C && M > 20))
						continue;
					int rp = p == MM_PATH_C ? 1 : reps;
					t = cpu_now();
					for (int i = 0; i < rp; i++)
						mm_packed_on((mm_path)p, M, A, K, &pk, 0, C, N);
					t = (cpu_now() - t) / rp;
					if (r > 0 && t < t_p[p])
						t_p[p] = t;
				}
			}
			printf("chronos dims=small phase=gemm what=%s M=%d N=%d K=%d sgemm_gflops=%.2f", sh[s].what, M, N,
			       K, flop / t_s / 1e9);
			for (int p = MM_PATH_C; p <= MM_PATH_AVX512; p++)
				if (t_p[p] < 1e30)
					printf(" %s_gflops=%.2f", mm_path_name((mm_path)p), flop / t_p[p] / 1e9);
			printf(" packed_used=%d\n", mm_packed_pays(M, N, K));
			fflush(stdout);
		}
		mm_pack_release(&pk);
		free(W), free(A), free(C);
	}
}

/* Peak RSS (MB) of a child that loads `dir` and forecasts ns x steps. */
static long child_rss(const char *dir, int ns, int steps)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		cp_err e = {0};
		chronos_model *m = chronos_load(dir, &e);
		if (!m)
			_exit(1);
		mm_set_threads(1);
		int n = 512;
		double x[512];
		context(x, n);
		chronos_sampling sp = {ns, 1.0, 50, 1.0};
		double *paths = malloc(sizeof(double) * ns * steps);
		const double *cx[1] = {x};
		uint64_t st[1] = {0};
		int rc = chronos_predict(m, &sp, 1, cx, &n, steps, 1, st, paths, NULL, &e);
		_exit(rc < 0 ? 1 : 0);
	}
	int status;
	struct rusage ru;
	if (pid < 0 || wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return ru.ru_maxrss / 1024;
}

int main(int argc, char **argv)
{
	cp_progname = "bench_chronos";
	mm_set_threads(1);
	const char *only = argc > 1 ? argv[1] : NULL;  /* tiny | mini | small | gemm */
	char tmp[256];
	snprintf(tmp, sizeof(tmp), "%s/chronopt-bench-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp)) {
		perror("bench_chronos: mkdtemp");
		return 1;
	}
	double best, ref = sgemm_gflops(&best);
	printf("sgemm n=1024 threads=1 gflops=%.2f best_gflops=%.2f (median and best of 9, CPU time; "
	       "ratios below are to the median)\n", ref, best);
	static const struct { const char *name; ck_dims d; } dims[] = {
		{"tiny", {256, 64, 1024, 4, 4, 4, 4096, 512, 64, 0, 1}},
		{"mini", {384, 64, 1536, 4, 4, 8, 4096, 512, 64, 0, 1}},
		{"small", {512, 64, 2048, 6, 6, 8, 4096, 512, 64, 0, 1}},
	};
	int rc = 0;
	if (!only || !strcmp(only, "gemm") || !strcmp(only, "small"))
		gemm_shapes();
	for (int i = 0; i < 3; i++) {
		if (only && strcmp(only, dims[i].name) != 0)
			continue;
		if (bench_dims(dims[i].name, &dims[i].d, ref, tmp) < 0)
			rc = 1;
	}
	if (!only || strcmp(only, "small") == 0) {
		long mb = child_rss(tmp, 200, 90);
		printf("chronos dims=small phase=rss samples=200 steps=90 threads=1 peak_rss_mb=%ld limit_mb=1024 %s\n",
		       mb, mb > 0 && mb <= 1024 ? "ok" : "FAIL");
		if (mb <= 0 || mb > 1024)
			rc = 1;
	}
	char p[300];
	snprintf(p, sizeof(p), "%s/config.json", tmp);
	unlink(p);
	snprintf(p, sizeof(p), "%s/model.safetensors", tmp);
	unlink(p);
	rmdir(tmp);
	return rc;
}
