/* replay_report.c — the replay's KPI report as text and as an HTML page
 * (see replay.h).  Both render the object rp_score built and never
 * recompute a figure; the page draws its charts with report_chart.c. */
#include "replay.h"
#include "jsonutil.h"
#include "report.h"
#include "report_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double num(const cJSON *j, const char *dotted)
{
	const cJSON *v = cp_json_path(j, dotted);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *j, const char *dotted)
{
	const cJSON *v = cp_json_path(j, dotted);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* "12.3 %" or "-" into buf. */
static const char *pct(char *buf, size_t len, double frac)
{
	if (isfinite(frac))
		snprintf(buf, len, "%.1f %%", 100 * frac);
	else
		snprintf(buf, len, "-");
	return buf;
}

static const char *fix(char *buf, size_t len, double v, int prec, const char *sign)
{
	if (isfinite(v))
		snprintf(buf, len, sign ? "%+.*f%s" : "%.*f%s", prec, v, sign ? sign : "");
	else
		snprintf(buf, len, "-");
	return buf;
}

static const char *cfg_words(char *buf, size_t len, const cJSON *c)
{
	if (!cJSON_IsObject(c))
		return snprintf(buf, len, "-"), buf;
	snprintf(buf, len, "(%g/%g/%g)", num(c, "context_length"), num(c, "num_samples"), num(c, "temperature"));
	return buf;
}

/* One row of the decision table: "name" is a horizon or "overall". */
static void text_row(FILE *out, const char *name, const cJSON *h)
{
	char a[32], b[32], c[32], d[32];
	fprintf(out, "%-8s %5.0f %4.0f %5.0f %4.0f %9s %9s %10s %9s %4.0f/%-4.0f %3.0f\n", name,
	        num(h, "triggered"), num(h, "optimizations"), num(h, "approved"), num(h, "deployed"),
	        pct(a, sizeof a, num(h, "validation_success_rate")),
	        pct(b, sizeof b, num(h, "performance_improvement_rate")),
	        fix(c, sizeof c, num(h, "mean_realized_rmse_change_pct"), 2, " %"),
	        pct(d, sizeof d, num(h, "false_positive_rate")), num(h, "false_positives"),
	        num(h, "optimizations"), num(h, "rollbacks"));
}

int rp_report_text(FILE *out, const cJSON *r, cp_err *e)
{
	char a[64], b[64], c[64], d[64], g[64];
	const cJSON *hs = cJSON_GetObjectItemCaseSensitive(r, "horizons"), *h;
	const cJSON *ov = cJSON_GetObjectItemCaseSensitive(r, "overall");
	fprintf(out, "chronopt replay of %s%s%s, %s to %s: %.0f weeks (cron day %s), model %s, seed %.0f\n",
	        str(r, "series.path"), *str(r, "series.id") ? " id " : "", str(r, "series.id"),
	        str(r, "first_week"), str(r, "last_week"), num(r, "weeks"), str(r, "day"), str(r, "model"),
	        num(r, "seed"));
	fprintf(out, "settings %s; incumbent at the start: %s; a decision is judged on the next %.0f weekly "
	        "origins\n", str(r, "settings"),
	        cJSON_IsString(cp_json_path(r, "incumbent")) ? str(r, "incumbent") : "the default config",
	        num(r, "next"));
	fprintf(out, "automation: %.0f of %.0f weekly runs completed (%s), %.0f failed; %.1f s per week\n\n",
	        num(r, "automation.completed"), num(r, "automation.weeks"), pct(a, sizeof a, num(r, "automation.rate")),
	        num(r, "automation.failed"), num(r, "time.per_week.seconds"));

	fputs("horizon   trig  opt  appr  dep  val.succ  improved  mean dRMSE   FP rate   FP/opt  rb\n", out);
	cJSON_ArrayForEach(h, hs)
		text_row(out, str(h, "name"), h);
	text_row(out, "overall", ov);
	fprintf(out, "  val.succ = approved / optimized; improved = deployments whose realized RMSE on the next "
	        "weekly origins beat the incumbent's; FP = optimizations never better than the incumbent\n");
	fprintf(out, "  false positives by trigger (overall): time only %s of %.0f, drift or performance %s of %.0f\n\n",
	        pct(a, sizeof a, num(ov, "false_positive_rate_by_trigger.time_only")),
	        num(ov, "false_positive_rate_by_trigger.time_only_optimizations"),
	        pct(b, sizeof b, num(ov, "false_positive_rate_by_trigger.drift_or_performance")),
	        num(ov, "false_positive_rate_by_trigger.drift_or_performance_optimizations"));

	fputs("realized RMSE on the weekly origins with a known outcome:\n", out);
	fputs("horizon  origins   deployed    default  random walk  hindsight  (ctx/samples/temp)  "
	      "deployed/rw  default/rw  hindsight/rw\n", out);
	cJSON_ArrayForEach(h, hs) {
		char x[32], y[32], z[32];
		fprintf(out, "%-8s %7.0f %10s %10s %12s %10s %-18s %11s %11s %13s\n", str(h, "name"),
		        num(h, "realized.origins"), fix(a, sizeof a, num(h, "realized.rmse_deployed"), 3, NULL),
		        fix(b, sizeof b, num(h, "realized.rmse_default"), 3, NULL),
		        fix(c, sizeof c, num(h, "realized.rmse_random_walk"), 3, NULL),
		        fix(d, sizeof d, num(h, "realized.rmse_best_in_hindsight"), 3, NULL),
		        cfg_words(g, sizeof g, cp_json_path(h, "realized.best_in_hindsight")),
		        fix(x, sizeof x, num(h, "realized.deployed_vs_random_walk"), 4, NULL),
		        fix(y, sizeof y, num(h, "realized.default_vs_random_walk"), 4, NULL),
		        fix(z, sizeof z, num(h, "realized.best_in_hindsight_vs_random_walk"), 4, NULL));
	}
	fprintf(out, "overall (mean of the horizons' ratios): deployed/rw %s, default/rw %s, hindsight/rw %s\n",
	        fix(a, sizeof a, num(ov, "realized.deployed_vs_random_walk"), 4, NULL),
	        fix(b, sizeof b, num(ov, "realized.default_vs_random_walk"), 4, NULL),
	        fix(c, sizeof c, num(ov, "realized.best_in_hindsight_vs_random_walk"), 4, NULL));

	if (cJSON_IsString(cp_json_path(r, "change_date"))) {
		fprintf(out, "\ndrift detection (regime change on %s): days from the change to the first "
		        "optimization triggered by\n", str(r, "change_date"));
		cJSON_ArrayForEach(h, hs) {
			fprintf(out, "  %-8s drift: %s   drift or performance: %s   any check: %s\n", str(h, "name"),
			        fix(a, sizeof a, num(h, "drift_detection.drift.days"), 0, NULL),
			        fix(b, sizeof b, num(h, "drift_detection.drift_or_performance.days"), 0, NULL),
			        fix(c, sizeof c, num(h, "drift_detection.any.days"), 0, NULL));
		}
	}

	const cJSON *gates = cJSON_GetObjectItemCaseSensitive(ov, "gates"), *x;
	if (cJSON_GetArraySize(gates) > 0) {
		fprintf(out, "\nother gates on the same optimizations (candidate and incumbent as in the replay; "
		        "%.0f of %.0f verdicts of the replay's own gate reproduced):\n",
		        num(ov, "gates_reproduced.same_verdict_as_the_replay"), num(ov, "gates_reproduced.decided"));
		fputs("preset         random walk  approved  rate      improved  worse  mean dRMSE\n", out);
		cJSON_ArrayForEach(x, gates)
			fprintf(out, "%-14s %-11s %4.0f/%-4.0f %-9s %8.0f %6.0f  %s\n", str(x, "preset"),
			        cJSON_IsTrue(cp_json_path(x, "random_walk_criterion")) ? "required" : "ignored",
			        num(x, "approved"), num(x, "decided"), pct(a, sizeof a, num(x, "approval_rate")),
			        num(x, "approved_improved"), num(x, "approved_worse"),
			        fix(b, sizeof b, num(x, "mean_realized_rmse_change_pct"), 2, " %"));
	}
	if (fflush(out) == EOF || ferror(out))
		return cp_fail_errno(e, "cannot write the text report");
	return 0;
}

/* ------------------------------------------------------------------ */
/* HTML                                                                 */

static const char CSS[] =
	"body{font:14px/1.45 'DejaVu Sans',Arial,sans-serif;color:#0f172a;margin:24px 32px;max-width:1100px}"
	"h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #e2e8f0;"
	"padding-bottom:4px}.meta,.note{color:#475569;font-size:12px}"
	"table{border-collapse:collapse;width:100%;font-size:12px}th,td{border:1px solid #e2e8f0;"
	"padding:4px 6px;text-align:left}th{background:#f8fafc}td.h{font-weight:bold}"
	"svg{display:block;max-width:100%;height:auto}"
	"svg text{font-family:'DejaVu Sans',Arial,sans-serif}.hl{font-size:14px;font-weight:bold}"
	".lg,.v{font-size:12px}.ax{font-size:10px;fill:#475569}";

static void td(FILE *out, const char *s)
{
	fputs("<td>", out);
	report_escape(out, s);
	fputs("</td>", out);
}

int rp_report_html(FILE *out, const cJSON *r, cp_err *e)
{
	char a[64], b[64], c[64], d[200], g[64];
	const cJSON *hs = cJSON_GetObjectItemCaseSensitive(r, "horizons"), *h;
	const cJSON *ov = cJSON_GetObjectItemCaseSensitive(r, "overall");
	int nh = cJSON_GetArraySize(hs);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
	      "<title>chronopt replay</title>\n<style>", out);
	fputs(CSS, out);
	fputs("</style></head><body>\n<h1>What chronopt would have done</h1>\n<p class=\"meta\">", out);
	report_escape(out, str(r, "series.path"));
	fprintf(out, " &middot; weeks %s to %s (%.0f, cron day ", str(r, "first_week"), str(r, "last_week"),
	        num(r, "weeks"));
	report_escape(out, str(r, "day"));
	fputs(") &middot; model ", out);
	report_escape(out, str(r, "model"));
	fprintf(out, " &middot; seed %.0f &middot; judged on the next %.0f weekly origins &middot; automation "
	        "%.0f of %.0f runs completed &middot; %.1f s per week</p>\n", num(r, "seed"), num(r, "next"),
	        num(r, "automation.completed"), num(r, "automation.weeks"), num(r, "time.per_week.seconds"));

	fputs("<h2>Decisions</h2>\n<table><tr><th>horizon</th><th>triggered</th><th>optimized</th>"
	      "<th>approved</th><th>deployed</th><th>validation success</th><th>performance improvement</th>"
	      "<th>mean realized RMSE change</th><th>false-positive trigger rate</th><th>rollbacks</th></tr>\n",
	      out);
	for (int i = 0; i <= nh; i++) {
		const cJSON *x = i < nh ? cJSON_GetArrayItem(hs, i) : ov;
		fputs("<tr><td class=\"h\">", out);
		report_escape(out, i < nh ? str(x, "name") : "overall");
		fprintf(out, "</td><td>%.0f</td><td>%.0f</td><td>%.0f</td><td>%.0f</td>", num(x, "triggered"),
		        num(x, "optimizations"), num(x, "approved"), num(x, "deployed"));
		td(out, pct(a, sizeof a, num(x, "validation_success_rate")));
		td(out, pct(b, sizeof b, num(x, "performance_improvement_rate")));
		td(out, fix(c, sizeof c, num(x, "mean_realized_rmse_change_pct"), 2, " %"));
		snprintf(d, sizeof d, "%s (%.0f of %.0f)", pct(g, sizeof g, num(x, "false_positive_rate")),
		         num(x, "false_positives"), num(x, "optimizations"));
		td(out, d);
		fprintf(out, "<td>%.0f</td></tr>\n", num(x, "rollbacks"));
	}
	fputs("</table>\n", out);

	fputs("<h2>Realized error on the weekly origins</h2>\n<table><tr><th>horizon</th><th>origins</th>"
	      "<th>deployed configs</th><th>never-tuned default</th><th>random walk</th>"
	      "<th>best config in hindsight</th><th>deployed / random walk</th></tr>\n", out);
	cJSON_ArrayForEach(h, hs) {
		fputs("<tr><td class=\"h\">", out);
		report_escape(out, str(h, "name"));
		fprintf(out, "</td><td>%.0f</td>", num(h, "realized.origins"));
		td(out, fix(a, sizeof a, num(h, "realized.rmse_deployed"), 3, NULL));
		td(out, fix(b, sizeof b, num(h, "realized.rmse_default"), 3, NULL));
		td(out, fix(c, sizeof c, num(h, "realized.rmse_random_walk"), 3, NULL));
		snprintf(d, sizeof d, "%s %s", fix(a, sizeof a, num(h, "realized.rmse_best_in_hindsight"), 3, NULL),
		         cfg_words(g, sizeof g, cp_json_path(h, "realized.best_in_hindsight")));
		td(out, d);
		td(out, fix(b, sizeof b, num(h, "realized.deployed_vs_random_walk"), 4, NULL));
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);

	/* the dashboard's charts over what the replay decided */
	hstat *st = cp_calloc((size_t)(nh ? nh : 1), sizeof(*st));
	report_data rd;
	report_init(&rd);
	size_t nrec = 0, cap = 0;
	int i = 0;
	cJSON_ArrayForEach(h, hs) {
		hstat *s = &st[i++];
		snprintf(s->name, sizeof s->name, "%s", str(h, "name"));
		s->checks = (int)num(h, "weeks");
		s->optimized = s->validated = (int)num(h, "optimizations");
		s->approved = (int)num(h, "approved");
		s->deployed = (int)num(h, "deployed");
		s->rollbacks = (int)num(h, "rollbacks");
		s->last_opt = -1;
		const cJSON *deps = cJSON_GetObjectItemCaseSensitive(h, "deployments"), *dj;
		const cJSON *weeks = cJSON_GetObjectItemCaseSensitive(h, "weeks_detail"), *wj;
		cJSON_ArrayForEach(wj, weeks) {
			if (nrec == cap) {
				cap = cap ? 2 * cap : 256;
				rd.recs = cp_realloc(rd.recs, cap * sizeof(*rd.recs));
			}
			report_rec *rec = &rd.recs[nrec++];
			memset(rec, 0, sizeof(*rec));
			snprintf(rec->horizon, sizeof rec->horizon, "%s", s->name);
			snprintf(rec->when, sizeof rec->when, "%s", str(wj, "date"));
			if (cp_parse_date(rec->when, &rec->day) < 0)
				rec->day = INT32_MIN;
			rec->triggered = cJSON_IsTrue(cp_json_path(wj, "triggered"));
			rec->approved = cJSON_IsTrue(cp_json_path(wj, "optimized"))
				? cJSON_IsTrue(cp_json_path(wj, "approved")) : -1;
			rec->deployed = cJSON_IsTrue(cp_json_path(wj, "deployed"));
			rec->rmse_before = rec->rmse_after = rec->rmse_rw = NAN;
			if (rec->deployed)
				cJSON_ArrayForEach(dj, deps)
					if (strcmp(str(dj, "date"), rec->when) == 0) {
						rec->rmse_before = num(dj, "rmse_incumbent");
						rec->rmse_after = num(dj, "rmse_candidate");
					}
		}
	}
	rd.n = nrec;
	rd.cap = cap;
	fputs("<h2>Weeks, optimizations and deployments per horizon</h2>\n", out);
	chart_frequency(out, st, (size_t)nh);
	fputs("<p class=\"note\">trigger checks = simulated weeks</p>\n<h2>Validation success rate</h2>\n", out);
	chart_success(out, st, (size_t)nh);
	fprintf(out, "<h2>Realized RMSE of each deployment against the incumbent it replaced</h2>\n"
	        "<p class=\"note\">on the next %.0f weekly origins after the deployment (before = the incumbent "
	        "on the same origins)</p>\n", num(r, "next"));
	chart_rmse(out, &rd, st, (size_t)nh);
	fputs("<h2>Timeline of the replay</h2>\n", out);
	chart_timeline(out, &rd, st, (size_t)nh);
	free(rd.recs);
	free(st);

	const cJSON *gates = cJSON_GetObjectItemCaseSensitive(ov, "gates"), *x;
	if (cJSON_GetArraySize(gates) > 0) {
		fprintf(out, "<h2>What other gates would have decided</h2>\n<p class=\"note\">the same optimizations, "
		        "candidates and incumbents; %.0f of %.0f verdicts of the replay's own gate reproduced</p>\n"
		        "<table><tr><th>preset</th><th>random-walk criterion</th><th>approved</th><th>approval rate</th>"
		        "<th>approved and better</th><th>approved and not better</th><th>mean realized RMSE change</th>"
		        "</tr>\n", num(ov, "gates_reproduced.same_verdict_as_the_replay"),
		        num(ov, "gates_reproduced.decided"));
		cJSON_ArrayForEach(x, gates) {
			fputs("<tr>", out);
			td(out, str(x, "preset"));
			td(out, cJSON_IsTrue(cp_json_path(x, "random_walk_criterion")) ? "required" : "ignored");
			fprintf(out, "<td>%.0f of %.0f</td>", num(x, "approved"), num(x, "decided"));
			td(out, pct(a, sizeof a, num(x, "approval_rate")));
			fprintf(out, "<td>%.0f</td><td>%.0f</td>", num(x, "approved_improved"), num(x, "approved_worse"));
			td(out, fix(b, sizeof b, num(x, "mean_realized_rmse_change_pct"), 2, " %"));
			fputs("</tr>\n", out);
		}
		fputs("</table>\n", out);
	}
	fputs("</body></html>\n", out);
	if (fflush(out) == EOF || ferror(out))
		return cp_fail_errno(e, "cannot write the HTML report");
	return 0;
}
