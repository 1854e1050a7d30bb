/* deploy_internal.h — what lib/deploy.c, deploy_backup.c and
 * deploy_status.c share. Private to them: not part of the public API
 * (that is deploy.h). */
#ifndef CHRONOPT_DEPLOY_INTERNAL_H
#define CHRONOPT_DEPLOY_INTERNAL_H
#include "deploy.h"

#include <stddef.h>

#define PATH_MAX_ 4096

/* One backup of a horizon: file name, its stamp and -N suffix (1 when none). */
typedef struct {
	char name[128];
	char stamp[17];
	long n;
} bk_entry;

/* deploy_backup.c */

/* The backups of h, oldest first (*out owned by caller). A missing backups
 * directory is an empty list. */
int dp_backup_list(const char *dir, const char *h, bk_entry **out, int *count, cp_err *e);
/* A fresh backup name for h at the current (pinned) time. */
int dp_backup_new_name(const char *dir, const char *h, char *name, size_t len, cp_err *e);
/* 1 when path is "backups/<any horizon>_<stamp>[-N].json". */
int dp_is_backup_path(const char *path);

/* deploy.c */

#include "durable.h"
#include "gitrepo.h"

/* One change of a horizon's files under the deploy lock. */
typedef struct {
	const dp_options *o;
	const char *h;
	char path[PATH_MAX_];   /* <dir>/<h>.json */
	char rel[64];           /* <h>.json */
	char *old;              /* current bytes, NULL when there is none */
	size_t oldlen;
	cJSON *oldj;            /* parsed current, NULL when missing or corrupt */
	char olderr[CP_ERR_MAX];/* why oldj is NULL when old is not */
	cp_lock lock;
	gr_repo *repo;
	const char *recovered;  /* what change_lock finished: "promoted", "retired", NULL */
} change;

/* The testing hook CHRONOPT_DEPLOY_FAIL_AT (deploy.h): -1 (CP_IO) when it
 * names step, SIGKILL for "kill:<step>". */
int after_step(const char *step, cp_err *e);
/* Name check and paths; touches nothing. */
int change_begin(change *c, const dp_options *o, const char *h, cp_err *e);
/* Lock, clear what a killed change left (temporary files, git locks, an
 * interrupted challenger change: deploy_challenger.c), read the current
 * config, open the repository; corrupt_hint: see deploy.c. */
int change_lock(change *c, const char *corrupt_hint, cp_err *e);
/* Put the old config back (and stage it); -1 when the new one stays. */
int change_undo(change *c, cp_err *e);
void change_release(change *c);
/* mkdir (fsynced) unless it exists as a directory. */
int ensure_dir(const char *path, cp_err *e);

/* The validation figures of a config as a new object (caller owns). */
cJSON *dp_metrics_of(const cJSON *cfg);

/* deploy_challenger.c: under c's lock, finish what a killed promotion or
 * retirement of c->h left (see challenger.h); *done (may be NULL) gets
 * "promoted", "retired" or "" (nothing to finish). Returns 0 or -1. */
int dp_challenger_recover(change *c, const char **done, cp_err *e);

#endif
