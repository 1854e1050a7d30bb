/* search.c — preparing, units, selection and running the search; its JSON
 * is in search_json.c. See search.h for the split, the units and the reuse
 * rules. */
#include "search.h"
#include "search_internal.h"
#include "backtest.h"
#include "matmul.h"
#include "sha256.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char *const sr_method_name[SR_NMETHOD] = {"grid", "random", "halving", "tpe"};

const char *const sr_tpe_stop_name[4] = {"budget", "space exhausted", "converged",
                                         "max-seconds"};
const char *const sr_objectives_name[SR_NCOST] = {"rmse", "rmse,seconds", "rmse,cost"};

int sr_parse_objectives(const char *s, int *cost)
{
	for (int k = 0; k < SR_NCOST; k++)
		if (strcmp(s, sr_objectives_name[k]) == 0)
			return *cost = k, 0;
	return -1;
}

void sr_options_default(sr_options *o)
{
	memset(o, 0, sizeof(*o));
	o->method = SR_GRID;
	o->trials = 0;       /* the method's default: random 10, tpe 40 */
	o->eta = 3;
	o->min_windows = 2;
	o->windows = 30;
	o->stride = 1;
	o->holdout = 30;
	o->holdout_stride = 1;
	o->batch = 0;
	o->reuse = 1;
	o->cost = SR_COST_NONE;
	o->pareto_tol_pct = 2;
	tpe_options_default(&o->tpe);
	o->tpe_batch = 2;
	o->prune_fraction = 1.0 / 3;
	o->prune_min_trials = 5;
}

/* ------------------------------------------------------------ preparing */

static void add_warning(sr_search *S, const char *msg)
{
	S->warn = cp_realloc(S->warn, (size_t)(S->nwarn + 1) * sizeof(char *));
	S->warn[S->nwarn++] = cp_strdup(msg);
}

static int eff_context(const sr_search *S, int ctx)
{
	return S->max_context > 0 && ctx > S->max_context ? S->max_context : ctx;
}

/* Everything that follows from options, trials and windows: the effective
 * contexts and their warnings, the rungs, the window order, the tables. */
void sr_finish_setup(sr_search *S)
{
	for (int t = 0; t < S->ntrial; t++) {
		sr_trial *tr = &S->trial[t];
		tr->eff_ctx = eff_context(S, tr->cfg.context_length);
	}
	const sp_space *sp = &S->opt.space;
	int nc = sp->r[SP_CTX].on ? 1 : sp->n[SP_CTX];
	for (int i = 0; i < nc; i++) {
		int c = sp->r[SP_CTX].on ? (int)sp->r[SP_CTX].high : (int)sp->v[SP_CTX][i];
		if (eff_context(S, c) != c) {
			char msg[256];
			snprintf(msg, sizeof(msg),
			         "%s: context_length %d is longer than the model's max_context %d: "
			         "configs with it are scored with the last %d observations",
			         S->horizon, c, S->max_context, S->max_context);
			add_warning(S, msg);
		}
	}
	int pruning = S->opt.method == SR_TPE && S->opt.prune_fraction > 0;
	if (S->opt.method == SR_HALVING) {
		S->nrung = sp_halving(S->ntrial, S->W, S->opt.eta, S->opt.min_windows, S->keep,
		                      S->rung_win);
	} else if (pruning) {
		/* Two rungs: the pruning check's windows, then all of them. */
		int m = (int)ceil(S->W * S->opt.prune_fraction);
		S->nrung = 2;
		S->keep[0] = S->keep[1] = 0;
		S->rung_win[0] = m < 1 ? 1 : m > S->W ? S->W : m;
		S->rung_win[1] = S->W;
	} else {
		S->nrung = 1;
		S->keep[0] = S->ntrial;
		S->rung_win[0] = S->W;
	}
	S->order = cp_malloc((size_t)S->W * sizeof(int));
	if (S->opt.method == SR_HALVING || pruning)
		sp_window_order(S->W, S->order);
	else
		for (int w = 0; w < S->W; w++)
			S->order[w] = w;
	S->score = cp_calloc((size_t)S->ntrial * (size_t)S->W + 1, sizeof(mt_window));
	S->have = cp_calloc((size_t)S->ntrial * (size_t)S->W + 1, 1);
	S->rung_of = cp_calloc((size_t)S->ntrial + 1, sizeof(int));
	S->rw = cp_calloc((size_t)S->W, sizeof(mt_window));
	S->rw_have = cp_calloc((size_t)S->W, 1);
	if (S->opt.ensemble > 0) {
		S->point = cp_calloc((size_t)S->ntrial * (size_t)S->W * (size_t)S->steps + 1, sizeof(double));
		S->point_have = cp_calloc((size_t)S->ntrial * (size_t)S->W + 1, 1);
	}
}

int sr_prepare(sr_search *S, const char *horizon, int steps, const sr_options *o,
               const series *s, const forecaster *f, const char *model_dir, cp_err *e)
{
	memset(S, 0, sizeof(*S));
	snprintf(S->horizon, sizeof(S->horizon), "%s", horizon);
	S->steps = steps;
	S->seed = o->seed;
	S->opt = *o;
	S->model_dir = cp_strdup(model_dir);
	S->max_context = f->max_context;
	S->prefix_horizon = f->prefix_horizon;
	snprintf(S->family, sizeof(S->family), "%s", f->family ? f->family : "");
	S->series_path = cp_strdup(s->path ? s->path : "");
	S->series_id = cp_strdup(s->id ? s->id : "");
	S->series_len = s->n;
	S->series_missing = s->missing;
	char last[11] = "";
	if (s->n > 0)
		cp_format_date(s->day[s->n - 1], last);
	S->series_last = cp_strdup(last);
	S->hold_first = S->hold_last = -1;

	struct stat st;
	if (stat(model_dir, &st) == 0 && S_ISDIR(st.st_mode)) {
		size_t n = strlen(model_dir) + 32;
		char *p = cp_malloc(n);
		snprintf(p, n, "%s/model.safetensors", model_dir);
		int rc = sha256_file(p, S->sha256, e);
		free(p);
		if (rc < 0)
			return -1;
		S->threads = mm_threads();
	}
	if (o->method != SR_TPE && sp_expand(&S->opt.space, "search space", CP_DATA, e) < 0)
		return -1;
	if (sp_check(&S->opt.space, "search space", CP_DATA, e) < 0)
		return -1;

	if (!o->have_sampler_seed)
		S->opt.sampler_seed = o->seed;
	if (S->opt.trials <= 0)
		S->opt.trials = o->method == SR_TPE ? 40 : 10;

	/* Trials: TPE adds them as it suggests them (search_tpe.c). */
	int size = o->method == SR_TPE ? 0 : sp_size(&S->opt.space);
	int *pick = cp_malloc((size_t)(size + 1) * sizeof(int));
	int n = size;
	if (o->method == SR_RANDOM)
		n = sp_random_pick(size, S->opt.trials, o->seed, pick);
	else
		for (int i = 0; i < size; i++)
			pick[i] = i;
	S->ntrial = n;
	S->trial = cp_calloc((size_t)n + 1, sizeof(sr_trial));
	for (int t = 0; t < n; t++) {
		S->trial[t].grid = pick[t];
		sp_config(&S->opt.space, pick[t], &S->trial[t].cfg);
	}
	free(pick);

	/* Windows: see the split in search.h. */
	int maxctx = eff_context(S, (int)sp_max(&S->opt.space, SP_CTX));
	/* Origins whose targets hold a missing value are passed over, here and
	 * in opt-validate alike (bt_origins). */
	long last_origin = (long)s->n - steps, olast = last_origin;
	if (o->holdout > 0) {
		bt_plan hp = {o->holdout, o->holdout_stride, 0};
		int *ho = NULL, skipped = 0;
		cp_err he = {0};
		if (bt_origins_from(s, steps, 1, (int)last_origin, &hp, &ho, &skipped, &he) < 0)
			return cp_fail(e, CP_DATA, "%s: not enough observations to hold out %d origins",
			               s->path, o->holdout);
		S->hold_first = ho[0];
		S->hold_last = ho[o->holdout - 1];
		free(ho);
		S->hold_date[0] = s->day[S->hold_first];
		S->hold_date[1] = s->day[S->hold_last];
		olast = S->hold_first - steps;
	}
	bt_plan wp = {o->windows, o->stride, 0};
	int *wo = NULL, wskipped = 0;
	cp_err we = {0};
	if (o->windows < 1 || olast < maxctx ||
	    bt_origins_from(s, steps, maxctx > 0 ? maxctx : 1, (int)olast, &wp, &wo, &wskipped, &we) < 0) {
		/* both grids are anchored at the first observation (bt_origins):
		 * their last points fall up to stride - 1 before the ends */
		long need = (long)maxctx + (long)(o->windows - 1) * o->stride + steps +
		            (o->stride > 1 && olast > 0 ? olast % o->stride : 0) +
		            (o->holdout > 0 ? (long)(o->holdout - 1) * o->holdout_stride + steps +
		                              last_origin % o->holdout_stride : 0);
		return cp_fail(e, CP_DATA,
		               "%s: not enough observations for %d search windows of %d steps "
		               "with context %d after %d held-out origins: need %ld, have %d",
		               s->path, o->windows, steps, maxctx, o->holdout, need, s->n);
	}
	S->W = o->windows;
	S->origin = wo;
	S->date = cp_malloc((size_t)S->W * sizeof(int32_t));
	for (int w = 0; w < S->W; w++)
		S->date[w] = s->day[S->origin[w]];
	sr_finish_setup(S);
	return 0;
}

void sr_release(sr_search *S)
{
	free(S->model_dir);
	free(S->series_path);
	free(S->series_id);
	free(S->series_last);
	free(S->origin);
	free(S->date);
	free(S->trial);
	free(S->sug);
	free(S->order);
	for (int i = 0; i < S->nwarn; i++)
		free(S->warn[i]);
	free(S->warn);
	free(S->score);
	free(S->have);
	free(S->rung_of);
	free(S->rw);
	free(S->rw_have);
	free(S->point);
	free(S->point_have);
	fc_ensemble_release(&S->ens.members);
	free(S->ens.trial);
	free(S->ens.count);
	memset(S, 0, sizeof(*S));
}

/* ---------------------------------------------------------------- units */

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static sr_unit *push_unit(sr_unit **u, int *n, int *cap)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		*u = cp_realloc(*u, (size_t)*cap * sizeof(sr_unit));
	}
	sr_unit *x = &(*u)[(*n)++];
	memset(x, 0, sizeof(*x));
	return x;
}

static int same_call(const sr_trial *a, const sr_trial *b)
{
	return a->eff_ctx == b->eff_ctx && a->cfg.temperature == b->cfg.temperature &&
	       a->cfg.top_k == b->cfg.top_k && a->cfg.top_p == b->cfg.top_p;
}

int sr_units(const sr_search *S, int rung, sr_unit **units, int *nunits)
{
	int n = 0, cap = 0;
	sr_unit *u = NULL;
	int nw = S->rung_win[rung];
	int *active = cp_malloc((size_t)(S->ntrial + 1) * sizeof(int));
	int na = 0;
	for (int t = 0; t < S->ntrial; t++)
		if (S->rung_of[t] == rung)
			active[na++] = t;

	/* Windows of the rung that some active config still lacks. */
	int *need = cp_malloc((size_t)(S->W + 1) * sizeof(int)), nneed = 0;
	int *rwneed = cp_malloc((size_t)(S->W + 1) * sizeof(int)), nrw = 0;
	for (int k = 0; k < nw; k++) {
		int w = S->order[k];
		for (int a = 0; a < na; a++)
			if (!S->have[(size_t)active[a] * S->W + w]) {
				need[nneed++] = w;
				break;
			}
		if (!S->rw_have[w])
			rwneed[nrw++] = w;
	}
	qsort(need, (size_t)nneed, sizeof(int), cmp_int);
	qsort(rwneed, (size_t)nrw, sizeof(int), cmp_int);
	int batch = S->opt.batch > 0 ? S->opt.batch : (S->W > 0 ? S->W : 1);

	/* Random-walk reference first: cheap, and always run. */
	int maxctx = 1, maxns = 1;
	for (int t = 0; t < S->ntrial; t++) {
		maxctx = S->trial[t].eff_ctx > maxctx ? S->trial[t].eff_ctx : maxctx;
		maxns = S->trial[t].cfg.num_samples > maxns ? S->trial[t].cfg.num_samples : maxns;
	}
	if (S->opt.method == SR_TPE) {  /* trials come later: the space's largest */
		maxctx = eff_context(S, (int)sp_max(&S->opt.space, SP_CTX));
		maxns = (int)sp_max(&S->opt.space, SP_SAMPLES);
	}
	for (int c = 0; c < nrw; c += batch) {
		sr_unit *x = push_unit(&u, &n, &cap);
		x->kind = SR_UNIT_RW;
		x->rung = rung;
		x->call = (fc_config){maxctx, maxns, 1.0, 0, 1.0};
		x->nwin = nrw - c < batch ? nrw - c : batch;
		x->win = cp_malloc((size_t)x->nwin * sizeof(int));
		memcpy(x->win, rwneed + c, (size_t)x->nwin * sizeof(int));
	}

	/* Groups of configs that share one call. */
	int prefix_ok = S->prefix_horizon == 0 || S->steps <= S->prefix_horizon;
	char *done = cp_calloc((size_t)na + 1, 1);
	int *grp = cp_malloc((size_t)(na + 1) * sizeof(int));
	for (int a = 0; a < na && nneed > 0; a++) {
		if (done[a])
			continue;
		const sr_trial *lead = &S->trial[active[a]];
		int ng = 0;
		for (int b = a; b < na; b++) {
			const sr_trial *tb = &S->trial[active[b]];
			if (done[b])
				continue;
			int join = b == a;
			if (!join && S->opt.reuse && same_call(lead, tb))
				join = prefix_ok || tb->cfg.num_samples == lead->cfg.num_samples;
			if (join) {
				done[b] = 1;
				grp[ng++] = active[b];
			}
		}
		int ns = 0;
		for (int g = 0; g < ng; g++)
			ns = S->trial[grp[g]].cfg.num_samples > ns ? S->trial[grp[g]].cfg.num_samples : ns;
		for (int c = 0; c < nneed; c += batch) {
			sr_unit *x = push_unit(&u, &n, &cap);
			x->kind = SR_UNIT_MODEL;
			x->rung = rung;
			x->call = lead->cfg;
			x->call.context_length = lead->eff_ctx;
			x->call.num_samples = ns;
			x->ntr = ng;
			x->tr = cp_malloc((size_t)ng * sizeof(int));
			memcpy(x->tr, grp, (size_t)ng * sizeof(int));
			x->nwin = nneed - c < batch ? nneed - c : batch;
			x->win = cp_malloc((size_t)x->nwin * sizeof(int));
			memcpy(x->win, need + c, (size_t)x->nwin * sizeof(int));
		}
	}
	free(done);
	free(grp);
	free(active);
	free(need);
	free(rwneed);
	*units = u;
	*nunits = n;
	return 0;
}

void sr_units_free(sr_unit *u, int n)
{
	for (int i = 0; i < n; i++) {
		free(u[i].tr);
		free(u[i].win);
	}
	free(u);
}

void sr_result_release(sr_result *r)
{
	free(r->score);
	free(r->point);
	memset(r, 0, sizeof(*r));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Each trial's point forecast of a unit's windows, the one mt_score
 * scored: the model's own (rc == 1, a quantile model's median), else the
 * per-step median of the trial's first num_samples paths. */
static void keep_points(const sr_search *S, const sr_unit *u, const forecaster *m, int rc, int N,
                        const double *paths, const double *point, sr_result *r)
{
	int nwin = u->nwin, steps = S->steps;
	r->steps = steps;
	r->point = cp_malloc((size_t)r->ntr * (size_t)nwin * (size_t)steps * sizeof(double));
	double *col = cp_malloc((size_t)N * sizeof(double));
	for (int i = 0; i < r->ntr; i++)
		for (int j = 0; j < nwin; j++) {
			double *out = r->point + ((size_t)i * nwin + j) * steps;
			if (rc == 1 || m->nquantiles > 0) {
				memcpy(out, point + (size_t)j * steps, (size_t)steps * sizeof(double));
				continue;
			}
			int k = S->trial[u->tr[i]].cfg.num_samples;
			for (int h = 0; h < steps; h++) {
				for (int q = 0; q < k; q++)
					col[q] = paths[((size_t)j * N + q) * steps + h];
				qsort(col, (size_t)k, sizeof(double), cmp_double);
				out[h] = mt_quantile_sorted(col, k, 0.5);
			}
		}
	free(col);
}

int sr_run_unit(const sr_search *S, const sr_unit *u, const series *s, forecaster *f,
                forecaster *rw, sr_result *r, cp_err *e)
{
	memset(r, 0, sizeof(*r));
	forecaster *m = u->kind == SR_UNIT_RW ? rw : f;
	int nwin = u->nwin, N = fc_rows(m, &u->call), steps = S->steps;
	const double **ctx = cp_malloc((size_t)nwin * sizeof(double *));
	int *nctx = cp_malloc((size_t)nwin * sizeof(int));
	uint64_t *stream = cp_malloc((size_t)nwin * sizeof(uint64_t));
	for (int j = 0; j < nwin; j++) {
		int o = S->origin[u->win[j]];
		int c = u->call.context_length < o ? u->call.context_length : o;
		ctx[j] = s->y + (o - c);
		nctx[j] = c;
		stream[j] = (uint64_t)o;
	}
	double *paths = cp_malloc((size_t)nwin * (size_t)N * (size_t)steps * sizeof(double));
	double *point = cp_malloc((size_t)nwin * (size_t)steps * sizeof(double));
	double t0 = cp_now();
	int rc = m->forecast(m, &u->call, nwin, ctx, nctx, steps, S->seed, stream, paths, point, e);
	double dt = cp_now() - t0;
	if (rc < 0) {
		free(ctx), free(nctx), free(stream), free(paths), free(point);
		return cp_prefix(e, "%s", m->name);
	}
	r->ntr = u->kind == SR_UNIT_RW ? 1 : u->ntr;
	r->nwin = nwin;
	r->score = cp_calloc((size_t)r->ntr * (size_t)nwin, sizeof(mt_window));
	for (int j = 0; j < nwin; j++) {
		int o = S->origin[u->win[j]];
		double scale = bt_mase_scale(s, o);
		for (int i = 0; i < r->ntr; i++) {
			int k = u->kind == SR_UNIT_RW || m->nquantiles > 0 ? N : S->trial[u->tr[i]].cfg.num_samples;
			mt_window *w = &r->score[(size_t)i * nwin + j];
			if (m->nquantiles > 0)
				mt_score_quantiles(s->y + o, point + (size_t)j * steps, m->levels, N,
				                   paths + (size_t)j * N * steps, steps, scale, w);
			else  /* the first k paths of window j: a prefix of the same draws */
				mt_score(s->y + o, rc == 1 ? point + (size_t)j * steps : NULL,
				         paths + (size_t)j * N * steps, k, steps, scale, w);
			w->origin = o;
			w->seconds = dt / nwin * k / N;
		}
	}
	if (S->opt.ensemble > 0 && u->kind == SR_UNIT_MODEL)
		keep_points(S, u, m, rc, N, paths, point, r);
	r->calls = 1;
	r->sample_steps = (long long)N * steps * nwin;
	for (int i = 0; i < r->ntr; i++) {
		int k = u->kind == SR_UNIT_RW || m->nquantiles > 0 ? N : S->trial[u->tr[i]].cfg.num_samples;
		r->indep_calls += 1;
		r->indep_sample_steps += (long long)k * steps * nwin;
	}
	r->seconds = dt;
	free(ctx), free(nctx), free(stream), free(paths), free(point);
	return 0;
}

void sr_absorb(sr_search *S, const sr_unit *u, const sr_result *r)
{
	for (int j = 0; j < u->nwin; j++) {
		int w = u->win[j];
		if (u->kind == SR_UNIT_RW) {
			S->rw[w] = r->score[j];
			S->rw_have[w] = 1;
			continue;
		}
		for (int i = 0; i < u->ntr; i++) {
			size_t at = (size_t)u->tr[i] * S->W + w;
			S->score[at] = r->score[(size_t)i * u->nwin + j];
			S->have[at] = 1;
			if (S->point && r->point && r->steps == S->steps) {
				memcpy(S->point + at * S->steps, r->point + ((size_t)i * u->nwin + j) * S->steps,
				       (size_t)S->steps * sizeof(double));
				S->point_have[at] = 1;
			}
		}
	}
	if (u->kind == SR_UNIT_MODEL) {
		S->calls += r->calls;
		S->sample_steps += r->sample_steps;
		S->indep_calls += r->indep_calls;
		S->indep_sample_steps += r->indep_sample_steps;
	}
	S->units_run++;
	S->unit_seconds += r->seconds;
}

/* Aggregate trial t (t < 0: the random walk) over the windows in mask (NULL:
 * the windows the trial has), in window order. Returns the count. */
int sr_aggregate(const sr_search *S, int t, const unsigned char *mask, mt_summary *out)
{
	mt_window *tmp = cp_malloc((size_t)(S->W + 1) * sizeof(mt_window));
	int n = 0;
	for (int w = 0; w < S->W; w++) {
		int has = t < 0 ? S->rw_have[w] : S->have[(size_t)t * S->W + w];
		if (mask ? !mask[w] : !has)
			continue;
		if (!has) { /* a window of the mask is missing */
			n = -1;
			break;
		}
		tmp[n++] = t < 0 ? S->rw[w] : S->score[(size_t)t * S->W + w];
	}
	if (n > 0)
		mt_aggregate(tmp, n, S->steps, out);
	free(tmp);
	return n;
}

int sr_trial_windows(const sr_search *S, int t)
{
	int n = 0;
	for (int w = 0; w < S->W; w++)
		n += S->have[(size_t)t * S->W + w];
	return n;
}

/* a better than b: lower RMSE, NaN last, ties by trial number. */
static int better(double ra, int a, double rb, int b)
{
	if (isnan(ra) != isnan(rb))
		return isnan(rb);
	if (!isnan(ra) && ra != rb)
		return ra < rb;
	return a < b;
}

void sr_select(sr_search *S, int rung)
{
	int na = 0;
	int *act = cp_malloc((size_t)(S->ntrial + 1) * sizeof(int));
	double *rm = cp_malloc((size_t)(S->ntrial + 1) * sizeof(double));
	for (int t = 0; t < S->ntrial; t++) {
		if (S->rung_of[t] != rung)
			continue;
		mt_summary m;
		act[na] = t;
		rm[na] = sr_aggregate(S, t, NULL, &m) > 0 ? m.rmse : NAN;
		na++;
	}
	/* Insertion sort by (rmse, trial): tiny n, stable and simple. */
	for (int i = 1; i < na; i++)
		for (int j = i; j > 0 && better(rm[j], act[j], rm[j - 1], act[j - 1]); j--) {
			double r = rm[j];
			int a = act[j];
			rm[j] = rm[j - 1], act[j] = act[j - 1];
			rm[j - 1] = r, act[j - 1] = a;
		}
	int keep = rung + 1 < S->nrung ? S->keep[rung + 1] : na;
	for (int i = 0; i < na && i < keep; i++)
		S->rung_of[act[i]] = rung + 1;
	free(act);
	free(rm);
}

/* Best trial: most windows scored, then lowest RMSE, then trial number. */
int sr_best_trial(const sr_search *S, mt_summary *bm)
{
	int best = -1, bw = 0;
	double br = NAN;
	for (int t = 0; t < S->ntrial; t++) {
		int nw = sr_trial_windows(S, t);
		if (nw == 0)
			continue;
		mt_summary m;
		sr_aggregate(S, t, NULL, &m);
		if (best < 0 || nw > bw || (nw == bw && better(m.rmse, t, br, best))) {
			best = t, bw = nw, br = m.rmse;
			*bm = m;
		}
	}
	return best;
}

/* ------------------------------------------------------------- running */

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Worker k of `jobs`: units k, k+jobs, ...; one JSON line per result or
 * error on fd. Never returns. */
static void worker(const sr_search *S, const sr_unit *u, int n, int k, int jobs,
                   const series *s, forecaster *f, forecaster *rw, double deadline,
                   int force_first, int fd)
{
	int started = 0;
	for (int i = k; i < n; i += jobs) {
		if (u[i].kind == SR_UNIT_MODEL) {
			if (!(force_first && !started) && cp_now() > deadline)
				continue;
			started = 1;
		}
		sr_result r;
		cp_err e = {0};
		cJSON *j = cJSON_CreateObject();
		cJSON_AddNumberToObject(j, "i", i);
		if (sr_run_unit(S, &u[i], s, f, rw, &r, &e) < 0) {
			cJSON_AddStringToObject(j, "error", e.msg);
			cJSON_AddNumberToObject(j, "code", e.code);
		} else {
			cJSON_AddItemToObject(j, "result", sr_result_json(&r));
			sr_result_release(&r);
		}
		char *line = cJSON_PrintUnformatted(j);
		int bad = !line || write_all(fd, line, strlen(line)) < 0 || write_all(fd, "\n", 1) < 0;
		int failed = cJSON_GetObjectItemCaseSensitive(j, "error") != NULL;
		free(line);
		cJSON_Delete(j);
		if (bad || failed)
			_exit(1);
	}
	_exit(0);
}

typedef struct {
	int fd;
	pid_t pid;
	char *buf;
	size_t len, cap;
} wk;

static int take_line(sr_search *S, const sr_unit *u, int n, const char *line, int *done,
                     cp_err *e)
{
	cJSON *j = cJSON_Parse(line);
	const cJSON *i = cJSON_GetObjectItemCaseSensitive(j, "i");
	if (!j || !cJSON_IsNumber(i) || i->valueint < 0 || i->valueint >= n) {
		cJSON_Delete(j);
		return cp_fail(e, CP_INTERNAL, "bad message from a worker");
	}
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
	if (cJSON_IsString(err)) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
		cp_fail(e, cJSON_IsNumber(code) ? code->valueint : CP_INTERNAL, "%s", err->valuestring);
		cJSON_Delete(j);
		return -1;
	}
	sr_result r;
	int k = i->valueint;
	int rc = sr_result_from_json(cJSON_GetObjectItemCaseSensitive(j, "result"), &u[k], &r, e);
	cJSON_Delete(j);
	if (rc < 0)
		return -1;
	sr_absorb(S, &u[k], &r);
	sr_result_release(&r);
	(*done)++;
	return 0;
}

static int run_parallel(sr_search *S, const sr_unit *u, int n, const series *s, forecaster *f,
                        forecaster *rw, int jobs, double deadline, int force_first,
                        sr_progress_fn progress, void *pctx, double t0, int *done, cp_err *e)
{
	if (jobs > n)
		jobs = n;
	wk *w = cp_calloc((size_t)jobs, sizeof(wk));
	fflush(stdout);
	fflush(stderr);
	int started = 0, rc = 0;
	for (int k = 0; k < jobs; k++) {
		int p[2];
		if (pipe(p) < 0) {
			rc = cp_fail_errno(e, "cannot create a pipe");
			break;
		}
		pid_t pid = fork();
		if (pid < 0) {
			close(p[0]), close(p[1]);
			rc = cp_fail_errno(e, "cannot start a worker");
			break;
		}
		if (pid == 0) {
			close(p[0]);
			for (int q = 0; q < k; q++)
				close(w[q].fd);
			worker(S, u, n, k, jobs, s, f, rw, deadline, force_first, p[1]);
		}
		close(p[1]);
		w[k].fd = p[0];
		w[k].pid = pid;
		started++;
	}
	int open = started;
	struct pollfd *pf = cp_calloc((size_t)jobs, sizeof(struct pollfd));
	while (open > 0) {
		for (int k = 0; k < started; k++) {
			pf[k].fd = w[k].fd;
			pf[k].events = POLLIN;
			pf[k].revents = 0;
		}
		if (poll(pf, (nfds_t)started, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = cp_fail_errno(e, "poll");
			break;
		}
		for (int k = 0; k < started; k++) {
			if (w[k].fd < 0 || !(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (w[k].cap - w[k].len < 65536) {
				w[k].cap = w[k].cap * 2 + 65536;
				w[k].buf = cp_realloc(w[k].buf, w[k].cap);
			}
			ssize_t got = read(w[k].fd, w[k].buf + w[k].len, w[k].cap - w[k].len - 1);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				close(w[k].fd);
				w[k].fd = -1;
				pf[k].fd = -1;
				open--;
				continue;
			}
			w[k].len += (size_t)got;
			w[k].buf[w[k].len] = '\0';
			char *nl;
			while ((nl = memchr(w[k].buf, '\n', w[k].len)) != NULL) {
				*nl = '\0';
				if (rc == 0 && take_line(S, u, n, w[k].buf, done, e) < 0)
					rc = -1;
				else if (rc == 0 && progress)
					progress(pctx, *done, S->units_total, cp_now() - t0);
				size_t used = (size_t)(nl - w[k].buf) + 1;
				memmove(w[k].buf, nl + 1, w[k].len - used);
				w[k].len -= used;
			}
		}
	}
	for (int k = 0; k < started; k++) {
		int st;
		if (w[k].fd >= 0)
			close(w[k].fd);
		while (waitpid(w[k].pid, &st, 0) < 0 && errno == EINTR)
			;
		if (rc == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
			rc = cp_fail(e, CP_INTERNAL, "worker %d ended abnormally", k + 1);
		free(w[k].buf);
	}
	free(pf);
	free(w);
	return rc;
}

int sr_run_rung(sr_search *S, int rung, const series *s, forecaster *f, forecaster *rw,
                int jobs, double deadline, sr_progress_fn progress, void *pctx, double t0,
                int *done, cp_err *e)
{
	sr_unit *u;
	int n;
	sr_units(S, rung, &u, &n);
	S->units_total += n;
	int force_first = S->calls == 0;
	int before = S->units_run, rc = 0;
	if (jobs > 1 && n > 1) {
		rc = run_parallel(S, u, n, s, f, rw, jobs, deadline, force_first, progress, pctx,
		                  t0, done, e);
	} else {
		int started = 0;
		for (int i = 0; i < n && rc == 0; i++) {
			if (u[i].kind == SR_UNIT_MODEL) {
				if (!(force_first && !started) && cp_now() > deadline)
					continue;
				started = 1;
			}
			sr_result r;
			if (sr_run_unit(S, &u[i], s, f, rw, &r, e) < 0) {
				rc = -1;
				break;
			}
			sr_absorb(S, &u[i], &r);
			sr_result_release(&r);
			(*done)++;
			if (progress)
				progress(pctx, *done, S->units_total, cp_now() - t0);
		}
	}
	int ran = S->units_run - before;
	sr_units_free(u, n);
	if (rc < 0)
		return -1;
	if (ran < n)
		S->partial = 1;
	return 0;
}

int sr_execute(sr_search *S, const series *s, forecaster *f, forecaster *rw, int jobs,
               double max_seconds, sr_progress_fn progress, void *pctx, cp_err *e)
{
	double t0 = cp_now();
	double deadline = max_seconds >= 0 ? t0 + max_seconds : INFINITY;
	int done = 0;
	if (S->opt.method == SR_TPE) {
		if (sr_execute_tpe(S, s, f, rw, jobs, deadline, progress, pctx, t0, &done, e) < 0)
			return -1;
		return sr_ensemble(S, s, e);
	}
	for (int rung = 0; rung < S->nrung; rung++) {
		if (sr_run_rung(S, rung, s, f, rw, jobs, deadline, progress, pctx, t0, &done, e) < 0)
			return -1;
		if (S->partial)
			break;
		if (rung + 1 < S->nrung)
			sr_select(S, rung);
	}
	return sr_ensemble(S, s, e);
}
