/* fcband.c — see fcband.h. */
#include "fcband.h"
#include "envelope.h"
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void fc_bands_init(fc_bands *b, const series *s, const double *levels)
{
	memset(b, 0, sizeof(*b));
	b->s = s;
	b->levels = levels;
}

void fc_bands_release(fc_bands *b)
{
	free(b->origin);
	free(b->band);
	memset(b, 0, sizeof(*b));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The model's value at level q, NaN when q is not among its levels. */
static double at_level(const double *lv, int nq, const double *col, double q)
{
	for (int j = 0; j < nq; j++)
		if (fabs(lv[j] - q) < 1e-9)
			return col[j];
	return NAN;
}

int fc_bands_collect(void *arg, int origin, const double *actual, const double *point,
                     const double *paths, int nsamples, int steps, cp_err *e)
{
	(void)e;
	fc_bands *b = arg;
	int h = steps - 1;
	fc_band x;
	x.actual = actual[h];
	double *col = cp_malloc((size_t)(nsamples > 0 ? nsamples : 1) * sizeof(double));
	for (int k = 0; k < nsamples; k++)
		col[k] = paths[(size_t)k * (size_t)steps + (size_t)h];
	if (b->levels) {
		/* quantile rows are level-major and increasing: no sort */
		x.median = point ? point[h] : at_level(b->levels, nsamples, col, 0.5);
		x.lo80 = at_level(b->levels, nsamples, col, 0.10);
		x.hi80 = at_level(b->levels, nsamples, col, 0.90);
		x.lo95 = at_level(b->levels, nsamples, col, 0.025);
		x.hi95 = at_level(b->levels, nsamples, col, 0.975);
	} else {
		qsort(col, (size_t)nsamples, sizeof(double), cmp_double);
		x.median = point ? point[h] : mt_quantile_sorted(col, nsamples, 0.5);
		x.lo80 = mt_quantile_sorted(col, nsamples, 0.10);
		x.hi80 = mt_quantile_sorted(col, nsamples, 0.90);
		x.lo95 = mt_quantile_sorted(col, nsamples, 0.025);
		x.hi95 = mt_quantile_sorted(col, nsamples, 0.975);
	}
	free(col);
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 32;
		b->origin = cp_realloc(b->origin, (size_t)b->cap * sizeof(*b->origin));
		b->band = cp_realloc(b->band, (size_t)b->cap * sizeof(*b->band));
	}
	b->origin[b->n] = origin;
	b->band[b->n] = x;
	b->steps = steps;
	b->n++;
	return 0;
}

cJSON *fc_bands_json(const fc_bands *b, int last)
{
	cJSON *a = cJSON_CreateArray();
	int from = last > 0 && last < b->n ? b->n - last : 0;
	for (int i = from; i < b->n; i++) {
		int t = b->origin[i];
		char d0[11], d1[11];
		cp_format_date(b->s->day[t - 1], d0);
		cp_format_date(b->s->day[t + b->steps - 1], d1);
		const fc_band *x = &b->band[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "origin_date", d0);
		cJSON_AddStringToObject(o, "target_date", d1);
		env_add_number(o, "actual", x->actual);
		env_add_number(o, "median", x->median);
		env_add_number(o, "lo80", x->lo80);
		env_add_number(o, "hi80", x->hi80);
		env_add_number(o, "lo95", x->lo95);
		env_add_number(o, "hi95", x->hi95);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}
