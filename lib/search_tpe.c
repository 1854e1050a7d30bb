/* search_tpe.c — the TPE search (opt-search --method tpe).
 *
 * Trials come in batches of opt.tpe_batch: every trial of a batch is
 * suggested from the same finished trials (tpe.h: trial i draws from its
 * own stream, so the batch differs and is reproducible), then the batch is
 * scored together, its units spread over --jobs. The batch size, not
 * --jobs, decides what the sampler sees, so any --jobs gives the same
 * result.
 *
 * The budget (opt.trials) counts configs scored. A suggestion equal to a
 * config already scored costs nothing: its windows are scored already (the
 * same config, window and seed give the same numbers); it enters the
 * sampler's history again, as a repeated Optuna trial would, and does not
 * count. A batch ends early after 50 suggestions in a row that brought no
 * new config; a batch with no new config ends the search (the sampler has
 * converged), as does a space with no config left to score.
 *
 * Pruning (opt.prune_fraction > 0): rung 0 holds the first
 * ceil(W * prune_fraction) windows of the spread-out order
 * (sp_window_order), rung 1 all W. A new config is scored on rung 0; it is
 * pruned when its RMSE there is above the median RMSE of the completed
 * configs on the same windows, once opt.prune_min_trials configs have
 * completed (tpe_prune); else it is scored on the rest. A pruned config
 * enters the history as pruned with its rung-0 RMSE. */
#include "search.h"
#include "search_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int find_config(const sr_search *S, const fc_config *c)
{
	for (int t = 0; t < S->ntrial; t++) {
		const fc_config *x = &S->trial[t].cfg;
		if (x->context_length == c->context_length && x->num_samples == c->num_samples &&
		    x->temperature == c->temperature && x->top_k == c->top_k && x->top_p == c->top_p)
			return t;
	}
	return -1;
}

static int add_config(sr_search *S, const fc_config *c)
{
	int t = S->ntrial, W = S->W;
	S->trial = cp_realloc(S->trial, (size_t)(t + 1) * sizeof(sr_trial));
	S->score = cp_realloc(S->score, (size_t)(t + 1) * W * sizeof(mt_window));
	S->have = cp_realloc(S->have, (size_t)(t + 1) * W);
	S->rung_of = cp_realloc(S->rung_of, (size_t)(t + 1) * sizeof(int));
	memset(&S->trial[t], 0, sizeof(sr_trial));
	memset(S->score + (size_t)t * W, 0, (size_t)W * sizeof(mt_window));
	memset(S->have + (size_t)t * W, 0, (size_t)W);
	if (S->point) {
		size_t per = (size_t)W * S->steps;
		S->point = cp_realloc(S->point, (size_t)(t + 1) * per * sizeof(double));
		S->point_have = cp_realloc(S->point_have, (size_t)(t + 1) * W);
		memset(S->point + (size_t)t * per, 0, per * sizeof(double));
		memset(S->point_have + (size_t)t * W, 0, (size_t)W);
	}
	S->trial[t].grid = -1;
	S->trial[t].cfg = *c;
	S->trial[t].eff_ctx = S->max_context > 0 && c->context_length > S->max_context
	                      ? S->max_context : c->context_length;
	S->rung_of[t] = 0;
	S->ntrial = t + 1;
	return t;
}

/* RMSE of config t on the windows of rung 0 (the pruning windows). */
static double rung0_rmse(const sr_search *S, int t, const unsigned char *mask)
{
	mt_summary m;
	return sr_aggregate(S, t, mask, &m) > 0 ? m.rmse : NAN;
}

int sr_tpe_pruned(const sr_search *S, int t)
{
	return S->opt.method == SR_TPE && S->nrung == 2 && S->rung_of[t] == 0 &&
	       sr_trial_windows(S, t) > 0;
}

int sr_execute_tpe(sr_search *S, const series *s, forecaster *f, forecaster *rw, int jobs,
                   double deadline, sr_progress_fn progress, void *pctx, double t0, int *done,
                   cp_err *e)
{
	tpe_param p[SP_NDIM];
	int dim[SP_NDIM];
	int np = sp_tpe_params(&S->opt.space, p, dim);
	int budget = S->opt.trials, W = S->W, maxsug = 51 * budget + 64;
	double room = sp_tpe_size(&S->opt.space);  /* INFINITY for a continuous range */
	if (room < budget)
		budget = (int)room;
	double *xs = cp_calloc((size_t)maxsug * (np ? np : 1), sizeof(double));
	tpe_trial *h = cp_calloc((size_t)maxsug + 1, sizeof(tpe_trial));
	unsigned char *mask = cp_calloc((size_t)W, 1);
	double *done_rmse = cp_calloc((size_t)budget + 1, sizeof(double));
	for (int k = 0; k < S->rung_win[0]; k++)
		mask[S->order[k]] = 1;
	S->sug = cp_realloc(S->sug, (size_t)maxsug * sizeof(int));
	int rc = 0;
	S->tpe_stop = room <= S->opt.trials ? SR_TPE_EXHAUSTED : SR_TPE_BUDGET;
	while (S->ntrial < budget && S->nsug < maxsug && rc == 0) {
		if (S->nsug > 0 && cp_now() > deadline) {
			S->partial = 1;
			S->tpe_stop = SR_TPE_TIME;
			break;
		}
		/* The history: every trial so far, by its config's state. */
		int nh = 0;
		for (int i = 0; i < S->nsug; i++) {
			int t = S->sug[i];
			int pruned = sr_tpe_pruned(S, t);
			mt_summary m;
			double v = sr_aggregate(S, t, pruned ? mask : NULL, &m) > 0 ? m.rmse : NAN;
			h[nh++] = (tpe_trial){xs + (size_t)i * np, v, pruned ? TPE_PRUNED : TPE_COMPLETE,
			                      sr_trial_windows(S, t), i};
		}
		/* A batch: tpe_batch new configs (or what the budget has left), the
		 * repeats among the suggestions on top, free. */
		int want = budget - S->ntrial < S->opt.tpe_batch ? budget - S->ntrial : S->opt.tpe_batch;
		int first_new = S->ntrial, streak = 0;
		while (S->ntrial - first_new < want && streak < 50 && S->nsug < maxsug) {
			int number = S->nsug;
			double *x = xs + (size_t)number * np;
			if (tpe_suggest(p, np, h, nh, &S->opt.tpe, S->opt.sampler_seed, number, x) < 0) {
				rc = cp_fail(e, CP_INTERNAL, "out of memory in the TPE sampler");
				break;
			}
			fc_config c;
			sp_tpe_config(&S->opt.space, x, dim, np, &c);
			int t = find_config(S, &c);
			S->sug[S->nsug++] = t >= 0 ? t : add_config(S, &c);
			streak = t >= 0 ? streak + 1 : 0;
			if (t >= 0 && t < first_new) {  /* a scored config: its value is known now */
				int pruned = sr_tpe_pruned(S, t);
				mt_summary m;
				double v = sr_aggregate(S, t, pruned ? mask : NULL, &m) > 0 ? m.rmse : NAN;
				h[nh++] = (tpe_trial){x, v, pruned ? TPE_PRUNED : TPE_COMPLETE,
				                      sr_trial_windows(S, t), number};
			}
		}
		if (rc < 0)
			break;
		if (S->ntrial == first_new) {
			S->tpe_stop = SR_TPE_CONVERGED;
			break;
		}
		if (sr_run_rung(S, 0, s, f, rw, jobs, deadline, progress, pctx, t0, done, e) < 0) {
			rc = -1;
			break;
		}
		if (S->partial)
			break;
		if (S->nrung < 2)
			continue;
		/* The pruning check, against the configs completed before this batch. */
		int nd = 0;
		for (int t = 0; t < first_new; t++)
			if (S->rung_of[t] == 1)
				done_rmse[nd++] = rung0_rmse(S, t, mask);
		for (int t = first_new; t < S->ntrial; t++)
			if (!tpe_prune(rung0_rmse(S, t, mask), done_rmse, nd, S->opt.prune_min_trials))
				S->rung_of[t] = 1;
		if (sr_run_rung(S, 1, s, f, rw, jobs, deadline, progress, pctx, t0, done, e) < 0) {
			rc = -1;
			break;
		}
		if (S->partial)
			break;
	}
	if (S->partial)
		S->tpe_stop = SR_TPE_TIME;
	free(xs);
	free(h);
	free(mask);
	free(done_rmse);
	return rc;
}
