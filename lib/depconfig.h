/* depconfig.h — the deployed config files <config-dir>/<horizon>.json.
 * Format (chronopt-envelope(7)): {"horizon":"7d","context_length":180,
 * "num_samples":100,"temperature":1.0,"top_k":0,"top_p":1.0,
 * "validation_rmse":..,...,"model":{"dir":..,"sha256":..},...}
 * plus, when written by opt-deploy, "deployed_at", "reasons", "previous". */
#ifndef CHRONOPT_DEPCONFIG_H
#define CHRONOPT_DEPCONFIG_H
#include "common.h"
#include "forecast.h"
#include <cJSON.h>

/* Largest config or backup file accepted. */
#define DC_MAX_BYTES (1 << 20)

/* Read a whole file into a NUL-terminated buffer (caller frees), *len set.
 * A missing file returns NULL with *missing = 1 and e untouched (missing may
 * be NULL: then it is an error CP_IO). Larger than DC_MAX_BYTES or holding a
 * NUL byte: CP_DATA. Other failures: CP_IO "cannot read '<path>': ...". */
char *dc_read_file(const char *path, size_t *len, int *missing, cp_err *e);

/* Parse text as a deployed config of `horizon`: a JSON object whose
 * "horizon" is that name and whose inference settings parse (dc_settings).
 * what names the source in messages (a path). Caller owns the result;
 * NULL with CP_DATA "<what>: ..." otherwise. */
cJSON *dc_parse(const char *text, const char *what, const char *horizon, cp_err *e);

/* Path "<dir>/<horizon>.json" into buf (CP_USAGE when the horizon is not a
 * plain name, CP_IO when too long). */
int dc_path(char *buf, size_t len, const char *dir, const char *horizon, cp_err *e);

/* Load <dir>/<horizon>.json: returns the parsed config (caller owns), or
 * NULL with *missing = 1 when there is none, or NULL with e filled. */
cJSON *dc_load(const char *dir, const char *horizon, int *missing, cp_err *e);

/* Inference settings of a config object, in the bounds of a search space:
 * context_length and num_samples (integers in 1..100000), temperature (in
 * (0, 100], default 1), top_k (integer in 0..100000, default 0), top_p (in
 * (0, 1], default 1). *model_dir is "model"."dir"
 * when present (borrowed from j) or NULL. CP_DATA "<what>: ..." on a bad
 * or missing field. */
int dc_settings(const cJSON *j, const char *what, fc_config *cfg, const char **model_dir, cp_err *e);

#endif
