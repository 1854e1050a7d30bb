/* opt-cache — what is in the forecast cache, and keeping it under its cap
 * (the cache itself is lib/fcache.c; the tools use it through
 * $CHRONOPT_CACHE). */
#include "common.h"
#include "fcache.h"

#include <cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *fp)
{
	fputs("usage: opt-cache stats [--cache DIR] [--json]\n"
	      "       opt-cache prune [--cache DIR] [--max-mb N] [--verify] [--wait MS]\n"
	      "  --cache DIR   the cache (default $CHRONOPT_CACHE)\n"
	      "  --json        stats as one JSON object\n"
	      "  --max-mb N    prune to N MiB (default $CHRONOPT_CACHE_MAX_MB, else 1024)\n"
	      "  --verify      prune: also read every entry, remove those that do not check out\n"
	      "  --wait MS     prune: wait up to MS ms for another prune (default 0)\n"
	      "see opt-cache(1)\n", fp);
}

static int misuse(const char *msg, const char *arg)
{
	fprintf(stderr, "opt-cache: ");
	fprintf(stderr, msg, arg);
	fprintf(stderr, "\nTry 'opt-cache --help'.\n");
	return CP_USAGE;
}

static int print_stats(const char *dir, long long max, int json, cp_err *e)
{
	fcache_stat st;
	if (fcache_stats(dir, &st, e) < 0)
		return cp_die(e);
	long long windows = st.hits + st.misses;
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "cache", dir);
		cJSON_AddNumberToObject(o, "entries", (double)st.entries);
		cJSON_AddNumberToObject(o, "bytes", (double)st.bytes);
		cJSON_AddNumberToObject(o, "max_bytes", (double)max);
		cJSON_AddNumberToObject(o, "temp_files", (double)st.temps);
		cJSON_AddNumberToObject(o, "calls", (double)st.calls);
		cJSON_AddNumberToObject(o, "hits", (double)st.hits);
		cJSON_AddNumberToObject(o, "misses", (double)st.misses);
		cJSON_AddNumberToObject(o, "bytes_written", (double)st.written);
		char *s = cJSON_PrintUnformatted(o);
		printf("%s\n", s);
		free(s);
		cJSON_Delete(o);
	} else {
		printf("cache       %s\n", dir);
		printf("entries     %lld\n", st.entries);
		printf("size        %.1f MiB of %.0f MiB\n", (double)st.bytes / 1048576.0, (double)max / 1048576.0);
		printf("temp files  %lld\n", st.temps);
		printf("usage       %lld forecaster calls, %lld windows: %lld hits, %lld misses", st.calls, windows,
		       st.hits, st.misses);
		if (windows > 0)
			printf(" (%.1f %% hits)", 100.0 * (double)st.hits / (double)windows);
		printf("\n");
	}
	return cp_close_stdout();
}

int main(int argc, char **argv)
{
	cp_progname = "opt-cache";
	enum { O_CACHE = 256, O_JSON, O_MAX, O_VERIFY, O_WAIT, O_HELP };
	static const struct option lo[] = {
		{"cache", 1, 0, O_CACHE}, {"json", 0, 0, O_JSON}, {"max-mb", 1, 0, O_MAX},
		{"verify", 0, 0, O_VERIFY}, {"wait", 1, 0, O_WAIT}, {"help", 0, 0, O_HELP}, {0, 0, 0, 0}};
	const char *dir = getenv("CHRONOPT_CACHE");
	int json = 0, verify = 0, c;
	long max_mb = -1, wait_ms = 0;
	cp_err e = {0};
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", lo, NULL)) != -1) {
		switch (c) {
		case O_CACHE: dir = optarg; break;
		case O_JSON: json = 1; break;
		case O_VERIFY: verify = 1; break;
		case O_MAX:
			if (cp_parse_long(optarg, 1, 1048576, &max_mb) < 0)
				return misuse("--max-mb: '%s' is not an integer in 1..1048576", optarg);
			break;
		case O_WAIT:
			if (cp_parse_long(optarg, 0, 86400000, &wait_ms) < 0)
				return misuse("--wait: '%s' is not an integer in 0..86400000", optarg);
			break;
		case O_HELP:
			usage(stdout);
			return cp_close_stdout();
		default:
			return misuse("unknown option or missing argument '%s'", argv[optind - 1]);
		}
	}
	/* options may also follow the command */
	if (optind >= argc)
		return misuse("a command is required: stats or prune%s", "");
	const char *cmd = argv[optind++];
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case O_CACHE: dir = optarg; break;
		case O_JSON: json = 1; break;
		case O_VERIFY: verify = 1; break;
		case O_MAX:
			if (cp_parse_long(optarg, 1, 1048576, &max_mb) < 0)
				return misuse("--max-mb: '%s' is not an integer in 1..1048576", optarg);
			break;
		case O_WAIT:
			if (cp_parse_long(optarg, 0, 86400000, &wait_ms) < 0)
				return misuse("--wait: '%s' is not an integer in 0..86400000", optarg);
			break;
		case O_HELP:
			usage(stdout);
			return cp_close_stdout();
		default:
			return misuse("unknown option or missing argument '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return misuse("unexpected argument '%s'", argv[optind]);
	int is_stats = !strcmp(cmd, "stats"), is_prune = !strcmp(cmd, "prune");
	if (!is_stats && !is_prune)
		return misuse("unknown command '%s': stats or prune", cmd);
	if (!dir || !*dir)
		return misuse("no cache: give --cache DIR or set CHRONOPT_CACHE%s", "");
	if (is_stats && verify)
		return misuse("--verify is for prune%s", "");
	if (is_prune && json)
		return misuse("--json is for stats%s", "");
	long long max;
	if (max_mb > 0)
		max = (long long)max_mb << 20;
	else if (fcache_env_max_bytes(&max, &e) < 0)
		return cp_die(&e);
	if (is_stats)
		return print_stats(dir, max, json, &e);
	long long removed = 0;
	if (fcache_prune(dir, max, verify, wait_ms, &removed, &e) < 0)
		return cp_die(&e);
	fcache_stat st;
	if (fcache_stats(dir, &st, &e) < 0)
		return cp_die(&e);
	printf("removed %lld files; %lld entries, %.1f MiB of %.0f MiB\n", removed, st.entries,
	       (double)st.bytes / 1048576.0, (double)max / 1048576.0);
	return cp_close_stdout();
}
