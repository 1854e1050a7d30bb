/* stage.c — see stage.h. */
#include "stage.h"

#include <stdio.h>

int stage_emit(stage *st, const cJSON *env, const stage_line *ln, cp_err *e)
{
	if (!st->first && env_failed_stage(env))
		st->npartial++;
	if (ln) {
		st->nyes += ln->yes;
		st->nno += ln->no;
	}
	return st->write ? st->write(env, st->ctx, e) : env_write(stdout, env, e);
}

int stage_loop(stage *st, cp_err *e)
{
	env_reader rd;
	env_reader_init(&rd, stdin, "<stdin>");
	int rc;
	cJSON *env;
	while ((rc = env_read(&rd, &env, e)) == 1) {
		stage_line ln = {.lineno = rd.lineno};
		snprintf(ln.where, sizeof(ln.where), "<stdin>:%ld", rd.lineno);
		char buf[1024];
		const char *stop = st->section ? env_stop_reason(env, st->section, buf, sizeof(buf)) : NULL;
		int r = STAGE_DONE;
		if (stop)
			env_set(env, st->section, env_skipped(stop));
		else
			r = st->line(env, &ln, st->ctx, e);
		if (r == STAGE_FAILED)
			env_warn_failed(ln.where, env, e);
		if (r == STAGE_LATE) {
			cp_die(e);
			st->late_status = e->code;
		}
		if (r != STAGE_STOP && r != STAGE_WRITTEN && stage_emit(st, env, &ln, e) < 0)
			r = STAGE_STOP;
		cJSON_Delete(env);
		if (r == STAGE_STOP) {
			rc = -1;
			break;
		}
	}
	env_reader_release(&rd);
	return rc < 0 ? -1 : 0;
}

int stage_exit(const stage *st, int rc, const cp_err *e)
{
	if (rc < 0)
		return cp_die_closing(e);
	int out = cp_close_stdout();
	if (out != CP_OK)
		return out;
	if (st->late_status != CP_OK)
		return st->late_status;
	if (st->npartial)
		return CP_PARTIAL;
	if ((st->exit_rule == STAGE_EXIT_ANY_NO && st->nno) || (st->exit_rule == STAGE_EXIT_NO_YES && !st->nyes))
		return CP_DECLINED;
	return CP_OK;
}

int stage_run(stage *st)
{
	cp_err e = {0};
	return stage_exit(st, stage_loop(st, &e), &e);
}
