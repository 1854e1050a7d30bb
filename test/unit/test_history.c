/* test_history.c — outcome rules, record contents, loading damaged files,
 * filters, last, and the CSV export read back with libcsv. */
#include "history.h"
#include "tap.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

static const char *outcome_of(const char *json, char *reason, size_t len)
{
	cJSON *env = cJSON_Parse(json);
	static char oc[32];
	snprintf(oc, sizeof(oc), "%s", env ? history_outcome(env, reason, len) : "(bad json)");
	cJSON_Delete(env);
	return oc;
}

static void test_outcome(void)
{
	char r[256];
	CHECK(!strcmp(outcome_of("{\"trigger\":{\"should_optimize\":false,\"summary\":\"calm\"},"
	                         "\"search\":{\"status\":\"skipped\"}}", r, sizeof(r)), "not_triggered") &&
	      !strcmp(r, "not triggered: calm"), "should_optimize false: not_triggered");
	CHECK(!strcmp(outcome_of("{\"deployment\":{\"status\":\"done\",\"action\":\"rollback\","
	                         "\"summary\":\"7d restored\"}}", r, sizeof(r)), "rolled_back") &&
	      !strcmp(r, "rolled back: 7d restored"), "deployment.action rollback: rolled_back");
	CHECK(!strcmp(outcome_of("{\"trigger\":{\"should_optimize\":true}}", r, sizeof(r)),
	              "search_failed") && !strcmp(r, "no search section"),
	      "no search section: search_failed");
	CHECK(!strcmp(outcome_of("{\"search\":{\"status\":\"error\",\"reason\":\"oom\"}}", r, sizeof(r)),
	              "failed") && !strcmp(r, "search failed: oom"), "search error: failed");
	CHECK(!strcmp(outcome_of("{\"search\":{\"status\":\"skipped\",\"reason\":\"quiet\"}}", r, sizeof(r)),
	              "search_failed") && !strcmp(r, "search skipped: quiet"), "search skipped: search_failed");
	CHECK(!strcmp(outcome_of("{\"search\":{\"status\":\"done\"}}", r, sizeof(r)), "search_failed") &&
	      !strcmp(r, "search found no candidate"), "search without a config: search_failed");
	CHECK(!strcmp(outcome_of("{\"search\":{\"status\":\"partial\",\"best\":{}},"
	                         "\"validation\":{\"approved\":false,\"summary\":\"worse\"}}", r, sizeof(r)),
	              "not_approved") && !strcmp(r, "not approved: worse"),
	      "a partial search with best, not approved: not_approved");
	CHECK(!strcmp(outcome_of("{\"search\":{\"status\":\"done\",\"candidate\":{}}}", r, sizeof(r)),
	              "error") && !strcmp(r, "no validation section"), "no validation: error");
	CHECK(!strcmp(outcome_of("{\"search\":{\"status\":\"done\",\"candidate\":{}},"
	                         "\"validation\":{\"status\":\"error\",\"reason\":\"nan\"}}", r, sizeof(r)),
	              "failed") && !strcmp(r, "validation failed: nan"), "validation error: failed");
	const char *ok = "{\"search\":{\"status\":\"done\",\"candidate\":{}},"
	                 "\"validation\":{\"status\":\"done\",\"approved\":true}";
	char buf[512];
	snprintf(buf, sizeof(buf), "%s}", ok);
	CHECK(!strcmp(outcome_of(buf, r, sizeof(r)), "error") && !strcmp(r, "no deployment section"),
	      "approved but no deployment: error");
	snprintf(buf, sizeof(buf), "%s,\"deployment\":{\"status\":\"done\",\"dry_run\":true}}", ok);
	CHECK(!strcmp(outcome_of(buf, r, sizeof(r)), "dry_run") &&
	      !strcmp(r, "dry run: nothing deployed"), "dry_run");
	snprintf(buf, sizeof(buf), "%s,\"deployment\":{\"status\":\"done\",\"deployed\":true}}", ok);
	CHECK(!strcmp(outcome_of(buf, r, sizeof(r)), "deployed") && r[0] == '\0', "deployed");
	snprintf(buf, sizeof(buf), "%s,\"deployment\":{\"status\":\"done\",\"deployed\":false}}", ok);
	CHECK(!strcmp(outcome_of(buf, r, sizeof(r)), "error"), "done but deployed false: error");
	snprintf(buf, sizeof(buf), "%s,\"deployment\":{\"status\":\"error\",\"deployed\":true}}", ok);
	CHECK(!strcmp(outcome_of(buf, r, sizeof(r)), "failed"), "deployed true with status error: failed");
	CHECK(!strcmp(outcome_of("{}", NULL, 0), "search_failed"), "reason may be NULL");

	/* no doubled words: the sections' summaries already say them */
	CHECK(!strcmp(outcome_of("{\"search\":{\"status\":\"done\",\"candidate\":{}},\"validation\":"
	                         "{\"approved\":false,\"summary\":\"not approved: 1 criterion failed (coverage95)\"}}",
	                         r, sizeof(r)), "not_approved") &&
	      !strcmp(r, "not approved: 1 criterion failed (coverage95)"),
	      "the validator's \"not approved: ...\" is not prefixed again");
	snprintf(buf, sizeof(buf), "%s,\"deployment\":{\"status\":\"done\",\"dry_run\":true,"
	         "\"summary\":\"dry run: would deploy the first config\"}}", ok);
	CHECK(!strcmp(outcome_of(buf, r, sizeof(r)), "dry_run") &&
	      !strcmp(r, "dry run: would deploy the first config"), "a dry run's summary is not prefixed again");
	CHECK(!strcmp(outcome_of("{\"deployment\":{\"action\":\"rollback\",\"summary\":"
	                         "\"rolled 'c/7d.json' back to backups/x, commit abc\"}}", r, sizeof(r)), "rolled_back") &&
	      !strcmp(r, "rolled 'c/7d.json' back to backups/x, commit abc"),
	      "a rollback's summary is not prefixed with \"rolled back\"");
	CHECK(!strcmp(outcome_of("{\"trigger\":{\"should_optimize\":false,"
	                         "\"summary\":\"do not optimize 7d: no trigger fired\"}}", r, sizeof(r)),
	              "not_triggered") && !strcmp(r, "not triggered: no trigger fired"),
	      "\"do not optimize 7d: why\" becomes \"not triggered: why\"");
}

static void test_record(void)
{
	cJSON *env = cJSON_Parse(
		"{\"schema\":\"chronopt/1\",\"run_id\":\"r\",\"seed\":9,"
		"\"horizon\":{\"name\":\"30d\",\"steps\":30},"
		"\"trigger\":{\"status\":\"done\",\"should_optimize\":true,\"fired\":[\"drift\",{\"name\":\"time\"},3],"
		"\"drift\":{\"drift_severity\":\"HIGH\",\"ks\":[0.1,0.2]},\"seconds\":1.5},"
		"\"search\":{\"status\":\"done\",\"best\":{\"context_length\":64,\"paths\":[[1,2],[3,4]]},"
		"\"candidate\":{\"context_length\":128,\"validation_rmse\":2.5},\"seconds\":2},"
		"\"validation\":{\"status\":\"done\",\"approved\":true,\"losses\":[1,2,3],"
		"\"reasons\":[\"a\",\"b\"],\"seconds\":\"oops\"},"
		"\"deployment\":{\"status\":\"done\",\"deployed\":true,\"seconds\":0.5}}");
	cJSON *r = history_record_new(env, "2026-11-23T02:00:00Z");
	char *s = cJSON_PrintUnformatted(r);
	const char *want =
		"{\"schema\":\"chronopt-history/1\",\"run_id\":\"r\",\"horizon\":\"30d\",\"steps\":30,"
		"\"optimization_date\":\"2026-11-23T02:00:00Z\",\"outcome\":\"deployed\",\"success\":true,"
		"\"reason\":null,\"triggered_by\":[\"drift\",\"time\"],\"performance_degradation_pct\":null,"
		"\"drift_severity\":\"HIGH\",\"days_since_last\":null,"
		"\"drift\":null,\"performance\":null,"
		"\"validation_rmse\":null,\"validation_mape\":null,\"validation_mae\":null,\"held_out\":null,"
		"\"config\":{\"context_length\":128,\"search_rmse\":2.5},\"pareto\":null,"
		"\"validation\":{\"status\":\"done\",\"approved\":true,\"reasons\":[\"a\",\"b\"],\"seconds\":\"oops\"},"
		"\"deployment\":{\"status\":\"done\",\"deployed\":true,\"seconds\":0.5},\"challenger\":null,"
		"\"durations\":{\"trigger\":1.5,\"search\":2,\"validation\":null,\"deployment\":0.5,\"total\":4},"
		"\"seed\":9,\"series\":null,\"model\":null}";
	if (strcmp(s, want))
		printf("#   got  %s\n#   want %s\n", s, want);
	CHECK(!strcmp(s, want), "a record: candidate preferred, nested trigger field found, "
	      "numeric arrays left out, bad seconds ignored");
	free(s);
	cJSON_Delete(r);
	cJSON_Delete(env);

	/* a refused candidate: the held-out figures, never the search's */
	env = cJSON_Parse(
		"{\"schema\":\"chronopt/1\",\"horizon\":{\"name\":\"7d\",\"steps\":7},"
		"\"search\":{\"status\":\"done\",\"candidate\":{\"context_length\":90,\"validation_rmse\":9.5,"
		"\"validation_mape\":0.9,\"validation_mae\":7.5}},"
		"\"validation\":{\"status\":\"done\",\"approved\":false,\"summary\":\"not approved: 1 criterion failed (x)\","
		"\"windows\":{\"count\":30,\"first_date\":\"2026-08-04\",\"last_date\":\"2026-09-14\"},"
		"\"candidate\":{\"rmse\":11.38,\"mape\":1.1,\"mae\":9.1,\"bias\":-4.4,\"cov95\":0.99,\"crps\":3},"
		"\"incumbent\":null,\"random_walk\":{\"rmse\":11.3,\"mape\":1.0,\"mae\":9,\"bias\":-4.3,\"cov95\":0.9}}}");
	r = history_record_new(env, "2026-11-23T02:00:00Z");
	s = cJSON_PrintUnformatted(r);
	CHECK(strstr(s, "\"reason\":\"not approved: 1 criterion failed (x)\",") &&
	      strstr(s, "\"validation_rmse\":11.38,\"validation_mape\":1.1,\"validation_mae\":9.1,"
	             "\"held_out\":{\"windows\":30,\"first_date\":\"2026-08-04\",\"last_date\":\"2026-09-14\","
	             "\"candidate\":{\"rmse\":11.38,\"mape\":1.1,\"mae\":9.1,\"bias\":-4.4,\"cov95\":0.99},"
	             "\"incumbent\":null,"
	             "\"random_walk\":{\"rmse\":11.3,\"mape\":1,\"mae\":9,\"bias\":-4.3,\"cov95\":0.9}},"
	             "\"config\":{\"context_length\":90,\"search_rmse\":9.5,\"search_mape\":0.9,\"search_mae\":7.5}"),
	      "a refused candidate: validation_* and held_out are the held-out figures, the search's are search_*");
	free(s);
	cJSON_Delete(r);
	cJSON_Delete(env);

	env = cJSON_Parse("{\"schema\":\"chronopt/1\",\"horizon\":{\"name\":\"7d\",\"steps\":7}}");
	r = history_record_new(env, "2026-11-23T02:00:00Z");
	s = cJSON_PrintUnformatted(r);
	CHECK(strstr(s, "\"run_id\":null,") && strstr(s, "\"triggered_by\":null,") &&
	      strstr(s, "\"durations\":{\"trigger\":null,\"search\":null,\"validation\":null,"
	             "\"deployment\":null,\"total\":null}") && strstr(s, "\"seed\":null"),
	      "absent sections are recorded as null");
	free(s);
	cJSON_Delete(r);
	cJSON_Delete(env);
}

static char *path_in(const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static void put(const char *path, const char *s, size_t n)
{
	FILE *fp = fopen(path, "wb");
	fwrite(s, 1, n, fp);
	fclose(fp);
}

#define REC(h, d, oc) "{\"schema\":\"chronopt-history/1\",\"horizon\":\"" h "\"," \
	"\"optimization_date\":\"" d "\",\"outcome\":\"" oc "\"}\n"

static void test_load(void)
{
	history h;
	cp_err e = {0};
	char *p = path_in("h.jsonl"), want[600];

	CHECK(history_load(&h, p, 0, &e) == 0 && h.n == 0, "a missing file is an empty history");
	history_free(&h);
	put(p, "", 0);
	CHECK(history_load(&h, p, 0, &e) == 0 && h.n == 0, "an empty file is an empty history");
	history_free(&h);

	static const struct { const char *text; size_t len; const char *msg; } bad[] = {
		{REC("7d", "2026-01-01", "deployed") "{\"schema\"", 0, "2: torn last record (no newline); run 'opt-history repair'"},
		{"x", 0, "1: torn last record (no newline); run 'opt-history repair'"},
		{REC("7d", "2026-01-01", "deployed") "\n", 0, "2: empty line"},
		{"[1]\n", 0, "1: record is not a JSON object"},
		{"{} {}\n", 0, "1: more than one JSON value (column 4)"},
		{"{\"horizon\":\"7d\"}\n", 0, "1: record has no \"schema\""},
		{"{\"schema\":\"chronopt-history/1\",\"horizon\":\"../x\"}\n", 0, "1: record has no valid \"horizon\""},
		{REC("7d", "2026-02-30", "deployed"), 0, "1: record has no valid \"optimization_date\""},
		{"{\"schema\":\"chronopt-history/1\",\"horizon\":\"7d\",\"optimization_date\":\"2026-01-01\"}\n", 0,
		 "1: record has no \"outcome\""},
		{"{\"a\":\"\0\"}\n", 10, "1: NUL byte at column 7"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(p, bad[i].text, bad[i].len ? bad[i].len : strlen(bad[i].text));
		snprintf(want, sizeof(want), "%s:%s", p, bad[i].msg);
		int rc = history_load(&h, p, 0, &e);
		if (rc == 0 || strcmp(e.msg, want))
			printf("#   got '%s'\n", e.msg);
		CHECK(rc == -1 && e.code == CP_DATA && !strcmp(e.msg, want) && h.n == 0 && !h.rec,
		      bad[i].msg);
	}

	const char *text = REC("7d", "2026-01-01T02:00:00Z", "deployed")
		REC("15d", "2026-01-02T02:00:00Z", "not_triggered")
		REC("7d", "2026-01-08T02:00:00Z", "not_approved")
		REC("7d", "2026-01-15T02:00:00Z", "search_failed")
		REC("15d", "2026-01-16T02:00:00Z", "dry_run");
	put(p, text, strlen(text));
	CHECK(history_load(&h, p, 0, &e) == 0 && h.n == 5, "five records load");
	CHECK(history_last(&h, "7d", 0) && !strcmp(history_last(&h, "7d", 0), "2026-01-08T02:00:00Z"),
	      "last: a not_approved run counts, a failed search does not");
	CHECK(!strcmp(history_last(&h, "7d", 1), "2026-01-01T02:00:00Z"), "last --deployed");
	CHECK(history_last(&h, "15d", 0) == NULL, "last: dry runs and not_triggered never count");
	CHECK(history_last(&h, "90d", 0) == NULL, "last: unknown horizon");

	long *idx;
	history_filter f = {"7d", 0, 0, 2};
	long n = history_select(&h, &f, &idx);
	CHECK(n == 2 && idx[0] == 2 && idx[1] == 3, "select: horizon then the last N");
	free(idx);
	history_filter g = {NULL, 0, 1, -1};
	cp_parse_date("2026-01-08", &g.since);
	n = history_select(&h, &g, &idx);
	CHECK(n == 3 && idx[0] == 2, "select: since is inclusive");
	free(idx);
	history_free(&h);
	free(p);
}

/* ---- the CSV export, read back with libcsv in strict mode ---- */

typedef struct {
	int row, col;
	char *cells[4][32];
	int ncols[4];
} table;

static void on_cell(void *s, size_t len, void *data)
{
	table *t = data;
	if (t->row < 4 && t->col < 32) {
		char *c = malloc(len + 1);
		memcpy(c, s, len);
		c[len] = '\0';
		t->cells[t->row][t->col] = c;
	}
	t->col++;
}

static void on_end(int c, void *data)
{
	table *t = data;
	(void)c;
	if (t->row < 4)
		t->ncols[t->row] = t->col;
	t->row++;
	t->col = 0;
}

static void test_export(void)
{
	const char *hostile = "line one\nline two, \"quoted\"; 'single'\r\nend\t\\";
	cJSON *env = cJSON_CreateObject();
	cJSON_AddStringToObject(env, "schema", "chronopt/1");
	cJSON_AddStringToObject(env, "run_id", "run,\"1\"\n");
	cJSON *hz = cJSON_AddObjectToObject(env, "horizon");
	cJSON_AddStringToObject(hz, "name", "7d");
	cJSON_AddNumberToObject(hz, "steps", 7);
	cJSON *tr = cJSON_AddObjectToObject(env, "trigger");
	cJSON_AddFalseToObject(tr, "should_optimize");
	cJSON_AddStringToObject(tr, "summary", hostile);
	/* 1/3 needs 17 digits (cJSON itself prints values within an epsilon of
	 * their 15-digit form with 15 digits, e.g. 0.1 + 0.2 as 0.3) */
	cJSON_AddNumberToObject(tr, "performance_degradation_pct", 1.0 / 3.0);
	cJSON *rec = history_record_new(env, "2026-11-23T02:00:00Z");
	char *p = path_in("x.jsonl");
	long recno = 0;
	cp_err e = {0};
	CHECK(history_append(p, rec, 0, &recno, &e) == 0 && recno == 1 &&
	      history_append(p, rec, 0, &recno, &e) == 0 && recno == 2, "append numbers records");
	cJSON_Delete(rec);
	cJSON_Delete(env);

	history h;
	char *out = NULL;
	size_t outlen = 0;
	CHECK(history_load(&h, p, 0, &e) == 0 && h.n == 2, "the appended records load");
	FILE *fp = open_memstream(&out, &outlen);
	history_filter f = {NULL, 0, 0, 1};
	CHECK(history_export_csv(fp, &h, &f, &e) == 0, "export succeeds");
	fclose(fp);
	history_free(&h);

	table t;
	memset(&t, 0, sizeof(t));
	struct csv_parser cp;
	csv_init(&cp, CSV_STRICT | CSV_STRICT_FINI);
	int parsed = csv_parse(&cp, out, outlen, on_cell, on_end, &t) == outlen &&
	             csv_fini(&cp, on_cell, on_end, &t) == 0;
	csv_free(&cp);
	CHECK(parsed, "the export is valid CSV for a strict parser");
	CHECK(t.row == 2 && t.ncols[0] == 20 && t.ncols[1] == 20, "a header and one row of 20 fields");
	char want_reason[256];
	snprintf(want_reason, sizeof(want_reason), "not triggered: %s", hostile);
	CHECK(t.cells[1][0] && !strcmp(t.cells[1][0], "2"), "the record number is its line");
	CHECK(t.cells[1][1] && !strcmp(t.cells[1][1], "run,\"1\"\n"), "a hostile run id survives");
	CHECK(t.cells[1][7] && !strcmp(t.cells[1][7], want_reason),
	      "newlines, CRLF, quotes, commas and tabs in a reason survive");
	CHECK(t.cells[1][9] && strtod(t.cells[1][9], NULL) == 1.0 / 3.0,
	      "numbers are written so they read back exactly");
	CHECK(t.cells[1][6] && !strcmp(t.cells[1][6], "false"), "booleans are bare");
	for (int r = 0; r < 4; r++)
		for (int c = 0; c < 32; c++)
			free(t.cells[r][c]);
	free(out);

	/* repair */
	FILE *ap = fopen(p, "ab");
	fputs("{\"torn", ap);
	fclose(ap);
	CHECK(history_load(&h, p, 0, &e) == -1 && e.code == CP_DATA, "the torn tail is seen");
	cJSON *dummy = cJSON_CreateObject();
	CHECK(history_append(p, dummy, 0, &recno, &e) == -1 && e.code == CP_DATA &&
	      strstr(e.msg, ":3: torn last record"), "append refuses to write after a torn tail");
	cJSON_Delete(dummy);
	char moved[600];
	long line = 0;
	size_t bytes = 0;
	setenv("CHRONOPT_NOW", "2026-11-23T02:00:00Z", 1);
	int rc = history_repair(p, 0, moved, sizeof(moved), &line, &bytes, &e);
	char *torn = path_in("x.jsonl.torn-20261123T020000Z");
	CHECK(rc == 1 && line == 3 && bytes == 6 && !strcmp(moved, torn), "repair moves 6 bytes of line 3");
	CHECK(history_load(&h, p, 0, &e) == 0 && h.n == 2, "after repair the history loads");
	history_free(&h);
	CHECK(history_repair(p, 0, moved, sizeof(moved), &line, &bytes, &e) == 0, "nothing more to repair");

	/* every name taken: refused, no earlier torn record is replaced */
	char name[700];
	ap = fopen(p, "ab");
	fputs("{\"again", ap);
	fclose(ap);
	for (int i = 1; i < 1000; i++) {
		snprintf(name, sizeof(name), "%s.%d", torn, i);
		put(name, "old", 3);
	}
	char want[1400];
	snprintf(want, sizeof(want), "cannot repair '%s': '%s' and .1 to .999 all exist", p, torn);
	rc = history_repair(p, 0, moved, sizeof(moved), &line, &bytes, &e);
	int kept = 1;
	for (int i = 1; i < 1000; i++) {
		snprintf(name, sizeof(name), "%s.%d", torn, i);
		FILE *tf = fopen(name, "rb");
		char got[8] = "";
		kept &= tf && fread(got, 1, sizeof(got), tf) == 3 && !memcmp(got, "old", 3);
		if (tf)
			fclose(tf);
		unlink(name);
	}
	CHECK(rc == -1 && e.code == CP_IO && !strcmp(e.msg, want) && kept,
	      "repair with all 1000 names taken fails and replaces none of them");
	unlink(torn);
	unlink(p);
	free(torn);
	free(p);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/test_history.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_outcome();
	test_record();
	test_load();
	test_export();
	char *h = path_in("h.jsonl");
	unlink(h);
	free(h);
	rmdir(dir);
	return tap_done();
}
