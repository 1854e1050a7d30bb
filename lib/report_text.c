/* report_text.c — the plain-text report of envelopes as they were decided
 * (opt-report --format text); see report.h.  It renders the sections
 * already in each line and never recomputes one: no series, model or
 * deployed config is read. */
#include "report.h"
#include "ensemble.h"
#include "envelope.h"
#include "history.h"
#include "jsonutil.h"
#include "validate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const cJSON *get(const cJSON *j, const char *dotted)
{
	return cp_json_path(j, dotted);
}

static const char *str(const cJSON *j, const char *dotted)
{
	const cJSON *v = get(j, dotted);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Printable ASCII only: data cannot put control characters into a
 * terminal or a mail.  At most max bytes (then "..."). */
static void text(FILE *out, const char *s, size_t max)
{
	size_t i = 0;
	for (; s && s[i] && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		fputc(c >= 0x20 && c < 0x7f ? c : '?', out);
	}
	if (s && s[i])
		fputs("...", out);
}

/* A figure of the validation section, "n/a" when it is not a finite number. */
static void fig(FILE *out, const cJSON *v)
{
	if (cJSON_IsNumber(v) && isfinite(v->valuedouble))
		fprintf(out, "%.6g", v->valuedouble);
	else
		fputs("n/a", out);
}

/* The series, model and run of a line, printed when they change. */
static void header(FILE *out, const cJSON *env)
{
	const cJSON *len = get(env, "series.length");
	fputs("chronopt run ", out);
	text(out, str(env, "run_id") ? str(env, "run_id") : "?", 64);
	fputs("\nseries ", out);
	text(out, str(env, "series.id") ? str(env, "series.id") : "?", 80);
	fputs(", last date ", out);
	text(out, str(env, "series.last_date") ? str(env, "series.last_date") : "?", 10);
	if (cJSON_IsNumber(len) && isfinite(len->valuedouble))
		fprintf(out, ", %.0f observations", len->valuedouble);
	if (str(env, "series.path")) {
		fputs(" (", out);
		text(out, str(env, "series.path"), 300);
		fputc(')', out);
	}
	fputs("\nmodel ", out);
	text(out, str(env, "model.dir") ? str(env, "model.dir") : "?", 300);
	fputs("\n\n", out);
}

static int same(const cJSON *a, const cJSON *b, const char *dotted)
{
	return cJSON_Compare(get(a, dotted), get(b, dotted), 1) ||
	       (!get(a, dotted) && !get(b, dotted));
}

/* "  NAME  " then what the section says: its summary, or its status and
 * reason; nothing when the line has no such section. */
static void section(FILE *out, const cJSON *env, const char *name, const char *label)
{
	const cJSON *sec = get(env, name);
	if (!cJSON_IsObject(sec))
		return;
	const char *status = str(sec, "status");
	const char *summary = str(sec, "summary"), *reason = str(sec, "reason");
	if (status && !strcmp(status, "error")) {
		fprintf(out, "  %-12s", label);
		fputs("FAILED: ", out);
		text(out, reason ? reason : "no reason given", 600);
	} else if (status && !strcmp(status, "skipped")) {
		/* a stage that only passed on an earlier stop adds nothing */
		char buf[1024];
		const char *stop = env_stop_reason(env, name, buf, sizeof(buf));
		if (stop && reason && !strcmp(stop, reason))
			return;
		fprintf(out, "  %-12sskipped: ", label);
		text(out, reason ? reason : "no reason given", 600);
	} else if (summary) {
		fprintf(out, "  %-12s", label);
		text(out, summary, 600);
		if (status && strcmp(status, "done"))
			fprintf(out, " (status %s)", !strcmp(status, "partial") ? "partial" : "?");
	} else {
		fprintf(out, "  %-12s", label);
		text(out, status ? status : "no status", 40);
		if (reason) {
			fputs(": ", out);
			text(out, reason, 600);
		}
	}
	fputc('\n', out);
}

/* The verdict with the held-out numbers beside it. */
static void verdict(FILE *out, const cJSON *env)
{
	const cJSON *v = get(env, "validation");
	const char *status = str(v, "status");
	if (!status || strcmp(status, "done"))
		return;
	const cJSON *ap = get(v, "approved");
	fprintf(out, "  %-12s%s: held-out RMSE ", "verdict",
	        cJSON_IsTrue(ap) ? "APPROVED" : cJSON_IsFalse(ap) ? "NOT APPROVED" : "no verdict");
	fig(out, get(v, "candidate.rmse"));
	fputs(", random walk ", out);
	fig(out, get(v, "random_walk.rmse"));
	fputs(", incumbent ", out);
	if (cJSON_IsObject(get(v, "incumbent")))
		fig(out, get(v, "incumbent.rmse"));
	else
		fputs("none (first deployment)", out);
	const cJSON *n = get(v, "windows.count");
	if (cJSON_IsNumber(n)) {
		fprintf(out, "; %d windows ", (int)n->valuedouble);
		text(out, str(v, "windows.first_date"), 10);
		fputs(" to ", out);
		text(out, str(v, "windows.last_date"), 10);
	}
	fputc('\n', out);
}

/* Where the line got to, in a few words. */
static void state(FILE *out, const cJSON *env)
{
	const char *failed = env_failed_stage(env);
	const cJSON *dep = get(env, "deployment");
	if (failed) {
		fprintf(out, "FAILED at %s", failed);
	} else if (!strcmp(str(dep, "action") ? str(dep, "action") : "", "rollback")) {
		fputs("rolled back", out);
	} else if (cJSON_IsFalse(get(env, "trigger.should_optimize"))) {
		fputs("not triggered", out);
	} else if (cJSON_IsFalse(get(env, "validation.approved"))) {
		fputs("not approved", out);
	} else if (cJSON_IsTrue(get(dep, "dry_run"))) {
		fputs("dry run, nothing deployed", out);
	} else if (cJSON_IsTrue(get(dep, "deployed"))) {
		fputs("deployed", out);
	} else if (cJSON_IsTrue(get(env, "validation.approved")) && !dep) {
		fputs("approved, not deployed yet", out);
	} else if (!get(env, "validation") && !get(env, "search.candidate") &&
	           cJSON_IsTrue(get(env, "trigger.should_optimize"))) {
		fputs("triggered, not searched yet", out);
	} else if (!get(env, "validation") && get(env, "search.candidate")) {
		fputs("searched, not validated yet", out);
	} else {
		fputs(history_outcome(env, NULL, 0), out);
	}
}

static int render(FILE *out, const cJSON *env, const cJSON *prev, cp_err *e)
{
	if (!prev || !same(env, prev, "run_id") || !same(env, prev, "series") ||
	    !same(env, prev, "model.dir"))
		header(out, env);
	const cJSON *steps = get(env, "horizon.steps");
	text(out, str(env, "horizon.name"), 32);
	if (cJSON_IsNumber(steps))
		fprintf(out, " (%d steps)", (int)steps->valuedouble);
	fputs(": ", out);
	state(out, env);
	fputc('\n', out);
	section(out, env, "trigger", "trigger");
	section(out, env, "search", "search");
	const cJSON *ens = get(env, "search.candidate.ensemble");
	if (ens) {
		char line[2048];
		en_members_text(ens, line, sizeof(line));
		fprintf(out, "  %-12s", "ensemble");
		text(out, line, sizeof(line));
		fputc('\n', out);
	}
	section(out, env, "validation", "validation");
	verdict(out, env);
	section(out, env, "deployment", "deployment");
	const char *hs = str(env, "history.status");
	if (hs && strcmp(hs, "done"))
		section(out, env, "history", "history");
	else if (str(env, "history.file")) {
		const cJSON *rec = get(env, "history.record");
		fprintf(out, "  %-12s", "recorded");
		text(out, str(env, "history.file"), 300);
		if (cJSON_IsNumber(rec))
			fprintf(out, ", record %.0f", rec->valuedouble);
		fputc('\n', out);
	}
	fputc('\n', out);
	const char *vs = str(env, "validation.status");
	if (vs && !strcmp(vs, "done")) {
		char *block = NULL;
		size_t len = 0;
		if (vd_text_report(env, &block, &len, e) < 0)
			return -1;
		if (fwrite(block, 1, len, out) != len) {
			free(block);
			return cp_fail_errno(e, "error writing the report");
		}
		free(block);
	}
	return 0;
}

int report_text_line(cJSON *env, stage_line *ln, void *ctx, cp_err *e)
{
	report_texter *rt = ctx;
	rt->lines++;
	int rc = render(rt->out, env, rt->prev, e);
	if (rc == 0 && fflush(rt->out) != 0)
		rc = cp_fail_errno(e, "error writing the report");
	cJSON_Delete(rt->prev);
	rt->prev = cJSON_Duplicate(env, 1);
	if (rc < 0 && e->code == CP_DATA)
		cp_prefix(e, "%s", ln->where);
	return rc < 0 ? STAGE_STOP : STAGE_WRITTEN;
}

int report_text_end(report_texter *rt, int rc, cp_err *e)
{
	cJSON_Delete(rt->prev);
	rt->prev = NULL;
	if (rc == 0 && rt->lines == 0) {
		if (fputs("chronopt: no envelope to report\n", rt->out) < 0 || fflush(rt->out) != 0)
			return cp_fail_errno(e, "error writing the report");
	}
	return rc;
}
