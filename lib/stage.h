/* stage.h — a pipeline stage as a library object: the loop every
 * envelope-reading tool (opt-trigger, opt-search, opt-validate, opt-deploy)
 * runs, in one place.
 *
 * The runner reads envelopes from stdin (env_read: strict JSON, the common
 * schema, line numbers), applies the stop rule, hands each line to the
 * stage's callback, writes the line, and turns what happened into the exit
 * status of chronopt-envelope(7):
 *
 *   0 CP_OK        every line written
 *   1 CP_DECLINED  with --exit-code: a stage said no (see stage_no)
 *   2 CP_USAGE     misuse (the callback's error, e.g. --plan with --method tpe)
 *   3 CP_DATA      bad input: the message names "<stdin>:<line>"
 *   4 CP_IO        a read or write failed
 *   5 CP_BUSY      a lock is held
 *   6 CP_INTERNAL  a bug
 *   7 CP_PARTIAL   some horizons failed (a section with status "error"),
 *                  the others were written
 *
 * The stop rule: when stage.section is set and an earlier stage failed,
 * was skipped, did not trigger or did not approve (env_stop_reason), the
 * line gets {"status":"skipped","reason":...} as that section and the
 * callback is not called. Stages whose skipped section says more (opt-
 * validate and opt-deploy add "seconds") leave section NULL and apply the
 * rule in their own library function.
 *
 * Ownership: the runner owns each envelope; a callback may change it
 * (env_set) but not free it. Nothing is left for the caller to free.
 */
#ifndef CHRONOPT_STAGE_H
#define CHRONOPT_STAGE_H
#include "common.h"
#include "envelope.h"

/* What the callback says of one line. */
enum {
	STAGE_DONE = 0,     /* the line is ready: the runner writes it */
	STAGE_FAILED = 1,   /* this horizon failed and e says why: the runner warns
	                       ("<where>: horizon 'h' failed, the others go on"), the
	                       callback has set its error section (env_error), the
	                       line is written and the stage exits CP_PARTIAL */
	STAGE_LATE = 2,     /* the line's work is done but a later step failed (a
	                       deployment committed, its notification did not): the
	                       runner prints e, writes the line, goes on, and the
	                       stage exits e->code */
	STAGE_WRITTEN = 3,  /* the callback wrote its own output for the line */
	STAGE_STOP = -1     /* e stops the stage: nothing more is read or written */
};

/* Where the runner is: for messages and for the callback's verdict. */
typedef struct {
	long lineno;        /* of the envelope on stdin, 1-based */
	char where[64];     /* "<stdin>:<lineno>" */
	int no;             /* set by the callback: this line is a "no" (not
	                       triggered, not approved) for --exit-code */
	int yes;            /* set by the callback: this line is a "yes" */
} stage_line;

/* When --exit-code makes a stage exit CP_DECLINED. */
typedef enum {
	STAGE_EXIT_NEVER = 0,
	STAGE_EXIT_ANY_NO,   /* some line is a "no" (opt-validate) */
	STAGE_EXIT_NO_YES    /* no line is a "yes" (opt-trigger) */
} stage_exit_rule;

typedef struct stage stage;

/* The callback: decide env (set the stage's section). Returns one of the
 * STAGE_* values above; for STAGE_STOP the message in e is final (the
 * callback names the line with ln->where where it should). */
typedef int (*stage_line_fn)(cJSON *env, stage_line *ln, void *ctx, cp_err *e);

/* Writes a line instead of env_write to stdout (opt-validate --format
 * text). Returns 0 or -1 with e set. */
typedef int (*stage_write_fn)(const cJSON *env, void *ctx, cp_err *e);

struct stage {
	const char *section;         /* the stop rule's stage name ("search"), or NULL */
	stage_line_fn line;
	stage_write_fn write;        /* NULL: env_write(stdout) */
	void *ctx;
	stage_exit_rule exit_rule;   /* with --exit-code; STAGE_EXIT_NEVER without */
	int first;                   /* 1: the first stage (opt-trigger): a section an
	                                earlier run failed is not a failure of this run */
	/* filled by the runner (and by stage_emit) */
	int nyes, nno, npartial, late_status;
};

/* Write env as the stage's output and count it: a line with a failed
 * section (env_failed_stage) makes the stage partly failed; ln->yes and
 * ln->no count for --exit-code. For stages that also make envelopes
 * themselves (opt-trigger --series). Returns 0 or -1 with e set. */
int stage_emit(stage *st, const cJSON *env, const stage_line *ln, cp_err *e);

/* Run st over the envelopes on stdin until the end or a stop. Returns 0,
 * or -1 with e set (the error that stopped it). */
int stage_loop(stage *st, cp_err *e);

/* The exit status after the loop (or after stage_emit): rc is the loop's
 * return. On an error, prints e and closes stdout; else checks stdout
 * (cp_close_stdout) and returns, in this order of precedence: the failed
 * write, the late status (STAGE_LATE), CP_PARTIAL, CP_DECLINED (exit rule),
 * CP_OK. */
int stage_exit(const stage *st, int rc, const cp_err *e);

/* stage_loop and stage_exit: what a stage's main returns. */
int stage_run(stage *st);

#endif
