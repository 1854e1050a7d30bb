/* test_series.c — the strict loader: every file in testdata/bad-csv/ is
 * rejected with its documented code and exact message (file and line), the
 * quirks in testdata/good-csv/ are accepted on purpose, and the real USD/CLP
 * series loads completely. Run from the repository root ($CHRONOPT_ROOT). */
#include "series.h"
#include "tap.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
	const char *file;     /* under testdata/bad-csv/ */
	const char *id;       /* id asked for, NULL for none */
	int min_obs;
	int code;
	const char *msg;      /* after "testdata/bad-csv/<file>:" */
} bad_case;

static const bad_case bad[] = {
	{"blank-line.csv", NULL, 2, CP_DATA,
	 "3: empty line"},
	{"bom-only.csv", NULL, 2, CP_DATA,
	 "1: empty file (expected a header)"},
	{"cr-line-ends.csv", NULL, 2, CP_DATA,
	 "1: carriage return inside the line (only \\n and \\r\\n line ends are accepted)"},
	{"date-empty.csv", NULL, 2, CP_DATA,
	 "3: empty date"},
	{"date-feb-29-non-leap.csv", NULL, 2, CP_DATA,
	 "3: date '2023-02-29' is not a valid date"},
	{"date-month-13.csv", NULL, 2, CP_DATA,
	 "3: date '2024-13-01' is not a valid date"},
	{"date-no-zero-padding.csv", NULL, 2, CP_DATA,
	 "3: date '2003-1-3' is not an ISO date (YYYY-MM-DD)"},
	{"date-not-iso.csv", NULL, 2, CP_DATA,
	 "3: date '03/01/2003' is not an ISO date (YYYY-MM-DD)"},
	{"date-with-time.csv", NULL, 2, CP_DATA,
	 "3: date '2003-01-03T00:00:00Z' is not an ISO date (YYYY-MM-DD)"},
	{"duplicate-date.csv", NULL, 2, CP_DATA,
	 "3: duplicate date '2003-01-02' (also at line 2)"},
	{"embedded-nul.csv", NULL, 2, CP_DATA,
	 "3: line contains a NUL byte"},
	{"empty-id.csv", NULL, 2, CP_DATA,
	 "3: empty unique_id"},
	{"empty.csv", NULL, 2, CP_DATA,
	 "1: empty file (expected a header)"},
	{"extra-column.csv", NULL, 2, CP_DATA,
	 "3: expected 3 fields, found 4"},
	{"header-empty-name.csv", NULL, 2, CP_DATA,
	 "1: empty column name in the header"},
	{"header-not-utf8.csv", NULL, 2, CP_DATA,
	 "1: not UTF-8 at column 2"},
	{"id-control-character.csv", NULL, 2, CP_DATA,
	 "3: control character 0x01 at column 4"},
	{"id-not-utf8.csv", NULL, 2, CP_DATA,
	 "3: not UTF-8 at column 4"},
	{"id-tab.csv", NULL, 2, CP_DATA,
	 "3: control character 0x09 at column 4"},
	{"header-only.csv", NULL, 2, CP_DATA,
	 "1: header only, no observations"},
	{"missing-column.csv", NULL, 2, CP_DATA,
	 "3: expected 3 fields, found 2"},
	{"missing-header.csv", NULL, 2, CP_DATA,
	 "1: missing header (the first line looks like data)"},
	{"one-column-header.csv", NULL, 2, CP_DATA,
	 "1: unknown header 'value' (1 column), expected 'unique_id,ds,y' or two columns like 'date,value'"},
	{"quote-inside-field.csv", NULL, 2, CP_DATA,
	 "3: malformed quoting (a quote inside an unquoted field, or text after a closing quote)"},
	{"several-ids.csv", NULL, 2, CP_DATA,
	 "3: several ids ('USDCLP', 'EURCLP'), pick one"},
	{"text-after-quote.csv", NULL, 2, CP_DATA,
	 "3: malformed quoting (a quote inside an unquoted field, or text after a closing quote)"},
	{"too-few-rows.csv", NULL, 10, CP_DATA,
	 "4: 3 observations, at least 10 needed"},
	{"trailing-blank-line.csv", NULL, 2, CP_DATA,
	 "4: empty line"},
	{"two-column-bad-date.csv", NULL, 2, CP_DATA,
	 "3: date '2003-13-03' is not a valid date"},
	{"unknown-id.csv", "EURCLP", 2, CP_DATA,
	 "3: no rows with id 'EURCLP' (the file has 'USDCLP')"},
	{"unsorted.csv", NULL, 2, CP_DATA,
	 "4: date '2003-01-01' is not after '2003-01-03' at line 3 (dates must be strictly increasing)"},
	{"unterminated-quote.csv", NULL, 2, CP_DATA,
	 "3: unterminated quoted field (a field cannot span lines)"},
	{"value-decimal-comma.csv", NULL, 2, CP_DATA,
	 "3: expected 3 fields, found 4"},
	{"value-empty.csv", NULL, 2, CP_DATA,
	 "3: empty value (--missing nan keeps it, --missing drop leaves the row out)"},
	{"value-hex.csv", NULL, 2, CP_DATA,
	 "3: value '0x1p3' is not a number"},
	{"value-inf.csv", NULL, 2, CP_DATA,
	 "3: value 'inf' is not a finite number"},
	{"value-leading-space.csv", NULL, 2, CP_DATA,
	 "3: value ' 718.73' has leading or trailing whitespace"},
	{"value-minus-infinity.csv", NULL, 2, CP_DATA,
	 "3: value '-Infinity' is not a finite number"},
	{"value-nan.csv", NULL, 2, CP_DATA,
	 "3: missing value 'NaN' (--missing nan keeps it, --missing drop leaves the row out)"},
	{"value-overflow.csv", NULL, 2, CP_DATA,
	 "3: value '1e999' is out of range"},
	{"value-text.csv", NULL, 2, CP_DATA,
	 "3: value 'abc' is not a number"},
	{"value-trailing-space.csv", NULL, 2, CP_DATA,
	 "3: value '718.73 ' has leading or trailing whitespace"},
	{"very-long-line.csv", NULL, 2, CP_DATA,
	 "3: line is longer than 4096 bytes"},
	{"wrong-header.csv", NULL, 2, CP_DATA,
	 "1: unknown header 'id,date,value' (3 columns), expected 'unique_id,ds,y' or two columns like 'date,value'"},
};
#define NBAD (sizeof(bad) / sizeof(bad[0]))

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	size_t cap = 1 << 16, n = 0, got;
	char *buf = malloc(cap);
	while (buf && (got = fread(buf + n, 1, cap - n - 1, fp)) > 0) {
		n += got;
		if (n + 1 == cap)
			buf = realloc(buf, cap *= 2);
	}
	if (buf)
		buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void test_bad(void)
{
	char path[512], want[1200], name[600], row[1400];
	char *readme = slurp("testdata/bad-csv/README.md");
	CHECK(readme != NULL, "testdata/bad-csv/README.md exists");
	for (size_t i = 0; i < NBAD; i++) {
		series s;
		cp_err e = {0};
		snprintf(path, sizeof(path), "testdata/bad-csv/%s", bad[i].file);
		snprintf(want, sizeof(want), "%s:%s", path, bad[i].msg);
		int rc = series_load(&s, path, bad[i].id, bad[i].min_obs, &e);
		snprintf(name, sizeof(name), "%s is rejected with code %d", bad[i].file, bad[i].code);
		CHECK(rc == -1 && e.code == bad[i].code, name);
		snprintf(name, sizeof(name), "%s: message names file and line", bad[i].file);
		if (strcmp(e.msg, want))
			printf("#   got  '%s'\n#   want '%s'\n", e.msg, want);
		CHECK(!strcmp(e.msg, want), name);
		CHECK(s.n == 0 && s.day == NULL && s.y == NULL && s.path == NULL,
		      "a rejected load leaves the series empty");
		snprintf(row, sizeof(row), "| `%s` | %d | `%s` |", bad[i].file, bad[i].code, want);
		snprintf(name, sizeof(name), "%s is documented in the README table", bad[i].file);
		CHECK(readme && strstr(readme, row), name);
	}
	/* every file in the folder is covered by the table */
	DIR *d = opendir("testdata/bad-csv");
	int uncovered = 0, files = 0;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 4, ".csv"))
			continue;
		files++;
		int found = 0;
		for (size_t i = 0; i < NBAD; i++)
			found |= !strcmp(bad[i].file, de->d_name);
		if (!found) {
			printf("#   not in the table: %s\n", de->d_name);
			uncovered++;
		}
	}
	if (d)
		closedir(d);
	CHECK(files >= 25 && uncovered == 0, "every bad CSV (at least 25) has an expectation");
	free(readme);
}

static void test_good(void)
{
	static const char *quirks[] = {
		"bom.csv", "crlf.csv", "no-final-newline.csv", "bom-crlf-no-final-newline.csv",
		"quoted-fields.csv", "two-column.csv",
	};
	char path[512], name[600];
	for (size_t i = 0; i < sizeof(quirks) / sizeof(quirks[0]); i++) {
		series s;
		cp_err e = {0};
		int32_t d0, d2;
		cp_parse_date("2003-01-02", &d0);
		cp_parse_date("2003-01-06", &d2);
		snprintf(path, sizeof(path), "testdata/good-csv/%s", quirks[i]);
		int rc = series_load(&s, path, NULL, 3, &e);
		snprintf(name, sizeof(name), "%s is accepted on purpose", quirks[i]);
		if (rc)
			printf("#   %s\n", e.msg);
		CHECK(rc == 0 && s.n == 3, name);
		if (rc)
			continue;
		snprintf(name, sizeof(name), "%s: dates and values exact", quirks[i]);
		CHECK(s.day[0] == d0 && s.day[1] == d0 + 1 && s.day[2] == d2 &&
		      s.y[0] == 718.61 && s.y[1] == 718.73 && s.y[2] == 715.76, name);
		snprintf(name, sizeof(name), "%s: id and path recorded", quirks[i]);
		CHECK(!strcmp(s.path, path) &&
		      !strcmp(s.id, strstr(quirks[i], "two-column") ? "" : "USDCLP"), name);
		series_free(&s);
		CHECK(s.n == 0 && s.y == NULL, "series_free empties the series");
	}

	series s;
	cp_err e = {0};
	CHECK(series_load(&s, "testdata/good-csv/two-column-exponent.csv", NULL, 3, &e) == 0 &&
	      s.y[0] == 718.61 && s.y[1] == 718.73 && s.y[2] == -0.5,
	      "exponents, a plus sign and negative values are numbers");
	series_free(&s);

	CHECK(series_load(&s, "testdata/good-csv/two-ids.csv", "USDCLP", 3, &e) == 0 &&
	      s.n == 3 && s.y[0] == 718.61 && s.y[2] == 715.76 && !strcmp(s.id, "USDCLP"),
	      "an id picks its rows out of interleaved ids");
	series_free(&s);
	CHECK(series_load(&s, "testdata/good-csv/two-ids.csv", "EURCLP", 3, &e) == 0 &&
	      s.n == 3 && s.y[0] == 850.10 && s.y[2] == 849.5, "the other id too");
	series_free(&s);
	CHECK(series_load(&s, "testdata/good-csv/two-ids.csv", NULL, 3, &e) == -1 &&
	      e.code == CP_DATA &&
	      !strcmp(e.msg, "testdata/good-csv/two-ids.csv:3: several ids ('EURCLP', 'USDCLP'), pick one"),
	      "without an id, two ids are refused");
	CHECK(series_load(&s, "testdata/good-csv/two-ids.csv", "USDCLP", 4, &e) == -1 &&
	      e.code == CP_DATA &&
	      !strcmp(e.msg, "testdata/good-csv/two-ids.csv:7: 3 observations, at least 4 needed"),
	      "min_obs counts the chosen id's rows only");
}

/* Missing values: --missing error (series_load), nan and drop, on a file
 * written here. */
static void test_missing(void)
{
	char path[] = "/tmp/chronopt-test-missing-XXXXXX";
	int fd = mkstemp(path);
	FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!fp) {
		CHECK(0, "cannot make a temporary file");
		return;
	}
	fputs("date,value\n2024-01-01,1.5\n2024-01-02,NA\n2024-01-03,\n2024-01-04,nan\n"
	      "2024-01-05,2.5\n2024-01-08,N/A\n2024-01-09,null\n2024-01-10,3\n", fp);
	fclose(fp);
	series s;
	cp_err e = {0};
	char want[256];
	CHECK(series_load(&s, path, NULL, 1, &e) < 0 && e.code == CP_DATA &&
	      !strcmp(e.msg + strlen(path), ":3: missing value 'NA' (--missing nan keeps it, --missing drop leaves the row out)"),
	      "default: a missing value is refused, naming the line and the choices");
	CHECK(series_load_missing(&s, path, NULL, 1, SERIES_MISSING_NAN, &e) == 0 && s.n == 8 && s.n_missing == 5 &&
	      s.missing == SERIES_MISSING_NAN && s.y[0] == 1.5 && isnan(s.y[1]) && isnan(s.y[2]) && isnan(s.y[3]) &&
	      s.y[4] == 2.5 && isnan(s.y[5]) && isnan(s.y[6]) && s.y[7] == 3,
	      "nan: NA, empty, nan, N/A and null are kept as NaN");
	series_free(&s);
	CHECK(series_load_missing(&s, path, NULL, 1, SERIES_MISSING_DROP, &e) == 0 && s.n == 3 && s.n_missing == 5 &&
	      s.y[0] == 1.5 && s.y[1] == 2.5 && s.y[2] == 3, "drop: the rows are left out");
	int32_t d;
	cp_parse_date("2024-01-10", &d);
	CHECK(s.n == 3 && s.day[2] == d, "drop: the dates of the rows kept");
	series_free(&s);
	CHECK(series_load_missing(&s, path, NULL, 4, SERIES_MISSING_DROP, &e) < 0 &&
	      !strcmp(e.msg + strlen(path), ":9: 3 observations, at least 4 needed"), "drop: min_obs counts the rows kept");
	/* a dropped row still orders the dates; inf stays an error; all missing */
	fp = fopen(path, "w");
	fputs("date,value\n2024-01-02,1\n2024-01-03,NA\n2024-01-03,2\n", fp);
	fclose(fp);
	snprintf(want, sizeof want, "%s:4: duplicate date '2024-01-03' (also at line 3)", path);
	CHECK(series_load_missing(&s, path, NULL, 1, SERIES_MISSING_DROP, &e) < 0 && !strcmp(e.msg, want),
	      "drop: a dropped row's date is still checked against the next");
	fp = fopen(path, "w");
	fputs("date,value\n2024-01-02,1\n2024-01-03,inf\n", fp);
	fclose(fp);
	snprintf(want, sizeof want, "%s:3: value 'inf' is not a finite number", path);
	CHECK(series_load_missing(&s, path, NULL, 1, SERIES_MISSING_NAN, &e) < 0 && !strcmp(e.msg, want),
	      "nan: inf is not a missing value");
	fp = fopen(path, "w");
	fputs("date,value\n2024-01-02,NA\n2024-01-03,\n", fp);
	fclose(fp);
	snprintf(want, sizeof want, "%s: every value is missing", path);
	CHECK(series_load_missing(&s, path, NULL, 1, SERIES_MISSING_NAN, &e) < 0 && !strcmp(e.msg, want) &&
	      series_load_missing(&s, path, NULL, 1, SERIES_MISSING_DROP, &e) < 0 && !strcmp(e.msg, want),
	      "every value missing is refused in both modes");
	series_missing m;
	CHECK(series_missing_parse("nan", &m) == 0 && m == SERIES_MISSING_NAN && series_missing_parse("NaN", &m) < 0 &&
	      !strcmp(series_missing_name(SERIES_MISSING_DROP), "drop"), "mode names");
	unlink(path);
}

static void test_real_and_io(void)
{
	series s;
	cp_err e = {0};
	int32_t first, last;
	cp_parse_date("2003-01-02", &first);
	cp_parse_date("2026-09-23", &last);
	int rc = series_load(&s, "testdata/usdclp_daily.csv", NULL, 1000, &e);
	if (rc)
		printf("#   %s\n", e.msg);
	CHECK(rc == 0 && s.n == 5916, "USD/CLP: all 5916 rows");
	CHECK(rc == 0 && s.day[0] == first && s.day[s.n - 1] == last &&
	      s.y[0] == 718.61 && s.y[s.n - 1] == 945.87, "USD/CLP: first and last observation");
	int inc = rc == 0;
	for (int i = 1; inc && i < s.n; i++)
		inc = s.day[i] > s.day[i - 1];
	CHECK(inc, "USD/CLP: dates strictly increasing");
	series_free(&s);

	CHECK(series_load(&s, "testdata/usdclp_daily.csv", "USDCLP", 5917, &e) == -1 &&
	      e.code == CP_DATA &&
	      !strcmp(e.msg, "testdata/usdclp_daily.csv:5917: 5916 observations, at least 5917 needed"),
	      "asking for more observations than the file has");
	CHECK(series_load(&s, "testdata/no-such-file.csv", NULL, 1, &e) == -1 &&
	      e.code == CP_IO &&
	      !strcmp(e.msg, "cannot open 'testdata/no-such-file.csv': No such file or directory"),
	      "a missing file is CP_IO");
	CHECK(series_load(&s, "testdata", NULL, 1, &e) == -1 && e.code == CP_IO &&
	      !strncmp(e.msg, "cannot read 'testdata': ", 24), "a directory is CP_IO");
	series_free(&s);
	series_free(NULL);
}

int main(void)
{
	const char *root = getenv("CHRONOPT_ROOT");
	if (root && chdir(root) != 0) {
		perror(root);
		return 1;
	}
	test_bad();
	test_good();
	test_real_and_io();
	test_missing();
	return tap_done();
}
