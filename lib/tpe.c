/* tpe.c — the TPE sampler (tpe.h has the algorithm and its sources). */
#include "tpe.h"
#include "prng.h"
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LOG_FLOOR (-1e300)   /* log of a probability that underflowed */

void tpe_options_default(tpe_options *o)
{
	o->n_startup = 10;
	o->n_candidates = 24;
	o->prior_weight = 1.0;
}

int tpe_gamma(int n)
{
	int g = (int)ceil(0.1 * n);
	return g < 25 ? g : 25;
}

void tpe_weights(int n, double *w)
{
	if (n < 25) {
		for (int i = 0; i < n; i++)
			w[i] = 1.0;
		return;
	}
	/* numpy.linspace(1/n, 1, n - 25), then 25 ones. */
	int m = n - 25;
	for (int i = 0; i < m; i++)
		w[i] = m == 1 ? 1.0 / n : 1.0 / n + (1.0 - 1.0 / n) * i / (m - 1);
	for (int i = m; i < n; i++)
		w[i] = 1.0;
}

double tpe_norm_cdf(double z)
{
	return 0.5 * erfc(-z / M_SQRT2);
}

/* Upper tail 1 - Phi(z), accurate for large z. */
static double norm_sf(double z)
{
	return 0.5 * erfc(z / M_SQRT2);
}

double tpe_norm_ppf(double p)
{
	/* Acklam's rational approximation (|rel err| < 1.2e-9), then one
	 * Halley step on erfc, which brings it to double precision. */
	static const double a[] = { -3.969683028665376e+01, 2.209460984245205e+02,
		-2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01,
		2.506628277459239e+00 };
	static const double b[] = { -5.447609879822406e+01, 1.615858368580409e+02,
		-1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01 };
	static const double c[] = { -7.784894002430293e-03, -3.223964580411365e-01,
		-2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00,
		2.938163982698783e+00 };
	static const double d[] = { 7.784695709041462e-03, 3.224671290700398e-01,
		2.445134137142996e+00, 3.754408661907416e+00 };
	double q, r, x;
	if (p < 0.02425) {
		q = sqrt(-2 * log(p));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	} else if (p <= 1 - 0.02425) {
		q = p - 0.5;
		r = q * q;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
		    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
	} else {
		q = sqrt(-2 * log1p(-p));
		x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		     ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	double e = tpe_norm_cdf(x) - p;
	double u = e * sqrt(2 * M_PI) * exp(x * x / 2);
	return x - u / (1 + x * u / 2);
}

/* log(Phi(b) - Phi(a)) for a <= b, computed on the side where it does not
 * cancel. */
static double log_mass(double a, double b)
{
	double m;
	if (a >= 0)
		m = norm_sf(a) - norm_sf(b);
	else if (b <= 0)
		m = tpe_norm_cdf(b) - tpe_norm_cdf(a);
	else
		m = 1 - norm_sf(b) - tpe_norm_cdf(a);
	return m > 0 ? log(m) : LOG_FLOOR;
}

/* A draw of the standard normal truncated to [a, b]. */
static double trunc_draw(prng *r, double a, double b)
{
	if (a > 0)
		return -trunc_draw(r, -b, -a);
	double lo = tpe_norm_cdf(a), hi = tpe_norm_cdf(b);
	double u = lo + (hi - lo) * prng_uniform(r);
	if (u <= 0)
		return a;
	if (u >= 1)
		return b;
	double z = tpe_norm_ppf(u);
	return z < a ? a : z > b ? b : z;
}

int tpe_param_check(const tpe_param *p, const char **why)
{
	if (p->kind == TPE_CAT) {
		if (p->nchoices < 1)
			return *why = "a categorical parameter needs at least one choice", -1;
		return 0;
	}
	if (p->kind != TPE_FLOAT && p->kind != TPE_INT)
		return *why = "unknown parameter kind", -1;
	if (!isfinite(p->low) || !isfinite(p->high) || !isfinite(p->step))
		return *why = "low, high and step must be finite numbers", -1;
	if (p->low > p->high)
		return *why = "low is above high", -1;
	if (p->step < 0)
		return *why = "step must be positive", -1;
	if (p->kind == TPE_INT) {
		if (p->low != floor(p->low) || p->high != floor(p->high))
			return *why = "an integer range needs integer bounds", -1;
		if (p->step < 1 || p->step != floor(p->step))
			return *why = "an integer range needs an integer step of at least 1", -1;
		if (p->log && p->step != 1)
			return *why = "a log-scaled range cannot have a step", -1;
		if (p->log && p->low < 1)
			return *why = "a log-scaled range needs low > 0", -1;
	} else {
		if (p->log && p->step > 0)
			return *why = "a log-scaled range cannot have a step", -1;
		if (p->log && p->low <= 0)
			return *why = "a log-scaled range needs low > 0", -1;
	}
	if (p->step > 0) {
		double k = (p->high - p->low) / p->step;
		if (fabs(k - nearbyint(k)) > 1e-9 * (k > 1 ? k : 1))
			return *why = "high - low is not a multiple of step", -1;
	}
	return 0;
}

/* The space a numeric parameter's kernels live in: bounds, step (0 for a
 * continuous one) and how to map values in and out. */
typedef struct {
	double low, high, step;
	int log, round;  /* log: values are log(x); round: exp then round (log int) */
} numspace;

static numspace num_space(const tpe_param *p)
{
	numspace s = { p->low, p->high, p->step, p->log, 0 };
	if (p->log) {
		if (p->kind == TPE_INT) {
			s.low = log(p->low - 0.5);
			s.high = log(p->high + 0.5);
			s.round = 1;
		} else {
			s.low = log(p->low);
			s.high = log(p->high);
		}
		s.step = 0;
	}
	return s;
}

static double to_space(const numspace *s, double v)
{
	return s->log ? log(v) : v;
}

static double from_space(const tpe_param *p, const numspace *s, double t)
{
	double v = s->log ? exp(t) : t;
	if (s->round)
		v = nearbyint(v);
	else if (s->step > 0)
		v = p->low + nearbyint((v - p->low) / s->step) * s->step;
	return v < p->low ? p->low : v > p->high ? p->high : v;
}

/* A Parzen mixture over one parameter: k kernels, weights w (normalised).
 * Numeric: means mu and sigmas sd in the parameter's space. Categorical:
 * row i of cat (k x nchoices) is kernel i's distribution. */
typedef struct {
	int k;
	double *w, *mu, *sd, *cat;
} parzen;

static void parzen_free(parzen *z)
{
	free(z->w);
	free(z->mu);
	free(z->sd);
	free(z->cat);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Build the mixture of parameter j over the group g[0..n-1] (ordered by
 * trial number). */
static int parzen_build(parzen *z, const tpe_param *p, int j, const tpe_trial *const *g,
                        int n, double prior_weight)
{
	int k = n + 1;
	memset(z, 0, sizeof *z);
	z->k = k;
	z->w = malloc(sizeof(double) * k);
	if (!z->w)
		return -1;
	tpe_weights(n, z->w);
	z->w[n] = prior_weight;
	double sum = 0;
	for (int i = 0; i < k; i++)
		sum += z->w[i];
	for (int i = 0; i < k; i++)
		z->w[i] /= sum;

	if (p->kind == TPE_CAT) {
		int c = p->nchoices;
		z->cat = malloc(sizeof(double) * k * c);
		if (!z->cat)
			return -1;
		for (int i = 0; i < n; i++) {
			double *row = z->cat + (size_t)i * c;
			for (int v = 0; v < c; v++)
				row[v] = prior_weight / k;
			int o = (int)g[i]->x[j];
			if (o >= 0 && o < c)
				row[o] += 1;
			double s = 0;
			for (int v = 0; v < c; v++)
				s += row[v];
			for (int v = 0; v < c; v++)
				row[v] /= s;
		}
		for (int v = 0; v < c; v++)
			z->cat[(size_t)n * c + v] = 1.0 / c;
		return 0;
	}

	numspace s = num_space(p);
	z->mu = malloc(sizeof(double) * k);
	z->sd = malloc(sizeof(double) * k);
	double *e = malloc(sizeof(double) * (n + 2));
	if (!z->mu || !z->sd || !e) {
		free(e);
		return -1;
	}
	for (int i = 0; i < n; i++)
		z->mu[i] = to_space(&s, g[i]->x[j]);
	/* Sorted means with the widened bounds as outer neighbours. */
	e[0] = s.low - s.step / 2;
	for (int i = 0; i < n; i++)
		e[i + 1] = z->mu[i];
	qsort(e + 1, n, sizeof(double), cmp_double);
	e[n + 1] = s.high + s.step / 2;
	double range = s.high - s.low + s.step;
	double maxsd = range;
	double minsd = range / (100.0 < 1.0 + k ? 100.0 : 1.0 + k);
	for (int i = 0; i < n; i++) {
		/* The sorted position of mu[i] (the first equal one: equal means
		 * get equal sigmas, whichever is found). */
		double m = z->mu[i];
		int lo = 1, hi = n;
		while (lo < hi) {
			int mid = (lo + hi) / 2;
			if (e[mid] < m)
				lo = mid + 1;
			else
				hi = mid;
		}
		int r = lo;
		double sd;
		if (n >= 2 && r == 1)
			sd = e[2] - e[1];
		else if (n >= 2 && r == n)
			sd = e[n] - e[n - 1];
		else {
			double left = e[r] - e[r - 1], right = e[r + 1] - e[r];
			sd = left > right ? left : right;
		}
		z->sd[i] = sd < minsd ? minsd : sd > maxsd ? maxsd : sd;
	}
	free(e);
	z->mu[n] = 0.5 * (s.low + s.high);
	z->sd[n] = range;
	return 0;
}

/* log of the mixture's density (continuous) or mass (step grid,
 * categorical) at x, x in the parameter's own values. */
static double parzen_logp(const parzen *z, const tpe_param *p, double x)
{
	if (p->kind == TPE_CAT) {
		int c = p->nchoices, v = (int)x;
		double m = 0;
		for (int i = 0; i < z->k; i++)
			m += z->w[i] * z->cat[(size_t)i * c + v];
		return m > 0 ? log(m) : LOG_FLOOR;
	}
	numspace s = num_space(p);
	double t = to_space(&s, x);
	double h = s.step / 2;
	double best = LOG_FLOOR, *terms = NULL;
	double stack[64];
	terms = z->k <= 64 ? stack : malloc(sizeof(double) * z->k);
	if (!terms)
		return LOG_FLOOR;
	for (int i = 0; i < z->k; i++) {
		double mu = z->mu[i], sd = z->sd[i];
		double lz = log_mass((s.low - h - mu) / sd, (s.high + h - mu) / sd);
		double lp;
		if (s.step > 0) {
			lp = log_mass((t - h - mu) / sd, (t + h - mu) / sd) - lz;
		} else {
			double u = (t - mu) / sd;
			lp = -0.5 * u * u - log(sd) - 0.5 * log(2 * M_PI) - lz;
		}
		terms[i] = lp + log(z->w[i]);
		if (terms[i] > best)
			best = terms[i];
	}
	double sum = 0;
	for (int i = 0; i < z->k; i++)
		sum += exp(terms[i] - best);
	if (terms != stack)
		free(terms);
	return best + log(sum);
}

static double parzen_draw(const parzen *z, const tpe_param *p, prng *r)
{
	double u = prng_uniform(r), acc = 0;
	int i = 0;
	if (p->kind == TPE_CAT) {
		/* The mixture's mass per choice, then one draw. */
		int c = p->nchoices;
		for (int v = 0; v < c; v++) {
			double m = 0;
			for (int q = 0; q < z->k; q++)
				m += z->w[q] * z->cat[(size_t)q * c + v];
			acc += m;
			if (u < acc)
				return v;
		}
		return c - 1;
	}
	for (; i < z->k - 1; i++) {
		acc += z->w[i];
		if (u < acc)
			break;
	}
	numspace s = num_space(p);
	double h = s.step / 2, mu = z->mu[i], sd = z->sd[i];
	double t = mu + sd * trunc_draw(r, (s.low - h - mu) / sd, (s.high + h - mu) / sd);
	return from_space(p, &s, t);
}

static double random_value(const tpe_param *p, prng *r)
{
	if (p->kind == TPE_CAT)
		return (double)prng_below(r, (uint64_t)p->nchoices);
	numspace s = num_space(p);
	if (s.step > 0) {
		uint64_t n = (uint64_t)nearbyint((s.high - s.low) / s.step) + 1;
		return p->low + (double)prng_below(r, n) * s.step;
	}
	return from_space(p, &s, s.low + (s.high - s.low) * prng_uniform(r));
}

/* Sort order of the split: complete trials by value, then pruned ones by
 * how far they got (further first) and their value; ties by number; NaN
 * values last within their kind. */
static int split_cmp(const void *a, const void *b)
{
	const tpe_trial *x = *(const tpe_trial *const *)a, *y = *(const tpe_trial *const *)b;
	if (x->state != y->state)
		return x->state == TPE_COMPLETE ? -1 : 1;
	if (x->state == TPE_PRUNED && x->step != y->step)
		return x->step > y->step ? -1 : 1;
	int xn = isnan(x->value), yn = isnan(y->value);
	if (xn != yn)
		return xn - yn;
	if (!xn && x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return (x->number > y->number) - (x->number < y->number);
}

static int by_number(const void *a, const void *b)
{
	const tpe_trial *x = *(const tpe_trial *const *)a, *y = *(const tpe_trial *const *)b;
	return (x->number > y->number) - (x->number < y->number);
}

int tpe_suggest(const tpe_param *p, int np, const tpe_trial *h, int nh,
                const tpe_options *o, uint64_t seed, int number, double *out)
{
	prng r;
	if (nh < o->n_startup || nh < 2) {
		for (int j = 0; j < np; j++) {
			prng_init(&r, seed, TPE_STREAM + (uint64_t)j, (uint64_t)number);
			out[j] = random_value(&p[j], &r);
		}
		return 0;
	}
	const tpe_trial **s = malloc(sizeof *s * nh);
	if (!s)
		return -1;
	for (int i = 0; i < nh; i++)
		s[i] = &h[i];
	qsort(s, nh, sizeof *s, split_cmp);
	int nb = tpe_gamma(nh);
	qsort(s, nb, sizeof *s, by_number);
	qsort(s + nb, nh - nb, sizeof *s, by_number);
	int rc = 0;
	for (int j = 0; j < np && rc == 0; j++) {
		parzen below, above;
		memset(&below, 0, sizeof below);
		memset(&above, 0, sizeof above);
		if (parzen_build(&below, &p[j], j, s, nb, o->prior_weight) ||
		    parzen_build(&above, &p[j], j, s + nb, nh - nb, o->prior_weight)) {
			rc = -1;
		} else {
			prng_init(&r, seed, TPE_STREAM + (uint64_t)j, (uint64_t)number);
			double best = -INFINITY, bx = 0;
			for (int c = 0; c < o->n_candidates; c++) {
				double x = parzen_draw(&below, &p[j], &r);
				double sc = parzen_logp(&below, &p[j], x) - parzen_logp(&above, &p[j], x);
				if (c == 0 || sc > best) {
					best = sc;
					bx = x;
				}
			}
			out[j] = bx;
		}
		parzen_free(&below);
		parzen_free(&above);
	}
	free(s);
	return rc;
}

int tpe_prune(double value, const double *completed, int n, int min_trials)
{
	if (n < min_trials || n < 1)
		return 0;
	if (isnan(value))
		return 1;
	double *v = malloc(sizeof(double) * n);
	if (!v)
		return 0;
	memcpy(v, completed, sizeof(double) * n);
	qsort(v, n, sizeof(double), cmp_double);
	double med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
	free(v);
	return value > med;
}

double tpe_group_logp(const tpe_param *p, int j, const tpe_trial *g, int n,
                      double prior_weight, double x)
{
	const tpe_trial **s = malloc(sizeof *s * (n ? n : 1));
	parzen z;
	memset(&z, 0, sizeof z);
	double lp = NAN;
	if (s) {
		for (int i = 0; i < n; i++)
			s[i] = &g[i];
		if (parzen_build(&z, &p[j], j, s, n, prior_weight) == 0)
			lp = parzen_logp(&z, &p[j], x);
	}
	parzen_free(&z);
	free(s);
	return lp;
}
