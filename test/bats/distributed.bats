#!/usr/bin/env bats
# opt-search(1), "Over ssh with GNU parallel": the section's commands, run
# as written with the workers set to ':' (GNU parallel's name for the local
# machine: the same command line without ssh), and what a worker must share.

load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	command -v parallel >/dev/null || skip "GNU parallel is not installed (scripts/install-deps)"
	mkdir srv
	{
		head -n 1 "$CHRONOPT_ROOT/testdata/usdclp_daily.csv"
		tail -n 400 "$CHRONOPT_ROOT/testdata/usdclp_daily.csv"
	} >srv/usdclp_daily.csv
	# a small space: this is about the plumbing, not the search
	printf '{"search":{"spaces":{"7d":{"context_length":[60,120],"num_samples":[20],"temperature":[1.0]}}}}\n' >settings.json
	export CHRONOPT_CONFIG=$BATS_TEST_TMPDIR/settings.json
}

# The .nf block of the section, with /srv/chronopt in this test's directory
# and the workers the local machine.
section_commands() {
	sed -n '/^\.SS Over ssh with GNU parallel/,/^\.SS /p' "$CHRONOPT_ROOT/man/man1/opt-search.1" |
		sed -n '/^\.nf/,/^\.fi/{/^\./d;p}' |
		sed -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" -e 's/\\e$/\\/' \
			-e "s|/srv/chronopt/|$BATS_TEST_TMPDIR/srv/|g" -e 's/^WORKERS=.*/WORKERS=:/'
}

@test "the section's commands run with parallel -S : and give what one process gives" {
	section_commands >section.sh
	cat section.sh
	[ "$(grep -c '^parallel ' section.sh)" -eq 2 ]
	[ -z "$(sed 's/\\$//' section.sh | grep -F '\' || true)" ] # no troff escape left
	run --separate-stderr bash -eo pipefail section.sh
	assert_success
	# the --nonall check names what the worker finds, tagged with the worker
	assert_output --regexp "^:	.*/opt-search$"
	[ "$(wc -l <srv/units.ndjson)" -gt 1 ]
	[ "$(wc -l <srv/results.ndjson)" -eq "$(wc -l <srv/units.ndjson)" ]
	jq -e '.search.status == "done"' srv/search.ndjson
	# timings differ from run to run (as in opt-search.bats)
	untimed() { jq -cS 'walk(if type == "object" then del(.seconds, .optimization_time_seconds) else . end)'; }
	opt-search <srv/trigger.ndjson | untimed >single
	untimed <srv/search.ndjson >split
	cmp single split
	# and it goes on to validation like the single run's output
	run --separate-stderr opt-validate <srv/search.ndjson
	assert_success
	jq -e '.validation.status == "done"' <<<"$output"
}

@test "a worker whose series differs from the planner's is refused, not averaged in" {
	opt-trigger --series "$PWD/srv/usdclp_daily.csv" --model random_walk --horizon 7d --force >trigger.ndjson
	opt-search --plan <trigger.ndjson >units.ndjson
	# the worker's copy has one more day
	printf 'USDCLP,2026-09-24,950.1\n' >>srv/usdclp_daily.csv
	run --separate-stderr parallel -S : --halt now,fail=1 --pipe -N1 opt-search --run-unit <units.ndjson
	assert_failure 3
	[[ $stderr == *"opt-search: <stdin>:1: $PWD/srv/usdclp_daily.csv: series changed since the envelope was made (length 400, now 401)"* ]]
}

@test "a relative series path is looked up where the worker runs: plan with absolute paths" {
	cd srv
	opt-trigger --series usdclp_daily.csv --model random_walk --horizon 7d --force >../trigger.ndjson
	opt-search --plan <../trigger.ndjson >../units.ndjson
	cd ..
	# ssh starts in the home directory; here the worker starts one level up
	run --separate-stderr parallel -S : --halt now,fail=1 --pipe -N1 opt-search --run-unit <units.ndjson
	assert_failure 4
	[[ $stderr == *"opt-search: <stdin>:1: cannot open 'usdclp_daily.csv': No such file or directory"* ]]
}
