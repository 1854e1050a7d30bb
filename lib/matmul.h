/*
 * matmul.h — the one matrix-product choke point of the Chronos code.
 *
 * Every product in the model goes through mm_gemm(), a thin wrapper over
 * cblas_sgemm (row-major), or mm_gemm_vec(), the same except that a
 * one-row product goes to cblas_sgemv (which reads the matrix once instead
 * of packing it for a single use; Chronos-Bolt computes its decoder step
 * one row at a time with it).  mm_gemm_naive() computes the same thing with
 * plain loops (double accumulation) and is the oracle the tests use.
 * The OpenBLAS thread count is set explicitly with mm_set_threads() and can
 * be read back with mm_threads() so that tools can record it.
 */
#ifndef CHRONOPT_MATMUL_H
#define CHRONOPT_MATMUL_H

/* C[M x N] = alpha * A[M x K] * op(B) + beta * C, all row-major.
 * op(B) = B (B is K x N, leading dimension ldb) when transb == 0,
 *         B^T (B is N x K, leading dimension ldb) when transb != 0.
 * When beta == 0, C is not read (NaN in C does not propagate). */
typedef void mm_fn(int transb, int M, int N, int K, float alpha,
                   const float *A, int lda, const float *B, int ldb,
                   float beta, float *C, int ldc);

mm_fn mm_gemm;        /* cblas_sgemm */
mm_fn mm_gemm_vec;    /* cblas_sgemv when M == 1, else mm_gemm */
mm_fn mm_gemm_naive;  /* plain loops, for tests */

/* Set the OpenBLAS thread count (>= 1) for every later mm_gemm call and
 * remember it.  Returns the count OpenBLAS reports afterwards. */
int mm_set_threads(int n);
/* The thread count last set with mm_set_threads (0: never set). */
int mm_threads(void);

#endif
