/* common.c — see common.h. */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *cp_progname = "chronopt";

/* An error message is one line whatever data it quotes: control bytes
 * (a newline, an escape sequence from a file or an envelope) become '?'. */
static void one_line(char *m)
{
	for (; *m; m++)
		if ((unsigned char)*m < 0x20 || *m == 0x7f)
			*m = '?';
}

int cp_fail(cp_err *e, int code, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
		one_line(e->msg);
		e->code = code;
	}
	return -1;
}

int cp_fail_errno(cp_err *e, const char *fmt, ...)
{
	int saved = errno;
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < sizeof(e->msg))
			snprintf(e->msg + n, sizeof(e->msg) - (size_t)n, ": %s", strerror(saved));
		one_line(e->msg);
		e->code = CP_IO;
	}
	errno = saved;
	return -1;
}

int cp_prefix(cp_err *e, const char *fmt, ...)
{
	if (!e)
		return -1;
	char buf[CP_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	size_t used = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
	size_t room = sizeof(buf) - used;
	if (room > 2) {
		memcpy(buf + used, ": ", 2);
		used += 2;
		size_t old = strlen(e->msg);
		size_t take = old < sizeof(buf) - used - 1 ? old : sizeof(buf) - used - 1;
		memcpy(buf + used, e->msg, take);
		used += take;
	}
	buf[used] = '\0';
	one_line(buf);
	memcpy(e->msg, buf, used + 1);
	return -1;
}

int cp_parse_long(const char *s, long min, long max, long *out)
{
	if (!s || !*s)
		return -1;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int cp_parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || end == s)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

int cp_parse_double(const char *s, double *out)
{
	/* decimal only: strtod would also take hex floats such as 0x10 */
	if (!s || !*s || *s == ' ' || *s == '\t' || strpbrk(s, "xX"))
		return -1;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno == ERANGE || *end || end == s || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* Howard Hinnant's days_from_civil. */
int cp_opt_int(const char *opt, const char *arg, long lo, long hi, int *out, cp_err *e)
{
	long v;
	if (cp_parse_long(arg, lo, hi, &v) < 0)
		return cp_fail(e, CP_USAGE, "%s: '%s' is not an integer in %ld..%ld", opt, arg, lo, hi);
	*out = (int)v;
	return 0;
}

static int32_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int32_t)(era * 146097 + doe - 719468);
}

int cp_parse_date(const char *s, int32_t *day)
{
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	int y = (s[0]-'0')*1000 + (s[1]-'0')*100 + (s[2]-'0')*10 + (s[3]-'0');
	int m = (s[5]-'0')*10 + (s[6]-'0');
	int d = (s[8]-'0')*10 + (s[9]-'0');
	static const int mdays[12] = {31,28,31,30,31,30,31,31,30,31,30,31};
	if (y < 1 || m < 1 || m > 12 || d < 1)
		return -1;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[m - 1] + (m == 2 && leap))
		return -1;
	*day = days_from_civil(y, m, d);
	return 0;
}

void cp_format_date(int32_t z, char buf[11])
{
	z += 719468;
	int era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int y = (int)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	unsigned uy = (unsigned)(y < 0 ? 0 : y) % 10000u;
	snprintf(buf, 11, "%04u-%02u-%02u", uy, m % 100u, d % 100u);
}

/* Length of the well-formed UTF-8 sequence at s (1..4, RFC 3629: no
 * overlong forms, surrogates or values past U+10FFFF), 0 when the bytes
 * there are not one; *cp receives the code point. s is NUL-terminated. */
int cp_utf8_seq(const unsigned char *s, unsigned *cp)
{
	unsigned c = s[0];
	int n;
	unsigned lo = 0x80, hi = 0xBF;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		*cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		*cp = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		*cp = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	for (int i = 1; i < n; i++) {
		if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xBF))
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3F);
	}
	return n;
}

const char *cp_utf8_bad(const char *s)
{
	unsigned cp;
	while (*s) {
		int n = cp_utf8_seq((const unsigned char *)s, &cp);
		if (n == 0)
			return s;
		s += n;
	}
	return NULL;
}

const char *cp_shown(const char *s, char out[CP_SHOWN_MAX])
{
	size_t o = 0, i = 0;
	unsigned cp;
	while (s && s[i] && i < 40) {
		unsigned char c = (unsigned char)s[i];
		int n = c >= 0x80 ? cp_utf8_seq((const unsigned char *)s + i, &cp) : 1;
		if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\' || n == 0 || (n > 1 && cp < 0xA0)) {
			o += (size_t)snprintf(out + o, CP_SHOWN_MAX - o, "\\x%02x", c);
			i++;
		} else {
			memcpy(out + o, s + i, (size_t)n);
			o += (size_t)n;
			i += (size_t)n;
		}
	}
	if (s && s[i])
		o += (size_t)snprintf(out + o, CP_SHOWN_MAX - o, "...");
	out[o] = '\0';
	return out;
}

/* Out of memory is a system error (exit 4), not a crash: one line, and
 * _exit so that no half-written buffered output is flushed on the way. */
static void oom(size_t n)
{
	fprintf(stderr, "%s: out of memory allocating %zu bytes\n", cp_progname, n);
	_exit(CP_IO);
}

void *cp_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *cp_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *cp_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *cp_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = cp_malloc(n);
	memcpy(p, s, n);
	return p;
}

char *cp_read_file(const char *path, size_t max, size_t *len, int *missing, cp_err *e)
{
	if (missing)
		*missing = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && missing) {
			*missing = 1;
			return NULL;
		}
		return cp_fail_errno(e, "cannot open '%s'", path), NULL;
	}
	/* the size, when known, is only a hint for the first allocation */
	struct stat st;
	size_t cap = 4096, n = 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (uintmax_t)st.st_size < (uintmax_t)max && (uintmax_t)st.st_size < SIZE_MAX / 2)
		cap = (size_t)st.st_size + 2;  /* room to see the end of file */
	char *buf = cp_malloc(cap);
	for (;;) {
		if (n > max) {
			close(fd);
			free(buf);
			return cp_fail(e, CP_DATA, "%s: larger than %zu bytes", path, max), NULL;
		}
		if (n + 1 >= cap) {
			if (cap > SIZE_MAX / 2)
				oom(cap);
			cap *= 2;
			buf = cp_realloc(buf, cap);
		}
		ssize_t got = read(fd, buf + n, cap - n - 1);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			int bad = errno;
			close(fd);
			free(buf);
			errno = bad;
			return cp_fail_errno(e, "cannot read '%s'", path), NULL;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

int cp_die(const cp_err *e)
{
	fprintf(stderr, "%s: %s\n", cp_progname, e->msg);
	return e->code ? e->code : CP_INTERNAL;
}

int cp_close_stdout(void)
{
	int bad = ferror(stdout);
	if (fclose(stdout) != 0 || bad) {
		fprintf(stderr, "%s: error writing standard output%s%s\n", cp_progname,
		        errno ? ": " : "", errno ? strerror(errno) : "");
		return CP_IO;
	}
	return CP_OK;
}

int cp_die_closing(const cp_err *e)
{
	int code = cp_die(e);
	fclose(stdout);
	return code;
}

double cp_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int cp_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 1 || n > 32 || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}
