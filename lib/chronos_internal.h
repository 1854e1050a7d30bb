/* chronos_internal.h — pieces of the T5 forward pass (chronos.c) that the
 * Chronos-Bolt code (chronos_bolt.c) reuses.  Not a public interface. */
#ifndef CHRONOPT_CHRONOS_INTERNAL_H
#define CHRONOPT_CHRONOS_INTERNAL_H
#include "chronos.h"

/* h[i] = act(h[i]) (times gate[i] when gate is non-NULL); act: enum cc_act. */
void chronos_activate(float *h, const float *gate, size_t n, int act);

/* T5 feed-forward sublayer on `rows` rows of x, residual added in place:
 * x += wo(act(wi(rms(x)))) (gated: act(wi_0(.)) * wi_1(.)).  xn, h, g:
 * scratch of rows * d_model, rows * d_ff, rows * d_ff floats (g unused
 * when not gated). */
void chronos_feed_forward(chronos_model *m, const chronos_layer *L, float *x, float *xn,
                          float *h, float *g, int rows);

/* C[rows x N] = A * W^T + beta * C (A, C dense: leading dimensions K, N)
 * for a weight W (N x K, as stored) with its packed copy pk: mm_packed
 * where that pays (chronos.c), else m->gemm. */
void chronos_weight_gemm(chronos_model *m, int rows, int N, int K, const float *A, const float *W,
                         const mm_pack *pk, float beta, float *C);

#endif
