/* gitrepo.c — see gitrepo.h. */
#include "gitrepo.h"
#include "envelope.h"

#include "durable.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct gr_repo {
	git_repository *repo;
	char *dir;
};

static int git_fail(cp_err *e, const char *dir, const char *what)
{
	const git_error *ge = git_error_last();
	return cp_fail(e, CP_IO, "%s: git: %s: %s", dir, what, ge && ge->message ? ge->message : "unknown error");
}

/* ------------------------------------------------- creation and recovery */

#define NEW_PREFIX ".git-new-"

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) != 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) != 0 && errno != ENOENT ? -1 : 0;
}

/* rm -r path (never follows symbolic links); 0 or -1 with errno */
static int remove_tree(const char *path)
{
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int sync_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag != FTW_F && flag != FTW_DP)
		return 0;
	if (flag == FTW_F && !S_ISREG(st->st_mode))
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | (flag == FTW_DP ? O_DIRECTORY : 0));
	if (fd < 0)
		return -1;
	int rc = fsync(fd) != 0 && errno != EINVAL ? -1 : 0;
	close(fd);
	return rc;
}

/* Create the repository of dir so that a crash leaves none or a whole one:
 * git init in <dir>/.git-new-XXXXXX, fsync every file in it, rename its .git
 * to <dir>/.git, fsync dir, remove the empty temporary directory. */
static int create_repo(const char *dir, cp_err *e)
{
	size_t n = strlen(dir) + sizeof(NEW_PREFIX) + 16;
	char *tmp = cp_malloc(n), *from = cp_malloc(n + 8), *to = cp_malloc(n);
	snprintf(tmp, n, "%s/" NEW_PREFIX "XXXXXX", dir);
	snprintf(to, n, "%s/.git", dir);
	int ret = -1;
	if (!mkdtemp(tmp)) {
		cp_fail_errno(e, "%s: git: cannot create a directory for the new repository", dir);
		goto out;
	}
	snprintf(from, n + 8, "%s/.git", tmp);
	git_repository *repo = NULL;
	git_repository_init_options opts;
	git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	opts.initial_head = "main";
	if (git_repository_init_ext(&repo, tmp, &opts) < 0) {
		git_fail(e, dir, "cannot create repository");
		goto undo;
	}
	git_repository_free(repo);
	if (nftw(from, sync_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
		cp_fail_errno(e, "%s: git: cannot fsync the new repository", dir);
		goto undo;
	}
	/* rename(2) never replaces a non-empty directory; a .git that is a file
	 * would be replaced, so look first (we hold the caller's lock) */
	struct stat st;
	if (lstat(to, &st) == 0) {
		cp_fail(e, CP_IO, "%s: git: '%s' appeared while the repository was being created", dir, to);
		goto undo;
	}
	if (rename(from, to) != 0) {
		cp_fail_errno(e, "%s: git: cannot rename '%s' to '%s'", dir, from, to);
		goto undo;
	}
	if (durable_sync_dir(to, e) < 0)
		goto out;  /* the repository is whole and in place */
	rmdir(tmp);
	ret = 0;
	goto out;
undo:
	remove_tree(tmp);
out:
	free(tmp);
	free(from);
	free(to);
	return ret;
}

gr_repo *gr_open(const char *dir, int create, int *missing, cp_err *e)
{
	if (missing)
		*missing = 0;
	git_libgit2_init();
	/* fsync objects, the index and refs (crash safety) */
	git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
	git_repository *repo = NULL;
	int rc = git_repository_open_ext(&repo, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	/* a .git that exists but does not open is a broken repository, not a
	 * missing one: never create a new one over it */
	char gp[PATH_MAX];
	struct stat gst;
	if (rc == GIT_ENOTFOUND && snprintf(gp, sizeof(gp), "%s/.git", dir) < (int)sizeof(gp) &&
	    lstat(gp, &gst) == 0)
		rc = -1;
	if (rc == GIT_ENOTFOUND) {
		if (!create) {
			if (missing)
				*missing = 1;
			git_libgit2_shutdown();
			return NULL;
		}
		if (create_repo(dir, e) < 0) {
			git_libgit2_shutdown();
			return NULL;
		}
		rc = git_repository_open_ext(&repo, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	}
	if (rc < 0) {
		git_fail(e, dir, "cannot open repository");
		git_libgit2_shutdown();
		return NULL;
	}
	if (git_repository_is_bare(repo)) {
		git_repository_free(repo);
		git_libgit2_shutdown();
		cp_fail(e, CP_IO, "%s: git: repository is bare", dir);
		return NULL;
	}
	gr_repo *r = cp_calloc(1, sizeof(*r));
	r->repo = repo;
	r->dir = cp_strdup(dir);
	return r;
}

typedef struct {
	void (*note)(const char *path, void *arg);
	void *arg;
	int removed;
	int failed;
	char failpath[4096];
	int failerr;
} recover_state;

static void recover_remove(recover_state *rs, const char *path, int tree)
{
	if ((tree ? remove_tree(path) : unlink(path)) != 0 && errno != ENOENT) {
		if (!rs->failed) {
			rs->failed = 1;
			rs->failerr = errno;
			snprintf(rs->failpath, sizeof(rs->failpath), "%s", path);
		}
		return;
	}
	rs->removed++;
	if (rs->note)
		rs->note(path, rs->arg);
}

static int ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);
	return a > b && strcmp(s + a - b, tail) == 0;
}

/* every "*.lock" file under dir (recursively, when deep) */
static void recover_locks(recover_state *rs, const char *dir, int deep)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char path[4096];
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
			continue;
		struct stat st;
		if (lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode) && deep)
			recover_locks(rs, path, 1);
		else if (S_ISREG(st.st_mode) && ends_with(de->d_name, ".lock"))
			recover_remove(rs, path, 0);
	}
	closedir(d);
}

int gr_recover(const char *dir, void (*note)(const char *path, void *arg), void *arg, cp_err *e)
{
	recover_state rs = {note, arg, 0, 0, "", 0};
	char path[4096];
	struct stat st;
	/* repositories whose creation was interrupted */
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : cp_fail_errno(e, "cannot read '%s'", dir);
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (!strncmp(de->d_name, NEW_PREFIX, sizeof(NEW_PREFIX) - 1) &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < sizeof(path) &&
		    lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			recover_remove(&rs, path, 1);
	closedir(d);
	/* lock files of a killed git or libgit2: only in a real .git directory */
	snprintf(path, sizeof(path), "%s/.git", dir);
	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		recover_locks(&rs, path, 0);
		snprintf(path, sizeof(path), "%s/.git/refs", dir);
		recover_locks(&rs, path, 1);
		snprintf(path, sizeof(path), "%s/.git/logs", dir);
		recover_locks(&rs, path, 1);
		/* libgit2's temporary loose objects (objects/tmp_object_git2_*) */
		snprintf(path, sizeof(path), "%s/.git/objects", dir);
		if ((d = opendir(path)) != NULL) {
			while ((de = readdir(d)) != NULL) {
				char p2[4096];
				if (strncmp(de->d_name, "tmp_object_git2_", 16) != 0 ||
				    (size_t)snprintf(p2, sizeof(p2), "%s/%s", path, de->d_name) >= sizeof(p2) ||
				    lstat(p2, &st) != 0 || !S_ISREG(st.st_mode))
					continue;
				recover_remove(&rs, p2, 0);
			}
			closedir(d);
		}
	}
	if (rs.failed) {
		errno = rs.failerr;
		return cp_fail_errno(e, "cannot remove '%s', left behind by a killed process", rs.failpath);
	}
	return rs.removed;
}

void gr_close(gr_repo *r)
{
	if (!r)
		return;
	git_repository_free(r->repo);
	free(r->dir);
	free(r);
	git_libgit2_shutdown();
}

/* 1 when <gitdir>/<name>.lock exists */
static int lock_left(gr_repo *r, const char *name, char *path, size_t len)
{
	struct stat st;
	snprintf(path, len, "%s%s.lock", git_repository_path(r->repo), name);
	return lstat(path, &st) == 0;
}

int gr_check(gr_repo *r, cp_err *e)
{
	char lock[4096];
	const char *names[3] = {"index", "HEAD", NULL};
	git_reference *head = NULL;
	if (git_reference_lookup(&head, r->repo, "HEAD") < 0)
		return git_fail(e, r->dir, "cannot read HEAD");
	if (git_reference_type(head) == GIT_REFERENCE_SYMBOLIC)
		names[2] = git_reference_symbolic_target(head);
	for (int i = 0; i < 3; i++)
		if (names[i] && lock_left(r, names[i], lock, sizeof(lock))) {
			git_reference_free(head);
			return cp_fail(e, CP_IO, "%s: git: '%s' exists: another git process is running, or one "
			               "crashed (remove it if none is running)", r->dir, lock);
		}
	git_reference_free(head);
	git_oid id;
	int rc = git_reference_name_to_id(&id, r->repo, "HEAD");
	if (rc < 0 && rc != GIT_ENOTFOUND && rc != GIT_EUNBORNBRANCH)
		return git_fail(e, r->dir, "cannot resolve HEAD");
	if (rc == 0) {
		git_commit *c = NULL;
		git_tree *t = NULL;
		if (git_commit_lookup(&c, r->repo, &id) < 0 || git_commit_tree(&t, c) < 0) {
			git_commit_free(c);
			return git_fail(e, r->dir, "cannot read the HEAD commit");
		}
		git_tree_free(t);
		git_commit_free(c);
	}
	git_index *idx = NULL;
	git_odb *odb = NULL;
	if (git_repository_index(&idx, r->repo) < 0 || git_index_read(idx, 1) < 0) {
		git_index_free(idx);
		return git_fail(e, r->dir, "cannot read the index");
	}
	int ret = 0;
	if (git_index_has_conflicts(idx)) {
		ret = cp_fail(e, CP_IO, "%s: git: the index has unresolved conflicts", r->dir);
	} else if (git_repository_odb(&odb, r->repo) < 0) {
		ret = git_fail(e, r->dir, "cannot open the object database");
	} else {
		size_t n = git_index_entrycount(idx);
		for (size_t i = 0; i < n && ret == 0; i++) {
			const git_index_entry *en = git_index_get_byindex(idx, i);
			size_t sz;
			git_object_t type;
			if (git_odb_read_header(&sz, &type, odb, &en->id) < 0) {
				cp_err ge = {0};
				git_fail(&ge, r->dir, "cannot read the object of a staged file");
				ret = cp_fail(e, CP_IO, "%s (%.200s)", ge.msg, en->path);
			}
		}
	}
	git_odb_free(odb);
	git_index_free(idx);
	return ret;
}

int gr_add(gr_repo *r, const char *const *paths, int n, cp_err *e)
{
	git_index *idx = NULL;
	if (git_repository_index(&idx, r->repo) < 0)
		return git_fail(e, r->dir, "cannot read the index");
	/* re-read from disk so another process's staging is not lost */
	if (git_index_read(idx, 1) < 0) {
		git_index_free(idx);
		return git_fail(e, r->dir, "cannot read the index");
	}
	for (int i = 0; i < n; i++) {
		char full[4096];
		snprintf(full, sizeof(full), "%s/%s", r->dir, paths[i]);
		FILE *fp = fopen(full, "rb");
		int rc;
		if (fp) {
			fclose(fp);
			rc = git_index_add_bypath(idx, paths[i]);
		} else {
			rc = git_index_remove_bypath(idx, paths[i]);
		}
		if (rc < 0) {
			git_index_free(idx);
			return git_fail(e, r->dir, "cannot stage a file");
		}
	}
	if (git_index_write(idx) < 0) {
		git_index_free(idx);
		return git_fail(e, r->dir, "cannot write the index");
	}
	git_index_free(idx);
	return 0;
}

typedef struct {
	int (*keep)(const char *path);
} match_arg;

static int match_cb(const char *path, const char *spec, void *payload)
{
	(void)spec;
	const match_arg *m = payload;
	return m->keep(path) ? 0 : 1; /* 0: add, > 0: skip */
}

int gr_add_matching(gr_repo *r, const char *dir, int (*keep)(const char *path), cp_err *e)
{
	git_index *idx = NULL;
	if (git_repository_index(&idx, r->repo) < 0 || git_index_read(idx, 1) < 0) {
		git_index_free(idx);
		return git_fail(e, r->dir, "cannot read the index");
	}
	char spec[256];
	snprintf(spec, sizeof(spec), "%s/*", dir);
	char *specs[1] = {spec};
	git_strarray sa = {specs, 1};
	match_arg m = {keep};
	if (git_index_add_all(idx, &sa, GIT_INDEX_ADD_DEFAULT, match_cb, &m) < 0 ||
	    git_index_write(idx) < 0) {
		git_index_free(idx);
		return git_fail(e, r->dir, "cannot stage files");
	}
	git_index_free(idx);
	return 0;
}

static int email_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 254)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x21 || c == 0x7f || c == '<' || c == '>' || c == '"' || c == '\\')
			return 0;
	}
	return 1;
}

/* "YYYY-MM-DDTHH:MM:SSZ" -> seconds since the epoch */
static int64_t utc_seconds(const char *s)
{
	char date[11];
	int32_t day = 0;
	memcpy(date, s, 10);
	date[10] = '\0';
	if (cp_parse_date(date, &day) < 0)
		return 0;
	int hh = (s[11] - '0') * 10 + (s[12] - '0');
	int mm = (s[14] - '0') * 10 + (s[15] - '0');
	int ss = (s[17] - '0') * 10 + (s[18] - '0');
	return (int64_t)day * 86400 + hh * 3600 + mm * 60 + ss;
}

int gr_commit(gr_repo *r, const char *message, char rev[41], cp_err *e)
{
	const char *email = getenv("CHRONOPT_GIT_EMAIL");
	if (!email || !*email)
		email = "chronopt@localhost";
	if (!email_ok(email))
		return cp_fail(e, CP_USAGE, "CHRONOPT_GIT_EMAIL is not a plain e-mail address");
	char now[21];
	env_utc_now(now);
	git_signature *sig = NULL;
	if (git_signature_new(&sig, "chronopt", email, (git_time_t)utc_seconds(now), 0) < 0)
		return git_fail(e, r->dir, "cannot make a signature");

	int ret = -1;
	git_index *idx = NULL;
	git_tree *tree = NULL;
	git_commit *parent = NULL;
	git_oid tree_id, parent_id, id;
	if (git_repository_index(&idx, r->repo) < 0 || git_index_read(idx, 1) < 0) {
		git_fail(e, r->dir, "cannot read the index");
		goto out;
	}
	if (git_index_write_tree(&tree_id, idx) < 0 || git_tree_lookup(&tree, r->repo, &tree_id) < 0) {
		git_fail(e, r->dir, "cannot write the tree");
		goto out;
	}
	int rc = git_reference_name_to_id(&parent_id, r->repo, "HEAD");
	if (rc == 0) {
		if (git_commit_lookup(&parent, r->repo, &parent_id) < 0) {
			git_fail(e, r->dir, "cannot read HEAD");
			goto out;
		}
	} else if (rc != GIT_ENOTFOUND && rc != GIT_EUNBORNBRANCH) {
		git_fail(e, r->dir, "cannot resolve HEAD");
		goto out;
	}
	const git_commit *parents[1] = {parent};
	if (git_commit_create(&id, r->repo, "HEAD", sig, sig, NULL, message, tree,
	                      parent ? 1 : 0, parents) < 0) {
		git_fail(e, r->dir, "cannot commit");
		goto out;
	}
	git_oid_tostr(rev, 41, &id);
	ret = 0;
out:
	git_commit_free(parent);
	git_tree_free(tree);
	git_index_free(idx);
	git_signature_free(sig);
	return ret;
}

int gr_pending(gr_repo *r, const char *const *specs, int n, cp_err *e)
{
	git_status_options o;
	git_status_options_init(&o, GIT_STATUS_OPTIONS_VERSION);
	o.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	o.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
	o.pathspec.strings = (char **)specs;
	o.pathspec.count = (size_t)n;
	git_status_list *l = NULL;
	if (git_status_list_new(&l, r->repo, &o) < 0)
		return git_fail(e, r->dir, "cannot compare the work tree with HEAD");
	int pending = git_status_list_entrycount(l) > 0;
	git_status_list_free(l);
	return pending;
}

int gr_head(gr_repo *r, char rev[41], cp_err *e)
{
	git_oid id;
	rev[0] = '\0';
	int rc = git_reference_name_to_id(&id, r->repo, "HEAD");
	if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH)
		return 0;
	if (rc < 0)
		return git_fail(e, r->dir, "cannot resolve HEAD");
	git_oid_tostr(rev, 41, &id);
	return 1;
}

/* Blob id of path in commit c; 0 found, 1 absent, -1 error. */
static int entry_id(git_commit *c, const char *path, git_oid *out)
{
	git_tree *t = NULL;
	git_tree_entry *te = NULL;
	if (git_commit_tree(&t, c) < 0)
		return -1;
	int rc = git_tree_entry_bypath(&te, t, path);
	git_tree_free(t);
	if (rc == GIT_ENOTFOUND)
		return 1;
	if (rc < 0)
		return -1;
	git_oid_cpy(out, git_tree_entry_id(te));
	git_tree_entry_free(te);
	return 0;
}

int gr_last_change(gr_repo *r, const char *path, char rev[41], char *subject, size_t slen,
                   int64_t *when, cp_err *e)
{
	git_oid id;
	int rc = git_reference_name_to_id(&id, r->repo, "HEAD");
	if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH)
		return 0;
	if (rc < 0)
		return git_fail(e, r->dir, "cannot resolve HEAD");
	git_commit *c = NULL;
	if (git_commit_lookup(&c, r->repo, &id) < 0)
		return git_fail(e, r->dir, "cannot read HEAD");
	int found = 0;
	for (int guard = 0; c && guard < 100000; guard++) {
		git_oid mine, theirs;
		int a = entry_id(c, path, &mine);
		if (a < 0) {
			git_commit_free(c);
			return git_fail(e, r->dir, "cannot read a tree");
		}
		git_commit *p = NULL;
		int b = 1;
		if (git_commit_parentcount(c) > 0) {
			if (git_commit_parent(&p, c, 0) < 0) {
				git_commit_free(c);
				return git_fail(e, r->dir, "cannot read a parent commit");
			}
			b = entry_id(p, path, &theirs);
			if (b < 0) {
				git_commit_free(p);
				git_commit_free(c);
				return git_fail(e, r->dir, "cannot read a tree");
			}
		}
		int changed = (a == 0 && b == 1) || (a == 1 && b == 0) ||
		              (a == 0 && b == 0 && !git_oid_equal(&mine, &theirs));
		if (changed) {
			git_oid_tostr(rev, 41, git_commit_id(c));
			snprintf(subject, slen, "%s", git_commit_summary(c) ? git_commit_summary(c) : "");
			*when = (int64_t)git_commit_time(c);
			found = 1;
			git_commit_free(p);
			break;
		}
		git_commit_free(c);
		c = p;
	}
	if (found)
		git_commit_free(c);
	return found;
}

int gr_read_at(gr_repo *r, const char *rev, const char *path, char **buf, size_t *len, cp_err *e)
{
	git_object *obj = NULL;
	git_commit *c = NULL;
	if (strlen(rev) > 200 || git_revparse_single(&obj, r->repo, rev) < 0)
		return cp_fail(e, CP_DATA, "'%.60s' is neither a backup of this horizon nor a git revision", rev);
	int rc = git_object_peel((git_object **)&c, obj, GIT_OBJECT_COMMIT);
	git_object_free(obj);
	if (rc < 0)
		return cp_fail(e, CP_DATA, "git revision '%.60s' is not a commit", rev);
	git_oid id;
	int a = entry_id(c, path, &id);
	git_commit_free(c);
	if (a != 0)
		return cp_fail(e, CP_DATA, "git revision '%.60s' has no '%s'", rev, path);
	git_blob *b = NULL;
	if (git_blob_lookup(&b, r->repo, &id) < 0)
		return git_fail(e, r->dir, "cannot read a blob");
	size_t n = (size_t)git_blob_rawsize(b);
	*buf = cp_malloc(n + 1);
	memcpy(*buf, git_blob_rawcontent(b), n);
	(*buf)[n] = '\0';
	*len = n;
	git_blob_free(b);
	return 0;
}
