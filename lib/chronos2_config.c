/* chronos2_config.c — see chronos2_config.h. */
#include "chronos2_config.h"
#include "chronos_config.h"
#include "jsonutil.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define C2_MAX_CONFIG (4u << 20)

#define HF JF_NULL_ABSENT                /* Hugging Face writes unset keys as null */
#define HF_REQ (JF_NULL_ABSENT | JF_REQUIRED)


static int parse_core(c2_config *c, const cJSON *r, const char *p, cp_err *e)
{
	const char *W = p;
	c->d_model = 512;
	c->d_kv = 64;
	c->d_ff = 2048;
	c->num_layers = 6;
	c->num_heads = 8;
	c->layer_norm_epsilon = 1e-6;
	c->rope_theta = 10000.0;
	if (jf_int(r, "d_model", 1, 16384, HF, &c->d_model, W, e) ||
	    jf_int(r, "d_kv", 1, 4096, HF, &c->d_kv, W, e) ||
	    jf_int(r, "d_ff", 1, 262144, HF, &c->d_ff, W, e) ||
	    jf_int(r, "num_layers", 1, 256, HF, &c->num_layers, W, e) ||
	    jf_int(r, "num_heads", 1, 256, HF, &c->num_heads, W, e) ||
	    jf_num(r, "layer_norm_epsilon", 0, 1, HF, &c->layer_norm_epsilon, W, e) ||
	    jf_num(r, "rope_theta", 1e-6, 1e12, HF, &c->rope_theta, W, e))
		return -1;
	if (!(c->layer_norm_epsilon > 0))
		return cp_fail(e, CP_DATA, "%s: 'layer_norm_epsilon' must be positive", p);
	if (!(c->rope_theta > 1))
		return cp_fail(e, CP_DATA, "%s: 'rope_theta' must be above 1", p);
	if (c->d_kv % 2)
		return cp_fail(e, CP_DATA, "%s: 'd_kv' %d is odd: rotary embedding needs an even head size", p, c->d_kv);
	if ((long)c->num_heads * c->d_kv > 65536)
		return cp_fail(e, CP_DATA, "%s: num_heads * d_kv = %ld is too large", p, (long)c->num_heads * c->d_kv);
	const char *proj = "relu", *daf = NULL;
	if (jf_str(r, "feed_forward_proj", HF, &proj, p, e) || jf_str(r, "dense_act_fn", HF, &daf, p, e))
		return -1;
	char shown[CP_SHOWN_MAX];
	const char *dash = strrchr(proj, '-');
	const char *actname = dash ? dash + 1 : proj;
	if (dash && !(dash - proj == 5 && strncmp(proj, "gated", 5) == 0))
		return cp_fail(e, CP_DATA, "%s: 'feed_forward_proj' '%s' is not 'ACT'", p, cp_shown(proj, shown));
	if (dash)
		return cp_fail(e, CP_DATA, "%s: 'feed_forward_proj' '%s': gated feed-forward layers are not "
		               "part of Chronos-2", p, cp_shown(proj, shown));
	int gated = 0;
	if (jf_bool(r, "is_gated_act", HF, &gated, W, e))
		return -1;
	if (gated)
		return cp_fail(e, CP_DATA, "%s: 'is_gated_act' true: gated feed-forward layers are not part of Chronos-2", p);
	if (daf)
		actname = daf;
	if (cc_act_lookup(actname, &c->act) < 0)
		return cp_fail(e, CP_DATA, "%s: activation '%s' is not supported (relu, gelu_new, gelu, silu)",
		               p, cp_shown(actname, shown));
	return 0;
}

static int parse_forecasting(c2_config *c, const cJSON *r, const char *p, cp_err *e)
{
	const cJSON *cc = cJSON_GetObjectItemCaseSensitive(r, "chronos_config");
	if (!cc)
		return cp_fail(e, CP_DATA, "%s: no 'chronos_config' block: not a Chronos-2 checkpoint", p);
	if (!cJSON_IsObject(cc))
		return cp_fail(e, CP_DATA, "%s: 'chronos_config' is not a JSON object", p);
	static const char *known[] = {
		"context_length", "output_patch_size", "input_patch_size", "input_patch_stride", "quantiles",
		"use_reg_token", "use_arcsinh", "max_output_patches", "time_encoding_scale",
	};
	const cJSON *it;
	char shown[CP_SHOWN_MAX];
	cJSON_ArrayForEach(it, cc) {
		size_t i = 0;
		while (i < sizeof(known) / sizeof(known[0]) && strcmp(it->string, known[i]) != 0)
			i++;
		if (i == sizeof(known) / sizeof(known[0]))
			return cp_fail(e, CP_DATA, "%s: chronos_config: unknown key '%s' (not a Chronos-2 setting)",
			               p, cp_shown(it->string, shown));
	}
	const char *w = "chronos_config: ";
	char W[512];
	snprintf(W, sizeof(W), "%s: chronos_config", p);
	int in_size = 0, out_size = 0, stride = 0;
	c->max_output_patches = 1;
	c->time_encoding_scale = -1;
	c->use_reg_token = 0;
	c->use_arcsinh = 0;
	if (jf_int(cc, "context_length", 1, 1 << 20, HF_REQ, &c->context_length, W, e) ||
	    jf_int(cc, "input_patch_size", 1, 4096, HF_REQ, &in_size, W, e) ||
	    jf_int(cc, "input_patch_stride", 1, 4096, HF_REQ, &stride, W, e) ||
	    jf_int(cc, "output_patch_size", 1, 4096, HF_REQ, &out_size, W, e) ||
	    jf_int(cc, "max_output_patches", 1, 65536, HF, &c->max_output_patches, W, e) ||
	    jf_int(cc, "time_encoding_scale", 1, 1 << 30, HF, &c->time_encoding_scale, W, e) ||
	    jf_bool(cc, "use_reg_token", HF, &c->use_reg_token, W, e) ||
	    jf_bool(cc, "use_arcsinh", HF, &c->use_arcsinh, W, e))
		return -1;
	if (c->time_encoding_scale < 0)
		c->time_encoding_scale = c->context_length;
	if (in_size != out_size)
		return cp_fail(e, CP_DATA, "%s: %sinput_patch_size %d and output_patch_size %d differ "
		               "(Chronos-2 needs them equal)", p, w, in_size, out_size);
	if (stride != in_size)
		return cp_fail(e, CP_DATA, "%s: %sinput_patch_stride %d is not input_patch_size %d "
		               "(overlapping or gapped patches are not supported)", p, w, stride, in_size);
	if (!c->use_reg_token)
		return cp_fail(e, CP_DATA, "%s: %suse_reg_token false is not supported (the public Chronos-2 "
		               "forward pass needs the [REG] token)", p, w);
	c->patch_size = in_size;
	if ((long)c->max_output_patches * c->patch_size > (1L << 20))
		return cp_fail(e, CP_DATA, "%s: %smax_output_patches * output_patch_size is too large", p, w);
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(cc, "quantiles");
	if (!q)
		return cp_fail(e, CP_DATA, "%s: %s'quantiles' is missing", p, w);
	int n = cJSON_IsArray(q) ? cJSON_GetArraySize(q) : 0;
	if (n < 1 || n > C2_MAX_QUANTILES)
		return cp_fail(e, CP_DATA, "%s: %s'quantiles' must be an array of 1 to %d levels", p, w, C2_MAX_QUANTILES);
	int i = 0;
	cJSON_ArrayForEach(it, q) {
		if (!cJSON_IsNumber(it) || !(it->valuedouble > 0 && it->valuedouble < 1))
			return cp_fail(e, CP_DATA, "%s: %squantiles[%d] must be a number strictly between 0 and 1", p, w, i);
		for (int k = 0; k < i; k++)
			if ((float)c->quantiles[k] == (float)it->valuedouble)
				return cp_fail(e, CP_DATA, "%s: %squantile level %g appears twice", p, w, it->valuedouble);
		c->quantiles[i++] = it->valuedouble;
	}
	c->num_quantiles = n;
	if ((long)n * c->patch_size > (1L << 20))
		return cp_fail(e, CP_DATA, "%s: %squantiles * output_patch_size is too large", p, w);
	return 0;
}

static int fill(void *out, const cJSON *r, int family, const char *path, cp_err *e)
{
	c2_config *c = out;
	if (family != CC_CHRONOS2)
		return cp_fail(e, CP_DATA, "%s: a %s checkpoint, not Chronos-2", path, cc_family_name(family));
	if (parse_core(c, r, path, e) < 0)
		return -1;
	return parse_forecasting(c, r, path, e);
}

int c2_config_parse(c2_config *c, const char *json, size_t len, const char *path, cp_err *e)
{
	/* a NULL text is no JSON, not the file */
	return cc_config_read(c, sizeof(*c), json ? json : "", json ? len : 0, path, C2_MAX_CONFIG, fill, e);
}

int c2_config_load(c2_config *c, const char *path, cp_err *e)
{
	return cc_config_read(c, sizeof(*c), NULL, 0, path, C2_MAX_CONFIG, fill, e);
}
