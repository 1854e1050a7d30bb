/* drift.c — see drift.h.
 *
 * References for the math:
 *   Hodges, J.L. (1958) The significance probability of the Smirnov
 *     two-sample test. Arkiv för Matematik 3, 469-486.
 *   Viehmann, T. (2021) Numerically more stable computation of the p-values
 *     for the two-sample Kolmogorov-Smirnov test. arXiv:2102.08037.
 *   Simard, R., L'Ecuyer, P. (2011) Computing the two-sided
 *     Kolmogorov-Smirnov distribution. J. Stat. Software 39(11).
 *   Marsaglia, Tsang, Wang (2003) Evaluating Kolmogorov's distribution.
 *   Pomeranz (1974) Algorithm 487; Pelz & Good (1976) JRSS B 38, 152-156.
 *   Birnbaum & Tingey (1951) one-sided confidence contours.
 * The branch points follow scipy 1.10 so the p-values agree with
 * scipy.stats.ks_2samp to rounding.
 */
#include "drift.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KS_MAX_EXACT_N 10000          /* scipy's MAX_AUTO_N */
#define SCALE_EXP 128                 /* rescaling step, 2^128 */

static double clip01(double p)
{
	if (!(p > 0.0)) /* also maps NaN to 0 like np.clip(nan) would not; NaN never reaches here */
		return 0.0;
	return p > 1.0 ? 1.0 : p;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static long gcd_l(long a, long b)
{
	while (b) {
		long t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* ------------------------------------------------------------------ */
/* Exact two-sample null distribution                                  */

/* Equal sizes n: P(D_{n,n} >= h/n) from the alternating sum
 * 2 * sum_k (-1)^(k+1) C(2n, n-kh) / C(2n, n), evaluated from the largest k
 * down as a nested product so no term cancels another. */
static double prob_outside_square(long n, long h)
{
	double P = 0.0;
	for (long k = n / h; k >= 0; k--) {
		double p1 = 1.0;
		for (long j = 0; j < h; j++)
			p1 = (double)(n - k * h - j) * p1 / (double)(n + k * h + j + 1);
		P = p1 * (1.0 - P);
	}
	return 2.0 * P;
}

/* Unequal sizes: share of the C(m+n, n) lattice paths from (0,0) to (m,n)
 * that touch or leave the band |x/m - y/n| < h/lcm(m,n).  Column by column,
 * A(x,y) holds the share of paths into (x,y) that have already left the
 * band; A(x,y) = (x A(x-1,y) + y A(x,y-1)) / (x+y), and 1 outside the band.
 * Only the rows inside the band are kept (a sliding window). */
static double prob_outside_band(long m, long n, long g, long h)
{
	if (m < n) {
		long t = m;
		m = n;
		n = t;
	}
	long mg = m / g, ng = n / g;
	double *A = cp_malloc((size_t)(n + 2) * sizeof(double));
	for (long j = 0; j < n + 2; j++)
		A[j] = 1.0;
	long minj = 0;
	long maxj = (long)ceil((double)h / (double)mg);
	if (maxj > n + 1)
		maxj = n + 1;
	long curlen = maxj - minj;
	for (long j = minj; j < maxj; j++)
		A[j] = 0.0;
	for (long i = 1; i <= m; i++) {
		long lastminj = minj, lastlen = curlen;
		minj = (long)floor((double)(ng * i - h) / (double)mg) + 1;
		if (minj < 0)
			minj = 0;
		if (minj > n)
			minj = n;
		maxj = (long)ceil((double)(ng * i + h) / (double)mg);
		if (maxj > n + 1)
			maxj = n + 1;
		if (maxj <= minj) {
			free(A);
			return 1.0;
		}
		double val = minj == 0 ? 0.0 : 1.0;
		for (long jj = 0; jj < maxj - minj; jj++) {
			long j = jj + minj;
			val = (A[jj + minj - lastminj] * (double)i + val * (double)j) / (double)(i + j);
			A[jj] = val;
		}
		curlen = maxj - minj;
		for (long jj = curlen; jj < lastlen; jj++)
			A[jj] = 1.0;
	}
	double p = A[maxj - minj - 1];
	free(A);
	return p;
}

/* ------------------------------------------------------------------ */
/* One-sample Kolmogorov distribution (scipy.stats.kstwo)              */

double ks_smirnov(int n, double x)
{
	if (!(n > 0 && x >= 0.0 && x <= 1.0))
		return NAN;
	if (x == 0.0)
		return 1.0;
	int nn = (int)floor((double)n * (1.0 - x));
	double p = 0.0;
	if (n < 1013) {
		double c = 1.0;
		for (int v = 0; v <= nn; v++) {
			double evn = x + (double)v / n;
			p += c * pow(evn, (double)(v - 1)) * pow(1.0 - evn, (double)(n - v));
			c *= (double)(n - v) / (double)(v + 1);
		}
	} else {
		double lg = lgamma((double)n + 1.0);
		for (int v = 0; v <= nn; v++) {
			double evn = x + (double)v / n;
			double om = 1.0 - evn;
			if (fabs(om) > 0.0) {
				double t = lg - lgamma((double)v + 1.0) - lgamma((double)(n - v) + 1.0) +
				           (v - 1) * log(evn) + (n - v) * log(om);
				if (t > -708.0)
					p += exp(t);
			}
		}
	}
	return p * x;
}

double ks_kolmogorov_sf(double x)
{
	if (x <= 0.0)
		return 1.0;
	double p = 0.0, t;
	if (x >= 1.0) {
		double alpha = -2.0 * x * x, sign = 1.0, r = 1.0;
		do {
			t = exp(alpha * r * r);
			p += sign * t;
			if (t == 0.0)
				break;
			r += 1.0;
			sign = -sign;
		} while (t / p > 2.220446049250313e-16);
		return 2.0 * p;
	}
	double alpha = -M_PI * M_PI / (8.0 * x * x), r = 1.0;
	do {
		t = exp(alpha * r * r);
		p += t;
		if (t == 0.0)
			break;
		r += 2.0;
	} while (t / p >= 2.220446049250313e-16);
	return 1.0 - p * sqrt(2.0 * M_PI) / x;
}

/* log(n! / n^n) by Stirling's series with n log n removed up front. */
static double log_nfact_over_npow(int n)
{
	static const double c[8] = {
		-2.955065359477124183e-2, 6.4102564102564102564e-3,
		-1.9175269175269175269e-3, 8.4175084175084175084e-4,
		-5.952380952380952381e-4, 7.9365079365079365079e-4,
		-2.7777777777777777778e-3, 8.3333333333333333333e-2};
	double rn = 1.0 / n, x = rn / n, s = 0.0;
	for (int i = 0; i < 8; i++)
		s = s * x + c[i];
	return log((double)n) / 2.0 - n + log(2.0 * M_PI) / 2.0 + rn * s;
}

static void matmul(const double *a, const double *b, double *out, int m)
{
	for (int i = 0; i < m; i++)
		for (int j = 0; j < m; j++) {
			double s = 0.0;
			for (int k = 0; k < m; k++)
				s += a[i * m + k] * b[k * m + j];
			out[i * m + j] = s;
		}
}

/* P(D_n <= d), Durbin's matrix as arranged by Marsaglia, Tsang and Wang:
 * d = (k - h)/n, the k-th diagonal entry of H^n times n!/n^n, with
 * intermediate powers rescaled by 2^128. */
static double kolmogn_durbin_cdf(int n, double d)
{
	if (d >= 1.0)
		return 1.0;
	double nd = n * d;
	if (nd <= 0.5)
		return 0.0;
	int k = (int)ceil(nd);
	double h = k - nd;
	int m = 2 * k - 1;
	size_t mm = (size_t)m * (size_t)m;
	double *H = cp_calloc(mm, sizeof(double));
	double *P = cp_calloc(mm, sizeof(double));
	double *T = cp_calloc(mm, sizeof(double));
	double *v = cp_malloc((size_t)m * sizeof(double));
	double *w = cp_malloc((size_t)m * sizeof(double));
	double fac = 1.0;
	for (int j = 1; j <= m; j++) {
		v[j - 1] = 1.0 - pow(h, j);
		w[j - 1] = fac;
		fac /= j;
		v[j - 1] *= fac;
	}
	double tt = pow(fmax(2.0 * h - 1.0, 0.0), m) - 2.0 * pow(h, m);
	v[m - 1] = (1.0 + tt) * fac;
	for (int i = 1; i < m; i++)
		for (int r = i - 1; r < m; r++)
			H[r * m + i] = w[r - (i - 1)];
	for (int r = 0; r < m; r++)
		H[r * m] = v[r];
	for (int c = 0; c < m; c++)
		H[(m - 1) * m + c] = v[m - 1 - c];
	for (int i = 0; i < m; i++)
		P[i * m + i] = 1.0;
	long expnt = 0, hexpnt = 0;
	const double big = ldexp(1.0, SCALE_EXP);
	for (int nn = n; nn > 0; nn /= 2) {
		if (nn % 2) {
			matmul(P, H, T, m);
			memcpy(P, T, mm * sizeof(double));
			expnt += hexpnt;
		}
		matmul(H, H, T, m);
		memcpy(H, T, mm * sizeof(double));
		hexpnt *= 2;
		if (fabs(H[(k - 1) * m + (k - 1)]) > big) {
			for (size_t i = 0; i < mm; i++)
				H[i] /= big;
			hexpnt += SCALE_EXP;
		}
	}
	long double p = P[(k - 1) * m + (k - 1)];
	const long double small = ldexpl(1.0L, -SCALE_EXP);
	for (int i = 1; i <= n; i++) {
		p = (long double)i * p / (long double)n;
		if (fabsl(p) < small) {
			p *= ldexpl(1.0L, SCALE_EXP);
			expnt -= SCALE_EXP;
		}
	}
	double r = (double)ldexpl(p, (int)expnt);
	free(H);
	free(P);
	free(T);
	free(v);
	free(w);
	return clip01(r);
}

static void pomeranz_rows(int i, int n, int ll, int ceilf, int roundf, int *j1, int *j2)
{
	int a, b;
	if (i == 0) {
		a = -ll - ceilf - 1;
		b = ll + ceilf - 1;
	} else {
		int half = (i + 1) / 2, odd_i = (i + 1) % 2 == 0;
		if (odd_i) {
			if (half == n + 1) {
				a = n - ll - ceilf - 1;
				b = n + ll + ceilf - 1;
			} else {
				a = half - 1 - ll - roundf - 1;
				b = half + ll - 1 + ceilf - 1;
			}
		} else {
			a = half - 1 - ll - 1;
			b = half + ll + roundf - 1;
		}
	}
	*j1 = a + 2 > 0 ? a + 2 : 0;
	*j2 = b < n ? b : n;
}

/* P(D_n <= x) by Pomeranz's recursion: 2n+1 convolutions of a short row
 * with (almost) Poisson weights, rescaled by 2^128 against underflow. */
static double kolmogn_pomeranz_cdf(int n, double x)
{
	double t = n * x;
	int ll = (int)floor(t);
	double f = t - ll;
	double g = fmin(f, 1.0 - f);
	int ceilf = f > 0 ? 1 : 0, roundf = f > 0.5 ? 1 : 0;
	int np = 2 * (ll + 1);
	double *gp = cp_malloc((size_t)np * sizeof(double));
	double *g2 = cp_malloc((size_t)np * sizeof(double));
	double *g12 = cp_malloc((size_t)np * sizeof(double));
	double *V0 = cp_calloc((size_t)np, sizeof(double));
	double *V1 = cp_calloc((size_t)np, sizeof(double));
	gp[0] = g2[0] = g12[0] = 1.0;
	double a = g / n, b = 2 * g / n, c = (1 - 2 * g) / n;
	for (int m = 1; m < np; m++) {
		gp[m] = gp[m - 1] * a / m;
		g2[m] = g2[m - 1] * b / m;
		g12[m] = g12[m - 1] * c / m;
	}
	const double small = ldexp(1.0, -SCALE_EXP), big = ldexp(1.0, SCALE_EXP);
	long expnt = 0;
	V1[0] = 1.0;
	int V0s = 0, V1s = 0, j1, j2;
	pomeranz_rows(0, n, ll, ceilf, roundf, &j1, &j2);
	for (int i = 1; i < 2 * n + 2; i++) {
		int k1 = j1;
		double *tmp = V0;
		V0 = V1;
		V1 = tmp;
		int ts = V0s;
		V0s = V1s;
		V1s = ts;
		memset(V1, 0, (size_t)np * sizeof(double));
		pomeranz_rows(i, n, ll, ceilf, roundf, &j1, &j2);
		const double *pw = (i == 1 || i == 2 * n + 1) ? gp : (i % 2 ? g2 : g12);
		int ln2 = j2 - k1 + 1;
		if (ln2 > 0) {
			/* slice of V0 starting at k1 - V0s, clipped to the row */
			int off = k1 - V0s;
			int slen = ln2;
			if (off + slen > np)
				slen = np - off;
			int cs = j1 - k1, cl = j2 - j1 + 1;
			double vmax = 0.0;
			for (int q = 0; q < cl; q++) {
				int kk = cs + q; /* index into the full convolution */
				double s = 0.0;
				for (int u = 0; u < slen; u++) {
					int w = kk - u;
					if (w >= 0 && w < ln2)
						s += V0[off + u] * pw[w];
				}
				V1[q] = s;
				if (s > vmax)
					vmax = s;
			}
			if (vmax > 0 && vmax < small) {
				for (int q = 0; q < np; q++)
					V1[q] *= big;
				expnt -= SCALE_EXP;
			}
			V1s = V0s + j1 - k1;
		}
	}
	double ans = V1[n - V1s];
	for (int m = 1; m <= n; m++) {
		if (fabs(ans) > big) {
			ans *= small;
			expnt += SCALE_EXP;
		}
		ans *= m;
	}
	if (expnt != 0)
		ans = ldexp(ans, (int)expnt);
	free(gp);
	free(g2);
	free(g12);
	free(V0);
	free(V1);
	return clip01(ans);
}

/* Pelz-Good series for P(D_n <= x): the Li-Chien/Korolyuk expansion
 * K0 + K1/sqrt(n) + K2/n + K3/n^1.5 in its theta-function form. */
static double kolmogn_pelzgood_cdf(int n, double x)
{
	if (x <= 0.0)
		return 0.0;
	if (x >= 1.0)
		return 1.0;
	const double pi2 = M_PI * M_PI, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
	const double sqrt2pi = sqrt(2.0 * M_PI);
	double z = sqrt((double)n) * x;
	double z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
	double qlog = -pi2 / 8.0 / z2;
	if (qlog < -708.0)
		return 0.0;
	double q = exp(qlog);
	double k1a = -z2, k1b = pi2 / 4;
	double k2a = 6 * z6 + 2 * z4, k2b = (2 * z4 - 5 * z2) * pi2 / 4, k2c = pi4 * (1 - 2 * z2) / 16;
	double k3d = pi6 * (5 - 30 * z2) / 64, k3c = pi4 * (-60 * z2 + 212 * z4) / 16;
	double k3b = pi2 * (135 * z4 - 96 * z6) / 4, k3a = -30 * z6 - 90 * pow(z, 8);
	double K[4] = {0, 0, 0, 0};
	int maxk = (int)ceil(16.0 * z / M_PI);
	for (int k = maxk; k > 0; k--) {
		double m = 2.0 * k - 1, m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
		double qp = pow(q, 8.0 * k);
		double co[4] = {1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4,
		                k3a + k3b * m2 + k3c * m4 + k3d * m6};
		for (int i = 0; i < 4; i++)
			K[i] = K[i] * qp + co[i];
	}
	double den[4] = {z, 6 * z4, 72 * pow(z, 7), 6480 * pow(z, 10)};
	for (int i = 0; i < 4; i++)
		K[i] = K[i] * q * sqrt2pi / den[i];
	double q2 = exp(-pi2 / 2.0 / z2), k2x = 0.0, k3x = 0.0, s3z = sqrt(3.0) * z;
	for (int k = maxk; k > 0; k--) {
		double kk = (double)k * k, qk = pow(q2, kk), kp = M_PI * k;
		k2x += kk * qk;
		k3x += (s3z + kp) * (s3z - kp) * kk * qk;
	}
	K[2] += k2x * pi2 * sqrt2pi / (-36.0 * z3);
	K[3] += k3x * pi2 * sqrt2pi / (216.0 * z6);
	double sum = 0.0;
	for (int i = 0; i < 4; i++)
		sum += K[i] / pow((double)n, i / 2.0);
	return sum;
}

double ks_kstwo_sf(int n, double x)
{
	if (n <= 0 || isnan(x))
		return NAN;
	if (x >= 1.0)
		return 0.0;
	if (x <= 0.0)
		return 1.0;
	double t = n * x;
	if (t <= 1.0) { /* Ruben-Gambino: 1/(2n) <= x <= 1/n */
		if (t <= 0.5)
			return 1.0;
		double prob;
		if (n <= 140) {
			prob = 1.0;
			for (int i = 1; i <= n; i++)
				prob *= (double)i * (1.0 / n) * (2 * t - 1);
		} else {
			prob = exp(log_nfact_over_npow(n) + n * log(2 * t - 1));
		}
		return clip01(1.0 - prob);
	}
	if (t >= n - 1) /* Ruben-Gambino, upper end */
		return clip01(2.0 * pow(1.0 - x, n));
	if (x >= 0.5) /* the two one-sided events are disjoint */
		return clip01(2.0 * ks_smirnov(n, x));
	double nx2 = t * x;
	if (n <= 140) {
		if (nx2 <= 0.754693)
			return clip01(1.0 - kolmogn_durbin_cdf(n, x));
		if (nx2 <= 4.0)
			return clip01(1.0 - kolmogn_pomeranz_cdf(n, x));
		return clip01(2.0 * ks_smirnov(n, x));
	}
	if (nx2 >= 370.0)
		return 0.0;
	if (nx2 >= 2.2)
		return clip01(2.0 * ks_smirnov(n, x));
	double cdf;
	if (n <= 100000 && n * pow(x, 1.5) <= 1.4)
		cdf = kolmogn_durbin_cdf(n, x);
	else
		cdf = kolmogn_pelzgood_cdf(n, x);
	return clip01(1.0 - cdf);
}

/* ------------------------------------------------------------------ */
/* The test                                                            */

int ks_2samp(const double *a, int na, const double *b, int nb, ks_result *r, cp_err *e)
{
	memset(r, 0, sizeof(*r));
	if (na <= 0 || nb <= 0)
		return cp_fail(e, CP_DATA, "KS test needs two non-empty samples (have %d and %d)", na, nb);
	for (int i = 0; i < na; i++)
		if (!isfinite(a[i]))
			return cp_fail(e, CP_DATA, "KS test: first sample holds a non-finite value");
	for (int i = 0; i < nb; i++)
		if (!isfinite(b[i]))
			return cp_fail(e, CP_DATA, "KS test: second sample holds a non-finite value");
	double *x = cp_malloc((size_t)na * sizeof(double));
	double *y = cp_malloc((size_t)nb * sizeof(double));
	memcpy(x, a, (size_t)na * sizeof(double));
	memcpy(y, b, (size_t)nb * sizeof(double));
	qsort(x, (size_t)na, sizeof(double), cmp_double);
	qsort(y, (size_t)nb, sizeof(double), cmp_double);

	/* ECDF difference F_a - F_b at every distinct value (right-continuous),
	 * each term formed as i/na - j/nb like scipy. */
	double maxs = 0.0, mins = 0.0;
	int i = 0, j = 0;
	while (i < na || j < nb) {
		double v = (j >= nb || (i < na && x[i] <= y[j])) ? x[i] : y[j];
		while (i < na && x[i] <= v)
			i++;
		while (j < nb && y[j] <= v)
			j++;
		double diff = (double)i / na - (double)j / nb;
		if (diff > maxs)
			maxs = diff;
		if (diff < mins)
			mins = diff;
	}
	free(x);
	free(y);
	double minS = -mins;
	if (minS < 0)
		minS = 0;
	if (minS > 1)
		minS = 1;
	double d = minS > maxs ? minS : maxs;

	r->na = na;
	r->nb = nb;
	long g = gcd_l(na, nb);
	double p = NAN;
	int exact = 0;
	if ((na > nb ? na : nb) <= KS_MAX_EXACT_N) {
		long lcm = (long)(na / g) * nb;
		long h = (long)nearbyint(d * (double)lcm);
		double dd = (double)h / (double)lcm;
		double pe;
		if (h == 0)
			pe = 1.0;
		else if (na == nb)
			pe = prob_outside_square(na, h);
		else
			pe = prob_outside_band(na, nb, g, h);
		d = dd;
		if (pe >= 0.0 && pe <= 1.0) {
			p = pe;
			exact = 1;
		}
	}
	if (!exact) {
		double m = na > nb ? na : nb, n = na > nb ? nb : na;
		double en = m * n / (m + n);
		p = ks_kstwo_sf((int)nearbyint(en), d);
	}
	r->d = d;
	r->p = clip01(p);
	r->exact = exact;
	return 0;
}

/* ------------------------------------------------------------------ */
/* PSI                                                                 */

static double quantile_sorted(const double *x, int n, double q)
{
	double pos = q * (n - 1);
	int lo = (int)floor(pos);
	if (lo >= n - 1)
		return x[n - 1];
	double frac = pos - lo;
	return x[lo] + frac * (x[lo + 1] - x[lo]);
}

/* Number of edges strictly below v: the bin of v. */
static int bin_of(const double *edges, int ne, double v)
{
	int lo = 0, hi = ne;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (edges[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int drift_psi(const double *base, int nb, const double *recent, int nr, int nbins,
              double eps, double *psi, int *bins_used, cp_err *e)
{
	if (nb <= 0 || nr <= 0)
		return cp_fail(e, CP_DATA, "PSI needs two non-empty samples (have %d and %d)", nb, nr);
	if (nbins < 2 || nbins > 1000)
		return cp_fail(e, CP_DATA, "PSI bins must be in 2..1000 (got %d)", nbins);
	if (!(eps > 0.0 && eps <= 0.1))
		return cp_fail(e, CP_DATA, "PSI epsilon must be in (0, 0.1] (got %g)", eps);
	double *s = cp_malloc((size_t)nb * sizeof(double));
	memcpy(s, base, (size_t)nb * sizeof(double));
	qsort(s, (size_t)nb, sizeof(double), cmp_double);
	double *edges = cp_malloc((size_t)nbins * sizeof(double));
	int ne = 0;
	for (int k = 1; k < nbins; k++) {
		double q = quantile_sorted(s, nb, (double)k / nbins);
		if (ne == 0 || q > edges[ne - 1])
			edges[ne++] = q;
	}
	int nbin = ne + 1;
	double *cb = cp_calloc((size_t)nbin, sizeof(double));
	double *cr = cp_calloc((size_t)nbin, sizeof(double));
	for (int i = 0; i < nb; i++)
		cb[bin_of(edges, ne, base[i])] += 1.0;
	for (int i = 0; i < nr; i++)
		cr[bin_of(edges, ne, recent[i])] += 1.0;
	double sum = 0.0;
	for (int k = 0; k < nbin; k++) {
		double pb = fmax(cb[k] / nb, eps), pr = fmax(cr[k] / nr, eps);
		sum += (pr - pb) * log(pr / pb);
	}
	free(s);
	free(edges);
	free(cb);
	free(cr);
	*psi = sum;
	if (bins_used)
		*bins_used = nbin;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Severity                                                            */

void drift_rule_default(drift_rule *r)
{
	r->p_low = 0.10;
	r->p_medium = 0.05;
	r->p_high = 0.001;
	r->d_medium = 0.25;
	r->d_high = 0.35;
}

int drift_rule_check(const drift_rule *r, cp_err *e)
{
	if (!(r->p_high > 0.0 && r->p_high <= r->p_medium && r->p_medium <= r->p_low && r->p_low < 1.0))
		return cp_fail(e, CP_USAGE,
		               "drift p-value cut-offs must satisfy 0 < high (%g) <= medium (%g) <= low (%g) < 1",
		               r->p_high, r->p_medium, r->p_low);
	if (!(r->d_medium >= 0.0 && r->d_medium <= r->d_high && r->d_high <= 1.0))
		return cp_fail(e, CP_USAGE,
		               "drift effect-size cut-offs must satisfy 0 <= medium (%g) <= high (%g) <= 1",
		               r->d_medium, r->d_high);
	return 0;
}

drift_severity drift_grade(const drift_rule *r, double d, double p)
{
	if (p < r->p_high && d >= r->d_high)
		return DRIFT_HIGH;
	if (p < r->p_medium && d >= r->d_medium)
		return DRIFT_MEDIUM;
	if (p < r->p_low)
		return DRIFT_LOW;
	return DRIFT_NONE;
}

static const char *const sev_names[] = {"NONE", "LOW", "MEDIUM", "HIGH"};

const char *drift_severity_name(drift_severity s)
{
	return (s >= DRIFT_NONE && s <= DRIFT_HIGH) ? sev_names[s] : "?";
}

int drift_severity_parse(const char *s, drift_severity *out)
{
	for (int i = 0; i < 4; i++)
		if (strcasecmp(s, sev_names[i]) == 0) {
			*out = (drift_severity)i;
			return 0;
		}
	return -1;
}
