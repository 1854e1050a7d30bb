/* matmul.c — see matmul.h. */
#include "matmul.h"

#include <cblas.h>
#include <string.h>

void mm_gemm(int transb, int M, int N, int K, float alpha,
             const float *A, int lda, const float *B, int ldb,
             float beta, float *C, int ldc)
{
	if (M <= 0 || N <= 0)
		return;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, transb ? CblasTrans : CblasNoTrans,
	            M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void mm_gemm_vec(int transb, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb,
                 float beta, float *C, int ldc)
{
	if (M != 1 || N <= 0 || K <= 0) {
		mm_gemm(transb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
		return;
	}
	/* C is cleared first when beta == 0, so NaN in it cannot reach the
	 * result whatever sgemv's scaling does with a zero factor */
	if (beta == 0)
		memset(C, 0, sizeof(float) * (size_t)N);
	if (transb)
		cblas_sgemv(CblasRowMajor, CblasNoTrans, N, K, alpha, B, ldb, A, 1, beta, C, 1);
	else
		cblas_sgemv(CblasRowMajor, CblasTrans, K, N, alpha, B, ldb, A, 1, beta, C, 1);
}

void mm_gemm_naive(int transb, int M, int N, int K, float alpha,
                   const float *A, int lda, const float *B, int ldb,
                   float beta, float *C, int ldc)
{
	for (int i = 0; i < M; i++)
		for (int j = 0; j < N; j++) {
			double s = 0;
			for (int k = 0; k < K; k++)
				s += (double)A[(long)i * lda + k] *
				     (transb ? B[(long)j * ldb + k] : B[(long)k * ldb + j]);
			float v = alpha * (float)s;
			C[(long)i * ldc + j] = beta == 0 ? v : v + beta * C[(long)i * ldc + j];
		}
}

/* The recorded thread count: written once by the tool before any work. */
static int mm_nthreads;

int mm_set_threads(int n)
{
	if (n < 1)
		n = 1;
	openblas_set_num_threads(n);
	mm_nthreads = n;
	return openblas_get_num_threads();
}

int mm_threads(void)
{
	return mm_nthreads;
}
