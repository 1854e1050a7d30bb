/* report_internal.h — shared by report.c, report_chart.c and the replay page (replay_report.c). */
#ifndef CHRONOPT_REPORT_INTERNAL_H
#define CHRONOPT_REPORT_INTERNAL_H
#include "report.h"

/* What the page knows of one horizon. */
typedef struct {
	char name[33];
	int checks, optimized, validated, approved, deployed, rollbacks;
	long last_opt;      /* index of the last triggered record, -1 */
	int32_t first_day, last_day;
	cJSON *config;      /* deployed config, owned, may be NULL */
} hstat;

/* The four charts, each an inline <svg> written to out. */
void chart_frequency(FILE *out, const hstat *hs, size_t nh);
void chart_success(FILE *out, const hstat *hs, size_t nh);
void chart_rmse(FILE *out, const report_data *r, const hstat *hs, size_t nh);
void chart_timeline(FILE *out, const report_data *r, const hstat *hs, size_t nh);

/* report.c: what a record's decision was, in words ("deployed",
 * "validation failed", "failed", "rolled back by watch", ...). */
const char *report_decision(const report_rec *rec);

/* report.c: the settings of deployed config c, as the cell text of the
 * page: "ensemble <members>" (then returns its "ensemble" list), else
 * "context N, samples N, temperature X" (returns NULL), where a setting
 * that is not a JSON number reads "n/a": a config broken by hand shows as
 * broken, never as its text. */
const cJSON *report_config_settings(FILE *out, const cJSON *c);

/* report_panels.c: the name of the series of r (id, else path, of its
 * newest record that names one), NULL when none. */
const char *report_series_name(const report_data *r);
/* The header of one series: id, last observation (age, stale flag), model,
 * last run, paths.  generated_at is the page's time (age is counted to it). */
void panel_header(FILE *out, const report_data *r, const char *generated_at);
/* The overview table of n series: rs[s] with its horizons hs[s][0..nh[s]). */
void panel_overview(FILE *out, const report_data *rs, const hstat *const *hs, const size_t *nh, size_t n,
                    const char *generated_at);
/* The drift statistics of the series' runs over time (records' "drift"). */
void panel_drift(FILE *out, const report_data *r);
/* Horizon h: the deployed config and the last decision with its held-out
 * numbers, the deployed config's forecasts against actuals, and held-out
 * RMSE over time against the random walk. */
void panel_horizon(FILE *out, const report_data *r, const hstat *h);
/* report_pareto.c: the Pareto front of horizon h's newest multi-objective
 * search (the record's "pareto"): a scatter of search RMSE against cost or
 * seconds, the front joined, the chosen config ringed.  Nothing when no
 * record of h has one. */
void panel_pareto(FILE *out, const report_data *r, const hstat *h);
/* report_challenger.c: horizon h's challenger (live with its scores so far,
 * or promoted / retired) from its newest challenger_* record; nothing when
 * there is none. */
void panel_challenger(FILE *out, const report_data *r, const hstat *h);

#endif
