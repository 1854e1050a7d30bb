/* replay.c — rp_score: what a replay workspace shows, measured against the
 * outcomes that arrived after each simulated week (see replay.h and
 * opt-replay(1) for the definitions of every KPI). */
#include "replay.h"
#include "backtest.h"
#include "depconfig.h"
#include "envelope.h"
#include "history.h"
#include "jsonutil.h"
#include "search.h"
#include "settings.h"
#include "space.h"
#include "validate.h"

#include <float.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* The configs scored on the realized weekly origins                   */

typedef struct {
	fc_config cfg;
	char *spec;       /* model spec, owned */
	double *sse;      /* per week (NAN: not realized or not scored), owned */
	int wanted, done;
} rconf;

typedef struct {
	rconf *c;
	int n, cap;
} rconf_set;

static int same_cfg(const fc_config *a, const fc_config *b)
{
	return a->context_length == b->context_length && a->num_samples == b->num_samples &&
	       a->temperature == b->temperature && a->top_k == b->top_k && a->top_p == b->top_p;
}

/* Index of (spec, cfg) in the set, added when new. */
static int rconf_add(rconf_set *s, const char *spec, const fc_config *cfg, int nweeks)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->c[i].spec, spec) == 0 && same_cfg(&s->c[i].cfg, cfg))
			return i;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->c = cp_realloc(s->c, (size_t)s->cap * sizeof(*s->c));
	}
	rconf *c = &s->c[s->n];
	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	c->spec = cp_strdup(spec);
	c->sse = cp_malloc((size_t)(nweeks > 0 ? nweeks : 1) * sizeof(double));
	for (int w = 0; w < nweeks; w++)
		c->sse[w] = NAN;
	return s->n++;
}

static void rconf_release(rconf_set *s)
{
	for (int i = 0; i < s->n; i++) {
		free(s->c[i].spec);
		free(s->c[i].sse);
	}
	free(s->c);
	memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------------------ */
/* What the workspace says                                              */

typedef struct {
	int32_t day;
	char run_id[64];
	int exit;
	double seconds;
	int t;          /* observations known that day: the weekly origin */
} rweek;

typedef struct {
	int have;               /* an envelope of this horizon was found */
	int triggered, by_time, by_drift, by_perf;
	int optimized;          /* validation reached a verdict */
	int approved, deployed;
	int cand;               /* rconf index of the candidate, -1 */
	int inc;                /* rconf index live before the run */
	int live;               /* rconf index live after the run */
	int series_len;         /* observations the run saw */
	double val_cand, val_inc; /* held-out RMSE of candidate and incumbent */
	int fp;                 /* a false positive (optimizations only) */
	double real_cand, real_inc; /* RMSE on the next N weekly origins */
	int real_n;             /* how many of them were realized */
} hweek;

typedef struct {
	const rp_score_opts *o;
	char path[4200];
	cJSON *manifest, *settings;
	const char *series_path, *series_id, *model, *settings_path;
	uint64_t seed;
	int32_t change;
	int have_change;
	series s;
	horizon_def *hz;
	int nh;
	rweek *wk;
	int nw;
	forecaster **fc;        /* opened forecasters, by spec */
	char **fc_spec;
	int nfc;
} rctx;

static const char *wpath(rctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *wpath(rctx *c, const char *fmt, ...)
{
	int n = snprintf(c->path, sizeof c->path, "%s/", c->o->workspace);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->path + n, sizeof c->path - (size_t)n, fmt, ap);
	va_end(ap);
	return c->path;
}

static forecaster *get_forecaster(rctx *c, const char *spec, cp_err *e)
{
	for (int i = 0; i < c->nfc; i++)
		if (strcmp(c->fc_spec[i], spec) == 0)
			return c->fc[i];
	forecaster *f = forecaster_open(spec, e);
	if (!f) {
		if (e->code == CP_USAGE)
			e->code = CP_DATA;
		cp_prefix(e, "model '%.200s'", spec);
		return NULL;
	}
	c->fc = cp_realloc(c->fc, (size_t)(c->nfc + 1) * sizeof(*c->fc));
	c->fc_spec = cp_realloc(c->fc_spec, (size_t)(c->nfc + 1) * sizeof(*c->fc_spec));
	c->fc[c->nfc] = f;
	c->fc_spec[c->nfc++] = cp_strdup(spec);
	return f;
}

static int read_manifest(rctx *c, cp_err *e)
{
	int missing = 0;
	char *txt = cp_read_file(wpath(c, "replay.json"), 1 << 20, NULL, &missing, e);
	if (!txt) {
		if (missing)
			cp_fail(e, CP_DATA, "%s: not a replay workspace (no replay.json)", c->o->workspace);
		return -1;
	}
	c->manifest = cJSON_Parse(txt);
	free(txt);
	if (!cJSON_IsObject(c->manifest))
		return cp_fail(e, CP_DATA, "%s: not a JSON object", c->path);
	const char *schema = env_string(c->manifest, NULL, "schema");
	if (!schema || strcmp(schema, RP_WORKSPACE_SCHEMA) != 0)
		return cp_fail(e, CP_DATA, "%s: \"schema\" is not \"%s\"", c->path, RP_WORKSPACE_SCHEMA);
	c->series_path = env_string(c->manifest, NULL, "series");
	c->series_id = env_string(c->manifest, NULL, "series_id");
	c->model = env_string(c->manifest, NULL, "model");
	c->settings_path = env_string(c->manifest, NULL, "config");
	if (!c->series_path || !c->model || !c->settings_path)
		return cp_fail(e, CP_DATA, "%s: \"series\", \"model\" and \"config\" must be strings", c->path);
	if (c->series_id && !*c->series_id)
		c->series_id = NULL;
	const cJSON *sd = cJSON_GetObjectItemCaseSensitive(c->manifest, "seed");
	if (!cJSON_IsNumber(sd) || sd->valuedouble < 0 || sd->valuedouble > (double)CP_SEED_MAX ||
	    sd->valuedouble != floor(sd->valuedouble))
		return cp_fail(e, CP_DATA, "%s: \"seed\" must be an integer in " CP_SEED_RANGE, c->path);
	c->seed = (uint64_t)sd->valuedouble;
	const char *ch = env_string(c->manifest, NULL, "change_date");
	if (ch) {
		if (cp_parse_date(ch, &c->change) < 0)
			return cp_fail(e, CP_DATA, "%s: \"change_date\" '%.20s' is not a date", c->path, ch);
		c->have_change = 1;
	}
	return 0;
}

static int read_weeks(rctx *c, cp_err *e)
{
	char *txt = cp_read_file(wpath(c, "weeks.tsv"), 64 << 20, NULL, NULL, e);
	if (!txt)
		return -1;
	int cap = 0, line = 0;
	for (char *p = txt, *nl; *p; p = nl + 1) {
		line++;
		nl = strchr(p, '\n');
		if (!nl)
			return free(txt), cp_fail(e, CP_DATA, "%s:%d: torn last line (no newline)", c->path, line);
		*nl = '\0';
		char date[16], run[64];
		int ex;
		double secs;
		char tail;
		if (sscanf(p, "%15[^\t]\t%63[^\t]\t%d\t%lf%c", date, run, &ex, &secs, &tail) != 4 || ex < 0 ||
		    ex > 255 || !cp_name_ok(run)) {
			free(txt);
			return cp_fail(e, CP_DATA, "%s:%d: expected date, run id, exit code, seconds", c->path, line);
		}
		if (c->nw == cap) {
			cap = cap ? 2 * cap : 64;
			c->wk = cp_realloc(c->wk, (size_t)cap * sizeof(*c->wk));
		}
		rweek *w = &c->wk[c->nw];
		memset(w, 0, sizeof(*w));
		if (cp_parse_date(date, &w->day) < 0 || (c->nw && w->day <= c->wk[c->nw - 1].day)) {
			free(txt);
			return cp_fail(e, CP_DATA, "%s:%d: '%.15s' is not a date after the line before", c->path, line,
			               date);
		}
		snprintf(w->run_id, sizeof w->run_id, "%s", run);
		w->exit = ex;
		w->seconds = secs;
		int t = 0;
		while (t < c->s.n && c->s.day[t] <= w->day)
			t++;
		w->t = t;
		c->nw++;
	}
	free(txt);
	if (c->nw == 0)
		return cp_fail(e, CP_DATA, "%s: no week was replayed", c->path);
	return 0;
}

/* The last stage file of a run that holds this horizon's line. */
static cJSON *run_envelope(rctx *c, const rweek *w, const char *horizon, cp_err *e)
{
	static const char *const stages[] = {"40-history", "30-deploy", "20-validate", "10-search", "00-trigger"};
	for (size_t k = 0; k < sizeof stages / sizeof stages[0]; k++) {
		FILE *fp = fopen(wpath(c, "runs/%s/%s.ndjson", w->run_id, stages[k]), "r");
		if (!fp)
			continue;
		env_reader rd;
		env_reader_init(&rd, fp, c->path);
		cJSON *env = NULL, *found = NULL;
		int r;
		while ((r = env_read(&rd, &env, e)) == 1) {
			const char *h;
			int steps;
			if (!found && env_horizon(env, &h, &steps, e) == 0 && strcmp(h, horizon) == 0)
				found = env;
			else
				cJSON_Delete(env);
		}
		env_reader_release(&rd);
		fclose(fp);
		if (r < 0) {
			cJSON_Delete(found);
			return NULL;
		}
		if (found)
			return found;
	}
	e->code = CP_OK;
	return NULL;
}

/* A config file's settings into the set (model: its own, else the replay's). */
static int load_config(rctx *c, rconf_set *set, const char *dir, const char *horizon, int *idx, cp_err *e)
{
	int missing = 0;
	cJSON *j = dc_load(dir, horizon, &missing, e);
	if (!j) {
		if (missing) {
			*idx = -1;
			return 0;
		}
		return -1;
	}
	fc_config cfg;
	const char *md = NULL;
	char what[4300];
	snprintf(what, sizeof what, "%s/%s.json", dir, horizon);
	int rc = dc_settings(j, what, &cfg, &md, e);
	if (rc == 0)
		*idx = rconf_add(set, md ? md : c->model, &cfg, c->nw);
	cJSON_Delete(j);
	return rc;
}

static double num_at(const cJSON *j, const char *dotted)
{
	const cJSON *v = cp_json_path(j, dotted);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static int fired(const cJSON *env, const char *what)
{
	const cJSON *arr = cp_json_path(env, "trigger.fired");
	const cJSON *x;
	cJSON_ArrayForEach(x, arr)
		if (cJSON_IsString(x) && strcmp(x->valuestring, what) == 0)
			return 1;
	return 0;
}

/* Read week k of horizon h into *hw. */
static int read_week(rctx *c, rconf_set *set, const horizon_def *h, int k, int prev_live, hweek *hw, cp_err *e)
{
	memset(hw, 0, sizeof(*hw));
	hw->cand = hw->live = -1;
	hw->inc = prev_live;
	hw->val_cand = hw->val_inc = hw->real_cand = hw->real_inc = NAN;
	const rweek *w = &c->wk[k];
	char dir[4300], d[11];
	cp_format_date(w->day, d);
	snprintf(dir, sizeof dir, "%s/weeks/%s/configs", c->o->workspace, d);
	if (load_config(c, set, dir, h->name, &hw->live, e) < 0)
		return -1;
	if (hw->live < 0)
		hw->live = prev_live;
	cJSON *env = run_envelope(c, w, h->name, e);
	if (!env)
		return e->code == CP_OK ? 0 : -1;
	hw->have = 1;
	const cJSON *len = cp_json_path(env, "series.length");
	hw->series_len = cJSON_IsNumber(len) ? (int)len->valuedouble : -1;
	if (hw->series_len != w->t) {
		cJSON_Delete(env);
		return cp_fail(e, CP_DATA, "%s: the run of %s saw %d observations, the series has %d up to that day "
		               "(the series changed since the replay)", c->series_path, d, hw->series_len, w->t);
	}
	hw->triggered = cJSON_IsTrue(cp_json_path(env, "trigger.should_optimize"));
	hw->by_time = fired(env, "time");
	hw->by_drift = fired(env, "drift");
	hw->by_perf = fired(env, "performance");
	const char *vs = env_string(env, "validation", "status");
	hw->optimized = hw->triggered && vs && strcmp(vs, "done") == 0;
	hw->approved = hw->optimized && cJSON_IsTrue(cp_json_path(env, "validation.approved"));
	hw->deployed = cJSON_IsTrue(cp_json_path(env, "deployment.deployed")) &&
	               !cJSON_IsTrue(cp_json_path(env, "deployment.dry_run"));
	const cJSON *cand = cp_json_path(env, "search.candidate");
	if (hw->optimized && cJSON_IsObject(cand)) {
		fc_config cfg;
		const char *md = NULL;
		if (dc_settings(cand, "search.candidate", &cfg, &md, e) < 0) {
			cJSON_Delete(env);
			return cp_prefix(e, "%s: run of %s", c->path, d);
		}
		hw->cand = rconf_add(set, md ? md : c->model, &cfg, c->nw);
		hw->val_cand = num_at(env, "validation.candidate.rmse");
		hw->val_inc = num_at(env, "validation.incumbent.rmse");
	}
	cJSON_Delete(env);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Scoring on the realized weekly origins                               */

typedef struct {
	rconf_set *set;
	int *members, nm;
	const int *orig;     /* origins scored, one per realized week */
	const int *widx;     /* their week indices */
	int steps;
	const series *s;
	int pos;
} prefix_arg;

static int score_prefixes(void *arg, int origin, const double *actual, const double *point, const double *paths,
                          int nsamples, int steps, cp_err *e)
{
	prefix_arg *a = arg;
	int w = a->widx[a->pos++];
	for (int m = 0; m < a->nm; m++) {
		rconf *rc = &a->set->c[a->members[m]];
		int k = rc->cfg.num_samples < nsamples ? rc->cfg.num_samples : nsamples;
		mt_window mw;
		mt_score(actual, point, paths, k, steps, bt_mase_scale(a->s, origin), &mw);
		rc->sse[w] = mw.sse;
	}
	return 0;
}

/* Score every wanted config of the set on the realized weekly origins of
 * a horizon: configs that differ only in num_samples share one call when
 * the forecaster's prefix property holds over the whole horizon. */
static int score_set(rctx *c, rconf_set *set, int steps, cp_err *e)
{
	int *orig = cp_malloc((size_t)c->nw * sizeof(int)), *widx = cp_malloc((size_t)c->nw * sizeof(int));
	int nr = 0;
	for (int w = 0; w < c->nw; w++)
		if (c->wk[w].t >= 2 && c->wk[w].t + steps <= c->s.n) {
			orig[nr] = c->wk[w].t;
			widx[nr++] = w;
		}
	int *members = cp_malloc((size_t)(set->n ? set->n : 1) * sizeof(int));
	int rc = 0;
	for (int i = 0; i < set->n && rc == 0 && nr > 0; i++) {
		rconf *lead = &set->c[i];
		if (!lead->wanted || lead->done)
			continue;
		forecaster *f = get_forecaster(c, lead->spec, e);
		if (!f) {
			rc = -1;
			break;
		}
		int share = f->prefix_horizon == 0 || steps <= f->prefix_horizon;
		int nm = 0, maxns = 0;
		for (int j = i; j < set->n; j++) {
			rconf *o = &set->c[j];
			if (!o->wanted || o->done || strcmp(o->spec, lead->spec) != 0)
				continue;
			fc_config a = o->cfg, b = lead->cfg;
			a.num_samples = b.num_samples = 0;
			if (!same_cfg(&a, &b) || (!share && o->cfg.num_samples != lead->cfg.num_samples))
				continue;
			members[nm++] = j;
			if (o->cfg.num_samples > maxns)
				maxns = o->cfg.num_samples;
		}
		fc_config call = lead->cfg;
		call.num_samples = maxns;
		prefix_arg pa = {set, members, nm, orig, widx, steps, &c->s, 0};
		bt_result r;
		rc = bt_run_cb(f, &call, &c->s, orig, nr, steps, c->seed, 0, score_prefixes, &pa, &r, e);
		if (rc == 0)
			bt_result_free(&r);
		for (int m = 0; m < nm; m++)
			set->c[members[m]].done = 1;
	}
	free(orig);
	free(widx);
	free(members);
	return rc;
}

/* RMSE of config ci over the weeks [w0, w1) whose sse is known (NAN when
 * none); *n receives the number of weeks used. */
static double rmse_over(const rconf_set *set, int ci, int w0, int w1, int steps, int *n)
{
	double acc = 0;
	int k = 0;
	for (int w = w0; w < w1; w++) {
		double v = set->c[ci].sse[w];
		if (isfinite(v)) {
			acc += v;
			k++;
		}
	}
	if (n)
		*n = k;
	return k ? sqrt(acc / ((double)k * steps)) : NAN;
}

/* ------------------------------------------------------------------ */
/* What the other gates would have decided                              */

static const char *const gate_presets[3] = {"conservative", "balanced", "aggressive"};
#define NGATES 6

typedef struct {
	int decided, approved, improved, worse;
	double change_sum;
	int nchange;
} gate_count;

/* Re-score candidate, incumbent and random walk on the held-out windows of
 * week k and decide with every preset, with and without the random-walk
 * criterion.  approved[g] gets the verdicts; *as_run the verdict of the
 * settings the replay ran with. */
static int regate(rctx *c, const rconf_set *set, const horizon_def *h, const hweek *hw, int k,
                  int approved[NGATES], int *as_run, cp_err *e)
{
	series cut = c->s;
	cut.n = c->wk[k].t;
	int origins_n = 30, stride = 1;
	if (settings_integer(c->settings, "validate.validation_origins", 3, 100000, &origins_n, e) < 0 ||
	    settings_integer(c->settings, "validate.stride", 1, 100000, &stride, e) < 0)
		return cp_prefix(e, "%s", c->settings_path);
	bt_plan plan = {origins_n, stride, 0};
	int *origins = NULL;
	if (bt_origins(&cut, h->steps, 2, &plan, &origins, e) < 0)
		return -1;
	const rconf *who[3] = {&set->c[hw->cand], &set->c[hw->inc], NULL};
	rconf rw;
	memset(&rw, 0, sizeof rw);
	rw.cfg = set->c[hw->cand].cfg;
	rw.cfg.temperature = 1.0, rw.cfg.top_k = 0, rw.cfg.top_p = 1.0;
	rw.spec = (char *)"random_walk";
	who[2] = &rw;
	bt_result r[3];
	memset(r, 0, sizeof r);
	int rc = 0;
	for (int i = 0; i < 3 && rc == 0; i++) {
		forecaster *f = get_forecaster(c, who[i]->spec, e);
		rc = f ? bt_run(f, &who[i]->cfg, &cut, origins, plan.count, h->steps, c->seed, 0, &r[i], e) : -1;
	}
	if (rc == 0) {
		int n = plan.count;
		double *loss = cp_malloc(3 * (size_t)n * sizeof(double));
		for (int i = 0; i < 3; i++)
			for (int w = 0; w < n; w++)
				loss[i * n + w] = r[i].win[w].sse;
		vd_input in = {&r[0].sum, &r[1].sum, &r[2].sum, loss, loss + n, loss + 2 * n, n, h->steps};
		vd_decision *d = cp_malloc(sizeof(*d));
		for (int g = 0; g < NGATES && rc == 0; g++) {
			vd_criteria cr;
			rc = vd_preset(gate_presets[g / 2], &cr, e);
			if (rc == 0)
				rc = vd_criteria_from_settings(c->settings, 1, &cr, e);
			if (rc == 0 && g % 2)
				cr.min_rw_improvement_pct = -DBL_MAX; /* the random walk does not decide */
			if (rc == 0) {
				vd_decide(&cr, &in, d);
				approved[g] = d->approved;
			}
		}
		vd_criteria cr;
		if (rc == 0)
			rc = vd_preset("balanced", &cr, e);
		if (rc == 0)
			rc = vd_criteria_from_settings(c->settings, 0, &cr, e);
		if (rc == 0) {
			vd_decide(&cr, &in, d);
			*as_run = d->approved;
		}
		free(d);
		free(loss);
	}
	for (int i = 0; i < 3; i++)
		bt_result_free(&r[i]);
	free(origins);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The report                                                           */

static void add_rate(cJSON *o, const char *key, int num, int den)
{
	if (den > 0)
		env_add_number(o, key, (double)num / den);
	else
		cJSON_AddNullToObject(o, key);
}

static void add_date(cJSON *o, const char *key, int32_t day)
{
	char d[11];
	cp_format_date(day, d);
	cJSON_AddStringToObject(o, key, d);
}

/* Pooled counts over the horizons for "overall". */
typedef struct {
	int weeks, triggered, by_time, by_drift, by_perf, optimized, approved, deployed;
	int dep_scored, improved, fp, fp_time, opt_time, fp_other, opt_other, rollbacks, deployed_worse;
	double change_sum;
	int nchange;
	double ratio_live, ratio_default, ratio_hind;
	int nratio, nhind;
	gate_count gates[NGATES];
	int gates_reproduced, gates_decided;
} pooled;

static cJSON *latency_json(const rctx *c, const hweek *hw)
{
	cJSON *o = cJSON_CreateObject();
	if (!c->have_change) {
		cJSON_AddNullToObject(o, "change_date");
		return o;
	}
	add_date(o, "change_date", c->change);
	const char *key[3] = {"drift", "drift_or_performance", "any"};
	for (int m = 0; m < 3; m++) {
		int found = -1;
		for (int k = 0; k < c->nw && found < 0; k++) {
			if (c->wk[k].day < c->change || !hw[k].have)
				continue;
			int hit = m == 0 ? hw[k].by_drift : m == 1 ? (hw[k].by_drift || hw[k].by_perf) : hw[k].triggered;
			if (hit && (m == 2 || hw[k].triggered))
				found = k;
		}
		cJSON *x = cJSON_AddObjectToObject(o, key[m]);
		if (found < 0) {
			cJSON_AddNullToObject(x, "date");
			cJSON_AddNullToObject(x, "days");
		} else {
			add_date(x, "date", c->wk[found].day);
			cJSON_AddNumberToObject(x, "days", c->wk[found].day - c->change);
		}
	}
	return o;
}

static int count_rollbacks(rctx *c, const char *horizon, int *n, cp_err *e)
{
	history hist;
	*n = 0;
	if (history_load(&hist, wpath(c, "history.jsonl"), HISTORY_WAIT_MS, e) < 0)
		return -1;
	for (long i = 0; i < hist.n; i++) {
		const char *h = env_string(hist.rec[i], NULL, "horizon");
		const char *oc = env_string(hist.rec[i], NULL, "outcome");
		if (h && oc && strcmp(h, horizon) == 0 && strcmp(oc, "rolled_back") == 0)
			(*n)++;
	}
	history_free(&hist);
	return 0;
}

static cJSON *cfg_json(const rconf *rc)
{
	cJSON *j = fc_config_json(&rc->cfg);
	cJSON *m = cJSON_AddObjectToObject(j, "model");
	cJSON_AddStringToObject(m, "dir", rc->spec);
	return j;
}

/* Everything about one horizon. */
static cJSON *score_horizon(rctx *c, const horizon_def *h, pooled *P, cp_err *e)
{
	int steps = h->steps, N = c->o->next;
	rconf_set set = {0};
	hweek *hw = cp_calloc((size_t)c->nw, sizeof(hweek));
	cJSON *out = NULL;
	int def = -1;
	char dir[4300];
	snprintf(dir, sizeof dir, "%s/incumbent", c->o->workspace);
	if (load_config(c, &set, dir, h->name, &def, e) < 0)
		goto done;
	if (def < 0) {
		cp_fail(e, CP_DATA, "%s/%s.json: the replay's first incumbent is missing", dir, h->name);
		goto done;
	}
	int live = def;
	for (int k = 0; k < c->nw; k++) {
		if (read_week(c, &set, h, k, live, &hw[k], e) < 0)
			goto done;
		live = hw[k].live;
	}
	/* the random walk at the default config's context and samples */
	fc_config rwc = set.c[def].cfg;
	rwc.temperature = 1.0, rwc.top_k = 0, rwc.top_p = 1.0;
	int rwi = rconf_add(&set, "random_walk", &rwc, c->nw);
	/* the search space, for the best config in hindsight */
	if (c->o->hindsight) {
		sr_options so;
		sr_options_default(&so);
		if (sr_options_from_settings(&so, c->settings, h->name, c->settings_path, e) < 0)
			goto done;
		int ngrid = sp_size(&so.space);
		for (int g = 0; g < ngrid; g++) {
			fc_config gc;
			sp_config(&so.space, g, &gc);
			int gi = rconf_add(&set, c->model, &gc, c->nw);
			set.c[gi].wanted = 1;
		}
	}
	set.c[def].wanted = set.c[rwi].wanted = 1;
	for (int k = 0; k < c->nw; k++) {
		set.c[hw[k].live].wanted = 1;
		if (hw[k].cand >= 0)
			set.c[hw[k].cand].wanted = 1;
	}
	if (score_set(c, &set, steps, e) < 0)
		goto done;

	/* per week: realized error of what was live, deployments, false positives */
	double sse_live = 0, sse_def = 0, sse_rw = 0;
	int nreal = 0;
	int cnt_trig = 0, cnt_time = 0, cnt_drift = 0, cnt_perf = 0, cnt_opt = 0, cnt_app = 0, cnt_dep = 0;
	int dep_scored = 0, improved = 0, worse = 0, fp = 0, fp_time = 0, opt_time = 0, fp_other = 0, opt_other = 0;
	double change_sum = 0;
	cJSON *weeks = cJSON_CreateArray(), *deps = cJSON_CreateArray();
	gate_count gates[NGATES];
	memset(gates, 0, sizeof gates);
	int reproduced = 0, decided = 0;
	for (int k = 0; k < c->nw; k++) {
		hweek *x = &hw[k];
		double sl = set.c[x->live].sse[k];
		if (isfinite(sl)) {
			sse_live += sl;
			sse_def += set.c[def].sse[k];
			sse_rw += set.c[rwi].sse[k];
			nreal++;
		}
		cnt_trig += x->triggered;
		cnt_time += x->triggered && x->by_time;
		cnt_drift += x->triggered && x->by_drift;
		cnt_perf += x->triggered && x->by_perf;
		cnt_opt += x->optimized;
		cnt_app += x->approved;
		cnt_dep += x->deployed;
		if (x->optimized && x->cand >= 0) {
			int n1 = 0, n2 = 0;
			int w1 = k + N < c->nw ? k + N : c->nw;
			x->real_cand = rmse_over(&set, x->cand, k, w1, steps, &n1);
			x->real_inc = rmse_over(&set, x->inc, k, w1, steps, &n2);
			x->real_n = n1 < n2 ? n1 : n2;
			int better_val = isfinite(x->val_cand) && isfinite(x->val_inc) && x->val_cand < x->val_inc;
			int better_real = x->real_n > 0 && x->real_cand < x->real_inc;
			x->fp = !better_val && !better_real;
			fp += x->fp;
			if (x->by_time && !x->by_drift && !x->by_perf) {
				opt_time++;
				fp_time += x->fp;
			} else {
				opt_other++;
				fp_other += x->fp;
			}
			if (c->o->gates && x->inc >= 0) {
				int ap[NGATES], as_run = -1;
				if (regate(c, &set, h, x, k, ap, &as_run, e) < 0) {
					cJSON_Delete(weeks);
					cJSON_Delete(deps);
					goto done;
				}
				decided++;
				reproduced += as_run == x->approved;
				for (int g = 0; g < NGATES; g++) {
					gates[g].decided++;
					if (!ap[g])
						continue;
					gates[g].approved++;
					if (x->real_n > 0) {
						gates[g].improved += x->real_cand < x->real_inc;
						gates[g].worse += x->real_cand >= x->real_inc;
						gates[g].change_sum += 100 * (x->real_cand - x->real_inc) / x->real_inc;
						gates[g].nchange++;
					}
				}
			}
		}
		if (x->deployed && x->cand >= 0) {
			cJSON *d = cJSON_CreateObject();
			add_date(d, "date", c->wk[k].day);
			cJSON_AddItemToObject(d, "incumbent", cfg_json(&set.c[x->inc]));
			cJSON_AddItemToObject(d, "candidate", cfg_json(&set.c[x->cand]));
			cJSON_AddNumberToObject(d, "origins", x->real_n);
			env_add_number(d, "rmse_incumbent", x->real_inc);
			env_add_number(d, "rmse_candidate", x->real_cand);
			if (x->real_n > 0) {
				double ch = 100 * (x->real_cand - x->real_inc) / x->real_inc;
				env_add_number(d, "change_pct", ch);
				cJSON_AddBoolToObject(d, "improved", x->real_cand < x->real_inc);
				dep_scored++;
				improved += x->real_cand < x->real_inc;
				worse += !(x->real_cand < x->real_inc);
				change_sum += ch;
			} else {
				cJSON_AddNullToObject(d, "change_pct");
				cJSON_AddNullToObject(d, "improved");
			}
			cJSON_AddItemToArray(deps, d);
		}
		cJSON *wj = cJSON_CreateObject();
		add_date(wj, "date", c->wk[k].day);
		cJSON_AddNumberToObject(wj, "origin", c->wk[k].t);
		cJSON_AddBoolToObject(wj, "triggered", x->triggered);
		cJSON *fa = cJSON_AddArrayToObject(wj, "fired");
		if (x->by_perf)
			cJSON_AddItemToArray(fa, cJSON_CreateString("performance"));
		if (x->by_drift)
			cJSON_AddItemToArray(fa, cJSON_CreateString("drift"));
		if (x->by_time)
			cJSON_AddItemToArray(fa, cJSON_CreateString("time"));
		cJSON_AddBoolToObject(wj, "optimized", x->optimized);
		cJSON_AddBoolToObject(wj, "approved", x->approved);
		cJSON_AddBoolToObject(wj, "deployed", x->deployed);
		if (x->optimized)
			cJSON_AddBoolToObject(wj, "false_positive", x->fp);
		else
			cJSON_AddNullToObject(wj, "false_positive");
		double sd = set.c[def].sse[k], sr = set.c[rwi].sse[k];
		env_add_number(wj, "rmse_live", isfinite(sl) ? sqrt(sl / steps) : NAN);
		env_add_number(wj, "rmse_default", isfinite(sd) ? sqrt(sd / steps) : NAN);
		env_add_number(wj, "rmse_random_walk", isfinite(sr) ? sqrt(sr / steps) : NAN);
		cJSON_AddItemToArray(weeks, wj);
	}

	/* best config in hindsight */
	int best = -1;
	double best_rmse = INFINITY;
	if (c->o->hindsight)
		for (int i = 0; i < set.n; i++) {
			if (strcmp(set.c[i].spec, c->model) != 0 || !set.c[i].done)
				continue;
			int n = 0;
			double r = rmse_over(&set, i, 0, c->nw, steps, &n);
			if (n == nreal && nreal > 0 && r < best_rmse) {
				best_rmse = r;
				best = i;
			}
		}

	int rb = 0;
	if (count_rollbacks(c, h->name, &rb, e) < 0) {
		cJSON_Delete(weeks);
		cJSON_Delete(deps);
		goto done;
	}

	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "name", h->name);
	cJSON_AddNumberToObject(out, "steps", steps);
	cJSON_AddNumberToObject(out, "weeks", c->nw);
	cJSON_AddNumberToObject(out, "triggered", cnt_trig);
	cJSON *tb = cJSON_AddObjectToObject(out, "triggered_by");
	cJSON_AddNumberToObject(tb, "time", cnt_time);
	cJSON_AddNumberToObject(tb, "drift", cnt_drift);
	cJSON_AddNumberToObject(tb, "performance", cnt_perf);
	cJSON_AddNumberToObject(out, "optimizations", cnt_opt);
	cJSON_AddNumberToObject(out, "approved", cnt_app);
	cJSON_AddNumberToObject(out, "deployed", cnt_dep);
	add_rate(out, "validation_success_rate", cnt_app, cnt_opt);
	cJSON_AddNumberToObject(out, "deployments_scored", dep_scored);
	cJSON_AddNumberToObject(out, "deployments_improved", improved);
	add_rate(out, "performance_improvement_rate", improved, dep_scored);
	env_add_number(out, "mean_realized_rmse_change_pct", dep_scored ? change_sum / dep_scored : NAN);
	cJSON_AddNumberToObject(out, "false_positives", fp);
	add_rate(out, "false_positive_rate", fp, cnt_opt);
	cJSON *fpt = cJSON_AddObjectToObject(out, "false_positive_rate_by_trigger");
	add_rate(fpt, "time_only", fp_time, opt_time);
	add_rate(fpt, "drift_or_performance", fp_other, opt_other);
	cJSON_AddNumberToObject(fpt, "time_only_optimizations", opt_time);
	cJSON_AddNumberToObject(fpt, "drift_or_performance_optimizations", opt_other);
	cJSON_AddNumberToObject(out, "rollbacks", rb);
	cJSON_AddNumberToObject(out, "deployments_worse", worse);

	cJSON *re = cJSON_AddObjectToObject(out, "realized");
	cJSON_AddNumberToObject(re, "origins", nreal);
	double rl = nreal ? sqrt(sse_live / ((double)nreal * steps)) : NAN;
	double rd = nreal ? sqrt(sse_def / ((double)nreal * steps)) : NAN;
	double rr = nreal ? sqrt(sse_rw / ((double)nreal * steps)) : NAN;
	env_add_number(re, "rmse_deployed", rl);
	env_add_number(re, "rmse_default", rd);
	env_add_number(re, "rmse_random_walk", rr);
	env_add_number(re, "rmse_best_in_hindsight", best >= 0 ? best_rmse : NAN);
	if (best >= 0)
		cJSON_AddItemToObject(re, "best_in_hindsight", cfg_json(&set.c[best]));
	else
		cJSON_AddNullToObject(re, "best_in_hindsight");
	cJSON_AddItemToObject(re, "default", cfg_json(&set.c[def]));
	env_add_number(re, "deployed_vs_random_walk", rl / rr);
	env_add_number(re, "default_vs_random_walk", rd / rr);
	env_add_number(re, "best_in_hindsight_vs_random_walk", best >= 0 ? best_rmse / rr : NAN);
	env_add_number(re, "deployed_vs_default", rl / rd);

	cJSON_AddItemToObject(out, "drift_detection", latency_json(c, hw));

	cJSON *gj = cJSON_AddArrayToObject(out, "gates");
	for (int g = 0; g < NGATES && c->o->gates; g++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "preset", gate_presets[g / 2]);
		cJSON_AddBoolToObject(x, "random_walk_criterion", g % 2 == 0);
		cJSON_AddNumberToObject(x, "decided", gates[g].decided);
		cJSON_AddNumberToObject(x, "approved", gates[g].approved);
		add_rate(x, "approval_rate", gates[g].approved, gates[g].decided);
		cJSON_AddNumberToObject(x, "approved_improved", gates[g].improved);
		cJSON_AddNumberToObject(x, "approved_worse", gates[g].worse);
		env_add_number(x, "mean_realized_rmse_change_pct",
		               gates[g].nchange ? gates[g].change_sum / gates[g].nchange : NAN);
		cJSON_AddItemToArray(gj, x);
		P->gates[g].decided += gates[g].decided;
		P->gates[g].approved += gates[g].approved;
		P->gates[g].improved += gates[g].improved;
		P->gates[g].worse += gates[g].worse;
		P->gates[g].change_sum += gates[g].change_sum;
		P->gates[g].nchange += gates[g].nchange;
	}
	if (c->o->gates) {
		cJSON *gr = cJSON_AddObjectToObject(out, "gates_reproduced");
		cJSON_AddNumberToObject(gr, "decided", decided);
		cJSON_AddNumberToObject(gr, "same_verdict_as_the_replay", reproduced);
	}
	cJSON_AddItemToObject(out, "deployments", deps);
	cJSON_AddItemToObject(out, "weeks_detail", weeks);

	P->triggered += cnt_trig, P->by_time += cnt_time, P->by_drift += cnt_drift, P->by_perf += cnt_perf;
	P->optimized += cnt_opt, P->approved += cnt_app, P->deployed += cnt_dep;
	P->dep_scored += dep_scored, P->improved += improved, P->fp += fp;
	P->fp_time += fp_time, P->opt_time += opt_time, P->fp_other += fp_other, P->opt_other += opt_other;
	P->rollbacks += rb, P->deployed_worse += worse, P->change_sum += change_sum, P->nchange += dep_scored;
	P->gates_reproduced += reproduced, P->gates_decided += decided;
	if (nreal && isfinite(rl / rr) && isfinite(rd / rr)) {
		P->ratio_live += rl / rr, P->ratio_default += rd / rr;
		P->nratio++;
		if (best >= 0) {  /* not with --no-hindsight */
			P->ratio_hind += best_rmse / rr;
			P->nhind++;
		}
	}
done:
	rconf_release(&set);
	free(hw);
	return out;
}

cJSON *rp_score(const rp_score_opts *o, cp_err *e)
{
	double t0 = cp_now();
	rctx c;
	memset(&c, 0, sizeof c);
	c.o = o;
	cJSON *out = NULL;
	if (o->next < 1)
		return cp_fail(e, CP_USAGE, "--next must be at least 1"), NULL;
	if (read_manifest(&c, e) < 0)
		goto done;
	c.settings = settings_load(c.settings_path, e);
	if (!c.settings || settings_horizons(c.settings, &c.hz, &c.nh, e) < 0)
		goto done;
	if (series_load(&c.s, c.series_path, c.series_id, 2, e) < 0)
		goto done;
	if (read_weeks(&c, e) < 0)
		goto done;

	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "schema", RP_SCHEMA);
	cJSON_AddStringToObject(out, "workspace", o->workspace);
	cJSON *sj = cJSON_AddObjectToObject(out, "series");
	cJSON_AddStringToObject(sj, "path", c.series_path);
	cJSON_AddStringToObject(sj, "id", c.s.id ? c.s.id : "");
	cJSON_AddNumberToObject(sj, "length", c.s.n);
	add_date(sj, "first_date", c.s.day[0]);
	add_date(sj, "last_date", c.s.day[c.s.n - 1]);
	cJSON_AddStringToObject(out, "model", c.model);
	cJSON_AddStringToObject(out, "settings", c.settings_path);
	cJSON_AddNumberToObject(out, "seed", (double)c.seed);
	const char *day = env_string(c.manifest, NULL, "day");
	cJSON_AddStringToObject(out, "day", day ? day : "");
	cJSON_AddItemToObject(out, "incumbent",
	                      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(c.manifest, "incumbent"), 1));
	if (!cJSON_GetObjectItemCaseSensitive(out, "incumbent"))
		cJSON_AddNullToObject(out, "incumbent");
	add_date(out, "first_week", c.wk[0].day);
	add_date(out, "last_week", c.wk[c.nw - 1].day);
	cJSON_AddNumberToObject(out, "weeks", c.nw);
	cJSON_AddNumberToObject(out, "next", o->next);
	if (c.have_change)
		add_date(out, "change_date", c.change);
	else
		cJSON_AddNullToObject(out, "change_date");

	int ok = 0;
	double secs = 0;
	for (int k = 0; k < c.nw; k++) {
		ok += c.wk[k].exit == 0;
		secs += c.wk[k].seconds;
	}
	cJSON *au = cJSON_AddObjectToObject(out, "automation");
	cJSON_AddNumberToObject(au, "weeks", c.nw);
	cJSON_AddNumberToObject(au, "completed", ok);
	cJSON_AddNumberToObject(au, "failed", c.nw - ok);
	add_rate(au, "rate", ok, c.nw);
	cJSON *ti = cJSON_AddObjectToObject(out, "time");
	env_add_number(ti, "seconds", secs);
	cJSON *per = cJSON_AddObjectToObject(ti, "per_week");
	env_add_number(per, "seconds", secs / c.nw);

	pooled P;
	memset(&P, 0, sizeof P);
	cJSON *hs = cJSON_AddArrayToObject(out, "horizons");
	for (int i = 0; i < c.nh; i++) {
		cJSON *hj = score_horizon(&c, &c.hz[i], &P, e);
		if (!hj) {
			cJSON_Delete(out);
			out = NULL;
			goto done;
		}
		cJSON_AddItemToArray(hs, hj);
	}
	cJSON *ov = cJSON_AddObjectToObject(out, "overall");
	cJSON_AddNumberToObject(ov, "triggered", P.triggered);
	cJSON *tb = cJSON_AddObjectToObject(ov, "triggered_by");
	cJSON_AddNumberToObject(tb, "time", P.by_time);
	cJSON_AddNumberToObject(tb, "drift", P.by_drift);
	cJSON_AddNumberToObject(tb, "performance", P.by_perf);
	cJSON_AddNumberToObject(ov, "optimizations", P.optimized);
	cJSON_AddNumberToObject(ov, "approved", P.approved);
	cJSON_AddNumberToObject(ov, "deployed", P.deployed);
	add_rate(ov, "validation_success_rate", P.approved, P.optimized);
	cJSON_AddNumberToObject(ov, "deployments_scored", P.dep_scored);
	cJSON_AddNumberToObject(ov, "deployments_improved", P.improved);
	add_rate(ov, "performance_improvement_rate", P.improved, P.dep_scored);
	env_add_number(ov, "mean_realized_rmse_change_pct", P.nchange ? P.change_sum / P.nchange : NAN);
	cJSON_AddNumberToObject(ov, "false_positives", P.fp);
	add_rate(ov, "false_positive_rate", P.fp, P.optimized);
	cJSON *fpt = cJSON_AddObjectToObject(ov, "false_positive_rate_by_trigger");
	add_rate(fpt, "time_only", P.fp_time, P.opt_time);
	add_rate(fpt, "drift_or_performance", P.fp_other, P.opt_other);
	cJSON_AddNumberToObject(fpt, "time_only_optimizations", P.opt_time);
	cJSON_AddNumberToObject(fpt, "drift_or_performance_optimizations", P.opt_other);
	cJSON_AddNumberToObject(ov, "rollbacks", P.rollbacks);
	cJSON_AddNumberToObject(ov, "deployments_worse", P.deployed_worse);
	cJSON *re = cJSON_AddObjectToObject(ov, "realized");
	cJSON_AddNumberToObject(re, "horizons", P.nratio);
	env_add_number(re, "deployed_vs_random_walk", P.nratio ? P.ratio_live / P.nratio : NAN);
	env_add_number(re, "default_vs_random_walk", P.nratio ? P.ratio_default / P.nratio : NAN);
	env_add_number(re, "best_in_hindsight_vs_random_walk", P.nhind ? P.ratio_hind / P.nhind : NAN);
	cJSON *gj = cJSON_AddArrayToObject(ov, "gates");
	for (int g = 0; g < NGATES && o->gates; g++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "preset", gate_presets[g / 2]);
		cJSON_AddBoolToObject(x, "random_walk_criterion", g % 2 == 0);
		cJSON_AddNumberToObject(x, "decided", P.gates[g].decided);
		cJSON_AddNumberToObject(x, "approved", P.gates[g].approved);
		add_rate(x, "approval_rate", P.gates[g].approved, P.gates[g].decided);
		cJSON_AddNumberToObject(x, "approved_improved", P.gates[g].improved);
		cJSON_AddNumberToObject(x, "approved_worse", P.gates[g].worse);
		env_add_number(x, "mean_realized_rmse_change_pct",
		               P.gates[g].nchange ? P.gates[g].change_sum / P.gates[g].nchange : NAN);
		cJSON_AddItemToArray(gj, x);
	}
	if (o->gates) {
		cJSON *gr = cJSON_AddObjectToObject(ov, "gates_reproduced");
		cJSON_AddNumberToObject(gr, "decided", P.gates_decided);
		cJSON_AddNumberToObject(gr, "same_verdict_as_the_replay", P.gates_reproduced);
	}
	cJSON *sc = cJSON_AddObjectToObject(out, "scoring");
	env_add_number(sc, "seconds", cp_now() - t0);
done:
	for (int i = 0; i < c.nfc; i++) {
		c.fc[i]->free(c.fc[i]);
		free(c.fc_spec[i]);
	}
	free(c.fc);
	free(c.fc_spec);
	free(c.wk);
	free(c.hz);
	series_free(&c.s);
	cJSON_Delete(c.settings);
	cJSON_Delete(c.manifest);
	return out;
}
