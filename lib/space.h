/* space.h — search spaces and the pure arithmetic of a search: grid order,
 * seeded random picks, the successive-halving schedule and its nested
 * window order.  No I/O; every function is deterministic. */
#ifndef CHRONOPT_SPACE_H
#define CHRONOPT_SPACE_H
#include "common.h"
#include "forecast.h"
#include <cJSON.h>
#include "tpe.h"

#define SP_MAX_VALUES 64       /* per dimension */
#define SP_MAX_CONFIGS 10000   /* whole grid (scores are kept per config and window) */

/* One list of candidate values per setting. Integer dimensions keep their
 * values in the double arrays too (exact for the allowed ranges). */
enum { SP_CTX = FC_CTX, SP_SAMPLES = FC_SAMPLES, SP_TEMP = FC_TEMP, SP_TOPK = FC_TOPK,
       SP_TOPP = FC_TOPP, SP_NDIM = FC_NKEYS };  /* the settings of forecast.h */

/* A dimension given as a range, {"low":..,"high":..,"step":..,"log":..}
 * in the settings: only the TPE search samples it as it is; the other
 * methods take a range with a step as the list of its values (sp_expand). */
typedef struct {
	int on;              /* 1: this dimension is a range (n[d] is 0) */
	double low, high;    /* inclusive */
	double step;         /* 0: continuous (floats, log ints); integers
	                        default to 1 unless log */
	int log;             /* sampled on a log scale (low > 0, no step) */
} sp_range;

typedef struct {
	int n[SP_NDIM];
	double v[SP_NDIM][SP_MAX_VALUES];
	sp_range r[SP_NDIM];
} sp_space;

/* Names as in the settings file: the settings' key list (forecast.h). */
#define sp_dim_name fc_key

/* The seed's default space for horizon `name` ("7d", "15d", "30d", "90d"),
 * with top_k [0] and top_p [1.0]. Returns 0, or -1 when there is no built-in
 * default for that name (e untouched). */
int sp_default(sp_space *sp, const char *name);

/* Set the dimensions present in obj (a settings "search.spaces.<h>" object)
 * over what *sp holds already; `where` prefixes messages, e.g.
 * "configs/chronopt.json: search.spaces.7d". Unknown keys and bad values
 * are CP_DATA "<where>.<key>: ...". top_k/top_p absent: left as they are. */
int sp_from_json(sp_space *sp, const cJSON *obj, const char *where, cp_err *e);

/* Set dimension d from a comma-separated option value such as "90,180".
 * CP_USAGE "<opt>: ..." on a bad list. */
int sp_from_list(sp_space *sp, int d, const char *list, const char *opt, cp_err *e);

/* Checks every value's range (the settings' domain, fc_value_problem) and that no dimension repeats a value or is
 * empty, and that the grid has at most SP_MAX_CONFIGS points. code is the
 * exit code to use (CP_DATA for files, CP_USAGE for options). */
int sp_check(const sp_space *sp, const char *where, int code, cp_err *e);

/* The space of a quantile model (Chronos-Bolt, Chronos-2), which draws no
 * samples: only context_length is searched; num_samples, temperature,
 * top_k and top_p become the single values 1, 1.0, 0, 1.0 (the "off"
 * values every stage reads; the model ignores them). */
void sp_quantile_model(sp_space *sp);

/* 1 when some dimension is a range. */
int sp_has_ranges(const sp_space *sp);
/* 1 when dimension d has values (a list or a range). */
int sp_has(const sp_space *sp, int d);
/* The largest value dimension d can take (list maximum or range high). */
double sp_max(const sp_space *sp, int d);

/* Turn every range into the list of its values, for the methods that
 * enumerate a grid: a range needs a step and at most SP_MAX_VALUES values,
 * else `code` "<where>: "<dim>" is a range without a step: only --method
 * tpe samples it" (or "... has N values, more than 64 ..."). */
int sp_expand(sp_space *sp, const char *where, int code, cp_err *e);

/* The TPE view of a space (tpe.h): one parameter per dimension that has
 * more than one value: a list becomes a categorical over its values (as
 * Optuna's suggest_categorical), a range an int or float distribution.
 * p[] and dim[] hold SP_NDIM entries; dim[i] is the dimension of p[i].
 * Returns the number of parameters. */
int sp_tpe_params(const sp_space *sp, tpe_param *p, int *dim);
/* How many distinct configs the space holds for TPE (lists, stepped and
 * integer ranges); INFINITY when a float range is continuous. */
double sp_tpe_size(const sp_space *sp);
/* The config of TPE values x[np] (as sp_tpe_params laid them out); the
 * dimensions with one value take it. */
void sp_tpe_config(const sp_space *sp, const double *x, const int *dim, int np, fc_config *out);

/* Number of grid points (a range counts as one: expand it first). */
int sp_size(const sp_space *sp);
/* Grid point idx (0 <= idx < sp_size): context_length varies slowest, then
 * num_samples, temperature, top_k, top_p (fastest). */
void sp_config(const sp_space *sp, int idx, fc_config *out);

/* A range as {"low":..,"high":..,"step":..,"log":..}; caller owns it. */
cJSON *sp_range_json(const sp_range *r);

/* The space as {"context_length":[..],...} (ranges as objects); caller owns it. */
cJSON *sp_to_json(const sp_space *sp);

/* Random search: pick min(k, size) distinct grid indices uniformly without
 * replacement from the PRNG stream (seed, SP_STREAM_RANDOM, 0), written to
 * out[] in increasing order. Returns the number picked. */
#define SP_STREAM_RANDOM 0x5ea4c4ULL
int sp_random_pick(int size, int k, uint64_t seed, int *out);

/* Successive halving: with nconf configs, W windows and factor eta >= 2,
 * rung r keeps keep[r] configs on win[r] windows (nested prefixes of the
 * order from sp_window_order). keep[0] = nconf, keep[r+1] = ceil(keep[r] /
 * eta), until keep <= eta; win[last] = W, win[r] = max(min_windows,
 * ceil(W / eta^(last - r))) clipped to W and never decreasing. Arrays hold
 * SP_MAX_RUNGS entries. Returns the number of rungs (>= 1). */
#define SP_MAX_RUNGS 32
int sp_halving(int nconf, int W, int eta, int min_windows, int *keep, int *win);

/* A nested order of the W windows for halving: order[0] is the most recent
 * window (index W-1), then the van der Corput sequence spreads the next
 * picks over the whole span, so any prefix is spread out in time. */
void sp_window_order(int W, int *order);

#endif
