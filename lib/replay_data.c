/* replay_data.c — the series a replay runs on: cuts, the simulated cron
 * days, synthetic series with a regime change, the first incumbent (see
 * replay.h). */
#include "replay.h"
#include "backtest.h"
#include "depconfig.h"
#include "envelope.h"
#include "prng.h"
#include "search.h"
#include "settings.h"
#include "space.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Shortest of %.15g..%.17g that reads back as v. */
static void fmt_exact(char *buf, size_t len, double v)
{
	for (int p = 15; p <= 17; p++) {
		snprintf(buf, len, "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

int rp_cut(const series *s, int32_t until, int min_obs, FILE *out, cp_err *e)
{
	int n = 0;
	while (n < s->n && s->day[n] <= until)
		n++;
	if (n < min_obs) {
		char d[11];
		cp_format_date(until, d);
		return cp_fail(e, CP_DATA, "%s: only %d observation%s on or before %s (need %d)",
		               s->path ? s->path : "<series>", n, n == 1 ? "" : "s", d, min_obs);
	}
	int lng = s->id && *s->id;
	if (fputs(lng ? "unique_id,ds,y\n" : "date,value\n", out) == EOF)
		return cp_fail_errno(e, "cannot write the cut series");
	for (int i = 0; i < n; i++) {
		char d[11], v[40];
		cp_format_date(s->day[i], d);
		fmt_exact(v, sizeof v, s->y[i]);
		int rc = lng ? fprintf(out, "%s,%s,%s\n", s->id, d, v) : fprintf(out, "%s,%s\n", d, v);
		if (rc < 0)
			return cp_fail_errno(e, "cannot write the cut series");
	}
	if (fflush(out) == EOF || ferror(out))
		return cp_fail_errno(e, "cannot write the cut series");
	return 0;
}

int rp_weekday(int32_t day)
{
	/* 1970-01-01 was a Thursday */
	int w = (int)((day + 4) % 7);
	return w < 0 ? w + 7 : w;
}

int rp_parse_weekday(const char *s)
{
	static const char *const names[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
	if (!s)
		return -1;
	if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
		return (s[0] - '0') % 7;
	if (strlen(s) != 3)
		return -1;
	for (int i = 0; i < 7; i++) {
		int ok = 1;
		for (int k = 0; k < 3; k++)
			if ((s[k] | 0x20) != names[i][k])
				ok = 0;
		if (ok)
			return i;
	}
	return -1;
}

int rp_weeks(int32_t from, int32_t to, int weekday, int32_t **days, cp_err *e)
{
	*days = NULL;
	if (weekday < 0 || weekday > 6)
		return cp_fail(e, CP_USAGE, "weekday %d is not in 0..6", weekday);
	if (to < from) {
		char a[11], b[11];
		cp_format_date(from, a);
		cp_format_date(to, b);
		return cp_fail(e, CP_USAGE, "the replay would end (%s) before it starts (%s)", b, a);
	}
	if ((int64_t)to - from > 36525)
		return cp_fail(e, CP_USAGE, "a replay spans at most 100 years");
	int32_t first = from + (weekday - rp_weekday(from) + 7) % 7;
	if (first > to)
		return 0;
	int n = (to - first) / 7 + 1;
	int32_t *d = cp_malloc((size_t)n * sizeof(*d));
	for (int i = 0; i < n; i++)
		d[i] = first + 7 * i;
	*days = d;
	return n;
}

int rp_synth(const rp_synth_opts *o, FILE *out, cp_err *e)
{
	if (o->length < 3 || o->length > 100000)
		return cp_fail(e, CP_USAGE, "length %d is not in 3..100000", o->length);
	if (!(o->level > 0) || !isfinite(o->level))
		return cp_fail(e, CP_USAGE, "level must be a positive number");
	if (!(o->vol > 0) || !(o->vol < 1))
		return cp_fail(e, CP_USAGE, "volatility must be in (0, 1)");
	if (!(o->vol_factor > 0) || !isfinite(o->vol_factor))
		return cp_fail(e, CP_USAGE, "volatility factor must be a positive number");
	if (!(o->level_shift_pct > -100) || !isfinite(o->level_shift_pct))
		return cp_fail(e, CP_USAGE, "level shift must be a percentage above -100");
	if (o->seed > CP_SEED_MAX)
		return cp_fail(e, CP_USAGE, "seed is not in " CP_SEED_RANGE);
	if (fputs("date,value\n", out) == EOF)
		return cp_fail_errno(e, "cannot write the synthetic series");
	int32_t day = o->start;
	double y = o->level;
	int shifted = 0;
	for (int i = 0; i < o->length; i++) {
		while (rp_weekday(day) == 0 || rp_weekday(day) == 6)
			day++;
		if (i > 0) {
			prng p;
			prng_init(&p, o->seed, (uint64_t)i, 0);
			double sd = day >= o->change ? o->vol * o->vol_factor : o->vol;
			double r = sd * prng_normal(&p) - 0.5 * sd * sd;
			if (day >= o->change && !shifted) {
				r += log1p(o->level_shift_pct / 100.0);
				shifted = 1;
			}
			y *= exp(r);
		} else if (day >= o->change) {
			shifted = 1; /* no level before the first value to jump from */
		}
		if (!isfinite(y) || !(y > 0))
			return cp_fail(e, CP_USAGE, "the synthetic series left the positive numbers at %d", i);
		char d[11], v[40];
		cp_format_date(day, d);
		fmt_exact(v, sizeof v, y);
		if (fprintf(out, "%s,%s\n", d, v) < 0)
			return cp_fail_errno(e, "cannot write the synthetic series");
		day++;
	}
	if (fflush(out) == EOF || ferror(out))
		return cp_fail_errno(e, "cannot write the synthetic series");
	return 0;
}

/* ------------------------------------------------------------- incumbent */

/* The default config of a horizon: the middle of each dimension. */
static int default_config(const cJSON *settings, const char *where, const char *horizon, fc_config *c,
                          cp_err *e)
{
	sr_options so;
	sr_options_default(&so);
	if (sr_options_from_settings(&so, settings, horizon, where, e) < 0)
		return -1;
	const sp_space *sp = &so.space;
	for (int d = 0; d < SP_NDIM; d++)
		if (sp->n[d] < 1)
			return cp_fail(e, CP_DATA, "%s: the search space of '%s' has no \"%s\" list to take the "
			               "default config from (give an incumbent directory)", where, horizon,
			               sp_dim_name[d]);
	c->context_length = (int)sp->v[SP_CTX][sp->n[SP_CTX] / 2];
	c->num_samples = (int)sp->v[SP_SAMPLES][sp->n[SP_SAMPLES] / 2];
	c->temperature = sp->v[SP_TEMP][sp->n[SP_TEMP] / 2];
	c->top_k = (int)sp->v[SP_TOPK][sp->n[SP_TOPK] / 2];
	c->top_p = sp->v[SP_TOPP][sp->n[SP_TOPP] / 2];
	return 0;
}

cJSON *rp_incumbent(const series *s, const cJSON *settings, const char *settings_path,
                    const char *horizon, int steps, const char *model, uint64_t seed,
                    const char *dir, const char *run_id, cp_err *e)
{
	const char *where = settings_path ? settings_path : "settings";
	fc_config cfg;
	const char *spec = model, *source = "the default config (middle of the search space)";
	cJSON *file = NULL;
	char path[4200];
	if (dir) {
		int missing = 0;
		if (dc_path(path, sizeof path, dir, horizon, e) < 0)
			return NULL;
		file = dc_load(dir, horizon, &missing, e);
		if (!file) {
			if (missing)
				cp_fail(e, CP_DATA, "%s: no incumbent config for horizon '%s'", path, horizon);
			return NULL;
		}
		const char *md = NULL;
		if (dc_settings(file, path, &cfg, &md, e) < 0) {
			cJSON_Delete(file);
			return NULL;
		}
		if (md)
			spec = md;
		source = path;
	} else if (default_config(settings, where, horizon, &cfg, e) < 0) {
		return NULL;
	}

	sr_options so;
	sr_options_default(&so);
	if (sr_options_from_settings(&so, settings, horizon, where, e) < 0) {
		cJSON_Delete(file);
		return NULL;
	}
	bt_plan plan = {so.holdout > 0 ? so.holdout : 30, so.holdout_stride, 0};
	int *origins = NULL;
	forecaster *f = NULL;
	bt_result r, rw;
	memset(&r, 0, sizeof r);
	memset(&rw, 0, sizeof rw);
	int rw_done = 0;
	cJSON *env = NULL;
	if (bt_origins(s, steps, 2, &plan, &origins, e) < 0)
		goto out;
	f = forecaster_open(spec, e);
	if (!f)
		goto out;
	if (bt_run(f, &cfg, s, origins, plan.count, steps, seed, 0, &r, e) < 0)
		goto out;
	if (!(r.sum.rmse > 0)) {
		cp_fail(e, CP_DATA, "horizon '%s': the incumbent's held-out RMSE is %g, not positive", horizon,
		        r.sum.rmse);
		goto out;
	}
	/* the random walk on the same windows, as opt-validate reports it:
	 * opt-deploy records it for opt-trigger's performance check */
	forecaster *fr = forecaster_open("random_walk", e);
	if (!fr)
		goto out;
	int rrc = bt_run(fr, &cfg, s, origins, plan.count, steps, seed, 0, &rw, e);
	fr->free(fr);
	if (rrc < 0)
		goto out;
	rw_done = 1;

	char last[11], d0[11], d1[11], now[21];
	cp_format_date(s->day[s->n - 1], last);
	cp_format_date(s->day[origins[0]], d0);
	cp_format_date(s->day[origins[plan.count - 1]], d1);
	env_utc_now(now);
	env = env_new(run_id, seed, s->path, s->id, last, s->n, horizon, steps, spec);

	cJSON *search = cJSON_AddObjectToObject(env, "search");
	cJSON_AddStringToObject(search, "status", "done");
	cJSON_AddNumberToObject(search, "seconds", 0);
	cJSON *cand = cJSON_AddObjectToObject(search, "candidate");
	cJSON_AddStringToObject(cand, "horizon", horizon);
	fc_config_add_json(cand, &cfg);
	env_add_number(cand, "validation_rmse", r.sum.rmse);
	env_add_number(cand, "validation_mape", r.sum.mape);
	env_add_number(cand, "validation_mae", r.sum.mae);
	cJSON_AddStringToObject(cand, "timestamp", now);
	cJSON *m = cJSON_AddObjectToObject(cand, "model");
	cJSON_AddStringToObject(m, "dir", spec);
	cJSON_AddStringToObject(cand, "run_id", run_id);
	cJSON_AddNumberToObject(cand, "seed", (double)seed);
	cJSON_AddStringToObject(cand, "replay_incumbent", source);

	char words[600];
	snprintf(words, sizeof words, "replay incumbent: %.400s, RMSE %.6g on the %d held-out origins %s to %s",
	         source, r.sum.rmse, plan.count, d0, d1);
	cJSON *val = cJSON_AddObjectToObject(env, "validation");
	cJSON_AddStringToObject(val, "status", "done");
	cJSON_AddBoolToObject(val, "approved", 1);
	cJSON_AddStringToObject(val, "summary", words);
	cJSON *reasons = cJSON_AddArrayToObject(val, "reasons");
	cJSON_AddItemToArray(reasons, cJSON_CreateString(words));
	cJSON *w = cJSON_AddObjectToObject(val, "windows");
	cJSON_AddNumberToObject(w, "count", plan.count);
	cJSON_AddNumberToObject(w, "stride", plan.stride);
	cJSON_AddNumberToObject(w, "steps", steps);
	cJSON_AddStringToObject(w, "first_date", d0);
	cJSON_AddStringToObject(w, "last_date", d1);
	cJSON *vc = mt_summary_json(&r.sum);
	cJSON_AddItemToObject(vc, "config", fc_config_json(&cfg));
	cJSON_AddItemToObject(val, "candidate", vc);
	cJSON_AddNullToObject(val, "incumbent");
	cJSON *rj = mt_summary_json(&rw.sum);
	cJSON *rm = cJSON_AddObjectToObject(rj, "model");
	cJSON_AddStringToObject(rm, "dir", "random_walk");
	cJSON_AddItemToObject(val, "random_walk", rj);
	cJSON_AddNumberToObject(val, "seconds", 0);
out:
	if (f)
		f->free(f);
	bt_result_free(&r);
	if (rw_done)
		bt_result_free(&rw);
	free(origins);
	cJSON_Delete(file);
	if (!env)
		cp_prefix(e, "horizon '%s': incumbent", horizon);
	return env;
}
