#!/usr/bin/env bats
# opt-history: record, show, last, export, repair; locking, torn records,
# injected failures, exit codes.

load test_helper

FX="$CHRONOPT_ROOT/test/bats/fixtures/history"

setup() {
	cd "$BATS_TEST_TMPDIR"
	H="$BATS_TEST_TMPDIR/h.jsonl"
}

# Record the seven fixture envelopes, each at its own pinned time.
make_fixture_history() {
	local i=0 d
	while read -r d; do
		i=$((i + 1))
		sed -n "${i}p" "$FX/envelopes.ndjson" |
			CHRONOPT_NOW=$d opt-history record --file "$1" >/dev/null || [ $? = 7 ] || return 1
	done <"$FX/dates"
}

envelope() { # run_id horizon
	printf '{"schema":"chronopt/1","run_id":"%s","seed":1,"horizon":{"name":"%s","steps":7},"trigger":{"status":"done","should_optimize":false,"summary":"quiet"}}\n' "$1" "$2"
}

@test "--help prints the usage on stdout and exits 0" {
	run --separate-stderr opt-history --help
	assert_success
	assert_output --partial "usage: opt-history record"
	[ -z "$stderr" ]
	run --separate-stderr opt-history show --help
	assert_success
	assert_output --partial "opt-history export --format csv"
}

@test "misuse exits 2 with a message on stderr" {
	run --separate-stderr opt-history
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-history: missing command (record, show, last, export or repair)" ]
	run --separate-stderr opt-history frobnicate
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-history: unknown command 'frobnicate'" ]
	run --separate-stderr opt-history show --limit ten
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-history: --limit 'ten' is not a count" ]
	run --separate-stderr opt-history show --since 2026-02-30
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-history: --since '2026-02-30' is not a date (YYYY-MM-DD)" ]
	run --separate-stderr opt-history show --horizon ../x
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-history: --horizon '../x' is not a plain name" ]
	run --separate-stderr opt-history export
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-history: export needs --format csv" ]
	run --separate-stderr opt-history export --format xml
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-history: --format must be 'csv'" ]
	run --separate-stderr opt-history last --json
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-history: option '--json' does not apply to 'last'" ]
	run --separate-stderr opt-history show extra
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-history: unexpected argument 'extra'" ]
	[ -z "$output" ]
}

@test "record appends one record per envelope and adds a history section" {
	{ envelope r1 7d; envelope r2 15d; } >in.ndjson
	run --separate-stderr opt-history record --file "$H" <in.ndjson
	assert_success
	[ "${#lines[@]}" -eq 2 ]
	assert_line --index 0 --partial '"run_id":"r1"'
	assert_line --index 0 --partial "\"history\":{\"status\":\"done\",\"file\":\"$H\",\"record\":1,\"seconds\":"
	assert_line --index 1 --partial '"record":2,'
	[ "$(wc -l <"$H")" -eq 2 ]
	run grep -c '"schema":"chronopt-history/1","run_id":"r1","horizon":"7d","steps":7,"optimization_date":"2026-11-23T02:00:00Z","outcome":"not_triggered","success":false,"reason":"not triggered: quiet"' "$H"
	assert_output 1
}

@test "a failed horizon is recorded with outcome failed and the stage's reason, exit 7" {
	{
		envelope run-1 7d
		envelope run-1 90d | jq -c '.horizon.steps = 90 | .trigger.should_optimize = true |
			.search = {"status":"error","reason":"too short: need 603, have 600","exit":3} |
			.validation = {"status":"skipped","reason":"search error: too short: need 603, have 600"}'
	} >env
	run --separate-stderr opt-history record --file "$H" <env
	assert_failure 7
	[ "${#lines[@]}" = 2 ]
	[ "$(jq -c '[.horizon, .outcome, .success, .reason]' "$H" | tail -n 1)" = '["90d","failed",false,"search failed: too short: need 603, have 600"]' ]
	[ "$(jq -r .outcome "$H" | head -n 1)" = not_triggered ]
	# recording only the good line is exit 0
	head -n 1 env | opt-history record --file "$H" >/dev/null
}

@test "the history file defaults to \$CHRONOPT_HISTORY, else history.jsonl" {
	envelope r1 7d | opt-history record >/dev/null
	assert_file_exists history.jsonl
	envelope r2 7d | CHRONOPT_HISTORY=other.jsonl opt-history record >/dev/null
	assert_file_exists other.jsonl
	[ "$(wc -l <history.jsonl)" -eq 1 ]
	envelope r3 7d | opt-history record --history third.jsonl >/dev/null
	assert_file_exists third.jsonl
}

@test "history and torn files are created with the user's umask" {
	umask 027
	envelope r1 7d | opt-history record --file "$H" >/dev/null
	[ "$(stat -c %a "$H")" = 640 ]
	umask 000
	printf 'x' >>"$H"
	opt-history repair --file "$H" >/dev/null
	[ "$(stat -c %a "$H".torn-*)" = 666 ]
}

@test "16 concurrent record processes give 16 intact records" {
	for i in $(seq 1 16); do
		envelope "run-$i" 7d >"env-$i"
	done
	pids=()
	for i in $(seq 1 16); do
		opt-history record --file "$H" --wait 60000 <"env-$i" >"out-$i" 2>"err-$i" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p"
	done
	cat err-* >&2
	[ -z "$(cat err-*)" ]
	[ "$(wc -l <"$H")" -eq 16 ]
	run opt-history show --json --file "$H"
	assert_success
	[ "${#lines[@]}" -eq 16 ]
	# each run id exactly once, and the record numbers written back are 1..16
	[ "$(grep -o '"run_id":"run-[0-9]*"' "$H" | sort -u | wc -l)" -eq 16 ]
	[ "$(cat out-* | grep -o '"record":[0-9]*' | sort -t: -k2 -n | cut -d: -f2 | tr '\n' ' ')" = \
		"1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 " ]
	assert_file_not_exists "$H.lock"
}

@test "show prints the fixture history as a table" {
	make_fixture_history "$H"
	run --separate-stderr opt-history show --file "$H"
	assert_success
	assert_output "$(cat "$FX/show.txt")"
}

@test "show --horizon, --since and --limit filter, --json gives records with their number" {
	make_fixture_history "$H"
	run opt-history show --file "$H" --horizon 7d --json
	assert_success
	[ "${#lines[@]}" -eq 3 ]
	assert_line --index 2 --partial '"run_id":"run-04"'
	assert_line --index 2 --regexp '"record":7}$'
	run opt-history show --file "$H" --since 2026-10-25 --json
	[ "${#lines[@]}" -eq 3 ]
	assert_line --index 0 --partial '"outcome":"dry_run"'
	run opt-history show --file "$H" --limit 2 --json
	[ "${#lines[@]}" -eq 2 ]
	assert_line --index 0 --partial '"outcome":"failed"'
	run opt-history show --file "$H" --horizon 30d --limit 1
	[ "${#lines[@]}" -eq 2 ]
	assert_line --index 1 --regexp '^    6  2026-11-01T02:00:00Z  30d +failed '
	run opt-history show --file "$H" --limit 0 --json
	assert_success
	assert_output ""
}

@test "a record keeps the trigger's drift statistics and performance check, and nothing else of the checks" {
	printf '%s\n' '{"schema":"chronopt/1","run_id":"r1","seed":1,"horizon":{"name":"7d","steps":7},"trigger":{"status":"done","should_optimize":false,"summary":"quiet","checks":{"drift":{"evaluated":true,"fired":false,"severity":"LOW","ks_statistic":0.21,"ks_pvalue":0.08,"psi":0.3,"recent_end":"2026-09-23","recent_sd":0.01,"baseline_sd":0.008,"severity_rule":{"p_low":0.1},"psi_bins":5},"performance":{"evaluated":true,"fired":false,"source":"backtest","rmse":12.5,"baseline_rmse":11,"degradation_pct":13.6,"origins":9,"last_origin_date":"2026-09-10","details":{"mae":3}},"time":{"max_days":14}}}}' |
		opt-history record --file "$H" >/dev/null
	run opt-history show --file "$H" --json
	assert_success
	[ "$(jq -c '.drift' <<<"$output")" = '{"evaluated":true,"fired":false,"severity":"LOW","ks_statistic":0.21,"ks_pvalue":0.08,"psi":0.3,"recent_end":"2026-09-23","baseline_sd":0.008,"recent_sd":0.01}' ]
	[ "$(jq -c '.performance' <<<"$output")" = '{"evaluated":true,"fired":false,"source":"backtest","rmse":12.5,"baseline_rmse":11,"degradation_pct":13.6,"origins":9,"last_origin_date":"2026-09-10"}' ]
	! grep -q '"time"\|severity_rule\|details' "$H"
}

@test "a record carries outcome, triggers, held-out figures, config, validation, deployment and durations" {
	make_fixture_history "$H"
	run opt-history show --file "$H" --json --limit 1 --horizon 7d
	assert_output '{"schema":"chronopt-history/1","run_id":"run-04","horizon":"7d","steps":7,"optimization_date":"2026-11-08T02:00:00Z","outcome":"deployed","success":true,"reason":null,"triggered_by":["performance","drift"],"performance_degradation_pct":22.75,"drift_severity":"MEDIUM","days_since_last":9,"drift":null,"performance":null,"validation_rmse":6,"validation_mape":0.56,"validation_mae":4.75,"held_out":{"windows":null,"first_date":null,"last_date":null,"candidate":{"rmse":6,"mape":0.56,"mae":4.75,"bias":null,"cov95":null},"incumbent":null,"random_walk":null},"config":{"context_length":256,"search_rmse":5.875,"search_mape":0.55,"search_mae":4.5},"pareto":null,"validation":{"status":"done","approved":true,"summary":"better","candidate":{"rmse":6,"mape":0.56,"mae":4.75},"seconds":3},"deployment":{"status":"done","deployed":true,"seconds":0.5},"challenger":null,"durations":{"trigger":0.5,"search":15,"validation":3,"deployment":0.5,"total":19},"seed":42,"series":null,"model":null,"record":7}'
	# per-window losses and trial arrays are not copied into the history
	run grep -c 'window_losses\|"losses"' "$H"
	assert_output 0
}

@test "last gives the date of the last optimization per horizon" {
	make_fixture_history "$H"
	run --separate-stderr opt-history last --file "$H"
	assert_success
	assert_output "$(cat "$FX/last.ndjson")"
	run opt-history last --file "$H" --horizon 7d
	assert_output "2026-11-08T02:00:00Z"
	# not_approved counts as an optimization, unless --deployed
	head -n 4 "$H" >h4.jsonl
	run opt-history last --file h4.jsonl --horizon 7d
	assert_output "2026-10-18T02:00:00Z"
	run opt-history last --file h4.jsonl --horizon 7d --deployed
	assert_output "2026-10-04T02:00:00Z"
	# never optimized: nothing printed, still success
	run --separate-stderr opt-history last --file "$H" --horizon 30d
	assert_success
	assert_output ""
	run opt-history last --file missing.jsonl --horizon 7d
	assert_success
	assert_output ""
}

@test "export --format csv writes the fixed columns" {
	make_fixture_history "$H"
	run --separate-stderr opt-history export --format csv --file "$H"
	assert_success
	assert_output "$(cat "$FX/export.csv")"
	assert_line --index 0 "record,run_id,horizon,steps,optimization_date,outcome,success,reason,triggered_by,performance_degradation_pct,drift_severity,days_since_last,validation_rmse,validation_mape,validation_mae,config,validation,deployment,seconds,seed"
	run opt-history export --format csv --file "$H" --horizon 90d
	[ "${#lines[@]}" -eq 2 ]
	assert_line --index 1 --partial '5,"run-03","90d",90,"2026-10-25T02:00:00Z","dry_run",false,'
}

@test "hostile values (newlines, quotes, commas) survive export as valid CSV" {
	opt-history record --file "$H" <"$FX/hostile.ndjson" >/dev/null
	opt-history export --format csv --file "$H" >out.csv
	cmp out.csv "$FX/hostile.csv"
	# every quote-delimited field is balanced: an even number of '"' in the file
	[ $(($(tr -cd '"' <out.csv | wc -c) % 2)) -eq 0 ]
	# the table for people never breaks a row on an embedded newline
	run opt-history show --file "$H"
	[ "${#lines[@]}" -eq 2 ]
	assert_line --index 1 --partial 'a,b,q"uote,new?line'
}

@test "a torn last record is reported by every command and blocks record" {
	envelope r1 7d | opt-history record --file "$H" >/dev/null
	printf '{"schema":"chronopt-history/1","run_id":"r2"' >>"$H"
	cp "$H" before
	msg="opt-history: $H:2: torn last record (no newline); run 'opt-history repair'"
	for cmd in show "last" "export --format csv"; do
		run --separate-stderr opt-history $cmd --file "$H"
		assert_failure 3
		[ "$stderr" = "$msg" ]
		[ -z "$output" ]
	done
	run --separate-stderr opt-history record --file "$H" < <(envelope r3 7d)
	assert_failure 3
	[ "$stderr" = "$msg" ]
	[ -z "$output" ]
	cmp "$H" before
}

@test "repair moves the torn tail aside and truncates" {
	envelope r1 7d | opt-history record --file "$H" >/dev/null
	printf '{"schema":"chronopt-history/1","run_id":"r2"' >>"$H"
	run --separate-stderr opt-history repair --file "$H"
	assert_success
	assert_output "$H:2: moved the torn last record (44 bytes) to '$H.torn-20261123T020000Z'"
	[ "$(cat "$H.torn-20261123T020000Z")" = '{"schema":"chronopt-history/1","run_id":"r2"' ]
	[ "$(wc -l <"$H")" -eq 1 ]
	run opt-history show --file "$H" --json
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	run opt-history repair --file "$H"
	assert_success
	assert_output "$H: nothing to repair"
	# a second torn tail in the same second does not overwrite the first
	printf 'xyz' >>"$H"
	run opt-history repair --file "$H"
	assert_output "$H:2: moved the torn last record (3 bytes) to '$H.torn-20261123T020000Z.1'"
	assert_file_exists "$H.torn-20261123T020000Z"
}

@test "a record killed half-way through its write leaves a torn line that repair fixes" {
	envelope r1 7d | opt-history record --file "$H" >/dev/null
	envelope r2 7d >env2
	run bash -c "CHRONOPT_FAIL_AT=kill:partial opt-history record --file '$H' <env2"
	[ "$status" -eq 137 ]
	# SIGKILL cannot be caught: the lock file stays with the dead pid, but
	# the kernel released the lock, so the next process takes it at once
	pid=$(cat "$H.lock")
	[ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null
	run --separate-stderr opt-history show --file "$H"
	assert_failure 3
	[ "$stderr" = "opt-history: $H:2: torn last record (no newline); run 'opt-history repair'" ]
	opt-history repair --file "$H" >/dev/null
	run opt-history show --file "$H" --json
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	assert_file_not_exists "$H.lock"
}

@test "an injected write or fsync failure is exit 4 and leaves the file as it was" {
	envelope r1 7d | opt-history record --file "$H" >/dev/null
	cp "$H" before
	envelope r2 7d >env2
	for step in open write fsync; do
		run --separate-stderr bash -c "CHRONOPT_FAIL_AT=$step opt-history record --file '$H' <env2"
		assert_failure 4
		[[ "$stderr" == "opt-history: cannot "*" '$H': Input/output error" ]]
		[ -z "$output" ]
		cmp "$H" before
	done
	assert_file_not_exists "$H.lock"
}

@test "a malformed middle line is bad input naming file and line" {
	envelope r1 7d | opt-history record --file "$H" >/dev/null
	echo '{"schema":"chronopt-history/1", oops' >>"$H"
	envelope r3 7d | opt-history record --file "$H" >/dev/null
	run --separate-stderr opt-history show --file "$H"
	assert_failure 3
	[ "$stderr" = "opt-history: $H:2: invalid JSON near column 34" ]
	echo '{"schema":"chronopt-history/9","horizon":"7d"}' >bad.jsonl
	run --separate-stderr opt-history last --file bad.jsonl
	assert_failure 3
	[ "$stderr" = "opt-history: bad.jsonl:1: unsupported schema 'chronopt-history/9' (expected 'chronopt-history/1')" ]
	printf '\n' >blank.jsonl
	run --separate-stderr opt-history export --format csv --file blank.jsonl
	assert_failure 3
	[ "$stderr" = "opt-history: blank.jsonl:1: empty line" ]
}

@test "a bad envelope is exit 3 and nothing of it is recorded" {
	run --separate-stderr bash -c "{ echo '{\"schema\":\"chronopt/1\",\"run_id\":\"r\",\"seed\":1,\"horizon\":{\"name\":\"7d\",\"steps\":7}}'; echo '{oops'; } | opt-history record --file '$H'"
	assert_failure 3
	[ "$stderr" = "opt-history: <stdin>:2: invalid JSON near column 3" ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$(wc -l <"$H")" -eq 1 ]
}

@test "a held lock is exit 5 naming the holder's pid; a lock file left by a dead process is taken" {
	echo 999999 >"$H.lock"
	exec {fd}<>"$H.lock"
	flock "$fd"
	echo "$$" >"$H.lock"
	run --separate-stderr opt-history record --file "$H" --wait 0 < <(envelope r1 7d)
	assert_failure 5
	[ "$stderr" = "opt-history: '$H.lock' is held by pid $$" ]
	assert_file_not_exists "$H"
	run --separate-stderr opt-history record --file "$H" --wait 300 < <(envelope r1 7d)
	assert_failure 5
	exec {fd}>&-
	# nobody holds it now; the pid in it is ours, still running: not a lock
	run --separate-stderr opt-history record --file "$H" --wait 0 < <(envelope r1 7d)
	assert_success
	[ "$(wc -l <"$H")" -eq 1 ]
	assert_file_not_exists "$H.lock"
	# a holder that was killed: its file stays, the kernel released the lock
	sleep 60 &
	dead=$!
	kill -9 "$dead"
	wait "$dead" || true
	echo "$dead" >"$H.lock"
	run --separate-stderr opt-history record --file "$H" --wait 0 < <(envelope r2 7d)
	assert_success
	[ "$(wc -l <"$H")" -eq 2 ]
	assert_file_not_exists "$H.lock"
}

@test "an unwritable place is exit 4" {
	run --separate-stderr opt-history record --file "$BATS_TEST_TMPDIR/no/such/dir/h.jsonl" < <(envelope r1 7d)
	assert_failure 4
	[ "$stderr" = "opt-history: cannot create '$BATS_TEST_TMPDIR/no/such/dir/h.jsonl.lock': No such file or directory" ]
}

@test "a closed stdout is reported, not silent" {
	envelope r1 7d | opt-history record --file "$H" >/dev/null
	run --separate-stderr bash -c "opt-history show --file '$H' >/dev/full"
	assert_failure 4
	[[ "$stderr" == "opt-history: error writing standard output"* ]]
}

@test "the man page examples run" {
	# a run without failed horizons (record exits 7 after recording one)
	grep -v '"status":"error"' "$FX/envelopes.ndjson" >run.ndjson
	[ "$(wc -l <run.ndjson)" -eq 5 ]
	run bash -c 'opt-history record --file history.jsonl < run.ndjson > /dev/null &&
		opt-history show --horizon 7d --limit 10 &&
		opt-history last --horizon 7d &&
		opt-history export --format csv --since 2026-01-01 > history.csv'
	assert_success
	[ "$(wc -l <history.csv)" -eq 6 ]
}

@test "a full disk on stdout is exit 4 with one message, for every command" {
	envelope r1 7d | opt-history record --file "$H" >/dev/null
	local cmd
	for cmd in "show" "show --json" "last" "export --format csv" "repair" "--help"; do
		run --separate-stderr bash -c "opt-history $cmd --file '$H' >/dev/full"
		assert_failure 4
		assert_equal "$stderr" "opt-history: error writing standard output: No space left on device"
	done
}

@test "record with a full stdout is exit 4 naming the envelope; the record itself is in the file" {
	run --separate-stderr bash -c "$(declare -f envelope); envelope r1 7d | opt-history record --file '$H' >/dev/full"
	assert_failure 4
	assert_equal "$stderr" "opt-history: error writing envelope: No space left on device"
	[ "$(wc -l <"$H")" -eq 1 ]
}

@test "a read error on the history file (a directory) is exit 4 naming it" {
	mkdir "$BATS_TEST_TMPDIR/d.jsonl"
	for cmd in show last "export --format csv"; do
		run --separate-stderr bash -c "opt-history $cmd --file '$BATS_TEST_TMPDIR/d.jsonl'"
		assert_failure 4
		assert_equal "$stderr" "opt-history: cannot read '$BATS_TEST_TMPDIR/d.jsonl': Is a directory"
	done
}

@test "a long summary in multi-byte UTF-8 is cut at a character boundary, never mid-character" {
	long=x$(printf 'é%.0s' $(seq 600))
	printf '{"schema":"chronopt/1","run_id":"r","seed":1,"horizon":{"name":"7d","steps":7},"trigger":{"status":"done","should_optimize":false,"summary":"%s"}}\n' "$long" |
		opt-history record --file "$H" >/dev/null
	iconv -f UTF-8 -t UTF-8 "$H" >/dev/null
	run jq -r '.reason | endswith("é")' "$H"
	assert_output true
	opt-history export --format csv --file "$H" | iconv -f UTF-8 -t UTF-8 >/dev/null
}

@test "a number that does not fit (1e999 in the file) is bad input, as in an envelope" {
	printf '{"schema":"chronopt-history/1","horizon":"7d","optimization_date":"2026-11-01T02:00:00Z","outcome":"error","performance_degradation_pct":1e999,"drift_severity":-1e999,"seed":5}\n' >"$H"
	run --separate-stderr opt-history export --format csv --file "$H"
	assert_failure 3
	[ "$stderr" = "opt-history: $H:1: number '1e999' at column 138 does not fit a double" ]
	[ -z "$output" ]
}

@test "show never cuts a huge number into a wrong one" {
	printf '{"schema":"chronopt-history/1","horizon":"7d","optimization_date":"2026-11-01T02:00:00Z","outcome":"error","days_since_last":1e300,"durations":{"total":-1e300}}\n' >"$H"
	run --separate-stderr opt-history show --file "$H"
	assert_success
	assert_line --index 1 --partial '1e+300'
	assert_line --index 1 --partial '-1e+300'
}

@test "an unknown option or a missing argument is one message, then the hint" {
	run --separate-stderr opt-history show --bogus
	assert_failure 2
	assert_equal "$stderr" "opt-history: unrecognized option '--bogus'
Try 'opt-history --help'."
	run --separate-stderr opt-history show --file
	assert_failure 2
	assert_equal "$stderr" "opt-history: option '--file' requires an argument
Try 'opt-history --help'."
}

@test "an endless history file (/dev/zero) is refused at its size cap, not read until memory runs out" {
	run --separate-stderr opt-history show --file /dev/zero
	assert_failure 3
	assert_equal "$stderr" "opt-history: /dev/zero: larger than 268435456 bytes"
	run --separate-stderr opt-history show --file /dev/null
	assert_success
}
