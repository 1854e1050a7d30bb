/* durable.h — durable replace of a file, durable append, and lock files.
 * Pattern (git lockfile, redis config rewrite): write to a temp file in the
 * same directory, fsync it, rename over the target, fsync the directory.
 * Temp and lock files are removed on failure, at exit and on SIGINT/SIGTERM/
 * SIGHUP/SIGPIPE (a signal whose disposition was SIG_IGN when the first file
 * was registered is left alone). Only the process that created a file removes
 * it, so a forked child exiting never deletes its parent's lock. A SIGKILL or
 * a power cut can leave a temp file ".<name>.tmp-XXXXXX" behind, never a
 * half-written target, and a lock file nobody holds (see lock_acquire). Files are created 0666 & ~umask.
 *
 * Testing hook (documented in opt-history(1), ENVIRONMENT): when the
 * environment variable CHRONOPT_FAIL_AT names a step, that step fails with
 * EIO as if the system call had failed:
 *   open     creating the temp file (durable_write) or opening the file
 *            (durable_append)
 *   write    writing: half of the bytes are written, then the write fails
 *            (durable_append truncates the file back to its old size)
 *   fsync    fsync of the file
 *   rename   the rename over the target (durable_write only)
 *   dirsync  fsync of the directory (durable_write always; durable_append
 *            only when it created the file; durable_sync_dir)
 * "kill:<step>" instead raises SIGKILL right before that step (a crash), and
 * "kill:partial" writes half of the bytes and then raises SIGKILL (a power
 * cut in the middle of a write). Any other value is ignored.
 */
#ifndef CHRONOPT_DURABLE_H
#define CHRONOPT_DURABLE_H
#include "common.h"
#include <stdio.h>

/* Replace `path` with buf[len] durably. On a failure before the rename
 * (open, write, fsync, rename) the target is untouched, the temp file
 * removed, and -1 returned with CP_IO in e. A failure of the final directory
 * fsync is reported the same way but comes after the rename: the new content
 * is in place and may not survive a power cut. Returns 0 on success. */
int durable_write(const char *path, const void *buf, size_t len, cp_err *e);

/* durable_write without the two fsyncs, for files that can be rebuilt and
 * are checked when read (the forecast cache, fcache.h): readers see the
 * old content or the whole new one, never a half-written file, while the
 * system runs; after a power cut the new file may be empty or garbage.
 * Same errors and CHRONOPT_FAIL_AT steps as durable_write except fsync and
 * dirsync. */
int atomic_write(const char *path, const void *buf, size_t len, cp_err *e);

/* Append line[len] (must end in '\n') to path with O_APPEND, then fsync.
 * Creates the file if missing (and fsyncs its directory). On a write or
 * fsync failure the file is truncated back to its size before the call, so
 * a failed append leaves no partial line (callers hold the file's lock, so
 * nobody else appended meanwhile). Returns 0, or -1 with CP_IO in e. */
int durable_append(const char *path, const char *line, size_t len, cp_err *e);

/* fsync the directory containing path. Returns 0, or -1 with CP_IO.
 * Filesystems that cannot fsync a directory (EINVAL) count as success. */
int durable_sync_dir(const char *path, cp_err *e);

/* Streaming form of durable_write, for output produced piece by piece:
 * durable_open gives df->fp, a stdio stream on a temp file next to path
 * (registered for removal like durable_write's); durable_commit flushes,
 * fsyncs, closes and renames it over path, then fsyncs the directory;
 * durable_abort closes and removes it. Until the commit succeeds the old
 * content of path is untouched. When path exists and is not a regular file
 * (a device, a FIFO, /dev/stdout) df->fp writes to path itself: commit then
 * only flushes and closes, and abort only closes (nothing is removed).
 * CHRONOPT_FAIL_AT steps: open, fsync, rename, dirsync (and kill:<step>).
 * durable_open: 0, or -1 with CP_IO "cannot open '<path>': ..." and *df
 * empty. durable_commit: 0, or -1 with CP_IO naming path; either way df is
 * released. durable_abort: a no-op on a released or empty df. */
typedef struct {
	FILE *fp;
	char *path;  /* owned */
	char *tmp;   /* owned; NULL when writing path itself */
	int slot;
} durable_file;
int durable_open(durable_file *df, const char *path, cp_err *e);
int durable_commit(durable_file *df, cp_err *e);
void durable_abort(durable_file *df);

typedef struct {
	char *lockpath;  /* "<path>.lock", owned; NULL when not held */
	int fd;          /* -1 when not held */
} cp_lock;

/* Take the lock "<path>.lock": the file is created when missing and locked
 * with flock(2), so the kernel releases the lock when the holder exits or
 * is killed (a lock file left by a dead process is simply taken again); our
 * pid is written into it, only for messages. Waits up to wait_ms
 * milliseconds (0: try once), polling with short sleeps; then CP_BUSY
 * "'<path>.lock' is held by pid N" ("... by another process (no pid in it)"
 * while a new holder has not written its pid yet). On success *l holds the
 * lock (release with lock_release); on failure *l is empty (lockpath NULL,
 * fd -1) and -1 is returned. Other failures (no such directory,
 * permissions, a lock file that is a symbolic link): CP_IO. The lock file
 * is removed by lock_release, at exit and on the signals above; a holder
 * that dies otherwise leaves it behind, unlocked. */
int lock_acquire(cp_lock *l, const char *path, long wait_ms, cp_err *e);
/* Remove the lock file, then unlock it (close), and free l->lockpath; a
 * no-op on an empty cp_lock. */
void lock_release(cp_lock *l);

#endif
