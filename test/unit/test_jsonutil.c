/* test_jsonutil.c — the shared small helpers: cp_json_path, fc_config_json,
 * settings_integer, cp_opt_int. */
#include "common.h"
#include "forecast.h"
#include "jsonutil.h"
#include "settings.h"
#include "tap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	cJSON *j = cJSON_Parse("{\"a\":{\"b\":{\"c\":3}},\"s\":\"x\",\"l\":[{\"k\":1}],\"\":{\"e\":2}}");
	CHECK(cJSON_IsNumber(cp_json_path(j, "a.b.c")) && cp_json_path(j, "a.b.c")->valueint == 3,
	      "a dotted path reaches a nested member");
	CHECK(cp_json_path(j, "") == j, "the empty path is the object itself");
	CHECK(cp_json_path(j, "a.x.c") == NULL, "a missing step gives NULL");
	CHECK(cp_json_path(j, "s.t") == NULL, "a string has no members");
	CHECK(cp_json_path(j, "l.k") == NULL, "an array has no members");
	CHECK(cp_json_path(NULL, "a") == NULL, "NULL in, NULL out");
	char longkey[200];
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	CHECK(cp_json_path(j, longkey) == NULL, "a step longer than 127 bytes never matches");
	CHECK(settings_node(j, "a.b") == cp_json_path(j, "a.b"), "settings_node is cp_json_path");

	cp_err e = {0};
	int v = -1;
	CHECK(settings_integer(j, "a.b.c", 1, 5, &v, &e) == 1 && v == 3, "an integer setting in range is set");
	CHECK(settings_integer(j, "a.b.none", 1, 5, &v, &e) == 0 && v == 3, "an absent setting leaves *out");
	CHECK(settings_integer(j, "a.b.c", 4, 5, &v, &e) == -1 && e.code == CP_DATA &&
	      !strcmp(e.msg, "settings: \"a.b.c\" must be an integer in 4..5") && v == 3,
	      "out of range is CP_DATA naming the path and range");
	cJSON_Delete(j);
	j = cJSON_Parse("{\"t\":{\"x\":2.5}}");
	CHECK(settings_integer(j, "t.x", 0, 9, &v, &e) == -1 && e.code == CP_DATA, "a fraction is refused");
	cJSON_Delete(j);

	fc_config c = {180, 100, 0.7, 50, 0.9};
	cJSON *k = fc_config_json(&c);
	char *s = cJSON_PrintUnformatted(k);
	CHECK(!strcmp(s, "{\"context_length\":180,\"num_samples\":100,\"temperature\":0.7,\"top_k\":50,\"top_p\":0.9}"),
	      "fc_config_json writes the five settings in the envelope's order");
	free(s);
	cJSON_Delete(k);
	c.temperature = NAN;
	k = cJSON_CreateObject();
	cJSON_AddStringToObject(k, "horizon", "7d");
	fc_config_add_json(k, &c);
	s = cJSON_PrintUnformatted(k);
	CHECK(!strcmp(s, "{\"horizon\":\"7d\",\"context_length\":180,\"num_samples\":100,\"temperature\":null,"
	                 "\"top_k\":50,\"top_p\":0.9}"),
	      "fc_config_add_json appends after existing keys; a non-finite number is null");
	free(s);
	cJSON_Delete(k);

	v = 7;
	CHECK(cp_opt_int("--jobs", "12", 1, 256, &v, &e) == 0 && v == 12, "an integer option in range");
	CHECK(cp_opt_int("--jobs", "0", 1, 256, &v, &e) == -1 && e.code == CP_USAGE &&
	      !strcmp(e.msg, "--jobs: '0' is not an integer in 1..256") && v == 12,
	      "out of range is CP_USAGE with the standard message");
	CHECK(cp_opt_int("--jobs", "3x", 1, 256, &v, &e) == -1 && v == 12, "trailing junk is refused");
	/* cp_json_parse_strict: what cJSON lets through, refused with the
	 * problem named; what is fine, parsed. */
	static const struct { const char *in; size_t len; const char *msg; } strict[] = {
		{"{\"a\":1,\"a\":2}", 0, "duplicate key 'a'"},
		{"{\"h\":{\"n\":1,\"m\":2,\"n\":3}}", 0, "duplicate key 'n' in 'h'"},
		{"[{\"x\":{\"y\":1,\"y\":1}}]", 0, "duplicate key 'y' in 'x'"},
		{"{\"a\":\"x\001y\"}", 0, "raw control character 0x01 in a string at column 8"},
		{"{\"a\":\"x\ty\"}", 0, "raw control character 0x09 in a string at column 8"},
		{"{\"a\":\001 1}", 0, "raw control character 0x01 at column 6"},
		{"{\"a\":\"\\u0000\"}", 0, "string holds \\u0000 (NUL) at column 7"},
		{"{\"a\\u0000b\":1}", 0, "string holds \\u0000 (NUL) at column 4"},
		{"{\"a\":1e999}", 0, "number '1e999' at column 6 does not fit a double"},
		{"{\"a\":[1,-1e400]}", 0, "number '-1e400' at column 9 does not fit a double"},
		{"{\"a\":1.5e308000000000000000000000000000000000000000000000}", 0,
		 "number '1.5e308000000000000000000000000000000000...' at column 6 does not fit a double"},
		{"{\"a\":\"\xc3\"}", 0, "not UTF-8 at column 7"},
		{"{\"a\":1}\0", 8, "NUL byte at column 8"},
		{"{\"a\":1} 2", 0, "more than one JSON value (column 9)"},
		{"{\"a\":", 0, "invalid JSON near column 5"},
	};
	for (size_t i = 0; i < sizeof(strict) / sizeof(strict[0]); i++) {
		cp_err se = {0};
		size_t n = strict[i].len ? strict[i].len : strlen(strict[i].in);
		cJSON *r = cp_json_parse_strict(strict[i].in, n, &se);
		if (r || strcmp(se.msg, strict[i].msg))
			printf("#   got '%s'\n", se.msg);
		CHECK(!r && se.code == CP_DATA && !strcmp(se.msg, strict[i].msg), strict[i].msg);
		cJSON_Delete(r);
	}
	static const char *const fine[] = {
		"{\"a\":1,\"b\":{\"a\":2},\"c\":[{\"a\":3},{\"a\":4}]}", /* same name, other objects */
		"{\"a\":\"\\u0001 \\\\u0000 \\\"\",\"b\":\"\\t\"}",     /* escapes, an escaped backslash */
		" {\"s\":999999999999999,\"n\":-9007199254740991,\"f\":1.5e300,\"z\":1e-400}\r\n",
		"[18446744073709551617,12345678901234568]", /* large whole numbers: a double prints them so */
		"[\"\xc3\xa9\xe2\x82\xac\"]",
	};
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		cp_err se = {0};
		cJSON *r = cp_json_parse_strict(fine[i], strlen(fine[i]), &se);
		if (!r)
			printf("#   got '%s'\n", se.msg);
		CHECK(r != NULL, "strict parse accepts well-formed JSON");
		cJSON_Delete(r);
	}
	{
		/* not NUL-terminated: only len bytes are read */
		const char line[] = "{\"a\":12}{\"b\"";
		cp_err se = {0};
		cJSON *r = cp_json_parse_strict(line, 8, &se);
		CHECK(r && cJSON_GetObjectItem(r, "a")->valuedouble == 12, "only the len bytes given are parsed");
		cJSON_Delete(r);
	}
	return tap_done();
}
