/* report.c — the static HTML dashboard; see report.h. */
#include "report.h"
#include "ensemble.h"
#include "report_internal.h"
#include "depconfig.h"
#include "jsonutil.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- lookup */

const cJSON *report_get(const cJSON *j, const char *dotted)
{
	return cp_json_path(j, dotted);
}

/* The first of the NULL-terminated dotted paths that exists. History
 * records are the envelope line plus the seed's flat fields; both are
 * looked up so the report works on either. */
static const cJSON *first(const cJSON *j, const char *const *paths)
{
	for (; *paths; paths++) {
		const cJSON *v = report_get(j, *paths);
		if (v && !cJSON_IsNull(v) && !(cJSON_IsString(v) && !v->valuestring[0]))
			return v;
	}
	return NULL;
}

static const char *str_of(const cJSON *j, const char *const *paths)
{
	const cJSON *v = first(j, paths);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num_of(const cJSON *j, const char *const *paths)
{
	const cJSON *v = first(j, paths);
	return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : NAN;
}

/* 1 true, 0 false, -1 absent. */
static int bool_of(const cJSON *j, const char *const *paths)
{
	const cJSON *v = first(j, paths);
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? 1 : 0;
	return -1;
}

#define P(...) ((const char *const[]){__VA_ARGS__, NULL})

static const char *const F_HORIZON[] = {"horizon.name", "horizon", NULL};
static const char *const F_WHEN[] = {"optimization_date", "recorded_at", "history.recorded_at",
                                     "deployment.deployed_at", "timestamp", NULL};

/* --------------------------------------------------------------- loading */

void report_init(report_data *r)
{
	memset(r, 0, sizeof(*r));
}

void report_release(report_data *r)
{
	for (size_t i = 0; i < r->n; i++)
		cJSON_Delete(r->docs[i]);
	free(r->docs);
	free(r->recs);
	report_init(r);
}

static void fill_rec(report_rec *rec, const cJSON *j)
{
	memset(rec, 0, sizeof(*rec));
	rec->j = j;
	const char *h = str_of(j, F_HORIZON);
	if (h && cp_name_ok(h))
		snprintf(rec->horizon, sizeof(rec->horizon), "%s", h);
	const char *w = str_of(j, F_WHEN);
	rec->day = INT32_MIN;
	if (w) {
		snprintf(rec->when, sizeof(rec->when), "%s", w);
		char d[11];
		int32_t day;
		if (strlen(w) >= 10) {
			memcpy(d, w, 10);
			d[10] = '\0';
			if (cp_parse_date(d, &day) == 0)
				rec->day = day;
		}
	}
	/* opt-history records (schema chronopt-history/1) carry "outcome":
	 * not_triggered, search_failed, not_approved, dry_run, deployed, error;
	 * rollbacks "rolled_back".  Raw envelopes are read from their sections. */
	const char *oc = str_of(j, P("outcome"));
	const char *ev = str_of(j, P("event", "deployment.action"));
	rec->rollback = (ev && strcmp(ev, "rollback") == 0) || (oc && strcmp(oc, "rolled_back") == 0);
	if (oc && !strncmp(oc, "challenger_", 11) && strcmp(oc, "challenger_started"))
		rec->triggered = -1; /* opt-deploy challenge: no trigger check */
	else if (oc)
		rec->triggered = strcmp(oc, "not_triggered") != 0 && !rec->rollback;
	else
		rec->triggered = bool_of(j, P("trigger.should_optimize", "triggered"));
	rec->approved = bool_of(j, P("validation.approved"));
	const char *vs = str_of(j, P("validation.status"));
	if (vs && strcmp(vs, "skipped") == 0)
		rec->approved = -1;
	int dep = bool_of(j, P("deployment.deployed", "deployed"));
	const char *ds = str_of(j, P("deployment.status"));
	if (oc)
		rec->deployed = strcmp(oc, "deployed") == 0;
	else
		rec->deployed = !rec->rollback && dep == 1 && (!ds || strcmp(ds, "done") == 0);
	rec->rmse_before = num_of(j, P("validation.incumbent.rmse", "validation.incumbent.metrics.rmse",
	                               "deployment.previous.validation_rmse", "rmse_before"));
	rec->rmse_after = num_of(j, P("validation.candidate.rmse", "validation.candidate.metrics.rmse",
	                              "search.candidate.validation_rmse", "config.validation_rmse", "rmse_after"));
	rec->rmse_rw = num_of(j, P("validation.random_walk.rmse", "validation.random_walk.metrics.rmse",
	                           "search.random_walk.rmse"));
}

int report_load(report_data *r, const char *path, cp_err *e)
{
	r->path = path;
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		if (errno == ENOENT) {
			r->missing = 1;
			return 0;
		}
		return cp_fail_errno(e, "cannot open '%s'", path);
	}
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;
	while ((len = getline(&buf, &cap, fp)) >= 0) {
		r->lines++;
		int has_nl = len > 0 && buf[len - 1] == '\n';
		const char *s = buf;
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (!*s)
			continue;
		cJSON *j = (size_t)len == strlen(buf) ? cJSON_Parse(buf) : NULL;
		if (!j || !cJSON_IsObject(j)) {
			cJSON_Delete(j);
			if (!has_nl) {
				r->torn_tail = 1;
				break;
			}
			rc = cp_fail(e, CP_DATA, "%s:%ld: invalid JSON", path, r->lines);
			break;
		}
		if (r->n == r->cap) {
			r->cap = r->cap ? 2 * r->cap : 64;
			r->recs = cp_realloc(r->recs, r->cap * sizeof(*r->recs));
			r->docs = cp_realloc(r->docs, r->cap * sizeof(*r->docs));
		}
		r->docs[r->n] = j;
		fill_rec(&r->recs[r->n], j);
		r->n++;
	}
	if (rc == 0 && ferror(fp))
		rc = cp_fail_errno(e, "cannot read '%s'", path);
	free(buf);
	fclose(fp);
	return rc;
}

/* ---------------------------------------------------------------- output */

void report_escape(FILE *out, const char *s)
{
	if (!s)
		return;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x80) {
			/* not UTF-8, or a C1 control: U+FFFD, one per bad byte */
			unsigned cp;
			int n = cp_utf8_seq((const unsigned char *)s, &cp);
			if (n == 0 || cp < 0xA0)
				fputs("&#xFFFD;", out);
			else
				fwrite(s, 1, (size_t)n, out);
			s += n > 1 ? n - 1 : 0;
			continue;
		}
		switch (c) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default:
			if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
				fputs("&#xFFFD;", out);
			else
				fputc(c, out);
		}
	}
}

/* A number for people: 4 significant digits, "n/a" when not finite. */
static void num(FILE *out, double v)
{
	if (isfinite(v))
		fprintf(out, "%.4g", v);
	else
		fputs("n/a", out);
}

/* Any JSON value as cell text: strings escaped, arrays of strings joined. */
static void cell(FILE *out, const cJSON *v)
{
	if (cJSON_IsString(v))
		report_escape(out, v->valuestring);
	else if (cJSON_IsNumber(v))
		num(out, v->valuedouble);
	else if (cJSON_IsBool(v))
		fputs(cJSON_IsTrue(v) ? "yes" : "no", out);
	else if (cJSON_IsArray(v)) {
		const cJSON *it;
		int k = 0;
		cJSON_ArrayForEach(it, v) {
			if (k++)
				fputs(", ", out);
			cell(out, it);
		}
		if (!k)
			fputs("none", out);
	} else
		fputs("&ndash;", out);
}

const cJSON *report_config_settings(FILE *out, const cJSON *c)
{
	const cJSON *ens = cJSON_GetObjectItemCaseSensitive(c, "ensemble");
	if (ens) {
		char line[2048];
		en_members_text(ens, line, sizeof(line));
		fputs("ensemble ", out);
		report_escape(out, line);
		return ens;
	}
	static const char *const key[] = {"context_length", "num_samples", "temperature"};
	static const char *const label[] = {"context ", ", samples ", ", temperature "};
	for (int i = 0; i < 3; i++) {
		const cJSON *v = report_get(c, key[i]);
		fputs(label[i], out);
		num(out, cJSON_IsNumber(v) ? v->valuedouble : NAN);
	}
	return NULL;
}

static void td(FILE *out, const cJSON *j, const char *const *paths)
{
	fputs("<td>", out);
	cell(out, j ? first(j, paths) : NULL);
	fputs("</td>", out);
}

/* ------------------------------------------------------------ horizons */

static long lead_num(const char *s)
{
	long v = 0;
	int any = 0;
	for (; *s >= '0' && *s <= '9' && v < 100000000; s++, any = 1)
		v = v * 10 + (*s - '0');
	return any ? v : 100000000;
}

static int hcmp(const void *a, const void *b)
{
	const hstat *x = a, *y = b;
	long nx = lead_num(x->name), ny = lead_num(y->name);
	if (nx != ny)
		return nx < ny ? -1 : 1;
	return strcmp(x->name, y->name);
}

static hstat *find_h(hstat **hs, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*hs)[i].name, name) == 0)
			return &(*hs)[i];
	*hs = cp_realloc(*hs, (*n + 1) * sizeof(**hs));
	hstat *h = &(*hs)[(*n)++];
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->last_opt = -1;
	h->first_day = h->last_day = INT32_MIN;
	return h;
}

static cJSON *read_json_file(const char *path)
{
	size_t len;
	/* dc_read_file: a FIFO or device in the config dir is skipped, not read */
	char *buf = dc_read_file(path, &len, NULL, NULL);
	cJSON *j = buf ? cJSON_Parse(buf) : NULL;
	free(buf);
	if (j && !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		j = NULL;
	}
	return j;
}

static void load_configs(hstat **hs, size_t *n, const char *dir)
{
	if (!dir)
		return;
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len < 6 || len > 37 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		char name[33];
		memcpy(name, de->d_name, len - 5);
		name[len - 5] = '\0';
		if (!cp_name_ok(name))
			continue;
		size_t plen = strlen(dir) + len + 2;
		char *path = cp_malloc(plen);
		snprintf(path, plen, "%s/%s", dir, de->d_name);
		cJSON *j = read_json_file(path);
		free(path);
		const cJSON *hn = cJSON_GetObjectItemCaseSensitive(j, "horizon");
		/* Only deployed configs: {"horizon": "<name>", ...} named after it. */
		if (!cJSON_IsString(hn) || strcmp(hn->valuestring, name) != 0) {
			cJSON_Delete(j);
			continue;
		}
		hstat *h = find_h(hs, n, name);
		cJSON_Delete(h->config);
		h->config = j;
	}
	closedir(d);
}

/* ----------------------------------------------------------------- tables */

const char *report_decision(const report_rec *rec)
{
	const cJSON *oc = report_get(rec->j, "outcome");
	if (cJSON_IsString(oc) && (strcmp(oc->valuestring, "error") == 0 ||
	                           strcmp(oc->valuestring, "search_failed") == 0))
		return strcmp(oc->valuestring, "error") == 0 ? "error" : "search failed";
	if (cJSON_IsString(oc) && strcmp(oc->valuestring, "failed") == 0)
		return "failed";
	if (cJSON_IsString(oc) && strcmp(oc->valuestring, "dry_run") == 0)
		return "dry run";
	static const char *const ch[][2] = {{"challenger_started", "challenger started"},
	                                    {"challenger_scored", "challenger scored"},
	                                    {"challenger_promoted", "challenger promoted"},
	                                    {"challenger_retired", "challenger retired"}};
	for (size_t i = 0; cJSON_IsString(oc) && i < sizeof(ch) / sizeof(ch[0]); i++)
		if (!strcmp(oc->valuestring, ch[i][0]))
			return ch[i][1];
	if (rec->rollback) {
		const cJSON *src = report_get(rec->j, "deployment.source");
		return cJSON_IsString(src) && strcmp(src->valuestring, "watch") == 0 ? "rolled back by watch"
		                                                                      : "rolled back";
	}
	if (rec->deployed)
		return "deployed";
	if (rec->approved == 0)
		return "validation failed";
	if (rec->approved == 1)
		return "approved, not deployed";
	if (rec->triggered == 1)
		return "triggered";
	if (rec->triggered == 0)
		return "not triggered";
	return "recorded";
}

static const char *const F_SUMMARY_T[] = {"reason", "trigger.summary", "summary", "deployment.summary", NULL};
static const char *const F_FIRED[] = {"triggered_by", "trigger.fired", "trigger.triggered_by", NULL};
static const char *const F_DEGR[] = {"performance_degradation_pct", "trigger.performance.degradation_pct",
                                     "trigger.degradation.pct", "trigger.degradation_pct", NULL};
static const char *const F_DRIFT[] = {"drift_severity", "trigger.drift.severity", NULL};
static const char *const F_DAYS[] = {"days_since_last", "trigger.time.days_since_last",
                                     "trigger.days_since_last", NULL};

static void table_last(FILE *out, const report_data *r, const hstat *hs, size_t nh)
{
	fputs("<table><thead><tr><th>horizon</th><th>deployed config</th><th>validation RMSE</th>"
	      "<th>MAPE</th><th>deployed at</th><th>last optimization</th><th>decision</th>"
	      "<th>why</th></tr></thead><tbody>\n",
	      out);
	for (size_t i = 0; i < nh; i++) {
		const cJSON *c = hs[i].config;
		fputs("<tr><td class=\"h\">", out);
		report_escape(out, hs[i].name);
		fputs("</td><td>", out);
		if (c) {
			const cJSON *ens = report_config_settings(out, c);
			fputs("<br><span class=\"small\">model ", out);
			if (ens)
				fputs("ensemble", out);
			else
				cell(out, report_get(c, "model.dir"));
			fputs(", ", out);
			cell(out, report_get(c, "search_iterations"));
			fputs(" configs searched in ", out);
			cell(out, report_get(c, "optimization_time_seconds"));
			fputs(" s</span>", out);
		} else {
			fputs("none deployed", out);
		}
		fputs("</td>", out);
		td(out, c, P("validation_rmse"));
		td(out, c, P("validation_mape"));
		td(out, c, P("deployed_at", "timestamp"));
		const report_rec *lo = hs[i].last_opt >= 0 ? &r->recs[hs[i].last_opt] : NULL;
		fputs("<td>", out);
		if (lo) {
			report_escape(out, lo->when[0] ? lo->when : "?");
			fputs("<br><span class=\"small\">run ", out);
			cell(out, report_get(lo->j, "run_id"));
			fputs("</span>", out);
		} else {
			fputs("never", out);
		}
		fputs("</td><td>", out);
		fputs(lo ? report_decision(lo) : "&ndash;", out);
		if (lo && !isnan(num_of(lo->j, P("validation.candidate.rmse")))) {
			/* the held-out numbers beside the verdict */
			fputs("<br><span class=\"small\">held-out RMSE ", out);
			num(out, num_of(lo->j, P("validation.candidate.rmse")));
			fputs(", random walk ", out);
			num(out, num_of(lo->j, P("validation.random_walk.rmse")));
			fputs(", incumbent ", out);
			if (!isnan(num_of(lo->j, P("validation.incumbent.rmse"))))
				num(out, num_of(lo->j, P("validation.incumbent.rmse")));
			else
				fputs("none", out);
			fputs("</span>", out);
		}
		fputs("</td><td class=\"why\">", out);
		if (lo) {
			const cJSON *tb = first(lo->j, F_FIRED);
			if (tb) {
				fputs("triggered by: ", out);
				cell(out, tb);
				fputs("<br>", out);
			}
			const char *s[4] = {"trigger.summary", "validation.summary", "deployment.summary", "reason"};
			for (int k = 0; k < 4; k++) {
				const cJSON *v = report_get(lo->j, s[k]);
				if (cJSON_IsString(v) && v->valuestring[0]) {
					report_escape(out, v->valuestring);
					fputs("<br>", out);
				}
			}
		}
		fputs("</td></tr>\n", out);
	}
	fputs("</tbody></table>\n", out);
}

static void table_history(FILE *out, const report_data *r)
{
	fputs("<table><thead><tr><th>when</th><th>horizon</th><th>decision</th><th>triggered by</th>"
	      "<th>RMSE degradation %</th><th>drift</th><th>days since last</th><th>RMSE before</th>"
	      "<th>RMSE after</th><th>summary</th></tr></thead><tbody>\n",
	      out);
	int shown = 0;
	for (long k = (long)r->n - 1; k >= 0 && shown < 40; k--, shown++) {
		const report_rec *rec = &r->recs[k];
		fputs("<tr><td>", out);
		report_escape(out, rec->when[0] ? rec->when : "?");
		fputs("</td><td class=\"h\">", out);
		report_escape(out, rec->horizon[0] ? rec->horizon : "?");
		fprintf(out, "</td><td>%s</td>", report_decision(rec));
		td(out, rec->j, F_FIRED);
		td(out, rec->j, F_DEGR);
		td(out, rec->j, F_DRIFT);
		td(out, rec->j, F_DAYS);
		fputs("<td>", out);
		num(out, rec->rmse_before);
		fputs("</td><td>", out);
		num(out, rec->rmse_after);
		fputs("</td>", out);
		fputs("<td class=\"why\">", out);
		if (rec->rollback) { /* why (a watch's rule), then what was restored */
			const cJSON *why = first(rec->j, P("deployment.reason"));
			if (cJSON_IsString(why)) {
				report_escape(out, why->valuestring);
				fputs("; ", out);
			}
		}
		cell(out, first(rec->j, rec->rollback ? P("summary", "deployment.summary") : F_SUMMARY_T));
		fputs("</td></tr>\n", out);
	}
	if (!shown)
		fputs("<tr><td colspan=\"10\">no records yet</td></tr>\n", out);
	fputs("</tbody></table>\n", out);
	if (r->n > 40)
		fprintf(out, "<p class=\"note\">The %zu most recent of %zu records.</p>\n", (size_t)40, r->n);
}

/* ------------------------------------------------------------------- page */

static const char CSS[] =
	"body{font:14px/1.45 'DejaVu Sans',Arial,sans-serif;color:#0f172a;margin:20px 28px}"
	"h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:26px 0 8px;border-bottom:1px solid #e2e8f0;"
	"padding-bottom:4px}h2.sh{font-size:21px;border-bottom:3px solid #0f172a;margin-top:34px}"
	"h3{font-size:16px;margin:14px 0 6px}.meta,.note,.small{color:#475569;font-size:12px}"
	".head{border:1px solid #cbd5e1;background:#f8fafc;padding:2px 12px;margin:8px 0}.head p{margin:6px 0}"
	".warn{background:#fef3c7;border:1px solid #f59e0b;padding:6px 10px}"
	".stale,.bad{color:#fff;background:#dc2626;font-weight:bold;padding:1px 6px;border-radius:3px}"
	".unchecked{color:#7c2d12;background:#fed7aa;padding:1px 6px;border-radius:3px}"
	".fresh{color:#14532d;background:#dcfce7;padding:1px 6px;border-radius:3px}.dword{font-weight:bold}"
	".hz{border-top:1px solid #e2e8f0;margin:6px 0 14px}.dec p{margin:4px 0}"
	".pair{display:grid;grid-template-columns:1fr 1fr;gap:18px}.chart{min-width:0}.ct{font-weight:bold;margin:6px 0 2px}"
	"table{border-collapse:collapse;width:100%;font-size:12px}th,td{border:1px solid #e2e8f0;"
	"padding:4px 6px;text-align:left;vertical-align:top}th{background:#f8fafc}td.h{font-weight:bold}"
	"td.why{max-width:360px}svg{display:block;width:100%;height:auto}"
	"svg text{font-family:'DejaVu Sans',Arial,sans-serif}.hl{font-size:15px;font-weight:bold}"
	".lg,.v{font-size:12px}.ax{font-size:10px;fill:#475569}"
	"@media (max-width:900px){.pair{grid-template-columns:1fr}}"
	"@media print{@page{size:A4 landscape;margin:12mm}body{margin:0;font-size:11px}"
	"h2,h3{break-after:avoid}.hz,.head,svg,tr{break-inside:avoid}section.series{break-before:page}"
	"section.series:first-of-type{break-before:auto}a{color:inherit;text-decoration:none}"
	"*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

/* What the page knows of the horizons of r: from its records and the
 * deployed configs in config_dir (NULL: none), sorted by steps in the name.
 * *hs is the caller's to free with free_hstats. */
static size_t horizon_stats(const report_data *r, const char *config_dir, hstat **out)
{
	hstat *hs = NULL;
	size_t nh = 0;
	for (size_t k = 0; k < r->n; k++) {
		const report_rec *rec = &r->recs[k];
		if (!rec->horizon[0])
			continue;
		hstat *h = find_h(&hs, &nh, rec->horizon);
		if (rec->rollback) {
			h->rollbacks++;
			continue;
		}
		h->checks++;
		if (rec->triggered == 1) {
			h->optimized++;
			h->last_opt = (long)k;
			if (rec->day != INT32_MIN) {
				if (h->first_day == INT32_MIN)
					h->first_day = rec->day;
				h->last_day = rec->day;
			}
		}
		if (rec->approved >= 0) {
			h->validated++;
			h->approved += rec->approved;
		}
		h->deployed += rec->deployed;
	}
	load_configs(&hs, &nh, config_dir);
	if (nh)
		qsort(hs, nh, sizeof(*hs), hcmp);
	*out = hs;
	return nh;
}

static void free_hstats(hstat *hs, size_t nh)
{
	for (size_t i = 0; i < nh; i++)
		cJSON_Delete(hs[i].config);
	free(hs);
}

/* The sections of one series (one history file and its configs). */
static void series_sections(FILE *out, const report_data *r, const char *config_dir, const hstat *hs, size_t nh,
                            const char *generated_at)
{
	panel_header(out, r, generated_at);
	if (r->missing)
		fputs("<p class=\"warn\">The history file does not exist yet: no run has been recorded.</p>\n", out);
	if (r->torn_tail)
		fputs("<p class=\"warn\">The last line of the history file is incomplete (an interrupted write) "
		      "and is not shown.</p>\n", out);
	fputs("<h2>Per horizon: what is deployed, how it forecasts, how it compares</h2>\n", out);
	for (size_t i = 0; i < nh; i++)
		panel_horizon(out, r, &hs[i]);
	if (!nh)
		fputs("<p class=\"note\">No horizons recorded yet.</p>\n", out);
	panel_drift(out, r);

	fputs("<h2>Optimization frequency per horizon</h2>\n", out);
	if (nh) {
		chart_frequency(out, hs, nh);
		fputs("<table><thead><tr><th>horizon</th><th>checks</th><th>optimizations</th><th>deployments</th>"
		      "<th>rollbacks</th><th>first / last optimization</th><th>mean days between</th></tr></thead>"
		      "<tbody>\n", out);
		for (size_t i = 0; i < nh; i++) {
			char a[11] = "&ndash;", b[11] = "&ndash;";
			fputs("<tr><td class=\"h\">", out);
			report_escape(out, hs[i].name);
			fprintf(out, "</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td>", hs[i].checks, hs[i].optimized,
			        hs[i].deployed, hs[i].rollbacks);
			if (hs[i].first_day != INT32_MIN) {
				cp_format_date(hs[i].first_day, a);
				cp_format_date(hs[i].last_day, b);
			}
			fprintf(out, "<td>%s / %s</td><td>", a, b);
			if (hs[i].optimized > 1 && hs[i].first_day != INT32_MIN)
				num(out, (double)(hs[i].last_day - hs[i].first_day) / (hs[i].optimized - 1));
			else
				fputs("&ndash;", out);
			fputs("</td></tr>\n", out);
		}
		fputs("</tbody></table>\n", out);
	} else {
		fputs("<p class=\"note\">No horizons recorded yet.</p>\n", out);
	}

	fputs("<h2>Validation success rate</h2>\n", out);
	if (nh)
		chart_success(out, hs, nh);
	fputs("<h2>RMSE before and after each deployment</h2>\n", out);
	if (nh)
		chart_rmse(out, r, hs, nh);
	fputs("<h2>Deployed configs and last optimization</h2>\n", out);
	if (config_dir) {
		fputs("<p class=\"note\">Deployed configs in ", out);
		report_escape(out, config_dir);
		fputs(".</p>\n", out);
	}
	table_last(out, r, hs, nh);
	fputs("<h2>Trigger history</h2>\n", out);
	if (nh)
		chart_timeline(out, r, hs, nh);
	table_history(out, r);
}

int report_html(FILE *out, const report_data *r, const char *config_dir, const char *generated_at, cp_err *e)
{
	return report_html_many(out, r, &config_dir, 1, generated_at, e);
}

int report_html_many(FILE *out, const report_data *rs, const char *const *config_dirs, size_t n,
                     const char *generated_at, cp_err *e)
{
	hstat **hs = cp_calloc(n ? n : 1, sizeof(*hs));
	size_t *nh = cp_calloc(n ? n : 1, sizeof(*nh));
	for (size_t s = 0; s < n; s++)
		nh[s] = horizon_stats(&rs[s], config_dirs[s], &hs[s]);

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
	      "img-src data:\">\n<title>chronopt report</title>\n<style>",
	      out);
	fputs(CSS, out);
	fputs("</style>\n</head>\n<body>\n<h1>chronopt &mdash; ", out);
	size_t named = 0;
	for (size_t s = 0; s < n && named < 6; s++) {
		const char *nm = report_series_name(&rs[s]);
		if (!nm)
			continue;
		fputs(named++ ? ", " : "", out);
		report_escape(out, nm);
	}
	if (n > 6 && named == 6)
		fprintf(out, " and %zu more", n - 6);
	if (!named)
		fputs("optimization report", out);
	fputs("</h1>\n<p class=\"meta\">", out);
	if (n == 1) {
		fputs("History ", out);
		report_escape(out, rs[0].path ? rs[0].path : "?");
		fprintf(out, " (%zu records)", rs[0].n);
		if (config_dirs[0]) {
			fputs(", deployed configs in ", out);
			report_escape(out, config_dirs[0]);
		}
		fputs(". ", out);
	} else {
		fprintf(out, "%zu series. ", n);
	}
	fputs("Generated ", out);
	report_escape(out, generated_at ? generated_at : "?");
	fputs(".</p>\n", out);
	if (n > 1)
		panel_overview(out, rs, (const hstat *const *)hs, nh, n, generated_at);
	for (size_t s = 0; s < n; s++) {
		fprintf(out, "<section class=\"series\" id=\"series-%zu\">\n", s + 1);
		if (n > 1) {
			const char *nm = report_series_name(&rs[s]);
			fputs("<h2 class=\"sh\">Series ", out);
			report_escape(out, nm ? nm : rs[s].path ? rs[s].path : "?");
			fputs("</h2>\n", out);
		}
		series_sections(out, &rs[s], config_dirs[s], hs[s], nh[s], generated_at);
		fputs("</section>\n", out);
	}
	fputs("<p class=\"meta\">Made by opt-report from the history file; static page, no scripts, "
	      "no network.</p>\n</body>\n</html>\n",
	      out);
	for (size_t s = 0; s < n; s++)
		free_hstats(hs[s], nh[s]);
	free(hs);
	free(nh);
	if (ferror(out))
		return cp_fail(e, CP_IO, "error writing the report");
	return 0;
}
