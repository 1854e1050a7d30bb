/* challenger.h — champion-challenger: an approved candidate goes live beside
 * the deployed config (the champion) instead of replacing it, both are
 * scored on the origins that come after it started, and after a set number
 * of them it is promoted or retired.  opt-deploy(1) has the user's view.
 *
 * The file <dir>/<horizon>.challenger.json, committed in the config
 * repository like the champion <dir>/<horizon>.json: a deployed config (the
 * same fields, read by the same parser, depconfig.h) plus
 *   "challenger": {"started_at": "YYYY-MM-DDTHH:MM:SSZ",
 *                  "start_date": "YYYY-MM-DD"   (the series' last date when
 *                                                it started),
 *                  "origins_required": N        (integer 3..100000),
 *                  "level": a                   (number in (0, 0.5]),
 *                  "run_id": "..."}
 *
 * Scoring (ch_score): origins t, one observation apart, whose forecast is
 * made at or after the start (the last observation of the context, day
 * t-1, on or after start_date) and whose whole target y[t..t+steps-1] is
 * observed; the oldest `origins_required` of them are used, so a decision
 * does not depend on the day it is made.  Champion and challenger run on
 * the same origins with the same seed (stream = origin index, as every
 * backtest).  Loss of an origin: the sum of squared errors of its window.
 *
 * Decision, once origins_required origins are available: the
 * Diebold-Mariano test with the HLN correction (dmtest.h, its lag rule),
 * one-sided, H1 "the challenger has the lower expected loss": promote when
 * its p-value is below `level`, else retire.  When DM is not defined on
 * those losses (zero variance of the differences with a non-zero mean, an
 * HLN factor that is not positive) a sign test decides instead: promote
 * when P(Binomial(m, 1/2) >= wins) < level, m the origins that are not
 * ties, wins those where the challenger's loss is lower.  Both are
 * invariant to the scale of the series.
 *
 * Crash safety.  Promotion: back up the champion, write the challenger's
 * config (with "promoted_from": the challenger file's sha256 and its
 * scores) as <horizon>.json, remove <horizon>.challenger.json, commit both
 * in one commit.  A failure before the commit puts both files back.  A
 * crash (SIGKILL, power cut) can leave the new champion beside the
 * challenger file it names in promoted_from: every reader (ch_load) treats
 * such a file as gone, and the next change of the horizon (any opt-deploy
 * deploy, challenge, rollback) removes it and commits.  Retirement: remove
 * the file, commit; the next change commits a removal a crash left
 * uncommitted.
 */
#ifndef CHRONOPT_CHALLENGER_H
#define CHRONOPT_CHALLENGER_H
#include "common.h"
#include "deploy.h"
#include "forecast.h"
#include "series.h"
#include <cJSON.h>
#include <stdio.h>

#define CH_ORIGINS_DEFAULT 20
#define CH_LEVEL_DEFAULT 0.05
#define CH_ORIGINS_MAX 100000

/* What a challenger file says. */
typedef struct {
	fc_config cfg;
	char started_at[32];
	char start_date[11];
	int32_t start_day;
	int origins;          /* origins_required */
	double level;
	char sha256[65];      /* of the file's bytes */
	char model[4096];     /* its "model"."dir", "" when none */
} ch_info;

/* "<dir>/<horizon>.challenger.json" into buf; CP_USAGE for a horizon that
 * is not a plain name, CP_IO when too long. */
int ch_path(char *buf, size_t len, const char *dir, const char *h, cp_err *e);

/* Parse text (len bytes) as the challenger file of h at path: a deployed
 * config of h (dc_parse) with a valid "challenger" object (above). Caller
 * owns the result; NULL with CP_DATA "<path>: ..." otherwise. */
cJSON *ch_parse(const char *text, size_t len, const char *path, const char *h, ch_info *info, cp_err *e);

/* Load the live challenger of h: NULL with *missing = 1 when there is none
 * or when the champion <h>.json names its bytes in "promoted_from" (a
 * promotion a crash interrupted), NULL with e filled on a bad file. */
cJSON *ch_load(const char *dir, const char *h, int *missing, ch_info *info, cp_err *e);

/* The settings: deploy.mode "champion" (default) or "challenger",
 * challenger.origins (default CH_ORIGINS_DEFAULT), challenger.level
 * (CH_LEVEL_DEFAULT). CP_DATA "settings: ..." on a bad value. */
int ch_settings(const cJSON *settings, int *as_challenger, int *origins, double *level, cp_err *e);

/* The score of champion and challenger so far. */
typedef struct {
	int available;        /* origins since the start with known outcomes */
	int used;             /* min(available, required) */
	int required;
	int decided;          /* used == required */
	int promote;          /* when decided */
	double rmse_champion, rmse_challenger;
	int wins, losses, ties; /* challenger's loss lower / higher / equal */
	const char *test;     /* "dm", "sign" or NULL (too few origins) */
	double stat, p_value; /* one-sided, H1: challenger better */
	int lags;
	char dm_note[CP_ERR_MAX];    /* why DM was not used, "" */
	char first[11], last[11]; /* origin dates used, "" when none */
} ch_score;

/* Score the champion with forecaster fcp and the challenger with fch on s
 * (see above; each config runs on its own "model"."dir", else --model).
 * Returns 0 and fills *out, or -1 with e filled. */
int ch_score_run(forecaster *fcp, forecaster *fch, const series *s, int steps, const fc_config *champion,
                 const fc_config *challenger, const ch_info *ci, uint64_t seed, ch_score *out, cp_err *e);

/* The sign test's p: P(X >= k) for X ~ Binomial(m, 1/2). */
double ch_sign_p(int m, int k);

/* The decision on the losses alone (for tests): loss_ch[n], loss_cp[n]. */
void ch_decide(const double *loss_ch, const double *loss_cp, int n, int steps, double level, ch_score *out);

/* deploy_challenger.c: write cfg (a complete config object, "challenger"
 * included) as h's challenger and commit it; a challenger already live is
 * replaced.  Returns 0 and fills *r, or -1 (nothing changed). */
int dp_challenger_start(const dp_options *o, const char *h, const cJSON *cfg, dp_result *r, cp_err *e);
/* Promote h's challenger (its sha256 must be `sha`: the file scored) with
 * the scores object `scores`, or retire it. Return 0 and fill *r, or -1. */
int dp_challenger_promote(const dp_options *o, const char *h, const char *sha, const cJSON *scores,
                          dp_result *r, cp_err *e);
int dp_challenger_retire(const dp_options *o, const char *h, const char *sha, const cJSON *scores,
                         dp_result *r, cp_err *e);
/* Take the lock and finish what a killed promotion or retirement left:
 * *done "promoted", "retired" or "" as dp_challenger_recover. */
int dp_challenger_complete(const dp_options *o, const char *h, const char **done, dp_result *r, cp_err *e);

/* `opt-deploy challenge`: for each horizon (names[n]) with a challenger,
 * finish an interrupted change, score, and promote or retire when decided;
 * one envelope line per such horizon on out with a "challenger" section
 * (chronopt-envelope(7)). Horizons without a challenger write nothing. */
typedef struct {
	const char *series_path, *series_id, *model, *run_id;
	uint64_t seed;
	const char *const *names;
	const int *steps;
	int n;
} ch_stage_opts;
int ch_stage(const dp_options *o, const ch_stage_opts *so, FILE *out, cp_err *e);
/* The command: series_path, id (may be NULL), model, seed (NULL: 42) as
 * typed; horizons[nh] (nh 0: every horizon of the settings); the run id
 * from $CHRONOPT_RUN_ID or a new one. CP_USAGE for a bad option. */
int ch_command(const dp_options *o, const cJSON *settings, const char *series_path, const char *id,
               const char *model, const char *seed, const char *const *horizons, int nh, FILE *out, cp_err *e);

#endif
