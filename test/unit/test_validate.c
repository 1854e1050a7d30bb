/* test_validate.c — every approval criterion passes and fails on crafted
 * metrics (vd_decide is pure, no model runs). */
#include "validate.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

#define NWIN 30

static mt_summary inc, cand, rw;
static double loss_c[NWIN], loss_i[NWIN], loss_r[NWIN];

static void reset(void)
{
	memset(&inc, 0, sizeof(inc));
	inc.rmse = 10;
	inc.mape = 5;
	inc.err_std = 8;
	inc.seconds = 3; /* 0.1 s per window */
	inc.cov95 = 0.95;
	inc.bias = 1;
	inc.mae = 8;
	cand = inc;
	cand.rmse = 9;      /* 10 % better */
	cand.mape = 4.5;    /* 10 % better */
	cand.err_std = 8.4; /* +5 % */
	cand.seconds = 3.6; /* +20 % */
	cand.cov95 = 0.93;
	cand.bias = 1;
	rw = inc;
	rw.rmse = 12;
	for (int i = 0; i < NWIN; i++) {
		/* candidate a little better, with noise */
		loss_i[i] = 100 + 10 * ((i * 7) % 5);
		loss_c[i] = loss_i[i] - 8 + 3 * ((i * 3) % 4);
		loss_r[i] = loss_i[i] + 20;
	}
}

static vd_criteria balanced(void)
{
	vd_criteria c;
	cp_err e;
	vd_preset("balanced", &c, &e);
	return c;
}

static vd_decision d;

static int decide_with(const vd_criteria *c, int with_inc, int with_rw)
{
	vd_input in = {&cand, with_inc ? &inc : NULL, with_rw ? &rw : NULL,
	               loss_c, loss_i, loss_r, NWIN, 7};
	vd_decide(c, &in, &d);
	return d.approved;
}

static int decide(void)
{
	vd_criteria c = balanced();
	return decide_with(&c, 1, 1);
}

static const vd_check *find(const char *name)
{
	for (int i = 0; i < d.ncheck; i++)
		if (strcmp(d.check[i].name, name) == 0)
			return &d.check[i];
	return NULL;
}

static int verdict(const char *name)
{
	const vd_check *k = find(name);
	return k ? k->verdict : -1;
}

static int has_reason(const char *needle)
{
	for (int i = 0; i < d.nreason; i++)
		if (strstr(d.reason[i], needle))
			return 1;
	return 0;
}

int main(void)
{
	reset();
	CHECK(decide() == 1, "base candidate is approved");
	CHECK(strncmp(d.summary, "approved:", 9) == 0, "approved summary");
	CHECK(d.nreason >= 6, "approved decision lists its reasons");
	CHECK(find("rmse_improvement_pct") && fabs(find("rmse_improvement_pct")->value - 10) < 1e-9,
	      "RMSE improvement value is 10 %");

	/* RMSE OR MAPE */
	reset();
	cand.rmse = 9.6; cand.mape = 4.9; /* 4 % and 2 % */
	CHECK(decide() == 0, "rmse 4 % and mape 2 % better: not approved");
	CHECK(verdict("rmse_improvement_pct") == VD_FAIL && verdict("mape_improvement_pct") == VD_FAIL,
	      "both improvement criteria fail");
	CHECK(has_reason("RMSE 9.6 is 4.00 % better") && strstr(d.summary, "accuracy improvement"),
	      "reason and summary name the improvement");
	reset();
	cand.rmse = 9.4; cand.mape = 4.95; /* 6 %, 1 % */
	CHECK(decide() == 1 && verdict("mape_improvement_pct") == VD_FAIL,
	      "rmse 6 % better passes alone (mape rule failing)");
	reset();
	cand.rmse = 9.8; cand.mape = 4.8; /* 2 %, 4 % */
	CHECK(decide() == 1 && verdict("rmse_improvement_pct") == VD_FAIL,
	      "mape 4 % better passes alone (rmse rule failing)");
	reset();
	cand.rmse = 10.5; cand.mape = 5.5;
	CHECK(decide() == 0 && has_reason("worse than the deployed"), "worse candidate: reason says worse");

	/* error std */
	reset();
	cand.err_std = 8.9; /* +11.25 % */
	CHECK(decide() == 0 && verdict("err_std_increase_pct") == VD_FAIL, "error std +11 %: fails");
	CHECK(has_reason("error standard deviation"), "error std reason");
	reset();
	cand.err_std = 8.79;
	CHECK(decide() == 1 && verdict("err_std_increase_pct") == VD_PASS, "error std +9.9 %: passes");

	/* inference time */
	reset();
	cand.seconds = 4.8; /* +60 % */
	CHECK(decide() == 0 && verdict("inference_time_increase_pct") == VD_FAIL, "time +60 %: fails");
	reset();
	cand.seconds = 4.4; /* +46.7 % */
	CHECK(decide() == 1 && verdict("inference_time_increase_pct") == VD_PASS, "time +47 %: passes");
	reset();
	inc.seconds = 0.003; cand.seconds = 0.009; /* 0.1 ms vs 0.3 ms per window */
	CHECK(decide() == 1 && find("inference_time_increase_pct")->value == 0,
	      "times below the floor count as equal");
	vd_criteria nofloor = balanced();
	nofloor.time_floor_seconds = 0;
	CHECK(decide_with(&nofloor, 1, 1) == 0, "without the floor the same times fail");

	/* coverage */
	reset();
	cand.cov95 = 0.89;
	CHECK(decide() == 0 && verdict("coverage95") == VD_FAIL && has_reason("89.0 %"), "coverage 89 %: fails");
	reset();
	cand.cov95 = 0.91;
	CHECK(decide() == 1 && verdict("coverage95") == VD_PASS, "coverage 91 %: passes");
	reset();
	cand.cov95 = NAN;
	cand.cov80 = NAN;
	CHECK(decide() == 0 && has_reason("could not be measured"), "coverage not measurable: fails");
	/* a quantile model without 0.025/0.975 levels: its 80 % interval at 90 - 15 % */
	reset();
	cand.cov95 = NAN;
	cand.cov80 = 0.76;
	CHECK(decide() == 1 && verdict("coverage80") == VD_PASS && !find("coverage95") &&
	      find("coverage80")->threshold == 0.90 - 0.15 && has_reason("so its 80 % interval is checked"),
	      "no 95 % interval: the 80 % one is checked, 76 % passes");
	reset();
	cand.cov95 = NAN;
	cand.cov80 = 0.74;
	CHECK(decide() == 0 && verdict("coverage80") == VD_FAIL && has_reason("held 74.0 %"),
	      "no 95 % interval: 74 % of the 80 % one fails");

	/* bias: beyond the random walk's (bias 1, MAE 8), in % of its MAE */
	reset();
	cand.bias = 5.0; /* 4 more: 50 % */
	CHECK(decide() == 1 && verdict("bias_vs_random_walk_pct") == VD_PASS &&
	      fabs(find("bias_vs_random_walk_pct")->value - 50) < 1e-9, "bias 5 vs 1, MAE 8: 50 %, passes");
	CHECK(find("abs_bias") == NULL, "no absolute bias criterion unless asked");
	reset();
	cand.bias = -5.1;
	CHECK(decide() == 0 && verdict("bias_vs_random_walk_pct") == VD_FAIL &&
	      has_reason("is larger in absolute value than the random walk's 1 by 51.25 % of the random walk's MAE 8 (at most 50 % allowed)"),
	      "bias -5.1: 51.25 % of the MAE beyond the random walk's, fails with its reason");
	reset();
	cand.bias = -4.9;
	CHECK(decide() == 1 && verdict("bias_vs_random_walk_pct") == VD_PASS, "bias -4.9: passes");
	reset();
	rw.bias = -10; /* the windows share a trend: the random walk is biased too */
	cand.bias = 9;
	CHECK(decide() == 1 && find("bias_vs_random_walk_pct")->value < 0 &&
	      has_reason("is no larger in absolute value than the random walk's -10"),
	      "a bias no larger than the random walk's passes");
	reset();
	rw.mae = 0; rw.bias = 0; cand.bias = 0.1;
	CHECK(decide() == 0 && isinf(find("bias_vs_random_walk_pct")->value) && has_reason("whose MAE is 0"),
	      "random walk without error: any extra bias fails");
	reset();
	cand.bias = NAN;
	CHECK(decide() == 0 && verdict("bias_vs_random_walk_pct") == VD_FAIL && has_reason("not measurable"),
	      "bias not measurable: fails");
	{
		vd_criteria c = balanced();
		reset();
		CHECK(decide_with(&c, 1, 0) == 0 && verdict("bias_vs_random_walk_pct") == VD_FAIL,
		      "bias without the random walk: fails");
		c.max_abs_bias = 5; /* the explicit absolute limit, series units, strict */
		reset();
		cand.bias = 5.0;
		CHECK(decide_with(&c, 1, 1) == 0 && verdict("abs_bias") == VD_FAIL &&
		      verdict("bias_vs_random_walk_pct") == VD_PASS, "absolute limit: bias 5 (strict bound) fails");
		reset();
		cand.bias = -4.9;
		CHECK(decide_with(&c, 1, 1) == 1 && verdict("abs_bias") == VD_PASS, "absolute limit: -4.9 passes");
	}

	/* scale: every decision and value is the same for y and k y */
	{
		static const double ks[] = {1e-3, 1e3, 0.37, 2e4};
		reset();
		cand.bias = -4.9;
		vd_criteria c = balanced();
		c.require_significance = 1;
		vd_decision ref;
		decide_with(&c, 1, 1);
		ref = d;
		int same = 1;
		for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
			mt_summary c0 = cand, i0 = inc, r0 = rw;
			double l0[NWIN], l1[NWIN], l2[NWIN];
			memcpy(l0, loss_c, sizeof(l0)), memcpy(l1, loss_i, sizeof(l1)), memcpy(l2, loss_r, sizeof(l2));
			mt_summary *m[] = {&cand, &inc, &rw};
			for (int j = 0; j < 3; j++) {
				m[j]->rmse *= ks[i], m[j]->mae *= ks[i], m[j]->bias *= ks[i], m[j]->err_std *= ks[i];
			}
			for (int w = 0; w < NWIN; w++)
				loss_c[w] *= ks[i] * ks[i], loss_i[w] *= ks[i] * ks[i], loss_r[w] *= ks[i] * ks[i];
			decide_with(&c, 1, 1);
			same &= d.approved == ref.approved && d.ncheck == ref.ncheck;
			for (int j = 0; j < d.ncheck && j < ref.ncheck; j++)
				same &= d.check[j].verdict == ref.check[j].verdict &&
				        fabs(d.check[j].value - ref.check[j].value) <= 1e-9 * (1 + fabs(ref.check[j].value));
			cand = c0, inc = i0, rw = r0;
			memcpy(loss_c, l0, sizeof(l0)), memcpy(loss_i, l1, sizeof(l1)), memcpy(loss_r, l2, sizeof(l2));
		}
		CHECK(same, "scaling the series by 1e-3, 1e3, 0.37, 2e4 changes no verdict and no value");
	}

	/* random walk */
	reset();
	rw.rmse = 8.9;
	CHECK(decide() == 0 && verdict("rmse_vs_random_walk_pct") == VD_FAIL && has_reason("random walk"),
	      "losing to the random walk: fails");
	reset();
	rw.rmse = 9.0;
	CHECK(decide() == 1 && verdict("rmse_vs_random_walk_pct") == VD_PASS, "tying the random walk: passes");
	CHECK(has_reason("RMSE 9 is no better and no worse than the random walk's 9 (must not be worse)"),
	      "a tie reads \"no better and no worse\", not \"-0.00 % better\"");
	reset();
	rw.rmse = 9.0;
	cand.rmse = 9.0001; /* 0.0011 % worse: too small for two decimals, sign kept */
	CHECK(decide() == 0 && has_reason("RMSE 9.0001 is 0.001 % worse than the random walk's 9"),
	      "a tiny loss to the random walk reads \"0.001 % worse\", not \"0.00 % better\" or \"-0.00 %\"");
	reset();
	cand.err_std = inc.err_std;
	CHECK(decide() == 1 && has_reason("error standard deviation 8 is unchanged from the deployed config's 8"),
	      "an equal error std reads \"unchanged\"");
	reset();
	{
		vd_criteria c = balanced();
		c.min_rw_improvement_pct = -0.0;
		decide_with(&c, 1, 1);
		int neg = 0;
		for (int i = 0; i < d.ncheck; i++)
			neg |= signbit(d.check[i].threshold) && d.check[i].threshold == 0;
		for (int i = 0; i < d.nreason; i++)
			neg |= strstr(d.reason[i], "-0.00") != NULL || strstr(d.reason[i], "-0 ") != NULL;
		CHECK(!neg, "a threshold of -0 is reported as 0");
	}
	reset();
	{
		vd_criteria c = balanced();
		CHECK(decide_with(&c, 1, 0) == 0 && has_reason("not scored"), "random walk missing: fails");
	}

	/* first deployment */
	reset();
	{
		vd_criteria c = balanced();
		CHECK(decide_with(&c, 0, 1) == 1 && d.first_deployment, "first deployment: approved");
		CHECK(find("rmse_improvement_pct") == NULL && find("dm_p_value_vs_incumbent") == NULL,
		      "first deployment: no incumbent criteria");
		CHECK(strstr(d.summary, "first deployment") != NULL, "first deployment summary");
		rw.rmse = 8;
		CHECK(decide_with(&c, 0, 1) == 0, "first deployment losing to the random walk: fails");
		reset();
		cand.cov95 = 0.5;
		CHECK(decide_with(&c, 0, 1) == 0, "first deployment with poor coverage: fails");
	}

	/* Diebold-Mariano */
	reset();
	CHECK(decide() == 1 && verdict("dm_p_value_vs_incumbent") == VD_INFO && d.have_dm_inc,
	      "DM vs incumbent reported as info by default");
	CHECK(d.have_dm_rw && verdict("dm_p_value_vs_random_walk") == VD_INFO, "DM vs random walk reported");
	{
		vd_criteria c = balanced();
		c.require_significance = 1;
		CHECK(decide_with(&c, 1, 1) == 1 && verdict("dm_p_value_vs_incumbent") == VD_PASS,
		      "significantly better candidate passes --require-significance");
		CHECK(find("dm_p_value_vs_incumbent")->value < 0.05, "one-sided p below 0.05");
		for (int i = 0; i < NWIN; i++)
			loss_c[i] = loss_i[i] + ((i % 2) ? 15 : -15.5);
		CHECK(decide_with(&c, 1, 1) == 0 && verdict("dm_p_value_vs_incumbent") == VD_FAIL,
		      "indistinguishable losses fail --require-significance");
		CHECK(has_reason("not significant"), "reason says not significant");
		vd_criteria c2 = balanced();
		CHECK(decide_with(&c2, 1, 1) == 1, "same losses without the option: approved");
		reset();
		/* first deployment: significance against the random walk */
		CHECK(decide_with(&c, 0, 1) == 1 && verdict("dm_p_value_vs_random_walk") == VD_PASS,
		      "first deployment: significant against the random walk");
		for (int i = 0; i < NWIN; i++)
			loss_r[i] = loss_c[i] + ((i % 2) ? 15 : -15.5);
		CHECK(decide_with(&c, 0, 1) == 0, "first deployment: not significant against the random walk fails");
		reset();
		/* 30 windows at 30 and 90 steps: the lag rule keeps the test
		 * computable, so a preset requiring significance can approve */
		for (int steps = 30; steps <= 90; steps += 60) {
			vd_input in = {&cand, &inc, &rw, loss_c, loss_i, loss_r, NWIN, steps};
			vd_decide(&c, &in, &d);
			CHECK(d.approved == 1 && d.have_dm_inc && d.dm_inc.lags == NWIN / 2 &&
			      strcmp(d.dm_inc.kernel, "bartlett") == 0 && verdict("dm_p_value_vs_incumbent") == VD_PASS,
			      steps == 30 ? "30 windows, 30 steps: DM runs (15 lags, Bartlett) and can pass"
			                  : "30 windows, 90 steps: DM runs (15 lags, Bartlett) and can pass");
		}
		/* lags asked for that the windows cannot give: missing, fails only when required */
		vd_criteria c3 = c;
		c3.dm_lags = 29;
		vd_input in = {&cand, &inc, &rw, loss_c, loss_i, loss_r, NWIN, 30};
		vd_decide(&c3, &in, &d);
		CHECK(d.approved == 0 && !d.have_dm_inc && has_reason("could not be run: 30 windows are too few for 29 lags"),
		      "DM impossible and required: fails with a reason");
		c3.require_significance = 0;
		vd_decide(&c3, &in, &d);
		CHECK(d.approved == 1 && verdict("dm_p_value_vs_incumbent") == VD_INFO,
		      "DM impossible, not required: approved");
	}

	/* every preset requiring significance can compute it with the default
	 * 30 windows at every default horizon */
	{
		static const char *names[] = {"conservative", "balanced", "aggressive"};
		static const int hz[] = {7, 15, 30, 90};
		int ok = 1;
		for (int i = 0; i < 3; i++) {
			vd_criteria c;
			cp_err e = {0};
			vd_preset(names[i], &c, &e);
			for (int j = 0; j < 4; j++) {
				dm_result r;
				ok &= dm_test(loss_c, loss_i, 30, hz[j], c.dm_lags, &r, &e) == 0;
			}
		}
		CHECK(ok, "every preset's DM test runs on 30 windows at 7, 15, 30 and 90 steps");
	}

	/* presets */
	reset();
	{
		vd_criteria c;
		cp_err e = {0};
		CHECK(vd_preset("conservative", &c, &e) == 0 && decide_with(&c, 1, 1) == 0,
		      "conservative preset rejects the base candidate");
		cand.rmse = 9.6; cand.mape = 4.9;
		CHECK(vd_preset("aggressive", &c, &e) == 0 && decide_with(&c, 1, 1) == 1,
		      "aggressive preset approves a 4 % improvement");
		CHECK(vd_preset("nope", &c, &e) < 0 && e.code == CP_USAGE && strstr(e.msg, "unknown preset 'nope'"),
		      "unknown preset refused");
	}

	/* settings */
	{
		vd_criteria c = balanced();
		cp_err e = {0};
		cJSON *s = cJSON_Parse("{\"validate\":{\"preset\":\"aggressive\",\"max_abs_bias\":7,"
		                       "\"require_significance\":true,\"dm_lags\":8}}");
		CHECK(vd_criteria_from_settings(s, 0, &c, &e) == 0 && c.max_abs_bias == 7 &&
		      c.rmse_improvement_pct == 2 && c.require_significance && c.dm_lags == 8,
		      "settings: preset then keys");
		c = balanced();
		CHECK(vd_criteria_from_settings(s, 1, &c, &e) == 0 && c.rmse_improvement_pct == 5 &&
		      c.max_abs_bias == 7, "settings: preset skipped when the command line names one");
		cJSON_Delete(s);
		s = cJSON_Parse("{\"validate\":{\"alpha\":\"x\"}}");
		CHECK(vd_criteria_from_settings(s, 0, &c, &e) < 0 && e.code == CP_DATA, "settings: bad number");
		cJSON_Delete(s);
		c = balanced();
		s = cJSON_Parse("{\"validate\":{\"max_bias_pct\":30}}");
		CHECK(vd_criteria_from_settings(s, 0, &c, &e) == 0 && c.max_bias_pct == 30 && isnan(c.max_abs_bias),
		      "settings: max_bias_pct; the absolute limit stays off");
		cJSON_Delete(s);
		s = cJSON_Parse("{\"validate\":{\"max_bias_pct\":-1}}");
		CHECK(vd_criteria_from_settings(s, 0, &c, &e) < 0 && e.code == CP_DATA &&
		      strstr(e.msg, "percentage >= 0"), "settings: negative bias percentage refused");
		cJSON_Delete(s);
		c = balanced();
		s = cJSON_Parse("{\"validate\":{\"max_abs_bias\":0}}");
		CHECK(vd_criteria_from_settings(s, 0, &c, &e) < 0 && e.code == CP_DATA &&
		      strstr(e.msg, "series units"), "settings: an absolute bias limit of 0 refused");
		cJSON_Delete(s);
		s = cJSON_Parse("{\"validate\":{\"min_coverage95\":90}}");
		CHECK(vd_criteria_from_settings(s, 0, &c, &e) < 0 && e.code == CP_DATA &&
		      strstr(e.msg, "fraction"), "settings: coverage as percent refused");
		cJSON_Delete(s);
	}

	/* JSON and text views */
	reset();
	decide();
	{
		cJSON *env = cJSON_Parse("{\"schema\":\"chronopt/1\",\"horizon\":{\"name\":\"7d\",\"steps\":7}}");
		cJSON *v = cJSON_CreateObject();
		cJSON_AddStringToObject(v, "status", "done");
		cJSON_AddBoolToObject(v, "approved", d.approved);
		cJSON_AddStringToObject(v, "summary", d.summary);
		cJSON_AddItemToObject(v, "criteria", vd_criteria_json(&d));
		cJSON_AddItemToObject(v, "reasons", vd_reasons_json(&d));
		cJSON_AddItemToObject(env, "validation", v);
		char *txt = NULL;
		size_t len = 0;
		cp_err e = {0};
		CHECK(vd_text_report(env, &txt, &len, &e) == 0 && strstr(txt, "horizon 7d: APPROVED") &&
		      strstr(txt, "rmse_improvement_pct") && strlen(txt) == len, "text report");
		CHECK(strstr(txt, "APPROVED\n  RMSE 10.00 % better and MAPE 10.00 % better than the deployed config") != NULL,
		      "text report: the summary under the verdict does not repeat it");
		int ascii = 1;
		for (size_t i = 0; i < len; i++)
			ascii &= (txt[i] == '\n') || (txt[i] >= 0x20 && txt[i] < 0x7f);
		CHECK(ascii, "text report is plain ASCII");
		free(txt);
		cJSON_Delete(env);
	}
	reset();
	cand.cov95 = 0.5;
	decide();
	{
		cJSON *env = cJSON_Parse("{\"schema\":\"chronopt/1\",\"horizon\":{\"name\":\"7d\",\"steps\":7}}");
		cJSON *v = cJSON_AddObjectToObject(env, "validation");
		cJSON_AddStringToObject(v, "status", "done");
		cJSON_AddBoolToObject(v, "approved", d.approved);
		cJSON_AddStringToObject(v, "summary", d.summary);
		char *txt = NULL;
		size_t len = 0;
		cp_err e = {0};
		CHECK(vd_text_report(env, &txt, &len, &e) == 0 &&
		      strstr(txt, "horizon 7d: NOT APPROVED\n  1 criterion failed (coverage95)\n") &&
		      !strstr(txt, "not approved"), "text report: no \"NOT APPROVED ... not approved:\"");
		free(txt);
		cJSON_Delete(env);
	}
	return tap_done();
}
