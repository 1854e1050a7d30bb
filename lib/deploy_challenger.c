/* deploy_challenger.c — the changes of a challenger file under the deploy
 * lock: start (write and commit <h>.challenger.json), promote (back up the
 * champion, write the challenger's config as <h>.json, remove the
 * challenger file, one commit), retire (remove it, commit), and the
 * completion of one a crash interrupted.  The steps and the crash rule are
 * in challenger.h; the testing hook CHRONOPT_DEPLOY_FAIL_AT names the steps
 * backup, write, remove, add, commit as deploy.h's. */
#include "challenger.h"
#include "deploy_internal.h"
#include "depconfig.h"
#include "envelope.h"
#include "sha256.h"
#include "jsonutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The challenger file of c->h: path, relative name, bytes (NULL when none). */
typedef struct {
	char path[PATH_MAX_];
	char rel[80];
	char *bytes;
	size_t len;
	char sha[65];
} chfile;

static int chfile_read(const change *c, chfile *f, cp_err *e)
{
	memset(f, 0, sizeof(*f));
	if (ch_path(f->path, sizeof(f->path), c->o->config_dir, c->h, e) < 0)
		return -1;
	snprintf(f->rel, sizeof(f->rel), "%s.challenger.json", c->h);
	int missing = 0;
	f->bytes = dc_read_file(f->path, &f->len, &missing, e);
	if (!f->bytes && !missing)
		return -1;
	if (f->bytes)
		sha256_hex(f->bytes, f->len, f->sha);
	return 0;
}

static int remove_file(const char *path, cp_err *e)
{
	if (unlink(path) != 0 && errno != ENOENT)
		return cp_fail_errno(e, "cannot remove '%s'", path);
	return durable_sync_dir(path, e);
}

/* Commit what is on disk of <h>.json, <h>.challenger.json and backups/. */
static int commit_files(change *c, const chfile *f, const char *msg, char rev[41], cp_err *e)
{
	const char *paths[2] = {c->rel, f->rel};
	if (gr_add(c->repo, paths, 2, e) < 0 || gr_add_matching(c->repo, "backups", dp_is_backup_path, e) < 0 ||
	    after_step("add", e) < 0)
		return -1;
	return gr_commit(c->repo, msg, rev, e);
}

int dp_challenger_recover(change *c, const char **done, cp_err *e)
{
	if (done)
		*done = "";
	chfile f;
	if (chfile_read(c, &f, e) < 0)
		return -1;
	/* the champion was written from these bytes: the promotion got past
	 * its write; finish it */
	const cJSON *pf = cJSON_GetObjectItemCaseSensitive(c->oldj, "promoted_from");
	const cJSON *ps = cJSON_GetObjectItemCaseSensitive(pf, "challenger_sha256");
	int promoted = cJSON_IsString(ps) && f.bytes && strcmp(ps->valuestring, f.sha) == 0;
	if (promoted && remove_file(f.path, e) < 0) {
		free(f.bytes);
		return -1;
	}
	free(f.bytes);
	/* a removal of the challenger file (promotion or retirement) that a
	 * crash left uncommitted */
	const char *spec[1] = {f.rel};
	int pending = gr_pending(c->repo, spec, 1, e);
	if (pending < 0)
		return -1;
	if (!pending)
		return 0;
	char head[41] = "";
	gr_head(c->repo, head, e);
	char *at = NULL;
	size_t n = 0;
	cp_err ignore = {0};
	int was = head[0] && gr_read_at(c->repo, "HEAD", f.rel, &at, &n, &ignore) == 0;
	char hsha[65] = "";
	if (was)
		sha256_hex(at, n, hsha);
	free(at);
	int missing = 0;
	char *now = dc_read_file(f.path, &n, &missing, &ignore);
	free(now);
	if (!was || !missing)  /* a start interrupted: not ours to finish (the file stays uncommitted) */
		return 0;
	/* a promotion's champion names the committed challenger's sha256; a
	 * retirement leaves the champion as it was */
	const char *what = cJSON_IsString(ps) && !strcmp(ps->valuestring, hsha) ? "promoted" : "retired";
	char msg[512], rev[41];
	snprintf(msg, sizeof(msg), "%s %s challenger: completed after an interruption\n\nhorizon: %s\n",
	         !strcmp(what, "promoted") ? "promote" : "retire", c->h, c->h);
	if (commit_files(c, &f, msg, rev, e) < 0)
		return -1;
	fprintf(stderr, "%s: %s: completed the %s of the challenger that an interrupted run began (commit %.12s)\n",
	        cp_progname, c->h, !strcmp(what, "promoted") ? "promotion" : "retirement", rev);
	if (done)
		*done = what;
	return 0;
}

int dp_challenger_complete(const dp_options *o, const char *h, const char **done, dp_result *r, cp_err *e)
{
	memset(r, 0, sizeof(*r));
	r->notify_status = -1;
	*done = "";
	change c;
	if (change_begin(&c, o, h, e) < 0)
		return -1;
	/* nothing to finish without a repository */
	char gd[PATH_MAX_];
	snprintf(gd, sizeof(gd), "%s/.git", o->config_dir);
	if (access(gd, F_OK) != 0)
		return 0;
	/* change_lock runs dp_challenger_recover and keeps what it did */
	if (change_lock(&c, NULL, e) < 0) {
		change_release(&c);
		return -1;
	}
	*done = c.recovered ? c.recovered : "";
	if ((*done)[0]) {
		r->changed = 1;
		gr_head(c.repo, r->revision, e);
	}
	change_release(&c);
	return 0;
}

/* The pieces of a commit message body, JSON-escaped (caller frees). */
static char *json_text(const cJSON *v)
{
	char *s = v ? cJSON_PrintUnformatted(v) : NULL;
	return s ? s : cp_strdup("null");
}

int dp_challenger_start(const dp_options *o, const char *h, const cJSON *cfg, dp_result *r, cp_err *e)
{
	memset(r, 0, sizeof(*r));
	r->notify_status = -1;
	change c;
	chfile f;
	memset(&f, 0, sizeof(f));
	if (change_begin(&c, o, h, e) < 0)
		return -1;
	char hint[128];
	snprintf(hint, sizeof(hint), "fix it or use 'opt-deploy rollback %s --to ...'", h);
	if (change_lock(&c, hint, e) < 0 || chfile_read(&c, &f, e) < 0)
		goto fail;
	char *text = cp_json_print(cfg, 1);
	size_t len = strlen(text);
	text = cp_realloc(text, len + 2);
	text[len++] = '\n';
	text[len] = '\0';
	ch_info ci;
	cJSON *chk = ch_parse(text, len, f.path, h, &ci, e);
	if (!chk) {
		free(text);
		goto fail;
	}
	cJSON_Delete(chk);
	char head[41] = "";
	if (gr_head(c.repo, head, e) < 0) {
		free(text);
		goto fail;
	}
	char msg[4096];
	const cJSON *vr = cJSON_GetObjectItemCaseSensitive(cfg, "validation_rmse");
	char *run = json_text(cJSON_GetObjectItemCaseSensitive(cfg, "run_id"));
	char *ch = json_text(cJSON_GetObjectItemCaseSensitive(cfg, "challenger"));
	snprintf(msg, sizeof(msg), "challenger %s: start%s%.6g\n\nhorizon: %s\nrun_id: %s\nchallenger: %s\n", h,
	         cJSON_IsNumber(vr) ? ", validation rmse " : "", cJSON_IsNumber(vr) ? vr->valuedouble : 0.0, h, run,
	         ch);
	free(run);
	free(ch);
	const char *paths[1] = {f.rel};
	if (durable_write(f.path, text, len, e) < 0 || after_step("write", e) < 0 ||
	    gr_add(c.repo, paths, 1, e) < 0 || after_step("add", e) < 0 || gr_commit(c.repo, msg, r->revision, e) < 0) {
		cp_err keep = *e, ig = {0};
		char now[41] = "";
		if (gr_head(c.repo, now, &ig) > 0 && strcmp(now, head) != 0) {
			memcpy(r->revision, now, sizeof(now)); /* committed; a later step failed */
		} else {
			/* put the file back as it was */
			if (f.bytes)
				durable_write(f.path, f.bytes, f.len, &ig);
			else
				remove_file(f.path, &ig);
			gr_add(c.repo, paths, 1, &ig);
			free(text);
			*e = keep;
			goto fail;
		}
	}
	free(text);
	r->changed = 1;
	snprintf(r->summary, sizeof(r->summary), "started the challenger '%.200s'%s beside the champion '%.200s', "
	         "commit %.12s", f.path, f.bytes ? " (replacing the one that was live)" : "", c.path, r->revision);
	free(f.bytes);
	change_release(&c);
	return 0;
fail:
	free(f.bytes);
	change_release(&c);
	return -1;
}

/* Promotion and retirement. */
static int finish(const dp_options *o, const char *h, const char *sha, const cJSON *scores, int promote,
                  dp_result *r, cp_err *e)
{
	memset(r, 0, sizeof(*r));
	r->notify_status = -1;
	change c;
	chfile f;
	memset(&f, 0, sizeof(f));
	char *text = NULL;
	if (change_begin(&c, o, h, e) < 0)
		return -1;
	char hint[128];
	snprintf(hint, sizeof(hint), "fix it or use 'opt-deploy rollback %s --to ...'", h);
	if (change_lock(&c, hint, e) < 0 || chfile_read(&c, &f, e) < 0)
		goto fail;
	if (!f.bytes || strcmp(f.sha, sha) != 0) {
		cp_fail(e, CP_BUSY, "'%s' changed while it was scored; run again", f.path);
		goto fail;
	}
	ch_info ci;
	cJSON *cj = ch_parse(f.bytes, f.len, f.path, h, &ci, e);
	if (!cj)
		goto fail;
	char head[41] = "";
	if (gr_head(c.repo, head, e) < 0) {
		cJSON_Delete(cj);
		goto fail;
	}
	char *sc = json_text(scores);
	char msg[8192];
	size_t len = 0;
	if (promote) {
		/* the new champion: the challenger's config, its challenger block
		 * kept as promoted_from with the scores and the file's sha256 */
		cJSON *pf = cJSON_DetachItemFromObjectCaseSensitive(cj, "challenger");
		cJSON_AddStringToObject(pf, "challenger_sha256", f.sha);
		if (scores)
			cJSON_AddItemToObject(pf, "scores", cJSON_Duplicate(scores, 1));
		cJSON_DeleteItemFromObjectCaseSensitive(cj, "promoted_from");
		cJSON_AddItemToObject(cj, "promoted_from", pf);
		char now[21];
		env_utc_now(now);
		cJSON_DeleteItemFromObjectCaseSensitive(cj, "deployed_at");
		cJSON_AddStringToObject(cj, "deployed_at", now);
		if (c.old && dp_backup_new_name(o->config_dir, h, r->backup, sizeof(r->backup), e) < 0) {
			cJSON_Delete(cj);
			free(sc);
			goto fail;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(cj, "previous");
		if (c.old)
			cJSON_AddStringToObject(cj, "previous", r->backup);
		else
			cJSON_AddNullToObject(cj, "previous");
		text = cp_json_print(cj, 1);
		len = strlen(text);
		text = cp_realloc(text, len + 2);
		text[len++] = '\n';
		text[len] = '\0';
		snprintf(msg, sizeof(msg), "promote %s challenger: it becomes the config\n\nhorizon: %s\nbackup: %s\n"
		         "challenger_sha256: %s\nscores: %s\n", h, h, r->backup[0] ? r->backup : "null", f.sha, sc);
	} else {
		snprintf(msg, sizeof(msg), "retire %s challenger: the champion stays\n\nhorizon: %s\n"
		         "challenger_sha256: %s\nscores: %s\n", h, h, f.sha, sc);
	}
	free(sc);
	cJSON_Delete(cj);
	int wrote = 0;
	if (promote && c.old) {
		char bp[PATH_MAX_ + 160];
		snprintf(bp, sizeof(bp), "%s/backups", o->config_dir);
		if (ensure_dir(bp, e) < 0)
			goto fail;
		snprintf(bp, sizeof(bp), "%s/backups/%s", o->config_dir, r->backup);
		if (durable_write(bp, c.old, c.oldlen, e) < 0 || after_step("backup", e) < 0)
			goto fail;
	}
	if (promote) {
		wrote = 1;
		if (durable_write(c.path, text, len, e) < 0 || after_step("write", e) < 0)
			goto undo;
	}
	if (remove_file(f.path, e) < 0 || after_step("remove", e) < 0 || commit_files(&c, &f, msg, r->revision, e) < 0) {
		cp_err ig = {0};
		char now[41] = "";
		if (gr_head(c.repo, now, &ig) > 0 && strcmp(now, head) != 0)
			memcpy(r->revision, now, sizeof(now)); /* the commit is in; a later step failed */
		else
			goto undo;
	}
	r->changed = 1;
	if (promote)
		snprintf(r->summary, sizeof(r->summary), "promoted the challenger: '%.200s' is its config%s%s%s, "
		         "commit %.12s", c.path, r->backup[0] ? " (the champion saved as backups/" : "", r->backup,
		         r->backup[0] ? ")" : "", r->revision);
	else
		snprintf(r->summary, sizeof(r->summary), "retired the challenger: removed '%.200s', the champion "
		         "stays, commit %.12s", f.path, r->revision);
	free(text);
	free(f.bytes);
	change_release(&c);
	return 0;
undo: {
		/* before the commit: both files as they were */
		cp_err keep = *e, ig = {0};
		durable_write(f.path, f.bytes, f.len, &ig);
		const char *p[1] = {f.rel};
		gr_add(c.repo, p, 1, &ig);
		if (wrote && change_undo(&c, &ig) < 0) {
			free(text);
			free(f.bytes);
			change_release(&c);
			return cp_fail(e, CP_IO, "%s; the champion could not be put back (%s): '%s' holds the promoted "
			               "config, not committed; the next change completes the promotion", keep.msg, ig.msg,
			               c.path);
		}
		*e = keep;
		r->backup[0] = '\0';
	}
fail:
	free(text);
	free(f.bytes);
	change_release(&c);
	return -1;
}

int dp_challenger_promote(const dp_options *o, const char *h, const char *sha, const cJSON *scores,
                          dp_result *r, cp_err *e)
{
	return finish(o, h, sha, scores, 1, r, e);
}

int dp_challenger_retire(const dp_options *o, const char *h, const char *sha, const cJSON *scores,
                         dp_result *r, cp_err *e)
{
	return finish(o, h, sha, scores, 0, r, e);
}
