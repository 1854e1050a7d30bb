#!/usr/bin/env bats
# opt-report: command-line contract (the page itself is tested in
# pipeline.bats and test/unit/test_report.c).

load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	FIX="$CHRONOPT_ROOT/test/bats/fixtures/pipeline"
}

@test "a page on stdout is exit 0" {
	run --separate-stderr opt-report --history "$FIX/history-sample.jsonl" --config-dir /nonexistent
	assert_success
	assert_output --partial "<html"
}

@test "a full stdout is exit 4 with exactly one message" {
	run --separate-stderr bash -c "opt-report --history '$FIX/history-sample.jsonl' --config-dir /nonexistent >/dev/full"
	assert_failure 4
	assert_equal "$stderr" "opt-report: error writing the page: No space left on device"
}

@test "a FIFO in the config directory is skipped, not waited on" {
	mkdir -p fifo/cfg
	mkfifo fifo/cfg/7d.json
	: >fifo/h.jsonl
	# timeout only guards against the hang this test is about
	run --separate-stderr timeout 20 opt-report --history fifo/h.jsonl --config-dir fifo/cfg --html fifo/r.html
	assert_success
	[ -s fifo/r.html ]
}
