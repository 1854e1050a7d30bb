#!/usr/bin/env bats
# opt-validate: candidate vs deployed config vs random walk on the held-out
# windows of the bundled USD/CLP series, with baseline models (fast and
# deterministic). Every criterion is also tested on crafted metrics in
# test/unit/test_validate.c.

setup() {
	load deploy_helper
	cd "$BATS_TEST_TMPDIR"
	CFG="$BATS_TEST_TMPDIR/cfg"
	mkdir -p "$CFG"
	SERIES="$CHRONOPT_ROOT/testdata/usdclp_daily.csv"
}

# candidate MODEL CTX — an envelope after opt-search for 7d
candidate() {
	printf '{"schema":"chronopt/1","run_id":"run-1","seed":42,"series":{"path":"%s","id":"USDCLP","last_date":"2026-09-23","length":5916},' "$SERIES"
	printf '"horizon":{"name":"7d","steps":7},"model":{"dir":"random_walk"},'
	printf '"search":{"status":"done","split":{"first_holdout_date":"2026-08-04","last_holdout_date":"2026-09-14"},'
	printf '"candidate":{"horizon":"7d","context_length":%s,"num_samples":100,"temperature":1.0,"top_k":0,"top_p":1.0,' "$2"
	printf '"validation_rmse":11.0,"validation_mape":1.0,"validation_mae":9.0,"model":{"dir":"%s"}}}}\n' "$1"
}

incumbent() {
	printf '{"horizon":"7d","context_length":180,"num_samples":100,"temperature":1.0,"top_k":0,"top_p":1.0,"validation_rmse":11.3,"model":{"dir":"random_walk"}}\n' >"$CFG/7d.json"
}

validate() {
	run --separate-stderr sh -c 'printf "%s\n" "$ENVLINE" | opt-validate --config-dir "$0" "$@"' "$CFG" "$@"
}

v() { printf '%s' "$output" | jq -r ".validation$1"; }

@test "--help prints usage to stdout and exits 0" {
	run --separate-stderr opt-validate --help
	assert_success
	assert_output --partial "usage: opt-validate [options]"
	assert_output --partial "RMSE better by at least PCT % (5), or"
	refute_output --partial "%%"
}

@test "misuse is a usage error with a plain message" {
	run --separate-stderr opt-validate --format xml
	assert_failure 2
	[ "$stderr" = "opt-validate: --format 'xml' must be json or text" ]
	run --separate-stderr opt-validate --preset reckless
	assert_failure 2
	[ "$stderr" = "opt-validate: unknown preset 'reckless' (conservative, balanced, aggressive)" ]
	run --separate-stderr opt-validate --min-coverage 90 </dev/null
	assert_failure 2
	[ "$stderr" = "opt-validate: minimum coverage must be a fraction in 0..1" ]
	run --separate-stderr opt-validate extra
	assert_failure 2
}

@test "first deployment: judged on the absolute criteria and against the random walk" {
	export ENVLINE="$(candidate drift 180)"
	validate
	assert_success
	[ "$(v .status)" = done ]
	[ "$(v .approved)" = true ]
	[ "$(v .first_deployment)" = true ]
	[ "$(v .incumbent)" = null ]
	[ "$(v '.criteria | map(.name) | join(",")')" = "coverage95,bias_vs_random_walk_pct,rmse_vs_random_walk_pct,dm_p_value_vs_random_walk" ]
	[ "$(v '.criteria | map(.verdict) | join(",")')" = "pass,pass,pass,info" ]
	[ "$(v .summary)" = "approved as the first deployment: it meets the absolute criteria and does not lose to the random walk" ]
	v '.reasons[]' | grep -qx "RMSE 11.2366 is 0.53 % better than the random walk's 11.2959 (must not be worse)"
	printf '%s' "$output" | jq -e '.validation.criteria[] | select(.name == "coverage95") | .threshold == 0.9 and .op == ">="'
	printf '%s' "$output" | jq -e '.validation.dm.vs_random_walk | .lags == 6 and .windows == 30 and .p_value > 0.05'
}

@test "the validation windows are exactly the 30 origins opt-search held out" {
	export ENVLINE="$(candidate drift 180)"
	validate
	assert_success
	printf '%s' "$output" | jq -e '.validation.windows == {"count":30,"stride":1,"steps":7,"first_date":"2026-08-04","last_date":"2026-09-14","same_as_search_holdout":true}'
	# the last window forecasts the last 7 observations
	[ "$(tail -7 "$SERIES" | head -1 | cut -d, -f2)" = 2026-09-14 ]
}

@test "a clearly better candidate replaces the deployed config" {
	incumbent
	export ENVLINE="$(candidate drift 60)"
	validate
	assert_success
	[ "$(v .approved)" = true ]
	[ "$(v .first_deployment)" = false ]
	[ "$(v '.criteria | map(.name) | join(",")')" = "rmse_improvement_pct,mape_improvement_pct,err_std_increase_pct,inference_time_increase_pct,coverage95,bias_vs_random_walk_pct,rmse_vs_random_walk_pct,dm_p_value_vs_incumbent,dm_p_value_vs_random_walk" ]
	[ "$(v '.criteria[0].value * 100 | round')" = 724 ]
	[ "$(v .incumbent.path)" = "$CFG/7d.json" ]
	[ "$(v .incumbent.model.dir)" = random_walk ]
	[[ "$(v .summary)" == "approved: RMSE 7.24 % better and MAPE 5.97 % better than the deployed config, every other criterion met" ]]
}

@test "a marginal improvement is not approved; --exit-code makes that exit 1" {
	incumbent
	export ENVLINE="$(candidate drift 180)"
	validate
	assert_success
	[ "$(v .approved)" = false ]
	[ "$(v .summary)" = "not approved: 1 criterion failed (accuracy improvement)" ]
	v '.reasons[0]' | grep -q "^RMSE 11.2366 is 0.53 % better than the deployed config's 11.2959 (at least 5 % needed"
	validate --exit-code
	assert_failure 1
	[ "$(v .approved)" = false ]
	[ -z "$stderr" ]
}

@test "thresholds come from options: a lower bar approves the same candidate" {
	incumbent
	export ENVLINE="$(candidate drift 180)"
	validate --min-rmse-improvement 0.5
	assert_success
	[ "$(v .approved)" = true ]
	[ "$(v .thresholds.preset)" = custom ]
	[ "$(v .thresholds.rmse_improvement_pct)" = 0.5 ]
}

@test "a candidate that loses to the random walk is never approved" {
	export ENVLINE="$(candidate seasonal_naive 180)"
	validate --preset aggressive
	assert_success
	[ "$(v .approved)" = false ]
	[ "$(v '.criteria[] | select(.name == "rmse_vs_random_walk_pct") | .verdict')" = fail ]
	v '.reasons[]' | grep -q "worse than the random walk's 11.2959 (must not be worse)"
}

@test "--require-significance needs a significant Diebold-Mariano test" {
	export ENVLINE="$(candidate drift 180)"
	validate --require-significance
	assert_success
	[ "$(v .approved)" = false ]
	[ "$(v '.criteria[] | select(.name == "dm_p_value_vs_random_walk") | .verdict')" = fail ]
	v '.reasons[]' | grep -q "^Diebold-Mariano test against the random walk: one-sided p-value 0.3631 .*, not significant at the 0.05 level$"
}

@test "the Diebold-Mariano test runs with the default 30 windows at 30 and 90 steps" {
	for h in 30 90; do
		export ENVLINE="$(candidate drift 180 | jq -c --argjson h $h '.horizon = {"name": "\($h)d", "steps": $h} |
			.search.candidate.horizon = "\($h)d" | del(.search.split)')"
		validate --preset conservative
		assert_success
		printf '%s' "$output" | jq -e '.validation.dm.vs_random_walk |
			.windows == 30 and .lags == 15 and .kernel == "bartlett" and .lag_rule == "half the windows" and
			(.p_value_better | type) == "number"'
		printf '%s' "$output" | jq -e '.validation.criteria[] | select(.name == "dm_p_value_vs_random_walk") |
			(.verdict == "pass" or .verdict == "fail") and (.words | test("could not be run") | not)'
	done
	# 7 steps keep steps - 1 lags and the rectangular kernel
	export ENVLINE="$(candidate drift 180)"
	validate
	printf '%s' "$output" | jq -e '.validation.dm.vs_random_walk | .lags == 6 and .lag_rule == "steps - 1"'
	# windows stride apart overlap over ceil(steps / stride) windows: the lags count windows
	validate --stride 2
	printf '%s' "$output" | jq -e '.validation.dm.vs_random_walk | .lags == 3 and .lag_rule == "steps - 1"'
	validate --stride 7
	printf '%s' "$output" | jq -e '.validation.dm.vs_random_walk | .lags == 0 and .kernel == "rectangular"'
	# lags the windows cannot give: the test is not run, and a preset requiring it refuses
	validate --preset conservative --dm-lags 29
	assert_success
	[ "$(v .approved)" = false ]
	v '.reasons[]' | grep -qx "Diebold-Mariano test against the random walk could not be run: 30 windows are too few for 29 lags (need at least 31)"
}

@test "the settings file sets windows and preset; the command line wins" {
	printf '{"validate":{"preset":"conservative","validation_origins":20,"max_abs_bias":4}}\n' >s.json
	export ENVLINE="$(candidate drift 180)"
	validate --config s.json
	assert_success
	[ "$(v .windows.count)" = 20 ]
	[ "$(v .thresholds.preset)" = conservative ]
	[ "$(v .thresholds.max_abs_bias)" = 4 ]
	[ "$(v .thresholds.require_significance)" = true ]
	validate --config s.json --origins 12 --stride 2 --preset balanced
	assert_success
	[ "$(v .windows.count)" = 12 ]
	[ "$(v .windows.stride)" = 2 ]
	[ "$(v .thresholds.preset)" = balanced ]
	[ "$(v .thresholds.max_abs_bias)" = 4 ]
	[ "$(v .thresholds.require_significance)" = false ]
}

@test "the bias limit is relative to the random walk; an absolute one is only there when asked" {
	export ENVLINE="$(candidate drift 180)"
	validate
	assert_success
	[ "$(v .thresholds.max_bias_pct)" = 50 ]
	[ "$(v .thresholds.max_abs_bias)" = null ]
	[ "$(v '.criteria | map(select(.name == "abs_bias")) | length')" = 0 ]
	# the value is 100 (|bias| - |random walk bias|) / random walk MAE
	printf '%s' "$output" | jq -e '.validation | (.criteria[] | select(.name == "bias_vs_random_walk_pct") | .value) - 100 * ((.candidate.bias | fabs) - (.random_walk.bias | fabs)) / .random_walk.mae | fabs < 1e-9'
	validate --max-bias-pct 0
	assert_success
	[ "$(v .approved)" = false ]
	[ "$(v .thresholds.preset)" = custom ]
	v '.reasons[]' | grep -q "is larger in absolute value than the random walk's .* (at most 0 % allowed)$"
	validate --max-bias 0.5
	assert_success
	[ "$(v .approved)" = false ]
	[ "$(v '.criteria[] | select(.name == "abs_bias") | .threshold')" = 0.5 ]
	v '.reasons[]' | grep -q "series units (forecast minus actual; must stay under 0.5 in absolute value)$"
	run --separate-stderr opt-validate --max-bias 0 </dev/null
	assert_failure 2
	[ "$stderr" = "opt-validate: maximum absolute bias must be a number > 0 (series units)" ]
	run --separate-stderr opt-validate --max-bias-pct -1 </dev/null
	assert_failure 2
	[ "$stderr" = "opt-validate: maximum bias beyond the random walk's must be a percentage >= 0" ]
}

@test "--format text is a plain report for people and mail" {
	incumbent
	export ENVLINE="$(candidate drift 60)"
	validate --format text
	assert_success
	[ "${lines[0]}" = "chronopt validation, horizon 7d: APPROVED" ]
	assert_line --partial "30 validation windows from 2026-08-04 to 2026-09-14"
	assert_line --regexp '^  rmse_improvement_pct +7\.245 +>= +5  pass \(either\)$'
	assert_line "  reasons:"
	! printf '%s' "$output" | grep -q '{'
	! printf '%s' "$output" | LC_ALL=C grep -q '[^[:print:]]'
}

@test "a line an earlier stage stopped is passed on as skipped" {
	export ENVLINE="$(candidate drift 180 | jq -c '.trigger = {"status":"done","should_optimize":false,"summary":"nothing changed"}')"
	validate
	assert_success
	[ "$(v .status)" = skipped ]
	[ "$(v .reason)" = "not triggered: nothing changed" ]
	[ "$(printf '%s' "$output" | jq -r .trigger.summary)" = "nothing changed" ]
}

@test "a series that changed since the envelope was made is bad input" {
	export ENVLINE="$(candidate drift 180 | jq -c '.series.length = 5000')"
	validate
	assert_failure 3
	[ "$stderr" = "opt-validate: <stdin>:1: horizon '7d': $SERIES: series changed since the envelope was made (length 5000, now 5916)" ]
	[ -z "$output" ]
}

@test "a series length or last date of the wrong type or out of range is bad input" {
	for edit in '.series.length = "5916"' '.series.length = 5916.5' '.series.length = 1e300' '.series.last_date = 5'; do
		export ENVLINE="$(candidate drift 180 | jq -c "$edit")"
		validate
		assert_failure 3
		[ -z "$output" ]
		# The envelope schema refuses it before the horizon is looked at.
		[[ "$stderr" == 'opt-validate: <stdin>:1: envelope "series"."'* ]]
		[[ "$stderr" != *-2147483648* ]]
	done
}

@test "an unknown model named by the envelope is bad input, not a usage error" {
	export ENVLINE="$(candidate no_such_model 180)"
	validate
	assert_failure 3
	[ "$stderr" = "opt-validate: <stdin>:1: horizon '7d': candidate: unknown model 'no_such_model' (expected random_walk, drift, seasonal_naive[:P] or a model directory)" ]
	[ -z "$output" ]
}

@test "an error names the input line: tool: file: line: problem" {
	good="$(candidate drift 180)"
	export ENVLINE="$good
$(candidate drift 180 | jq -c '.seed = -1')"
	validate
	assert_failure 3
	[ "$stderr" = 'opt-validate: <stdin>:2: envelope "seed" must be an integer in 0..999999999999999' ]
	[ "${#lines[@]}" -eq 1 ]
}

@test "a corrupt deployed config is bad input, not a first deployment" {
	printf '{"horizon":"7d",' >"$CFG/7d.json"
	export ENVLINE="$(candidate drift 180)"
	validate
	assert_failure 3
	[ "$stderr" = "opt-validate: <stdin>:1: horizon '7d': deployed config: $CFG/7d.json: invalid JSON near column 16" ]
	[ -z "$output" ]
}

@test "a candidate outside the bounds of a search space is bad input, before any forecast" {
	export ENVLINE="$(candidate drift 180 | jq -c '.search.candidate.num_samples = 10000000')"
	validate
	assert_failure 3
	[[ "$stderr" == *"'num_samples' must be an integer in [1, 100000]" ]]
	export ENVLINE="$(candidate drift 180 | jq -c '.search.candidate.temperature = 500')"
	validate
	assert_failure 3
	[[ "$stderr" == *"'temperature' must be a number in (0, 100]" ]]
}

@test "an envelope without a candidate is bad input" {
	export ENVLINE="$(candidate drift 180 | jq -c 'del(.search.candidate)')"
	validate
	assert_failure 3
	[ "$stderr" = "opt-validate: <stdin>:1: horizon '7d': envelope has no \"search\".\"candidate\"" ]
}

@test "same seed, same output: only timings differ" {
	incumbent
	export ENVLINE="$(candidate drift 60)"
	validate
	a=$(printf '%s' "$output" | jq -S 'del(.. | .seconds?)')
	validate
	b=$(printf '%s' "$output" | jq -S 'del(.. | .seconds?)')
	[ "$a" = "$b" ]
}

@test "validate then deploy: the approved candidate is deployed with its held-out figures" {
	incumbent
	git -C "$CFG" init -q && git -C "$CFG" add 7d.json &&
		git -C "$CFG" -c user.name=t -c user.email=t@t commit -qm seed
	candidate drift 60 | opt-validate --config-dir "$CFG" | opt-deploy deploy --config-dir "$CFG" >out.ndjson
	jq -e '.deployment.deployed == true' out.ndjson
	jq -e '.context_length == 60 and .model.dir == "drift" and .validation.windows == 30 and
		(.validation.rmse * 1000 | round) == 10478 and .validation.seconds_per_window >= 0 and
		.previous == "7d_20261123T020000Z.json"' "$CFG/7d.json"
	[ "$(git -C "$CFG" log -1 --format=%s)" = "deploy 7d: validation rmse 10.4776" ]
	jq -e '.validation_rmse == .validation.rmse and .search_rmse == 11 and .validation.last_origin_date == "2026-09-14"' "$CFG/7d.json"
	# a second validation now compares against what was deployed
	candidate drift 60 | opt-validate --config-dir "$CFG" >again.ndjson
	jq -e '.validation.approved == false and .validation.criteria[0].value == 0' again.ndjson
}

@test "validate then record: a refused candidate's history holds the held-out figures, said once" {
	incumbent
	export ENVLINE="$(candidate drift 180)"
	run --separate-stderr sh -c 'printf "%s\n" "$ENVLINE" | opt-validate --config-dir "$0" |
		opt-history record --file "$0/h.jsonl"' "$CFG"
	assert_success
	[ "$(v .approved)" = false ]
	run jq -c '[.outcome, .reason, .validation_rmse == .validation.candidate.rmse,
	            .held_out.candidate.rmse == .validation.candidate.rmse,
	            .held_out.incumbent.rmse == .validation.incumbent.rmse,
	            .held_out.random_walk.rmse == .validation.random_walk.rmse,
	            .held_out.windows, .config.search_rmse, .config.validation_rmse]' "$CFG/h.jsonl"
	assert_output '["not_approved","not approved: 1 criterion failed (accuracy improvement)",true,true,true,true,30,11,null]'
	# the search's 11.0 is nowhere called a validation figure
	[ "$(jq '.validation_rmse' "$CFG/h.jsonl")" != 11 ]
	run --separate-stderr opt-history show --file "$CFG/h.jsonl"
	assert_success
	assert_line --index 1 --regexp ' not_approved .* 11\.2366 '
}

@test "the man page examples run" {
	incumbent
	candidate drift 60 >search.ndjson
	export CHRONOPT_CONFIG_DIR="$CFG"
	run bash -c 'opt-validate < search.ndjson > validated.ndjson &&
		opt-validate --format text < search.ndjson &&
		opt-validate --preset conservative --require-significance --exit-code < search.ndjson > /dev/null; [ $? -eq 1 ]'
	assert_success
	jq -e '.validation.approved' validated.ndjson
}

@test "a full stdout is exit 4 with exactly one message, as JSON and as text" {
	candidate random_walk 90 >env
	run --separate-stderr bash -c "opt-validate --config-dir '$CFG' <env >/dev/full"
	assert_failure 4
	assert_equal "$stderr" "opt-validate: error writing envelope: No space left on device"
	run --separate-stderr bash -c "opt-validate --config-dir '$CFG' --format text <env >/dev/full"
	assert_failure 4
	assert_equal "$stderr" "opt-validate: error writing the report: No space left on device"
}

@test "a horizon the series is too short to validate fails alone: error section, the others validated, exit 7" {
	{ head -n 1 "$SERIES"; tail -n 100 "$SERIES"; } >short.csv
	good="$(candidate drift 30 | jq -c ".series.path = \"$PWD/short.csv\" | .series.length = 100")"
	long="$(echo "$good" | jq -c '.horizon = {"name":"90d","steps":90} | .search.candidate.horizon = "90d"')"
	export ENVLINE="$good
$long"
	validate
	assert_failure 7
	[ "${#lines[@]}" = 2 ]
	[ "$(echo "${lines[0]}" | jq -r .validation.status)" = done ]
	[ "$(echo "${lines[1]}" | jq -c '.validation | [.status, .exit, .reason]')" = "[\"error\",3,\"$PWD/short.csv: not enough observations: need 121, have 100\"]" ]
	[ "$stderr" = "opt-validate: <stdin>:2: horizon '90d' failed, the others go on: $PWD/short.csv: not enough observations: need 121, have 100" ]
	# --exit-code: a failed horizon (7) outweighs a declined one (1)
	validate --exit-code --min-coverage 1
	assert_failure 7
	# the text report says so
	validate --format text
	assert_failure 7
	assert_output --partial "horizon 90d: error"
}

@test "a Chronos-Bolt candidate without 95 % levels is checked on its 80 % interval, and the reason says so" {
	export ENVLINE="$(candidate "$CHRONOPT_ROOT/testdata/bolt/tiny" 64 | jq -c '.search.candidate.num_samples = 1')"
	validate
	assert_success
	[ "$(v '.criteria | map(.name) | join(",")')" = "coverage80,bias_vs_random_walk_pct,rmse_vs_random_walk_pct,dm_p_value_vs_random_walk" ]
	printf '%s' "$output" | jq -e '.validation.criteria[] | select(.name == "coverage80") | .threshold == 0.75 and .op == ">=" and (.value >= 0 and .value <= 1)'
	v '.reasons[]' | grep -q "^the model has no 95 % interval (no 0.025 and 0.975 quantile levels), so its 80 % interval is checked: it held .* % of the actual values (at least 75 % needed: the 95 % minimum of 90 % less the 15 points between the nominal levels)$"
}

# An ensemble of the two baselines (fast), as a search candidate makes it.
ENS='[{"weight":0.75,"model":{"dir":"drift","sha256":null},"config":{"context_length":60,"num_samples":100,"temperature":1,"top_k":0,"top_p":1}},{"weight":0.25,"model":{"dir":"random_walk","sha256":null},"config":{"context_length":30,"num_samples":50,"temperature":1,"top_k":0,"top_p":1}}]'

@test "an ensemble candidate is scored like any other, by its members, on the same windows" {
	export ENVLINE=$(candidate random_walk 60 | jq -c --argjson e "$ENS" '.search.candidate.ensemble = $e | .search.candidate.num_samples = 100')
	validate
	assert_success
	[ "$(v .candidate.model.dir)" = ensemble ]
	[ "$(v .candidate.model.sha256)" = null ]
	[ "$(printf '%s' "$output" | jq -c .validation.candidate.ensemble)" = "$(jq -c . <<<"$ENS")" ]
	[ "$(v .approved)" = true ] || [ "$(v .approved)" = false ]
	# the same RMSE as opt-backtest of the config on the 30 held-out origins
	printf '%s' "$ENVLINE" | jq .search.candidate >cand.json
	[ "$(opt-backtest --series "$SERIES" --config cand.json --steps 7 --origins 30 --seed 42 | jq .metrics.rmse)" = "$(v .candidate.rmse)" ]
	# and it differs from either member alone
	[ "$(v .candidate.rmse)" != "$(v .random_walk.rmse)" ]
}

@test "a deployed ensemble is the incumbent; a malformed one is bad input (3) naming the file" {
	jq -n --argjson e "$ENS" '{horizon:"7d",context_length:60,num_samples:100,validation_rmse:11.3,ensemble:$e}' >"$CFG/7d.json"
	export ENVLINE=$(candidate random_walk 180)
	validate
	assert_success
	[ "$(v .incumbent.model.dir)" = ensemble ]
	[ "$(printf '%s' "$output" | jq '.validation.incumbent.ensemble | length')" = 2 ]
	jq '.ensemble[0].weight = 0.8' "$CFG/7d.json" >x && mv x "$CFG/7d.json"
	validate
	assert_failure 3
	[ -z "$output" ]
	[ "$stderr" = "opt-validate: <stdin>:1: horizon '7d': deployed config: $CFG/7d.json: the ensemble's weights sum to 1.05, not 1" ]
}
