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

/* The validation figures of a config as a new object (caller owns). */
cJSON *dp_metrics_of(const cJSON *cfg);

#endif
