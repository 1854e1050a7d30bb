/* gitrepo.c — see gitrepo.h. */
#include "gitrepo.h"
#include "envelope.h"

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct gr_repo {
	git_repository *repo;
	char *dir;
};

static int git_fail(cp_err *e, const char *dir, const char *what)
{
	const git_error *ge = git_error_last();
	return cp_fail(e, CP_IO, "%s: git: %s: %s", dir, what, ge && ge->message ? ge->message : "unknown error");
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
	if (rc == GIT_ENOTFOUND) {
		if (!create) {
			if (missing)
				*missing = 1;
			git_libgit2_shutdown();
			return NULL;
		}
		git_repository_init_options opts;
		git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
		opts.flags = GIT_REPOSITORY_INIT_MKPATH;
		opts.initial_head = "main";
		rc = git_repository_init_ext(&repo, dir, &opts);
		if (rc < 0) {
			git_fail(e, dir, "cannot create repository");
			git_libgit2_shutdown();
			return NULL;
		}
	} else if (rc < 0) {
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
