/* ensemble.c — greedy ensemble selection and the ensemble forecaster; see
 * ensemble.h for the combination rule. */
#include "ensemble.h"
#include "jsonutil.h"
#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ selection */

void en_combine(const double *const *point, const double *weight, int m, size_t n, double *out)
{
	for (size_t x = 0; x < n; x++) {
		double acc = 0;
		for (int i = 0; i < m; i++)
			if (weight[i] != 0)
				acc += weight[i] * point[i][x];
		out[x] = acc;
	}
}

double en_rmse(const double *const *point, const double *weight, int m, const double *actual,
               int nwin, int steps)
{
	double *f = cp_malloc((size_t)steps * sizeof(double));
	const double **row = cp_malloc((size_t)(m + 1) * sizeof(double *));
	double sse = 0;
	for (int w = 0; w < nwin; w++) {
		for (int i = 0; i < m; i++)
			row[i] = point[i] + (size_t)w * steps;
		en_combine(row, weight, m, (size_t)steps, f);
		double s = 0;
		for (int h = 0; h < steps; h++) {
			double e = f[h] - actual[(size_t)w * steps + h];
			s += e * e;
		}
		sse += s;
	}
	free(f);
	free(row);
	double k = nwin;
	return sqrt(sse / (k * steps));
}

void en_weights(const int *count, int m, double *weight)
{
	int total = 0;
	for (int i = 0; i < m; i++)
		total += count[i];
	for (int i = 0; i < m; i++)
		weight[i] = total > 0 ? (double)count[i] / total : 0;
}

/* a strictly better than b: lower, NaN never better */
static int lower(double a, double b)
{
	return !isnan(a) && (isnan(b) || a < b);
}

int en_select(const double *const *point, int m, const double *actual, int nwin, int steps,
              int size, int *count, double *rmse)
{
	double *w = cp_calloc((size_t)m, sizeof(double));
	int *trial = cp_calloc((size_t)m, sizeof(int));
	memset(count, 0, (size_t)m * sizeof(int));
	/* the best candidate alone */
	int best = 0;
	double cur = NAN;
	for (int i = 0; i < m; i++) {
		memset(w, 0, (size_t)m * sizeof(double));
		w[i] = 1;
		double r = en_rmse(point, w, m, actual, nwin, steps);
		if (i == 0 || lower(r, cur))
			best = i, cur = r;
	}
	count[best] = 1;
	int total = 1;
	while (total < size) {
		int pick = -1;
		double pr = NAN;
		for (int i = 0; i < m; i++) {
			memcpy(trial, count, (size_t)m * sizeof(int));
			trial[i]++;
			en_weights(trial, m, w);
			double r = en_rmse(point, w, m, actual, nwin, steps);
			if (pick < 0 || lower(r, pr))
				pick = i, pr = r;
		}
		if (!lower(pr, cur))
			break;
		count[pick]++;
		total++;
		cur = pr;
	}
	free(w);
	free(trial);
	*rmse = cur;
	return total;
}

/* ------------------------------------------------------------ forecaster */

typedef struct {
	forecaster f;
	fc_ensemble en;
	forecaster **mf;    /* member forecasters */
} ensemble;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void en_free(forecaster *f)
{
	ensemble *x = f->state;
	for (int i = 0; i < x->en.n; i++)
		if (x->mf[i])
			x->mf[i]->free(x->mf[i]);
	free(x->mf);
	fc_ensemble_release(&x->en);
	free(x);
}

/* Member i's share of n rows: largest remainder, ties to the earlier. */
static void allocate(const fc_ensemble *en, int n, int *rows)
{
	int used = 0;
	double *rem = cp_malloc((size_t)en->n * sizeof(double));
	for (int i = 0; i < en->n; i++) {
		double q = en->m[i].weight * n;
		rows[i] = (int)floor(q);
		rem[i] = q - rows[i];
		used += rows[i];
	}
	while (used < n) {
		int k = 0;
		for (int i = 1; i < en->n; i++)
			if (rem[i] > rem[k])
				k = i;
		rows[k]++;
		rem[k] = -1;
		used++;
	}
	free(rem);
}

int ensemble_forecast(forecaster *f, const fc_config *cfg, int nwin, const double *const *ctx,
                      const int *nctx, int steps, uint64_t seed, const uint64_t *stream,
                      double *paths, double *point, double *const *member_point, cp_err *e)
{
	ensemble *x = f->state;
	int m = x->en.n, N = cfg->num_samples;
	size_t ws = (size_t)nwin * steps;
	double **mp = cp_calloc((size_t)m, sizeof(double *));
	double **mpath = cp_calloc((size_t)m, sizeof(double *));
	double *wt = cp_malloc((size_t)m * sizeof(double));
	int *rows = cp_malloc((size_t)m * sizeof(int));
	const double **mctx = cp_malloc((size_t)nwin * sizeof(double *));
	int *mn = cp_malloc((size_t)nwin * sizeof(int));
	int rc = 0;
	for (int i = 0; i < m && rc == 0; i++) {
		const fc_member *mb = &x->en.m[i];
		int ns = mb->cfg.num_samples;
		wt[i] = mb->weight;
		/* the member sees the last min(its context, given) values */
		for (int w = 0; w < nwin; w++) {
			int c = mb->cfg.context_length < nctx[w] ? mb->cfg.context_length : nctx[w];
			mctx[w] = ctx[w] + (nctx[w] - c);
			mn[w] = c;
		}
		mp[i] = cp_malloc(ws * sizeof(double));
		mpath[i] = cp_malloc(ws * (size_t)ns * sizeof(double));
		int r = x->mf[i]->forecast(x->mf[i], &mb->cfg, nwin, mctx, mn, steps, seed, stream,
		                           mpath[i], mp[i], e);
		if (r < 0) {
			cp_prefix(e, "ensemble member %d (%s)", i + 1, mb->model);
			rc = -1;
			break;
		}
		if (r == 0) {  /* the per-step median of its paths, as mt_score takes it */
			double *col = cp_malloc((size_t)ns * sizeof(double));
			for (int w = 0; w < nwin; w++)
				for (int h = 0; h < steps; h++) {
					for (int s = 0; s < ns; s++)
						col[s] = mpath[i][((size_t)w * ns + s) * steps + h];
					qsort(col, (size_t)ns, sizeof(double), cmp_double);
					mp[i][(size_t)w * steps + h] = mt_quantile_sorted(col, ns, 0.5);
				}
			free(col);
		}
		if (member_point)
			memcpy(member_point[i], mp[i], ws * sizeof(double));
	}
	if (rc == 0) {
		if (point)
			en_combine((const double *const *)mp, wt, m, ws, point);
		allocate(&x->en, N, rows);
		for (int w = 0; w < nwin; w++) {
			int r = 0;
			for (int i = 0; i < m; i++) {
				int ns = x->en.m[i].cfg.num_samples;
				for (int j = 0; j < rows[i]; j++, r++)
					memcpy(paths + ((size_t)w * N + r) * steps,
					       mpath[i] + ((size_t)w * ns + (size_t)(j % ns)) * steps,
					       (size_t)steps * sizeof(double));
			}
		}
	}
	for (int i = 0; i < m; i++)
		free(mp[i]), free(mpath[i]);
	free(mp), free(mpath), free(wt), free(rows), free(mctx), free(mn);
	return rc < 0 ? -1 : 1;
}

static int en_forecast(forecaster *f, const fc_config *cfg, int nwin, const double *const *ctx,
                       const int *nctx, int steps, uint64_t seed, const uint64_t *stream,
                       double *paths, double *point, cp_err *e)
{
	return ensemble_forecast(f, cfg, nwin, ctx, nctx, steps, seed, stream, paths, point, NULL, e);
}

forecaster *ensemble_open(const fc_ensemble *en, const char *what, cp_err *e)
{
	ensemble *x = cp_calloc(1, sizeof(*x));
	x->en.n = en->n;
	x->en.m = cp_calloc((size_t)en->n, sizeof(fc_member));
	x->mf = cp_calloc((size_t)en->n, sizeof(forecaster *));
	x->f.name = "ensemble";
	x->f.state = x;
	x->f.forecast = en_forecast;
	x->f.free = en_free;
	x->f.max_context = 0;
	/* the mixture's rows depend on N: no prefix property, no cache */
	x->f.prefix_horizon = 1;
	x->f.steps_prefix = 0;
	for (int i = 0; i < en->n; i++) {
		x->en.m[i] = en->m[i];
		x->en.m[i].model = cp_strdup(en->m[i].model);
	}
	for (int i = 0; i < en->n; i++) {
		forecaster *m = x->mf[i] = forecaster_open(en->m[i].model, e);
		if (!m) {
			if (e->code == CP_USAGE)
				e->code = CP_DATA;
			cp_prefix(e, "%s: ensemble member %d", what, i + 1);
			goto bad;
		}
		if (m->nquantiles > 0) {
			cp_fail(e, CP_DATA, "%s: ensemble member %d: %s is a quantile model: ensembles mix "
			        "sample paths (Chronos-T5 and the baselines)", what, i + 1, m->family);
			goto bad;
		}
	}
	return &x->f;
bad:
	en_free(&x->f);
	return NULL;
}

const fc_ensemble *ensemble_members(const forecaster *f)
{
	return f && f->free == en_free ? &((const ensemble *)f->state)->en : NULL;
}

char *ensemble_spec(const fc_ensemble *en)
{
	cJSON *o = cJSON_CreateObject();
	fc_ensemble_add_json(o, en);
	char *txt = cp_json_print(o, 0);
	cJSON_Delete(o);
	size_t n = strlen(txt) + 16;
	char *s = cp_malloc(n);
	snprintf(s, n, "ensemble:%s", txt);
	free(txt);
	return s;
}

forecaster *ensemble_open_spec(const char *spec, cp_err *e)
{
	const char *js = spec + strlen("ensemble:");
	cJSON *j = cJSON_Parse(js);
	fc_ensemble en;
	if (!j) {
		cp_fail(e, CP_USAGE, "model 'ensemble:...': not JSON");
		return NULL;
	}
	if (fc_ensemble_from_json(cJSON_GetObjectItemCaseSensitive(j, "ensemble"), "ensemble", &en, e) < 0) {
		cJSON_Delete(j);
		return NULL;
	}
	cJSON_Delete(j);
	forecaster *f = ensemble_open(&en, "ensemble", e);
	fc_ensemble_release(&en);
	return f;
}

/* ------------------------------------------------------------ one window */

static cJSON *numbers(const double *v, int n, int *bad)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; i < n; i++) {
		if (!isfinite(v[i]))
			*bad = 1;
		cJSON_AddItemToArray(a, cp_json_exact(v[i]));
	}
	return a;
}

int ensemble_forecast_json(forecaster *f, const fc_config *call, const double *y, int n, int steps,
                           uint64_t seed, cJSON **out, cp_err *e)
{
	const fc_ensemble *en = ensemble_members(f);
	*out = NULL;
	if (!en)
		return cp_fail(e, CP_INTERNAL, "not an ensemble forecaster");
	int N = call->num_samples, used = n < call->context_length ? n : call->context_length;
	const double *cx[1] = {y + n - used};
	uint64_t stream[1] = {(uint64_t)n};
	double *paths = cp_malloc((size_t)N * steps * sizeof(double));
	double *point = cp_malloc((size_t)steps * sizeof(double));
	double **mp = cp_malloc((size_t)en->n * sizeof(double *));
	for (int i = 0; i < en->n; i++)
		mp[i] = cp_malloc((size_t)steps * sizeof(double));
	int rc = ensemble_forecast(f, call, 1, cx, &used, steps, seed, stream, paths, point, mp, e);
	if (rc < 0)
		goto done;
	int bad = 0;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "format", "chronopt-forecast-1");
	cJSON_AddStringToObject(o, "model", "ensemble");
	char sd[24];
	snprintf(sd, sizeof(sd), "%llu", (unsigned long long)seed);
	cJSON_AddRawToObject(o, "seed", sd);
	cJSON_AddNumberToObject(o, "stream", (double)stream[0]);
	cJSON_AddItemToObject(o, "settings", fc_config_json(call));
	cJSON_AddNumberToObject(o, "steps", steps);
	cJSON_AddNumberToObject(o, "context_used", used);
	cJSON *ma = cJSON_AddArrayToObject(o, "members");
	for (int i = 0; i < en->n; i++) {
		const fc_member *m = &en->m[i];
		cJSON *x = cJSON_CreateObject();
		cp_json_add_exact(x, "weight", m->weight);
		cJSON_AddStringToObject(x, "model", m->model);
		cJSON_AddItemToObject(x, "config", fc_config_json(&m->cfg));
		cJSON_AddNumberToObject(x, "context_used", m->cfg.context_length < used ? m->cfg.context_length : used);
		cJSON_AddItemToObject(x, "point", numbers(mp[i], steps, &bad));
		cJSON_AddItemToArray(ma, x);
	}
	cJSON_AddItemToObject(o, "point", numbers(point, steps, &bad));
	cJSON *sa = cJSON_AddArrayToObject(o, "samples");
	for (int s = 0; s < N; s++)
		cJSON_AddItemToArray(sa, numbers(paths + (size_t)s * steps, steps, &bad));
	static const double lv[5] = {0.025, 0.1, 0.5, 0.9, 0.975};
	static const char *const ln[5] = {"0.025", "0.1", "0.5", "0.9", "0.975"};
	double *col = cp_malloc((size_t)N * sizeof(double)), *q = cp_malloc(5 * (size_t)steps * sizeof(double));
	for (int h = 0; h < steps; h++) {
		for (int s = 0; s < N; s++)
			col[s] = paths[(size_t)s * steps + h];
		qsort(col, (size_t)N, sizeof(double), cmp_double);
		for (int k = 0; k < 5; k++)
			q[k * steps + h] = mt_quantile_sorted(col, N, lv[k]);
	}
	cJSON *qo = cJSON_AddObjectToObject(o, "quantiles");
	for (int k = 0; k < 5; k++)
		cJSON_AddItemToObject(qo, ln[k], numbers(q + (size_t)k * steps, steps, &bad));
	cJSON_AddItemToObject(o, "median", numbers(q + 2 * (size_t)steps, steps, &bad));
	free(col), free(q);
	if (bad) {
		cJSON_Delete(o);
		rc = cp_fail(e, CP_DATA, "the ensemble's forecast is not finite");
		goto done;
	}
	*out = o;
	rc = 0;
done:
	for (int i = 0; i < en->n; i++)
		free(mp[i]);
	free(mp), free(paths), free(point);
	return rc < 0 ? -1 : 0;
}

/* ------------------------------------------------------------ for people */

void en_members_text(const cJSON *list, char *buf, size_t n)
{
	size_t at = 0;
	const cJSON *x;
	buf[0] = '\0';
	if (!cJSON_IsArray(list) || n < 8)
		return;
	cJSON_ArrayForEach(x, list) {
		double w = NAN, ctx = NAN, ns = NAN, t = NAN;
		cp_json_number_of(cJSON_GetObjectItemCaseSensitive(x, "weight"), &w);
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(x, "config");
		cp_json_number_of(cJSON_GetObjectItemCaseSensitive(c, "context_length"), &ctx);
		cp_json_number_of(cJSON_GetObjectItemCaseSensitive(c, "num_samples"), &ns);
		cp_json_number_of(cJSON_GetObjectItemCaseSensitive(c, "temperature"), &t);
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(x, "model"), "dir");
		const char *dir = cJSON_IsString(d) ? d->valuestring : "?";
		int baseline = forecaster_spec_check(dir, 0, &(cp_err){0}) == 0 && !strchr(dir, '/');
		char one[512];
		if (baseline)
			snprintf(one, sizeof(one), "%s%.4g x %.200s (context %.0f)", at ? " + " : "", w, dir, ctx);
		else
			snprintf(one, sizeof(one), "%s%.4g x %.200s (context %.0f, samples %.0f, temperature %.4g)",
			         at ? " + " : "", w, dir, ctx, ns, t);
		size_t k = strlen(one);
		if (at + k + 4 >= n) {
			snprintf(buf + at, n - at, "...");
			return;
		}
		memcpy(buf + at, one, k + 1);
		at += k;
	}
}
