/*
 * chronos.h — Chronos-T5 inference (encoder-decoder T5 + MeanScaleUniformBins)
 * on OpenBLAS, written after llama2.c: a config (cc_config), weights that
 * point into the mmapped model.safetensors (chronos_weights), and run state
 * allocated once per call and reused at every step.
 *
 * Semantics follow Hugging Face T5ForConditionalGeneration and
 * chronos-forecasting's ChronosPipeline.predict:
 *   - T5 RMS layer norm (no mean, no bias), unscaled attention scores,
 *     relative position buckets computed once per stack (bidirectional in
 *     the encoder, causal in the decoder), masked keys excluded (HF adds the
 *     most negative float, which gives them probability exactly 0);
 *   - relu / gelu_new / gelu / silu feed-forward, optionally gated;
 *   - tied head: shared embedding, decoder output scaled by d_model^-0.5
 *     first (a stored lm_head.weight is then ignored); untied: lm_head.weight;
 *   - generation with min_new_tokens = max_new_tokens: EOS never sampled;
 *     warpers applied in HF's order: temperature, top-k, top-p;
 *   - horizons beyond prediction_length: each further round appends the
 *     (lower) median of the previous round's samples to the context,
 *     re-tokenizes the last context_length values with a fresh scale and
 *     samples min(remaining, prediction_length) more steps.
 */
#ifndef CHRONOPT_CHRONOS_H
#define CHRONOPT_CHRONOS_H
#include "chronos_config.h"
#include "forecast.h"
#include "matmul.h"
#include "safetensors.h"
#include "tokenizer.h"

typedef struct {
	const float *ln_sa;          /* (d_model) self-attention RMS norm */
	const float *q, *k, *v;      /* (inner, d_model) */
	const float *o;              /* (d_model, inner) */
	const float *ln_ca;          /* (d_model) cross-attention norm; decoder only */
	const float *cq, *ck, *cv;   /* (inner, d_model); decoder only */
	const float *co;             /* (d_model, inner); decoder only */
	const float *ln_ff;          /* (d_model) */
	const float *wi;             /* (d_ff, d_model); wi_0 when gated */
	const float *wi1;            /* (d_ff, d_model); gated only */
	const float *wo;             /* (d_model, d_ff) */
	/* the weights above packed for mm_packed (matmul.h), owned; .p is
	 * NULL when not packed (a CPU without a vector path; Bolt's decoder
	 * packs v alone, not pqkv, and not ck nor cv, which it reads per head) */
	mm_pack pq, pk, pv;          /* encoder only */
	mm_pack pqkv;                /* decoder: q, k, v stacked, (3 * inner) x d_model:
	                              * one product serves all three */
	mm_pack po;
	mm_pack pcq, pck, pcv, pco;  /* decoder only */
	mm_pack pwi, pwi1, pwo;      /* pwi1: gated only */
} chronos_layer;

typedef struct {
	const float *embed;          /* (vocab, d_model) shared.weight */
	const float *enc_rel;        /* (num_buckets, num_heads) */
	const float *dec_rel;        /* (num_buckets, num_heads) */
	chronos_layer *enc;          /* num_layers, owned array */
	chronos_layer *dec;          /* num_decoder_layers, owned array */
	const float *enc_ln, *dec_ln;/* (d_model) final norms */
	const float *head;           /* (vocab, d_model): embed when tied */
	mm_pack phead;               /* head packed (T5, when the layers are) */
} chronos_weights;

/* Chronos-Bolt's ResidualBlock: out = W_o act(W_h x + b_h) + b_o + W_r x + b_r. */
typedef struct {
	int in, hid, out;
	const float *hw, *hb;        /* (hid, in), (hid) hidden_layer */
	const float *ow, *ob;        /* (out, hid), (out) output_layer */
	const float *rw, *rb;        /* (out, in), (out) residual_layer */
	mm_pack phw, pow, prw;       /* hw, ow, rw packed (.p NULL: not packed) */
} chronos_resblock;

typedef struct {
	cc_config c;                 /* c.family: CC_T5 or CC_BOLT */
	tok_t tok;                   /* T5 only */
	chronos_resblock patch_in;   /* Bolt: (2 * patch_size) -> d_model */
	chronos_resblock patch_out;  /* Bolt: d_model -> nquantiles * prediction_length */
	chronos_weights w;
	st_file st;
	int inner;                   /* num_heads * d_kv */
	float head_scale;            /* d_model^-0.5 when tied, else 1 */
	mm_fn *gemm;                 /* mm_gemm (Bolt: mm_gemm_vec); tests may set mm_gemm_naive,
	                              * which also turns the packed products off */
	int max_rows;                /* decode batch cap; 0: from the memory budget */
	unsigned char *used;         /* while loading: tensors asked for */
} chronos_model;

typedef struct {
	int num_samples;             /* >= 1 */
	double temperature;          /* > 0; 1: off */
	int top_k;                   /* 0: off */
	double top_p;                /* 1: off */
} chronos_sampling;

/* Load the checkpoint directory `dir` (config.json + model.safetensors) of
 * a Chronos-T5 or Chronos-Bolt model (c.family says which).  Every tensor
 * the family needs must be present with its exact shape (F32, F16 or BF16);
 * a tensor of a layer the config does not declare is refused, and so is any
 * other tensor the model does not have, except copies of the embedding
 * (encoder/decoder.embed_tokens.weight, same shape) and an lm_head.weight
 * that is not used (tied T5 or Bolt), which HF ignores too.  Returns a model the caller frees with
 * chronos_free, or NULL with e filled (CP_DATA "<file>: ..." for bad
 * content, CP_IO when unreadable). */
chronos_model *chronos_load(const char *dir, cp_err *e);
void chronos_free(chronos_model *m);

/* Encoder: ids/mask (n tokens, from tok_encode) -> out (n x d_model, final
 * norm applied; caller's buffer). */
void chronos_encode(chronos_model *m, const int *ids, const unsigned char *mask, int n, float *out);

/* The encoder from input embeddings: x (n x d_model, overwritten: the
 * residual stream) -> out (n x d_model, final norm applied). */
void chronos_encode_embeds(chronos_model *m, float *x, const unsigned char *mask, int n, float *out);

/* Teacher-forced decoder logits: for the encoder input (ids, mask, n) and
 * the decoder input prefix[0..len-1] (starting with the decoder start
 * token), writes logits[t * vocab + v] for every position t (caller's
 * buffer, len * vocab floats).  Uses the same step code as sampling. */
void chronos_logits(chronos_model *m, const int *ids, const unsigned char *mask, int n,
                    const int *prefix, int len, float *logits);

/* Sample nwin windows.  Window w's context is ctx[w][0..nctx[w]-1]
 * (NaN = missing; only its last context_length values are used).  Path s of
 * window w uses only the PRNG stream (seed, stream[w], s).  Windows are
 * decoded one after the other, their rows in chunks that depend only on the
 * model and num_samples (never on steps or the other windows), so a
 * window's paths are the same bytes whatever else is in the call, and its
 * first k steps are those of any longer run with the same num_samples
 * (the forecast cache relies on both).  Writes
 * paths[(w * num_samples + s) * steps + h] and, when tokens is non-NULL,
 * the sampled token ids at the same index.  Returns 0, or -1 with e filled
 * (CP_USAGE for bad settings). */
int chronos_predict(chronos_model *m, const chronos_sampling *sp, int nwin,
                    const double *const *ctx, const int *nctx, int steps,
                    uint64_t seed, const uint64_t *stream, double *paths, int *tokens,
                    cp_err *e);

/* Sample one token from logits[0..vocab-1] (modified in place) as HF's
 * sampling does after its processors: EOS -> -inf, then temperature,
 * top-k, top-p; `u` is a uniform number in [0, 1).  work: 2 * vocab ints
 * of scratch.  Exposed for tests. */
int chronos_sample_token(float *logits, int vocab, int eos, const chronos_sampling *sp,
                         double u, int *work);

/* Bucket of relative position rp = key - query, as HF T5 computes it
 * (float32 log).  Exposed for tests. */
int chronos_rel_bucket(int rp, int bidirectional, int num_buckets, int max_distance);

/* The Chronos forecaster (forecast.h).  `threads` is the OpenBLAS thread
 * count (set and recorded with mm_set_threads).  Caller frees with
 * f->free(f).  NULL with e filled when the checkpoint cannot be loaded. */
forecaster *chronos_forecaster_new(const char *model_dir, int threads, cp_err *e);

#endif
