/* series_check.c — frequency, steps, gaps and staleness; the rules are in
 * series_check.h. */
#include "series_check.h"
#include "envelope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long floor_div(long a, long b)
{
	long q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* 0 = Monday .. 6 = Sunday; day 0 (1970-01-01) was a Thursday. */
static int weekday(int32_t d)
{
	return (int)(((long)d + 3) - 7 * floor_div((long)d + 3, 7));
}

/* Weekdays among the days <= d, counted from the Monday 1970-01-05 (day 4);
 * only differences matter. */
static long weekdays_upto(int32_t d)
{
	long k = (long)d - 4;
	long weeks = floor_div(k, 7), rem = k - 7 * weeks;
	return 5 * weeks + (rem + 1 < 5 ? rem + 1 : 5);
}

static long month_index(int32_t d)
{
	char b[11];
	cp_format_date(d, b);
	long y = (b[0] - '0') * 1000 + (b[1] - '0') * 100 + (b[2] - '0') * 10 + (b[3] - '0');
	return y * 12 + (b[5] - '0') * 10 + (b[6] - '0') - 1;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

series_frequency series_detect_frequency(const int32_t *day, int n)
{
	series_frequency f = {SF_UNKNOWN, 0};
	if (n < 2)
		return f;
	int *d = cp_malloc((size_t)(n - 1) * sizeof(int));
	for (int i = 1; i < n; i++)
		d[i - 1] = (int)(day[i] - day[i - 1]);
	qsort(d, (size_t)(n - 1), sizeof(int), cmp_int);
	int m = d[(n - 2) / 2];
	free(d);
	f.spacing = m;
	if (m == 1) {
		long weekend = 0;
		for (int i = 0; i < n; i++)
			weekend += weekday(day[i]) >= 5;
		/* under 5 %: weekend * 20 < n */
		f.freq = weekend * 20 < n ? SF_BUSINESS_DAILY : SF_DAILY;
	} else if (m >= 5 && m <= 10) {
		f.freq = SF_WEEKLY;
	} else if (m >= 25 && m <= 35) {
		f.freq = SF_MONTHLY;
	} else {
		f.freq = SF_IRREGULAR;
	}
	return f;
}

const char *series_freq_name(series_freq f)
{
	switch (f) {
	case SF_BUSINESS_DAILY: return "business-daily";
	case SF_DAILY: return "daily";
	case SF_WEEKLY: return "weekly";
	case SF_MONTHLY: return "monthly";
	case SF_IRREGULAR: return "irregular";
	case SF_UNKNOWN: break;
	}
	return "unknown";
}

const char *series_step_words(const series_frequency *f, long count, char *buf, size_t len)
{
	int one = count == 1 || count == -1;
	const char *w;
	switch (f->freq) {
	case SF_BUSINESS_DAILY: w = one ? "business day" : "business days"; break;
	case SF_WEEKLY: w = one ? "week" : "weeks"; break;
	case SF_MONTHLY: w = one ? "month" : "months"; break;
	case SF_IRREGULAR:
		snprintf(buf, len, "%s of about %d days", one ? "step" : "steps", f->spacing);
		return buf;
	default: w = one ? "day" : "days"; break;
	}
	snprintf(buf, len, "%s", w);
	return buf;
}

const char *series_returns_words(series_freq f)
{
	switch (f) {
	case SF_BUSINESS_DAILY: return "business-daily log-returns";
	case SF_DAILY: return "daily log-returns";
	case SF_WEEKLY: return "weekly log-returns";
	case SF_MONTHLY: return "monthly log-returns";
	default: break;
	}
	return "log-returns between consecutive observations";
}

long series_steps(const series_frequency *f, int32_t a, int32_t b)
{
	if (b < a)
		return -series_steps(f, b, a);
	long days = (long)b - a;
	switch (f->freq) {
	case SF_BUSINESS_DAILY: return weekdays_upto(b) - weekdays_upto(a);
	case SF_WEEKLY: return (days + 3) / 7;
	case SF_MONTHLY: return month_index(b) - month_index(a);
	case SF_IRREGULAR: return f->spacing > 0 ? (days + f->spacing / 2) / f->spacing : days;
	default: break;
	}
	return days;
}

void series_check_opts_default(series_check_opts *o)
{
	o->max_gap_steps = 5;
	o->stale_after_steps = 5;
}

void series_check(const series *s, int n, int32_t ref, const series_check_opts *o, series_report *r)
{
	memset(r, 0, sizeof(*r));
	r->o = *o;
	r->n = n;
	r->f = series_detect_frequency(s->day, n);
	for (int i = 1; i < n; i++) {
		long st = series_steps(&r->f, s->day[i - 1], s->day[i]);
		if (st <= o->max_gap_steps)
			continue;
		r->gaps++;
		if (st > r->gap_steps) {
			r->gap_steps = st;
			r->gap_after = s->day[i - 1];
			r->gap_before = s->day[i];
		}
	}
	r->last = s->day[n - 1];
	r->reference = ref;
	r->steps_since_last = series_steps(&r->f, r->last, ref);
	r->stale = o->stale_after_steps > 0 && r->steps_since_last > o->stale_after_steps;
}

static void set(cJSON *obj, const char *key, cJSON *v)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v);
	else
		cJSON_AddItemToObject(obj, key, v);
}

static cJSON *date_json(int32_t d)
{
	char b[11];
	cp_format_date(d, b);
	return cJSON_CreateString(b);
}

void series_check_json(cJSON *obj, const series_report *r)
{
	char w[64];
	set(obj, "frequency", cJSON_CreateString(series_freq_name(r->f.freq)));
	set(obj, "step", cJSON_CreateString(series_step_words(&r->f, 1, w, sizeof w)));
	set(obj, "spacing_days", cJSON_CreateNumber(r->f.spacing));
	cJSON *g = cJSON_CreateObject();
	cJSON_AddNumberToObject(g, "max_steps", r->o.max_gap_steps);
	cJSON_AddNumberToObject(g, "count", r->gaps);
	if (r->gaps) {
		cJSON *l = cJSON_AddObjectToObject(g, "longest");
		cJSON_AddItemToObject(l, "after", date_json(r->gap_after));
		cJSON_AddItemToObject(l, "before", date_json(r->gap_before));
		cJSON_AddNumberToObject(l, "steps", (double)r->gap_steps);
	} else {
		cJSON_AddNullToObject(g, "longest");
	}
	set(obj, "gaps", g);
	set(obj, "last_date_checked", date_json(r->last));
	set(obj, "reference_date", date_json(r->reference));
	set(obj, "steps_since_last", cJSON_CreateNumber((double)r->steps_since_last));
	set(obj, "stale_after_steps",
	    r->o.stale_after_steps > 0 ? cJSON_CreateNumber(r->o.stale_after_steps) : cJSON_CreateNull());
	set(obj, "stale", cJSON_CreateBool(r->stale));
}

const char *series_stale_words(const series_report *r, char *buf, size_t len)
{
	char l[11], ref[11], w[64];
	cp_format_date(r->last, l);
	cp_format_date(r->reference, ref);
	snprintf(buf, len, "the series is stale: its last observation, %s, is %ld %s before %s (limit %d)",
	         l, r->steps_since_last, series_step_words(&r->f, r->steps_since_last, w, sizeof w), ref,
	         r->o.stale_after_steps);
	return buf;
}

const char *series_gap_words(const series_report *r, char *buf, size_t len)
{
	char a[11], b[11], w1[64], w2[64];
	cp_format_date(r->gap_after, a);
	cp_format_date(r->gap_before, b);
	snprintf(buf, len, "the series has %d gap%s longer than %d %s; the longest, %ld %s, is between %s and %s",
	         r->gaps, r->gaps == 1 ? "" : "s", r->o.max_gap_steps,
	         series_step_words(&r->f, r->o.max_gap_steps, w1, sizeof w1), r->gap_steps,
	         series_step_words(&r->f, r->gap_steps, w2, sizeof w2), a, b);
	return buf;
}
