/* search_internal.h — private to lib/search.c and lib/search_json.c: the
 * helpers both halves of the search use. Not part of the public API
 * (search.h); nothing outside lib/search*.c includes it. */
#ifndef CHRONOPT_SEARCH_INTERNAL_H
#define CHRONOPT_SEARCH_INTERNAL_H
#include "search.h"

/* Everything that follows from options, trials and windows: the effective
 * contexts and their warnings, the rungs, the window order, the tables. */
void sr_finish_setup(sr_search *S);

/* Aggregate trial t (t < 0: the random walk) over the windows in mask (NULL:
 * the windows the trial has), in window order. Returns the count. */
int sr_aggregate(const sr_search *S, int t, const unsigned char *mask, mt_summary *out);

/* The number of windows trial t has scored. */
int sr_trial_windows(const sr_search *S, int t);

/* Best trial: most windows scored, then lowest RMSE, then trial number.
 * Returns -1 when no trial was scored. */
int sr_best_trial(const sr_search *S, mt_summary *bm);

/* Run the units of rung r (sr_units) in this process or `jobs` workers;
 * units that would start after `deadline` are left out and set
 * S->partial. *done counts units for the progress callback. */
int sr_run_rung(sr_search *S, int rung, const series *s, forecaster *f, forecaster *rw,
                int jobs, double deadline, sr_progress_fn progress, void *pctx, double t0,
                int *done, cp_err *e);

/* The TPE search (search_tpe.c): batches of suggested trials, each scored
 * on rung 0 (the pruning windows), checked, then on the rest. */
int sr_execute_tpe(sr_search *S, const series *s, forecaster *f, forecaster *rw, int jobs,
                   double deadline, sr_progress_fn progress, void *pctx, double t0, int *done,
                   cp_err *e);

/* 1 when config t of a TPE search was pruned (scored on rung 0 only). */
int sr_tpe_pruned(const sr_search *S, int t);

#endif
