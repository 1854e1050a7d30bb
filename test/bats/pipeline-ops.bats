#!/usr/bin/env bats
# pipeline.sh for operations: no run without a model, check, watch (the
# automatic rollback), the event log (--log FILE) and syslog (--syslog).

bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

: "${CHRONOPT_ROOT:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
: "${CHRONOPT_BIN:=$CHRONOPT_ROOT/build/bin}"
export CHRONOPT_ROOT CHRONOPT_BIN
export OPENBLAS_NUM_THREADS=1
export CHRONOPT_NOW=2026-11-23T02:00:00Z
unset CHRONOPT_RUN_ID CHRONOPT_HISTORY CHRONOPT_CONFIG CHRONOPT_CONFIG_DIR CHRONOPT_FAIL_AT CHRONOPT_ENV
unset CHRONOPT_SERIES CHRONOPT_MODEL CHRONOPT_MAIL_TO CHRONOPT_MAIL_COMMAND CHRONOPT_REPORT
unset CHRONOPT_LOG_FILE CHRONOPT_SYSLOG CHRONOPT_FORECAST_LOG

PIPE="$CHRONOPT_ROOT/pipeline.sh"
FIX="$CHRONOPT_ROOT/test/bats/fixtures/pipeline"

setup() {
	ws=$BATS_TEST_TMPDIR/ws
	mkdir -p "$ws" "$BATS_TEST_TMPDIR/tmp"
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	{
		head -n 1 "$CHRONOPT_ROOT/testdata/usdclp_daily.csv"
		tail -n 1000 "$CHRONOPT_ROOT/testdata/usdclp_daily.csv"
	} >"$ws/series.csv"
	cat >"$ws/chronopt.env" <<ENV
CHRONOPT_SERIES=series.csv
CHRONOPT_MODEL=random_walk
CHRONOPT_CONFIG=$FIX/settings.json
ENV
	cd "$ws"
}

pipe() { "$PIPE" --env "$ws/chronopt.env" "$@"; }

# A logger(1) stand-in on the PATH: one line per call, its argv.
fake_logger() {
	mkdir -p "$BATS_TEST_TMPDIR/fake"
	printf '#!/bin/sh\nprintf "%%s|" "$@" >>"%s"\necho >>"%s"\n' "$BATS_TEST_TMPDIR/syslog" \
		"$BATS_TEST_TMPDIR/syslog" >"$BATS_TEST_TMPDIR/fake/logger"
	chmod +x "$BATS_TEST_TMPDIR/fake/logger"
	export PATH="$BATS_TEST_TMPDIR/fake:$PATH"
}

# ------------------------------------------------------------------ model

@test "run refuses to start without a model, and touches nothing" {
	sed -i '/^CHRONOPT_MODEL=/d' chronopt.env
	run --separate-stderr pipe run --all
	assert_failure 2
	[[ $stderr == "pipeline.sh: no model configured: set CHRONOPT_MODEL in the env file"*"or give --model; pipeline.sh demo uses the bundled demo model" ]]
	[ "$(ls)" = "chronopt.env
series.csv" ]
	run --separate-stderr pipe run --horizon 7d --dry-run
	assert_failure 2
	# named by option or environment, it runs
	run --separate-stderr pipe --model random_walk run --horizon 7d --dry-run
	assert_success
	CHRONOPT_MODEL=random_walk run --separate-stderr pipe run --horizon 7d --dry-run
	assert_success
}

@test "check prints the settings as resolved, and refuses what a run would refuse" {
	run --separate-stderr pipe check
	assert_success
	assert_line "series      $ws/series.csv"
	assert_line "model       random_walk"
	assert_line "settings    $FIX/settings.json"
	assert_line "configs     $ws/configs"
	assert_line "tools       $CHRONOPT_BIN"
	[ "$(ls)" = "chronopt.env
series.csv" ]
	sed -i '/^CHRONOPT_MODEL=/d' chronopt.env
	run --separate-stderr pipe check
	assert_failure 2
	run --separate-stderr pipe --model "$ws/nomodel" check
	assert_failure 4
	[ "$stderr" = "pipeline.sh: model '$ws/nomodel' is not a Chronos checkpoint directory (config.json, model.safetensors)" ]
	run --separate-stderr pipe --model random_walk --series nothere.csv check
	assert_failure 4
	[ "$stderr" = "pipeline.sh: cannot read the series '$ws/nothere.csv'" ]
	printf '[1]\n' >bad.json
	run --separate-stderr pipe --model random_walk --config bad.json check
	assert_failure 3
	run --separate-stderr pipe --model random_walk --bin "$BATS_TEST_TMPDIR" check
	assert_failure 4
}

@test "demo without a model says it uses the bundled demo model and names it in the workspace" {
	# Tools that fail at once: the demo's choices are made before they run.
	mkdir fakebin
	for t in opt-trigger opt-search opt-validate opt-deploy opt-history opt-report; do
		printf '#!/bin/sh\necho "%s: stand-in" >&2\nexit 4\n' "$t" >"fakebin/$t"
		chmod +x "fakebin/$t"
	done
	mkdir ../elsewhere && cd ../elsewhere
	run --separate-stderr "$PIPE" --bin "$ws/fakebin" --series "$ws/series.csv" demo --workspace "$ws/demo"
	assert_failure 4
	[[ $stderr == *"pipeline.sh: demo: using the bundled demo model $CHRONOPT_ROOT/models/chronos-demo (a small Chronos-T5 trained on synthetic series only, not a production model; --model DIR for a real checkpoint)"* ]]
	grep -qx "CHRONOPT_MODEL=$CHRONOPT_ROOT/models/chronos-demo" "$ws/demo/chronopt.env"
	grep -q -- "--model $CHRONOPT_ROOT/models/chronos-demo" "$ws"/demo/runs/*/commands
	# a model given is the demo's, without the warning
	run --separate-stderr "$PIPE" --bin "$ws/fakebin" --series "$ws/series.csv" --model random_walk demo --workspace "$ws/demo2"
	[[ $stderr != *"bundled demo model"* ]]
	grep -qx "CHRONOPT_MODEL=random_walk" "$ws/demo2/chronopt.env"
}

# ------------------------------------------------------------------- logs

@test "--log FILE: one tagged line per stage event with its priority" {
	CHRONOPT_RUN_ID=run-1 run --separate-stderr pipe --log "$ws/events.log" run --horizon 7d
	assert_success
	cat events.log
	# every line: time, tag with pid, priority, run
	[ -z "$(grep -Ev '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z chronopt\[[0-9]+\]: (info|notice|warning|err): run run-1: ' events.log)" ]
	for s in 00-trigger 10-search 20-validate 30-deploy 40-history; do
		grep -Eq ": info: run run-1: stage $s started$" events.log
		grep -Eq ": info: run run-1: stage $s done \(exit 0, [0-9]+ s\)$" events.log
	done
	grep -q ": notice: run run-1: 7d deployed$" events.log
	grep -q ": info: run run-1: done: 1 triggered, 1 approved, 0 not approved, 1 deployed$" events.log
	# a failing stage: err, with the tool's own message line
	printf 'Date,Value\n' >empty.csv
	CHRONOPT_RUN_ID=run-2 run --separate-stderr pipe --log "$ws/events.log" --series empty.csv run --horizon 7d
	assert_failure 3
	grep -q ": err: run run-2: stage 00-trigger failed (exit 3, [0-9]* s)$" events.log
	grep -q ": err: run run-2: 00-trigger: opt-trigger: .*empty.csv" events.log
	grep -q ": err: run run-2: failed (exit 3); envelopes and stderr in $ws/runs/run-2$" events.log
	# set in the env file: relative to it
	printf 'CHRONOPT_LOG_FILE=logs/events.log\n' >>chronopt.env
	CHRONOPT_RUN_ID=run-3 run --separate-stderr pipe run --horizon 7d
	assert_success
	grep -q ": info: run run-3: done: nothing to do" logs/events.log
}

@test "--syslog: every event goes to logger(1) with tag, pid and priority; a failing logger warns once" {
	fake_logger
	CHRONOPT_RUN_ID=run-1 run --separate-stderr pipe --syslog run --horizon 7d
	assert_success
	cat "$BATS_TEST_TMPDIR/syslog"
	[ "$(grep -c . "$BATS_TEST_TMPDIR/syslog")" -ge 13 ]
	[ -z "$(grep -Ev '^-t\|chronopt\|--id=[0-9]+\|-p\|user\.(info|notice|warning|err)\|--\|run run-1: [^|]*\|$' "$BATS_TEST_TMPDIR/syslog")" ]
	grep -q '^-t|chronopt|--id=[0-9]*|-p|user.info|--|run run-1: stage 10-search done (exit 0, [0-9]* s)|$' "$BATS_TEST_TMPDIR/syslog"
	grep -q '^-t|chronopt|--id=[0-9]*|-p|user.notice|--|run run-1: 7d deployed|$' "$BATS_TEST_TMPDIR/syslog"
	# CHRONOPT_SYSLOG=1 in the env file does the same; a broken logger is one warning
	printf '#!/bin/sh\nexit 1\n' >"$BATS_TEST_TMPDIR/fake/logger"
	printf 'CHRONOPT_SYSLOG=1\n' >>chronopt.env
	CHRONOPT_RUN_ID=run-2 run --separate-stderr pipe run --horizon 7d
	assert_success
	[ "$(grep -c 'warning: logger(1) failed: the events do not reach syslog' <<<"$stderr")" -eq 1 ]
	run --separate-stderr pipe --model random_walk check
	assert_line "syslog      yes"
	sed -i 's/^CHRONOPT_SYSLOG=1/CHRONOPT_SYSLOG=maybe/' chronopt.env
	run --separate-stderr pipe check
	assert_failure 2
	[ "$stderr" = "pipeline.sh: syslog 'maybe' is not 0 or 1" ]
}

# ------------------------------------------------------------------ watch

@test "watch: a forecast log over the rules rolls back, records, logs and mails it; the report shows it" {
	sed -i "s|^CHRONOPT_CONFIG=.*|CHRONOPT_CONFIG=$FIX/settings-lenient.json|" chronopt.env
	cat >"$BATS_TEST_TMPDIR/capture" <<'SH'
#!/bin/sh
printf '%s\n' "$@" >"$BATS_TEST_TMPDIR/mail.argv"
cat >"$BATS_TEST_TMPDIR/mail.body"
SH
	chmod +x "$BATS_TEST_TMPDIR/capture"
	printf 'CHRONOPT_MAIL_TO=ops@example.org\nCHRONOPT_MAIL_COMMAND=%s -s {subject} {to}\nCHRONOPT_FORECAST_LOG=forecasts/{horizon}.csv\n' \
		"$BATS_TEST_TMPDIR/capture" >>chronopt.env
	export BATS_TEST_TMPDIR
	CHRONOPT_RUN_ID=run-1 run pipe run --horizon 7d
	assert_success
	CHRONOPT_NOW=2026-11-24T02:00:00Z CHRONOPT_RUN_ID=run-2 run pipe run --horizon 7d --force
	assert_success
	[ "$(jq -r .run_id configs/7d.json)" = run-2 ]
	base=$(jq -r '.validation.rmse // .validation_rmse' configs/7d.json)
	mkdir forecasts
	printf 'forecast_date,predicted,actual\n2026-11-24,%s,0\n' "$(jq -n "$base * 2")" >forecasts/7d.csv
	# no log for the other horizons, nothing deployed for them
	CHRONOPT_NOW=2026-11-25T06:00:00Z CHRONOPT_RUN_ID=watch-1 run --separate-stderr pipe --log "$ws/events.log" watch --all
	assert_success
	assert_line --regexp "^7d: rolled back: RMSE .* above the baseline"
	assert_line "15d: nothing deployed"
	[ "$(jq -r .run_id configs/7d.json)" = run-1 ]
	rec=$(tail -n 1 history.jsonl)
	jq -e '.run_id == "watch-1" and .outcome == "rolled_back" and .deployment.source == "watch" and .steps == 7' <<<"$rec"
	grep -q ": warning: watch watch-1: 7d: rolled back: RMSE" events.log
	grep -q "watch 7d rolled back: RMSE" logs/pipeline.log
	[ "$(sed -n 2p "$BATS_TEST_TMPDIR/mail.argv")" = "chronopt: watch rolled back 1 horizon(s)" ]
	grep -q "^7d: rolled back by the watch: RMSE" "$BATS_TEST_TMPDIR/mail.body"
	run --separate-stderr pipe report
	assert_success
	grep -q "<td>rolled back by watch</td>" report.html
	# again: the config now deployed was validated with its own baseline, the
	# log's rows are before its deploy date... or it is healthy; either way no
	# second rollback without a new spike.
	printf 'forecast_date,predicted,actual\n2026-11-26,100,100\n' >forecasts/7d.csv
	CHRONOPT_NOW=2026-11-26T06:00:00Z CHRONOPT_RUN_ID=watch-2 run --separate-stderr pipe watch --horizon 7d
	assert_success
	assert_line --regexp "^7d: healthy: "
	[ "$(jq -r .run_id configs/7d.json)" = run-1 ]
}

@test "watch: without a forecast log setting it is a usage error; a missing log is said, not fatal" {
	run --separate-stderr pipe watch --all
	assert_failure 2
	[ "$stderr" = "pipeline.sh: watch: no forecast log configured: set CHRONOPT_FORECAST_LOG (e.g. forecasts/{horizon}.csv) or give --forecast-log" ]
	CHRONOPT_RUN_ID=run-1 run pipe run --horizon 7d
	assert_success
	run --separate-stderr pipe --forecast-log 'f/{horizon}.csv' watch --horizon 7d
	assert_success
	assert_output "7d: no forecast log $ws/f/7d.csv"
	run --separate-stderr pipe --forecast-log 'f/{horizon}.csv' watch --horizon 7d --all
	assert_failure 2
	# the run lock: a watch does not roll back under a running pipeline
	mkdir -p f && printf 'predicted,actual\n1,1\n' >f/7d.csv
	exec {fd}>>runs/.lock
	flock -n "$fd"
	run --separate-stderr pipe --forecast-log 'f/{horizon}.csv' watch --horizon 7d
	exec {fd}>&-
	assert_failure 5
}
