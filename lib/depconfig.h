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

/* Inference settings of a config object, read with fc_config_from_json
 * (forecast.h: the one domain of the settings; temperature 1, top_k 0 and
 * top_p 1 when absent).  *model_dir is "model"."dir" when present
 * (borrowed from j) or NULL.  CP_DATA "<what>: ..." on a bad or missing
 * field.  An ensemble (j has an "ensemble" list): its members are checked
 * (fc_ensemble_from_json, each model a baseline name or a directory), *cfg
 * is the call fc_ensemble_call derives (the top-level settings, written for
 * readers that show them, are checked against their domain only) and
 * *model_dir the string "ensemble", which forecaster_open refuses: run an
 * ensemble through dc_model_spec. */
int dc_settings(const cJSON *j, const char *what, fc_config *cfg, const char **model_dir, cp_err *e);

/* The model spec of config object j, owned by the caller: for an ensemble
 * (an "ensemble" list, fc_ensemble_from_json) the spec ensemble_spec makes
 * of it, which forecaster_open runs; else "model"."dir" or NULL when j
 * names none.  CP_DATA "<what>: ..." as dc_settings. */
int dc_model_spec(const cJSON *j, const char *what, char **spec, cp_err *e);

/* The settings and model of a deployed config file at `path` (the --config
 * of opt-backtest and opt-forecast): any JSON object dc_settings reads
 * ("horizon" is not checked).  *model_dir is a new string the caller frees
 * ("model"."dir"), or NULL when the file names no model.  CP_IO when it
 * cannot be read, CP_DATA "<path>: ..." when it is not such a config. */
int dc_read_settings(const char *path, fc_config *cfg, char **model_dir, cp_err *e);

/* The stride of the held-out windows the deployed config at `path` was
 * validated on (its "validation"."stride", written by opt-deploy), into
 * *stride; left as is when the file does not say (configs deployed before
 * it was recorded).  Returns 0, or -1 with e filled: CP_IO, or CP_DATA
 * "<path>: ..." for invalid JSON or a stride that is not an integer in
 * 1..100000. */
int dc_validation_stride(const char *path, int *stride, cp_err *e);

/* The settings a tool runs with: those of the deployed config file `path`
 * (dc_read_settings) when path is not NULL, else *dflt; then every setting
 * k whose bit (1 << FC_k) is set in `given_mask` taken from *given (the
 * options typed win over the file).  *model_dir as dc_read_settings (NULL
 * without a file).  Returns 0, or -1 with e filled (out untouched). */
int dc_resolve(const char *path, const fc_config *dflt, const fc_config *given, unsigned given_mask,
               fc_config *out, char **model_dir, cp_err *e);

#endif
