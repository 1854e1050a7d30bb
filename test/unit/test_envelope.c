/* test_envelope.c — envelope reading, writing, stop rules; settings. */
#include "envelope.h"
#include "settings.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_one(const char *text, cJSON **out, cp_err *e)
{
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	env_reader r;
	env_reader_init(&r, fp, "<stdin>");
	int rc = env_read(&r, out, e);
	env_reader_release(&r);
	fclose(fp);
	return rc;
}

/* A stream of `left` bytes of `fill`, then EOF, or a read error (EIO)
 * when `fail` is set; no memory behind it. */
typedef struct {
	size_t left;
	char fill;
	int fail;
} gen;

static ssize_t gen_read(void *c, char *buf, size_t size)
{
	gen *g = c;
	if (g->left == 0) {
		if (g->fail) {
			errno = EIO;
			return -1;
		}
		return 0;
	}
	size_t n = size < g->left ? size : g->left;
	memset(buf, g->fill, n);
	g->left -= n;
	return (ssize_t)n;
}

/* env_read on the generated stream, with max_line (0: the default). */
static int read_gen(gen *g, size_t max_line, cJSON **out, cp_err *e)
{
	cookie_io_functions_t io = {.read = gen_read};
	FILE *fp = fopencookie(g, "r", io);
	env_reader r;
	env_reader_init(&r, fp, "<stdin>");
	if (max_line)
		r.max_line = max_line;
	int rc = env_read(&r, out, e);
	env_reader_release(&r);
	fclose(fp);
	return rc;
}

static int read_max(const char *text, size_t max_line, cJSON **out, cp_err *e)
{
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	env_reader r;
	env_reader_init(&r, fp, "<stdin>");
	r.max_line = max_line;
	int rc = env_read(&r, out, e);
	env_reader_release(&r);
	fclose(fp);
	return rc;
}

int main(void)
{
	cp_err e = {0};
	cJSON *j = NULL;

	CHECK(read_one("", &j, &e) == 0, "empty input is end of input");
	CHECK(read_one("\n  \n", &j, &e) == 0, "blank lines are skipped");
	CHECK(read_one("{\"schema\":\"chronopt/1\"\n", &j, &e) < 0 && e.code == CP_DATA &&
	      strstr(e.msg, "<stdin>:1: invalid JSON"), "broken JSON names the line");
	CHECK(read_one("\n[1,2]\n", &j, &e) < 0 && strcmp(e.msg, "<stdin>:2: envelope is not a JSON object") == 0,
	      "a non-object is rejected with its line number");
	CHECK(read_one("{\"a\":1}\n", &j, &e) < 0 && strcmp(e.msg, "<stdin>:1: envelope has no \"schema\"") == 0,
	      "missing schema is rejected");
	CHECK(read_one("{\"schema\":\"chronopt/9\",\"horizon\":{\"name\":\"7d\",\"steps\":7}}\n", &j, &e) < 0 &&
	      strstr(e.msg, "unsupported schema 'chronopt/9'"), "unknown schema version is rejected");
	CHECK(read_one("{\"schema\":\"chronopt/1\",\"horizon\":{\"name\":\"../x\",\"steps\":7}}\n", &j, &e) < 0 &&
	      strstr(e.msg, "not a plain name"), "hostile horizon name is rejected");
	CHECK(read_one("{\"schema\":\"chronopt/1\",\"horizon\":{\"name\":\"7d\",\"steps\":7.5}}\n", &j, &e) < 0,
	      "fractional steps are rejected");
	CHECK(read_one("{\"schema\":\"chronopt/1\",\"horizon\":{\"name\":\"7d\",\"steps\":7}} {}\n", &j, &e) < 0 &&
	      strstr(e.msg, "more than one JSON value"), "two values on one line are rejected");

	const char *good = "{\"schema\":\"chronopt/1\",\"run_id\":\"r\",\"seed\":42,\"horizon\":{\"name\":\"7d\",\"steps\":7},"
	                   "\"custom\":{\"x\":[1,2,3]}}\n";
	CHECK(read_one("{\"schema\":\"chronopt/1\",\"run_id\":\"r\xff\",\"horizon\":{\"name\":\"7d\",\"steps\":7}}\n",
	               &j, &e) < 0 && e.code == CP_DATA && strcmp(e.msg, "<stdin>:1: not UTF-8 at column 35") == 0,
	      "a line that is not UTF-8 is refused, naming the column");
	CHECK(cp_utf8_bad("plain \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80") == NULL, "1- to 4-byte sequences are UTF-8");
	CHECK(cp_utf8_bad("a\xc0\xaf") != NULL, "an overlong form is not");
	CHECK(cp_utf8_bad("a\xed\xa0\x80") != NULL, "a surrogate is not");
	CHECK(cp_utf8_bad("a\xf4\x90\x80\x80") != NULL, "past U+10FFFF is not");
	const char trunc[] = "ab\xe2\x82";
	CHECK(cp_utf8_bad(trunc) == trunc + 2, "a truncated sequence is not, and the first bad byte is named");
	CHECK(read_one(good, &j, &e) == 1, "a good envelope is read");
	uint64_t seed = 0;
	CHECK(env_seed(j, &seed, &e) == 0 && seed == 42, "seed is read");
	CHECK(env_stop_reason(j, "search", (char[256]){0}, 256) == NULL, "no stage said stop");

	char buf[256];
	cJSON *t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "status", "done");
	cJSON_AddFalseToObject(t, "should_optimize");
	cJSON_AddStringToObject(t, "summary", "no trigger fired");
	env_set(j, "trigger", t);
	const char *why = env_stop_reason(j, "search", buf, sizeof buf);
	CHECK(why && strcmp(why, "not triggered: no trigger fired") == 0, "trigger false stops later stages");
	CHECK(env_stop_reason(j, "trigger", buf, sizeof buf) == NULL, "a stage does not stop itself");

	cJSON *val = cJSON_CreateObject();
	cJSON_AddFalseToObject(val, "approved");
	cJSON_AddStringToObject(val, "summary", "not approved: 2 criteria failed");
	cJSON *j2 = cJSON_Duplicate(j, 1);
	cJSON_DeleteItemFromObject(j2, "trigger");
	env_set(j2, "validation", val);
	why = env_stop_reason(j2, "deployment", buf, sizeof buf);
	CHECK(why && strcmp(why, "not approved: 2 criteria failed") == 0,
	      "a validation summary that already says 'not approved' is not repeated");
	cJSON_Delete(j2);

	env_set(j, "search", env_skipped("not triggered: no trigger fired"));
	why = env_stop_reason(j, "validation", buf, sizeof buf);
	CHECK(why != NULL, "skip carries on to the next stage");

	/* Pass-through: unknown fields survive a write/read round trip. */
	char *mem = NULL;
	size_t memlen = 0;
	FILE *out = open_memstream(&mem, &memlen);
	CHECK(env_write(out, j, &e) == 0, "envelope is written");
	fclose(out);
	CHECK(memlen > 0 && mem[memlen - 1] == '\n' && memchr(mem, '\n', memlen) == mem + memlen - 1,
	      "written as exactly one line");
	cJSON *back = NULL;
	CHECK(read_one(mem, &back, &e) == 1, "written envelope reads back");
	CHECK(cJSON_Compare(j, back, 1), "round trip keeps every field");
	free(mem);
	cJSON_Delete(back);
	cJSON_Delete(j);

	/* The largest seed survives a write and a read exactly; one more is refused. */
	j = env_new("r", CP_SEED_MAX, "s.csv", NULL, "2026-01-02", 10, "7d", 7, NULL);
	out = open_memstream(&mem, &memlen);
	CHECK(env_write(out, j, &e) == 0, "an envelope with the largest seed is written");
	fclose(out);
	uint64_t big = 0;
	CHECK(read_one(mem, &back, &e) == 1 && env_seed(back, &big, &e) == 0 && big == CP_SEED_MAX,
	      "the largest seed reads back exactly");
	free(mem);
	cJSON_Delete(back);
	cJSON_ReplaceItemInObject(j, "seed", cJSON_CreateNumber(1e15));
	CHECK(env_seed(j, &big, &e) < 0 && strcmp(e.msg, "envelope \"seed\" must be an integer in 0..999999999999999") == 0,
	      "a seed of 16 digits is refused");
	cJSON_Delete(j);

	setenv("CHRONOPT_NOW", "2026-11-23T10:20:30Z", 1);
	char now[21];
	env_utc_now(now);
	CHECK(strcmp(now, "2026-11-23T10:20:30Z") == 0, "CHRONOPT_NOW pins the clock");
	int32_t d;
	cp_parse_date("2026-11-23", &d);
	CHECK(env_today() == d, "today follows CHRONOPT_NOW");

	/* Dates. */
	char ds[11];
	CHECK(cp_parse_date("2024-02-29", &d) == 0, "leap day is a date");
	cp_format_date(d, ds);
	CHECK(strcmp(ds, "2024-02-29") == 0, "date round trip");
	CHECK(cp_parse_date("2023-02-29", &d) < 0, "2023-02-29 is not a date");
	CHECK(cp_parse_date("2024-13-01", &d) < 0, "month 13 is not a date");
	CHECK(cp_parse_date("2024-1-01", &d) < 0, "non-ISO date is rejected");
	cp_parse_date("1970-01-01", &d);
	CHECK(d == 0, "epoch is day 0");

	/* Settings. */
	cJSON *s = cJSON_Parse("{\"horizons\":{\"1w\":5,\"2w\":10},\"trigger\":{\"x\":1.5,\"bad\":\"a\"}}");
	horizon_def *h;
	int nh;
	CHECK(settings_horizons(s, &h, &nh, &e) == 0 && nh == 2 && h[1].steps == 10 &&
	      strcmp(h[1].name, "2w") == 0, "horizons come from settings");
	free(h);
	horizon_def one;
	CHECK(settings_horizon(s, "7d", &one, &e) < 0 && e.code == CP_USAGE, "unknown horizon is a usage error");
	double v = 0;
	CHECK(settings_number(s, "trigger.x", &v, &e) == 1 && v == 1.5, "dotted number lookup");
	CHECK(settings_number(s, "trigger.none", &v, &e) == 0, "absent setting is 0");
	CHECK(settings_number(s, "trigger.bad", &v, &e) < 0 && e.code == CP_DATA, "non-number setting is an error");
	cJSON_Delete(s);
	s = cJSON_CreateObject();
	CHECK(settings_horizons(s, &h, &nh, &e) == 0 && nh == 4 && h[3].steps == 90, "default horizons 7/15/30/90");
	free(h);
	cJSON_Delete(s);
	s = cJSON_Parse("{\"horizons\":{\"../x\":5}}");
	CHECK(settings_horizons(s, &h, &nh, &e) < 0 && e.code == CP_DATA, "hostile horizon name in settings rejected");
	cJSON_Delete(s);
	/* line length limit: input without newlines cannot exhaust memory */
	{
		env_reader r0;
		env_reader_init(&r0, stdin, "<stdin>");
		CHECK(r0.max_line == ENV_LINE_MAX && ENV_LINE_MAX >= ((size_t)1 << 20),
		      "the reader's default line limit is ENV_LINE_MAX");
		env_reader_release(&r0);
		const char *line = "{\"schema\":\"chronopt/1\",\"run_id\":\"r\",\"seed\":1,"
		                   "\"horizon\":{\"name\":\"7d\",\"steps\":7}}\n";
		size_t len = strlen(line);
		cJSON *jj = NULL;
		CHECK(read_max(line, len, &jj, &e) == 1, "a line of exactly max_line bytes is read");
		cJSON_Delete(jj);
		char want[128];
		snprintf(want, sizeof(want), "<stdin>:1: line is longer than %zu bytes", len - 1);
		CHECK(read_max(line, len - 1, &jj, &e) == -1 && e.code == CP_DATA && !strcmp(e.msg, want),
		      "a line of max_line + 1 bytes is bad input naming the line");
		gen g = {(size_t)8 << 20, 'x', 0};
		CHECK(read_gen(&g, (size_t)1 << 20, &jj, &e) == -1 && e.code == CP_DATA &&
		      strstr(e.msg, "line is longer than 1048576 bytes") && g.left >= ((size_t)6 << 20),
		      "8 MiB without a newline stops at the limit, without reading the rest");
		gen bad = {100, ' ', 1};
		CHECK(read_gen(&bad, 0, &jj, &e) == -1 && e.code == CP_IO &&
		      !strcmp(e.msg, "<stdin>: read error: Input/output error"),
		      "a read error in the middle of a line is an I/O error, not the end of input");
	}
	return tap_done();
}
