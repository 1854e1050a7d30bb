/* gitrepo.h — the config directory's git repository (libgit2).
 * Only the paths we name are ever staged; objects, the index and refs are
 * written by libgit2 with its own lock files and renames, with fsync of the
 * git directory switched on, so a crash leaves either the old or the new
 * commit and `git fsck` clean. */
#ifndef CHRONOPT_GITREPO_H
#define CHRONOPT_GITREPO_H
#include "common.h"
#include <stdint.h>

typedef struct gr_repo gr_repo;

/* Open the repository whose work tree is exactly `dir` (no search upwards).
 * create: initialise one when there is none (CP_IO on failure), in a
 * temporary directory <dir>/.git-new-XXXXXX whose .git, fsynced, is renamed
 * to <dir>/.git, so a crash leaves no repository or a whole one; without
 * create a missing repository gives NULL with *missing = 1. A broken
 * repository: CP_IO "<dir>: git: <libgit2 message>". Caller frees with
 * gr_close. */
gr_repo *gr_open(const char *dir, int create, int *missing, cp_err *e);
void gr_close(gr_repo *r);

/* Only while holding a lock that every writer of the repository takes (the
 * deploy lock), which proves no such process is inside: remove what a
 * process killed in the middle left behind, the lock files of git and
 * libgit2 (<dir>/.git/NAME.lock, any NAME.lock under .git/refs and
 * .git/logs),
 * libgit2's temporary objects (.git/objects/tmp_object_git2_*) and
 * repositories whose creation was interrupted (<dir>/.git-new-*). note
 * (may be NULL) is called with each path removed. Returns how many were
 * removed, or -1 with CP_IO when one cannot be. */
int gr_recover(const char *dir, void (*note)(const char *path, void *arg), void *arg, cp_err *e);

/* Is the repository fit for a commit? HEAD resolves to a readable commit
 * and tree (or is unborn), no index.lock, HEAD.lock or lock of the branch
 * HEAD names is left behind, the index reads, has no conflicts and every
 * object it names is readable. Touches nothing. CP_IO "<dir>: git: ..."
 * otherwise, so that a change can stop before it writes anything. */
int gr_check(gr_repo *r, cp_err *e);

/* Stage the given paths (relative to the work tree) as they are on disk; a
 * path missing on disk is removed from the index. Writes the index. */
int gr_add(gr_repo *r, const char *const *paths, int n, cp_err *e);

/* Stage every file under directory `dir` (relative) for which keep(name)
 * returns 1 (name is the path relative to the work tree), e.g. backups left
 * uncommitted by an interrupted run. Writes the index. */
int gr_add_matching(gr_repo *r, const char *dir, int (*keep)(const char *path), cp_err *e);

/* Commit the index on HEAD (first commit when HEAD is unborn) with author
 * and committer "chronopt" <$CHRONOPT_GIT_EMAIL or chronopt@localhost>, time
 * from env_utc_now (so $CHRONOPT_NOW pins it), message as given (the caller
 * builds it: single-line subject, blank line, body). Fills rev[41] with the
 * new commit id. An email that is empty, too long or holds '<', '>' or
 * control characters: CP_USAGE. */
int gr_commit(gr_repo *r, const char *message, char rev[41], cp_err *e);

/* The latest commit that changed `path` (walking from HEAD along first
 * parents): its id, summary (subject line, owned by a static-sized buffer)
 * and time. Returns 1 when found, 0 when no commit touches it (or HEAD is
 * unborn), -1 on error. */
int gr_last_change(gr_repo *r, const char *path, char rev[41], char *subject, size_t slen,
                   int64_t *when, cp_err *e);

/* Content of `path` in the tree of revision `rev` (any git revision
 * expression that names a commit). *buf is malloc'd (caller frees).
 * Unknown revision or no such path there: CP_DATA. */
int gr_read_at(gr_repo *r, const char *rev, const char *path, char **buf, size_t *len, cp_err *e);

/* 1 when a path matching one of the pathspecs specs[n] differs between
 * HEAD, the index and the work tree (untracked files count), 0 when none
 * does, -1 on error. */
int gr_pending(gr_repo *r, const char *const *specs, int n, cp_err *e);

/* Id of HEAD in rev[41] (""), 0 when unborn. */
int gr_head(gr_repo *r, char rev[41], cp_err *e);

#endif
