/* validate.c — the approval decision and its report (see validate.h). */
#include "validate.h"
#include "envelope.h"
#include "settings.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------
 * Presets and settings
 * ------------------------------------------------------------------- */

/* The bias limits are relative (see bias_vs_random_walk_pct below): a
 * limit in series units would refuse everything on a series near 20,000
 * and nothing on one near 1.1. The absolute limit is off unless asked. */
#define PRESET(rmse, mape, sd, tm, cov, bias, rw, sig, a)                                      \
	{.rmse_improvement_pct = rmse, .mape_improvement_pct = mape, .err_std_increase_pct = sd,  \
	 .time_increase_pct = tm, .time_floor_seconds = 0.01, .min_coverage95 = cov,              \
	 .max_bias_pct = bias, .max_abs_bias = NAN, .min_rw_improvement_pct = rw,                 \
	 .require_significance = sig, .alpha = a, .dm_lags = 0}

static const struct {
	const char *name;
	vd_criteria c;
} presets[] = {
	/*                      rmse  mape  std  time   cov   bias   rw  sig alpha */
	{"conservative", PRESET(10.0, 6.0,  5.0,  25.0, 0.93, 25.0,  5.0, 1, 0.05)},
	{"balanced",     PRESET( 5.0, 3.0, 10.0,  50.0, 0.90, 50.0,  0.0, 0, 0.05)},
	{"aggressive",   PRESET( 2.0, 1.0, 25.0, 100.0, 0.85, 100.0, 0.0, 0, 0.10)},
};

int vd_preset(const char *name, vd_criteria *c, cp_err *e)
{
	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
		if (strcmp(presets[i].name, name) == 0) {
			*c = presets[i].c;
			return 0;
		}
	return cp_fail(e, CP_USAGE, "unknown preset '%.40s' (conservative, balanced, aggressive)", name);
}

static const struct {
	const char *key;
	size_t off;
} number_keys[] = {
	{"rmse_improvement_pct", offsetof(vd_criteria, rmse_improvement_pct)},
	{"mape_improvement_pct", offsetof(vd_criteria, mape_improvement_pct)},
	{"err_std_increase_pct", offsetof(vd_criteria, err_std_increase_pct)},
	{"time_increase_pct", offsetof(vd_criteria, time_increase_pct)},
	{"time_floor_seconds", offsetof(vd_criteria, time_floor_seconds)},
	{"min_coverage95", offsetof(vd_criteria, min_coverage95)},
	{"max_bias_pct", offsetof(vd_criteria, max_bias_pct)},
	{"max_abs_bias", offsetof(vd_criteria, max_abs_bias)},
	{"min_rw_improvement_pct", offsetof(vd_criteria, min_rw_improvement_pct)},
	{"alpha", offsetof(vd_criteria, alpha)},
};

int vd_criteria_from_settings(const cJSON *settings, int skip_preset, vd_criteria *c, cp_err *e)
{
	const cJSON *sec = settings_node(settings, "validate");
	if (!sec)
		return 0;
	if (!cJSON_IsObject(sec))
		return cp_fail(e, CP_DATA, "settings: \"validate\" must be an object");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(sec, "preset");
	if (p && !skip_preset) {
		if (!cJSON_IsString(p))
			return cp_fail(e, CP_DATA, "settings: validate.preset must be a string");
		if (vd_preset(p->valuestring, c, e) < 0) {
			e->code = CP_DATA;
			return cp_prefix(e, "settings: validate.preset");
		}
	}
	for (size_t i = 0; i < sizeof(number_keys) / sizeof(number_keys[0]); i++) {
		char dotted[64];
		double v;
		snprintf(dotted, sizeof(dotted), "validate.%s", number_keys[i].key);
		int got = settings_number(settings, dotted, &v, e);
		if (got < 0)
			return -1;
		if (got)
			*(double *)((char *)c + number_keys[i].off) = v;
	}
	double lags;
	int got = settings_number(settings, "validate.dm_lags", &lags, e);
	if (got < 0)
		return -1;
	if (got) {
		if (lags != floor(lags) || lags < 0 || lags > 10000)
			return cp_fail(e, CP_DATA, "settings: validate.dm_lags must be an integer in 0..10000");
		c->dm_lags = (int)lags;
	}
	const cJSON *rs = cJSON_GetObjectItemCaseSensitive(sec, "require_significance");
	if (rs) {
		if (!cJSON_IsBool(rs))
			return cp_fail(e, CP_DATA, "settings: validate.require_significance must be true or false");
		c->require_significance = cJSON_IsTrue(rs);
	}
	return vd_criteria_check(c, e) < 0 ? (e->code = CP_DATA, cp_prefix(e, "settings")) : 0;
}

int vd_criteria_check(const vd_criteria *c, cp_err *e)
{
	if (!isfinite(c->rmse_improvement_pct) || !isfinite(c->mape_improvement_pct))
		return cp_fail(e, CP_USAGE, "improvement thresholds must be finite numbers");
	if (!(c->err_std_increase_pct >= -100) || !isfinite(c->err_std_increase_pct))
		return cp_fail(e, CP_USAGE, "error std increase must be a number >= -100");
	if (!(c->time_increase_pct >= -100) || !isfinite(c->time_increase_pct))
		return cp_fail(e, CP_USAGE, "inference time increase must be a number >= -100");
	if (!(c->time_floor_seconds >= 0) || !isfinite(c->time_floor_seconds))
		return cp_fail(e, CP_USAGE, "time floor must be a number >= 0");
	if (!(c->min_coverage95 >= 0 && c->min_coverage95 <= 1))
		return cp_fail(e, CP_USAGE, "minimum coverage must be a fraction in 0..1");
	if (!(c->max_bias_pct >= 0) || !isfinite(c->max_bias_pct))
		return cp_fail(e, CP_USAGE, "maximum bias beyond the random walk's must be a percentage >= 0");
	if (!isnan(c->max_abs_bias) && (!(c->max_abs_bias > 0) || !isfinite(c->max_abs_bias)))
		return cp_fail(e, CP_USAGE, "maximum absolute bias must be a number > 0 (series units)");
	if (!isfinite(c->min_rw_improvement_pct))
		return cp_fail(e, CP_USAGE, "random-walk improvement must be a finite number");
	if (!(c->alpha > 0 && c->alpha < 1))
		return cp_fail(e, CP_USAGE, "significance level must be in (0, 1)");
	if (c->dm_lags < 0)
		return cp_fail(e, CP_USAGE, "DM lags must be >= 0");
	return 0;
}

/* ---------------------------------------------------------------------
 * The decision
 * ------------------------------------------------------------------- */

/* 100 (new - old) / old; 0 when both are 0; +inf when only old is 0. */
static double pct_change(double nw, double old)
{
	if (!isfinite(nw) || !isfinite(old))
		return NAN;
	if (old == 0)
		return nw == 0 ? 0.0 : (nw > 0 ? INFINITY : -INFINITY);
	return 100.0 * (nw - old) / fabs(old);
}

static vd_check *add(vd_decision *d, const char *name, double value, const char *op,
                     double threshold, int either)
{
	vd_check *k = &d->check[d->ncheck++];
	k->name = name;
	k->value = value + 0.0; /* no "-0" in reports */
	k->threshold = threshold + 0.0;
	k->op = op;
	k->either = either;
	if (isnan(value))
		k->verdict = VD_FAIL;
	else if (strcmp(op, ">=") == 0)
		k->verdict = value >= threshold ? VD_PASS : VD_FAIL;
	else if (strcmp(op, "<=") == 0)
		k->verdict = value <= threshold ? VD_PASS : VD_FAIL;
	else
		k->verdict = value < threshold ? VD_PASS : VD_FAIL;
	k->words[0] = '\0';
	return k;
}

static void words(vd_check *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void words(vd_check *k, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(k->words, sizeof(k->words), fmt, ap);
	va_end(ap);
}

/* "7.20 % better" / "3.00 % worse" / "0.004 % worse" / "no better and no
 * worse" / "not measurable" for an improvement: never "-0.00 %", and a
 * difference too small for two decimals keeps its sign and one digit. */
static const char *better(double pct, char *buf, size_t len)
{
	if (isnan(pct))
		snprintf(buf, len, "not measurable");
	else if (isinf(pct))
		snprintf(buf, len, "%s", pct > 0 ? "infinitely better" : "infinitely worse");
	else if (pct == 0)
		snprintf(buf, len, "no better and no worse");
	else if (fabs(pct) < 0.005)
		snprintf(buf, len, "%.1g %% %s", fabs(pct), pct > 0 ? "better" : "worse");
	else
		snprintf(buf, len, "%.2f %% %s", fabs(pct), pct > 0 ? "better" : "worse");
	return buf;
}

/* "up 5.00 %" / "down 0.003 %" / "unchanged" / "up from zero". */
static const char *change(double pct, char *buf, size_t len)
{
	if (isnan(pct))
		snprintf(buf, len, "not measurable");
	else if (isinf(pct))
		snprintf(buf, len, "up from zero");
	else if (pct == 0)
		snprintf(buf, len, "unchanged");
	else if (fabs(pct) < 0.005)
		snprintf(buf, len, "%s %.1g %%", pct > 0 ? "up" : "down", fabs(pct));
	else
		snprintf(buf, len, "%s %.2f %%", pct > 0 ? "up" : "down", fabs(pct));
	return buf;
}

static void dm_check(const vd_criteria *c, vd_decision *d, const dm_result *r, int have,
                     const char *note, const char *name, const char *against, int required)
{
	double p = have ? r->p_less : NAN;
	vd_check *k = add(d, name, p, "<", c->alpha, 0);
	if (!required)
		k->verdict = VD_INFO;
	if (have)
		words(k, "Diebold-Mariano test against %s: one-sided p-value %.4g that the candidate's "
		      "errors are smaller (two-sided %.4g)%s", against, r->p_less, r->p_value,
		      required ? (k->verdict == VD_PASS ? ", significant" : ", not significant") : "");
	else
		words(k, "Diebold-Mariano test against %s could not be run: %s", against, note);
	if (required && have)
		snprintf(k->words + strlen(k->words), sizeof(k->words) - strlen(k->words),
		         " at the %.3g level", c->alpha);
}

void vd_decide(const vd_criteria *c, const vd_input *in, vd_decision *d)
{
	char b1[64], b2[64];
	memset(d, 0, sizeof(*d));
	const mt_summary *cand = in->cand, *inc = in->inc, *rw = in->rw;
	d->first_deployment = inc == NULL;

	/* Diebold-Mariano tests (a = candidate, b = other) */
	cp_err e = {0};
	if (inc && in->loss_cand && in->loss_inc) {
		if (dm_test(in->loss_cand, in->loss_inc, in->nwin, in->steps, c->dm_lags, &d->dm_inc, &e) == 0)
			d->have_dm_inc = 1;
		else
			snprintf(d->dm_inc_note, sizeof(d->dm_inc_note), "%.200s", e.msg + (strncmp(e.msg, "dm test: ", 9) ? 0 : 9));
	} else if (inc) {
		snprintf(d->dm_inc_note, sizeof(d->dm_inc_note), "no per-window losses");
	}
	if (rw && in->loss_cand && in->loss_rw) {
		if (dm_test(in->loss_cand, in->loss_rw, in->nwin, in->steps, c->dm_lags, &d->dm_rw, &e) == 0)
			d->have_dm_rw = 1;
		else
			snprintf(d->dm_rw_note, sizeof(d->dm_rw_note), "%.200s", e.msg + (strncmp(e.msg, "dm test: ", 9) ? 0 : 9));
	} else if (rw) {
		snprintf(d->dm_rw_note, sizeof(d->dm_rw_note), "no per-window losses");
	}

	if (inc) {
		double ri = -pct_change(cand->rmse, inc->rmse);
		double mi = -pct_change(cand->mape, inc->mape);
		vd_check *k = add(d, "rmse_improvement_pct", ri, ">=", c->rmse_improvement_pct, 1);
		words(k, "RMSE %.6g is %s than the deployed config's %.6g (at least %g %% needed, or the MAPE rule)",
		      cand->rmse, better(ri, b1, sizeof(b1)), inc->rmse, c->rmse_improvement_pct);
		k = add(d, "mape_improvement_pct", mi, ">=", c->mape_improvement_pct, 1);
		words(k, "MAPE %.4g %% is %s than the deployed config's %.4g %% (at least %g %% needed, or the RMSE rule)",
		      cand->mape, better(mi, b1, sizeof(b1)), inc->mape, c->mape_improvement_pct);
		double si = pct_change(cand->err_std, inc->err_std);
		k = add(d, "err_std_increase_pct", si, "<=", c->err_std_increase_pct, 0);
		words(k, "error standard deviation %.6g is %s from the deployed config's %.6g (at most %g %% more allowed)",
		      cand->err_std, change(si, b1, sizeof(b1)), inc->err_std, c->err_std_increase_pct);
		/* inference time per window, both floored so that timer jitter on
		 * fast models does not decide anything */
		double n = in->nwin > 0 ? in->nwin : 1;
		double tc = cand->seconds / n, ti = inc->seconds / n;
		double fc = tc > c->time_floor_seconds ? tc : c->time_floor_seconds;
		double fi = ti > c->time_floor_seconds ? ti : c->time_floor_seconds;
		double tinc = pct_change(fc, fi);
		k = add(d, "inference_time_increase_pct", tinc, "<=", c->time_increase_pct, 0);
		if (tc <= c->time_floor_seconds && ti <= c->time_floor_seconds)
			words(k, "inference time per window is under the %g s floor for both configs, so it counts "
			      "as unchanged (at most %g %% more allowed)", c->time_floor_seconds, c->time_increase_pct);
		else
			words(k, "inference time %.4g s per window is %s from the deployed config's %.4g s "
			      "(at most %g %% more allowed; times under %g s count as %g s)",
			      tc, change(tinc, b2, sizeof(b2)), ti, c->time_increase_pct,
			      c->time_floor_seconds, c->time_floor_seconds);
	}
	vd_check *k;
	if (isnan(cand->cov95) && !isnan(cand->cov80)) {
		/* a quantile model without the 0.025 and 0.975 levels: its widest
		 * interval is checked at the same shortfall below nominal */
		double min80 = c->min_coverage95 - 0.15 > 0 ? c->min_coverage95 - 0.15 : 0;
		k = add(d, "coverage80", cand->cov80, ">=", min80, 0);
		words(k, "the model has no 95 %% interval (no 0.025 and 0.975 quantile levels), so its 80 %% "
		      "interval is checked: it held %.1f %% of the actual values (at least %g %% needed: the 95 %% "
		      "minimum of %g %% less the 15 points between the nominal levels)",
		      100 * cand->cov80, 100 * min80, 100 * c->min_coverage95);
	} else {
		k = add(d, "coverage95", cand->cov95, ">=", c->min_coverage95, 0);
		if (isnan(cand->cov95))
			words(k, "95 %% interval coverage could not be measured (no sample paths)");
		else
			words(k, "the 95 %% interval held %.1f %% of the actual values (at least %g %% needed)",
			      100 * cand->cov95, 100 * c->min_coverage95);
	}
	/* Bias, scale-free: how much more biased the candidate is than the
	 * random walk on the same windows, in percent of the random walk's
	 * MAE. The random walk's own bias is the part no forecaster that
	 * follows the level avoids when the windows share a trend. */
	if (rw) {
		double excess = fabs(cand->bias) - fabs(rw->bias), rel;
		if (!isfinite(excess) || !isfinite(rw->mae))
			rel = NAN;
		else if (rw->mae > 0)
			rel = 100.0 * excess / rw->mae;
		else
			rel = excess == 0 ? 0.0 : excess > 0 ? INFINITY : -INFINITY;
		k = add(d, "bias_vs_random_walk_pct", rel, "<=", c->max_bias_pct, 0);
		if (isnan(rel))
			words(k, "bias could not be compared with the random walk's (not measurable)");
		else if (isinf(rel) && rel > 0)
			words(k, "bias %.4g (forecast minus actual) is larger in absolute value than the random "
			      "walk's %.4g, whose MAE is 0 (at most %g %% of it allowed)", cand->bias, rw->bias,
			      c->max_bias_pct);
		else if (rel > 0)
			words(k, "bias %.4g (forecast minus actual) is larger in absolute value than the random "
			      "walk's %.4g by %.2f %% of the random walk's MAE %.4g (at most %g %% allowed)",
			      cand->bias, rw->bias, rel, rw->mae, c->max_bias_pct);
		else
			words(k, "bias %.4g (forecast minus actual) is no larger in absolute value than the random "
			      "walk's %.4g (at most %g %% of the random walk's MAE %.4g more allowed)",
			      cand->bias, rw->bias, c->max_bias_pct, rw->mae);
	} else {
		k = add(d, "bias_vs_random_walk_pct", NAN, "<=", c->max_bias_pct, 0);
		words(k, "the random walk was not scored, so the bias cannot be compared with its own");
	}
	if (!isnan(c->max_abs_bias)) {
		k = add(d, "abs_bias", fabs(cand->bias), "<", c->max_abs_bias, 0);
		words(k, "bias %.4g series units (forecast minus actual; must stay under %g in absolute value)",
		      cand->bias, c->max_abs_bias);
	}
	if (rw) {
		double rwi = -pct_change(cand->rmse, rw->rmse);
		k = add(d, "rmse_vs_random_walk_pct", rwi, ">=", c->min_rw_improvement_pct, 0);
		if (c->min_rw_improvement_pct == 0)
			words(k, "RMSE %.6g is %s than the random walk's %.6g (must not be worse)",
			      cand->rmse, better(rwi, b1, sizeof(b1)), rw->rmse);
		else
			words(k, "RMSE %.6g is %s than the random walk's %.6g (at least %g %% better needed)",
			      cand->rmse, better(rwi, b1, sizeof(b1)), rw->rmse, c->min_rw_improvement_pct);
	} else {
		k = add(d, "rmse_vs_random_walk_pct", NAN, ">=", c->min_rw_improvement_pct, 0);
		words(k, "the random walk was not scored, so the candidate cannot show it beats it");
	}
	if (inc)
		dm_check(c, d, &d->dm_inc, d->have_dm_inc, d->dm_inc_note, "dm_p_value_vs_incumbent",
		         "the deployed config", c->require_significance);
	if (rw)
		dm_check(c, d, &d->dm_rw, d->have_dm_rw, d->dm_rw_note, "dm_p_value_vs_random_walk",
		         "the random walk", c->require_significance && !inc);

	/* verdict: every required check passes, and one of the "either" group */
	int either_n = 0, either_ok = 0, failed = 0;
	for (int i = 0; i < d->ncheck; i++) {
		vd_check *q = &d->check[i];
		if (q->verdict == VD_INFO)
			continue;
		if (q->either) {
			either_n++;
			either_ok += q->verdict == VD_PASS;
		} else if (q->verdict == VD_FAIL) {
			failed++;
		}
	}
	int either_failed = either_n > 0 && either_ok == 0;
	d->approved = !failed && !either_failed;

	/* reasons: the failures when rejected, what carried it when approved */
	for (int i = 0; i < d->ncheck; i++) {
		vd_check *q = &d->check[i];
		int show;
		if (d->approved)
			show = q->verdict == VD_PASS && (!q->either || q->verdict == VD_PASS);
		else
			show = (q->verdict == VD_FAIL && !q->either) || (q->either && either_failed);
		if (q->verdict == VD_INFO && d->approved)
			show = 0;
		if (show && d->nreason < VD_MAX_CHECKS + 1)
			snprintf(d->reason[d->nreason++], sizeof(d->reason[0]), "%s", q->words);
	}
	if (d->approved) {
		if (d->first_deployment)
			snprintf(d->summary, sizeof(d->summary),
			         "approved as the first deployment: it meets the absolute criteria and does not lose to the random walk");
		else
			snprintf(d->summary, sizeof(d->summary),
			         "approved: RMSE %s and MAPE %s than the deployed config, every other criterion met",
			         better(d->check[0].value, b1, sizeof(b1)), better(d->check[1].value, b2, sizeof(b2)));
	} else {
		char names[256] = "";
		size_t used = 0;
		int nfail = failed + either_failed;
		if (either_failed)
			used += (size_t)snprintf(names, sizeof(names), "accuracy improvement");
		for (int i = 0; i < d->ncheck && used < sizeof(names); i++) {
			vd_check *q = &d->check[i];
			if (q->verdict == VD_FAIL && !q->either)
				used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
				                         used ? ", " : "", q->name);
		}
		snprintf(d->summary, sizeof(d->summary), "not approved: %d criteri%s failed (%s)",
		         nfail, nfail == 1 ? "on" : "a", names);
	}
}

/* ---------------------------------------------------------------------
 * JSON
 * ------------------------------------------------------------------- */

static const char *verdict_name(int v)
{
	return v == VD_PASS ? "pass" : v == VD_FAIL ? "fail" : "info";
}

cJSON *vd_criteria_json(const vd_decision *d)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; i < d->ncheck; i++) {
		const vd_check *k = &d->check[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", k->name);
		env_add_number(o, "value", k->value);
		env_add_number(o, "threshold", k->threshold);
		cJSON_AddStringToObject(o, "op", k->op);
		cJSON_AddStringToObject(o, "verdict", verdict_name(k->verdict));
		if (k->either)
			cJSON_AddStringToObject(o, "rule", "either rmse_improvement_pct or mape_improvement_pct");
		cJSON_AddStringToObject(o, "words", k->words);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

static cJSON *dm_json(const dm_result *r, int have, const char *note)
{
	cJSON *o = cJSON_CreateObject();
	if (!have) {
		cJSON_AddNullToObject(o, "p_value");
		cJSON_AddStringToObject(o, "note", note);
		return o;
	}
	env_add_number(o, "statistic", r->stat);
	env_add_number(o, "dm_uncorrected", r->dm);
	env_add_number(o, "p_value", r->p_value);
	env_add_number(o, "p_value_better", r->p_less);
	env_add_number(o, "mean_loss_difference", r->mean_diff);
	cJSON_AddNumberToObject(o, "windows", r->n);
	cJSON_AddNumberToObject(o, "lags", r->lags);
	cJSON_AddStringToObject(o, "kernel", r->kernel);
	cJSON_AddStringToObject(o, "lag_rule", r->lag_rule);
	return o;
}

cJSON *vd_dm_json(const vd_decision *d)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "loss", "sum of squared errors per window");
	if (!d->first_deployment)
		cJSON_AddItemToObject(o, "vs_incumbent", dm_json(&d->dm_inc, d->have_dm_inc, d->dm_inc_note));
	if (d->have_dm_rw || d->dm_rw_note[0])
		cJSON_AddItemToObject(o, "vs_random_walk", dm_json(&d->dm_rw, d->have_dm_rw, d->dm_rw_note));
	return o;
}

cJSON *vd_reasons_json(const vd_decision *d)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; i < d->nreason; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(d->reason[i]));
	return a;
}

cJSON *vd_thresholds_json(const vd_criteria *c, const char *preset)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "preset", preset ? preset : "custom");
	for (size_t i = 0; i < sizeof(number_keys) / sizeof(number_keys[0]); i++)
		env_add_number(o, number_keys[i].key, *(const double *)((const char *)c + number_keys[i].off));
	cJSON_AddBoolToObject(o, "require_significance", c->require_significance);
	cJSON_AddNumberToObject(o, "dm_lags", c->dm_lags);
	return o;
}

/* ---------------------------------------------------------------------
 * Text report
 * ------------------------------------------------------------------- */

typedef struct {
	char *buf;
	size_t len, cap;
} sbuf;

static void sb_printf(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *s, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		size_t room = s->cap - s->len;
		int n = vsnprintf(s->buf ? s->buf + s->len : NULL, s->buf ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (s->buf && (size_t)n < room) {
			s->len += (size_t)n;
			return;
		}
		s->cap = (s->cap + (size_t)n + 1) * 2;
		s->buf = cp_realloc(s->buf, s->cap);
	}
}

/* Copy a string for the text report keeping printable ASCII only, so that
 * data cannot smuggle control characters into a terminal or a mail. */
static void sb_text(sbuf *s, const char *t)
{
	for (; t && *t; t++) {
		unsigned char ch = (unsigned char)*t;
		sb_printf(s, "%c", ch >= 0x20 && ch < 0x7f ? ch : '?');
	}
}

static void fmt_num(char *buf, size_t len, const cJSON *v)
{
	if (cJSON_IsNumber(v) && isfinite(v->valuedouble))
		snprintf(buf, len, "%.4g", v->valuedouble);
	else
		snprintf(buf, len, "n/a");
}

int vd_text_report(const cJSON *env, char **out, size_t *len, cp_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(env, "validation");
	const char *horizon = env_string(cJSON_GetObjectItemCaseSensitive(env, "horizon"), NULL, "name");
	if (!cJSON_IsObject(v))
		return cp_fail(e, CP_DATA, "envelope has no \"validation\" section");
	sbuf s = {*out, *len, *out ? *len + 1 : 0};
	const char *status = env_string(env, "validation", "status");
	sb_printf(&s, "chronopt validation, horizon ");
	sb_text(&s, horizon ? horizon : "?");
	const cJSON *ap = cJSON_GetObjectItemCaseSensitive(v, "approved");
	if (status && strcmp(status, "done") != 0) {
		sb_printf(&s, ": ");
		sb_text(&s, status);
		sb_printf(&s, "\n  ");
		sb_text(&s, env_string(env, "validation", "reason"));
		sb_printf(&s, "\n\n");
		goto done;
	}
	sb_printf(&s, ": %s\n", cJSON_IsTrue(ap) ? "APPROVED" : "NOT APPROVED");
	sb_printf(&s, "  ");
	/* the verdict is in the line above: "not approved: 1 criterion
	 * failed" is shown as "1 criterion failed" */
	const char *sum = env_string(env, "validation", "summary");
	if (sum && !strncmp(sum, "not approved: ", 14) && !cJSON_IsTrue(ap))
		sum += 14;
	else if (sum && !strncmp(sum, "approved: ", 10) && cJSON_IsTrue(ap))
		sum += 10;
	sb_text(&s, sum);
	sb_printf(&s, "\n");
	const char *run = env_string(env, NULL, "run_id");
	if (run) {
		sb_printf(&s, "  run ");
		sb_text(&s, run);
		sb_printf(&s, "\n");
	}
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(v, "windows");
	const cJSON *wc = cJSON_GetObjectItemCaseSensitive(w, "count");
	if (cJSON_IsNumber(wc)) {
		sb_printf(&s, "  %d validation windows from ", (int)wc->valuedouble);
		sb_text(&s, env_string(v, "windows", "first_date"));
		sb_printf(&s, " to ");
		sb_text(&s, env_string(v, "windows", "last_date"));
		sb_printf(&s, "\n");
	}
	sb_printf(&s, "\n  %-28s %12s %4s %10s  %s\n", "criterion", "value", "", "threshold", "verdict");
	const cJSON *k;
	cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(v, "criteria")) {
		char val[32], thr[32];
		fmt_num(val, sizeof(val), cJSON_GetObjectItemCaseSensitive(k, "value"));
		fmt_num(thr, sizeof(thr), cJSON_GetObjectItemCaseSensitive(k, "threshold"));
		const char *name = env_string(k, NULL, "name"), *op = env_string(k, NULL, "op");
		const char *verdict = env_string(k, NULL, "verdict");
		sb_printf(&s, "  ");
		sb_text(&s, name);
		for (size_t i = name ? strlen(name) : 0; i < 28; i++)
			sb_printf(&s, " ");
		sb_printf(&s, " %12s %4s %10s  ", val, op ? op : "", thr);
		sb_text(&s, verdict);
		sb_printf(&s, "%s\n", cJSON_GetObjectItemCaseSensitive(k, "rule") ? " (either)" : "");
	}
	sb_printf(&s, "\n  reasons:\n");
	cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(v, "reasons")) {
		sb_printf(&s, "  - ");
		sb_text(&s, cJSON_IsString(k) ? k->valuestring : "?");
		sb_printf(&s, "\n");
	}
	sb_printf(&s, "\n");
done:
	*out = s.buf;
	*len = s.len;
	return 0;
}
