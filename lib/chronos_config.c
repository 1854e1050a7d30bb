/* chronos_config.c — see chronos_config.h. */
#include "chronos_config.h"
#include "forecast.h"
#include "jsonutil.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CC_MAX_CONFIG (4u << 20)

static const char *act_names[] = {"relu", "gelu_new", "gelu", "silu"};

const char *cc_act_name(int act)
{
	return act >= 0 && act < 4 ? act_names[act] : "?";
}

int cc_act_lookup(const char *s, int *act)
{
	static const struct { const char *n; int a; } tab[] = {
		{"relu", CC_RELU}, {"gelu_new", CC_GELU_NEW}, {"gelu_pytorch_tanh", CC_GELU_NEW},
		{"gelu", CC_GELU}, {"silu", CC_SILU}, {"swish", CC_SILU},
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(s, tab[i].n) == 0) {
			*act = tab[i].a;
			return 0;
		}
	return -1;
}

#define HF JF_NULL_ABSENT                /* Hugging Face writes unset keys as null */
#define HF_REQ (JF_NULL_ABSENT | JF_REQUIRED)

static const char *get_str(const cJSON *o, const char *k)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(j) ? j->valuestring : NULL;
}

static int parse_t5(cc_config *c, const cJSON *r, const char *p, cp_err *e)
{
	const char *W = p;
	c->vocab_size = 32128;
	c->d_model = 512;
	c->d_kv = 64;
	c->d_ff = 2048;
	c->num_layers = 6;
	c->num_decoder_layers = -1;
	c->num_heads = 8;
	c->num_buckets = 32;
	c->max_distance = 128;
	c->layer_norm_epsilon = 1e-6;
	c->tie_word_embeddings = 1;
	int pad = 0, eos = 1;
	c->decoder_start_token_id = -1;
	if (jf_int(r, "vocab_size", 1, 1 << 20, HF, &c->vocab_size, W, e) ||
	    jf_int(r, "d_model", 1, 16384, HF, &c->d_model, W, e) ||
	    jf_int(r, "d_kv", 1, 4096, HF, &c->d_kv, W, e) ||
	    jf_int(r, "d_ff", 1, 262144, HF, &c->d_ff, W, e) ||
	    jf_int(r, "num_layers", 1, 256, HF, &c->num_layers, W, e) ||
	    jf_int(r, "num_decoder_layers", 1, 256, HF, &c->num_decoder_layers, W, e) ||
	    jf_int(r, "num_heads", 1, 256, HF, &c->num_heads, W, e) ||
	    jf_int(r, "relative_attention_num_buckets", 4, 4096, HF, &c->num_buckets, W, e) ||
	    jf_int(r, "relative_attention_max_distance", 1, 1 << 20, HF, &c->max_distance, W, e) ||
	    jf_num(r, "layer_norm_epsilon", 0, 1, HF, &c->layer_norm_epsilon, W, e) ||
	    jf_bool(r, "tie_word_embeddings", HF, &c->tie_word_embeddings, W, e) ||
	    jf_int(r, "pad_token_id", 0, 1 << 20, HF, &pad, W, e) ||
	    jf_int(r, "eos_token_id", 0, 1 << 20, HF, &eos, W, e) ||
	    jf_int(r, "decoder_start_token_id", 0, c->vocab_size - 1, HF, &c->decoder_start_token_id, W, e))
		return -1;
	(void)eos;
	c->decoder_start_set = c->decoder_start_token_id >= 0;
	if (c->num_decoder_layers < 0)
		c->num_decoder_layers = c->num_layers;
	if (c->decoder_start_token_id < 0) {
		if (pad >= c->vocab_size)
			return cp_fail(e, CP_DATA, "%s: 'pad_token_id' %d is outside the vocabulary", p, pad);
		c->decoder_start_token_id = pad;
	}
	if ((long)c->num_heads * c->d_kv > 65536)
		return cp_fail(e, CP_DATA, "%s: num_heads * d_kv = %ld is too large", p,
		               (long)c->num_heads * c->d_kv);
	if (c->max_distance <= c->num_buckets / 2)
		return cp_fail(e, CP_DATA, "%s: 'relative_attention_max_distance' %d must exceed half of "
		               "'relative_attention_num_buckets' %d", p, c->max_distance, c->num_buckets);
	if (!(c->layer_norm_epsilon > 0))
		return cp_fail(e, CP_DATA, "%s: 'layer_norm_epsilon' must be positive", p);
	/* activation: feed_forward_proj first, explicit keys override it */
	const cJSON *ffp = cJSON_GetObjectItemCaseSensitive(r, "feed_forward_proj");
	const char *proj = "relu";
	if (ffp && !cJSON_IsNull(ffp)) {
		if (!cJSON_IsString(ffp))
			return cp_fail(e, CP_DATA, "%s: 'feed_forward_proj' must be a string", p);
		proj = ffp->valuestring;
	}
	const char *dash = strchr(proj, '-');
	const char *actname = proj;
	c->gated = 0;
	if (dash) {
		if ((size_t)(dash - proj) != 5 || strncmp(proj, "gated", 5) != 0 || strchr(dash + 1, '-'))
			return cp_fail(e, CP_DATA, "%s: 'feed_forward_proj' '%.40s' is not 'ACT' or 'gated-ACT'", p, proj);
		c->gated = 1;
		actname = dash + 1;
	}
	if (strcmp(proj, "gated-gelu") == 0)
		actname = "gelu_new";
	const char *daf = get_str(r, "dense_act_fn");
	if (cJSON_GetObjectItemCaseSensitive(r, "dense_act_fn") && !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r, "dense_act_fn")) && !daf)
		return cp_fail(e, CP_DATA, "%s: 'dense_act_fn' must be a string", p);
	if (daf)
		actname = daf;
	if (cc_act_lookup(actname, &c->act) < 0)
		return cp_fail(e, CP_DATA, "%s: activation '%.40s' is not supported (relu, gelu_new, gelu, silu)", p, actname);
	if (jf_bool(r, "is_gated_act", HF, &c->gated, W, e))
		return -1;
	return 0;
}

/* ------------------------------------------------------------- family */

const char *cc_family_name(int family)
{
	switch (family) {
	case CC_T5: return "chronos-t5";
	case CC_BOLT: return "chronos-bolt";
	case CC_CHRONOS2: return "chronos-2";
	default: return "?";
	}
}

int cc_family_of(const cJSON *r, const char *p, int *family, cp_err *e)
{
	static const struct { const char *name; int family; } pipes[] = {
		{"ChronosPipeline", CC_T5}, {"ChronosBoltPipeline", CC_BOLT}, {"Chronos2Pipeline", CC_CHRONOS2},
	}, archs[] = {
		{"T5ForConditionalGeneration", CC_T5}, {"ChronosBoltModelForForecasting", CC_BOLT},
		{"Chronos2Model", CC_CHRONOS2},
	};
	const cJSON *pc = cJSON_GetObjectItemCaseSensitive(r, "chronos_pipeline_class");
	if (pc && !cJSON_IsNull(pc)) {
		if (!cJSON_IsString(pc))
			return cp_fail(e, CP_DATA, "%s: 'chronos_pipeline_class' must be a string", p);
		for (size_t i = 0; i < sizeof(pipes) / sizeof(pipes[0]); i++)
			if (strcmp(pc->valuestring, pipes[i].name) == 0) {
				*family = pipes[i].family;
				return 0;
			}
		return cp_fail(e, CP_DATA, "%s: pipeline class '%.60s' is not supported (ChronosPipeline, "
		               "ChronosBoltPipeline, Chronos2Pipeline)", p, pc->valuestring);
	}
	const cJSON *ar = cJSON_GetObjectItemCaseSensitive(r, "architectures");
	if (ar && !cJSON_IsNull(ar)) {
		const cJSON *a0 = cJSON_IsArray(ar) ? cJSON_GetArrayItem(ar, 0) : NULL;
		if (!cJSON_IsString(a0))
			return cp_fail(e, CP_DATA, "%s: 'architectures' must be a list of class names", p);
		for (size_t i = 0; i < sizeof(archs) / sizeof(archs[0]); i++)
			if (strcmp(a0->valuestring, archs[i].name) == 0) {
				*family = archs[i].family;
				return 0;
			}
		return cp_fail(e, CP_DATA, "%s: architecture '%.60s' is not a Chronos model (T5ForConditionalGeneration, "
		               "ChronosBoltModelForForecasting, Chronos2Model)", p, a0->valuestring);
	}
	const cJSON *cc = cJSON_GetObjectItemCaseSensitive(r, "chronos_config");
	if (!cc)
		return cp_fail(e, CP_DATA, "%s: no 'chronos_config' block: not a Chronos checkpoint", p);
	if (!cJSON_IsObject(cc))
		return cp_fail(e, CP_DATA, "%s: 'chronos_config' is not a JSON object", p);
	if (cJSON_GetObjectItemCaseSensitive(cc, "tokenizer_class"))
		*family = CC_T5;
	else if (cJSON_GetObjectItemCaseSensitive(cc, "output_patch_size"))
		*family = CC_CHRONOS2;
	else if (cJSON_GetObjectItemCaseSensitive(cc, "input_patch_size"))
		*family = CC_BOLT;
	else
		return cp_fail(e, CP_DATA, "%s: chronos_config names no model family (no 'tokenizer_class', "
		               "'input_patch_size' or 'output_patch_size')", p);
	return 0;
}

/* -------------------------------------------------------------- chronos-t5 */

/* The checkpoint's own sampling settings (the defaults of a forecast), all
 * required, in the one domain of the settings (forecast.h). */
static int sampling_defaults(cc_config *c, const cJSON *cc, const char *p, cp_err *e)
{
	char what[512];
	snprintf(what, sizeof(what), "%s: chronos_config", p);
	fc_config f = fc_config_quantile_off;
	for (int k = FC_SAMPLES; k < FC_NKEYS; k++)
		if (fc_config_field(cc, k, JF_REQUIRED | JF_NULL_ABSENT, &f, what, e) < 0)
			return -1;
	c->num_samples = f.num_samples;
	c->temperature = f.temperature;
	c->top_k = f.top_k;
	c->top_p = f.top_p;
	return 0;
}

static int parse_chronos(cc_config *c, const cJSON *r, const char *p, cp_err *e)
{
	const cJSON *cc = cJSON_GetObjectItemCaseSensitive(r, "chronos_config");
	if (!cc)
		return cp_fail(e, CP_DATA, "%s: no 'chronos_config' block: not a Chronos checkpoint", p);
	if (!cJSON_IsObject(cc))
		return cp_fail(e, CP_DATA, "%s: 'chronos_config' is not a JSON object", p);
	const char *w = "chronos_config: ";
	char W[512];
	snprintf(W, sizeof(W), "%s: chronos_config", p);
	const char *tc = get_str(cc, "tokenizer_class");
	if (!tc)
		return cp_fail(e, CP_DATA, "%s: %s'tokenizer_class' is missing", p, w);
	if (strcmp(tc, "MeanScaleUniformBins") != 0)
		return cp_fail(e, CP_DATA, "%s: %stokenizer '%.40s' is not supported (MeanScaleUniformBins)", p, w, tc);
	const char *mt = get_str(cc, "model_type");
	if (!mt)
		return cp_fail(e, CP_DATA, "%s: %s'model_type' is missing", p, w);
	if (strcmp(mt, "seq2seq") != 0)
		return cp_fail(e, CP_DATA, "%s: %smodel_type '%.40s' is not supported (seq2seq)", p, w, mt);
	const cJSON *kw = cJSON_GetObjectItemCaseSensitive(cc, "tokenizer_kwargs");
	if (!cJSON_IsObject(kw))
		return cp_fail(e, CP_DATA, "%s: %s'tokenizer_kwargs' is missing or not an object", p, w);
	const char *wk = "chronos_config: tokenizer_kwargs: ";
	char WK[512];
	snprintf(WK, sizeof(WK), "%s: chronos_config: tokenizer_kwargs", p);
	if (jf_num(kw, "low_limit", -1e30, 1e30, HF_REQ, &c->low_limit, WK, e) ||
	    jf_num(kw, "high_limit", -1e30, 1e30, HF_REQ, &c->high_limit, WK, e))
		return -1;
	if (!(c->low_limit < c->high_limit))
		return cp_fail(e, CP_DATA, "%s: %slow_limit must be below high_limit", p, wk);
	if (jf_int(cc, "n_tokens", 5, c->vocab_size, HF_REQ, &c->n_tokens, W, e) ||
	    jf_int(cc, "n_special_tokens", 1, c->n_tokens - 4, HF_REQ, &c->n_special_tokens, W, e) ||
	    jf_int(cc, "pad_token_id", 0, c->n_special_tokens - 1, HF_REQ, &c->pad_token_id, W, e) ||
	    jf_int(cc, "eos_token_id", 0, c->n_special_tokens - 1, HF_REQ, &c->eos_token_id, W, e) ||
	    jf_bool(cc, "use_eos_token", HF_REQ, &c->use_eos_token, W, e) ||
	    jf_int(cc, "context_length", 1, 65536, HF_REQ, &c->context_length, W, e) ||
	    jf_int(cc, "prediction_length", 1, 65536, HF_REQ, &c->prediction_length, W, e) ||
	    sampling_defaults(c, cc, p, e))
		return -1;
	return 0;
}

/* ------------------------------------------------------------ chronos-bolt */

/* ChronosBoltConfig: context_length, prediction_length, input_patch_size,
 * input_patch_stride, quantiles required; use_reg_token defaults to false. */
static int parse_bolt(cc_config *c, const cJSON *r, const char *p, cp_err *e)
{
	const cJSON *cc = cJSON_GetObjectItemCaseSensitive(r, "chronos_config");
	if (!cJSON_IsObject(cc))
		return cp_fail(e, CP_DATA, "%s: 'chronos_config' is missing or not a JSON object", p);
	const char *w = "chronos_config: ";
	char W[512];
	snprintf(W, sizeof(W), "%s: chronos_config", p);
	c->use_reg_token = 0;
	if (jf_int(cc, "context_length", 1, 65536, HF_REQ, &c->context_length, W, e) ||
	    jf_int(cc, "prediction_length", 1, 4096, HF_REQ, &c->prediction_length, W, e) ||
	    jf_int(cc, "input_patch_size", 1, 4096, HF_REQ, &c->patch_size, W, e) ||
	    jf_int(cc, "input_patch_stride", 1, 4096, HF_REQ, &c->patch_stride, W, e) ||
	    jf_bool(cc, "use_reg_token", HF, &c->use_reg_token, W, e))
		return -1;
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(cc, "quantiles");
	if (!q)
		return cp_fail(e, CP_DATA, "%s: %s'quantiles' is missing", p, w);
	int n = cJSON_IsArray(q) ? cJSON_GetArraySize(q) : 0;
	if (n < 1 || n > CC_MAX_QUANTILES)
		return cp_fail(e, CP_DATA, "%s: %s'quantiles' must be a list of 1 to %d levels", p, w, CC_MAX_QUANTILES);
	int have_median = 0;
	for (int i = 0; i < n; i++) {
		const cJSON *v = cJSON_GetArrayItem(q, i);
		if (!cJSON_IsNumber(v) || !(v->valuedouble > 0 && v->valuedouble < 1))
			return cp_fail(e, CP_DATA, "%s: %squantiles[%d] must be a number in (0, 1)", p, w, i);
		if (i > 0 && !(v->valuedouble > c->quantiles[i - 1]))
			return cp_fail(e, CP_DATA, "%s: %squantiles must be strictly increasing", p, w);
		c->quantiles[i] = v->valuedouble;
		have_median |= (float)v->valuedouble == 0.5f;
	}
	if (!have_median)
		return cp_fail(e, CP_DATA, "%s: %squantiles must include 0.5 (the point forecast)", p, w);
	c->nquantiles = n;
	/* as ChronosBoltModelForForecasting: the embedding holds only the
	 * decoder start token (id 0) and, with use_reg_token, [REG] (id 1) */
	c->vocab_size = c->use_reg_token ? 2 : 1;
	if (c->decoder_start_token_id >= c->vocab_size)
		return cp_fail(e, CP_DATA, "%s: 'decoder_start_token_id' %d is outside Chronos-Bolt's %d-token "
		               "embedding", p, c->decoder_start_token_id, c->vocab_size);
	if ((long)c->nquantiles * c->prediction_length > 1 << 20)
		return cp_fail(e, CP_DATA, "%s: %d quantiles x prediction_length %d is too large", p,
		               c->nquantiles, c->prediction_length);
	return 0;
}

/* ------------------------------------------------------------------ files */

cJSON *cc_config_root(const char *json, size_t len, size_t max, const char *path, int *family, cp_err *e)
{
	if (len > max)
		return cp_fail(e, CP_DATA, "%s: config is implausibly large (%zu bytes)", path, len), NULL;
	cJSON *r = cJSON_ParseWithLength(json, len);
	if (!r || !cJSON_IsObject(r)) {
		cJSON_Delete(r);
		return cp_fail(e, CP_DATA, "%s: not a valid JSON object", path), NULL;
	}
	if (cc_family_of(r, path, family, e) < 0) {
		cJSON_Delete(r);
		return NULL;
	}
	return r;
}

int cc_config_read(void *c, size_t size, const char *json, size_t len, const char *path, size_t max,
                   cc_fill_fn fill, cp_err *e)
{
	memset(c, 0, size);
	int family = -1;
	cJSON *r;
	if (json) {
		r = cc_config_root(json, len, max, path, &family, e);
	} else {
		char *buf = cp_read_file(path, max, &len, NULL, e);
		r = buf ? cc_config_root(buf, len, max, path, &family, e) : NULL;
		free(buf);
	}
	if (!r)
		return -1;
	int rc = fill(c, r, family, path, e);
	cJSON_Delete(r);
	if (rc < 0)
		memset(c, 0, size);
	return rc;
}

static int fill_t5(void *out, const cJSON *r, int family, const char *path, cp_err *e)
{
	cc_config *c = out;
	c->family = family;
	if (family == CC_CHRONOS2)
		return cp_fail(e, CP_DATA, "%s: a Chronos-2 checkpoint (not a Chronos-T5 or Chronos-Bolt config)", path);
	if (parse_t5(c, r, path, e) < 0)
		return -1;
	return family == CC_BOLT ? parse_bolt(c, r, path, e) : parse_chronos(c, r, path, e);
}

int cc_parse(cc_config *c, const char *json, size_t len, const char *path, cp_err *e)
{
	/* a NULL text is no JSON, not the file */
	return cc_config_read(c, sizeof(*c), json ? json : "", json ? len : 0, path, CC_MAX_CONFIG, fill_t5, e);
}

int cc_load(cc_config *c, const char *path, cp_err *e)
{
	return cc_config_read(c, sizeof(*c), NULL, 0, path, CC_MAX_CONFIG, fill_t5, e);
}

int cc_generation(cc_config *c, const char *json, size_t len, const char *path, cp_err *e)
{
	if (len > CC_MAX_CONFIG)
		return cp_fail(e, CP_DATA, "%s: implausibly large (%zu bytes)", path, len);
	cJSON *r = cJSON_ParseWithLength(json, len);
	int rc = 0;
	if (!cJSON_IsObject(r)) {
		rc = cp_fail(e, CP_DATA, "%s: not a valid JSON object", path);
		goto done;
	}
	int ds = -1;
	if (jf_int(r, "decoder_start_token_id", 0, c->vocab_size - 1, HF, &ds, path, e) < 0) {
		rc = -1;
		goto done;
	}
	if (ds >= 0 && c->decoder_start_set && ds != c->decoder_start_token_id) {
		rc = cp_fail(e, CP_DATA, "%s: decoder_start_token_id %d disagrees with config.json's %d", path, ds,
		             c->decoder_start_token_id);
		goto done;
	}
	if (ds >= 0)
		c->decoder_start_token_id = ds;
	const cJSON *eos = cJSON_GetObjectItemCaseSensitive(r, "eos_token_id");
	if (!eos || cJSON_IsNull(eos))
		goto done;
	int n = cJSON_IsArray(eos) ? cJSON_GetArraySize(eos) : 1, found = 0;
	for (int i = 0; i < n; i++) {
		const cJSON *v = cJSON_IsArray(eos) ? cJSON_GetArrayItem(eos, i) : eos;
		if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 0 ||
		    v->valuedouble >= c->vocab_size) {
			rc = cp_fail(e, CP_DATA, "%s: 'eos_token_id' must be a token id in [0, %d] or a list of them",
			             path, c->vocab_size - 1);
			goto done;
		}
		found |= (int)v->valuedouble == c->eos_token_id;
	}
	if (c->family == CC_T5 && !found)
		rc = cp_fail(e, CP_DATA, "%s: eos_token_id does not include config.json's chronos_config "
		             "eos_token_id %d, the token the sampler keeps out", path, c->eos_token_id);
done:
	cJSON_Delete(r);
	return rc;
}

int cc_detect(const char *path, int *family, cp_err *e)
{
	size_t n;
	char *buf = cp_read_file(path, CC_MAX_CONFIG, &n, NULL, e);
	if (!buf)
		return -1;
	cJSON *r = cJSON_ParseWithLength(buf, n);
	free(buf);
	if (!r || !cJSON_IsObject(r)) {
		cJSON_Delete(r);
		return cp_fail(e, CP_DATA, "%s: not a valid JSON object", path);
	}
	int rc = cc_family_of(r, path, family, e);
	cJSON_Delete(r);
	return rc;
}
