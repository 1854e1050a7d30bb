/* durable.c — durable replace, durable append and lock files, see durable.h.
 *
 * The one piece of global state is the registry of files to remove on exit
 * or on a fatal signal (temp files being written, lock files held). The
 * signal handler only walks it, unlinks, restores the previous disposition
 * and re-raises; everything it touches is async-signal-safe.
 */
#include "durable.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------- registry */

#define REG_SLOTS 32
#define REG_PATH 4096

static struct {
	volatile sig_atomic_t used;
	pid_t owner;
	char path[REG_PATH];
} reg[REG_SLOTS];

static const int reg_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
#define NSIG_REG ((int)(sizeof(reg_signals) / sizeof(reg_signals[0])))
static struct sigaction reg_old[NSIG_REG];
static int reg_installed;

static void reg_cleanup(void)
{
	pid_t me = getpid();
	for (int i = 0; i < REG_SLOTS; i++)
		if (reg[i].used && reg[i].owner == me) {
			unlink(reg[i].path);
			reg[i].used = 0;
		}
}

static void reg_on_signal(int sig)
{
	/* When the previous disposition was a handler, the program goes on
	 * after it: leave errno as the interrupted code had it. */
	int saved = errno;
	reg_cleanup();
	for (int i = 0; i < NSIG_REG; i++)
		if (reg_signals[i] == sig)
			sigaction(sig, &reg_old[i], NULL);
	raise(sig);  /* delivered once this handler returns */
	errno = saved;
}

static void reg_install(void)
{
	if (reg_installed)
		return;
	reg_installed = 1;
	atexit(reg_cleanup);
	for (int i = 0; i < NSIG_REG; i++) {
		struct sigaction sa;
		if (sigaction(reg_signals[i], NULL, &reg_old[i]) != 0 ||
		    reg_old[i].sa_handler == SIG_IGN)
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = reg_on_signal;
		sigemptyset(&sa.sa_mask);
		for (int j = 0; j < NSIG_REG; j++)
			sigaddset(&sa.sa_mask, reg_signals[j]);
		sigaction(reg_signals[i], &sa, NULL);
	}
}

/* Returns the slot, or -1 when the registry is full or the path too long
 * (the file then simply is not cleaned up on signals). */
static int reg_add(const char *path)
{
	size_t n = strlen(path);
	reg_install();
	if (n >= REG_PATH)
		return -1;
	for (int i = 0; i < REG_SLOTS; i++)
		if (!reg[i].used) {
			memcpy(reg[i].path, path, n + 1);
			reg[i].owner = getpid();
			/* the handler may run between any two stores: publish the
			 * slot only once path and owner are in memory */
			atomic_signal_fence(memory_order_seq_cst);
			reg[i].used = 1;
			return i;
		}
	return -1;
}

static void reg_remove(int slot)
{
	if (slot >= 0)
		reg[slot].used = 0;
}

/* ------------------------------------------------------ fault injection */

/* Returns 1 (errno = EIO) when CHRONOPT_FAIL_AT names `step`; raises SIGKILL
 * for "kill:<step>". */
static int fail_at(const char *step)
{
	const char *v = getenv("CHRONOPT_FAIL_AT");
	if (!v)
		return 0;
	if (!strncmp(v, "kill:", 5) && !strcmp(v + 5, step))
		raise(SIGKILL);
	if (!strcmp(v, step)) {
		errno = EIO;
		return 1;
	}
	return 0;
}

/* --------------------------------------------------------------- helpers */

/* Write everything, retrying on EINTR and short writes. `hooked`: obey
 * CHRONOPT_FAIL_AT's "write", "kill:write" and "kill:partial". */
static int write_all(int fd, const char *buf, size_t len, int hooked)
{
	size_t limit = len;
	int inject = hooked && fail_at("write");
	const char *v = getenv("CHRONOPT_FAIL_AT");
	int kill_partial = hooked && v && !strcmp(v, "kill:partial");
	if (inject || kill_partial)
		limit = len / 2;
	size_t done = 0;
	while (done < limit) {
		ssize_t w = write(fd, buf + done, limit - done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		done += (size_t)w;
	}
	if (kill_partial)
		raise(SIGKILL);
	if (inject) {
		errno = EIO;
		return -1;
	}
	return 0;
}

static mode_t file_mode(void)
{
	static mode_t mask;
	static int known;
	if (!known) {
		mask = umask(077);
		umask(mask);
		known = 1;
	}
	return 0666 & ~mask;
}

/* "<dir>/.<base>.tmp-XXXXXX" for path "<dir>/<base>"; caller frees. */
static char *temp_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	const char *base = path + dirlen;
	size_t n = strlen(path) + 16;
	char *t = cp_malloc(n);
	snprintf(t, n, "%.*s.%s.tmp-XXXXXX", (int)dirlen, path, base);
	return t;
}

/* ----------------------------------------------------------------- API */

int durable_sync_dir(const char *path, cp_err *e)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	if (!slash)
		dir = cp_strdup(".");
	else if (slash == path)
		dir = cp_strdup("/");
	else {
		size_t n = (size_t)(slash - path);
		dir = cp_malloc(n + 1);
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		cp_fail_errno(e, "cannot open directory '%s'", dir);
		free(dir);
		return -1;
	}
	int rc = 0;
	if (fail_at("dirsync") || (fsync(fd) != 0 && errno != EINVAL)) {
		rc = cp_fail_errno(e, "cannot fsync directory '%s'", dir);
	}
	close(fd);
	free(dir);
	return rc;
}

/* durable_write (sync 1) and atomic_write (sync 0): temp, write, [fsync],
 * rename, [fsync of the directory]. */
static int replace_file(const char *path, const void *buf, size_t len, int sync, cp_err *e)
{
	size_t plen = strlen(path);
	if (plen == 0 || path[plen - 1] == '/')
		return cp_fail(e, CP_IO, "cannot write '%s': not a file name", path);
	char *tmp = temp_name(path);
	int slot = -1, fd = -1;

	if (fail_at("open") || (fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		cp_fail_errno(e, "cannot create a temporary file for '%s'", path);
		free(tmp);
		return -1;
	}
	slot = reg_add(tmp);
	if (fchmod(fd, file_mode()) != 0) {
		cp_fail_errno(e, "cannot set the mode of '%s'", tmp);
		goto fail;
	}
	if (write_all(fd, buf, len, 1) != 0) {
		cp_fail_errno(e, "cannot write '%s'", tmp);
		goto fail;
	}
	if (sync && (fail_at("fsync") || fsync(fd) != 0)) {
		cp_fail_errno(e, "cannot fsync '%s'", tmp);
		goto fail;
	}
	int c = close(fd);
	fd = -1;
	if (c != 0) {
		cp_fail_errno(e, "cannot close '%s'", tmp);
		goto fail;
	}
	if (fail_at("rename") || rename(tmp, path) != 0) {
		cp_fail_errno(e, "cannot rename '%s' to '%s'", tmp, path);
		goto fail;
	}
	reg_remove(slot);
	free(tmp);
	return sync ? durable_sync_dir(path, e) : 0;

fail: {
		int saved = errno;
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		reg_remove(slot);
		free(tmp);
		errno = saved;
		return -1;
	}
}

int durable_write(const char *path, const void *buf, size_t len, cp_err *e)
{
	return replace_file(path, buf, len, 1, e);
}

int atomic_write(const char *path, const void *buf, size_t len, cp_err *e)
{
	return replace_file(path, buf, len, 0, e);
}

int durable_open(durable_file *df, const char *path, cp_err *e)
{
	struct stat st;
	memset(df, 0, sizeof(*df));
	df->slot = -1;
	size_t plen = strlen(path);
	if (plen == 0 || path[plen - 1] == '/')
		return cp_fail(e, CP_IO, "cannot open '%s': not a file name", path);
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		if (fail_at("open") || !(df->fp = fopen(path, "w")))
			return cp_fail_errno(e, "cannot open '%s'", path);
		df->path = cp_strdup(path);
		return 0;
	}
	char *tmp = temp_name(path);
	int fd;
	if (fail_at("open") || (fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		cp_fail_errno(e, "cannot open '%s'", path);
		free(tmp);
		return -1;
	}
	df->slot = reg_add(tmp);
	if (fchmod(fd, file_mode()) != 0 || !(df->fp = fdopen(fd, "w"))) {
		cp_fail_errno(e, "cannot open '%s'", path);
		close(fd);
		unlink(tmp);
		reg_remove(df->slot);
		free(tmp);
		df->slot = -1;
		return -1;
	}
	df->tmp = tmp;
	df->path = cp_strdup(path);
	return 0;
}

static void durable_release(durable_file *df)
{
	free(df->path);
	free(df->tmp);
	memset(df, 0, sizeof(*df));
	df->slot = -1;
}

void durable_abort(durable_file *df)
{
	if (!df || !df->path)
		return;
	if (df->fp)
		fclose(df->fp);
	if (df->tmp) {
		unlink(df->tmp);
		reg_remove(df->slot);
	}
	durable_release(df);
}

int durable_commit(durable_file *df, cp_err *e)
{
	FILE *fp = df->fp;
	int bad = fflush(fp) != 0 || ferror(fp);
	if (!bad && df->tmp && (fail_at("fsync") || fsync(fileno(fp)) != 0)) {
		cp_fail_errno(e, "cannot fsync '%s'", df->tmp);
		goto fail;
	}
	df->fp = NULL;
	if (fclose(fp) != 0 || bad) {
		cp_fail_errno(e, "cannot write '%s'", df->path);
		goto fail;
	}
	if (!df->tmp) {
		durable_release(df);
		return 0;
	}
	if (fail_at("rename") || rename(df->tmp, df->path) != 0) {
		cp_fail_errno(e, "cannot rename '%s' to '%s'", df->tmp, df->path);
		goto fail;
	}
	reg_remove(df->slot);
	free(df->tmp);
	df->tmp = NULL;
	int rc = durable_sync_dir(df->path, e);
	durable_release(df);
	return rc;
fail: {
		int saved = errno;
		durable_abort(df);
		errno = saved;
		return -1;
	}
}

int durable_append(const char *path, const char *line, size_t len, cp_err *e)
{
	if (len == 0 || line[len - 1] != '\n')
		return cp_fail(e, CP_INTERNAL, "appending to '%s': line does not end in a newline",
		               path);
	int created = 0, fd = -1;
	struct stat st;
	if (fail_at("open"))
		return cp_fail_errno(e, "cannot open '%s'", path);
	for (int tries = 0; fd < 0 && tries < 3; tries++) {
		fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT) {
			fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
			created = fd >= 0;
			if (fd < 0 && errno == EEXIST)
				continue;
		}
		if (fd < 0)
			break;
	}
	if (fd < 0)
		return cp_fail_errno(e, "cannot open '%s'", path);
	if (fstat(fd, &st) != 0) {
		cp_fail_errno(e, "cannot stat '%s'", path);
		close(fd);
		return -1;
	}
	if (write_all(fd, line, len, 1) != 0) {
		cp_fail_errno(e, "cannot write '%s'", path);
		goto undo;
	}
	if (fail_at("fsync") || fsync(fd) != 0) {
		cp_fail_errno(e, "cannot fsync '%s'", path);
		goto undo;
	}
	if (close(fd) != 0)
		return cp_fail_errno(e, "cannot close '%s'", path);
	return created ? durable_sync_dir(path, e) : 0;

undo: {
		int saved = errno;
		if (ftruncate(fd, st.st_size) == 0)
			fsync(fd);
		close(fd);
		if (created)
			unlink(path);
		errno = saved;
		return -1;
	}
}

static double mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* The pid written in the lock file open on fd: >0, 0 when it names none. */
static long lock_holder(int fd)
{
	char buf[32];
	ssize_t n;
	do
		n = pread(fd, buf, sizeof(buf) - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	long pid;
	if (cp_parse_long(buf, 1, 0x7fffffffL, &pid) != 0)
		return 0;
	return pid;
}

/* 1 when fd is still the file at path (a holder releasing the lock unlinks
 * it first: a lock taken on the unlinked file protects nothing). */
static int same_file(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

int lock_acquire(cp_lock *l, const char *path, long wait_ms, cp_err *e)
{
	size_t n = strlen(path) + 6;
	char *lockpath = cp_malloc(n);
	snprintf(lockpath, n, "%s.lock", path);
	l->lockpath = NULL;
	l->fd = -1;

	double deadline = mono_ms() + (double)(wait_ms > 0 ? wait_ms : 0);
	long pause_us = 1000;
	for (;;) {
		int fd = open(lockpath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd < 0) {
			cp_fail_errno(e, "cannot create '%s'", lockpath);
			free(lockpath);
			return -1;
		}
		int rc;
		do
			rc = flock(fd, LOCK_EX | LOCK_NB);
		while (rc != 0 && errno == EINTR);
		if (rc == 0 && !same_file(fd, lockpath)) {
			close(fd);  /* released and removed meanwhile: take the new one */
			continue;
		}
		if (rc == 0) {
			/* ours until we close fd or die; the pid is for messages */
			int slot = reg_add(lockpath);
			char pid[32];
			int k = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
			if (ftruncate(fd, 0) != 0 || write_all(fd, pid, (size_t)k, 0) != 0) {
				cp_fail_errno(e, "cannot write '%s'", lockpath);
				reg_remove(slot);
				close(fd);
				free(lockpath);
				return -1;
			}
			l->lockpath = lockpath;
			l->fd = fd;
			return 0;
		}
		if (errno != EWOULDBLOCK) {
			cp_fail_errno(e, "cannot lock '%s'", lockpath);
			close(fd);
			free(lockpath);
			return -1;
		}
		long holder = lock_holder(fd);
		close(fd);
		double left = deadline - mono_ms();
		if (left <= 0) {
			if (holder <= 0)
				cp_fail(e, CP_BUSY, "'%s' is held by another process (no pid in it)",
				        lockpath);
			else
				cp_fail(e, CP_BUSY, "'%s' is held by pid %ld", lockpath, holder);
			free(lockpath);
			return -1;
		}
		long us = pause_us;
		if ((double)us > left * 1e3)
			us = (long)(left * 1e3) + 1;
		struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
		nanosleep(&ts, NULL);
		if (pause_us < 50000)
			pause_us *= 2;
	}
}

void lock_release(cp_lock *l)
{
	if (!l || !l->lockpath)
		return;
	for (int i = 0; i < REG_SLOTS; i++)
		if (reg[i].used && reg[i].owner == getpid() && !strcmp(reg[i].path, l->lockpath))
			reg[i].used = 0;
	unlink(l->lockpath);
	if (l->fd >= 0)
		close(l->fd);
	free(l->lockpath);
	l->lockpath = NULL;
	l->fd = -1;
}
