#!/usr/bin/env bats
# The decisions of the stage chain do not depend on the unit of the series:
# trigger, search, validation and deployment decide the same for y, 0.001 y
# and 1000 y, on every horizon, for more than one seed, on trimmed USD/CLP
# and on a synthetic series. Baselines (drift, random walk) keep it fast.

setup() {
	load test_helper
	# 48 chains deploy and record (fsync, git): on a tmpfs when there is
	# one, which makes no difference to what is decided
	WORK=$BATS_TEST_TMPDIR
	if [ -d /dev/shm ] && [ -w /dev/shm ]; then
		WORK=$(mktemp -d /dev/shm/chronopt-scale-free.XXXXXX)
	fi
	cd "$WORK"
	# a small grid over the four horizons; the time trigger is off for the
	# second run so that performance and drift decide it
	cat >settings.json <<'JSON'
{"horizons": {"7d": 7, "15d": 15, "30d": 30, "90d": 90},
 "trigger": {"recent_origins": 14, "max_days_since_last": 1000, "cooldown_days": 7},
 "search": {"method": "grid", "origins": 6, "stride": 3,
   "spaces": {"7d":  {"context_length": [20, 60, 120], "num_samples": [20, 40], "temperature": [1.0]},
              "15d": {"context_length": [20, 60, 120], "num_samples": [20, 40], "temperature": [1.0]},
              "30d": {"context_length": [30, 60, 120], "num_samples": [20, 40], "temperature": [1.0]},
              "90d": {"context_length": [30, 60, 120], "num_samples": [20, 40], "temperature": [1.0]}}},
 "validate": {"preset": "balanced", "validation_origins": 12}}
JSON
}

teardown() {
	cd "$BATS_TEST_TMPDIR"
	[ "$WORK" = "$BATS_TEST_TMPDIR" ] || rm -rf "$WORK"
}

# scaled IN FACTOR OUT — the series with every value times FACTOR, as the
# decimal the unscaled value shifted (10 significant digits hold them all)
scaled() {
	awk -F, -v c="$2" 'NR == 1 { print; next } { printf "%s,%s,%.10g\n", $1, $2, $3 * c }' "$1" >"$3"
}

# decisions SERIES ROWS DIR SEED — run the chain on the first ROWS
# observations of SERIES with the clock on the day after the last one,
# deploying into DIR; print one line of decisions per horizon
decisions() {
	local series=$1 rows=$2 dir=$3 seed=$4 now
	head -n "$((rows + 1))" "$series" >"$dir/cut.csv"
	now=$(date -u -d "$(tail -n 1 "$dir/cut.csv" | cut -d, -f2) + 1 day" +%FT02:00:00Z)
	CHRONOPT_NOW=$now opt-trigger --config settings.json --series "$dir/cut.csv" --all --model drift \
		--seed "$seed" --config-dir "$dir/cfg" --history "$dir/h.jsonl" |
		CHRONOPT_NOW=$now opt-search --config settings.json |
		CHRONOPT_NOW=$now opt-validate --config settings.json --config-dir "$dir/cfg" |
		CHRONOPT_NOW=$now opt-deploy deploy --config settings.json --config-dir "$dir/cfg" |
		CHRONOPT_NOW=$now opt-history record --file "$dir/h.jsonl" >"$dir/run.ndjson" || return 1
	jq -c '[.horizon.name,
	        .trigger.should_optimize, .trigger.fired,
	        (.trigger.checks // {} | to_entries | map([.key, .value.fired, .value.evaluated, .value.severity])),
	        (.search.candidate // {} | [.context_length, .num_samples, .temperature, .top_k, .top_p]),
	        .validation.status, .validation.approved,
	        (.validation.criteria // [] | map([.name, .verdict])),
	        .deployment.status, .deployment.deployed]' "$dir/run.ndjson"
}

# same_decisions SERIES ROWS1 ROWS2 SEED — a first run on ROWS1
# observations (deploys) and a later one on ROWS2 (judges what was
# deployed) agree across the three scales; the unscaled decisions are
# printed
same_decisions() {
	local series=$1 seed=$4 c
	for c in 1 0.001 1000; do
		rm -rf "s$c"
		mkdir -p "s$c"
		scaled "$series" "$c" "s$c/series.csv"
		decisions "s$c/series.csv" "$2" "s$c" "$seed" >"s$c/first" || return 1
		decisions "s$c/series.csv" "$3" "s$c" "$seed" >"s$c/second" || return 1
	done
	for c in 0.001 1000; do
		diff -u s1/first "s$c/first" || return 1
		diff -u s1/second "s$c/second" || return 1
	done
	cat s1/first s1/second
}

@test "USD/CLP: trigger, search, validation and deployment decide the same in any unit" {
	{
		head -n 1 "$CHRONOPT_ROOT/testdata/usdclp_daily.csv"
		tail -n 480 "$CHRONOPT_ROOT/testdata/usdclp_daily.csv"
	} >usdclp.csv
	for seed in 42 7; do
		run same_decisions usdclp.csv 440 480 "$seed"
		assert_success
		# every horizon ran in both runs, and the gates were really used
		[ "${#lines[@]}" -eq 8 ]
		printf '%s\n' "${lines[@]:0:4}" | jq -e -s 'map(.[5]) == ["done","done","done","done"]'
		printf '%s\n' "${lines[@]:4:4}" | jq -e -s 'map(.[3] | map(select(.[2] == true)) | length > 1) | all'
	done
	# the first run deployed on some horizons and refused others
	jq -e -s 'map(.[6]) | (index(true) != null) and (index(false) != null)' s1/first
	[ "$(jq -s 'map(.[6]) | index(true) != null' s1/first)" = true ]
}

@test "a synthetic series (level and volatility change): the same decisions in any unit" {
	# Park-Miller generator in awk (exact in doubles), a log random walk
	# with drift whose volatility triples and level jumps 15 % at day 446,
	# between the two runs
	seq 0 479 | sed 's/.*/2024-01-01 + & days/' | date -f - +%F |
		awk 'BEGIN { x = 12345; y = 80; print "unique_id,ds,y" }
		     function u() { x = (x * 16807) % 2147483647; return x / 2147483647 }
		     { z = u() + u() + u() - 1.5; s = NR > 445 ? 0.03 : 0.01
		       if (NR == 446) y *= 1.15
		       y *= exp(0.0004 + s * z); printf "SYN,%s,%.6g\n", $1, y }' >syn.csv
	[ "$(wc -l <syn.csv)" -eq 481 ]
	for seed in 42 1234; do
		run same_decisions syn.csv 420 480 "$seed"
		assert_success
		[ "${#lines[@]}" -eq 8 ]
	done
	# the first run deployed somewhere; the change made the second run's
	# performance check fire on a deployed config, and validation judged
	# the new candidate against it
	jq -e -s 'map(.[6]) | index(true) != null' s1/first
	jq -e -s 'map(select(.[2] | index("performance"))) | length > 0 and
	          all(.[7] | map(.[0]) | index("rmse_improvement_pct") != null)' s1/second
}
