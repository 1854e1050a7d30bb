/*
 * matmul.h — the one matrix-product choke point of the Chronos code.
 *
 * Every product in the model goes through mm_gemm(), a thin wrapper over
 * cblas_sgemm (row-major), or mm_gemm_vec(), the same except that a
 * one-row product goes to cblas_sgemv (which reads the matrix once instead
 * of packing it for a single use; Chronos-Bolt computes its decoder step
 * one row at a time with it).  mm_gemm_naive() computes the same thing with
 * plain loops (double accumulation) and is the oracle the tests use.
 * Chronos-T5, Chronos-Bolt and Chronos-2 run their weight products through mm_packed() where
 * mm_packed_pays() (matmul_pack.c): the weight packed once at load, a
 * kernel of our own dispatched on the CPU (AVX-512, AVX2+FMA, plain C).
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

/* A weight packed once for small-M products (matmul_pack.c): W (N x K,
 * row-major, the transb layout of mm_gemm) in panels of MM_NR of its rows,
 * each panel k-major and zero padded.  OpenBLAS repacks its B operand on
 * every sgemm call, which with few rows (the decoder's samples) costs as
 * much as the product. */
#define MM_NR 32
typedef struct {
	int N, K;
	float *p;                    /* ceil(N / MM_NR) * K * MM_NR floats, owned */
} mm_pack;

/* Pack W (N x K, leading dimension ldw) into pk (allocated; W is not kept).
 * Release with mm_pack_release (a zeroed mm_pack may be released too). */
void mm_pack_init(mm_pack *pk, const float *W, int N, int K, int ldw);
void mm_pack_release(mm_pack *pk);

/* The code paths of mm_packed, slowest first.  All give the same bits:
 * C[i][j] is one fused multiply-add chain over k = 0..K-1 from 0, then
 * acc + beta * C[i][j] when beta != 0; it depends on row i of A only. */
typedef enum { MM_PATH_C, MM_PATH_AVX2, MM_PATH_AVX512 } mm_path;
int mm_path_supported(mm_path path);   /* this CPU (and build) can run it */
const char *mm_path_name(mm_path path);
mm_path mm_best_path(void);            /* the fastest supported path */

/* C[M x N] = A[M x K] * W^T + beta * C (row-major; beta == 0: C not read)
 * with the weight packed in pk, on the best path (mm_packed) or on `path`
 * (mm_packed_on; the plain-C path when `path` is not supported). */
void mm_packed(int M, const float *A, int lda, const mm_pack *pk, float beta, float *C, int ldc);
void mm_packed_on(mm_path path, int M, const float *A, int lda, const mm_pack *pk, float beta,
                  float *C, int ldc);

/* Whether mm_packed beats sgemm for an M x N x K product on this CPU
 * (measured by bench_chronos gemm). */
int mm_packed_pays(int M, int N, int K);

/* Set the OpenBLAS thread count (>= 1) for every later mm_gemm call and
 * remember it.  Returns the count OpenBLAS reports afterwards. */
int mm_set_threads(int n);
/* The thread count last set with mm_set_threads (0: never set). */
int mm_threads(void);

#endif
