/* durable.h — durable replace of a file, and lock files.
 * Pattern (git lockfile, redis config rewrite): write to a temp file in the
 * same directory, fsync it, rename over the target, fsync the directory.
 * Temp and lock files are removed on failure, at exit and on SIGINT/SIGTERM/
 * SIGHUP/SIGPIPE. Files are created 0666 & ~umask (never world-writable
 * beyond what the umask allows). */
#ifndef CHRONOPT_DURABLE_H
#define CHRONOPT_DURABLE_H
#include "common.h"

/* Replace `path` with buf[len] durably. On any failure the target is
 * untouched, the temp file removed, CP_IO returned via e. If the
 * environment variable CHRONOPT_FAIL_AT names a step ("write", "fsync",
 * "rename", "dirsync") that step fails (testing hook, see durable(7)?). */
int durable_write(const char *path, const void *buf, size_t len, cp_err *e);

/* Append line[len] (must end in '\n') to path with O_APPEND, then fsync.
 * Creates the file if missing (and fsyncs its directory). */
int durable_append(const char *path, const char *line, size_t len, cp_err *e);

/* fsync the directory containing path. */
int durable_sync_dir(const char *path, cp_err *e);

typedef struct {
	char *lockpath;  /* "<path>.lock", owned */
	int fd;          /* -1 when not held */
} cp_lock;

/* Take "<path>.lock" (O_CREAT|O_EXCL, our pid written in it). Waits up to
 * wait_ms milliseconds (0: try once); then CP_BUSY with the holder's pid:
 * "'<path>.lock' is held by pid N". A lock is never broken automatically.
 * Released by lock_release, at exit, and on signals. */
int lock_acquire(cp_lock *l, const char *path, long wait_ms, cp_err *e);
void lock_release(cp_lock *l);

#endif
