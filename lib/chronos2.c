/* chronos2.c — Chronos-2 loading, forward pass and pipeline; see chronos2.h. */
#include "chronos2.h"
#include "chronos_config.h"
#include "vecmath.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- loading */

/* Loading walks the expected tensors with a counter, so that a file holding
 * a tensor the model does not use (a deeper model, another family) is
 * refused by name afterwards. */
typedef struct {
	chronos2_model *m;
	unsigned char *used;         /* per st tensor */
	cp_err *e;
} loader;

static const float *get(loader *ld, const char *name, int64_t d0, int64_t d1)
{
	int64_t shape[2] = {d0, d1};
	const float *p = st_get(&ld->m->st, name, d1 ? 2 : 1, shape, ld->e);
	if (p)
		ld->used[st_find(&ld->m->st, name) - ld->m->st.t] = 1;
	return p;
}

static int load_resblock(loader *ld, c2_resblock *b, const char *pre, int in, int hid, int out)
{
	char nm[128];
	b->in = in, b->hid = hid, b->out = out;
#define RB(field, part, kind, a, c) \
	(snprintf(nm, sizeof(nm), "%s.%s.%s", pre, part, kind), (b->field = get(ld, nm, a, c)) != NULL)
	if (RB(hw, "hidden_layer", "weight", hid, in) && RB(hb, "hidden_layer", "bias", hid, 0) &&
	    RB(ow, "output_layer", "weight", out, hid) && RB(ob, "output_layer", "bias", out, 0) &&
	    RB(rw, "residual_layer", "weight", out, in) && RB(rb, "residual_layer", "bias", out, 0))
		return 0;
#undef RB
	return -1;
}

static int load_attention(loader *ld, c2_attention *a, int i, int sub)
{
	const c2_config *c = &ld->m->c;
	int64_t d = c->d_model, in = ld->m->inner;
	char nm[160];
#define AT(field, part, a0, a1) \
	(snprintf(nm, sizeof(nm), "encoder.block.%d.layer.%d.%s", i, sub, part), \
	 (a->field = get(ld, nm, a0, a1)) != NULL)
	if (AT(ln, "layer_norm.weight", d, 0) && AT(q, "self_attention.q.weight", in, d) &&
	    AT(k, "self_attention.k.weight", in, d) && AT(v, "self_attention.v.weight", in, d) &&
	    AT(o, "self_attention.o.weight", d, in))
		return 0;
#undef AT
	return -1;
}

static int load_weights(loader *ld)
{
	chronos2_model *m = ld->m;
	const c2_config *c = &m->c;
	c2_weights *w = &m->w;
	int d = c->d_model, p = c->patch_size;
	if (!(w->shared = get(ld, "shared.weight", 2, d)) ||
	    load_resblock(ld, &w->in, "input_patch_embedding", 3 * p, c->d_ff, d) < 0 ||
	    load_resblock(ld, &w->out, "output_patch_embedding", d, c->d_ff, c->num_quantiles * p) < 0 ||
	    !(w->final_ln = get(ld, "encoder.final_layer_norm.weight", d, 0)))
		return -1;
	w->layers = cp_calloc((size_t)c->num_layers, sizeof(c2_layer));
	for (int i = 0; i < c->num_layers; i++) {
		c2_layer *L = &w->layers[i];
		char nm[160];
		if (load_attention(ld, &L->time, i, 0) < 0 || load_attention(ld, &L->group, i, 1) < 0)
			return -1;
		snprintf(nm, sizeof(nm), "encoder.block.%d.layer.2.layer_norm.weight", i);
		if (!(L->ln_ff = get(ld, nm, d, 0)))
			return -1;
		snprintf(nm, sizeof(nm), "encoder.block.%d.layer.2.mlp.wi.weight", i);
		if (!(L->wi = get(ld, nm, c->d_ff, d)))
			return -1;
		snprintf(nm, sizeof(nm), "encoder.block.%d.layer.2.mlp.wo.weight", i);
		if (!(L->wo = get(ld, nm, d, c->d_ff)))
			return -1;
	}
	for (int i = 0; i < m->st.n; i++)
		if (!ld->used[i])
			return cp_fail(ld->e, CP_DATA, "%s: tensor '%s' is not part of a Chronos-2 model with "
			               "config.json's shape (%d layers)", m->st.path, m->st.t[i].name, c->num_layers);
	return 0;
}

/* Pack W (N x K) for mm_packed as Chronos-T5 does (chronos.c): once at
 * load, the mapped pages given back (only sgemm where mm_packed does not
 * pay, or a test's naive twin, reads W again). */
static void pack(chronos2_model *m, mm_pack *pk, const float *W, int N, int K)
{
	mm_pack_init(pk, W, N, K, K);
	st_drop_pages(&m->st, W);
}

static void pack_resblock(chronos2_model *m, c2_resblock *b)
{
	pack(m, &b->phw, b->hw, b->hid, b->in);
	pack(m, &b->pow, b->ow, b->out, b->hid);
	pack(m, &b->prw, b->rw, b->out, b->in);
}

static void pack_attention(chronos2_model *m, c2_attention *a)
{
	int d = m->c.d_model, in = m->inner;
	pack(m, &a->pq, a->q, in, d);
	pack(m, &a->pk, a->k, in, d);
	pack(m, &a->pv, a->v, in, d);
	pack(m, &a->po, a->o, d, in);
}

static void pack_model(chronos2_model *m)
{
	c2_weights *w = &m->w;
	pack_resblock(m, &w->in);
	pack_resblock(m, &w->out);
	for (int i = 0; i < m->c.num_layers; i++) {
		c2_layer *L = &w->layers[i];
		pack_attention(m, &L->time);
		pack_attention(m, &L->group);
		pack(m, &L->pwi, L->wi, m->c.d_ff, m->c.d_model);
		pack(m, &L->pwo, L->wo, m->c.d_model, m->c.d_ff);
	}
}

static void release_resblock(c2_resblock *b)
{
	mm_pack_release(&b->phw), mm_pack_release(&b->pow), mm_pack_release(&b->prw);
}

static void release_attention(c2_attention *a)
{
	mm_pack_release(&a->pq), mm_pack_release(&a->pk), mm_pack_release(&a->pv), mm_pack_release(&a->po);
}

chronos2_model *chronos2_load(const char *dir, cp_err *e)
{
	chronos2_model *m = cp_calloc(1, sizeof(*m));
	size_t n = strlen(dir) + 32;
	char *path = cp_malloc(n);
	snprintf(path, n, "%s/config.json", dir);
	if (c2_config_load(&m->c, path, e) < 0)
		goto fail;
	if (st_open_dir(&m->st, dir, e) < 0)
		goto fail;
	m->inner = m->c.num_heads * m->c.d_kv;
	m->gemm = mm_gemm;
	loader ld = {m, cp_calloc((size_t)(m->st.n ? m->st.n : 1), 1), e};
	int rc = load_weights(&ld);
	free(ld.used);
	if (rc < 0)
		goto fail;
	if (mm_best_path() != MM_PATH_C)  /* the plain-C path loses to sgemm */
		pack_model(m);
	/* inv_freq = 1 / theta^(2i / d_kv), in float32 as the reference computes it */
	int half = m->c.d_kv / 2;
	m->inv_freq = cp_malloc(sizeof(float) * (size_t)half);
	for (int i = 0; i < half; i++)
		m->inv_freq[i] = 1.0f / powf((float)m->c.rope_theta, (float)(2 * i) / (float)m->c.d_kv);
	free(path);
	return m;
fail:
	free(path);
	chronos2_free(m);
	return NULL;
}

void chronos2_free(chronos2_model *m)
{
	if (!m)
		return;
	release_resblock(&m->w.in), release_resblock(&m->w.out);
	for (int i = 0; m->w.layers && i < m->c.num_layers; i++) {
		release_attention(&m->w.layers[i].time), release_attention(&m->w.layers[i].group);
		mm_pack_release(&m->w.layers[i].pwi), mm_pack_release(&m->w.layers[i].pwo);
	}
	free(m->w.layers);
	free(m->inv_freq);
	st_close(&m->st);
	free(m);
}

/* ------------------------------------------------------------ the pieces */

static void activate(float *h, size_t n, int act)
{
	for (size_t i = 0; i < n; i++) {
		float x = h[i];
		switch (act) {
		case CC_RELU:
			h[i] = x > 0 ? x : 0.0f;
			break;
		case CC_GELU_NEW: {
			float in = 0.7978845608028654f * (x + 0.044715f * x * x * x);
			h[i] = 0.5f * x * (1.0f + tanhf(in));
			break;
		}
		case CC_GELU:
			h[i] = 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
			break;
		default:
			h[i] = x / (1.0f + expf(-x));
			break;
		}
	}
}

/* C[rows x N] = A * W^T + beta * C (A, C dense: leading dimensions K, N)
 * for a weight W (N x K) with its packed copy pk: mm_packed where the
 * product is sgemm and mm_packed pays, else m->gemm (as chronos.c does). */
static void wgemm(chronos2_model *m, int rows, int N, int K, const float *A, const float *W,
                  const mm_pack *pk, float beta, float *C)
{
	if (pk->p && m->gemm == mm_gemm && mm_packed_pays(rows, N, K))
		mm_packed(rows, A, K, pk, beta, C, N);
	else
		m->gemm(1, rows, N, K, 1, A, K, W, K, beta, C, N);
}

static void bias_rows(float *y, const float *b, int rows, int n)
{
	for (int r = 0; r < rows; r++)
		memcpy(y + (size_t)r * n, b, sizeof(float) * (size_t)n);
}

/* y (rows x out) = output(act(hidden(x))) + residual(x), biases included.
 * h: rows x hid scratch. */
static void resblock(chronos2_model *m, const c2_resblock *b, const float *x, int rows, float *h, float *y)
{
	bias_rows(h, b->hb, rows, b->hid);
	wgemm(m, rows, b->hid, b->in, x, b->hw, &b->phw, 1, h);
	activate(h, (size_t)rows * b->hid, m->c.act);
	bias_rows(y, b->ob, rows, b->out);
	wgemm(m, rows, b->out, b->hid, h, b->ow, &b->pow, 1, y);
	for (int r = 0; r < rows; r++)
		vm_add(y + (size_t)r * b->out, b->rb, (size_t)b->out);
	wgemm(m, rows, b->out, b->in, x, b->rw, &b->prw, 1, y);
}

/* Rotate each head of rows of q (stride `in`) by its row's position:
 * x[i] cos - x[i+h] sin, x[i+h] cos + x[i] sin for i < h = d_kv / 2. */
static void rope(const chronos2_model *m, float *q, int rows, const int *pos, const float *cs, const float *sn)
{
	int H = m->c.num_heads, dk = m->c.d_kv, half = dk / 2, in = m->inner;
	for (int r = 0; r < rows; r++) {
		const float *c = cs + (size_t)pos[r] * half, *s = sn + (size_t)pos[r] * half;
		for (int hh = 0; hh < H; hh++) {
			float *x = q + (size_t)r * in + hh * dk;
			for (int i = 0; i < half; i++) {
				float a = x[i], b = x[i + half];
				float lo = a * c[i] + (-b) * s[i];
				float hi = b * c[i] + a * s[i];
				x[i] = lo;
				x[i + half] = hi;
			}
		}
	}
}

/* -------------------------------------------------------- forward pass */

/* Rows of one call: each series' kept context patches, then [REG], then
 * its output patches, contiguous and in position order. */
typedef struct {
	int R;                       /* rows */
	int *pos;                    /* [R] position in the (aligned) sequence */
	int *first, *count;          /* [nser] the series' rows */
	int *fut;                    /* [nser] row of its first output patch */
	float *loc, *scale;          /* [nser] */
	int *cluster;                /* [R] rows of one group at one position share an id */
	int *cl_next;                /* [R] next row of the same cluster, -1 */
	int *cl_head;                /* [R] first row of the row's cluster */
	int any_shared;              /* some cluster has two rows or more */
	int maxpos;
} c2_layout;

static float nan_f(void)
{
	return NAN;
}

/* Instance norm over the observed values of x[0..n-1] (double sums, the
 * result rounded to float once). */
static void instance_norm(const float *x, int n, float *loc, float *scale)
{
	double s = 0;
	int k = 0;
	for (int i = 0; i < n; i++)
		if (!isnan(x[i]))
			s += x[i], k++;
	if (k == 0) {
		*loc = 0.0f;
		*scale = 1.0f;
		return;
	}
	float l = (float)(s / k);
	double v = 0;
	for (int i = 0; i < n; i++)
		if (!isnan(x[i])) {
			float dlt = x[i] - l;
			v += (double)dlt * dlt;
		}
	float sc = (float)sqrt(v / k);
	*loc = l;
	*scale = sc == 0.0f ? 1e-5f : sc;
}

void chronos2_scaling(const chronos2_model *m, const float *x, int n, float *loc, float *scale)
{
	int L = n < m->c.context_length ? n : m->c.context_length;
	instance_norm(x + n - L, L, loc, scale);
}

static float scale_value(const chronos2_model *m, float x, float loc, float scale)
{
	float y = (x - loc) / scale;
	return m->c.use_arcsinh ? asinhf(y) : y;
}

/* Group ids as dense indices (order of first appearance). */
static int *dense_groups(int nser, const c2_series *s)
{
	int *g = cp_malloc(sizeof(int) * (size_t)nser);
	for (int i = 0; i < nser; i++) {
		g[i] = i;
		for (int j = 0; j < i; j++)
			if (s[j].group == s[i].group) {
				g[i] = g[j];
				break;
			}
	}
	return g;
}

static int cmp_int2(const void *a, const void *b)
{
	const int *x = a, *y = b;
	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	if (x[1] != y[1])
		return x[1] < y[1] ? -1 : 1;
	return x[2] < y[2] ? -1 : x[2] > y[2];
}

int chronos2_forward(chronos2_model *m, int nser, const c2_series *s, int nout, int align_all,
                     float *out, cp_err *e)
{
	const c2_config *c = &m->c;
	int d = c->d_model, p = c->patch_size, CL = c->context_length, H = c->num_heads, dk = c->d_kv;
	int in = m->inner, ff = c->d_ff, nq = c->num_quantiles, half = dk / 2;
	float eps = (float)c->layer_norm_epsilon;
	if (nout < 1 || nout > (1 << 16))
		return cp_fail(e, CP_USAGE, "chronos2: %d output patches (1..65536)", nout);
	for (int i = 0; i < nser; i++)
		if (s[i].n < 1)
			return cp_fail(e, CP_USAGE, "chronos2: series %d has an empty context", i);
	if (nser <= 0)
		return 0;
	int *gid = dense_groups(nser, s);
	/* patches per series and per alignment unit */
	int *np = cp_malloc(sizeof(int) * (size_t)nser), *npal = cp_calloc((size_t)nser, sizeof(int));
	for (int i = 0; i < nser; i++) {
		int L = s[i].n < CL ? s[i].n : CL;
		np[i] = (L + p - 1) / p;
		int u = align_all ? 0 : gid[i];
		if (np[i] > npal[u])
			npal[u] = np[i];
	}
	c2_layout ly = {0};
	ly.first = cp_malloc(sizeof(int) * (size_t)nser);
	ly.count = cp_malloc(sizeof(int) * (size_t)nser);
	ly.fut = cp_malloc(sizeof(int) * (size_t)nser);
	ly.loc = cp_malloc(sizeof(float) * (size_t)nser);
	ly.scale = cp_malloc(sizeof(float) * (size_t)nser);
	size_t cap = 0;
	for (int i = 0; i < nser; i++)
		cap += (size_t)npal[align_all ? 0 : gid[i]] + 1 + (size_t)nout;
	ly.pos = cp_malloc(sizeof(int) * cap);
	int F = 3 * p;
	float *feat = cp_malloc(sizeof(float) * cap * (size_t)F);
	unsigned char *isreg = cp_calloc(cap, 1);
	/* scaling, patching, input features */
	int R = 0;
	for (int i = 0; i < nser; i++) {
		int L = s[i].n < CL ? s[i].n : CL;
		const float *x = s[i].ctx + s[i].n - L;
		instance_norm(x, L, &ly.loc[i], &ly.scale[i]);
		int NP = npal[align_all ? 0 : gid[i]], Lp = NP * p;
		ly.first[i] = R;
		for (int j = NP - np[i]; j < NP; j++) {
			float *f = feat + (size_t)R * F;
			int seen = 0;
			for (int t = 0; t < p; t++) {
				int at = j * p + t - (Lp - L);  /* index into x, < 0: padding */
				float v = at >= 0 ? x[at] : nan_f();
				f[t] = (float)(j * p + t - Lp) / (float)c->time_encoding_scale;
				if (isnan(v)) {
					f[p + t] = 0.0f;
					f[2 * p + t] = 0.0f;
				} else {
					f[p + t] = scale_value(m, v, ly.loc[i], ly.scale[i]);
					f[2 * p + t] = 1.0f;
					seen = 1;
				}
			}
			if (seen)
				ly.pos[R++] = j;
		}
		isreg[R] = 1;
		ly.pos[R++] = NP;
		ly.fut[i] = R;
		for (int k = 0; k < nout; k++) {
			float *f = feat + (size_t)R * F;
			for (int t = 0; t < p; t++) {
				int at = k * p + t;
				float v = s[i].future && at < s[i].nfuture ? s[i].future[at] : nan_f();
				f[t] = (float)at / (float)c->time_encoding_scale;
				if (isnan(v)) {
					f[p + t] = 0.0f;
					f[2 * p + t] = 0.0f;
				} else {
					f[p + t] = scale_value(m, v, ly.loc[i], ly.scale[i]);
					f[2 * p + t] = 1.0f;
				}
			}
			ly.pos[R++] = NP + 1 + k;
		}
		ly.count[i] = R - ly.first[i];
	}
	ly.R = R;
	for (int r = 0; r < R; r++)
		if (ly.pos[r] + 1 > ly.maxpos)
			ly.maxpos = ly.pos[r] + 1;
	/* group clusters: rows of one group at one position */
	int *key = cp_malloc(sizeof(int) * 3 * (size_t)R);
	for (int i = 0, r = 0; i < nser; i++)
		for (int k = 0; k < ly.count[i]; k++, r++) {
			key[3 * r] = gid[i];
			key[3 * r + 1] = ly.pos[r] - npal[align_all ? 0 : gid[i]];  /* aligned at the [REG] */
			key[3 * r + 2] = r;
		}
	qsort(key, (size_t)R, sizeof(int) * 3, cmp_int2);
	ly.cl_next = cp_malloc(sizeof(int) * (size_t)R);
	ly.cl_head = cp_malloc(sizeof(int) * (size_t)R);
	for (int a = 0; a < R;) {
		int b = a;
		while (b < R && key[3 * b] == key[3 * a] && key[3 * b + 1] == key[3 * a + 1])
			b++;
		if (b - a > 1)
			ly.any_shared = 1;
		for (int k = a; k < b; k++) {
			ly.cl_head[key[3 * k + 2]] = key[3 * a + 2];
			ly.cl_next[key[3 * k + 2]] = k + 1 < b ? key[3 * (k + 1) + 2] : -1;
		}
		a = b;
	}
	free(key);
	/* rotary tables */
	float *cs = cp_malloc(sizeof(float) * (size_t)ly.maxpos * half);
	float *sn = cp_malloc(sizeof(float) * (size_t)ly.maxpos * half);
	for (int t = 0; t < ly.maxpos; t++)
		for (int i = 0; i < half; i++) {
			float a = m->inv_freq[i] * (float)t;
			cs[(size_t)t * half + i] = cosf(a);
			sn[(size_t)t * half + i] = sinf(a);
		}
	/* embeddings */
	float *x = cp_malloc(sizeof(float) * (size_t)R * d);
	float *xn = cp_malloc(sizeof(float) * (size_t)R * d);
	float *qkv = cp_malloc(sizeof(float) * (size_t)R * in * 4);
	float *q = qkv, *k = qkv + (size_t)R * in, *v = k + (size_t)R * in, *att = v + (size_t)R * in;
	float *h = cp_malloc(sizeof(float) * (size_t)R * ff);
	int maxn = 0;
	for (int i = 0; i < nser; i++)
		if (ly.count[i] > maxn)
			maxn = ly.count[i];
	/* scores: a series's rows squared, or the rows of one group at one position */
	size_t scn = (size_t)maxn * maxn > (size_t)nser ? (size_t)maxn * maxn : (size_t)nser;
	float *sc = cp_malloc(sizeof(float) * scn);
	{
		/* non-[REG] rows through the input embedding, then scattered */
		int nr = 0;
		float *fx = cp_malloc(sizeof(float) * (size_t)R * F);
		int *map = cp_malloc(sizeof(int) * (size_t)R);
		for (int r = 0; r < R; r++)
			if (!isreg[r]) {
				memcpy(fx + (size_t)nr * F, feat + (size_t)r * F, sizeof(float) * F);
				map[nr++] = r;
			}
		resblock(m, &m->w.in, fx, nr, h, xn);
		for (int a = 0; a < nr; a++)
			memcpy(x + (size_t)map[a] * d, xn + (size_t)a * d, sizeof(float) * d);
		for (int r = 0; r < R; r++)
			if (isreg[r])
				memcpy(x + (size_t)r * d, m->w.shared + d, sizeof(float) * d);
		free(fx);
		free(map);
	}
	for (int l = 0; l < c->num_layers; l++) {
		const c2_layer *Ly = &m->w.layers[l];
		/* time self-attention, each series alone, rotary positions */
		vm_rmsnorm(xn, x, Ly->time.ln, R, d, eps);
		wgemm(m, R, in, d, xn, Ly->time.q, &Ly->time.pq, 0, q);
		wgemm(m, R, in, d, xn, Ly->time.k, &Ly->time.pk, 0, k);
		wgemm(m, R, in, d, xn, Ly->time.v, &Ly->time.pv, 0, v);
		rope(m, q, R, ly.pos, cs, sn);
		rope(m, k, R, ly.pos, cs, sn);
		/* the last layer's output is read only at the output-patch rows:
		 * there only they are queries, and the rest of the layer runs on
		 * them alone (compacted below) */
		int last = l == c->num_layers - 1;
		for (int i = 0; i < nser; i++) {
			int r0 = ly.first[i], n = ly.count[i];
			int qr = last ? ly.fut[i] : r0, nqr = last ? nout : n;
			for (int hh = 0; hh < H; hh++) {
				size_t o = (size_t)r0 * in + hh * dk, oq = (size_t)qr * in + hh * dk;
				m->gemm(1, nqr, n, dk, 1, q + oq, in, k + o, in, 0, sc, n);
				for (int a = 0; a < nqr; a++)
					vm_softmax(sc + (size_t)a * n, n, NULL, 1);
				m->gemm(0, nqr, dk, n, 1, sc, n, v + o, in, 0, att + oq, in);
			}
		}
		if (last && R > nser * nout) {
			/* keep the output-patch rows only: they form whole clusters
			 * (every row of a cluster shares a position) */
			int nf = nser * nout;
			int *newidx = cp_malloc(sizeof(int) * (size_t)R);
			int *fr = cp_malloc(sizeof(int) * (size_t)nf);
			for (int i = 0, a = 0; i < nser; i++)
				for (int kk = 0; kk < nout; kk++, a++)
					fr[a] = ly.fut[i] + kk;
			for (int a = 0; a < nf; a++)
				newidx[fr[a]] = a;
			for (int a = 0; a < nf; a++) {
				memmove(x + (size_t)a * d, x + (size_t)fr[a] * d, sizeof(float) * d);
				memmove(att + (size_t)a * in, att + (size_t)fr[a] * in, sizeof(float) * in);
				int hd = ly.cl_head[fr[a]], nx = ly.cl_next[fr[a]];
				ly.cl_head[a] = newidx[hd];
				ly.cl_next[a] = nx < 0 ? -1 : newidx[nx];
			}
			for (int i = 0; i < nser; i++)
				ly.fut[i] = i * nout;
			R = nf;
			free(newidx);
			free(fr);
		}
		wgemm(m, R, d, in, att, Ly->time.o, &Ly->time.po, 1, x);
		/* group self-attention: rows of one group at one position */
		vm_rmsnorm(xn, x, Ly->group.ln, R, d, eps);
		wgemm(m, R, in, d, xn, Ly->group.v, &Ly->group.pv, 0, v);
		if (ly.any_shared) {
			wgemm(m, R, in, d, xn, Ly->group.q, &Ly->group.pq, 0, q);
			wgemm(m, R, in, d, xn, Ly->group.k, &Ly->group.pk, 0, k);
		}
		for (int r = 0; r < R; r++) {
			int hd = ly.cl_head[r];
			if (ly.cl_next[hd] < 0) {  /* alone: softmax over one key is 1 */
				memcpy(att + (size_t)r * in, v + (size_t)r * in, sizeof(float) * in);
				continue;
			}
			for (int hh = 0; hh < H; hh++) {
				const float *qr = q + (size_t)r * in + hh * dk;
				int n = 0;
				for (int j = hd; j >= 0; j = ly.cl_next[j]) {
					const float *kj = k + (size_t)j * in + hh * dk;
					float dot = 0;
					for (int t = 0; t < dk; t++)
						dot += qr[t] * kj[t];
					sc[n++] = dot;
				}
				vm_softmax(sc, n, NULL, 1);
				float *o = att + (size_t)r * in + hh * dk;
				memset(o, 0, sizeof(float) * dk);
				n = 0;
				for (int j = hd; j >= 0; j = ly.cl_next[j]) {
					const float *vj = v + (size_t)j * in + hh * dk;
					float wgt = sc[n++];
					for (int t = 0; t < dk; t++)
						o[t] += wgt * vj[t];
				}
			}
		}
		wgemm(m, R, d, in, att, Ly->group.o, &Ly->group.po, 1, x);
		/* feed-forward */
		vm_rmsnorm(xn, x, Ly->ln_ff, R, d, eps);
		wgemm(m, R, ff, d, xn, Ly->wi, &Ly->pwi, 0, h);
		activate(h, (size_t)R * ff, c->act);
		wgemm(m, R, d, ff, h, Ly->wo, &Ly->pwo, 1, x);
	}
	/* head on the output-patch rows */
	int Q = nq * p, nf = nser * nout;
	float *fx = cp_malloc(sizeof(float) * (size_t)nf * d);
	float *y = cp_malloc(sizeof(float) * (size_t)nf * Q);
	float *hh2 = cp_malloc(sizeof(float) * (size_t)nf * c->d_ff);
	for (int i = 0; i < nser; i++)
		vm_rmsnorm(fx + (size_t)i * nout * d, x + (size_t)ly.fut[i] * d, m->w.final_ln, nout, d, eps);
	resblock(m, &m->w.out, fx, nf, hh2, y);
	size_t Hn = (size_t)nout * p;
	for (int i = 0; i < nser; i++)
		for (int kk = 0; kk < nout; kk++)
			for (int qq = 0; qq < nq; qq++)
				for (int t = 0; t < p; t++) {
					float val = y[((size_t)i * nout + kk) * Q + (size_t)qq * p + t];
					if (c->use_arcsinh)
						val = sinhf(val);
					out[((size_t)i * nq + qq) * Hn + (size_t)kk * p + t] = val * ly.scale[i] + ly.loc[i];
				}
	free(fx), free(y), free(hh2);
	free(x), free(xn), free(qkv), free(h), free(sc), free(cs), free(sn);
	free(feat), free(isreg), free(gid), free(np), free(npal);
	free(ly.pos), free(ly.first), free(ly.count), free(ly.fut), free(ly.loc), free(ly.scale);
	free(ly.cl_next), free(ly.cl_head);
	return 0;
}

/* --------------------------------------------------------- quantiles */

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? -1 : x > y;
}

/* Interpolation over levels lv[0..n-1] sorted ascending with values vv. */
static void interp_sorted(const float *q, int nq, const float *lv, const float *vv, int n, float *out)
{
	for (int a = 0; a < nq; a++) {
		/* searchsorted right: first index with lv > q */
		int up = 0;
		while (up < n && !(lv[up] > q[a]))
			up++;
		if (up > n - 1)
			up = n - 1;
		int lo = up - 1;
		if (lo < 0) {  /* cannot happen with the 0 / 1 padding; kept safe */
			out[a] = vv[0];
			continue;
		}
		float w = (q[a] - lv[lo]) / (lv[up] - lv[lo]);
		if (isnan(w))
			w = 0.0f;
		out[a] = vv[lo] + w * (vv[up] - vv[lo]);
	}
}

/* Pad with level 0 / 1 holding the end values when missing, then
 * interpolate.  lv, vv: sorted, n entries; work: 2 * (n + 2) floats. */
static void interp_padded(const float *q, int nq, const float *lv, const float *vv, int n, float *work, float *out)
{
	float *L = work, *V = work + n + 2;
	int k = 0;
	if (lv[0] > 0.0f)
		L[k] = 0.0f, V[k++] = vv[0];
	for (int i = 0; i < n; i++)
		L[k] = lv[i], V[k++] = vv[i];
	if (lv[n - 1] < 1.0f)
		L[k] = 1.0f, V[k++] = vv[n - 1];
	interp_sorted(q, nq, L, V, k, out);
}

void chronos2_interpolate(const float *q, int nq, const float *levels, const float *vals, int nl, float *out)
{
	float *w = cp_malloc(sizeof(float) * (size_t)(4 * nl + 4));
	float *lv = w + 2 * nl + 4, *vv = lv + nl;
	int *idx = cp_malloc(sizeof(int) * (size_t)nl);
	for (int i = 0; i < nl; i++)
		idx[i] = i;
	for (int i = 1; i < nl; i++)  /* insertion sort by level: nl is small */
		for (int j = i; j > 0 && levels[idx[j]] < levels[idx[j - 1]]; j--) {
			int t = idx[j];
			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
	for (int i = 0; i < nl; i++)
		lv[i] = levels[idx[i]], vv[i] = vals[idx[i]];
	interp_padded(q, nq, lv, vv, nl, w, out);
	free(idx);
	free(w);
}

void chronos2_weighted_quantile(const float *q, int nq, const float *w, const float *samples, int ns,
                                float *scratch, float *out)
{
	/* (value, normalized weight) pairs sorted by value, the cumulative
	 * weights (accumulated in double as torch.cumsum does on the CPU,
	 * clamped to [0, 1]) are the levels of the sorted values */
	double tot = 0;
	for (int i = 0; i < ns; i++)
		tot += w[i];
	float ftot = (float)tot;
	float *pair = scratch, *cum = pair + 2 * ns, *vals = cum + ns, *work = vals + ns;
	for (int i = 0; i < ns; i++)
		pair[2 * i] = samples[i], pair[2 * i + 1] = w[i] / ftot;
	qsort(pair, (size_t)ns, 2 * sizeof(float), cmp_float);
	double acc = 0;
	for (int i = 0; i < ns; i++) {
		acc += pair[2 * i + 1];
		float cw = (float)acc;
		cum[i] = cw < 0 ? 0 : cw > 1 ? 1 : cw;
		vals[i] = pair[2 * i];
	}
	interp_padded(q, nq, cum, vals, ns, work, out);
}

int chronos2_median_index(const chronos2_model *m)
{
	for (int i = 0; i < m->c.num_quantiles; i++)
		if (m->c.quantiles[i] == 0.5)
			return i;
	return -1;
}

void chronos2_quantiles_at(const chronos2_model *m, const double *levels, int nlev,
                           const float *pred, int horizon, float *out)
{
	const c2_config *c = &m->c;
	int nq = c->num_quantiles, subset = 1;
	int *pick = cp_malloc(sizeof(int) * (size_t)(nlev ? nlev : 1));
	for (int a = 0; a < nlev; a++) {
		pick[a] = -1;
		for (int i = 0; i < nq; i++)
			if (c->quantiles[i] == levels[a])
				pick[a] = i;
		if (pick[a] < 0)
			subset = 0;
	}
	float *lv = cp_malloc(sizeof(float) * (size_t)nq), *vv = cp_malloc(sizeof(float) * (size_t)nq);
	float *qf = cp_malloc(sizeof(float) * (size_t)(nlev ? nlev : 1)), *o = cp_malloc(sizeof(float) * (size_t)(nlev ? nlev : 1));
	for (int i = 0; i < nq; i++)
		lv[i] = (float)c->quantiles[i];
	for (int a = 0; a < nlev; a++)
		qf[a] = (float)levels[a];
	for (int h = 0; h < horizon; h++) {
		if (subset) {
			for (int a = 0; a < nlev; a++)
				out[(size_t)a * horizon + h] = pred[(size_t)pick[a] * horizon + h];
			continue;
		}
		for (int i = 0; i < nq; i++)
			vv[i] = pred[(size_t)i * horizon + h];
		chronos2_interpolate(qf, nlev, lv, vv, nq, o);
		for (int a = 0; a < nlev; a++)
			out[(size_t)a * horizon + h] = o[a];
	}
	free(pick), free(lv), free(vv), free(qf), free(o);
}

/* ----------------------------------------------------------- pipeline */

/* Trapezoidal probability mass of sorted-or-not levels in (0, 1), in the
 * given order, normalized to sum 1 (levels are sorted for the neighbours). */
static void prob_mass(const float *lv, int n, float *mass)
{
	/* the public code uses the neighbours in list order */
	float sum = 0;
	for (int i = 0; i < n; i++) {
		float lo = i ? lv[i - 1] : 0.0f, hi = i + 1 < n ? lv[i + 1] : 1.0f;
		mass[i] = (hi - lo) / 2;
		sum += mass[i];
	}
	for (int i = 0; i < n; i++)
		mass[i] /= sum;
}

static const double default_unrolled[9] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};

int chronos2_predict(chronos2_model *m, int nser, const c2_series *s, int horizon,
                     const c2_predict_opts *o, float *out, cp_err *e)
{
	const c2_config *c = &m->c;
	int p = c->patch_size, nq = c->num_quantiles, CL = c->context_length;
	c2_predict_opts def = {0};
	if (!o)
		o = &def;
	int maxp = o->max_output_patches > 0 ? o->max_output_patches : c->max_output_patches;
	int nu = o->nunrolled > 0 ? o->nunrolled : 9;
	const double *ul = o->nunrolled > 0 ? o->unrolled : default_unrolled;
	if (horizon < 1)
		return cp_fail(e, CP_USAGE, "chronos2: horizon %d must be positive", horizon);
	int *upick = cp_malloc(sizeof(int) * (size_t)nu);
	for (int u = 0; u < nu; u++) {
		upick[u] = -1;
		for (int i = 0; i < nq; i++)
			if (c->quantiles[i] == ul[u])
				upick[u] = i;
		if (upick[u] < 0) {
			free(upick);
			return cp_fail(e, CP_USAGE, "chronos2: unrolled level %g is not one of the model's quantiles", ul[u]);
		}
	}
	free(upick);
	if (nser <= 0)
		return 0;
	int nout = (horizon + p - 1) / p;
	nout = nout < maxp ? nout : maxp;
	int step = nout * p;
	float *pred = cp_malloc(sizeof(float) * (size_t)nser * nq * step);
	if (chronos2_forward(m, nser, s, nout, o->align_all, pred, e) < 0) {
		free(pred);
		return -1;
	}
	int done = 0;
	for (int i = 0; i < nser; i++)
		for (int qq = 0; qq < nq; qq++)
			for (int t = 0; t < step && t < horizon; t++)
				out[((size_t)i * nq + qq) * horizon + t] = pred[((size_t)i * nq + qq) * step + t];
	done = step;
	if (done >= horizon) {
		free(pred);
		return 0;
	}
	/* long horizon: nu copies of each series with growing contexts */
	int nc = nser * nu;
	int *gid = dense_groups(nser, s);
	int *clen = cp_malloc(sizeof(int) * (size_t)nc);
	int ccap = CL + maxp * p;  /* a context, then one forecast appended */
	float *cbuf = cp_malloc(sizeof(float) * (size_t)nc * ccap);
	c2_series *cs = cp_calloc((size_t)nc, sizeof(c2_series));
	for (int i = 0; i < nser; i++)
		for (int u = 0; u < nu; u++) {
			int ci = i * nu + u;
			int n0 = s[i].n < CL ? s[i].n : CL;  /* only the last CL values are ever read */
			memcpy(cbuf + (size_t)ci * ccap, s[i].ctx + s[i].n - n0, sizeof(float) * (size_t)n0);
			clen[ci] = n0;
			cs[ci].group = gid[i] * nu + u;
		}
	float *uq = cp_malloc(sizeof(float) * (size_t)nu), *mq = cp_malloc(sizeof(float) * (size_t)nq);
	for (int u = 0; u < nu; u++)
		uq[u] = (float)ul[u];
	for (int i = 0; i < nq; i++)
		mq[i] = (float)c->quantiles[i];
	float *mu = cp_malloc(sizeof(float) * (size_t)nu), *mm = cp_malloc(sizeof(float) * (size_t)nq);
	prob_mass(uq, nu, mu);
	prob_mass(mq, nq, mm);
	int ns = nu * nq;
	float *wts = cp_malloc(sizeof(float) * (size_t)ns);
	for (int u = 0; u < nu; u++)
		for (int i = 0; i < nq; i++)
			wts[u * nq + i] = mu[u] * mm[i];
	float *vals = cp_malloc(sizeof(float) * (size_t)nq), *uv = cp_malloc(sizeof(float) * (size_t)nu);
	float *samp = cp_malloc(sizeof(float) * (size_t)ns), *scr = cp_malloc(sizeof(float) * (size_t)(6 * ns + 4));
	float *red = cp_malloc(sizeof(float) * (size_t)nq);
	float *big = NULL;
	int rc = 0, prev = step;  /* pred holds the last (reduced) forecast, prev steps */
	while (done < horizon) {
		/* append the unrolled levels of the last forecast, keep the last CL */
		for (int i = 0; i < nser; i++)
			for (int t = 0; t < prev; t++) {
				for (int qq = 0; qq < nq; qq++)
					vals[qq] = pred[((size_t)i * nq + qq) * prev + t];
				chronos2_interpolate(uq, nu, mq, vals, nq, uv);
				for (int u = 0; u < nu; u++) {
					int ci = i * nu + u;
					cbuf[(size_t)ci * ccap + clen[ci]++] = uv[u];
				}
			}
		for (int ci = 0; ci < nc; ci++) {
			const c2_series *src = &s[ci / nu];
			float *cx = cbuf + (size_t)ci * ccap;
			if (clen[ci] > CL) {
				memmove(cx, cx + clen[ci] - CL, sizeof(float) * (size_t)CL);
				clen[ci] = CL;
			}
			/* known future values replace the appended ones, then slide */
			int off = done - prev;  /* future index of the first appended value */
			for (int t = 0; t < prev && src->future; t++) {
				int fi = off + t;
				int at = clen[ci] - prev + t;
				if (at >= 0 && fi < src->nfuture && !isnan(src->future[fi]))
					cx[at] = src->future[fi];
			}
			cs[ci].ctx = cx;
			cs[ci].n = clen[ci];
			cs[ci].future = src->future && src->nfuture > done ? src->future + done : NULL;
			cs[ci].nfuture = cs[ci].future ? src->nfuture - done : 0;
		}
		int rem = horizon - done;
		int no = (rem + p - 1) / p;
		no = no < maxp ? no : maxp;
		int st = no * p;
		free(big);
		big = cp_malloc(sizeof(float) * (size_t)nc * nq * st);
		if (chronos2_forward(m, nc, cs, no, o->align_all, big, e) < 0) {
			rc = -1;
			break;
		}
		free(pred);
		pred = cp_malloc(sizeof(float) * (size_t)nser * nq * st);
		for (int i = 0; i < nser; i++)
			for (int t = 0; t < st; t++) {
				for (int u = 0; u < nu; u++)
					for (int qq = 0; qq < nq; qq++)
						samp[u * nq + qq] = big[(((size_t)i * nu + u) * nq + qq) * st + t];
				chronos2_weighted_quantile(mq, nq, wts, samp, ns, scr, red);
				for (int qq = 0; qq < nq; qq++) {
					pred[((size_t)i * nq + qq) * st + t] = red[qq];
					if (done + t < horizon)
						out[((size_t)i * nq + qq) * horizon + done + t] = red[qq];
				}
			}
		prev = st;
		done += st;
	}
	free(big), free(pred), free(gid), free(clen), free(cbuf), free(cs), free(uq), free(mq);
	free(mu), free(mm), free(wts), free(vals), free(uv), free(samp), free(scr), free(red);
	return rc;
}
