/* test_report.c — the dashboard: escaping, record reading, torn tails. */
#include "report.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *escaped(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	report_escape(m, s);
	fclose(m);
	return buf;
}

static void test_escape(void)
{
	char *e = escaped("<a href='x'>\"&\"</a>");
	CHECK(!strcmp(e, "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;"), "markup characters become entities");
	free(e);
	e = escaped("a\001b\nc\td\x7f");
	CHECK(!strcmp(e, "a&#xFFFD;b\nc\td&#xFFFD;"), "control characters other than newline and tab are replaced");
	free(e);
	e = escaped("Ñuñoa €");
	CHECK(!strcmp(e, "Ñuñoa €"), "UTF-8 passes through");
	free(e);
	e = escaped("a\xff\xfe b\xc3 c\xc0\xaf d\xed\xa0\x80 e\xc2\x85 f\xe2\x82");
	CHECK(!strcmp(e, "a&#xFFFD;&#xFFFD; b&#xFFFD; c&#xFFFD;&#xFFFD; d&#xFFFD;&#xFFFD;&#xFFFD; e&#xFFFD; f&#xFFFD;&#xFFFD;"),
	      "bytes that are not UTF-8 and C1 controls become U+FFFD: the page stays valid UTF-8");
	free(e);
	e = escaped(NULL);
	CHECK(!strcmp(e, ""), "NULL writes nothing");
	free(e);
}

static void test_get(void)
{
	cJSON *j = cJSON_Parse("{\"a\":{\"b\":{\"c\":3}},\"s\":\"x\"}");
	CHECK(cJSON_IsNumber(report_get(j, "a.b.c")) && report_get(j, "a.b.c")->valueint == 3, "dotted path");
	CHECK(report_get(j, "a.x.c") == NULL, "missing step gives NULL");
	CHECK(report_get(j, "s.t") == NULL, "a string has no members");
	cJSON_Delete(j);
}

static const char *write_tmp(char *path, const char *text)
{
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	return path;
}

static void test_load(void)
{
	char p[] = "/tmp/test_report.XXXXXX";
	write_tmp(p,
	          "{\"schema\":\"chronopt-history/1\",\"horizon\":\"7d\",\"optimization_date\":\"2026-11-01T05:00:00Z\","
	          "\"outcome\":\"deployed\",\"validation\":{\"approved\":true,\"incumbent\":{\"rmse\":5.0},"
	          "\"candidate\":{\"rmse\":4.5}}}\n"
	          "{\"schema\":\"chronopt-history/1\",\"horizon\":\"7d\",\"optimization_date\":\"2026-11-08T05:00:00Z\","
	          "\"outcome\":\"not_triggered\",\"reason\":\"calm\"}\n"
	          "{\"schema\":\"chronopt-history/1\",\"horizon\":\"../x\",\"optimization_date\":\"bad\","
	          "\"outcome\":\"rolled_back\"}\n"
	          "{\"schema\":\"chronopt-history/1\",\"hori");
	report_data r;
	report_init(&r);
	cp_err e = {0};
	int rc = report_load(&r, p, &e);
	CHECK(rc == 0 && r.n == 3 && r.torn_tail == 1, "three records, torn last line left out");
	CHECK(r.recs[0].deployed == 1 && r.recs[0].triggered == 1 && r.recs[0].approved == 1,
	      "deployed record: triggered, approved, deployed");
	CHECK_NEAR(r.recs[0].rmse_before, 5.0, 0, "RMSE before from validation.incumbent");
	CHECK_NEAR(r.recs[0].rmse_after, 4.5, 0, "RMSE after from validation.candidate");
	CHECK(r.recs[1].triggered == 0 && r.recs[1].deployed == 0 && r.recs[1].approved == -1,
	      "not_triggered record");
	CHECK(r.recs[1].day - r.recs[0].day == 7, "dates become day numbers");
	CHECK(r.recs[2].rollback == 1 && r.recs[2].horizon[0] == '\0' && r.recs[2].day == INT32_MIN,
	      "a horizon that is not a plain name and a bad date are not used");

	char *html = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&html, &len);
	rc = report_html(m, &r, NULL, "2026-11-23T00:00:00Z", &e);
	fclose(m);
	CHECK(rc == 0 && strstr(html, "1 of 1 approved (100%)") != NULL, "success rate in the page");
	CHECK(strstr(html, "-10.0%") != NULL, "relative RMSE change of the deployment");
	CHECK(strstr(html, "is incomplete") != NULL, "the page says the last line was torn");
	CHECK(strstr(html, "../x") == NULL, "the bad horizon name is not shown");
	free(html);
	report_release(&r);
	unlink(p);

	char q[] = "/tmp/test_report.XXXXXX";
	write_tmp(q, "{\"horizon\":\"7d\"}\nnot json\n{}\n");
	report_init(&r);
	rc = report_load(&r, q, &e);
	CHECK(rc == -1 && e.code == CP_DATA && strstr(e.msg, ":2: invalid JSON") != NULL,
	      "a bad line in the middle is bad input naming the line");
	report_release(&r);
	unlink(q);

	report_init(&r);
	rc = report_load(&r, "/nonexistent/history.jsonl", &e);
	CHECK(rc == 0 && r.missing == 1 && r.n == 0, "a missing history is an empty report");
	report_release(&r);
}

/* A deployed config's settings read the same in the table and the
 * horizon's box; a setting that is not a number is "n/a", never its text. */
static void test_config_settings(void)
{
	char dir[] = "/tmp/test_report_cfg.XXXXXX";
	if (!mkdtemp(dir))
		abort();
	char cfg[64];
	snprintf(cfg, sizeof(cfg), "%s/7d.json", dir);
	FILE *f = fopen(cfg, "w");
	if (!f)
		abort();
	fputs("{\"horizon\":\"7d\",\"context_length\":\"512x\",\"num_samples\":true,\"temperature\":0.7,"
	      "\"validation_rmse\":4.5,\"deployed_at\":\"2026-11-01T05:00:00Z\"}\n", f);
	fclose(f);
	char p[] = "/tmp/test_report.XXXXXX";
	write_tmp(p, "{\"schema\":\"chronopt-history/1\",\"horizon\":\"7d\","
	             "\"optimization_date\":\"2026-11-01T05:00:00Z\",\"outcome\":\"deployed\"}\n");
	report_data r;
	report_init(&r);
	cp_err e = {0};
	char *html = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&html, &len);
	int rc = report_load(&r, p, &e);
	if (rc == 0)
		rc = report_html(m, &r, dir, "2026-11-23T00:00:00Z", &e);
	fclose(m);
	const char *want = "context n/a, samples n/a, temperature 0.7";
	const char *first = strstr(html, want);
	CHECK(rc == 0 && first && strstr(first + 1, want), "the table and the horizon's box both show the settings");
	CHECK(!strstr(html, "512x") && !strstr(html, "samples yes"), "a malformed setting is not shown as text");
	free(html);
	report_release(&r);
	unlink(p);
	unlink(cfg);
	rmdir(dir);
}

int main(void)
{
	test_escape();
	test_get();
	test_load();
	test_config_settings();
	return tap_done();
}
