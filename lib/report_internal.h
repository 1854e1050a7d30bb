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

#endif
