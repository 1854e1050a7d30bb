/* settings.c — see settings.h. */
#include "settings.h"
#include "jsonutil.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SETTINGS_MAX (4 << 20)

static char *slurp(const char *path, cp_err *e)
{
	size_t n;
	char *buf = cp_read_file(path, SETTINGS_MAX, &n, NULL, e);
	if (buf && strlen(buf) != n) {
		free(buf);
		return cp_fail(e, CP_DATA, "%s: NUL byte in JSON", path), NULL;
	}
	return buf;
}

/* Line number of byte offset off in s (1-based). */
static int line_of(const char *s, size_t off)
{
	int line = 1;
	for (size_t i = 0; i < off && s[i]; i++)
		line += s[i] == '\n';
	return line;
}

static int horizons_of(const cJSON *settings, const char *who, horizon_def **out, int *n,
                       cp_err *e);

/* The installed settings: <dir of this executable>/../share/chronopt/
 * configs/chronopt.json (make install puts the tools in PREFIX/bin and the
 * settings in PREFIX/share/chronopt). 0 and the path in buf when that file
 * exists, -1 otherwise (not installed, or /proc not mounted). */
static int installed_settings(char *buf, size_t len)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	int k = snprintf(buf, len, "%s/../share/chronopt/configs/chronopt.json", exe);
	struct stat st;
	if (k < 0 || (size_t)k >= len || stat(buf, &st) != 0 || !S_ISREG(st.st_mode))
		return -1;
	return 0;
}

cJSON *settings_load(const char *path, cp_err *e)
{
	const char *p = path;
	char installed[4200];
	if (!p) {
		p = getenv("CHRONOPT_CONFIG");
		if (!p || !*p) {
			struct stat st;
			p = "configs/chronopt.json";
			if (stat(p, &st) != 0) {
				if (installed_settings(installed, sizeof(installed)) != 0)
					return cJSON_CreateObject();
				p = installed;
			}
		}
	}
	char *text = slurp(p, e);
	if (!text)
		return NULL;
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithOpts(text, &end, 1);
	if (!j) {
		int line = end ? line_of(text, (size_t)(end - text)) : 0;
		free(text);
		return cp_fail(e, CP_DATA, "%s:%d: invalid JSON", p, line), NULL;
	}
	free(text);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return cp_fail(e, CP_DATA, "%s: settings must be a JSON object", p), NULL;
	}
	/* check the horizons now, while the file name is known */
	horizon_def *d;
	int n;
	if (horizons_of(j, p, &d, &n, e) != 0) {
		cJSON_Delete(j);
		return NULL;
	}
	free(d);
	return j;
}

static const horizon_def default_horizons[] = {{"7d", 7}, {"15d", 15}, {"30d", 30}, {"90d", 90}};

/* The horizons of settings; messages start with `who` (the file name when
 * called from settings_load, else "settings"). */
static int horizons_of(const cJSON *settings, const char *who, horizon_def **out, int *n,
                       cp_err *e)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(settings, "horizons");
	*out = NULL;
	*n = 0;
	if (!h) {
		int k = (int)(sizeof(default_horizons) / sizeof(default_horizons[0]));
		*out = cp_malloc(sizeof(default_horizons));
		memcpy(*out, default_horizons, sizeof(default_horizons));
		*n = k;
		return 0;
	}
	if (!cJSON_IsObject(h))
		return cp_fail(e, CP_DATA, "%s: \"horizons\" must be an object of name: steps", who);
	int k = cJSON_GetArraySize(h);
	if (k == 0)
		return cp_fail(e, CP_DATA, "%s: \"horizons\" is empty", who);
	horizon_def *d = cp_calloc((size_t)k, sizeof(*d));
	int i = 0;
	const cJSON *it;
	char b[CP_SHOWN_MAX];
	cJSON_ArrayForEach(it, h) {
		if (!cp_name_ok(it->string)) {
			free(d);
			return cp_fail(e, CP_DATA, "%s: horizon name '%s' is not a plain name", who,
			               cp_shown(it->string, b));
		}
		if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) ||
		    it->valuedouble < 1 || it->valuedouble > 10000) {
			free(d);
			return cp_fail(e, CP_DATA, "%s: horizon '%s' steps must be an integer in 1..10000",
			               who, it->string);
		}
		for (int j = 0; j < i; j++)
			if (strcmp(d[j].name, it->string) == 0) {
				free(d);
				return cp_fail(e, CP_DATA, "%s: horizon '%s' defined twice", who,
				               it->string);
			}
		snprintf(d[i].name, sizeof(d[i].name), "%s", it->string);
		d[i].steps = (int)it->valuedouble;
		i++;
	}
	*out = d;
	*n = k;
	return 0;
}

int settings_horizons(const cJSON *settings, horizon_def **out, int *n, cp_err *e)
{
	return horizons_of(settings, "settings", out, n, e);
}

int settings_horizon(const cJSON *settings, const char *name, horizon_def *out, cp_err *e)
{
	horizon_def *d;
	int n;
	if (settings_horizons(settings, &d, &n, e) < 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (strcmp(d[i].name, name) == 0) {
			*out = d[i];
			free(d);
			return 0;
		}
	free(d);
	return cp_fail(e, CP_USAGE, "unknown horizon '%.40s'", name);
}

const cJSON *settings_node(const cJSON *settings, const char *dotted)
{
	return cp_json_path(settings, dotted);
}

int settings_number(const cJSON *settings, const char *dotted, double *v, cp_err *e)
{
	const cJSON *n = settings_node(settings, dotted);
	if (!n || cJSON_IsNull(n))
		return 0;
	if (!cJSON_IsNumber(n) || !isfinite(n->valuedouble))
		return cp_fail(e, CP_DATA, "settings: \"%s\" must be a number", dotted);
	*v = n->valuedouble;
	return 1;
}

int settings_integer(const cJSON *settings, const char *dotted, long lo, long hi, int *out,
                     cp_err *e)
{
	double v;
	int rc = settings_number(settings, dotted, &v, e);
	if (rc <= 0)
		return rc;
	if (v != floor(v) || v < lo || v > hi)
		return cp_fail(e, CP_DATA, "settings: \"%s\" must be an integer in %ld..%ld", dotted, lo, hi);
	*out = (int)v;
	return 1;
}
