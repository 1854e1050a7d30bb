/* search_ensemble.c — the ensemble selection after a search (sr_ensemble,
 * search.h): the pool, the baselines' forecasts on the search windows and
 * the greedy selection of ensemble.h. */
#include "search.h"
#include "search_internal.h"
#include "backtest.h"
#include "ensemble.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const baseline_name[] = {"random_walk", "drift"};
enum { NBASE = 2 };

/* Point forecasts of baseline b with cfg on every search window into
 * out[w*steps + h]. */
static int baseline_points(const sr_search *S, const series *s, const char *name,
                           const fc_config *cfg, double *out, cp_err *e)
{
	forecaster *f = baseline_new(name, 1, e);
	if (!f)
		return -1;
	int W = S->W, steps = S->steps, N = cfg->num_samples;
	const double **ctx = cp_malloc((size_t)W * sizeof(double *));
	int *nctx = cp_malloc((size_t)W * sizeof(int));
	uint64_t *stream = cp_malloc((size_t)W * sizeof(uint64_t));
	for (int w = 0; w < W; w++) {
		int o = S->origin[w];
		int c = cfg->context_length < o ? cfg->context_length : o;
		ctx[w] = s->y + (o - c);
		nctx[w] = c;
		stream[w] = (uint64_t)o;
	}
	double *paths = cp_malloc((size_t)W * (size_t)N * (size_t)steps * sizeof(double));
	int rc = f->forecast(f, cfg, W, ctx, nctx, steps, S->seed, stream, paths, out, e);
	if (rc < 0)
		cp_prefix(e, "ensemble: %s", name);
	else if (rc != 1)
		rc = cp_fail(e, CP_INTERNAL, "ensemble: %s gave no point forecast", name);
	f->free(f);
	free(ctx), free(nctx), free(stream), free(paths);
	return rc < 0 ? -1 : 0;
}

static int complete(const sr_search *S, int t)
{
	for (int w = 0; w < S->W; w++)
		if (!S->point_have[(size_t)t * S->W + w])
			return 0;
	return 1;
}

int sr_ensemble(sr_search *S, const series *s, cp_err *e)
{
	sr_ensemble_result *R = &S->ens;
	if (S->opt.ensemble <= 0 || !S->point)
		return 0;
	if (!strcmp(S->family, "chronos-bolt") || !strcmp(S->family, "chronos-2")) {
		snprintf(R->skipped, sizeof(R->skipped), "%s is a quantile model: ensembles mix sample "
		         "paths (Chronos-T5 and the baselines)", S->family);
		return 0;
	}
	int W = S->W, steps = S->steps;
	size_t per = (size_t)W * steps;
	int nc = 0, *pool = cp_malloc((size_t)(S->ntrial + 1) * sizeof(int));
	fc_config bcfg = {1, 1, 1.0, 0, 1.0};
	for (int t = 0; t < S->ntrial; t++)
		if (complete(S, t)) {
			pool[nc++] = t;
			if (S->trial[t].eff_ctx > bcfg.context_length)
				bcfg.context_length = S->trial[t].eff_ctx;
			if (S->trial[t].cfg.num_samples > bcfg.num_samples)
				bcfg.num_samples = S->trial[t].cfg.num_samples;
		}
	if (nc == 0) {
		free(pool);
		snprintf(R->skipped, sizeof(R->skipped), "no config was scored on every search window");
		return 0;
	}
	int m = nc + NBASE;
	const double **pt = cp_malloc((size_t)m * sizeof(double *));
	double *base = cp_malloc((size_t)NBASE * per * sizeof(double));
	for (int i = 0; i < nc; i++)
		pt[i] = S->point + (size_t)pool[i] * per;
	for (int b = 0; b < NBASE; b++) {
		if (baseline_points(S, s, baseline_name[b], &bcfg, base + (size_t)b * per, e) < 0) {
			free(pool), free(pt), free(base);
			return -1;
		}
		pt[nc + b] = base + (size_t)b * per;
	}
	double *actual = cp_malloc(per * sizeof(double));
	for (int w = 0; w < W; w++)
		memcpy(actual + (size_t)w * steps, s->y + S->origin[w], (size_t)steps * sizeof(double));

	int *count = cp_malloc((size_t)m * sizeof(int));
	double *wt = cp_calloc((size_t)m, sizeof(double));
	R->picks = en_select(pt, m, actual, W, steps, S->opt.ensemble, count, &R->rmse);
	R->pool = m;
	R->pool_configs = nc;
	/* the best alone, as the selection started */
	double br = NAN;
	int bi = 0;
	for (int i = 0; i < m; i++) {
		memset(wt, 0, (size_t)m * sizeof(double));
		wt[i] = 1;
		double r = en_rmse(pt, wt, m, actual, W, steps);
		if (i == 0 || (!isnan(r) && (isnan(br) || r < br)))
			bi = i, br = r;
	}
	R->best_rmse = br;
	R->best_trial = bi < nc ? pool[bi] : -1;
	snprintf(R->best_model, sizeof(R->best_model), "%s", bi < nc ? "" : baseline_name[bi - nc]);

	/* the members, in pool order */
	en_weights(count, m, wt);
	int n = 0;
	for (int i = 0; i < m; i++)
		n += count[i] > 0;
	R->members.n = n;
	R->members.m = cp_calloc((size_t)n, sizeof(fc_member));
	R->trial = cp_malloc((size_t)n * sizeof(int));
	R->count = cp_malloc((size_t)n * sizeof(int));
	for (int i = 0, k = 0; i < m; i++) {
		if (count[i] == 0)
			continue;
		fc_member *mb = &R->members.m[k];
		mb->weight = wt[i];
		if (i < nc) {
			const sr_trial *tr = &S->trial[pool[i]];
			mb->model = cp_strdup(S->model_dir);
			snprintf(mb->sha256, sizeof(mb->sha256), "%s", S->sha256);
			mb->cfg = tr->cfg;
			mb->cfg.context_length = tr->eff_ctx;  /* what the model saw */
			R->trial[k] = pool[i];
		} else {
			mb->model = cp_strdup(baseline_name[i - nc]);
			mb->cfg = bcfg;
			R->trial[k] = -1;
		}
		R->count[k] = count[i];
		k++;
	}

	/* the ensemble's windows, scored as any config's (no sample paths:
	 * RMSE, MAE, MAPE, sMAPE, MASE, bias; the interval fields are null) */
	double *f = cp_malloc(per * sizeof(double));
	en_combine(pt, wt, m, per, f);
	mt_window *win = cp_malloc((size_t)W * sizeof(mt_window));
	for (int w = 0; w < W; w++) {
		int o = S->origin[w];
		mt_score(s->y + o, f + (size_t)w * steps, NULL, 0, steps, bt_mase_scale(s, o), &win[w]);
		win[w].origin = o;
		win[w].seconds = 0;
	}
	mt_aggregate(win, W, steps, &R->metrics);
	mt_summary rws;
	R->rw_rmse = sr_aggregate(S, -1, NULL, &rws) == W ? rws.rmse : NAN;
	R->done = 1;
	free(f), free(win), free(count), free(wt), free(actual), free(pool), free(pt), free(base);
	return 0;
}
