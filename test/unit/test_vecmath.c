/* test_vecmath.c — the vector kernels (portable and, where the CPU has
 * them, AVX2/FMA) against plain double-precision loops. */
#include "tap.h"
#include "vecmath.h"

#include <stdlib.h>
#include <string.h>

static float frand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* double-precision softmax with mask; returns max relative error of got */
static double sm_err(const float *in, const float *mb, int n, const float *got, float scale)
{
	double mx = -INFINITY, sum = 0, err = 0;
	for (int j = 0; j < n; j++)
		if (!mb || mb[j] == 0)
			mx = fmax(mx, in[j]);
	for (int j = 0; j < n; j++)
		sum += (!mb || mb[j] == 0) ? exp(in[j] - mx) : 0;
	for (int j = 0; j < n; j++) {
		double want = (!mb || mb[j] == 0) ? exp(in[j] - mx) / sum : 0;
		double e = fabs(got[j] * scale - want) / (want > 1e-30 ? want : 1);
		if (mb && mb[j] != 0 && got[j] != 0)
			return INFINITY;  /* masked weight must be exactly 0 */
		err = fmax(err, e);
	}
	return err;
}

int main(void)
{
	unsigned seed = 7;
	printf("# AVX2/FMA path: %s\n", vm_have_avx2() ? "yes" : "no");
	static const int ns[] = {1, 3, 4, 7, 8, 13, 33, 64, 513};
	for (int v = 0; v < 2; v++)
		for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
			int n = ns[k];
			float in[513], s[513], mb[513];
			for (int j = 0; j < n; j++) {
				in[j] = frand(&seed) * 30;
				mb[j] = (j % 5 == 2 && n > 1) ? -INFINITY : 0;
			}
			for (int norm = 0; norm < 2; norm++) {
				memcpy(s, in, sizeof(float) * n);
				float r = v ? vm_softmax(s, n, mb, norm) : vm_softmax_generic(s, n, mb, norm);
				double err = sm_err(in, mb, n, s, norm ? 1.0f : 1.0f / r);
				char nm[128];
				snprintf(nm, sizeof(nm), "%s softmax n=%d masked, %s: rel err %.2g <= 1e-6",
				         v ? "dispatched" : "generic", n, norm ? "normalized" : "unscaled", err);
				CHECK(err <= 1e-6, nm);
			}
		}
	float all[5] = {1, 2, 3, 4, 5}, mball[5];
	for (int j = 0; j < 5; j++)
		mball[j] = -INFINITY;
	vm_softmax(all, 5, mball, 1);
	CHECK(all[0] == 0.2f && all[4] == 0.2f, "every key masked: uniform");
	/* extreme inputs stay finite */
	float ext[8] = {-1e30f, 1e30f, 0, 88, -88, 1, 2, 3};
	vm_softmax(ext, 8, NULL, 1);
	CHECK(ext[1] == 1.0f && ext[0] == 0.0f, "huge logits: all weight on the largest");

	/* attention of one query over nk keys, dk = 64 and 20 */
	for (int v = 0; v < 2; v++)
		for (int dk = 20; dk <= 64; dk += 44)
			for (int nk = 1; nk <= 37; nk += 12) {
				float q[64], K[37 * 64], V[37 * 64], bias[37], sc[37], out[64];
				for (int i = 0; i < dk; i++)
					q[i] = frand(&seed);
				for (int i = 0; i < nk * dk; i++)
					K[i] = frand(&seed) * 2, V[i] = frand(&seed);
				for (int j = 0; j < nk; j++)
					bias[j] = frand(&seed);
				if (v)
					vm_attend(q, K, V, nk, dk, bias, sc, out);
				else
					vm_attend_generic(q, K, V, nk, dk, bias, sc, out);
				double w[37], mx = -INFINITY, sum = 0, err = 0;
				for (int j = 0; j < nk; j++) {
					double a = 0;
					for (int i = 0; i < dk; i++)
						a += (double)q[i] * K[j * dk + i];
					w[j] = a + bias[nk - 1 - j];
					mx = fmax(mx, w[j]);
				}
				for (int j = 0; j < nk; j++)
					sum += (w[j] = exp(w[j] - mx));
				for (int i = 0; i < dk; i++) {
					double o = 0;
					for (int j = 0; j < nk; j++)
						o += w[j] / sum * V[j * dk + i];
					err = fmax(err, fabs(out[i] - o));
				}
				char nm[128];
				snprintf(nm, sizeof(nm), "%s attend nk=%d dk=%d: abs err %.2g <= 1e-5",
				         v ? "dispatched" : "generic", nk, dk, err);
				CHECK(err <= 1e-5, nm);
			}

	float x[2 * 37], w[37], o[2 * 37];
	for (int i = 0; i < 74; i++)
		x[i] = frand(&seed) * 3;
	for (int i = 0; i < 37; i++)
		w[i] = frand(&seed);
	vm_rmsnorm(o, x, w, 2, 37, 1e-6f);
	double err = 0;
	for (int r = 0; r < 2; r++) {
		double ss = 0;
		for (int i = 0; i < 37; i++)
			ss += (double)x[r * 37 + i] * x[r * 37 + i];
		double inv = 1 / sqrt(ss / 37 + 1e-6);
		for (int i = 0; i < 37; i++)
			err = fmax(err, fabs(o[r * 37 + i] - w[i] * x[r * 37 + i] * inv));
	}
	CHECK(err <= 1e-6, "rmsnorm");
	float h[9] = {-1, 2, -3, 4, 0, -0.5f, 6, -7, 8}, g[9] = {1, 1, 1, 2, 1, 1, 1, 1, 0.5f};
	vm_relu(h, g, 9);
	CHECK(h[0] == 0 && h[1] == 2 && h[3] == 8 && h[5] == 0 && h[8] == 4, "relu with gate");
	return tap_done();
}
