/* chronos_bolt.c — Chronos-Bolt forward pass, roll-out and forecaster;
 * see chronos_bolt.h. */
#include "chronos_bolt.h"
#include "chronos_internal.h"
#include "vecmath.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rows whose encoder outputs are held at once (memory: rows x tokens x
 * d_model floats), decoded together. */
#define BOLT_CHUNK 32

/* ------------------------------------------------------------ the pieces */

/* out (rows x b->out) = residual block of x (rows x b->in); h: rows x b->hid
 * scratch. */
static void resblock(chronos_model *m, const chronos_resblock *b, const float *x, int rows,
                     float *h, float *out)
{
	for (int r = 0; r < rows; r++) {
		memcpy(h + (size_t)r * b->hid, b->hb, sizeof(float) * b->hid);
		float *o = out + (size_t)r * b->out;
		for (int i = 0; i < b->out; i++)
			o[i] = b->ob[i] + b->rb[i];
	}
	chronos_weight_gemm(m, rows, b->hid, b->in, x, b->hw, &b->phw, 1, h);
	chronos_activate(h, NULL, (size_t)rows * b->hid, m->c.act);
	chronos_weight_gemm(m, rows, b->out, b->hid, h, b->ow, &b->pow, 1, out);
	chronos_weight_gemm(m, rows, b->out, b->in, x, b->rw, &b->prw, 1, out);
}

/* InstanceNorm in float32: loc, scale of the observed values of x[0..n-1]. */
static void instance_scale(const float *x, int n, float *loc, float *scale)
{
	double s = 0;
	int k = 0;
	for (int i = 0; i < n; i++)
		if (!isnan(x[i])) {
			s += x[i];
			k++;
		}
	if (k == 0) {
		*loc = 0.0f;   /* nanmean of nothing is NaN, then nan_to_num */
		*scale = 1.0f;
		return;
	}
	float l = (float)(s / k);
	double v = 0;
	for (int i = 0; i < n; i++)
		if (!isnan(x[i])) {
			float d = x[i] - l;
			v += (double)(d * d);
		}
	float sc = sqrtf((float)(v / k));
	if (sc == 0.0f)
		sc = fabsf(l) + 1e-5f;
	*loc = l;
	*scale = sc;
}

/* Encoder tokens for a context of n values (after the context_length cut). */
static int bolt_tokens(const cc_config *c, int n)
{
	int len = n + (n % c->patch_size ? c->patch_size - n % c->patch_size : 0);
	return (len - c->patch_size) / c->patch_stride + 1 + (c->use_reg_token ? 1 : 0);
}

/* Scale, patch and embed one context x[0..n-1] (n <= context_length) into
 * emb (tokens x d_model) and mask (tokens); feat: tokens x 2*patch_size and
 * h: tokens x d_ff scratch.  Returns the number of tokens. */
static int bolt_embed(chronos_model *m, const float *x, int n, float loc, float scale,
                      float *feat, float *h, float *emb, unsigned char *mask)
{
	const cc_config *c = &m->c;
	int ps = c->patch_size, pad = n % ps ? ps - n % ps : 0;
	int np = (n + pad - ps) / c->patch_stride + 1;
	for (int k = 0; k < np; k++) {
		float *f = feat + (size_t)k * 2 * ps;
		int seen = 0;
		for (int i = 0; i < ps; i++) {
			int at = k * c->patch_stride + i - pad;  /* index into x; < 0: padding */
			int obs = at >= 0 && !isnan(x[at]);
			f[i] = obs ? (x[at] - loc) / scale : 0.0f;
			f[ps + i] = obs ? 1.0f : 0.0f;
			seen |= obs;
		}
		mask[k] = (unsigned char)seen;
	}
	resblock(m, &m->patch_in, feat, np, h, emb);
	if (c->use_reg_token) {
		memcpy(emb + (size_t)np * c->d_model, m->w.embed + (size_t)1 * c->d_model,
		       sizeof(float) * c->d_model);
		mask[np] = 1;
		np++;
	}
	return np;
}

/* One decoder step for rows 0..R-1 from the start token over their
 * encoder outputs enc + r * N * d_model (ntok[r] tokens, mask + r * N) ->
 * hid (R x d_model, final norm applied).  Scratch in `ws`. */
typedef struct {
	float *x, *xn, *q, *att, *h, *g, *k, *v, *s, *mb;
} bolt_scratch;

static void bolt_decode(chronos_model *m, bolt_scratch *ws, int R, const float *enc, const int *ntok,
                        const unsigned char *mask, int N, float *hid)
{
	const cc_config *c = &m->c;
	int d = c->d_model, in = m->inner, H = c->num_heads, dk = c->d_kv;
	float eps = (float)c->layer_norm_epsilon;
	for (int r = 0; r < R; r++)
		memcpy(ws->x + (size_t)r * d, m->w.embed + (size_t)c->decoder_start_token_id * d,
		       sizeof(float) * d);
	for (int l = 0; l < c->num_decoder_layers; l++) {
		const chronos_layer *L = &m->w.dec[l];
		/* self-attention over the one position: softmax of a single score
		 * is 1 (whatever the position bias), so the output is its value */
		vm_rmsnorm(ws->xn, ws->x, L->ln_sa, R, d, eps);
		chronos_weight_gemm(m, R, in, d, ws->xn, L->v, &L->pv, 0, ws->att);
		chronos_weight_gemm(m, R, d, in, ws->att, L->o, &L->po, 1, ws->x);
		/* cross-attention, no position bias, masked patches excluded */
		vm_rmsnorm(ws->xn, ws->x, L->ln_ca, R, d, eps);
		chronos_weight_gemm(m, R, in, d, ws->xn, L->cq, &L->pcq, 0, ws->q);
		/* One query per row, so the keys and values are never formed:
		 * score_j = q_h . (W_k,h e_j) = (W_k,h^T q_h) . e_j and
		 * out_h = W_v,h (sum_j p_j e_j).  Per row and layer that is
		 * 2 (inner + H n) d multiply-adds instead of 2 n inner d. */
		for (int r = 0; r < R; r++) {
			int n = ntok[r];
			const float *er = enc + (size_t)r * N * d;
			const unsigned char *mr = mask + (size_t)r * N;
			for (int j = 0; j < n; j++)
				ws->mb[j] = mr[j] ? 0.0f : -INFINITY;
			for (int hh = 0; hh < H; hh++)  /* k[h] = W_k,h^T q_h (d) */
				m->gemm(0, 1, d, dk, 1, ws->q + (size_t)r * in + hh * dk, dk,
				        L->ck + (size_t)hh * dk * d, d, 0, ws->k + (size_t)hh * d, d);
			m->gemm(1, H, n, d, 1, ws->k, d, er, d, 0, ws->s, n);  /* H x n scores */
			for (int hh = 0; hh < H; hh++)
				vm_softmax(ws->s + (size_t)hh * n, n, ws->mb, 1);
			m->gemm(0, H, d, n, 1, ws->s, n, er, d, 0, ws->v, d);  /* H x d mixtures */
			for (int hh = 0; hh < H; hh++)
				m->gemm(1, 1, dk, d, 1, ws->v + (size_t)hh * d, d, L->cv + (size_t)hh * dk * d, d, 0,
				        ws->att + (size_t)r * in + hh * dk, in);
		}
		chronos_weight_gemm(m, R, d, in, ws->att, L->co, &L->pco, 1, ws->x);
		chronos_feed_forward(m, L, ws->x, ws->xn, ws->h, ws->g, R);
	}
	vm_rmsnorm(hid, ws->x, m->w.dec_ln, R, d, eps);
}

/* ----------------------------------------------------------- forward pass */

void bolt_forward(chronos_model *m, int nrow, const float *const *ctx, const int *n,
                  float *q, float *loc, float *scale)
{
	const cc_config *c = &m->c;
	int d = c->d_model, in = m->inner, ff = c->d_ff, ps = c->patch_size;
	int N = bolt_tokens(c, c->context_length), QP = c->nquantiles * c->prediction_length;
	int CH = nrow < BOLT_CHUNK ? nrow : BOLT_CHUNK;
	if (nrow < 1)
		return;
	int wide = ff > QP ? ff : QP;  /* scratch rows wide enough for either block */
	float *feat = cp_malloc(sizeof(float) * (size_t)N * 2 * ps);
	float *hbuf = cp_malloc(sizeof(float) * (size_t)(N > CH ? N : CH) * wide);
	float *emb = cp_malloc(sizeof(float) * (size_t)N * d);
	float *enc = cp_malloc(sizeof(float) * (size_t)CH * N * d);
	unsigned char *mask = cp_malloc((size_t)CH * N);
	int *ntok = cp_malloc(sizeof(int) * (size_t)CH);
	float *lc = cp_malloc(sizeof(float) * (size_t)CH * 2);
	float *hid = cp_malloc(sizeof(float) * (size_t)CH * d);
	bolt_scratch ws;
	ws.x = cp_malloc(sizeof(float) * (size_t)CH * d);
	ws.xn = cp_malloc(sizeof(float) * (size_t)CH * d);
	ws.q = cp_malloc(sizeof(float) * (size_t)CH * in);
	ws.att = cp_malloc(sizeof(float) * (size_t)CH * in);
	ws.h = cp_malloc(sizeof(float) * (size_t)CH * ff);
	ws.g = cp_malloc(sizeof(float) * (size_t)CH * ff);
	ws.k = cp_malloc(sizeof(float) * (size_t)c->num_heads * d);
	ws.v = cp_malloc(sizeof(float) * (size_t)c->num_heads * d);
	ws.s = cp_malloc(sizeof(float) * (size_t)c->num_heads * N);
	ws.mb = cp_malloc(sizeof(float) * (size_t)N);
	for (int r0 = 0; r0 < nrow; r0 += CH) {
		int R = nrow - r0 < CH ? nrow - r0 : CH;
		for (int i = 0; i < R; i++) {
			int len = n[r0 + i] < c->context_length ? n[r0 + i] : c->context_length;
			const float *x = ctx[r0 + i] + n[r0 + i] - len;
			float l, s;
			instance_scale(x, len, &l, &s);
			lc[2 * i] = l, lc[2 * i + 1] = s;
			ntok[i] = bolt_embed(m, x, len, l, s, feat, hbuf, emb, mask + (size_t)i * N);
			chronos_encode_embeds(m, emb, mask + (size_t)i * N, ntok[i], enc + (size_t)i * N * d);
		}
		/* the decoder step and the head one row at a time: no row's
		 * numbers depend on which rows share its call */
		float *out = q + (size_t)r0 * QP;
		for (int i = 0; i < R; i++) {
			bolt_decode(m, &ws, 1, enc + (size_t)i * N * d, ntok + i, mask + (size_t)i * N, N,
			            hid + (size_t)i * d);
			resblock(m, &m->patch_out, hid + (size_t)i * d, 1, hbuf, out + (size_t)i * QP);
		}
		for (int i = 0; i < R; i++) {
			float l = lc[2 * i], s = lc[2 * i + 1];
			for (int k = 0; k < QP; k++)
				out[(size_t)i * QP + k] = out[(size_t)i * QP + k] * s + l;
			if (loc)
				loc[r0 + i] = l;
			if (scale)
				scale[r0 + i] = s;
		}
	}
	free(feat), free(hbuf), free(emb), free(enc), free(mask), free(ntok), free(lc), free(hid);
	free(ws.x), free(ws.xn), free(ws.q), free(ws.att), free(ws.h), free(ws.g);
	free(ws.k), free(ws.v), free(ws.s), free(ws.mb);
}

/* -------------------------------------------------------------- quantiles */

static int cmp_float_nan_last(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	if (isnan(x) || isnan(y))
		return isnan(x) - isnan(y);
	return (x > y) - (x < y);
}

float bolt_torch_quantile(float *x, int n, float q)
{
	qsort(x, (size_t)n, sizeof(float), cmp_float_nan_last);
	if (isnan(x[n - 1]))
		return NAN;
	float rank = q * (float)(n - 1);
	int lo = (int)rank, hi = (int)ceilf(rank);
	if (lo > n - 1)
		lo = n - 1;
	if (hi > n - 1)
		hi = n - 1;
	float w = rank - (float)lo, a = x[lo], b = x[hi];
	/* torch.lerp: from the nearer end */
	return w < 0.5f ? a + w * (b - a) : b - (b - a) * (1.0f - w);
}

void bolt_quantiles_at(const double *lv, int nq, const float *v, int nreq, const double *req,
                       float *out)
{
	int subset = 1;
	for (int i = 0; i < nreq && subset; i++) {
		int found = 0;
		for (int j = 0; j < nq && !found; j++)
			found = req[i] == lv[j];
		subset = found;
	}
	if (subset) {
		for (int i = 0; i < nreq; i++)
			for (int j = 0; j < nq; j++)
				if (req[i] == lv[j])
					out[i] = v[j];
		return;
	}
	float *aug = cp_malloc(sizeof(float) * (size_t)(nq + 2));
	for (int i = 0; i < nreq; i++) {
		aug[0] = v[0];
		memcpy(aug + 1, v, sizeof(float) * nq);
		aug[nq + 1] = v[nq - 1];
		out[i] = bolt_torch_quantile(aug, nq + 2, (float)req[i]);
	}
	free(aug);
}

/* --------------------------------------------------------------- roll-out */

int bolt_predict(chronos_model *m, int nwin, const double *const *ctx, const int *nctx,
                 int steps, float *out, cp_err *e)
{
	const cc_config *c = &m->c;
	if (steps < 1 || nwin < 0)
		return cp_fail(e, CP_USAGE, "steps must be positive");
	for (int w = 0; w < nwin; w++)
		if (nctx[w] < 1)
			return cp_fail(e, CP_USAGE, "window %d has an empty context", w);
	if (nwin == 0)
		return 0;
	int Q = c->nquantiles, P = c->prediction_length, CL = c->context_length;
	int QP = Q * P, first = steps < P ? steps : P;
	/* rows: one per window, then one per (window, level) */
	int rows = steps > P ? nwin * Q : nwin;
	int cap = CL + steps;
	float *buf = cp_malloc(sizeof(float) * (size_t)rows * cap);
	int *len = cp_malloc(sizeof(int) * (size_t)rows);
	const float **rp = cp_malloc(sizeof(*rp) * (size_t)rows);
	float *pred = cp_malloc(sizeof(float) * (size_t)rows * QP);
	for (int w = 0; w < nwin; w++) {
		int n = nctx[w] < CL ? nctx[w] : CL;
		float *b = buf + (size_t)w * cap;
		for (int i = 0; i < n; i++)
			b[i] = (float)ctx[w][nctx[w] - n + i];
		len[w] = n;
		rp[w] = b;
	}
	bolt_forward(m, nwin, rp, len, pred, NULL, NULL);
	for (int w = 0; w < nwin; w++)
		for (int j = 0; j < Q; j++)
			memcpy(out + ((size_t)w * Q + j) * steps, pred + (size_t)w * QP + (size_t)j * P,
			       sizeof(float) * first);
	if (steps > P) {
		/* one context per (window, level): the window's context and its
		 * level-j path, most recent CL values kept */
		float *ext = cp_malloc(sizeof(float) * (size_t)nwin * Q * cap);
		int *elen = cp_malloc(sizeof(int) * (size_t)nwin * Q);
		for (int w = 0; w < nwin; w++)
			for (int j = 0; j < Q; j++) {
				size_t r = (size_t)w * Q + j;
				memcpy(ext + r * cap, buf + (size_t)w * cap, sizeof(float) * len[w]);
				elen[r] = len[w];
			}
		float *col = cp_malloc(sizeof(float) * (size_t)Q * Q);
		for (int h0 = P; h0 < steps; h0 += P) {
			int n = steps - h0 < P ? steps - h0 : P;
			for (int r = 0; r < nwin * Q; r++) {
				float *b = ext + (size_t)r * cap;
				/* append the previous block's level-j path (all P steps) */
				int w = r / Q, j = r % Q;
				for (int t = 0; t < P; t++) {
					float v = h0 == P ? pred[(size_t)w * QP + (size_t)j * P + t]
					                  : out[((size_t)w * Q + j) * steps + h0 - P + t];
					b[elen[r]++] = v;
				}
				if (elen[r] > CL) {
					memmove(b, b + elen[r] - CL, sizeof(float) * CL);
					elen[r] = CL;
				}
				rp[r] = b;
			}
			bolt_forward(m, nwin * Q, rp, elen, pred, NULL, NULL);
			/* the Q x Q values of window w at step t, reduced to the
			 * model's levels (only the last block can be short) */
			for (int w = 0; w < nwin; w++)
				for (int t = 0; t < n; t++) {
					for (int a = 0; a < Q; a++)
						for (int k = 0; k < Q; k++)
							col[a * Q + k] = pred[((size_t)w * Q + a) * QP + (size_t)k * P + t];
					for (int j = 0; j < Q; j++)
						out[((size_t)w * Q + j) * steps + h0 + t] =
							bolt_torch_quantile(col, Q * Q, (float)c->quantiles[j]);
				}
		}
		free(ext), free(elen), free(col);
	}
	free(buf), free(len), free(rp), free(pred);
	return 0;
}

/* ------------------------------------------------------------ forecaster */

static int bolt_fc_forecast(forecaster *f, const fc_config *cfg, int nwin,
                            const double *const *ctx, const int *nctx, int steps,
                            uint64_t seed, const uint64_t *stream,
                            double *quant, double *point, cp_err *e)
{
	chronos_model *m = f->state;
	int Q = m->c.nquantiles, mid = 0;
	(void)seed, (void)stream;
	if (cfg->context_length < 1)
		return cp_fail(e, CP_USAGE, "context_length must be positive");
	for (int j = 0; j < Q; j++)
		if ((float)m->c.quantiles[j] == 0.5f)
			mid = j;
	size_t nw = nwin > 0 ? (size_t)nwin : 1;
	const double **cx = cp_malloc(sizeof(*cx) * nw);
	int *nc = cp_malloc(sizeof(int) * nw);
	float *out = cp_malloc(sizeof(float) * nw * Q * (size_t)(steps > 0 ? steps : 1));
	for (int w = 0; w < nwin; w++) {
		nc[w] = nctx[w] < cfg->context_length ? nctx[w] : cfg->context_length;
		cx[w] = ctx[w] + nctx[w] - nc[w];
	}
	/* one window per pass: a window's quantiles are then the same bytes
	 * whatever else is asked with it (sgemm rounds a row differently with
	 * the row count), which the forecast cache relies on */
	int rc = 0;
	for (int w = 0; w < nwin && rc == 0; w++)
		rc = bolt_predict(m, 1, cx + w, nc + w, steps, out + (size_t)w * Q * steps, e);
	if (rc == 0)
		for (int w = 0; w < nwin; w++) {
			for (size_t i = 0; i < (size_t)Q * steps; i++)
				quant[(size_t)w * Q * steps + i] = out[(size_t)w * Q * steps + i];
			if (point)
				for (int h = 0; h < steps; h++)
					point[(size_t)w * steps + h] = out[((size_t)w * Q + mid) * steps + h];
		}
	free(cx), free(nc), free(out);
	return rc < 0 ? -1 : 1;
}

static void bolt_fc_free(forecaster *f)
{
	if (!f)
		return;
	chronos_free(f->state);
	free(f);
}

void bolt_forecaster_init(forecaster *f, chronos_model *m)
{
	f->name = "chronos-bolt";
	f->family = cc_family_name(CC_BOLT);
	f->state = m;
	f->forecast = bolt_fc_forecast;
	f->max_context = m->c.context_length;
	f->prefix_horizon = 0;
	f->nquantiles = m->c.nquantiles;
	f->levels = m->c.quantiles;
	f->free = bolt_fc_free;
}
