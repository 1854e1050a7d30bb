/* test_fuzz_replay_foundation.c — replay every committed fuzzer input through the
 * same entry points as the libFuzzer harnesses (test/fuzz/fuzz_entry.h).
 * Directory-driven: each file in testdata/fuzz-corpus/<target>/ for the
 * targets below is one test, so a new crash input is replayed by `make test`
 * as soon as it is copied there. Under SANITIZE=address,undefined and
 * VALGRIND=1 a memory error fails the run; the invariants of fuzz_entry.h
 * (rejections are CP_DATA/CP_IO naming the file, accepted data keeps its
 * contract) are checked in every build. */
#include "../fuzz/fuzz_entry.h"
#include "tap.h"

#include <dirent.h>
#include <sys/stat.h>

static const char *const targets[] = {"series", "envelope", "settings", "history"};

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whole file into a malloc'd buffer; NULL on error. */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	size_t cap = 4096, n = 0, got;
	uint8_t *b = malloc(cap);
	while (b && (got = fread(b + n, 1, cap - n, fp)) > 0) {
		n += got;
		if (n == cap)
			b = realloc(b, cap *= 2);
	}
	int bad = ferror(fp);
	fclose(fp);
	if (bad) {
		free(b);
		return NULL;
	}
	*len = n;
	return b;
}

static int replay_dir(const char *root, const char *target)
{
	char dirpath[4096];
	snprintf(dirpath, sizeof(dirpath), "%s/testdata/fuzz-corpus/%s", root, target);
	DIR *d = opendir(dirpath);
	if (!d)
		return 0;
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		char path[8192], name[8192], why[2048];
		struct stat st;
		size_t len = 0;
		snprintf(path, sizeof(path), "%s/%s", dirpath, names[i]);
		snprintf(name, sizeof(name), "%s/%s replays cleanly", target, names[i]);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(names[i]);
			continue;
		}
		uint8_t *data = slurp(path, &len);
		int rc = data ? fuzz_run(target, data, len, why, sizeof(why)) : -1;
		if (rc != 0)
			printf("#   %s\n", data ? why : "cannot read the file");
		CHECK(rc == 0, name);
		free(data);
		free(names[i]);
	}
	free(names);
	return (int)n;
}

int main(void)
{
	const char *root = getenv("CHRONOPT_ROOT");
	if (!root || !*root)
		root = ".";
	int total = 0;
	for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]); t++)
		total += replay_dir(root, targets[t]);
	CHECK(total > 0, "the fuzz corpus directories were found and hold inputs");
	/* the harness entry rejects what it does not know (keeps this list honest) */
	char why[16];
	CHECK(fuzz_run("no-such-target", (const uint8_t *)"", 0, why, sizeof(why)) == 1,
	      "an unknown target is refused");
	fflush(fuzz_sink());
	return tap_done();
}
