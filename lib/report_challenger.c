/* report_challenger.c — the dashboard's line on a horizon's challenger
 * (opt-deploy(1), champion and challenger): from the newest history record
 * of the horizon whose outcome is challenger_started, _scored, _promoted or
 * _retired, the challenger's settings, since when it runs, its RMSE and the
 * champion's on the origins scored so far with the test's p-value, or what
 * became of it.  Only numbers that are finite are shown; strings are
 * escaped. */
#include "report.h"
#include "report_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static double num_at(const cJSON *j, const char *path)
{
	const cJSON *v = report_get(j, path);
	return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : NAN;
}

static const char *str_at(const cJSON *j, const char *path)
{
	const cJSON *v = report_get(j, path);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void num(FILE *out, double v)
{
	if (isfinite(v))
		fprintf(out, "%.4g", v);
	else
		fputs("n/a", out);
}

void panel_challenger(FILE *out, const report_data *r, const hstat *h)
{
	const report_rec *rec = NULL;
	const char *oc = NULL;
	for (size_t k = r->n; k-- > 0 && !rec;) {
		const char *o = str_at(r->recs[k].j, "outcome");
		if (!strcmp(r->recs[k].horizon, h->name) && o && !strncmp(o, "challenger_", 11))
			rec = &r->recs[k], oc = o + 11;
	}
	if (!rec)
		return;
	int live = !strcmp(oc, "started") || !strcmp(oc, "scored");
	fprintf(out, "<div class=\"dec chal\"><p><b>Challenger:</b> <span class=\"chal-state\">%s</span>",
	        live ? "live" : !strcmp(oc, "promoted") ? "promoted" : !strcmp(oc, "retired") ? "retired" : "?");
	const cJSON *j = rec->j;
	const char *cfgp = !strcmp(oc, "started") ? "config" : "challenger.challenger_config";
	char p[96];
	snprintf(p, sizeof p, "%s.context_length", cfgp);
	double ctx = num_at(j, p);
	snprintf(p, sizeof p, "%s.num_samples", cfgp);
	double ns = num_at(j, p);
	if (isfinite(ctx)) {
		fputs(" &middot; context ", out);
		num(out, ctx);
		fputs(", samples ", out);
		num(out, ns);
	}
	const char *since = str_at(j, "challenger.start_date");
	if (since) {
		fputs(" &middot; since ", out);
		report_escape(out, since);
	}
	if (report_get(j, "challenger.scores")) {
		double used = num_at(j, "challenger.scores.origins_used"), req = num_at(j, "challenger.scores.origins_required");
		fputs("<br>on <span class=\"chal-origins\">", out);
		num(out, used);
		fputs(" of ", out);
		num(out, req);
		fputs("</span> origins: RMSE champion <b class=\"chal-champion\">", out);
		num(out, num_at(j, "challenger.scores.champion_rmse"));
		fputs("</b>, challenger <b class=\"chal-challenger\">", out);
		num(out, num_at(j, "challenger.scores.challenger_rmse"));
		fputs("</b>", out);
		const char *tn = str_at(j, "challenger.scores.test.name");
		if (tn) {
			fputs(", ", out);
			report_escape(out, !strcmp(tn, "dm") ? "Diebold-Mariano" : tn);
			fputs(" p ", out);
			num(out, num_at(j, "challenger.scores.test.p_value"));
			fputs(" (level ", out);
			num(out, num_at(j, "challenger.scores.test.level"));
			fputs(")", out);
		}
	}
	fputs("<br><span class=\"small\">", out);
	report_escape(out, rec->when[0] ? rec->when : "?");
	fputs(": ", out);
	const char *why = str_at(j, "reason");
	report_escape(out, why ? why : "no reason recorded");
	fputs("</span></p></div>\n", out);
}
