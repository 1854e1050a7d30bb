#!/usr/bin/env bats
# opt-backtest: command-line contract, golden random-walk numbers, determinism.
bats_require_minimum_version 1.5.0

setup() {
	load /usr/lib/bats/bats-support/load
	load /usr/lib/bats/bats-assert/load
	BT="$CHRONOPT_BIN/opt-backtest"
	DATA="$CHRONOPT_ROOT/testdata/usdclp_daily.csv"
	GOLDEN="$CHRONOPT_ROOT/testdata/golden/rw7_250.json"
	cd "$CHRONOPT_ROOT" || return 1
}

# Run opt-backtest with the golden file's parameters plus "$@".
golden_run() {
	local p
	p=$(jq -r '.params | "--model \(.model) --steps \(.steps) --origins \(.origins) --stride \(.stride) --holdout \(.holdout) --context-length \(.context_length) --num-samples \(.num_samples) --seed \(.seed)"' "$GOLDEN")
	# shellcheck disable=SC2086
	"$BT" --series testdata/usdclp_daily.csv $p "$@"
}

strip_seconds() {
	sed -E 's/"seconds":[^,}]*//g' "$1"
}

@test "--help prints the usage on stdout and exits 0" {
	run --separate-stderr "$BT" --help
	assert_success
	assert_output --partial "usage: opt-backtest --series CSV"
	[ -z "$stderr" ]
}

@test "an unknown option is a usage error (exit 2) on stderr" {
	run --separate-stderr "$BT" --series "$DATA" --bogus
	assert_failure 2
	[ -z "$output" ]
	[[ "$stderr" == "opt-backtest: unknown option or missing argument '--bogus'"* ]]
}

@test "--series is required" {
	run --separate-stderr "$BT"
	assert_failure 2
	[[ "$stderr" == "opt-backtest: --series is required"* ]]
}

@test "bad numbers are usage errors naming the option" {
	run --separate-stderr "$BT" --series "$DATA" --steps 0
	assert_failure 2
	[[ "$stderr" == "opt-backtest: --steps: '0' is not an integer in 1..100000"* ]]
	run --separate-stderr "$BT" --series "$DATA" --temperature -1
	assert_failure 2
	[[ "$stderr" == "opt-backtest: --temperature: '-1' is not in (0, 100]"* ]]
	run --separate-stderr "$BT" --series "$DATA" --seed 12x
	assert_failure 2
}

@test "the random walk matches the numpy golden numbers to 1e-9 relative" {
	golden_run >"$BATS_TEST_TMPDIR/out.json"
	run jq -n --slurpfile g "$GOLDEN" --slurpfile o "$BATS_TEST_TMPDIR/out.json" '
		def abs: if . < 0 then -. else . end;
		$g[0].metrics as $gm | $o[0].metrics as $om |
		[$gm | keys[] | . as $k |
		 if ($om[$k] | type) != "number" then 1e300
		 else (($om[$k] - $gm[$k]) | abs) / ([($gm[$k] | abs), 1e-300] | max) end] | max'
	assert_success
	echo "max relative difference: $output"
	jq -e --argjson d "$output" -n '$d <= 1e-9'
	# The plan is the golden's: same first and last origin dates.
	jq -e --slurpfile g "$GOLDEN" '.plan.first_origin_date == $g[0].first_origin_date
		and .plan.last_origin_date == $g[0].last_origin_date
		and .metrics.nwin == $g[0].params.origins' "$BATS_TEST_TMPDIR/out.json"
}

@test "same seed, same input: byte-identical output apart from seconds" {
	golden_run --windows --samples "$BATS_TEST_TMPDIR/s1.json" >"$BATS_TEST_TMPDIR/a.json"
	golden_run --windows --samples "$BATS_TEST_TMPDIR/s2.json" >"$BATS_TEST_TMPDIR/b.json"
	strip_seconds "$BATS_TEST_TMPDIR/a.json" >"$BATS_TEST_TMPDIR/a.stripped"
	strip_seconds "$BATS_TEST_TMPDIR/b.json" >"$BATS_TEST_TMPDIR/b.stripped"
	grep -q '"seconds"' "$BATS_TEST_TMPDIR/a.json"
	run grep -q '"seconds"' "$BATS_TEST_TMPDIR/a.stripped"
	assert_failure
	cmp "$BATS_TEST_TMPDIR/a.stripped" "$BATS_TEST_TMPDIR/b.stripped"
	cmp "$BATS_TEST_TMPDIR/s1.json" "$BATS_TEST_TMPDIR/s2.json"
}

@test "batching windows does not change any number" {
	golden_run --windows --batch 1 >"$BATS_TEST_TMPDIR/a.json"
	golden_run --windows --batch 7 >"$BATS_TEST_TMPDIR/b.json"
	golden_run --windows >"$BATS_TEST_TMPDIR/c.json"
	strip_seconds "$BATS_TEST_TMPDIR/a.json" >"$BATS_TEST_TMPDIR/a.stripped"
	strip_seconds "$BATS_TEST_TMPDIR/b.json" >"$BATS_TEST_TMPDIR/b.stripped"
	strip_seconds "$BATS_TEST_TMPDIR/c.json" >"$BATS_TEST_TMPDIR/c.stripped"
	cmp "$BATS_TEST_TMPDIR/a.stripped" "$BATS_TEST_TMPDIR/b.stripped"
	cmp "$BATS_TEST_TMPDIR/a.stripped" "$BATS_TEST_TMPDIR/c.stripped"
}

@test "a different seed gives different sample-based numbers but the same point errors" {
	golden_run >"$BATS_TEST_TMPDIR/a.json"
	"$BT" --series "$DATA" --origins 250 --num-samples 100 --seed 1 >"$BATS_TEST_TMPDIR/b.json"
	jq -e --slurpfile b "$BATS_TEST_TMPDIR/b.json" \
		'.metrics.rmse == $b[0].metrics.rmse and .metrics.crps != $b[0].metrics.crps' \
		"$BATS_TEST_TMPDIR/a.json"
	jq -e '.seed == 1' "$BATS_TEST_TMPDIR/b.json"
}

@test "the first k sample paths do not depend on --num-samples" {
	"$BT" --series "$DATA" --origins 3 --num-samples 10 --samples "$BATS_TEST_TMPDIR/n10.json" >/dev/null
	"$BT" --series "$DATA" --origins 3 --num-samples 4 --samples "$BATS_TEST_TMPDIR/n4.json" >/dev/null
	jq -e --slurpfile a "$BATS_TEST_TMPDIR/n10.json" \
		'[.windows[].paths] == [$a[0].windows[].paths[0:4]]' "$BATS_TEST_TMPDIR/n4.json"
}

@test "--samples writes every window's actuals and paths" {
	"$BT" --series "$DATA" --origins 5 --steps 3 --num-samples 6 \
		--samples "$BATS_TEST_TMPDIR/s.json" >/dev/null
	jq -e '(.windows | length) == 5 and all(.windows[]; (.paths | length) == 6
		and all(.paths[]; length == 3) and (.actual | length) == 3)
		and .windows[4].origin == 5913 and .windows[4].actual[2] == 945.87' \
		"$BATS_TEST_TMPDIR/s.json"
}

@test "--windows reports each window's origin and dates" {
	run --separate-stderr "$BT" --series "$DATA" --origins 2 --windows
	assert_success
	echo "$output" | jq -e '.metrics.windows | length == 2
		and .[1].origin == 5909 and .[1].origin_date == "2026-09-11"
		and .[1].target_end_date == "2026-09-23"'
}

@test "holdout moves the origins back" {
	run --separate-stderr "$BT" --series "$DATA" --origins 1 --holdout 3 --stride 2 --windows
	assert_success
	# n - steps = 5909 is off the grid t = 0 mod 2: the last point is 5908
	echo "$output" | jq -e '.metrics.windows[0].origin == 5902'
}

@test "too little data is a data error naming the file and the counts" {
	run --separate-stderr "$BT" --series "$DATA" --origins 6000
	assert_failure 3
	assert_equal "$stderr" "opt-backtest: $DATA: not enough observations: need 6518, have 5916"
	[ -z "$output" ]
}

@test "unknown models are usage errors; a directory must be a checkpoint" {
	run --separate-stderr "$BT" --series "$DATA" --model arima
	assert_failure 2
	[[ "$stderr" == "opt-backtest: unknown model 'arima'"* ]]
	run --separate-stderr "$BT" --series "$DATA" --model "$BATS_TEST_TMPDIR"
	assert_failure 4
	[ "$stderr" = "opt-backtest: cannot open '$BATS_TEST_TMPDIR/config.json': No such file or directory" ]
}

@test "drift and seasonal naive run" {
	run --separate-stderr "$BT" --series "$DATA" --model drift --origins 20
	assert_success
	echo "$output" | jq -e '.forecaster == "drift" and (.metrics.rmse | type) == "number"'
	run --separate-stderr "$BT" --series "$DATA" --model seasonal_naive:5 --origins 20
	assert_success
	echo "$output" | jq -e '.forecaster == "seasonal_naive" and (.metrics.crps | type) == "number"'
}

@test "non-positive values are rejected for log-returns" {
	printf 'date,value\n2024-01-01,1\n2024-01-02,2\n2024-01-03,0\n2024-01-04,3\n2024-01-05,4\n' \
		>"$BATS_TEST_TMPDIR/z.csv"
	run --separate-stderr "$BT" --series "$BATS_TEST_TMPDIR/z.csv" --steps 1 --origins 1 \
		--context-length 4
	assert_failure 3
	[[ "$stderr" == "opt-backtest: window 0: context value '0' at position 2 is not positive"* ]]
}

@test "the man page's examples run" {
	mkdir "$BATS_TEST_TMPDIR/ex"
	ln -s "$CHRONOPT_ROOT/testdata" "$BATS_TEST_TMPDIR/ex/testdata"
	cd "$BATS_TEST_TMPDIR/ex" || return 1
	sed -n '/^\.SH EXAMPLES/,/^\.SH SEE ALSO/p' "$CHRONOPT_ROOT/man/man1/opt-backtest.1" |
		sed 's/\\-/-/g' | grep '^opt-backtest ' >examples
	[ "$(wc -l <examples)" -eq 3 ]
	while read -r line; do
		# shellcheck disable=SC2086
		PATH="$CHRONOPT_BIN:$PATH" $line >out.json
		jq -e '.tool == "opt-backtest" and (.metrics.rmse | type) == "number"' out.json
	done <examples
	jq -e '.windows | length == 250' samples.json
}

@test "an unwritable --samples file is an I/O error and nothing is printed" {
	run --separate-stderr "$BT" --series "$DATA" --origins 2 --samples "$BATS_TEST_TMPDIR/no/such/dir/s.json"
	assert_failure 4
	[ -z "$output" ]
	[[ "$stderr" == "opt-backtest: cannot open '$BATS_TEST_TMPDIR/no/such/dir/s.json': No such file or directory" ]]
}

@test "a failed run leaves no half-written --samples file" {
	printf 'date,value\n2024-01-01,1\n2024-01-02,2\n2024-01-03,0\n2024-01-04,3\n2024-01-05,4\n' \
		>"$BATS_TEST_TMPDIR/z.csv"
	run --separate-stderr "$BT" --series "$BATS_TEST_TMPDIR/z.csv" --steps 1 --origins 1 \
		--context-length 4 --samples "$BATS_TEST_TMPDIR/s.json"
	assert_failure 3
	[ ! -e "$BATS_TEST_TMPDIR/s.json" ]
}

@test "--id picks one series of a long file; without it the loader's error is passed on" {
	run --separate-stderr "$BT" --series testdata/good-csv/two-ids.csv --id EURCLP \
		--steps 1 --origins 1 --context-length 2
	assert_success
	echo "$output" | jq -e '.series.id == "EURCLP" and .series.length == 3
		and .metrics.rmse == 1.5 and .metrics.bias == 1.5'
	run --separate-stderr "$BT" --series testdata/good-csv/two-ids.csv --steps 1 --origins 1
	assert_failure 3
	[[ "$stderr" == "opt-backtest: testdata/good-csv/two-ids.csv:3: several ids"* ]]
}

@test "a full disk on stdout is exit 4 with one message" {
	run --separate-stderr bash -c "'$BT' --series '$DATA' --origins 2 >/dev/full"
	assert_failure 4
	assert_equal "$stderr" "opt-backtest: error writing standard output: No space left on device"
	run --separate-stderr bash -c "'$BT' --help >/dev/full"
	assert_failure 4
	assert_equal "$stderr" "opt-backtest: error writing standard output: No space left on device"
}

@test "a failed --samples write to a device reports it and never removes the device" {
	# through a symlink, so an old binary removes the link, not /dev/full
	ln -s /dev/full "$BATS_TEST_TMPDIR/full"
	run --separate-stderr "$BT" --series "$DATA" --origins 5 --samples "$BATS_TEST_TMPDIR/full"
	assert_failure 4
	[ -z "$output" ]
	assert_equal "$stderr" "opt-backtest: cannot write '$BATS_TEST_TMPDIR/full': No space left on device"
	[ -L "$BATS_TEST_TMPDIR/full" ]
	[ -c /dev/full ]
}

@test "a failure while replacing --samples keeps the previous file whole, with no temp file left" {
	echo old >"$BATS_TEST_TMPDIR/s.json"
	local step
	for step in open fsync rename; do
		CHRONOPT_FAIL_AT=$step run --separate-stderr "$BT" --series "$DATA" --origins 3 \
			--samples "$BATS_TEST_TMPDIR/s.json"
		assert_failure 4
		[ -z "$output" ]
		[[ "$stderr" == *": Input/output error" ]]
		assert_equal "$(cat "$BATS_TEST_TMPDIR/s.json")" old
		[ -z "$(find "$BATS_TEST_TMPDIR" -name '.s.json.tmp-*')" ]
	done
	run --separate-stderr "$BT" --series "$DATA" --origins 3 --samples "$BATS_TEST_TMPDIR/s.json"
	assert_success
	jq -e '.windows | length == 3' "$BATS_TEST_TMPDIR/s.json"
}

@test "a read error on the series (a directory) is exit 4 naming it" {
	run --separate-stderr "$BT" --series "$BATS_TEST_TMPDIR"
	assert_failure 4
	[ -z "$output" ]
	assert_equal "$stderr" "opt-backtest: cannot read '$BATS_TEST_TMPDIR': Is a directory"
}

@test "a model directory runs the Chronos forward pass and is deterministic" {
	run --separate-stderr "$BT" --series "$DATA" --model testdata/chronos/relu-tied \
		--steps 4 --origins 3 --num-samples 5 --context-length 40 --seed 7
	assert_success
	echo "$output" | jq -e '.forecaster == "chronos" and .metrics.nwin == 3 and (.metrics.rmse > 0)'
	first=$(echo "$output" | jq -c 'del(.metrics.seconds)')
	run --separate-stderr "$BT" --series "$DATA" --model testdata/chronos/relu-tied \
		--steps 4 --origins 3 --num-samples 5 --context-length 40 --seed 7
	[ "$(echo "$output" | jq -c 'del(.metrics.seconds)')" = "$first" ]
	run --separate-stderr "$BT" --series "$DATA" --model testdata/chronos/relu-tied \
		--steps 4 --origins 3 --num-samples 5 --context-length 40 --seed 8
	[ "$(echo "$output" | jq -c 'del(.metrics.seconds)')" != "$first" ]
}

@test "a missing model directory and a bad CHRONOPT_THREADS are reported" {
	run --separate-stderr "$BT" --series "$DATA" --model ./no/such/model --origins 1
	assert_failure 4
	[ "$stderr" = "opt-backtest: model directory './no/such/model': No such file or directory" ]
	CHRONOPT_THREADS=0 run --separate-stderr "$BT" --series "$DATA" --model testdata/chronos/relu-tied --origins 1
	assert_failure 2
	[ "$stderr" = "opt-backtest: CHRONOPT_THREADS='0' is not an integer in 1..256" ]
}

@test "the largest seed is printed exactly, as the --samples dump has it; one more is refused" {
	run --separate-stderr "$BT" --series "$DATA" --origins 2 --seed 999999999999999 \
		--samples "$BATS_TEST_TMPDIR/s.json"
	assert_success
	[[ "$output" == *'"seed":999999999999999,'* ]]
	grep -q '"seed":999999999999999,' "$BATS_TEST_TMPDIR/s.json"
	run --separate-stderr "$BT" --series "$DATA" --origins 2 --seed 1000000000000000
	assert_failure 2
}

@test "the man page describes a model directory as the Chronos checkpoint it runs" {
	run grep -c "not built yet" man/man1/opt-backtest.1
	assert_output 0
	grep -q "Chronos checkpoint directory" man/man1/opt-backtest.1
}

@test "a Chronos-Bolt directory is scored from its quantiles: 80 % interval, no 95 %, CRPS as weighted quantile loss" {
	B=testdata/bolt/tiny  # levels 0.1 ... 0.9, prediction_length 8
	run --separate-stderr "$BT" --series "$DATA" --model "$B" --steps 10 --origins 4 --context-length 40 \
		--samples "$BATS_TEST_TMPDIR/q.json"
	assert_success
	echo "$output" >"$BATS_TEST_TMPDIR/out.json"
	jq -e '.forecaster == "chronos-bolt" and .family == "chronos-bolt" and .config == {"context_length": 40}' "$BATS_TEST_TMPDIR/out.json"
	jq -e '.quantile_levels == [0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9]' "$BATS_TEST_TMPDIR/out.json"
	jq -e '.metrics | .cov95 == null and .width95 == null and (.cov80 >= 0) and (.width80 > 0)' "$BATS_TEST_TMPDIR/out.json"
	# with exactly the levels 0.1..0.9 the weighted quantile loss is twice the pinball mean
	jq -e '.metrics | ((.crps - 2 * .pinball) | fabs) < 1e-9 * .crps' "$BATS_TEST_TMPDIR/out.json"
	# the dump holds each window's quantiles (levels as rows) and the point is the 0.5 row
	jq -e '(.windows | length) == 4 and all(.windows[]; (.quantiles | length) == 9 and .point == .quantiles[4])' "$BATS_TEST_TMPDIR/q.json"
	jq -e '.quantile_levels | length == 9' "$BATS_TEST_TMPDIR/q.json"
	# the dumped quantiles reproduce the reported coverage of the 80 % interval
	cov=$(jq '[.windows[] | . as $w | range(10) | ($w.actual[.] >= $w.quantiles[0][.] and $w.actual[.] <= $w.quantiles[8][.]) | if . then 1 else 0 end] | add / 40' "$BATS_TEST_TMPDIR/q.json")
	jq -e --argjson c "$cov" '((.metrics.cov80 - $c) | fabs) < 1e-12' "$BATS_TEST_TMPDIR/out.json"
	# deterministic: the seed does not matter
	run --separate-stderr "$BT" --series "$DATA" --model "$B" --steps 10 --origins 4 --context-length 40 --seed 9
	[ "$(echo "$output" | jq -c 'del(.metrics.seconds, .seed)')" = "$(jq -c 'del(.metrics.seconds, .seed)' "$BATS_TEST_TMPDIR/out.json")" ]
}

@test "--num-samples or --temperature with a Chronos-Bolt model is a usage error saying why" {
	for o in "--num-samples 5" "--temperature 0.5"; do
		run --separate-stderr "$BT" --series "$DATA" --model testdata/bolt/tiny --origins 2 $o
		assert_failure 2
		[ "$stderr" = "opt-backtest: ${o%% *}: chronos-bolt is a quantile model: it draws no samples, so num_samples, temperature, top_k and top_p do not apply" ]
		[ -z "$output" ]
	done
}

@test "a Chronos-2 directory is backtested from its quantiles, each window on its own, past its prediction length" {
	C=testdata/chronos2/heads  # levels 0.1 ... 0.9, prediction length 16, context 48
	run --separate-stderr "$BT" --series "$DATA" --model "$C" --steps 20 --origins 3 --context-length 40 \
		--samples "$BATS_TEST_TMPDIR/q.json"
	assert_success
	echo "$output" >"$BATS_TEST_TMPDIR/out.json"
	jq -e '.forecaster == "chronos-2" and .family == "chronos-2" and .config == {"context_length": 40}' "$BATS_TEST_TMPDIR/out.json"
	jq -e '.quantile_levels == [0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9]' "$BATS_TEST_TMPDIR/out.json"
	jq -e '.metrics | .cov95 == null and (.cov80 >= 0) and (.width80 > 0) and (.crps > 0)' "$BATS_TEST_TMPDIR/out.json"
	jq -e '(.windows | length) == 3 and all(.windows[]; (.quantiles | length) == 9 and .point == .quantiles[4])' "$BATS_TEST_TMPDIR/q.json"
	# a window's forecast does not depend on the others of the call: one origin alone gives the same
	# (to float rounding: the matrix products group rows differently)
	run --separate-stderr "$BT" --series "$DATA" --model "$C" --steps 20 --origins 1 --context-length 40 \
		--samples "$BATS_TEST_TMPDIR/q1.json"
	assert_success
	jq -e --slurpfile one "$BATS_TEST_TMPDIR/q1.json" '
		[.windows[-1].point, $one[0].windows[0].point] | transpose | all(((.[0] - .[1]) | fabs) <= 1e-6 * (.[1] | fabs))' \
		"$BATS_TEST_TMPDIR/q.json"
	run --separate-stderr "$BT" --series "$DATA" --model "$C" --origins 2 --temperature 0.5
	assert_failure 2
	[ "$stderr" = "opt-backtest: --temperature: chronos-2 is a quantile model: it draws no samples, so num_samples, temperature, top_k and top_p do not apply" ]
}

# A deployed config made the way the pipeline makes one: opt-validate scores
# the candidate (the tiny Chronos-T5, every sampling setting away from its
# default) on 5 held-out windows, opt-deploy writes cfg/7d.json from it
# (approval forced: the tiny model is random, the figures are what matter).
deploy_tiny_t5() {
	local m="$CHRONOPT_ROOT/testdata/chronos/relu-tied"
	mkdir -p "$BATS_TEST_TMPDIR/cfg"
	printf '{"schema":"chronopt/1","run_id":"run-1","seed":42,"series":{"path":"%s","id":"USDCLP","last_date":"2026-09-23","length":5916},"horizon":{"name":"7d","steps":7},"model":{"dir":"%s"},"search":{"status":"done","candidate":{"horizon":"7d","context_length":40,"num_samples":5,"temperature":%s,"top_k":5,"top_p":0.9,"validation_rmse":11.0,"model":{"dir":"%s"}}}}\n' \
		"$DATA" "$m" "${1:-0.7}" "$m" |
		CHRONOPT_NOW=2026-11-23T02:00:00Z "$CHRONOPT_BIN/opt-validate" --config-dir "$BATS_TEST_TMPDIR/cfg" --origins 5 |
		jq -c '.validation.approved = true' |
		CHRONOPT_NOW=2026-11-23T02:00:00Z "$CHRONOPT_BIN/opt-deploy" deploy --config-dir "$BATS_TEST_TMPDIR/cfg" >/dev/null
	[ -f "$BATS_TEST_TMPDIR/cfg/7d.json" ]
}

@test "--config with a deployed config reproduces the figures deployed; the options given win over the file" {
	deploy_tiny_t5
	local f="$BATS_TEST_TMPDIR/cfg/7d.json"
	run --separate-stderr "$BT" --series "$DATA" --id USDCLP --config "$f" --steps 7 --origins 5 --seed 42
	assert_success
	[ -z "$stderr" ]
	echo "$output" >"$BATS_TEST_TMPDIR/out.json"
	# the model, all five settings and the validation's stride come from the file ...
	[ "$(jq .validation.stride "$f")" = 5 ]
	jq -e '.plan.stride == 5' "$BATS_TEST_TMPDIR/out.json"
	jq -e --slurpfile d "$f" '.model == $d[0].model.dir and
		.config == ($d[0] | {context_length, num_samples, temperature, top_k, top_p})' "$BATS_TEST_TMPDIR/out.json"
	# ... and the held-out figures are the deployed ones, to the last digit
	jq -e --slurpfile d "$f" '.metrics.rmse == $d[0].validation_rmse and .metrics.mape == $d[0].validation_mape and
		.metrics.mae == $d[0].validation_mae and .metrics.cov95 == $d[0].validation.cov95' "$BATS_TEST_TMPDIR/out.json"
	# the settings matter: without the file (the defaults) or with --top-k 1 over it, other figures
	run --separate-stderr "$BT" --series "$DATA" --id USDCLP --model testdata/chronos/relu-tied \
		--context-length 40 --num-samples 5 --steps 7 --origins 5 --seed 42
	assert_success
	echo "$output" | jq -e --slurpfile d "$f" '.metrics.rmse != $d[0].validation_rmse'
	run --separate-stderr "$BT" --series "$DATA" --id USDCLP --config "$f" --top-k 1 --steps 7 --origins 5 --seed 42
	assert_success
	echo "$output" | jq -e --slurpfile d "$f" '.config.top_k == 1 and .config.top_p == 0.9 and
		.metrics.rmse != $d[0].validation_rmse'
	# --stride wins over the file's; a stride that is not one is exit 3 naming the file
	run --separate-stderr "$BT" --series "$DATA" --id USDCLP --config "$f" --stride 1 --steps 7 --origins 5 --seed 42
	assert_success
	echo "$output" | jq -e --slurpfile d "$f" '.plan.stride == 1 and .metrics.rmse != $d[0].validation_rmse'
	jq '.validation.stride = 2.5' "$f" >"$BATS_TEST_TMPDIR/bad.json"
	run --separate-stderr "$BT" --series "$DATA" --id USDCLP --config "$BATS_TEST_TMPDIR/bad.json" --steps 7 --origins 5
	assert_failure 3
	[ "$stderr" = "opt-backtest: $BATS_TEST_TMPDIR/bad.json: validation.stride must be an integer in 1..100000" ]
}

@test "a temperature that 15 digits would round goes through search, deploy and --config bit for bit" {
	deploy_tiny_t5 0.30000000000000004
	local f="$BATS_TEST_TMPDIR/cfg/7d.json"
	grep -q '"temperature":	0.30000000000000004,' "$f"
	run --separate-stderr "$BT" --series "$DATA" --id USDCLP --config "$f" --steps 7 --origins 5 --seed 42
	assert_success
	[[ "$output" == *'"temperature":0.30000000000000004,'* ]]
	echo "$output" | jq -e --slurpfile d "$f" '.metrics.rmse == $d[0].validation_rmse'
	# 0.3 is another temperature and gives other figures
	sed -i 's/0.30000000000000004/0.3/' "$f"
	run --separate-stderr "$BT" --series "$DATA" --id USDCLP --config "$f" --steps 7 --origins 5 --seed 42
	assert_success
	[[ "$output" == *'"temperature":0.3,'* ]]
}

@test "--top-k and --top-p are read in the one domain of the settings" {
	run --separate-stderr "$BT" --series "$DATA" --origins 2 --top-p 0
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-backtest: --top-p: '0' is not in (0, 1]" ]
	run --separate-stderr "$BT" --series "$DATA" --origins 2 --top-k 100001
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-backtest: --top-k: '100001' is not in [0, 100000]" ]
	run --separate-stderr "$BT" --series "$DATA" --origins 2 --top-k 3 --top-p 0.5
	assert_success
	echo "$output" | jq -e '.config.top_k == 3 and .config.top_p == 0.5'
}

@test "a bad --config file is refused naming it, with nothing written" {
	cd "$BATS_TEST_TMPDIR"
	local s="$BATS_TEST_TMPDIR/s.json"
	run --separate-stderr "$BT" --series "$DATA" --config missing.json --samples "$s"
	assert_failure 4
	[[ "$stderr" == "opt-backtest: cannot open 'missing.json'"* ]]
	echo '{"horizon":' >bad.json
	run --separate-stderr "$BT" --series "$DATA" --config bad.json --samples "$s"
	assert_failure 3
	[ "$stderr" = "opt-backtest: bad.json: invalid JSON" ]
	echo '{"horizon":"7d","context_length":40,"num_samples":5,"top_p":0}' >p0.json
	run --separate-stderr "$BT" --series "$DATA" --config p0.json --samples "$s"
	assert_failure 3
	[ "$stderr" = "opt-backtest: p0.json: 'top_p' must be a number in (0, 1]" ]
	echo '{"horizon":"7d","context_length":40}' >nons.json
	run --separate-stderr "$BT" --series "$DATA" --config nons.json --samples "$s"
	assert_failure 3
	[ "$stderr" = "opt-backtest: nons.json: 'num_samples' is missing" ]
	# a quantile model has only context_length: a sampling setting in its file is refused, saying why
	printf '{"horizon":"7d","context_length":40,"num_samples":1,"temperature":0.8,"model":{"dir":"%s"}}\n' \
		"$CHRONOPT_ROOT/testdata/bolt/tiny" >bolt.json
	run --separate-stderr "$BT" --series "$DATA" --config bolt.json --origins 2 --samples "$s"
	assert_failure 3
	[ "$stderr" = "opt-backtest: bolt.json: 'temperature' is 0.80000000000000004, but chronos-bolt is a quantile model: it draws no samples, so num_samples, temperature, top_k and top_p must be 1, 1, 0 and 1" ]
	[ -z "$output" ]
	[ ! -e "$s" ]
	# with the off values it runs, on the file's context length
	sed -i 's/"temperature":0.8/"temperature":1/' bolt.json
	run --separate-stderr "$BT" --series "$DATA" --config bolt.json --origins 2
	assert_success
	echo "$output" | jq -e '.config == {"context_length": 40} and .family == "chronos-bolt"'
}

@test "missing values: refused by default; with --missing nan origins with a missing target are not scored" {
	cd "$BATS_TEST_TMPDIR"
	{ head -n 1 "$DATA"; tail -n 600 "$DATA" |
		awk -F, 'NR % 17 == 0 { print $1 "," $2 ",NA"; next } NR % 41 == 0 { print $1 "," $2 ","; next } { print }'; } >na.csv
	run --separate-stderr "$BT" --series na.csv --origins 20
	[ "$status" -eq 3 ]
	[ "$stderr" = "opt-backtest: na.csv:18: missing value 'NA' (--missing nan keeps it, --missing drop leaves the row out)" ]
	run --separate-stderr "$BT" --series na.csv --origins 20 --missing nan --windows
	[ "$status" -eq 0 ]
	[ "$(jq -c '.series | {length, missing, missing_values}' <<<"$output")" = '{"length":600,"missing":"nan","missing_values":49}' ]
	# the last 27 grid origins; 2026-07-16 and 2026-08-06..08-20 have an NA among their 7 targets
	[ "$(jq -c '[.. | .windows? // empty | .[].origin_date]' <<<"$output")" = '["2026-07-13","2026-07-14","2026-07-15","2026-07-17","2026-07-29","2026-07-30","2026-07-31","2026-08-03","2026-08-04","2026-08-05","2026-08-21","2026-08-24","2026-08-25","2026-08-26","2026-08-27","2026-08-28","2026-08-31","2026-09-01","2026-09-02","2026-09-03"]' ]
	[ "$(jq '.metrics.rmse | type' <<<"$output")" = '"number"' ]
	for m in drift seasonal_naive:5; do
		run --separate-stderr "$BT" --series na.csv --origins 20 --missing nan --model "$m"
		[ "$status" -eq 0 ]
		[ "$(jq '[.metrics.rmse, .metrics.mase, .metrics.crps] | map(type) | unique' <<<"$output" | tr -d ' \n')" = '["number"]' ]
	done
	run --separate-stderr "$BT" --series na.csv --origins 20 --missing drop
	[ "$status" -eq 0 ]
	[ "$(jq -c '.series | {length, missing}' <<<"$output")" = '{"length":551,"missing":"drop"}' ]
	run --separate-stderr "$BT" --series na.csv --missing maybe
	[ "$status" -eq 2 ]
	[[ "$stderr" == "opt-backtest: --missing: 'maybe' is not 'error', 'nan' or 'drop'"* ]]
}

@test "an ensemble config runs its members: drift alone as an ensemble scores as drift" {
	cd "$BATS_TEST_TMPDIR"
	printf '{"ensemble":[{"weight":1,"model":{"dir":"drift","sha256":null},"config":{"context_length":60,"num_samples":10}}]}' >one.json
	a=$("$BT" --series "$DATA" --config one.json --origins 20 | jq .metrics.rmse)
	b=$("$BT" --series "$DATA" --model drift --context-length 60 --num-samples 10 --origins 20 | jq .metrics.rmse)
	[ "$a" = "$b" ]
	# two members: the settings shown are those of the call (longest context, most samples)
	printf '{"ensemble":[{"weight":0.5,"model":{"dir":"drift"},"config":{"context_length":60,"num_samples":10}},{"weight":0.5,"model":{"dir":"random_walk"},"config":{"context_length":30,"num_samples":10}}]}' >two.json
	run --separate-stderr "$BT" --series "$DATA" --config two.json --origins 20
	assert_success
	[ "$(echo "$output" | jq -c .config)" = '{"context_length":60,"num_samples":10,"temperature":1,"top_k":0,"top_p":1}' ]
	run --separate-stderr "$BT" --series "$DATA" --config two.json --model drift
	assert_failure 2
	[ "$stderr" = "opt-backtest: --model does not go with an ensemble config (its members name theirs)" ]
}

@test "a malformed ensemble config is bad input (3) naming the file, and --samples is not written" {
	cd "$BATS_TEST_TMPDIR"
	C='"config":{"context_length":30,"num_samples":10}'
	printf '{"ensemble":[{"weight":0.5,"model":{"dir":"drift"},%s},{"weight":0.6,"model":{"dir":"random_walk"},%s}]}' "$C" "$C" >sum.json
	printf '{"ensemble":[{"weight":-0.5,"model":{"dir":"drift"},%s},{"weight":1.5,"model":{"dir":"drift"},%s}]}' "$C" "$C" >neg.json
	printf '{"ensemble":[]}' >empty.json
	printf '{"ensemble":[{"weight":1,"model":{"dir":"drift"},%s,"ensemble":[]}]}' "$C" >nested.json
	printf '{"ensemble":[{"weight":1,"model":{"dir":"prophet"},%s}]}' "$C" >unknown.json
	for f in sum neg empty nested unknown; do
		run --separate-stderr "$BT" --series "$DATA" --config $f.json --origins 5 --samples s.json
		assert_failure 3
		[ -z "$output" ]
		[ "${#stderr_lines[@]}" = 1 ]
		[[ "$stderr" == "opt-backtest: $f.json: "* ]]
		[ ! -e s.json ]
	done
	run --separate-stderr "$BT" --series "$DATA" --config unknown.json
	[ "$stderr" = "opt-backtest: unknown.json: ensemble member 1: unknown model 'prophet' (expected random_walk, drift, seasonal_naive[:P] or a model directory)" ]
}
