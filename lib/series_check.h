/* series_check.h — what a loaded series is before anything is tuned on it:
 * its frequency (from the spacing of its dates), the steps of that
 * frequency between two dates, gaps longer than a limit, and how old its
 * last observation is. The rules are stated here and in opt-trigger(1).
 *
 * Frequency, from the spacings d_i = day[i] - day[i-1] (calendar days) and
 * their median m (the lower median when their count is even):
 *   fewer than 2 observations   "unknown"         steps are calendar days
 *   m = 1, under 5 % of the observations on a Saturday or Sunday
 *                               "business-daily"  steps are weekdays (Mon-Fri)
 *   m = 1 otherwise             "daily"           steps are calendar days
 *   5 <= m <= 10                "weekly"          steps are weeks
 *   25 <= m <= 35               "monthly"         steps are calendar months
 *   any other m                 "irregular"       steps are m days
 * Holidays do not change a business-daily series' steps: a weekday without
 * an observation is a step all the same.
 *
 * Steps from date a to date b (a <= b), series_steps():
 *   business-daily  weekdays in (a, b]
 *   daily, unknown  b - a
 *   weekly          (b - a) / 7 rounded to the nearest integer
 *   monthly         (year_b*12 + month_b) - (year_a*12 + month_a)
 *   irregular       (b - a) / m rounded to the nearest integer
 * and -series_steps(b, a) when b < a.
 *
 * A gap is two consecutive observations more than max_gap_steps steps apart
 * (at least max_gap_steps steps without an observation). The series is
 * stale when more than stale_after_steps steps separate its last date from
 * the reference date (today, or --as-of); stale_after_steps 0 turns the
 * check off.
 *
 * Nothing here allocates for the caller except series_check_json.
 */
#ifndef CHRONOPT_SERIES_CHECK_H
#define CHRONOPT_SERIES_CHECK_H
#include "series.h"
#include <cJSON.h>

typedef enum {
	SF_UNKNOWN, SF_BUSINESS_DAILY, SF_DAILY, SF_WEEKLY, SF_MONTHLY, SF_IRREGULAR
} series_freq;

typedef struct {
	series_freq freq;
	int spacing;    /* median spacing in calendar days (0 with < 2 observations) */
} series_frequency;

/* The frequency of day[0..n-1] (strictly increasing day numbers) by the
 * rule above. */
series_frequency series_detect_frequency(const int32_t *day, int n);

/* "business-daily", "daily", "weekly", "monthly", "irregular", "unknown". */
const char *series_freq_name(series_freq f);
/* The step in words, singular or plural: "business day"/"business days",
 * "day", "week", "month"; irregular: "step of about m days"/"steps of
 * about m days" (into buf, which is returned; buf holds >= 48 bytes). */
const char *series_step_words(const series_frequency *f, long count, char *buf, size_t len);
/* What the drift check compares, e.g. "weekly log-returns",
 * "business-daily log-returns"; irregular and unknown: "log-returns
 * between consecutive observations". A static string. */
const char *series_returns_words(series_freq f);

/* Steps of frequency f from day a to day b, by the rule above. */
long series_steps(const series_frequency *f, int32_t a, int32_t b);

typedef struct {
	int max_gap_steps;       /* a gap: more steps than this between neighbours; >= 1 */
	int stale_after_steps;   /* stale: more steps than this since the last date; 0: off */
} series_check_opts;

/* Defaults: max_gap_steps 5, stale_after_steps 5. */
void series_check_opts_default(series_check_opts *o);

typedef struct {
	series_frequency f;
	int n;                     /* observations looked at */
	int gaps;                  /* number of gaps */
	int32_t gap_after, gap_before; /* the longest gap's two dates (gaps > 0) */
	long gap_steps;            /* its length in steps */
	int32_t last, reference;   /* last date looked at, reference date */
	long steps_since_last;     /* series_steps(last, reference) */
	int stale;                 /* 1 when the check is on and steps_since_last > limit */
	series_check_opts o;
} series_report;

/* Check the first n observations of s against reference date `ref`.
 * n >= 1. */
void series_check(const series *s, int n, int32_t ref, const series_check_opts *o, series_report *r);

/* Add the report's fields to the envelope's "series" object `obj`
 * (replacing keys of the same names): frequency, step, spacing_days, gaps
 * {max_steps, count, longest: null | {after, before, steps}},
 * last_date_checked (the last date looked at: last_date, or the last one
 * up to --as-of), reference_date, steps_since_last, stale_after_steps (null
 * when off), stale. */
void series_check_json(cJSON *obj, const series_report *r);

/* One sentence for people about a stale series, or the longest gap, into
 * buf: "the series is stale: its last observation, 2026-03-02, is 40
 * business days before 2026-11-23 (limit 5)"; "the series has 1 gap longer
 * than 5 business days; the longest, 2300 business days, is between
 * 2006-01-02 and 2015-03-02". Returns buf. */
const char *series_stale_words(const series_report *r, char *buf, size_t len);
const char *series_gap_words(const series_report *r, char *buf, size_t len);

#endif
