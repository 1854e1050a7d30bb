/* settings.h — the tools' settings file (configs/chronopt.json).
 * {
 *   "horizons": {"7d": 7, "15d": 15, "30d": 30, "90d": 90},
 *   "trigger":  {...}, "search": {...}, "validate": {...}, "deploy": {...}
 * }
 * Every tool takes --config FILE (default: $CHRONOPT_CONFIG, else
 * configs/chronopt.json in the working directory if present, else the
 * installed ../share/chronopt/configs/chronopt.json next to the running
 * executable's directory if present, else the built-in defaults). Options
 * on the command line override the file. */
#ifndef CHRONOPT_SETTINGS_H
#define CHRONOPT_SETTINGS_H
#include "common.h"
#include <cJSON.h>

typedef struct {
	char name[33];
	int steps;
} horizon_def;

/* Load the settings file. path NULL: default search as above; a missing
 * default is not an error (returns an empty object). Caller owns result.
 * Bad JSON, or bad horizons (see settings_horizons): CP_DATA "<path>: ..."
 * or "<path>:<line>: ...", so every complaint about the file names it. */
cJSON *settings_load(const char *path, cp_err *e);

/* Horizons from settings (built-in defaults when absent). *out owned by
 * caller. Names must pass cp_name_ok, steps in 1..10000. */
int settings_horizons(const cJSON *settings, horizon_def **out, int *n, cp_err *e);
/* Look up one horizon by name: CP_USAGE "unknown horizon 'x'" if absent. */
int settings_horizon(const cJSON *settings, const char *name, horizon_def *out, cp_err *e);

/* Numeric setting at "section.key" (dotted path); returns 1 and sets *v when
 * present and numeric, 0 when absent, -1 (CP_DATA) when present but not a
 * number. */
int settings_number(const cJSON *settings, const char *dotted, double *v, cp_err *e);
/* Integer setting at dotted path: like settings_number (1 set, 0 absent,
 * -1), and CP_DATA 'settings: "<dotted>" must be an integer in lo..hi' when
 * the number is not whole or out of range (then *out is untouched). */
int settings_integer(const cJSON *settings, const char *dotted, long lo, long hi, int *out,
                     cp_err *e);
/* Node at dotted path or NULL: cp_json_path (jsonutil.h) under the name the
 * stages use for settings. */
const cJSON *settings_node(const cJSON *settings, const char *dotted);

#endif
