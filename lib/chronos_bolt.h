/*
 * chronos_bolt.h — Chronos-Bolt inference: a T5 encoder over patches of the
 * scaled series and one decoder step feeding a direct quantile head, on the
 * same config/weights/matmul layer as Chronos-T5 (chronos.h; the model is a
 * chronos_model with c.family == CC_BOLT).
 *
 * Semantics follow chronos-forecasting's ChronosBoltModelForForecasting and
 * ChronosBoltPipeline (src/chronos/chronos_bolt.py):
 *   - the context keeps its last context_length values (the model's own
 *     limit); NaN = missing, mask = observed;
 *   - instance scaling in float32: loc = mean of the observed values (0 when
 *     none), scale = their population standard deviation (1 when none;
 *     |loc| + 1e-5 when it is 0); x -> (x - loc) / scale;
 *   - patching: NaN left padding up to a multiple of input_patch_size, then
 *     windows of input_patch_size every input_patch_stride values; missing
 *     values become 0; each patch's input is its values then its mask
 *     (2 * input_patch_size numbers); a patch is attended when any of its
 *     values is observed;
 *   - input_patch_embedding (a residual block), the [REG] embedding
 *     appended (attended) when use_reg_token; the T5 encoder with relative
 *     position bias and that mask;
 *   - one T5 decoder step from decoder_start_token_id over the encoder
 *     output (cross-attention masked the same way), final RMS norm, no
 *     d_model^-0.5 scaling;
 *   - output_patch_embedding -> nquantiles x prediction_length, then
 *     x * scale + loc;
 *   - steps past prediction_length (ChronosBoltPipeline.predict as of
 *     chronos-forecasting 2.x): every quantile path of the first block is
 *     appended to the context (one context per level), each is forecast,
 *     and the nquantiles^2 values per step are reduced to the model's
 *     levels with torch.quantile (linear); repeated until `steps` are done.
 */
#ifndef CHRONOPT_CHRONOS_BOLT_H
#define CHRONOPT_CHRONOS_BOLT_H
#include "chronos.h"

/* One forward pass of `nrow` contexts: row r is ctx[r][0..n[r]-1] (float,
 * NaN = missing, n[r] >= 1; only the last context_length values are used).
 * Writes q[r * nquantiles * prediction_length + j * prediction_length + h],
 * quantile level j at step h in the series' scale; loc/scale (may be NULL)
 * receive each row's scaling. */
void bolt_forward(chronos_model *m, int nrow, const float *const *ctx, const int *n,
                  float *q, float *loc, float *scale);

/* Forecast nwin windows `steps` ahead, rolling out past prediction_length
 * as the pipeline does.  Window w's context is ctx[w][0..nctx[w]-1] (NaN =
 * missing).  Writes out[(w * nquantiles + j) * steps + h].  Returns 0, or
 * -1 with e filled (CP_USAGE for steps < 1 or an empty context). */
int bolt_predict(chronos_model *m, int nwin, const double *const *ctx, const int *nctx,
                 int steps, float *out, cp_err *e);

/* torch.quantile(x, q, interpolation="linear") of n floats (sorted here in
 * place, NaN last: any NaN gives NaN), arithmetic in float32 as torch does
 * it for float32 input. */
float bolt_torch_quantile(float *x, int n, float q);

/* ChronosBoltPipeline.predict_quantiles at one step: the model's values
 * v[0..nq-1] at its levels lv[] -> out[0..nreq-1] at the levels req[].
 * When every requested level is one of the model's, those values as they
 * are; otherwise all of them from torch.quantile over [v0, v..., v_last]
 * (nq + 2 values read as an even grid on [0, 1]) at each requested level.
 * Levels must be in [0, 1]. */
void bolt_quantiles_at(const double *lv, int nq, const float *v, int nreq, const double *req,
                       float *out);

/* Turn f into the Chronos-Bolt forecaster (forecast.h) over m, which it
 * then owns (f->free releases both). */
void bolt_forecaster_init(forecaster *f, chronos_model *m);

#endif
