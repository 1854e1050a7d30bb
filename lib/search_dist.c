/* search_dist.c — see search_dist.h. */
#include "search_dist.h"
#include "envelope.h"
#include "forecast.h"
#include "sha256.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int sr_load_series(series *s, const char *path, const char *id, int length, const char *last,
                   series_missing missing, cp_err *e)
{
	if (series_load_missing(s, path, id && *id ? id : NULL, 1, missing, e) < 0)
		return -1;
	char d[11];
	cp_format_date(s->day[s->n - 1], d);
	if (s->n != length) {
		cp_fail(e, CP_DATA, "%s: series changed since the envelope was made (length %d, now %d)",
		        path, length, s->n);
	} else if (strcmp(d, last) != 0) {
		cp_fail(e, CP_DATA,
		        "%s: series changed since the envelope was made (last date %s, now %s)", path,
		        last, d);
	} else {
		return 0;
	}
	series_free(s);
	return -1;
}

int sr_env_series(const cJSON *env, series *s, const char *where, cp_err *e)
{
	const char *path = env_string(env, "series", "path");
	const char *id = env_string(env, "series", "id");
	const char *last = env_string(env, "series", "last_date");
	const cJSON *len =
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(env, "series"), "length");
	series_missing missing;
	if (!path || !last || !cJSON_IsNumber(len))
		return cp_fail(e, CP_DATA,
		               "%s: envelope has no complete \"series\" (path, last_date, length)", where);
	if (env_series_missing(env, &missing, e) < 0)
		return cp_prefix(e, "%s", where);
	return sr_load_series(s, path, id, len->valueint, last, missing, e);
}

static void set_item(cJSON *obj, const char *key, cJSON *v)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v);
	else
		cJSON_AddItemToObject(obj, key, v);
}

void sr_env_model(cJSON *env, const char *dir, const char *sha)
{
	cJSON *m = cJSON_GetObjectItemCaseSensitive(env, "model");
	if (!cJSON_IsObject(m)) {
		m = cJSON_CreateObject();
		env_set(env, "model", m);
	}
	set_item(m, "dir", cJSON_CreateString(dir));
	set_item(m, "sha256", sha && *sha ? cJSON_CreateString(sha) : cJSON_CreateNull());
}

int sr_model_unchanged(const char *dir, const char *want, cp_err *e)
{
	struct stat st;
	if (!*want || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return 0;
	size_t n = strlen(dir) + 32;
	char *p = cp_malloc(n), hex[65];
	snprintf(p, n, "%s/model.safetensors", dir);
	int rc = sha256_file(p, hex, e);
	free(p);
	if (rc < 0)
		return -1;
	if (strcmp(hex, want) != 0)
		return cp_fail(e, CP_DATA, "%s: model.safetensors changed since the plan was made", dir);
	return 0;
}

cJSON *sr_unit_line(long line, int unit, int units, cJSON *env, cJSON *plan, const sr_unit *u,
                    const char *skip, cJSON *error)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "schema", SR_UNIT_SCHEMA);
	cJSON_AddNumberToObject(j, "line", (double)line);
	cJSON_AddNumberToObject(j, "unit", unit);
	cJSON_AddNumberToObject(j, "units", units);
	cJSON_AddItemReferenceToObject(j, "envelope", env);
	if (!u) {
		if (error)
			cJSON_AddItemToObject(j, "error", error);
		else
			cJSON_AddStringToObject(j, "skip", skip);
		return j;
	}
	cJSON_AddItemReferenceToObject(j, "plan", plan);
	cJSON_AddItemToObject(j, "work", sr_unit_json(u));
	return j;
}

int sr_run_unit_line(cJSON *j, cp_err *e)
{
	set_item(j, "schema", cJSON_CreateString(SR_RESULT_SCHEMA));
	if (cJSON_GetObjectItemCaseSensitive(j, "skip") || cJSON_GetObjectItemCaseSensitive(j, "error"))
		return 0;
	sr_search S;
	sr_unit u = {0};
	series s = {0};
	forecaster *f = NULL, *rw = NULL;
	sr_result res = {0};
	int rc = -1;
	if (sr_plan_from_json(&S, cJSON_GetObjectItemCaseSensitive(j, "plan"), e) == 0 &&
	    sr_unit_from_json(&S, cJSON_GetObjectItemCaseSensitive(j, "work"), &u, e) == 0 &&
	    sr_load_series(&s, S.series_path, S.series_id, S.series_len, S.series_last, S.series_missing, e) == 0 &&
	    sr_model_unchanged(S.model_dir, S.sha256, e) == 0 &&
	    (f = forecaster_open(S.model_dir, e)) && (rw = baseline_new("random_walk", 1, e)) &&
	    sr_run_unit(&S, &u, &s, f, rw, &res, e) == 0) {
		cJSON_AddItemToObject(j, "result", sr_result_json(&res));
		rc = 0;
	}
	sr_result_release(&res);
	if (f)
		f->free(f);
	if (rw)
		rw->free(rw);
	series_free(&s);
	free(u.tr);
	free(u.win);
	sr_release(&S);
	return rc;
}

/* --------------------------------------------------------------- reduce */

typedef struct {
	long line;
	int unit, units;
	cJSON *j;
} entry;

static int cmp_entry(const void *a, const void *b)
{
	const entry *x = a, *y = b;
	if (x->line != y->line)
		return (x->line > y->line) - (x->line < y->line);
	return (x->unit > y->unit) - (x->unit < y->unit);
}

static const cJSON *item(const cJSON *j, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(j, k);
}

/* The envelope of one line with its section; caller owns it. */
static cJSON *reduce_line(const entry *E, int n, cp_err *e)
{
	long L = E[0].line;
	int k = E[0].units;
	for (int i = 0; i < n; i++) {
		if (E[i].units != k)
			return cp_fail(e, CP_DATA, "<stdin>: envelope %ld: results disagree on the number of units",
			               L), NULL;
		if (i > 0 && E[i].unit == E[i - 1].unit)
			return cp_fail(e, CP_DATA, "<stdin>: envelope %ld: unit %d appears twice", L,
			               E[i].unit), NULL;
		if (i > 0 && (!cJSON_Compare(item(E[i].j, "plan"), item(E[0].j, "plan"), 1) ||
		              !cJSON_Compare(item(E[i].j, "envelope"), item(E[0].j, "envelope"), 1)))
			return cp_fail(e, CP_DATA, "<stdin>: envelope %ld: results come from different plans",
			               L), NULL;
	}
	if (n != k)
		return cp_fail(e, CP_DATA, "<stdin>: envelope %ld: %d of %d unit results missing", L,
		               k - n, k), NULL;
	cJSON *env = cJSON_Duplicate(item(E[0].j, "envelope"), 1);
	if (!cJSON_IsObject(env)) {
		cJSON_Delete(env);
		return cp_fail(e, CP_DATA, "<stdin>: envelope %ld: result has no \"envelope\"", L), NULL;
	}
	if (env_check(env, e) < 0) { /* it goes out as an envelope: the same schema */
		cJSON_Delete(env);
		return cp_prefix(e, "<stdin>: envelope %ld", L), NULL;
	}
	const cJSON *skip = item(E[0].j, "skip"), *err = item(E[0].j, "error");
	if (cJSON_IsObject(err)) {
		env_set(env, "search", cJSON_Duplicate(err, 1));
		return env;
	}
	if (cJSON_IsString(skip)) {
		env_set(env, "search", env_skipped(skip->valuestring));
		return env;
	}
	sr_search S;
	if (sr_plan_from_json(&S, item(E[0].j, "plan"), e) < 0) {
		cJSON_Delete(env);
		sr_release(&S);
		return cp_prefix(e, "<stdin>: envelope %ld", L), NULL;
	}
	S.units_total = k;
	for (int i = 0; i < n; i++) {
		sr_unit u;
		sr_result r;
		int bad = sr_unit_from_json(&S, item(E[i].j, "work"), &u, e) < 0;
		if (!bad && sr_result_from_json(item(E[i].j, "result"), &u, &r, e) < 0) {
			free(u.tr);
			free(u.win);
			bad = 1;
		}
		if (bad) {
			cJSON_Delete(env);
			sr_release(&S);
			return cp_prefix(e, "<stdin>: envelope %ld unit %d", L, E[i].unit), NULL;
		}
		sr_absorb(&S, &u, &r);
		sr_result_release(&r);
		free(u.tr);
		free(u.win);
	}
	char now[21];
	const char *run_id = env_string(env, NULL, "run_id");
	env_utc_now(now);
	env_set(env, "search", sr_section(&S, run_id ? run_id : "", now, S.unit_seconds));
	sr_env_model(env, S.model_dir, S.sha256);
	sr_release(&S);
	return env;
}

int sr_reduce(cJSON **results, int n, int (*emit)(cJSON *env, void *ctx, cp_err *e), void *ctx,
              cp_err *e)
{
	entry *E = cp_calloc((size_t)n + 1, sizeof(entry));
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		const cJSON *l = item(results[i], "line"), *u = item(results[i], "unit");
		const cJSON *k = item(results[i], "units");
		if (!cJSON_IsNumber(l) || !cJSON_IsNumber(u) || !cJSON_IsNumber(k) || l->valuedouble < 1 ||
		    k->valueint < 1 || u->valueint < 0 || u->valueint >= k->valueint)
			rc = cp_fail(e, CP_DATA, "<stdin>: result %d needs \"line\", \"unit\" and \"units\"",
			             i + 1);
		else
			E[i] = (entry){(long)l->valuedouble, u->valueint, k->valueint, results[i]};
	}
	if (rc == 0)
		qsort(E, (size_t)n, sizeof(entry), cmp_entry);
	for (int i = 0; i < n && rc == 0;) {
		int m = i;
		while (m < n && E[m].line == E[i].line)
			m++;
		cJSON *env = reduce_line(E + i, m - i, e);
		rc = env ? emit(env, ctx, e) : -1;
		cJSON_Delete(env);
		i = m;
	}
	free(E);
	return rc;
}
