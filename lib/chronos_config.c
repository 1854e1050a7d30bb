/* chronos_config.c — see chronos_config.h. */
#include "chronos_config.h"

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

static int act_lookup(const char *s, int *act)
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

/* Integer key `k` of object o in [lo, hi]; absent: *v keeps its default
 * unless `required`.  Returns -1 with e filled on a bad value. */
static int get_int(const cJSON *o, const char *k, long lo, long hi, int required,
                   int *v, const char *path, const char *where, cp_err *e)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!j || cJSON_IsNull(j)) {
		if (required)
			return cp_fail(e, CP_DATA, "%s: %s'%s' is missing", path, where, k);
		return 0;
	}
	if (!cJSON_IsNumber(j) || j->valuedouble != floor(j->valuedouble) ||
	    j->valuedouble < (double)lo || j->valuedouble > (double)hi)
		return cp_fail(e, CP_DATA, "%s: %s'%s' must be an integer in [%ld, %ld]", path, where, k, lo, hi);
	*v = (int)j->valuedouble;
	return 0;
}

static int get_num(const cJSON *o, const char *k, double lo, double hi, int required,
                   double *v, const char *path, const char *where, cp_err *e)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!j || cJSON_IsNull(j)) {
		if (required)
			return cp_fail(e, CP_DATA, "%s: %s'%s' is missing", path, where, k);
		return 0;
	}
	if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble) || j->valuedouble < lo || j->valuedouble > hi)
		return cp_fail(e, CP_DATA, "%s: %s'%s' must be a number in [%g, %g]", path, where, k, lo, hi);
	*v = j->valuedouble;
	return 0;
}

static int get_bool(const cJSON *o, const char *k, int required, int *v,
                    const char *path, const char *where, cp_err *e)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!j || cJSON_IsNull(j)) {
		if (required)
			return cp_fail(e, CP_DATA, "%s: %s'%s' is missing", path, where, k);
		return 0;
	}
	if (!cJSON_IsBool(j))
		return cp_fail(e, CP_DATA, "%s: %s'%s' must be true or false", path, where, k);
	*v = cJSON_IsTrue(j);
	return 0;
}

static const char *get_str(const cJSON *o, const char *k)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(j) ? j->valuestring : NULL;
}

static int parse_t5(cc_config *c, const cJSON *r, const char *p, cp_err *e)
{
	const char *w = "";
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
	if (get_int(r, "vocab_size", 2, 1 << 20, 0, &c->vocab_size, p, w, e) ||
	    get_int(r, "d_model", 1, 16384, 0, &c->d_model, p, w, e) ||
	    get_int(r, "d_kv", 1, 4096, 0, &c->d_kv, p, w, e) ||
	    get_int(r, "d_ff", 1, 262144, 0, &c->d_ff, p, w, e) ||
	    get_int(r, "num_layers", 1, 256, 0, &c->num_layers, p, w, e) ||
	    get_int(r, "num_decoder_layers", 1, 256, 0, &c->num_decoder_layers, p, w, e) ||
	    get_int(r, "num_heads", 1, 256, 0, &c->num_heads, p, w, e) ||
	    get_int(r, "relative_attention_num_buckets", 4, 4096, 0, &c->num_buckets, p, w, e) ||
	    get_int(r, "relative_attention_max_distance", 1, 1 << 20, 0, &c->max_distance, p, w, e) ||
	    get_num(r, "layer_norm_epsilon", 0, 1, 0, &c->layer_norm_epsilon, p, w, e) ||
	    get_bool(r, "tie_word_embeddings", 0, &c->tie_word_embeddings, p, w, e) ||
	    get_int(r, "pad_token_id", 0, 1 << 20, 0, &pad, p, w, e) ||
	    get_int(r, "eos_token_id", 0, 1 << 20, 0, &eos, p, w, e) ||
	    get_int(r, "decoder_start_token_id", 0, c->vocab_size - 1, 0, &c->decoder_start_token_id, p, w, e))
		return -1;
	(void)eos;
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
	if (act_lookup(actname, &c->act) < 0)
		return cp_fail(e, CP_DATA, "%s: activation '%.40s' is not supported (relu, gelu_new, gelu, silu)", p, actname);
	if (get_bool(r, "is_gated_act", 0, &c->gated, p, w, e))
		return -1;
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
	if (get_num(kw, "low_limit", -1e30, 1e30, 1, &c->low_limit, p, wk, e) ||
	    get_num(kw, "high_limit", -1e30, 1e30, 1, &c->high_limit, p, wk, e))
		return -1;
	if (!(c->low_limit < c->high_limit))
		return cp_fail(e, CP_DATA, "%s: %slow_limit must be below high_limit", p, wk);
	if (get_int(cc, "n_tokens", 5, c->vocab_size, 1, &c->n_tokens, p, w, e) ||
	    get_int(cc, "n_special_tokens", 1, c->n_tokens - 4, 1, &c->n_special_tokens, p, w, e) ||
	    get_int(cc, "pad_token_id", 0, c->n_special_tokens - 1, 1, &c->pad_token_id, p, w, e) ||
	    get_int(cc, "eos_token_id", 0, c->n_special_tokens - 1, 1, &c->eos_token_id, p, w, e) ||
	    get_bool(cc, "use_eos_token", 1, &c->use_eos_token, p, w, e) ||
	    get_int(cc, "context_length", 1, 65536, 1, &c->context_length, p, w, e) ||
	    get_int(cc, "prediction_length", 1, 65536, 1, &c->prediction_length, p, w, e) ||
	    get_int(cc, "num_samples", 1, 1000000, 1, &c->num_samples, p, w, e) ||
	    get_num(cc, "temperature", 1e-6, 1e6, 1, &c->temperature, p, w, e) ||
	    get_int(cc, "top_k", 0, 1 << 30, 1, &c->top_k, p, w, e) ||
	    get_num(cc, "top_p", 0, 1, 1, &c->top_p, p, w, e))
		return -1;
	return 0;
}

int cc_parse(cc_config *c, const char *json, size_t len, const char *path, cp_err *e)
{
	memset(c, 0, sizeof(*c));
	if (len > CC_MAX_CONFIG)
		return cp_fail(e, CP_DATA, "%s: config is implausibly large (%zu bytes)", path, len);
	cJSON *r = cJSON_ParseWithLength(json, len);
	if (!r || !cJSON_IsObject(r)) {
		cJSON_Delete(r);
		return cp_fail(e, CP_DATA, "%s: not a valid JSON object", path);
	}
	int rc = parse_t5(c, r, path, e);
	if (rc == 0)
		rc = parse_chronos(c, r, path, e);
	cJSON_Delete(r);
	if (rc < 0)
		memset(c, 0, sizeof(*c));
	return rc;
}

int cc_load(cc_config *c, const char *path, cp_err *e)
{
	memset(c, 0, sizeof(*c));
	size_t n;
	char *buf = cp_read_file(path, CC_MAX_CONFIG, &n, NULL, e);
	if (!buf)
		return -1;
	int rc = cc_parse(c, buf, n, path, e);
	free(buf);
	return rc;
}
