/* validate.h — should a candidate config replace the deployed one?
 *
 * Two layers.  vd_decide() is pure: it takes the metrics of the candidate,
 * the incumbent (NULL on a first deployment) and the random walk on the same
 * validation windows, plus their per-window losses, and returns every
 * criterion with value, threshold and verdict (tests craft the metrics).
 * vd_line() does the work for one envelope line: loads the series and the
 * incumbent, scores the three forecasters with bt_run and calls vd_decide.
 *
 * Criteria (the seed's, preset "balanced"):
 *   rmse_improvement_pct     >= 5    100 (inc - cand) / inc      } either one
 *   mape_improvement_pct     >= 3    100 (inc - cand) / inc      } suffices
 *   err_std_increase_pct     <= 10   100 (cand - inc) / inc
 *   inference_time_increase_pct <= 50  on seconds per window, both floored
 *                                    at time_floor_seconds
 *   coverage95               >= 0.90 share of actuals inside the 95 % interval
 *                                    (a quantile model without the 0.025 and
 *                                    0.975 levels: "coverage80" instead, the
 *                                    80 % interval against min_coverage95 -
 *                                    0.15, the same shortfall below nominal)
 *   bias_vs_random_walk_pct  <= 50   100 (|bias| - |bias_rw|) / mae_rw: the
 *                                    candidate's bias beyond the random walk's,
 *                                    in percent of the random walk's MAE on the
 *                                    same windows (scale-free)
 *   abs_bias                 <  off  |mean(forecast - actual)| in series units,
 *                                    only when max_abs_bias is set
 *   rmse_vs_random_walk_pct  >= 0    100 (rw - cand) / rw: never lose to it
 *   dm_p_value_vs_incumbent  <  0.05 only with require_significance (else
 *   dm_p_value_vs_random_walk        reported as "info"); one-sided p-value of
 *                                    the DM test that the candidate's squared
 *                                    error per window is lower
 * First deployment (no incumbent): the comparisons with the incumbent are
 * left out; the absolute criteria and the random walk decide.
 */
#ifndef CHRONOPT_VALIDATE_H
#define CHRONOPT_VALIDATE_H
#include "common.h"
#include "dmtest.h"
#include "metrics.h"
#include <cJSON.h>

typedef struct {
	double rmse_improvement_pct;
	double mape_improvement_pct;
	double err_std_increase_pct;
	double time_increase_pct;
	double time_floor_seconds;   /* per window; jitter below it is ignored */
	double min_coverage95;       /* fraction 0..1 */
	double max_bias_pct;         /* bias beyond the random walk's, % of its MAE */
	double max_abs_bias;         /* series units, strict; NaN: not checked */
	double min_rw_improvement_pct;
	int require_significance;
	double alpha;
	int dm_lags;                 /* 0: min(steps - 1, windows / 2), dmtest.h */
} vd_criteria;

/* Fill c from a preset: "conservative", "balanced", "aggressive".
 * Returns 0, or -1 (CP_USAGE "unknown preset 'x'"). */
int vd_preset(const char *name, vd_criteria *c, cp_err *e);

/* Apply settings section "validate" of the settings object: "preset" first
 * (unless skip_preset), then any of the keys named like the struct fields
 * (plus "min_coverage95", "require_significance" as true/false). Unknown keys
 * are ignored; a bad value is CP_DATA "settings: validate.<key> ...". */
int vd_criteria_from_settings(const cJSON *settings, int skip_preset, vd_criteria *c, cp_err *e);

/* Check ranges (percentages finite, 0 <= coverage <= 1, bias percentage
 * >= 0, absolute bias NaN (off) or > 0, 0 < alpha < 1, lags >= 0): CP_USAGE
 * naming the criterion. */
int vd_criteria_check(const vd_criteria *c, cp_err *e);

typedef struct {
	const mt_summary *cand;   /* required */
	const mt_summary *inc;    /* NULL: first deployment */
	const mt_summary *rw;     /* NULL: random walk not scored */
	const double *loss_cand;  /* per-window losses for the DM tests (nwin) */
	const double *loss_inc;   /* may be NULL */
	const double *loss_rw;    /* may be NULL */
	int nwin;
	int steps;                /* the DM horizon: how many consecutive windows
	                           * share a target, ceil(horizon / stride) */
} vd_input;

enum vd_verdict { VD_PASS, VD_FAIL, VD_INFO };

typedef struct {
	const char *name;    /* static string, see the table above */
	double value;        /* NaN when it could not be measured */
	double threshold;
	const char *op;      /* ">=", "<=", "<" */
	int verdict;         /* enum vd_verdict */
	int either;          /* 1: one of the "either" group suffices */
	char words[256];     /* the criterion in plain words */
} vd_check;

#define VD_MAX_CHECKS 10

typedef struct {
	int approved;
	int first_deployment;
	int ncheck;
	vd_check check[VD_MAX_CHECKS];
	int have_dm_inc, have_dm_rw;
	dm_result dm_inc, dm_rw;       /* candidate (a) against the other (b) */
	char dm_inc_note[256], dm_rw_note[256]; /* why a test is missing */
	int nreason;
	char reason[VD_MAX_CHECKS + 1][320];
	char summary[512];
} vd_decision;

/* Decide. Never fails: a metric that cannot be computed (NaN) fails its
 * criterion with a reason saying so. */
void vd_decide(const vd_criteria *c, const vd_input *in, vd_decision *d);

/* JSON pieces of the validation section (caller owns): "criteria" array of
 * {name, value, threshold, op, verdict, either}, "dm" object, "reasons". */
cJSON *vd_criteria_json(const vd_decision *d);
cJSON *vd_dm_json(const vd_decision *d);
cJSON *vd_reasons_json(const vd_decision *d);
cJSON *vd_thresholds_json(const vd_criteria *c, const char *preset);

/* Plain-text report of one envelope line that carries a validation section
 * (as written by vd_line); appended to *out (malloc'd, caller frees). ASCII
 * only, for people and mail. Returns 0, or -1 (CP_DATA) when the line has no
 * usable validation section. */
int vd_text_report(const cJSON *env, char **out, size_t *len, cp_err *e);

/* Options for one envelope line. */
typedef struct {
	vd_criteria crit;
	const char *preset;        /* name recorded in the report */
	const char *config_dir;
	int origins;               /* validation windows (default 30) */
	int stride;                /* default 1 */
	int batch;                 /* windows per forecaster call, 0: all */
} vd_options;

/* Validate one envelope line in place: sets env["validation"] (done, or
 * skipped when an earlier stage said stop). Returns 0; 1 when this horizon
 * cannot be validated (the series is too short for its windows): the
 * section is then env_error(e) and e says why, the line is written and the
 * others go on; or -1 with e filled (the line must then not be written). */
int vd_line(cJSON *env, const vd_options *o, cp_err *e);

#endif
