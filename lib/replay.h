/* replay.h — what chronopt would have done: the pieces of a replay over
 * history (pipeline.sh replay, opt-replay(1)).
 *
 * pipeline.sh replay drives: for every simulated week from a start date to
 * the end of a series it cuts the series to what was known that day
 * (rp_cut), pins the clock and runs the real pipeline in a scratch
 * workspace.  The library then scores the workspace against the outcomes
 * that arrived later (rp_score) and writes the KPI report (rp_report_*).
 * rp_synth makes the synthetic series with a regime change at a known date
 * that measure the drift detection latency.
 *
 * Ownership: every cJSON returned belongs to the caller; rp_weeks fills an
 * array the caller frees.  Nothing prints, nothing exits.
 */
#ifndef CHRONOPT_REPLAY_H
#define CHRONOPT_REPLAY_H
#include "common.h"
#include "forecast.h"
#include "series.h"
#include <cJSON.h>
#include <stdio.h>

#define RP_SCHEMA "chronopt-replay/1"
#define RP_WORKSPACE_SCHEMA "chronopt-replay-workspace/1"

/* ------------------------------------------------------------------ data */

/* Write the observations of s dated <= until as CSV to out: the long
 * layout "unique_id,ds,y" when s->id is not empty, else "date,value";
 * values with 17 significant digits, so the cut reads back exactly.
 * Fewer than min_obs such observations: CP_DATA "<path>: only N
 * observations on or before DATE (need M)". Write errors: CP_IO. */
int rp_cut(const series *s, int32_t until, int min_obs, FILE *out, cp_err *e);

/* The simulated cron days: every date d with from <= d <= to whose weekday
 * is `weekday` (0 Sunday .. 6 Saturday), oldest first, into *days (caller
 * frees; NULL when none).  Returns the count, or -1 (CP_USAGE when to <
 * from or the span is over 100 years). */
int rp_weeks(int32_t from, int32_t to, int weekday, int32_t **days, cp_err *e);

/* Weekday of a day number, 0 Sunday .. 6 Saturday. */
int rp_weekday(int32_t day);

/* Parse a cron day: "sun".."sat" (any case) or "0".."6" (0 Sunday); 7 is
 * Sunday too, as in crontab(5).  Returns 0..6, or -1. */
int rp_parse_weekday(const char *s);

/* A synthetic business-daily series (Monday to Friday) with a regime change
 * at a known date: a geometric random walk from `level` with daily
 * log-return volatility `vol`; from `change` on the volatility is
 * vol * vol_factor and, on the first business day at or after `change`,
 * the level jumps by level_shift_pct percent.  Draws come from the PRNG
 * stream (seed, i, 0) of observation i only.  Written as "date,value" to
 * out.  Parameters out of range: CP_USAGE; write errors: CP_IO. */
typedef struct {
	uint64_t seed;
	int32_t start;          /* first date (moved to the next business day) */
	int length;             /* observations, 3..100000 */
	double level;           /* > 0 */
	double vol;             /* > 0, < 1 */
	int32_t change;         /* date of the regime change */
	double vol_factor;      /* > 0 */
	double level_shift_pct; /* > -100 */
} rp_synth_opts;
int rp_synth(const rp_synth_opts *o, FILE *out, cp_err *e);

/* ------------------------------------------------------------- incumbent */

/* The replay's first incumbent for one horizon: the config a production
 * forecaster would already run.  With dir NULL: the default config from
 * the settings, the middle value (position n/2 of the list) of each
 * dimension of the horizon's search space; else the config in
 * <dir>/<horizon>.json.  The config is scored on the held-out validation
 * windows of s (validate.validation_origins, validate.stride) with model
 * `model` and seed, and returned as an envelope whose search.candidate is
 * the config and whose validation approves it ("replay incumbent"), ready
 * for opt-deploy deploy.  Caller owns it.  NULL with e filled: CP_DATA
 * (settings, config file, series too short), model errors. */
cJSON *rp_incumbent(const series *s, const cJSON *settings, const char *settings_path,
                    const char *horizon, int steps, const char *model, uint64_t seed,
                    const char *dir, const char *run_id, cp_err *e);

/* ---------------------------------------------------------------- score */

typedef struct {
	const char *workspace;   /* the replay workspace (replay.json, weeks.tsv, ...) */
	int next;                /* weekly origins after a deployment it is judged on; 4 */
	int gates;               /* 1: re-decide every optimization with the other gates */
	int hindsight;           /* 1: score every config of the search space */
} rp_score_opts;

/* Score a replay workspace (layout in opt-replay(1)) and build the KPI
 * report object (schema chronopt-replay/1, fields in
 * chronopt-envelope(7)).  The series, model, settings and seed are the
 * ones recorded in <workspace>/replay.json.  Deterministic: the same
 * workspace gives the same object, timings under "seconds" keys aside.
 * Caller owns it.  NULL with e filled: CP_DATA for a missing or malformed
 * workspace file (naming it), model errors, CP_IO. */
cJSON *rp_score(const rp_score_opts *o, cp_err *e);

/* The report as plain text (ASCII, for people and mail), appended to out.
 * Returns 0, or -1 with CP_IO. */
int rp_report_text(FILE *out, const cJSON *r, cp_err *e);

/* The report as a self-contained HTML page with inline SVG charts.
 * Returns 0, or -1 with CP_IO. */
int rp_report_html(FILE *out, const cJSON *r, cp_err *e);

#endif
