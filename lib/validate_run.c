/* validate_run.c — vd_line: score candidate, incumbent and random walk on
 * the validation windows and decide (see validate.h). */
#include "backtest.h"
#include "depconfig.h"
#include "envelope.h"
#include "fcband.h"
#include "forecast.h"
#include "series.h"
#include "validate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	const char *label;      /* "candidate", "incumbent", "random walk" */
	const char *spec;       /* model spec */
	const char *sha256;     /* from the config, may be NULL */
	fc_config cfg;
	bt_result r;
	fc_bands bands;         /* the forecast at the horizon of each window */
	int want_bands;         /* candidate and incumbent: recorded for the dashboard */
	cJSON *bands_json;      /* their JSON, owned until contender_json takes it */
	int done;
	char *own_spec;         /* an ensemble's spec (dc_model_spec), owned */
	const cJSON *ensemble;  /* its "ensemble" list, borrowed from its config */
} contender;

/* An ensemble config's spec into c (dc_model_spec); nothing for others. */
static int ensemble_spec_of(contender *c, const cJSON *cfg, const char *what, cp_err *e)
{
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(cfg, "ensemble");
	if (!en)
		return 0;
	if (dc_model_spec(cfg, what, &c->own_spec, e) < 0)
		return -1;
	c->spec = c->own_spec;
	c->ensemble = en;
	return 0;
}

static int score(contender *c, const series *s, const int *origins, int n, int steps,
                 uint64_t seed, int batch, cp_err *e)
{
	forecaster *f = forecaster_open(c->spec, e);
	if (!f) {
		/* the spec comes from the envelope or the deployed config, never
		 * from our command line: a bad one is bad input, not usage */
		if (e->code == CP_USAGE)
			e->code = CP_DATA;
		return cp_prefix(e, "%s", c->label);
	}
	fc_bands_init(&c->bands, s, f->nquantiles > 0 ? f->levels : NULL);
	int rc = bt_run_cb(f, &c->cfg, s, origins, n, steps, seed, batch,
	                   c->want_bands ? fc_bands_collect : NULL, &c->bands, &c->r, e);
	/* the bands' JSON is made while f (which owns a quantile model's
	 * levels) is still open: nothing of it is kept past this call */
	if (rc == 0 && c->want_bands)
		c->bands_json = fc_bands_json(&c->bands, 0);
	fc_bands_release(&c->bands);
	f->free(f);
	if (rc < 0)
		return cp_prefix(e, "%s", c->label);
	c->done = 1;
	return 0;
}

static cJSON *contender_json(const contender *c)
{
	cJSON *j = mt_summary_json(&c->r.sum);
	cJSON *m = cJSON_AddObjectToObject(j, "model");
	cJSON_AddStringToObject(m, "dir", c->ensemble ? "ensemble" : c->spec);
	if (c->ensemble)
		cJSON_AddItemToObject(j, "ensemble", cJSON_Duplicate(c->ensemble, 1));
	if (c->sha256)
		cJSON_AddStringToObject(m, "sha256", c->sha256);
	else
		cJSON_AddNullToObject(m, "sha256");
	cJSON_AddItemToObject(j, "config", fc_config_json(&c->cfg));
	return j;
}

/* contender_json plus the forecasts at the horizon (moved out of c). */
static cJSON *contender_json_bands(contender *c)
{
	cJSON *j = contender_json(c);
	if (c->bands_json) {
		cJSON_AddItemToObject(j, "forecasts", c->bands_json);
		c->bands_json = NULL;
	}
	return j;
}

/* Free what scoring the three contenders of one line left behind. */
static void release_scores(contender c[3], int *origins, series *s, cJSON *inc)
{
	for (int i = 0; i < 3; i++) {
		if (c[i].done)
			bt_result_free(&c[i].r);
		cJSON_Delete(c[i].bands_json);
		free(c[i].own_spec);
	}
	free(origins);
	series_free(s);
	cJSON_Delete(inc);
}

static const char *model_sha(const cJSON *cfg)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(cfg, "model");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(m, "sha256");
	return cJSON_IsString(s) ? s->valuestring : NULL;
}

/* Load the envelope's series and check it is the one the envelope was
 * made from. */
static int load_series(const cJSON *env, series *s, cp_err *e)
{
	const char *path = env_string(env, "series", "path");
	const char *id = env_string(env, "series", "id");
	const char *last = env_string(env, "series", "last_date");
	const cJSON *ln = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(env, "series"), "length");
	const cJSON *lj = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(env, "series"), "last_date");
	if (!path)
		return cp_fail(e, CP_DATA, "envelope has no \"series\".\"path\"");
	if (ln && (!cJSON_IsNumber(ln) || ln->valuedouble != floor(ln->valuedouble) || ln->valuedouble < 0 ||
	           ln->valuedouble > 2147483647.0))
		return cp_fail(e, CP_DATA, "envelope \"series\".\"length\" must be a number of observations");
	if (lj && !cJSON_IsString(lj))
		return cp_fail(e, CP_DATA, "envelope \"series\".\"last_date\" must be a date (YYYY-MM-DD)");
	series_missing missing;
	if (env_series_missing(env, &missing, e) < 0)
		return -1;
	if (series_load_missing(s, path, id && *id ? id : NULL, 2, missing, e) < 0)
		return -1;
	if (ln && (int)ln->valuedouble != s->n) {
		cp_fail(e, CP_DATA, "%s: series changed since the envelope was made (length %d, now %d)",
		        path, (int)ln->valuedouble, s->n);
		series_free(s);
		return -1;
	}
	char d[11];
	cp_format_date(s->day[s->n - 1], d);
	if (last && strcmp(last, d) != 0) {
		cp_fail(e, CP_DATA, "%s: series changed since the envelope was made (last date %.10s, now %s)",
		        path, last, d);
		series_free(s);
		return -1;
	}
	return 0;
}

int vd_line(cJSON *env, const vd_options *o, cp_err *e)
{
	double t0 = cp_now();
	char buf[1024];
	const char *stop = env_stop_reason(env, "validation", buf, sizeof(buf));
	if (stop) {
		cJSON *sk = env_skipped(stop);
		env_add_number(sk, "seconds", cp_now() - t0);
		env_set(env, "validation", sk);
		return 0;
	}
	const char *h;
	int steps;
	uint64_t seed;
	if (env_horizon(env, &h, &steps, e) < 0 || env_seed(env, &seed, e) < 0)
		return -1;
	const cJSON *search = cJSON_GetObjectItemCaseSensitive(env, "search");
	const cJSON *cand = cJSON_GetObjectItemCaseSensitive(search, "candidate");
	if (!cJSON_IsObject(cand))
		return cp_fail(e, CP_DATA, "horizon '%s': envelope has no \"search\".\"candidate\"", h);
	const cJSON *ch = cJSON_GetObjectItemCaseSensitive(cand, "horizon");
	if (ch && (!cJSON_IsString(ch) || strcmp(ch->valuestring, h) != 0))
		return cp_fail(e, CP_DATA, "horizon '%s': search.candidate is for another horizon", h);
	const char *env_model = env_string(env, "model", "dir");

	contender c[3];
	memset(c, 0, sizeof(c));
	c[0].label = "candidate";
	c[0].want_bands = c[1].want_bands = 1;
	char what[80];
	snprintf(what, sizeof(what), "horizon '%s': search.candidate", h);
	if (dc_settings(cand, what, &c[0].cfg, &c[0].spec, e) < 0 ||
	    ensemble_spec_of(&c[0], cand, what, e) < 0)
		return -1;
	if (!c[0].spec)
		c[0].spec = env_model;
	if (!c[0].spec)
		return cp_fail(e, CP_DATA, "horizon '%s': no model for the candidate (search.candidate.model.dir "
		               "or model.dir)", h);
	c[0].sha256 = c[0].ensemble ? NULL : model_sha(cand);  /* members name theirs */

	int missing = 0;
	cJSON *inc = dc_load(o->config_dir, h, &missing, e);
	if (!inc && !missing) {
		free(c[0].own_spec);
		return cp_prefix(e, "horizon '%s': deployed config", h);
	}
	if (inc) {
		c[1].label = "incumbent";
		char path[4096];
		dc_path(path, sizeof(path), o->config_dir, h, e);
		if (dc_settings(inc, path, &c[1].cfg, &c[1].spec, e) < 0 ||
		    ensemble_spec_of(&c[1], inc, path, e) < 0) {
			free(c[0].own_spec);
			free(c[1].own_spec);
			cJSON_Delete(inc);
			return -1;
		}
		if (!c[1].spec)
			c[1].spec = env_model ? env_model : c[0].spec;
		c[1].sha256 = c[1].ensemble ? NULL : model_sha(inc);
	}
	c[2].label = "random walk";
	c[2].spec = "random_walk";
	c[2].cfg = c[0].cfg;
	c[2].cfg.temperature = 1.0;
	c[2].cfg.top_k = 0;
	c[2].cfg.top_p = 1.0;

	series s;
	if (load_series(env, &s, e) < 0) {
		cJSON_Delete(inc);
		return cp_prefix(e, "horizon '%s'", h);
	}
	bt_plan plan = {o->origins, o->stride, 0};
	int *origins = NULL;
	int rc = bt_origins(&s, steps, 2, &plan, &origins, e);
	if (rc < 0 && e->code == CP_DATA) {
		/* the series is too short for this horizon's validation windows:
		 * this horizon fails, the others go on */
		release_scores(c, origins, &s, inc);
		cJSON *err = env_error(e);
		env_add_number(err, "seconds", cp_now() - t0);
		env_set(env, "validation", err);
		return 1;
	}
	for (int i = 0; rc == 0 && i < 3; i++)
		if (c[i].label && c[i].spec)
			rc = score(&c[i], &s, origins, plan.count, steps, seed, o->batch, e);
	if (rc < 0) {
		release_scores(c, origins, &s, inc);
		return cp_prefix(e, "horizon '%s'", h);
	}

	int n = plan.count;
	double *loss = cp_malloc(3 * (size_t)n * sizeof(*loss));
	for (int i = 0; i < 3; i++)
		for (int w = 0; w < n; w++)
			loss[i * n + w] = c[i].done ? c[i].r.win[w].sse : NAN;
	/* windows stride apart share steps - stride targets: the losses are
	 * autocorrelated over ceil(steps / stride) windows, the horizon the
	 * DM lag rule and the HLN correction count in */
	vd_input in = {&c[0].r.sum, inc ? &c[1].r.sum : NULL, &c[2].r.sum,
	               loss, inc ? loss + n : NULL, loss + 2 * n, n, (steps + o->stride - 1) / o->stride};
	vd_decision *d = cp_malloc(sizeof(*d));
	vd_decide(&o->crit, &in, d);

	cJSON *v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "status", "done");
	cJSON_AddBoolToObject(v, "approved", d->approved);
	cJSON_AddBoolToObject(v, "first_deployment", d->first_deployment);
	cJSON_AddStringToObject(v, "summary", d->summary);
	cJSON_AddItemToObject(v, "reasons", vd_reasons_json(d));
	cJSON_AddItemToObject(v, "criteria", vd_criteria_json(d));
	cJSON_AddItemToObject(v, "dm", vd_dm_json(d));
	cJSON_AddItemToObject(v, "thresholds", vd_thresholds_json(&o->crit, o->preset));
	cJSON *w = cJSON_AddObjectToObject(v, "windows");
	cJSON_AddNumberToObject(w, "count", n);
	cJSON_AddNumberToObject(w, "stride", o->stride);
	cJSON_AddNumberToObject(w, "steps", steps);
	char d0[11], d1[11];
	cp_format_date(s.day[origins[0]], d0);
	cp_format_date(s.day[origins[n - 1]], d1);
	cJSON_AddStringToObject(w, "first_date", d0);
	cJSON_AddStringToObject(w, "last_date", d1);
	/* the windows opt-search held out, when it says */
	const cJSON *split = cJSON_GetObjectItemCaseSensitive(search, "split");
	const char *sf = env_string(split, NULL, "first_holdout_date");
	const char *sl = env_string(split, NULL, "last_holdout_date");
	if (sf && sl)
		cJSON_AddBoolToObject(w, "same_as_search_holdout", strcmp(sf, d0) == 0 && strcmp(sl, d1) == 0);
	else
		cJSON_AddNullToObject(w, "same_as_search_holdout");
	cJSON_AddItemToObject(v, "candidate", contender_json_bands(&c[0]));
	if (inc) {
		cJSON *ij = contender_json_bands(&c[1]);
		char path[4096];
		dc_path(path, sizeof(path), o->config_dir, h, e);
		cJSON_AddStringToObject(ij, "path", path);
		cJSON_AddItemToObject(v, "incumbent", ij);
	} else {
		cJSON_AddNullToObject(v, "incumbent");
	}
	cJSON_AddItemToObject(v, "random_walk", contender_json(&c[2]));
	env_add_number(v, "seconds", cp_now() - t0);
	env_set(env, "validation", v);

	free(d);
	free(loss);
	release_scores(c, origins, &s, inc);
	return 0;
}
