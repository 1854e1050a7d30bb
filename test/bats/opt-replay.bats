#!/usr/bin/env bats
# opt-replay and pipeline.sh replay: what chronopt would have done, on a short
# span of USD/CLP with the random walk and a small settings file (seconds).

load test_helper

inputs() { # the series and settings every test uses, in the current directory
	{
		head -n 1 "$CHRONOPT_ROOT/testdata/usdclp_daily.csv"
		tail -n 300 "$CHRONOPT_ROOT/testdata/usdclp_daily.csv"
	} >series.csv
	cat >settings.json <<'JSON'
{"horizons": {"7d": 7, "15d": 15},
 "search": {"method": "grid", "origins": 4, "stride": 2,
   "spaces": {"7d": {"context_length": [30, 60], "num_samples": [20], "temperature": [1.0]},
              "15d": {"context_length": [30, 60, 90], "num_samples": [20], "temperature": [1.0]}}},
 "validate": {"preset": "balanced", "validation_origins": 10}}
JSON
}

# replay WS MODEL [ARGS...]: a 5-week replay of series.csv into WS
replay() {
	local ws=$1 model=$2
	shift 2
	"$CHRONOPT_ROOT/pipeline.sh" --series series.csv --model "$model" --config settings.json --jobs 1 \
		--bin "$CHRONOPT_BIN" replay --from 2026-08-10 --to 2026-09-13 --workspace "$ws" "$@"
}

# One replay shared by the tests that only read it (a replay is the slow part).
setup_file() {
	unset CHRONOPT_RUN_ID CHRONOPT_ENV CHRONOPT_MAIL_TO CHRONOPT_SERIES CHRONOPT_MODEL
	cd "$BATS_FILE_TMPDIR"
	inputs
	replay shared random_walk >shared.out 2>shared.err
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	export TMPDIR=$BATS_TEST_TMPDIR
	unset CHRONOPT_RUN_ID CHRONOPT_ENV CHRONOPT_MAIL_TO CHRONOPT_SERIES CHRONOPT_MODEL
	PIPE="$CHRONOPT_ROOT/pipeline.sh"
	inputs
	SHARED=$BATS_FILE_TMPDIR/shared
}

@test "replay on a short span: every week runs the pipeline on the series as known that day, then a KPI report" {
	ln -s "$SHARED" ws
	output=$(cat "$BATS_FILE_TMPDIR/shared.out")
	[ "$(wc -l <ws/weeks.tsv)" -eq 5 ]
	[ "$(cut -f 1 ws/weeks.tsv | tr '\n' ' ')" = "2026-08-16 2026-08-23 2026-08-30 2026-09-06 2026-09-13 " ]
	for d in $(cut -f 1 ws/weeks.tsv); do
		# the series as known that day: nothing dated after it, everything before it
		last=$(tail -n 1 "ws/weeks/$d/series.csv" | cut -d, -f2)
		[[ ! $last > $d ]]
		[ "$(awk -F, -v d="$d" 'NR > 1 && $2 <= d' series.csv | wc -l)" -eq "$(($(wc -l <"ws/weeks/$d/series.csv") - 1))" ]
		# the clock was pinned to that day
		[ "$(jq -r '.trigger.reference_date' "ws/runs/replay-$d/00-trigger.ndjson" | sort -u)" = "$d" ]
		[ -f "ws/weeks/$d/configs/7d.json" ]
	done
	# the history holds only the replayed days
	[ -z "$(jq -r '.optimization_date[0:10]' ws/history.jsonl | grep -vxFf <(cut -f 1 ws/weeks.tsv))" ]
	# the three forms of the report
	[ "$(jq -r .schema ws/replay-kpi.json)" = chronopt-replay/1 ]
	[ "$(jq -r '.automation.completed' ws/replay-kpi.json)" = 5 ]
	[ "$(jq -r '[.horizons[].name] | join(" ")' ws/replay-kpi.json)" = "7d 15d" ]
	for k in validation_success_rate performance_improvement_rate mean_realized_rmse_change_pct \
		false_positive_rate rollbacks realized drift_detection gates deployments; do
		jq -e --arg k "$k" '.horizons[0] | has($k)' ws/replay-kpi.json >/dev/null
		[ "$k" = drift_detection ] || [ "$k" = deployments ] || jq -e --arg k "$k" '.overall | has($k)' ws/replay-kpi.json >/dev/null
	done
	grep -q '^chronopt replay of ' ws/replay.txt
	grep -q '^overall ' ws/replay.txt
	[ "$output" = "$(cat ws/replay.txt; printf '\nKPI report: %s (JSON), %s (page)' "$SHARED/replay-kpi.json" "$SHARED/replay.html")" ]
	grep -q '<svg' ws/replay.html
	grep -q 'What other gates would have decided' ws/replay.html
	# counts agree with the runs themselves
	opt=$(cat ws/runs/replay-*/40-history.ndjson | jq -s '[.[] | select(.validation.status == "done")] | length')
	[ "$(jq -r '.overall.optimizations' ws/replay-kpi.json)" = "$opt" ]
	app=$(cat ws/runs/replay-*/40-history.ndjson | jq -s '[.[] | select(.validation.approved == true)] | length')
	[ "$(jq -r '.overall.approved' ws/replay-kpi.json)" = "$app" ]
	# the replay's own gate, re-decided by the scorer, gives the verdicts of the runs
	[ "$(jq -r '.overall.gates_reproduced.same_verdict_as_the_replay' ws/replay-kpi.json)" = "$opt" ]
}

@test "replay: the incumbent is the default config, deployed before the first week, and is what validation compares with" {
	cp -r "$SHARED" ws
	rm ws/replay-kpi.json
	# the middle of each list of the search space
	[ "$(jq -r .context_length ws/incumbent/7d.json)" = 60 ]
	[ "$(jq -r .context_length ws/incumbent/15d.json)" = 60 ]
	jq -e '.validation_rmse > 0' ws/incumbent/7d.json >/dev/null
	# opt-deploy records the random walk on the same windows (here the incumbent is the random walk)
	jq -e '.validation.random_walk_rmse == .validation_rmse' ws/incumbent/7d.json >/dev/null
	jq -e '.validation.random_walk_rmse == .validation.rmse' ws/incumbent/15d.json >/dev/null
	first=$(head -n 1 ws/weeks.tsv | cut -f 1)
	[ "$(jq -r 'select(.horizon.name == "15d") | .validation.incumbent.config.context_length' "ws/runs/replay-$first/20-validate.ndjson")" = 60 ]
	# the first incumbent is not recorded as an optimization
	[ "$(jq -s 'length' ws/history.jsonl)" = "$(cat ws/runs/replay-*/40-history.ndjson | wc -l)" ]
	# --score-only scores the workspace afterwards
	run --separate-stderr "$PIPE" --bin "$CHRONOPT_BIN" replay --score-only --workspace ws
	assert_success
	[ "$(jq -r .weeks ws/replay-kpi.json)" = 5 ]
}

@test "replay: two replays with the same seed give identical KPI JSON (timings aside)" {
	# the same inputs, another workspace
	(cd "$BATS_FILE_TMPDIR" && replay "$BATS_TEST_TMPDIR/ws2" random_walk >/dev/null 2>&1)
	norm='del(.workspace) | del(.. | .seconds?)'
	diff <(jq -S "$norm" "$SHARED/replay-kpi.json") <(jq -S "$norm" ws2/replay-kpi.json)
	# and scoring the same workspace again gives the same report
	opt-replay score --workspace ws2 >again.json
	diff <(jq -S "$norm" ws2/replay-kpi.json) <(jq -S "$norm" again.json)
	# without the hindsight column the overall ratios are still the means of the horizons'
	opt-replay score --workspace ws2 --no-hindsight >nohind.json
	jq -e '.overall.realized | (.deployed_vs_random_walk | type) == "number" and
		(.default_vs_random_walk | type) == "number" and .best_in_hindsight_vs_random_walk == null' nohind.json
	jq -e '([.horizons[].realized.deployed_vs_random_walk | numbers] | add / length) as $m |
		(.overall.realized.deployed_vs_random_walk - $m | fabs) < 1e-12' nohind.json
}

@test "replay: the realized error is scored on the outcomes that arrived after each week" {
	ln -s "$SHARED" ws
	# The random walk's point forecast is the last value known: its RMSE
	# over the weekly origins whose 7 outcomes are all known, by hand.
	want=$(cut -f 1 ws/weeks.tsv | awk -F, '
		NR == FNR { week[++nw] = $1; next }
		FNR > 1 { n++; d[n] = $2; y[n] = $3 }
		END {
			for (k = 1; k <= nw; k++) {
				t = 0
				for (i = 1; i <= n; i++) if (d[i] <= week[k]) t = i
				if (t + 7 > n) continue
				for (h = 1; h <= 7; h++) { e = y[t] - y[t + h]; s += e * e; m++ }
			}
			printf "%.6f", sqrt(s / m)
		}' - series.csv)
	got=$(jq -r '.horizons[0].realized.rmse_random_walk * 1000000 | round / 1000000' ws/replay-kpi.json)
	[ "$(printf '%.6f' "$got")" = "$want" ]
	[ "$(jq -r '.horizons[0].realized.origins' ws/replay-kpi.json)" -eq 5 ]
	# 15 steps: the last weeks have no known outcome yet
	[ "$(jq -r '.horizons[1].realized.origins' ws/replay-kpi.json)" -lt 5 ]
}

@test "replay: bad use is refused before anything is written" {
	run --separate-stderr "$PIPE" --bin "$CHRONOPT_BIN" replay --workspace ws
	assert_failure 2
	[ "$stderr" = "pipeline.sh: replay: --from DATE is required" ]
	[ ! -e ws ]
	run --separate-stderr "$PIPE" --bin "$CHRONOPT_BIN" replay --from 2026-13-01 --workspace ws
	assert_failure 2
	[ ! -e ws ]
	mkdir full && touch full/x
	run --separate-stderr "$PIPE" --series series.csv --model random_walk --bin "$CHRONOPT_BIN" replay --from 2026-09-01 --workspace full
	assert_failure 2
	[[ $stderr == *"is not empty: give a new --workspace" ]]
	[ "$(ls full)" = x ]
	run --separate-stderr "$PIPE" --bin "$CHRONOPT_BIN" replay --score-only --workspace full
	assert_failure 3
	run --separate-stderr "$PIPE" --series series.csv --model random_walk --bin "$CHRONOPT_BIN" replay --from 2026-09-30 --workspace ws
	assert_failure 2
	[ "$stderr" = "opt-replay: the replay would end (2026-09-23) before it starts (2026-09-30)" ]
	run --separate-stderr "$PIPE" --series series.csv --bin "$CHRONOPT_BIN" replay --from 2026-09-01 --workspace ws
	assert_failure 2
	[ "$stderr" = "pipeline.sh: replay: no model: give --model (a Chronos checkpoint directory or a baseline name)" ]
	[ ! -e ws ]
}

# ------------------------------------------------------------ opt-replay

@test "opt-replay weeks lists the cron days, cut the series as known on a day" {
	run --separate-stderr opt-replay weeks --from 2026-09-02 --to 2026-09-23 --day sun
	assert_success
	[ "$output" = $'2026-09-06\n2026-09-13\n2026-09-20' ]
	run --separate-stderr opt-replay weeks --from 2026-09-02 --to 2026-09-23 --day 3
	[ "$output" = $'2026-09-02\n2026-09-09\n2026-09-16\n2026-09-23' ]
	run --separate-stderr opt-replay weeks --from 2026-09-01 --series series.csv --day FRI
	[ "$(printf '%s\n' "$output" | tail -n 1)" = 2026-09-18 ]
	run --separate-stderr opt-replay weeks --from 2026-09-02 --to 2026-09-23 --day funday
	assert_failure 2
	run --separate-stderr opt-replay cut --series series.csv --until 2026-09-20
	assert_success
	# the same dates and values (numbers written back exactly, not as typed)
	[ "$(awk -F, 'NR > 1 { printf "%s %.10g\n", $(NF-1), $NF }' <<<"$output")" = \
		"$(awk -F, 'NR > 1 && $2 <= "2026-09-20" { printf "%s %.10g\n", $2, $3 }' series.csv)" ]
	[ "$(head -n 1 <<<"$output")" = unique_id,ds,y ]
	run --separate-stderr opt-replay cut --series series.csv --until 2000-01-01
	assert_failure 3
	[ "$stderr" = "opt-replay: series.csv: only 0 observations on or before 2000-01-01 (need 1)" ]
}

@test "opt-replay synth: seeded, and the volatility and level change at the date given" {
	opt-replay synth --seed 7 --length 800 --change 2021-07-01 >a.csv
	opt-replay synth --seed 7 --length 800 --change 2021-07-01 >b.csv
	opt-replay synth --seed 8 --length 800 --change 2021-07-01 >c.csv
	cmp a.csv b.csv
	! cmp -s a.csv c.csv
	[ "$(head -n 1 a.csv)" = date,value ]
	[ "$(wc -l <a.csv)" -eq 801 ]
	# business days only
	while IFS=, read -r d v; do
		[ "$d" = date ] || [ "$(date -u -d "$d" +%u)" -le 5 ]
	done < <(head -n 40 a.csv)
	awk -F, 'NR > 2 { r = log($2 / p); if ($1 < "2021-07-01") { n1++; s1 += r * r } else if (!j) { j = r } else { n2++; s2 += r * r } }
		{ p = $2 }
		END {
			ratio = sqrt((s2 / n2) / (s1 / n1))
			if (ratio < 2.5 || ratio > 3.5) { print "volatility ratio " ratio; exit 1 }
			if (j < 0.07 || j > 0.12) { print "jump " j; exit 1 }
		}' a.csv
	run --separate-stderr opt-replay synth --length 800
	assert_failure 2
}

@test "replay of a synthetic regime change reports the days from the change to the trigger" {
	opt-replay synth --seed 3 --start 2022-01-03 --length 600 --change 2024-03-04 --vol-factor 4 >synth.csv
	run --separate-stderr "$PIPE" --series synth.csv --model random_walk --config settings.json --jobs 1 \
		--bin "$CHRONOPT_BIN" replay --from 2024-02-25 --to 2024-03-31 --change-date 2024-03-04 --workspace ws
	assert_success
	[ "$(jq -r .change_date ws/replay-kpi.json)" = 2024-03-04 ]
	days=$(jq -r '.horizons[0].drift_detection.drift.days' ws/replay-kpi.json)
	[ "$days" != null ]
	[ "$days" -ge 0 ] && [ "$days" -le 28 ]
	grep -q '^drift detection (regime change on 2024-03-04)' ws/replay.txt
}

@test "opt-replay: usage and bad workspaces" {
	run --separate-stderr opt-replay
	assert_failure 2
	run --separate-stderr opt-replay score --workspace nowhere
	assert_failure 3
	[ "$stderr" = "opt-replay: nowhere: not a replay workspace (no replay.json)" ]
	run --separate-stderr opt-replay weeks --from 2026-01-01 --html x
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-replay: option '--html' does not apply to 'weeks'" ]
	run opt-replay --help
	assert_success
	[[ $output == usage:* ]]
}

@test "the man page example runs" {
	run --separate-stderr bash -c '"$0" --series series.csv --model random_walk --config settings.json --bin "$1" \
		replay --from 2026-09-06 --workspace replay-ws --next 2 >/dev/null &&
		opt-replay score --workspace replay-ws --format text --no-hindsight | head -n 1' "$PIPE" "$CHRONOPT_BIN"
	assert_success
	[[ $output == "chronopt replay of "* ]]
}
