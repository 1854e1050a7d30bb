/* fuzz_entry.h — the entry points shared by the libFuzzer harnesses
 * (test/fuzz/fuzz_<target>.c, built by scripts/fuzz) and by the replay test
 * (test/unit/test_fuzz_replay.c, run by `make test`), so a corpus file
 * exercises the same code in both.
 *
 * fuzz_run(target, data, size, why, len) feeds one input to the parser of
 * `target` ("series", "envelope", "settings", "history"), then uses what it
 * accepted the way the tools do. Returns 1 when the target is unknown, 0
 * when every invariant held, and -1 with a reason in why[len] when one did
 * not. The invariants beyond "no crash, no leak, no undefined behaviour":
 *   - a rejected input fails with CP_DATA (or CP_IO for read errors), never
 *     CP_INTERNAL, and the message names the file (the envelope reader: its
 *     stream name);
 *   - an accepted series has n >= 1, strictly increasing dates and finite
 *     values;
 *   - an accepted settings object yields its horizons without error.
 * Inputs reach the file-based loaders through a memfd, as
 * "/proc/self/fd/N", so nothing touches the disk.
 */
#ifndef CHRONOPT_FUZZ_ENTRY_H
#define CHRONOPT_FUZZ_ENTRY_H

#include "common.h"
#include "envelope.h"
#include "history.h"
#include "series.h"
#include "settings.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The input as a file: one memfd reused for every input. Returns its
 * "/proc/self/fd/N" name (static storage), or NULL. */
static const char *fuzz_file(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	if (fd < 0) {
		fd = memfd_create("chronopt-fuzz", MFD_CLOEXEC);
		if (fd < 0)
			return NULL;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0)
		return NULL;
	size_t done = 0;
	while (done < size) {
		ssize_t w = pwrite(fd, data + done, size - done, (off_t)done);
		if (w <= 0)
			return NULL;
		done += (size_t)w;
	}
	return path;
}

/* A sink that really formats (unlike a closed stream). */
static FILE *fuzz_sink(void)
{
	static FILE *fp;
	if (!fp)
		fp = fopen("/dev/null", "w");
	return fp;
}

static int fuzz_bad(char *why, size_t len, const char *fmt, const char *a, const char *b)
{
	snprintf(why, len, fmt, a, b);
	return -1;
}

/* A rejection must be CP_DATA/CP_IO with a message naming `name`. */
static int fuzz_check_error(const cp_err *e, const char *name, char *why, size_t len)
{
	if (e->code != CP_DATA && e->code != CP_IO)
		return fuzz_bad(why, len, "rejected with code other than 3 or 4: %s%s", e->msg, "");
	if (!strstr(e->msg, name))
		return fuzz_bad(why, len, "message does not name '%s': %s", name, e->msg);
	return 0;
}

static int fuzz_series(const uint8_t *data, size_t size, char *why, size_t len)
{
	const char *path = fuzz_file(data, size);
	if (!path)
		return fuzz_bad(why, len, "cannot make a memfd%s%s", "", "");
	static const char *const ids[] = {NULL, "A"};
	for (int k = 0; k < 2; k++) {
		series s;
		cp_err e = {0};
		if (series_load(&s, path, ids[k], 1, &e) != 0) {
			if (s.n || s.day || s.y || s.path)
				return fuzz_bad(why, len, "failed load left data in *s%s%s", "", "");
			if (fuzz_check_error(&e, path, why, len))
				return -1;
			continue;
		}
		int ok = s.n >= 1 && s.id && !strcmp(s.path, path);
		for (int i = 0; ok && i < s.n; i++)
			ok = isfinite(s.y[i]) && (i == 0 || s.day[i] > s.day[i - 1]);
		series_free(&s);
		if (!ok)
			return fuzz_bad(why, len, "accepted a series that breaks its contract%s%s", "", "");
	}
	return 0;
}

static int fuzz_envelope(const uint8_t *data, size_t size, char *why, size_t len)
{
	if (size == 0)
		return 0;  /* fmemopen needs a buffer */
	FILE *fp = fmemopen((void *)data, size, "r");
	if (!fp)
		return fuzz_bad(why, len, "fmemopen failed%s%s", "", "");
	env_reader r;
	cJSON *env;
	cp_err e = {0};
	int got, rc = 0;
	env_reader_init(&r, fp, "<fuzz>");
	while ((got = env_read(&r, &env, &e)) > 0) {
		char buf[256], reason[512], now[21] = "2026-11-23T02:00:00Z";
		uint64_t seed;
		const char *hn;
		int steps;
		cp_err e2 = {0};
		env_seed(env, &seed, &e2);
		if (env_horizon(env, &hn, &steps, &e2) != 0) {
			rc = fuzz_bad(why, len, "env_read accepted a line env_horizon rejects: %s%s",
			              e2.msg, "");
			cJSON_Delete(env);
			break;
		}
		env_stop_reason(env, "history", buf, sizeof(buf));
		history_outcome(env, reason, sizeof(reason));
		cJSON *rec = history_record_new(env, now);
		env_set(env, "history", rec);
		if (env_write(fuzz_sink(), env, &e2) != 0)
			rc = fuzz_bad(why, len, "env_write failed: %s%s", e2.msg, "");
		cJSON_Delete(env);
		if (rc)
			break;
	}
	if (!rc && got < 0)
		rc = fuzz_check_error(&e, "<fuzz>", why, len);
	env_reader_release(&r);
	fclose(fp);
	return rc;
}

static int fuzz_settings(const uint8_t *data, size_t size, char *why, size_t len)
{
	const char *path = fuzz_file(data, size);
	if (!path)
		return fuzz_bad(why, len, "cannot make a memfd%s%s", "", "");
	cp_err e = {0};
	cJSON *j = settings_load(path, &e);
	if (!j)
		return fuzz_check_error(&e, path, why, len);
	horizon_def *d = NULL, one;
	int n = 0, rc = 0;
	double v;
	if (settings_horizons(j, &d, &n, &e) != 0)
		rc = fuzz_bad(why, len, "settings_load accepted horizons that "
		              "settings_horizons rejects: %s%s", e.msg, "");
	else if (n > 0 && settings_horizon(j, d[0].name, &one, &e) != 0)
		rc = fuzz_bad(why, len, "a listed horizon is unknown: %s%s", e.msg, "");
	free(d);
	settings_number(j, "trigger.threshold", &v, &e);
	settings_node(j, "search.space");
	cJSON_Delete(j);
	return rc;
}

static int fuzz_history(const uint8_t *data, size_t size, char *why, size_t len)
{
	const char *path = fuzz_file(data, size);
	if (!path)
		return fuzz_bad(why, len, "cannot make a memfd%s%s", "", "");
	history h;
	cp_err e = {0};
	if (history_load(&h, path, 0, &e) != 0) {
		if (h.n || h.rec)
			return fuzz_bad(why, len, "failed load left records in *h%s%s", "", "");
		return fuzz_check_error(&e, path, why, len);
	}
	FILE *out = fuzz_sink();
	history_filter all = {NULL, 0, 0, -1}, some = {"7d", 20000, 1, 2};
	int rc = 0;
	if (history_show(out, &h, &all, 0, &e) || history_show(out, &h, &some, 1, &e) ||
	    history_print_last(out, &h, NULL, 0, &e) || history_print_last(out, &h, "7d", 1, &e) ||
	    history_export_csv(out, &h, &all, &e))
		rc = fuzz_bad(why, len, "writing an accepted history failed: %s%s", e.msg, "");
	history_free(&h);
	return rc;
}

static int fuzz_run(const char *target, const uint8_t *data, size_t size, char *why, size_t len)
{
	why[0] = '\0';
	if (!strcmp(target, "series"))
		return fuzz_series(data, size, why, len);
	if (!strcmp(target, "envelope"))
		return fuzz_envelope(data, size, why, len);
	if (!strcmp(target, "settings"))
		return fuzz_settings(data, size, why, len);
	if (!strcmp(target, "history"))
		return fuzz_history(data, size, why, len);
	return 1;
}

/* For the libFuzzer harnesses: run, and abort on a broken invariant. */
static inline int fuzz_one(const char *target, const uint8_t *data, size_t size)
{
	char why[2048];
	if (fuzz_run(target, data, size, why, sizeof(why)) != 0) {
		fprintf(stderr, "fuzz_%s: invariant broken: %s\n", target, why);
		abort();
	}
	return 0;
}

#endif
