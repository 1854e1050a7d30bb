/* test_series_check.c — the frequency rule, steps between dates, gaps and
 * staleness (series_check.h) on hand-made calendars, each against a count
 * made by walking the calendar one day at a time; and the bundled USD/CLP
 * series (business-daily, no gap). Run from the repository root. */
#include "series_check.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static int32_t D(const char *s)
{
	int32_t d = 0;
	if (cp_parse_date(s, &d) < 0)
		abort();
	return d;
}

/* Naive references: walk the days one by one. */
static long naive_weekdays(int32_t a, int32_t b)  /* weekdays in (a, b] */
{
	long n = 0;
	for (int32_t d = a + 1; d <= b; d++) {
		/* 1970-01-01 was a Thursday; Monday = 0 */
		long w = (((long)d + 3) % 7 + 7) % 7;
		n += w < 5;
	}
	return n;
}

static long naive_months(int32_t a, int32_t b)  /* month boundaries crossed in (a, b] */
{
	long n = 0;
	char x[11];
	for (int32_t d = a + 1; d <= b; d++) {
		cp_format_date(d, x);
		n += x[8] == '0' && x[9] == '1';
	}
	return n;
}

/* Fill s with the given days (and value 1). */
static void make(series *s, const int32_t *day, int n)
{
	memset(s, 0, sizeof(*s));
	s->path = "test";
	s->id = "";
	s->n = n;
	s->day = (int32_t *)day;
	s->y = NULL;
}

/* n dates from `from`, every `every` days, skipping Saturdays and Sundays
 * when weekdays_only. */
static int32_t *calendar(const char *from, int n, int every, int weekdays_only)
{
	int32_t *d = malloc((size_t)n * sizeof(int32_t)), x = D(from);
	for (int i = 0; i < n; x += every) {
		long w = (((long)x + 3) % 7 + 7) % 7;
		if (weekdays_only && w >= 5)
			continue;
		d[i++] = x;
	}
	return d;
}

/* n month ends from the month of `from` */
static int32_t *month_ends(int y, int m, int n)
{
	int32_t *d = malloc((size_t)n * sizeof(int32_t));
	for (int i = 0; i < n; i++) {
		int yy = y + (m - 1 + i + 1) / 12, mm = (m - 1 + i + 1) % 12 + 1;
		char b[11];
		snprintf(b, sizeof b, "%04d-%02d-01", yy, mm);
		d[i] = D(b) - 1;  /* the day before the first of the next month */
	}
	return d;
}

int main(void)
{
	series s;
	series_check_opts o;
	series_check_opts_default(&o);
	CHECK(o.max_gap_steps == 5 && o.stale_after_steps == 5, "defaults: gaps over 5 steps, stale after 5");

	/* ---- frequency */
	int32_t *bd = calendar("2024-01-01", 300, 1, 1);
	series_frequency f = series_detect_frequency(bd, 300);
	CHECK(f.freq == SF_BUSINESS_DAILY && f.spacing == 1, "weekdays only: business-daily, spacing 1");
	int32_t *dd = calendar("2024-01-01", 300, 1, 0);
	f = series_detect_frequency(dd, 300);
	CHECK(f.freq == SF_DAILY && f.spacing == 1, "every day: daily");
	int32_t *wk = calendar("2024-01-05", 100, 7, 0);
	f = series_detect_frequency(wk, 100);
	CHECK(f.freq == SF_WEEKLY && f.spacing == 7, "every 7 days: weekly");
	int32_t *me = month_ends(2015, 1, 60);
	f = series_detect_frequency(me, 60);
	CHECK(f.freq == SF_MONTHLY && f.spacing == 31, "month ends: monthly (median spacing 31)");
	int32_t *q = calendar("2000-01-01", 40, 91, 0);
	f = series_detect_frequency(q, 40);
	CHECK(f.freq == SF_IRREGULAR && f.spacing == 91, "every 91 days: irregular, spacing 91");
	f = series_detect_frequency(bd, 1);
	CHECK(f.freq == SF_UNKNOWN && f.spacing == 0, "one observation: unknown");
	/* a few weekend observations (under 5 %) keep it business-daily; 5 % do not */
	{
		int32_t x[40];
		int n = 0;
		for (int32_t d = D("2024-01-01"); n < 40; d++)  /* 40 consecutive days: 12 on weekends */
			x[n++] = d;
		CHECK(series_detect_frequency(x, 40).freq == SF_DAILY, "consecutive days with weekends: daily");
		int32_t y[41];
		memcpy(y, bd, 40 * sizeof(int32_t));            /* 40 weekdays ... */
		y[40] = D("2024-03-02");                         /* ... and one Saturday after them: 1/41 < 5 % */
		CHECK(y[39] < y[40] && series_detect_frequency(y, 41).freq == SF_BUSINESS_DAILY,
		      "1 weekend date in 41: still business-daily");
		int32_t z[20];
		memcpy(z, bd, 19 * sizeof(int32_t));             /* 19 weekdays and a Saturday: 1/20 = 5 % */
		z[19] = D("2024-01-27");
		CHECK(z[18] < z[19] && series_detect_frequency(z, 20).freq == SF_DAILY, "5 % on weekends: daily");
	}
	CHECK(!strcmp(series_freq_name(SF_BUSINESS_DAILY), "business-daily") &&
	      !strcmp(series_returns_words(SF_WEEKLY), "weekly log-returns") &&
	      !strcmp(series_returns_words(SF_IRREGULAR), "log-returns between consecutive observations"),
	      "names and the drift variable in words");

	/* ---- steps, against the naive walks */
	series_frequency fb = {SF_BUSINESS_DAILY, 1}, fd = {SF_DAILY, 1}, fw = {SF_WEEKLY, 7},
	                 fm = {SF_MONTHLY, 31}, fi = {SF_IRREGULAR, 91};
	int bad = 0;
	int32_t base = D("1969-12-20");  /* across the epoch and negative day numbers */
	for (int32_t a = base; a < base + 30; a++)
		for (int32_t b = a; b < a + 400; b += 3) {
			bad += series_steps(&fb, a, b) != naive_weekdays(a, b);
			bad += series_steps(&fb, b, a) != -naive_weekdays(a, b);
			bad += series_steps(&fd, a, b) != b - a;
			bad += series_steps(&fm, a, b) != naive_months(a, b);
		}
	CHECK(bad == 0, "business days, days and months between dates match a day-by-day count");
	CHECK(series_steps(&fb, D("2026-09-18"), D("2026-09-21")) == 1, "Friday to Monday: 1 business day");
	CHECK(series_steps(&fb, D("2026-09-23"), D("2026-11-23")) == 43, "2026-09-23 to 2026-11-23: 43 business days");
	CHECK(series_steps(&fw, D("2026-01-02"), D("2026-01-08")) == 1 &&
	      series_steps(&fw, D("2026-01-02"), D("2026-01-05")) == 0 &&
	      series_steps(&fw, D("2026-01-02"), D("2026-01-06")) == 1, "weeks round to the nearest: 6 -> 1, 3 -> 0, 4 -> 1");
	CHECK(series_steps(&fm, D("2026-01-31"), D("2026-02-28")) == 1 &&
	      series_steps(&fm, D("2026-01-01"), D("2026-12-31")) == 11, "months: calendar months apart");
	CHECK(series_steps(&fi, D("2000-01-01"), D("2000-04-01")) == 1 &&
	      series_steps(&fi, D("2000-01-01"), D("2000-02-15")) == 0, "irregular: days / spacing rounded");

	/* ---- gaps */
	series_report r;
	make(&s, bd, 300);
	series_check(&s, 300, bd[299], &o, &r);
	CHECK(r.gaps == 0 && r.steps_since_last == 0 && !r.stale, "complete weekdays: no gap, not stale");
	{
		int32_t g[300];
		memcpy(g, bd, sizeof g);
		/* drop 5 weekdays (one business week) after index 100: 6 steps apart > 5 */
		for (int i = 101; i < 300; i++)
			g[i] = bd[i] + 7;
		make(&s, g, 300);
		series_check(&s, 300, g[299], &o, &r);
		char a[11], b[11];
		cp_format_date(r.gap_after, a);
		cp_format_date(r.gap_before, b);
		CHECK(r.gaps == 1 && r.gap_steps == 6 && r.gap_after == bd[100] && r.gap_before == bd[101] + 7,
		      "a missing business week is a gap of 6 steps between its neighbours");
		char w[300];
		series_gap_words(&r, w, sizeof w);
		char want[300];
		snprintf(want, sizeof want, "the series has 1 gap longer than 5 business days; the longest, "
		         "6 business days, is between %s and %s", a, b);
		CHECK(!strcmp(w, want), "the gap in words");
		series_check_opts o6 = o;
		o6.max_gap_steps = 6;
		series_check(&s, 300, g[299], &o6, &r);
		CHECK(r.gaps == 0, "--max-gap-steps 6: 6 steps apart is not a gap");
	}
	{
		/* a 9-year hole in a monthly series */
		int32_t m[30];
		int32_t *a1 = month_ends(2000, 1, 15), *a2 = month_ends(2009, 1, 15);
		memcpy(m, a1, 15 * sizeof(int32_t));
		memcpy(m + 15, a2, 15 * sizeof(int32_t));
		make(&s, m, 30);
		series_check(&s, 30, m[29], &o, &r);
		CHECK(r.f.freq == SF_MONTHLY && r.gaps == 1 && r.gap_steps == 94,
		      "monthly: a hole from 2001-03-31 to 2009-01-31 is one gap of 94 months");
		free(a1);
		free(a2);
	}

	/* ---- staleness */
	make(&s, wk, 100);
	series_check(&s, 100, wk[99] + 35, &o, &r);
	CHECK(r.steps_since_last == 5 && !r.stale, "weekly: 5 weeks old is not stale (limit 5)");
	series_check(&s, 100, wk[99] + 39, &o, &r);
	CHECK(r.steps_since_last == 6 && r.stale, "weekly: 6 weeks old is stale");
	char w[300], l[11], rf[11];
	cp_format_date(r.last, l);
	cp_format_date(r.reference, rf);
	char want[300];
	snprintf(want, sizeof want, "the series is stale: its last observation, %s, is 6 weeks before %s (limit 5)", l, rf);
	CHECK(!strcmp(series_stale_words(&r, w, sizeof w), want), "stale in words");
	series_check_opts off = o;
	off.stale_after_steps = 0;
	series_check(&s, 100, wk[99] + 3650, &off, &r);
	CHECK(!r.stale && r.steps_since_last == 521, "stale_after_steps 0: never stale, the age still counted");
	make(&s, me, 60);
	series_check(&s, 50, me[49] + 100, &o, &r);
	CHECK(r.last == me[49] && r.steps_since_last == naive_months(me[49], me[49] + 100) && r.steps_since_last == 4 &&
	      !r.stale, "only the first n observations count");

	/* ---- the bundled series */
	series u;
	cp_err e = {0};
	if (series_load(&u, "testdata/usdclp_daily.csv", NULL, 1, &e) == 0) {
		series_check(&u, u.n, D("2026-11-23"), &o, &r);
		CHECK(r.f.freq == SF_BUSINESS_DAILY && r.gaps == 0, "USD/CLP: business-daily, no gap over 5 business days");
		CHECK(r.steps_since_last == 43 && r.stale, "USD/CLP on 2026-11-23: 43 business days old, stale");
		cJSON *j = cJSON_CreateObject();
		series_check_json(j, &r);
		char *t = cJSON_PrintUnformatted(j);
		CHECK(!strcmp(t, "{\"frequency\":\"business-daily\",\"step\":\"business day\",\"spacing_days\":1,"
		                 "\"gaps\":{\"max_steps\":5,\"count\":0,\"longest\":null},\"last_date_checked\":\"2026-09-23\","
		                 "\"reference_date\":\"2026-11-23\",\"steps_since_last\":43,\"stale_after_steps\":5,"
		                 "\"stale\":true}"), "the envelope fields");
		free(t);
		cJSON_Delete(j);
		series_free(&u);
	} else {
		CHECK(0, e.msg);
	}
	free(bd);
	free(dd);
	free(wk);
	free(me);
	free(q);
	return tap_done();
}
