/* trigger_internal.h — shared by lib/trigger.c (options, drift, time,
 * cooldown, the "trigger" section) and lib/trigger_perf.c (the performance
 * check).  Private: the public API is trigger.h. */
#ifndef CHRONOPT_TRIGGER_INTERNAL_H
#define CHRONOPT_TRIGGER_INTERNAL_H
#include "trigger.h"

#include <stdarg.h>
#include <stdio.h>

typedef struct {
	int evaluated, fired;
	double degradation;     /* percent; NaN when not evaluated */
} perf_out;

/* trigger_perf.c.  Fill sec (the performance check's object); append to
 * reasons. */
int trigger_check_performance(const trigger_input *in, const series *sv, const trigger_opts *o,
                              cJSON *sec, cJSON *reasons, perf_out *po, cp_err *e);

/* Section helpers used by both files. */
static inline void add_date(cJSON *o, const char *key, int32_t day)
{
	char buf[11];
	cp_format_date(day, buf);
	cJSON_AddStringToObject(o, key, buf);
}

static inline void add_reason(cJSON *arr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void add_reason(cJSON *arr, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	cJSON_AddItemToArray(arr, cJSON_CreateString(buf));
}

#endif
