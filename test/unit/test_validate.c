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
	CHECK(decide() == 0 && has_reason("could not be measured"), "coverage not measurable: fails");

	/* bias */
	reset();
	cand.bias = 5.0;
	CHECK(decide() == 0 && verdict("abs_bias") == VD_FAIL, "bias 5 (strict bound): fails");
	reset();
	cand.bias = -5.1;
	CHECK(decide() == 0 && verdict("abs_bias") == VD_FAIL, "bias -5.1: fails");
	reset();
	cand.bias = -4.9;
	CHECK(decide() == 1 && verdict("abs_bias") == VD_PASS, "bias -4.9: passes");

	/* random walk */
	reset();
	rw.rmse = 8.9;
	CHECK(decide() == 0 && verdict("rmse_vs_random_walk_pct") == VD_FAIL && has_reason("random walk"),
	      "losing to the random walk: fails");
	reset();
	rw.rmse = 9.0;
	CHECK(decide() == 1 && verdict("rmse_vs_random_walk_pct") == VD_PASS, "tying the random walk: passes");
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
		/* too few windows for the horizon: the test is missing, fails only when required */
		vd_input in = {&cand, &inc, &rw, loss_c, loss_i, loss_r, NWIN, 30};
		vd_decide(&c, &in, &d);
		CHECK(d.approved == 0 && !d.have_dm_inc && has_reason("could not be run"),
		      "DM impossible and required: fails with a reason");
		vd_decide(&c2, &in, &d);
		CHECK(d.approved == 1 && verdict("dm_p_value_vs_incumbent") == VD_INFO,
		      "DM impossible, not required: approved");
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
		int ascii = 1;
		for (size_t i = 0; i < len; i++)
			ascii &= (txt[i] == '\n') || (txt[i] >= 0x20 && txt[i] < 0x7f);
		CHECK(ascii, "text report is plain ASCII");
		free(txt);
		cJSON_Delete(env);
	}
	return tap_done();
}
