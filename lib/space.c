/* space.c — see space.h. */
#include "space.h"
#include "prng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


static void set_dim(sp_space *sp, int d, const double *v, int n)
{
	memset(&sp->r[d], 0, sizeof(sp->r[d]));
	sp->n[d] = n;
	for (int i = 0; i < n; i++)
		sp->v[d][i] = v[i];
}

int sp_default(sp_space *sp, const char *name)
{
	static const struct {
		const char *name;
		double ctx[3];
	} def[] = {
		{"7d", {90, 180, 270}},
		{"15d", {90, 180, 365}},
		{"30d", {180, 365, 540}},
		{"90d", {365, 540, 730}},
	};
	static const double ns[] = {50, 100, 200}, temp[] = {0.8, 1.0, 1.2};
	static const double topk[] = {0}, topp[] = {1.0};
	for (size_t i = 0; i < sizeof(def) / sizeof(def[0]); i++) {
		if (strcmp(def[i].name, name) != 0)
			continue;
		memset(sp, 0, sizeof(*sp));
		set_dim(sp, SP_CTX, def[i].ctx, 3);
		set_dim(sp, SP_SAMPLES, ns, 3);
		set_dim(sp, SP_TEMP, temp, 3);
		set_dim(sp, SP_TOPK, topk, 1);
		set_dim(sp, SP_TOPP, topp, 1);
		return 0;
	}
	return -1;
}

/* The TPE parameter of range r of dimension d. */
static void range_param(int d, const sp_range *r, tpe_param *p)
{
	memset(p, 0, sizeof(*p));
	p->kind = fc_key_is_int(d) ? TPE_INT : TPE_FLOAT;
	p->low = r->low;
	p->high = r->high;
	p->step = r->step;
	p->log = r->log;
	if (p->kind == TPE_INT && p->log && p->step == 0)
		p->step = 1;  /* tpe.h: a log int has step 1 and is continuous in log space */
}

int sp_check(const sp_space *sp, const char *where, int code, cp_err *e)
{
	double size = 1;
	for (int d = 0; d < SP_NDIM; d++) {
		if (sp->r[d].on) {
			const sp_range *r = &sp->r[d];
			const char *why = fc_value_problem(d, r->low);
			if (why)
				return cp_fail(e, code, "%s: \"%s\" low %.17g %s", where, sp_dim_name[d],
				               r->low, why);
			if ((why = fc_value_problem(d, r->high)))
				return cp_fail(e, code, "%s: \"%s\" high %.17g %s", where, sp_dim_name[d],
				               r->high, why);
			tpe_param p;
			range_param(d, r, &p);
			if (tpe_param_check(&p, &why) < 0)
				return cp_fail(e, code, "%s: \"%s\": %s", where, sp_dim_name[d], why);
			continue;
		}
		if (sp->n[d] < 1)
			return cp_fail(e, code, "%s: \"%s\" has no values", where, sp_dim_name[d]);
		for (int i = 0; i < sp->n[d]; i++) {
			const char *why = fc_value_problem(d, sp->v[d][i]);
			if (why)
				return cp_fail(e, code, "%s: \"%s\" value %.17g %s", where, sp_dim_name[d],
				               sp->v[d][i], why);
			for (int j = 0; j < i; j++)
				if (sp->v[d][j] == sp->v[d][i])
					return cp_fail(e, code, "%s: \"%s\" lists %.17g twice", where,
					               sp_dim_name[d], sp->v[d][i]);
		}
		size *= sp->n[d];
	}
	if (size > SP_MAX_CONFIGS)
		return cp_fail(e, code, "%s: the grid has %.0f configs, more than %d", where, size,
		               SP_MAX_CONFIGS);
	return 0;
}

/* {"low": L, "high": H, "step": S, "log": B} for dimension d. */
static int range_from_json(sp_space *sp, int d, const cJSON *obj, const char *where, cp_err *e)
{
	sp_range r = {1, NAN, NAN, 0, 0};
	int has_step = 0;
	const cJSON *x;
	cJSON_ArrayForEach(x, obj) {
		const char *k = x->string;
		if (strcmp(k, "log") == 0) {
			if (!cJSON_IsBool(x))
				return cp_fail(e, CP_DATA, "%s.%s.log: must be true or false", where,
				               sp_dim_name[d]);
			r.log = cJSON_IsTrue(x);
			continue;
		}
		double *dst = strcmp(k, "low") == 0 ? &r.low : strcmp(k, "high") == 0 ? &r.high
		            : strcmp(k, "step") == 0 ? &r.step : NULL;
		if (!dst)
			return cp_fail(e, CP_DATA, "%s.%s: unknown key '%.64s' (a range has low, high, "
			               "step, log)", where, sp_dim_name[d], k);
		if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
			return cp_fail(e, CP_DATA, "%s.%s.%s: not a number", where, sp_dim_name[d], k);
		*dst = x->valuedouble;
		has_step |= dst == &r.step;
	}
	if (isnan(r.low) || isnan(r.high))
		return cp_fail(e, CP_DATA, "%s.%s: a range needs \"low\" and \"high\"", where,
		               sp_dim_name[d]);
	if (has_step && r.step <= 0)
		return cp_fail(e, CP_DATA, "%s.%s.step: must be positive", where, sp_dim_name[d]);
	if (!has_step && fc_key_is_int(d) && !r.log)
		r.step = 1;
	sp->n[d] = 0;
	sp->r[d] = r;
	return 0;
}

int sp_from_json(sp_space *sp, const cJSON *obj, const char *where, cp_err *e)
{
	if (!cJSON_IsObject(obj))
		return cp_fail(e, CP_DATA, "%s: must be an object", where);
	const cJSON *it;
	cJSON_ArrayForEach(it, obj) {
		int d;
		for (d = 0; d < SP_NDIM; d++)
			if (strcmp(it->string, sp_dim_name[d]) == 0)
				break;
		if (d == SP_NDIM)
			return cp_fail(e, CP_DATA, "%s: unknown key '%.64s'", where, it->string);
		if (cJSON_IsObject(it)) {
			if (range_from_json(sp, d, it, where, e) < 0)
				return -1;
			continue;
		}
		if (!cJSON_IsArray(it))
			return cp_fail(e, CP_DATA, "%s.%s: must be an array of numbers or a range "
			               "{\"low\":..,\"high\":..}", where, it->string);
		int n = cJSON_GetArraySize(it);
		if (n < 1 || n > SP_MAX_VALUES)
			return cp_fail(e, CP_DATA, "%s.%s: must list 1 to %d values", where, it->string,
			               SP_MAX_VALUES);
		double v[SP_MAX_VALUES];
		int i = 0;
		const cJSON *x;
		cJSON_ArrayForEach(x, it) {
			if (!cJSON_IsNumber(x))
				return cp_fail(e, CP_DATA, "%s.%s[%d]: not a number", where, it->string, i);
			v[i++] = x->valuedouble;
		}
		set_dim(sp, d, v, n);
	}
	return 0;
}

int sp_from_list(sp_space *sp, int d, const char *list, const char *opt, cp_err *e)
{
	double v[SP_MAX_VALUES];
	int n = 0;
	const char *p = list;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char buf[64];
		if (len == 0 || len >= sizeof(buf))
			return cp_fail(e, CP_USAGE, "%s: '%.64s' is not a comma-separated list of numbers",
			               opt, list);
		memcpy(buf, p, len);
		buf[len] = '\0';
		if (n == SP_MAX_VALUES)
			return cp_fail(e, CP_USAGE, "%s: more than %d values", opt, SP_MAX_VALUES);
		if (cp_parse_double(buf, &v[n]) < 0)
			return cp_fail(e, CP_USAGE, "%s: '%s' is not a number", opt, buf);
		n++;
		if (!comma)
			break;
		p = comma + 1;
	}
	set_dim(sp, d, v, n);
	return 0;
}

int sp_size(const sp_space *sp)
{
	int size = 1;
	for (int d = 0; d < SP_NDIM; d++)
		size *= sp->n[d];
	return size;
}

void sp_config(const sp_space *sp, int idx, fc_config *out)
{
	int i[SP_NDIM];
	for (int d = SP_NDIM - 1; d >= 0; d--) {
		i[d] = idx % sp->n[d];
		idx /= sp->n[d];
	}
	out->context_length = (int)sp->v[SP_CTX][i[SP_CTX]];
	out->num_samples = (int)sp->v[SP_SAMPLES][i[SP_SAMPLES]];
	out->temperature = sp->v[SP_TEMP][i[SP_TEMP]];
	out->top_k = (int)sp->v[SP_TOPK][i[SP_TOPK]];
	out->top_p = sp->v[SP_TOPP][i[SP_TOPP]];
}

cJSON *sp_range_json(const sp_range *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "low", r->low);
	cJSON_AddNumberToObject(o, "high", r->high);
	if (r->step > 0)
		cJSON_AddNumberToObject(o, "step", r->step);
	cJSON_AddBoolToObject(o, "log", r->log);
	return o;
}

int sp_has_ranges(const sp_space *sp)
{
	for (int d = 0; d < SP_NDIM; d++)
		if (sp->r[d].on)
			return 1;
	return 0;
}

int sp_has(const sp_space *sp, int d)
{
	return sp->r[d].on || sp->n[d] > 0;
}

double sp_max(const sp_space *sp, int d)
{
	if (sp->r[d].on)
		return sp->r[d].high;
	double m = 0;
	for (int i = 0; i < sp->n[d]; i++)
		m = i == 0 || sp->v[d][i] > m ? sp->v[d][i] : m;
	return m;
}

int sp_expand(sp_space *sp, const char *where, int code, cp_err *e)
{
	for (int d = 0; d < SP_NDIM; d++) {
		const sp_range r = sp->r[d];
		if (!r.on)
			continue;
		if (r.step <= 0)
			return cp_fail(e, code, "%s: \"%s\" is a range without a step: only --method "
			               "tpe samples it", where, sp_dim_name[d]);
		double k = floor((r.high - r.low) / r.step + 1e-9) + 1;
		if (k > SP_MAX_VALUES)
			return cp_fail(e, code, "%s: \"%s\" has %.0f values, more than %d: use --method "
			               "tpe or a larger step", where, sp_dim_name[d], k, SP_MAX_VALUES);
		double v[SP_MAX_VALUES];
		for (int i = 0; i < (int)k; i++)
			v[i] = r.low + i * r.step;
		set_dim(sp, d, v, (int)k);
	}
	return 0;
}

double sp_tpe_size(const sp_space *sp)
{
	double size = 1;
	for (int d = 0; d < SP_NDIM; d++) {
		const sp_range *r = &sp->r[d];
		if (!r->on)
			size *= sp->n[d];
		else if (r->step > 0)
			size *= floor((r->high - r->low) / r->step + 1e-9) + 1;
		else if (fc_key_is_int(d))
			size *= r->high - r->low + 1;
		else
			return INFINITY;
	}
	return size;
}

int sp_tpe_params(const sp_space *sp, tpe_param *p, int *dim)
{
	int np = 0;
	for (int d = 0; d < SP_NDIM; d++) {
		if (sp->r[d].on) {
			range_param(d, &sp->r[d], &p[np]);
		} else if (sp->n[d] > 1) {
			memset(&p[np], 0, sizeof(p[np]));
			p[np].kind = TPE_CAT;
			p[np].nchoices = sp->n[d];
		} else {
			continue;
		}
		dim[np++] = d;
	}
	return np;
}

void sp_tpe_config(const sp_space *sp, const double *x, const int *dim, int np, fc_config *out)
{
	double v[SP_NDIM];
	for (int d = 0; d < SP_NDIM; d++)
		v[d] = sp->r[d].on ? sp->r[d].low : sp->v[d][0];
	for (int i = 0; i < np; i++) {
		int d = dim[i];
		v[d] = sp->r[d].on ? x[i] : sp->v[d][(int)x[i]];
	}
	out->context_length = (int)v[SP_CTX];
	out->num_samples = (int)v[SP_SAMPLES];
	out->temperature = v[SP_TEMP];
	out->top_k = (int)v[SP_TOPK];
	out->top_p = v[SP_TOPP];
}

cJSON *sp_to_json(const sp_space *sp)
{
	cJSON *j = cJSON_CreateObject();
	for (int d = 0; d < SP_NDIM; d++) {
		if (sp->r[d].on) {
			cJSON_AddItemToObject(j, sp_dim_name[d], sp_range_json(&sp->r[d]));
			continue;
		}
		cJSON *a = cJSON_AddArrayToObject(j, sp_dim_name[d]);
		for (int i = 0; i < sp->n[d]; i++)
			cJSON_AddItemToArray(a, cJSON_CreateNumber(sp->v[d][i]));
	}
	return j;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

int sp_random_pick(int size, int k, uint64_t seed, int *out)
{
	if (k > size)
		k = size;
	if (k <= 0)
		return 0;
	int *all = cp_malloc((size_t)size * sizeof(int));
	for (int i = 0; i < size; i++)
		all[i] = i;
	prng g;
	prng_init(&g, seed, SP_STREAM_RANDOM, 0);
	/* Partial Fisher-Yates: the first k slots become a uniform sample. */
	for (int i = 0; i < k; i++) {
		int j = i + (int)prng_below(&g, (uint64_t)(size - i));
		int t = all[i];
		all[i] = all[j];
		all[j] = t;
	}
	memcpy(out, all, (size_t)k * sizeof(int));
	free(all);
	qsort(out, (size_t)k, sizeof(int), cmp_int);
	return k;
}

int sp_halving(int nconf, int W, int eta, int min_windows, int *keep, int *win)
{
	int R = 1;
	keep[0] = nconf;
	while (keep[R - 1] > eta && R < SP_MAX_RUNGS) {
		keep[R] = (keep[R - 1] + eta - 1) / eta;
		R++;
	}
	if (min_windows < 1)
		min_windows = 1;
	double div = 1;
	for (int r = R - 1; r >= 0; r--) {
		double w = ceil((double)W / div);
		if (w < min_windows)
			w = min_windows;
		if (w > W)
			w = W;
		win[r] = (int)w;
		div *= eta;
	}
	for (int r = 1; r < R; r++)
		if (win[r] < win[r - 1])
			win[r] = win[r - 1];
	return R;
}

/* Base-2 radical inverse of i. */
static double vdc(unsigned i)
{
	double x = 0, f = 0.5;
	for (; i; i >>= 1, f *= 0.5)
		if (i & 1)
			x += f;
	return x;
}

void sp_window_order(int W, int *order)
{
	if (W <= 0)
		return;
	char *used = cp_calloc((size_t)W, 1);
	int n = 0;
	for (unsigned i = 0; n < W && i < 8u * (unsigned)W + 8; i++) {
		int pos = W - 1 - (int)floor(vdc(i) * W);
		if (pos < 0)
			pos = 0;
		if (!used[pos]) {
			used[pos] = 1;
			order[n++] = pos;
		}
	}
	for (int p = W - 1; p >= 0 && n < W; p--)
		if (!used[p]) {
			used[p] = 1;
			order[n++] = p;
		}
	free(used);
}

void sp_quantile_model(sp_space *sp)
{
	static const double off[SP_NDIM] = {0, 1, 1.0, 0, 1.0};
	for (int d = SP_SAMPLES; d < SP_NDIM; d++) {
		sp->n[d] = 1;
		sp->v[d][0] = off[d];
	}
}
