/* deploy_backup.c — backup file names and listing; see deploy.h. */
#include "deploy_internal.h"
#include "envelope.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---------------------------------------------------------------------
 * Backups
 * ------------------------------------------------------------------- */

/* Parse "<h>_<YYYYMMDDTHHMMSSZ>[-N].json"; fills stamp[17] and *n (1 when
 * no suffix). Returns 1 on a match. */
static int backup_parse(const char *name, const char *h, char stamp[17], long *n)
{
	size_t hl = strlen(h), nl = strlen(name);
	if (nl < hl + 1 + 16 + 5 || strncmp(name, h, hl) != 0 || name[hl] != '_')
		return 0;
	const char *s = name + hl + 1;
	for (int i = 0; i < 16; i++) {
		char c = s[i];
		int ok = i == 8 ? c == 'T' : i == 15 ? c == 'Z' : (c >= '0' && c <= '9');
		if (!ok)
			return 0;
	}
	memcpy(stamp, s, 16);
	stamp[16] = '\0';
	const char *rest = s + 16;
	*n = 1;
	if (*rest == '-') {
		char num[12];
		const char *dot = strchr(rest, '.');
		size_t k = dot ? (size_t)(dot - rest - 1) : 0;
		if (!dot || k == 0 || k >= sizeof(num) || rest[1] == '0')
			return 0;
		memcpy(num, rest + 1, k);
		num[k] = '\0';
		if (cp_parse_long(num, 2, 1000000, n) < 0)
			return 0;
		rest = dot;
	}
	return strcmp(rest, ".json") == 0;
}

int dp_backup_name_ok(const char *name, const char *h)
{
	char stamp[17];
	long n;
	return name && cp_name_ok(h) && backup_parse(name, h, stamp, &n);
}


static int bk_cmp(const void *a, const void *b)
{
	const bk_entry *x = a, *y = b;
	int c = strcmp(x->stamp, y->stamp);
	if (c)
		return c;
	return (x->n > y->n) - (x->n < y->n);
}

/* The backups of h, oldest first (*out owned by caller). A missing backups
 * directory is an empty list. */
int dp_backup_list(const char *dir, const char *h, bk_entry **out, int *count, cp_err *e)
{
	char path[PATH_MAX_];
	snprintf(path, sizeof(path), "%s/backups", dir);
	*out = NULL;
	*count = 0;
	DIR *d = opendir(path);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return cp_fail_errno(e, "cannot read '%s'", path);
	}
	int cap = 0, n = 0;
	bk_entry *v = NULL;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		bk_entry b;
		if (strlen(de->d_name) >= sizeof(b.name) || !backup_parse(de->d_name, h, b.stamp, &b.n))
			continue;
		snprintf(b.name, sizeof(b.name), "%s", de->d_name);
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			v = cp_realloc(v, (size_t)cap * sizeof(*v));
		}
		v[n++] = b;
	}
	closedir(d);
	if (n > 1)
		qsort(v, (size_t)n, sizeof(*v), bk_cmp);
	*out = v;
	*count = n;
	return 0;
}

static int file_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* A fresh backup name for h at the current (pinned) time. */
int dp_backup_new_name(const char *dir, const char *h, char *name, size_t len, cp_err *e)
{
	char now[21], stamp[17];
	env_utc_now(now);
	/* "YYYY-MM-DDTHH:MM:SSZ" -> "YYYYMMDDTHHMMSSZ" */
	int j = 0;
	for (int i = 0; now[i] && j < 16; i++)
		if (now[i] != '-' && now[i] != ':')
			stamp[j++] = now[i];
	stamp[j] = '\0';
	for (long k = 1; k < 100000; k++) {
		char path[PATH_MAX_];
		if (k == 1)
			snprintf(name, len, "%s_%s.json", h, stamp);
		else
			snprintf(name, len, "%s_%s-%ld.json", h, stamp, k);
		snprintf(path, sizeof(path), "%s/backups/%s", dir, name);
		if (!file_exists(path))
			return 0;
	}
	return cp_fail(e, CP_IO, "too many backups of '%s' made at %s", h, now);
}

/* "backups/<any horizon>_<stamp>[-N].json": what gr_add_matching stages
 * besides the files named, so backups of interrupted runs get committed
 * (never temp files). */
int dp_is_backup_path(const char *path)
{
	if (strncmp(path, "backups/", 8) != 0)
		return 0;
	const char *name = path + 8;
	const char *us = strrchr(name, '_');
	char h[40], stamp[17];
	long n;
	/* the stamp holds no '_', so the last '_' ends the horizon name */
	if (!us || (size_t)(us - name) >= sizeof(h))
		return 0;
	memcpy(h, name, (size_t)(us - name));
	h[us - name] = '\0';
	return cp_name_ok(h) && backup_parse(name, h, stamp, &n);
}
