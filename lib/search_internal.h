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

#endif
