/* chronos.c — Chronos-T5 loading and forward pass; see chronos.h. */
#include "chronos.h"
#include "chronos_internal.h"
#include "prng.h"
#include "vecmath.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- loading */

/* Marks the tensor in m->used (one flag per m->st.t entry, while loading):
 * whatever is left unmarked at the end is not part of the model. */
static void mark_used(chronos_model *m, const char *name)
{
	const st_tensor *t = st_find(&m->st, name);
	if (t && m->used)
		m->used[t - m->st.t] = 1;
}

static const float *get(chronos_model *m, const char *name, int64_t d0, int64_t d1, cp_err *e)
{
	int64_t shape[2] = {d0, d1};
	const float *p = st_get(&m->st, name, d1 ? 2 : 1, shape, e);
	if (p)
		mark_used(m, name);
	return p;
}

#define NAME(...) (snprintf(nm, sizeof(nm), __VA_ARGS__), nm)

static int load_layer(chronos_model *m, chronos_layer *L, const char *stack, int i, int dec, cp_err *e)
{
	const cc_config *c = &m->c;
	int64_t d = c->d_model, in = m->inner, ff = c->d_ff;
	char nm[160];
	const char *sa = "SelfAttention";
	if (!(L->ln_sa = get(m, NAME("%s.block.%d.layer.0.layer_norm.weight", stack, i), d, 0, e)) ||
	    !(L->q = get(m, NAME("%s.block.%d.layer.0.%s.q.weight", stack, i, sa), in, d, e)) ||
	    !(L->k = get(m, NAME("%s.block.%d.layer.0.%s.k.weight", stack, i, sa), in, d, e)) ||
	    !(L->v = get(m, NAME("%s.block.%d.layer.0.%s.v.weight", stack, i, sa), in, d, e)) ||
	    !(L->o = get(m, NAME("%s.block.%d.layer.0.%s.o.weight", stack, i, sa), d, in, e)))
		return -1;
	int f = 1;
	if (dec) {
		const char *ca = "EncDecAttention";
		if (!(L->ln_ca = get(m, NAME("%s.block.%d.layer.1.layer_norm.weight", stack, i), d, 0, e)) ||
		    !(L->cq = get(m, NAME("%s.block.%d.layer.1.%s.q.weight", stack, i, ca), in, d, e)) ||
		    !(L->ck = get(m, NAME("%s.block.%d.layer.1.%s.k.weight", stack, i, ca), in, d, e)) ||
		    !(L->cv = get(m, NAME("%s.block.%d.layer.1.%s.v.weight", stack, i, ca), in, d, e)) ||
		    !(L->co = get(m, NAME("%s.block.%d.layer.1.%s.o.weight", stack, i, ca), d, in, e)))
			return -1;
		f = 2;
	}
	const char *dd = "DenseReluDense";
	if (!(L->ln_ff = get(m, NAME("%s.block.%d.layer.%d.layer_norm.weight", stack, i, f), d, 0, e)) ||
	    !(L->wo = get(m, NAME("%s.block.%d.layer.%d.%s.wo.weight", stack, i, f, dd), d, ff, e)))
		return -1;
	if (c->gated) {
		if (!(L->wi = get(m, NAME("%s.block.%d.layer.%d.%s.wi_0.weight", stack, i, f, dd), ff, d, e)) ||
		    !(L->wi1 = get(m, NAME("%s.block.%d.layer.%d.%s.wi_1.weight", stack, i, f, dd), ff, d, e)))
			return -1;
	} else if (!(L->wi = get(m, NAME("%s.block.%d.layer.%d.%s.wi.weight", stack, i, f, dd), ff, d, e))) {
		return -1;
	}
	return 0;
}

/* Every "encoder.block.N." / "decoder.block.N." tensor must belong to a
 * layer the config declares: a file for a deeper model is a mismatch. */
static int check_depth(chronos_model *m, cp_err *e)
{
	for (int i = 0; i < m->st.n; i++) {
		const char *s = m->st.t[i].name;
		int n, len = 0, lim;
		if (sscanf(s, "encoder.block.%d.%n", &n, &len) == 1 && len > 0)
			lim = m->c.num_layers;
		else if (sscanf(s, "decoder.block.%d.%n", &n, &len) == 1 && len > 0)
			lim = m->c.num_decoder_layers;
		else
			continue;
		if (n < 0 || n >= lim)
			return cp_fail(e, CP_DATA, "%s: tensor '%s' does not fit config.json (%d %s layers)",
			               m->st.path, s, lim, s[0] == 'e' ? "encoder" : "decoder");
	}
	return 0;
}

static int load_resblock(chronos_model *m, chronos_resblock *b, const char *pre, int in, int hid,
                         int out, cp_err *e)
{
	char nm[160];
	b->in = in, b->hid = hid, b->out = out;
	if (!(b->hw = get(m, NAME("%s.hidden_layer.weight", pre), hid, in, e)) ||
	    !(b->hb = get(m, NAME("%s.hidden_layer.bias", pre), hid, 0, e)) ||
	    !(b->ow = get(m, NAME("%s.output_layer.weight", pre), out, hid, e)) ||
	    !(b->ob = get(m, NAME("%s.output_layer.bias", pre), out, 0, e)) ||
	    !(b->rw = get(m, NAME("%s.residual_layer.weight", pre), out, in, e)) ||
	    !(b->rb = get(m, NAME("%s.residual_layer.bias", pre), out, 0, e)))
		return -1;
	return 0;
}

/* Every tensor of the file must be one the model uses, or a copy HF keeps
 * of the tied embedding (encoder/decoder.embed_tokens.weight, same shape),
 * or lm_head.weight when the model has no head of its own (HF ignores it). */
static int check_unused(chronos_model *m, cp_err *e)
{
	int64_t emb[2] = {m->c.vocab_size, m->c.d_model};
	for (int i = 0; i < m->st.n; i++) {
		const char *s = m->st.t[i].name;
		if (m->used[i])
			continue;
		if (!strcmp(s, "encoder.embed_tokens.weight") || !strcmp(s, "decoder.embed_tokens.weight") ||
		    !strcmp(s, "shared.weight")) {
			if (!st_get(&m->st, s, 2, emb, e))
				return -1;
			continue;
		}
		if (!strcmp(s, "lm_head.weight") && (m->c.family == CC_BOLT || m->c.tie_word_embeddings))
			continue;
		return cp_fail(e, CP_DATA, "%s: tensor '%s' is not part of a %s model", m->st.path, s,
		               cc_family_name(m->c.family));
	}
	return 0;
}

/* Pack W (N x K) into pk and give its mapped pages back: only the naive
 * twin of a test, or sgemm where mm_packed does not pay, reads it again. */
static void pack(chronos_model *m, mm_pack *pk, const float *W, int N, int K)
{
	mm_pack_init(pk, W, N, K, K);
	st_drop_pages(&m->st, W);
}

/* Pack the T5 weights for mm_packed: sgemm would repack a weight on every
 * call, which costs as much as the product when the decoder runs it on a
 * few rows (the samples) at each step.  The decoder's q, k and v are
 * stacked so one product serves all three.  Only where a vector path
 * exists: the plain-C one loses to sgemm.  The mapped pages of a packed
 * weight are given back, so the model's memory stays about what it was
 * (embedding and norms in the map, the products' weights packed). */
static void pack_layer(chronos_model *m, chronos_layer *L, int dec, float *qkv)
{
	const cc_config *c = &m->c;
	int d = c->d_model, in = m->inner, ff = c->d_ff;
	size_t blk = (size_t)in * d;
	if (dec && c->family == CC_BOLT) {
		/* Bolt's one decoder position needs v alone (its self-attention
		 * output is its value); ck and cv are read a head at a time */
		pack(m, &L->pv, L->v, in, d);
		pack(m, &L->pcq, L->cq, in, d);
		pack(m, &L->pco, L->co, d, in);
	} else if (dec) {
		memcpy(qkv, L->q, sizeof(float) * blk);
		memcpy(qkv + blk, L->k, sizeof(float) * blk);
		memcpy(qkv + 2 * blk, L->v, sizeof(float) * blk);
		mm_pack_init(&L->pqkv, qkv, 3 * in, d, d);
		st_drop_pages(&m->st, L->q), st_drop_pages(&m->st, L->k), st_drop_pages(&m->st, L->v);
		pack(m, &L->pcq, L->cq, in, d);
		pack(m, &L->pck, L->ck, in, d);
		pack(m, &L->pcv, L->cv, in, d);
		pack(m, &L->pco, L->co, d, in);
	} else {
		pack(m, &L->pq, L->q, in, d);
		pack(m, &L->pk, L->k, in, d);
		pack(m, &L->pv, L->v, in, d);
	}
	pack(m, &L->po, L->o, d, in);
	pack(m, &L->pwi, L->wi, ff, d);
	if (c->gated)
		pack(m, &L->pwi1, L->wi1, ff, d);
	pack(m, &L->pwo, L->wo, d, ff);
}

static void release_layer(chronos_layer *L)
{
	mm_pack *all[] = {&L->pq, &L->pk, &L->pv, &L->pqkv, &L->po, &L->pcq, &L->pck, &L->pcv,
	                  &L->pco, &L->pwi, &L->pwi1, &L->pwo};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		mm_pack_release(all[i]);
}

static void pack_resblock(chronos_model *m, chronos_resblock *b)
{
	pack(m, &b->phw, b->hw, b->hid, b->in);
	pack(m, &b->pow, b->ow, b->out, b->hid);
	pack(m, &b->prw, b->rw, b->out, b->in);
}

static void release_resblock(chronos_resblock *b)
{
	mm_pack_release(&b->phw), mm_pack_release(&b->pow), mm_pack_release(&b->prw);
}

static void pack_model(chronos_model *m)
{
	const cc_config *c = &m->c;
	float *qkv = cp_malloc(sizeof(float) * 3 * (size_t)m->inner * c->d_model);
	for (int i = 0; i < c->num_layers; i++)
		pack_layer(m, &m->w.enc[i], 0, qkv);
	for (int i = 0; i < c->num_decoder_layers; i++)
		pack_layer(m, &m->w.dec[i], 1, qkv);
	free(qkv);
	if (c->family == CC_BOLT) {
		pack_resblock(m, &m->patch_in);
		pack_resblock(m, &m->patch_out);
		return;
	}
	/* a tied head is the embedding, which token lookups keep reading */
	if (c->tie_word_embeddings)
		mm_pack_init(&m->w.phead, m->w.head, c->vocab_size, c->d_model, c->d_model);
	else
		pack(m, &m->w.phead, m->w.head, c->vocab_size, c->d_model);
}

static int load_weights(chronos_model *m, cp_err *e)
{
	const cc_config *c = &m->c;
	chronos_weights *w = &m->w;
	int64_t d = c->d_model, V = c->vocab_size;
	int bolt = c->family == CC_BOLT;
	const char *emb = "shared.weight";
	if (!st_find(&m->st, emb) && st_find(&m->st, "encoder.embed_tokens.weight"))
		emb = "encoder.embed_tokens.weight";
	else if (!st_find(&m->st, emb) && st_find(&m->st, "decoder.embed_tokens.weight"))
		emb = "decoder.embed_tokens.weight";
	if (!(w->embed = get(m, emb, V, d, e)) ||
	    !(w->enc_rel = get(m, "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
	                       c->num_buckets, c->num_heads, e)) ||
	    !(w->dec_rel = get(m, "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
	                       c->num_buckets, c->num_heads, e)) ||
	    !(w->enc_ln = get(m, "encoder.final_layer_norm.weight", d, 0, e)) ||
	    !(w->dec_ln = get(m, "decoder.final_layer_norm.weight", d, 0, e)))
		return -1;
	if (bolt) {
		w->head = NULL;  /* Bolt's output is the quantile head below */
		if (load_resblock(m, &m->patch_in, "input_patch_embedding", 2 * c->patch_size, c->d_ff,
		                  c->d_model, e) < 0 ||
		    load_resblock(m, &m->patch_out, "output_patch_embedding", c->d_model, c->d_ff,
		                  c->nquantiles * c->prediction_length, e) < 0)
			return -1;
	} else if (c->tie_word_embeddings) {
		w->head = w->embed;
	} else if (!(w->head = get(m, "lm_head.weight", V, d, e))) {
		return -1;
	}
	w->enc = cp_calloc((size_t)c->num_layers, sizeof(chronos_layer));
	w->dec = cp_calloc((size_t)c->num_decoder_layers, sizeof(chronos_layer));
	for (int i = 0; i < c->num_layers; i++)
		if (load_layer(m, &w->enc[i], "encoder", i, 0, e) < 0)
			return -1;
	for (int i = 0; i < c->num_decoder_layers; i++)
		if (load_layer(m, &w->dec[i], "decoder", i, 1, e) < 0)
			return -1;
	if (check_depth(m, e) < 0 || check_unused(m, e) < 0)
		return -1;
	if (mm_best_path() != MM_PATH_C)
		pack_model(m);
	return 0;
}

chronos_model *chronos_load(const char *dir, cp_err *e)
{
	chronos_model *m = cp_calloc(1, sizeof(*m));
	size_t n = strlen(dir) + 32;
	char *path = cp_malloc(n);
	snprintf(path, n, "%s/config.json", dir);
	if (cc_load(&m->c, path, e) < 0)
		goto fail;
	snprintf(path, n, "%s/generation_config.json", dir);
	int missing = 0;
	size_t glen;
	char *gen = cp_read_file(path, 4u << 20, &glen, &missing, e);
	if (!gen && !missing)
		goto fail;
	if (gen) {
		int grc = cc_generation(&m->c, gen, glen, path, e);
		free(gen);
		if (grc < 0)
			goto fail;
	}
	if (st_open_dir(&m->st, dir, e) < 0)
		goto fail;
	m->inner = m->c.num_heads * m->c.d_kv;
	m->head_scale = m->c.tie_word_embeddings ? (float)pow(m->c.d_model, -0.5) : 1.0f;
	m->gemm = m->c.family == CC_BOLT ? mm_gemm_vec : mm_gemm;
	m->used = cp_calloc((size_t)m->st.n + 1, 1);
	int rc = load_weights(m, e);
	free(m->used);
	m->used = NULL;
	if (rc < 0)
		goto fail;
	if (m->c.family == CC_T5)
		tok_init(&m->tok, &m->c);
	free(path);
	return m;
fail:
	free(path);
	chronos_free(m);
	return NULL;
}

void chronos_free(chronos_model *m)
{
	if (!m)
		return;
	for (int i = 0; m->w.enc && i < m->c.num_layers; i++)
		release_layer(&m->w.enc[i]);
	free(m->w.enc);
	for (int i = 0; m->w.dec && i < m->c.num_decoder_layers; i++)
		release_layer(&m->w.dec[i]);
	free(m->w.dec);
	mm_pack_release(&m->w.phead);
	release_resblock(&m->patch_in), release_resblock(&m->patch_out);
	tok_free(&m->tok);
	st_close(&m->st);
	free(m);
}

/* ------------------------------------------------------------ the pieces */

int chronos_rel_bucket(int rp, int bidirectional, int num_buckets, int max_distance)
{
	int b = 0, nb = num_buckets;
	if (bidirectional) {
		nb /= 2;
		if (rp > 0)
			b += nb;
		rp = rp < 0 ? -rp : rp;
	} else {
		rp = rp < 0 ? -rp : 0;
	}
	int exact = nb / 2;
	if (rp < exact)
		return b + rp;
	/* float32 as in HF: log(rp / exact) / log(max_distance / exact) * span */
	float lg = logf((float)rp / (float)exact);
	float den = (float)log((double)max_distance / exact);
	float v = lg / den * (float)(nb - exact);
	int large = exact + (int)v;
	return b + (large < nb - 1 ? large : nb - 1);
}

void chronos_activate(float *h, const float *gate, size_t n, int act)
{
	if (act == CC_RELU) {
		vm_relu(h, gate, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		float x = h[i], y;
		switch (act) {
		case CC_GELU_NEW: {
			float x3 = x * x * x;
			float in = 0.7978845608028654f * (x + 0.044715f * x3);
			y = 0.5f * x * (1.0f + tanhf(in));
			break;
		}
		case CC_GELU:
			y = 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
			break;
		default:
			y = x / (1.0f + expf(-x));
			break;
		}
		h[i] = gate ? y * gate[i] : y;
	}
}

/* C[rows x N] = A * W^T + beta * C (A, C dense: leading dimensions K, N)
 * for a weight W (N x K, as stored) with its packed copy pk (pk->p NULL: not packed): mm_packed where the model's
 * product is sgemm (or sgemv, Bolt's) and mm_packed beats it at this shape, else m->gemm.  A
 * test that swaps m->gemm (the naive twin) gets that everywhere. */
void chronos_weight_gemm(chronos_model *m, int rows, int N, int K, const float *A, const float *W,
                         const mm_pack *pk, float beta, float *C)
{
	if (pk->p && (m->gemm == mm_gemm || m->gemm == mm_gemm_vec) && mm_packed_pays(rows, N, K))
		mm_packed(rows, A, K, pk, beta, C, N);
	else
		m->gemm(1, rows, N, K, 1, A, K, W, K, beta, C, N);
}

/* Feed-forward sublayer on rows of x (residual added in place);
 * xn, h, g: scratch of rows*d, rows*d_ff, rows*d_ff. */
void chronos_feed_forward(chronos_model *m, const chronos_layer *L, float *x, float *xn,
                         float *h, float *g, int rows)
{
	const cc_config *c = &m->c;
	int d = c->d_model, ff = c->d_ff;
	vm_rmsnorm(xn, x, L->ln_ff, rows, d, (float)c->layer_norm_epsilon);
	chronos_weight_gemm(m, rows, ff, d, xn, L->wi, &L->pwi, 0, h);
	if (c->gated)
		chronos_weight_gemm(m, rows, ff, d, xn, L->wi1, &L->pwi1, 0, g);
	chronos_activate(h, c->gated ? g : NULL, (size_t)rows * ff, c->act);
	chronos_weight_gemm(m, rows, d, ff, h, L->wo, &L->pwo, 1, x);
}

/* ---------------------------------------------------------------- encoder */

void chronos_encode(chronos_model *m, const int *ids, const unsigned char *mask, int n, float *out)
{
	int d = m->c.d_model;
	float *x = cp_malloc(sizeof(float) * (size_t)n * d);
	for (int i = 0; i < n; i++)
		memcpy(x + (size_t)i * d, m->w.embed + (size_t)ids[i] * d, sizeof(float) * d);
	chronos_encode_embeds(m, x, mask, n, out);
	free(x);
}

void chronos_encode_embeds(chronos_model *m, float *x, const unsigned char *mask, int n, float *out)
{
	const cc_config *c = &m->c;
	int d = c->d_model, in = m->inner, H = c->num_heads, dk = c->d_kv, ff = c->d_ff;
	float eps = (float)c->layer_norm_epsilon;
	float *xn = cp_malloc(sizeof(float) * (size_t)n * d);
	float *q = cp_malloc(sizeof(float) * (size_t)n * in * 4);
	float *k = q + (size_t)n * in, *v = k + (size_t)n * in, *att = v + (size_t)n * in;
	float *s = cp_malloc(sizeof(float) * (size_t)n * n);
	float *h = cp_malloc(sizeof(float) * (size_t)n * ff * (c->gated ? 2 : 1));
	/* bias[h][rp + n - 1] for rp = key - query in [-(n-1), n-1] */
	float *bias = cp_malloc(sizeof(float) * (size_t)H * (2 * n - 1));
	float *mb = cp_malloc(sizeof(float) * (size_t)n);
	for (int j = 0; j < n; j++)
		mb[j] = mask[j] ? 0.0f : -INFINITY;
	for (int rp = -(n - 1); rp <= n - 1; rp++) {
		int b = chronos_rel_bucket(rp, 1, c->num_buckets, c->max_distance);
		for (int hh = 0; hh < H; hh++)
			bias[(size_t)hh * (2 * n - 1) + rp + n - 1] = m->w.enc_rel[b * H + hh];
	}
	for (int l = 0; l < c->num_layers; l++) {
		const chronos_layer *L = &m->w.enc[l];
		vm_rmsnorm(xn, x, L->ln_sa, n, d, eps);
		chronos_weight_gemm(m, n, in, d, xn, L->q, &L->pq, 0, q);
		chronos_weight_gemm(m, n, in, d, xn, L->k, &L->pk, 0, k);
		chronos_weight_gemm(m, n, in, d, xn, L->v, &L->pv, 0, v);
		for (int hh = 0; hh < H; hh++) {
			m->gemm(1, n, n, dk, 1, q + hh * dk, in, k + hh * dk, in, 0, s, n);
			const float *bh = bias + (size_t)hh * (2 * n - 1) + n - 1;
			for (int i = 0; i < n; i++) {
				float *si = s + (size_t)i * n;
				vm_add(si, bh - i, (size_t)n);  /* si[j] += bias of rp = j - i */
				vm_softmax(si, n, mb, 1);
			}
			m->gemm(0, n, dk, n, 1, s, n, v + hh * dk, in, 0, att + hh * dk, in);
		}
		chronos_weight_gemm(m, n, d, in, att, L->o, &L->po, 1, x);
		chronos_feed_forward(m, L, x, xn, h, h + (size_t)n * ff, n);
	}
	vm_rmsnorm(out, x, m->w.enc_ln, n, d, eps);
	free(xn);
	free(q);
	free(s);
	free(h);
	free(bias);
	free(mb);
}

/* ---------------------------------------------------------------- decoder */

/* Decoder run state for up to R rows (sample paths) decoded together, T
 * positions of self-attention cache per row, W window slots of
 * cross-attention keys/values of up to N encoder tokens each. */
typedef struct {
	int R, T, W, N;
	float *x, *xn, *q, *att, *h, *g, *s, *logits;
	float *kc, *vc;              /* [L][R][H][T][d_kv]: each head's keys contiguous */
	float *qkv;                  /* [R][3 * inner]: this step's queries, keys, values */
	float *ck, *cv;              /* [W][L][N][inner] */
	float *cbias;                /* [W][N]: 0, or -inf for a masked key */
	int *cn;                     /* [W] encoder tokens per slot */
	int *cmasked;                /* [W] slot has masked keys */
	float *sum;                  /* [R] softmax sums */
	float *selfbias;             /* [H][T]: bias for distance t - j */
} dec_state;

static void dec_init(chronos_model *m, dec_state *st, int R, int T, int W, int N)
{
	const cc_config *c = &m->c;
	size_t d = (size_t)c->d_model, in = (size_t)m->inner, L = (size_t)c->num_decoder_layers;
	size_t H = (size_t)c->num_heads;
	memset(st, 0, sizeof(*st));
	st->R = R, st->T = T, st->W = W, st->N = N;
	st->x = cp_malloc(sizeof(float) * R * d);
	st->xn = cp_malloc(sizeof(float) * R * d);
	st->q = cp_malloc(sizeof(float) * R * in);
	st->att = cp_malloc(sizeof(float) * R * in);
	st->h = cp_malloc(sizeof(float) * R * (size_t)c->d_ff);
	st->g = c->gated ? cp_malloc(sizeof(float) * R * (size_t)c->d_ff) : NULL;
	st->s = cp_malloc(sizeof(float) * (size_t)R * (size_t)(N > T ? N : T));
	st->logits = cp_malloc(sizeof(float) * R * (size_t)c->vocab_size);
	st->kc = cp_malloc(sizeof(float) * L * R * T * in);
	st->qkv = cp_malloc(sizeof(float) * R * 3 * in);
	st->vc = cp_malloc(sizeof(float) * L * R * T * in);
	st->ck = cp_malloc(sizeof(float) * (size_t)W * L * N * in);
	st->cv = cp_malloc(sizeof(float) * (size_t)W * L * N * in);
	st->cbias = cp_malloc(sizeof(float) * (size_t)W * N);
	st->cn = cp_calloc((size_t)W, sizeof(int));
	st->cmasked = cp_calloc((size_t)W, sizeof(int));
	st->sum = cp_malloc(sizeof(float) * (size_t)R);
	st->selfbias = cp_malloc(sizeof(float) * H * T);
	for (int t = 0; t < T; t++) {
		int b = chronos_rel_bucket(-t, 0, c->num_buckets, c->max_distance);
		for (size_t hh = 0; hh < H; hh++)
			st->selfbias[hh * T + t] = m->w.dec_rel[b * H + hh];
	}
}

static void dec_release(dec_state *st)
{
	free(st->x), free(st->xn), free(st->q), free(st->att), free(st->h), free(st->g);
	free(st->s), free(st->logits), free(st->kc), free(st->vc), free(st->qkv), free(st->ck), free(st->cv);
	free(st->cbias), free(st->cn), free(st->cmasked), free(st->sum), free(st->selfbias);
	memset(st, 0, sizeof(*st));
}

/* Encode one window's tokens and keep its cross-attention keys/values in
 * slot `slot`.  enc: scratch of N * d_model floats. */
static void dec_set_window(chronos_model *m, dec_state *st, int slot, const int *ids,
                           const unsigned char *mask, int n, float *enc)
{
	const cc_config *c = &m->c;
	int d = c->d_model, in = m->inner;
	chronos_encode(m, ids, mask, n, enc);
	st->cn[slot] = n;
	st->cmasked[slot] = 0;
	for (int j = 0; j < n; j++) {
		st->cbias[(size_t)slot * st->N + j] = mask[j] ? 0.0f : -INFINITY;
		st->cmasked[slot] |= !mask[j];
	}
	for (int l = 0; l < c->num_decoder_layers; l++) {
		size_t off = (((size_t)slot * c->num_decoder_layers + l) * st->N) * in;
		const chronos_layer *L = &m->w.dec[l];
		chronos_weight_gemm(m, n, in, d, enc, L->ck, &L->pck, 0, st->ck + off);
		chronos_weight_gemm(m, n, in, d, enc, L->cv, &L->pcv, 0, st->cv + off);
	}
}

/* One decoder step at position t for rows 0..rows-1: row r feeds token
 * tok[r] and attends to window slot slot[r] (rows of one slot contiguous).
 * Leaves the logits in st->logits (rows x vocab). */
static void dec_step(chronos_model *m, dec_state *st, int rows, int t, const int *tok, const int *slot)
{
	const cc_config *c = &m->c;
	int d = c->d_model, in = m->inner, H = c->num_heads, dk = c->d_kv, T = st->T, R = st->R;
	float eps = (float)c->layer_norm_epsilon;
	for (int r = 0; r < rows; r++)
		memcpy(st->x + (size_t)r * d, m->w.embed + (size_t)tok[r] * d, sizeof(float) * d);
	for (int l = 0; l < c->num_decoder_layers; l++) {
		const chronos_layer *L = &m->w.dec[l];
		float *kc = st->kc + (size_t)l * R * T * in, *vc = st->vc + (size_t)l * R * T * in;
		/* causal self-attention with the cache */
		vm_rmsnorm(st->xn, st->x, L->ln_sa, rows, d, eps);
		if (L->pqkv.p && m->gemm == mm_gemm && mm_packed_pays(rows, 3 * in, d)) {
			mm_packed(rows, st->xn, d, &L->pqkv, 0, st->qkv, 3 * in);
		} else {
			m->gemm(1, rows, in, d, 1, st->xn, d, L->q, d, 0, st->qkv, 3 * in);
			m->gemm(1, rows, in, d, 1, st->xn, d, L->k, d, 0, st->qkv + in, 3 * in);
			m->gemm(1, rows, in, d, 1, st->xn, d, L->v, d, 0, st->qkv + 2 * in, 3 * in);
		}
		for (int r = 0; r < rows; r++)
			for (int hh = 0; hh < H; hh++) {
				size_t at = (((size_t)r * H + hh) * T + t) * dk;
				const float *src = st->qkv + (size_t)r * 3 * in + hh * dk;
				memcpy(kc + at, src + in, sizeof(float) * dk);
				memcpy(vc + at, src + 2 * in, sizeof(float) * dk);
			}
		for (int r = 0; r < rows; r++)
			for (int hh = 0; hh < H; hh++) {
				const float *qr = st->qkv + (size_t)r * 3 * in + hh * dk;
				const float *kr = kc + ((size_t)r * H + hh) * T * dk;
				const float *vr = vc + ((size_t)r * H + hh) * T * dk;
				vm_attend(qr, kr, vr, t + 1, dk, st->selfbias + (size_t)hh * T, st->s + (size_t)r * T,
				          st->att + (size_t)r * in + hh * dk);
			}
		chronos_weight_gemm(m, rows, d, in, st->att, L->o, &L->po, 1, st->x);
		/* cross-attention, one group of rows per window slot */
		vm_rmsnorm(st->xn, st->x, L->ln_ca, rows, d, eps);
		chronos_weight_gemm(m, rows, in, d, st->xn, L->cq, &L->pcq, 0, st->q);
		for (int r0 = 0; r0 < rows;) {
			int r1 = r0, w = slot[r0];
			while (r1 < rows && slot[r1] == w)
				r1++;
			int g = r1 - r0, n = st->cn[w];
			size_t off = (((size_t)w * c->num_decoder_layers + l) * st->N) * in;
			const float *mb = st->cmasked[w] ? st->cbias + (size_t)w * st->N : NULL;
			for (int hh = 0; hh < H; hh++) {
				m->gemm(1, g, n, dk, 1, st->q + (size_t)r0 * in + hh * dk, in,
				        st->ck + off + hh * dk, in, 0, st->s, n);
				for (int r = 0; r < g; r++)
					st->sum[r] = vm_softmax(st->s + (size_t)r * n, n, mb, 0);
				float *o = st->att + (size_t)r0 * in + hh * dk;
				m->gemm(0, g, dk, n, 1, st->s, n, st->cv + off + hh * dk, in, 0, o, in);
				for (int r = 0; r < g; r++) {
					float inv = 1.0f / st->sum[r];
					for (int i = 0; i < dk; i++)
						o[(size_t)r * in + i] *= inv;
				}
			}
			r0 = r1;
		}
		chronos_weight_gemm(m, rows, d, in, st->att, L->co, &L->pco, 1, st->x);
		chronos_feed_forward(m, L, st->x, st->xn, st->h, st->g, rows);
	}
	vm_rmsnorm(st->xn, st->x, m->w.dec_ln, rows, d, eps);
	if (m->c.tie_word_embeddings)
		for (size_t i = 0; i < (size_t)rows * d; i++)
			st->xn[i] *= m->head_scale;
	chronos_weight_gemm(m, rows, c->vocab_size, d, st->xn, m->w.head, &m->w.phead, 0, st->logits);
}

void chronos_logits(chronos_model *m, const int *ids, const unsigned char *mask, int n,
                    const int *prefix, int len, float *logits)
{
	dec_state st;
	dec_init(m, &st, 1, len, 1, n);
	float *enc = cp_malloc(sizeof(float) * (size_t)n * m->c.d_model);
	dec_set_window(m, &st, 0, ids, mask, n, enc);
	int slot = 0;
	for (int t = 0; t < len; t++) {
		dec_step(m, &st, 1, t, &prefix[t], &slot);
		memcpy(logits + (size_t)t * m->c.vocab_size, st.logits, sizeof(float) * m->c.vocab_size);
	}
	free(enc);
	dec_release(&st);
}

/* ------------------------------------------------------------- sampling */

/* Budgets that bound memory whatever num_samples and nwin are: the
 * self-attention cache grows with the chunk of rows decoded together, the
 * cross-attention keys/values with the windows of one chunk. */
#define KV_BUDGET ((size_t)384 << 20)
#define CROSS_BUDGET ((size_t)128 << 20)

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? -1 : x > y;
}

int chronos_predict(chronos_model *m, const chronos_sampling *sp, int nwin,
                    const double *const *ctx, const int *nctx, int steps,
                    uint64_t seed, const uint64_t *stream, double *paths, int *tokens,
                    cp_err *e)
{
	const cc_config *c = &m->c;
	if (sp->num_samples < 1 || !(sp->temperature > 0) || !isfinite(sp->temperature) ||
	    sp->top_k < 0 || !(sp->top_p >= 0 && sp->top_p <= 1))
		return cp_fail(e, CP_USAGE, "invalid sampling settings (num_samples %d, temperature %g, "
		               "top_k %d, top_p %g)", sp->num_samples, sp->temperature, sp->top_k, sp->top_p);
	if (steps < 1 || nwin < 0)
		return cp_fail(e, CP_USAGE, "steps must be positive");
	for (int w = 0; w < nwin; w++)
		if (nctx[w] < 1)
			return cp_fail(e, CP_USAGE, "window %d has an empty context", w);
	if (nwin == 0)
		return 0;
	int ns = sp->num_samples, P = c->prediction_length, V = c->vocab_size, d = c->d_model;
	if (nwin > 1) {
		/* One window at a time: OpenBLAS's sgemm rounds a row differently
		 * with the row count and the row's place in the product, so a
		 * window decoded among others would not give the bytes it gives
		 * alone, in another batch, or from the forecast cache. */
		size_t per = (size_t)ns * steps;
		for (int w = 0; w < nwin; w++)
			if (chronos_predict(m, sp, 1, ctx + w, nctx + w, steps, seed, stream + w, paths + w * per,
			                    tokens ? tokens + w * per : NULL, e) < 0)
				return -1;
		return 0;
	}
	int T = steps < P ? steps : P, N = c->context_length + 1, CL = c->context_length;
	long total = (long)nwin * ns;
	/* rows per chunk from prediction_length, not T: the same chunks (so the
	 * same bytes) for every horizon */
	size_t kv_row = (size_t)2 * c->num_decoder_layers * P * m->inner * sizeof(float);
	long R = m->max_rows > 0 ? m->max_rows : (long)(KV_BUDGET / kv_row);
	R = R < 8 ? 8 : R > 1024 ? 1024 : R;
	if (R > total)
		R = total;
	size_t cross_win = (size_t)2 * c->num_decoder_layers * N * m->inner * sizeof(float);
	long W = (long)(CROSS_BUDGET / cross_win);
	W = W < 1 ? 1 : W;
	W = W > R ? R : W > nwin ? nwin : W;
	dec_state st;
	dec_init(m, &st, (int)R, T, (int)W, N);
	prng *rng = cp_malloc(sizeof(prng) * (size_t)total);
	for (long r = 0; r < total; r++)
		prng_init(&rng[r], seed, stream[r / ns], (uint64_t)(r % ns));
	/* each window's context: its last CL values, then the medians appended */
	int cap = CL + steps;
	double *ext = cp_malloc(sizeof(double) * (size_t)nwin * cap);
	int *elen = cp_malloc(sizeof(int) * (size_t)nwin);
	for (int w = 0; w < nwin; w++) {
		int n = nctx[w] < CL ? nctx[w] : CL;
		memcpy(ext + (size_t)w * cap, ctx[w] + nctx[w] - n, sizeof(double) * n);
		elen[w] = n;
	}
	float *scale = cp_malloc(sizeof(float) * (size_t)nwin);
	int *ids = cp_malloc(sizeof(int) * (size_t)N);
	unsigned char *mask = cp_malloc((size_t)N);
	float *enc = cp_malloc(sizeof(float) * (size_t)N * d);
	int *cur = cp_malloc(sizeof(int) * (size_t)R), *rslot = cp_malloc(sizeof(int) * (size_t)R);
	int *slot_win = cp_malloc(sizeof(int) * (size_t)W);
	int *work = cp_malloc(sizeof(int) * 2 * (size_t)V);
	float *med = cp_malloc(sizeof(float) * (size_t)ns);
	for (int h0 = 0, n; h0 < steps; h0 += n) {
		n = steps - h0 < P ? steps - h0 : P;
		for (long i = 0; i < W; i++)
			slot_win[i] = -1;
		for (long r0 = 0, r1; r0 < total; r0 = r1) {
			/* a chunk: at most R rows spanning at most W windows */
			int nw = 0, lastw = -1;
			for (r1 = r0; r1 < total && r1 - r0 < R; r1++) {
				int w = (int)(r1 / ns);
				if (w != lastw) {
					if (nw == W)
						break;
					nw++;
					lastw = w;
				}
			}
			int wa = (int)(r0 / ns), wb = (int)((r1 - 1) / ns);
			for (int w = wa; w <= wb; w++) {
				int s = -1;
				for (int i = 0; i < W && s < 0; i++)
					if (slot_win[i] == w)
						s = i;
				for (int i = 0; i < W && s < 0; i++)
					if (slot_win[i] < wa || slot_win[i] > wb)
						s = i;
				if (slot_win[s] != w) {
					int len = elen[w] < CL ? elen[w] : CL;
					const double *cx = ext + (size_t)w * cap + elen[w] - len;
					int nt = tok_len(&m->tok, len);
					scale[w] = tok_encode(&m->tok, cx, len, ids, mask);
					dec_set_window(m, &st, s, ids, mask, nt, enc);
					slot_win[s] = w;
				}
				for (long r = r0; r < r1; r++)
					if (r / ns == w)
						rslot[r - r0] = s;
			}
			int rows = (int)(r1 - r0);
			for (int i = 0; i < rows; i++)
				cur[i] = c->decoder_start_token_id;
			for (int t = 0; t < n; t++) {
				dec_step(m, &st, rows, t, cur, rslot);
				for (int i = 0; i < rows; i++) {
					long r = r0 + i;
					int id = chronos_sample_token(st.logits + (size_t)i * V, V, c->eos_token_id,
					                              sp, prng_uniform(&rng[r]), work);
					cur[i] = id;
					size_t at = (size_t)r * steps + h0 + t;
					paths[at] = tok_decode(&m->tok, id, scale[r / ns]);
					if (tokens)
						tokens[at] = id;
				}
			}
		}
		if (h0 + n >= steps)
			break;
		/* next round: append each window's (lower) median, as torch.median */
		for (int w = 0; w < nwin; w++)
			for (int t = 0; t < n; t++) {
				for (int s = 0; s < ns; s++)
					med[s] = (float)paths[((size_t)w * ns + s) * steps + h0 + t];
				qsort(med, (size_t)ns, sizeof(float), cmp_float);
				ext[(size_t)w * cap + elen[w]++] = med[(ns - 1) / 2];
			}
	}
	free(rng), free(ext), free(elen), free(scale), free(ids), free(mask), free(enc);
	free(cur), free(rslot), free(slot_win), free(work), free(med);
	dec_release(&st);
	return 0;
}
