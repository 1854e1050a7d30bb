/* watch.c — see watch.h. */
#include "watch.h"
#include "depconfig.h"
#include "envelope.h"
#include "history.h"

#include <csv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wt_init(wt_state *s)
{
	memset(s, 0, sizeof(*s));
}

void wt_observe(wt_state *s, int ok, double err, double seconds)
{
	s->n++;
	if (!ok) {
		s->failures++;
		s->in_row++;
		if (s->in_row > s->max_in_row)
			s->max_in_row = s->in_row;
		return;
	}
	s->in_row = 0;
	if (isfinite(err)) {
		s->sse += err * err;
		s->nerr++;
	}
	if (isfinite(seconds)) {
		s->seconds += seconds;
		s->ntime++;
	}
}

int wt_verdict(const wt_rules *r, const wt_state *s, double baseline_rmse, double baseline_seconds,
               char *reason, size_t len)
{
	if (s->max_in_row >= r->max_failures) {
		snprintf(reason, len, "%d consecutive failed forecasts (rollback at %d)", s->max_in_row,
		         r->max_failures);
		return 1;
	}
	/* +inf (errors too large to square) is a spike, not "unknown" */
	double rmse = s->nerr ? sqrt(s->sse / s->nerr) : NAN;
	if (!isnan(rmse) && baseline_rmse > 0 && rmse > baseline_rmse * (1 + r->rmse_spike_pct / 100)) {
		snprintf(reason, len, "RMSE %.6g over %d forecasts is %.1f %% above the baseline %.6g "
		         "(rollback above %g %%)", rmse, s->nerr, 100 * (rmse / baseline_rmse - 1),
		         baseline_rmse, r->rmse_spike_pct);
		return 1;
	}
	double sec = s->ntime ? s->seconds / s->ntime : NAN;
	if (!isnan(sec) && baseline_seconds > 0 && sec > r->time_factor * baseline_seconds) {
		snprintf(reason, len, "inference time %.4g s is %.2f times the baseline %.4g s (rollback above %gx)",
		         sec, sec / baseline_seconds, baseline_seconds, r->time_factor);
		return 1;
	}
	int n = snprintf(reason, len, "healthy: %d observations, %d failed (longest run %d)", s->n,
	                 s->failures, s->max_in_row);
	if (n > 0 && (size_t)n < len && isfinite(rmse))
		n += snprintf(reason + n, len - (size_t)n, ", RMSE %.6g%s%.6g", rmse,
		              baseline_rmse > 0 ? " vs baseline " : "", baseline_rmse > 0 ? baseline_rmse : 0.0);
	if (n > 0 && (size_t)n < len && isfinite(sec))
		snprintf(reason + n, len - (size_t)n, ", %.4g s per forecast", sec);
	return 0;
}

/* ---------------------------------------------------------------------
 * Forecast log
 * ------------------------------------------------------------------- */

enum { C_PRED, C_ACT, C_DATE, C_SEC, C_STATUS, C_N };
static const char *const colname[C_N] = {"predicted", "actual", "forecast_date", "seconds", "status"};

typedef struct {
	const char *path;
	const char *since;
	const wt_rules *rules;
	wt_state *s;
	cp_err *e;
	long line;
	int header;          /* header done */
	int col[C_N];        /* field index of each column, -1 absent */
	int field;           /* current field index */
	char *val[C_N];      /* current row values (owned) */
	int failed;          /* error recorded */
	int stop;            /* max failures reached */
} logp;

static void field_cb(void *data, size_t len, void *arg)
{
	logp *p = arg;
	if (p->failed || p->stop)
		return;
	const char *f = data ? data : "";
	if (!p->header) {
		for (int c = 0; c < C_N; c++)
			if (strlen(f) == len && strcmp(f, colname[c]) == 0) {
				if (p->col[c] >= 0) {
					cp_fail(p->e, CP_DATA, "%s:1: column '%s' appears twice", p->path, colname[c]);
					p->failed = 1;
				}
				p->col[c] = p->field;
			}
	} else {
		for (int c = 0; c < C_N; c++)
			if (p->col[c] == p->field) {
				free(p->val[c]);
				p->val[c] = cp_malloc(len + 1);
				memcpy(p->val[c], f, len);
				p->val[c][len] = '\0';
			}
	}
	p->field++;
}

static void row_cb(int c, void *arg)
{
	(void)c;
	logp *p = arg;
	p->line++;
	if (p->failed || p->stop)
		goto reset;
	if (!p->header) {
		p->header = 1;
		if (p->col[C_PRED] < 0 || p->col[C_ACT] < 0) {
			cp_fail(p->e, CP_DATA, "%s:1: header needs columns 'predicted' and 'actual'", p->path);
			p->failed = 1;
		}
		goto reset;
	}
	if (p->since && p->val[C_DATE]) {
		int32_t d, since;
		if (cp_parse_date(p->val[C_DATE], &d) < 0) {
			cp_fail(p->e, CP_DATA, "%s:%ld: forecast_date '%.20s' is not a valid date", p->path,
			        p->line, p->val[C_DATE]);
			p->failed = 1;
			goto reset;
		}
		if (cp_parse_date(p->since, &since) == 0 && d < since)
			goto reset;
	}
	double pred, act = NAN, sec = NAN;
	int ok = p->val[C_PRED] && cp_parse_double(p->val[C_PRED], &pred) == 0;
	if (p->val[C_STATUS] && strcmp(p->val[C_STATUS], "ok") != 0)
		ok = 0;
	if (p->val[C_ACT] && p->val[C_ACT][0] && cp_parse_double(p->val[C_ACT], &act) < 0) {
		cp_fail(p->e, CP_DATA, "%s:%ld: actual '%.30s' is not a number", p->path, p->line, p->val[C_ACT]);
		p->failed = 1;
		goto reset;
	}
	if (p->val[C_SEC] && p->val[C_SEC][0] && (cp_parse_double(p->val[C_SEC], &sec) < 0 || sec < 0)) {
		cp_fail(p->e, CP_DATA, "%s:%ld: seconds '%.30s' is not a number >= 0", p->path, p->line,
		        p->val[C_SEC]);
		p->failed = 1;
		goto reset;
	}
	wt_observe(p->s, ok, ok ? pred - act : NAN, ok ? sec : NAN);
	if (p->s->in_row >= p->rules->max_failures)
		p->stop = 1;
reset:
	p->field = 0;
	for (int k = 0; k < C_N; k++) {
		free(p->val[k]);
		p->val[k] = NULL;
	}
}

int wt_read_log(const char *path, const char *since, const wt_rules *r, wt_state *s, cp_err *e)
{
	size_t len;
	int missing;
	char *text = dc_read_file(path, &len, &missing, e);
	if (!text) {
		if (missing)
			cp_fail(e, CP_IO, "cannot open '%s': No such file or directory", path);
		return -1;
	}
	logp p = {.path = path, .since = since, .rules = r, .s = s, .e = e};
	for (int c = 0; c < C_N; c++)
		p.col[c] = -1;
	struct csv_parser cp;
	if (csv_init(&cp, CSV_STRICT | CSV_APPEND_NULL | CSV_STRICT_FINI) != 0) {
		free(text);
		return cp_fail(e, CP_INTERNAL, "cannot initialise the CSV parser");
	}
	size_t done = csv_parse(&cp, text, len, field_cb, row_cb, &p);
	int bad = done != len;
	if (!bad && csv_fini(&cp, field_cb, row_cb, &p) != 0)
		bad = 1;
	if (bad && !p.failed) {
		cp_fail(e, CP_DATA, "%s:%ld: %s", path, p.line + 1, csv_strerror(csv_error(&cp)));
		p.failed = 1;
	}
	csv_free(&cp);
	for (int k = 0; k < C_N; k++)
		free(p.val[k]);
	free(text);
	if (!p.failed && !p.header)
		return cp_fail(e, CP_DATA, "%s: empty forecast log", path);
	return p.failed ? -1 : 0;
}

/* ---------------------------------------------------------------------
 * History record of a rollback
 * ------------------------------------------------------------------- */

int wt_record_rollback(const char *path, const char *run_id, const char *horizon, int steps,
                       const cJSON *deployment, long wait_ms, long *recno, cp_err *e)
{
	/* The envelope `pipeline.sh rollback` records, made here: history.c
	 * reads its outcome from deployment.action. */
	cJSON *env = cJSON_CreateObject();
	cJSON_AddStringToObject(env, "schema", ENV_SCHEMA);
	cJSON_AddStringToObject(env, "run_id", run_id);
	cJSON *hz = cJSON_AddObjectToObject(env, "horizon");
	cJSON_AddStringToObject(hz, "name", horizon);
	if (steps > 0)
		cJSON_AddNumberToObject(hz, "steps", steps);
	else
		cJSON_AddNullToObject(hz, "steps");
	cJSON *dep = cJSON_Duplicate(deployment, 1);
	if (!cJSON_IsObject(dep)) {
		cJSON_Delete(dep);
		dep = cJSON_CreateObject();
	}
	static const char *const set[][2] = {{"status", "done"}, {"action", "rollback"}, {"source", "watch"}};
	for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
		cJSON_DeleteItemFromObjectCaseSensitive(dep, set[i][0]);
		cJSON_AddStringToObject(dep, set[i][0], set[i][1]);
	}
	cJSON_AddItemToObject(env, "deployment", dep);
	char now[21];
	env_utc_now(now);
	cJSON *rec = history_record_new(env, now);
	cJSON_Delete(env);
	int rc = history_append(path, rec, wait_ms, recno, e);
	cJSON_Delete(rec);
	return rc;
}
