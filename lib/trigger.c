/* trigger.c — see trigger.h and opt-trigger(1).  Options, the drift and time
 * checks, the cooldown rule and the assembly of the "trigger" section; the
 * performance check is in trigger_perf.c. */
#include "trigger.h"
#include "trigger_internal.h"

#include "envelope.h"
#include "history.h"
#include "settings.h"

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
	o->perf_vs_random_walk = 1;
	o->recent_origins = 14;
	o->drift_baseline = 90;
	o->drift_recent = 30;
	o->drift_min = DRIFT_MEDIUM;
	drift_rule_default(&o->rule);
	o->vol_window = 5;
	o->vol_factor = 2.5;
	o->psi_bins = 5;
	o->psi_eps = 1e-4;
	o->max_days = 14;
	o->min_new_origins = TRIGGER_MIN_NEW_ORIGINS;
	o->backoff_max = 3;
	o->cooldown_days = 7;
	o->cooldown_severity = DRIFT_HIGH;
	o->cooldown_factor = 2.0;
	series_check_opts_default(&o->data);
	o->gaps_refuse = 1;
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
	    set_int(st, "drift_volatility_window", 0, 1000000, &o->vol_window, e) < 0 ||
	    set_num(st, "drift_volatility_factor", 1, 1e6, &o->vol_factor, e) < 0 ||
	    set_int(st, "psi_bins", 2, 1000, &o->psi_bins, e) < 0 ||
	    set_num(st, "psi_epsilon", 1e-12, 0.1, &o->psi_eps, e) < 0 ||
	    set_int(st, "max_days_since_last", 0, 100000, &o->max_days, e) < 0 ||
	    set_int(st, "time_min_new_origins", 0, 100000, &o->min_new_origins, e) < 0 ||
	    set_int(st, "backoff_max", 0, 10, &o->backoff_max, e) < 0 ||
	    set_int(st, "cooldown_days", 0, 100000, &o->cooldown_days, e) < 0 ||
	    set_sev(st, "cooldown_override_severity", &o->cooldown_severity, e) < 0 ||
	    set_num(st, "cooldown_override_factor", 0, 1e6, &o->cooldown_factor, e) < 0 ||
	    set_int(st, "stale_after_steps", 0, 1000000, &o->data.stale_after_steps, e) < 0 ||
	    set_int(st, "max_gap_steps", 1, 1000000, &o->data.max_gap_steps, e) < 0)
		return -1;
	const cJSON *pb = settings_node(st, "trigger.performance_baseline");
	if (pb && (!cJSON_IsString(pb) || trigger_perf_baseline_parse(pb->valuestring, &o->perf_vs_random_walk) < 0))
		return cp_fail(e, CP_DATA,
		               "settings: \"trigger.performance_baseline\" must be \"random_walk\" or \"validation\"");
	const cJSON *g = settings_node(st, "trigger.gaps");
	if (g && (!cJSON_IsString(g) || trigger_gaps_parse(g->valuestring, &o->gaps_refuse) < 0))
		return cp_fail(e, CP_DATA, "settings: \"trigger.gaps\" must be \"warn\" or \"refuse\"");
	return 0;
}

int trigger_perf_baseline_parse(const char *s, int *vs_random_walk)
{
	if (strcmp(s, "random_walk") == 0)
		*vs_random_walk = 1;
	else if (strcmp(s, "validation") == 0)
		*vs_random_walk = 0;
	else
		return -1;
	return 0;
}

int trigger_gaps_parse(const char *s, int *refuse)
{
	if (strcmp(s, "refuse") == 0)
		*refuse = 1;
	else if (strcmp(s, "warn") == 0)
		*refuse = 0;
	else
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
	if (o->max_days < 0 || o->cooldown_days < 0 || o->min_new_origins < 0)
		return cp_fail(e, CP_USAGE, "day counts must not be negative");
	if (o->backoff_max < 0 || o->backoff_max > 10)
		return cp_fail(e, CP_USAGE, "backoff '%d' must be in 0..10", o->backoff_max);
	if (o->vol_window < 0 || o->vol_window > o->drift_recent)
		return cp_fail(e, CP_USAGE, "volatility window '%d' must be in 0..%d (the recent window)", o->vol_window,
		               o->drift_recent);
	if (!(o->vol_factor >= 1) || !isfinite(o->vol_factor))
		return cp_fail(e, CP_USAGE, "volatility factor '%g' must be >= 1", o->vol_factor);
	if (o->data.max_gap_steps < 1)
		return cp_fail(e, CP_USAGE, "gap limit '%d' must be at least 1 step", o->data.max_gap_steps);
	if (o->data.stale_after_steps < 0)
		return cp_fail(e, CP_USAGE, "stale limit '%d' must not be negative", o->data.stale_after_steps);
	if (!(o->cooldown_factor >= 0) || !isfinite(o->cooldown_factor))
		return cp_fail(e, CP_USAGE, "cooldown factor '%g' must be >= 0", o->cooldown_factor);
	return drift_rule_check(&o->rule, e);
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

int trigger_log_returns(const double *y, int n, double *out, cp_err *e)
{
	for (int i = 0; i < n; i++)
		if (!isnan(y[i]) && !(y[i] > 0))
			return cp_fail(e, CP_DATA, "value %d (%g) is not positive; log-returns need positive values",
			               i + 1, y[i]);
	for (int i = 1; i < n; i++)
		out[i - 1] = log(y[i] / y[i - 1]);  /* NaN when either end is missing */
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

/* ------------------------------------------------------------------ */
/* History                                                             */

int trigger_last_optimization(const char *path, const char *horizon, int32_t upto,
                              trigger_last_opt *out, cp_err *e)
{
	history h;
	if (history_load(&h, path, HISTORY_WAIT_MS, e) < 0)
		return -1;
	int found = 0, streak = 0;
	int32_t best = 0;
	long at = -1;
	for (long i = 0; i < h.n; i++) {
		/* the rule of history_last(): runs that reached a verdict */
		const char *hz = env_string(h.rec[i], NULL, "horizon");
		const char *oc = env_string(h.rec[i], NULL, "outcome");
		const char *od = env_string(h.rec[i], NULL, "optimization_date");
		char date[11];
		int32_t dd;
		if (!hz || !oc || !od || strcmp(hz, horizon) != 0 ||
		    (strcmp(oc, "deployed") != 0 && strcmp(oc, "not_approved") != 0 &&
		     strcmp(oc, "challenger_started") != 0))
			continue;
		snprintf(date, sizeof date, "%s", od);
		if (cp_parse_date(date, &dd) < 0) /* history_load checked it */
			continue;
		if (dd <= upto)
			/* a challenger started deployed something: it resets the backoff */
			streak = strcmp(oc, "not_approved") != 0 ? 0 : streak + 1;
		if (dd <= upto && (!found || dd >= best)) {
			best = dd;
			at = i;
			found = 1;
		}
	}
	out->unproductive = streak;
	if (found) {
		/* the data it saw: the last date the trigger checked (--as-of),
		 * else the series' last date */
		const cJSON *se = cJSON_GetObjectItemCaseSensitive(h.rec[at], "series");
		const char *sl = env_string(se, NULL, "last_date_checked");
		if (!sl)
			sl = env_string(se, NULL, "last_date");
		out->day = best;
		out->has_series = sl && cp_parse_date(sl, &out->series_last) == 0;
	}
	history_free(&h);
	return found;
}

/* ------------------------------------------------------------------ */
/* The drift and time checks (performance: trigger_perf.c)             */

typedef struct {
	int evaluated, fired;
	int vol_fired;  /* the volatility check fired (fired includes it) */
	drift_severity sev;
} drift_out;

static int check_drift(const series *sv, const char *variable, const trigger_opts *o, cJSON *sec, cJSON *reasons,
                       drift_out *dout, cp_err *e)
{
	int B = o->drift_baseline, R = o->drift_recent;
	long need = (long)B + R + 1;
	dout->evaluated = dout->fired = dout->vol_fired = 0;
	dout->sev = DRIFT_NONE;
	cJSON_AddStringToObject(sec, "variable", variable);
	cJSON_AddNumberToObject(sec, "baseline_window", B);
	cJSON_AddNumberToObject(sec, "recent_window", R);
	cJSON_AddStringToObject(sec, "min_severity", drift_severity_name(o->drift_min));
	cJSON *rule = cJSON_AddObjectToObject(sec, "severity_rule");
	env_add_number(rule, "p_low", o->rule.p_low);
	env_add_number(rule, "p_medium", o->rule.p_medium);
	env_add_number(rule, "p_high", o->rule.p_high);
	env_add_number(rule, "d_medium", o->rule.d_medium);
	env_add_number(rule, "d_high", o->rule.d_high);
	/* the last B + R log-returns whose two ends are observed (a missing
	 * value, NaN, makes none), oldest first; idx[k] = the later end */
	double *lr = cp_malloc((size_t)(B + R) * sizeof(double));
	int *idx = cp_malloc((size_t)(B + R) * sizeof(int));
	int k = B + R;
	for (int i = sv->n - 1; i >= 0 && k > 0; i--) {
		if (!isnan(sv->y[i]) && !(sv->y[i] > 0)) {
			char lb[11];
			cp_format_date(sv->day[i], lb);
			free(lr);
			free(idx);
			return cp_fail(e, CP_DATA, "%s: value on %s (%g) is not positive; log-returns need positive values",
			               sv->path ? sv->path : "<series>", lb, sv->y[i]);
		}
		if (i > 0 && !isnan(sv->y[i]) && !isnan(sv->y[i - 1]) && sv->y[i - 1] > 0) {
			k--;
			lr[k] = log(sv->y[i] / sv->y[i - 1]);
			idx[k] = i;
		}
	}
	if (k > 0) {
		char lb[11];
		cp_format_date(sv->day[sv->n - 1], lb);
		cJSON_AddBoolToObject(sec, "evaluated", 0);
		cJSON_AddBoolToObject(sec, "fired", 0);
		char why[200];
		if (need > sv->n)
			snprintf(why, sizeof why, "not enough observations up to %s: need %ld (%d + %d log-returns), have %d",
			         lb, need, B, R, sv->n);
		else
			snprintf(why, sizeof why, "not enough log-returns between observed values up to %s: need %d "
			         "(%d + %d), have %d", lb, B + R, B, R, B + R - k);
		cJSON_AddStringToObject(sec, "reason", why);
		add_reason(reasons, "drift not checked: %s", why);
		free(lr);
		free(idx);
		return 0;
	}
	const double *base = lr, *rec = lr + B;
	ks_result ks;
	double psi;
	int bins;
	if (ks_2samp(base, B, rec, R, &ks, e) < 0 ||
	    drift_psi(base, B, rec, R, o->psi_bins, o->psi_eps, &psi, &bins, e) < 0) {
		free(lr);
		free(idx);
		return -1;
	}
	drift_severity sev = drift_grade(&o->rule, ks.d, ks.p);
	/* The volatility check.  KS on the signed log-returns cannot see a
	 * change of scale: two zero-mean distributions whose spreads differ
	 * threefold are at most D = 0.245 apart (normal), under d_medium, so a
	 * tripled volatility never graded MEDIUM, and a 30-step window needs
	 * weeks to fill.  The mean magnitude of the last vol_window log-returns
	 * against the baseline's is scale-free and reacts within one window. */
	int S = o->vol_window;
	double vol_ratio = NAN;
	int vol_fired = 0;
	if (S > 0) {
		double mb = 0, mr = 0;
		for (int i = 0; i < B; i++)
			mb += fabs(base[i]);
		for (int i = R - S; i < R; i++)
			mr += fabs(rec[i]);
		mb /= B;
		mr /= S;
		vol_ratio = mb > 0 ? mr / mb : (mr > 0 ? INFINITY : NAN);
		vol_fired = !isnan(vol_ratio) && vol_ratio >= o->vol_factor;
	}
	dout->evaluated = 1;
	dout->sev = sev;
	dout->vol_fired = vol_fired;
	dout->fired = sev >= o->drift_min || vol_fired;
	cJSON_AddBoolToObject(sec, "evaluated", 1);
	cJSON_AddBoolToObject(sec, "fired", dout->fired);
	cJSON_AddStringToObject(sec, "severity", drift_severity_name(sev));
	add_date(sec, "baseline_start", sv->day[idx[0]]);
	add_date(sec, "baseline_end", sv->day[idx[B - 1]]);
	add_date(sec, "recent_start", sv->day[idx[B]]);
	add_date(sec, "recent_end", sv->day[idx[B + R - 1]]);
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
	cJSON *vol = cJSON_AddObjectToObject(sec, "volatility");
	cJSON_AddNumberToObject(vol, "window", S);
	env_add_number(vol, "factor", o->vol_factor);
	if (S > 0) {
		add_date(vol, "start", sv->day[idx[B + R - S]]);
		env_add_number(vol, "ratio", vol_ratio);
	} else {
		cJSON_AddNullToObject(vol, "start");
		cJSON_AddNullToObject(vol, "ratio");
	}
	cJSON_AddBoolToObject(vol, "fired", vol_fired);
	char vb[200] = "";
	if (S > 0)
		snprintf(vb, sizeof vb, "; the mean magnitude of the last %d is %.2f times the baseline's (fires at %g "
		         "times)", S, vol_ratio, o->vol_factor);
	add_reason(reasons, "drift %s: severity %s (KS D %.3f, p %.3g; PSI %.3f) between the last %d %s "
	           "and the %d before them (fires at %s or above)%s",
	           dout->fired ? "fired" : "quiet", drift_severity_name(sev), ks.d, ks.p, psi, R, variable,
	           B, drift_severity_name(o->drift_min), vb);
	free(lr);
	free(idx);
	return 0;
}

typedef struct {
	int fired, never;
	int days;
	int no_new;      /* the last optimization saw the data there is now */
	int fresh;       /* new origins: observations after the last optimization's data */
	int backoff;     /* the bars and the cooldown are 2^backoff times the settings' */
} time_out;

/* The time check: fires when the horizon was never optimized, or was last
 * optimized max_days or more ago, an observation dated after the last one
 * that optimization saw has arrived since, and at least min_new_origins of
 * them have (each is one more origin whose outcome is known: re-tuning on
 * the windows the last optimization already judged buys nothing).  sv: the
 * series up to the reference date.  When the history record does not say
 * which data the optimization saw, observations dated after the
 * optimization's date are counted instead. */
static int check_time(const trigger_input *in, const series *sv, int32_t ref, const trigger_opts *o, cJSON *sec,
                      cJSON *reasons, time_out *to, cp_err *e)
{
	trigger_last_opt lo = {0};
	int rc = trigger_last_optimization(in->history_path, in->horizon, ref, &lo, e);
	if (rc < 0)
		return -1;
	int32_t last = lo.day;
	int newobs = -1;  /* observations after the one the last optimization saw; -1 unknown */
	if (rc && lo.has_series) {
		newobs = 0;
		for (int i = sv->n - 1; i >= 0 && sv->day[i] > lo.series_last; i--)
			newobs++;
	}
	cJSON_AddStringToObject(sec, "history", in->history_path);
	add_date(sec, "reference_date", ref);
	/* Backoff: each optimization since the last deployment that deployed
	 * nothing doubles both bars, up to backoff_max times.  A periodic
	 * re-tune that keeps finding nothing better gets rarer; drift and
	 * performance still fire at once, and a deployment resets it. */
	int k = rc ? lo.unproductive : 0;
	if (k > o->backoff_max)
		k = o->backoff_max;
	long maxd = (long)o->max_days << k, minnew = (long)o->min_new_origins << k;
	to->backoff = k;
	cJSON_AddNumberToObject(sec, "max_days", (double)maxd);
	cJSON_AddBoolToObject(sec, "evaluated", 1);
	to->never = rc == 0;
	to->days = rc ? ref - last : -1;
	to->no_new = newobs == 0;
	to->fresh = 0;
	if (newobs >= 0)
		to->fresh = newobs;
	else if (!to->never)
		for (int i = sv->n - 1; i >= 0 && sv->day[i] > last; i--)
			to->fresh++;
	int enough = to->fresh >= minnew;
	to->fired = to->never || (to->days >= maxd && !to->no_new && enough);
	cJSON_AddNumberToObject(sec, "min_new_origins", (double)minnew);
	cJSON *bo = cJSON_AddObjectToObject(sec, "backoff");
	cJSON_AddNumberToObject(bo, "unproductive", rc ? lo.unproductive : 0);
	cJSON_AddNumberToObject(bo, "max", o->backoff_max);
	cJSON_AddNumberToObject(bo, "factor", (double)(1L << k));
	if (to->never)
		cJSON_AddNullToObject(sec, "new_origins");
	else
		cJSON_AddNumberToObject(sec, "new_origins", to->fresh);
	cJSON_AddBoolToObject(sec, "fired", to->fired);
	if (to->never) {
		cJSON_AddNullToObject(sec, "last_optimization");
		cJSON_AddNullToObject(sec, "days_since_last");
		cJSON_AddNullToObject(sec, "last_date_then");
		cJSON_AddNullToObject(sec, "new_observations");
		add_reason(reasons, "time fired: %s has never been optimized (no record in %s)", in->horizon,
		           in->history_path);
		return 0;
	}
	add_date(sec, "last_optimization", last);
	cJSON_AddNumberToObject(sec, "days_since_last", to->days);
	char lb[11], then[11];
	cp_format_date(last, lb);
	char bsuf[160] = "";
	if (k > 0)
		snprintf(bsuf, sizeof bsuf, "; %d times the usual: %d optimization%s since the last deployment "
		         "deployed nothing", 1 << k, lo.unproductive, lo.unproductive == 1 ? "" : "s");
	int short_of = to->days >= (int)maxd && !to->no_new && !enough;
	if (newobs < 0) {
		cJSON_AddNullToObject(sec, "last_date_then");
		cJSON_AddNullToObject(sec, "new_observations");
		add_reason(reasons, "time %s: last optimized on %s, %d day%s ago, %s%d new observation%s since "
		           "(fires at %d days and %d new observations%s)", to->fired ? "fired" : "quiet", lb,
		           to->days, to->days == 1 ? "" : "s", short_of ? "but only " : "", to->fresh,
		           to->fresh == 1 ? "" : "s", (int)maxd, (int)minnew, bsuf);
		return 0;
	}
	cp_format_date(lo.series_last, then);
	cJSON_AddStringToObject(sec, "last_date_then", then);
	cJSON_AddNumberToObject(sec, "new_observations", newobs);
	if (to->no_new)
		add_reason(reasons, "time quiet: last optimized on %s, %d day%s ago, and no observation has arrived "
		           "since (its last date then, %s, is still the last; fires at %d days with new data%s)",
		           lb, to->days, to->days == 1 ? "" : "s", then, (int)maxd, bsuf);
	else
		add_reason(reasons, "time %s: last optimized on %s, %d day%s ago, %s%d new observation%s since its "
		           "last date then, %s (fires at %d days and %d new observations%s)",
		           to->fired ? "fired" : "quiet", lb, to->days, to->days == 1 ? "" : "s",
		           short_of ? "but only " : "", newobs, newobs == 1 ? "" : "s", then, (int)maxd,
		           (int)minnew, bsuf);
	return 0;
}

/* The data check: frequency, gaps, staleness (series_check.h). Fills sec,
 * adds reasons, and returns 1 when the data stop re-tuning: the series is
 * stale, or has a gap and o->gaps_refuse (--force overrides both). */
static int check_data(const trigger_input *in, const series_report *r, const trigger_opts *o, cJSON *sec,
                      cJSON *reasons)
{
	char w[64], w2[64], why[400], l[11], rf[11];
	int block = r->stale || (r->gaps && o->gaps_refuse);
	cJSON_AddBoolToObject(sec, "evaluated", 1);
	cJSON_AddStringToObject(sec, "frequency", series_freq_name(r->f.freq));
	cJSON_AddBoolToObject(sec, "stale", r->stale);
	cJSON_AddNumberToObject(sec, "gaps", r->gaps);
	cJSON_AddStringToObject(sec, "gap_policy", o->gaps_refuse ? "refuse" : "warn");
	cJSON_AddBoolToObject(sec, "blocks", block && !in->force);
	add_reason(reasons, "data: %s series (median spacing %d day%s, %d observations); horizon %s is %d %s ahead",
	           series_freq_name(r->f.freq), r->f.spacing, r->f.spacing == 1 ? "" : "s", r->n, in->horizon,
	           in->steps, series_step_words(&r->f, in->steps, w, sizeof w));
	cp_format_date(r->last, l);
	cp_format_date(r->reference, rf);
	const series *s = in->s;
	if (s->n_missing && s->missing == SERIES_MISSING_NAN)
		add_reason(reasons, "data: %d missing value%s kept as NaN (--missing nan): the forecasters read them as missing "
		           "context, and origins whose targets hold one are not scored",
		           s->n_missing, s->n_missing == 1 ? "" : "s");
	else if (s->n_missing)
		add_reason(reasons, "data: %d row%s with a missing value left out (--missing drop)", s->n_missing,
		           s->n_missing == 1 ? "" : "s");
	if (r->stale)
		add_reason(reasons, "data: %s; it is not re-tuned until new observations arrive%s", series_stale_words(r, why, sizeof why),
		           in->force ? " (but --force overrides it)" : "");
	else if (o->data.stale_after_steps > 0)
		add_reason(reasons, "data: last observation %s, %ld %s before %s (stale after %d)", l, r->steps_since_last,
		           series_step_words(&r->f, r->steps_since_last, w2, sizeof w2), rf, o->data.stale_after_steps);
	else
		add_reason(reasons, "data: last observation %s, %ld %s before %s (stale check off)", l,
		           r->steps_since_last, series_step_words(&r->f, r->steps_since_last, w2, sizeof w2), rf);
	if (r->gaps && o->gaps_refuse)
		add_reason(reasons, "data: %s; it is not re-tuned while a gap is there (--gaps warn tunes anyway)%s",
		           series_gap_words(r, why, sizeof why), in->force ? " (but --force overrides it)" : "");
	else if (r->gaps)
		add_reason(reasons, "data: warning: %s", series_gap_words(r, why, sizeof why));
	return block;
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

int trigger_decide(const trigger_input *in, const trigger_opts *o, trigger_decision *d, cp_err *e)
{
	memset(d, 0, sizeof(*d));
	const series *s = in->s;
	if (s->n < 1)
		return cp_fail(e, CP_DATA, "%s: series is empty", s->path ? s->path : "<series>");
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
		return cp_fail(e, CP_DATA, "as-of date %s is before the first observation (%s)", a, f);
	}
	series sv = *s;
	sv.n = n;
	d->reference = ref;
	d->used = n;
	d->last_used = sv.day[n - 1];

	d->reasons = cJSON_CreateArray();
	d->checks = cJSON_CreateObject();
	series_check(&sv, n, ref, &o->data, &d->data);
	cJSON *data_reasons = cJSON_CreateArray();
	d->data_blocks = check_data(in, &d->data, o, cJSON_AddObjectToObject(d->checks, "data"), data_reasons);
	cJSON *perf = cJSON_AddObjectToObject(d->checks, "performance");
	cJSON *drift = cJSON_AddObjectToObject(d->checks, "drift");
	cJSON *tm = cJSON_AddObjectToObject(d->checks, "time");
	perf_out po;
	drift_out dout;
	time_out to;
	if (trigger_check_performance(in, &sv, o, perf, d->reasons, &po, e) < 0 ||
	    check_drift(&sv, series_returns_words(d->data.f.freq), o, drift, d->reasons, &dout, e) < 0 ||
	    check_time(in, &sv, ref, o, tm, d->reasons, &to, e) < 0) {
		cJSON_Delete(data_reasons);
		trigger_decision_release(d);
		return -1;
	}
	/* the data check's reasons after the three checks' */
	while (cJSON_GetArraySize(data_reasons) > 0)
		cJSON_AddItemToArray(d->reasons, cJSON_DetachItemFromArray(data_reasons, 0));
	cJSON_Delete(data_reasons);
	d->performance.evaluated = po.evaluated;
	d->performance.fired = po.fired;
	d->performance.degradation = po.degradation;
	d->drift.evaluated = dout.evaluated;
	d->drift.fired = dout.fired;
	d->drift.volatility_fired = dout.vol_fired;
	d->drift.severity = dout.sev;
	d->time.fired = to.fired;
	d->time.never = to.never;
	d->time.days = to.days;
	d->time.backoff = to.backoff;

	/* cooldown: it backs off like the time check: repeated optimizations
	 * that deployed nothing lengthen it; a volatility jump, drift at the
	 * override severity or a large degradation still get through */
	d->cooldown.days = (long)o->cooldown_days << to.backoff;
	d->cooldown.active = !to.never && to.days < d->cooldown.days;
	d->cooldown.over_severity = dout.evaluated && (dout.sev >= o->cooldown_severity || dout.vol_fired);
	d->cooldown.over_degradation_pct = o->cooldown_factor * o->degradation_pct;
	d->cooldown.over_performance = po.evaluated && po.degradation >= d->cooldown.over_degradation_pct;
	d->any_fired = po.fired || dout.fired || to.fired;
	d->cooldown.blocked = d->cooldown.active && d->any_fired && !d->cooldown.over_severity &&
	                      !d->cooldown.over_performance && !in->force;
	d->forced = in->force;
	d->should_optimize = in->force || (d->any_fired && !d->cooldown.blocked && !d->data_blocks);
	d->partial = !po.evaluated || !dout.evaluated;
	return 0;
}

void trigger_decision_release(trigger_decision *d)
{
	cJSON_Delete(d->checks);
	cJSON_Delete(d->reasons);
	d->checks = d->reasons = NULL;
}

/* The cooldown's object and reason. */
static cJSON *cooldown_json(const trigger_decision *d, const trigger_opts *o, cJSON *reasons)
{
	cJSON *cd = cJSON_CreateObject();
	int days = d->time.days, cdays = (int)d->cooldown.days, active = d->cooldown.active;
	int over = d->cooldown.over_severity || d->cooldown.over_performance;
	cJSON_AddNumberToObject(cd, "days", (double)d->cooldown.days);
	cJSON_AddNumberToObject(cd, "backoff_factor", (double)(1L << d->time.backoff));
	cJSON_AddBoolToObject(cd, "active", active);
	if (d->time.never)
		cJSON_AddNullToObject(cd, "days_since_last");
	else
		cJSON_AddNumberToObject(cd, "days_since_last", days);
	cJSON_AddStringToObject(cd, "override_severity", drift_severity_name(o->cooldown_severity));
	env_add_number(cd, "override_degradation_pct", d->cooldown.over_degradation_pct);
	cJSON_AddBoolToObject(cd, "overridden", active && d->any_fired && over);
	cJSON_AddBoolToObject(cd, "blocked", d->cooldown.blocked);
	if (active) {
		if (!d->any_fired)
			add_reason(reasons, "cooldown active (optimized %d day%s ago, cooldown %d days) but nothing fired",
			           days, days == 1 ? "" : "s", cdays);
		else if (d->forced)
			add_reason(reasons, "cooldown active (optimized %d day%s ago) but --force overrides it", days,
			           days == 1 ? "" : "s");
		else if (over)
			add_reason(reasons, "cooldown active (optimized %d day%s ago, cooldown %d days) but overridden: %s",
			           days, days == 1 ? "" : "s", cdays,
			           d->cooldown.over_severity ? (d->drift.volatility_fired ? "a volatility jump" :
			                                        "drift severity reaches the override level") :
			                                       "degradation reaches the override level");
		else
			add_reason(reasons, "cooldown blocks re-optimization: optimized %d day%s ago, within the %d-day "
			           "cooldown, and neither drift is %s nor degradation >= %g%%",
			           days, days == 1 ? "" : "s", cdays, drift_severity_name(o->cooldown_severity),
			           d->cooldown.over_degradation_pct);
	}
	if (d->forced)
		add_reason(reasons, "forced: --force always triggers");
	return cd;
}

cJSON *trigger_section(const trigger_input *in, const trigger_opts *o, trigger_decision *d)
{
	if (cJSON_IsObject(in->series_section)) {
		const series *s = in->s;
		series_check_json(in->series_section, &d->data);
		cJSON *ss = in->series_section;
		cJSON_DeleteItemFromObjectCaseSensitive(ss, "missing");
		cJSON_DeleteItemFromObjectCaseSensitive(ss, "missing_values");
		cJSON_AddStringToObject(ss, "missing", series_missing_name(s->missing));
		cJSON_AddNumberToObject(ss, "missing_values", s->n_missing);
	}
	cJSON *sec = cJSON_CreateObject();
	cJSON *reasons = d->reasons, *checks = d->checks;
	d->reasons = d->checks = NULL;
	cJSON *cd = cooldown_json(d, o, reasons);
	const series_report *rep = &d->data;
	int days = d->time.days;

	/* fired / not fired, summary */
	cJSON *fired = cJSON_CreateArray(), *quiet = cJSON_CreateArray();
	char what[400] = "", names[100] = "";
	char buf[200];
	if (d->performance.fired) {
		cJSON_AddItemToArray(fired, cJSON_CreateString("performance"));
		snprintf(buf, sizeof buf, o->perf_vs_random_walk ? "RMSE %.1f%% worse relative to the random walk "
		         "than at validation" : "RMSE %.1f%% worse than at validation", d->performance.degradation);
		strbuf_add(what, sizeof what, ", ", buf);
		strbuf_add(names, sizeof names, " and ", "performance");
	} else
		cJSON_AddItemToArray(quiet, cJSON_CreateString("performance"));
	if (d->drift.fired) {
		cJSON_AddItemToArray(fired, cJSON_CreateString("drift"));
		int ks_fired = d->drift.severity >= o->drift_min;
		const char *sev = drift_severity_name(d->drift.severity), *rw = series_returns_words(rep->f.freq);
		if (ks_fired && d->drift.volatility_fired)
			snprintf(buf, sizeof buf, "%s drift and a volatility jump in the %s", sev, rw);
		else if (ks_fired)
			snprintf(buf, sizeof buf, "%s drift in the %s", sev, rw);
		else
			snprintf(buf, sizeof buf, "a volatility jump in the %s", rw);
		strbuf_add(what, sizeof what, ", ", buf);
		strbuf_add(names, sizeof names, " and ", "drift");
	} else
		cJSON_AddItemToArray(quiet, cJSON_CreateString("drift"));
	if (d->time.fired) {
		cJSON_AddItemToArray(fired, cJSON_CreateString("time"));
		if (d->time.never)
			snprintf(buf, sizeof buf, "never optimized");
		else
			snprintf(buf, sizeof buf, "last optimized %d days ago", days);
		strbuf_add(what, sizeof what, ", ", buf);
		strbuf_add(names, sizeof names, " and ", "time");
	} else
		cJSON_AddItemToArray(quiet, cJSON_CreateString("time"));
	if (d->forced)
		cJSON_AddItemToArray(fired, cJSON_CreateString("force"));

	char summary[600];
	if (d->forced && !d->any_fired)
		snprintf(summary, sizeof summary, "optimize %s: forced with --force (no trigger fired)", in->horizon);
	else if (d->forced)
		snprintf(summary, sizeof summary, "optimize %s: forced with --force (also fired: %s)", in->horizon, what);
	else if (d->should_optimize)
		snprintf(summary, sizeof summary, "optimize %s: %s%s", in->horizon, what,
		         d->cooldown.active ? " (cooldown overridden)" : "");
	else if (d->data_blocks) {
		char why[400];
		if (rep->stale)
			series_stale_words(rep, why, sizeof why);
		else
			series_gap_words(rep, why, sizeof why);
		snprintf(summary, sizeof summary, "do not optimize %s: %s", in->horizon, why);
	}
	else if (d->cooldown.blocked)
		snprintf(summary, sizeof summary,
		         "do not optimize %s: %s fired but %s was optimized %d day%s ago (cooldown %d days)",
		         in->horizon, names, in->horizon, days, days == 1 ? "" : "s", (int)d->cooldown.days);
	else
		snprintf(summary, sizeof summary, "do not optimize %s: no trigger fired", in->horizon);

	cJSON_AddStringToObject(sec, "status", d->partial ? "partial" : "done");
	cJSON_AddBoolToObject(sec, "should_optimize", d->should_optimize);
	cJSON_AddItemToObject(sec, "fired", fired);
	cJSON_AddItemToObject(sec, "not_fired", quiet);
	cJSON_AddStringToObject(sec, "summary", summary);
	cJSON_AddItemToObject(sec, "reasons", reasons);
	cJSON_AddBoolToObject(sec, "forced", d->forced);
	if (in->as_of_given)
		add_date(sec, "as_of", in->as_of);
	else
		cJSON_AddNullToObject(sec, "as_of");
	add_date(sec, "reference_date", d->reference);
	add_date(sec, "last_date_used", d->last_used);
	cJSON_AddNumberToObject(sec, "observations_used", d->used);
	/* flat figures for the history record (opt-history reads these names) */
	if (d->performance.evaluated)
		env_add_number(sec, "performance_degradation_pct", d->performance.degradation);
	else
		cJSON_AddNullToObject(sec, "performance_degradation_pct");
	if (d->drift.evaluated)
		cJSON_AddStringToObject(sec, "drift_severity", drift_severity_name(d->drift.severity));
	else
		cJSON_AddNullToObject(sec, "drift_severity");
	if (d->time.never)
		cJSON_AddNullToObject(sec, "days_since_last");
	else
		cJSON_AddNumberToObject(sec, "days_since_last", days);
	cJSON_AddItemToObject(sec, "checks", checks);
	cJSON_AddItemToObject(sec, "cooldown", cd);
	return sec;
}

cJSON *trigger_evaluate(const trigger_input *in, const trigger_opts *o, cp_err *e)
{
	double t0 = cp_now();
	trigger_decision d;
	if (trigger_decide(in, o, &d, e) < 0)
		return NULL;
	cJSON *sec = trigger_section(in, o, &d);
	env_add_number(sec, "seconds", cp_now() - t0);
	return sec;
}
