#!/bin/bash
# make bench: the production search with a Chronos-Bolt-small model (issue 15
# target: under 60 s on the 2-core box).  Random weights of the published
# chronos-bolt-small shape (bench_bolt DIR writes them), the four horizons and
# the context_length grids of configs/chronopt.json (a quantile model searches
# nothing else), 30 search windows (the default), USD/CLP, 1 thread, one job,
# no forecast cache; the four searches one after the other, as a run does:
#   bolt-small search 4 horizons ... 30 windows ...: S s wall in all (target < 60 s), C s CPU: ...
# (CPU time too: on a loaded machine the wall time says more about the load)
B=${1:-build}
root=${CHRONOPT_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${CHRONOPT_BIN:-$root/$B/bin}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OPENBLAS_NUM_THREADS=1 CHRONOPT_THREADS=1
"$root/$B/bench/bench_bolt" "$tmp/bolt-small" || exit 1
# the production settings with the sampling settings taken out of the spaces
jq '.search.spaces |= map_values({context_length})' "$root/configs/chronopt.json" >"$tmp/settings.json"
export CHRONOPT_CONFIG=$tmp/settings.json
csv=$root/testdata/usdclp_daily.csv
last=$(tail -1 "$csv" | cut -d, -f2)
len=$(($(wc -l <"$csv") - 1))
total=0 cpu=0 trials=0 line=""
for h in $(jq -r '.horizons | to_entries[] | "\(.key):\(.value)"' "$tmp/settings.json"); do
	name=${h%%:*} steps=${h#*:}
	printf '{"schema":"chronopt/1","run_id":"bench","seed":42,"series":{"path":"%s","id":"USDCLP","last_date":"%s","length":%d},"horizon":{"name":"%s","steps":%d},"model":{"dir":"%s"}}\n' \
		"$csv" "$last" "$len" "$name" "$steps" "$tmp/bolt-small" >"$tmp/env"
	t0=$(date +%s.%N)
	TIMEFORMAT='%U %S'
	{ time "$bin/opt-search" --jobs 1 --no-cache <"$tmp/env" >"$tmp/out" 2>"$tmp/err"; } 2>"$tmp/time" ||
		{ cat "$tmp/err" >&2; exit 1; }
	t1=$(date +%s.%N)
	s=$(echo "$t1 - $t0" | bc)
	total=$(echo "$total + $s" | bc)
	cpu=$(echo "$cpu + $(awk '{ print $1 + $2 }' "$tmp/time")" | bc)
	n=$(jq '.search.trials | length' "$tmp/out")
	w=$(jq '.search.split.search_origins' "$tmp/out")
	trials=$((trials + n))
	line="$line $name $(printf '%.1f' "$s") s ($n context lengths, $w windows);"
done
printf 'bolt-small search 4 horizons, context_length only, 30 windows, 1 thread: %.1f s wall in all (target < 60 s), %.1f s CPU:%s %d configs\n' \
	"$total" "$cpu" "$line" "$trials"
