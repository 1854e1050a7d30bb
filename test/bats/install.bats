#!/usr/bin/env bats
# make install: the tools, pipeline.sh, install-cron, the man pages, and the
# bundled settings, demo model and series under share/chronopt, found by the
# installed tools and pipeline.sh from any directory.

bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

: "${CHRONOPT_ROOT:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
: "${CHRONOPT_BUILD:=$CHRONOPT_ROOT/build}"
export OPENBLAS_NUM_THREADS=1
export CHRONOPT_NOW=2026-11-23T02:00:00Z
unset CHRONOPT_RUN_ID CHRONOPT_HISTORY CHRONOPT_CONFIG CHRONOPT_CONFIG_DIR CHRONOPT_ENV CHRONOPT_BIN
unset CHRONOPT_SERIES CHRONOPT_MODEL CHRONOPT_MAIL_TO CHRONOPT_REPORT CHRONOPT_LOG_FILE CHRONOPT_SYSLOG

setup_file() {
	# One staged install for the whole file (DESTDIR, as a package build
	# does), from the tools this test run built.
	export STAGE=$BATS_FILE_TMPDIR/stage
	export P=$STAGE/opt/chronopt
	make --no-print-directory -s -C "$CHRONOPT_ROOT" install DESTDIR="$STAGE" PREFIX=/opt/chronopt \
		B="$CHRONOPT_BUILD" >"$BATS_FILE_TMPDIR/install.log" 2>&1
}

setup() {
	mkdir -p "$BATS_TEST_TMPDIR/elsewhere"
	cd "$BATS_TEST_TMPDIR/elsewhere"
	{
		head -n 1 "$CHRONOPT_ROOT/testdata/usdclp_daily.csv"
		tail -n 1000 "$CHRONOPT_ROOT/testdata/usdclp_daily.csv"
	} >series.csv
}

@test "make install puts the tools, scripts, pages and bundled data under PREFIX" {
	cat "$BATS_FILE_TMPDIR/install.log"
	for t in opt-trigger opt-search opt-validate opt-deploy opt-history opt-report opt-backtest opt-forecast \
		pipeline.sh chronopt-install-cron; do
		[ -x "$P/bin/$t" ] || { echo "missing $P/bin/$t"; return 1; }
	done
	[ "$(stat -c %a "$P/bin/pipeline.sh")" = 755 ]
	for f in configs/chronopt.json configs/demo.json configs/demo-quantile.json \
		models/chronos-demo/config.json models/chronos-demo/model.safetensors \
		models/chronos-bolt-demo/config.json models/chronos-bolt-demo/model.safetensors \
		models/chronos-2-demo/config.json models/chronos-2-demo/model.safetensors testdata/usdclp_daily.csv; do
		cmp "$CHRONOPT_ROOT/$f" "$P/share/chronopt/$f"
		[ "$(stat -c %a "$P/share/chronopt/$f")" = 644 ]
	done
	[ -f "$P/share/man/man1/pipeline.sh.1" ]
	[ -f "$P/share/man/man1/chronopt-install-cron.1" ]
	[ -f "$P/share/man/man7/chronopt-envelope.7" ]
}

@test "installed tools read the installed settings from any directory; tools outside an install do not" {
	plan() { # the search space opt-search plans for 7d with tools in $1
		"$1/opt-trigger" --series series.csv --model random_walk --horizon 7d --force |
			"$1/opt-search" --plan | head -n 1 | jq -c .plan.space.top_k
	}
	[ ! -e configs ]
	# configs/chronopt.json searches top_k 50; the built-in default is 0
	[ "$(plan "$P/bin")" = "[50]" ]
	[ "$(plan "$CHRONOPT_BUILD/bin")" = "[0]" ]
	# the working directory's configs/chronopt.json still comes first
	mkdir configs
	jq '.search.spaces."7d".top_k = [7]' "$CHRONOPT_ROOT/configs/chronopt.json" >configs/chronopt.json
	[ "$(plan "$P/bin")" = "[7]" ]
}

@test "the installed pipeline.sh runs from another directory with the installed tools and settings" {
	mkdir ws && cd ws
	printf 'CHRONOPT_SERIES=../series.csv\nCHRONOPT_MODEL=random_walk\n' >chronopt.env
	run --separate-stderr "$P/bin/pipeline.sh" check
	assert_success
	assert_line "tools       $P/bin"
	assert_line "settings    $(cd "$P/share/chronopt" && pwd -P)/configs/chronopt.json"
	# the bundled settings refuse a stale series: pin the clock to the day after its last date
	CHRONOPT_NOW=2026-09-24T02:00:00Z CHRONOPT_RUN_ID=run-1 run --separate-stderr "$P/bin/pipeline.sh" run --horizon 7d
	assert_success
	assert_line --partial "7d: triggered"
	grep -q "^$P/bin/opt-search " runs/run-1/commands
	jq -e '.search.space.top_k == [50] or .search.candidate.top_k == 50' runs/run-1/10-search.ndjson
	[ -f configs/7d.json ] || grep -q "not approved" runs/run-1/20-validate.ndjson
	[ "$(wc -l <history.jsonl)" -eq 1 ]
	[ -s report.html ]
}

@test "the installed demo uses the installed demo settings and demo model" {
	# stand-in tools: only the demo's choices are looked at
	mkdir fakebin
	for t in opt-trigger opt-search opt-validate opt-deploy opt-history opt-report; do
		printf '#!/bin/sh\nexit 4\n' >"fakebin/$t"
		chmod +x "fakebin/$t"
	done
	run --separate-stderr "$P/bin/pipeline.sh" --bin "$PWD/fakebin" demo --workspace demo
	assert_failure 4
	share=$(cd "$P/share/chronopt" && pwd -P)
	grep -qx "CHRONOPT_MODEL=$share/models/chronos-demo" demo/chronopt.env
	grep -qx "CHRONOPT_CONFIG=$share/configs/demo.json" demo/chronopt.env
	grep -qx "CHRONOPT_SERIES=$share/testdata/usdclp_daily.csv" demo/chronopt.env
	[[ $stderr == *"demo: using the bundled demo model $share/models/chronos-demo"* ]]
}

@test "the installed install-cron schedules the installed pipeline.sh" {
	mkdir ws
	printf 'CHRONOPT_SERIES=../series.csv\nCHRONOPT_MODEL=random_walk\n' >ws/chronopt.env
	run --separate-stderr "$P/bin/chronopt-install-cron" --print --workspace ws
	assert_success
	assert_line "CHRONOPT_BIN=\"$P/bin\""
	assert_output --partial "'$P/bin/pipeline.sh' --env '$PWD/ws/chronopt.env' run --all"
}

@test "make uninstall removes what make install put there" {
	cp -a "$STAGE" copy
	make --no-print-directory -s -C "$CHRONOPT_ROOT" uninstall DESTDIR="$PWD/copy" PREFIX=/opt/chronopt \
		B="$CHRONOPT_BUILD"
	[ -z "$(find copy -type f)" ]
}
