/* search_json.c — the search's JSON: the report section (sr_section), the
 * plan / unit / result documents that let units run elsewhere (see
 * search.h), and the search options from settings. */
#include "search.h"
#include "search_internal.h"
#include "jsonutil.h"
#include "backtest.h"
#include "ensemble.h"
#include "envelope.h"
#include "settings.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- JSON */

static void add_exact(cJSON *o, const char *k, double v);
static char *fmt(char *buf, size_t n, double v);

static cJSON *config_json(const fc_config *c, int eff)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "context_length", c->context_length);
	if (eff >= 0)
		cJSON_AddNumberToObject(j, "effective_context", eff);
	cJSON_AddNumberToObject(j, "num_samples", c->num_samples);
	cp_json_add_exact(j, "temperature", c->temperature);
	cJSON_AddNumberToObject(j, "top_k", c->top_k);
	cp_json_add_exact(j, "top_p", c->top_p);
	return j;
}

static void add_date(cJSON *j, const char *key, int32_t day)
{
	char d[11];
	cp_format_date(day, d);
	cJSON_AddStringToObject(j, key, d);
}

static double ratio(double a, double b)
{
	return isfinite(a) && isfinite(b) && b > 0 ? a / b : NAN;
}

/* RMSE of trial t over the random walk's RMSE on the same windows. */
static double rw_ratio(const sr_search *S, int t, const mt_summary *m)
{
	unsigned char *mask = cp_calloc((size_t)S->W + 1, 1);
	for (int w = 0; w < S->W; w++)
		mask[w] = S->have[(size_t)t * S->W + w];
	mt_summary rw;
	int n = sr_aggregate(S, -1, mask, &rw);
	free(mask);
	return n > 0 ? ratio(m->rmse, rw.rmse) : NAN;
}

static cJSON *trial_config_json(const sr_trial *t)
{
	return config_json(&t->cfg, t->eff_ctx);
}

static char *fmt(char *buf, size_t n, double v)
{
	if (isfinite(v))
		snprintf(buf, n, "%.4g", v);
	else
		snprintf(buf, n, "n/a");
	return buf;
}

/* The cost of trial t under the search's cost objective: mean seconds per
 * window, or tokens per forecast (encoder context plus decoded tokens:
 * num_samples x steps for a sampling model, steps for a quantile one). */
static double sr_trial_cost(const sr_search *S, int t)
{
	const sr_trial *tr = &S->trial[t];
	if (S->opt.cost == SR_COST_SECONDS) {
		mt_summary m;
		int n = sr_aggregate(S, t, NULL, &m);
		return n > 0 ? m.seconds / n : NAN;
	}
	int quantile = !strcmp(S->family, "chronos-bolt") || !strcmp(S->family, "chronos-2");
	return (double)tr->eff_ctx + (double)(quantile ? 1 : tr->cfg.num_samples) * S->steps;
}

/* The Pareto front of (RMSE, cost) over the configs scored on as many
 * windows as `lowest` (the lowest-RMSE config), into j.pareto; returns the
 * chosen config (the cheapest on the front within the tolerance) and sets
 * *bm to its metrics. */
static int pareto(const sr_search *S, cJSON *j, int lowest, mt_summary *bm)
{
	int nw = sr_trial_windows(S, lowest), n = 0;
	int *id = cp_malloc((size_t)S->ntrial * sizeof(int));
	double *r = cp_malloc((size_t)S->ntrial * sizeof(double));
	double *c = cp_malloc((size_t)S->ntrial * sizeof(double));
	for (int t = 0; t < S->ntrial; t++) {
		mt_summary m;
		if (sr_trial_windows(S, t) != nw || sr_aggregate(S, t, NULL, &m) <= 0 || isnan(m.rmse))
			continue;
		id[n] = t, r[n] = m.rmse, c[n] = sr_trial_cost(S, t);
		n++;
	}
	/* Non-dominated: no other config at most as bad in both and better in one. */
	double limit = r[0];
	for (int a = 0; a < n; a++)
		limit = r[a] < limit ? r[a] : limit;
	limit *= 1 + S->opt.pareto_tol_pct / 100;
	cJSON *p = cJSON_AddObjectToObject(j, "pareto");
	cJSON *ob = cJSON_AddArrayToObject(p, "objectives");
	cJSON_AddItemToArray(ob, cJSON_CreateString("rmse"));
	cJSON_AddItemToArray(ob, cJSON_CreateString(S->opt.cost == SR_COST_SECONDS ? "seconds"
	                                                                            : "cost"));
	env_add_number(p, "tolerance_pct", S->opt.pareto_tol_pct);
	cJSON *fr = cJSON_AddArrayToObject(p, "front");
	int chosen = -1;
	double cc = 0;
	/* In order of cost (then RMSE, then trial): selection over the n points. */
	char *used = cp_calloc((size_t)n + 1, 1);
	for (;;) {
		int k = -1;
		for (int a = 0; a < n; a++)
			if (!used[a] && (k < 0 || c[a] < c[k] || (c[a] == c[k] && (r[a] < r[k] ||
			                 (r[a] == r[k] && id[a] < id[k])))))
				k = a;
		if (k < 0)
			break;
		used[k] = 1;
		int dominated = 0;
		for (int b = 0; b < n && !dominated; b++)
			dominated = b != k && r[b] <= r[k] && c[b] <= c[k] && (r[b] < r[k] || c[b] < c[k]);
		if (dominated)
			continue;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "trial", id[k]);
		env_add_number(o, "rmse", r[k]);
		env_add_number(o, "cost", c[k]);
		cJSON_AddItemToArray(fr, o);
		if (r[k] <= limit && (chosen < 0 || c[k] < cc))
			chosen = id[k], cc = c[k];
	}
	free(used);
	if (chosen < 0)
		chosen = lowest;
	cJSON_AddNumberToObject(p, "lowest_rmse_trial", lowest);
	cJSON_AddNumberToObject(p, "chosen", chosen);
	char rule[256];
	snprintf(rule, sizeof(rule), "the cheapest config of the front whose RMSE is within %g %% of "
	         "the lowest", S->opt.pareto_tol_pct);
	cJSON_AddStringToObject(p, "rule", rule);
	free(id), free(r), free(c);
	sr_aggregate(S, chosen, NULL, bm);
	return chosen;
}

/* The "ensemble" object of the section, or NULL when none was asked for. */
static cJSON *ensemble_json(const sr_search *S)
{
	const sr_ensemble_result *E = &S->ens;
	if (S->opt.ensemble <= 0)
		return NULL;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "size", S->opt.ensemble);
	cJSON_AddStringToObject(j, "metric", "rmse");
	if (!E->done) {
		cJSON_AddStringToObject(j, "status", "skipped");
		cJSON_AddStringToObject(j, "skipped", E->skipped);
		char sum[384];
		snprintf(sum, sizeof(sum), "no ensemble: %s", E->skipped);
		cJSON_AddStringToObject(j, "summary", sum);
		return j;
	}
	cJSON_AddStringToObject(j, "status", "done");
	cJSON_AddNumberToObject(j, "pool", E->pool);
	cJSON_AddNumberToObject(j, "pool_configs", E->pool_configs);
	cJSON *ba = cJSON_AddArrayToObject(j, "baselines");
	cJSON_AddItemToArray(ba, cJSON_CreateString("random_walk"));
	cJSON_AddItemToArray(ba, cJSON_CreateString("drift"));
	cJSON_AddNumberToObject(j, "picks", E->picks);
	cJSON *ma = cJSON_AddArrayToObject(j, "members");
	for (int i = 0; i < E->members.n; i++) {
		const fc_member *m = &E->members.m[i];
		cJSON *o = cJSON_CreateObject();
		cp_json_add_exact(o, "weight", m->weight);
		cJSON_AddNumberToObject(o, "count", E->count[i]);
		if (E->trial[i] >= 0)
			cJSON_AddNumberToObject(o, "trial", E->trial[i]);
		else
			cJSON_AddNullToObject(o, "trial");
		cJSON *md = cJSON_AddObjectToObject(o, "model");
		cJSON_AddStringToObject(md, "dir", m->model);
		if (m->sha256[0])
			cJSON_AddStringToObject(md, "sha256", m->sha256);
		else
			cJSON_AddNullToObject(md, "sha256");
		cJSON_AddItemToObject(o, "config", fc_config_json(&m->cfg));
		cJSON_AddItemToArray(ma, o);
	}
	add_exact(j, "rmse", E->rmse);
	cJSON *bo = cJSON_AddObjectToObject(j, "best_member");
	if (E->best_trial >= 0) {
		cJSON_AddNumberToObject(bo, "trial", E->best_trial);
		cJSON_AddStringToObject(bo, "model", S->model_dir);
	} else {
		cJSON_AddNullToObject(bo, "trial");
		cJSON_AddStringToObject(bo, "model", E->best_model);
	}
	add_exact(bo, "rmse", E->best_rmse);
	cJSON_AddItemToObject(j, "metrics", mt_summary_json(&E->metrics));
	env_add_number(j, "rmse_vs_rw", ratio(E->metrics.rmse, E->rw_rmse));
	char sum[512], x1[32], x2[32], x3[32];
	double gain = ratio(E->rmse, E->best_rmse);
	snprintf(sum, sizeof(sum), "ensemble of %d member%s (%d pick%s of up to %d, from %d configs and "
	         "2 baselines): RMSE %s on the search windows, %sx the best member alone (%s)",
	         E->members.n, E->members.n == 1 ? "" : "s", E->picks, E->picks == 1 ? "" : "s",
	         S->opt.ensemble, E->pool_configs, fmt(x1, sizeof(x1), E->rmse),
	         fmt(x2, sizeof(x2), gain), fmt(x3, sizeof(x3), E->best_rmse));
	cJSON_AddStringToObject(j, "summary", sum);
	return j;
}

cJSON *sr_section(const sr_search *S, const char *run_id, const char *now, double seconds)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "status", S->partial ? "partial" : "done");
	env_add_number(j, "seconds", seconds);
	cJSON_AddStringToObject(j, "method", sr_method_name[S->opt.method]);
	add_exact(j, "seed", (double)S->seed); /* cJSON keeps 15 digits */
	cJSON *m = cJSON_AddObjectToObject(j, "model");
	cJSON_AddStringToObject(m, "dir", S->model_dir);
	if (S->sha256[0])
		cJSON_AddStringToObject(m, "sha256", S->sha256);
	else
		cJSON_AddNullToObject(m, "sha256");
	cJSON_AddNumberToObject(m, "max_context", S->max_context);
	cJSON_AddNumberToObject(m, "prefix_horizon", S->prefix_horizon);
	if (S->threads > 0)
		cJSON_AddNumberToObject(m, "threads", S->threads);
	if (S->family[0])
		cJSON_AddStringToObject(m, "family", S->family);
	cJSON_AddItemToObject(j, "space", sp_to_json(&S->opt.space));

	/* The split. */
	cJSON *sp = cJSON_AddObjectToObject(j, "split");
	cJSON_AddNumberToObject(sp, "search_origins", S->W);
	cJSON_AddNumberToObject(sp, "stride", S->opt.stride);
	cJSON_AddNumberToObject(sp, "holdout_origins", S->opt.holdout);
	cJSON_AddNumberToObject(sp, "holdout_stride", S->opt.holdout_stride);
	cJSON_AddNumberToObject(sp, "gap", S->opt.holdout > 0 ? S->steps : 0);
	char a[11], b[11], c[11] = "", d[11] = "", sum[512];
	cp_format_date(S->date[0], a);
	cp_format_date(S->date[S->W - 1], b);
	add_date(sp, "first_search_date", S->date[0]);
	add_date(sp, "last_search_date", S->date[S->W - 1]);
	if (S->hold_first >= 0) {
		cp_format_date(S->hold_date[0], c);
		cp_format_date(S->hold_date[1], d);
		cJSON_AddStringToObject(sp, "first_holdout_date", c);
		cJSON_AddStringToObject(sp, "last_holdout_date", d);
		snprintf(sum, sizeof(sum),
		         "scored on %d origins from %s to %s (stride %d); the %d most recent origins, "
		         "%s to %s, are held out for opt-validate, and no search window forecasts a "
		         "value they forecast",
		         S->W, a, b, S->opt.stride, S->opt.holdout, c, d);
	} else {
		cJSON_AddNullToObject(sp, "first_holdout_date");
		cJSON_AddNullToObject(sp, "last_holdout_date");
		snprintf(sum, sizeof(sum),
		         "scored on %d origins from %s to %s (stride %d); nothing held out", S->W, a, b,
		         S->opt.stride);
	}
	cJSON_AddStringToObject(sp, "summary", sum);

	cJSON *wa = cJSON_AddArrayToObject(j, "windows");
	for (int w = 0; w < S->W; w++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "origin", S->origin[w]);
		add_date(o, "date", S->date[w]);
		cJSON_AddItemToArray(wa, o);
	}
	if (S->opt.method == SR_HALVING) {
		cJSON *h = cJSON_AddObjectToObject(j, "halving");
		cJSON_AddNumberToObject(h, "eta", S->opt.eta);
		cJSON *r = cJSON_AddArrayToObject(h, "rungs");
		for (int i = 0; i < S->nrung; i++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddNumberToObject(o, "configs", S->keep[i]);
			cJSON_AddNumberToObject(o, "windows", S->rung_win[i]);
			cJSON_AddItemToArray(r, o);
		}
	}

	if (S->opt.method == SR_TPE) {
		int pruned = 0;
		for (int t = 0; t < S->ntrial; t++)
			pruned += sr_tpe_pruned(S, t);
		cJSON *h = cJSON_AddObjectToObject(j, "tpe");
		cJSON_AddNumberToObject(h, "trials", S->nsug);
		cJSON_AddNumberToObject(h, "budget", S->opt.trials);
		cJSON_AddNumberToObject(h, "configs", S->ntrial);
		cJSON_AddNumberToObject(h, "repeated", S->nsug - S->ntrial);
		cJSON_AddStringToObject(h, "stopped", sr_tpe_stop_name[S->tpe_stop]);
		cJSON_AddNumberToObject(h, "pruned", pruned);
		add_exact(h, "sampler_seed", (double)S->opt.sampler_seed);
		cJSON_AddNumberToObject(h, "startup_trials", S->opt.tpe.n_startup);
		cJSON_AddNumberToObject(h, "candidates", S->opt.tpe.n_candidates);
		cJSON_AddNumberToObject(h, "batch", S->opt.tpe_batch);
		env_add_number(h, "prune_fraction", S->opt.prune_fraction);
		cJSON_AddNumberToObject(h, "prune_windows", S->nrung == 2 ? S->rung_win[0] : 0);
		cJSON_AddNumberToObject(h, "prune_min_trials", S->opt.prune_min_trials);
		cJSON *seq = cJSON_AddArrayToObject(h, "sequence");
		for (int i = 0; i < S->nsug; i++)
			cJSON_AddItemToArray(seq, cJSON_CreateNumber(S->sug[i]));
	}

	/* Trials. */
	int evaluated = 0;
	cJSON *ta = cJSON_AddArrayToObject(j, "trials");
	for (int t = 0; t < S->ntrial; t++) {
		mt_summary ms;
		int nw = sr_aggregate(S, t, NULL, &ms);
		if (nw <= 0)
			continue;
		evaluated++;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "trial", t);
		cJSON_AddItemToObject(o, "config", trial_config_json(&S->trial[t]));
		cJSON_AddNumberToObject(o, "windows", nw);
		if (S->opt.method == SR_HALVING)
			cJSON_AddNumberToObject(o, "rung", S->rung_of[t]);
		if (S->opt.method == SR_TPE)
			cJSON_AddBoolToObject(o, "pruned", sr_tpe_pruned(S, t));
		if (S->opt.cost != SR_COST_NONE)
			env_add_number(o, "cost", sr_trial_cost(S, t));
		cJSON_AddItemToObject(o, "metrics", mt_summary_json(&ms));
		env_add_number(o, "rmse_vs_rw", rw_ratio(S, t, &ms));
		cJSON_AddItemToArray(ta, o);
	}
	cJSON_AddNumberToObject(j, "trials_planned", S->ntrial);
	cJSON_AddNumberToObject(j, "trials_evaluated", evaluated);
	mt_summary rws;
	if (sr_aggregate(S, -1, NULL, &rws) > 0)
		cJSON_AddItemToObject(j, "random_walk", mt_summary_json(&rws));
	else
		cJSON_AddNullToObject(j, "random_walk");

	/* Reuse. */
	cJSON *ru = cJSON_AddObjectToObject(j, "reuse");
	cJSON_AddNumberToObject(ru, "calls", (double)S->calls);
	cJSON_AddNumberToObject(ru, "sample_steps", (double)S->sample_steps);
	cJSON_AddNumberToObject(ru, "independent_calls", (double)S->indep_calls);
	cJSON_AddNumberToObject(ru, "independent_sample_steps", (double)S->indep_sample_steps);
	double rs = ratio((double)S->sample_steps, (double)S->indep_sample_steps);
	double rc = ratio((double)S->calls, (double)S->indep_calls);
	env_add_number(ru, "sample_step_ratio", rs);
	env_add_number(ru, "call_ratio", rc);
	char r1[32], r2[32], rsum[512];
	snprintf(rsum, sizeof(rsum),
	         "%lld forecaster calls and %lld sample-steps instead of %lld and %lld for the "
	         "configs one by one (%sx the sample-steps, %sx the calls)",
	         S->calls, S->sample_steps, S->indep_calls, S->indep_sample_steps,
	         fmt(r1, sizeof(r1), rs), fmt(r2, sizeof(r2), rc));
	cJSON_AddStringToObject(ru, "summary", rsum);

	cJSON *wr = cJSON_AddArrayToObject(j, "warnings");
	for (int i = 0; i < S->nwarn; i++)
		cJSON_AddItemToArray(wr, cJSON_CreateString(S->warn[i]));

	cJSON *ej = ensemble_json(S);
	if (ej)
		cJSON_AddItemToObject(j, "ensemble", ej);

	/* Best and candidate. */
	mt_summary bm;
	int best = sr_best_trial(S, &bm);
	int lowest = best;
	if (best >= 0 && S->opt.cost != SR_COST_NONE)
		best = pareto(S, j, best, &bm);
	cJSON *reasons = cJSON_CreateArray();
	if (best < 0) {
		cJSON_AddNullToObject(j, "best");
		cJSON_AddStringToObject(j, "summary", "no config was scored");
		cJSON_AddItemToObject(j, "reasons", reasons);
		cJSON_AddNullToObject(j, "candidate");
		return j;
	}
	const sr_trial *bt = &S->trial[best];
	int bw = sr_trial_windows(S, best);
	double brw = rw_ratio(S, best, &bm);
	cJSON *bo = cJSON_AddObjectToObject(j, "best");
	cJSON_AddNumberToObject(bo, "trial", best);
	cJSON_AddItemToObject(bo, "config", trial_config_json(bt));
	cJSON_AddNumberToObject(bo, "windows", bw);
	cJSON_AddItemToObject(bo, "metrics", mt_summary_json(&bm));
	env_add_number(bo, "rmse_vs_rw", brw);

	char x1[32], x2[32], s1[512], s2[512], how[128];
	if (!strcmp(S->family, "chronos-bolt") || !strcmp(S->family, "chronos-2"))
		snprintf(how, sizeof(how), "context_length %d (%s: quantiles, median as the point)",
		         bt->eff_ctx, S->family);
	else
		snprintf(how, sizeof(how), "context_length %d, num_samples %d, temperature %g",
		         bt->eff_ctx, bt->cfg.num_samples, bt->cfg.temperature);
	snprintf(s1, sizeof(s1), "%s of %d configs: %s%s: RMSE %s on %d windows, %sx the random walk",
	         best == lowest ? "best" : "chosen", evaluated, how,
	         S->partial ? " (partial search)" : "", fmt(x1, sizeof(x1), bm.rmse), bw,
	         fmt(x2, sizeof(x2), brw));
	cJSON_AddStringToObject(j, "summary", s1);
	if (S->opt.cost != SR_COST_NONE)
		snprintf(s2, sizeof(s2), "objectives %s: the cheapest config of the Pareto front whose RMSE "
		         "is within %g %% of the lowest among the configs scored on the most windows (%d)",
		         sr_objectives_name[S->opt.cost], S->opt.pareto_tol_pct, bw);
	else
		snprintf(s2, sizeof(s2), "lowest RMSE among the configs scored on the most windows (%d)", bw);
	cJSON_AddItemToArray(reasons, cJSON_CreateString(s2));
	cJSON_AddItemToArray(reasons, cJSON_CreateString(sum));
	cJSON_AddItemToArray(reasons, cJSON_CreateString(rsum));
	if (S->partial) {
		snprintf(s2, sizeof(s2),
		         "stopped by --max-seconds after %d of %d units: %d of %d configs scored",
		         S->units_run, S->units_total, evaluated, S->ntrial);
		cJSON_AddItemToArray(reasons, cJSON_CreateString(s2));
	}
	const sr_ensemble_result *E = &S->ens;
	int use_ens = E->done && !(E->members.n == 1 && E->trial[0] == best);
	if (ej)
		cJSON_AddItemToArray(reasons, cJSON_CreateString(
			cJSON_GetObjectItemCaseSensitive(ej, "summary")->valuestring));
	cJSON_AddItemToObject(j, "reasons", reasons);

	cJSON *cd = cJSON_AddObjectToObject(j, "candidate");
	cJSON_AddStringToObject(cd, "horizon", S->horizon);
	if (use_ens) {
		/* the ensemble: its call's settings for the readers that show
		 * them, its members for the tools that run it */
		fc_config call;
		fc_ensemble_call(&E->members, &call);
		fc_config_add_json(cd, &call);
		fc_ensemble_add_json(cd, &E->members);
		bm = E->metrics;
	} else {
		fc_config deployed = bt->cfg;  /* the context the model really saw */
		deployed.context_length = bt->eff_ctx;
		fc_config_add_json(cd, &deployed);
	}
	env_add_number(cd, "validation_rmse", bm.rmse);
	env_add_number(cd, "validation_mape", bm.mape);
	env_add_number(cd, "validation_mae", bm.mae);
	cJSON_AddNumberToObject(cd, "search_iterations", evaluated);
	env_add_number(cd, "optimization_time_seconds", seconds);
	cJSON_AddStringToObject(cd, "timestamp", now);
	cJSON *cm = cJSON_AddObjectToObject(cd, "model");
	cJSON_AddStringToObject(cm, "dir", S->model_dir);
	if (S->sha256[0])
		cJSON_AddStringToObject(cm, "sha256", S->sha256);
	else
		cJSON_AddNullToObject(cm, "sha256");
	cJSON_AddStringToObject(cd, "run_id", run_id);
	add_exact(cd, "seed", (double)S->seed);
	return j;
}

/* ------------------------------------------------ plan / unit / result */

/* An exact number: %.17g round-trips through strtod (cJSON's own printer
 * may keep 15 digits when they compare "close enough"). */
static cJSON *exact(double v)
{
	char b[40];
	if (!isfinite(v))
		return cJSON_CreateNull();
	snprintf(b, sizeof(b), "%.17g", v);
	return cJSON_CreateRaw(b);
}

static void add_exact(cJSON *o, const char *k, double v)
{
	cJSON_AddItemToObject(o, k, exact(v));
}

/* Read number o.k (or array item when k is NULL) into *v; NaN for null
 * when allow_null. Handles Raw items (in-memory plans). */
static int num_of(const cJSON *it, double *v, int allow_null)
{
	if (cJSON_IsNumber(it)) {
		*v = it->valuedouble;
		return 0;
	}
	if (cJSON_IsRaw(it) && it->valuestring) {
		if (strcmp(it->valuestring, "null") == 0 && allow_null) {
			*v = NAN;
			return 0;
		}
		char *end;
		*v = strtod(it->valuestring, &end);
		return *end ? -1 : 0;
	}
	if (cJSON_IsNull(it) && allow_null) {
		*v = NAN;
		return 0;
	}
	return -1;
}

static int get_int(const cJSON *o, const char *k, long lo, long hi, int *out, cp_err *e)
{
	double v;
	if (num_of(cJSON_GetObjectItemCaseSensitive(o, k), &v, 0) < 0 || v != floor(v) || v < lo ||
	    v > hi)
		return cp_fail(e, CP_DATA, "\"%s\" must be an integer in %ld..%ld", k, lo, hi);
	*out = (int)v;
	return 0;
}

static int get_num(const cJSON *o, const char *k, double *out, cp_err *e)
{
	if (num_of(cJSON_GetObjectItemCaseSensitive(o, k), out, 0) < 0 || !isfinite(*out))
		return cp_fail(e, CP_DATA, "\"%s\" must be a number", k);
	return 0;
}

static const char *get_str(const cJSON *o, const char *k, cp_err *e)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsString(s))
		return cp_fail(e, CP_DATA, "\"%s\" must be a string", k), NULL;
	return s->valuestring;
}

static int get_date(const cJSON *o, const char *k, int32_t *day, cp_err *e)
{
	const char *s = get_str(o, k, e);
	if (!s || cp_parse_date(s, day) < 0)
		return cp_fail(e, CP_DATA, "\"%s\" must be an ISO date", k);
	return 0;
}

cJSON *sr_plan_json(const sr_search *S)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "horizon", S->horizon);
	cJSON_AddNumberToObject(j, "steps", S->steps);
	add_exact(j, "seed", (double)S->seed);
	cJSON_AddStringToObject(j, "method", sr_method_name[S->opt.method]);
	cJSON *o = cJSON_AddObjectToObject(j, "options");
	cJSON_AddNumberToObject(o, "trials", S->opt.trials);
	cJSON_AddNumberToObject(o, "eta", S->opt.eta);
	cJSON_AddNumberToObject(o, "min_windows", S->opt.min_windows);
	cJSON_AddNumberToObject(o, "windows", S->opt.windows);
	cJSON_AddNumberToObject(o, "stride", S->opt.stride);
	cJSON_AddNumberToObject(o, "holdout", S->opt.holdout);
	cJSON_AddNumberToObject(o, "holdout_stride", S->opt.holdout_stride);
	cJSON_AddNumberToObject(o, "batch", S->opt.batch);
	cJSON_AddNumberToObject(o, "reuse", S->opt.reuse);
	cJSON *sp = cJSON_AddObjectToObject(j, "space");
	for (int d = 0; d < SP_NDIM; d++) {
		cJSON *a = cJSON_AddArrayToObject(sp, sp_dim_name[d]);
		for (int i = 0; i < S->opt.space.n[d]; i++)
			cJSON_AddItemToArray(a, exact(S->opt.space.v[d][i]));
	}
	cJSON *m = cJSON_AddObjectToObject(j, "model");
	cJSON_AddStringToObject(m, "dir", S->model_dir);
	cJSON_AddStringToObject(m, "sha256", S->sha256);
	cJSON_AddNumberToObject(m, "max_context", S->max_context);
	cJSON_AddNumberToObject(m, "prefix_horizon", S->prefix_horizon);
	cJSON_AddNumberToObject(m, "threads", S->threads);
	cJSON_AddStringToObject(m, "family", S->family);
	cJSON *se = cJSON_AddObjectToObject(j, "series");
	cJSON_AddStringToObject(se, "path", S->series_path);
	cJSON_AddStringToObject(se, "id", S->series_id);
	cJSON_AddStringToObject(se, "last_date", S->series_last);
	cJSON_AddNumberToObject(se, "length", S->series_len);
	cJSON_AddStringToObject(se, "missing", series_missing_name(S->series_missing));
	cJSON *w = cJSON_AddArrayToObject(j, "windows");
	for (int i = 0; i < S->W; i++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "origin", S->origin[i]);
		add_date(x, "date", S->date[i]);
		cJSON_AddItemToArray(w, x);
	}
	cJSON *h = cJSON_AddObjectToObject(j, "holdout");
	cJSON_AddNumberToObject(h, "first", S->hold_first);
	cJSON_AddNumberToObject(h, "last", S->hold_last);
	if (S->hold_first >= 0) {
		add_date(h, "first_date", S->hold_date[0]);
		add_date(h, "last_date", S->hold_date[1]);
	}
	cJSON *t = cJSON_AddArrayToObject(j, "trials");
	for (int i = 0; i < S->ntrial; i++)
		cJSON_AddItemToArray(t, cJSON_CreateNumber(S->trial[i].grid));
	return j;
}

int sr_plan_from_json(sr_search *S, const cJSON *p, cp_err *e)
{
	memset(S, 0, sizeof(*S));
	sr_options_default(&S->opt);
	S->hold_first = S->hold_last = -1;
	const char *s;
	double seed;
	if (!cJSON_IsObject(p))
		return cp_fail(e, CP_DATA, "no \"plan\" object");
	if (!(s = get_str(p, "horizon", e)))
		return -1;
	if (!cp_name_ok(s))
		return cp_fail(e, CP_DATA, "horizon '%.40s' is not a plain name", s);
	snprintf(S->horizon, sizeof(S->horizon), "%s", s);
	if (get_int(p, "steps", 1, 10000, &S->steps, e) < 0 || get_num(p, "seed", &seed, e) < 0)
		return -1;
	if (seed < 0 || seed > (double)CP_SEED_MAX || seed != floor(seed))
		return cp_fail(e, CP_DATA, "\"seed\" must be an integer in " CP_SEED_RANGE);
	S->seed = (uint64_t)seed;
	S->opt.seed = S->seed;
	if (!(s = get_str(p, "method", e)))
		return -1;
	int meth;
	for (meth = 0; meth < SR_NMETHOD && strcmp(s, sr_method_name[meth]) != 0; meth++)
		;
	if (meth == 3)
		return cp_fail(e, CP_DATA, "unknown method '%.40s'", s);
	S->opt.method = meth;
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(p, "options");
	if (get_int(o, "trials", 0, SP_MAX_CONFIGS, &S->opt.trials, e) < 0 ||
	    get_int(o, "eta", 2, 1000, &S->opt.eta, e) < 0 ||
	    get_int(o, "min_windows", 1, 100000, &S->opt.min_windows, e) < 0 ||
	    get_int(o, "windows", 1, 100000, &S->opt.windows, e) < 0 ||
	    get_int(o, "stride", 1, 100000, &S->opt.stride, e) < 0 ||
	    get_int(o, "holdout", 0, 100000, &S->opt.holdout, e) < 0 ||
	    get_int(o, "holdout_stride", 1, 100000, &S->opt.holdout_stride, e) < 0 ||
	    get_int(o, "batch", 0, 100000, &S->opt.batch, e) < 0 ||
	    get_int(o, "reuse", 0, 1, &S->opt.reuse, e) < 0)
		return -1;
	const cJSON *sp = cJSON_GetObjectItemCaseSensitive(p, "space");
	for (int d = 0; d < SP_NDIM; d++) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(sp, sp_dim_name[d]), *x;
		if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > SP_MAX_VALUES)
			return cp_fail(e, CP_DATA, "bad space \"%s\"", sp_dim_name[d]);
		cJSON_ArrayForEach(x, a) {
			if (num_of(x, &S->opt.space.v[d][S->opt.space.n[d]], 0) < 0)
				return cp_fail(e, CP_DATA, "bad space \"%s\"", sp_dim_name[d]);
			S->opt.space.n[d]++;
		}
	}
	if (sp_check(&S->opt.space, "plan space", CP_DATA, e) < 0)
		return -1;
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(p, "model");
	if (!(s = get_str(m, "dir", e)))
		return -1;
	S->model_dir = cp_strdup(s);
	if (!(s = get_str(m, "sha256", e)))
		return -1;
	snprintf(S->sha256, sizeof(S->sha256), "%s", s);
	if (get_int(m, "max_context", 0, 1000000, &S->max_context, e) < 0 ||
	    get_int(m, "prefix_horizon", 0, 1000000, &S->prefix_horizon, e) < 0 ||
	    get_int(m, "threads", 0, 256, &S->threads, e) < 0)
		return -1;
	const cJSON *fam = cJSON_GetObjectItemCaseSensitive(m, "family");
	if (cJSON_IsString(fam))
		snprintf(S->family, sizeof(S->family), "%s", fam->valuestring);
	const cJSON *se = cJSON_GetObjectItemCaseSensitive(p, "series");
	const char *sp_path = get_str(se, "path", e), *sp_id, *sp_last;
	if (!sp_path || !(sp_id = get_str(se, "id", e)) || !(sp_last = get_str(se, "last_date", e)) ||
	    get_int(se, "length", 1, 100000000, &S->series_len, e) < 0)
		return -1;
	const cJSON *mi = cJSON_GetObjectItemCaseSensitive(se, "missing");
	S->series_missing = SERIES_MISSING_ERROR;
	if (mi && (!cJSON_IsString(mi) || series_missing_parse(mi->valuestring, &S->series_missing) < 0))
		return cp_fail(e, CP_DATA, "plan: \"series\".\"missing\" must be \"error\", \"nan\" or \"drop\"");
	S->series_path = cp_strdup(sp_path);
	S->series_id = cp_strdup(sp_id);
	S->series_last = cp_strdup(sp_last);
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(p, "windows"), *x;
	if (!cJSON_IsArray(w) || cJSON_GetArraySize(w) != S->opt.windows)
		return cp_fail(e, CP_DATA, "\"windows\" must list %d windows", S->opt.windows);
	S->W = S->opt.windows;
	S->origin = cp_malloc((size_t)S->W * sizeof(int));
	S->date = cp_malloc((size_t)S->W * sizeof(int32_t));
	int i = 0;
	cJSON_ArrayForEach(x, w) {
		if (get_int(x, "origin", 1, S->series_len - 1, &S->origin[i], e) < 0 ||
		    get_date(x, "date", &S->date[i], e) < 0)
			return -1;
		i++;
	}
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(p, "holdout");
	if (get_int(h, "first", -1, S->series_len, &S->hold_first, e) < 0 ||
	    get_int(h, "last", -1, S->series_len, &S->hold_last, e) < 0)
		return -1;
	if (S->hold_first >= 0 && (get_date(h, "first_date", &S->hold_date[0], e) < 0 ||
	                           get_date(h, "last_date", &S->hold_date[1], e) < 0))
		return -1;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "trials");
	int size = sp_size(&S->opt.space);
	if (!cJSON_IsArray(t) || cJSON_GetArraySize(t) < 1 || cJSON_GetArraySize(t) > size)
		return cp_fail(e, CP_DATA, "\"trials\" must list 1 to %d grid indices", size);
	S->ntrial = cJSON_GetArraySize(t);
	S->trial = cp_calloc((size_t)S->ntrial, sizeof(sr_trial));
	i = 0;
	cJSON_ArrayForEach(x, t) {
		double g;
		if (num_of(x, &g, 0) < 0 || g != floor(g) || g < 0 || g >= size)
			return cp_fail(e, CP_DATA, "\"trials\" must list grid indices below %d", size);
		S->trial[i].grid = (int)g;
		sp_config(&S->opt.space, (int)g, &S->trial[i].cfg);
		i++;
	}
	sr_finish_setup(S);
	return 0;
}

cJSON *sr_unit_json(const sr_unit *u)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "kind", u->kind == SR_UNIT_RW ? "random_walk" : "model");
	cJSON_AddNumberToObject(j, "rung", u->rung);
	cJSON *c = cJSON_AddObjectToObject(j, "config");
	cJSON_AddNumberToObject(c, "context_length", u->call.context_length);
	cJSON_AddNumberToObject(c, "num_samples", u->call.num_samples);
	add_exact(c, "temperature", u->call.temperature);
	cJSON_AddNumberToObject(c, "top_k", u->call.top_k);
	add_exact(c, "top_p", u->call.top_p);
	cJSON *t = cJSON_AddArrayToObject(j, "trials");
	for (int i = 0; i < u->ntr; i++)
		cJSON_AddItemToArray(t, cJSON_CreateNumber(u->tr[i]));
	cJSON *w = cJSON_AddArrayToObject(j, "windows");
	for (int i = 0; i < u->nwin; i++)
		cJSON_AddItemToArray(w, cJSON_CreateNumber(u->win[i]));
	return j;
}

static int int_list(const cJSON *a, int lo, int hi, int **out, int *n, const char *what,
                    cp_err *e)
{
	*out = NULL;
	*n = 0;
	if (!cJSON_IsArray(a))
		return cp_fail(e, CP_DATA, "\"%s\" must be an array", what);
	int cnt = cJSON_GetArraySize(a), i = 0;
	*out = cp_malloc((size_t)(cnt + 1) * sizeof(int));
	const cJSON *x;
	cJSON_ArrayForEach(x, a) {
		double v;
		if (num_of(x, &v, 0) < 0 || v != floor(v) || v < lo || v > hi)
			return cp_fail(e, CP_DATA, "\"%s\" must hold integers in %d..%d", what, lo, hi);
		(*out)[i++] = (int)v;
	}
	*n = cnt;
	return 0;
}

int sr_unit_from_json(const sr_search *S, const cJSON *j, sr_unit *u, cp_err *e)
{
	memset(u, 0, sizeof(*u));
	const char *k = get_str(j, "kind", e);
	if (!k)
		return -1;
	if (strcmp(k, "model") == 0)
		u->kind = SR_UNIT_MODEL;
	else if (strcmp(k, "random_walk") == 0)
		u->kind = SR_UNIT_RW;
	else
		return cp_fail(e, CP_DATA, "unknown unit kind '%.40s'", k);
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "config");
	if (get_int(j, "rung", 0, S->nrung - 1, &u->rung, e) < 0 ||
	    get_int(c, "context_length", 1, 100000, &u->call.context_length, e) < 0 ||
	    get_int(c, "num_samples", 1, 100000, &u->call.num_samples, e) < 0 ||
	    get_num(c, "temperature", &u->call.temperature, e) < 0 ||
	    get_int(c, "top_k", 0, 100000, &u->call.top_k, e) < 0 ||
	    get_num(c, "top_p", &u->call.top_p, e) < 0)
		return -1;
	if (int_list(cJSON_GetObjectItemCaseSensitive(j, "trials"), 0, S->ntrial - 1, &u->tr,
	             &u->ntr, "trials", e) < 0 ||
	    int_list(cJSON_GetObjectItemCaseSensitive(j, "windows"), 0, S->W - 1, &u->win, &u->nwin,
	             "windows", e) < 0) {
		free(u->tr), free(u->win);
		memset(u, 0, sizeof(*u));
		return -1;
	}
	int bad = u->nwin < 1 || (u->kind == SR_UNIT_MODEL && u->ntr < 1);
	for (int i = 0; i < u->ntr && !bad; i++)
		bad = S->trial[u->tr[i]].cfg.num_samples > u->call.num_samples;
	if (bad) {
		free(u->tr), free(u->win);
		memset(u, 0, sizeof(*u));
		return cp_fail(e, CP_DATA, "unit does not fit its plan");
	}
	return 0;
}

/* Score row: the mt_window fields in this order. */
#define NFIELD 16
static void row_of(const mt_window *w, double *v)
{
	double x[NFIELD] = {w->rmse, w->mae, w->mape, w->smape, w->mase, w->bias,
	                    w->err_std, w->cov80, w->width80, w->cov95, w->width95, w->pinball,
	                    w->crps, w->seconds, w->sse, (double)w->origin};
	memcpy(v, x, sizeof(x));
}

static void window_of(const double *v, mt_window *w)
{
	w->rmse = v[0], w->mae = v[1], w->mape = v[2], w->smape = v[3], w->mase = v[4];
	w->bias = v[5], w->err_std = v[6], w->cov80 = v[7], w->width80 = v[8], w->cov95 = v[9];
	w->width95 = v[10], w->pinball = v[11], w->crps = v[12], w->seconds = v[13];
	w->sse = v[14], w->origin = (int)v[15];
}

cJSON *sr_result_json(const sr_result *r)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "calls", (double)r->calls);
	cJSON_AddNumberToObject(j, "sample_steps", (double)r->sample_steps);
	cJSON_AddNumberToObject(j, "independent_calls", (double)r->indep_calls);
	cJSON_AddNumberToObject(j, "independent_sample_steps", (double)r->indep_sample_steps);
	env_add_number(j, "seconds", r->seconds);
	cJSON *a = cJSON_AddArrayToObject(j, "scores");
	for (int i = 0; i < r->ntr * r->nwin; i++) {
		double v[NFIELD];
		row_of(&r->score[i], v);
		cJSON *row = cJSON_CreateArray();
		for (int k = 0; k < NFIELD; k++)
			cJSON_AddItemToArray(row, exact(v[k]));
		cJSON_AddItemToArray(a, row);
	}
	if (r->point) {
		cJSON_AddNumberToObject(j, "steps", r->steps);
		cJSON *p = cJSON_AddArrayToObject(j, "points");
		for (size_t i = 0; i < (size_t)r->ntr * r->nwin * r->steps; i++)
			cJSON_AddItemToArray(p, exact(r->point[i]));
	}
	return j;
}

int sr_result_from_json(const cJSON *j, const sr_unit *u, sr_result *r, cp_err *e)
{
	memset(r, 0, sizeof(*r));
	int ntr = u->kind == SR_UNIT_RW ? 1 : u->ntr;
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "scores"), *row;
	double calls, ss, ic, iss;
	if (get_num(j, "calls", &calls, e) < 0 || get_num(j, "sample_steps", &ss, e) < 0 ||
	    get_num(j, "independent_calls", &ic, e) < 0 ||
	    get_num(j, "independent_sample_steps", &iss, e) < 0)
		return -1;
	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != ntr * u->nwin)
		return cp_fail(e, CP_DATA, "result does not have %d scores", ntr * u->nwin);
	double sec = 0;
	num_of(cJSON_GetObjectItemCaseSensitive(j, "seconds"), &sec, 1);
	r->ntr = ntr;
	r->nwin = u->nwin;
	r->calls = (long long)calls, r->sample_steps = (long long)ss;
	r->indep_calls = (long long)ic, r->indep_sample_steps = (long long)iss;
	r->seconds = isfinite(sec) ? sec : 0;
	r->score = cp_calloc((size_t)ntr * (size_t)u->nwin, sizeof(mt_window));
	int i = 0;
	cJSON_ArrayForEach(row, a) {
		double v[NFIELD];
		const cJSON *x;
		int k = 0;
		if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != NFIELD)
			goto bad;
		cJSON_ArrayForEach(x, row) {
			if (num_of(x, &v[k], 1) < 0)
				goto bad;
			k++;
		}
		window_of(v, &r->score[i++]);
	}
	const cJSON *pa = cJSON_GetObjectItemCaseSensitive(j, "points"), *x;
	if (pa) {
		int steps;
		if (get_int(j, "steps", 1, 10000, &steps, e) < 0) {
			sr_result_release(r);
			return -1;
		}
		size_t n = (size_t)ntr * u->nwin * steps, k = 0;
		if (!cJSON_IsArray(pa) || (size_t)cJSON_GetArraySize(pa) != n) {
			sr_result_release(r);
			return cp_fail(e, CP_DATA, "result does not have %zu point forecasts", n);
		}
		r->steps = steps;
		r->point = cp_malloc(n * sizeof(double));
		cJSON_ArrayForEach(x, pa) {
			if (num_of(x, &r->point[k++], 1) < 0) {
				sr_result_release(r);
				return cp_fail(e, CP_DATA, "result point %zu is not a number", k - 1);
			}
		}
	}
	return 0;
bad:
	sr_result_release(r);
	return cp_fail(e, CP_DATA, "result score %d is not %d numbers", i, NFIELD);
}

/* ------------------------------------------------------------ settings */

int sr_options_from_settings(sr_options *o, const cJSON *st, const char *horizon,
                             const char *where, cp_err *e)
{
	const cJSON *m = settings_node(st, "search.method");
	if (m) {
		int k;
		for (k = 0; k < SR_NMETHOD; k++)
			if (cJSON_IsString(m) && strcmp(m->valuestring, sr_method_name[k]) == 0)
				break;
		if (k == SR_NMETHOD)
			return cp_fail(e, CP_DATA, "%s: \"search.method\" must be \"grid\", \"random\", "
			               "\"halving\" or \"tpe\"", where);
		o->method = k;
	}
	if (settings_integer(st, "search.trials", 1, SP_MAX_CONFIGS, &o->trials, e) < 0 ||
	    settings_integer(st, "search.eta", 2, 1000, &o->eta, e) < 0 ||
	    settings_integer(st, "search.min_windows", 1, 100000, &o->min_windows, e) < 0 ||
	    settings_integer(st, "search.origins", 1, 100000, &o->windows, e) < 0 ||
	    settings_integer(st, "search.stride", 1, 100000, &o->stride, e) < 0 ||
	    settings_integer(st, "search.batch", 0, 100000, &o->batch, e) < 0 ||
	    settings_integer(st, "validate.validation_origins", 0, 100000, &o->holdout, e) < 0 ||
	    settings_integer(st, "validate.stride", 1, 100000, &o->holdout_stride, e) < 0 ||
	    settings_integer(st, "search.tpe_startup", 0, 100000, &o->tpe.n_startup, e) < 0 ||
	    settings_integer(st, "search.tpe_candidates", 1, 10000, &o->tpe.n_candidates, e) < 0 ||
	    settings_integer(st, "search.tpe_batch", 1, 1000, &o->tpe_batch, e) < 0 ||
	    settings_integer(st, "search.prune_min_trials", 1, 100000, &o->prune_min_trials, e) < 0 ||
	    settings_integer(st, "search.ensemble", 0, FC_ENSEMBLE_MAX, &o->ensemble, e) < 0)
		return cp_prefix(e, "%s", where);
	const cJSON *ob = settings_node(st, "search.objectives");
	if (ob && (!cJSON_IsString(ob) || sr_parse_objectives(ob->valuestring, &o->cost) < 0))
		return cp_fail(e, CP_DATA, "%s: \"search.objectives\" must be \"rmse\", "
		               "\"rmse,seconds\" or \"rmse,cost\"", where);
	double tol;
	int have_tol = settings_number(st, "search.pareto_tolerance_pct", &tol, e);
	if (have_tol < 0)
		return cp_prefix(e, "%s", where);
	if (have_tol == 1) {
		if (!(tol >= 0 && tol <= 1000))
			return cp_fail(e, CP_DATA, "%s: \"search.pareto_tolerance_pct\" must be in 0..1000",
			               where);
		o->pareto_tol_pct = tol;
	}
	double pf;
	int got = settings_number(st, "search.prune_fraction", &pf, e);
	if (got < 0)
		return cp_prefix(e, "%s", where);
	if (got == 1) {
		if (!(pf >= 0 && pf < 1))
			return cp_fail(e, CP_DATA, "%s: \"search.prune_fraction\" must be in [0, 1)", where);
		o->prune_fraction = pf;
	}
	if (sp_default(&o->space, horizon) < 0) {
		memset(&o->space, 0, sizeof(o->space));
		o->space.n[SP_SAMPLES] = 1, o->space.v[SP_SAMPLES][0] = 100;
		o->space.n[SP_TEMP] = 1, o->space.v[SP_TEMP][0] = 1.0;
		o->space.n[SP_TOPK] = 1, o->space.v[SP_TOPK][0] = 0;
		o->space.n[SP_TOPP] = 1, o->space.v[SP_TOPP][0] = 1.0;
	}
	char key[64];
	snprintf(key, sizeof(key), "search.spaces.%s", horizon);
	const cJSON *sp = settings_node(st, key);
	if (sp) {
		char w[512];
		snprintf(w, sizeof(w), "%s: %s", where, key);
		if (sp_from_json(&o->space, sp, w, e) < 0)
			return -2;
	}
	return 0;
}
