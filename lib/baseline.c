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

/* Log-differences at lag `lag` of y[0..n-1] into d[]: log(y_i/y_{i-lag})
 * for every i >= lag where both values are observed (a NaN is a missing
 * value and makes no difference); *nd receives how many. Observed values
 * must be positive. */
static int log_diffs(const double *y, int n, int lag, int win, double *d, int *nd, cp_err *e)
{
	for (int i = 0; i < n; i++)
		if (!isnan(y[i]) && !(y[i] > 0))
			return cp_fail(e, CP_DATA, "window %d: context value '%.17g' at position %d "
			               "is not positive (log-returns need positive values)",
			               win, y[i], i);
	int k = 0;
	for (int i = lag; i < n; i++)
		if (!isnan(y[i]) && !isnan(y[i - lag]))
			d[k++] = log(y[i] / y[i - lag]);
	*nd = k;
	return 0;
}

/* The value the seasonal forecast starts from at phase position p
 * (n - lag <= p < n): y[p], else the latest observed y[p - k*lag], else
 * the last observed value `last`. */
static double seasonal_base(const double *y, int p, int lag, double last)
{
	for (; p >= 0; p -= lag)
		if (!isnan(y[p]))
			return y[p];
	return last;
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
		int n = nctx[w], nd = 0;
		if (n < lag + 1) {
			rc = cp_fail(e, CP_DATA, "window %d: %s needs at least %d context "
			             "observations, have %d", w, f->name, lag + 1, n);
			break;
		}
		if (log_diffs(y, n, lag, w, d, &nd, e) < 0) {
			rc = -1;
			break;
		}
		if (nd == 0) {
			rc = cp_fail(e, CP_DATA, "window %d: %s needs two observed context values %d "
			             "step%s apart, the context has none", w, f->name, lag, lag == 1 ? "" : "s");
			break;
		}
		/* the first and last observed values; g missing values after the last */
		int i0 = 0, j = n - 1;
		while (isnan(y[i0]))
			i0++;
		while (isnan(y[j]))
			j--;
		int g = n - 1 - j;
		double last = y[j];
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
				*p = last + (double)(h + 1 + g) * (last - y[i0]) / (double)(j - i0);
				break;
			case BL_SEASONAL:
				*p = seasonal_base(y, n - lag + h % lag, lag, last);
				break;
			}
		}
		for (int s = 0; s < ns; s++) {
			prng g_;
			prng_init(&g_, seed, stream[w], (uint64_t)s);
			double *out = &paths[((size_t)w * ns + s) * steps];
			double cum = 0;
			/* the random walk and drift first step over the missing values
			 * after the last observed one (none in a complete context) */
			if (b->kind != BL_SEASONAL)
				for (int k = 0; k < g; k++)
					cum += d[prng_below(&g_, (uint64_t)nd)] - (b->kind == BL_DRIFT ? rbar : 0.0);
			for (int h = 0; h < steps; h++) {
				double r = d[prng_below(&g_, (uint64_t)nd)];
				switch (b->kind) {
				case BL_RW:
					cum += r;
					out[h] = last * exp(cum);
					break;
				case BL_DRIFT:
					cum += r - rbar;
					out[h] = last * exp((double)(h + 1 + g) * rbar + cum);
					break;
				case BL_SEASONAL: {
					double base = h < lag ? seasonal_base(y, n - lag + h, lag, last) : out[h - lag];
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
		b->f.steps_prefix = 1;
		b->f.free = bl_free;
		return &b->f;
	}
	cp_fail(e, CP_USAGE, "unknown baseline '%s'", name);
	return NULL;
}
