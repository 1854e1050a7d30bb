/* trigger.h — should a horizon be re-optimized?  The checks behind
 * opt-trigger(1): performance degradation of the deployed config, drift of
 * the daily log-returns, time since the last optimization, and the cooldown
 * rule that can veto them.  The exact rules are in opt-trigger(1).
 *
 * Ownership: trigger_evaluate returns a new cJSON section the caller owns
 * (normally handed to env_set).  Nothing else allocates for the caller.
 */
#ifndef CHRONOPT_TRIGGER_H
#define CHRONOPT_TRIGGER_H
#include "common.h"
#include "drift.h"
#include "series.h"
#include "series_check.h"
#include <cJSON.h>

/* Default of trigger.time_min_new_origins: half the 30 held-out windows
 * opt-validate judges with, so a time-triggered validation decides on a
 * majority of windows the last one did not see. */
#define TRIGGER_MIN_NEW_ORIGINS 15

typedef struct {
	/* performance */
	double degradation_pct;      /* fires at a degradation >= pct; 15 */
	int perf_vs_random_walk;     /* 1: the degradation is of the RMSE relative to the random
	                                walk's on the same origins (against the same ratio at
	                                validation); 0: of the RMSE against the validation RMSE */
	int recent_origins;          /* most recent walk-forward origins scored; 14 */
	/* drift */
	int drift_baseline;          /* log-returns in the baseline window; 90 */
	int drift_recent;            /* log-returns in the recent window; 30 */
	drift_severity drift_min;    /* fires at this severity or above; MEDIUM */
	drift_rule rule;             /* severity grades, drift.h */
	int vol_window;              /* the volatility check: mean |log-return| of the last
	                                vol_window steps (5; 0: off) ... */
	double vol_factor;           /* ...>= vol_factor times the baseline window's fires; 2.5 */
	int psi_bins;                /* 10 */
	double psi_eps;              /* 1e-4 */
	/* time */
	int max_days;                /* fires when days since last >= max_days; 14 */
	int min_new_origins;         /* ...and at least this many observations arrived since
	                                the last optimization (new origins with a known
	                                outcome); 0: no such condition */
	int backoff_max;             /* max_days, min_new_origins and cooldown_days double
	                                after each optimization since the last deployment that
	                                deployed nothing, at most this many times; 3 (0: off) */
	/* cooldown */
	int cooldown_days;           /* optimized less than this many days ago: veto; 7 */
	drift_severity cooldown_severity; /* ...unless drift is at least this; HIGH */
	double cooldown_factor;      /* ...or degradation >= factor * degradation_pct; 2 */
	/* data checks (series_check.h): a stale series is never re-tuned; a gap
	 * stops re-tuning when gaps_refuse, else it is a warning */
	series_check_opts data;      /* max_gap_steps 5, stale_after_steps 5 */
	int gaps_refuse;             /* 1 (--gaps refuse, the default) or 0 (warn) */
} trigger_opts;

/* The defaults above. */
void trigger_opts_default(trigger_opts *o);
/* Override o from the settings' "trigger" section (keys listed in
 * opt-trigger(1) and configs/chronopt.json). Absent keys keep their value;
 * a present key of the wrong type or range: CP_DATA naming "trigger.<key>". */
int trigger_opts_from_settings(trigger_opts *o, const cJSON *settings, cp_err *e);
/* "random_walk" -> 1, "validation" -> 0; else -1. */
int trigger_perf_baseline_parse(const char *s, int *vs_random_walk);
/* "refuse" -> 1, "warn" -> 0; else -1. */
int trigger_gaps_parse(const char *s, int *refuse);
/* Range checks of the final values (CP_USAGE naming the option). */
int trigger_opts_check(const trigger_opts *o, cp_err *e);

/* What one evaluation looks at. */
typedef struct {
	const series *s;           /* the whole loaded series (not modified) */
	int as_of_given;           /* 1: evaluate as if the series ended at as_of */
	int32_t as_of;             /* with as_of_given: only observations dated <= as_of
	                              are used, and as_of is the reference date of the
	                              time check (backfills) */
	int32_t today;             /* reference date when !as_of_given (env_today()) */
	const char *horizon;       /* passes cp_name_ok */
	int steps;
	const char *config_dir;    /* deployed configs: <config_dir>/<horizon>.json */
	const char *history_path;  /* JSON Lines optimization history */
	const char *model_spec;    /* forecaster_open spec for the performance check */
	const char *forecast_log;  /* NULL: backtest; else CSV forecast_date,target_date,
	                              predicted,lower,upper ("{h}" replaced by horizon) */
	uint64_t seed;
	int force;
	cJSON *series_section;     /* the envelope's "series" object: the data check's
	                              fields are added to it (series_check_json); may be NULL */
} trigger_input;

/* The verdict of one evaluation, as data: what each check found and what
 * the rules (cooldown, data, --force) made of it. checks and reasons are
 * the checks' own figures and sentences, as they go into the section. */
typedef struct {
	int32_t reference;         /* the time check's reference date (as_of or today) */
	int used;                  /* observations used (those up to as_of) */
	int32_t last_used;         /* the last of them */
	struct {
		int evaluated, fired;
		double degradation;    /* percent; NaN when not evaluated */
	} performance;
	struct {
		int evaluated, fired;
		int volatility_fired;  /* the volatility check fired (fired includes it) */
		drift_severity severity;
	} drift;
	struct {
		int fired, never;      /* never: no optimization in the history */
		int days;              /* days since the last optimization; -1 when never */
		int backoff;           /* the bars are 2^backoff times the settings' */
	} time;
	series_report data;        /* the data check (series_check.h) */
	int data_blocks;           /* stale, or a gap with --gaps refuse */
	struct {
		long days;             /* the cooldown, backed off like the time check */
		int active;            /* optimized within it */
		int over_severity;     /* drift (or a volatility jump) reaches the override */
		int over_performance;  /* the degradation reaches the override */
		double over_degradation_pct;
		int blocked;           /* it vetoes what fired */
	} cooldown;
	int any_fired;             /* performance, drift or time fired */
	int forced;
	int should_optimize;
	int partial;               /* performance or drift could not be evaluated */
	cJSON *checks, *reasons;   /* owned; trigger_section moves them into the section */
} trigger_decision;

/* Run the data check, the three checks and the cooldown rule into *d.
 * Returns 0 (release d with trigger_decision_release, or hand it to
 * trigger_section), or -1 with e filled (the errors of trigger_evaluate);
 * then d holds nothing. */
int trigger_decide(const trigger_input *in, const trigger_opts *o, trigger_decision *d, cp_err *e);
void trigger_decision_release(trigger_decision *d);

/* The "trigger" section of a decision (without "seconds"), and the data
 * check's fields added to in->series_section. Moves d->checks and
 * d->reasons into it; the caller owns the section and still releases d. */
cJSON *trigger_section(const trigger_input *in, const trigger_opts *o, trigger_decision *d);

/* trigger_decide and trigger_section, with "seconds": the section (caller
 * owns it), or NULL with e filled. */
/* Run the three checks and the cooldown rule and build the "trigger"
 * section (status, should_optimize, fired, not_fired, summary, reasons,
 * checks, cooldown, seconds, ...). A check that cannot be evaluated (too
 * little data, no deployed config) says why in its section and in reasons,
 * and the status is "partial". Returns NULL with e filled on bad input
 * (CP_DATA: unreadable deployed config, history or forecast log, a series
 * value <= 0, as_of before the first observation; CP_IO; forecaster
 * errors). */
cJSON *trigger_evaluate(const trigger_input *in, const trigger_opts *o, cp_err *e);

/* Log-returns log(y[i]/y[i-1]) for i = 1..n-1 into out[n-1]. Returns 0, or
 * -1 with CP_DATA naming the index of the first value <= 0. */
int trigger_log_returns(const double *y, int n, double *out, cp_err *e);

/* The last optimization of a horizon, as its history record tells it. */
typedef struct {
	int32_t day;           /* optimization date */
	int has_series;        /* the record says which data it saw: */
	int32_t series_last;   /* series.last_date_checked, else series.last_date */
	int unproductive;      /* optimizations up to it, in the file's order, since the
	                          last one that deployed (all of them when none did) */
} trigger_last_opt;

/* Last optimization of `horizon` in the opt-history(1) file at or before
 * `upto`: like history_last(), only records whose optimization reached a
 * verdict (outcome "deployed" or "not_approved") count; of two on the same
 * day the later record wins. Returns 1 and fills *out, 0 when there is none
 * or the file does not exist, -1 with history_load's error (CP_DATA
 * "<path>:<line>: ..." for a torn or malformed record, CP_IO, CP_BUSY). */
int trigger_last_optimization(const char *path, const char *horizon, int32_t upto,
                              trigger_last_opt *out, cp_err *e);

#endif
