/* fcache.h — the persistent forecast cache (opt-cache(1)).
 *
 * A window's forecast is a pure function of the model file, the sampling
 * settings, the context values it sees, the seed and the window's stream
 * (its origin: the position of the first target in the series, the same
 * date every week while the series only grows). The cache keeps what
 * scoring needs — the sample paths (or quantiles) and the model's own point
 * forecast — under the sha256 of exactly those inputs:
 *
 *   key = sha256("chronopt-forecast-cache/3", sha256 of model.safetensors,
 *                sha256 of config.json, the forecaster's name,
 *                the OpenBLAS thread count (it can change the last bits),
 *                [temperature, top_k, top_p, seed, stream: sample models],
 *                the context values the model reads, as doubles)
 *
 * The context is the window's last min(n, context_length, max_context)
 * values, so context lengths the model cuts to the same values share
 * entries. The number of rows (num_samples, or the quantile levels) and of
 * steps are not in the key; an entry holds one block (rows x steps) and
 * serves:
 *   - "r<rows>" entries (models whose first k steps are a k-step forecast,
 *     f->steps_prefix: Chronos-T5): the same rows, no more steps — so one
 *     90-step decode with 200 samples serves the 7-, 15- and 30-step
 *     searches of the same window and settings; the longest is kept;
 *   - "r<rows>s<steps>" entries (Chronos-Bolt, Chronos-2): that request.
 * A smaller num_samples is not served from the first paths of a larger
 * one: OpenBLAS rounds a row differently with the row count, so those
 * bytes differ (opt-search shares such prefixes within one call itself).
 * The forecasters decode one window at a time for the same reason, so a
 * window's numbers do not depend on the other windows of a call, and
 * results with and without the cache are the same bytes
 * (test/bats/opt-cache.bats).
 *
 * On disk: <dir>/entries/<2 hex>/<62 hex>.<suffix>, one file per entry: a
 * header (magic, byte-order mark, rows, steps, own-point flag, key), the
 * doubles, and the sha256 of all that. Entries are written with
 * atomic_write (temp file, rename; no fsync: a cache can be rebuilt): a
 * reader sees a whole entry or none; an entry that does not check out (a
 * power cut, a disk error, a foreign file) counts as a miss and is removed.
 * Several processes share one cache without locks: they only add whole
 * files, and two writers of one key write the same bytes. A hit sets the
 * entry's mtime, so eviction is least recently used: when a process that
 * wrote entries finishes, and on `opt-cache prune`, the oldest entries are
 * removed until the cache is at most max_bytes (under <dir>/prune.lock; a
 * prune already running is left to finish the job), and temp files older
 * than ten minutes (left by a killed writer) go too.
 *
 * <dir>/usage.log gets one line per forecaster call that used the cache,
 * "hits misses bytes_written" (appended, not fsynced: statistics only).
 *
 * Baselines (random_walk, drift, seasonal_naive) are not cached: reading an
 * entry costs more than computing them.
 */
#ifndef CHRONOPT_FCACHE_H
#define CHRONOPT_FCACHE_H
#include "common.h"
#include "forecast.h"

#define FCACHE_DEFAULT_MAX_MB 1024

typedef struct {
	long long entries, bytes;  /* entry files and their total size */
	long long temps;           /* temp files (a writer at work, or killed) */
	long long hits, misses;    /* windows, summed over usage.log */
	long long calls;           /* forecaster calls in usage.log */
	long long written;         /* bytes written, summed over usage.log */
} fcache_stat;

/* Wrap the forecaster `inner` (taken over: freeing the result frees it) with
 * the cache in directory `dir` (created when missing, with entries/),
 * bounded to max_bytes (> 0). model_dir is inner's checkpoint directory,
 * whose model.safetensors and config.json are hashed for the key. Returns
 * the wrapper, or NULL with e filled (CP_IO: the directory cannot be made,
 * a model file cannot be read); inner is then freed too. A baseline
 * (inner->family NULL) is returned as is. */
forecaster *fcache_wrap(forecaster *inner, const char *model_dir, const char *dir,
                        long long max_bytes, cp_err *e);

/* The cache the environment asks for: CHRONOPT_CACHE names the directory
 * (unset or empty: no cache, f returned as is), CHRONOPT_CACHE_MAX_MB the
 * cap (default FCACHE_DEFAULT_MAX_MB). Else as fcache_wrap; a bad
 * CHRONOPT_CACHE_MAX_MB is CP_USAGE. */
forecaster *fcache_from_env(forecaster *f, const char *model_dir, cp_err *e);

/* The cap from CHRONOPT_CACHE_MAX_MB (default FCACHE_DEFAULT_MAX_MB), in
 * bytes. Returns 0, or -1 with CP_USAGE for a value not in 1..1048576. */
int fcache_env_max_bytes(long long *max_bytes, cp_err *e);

/* The tools' --cache DIR (dir) and --no-cache (dir NULL): set
 * CHRONOPT_CACHE for forecaster_open, and for the processes a tool starts
 * (opt-search's workers). */
void fcache_select(const char *dir);

/* Count what is in the cache at dir. Returns 0, or -1 with CP_IO (dir
 * unreadable; a missing dir is an empty cache). */
int fcache_stats(const char *dir, fcache_stat *st, cp_err *e);

/* Evict the least recently used entries until the cache holds at most
 * max_bytes; remove temp files older than ten minutes; with `verify`, also
 * read every entry and remove those that do not check out. *removed gets
 * the number of files removed (may be NULL). Takes <dir>/prune.lock,
 * waiting up to wait_ms (then CP_BUSY). Returns 0 or -1 with e filled. */
int fcache_prune(const char *dir, long long max_bytes, int verify, long wait_ms,
                 long long *removed, cp_err *e);

#endif
