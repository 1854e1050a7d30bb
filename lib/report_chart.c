/* report_chart.c — the inline SVG charts of the dashboard (report.c).
 * See report_internal.h. */
#include "report.h"
#include "report_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const C_CHECK = "#cbd5e1", *const C_OPT = "#3b82f6", *const C_DEP = "#16a34a",
                         *const C_REJ = "#f59e0b", *const C_RB = "#dc2626", *const C_BEFORE = "#94a3b8",
                         *const C_RW = "#d6b656";

static void svg_text(FILE *out, double x, double y, const char *anchor, const char *cls, const char *s)
{
	fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" class=\"%s\">", x, y, anchor, cls);
	report_escape(out, s);
	fputs("</text>", out);
}

void chart_frequency(FILE *out, const hstat *hs, size_t nh)
{
	int max = 1;
	for (size_t i = 0; i < nh; i++)
		if (hs[i].checks > max)
			max = hs[i].checks;
	double row = 62, left = 90, width = 760;
	double height = 40 + row * (double)nh;
	fprintf(out, "<svg role=\"img\" aria-label=\"optimizations per horizon\" viewBox=\"0 0 1000 %.0f\" "
	             "xmlns=\"http://www.w3.org/2000/svg\">\n", height);
	const char *lab[3] = {"trigger checks", "optimizations", "deployments"};
	const char *col[3] = {C_CHECK, C_OPT, C_DEP};
	for (int k = 0; k < 3; k++) {
		fprintf(out, "<rect x=\"%.0f\" y=\"8\" width=\"14\" height=\"14\" fill=\"%s\"/>", left + 190.0 * k,
		        col[k]);
		svg_text(out, left + 190.0 * k + 20, 20, "start", "lg", lab[k]);
	}
	fputc('\n', out);
	for (size_t i = 0; i < nh; i++) {
		double y = 36 + row * (double)i;
		svg_text(out, left - 10, y + 30, "end", "hl", hs[i].name);
		int v[3] = {hs[i].checks, hs[i].optimized, hs[i].deployed};
		for (int k = 0; k < 3; k++) {
			double w = width * v[k] / max;
			double yy = y + 4 + 17.0 * k;
			fprintf(out, "<rect x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"15\" fill=\"%s\"/>", left, yy,
			        w < 1 && v[k] ? 1 : w, col[k]);
			fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"v\">%d</text>", left + w + 6, yy + 12, v[k]);
		}
		fputc('\n', out);
	}
	fputs("</svg>\n", out);
}

void chart_success(FILE *out, const hstat *hs, size_t nh)
{
	double row = 34, left = 90, width = 600;
	double height = 16 + row * (double)nh;
	fprintf(out, "<svg role=\"img\" aria-label=\"validation success rate\" viewBox=\"0 0 1000 %.0f\" "
	             "xmlns=\"http://www.w3.org/2000/svg\">\n", height);
	for (size_t i = 0; i < nh; i++) {
		double y = 8 + row * (double)i;
		svg_text(out, left - 10, y + 17, "end", "hl", hs[i].name);
		fprintf(out, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"22\" fill=\"#f1f5f9\" stroke=\"#cbd5e1\"/>",
		        left, y, width);
		char msg[96];
		if (hs[i].validated) {
			double rate = (double)hs[i].approved / hs[i].validated;
			fprintf(out, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.1f\" height=\"22\" fill=\"%s\"/>", left, y,
			        width * rate, C_DEP);
			fprintf(out, "<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"22\" fill=\"%s\"/>",
			        left + width * rate, y, width * (1 - rate), C_REJ);
			snprintf(msg, sizeof(msg), "%d of %d approved (%.0f%%)", hs[i].approved, hs[i].validated,
			         100 * rate);
		} else {
			snprintf(msg, sizeof(msg), "not validated yet");
		}
		svg_text(out, left + width + 12, y + 16, "start", "v", msg);
		fputc('\n', out);
	}
	fputs("</svg>\n", out);
}

/* One panel per horizon: before/after RMSE bars of its last 12 deployments. */
void chart_rmse(FILE *out, const report_data *r, const hstat *hs, size_t nh)
{
	const double pw = 490, ph = 230;
	size_t cols = 2, rows = (nh + cols - 1) / cols;
	double height = 34 + ph * (double)(rows ? rows : 1);
	fprintf(out, "<svg role=\"img\" aria-label=\"RMSE before and after each deployment\" "
	             "viewBox=\"0 0 1000 %.0f\" xmlns=\"http://www.w3.org/2000/svg\">\n", height);
	const char *lab[3] = {"before (incumbent)", "before (random walk, first deployment)", "after (deployed)"};
	const char *col[3] = {C_BEFORE, C_RW, C_OPT};
	const double lx[3] = {10, 190, 480};
	for (int k = 0; k < 3; k++) {
		fprintf(out, "<rect x=\"%.0f\" y=\"6\" width=\"14\" height=\"14\" fill=\"%s\"/>", lx[k], col[k]);
		svg_text(out, lx[k] + 20, 18, "start", "lg", lab[k]);
	}
	fputc('\n', out);
	for (size_t i = 0; i < nh; i++) {
		double x0 = pw * (double)(i % cols) + 10, y0 = 34 + ph * (double)(i / cols);
		long idx[12];
		int nd = 0;
		for (long k = (long)r->n - 1; k >= 0 && nd < 12; k--)
			if (r->recs[k].deployed && strcmp(r->recs[k].horizon, hs[i].name) == 0)
				idx[nd++] = k;
		fprintf(out, "<g><rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
		             "stroke=\"#e2e8f0\"/>", x0, y0, pw - 20, ph - 14);
		svg_text(out, x0 + 8, y0 + 18, "start", "hl", hs[i].name);
		if (!nd) {
			svg_text(out, x0 + (pw - 20) / 2, y0 + ph / 2, "middle", "v", "no deployment yet");
			fputs("</g>\n", out);
			continue;
		}
		double max = 0;
		for (int k = 0; k < nd; k++) {
			const report_rec *rec = &r->recs[idx[k]];
			double v[3] = {rec->rmse_before, rec->rmse_rw, rec->rmse_after};
			for (int m = 0; m < 3; m++)
				if (isfinite(v[m]) && v[m] > max)
					max = v[m];
		}
		if (!(max > 0))
			max = 1;
		double bx = x0 + 50, by = y0 + ph - 50, bh = ph - 90, slot = (pw - 90) / 12.0;
		fprintf(out, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#64748b\"/>", bx, by,
		        bx + slot * 12, by);
		char t[32];
		snprintf(t, sizeof(t), "%.4g", max);
		svg_text(out, bx - 4, by - bh + 4, "end", "ax", t);
		svg_text(out, bx - 4, by + 4, "end", "ax", "0");
		for (int k = 0; k < nd; k++) {
			const report_rec *rec = &r->recs[idx[nd - 1 - k]]; /* oldest first */
			double sx = bx + slot * k + 4;
			int first_dep = !isfinite(rec->rmse_before);
			double before = first_dep ? rec->rmse_rw : rec->rmse_before;
			double v[2] = {before, rec->rmse_after};
			const char *c[2] = {first_dep ? C_RW : C_BEFORE, C_OPT};
			for (int m = 0; m < 2; m++) {
				double x = sx + m * (slot - 8) / 2;
				double w = (slot - 8) / 2 - 1;
				if (isfinite(v[m])) {
					double hgt = bh * v[m] / max;
					fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
					             "<title>%s RMSE %.6g</title></rect>",
					        x, by - hgt, w, hgt, c[m], m ? "after" : "before", v[m]);
				} else {
					svg_text(out, x + w / 2, by - 4, "middle", "ax", "n/a");
				}
			}
			const char *when = rec->when[0] ? rec->when : "?";
			char d[6];
			snprintf(d, sizeof(d), "%.5s", strlen(when) >= 10 ? when + 5 : when);
			svg_text(out, sx + (slot - 8) / 2, by + 16, "middle", "ax", d);
			if (isfinite(before) && isfinite(rec->rmse_after) && before > 0) {
				snprintf(t, sizeof(t), "%+.1f%%", 100 * (rec->rmse_after - before) / before);
				svg_text(out, sx + (slot - 8) / 2, by + 30, "middle", "ax", t);
			}
		}
		fputs("</g>\n", out);
	}
	fputs("</svg>\n", out);
}

/* The lane of every record of horizon h in the timeline: marks of one row
 * closer than a mark's width go to the next lane down, so records of the
 * same day (or of days a pixel apart) never cover each other.  lane[k] is
 * -1 for records not in the row; returns the number of lanes (>= 1). */
static int timeline_lanes(const report_data *r, const char *h, int32_t lo, double span, double width, int *lane)
{
	double last[64];
	int nl = 0;
	for (size_t k = 0; k < r->n; k++) {
		const report_rec *rec = &r->recs[k];
		lane[k] = -1;
		if (rec->day == INT32_MIN || strcmp(rec->horizon, h) != 0)
			continue;
		double x = width * (rec->day - lo) / span;
		int l = 0;
		while (l < nl && x - last[l] < 12)
			l++;
		if (l == nl) {
			if (nl == 64) /* 64 marks on one spot: the newest share the last lane */
				l = 63;
			else
				nl++;
		}
		last[l] = x;
		lane[k] = l;
	}
	return nl ? nl : 1;
}

void chart_timeline(FILE *out, const report_data *r, const hstat *hs, size_t nh)
{
	int32_t lo = INT32_MAX, hi = INT32_MIN;
	for (size_t k = 0; k < r->n; k++) {
		int32_t d = r->recs[k].day;
		if (d == INT32_MIN)
			continue;
		if (d < lo)
			lo = d;
		if (d > hi)
			hi = d;
	}
	if (lo > hi) {
		fputs("<p class=\"note\">No dated records yet.</p>\n", out);
		return;
	}
	if (hi - lo < 14) {
		lo -= 7;
		hi += 7;
	}
	double left = 90, width = 860, lane_h = 12;
	double span = (double)(hi - lo);
	int *lane = cp_malloc((r->n ? r->n : 1) * sizeof(int));
	int *lanes = cp_malloc((nh ? nh : 1) * sizeof(int));
	double height = 62;
	for (size_t i = 0; i < nh; i++) {
		lanes[i] = timeline_lanes(r, hs[i].name, lo, span, width, lane);
		height += 18 + lane_h * lanes[i];
	}
	fprintf(out, "<svg role=\"img\" aria-label=\"trigger history\" viewBox=\"0 0 1000 %.0f\" "
	             "xmlns=\"http://www.w3.org/2000/svg\">\n", height);
	const char *lab[4] = {"not triggered", "triggered, not deployed", "deployed", "rolled back"};
	const char *col[4] = {C_CHECK, C_REJ, C_DEP, C_RB};
	for (int k = 0; k < 4; k++) {
		fprintf(out, "<circle cx=\"%.0f\" cy=\"13\" r=\"5\" fill=\"%s\"/>", left + 200.0 * k, col[k]);
		svg_text(out, left + 200.0 * k + 12, 18, "start", "lg", lab[k]);
	}
	double y0 = 36;
	for (size_t i = 0; i < nh; i++) {
		double rowh = 18 + lane_h * lanes[i];
		double y = y0 + 9;
		timeline_lanes(r, hs[i].name, lo, span, width, lane);
		svg_text(out, left - 10, y + lane_h * (lanes[i] - 1) / 2.0 + 5, "end", "hl", hs[i].name);
		fprintf(out, "<rect x=\"%.0f\" y=\"%.1f\" width=\"%.0f\" height=\"%.1f\" fill=\"%s\"/>", left,
		        y0 + 2, width, rowh - 4, i % 2 ? "#ffffff" : "#f8fafc");
		for (size_t k = 0; k < r->n; k++) {
			const report_rec *rec = &r->recs[k];
			if (lane[k] < 0)
				continue;
			int c = rec->rollback ? 3 : rec->deployed ? 2 : rec->triggered == 1 ? 1 : 0;
			double x = left + width * (rec->day - lo) / span;
			fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\" stroke=\"#fff\"><title>", x,
			        y + lane_h * lane[k], col[c]);
			report_escape(out, rec->when);
			fprintf(out, " %s</title></circle>", lab[c]);
		}
		fputc('\n', out);
		y0 += rowh;
	}
	double ya = y0 + 10;
	for (int t = 0; t <= 5; t++) {
		int32_t d = lo + (int32_t)((hi - lo) * (double)t / 5);
		char ds[11];
		cp_format_date(d, ds);
		double x = left + width * t / 5.0;
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#94a3b8\"/>", x, ya - 8, x,
		        ya - 2);
		svg_text(out, x, ya + 12, t == 0 ? "start" : t == 5 ? "end" : "middle", "ax", ds);
	}
	fputs("\n</svg>\n", out);
	free(lane);
	free(lanes);
}
