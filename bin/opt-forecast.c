/* opt-forecast — forecast one window with Chronos and print it as JSON
 * (for debugging a single stage).  See man/man1/opt-forecast.1. */
#include "chronos.h"
#include "chronos_bolt.h"
#include "chronos2.h"
#include "cli.h"
#include "depconfig.h"
#include "ensemble.h"
#include "jsonutil.h"
#include "series.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"usage: opt-forecast --model DIR (--values X,Y,... | --series CSV [--id ID]\n"
	"                    [--missing error|nan|drop] [--end DATE | --origin N])\n"
	"                    [--steps N] [--context-length N]\n"
	"                    [--num-samples N] [--temperature T] [--top-k K] [--top-p P]\n"
	"                    [--seed S] [--threads N] [--tokens] [--quantiles Q,Q,...]\n"
	"                    [--config FILE]\n"
	"  FILE: a deployed config (<config-dir>/<horizon>.json): its settings and model\n"
	"        (--model may then be left out), under the options given\n";
static const cli_tool tool = {"opt-forecast", usage, CLI_HINT_USAGE};

static const double quant_levels[] = {0.025, 0.1, 0.5, 0.9, 0.975};

/* Comma-separated finite numbers. */
static int parse_values(const char *s, double **out, int *n)
{
	int cap = 16;
	*n = 0;
	*out = cp_malloc(sizeof(double) * cap);
	char *copy = cp_strdup(s), *p = copy;
	for (;;) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = 0;
		double v;
		if (cp_parse_double(p, &v) < 0) {
			free(copy);
			free(*out);
			*out = NULL;
			return -1;
		}
		if (*n == cap)
			*out = cp_realloc(*out, sizeof(double) * (size_t)(cap *= 2));
		(*out)[(*n)++] = v;
		if (!comma)
			break;
		p = comma + 1;
	}
	free(copy);
	return 0;
}

/* The observations of `path` (series `id`) up to and including day `end`
 * (NULL: all), or the first `origin` of them (origin > 0).  Caller frees
 * *y.  CP_USAGE for a bad date, CP_DATA when nothing is left. */
static int series_from_csv(const char *path, const char *id, series_missing missing, const char *end,
                           long origin, double **y, int *n, cp_err *e)
{
	int32_t last = INT32_MAX;
	if (end && cp_parse_date(end, &last) < 0)
		return cp_fail(e, CP_USAGE, "--end '%s' is not a valid date", end);
	series s;
	if (series_load_missing(&s, path, id, 1, missing, e) < 0)
		return -1;
	int k = 0;
	while (k < s.n && s.day[k] <= last)
		k++;
	if (origin > 0) {
		if (origin > s.n) {
			int have = s.n;
			series_free(&s);
			return cp_fail(e, CP_DATA, "%s: --origin %ld is past the %d observations", path, origin, have);
		}
		k = (int)origin;
	}
	if (k == 0) {
		series_free(&s);
		return cp_fail(e, CP_DATA, "%s: no observation on or before '%s'", path, end);
	}
	*y = cp_malloc(sizeof(double) * (size_t)k);
	memcpy(*y, s.y, sizeof(double) * (size_t)k);
	*n = k;
	series_free(&s);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Quantile q of sorted v[0..n-1], linear interpolation (torch.quantile). */
static double quantile(const double *v, int n, double q)
{
	double pos = q * (n - 1);
	int lo = (int)floor(pos);
	if (lo >= n - 1)
		return v[n - 1];
	return v[lo] + (pos - lo) * (v[lo + 1] - v[lo]);
}

static cJSON *num_array(const double *v, int n, int *bad)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; i < n; i++) {
		if (!isfinite(v[i]))
			*bad = 1;
		cJSON_AddItemToArray(a, cJSON_CreateNumber(isfinite(v[i]) ? v[i] : 0));
	}
	return a;
}

/* What a quantile model's run was, for quantile_json. */
typedef struct {
	const char *model, *family;
	int context_length, steps, prediction_length, context_used;
	double loc, scale;
} quantile_run;

/* The output object of a quantile model (Bolt, Chronos-2): the run, the
 * model's levels, each requested level once (res: nreq rows of steps) and
 * the median. *bad is set when a value is not finite. Caller owns it. */
static cJSON *quantile_json(const quantile_run *r, const double *levels, int Q, const double *req, int nreq,
                            const double *res, const double *med, int *bad)
{
	int H = r->steps;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "format", "chronopt-forecast-1");
	cJSON_AddStringToObject(o, "model", r->model);
	cJSON_AddStringToObject(o, "family", r->family);
	cJSON_AddNumberToObject(o, "threads", mm_threads());
	cJSON *set = cJSON_AddObjectToObject(o, "settings");
	cJSON_AddNumberToObject(set, "context_length", r->context_length);
	cJSON_AddNumberToObject(o, "steps", H);
	cJSON_AddNumberToObject(o, "prediction_length", r->prediction_length);
	cJSON_AddNumberToObject(o, "context_used", r->context_used);
	cJSON_AddNumberToObject(o, "loc", r->loc);
	cJSON_AddNumberToObject(o, "scale", r->scale);
	cJSON_AddItemToObject(o, "model_levels", cJSON_CreateDoubleArray(levels, Q));
	cJSON *qo = cJSON_AddObjectToObject(o, "quantiles");
	for (int i = 0; i < nreq; i++) {
		char key[32];
		snprintf(key, sizeof(key), "%g", req[i]);
		if (!cJSON_GetObjectItemCaseSensitive(qo, key))
			cJSON_AddItemToObject(qo, key, num_array(res + (size_t)i * H, H, bad));
	}
	cJSON_AddItemToObject(o, "median", num_array(med, H, bad));
	return o;
}

static cJSON *int_array(const int *v, int n)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
	return a;
}

/* Levels for --quantiles: comma-separated numbers in [0, 1]. */
static int parse_levels(const char *s, double **lv, int *n)
{
	if (parse_values(s, lv, n) < 0)
		return -1;
	for (int i = 0; i < *n; i++)
		if (!((*lv)[i] >= 0 && (*lv)[i] <= 1)) {
			free(*lv);
			*lv = NULL;
			return -1;
		}
	return 0;
}

/* The output of a quantile model (Chronos-Bolt): its quantiles at the
 * requested levels (default its own), as ChronosBoltPipeline.predict_quantiles
 * gives them, and its point forecast.  Returns the exit status. */
static int forecast_quantiles(chronos_model *m, const char *model, const double *y, int n,
                              int ctxlen, int steps, const char *levels, const char *sampling_opt)
{
	const cc_config *mc = &m->c;
	if (sampling_opt) {
		fprintf(stderr, "%s: %s: %s is a quantile model: it draws no samples, so there is nothing "
		        "to sample, seed or warp\n%s", cp_progname, sampling_opt, cc_family_name(mc->family), usage);
		return CP_USAGE;
	}
	double *req = NULL;
	int nreq = mc->nquantiles;
	if (levels && parse_levels(levels, &req, &nreq) < 0)
		return cli_misuse("--quantiles '%s' is not a comma-separated list of levels in [0, 1]", levels);
	if (!levels) {
		req = cp_malloc(sizeof(double) * (size_t)nreq);
		memcpy(req, mc->quantiles, sizeof(double) * (size_t)nreq);
	}
	int cl = ctxlen ? ctxlen : mc->context_length;
	if (cl > mc->context_length)
		cl = mc->context_length;
	int H = steps ? steps : mc->prediction_length, Q = mc->nquantiles;
	int used = n < cl ? n : cl;
	const double *cx[1] = {y + n - used};
	cp_err e = {0};
	float *out = cp_malloc(sizeof(float) * (size_t)Q * H);
	if (bolt_predict(m, 1, cx, &used, H, out, &e) < 0) {
		free(out), free(req);
		return cp_die(&e);
	}
	float loc, scale;
	{
		/* the first block's scaling, for the record */
		float *x = cp_malloc(sizeof(float) * (size_t)used), *q1 = cp_malloc(sizeof(float) * (size_t)Q *
		                                                                 mc->prediction_length);
		for (int i = 0; i < used; i++)
			x[i] = (float)cx[0][i];
		const float *xp = x;
		bolt_forward(m, 1, &xp, &used, q1, &loc, &scale);
		free(x), free(q1);
	}
	float *col = cp_malloc(sizeof(float) * (size_t)Q), *qv = cp_malloc(sizeof(float) * (size_t)nreq);
	double *res = cp_malloc(sizeof(double) * (size_t)nreq * H), *med = cp_malloc(sizeof(double) * (size_t)H);
	int mid = 0;
	for (int j = 0; j < Q; j++)
		if ((float)mc->quantiles[j] == 0.5f)
			mid = j;
	for (int h = 0; h < H; h++) {
		for (int j = 0; j < Q; j++)
			col[j] = out[(size_t)j * H + h];
		bolt_quantiles_at(mc->quantiles, Q, col, nreq, req, qv);
		for (int i = 0; i < nreq; i++)
			res[(size_t)i * H + h] = qv[i];
		med[h] = out[(size_t)mid * H + h];
	}
	int bad = 0;
	quantile_run run = {model, cc_family_name(mc->family), cl, H, mc->prediction_length, used, loc, scale};
	cJSON *o = quantile_json(&run, mc->quantiles, Q, req, nreq, res, med, &bad);
	int status = CP_OK;
	if (bad) {
		cp_fail(&e, CP_DATA, "forecast is not finite (loc %g, scale %g)", loc, scale);
		status = cp_die(&e);
	} else {
		char *txt = cp_json_print(o, 1);
		fputs(txt, stdout);
		fputc('\n', stdout);
		free(txt);
	}
	cJSON_Delete(o);
	free(out), free(req), free(col), free(qv), free(res), free(med);
	if (status != CP_OK)
		return status;
	return cp_close_stdout();
}

/* The output of a Chronos-2 directory, as forecast_quantiles writes a
 * Bolt one: Chronos2Pipeline.predict_quantiles at the requested levels
 * (default the model's), the 0.5 level as the point forecast.  The
 * context is one univariate series (its own group).  Returns the exit
 * status. */
static int forecast_chronos2(const char *model, const double *y, int n, int ctxlen, int steps,
                             const char *levels, const char *sampling_opt)
{
	if (sampling_opt) {
		fprintf(stderr, "%s: %s: chronos-2 is a quantile model: it draws no samples, so there is nothing "
		        "to sample, seed or warp\n%s", cp_progname, sampling_opt, usage);
		return CP_USAGE;
	}
	double *req = NULL;
	int nreq = 0;
	if (levels && parse_levels(levels, &req, &nreq) < 0)
		return cli_misuse("--quantiles '%s' is not a comma-separated list of levels in [0, 1]", levels);
	cp_err e = {0};
	chronos2_model *m = chronos2_load(model, &e);
	if (!m) {
		free(req);
		return cp_die(&e);
	}
	const c2_config *mc = &m->c;
	int Q = mc->num_quantiles, mid = chronos2_median_index(m);
	if (!levels) {
		nreq = Q;
		req = cp_malloc(sizeof(double) * (size_t)Q);
		memcpy(req, mc->quantiles, sizeof(double) * (size_t)Q);
	}
	int cl = ctxlen ? ctxlen : mc->context_length;
	if (cl > mc->context_length)
		cl = mc->context_length;
	int plen = mc->max_output_patches * mc->patch_size;
	int H = steps ? steps : plen, used = n < cl ? n : cl;
	float *x = cp_malloc(sizeof(float) * (size_t)used);
	for (int i = 0; i < used; i++)
		x[i] = (float)y[n - used + i];
	c2_series s = {x, used, 0, NULL, 0};
	float *out = cp_malloc(sizeof(float) * (size_t)Q * H), *at = cp_malloc(sizeof(float) * (size_t)nreq * H);
	double *res = cp_malloc(sizeof(double) * (size_t)nreq * H), *med = cp_malloc(sizeof(double) * (size_t)H);
	int status = CP_OK;
	if (chronos2_predict(m, 1, &s, H, NULL, out, &e) < 0) {
		status = cp_die(&e);
		goto done;
	}
	chronos2_quantiles_at(m, req, nreq, out, H, at);
	for (size_t i = 0; i < (size_t)nreq * H; i++)
		res[i] = at[i];
	for (int h = 0; h < H; h++)
		med[h] = mid >= 0 ? out[(size_t)mid * H + h] : NAN;
	float loc, scale;
	chronos2_scaling(m, x, used, &loc, &scale);
	int bad = 0;
	quantile_run run = {model, "chronos-2", cl, H, plen, used, loc, scale};
	cJSON *o = quantile_json(&run, mc->quantiles, Q, req, nreq, res, med, &bad);
	if (bad || mid < 0) {
		cp_fail(&e, CP_DATA, mid < 0 ? "%s/config.json: the model's quantiles do not include 0.5, the point "
		        "forecast" : "%s: forecast is not finite", model);
		status = cp_die(&e);
	} else {
		char *txt = cp_json_print(o, 1);
		fputs(txt, stdout);
		fputc('\n', stdout);
		free(txt);
	}
	cJSON_Delete(o);
done:
	free(x), free(out), free(at), free(res), free(med), free(req);
	chronos2_free(m);
	if (status != CP_OK)
		return status;
	return cp_close_stdout();
}

/* The whole tool; *owned: memory main frees after it (--config's model). */
/* An ensemble config (ensemble.h): its members' forecasts and their
 * combination, under the options given. */
static int forecast_ensemble(const char *spec, const char *config, const fc_config *file,
                             const fc_config *given, unsigned given_mask, const char *values,
                             const char *series_path, const char *id, series_missing missing,
                             const char *end, long origin, int steps, uint64_t seed)
{
	cp_err e = {0};
	fc_config run;
	char *none;
	dc_resolve(NULL, file, given, given_mask, &run, &none, &e);
	double *y = NULL;
	int n = 0;
	if (values) {
		if (parse_values(values, &y, &n) < 0)
			return cli_misuse("--values '%s' is not a comma-separated list of numbers", values);
	} else if (series_from_csv(series_path, id, missing, end, origin, &y, &n, &e) < 0) {
		return cp_die(&e);
	}
	forecaster *f = forecaster_open(spec, &e);
	cJSON *o = NULL;
	if (!f) {
		if (e.code == CP_USAGE)
			e.code = CP_DATA;
		cp_prefix(&e, "%s", config);
	}
	int rc = f ? ensemble_forecast_json(f, &run, y, n, steps, seed, &o, &e) : -1;
	free(y);
	if (f)
		f->free(f);
	if (rc < 0)
		return cp_die(&e);
	char *txt = cp_json_print(o, 1);
	cJSON_Delete(o);
	if (!txt) {
		cp_fail(&e, CP_INTERNAL, "cannot format the output");
		return cp_die(&e);
	}
	fputs(txt, stdout);
	fputc('\n', stdout);
	free(txt);
	return cp_close_stdout();
}

static int forecast_main(int argc, char **argv, char **owned)
{
	enum { O_MODEL = 256, O_SERIES, O_ID, O_MISSING, O_END, O_ORIGIN, O_VALUES, O_STEPS, O_SEED,
	       O_THREADS, O_TOKENS, O_QUANT, O_HELP, O_CONFIG, O_SET = 512 };
	static const struct option opts[] = {
		{"model", required_argument, 0, O_MODEL}, {"series", required_argument, 0, O_SERIES},
		{"id", required_argument, 0, O_ID}, {"end", required_argument, 0, O_END},
		{"missing", required_argument, 0, O_MISSING},
		{"origin", required_argument, 0, O_ORIGIN}, {"values", required_argument, 0, O_VALUES},
		{"steps", required_argument, 0, O_STEPS}, {"context-length", required_argument, 0, O_SET + FC_CTX},
		{"num-samples", required_argument, 0, O_SET + FC_SAMPLES},
		{"temperature", required_argument, 0, O_SET + FC_TEMP},
		{"top-k", required_argument, 0, O_SET + FC_TOPK}, {"top-p", required_argument, 0, O_SET + FC_TOPP},
		{"config", required_argument, 0, O_CONFIG},
		{"seed", required_argument, 0, O_SEED}, {"threads", required_argument, 0, O_THREADS},
		{"tokens", no_argument, 0, O_TOKENS}, {"quantiles", required_argument, 0, O_QUANT},
		{"help", no_argument, 0, O_HELP}, {0, 0, 0, 0},
	};
	const char *model = NULL, *series_path = NULL, *id = NULL, *end = NULL, *values = NULL;
	const char *quantiles = NULL, *sampling_opt = NULL, *config = NULL;
	long origin = -1, steps = 0, threads = 1;
	fc_config given = {0}, file = {0};
	unsigned given_mask = 0;
	uint64_t seed = 0;
	int tokens = 0, c, missing_given = 0;
	series_missing missing = SERIES_MISSING_ERROR;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_MODEL: model = optarg; break;
		case O_SERIES: series_path = optarg; break;
		case O_ID: id = optarg; break;
		case O_MISSING:
			if (series_missing_parse(optarg, &missing) < 0)
				return cli_misuse("--missing '%s' is not one of error, nan, drop", optarg);
			missing_given = 1;
			break;
		case O_END: end = optarg; break;
		case O_VALUES: values = optarg; break;
		case O_ORIGIN:
			if (cp_parse_long(optarg, 1, 1L << 30, &origin) < 0)
				return cli_misuse("--origin '%s' is not a positive integer", optarg);
			break;
		case O_STEPS:
			if (cp_parse_long(optarg, 1, 100000, &steps) < 0)
				return cli_misuse("--steps '%s' is not an integer in [1, 100000]", optarg);
			break;
		case O_CONFIG: config = optarg; break;
		case O_SEED:
			sampling_opt = "--seed";
			/* Seeds are JSON numbers in the output: keep them exact. */
			if (cp_parse_u64(optarg, &seed) < 0 || seed > CP_SEED_MAX)
				return cli_misuse("--seed '%s' is not an integer in " CP_SEED_RANGE, optarg);
			break;
		case O_THREADS:
			if (cp_parse_long(optarg, 1, 256, &threads) < 0)
				return cli_misuse("--threads '%s' is not an integer in [1, 256]", optarg);
			break;
		case O_TOKENS:
			tokens = 1;
			sampling_opt = "--tokens";
			break;
		case O_QUANT: quantiles = optarg; break;
		case O_HELP:
			return cli_help();
		default:
			if (c >= O_SET && c < O_SET + FC_NKEYS) {
				cp_err oe = {0};
				if (c != O_SET + FC_CTX)
					sampling_opt = fc_option[c - O_SET];
				if (fc_config_parse_option(c - O_SET, optarg, fc_option[c - O_SET], &given, &oe) < 0)
					return cli_misuse("%s", oe.msg);
				given_mask |= 1u << (c - O_SET);
				break;
			}
			return cli_hint_usage(); /* after getopt's message */
		}
	}
	if (optind < argc)
		return cli_misuse("unexpected argument '%s'", argv[optind]);
	if (!model && !config)
		return cli_misuse("%s", "--model or --config is required");
	if (!!values + !!series_path != 1)
		return cli_misuse("%s", "give exactly one of --values and --series");
	if (end && origin > 0)
		return cli_misuse("%s", "give at most one of --end and --origin");
	if (values && (end || origin > 0 || id || missing_given))
		return cli_misuse("%s", "--id, --missing, --end and --origin go with --series");

	cp_err e = {0};
	char *config_model = NULL;
	if (config && dc_read_settings(config, &file, &config_model, &e) < 0)
		return cp_die(&e);
	*owned = config_model;
	if (!model)
		model = config_model;
	if (!model) {
		cp_fail(&e, CP_DATA, "%s: names no model (\"model\".\"dir\"): give --model", config);
		return cp_die(&e);
	}
	if (config_model && !strncmp(config_model, "ensemble:", 9)) {
		if (model != config_model)
			return cli_misuse("%s", "--model does not go with an ensemble config (its members name theirs)");
		if (tokens || quantiles)
			return cli_misuse("%s", "--tokens and --quantiles do not go with an ensemble config");
		if (!steps)
			return cli_misuse("%s", "--steps is required with an ensemble config");
		return forecast_ensemble(model, config, &file, &given, given_mask, values, series_path, id,
		                         missing, end, origin, (int)steps, seed);
	}
	/* a quantile model uses only the context length: the option's, else the file's */
	long ctxlen = given_mask & (1u << FC_CTX) ? given.context_length : config ? file.context_length : 0;
	double *y = NULL;
	int n = 0;
	if (values) {
		if (parse_values(values, &y, &n) < 0)
			return cli_misuse("--values '%s' is not a comma-separated list of numbers", values);
	} else {
		if (series_from_csv(series_path, id, missing, end, origin, &y, &n, &e) < 0)
			return cp_die(&e);
	}

	mm_set_threads((int)threads);
	{
		size_t cn = strlen(model) + 16;
		char *cfg = cp_malloc(cn);
		snprintf(cfg, cn, "%s/config.json", model);
		int family = -1;
		int rc = cc_detect(cfg, &family, &e);
		free(cfg);
		if (rc == 0 && family == CC_CHRONOS2) {
			if (config && fc_config_quantile_check(&file, "chronos-2", config, &e) < 0) {
				free(y);
				return cp_die(&e);
			}
			int st = forecast_chronos2(model, y, n, (int)ctxlen, (int)steps, quantiles, sampling_opt);
			free(y);
			return st;
		}
	}
	chronos_model *m = chronos_load(model, &e);
	if (!m) {
		free(y);
		return cp_die(&e);
	}
	if (m->c.family == CC_BOLT) {
		if (config && fc_config_quantile_check(&file, cc_family_name(CC_BOLT), config, &e) < 0) {
			chronos_free(m);
			free(y);
			return cp_die(&e);
		}
		int st = forecast_quantiles(m, model, y, n, (int)ctxlen, (int)steps, quantiles, sampling_opt);
		chronos_free(m);
		free(y);
		return st;
	}
	if (quantiles) {
		chronos_free(m);
		free(y);
		return cli_misuse("%s", "--quantiles goes with a quantile model (chronos-bolt); chronos-t5 "
		                 "prints its sample quantiles at 0.025, 0.1, 0.5, 0.9, 0.975");
	}
	const cc_config *mc = &m->c;
	/* the checkpoint's own settings, under the file's, under the options */
	fc_config run = {mc->context_length, mc->num_samples, mc->temperature, mc->top_k, mc->top_p};
	char *none;
	dc_resolve(NULL, config ? &file : &run, &given, given_mask, &run, &none, &e);
	chronos_sampling sp = {run.num_samples, run.temperature, run.top_k, run.top_p};
	int cl = run.context_length;
	if (cl > mc->context_length)
		cl = mc->context_length;
	int H = steps ? (int)steps : mc->prediction_length;
	int used = n < cl ? n : cl;
	const double *cx[1] = {y + n - used};
	uint64_t stream[1] = {(uint64_t)n};  /* the forecast origin */
	double *paths = cp_malloc(sizeof(double) * (size_t)sp.num_samples * H);
	int *tok = cp_malloc(sizeof(int) * (size_t)sp.num_samples * H);
	int rc = chronos_predict(m, &sp, 1, cx, &used, H, seed, stream, paths, tok, &e);
	if (rc < 0) {
		chronos_free(m);
		free(y), free(paths), free(tok);
		return cp_die(&e);
	}

	int bad = 0;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "format", "chronopt-forecast-1");
	cJSON_AddStringToObject(o, "model", model);
	cJSON_AddStringToObject(o, "family", cc_family_name(mc->family));
	cJSON_AddNumberToObject(o, "threads", mm_threads());
	/* Raw: cJSON prints numbers with 15 significant digits, which would
	 * round a seed past 10^15. */
	char sd[24];
	snprintf(sd, sizeof(sd), "%llu", (unsigned long long)seed);
	cJSON_AddRawToObject(o, "seed", sd);
	cJSON_AddNumberToObject(o, "stream", (double)stream[0]);
	const fc_config used_cfg = {cl, sp.num_samples, sp.temperature, sp.top_k, sp.top_p};
	cJSON_AddItemToObject(o, "settings", fc_config_json(&used_cfg));
	cJSON_AddNumberToObject(o, "steps", H);
	cJSON_AddNumberToObject(o, "prediction_length", mc->prediction_length);
	cJSON_AddNumberToObject(o, "context_used", used);
	int nt = tok_len(&m->tok, used);
	int *ids = cp_malloc(sizeof(int) * (size_t)nt);
	unsigned char *mask = cp_malloc((size_t)nt);
	float scale = tok_encode(&m->tok, cx[0], used, ids, mask);
	cJSON_AddNumberToObject(o, "scale", scale);
	if (tokens) {
		cJSON_AddItemToObject(o, "input_token_ids", int_array(ids, nt));
		cJSON *a = cJSON_AddArrayToObject(o, "sample_token_ids");
		for (int s = 0; s < sp.num_samples; s++)
			cJSON_AddItemToArray(a, int_array(tok + (size_t)s * H, H));
	}
	cJSON *sa = cJSON_AddArrayToObject(o, "samples");
	for (int s = 0; s < sp.num_samples; s++)
		cJSON_AddItemToArray(sa, num_array(paths + (size_t)s * H, H, &bad));
	double *col = cp_malloc(sizeof(double) * (size_t)sp.num_samples);
	double *q = cp_malloc(sizeof(double) * 5 * (size_t)H);
	for (int h = 0; h < H; h++) {
		for (int s = 0; s < sp.num_samples; s++)
			col[s] = paths[(size_t)s * H + h];
		qsort(col, (size_t)sp.num_samples, sizeof(double), cmp_double);
		for (int k = 0; k < 5; k++)
			q[k * H + h] = quantile(col, sp.num_samples, quant_levels[k]);
	}
	cJSON *qo = cJSON_AddObjectToObject(o, "quantiles");
	static const char *qn[] = {"0.025", "0.1", "0.5", "0.9", "0.975"};
	for (int k = 0; k < 5; k++)
		cJSON_AddItemToObject(qo, qn[k], num_array(q + k * H, H, &bad));
	cJSON_AddItemToObject(o, "median", num_array(q + 2 * H, H, &bad));
	int status = CP_OK;
	if (bad) {
		cp_fail(&e, CP_DATA, "forecast is not finite (scale %g)", scale);
		status = cp_die(&e);
	} else {
		char *txt = cp_json_print(o, 1);
		fputs(txt, stdout);
		fputc('\n', stdout);
		free(txt);
	}
	cJSON_Delete(o);
	free(y), free(paths), free(tok), free(ids), free(mask), free(col), free(q);
	chronos_free(m);
	if (status != CP_OK)
		return status;
	return cp_close_stdout();
}

int main(int argc, char **argv)
{
	cli_start(&tool, argv);
	char *owned = NULL;
	int st = forecast_main(argc, argv, &owned);
	free(owned);
	return st;
}
