/* series.c — strict time-series loader, see series.h.
 *
 * The file is read line by line (a record never spans lines: a line break
 * inside a quoted field is an unterminated quote), and each line is handed to
 * libcsv in strict mode, so every message can name the physical line.
 */
#include "series.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SERIES_LINE_MAX 4096  /* bytes per line, without the line end */
#define SERIES_FIELDS 3       /* the most fields any layout has */

/* ---------------------------------------------------------------- lines */

typedef struct {
	FILE *fp;
	const char *path;
	long lineno;           /* number of the line last returned */
	char buf[SERIES_LINE_MAX + 2];
	size_t len;            /* bytes in buf, line end removed */
	int had_newline;       /* the line ended with "\n" */
} line_reader;

/* Read the next physical line into r->buf. Returns 1, 0 at end of file, -1
 * on error. CRLF becomes nothing; a lone CR, a NUL byte or an over-long line
 * is an error naming the line. */
static int read_line(line_reader *r, cp_err *e)
{
	int c;
	r->len = 0;
	r->had_newline = 0;
	c = getc(r->fp);
	if (c == EOF) {
		if (ferror(r->fp))
			return cp_fail_errno(e, "cannot read '%s'", r->path);
		return 0;
	}
	r->lineno++;
	for (; c != EOF; c = getc(r->fp)) {
		if (c == '\n') {
			r->had_newline = 1;
			break;
		}
		if (r->len >= SERIES_LINE_MAX)
			return cp_fail(e, CP_DATA, "%s:%ld: line is longer than %d bytes",
			               r->path, r->lineno, SERIES_LINE_MAX);
		r->buf[r->len++] = (char)c;
	}
	if (c == EOF && ferror(r->fp))
		return cp_fail_errno(e, "cannot read '%s'", r->path);
	if (r->len > 0 && r->buf[r->len - 1] == '\r')
		r->len--;
	r->buf[r->len] = '\0';
	if (memchr(r->buf, '\0', r->len))
		return cp_fail(e, CP_DATA, "%s:%ld: line contains a NUL byte", r->path, r->lineno);
	if (memchr(r->buf, '\r', r->len))
		return cp_fail(e, CP_DATA, "%s:%ld: carriage return inside the line "
		               "(only \\n and \\r\\n line ends are accepted)", r->path, r->lineno);
	/* ids and names go into envelopes and messages: UTF-8 text only */
	const char *bad = cp_utf8_bad(r->buf);
	if (bad)
		return cp_fail(e, CP_DATA, "%s:%ld: not UTF-8 at column %ld", r->path, r->lineno,
		               (long)(bad - r->buf) + 1);
	for (size_t i = 0; i < r->len; i++)
		if ((unsigned char)r->buf[i] < 0x20 || r->buf[i] == 0x7f)
			return cp_fail(e, CP_DATA, "%s:%ld: control character 0x%02x at column %zu", r->path,
			               r->lineno, (unsigned char)r->buf[i], i + 1);
	return 1;
}

/* --------------------------------------------------------------- fields */

typedef struct {
	int n;                          /* fields seen on the line (may exceed 3) */
	char f[SERIES_FIELDS][SERIES_LINE_MAX + 1];
} fields;

static void on_field(void *s, size_t len, void *data)
{
	fields *fs = data;
	if (fs->n < SERIES_FIELDS) {
		/* len <= SERIES_LINE_MAX: a field is never longer than its line */
		if (len)
			memcpy(fs->f[fs->n], s, len);
		fs->f[fs->n][len] = '\0';
	}
	fs->n++;
}

static void on_row(int c, void *data)
{
	(void)c;
	(void)data;
}

/* No byte counts as padding: "1.5 " must stay "1.5 " so it can be rejected. */
static int no_space(unsigned char c)
{
	(void)c;
	return 0;
}

static int split_line(struct csv_parser *p, line_reader *r, fields *fs, cp_err *e)
{
	int unterminated = 0;
	fs->n = 0;
	if (csv_parse(p, r->buf, r->len, on_field, on_row, fs) != r->len ||
	    (unterminated = csv_fini(p, on_field, on_row, fs) != 0)) {
		int err = csv_error(p);
		/* csv_fini resets the parser only on success: start afresh */
		csv_free(p);
		csv_init(p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
		csv_set_space_func(p, no_space);
		if (err == CSV_EPARSE && unterminated)
			return cp_fail(e, CP_DATA, "%s:%ld: unterminated quoted field (a field "
			               "cannot span lines)", r->path, r->lineno);
		if (err == CSV_EPARSE)
			return cp_fail(e, CP_DATA, "%s:%ld: malformed quoting (a quote inside an "
			               "unquoted field, or text after a closing quote)", r->path,
			               r->lineno);
		return cp_fail(e, CP_INTERNAL, "%s:%ld: csv parser: %s", r->path, r->lineno,
		               csv_strerror(err));
	}
	return 0;
}

static int has_outer_space(const char *s)
{
	size_t n = strlen(s);
	return n && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t');
}

/* A plain decimal number: [+-]digits[.digits][(e|E)[+-]digits], at least one
 * digit in the mantissa. Hex floats, "nan", "inf" and spaces fail here. */
static int decimal_syntax(const char *s)
{
	int digits = 0;
	if (*s == '+' || *s == '-')
		s++;
	while (*s >= '0' && *s <= '9')
		s++, digits++;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			digits++;
	if (!digits)
		return 0;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

static int is_nonfinite_word(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	return !strcasecmp(s, "nan") || !strcasecmp(s, "inf") || !strcasecmp(s, "infinity");
}

static int check_date(const line_reader *r, const char *s, int32_t *day, cp_err *e)
{
	char b[CP_SHOWN_MAX];
	if (!*s)
		return cp_fail(e, CP_DATA, "%s:%ld: empty date", r->path, r->lineno);
	if (has_outer_space(s))
		return cp_fail(e, CP_DATA, "%s:%ld: date '%s' has leading or trailing whitespace",
		               r->path, r->lineno, cp_shown(s, b));
	if (cp_parse_date(s, day) == 0)
		return 0;
	int shape = strlen(s) == 10 && s[4] == '-' && s[7] == '-';
	for (int i = 0; shape && i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			shape = 0;
	if (shape)
		return cp_fail(e, CP_DATA, "%s:%ld: date '%s' is not a valid date",
		               r->path, r->lineno, s);
	return cp_fail(e, CP_DATA, "%s:%ld: date '%s' is not an ISO date (YYYY-MM-DD)",
	               r->path, r->lineno, cp_shown(s, b));
}

#define MISSING_HINT "(--missing nan keeps it, --missing drop leaves the row out)"

/* An empty value, or NA, N/A, NaN, null in any case. */
static int is_missing_word(const char *s)
{
	return !*s || !strcasecmp(s, "na") || !strcasecmp(s, "n/a") || !strcasecmp(s, "nan") ||
	       !strcasecmp(s, "null");
}

int series_missing_parse(const char *s, series_missing *m)
{
	if (!strcmp(s, "error"))
		*m = SERIES_MISSING_ERROR;
	else if (!strcmp(s, "nan"))
		*m = SERIES_MISSING_NAN;
	else if (!strcmp(s, "drop"))
		*m = SERIES_MISSING_DROP;
	else
		return -1;
	return 0;
}

const char *series_missing_name(series_missing m)
{
	return m == SERIES_MISSING_NAN ? "nan" : m == SERIES_MISSING_DROP ? "drop" : "error";
}

/* Returns 0 (a value in *v), 1 (a missing value, accepted by mode) or -1. */
static int check_value(const line_reader *r, const char *s, series_missing mode, double *v, cp_err *e)
{
	char b[CP_SHOWN_MAX];
	if (is_missing_word(s)) {
		if (mode != SERIES_MISSING_ERROR) {
			*v = NAN;
			return 1;
		}
		if (!*s)
			return cp_fail(e, CP_DATA, "%s:%ld: empty value " MISSING_HINT, r->path, r->lineno);
		return cp_fail(e, CP_DATA, "%s:%ld: missing value '%s' " MISSING_HINT, r->path, r->lineno, s);
	}
	if (has_outer_space(s))
		return cp_fail(e, CP_DATA, "%s:%ld: value '%s' has leading or trailing whitespace",
		               r->path, r->lineno, cp_shown(s, b));
	if (is_nonfinite_word(s))
		return cp_fail(e, CP_DATA, "%s:%ld: value '%s' is not a finite number",
		               r->path, r->lineno, s);
	if (!decimal_syntax(s))
		return cp_fail(e, CP_DATA, "%s:%ld: value '%s' is not a number",
		               r->path, r->lineno, cp_shown(s, b));
	if (cp_parse_double(s, v) != 0)
		return cp_fail(e, CP_DATA, "%s:%ld: value '%s' is out of range",
		               r->path, r->lineno, cp_shown(s, b));
	return 0;
}

/* ----------------------------------------------------------------- load */

enum layout { LONG_FORMAT, TWO_COLUMN };

static int check_header(line_reader *r, const fields *fs, enum layout *lay, cp_err *e)
{
	char b[CP_SHOWN_MAX];
	int32_t d;
	double v;
	if (fs->n == 3 && !strcmp(fs->f[0], "unique_id") && !strcmp(fs->f[1], "ds") &&
	    !strcmp(fs->f[2], "y")) {
		*lay = LONG_FORMAT;
		return 0;
	}
	if (fs->n == 2 || fs->n == 3) {
		if (cp_parse_date(fs->f[0], &d) == 0 || cp_parse_date(fs->f[1], &d) == 0 ||
		    cp_parse_double(fs->f[fs->n - 1], &v) == 0)
			return cp_fail(e, CP_DATA, "%s:%ld: missing header (the first line looks "
			               "like data)", r->path, r->lineno);
	}
	if (fs->n == 2) {
		if (!*fs->f[0] || !*fs->f[1])
			return cp_fail(e, CP_DATA, "%s:%ld: empty column name in the header",
			               r->path, r->lineno);
		*lay = TWO_COLUMN;
		return 0;
	}
	return cp_fail(e, CP_DATA, "%s:%ld: unknown header '%s' (%d column%s), expected "
	               "'unique_id,ds,y' or two columns like 'date,value'", r->path,
	               r->lineno, cp_shown(r->buf, b), fs->n, fs->n == 1 ? "" : "s");
}

/* A series CSV open for reading: its line reader, the fields of the
 * current row and the strict parser. csv_file_close releases all three. */
typedef struct {
	line_reader *r;
	fields *fs;
	struct csv_parser p;
} csv_file;

static int csv_file_open(csv_file *c, const char *path, cp_err *e)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return cp_fail_errno(e, "cannot open '%s'", path);
	c->r = cp_calloc(1, sizeof(*c->r));
	c->fs = cp_malloc(sizeof(*c->fs));
	c->r->fp = fp;
	c->r->path = path;
	csv_init(&c->p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
	csv_set_space_func(&c->p, no_space);
	return 0;
}

static void csv_file_close(csv_file *c)
{
	csv_free(&c->p);
	fclose(c->r->fp);
	free(c->fs);
	free(c->r);
}

int series_load(series *s, const char *path, const char *id, int min_obs, cp_err *e)
{
	return series_load_missing(s, path, id, min_obs, SERIES_MISSING_ERROR, e);
}

int series_load_missing(series *s, const char *path, const char *id, int min_obs, series_missing mode,
                        cp_err *e)
{
	memset(s, 0, sizeof(*s));
	csv_file cf;
	if (csv_file_open(&cf, path, e) < 0)
		return -1;
	line_reader *r = cf.r;
	fields *fs = cf.fs;
	struct csv_parser *p = &cf.p;

	enum layout lay = TWO_COLUMN;
	char *first_id = NULL;  /* the id chosen or seen first (long format) */
	char *other_id = NULL;  /* the first id not chosen, for messages */
	long prev_line = 0;     /* line of the previous row of the chosen id, 0: none yet */
	int32_t prev_day = 0;   /* its date */
	int cap = 0, n = 0, rc = -1, got, nmiss = 0, nobs = 0;
	int32_t *day = NULL;
	double *y = NULL;
	char b1[CP_SHOWN_MAX], b2[CP_SHOWN_MAX];

	got = read_line(r, e);
	if (got < 0)
		goto out;
	if (got == 0 || (r->len == 3 && !memcmp(r->buf, "\xEF\xBB\xBF", 3) && !r->had_newline)) {
		cp_fail(e, CP_DATA, "%s:1: empty file (expected a header)", path);
		goto out;
	}
	if (r->len >= 3 && !memcmp(r->buf, "\xEF\xBB\xBF", 3)) {
		memmove(r->buf, r->buf + 3, r->len - 2);
		r->len -= 3;
	}
	if (r->len == 0) {
		cp_fail(e, CP_DATA, "%s:1: empty line where the header should be", path);
		goto out;
	}
	if (split_line(p, r, fs, e) || check_header(r, fs, &lay, e))
		goto out;
	if (lay == LONG_FORMAT && id)
		first_id = cp_strdup(id);

	while ((got = read_line(r, e)) > 0) {
		if (r->len == 0) {
			cp_fail(e, CP_DATA, "%s:%ld: empty line", path, r->lineno);
			goto out;
		}
		if (split_line(p, r, fs, e))
			goto out;
		int want = lay == LONG_FORMAT ? 3 : 2;
		if (fs->n != want) {
			cp_fail(e, CP_DATA, "%s:%ld: expected %d fields, found %d", path,
			        r->lineno, want, fs->n);
			goto out;
		}
		const char *ds = fs->f[want - 2], *ys = fs->f[want - 1];
		int32_t d;
		double v;
		if (lay == LONG_FORMAT && !*fs->f[0]) {
			cp_fail(e, CP_DATA, "%s:%ld: empty unique_id", path, r->lineno);
			goto out;
		}
		int miss;
		if (check_date(r, ds, &d, e) || (miss = check_value(r, ys, mode, &v, e)) < 0)
			goto out;
		if (lay == LONG_FORMAT) {
			if (!first_id)
				first_id = cp_strdup(fs->f[0]);
			if (strcmp(fs->f[0], first_id)) {
				if (!id) {
					cp_fail(e, CP_DATA, "%s:%ld: several ids ('%s', '%s'), pick one",
					        path, r->lineno, cp_shown(first_id, b1), cp_shown(fs->f[0], b2));
					goto out;
				}
				if (!other_id)
					other_id = cp_strdup(fs->f[0]);
				continue;
			}
		}
		if (prev_line > 0 && d <= prev_day) {
			char was[11];
			cp_format_date(prev_day, was);
			if (d == prev_day)
				cp_fail(e, CP_DATA, "%s:%ld: duplicate date '%s' (also at line %ld)",
				        path, r->lineno, ds, prev_line);
			else
				cp_fail(e, CP_DATA, "%s:%ld: date '%s' is not after '%s' at line %ld "
				        "(dates must be strictly increasing)", path, r->lineno, ds,
				        was, prev_line);
			goto out;
		}
		nmiss += miss;
		nobs += !miss;
		prev_line = r->lineno;
		prev_day = d;  /* a dropped row's date still orders the rows after it */
		if (miss && mode == SERIES_MISSING_DROP)
			continue;
		if (n == cap) {
			if (cap >= (1 << 28)) {
				cp_fail(e, CP_DATA, "%s:%ld: too many observations", path, r->lineno);
				goto out;
			}
			cap = cap ? 2 * cap : 1024;
			day = cp_realloc(day, (size_t)cap * sizeof(*day));
			y = cp_realloc(y, (size_t)cap * sizeof(*y));
		}
		day[n] = d;
		y[n] = v;
		n++;
	}
	if (got < 0)
		goto out;
	if (n == 0 && lay == LONG_FORMAT && id && other_id) {
		cp_fail(e, CP_DATA, "%s:%ld: no rows with id '%s' (the file has '%s')", path,
		        r->lineno, cp_shown(id, b1), cp_shown(other_id, b2));
		goto out;
	}
	if (n == 0 && r->lineno == 1) {
		cp_fail(e, CP_DATA, "%s:1: header only, no observations", path);
		goto out;
	}
	if (nmiss > 0 && nobs == 0) {
		cp_fail(e, CP_DATA, "%s: every value is missing", path);
		goto out;
	}
	if (n < min_obs || n == 0) {
		cp_fail(e, CP_DATA, "%s:%ld: %d observation%s, at least %d needed", path,
		        r->lineno, n, n == 1 ? "" : "s", min_obs > 1 ? min_obs : 1);
		goto out;
	}
	if (ferror(r->fp)) {
		cp_fail_errno(e, "cannot read '%s'", path);
		goto out;
	}
	s->path = cp_strdup(path);
	s->id = cp_strdup(lay == LONG_FORMAT ? first_id : "");
	s->n = n;
	s->day = day;
	s->y = y;
	s->missing = mode;
	s->n_missing = nmiss;
	day = NULL;
	y = NULL;
	rc = 0;
out:
	csv_file_close(&cf);
	free(first_id);
	free(other_id);
	free(day);
	free(y);
	return rc;
}

int series_id_ok(const char *id)
{
	size_t n = strlen(id);
	if (n < 1 || n > 64 || id[0] == '.' || id[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int series_ids(const char *path, char ***ids, int *n, cp_err *e)
{
	*ids = NULL;
	*n = 0;
	csv_file cf;
	if (csv_file_open(&cf, path, e) < 0)
		return -1;
	line_reader *r = cf.r;
	fields *fs = cf.fs;
	struct csv_parser *p = &cf.p;
	enum layout lay = TWO_COLUMN;
	char **list = NULL;
	int cnt = 0, cap = 0, rc = -1, got, last = -1;
	char b[CP_SHOWN_MAX];

	got = read_line(r, e);
	if (got < 0)
		goto out;
	if (got == 0) {
		cp_fail(e, CP_DATA, "%s:1: empty file (expected a header)", path);
		goto out;
	}
	if (r->len >= 3 && !memcmp(r->buf, "\xEF\xBB\xBF", 3)) {
		memmove(r->buf, r->buf + 3, r->len - 2);
		r->len -= 3;
	}
	if (split_line(p, r, fs, e) || check_header(r, fs, &lay, e))
		goto out;
	if (lay != LONG_FORMAT) {
		cp_fail(e, CP_DATA, "%s:1: not a long-format file (unique_id,ds,y): it has no series ids", path);
		goto out;
	}
	while ((got = read_line(r, e)) > 0) {
		if (r->len == 0) {
			cp_fail(e, CP_DATA, "%s:%ld: empty line", path, r->lineno);
			goto out;
		}
		if (split_line(p, r, fs, e))
			goto out;
		if (fs->n != 3) {
			cp_fail(e, CP_DATA, "%s:%ld: expected 3 fields, found %d", path, r->lineno, fs->n);
			goto out;
		}
		const char *id = fs->f[0];
		/* rows of one id are usually together: the last one first */
		if (last >= 0 && !strcmp(list[last], id))
			continue;
		int k = 0;
		while (k < cnt && strcmp(list[k], id))
			k++;
		if (k < cnt) {
			last = k;
			continue;
		}
		if (!series_id_ok(id)) {
			cp_fail(e, CP_DATA, "%s:%ld: series id '%s' is not a plain name (1-64 letters, digits, '.', "
			        "'_' or '-', not starting with '.' or '-')", path, r->lineno, cp_shown(id, b));
			goto out;
		}
		if (cnt == cap) {
			cap = cap ? 2 * cap : 16;
			list = cp_realloc(list, (size_t)cap * sizeof(*list));
		}
		list[cnt] = cp_strdup(id);
		last = cnt++;
	}
	if (got < 0)
		goto out;
	if (cnt == 0) {
		cp_fail(e, CP_DATA, "%s:1: header only, no observations", path);
		goto out;
	}
	*ids = list;
	*n = cnt;
	list = NULL;
	rc = 0;
out:
	for (int i = 0; list && i < cnt; i++)
		free(list[i]);
	free(list);
	csv_file_close(&cf);
	return rc;
}

void series_free(series *s)
{
	if (!s)
		return;
	free(s->path);
	free(s->id);
	free(s->day);
	free(s->y);
	memset(s, 0, sizeof(*s));
}
