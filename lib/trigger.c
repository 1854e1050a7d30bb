/* trigger.c — see trigger.h and opt-trigger(1). */
#include "trigger.h"

#include "backtest.h"
#include "envelope.h"
#include "forecast.h"
#include "history.h"
#include "settings.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Options                                                             */

void trigger_opts_default(trigger_opts *o)
{
	o->degradation_pct = 15.0;
	o->recent_origins = 14;
	o->drift_baseline = 90;
	o->drift_recent = 30;
	o->drift_min = DRIFT_MEDIUM;
	drift_rule_default(&o->rule);
	o->psi_bins = 5;
	o->psi_eps = 1e-4;
	o->max_days = 14;
	o->cooldown_days = 7;
	o->cooldown_severity = DRIFT_HIGH;
	o->cooldown_factor = 2.0;
}

static int set_int(const cJSON *st, const char *key, long lo, long hi, int *out, cp_err *e)
{
	char path[64];
	snprintf(path, sizeof path, "trigger.%s", key);
	return settings_integer(st, path, lo, hi, out, e);
}

static int set_num(const cJSON *st, const char *key, double lo, double hi, double *out, cp_err *e)
{
	char path[64];
	double v;
	snprintf(path, sizeof path, "trigger.%s", key);
	int rc = settings_number(st, path, &v, e);
	if (rc <= 0)
		return rc;
	if (!(v >= lo && v <= hi))
		return cp_fail(e, CP_DATA, "settings: \"%s\" must be a number in %g..%g", path, lo, hi);
	*out = v;
	return 0;
}

static int set_sev(const cJSON *st, const char *key, drift_severity *out, cp_err *e)
{
	char path[64];
	snprintf(path, sizeof path, "trigger.%s", key);
	const cJSON *n = settings_node(st, path);
	if (!n)
		return 0;
	if (!cJSON_IsString(n) || drift_severity_parse(n->valuestring, out) < 0)
		return cp_fail(e, CP_DATA, "settings: \"%s\" must be one of NONE, LOW, MEDIUM, HIGH", path);
	return 0;
}

int trigger_opts_from_settings(trigger_opts *o, const cJSON *st, cp_err *e)
{
	if (!st)
		return 0;
	const cJSON *sec = settings_node(st, "trigger");
	if (sec && !cJSON_IsObject(sec))
		return cp_fail(e, CP_DATA, "settings: \"trigger\" must be an object");
	if (set_num(st, "rmse_degradation_pct", 0, 1e6, &o->degradation_pct, e) < 0 ||
	    set_int(st, "recent_origins", 1, 100000, &o->recent_origins, e) < 0 ||
	    set_int(st, "drift_baseline_window", 2, 1000000, &o->drift_baseline, e) < 0 ||
	    set_int(st, "drift_recent_window", 2, 1000000, &o->drift_recent, e) < 0 ||
	    set_sev(st, "drift_min_severity", &o->drift_min, e) < 0 ||
	    set_num(st, "drift_p_low", 0, 1, &o->rule.p_low, e) < 0 ||
	    set_num(st, "drift_p_medium", 0, 1, &o->rule.p_medium, e) < 0 ||
	    set_num(st, "drift_p_high", 0, 1, &o->rule.p_high, e) < 0 ||
	    set_num(st, "drift_d_medium", 0, 1, &o->rule.d_medium, e) < 0 ||
	    set_num(st, "drift_d_high", 0, 1, &o->rule.d_high, e) < 0 ||
	    set_int(st, "psi_bins", 2, 1000, &o->psi_bins, e) < 0 ||
	    set_num(st, "psi_epsilon", 1e-12, 0.1, &o->psi_eps, e) < 0 ||
	    set_int(st, "max_days_since_last", 0, 100000, &o->max_days, e) < 0 ||
	    set_int(st, "cooldown_days", 0, 100000, &o->cooldown_days, e) < 0 ||
	    set_sev(st, "cooldown_override_severity", &o->cooldown_severity, e) < 0 ||
	    set_num(st, "cooldown_override_factor", 0, 1e6, &o->cooldown_factor, e) < 0)
		return -1;
	return 0;
}

int trigger_opts_check(const trigger_opts *o, cp_err *e)
{
	if (!(o->degradation_pct >= 0) || !isfinite(o->degradation_pct))
		return cp_fail(e, CP_USAGE, "degradation threshold '%g' must be >= 0", o->degradation_pct);
	if (o->recent_origins < 1)
		return cp_fail(e, CP_USAGE, "recent origins '%d' must be at least 1", o->recent_origins);
	if (o->drift_baseline < 2 || o->drift_recent < 2)
		return cp_fail(e, CP_USAGE, "drift windows must hold at least 2 log-returns (baseline %d, recent %d)",
		               o->drift_baseline, o->drift_recent);
	if (o->psi_bins < 2 || o->psi_bins > 1000)
		return cp_fail(e, CP_USAGE, "PSI bins '%d' must be in 2..1000", o->psi_bins);
	if (!(o->psi_eps > 0 && o->psi_eps <= 0.1))
		return cp_fail(e, CP_USAGE, "PSI epsilon '%g' must be in (0, 0.1]", o->psi_eps);
	if (o->max_days < 0 || o->cooldown_days < 0)
		return cp_fail(e, CP_USAGE, "day counts must not be negative");
	if (!(o->cooldown_factor >= 0) || !isfinite(o->cooldown_factor))
		return cp_fail(e, CP_USAGE, "cooldown factor '%g' must be >= 0", o->cooldown_factor);
	return drift_rule_check(&o->rule, e);
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

int trigger_log_returns(const double *y, int n, double *out, cp_err *e)
{
	for (int i = 0; i < n; i++)
		if (!(y[i] > 0))
			return cp_fail(e, CP_DATA, "value %d (%g) is not positive; log-returns need positive values",
			               i + 1, y[i]);
	for (int i = 1; i < n; i++)
		out[i - 1] = log(y[i] / y[i - 1]);
	return 0;
}

static double mean_of(const double *x, int n)
{
	double s = 0;
	for (int i = 0; i < n; i++)
		s += x[i];
	return n ? s / n : NAN;
}

static double sd_of(const double *x, int n)
{
	double m = mean_of(x, n), s = 0;
	for (int i = 0; i < n; i++)
		s += (x[i] - m) * (x[i] - m);
	return n > 1 ? sqrt(s / (n - 1)) : NAN;
}

static void add_date(cJSON *o, const char *key, int32_t day)
{
	char buf[11];
	cp_format_date(day, buf);
	cJSON_AddStringToObject(o, key, buf);
}

static void add_reason(cJSON *arr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_reason(cJSON *arr, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	cJSON_AddItemToArray(arr, cJSON_CreateString(buf));
}

/* ------------------------------------------------------------------ */
/* History                                                             */

int trigger_last_optimization(const char *path, const char *horizon, int32_t upto,
                              int32_t *day, cp_err *e)
{
	history h;
	if (history_load(&h, path, HISTORY_WAIT_MS, e) < 0)
		return -1;
	int found = 0;
	int32_t best = 0;
	for (long i = 0; i < h.n; i++) {
		/* the rule of history_last(): runs that reached a verdict */
		const char *hz = env_string(h.rec[i], NULL, "horizon");
		const char *oc = env_string(h.rec[i], NULL, "outcome");
		const char *od = env_string(h.rec[i], NULL, "optimization_date");
		char date[11];
		int32_t dd;
		if (!hz || !oc || !od || strcmp(hz, horizon) != 0 ||
		    (strcmp(oc, "deployed") != 0 && strcmp(oc, "not_approved") != 0))
			continue;
		snprintf(date, sizeof date, "%s", od);
		if (cp_parse_date(date, &dd) < 0) /* history_load checked it */
			continue;
		if (dd <= upto && (!found || dd > best)) {
			best = dd;
			found = 1;
		}
	}
	history_free(&h);
	if (found)
		*day = best;
	return found;
}

/* ------------------------------------------------------------------ */
/* Deployed config                                                     */

typedef struct {
	int found;
	char path[4200];
	fc_config cfg;
	double val_rmse;
	int32_t validated_until; /* last origin date it was validated on, or INT32_MIN */
	const char *timestamp;  /* into json, may be NULL */
	const char *model_dir;  /* into json, may be NULL */
	cJSON *json;
} deployed;

static int json_int(const cJSON *o, const char *k, int lo, int hi, int dflt, int required, int *out,
                    const char *path, cp_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!v) {
		if (required)
			return cp_fail(e, CP_DATA, "%s: deployed config has no \"%s\"", path, k);
		*out = dflt;
		return 0;
	}
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo ||
	    v->valuedouble > hi)
		return cp_fail(e, CP_DATA, "%s: \"%s\" must be an integer in %d..%d", path, k, lo, hi);
	*out = (int)v->valuedouble;
	return 0;
}

static int json_num(const cJSON *o, const char *k, double dflt, int required, int positive, double *out,
                    const char *path, cp_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!v) {
		if (required)
			return cp_fail(e, CP_DATA, "%s: deployed config has no \"%s\"", path, k);
		*out = dflt;
		return 0;
	}
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || (positive && !(v->valuedouble > 0)) ||
	    v->valuedouble < 0)
		return cp_fail(e, CP_DATA, "%s: \"%s\" must be a %s number", path, k,
		               positive ? "positive" : "non-negative");
	*out = v->valuedouble;
	return 0;
}

static int load_deployed(const char *dir, const char *horizon, deployed *d, cp_err *e)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->path, sizeof d->path, "%s/%s.json", dir, horizon);
	int missing;
	char *text = cp_read_file(d->path, SIZE_MAX, NULL, &missing, e);
	if (!text)
		return missing ? 0 : -1;
	d->json = cJSON_Parse(text);
	free(text);
	if (!cJSON_IsObject(d->json)) {
		cJSON_Delete(d->json);
		d->json = NULL;
		return cp_fail(e, CP_DATA, "%s: deployed config is not a valid JSON object", d->path);
	}
	const cJSON *j = d->json;
	if (json_int(j, "context_length", 1, 1000000, 0, 1, &d->cfg.context_length, d->path, e) < 0 ||
	    json_int(j, "num_samples", 1, 100000, 0, 1, &d->cfg.num_samples, d->path, e) < 0 ||
	    json_num(j, "temperature", 1.0, 0, 1, &d->cfg.temperature, d->path, e) < 0 ||
	    json_int(j, "top_k", 0, 1000000, 0, 0, &d->cfg.top_k, d->path, e) < 0 ||
	    json_num(j, "top_p", 1.0, 0, 1, &d->cfg.top_p, d->path, e) < 0 ||
	    json_num(j, "validation_rmse", 0, 1, 1, &d->val_rmse, d->path, e) < 0) {
		cJSON_Delete(d->json);
		d->json = NULL;
		return -1;
	}
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(j, "horizon");
	if (cJSON_IsString(h) && strcmp(h->valuestring, horizon) != 0) {
		cp_fail(e, CP_DATA, "%s: deployed config is for horizon '%.40s', not '%s'", d->path,
		        h->valuestring, horizon);
		cJSON_Delete(d->json);
		d->json = NULL;
		return -1;
	}
	/* Configs deployed by opt-deploy record the last origin date of the
	 * held-out windows that approved them; absent in older configs. */
	d->validated_until = INT32_MIN;
	const char *vu = env_string(cJSON_GetObjectItemCaseSensitive(j, "validation"), NULL, "last_origin_date");
	if (vu && cp_parse_date(vu, &d->validated_until) < 0) {
		cp_fail(e, CP_DATA, "%s: \"validation\".\"last_origin_date\" '%.20s' is not a date", d->path, vu);
		cJSON_Delete(d->json);
		d->json = NULL;
		return -1;
	}
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(j, "timestamp");
	d->timestamp = cJSON_IsString(ts) ? ts->valuestring : NULL;
	d->model_dir = env_string(j, "model", "dir");
	d->found = 1;
	return 1;
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

static int cmp_i32_desc(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x < y) - (x > y);
}

/* ------------------------------------------------------------------ */
/* The three checks                                                    */

typedef struct {
	int evaluated, fired;
	double degradation;     /* percent; NaN when not evaluated */
} perf_out;

/* Fill sec (the performance check's object); append to reasons. */
static int check_performance(const trigger_input *in, const series *sv, const trigger_opts *o,
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
	double rmse = NAN;
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
		cJSON_AddStringToObject(src, "model", in->model_spec);
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
			forecaster *f = forecaster_open(in->model_spec, e);
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
			double sse = 0;
			int cov = 0;
			first = cutoff;
			last = fd[0];
			for (int i = 0; i < n; i++) {
				if (act[i] < 0 || rows[i].fdate < cutoff)
					continue;
				double a = sv->y[act[i]], err = rows[i].pred - a;
				sse += err * err;
				cov += rows[i].lo <= a && a <= rows[i].hi;
				nrows++;
			}
			norig = distinct;
			rmse = sqrt(sse / nrows);
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
	double deg = 100.0 * (rmse / d.val_rmse - 1.0);
	po->evaluated = 1;
	po->degradation = deg;
	po->fired = isfinite(deg) && deg >= o->degradation_pct;
	cJSON_AddBoolToObject(sec, "evaluated", 1);
	cJSON_AddBoolToObject(sec, "fired", po->fired);
	cJSON_AddNumberToObject(sec, "origins", norig);
	cJSON_AddNumberToObject(sec, "errors_scored", nrows);
	add_date(sec, "first_origin_date", first);
	add_date(sec, "last_origin_date", last);
	env_add_number(sec, "rmse", rmse);
	env_add_number(sec, "degradation_pct", deg);
	add_reason(reasons, "performance %s: RMSE %.6g on the last %d %s is %.1f%% %s than the validation RMSE %.6g "
	           "(fires at %g%% worse)",
	           po->fired ? "fired" : "quiet", rmse, norig,
	           in->forecast_log ? "forecast dates of the forecast log" : "walk-forward origins",
	           fabs(deg), deg >= 0 ? "worse" : "better", d.val_rmse, o->degradation_pct);
	cJSON_Delete(d.json);
	return 0;
}

typedef struct {
	int evaluated, fired;
	drift_severity sev;
} drift_out;

static int check_drift(const series *sv, const trigger_opts *o, cJSON *sec, cJSON *reasons, drift_out *dout,
                       cp_err *e)
{
	int B = o->drift_baseline, R = o->drift_recent;
	long need = (long)B + R + 1;
	dout->evaluated = dout->fired = 0;
	dout->sev = DRIFT_NONE;
	cJSON_AddStringToObject(sec, "variable", "daily log-returns");
	cJSON_AddNumberToObject(sec, "baseline_window", B);
	cJSON_AddNumberToObject(sec, "recent_window", R);
	cJSON_AddStringToObject(sec, "min_severity", drift_severity_name(o->drift_min));
	cJSON *rule = cJSON_AddObjectToObject(sec, "severity_rule");
	env_add_number(rule, "p_low", o->rule.p_low);
	env_add_number(rule, "p_medium", o->rule.p_medium);
	env_add_number(rule, "p_high", o->rule.p_high);
	env_add_number(rule, "d_medium", o->rule.d_medium);
	env_add_number(rule, "d_high", o->rule.d_high);
	if (need > sv->n) {
		char lb[11];
		cp_format_date(sv->day[sv->n - 1], lb);
		cJSON_AddBoolToObject(sec, "evaluated", 0);
		cJSON_AddBoolToObject(sec, "fired", 0);
		char why[200];
		snprintf(why, sizeof why, "not enough observations up to %s: need %ld (%d + %d log-returns), have %d",
		         lb, need, B, R, sv->n);
		cJSON_AddStringToObject(sec, "reason", why);
		add_reason(reasons, "drift not checked: %s", why);
		return 0;
	}
	int off = sv->n - (int)need;
	double *lr = cp_malloc((size_t)(B + R) * sizeof(double));
	if (trigger_log_returns(sv->y + off, (int)need, lr, e) < 0) {
		free(lr);
		char lb[11];
		/* re-point the message at the date */
		for (int i = off; i < sv->n; i++)
			if (!(sv->y[i] > 0)) {
				cp_format_date(sv->day[i], lb);
				cp_fail(e, CP_DATA, "%s: value on %s (%g) is not positive; log-returns need positive values",
				        sv->path ? sv->path : "<series>", lb, sv->y[i]);
				break;
			}
		return -1;
	}
	const double *base = lr, *rec = lr + B;
	ks_result ks;
	double psi;
	int bins;
	if (ks_2samp(base, B, rec, R, &ks, e) < 0 ||
	    drift_psi(base, B, rec, R, o->psi_bins, o->psi_eps, &psi, &bins, e) < 0) {
		free(lr);
		return -1;
	}
	drift_severity sev = drift_grade(&o->rule, ks.d, ks.p);
	dout->evaluated = 1;
	dout->sev = sev;
	dout->fired = sev >= o->drift_min;
	cJSON_AddBoolToObject(sec, "evaluated", 1);
	cJSON_AddBoolToObject(sec, "fired", dout->fired);
	cJSON_AddStringToObject(sec, "severity", drift_severity_name(sev));
	add_date(sec, "baseline_start", sv->day[off + 1]);
	add_date(sec, "baseline_end", sv->day[off + B]);
	add_date(sec, "recent_start", sv->day[off + B + 1]);
	add_date(sec, "recent_end", sv->day[sv->n - 1]);
	env_add_number(sec, "ks_statistic", ks.d);
	env_add_number(sec, "ks_pvalue", ks.p);
	cJSON_AddStringToObject(sec, "ks_method", ks.exact ? "exact" : "asymptotic");
	env_add_number(sec, "psi", psi);
	cJSON_AddNumberToObject(sec, "psi_bins", bins);
	env_add_number(sec, "psi_epsilon", o->psi_eps);
	env_add_number(sec, "baseline_mean", mean_of(base, B));
	env_add_number(sec, "recent_mean", mean_of(rec, R));
	env_add_number(sec, "baseline_sd", sd_of(base, B));
	env_add_number(sec, "recent_sd", sd_of(rec, R));
	add_reason(reasons, "drift %s: severity %s (KS D %.3f, p %.3g; PSI %.3f) between the last %d daily "
	           "log-returns and the %d before them (fires at %s or above)",
	           dout->fired ? "fired" : "quiet", drift_severity_name(sev), ks.d, ks.p, psi, R, B,
	           drift_severity_name(o->drift_min));
	free(lr);
	return 0;
}

typedef struct {
	int fired, never;
	int days;
} time_out;

static int check_time(const trigger_input *in, int32_t ref, const trigger_opts *o, cJSON *sec, cJSON *reasons,
                      time_out *to, cp_err *e)
{
	int32_t last;
	int rc = trigger_last_optimization(in->history_path, in->horizon, ref, &last, e);
	if (rc < 0)
		return -1;
	cJSON_AddStringToObject(sec, "history", in->history_path);
	add_date(sec, "reference_date", ref);
	cJSON_AddNumberToObject(sec, "max_days", o->max_days);
	cJSON_AddBoolToObject(sec, "evaluated", 1);
	to->never = rc == 0;
	to->days = rc ? ref - last : -1;
	to->fired = to->never || to->days >= o->max_days;
	cJSON_AddBoolToObject(sec, "fired", to->fired);
	if (to->never) {
		cJSON_AddNullToObject(sec, "last_optimization");
		cJSON_AddNullToObject(sec, "days_since_last");
		add_reason(reasons, "time fired: %s has never been optimized (no record in %s)", in->horizon,
		           in->history_path);
	} else {
		add_date(sec, "last_optimization", last);
		cJSON_AddNumberToObject(sec, "days_since_last", to->days);
		char lb[11];
		cp_format_date(last, lb);
		add_reason(reasons, "time %s: last optimized on %s, %d day%s ago (fires at %d days)",
		           to->fired ? "fired" : "quiet", lb, to->days, to->days == 1 ? "" : "s", o->max_days);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Decision                                                            */

static void strbuf_add(char *buf, size_t len, const char *sep, const char *s)
{
	size_t n = strlen(buf);
	if (n >= len - 1)
		return;
	snprintf(buf + n, len - n, "%s%s", n ? sep : "", s);
}

cJSON *trigger_evaluate(const trigger_input *in, const trigger_opts *o, cp_err *e)
{
	double t0 = cp_now();
	const series *s = in->s;
	if (s->n < 1) {
		cp_fail(e, CP_DATA, "%s: series is empty", s->path ? s->path : "<series>");
		return NULL;
	}
	int32_t ref = in->as_of_given ? in->as_of : in->today;
	int n = s->n;
	if (in->as_of_given) {
		n = 0;
		while (n < s->n && s->day[n] <= in->as_of)
			n++;
	}
	if (n == 0) {
		char a[11], f[11];
		cp_format_date(in->as_of, a);
		cp_format_date(s->day[0], f);
		cp_fail(e, CP_DATA, "as-of date %s is before the first observation (%s)", a, f);
		return NULL;
	}
	series sv = *s;
	sv.n = n;

	cJSON *sec = cJSON_CreateObject();
	cJSON *reasons = cJSON_CreateArray();
	cJSON *checks = cJSON_CreateObject();
	cJSON *perf = cJSON_AddObjectToObject(checks, "performance");
	cJSON *drift = cJSON_AddObjectToObject(checks, "drift");
	cJSON *tm = cJSON_AddObjectToObject(checks, "time");
	perf_out po;
	drift_out dout;
	time_out to;
	if (check_performance(in, &sv, o, perf, reasons, &po, e) < 0 ||
	    check_drift(&sv, o, drift, reasons, &dout, e) < 0 ||
	    check_time(in, ref, o, tm, reasons, &to, e) < 0) {
		cJSON_Delete(sec);
		cJSON_Delete(reasons);
		cJSON_Delete(checks);
		return NULL;
	}

	/* cooldown */
	cJSON *cd = cJSON_CreateObject();
	int active = !to.never && to.days < o->cooldown_days;
	int over_sev = dout.evaluated && dout.sev >= o->cooldown_severity;
	double over_deg = o->cooldown_factor * o->degradation_pct;
	int over_perf = po.evaluated && po.degradation >= over_deg;
	int anyfired = po.fired || dout.fired || to.fired;
	int blocked = active && anyfired && !over_sev && !over_perf && !in->force;
	int should = in->force || (anyfired && !blocked);
	cJSON_AddNumberToObject(cd, "days", o->cooldown_days);
	cJSON_AddBoolToObject(cd, "active", active);
	if (to.never)
		cJSON_AddNullToObject(cd, "days_since_last");
	else
		cJSON_AddNumberToObject(cd, "days_since_last", to.days);
	cJSON_AddStringToObject(cd, "override_severity", drift_severity_name(o->cooldown_severity));
	env_add_number(cd, "override_degradation_pct", over_deg);
	cJSON_AddBoolToObject(cd, "overridden", active && anyfired && (over_sev || over_perf));
	cJSON_AddBoolToObject(cd, "blocked", blocked);
	if (active) {
		if (!anyfired)
			add_reason(reasons, "cooldown active (optimized %d day%s ago, cooldown %d days) but nothing fired",
			           to.days, to.days == 1 ? "" : "s", o->cooldown_days);
		else if (in->force)
			add_reason(reasons, "cooldown active (optimized %d day%s ago) but --force overrides it", to.days,
			           to.days == 1 ? "" : "s");
		else if (over_sev || over_perf)
			add_reason(reasons, "cooldown active (optimized %d day%s ago, cooldown %d days) but overridden: %s",
			           to.days, to.days == 1 ? "" : "s", o->cooldown_days,
			           over_sev ? "drift severity reaches the override level" :
			                      "degradation reaches the override level");
		else
			add_reason(reasons, "cooldown blocks re-optimization: optimized %d day%s ago, within the %d-day "
			           "cooldown, and neither drift is %s nor degradation >= %g%%",
			           to.days, to.days == 1 ? "" : "s", o->cooldown_days,
			           drift_severity_name(o->cooldown_severity), over_deg);
	}
	if (in->force)
		add_reason(reasons, "forced: --force always triggers");

	/* fired / not fired, summary */
	cJSON *fired = cJSON_CreateArray(), *quiet = cJSON_CreateArray();
	char what[400] = "", names[100] = "";
	char buf[200];
	if (po.fired) {
		cJSON_AddItemToArray(fired, cJSON_CreateString("performance"));
		snprintf(buf, sizeof buf, "RMSE %.1f%% worse than at validation", po.degradation);
		strbuf_add(what, sizeof what, ", ", buf);
		strbuf_add(names, sizeof names, " and ", "performance");
	} else
		cJSON_AddItemToArray(quiet, cJSON_CreateString("performance"));
	if (dout.fired) {
		cJSON_AddItemToArray(fired, cJSON_CreateString("drift"));
		snprintf(buf, sizeof buf, "%s drift in the daily log-returns", drift_severity_name(dout.sev));
		strbuf_add(what, sizeof what, ", ", buf);
		strbuf_add(names, sizeof names, " and ", "drift");
	} else
		cJSON_AddItemToArray(quiet, cJSON_CreateString("drift"));
	if (to.fired) {
		cJSON_AddItemToArray(fired, cJSON_CreateString("time"));
		if (to.never)
			snprintf(buf, sizeof buf, "never optimized");
		else
			snprintf(buf, sizeof buf, "last optimized %d days ago", to.days);
		strbuf_add(what, sizeof what, ", ", buf);
		strbuf_add(names, sizeof names, " and ", "time");
	} else
		cJSON_AddItemToArray(quiet, cJSON_CreateString("time"));
	if (in->force)
		cJSON_AddItemToArray(fired, cJSON_CreateString("force"));

	char summary[600];
	if (in->force && !anyfired)
		snprintf(summary, sizeof summary, "optimize %s: forced with --force (no trigger fired)", in->horizon);
	else if (in->force)
		snprintf(summary, sizeof summary, "optimize %s: forced with --force (also fired: %s)", in->horizon, what);
	else if (should)
		snprintf(summary, sizeof summary, "optimize %s: %s%s", in->horizon, what,
		         active ? " (cooldown overridden)" : "");
	else if (blocked)
		snprintf(summary, sizeof summary,
		         "do not optimize %s: %s fired but %s was optimized %d day%s ago (cooldown %d days)",
		         in->horizon, names, in->horizon, to.days, to.days == 1 ? "" : "s", o->cooldown_days);
	else
		snprintf(summary, sizeof summary, "do not optimize %s: no trigger fired", in->horizon);

	int partial = !po.evaluated || !dout.evaluated;
	cJSON_AddStringToObject(sec, "status", partial ? "partial" : "done");
	cJSON_AddBoolToObject(sec, "should_optimize", should);
	cJSON_AddItemToObject(sec, "fired", fired);
	cJSON_AddItemToObject(sec, "not_fired", quiet);
	cJSON_AddStringToObject(sec, "summary", summary);
	cJSON_AddItemToObject(sec, "reasons", reasons);
	cJSON_AddBoolToObject(sec, "forced", in->force);
	if (in->as_of_given)
		add_date(sec, "as_of", in->as_of);
	else
		cJSON_AddNullToObject(sec, "as_of");
	add_date(sec, "reference_date", ref);
	add_date(sec, "last_date_used", sv.day[n - 1]);
	cJSON_AddNumberToObject(sec, "observations_used", n);
	/* flat figures for the history record (opt-history reads these names) */
	if (po.evaluated)
		env_add_number(sec, "performance_degradation_pct", po.degradation);
	else
		cJSON_AddNullToObject(sec, "performance_degradation_pct");
	if (dout.evaluated)
		cJSON_AddStringToObject(sec, "drift_severity", drift_severity_name(dout.sev));
	else
		cJSON_AddNullToObject(sec, "drift_severity");
	if (to.never)
		cJSON_AddNullToObject(sec, "days_since_last");
	else
		cJSON_AddNumberToObject(sec, "days_since_last", to.days);
	cJSON_AddItemToObject(sec, "checks", checks);
	cJSON_AddItemToObject(sec, "cooldown", cd);
	env_add_number(sec, "seconds", cp_now() - t0);
	return sec;
}
