/* forecast_registry.c — the one place where model specs map to
 * constructors (see forecaster_open in forecast.h). */
#include "forecast.h"

#include <string.h>
#include <sys/stat.h>

#define SEASONAL_DEFAULT_PERIOD 5 /* banking days in a week */

forecaster *forecaster_open(const char *spec, cp_err *e)
{
	if (!spec || !*spec) {
		cp_fail(e, CP_USAGE, "empty model name");
		return NULL;
	}
	if (!strcmp(spec, "random_walk") || !strcmp(spec, "drift"))
		return baseline_new(spec, 0, e);
	if (!strcmp(spec, "seasonal_naive"))
		return baseline_new(spec, SEASONAL_DEFAULT_PERIOD, e);
	if (!strncmp(spec, "seasonal_naive:", 15)) {
		long p;
		if (cp_parse_long(spec + 15, 1, 100000, &p) < 0) {
			cp_fail(e, CP_USAGE, "model '%s': period must be an integer in 1..100000", spec);
			return NULL;
		}
		return baseline_new("seasonal_naive", (int)p, e);
	}
	struct stat st;
	if (stat(spec, &st) == 0 && S_ISDIR(st.st_mode)) {
		/* Chronos: return chronos_forecaster_new(spec, threads, e); */
		cp_fail(e, CP_USAGE, "model '%s': chronos support not built yet", spec);
		return NULL;
	}
	cp_fail(e, CP_USAGE, "unknown model '%s' (expected random_walk, drift, "
	        "seasonal_naive[:P] or a model directory)", spec);
	return NULL;
}
