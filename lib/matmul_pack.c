/* matmul_pack.c — products with a weight packed once; see matmul.h.
 *
 * Layout: the weight W (N x K, row-major, the transb layout of mm_gemm) is
 * cut into panels of MM_NR = 32 of its rows (the product's columns); panel
 * p holds, for k = 0..K-1, the 32 floats W[32p + j][k] (j = 0..31)
 * contiguous, zero past row N.  A step of k then reads one 128-byte line
 * of the panel and one float of each row of A.
 *
 * Every path computes C[i][j] the same way: one chain of fused
 * multiply-adds over k = 0..K-1 starting from 0, then (beta != 0)
 * acc + beta * C[i][j].  fmaf in the plain-C path, vfmadd in the vector
 * paths: one rounding per step either way, so all paths give the same
 * bits, and a row's result depends on that row of A alone (not on M, nor
 * on the row's place in the product), unlike sgemm's. */
#include "matmul.h"
#include "common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MM_X86 1
#include <immintrin.h>
#endif

enum { NR = MM_NR };

void mm_pack_init(mm_pack *pk, const float *W, int N, int K, int ldw)
{
	int np = (N + NR - 1) / NR;
	pk->N = N, pk->K = K;
	pk->p = NULL;
	if (N <= 0 || K <= 0)
		return;
	/* 64-byte aligned, so that a panel line is two whole cache lines (the
	 * kernels load unaligned all the same: cp_malloc's block if this fails) */
	size_t bytes = sizeof(float) * (size_t)np * K * NR;
	void *mem;
	pk->p = posix_memalign(&mem, 64, bytes) == 0 ? mem : cp_malloc(bytes);
	for (int p = 0; p < np; p++) {
		float *dst = pk->p + (size_t)p * K * NR;
		int n = N - p * NR < NR ? N - p * NR : NR;
		for (int k = 0; k < K; k++) {
			for (int j = 0; j < n; j++)
				dst[(size_t)k * NR + j] = W[(size_t)(p * NR + j) * ldw + k];
			for (int j = n; j < NR; j++)
				dst[(size_t)k * NR + j] = 0;
		}
	}
}

void mm_pack_release(mm_pack *pk)
{
	free(pk->p);
	pk->p = NULL;
}

/* Writes the ncol (<= NR) first columns of acc (rows x NR, row stride NR)
 * to C: acc, or acc + beta * C. */
static void store_tile(const float *acc, int rows, int ncol, float beta, float *C, int ldc)
{
	for (int r = 0; r < rows; r++)
		for (int j = 0; j < ncol; j++) {
			float v = acc[r * NR + j];
			float *c = &C[(size_t)r * ldc + j];
			if (beta != 0) {
				float bc = beta * *c;
				v = v + bc;
			}
			*c = v;
		}
}

/* ------------------------------------------------------------- plain C */

static void packed_c(int M, const float *A, int lda, const mm_pack *pk, float beta, float *C, int ldc)
{
	int K = pk->K;
	float acc[NR];
	for (int p = 0; p * NR < pk->N; p++) {
		const float *P = pk->p + (size_t)p * K * NR;
		int ncol = pk->N - p * NR < NR ? pk->N - p * NR : NR;
		for (int i = 0; i < M; i++) {
			const float *a = A + (size_t)i * lda;
			for (int j = 0; j < NR; j++)
				acc[j] = 0;
			for (int k = 0; k < K; k++)
				for (int j = 0; j < NR; j++)
					acc[j] = fmaf(a[k], P[(size_t)k * NR + j], acc[j]);
			store_tile(acc, 1, ncol, beta, C + (size_t)i * ldc + p * NR, ldc);
		}
	}
}

#ifdef MM_X86
/* ------------------------------------------------------------- AVX2+FMA */

/* Rows (<= 6) of A times 16 columns of a panel (half of it: the panel's
 * line stride NR is kept), into acc (rows x NR, at column offset `half`). */
#define AVX2_ROWS 6
__attribute__((target("avx2,fma"), always_inline)) static inline void
avx2_tile(int rows, int K, const float *A, int lda, const float *P, float *acc)
{
	__m256 c0[AVX2_ROWS], c1[AVX2_ROWS];
	_Pragma("GCC unroll 8")
	for (int r = 0; r < rows; r++)
		c0[r] = _mm256_setzero_ps(), c1[r] = _mm256_setzero_ps();
	for (int k = 0; k < K; k++) {
		__m256 b0 = _mm256_loadu_ps(P + (size_t)k * NR), b1 = _mm256_loadu_ps(P + (size_t)k * NR + 8);
		_Pragma("GCC unroll 8")
		for (int r = 0; r < rows; r++) {
			__m256 a = _mm256_broadcast_ss(A + (size_t)r * lda + k);
			c0[r] = _mm256_fmadd_ps(a, b0, c0[r]);
			c1[r] = _mm256_fmadd_ps(a, b1, c1[r]);
		}
	}
	_Pragma("GCC unroll 8")
	for (int r = 0; r < rows; r++) {
		_mm256_storeu_ps(acc + r * NR, c0[r]);
		_mm256_storeu_ps(acc + r * NR + 8, c1[r]);
	}
}

__attribute__((target("avx2,fma"))) static void
packed_avx2(int M, const float *A, int lda, const mm_pack *pk, float beta, float *C, int ldc)
{
	int K = pk->K;
	float acc[AVX2_ROWS * NR];
	for (int p = 0; p * NR < pk->N; p++) {
		const float *P = pk->p + (size_t)p * K * NR;
		int ncol = pk->N - p * NR < NR ? pk->N - p * NR : NR;
		for (int i = 0; i < M; i += AVX2_ROWS) {
			int rows = M - i < AVX2_ROWS ? M - i : AVX2_ROWS;
			const float *a = A + (size_t)i * lda;
			for (int h = 0; h < NR && h < ncol; h += 16) {
				switch (rows) {
				case 6: avx2_tile(6, K, a, lda, P + h, acc + h); break;
				case 5: avx2_tile(5, K, a, lda, P + h, acc + h); break;
				case 4: avx2_tile(4, K, a, lda, P + h, acc + h); break;
				case 3: avx2_tile(3, K, a, lda, P + h, acc + h); break;
				case 2: avx2_tile(2, K, a, lda, P + h, acc + h); break;
				default: avx2_tile(1, K, a, lda, P + h, acc + h); break;
				}
			}
			store_tile(acc, rows, ncol, beta, C + (size_t)i * ldc + p * NR, ldc);
		}
	}
}

/* ------------------------------------------------------------- AVX-512 */

#define AVX512_ROWS 8
__attribute__((target("avx512f"), always_inline)) static inline void
avx512_tile(int rows, int K, const float *A, int lda, const float *P, float *acc)
{
	__m512 c0[AVX512_ROWS], c1[AVX512_ROWS];
	_Pragma("GCC unroll 8")
	for (int r = 0; r < rows; r++)
		c0[r] = _mm512_setzero_ps(), c1[r] = _mm512_setzero_ps();
	for (int k = 0; k < K; k++) {
		__m512 b0 = _mm512_loadu_ps(P + (size_t)k * NR), b1 = _mm512_loadu_ps(P + (size_t)k * NR + 16);
		_Pragma("GCC unroll 8")
		for (int r = 0; r < rows; r++) {
			__m512 a = _mm512_set1_ps(A[(size_t)r * lda + k]);
			c0[r] = _mm512_fmadd_ps(a, b0, c0[r]);
			c1[r] = _mm512_fmadd_ps(a, b1, c1[r]);
		}
	}
	_Pragma("GCC unroll 8")
	for (int r = 0; r < rows; r++) {
		_mm512_storeu_ps(acc + r * NR, c0[r]);
		_mm512_storeu_ps(acc + r * NR + 16, c1[r]);
	}
}

__attribute__((target("avx512f"))) static void
packed_avx512(int M, const float *A, int lda, const mm_pack *pk, float beta, float *C, int ldc)
{
	int K = pk->K;
	float acc[AVX512_ROWS * NR];
	for (int p = 0; p * NR < pk->N; p++) {
		const float *P = pk->p + (size_t)p * K * NR;
		int ncol = pk->N - p * NR < NR ? pk->N - p * NR : NR;
		for (int i = 0; i < M; i += AVX512_ROWS) {
			int rows = M - i < AVX512_ROWS ? M - i : AVX512_ROWS;
			const float *a = A + (size_t)i * lda;
			switch (rows) {
			case 8: avx512_tile(8, K, a, lda, P, acc); break;
			case 7: avx512_tile(7, K, a, lda, P, acc); break;
			case 6: avx512_tile(6, K, a, lda, P, acc); break;
			case 5: avx512_tile(5, K, a, lda, P, acc); break;
			case 4: avx512_tile(4, K, a, lda, P, acc); break;
			case 3: avx512_tile(3, K, a, lda, P, acc); break;
			case 2: avx512_tile(2, K, a, lda, P, acc); break;
			default: avx512_tile(1, K, a, lda, P, acc); break;
			}
			store_tile(acc, rows, ncol, beta, C + (size_t)i * ldc + p * NR, ldc);
		}
	}
}
#endif

/* ------------------------------------------------------------- dispatch */

int mm_path_supported(mm_path path)
{
	switch (path) {
	case MM_PATH_C:
		return 1;
#ifdef MM_X86
	case MM_PATH_AVX2:
		return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
	case MM_PATH_AVX512:
		return __builtin_cpu_supports("avx512f");
#endif
	default:
		return 0;
	}
}

const char *mm_path_name(mm_path path)
{
	static const char *const names[] = {"c", "avx2", "avx512"};
	return path >= MM_PATH_C && path <= MM_PATH_AVX512 ? names[path] : "?";
}

mm_path mm_best_path(void)
{
	for (int p = MM_PATH_AVX512; p > MM_PATH_C; p--)
		if (mm_path_supported((mm_path)p))
			return (mm_path)p;
	return MM_PATH_C;
}

void mm_packed_on(mm_path path, int M, const float *A, int lda, const mm_pack *pk, float beta,
                  float *C, int ldc)
{
	if (M <= 0 || pk->N <= 0)
		return;
	if (pk->K <= 0) {
		/* an empty sum: 0, or beta * C */
		float zero[NR] = {0};
		for (int i = 0; i < M; i++)
			for (int j0 = 0; j0 < pk->N; j0 += NR)
				store_tile(zero, 1, pk->N - j0 < NR ? pk->N - j0 : NR, beta, C + (size_t)i * ldc + j0, ldc);
		return;
	}
#ifdef MM_X86
	if (path == MM_PATH_AVX512 && mm_path_supported(path)) {
		packed_avx512(M, A, lda, pk, beta, C, ldc);
		return;
	}
	if (path == MM_PATH_AVX2 && mm_path_supported(path)) {
		packed_avx2(M, A, lda, pk, beta, C, ldc);
		return;
	}
#endif
	packed_c(M, A, lda, pk, beta, C, ldc);
}

void mm_packed(int M, const float *A, int lda, const mm_pack *pk, float beta, float *C, int ldc)
{
	mm_packed_on(mm_best_path(), M, A, lda, pk, beta, C, ldc);
}

/* From bench_chronos gemm (the small dims' shapes, 1 thread, three runs,
 * against OpenBLAS's sgemm, which runs its AVX2 kernel on this AMD EPYC):
 * the AVX-512 path is 1.6 to 2.6x faster from 20 rows to 600, 5 to 8x at
 * one row; the AVX2 path is faster at 20 rows (0.95 to 1.3x, faster in 14
 * of 15 shape-runs), as fast at 64 (0.88 to 1.12x) and a little slower at
 * 200 and 600; the plain-C path (fmaf calls) is 6x (1 row) to 90x (20
 * rows) slower.  N and K (512 to 4096) did not change the picture. */
int mm_packed_pays(int M, int N, int K)
{
	(void)N, (void)K;
	switch (mm_best_path()) {
	case MM_PATH_AVX512:
		return 1;
	case MM_PATH_AVX2:
		return M <= 32;
	default:
		return 0;
	}
}
