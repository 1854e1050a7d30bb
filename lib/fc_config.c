/* fc_config.c — the forecaster settings' key list, domain and JSON form;
 * see forecast.h. */
#include "forecast.h"
#include "jsonutil.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

const char *const fc_key[FC_NKEYS] = {
	"context_length", "num_samples", "temperature", "top_k", "top_p"};

const char *const fc_option[FC_NKEYS] = {
	"--context-length", "--num-samples", "--temperature", "--top-k", "--top-p"};

/* The domain, once: integers are closed ranges, reals (lo, hi]. */
static const struct {
	int is_int;
	double lo, hi;
	const char *outside;
} dom[FC_NKEYS] = {
	[FC_CTX] = {1, 1, 100000, "is not in [1, 100000]"},
	[FC_SAMPLES] = {1, 1, 100000, "is not in [1, 100000]"},
	[FC_TEMP] = {0, 0, 100, "is not in (0, 100]"},
	[FC_TOPK] = {1, 0, 100000, "is not in [0, 100000]"},
	[FC_TOPP] = {0, 0, 1, "is not in (0, 1]"},
};

const fc_config fc_config_quantile_off = {.context_length = 0, .num_samples = 1,
                                          .temperature = 1.0, .top_k = 0, .top_p = 1.0};

int fc_key_is_int(int key)
{
	return dom[key].is_int;
}

const char *fc_value_problem(int key, double x)
{
	if (!isfinite(x))
		return "is not a finite number";
	if (dom[key].is_int && x != floor(x))
		return "is not an integer";
	int ok = dom[key].is_int ? x >= dom[key].lo && x <= dom[key].hi : x > dom[key].lo && x <= dom[key].hi;
	return ok ? NULL : dom[key].outside;
}

double fc_config_get(const fc_config *c, int key)
{
	switch (key) {
	case FC_CTX: return c->context_length;
	case FC_SAMPLES: return c->num_samples;
	case FC_TEMP: return c->temperature;
	case FC_TOPK: return c->top_k;
	default: return c->top_p;
	}
}

void fc_config_set(fc_config *c, int key, double v)
{
	switch (key) {
	case FC_CTX: c->context_length = (int)v; break;
	case FC_SAMPLES: c->num_samples = (int)v; break;
	case FC_TEMP: c->temperature = v; break;
	case FC_TOPK: c->top_k = (int)v; break;
	default: c->top_p = v; break;
	}
}

int fc_config_check(const fc_config *c, const char *what, int code, cp_err *e)
{
	for (int k = 0; k < FC_NKEYS; k++) {
		double v = fc_config_get(c, k);
		const char *why = fc_value_problem(k, v);
		if (why)
			return cp_fail(e, code, "%s: '%s' value %.17g %s", what, fc_key[k], v, why);
	}
	return 0;
}

int fc_config_field(const cJSON *o, int key, int flags, fc_config *c, const char *what, cp_err *e)
{
	if (dom[key].is_int) {
		int v = (int)fc_config_get(c, key);
		if (jf_int(o, fc_key[key], (long)dom[key].lo, (long)dom[key].hi, flags, &v, what, e) < 0)
			return -1;
		fc_config_set(c, key, v);
		return 0;
	}
	double v = fc_config_get(c, key);
	if (jf_num(o, fc_key[key], dom[key].lo, dom[key].hi, flags | JF_LO_OPEN, &v, what, e) < 0)
		return -1;
	fc_config_set(c, key, v);
	return 0;
}

int fc_config_from_json(const cJSON *o, const char *what, fc_config *c, cp_err *e)
{
	if (!cJSON_IsObject(o))
		return cp_fail(e, CP_DATA, "%s: config is not a JSON object", what);
	fc_config r = {0, 0, 1.0, 0, 1.0};
	for (int k = 0; k < FC_NKEYS; k++)
		if (fc_config_field(o, k, k == FC_CTX || k == FC_SAMPLES ? JF_REQUIRED : 0, &r, what, e) < 0)
			return -1;
	*c = r;
	return 0;
}

int fc_config_parse_option(int key, const char *arg, const char *opt, fc_config *c, cp_err *e)
{
	double v;
	if (cp_parse_double(arg, &v) < 0)
		return cp_fail(e, CP_USAGE, "%s: '%.64s' is not a number", opt, arg);
	const char *why = fc_value_problem(key, v);
	if (why)
		return cp_fail(e, CP_USAGE, "%s: '%.64s' %s", opt, arg, why);
	fc_config_set(c, key, v);
	return 0;
}

int fc_config_sampling_key(const fc_config *c, int *key)
{
	for (int k = FC_SAMPLES; k < FC_NKEYS; k++)
		if (fc_config_get(c, k) != fc_config_get(&fc_config_quantile_off, k)) {
			*key = k;
			return -1;
		}
	return 0;
}

int fc_config_quantile_check(const fc_config *c, const char *family, const char *what, cp_err *e)
{
	int k;
	if (fc_config_sampling_key(c, &k) == 0)
		return 0;
	return cp_fail(e, CP_DATA, "%s: '%s' is %.17g, but %s is a quantile model: it draws no samples, so "
	               "num_samples, temperature, top_k and top_p must be 1, 1, 0 and 1", what, fc_key[k],
	               fc_config_get(c, k), family);
}

void fc_config_add_json(cJSON *o, const fc_config *c)
{
	for (int k = 0; k < FC_NKEYS; k++)
		cp_json_add_exact(o, fc_key[k], fc_config_get(c, k));
}

cJSON *fc_config_json(const fc_config *c)
{
	cJSON *j = cJSON_CreateObject();
	fc_config_add_json(j, c);
	return j;
}

/* ------------------------------------------------------------ ensembles */

void fc_ensemble_release(fc_ensemble *en)
{
	for (int i = 0; i < en->n; i++)
		free(en->m[i].model);
	free(en->m);
	en->n = 0;
	en->m = NULL;
}

int fc_ensemble_from_json(const cJSON *a, const char *what, fc_ensemble *en, cp_err *e)
{
	memset(en, 0, sizeof(*en));
	if (!cJSON_IsArray(a))
		return cp_fail(e, CP_DATA, "%s: 'ensemble' must be a list of members", what);
	int n = cJSON_GetArraySize(a);
	if (n < 1 || n > FC_ENSEMBLE_MAX)
		return cp_fail(e, CP_DATA, "%s: 'ensemble' must list 1 to %d members, not %d", what,
		               FC_ENSEMBLE_MAX, n);
	fc_ensemble r = {0, cp_calloc((size_t)n, sizeof(fc_member))};
	double sum = 0;
	const cJSON *x;
	cJSON_ArrayForEach(x, a) {
		char w[512];
		snprintf(w, sizeof(w), "%s: ensemble member %d", what, r.n + 1);
		fc_member *m = &r.m[r.n];
		const cJSON *md = cJSON_GetObjectItemCaseSensitive(x, "model");
		const char *dir = NULL, *sha = NULL;
		if (!cJSON_IsObject(x)) {
			cp_fail(e, CP_DATA, "%s: is not a JSON object", w);
			goto bad;
		}
		if (cJSON_GetObjectItemCaseSensitive(x, "ensemble") ||
		    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(x, "config"), "ensemble")) {
			cp_fail(e, CP_DATA, "%s: is an ensemble itself (ensembles do not nest)", w);
			goto bad;
		}
		if (jf_num(x, "weight", 0, 1, JF_REQUIRED | JF_LO_OPEN, &m->weight, w, e) < 0)
			goto bad;
		if (!cJSON_IsObject(md)) {
			cp_fail(e, CP_DATA, "%s: 'model' must be an object with \"dir\"", w);
			goto bad;
		}
		if (jf_str(md, "dir", JF_REQUIRED, &dir, w, e) < 0 ||
		    jf_str(md, "sha256", JF_NULL_ABSENT, &sha, w, e) < 0)
			goto bad;
		if (!*dir || !strcmp(dir, "ensemble") || !strncmp(dir, "ensemble:", 9)) {
			cp_fail(e, CP_DATA, "%s: 'model' \"dir\" must name a model or a baseline", w);
			goto bad;
		}
		if (sha && strlen(sha) != 64) {
			cp_fail(e, CP_DATA, "%s: 'sha256' must be 64 hex digits", w);
			goto bad;
		}
		if (fc_config_from_json(cJSON_GetObjectItemCaseSensitive(x, "config"), w, &m->cfg, e) < 0)
			goto bad;
		m->model = cp_strdup(dir);
		snprintf(m->sha256, sizeof(m->sha256), "%s", sha ? sha : "");
		sum += m->weight;
		r.n++;
	}
	if (fabs(sum - 1.0) > 1e-9) {
		cp_fail(e, CP_DATA, "%s: the ensemble's weights sum to %.17g, not 1", what, sum);
		goto bad;
	}
	*en = r;
	return 0;
bad:
	fc_ensemble_release(&r);
	return -1;
}

void fc_ensemble_add_json(cJSON *o, const fc_ensemble *en)
{
	cJSON *a = cJSON_AddArrayToObject(o, "ensemble");
	for (int i = 0; i < en->n; i++) {
		const fc_member *m = &en->m[i];
		cJSON *x = cJSON_CreateObject();
		cp_json_add_exact(x, "weight", m->weight);
		cJSON *md = cJSON_AddObjectToObject(x, "model");
		cJSON_AddStringToObject(md, "dir", m->model);
		if (m->sha256[0])
			cJSON_AddStringToObject(md, "sha256", m->sha256);
		else
			cJSON_AddNullToObject(md, "sha256");
		cJSON_AddItemToObject(x, "config", fc_config_json(&m->cfg));
		cJSON_AddItemToArray(a, x);
	}
}

void fc_ensemble_call(const fc_ensemble *en, fc_config *out)
{
	fc_config c = {1, 1, 1.0, 0, 1.0};
	for (int i = 0; i < en->n; i++) {
		if (en->m[i].cfg.context_length > c.context_length)
			c.context_length = en->m[i].cfg.context_length;
		if (en->m[i].cfg.num_samples > c.num_samples)
			c.num_samples = en->m[i].cfg.num_samples;
	}
	*out = c;
}
