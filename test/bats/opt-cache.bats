#!/usr/bin/env bats
# opt-cache and the forecast cache behind $CHRONOPT_CACHE: results with and
# without it are the same bytes (cold and warm), a longer decode serves a
# shorter horizon, a changed model file never hits, a killed writer or a
# damaged entry is repaired, two runs share one cache, the cap holds.
# All on the bundled tiny model (the baselines are not cached).

load test_helper

SERIES="$CHRONOPT_ROOT/testdata/usdclp_daily.csv"
MODEL="$CHRONOPT_ROOT/models/chronos-demo"

setup() {
	cd "$BATS_TEST_TMPDIR"
	export CHRONOPT_CONFIG="$CHRONOPT_ROOT/configs/chronopt.json"
}

# envelope horizon steps model
envelope() {
	printf '{"schema":"chronopt/1","run_id":"test-run","seed":42,"series":{"path":"%s","id":"USDCLP","last_date":"2026-09-23","length":5916},"horizon":{"name":"%s","steps":%s},"model":{"dir":"%s"}}\n' \
		"$SERIES" "$1" "$2" "${3:-$MODEL}"
}

untimed() {
	jq -cS 'walk(if type == "object" then del(.seconds, .optimization_time_seconds) else . end)' "$@"
}

# search H STEPS [opt-search options]: a small search of the demo model
search() {
	local h=$1 steps=$2
	shift 2
	envelope "$h" "$steps" | opt-search --context-lengths 64,128 --num-samples 10,20 --temperatures 0.8,1 \
		--windows 6 --holdout 3 "$@"
}

# cstat FIELD [DIR]: one number of opt-cache stats --json
cstat() {
	opt-cache stats --json --cache "${2:-cache}" | jq -r ".$1"
}

@test "--help prints the usage on stdout; misuse exits 2" {
	run --separate-stderr opt-cache --help
	assert_success
	assert_output --partial "usage: opt-cache stats"
	run --separate-stderr opt-cache
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-cache: a command is required: stats or prune" ]
	run --separate-stderr opt-cache clear --cache c
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-cache: unknown command 'clear': stats or prune" ]
	run --separate-stderr opt-cache stats
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-cache: no cache: give --cache DIR or set CHRONOPT_CACHE" ]
	run --separate-stderr opt-cache prune --cache c --max-mb 0
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-cache: --max-mb: '0' is not an integer in 1..1048576" ]
	CHRONOPT_CACHE_MAX_MB=x run --separate-stderr opt-cache stats --cache c
	assert_failure 2
	[ "$stderr" = "opt-cache: CHRONOPT_CACHE_MAX_MB='x' is not an integer in 1..1048576" ]
}

@test "stats of a cache that does not exist yet: empty" {
	run opt-cache stats --cache nothing-here
	assert_success
	assert_line "entries     0"
	assert_line "usage       0 forecaster calls, 0 windows: 0 hits, 0 misses"
	[ ! -e nothing-here ]
}

@test "opt-search gives the same bytes without the cache, cold and warm" {
	search 7d 7 --no-cache | untimed >none.json
	[ ! -e cache ]
	search 7d 7 --cache cache | untimed >cold.json
	[ "$(cstat hits)" = 0 ]
	local misses entries
	misses=$(cstat misses) entries=$(cstat entries)
	[ "$misses" -gt 0 ] && [ "$entries" -gt 0 ]
	search 7d 7 --cache cache | untimed >warm.json
	cmp none.json cold.json
	cmp none.json warm.json
	# the warm run computed nothing and wrote nothing
	[ "$(cstat misses)" = "$misses" ] && [ "$(cstat hits)" -gt 0 ] && [ "$(cstat entries)" = "$entries" ]
	# $CHRONOPT_CACHE is the default; --no-cache wins over it
	CHRONOPT_CACHE=cache search 7d 7 | untimed | cmp - none.json
	[ "$(cstat misses)" = "$misses" ]
	local calls
	calls=$(cstat calls)
	CHRONOPT_CACHE=cache search 7d 7 --no-cache >/dev/null
	[ "$(cstat calls)" = "$calls" ]
	run opt-search --cache '' </dev/null
	assert_failure 2
}

@test "opt-backtest reads the same cache and gives the same bytes" {
	run opt-backtest --series "$SERIES" --model "$MODEL" --steps 7 --origins 8 --num-samples 10 \
		--context-length 64 --windows
	assert_success
	echo "$output" | untimed >none.json
	CHRONOPT_CACHE=cache opt-backtest --series "$SERIES" --model "$MODEL" --steps 7 --origins 8 \
		--num-samples 10 --context-length 64 --windows | untimed >cold.json
	CHRONOPT_CACHE=cache opt-backtest --series "$SERIES" --model "$MODEL" --steps 7 --origins 8 \
		--num-samples 10 --context-length 64 --windows | untimed >warm.json
	cmp none.json cold.json
	cmp none.json warm.json
	[ "$(cstat hits)" = 8 ] && [ "$(cstat misses)" = 8 ]
}

@test "a 90-step decode serves the first 30 steps of the same windows, not another num_samples" {
	# same origins: the 30-step run holds out 60 more
	bt() {
		opt-backtest --series "$SERIES" --model "$MODEL" --origins 5 --context-length 64 --windows "$@" | untimed
	}
	bt --steps 30 --holdout 60 --num-samples 20 >none30.json
	bt --steps 90 --num-samples 20 >none90.json
	CHRONOPT_CACHE=cache bt --steps 90 --num-samples 20 | cmp - none90.json
	[ "$(cstat misses)" = 5 ]
	# the first 30 steps of the 90-step paths (past prediction_length 64 too)
	CHRONOPT_CACHE=cache bt --steps 30 --holdout 60 --num-samples 20 | cmp - none30.json
	[ "$(cstat hits)" = 5 ] && [ "$(cstat misses)" = 5 ]
	CHRONOPT_CACHE=cache bt --steps 70 --holdout 20 --num-samples 20 | cmp - <(bt --steps 70 --holdout 20 --num-samples 20)
	[ "$(cstat hits)" = 10 ] && [ "$(cstat misses)" = 5 ]
	# another num_samples is a miss, and a later 90-step run still hits
	CHRONOPT_CACHE=cache bt --steps 30 --holdout 60 --num-samples 10 >/dev/null
	[ "$(cstat hits)" = 10 ] && [ "$(cstat misses)" = 10 ]
	CHRONOPT_CACHE=cache bt --steps 90 --num-samples 20 | cmp - none90.json
	[ "$(cstat hits)" = 15 ]
}

@test "a window's forecast does not depend on the other windows of the call" {
	# 70 steps past prediction_length, 80 windows: all in one call, 20 or 7 per call
	bt() {
		opt-backtest --series "$SERIES" --model "$MODEL" --steps 70 --origins 80 --num-samples 20 \
			--context-length 64 --windows "$@" | untimed
	}
	bt --batch 0 >all.json
	bt --batch 20 | cmp - all.json
	bt --batch 7 | cmp - all.json
}

@test "a changed model file never hits the old entries" {
	cp -r "$MODEL" model
	envelope 7d 7 "$PWD/model" | opt-search --context-lengths 64 --num-samples 10 --temperatures 1 \
		--windows 4 --holdout 2 --cache cache >a.json
	local misses
	misses=$(cstat misses)
	[ "$misses" -gt 0 ] && [ "$(cstat hits)" = 0 ]
	# flip the last byte of the weights (a float's low mantissa byte)
	local n
	n=$(wc -c <model/model.safetensors)
	printf '\x5a' | dd of=model/model.safetensors bs=1 seek=$((n - 1)) conv=notrunc status=none
	envelope 7d 7 "$PWD/model" | opt-search --context-lengths 64 --num-samples 10 --temperatures 1 \
		--windows 4 --holdout 2 --cache cache >b.json
	[ "$(cstat hits)" = 0 ] && [ "$(cstat misses)" = $((2 * misses)) ]
	# and the model's sha256 in the output changed with it
	[ "$(jq -r .search.model.sha256 a.json)" != "$(jq -r .search.model.sha256 b.json)" ]
}

@test "a run killed while writing an entry, or a damaged entry, leaves a cache the next run repairs" {
	search 7d 7 --no-cache | untimed >none.json
	CHRONOPT_FAIL_AT=kill:partial run search 7d 7 --cache cache
	[ "$status" -ne 0 ]
	[ "$(cstat temp_files)" = 1 ]
	search 7d 7 --cache cache | untimed | cmp - none.json
	# damage one entry: cut it short; another: flip a byte inside
	local -a f
	mapfile -t f < <(find cache/entries -type f ! -name '.*' | sort)
	[ "${#f[@]}" -ge 2 ]
	truncate -s 100 "${f[0]}"
	printf '\x01' | dd of="${f[1]}" bs=1 seek=200 conv=notrunc status=none
	local misses
	misses=$(cstat misses)
	search 7d 7 --cache cache | untimed | cmp - none.json
	[ "$(cstat misses)" -gt "$misses" ]
	search 7d 7 --cache cache | untimed | cmp - none.json
	run opt-cache prune --cache cache --verify
	assert_success
	assert_output --regexp "^removed 0 files"
	# the temp file the killed run left goes once it is ten minutes old
	touch -d '-1 hour' cache/entries/*/.*.tmp-*
	run opt-cache prune --cache cache
	assert_output --regexp "^removed 1 files"
	[ "$(cstat temp_files)" = 0 ]
}

@test "two searches at once share one cache without damage" {
	search 7d 7 --no-cache | untimed >none.json
	search 7d 7 --cache cache --jobs 2 >a.json &
	local pid=$!
	search 7d 7 --cache cache >b.json
	wait "$pid"
	untimed a.json | cmp - none.json
	untimed b.json | cmp - none.json
	run opt-cache prune --cache cache --verify
	assert_output --regexp "^removed 0 files"
	search 7d 7 --cache cache | untimed | cmp - none.json
}

@test "the cap holds: the least recently used entries are evicted" {
	bt() {
		opt-backtest --series "$SERIES" --model "$MODEL" --steps 7 --num-samples 200 \
			--context-length 64 "$@" >/dev/null
	}
	# 100 windows x 200 paths x 7 steps: about 1.1 MiB, over a 1 MiB cap
	CHRONOPT_CACHE=cache CHRONOPT_CACHE_MAX_MB=1 bt --origins 100
	[ "$(cstat bytes)" -le 1048576 ] && [ "$(cstat entries)" -gt 50 ] && [ "$(cstat entries)" -lt 100 ]
	# every entry old; then the 5 most recent windows are used again
	find cache/entries -type f -exec touch -d '-1 day' {} +
	CHRONOPT_CACHE=cache CHRONOPT_CACHE_MAX_MB=1 bt --origins 5
	[ "$(cstat hits)" = 5 ]
	local -a fresh
	mapfile -t fresh < <(find cache/entries -type f -newermt '-1 hour' | sort)
	[ "${#fresh[@]}" = 5 ]
	# 20 new windows push it over the cap: old entries go, the 5 stay
	local before
	before=$(cstat entries)
	CHRONOPT_CACHE=cache CHRONOPT_CACHE_MAX_MB=1 bt --origins 20 --holdout 200
	[ "$(cstat bytes)" -le 1048576 ]
	[ "$(cstat entries)" -le "$before" ]
	for f in "${fresh[@]}"; do [ -f "$f" ]; done
	[ "$(find cache/entries -type f -newermt '-1 hour' | wc -l)" = 25 ]
	# opt-cache prune to the same cap has nothing left to do
	run opt-cache prune --cache cache --max-mb 1
	assert_output --regexp "^removed 0 files"
}

@test "pipeline.sh cache stats reads the workspace cache; --no-cache and a bad cap are refused" {
	local P="$CHRONOPT_ROOT/pipeline.sh"
	run "$P" --cache "$PWD/c" cache stats
	assert_success
	assert_line "entries     0"
	run "$P" --no-cache cache stats
	assert_failure 2
	run "$P" --cache-max-mb x cache stats
	assert_failure 2
	assert_output --partial "cache cap 'x' is not an integer"
}

@test "the examples of opt-cache(1) run: the second search is all hits" {
	cp -r "$CHRONOPT_ROOT/testdata" "$CHRONOPT_ROOT/models" .
	sed -n '/^\.EX/,/^\.EE/p' "$CHRONOPT_ROOT/man/man1/opt-cache.1" | grep -v '^\.E[XE]' | sed 's/\\-/-/g' >ex.sh
	run bash -e ex.sh
	assert_success
	assert_line "usage       2 forecaster calls, 8 windows: 4 hits, 4 misses (50.0 % hits)"
	assert_line --regexp "^removed 0 files; 4 entries"
}

@test "a week later (5 new observations) the search re-scores only the windows that are new on the grid" {
	head -n -5 "$SERIES" >week1.csv
	env_of() { # CSV
		printf '{"schema":"chronopt/1","run_id":"test-run","seed":42,"series":{"path":"%s","id":"USDCLP","last_date":"%s","length":%s},"horizon":{"name":"7d","steps":7},"model":{"dir":"%s"}}\n' \
			"$1" "$(tail -n 1 "$1" | cut -d, -f2)" "$(($(wc -l <"$1") - 1))" "$MODEL"
	}
	s() { opt-search --context-lengths 64,128 --num-samples 10 --temperatures 0.8,1 --windows 6 --stride 3 \
		--holdout 5 --cache cache; }
	env_of week1.csv | s >w1.json
	local m1
	m1=$(cstat misses)
	[ "$m1" = 24 ] # 6 windows x 4 (context, temperature) pairs
	env_of "$SERIES" | s >w2.json
	jq -r '.search.windows[].origin' w1.json >o1
	jq -r '.search.windows[].origin' w2.json >o2
	# both grids are t = 0 mod 3, and the search moved 3 or 6 observations on
	awk '$1 % 3 { exit 1 }' o1 o2
	new=$(grep -cvxFf o1 o2)
	[ "$new" -ge 1 ] && [ "$new" -le 2 ]
	[ "$(cstat misses)" = $((m1 + 4 * new)) ]
	[ "$(cstat hits)" = $((4 * (6 - new))) ]
}
