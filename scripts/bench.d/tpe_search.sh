#!/bin/bash
# make bench: TPE against the exhaustive grid with the bundled model.
# A 210-config space (context_length 5 x num_samples 3 x temperature 7 x
# top_k 2) on the 7d horizon of USD/CLP, 30 search windows: the grid scores
# every config once; then TPE with 40 trials runs with 10 sampler seeds
# (--sampler-seed; the run seed stays 42, so every config scores exactly as
# in the grid) and we count how often its best is within 1 % of the grid's.
# Random search of 40 distinct configs: the exact probability of a hit,
# 1 - C(N-k, 40) / C(N, 40), from the grid's k configs within 1 %.
#   tpe bundled model: ... within 1 % on a/10 sampler seeds ...
B=${1:-build}
root=${CHRONOPT_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${CHRONOPT_BIN:-$root/$B/bin}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export CHRONOPT_CONFIG="$root/configs/chronopt.json" OPENBLAS_NUM_THREADS=1
csv=$root/testdata/usdclp_daily.csv
printf '{"schema":"chronopt/1","run_id":"bench","seed":42,"series":{"path":"%s","id":"USDCLP","last_date":"%s","length":%d},"horizon":{"name":"7d","steps":7},"model":{"dir":"%s"}}\n' \
	"$csv" "$(tail -1 "$csv" | cut -d, -f2)" "$(($(wc -l <"$csv") - 1))" "$root/models/chronos-demo" >"$tmp/env"
space=(--context-lengths 32,48,64,96,128 --num-samples 10,20,40
       --temperatures 0.6,0.7,0.8,0.9,1.0,1.1,1.2 --top-k 0,50)
t0=$(date +%s.%N)
"$bin/opt-search" --jobs 2 --method grid "${space[@]}" <"$tmp/env" >"$tmp/grid" || exit 1
t1=$(date +%s.%N)
best=$(jq .search.best.metrics.rmse "$tmp/grid")
n=$(jq .search.trials_planned "$tmp/grid")
k=$(jq --argjson b "$best" '[.search.trials[] | select(.metrics.rmse <= $b * 1.01)] | length' "$tmp/grid")
hits=0 configs=0 pruned=0
for s in 1 2 3 4 5 6 7 8 9 10; do
	"$bin/opt-search" --jobs 2 --method tpe --trials 40 --sampler-seed "$s" "${space[@]}" \
		<"$tmp/env" >"$tmp/tpe" || exit 1
	r=$(jq .search.best.metrics.rmse "$tmp/tpe")
	hits=$((hits + $(awk -v r="$r" -v b="$best" 'BEGIN { print (r <= b * 1.01) ? 1 : 0 }')))
	configs=$((configs + $(jq .search.tpe.configs "$tmp/tpe")))
	pruned=$((pruned + $(jq .search.tpe.pruned "$tmp/tpe")))
done
t2=$(date +%s.%N)
awk -v n="$n" -v k="$k" -v best="$best" -v hits="$hits" -v c="$configs" -v p="$pruned" \
    -v tg="$(echo "$t1 - $t0" | bc)" -v tt="$(echo "$t2 - $t1" | bc)" 'BEGIN {
	q = 1; for (i = 0; i < 40; i++) q *= (n - k - i) / (n - i); if (q < 0) q = 0
	printf "tpe bundled model, 7d, %d configs, 30 windows: exhaustive best RMSE %.4f (%d configs within 1 %%), grid %.0f s\n", n, best, k, tg
	printf "tpe bundled model: 40 trials within 1 %% of the exhaustive best on %d/10 sampler seeds (random search of 40: %.1f/10 expected); %.1f configs scored and %.1f pruned per run; one TPE run %.2fx the grid'"'"'s time\n", hits, 10 * (1 - q), c / 10, p / 10, tt / 10 / tg
}'
