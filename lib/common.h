/*
 * common.h — exit codes, the error record, checked number parsing.
 *
 * Ownership rule for the whole library: a function that returns a pointer
 * says in its contract comment whether the caller owns it; structs are
 * released with their matching x_free() or x_release().  Library code never
 * prints and never exits: it fills a cp_err and returns -1 (or NULL), and the
 * tool's main() prints "tool: message" and exits with err.code.
 */
#ifndef CHRONOPT_COMMON_H
#define CHRONOPT_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* The one exit-code table, printed in every man page. */
enum cp_exit {
	CP_OK       = 0, /* success */
	CP_DECLINED = 1, /* a stage said no, only when asked (--exit-code) */
	CP_USAGE    = 2, /* bad command line */
	CP_DATA     = 3, /* bad input: CSV, JSON, envelope, config, checkpoint */
	CP_IO       = 4, /* I/O or system error */
	CP_BUSY     = 5, /* lock held by another process */
	CP_INTERNAL = 6, /* a bug: should not happen */
	CP_PARTIAL  = 7  /* partly failed: some horizons failed (their lines
	                    carry a section with status "error"), the others
	                    completed */
};

#define CP_ERR_MAX 1024

typedef struct {
	int code;              /* one of enum cp_exit, CP_OK when no error */
	char msg[CP_ERR_MAX];  /* one line, no trailing newline, no prog name */
} cp_err;

/* Record an error (printf-style) in e (which may be NULL) with exit code
 * `code`; always returns -1 so callers can write `return cp_fail(...)`.
 * A later call overwrites an earlier one. */
int cp_fail(cp_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like cp_fail with CP_IO, appending ": strerror(errno)". */
int cp_fail_errno(cp_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefix an existing message: "<prefix>: <old message>". Returns -1. */
int cp_prefix(cp_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Checked conversions: whole string must be a number in range.
 * Return 0 on success, -1 if s is not entirely a valid number in range. */
int cp_parse_long(const char *s, long min, long max, long *out);
int cp_parse_double(const char *s, double *out);      /* finite only */
int cp_parse_u64(const char *s, uint64_t *out);

/* A command-line integer option: *out = arg when it is an integer in
 * lo..hi, else CP_USAGE "<opt>: '<arg>' is not an integer in <lo>..<hi>"
 * (opt as typed, e.g. "--jobs"). Returns 0 or -1. */
int cp_opt_int(const char *opt, const char *arg, long lo, long hi, int *out, cp_err *e);

/* Days since 1970-01-01 for an ISO date "YYYY-MM-DD" (exactly 10 chars,
 * real calendar date). Returns 0 and sets *day, or -1. */
int cp_parse_date(const char *s, int32_t *day);
/* Format a day number as "YYYY-MM-DD" into buf (>= 11 bytes). */
void cp_format_date(int32_t day, char buf[11]);

/* Allocation that never returns NULL: aborts with a message on OOM
 * (the only place library code may terminate). */
void *cp_malloc(size_t n);
void *cp_calloc(size_t n, size_t size);
void *cp_realloc(void *p, size_t n);
char *cp_strdup(const char *s);

/* Read the whole file at path into a new buffer.  Returns the buffer,
 * NUL-terminated (the NUL is not counted in *len; the contents may hold
 * NUL bytes of their own: compare strlen with *len to refuse them); the
 * caller owns it and frees it with free().  len may be NULL.  A file of
 * more than max bytes (SIZE_MAX: no limit) is CP_DATA
 * "<path>: larger than <max> bytes".  When missing is not NULL it is set
 * to 0, and to 1 when the file does not exist: then NULL is returned with
 * e untouched.  Other failures: CP_IO "cannot open '<path>': <strerror>"
 * or "cannot read '<path>': <strerror>".  NULL on any failure. */
char *cp_read_file(const char *path, size_t max, size_t *len, int *missing, cp_err *e);

/* Program name for messages, set once by each tool's main(). */
extern const char *cp_progname;
/* Print "prog: msg" to stderr and return e->code (for main()). */
int cp_die(const cp_err *e);
/* Flush and close stdout, reporting a full disk or closed pipe.
 * Returns CP_OK or CP_IO (after printing the message). */
int cp_close_stdout(void);
/* For main() after a failure: cp_die(e), then close stdout without a
 * second message (a write error on stdout is usually the failure itself,
 * already in e). Returns e's exit code. */
int cp_die_closing(const cp_err *e);

/* Seconds from a monotonic clock (for timings only, never for logic). */
double cp_now(void);

/* A safe, literal horizon/config name: 1..32 chars of [A-Za-z0-9_-], not
 * starting with '-'. Returns 1 if ok. */
int cp_name_ok(const char *s);

/* Seeds are 0..CP_SEED_MAX: JSON numbers, and cJSON prints a number with 15
 * significant digits whenever that reads back within an ulp, so a seed of
 * 16 digits would not survive a trip through an envelope. */
#define CP_SEED_MAX 999999999999999ULL
#define CP_SEED_RANGE "0..999999999999999"

/* Length (1..4) of the well-formed UTF-8 sequence at s, RFC 3629 (no
 * overlong forms, surrogates or code points past U+10FFFF), with the code
 * point in *cp; 0 when the bytes there are not one. s is NUL-terminated. */
int cp_utf8_seq(const unsigned char *s, unsigned *cp);

/* The first byte of s that does not start a well-formed UTF-8 sequence, or
 * NULL when all of s is UTF-8. */
const char *cp_utf8_bad(const char *s);

/* s for a one-line message: its first 40 bytes (then "..."), with control
 * bytes, quotes, backslashes and bytes that are not UTF-8 as \xNN. */
#define CP_SHOWN_MAX 200
const char *cp_shown(const char *s, char out[CP_SHOWN_MAX]);

#endif
