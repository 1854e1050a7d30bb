/* test_matmul.c — the cblas_sgemm wrapper against its naive twin. */
#include "tap.h"
#include "matmul.h"

#include <stdlib.h>
#include <string.h>

static float frand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static double max_rel(const float *a, const float *b, int M, int N, int ldc)
{
	double mx = 0;
	for (int i = 0; i < M; i++)
		for (int j = 0; j < N; j++) {
			double d = fabs(a[i * ldc + j] - b[i * ldc + j]) / (1 + fabs(b[i * ldc + j]));
			if (!(d <= mx))
				mx = d;
		}
	return mx;
}

int main(void)
{
	CHECK(mm_set_threads(1) == 1 && mm_threads() == 1, "thread count set and recorded");
	unsigned s = 1;
	static const int dims[][3] = {{1, 1, 1}, {1, 70, 33}, {1, 512, 64}, {3, 5, 7}, {17, 33, 64}, {64, 200, 13}, {129, 65, 96}};
	for (size_t d = 0; d < sizeof(dims) / sizeof(dims[0]); d++)
		for (int tb = 0; tb < 2; tb++)
			for (int beta = 0; beta < 2; beta++) {
				int M = dims[d][0], N = dims[d][1], K = dims[d][2];
				int lda = K + 3, ldb = (tb ? K : N) + 2, ldc = N + 1;
				float *A = malloc(sizeof(float) * M * lda), *B = malloc(sizeof(float) * (tb ? N : K) * ldb);
				float *C1 = malloc(sizeof(float) * M * ldc), *C2 = malloc(sizeof(float) * M * ldc);
				for (int i = 0; i < M * lda; i++)
					A[i] = frand(&s);
				for (int i = 0; i < (tb ? N : K) * ldb; i++)
					B[i] = frand(&s);
				for (int i = 0; i < M * ldc; i++)
					C1[i] = C2[i] = beta ? frand(&s) : NAN;
				float *C3 = malloc(sizeof(float) * M * ldc);
				memcpy(C3, C1, sizeof(float) * M * ldc);
				mm_gemm(tb, M, N, K, 0.5f, A, lda, B, ldb, (float)beta, C1, ldc);
				mm_gemm_vec(tb, M, N, K, 0.5f, A, lda, B, ldb, (float)beta, C3, ldc);
				mm_gemm_naive(tb, M, N, K, 0.5f, A, lda, B, ldb, (float)beta, C2, ldc);
				char nm[128];
				snprintf(nm, sizeof(nm), "sgemm = naive, %dx%dx%d transb %d beta %d (strided)", M, N, K, tb, beta);
				CHECK(max_rel(C1, C2, M, N, ldc) <= 1e-5, nm);
				snprintf(nm, sizeof(nm), "mm_gemm_vec = naive, %dx%dx%d transb %d beta %d", M, N, K, tb, beta);
				CHECK(max_rel(C3, C2, M, N, ldc) <= 1e-5, nm);
				free(C3);
				free(A), free(B), free(C1), free(C2);
			}
	/* the padding columns of C are never written */
	float A[4] = {1, 2, 3, 4}, B[4] = {1, 0, 0, 1}, C[6] = {9, 9, 9, 9, 9, 9};
	mm_gemm(1, 2, 2, 2, 1, A, 2, B, 2, 0, C, 3);
	CHECK(C[0] == 1 && C[1] == 2 && C[2] == 9 && C[3] == 3 && C[4] == 4 && C[5] == 9,
	      "identity product, ldc padding untouched");
	return tap_done();
}
