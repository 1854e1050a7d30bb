/*
 * vecmath.h — the few vector kernels of the Chronos forward pass that are
 * not matrix products: softmax (with a key mask), one query's attention
 * over a short key/value cache, RMS norm.  Each has a portable version
 * (GCC/clang vector extensions, SSE2 on x86-64) and, on x86-64 CPUs with
 * AVX2 and FMA, a faster one chosen at run time.  Results of the two agree
 * to a few float ulps; exp is a polynomial with ~1.3 ulp error.
 */
#ifndef CHRONOPT_VECMATH_H
#define CHRONOPT_VECMATH_H
#include <stddef.h>

/* Softmax of s[0..n-1] in place.  mbias (may be NULL): 0 for a key that
 * may be attended, -inf for a masked one (its weight is exactly 0).  All
 * keys masked: uniform weights (what adding the most negative float, as
 * HF does, gives).  normalize != 0: weights sum to 1, returns 1; else the
 * unscaled exponentials are left in s and their sum is returned. */
float vm_softmax(float *s, int n, const float *mbias, int normalize);
float vm_softmax_generic(float *s, int n, const float *mbias, int normalize);

/* One query's attention over nk cached keys/values (rows of dk floats,
 * contiguous): out = softmax(K q + bias) V, where key j gets the additive
 * bias rbias[nk - 1 - j] (relative-position bias by distance).  scratch:
 * nk floats. */
void vm_attend(const float *q, const float *K, const float *V, int nk, int dk,
               const float *rbias, float *scratch, float *out);
void vm_attend_generic(const float *q, const float *K, const float *V, int nk, int dk,
                       const float *rbias, float *scratch, float *out);

/* T5 layer norm of `rows` rows of d: out = w * x / sqrt(mean(x^2) + eps). */
void vm_rmsnorm(float *out, const float *x, const float *w, int rows, int d, float eps);

/* d[i] += s[i] */
void vm_add(float *d, const float *s, size_t n);

/* h[i] = max(h[i], 0) (times gate[i] when gate is non-NULL). */
void vm_relu(float *h, const float *gate, size_t n);

/* 1 when the AVX2/FMA versions are in use. */
int vm_have_avx2(void);

#endif
