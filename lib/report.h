/* report.h — the static HTML dashboard built from the history file.
 *
 * One self-contained page (inline CSS and SVG, no script, no network):
 * optimizations per horizon, validation success rate, RMSE before and after
 * every deployment, the deployed config and last optimization per horizon,
 * and the trigger history.  Every string that comes from the history or a
 * config is HTML-escaped; every number is checked with isfinite().
 *
 * Usage:
 *   report_data r;
 *   report_init(&r);
 *   if (report_load(&r, "history.jsonl", &e) < 0) ...
 *   report_html(fp, &r, "configs", "2026-11-23T02:00:00Z", &e);
 *   report_release(&r);
 */
#ifndef CHRONOPT_REPORT_H
#define CHRONOPT_REPORT_H
#include "common.h"
#include "stage.h"
#include <cJSON.h>
#include <stdio.h>

/* What one history record says, read from the fields opt-history writes
 * (see report.c for the field names looked up). */
typedef struct {
	char horizon[33];   /* "" when the record names no valid horizon */
	char when[32];      /* time of the record as written, "" if none */
	int32_t day;        /* day number of `when`, INT32_MIN if unknown */
	int rollback;       /* 1: a rollback record */
	int triggered;      /* 1 yes, 0 no, -1 unknown */
	int approved;       /* 1 approved, 0 rejected, -1 not validated */
	int deployed;       /* 1 a new config went live */
	double rmse_before; /* incumbent's validation RMSE (NAN if none) */
	double rmse_after;  /* deployed candidate's validation RMSE (NAN) */
	double rmse_rw;     /* random walk on the same windows (NAN) */
	const cJSON *j;     /* the record itself, owned by report_data */
} report_rec;

typedef struct {
	report_rec *recs;
	size_t n, cap;
	cJSON **docs;       /* parsed records, owned */
	long lines;         /* lines read */
	int torn_tail;      /* 1: last line had no newline and did not parse */
	int missing;        /* 1: history file does not exist (empty report) */
	const char *path;   /* history path, borrowed from report_load's caller */
} report_data;

void report_init(report_data *r);
/* Free everything report_load allocated; r can be loaded again. */
void report_release(report_data *r);

/* Read the JSON Lines history at path into r (path is borrowed and must
 * outlive r).  A missing file gives an empty report (r->missing = 1).  A
 * last line without a newline that does not parse is a torn write: it is
 * counted in r->torn_tail and left out, never parsed as garbage.  Any other
 * unparseable line: CP_DATA "<path>:<line>: invalid JSON".  Read errors:
 * CP_IO. */
int report_load(report_data *r, const char *path, cp_err *e);

/* Write the whole HTML page to out.  config_dir (may be NULL) is read for
 * the deployed configs <dir>/<horizon>.json of every horizon seen in the
 * history or in the directory; generated_at is printed in the footer.
 * Returns 0, or -1 with CP_IO when writing fails. */
int report_html(FILE *out, const report_data *r, const char *config_dir,
                const char *generated_at, cp_err *e);

/* The page of n series workspaces: rs[i] loaded from a history file,
 * config_dirs[i] its deployed configs (NULL: none).  With n > 1 an overview
 * table of the series comes first, then each series' sections.  Returns 0,
 * or -1 with CP_IO when writing fails. */
int report_html_many(FILE *out, const report_data *rs, const char *const *config_dirs, size_t n,
                     const char *generated_at, cp_err *e);

/* opt-report --format text, a stage (stage.h) whose ctx is a report_texter
 * (zeroed, out set): for the envelopes on stdin (chronopt-envelope(7)) it
 * writes to out, for people and mail, what each line says as it was
 * decided: the run, series (id, last date, length) and model when they
 * change, then per line the horizon, where it got to (deployed, not
 * approved, FAILED at <stage>, ...), each stage's summary or skip/error
 * reason, the verdict with the held-out RMSE of the candidate, the random
 * walk and the incumbent beside it, and the validation block of
 * vd_text_report().  Nothing is recomputed: no series, model or deployed
 * config is read, so the report of a saved run stays what was decided.
 * ASCII only.  report_text_line returns STAGE_WRITTEN, or STAGE_STOP with
 * CP_DATA "<stdin>:<line>: ..." for a bad envelope, CP_IO when writing
 * fails.  After the loop (rc its return), report_text_end writes "chronopt:
 * no envelope to report" when there was none and frees what rt holds; it
 * returns rc, or -1 (CP_IO) when that line cannot be written. */
typedef struct {
	FILE *out;
	cJSON *prev;  /* the line before, owned */
	long lines;
} report_texter;
int report_text_line(cJSON *env, stage_line *ln, void *ctx, cp_err *e);
int report_text_end(report_texter *rt, int rc, cp_err *e);

/* Write s HTML-escaped (& < > " ' as entities; control characters other
 * than newline and tab, C1 controls and bytes that are not well-formed
 * UTF-8 become U+FFFD) to out.  NULL writes nothing. */
void report_escape(FILE *out, const char *s);

/* Dotted-path lookup ("validation.candidate.rmse") in a cJSON object;
 * NULL when any step is missing.  Same as cp_json_path (jsonutil.h). */
const cJSON *report_get(const cJSON *j, const char *dotted);

#endif
