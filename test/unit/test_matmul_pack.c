/* test_matmul_pack.c — mm_packed (the packed-weight kernel) on every path
 * this CPU runs, plus the plain-C one, against the naive triple loop.
 *
 * Tolerance: every path computes C[i][j] as a chain of K fused
 * multiply-adds (one rounding each) and, with beta, one product and one
 * sum more; the naive twin sums in double and rounds once.  By the
 * standard bound for recursive summation (Higham, Accuracy and Stability,
 * 3.1) both are within gamma_(K+3) * (S + |beta C|) of the exact value,
 * with S = sum_k |A[i][k] W[j][k]| and gamma_n = n u / (1 - n u),
 * u = 2^-24.  The test allows twice that (the two errors add).
 * The paths must also agree bit for bit, and a row's result must not
 * depend on the rows around it (the forecast cache relies on both). */
#include "tap.h"
#include "matmul.h"

#include <stdlib.h>
#include <string.h>

static float frand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* Largest |got - want| / bound over C, where bound is the error bound
 * above (<= 1 passes); NaN counts as failure. */
static double worst(const float *got, const float *want, const float *A, int lda, const float *W,
                    int ldw, const float *C0, float beta, int M, int N, int K, int ldc)
{
	double u = 1.0 / (1 << 24), n = K + 3, gamma = n * u / (1 - n * u), mx = 0;
	for (int i = 0; i < M; i++)
		for (int j = 0; j < N; j++) {
			double S = beta != 0 ? fabs((double)beta * C0[(size_t)i * ldc + j]) : 0;
			for (int k = 0; k < K; k++)
				S += fabs((double)A[(size_t)i * lda + k] * W[(size_t)j * ldw + k]);
			double bound = 2 * gamma * S + 1e-300;
			double r = fabs((double)got[(size_t)i * ldc + j] - want[(size_t)i * ldc + j]) / bound;
			if (!(r <= mx))
				mx = r;
		}
	return mx;
}

int main(void)
{
	unsigned s = 3;
	/* odd and even M, N across panel edges (32), K from 1 to beyond a
	 * panel line; M past the 6- and 8-row blocks of the vector paths */
	static const int dims[][3] = {
		{1, 1, 1}, {1, 33, 7}, {2, 31, 64}, {3, 32, 5}, {5, 65, 129}, {7, 100, 3},
		{8, 64, 17}, {9, 47, 512}, {13, 96, 33}, {17, 129, 1}, {20, 70, 65}, {25, 16, 40},
	};
	char nm[200];
	for (size_t d = 0; d < sizeof(dims) / sizeof(dims[0]); d++)
		for (int beta = 0; beta < 3; beta++) {
			int M = dims[d][0], N = dims[d][1], K = dims[d][2];
			int lda = K + 3, ldw = K + 1, ldc = N + 2;
			float fb = beta == 2 ? -0.75f : (float)beta;
			float *A = malloc(sizeof(float) * M * lda), *W = malloc(sizeof(float) * N * ldw);
			float *C0 = malloc(sizeof(float) * M * ldc), *want = malloc(sizeof(float) * M * ldc);
			float *ref = malloc(sizeof(float) * M * ldc), *got = malloc(sizeof(float) * M * ldc);
			for (int i = 0; i < M * lda; i++)
				A[i] = frand(&s);
			for (int i = 0; i < N * ldw; i++)
				W[i] = frand(&s);
			for (int i = 0; i < M * ldc; i++)
				C0[i] = beta ? frand(&s) : NAN;  /* beta 0: C must not be read */
			memcpy(want, C0, sizeof(float) * M * ldc);
			mm_gemm_naive(1, M, N, K, 1, A, lda, W, ldw, fb, want, ldc);
			mm_pack pk;
			mm_pack_init(&pk, W, N, K, ldw);
			memcpy(ref, C0, sizeof(float) * M * ldc);
			mm_packed_on(MM_PATH_C, M, A, lda, &pk, fb, ref, ldc);
			for (int p = MM_PATH_C; p <= MM_PATH_AVX512; p++) {
				if (!mm_path_supported((mm_path)p))
					continue;
				const char *pn = mm_path_name((mm_path)p);
				memcpy(got, C0, sizeof(float) * M * ldc);
				mm_packed_on((mm_path)p, M, A, lda, &pk, fb, got, ldc);
				double r = worst(got, want, A, lda, W, ldw, C0, fb, M, N, K, ldc);
				snprintf(nm, sizeof(nm), "%s: %dx%dx%d beta %g within the summation bound of naive "
				         "(worst %.3f of it)", pn, M, N, K, fb, r);
				CHECK(r <= 1, nm);
				int pad = 1;
				for (int i = 0; i < M; i++)
					for (int j = N; j < ldc; j++)
						pad &= isnan(C0[(size_t)i * ldc + j]) ? isnan(got[(size_t)i * ldc + j])
						       : got[(size_t)i * ldc + j] == C0[(size_t)i * ldc + j];
				snprintf(nm, sizeof(nm), "%s: %dx%dx%d beta %g: same bits as the plain-C path, "
				         "ldc padding untouched", pn, M, N, K, fb);
				CHECK(pad && memcmp(got, ref, sizeof(float) * ((size_t)(M - 1) * ldc + N)) == 0, nm);
				if (p != MM_PATH_C && M > 1) {
					/* the last row alone: the same bits as among the others */
					float *one = malloc(sizeof(float) * ldc);
					memcpy(one, C0 + (size_t)(M - 1) * ldc, sizeof(float) * ldc);
					mm_packed_on((mm_path)p, 1, A + (size_t)(M - 1) * lda, lda, &pk, fb, one, ldc);
					snprintf(nm, sizeof(nm), "%s: %dx%dx%d: row %d alone gives the bits it gives among %d",
					         pn, M, N, K, M - 1, M);
					CHECK(memcmp(one, got + (size_t)(M - 1) * ldc, sizeof(float) * N) == 0, nm);
					free(one);
				}
			}
			memcpy(got, C0, sizeof(float) * M * ldc);
			mm_packed(M, A, lda, &pk, fb, got, ldc);
			snprintf(nm, sizeof(nm), "mm_packed (%s) %dx%dx%d beta %g = the plain-C path",
			         mm_path_name(mm_best_path()), M, N, K, fb);
			CHECK(memcmp(got, ref, sizeof(float) * ((size_t)(M - 1) * ldc + N)) == 0, nm);
			mm_pack_release(&pk);
			free(A), free(W), free(C0), free(want), free(ref), free(got);
		}
	/* K = 0: an empty sum, C = beta * C */
	mm_pack z;
	mm_pack_init(&z, NULL, 3, 0, 0);
	float C[6] = {1, 2, 3, 4, 5, 6};
	mm_packed(2, NULL, 0, &z, 0.5f, C, 3);
	CHECK(C[0] == 0.5f && C[2] == 1.5f && C[5] == 3, "K = 0: C = beta * C");
	mm_pack_release(&z);
	CHECK(mm_path_supported(MM_PATH_C), "the plain-C path runs everywhere");
	CHECK(mm_path_supported(mm_best_path()), "the best path is a supported one");
	CHECK(!mm_packed_pays(20, 512, 512) || mm_best_path() != MM_PATH_C,
	      "the plain-C path is never chosen over sgemm");
	printf("# paths on this CPU:");
	for (int p = MM_PATH_C; p <= MM_PATH_AVX512; p++)
		if (mm_path_supported((mm_path)p))
			printf(" %s", mm_path_name((mm_path)p));
	printf("\n");
	return tap_done();
}
