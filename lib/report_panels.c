/* report_panels.c — what the dashboard (report.c) shows first: the header
 * of each series (last observation, stale flag, model, run), the overview
 * of several series, and per horizon the last decision with its held-out
 * numbers, the deployed config's forecasts against the actuals, held-out
 * RMSE over time against the random walk, and the drift statistics over
 * time.  Everything is read from the history records (opt-history(1)); the
 * fields are listed in chronopt-envelope(7).  See report_internal.h. */
#include "report.h"
#include "ensemble.h"
#include "report_internal.h"
#include "jsonutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SLOTS 26 /* runs shown in the charts over time */

static const char *const C_ACT = "#0f172a", *const C_MED = "#2563eb", *const C_B80 = "#93c5fd",
                         *const C_B95 = "#dbeafe", *const C_RW = "#b45309", *const C_INC = "#64748b",
                         *const C_DEP = "#16a34a", *const C_PERF = "#7c3aed";

/* ---------------------------------------------------------------- lookup */

static const cJSON *at(const cJSON *j, const char *path)
{
	const cJSON *v = cp_json_path(j, path);
	return v && !cJSON_IsNull(v) ? v : NULL;
}

static const char *str_at(const cJSON *j, const char *path)
{
	const cJSON *v = at(j, path);
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static double num_at(const cJSON *j, const char *path)
{
	const cJSON *v = at(j, path);
	return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : NAN;
}

static void num(FILE *out, double v)
{
	if (isfinite(v))
		fprintf(out, "%.4g", v);
	else
		fputs("n/a", out);
}

static void text(FILE *out, double x, double y, const char *anchor, const char *cls, const char *s)
{
	fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" class=\"%s\">", x, y, anchor, cls);
	report_escape(out, s);
	fputs("</text>", out);
}

/* The newest record of r that names a series, or NULL. */
static const report_rec *newest_with_series(const report_data *r)
{
	for (size_t k = r->n; k-- > 0;)
		if (str_at(r->recs[k].j, "series.id") || str_at(r->recs[k].j, "series.path"))
			return &r->recs[k];
	return NULL;
}

const char *report_series_name(const report_data *r)
{
	const report_rec *rec = newest_with_series(r);
	if (!rec)
		return NULL;
	const char *id = str_at(rec->j, "series.id");
	return id ? id : str_at(rec->j, "series.path");
}

/* Days from the last observation to the page's date (generated_at), or
 * INT32_MIN when either is unknown. */
static int32_t age_days(const cJSON *j, const char *generated_at)
{
	const char *last = str_at(j, "series.last_date");
	int32_t a, b;
	char d[11];
	if (!last || !generated_at || strlen(generated_at) < 10)
		return INT32_MIN;
	memcpy(d, generated_at, 10);
	d[10] = '\0';
	if (cp_parse_date(last, &a) < 0 || cp_parse_date(d, &b) < 0)
		return INT32_MIN;
	return b - a;
}

/* "stale", "fresh" or "unchecked" as the run's data check judged it (a
 * check that was off, stale_after_steps null, judged nothing). */
static const char *staleness(const cJSON *j)
{
	const cJSON *s = at(j, "series.stale");
	if (cJSON_IsBool(s) && (cJSON_IsTrue(s) || cJSON_IsNumber(at(j, "series.stale_after_steps"))))
		return cJSON_IsTrue(s) ? "stale" : "fresh";
	return "unchecked";
}

/* ---------------------------------------------------------------- header */

void panel_header(FILE *out, const report_data *r, const char *generated_at)
{
	const report_rec *rec = newest_with_series(r);
	fputs("<div class=\"head\">", out);
	if (!rec) {
		fputs("<p>No series recorded yet", out);
		if (r->path) {
			fputs(" (history ", out);
			report_escape(out, r->path);
			fputs(")", out);
		}
		fputs(".</p></div>\n", out);
		return;
	}
	const cJSON *j = rec->j;
	const char *id = str_at(j, "series.id"), *path = str_at(j, "series.path");
	const char *st = staleness(j);
	int32_t age = age_days(j, generated_at);
	fputs("<p><span class=\"hl\">Series ", out);
	report_escape(out, id ? id : path);
	fputs("</span> &mdash; last observation <b>", out);
	const char *last = str_at(j, "series.last_date");
	report_escape(out, last ? last : "unknown");
	fputs("</b>", out);
	if (age != INT32_MIN)
		fprintf(out, ", %ld day%s before this page", (long)age, age == 1 ? "" : "s");
	double len = num_at(j, "series.length");
	if (!isnan(len))
		fprintf(out, " (%.0f observations", len);
	const char *freq = str_at(j, "series.frequency");
	if (freq) {
		fputs(isnan(len) ? " (" : ", ", out);
		report_escape(out, freq);
	}
	if (!isnan(len) || freq)
		fputs(")", out);
	if (!strcmp(st, "stale")) {
		fputs(" <span class=\"stale\">STALE", out);
		double since = num_at(j, "series.steps_since_last"), after = num_at(j, "series.stale_after_steps");
		if (!isnan(since) && !isnan(after))
			fprintf(out, ": %.0f steps without a new observation, the limit is %.0f", since, after);
		fputs("</span>", out);
	} else if (!strcmp(st, "unchecked")) {
		fputs(" <span class=\"unchecked\">freshness not checked by the run (stale check off)</span>", out);
	} else {
		fputs(" <span class=\"fresh\">fresh</span>", out);
	}
	fputs("<br>model <b>", out);
	const char *model = str_at(j, "model.dir");
	report_escape(out, model ? model : "unknown");
	fputs("</b> &middot; last run <b>", out);
	const char *run = str_at(j, "run_id");
	report_escape(out, run ? run : "?");
	fputs("</b> at ", out);
	report_escape(out, rec->when[0] ? rec->when : "?");
	fputs("<br><span class=\"small\">series ", out);
	report_escape(out, path ? path : "?");
	fputs(" &middot; history ", out);
	report_escape(out, r->path ? r->path : "?");
	fprintf(out, " (%zu records)</span></p></div>\n", r->n);
}

/* ------------------------------------------------------------- overview */

void panel_overview(FILE *out, const report_data *rs, const hstat *const *hs, const size_t *nh, size_t n,
                    const char *generated_at)
{
	fputs("<h2>Overview</h2>\n<table class=\"ov\"><thead><tr><th>series</th><th>last observation</th>"
	      "<th>data</th><th>model</th><th>last run</th><th>horizons: last decision</th><th>failed</th>"
	      "</tr></thead><tbody>\n",
	      out);
	for (size_t s = 0; s < n; s++) {
		const report_data *r = &rs[s];
		const report_rec *rec = newest_with_series(r);
		const cJSON *j = rec ? rec->j : NULL;
		const char *name = report_series_name(r);
		fprintf(out, "<tr><td class=\"h\"><a href=\"#series-%zu\">", s + 1);
		report_escape(out, name ? name : r->path ? r->path : "?");
		fputs("</a></td><td>", out);
		const char *last = j ? str_at(j, "series.last_date") : NULL;
		report_escape(out, last ? last : "unknown");
		int32_t age = j ? age_days(j, generated_at) : INT32_MIN;
		if (age != INT32_MIN)
			fprintf(out, "<br><span class=\"small\">%ld days ago</span>", (long)age);
		fputs("</td><td>", out);
		const char *st = j ? staleness(j) : "unchecked";
		fprintf(out, "<span class=\"%s\">%s</span></td><td>", st,
		        !strcmp(st, "stale") ? "STALE" : !strcmp(st, "fresh") ? "fresh" : "not checked");
		const char *model = j ? str_at(j, "model.dir") : NULL;
		report_escape(out, model ? model : "unknown");
		fputs("</td><td>", out);
		const char *run = j ? str_at(j, "run_id") : NULL;
		report_escape(out, run ? run : "none");
		if (rec && rec->when[0]) {
			fputs("<br><span class=\"small\">", out);
			report_escape(out, rec->when);
			fputs("</span>", out);
		}
		fputs("</td><td>", out);
		int failed = 0;
		for (size_t i = 0; i < nh[s]; i++) {
			const report_rec *lr = NULL;
			for (size_t k = r->n; k-- > 0;)
				if (!strcmp(r->recs[k].horizon, hs[s][i].name)) {
					lr = &r->recs[k];
					break;
				}
			if (i)
				fputs("<br>", out);
			fputs("<b>", out);
			report_escape(out, hs[s][i].name);
			fputs("</b> ", out);
			const char *d = lr ? report_decision(lr) : "nothing recorded";
			fputs(d, out);
			if (lr && (!strcmp(d, "failed") || !strcmp(d, "error") || !strcmp(d, "search failed")))
				failed++;
			fputs(hs[s][i].config ? " <span class=\"small\">(a config is deployed)</span>"
			                      : " <span class=\"small\">(none deployed)</span>", out);
		}
		if (!nh[s])
			fputs("&ndash;", out);
		fprintf(out, "</td><td%s>%d</td></tr>\n", failed ? " class=\"bad\"" : "", failed);
	}
	fputs("</tbody></table>\n", out);
}

/* ------------------------------------------------------------ the plots */

typedef struct {
	const char *name;
	const char *color;
	int dashed;       /* line style */
	int hollow;       /* markers */
	double v[MAX_SLOTS];
	const char *mark[MAX_SLOTS]; /* per-point fill, NULL: the series' colour */
} pseries;

/* Round a span to a 1-2-5 step giving about n ticks. */
static double nice_step(double span, int n)
{
	double raw = span / n, p = pow(10, floor(log10(raw))), m = raw / p;
	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/* A chart with one slot per run (or window) left to right: slot i is drawn
 * at its own x, and the series of one slot are spread apart horizontally,
 * so no two marks fall on the same spot however close their values or
 * dates.  labels[i] is written under every k-th slot (k chosen so labels
 * never overlap).  W, H: the viewBox. */
static void slot_plot(FILE *out, const char *aria, double W, double H, int nslot, char (*labels)[11],
                      const pseries *ps, int nps, int zero_based)
{
	double left = 58, right = 34, top = 30, bottom = 36;
	double lo = INFINITY, hi = -INFINITY;
	for (int k = 0; k < nps; k++)
		for (int i = 0; i < nslot; i++)
			if (isfinite(ps[k].v[i])) {
				lo = fmin(lo, ps[k].v[i]);
				hi = fmax(hi, ps[k].v[i]);
			}
	fprintf(out, "<svg role=\"img\" aria-label=\"%s\" viewBox=\"0 0 %.0f %.0f\" "
	             "xmlns=\"http://www.w3.org/2000/svg\">\n", aria, W, H);
	/* legend: one entry per series, spaced by its length, wrapped to a
	 * new line where it would run past the right edge */
	double lx = left, ly = 11;
	for (int k = 0; k < nps; k++) {
		double w = 34 + 7.4 * (double)strlen(ps[k].name);
		if (lx > left && lx + w > W - 4) {
			lx = left;
			ly += 17;
		}
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s/>"
		             "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\" stroke=\"%s\"/>",
		        lx, ly, lx + 18, ly, ps[k].color, ps[k].dashed ? " stroke-dasharray=\"4 3\"" : "", lx + 9, ly,
		        ps[k].hollow ? "#fff" : ps[k].color, ps[k].color);
		text(out, lx + 23, ly + 4, "start", "lg", ps[k].name);
		lx += w;
	}
	top = ly + 19;
	double pw = W - left - right, ph = H - top - bottom;
	fputc('\n', out);
	if (!(lo <= hi) || nslot == 0) {
		text(out, W / 2, top + ph / 2, "middle", "v", "nothing recorded yet");
		fputs("</svg>\n", out);
		return;
	}
	if (zero_based && lo > 0)
		lo = 0;
	if (hi - lo < 1e-12 * fmax(1, fabs(hi))) {
		double pad = fabs(hi) > 0 ? fabs(hi) * 0.05 : 1;
		lo -= pad;
		hi += pad;
	} else if (!zero_based) {
		double pad = (hi - lo) * 0.08;
		lo -= pad;
		hi += pad;
	}
	double step = nice_step(hi - lo, 4);
	double t0 = ceil(lo / step) * step;
	fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#cbd5e1\"/>",
	        left, top, pw, ph);
	/* at most 12 gridlines: a step too small to move t (values of 1e15
	 * with a span of 1e-3) must not loop forever */
	for (int g = 0; g < 12 && t0 + g * step <= hi + step * 1e-9; g++) {
		double t = t0 + g * step;
		double y = top + ph * (1 - (t - lo) / (hi - lo));
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eef2f7\"/>", left, y,
		        left + pw, y);
		char b[32];
		snprintf(b, sizeof b, "%.4g", fabs(t) < step * 1e-9 ? 0.0 : t);
		text(out, left - 5, y + 3.5, "end", "ax", b);
	}
	double sw = pw / nslot;
	int every = (int)ceil(64.0 / sw);
	if (every < 1)
		every = 1;
	for (int i = 0; i < nslot; i++) {
		double x = left + sw * (i + 0.5);
		/* the newest slot is always labelled; the others every `every` back from it */
		if ((nslot - 1 - i) % every == 0) {
			fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#94a3b8\"/>", x,
			        top + ph, x, top + ph + 4);
			text(out, x, top + ph + 16, "middle", "ax", labels[i]);
		}
	}
	fputc('\n', out);
	double spread = fmin(7.0, sw / (nps + 1));
	for (int k = 0; k < nps; k++) {
		double dx = (k - (nps - 1) / 2.0) * spread;
		/* the line through the series' points, broken where one is missing */
		int open = 0;
		for (int i = 0; i < nslot; i++) {
			if (!isfinite(ps[k].v[i])) {
				if (open)
					fputs("\"/>", out);
				open = 0;
				continue;
			}
			double x = left + sw * (i + 0.5) + dx, y = top + ph * (1 - (ps[k].v[i] - lo) / (hi - lo));
			if (!open)
				fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"%s points=\"",
				        ps[k].color, ps[k].dashed ? " stroke-dasharray=\"4 3\"" : "");
			fprintf(out, "%.1f,%.1f ", x, y);
			open = 1;
		}
		if (open)
			fputs("\"/>", out);
		for (int i = 0; i < nslot; i++) {
			if (!isfinite(ps[k].v[i]))
				continue;
			double x = left + sw * (i + 0.5) + dx, y = top + ph * (1 - (ps[k].v[i] - lo) / (hi - lo));
			const char *fill = ps[k].mark[i] ? ps[k].mark[i] : ps[k].hollow ? "#fff" : ps[k].color;
			fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\" stroke=\"%s\"><title>", x, y,
			        fill, ps[k].color);
			report_escape(out, labels[i]);
			fprintf(out, " %s %.6g</title></circle>", ps[k].name, ps[k].v[i]);
		}
		fputc('\n', out);
	}
	fputs("</svg>\n", out);
}

static void day_label(const report_rec *rec, char b[11])
{
	if (rec->day != INT32_MIN)
		cp_format_date(rec->day, b);
	else
		snprintf(b, 11, "?");
}

/* ------------------------------------------------------------- drift */

void panel_drift(FILE *out, const report_data *r)
{
	/* one slot per run: the drift statistics are the series', the same
	 * for every horizon of a run */
	size_t idx[MAX_SLOTS];
	int n = 0;
	for (size_t k = r->n; k-- > 0 && n < MAX_SLOTS;) {
		const cJSON *j = r->recs[k].j;
		if (!cJSON_IsNumber(at(j, "drift.ks_statistic")))
			continue;
		const char *run = str_at(j, "run_id");
		int dup = 0;
		for (int m = 0; m < n && !dup; m++) {
			const char *o = str_at(r->recs[idx[m]].j, "run_id");
			dup = run && o && !strcmp(run, o);
		}
		if (!dup)
			idx[n++] = k;
	}
	fputs("<h3>Drift of the recent log-returns, per run</h3>\n", out);
	if (!n) {
		fputs("<p class=\"note\">No drift statistics recorded yet (recorded by runs since this dashboard; "
		      "see drift in chronopt-envelope(7)).</p>\n", out);
		return;
	}
	pseries ps[3];
	memset(ps, 0, sizeof ps);
	ps[0].name = "KS statistic D";
	ps[0].color = C_MED;
	ps[1].name = "PSI";
	ps[1].color = C_RW;
	ps[1].dashed = 1;
	ps[2].name = "volatility ratio (recent sd / baseline sd)";
	ps[2].color = C_INC;
	ps[2].hollow = 1;
	char labels[MAX_SLOTS][11];
	for (int i = 0; i < n; i++) {
		const report_rec *rec = &r->recs[idx[n - 1 - i]]; /* oldest first */
		day_label(rec, labels[i]);
		ps[0].v[i] = num_at(rec->j, "drift.ks_statistic");
		const char *sev = str_at(rec->j, "drift.severity");
		ps[0].mark[i] = !sev || !strcmp(sev, "NONE") ? NULL
		                : !strcmp(sev, "LOW")        ? "#facc15"
		                : !strcmp(sev, "MEDIUM")     ? "#f97316"
		                                             : "#dc2626";
		ps[1].v[i] = num_at(rec->j, "drift.psi");
		double a = num_at(rec->j, "drift.recent_sd"), b = num_at(rec->j, "drift.baseline_sd");
		ps[2].v[i] = b > 0 ? a / b : NAN;
	}
	slot_plot(out, "drift statistics per run", 1200, 230, n, labels, ps, 3, 1);
	const report_rec *lr = &r->recs[idx[0]];
	fputs("<p class=\"note\">A KS point filled yellow, orange or red: severity LOW, MEDIUM or HIGH. Last run: "
	      "severity ", out);
	const char *sev = str_at(lr->j, "drift.severity");
	report_escape(out, sev ? sev : "?");
	fputs(", KS D ", out);
	num(out, num_at(lr->j, "drift.ks_statistic"));
	fputs(" (p ", out);
	num(out, num_at(lr->j, "drift.ks_pvalue"));
	fputs("), PSI ", out);
	num(out, num_at(lr->j, "drift.psi"));
	fputs(", recent window ", out);
	report_escape(out, str_at(lr->j, "drift.recent_start") ? str_at(lr->j, "drift.recent_start") : "?");
	fputs(" to ", out);
	report_escape(out, str_at(lr->j, "drift.recent_end") ? str_at(lr->j, "drift.recent_end") : "?");
	fputs(".</p>\n", out);
}

/* --------------------------------------------------------- one horizon */

/* The newest record of horizon h with forecasts of the config that is
 * deployed after it: the candidate's when that record deployed it, else
 * the incumbent's (the deployed config, scored on the same newer windows).
 * *who says which.  NULL when none. */
static const cJSON *deployed_forecasts(const report_data *r, const char *h, const report_rec **from,
                                       const char **who)
{
	for (size_t k = r->n; k-- > 0;) {
		const report_rec *rec = &r->recs[k];
		if (strcmp(rec->horizon, h) != 0)
			continue;
		if (rec->rollback)
			return NULL; /* what is live now was never scored after the rollback */
		const cJSON *f = NULL;
		if (rec->deployed && cJSON_IsArray(f = at(rec->j, "validation.candidate.forecasts"))) {
			*who = "candidate";
		} else if (cJSON_IsArray(f = at(rec->j, "validation.incumbent.forecasts"))) {
			*who = "incumbent";
		} else {
			continue;
		}
		*from = rec;
		return f;
	}
	return NULL;
}

static void forecast_chart(FILE *out, const report_data *r, const hstat *h)
{
	const report_rec *from = NULL;
	const char *who = NULL;
	const cJSON *fa = deployed_forecasts(r, h->name, &from, &who);
	int n = fa ? cJSON_GetArraySize(fa) : 0;
	if (n > 60)
		n = 60;
	if (!n) {
		fputs("<div class=\"chart\"><p class=\"ct\">Deployed config: forecasts against actuals</p>"
		      "<p class=\"note\">No forecasts of the deployed config recorded yet: they come with the next "
		      "validation of this horizon (validation.candidate/incumbent.forecasts).</p></div>\n",
		      out);
		return;
	}
	int total = cJSON_GetArraySize(fa);
	typedef struct {
		double a, m, l8, h8, l9, h9;
		char d[11];
	} pt;
	pt *p = cp_calloc((size_t)n, sizeof(*p));
	double lo = INFINITY, hi = -INFINITY;
	for (int i = 0; i < n; i++) {
		const cJSON *o = cJSON_GetArrayItem(fa, total - n + i);
		p[i].a = num_at(o, "actual");
		p[i].m = num_at(o, "median");
		p[i].l8 = num_at(o, "lo80");
		p[i].h8 = num_at(o, "hi80");
		p[i].l9 = num_at(o, "lo95");
		p[i].h9 = num_at(o, "hi95");
		const char *d = str_at(o, "target_date");
		snprintf(p[i].d, sizeof p[i].d, "%s", d ? d : "?");
		double v[6] = {p[i].a, p[i].m, p[i].l8, p[i].h8, p[i].l9, p[i].h9};
		for (int k = 0; k < 6; k++)
			if (isfinite(v[k])) {
				lo = fmin(lo, v[k]);
				hi = fmax(hi, v[k]);
			}
	}
	fputs("<div class=\"chart\"><p class=\"ct\">Deployed config: forecast ", out);
	report_escape(out, h->name);
	fputs(" ahead against the actual, by target date</p>\n", out);
	double W = 600, H = 270, left = 58, right = 34, top = 30, bottom = 36;
	double pw = W - left - right, ph = H - top - bottom;
	fprintf(out, "<svg role=\"img\" aria-label=\"forecasts against actuals\" viewBox=\"0 0 %.0f %.0f\" "
	             "xmlns=\"http://www.w3.org/2000/svg\">\n", W, H);
	fprintf(out, "<rect x=\"%.0f\" y=\"5\" width=\"16\" height=\"10\" fill=\"%s\"/>", left, C_B95);
	text(out, left + 20, 14, "start", "lg", "95 %");
	fprintf(out, "<rect x=\"%.0f\" y=\"5\" width=\"16\" height=\"10\" fill=\"%s\"/>", left + 62, C_B80);
	text(out, left + 82, 14, "start", "lg", "80 %");
	fprintf(out, "<circle cx=\"%.0f\" cy=\"10\" r=\"3.5\" fill=\"%s\"/>", left + 132, C_MED);
	text(out, left + 140, 14, "start", "lg", "median forecast");
	fprintf(out, "<rect x=\"%.0f\" y=\"6.5\" width=\"7\" height=\"7\" fill=\"%s\"/>", left + 256, C_ACT);
	text(out, left + 268, 14, "start", "lg", "actual");
	if (!(lo <= hi)) {
		text(out, W / 2, H / 2, "middle", "v", "no finite value");
		fputs("</svg></div>\n", out);
		free(p);
		return;
	}
	double pad = hi > lo ? (hi - lo) * 0.06 : fmax(fabs(hi) * 0.05, 1);
	lo -= pad;
	hi += pad;
	double step = nice_step(hi - lo, 4), sw = pw / n;
#define FX(i) (left + sw * ((i) + 0.5))
#define FY(v) (top + ph * (1 - ((v) - lo) / (hi - lo)))
	fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#cbd5e1\"/>",
	        left, top, pw, ph);
	for (int g = 0; g < 12 && ceil(lo / step) * step + g * step <= hi; g++) {
		double t = ceil(lo / step) * step + g * step;
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eef2f7\"/>", left, FY(t),
		        left + pw, FY(t));
		char b[32];
		snprintf(b, sizeof b, "%.5g", t);
		text(out, left - 5, FY(t) + 3.5, "end", "ax", b);
	}
	/* the bands: one bar per target date (never a polygon across a gap) */
	double bw = fmax(1.5, sw * 0.8);
	for (int i = 0; i < n; i++) {
		if (isfinite(p[i].l9) && isfinite(p[i].h9))
			fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>",
			        FX(i) - bw / 2, FY(p[i].h9), bw, FY(p[i].l9) - FY(p[i].h9), C_B95);
		if (isfinite(p[i].l8) && isfinite(p[i].h8))
			fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>",
			        FX(i) - bw / 2, FY(p[i].h8), bw, FY(p[i].l8) - FY(p[i].h8), C_B80);
	}
	fputc('\n', out);
	/* actual: a line of squares; median: dots beside them, never on top */
	double dx = fmin(3.0, sw / 4);
	fputs("<polyline fill=\"none\" stroke=\"#0f172a\" stroke-width=\"1.2\" points=\"", out);
	for (int i = 0; i < n; i++)
		if (isfinite(p[i].a))
			fprintf(out, "%.1f,%.1f ", FX(i) - dx, FY(p[i].a));
	fputs("\"/>\n", out);
	for (int i = 0; i < n; i++) {
		if (isfinite(p[i].a)) {
			fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"5\" height=\"5\" fill=\"%s\"><title>", FX(i) - dx - 2.5,
			        FY(p[i].a) - 2.5, C_ACT);
			report_escape(out, p[i].d);
			fprintf(out, " actual %.6g</title></rect>", p[i].a);
		}
		if (isfinite(p[i].m)) {
			fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.8\" fill=\"%s\"><title>", FX(i) + dx, FY(p[i].m),
			        C_MED);
			report_escape(out, p[i].d);
			fprintf(out, " median %.6g, 80 %% %.6g to %.6g, 95 %% %.6g to %.6g</title></circle>", p[i].m, p[i].l8,
			        p[i].h8, p[i].l9, p[i].h9);
		}
	}
	int every = (int)ceil(70.0 / sw);
	for (int i = n - 1; i >= 0; i -= every) {
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#94a3b8\"/>", FX(i), top + ph,
		        FX(i), top + ph + 4);
		text(out, FX(i), top + ph + 16, "middle", "ax", p[i].d);
	}
#undef FX
#undef FY
	fputs("\n</svg>\n<p class=\"note\">", out);
	int in80 = 0, in95 = 0, k80 = 0, k95 = 0;
	for (int i = 0; i < n; i++) {
		if (isfinite(p[i].a) && isfinite(p[i].l8) && isfinite(p[i].h8))
			k80++, in80 += p[i].l8 <= p[i].a && p[i].a <= p[i].h8;
		if (isfinite(p[i].a) && isfinite(p[i].l9) && isfinite(p[i].h9))
			k95++, in95 += p[i].l9 <= p[i].a && p[i].a <= p[i].h9;
	}
	fprintf(out, "%d held-out origins, the %s of run ", n, who);
	const char *run = str_at(from->j, "run_id");
	report_escape(out, run ? run : "?");
	fputs(" (", out);
	report_escape(out, from->when[0] ? from->when : "?");
	fputs(")", out);
	if (k80)
		fprintf(out, "; the actual fell in the 80 %% band %d of %d times", in80, k80);
	if (k95)
		fprintf(out, ", in the 95 %% band %d of %d", in95, k95);
	fputs(".</p></div>\n", out);
	free(p);
}

static void rmse_chart(FILE *out, const report_data *r, const hstat *h)
{
	size_t idx[MAX_SLOTS];
	int n = 0;
	for (size_t k = r->n; k-- > 0 && n < MAX_SLOTS;) {
		const report_rec *rec = &r->recs[k];
		if (strcmp(rec->horizon, h->name) != 0)
			continue;
		if (isfinite(num_at(rec->j, "validation.candidate.rmse")) || isfinite(num_at(rec->j, "performance.rmse")))
			idx[n++] = k;
	}
	pseries ps[4];
	memset(ps, 0, sizeof ps);
	ps[0].name = "candidate (green: deployed)";
	ps[0].color = C_MED;
	ps[0].hollow = 1;
	ps[1].name = "incumbent";
	ps[1].color = C_INC;
	ps[2].name = "random walk";
	ps[2].color = C_RW;
	ps[2].dashed = 1;
	ps[3].name = "deployed, on new origins";
	ps[3].color = C_PERF;
	char labels[MAX_SLOTS][11];
	for (int i = 0; i < n; i++) {
		const report_rec *rec = &r->recs[idx[n - 1 - i]];
		day_label(rec, labels[i]);
		ps[0].v[i] = num_at(rec->j, "validation.candidate.rmse");
		ps[0].mark[i] = rec->deployed ? C_DEP : NULL;
		ps[1].v[i] = num_at(rec->j, "validation.incumbent.rmse");
		ps[2].v[i] = num_at(rec->j, "validation.random_walk.rmse");
		ps[3].v[i] = num_at(rec->j, "performance.rmse");
	}
	fputs("<div class=\"chart\"><p class=\"ct\">Held-out RMSE per optimization against the random walk</p>\n",
	      out);
	slot_plot(out, "held-out RMSE over time", 600, 270, n, labels, ps, 4, 0);
	fputs("<p class=\"note\">One slot per run that validated or checked this horizon, oldest left; "
	      "&ldquo;deployed, on new origins&rdquo; is the trigger's performance check.</p></div>\n",
	      out);
}

/* The last decision of horizon h in words, with its held-out numbers. */
static void decision_box(FILE *out, const report_data *r, const hstat *h)
{
	const report_rec *lr = NULL;
	for (size_t k = r->n; k-- > 0 && !lr;)
		if (!strcmp(r->recs[k].horizon, h->name))
			lr = &r->recs[k];
	fputs("<div class=\"dec\"><p><b>Deployed:</b> ", out);
	const cJSON *c = h->config;
	if (c) {
		report_config_settings(out, c);
		fputs(" &middot; held-out RMSE ", out);
		num(out, num_at(c, "validation_rmse"));
		fputs(" &middot; since ", out);
		const char *ts = str_at(c, "deployed_at") ? str_at(c, "deployed_at") : str_at(c, "timestamp");
		report_escape(out, ts ? ts : "?");
	} else {
		fputs("nothing", out);
	}
	fputs("</p><p><b>Last decision:</b> ", out);
	if (!lr) {
		fputs("none recorded</p></div>\n", out);
		return;
	}
	const char *d = report_decision(lr);
	int bad = !strcmp(d, "failed") || !strcmp(d, "error") || !strcmp(d, "search failed");
	fprintf(out, "<span class=\"%s\">%s</span> at ", bad ? "bad" : "dword", d);
	report_escape(out, lr->when[0] ? lr->when : "?");
	fputs(" (run ", out);
	const char *run = str_at(lr->j, "run_id");
	report_escape(out, run ? run : "?");
	fputs(")", out);
	double cand = num_at(lr->j, "validation.candidate.rmse");
	if (isfinite(cand)) {
		double rw = num_at(lr->j, "validation.random_walk.rmse"), inc = num_at(lr->j, "validation.incumbent.rmse");
		fputs("<br>held-out RMSE: candidate <b>", out);
		num(out, cand);
		fputs("</b>, random walk <b>", out);
		num(out, rw);
		fputs("</b>", out);
		if (isfinite(rw) && rw > 0)
			fprintf(out, " (%+.1f %%)", 100 * (cand / rw - 1));
		fputs(", incumbent ", out);
		if (isfinite(inc))
			num(out, inc);
		else
			fputs("none", out);
		const char *w0 = str_at(lr->j, "validation.windows.first_date"),
		           *w1 = str_at(lr->j, "validation.windows.last_date");
		double nw = num_at(lr->j, "validation.windows.count");
		if (!isnan(nw) && w0 && w1) {
			fprintf(out, "; %.0f windows, origins ", nw);
			report_escape(out, w0);
			fputs(" to ", out);
			report_escape(out, w1);
		}
	}
	const char *why = str_at(lr->j, "validation.summary");
	if (!why)
		why = str_at(lr->j, "reason");
	if (why) {
		fputs("<br><span class=\"small\">", out);
		report_escape(out, why);
		fputs("</span>", out);
	}
	fputs("</p></div>\n", out);
}

void panel_horizon(FILE *out, const report_data *r, const hstat *h)
{
	fputs("<div class=\"hz\"><h3>", out);
	report_escape(out, h->name);
	fputs("</h3>\n", out);
	decision_box(out, r, h);
	panel_challenger(out, r, h);
	fputs("<div class=\"pair\">\n", out);
	forecast_chart(out, r, h);
	rmse_chart(out, r, h);
	fputs("</div>\n", out);
	panel_pareto(out, r, h);
	fputs("</div>\n", out);
}
