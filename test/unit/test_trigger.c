/* test_trigger.c — the trigger checks on synthetic series: drift that must
 * fire, data too short, the cooldown veto and its overrides, settings. */
#include "trigger.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* n daily observations from 2020-01-01; log-returns alternate +-a for the
 * first n-1-k returns, then k returns of b + (+-a). */
static void synth(series *s, int n, int k, double a, double b)
{
	memset(s, 0, sizeof(*s));  /* no missing values, no id: what the loader gives */
	s->path = "synthetic";
	s->id = "";
	s->n = n;
	s->day = malloc((size_t)n * sizeof(int32_t));
	s->y = malloc((size_t)n * sizeof(double));
	int32_t d0;
	cp_parse_date("2020-01-01", &d0);
	double ly = log(700.0);
	for (int i = 0; i < n; i++) {
		s->day[i] = d0 + i;
		if (i > 0)
			ly += (i % 2 ? a : -a) + (i >= n - k ? b : 0.0);
		s->y[i] = exp(ly);
	}
}

static void unsynth(series *s)
{
	free(s->day);
	free(s->y);
}

static const cJSON *at(const cJSON *j, const char *a, const char *b)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, a);
	return b ? cJSON_GetObjectItemCaseSensitive(x, b) : x;
}

static int has(const cJSON *arr, const char *name)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, arr)
		if (cJSON_IsString(c) && strcmp(c->valuestring, name) == 0)
			return 1;
	return 0;
}

int main(void)
{
	cp_err e = {0};
	trigger_opts o;
	trigger_opts_default(&o);
	CHECK(o.degradation_pct == 15 && o.recent_origins == 14 && o.drift_baseline == 90 &&
	      o.drift_recent == 30 && o.drift_min == DRIFT_MEDIUM && o.max_days == 14 &&
	      o.cooldown_days == 7 && o.cooldown_severity == DRIFT_HIGH && o.cooldown_factor == 2,
	      "defaults are the documented ones");
	CHECK(trigger_opts_check(&o, &e) == 0, "defaults pass the checks");

	double y[4] = {100, 110, 99, 99}, r[3];
	CHECK(trigger_log_returns(y, 4, r, &e) == 0, "log-returns of positive values");
	CHECK_NEAR(r[0], log(1.1), 1e-15, "first log-return");
	CHECK(r[2] == 0.0, "a flat step is a zero return");
	y[2] = -1;
	CHECK(trigger_log_returns(y, 4, r, &e) < 0 && e.code == CP_DATA && strstr(e.msg, "value 3"),
	      "a negative value is refused, naming its position");

	cJSON *st = cJSON_Parse("{\"trigger\":{\"rmse_degradation_pct\":20,\"drift_recent_window\":20,"
	                        "\"drift_min_severity\":\"high\",\"cooldown_days\":3}}");
	trigger_opts o2;
	trigger_opts_default(&o2);
	CHECK(trigger_opts_from_settings(&o2, st, &e) == 0 && o2.degradation_pct == 20 && o2.drift_recent == 20 &&
	      o2.drift_min == DRIFT_HIGH && o2.cooldown_days == 3 && o2.drift_baseline == 90,
	      "settings override only the keys present");
	cJSON_Delete(st);
	st = cJSON_Parse("{\"trigger\":{\"drift_recent_window\":2.5}}");
	CHECK(trigger_opts_from_settings(&o2, st, &e) < 0 && e.code == CP_DATA &&
	      strstr(e.msg, "trigger.drift_recent_window"), "a fractional window is refused");
	cJSON_Delete(st);
	st = cJSON_Parse("{\"trigger\":{\"cooldown_override_severity\":\"SEVERE\"}}");
	CHECK(trigger_opts_from_settings(&o2, st, &e) < 0 && e.code == CP_DATA, "an unknown severity is refused");
	cJSON_Delete(st);

	/* A regime change: the last 30 returns are shifted by +1 %. */
	series s;
	synth(&s, 200, 30, 0.002, 0.01);
	trigger_input in = {.s = &s, .today = s.day[199] + 1, .horizon = "7d", .steps = 7,
	                    .config_dir = "/nonexistent-dir", .history_path = "/nonexistent-dir/h.jsonl",
	                    .model_spec = "random_walk", .seed = 42};
	cJSON *t = trigger_evaluate(&in, &o, &e);
	CHECK(t != NULL, "evaluation succeeds without config and history");
	if (t) {
		CHECK(cJSON_IsTrue(at(t, "should_optimize", NULL)), "a shifted regime triggers");
		CHECK(has(at(t, "fired", NULL), "drift") && has(at(t, "fired", NULL), "time"),
		      "drift and time (never optimized) fire");
		const cJSON *d = at(at(t, "checks", NULL), "drift", NULL);
		CHECK(strcmp(at(d, "severity", NULL)->valuestring, "HIGH") == 0, "separated windows grade HIGH");
		CHECK(at(d, "ks_statistic", NULL)->valuedouble == 1.0, "D is 1 for separated windows");
		CHECK(strcmp(at(t, "status", NULL)->valuestring, "partial") == 0,
		      "no deployed config makes the status partial");
		cJSON_Delete(t);
	}
	unsynth(&s);

	/* No change: alternating returns all the way. */
	synth(&s, 200, 0, 0.002, 0.0);
	in.s = &s;
	t = trigger_evaluate(&in, &o, &e);
	CHECK(t && strcmp(at(at(at(t, "checks", NULL), "drift", NULL), "severity", NULL)->valuestring, "NONE") == 0,
	      "identical regimes grade NONE");
	cJSON_Delete(t);

	/* History: optimized 2 days before the reference date -> cooldown. */
	char hist[] = "/tmp/test_trigger_XXXXXX";
	int fd = mkstemp(hist);
	char rec[300], date[11];
	cp_format_date(s.day[199] - 1, date);
	int len = snprintf(rec, sizeof rec,
	                   "{\"schema\":\"chronopt-history/1\",\"horizon\":\"7d\",\"optimization_date\":\"%sT00:00:00Z\","
	                   "\"outcome\":\"deployed\"}\n", date);
	CHECK(fd >= 0 && write(fd, rec, (size_t)len) == len, "history fixture written");
	close(fd);
	unsynth(&s);
	synth(&s, 200, 30, 0.002, 0.01);
	in.s = &s;
	in.history_path = hist;
	o.cooldown_severity = DRIFT_HIGH;
	t = trigger_evaluate(&in, &o, &e);
	CHECK(t && cJSON_IsTrue(at(t, "should_optimize", NULL)) && cJSON_IsTrue(at(t, "cooldown", "overridden")),
	      "HIGH drift overrides the cooldown");
	cJSON_Delete(t);
	/* the same drift graded only MEDIUM by a stricter HIGH rule: blocked
	 * (the volatility check off: a volatility jump would override it) */
	o.vol_window = 0;
	o.rule.d_high = 1.0;
	o.rule.p_high = 1e-300;
	t = trigger_evaluate(&in, &o, &e);
	CHECK(t && cJSON_IsFalse(at(t, "should_optimize", NULL)) && cJSON_IsTrue(at(t, "cooldown", "blocked")),
	      "MEDIUM drift within the cooldown is blocked");
	cJSON_Delete(t);
	in.force = 1;
	t = trigger_evaluate(&in, &o, &e);
	CHECK(t && cJSON_IsTrue(at(t, "should_optimize", NULL)) && has(at(t, "fired", NULL), "force"),
	      "--force beats the cooldown");
	cJSON_Delete(t);
	in.force = 0;
	o.cooldown_days = 0;
	t = trigger_evaluate(&in, &o, &e);
	CHECK(t && cJSON_IsTrue(at(t, "should_optimize", NULL)) && cJSON_IsFalse(at(t, "cooldown", "active")),
	      "cooldown 0 days is off");
	cJSON_Delete(t);
	unlink(hist);

	/* Too little data for the drift windows. */
	trigger_opts_default(&o);
	in.history_path = "/nonexistent-dir/h.jsonl";
	in.as_of_given = 1;
	in.as_of = s.day[49];
	t = trigger_evaluate(&in, &o, &e);
	CHECK(t && cJSON_IsFalse(at(at(t, "checks", NULL), "drift", "evaluated")) &&
	      strstr(at(at(t, "checks", NULL), "drift", "reason")->valuestring, "need 121 (90 + 30 log-returns), have 50"),
	      "too few observations: drift not evaluated, with the counts");
	CHECK(t && at(t, "observations_used", NULL)->valueint == 50, "as-of cuts the series");
	cJSON_Delete(t);
	in.as_of = s.day[0] - 1;
	CHECK(trigger_evaluate(&in, &o, &e) == NULL && e.code == CP_DATA && strstr(e.msg, "before the first observation"),
	      "as-of before the data is a data error");
	unsynth(&s);
	return tap_done();
}
