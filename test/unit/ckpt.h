/* ckpt.h — test helpers: build safetensors images and write random
 * Chronos-T5 checkpoint directories (config.json + model.safetensors).
 * Header-only, shared by the unit tests and the benchmark. */
#ifndef CHRONOPT_TEST_CKPT_H
#define CHRONOPT_TEST_CKPT_H
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	const char *name;
	const char *dtype;   /* "F32", "BF16", "I64", ... */
	int ndim;
	int64_t shape[4];
	size_t nbytes;       /* data size */
} ck_tensor;

/* The JSON header for tensors t[0..n-1] laid out back to back, padded with
 * spaces to a multiple of 8 bytes.  Caller frees. */
static inline char *ck_header(const ck_tensor *t, int n, size_t *len)
{
	size_t cap = 256 + (size_t)n * 256, at = 0;
	char *h = malloc(cap);
	size_t off = 0;
	at += (size_t)snprintf(h + at, cap - at, "{\"__metadata__\":{\"format\":\"pt\"}");
	for (int i = 0; i < n; i++) {
		if (cap - at < 512)
			h = realloc(h, cap *= 2);
		at += (size_t)snprintf(h + at, cap - at, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[", t[i].name, t[i].dtype);
		for (int d = 0; d < t[i].ndim; d++)
			at += (size_t)snprintf(h + at, cap - at, "%s%lld", d ? "," : "", (long long)t[i].shape[d]);
		at += (size_t)snprintf(h + at, cap - at, "],\"data_offsets\":[%zu,%zu]}", off, off + t[i].nbytes);
		off += t[i].nbytes;
	}
	at += (size_t)snprintf(h + at, cap - at, "}");
	while (at % 8) {
		h[at++] = ' ';
	}
	h[at] = 0;
	*len = at;
	return h;
}

/* A whole safetensors image from a header text and data bytes. */
static inline uint8_t *ck_image(const char *hdr, size_t hlen, const void *data, size_t dlen, size_t *len)
{
	uint8_t *b = malloc(8 + hlen + dlen + 1);
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
	memcpy(b + 8, hdr, hlen);
	if (dlen)
		memcpy(b + 8 + hlen, data, dlen);
	*len = 8 + hlen + dlen;
	return b;
}

static inline int ck_write(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int ok = fwrite(buf, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* ------------------------------------------------ random Chronos-T5 model */

typedef struct {
	int d_model, d_kv, d_ff, num_layers, num_decoder_layers, num_heads, vocab;
	int context_length, prediction_length;
	int gated, tied;
} ck_dims;

static inline uint64_t ck_rng(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#define CK_MAXT 512
typedef struct {
	int n;
	ck_tensor t[CK_MAXT];
	char names[CK_MAXT][96];
	float scale[CK_MAXT];  /* 0: layer norm (ones); else uniform(-s, s) */
} ck_list;

static inline void ck_add(ck_list *l, const char *name, int64_t a, int64_t b, float scale)
{
	ck_tensor *t = &l->t[l->n];
	snprintf(l->names[l->n], sizeof(l->names[0]), "%s", name);
	t->name = l->names[l->n];
	t->dtype = "F32";
	t->ndim = b ? 2 : 1;
	t->shape[0] = a;
	t->shape[1] = b;
	t->nbytes = (size_t)a * (size_t)(b ? b : 1) * 4;
	l->scale[l->n] = scale;
	l->n++;
}

/* The encoder and decoder stacks of a T5 with dims d (not the embedding). */
static inline void ck_t5_stacks(ck_list *l, const ck_dims *d)
{
	char nm[96];
	int in = d->num_heads * d->d_kv;
	float sd = 1.0f / sqrtf((float)d->d_model), si = 1.0f / sqrtf((float)in);
	float sf = 1.0f / sqrtf((float)d->d_ff);
	for (int dec = 0; dec < 2; dec++) {
		const char *s = dec ? "decoder" : "encoder";
		int nl = dec ? d->num_decoder_layers : d->num_layers;
		snprintf(nm, sizeof(nm), "%s.block.0.layer.0.SelfAttention.relative_attention_bias.weight", s);
		ck_add(l, nm, 32, d->num_heads, 1.0f);
		snprintf(nm, sizeof(nm), "%s.final_layer_norm.weight", s);
		ck_add(l, nm, d->d_model, 0, 0);
		for (int i = 0; i < nl; i++) {
			int sub = 0;
			for (int a = 0; a < 1 + dec; a++, sub++) {
				const char *an = a ? "EncDecAttention" : "SelfAttention";
				snprintf(nm, sizeof(nm), "%s.block.%d.layer.%d.layer_norm.weight", s, i, sub);
				ck_add(l, nm, d->d_model, 0, 0);
				static const char qkv[] = "qkv";
				for (int k = 0; k < 3; k++) {
					snprintf(nm, sizeof(nm), "%s.block.%d.layer.%d.%s.%c.weight", s, i, sub, an, qkv[k]);
					ck_add(l, nm, in, d->d_model, k == 0 ? sd * 2 : sd);
				}
				snprintf(nm, sizeof(nm), "%s.block.%d.layer.%d.%s.o.weight", s, i, sub, an);
				ck_add(l, nm, d->d_model, in, si);
			}
			snprintf(nm, sizeof(nm), "%s.block.%d.layer.%d.layer_norm.weight", s, i, sub);
			ck_add(l, nm, d->d_model, 0, 0);
			for (int g = 0; g < (d->gated ? 2 : 1); g++) {
				snprintf(nm, sizeof(nm), "%s.block.%d.layer.%d.DenseReluDense.%s.weight", s, i, sub,
				         d->gated ? (g ? "wi_1" : "wi_0") : "wi");
				ck_add(l, nm, d->d_ff, d->d_model, sd);
			}
			snprintf(nm, sizeof(nm), "%s.block.%d.layer.%d.DenseReluDense.wo.weight", s, i, sub);
			ck_add(l, nm, d->d_model, d->d_ff, sf);
		}
	}
}

/* Write the tensors of l with uniform random values (layer norms: ones)
 * from seed as F32 safetensors at path.  Returns 0 or -1. */
static inline int ck_write_list(const char *path, const ck_list *l, uint64_t seed)
{
	size_t hlen;
	char *hdr = ck_header(l->t, l->n, &hlen);
	FILE *f = fopen(path, "wb");
	if (!f) {
		free(hdr);
		return -1;
	}
	uint8_t len8[8];
	for (int i = 0; i < 8; i++)
		len8[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
	int ok = fwrite(len8, 1, 8, f) == 8 && fwrite(hdr, 1, hlen, f) == hlen;
	free(hdr);
	float buf[4096];
	uint64_t st = seed;
	for (int i = 0; ok && i < l->n; i++) {
		size_t n = l->t[i].nbytes / 4;
		for (size_t at = 0; ok && at < n;) {
			size_t m = n - at < 4096 ? n - at : 4096;
			for (size_t j = 0; j < m; j++) {
				double u = (double)(ck_rng(&st) >> 11) * 0x1.0p-53 * 2 - 1;
				buf[j] = l->scale[i] == 0 ? 1.0f : (float)(u * l->scale[i] * 1.7320508);
			}
			ok = fwrite(buf, 4, m, f) == m;
			at += m;
		}
	}
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Write config.json and model.safetensors of a random model into dir
 * (which must exist).  Returns 0 or -1. */
static inline int ck_random_model(const char *dir, const ck_dims *d, uint64_t seed)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/config.json", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "{\"d_model\": %d, \"d_kv\": %d, \"d_ff\": %d, \"num_layers\": %d, "
	        "\"num_decoder_layers\": %d, \"num_heads\": %d, \"vocab_size\": %d, "
	        "\"feed_forward_proj\": \"%s\", \"relative_attention_num_buckets\": 32, "
	        "\"relative_attention_max_distance\": 128, \"layer_norm_epsilon\": 1e-6, "
	        "\"decoder_start_token_id\": 0, \"pad_token_id\": 0, \"eos_token_id\": 1%s,\n"
	        "\"chronos_config\": {\"tokenizer_class\": \"MeanScaleUniformBins\", "
	        "\"tokenizer_kwargs\": {\"low_limit\": -15.0, \"high_limit\": 15.0}, "
	        "\"n_tokens\": %d, \"n_special_tokens\": 2, \"pad_token_id\": 0, \"eos_token_id\": 1, "
	        "\"use_eos_token\": true, \"model_type\": \"seq2seq\", \"context_length\": %d, "
	        "\"prediction_length\": %d, \"num_samples\": 20, \"temperature\": 1.0, "
	        "\"top_k\": 50, \"top_p\": 1.0}}\n",
	        d->d_model, d->d_kv, d->d_ff, d->num_layers, d->num_decoder_layers, d->num_heads,
	        d->vocab, d->gated ? "gated-gelu" : "relu", d->tied ? "" : ", \"tie_word_embeddings\": false",
	        d->vocab, d->context_length, d->prediction_length);
	if (fclose(f) != 0)
		return -1;
	static ck_list l;
	l.n = 0;
	ck_add(&l, "shared.weight", d->vocab, d->d_model, 1.0f);
	if (!d->tied)
		ck_add(&l, "lm_head.weight", d->vocab, d->d_model, 1.0f / sqrtf((float)d->d_model));
	ck_t5_stacks(&l, d);
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	return ck_write_list(path, &l, seed);
}

/* ---------------------------------------------- random Chronos-Bolt model */

static inline void ck_resblock(ck_list *l, const char *pre, int in, int hid, int out)
{
	char nm[96];
	snprintf(nm, sizeof(nm), "%s.hidden_layer.weight", pre);
	ck_add(l, nm, hid, in, 1.0f / sqrtf((float)in));
	snprintf(nm, sizeof(nm), "%s.hidden_layer.bias", pre);
	ck_add(l, nm, hid, 0, 0.1f);
	snprintf(nm, sizeof(nm), "%s.output_layer.weight", pre);
	ck_add(l, nm, out, hid, 1.0f / sqrtf((float)hid));
	snprintf(nm, sizeof(nm), "%s.output_layer.bias", pre);
	ck_add(l, nm, out, 0, 0.1f);
	snprintf(nm, sizeof(nm), "%s.residual_layer.weight", pre);
	ck_add(l, nm, out, in, 1.0f / sqrtf((float)in));
	snprintf(nm, sizeof(nm), "%s.residual_layer.bias", pre);
	ck_add(l, nm, out, 0, 0.1f);
}

/* A random Chronos-Bolt checkpoint (with [REG], levels 0.1..0.9, patches of
 * `patch` values, d->vocab ignored) into dir.  Returns 0 or -1. */
static inline int ck_random_bolt(const char *dir, const ck_dims *d, int patch, uint64_t seed)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/config.json", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "{\"architectures\": [\"ChronosBoltModelForForecasting\"], "
	        "\"chronos_pipeline_class\": \"ChronosBoltPipeline\", \"d_model\": %d, \"d_kv\": %d, "
	        "\"d_ff\": %d, \"num_layers\": %d, \"num_decoder_layers\": %d, \"num_heads\": %d, "
	        "\"vocab_size\": 2, \"feed_forward_proj\": \"%s\", \"decoder_start_token_id\": 0,\n"
	        "\"chronos_config\": {\"context_length\": %d, \"prediction_length\": %d, "
	        "\"input_patch_size\": %d, \"input_patch_stride\": %d, "
	        "\"quantiles\": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], \"use_reg_token\": true}}\n",
	        d->d_model, d->d_kv, d->d_ff, d->num_layers, d->num_decoder_layers, d->num_heads,
	        d->gated ? "gated-gelu" : "relu", d->context_length, d->prediction_length, patch, patch);
	if (fclose(f) != 0)
		return -1;
	static ck_list l;
	l.n = 0;
	ck_add(&l, "shared.weight", 2, d->d_model, 1.0f);
	ck_resblock(&l, "input_patch_embedding", 2 * patch, d->d_ff, d->d_model);
	ck_resblock(&l, "output_patch_embedding", d->d_model, d->d_ff, 9 * d->prediction_length);
	ck_t5_stacks(&l, d);
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	return ck_write_list(path, &l, seed);
}

#endif
