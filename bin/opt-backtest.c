/* opt-backtest — run one forecaster over walk-forward origins and print one
 * JSON object (a debugging tool; see opt-backtest(1)). */
#include "backtest.h"
#include "cli.h"
#include "common.h"
#include "depconfig.h"
#include "durable.h"
#include "forecast.h"
#include "jsonutil.h"
#include "series.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_tool tool = {"opt-backtest",
	"usage: opt-backtest --series CSV [--id ID] [--missing error|nan|drop] [--model SPEC] [--steps N]\n"
	"                    [--origins W] [--stride S] [--holdout H]\n"
	"                    [--config FILE] [--context-length L] [--num-samples N]\n"
	"                    [--temperature T] [--top-k K] [--top-p P]\n"
	"                    [--seed SEED] [--batch B] [--windows] [--samples FILE]\n"
	"  FILE: a deployed config (<config-dir>/<horizon>.json): its settings, model and\n"
	"        validation stride, under the options given\n"
	"  SPEC: random_walk (default), drift, seasonal_naive[:P], or a model directory\n"
	"  defaults: --steps 7 --origins 250 --stride 1 --holdout 0 --context-length 512\n"
	"            --num-samples 20 --temperature 1 --top-k 0 --top-p 1 --seed 42\n"
	"            --batch 0 (all windows)\n", CLI_HINT_USAGE};

/* The --samples dump: one JSON object, windows written as they are scored. */
typedef struct {
	FILE *fp;          /* df.fp while open */
	durable_file df;   /* replaced durably: all of it or none of it */
	const char *path;
	const series *s;
	int nwritten;
	int quantiles;     /* a quantile model: rows are its levels, not paths */
} dump;

static void dump_num(FILE *fp, double v)
{
	if (isfinite(v))
		fprintf(fp, "%.17g", v);
	else
		fputs("null", fp);
}

static void dump_array(FILE *fp, const double *v, int n)
{
	fputc('[', fp);
	for (int i = 0; i < n; i++) {
		if (i)
			fputc(',', fp);
		dump_num(fp, v[i]);
	}
	fputc(']', fp);
}

static int dump_window(void *arg, int origin, const double *actual, const double *point,
                       const double *paths, int nsamples, int steps, cp_err *e)
{
	dump *d = arg;
	char date[11];
	cp_format_date(d->s->day[origin - 1], date);
	fprintf(d->fp, "%s\n{\"origin\":%d,\"origin_date\":\"%s\",\"actual\":",
	        d->nwritten ? "," : "", origin, date);
	dump_array(d->fp, actual, steps);
	fputs(",\"point\":", d->fp);
	if (point)
		dump_array(d->fp, point, steps);
	else
		fputs("null", d->fp);
	fputs(d->quantiles ? ",\"quantiles\":[" : ",\"paths\":[", d->fp);
	for (int s = 0; s < nsamples; s++) {
		if (s)
			fputc(',', d->fp);
		dump_array(d->fp, paths + (size_t)s * steps, steps);
	}
	fputs("]}", d->fp);
	d->nwritten++;
	if (ferror(d->fp))
		return cp_fail_errno(e, "cannot write '%s'", d->path);
	return 0;
}

typedef struct {
	const char *series_path, *id, *model, *samples, *config;
	int steps, with_windows, batch;
	const char *sampling_opt;  /* a sampling option (--num-samples ...), when given */
	series_missing missing;
	bt_plan plan;
	fc_config cfg;
	fc_config given;           /* settings given as options ... */
	unsigned given_mask;       /* ... bit FC_* set for each */
	int stride_given;          /* --stride typed (else --config's validation stride) */
	char *config_model;        /* --config's model.dir (owned) */
	uint64_t seed;
} options;

static int parse_args(int argc, char **argv, options *o, cp_err *e)
{
	enum { O_ID = 256, O_SEED, O_BATCH, O_HOLD, O_MISSING, O_CONFIG, O_SET = 512 };
	static const struct option longopts[] = {
		{"series", required_argument, NULL, 'i'},
		{"id", required_argument, NULL, O_ID},
		{"missing", required_argument, NULL, O_MISSING},
		{"model", required_argument, NULL, 'm'},
		{"steps", required_argument, NULL, 'n'},
		{"origins", required_argument, NULL, 'w'},
		{"stride", required_argument, NULL, 's'},
		{"holdout", required_argument, NULL, O_HOLD},
		{"config", required_argument, NULL, O_CONFIG},
		{"context-length", required_argument, NULL, O_SET + FC_CTX},
		{"num-samples", required_argument, NULL, O_SET + FC_SAMPLES},
		{"temperature", required_argument, NULL, O_SET + FC_TEMP},
		{"top-k", required_argument, NULL, O_SET + FC_TOPK},
		{"top-p", required_argument, NULL, O_SET + FC_TOPP},
		{"seed", required_argument, NULL, O_SEED},
		{"batch", required_argument, NULL, O_BATCH},
		{"windows", no_argument, NULL, 'W'},
		{"samples", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int rc = 0;
		switch (c) {
		case 'i': o->series_path = optarg; break;
		case O_ID: o->id = optarg; break;
		case O_MISSING:
			if (series_missing_parse(optarg, &o->missing) < 0)
				rc = cp_fail(e, CP_USAGE, "--missing: '%s' is not 'error', 'nan' or 'drop'", optarg);
			break;
		case 'm': o->model = optarg; break;
		case 'n': rc = cp_opt_int("--steps", optarg, 1, 100000, &o->steps, e); break;
		case 'w': rc = cp_opt_int("--origins", optarg, 1, 10000000, &o->plan.count, e); break;
		case 's': rc = cp_opt_int("--stride", optarg, 1, 10000000, &o->plan.stride, e); o->stride_given = 1; break;
		case O_HOLD: rc = cp_opt_int("--holdout", optarg, 0, 10000000, &o->plan.holdout, e); break;
		case O_CONFIG: o->config = optarg; break;
		case O_BATCH: rc = cp_opt_int("--batch", optarg, 0, 10000000, &o->batch, e); break;
		case O_SEED:
			/* Seeds are JSON numbers in every output: keep them exact. */
			if (cp_parse_u64(optarg, &o->seed) < 0 || o->seed > CP_SEED_MAX)
				rc = cp_fail(e, CP_USAGE, "--seed: '%s' is not an integer in " CP_SEED_RANGE,
				             optarg);
			break;
		case 'W': o->with_windows = 1; break;
		case 'S': o->samples = optarg; break;
		case 'h': return 1;
		default:
			if (c >= O_SET && c < O_SET + FC_NKEYS) {
				if (c != O_SET + FC_CTX)
					o->sampling_opt = fc_option[c - O_SET];
				rc = fc_config_parse_option(c - O_SET, optarg, fc_option[c - O_SET], &o->given, e);
				o->given_mask |= 1u << (c - O_SET);
				break;
			}
			if (optopt && optopt < 256)
				return cp_fail(e, CP_USAGE, "unknown option '-%c'", optopt);
			return cp_fail(e, CP_USAGE, "unknown option or missing argument '%s'",
			               argv[optind - 1]);
		}
		if (rc < 0)
			return -1;
	}
	if (optind < argc)
		return cp_fail(e, CP_USAGE, "unexpected argument '%s'", argv[optind]);
	if (!o->series_path)
		return cp_fail(e, CP_USAGE, "--series is required");
	return 0;
}

static cJSON *header_json(const options *o, const series *s, const forecaster *f,
                          const int *orig)
{
	char d[11];
	cJSON *out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "tool", "opt-backtest");
	cJSON_AddNumberToObject(out, "version", 1);
	cJSON *js = cJSON_AddObjectToObject(out, "series");
	cJSON_AddStringToObject(js, "path", s->path);
	cJSON_AddStringToObject(js, "id", s->id);
	cJSON_AddNumberToObject(js, "length", s->n);
	cp_format_date(s->day[s->n - 1], d);
	cJSON_AddStringToObject(js, "last_date", d);
	cJSON_AddStringToObject(js, "missing", series_missing_name(s->missing));
	cJSON_AddNumberToObject(js, "missing_values", s->n_missing);
	cJSON_AddStringToObject(out, "model", o->model);
	cJSON_AddStringToObject(out, "forecaster", f->name);
	cJSON_AddNumberToObject(out, "steps", o->steps);
	/* Raw: cJSON prints numbers with 15 significant digits (its round-trip
	 * check is approximate), which would round a seed past 10^15. */
	char sd[24];
	snprintf(sd, sizeof(sd), "%llu", (unsigned long long)o->seed);
	cJSON_AddRawToObject(out, "seed", sd);
	cJSON *jp = cJSON_AddObjectToObject(out, "plan");
	cJSON_AddNumberToObject(jp, "origins", o->plan.count);
	cJSON_AddNumberToObject(jp, "stride", o->plan.stride);
	cJSON_AddNumberToObject(jp, "holdout", o->plan.holdout);
	cp_format_date(s->day[orig[0] - 1], d);
	cJSON_AddStringToObject(jp, "first_origin_date", d);
	cp_format_date(s->day[orig[o->plan.count - 1] - 1], d);
	cJSON_AddStringToObject(jp, "last_origin_date", d);
	if (f->family)
		cJSON_AddStringToObject(out, "family", f->family);
	if (f->nquantiles > 0) {
		/* a quantile model uses only the context length */
		cJSON *jc = cJSON_AddObjectToObject(out, "config");
		cJSON_AddNumberToObject(jc, "context_length", o->cfg.context_length);
		cJSON_AddItemToObject(out, "quantile_levels", cJSON_CreateDoubleArray(f->levels, f->nquantiles));
	} else {
		cJSON_AddItemToObject(out, "config", fc_config_json(&o->cfg));
	}
	return out;
}

static int run(const options *o, cp_err *e)
{
	series s;
	forecaster *f = NULL;
	int *orig = NULL, rc = -1;
	bt_result r = {0};
	dump d = {0};
	cJSON *out = NULL;

	/* Too few rows for the plan is reported by bt_origins with the counts. */
	if (series_load_missing(&s, o->series_path, o->id, 1, o->missing, e) < 0)
		return -1;
	if (!(f = forecaster_open(o->model, e)))
		goto done;
	if (f->nquantiles > 0 && o->sampling_opt) {
		cp_fail(e, CP_USAGE, "%s: %s is a quantile model: it draws no samples, so num_samples, "
		        "temperature, top_k and top_p do not apply", o->sampling_opt, f->family);
		goto done;
	}
	if (f->nquantiles > 0 && o->config && fc_config_quantile_check(&o->cfg, f->family, o->config, e) < 0)
		goto done;
	if (bt_origins(&s, o->steps, o->cfg.context_length, &o->plan, &orig, e) < 0)
		goto done;
	if (o->samples) {
		d.s = &s;
		/* A temp file renamed over --samples at the end: a failed or
		 * interrupted run leaves the old file as it was. A device, FIFO
		 * or /dev/stdout is written directly and never removed. */
		if (durable_open(&d.df, o->samples, e) < 0)
			goto done;
		d.fp = d.df.fp;
		d.path = o->samples;
		if (f->nquantiles > 0) {
			d.quantiles = 1;
			fprintf(d.fp, "{\"tool\":\"opt-backtest\",\"model\":\"%s\",\"steps\":%d,"
			        "\"context_length\":%d,\"quantile_levels\":", f->name, o->steps,
			        o->cfg.context_length);
			dump_array(d.fp, f->levels, f->nquantiles);
			fputs(",\"windows\":[", d.fp);
		} else {
			fprintf(d.fp, "{\"tool\":\"opt-backtest\",\"model\":\"%s\",\"seed\":%llu,"
			        "\"steps\":%d,\"num_samples\":%d,\"context_length\":%d,\"windows\":[",
			        f->name, (unsigned long long)o->seed, o->steps, o->cfg.num_samples,
			        o->cfg.context_length);
		}
	}
	if (bt_run_cb(f, &o->cfg, &s, orig, o->plan.count, o->steps, o->seed, o->batch,
	              o->samples ? dump_window : NULL, &d, &r, e) < 0)
		goto done;
	if (d.fp) {
		fputs("\n]}\n", d.fp);
		d.fp = NULL;
		if (durable_commit(&d.df, e) < 0)
			goto done;
	}
	out = header_json(o, &s, f, orig);
	cJSON_AddItemToObject(out, "metrics", bt_result_json(&r, &s, o->with_windows));
	char *txt = cp_json_print(out, 0); /* every figure exact */
	if (!txt) {
		cp_fail(e, CP_INTERNAL, "cannot format the output");
		goto done;
	}
	fputs(txt, stdout);
	fputc('\n', stdout);
	free(txt);
	rc = 0;
done:
	durable_abort(&d.df); /* no half-written dump; a no-op after the commit */
	cJSON_Delete(out);
	bt_result_free(&r);
	free(orig);
	if (f)
		f->free(f);
	series_free(&s);
	return rc;
}

int main(int argc, char **argv)
{
	cli_start(&tool, argv);
	cp_err e = {0};
	options o = {
		.steps = 7,
		.plan = {.count = 250, .stride = 1, .holdout = 0},
		.cfg = {.context_length = 512, .num_samples = 20, .temperature = 1.0,
		        .top_k = 0, .top_p = 1.0},
		.seed = 42,
	};
	int pr = parse_args(argc, argv, &o, &e);
	if (pr == 1)
		return cli_help();
	if (pr < 0) {
		int code = cp_die(&e);
		cli_hint_usage();
		return code;
	}
	const fc_config dflt = o.cfg;
	if (dc_resolve(o.config, &dflt, &o.given, o.given_mask, &o.cfg, &o.config_model, &e) < 0 ||
	    (o.config && !o.stride_given && dc_validation_stride(o.config, &o.plan.stride, &e) < 0)) {
		free(o.config_model);
		return cp_die(&e);
	}
	if (o.model && o.config_model && !strncmp(o.config_model, "ensemble:", 9)) {
		free(o.config_model);
		cp_fail(&e, CP_USAGE, "--model does not go with an ensemble config (its members name theirs)");
		return cp_die(&e);
	}
	if (!o.model)
		o.model = o.config_model ? o.config_model : "random_walk";
	int rc = run(&o, &e);
	free(o.config_model);
	if (rc < 0)
		return cp_die_closing(&e);
	return cp_close_stdout();
}
