/* test_fuzz_replay.c — every file under testdata/fuzz-corpus/ (seeds and
 * any input a fuzzer ever crashed on) goes through the same parse
 * functions the libFuzzer harnesses call: each must be accepted or refused
 * with CP_DATA and a "<name>: ..." message, never crash (run under
 * SANITIZE=address,undefined to see memory errors). */
#include "tap.h"
#include "chronos_config.h"
#include "safetensors.h"
#include "tokenizer.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

/* the generation_config.json harness itself: it aborts on anything but a
 * clean accept or CP_DATA refusal */
#include "../fuzz/fuzz_generation.c"

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	uint8_t *b = malloc(cap);
	size_t got;
	while ((got = fread(b + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap)
			b = realloc(b, cap *= 2);
	}
	fclose(f);
	*len = n;
	return b;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay(const char *root, const char *kind)
{
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/testdata/fuzz-corpus/%s", root, kind);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	char *names[4096];
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < 4096)
		if (de->d_name[0] != '.')
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, (size_t)n, sizeof(char *), cmp_str);
	for (int i = 0; i < n; i++) {
		char path[1200], nm[1300];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		size_t len = 0;
		uint8_t *buf = slurp(path, &len);
		if (!buf) {
			snprintf(nm, sizeof(nm), "%s corpus '%s' readable", kind, names[i]);
			CHECK(0, nm);
			free(names[i]);
			continue;
		}
		cp_err e = {0};
		int rc, ok;
		if (strcmp(kind, "safetensors") == 0) {
			st_file f;
			rc = st_parse(&f, buf, len, names[i], &e);
			if (rc == 0) {
				for (int k = 0; k < f.n; k++)
					st_get(&f, f.t[k].name, f.t[k].ndim, f.t[k].shape, &e);
				st_close(&f);
			}
		} else if (strcmp(kind, "generation") == 0) {
			rc = LLVMFuzzerTestOneInput(buf, len);
			e.code = CP_DATA;
			snprintf(e.msg, sizeof(e.msg), "%s", names[i]);
		} else {
			cc_config c;
			rc = cc_parse(&c, (const char *)buf, len, names[i], &e);
			if (rc == 0 && c.family == CC_T5) {
				tok_t t;
				tok_init(&t, &c);
				tok_free(&t);
			}
		}
		ok = rc == 0 || (rc == -1 && e.code == CP_DATA && strncmp(e.msg, names[i], strlen(names[i])) == 0);
		if (rc < 0)
			printf("# %s: %s\n", kind, e.msg);
		snprintf(nm, sizeof(nm), "%s corpus '%s' accepted or refused cleanly", kind, names[i]);
		CHECK(ok, nm);
		free(buf);
		free(names[i]);
	}
	return n;
}

int main(void)
{
	const char *root = getenv("CHRONOPT_ROOT");
	if (!root)
		root = ".";
	CHECK(replay(root, "safetensors") > 0, "safetensors corpus present");
	CHECK(replay(root, "config") > 0, "config corpus present");
	CHECK(replay(root, "generation") > 0, "generation corpus present");
	/* the checkpoint refusals of the corpus say what they refuse */
	static const struct { const char *file, *msg; } bad[] = {
		{"nan-f32.safetensors", "nan-f32.safetensors: tensor 'w' holds NaN at index 1: the checkpoint is corrupt"},
		{"inf-f16.safetensors", "inf-f16.safetensors: tensor 'w' holds an infinite value at index 1: the checkpoint is corrupt"},
		{"nan-bf16.safetensors", "nan-bf16.safetensors: tensor 'w' holds NaN at index 1: the checkpoint is corrupt"},
		{"header-not-utf8.safetensors", "header-not-utf8.safetensors: header is not UTF-8 (byte 0xff at header offset 3)"},
		{"header-overlong-utf8.safetensors", "header-overlong-utf8.safetensors: header is not UTF-8 (byte 0xc0 at header offset 3)"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char path[1024], nm[1200];
		snprintf(path, sizeof(path), "%s/testdata/fuzz-corpus/safetensors/%s", root, bad[i].file);
		size_t len;
		uint8_t *buf = slurp(path, &len);
		st_file f;
		cp_err e = {0};
		int rc = buf ? st_parse(&f, buf, len, bad[i].file, &e) : -2;
		if (rc == 0) {
			int64_t shape[1] = {f.t[0].shape[0]};
			rc = st_get(&f, "w", 1, shape, &e) ? 0 : -1;
			st_close(&f);
		}
		if (rc == -1 && strcmp(e.msg, bad[i].msg))
			printf("# got: %s\n", e.msg);
		snprintf(nm, sizeof(nm), "%s is refused: %s", bad[i].file, bad[i].msg);
		CHECK(rc == -1 && e.code == CP_DATA && !strcmp(e.msg, bad[i].msg), nm);
		free(buf);
	}
	/* the family seeds are told apart as intended */
	static const struct { const char *file; int family; int parses; } fam[] = {
		{"bolt-tiny.json", CC_BOLT, 1}, {"bolt-gated-no-reg.json", CC_BOLT, 1},
		{"bolt-by-keys-only.json", CC_BOLT, 1}, {"chronos2-recognised.json", CC_CHRONOS2, 0},
		{"relu-tied.json", CC_T5, 1},
	};
	for (size_t i = 0; i < sizeof(fam) / sizeof(fam[0]); i++) {
		char path[1024], nm[1200];
		snprintf(path, sizeof(path), "%s/testdata/fuzz-corpus/config/%s", root, fam[i].file);
		cp_err e = {0};
		int f = -1;
		cc_config c;
		int ok = cc_detect(path, &f, &e) == 0 && f == fam[i].family &&
		         (cc_load(&c, path, &e) == 0) == fam[i].parses && (!fam[i].parses || c.family == f);
		snprintf(nm, sizeof(nm), "%s is %s%s", fam[i].file, cc_family_name(fam[i].family),
		         fam[i].parses ? "" : " and refused by the T5/Bolt parser");
		CHECK(ok, nm);
	}
	return tap_done();
}
