/* forecast_registry.c — the one place where model specs map to
 * constructors (see forecaster_open in forecast.h). */
#include "forecast.h"
#include "chronos.h"
#include "chronos2.h"
#include "ensemble.h"
#include "envelope.h"
#include "fcache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <string.h>
#include <sys/stat.h>

#define SEASONAL_DEFAULT_PERIOD 5 /* banking days in a week */

forecaster *forecaster_open(const char *spec, cp_err *e)
{
	if (!spec || !*spec) {
		cp_fail(e, CP_USAGE, "empty model name");
		return NULL;
	}
	if (!strncmp(spec, "ensemble:", 9))
		return ensemble_open_spec(spec, e);
	if (!strcmp(spec, "ensemble")) {
		cp_fail(e, CP_USAGE, "model 'ensemble': an ensemble is run from its config "
		        "(its \"ensemble\" list), not by name");
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
		/* Thread count is explicit: $CHRONOPT_THREADS, else 1. */
		long threads = 1;
		const char *t = getenv("CHRONOPT_THREADS");
		if (t && *t && cp_parse_long(t, 1, 256, &threads) < 0) {
			cp_fail(e, CP_USAGE, "CHRONOPT_THREADS='%.20s' is not an integer in 1..256", t);
			return NULL;
		}
		size_t n = strlen(spec) + 16;
		char *cfg = cp_malloc(n);
		snprintf(cfg, n, "%s/config.json", spec);
		int family;
		int rc = cc_detect(cfg, &family, e);
		free(cfg);
		if (rc < 0)
			return NULL;
		forecaster *f = family == CC_CHRONOS2 ? chronos2_forecaster_new(spec, (int)threads, e)
		                                      : chronos_forecaster_new(spec, (int)threads, e);
		return fcache_from_env(f, spec, e);
	}
	if (strchr(spec, '/')) {
		errno = ENOENT;
		cp_fail_errno(e, "model directory '%s'", spec);
		return NULL;
	}
	cp_fail(e, CP_USAGE, "unknown model '%s' (expected random_walk, drift, "
	        "seasonal_naive[:P] or a model directory)", spec);
	return NULL;
}

int fc_rows(const forecaster *f, const fc_config *cfg)
{
	return f->nquantiles > 0 ? f->nquantiles : cfg->num_samples;
}

int forecaster_spec_check(const char *spec, int sample_only, cp_err *e)
{
	if (!spec || !*spec)
		return cp_fail(e, CP_USAGE, "empty model name");
	if (!strcmp(spec, "random_walk") || !strcmp(spec, "drift") || !strcmp(spec, "seasonal_naive"))
		return 0;
	if (!strncmp(spec, "seasonal_naive:", 15)) {
		long p;
		if (cp_parse_long(spec + 15, 1, 100000, &p) < 0)
			return cp_fail(e, CP_USAGE, "model '%s': period must be an integer in 1..100000", spec);
		return 0;
	}
	struct stat st;
	if (stat(spec, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (!sample_only)
			return 0;
		size_t n = strlen(spec) + 16;
		char *cfg = cp_malloc(n);
		snprintf(cfg, n, "%s/config.json", spec);
		int family, rc = cc_detect(cfg, &family, e);
		free(cfg);
		if (rc < 0)
			return -1;
		if (family != CC_T5)
			return cp_fail(e, CP_DATA, "'%s' is a %s model: it forecasts quantiles, not the sample "
			               "paths an ensemble mixes (Chronos-T5 and the baselines)", spec,
			               cc_family_name(family));
		return 0;
	}
	if (strchr(spec, '/')) {
		errno = ENOENT;
		return cp_fail_errno(e, "model directory '%s'", spec);
	}
	return cp_fail(e, CP_USAGE, "unknown model '%s' (expected random_walk, drift, "
	               "seasonal_naive[:P] or a model directory)", spec);
}
