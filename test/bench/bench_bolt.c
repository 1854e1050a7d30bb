/* bench_bolt.c — per-window time of the C Chronos-Bolt on a random-weight
 * model with the dimensions of chronos-bolt-small (d_model 512, 6 + 6
 * layers, 8 heads, d_ff 2048, patches of 16, prediction_length 64, nine
 * levels), 1 OpenBLAS thread, context 512, one block of 64 steps:
 *   - batch 1 (one window per call), best of 5, CPU and wall time;
 *   - batch 32 (32 windows per call), per window.
 * Lines start with "bolt" (key=value pairs) for scripts/bench to parse; the
 * PyTorch figure comes from scripts/bench.d/bolt_torch.sh in the same run.
 * The checkpoint is written to a temporary directory and removed.
 * `bench_bolt DIR` only writes that checkpoint into DIR (made if missing) and
 * exits: scripts/bench.d/bolt_search.sh times the production search on it. */
#include "../unit/ckpt.h"
#include "chronos_bolt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void context(double *x, int n, int shift)
{
	for (int i = 0; i < n; i++)
		x[i] = 100 + 10 * sin((i + shift) * 0.21) + 3 * sin((i + shift) * 1.7) + i * 0.05;
}

static int run(chronos_model *m, int batch, int reps, double *cpu_ms, double *wall_ms)
{
	int n = 512, steps = m->c.prediction_length, Q = m->c.nquantiles;
	double *x = malloc(sizeof(double) * (size_t)n * batch);
	const double **cx = malloc(sizeof(double *) * (size_t)batch);
	int *nc = malloc(sizeof(int) * (size_t)batch);
	float *out = malloc(sizeof(float) * (size_t)batch * Q * steps);
	for (int w = 0; w < batch; w++) {
		context(x + (size_t)w * n, n, w);
		cx[w] = x + (size_t)w * n;
		nc[w] = n;
	}
	cp_err e = {0};
	double bc = 1e30, bw = 1e30;
	for (int r = 0; r < reps; r++) {
		double w0 = cp_now(), c0 = cpu_now();
		if (bolt_predict(m, batch, cx, nc, steps, out, &e) < 0) {
			fprintf(stderr, "bench_bolt: %s\n", e.msg);
			return -1;
		}
		double c = cpu_now() - c0, w = cp_now() - w0;
		bc = c < bc ? c : bc;
		bw = w < bw ? w : bw;
	}
	*cpu_ms = bc / batch * 1e3;
	*wall_ms = bw / batch * 1e3;
	free(x), free(cx), free(nc), free(out);
	return 0;
}

int main(int argc, char **argv)
{
	cp_progname = "bench_bolt";
	mm_set_threads(1);
	/* chronos-bolt-small: d 512, d_kv 64, d_ff 2048, 6 + 6 layers, 8 heads */
	ck_dims d = {512, 64, 2048, 6, 6, 8, 2, 2048, 64, 0, 1};
	if (argc == 2) {
		if (mkdir(argv[1], 0777) < 0 && errno != EEXIST) {
			fprintf(stderr, "bench_bolt: cannot make '%s': %s\n", argv[1], strerror(errno));
			return 4;
		}
		if (ck_random_bolt(argv[1], &d, 16, 42) < 0) {
			fprintf(stderr, "bench_bolt: cannot write a checkpoint in '%s'\n", argv[1]);
			return 4;
		}
		return 0;
	}
	if (argc > 2) {
		fprintf(stderr, "usage: bench_bolt [DIR]\n");
		return 2;
	}
	char tmp[256];
	snprintf(tmp, sizeof(tmp), "%s/chronopt-bench-bolt-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp)) {
		perror("bench_bolt: mkdtemp");
		return 1;
	}
	int rc = 0;
	cp_err e = {0};
	chronos_model *m = NULL;
	if (ck_random_bolt(tmp, &d, 16, 42) < 0 || !(m = chronos_load(tmp, &e))) {
		fprintf(stderr, "bench_bolt: cannot write or load a checkpoint in %s: %s\n", tmp, e.msg);
		rc = 1;
	}
	static const int batches[] = {1, 32};
	for (int i = 0; m && i < 2; i++) {
		double c, w;
		if (run(m, batches[i], batches[i] == 1 ? 5 : 2, &c, &w) < 0) {
			rc = 1;
			break;
		}
		printf("bolt dims=small phase=window ctx=512 steps=64 batch=%d threads=1 ms=%.2f wall_ms=%.2f\n",
		       batches[i], c, w);
		fflush(stdout);
	}
	chronos_free(m);
	char p[300];
	snprintf(p, sizeof(p), "%s/config.json", tmp);
	unlink(p);
	snprintf(p, sizeof(p), "%s/model.safetensors", tmp);
	unlink(p);
	rmdir(tmp);
	return rc;
}
