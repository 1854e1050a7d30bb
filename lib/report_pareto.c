/* report_pareto.c — the dashboard's view of a multi-objective search: the
 * newest history record of a horizon whose "pareto" is an object (opt-search
 * --objectives, recorded by opt-history) is drawn as a scatter of search RMSE
 * against cost (or seconds), every scored config a point, the Pareto front
 * highlighted and joined in order of cost, the chosen candidate ringed and
 * labelled, and the tolerance of the choice rule as a dashed line.  Numbers
 * that are not finite, and points that are not objects with a numeric trial,
 * rmse and cost, are left out: the record is input, not trusted. */
#include "report.h"
#include "report_internal.h"
#include "jsonutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_POINTS 4096 /* a larger search is drawn by its first points */

typedef struct {
	double trial, rmse, cost;
	int front;
} ppoint;

static const cJSON *member(const cJSON *j, const char *key)
{
	return cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, key) : NULL;
}

static double finite_num(const cJSON *j, const char *key)
{
	const cJSON *v = member(j, key);
	return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : NAN;
}

/* Points of the array a into p (at most max); returns how many. */
static int read_points(const cJSON *a, ppoint *p, int max)
{
	int n = 0;
	for (const cJSON *c = cJSON_IsArray(a) ? a->child : NULL; c && n < max; c = c->next) {
		ppoint x = {finite_num(c, "trial"), finite_num(c, "rmse"), finite_num(c, "cost"), 0};
		if (isfinite(x.trial) && isfinite(x.rmse) && isfinite(x.cost))
			p[n++] = x;
	}
	return n;
}

static double step_of(double span)
{
	double raw = span / 4, p = pow(10, floor(log10(raw))), m = raw / p;
	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static void label(FILE *out, double x, double y, const char *anchor, const char *s)
{
	fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" class=\"ax\">", x, y, anchor);
	report_escape(out, s);
	fputs("</text>", out);
}

/* lo/hi padded so that no point sits on the frame; a zero span gets 5 %. */
static void pad(double *lo, double *hi)
{
	double s = *hi - *lo;
	if (s < 1e-12 * fmax(1, fabs(*hi)))
		s = fabs(*hi) > 0 ? fabs(*hi) * 0.1 : 1;
	*lo -= s * 0.08;
	*hi += s * 0.08;
}

static void ticks(FILE *out, int vertical, double lo, double hi, double left, double top, double pw, double ph)
{
	double step = step_of(hi - lo), t0 = ceil(lo / step) * step;
	for (int g = 0; g < 12 && t0 + g * step <= hi + step * 1e-9; g++) {
		double t = t0 + g * step;
		char b[32];
		snprintf(b, sizeof b, "%.4g", fabs(t) < step * 1e-9 ? 0.0 : t);
		if (vertical) {
			double y = top + ph * (1 - (t - lo) / (hi - lo));
			fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eef2f7\"/>", left, y,
			        left + pw, y);
			label(out, left - 5, y + 3.5, "end", b);
		} else {
			double x = left + pw * (t - lo) / (hi - lo);
			fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eef2f7\"/>", x, top, x,
			        top + ph);
			label(out, x, top + ph + 16, "middle", b);
		}
	}
}

static int by_cost(const void *a, const void *b)
{
	const ppoint *x = a, *y = b;
	return x->cost < y->cost ? -1 : x->cost > y->cost ? 1 : x->rmse < y->rmse ? -1 : x->rmse > y->rmse;
}

void panel_pareto(FILE *out, const report_data *r, const hstat *h)
{
	const report_rec *rec = NULL;
	for (size_t k = r->n; k-- > 0 && !rec;)
		if (!strcmp(r->recs[k].horizon, h->name) && cJSON_IsObject(member(r->recs[k].j, "pareto")))
			rec = &r->recs[k];
	if (!rec)
		return;
	const cJSON *pa = member(rec->j, "pareto");
	ppoint *pt = malloc(MAX_POINTS * sizeof *pt), *fr = malloc(MAX_POINTS * sizeof *fr);
	if (!pt || !fr) {
		free(pt), free(fr);
		return;
	}
	int n = read_points(member(pa, "points"), pt, MAX_POINTS);
	int nf = read_points(member(pa, "front"), fr, MAX_POINTS);
	double chosen = finite_num(pa, "chosen"), tol = finite_num(pa, "tolerance_pct");
	const cJSON *ob = member(pa, "objectives");
	const cJSON *o2 = cJSON_IsArray(ob) ? cJSON_GetArrayItem(ob, 1) : NULL;
	int secs = cJSON_IsString(o2) && !strcmp(o2->valuestring, "seconds");
	/* a record without points (written before they were kept) still has the front */
	if (n == 0)
		for (int i = 0; i < nf; i++)
			pt[n++] = fr[i];
	for (int i = 0; i < n; i++)
		for (int k = 0; k < nf; k++)
			pt[i].front |= pt[i].trial == fr[k].trial;
	qsort(fr, (size_t)nf, sizeof *fr, by_cost);

	fputs("<div class=\"pair\"><div class=\"chart pareto\"><p class=\"ct\">Search: RMSE against ", out);
	fputs(secs ? "seconds per window" : "cost (tokens per forecast)", out);
	fputs(", the Pareto front</p>\n", out);
	double W = 600, H = 270, left = 58, right = 20, top = 14, bottom = 44;
	double pw = W - left - right, ph = H - top - bottom;
	fprintf(out, "<svg role=\"img\" aria-label=\"Pareto front of the search\" viewBox=\"0 0 %.0f %.0f\" "
	             "xmlns=\"http://www.w3.org/2000/svg\">\n", W, H);
	double xl = INFINITY, xh = -INFINITY, yl = INFINITY, yh = -INFINITY, best = INFINITY;
	for (int i = 0; i < n; i++) {
		xl = fmin(xl, pt[i].cost), xh = fmax(xh, pt[i].cost);
		yl = fmin(yl, pt[i].rmse), yh = fmax(yh, pt[i].rmse);
	}
	for (int i = 0; i < nf; i++)
		best = fmin(best, fr[i].rmse);
	if (n == 0) {
		label(out, W / 2, top + ph / 2, "middle", "no scored config recorded");
		fputs("</svg></div></div>\n", out);
		free(pt), free(fr);
		return;
	}
	double limit = isfinite(best) && isfinite(tol) ? best * (1 + tol / 100) : NAN;
	if (isfinite(limit))
		yh = fmax(yh, limit), yl = fmin(yl, limit);
	pad(&xl, &xh);
	pad(&yl, &yh);
	fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#cbd5e1\"/>",
	        left, top, pw, ph);
	ticks(out, 1, yl, yh, left, top, pw, ph);
	ticks(out, 0, xl, xh, left, top, pw, ph);
	label(out, left + pw / 2, H - 6, "middle", secs ? "seconds per window" : "cost: context + samples x steps");
	fputc('\n', out);
#define PX(c) (left + pw * ((c) - xl) / (xh - xl))
#define PY(v) (top + ph * (1 - ((v) - yl) / (yh - yl)))
	if (isfinite(limit)) {
		fprintf(out, "<line class=\"pareto-limit\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		             "stroke=\"#16a34a\" stroke-dasharray=\"4 3\"/>",
		        left, PY(limit), left + pw, PY(limit));
		char b[96];
		snprintf(b, sizeof b, "lowest RMSE + %g %%", tol);
		label(out, left + pw - 4, PY(limit) - 4, "end", b);
	}
	if (nf > 1) {
		/* the front as a staircase: from each point right, then down to the next */
		fputs("<polyline fill=\"none\" stroke=\"#2563eb\" stroke-width=\"1.5\" points=\"", out);
		for (int i = 0; i < nf; i++) {
			if (i)
				fprintf(out, "%.1f,%.1f ", PX(fr[i].cost), PY(fr[i - 1].rmse));
			fprintf(out, "%.1f,%.1f ", PX(fr[i].cost), PY(fr[i].rmse));
		}
		fputs("\"/>", out);
	}
	fputc('\n', out);
	const ppoint *ch = NULL;
	for (int i = 0; i < n; i++) {
		const ppoint *p = &pt[i];
		if (p->trial == chosen)
			ch = p;
		fprintf(out, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\" stroke=\"%s\">"
		             "<title>trial %.0f: RMSE %.6g, %s %.6g%s</title></circle>",
		        p->front ? "pareto-front" : "pareto-point", PX(p->cost), PY(p->rmse), p->front ? "4" : "3",
		        p->front ? "#2563eb" : "#fff", p->front ? "#2563eb" : "#94a3b8", p->trial, p->rmse,
		        secs ? "seconds" : "cost", p->cost, p->front ? " (on the front)" : "");
	}
	fputc('\n', out);
	if (ch) {
		double x = PX(ch->cost), y = PY(ch->rmse);
		fprintf(out, "<circle class=\"pareto-chosen\" cx=\"%.1f\" cy=\"%.1f\" r=\"8\" fill=\"none\" "
		             "stroke=\"#16a34a\" stroke-width=\"2\"/>",
		        x, y);
		char b[64];
		snprintf(b, sizeof b, "chosen (trial %.0f)", ch->trial);
		fprintf(out, "<text class=\"pareto-chosen-label lg\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", x + (x > left + pw / 2 ? -11 : 11),
		        y - 10, x > left + pw / 2 ? "end" : "start");
		report_escape(out, b);
		fputs("</text>\n", out);
	}
#undef PX
#undef PY
	fputs("</svg>\n<p class=\"note\">", out);
	int onfront = 0;
	for (int i = 0; i < n; i++)
		onfront += pt[i].front;
	fprintf(out, "%d configs scored, %d on the front (filled, joined); run ", n, onfront);
	const char *run = cJSON_IsString(member(rec->j, "run_id")) ? member(rec->j, "run_id")->valuestring : "?";
	report_escape(out, run);
	fputs(" (", out);
	report_escape(out, rec->when[0] ? rec->when : "?");
	fputs("). Rule: ", out);
	const cJSON *rule = member(pa, "rule");
	report_escape(out, cJSON_IsString(rule) ? rule->valuestring : "not recorded");
	fputs(".</p></div></div>\n", out);
	free(pt), free(fr);
}
