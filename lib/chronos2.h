/*
 * chronos2.h — Chronos-2 inference (an encoder-only T5-style model over
 * patches with a direct quantile head) on OpenBLAS, laid out like
 * chronos.h: a config (c2_config), weights that point into the mmapped
 * model.safetensors (c2_weights), and buffers allocated per call.
 *
 * Semantics follow chronos-forecasting's src/chronos/chronos2 (model.py,
 * layers.py, pipeline.py) and chronos_bolt.py's InstanceNorm and Patch:
 *   - each series is cut to its last context_length values and scaled by
 *     its own mean and population standard deviation over the observed
 *     values (NaN = missing: mean 0 and scale 1 when nothing is observed,
 *     scale 1e-5 when it is 0), then arcsinh when use_arcsinh;
 *   - patches of patch_size values, left-padded with missing values; the
 *     input of a patch is [time encoding, values (0 where missing), mask]
 *     through the residual-block embedding; the time encoding is the
 *     position relative to the end of the context divided by
 *     time_encoding_scale; then the [REG] token (shared.weight row 1) and
 *     one input per output patch ([time encoding from 0, known future
 *     covariate values or 0, their mask]);
 *   - every encoder block: time self-attention with rotary position
 *     embedding over the positions of one series, group self-attention
 *     across the series of one group at the same position (no position
 *     encoding), feed-forward; pre-norm T5 RMS layer norms, unscaled
 *     attention scores, keys of a patch with no observed value excluded;
 *   - the residual-block output head on the output-patch positions gives
 *     num_quantiles values per step, unscaled (sinh, * scale + mean).
 * A patch with no observed value is a fully masked query whose output no
 * other position reads (it is masked as a key everywhere), so it is left
 * out of the computation altogether: the result is the same.
 *
 * Ownership: chronos2_load returns a model the caller frees with
 * chronos2_free; every other function writes into buffers the caller owns.
 */
#ifndef CHRONOPT_CHRONOS2_H
#define CHRONOPT_CHRONOS2_H
#include "chronos2_config.h"
#include "forecast.h"
#include "matmul.h"
#include "safetensors.h"

typedef struct {
	const float *ln;             /* (d_model) */
	const float *q, *k, *v;      /* (inner, d_model) */
	const float *o;              /* (d_model, inner) */
	mm_pack pq, pk, pv, po;      /* packed for mm_packed, owned (.p NULL: not packed) */
} c2_attention;

typedef struct {
	c2_attention time;           /* layer.0: time self-attention, rotary */
	c2_attention group;          /* layer.1: group self-attention */
	const float *ln_ff;          /* (d_model) layer.2.layer_norm */
	const float *wi;             /* (d_ff, d_model) layer.2.mlp.wi */
	const float *wo;             /* (d_model, d_ff) layer.2.mlp.wo */
	mm_pack pwi, pwo;            /* packed, owned (.p NULL: not packed) */
} c2_layer;

typedef struct {
	int in, hid, out;
	const float *hw, *hb;        /* hidden_layer (hid, in), (hid) */
	const float *ow, *ob;        /* output_layer (out, hid), (out) */
	const float *rw, *rb;        /* residual_layer (out, in), (out) */
	mm_pack phw, pow, prw;       /* packed, owned (.p NULL: not packed) */
} c2_resblock;

typedef struct {
	const float *shared;         /* (2, d_model): row 1 is [REG] */
	c2_resblock in;              /* 3 * patch -> d_model */
	c2_resblock out;             /* d_model -> num_quantiles * patch */
	c2_layer *layers;            /* num_layers, owned array */
	const float *final_ln;       /* (d_model) */
} c2_weights;

typedef struct {
	c2_config c;
	c2_weights w;
	st_file st;
	int inner;                   /* num_heads * d_kv */
	float *inv_freq;             /* (d_kv / 2) rotary frequencies, owned */
	mm_fn *gemm;                 /* mm_gemm; tests may set mm_gemm_naive */
} chronos2_model;

/* One series of a call.  ctx[0..n-1], oldest first, NaN = missing (only
 * the last context_length values are used).  Series with the same group id
 * attend to each other (a target with its covariates); distinct ids are
 * independent.  future[0..nfuture-1] (may be NULL): known future values of
 * a covariate from the first forecast step on, NaN = unknown. */
typedef struct {
	const float *ctx;
	int n;
	int group;
	const float *future;
	int nfuture;
} c2_series;

/* Load the checkpoint directory `dir` (config.json + model.safetensors):
 * every tensor the model needs with its exact shape (F32, F16 or BF16),
 * and no tensor it does not know.  Returns a model, or NULL with e filled
 * (CP_DATA "<file>: ..." naming the tensor for bad content, CP_IO when a
 * file is unreadable). */
chronos2_model *chronos2_load(const char *dir, cp_err *e);
void chronos2_free(chronos2_model *m);

/* One forward pass (Chronos2Model.forward) with nout output patches
 * (1..max_output_patches is what the model was trained for; any nout >= 1
 * runs).  align_all != 0 places every series as the public pipeline's
 * left-padded batch does (all aligned on the longest series of the call:
 * rotary positions then depend on the other series, by float rounding
 * only); 0 aligns only the series of one group, so a series' result does
 * not depend on the other groups in the call.  Writes
 * out[(i * num_quantiles + q) * nout * patch + h] in the series' own units.
 * Returns 0, or -1 with e filled (CP_USAGE for an empty series or nout < 1). */
int chronos2_forward(chronos2_model *m, int nser, const c2_series *s, int nout, int align_all,
                     float *out, cp_err *e);

/* Options of chronos2_predict; zero-initialised means the pipeline's
 * defaults. */
typedef struct {
	int max_output_patches;      /* 0: the config's */
	int nunrolled;               /* 0: levels 0.1, 0.2, ..., 0.9 */
	const double *unrolled;      /* levels appended to the context past the
	                              * first forward pass; a subset of the model's */
	int align_all;               /* as chronos2_forward */
} c2_predict_opts;

/* Chronos2Pipeline.predict for `horizon` steps: one forward pass of
 * min(ceil(horizon / patch), max_output_patches) patches; while steps
 * remain, each series is copied once per unrolled level (copy u of group g
 * forms group (g, u)), copy u appends the level-u value (interpolated from
 * the last forecast) to its context, keeps the last context_length values
 * (known future covariate values replace the appended ones), runs the next
 * forward pass, and the copies' num_unrolled x num_quantiles values per step
 * are reduced to the model's levels with weighted_quantile (weights from
 * the levels' trapezoidal probability masses).  Writes out[(i * nq + q) *
 * horizon + h].  Returns 0, or -1 with e filled (CP_USAGE for bad options). */
int chronos2_predict(chronos2_model *m, int nser, const c2_series *s, int horizon,
                     const c2_predict_opts *o, float *out, cp_err *e);

/* interpolate_quantiles of chronos-forecasting's utils.py for one row:
 * levels[0..nl-1] (any order) with values vals[0..nl-1]; the queries
 * q[0..nq-1] in [0, 1] are linearly interpolated, and held flat at the end
 * values outside [min level, max level].  Writes out[0..nq-1]. */
void chronos2_interpolate(const float *q, int nq, const float *levels, const float *vals, int nl,
                          float *out);

/* weighted_quantile of utils.py for one row: samples[0..ns-1] with
 * weights w[0..ns-1] (> 0), queried at q[0..nq-1].  scratch: 6 * ns + 4
 * floats.  Writes out[0..nq-1]. */
void chronos2_weighted_quantile(const float *q, int nq, const float *w, const float *samples, int ns,
                                float *scratch, float *out);

/* Chronos2Pipeline.predict_quantiles at the requested levels: the model's
 * own level when a requested one is among them, else interpolated (flat
 * outside the model's range).  pred: nq_model x horizon (one series, as
 * chronos2_predict writes it); out: nlev x horizon.  The point forecast the
 * pipeline returns is the 0.5 level (chronos2_median_index). */
void chronos2_quantiles_at(const chronos2_model *m, const double *levels, int nlev,
                           const float *pred, int horizon, float *out);

/* The instance-norm location and scale chronos2_forward uses for the
 * context x[0..n-1] (its last context_length values; NaN = missing). */
void chronos2_scaling(const chronos2_model *m, const float *x, int n, float *loc, float *scale);

/* Index of level 0.5 among the model's quantiles, or -1. */
int chronos2_median_index(const chronos2_model *m);

/* The Chronos-2 forecaster (forecast.h), a quantile model: levels are the
 * model's quantiles in ascending order (0.5 among them, else CP_DATA: the
 * pipeline's point forecast is the 0.5 level), each window forecast as its
 * own group (independent of the other windows of the call), in chunks of
 * windows that bound memory.  Context values must be finite as floats or
 * NaN (missing).  `threads` is the OpenBLAS thread count (set with
 * mm_set_threads).  NULL with e filled when the checkpoint does not load. */
forecaster *chronos2_forecaster_new(const char *model_dir, int threads, cp_err *e);

#endif
