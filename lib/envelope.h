/* envelope.h — the NDJSON envelope passed between stages (chronopt-envelope(7)).
 *
 * One JSON object per line, one line per horizon:
 *   {"schema":"chronopt/1", "run_id":"...", "seed":42,
 *    "series":{"path":..,"id":..,"last_date":..,"length":..},
 *    "horizon":{"name":"7d","steps":7},
 *    "model":{"dir":..},
 *    "trigger":{...}, "search":{...}, "validation":{...},
 *    "deployment":{...}, "history":{...}}
 * Every stage section has "status": "done", "skipped" (with "reason") or
 * "partial". A stage copies every field it does not own unchanged.
 */
#ifndef CHRONOPT_ENVELOPE_H
#define CHRONOPT_ENVELOPE_H
#include "common.h"
#include "series.h"
#include <cJSON.h>
#include <stdio.h>

#define ENV_SCHEMA "chronopt/1"

typedef struct {
	FILE *fp;
	const char *name;  /* for messages, e.g. "<stdin>" */
	long lineno;
	char *buf;
	size_t cap;
	size_t max_line;   /* longest accepted line in bytes, ENV_LINE_MAX */
} env_reader;

/* Longest envelope line env_read accepts (bytes, newline included): a line
 * is held in memory whole, so input without newlines cannot exhaust it. */
#define ENV_LINE_MAX ((size_t)64 << 20)

void env_reader_init(env_reader *r, FILE *fp, const char *name);
void env_reader_release(env_reader *r);

/* Read the next non-empty line and parse it. Returns 1 with *out (caller
 * owns, cJSON_Delete), 0 at end of input, -1 on error: CP_DATA
 * "<name>:<line>: ..." for JSON that cp_json_parse_strict refuses (not
 * UTF-8, a NUL, a raw control character, \u0000, a number that does not
 * fit, a duplicate key), a non-object, a missing or unknown "schema", an
 * envelope env_check refuses, or a line longer than r->max_line
 * ("<name>:<line>: line is longer than N bytes"); CP_IO for read errors. */
int env_read(env_reader *r, cJSON **out, cp_err *e);

/* Write env as one line: the whole line is formatted first, then written
 * with one fwrite and flushed, so a failing stage never leaves half a line.
 * Returns 0 or -1 (CP_IO). */
int env_write(FILE *fp, const cJSON *env, cp_err *e);

/* A new envelope with schema, run_id, seed, series, horizon (and model dir
 * when model_dir is non-NULL). Caller owns it. */
cJSON *env_new(const char *run_id, uint64_t seed, const char *series_path,
               const char *series_id, const char *last_date, int length,
               const char *horizon, int steps, const char *model_dir);

/* How the series of env is loaded: series.missing "error", "nan" or "drop"
 * (absent or null: "error", the loader's default). Returns 0, or -1 with
 * CP_DATA "envelope \"series\".\"missing\" must be ..." for another value. */
int env_series_missing(const cJSON *env, series_missing *m, cp_err *e);

/* Longest string env_check accepts in the common fields (run_id, series
 * path and id, model dir, a section's reason and summary). */
#define ENV_TEXT_MAX 4096

/* The one schema of the common fields, checked by env_read for every
 * stage: "horizon" (env_horizon), "run_id" (a non-empty string), "seed"
 * (env_seed); "series" when present an object with "path" (non-empty),
 * "id" (strings), "last_date" (a date), "length" (integer
 * 1..2147483647) and "missing" (env_series_missing); "model" when present an object whose "dir" is a string
 * and "sha256" a string or null; each stage section present (trigger, search, validation,
 * deployment, history) an object with "status" done, skipped, partial or
 * error, string "reason"/"summary", "seconds" >= 0 (or null), "exit" in
 * 1..7, boolean trigger.should_optimize and validation.approved.  Strings
 * are at most ENV_TEXT_MAX bytes.  Returns 0, or -1 with CP_DATA naming the
 * field. A stage checks the other fields of the sections it reads itself. */
int env_check(const cJSON *env, cp_err *e);

/* Accessors (return 0 and fill, or -1 with CP_DATA naming the field). */
int env_horizon(const cJSON *env, const char **name, int *steps, cp_err *e);
int env_seed(const cJSON *env, uint64_t *seed, cp_err *e);
const char *env_string(const cJSON *env, const char *section, const char *key);

/* If an earlier stage decided to stop, return a reason (owned by a static
 * buffer in the caller-provided buf), else NULL. Rules: trigger.should_optimize
 * false -> "not triggered: <trigger.summary>"; validation.approved false ->
 * "not approved: <validation.summary>"; any section with status "skipped"
 * -> "<section> skipped: <reason>"; status "error" likewise. `upto` names
 * the asking stage so only earlier sections count
 * ("search", "validation", "deployment", "history"). */
const char *env_stop_reason(const cJSON *env, const char *upto, char *buf, size_t len);

/* Replace (or add) section `name` with `section` (ownership moves to env). */
void env_set(cJSON *env, const char *name, cJSON *section);

/* {"status":"skipped","reason":reason} */
cJSON *env_skipped(const char *reason);

/* The section of a stage that could not work on this horizon (series too
 * short for it, a bad search space, ...): {"status":"error","reason":
 * e->msg,"exit":e->code}, so later stages skip the line (rule 2) and the
 * history records it as failed.  Caller owns it. */
cJSON *env_error(const cp_err *e);

/* The first stage section of env (trigger, search, validation, deployment,
 * history) whose status is "error", or NULL.  A stage that writes such a
 * line exits CP_PARTIAL once all lines are written. */
const char *env_failed_stage(const cJSON *env);

/* The one-line warning a stage prints when its own work on a horizon
 * failed: "<prog>: <where>: horizon '<h>' failed, the others go on: <msg>". */
void env_warn_failed(const char *where, const cJSON *env, const cp_err *e);

/* Add a number only if finite, else null (cJSON prints NaN as null anyway
 * but this keeps intent explicit). Returns the added item. */
cJSON *env_add_number(cJSON *obj, const char *key, double v);

/* Seconds-resolution UTC time "YYYY-MM-DDTHH:MM:SSZ" of now, or of
 * $CHRONOPT_NOW when set (tests and reproducible runs). */
void env_utc_now(char buf[21]);
/* Today's date (UTC, or from $CHRONOPT_NOW) as a day number. */
int32_t env_today(void);

/* A run id from the time and pid: "YYYYMMDDTHHMMSSZ-<pid>", or
 * $CHRONOPT_RUN_ID when set. */
void env_make_run_id(char *buf, size_t len);

#endif
