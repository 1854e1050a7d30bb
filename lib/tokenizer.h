/*
 * tokenizer.h — Chronos' MeanScaleUniformBins tokenizer, as in
 * chronos-forecasting (src/chronos/chronos.py), computed in float32 like it:
 *
 *   values are cast to float; scale = mean |x| over the observed (non-NaN)
 *   values, 1 when that is not > 0; token = bucketize(x / scale, boundaries,
 *   right) + n_special_tokens, clamped to [0, n_tokens - 1]; NaN -> PAD with
 *   attention mask 0; EOS appended (mask 1) when use_eos_token.  Contexts
 *   longer than context_length keep their last context_length values.
 *   centres = linspace(low, high, n_tokens - n_special - 1) in float32 exactly
 *   as torch's CPU kernel computes it; boundaries = [-1e20, midpoints, 1e20].
 *   Decoding: centres[clamp(id - n_special - 1)] * scale, in float32.
 */
#ifndef CHRONOPT_TOKENIZER_H
#define CHRONOPT_TOKENIZER_H
#include "chronos_config.h"

typedef struct {
	int n_tokens, n_special, pad_id, eos_id, use_eos, context_length;
	int ncenters;
	float *centers;    /* ncenters, owned */
	float *bounds;     /* ncenters + 1, owned */
} tok_t;

/* Build from a checked config.  Returns 0 (tok_free releases). */
int tok_init(tok_t *t, const cc_config *c);
void tok_free(tok_t *t);

/* Tokens tok_encode writes for a context of n values. */
int tok_len(const tok_t *t, int n);

/* Encode ctx[0..n-1] (oldest first, NaN = missing) into ids[] and mask[]
 * (tok_len(t, n) entries each, caller's arrays).  Returns the scale. */
float tok_encode(const tok_t *t, const double *ctx, int n, int *ids, unsigned char *mask);

/* Value of token `id` under `scale`: float32 centre times float32 scale. */
float tok_decode(const tok_t *t, int id, float scale);

/* torch.linspace(start, end, n) in float32 as torch's x86 AVX2 kernel
 * computes it (FMA for each 8-wide block's base, plain steps within). */
void tok_linspace(float start, float end, int n, float *out);

#endif
