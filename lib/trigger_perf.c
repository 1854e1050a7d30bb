/* trigger_perf.c — the performance check of opt-trigger(1): the deployed
 * config, and either a walk-forward backtest of it or the forecast log.
 * See trigger.h and trigger_internal.h. */
#include "trigger.h"
#include "trigger_internal.h"

#include "backtest.h"
#include "depconfig.h"
#include "envelope.h"
#include "forecast.h"

#include <csv.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Deployed config                                                     */

typedef struct {
	int found;
	char path[4200];
	fc_config cfg;
	double val_rmse;
	double val_rw_rmse;      /* the random walk's RMSE on the validation windows, or NAN */
	int32_t validated_until; /* last origin date it was validated on, or INT32_MIN */
	const char *timestamp;  /* into json, may be NULL */
	const char *model_dir;  /* into json, may be NULL */
	cJSON *json;
} deployed;

/* The deployed config through the one parser every stage uses (depconfig.h:
 * size cap, horizon match, inference settings), plus what only this check
 * needs: the held-out RMSE it was approved with and the last origin date it
 * was validated on. Returns 1 found, 0 none, -1 error. */
static int load_deployed(const char *dir, const char *horizon, deployed *d, cp_err *e)
{
	memset(d, 0, sizeof(*d));
	if (dc_path(d->path, sizeof d->path, dir, horizon, e) < 0)
		return -1;
	int missing;
	d->json = dc_load(dir, horizon, &missing, e);
	if (!d->json)
		return missing ? 0 : -1;
	const cJSON *j = d->json;
	const cJSON *vr = cJSON_GetObjectItemCaseSensitive(j, "validation_rmse");
	d->validated_until = INT32_MIN;
	const char *vu = env_string(cJSON_GetObjectItemCaseSensitive(j, "validation"), NULL, "last_origin_date");
	if (dc_settings(j, d->path, &d->cfg, &d->model_dir, e) < 0) {
		/* e says why: dc_load checked the settings, this adds "model" */
	} else if (!vr) {
		cp_fail(e, CP_DATA, "%s: \"validation_rmse\" is missing", d->path);
	} else if (!cJSON_IsNumber(vr) || !isfinite(vr->valuedouble) || !(vr->valuedouble > 0)) {
		cp_fail(e, CP_DATA, "%s: \"validation_rmse\" must be a positive number", d->path);
	} else if (vu && cp_parse_date(vu, &d->validated_until) < 0) {
		/* Configs deployed by opt-deploy record the last origin date of the
		 * held-out windows that approved them; absent in older configs. */
		cp_fail(e, CP_DATA, "%s: \"validation\".\"last_origin_date\" '%.20s' is not a date", d->path, vu);
	} else {
		d->val_rmse = vr->valuedouble;
		/* deployed by opt-deploy since the performance check became
		 * relative to the random walk; absent in older configs */
		const cJSON *rw = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "validation"),
		                                                   "random_walk_rmse");
		d->val_rw_rmse = cJSON_IsNumber(rw) && isfinite(rw->valuedouble) && rw->valuedouble > 0 ?
		                     rw->valuedouble : NAN;
		const cJSON *ts = cJSON_GetObjectItemCaseSensitive(j, "timestamp");
		d->timestamp = cJSON_IsString(ts) ? ts->valuestring : NULL;
		d->found = 1;
		return 1;
	}
	cJSON_Delete(d->json);
	d->json = NULL;
	return -1;
}

/* ------------------------------------------------------------------ */
/* Forecast log                                                        */

typedef struct {
	int32_t fdate, tdate;
	double pred, lo, hi;
} fl_row;

typedef struct {
	const char *path;
	char *f[5];
	int nf;
	long line;
	int failed;
	cp_err *e;
	fl_row *rows;
	int n, cap;
} fl_ctx;

static const char *const fl_cols[5] = {"forecast_date", "target_date", "predicted", "lower", "upper"};

static void fl_field(void *s, size_t len, void *data)
{
	fl_ctx *c = data;
	if (c->nf < 5) {
		char *v = cp_malloc(len + 1);
		memcpy(v, s, len);
		v[len] = '\0';
		c->f[c->nf] = v;
	}
	c->nf++;
}

static void fl_row_end(int ch, void *data)
{
	(void)ch;
	fl_ctx *c = data;
	c->line++;
	int nf = c->nf;
	c->nf = 0;
	if (c->failed)
		goto out;
	if (nf != 5) {
		c->failed = 1;
		cp_fail(c->e, CP_DATA, "%s:%ld: expected 5 fields, got %d", c->path, c->line, nf);
		goto out;
	}
	if (c->line == 1) {
		const char *first = c->f[0];
		if (strncmp(first, "\xEF\xBB\xBF", 3) == 0)
			first += 3;
		for (int i = 0; i < 5; i++)
			if (strcmp(i ? c->f[i] : first, fl_cols[i]) != 0) {
				c->failed = 1;
				cp_fail(c->e, CP_DATA,
				        "%s:1: header must be 'forecast_date,target_date,predicted,lower,upper'", c->path);
				goto out;
			}
		goto out;
	}
	fl_row r;
	if (cp_parse_date(c->f[0], &r.fdate) < 0 || cp_parse_date(c->f[1], &r.tdate) < 0) {
		c->failed = 1;
		cp_fail(c->e, CP_DATA, "%s:%ld: date '%.40s' is not a valid date", c->path, c->line,
		        cp_parse_date(c->f[0], &r.fdate) < 0 ? c->f[0] : c->f[1]);
		goto out;
	}
	double *dst[3] = {&r.pred, &r.lo, &r.hi};
	for (int i = 0; i < 3; i++)
		if (cp_parse_double(c->f[2 + i], dst[i]) < 0) {
			c->failed = 1;
			cp_fail(c->e, CP_DATA, "%s:%ld: %s '%.40s' is not a number", c->path, c->line, fl_cols[2 + i],
			        c->f[2 + i]);
			goto out;
		}
	if (r.tdate < r.fdate) {
		c->failed = 1;
		cp_fail(c->e, CP_DATA, "%s:%ld: target_date is before forecast_date", c->path, c->line);
		goto out;
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 256;
		c->rows = cp_realloc(c->rows, (size_t)c->cap * sizeof(fl_row));
	}
	c->rows[c->n++] = r;
out:
	for (int i = 0; i < 5 && i < nf; i++) {
		free(c->f[i]);
		c->f[i] = NULL;
	}
}

static int load_forecast_log(const char *path, fl_row **rows, int *n, cp_err *e)
{
	size_t len;
	char *text = cp_read_file(path, SIZE_MAX, &len, NULL, e);
	if (!text)
		return -1;
	struct csv_parser p;
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
		free(text);
		return cp_fail(e, CP_INTERNAL, "cannot initialise the CSV parser");
	}
	fl_ctx c = {.path = path, .e = e};
	size_t done = csv_parse(&p, text, len, fl_field, fl_row_end, &c);
	int perr = done != len;
	if (!perr && csv_fini(&p, fl_field, fl_row_end, &c) != 0)
		perr = 1;
	for (int i = 0; i < 5; i++)
		free(c.f[i]);
	if (perr && !c.failed) {
		cp_fail(e, CP_DATA, "%s:%ld: %s", path, c.line + 1, csv_strerror(csv_error(&p)));
		c.failed = 1;
	}
	csv_free(&p);
	free(text);
	if (!c.failed && c.line == 0) {
		cp_fail(e, CP_DATA, "%s: empty file (a header is required)", path);
		c.failed = 1;
	}
	if (c.failed) {
		free(c.rows);
		return -1;
	}
	*rows = c.rows;
	*n = c.n;
	return 0;
}

static int find_day(const series *s, int n, int32_t day)
{
	int lo = 0, hi = n - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if (s->day[mid] == day)
			return mid;
		if (s->day[mid] < day)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* Index of the last observed (not missing) value dated on or before day, or -1. */
static int last_on_or_before(const series *s, int32_t day)
{
	int lo = 0, hi = s->n - 1, k = -1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if (s->day[mid] <= day) {
			k = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	while (k >= 0 && isnan(s->y[k]))
		k--;
	return k;
}

static int cmp_i32_desc(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x < y) - (x > y);
}

/* ------------------------------------------------------------------ */
/* The performance check                                               */

/* Fill sec (the performance check's object); append to reasons. */
int trigger_check_performance(const trigger_input *in, const series *sv, const trigger_opts *o,
                              cJSON *sec, cJSON *reasons, perf_out *po, cp_err *e)
{
	po->evaluated = po->fired = 0;
	po->degradation = NAN;
	env_add_number(sec, "threshold_pct", o->degradation_pct);
	deployed d;
	int rc = load_deployed(in->config_dir, in->horizon, &d, e);
	if (rc < 0)
		return -1;
	cJSON_AddStringToObject(sec, "deployed_config", d.path);
	if (rc == 0) {
		cJSON_AddBoolToObject(sec, "evaluated", 0);
		cJSON_AddBoolToObject(sec, "fired", 0);
		cJSON_AddNullToObject(sec, "source");
		add_reason(reasons, "performance not checked: no deployed config for %s yet (%s does not exist)",
		           in->horizon, d.path);
		cJSON_AddStringToObject(sec, "reason", "no deployed config");
		return 0;
	}
	double rmse = NAN, rw_rmse = NAN;
	int norig = 0, nrows = 0;
	int32_t first = 0, last = 0;
	const char *why_not = NULL;
	char whybuf[300];
	cJSON *src = cJSON_CreateObject();
	if (!in->forecast_log) {
		/* walk-forward backtest of the deployed config */
		int L = d.cfg.context_length;
		long need = (long)L + in->steps + o->recent_origins - 1;
		cJSON_AddStringToObject(sec, "source", "backtest");
		cJSON_AddStringToObject(src, "model", cJSON_GetObjectItemCaseSensitive(d.json, "ensemble")
		                                      ? "ensemble" : in->model_spec);
		if (d.model_dir)
			cJSON_AddStringToObject(src, "deployed_model", d.model_dir);
		fc_config_add_json(src, &d.cfg);
		cJSON_AddNumberToObject(src, "seed", (double)in->seed);
		if (need > sv->n) {
			snprintf(whybuf, sizeof whybuf,
			         "not enough observations for %d origins of %d steps with context %d: need %ld, have %d",
			         o->recent_origins, in->steps, L, need, sv->n);
			why_not = whybuf;
		} else {
			bt_plan plan = {.count = o->recent_origins, .stride = 1, .holdout = 0};
			int *orig = NULL;
			if (bt_origins(sv, in->steps, L, &plan, &orig, e) < 0) {
				cJSON_Delete(src);
				cJSON_Delete(d.json);
				return -1;
			}
			/* Judge only origins the deployed config was not validated
			 * on: right after a deployment there are none, so a config
			 * is never re-tuned on the very windows that approved it. */
			int skip = 0;
			while (skip < plan.count && sv->day[orig[skip] - 1] <= d.validated_until)
				skip++;
			if (d.validated_until != INT32_MIN) {
				char vd[11];
				cp_format_date(d.validated_until, vd);
				cJSON_AddStringToObject(src, "validated_until", vd);
				cJSON_AddNumberToObject(src, "origins_already_validated", skip);
			}
			if (skip == plan.count) {
				char vd[11];
				cp_format_date(d.validated_until, vd);
				snprintf(whybuf, sizeof whybuf,
				         "no forecast origin after %s, the last one the deployed config was validated on",
				         vd);
				why_not = whybuf;
				free(orig);
				goto judged;
			}
			memmove(orig, orig + skip, (size_t)(plan.count - skip) * sizeof(*orig));
			plan.count -= skip;
			/* a deployed ensemble runs its own members */
			char *own = NULL;
			if (cJSON_GetObjectItemCaseSensitive(d.json, "ensemble") &&
			    dc_model_spec(d.json, d.path, &own, e) < 0) {
				free(orig);
				cJSON_Delete(src);
				cJSON_Delete(d.json);
				return -1;
			}
			forecaster *f = forecaster_open(own ? own : in->model_spec, e);
			free(own);
			if (!f) {
				free(orig);
				cJSON_Delete(src);
				cJSON_Delete(d.json);
				return -1;
			}
			bt_result r;
			if (bt_run(f, &d.cfg, sv, orig, plan.count, in->steps, in->seed, 0, &r, e) < 0) {
				free(orig);
				f->free(f);
				cJSON_Delete(src);
				cJSON_Delete(d.json);
				return -1;
			}
			rmse = r.sum.rmse;
			if (o->perf_vs_random_walk) {
				/* the random walk on the same origins */
				bt_result rr;
				forecaster *fr = forecaster_open("random_walk", e);
				if (!fr || bt_run(fr, &d.cfg, sv, orig, plan.count, in->steps, in->seed, 0, &rr, e) < 0) {
					if (fr)
						fr->free(fr);
					bt_result_free(&r);
					free(orig);
					f->free(f);
					cJSON_Delete(src);
					cJSON_Delete(d.json);
					return -1;
				}
				rw_rmse = rr.sum.rmse;
				bt_result_free(&rr);
				fr->free(fr);
			}
			norig = plan.count;
			nrows = plan.count * in->steps;
			/* origin dates as in bt_result_json: the last context observation */
			first = sv->day[orig[0] - 1];
			last = sv->day[orig[plan.count - 1] - 1];
			env_add_number(src, "mae", r.sum.mae);
			env_add_number(src, "cov80", r.sum.cov80);
			bt_result_free(&r);
			free(orig);
			f->free(f);
		}
	} else {
		char path[4096];
		const char *h = strstr(in->forecast_log, "{h}");
		if (h)
			snprintf(path, sizeof path, "%.*s%s%s", (int)(h - in->forecast_log), in->forecast_log,
			         in->horizon, h + 3);
		else
			snprintf(path, sizeof path, "%s", in->forecast_log);
		cJSON_AddStringToObject(sec, "source", "forecast_log");
		cJSON_AddStringToObject(src, "path", path);
		fl_row *rows = NULL;
		int n = 0;
		if (load_forecast_log(path, &rows, &n, e) < 0) {
			cJSON_Delete(src);
			cJSON_Delete(d.json);
			return -1;
		}
		int32_t lastday = sv->day[sv->n - 1];
		int pending = 0, unmatched = 0, matched = 0;
		int *act = cp_malloc((size_t)(n ? n : 1) * sizeof(int));
		int32_t *fd = cp_malloc((size_t)(n ? n : 1) * sizeof(int32_t));
		for (int i = 0; i < n; i++) {
			act[i] = -1;
			if (rows[i].tdate > lastday) {
				pending++;
				continue;
			}
			act[i] = find_day(sv, sv->n, rows[i].tdate);
			if (act[i] >= 0 && isnan(sv->y[act[i]]))
				act[i] = -1;  /* a missing actual: not scored */
			if (act[i] < 0)
				unmatched++;
			else
				fd[matched++] = rows[i].fdate;
		}
		cJSON_AddNumberToObject(src, "rows", n);
		cJSON_AddNumberToObject(src, "rows_matched", matched);
		cJSON_AddNumberToObject(src, "rows_pending", pending);
		cJSON_AddNumberToObject(src, "rows_without_actual", unmatched);
		if (matched == 0) {
			char lb[11];
			cp_format_date(lastday, lb);
			snprintf(whybuf, sizeof whybuf, "forecast log %.200s has no forecast with a known actual up to %s",
			         path, lb);
			why_not = whybuf;
		} else {
			/* the most recent `recent_origins` distinct forecast dates */
			qsort(fd, (size_t)matched, sizeof(int32_t), cmp_i32_desc);
			int distinct = 0;
			int32_t cutoff = fd[0];
			for (int i = 0; i < matched && distinct < o->recent_origins; i++)
				if (i == 0 || fd[i] != fd[i - 1]) {
					distinct++;
					cutoff = fd[i];
				}
			double sse = 0, rwsse = 0;
			int cov = 0, rwrows = 0;
			first = cutoff;
			last = fd[0];
			for (int i = 0; i < n; i++) {
				if (act[i] < 0 || rows[i].fdate < cutoff)
					continue;
				double a = sv->y[act[i]], err = rows[i].pred - a;
				sse += err * err;
				cov += rows[i].lo <= a && a <= rows[i].hi;
				nrows++;
				/* the random walk: the last observed value on or before the forecast date */
				int k = last_on_or_before(sv, rows[i].fdate);
				if (k >= 0) {
					double rerr = sv->y[k] - a;
					rwsse += rerr * rerr;
					rwrows++;
				}
			}
			norig = distinct;
			rmse = sqrt(sse / nrows);
			if (rwrows == nrows)
				rw_rmse = sqrt(rwsse / nrows);
			env_add_number(src, "interval_coverage", (double)cov / nrows);
		}
		free(act);
		free(fd);
		free(rows);
	}
judged:
	cJSON_AddItemToObject(sec, "details", src);
	cJSON_AddNumberToObject(sec, "origins_requested", o->recent_origins);
	env_add_number(sec, "baseline_rmse", d.val_rmse);
	if (d.timestamp)
		cJSON_AddStringToObject(sec, "deployed_timestamp", d.timestamp);
	if (why_not) {
		cJSON_AddBoolToObject(sec, "evaluated", 0);
		cJSON_AddBoolToObject(sec, "fired", 0);
		cJSON_AddStringToObject(sec, "reason", why_not);
		add_reason(reasons, "performance not checked: %s", why_not);
		cJSON_Delete(d.json);
		return 0;
	}
	double abs_deg = 100.0 * (rmse / d.val_rmse - 1.0);
	/* Relative to the random walk: a rise of volatility raises every
	 * forecaster's RMSE alike, and re-tuning cannot undo it; what re-tuning
	 * can fix is the deployed config losing ground against the random walk
	 * on the same origins.  The ratio at validation is the record's
	 * validation.random_walk_rmse; a config without it is held to 1 (no
	 * worse than the random walk). */
	double ratio = rmse / rw_rmse;
	double val_ratio = isnan(d.val_rw_rmse) ? 1.0 : d.val_rmse / d.val_rw_rmse;
	double deg = abs_deg;
	if (o->perf_vs_random_walk)
		/* both zero (a forecaster equal to the random walk on a flat stretch): no change */
		deg = rmse == rw_rmse ? 100.0 * (1.0 / val_ratio - 1.0) : 100.0 * (ratio / val_ratio - 1.0);
	po->evaluated = 1;
	po->degradation = deg;
	/* +inf (an error too large for a double, or a tiny validation RMSE) is
	 * as degraded as it gets; only NaN is not a verdict */
	po->fired = !isnan(deg) && deg >= o->degradation_pct;
	cJSON_AddStringToObject(sec, "baseline", o->perf_vs_random_walk ? "random_walk" : "validation");
	cJSON_AddBoolToObject(sec, "evaluated", 1);
	cJSON_AddBoolToObject(sec, "fired", po->fired);
	cJSON_AddNumberToObject(sec, "origins", norig);
	cJSON_AddNumberToObject(sec, "errors_scored", nrows);
	add_date(sec, "first_origin_date", first);
	add_date(sec, "last_origin_date", last);
	env_add_number(sec, "rmse", rmse);
	env_add_number(sec, "random_walk_rmse", rw_rmse);
	env_add_number(sec, "validation_random_walk_rmse", d.val_rw_rmse);
	env_add_number(sec, "rmse_vs_random_walk", o->perf_vs_random_walk ? ratio : NAN);
	env_add_number(sec, "validation_vs_random_walk", o->perf_vs_random_walk ? val_ratio : NAN);
	env_add_number(sec, "absolute_degradation_pct", abs_deg);
	env_add_number(sec, "degradation_pct", deg);
	const char *where = in->forecast_log ? "forecast dates of the forecast log" : "walk-forward origins";
	if (o->perf_vs_random_walk)
		add_reason(reasons, "performance %s: RMSE %.6g on the last %d %s is %.3f times the random walk's (%.6g) "
		           "against %.3f %s: %.1f%% %s relative to the random walk (fires at %g%% worse; %.1f%% %s "
		           "than the validation RMSE %.6g)",
		           po->fired ? "fired" : "quiet", rmse, norig, where, ratio, rw_rmse, val_ratio,
		           isnan(d.val_rw_rmse) ? "assumed at validation (the config does not record it)" :
		                                  "at validation",
		           fabs(deg), deg >= 0 ? "worse" : "better", o->degradation_pct, fabs(abs_deg),
		           abs_deg >= 0 ? "worse" : "better", d.val_rmse);
	else
		add_reason(reasons, "performance %s: RMSE %.6g on the last %d %s is %.1f%% %s than the validation RMSE "
		           "%.6g (fires at %g%% worse)",
		           po->fired ? "fired" : "quiet", rmse, norig, where, fabs(abs_deg),
		           abs_deg >= 0 ? "worse" : "better", d.val_rmse, o->degradation_pct);
	cJSON_Delete(d.json);
	return 0;
}
