/* watch.h — the baking period after a deploy: is the new config healthy?
 * The seed's rules, each settable: roll back after max_failures (3)
 * consecutive failures, when the RMSE over the period is more than
 * rmse_spike_pct (50) % above the baseline (the deployed config's
 * validation RMSE), or when the mean inference time per forecast is more
 * than time_factor (3) times the baseline (the held-out seconds per window
 * recorded at deploy time). */
#ifndef CHRONOPT_WATCH_H
#define CHRONOPT_WATCH_H
#include "common.h"
#include <cJSON.h>

typedef struct {
	int max_failures;
	double rmse_spike_pct;
	double time_factor;
} wt_rules;

typedef struct {
	int n;           /* observations */
	int failures;    /* failed ones */
	int in_row;      /* current run of consecutive failures */
	int max_in_row;  /* longest run */
	double sse;      /* squared errors of the successful ones with an actual */
	int nerr;
	double seconds;  /* inference seconds of those that report it */
	int ntime;
} wt_state;

void wt_init(wt_state *s);
/* One observation: ok (0 = failed), err = forecast - actual (NaN when not
 * known yet), seconds (NaN when not reported). */
void wt_observe(wt_state *s, int ok, double err, double seconds);

/* The verdict: 1 = roll back (reason filled), 0 = healthy so far (reason
 * says why). A baseline that is NaN or <= 0 disables its rule. */
int wt_verdict(const wt_rules *r, const wt_state *s, double baseline_rmse, double baseline_seconds,
               char *reason, size_t len);

/* Feed a forecast log (CSV with a header naming at least "predicted" and
 * "actual"; optional "forecast_date" (ISO date; rows before `since`, when
 * given, are ignored), "seconds" and "status" ("ok" or anything else =
 * failed)). A row whose predicted value is empty or not a number is a
 * failed forecast; an empty actual is not scored yet. Stops early once
 * consecutive failures reach max_failures. Bad file: CP_DATA
 * "<path>:<line>: ...", unreadable: CP_IO. */
int wt_read_log(const char *path, const char *since, const wt_rules *r, wt_state *s, cp_err *e);

/* Record a rollback the watch made in the history file `path` (see
 * history.h): one record of outcome "rolled_back" for horizon (steps <= 0:
 * null), run id run_id, whose deployment section is a copy of `deployment`
 * (borrowed) with "status":"done", "action":"rollback" and "source":"watch"
 * set. Waits up to wait_ms for the history lock. Sets *recno to the
 * record's line number. Returns 0, or -1 with history_append's error. */
int wt_record_rollback(const char *path, const char *run_id, const char *horizon, int steps,
                       const cJSON *deployment, long wait_ms, long *recno, cp_err *e);

#endif
