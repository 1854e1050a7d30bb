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
