/*
 * chronos_config.h — config.json of a Chronos-T5 checkpoint directory.
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

enum cc_act { CC_RELU, CC_GELU_NEW, CC_GELU, CC_SILU };

typedef struct {
	/* T5 */
	int vocab_size, d_model, d_kv, d_ff;
	int num_layers, num_decoder_layers, num_heads;
	int num_buckets, max_distance;      /* relative attention */
	int act;                            /* enum cc_act */
	int gated;                          /* wi_0/wi_1 instead of wi */
	double layer_norm_epsilon;
	int tie_word_embeddings;
	int decoder_start_token_id;
	/* chronos_config */
	int n_tokens, n_special_tokens, pad_token_id, eos_token_id, use_eos_token;
	double low_limit, high_limit;
	int context_length, prediction_length, num_samples;
	double temperature;
	int top_k;
	double top_p;
} cc_config;

/* Parse config text json[0..len-1]; `path` for messages ("<path>: ...").
 * Returns 0 and fills *c, or -1 with CP_DATA. */
int cc_parse(cc_config *c, const char *json, size_t len, const char *path, cp_err *e);

/* Read and parse `path`.  CP_IO when unreadable. */
int cc_load(cc_config *c, const char *path, cp_err *e);

/* Name of an activation ("relu", "gelu_new", ...). */
const char *cc_act_name(int act);

#endif
