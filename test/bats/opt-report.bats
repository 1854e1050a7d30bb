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

@test "--format text renders envelopes as decided; the dashboard's options are usage errors with it" {
	printf '{"schema":"chronopt/1","run_id":"r1","seed":1,"series":{"path":"s.csv","id":"ABC","last_date":"2026-01-02","length":300},"horizon":{"name":"7d","steps":7},"model":{"dir":"drift"},"trigger":{"status":"done","should_optimize":false,"summary":"calm \\u001b[31m"},"search":{"status":"skipped","reason":"not triggered: calm \\u001b[31m"}}\n' >env
	printf '{"schema":"chronopt/1","run_id":"r1","seed":1,"series":{"path":"s.csv","id":"ABC","last_date":"2026-01-02","length":300},"horizon":{"name":"90d","steps":90},"model":{"dir":"drift"},"trigger":{"status":"done","should_optimize":true,"summary":"optimize 90d"},"search":{"status":"error","reason":"too short","exit":3},"validation":{"status":"skipped","reason":"search error: too short"}}\n' >>env
	run --separate-stderr opt-report --format text <env
	assert_success
	[ "$output" = "chronopt run r1
series ABC, last date 2026-01-02, 300 observations (s.csv)
model drift

7d (7 steps): not triggered
  trigger     calm ?[31m

90d (90 steps): FAILED at search
  trigger     optimize 90d
  search      FAILED: too short" ]
	run --separate-stderr opt-report --format text </dev/null
	assert_success
	[ "$output" = "chronopt: no envelope to report" ]
	echo '{"schema":"chronopt/1", oops' >>env
	run --separate-stderr opt-report --format text <env
	assert_failure 3
	[ "$stderr" = "opt-report: <stdin>:3: invalid JSON near column 26" ]
	run --separate-stderr opt-report --format text --html x.html <env
	assert_failure 2
	[ ! -e x.html ]
	run --separate-stderr opt-report --format pdf
	assert_failure 2
	[ "$stderr" = "opt-report: --format 'pdf' must be html or text" ]
	run --separate-stderr bash -c "head -n 2 env | opt-report --format text >/dev/full"
	assert_failure 4
	assert_equal "$stderr" "opt-report: error writing the report: No space left on device"
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

# rec ID HORIZON DATE OUTCOME [STALE]: one history record of series ID.
rec() {
	printf '{"schema":"chronopt-history/1","run_id":"r-%s","horizon":"%s","optimization_date":"%sT02:00:00Z","outcome":"%s","series":{"id":"%s","path":"%s.csv","last_date":"2026-09-23","length":500,"stale_after_steps":5,"stale":%s},"model":{"dir":"drift"}}\n' \
		"$3" "$2" "$3" "$4" "$1" "$1" "${5:-false}"
}

@test "several histories: an overview of the series first, then each series with its own configs" {
	mkdir -p a/cfg b/cfg
	{ rec AAA 7d 2026-11-01 deployed; rec AAA 30d 2026-11-01 failed; } >a/h.jsonl
	rec BBB 7d 2026-11-02 not_approved true >b/h.jsonl
	printf '{"horizon":"7d","context_length":90,"num_samples":50,"temperature":1,"validation_rmse":3}\n' >a/cfg/7d.json
	CHRONOPT_NOW=2026-11-23T02:00:00Z run --separate-stderr opt-report --history a/h.jsonl --config-dir a/cfg \
		--history b/h.jsonl --config-dir b/cfg --html page.html
	assert_success
	grep -q '<h1>chronopt &mdash; AAA, BBB</h1>' page.html
	grep -q '<h2>Overview</h2>' page.html
	# one row per series: its data state, and per horizon the last decision
	grep -q '<tr><td class="h"><a href="#series-1">AAA</a></td><td>2026-09-23<br><span class="small">61 days ago</span></td><td><span class="fresh">fresh</span></td><td>drift</td>' page.html
	grep -q '<b>7d</b> deployed <span class="small">(a config is deployed)</span><br><b>30d</b> failed <span class="small">(none deployed)</span></td><td class="bad">1</td></tr>' page.html
	grep -q '<a href="#series-2">BBB</a></td><td>2026-09-23<br><span class="small">61 days ago</span></td><td><span class="stale">STALE</span>' page.html
	grep -q '<section class="series" id="series-2">' page.html
	grep -q '<h2 class="sh">Series BBB</h2>' page.html
	# a history that is not there is a series with no run yet, not an error
	run --separate-stderr opt-report --history a/h.jsonl --config-dir a/cfg --history c/none.jsonl --config-dir c/cfg
	assert_success
	assert_output --partial "The history file does not exist yet"
	# --config-dir once per --history, in the same order
	run --separate-stderr opt-report --history a/h.jsonl --history b/h.jsonl --config-dir a/cfg --html x.html
	assert_failure 2
	[ "$stderr" = "opt-report: 2 --history files need as many --config-dir, one each in the same order (1 given)" ]
	[ ! -e x.html ]
	run --separate-stderr opt-report --history a/h.jsonl --config-dir a/cfg --config-dir b/cfg
	assert_failure 2
	[ "$stderr" = "opt-report: one --config-dir per --history" ]
}

@test "records of the same day do not cover each other on the trigger timeline" {
	{ rec S 7d 2026-11-01 not_triggered; rec S 7d 2026-11-01 deployed; rec S 7d 2026-11-01 not_approved; rec S 7d 2026-11-20 not_triggered; } >h.jsonl
	run --separate-stderr opt-report --history h.jsonl --config-dir none
	assert_success
	tl=$(sed -n '/aria-label="trigger history"/,/<\/svg>/p' <<<"$output" | grep -oE 'circle cx="[0-9.]+" cy="[0-9.]+" r="5" fill="[^"]+" stroke="#fff"')
	[ "$(wc -l <<<"$tl")" -eq 4 ]
	[ "$(cut -d' ' -f2,3 <<<"$tl" | sort -u | wc -l)" -eq 4 ]
	# the three of 2026-11-01 share the day's x, one lane each
	[ "$(cut -d' ' -f2 <<<"$tl" | sort | uniq -c | sort -rn | head -n 1 | awk '{print $1}')" -eq 3 ]
}

@test "figures too large for their differences (1e17 apart by one unit in the last place) still make a page" {
	for d in 2026-11-01 2026-11-08; do
		printf '{"schema":"chronopt-history/1","run_id":"r-%s","horizon":"7d","optimization_date":"%sT02:00:00Z","outcome":"not_approved","validation":{"status":"done","approved":false,"candidate":{"rmse":1e17},"random_walk":{"rmse":1.0000000000000002e17},"windows":{"count":2}},"drift":{"ks_statistic":1e17,"psi":1.0000000000000002e17}}\n' "$d" "$d"
	done >h.jsonl
	# timeout only guards against the endless gridline loop this test is about
	run --separate-stderr timeout 20 opt-report --history h.jsonl --config-dir none
	assert_success
	assert_output --partial 'aria-label="held-out RMSE over time"'
	[ "$(grep -c '<line x1=[^>]*stroke="#eef2f7"' <<<"$output")" -le 24 ]
}

@test "a multi-objective search shows its Pareto front: every scored config a point, the front filled, the chosen one labelled" {
	printf '{"schema":"chronopt/1","run_id":"p1","seed":42,"series":{"path":"%s","id":"USDCLP","last_date":"2026-09-23","length":5916},"horizon":{"name":"7d","steps":7},"model":{"dir":"%s"}}\n' \
		"$CHRONOPT_ROOT/testdata/usdclp_daily.csv" "$CHRONOPT_ROOT/models/chronos-demo" >env
	opt-search --objectives rmse,cost --windows 6 --holdout 5 --context-lengths 32,64,128 \
		--num-samples 10,20 --temperatures 0.8,1.0 <env >out
	opt-history record --file h.jsonl <out >/dev/null
	# the record keeps the front and every scored trial
	[ "$(jq '.pareto.points | length' h.jsonl)" = "$(jq '.search.trials | length' out)" ]
	[ "$(jq -c '.pareto.front' h.jsonl)" = "$(jq -c '.search.pareto.front' out)" ]
	run --separate-stderr opt-report --history h.jsonl --config-dir /nonexistent
	assert_success
	echo "$output" >page.html
	ntrial=$(jq '.search.trials | length' out)
	nfront=$(jq '.search.pareto.front | length' out)
	chosen=$(jq '.search.pareto.chosen' out)
	[ "$nfront" -ge 2 ] && [ "$ntrial" -gt "$nfront" ]
	[ "$(grep -o 'class="pareto-front"' page.html | wc -l)" = "$nfront" ]
	[ "$(grep -o 'class="pareto-point"' page.html | wc -l)" = $((ntrial - nfront)) ]
	[ "$(grep -o 'class="pareto-chosen"' page.html | wc -l)" = 1 ]
	grep -q ">chosen (trial $chosen)</text>" page.html
	# each front point's tooltip names its trial and says it is on the front
	for t in $(jq '.search.pareto.front[].trial' out); do
		grep -q "<title>trial $t: RMSE [^<]* (on the front)</title>" page.html
	done
	grep -q 'class="pareto-limit"' page.html
	assert_output --partial "Rule: the cheapest config of the front whose RMSE is within 2 % of the lowest."
	# without objectives: no Pareto chart
	opt-search --windows 6 --holdout 5 --context-lengths 32,64 --num-samples 10 --temperatures 1.0 <env >out1
	opt-history record --file h1.jsonl <out1 >/dev/null
	[ "$(jq .pareto h1.jsonl)" = null ]
	opt-report --history h1.jsonl --config-dir /nonexistent >page1.html
	! grep -q 'pareto-' page1.html
}

@test "a hostile pareto in a history record is drawn from its valid points only" {
	printf '%s\n' '{"schema":"chronopt-history/1","run_id":"x","horizon":"7d","optimization_date":"2026-11-01T02:00:00Z","outcome":"not_approved","pareto":{"objectives":["rmse",3],"front":[{"trial":1,"rmse":1,"cost":10},{"trial":"2","rmse":1,"cost":5},7],"chosen":1,"tolerance_pct":"x","rule":"<b>x</b>","points":[{"trial":1,"rmse":1,"cost":10},{"trial":3,"rmse":2,"cost":1e400},{"trial":4,"rmse":2,"cost":20},null]}}' >h.jsonl
	run --separate-stderr opt-report --history h.jsonl --config-dir /nonexistent
	assert_success
	[ "$(grep -o 'class="pareto-front"' <<<"$output" | wc -l)" = 1 ]
	[ "$(grep -o 'class="pareto-point"' <<<"$output" | wc -l)" = 1 ]
	assert_output --partial ">chosen (trial 1)</text>"
	assert_output --partial "Rule: &lt;b&gt;x&lt;/b&gt;."
	! grep -q 'class="pareto-limit"' <<<"$output"
}
