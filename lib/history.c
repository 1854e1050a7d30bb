/* history.c — the optimization history, see history.h and opt-history(1). */
#include "history.h"

#include "durable.h"
#include "envelope.h"
#include "jsonutil.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const stages[] = {"trigger", "search", "validation", "deployment"};
#define NSTAGES 4

/* ------------------------------------------------------------- outcome */

static const cJSON *get(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* The held-out figure `key` ("rmse", "mape", "mae") of a record: the
 * record's validation_<key>, else (records written before it was kept)
 * the score opt-validate gave the candidate. Never the search-window
 * figure of the config. */
static const cJSON *held_out(const cJSON *r, const char *key)
{
	char k[32];
	snprintf(k, sizeof(k), "validation_%s", key);
	const cJSON *v = get(r, k);
	if (cJSON_IsNumber(v))
		return v;
	return get(get(get(r, "validation"), "candidate"), key);
}

static const char *str_or(const cJSON *obj, const char *key, const char *dflt)
{
	const cJSON *v = get(obj, key);
	return cJSON_IsString(v) ? v->valuestring : dflt;
}

/* "reason", else "summary", else dflt */
static const char *why(const cJSON *sec, const char *dflt)
{
	return str_or(sec, "reason", str_or(sec, "summary", dflt));
}

/* Cut a trailing incomplete UTF-8 sequence, as left by snprintf cutting a
 * string to fit: the record must stay valid UTF-8 (JSON). */
static void utf8_trim(char *s)
{
	size_t n = strlen(s), k = n, cont = 0;
	while (k > 0 && cont < 4 && ((unsigned char)s[k - 1] & 0xC0) == 0x80) {
		k--;
		cont++;
	}
	if (k == 0)
		return;
	unsigned char lead = (unsigned char)s[k - 1];
	size_t need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
	if (lead >= 0xC0 && cont < need)
		s[k - 1] = '\0';
}

static const char *outcome_of(const cJSON *env, char *reason, size_t len);

/* prefix + text into reason, the prefix left out when text starts with it
 * (the validator's summary already reads "not approved: ...", a dry run's
 * "dry run: ..."). */
static void prefixed(char *reason, size_t len, const char *prefix, const char *text)
{
	if (!strncmp(text, prefix, strlen(prefix)))
		snprintf(reason, len, "%s", text);
	else
		snprintf(reason, len, "%s%s", prefix, text);
}

const char *history_outcome(const cJSON *env, char *reason, size_t len)
{
	char scratch[8];
	if (!reason) {
		reason = scratch;
		len = sizeof(scratch);
	}
	const char *oc = outcome_of(env, reason, len);
	utf8_trim(reason);
	return oc;
}

static const char *outcome_of(const cJSON *env, char *reason, size_t len)
{
	const cJSON *trig = get(env, "trigger"), *search = get(env, "search");
	const cJSON *val = get(env, "validation"), *dep = get(env, "deployment");

	if (!strcmp(str_or(dep, "action", ""), "rollback")) {
		const char *sum = str_or(dep, "summary", "previous config restored");
		if (!strncmp(sum, "rolled ", 7)) /* "rolled 'x' back to ...": says it already */
			snprintf(reason, len, "%s", sum);
		else
			snprintf(reason, len, "rolled back: %s", sum);
		return "rolled_back";
	}
	/* opt-deploy challenge: one line per horizon with a challenger */
	const cJSON *chs = get(env, "challenger");
	const char *cha = str_or(chs, "action", NULL);
	if (cha && (!strcmp(cha, "scored") || !strcmp(cha, "promoted") || !strcmp(cha, "retired"))) {
		snprintf(reason, len, "%s", str_or(chs, "summary", cha));
		return !strcmp(cha, "scored") ? "challenger_scored" : !strcmp(cha, "promoted") ? "challenger_promoted"
		                                                                                : "challenger_retired";
	}
	const char *failed = env_failed_stage(env);
	if (failed) {
		snprintf(reason, len, "%s failed: %s", failed, why(get(env, failed), "no reason given"));
		return "failed";
	}
	if (cJSON_IsFalse(get(trig, "should_optimize"))) {
		/* the trigger's "do not optimize <h>: why" becomes "not triggered: why" */
		const char *sum = str_or(trig, "summary", "no trigger fired");
		const char *colon = strchr(sum, ':');
		if (!strncmp(sum, "do not optimize ", 16) && colon && colon[1] == ' ')
			sum = colon + 2;
		snprintf(reason, len, "not triggered: %s", sum);
		return "not_triggered";
	}
	if (!cJSON_IsObject(search)) {
		snprintf(reason, len, "no search section");
		return "search_failed";
	}
	const char *st = str_or(search, "status", "(no status)");
	if (strcmp(st, "done") && strcmp(st, "partial")) {
		snprintf(reason, len, "search %s: %s", st, why(search, "no reason given"));
		return "search_failed";
	}
	if (!cJSON_IsObject(get(search, "candidate")) && !cJSON_IsObject(get(search, "best"))) {
		snprintf(reason, len, "search found no candidate");
		return "search_failed";
	}
	if (cJSON_IsFalse(get(val, "approved"))) {
		prefixed(reason, len, "not approved: ", str_or(val, "summary", "criteria not met"));
		return "not_approved";
	}
	if (!cJSON_IsObject(val)) {
		snprintf(reason, len, "no validation section");
		return "error";
	}
	if (!cJSON_IsTrue(get(val, "approved"))) {
		snprintf(reason, len, "validation %s: %s", str_or(val, "status", "(no status)"),
		         why(val, "no verdict"));
		return "error";
	}
	if (cJSON_IsTrue(get(dep, "dry_run"))) {
		prefixed(reason, len, "dry run: ", str_or(dep, "summary", "nothing deployed"));
		return "dry_run";
	}
	if (!cJSON_IsObject(dep)) {
		snprintf(reason, len, "no deployment section");
		return "error";
	}
	st = str_or(dep, "status", "(no status)");
	if (!strcmp(st, "done") && cJSON_IsTrue(get(dep, "challenger"))) {
		prefixed(reason, len, "challenger started: ", str_or(dep, "summary", "beside the champion"));
		return "challenger_started";
	}
	if (!strcmp(st, "done") && cJSON_IsTrue(get(dep, "deployed"))) {
		reason[0] = '\0';
		return "deployed";
	}
	snprintf(reason, len, "deployment %s, not deployed: %s", st, why(dep, "no reason given"));
	return "error";
}

/* -------------------------------------------------------------- record */

static int numeric_array(const cJSON *a)
{
	if (!cJSON_IsArray(a) || !a->child)
		return 0;
	for (const cJSON *c = a->child; c; c = c->next)
		if (!cJSON_IsNumber(c) && !numeric_array(c))
			return 0;
	return 1;
}

/* A deep copy without arrays of numbers (or of arrays of numbers). */
static cJSON *slim(const cJSON *x)
{
	if (!x)
		return cJSON_CreateNull();
	if (cJSON_IsObject(x) || cJSON_IsArray(x)) {
		cJSON *o = cJSON_IsObject(x) ? cJSON_CreateObject() : cJSON_CreateArray();
		for (const cJSON *c = x->child; c; c = c->next) {
			if (numeric_array(c))
				continue;
			if (cJSON_IsObject(x))
				cJSON_AddItemToObject(o, c->string, slim(c));
			else
				cJSON_AddItemToArray(o, slim(c));
		}
		return o;
	}
	return cJSON_Duplicate(x, 0);
}

/* key at the top of sec, else in one of its object members */
static const cJSON *trigger_field(const cJSON *sec, const char *key)
{
	const cJSON *v = get(sec, key);
	if (v || !cJSON_IsObject(sec))
		return v;
	for (const cJSON *c = sec->child; c; c = c->next)
		if (cJSON_IsObject(c) && (v = get(c, key)))
			return v;
	return NULL;
}

static void add_copy(cJSON *r, const char *key, const cJSON *v)
{
	cJSON_AddItemToObject(r, key, v ? slim(v) : cJSON_CreateNull());
}

static void add_string_or_null(cJSON *r, const char *key, const cJSON *v)
{
	if (cJSON_IsString(v))
		cJSON_AddStringToObject(r, key, v->valuestring);
	else
		cJSON_AddNullToObject(r, key);
}

/* The held-out figures behind a verdict: windows and the candidate's,
 * incumbent's and random walk's scores on them; null when validation did
 * not score (skipped, missing, failed). */
static cJSON *held_out_section(const cJSON *val)
{
	if (!cJSON_IsObject(get(val, "candidate")))
		return cJSON_CreateNull();
	cJSON *h = cJSON_CreateObject();
	const cJSON *w = get(val, "windows");
	add_copy(h, "windows", cJSON_IsNumber(get(w, "count")) ? get(w, "count") : NULL);
	add_string_or_null(h, "first_date", get(w, "first_date"));
	add_string_or_null(h, "last_date", get(w, "last_date"));
	static const char *const who[] = {"candidate", "incumbent", "random_walk"};
	static const char *const keys[] = {"rmse", "mape", "mae", "bias", "cov95"};
	for (size_t i = 0; i < 3; i++) {
		const cJSON *c = get(val, who[i]);
		if (!cJSON_IsObject(c)) {
			cJSON_AddNullToObject(h, who[i]);
			continue;
		}
		cJSON *o = cJSON_AddObjectToObject(h, who[i]);
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			add_copy(o, keys[k], cJSON_IsNumber(get(c, keys[k])) ? get(c, keys[k]) : NULL);
	}
	return h;
}

/* The named keys of the trigger's check `name` (trigger.checks.<name>),
 * for the dashboard's panels over time; null when the check is absent. */
static cJSON *check_section(const cJSON *trig, const char *name, const char *const *keys)
{
	const cJSON *c = get(get(trig, "checks"), name);
	if (!cJSON_IsObject(c))
		return cJSON_CreateNull();
	cJSON *o = cJSON_CreateObject();
	for (; *keys; keys++) {
		const cJSON *v = get(c, *keys);
		if (v && !cJSON_IsObject(v) && !cJSON_IsArray(v))
			cJSON_AddItemToObject(o, *keys, cJSON_Duplicate(v, 0));
	}
	return o;
}

static const char *const drift_keys[] = {"evaluated", "fired", "severity", "ks_statistic", "ks_pvalue", "psi",
                                         "recent_start", "recent_end", "baseline_sd", "recent_sd", NULL};
static const char *const perf_keys[] = {"evaluated", "fired", "source", "rmse", "baseline_rmse",
                                        "degradation_pct", "threshold_pct", "origins", "first_origin_date",
                                        "last_origin_date", "reason", NULL};

/* The search's Pareto front for the dashboard: search.pareto (objectives,
 * tolerance_pct, front, lowest_rmse_trial, chosen, rule) and "points", every
 * scored trial's {trial, windows, rmse, cost}; null without objectives. */
static cJSON *pareto_section(const cJSON *search)
{
	const cJSON *p = get(search, "pareto");
	if (!cJSON_IsObject(p))
		return cJSON_CreateNull();
	cJSON *o = slim(p);
	cJSON *pts = cJSON_AddArrayToObject(o, "points");
	const cJSON *ta = get(search, "trials");
	for (const cJSON *t = cJSON_IsArray(ta) ? ta->child : NULL; t; t = t->next) {
		const cJSON *id = get(t, "trial"), *w = get(t, "windows"), *c = get(t, "cost");
		const cJSON *rm = get(get(t, "metrics"), "rmse");
		if (!cJSON_IsNumber(id) || !cJSON_IsNumber(c) || !cJSON_IsNumber(rm))
			continue;
		cJSON *x = cJSON_CreateObject();
		add_copy(x, "trial", id);
		add_copy(x, "windows", cJSON_IsNumber(w) ? w : NULL);
		add_copy(x, "rmse", rm);
		add_copy(x, "cost", c);
		cJSON_AddItemToArray(pts, x);
	}
	return o;
}

cJSON *history_record_new(const cJSON *env, const char *now)
{
	char reason[1024];
	const char *outcome = history_outcome(env, reason, sizeof(reason));
	const cJSON *trig = get(env, "trigger"), *search = get(env, "search");
	const cJSON *hz = get(env, "horizon");
	cJSON *r = cJSON_CreateObject();

	cJSON_AddStringToObject(r, "schema", HISTORY_SCHEMA);
	add_string_or_null(r, "run_id", get(env, "run_id"));
	add_string_or_null(r, "horizon", get(hz, "name"));
	add_copy(r, "steps", cJSON_IsNumber(get(hz, "steps")) ? get(hz, "steps") : NULL);
	cJSON_AddStringToObject(r, "optimization_date", now);
	cJSON_AddStringToObject(r, "outcome", outcome);
	cJSON_AddBoolToObject(r, "success", !strcmp(outcome, "deployed"));
	if (reason[0])
		cJSON_AddStringToObject(r, "reason", reason);
	else
		cJSON_AddNullToObject(r, "reason");

	const cJSON *fired = get(trig, "fired");
	if (cJSON_IsArray(fired)) {
		cJSON *a = cJSON_AddArrayToObject(r, "triggered_by");
		for (const cJSON *c = fired->child; c; c = c->next) {
			const char *name = cJSON_IsString(c) ? c->valuestring : str_or(c, "name", NULL);
			if (name)
				cJSON_AddItemToArray(a, cJSON_CreateString(name));
		}
	} else {
		cJSON_AddNullToObject(r, "triggered_by");
	}
	add_copy(r, "performance_degradation_pct", trigger_field(trig, "performance_degradation_pct"));
	add_copy(r, "drift_severity", trigger_field(trig, "drift_severity"));
	add_copy(r, "days_since_last", trigger_field(trig, "days_since_last"));
	cJSON_AddItemToObject(r, "drift", check_section(trig, "drift", drift_keys));
	cJSON_AddItemToObject(r, "performance", check_section(trig, "performance", perf_keys));

	const cJSON *val = get(env, "validation");
	const cJSON *vc = get(val, "candidate");
	static const char *const fig[] = {"rmse", "mape", "mae"};
	for (size_t i = 0; i < 3; i++) {
		char k[32];
		snprintf(k, sizeof(k), "validation_%s", fig[i]);
		const cJSON *v = get(vc, fig[i]);
		add_copy(r, k, cJSON_IsNumber(v) ? v : NULL);
	}
	cJSON_AddItemToObject(r, "held_out", held_out_section(val));

	const cJSON *cfg = get(search, "candidate");
	if (!cJSON_IsObject(cfg))
		cfg = get(search, "best");
	cJSON *cc = cJSON_IsObject(cfg) ? slim(cfg) : cJSON_CreateNull();
	/* opt-search calls its search-window scores validation_*; here they
	 * are search_*, so that validation_* only ever means held out */
	for (size_t i = 0; cJSON_IsObject(cc) && i < 3; i++) {
		char vk[32], sk[32];
		snprintf(vk, sizeof(vk), "validation_%s", fig[i]);
		snprintf(sk, sizeof(sk), "search_%s", fig[i]);
		cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(cc, vk);
		if (v && !get(cc, sk))
			cJSON_AddItemToObject(cc, sk, v);
		else
			cJSON_Delete(v);
	}
	cJSON_AddItemToObject(r, "config", cc);
	cJSON_AddItemToObject(r, "pareto", pareto_section(search));
	add_copy(r, "validation", cJSON_IsObject(get(env, "validation")) ? get(env, "validation") : NULL);
	add_copy(r, "deployment", cJSON_IsObject(get(env, "deployment")) ? get(env, "deployment") : NULL);
	add_copy(r, "challenger", cJSON_IsObject(get(env, "challenger")) ? get(env, "challenger") : NULL);

	cJSON *d = cJSON_AddObjectToObject(r, "durations");
	double total = 0;
	int any = 0;
	for (int i = 0; i < NSTAGES; i++) {
		const cJSON *s = get(get(env, stages[i]), "seconds");
		if (cJSON_IsNumber(s) && isfinite(s->valuedouble) && s->valuedouble >= 0) {
			cJSON_AddNumberToObject(d, stages[i], s->valuedouble);
			total += s->valuedouble;
			any = 1;
		} else {
			cJSON_AddNullToObject(d, stages[i]);
		}
	}
	if (any)
		env_add_number(d, "total", total);
	else
		cJSON_AddNullToObject(d, "total");
	add_copy(r, "seed", cJSON_IsNumber(get(env, "seed")) ? get(env, "seed") : NULL);
	add_copy(r, "series", cJSON_IsObject(get(env, "series")) ? get(env, "series") : NULL);
	add_copy(r, "model", cJSON_IsObject(get(env, "model")) ? get(env, "model") : NULL);
	return r;
}

/* ---------------------------------------------------------------- file */

/* Whole file into *buf (NUL-terminated, caller frees). 1: read, 0: no such
 * file, -1: error. */
static int read_all(const char *path, char **buf, size_t *len, cp_err *e)
{
	int missing;
	*len = 0;
	/* Capped, so that /dev/zero given as the history is refused instead of
	 * read until memory runs out (records are about 5 KB: 250 years of
	 * weekly runs of four horizons). /dev/null reads as an empty history. */
	*buf = cp_read_file(path, HISTORY_MAX_BYTES, len, &missing, e);
	return *buf ? 1 : missing ? 0 : -1;
}

static long count_lines(const char *buf, size_t len)
{
	long n = 0;
	if (!buf || !len)
		return 0;
	for (const char *p = buf; (p = memchr(p, '\n', len - (size_t)(p - buf))); p++)
		n++;
	return n;
}

/* CP_DATA for a torn tail, else 0. */
static int check_torn(const char *path, const char *buf, size_t len, cp_err *e)
{
	if (len == 0 || buf[len - 1] == '\n')
		return 0;
	return cp_fail(e, CP_DATA, "%s:%ld: torn last record (no newline); run 'opt-history repair'",
	               path, count_lines(buf, len) + 1);
}

static int check_record(const char *path, long line, const cJSON *r, cp_err *e)
{
	int32_t day;
	char date[11];
	if (!cJSON_IsObject(r))
		return cp_fail(e, CP_DATA, "%s:%ld: record is not a JSON object", path, line);
	const char *schema = str_or(r, "schema", NULL);
	if (!schema)
		return cp_fail(e, CP_DATA, "%s:%ld: record has no \"schema\"", path, line);
	if (strcmp(schema, HISTORY_SCHEMA))
		return cp_fail(e, CP_DATA, "%s:%ld: unsupported schema '%.64s' (expected '%s')", path,
		               line, schema, HISTORY_SCHEMA);
	const char *hz = str_or(r, "horizon", NULL);
	if (!hz || !cp_name_ok(hz))
		return cp_fail(e, CP_DATA, "%s:%ld: record has no valid \"horizon\"", path, line);
	const char *od = str_or(r, "optimization_date", "");
	snprintf(date, sizeof(date), "%s", od);
	if (strlen(od) < 10 || cp_parse_date(date, &day))
		return cp_fail(e, CP_DATA, "%s:%ld: record has no valid \"optimization_date\"", path,
		               line);
	if (!str_or(r, "outcome", NULL))
		return cp_fail(e, CP_DATA, "%s:%ld: record has no \"outcome\"", path, line);
	return 0;
}

static int parse_all(history *h, const char *path, const char *buf, size_t len, cp_err *e)
{
	long line = 0, cap = 0;
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));  /* never NULL: not torn */
		line++;
		size_t n = (size_t)(nl - p);
		if (n == 0 || (n == 1 && p[0] == '\r'))
			return cp_fail(e, CP_DATA, "%s:%ld: empty line", path, line);
		cJSON *r = cp_json_parse_strict(p, n, e);
		if (!r)
			return cp_prefix(e, "%s:%ld", path, line);
		if (h->n == cap)
			h->rec = cp_realloc(h->rec, (size_t)(cap = cap ? 2 * cap : 64) * sizeof(*h->rec));
		h->rec[h->n++] = r;
		if (check_record(path, line, r, e))
			return -1;
		p = nl + 1;
	}
	return 0;
}

int history_load(history *h, const char *path, long wait_ms, cp_err *e)
{
	char *buf;
	size_t len;
	memset(h, 0, sizeof(*h));
	int got = read_all(path, &buf, &len, e);
	if (got < 0)
		return -1;
	if (got > 0 && check_torn(path, buf, len, NULL)) {
		/* maybe an append in flight: look again while holding the lock */
		cp_lock l;
		if (lock_acquire(&l, path, wait_ms, NULL) == 0) {
			free(buf);
			got = read_all(path, &buf, &len, e);
			lock_release(&l);
			if (got < 0)
				return -1;
		}
	}
	if (got > 0 && (check_torn(path, buf, len, e) || parse_all(h, path, buf, len, e))) {
		free(buf);
		history_free(h);
		return -1;
	}
	free(buf);
	h->path = cp_strdup(path);
	return 0;
}

void history_free(history *h)
{
	if (!h)
		return;
	for (long i = 0; i < h->n; i++)
		cJSON_Delete(h->rec[i]);
	free(h->rec);
	free(h->path);
	memset(h, 0, sizeof(*h));
}

int history_append(const char *path, const cJSON *rec, long wait_ms, long *recno, cp_err *e)
{
	cp_lock l;
	char *buf = NULL;
	size_t len;
	if (lock_acquire(&l, path, wait_ms, e))
		return -1;
	int rc = -1;
	if (read_all(path, &buf, &len, e) < 0 || check_torn(path, buf, len, e))
		goto out;
	char *s = cJSON_PrintUnformatted(rec);
	if (!s) {
		cp_fail(e, CP_INTERNAL, "cannot format a history record");
		goto out;
	}
	size_t n = strlen(s);
	char *line = cp_malloc(n + 2);
	memcpy(line, s, n);
	line[n] = '\n';
	line[n + 1] = '\0';
	free(s);
	if (memchr(line, '\n', n)) {
		/* cJSON escapes control characters: a raw newline cannot happen */
		cp_fail(e, CP_INTERNAL, "history record contains a newline");
	} else if (durable_append(path, line, n + 1, e) == 0) {
		*recno = count_lines(buf, len) + 1;
		rc = 0;
	}
	free(line);
out:
	free(buf);
	lock_release(&l);
	return rc;
}

int history_record_line(cJSON *env, stage_line *ln, void *ctx, cp_err *e)
{
	const history_recorder *hr = ctx;
	double t0 = cp_now();
	char now[21];
	long recno = 0;
	env_utc_now(now);
	cJSON *rec = history_record_new(env, now);
	int bad = history_append(hr->path, rec, hr->wait_ms, &recno, e);
	cJSON_Delete(rec);
	if (bad)
		return STAGE_STOP;
	cJSON *sec = cJSON_CreateObject();
	cJSON_AddStringToObject(sec, "status", "done");
	cJSON_AddStringToObject(sec, "file", hr->path);
	cJSON_AddNumberToObject(sec, "record", (double)recno);
	env_add_number(sec, "seconds", cp_now() - t0);
	env_set(env, "history", sec);
	return STAGE_DONE;
}

/* ------------------------------------------------------------- queries */

static int record_day(const cJSON *r, int32_t *day)
{
	char date[11];
	snprintf(date, sizeof(date), "%s", str_or(r, "optimization_date", ""));
	return cp_parse_date(date, day);
}

long history_select(const history *h, const history_filter *f, long **idx)
{
	long n = 0;
	*idx = cp_malloc((size_t)(h->n ? h->n : 1) * sizeof(**idx));
	for (long i = 0; i < h->n; i++) {
		const cJSON *r = h->rec[i];
		int32_t day = 0;
		if (f && f->horizon && strcmp(str_or(r, "horizon", ""), f->horizon))
			continue;
		if (f && f->has_since && (record_day(r, &day) || day < f->since))
			continue;
		(*idx)[n++] = i;
	}
	if (f && f->limit >= 0 && n > f->limit) {
		memmove(*idx, *idx + (n - f->limit), (size_t)f->limit * sizeof(**idx));
		n = f->limit;
	}
	return n;
}

/* A table cell: printable ASCII kept, anything else '?', cut to width. */
static void cell(char *out, size_t width, const char *s)
{
	size_t i = 0;
	for (; s && s[i] && i < width; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[i] = '\0';
}

static void num_cell(char *out, size_t cap, const cJSON *v, const char *fmt)
{
	if (cJSON_IsNumber(v)) {
		/* too long for the cell (1e300 in %.0f): short form, never cut */
		if (snprintf(out, cap, fmt, v->valuedouble) >= (int)cap)
			snprintf(out, cap, "%.4g", v->valuedouble);
	}
	else if (cJSON_IsString(v))
		cell(out, cap - 1 < 12 ? cap - 1 : 12, v->valuestring);
	else
		snprintf(out, cap, "-");
}

int history_show(FILE *out, const history *h, const history_filter *f, int json, cp_err *e)
{
	long *idx, n = history_select(h, f, &idx);
	if (!json)
		fprintf(out, "%5s  %-20s  %-8s  %-13s  %-24s  %8s  %-8s  %5s  %12s  %9s\n", "#",
		        "optimization_date", "horizon", "outcome", "triggered_by", "degr_pct", "drift",
		        "days", "val_rmse", "seconds");
	for (long k = 0; k < n; k++) {
		const cJSON *r = h->rec[idx[k]];
		if (json) {
			cJSON *c = cJSON_Duplicate(r, 1);
			cJSON_AddNumberToObject(c, "record", (double)(idx[k] + 1));
			char *s = cJSON_PrintUnformatted(c);
			cJSON_Delete(c);
			if (s) {
				fputs(s, out);
				fputc('\n', out);
				free(s);
			}
			continue;
		}
		char date[21], hz[9], oc[14], trig[25], deg[16], drift[13], days[16], rmse[24], secs[24];
		char joined[256] = "";
		size_t used = 0;
		const cJSON *tb = get(r, "triggered_by");
		for (const cJSON *c = cJSON_IsArray(tb) ? tb->child : NULL; c; c = c->next)
			if (cJSON_IsString(c) && used < sizeof(joined) - 1)
				used += (size_t)snprintf(joined + used, sizeof(joined) - used, "%s%s",
				                         used ? "," : "", c->valuestring);
		if (used >= sizeof(joined))
			used = sizeof(joined) - 1;
		cell(date, 20, str_or(r, "optimization_date", "-"));
		cell(hz, 8, str_or(r, "horizon", "-"));
		cell(oc, 13, str_or(r, "outcome", "-"));
		cell(trig, 24, used ? joined : "-");
		num_cell(deg, sizeof(deg), get(r, "performance_degradation_pct"), "%.2f");
		num_cell(drift, sizeof(drift), get(r, "drift_severity"), "%.4g");
		num_cell(days, sizeof(days), get(r, "days_since_last"), "%.0f");
		num_cell(rmse, sizeof(rmse), held_out(r, "rmse"), "%.6g");
		num_cell(secs, sizeof(secs), get(get(r, "durations"), "total"), "%.1f");
		fprintf(out, "%5ld  %-20s  %-8s  %-13s  %-24s  %8s  %-8s  %5s  %12s  %9s\n", idx[k] + 1,
		        date, hz, oc, trig, deg, drift, days, rmse, secs);
	}
	free(idx);
	if (fflush(out) || ferror(out))
		return cp_fail_errno(e, "error writing standard output");
	return 0;
}

const char *history_last(const history *h, const char *horizon, int deployed_only)
{
	for (long i = h->n - 1; i >= 0; i--) {
		const cJSON *r = h->rec[i];
		const char *oc = str_or(r, "outcome", "");
		if (strcmp(str_or(r, "horizon", ""), horizon))
			continue;
		if (!strcmp(oc, "deployed") ||
		    (!deployed_only && (!strcmp(oc, "not_approved") || !strcmp(oc, "challenger_started"))))
			return str_or(r, "optimization_date", NULL);
	}
	return NULL;
}

int history_print_last(FILE *out, const history *h, const char *horizon, int deployed_only,
                       cp_err *e)
{
	if (horizon) {
		const char *d = history_last(h, horizon, deployed_only);
		if (d)
			fprintf(out, "%s\n", d);
	} else {
		for (long i = 0; i < h->n; i++) {
			const char *hz = str_or(h->rec[i], "horizon", "");
			long j;
			for (j = 0; j < i; j++)
				if (!strcmp(str_or(h->rec[j], "horizon", ""), hz))
					break;
			if (j < i)
				continue;  /* reported at its first appearance */
			const char *d = history_last(h, hz, deployed_only);
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "horizon", hz);
			if (d)
				cJSON_AddStringToObject(o, "last", d);
			else
				cJSON_AddNullToObject(o, "last");
			char *s = cJSON_PrintUnformatted(o);
			cJSON_Delete(o);
			if (s) {
				fprintf(out, "%s\n", s);
				free(s);
			}
		}
	}
	if (fflush(out) || ferror(out))
		return cp_fail_errno(e, "error writing standard output");
	return 0;
}

/* ---------------------------------------------------------------- CSV */

static void csv_number(FILE *out, double d)
{
	char buf[32];
	double back;
	if (!isfinite(d))
		return;  /* not a JSON number (1e999 in the file): empty, like null */
	snprintf(buf, sizeof(buf), "%.15g", d);
	if (sscanf(buf, "%lg", &back) != 1 || back != d)
		snprintf(buf, sizeof(buf), "%.17g", d);
	fputs(buf, out);
}

static void csv_string(FILE *out, const char *s)
{
	csv_fwrite(out, s, strlen(s));
}

static void csv_value(FILE *out, const cJSON *v)
{
	if (!v || cJSON_IsNull(v))
		return;
	if (cJSON_IsNumber(v))
		csv_number(out, v->valuedouble);
	else if (cJSON_IsBool(v))
		fputs(cJSON_IsTrue(v) ? "true" : "false", out);
	else if (cJSON_IsString(v))
		csv_string(out, v->valuestring);
	else {
		char *s = cJSON_PrintUnformatted(v);
		if (s) {
			csv_string(out, s);
			free(s);
		}
	}
}

int history_export_csv(FILE *out, const history *h, const history_filter *f, cp_err *e)
{
	long *idx, n = history_select(h, f, &idx);
	fputs(HISTORY_CSV_COLUMNS "\n", out);
	for (long k = 0; k < n; k++) {
		const cJSON *r = h->rec[idx[k]];
		fprintf(out, "%ld", idx[k] + 1);
		static const char *const plain[] = {"run_id", "horizon", "steps", "optimization_date",
		                                    "outcome", "success", "reason"};
		for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
			fputc(',', out);
			csv_value(out, get(r, plain[i]));
		}
		fputc(',', out);
		const cJSON *tb = get(r, "triggered_by");
		if (cJSON_IsArray(tb)) {
			size_t cap = 1, used = 0;
			for (const cJSON *c = tb->child; c; c = c->next)
				if (cJSON_IsString(c))
					cap += strlen(c->valuestring) + 1;
			char *joined = cp_malloc(cap);
			joined[0] = '\0';
			for (const cJSON *c = tb->child; c; c = c->next)
				if (cJSON_IsString(c))
					used += (size_t)snprintf(joined + used, cap - used, "%s%s",
					                         used ? ";" : "", c->valuestring);
			csv_string(out, joined);
			free(joined);
		}
		static const char *const more[] = {"performance_degradation_pct", "drift_severity",
		                                   "days_since_last"};
		for (size_t i = 0; i < 3; i++) {
			fputc(',', out);
			csv_value(out, get(r, more[i]));
		}
		static const char *const cfgm[] = {"validation_rmse", "validation_mape", "validation_mae"};
		for (size_t i = 0; i < 3; i++) {
			fputc(',', out);
			csv_value(out, held_out(r, cfgm[i] + strlen("validation_")));
		}
		static const char *const objs[] = {"config", "validation", "deployment"};
		for (size_t i = 0; i < 3; i++) {
			fputc(',', out);
			csv_value(out, get(r, objs[i]));
		}
		fputc(',', out);
		csv_value(out, get(get(r, "durations"), "total"));
		fputc(',', out);
		csv_value(out, get(r, "seed"));
		fputc('\n', out);
	}
	free(idx);
	if (fflush(out) || ferror(out))
		return cp_fail_errno(e, "error writing standard output");
	return 0;
}

/* -------------------------------------------------------------- repair */

int history_repair(const char *path, long wait_ms, char *moved_to, size_t len, long *line,
                   size_t *bytes, cp_err *e)
{
	cp_lock l;
	char *buf = NULL, *name = NULL;
	size_t n;
	int rc = -1;
	if (lock_acquire(&l, path, wait_ms, e))
		return -1;
	int got = read_all(path, &buf, &n, e);
	if (got < 0)
		goto out;
	if (got == 0 || n == 0 || buf[n - 1] == '\n') {
		rc = 0;
		goto out;
	}
	char *last_nl = memrchr(buf, '\n', n);
	size_t off = last_nl ? (size_t)(last_nl - buf) + 1 : 0;
	char now[21], stamp[17];
	env_utc_now(now);
	/* "YYYY-MM-DDTHH:MM:SSZ" -> "YYYYMMDDTHHMMSSZ" */
	size_t k = 0;
	for (const char *p = now; *p && k < sizeof(stamp) - 1; p++)
		if (*p != '-' && *p != ':')
			stamp[k++] = *p;
	stamp[k] = '\0';
	size_t cap = strlen(path) + 64;
	name = cp_malloc(cap);
	struct stat st;
	int i, free_name = 0;
	for (i = 0; i < 1000 && !free_name; i++) {
		if (i == 0)
			snprintf(name, cap, "%s.torn-%s", path, stamp);
		else
			snprintf(name, cap, "%s.torn-%s.%d", path, stamp, i);
		free_name = lstat(name, &st) != 0;
	}
	if (!free_name) {
		/* never replace an earlier torn record */
		cp_fail(e, CP_IO, "cannot repair '%s': '%s.torn-%s' and .1 to .999 all exist",
		        path, path, stamp);
		goto out;
	}
	if (durable_write(name, buf + off, n - off, e))
		goto out;
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		cp_fail_errno(e, "cannot open '%s'", path);
		goto out;
	}
	if (ftruncate(fd, (off_t)off) != 0 || fsync(fd) != 0) {
		cp_fail_errno(e, "cannot truncate '%s'", path);
		close(fd);
		goto out;
	}
	if (close(fd) != 0) {
		cp_fail_errno(e, "cannot close '%s'", path);
		goto out;
	}
	snprintf(moved_to, len, "%s", name);
	*line = count_lines(buf, off) + 1;
	*bytes = n - off;
	rc = 1;
out:
	free(name);
	free(buf);
	lock_release(&l);
	return rc;
}
