/* depconfig.c — see depconfig.h. */
#include "depconfig.h"
#include "ensemble.h"
#include "jsonutil.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *dc_read_file(const char *path, size_t *len, int *missing, cp_err *e)
{
	struct stat st;
	if (missing)
		*missing = 0;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return cp_fail(e, CP_DATA, "'%s' is not a regular file", path), NULL;
	char *buf = cp_read_file(path, DC_MAX_BYTES, len, missing, e);
	if (buf && strlen(buf) != *len) {
		free(buf);
		return cp_fail(e, CP_DATA, "'%s' holds a NUL byte", path), NULL;
	}
	return buf;
}

int dc_settings(const cJSON *j, const char *what, fc_config *cfg, const char **model_dir, cp_err *e)
{
	if (!cJSON_IsObject(j))
		return cp_fail(e, CP_DATA, "%s: config is not a JSON object", what);
	const cJSON *ens = cJSON_GetObjectItemCaseSensitive(j, "ensemble");
	if (ens) {
		fc_ensemble en;
		fc_config top = {1, 1, 1.0, 0, 1.0};
		for (int k = 0; k < FC_NKEYS; k++)
			if (fc_config_field(j, k, 0, &top, what, e) < 0)
				return -1;
		if (fc_ensemble_from_json(ens, what, &en, e) < 0)
			return -1;
		for (int i = 0; i < en.n; i++)
			if (forecaster_spec_check(en.m[i].model, 1, e) < 0) {
				fc_ensemble_release(&en);
				e->code = CP_DATA;
				return cp_prefix(e, "%s: ensemble member %d", what, i + 1);
			}
		fc_ensemble_call(&en, cfg);
		fc_ensemble_release(&en);
		if (model_dir)
			*model_dir = "ensemble";
		return 0;
	}
	if (fc_config_from_json(j, what, cfg, e) < 0)
		return -1;
	if (model_dir) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "model");
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(m, "dir");
		if (m && !cJSON_IsNull(m) && !cJSON_IsObject(m))
			return cp_fail(e, CP_DATA, "%s: \"model\" must be an object", what);
		if (d && !cJSON_IsString(d))
			return cp_fail(e, CP_DATA, "%s: \"model\".\"dir\" must be a string", what);
		*model_dir = d && d->valuestring[0] ? d->valuestring : NULL;
	}
	return 0;
}

cJSON *dc_parse(const char *text, const char *what, const char *horizon, cp_err *e)
{
	cJSON *j = cp_json_parse_strict(text, strlen(text), e);
	if (!j)
		return cp_prefix(e, "%s", what), NULL;
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(j, "horizon");
	fc_config cfg;
	if (!cJSON_IsObject(j)) {
		cp_fail(e, CP_DATA, "%s: config is not a JSON object", what);
	} else if (!cJSON_IsString(h)) {
		cp_fail(e, CP_DATA, "%s: \"horizon\" is missing", what);
	} else if (strcmp(h->valuestring, horizon) != 0) {
		char b[CP_SHOWN_MAX];
		cp_fail(e, CP_DATA, "%s: config is for horizon '%s', not '%s'", what,
		        cp_shown(h->valuestring, b), horizon);
	} else if (dc_settings(j, what, &cfg, NULL, e) == 0) {
		return j;
	}
	cJSON_Delete(j);
	return NULL;
}

int dc_path(char *buf, size_t len, const char *dir, const char *horizon, cp_err *e)
{
	char b[CP_SHOWN_MAX];
	if (!cp_name_ok(horizon))
		return cp_fail(e, CP_USAGE, "horizon name '%s' is not a plain name ([A-Za-z0-9_-], 1-32 chars)",
		               cp_shown(horizon, b));
	int n = snprintf(buf, len, "%s/%s.json", dir, horizon);
	if (n < 0 || (size_t)n >= len)
		return cp_fail(e, CP_IO, "config path '%.60s...' is too long", dir);
	return 0;
}

cJSON *dc_load(const char *dir, const char *horizon, int *missing, cp_err *e)
{
	char path[4096];
	*missing = 0;
	if (dc_path(path, sizeof(path), dir, horizon, e) < 0)
		return NULL;
	size_t len;
	char *text = dc_read_file(path, &len, missing, e);
	if (!text)
		return NULL;
	cJSON *j = dc_parse(text, path, horizon, e);
	free(text);
	return j;
}

/* The deployed config file at path, parsed; NULL with e filled (CP_IO, or
 * CP_DATA "<path>: invalid JSON"). */
static cJSON *read_json(const char *path, cp_err *e)
{
	size_t len;
	char *text = dc_read_file(path, &len, NULL, e);
	if (!text)
		return NULL;
	cJSON *j = cJSON_ParseWithOpts(text, NULL, 1);
	free(text);
	if (!j)
		cp_fail(e, CP_DATA, "%s: invalid JSON", path);
	return j;
}

int dc_read_settings(const char *path, fc_config *cfg, char **model_dir, cp_err *e)
{
	*model_dir = NULL;
	cJSON *j = read_json(path, e);
	if (!j)
		return -1;
	int rc = dc_settings(j, path, cfg, NULL, e);
	if (rc == 0)
		rc = dc_model_spec(j, path, model_dir, e);
	cJSON_Delete(j);
	return rc;
}

int dc_validation_stride(const char *path, int *stride, cp_err *e)
{
	cJSON *j = read_json(path, e);
	if (!j)
		return -1;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "validation"), "stride");
	int rc = 0;
	if (v) {
		double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
		if (!(d >= 1 && d <= 100000 && d == floor(d)))
			rc = cp_fail(e, CP_DATA, "%s: validation.stride must be an integer in 1..100000", path);
		else
			*stride = (int)d;
	}
	cJSON_Delete(j);
	return rc;
}

int dc_model_spec(const cJSON *j, const char *what, char **spec, cp_err *e)
{
	*spec = NULL;
	const cJSON *ens = cJSON_GetObjectItemCaseSensitive(j, "ensemble");
	if (ens) {
		fc_ensemble en;
		if (fc_ensemble_from_json(ens, what, &en, e) < 0)
			return -1;
		*spec = ensemble_spec(&en);
		fc_ensemble_release(&en);
		return 0;
	}
	fc_config c;
	const char *md = NULL;
	if (dc_settings(j, what, &c, &md, e) < 0)
		return -1;
	*spec = md ? cp_strdup(md) : NULL;
	return 0;
}

int dc_resolve(const char *path, const fc_config *dflt, const fc_config *given, unsigned given_mask,
               fc_config *out, char **model_dir, cp_err *e)
{
	fc_config c = *dflt;
	*model_dir = NULL;
	if (path && dc_read_settings(path, &c, model_dir, e) < 0)
		return -1;
	for (int k = 0; k < FC_NKEYS; k++)
		if (given_mask & (1u << k))
			fc_config_set(&c, k, fc_config_get(given, k));
	*out = c;
	return 0;
}
