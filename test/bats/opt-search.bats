#!/usr/bin/env bats
# opt-search: the search section, the split, reuse figures, skip pass-through,
# bad input, determinism, --jobs, plan | parallel run-unit | reduce, partial.

load test_helper

SERIES="$CHRONOPT_ROOT/testdata/usdclp_daily.csv"

setup() {
	cd "$BATS_TEST_TMPDIR"
	export CHRONOPT_CONFIG="$CHRONOPT_ROOT/configs/chronopt.json"
}

# The production settings with consecutive origins (stride 1), for the
# tests whose fixtures are about something else than the origin grid.
consecutive() {
	jq '.search.stride = 1 | .validate.stride = 1' "$CHRONOPT_ROOT/configs/chronopt.json" >consecutive.json
	export CHRONOPT_CONFIG="$PWD/consecutive.json"
}

# envelope horizon steps model [extra JSON members]
envelope() {
	printf '{"schema":"chronopt/1","run_id":"test-run","seed":42,"series":{"path":"%s","id":"USDCLP","last_date":"2026-09-23","length":5916},"horizon":{"name":"%s","steps":%s},"model":{"dir":"%s"}%s}\n' \
		"$SERIES" "$1" "$2" "$3" "${4:-}"
}

# Drop the timing fields, the only ones allowed to differ between runs.
untimed() {
	jq -cS 'walk(if type == "object" then del(.seconds, .optimization_time_seconds) else . end)' "$@"
}

@test "--help prints the usage on stdout and exits 0" {
	run --separate-stderr opt-search --help
	assert_success
	assert_output --partial "usage: opt-search [options]"
	[ -z "$stderr" ]
}

@test "misuse exits 2 with a message on stderr" {
	run --separate-stderr opt-search --bogus
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-search: unknown option or missing argument '--bogus'" ]
	run --separate-stderr opt-search --method annealing
	assert_failure 2
	[ "$stderr" = "opt-search: --method: 'annealing' is not grid, random, halving or tpe
Try 'opt-search --help'." ]
	run --separate-stderr opt-search --jobs 0
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-search: --jobs: '0' is not an integer in 1..256" ]
	run --separate-stderr opt-search --plan --reduce
	assert_failure 2
	[ "$stderr" = "opt-search: --plan, --run-unit and --reduce exclude each other" ]
	run --separate-stderr opt-search --plan --method halving
	assert_failure 2
	[ "$stderr" = "opt-search: --plan does not support --method halving (its later trials depend on earlier results)" ]
	run --separate-stderr opt-search --temperatures 1,,2 < <(envelope 7d 7 drift)
	assert_failure 2
	[ "$stderr" = "opt-search: --temperatures: '1,,2' is not a comma-separated list of numbers" ]
}

@test "bad option values are usage errors (2) up front, even with no input line" {
	run --separate-stderr opt-search --num-samples 0 < <(envelope 7d 7 drift)
	assert_failure 2
	[ "${stderr_lines[0]}" = 'opt-search: --num-samples: "num_samples" value 0 is not in [1, 100000]' ]
	[ -z "$output" ]
	run --separate-stderr opt-search --top-p 1,1 </dev/null
	assert_failure 2
	[ "${stderr_lines[0]}" = 'opt-search: --top-p: "top_p" lists 1 twice' ]
	run --separate-stderr opt-search --temperatures 1,,2 </dev/null
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-search: --temperatures: '1,,2' is not a comma-separated list of numbers" ]
	run --separate-stderr opt-search --model bogus </dev/null
	assert_failure 2
	[[ "${stderr_lines[0]}" == "opt-search: unknown model 'bogus'"* ]]
}

@test "the 7d grid scores 27 configs on 30 windows before the held-out origins" {
	envelope 7d 7 drift ',"extra":{"kept":[1,2]}' >env
	run --separate-stderr opt-search <env
	assert_success
	[ -z "$stderr" ]
	echo "$output" >out
	[ "$(jq -c .extra out)" = '{"kept":[1,2]}' ]
	[ "$(jq -r '.search | [.status, .method, .seed, (.trials | length), (.windows | length)] | @tsv' out)" = "done	grid	42	27	30" ]
	# The split: the 30 validation origins are the 30 most recent ones; the
	# search ends 7 observations before the first of them.
	[ "$(jq -r '.search.split | [.first_search_date, .last_search_date, .first_holdout_date, .last_holdout_date, .gap, .stride, .holdout_stride] | @tsv' out)" = "2025-06-25	2026-01-27	2026-02-10	2026-09-08	7	5	5" ]
	# origins one week (5 observations) apart, on the grid of multiples of 5:
	# the last usable origin is 5916 - 7 = 5909, on the grid 5905, the first
	# held out 29 strides before it, the last searched 7 observations (on
	# the grid: 2 strides) before that
	[ "$(jq -r '.search.windows[-1].origin' out)" = $((5905 - 29 * 5 - 2 * 5)) ]
	jq -e '[.search.windows[].origin] | all(. % 5 == 0) and (. as $o | [range(1; length) | $o[.] - $o[. - 1]] | all(. == 5))' out
	# Reuse: one call per (context, temperature), 200 paths, prefixes for 50/100.
	[ "$(jq -c '.search.reuse | [.calls, .independent_calls, .sample_steps, .independent_sample_steps]' out)" = "[9,27,378000,661500]" ]
	# Every trial has metrics and its ratio to the random walk on the same windows.
	[ "$(jq '[.search.trials[] | select(.metrics.rmse > 0 and .rmse_vs_rw > 0 and .windows == 30)] | length' out)" = 27 ]
	[ "$(jq '.search.random_walk.rmse > 0' out)" = true ]
	# Drift's point forecast depends on the context only; the best is the
	# lowest RMSE, first in grid order on ties.
	best=$(jq -c '[.search.trials[] | {t: .trial, r: .metrics.rmse}] | min_by([.r, .t]) | .t' out)
	[ "$(jq .search.best.trial out)" = "$best" ]
	[ "$(jq -r '.search.summary' out)" = "$(jq -r '.search.best.config | "best of 27 configs: context_length \(.context_length), num_samples \(.num_samples), temperature \(.temperature): RMSE " ' out)$(jq -r '.search.summary | capture("RMSE (?<r>.*)$").r' out)" ]
	# The candidate is the seed's config format.
	[ "$(jq -c '.search.candidate | keys' out)" = '["context_length","horizon","model","num_samples","optimization_time_seconds","run_id","search_iterations","seed","temperature","timestamp","top_k","top_p","validation_mae","validation_mape","validation_rmse"]' ]
	[ "$(jq -c '.search.candidate | [.horizon, .search_iterations, .timestamp, .run_id, .seed, .model]' out)" = '["7d",27,"2026-11-23T02:00:00Z","test-run",42,{"dir":"drift","sha256":null}]' ]
	[ "$(jq '.search.candidate.validation_rmse == .search.best.metrics.rmse and .search.candidate.context_length == .search.best.config.context_length' out)" = true ]
	[ "$(jq -c .model out)" = '{"dir":"drift","sha256":null}' ]
}

@test "same seed, same input: identical output apart from timings" {
	envelope 7d 7 drift >env
	envelope 15d 15 seasonal_naive >>env
	opt-search <env | untimed >a
	opt-search <env | untimed >b
	cmp a b
	[ "$(wc -l <a)" = 2 ]
	opt-search --seed 7 --method random --trials 4 <env | untimed >c
	opt-search --seed 7 --method random --trials 4 <env | untimed >d
	cmp c d
	opt-search --seed 8 --method random --trials 4 <env | untimed >e
	! cmp -s c e
}

@test "--jobs 3 gives the same output as one process" {
	envelope 7d 7 drift >env
	opt-search <env | untimed >one
	opt-search --jobs 3 <env | untimed >three
	cmp one three
	opt-search --method halving <env | untimed >h1
	opt-search --method halving --jobs 2 <env | untimed >h2
	cmp h1 h2
}

@test "plan | parallel run-unit | reduce gives the same output as one run" {
	envelope 7d 7 drift >env
	printf '{"schema":"chronopt/1","run_id":"test-run","seed":1,"horizon":{"name":"30d","steps":30},"trigger":{"status":"done","should_optimize":false,"summary":"quiet"}}\n' >>env
	envelope 15d 15 random_walk >>env
	opt-search --batch 10 <env | untimed >single
	opt-search --plan --batch 10 <env >units
	# 7d: 3 random-walk batches + 9 groups x 3 batches; 30d: 1 skip; 15d: 3 + 27
	[ "$(wc -l <units)" = $((30 + 1 + 30)) ]
	parallel --pipe -N1 opt-search --run-unit <units >results
	# results arrive in any order; shuffle them on purpose
	shuf --random-source=<(yes) results | opt-search --reduce | untimed >split
	cmp single split
	[ "$(jq -r '.search.status' split | tr '\n' ' ')" = "done skipped done " ]
}

@test "--run-unit and --reduce reject what is not theirs" {
	envelope 7d 7 drift >env
	opt-search --plan <env >units
	run --separate-stderr opt-search --reduce <units
	assert_failure 3
	[ "$stderr" = 'opt-search: <stdin>:1: expected a line with "schema":"chronopt-search-result/1"' ]
	opt-search --run-unit <units >results
	sed 1d results >some
	run --separate-stderr opt-search --reduce <some
	assert_failure 3
	[ "$stderr" = "opt-search: <stdin>: envelope 1: 1 of 10 unit results missing" ]
	cat results results >twice
	run --separate-stderr opt-search --reduce <twice
	assert_failure 3
	[ "$stderr" = "opt-search: <stdin>: envelope 1: unit 0 appears twice" ]
	opt-search --plan --seed 5 <env | opt-search --run-unit | sed -n 2p >other
	{ sed 2d results; cat other; } >mixed
	run --separate-stderr opt-search --reduce <mixed
	assert_failure 3
	[ "$stderr" = "opt-search: <stdin>: envelope 1: results come from different plans" ]
	# run-unit checks the series it is given against the plan
	head -c 100000 "$SERIES" | head -n -1 >short.csv
	sed "s|$SERIES|$PWD/short.csv|g" units | sed -n 2p >moved
	run --separate-stderr opt-search --run-unit <moved
	assert_failure 3
	[ "$stderr" = "opt-search: <stdin>:1: $PWD/short.csv: series changed since the envelope was made (length 5916, now $(($(wc -l <short.csv) - 1)))" ]
	sed 's/"units":10/"units":11/' results >lying
	run --separate-stderr opt-search --reduce <lying
	assert_failure 3
	[ "$stderr" = "opt-search: <stdin>: envelope 1: 1 of 11 unit results missing" ]
}

@test "a line an earlier stage stopped is passed through with the search skipped" {
	printf '{"schema":"chronopt/1","run_id":"r","seed":1,"horizon":{"name":"7d","steps":7},"trigger":{"status":"done","should_optimize":false,"summary":"no degradation"},"x":[1]}\n' >env
	run --separate-stderr opt-search <env
	assert_success
	[ "$(echo "$output" | jq -c '[.search, .x, .trigger.summary]')" = '[{"status":"skipped","reason":"not triggered: no degradation"},[1],"no degradation"]' ]
}

@test "bad input: messages and exit codes, earlier lines written" {
	envelope 7d 7 drift >env
	echo '{"schema":"chronopt/1", oops' >>env
	run --separate-stderr opt-search <env
	assert_failure 3
	[ "${#lines[@]}" = 1 ]
	[ "$stderr" = "opt-search: <stdin>:2: invalid JSON near column 26" ]

	printf '{"schema":"chronopt/1","run_id":"r","seed":1,"series":{"path":"%s","id":"USDCLP","last_date":"2026-09-23","length":5916},"horizon":{"name":"7d","steps":7}}\n' "$SERIES" >env
	run --separate-stderr opt-search <env
	assert_failure 3
	[ "$stderr" = 'opt-search: <stdin>:1: envelope has no "model"."dir" (give --model)' ]

	envelope 7d 7 drift | sed 's/"length":5916/"length":5000/' >env
	run --separate-stderr opt-search <env
	assert_failure 3
	[ "$stderr" = "opt-search: $SERIES: series changed since the envelope was made (length 5000, now 5916)" ]

	# a bad model name from the envelope is bad input, not a bad command line
	envelope 7d 7 no_such_model >env
	run --separate-stderr opt-search <env
	assert_failure 3
	[[ "$stderr" == "opt-search: <stdin>:1: unknown model 'no_such_model'"* ]]

	echo '{"search":{"origins":0}}' >bad.json
	envelope 7d 7 drift >env
	run --separate-stderr opt-search --config bad.json <env
	assert_failure 3
	[ -z "$output" ]
}

# One line per horizon: the first is searched, the second cannot run.
two_lines() {
	envelope 15d 15 drift >env
	envelope "$1" "$2" drift >>env
}

@test "a horizon that cannot run fails alone: its line carries the error, the others are searched, exit 7" {
	consecutive
	two_lines 3d 3
	run --separate-stderr opt-search --windows 5 <env
	assert_failure 7
	[ "${#lines[@]}" = 2 ]
	[ "$(echo "${lines[0]}" | jq -r .search.status)" = done ]
	[ "$(echo "${lines[1]}" | jq -c '[.search.status, .search.exit, .search.reason]')" = "[\"error\",3,\"no search space for horizon '3d': set search.spaces.3d in the settings or give --context-lengths\"]" ]
	[ "$stderr" = "opt-search: <stdin>:2: horizon '3d' failed, the others go on: no search space for horizon '3d': set search.spaces.3d in the settings or give --context-lengths" ]

	# a series too short for this horizon's windows
	{ head -n 1 "$SERIES"; tail -n 200 "$SERIES"; } >short.csv
	two_lines 90d 90
	sed -i "s|$SERIES|$PWD/short.csv|; s/5916/200/" env
	run --separate-stderr opt-search --windows 5 --context-lengths 30 <env
	assert_failure 7
	[ "$(echo "${lines[0]}" | jq -r .search.status)" = done ]
	[ "$(echo "${lines[1]}" | jq -r .search.reason)" = "$PWD/short.csv: not enough observations for 5 search windows of 90 steps with context 30 after 30 held-out origins: need 243, have 200" ]

	# a bad search space in the settings, for this horizon only
	echo '{"search":{"spaces":{"15d":{"context_length":[30]},"7d":{"temperature":[1,0]}}}}' >bad.json
	two_lines 7d 7
	run --separate-stderr opt-search --windows 5 --config bad.json <env
	assert_failure 7
	[ "$(echo "${lines[0]}" | jq -r .search.status)" = done ]
	[ "$(echo "${lines[1]}" | jq -r .search.reason)" = 'search space: "temperature" value 0 is not in (0, 100]' ]
	echo '{"search":{"spaces":{"15d":{"context_length":[30]},"7d":{"temprature":[1]}}}}' >bad.json
	run --separate-stderr opt-search --windows 5 --config bad.json <env
	assert_failure 7
	[ "$(echo "${lines[1]}" | jq -r .search.reason)" = "bad.json: search.spaces.7d: unknown key 'temprature'" ]

	# plan | run-unit | reduce carries the failure the same way
	opt-search --windows 5 --config bad.json --plan <env >units 2>/dev/null && false || [ $? = 7 ]
	opt-search --run-unit <units >results
	opt-search --reduce <results >reduced && false || [ $? = 7 ]
	opt-search --windows 5 --config bad.json <env >direct 2>/dev/null || true
	cmp <(untimed reduced) <(untimed direct)

	# the next stage passes the failure on (rule 2) and says partly failed too
	run --separate-stderr opt-validate --config-dir "$BATS_TEST_TMPDIR/none" <direct
	assert_failure 7
	[ "$(echo "${lines[1]}" | jq -c '.validation | del(.seconds)')" = "{\"status\":\"skipped\",\"reason\":\"search error: bad.json: search.spaces.7d: unknown key 'temprature'\"}" ]
	[ -z "$stderr" ]
}

@test "spaces and the split come from the settings file and options" {
	echo '{"search":{"origins":12,"stride":3,"spaces":{"7d":{"context_length":[60,120],"num_samples":[20,40],"temperature":[1],"top_p":[0.9,1]}}},"validate":{"validation_origins":10}}' >s.json
	envelope 7d 7 drift >env
	run --separate-stderr opt-search --config s.json <env
	assert_success
	echo "$output" >out
	[ "$(jq -c '.search | [(.trials | length), .split.search_origins, .split.stride, .split.holdout_origins, .space.top_p]' out)" = "[8,12,3,10,[0.9,1]]" ]
	# 5916 - 7 - 9 - 7 = 5893, down to the grid t = 0 mod 3
	[ "$(jq -r '.search.windows[-1].origin' out)" = 5892 ]
	run --separate-stderr opt-search --config s.json --holdout 0 --context-lengths 30 --top-k 0,5 <env
	assert_success
	[ "$(echo "$output" | jq -c '.search | [(.trials | length), .split.holdout_origins, .split.first_holdout_date, .windows[-1].origin]')" = "[8,0,null,5907]" ]
}

@test "random and halving searches" {
	envelope 7d 7 drift >env
	run --separate-stderr opt-search --method random --trials 5 <env
	assert_success
	[ "$(echo "$output" | jq -c '.search | [.method, (.trials | length), .trials_planned, .candidate.search_iterations]')" = '["random",5,5,5]' ]
	run --separate-stderr opt-search --method halving <env
	assert_success
	echo "$output" >out
	[ "$(jq -c '.search.halving' out)" = '{"eta":3,"rungs":[{"configs":27,"windows":4},{"configs":9,"windows":10},{"configs":3,"windows":30}]}' ]
	[ "$(jq -c '[.search.trials[] | .windows] | group_by(.) | map([.[0], length])' out)" = "[[4,18],[10,6],[30,3]]" ]
	[ "$(jq '.search.best.windows' out)" = 30 ]
}

@test "--max-seconds 0 stops after the first config group, marked partial" {
	envelope 7d 7 drift >env
	run --separate-stderr opt-search --max-seconds 0 <env
	assert_success
	echo "$output" >out
	[ "$(jq -r '.search.status' out)" = partial ]
	[ "$(jq -c '[.search.trials[] | .trial]' out)" = "[0,3,6]" ]
	[ "$(jq -r '.search.reasons[-1]' out)" = "stopped by --max-seconds after 2 of 10 units: 3 of 27 configs scored" ]
	[ "$(jq '.search.candidate.search_iterations' out)" = 3 ]
	opt-search --max-seconds 0 <env | untimed >a
	opt-search --max-seconds 0 <env | untimed >b
	cmp a b
}

@test "no progress output when stderr is not a terminal" {
	envelope 7d 7 drift >env
	run --separate-stderr opt-search <env
	assert_success
	[ -z "$stderr" ]
}

@test "the man page examples run" {
	envelope 7d 7 drift >env
	# Each .nf/.fi block of EXAMPLES that reads "env", as a shell command.
	sed -n '/^\.SH EXAMPLES/,/^\.SH SEE ALSO/p' "$CHRONOPT_ROOT/man/man1/opt-search.1" |
		awk '/^\.nf/{b="";on=1;next} /^\.fi/{on=0; if (b ~ /< env/) print b; next} on{b=b $0 "\n"}' |
		sed -e 's/\\-/-/g' -e 's/\\e$/\\/' >examples.txt
	[ "$(grep -c 'opt-search' examples.txt)" -ge 2 ]
	n=0
	awk 'BEGIN{RS=""} {print > ("example-" NR ".sh")}' examples.txt
	for ex in example-*.sh; do
		rm -f out
		bash -eo pipefail "$ex"
		[ "$(jq -r .search.status out)" = done ]
		n=$((n + 1))
	done
	[ "$n" = 4 ]
	opt-search --plan <env | parallel --pipe -N1 opt-search --run-unit | opt-search --reduce | untimed >a
	opt-search <env | untimed >b
	cmp a b
}

@test "a Chronos checkpoint directory: effective context, warnings, sha256, prefix horizon" {
	M="$CHRONOPT_ROOT/testdata/chronos/relu-tied" # max_context 64, prediction_length 8
	envelope 7d 7 "$M" >env
	run --separate-stderr opt-search --windows 5 --num-samples 10,20 <env
	assert_success
	echo "$output" >out
	[ "$stderr" = "opt-search: warning: 7d: context_length 90 is longer than the model's max_context 64: configs with it are scored with the last 64 observations
opt-search: warning: 7d: context_length 180 is longer than the model's max_context 64: configs with it are scored with the last 64 observations
opt-search: warning: 7d: context_length 270 is longer than the model's max_context 64: configs with it are scored with the last 64 observations" ]
	[ "$(jq '.search.warnings | length' out)" = 3 ]
	sha=$(sha256sum "$M/model.safetensors" | cut -d' ' -f1)
	[ "$(jq -r .model.sha256 out)" = "$sha" ]
	[ "$(jq -r .search.candidate.model.sha256 out)" = "$sha" ]
	[ "$(jq -c '[.search.trials[] | .config | [.context_length, .effective_context]] | unique' out)" = "[[90,64],[180,64],[270,64]]" ]
	[ "$(jq .search.candidate.context_length out)" = 64 ]
	[ "$(jq -c '.search.model | [.max_context, .prefix_horizon, .threads]' out)" = "[64,8,1]" ]
	# every context is cut to 64: one call per temperature serves all 18 configs
	[ "$(jq -c '.search.reuse | [.calls, .independent_calls]' out)" = "[3,18]" ]
	# 15 steps go past prediction_length 8: each num_samples gets its own call
	envelope 15d 15 "$M" >env15
	run --separate-stderr opt-search --windows 5 --num-samples 10,20 --context-lengths 32,64 <env15
	assert_success
	[ -z "$stderr" ]
	[ "$(echo "$output" | jq -c '.search.reuse | [.calls, .independent_calls, .sample_step_ratio]')" = "[12,12,1]" ]
	# and the split run gives the same output
	cat env env15 >both
	opt-search --windows 5 --num-samples 10,20 <both 2>/dev/null | untimed >single
	opt-search --plan --windows 5 --num-samples 10,20 <both 2>/dev/null |
		parallel --pipe -N1 opt-search --run-unit | opt-search --reduce | untimed >split
	cmp single split
	# (--jobs never changes a result; OpenBLAS threads may, see opt-search(1))
	opt-search --jobs 2 --windows 5 --num-samples 10,20 <both 2>/dev/null |
		untimed | jq -c 'del(.search.model.threads)' >jobs2
	jq -c 'del(.search.model.threads)' single | cmp - jobs2
}

@test "a full stdout is exit 4 with exactly one message" {
	envelope 7d 7 drift >env
	run --separate-stderr bash -c "opt-search <env >/dev/full"
	assert_failure 4
	assert_equal "$stderr" "opt-search: error writing envelope: No space left on device"
}

@test "a Chronos-2 directory searches context_length only; a space naming a sampling setting is refused saying why" {
	C="$CHRONOPT_ROOT/testdata/chronos2/tiny" # max_context 32, levels 0.01..0.99
	envelope 7d 7 "$C" >env
	jq '.search.spaces = {"7d": {"context_length": [16, 32]}}' "$CHRONOPT_ROOT/configs/chronopt.json" >c2.json
	run --separate-stderr opt-search --config c2.json --windows 4 <env
	assert_success
	[ -z "$stderr" ]
	echo "$output" >out
	jq -e '.search.model.family == "chronos-2"' out
	[ "$(jq -c '[.search.trials[].config.context_length]' out)" = "[16,32]" ]
	# levels 0.01 ... 0.99 hold no 0.025 / 0.975: no 95 % interval, the 80 % one from 0.1 / 0.9
	jq -e 'all(.search.trials[].metrics; .cov95 == null and .cov80 != null and .crps > 0)' out
	jq '.search.spaces = {"7d": {"context_length": [16], "temperature": [0.5, 1]}}' "$CHRONOPT_ROOT/configs/chronopt.json" >c2t.json
	run --separate-stderr opt-search --config c2t.json --windows 4 <env
	assert_failure
	[[ "$stderr" == *"chronos-2 is a quantile model: it draws no samples"* ]]
}

@test "a Chronos-Bolt directory searches context_length only; a space naming a sampling setting is refused saying why" {
	B="$CHRONOPT_ROOT/testdata/bolt/tiny" # max_context 64, levels 0.1..0.9
	envelope 7d 7 "$B" >env
	jq '.search.spaces = {"7d": {"context_length": [32, 64]}}' "$CHRONOPT_ROOT/configs/chronopt.json" >bolt.json
	run --separate-stderr opt-search --config bolt.json --windows 5 <env
	assert_success
	[ -z "$stderr" ]
	echo "$output" >out
	jq -e '.search.model.family == "chronos-bolt" and .search.model.prefix_horizon == 0' out
	jq -e '.search.space == {"context_length":[32,64],"num_samples":[1],"temperature":[1],"top_k":[0],"top_p":[1]}' out
	[ "$(jq -c '[.search.trials[].config.context_length]' out)" = "[32,64]" ]
	jq -e 'all(.search.trials[].metrics; .cov95 == null and .cov80 != null and .crps > 0)' out
	jq -e '.search.summary | test("^best of 2 configs: context_length (32|64) \\(chronos-bolt: quantiles, median as the point\\): RMSE ")' out
	# the split run gives the same output
	opt-search --config bolt.json --windows 5 <env | untimed >single
	opt-search --config bolt.json --plan --windows 5 <env | parallel --pipe -N1 opt-search --run-unit |
		opt-search --reduce | untimed >split
	cmp single split
	# the production settings name num_samples for 7d: bad input for a quantile model
	run --separate-stderr opt-search --windows 5 <env
	assert_failure 3
	[ "$stderr" = "opt-search: $CHRONOPT_ROOT/configs/chronopt.json: search.spaces.7d.num_samples: chronos-bolt is a quantile model: it draws no samples, so num_samples, temperature, top_k and top_p do not apply (name only context_length in its search space)" ]
	# a sampling option is a usage error, up front with --model
	for o in "--num-samples 5" "--temperatures 0.9" "--top-k 5" "--top-p 0.5"; do
		run --separate-stderr opt-search --config bolt.json --model "$B" $o <env
		assert_failure 2
		[ "$stderr" = "opt-search: ${o%% *}: chronos-bolt is a quantile model: it draws no samples, so num_samples, temperature, top_k and top_p do not apply (search context_length only)" ]
		[ -z "$output" ]
	done
}

# TPE: the demo model on a small space, few windows (fast).
tpe_env() {
	envelope 7d 7 "$CHRONOPT_ROOT/models/chronos-demo" >env
}
TPE_SPACE=(--windows 6 --holdout 5 --context-lengths 32,64,128 --num-samples 10,20 --temperatures 0.7,0.8,0.9,1.0,1.1)

@test "tpe: the budget counts configs scored, each a config of the space, the best a completed one" {
	tpe_env
	run --separate-stderr opt-search --method tpe --trials 14 "${TPE_SPACE[@]}" <env
	assert_success
	echo "$output" >out
	[ "$(jq -r .search.method out)" = tpe ]
	[ "$(jq -r .search.status out)" = done ]
	[ "$(jq .search.tpe.budget out)" = 14 ]
	[ "$(jq -r .search.tpe.stopped out)" = budget ]
	[ "$(jq .search.tpe.configs out)" = 14 ]
	[ "$(jq '.search.tpe.sequence | length' out)" = "$(jq .search.tpe.trials out)" ]
	# Repeated suggestions are free: trials = distinct configs + repeats.
	[ "$(jq '.search.tpe.configs + .search.tpe.repeated' out)" = "$(jq .search.tpe.trials out)" ]
	[ "$(jq '.search.tpe.sequence | unique | length' out)" = 14 ]
	[ "$(jq '.search.trials | length' out)" = "$(jq .search.tpe.configs out)" ]
	[ "$(jq '[.search.trials[].config | [.context_length, .num_samples, .temperature]] | unique | length' out)" = "$(jq .search.tpe.configs out)" ]
	jq -e '.search.trials | all(.config.context_length as $c | [32,64,128] | index($c) != null)' out
	jq -e '.search.trials | all(.config.temperature as $t | [0.7,0.8,0.9,1.0,1.1] | index($t) != null)' out
	# Pruned trials stop at the pruning windows; the best is the lowest RMSE of the completed.
	jq -e '.search.tpe.prune_windows == 2 and (.search.trials | all(if .pruned then .windows == 2 else .windows == 6 end))' out
	[ "$(jq '[.search.trials[] | select(.pruned)] | length' out)" = "$(jq .search.tpe.pruned out)" ]
	[ "$(jq '[.search.trials[] | select(.pruned | not)] | min_by(.metrics.rmse) | .trial' out)" = "$(jq .search.best.trial out)" ]
}

@test "tpe: seeded and deterministic, the same with any --jobs; another seed, another sequence" {
	tpe_env
	opt-search --method tpe --trials 12 "${TPE_SPACE[@]}" <env | untimed >a
	opt-search --method tpe --trials 12 --jobs 2 "${TPE_SPACE[@]}" <env | untimed >b
	cmp <(jq -S 'del(.search.candidate.timestamp)' a) <(jq -S 'del(.search.candidate.timestamp)' b)
	opt-search --method tpe --trials 12 --seed 7 "${TPE_SPACE[@]}" <env | untimed >c
	[ "$(jq -c .search.tpe.sequence a)" != "$(jq -c .search.tpe.sequence c)" ] ||
		[ "$(jq -c '[.search.trials[].config]' a)" != "$(jq -c '[.search.trials[].config]' c)" ]
}

@test "tpe: a budget larger than the space scores each config once and says the space is exhausted" {
	# (How well TPE searches is measured in test/unit/test_tpe.c against
	# random search, and in make bench against the exhaustive grid.)
	tpe_env
	opt-search --method tpe --trials 30 --windows 6 --holdout 5 --context-lengths 64 \
		--num-samples 10 --temperatures 0.05,0.6,0.8,1.0 --seed 3 <env >out
	[ "$(jq '.search.trials | length' out)" = 4 ]
	[ "$(jq .search.tpe.budget out)" = 30 ]
	[ "$(jq -r .search.tpe.stopped out)" = "space exhausted" ]
	[ "$(jq '.search.tpe.sequence | unique' -c out)" = "[0,1,2,3]" ]
	opt-search --method grid --windows 6 --holdout 5 --context-lengths 64 \
		--num-samples 10 --temperatures 0.05,0.6,0.8,1.0 --seed 3 <env >grid
	# Same configs, same windows, same seed: the same scores as the grid.
	[ "$(jq -c '[.search.trials[] | select(.pruned | not) | [.config.temperature, .metrics.rmse]] | sort' out)" = \
	  "$(jq -c --slurpfile t out '[.search.trials[] | [.config.temperature, .metrics.rmse] | select(.[0] as $x | $t[0].search.trials | any(.config.temperature == $x and (.pruned | not)))] | sort' grid)" ]
}

@test "tpe: ranges from the settings, sampled inside them; grid refuses a range without a step" {
	tpe_env
	jq '.search.spaces["7d"] = {"context_length":{"low":16,"high":128,"step":16},"num_samples":[10],"temperature":{"low":0.5,"high":1.5},"top_k":[0],"top_p":[1.0]}' \
		"$CHRONOPT_ROOT/configs/chronopt.json" >settings.json
	run --separate-stderr opt-search --config settings.json --method tpe --trials 12 --windows 6 --holdout 5 <env
	assert_success
	echo "$output" >out
	jq -e '.search.space.temperature == {"low":0.5,"high":1.5,"log":false}' out
	jq -e '.search.trials | all(.config.temperature >= 0.5 and .config.temperature <= 1.5)' out
	jq -e '.search.trials | all(.config.context_length % 16 == 0 and .config.context_length >= 16 and .config.context_length <= 128)' out
	# Not only the list-like values: a continuous range gives other temperatures.
	jq -e '[.search.trials[].config.temperature] | any(. * 10 | . != floor)' out
	cp settings.json before.json
	run --separate-stderr opt-search --config settings.json --method grid --windows 6 --holdout 5 <env
	assert_failure 7
	[[ $stderr == *'"temperature" is a range without a step: only --method tpe samples it'* ]]
	[ "$(jq -r .search.status <<<"$output")" = error ]
	cmp settings.json before.json
	# A range with a step is its list for grid.
	jq '.search.spaces["7d"].temperature = {"low":0.8,"high":1.0,"step":0.1}' settings.json >s2.json
	run --separate-stderr opt-search --config s2.json --method grid --windows 6 --holdout 5 <env
	assert_success
	[ "$(jq .search.trials_planned <<<"$output")" = 24 ]
}

@test "tpe: bad ranges and settings are refused with the reason" {
	tpe_env
	for bad in '{"low":2,"high":1}' '{"low":0,"high":1,"log":true}' '{"low":1}' '{"low":0.5,"high":1,"steps":1}' '{"low":0.5,"high":1.5,"step":0.3}'; do
		jq --argjson b "$bad" '.search.spaces["7d"].temperature = $b' "$CHRONOPT_ROOT/configs/chronopt.json" >s.json
		run --separate-stderr opt-search --config s.json --method tpe --trials 12 --windows 6 --holdout 5 <env
		assert_failure 7
		[[ $stderr == *"search.spaces.7d"* || $stderr == *"temperature"* ]]
	done
	for kv in 'prune_fraction=1' 'tpe_batch=0' 'tpe_candidates=0'; do
		jq --arg k "${kv%%=*}" --argjson v "${kv#*=}" '.search[$k] = $v' "$CHRONOPT_ROOT/configs/chronopt.json" >s.json
		run --separate-stderr opt-search --config s.json --method tpe <env
		assert_failure 3
		[[ $stderr == *"search.${kv%%=*}"* ]]
		[ -z "$output" ]
	done
	run --separate-stderr opt-search --plan --method tpe <env
	assert_failure 2
	[ "$stderr" = "opt-search: --plan does not support --method tpe (its later trials depend on earlier results)" ]
}

@test "tpe: prune_fraction 0 scores every trial on every window" {
	tpe_env
	jq '.search.prune_fraction = 0' "$CHRONOPT_ROOT/configs/chronopt.json" >s.json
	opt-search --config s.json --method tpe --trials 12 "${TPE_SPACE[@]}" <env >out
	[ "$(jq .search.tpe.pruned out)" = 0 ]
	jq -e '.search.trials | all(.windows == 6 and (.pruned | not))' out
}

@test "tpe: --max-seconds 0 stops after the first batch, partial" {
	tpe_env
	opt-search --method tpe --trials 12 --max-seconds 0 "${TPE_SPACE[@]}" <env >out
	[ "$(jq -r .search.status out)" = partial ]
	[ "$(jq .search.tpe.configs out)" -lt 12 ]
	[ "$(jq .search.tpe.configs out)" -ge 1 ]
	[ "$(jq -r .search.tpe.stopped out)" = max-seconds ]
}

@test "objectives rmse,cost: the Pareto front is non-dominated and the candidate is its cheapest config within the tolerance" {
	consecutive
	tpe_env
	run --separate-stderr opt-search --objectives rmse,cost --windows 6 --holdout 5 \
		--context-lengths 32,64,128 --num-samples 10,20 --temperatures 0.8,1.0 <env
	assert_success
	echo "$output" >out
	jq -e '.search.pareto.objectives == ["rmse","cost"] and .search.pareto.tolerance_pct == 2' out
	# cost = context + num_samples x steps for a sampling model.
	jq -e '.search.trials | all(.cost == .config.context_length + .config.num_samples * 7)' out
	# Every front point is dominated by no trial; every other trial is dominated by some front point.
	jq -e '.search.trials as $t | .search.pareto.front | all(. as $f | $t | all((.metrics.rmse <= $f.rmse and .cost <= $f.cost and (.metrics.rmse < $f.rmse or .cost < $f.cost)) | not))' out
	jq -e '.search.pareto.front as $f | [.search.pareto.front[].trial] as $ids | .search.trials | map(select(.trial as $i | $ids | index($i) | not)) | all(. as $x | $f | any(.rmse <= $x.metrics.rmse and .cost <= $x.cost))' out
	jq -e '[.search.pareto.front[].cost] | . == sort' out
	lim=$(jq '[.search.trials[].metrics.rmse] | min * 1.02' out)
	mincost=$(jq --argjson l "$lim" '[.search.trials[] | select(.metrics.rmse <= $l) | .cost] | min' out)
	[ "$(jq '.search.trials[] | select(.trial == '"$(jq .search.pareto.chosen out)"') | .cost' out)" = "$mincost" ]
	[ "$(jq .search.best.trial out)" = "$(jq .search.pareto.chosen out)" ]
	jq -e '.search.best.config.context_length == .search.candidate.context_length and .search.best.config.num_samples == .search.candidate.num_samples' out
	# In this space the cheapest near-best is not the lowest RMSE: the choice matters.
	[ "$(jq .search.pareto.chosen out)" != "$(jq .search.pareto.lowest_rmse_trial out)" ]
	# Tolerance 0: the lowest RMSE.
	jq '.search.pareto_tolerance_pct = 0' "$CHRONOPT_CONFIG" >s.json
	opt-search --config s.json --objectives rmse,cost --windows 6 --holdout 5 \
		--context-lengths 32,64,128 --num-samples 10,20 --temperatures 0.8,1.0 <env >out0
	[ "$(jq .search.pareto.chosen out0)" = "$(jq .search.pareto.lowest_rmse_trial out0)" ]
	# Without objectives: no pareto section, the lowest RMSE.
	opt-search --windows 6 --holdout 5 --context-lengths 32,64,128 --num-samples 10,20 --temperatures 0.8,1.0 <env >out1
	jq -e '.search.pareto == null' out1
	[ "$(jq .search.best.trial out1)" = "$(jq .search.pareto.lowest_rmse_trial out)" ]
	run --separate-stderr opt-search --objectives rmse,latency <env
	assert_failure 2
	[[ ${stderr_lines[0]} == "opt-search: --objectives: 'rmse,latency' is not rmse, rmse,seconds or rmse,cost" ]]
	jq '.search.objectives = "cost"' "$CHRONOPT_ROOT/configs/chronopt.json" >s.json
	run --separate-stderr opt-search --config s.json <env
	assert_failure 3
	[[ $stderr == *'"search.objectives" must be "rmse", "rmse,seconds" or "rmse,cost"'* ]]
}

# Ensembles: the demo model on a small space, and the drift baseline
# searched over its context (fast).
ENS_SPACE=(--windows 12 --holdout 5 --context-lengths 30,60,120 --num-samples 20 --temperatures 0.8,1.0)

# A synthetic series: trend, a weekly wave and noise, positive, daily.
synthetic_csv() {
	awk -v s="$1" 'BEGIN { srand(s); print "date,value"; v = 50;
		for (i = 0; i < 400; i++) { v += 0.05 + (rand() - 0.5);
			printf "%s,%.4f\n", strftime("%Y-%m-%d", 1600000000 + 86400 * i, 1), v + 2 * sin(i * 0.9) } }' >"$2"
}

@test "--ensemble: never worse on the search windows than its best member (seeds, series, models)" {
	envelope 7d 7 "$CHRONOPT_ROOT/models/chronos-demo" >env
	synthetic_csv 3 syn.csv
	jq -c --arg p "$PWD/syn.csv" --arg d "$(tail -1 syn.csv | cut -d, -f1)" \
		'.series = {"path":$p,"id":"","last_date":$d,"length":400}' env >syn
	for run in "1 env" "2 env" "5 syn" "9 syn"; do
		set -- $run
		opt-search "${ENS_SPACE[@]}" --ensemble 8 --seed "$1" <"$2" >out
		jq -e '.search.ensemble.status == "done" and .search.ensemble.pool == 8 and .search.ensemble.pool_configs == 6' out
		# the best member alone: the lowest of the six configs and the two baselines
		jq -e '.search.ensemble.rmse <= .search.ensemble.best_member.rmse' out
		jq -e '.search.ensemble.rmse <= ([.search.trials[].metrics.rmse] | min)' out
		jq -e '.search.ensemble.best_member.rmse <= ([.search.trials[].metrics.rmse] | min)' out
		jq -e '.search.ensemble.metrics.rmse == .search.ensemble.rmse' out
		# weights are counts / picks and sum to 1
		jq -e '.search.ensemble | (.members | map(.count) | add) == .picks and
			all(.members[]; .weight == .count / $e.picks)' --argjson e "$(jq .search.ensemble out)" out
	done
	# the drift baseline searched over its context: the pool is its configs and the two baselines
	envelope 7d 7 drift >denv
	opt-search --windows 20 --holdout 5 --context-lengths 10,20,40,80,160 --num-samples 10 --temperatures 1 \
		--ensemble 10 <denv >d
	jq -e '.search.ensemble.pool == 7 and .search.ensemble.rmse <= ([.search.trials[].metrics.rmse] | min)' d
}

@test "--ensemble: the candidate is the ensemble when it beats the best config, with its members and weights" {
	consecutive
	envelope 7d 7 "$CHRONOPT_ROOT/models/chronos-demo" >env
	opt-search --windows 30 --holdout 30 --context-lengths 30,60,120 --num-samples 20 \
		--temperatures 0.8,1.0 --ensemble 8 <env >out
	jq -e '.search.ensemble.members | length == 3' out
	jq -e '.search.candidate.ensemble == [.search.ensemble.members[] | {weight, model, config}]' out
	jq -e '.search.candidate.validation_rmse == .search.ensemble.rmse' out
	jq -e '.search.ensemble.rmse < .search.best.metrics.rmse' out
	# the call's settings: the longest context, the most samples
	jq -e '.search.candidate | .context_length == ([.ensemble[].config.context_length] | max) and
		.num_samples == 20 and .temperature == 1' out
	jq -e '.search.reasons | any(startswith("ensemble of 3 members"))' out
	# opt-backtest runs the candidate on the search windows: the same RMSE, bit for bit
	jq .search.candidate out >ens.json
	run --separate-stderr opt-backtest --series "$SERIES" --config ens.json --steps 7 --origins 30 --holdout 36
	assert_success
	[ "$(echo "$output" | jq .metrics.rmse)" = "$(jq .search.ensemble.rmse out)" ]
}

@test "--ensemble: the same output for any --jobs and method; with no gain the candidate stays the config" {
	envelope 7d 7 "$CHRONOPT_ROOT/models/chronos-demo" >env
	for m in grid halving tpe; do
		opt-search "${ENS_SPACE[@]}" --method $m --trials 5 --ensemble 6 <env | untimed >a
		opt-search "${ENS_SPACE[@]}" --method $m --trials 5 --ensemble 6 --jobs 2 <env | untimed >b
		cmp <(jq -S 'del(.search.candidate.timestamp)' a) <(jq -S 'del(.search.candidate.timestamp)' b)
		jq -e '.search.ensemble.status == "done"' a
	done
	# halving: the pool is the configs of the last rung (every window)
	opt-search "${ENS_SPACE[@]}" --method halving --ensemble 6 <env >h
	jq -e '.search.ensemble.pool_configs == ([.search.trials[] | select(.windows == 12)] | length) + 0' h
	# size 1: the best member alone; when it is the best config, the candidate is that config
	opt-search "${ENS_SPACE[@]}" --ensemble 1 <env >one
	jq -e '.search.ensemble.picks == 1 and (.search.ensemble.members | length) == 1' one
	if jq -e '.search.ensemble.members[0].trial == .search.best.trial' one; then
		jq -e '.search.candidate | has("ensemble") | not' one
	else
		jq -e '.search.candidate.ensemble | length == 1' one
	fi
	# not asked for: no ensemble object
	opt-search "${ENS_SPACE[@]}" <env >none
	jq -e '.search | has("ensemble") | not' none
}

@test "--ensemble: refused with --plan and cost objectives (2), out of range (2); quantile models skip it" {
	envelope 7d 7 drift >env
	run --separate-stderr opt-search --plan --ensemble 4 <env
	assert_failure 2
	[ "$stderr" = "opt-search: --ensemble does not go with --plan (the units do not carry the point forecasts it selects from)" ]
	[ -z "$output" ]
	run --separate-stderr opt-search --objectives rmse,cost --ensemble 4 <env
	assert_failure 2
	[ "$stderr" = "opt-search: --ensemble does not go with --objectives with a cost (it selects by RMSE alone)" ]
	run --separate-stderr opt-search --ensemble 65 <env
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-search: --ensemble: '65' is not an integer in 0..64" ]
	B="$CHRONOPT_ROOT/testdata/bolt/tiny"
	echo '{"search":{"spaces":{"7d":{"context_length":[16,32]}}}}' >bolt.json
	envelope 7d 7 "$B" >benv
	opt-search --config bolt.json --windows 5 --ensemble 4 <benv >out
	jq -e '.search.ensemble.status == "skipped" and (.search.ensemble.skipped | startswith("chronos-bolt is a quantile model"))' out
	jq -e '.search.candidate | has("ensemble") | not' out
}
