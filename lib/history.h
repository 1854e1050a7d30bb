/* history.h — the optimization history: one JSON object per line in a
 * JSON Lines file (default $CHRONOPT_HISTORY, else history.jsonl), appended
 * under "<file>.lock" with durable_append, read by opt-history(1) and by
 * the time trigger.
 *
 * A record (schema "chronopt-history/1"; keys in this order, null when the
 * envelope does not have the value):
 *   schema, run_id, horizon, steps, optimization_date ("YYYY-MM-DDTHH:MM:SSZ",
 *   when it was recorded), outcome, success, reason, triggered_by (array of
 *   the names in trigger.fired), performance_degradation_pct, drift_severity,
 *   days_since_last (trigger fields of those names, at the top of the trigger
 *   section or one object below it), validation_rmse, validation_mape,
 *   validation_mae (the candidate's held-out scores from validation, whatever
 *   the verdict), held_out (windows, first_date, last_date, and rmse, mape,
 *   mae, bias, cov95 of candidate, incumbent, random_walk; null when not
 *   scored), config (search.candidate, else search.best; its search-window
 *   validation_* renamed search_*), pareto (search.pareto plus "points", each
 *   scored trial's trial, windows, rmse, cost; null without objectives),
 *   validation, deployment (copies of those
 *   sections), durations
 *   {"trigger","search","validation","deployment","total"} (stage "seconds"),
 *   seed, series, model. Copies leave out arrays of numbers (per-window
 *   losses, sample paths), which belong in run directories, not here.
 *
 * outcome, first rule that matches:
 *   rolled_back    deployment.action is "rollback" (pipeline.sh rollback)
 *   failed         a stage could not work on this horizon: a section has
 *                  status "error" (series too short for it, a bad search
 *                  space, ...); reason "<stage> failed: <its reason>"
 *   not_triggered  trigger.should_optimize is false
 *   search_failed  no search section, or its status is not "done"/"partial",
 *                  or it has neither "candidate" nor "best"
 *   not_approved   validation.approved is false
 *   dry_run        deployment.dry_run is true
 *   deployed       deployment.status is "done" and deployment.deployed true
 *   error          anything else (validation or deployment missing, failed,
 *                  or not deployed)
 * success is true exactly when outcome is "deployed".
 */
#ifndef CHRONOPT_HISTORY_H
#define CHRONOPT_HISTORY_H
#include "common.h"
#include "stage.h"
#include <cJSON.h>
#include <stdio.h>

#define HISTORY_SCHEMA "chronopt-history/1"
#define HISTORY_WAIT_MS 10000L  /* default wait for the lock */
#define HISTORY_MAX_BYTES (256u << 20) /* a larger history file is refused (CP_DATA) */

/* The outcome of an envelope (a static string, see above); when reason is
 * non-NULL it receives a plain-words reason ("" when deployed). */
const char *history_outcome(const cJSON *env, char *reason, size_t len);

/* A new history record for envelope env, dated `now` (as from
 * env_utc_now). Caller owns the result (cJSON_Delete). */
cJSON *history_record_new(const cJSON *env, const char *now);

typedef struct {
	char *path;     /* as given, owned */
	cJSON **rec;    /* n records in file order, owned; record i is line i+1 */
	long n;
} history;

/* Read and check the whole file. A missing file is an empty history. A
 * last line without "\n" is CP_DATA "<path>:<line>: torn last record (no
 * newline); run 'opt-history repair'" (checked again under the lock, waiting
 * up to wait_ms, so an append in flight is not mistaken for a torn record);
 * an empty, non-JSON or non-record line is CP_DATA "<path>:<line>: ...";
 * read errors CP_IO. On success fills *h (history_free) and returns 0; on
 * failure *h is empty and -1 returned. */
int history_load(history *h, const char *path, long wait_ms, cp_err *e);
void history_free(history *h);

/* Append rec as one line under the lock (waiting up to wait_ms), durably.
 * Refuses (CP_DATA, as history_load) to append after a torn last line.
 * Sets *recno to the record's line number. Returns 0 or -1. */
int history_append(const char *path, const cJSON *rec, long wait_ms, long *recno, cp_err *e);

/* `opt-history record` as a stage (stage.h): ctx is a history_recorder.
 * Appends env's record to path (history_append, waiting up to wait_ms) and
 * sets env's "history" to {"status":"done","file":path,"record":N,
 * "seconds":s}. Every line is recorded, also those an earlier stage stopped
 * (that is what outcome says); a failed horizon is recorded (outcome
 * failed) and the runner counts it (the stage exits CP_PARTIAL). Returns
 * STAGE_DONE, or STAGE_STOP with e set: lines before are recorded and
 * written, nothing of this one is. */
typedef struct {
	const char *path;
	long wait_ms;
} history_recorder;
int history_record_line(cJSON *env, stage_line *ln, void *ctx, cp_err *e);

typedef struct {
	const char *horizon;  /* NULL: all */
	int32_t since;        /* day number; records dated earlier are left out */
	int has_since;
	long limit;           /* the last `limit` records that pass; < 0: all */
} history_filter;

/* Records passing f, in file order: fills idx (caller frees) with their
 * indexes into h->rec and returns how many. */
long history_select(const history *h, const history_filter *f, long **idx);

/* `show`: a table for people, or (json) one record per line with "record"
 * (its line number) added. Returns 0, or -1 with CP_IO on a write error. */
int history_show(FILE *out, const history *h, const history_filter *f, int json, cp_err *e);

/* The optimization_date of the last record of horizon whose optimization
 * ran to a verdict (outcome "deployed" or "not_approved"; with
 * deployed_only, "deployed" only), or NULL. Points into h. */
const char *history_last(const history *h, const char *horizon, int deployed_only);

/* `last`: with horizon, the date alone (nothing when never optimized);
 * without, {"horizon":..,"last":..} per horizon in order of first
 * appearance. Returns 0 or -1 (CP_IO). */
int history_print_last(FILE *out, const history *h, const char *horizon, int deployed_only,
                       cp_err *e);

/* `export --format csv`: a header line and one line per record with the
 * columns of HISTORY_CSV_COLUMNS; strings are quoted with libcsv's
 * csv_fwrite, numbers and booleans are bare, null is an empty field,
 * objects are compact JSON (quoted). Lines end in "\n". */
#define HISTORY_CSV_COLUMNS "record,run_id,horizon,steps,optimization_date,outcome,success," \
	"reason,triggered_by,performance_degradation_pct,drift_severity,days_since_last," \
	"validation_rmse,validation_mape,validation_mae,config,validation,deployment," \
	"seconds,seed"
int history_export_csv(FILE *out, const history *h, const history_filter *f, cp_err *e);

/* `repair`: under the lock, move a torn last line (bytes after the last
 * "\n") into "<path>.torn-<UTC stamp>" (durable_write; ".1", ".2", ...
 * appended if that exists), then truncate path there and fsync it.
 * Returns 1 and fills moved_to (the new file's name), *line and *bytes when
 * something was moved, 0 when there was nothing to repair, -1 on error. */
int history_repair(const char *path, long wait_ms, char *moved_to, size_t len, long *line,
                   size_t *bytes, cp_err *e);

#endif
