/* test_durable.c — durable replace/append and lock files, including every
 * injected failure (CHRONOPT_FAIL_AT) and crashes (kill:<step>) in forked
 * children. */
#include "durable.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[256];

/* fork with stdout flushed, so a child's exit() does not repeat TAP lines */
static pid_t xfork(void)
{
	fflush(stdout);
	return fork();
}

/* "<dir>/<name>"; the strings live until free_paths() at the end. */
static char *paths[256];
static int npaths;

static char *path_in(const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	snprintf(p, n, "%s/%s", dir, name);
	if (npaths < 256)
		paths[npaths++] = p;
	return p;
}

static void free_paths(void)
{
	while (npaths > 0)
		free(paths[--npaths]);
}

/* Content of a file ("<missing>" when absent); static buffer. */
static const char *content(const char *path)
{
	static char buf[4096];
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return "<missing>";
	size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void put(const char *path, const char *s)
{
	FILE *fp = fopen(path, "wb");
	fputs(s, fp);
	fclose(fp);
}

/* Number of entries in dir other than "." and ".." and those named in keep. */
static int stray_files(const char *keep1, const char *keep2)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((keep1 && !strcmp(de->d_name, keep1)) || (keep2 && !strcmp(de->d_name, keep2)))
			continue;
		printf("#   present: %s\n", de->d_name);
		n++;
	}
	closedir(d);
	return n;
}

static void clear_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			char p[1024];
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			unlink(p);
		}
	closedir(d);
}

static void test_write(void)
{
	cp_err e = {0};
	const char *t = path_in("target.json");
	struct stat st;

	umask(022);
	CHECK(durable_write(t, "new\n", 4, &e) == 0 && !strcmp(content(t), "new\n"),
	      "durable_write creates a file");
	CHECK(stat(t, &st) == 0 && (st.st_mode & 0777) == 0644, "created 0666 & ~umask");
	CHECK(durable_write(t, "second\n", 7, &e) == 0 && !strcmp(content(t), "second\n"),
	      "durable_write replaces a file");
	CHECK(durable_write(t, "", 0, &e) == 0 && !strcmp(content(t), ""),
	      "durable_write of nothing gives an empty file");
	CHECK(stray_files("target.json", NULL) == 0, "no temp file left after success");

	static const char *steps[] = {"open", "write", "fsync", "rename"};
	char name[128];
	for (int i = 0; i < 4; i++) {
		put(t, "old\n");
		setenv("CHRONOPT_FAIL_AT", steps[i], 1);
		e.code = 0;
		int rc = durable_write(t, "new content\n", 12, &e);
		unsetenv("CHRONOPT_FAIL_AT");
		snprintf(name, sizeof(name), "injected %s failure: CP_IO with strerror", steps[i]);
		CHECK(rc == -1 && e.code == CP_IO && strstr(e.msg, "Input/output error"), name);
		snprintf(name, sizeof(name), "injected %s failure: old content kept", steps[i]);
		CHECK(!strcmp(content(t), "old\n"), name);
		snprintf(name, sizeof(name), "injected %s failure: no temp file left", steps[i]);
		CHECK(stray_files("target.json", NULL) == 0, name);
	}
	setenv("CHRONOPT_FAIL_AT", "rename", 1);
	durable_write(t, "x", 1, &e);
	unsetenv("CHRONOPT_FAIL_AT");
	CHECK(!strncmp(e.msg, "cannot rename '", 15) && strstr(e.msg, "/.target.json.tmp-") &&
	      strstr(e.msg, "target.json': Input/output error"), "the rename message names both files");

	put(t, "old\n");
	setenv("CHRONOPT_FAIL_AT", "dirsync", 1);
	int rc = durable_write(t, "new\n", 4, &e);
	unsetenv("CHRONOPT_FAIL_AT");
	CHECK(rc == -1 && e.code == CP_IO && !strncmp(e.msg, "cannot fsync directory '", 24),
	      "injected dirsync failure is reported");
	CHECK(!strcmp(content(t), "new\n") && stray_files("target.json", NULL) == 0,
	      "dirsync fails after the rename: new content in place, no temp file");

	CHECK(durable_write(path_in("no-such-dir/x"), "a", 1, &e) == -1 && e.code == CP_IO &&
	      strstr(e.msg, "No such file or directory"), "a missing directory is CP_IO");
	CHECK(durable_write(path_in(""), "a", 1, &e) == -1 && e.code == CP_IO,
	      "a path ending in '/' is refused");
}

/* The streaming form: old content until the commit, nothing left on abort
 * or failure, devices (here a symlink to /dev/null) written in place. */
static void test_stream(void)
{
	cp_err e = {0};
	const char *t = path_in("target.json");
	durable_file df;
	char name[128];

	put(t, "old\n");
	CHECK(durable_open(&df, t, &e) == 0 && df.fp && df.tmp, "durable_open gives a temp stream");
	fputs("new ", df.fp);
	fflush(df.fp);
	CHECK(!strcmp(content(t), "old\n"), "until the commit the target keeps its old content");
	fputs("content\n", df.fp);
	CHECK(durable_commit(&df, &e) == 0 && !strcmp(content(t), "new content\n") && !df.path,
	      "durable_commit puts the whole new content in place and releases df");
	CHECK(stray_files("target.json", NULL) == 0, "no temp file left after a commit");

	put(t, "old\n");
	CHECK(durable_open(&df, t, &e) == 0, "durable_open again");
	fputs("half", df.fp);
	durable_abort(&df);
	CHECK(!strcmp(content(t), "old\n") && stray_files("target.json", NULL) == 0 && !df.path,
	      "durable_abort keeps the old content and removes the temp file");
	durable_abort(&df);  /* a no-op on a released df */

	static const char *steps[] = {"fsync", "rename"};
	for (int i = 0; i < 2; i++) {
		put(t, "old\n");
		durable_open(&df, t, &e);
		fputs("new\n", df.fp);
		setenv("CHRONOPT_FAIL_AT", steps[i], 1);
		int rc = durable_commit(&df, &e);
		unsetenv("CHRONOPT_FAIL_AT");
		snprintf(name, sizeof(name), "injected %s failure in commit: CP_IO, old content, "
		         "no temp file", steps[i]);
		CHECK(rc == -1 && e.code == CP_IO && strstr(e.msg, "Input/output error") &&
		      !strcmp(content(t), "old\n") && stray_files("target.json", NULL) == 0 && !df.path,
		      name);
	}
	setenv("CHRONOPT_FAIL_AT", "open", 1);
	int rc = durable_open(&df, t, &e);
	unsetenv("CHRONOPT_FAIL_AT");
	CHECK(rc == -1 && !df.fp && !df.path && stray_files("target.json", NULL) == 0,
	      "injected open failure: nothing created");
	char want[600];
	const char *nd = path_in("no-such-dir/x");
	snprintf(want, sizeof(want), "cannot open '%s': No such file or directory", nd);
	CHECK(durable_open(&df, nd, &e) == -1 && e.code == CP_IO && !strcmp(e.msg, want),
	      "durable_open in a missing directory names the target");

	const char *dev = path_in("null-link");
	struct stat st;
	CHECK(symlink("/dev/null", dev) == 0, "a symlink to /dev/null");
	CHECK(durable_open(&df, dev, &e) == 0 && !df.tmp, "a device is written in place");
	fputs("x", df.fp);
	CHECK(durable_commit(&df, &e) == 0 && lstat(dev, &st) == 0 && S_ISLNK(st.st_mode),
	      "committing to a device leaves the link and the device as they were");
	durable_open(&df, dev, &e);
	durable_abort(&df);
	CHECK(lstat(dev, &st) == 0 && S_ISLNK(st.st_mode) && stat("/dev/null", &st) == 0 &&
	      S_ISCHR(st.st_mode), "aborting a device write removes nothing");
	unlink(dev);
	clear_dir();
}

/* Run durable_write in a child with CHRONOPT_FAIL_AT=kill:<step>. */
static void test_kill(void)
{
	static const char *steps[] = {"open", "write", "partial", "fsync", "rename", "dirsync"};
	const char *t = path_in("target.json");
	char name[128], val[32];
	for (int i = 0; i < 6; i++) {
		clear_dir();
		put(t, "old\n");
		snprintf(val, sizeof(val), "kill:%s", steps[i]);
		pid_t pid = xfork();
		if (pid == 0) {
			setenv("CHRONOPT_FAIL_AT", val, 1);
			cp_err e;
			durable_write(t, "new content\n", 12, &e);
			_exit(0);
		}
		int status = 0;
		waitpid(pid, &status, 0);
		snprintf(name, sizeof(name), "kill:%s: the writer dies by SIGKILL", steps[i]);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, name);
		int renamed = !strcmp(steps[i], "dirsync");
		snprintf(name, sizeof(name), "kill:%s: target holds %s content, never a mix",
		         steps[i], renamed ? "the new" : "the old");
		CHECK(!strcmp(content(t), renamed ? "new content\n" : "old\n"), name);
		int strays = stray_files("target.json", NULL);
		int expect = strcmp(steps[i], "open") && !renamed;  /* a temp survives SIGKILL */
		snprintf(name, sizeof(name), "kill:%s: %s", steps[i],
		         expect ? "only the temp file is left behind" : "no temp file");
		CHECK(strays == expect, name);
	}
	clear_dir();
}

static void test_append(void)
{
	cp_err e = {0};
	const char *h = path_in("h.jsonl");
	CHECK(durable_append(h, "a\n", 2, &e) == 0 && durable_append(h, "bb\n", 3, &e) == 0 &&
	      !strcmp(content(h), "a\nbb\n"), "durable_append creates and appends");
	CHECK(durable_append(h, "c", 1, &e) == -1 && e.code == CP_INTERNAL &&
	      !strcmp(content(h), "a\nbb\n"), "a line without a newline is refused");

	static const char *steps[] = {"open", "write", "fsync"};
	char name[128];
	for (int i = 0; i < 3; i++) {
		setenv("CHRONOPT_FAIL_AT", steps[i], 1);
		int rc = durable_append(h, "a longer third line\n", 20, &e);
		unsetenv("CHRONOPT_FAIL_AT");
		snprintf(name, sizeof(name), "append, injected %s failure: CP_IO, file unchanged",
		         steps[i]);
		CHECK(rc == -1 && e.code == CP_IO && !strcmp(content(h), "a\nbb\n"), name);
	}
	const char *fresh = path_in("fresh.jsonl");
	setenv("CHRONOPT_FAIL_AT", "write", 1);
	int rc = durable_append(fresh, "line\n", 5, &e);
	unsetenv("CHRONOPT_FAIL_AT");
	CHECK(rc == -1 && !strcmp(content(fresh), "<missing>"),
	      "a failed append that created the file removes it");
	setenv("CHRONOPT_FAIL_AT", "dirsync", 1);
	rc = durable_append(fresh, "line\n", 5, &e);
	unsetenv("CHRONOPT_FAIL_AT");
	CHECK(rc == -1 && e.code == CP_IO && !strcmp(content(fresh), "line\n"),
	      "a new file's directory is fsynced (injected dirsync failure reported)");
	setenv("CHRONOPT_FAIL_AT", "dirsync", 1);
	rc = durable_append(fresh, "more\n", 5, &e);
	unsetenv("CHRONOPT_FAIL_AT");
	CHECK(rc == 0 && !strcmp(content(fresh), "line\nmore\n"),
	      "appending to an existing file does not sync the directory");

	pid_t pid = xfork();
	if (pid == 0) {
		setenv("CHRONOPT_FAIL_AT", "kill:partial", 1);
		durable_append(h, "0123456789\n", 11, &e);
		_exit(0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL &&
	      !strcmp(content(h), "a\nbb\n01234"), "kill:partial leaves a torn last line");
	clear_dir();
}

static void test_lock(void)
{
	cp_err e = {0};
	cp_lock l, m;
	const char *h = path_in("h.jsonl");
	const char *lk = path_in("h.jsonl.lock");
	char want[1024], pidline[32];

	CHECK(lock_acquire(&l, h, 0, &e) == 0 && l.fd >= 0 && !strcmp(l.lockpath, lk),
	      "lock_acquire takes '<path>.lock'");
	snprintf(pidline, sizeof(pidline), "%ld\n", (long)getpid());
	CHECK(!strcmp(content(lk), pidline), "the lock file holds our pid");
	snprintf(want, sizeof(want), "'%s' is held by pid %ld", lk, (long)getpid());
	CHECK(lock_acquire(&m, h, 0, &e) == -1 && e.code == CP_BUSY && !strcmp(e.msg, want) &&
	      m.lockpath == NULL && m.fd == -1, "a held lock gives CP_BUSY with the pid");
	CHECK(lock_acquire(&m, h, 30, &e) == -1 && e.code == CP_BUSY && !strcmp(e.msg, want),
	      "waiting for a held lock ends in CP_BUSY");

	pid_t child = xfork();
	if (child == 0)
		exit(0);  /* runs atexit: must not remove the parent's lock */
	waitpid(child, NULL, 0);
	CHECK(!strcmp(content(lk), pidline), "a forked child exiting keeps the parent's lock");

	lock_release(&l);
	CHECK(!strcmp(content(lk), "<missing>") && l.lockpath == NULL && l.fd == -1,
	      "lock_release removes the lock file");
	lock_release(&l);
	lock_release(NULL);

	/* another process holds the lock; a third one waits for it */
	int to_holder[2], from_holder[2];
	if (pipe(to_holder) || pipe(from_holder))
		return;
	pid_t holder = xfork();
	if (holder == 0) {
		char c = 0;
		cp_lock hl;
		cp_err he;
		int ok = lock_acquire(&hl, h, 0, &he) == 0;
		(void)!write(from_holder[1], ok ? "y" : "n", 1);
		(void)!read(to_holder[0], &c, 1);
		if (c == 'r')
			lock_release(&hl);
		if (c == 'p')
			pause();  /* until the parent's SIGTERM */
		_exit(0);
	}
	char c = 0;
	(void)!read(from_holder[0], &c, 1);
	CHECK(c == 'y', "a child takes the lock");
	snprintf(want, sizeof(want), "'%s' is held by pid %ld", lk, (long)holder);
	CHECK(lock_acquire(&m, h, 20, &e) == -1 && e.code == CP_BUSY && !strcmp(e.msg, want),
	      "CP_BUSY names the other process's pid");
	pid_t waiter = xfork();
	if (waiter == 0) {
		cp_lock wl;
		cp_err we;
		exit(lock_acquire(&wl, h, 20000, &we) == 0 ? 0 : 1);  /* atexit releases */
	}
	(void)!write(to_holder[1], "r", 1);
	int status = 0;
	waitpid(waiter, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "a waiter gets the lock once the holder releases it");
	waitpid(holder, NULL, 0);
	CHECK(!strcmp(content(lk), "<missing>"), "the waiter's lock is removed when it exits");

	/* a holder killed by SIGTERM removes its lock */
	holder = xfork();
	if (holder == 0) {
		char cc = 0;
		cp_lock hl;
		cp_err he;
		int ok = lock_acquire(&hl, h, 0, &he) == 0;
		(void)!write(from_holder[1], ok ? "y" : "n", 1);
		(void)!read(to_holder[0], &cc, 1);
		pause();
		_exit(0);
	}
	(void)!read(from_holder[0], &c, 1);
	CHECK(c == 'y' && strcmp(content(lk), "<missing>"), "a second child holds the lock");
	kill(holder, SIGTERM);
	waitpid(holder, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
	      "the signal handler re-raises SIGTERM");
	CHECK(!strcmp(content(lk), "<missing>"), "SIGTERM removes the lock file");
	close(to_holder[0]);
	close(to_holder[1]);
	close(from_holder[0]);
	close(from_holder[1]);

	/* a holder killed with SIGKILL: the kernel releases its lock, the file
	 * with its pid stays and is simply taken by the next process */
	holder = xfork();
	if (holder == 0) {
		cp_lock hl;
		cp_err he;
		if (lock_acquire(&hl, h, 0, &he) == 0)
			raise(SIGKILL);
		_exit(1);
	}
	waitpid(holder, &status, 0);
	snprintf(pidline, sizeof(pidline), "%ld\n", (long)holder);
	CHECK(WIFSIGNALED(status) && !strcmp(content(lk), pidline),
	      "a holder killed by SIGKILL leaves its lock file behind");
	CHECK(lock_acquire(&m, h, 0, &e) == 0, "the lock of a killed holder is taken at once");
	snprintf(pidline, sizeof(pidline), "%ld\n", (long)getpid());
	CHECK(!strcmp(content(lk), pidline), "the new holder's pid replaces the dead one's");
	lock_release(&m);
	put(lk, "garbage that is no pid\n");
	CHECK(lock_acquire(&m, h, 0, &e) == 0 && !strcmp(content(lk), pidline),
	      "a lock file nobody holds is taken whatever it holds");
	/* a holder that has not written its pid yet */
	lock_release(&m);
	put(lk, "");
	int lfd = open(lk, O_RDWR | O_CLOEXEC);
	CHECK(lfd >= 0 && flock(lfd, LOCK_EX) == 0, "flock the lock file by hand");
	snprintf(want, sizeof(want), "'%s' is held by another process (no pid in it)", lk);
	CHECK(lock_acquire(&m, h, 0, &e) == -1 && e.code == CP_BUSY && !strcmp(e.msg, want),
	      "a locked file without a pid is busy");
	close(lfd);
	unlink(lk);
	symlink("elsewhere", lk);
	CHECK(lock_acquire(&m, h, 0, &e) == -1 && e.code == CP_IO,
	      "a lock file that is a symbolic link is refused");
	unlink(lk);

	CHECK(lock_acquire(&m, path_in("nodir/h.jsonl"), 0, &e) == -1 && e.code == CP_IO &&
	      strstr(e.msg, "nodir/h.jsonl.lock': No such file or directory"),
	      "a lock in a missing directory is CP_IO");
	clear_dir();
}

static volatile sig_atomic_t hups;
static void on_hup(int sig)
{
	(void)sig;
	hups++;
}

/* A program with its own SIGHUP handler keeps running after the cleanup
 * handler has passed the signal on: errno must be what the interrupted code
 * had. Run in a fresh process (this binary re-executed with "sighup-child"),
 * where the cleanup handler is installed after the program's own. */
static char self[4096];  /* this binary, from /proc/self/exe at start */

static int sighup_child(const char *h)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	cp_lock l;
	cp_err e;
	if (lock_acquire(&l, h, 0, &e) != 0)
		return 10;
	unlink(l.lockpath);  /* so the cleanup handler's unlink fails (ENOENT) */
	errno = 0;
	raise(SIGHUP);
	int code = hups != 1 ? 11 : errno != 0 ? 12 : 0;
	lock_release(&l);
	return code;
}

static void test_signal_errno(void)
{
	char *h = path_in("sig.jsonl");
	pid_t child = xfork();
	if (child == 0) {
		execl(self, "test_durable", "sighup-child", h, (char *)NULL);
		_exit(13);
	}
	int status;
	waitpid(child, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 11 && WEXITSTATUS(status) != 13,
	      "the cleanup handler passes SIGHUP on to the program's own handler");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the cleanup handler leaves errno as it found it");
	clear_dir();
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "sighup-child"))
		return sighup_child(argv[2]);
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/test_durable.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_write();
	test_stream();
	test_kill();
	test_append();
	test_lock();
	test_signal_errno();
	clear_dir();
	rmdir(dir);
	free_paths();
	return tap_done();
}
