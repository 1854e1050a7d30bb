/* baseline.c — random walk, drift and seasonal naive forecasters (see
 * forecast.h for their exact definitions). */
#include "forecast.h"
#include "prng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum bl_kind { BL_RW, BL_DRIFT, BL_SEASONAL };

typedef struct {
	forecaster f;       /* first, so a forecaster * is a baseline * */
	enum bl_kind kind;
	int period;
} baseline;

/* Log-differences at lag `lag` of y[0..n-1] into d[0..n-lag-1]; all
 * values must be positive. */
static int log_diffs(const double *y, int n, int lag, int win, double *d, cp_err *e)
{
	for (int i = 0; i < n; i++)
		if (!(y[i] > 0))
			return cp_fail(e, CP_DATA, "window %d: context value '%.17g' at position %d "
			               "is not positive (log-returns need positive values)",
			               win, y[i], i);
	for (int i = lag; i < n; i++)
		d[i - lag] = log(y[i] / y[i - lag]);
	return 0;
}

static int bl_forecast(forecaster *f, const fc_config *cfg, int nwin,
                       const double *const *ctx, const int *nctx, int steps,
                       uint64_t seed, const uint64_t *stream,
                       double *paths, double *point, cp_err *e)
{
	const baseline *b = (const baseline *)f;
	int lag = b->kind == BL_SEASONAL ? b->period : 1;
	int ns = cfg->num_samples;
	if (steps < 1 || ns < 0)
		return cp_fail(e, CP_INTERNAL, "%s: bad steps %d or num_samples %d",
		               f->name, steps, ns);
	int maxn = 0;
	for (int w = 0; w < nwin; w++)
		if (nctx[w] > maxn)
			maxn = nctx[w];
	double *d = cp_malloc((size_t)(maxn > 0 ? maxn : 1) * sizeof(double));
	int rc = 0;

	for (int w = 0; w < nwin && rc == 0; w++) {
		const double *y = ctx[w];
		int n = nctx[w];
		if (n < lag + 1) {
			rc = cp_fail(e, CP_DATA, "window %d: %s needs at least %d context "
			             "observations, have %d", w, f->name, lag + 1, n);
			break;
		}
		if (log_diffs(y, n, lag, w, d, e) < 0) {
			rc = -1;
			break;
		}
		int nd = n - lag;
		double last = y[n - 1];
		double rbar = 0;
		if (b->kind == BL_DRIFT) {
			for (int i = 0; i < nd; i++)
				rbar += d[i];
			rbar /= nd;
		}
		for (int h = 0; h < steps && point; h++) {
			double *p = &point[(size_t)w * steps + h];
			switch (b->kind) {
			case BL_RW:
				*p = last;
				break;
			case BL_DRIFT:
				*p = last + (double)(h + 1) * (last - y[0]) / (double)(n - 1);
				break;
			case BL_SEASONAL:
				*p = y[n - lag + h % lag];
				break;
			}
		}
		for (int s = 0; s < ns; s++) {
			prng g;
			prng_init(&g, seed, stream[w], (uint64_t)s);
			double *out = &paths[((size_t)w * ns + s) * steps];
			double cum = 0;
			for (int h = 0; h < steps; h++) {
				double r = d[prng_below(&g, (uint64_t)nd)];
				switch (b->kind) {
				case BL_RW:
					cum += r;
					out[h] = last * exp(cum);
					break;
				case BL_DRIFT:
					cum += r - rbar;
					out[h] = last * exp((double)(h + 1) * rbar + cum);
					break;
				case BL_SEASONAL: {
					double base = h < lag ? y[n - lag + h] : out[h - lag];
					out[h] = base * exp(r);
					break;
				}
				}
			}
		}
	}
	free(d);
	return rc < 0 ? -1 : 1;
}

static void bl_free(forecaster *f)
{
	free(f);
}

forecaster *baseline_new(const char *name, int period, cp_err *e)
{
	static const struct { const char *name; enum bl_kind kind; } kinds[] = {
		{"random_walk", BL_RW}, {"drift", BL_DRIFT}, {"seasonal_naive", BL_SEASONAL},
	};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(name, kinds[i].name) != 0)
			continue;
		if (kinds[i].kind == BL_SEASONAL && period < 1) {
			cp_fail(e, CP_USAGE, "seasonal_naive: period '%d' must be at least 1", period);
			return NULL;
		}
		baseline *b = cp_calloc(1, sizeof(*b));
		b->kind = kinds[i].kind;
		b->period = kinds[i].kind == BL_SEASONAL ? period : 1;
		b->f.name = kinds[i].name;
		b->f.state = b;
		b->f.forecast = bl_forecast;
		b->f.max_context = 0;
		b->f.prefix_horizon = 0;
		b->f.free = bl_free;
		return &b->f;
	}
	cp_fail(e, CP_USAGE, "unknown baseline '%s'", name);
	return NULL;
}
