/* test_common.c — cp_read_file: contents, NUL bytes, limits, missing files,
 * error messages. */
#include "common.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void put(const char *path, const char *s, size_t n)
{
	FILE *fp = fopen(path, "wb");
	if (!fp || fwrite(s, 1, n, fp) != n || fclose(fp) != 0) {
		perror(path);
		exit(1);
	}
}

int main(void)
{
	char dir[] = "/tmp/test_common_XXXXXX";
	if (!mkdtemp(dir))
		return perror("mkdtemp"), 1;
	char f[256], g[256], none[256], big[256];
	snprintf(f, sizeof f, "%s/f.txt", dir);
	snprintf(g, sizeof g, "%s/nul.bin", dir);
	snprintf(none, sizeof none, "%s/none", dir);
	snprintf(big, sizeof big, "%s/big.txt", dir);

	cp_err e = {0};
	size_t len = 99;
	int missing = 7;
	put(f, "hello\n", 6);
	char *b = cp_read_file(f, 6, &len, &missing, &e);
	CHECK(b && len == 6 && !strcmp(b, "hello\n") && missing == 0,
	      "a file of exactly max bytes is read whole and NUL-terminated");
	free(b);
	b = cp_read_file(f, SIZE_MAX, NULL, NULL, &e);
	CHECK(b && !strcmp(b, "hello\n"), "len and missing may be NULL");
	free(b);

	put(f, "", 0);
	b = cp_read_file(f, 10, &len, NULL, &e);
	CHECK(b && len == 0 && b[0] == '\0', "an empty file is an empty string");
	free(b);

	put(g, "a\0b", 3);
	b = cp_read_file(g, 10, &len, NULL, &e);
	CHECK(b && len == 3 && strlen(b) == 1 && b[2] == 'b' && b[3] == '\0',
	      "NUL bytes are kept: strlen differs from len");
	free(b);

	/* larger than the first allocation, to cross the growth path */
	size_t n = 100000;
	char *s = malloc(n);
	for (size_t i = 0; i < n; i++)
		s[i] = (char)('a' + i % 26);
	put(big, s, n);
	b = cp_read_file(big, n, &len, NULL, &e);
	CHECK(b && len == n && !memcmp(b, s, n) && b[n] == '\0', "a 100000-byte file is read whole");
	free(b);
	e.code = CP_OK;
	b = cp_read_file(big, n - 1, &len, NULL, &e);
	char want[512];
	snprintf(want, sizeof want, "%s: larger than %zu bytes", big, n - 1);
	CHECK(!b && e.code == CP_DATA && !strcmp(e.msg, want), "one byte over max is CP_DATA naming the file");
	b = cp_read_file(f, 0, &len, NULL, &e);
	CHECK(b && len == 0, "max 0 accepts an empty file");
	free(b);
	free(s);

	e.code = CP_OK;
	b = cp_read_file(none, 10, &len, &missing, &e);
	CHECK(!b && missing == 1 && e.code == CP_OK, "a missing file sets *missing and leaves e untouched");
	b = cp_read_file(none, 10, &len, NULL, &e);
	snprintf(want, sizeof want, "cannot open '%s': No such file or directory", none);
	CHECK(!b && e.code == CP_IO && !strcmp(e.msg, want), "without missing it is CP_IO 'cannot open'");

	b = cp_read_file(dir, 10, &len, &missing, &e);
	snprintf(want, sizeof want, "cannot read '%s': Is a directory", dir);
	CHECK(!b && missing == 0 && e.code == CP_IO && !strcmp(e.msg, want),
	      "a directory is CP_IO 'cannot read' with the reason");

	unlink(f);
	unlink(g);
	unlink(big);
	rmdir(dir);

	cp_fail(&e, CP_DATA, "file '%s': bad", "a\nb\x1b[31mc\x7f");
	CHECK(!strcmp(e.msg, "file 'a?b?[31mc?': bad"), "an error message is one line whatever it quotes");
	cp_prefix(&e, "x\ty");
	CHECK(!strcmp(e.msg, "x?y: file 'a?b?[31mc?': bad"), "a prefix is made one line too");

	double d = 0;
	CHECK(cp_parse_double("1.5e-3", &d) == 0 && d == 1.5e-3, "a decimal number parses");
	CHECK(cp_parse_double("0x10", &d) < 0 && cp_parse_double("0X1p3", &d) < 0,
	      "hex floats are refused (strtod would take them)");
	CHECK(cp_parse_double("inf", &d) < 0 && cp_parse_double("nan", &d) < 0 && cp_parse_double("1e400", &d) < 0,
	      "not finite is refused");
	CHECK(cp_parse_double(" 1", &d) < 0 && cp_parse_double("1 ", &d) < 0 && cp_parse_double("", &d) < 0,
	      "blanks and empty are refused");
	return tap_done();
}
