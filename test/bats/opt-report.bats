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

@test "a rollback made by opt-deploy watch shows as such, with its reason" {
	load deploy_helper
	for i in 1 2 3; do envelope "$i" $((i * 90)) $((11 - i)) | opt-deploy deploy --config-dir cfg >/dev/null; done
	printf 'predicted,actual\n100,80\n' >log.csv
	opt-deploy watch 7d --log log.csv --config-dir cfg --history h.jsonl >/dev/null
	opt-deploy rollback 7d --config-dir cfg >/dev/null # by hand: not in the history
	run --separate-stderr opt-report --history h.jsonl --config-dir cfg
	assert_success
	assert_output --partial "<td>rolled back by watch</td>"
	assert_output --partial "watch (forecast log): RMSE 20 over 1 forecasts is 150.0 % above the baseline 8 (rollback above 50 %); rolled &#39;cfg/7d.json&#39; back to backups/7d_20261123T020000Z-2.json"
	# the per-horizon table counts it
	assert_output --regexp "<td class=\"h\">7d</td><td>0</td><td>0</td><td>0</td><td>1</td>"
}
