/* backtest.c — walk-forward origins, running a forecaster over them,
 * scoring and the JSON views (see backtest.h). */
#include "backtest.h"
#include "envelope.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int bt_target_observed(const series *s, int t, int steps)
{
	for (int h = 0; h < steps; h++)
		if (isnan(s->y[t + h]))
			return 0;
	return 1;
}

int bt_origins_from(const series *s, int steps, int min_context, int last, const bt_plan *plan,
                    int **origins, int *skipped, cp_err *e)
{
	*origins = NULL;
	*skipped = 0;
	if (steps < 1)
		return cp_fail(e, CP_USAGE, "steps '%d' must be at least 1", steps);
	if (plan->count < 1)
		return cp_fail(e, CP_USAGE, "origins '%d' must be at least 1", plan->count);
	if (plan->stride < 1)
		return cp_fail(e, CP_USAGE, "stride '%d' must be at least 1", plan->stride);
	if (plan->holdout < 0)
		return cp_fail(e, CP_USAGE, "holdout '%d' must not be negative", plan->holdout);
	if (min_context < 1)
		return cp_fail(e, CP_USAGE, "minimum context '%d' must be at least 1", min_context);
	/* The grid is anchored at the first observation (t = 0 mod stride),
	 * not at the last one: a series that grows keeps its origins, so next
	 * week's run scores the same windows (and finds them in the forecast
	 * cache), and horizons whose windows overlap share origins. */
	last -= last % plan->stride;
	int *o = cp_malloc((size_t)plan->count * sizeof(int));
	int want = plan->holdout + plan->count, got = 0, skip = 0;
	/* the grid last, last - stride, ...; origins whose targets hold a
	 * missing value are passed over */
	for (long t = last; got < want && t >= min_context; t -= plan->stride) {
		if (t + steps > s->n || !bt_target_observed(s, (int)t, steps)) {
			skip++;
			continue;
		}
		if (got >= plan->holdout)
			o[plan->count - 1 - (got - plan->holdout)] = (int)t;
		got++;
	}
	*skipped = skip;
	if (got < want) {
		free(o);
		long long need = (long long)min_context + (s->n - last) +
			(long long)plan->stride * ((long long)want - 1 + skip);
		if (skip)
			return cp_fail(e, CP_DATA, "%s: not enough observations: need %lld, have %d (%d origin%s "
			               "passed over: a target value is missing)", s->path ? s->path : "<series>",
			               need, s->n, skip, skip == 1 ? "" : "s");
		return cp_fail(e, CP_DATA, "%s: not enough observations: need %lld, have %d",
		               s->path ? s->path : "<series>", need, s->n);
	}
	*origins = o;
	return 0;
}

int bt_origins(const series *s, int steps, int min_context, const bt_plan *plan,
               int **origins, cp_err *e)
{
	int skipped;
	return bt_origins_from(s, steps, min_context, s->n - steps, plan, origins, &skipped, e);
}

double bt_mase_scale(const series *s, int t)
{
	if (t > s->n)
		t = s->n;
	if (t < 2)
		return 1.0;
	double acc = 0;
	int k = 0;
	for (int i = 1; i < t; i++)
		if (!isnan(s->y[i]) && !isnan(s->y[i - 1])) {
			acc += fabs(s->y[i] - s->y[i - 1]);
			k++;
		}
	return k ? acc / k : 1.0;
}

void bt_result_free(bt_result *r)
{
	if (!r)
		return;
	free(r->win);
	memset(r, 0, sizeof(*r));
}

int bt_run(forecaster *f, const fc_config *cfg, const series *s,
           const int *origins, int norig, int steps, uint64_t seed, int batch,
           bt_result *r, cp_err *e)
{
	return bt_run_cb(f, cfg, s, origins, norig, steps, seed, batch, NULL, NULL, r, e);
}

int bt_run_cb(forecaster *f, const fc_config *cfg, const series *s,
              const int *origins, int norig, int steps, uint64_t seed, int batch,
              bt_window_fn fn, void *arg, bt_result *r, cp_err *e)
{
	memset(r, 0, sizeof(*r));
	int ns = fc_rows(f, cfg);  /* sample paths, or quantile levels */
	if (ns < 1)
		return cp_fail(e, CP_USAGE, "num_samples '%d' must be at least 1", ns);
	if (steps < 1)
		return cp_fail(e, CP_USAGE, "steps '%d' must be at least 1", steps);
	for (int i = 0; i < norig; i++)
		if (origins[i] < 1 || origins[i] > s->n - steps)
			return cp_fail(e, CP_INTERNAL, "origin %d out of range 1..%d",
			               origins[i], s->n - steps);
	if (batch <= 0 || batch > norig)
		batch = norig > 0 ? norig : 1;

	/* the sample paths of one batch: batch * ns * steps doubles, which can
	 * exceed size_t for ints that are each in range */
	size_t per, bytes;
	if (__builtin_mul_overflow((size_t)ns, (size_t)steps, &per) ||
	    __builtin_mul_overflow(per, (size_t)batch, &bytes) ||
	    __builtin_mul_overflow(bytes, sizeof(double), &bytes))
		return cp_fail(e, CP_USAGE, "num_samples %d x steps %d x %d windows per batch "
		               "is too large", ns, steps, batch);
	mt_window *win = cp_calloc(norig > 0 ? (size_t)norig : 1, sizeof(mt_window));
	const double **ctx = cp_malloc((size_t)batch * sizeof(*ctx));
	int *nctx = cp_malloc((size_t)batch * sizeof(int));
	uint64_t *stream = cp_malloc((size_t)batch * sizeof(uint64_t));
	double *paths = cp_malloc((size_t)batch * per * sizeof(double));
	double *point = cp_malloc((size_t)batch * (size_t)steps * sizeof(double));
	int rc = 0;

	for (int b0 = 0; b0 < norig && rc == 0; b0 += batch) {
		int nb = norig - b0 < batch ? norig - b0 : batch;
		for (int w = 0; w < nb; w++) {
			int t = origins[b0 + w];
			int len = cfg->context_length > 0 && cfg->context_length < t
				? cfg->context_length : t;
			if (f->max_context > 0 && len > f->max_context)
				len = f->max_context;
			ctx[w] = s->y + (t - len);
			nctx[w] = len;
			stream[w] = (uint64_t)t;
		}
		double t0 = cp_now();
		int own = f->forecast(f, cfg, nb, (const double *const *)ctx, nctx, steps,
		                      seed, stream, paths, point, e);
		double secs = (cp_now() - t0) / nb;
		if (own < 0) {
			rc = -1;
			break;
		}
		for (int w = 0; w < nb; w++) {
			int t = origins[b0 + w];
			const double *pt = own ? point + (size_t)w * steps : NULL;
			const double *pp = paths + (size_t)w * per;
			mt_window *mw = &win[b0 + w];
			if (f->nquantiles > 0)
				mt_score_quantiles(s->y + t, pt, f->levels, ns, pp, steps, bt_mase_scale(s, t), mw);
			else
				mt_score(s->y + t, pt, pp, ns, steps, bt_mase_scale(s, t), mw);
			mw->origin = t;
			mw->seconds = secs;
			if (fn && fn(arg, t, s->y + t, pt, pp, ns, steps, e) < 0) {
				rc = -1;
				break;
			}
		}
	}
	free(ctx);
	free(nctx);
	free(stream);
	free(paths);
	free(point);
	if (rc < 0) {
		free(win);
		return -1;
	}
	r->nwin = norig;
	r->steps = steps;
	r->win = win;
	mt_aggregate(win, norig, steps, &r->sum);
	return 0;
}

/* ---- JSON ---------------------------------------------------------- */

static void add_metrics(cJSON *o, const mt_window *m)
{
	env_add_number(o, "rmse", m->rmse);
	env_add_number(o, "mae", m->mae);
	env_add_number(o, "mape", m->mape);
	env_add_number(o, "smape", m->smape);
	env_add_number(o, "mase", m->mase);
	env_add_number(o, "bias", m->bias);
	env_add_number(o, "err_std", m->err_std);
	env_add_number(o, "cov80", m->cov80);
	env_add_number(o, "width80", m->width80);
	env_add_number(o, "cov95", m->cov95);
	env_add_number(o, "width95", m->width95);
	env_add_number(o, "pinball", m->pinball);
	env_add_number(o, "crps", m->crps);
	env_add_number(o, "sse", m->sse);
	env_add_number(o, "seconds", m->seconds);
}

cJSON *mt_summary_json(const mt_summary *m)
{
	cJSON *o = cJSON_CreateObject();
	add_metrics(o, m);
	return o;
}

cJSON *bt_result_json(const bt_result *r, const series *s, int with_windows)
{
	cJSON *o = mt_summary_json(&r->sum);
	cJSON_AddNumberToObject(o, "nwin", r->nwin);
	cJSON_AddNumberToObject(o, "steps", r->steps);
	if (!with_windows)
		return o;
	cJSON *arr = cJSON_AddArrayToObject(o, "windows");
	for (int i = 0; i < r->nwin; i++) {
		const mt_window *w = &r->win[i];
		cJSON *j = cJSON_CreateObject();
		char d[11];
		cJSON_AddNumberToObject(j, "origin", w->origin);
		cp_format_date(s->day[w->origin - 1], d);
		cJSON_AddStringToObject(j, "origin_date", d);
		cp_format_date(s->day[w->origin + r->steps - 1], d);
		cJSON_AddStringToObject(j, "target_end_date", d);
		add_metrics(j, w);
		cJSON_AddItemToArray(arr, j);
	}
	return o;
}
