/* vecmath.c — see vecmath.h. */
#include "vecmath.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* ------------------------------------------------ portable: 4-lane SSE2 */

typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

static inline v4f ld4(const float *p)
{
	v4f v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void st4(float *p, v4f v)
{
	memcpy(p, &v, sizeof(v));
}

static inline v4f sp4(float x)
{
	return (v4f){x, x, x, x};
}

static inline v4f sel4(v4i m, v4f a, v4f b)
{
	return (v4f)(((v4i)a & m) | ((v4i)b & ~m));
}

/* exp: Cephes-style range reduction, degree-6 polynomial; 0 below -87
 * (where float exp is at most subnormal), inputs clamped at 88. */
static inline v4f exp4(v4f v)
{
	v4i tiny = v < sp4(-87.0f);
	v = sel4(tiny, sp4(-87.0f), v);
	v = sel4(v > sp4(88.0f), sp4(88.0f), v);
	v4f fx = (v * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  /* round(v / ln 2) */
	v4i n = __builtin_convertvector(fx, v4i);
	v4f r = v - fx * 0.693359375f;
	r = r + fx * 2.12194440e-4f;
	v4f p = r * 1.9875691500e-4f + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * r * r + r + 1.0f;
	return sel4(tiny, sp4(0), p * (v4f)((n + 127) << 23));
}

static inline float hsum4(v4f v)
{
	return (v[0] + v[2]) + (v[1] + v[3]);
}

void vm_add(float *d, const float *s, size_t n)
{
	size_t i = 0;
	for (; i + 4 <= n; i += 4)
		st4(d + i, ld4(d + i) + ld4(s + i));
	for (; i < n; i++)
		d[i] += s[i];
}

void vm_relu(float *h, const float *gate, size_t n)
{
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		v4f x = ld4(h + i);
		x = sel4(x > sp4(0), x, sp4(0));
		st4(h + i, gate ? x * ld4(gate + i) : x);
	}
	for (; i < n; i++) {
		float x = h[i] > 0 ? h[i] : 0.0f;
		h[i] = gate ? x * gate[i] : x;
	}
}

void vm_rmsnorm(float *out, const float *x, const float *w, int rows, int d, float eps)
{
	for (int r = 0; r < rows; r++) {
		const float *xr = x + (size_t)r * d;
		float *o = out + (size_t)r * d;
		v4f a0 = sp4(0), a1 = sp4(0);
		int i = 0;
		for (; i + 8 <= d; i += 8) {
			v4f u = ld4(xr + i), v = ld4(xr + i + 4);
			a0 += u * u;
			a1 += v * v;
		}
		float ss = hsum4(a0 + a1);
		for (; i < d; i++)
			ss += xr[i] * xr[i];
		float inv = 1.0f / sqrtf(ss / (float)d + eps);
		for (i = 0; i + 4 <= d; i += 4)
			st4(o + i, ld4(w + i) * (ld4(xr + i) * inv));
		for (; i < d; i++)
			o[i] = w[i] * (xr[i] * inv);
	}
}

/* The scalar pieces both softmax widths share. A row masked whole
 * (every score -inf): uniform weights, or their sum when not normalized. */
static float softmax_masked(float *s, int n, int normalize)
{
	for (int j = 0; j < n; j++)
		s[j] = normalize ? 1.0f / (float)n : 1.0f;
	return normalize ? 1.0f : (float)n;
}

/* exp(s[j] - mx) for the tail j..n-1 (a masked -inf gives 0); sum plus
 * what it added. */
static float exp_tail(float *s, int j, int n, float mx, float sum)
{
	for (; j < n; j++) {
		s[j] = s[j] == -INFINITY ? 0.0f : expf(s[j] - mx);
		sum += s[j];
	}
	return sum;
}

static void div_tail(float *s, int j, int n, float sum)
{
	for (; j < n; j++)
		s[j] /= sum;
}

float vm_softmax_generic(float *s, int n, const float *mbias, int normalize)
{
	if (mbias)
		vm_add(s, mbias, (size_t)n);
	v4f m4 = sp4(-INFINITY);
	int j = 0;
	for (; j + 4 <= n; j += 4) {
		v4f x = ld4(s + j);
		m4 = sel4(x > m4, x, m4);
	}
	float mx = fmaxf(fmaxf(m4[0], m4[1]), fmaxf(m4[2], m4[3]));
	for (; j < n; j++)
		mx = s[j] > mx ? s[j] : mx;
	if (mx == -INFINITY)
		return softmax_masked(s, n, normalize);
	v4f sum4 = sp4(0);
	for (j = 0; j + 4 <= n; j += 4) {
		v4f x = ld4(s + j);
		v4f e = sel4(x > sp4(-INFINITY), exp4(x - mx), sp4(0));
		st4(s + j, e);
		sum4 += e;
	}
	float sum = exp_tail(s, j, n, mx, hsum4(sum4));
	if (!normalize)
		return sum;
	for (j = 0; j + 4 <= n; j += 4)
		st4(s + j, ld4(s + j) / sp4(sum));
	div_tail(s, j, n, sum);
	return 1.0f;
}

void vm_attend_generic(const float *q, const float *K, const float *V, int nk, int dk,
                       const float *rbias, float *s, float *out)
{
	for (int j = 0; j < nk; j++) {
		const float *k = K + (size_t)j * dk;
		v4f a0 = sp4(0), a1 = sp4(0);
		int i = 0;
		for (; i + 8 <= dk; i += 8) {
			a0 += ld4(q + i) * ld4(k + i);
			a1 += ld4(q + i + 4) * ld4(k + i + 4);
		}
		float a = hsum4(a0 + a1);
		for (; i < dk; i++)
			a += q[i] * k[i];
		s[j] = a + rbias[nk - 1 - j];
	}
	float inv = 1.0f / vm_softmax_generic(s, nk, NULL, 0);
	memset(out, 0, sizeof(float) * (size_t)dk);
	for (int j = 0; j < nk; j++) {
		const float *v = V + (size_t)j * dk;
		int i = 0;
		for (; i + 4 <= dk; i += 4)
			st4(out + i, ld4(out + i) + s[j] * ld4(v + i));
		for (; i < dk; i++)
			out[i] += s[j] * v[i];
	}
	for (int i = 0; i < dk; i++)
		out[i] *= inv;
}

/* --------------------------------------------- x86-64 with AVX2 and FMA */

#if defined(__x86_64__) && defined(__GNUC__)
#define VM_AVX2 __attribute__((target("avx2,fma")))

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

/* Everything 8-wide is a macro so no 32-byte vector crosses a function
 * boundary (which would depend on the caller's ABI). */
#define LD8(p) ({ v8f v_; memcpy(&v_, (p), sizeof(v_)); v_; })
#define ST8(p, v) do { v8f w_ = (v); memcpy((p), &w_, sizeof(w_)); } while (0)
#define SP8(x) ((v8f){(x), (x), (x), (x), (x), (x), (x), (x)})
#define SEL8(m, a, b) ((v8f)((((v8i)(a)) & (m)) | (((v8i)(b)) & ~(m))))
#define HSUM8(v) ((((v)[0] + (v)[4]) + ((v)[2] + (v)[6])) + (((v)[1] + (v)[5]) + ((v)[3] + (v)[7])))
#define EXP8(out, in) do { \
	v8f v_ = (in); \
	v8i tiny_ = v_ < SP8(-87.0f); \
	v_ = SEL8(tiny_, SP8(-87.0f), v_); \
	v_ = SEL8(v_ > SP8(88.0f), SP8(88.0f), v_); \
	v8f fx_ = (v_ * 1.44269504088896341f + 12582912.0f) - 12582912.0f; \
	v8i n_ = __builtin_convertvector(fx_, v8i); \
	v8f r_ = v_ - fx_ * 0.693359375f; \
	r_ = r_ + fx_ * 2.12194440e-4f; \
	v8f p_ = r_ * 1.9875691500e-4f + 1.3981999507e-3f; \
	p_ = p_ * r_ + 8.3334519073e-3f; \
	p_ = p_ * r_ + 4.1665795894e-2f; \
	p_ = p_ * r_ + 1.6666665459e-1f; \
	p_ = p_ * r_ + 5.0000001201e-1f; \
	p_ = p_ * r_ * r_ + r_ + 1.0f; \
	(out) = SEL8(tiny_, SP8(0), p_ * (v8f)((n_ + 127) << 23)); \
} while (0)

VM_AVX2 static float softmax_avx2(float *s, int n, const float *mbias, int normalize)
{
	int j = 0;
	if (mbias)
		for (j = 0; j + 8 <= n; j += 8)
			ST8(s + j, LD8(s + j) + LD8(mbias + j));
	for (; mbias && j < n; j++)
		s[j] += mbias[j];
	v8f m8 = SP8(-INFINITY);
	for (j = 0; j + 8 <= n; j += 8) {
		v8f x = LD8(s + j);
		m8 = SEL8(x > m8, x, m8);
	}
	float mx = -INFINITY;
	for (int l = 0; l < 8; l++)
		mx = m8[l] > mx ? m8[l] : mx;
	for (; j < n; j++)
		mx = s[j] > mx ? s[j] : mx;
	if (mx == -INFINITY)
		return softmax_masked(s, n, normalize);
	v8f sum8 = SP8(0);
	for (j = 0; j + 8 <= n; j += 8) {
		v8f x = LD8(s + j), e;
		EXP8(e, x - mx);
		e = SEL8(x > SP8(-INFINITY), e, SP8(0));
		ST8(s + j, e);
		sum8 += e;
	}
	float sum = exp_tail(s, j, n, mx, HSUM8(sum8));
	if (!normalize)
		return sum;
	for (j = 0; j + 8 <= n; j += 8)
		ST8(s + j, LD8(s + j) / SP8(sum));
	div_tail(s, j, n, sum);
	return 1.0f;
}

VM_AVX2 static void attend_avx2(const float *q, const float *K, const float *V, int nk, int dk,
                                const float *rbias, float *s, float *out)
{
	if (dk % 8) {
		vm_attend_generic(q, K, V, nk, dk, rbias, s, out);
		return;
	}
	for (int j = 0; j < nk; j++) {
		const float *k = K + (size_t)j * dk;
		v8f a = SP8(0);
		for (int i = 0; i < dk; i += 8)
			a += LD8(q + i) * LD8(k + i);
		s[j] = HSUM8(a) + rbias[nk - 1 - j];
	}
	float inv = 1.0f / softmax_avx2(s, nk, NULL, 0);
	for (int c = 0; c < dk; c += 32) {
		int w = dk - c < 32 ? dk - c : 32;  /* 8, 16, 24 or 32 */
		v8f o0 = SP8(0), o1 = SP8(0), o2 = SP8(0), o3 = SP8(0);
		for (int j = 0; j < nk; j++) {
			const float *v = V + (size_t)j * dk + c;
			v8f p = SP8(s[j]);
			o0 += p * LD8(v);
			if (w > 8)
				o1 += p * LD8(v + 8);
			if (w > 16)
				o2 += p * LD8(v + 16);
			if (w > 24)
				o3 += p * LD8(v + 24);
		}
		ST8(out + c, o0 * inv);
		if (w > 8)
			ST8(out + c + 8, o1 * inv);
		if (w > 16)
			ST8(out + c + 16, o2 * inv);
		if (w > 24)
			ST8(out + c + 24, o3 * inv);
	}
}

int vm_have_avx2(void)
{
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

float vm_softmax(float *s, int n, const float *mbias, int normalize)
{
	if (vm_have_avx2())
		return softmax_avx2(s, n, mbias, normalize);
	return vm_softmax_generic(s, n, mbias, normalize);
}

void vm_attend(const float *q, const float *K, const float *V, int nk, int dk,
               const float *rbias, float *scratch, float *out)
{
	if (vm_have_avx2())
		attend_avx2(q, K, V, nk, dk, rbias, scratch, out);
	else
		vm_attend_generic(q, K, V, nk, dk, rbias, scratch, out);
}

#else

int vm_have_avx2(void)
{
	return 0;
}

float vm_softmax(float *s, int n, const float *mbias, int normalize)
{
	return vm_softmax_generic(s, n, mbias, normalize);
}

void vm_attend(const float *q, const float *K, const float *V, int nk, int dk,
               const float *rbias, float *scratch, float *out)
{
	vm_attend_generic(q, K, V, nk, dk, rbias, scratch, out);
}

#endif
