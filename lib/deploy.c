/* deploy.c — see deploy.h. */
#include "deploy_internal.h"
#include "challenger.h"
#include "jsonutil.h"
#include "depconfig.h"
#include "durable.h"
#include "envelope.h"
#include "gitrepo.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---------------------------------------------------------------------
 * Testing hook
 * ------------------------------------------------------------------- */

/* Called right after `step` finished. Returns -1 (CP_IO) when
 * CHRONOPT_DEPLOY_FAIL_AT names the step; "kill:<step>" raises SIGKILL. */
int after_step(const char *step, cp_err *e)
{
	const char *v = getenv("CHRONOPT_DEPLOY_FAIL_AT");
	if (!v || !*v)
		return 0;
	if (strncmp(v, "kill:", 5) == 0 && strcmp(v + 5, step) == 0) {
		fflush(NULL);
		raise(SIGKILL);
	}
	if (strcmp(v, step) == 0)
		return cp_fail(e, CP_IO, "injected failure after step '%s' (CHRONOPT_DEPLOY_FAIL_AT)", step);
	return 0;
}

/* ---------------------------------------------------------------------
 * Shared pieces of a change (deploy and rollback)
 * ------------------------------------------------------------------- */


void change_release(change *c)
{
	gr_close(c->repo);
	c->repo = NULL;
	lock_release(&c->lock);
	free(c->old);
	c->old = NULL;
	cJSON_Delete(c->oldj);
	c->oldj = NULL;
}

int ensure_dir(const char *path, cp_err *e)
{
	struct stat st;
	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return cp_fail(e, CP_IO, "'%s' is not a directory", path);
		return 0;
	}
	if (errno != ENOENT)
		return cp_fail_errno(e, "cannot use '%s'", path);
	if (mkdir(path, 0777) != 0 && errno != EEXIST)
		return cp_fail_errno(e, "cannot create directory '%s'", path);
	return durable_sync_dir(path, e);
}

/* Set up: name check, read current config. No file is touched. */
int change_begin(change *c, const dp_options *o, const char *h, cp_err *e)
{
	memset(c, 0, sizeof(*c));
	c->lock.fd = -1;
	c->o = o;
	c->h = h;
	if (dc_path(c->path, sizeof(c->path), o->config_dir, h, e) < 0)
		return -1;
	snprintf(c->rel, sizeof(c->rel), "%s.json", h);
	return 0;
}

static int read_current(change *c, cp_err *e)
{
	int missing;
	c->old = dc_read_file(c->path, &c->oldlen, &missing, e);
	if (!c->old)
		return missing ? 0 : -1;
	cp_err pe = {0};
	c->oldj = dc_parse(c->old, c->path, c->h, &pe);
	if (!c->oldj)
		snprintf(c->olderr, sizeof(c->olderr), "%s", pe.msg);
	return 0;
}

static void note_removed(const char *path, void *arg)
{
	(void)arg;
	fprintf(stderr, "%s: removed '%s', left behind by a process that was killed\n", cp_progname,
	        path);
}

/* 1 for ".<name>.tmp-XXXXXX", a temporary file of durable_write */
static int is_temp_name(const char *name)
{
	size_t n = strlen(name);
	return name[0] == '.' && n > 12 && strncmp(name + n - 11, ".tmp-", 5) == 0;
}

/* Under the deploy lock nobody else writes in dir: remove the temporary
 * files of a killed durable_write there. */
static int remove_temps(const char *dir, cp_err *e)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : cp_fail_errno(e, "cannot read '%s'", dir);
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char path[PATH_MAX_];
		struct stat st;
		if (!is_temp_name(de->d_name) ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path) ||
		    lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (unlink(path) != 0 && errno != ENOENT)
			rc = cp_fail_errno(e, "cannot remove '%s', left behind by a process that was killed",
			                   path);
		else
			note_removed(path, NULL);
	}
	closedir(d);
	return rc;
}

/* backups/ must be a real directory inside the config directory: through a
 * symbolic link, backups would be written (and committed) elsewhere. */
static int backups_dir_ok(const char *dir, cp_err *e)
{
	char path[PATH_MAX_];
	struct stat st;
	snprintf(path, sizeof(path), "%s/backups", dir);
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : cp_fail_errno(e, "cannot use '%s'", path);
	if (S_ISLNK(st.st_mode))
		return cp_fail(e, CP_IO, "'%s' is a symbolic link; backups must be a directory in '%s'",
		               path, dir);
	if (!S_ISDIR(st.st_mode))
		return cp_fail(e, CP_IO, "'%s' is not a directory", path);
	return 0;
}

/* Lock, clear what a killed change left, read the current config, open (or
 * create) the repository. */
/* Lock, clear what a killed change left, read the current config and open
 * (or create) the repository. A current config that does not parse stops
 * here, before anything is created, when corrupt_hint is set: CP_DATA
 * "<why>; <corrupt_hint>". */
int change_lock(change *c, const char *corrupt_hint, cp_err *e)
{
	char lockbase[PATH_MAX_];
	if (ensure_dir(c->o->config_dir, e) < 0)
		return -1;
	snprintf(lockbase, sizeof(lockbase), "%s/.deploy", c->o->config_dir);
	if (lock_acquire(&c->lock, lockbase, c->o->wait_ms, e) < 0)
		return -1;
	if (after_step("lock", e) < 0)
		return -1;
	/* the kernel lock proves no deploy, rollback or watch is inside: what
	 * a killed one left is ours to clear */
	char bdir[PATH_MAX_];
	snprintf(bdir, sizeof(bdir), "%s/backups", c->o->config_dir);
	if (backups_dir_ok(c->o->config_dir, e) < 0 || remove_temps(c->o->config_dir, e) < 0 ||
	    remove_temps(bdir, e) < 0 || gr_recover(c->o->config_dir, note_removed, NULL, e) < 0)
		return -1;
	if (read_current(c, e) < 0)
		return -1;
	if (corrupt_hint && c->old && !c->oldj)
		return cp_fail(e, CP_DATA, "%s; %s", c->olderr, corrupt_hint);
	c->repo = gr_open(c->o->config_dir, 1, NULL, e);
	if (!c->repo)
		return -1;
	/* a repository in a bad state stops the change before any write */
	if (gr_check(c->repo, e) < 0)
		return -1;
	/* a promotion or retirement a crash interrupted is completed first */
	return dp_challenger_recover(c, &c->recovered, e);
}

/* After a failed write/add/commit: make the old config live again (the
 * rename may or may not have happened) and stage it. Returns 0 when the
 * file is the old one (or absent, when there was none) afterwards, -1 with
 * e filled when the new one is still in place. */
int change_undo(change *c, cp_err *e)
{
	cp_err ignore = {0};
	for (int attempt = 0;; attempt++) {
		size_t len = 0;
		int missing = 0;
		char *cur = dc_read_file(c->path, &len, &missing, &ignore);
		int is_old = c->old ? cur && len == c->oldlen && memcmp(cur, c->old, len) == 0 : missing;
		free(cur);
		if (is_old)
			break;
		if (attempt == 1)
			return -1;
		if (c->old)
			durable_write(c->path, c->old, c->oldlen, e);
		else if (unlink(c->path) == 0)
			durable_sync_dir(c->path, e);
		else
			cp_fail_errno(e, "cannot remove '%s'", c->path);
	}
	if (c->repo) {
		const char *p[1] = {c->rel};
		gr_add(c->repo, p, 1, &ignore);
	}
	return 0;
}

/* backup (when there is a current file), write, add, commit. `text` is
 * the new config. On success r->backup and r->revision are set. */
static int change_apply(change *c, const char *text, size_t len, const char *(*message)(change *, dp_result *, void *),
                        void *arg, dp_result *r, cp_err *e)
{
	char path[PATH_MAX_];
	r->backup[0] = '\0';
	if (c->old) {
		snprintf(path, sizeof(path), "%s/backups", c->o->config_dir);
		if (ensure_dir(path, e) < 0)
			return -1;
		if (dp_backup_new_name(c->o->config_dir, c->h, r->backup, sizeof(r->backup), e) < 0)
			return -1;
		snprintf(path, sizeof(path), "%s/backups/%s", c->o->config_dir, r->backup);
		if (durable_write(path, c->old, c->oldlen, e) < 0) {
			r->backup[0] = '\0';
			return -1;
		}
		if (after_step("backup", e) < 0)
			return -1;
	}
	char head[41] = "";
	if (gr_head(c->repo, head, e) < 0)
		return -1;
	char relb[200];
	snprintf(relb, sizeof(relb), "backups/%s", r->backup);
	const char *paths[2] = {c->rel, relb};
	if (durable_write(c->path, text, len, e) < 0 || after_step("write", e) < 0 ||
	    gr_add(c->repo, paths, r->backup[0] ? 2 : 1, e) < 0 ||
	    gr_add_matching(c->repo, "backups", dp_is_backup_path, e) < 0 ||
	    after_step("add", e) < 0)
		goto undo;
	if (gr_commit(c->repo, message(c, r, arg), r->revision, e) < 0) {
		/* libgit2 may fail after the branch moved (its reflog): then the
		 * change is committed and complete */
		char now[41] = "";
		cp_err ignore = {0};
		if (gr_head(c->repo, now, &ignore) <= 0 || strcmp(now, head) == 0)
			goto undo;
		fprintf(stderr, "%s: warning: %s (after the commit, which was made)\n", cp_progname, e->msg);
		memcpy(r->revision, now, sizeof(now));
	}
	r->changed = 1;
	/* after the commit the change is complete; a failure here is reported
	 * but nothing is undone */
	return after_step("commit", e);
undo: {
		cp_err keep = *e, ue = {0};
		r->revision[0] = '\0';
		if (change_undo(c, &ue) < 0)
			return cp_fail(e, CP_IO, "%s; the old config could not be put back (%s): '%s' holds "
			               "the new config, not committed", keep.msg,
			               ue.msg[0] ? ue.msg : "it still differs", c->path);
		*e = keep;
		return -1;
	}
}

static void run_notify(const dp_options *o, const char *action, change *c, dp_result *r)
{
	r->notify_status = -1;
	if (!o->notify || !o->notify[0] || !r->changed)
		return;
	cp_err ne = {0};
	r->notify_status = dp_notify(o->notify, action, c->h, c->path, r->revision, &ne);
	if (r->notify_status < 0)
		r->notify_status = 127;
}

/* JSON-escaped value for a commit message body (caller frees). */
static char *js(const cJSON *v)
{
	if (!v)
		return cp_strdup("null");
	char *s = cJSON_PrintUnformatted(v);
	return s ? s : cp_strdup("null");
}

static char *js_str(const char *s)
{
	if (!s)
		return cp_strdup("null");
	cJSON *v = cJSON_CreateString(s);
	char *out = js(v);
	cJSON_Delete(v);
	return out;
}

/* ---------------------------------------------------------------------
 * Deploy
 * ------------------------------------------------------------------- */

typedef struct {
	const cJSON *config;
	const cJSON *reasons;
	char msg[16384];
} deploy_msg;

static double num_or_nan(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

cJSON *dp_metrics_of(const cJSON *cfg)
{
	cJSON *m = cJSON_CreateObject();
	env_add_number(m, "validation_rmse", num_or_nan(cfg, "validation_rmse"));
	env_add_number(m, "validation_mape", num_or_nan(cfg, "validation_mape"));
	env_add_number(m, "validation_mae", num_or_nan(cfg, "validation_mae"));
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, "validation");
	if (cJSON_IsObject(v))
		cJSON_AddItemToObject(m, "holdout", cJSON_Duplicate(v, 1));
	return m;
}

static const char *deploy_message(change *c, dp_result *r, void *arg)
{
	deploy_msg *m = arg;
	double rmse = num_or_nan(m->config, "validation_rmse");
	char subject[200];
	if (isfinite(rmse))
		snprintf(subject, sizeof(subject), "deploy %s: validation rmse %.6g", c->h, rmse);
	else
		snprintf(subject, sizeof(subject), "deploy %s", c->h);
	cJSON *metrics = dp_metrics_of(m->config);
	char *h = js_str(c->h), *run = js(cJSON_GetObjectItemCaseSensitive(m->config, "run_id"));
	char *bk = js_str(r->backup[0] ? r->backup : NULL), *mt = js(metrics), *rs = js(m->reasons);
	snprintf(m->msg, sizeof(m->msg),
	         "%s\n\nhorizon: %s\nrun_id: %s\nbackup: %s\nmetrics: %s\nreasons: %s\n",
	         subject, h, run, bk, mt, rs);
	free(h);
	free(run);
	free(bk);
	free(mt);
	free(rs);
	cJSON_Delete(metrics);
	return m->msg;
}

int dp_deploy(const dp_options *o, const char *h, const cJSON *candidate, const cJSON *extra,
              const cJSON *reasons, dp_result *r, cp_err *e)
{
	memset(r, 0, sizeof(*r));
	r->notify_status = -1;
	change c;
	if (change_begin(&c, o, h, e) < 0)
		return -1;
	char what[PATH_MAX_ + 32];
	snprintf(what, sizeof(what), "candidate for '%s'", h);
	fc_config fc;
	const char *mdir;
	if (dc_settings(candidate, what, &fc, &mdir, e) < 0)
		return -1;
	const cJSON *ch = cJSON_GetObjectItemCaseSensitive(candidate, "horizon");
	if (ch && (!cJSON_IsString(ch) || strcmp(ch->valuestring, h) != 0))
		return cp_fail(e, CP_DATA, "%s: config is for another horizon", what);

	if (o->dry_run) {
		if (read_current(&c, e) < 0)
			return -1;
		if (c.old && !c.oldj) {
			cp_fail(e, CP_DATA, "%s; fix it or use 'opt-deploy rollback %s --to ...'", c.olderr, h);
			change_release(&c);
			return -1;
		}
		int missing = 0;
		gr_repo *g = gr_open(o->config_dir, 0, &missing, e);
		if (!g && !missing) {
			change_release(&c);
			return -1;
		}
		gr_close(g);
		char name[128] = "";
		if (c.old && dp_backup_new_name(o->config_dir, h, name, sizeof(name), e) < 0) {
			change_release(&c);
			return -1;
		}
		snprintf(r->backup, sizeof(r->backup), "%s", name);
		snprintf(r->summary, sizeof(r->summary),
		         "dry run: would %s%s%s, write '%.200s' and commit it%s; nothing was changed",
		         c.old ? "back up the current config to backups/" : "deploy the first config",
		         c.old ? name : "", c.old ? "" : " (no current config)", c.path,
		         missing ? " in a new git repository" : "");
		change_release(&c);
		return 0;
	}

	char hint[128];
	snprintf(hint, sizeof(hint), "fix it or use 'opt-deploy rollback %s --to ...'", h);
	if (change_lock(&c, hint, e) < 0)
		goto fail;
	/* the new config: the candidate, plus extra fields, plus the chain */
	cJSON *cfg = cJSON_Duplicate(candidate, 1);
	if (!ch)
		cJSON_AddStringToObject(cfg, "horizon", h);
	const cJSON *it;
	cJSON_ArrayForEach(it, extra) {
		cJSON_DeleteItemFromObjectCaseSensitive(cfg, it->string);
		cJSON_AddItemToObject(cfg, it->string, cJSON_Duplicate(it, 1));
	}
	char now[21];
	env_utc_now(now);
	cJSON_DeleteItemFromObjectCaseSensitive(cfg, "deployed_at");
	cJSON_AddStringToObject(cfg, "deployed_at", now);
	/* the backup name is fixed now (we hold the lock) */
	char bname[128] = "";
	if (c.old && dp_backup_new_name(o->config_dir, h, bname, sizeof(bname), e) < 0) {
		cJSON_Delete(cfg);
		goto fail;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(cfg, "previous");
	if (c.old)
		cJSON_AddStringToObject(cfg, "previous", bname);
	else
		cJSON_AddNullToObject(cfg, "previous");
	char *text = cp_json_print(cfg, 1);
	size_t len = strlen(text);
	text = cp_realloc(text, len + 2);
	text[len++] = '\n';
	text[len] = '\0';
	deploy_msg m = {cfg, reasons, ""};
	int rc = change_apply(&c, text, len, deploy_message, &m, r, e);
	free(text);
	cJSON_Delete(cfg);
	if (rc < 0 && !r->changed)
		goto fail;
	if (rc == 0)
		snprintf(r->summary, sizeof(r->summary), "deployed '%.200s'%s%s%s, commit %.12s", c.path,
		         r->backup[0] ? " (previous config saved as backups/" : " (first deployment",
		         r->backup, ")", r->revision);
	change_release(&c);
	if (rc == 0)
		run_notify(o, "deploy", &c, r);
	return rc;
fail:
	change_release(&c);
	return -1;
}

/* Deploy mode challenger (o->as_challenger) with a champion in place: the
 * candidate goes live as <h>.challenger.json instead (challenger.h), with
 * its start: the envelope's series.last_date.  *as_ch = 1 when it did (or,
 * dry run, would); 0 when the candidate is to be deployed as the champion
 * (no champion yet: there is nothing to challenge).  Returns 0 or -1. */
static int challenger_line(const cJSON *env, const dp_options *o, const char *h, const cJSON *cand,
                           const cJSON *extra, dp_result *r, int *as_ch, cp_err *e)
{
	*as_ch = 0;
	if (!o->as_challenger)
		return 0;
	int missing = 0;
	cJSON *champ = dc_load(o->config_dir, h, &missing, e);
	if (!champ)
		return missing ? 0 : -1;
	cJSON_Delete(champ);
	const char *ld = env_string(env, "series", "last_date");
	int32_t day;
	if (!ld || cp_parse_date(ld, &day) < 0)
		return cp_fail(e, CP_DATA, "a challenger starts at series.last_date, which the envelope does not have");
	*as_ch = 1;
	memset(r, 0, sizeof(*r));
	r->notify_status = -1;
	char path[PATH_MAX_];
	if (ch_path(path, sizeof(path), o->config_dir, h, e) < 0)
		return -1;
	if (o->dry_run) {
		snprintf(r->summary, sizeof(r->summary), "dry run: would start the challenger '%.200s' beside the "
		         "champion; nothing was changed", path);
		return 0;
	}
	cJSON *cfg = cJSON_Duplicate(cand, 1);
	if (!cJSON_GetObjectItemCaseSensitive(cfg, "horizon"))
		cJSON_AddStringToObject(cfg, "horizon", h);
	const cJSON *it;
	cJSON_ArrayForEach(it, extra) {
		cJSON_DeleteItemFromObjectCaseSensitive(cfg, it->string);
		cJSON_AddItemToObject(cfg, it->string, cJSON_Duplicate(it, 1));
	}
	char now[21];
	env_utc_now(now);
	static const char *const drop[] = {"deployed_at", "previous", "promoted_from", "challenger"};
	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		cJSON_DeleteItemFromObjectCaseSensitive(cfg, drop[i]);
	cJSON *c = cJSON_AddObjectToObject(cfg, "challenger");
	cJSON_AddStringToObject(c, "started_at", now);
	cJSON_AddStringToObject(c, "start_date", ld);
	cJSON_AddNumberToObject(c, "origins_required", o->ch_origins > 0 ? o->ch_origins : CH_ORIGINS_DEFAULT);
	env_add_number(c, "level", o->ch_level > 0 ? o->ch_level : CH_LEVEL_DEFAULT);
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(env, "run_id");
	if (cJSON_IsString(run))
		cJSON_AddStringToObject(c, "run_id", run->valuestring);
	int rc = dp_challenger_start(o, h, cfg, r, e);
	cJSON_Delete(cfg);
	return rc;
}

static double section_seconds(double t0)
{
	return cp_now() - t0;
}

int dp_deploy_line(cJSON *env, const dp_options *o, cp_err *e)
{
	double t0 = cp_now();
	char buf[1024];
	const char *stop = env_stop_reason(env, "deployment", buf, sizeof(buf));
	const cJSON *val = cJSON_GetObjectItemCaseSensitive(env, "validation");
	if (!stop && !cJSON_IsObject(val))
		stop = "not validated: the envelope has no validation section";
	else if (!stop && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(val, "approved")))
		stop = "not approved: validation did not approve the candidate";
	if (stop) {
		cJSON *s = env_skipped(stop);
		env_add_number(s, "seconds", section_seconds(t0));
		env_set(env, "deployment", s);
		return 0;
	}
	const char *h;
	int steps;
	if (env_horizon(env, &h, &steps, e) < 0)
		return -1;
	const cJSON *cand = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(env, "search"),
	                                                     "candidate");
	if (!cJSON_IsObject(cand))
		return cp_fail(e, CP_DATA, "horizon '%s': envelope has no \"search\".\"candidate\"", h);
	/* the reasons go into the config and the commit message: words only */
	const cJSON *reasons = cJSON_GetObjectItemCaseSensitive(val, "reasons");
	const cJSON *it;
	if (cJSON_IsArray(reasons))
		cJSON_ArrayForEach(it, reasons)
			if (!cJSON_IsString(it))
				reasons = NULL;
	if (cJSON_GetObjectItemCaseSensitive(val, "reasons") && !cJSON_IsArray(reasons))
		return cp_fail(e, CP_DATA, "horizon '%s': \"validation\".\"reasons\" must be an array of strings", h);
	cJSON *extra = cJSON_CreateObject();
	if (cJSON_IsArray(reasons))
		cJSON_AddItemToObject(extra, "reasons", cJSON_Duplicate(reasons, 1));
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(env, "run_id");
	if (cJSON_IsString(run) && !cJSON_GetObjectItemCaseSensitive(cand, "run_id"))
		cJSON_AddStringToObject(extra, "run_id", run->valuestring);
	/* the held-out figures behind the approval, for opt-trigger and watch */
	const cJSON *vc = cJSON_GetObjectItemCaseSensitive(val, "candidate");
	if (cJSON_IsObject(vc)) {
		cJSON *hold = cJSON_CreateObject();
		static const char *keys[] = {"rmse", "mape", "mae", "cov95", "bias", "err_std"};
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(vc, keys[i]);
			if (cJSON_IsNumber(v))
				env_add_number(hold, keys[i], v->valuedouble);
		}
		/* the random walk on the same windows: opt-trigger's performance
		 * check compares the config with it */
		const cJSON *rwr = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(val, "random_walk"),
		                                                    "rmse");
		if (cJSON_IsNumber(rwr))
			env_add_number(hold, "random_walk_rmse", rwr->valuedouble);
		const cJSON *w = cJSON_GetObjectItemCaseSensitive(val, "windows");
		const cJSON *wc = cJSON_GetObjectItemCaseSensitive(w, "count");
		const cJSON *sec = cJSON_GetObjectItemCaseSensitive(vc, "seconds");
		const cJSON *wl = cJSON_GetObjectItemCaseSensitive(w, "last_date");
		if (cJSON_IsString(wl))  /* opt-trigger judges only origins after it */
			cJSON_AddStringToObject(hold, "last_origin_date", wl->valuestring);
		const cJSON *ws = cJSON_GetObjectItemCaseSensitive(w, "stride");
		if (cJSON_IsNumber(ws))  /* opt-backtest --config reproduces the figures on it */
			cJSON_AddNumberToObject(hold, "stride", ws->valuedouble);
		if (cJSON_IsNumber(wc) && wc->valuedouble >= 1) {
			cJSON_AddNumberToObject(hold, "windows", wc->valuedouble);
			if (cJSON_IsNumber(sec))
				env_add_number(hold, "seconds_per_window", sec->valuedouble / wc->valuedouble);
		}
		cJSON_AddItemToObject(extra, "validation", hold);
		/* validation_* of the deployed config are the held-out figures
		 * opt-validate approved, the baseline opt-trigger compares with;
		 * the search-window figures stay beside them as search_*. */
		static const char *const seedk[] = {"rmse", "mape", "mae"};
		for (size_t i = 0; i < 3; i++) {
			char vk[32], sk[32];
			snprintf(vk, sizeof(vk), "validation_%s", seedk[i]);
			snprintf(sk, sizeof(sk), "search_%s", seedk[i]);
			const cJSON *held = cJSON_GetObjectItemCaseSensitive(vc, seedk[i]);
			const cJSON *srch = cJSON_GetObjectItemCaseSensitive(cand, vk);
			if (!cJSON_IsNumber(held))
				continue;
			if (cJSON_IsNumber(srch))
				env_add_number(extra, sk, srch->valuedouble);
			env_add_number(extra, vk, held->valuedouble);
		}
	}
	/* the deployed config must be one opt-trigger can judge: a positive
	 * held-out RMSE and, when recorded, a real last origin date */
	const cJSON *vr = cJSON_GetObjectItemCaseSensitive(extra, "validation_rmse");
	if (!vr)
		vr = cJSON_GetObjectItemCaseSensitive(cand, "validation_rmse");
	const cJSON *ld = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(val, "windows"),
	                                                   "last_date");
	int32_t day;
	if (!cJSON_IsNumber(vr) || !isfinite(vr->valuedouble) || !(vr->valuedouble > 0)) {
		cJSON_Delete(extra);
		return cp_fail(e, CP_DATA, "horizon '%s': no positive held-out RMSE to deploy with "
		               "(validation.candidate.rmse or search.candidate.validation_rmse)", h);
	}
	if (ld && (!cJSON_IsString(ld) || cp_parse_date(ld->valuestring, &day) < 0)) {
		cJSON_Delete(extra);
		return cp_fail(e, CP_DATA, "horizon '%s': validation.windows.last_date is not a date (YYYY-MM-DD)", h);
	}
	dp_result r;
	int as_ch = 0;
	int rc = challenger_line(env, o, h, cand, extra, &r, &as_ch, e);
	if (rc == 0 && !as_ch)
		rc = dp_deploy(o, h, cand, extra, cJSON_IsArray(reasons) ? reasons : NULL, &r, e);
	cJSON_Delete(extra);
	if (rc < 0 && !r.changed)
		return cp_prefix(e, "horizon '%s'", h);
	cJSON *s = cJSON_CreateObject();
	cJSON_AddStringToObject(s, "status", rc == 0 ? "done" : "partial");
	env_add_number(s, "seconds", section_seconds(t0));
	cJSON_AddBoolToObject(s, "deployed", r.changed && !as_ch);
	cJSON_AddBoolToObject(s, "dry_run", o->dry_run != 0);
	char path[PATH_MAX_];
	if (as_ch) {
		cJSON_AddBoolToObject(s, "challenger", 1);
		ch_path(path, sizeof(path), o->config_dir, h, e);
	} else {
		dc_path(path, sizeof(path), o->config_dir, h, e);
	}
	cJSON_AddStringToObject(s, "config", path);
	if (r.backup[0])
		cJSON_AddStringToObject(s, "backup", r.backup);
	else
		cJSON_AddNullToObject(s, "backup");
	if (r.revision[0])
		cJSON_AddStringToObject(s, "revision", r.revision);
	else
		cJSON_AddNullToObject(s, "revision");
	cJSON_AddStringToObject(s, "summary", r.summary);
	cJSON *rs = cJSON_AddArrayToObject(s, "reasons");
	if (o->dry_run)
		cJSON_AddItemToArray(rs, cJSON_CreateString("--dry-run: nothing was written"));
	else
		cJSON_AddItemToArray(rs, cJSON_CreateString("validation approved the candidate"));
	if (rc < 0)
		cJSON_AddItemToArray(rs, cJSON_CreateString(e->msg));
	if (r.notify_status >= 0) {
		cJSON *n = cJSON_AddObjectToObject(s, "notify");
		cJSON_AddNumberToObject(n, "exit_status", r.notify_status);
	}
	env_set(env, "deployment", s);
	return rc < 0 ? 1 : 0;
}

/* ---------------------------------------------------------------------
 * Rollback
 * ------------------------------------------------------------------- */

typedef struct {
	const char *to;      /* as given, may be NULL */
	const char *label;   /* backup name or NULL for a git revision */
	const char *why;
	char msg[8192];
} rollback_msg;

static const char *rollback_message(change *c, dp_result *r, void *arg)
{
	rollback_msg *m = arg;
	char subject[256];
	if (m->label)
		snprintf(subject, sizeof(subject), "rollback %s to %s", c->h, m->label);
	else
		snprintf(subject, sizeof(subject), "rollback %s to a git revision", c->h);
	char *h = js_str(c->h), *to = js_str(m->to), *bk = js_str(r->backup[0] ? r->backup : NULL);
	char *why = js_str(m->why);
	snprintf(m->msg, sizeof(m->msg), "%s\n\nhorizon: %s\nto: %s\nbackup: %s\nwhy: %s\n",
	         subject, h, to, bk, why);
	free(h);
	free(to);
	free(bk);
	free(why);
	return m->msg;
}

/* Read backups/<name>; NULL with e on failure. */
static char *read_backup(const char *dir, const char *name, size_t *len, cp_err *e)
{
	char path[PATH_MAX_];
	snprintf(path, sizeof(path), "%s/backups/%s", dir, name);
	int missing;
	char *t = dc_read_file(path, len, &missing, e);
	if (!t && missing)
		cp_fail(e, CP_DATA, "backup '%s' is missing", name);
	return t;
}

int dp_rollback(const dp_options *o, const char *h, const char *to, const char *why,
                dp_result *r, cp_err *e)
{
	memset(r, 0, sizeof(*r));
	r->notify_status = -1;
	change c;
	if (change_begin(&c, o, h, e) < 0)
		return -1;
	int ctl = 0;
	for (const char *p = to; p && *p; p++)
		ctl |= (unsigned char)*p < 0x20 || *p == 0x7f;
	if (to && (!*to || strlen(to) > 200 || ctl)) /* ctl: keep the error one line */
		return cp_fail(e, CP_USAGE, "--to needs a backup file name or a git revision");
	char *text = NULL;
	size_t len = 0;
	char label[128] = "";
	int is_backup = 0;
	bk_entry *bk = NULL;
	int nbk = 0;

	if (!o->dry_run) {
		if (change_lock(&c, to ? NULL : "name the version to restore with --to", e) < 0)
			goto fail;
	} else if (read_current(&c, e) < 0) {
		goto fail;
	}
	if (c.old && !c.oldj && !to) {
		cp_fail(e, CP_DATA, "%s; name the version to restore with --to", c.olderr);
		goto fail;
	}
	if (to && dp_backup_name_ok(to, h)) {
		text = read_backup(o->config_dir, to, &len, e);
		if (!text)
			goto fail;
		snprintf(label, sizeof(label), "%s", to);
		is_backup = 1;
	} else if (to) {
		gr_repo *g = c.repo;
		int missing = 0;
		if (!g)
			g = gr_open(o->config_dir, 0, &missing, e);
		if (!g) {
			if (missing)
				cp_fail(e, CP_DATA, "'%.60s' is not a backup of '%s' and '%s' has no git repository",
				        to, h, o->config_dir);
			goto fail;
		}
		int rc = gr_read_at(g, to, c.rel, &text, &len, e);
		if (g != c.repo)
			gr_close(g);
		if (rc < 0)
			goto fail;
	} else {
		const cJSON *prev = cJSON_GetObjectItemCaseSensitive(c.oldj, "previous");
		if (!c.old) {
			cp_fail(e, CP_DATA, "'%s' does not exist: nothing to roll back", c.path);
			goto fail;
		}
		if (cJSON_IsNull(prev)) {
			cp_fail(e, CP_DATA, "'%s' is the first deployed version: there is no earlier one", c.path);
			goto fail;
		}
		if (prev) {
			if (!cJSON_IsString(prev) || !dp_backup_name_ok(prev->valuestring, h)) {
				cp_fail(e, CP_DATA, "%s: \"previous\" is not a backup name of '%s'", c.path, h);
				goto fail;
			}
			text = read_backup(o->config_dir, prev->valuestring, &len, e);
			if (!text)
				goto fail;
			snprintf(label, sizeof(label), "%s", prev->valuestring);
		} else {
			/* hand-written config: newest backup that differs and parses */
			if (dp_backup_list(o->config_dir, h, &bk, &nbk, e) < 0)
				goto fail;
			for (int i = nbk - 1; i >= 0 && !text; i--) {
				size_t l;
				cp_err ignore = {0};
				char *t = read_backup(o->config_dir, bk[i].name, &l, &ignore);
				cJSON *j = t ? dc_parse(t, bk[i].name, h, &ignore) : NULL;
				if (j && (l != c.oldlen || memcmp(t, c.old, l) != 0)) {
					text = t;
					len = l;
					snprintf(label, sizeof(label), "%s", bk[i].name);
					t = NULL;
				}
				cJSON_Delete(j);
				free(t);
			}
			if (!text) {
				cp_fail(e, CP_DATA, "no earlier version of '%s' in '%s/backups'", h, o->config_dir);
				goto fail;
			}
		}
		is_backup = 1;
	}
	/* the version to restore must be a valid config of this horizon */
	char what[300];
	snprintf(what, sizeof(what), "%s %.60s", is_backup ? "backup" : "git revision", is_backup ? label : to);
	cJSON *tj = dc_parse(text, what, h, e);
	if (!tj)
		goto fail;
	cJSON_Delete(tj);
	snprintf(r->restored, sizeof(r->restored), "%s%.100s", is_backup ? "" : "git:", is_backup ? label : to);
	if (c.old && c.oldlen == len && memcmp(c.old, text, len) == 0) {
		/* a rollback killed after its write left it uncommitted: the same
		 * rollback again completes it */
		const char *specs[2] = {c.rel, "backups/*"};
		int pending = c.repo ? gr_pending(c.repo, specs, 2, e) : 0;
		if (pending < 0)
			goto fail;
		if (pending) {
			const char *paths[1] = {c.rel};
			rollback_msg pm = {to ? to : label, is_backup ? label : NULL, why, ""};
			if (gr_add(c.repo, paths, 1, e) < 0 ||
			    gr_add_matching(c.repo, "backups", dp_is_backup_path, e) < 0 ||
			    gr_commit(c.repo, rollback_message(&c, r, &pm), r->revision, e) < 0)
				goto fail;
			r->changed = 1;
			snprintf(r->summary, sizeof(r->summary),
			         "'%.200s' already equals %s%s, as an interrupted change left it; committed it, "
			         "commit %.12s", c.path, is_backup ? "backups/" : "git revision ",
			         r->restored + (is_backup ? 0 : 4), r->revision);
			goto ok;
		}
		snprintf(r->summary, sizeof(r->summary), "'%.200s' already equals %s%s; nothing to do",
		         c.path, is_backup ? "backups/" : "git revision ", r->restored + (is_backup ? 0 : 4));
		goto ok;
	}
	if (o->dry_run) {
		snprintf(r->summary, sizeof(r->summary),
		         "dry run: would back up '%.200s' and restore %s%s; nothing was changed", c.path,
		         is_backup ? "backups/" : "git revision ", r->restored + (is_backup ? 0 : 4));
		goto ok;
	}
	rollback_msg m = {to ? to : label, is_backup ? label : NULL, why, ""};
	int rc = change_apply(&c, text, len, rollback_message, &m, r, e);
	if (rc < 0 && !r->changed)
		goto fail;
	snprintf(r->summary, sizeof(r->summary), "rolled '%.200s' back to %s%s%s%s%s, commit %.12s", c.path,
	         is_backup ? "backups/" : "git revision ", r->restored + (is_backup ? 0 : 4),
	         r->backup[0] ? " (replaced config saved as backups/" : "", r->backup[0] ? r->backup : "",
	         r->backup[0] ? ")" : "", r->revision);
	free(text);
	free(bk);
	change_release(&c);
	if (rc == 0)
		run_notify(o, "rollback", &c, r);
	return rc;
ok:
	free(text);
	free(bk);
	change_release(&c);
	return 0;
fail:
	free(text);
	free(bk);
	change_release(&c);
	return -1;
}

/* ---------------------------------------------------------------------
 * Notify
 * ------------------------------------------------------------------- */

int dp_notify(char *const argv[], const char *action, const char *h, const char *config,
              const char *rev, cp_err *e)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return cp_fail_errno(e, "cannot start '%s'", argv[0]);
	if (pid == 0) {
		setenv("CHRONOPT_NOTIFY_ACTION", action, 1);
		setenv("CHRONOPT_NOTIFY_HORIZON", h, 1);
		setenv("CHRONOPT_NOTIFY_CONFIG", config, 1);
		setenv("CHRONOPT_NOTIFY_REVISION", rev ? rev : "", 1);
		/* stdout of the tool carries data only */
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execvp(argv[0], argv);
		fprintf(stderr, "%s: cannot run '%s': %s\n", cp_progname, argv[0], strerror(errno));
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return cp_fail_errno(e, "cannot wait for '%s'", argv[0]);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}
