/* envelope.c — see envelope.h and chronopt-envelope(7). */
#include "envelope.h"
#include "jsonutil.h"

#include "jsonutil.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void env_reader_init(env_reader *r, FILE *fp, const char *name)
{
	r->fp = fp;
	r->name = name;
	r->lineno = 0;
	r->buf = NULL;
	r->cap = 0;
	r->max_line = ENV_LINE_MAX;
}

void env_reader_release(env_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
}

static int blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return 0;
	return 1;
}

/* The next line into r->buf with its "\n" (if any) and a NUL: its length,
 * -1 at end of input or on a read error (see ferror), -2 when it is longer
 * than r->max_line (the rest of it is not read). Unlike getline, running out
 * of memory can neither happen silently nor look like the end of input. */
static ssize_t read_line(env_reader *r)
{
	size_t n = 0;
	int c = EOF;
	flockfile(r->fp);
	while ((c = getc_unlocked(r->fp)) != EOF) {
		if (n >= r->max_line) {
			funlockfile(r->fp);
			return -2;
		}
		if (n + 2 > r->cap) {
			r->cap = r->cap ? 2 * r->cap : 4096;
			r->buf = cp_realloc(r->buf, r->cap);
		}
		r->buf[n++] = (char)c;
		if (c == '\n')
			break;
	}
	funlockfile(r->fp);
	if (n == 0 || ferror(r->fp))
		return -1;
	r->buf[n] = '\0';
	return (ssize_t)n;
}

int env_read(env_reader *r, cJSON **out, cp_err *e)
{
	*out = NULL;
	for (;;) {
		ssize_t n = read_line(r);
		if (n == -1) {
			if (ferror(r->fp))
				return cp_fail_errno(e, "%s: read error", r->name);
			return 0;
		}
		r->lineno++;
		if (n == -2)
			return cp_fail(e, CP_DATA, "%s:%ld: line is longer than %zu bytes", r->name,
			               r->lineno, r->max_line);
		if ((size_t)n != strlen(r->buf))
			return cp_fail(e, CP_DATA, "%s:%ld: NUL byte in envelope line", r->name, r->lineno);
		if (n > 0 && r->buf[n - 1] != '\n' && !feof(r->fp))
			return cp_fail(e, CP_DATA, "%s:%ld: line not terminated", r->name, r->lineno);
		if (blank(r->buf))
			continue;
		cJSON *j = cp_json_parse_strict(r->buf, (size_t)n, e);
		if (!j)
			return cp_prefix(e, "%s:%ld", r->name, r->lineno);
		if (!cJSON_IsObject(j)) {
			cJSON_Delete(j);
			return cp_fail(e, CP_DATA, "%s:%ld: envelope is not a JSON object", r->name, r->lineno);
		}
		const cJSON *sc = cJSON_GetObjectItemCaseSensitive(j, "schema");
		if (!cJSON_IsString(sc)) {
			cJSON_Delete(j);
			return cp_fail(e, CP_DATA, "%s:%ld: envelope has no \"schema\"", r->name, r->lineno);
		}
		if (strcmp(sc->valuestring, ENV_SCHEMA) != 0) {
			char b[CP_SHOWN_MAX];
			cp_fail(e, CP_DATA, "%s:%ld: unsupported schema '%s' (expected '%s')",
			        r->name, r->lineno, cp_shown(sc->valuestring, b), ENV_SCHEMA);
			cJSON_Delete(j);
			return -1;
		}
		if (env_check(j, e) < 0) {
			cJSON_Delete(j);
			return cp_prefix(e, "%s:%ld", r->name, r->lineno);
		}
		*out = j;
		return 1;
	}
}
/* ------------------------------------------------------------- the schema */

static const char *const stage_order[] = {"trigger", "search", "validation", "deployment", "history"};
#define NSTAGES (sizeof(stage_order) / sizeof(stage_order[0]))

static int is_whole(const cJSON *v, double lo, double hi)
{
	return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && v->valuedouble >= lo &&
	       v->valuedouble <= hi;
}

/* A string member: required or not, 1..max bytes when nonempty is set. */
static int check_string(const cJSON *obj, const char *sec, const char *key, int required, int nonempty,
                        size_t max, cp_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v && !required)
		return 0;
	if (!cJSON_IsString(v) || (nonempty && !v->valuestring[0]) || strlen(v->valuestring) > max) {
		const char *what = nonempty ? "a non-empty string" : "a string";
		if (sec)
			return cp_fail(e, CP_DATA, "envelope \"%s\".\"%s\" must be %s of at most %zu bytes", sec,
			               key, what, max);
		return cp_fail(e, CP_DATA, "envelope \"%s\" must be %s of at most %zu bytes", key, what, max);
	}
	return 0;
}

static int check_series(const cJSON *s, cp_err *e)
{
	if (!s)
		return 0;
	if (!cJSON_IsObject(s))
		return cp_fail(e, CP_DATA, "envelope \"series\" must be an object");
	if (check_string(s, "series", "path", 1, 1, ENV_TEXT_MAX, e) < 0 ||
	    check_string(s, "series", "id", 1, 0, ENV_TEXT_MAX, e) < 0)
		return -1;
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(s, "last_date");
	int32_t day;
	if (!cJSON_IsString(d) || cp_parse_date(d->valuestring, &day) < 0)
		return cp_fail(e, CP_DATA, "envelope \"series\".\"last_date\" must be a date (YYYY-MM-DD)");
	if (!is_whole(cJSON_GetObjectItemCaseSensitive(s, "length"), 1, 2147483647.0))
		return cp_fail(e, CP_DATA, "envelope \"series\".\"length\" must be an integer in 1..2147483647");
	return 0;
}

static int check_model(const cJSON *m, cp_err *e)
{
	if (!m)
		return 0;
	if (!cJSON_IsObject(m))
		return cp_fail(e, CP_DATA, "envelope \"model\" must be an object");
	/* sha256 is null for a baseline, which has no weights */
	const cJSON *sha = cJSON_GetObjectItemCaseSensitive(m, "sha256");
	return check_string(m, "model", "dir", 0, 1, ENV_TEXT_MAX, e) < 0 ||
	               (!cJSON_IsNull(sha) && check_string(m, "model", "sha256", 0, 0, ENV_TEXT_MAX, e) < 0)
	               ? -1
	               : 0;
}

/* The fields of a stage section every stage reads (the stop rule,
 * chronopt-envelope(7) rule 2): status, reason, summary, seconds, exit,
 * trigger.should_optimize, validation.approved. */
static int check_section(const cJSON *env, const char *name, cp_err *e)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(env, name);
	if (!s)
		return 0;
	if (!cJSON_IsObject(s))
		return cp_fail(e, CP_DATA, "envelope \"%s\" must be an object", name);
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(s, "status");
	if (!cJSON_IsString(st) || (strcmp(st->valuestring, "done") && strcmp(st->valuestring, "skipped") &&
	                            strcmp(st->valuestring, "partial") && strcmp(st->valuestring, "error")))
		return cp_fail(e, CP_DATA, "envelope \"%s\".\"status\" must be done, skipped, partial or error",
		               name);
	if (check_string(s, name, "reason", 0, 0, ENV_TEXT_MAX, e) < 0 ||
	    check_string(s, name, "summary", 0, 0, ENV_TEXT_MAX, e) < 0)
		return -1;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, "seconds");
	if (v && !cJSON_IsNull(v) && !(cJSON_IsNumber(v) && v->valuedouble >= 0))
		return cp_fail(e, CP_DATA, "envelope \"%s\".\"seconds\" must be a number >= 0", name);
	v = cJSON_GetObjectItemCaseSensitive(s, "exit");
	if (v && !is_whole(v, 1, CP_PARTIAL))
		return cp_fail(e, CP_DATA, "envelope \"%s\".\"exit\" must be an integer in 1..%d", name, CP_PARTIAL);
	const char *flag = !strcmp(name, "trigger") ? "should_optimize" : !strcmp(name, "validation") ? "approved" : NULL;
	v = flag ? cJSON_GetObjectItemCaseSensitive(s, flag) : NULL;
	if (v && !cJSON_IsBool(v))
		return cp_fail(e, CP_DATA, "envelope \"%s\".\"%s\" must be true or false", name, flag);
	return 0;
}

int env_check(const cJSON *env, cp_err *e)
{
	const char *h;
	int steps;
	uint64_t seed;
	series_missing missing;
	if (!cJSON_IsObject(env))
		return cp_fail(e, CP_DATA, "envelope is not a JSON object");
	if (env_horizon(env, &h, &steps, e) < 0 ||
	    check_string(env, NULL, "run_id", 1, 1, ENV_TEXT_MAX, e) < 0 ||
	    env_seed(env, &seed, e) < 0 ||
	    check_series(cJSON_GetObjectItemCaseSensitive(env, "series"), e) < 0 ||
	    env_series_missing(env, &missing, e) < 0 ||
	    check_model(cJSON_GetObjectItemCaseSensitive(env, "model"), e) < 0)
		return -1;
	for (size_t i = 0; i < NSTAGES; i++)
		if (check_section(env, stage_order[i], e) < 0)
			return -1;
	return 0;
}

int env_write(FILE *fp, const cJSON *env, cp_err *e)
{
	char *s = cp_json_print(env, 0);
	if (!s)
		return cp_fail(e, CP_INTERNAL, "cannot format envelope");
	size_t n = strlen(s);
	s[n] = '\0';
	/* One buffer with the newline so the line goes out whole or not at all
	 * as far as stdio lets us. */
	char *line = cp_malloc(n + 2);
	memcpy(line, s, n);
	line[n] = '\n';
	line[n + 1] = '\0';
	free(s);
	int bad = fwrite(line, 1, n + 1, fp) != n + 1 || fflush(fp) != 0;
	free(line);
	if (bad)
		return cp_fail_errno(e, "error writing envelope");
	return 0;
}

cJSON *env_new(const char *run_id, uint64_t seed, const char *series_path,
               const char *series_id, const char *last_date, int length,
               const char *horizon, int steps, const char *model_dir)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "schema", ENV_SCHEMA);
	cJSON_AddStringToObject(j, "run_id", run_id);
	/* Seeds are recorded as numbers, 0..CP_SEED_MAX (env_seed checks). */
	cJSON_AddNumberToObject(j, "seed", (double)seed);
	cJSON *s = cJSON_AddObjectToObject(j, "series");
	cJSON_AddStringToObject(s, "path", series_path);
	cJSON_AddStringToObject(s, "id", series_id ? series_id : "");
	cJSON_AddStringToObject(s, "last_date", last_date);
	cJSON_AddNumberToObject(s, "length", length);
	cJSON *h = cJSON_AddObjectToObject(j, "horizon");
	cJSON_AddStringToObject(h, "name", horizon);
	cJSON_AddNumberToObject(h, "steps", steps);
	if (model_dir) {
		cJSON *m = cJSON_AddObjectToObject(j, "model");
		cJSON_AddStringToObject(m, "dir", model_dir);
	}
	return j;
}

int env_horizon(const cJSON *env, const char **name, int *steps, cp_err *e)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(env, "horizon");
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(h, "name");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(h, "steps");
	if (!cJSON_IsObject(h) || !cJSON_IsString(n))
		return cp_fail(e, CP_DATA, "envelope has no \"horizon\".\"name\"");
	char b[CP_SHOWN_MAX];
	if (!cp_name_ok(n->valuestring))
		return cp_fail(e, CP_DATA, "horizon name '%s' is not a plain name ([A-Za-z0-9_-], 1-32 chars)",
		               cp_shown(n->valuestring, b));
	if (!cJSON_IsNumber(s) || s->valuedouble != floor(s->valuedouble) ||
	    s->valuedouble < 1 || s->valuedouble > 10000)
		return cp_fail(e, CP_DATA, "horizon '%s': \"steps\" must be an integer in 1..10000",
		               n->valuestring);
	*name = n->valuestring;
	*steps = (int)s->valuedouble;
	return 0;
}

int env_series_missing(const cJSON *env, series_missing *m, cp_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(env, "series"), "missing");
	*m = SERIES_MISSING_ERROR;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v) || series_missing_parse(v->valuestring, m) < 0)
		return cp_fail(e, CP_DATA, "envelope \"series\".\"missing\" must be \"error\", \"nan\" or \"drop\"");
	return 0;
}

int env_seed(const cJSON *env, uint64_t *seed, cp_err *e)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(env, "seed");
	if (!cJSON_IsNumber(s) || s->valuedouble < 0 || s->valuedouble > (double)CP_SEED_MAX ||
	    s->valuedouble != floor(s->valuedouble))
		return cp_fail(e, CP_DATA, "envelope \"seed\" must be an integer in " CP_SEED_RANGE);
	*seed = (uint64_t)s->valuedouble;
	return 0;
}

const char *env_string(const cJSON *env, const char *section, const char *key)
{
	const cJSON *s = section ? cJSON_GetObjectItemCaseSensitive(env, section) : env;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *env_stop_reason(const cJSON *env, const char *upto, char *buf, size_t len)
{
	for (size_t i = 0; i < NSTAGES; i++) {
		const char *name = stage_order[i];
		if (upto && strcmp(name, upto) == 0)
			break;
		const cJSON *sec = cJSON_GetObjectItemCaseSensitive(env, name);
		if (!cJSON_IsObject(sec))
			continue;
		const char *status = env_string(env, name, "status");
		const char *reason = env_string(env, name, "reason");
		const char *summary = env_string(env, name, "summary");
		if (status && (strcmp(status, "skipped") == 0 || strcmp(status, "error") == 0)) {
			snprintf(buf, len, "%s %s: %s", name, status, reason ? reason : "no reason given");
			return buf;
		}
		const cJSON *so = cJSON_GetObjectItemCaseSensitive(sec, "should_optimize");
		if (strcmp(name, "trigger") == 0 && cJSON_IsBool(so) && cJSON_IsFalse(so)) {
			snprintf(buf, len, "not triggered: %s", summary ? summary : "no trigger fired");
			return buf;
		}
		const cJSON *ap = cJSON_GetObjectItemCaseSensitive(sec, "approved");
		if (strcmp(name, "validation") == 0 && cJSON_IsBool(ap) && cJSON_IsFalse(ap)) {
			const char *why = summary ? summary : "criteria not met";
			if (strncmp(why, "not approved", 12) == 0)
				snprintf(buf, len, "%s", why);
			else
				snprintf(buf, len, "not approved: %s", why);
			return buf;
		}
	}
	return NULL;
}

void env_set(cJSON *env, const char *name, cJSON *section)
{
	if (cJSON_GetObjectItemCaseSensitive(env, name))
		cJSON_ReplaceItemInObjectCaseSensitive(env, name, section);
	else
		cJSON_AddItemToObject(env, name, section);
}

cJSON *env_skipped(const char *reason)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "status", "skipped");
	cJSON_AddStringToObject(j, "reason", reason);
	return j;
}

cJSON *env_error(const cp_err *e)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "status", "error");
	cJSON_AddStringToObject(j, "reason", e->msg[0] ? e->msg : "no reason given");
	cJSON_AddNumberToObject(j, "exit", e->code ? e->code : CP_INTERNAL);
	return j;
}

const char *env_failed_stage(const cJSON *env)
{
	for (size_t i = 0; i < NSTAGES; i++) {
		const char *st = env_string(env, stage_order[i], "status");
		if (st && strcmp(st, "error") == 0)
			return stage_order[i];
	}
	return NULL;
}

void env_warn_failed(const char *where, const cJSON *env, const cp_err *e)
{
	const char *h = env_string(cJSON_GetObjectItemCaseSensitive(env, "horizon"), NULL, "name");
	char shown[CP_SHOWN_MAX];
	fprintf(stderr, "%s: %s: horizon '%s' failed, the others go on: %s\n", cp_progname, where,
	        h ? cp_shown(h, shown) : "?", e->msg);
}

cJSON *env_add_number(cJSON *obj, const char *key, double v)
{
	if (!isfinite(v))
		return cJSON_AddNullToObject(obj, key);
	return cJSON_AddNumberToObject(obj, key, v);
}

/* $CHRONOPT_NOW: "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ". */
static int pinned_now(time_t *t)
{
	const char *s = getenv("CHRONOPT_NOW");
	if (!s || !*s)
		return 0;
	char date[11];
	int32_t day;
	int hh = 0, mm = 0, ss = 0;
	if (strlen(s) < 10)
		return 0;
	memcpy(date, s, 10);
	date[10] = '\0';
	if (cp_parse_date(date, &day) < 0)
		return 0;
	if (s[10] == 'T' && sscanf(s + 11, "%2d:%2d:%2d", &hh, &mm, &ss) != 3)
		return 0;
	*t = (time_t)day * 86400 + hh * 3600 + mm * 60 + ss;
	return 1;
}

static time_t now_utc(void)
{
	time_t t;
	if (pinned_now(&t))
		return t;
	return time(NULL);
}

void env_utc_now(char buf[21])
{
	time_t t = now_utc();
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int32_t env_today(void)
{
	return (int32_t)(now_utc() / 86400);
}

void env_make_run_id(char *buf, size_t len)
{
	const char *pinned = getenv("CHRONOPT_RUN_ID");
	if (pinned && cp_name_ok(pinned)) {
		snprintf(buf, len, "%s", pinned);
		return;
	}
	time_t t = now_utc();
	struct tm tm;
	char stamp[20];
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(buf, len, "%s-%ld", stamp, (long)getpid());
}
