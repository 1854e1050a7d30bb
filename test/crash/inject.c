/* inject.c — an LD_PRELOAD shim that counts, and makes fail, the system
 * calls that change files: write, pwrite, writev, fsync, fdatasync,
 * rename(at/at2), unlink(at), and link(at) (libgit2 moves a new file into
 * place with link and unlink). It sits under every process of a run (our
 * tools, libgit2 inside them, bash, coreutils), which an in-process hook
 * cannot: libgit2's own writes, fsyncs and renames are injection points too.
 * Used by test/bats/crash.bats; see there.
 *
 * Environment:
 *   CHRONOPT_INJECT_ROOT     only calls on files under this absolute
 *                            directory count (not stdout, pipes, /dev/null)
 *   CHRONOPT_INJECT_COUNTER  a file of at least 8 bytes, shared by every
 *                            process (mmap): the number of calls counted
 *   CHRONOPT_INJECT_AT       N >= 1: the N-th counted call fails; unset or
 *                            0: only count
 *   CHRONOPT_INJECT_MODE     "kill": SIGKILL the process instead of making
 *                            the call (a crash, a power cut for what was not
 *                            yet synced); "eio": the call is not made and
 *                            returns -1 with errno EIO
 *   CHRONOPT_INJECT_LOG      optional: append "N call path" for every
 *                            counted call (to list the injection points)
 *
 * Not seen: writes the C library makes internally (stdio's buffers reach
 * the kernel through glibc's private __write), which is how the tools write
 * their standard output; every durable file of chronopt goes through
 * write(2) itself.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

static uint64_t *counter;   /* shared between processes */
static const char *root;
static size_t rootlen;
static long inject_at;
static int kill_mode;
static int log_fd = -1;
static int ready;           /* 1 active, -1 passive */

static ssize_t (*real_write)(int, const void *, size_t);


static void setup(void)
{
	if (ready)
		return;
	ready = -1;
	real_write = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	const char *c = getenv("CHRONOPT_INJECT_COUNTER");
	root = getenv("CHRONOPT_INJECT_ROOT");
	if (!c || !root || root[0] != '/')
		return;
	int fd = open(c, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	void *p = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return;
	counter = p;
	rootlen = strlen(root);
	while (rootlen > 1 && root[rootlen - 1] == '/')
		rootlen--;
	const char *a = getenv("CHRONOPT_INJECT_AT");
	inject_at = a ? strtol(a, NULL, 10) : 0;
	const char *m = getenv("CHRONOPT_INJECT_MODE");
	kill_mode = !m || strcmp(m, "eio") != 0;
	const char *l = getenv("CHRONOPT_INJECT_LOG");
	if (l)
		log_fd = open(l, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	ready = 1;
}

static int under_root(const char *path)
{
	return strncmp(path, root, rootlen) == 0 && (path[rootlen] == '/' || path[rootlen] == '\0');
}

/* absolute form of path, relative to dirfd (AT_FDCWD: the working dir) */
static int absolute(int dirfd, const char *path, char *out, size_t len)
{
	if (path[0] == '/')
		return snprintf(out, len, "%s", path) < (int)len ? 0 : -1;
	char dir[4096];
	if (dirfd == AT_FDCWD) {
		if (!getcwd(dir, sizeof(dir)))
			return -1;
	} else {
		char link[64];
		snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
		ssize_t n = readlink(link, dir, sizeof(dir) - 1);
		if (n < 0)
			return -1;
		dir[n] = '\0';
	}
	return snprintf(out, len, "%s/%s", dir, path) < (int)len ? 0 : -1;
}

static int fd_path(int fd, char *out, size_t len)
{
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, out, len - 1);
	if (n < 0)
		return -1;
	out[n] = '\0';
	return 0;
}

/* Count a call on path; returns 1 when it must fail (errno set), kills the
 * process in kill mode. */
static int hit(const char *call, const char *path)
{
	if (!under_root(path))
		return 0;
	uint64_t n = __atomic_add_fetch(counter, 1, __ATOMIC_SEQ_CST);
	if (log_fd >= 0) {
		char line[4352];
		int k = snprintf(line, sizeof(line), "%llu %s %s\n", (unsigned long long)n, call, path);
		if (k > 0 && real_write)
			(void)!real_write(log_fd, line, (size_t)k < sizeof(line) ? (size_t)k : sizeof(line) - 1);
	}
	if (inject_at <= 0 || n != (uint64_t)inject_at)
		return 0;
	if (kill_mode)
		raise(SIGKILL);
	errno = EIO;
	return 1;
}

static int hit_fd(const char *call, int fd)
{
	setup();
	if (ready != 1)
		return 0;
	char p[4096];
	int saved = errno;
	int r = fd_path(fd, p, sizeof(p)) == 0 ? hit(call, p) : 0;
	if (!r)
		errno = saved;
	return r;
}

static int hit_path(const char *call, int dirfd, const char *path)
{
	setup();
	if (ready != 1 || !path)
		return 0;
	char p[4096];
	int saved = errno;
	int r = absolute(dirfd, path, p, sizeof(p)) == 0 ? hit(call, p) : 0;
	if (!r)
		errno = saved;
	return r;
}

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef int (*fsync_fn)(int);
typedef int (*rename_fn)(const char *, const char *);
typedef int (*renameat_fn)(int, const char *, int, const char *);
typedef int (*renameat2_fn)(int, const char *, int, const char *, unsigned);
typedef int (*unlink_fn)(const char *);
typedef int (*link_fn)(const char *, const char *);
typedef int (*linkat_fn)(int, const char *, int, const char *, int);
typedef int (*unlinkat_fn)(int, const char *, int);

#define REAL(name, type) \
	static type real; \
	if (!real) \
		real = (type)dlsym(RTLD_NEXT, name)

ssize_t write(int fd, const void *buf, size_t n)
{
	REAL("write", write_fn);
	if (hit_fd("write", fd))
		return -1;
	return real(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	REAL("pwrite", pwrite_fn);
	if (hit_fd("write", fd))
		return -1;
	return real(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	REAL("pwrite64", pwrite_fn);
	if (hit_fd("write", fd))
		return -1;
	return real(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	REAL("writev", writev_fn);
	if (hit_fd("write", fd))
		return -1;
	return real(fd, iov, cnt);
}

int fsync(int fd)
{
	REAL("fsync", fsync_fn);
	if (hit_fd("fsync", fd))
		return -1;
	return real(fd);
}

int fdatasync(int fd)
{
	REAL("fdatasync", fsync_fn);
	if (hit_fd("fsync", fd))
		return -1;
	return real(fd);
}

int rename(const char *from, const char *to)
{
	REAL("rename", rename_fn);
	if (hit_path("rename", AT_FDCWD, to))
		return -1;
	return real(from, to);
}

int renameat(int fd1, const char *from, int fd2, const char *to)
{
	REAL("renameat", renameat_fn);
	if (hit_path("rename", fd2, to))
		return -1;
	return real(fd1, from, fd2, to);
}

int renameat2(int fd1, const char *from, int fd2, const char *to, unsigned flags)
{
	REAL("renameat2", renameat2_fn);
	if (hit_path("rename", fd2, to))
		return -1;
	return real(fd1, from, fd2, to, flags);
}

int unlink(const char *path)
{
	REAL("unlink", unlink_fn);
	if (hit_path("unlink", AT_FDCWD, path))
		return -1;
	return real(path);
}

int unlinkat(int fd, const char *path, int flags)
{
	REAL("unlinkat", unlinkat_fn);
	if (hit_path("unlink", fd, path))
		return -1;
	return real(fd, path, flags);
}

/* libgit2 moves a new file into place with link(2) then unlink(2) of the
 * temporary name: for it, link is the rename */
int link(const char *from, const char *to)
{
	REAL("link", link_fn);
	if (hit_path("link", AT_FDCWD, to))
		return -1;
	return real(from, to);
}

int linkat(int fd1, const char *from, int fd2, const char *to, int flags)
{
	REAL("linkat", linkat_fn);
	if (hit_path("link", fd2, to))
		return -1;
	return real(fd1, from, fd2, to, flags);
}
