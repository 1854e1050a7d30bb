/* challenger.c — the challenger file, the scoring of champion and
 * challenger on the origins since the start, the decision, and the
 * `opt-deploy challenge` stage.  See challenger.h. */
#include "challenger.h"
#include "backtest.h"
#include "depconfig.h"
#include "dmtest.h"
#include "envelope.h"
#include "gitrepo.h"
#include "settings.h"
#include "sha256.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- the file */

int ch_path(char *buf, size_t len, const char *dir, const char *h, cp_err *e)
{
	char b[CP_SHOWN_MAX];
	if (!cp_name_ok(h))
		return cp_fail(e, CP_USAGE, "horizon name '%s' is not a plain name ([A-Za-z0-9_-], 1-32 chars)",
		               cp_shown(h, b));
	int n = snprintf(buf, len, "%s/%s.challenger.json", dir, h);
	if (n < 0 || (size_t)n >= len)
		return cp_fail(e, CP_IO, "config path '%.60s...' is too long", dir);
	return 0;
}

cJSON *ch_parse(const char *text, size_t len, const char *path, const char *h, ch_info *info, cp_err *e)
{
	memset(info, 0, sizeof(*info));
	cJSON *j = dc_parse(text, path, h, e);
	if (!j)
		return NULL;
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "challenger");
	const cJSON *sa = cJSON_GetObjectItemCaseSensitive(c, "started_at");
	const cJSON *sd = cJSON_GetObjectItemCaseSensitive(c, "start_date");
	const cJSON *no = cJSON_GetObjectItemCaseSensitive(c, "origins_required");
	const cJSON *lv = cJSON_GetObjectItemCaseSensitive(c, "level");
	if (!cJSON_IsObject(c))
		cp_fail(e, CP_DATA, "%s: \"challenger\" must be an object", path);
	else if (!cJSON_IsString(sa) || strlen(sa->valuestring) < 10 || strlen(sa->valuestring) >= 32)
		cp_fail(e, CP_DATA, "%s: \"challenger\".\"started_at\" must be a UTC time (YYYY-MM-DDTHH:MM:SSZ)", path);
	else if (!cJSON_IsString(sd) || cp_parse_date(sd->valuestring, &info->start_day) < 0)
		cp_fail(e, CP_DATA, "%s: \"challenger\".\"start_date\" must be a date (YYYY-MM-DD)", path);
	else if (!cJSON_IsNumber(no) || no->valuedouble != floor(no->valuedouble) || no->valuedouble < 3 ||
	         no->valuedouble > CH_ORIGINS_MAX)
		cp_fail(e, CP_DATA, "%s: \"challenger\".\"origins_required\" must be an integer in 3..%d", path,
		        CH_ORIGINS_MAX);
	else if (!cJSON_IsNumber(lv) || !(lv->valuedouble > 0) || !(lv->valuedouble <= 0.5))
		cp_fail(e, CP_DATA, "%s: \"challenger\".\"level\" must be a number in (0, 0.5]", path);
	else {
		snprintf(info->started_at, sizeof(info->started_at), "%s", sa->valuestring);
		snprintf(info->start_date, sizeof(info->start_date), "%s", sd->valuestring);
		info->origins = (int)no->valuedouble;
		info->level = lv->valuedouble;
		const char *md = NULL;
		dc_settings(j, path, &info->cfg, &md, e); /* dc_parse checked them */
		snprintf(info->model, sizeof(info->model), "%s", md ? md : "");
		sha256_hex(text, len, info->sha256);
		return j;
	}
	cJSON_Delete(j);
	return NULL;
}

/* The sha256 a champion names in promoted_from, or NULL. */
static const char *promoted_sha(const cJSON *champion)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(champion, "promoted_from");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(p, "challenger_sha256");
	return cJSON_IsString(s) ? s->valuestring : NULL;
}

cJSON *ch_load(const char *dir, const char *h, int *missing, ch_info *info, cp_err *e)
{
	char path[4200];
	*missing = 0;
	if (ch_path(path, sizeof(path), dir, h, e) < 0)
		return NULL;
	size_t len = 0;
	char *text = dc_read_file(path, &len, missing, e);
	if (!text)
		return NULL;
	cJSON *j = ch_parse(text, len, path, h, info, e);
	free(text);
	if (!j)
		return NULL;
	/* the champion promoted from these very bytes: a promotion a crash
	 * interrupted after its write; the file is no longer live */
	int cm = 0;
	cp_err ignore = {0};
	cJSON *champ = dc_load(dir, h, &cm, &ignore);
	const char *ps = promoted_sha(champ);
	int stale = ps && strcmp(ps, info->sha256) == 0;
	cJSON_Delete(champ);
	if (stale) {
		cJSON_Delete(j);
		*missing = 1;
		return NULL;
	}
	return j;
}

int ch_settings(const cJSON *settings, int *as_challenger, int *origins, double *level, cp_err *e)
{
	*as_challenger = 0;
	*origins = CH_ORIGINS_DEFAULT;
	*level = CH_LEVEL_DEFAULT;
	const cJSON *m = settings_node(settings, "deploy.mode");
	if (m) {
		if (!cJSON_IsString(m) || (strcmp(m->valuestring, "champion") && strcmp(m->valuestring, "challenger")))
			return cp_fail(e, CP_DATA, "settings: deploy.mode must be \"champion\" or \"challenger\"");
		*as_challenger = !strcmp(m->valuestring, "challenger");
	}
	double v;
	int got = settings_number(settings, "challenger.origins", &v, e);
	if (got < 0 || (got && (v != floor(v) || v < 3 || v > CH_ORIGINS_MAX)))
		return got < 0 ? -1 : cp_fail(e, CP_DATA, "settings: challenger.origins must be an integer in 3..%d",
		                              CH_ORIGINS_MAX);
	if (got)
		*origins = (int)v;
	got = settings_number(settings, "challenger.level", &v, e);
	if (got < 0 || (got && !(v > 0 && v <= 0.5)))
		return got < 0 ? -1 : cp_fail(e, CP_DATA, "settings: challenger.level must be a number in (0, 0.5]");
	if (got)
		*level = v;
	return 0;
}

/* ------------------------------------------------------------ the test */

double ch_sign_p(int m, int k)
{
	if (k <= 0)
		return 1;
	if (k > m)
		return 0;
	double p = 0;
	for (int i = k; i <= m; i++)
		p += exp(lgamma(m + 1.0) - lgamma(i + 1.0) - lgamma(m - i + 1.0) - m * log(2.0));
	return fmin(1, p);
}

void ch_decide(const double *loss_ch, const double *loss_cp, int n, int steps, double level, ch_score *out)
{
	out->wins = out->losses = out->ties = 0;
	for (int i = 0; i < n; i++) {
		if (loss_ch[i] < loss_cp[i])
			out->wins++;
		else if (loss_ch[i] > loss_cp[i])
			out->losses++;
		else
			out->ties++;
	}
	out->test = NULL;
	out->stat = out->p_value = NAN;
	out->lags = 0;
	out->dm_note[0] = '\0';
	out->promote = 0;
	if (n < 3)
		return;
	dm_result r;
	cp_err e = {0};
	if (dm_test_bartlett(loss_ch, loss_cp, n, steps, 0, &r, &e) == 0) {
		out->test = "dm";
		out->stat = r.stat;
		out->p_value = r.p_less;
		out->lags = r.lags;
	} else {
		snprintf(out->dm_note, sizeof(out->dm_note), "%s", e.msg);
		out->test = "sign";
		out->stat = out->wins;
		out->p_value = ch_sign_p(out->wins + out->losses, out->wins);
	}
	out->promote = out->p_value < level;
}

int ch_score_run(forecaster *fcp, forecaster *fch, const series *s, int steps, const fc_config *champion,
                 const fc_config *challenger, const ch_info *ci, uint64_t seed, ch_score *out, cp_err *e)
{
	memset(out, 0, sizeof(*out));
	out->required = ci->origins;
	out->rmse_champion = out->rmse_challenger = out->stat = out->p_value = NAN;
	int *orig = cp_malloc(((size_t)ci->origins + 1) * sizeof(int));
	/* origins one observation apart, from the first forecast made at or
	 * after the start; at least 2 observations of context */
	for (int t = 2; t + steps <= s->n; t++) {
		if (s->day[t - 1] < ci->start_day || !bt_target_observed(s, t, steps))
			continue;
		if (out->used < ci->origins)
			orig[out->used++] = t;
		out->available++;
	}
	if (out->used == 0) {
		free(orig);
		return 0;
	}
	cp_format_date(s->day[orig[0] - 1], out->first);
	cp_format_date(s->day[orig[out->used - 1] - 1], out->last);
	bt_result a, b;
	if (bt_run(fcp, champion, s, orig, out->used, steps, seed, 0, &a, e) < 0) {
		free(orig);
		return -1;
	}
	if (bt_run(fch, challenger, s, orig, out->used, steps, seed, 0, &b, e) < 0) {
		bt_result_free(&a);
		free(orig);
		return -1;
	}
	free(orig);
	out->rmse_champion = a.sum.rmse;
	out->rmse_challenger = b.sum.rmse;
	double *lc = cp_malloc((size_t)out->used * sizeof(double)), *lp = cp_malloc((size_t)out->used * sizeof(double));
	for (int i = 0; i < out->used; i++)
		lp[i] = a.win[i].sse, lc[i] = b.win[i].sse;
	ch_decide(lc, lp, out->used, steps, ci->level, out);
	out->decided = out->used == out->required;
	if (!out->decided)
		out->promote = 0;
	free(lc);
	free(lp);
	bt_result_free(&a);
	bt_result_free(&b);
	return 0;
}

/* ------------------------------------------------------------ the stage */

static cJSON *scores_json(const ch_score *sc, const ch_info *ci)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "origins_required", sc->required);
	cJSON_AddNumberToObject(o, "origins_available", sc->available);
	cJSON_AddNumberToObject(o, "origins_used", sc->used);
	if (sc->first[0]) {
		cJSON_AddStringToObject(o, "first_origin_date", sc->first);
		cJSON_AddStringToObject(o, "last_origin_date", sc->last);
	} else {
		cJSON_AddNullToObject(o, "first_origin_date");
		cJSON_AddNullToObject(o, "last_origin_date");
	}
	env_add_number(o, "champion_rmse", sc->rmse_champion);
	env_add_number(o, "challenger_rmse", sc->rmse_challenger);
	env_add_number(o, "rmse_ratio", sc->rmse_challenger / sc->rmse_champion);
	cJSON_AddNumberToObject(o, "wins", sc->wins);
	cJSON_AddNumberToObject(o, "losses", sc->losses);
	cJSON_AddNumberToObject(o, "ties", sc->ties);
	cJSON *t = cJSON_AddObjectToObject(o, "test");
	if (sc->test)
		cJSON_AddStringToObject(t, "name", sc->test);
	else
		cJSON_AddNullToObject(t, "name");
	env_add_number(t, "statistic", sc->stat);
	env_add_number(t, "p_value", sc->p_value);
	if (sc->test && !strcmp(sc->test, "dm"))
		cJSON_AddNumberToObject(t, "lags", sc->lags);
	env_add_number(t, "level", ci->level);
	if (sc->dm_note[0])
		cJSON_AddStringToObject(t, "dm_not_used", sc->dm_note);
	return o;
}

static void fmt(char *b, size_t n, double v)
{
	if (isfinite(v))
		snprintf(b, n, "%.6g", v);
	else
		snprintf(b, n, "n/a");
}

/* One horizon: returns 1 when a line was written, 0 when h has no
 * challenger, -1 on error. */
static int stage_one(const dp_options *o, const ch_stage_opts *so, int k, const series *s, forecaster *f,
                     FILE *out, cp_err *e)
{
	const char *h = so->names[k];
	int steps = so->steps[k];
	double t0 = cp_now();
	char path[4200];
	if (ch_path(path, sizeof(path), o->config_dir, h, e) < 0)
		return -1;
	char last[11];
	cp_format_date(s->day[s->n - 1], last);
	cJSON *env = env_new(so->run_id, so->seed, so->series_path, s->id, last, s->n, h, steps, so->model);
	cJSON *sec = cJSON_CreateObject();
	cJSON_AddStringToObject(sec, "status", "done");
	cJSON_AddStringToObject(sec, "config", path);
	dp_result r;
	memset(&r, 0, sizeof(r));
	const char *done = "";
	/* a promotion or retirement a crash interrupted: finish and say so */
	if (!o->dry_run && dp_challenger_complete(o, h, &done, &r, e) < 0)
		goto fail;
	if (done[0]) {
		cJSON_AddStringToObject(sec, "action", done);
		cJSON_AddBoolToObject(sec, "interrupted", 1);
		cJSON_AddStringToObject(sec, "revision", r.revision);
		char sum[512];
		snprintf(sum, sizeof(sum), "%s: challenger %s: completed the change an interrupted run began "
		         "(commit %.12s)", h, done, r.revision);
		cJSON_AddStringToObject(sec, "summary", sum);
		goto write;
	}
	int missing = 0;
	ch_info ci;
	cJSON *cj = ch_load(o->config_dir, h, &missing, &ci, e);
	if (!cj) {
		cJSON_Delete(sec);
		cJSON_Delete(env);
		return missing ? 0 : -1;
	}
	cJSON_Delete(cj);
	int cm = 0;
	cJSON *champ = dc_load(o->config_dir, h, &cm, e);
	if (!champ) {
		if (cm)
			cp_fail(e, CP_DATA, "%s: a challenger without a champion: no '%s/%s.json'", path, o->config_dir, h);
		goto fail;
	}
	fc_config cpc;
	const char *cpm = NULL;
	char cpmodel[4200], chmodel[4200];
	int rc = dc_settings(champ, h, &cpc, &cpm, e);
	snprintf(cpmodel, sizeof(cpmodel), "%s", cpm ? cpm : so->model);
	cJSON_Delete(champ);
	if (rc < 0)
		goto fail;
	snprintf(chmodel, sizeof(chmodel), "%s", ci.model[0] ? ci.model : so->model);
	/* each config runs on the model it was tuned for ("model"."dir"),
	 * else on --model */
	forecaster *fcp = strcmp(cpmodel, so->model) ? forecaster_open(cpmodel, e) : f;
	forecaster *fch = !fcp ? NULL : !strcmp(chmodel, so->model) ? f : !strcmp(chmodel, cpmodel) ? fcp :
	                  forecaster_open(chmodel, e);
	ch_score sc;
	rc = fcp && fch ? ch_score_run(fcp, fch, s, steps, &cpc, &ci.cfg, &ci, so->seed, &sc, e) : -1;
	if (fch && fch != f && fch != fcp)
		fch->free(fch);
	if (fcp && fcp != f)
		fcp->free(fcp);
	if (rc < 0)
		goto fail;
	cJSON_AddStringToObject(sec, "started_at", ci.started_at);
	cJSON_AddStringToObject(sec, "start_date", ci.start_date);
	cJSON_AddStringToObject(sec, "challenger_sha256", ci.sha256);
	cJSON *champ_cfg = fc_config_json(&cpc), *chal_cfg = fc_config_json(&ci.cfg);
	cJSON_AddStringToObject(champ_cfg, "model", cpmodel);
	cJSON_AddStringToObject(chal_cfg, "model", chmodel);
	cJSON_AddItemToObject(sec, "champion_config", champ_cfg);
	cJSON_AddItemToObject(sec, "challenger_config", chal_cfg);
	cJSON *scores = scores_json(&sc, &ci);
	char a[32], b[32], p[32];
	fmt(a, sizeof a, sc.rmse_challenger);
	fmt(b, sizeof b, sc.rmse_champion);
	fmt(p, sizeof p, sc.p_value);
	char sum[1024];
	const char *action = "scored";
	if (!sc.decided) {
		snprintf(sum, sizeof(sum), "%s: challenger scored on %d of %d origins since %s: RMSE %s against the "
		         "champion's %s; decision after %d", h, sc.used, sc.required, ci.start_date, a, b, sc.required);
	} else {
		action = sc.promote ? "promoted" : "retired";
		if (!o->dry_run) {
			rc = sc.promote ? dp_challenger_promote(o, h, ci.sha256, scores, &r, e)
			                : dp_challenger_retire(o, h, ci.sha256, scores, &r, e);
			if (rc < 0) {
				cJSON_Delete(scores);
				goto fail;
			}
		}
		snprintf(sum, sizeof(sum), "%s: challenger %s%s after %d origins from %s to %s: RMSE %s against the "
		         "champion's %s, %s one-sided p %s %s %g", h, o->dry_run ? "would be " : "", action, sc.used,
		         sc.first, sc.last, a, b, !strcmp(sc.test, "dm") ? "Diebold-Mariano (HLN)" : "sign test", p,
		         sc.promote ? "<" : ">=", ci.level);
		if (r.revision[0])
			cJSON_AddStringToObject(sec, "revision", r.revision);
	}
	cJSON_AddStringToObject(sec, "action", action);
	cJSON_AddBoolToObject(sec, "decided", sc.decided);
	cJSON_AddBoolToObject(sec, "dry_run", o->dry_run != 0);
	cJSON_AddItemToObject(sec, "scores", scores);
	cJSON_AddStringToObject(sec, "summary", sum);
write:
	env_add_number(sec, "seconds", cp_now() - t0);
	env_set(env, "challenger", sec);
	rc = env_write(out, env, e);
	cJSON_Delete(env);
	return rc < 0 ? -1 : 1;
fail:
	cJSON_Delete(sec);
	cJSON_Delete(env);
	return -1;
}

/* 1 when h has a challenger file on disk or in the repository's HEAD (a
 * removal a crash left uncommitted), 0 when neither, -1 on error. */
static int has_challenger(const char *dir, const char *h, cp_err *e)
{
	char path[4200], rel[64];
	if (ch_path(path, sizeof(path), dir, h, e) < 0)
		return -1;
	size_t len;
	int missing = 0;
	cp_err ignore = {0};
	char *t = dc_read_file(path, &len, &missing, &ignore);
	free(t);
	if (t || !missing)
		return 1;
	int norepo = 0;
	gr_repo *g = gr_open(dir, 0, &norepo, &ignore);
	if (!g)
		return 0;
	snprintf(rel, sizeof(rel), "%s.challenger.json", h);
	char *at = NULL;
	int in_head = gr_read_at(g, "HEAD", rel, &at, &len, &ignore) == 0;
	free(at);
	gr_close(g);
	return in_head;
}

int ch_stage(const dp_options *o, const ch_stage_opts *so, FILE *out, cp_err *e)
{
	/* nothing to load when no horizon has a challenger */
	int any = 0;
	for (int k = 0; k < so->n && !any; k++)
		if ((any = has_challenger(o->config_dir, so->names[k], e)) < 0)
			return -1;
	if (!any)
		return 0;
	series s;
	if (series_load(&s, so->series_path, so->series_id, 2, e) < 0)
		return -1;
	forecaster *f = forecaster_open(so->model, e);
	if (!f) {
		series_free(&s);
		return -1;
	}
	int rc = 0;
	for (int k = 0; k < so->n && rc >= 0; k++) {
		rc = has_challenger(o->config_dir, so->names[k], e);
		if (rc > 0)
			rc = stage_one(o, so, k, &s, f, out, e);
	}
	f->free(f);
	series_free(&s);
	return rc < 0 ? -1 : 0;
}

int ch_command(const dp_options *o, const cJSON *settings, const char *series_path, const char *id,
               const char *model, const char *seed, const char *const *horizons, int nh, FILE *out, cp_err *e)
{
	if (!series_path || !model)
		return cp_fail(e, CP_USAGE, "challenge needs --series FILE and --model MODEL");
	uint64_t sd = 42;
	if (seed) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(seed, &end, 10);
		if (!*seed || *end || errno || seed[0] == '-')
			return cp_fail(e, CP_USAGE, "--seed '%.40s' must be a non-negative integer", seed);
		sd = v;
	}
	horizon_def *defs = NULL;
	int n = 0;
	if (settings_horizons(settings, &defs, &n, e) < 0)
		return -1;
	const char *names[64];
	int steps[64], k = 0;
	if (nh == 0) {
		for (int i = 0; i < n && k < 64; i++, k++)
			names[k] = defs[i].name, steps[k] = defs[i].steps;
	} else {
		for (int i = 0; i < nh && k < 64; i++, k++) {
			horizon_def hd;
			if (settings_horizon(settings, horizons[i], &hd, e) < 0) {
				free(defs);
				return -1;
			}
			int j = 0;
			while (j < n && strcmp(defs[j].name, horizons[i]))
				j++;
			names[k] = j < n ? defs[j].name : horizons[i];
			steps[k] = hd.steps;
		}
	}
	char run_id[96];
	env_make_run_id(run_id, sizeof(run_id));
	ch_stage_opts so = {series_path, id, model, run_id, sd, names, steps, k};
	int rc = ch_stage(o, &so, out, e);
	free(defs);
	return rc;
}
