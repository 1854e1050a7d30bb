/*
 * chronos2_config.h — config.json of a Chronos-2 checkpoint directory
 * (amazon/chronos-2 layout: "architectures": ["Chronos2Model"]).
 *
 * The family must be Chronos-2 as cc_family_of (chronos_config.h) tells it.
 * Top-level keys follow chronos-forecasting's Chronos2CoreConfig with its
 * defaults when absent (d_model 512, d_kv 64, d_ff 2048, num_layers 6,
 * num_heads 8, layer_norm_epsilon 1e-6, feed_forward_proj "relu",
 * rope_theta 10000); an explicit "dense_act_fn" overrides what
 * feed_forward_proj implies, as transformers' PretrainedConfig does.  Gated
 * feed-forward layers are refused (the public model asserts against them),
 * as is an odd d_kv (rotary embedding pairs the two halves of a head).
 *
 * The "chronos_config" block is Chronos2ForecastingConfig: context_length,
 * input_patch_size, input_patch_stride, output_patch_size and quantiles are
 * required; use_reg_token (false), use_arcsinh (false), max_output_patches
 * (1) and time_encoding_scale (= context_length) have defaults; any other
 * key is refused, as the dataclass constructor refuses it.  Refused as well
 * because the public forward pass cannot run them: input_patch_size !=
 * output_patch_size (asserted), input_patch_stride != input_patch_size (the
 * time encoding assumes adjacent patches), use_reg_token false (the public
 * forward asserts the [REG] position), quantile levels outside (0, 1) or
 * repeated.  Everything is range-checked so a hostile file cannot make the
 * model allocate absurd amounts.
 */
#ifndef CHRONOPT_CHRONOS2_CONFIG_H
#define CHRONOPT_CHRONOS2_CONFIG_H
#include "common.h"

#define C2_MAX_QUANTILES 256

typedef struct {
	/* Chronos2CoreConfig */
	int d_model, d_kv, d_ff, num_layers, num_heads;
	int act;                        /* enum cc_act (chronos_config.h) */
	double layer_norm_epsilon;
	double rope_theta;
	/* chronos_config (Chronos2ForecastingConfig) */
	int context_length;
	int patch_size;                 /* input = output patch size = stride */
	int max_output_patches;
	int time_encoding_scale;
	int use_reg_token, use_arcsinh;
	int num_quantiles;
	double quantiles[C2_MAX_QUANTILES]; /* as listed (not necessarily sorted) */
} c2_config;

/* Parse config text json[0..len-1]; `path` for messages ("<path>: ...").
 * Returns 0 and fills *c, or -1 with CP_DATA. */
int c2_config_parse(c2_config *c, const char *json, size_t len, const char *path, cp_err *e);

/* Read and parse `path`.  CP_IO when unreadable. */
int c2_config_load(c2_config *c, const char *path, cp_err *e);

#endif
