/* bench_cache.c — what the forecast cache makes of the weekly run.
 *
 * The production search of all four horizons (the spaces of
 * configs/chronopt.json, grid, random-weight Chronos with chronos-t5-small
 * dimensions, one OpenBLAS thread, one process) runs cold on USD/CLP as it
 * was a week ago (the last 5 observations cut), then warm on the whole
 * series with the same cache, longest horizon first. The full search (30
 * windows, 9 (context, temperature) pairs per horizon) costs about 100 CPU
 * minutes, so by default a fraction is measured and extrapolated, and the
 * lines say so: BENCH_CACHE_WINDOWS windows (default 10) and only the
 * middle context length at temperature 1.0 (1 of the 9 forecaster calls per
 * window; the three num_samples share it). From the fraction:
 *   m = new windows a week later: 5 observations / search.stride (1 at
 *       the production stride 5, one origin a week; 5 at stride 1),
 *   c = cold CPU per window (all horizons),
 *   h = warm CPU per window read back = (warm - m c) / (W - m),
 *   full cold = 9 * 30 c, full warm = 9 * (m c + (30 - m) h).
 * BENCH_CACHE_FULL=1 runs the whole space (the 9 pairs; windows still from
 * BENCH_CACHE_WINDOWS). Peak RSS is this process's (ru_maxrss).
 * Lines start with "cache". */
#include "fcache.h"
#include "search.h"
#include "series.h"
#include "settings.h"

#if defined(__has_include)
#if __has_include("chronos.h") && __has_include("../unit/ckpt.h")
#define HAVE_CHRONOS 1
#include "../unit/ckpt.h"
#include "chronos.h"
#endif
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static double cpu_now(void)
{
	struct rusage a;
	getrusage(RUSAGE_SELF, &a);
	return (double)a.ru_utime.tv_sec + (double)a.ru_utime.tv_usec * 1e-6 + (double)a.ru_stime.tv_sec +
	       (double)a.ru_stime.tv_usec * 1e-6;
}

static int env_int(const char *name, int def)
{
	const char *s = getenv(name);
	long v;
	return s && cp_parse_long(s, 0, 100000, &v) == 0 ? (int)v : def;
}

#ifdef HAVE_CHRONOS
static const char *const horizons[4] = {"90d", "30d", "15d", "7d"};
static const int steps_of[4] = {90, 30, 15, 7};

/* One week: the four searches on s; CPU and wall seconds, calls. */
static int week(const series *s, const cJSON *settings, forecaster *f, forecaster *rw, const char *dir,
                int W, int full, double *cpu, double *wall, long long *calls, cp_err *e)
{
	double c0 = cpu_now(), t0 = cp_now();
	*calls = 0;
	for (int i = 0; i < 4; i++) {
		sr_options o;
		sr_options_default(&o);
		if (sr_options_from_settings(&o, settings, horizons[i], "configs/chronopt.json", e) < 0)
			return -1;
		o.windows = W;
		o.seed = 42;
		if (!full) {  /* the middle context length, temperature 1.0 */
			o.space.v[SP_CTX][0] = o.space.v[SP_CTX][o.space.n[SP_CTX] / 2];
			o.space.n[SP_CTX] = 1;
			o.space.v[SP_TEMP][0] = 1.0;
			o.space.n[SP_TEMP] = 1;
		}
		sr_search S;
		if (sr_prepare(&S, horizons[i], steps_of[i], &o, s, f, dir, e) < 0 ||
		    sr_execute(&S, s, f, rw, 1, -1, NULL, NULL, e) < 0)
			return -1;
		*calls += S.calls;
		sr_release(&S);
	}
	*cpu = cpu_now() - c0;
	*wall = cp_now() - t0;
	return 0;
}
#endif

int main(void)
{
	cp_progname = "bench_cache";
#ifdef HAVE_CHRONOS
	const char *root = getenv("CHRONOPT_ROOT");
	char path[4096];
	cp_err e = {0};
	snprintf(path, sizeof(path), "%s/testdata/usdclp_daily.csv", root ? root : ".");
	series s;
	if (series_load(&s, path, "USDCLP", 1, &e) < 0) {
		fprintf(stderr, "bench_cache: %s\n", e.msg);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/configs/chronopt.json", root ? root : ".");
	cJSON *settings = settings_load(path, &e);
	if (!settings) {
		fprintf(stderr, "bench_cache: %s\n", e.msg);
		return 1;
	}
	int W = env_int("BENCH_CACHE_WINDOWS", 10), full = env_int("BENCH_CACHE_FULL", 0);
	int stride = 1;
	if (settings_integer(settings, "search.stride", 1, 100000, &stride, &e) < 0) {
		fprintf(stderr, "bench_cache: %s\n", e.msg);
		return 1;
	}
	double m = 5.0 / stride;  /* new windows a week later */
	if (W < 6)
		W = 6;
	char tmp[256], cache[300];
	snprintf(tmp, sizeof(tmp), "%s/chronopt-bench-cache-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp)) {
		perror("bench_cache: mkdtemp");
		return 1;
	}
	snprintf(cache, sizeof(cache), "%s/cache", tmp);
	ck_dims small = {512, 64, 2048, 6, 6, 8, 4096, 512, 64, 0, 1};
	forecaster *f = NULL, *rw = forecaster_open("random_walk", &e);
	int rc = 0;
	if (ck_random_model(tmp, &small, 1) < 0 || !(f = chronos_forecaster_new(tmp, 1, &e)) ||
	    !(f = fcache_wrap(f, tmp, cache, (long long)4096 << 20, &e))) {
		fprintf(stderr, "bench_cache: %s\n", e.msg[0] ? e.msg : "cannot write a checkpoint");
		return 1;
	}
	series before = s;
	before.n = s.n - 5;  /* a week ago: 5 business days fewer */
	double cc, cw, wc, ww;
	long long kc, kw;
	if (week(&before, settings, f, rw, tmp, W, full, &cc, &wc, &kc, &e) < 0 ||
	    week(&s, settings, f, rw, tmp, W, full, &cw, &ww, &kw, &e) < 0) {
		fprintf(stderr, "bench_cache: %s\n", e.msg);
		rc = 1;
	} else {
		fcache_stat st;
		fcache_stats(cache, &st, &e);
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		const char *what = full ? "pairs=9/9" : "pairs=1/9";
		printf("cache dims=small horizons=4 windows=%d %s cold_cpu_s=%.1f cold_wall_s=%.1f "
		       "warm_cpu_s=%.1f warm_wall_s=%.1f ratio=%.3f calls=%lld/%lld entries=%lld mb=%.1f "
		       "hits=%lld misses=%lld peak_rss_mb=%.0f (measured)\n",
		       W, what, cc, wc, cw, ww, cw / cc, kc, kw, st.entries, (double)st.bytes / 1048576.0,
		       st.hits, st.misses, (double)ru.ru_maxrss / 1024.0);
		double c = cc / W, h = (cw - m * c) / (W - m);
		if (h < 0)
			h = 0;
		double k = full ? 1 : 9;
		double fc = k * 30 * c, fw = k * (m * c + (30 - m) * h);
		printf("cache dims=small horizons=4 windows=30 pairs=9/9 cold_cpu_min=%.1f warm_cpu_min=%.1f "
		       "ratio=%.3f target=0.1 %s cold_wall_jobs2_min=%.1f target_min=30 %s "
		       "(extrapolated from the line above: per window cold %.2f s, read back %.3f s, "
		       "%.1f new windows a week at stride %d)\n",
		       fc / 60, fw / 60, fw / fc, fw / fc < 0.1 ? "ok" : "ABOVE", fc / 120,
		       fc / 120 < 30 ? "ok" : "ABOVE", c, h, m, stride);
	}
	f->free(f);
	rw->free(rw);
	cJSON_Delete(settings);
	series_free(&s);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_cache: cannot remove %s\n", tmp);
	return rc;
#else
	printf("cache skipped: no chronos\n");
	return 0;
#endif
}
