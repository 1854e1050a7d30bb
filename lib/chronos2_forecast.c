/* chronos2_forecast.c — the Chronos-2 forecaster (forecast.h) over
 * chronos2_predict; see chronos2.h. */
#include "chronos2.h"
#include "chronos_config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	chronos2_model *m;
	double levels[C2_MAX_QUANTILES];  /* the model's levels, ascending */
	int order[C2_MAX_QUANTILES];      /* model index of the j-th level */
	int mid;                          /* j of level 0.5 */
} c2_fc;


static int c2_fc_forecast(forecaster *f, const fc_config *cfg, int nwin,
                          const double *const *ctx, const int *nctx, int steps,
                          uint64_t seed, const uint64_t *stream,
                          double *quant, double *point, cp_err *e)
{
	c2_fc *st = f->state;
	chronos2_model *m = st->m;
	const c2_config *c = &m->c;
	int Q = c->num_quantiles;
	(void)seed, (void)stream;
	if (cfg->context_length < 1)
		return cp_fail(e, CP_USAGE, "context_length must be positive");
	if (steps < 1 || nwin < 0)
		return cp_fail(e, CP_USAGE, "steps must be positive");
	for (int w = 0; w < nwin; w++) {
		if (nctx[w] < 1)
			return cp_fail(e, CP_USAGE, "window %d has an empty context", w);
		for (int i = 0; i < nctx[w]; i++)
			if (isinf(ctx[w][i]) || (!isnan(ctx[w][i]) && !isfinite((float)ctx[w][i])))
				return cp_fail(e, CP_DATA, "window %d: value %g at position %d is not finite as a float",
				               w, ctx[w][i], i + 1);
	}
	int use = cfg->context_length < c->context_length ? cfg->context_length : c->context_length;
	/* one window per forward pass: a window's quantiles are then the same
	 * bytes whatever else is asked with it (sgemm rounds a row differently
	 * with the row count), which the forecast cache relies on */
	int chunk = 1;
	c2_series *s = cp_calloc((size_t)(chunk > nwin ? (nwin ? nwin : 1) : chunk), sizeof(c2_series));
	float *buf = cp_malloc(sizeof(float) * (size_t)(chunk < nwin ? chunk : (nwin ? nwin : 1)) * use);
	float *out = cp_malloc(sizeof(float) * (size_t)(chunk < nwin ? chunk : (nwin ? nwin : 1)) * Q * steps);
	int rc = 0;
	for (int w0 = 0; w0 < nwin && rc == 0; w0 += chunk) {
		int n = nwin - w0 < chunk ? nwin - w0 : chunk;
		for (int k = 0; k < n; k++) {
			int w = w0 + k, len = nctx[w] < use ? nctx[w] : use;
			float *x = buf + (size_t)k * use;
			for (int i = 0; i < len; i++)
				x[i] = (float)ctx[w][nctx[w] - len + i];
			s[k] = (c2_series){x, len, k, NULL, 0};
		}
		rc = chronos2_predict(m, n, s, steps, NULL, out, e);
		for (int k = 0; rc == 0 && k < n; k++) {
			int w = w0 + k;
			for (int j = 0; j < Q; j++)
				for (int h = 0; h < steps; h++)
					quant[((size_t)w * Q + j) * steps + h] = out[((size_t)k * Q + st->order[j]) * steps + h];
			if (point)
				for (int h = 0; h < steps; h++)
					point[(size_t)w * steps + h] = out[((size_t)k * Q + st->order[st->mid]) * steps + h];
		}
	}
	free(s), free(buf), free(out);
	return rc < 0 ? -1 : 1;
}

static void c2_fc_free(forecaster *f)
{
	if (!f)
		return;
	c2_fc *st = f->state;
	chronos2_free(st->m);
	free(st);
	free(f);
}

forecaster *chronos2_forecaster_new(const char *model_dir, int threads, cp_err *e)
{
	chronos2_model *m = chronos2_load(model_dir, e);
	if (!m)
		return NULL;
	const c2_config *c = &m->c;
	c2_fc *st = cp_calloc(1, sizeof(*st));
	st->m = m;
	st->mid = -1;
	int Q = c->num_quantiles;
	for (int j = 0; j < Q; j++)
		st->order[j] = j;
	for (int i = 1; i < Q; i++)
		for (int j = i; j > 0 && c->quantiles[st->order[j]] < c->quantiles[st->order[j - 1]]; j--) {
			int t = st->order[j];
			st->order[j] = st->order[j - 1];
			st->order[j - 1] = t;
		}
	for (int j = 0; j < Q; j++) {
		st->levels[j] = c->quantiles[st->order[j]];
		if (st->levels[j] == 0.5)
			st->mid = j;
	}
	if (st->mid < 0) {
		cp_fail(e, CP_DATA, "%s/config.json: chronos_config: the quantiles do not include 0.5, the point "
		        "forecast of the Chronos-2 pipeline", model_dir);
		chronos2_free(m);
		free(st);
		return NULL;
	}
	mm_set_threads(threads);
	forecaster *f = cp_calloc(1, sizeof(*f));
	f->name = "chronos-2";
	f->family = cc_family_name(CC_CHRONOS2);
	f->state = st;
	f->forecast = c2_fc_forecast;
	f->max_context = c->context_length;
	f->prefix_horizon = 0;
	f->nquantiles = Q;
	f->levels = st->levels;
	f->free = c2_fc_free;
	return f;
}
