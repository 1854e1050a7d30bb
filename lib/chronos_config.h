/*
 * chronos_config.h — config.json of a Chronos checkpoint directory: which
 * model family it is, and the settings of the families we run.
 *
 * Family (cc_family_of), in the order chronos-forecasting's own loader
 * decides it: "chronos_pipeline_class" when present ("ChronosPipeline" ->
 * Chronos-T5, "ChronosBoltPipeline" -> Chronos-Bolt, "Chronos2Pipeline" ->
 * Chronos-2, anything else refused); else architectures[0]
 * ("ChronosBoltModelForForecasting" -> Bolt, "Chronos2Model" -> Chronos-2,
 * "T5ForConditionalGeneration" -> T5); else the chronos_config keys
 * ("tokenizer_class" -> T5, "output_patch_size" -> Chronos-2,
 * "input_patch_size" -> Bolt).  A file none of these identify is refused.
 *
 * T5 fields take the defaults of Hugging Face's T5Config when absent
 * (d_model 512, d_kv 64, d_ff 2048, num_layers 6, num_decoder_layers =
 * num_layers, num_heads 8, relative_attention_num_buckets 32,
 * relative_attention_max_distance 128, feed_forward_proj "relu",
 * layer_norm_epsilon 1e-6, vocab_size 32128, pad 0, eos 1,
 * tie_word_embeddings true, decoder_start_token_id = pad_token_id).
 * feed_forward_proj "A" or "gated-A" sets the activation and gating
 * ("gated-gelu" means gelu_new); explicit "dense_act_fn" / "is_gated_act"
 * keys override what feed_forward_proj implies.  The "chronos_config" block
 * is required (no defaults: every key must be present, as in
 * chronos-forecasting's ChronosConfig).  Everything is range-checked so a
 * hostile file cannot make the model allocate absurd amounts.
 */
#ifndef CHRONOPT_CHRONOS_CONFIG_H
#define CHRONOPT_CHRONOS_CONFIG_H
#include "common.h"

#include <cJSON.h>

enum cc_family { CC_T5, CC_BOLT, CC_CHRONOS2 };

#define CC_MAX_QUANTILES 64

enum cc_act { CC_RELU, CC_GELU_NEW, CC_GELU, CC_SILU };

typedef struct {
	int family;                         /* enum cc_family: CC_T5 or CC_BOLT */
	/* T5 */
	int vocab_size, d_model, d_kv, d_ff;
	int num_layers, num_decoder_layers, num_heads;
	int num_buckets, max_distance;      /* relative attention */
	int act;                            /* enum cc_act */
	int gated;                          /* wi_0/wi_1 instead of wi */
	double layer_norm_epsilon;
	int tie_word_embeddings;
	int decoder_start_token_id;
	int decoder_start_set;              /* config.json gives it (not the pad default) */
	/* chronos_config */
	int n_tokens, n_special_tokens, pad_token_id, eos_token_id, use_eos_token;
	double low_limit, high_limit;
	int context_length, prediction_length, num_samples;
	double temperature;
	int top_k;
	double top_p;
	/* Chronos-Bolt chronos_config (context_length and prediction_length
	 * above are shared): every key required except use_reg_token (false).
	 * quantiles strictly increasing in (0, 1) and containing 0.5, the
	 * point forecast.  vocab_size is then 2 with the [REG] token, else 1,
	 * whatever config.json says (as ChronosBoltModelForForecasting sets it). */
	int patch_size, patch_stride, use_reg_token;
	int nquantiles;
	double quantiles[CC_MAX_QUANTILES];
} cc_config;

/* The family of the parsed config.json object `root` (see above) into
 * *family.  Returns 0, or -1 with CP_DATA "<path>: ..." when the file names
 * no Chronos family or an unknown pipeline class / architecture. */
int cc_family_of(const cJSON *root, const char *path, int *family, cp_err *e);

/* The root object of a config.json text of at most max bytes, and its
 * family (cc_family_of): the root (caller owns it), or NULL with CP_DATA
 * "<path>: config is implausibly large", "not a valid JSON object" or
 * cc_family_of's message. */
cJSON *cc_config_root(const char *json, size_t len, size_t max, const char *path, int *family, cp_err *e);
/* A family's reader of a config.json: fill the config at out (zeroed) from
 * root r of family (cc_family_of); 0, or -1 with e set. */
typedef int (*cc_fill_fn)(void *out, const cJSON *r, int family, const char *path, cp_err *e);

/* The one skeleton of cc_parse/cc_load and c2_config_parse/c2_config_load:
 * zero the config c (size bytes), read the root of the text json (len
 * bytes) or, when json is NULL, of the file at path (cp_read_file, at most
 * max bytes: CP_IO when it cannot be read, CP_DATA when larger), with
 * cc_config_root, and fill c with fill. Returns 0, or -1 with e set and c
 * zeroed. */
int cc_config_read(void *c, size_t size, const char *json, size_t len, const char *path, size_t max,
                   cc_fill_fn fill, cp_err *e);

/* "chronos-t5", "chronos-bolt", "chronos-2". */
const char *cc_family_name(int family);

/* Parse config text json[0..len-1]; `path` for messages ("<path>: ...").
 * Returns 0 and fills *c (a Chronos-T5 or Chronos-Bolt config, c->family
 * says which), or -1 with CP_DATA; a Chronos-2 file is CP_DATA too (its
 * family has its own reader: see cc_detect). */
int cc_parse(cc_config *c, const char *json, size_t len, const char *path, cp_err *e);

/* Read and parse `path`.  CP_IO when unreadable. */
int cc_load(cc_config *c, const char *path, cp_err *e);

/* generation_config.json of the same directory (text json[0..len-1],
 * `path` for messages), which Hugging Face's generate reads: its
 * decoder_start_token_id, when set, is the one the decoder starts from
 * (it must lie in the vocabulary, and agree with config.json's when that
 * sets one); its eos_token_id (an id or a list of ids), when set, must
 * include the end-of-sequence id the sampler keeps out (Chronos-T5's
 * chronos_config eos_token_id) and lie in the vocabulary.  Other keys are
 * not read.  Returns 0, or -1 with CP_DATA "<path>: ...". */
int cc_generation(cc_config *c, const char *json, size_t len, const char *path, cp_err *e);

/* Read `path` and tell its family only (no other key is checked).
 * Returns 0, or -1 with e filled (CP_IO unreadable, CP_DATA bad). */
int cc_detect(const char *path, int *family, cp_err *e);

/* The activation called s in a config.json ("relu", "gelu_new",
 * "gelu_pytorch_tanh", "gelu", "silu", "swish") into *act: 0, or -1 when
 * s is none of them (the caller refuses the checkpoint). */
int cc_act_lookup(const char *s, int *act);

/* Name of an activation ("relu", "gelu_new", ...). */
const char *cc_act_name(int act);

#endif
