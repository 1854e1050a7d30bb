/* search_dist.h — the search split across processes and machines:
 * self-contained unit lines (--plan), running them (--run-unit), and
 * reducing their results back into envelopes (--reduce). opt-search(1)
 * describes the line formats. Ownership as stated per function. */
#ifndef CHRONOPT_SEARCH_DIST_H
#define CHRONOPT_SEARCH_DIST_H
#include "search.h"
#include "series.h"
#include <cJSON.h>

#define SR_UNIT_SCHEMA "chronopt-search-unit/1"
#define SR_RESULT_SCHEMA "chronopt-search-result/1"

/* Load the series at path (id "" or NULL: the file's only series) with
 * the given choice for missing values, and check it is the one an envelope
 * or plan saw: CP_DATA "<path>: series changed since the envelope was made
 * (length A, now B)" (or last date). On success the caller frees *s with
 * series_free. */
int sr_load_series(series *s, const char *path, const char *id, int length, const char *last,
                   series_missing missing, cp_err *e);

/* The envelope's series, loaded as its series.missing says and checked as
 * above; `where` ("<stdin>:3") prefixes the message when the envelope's
 * "series" is incomplete or its "missing" is not a known choice. */
int sr_env_series(const cJSON *env, series *s, const char *where, cp_err *e);

/* Set env.model.dir and env.model.sha256 (null when sha is empty). */
void sr_env_model(cJSON *env, const char *dir, const char *sha);

/* 0 when dir is not a directory, want is empty, or dir/model.safetensors
 * still has sha256 `want`; else CP_DATA "<dir>: model.safetensors changed
 * since the plan was made" (CP_IO when unreadable). */
int sr_model_unchanged(const char *dir, const char *want, cp_err *e);

/* A unit line for envelope line `line` (1-based), unit `unit` of `units`.
 * env and plan are referenced, not copied: delete the line before them.
 * With u NULL, a skip line: carrying `error` (a search section with status
 * "error", env_error(); ownership moves to the line) when it is not NULL,
 * else `skip` as the reason. */
cJSON *sr_unit_line(long line, int unit, int units, cJSON *env, cJSON *plan, const sr_unit *u,
                    const char *skip, cJSON *error);

/* Run unit line j in place: opens the series and the model it names, runs
 * the unit, adds "result" and turns the schema into SR_RESULT_SCHEMA (a
 * skip or error line only changes schema). Errors as sr_run_unit, plus CP_DATA for
 * a bad line. */
int sr_run_unit_line(cJSON *j, cp_err *e);

/* Reduce: results[0..n-1] (result lines of any envelope lines, any order;
 * the array is reordered) are grouped by envelope line; for each, in input
 * order, the envelope with its "search" section is handed to emit (which
 * must not keep it). Missing, repeated or mismatched units are CP_DATA
 * "<stdin>: envelope L: ...". */
int sr_reduce(cJSON **results, int n, int (*emit)(cJSON *env, void *ctx, cp_err *e), void *ctx,
              cp_err *e);

#endif
