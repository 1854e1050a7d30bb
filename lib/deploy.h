/* deploy.h — deploy, roll back and report the configs in <config-dir>.
 *
 * Files: <dir>/<horizon>.json (the deployed config), <dir>/backups/
 * <horizon>_<YYYYMMDDTHHMMSSZ>[-N].json (what each deploy or rollback
 * replaced, never deleted; backups/ must be a real directory, a symbolic
 * link is refused with CP_IO), <dir>/.deploy.lock (held during a change), and a
 * git repository in <dir> (created when missing) with one commit per change.
 *
 * A deploy runs these steps, each finished before the next starts:
 *   lock   take <dir>/.deploy.lock (flock, see lock_acquire: wait up to
 *          wait_ms, else CP_BUSY), then remove what a killed change left
 *          (gr_recover, temporary files of durable_write)
 *   backup copy the current config to backups/ (durable_write)
 *   write  write the new config (durable_write)
 *   add    stage the config and the backup (git index)
 *   commit commit them
 *   unlock remove the lock
 * A failure from `write` until the commit is in restores the old config
 * (the new backup stays), so the config is always the old or the new one,
 * a change that fails leaves the old one live (unless restoring fails too:
 * then the message says the new one is in place), and no backup is lost.
 * Testing hook: CHRONOPT_DEPLOY_FAIL_AT=<step> (lock, backup, write, add,
 * commit) fails right after that step as if the next one had failed;
 * "kill:<step>" raises SIGKILL there instead (a crash; the kernel releases
 * the lock).  Rollback uses the same steps.
 *
 * Version chain: a deployed config records in "previous" the backup that
 * holds the config it replaced (null for the first one).  A rollback
 * without a target restores that backup byte for byte, so the restored
 * config's own "previous" points one further back: repeated rollbacks walk
 * back one version at a time.  Configs without "previous" (written by hand)
 * fall back to the newest backup that differs from them and parses.
 */
#ifndef CHRONOPT_DEPLOY_H
#define CHRONOPT_DEPLOY_H
#include "common.h"
#include <cJSON.h>

typedef struct {
	const char *config_dir;
	long wait_ms;          /* lock wait, 0: try once */
	int dry_run;           /* say what would happen, touch nothing */
	char *const *notify;   /* argv (NULL-terminated) run after a change, or NULL */
	int as_challenger;     /* deploy: beside a champion as its challenger (challenger.h) */
	int ch_origins;        /* its origins_required (0: CH_ORIGINS_DEFAULT) */
	double ch_level;       /* its level (0: CH_LEVEL_DEFAULT) */
} dp_options;

typedef struct {
	int changed;            /* 1 when files and git were changed */
	char backup[128];       /* backup file name made (or that would be), "" none */
	char restored[128];     /* rollback: backup name or "git:<rev>" restored */
	char revision[41];      /* new commit id, "" when none */
	char summary[1024];     /* one sentence in plain words */
	int notify_status;      /* -1: not run, else exit status (128+n: signal n) */
} dp_result;

/* Deploy `candidate` (a config object, not modified) for horizon h. extra
 * (may be NULL) is an object whose members are added to the deployed config
 * (e.g. "validation" figures, "reasons", "run_id"). reasons (array or NULL)
 * goes into the commit message. Returns 0 and fills *r, or -1 with e
 * filled; on -1 the config is unchanged (see above). */
int dp_deploy(const dp_options *o, const char *h, const cJSON *candidate, const cJSON *extra,
              const cJSON *reasons, dp_result *r, cp_err *e);

/* Deploy for one envelope line: sets env["deployment"] (done / skipped).
 * Returns 0; 1 when the commit was made but a later step failed (section
 * status "partial", e filled: write the line, then fail); -1 with e filled
 * when nothing was changed (do not write the line). */
int dp_deploy_line(cJSON *env, const dp_options *o, cp_err *e);

/* Roll h back: to = NULL (one version back, see above), a backup file name
 * in backups/, or a git revision. why (may be NULL) is recorded in the
 * commit message. Returns 0 or -1 (nothing changed). */
int dp_rollback(const dp_options *o, const char *h, const char *to, const char *why,
                dp_result *r, cp_err *e);

/* Status of the horizons names[n]: array of objects (caller owns).
 * Never fails on a bad config: its "state" says "corrupt" with the error. */
cJSON *dp_status(const dp_options *o, const char *const *names, int n, cp_err *e);
/* Plain-text rendering of dp_status's array (malloc'd, caller frees). */
char *dp_status_text(const cJSON *status);

/* Run argv (execvp, no shell) with CHRONOPT_NOTIFY_ACTION, _HORIZON,
 * _CONFIG and _REVISION in its environment and its stdout sent to our
 * stderr. Returns the exit status (128+n when killed by signal n), or -1
 * with e filled when it could not be started. */
int dp_notify(char *const argv[], const char *action, const char *h, const char *config,
              const char *rev, cp_err *e);

/* Backup names: 1 when name is "<h>_<stamp>[-N].json" for this horizon. */
int dp_backup_name_ok(const char *name, const char *h);

#endif
