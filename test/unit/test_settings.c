/* test_settings.c — settings_load on real files: every complaint about the
 * file names it (bad horizons included), hostile bytes are escaped. */
#include "settings.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/chronopt-test-settings-XXXXXX";
static char path[128];

static cJSON *load_text(const char *text, size_t len, cp_err *e)
{
	FILE *fp = fopen(path, "wb");
	fwrite(text, 1, len, fp);
	fclose(fp);
	memset(e, 0, sizeof(*e));
	return settings_load(path, e);
}

#define LOAD(lit, e) load_text((lit), sizeof(lit) - 1, (e))

/* *e holds exactly "<path><rest>" with code CP_DATA */
static int says(const cp_err *e, const char *rest)
{
	char want[CP_ERR_MAX];
	snprintf(want, sizeof(want), "%s%s", path, rest);
	if (strcmp(e->msg, want) || e->code != CP_DATA) {
		printf("#   got  '%s' (code %d)\n#   want '%s'\n", e->msg, e->code, want);
		return 0;
	}
	return 1;
}

int main(void)
{
	cp_err e;
	cJSON *j;
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/chronopt.json", dir);

	j = LOAD("{\"horizons\":{\"7d\":7,\"2w\":10},\"trigger\":{\"x\":1}}\n", &e);
	CHECK(j != NULL, "a good settings file loads");
	cJSON_Delete(j);

	j = LOAD("{\"horizons\":{\"7d\":7,\"../x\":10}}", &e);
	CHECK(!j && says(&e, ": horizon name '../x' is not a plain name"),
	      "a hostile horizon name is rejected by settings_load, naming the file");
	j = LOAD("{\"horizons\":{\"7d\xff\xfe\":7}}", &e);
	CHECK(!j && says(&e, ": horizon name '7d\\xff\\xfe' is not a plain name"),
	      "bytes outside printable ASCII in a horizon name are escaped in the message");
	j = LOAD("{\"horizons\":{\"7d\":0}}", &e);
	CHECK(!j && says(&e, ": horizon '7d' steps must be an integer in 1..10000"),
	      "bad steps are rejected by settings_load, naming the file");
	j = LOAD("{\"horizons\":{\"7d\":7,\"7d\":8}}", &e);
	CHECK(!j && says(&e, ": horizon '7d' defined twice"),
	      "a horizon defined twice is rejected by settings_load, naming the file");
	j = LOAD("{\"horizons\":{}}", &e);
	CHECK(!j && says(&e, ": \"horizons\" is empty"), "empty horizons name the file");
	j = LOAD("{\"horizons\":[7]}", &e);
	CHECK(!j && says(&e, ": \"horizons\" must be an object of name: steps"),
	      "horizons of the wrong type name the file");
	j = LOAD("{\n\"a\":\n}", &e);
	CHECK(!j && says(&e, ":3: invalid JSON"), "invalid JSON names file and line");
	j = LOAD("[1]", &e);
	CHECK(!j && says(&e, ": settings must be a JSON object"), "a non-object names the file");
	j = LOAD("{\"a\":1}\0", &e);
	CHECK(!j && says(&e, ": NUL byte in JSON"), "a NUL byte names the file");

	/* settings built elsewhere still get "settings:" messages */
	cJSON *s = cJSON_Parse("{\"horizons\":{\"7d\":-1}}");
	horizon_def *h;
	int n;
	CHECK(settings_horizons(s, &h, &n, &e) < 0 &&
	      !strcmp(e.msg, "settings: horizon '7d' steps must be an integer in 1..10000"),
	      "settings_horizons on an object not from a file says 'settings'");
	cJSON_Delete(s);

	unlink(path);
	rmdir(dir);
	return tap_done();
}
