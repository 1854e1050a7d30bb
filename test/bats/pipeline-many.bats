#!/usr/bin/env bats
# pipeline.sh with many series in one workspace (--ids, CHRONOPT_IDS): one
# long-format CSV, each id with its own configs, history and runs, run in
# parallel; one report, one mail; one id's failure is that id's; ids are
# hostile input.

bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

: "${CHRONOPT_ROOT:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
: "${CHRONOPT_BIN:=$CHRONOPT_ROOT/build/bin}"
export CHRONOPT_ROOT CHRONOPT_BIN
export OPENBLAS_NUM_THREADS=1
export CHRONOPT_NOW=2026-11-23T02:00:00Z
unset CHRONOPT_RUN_ID CHRONOPT_HISTORY CHRONOPT_CONFIG CHRONOPT_CONFIG_DIR CHRONOPT_FAIL_AT CHRONOPT_ENV
unset CHRONOPT_SERIES CHRONOPT_SERIES_ID CHRONOPT_IDS CHRONOPT_MODEL CHRONOPT_MAIL_TO CHRONOPT_MAIL_COMMAND CHRONOPT_REPORT

PIPE="$CHRONOPT_ROOT/pipeline.sh"
FIX="$CHRONOPT_ROOT/test/bats/fixtures/pipeline"

setup() {
	for t in opt-trigger opt-search opt-validate opt-deploy opt-history opt-report; do
		[ -x "$CHRONOPT_BIN/$t" ] || skip "$t is not built"
	done
	ws=$BATS_TEST_TMPDIR/ws
	mkdir -p "$ws" "$BATS_TEST_TMPDIR/tmp"
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	cd "$ws"
	# Four ids: USD/CLP, the same in thousands of pesos (another scale, same
	# decisions), a synthetic calendar-daily random walk near 100, and one
	# whose rows repeat a date (it fails alone: rows of another id are
	# checked when that id is loaded).
	{
		echo unique_id,ds,y
		tail -n 700 "$CHRONOPT_ROOT/testdata/usdclp_daily.csv"
		tail -n 700 "$CHRONOPT_ROOT/testdata/usdclp_daily.csv" | awk -F, '{ printf "USDCLP_milli,%s,%.8f\n", $2, $3 / 1000 }'
		awk 'BEGIN { v = 100; s = 12345
			for (i = 0; i < 700; i++) {
				s = (s * 1103515245 + 12345) % 2147483648; v *= exp(0.02 * (s / 2147483648 - 0.5))
				printf "SYN,%s,%.4f\n", strftime("%Y-%m-%d", 1704067200 + i * 86400, 1), v } }'
		printf 'BROKEN,2026-01-05,1.0\nBROKEN,2026-01-06,1.1\nBROKEN,2026-01-06,1.2\n'
	} >fx.csv
	cat >chronopt.env <<ENV
CHRONOPT_SERIES=fx.csv
CHRONOPT_IDS=all
CHRONOPT_MODEL=drift
CHRONOPT_CONFIG=$FIX/settings.json
CHRONOPT_JOBS=2
ENV
}

pipe() { "$PIPE" --env "$ws/chronopt.env" "$@"; }

make_capture() {
	cat >"$BATS_TEST_TMPDIR/capture" <<'SH'
#!/bin/sh
n=$(ls "$CAPTURE_DIR" | grep -c "argv$")
printf '%s\n' "$@" >"$CAPTURE_DIR/$n.argv"
cat >"$CAPTURE_DIR/$n.body"
SH
	chmod +x "$BATS_TEST_TMPDIR/capture"
	export CAPTURE_DIR=$BATS_TEST_TMPDIR/mails
	mkdir -p "$CAPTURE_DIR"
}

@test "run --all: every id with its own configs, history and runs; one broken id fails alone (exit 7); one report, one mail" {
	make_capture
	printf 'CHRONOPT_MAIL_TO=ops@example.org\nCHRONOPT_MAIL_COMMAND=%s -s {subject} {to}\n' "$BATS_TEST_TMPDIR/capture" >>chronopt.env
	CHRONOPT_RUN_ID=run-1 run --separate-stderr pipe run --all
	assert_failure 7
	[[ $stderr == *"run run-1: 4 series (USDCLP USDCLP_milli SYN BROKEN), 2 at a time, 1 search job each, model drift"* ]]
	assert_line --regexp '^== USDCLP: 4 triggered, [0-4] approved'
	assert_line --regexp '^== SYN: 4 triggered'
	assert_line --regexp "^== BROKEN: FAILED \\(exit 3\\): .*fx.csv:[0-9]+: duplicate date '2026-01-06'"
	assert_line --regexp '^4 series: 12 horizons triggered, [0-9]+ deployed, 1 series failed, 0 partly$'
	# each id: its own history (four horizons), configs (a git repository), run directory
	for id in USDCLP USDCLP_milli SYN; do
		[ "$(wc -l <"series/$id/history.jsonl")" -eq 4 ]
		[ "$(jq -r -s 'map(.series.id) | unique | join(",")' "series/$id/history.jsonl")" = "$id" ]
		[ -d "series/$id/configs/.git" ]
		[ "$(cat "series/$id/runs/run-1/exit")" = 0 ]
		[ "$(cat "runs/run-1/$id.rc")" = 0 ]
	done
	[ ! -e series/BROKEN/history.jsonl ]
	[ "$(cat runs/run-1/BROKEN.rc)" = 3 ]
	# the same series in another unit decides the same: same outcomes, same configs
	[ "$(jq -c -s 'map([.horizon, .outcome, .config.context_length, .config.num_samples])' series/USDCLP/history.jsonl)" = \
		"$(jq -c -s 'map([.horizon, .outcome, .config.context_length, .config.num_samples])' series/USDCLP_milli/history.jsonl)" ]
	# one report of all series, an overview first
	grep -q '<h1>chronopt &mdash; USDCLP, USDCLP_milli, SYN</h1>' report.html
	grep -q '<h2>Overview</h2>' report.html
	[ "$(grep -c '<section class="series"' report.html)" -eq 4 ]
	grep -q '<h2 class="sh">Series SYN</h2>' report.html
	# one mail for the whole run, naming the failed id, each series' report in it
	[ "$(ls "$CAPTURE_DIR" | grep -c argv)" -eq 1 ]
	subject=$(sed -n 2p "$CAPTURE_DIR/0.argv")
	[[ $subject =~ ^chronopt\ 4\ series\ \(model\ drift\):\ [0-9]+\ deployed,\ 1\ series\ failed\ or\ partly\ failed\ \(BROKEN\)$ ]]
	grep -q '^======== series USDCLP_milli$' "$CAPTURE_DIR/0.body"
	grep -q '^series SYN, last date 2025-11-30' "$CAPTURE_DIR/0.body"
	grep -q "^BROKEN: exit 3" "$CAPTURE_DIR/0.body"
}

@test "a chosen set of ids runs alone; status and history are per id" {
	CHRONOPT_RUN_ID=run-1 run --separate-stderr pipe --ids SYN,USDCLP run --horizon 7d
	assert_success
	[ -f series/SYN/history.jsonl ] && [ -f series/USDCLP/history.jsonl ]
	[ ! -e series/USDCLP_milli ] && [ ! -e series/BROKEN ]
	# the order is the one given
	[ "$(grep -c '^== ' <<<"$output")" -eq 2 ]
	assert_line --index 0 --regexp '^== SYN: '
	run --separate-stderr pipe --ids SYN status
	assert_success
	assert_line --index 0 '== series SYN'
	assert_line --index 1 --regexp '^series SYN, last date 2025-11-30, 700 observations'
	refute_output --partial USDCLP
	run --separate-stderr pipe --ids SYN,USDCLP status --json
	assert_success
	[ "$(jq -r '[.series[].series.id] | join(",")' <<<"$output")" = SYN,USDCLP ]
	[ "$(jq -r '.workspace' <<<"$output")" = "$ws" ]
	run --separate-stderr pipe --ids USDCLP history
	assert_success
	assert_line --index 0 '== series USDCLP'
	[ "$(grep -c ' 7d ' <<<"$output")" -eq 1 ]
	run --separate-stderr pipe ids
	assert_success
	assert_output "$(printf 'USDCLP\nUSDCLP_milli\nSYN\nBROKEN')"
	# a rollback is for one series at a time
	run --separate-stderr pipe rollback 7d
	assert_failure 2
	[ "$stderr" = "pipeline.sh: rollback: one series at a time: give --ids ID" ]
}

@test "ids are hostile input: names that are not plain are refused before anything is written" {
	for bad in '../x' 'a/b' '.hidden' '-x' "$(printf 'a\tb')" 'a b' ',,'; do
		run --separate-stderr pipe --ids "$bad" run --all
		assert_failure 2
		[[ $stderr == "pipeline.sh: series id '"*"' is not a plain name"* ]]
	done
	run --separate-stderr pipe --ids NOPE run --all
	assert_failure 2
	[[ $stderr == "pipeline.sh: series id 'NOPE' is not in '$ws/fx.csv'"* ]]
	# a CSV with such an id: exit 3 naming the line, for all and for a set
	printf '../../etc,2026-01-05,1.0\n' >>fx.csv
	run --separate-stderr pipe run --all
	assert_failure 3
	[ "$stderr" = "opt-trigger: $ws/fx.csv:2105: series id '../../etc' is not a plain name (1-64 letters, digits, '.', '_' or '-', not starting with '.' or '-')" ]
	run --separate-stderr pipe --ids SYN run --all
	assert_failure 3
	printf 'unique_id,ds,y\n"a\x1b[31mb",2026-01-05,1.0\n' >ctl.csv
	run --separate-stderr pipe --series ctl.csv run --all
	assert_failure 3
	# the loader refuses the raw control character before the id is looked at
	[[ $stderr == *"ctl.csv:2: control character 0x1b at column 3"* ]]
	# nothing was written
	[ "$(ls -A)" = "$(printf 'chronopt.env\nctl.csv\nfx.csv')" ]
	# one series or several, not both; a shared path would mix the series
	run --separate-stderr pipe --series-id SYN run --all
	assert_failure 2
	[ "$stderr" = "pipeline.sh: give --series-id ID (one series) or --ids (several), not both" ]
	run --separate-stderr pipe --history h.jsonl run --all
	assert_failure 2
	[ "$stderr" = "pipeline.sh: HISTORY: with several series (--ids) each needs its own: the path must contain {id} (e.g. series/{id}/history.jsonl)" ]
	[ ! -e series ] && [ ! -e runs ]
}

@test "series run elsewhere (GNU parallel -S :) are summarized by one report and one mail" {
	command -v parallel >/dev/null || skip "GNU parallel is not installed (scripts/install-deps)"
	make_capture
	printf 'CHRONOPT_MAIL_TO=ops@example.org\nCHRONOPT_MAIL_COMMAND=%s -s {subject} {to}\n' "$BATS_TEST_TMPDIR/capture" >>chronopt.env
	export CHRONOPT_RUN_ID=run-9
	run --separate-stderr bash -c "'$PIPE' --env '$ws/chronopt.env' --ids USDCLP,SYN ids |
		parallel -S : --env CHRONOPT_RUN_ID --env CHRONOPT_NOW '$PIPE' --env '$ws/chronopt.env' --ids {} --mail-to \"''\" run --horizon 7d"
	assert_success
	[ ! -d "$CAPTURE_DIR" ] || [ -z "$(ls "$CAPTURE_DIR")" ]
	[ "$(cat series/USDCLP/runs/run-9/exit)" = 0 ] && [ "$(cat series/SYN/runs/run-9/exit)" = 0 ]
	run --separate-stderr pipe --ids USDCLP,SYN summary run-9
	assert_success
	assert_line --regexp '^== USDCLP: 1 triggered'
	assert_line --regexp '^== SYN: 1 triggered'
	[ "$(ls "$CAPTURE_DIR" | grep -c argv)" -eq 1 ]
	grep -q '<h1>chronopt &mdash; USDCLP, SYN</h1>' report.html
	# a run id nobody ran: each series says so, exit 4 when none has it
	run --separate-stderr pipe --ids USDCLP summary run-404
	assert_failure 4
	assert_line '== USDCLP: no record of run run-404 for this series'
}

@test "the dashboard of a workspace of many series renders in headless Chromium" {
	command -v chromium >/dev/null || skip "chromium is not installed (scripts/install-deps --with-browser)"
	CHRONOPT_RUN_ID=run-1 run pipe --ids USDCLP,SYN run --all
	assert_success
	CHRONOPT_NOW=2026-12-08T02:00:00Z CHRONOPT_RUN_ID=run-2 run pipe --ids USDCLP,SYN run --all --force
	assert_success
	local out=$CHRONOPT_ROOT/test-output
	mkdir -p "$out"
	rm -f "$out/report-many.png"
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$BATS_TEST_TMPDIR/chromium" --screenshot="$out/report-many.png" \
		--window-size=1200,2400 "file://$ws/report.html" 2>"$BATS_TEST_TMPDIR/chromium.log"
	[ "$(head -c 8 "$out/report-many.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
	[ "$(stat -c %s "$out/report-many.png")" -gt 20000 ]
}
