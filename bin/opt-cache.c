/* opt-cache — what is in the forecast cache, and keeping it under its cap
 * (the cache itself is lib/fcache.c; the tools use it through
 * $CHRONOPT_CACHE). */
#include "cli.h"
#include "common.h"
#include "fcache.h"

#include <cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_tool tool = {"opt-cache",
	"usage: opt-cache stats [--cache DIR] [--json]\n"
	      "       opt-cache prune [--cache DIR] [--max-mb N] [--verify] [--wait MS]\n"
	      "  --cache DIR   the cache (default $CHRONOPT_CACHE)\n"
	      "  --json        stats as one JSON object\n"
	      "  --max-mb N    prune to N MiB (default $CHRONOPT_CACHE_MAX_MB, else 1024)\n"
	      "  --verify      prune: also read every entry, remove those that do not check out\n"
	      "  --wait MS     prune: wait up to MS ms for another prune (default 0)\n"
	"see opt-cache(1)\n", CLI_HINT_TRY};

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

typedef struct {
	const char *dir;
	int json, verify;
	long max_mb, wait_ms;
} options;

/* The options from optind on, up to the command (optstring "+") or to
 * the end: 0, -1 for --help (done), or CP_USAGE (said). */
static int parse_options(int argc, char **argv, const char *optstring, options *o)
{
	enum { O_CACHE = 256, O_JSON, O_MAX, O_VERIFY, O_WAIT, O_HELP };
	static const struct option lo[] = {
		{"cache", 1, 0, O_CACHE}, {"json", 0, 0, O_JSON}, {"max-mb", 1, 0, O_MAX},
		{"verify", 0, 0, O_VERIFY}, {"wait", 1, 0, O_WAIT}, {"help", 0, 0, O_HELP}, {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, optstring, lo, NULL)) != -1) {
		switch (c) {
		case O_CACHE: o->dir = optarg; break;
		case O_JSON: o->json = 1; break;
		case O_VERIFY: o->verify = 1; break;
		case O_MAX:
			if (cp_parse_long(optarg, 1, 1048576, &o->max_mb) < 0)
				return cli_misuse("--max-mb: '%s' is not an integer in 1..1048576", optarg);
			break;
		case O_WAIT:
			if (cp_parse_long(optarg, 0, 86400000, &o->wait_ms) < 0)
				return cli_misuse("--wait: '%s' is not an integer in 0..86400000", optarg);
			break;
		case O_HELP:
			return -1;
		default:
			return cli_misuse("unknown option or missing argument '%s'", argv[optind - 1]);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	cli_start(&tool, argv);
	options o = {.dir = getenv("CHRONOPT_CACHE"), .max_mb = -1};
	cp_err e = {0};
	opterr = 0;
	int rc = parse_options(argc, argv, "+", &o);
	/* options may also follow the command */
	if (rc == 0 && optind >= argc)
		return cli_misuse("a command is required: stats or prune%s", "");
	const char *cmd = rc == 0 ? argv[optind++] : NULL;
	if (rc == 0)
		rc = parse_options(argc, argv, "", &o);
	if (rc < 0)
		return cli_help();
	if (rc > 0)
		return rc;
	const char *dir = o.dir;
	int json = o.json, verify = o.verify;
	long max_mb = o.max_mb, wait_ms = o.wait_ms;
	if (optind < argc)
		return cli_misuse("unexpected argument '%s'", argv[optind]);
	int is_stats = !strcmp(cmd, "stats"), is_prune = !strcmp(cmd, "prune");
	if (!is_stats && !is_prune)
		return cli_misuse("unknown command '%s': stats or prune", cmd);
	if (!dir || !*dir)
		return cli_misuse("no cache: give --cache DIR or set CHRONOPT_CACHE%s", "");
	if (is_stats && verify)
		return cli_misuse("--verify is for prune%s", "");
	if (is_prune && json)
		return cli_misuse("--json is for stats%s", "");
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
