/* test_trigger_decide.c — the trigger's decision as data (trigger_decide):
 * which checks fire and what the cooldown, the data check and --force make
 * of them, asserted on the struct, not on the JSON section. */
#include "trigger.h"
#include "tap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* n daily observations from 2020-01-01, level 700: log-returns alternate
 * +-a, and the last k are shifted by b (a regime change when b != 0). */
static void synth(series *s, int n, int k, double a, double b)
{
	memset(s, 0, sizeof(*s));
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

/* One history record: horizon 7d optimized on `day`, outcome deployed. */
static void write_history(const char *path, int32_t day)
{
	char date[11];
	cp_format_date(day, date);
	FILE *f = fopen(path, "w");
	fprintf(f, "{\"schema\":\"chronopt-history/1\",\"horizon\":\"7d\",\"optimization_date\":\"%sT00:00:00Z\","
	        "\"outcome\":\"deployed\"}\n", date);
	fclose(f);
}

int main(void)
{
	cp_err e = {0};
	trigger_opts o;
	trigger_opts_default(&o);
	char dir[] = "/tmp/test_trigger_decide_XXXXXX";
	CHECK(mkdtemp(dir) != NULL, "a scratch directory");
	char hist[200], cfgdir[200], cfg[260];
	snprintf(hist, sizeof hist, "%s/history.jsonl", dir);
	snprintf(cfgdir, sizeof cfgdir, "%s/configs", dir);
	snprintf(cfg, sizeof cfg, "%s/7d.json", cfgdir);

	/* Never optimized, a regime change in the last 30 returns: time fires
	 * (never) and drift fires HIGH; with no deployed config performance is
	 * not evaluated, so the decision is partial. */
	series s;
	synth(&s, 200, 30, 0.002, 0.01);
	trigger_input in = {.s = &s, .today = s.day[199] + 1, .horizon = "7d", .steps = 7,
	                    .config_dir = cfgdir, .history_path = hist, .model_spec = "random_walk", .seed = 42};
	trigger_decision d;
	CHECK(trigger_decide(&in, &o, &d, &e) == 0, "a decision without config and history");
	CHECK(d.time.fired && d.time.never && d.time.days == -1, "time fires: never optimized");
	CHECK(d.drift.evaluated && d.drift.fired && d.drift.severity == DRIFT_HIGH, "drift fires at HIGH");
	CHECK(!d.performance.evaluated && !d.performance.fired && isnan(d.performance.degradation),
	      "performance is not evaluated without a deployed config");
	CHECK(d.partial && d.any_fired && d.should_optimize && !d.cooldown.active && !d.cooldown.blocked,
	      "partial, and it should be optimized");
	CHECK(d.used == 200 && d.reference == s.day[199] + 1 && d.last_used == s.day[199],
	      "the observations used and the reference date");
	trigger_decision_release(&d);
	unsynth(&s);

	/* The same regime throughout, optimized yesterday: nothing fires, the
	 * cooldown is active but blocks nothing. */
	synth(&s, 200, 0, 0.002, 0.0);
	write_history(hist, s.day[199]);
	CHECK(trigger_decide(&in, &o, &d, &e) == 0, "a decision with history");
	CHECK(!d.drift.fired && d.drift.severity == DRIFT_NONE, "drift is quiet");
	CHECK(!d.time.fired && !d.time.never && d.time.days == 1, "time is quiet one day after");
	CHECK(!d.any_fired && !d.should_optimize && d.cooldown.active && !d.cooldown.blocked,
	      "nothing fired: the cooldown blocks nothing");
	CHECK(d.cooldown.days == 7, "the cooldown is the default 7 days");
	trigger_decision_release(&d);
	unsynth(&s);

	/* A regime change graded MEDIUM only (a stricter HIGH rule, the
	 * volatility check off) within the cooldown: blocked; --force wins. */
	synth(&s, 200, 30, 0.002, 0.01);
	o.vol_window = 0;
	o.rule.d_high = 1.0;
	o.rule.p_high = 1e-300;
	CHECK(trigger_decide(&in, &o, &d, &e) == 0 && d.drift.fired && d.drift.severity == DRIFT_MEDIUM &&
	      !d.drift.volatility_fired, "drift fires at MEDIUM");
	CHECK(d.cooldown.active && d.cooldown.blocked && !d.cooldown.over_severity && !d.should_optimize,
	      "MEDIUM drift within the cooldown is blocked");
	trigger_decision_release(&d);
	in.force = 1;
	CHECK(trigger_decide(&in, &o, &d, &e) == 0 && d.forced && d.should_optimize && !d.cooldown.blocked,
	      "--force beats the cooldown");
	trigger_decision_release(&d);
	in.force = 0;
	trigger_opts_default(&o);
	CHECK(trigger_decide(&in, &o, &d, &e) == 0 && d.cooldown.over_severity && !d.cooldown.blocked &&
	      d.should_optimize, "HIGH drift overrides the cooldown");
	trigger_decision_release(&d);
	unsynth(&s);

	/* Performance: a deployed config whose validation RMSE is far below
	 * what the random walk now makes fires against the validation RMSE. */
	synth(&s, 200, 0, 0.002, 0.0);
	write_history(hist, s.day[199] - 30);
	mkdir(cfgdir, 0700);
	FILE *f = fopen(cfg, "w");
	fprintf(f, "{\"horizon\":\"7d\",\"context_length\":16,\"num_samples\":20,\"temperature\":1.0,\"top_k\":0,"
	        "\"top_p\":1.0,\"validation_rmse\":1e-6,\"model\":{\"dir\":\"random_walk\"},\"seed\":42}\n");
	fclose(f);
	o.perf_vs_random_walk = 0;
	CHECK(trigger_decide(&in, &o, &d, &e) == 0, "a decision with a deployed config");
	CHECK(d.performance.evaluated && d.performance.fired && d.performance.degradation > 1000,
	      "performance fires: RMSE far worse than at validation");
	CHECK(!d.partial, "every check evaluated: not partial");
	CHECK(!d.drift.fired && d.time.fired && d.time.days == 31, "drift quiet, time fires 31 days after");
	CHECK(d.should_optimize && !d.cooldown.active, "it should be optimized, no cooldown");
	/* the section says what the struct says */
	cJSON *sec = trigger_section(&in, &o, &d);
	const cJSON *fired = cJSON_GetObjectItemCaseSensitive(sec, "fired");
	CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sec, "should_optimize")) &&
	      cJSON_GetArraySize(fired) == 2 &&
	      !strcmp(cJSON_GetArrayItem(fired, 0)->valuestring, "performance") &&
	      !strcmp(cJSON_GetArrayItem(fired, 1)->valuestring, "time"), "the section lists what fired");
	CHECK(d.checks == NULL && d.reasons == NULL, "the section owns the checks and reasons");
	cJSON_Delete(sec);
	trigger_decision_release(&d);

	/* A stale series: the data check blocks what fired. */
	in.today = s.day[199] + 60;
	write_history(hist, s.day[199] - 30);
	CHECK(trigger_decide(&in, &o, &d, &e) == 0 && d.data.stale && d.data_blocks && d.any_fired &&
	      !d.should_optimize, "a stale series is not re-tuned");
	trigger_decision_release(&d);
	unsynth(&s);

	/* Bad input: no decision, nothing to release. */
	synth(&s, 200, 0, 0.002, 0.0);
	in.as_of_given = 1;
	in.as_of = s.day[0] - 1;
	CHECK(trigger_decide(&in, &o, &d, &e) < 0 && e.code == CP_DATA && d.checks == NULL && d.reasons == NULL,
	      "as-of before the data: an error, and nothing held");
	unsynth(&s);
	unlink(cfg);
	rmdir(cfgdir);
	unlink(hist);
	rmdir(dir);
	return tap_done();
}
