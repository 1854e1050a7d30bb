#!/usr/bin/env bats
# pipeline.sh end to end on a trimmed USD/CLP series with the random walk,
# plus opt-report (install-cron: install-cron.bats; check, watch, logs: pipeline-ops.bats).  Artifacts for people: test-output/.

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

PIPE="$CHRONOPT_ROOT/pipeline.sh"
FIX="$CHRONOPT_ROOT/test/bats/fixtures/pipeline"

need_tools() {
	local t
	for t in opt-trigger opt-search opt-validate opt-deploy opt-history opt-report; do
		[ -x "$CHRONOPT_BIN/$t" ] || skip "$t is not built"
	done
}

setup() {
	ws=$BATS_TEST_TMPDIR/ws
	mkdir -p "$ws" "$BATS_TEST_TMPDIR/tmp"
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	# The last 1000 observations are plenty for the random walk and keep
	# the suite fast.
	{
		head -n 1 "$CHRONOPT_ROOT/testdata/usdclp_daily.csv"
		tail -n 1000 "$CHRONOPT_ROOT/testdata/usdclp_daily.csv"
	} >"$ws/series.csv"
	cat >"$ws/chronopt.env" <<ENV
# test workspace
CHRONOPT_SERIES=series.csv
CHRONOPT_MODEL=random_walk
CHRONOPT_CONFIG=$FIX/settings.json
CHRONOPT_CONFIG_DIR=configs
CHRONOPT_HISTORY=history.jsonl
CHRONOPT_RUN_DIR=runs
CHRONOPT_LOG_DIR=logs
CHRONOPT_REPORT=report.html
ENV
	cd "$ws"
}

# Checksums of every file under $1 (names and contents).
tree_sums() {
	(cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
}

pipe() { "$PIPE" --env "$ws/chronopt.env" "$@"; }

# With the random walk every config forecasts the same, so a re-optimized
# candidate never beats the incumbent under the real criteria. Tests of
# what happens after a second deployment (rollback, its mail, the report)
# use criteria that let an equal candidate through.
lenient() {
	sed -i "s|^CHRONOPT_CONFIG=.*|CHRONOPT_CONFIG=$FIX/settings-lenient.json|" "$ws/chronopt.env"
}

@test "run --all takes four horizons through every stage and keeps each envelope" {
	need_tools
	CHRONOPT_RUN_ID=run-1 run --separate-stderr pipe run --all
	assert_success
	assert_line --partial "7d: triggered"
	assert_line --regexp "^4 triggered, [0-9] approved"
	for h in 7d 15d 30d 90d; do
		[ "$(jq -r .horizon.name <(grep "\"$h\"" runs/run-1/40-history.ndjson))" = "$h" ]
	done
	for s in 00-trigger 10-search 20-validate 30-deploy 40-history; do
		[ "$(wc -l <"runs/run-1/$s.ndjson")" -eq 4 ]
		[ -f "runs/run-1/$s.stderr" ]
	done
	[ "$(wc -l <history.jsonl)" -eq 4 ]
	ls configs/*.json
	grep -q "run run-1 exit 0" logs/pipeline.log
}

@test "run --all: a horizon the series is too short for fails alone, the others go through every stage, exit 7" {
	need_tools
	make_capture
	printf 'CHRONOPT_MAIL_TO=ops@example.org\nCHRONOPT_MAIL_COMMAND=%s -s {subject} {to}\n' \
		"$BATS_TEST_TMPDIR/capture" >>chronopt.env
	# 600 observations: enough for 7d, 15d and 30d, 3 short of 90d's search
	{ head -n 1 series.csv; tail -n 600 series.csv; } >short.csv && mv short.csv series.csv
	CHRONOPT_RUN_ID=run-1 run --separate-stderr pipe run --all
	assert_failure 7
	assert_line "90d: triggered: optimize 90d: never optimized"
	assert_line "    FAILED at search: $ws/series.csv: not enough observations for 30 search windows of 90 steps with context 365 after 30 held-out origins: need 603, have 600"
	assert_line "4 triggered, 3 approved, 0 not approved, 3 deployed, 1 failed"
	[[ "$stderr" == *"pipeline.sh: stage 10-search: opt-search: <stdin>:4: horizon '90d' failed, the others go on: "* ]]
	# every stage ran on every line; the failed one is passed on as rule 2 says
	for s in 00-trigger 10-search 20-validate 30-deploy 40-history; do
		[ "$(wc -l <"runs/run-1/$s.ndjson")" -eq 4 ]
	done
	[ "$(jq -r 'select(.horizon.name == "90d") | [.search.status, .validation.status, .deployment.status, .history.status] | join(" ")' runs/run-1/40-history.ndjson)" = "error skipped skipped done" ]
	ls configs/7d.json configs/15d.json configs/30d.json
	[ ! -e configs/90d.json ]
	[ "$(jq -r '.horizon + " " + .outcome' history.jsonl)" = "7d deployed
15d deployed
30d deployed
90d failed" ]
	grep -q "run run-1 exit 7: 4 triggered, 3 approved, 0 not approved, 3 deployed, 1 failed" logs/pipeline.log
	[ -s report.html ]
	mapfile -t argv <"$CAPTURE_DIR/0.argv"
	[[ ${argv[1]} == *"90d failed"* ]]
	grep -q '^90d: FAILED at search: .*need 603, have 600$' "$CAPTURE_DIR/0.body"
	# the next run: the three are quiet, 90d fails again and says so
	CHRONOPT_RUN_ID=run-2 run --separate-stderr pipe run --all
	assert_failure 7
	assert_line "1 triggered, 0 approved, 0 not approved, 0 deployed, 1 failed"
}

@test "the text report after a deployment equals the saved verdict; validating again re-decides" {
	need_tools
	CHRONOPT_RUN_ID=run-1 run --separate-stderr pipe run --horizon 7d
	assert_success
	assert_line --regexp '^    validation: .* \[held-out RMSE [0-9.]+, random walk [0-9.]+, incumbent none, 30 windows\]$'
	[ "$(jq -r '.validation.approved, .deployment.deployed' runs/run-1/40-history.ndjson | tr '\n' ' ')" = "true true " ]
	# The verdict as it was made, against what was deployed then (nothing).
	mkdir before
	"$CHRONOPT_BIN/opt-validate" --config "$FIX/settings.json" --config-dir before --format text \
		<runs/run-1/10-search.ndjson >saved.txt
	grep -qx "chronopt validation, horizon 7d: APPROVED" saved.txt
	# opt-validate --format text validates again, now against the deployed 7d: another verdict.
	"$CHRONOPT_BIN/opt-validate" --config "$FIX/settings.json" --config-dir configs --format text \
		<runs/run-1/10-search.ndjson >again.txt
	grep -qx "chronopt validation, horizon 7d: NOT APPROVED" again.txt
	# opt-report --format text renders the saved sections: the saved verdict, byte for byte.
	run --separate-stderr "$CHRONOPT_BIN/opt-report" --format text <runs/run-1/40-history.ndjson
	assert_success
	[ "${lines[0]}" = "chronopt run run-1" ]
	[ "${lines[1]}" = "series USDCLP, last date 2026-09-23, 1000 observations ($ws/series.csv)" ]
	[ "${lines[2]}" = "model random_walk" ]
	assert_line "7d (7 steps): deployed"
	rmse=$(jq -r '.validation.candidate.rmse * 10000 | round / 10000' runs/run-1/40-history.ndjson)
	assert_line --regexp "^  verdict     APPROVED: held-out RMSE ${rmse}[0-9]*, random walk [0-9.]+, incumbent none \(first deployment\); 30 windows [0-9-]+ to [0-9-]+$"
	assert_line "  recorded    $ws/history.jsonl, record 1"
	printf '%s\n' "$output" | sed -n '/^chronopt validation, horizon 7d/,$p' >block.txt
	diff saved.txt <(cat block.txt; echo)
	# and the same from the saved 20-validate.ndjson, whatever has been deployed since
	"$CHRONOPT_BIN/opt-report" --format text <runs/run-1/20-validate.ndjson >v.txt
	grep -qx "7d (7 steps): approved, not deployed yet" v.txt
	diff saved.txt <(sed -n '/^chronopt validation, horizon 7d/,$p' v.txt)
}

@test "status prints text for people and --json for machines, never both" {
	need_tools
	run --separate-stderr pipe status
	assert_success
	[ "${lines[0]}" = "series series.csv, last date unknown (no run recorded yet) ($ws/series.csv)" ]
	CHRONOPT_RUN_ID=run-1 run pipe run --all
	assert_success
	run --separate-stderr pipe status
	assert_success
	[ "${lines[0]}" = "series USDCLP, last date 2026-09-23, 1000 observations ($ws/series.csv)" ]
	[ "${lines[1]}" = "model random_walk" ]
	assert_line "7d: deployed"
	assert_line --regexp '^  7d +2026-11-23T02:00:00Z$'
	assert_line --regexp '^Last run: .* run run-1 exit 0: 4 triggered'
	# no raw JSON among the text
	refute_line --regexp '^[[:space:]]*[{[]'
	run --separate-stderr pipe status --json
	assert_success
	[ "${#lines[@]}" = 1 ]
	printf '%s\n' "$output" | jq -e '.series == {"id": "USDCLP", "last_date": "2026-09-23", "length": 1000, "path": "'"$ws"'/series.csv"}
		and .model == "random_walk" and (.deployed.horizons | map(.horizon)) == ["7d", "15d", "30d", "90d"]
		and (.last_optimization | map(.last)) == ["2026-11-23T02:00:00Z", "2026-11-23T02:00:00Z", "2026-11-23T02:00:00Z", "2026-11-23T02:00:00Z"]
		and (.last_run | test("run run-1 exit 0"))'
	run --separate-stderr pipe status --yaml
	assert_failure 2
	[ "$stderr" = "pipeline.sh: status: unexpected argument '--yaml'" ]
}

@test "the dashboard header names the series, its last date, the model and the run" {
	need_tools
	CHRONOPT_RUN_ID=run-1 run pipe run --horizon 7d
	assert_success
	grep -q '<span class="hl">Series USDCLP</span> &mdash; last observation <b>2026-09-23</b>, [0-9]* days before this page (1000 observations, business-daily)' report.html
	grep -q 'model <b>random_walk</b> &middot; last run <b>run-1</b> at 2026-11-23T02:00:00Z' report.html
	# the last decision with its held-out numbers beside it
	grep -Eq '<td>(deployed|validation failed)<br><span class="small">held-out RMSE [0-9.]+, random walk [0-9.]+, incumbent none</span>' report.html
}

@test "the dashboard shows per horizon the deployed config's forecasts against actuals, held-out RMSE over time and drift" {
	need_tools
	lenient
	CHRONOPT_RUN_ID=run-1 run pipe run --all
	assert_success
	CHRONOPT_NOW=2026-12-08T02:00:00Z CHRONOPT_RUN_ID=run-2 run pipe run --all --force
	assert_success
	# The forecasts come from the history: the held-out windows of the
	# validation that deployed each config (30 by the settings), with bands.
	[ "$(jq -s '[.[] | select(.run_id == "run-2" and .horizon == "15d") | .validation.candidate.forecasts | length][0]' history.jsonl)" -eq 30 ]
	jq -e -s '[.[] | .validation.candidate.forecasts[]? | select(.lo95 <= .lo80 and .lo80 <= .median and .median <= .hi80 and .hi80 <= .hi95 and (.target_date > .origin_date))] | length == 240' history.jsonl
	jq -e -s 'all(.[]; (.drift.ks_statistic | type) == "number" and (.drift.severity | type) == "string")' history.jsonl
	grep -q 'Deployed config: forecast 15d ahead against the actual, by target date' report.html
	[ "$(grep -c 'aria-label="forecasts against actuals"' report.html)" -eq 4 ]
	[ "$(grep -c 'aria-label="held-out RMSE over time"' report.html)" -eq 4 ]
	grep -q 'aria-label="drift statistics per run"' report.html
	grep -q '30 held-out origins, the candidate of run run-2' report.html
	# the last decision with its held-out numbers
	grep -Eq '<b>Last decision:</b> <span class="dword">deployed</span> at 2026-12-08T02:00:00Z \(run run-2\)<br>held-out RMSE: candidate <b>[0-9.]+</b>, random walk <b>[0-9.]+</b>' report.html
	# No two marks of a chart on the same spot: every (x, y) of the circles
	# and squares of the forecast and RMSE charts is distinct within its chart.
	awk '/^svg /{n++} /^circle |^rect x=[^>]*width="5"/{print n, $0}' RS='<' report.html |
		grep -oE '^[0-9]+ (circle cx="[0-9.]+" cy="[0-9.]+"|rect x="[0-9.]+" y="[0-9.]+")' | sort >marks
	[ "$(wc -l <marks)" -gt 200 ]
	[ -z "$(uniq -d marks)" ]
}

@test "the dashboard header flags a stale series" {
	need_tools
	jq '.trigger.stale_after_steps = 20' "$FIX/settings.json" >stale.json
	sed -i "s|^CHRONOPT_CONFIG=.*|CHRONOPT_CONFIG=$ws/stale.json|" chronopt.env
	CHRONOPT_RUN_ID=run-1 run pipe run --horizon 7d
	assert_success
	grep -Eq '<span class="stale">STALE: [0-9]+ steps without a new observation, the limit is 20</span>' report.html
}

@test "--jobs reaches opt-search and does not change what the search decides" {
	need_tools
	CHRONOPT_RUN_ID=run-1 run --separate-stderr pipe --jobs 1 run --horizon 7d
	assert_success
	grep -q -- '--jobs 1' runs/run-1/commands
	mv runs/run-1/10-search.ndjson one.ndjson
	rm -rf configs history.jsonl runs
	CHRONOPT_RUN_ID=run-1 run --separate-stderr pipe --jobs 2 run --horizon 7d
	assert_success
	grep -q -- '--jobs 2' runs/run-1/commands
	strip='del(.. | .seconds?) | del(.. | .optimization_time_seconds?)'
	diff <(jq -cS "$strip" one.ndjson) <(jq -cS "$strip" runs/run-1/10-search.ndjson)
	run --separate-stderr pipe --jobs 0 status
	assert_failure 2
	[ "$stderr" = "pipeline.sh: jobs '0' is not an integer in 1..999" ]
}

@test "a stage is replayed alone from the run directory and decides the same" {
	need_tools
	CHRONOPT_RUN_ID=run-1 run pipe run --all
	assert_success
	grep -q '^# 20-validate' runs/run-1/commands
	"$CHRONOPT_BIN/opt-validate" --config "$FIX/settings.json" --config-dir "$BATS_TEST_TMPDIR/empty" \
		<runs/run-1/10-search.ndjson >replayed.ndjson
	# Timings are the only fields allowed to differ.
	strip='del(.. | .seconds?) | del(.. | .seconds_per_window?)'
	diff <(jq -cS "$strip" replayed.ndjson) <(jq -cS "$strip" runs/run-1/20-validate.ndjson)
}

@test "20-validate replayed from the run directory is pinned to the configs it validated against" {
	need_tools
	CHRONOPT_RUN_ID=run-1 run pipe run --all
	assert_success
	[ "$(jq -r .deployment.deployed runs/run-1/30-deploy.ndjson | grep -c true)" -ge 1 ]
	[ -d runs/run-1/deployed ] && [ -z "$(ls runs/run-1/deployed)" ]
	cmp runs/run-1/settings.json "$FIX/settings.json"
	grep -qx '# 00-trigger decides again when replayed: .*' runs/run-1/commands
	grep -qx '# 20-validate is pinned: it validates against deployed/, the configs deployed when it ran' runs/run-1/commands
	# The recorded command, run from the run directory, after the deployments.
	cp runs/run-1/20-validate.ndjson saved.ndjson
	line=$(sed -n '/^# 20-validate$/{n;p}' runs/run-1/commands)
	[ -n "$line" ]
	(cd runs/run-1 && bash -c "$line")
	strip='del(.. | .seconds?) | del(.. | .seconds_per_window?)'
	diff <(jq -cS "$strip" saved.ndjson) <(jq -cS "$strip" runs/run-1/20-validate.ndjson)
	# Validating the same envelopes against the configs deployed now decides otherwise.
	"$CHRONOPT_BIN/opt-validate" --config "$FIX/settings.json" --config-dir configs \
		<runs/run-1/10-search.ndjson >now.ndjson
	[ "$(jq -c '[.validation.approved]' saved.ndjson | sort -u)" != "$(jq -c '[.validation.approved]' now.ndjson | sort -u)" ]
	# A second run snapshots what run-1 deployed.
	CHRONOPT_RUN_ID=run-2 run pipe run --all --force
	for f in configs/*.json; do
		cmp "$f" "runs/run-2/deployed/$(basename "$f")"
	done
}

@test "a second run --all right after does nothing and says why" {
	need_tools
	CHRONOPT_RUN_ID=run-1 run pipe run --all
	assert_success
	before=$(tree_sums configs)
	CHRONOPT_RUN_ID=run-2 run --separate-stderr pipe run --all
	assert_success
	assert_line "nothing to do: no horizon triggered"
	for h in 7d 15d 30d 90d; do
		assert_line --regexp "^$h: nothing to do: .+"
	done
	[ "$before" = "$(tree_sums configs)" ]
}

@test "--dry-run leaves every file in the workspace byte-identical" {
	need_tools
	CHRONOPT_RUN_ID=run-1 run pipe run --all
	assert_success
	before=$(tree_sums "$ws")
	CHRONOPT_RUN_ID=run-2 run --separate-stderr pipe run --all --dry-run --force
	assert_success
	assert_output --partial "dry run: nothing deployed or recorded"
	[ "$before" = "$(tree_sums "$ws")" ]
	[ ! -e runs/run-2 ]
	dir=$(sed -n 's/^envelopes of this dry run: //p' <<<"$output")
	[[ $dir == "$TMPDIR"/* ]]
	[ -s "$dir/30-deploy.ndjson" ]
	# Also on a workspace that was never run: nothing is created.
	rm -rf "$BATS_TEST_TMPDIR/fresh" && mkdir "$BATS_TEST_TMPDIR/fresh"
	cp chronopt.env series.csv "$BATS_TEST_TMPDIR/fresh/"
	before=$(tree_sums "$BATS_TEST_TMPDIR/fresh")
	run "$PIPE" --env "$BATS_TEST_TMPDIR/fresh/chronopt.env" run --all --dry-run
	assert_success
	[ "$before" = "$(tree_sums "$BATS_TEST_TMPDIR/fresh")" ]
}

@test "rollback restores the previous config and status and history show it" {
	need_tools
	lenient
	CHRONOPT_RUN_ID=run-1 run pipe run --all
	assert_success
	first=$(cat configs/7d.json)
	CHRONOPT_NOW=2026-11-24T02:00:00Z CHRONOPT_RUN_ID=run-2 run pipe run --horizon 7d --force
	assert_success
	assert_line --partial "7d: triggered"
	[ "$(jq -r .run_id configs/7d.json)" = run-2 ]
	CHRONOPT_NOW=2026-11-24T03:00:00Z run --separate-stderr pipe rollback 7d
	assert_success
	[ "$(cat configs/7d.json)" = "$first" ]
	[ "$(jq -r .run_id configs/7d.json)" = run-1 ]
	run --separate-stderr pipe status
	assert_success
	assert_line "7d: deployed"
	assert_line --regexp "^  git revision  [0-9a-f]+  rollback 7d to 7d_[0-9TZ]+\.json$"
	assert_line --regexp "^Last run: .* rollback 7d: rolled .* back to backups/7d_"
	run --separate-stderr pipe history --horizon 7d
	assert_success
	assert_line --regexp "^ +[0-9]+ +2026-11-24T03:00:00Z +7d +rolled_back "
	[ "$(jq -r 'select(.horizon == "7d") | .outcome' history.jsonl | tr '\n' ' ')" = "deployed deployed rolled_back " ]
	# Back once more: to the config that was rolled away, by name.
	name=$(jq -r 'select(.outcome == "rolled_back") | .deployment.backup' history.jsonl)
	[ -f "configs/backups/$name" ]
	CHRONOPT_NOW=2026-11-24T04:00:00Z run --separate-stderr pipe rollback 7d --to "$name"
	assert_success
	[ "$(jq -r .run_id configs/7d.json)" = run-2 ]
}

# A stand-in for mail(1): records its argv one per line and its stdin.
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

@test "mail: each run with an event and each rollback is mailed through the mail command's argv" {
	need_tools
	lenient
	make_capture
	printf 'CHRONOPT_MAIL_TO=ops@example.org\nCHRONOPT_MAIL_COMMAND=%s -s {subject} {to}\n' \
		"$BATS_TEST_TMPDIR/capture" >>chronopt.env
	CHRONOPT_RUN_ID=run-1 run pipe run --all
	assert_success
	[ -f "$CAPTURE_DIR/0.argv" ]
	mapfile -t argv <"$CAPTURE_DIR/0.argv"
	[ "${argv[0]}" = -s ]
	# the subject names the series, its last date and the model
	[[ ${argv[1]} == "chronopt USDCLP (last 2026-09-23, model random_walk): "* ]]
	[[ ${argv[1]} == *"7d"* ]]
	[ "${argv[2]}" = ops@example.org ]
	[ ${#argv[@]} -eq 3 ]
	grep -q '^chronopt run run-1$' "$CAPTURE_DIR/0.body"
	grep -q '^7d: optimization triggered: ' "$CAPTURE_DIR/0.body"
	grep -Eq '^7d: validation (passed|failed): ' "$CAPTURE_DIR/0.body"
	grep -qx "series USDCLP, last date 2026-09-23, 1000 observations ($ws/series.csv)" "$CAPTURE_DIR/0.body"
	grep -qx "model random_walk" "$CAPTURE_DIR/0.body"
	# the held-out numbers stand beside every verdict
	[ "$(grep -Ec '^[0-9]+d: validation (passed|failed): .* \[held-out RMSE [0-9.]+, random walk [0-9.]+, incumbent (none|[0-9.]+), 30 windows\]$' "$CAPTURE_DIR/0.body")" = 4 ]
	# and the text report of what was decided
	grep -q '^chronopt validation, horizon 7d: ' "$CAPTURE_DIR/0.body"
	[ "$(grep -c '^  verdict     .*: held-out RMSE ' "$CAPTURE_DIR/0.body")" = 4 ]
	# The second run triggers nothing: no mail.
	CHRONOPT_RUN_ID=run-2 run pipe run --all
	assert_success
	[ ! -e "$CAPTURE_DIR/1.argv" ]
	# A dry run sends none either.
	CHRONOPT_RUN_ID=run-3 run pipe run --all --force --dry-run
	[ ! -e "$CAPTURE_DIR/1.argv" ]
	# A forced run deploys 7d again, then a rollback: two more mails.
	CHRONOPT_NOW=2026-11-24T02:00:00Z CHRONOPT_RUN_ID=run-4 run pipe run --horizon 7d --force
	assert_success
	grep -q '^7d: optimization triggered: ' "$CAPTURE_DIR/1.body"
	CHRONOPT_NOW=2026-11-24T03:00:00Z run pipe rollback 7d
	assert_success
	mapfile -t argv <"$CAPTURE_DIR/2.argv"
	[ "${argv[*]}" = "-s chronopt USDCLP (last 2026-09-23, model random_walk): 7d rolled back ops@example.org" ]
	grep -q "^7d: rolled '.*configs/7d.json' back to backups/7d_" "$CAPTURE_DIR/2.body"
}

@test "mail: a report is delivered by the system's mail(1) to a local mailbox" {
	need_tools
	command -v mail >/dev/null || skip "no mail(1) (scripts/install-deps --with-mail)"
	[ -x /usr/sbin/exim4 ] || skip "no local MTA (exim4)"
	[ "$(id -u)" -eq 0 ] || skip "needs root to read the local mailbox"
	token="chronopt-test-$$-$RANDOM"
	# The run id lands in the body; the mailbox is found by it.
	CHRONOPT_RUN_ID=$token run pipe --mail-to root run --all
	assert_success
	for _ in $(seq 50); do
		grep -qs "^chronopt run $token\$" /var/mail/mail /var/mail/root && break
		sleep 0.2
	done
	box=$(grep -ls "^chronopt run $token\$" /var/mail/mail /var/mail/root || true)
	[ -n "$box" ]
	# The header is what we put in, nothing more.
	awk -v t="$token" '/^From /{m=""} {m=m $0 "\n"} $0=="chronopt run " t {print m; exit}' "$box" >msg
	grep -q '^Subject: chronopt [A-Za-z0-9_.-]* (last [0-9-]*, model [^)]*): ' msg
	grep -q '^To: root' msg
}

@test "hostile values: horizon names, recipients and versions are refused, nothing is evaluated" {
	for h in '../x' '$(touch pwned)' 'a/b' '' "x'y" $'7d\nrm' '-x' "$(printf 'a%.0s' {1..40})"; do
		run --separate-stderr pipe run --horizon "$h"
		assert_failure 2
		[[ $stderr == *"is not a plain name"* ]]
		run --separate-stderr pipe rollback "$h"
		assert_failure 2
		run --separate-stderr pipe history --horizon "$h"
		assert_failure 2
	done
	run --separate-stderr pipe rollback 7d --to '$(touch pwned)'
	assert_failure 2
	run --separate-stderr pipe rollback 7d --to '--config-dir=/etc'
	assert_failure 2
	run --separate-stderr pipe --mail-to '$(touch pwned)' run --all
	assert_failure 2
	[[ $stderr == *"is not a plain address"* ]]
	run --separate-stderr pipe --mail-to '-oQ/tmp/x' run --all
	assert_failure 2
	run --separate-stderr pipe history --limit '1; touch pwned'
	assert_failure 2
	[ ! -e pwned ] && [ ! -e "$BATS_TEST_TMPDIR/pwned" ]
}

@test "hostile values: the env file is data, never shell" {
	printf 'CHRONOPT_SERIES=$(touch pwned)\nCHRONOPT_MODEL=`touch pwned2`\n' >hostile.env
	run --separate-stderr "$PIPE" --env hostile.env --bin "$BATS_TEST_TMPDIR/nobin" run --all
	assert_failure 4
	printf 'touch pwned3\n' >bad.env
	run --separate-stderr "$PIPE" --env bad.env status
	assert_failure 3
	[ "$stderr" = "pipeline.sh: bad.env:1: expected KEY=VALUE" ]
	printf '# ok\nCHRONOPT_HISTORY=h.jsonl\nCHRONOPT_NOPE=1\n' >bad2.env
	run --separate-stderr "$PIPE" --env bad2.env status
	assert_failure 3
	[ "$stderr" = "pipeline.sh: bad2.env:3: unknown key 'CHRONOPT_NOPE'" ]
	ls -A
	[ ! -e pwned ] && [ ! -e pwned2 ] && [ ! -e pwned3 ]
}

@test "hostile values: odd paths and a hostile mail command reach the tools and the mailer as plain words" {
	need_tools
	make_capture
	odd="$ws/we ird \$(touch pwned); 'q\" *"
	mkdir -p "$odd"
	cp series.csv "$odd/s \$(id).csv"
	cat >chronopt.env <<ENV
CHRONOPT_SERIES=$odd/s \$(id).csv
CHRONOPT_MODEL=random_walk
CHRONOPT_CONFIG=$FIX/settings.json
CHRONOPT_CONFIG_DIR=$odd/configs
CHRONOPT_HISTORY=$odd/history.jsonl
CHRONOPT_RUN_DIR=$odd/runs
CHRONOPT_LOG_DIR=$odd/logs
CHRONOPT_MAIL_TO=ops@example.org
CHRONOPT_MAIL_COMMAND=$BATS_TEST_TMPDIR/capture -s {subject} ; touch pwned ; {to} \$(touch pwned)
ENV
	CHRONOPT_RUN_ID=run-1 run --separate-stderr pipe run --horizon 7d
	assert_success
	[ -f "$odd/configs/7d.json" ]
	mapfile -t argv <"$CAPTURE_DIR/0.argv"
	[ "${argv[2]}" = ";" ] && [ "${argv[3]}" = touch ] && [ "${argv[6]}" = ops@example.org ]
	[ "${argv[7]}" = '$(touch' ]
	grep -qF "series USDCLP, last date 2026-09-23, 1000 observations ($odd/s \$(id).csv)" "$CAPTURE_DIR/0.body"
	[ -z "$(find "$ws" "$BATS_TEST_TMPDIR" -name pwned)" ]
	# Files and directories the run made are not world-writable.
	[ -z "$(find "$odd" -perm -o+w)" ]
}

@test "the mail subject carries only fixed words and checked names" {
	need_tools
	make_capture
	printf 'CHRONOPT_MAIL_TO=a@b.c\nCHRONOPT_MAIL_COMMAND=%s {subject}\n' "$BATS_TEST_TMPDIR/capture" >>chronopt.env
	CHRONOPT_RUN_ID=run-1 run pipe run --all
	assert_success
	subject=$(sed -n 1p "$CAPTURE_DIR/0.argv")
	[[ $subject =~ ^chronopt\ USDCLP\ \(last\ 2026-09-23,\ model\ random_walk\):\ [A-Za-z0-9\ _.,:()+-]+$ ]]
	[ "$(wc -l <"$CAPTURE_DIR/0.argv")" -eq 2 ] # subject, then the recipient appended
	# No body line starts with '~' or '.', which some mailers treat as commands.
	! grep -q '^[~.]' "$CAPTURE_DIR/0.body"
}

@test "opt-report escapes every string from the history" {
	[ -x "$CHRONOPT_BIN/opt-report" ] || skip "opt-report is not built"
	run --separate-stderr "$CHRONOPT_BIN/opt-report" --history "$FIX/history-sample.jsonl" --config-dir /nonexistent
	assert_success
	refute_output --partial "<script"
	refute_output --partial "<b>calm"
	assert_output --partial "&lt;script&gt;alert(1)&lt;/script&gt;"
	assert_output --partial "&lt;b&gt;calm&lt;/b&gt; &amp; &quot;quiet&quot;"
	# No network: no URL is loaded (the only one is the SVG namespace).
	[ -z "$(grep -oE '(src|href)=' <<<"$output")" ]
	run --separate-stderr "$CHRONOPT_BIN/opt-report" --bogus
	assert_failure 2
	printf '{"schema":"chronopt-history/1","horizon":"7d","optimization_date":"2026-11-01T00:00:00Z","outcome":"deployed"}\n{"horizon":"7d","optim' >torn.jsonl
	run --separate-stderr "$CHRONOPT_BIN/opt-report" --history torn.jsonl --html out.html
	assert_success
	[ "$stderr" = "opt-report: warning: torn.jsonl: last line is incomplete (interrupted write), left out" ]
	grep -q "is incomplete" out.html
	# The page is replaced whole or not at all.
	cp out.html before.html
	CHRONOPT_FAIL_AT=rename run --separate-stderr "$CHRONOPT_BIN/opt-report" --history "$FIX/history-sample.jsonl" --html out.html
	assert_failure 4
	cmp out.html before.html
	[ "$(ls -A | grep -c tmp)" -eq 0 ]
	run --separate-stderr "$CHRONOPT_BIN/opt-report" --history "$FIX/history-sample.jsonl" --html nodir/out.html
	assert_failure 4
	printf 'not json\n{}\n' >bad.jsonl
	run --separate-stderr "$CHRONOPT_BIN/opt-report" --history bad.jsonl
	assert_failure 3
	[ "$stderr" = "opt-report: bad.jsonl:1: invalid JSON" ]
}

# render FILE.html NAME: screenshot into test-output/NAME.png, check it is a PNG.
render() {
	local out=$CHRONOPT_ROOT/test-output
	mkdir -p "$out"
	rm -f "$out/$2.png"
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$BATS_TEST_TMPDIR/chromium-$2" --screenshot="$out/$2.png" \
		--window-size=1200,1600 "file://$1" 2>"$BATS_TEST_TMPDIR/chromium-$2.log"
	[ "$(head -c 8 "$out/$2.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
	[ "$(stat -c %s "$out/$2.png")" -gt 20000 ]
}

@test "the dashboard of twelve recorded weeks renders in headless Chromium" {
	[ -x "$CHRONOPT_BIN/opt-report" ] || skip "opt-report is not built"
	command -v chromium >/dev/null || skip "chromium is not installed (scripts/install-deps --with-browser)"
	CHRONOPT_NOW=2026-11-23T02:00:00Z run --separate-stderr "$CHRONOPT_BIN/opt-report" \
		--history "$FIX/history-weeks.jsonl" --config-dir "$BATS_TEST_TMPDIR/none" --html "$ws/weeks.html"
	assert_success
	# The figures the charts are drawn from (50 records: 12 weekly runs of
	# four horizons, a rollback, a hostile copy of one record).
	grep -q '<td class="h">15d</td><td>12</td><td>6</td><td>4</td><td>0</td>' weeks.html
	grep -q '4 of 6 approved (67%)' weeks.html
	grep -q '&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot; &#39;single&#39;' weeks.html
	! grep -q '<script' weeks.html
	render "$ws/weeks.html" report-weeks
}

@test "the report of a pipeline run renders in headless Chromium" {
	need_tools
	lenient
	command -v chromium >/dev/null || skip "chromium is not installed (scripts/install-deps --with-browser)"
	CHRONOPT_RUN_ID=run-1 run pipe run --all
	assert_success
	CHRONOPT_NOW=2026-12-08T02:00:00Z CHRONOPT_RUN_ID=run-2 run pipe run --all --force
	assert_success
	run pipe rollback 7d
	run --separate-stderr pipe report
	assert_success
	assert_output "report: $ws/report.html"
	grep -q "Optimization frequency per horizon" report.html
	grep -q "<svg" report.html
	render "$ws/report.html" report-pipeline
}

@test "files follow the user's umask and are never world-writable" {
	need_tools
	(umask 027 && CHRONOPT_RUN_ID=run-1 "$PIPE" --env "$ws/chronopt.env" run --all >/dev/null)
	[ "$(stat -c %a configs/7d.json)" = 640 ]
	[ "$(stat -c %a history.jsonl)" = 640 ]
	[ "$(stat -c %a runs/run-1/40-history.ndjson)" = 640 ]
	[ "$(stat -c %a report.html)" = 640 ]
	rm -rf configs history.jsonl runs logs report.html
	(umask 000 && CHRONOPT_RUN_ID=run-2 "$PIPE" --env "$ws/chronopt.env" run --all >/dev/null)
	[ "$(stat -c %a configs/7d.json)" = 664 ]
	[ -z "$(find . -newer series.csv -perm -o+w)" ]
}

@test "usage: --help on stdout, misuse on stderr with exit 2" {
	run --separate-stderr "$PIPE" --help
	assert_success
	assert_line --index 0 "pipeline.sh — run the chronopt stages end to end; what cron runs."
	[ -z "$stderr" ]
	run --separate-stderr "$PIPE"
	assert_failure 2
	[ "$stderr" = "pipeline.sh: missing command: run, status, history, rollback, report, demo, check, watch, replay, ids, summary or cache (try --help)" ]
	run --separate-stderr "$PIPE" frobnicate
	assert_failure 2
	[ "$stderr" = "pipeline.sh: unknown command 'frobnicate' (try --help)" ]
	run --separate-stderr "$PIPE" run --all --horizon 7d
	assert_failure 2
	[ "$stderr" = "pipeline.sh: run: give --horizon H or --all, not both" ]
	run --separate-stderr "$PIPE" --seed 1e3 status
	assert_failure 2
	run --separate-stderr "$PIPE" --env "$BATS_TEST_TMPDIR/missing.env" status
	assert_failure 4
	[ "$stderr" = "pipeline.sh: cannot read env file '$BATS_TEST_TMPDIR/missing.env'" ]
	run --separate-stderr "$PIPE" --bin "$BATS_TEST_TMPDIR/nobin" run --all
	assert_failure 4
	[ "$stderr" = "pipeline.sh: tool '$BATS_TEST_TMPDIR/nobin/opt-trigger' not found: build with make, or set CHRONOPT_BIN or --bin" ]
}

@test "demo: makes its workspace, runs every horizon and says where the results are" {
	need_tools
	mkdir ../elsewhere && cd ../elsewhere # no chronopt.env here
	run --separate-stderr "$PIPE" --series "$ws/series.csv" --model random_walk demo --workspace "$ws/demo"
	cd "$ws"
	assert_success
	assert_line "Demo done. In $ws/demo:"
	assert_line --regexp "^4 triggered, [0-4] approved"
	[[ "$stderr" == *"pipeline.sh: demo workspace $ws/demo"* ]]
	grep -qx "CHRONOPT_MODEL=random_walk" demo/chronopt.env
	grep -qx "CHRONOPT_CONFIG=$CHRONOPT_ROOT/configs/demo.json" demo/chronopt.env
	grep -qx "CHRONOPT_SERIES=$ws/series.csv" demo/chronopt.env
	[ "$(wc -l <demo/history.jsonl)" -eq 4 ]
	[ -s demo/report.html ]
	# The demo's settings: 10 search windows 3 apart.
	jq -e '.search.split.search_origins == 10 and .search.split.stride == 3' \
		<(head -n 1 demo/runs/*/10-search.ndjson)
}

@test "demo: a quantile model (the bundled Chronos-Bolt and Chronos-2 demo models) gets the demo settings without sampling" {
	need_tools
	mkdir ../elsewhere && cd ../elsewhere # no chronopt.env here
	for m in chronos-bolt-demo chronos-2-demo; do
		run --separate-stderr "$PIPE" --series "$ws/series.csv" --model "$CHRONOPT_ROOT/models/$m" \
			demo --workspace "$ws/demo-$m"
		assert_success
		assert_line --regexp "^4 triggered, [0-4] approved"
		grep -qx "CHRONOPT_CONFIG=$CHRONOPT_ROOT/configs/demo-quantile.json" "$ws/demo-$m/chronopt.env"
		# every horizon searched context_length only, with the model's quantiles
		[ "$(cat "$ws/demo-$m"/runs/*/10-search.ndjson | jq -s 'length')" -eq 4 ]
		cat "$ws/demo-$m"/runs/*/10-search.ndjson | jq -se 'all(.[]; .search.status == "done"
			and (.search.space.context_length | length) >= 4 and .search.space.num_samples == [1]
			and .search.space.temperature == [1])' ||
			{ cat "$ws/demo-$m"/runs/*/10-search.ndjson | jq -c '.search | {status, space}'; return 1; }
	done
	# the T5 demo model keeps configs/demo.json (its sampling settings are searched)
	[ "$(jq -c '.search.spaces."7d" | keys' "$CHRONOPT_ROOT/configs/demo-quantile.json")" = '["context_length"]' ]
	[ "$(jq -c '.search.spaces."7d".num_samples' "$CHRONOPT_ROOT/configs/demo.json")" != null ]
}

@test "demo: settings from the env file and the command line reach the run" {
	need_tools
	# ./chronopt.env (the test workspace's) names the model, the settings and
	# the series; --jobs and --mail-command come from the command line.
	run --separate-stderr "$PIPE" --jobs 1 --mail-to ops@example.org \
		--mail-command "$BATS_TEST_TMPDIR/mailer {subject}" demo --workspace "$ws/demo"
	assert_success
	grep -qx "CHRONOPT_CONFIG=$FIX/settings.json" demo/chronopt.env
	grep -qx "CHRONOPT_MODEL=random_walk" demo/chronopt.env
	grep -q -- '--jobs 1' demo/runs/*/commands
	# every stage reads the run's copy of those settings
	cmp demo/runs/*/settings.json "$FIX/settings.json"
	grep -q -- "--config $ws/demo/runs/[^/]*/settings.json" demo/runs/*/commands
	# The mail command was the one given: it is not installed, so the mail failed.
	[[ "$stderr" == *"warning: the mail command '$BATS_TEST_TMPDIR/mailer' failed; report not mailed"* ]]
}

@test "demo: --model that is not a checkpoint directory is refused before anything is written" {
	mkdir notamodel
	run --separate-stderr "$PIPE" --model "$ws/notamodel" demo --workspace "$ws/demo"
	assert_failure 2
	[[ "$stderr" == "pipeline.sh: model '$ws/notamodel' is not a Chronos checkpoint directory (config.json, model.safetensors)"* ]]
	[ ! -e demo ]
}

@test "the man page examples run" {
	need_tools
	# The EXAMPLES of man/man1/pipeline.sh.1 as written, with pipeline.sh on
	# the PATH and HOME in the test directory.  The environment brings the
	# trimmed series, the random walk, and the lenient settings (so that the
	# forced run deploys 7d again and there is a version to roll back to).
	sed -n '/^\.SH EXAMPLES/,/^\.SH SEE ALSO/p' "$CHRONOPT_ROOT/man/man1/pipeline.sh.1" |
		sed -n '/^\.nf/,/^\.fi/{/^\./d;p}' |
		sed -e 's/\\-/-/g' -e 's/\\(ti/~/g' -e 's/\\e/\\/g' >examples.sh
	cat examples.sh
	[ "$(grep -c '^pipeline\.sh ' examples.sh)" -eq 7 ]
	[ -z "$(sed 's/\\$//' examples.sh | grep -F '\' || true)" ] # no troff escape left
	mkdir -p "$BATS_TEST_TMPDIR/path" "$BATS_TEST_TMPDIR/home" "$BATS_TEST_TMPDIR/elsewhere"
	ln -s "$PIPE" "$BATS_TEST_TMPDIR/path/pipeline.sh"
	make_capture
	cd "$BATS_TEST_TMPDIR/elsewhere"
	HOME=$BATS_TEST_TMPDIR/home PATH="$BATS_TEST_TMPDIR/path:$PATH" \
		CHRONOPT_SERIES=$ws/series.csv CHRONOPT_MODEL=random_walk CHRONOPT_CONFIG=$FIX/settings-lenient.json \
		CHRONOPT_MAIL_COMMAND="$BATS_TEST_TMPDIR/capture -s {subject} {to}" \
		run --separate-stderr bash -e "$ws/examples.sh"
	assert_success
	demo=$BATS_TEST_TMPDIR/home/chronopt-demo
	assert_line "Demo done. In $demo:"
	assert_line --partial "(dry run: nothing deployed or recorded, no mail sent)"
	assert_line "7d: deployed"
	outcomes=$(jq -r 'select(.horizon == "7d") | .outcome' "$demo/history.jsonl" | tr '\n' ' ')
	[ "$outcomes" = "deployed deployed rolled_back not_triggered " ]
	# The last run, from another directory, found nothing to do: no mail.
	tail -n 1 "$demo/logs/pipeline.log" | grep -q "exit 0: nothing to do: no horizon triggered"
	[ ! -e "$CAPTURE_DIR/0.argv" ]
}

@test "a blank mail command is refused before anything runs" {
	run --separate-stderr pipe --mail-to ops@example.org --mail-command '  ' run --all
	assert_failure 2
	[ "$stderr" = "pipeline.sh: the mail command is empty" ]
	[ ! -e runs ] && [ ! -e configs ] && [ ! -e history.jsonl ]
}

@test "the mail command's output goes to stderr, not into the run's report" {
	need_tools
	printf '#!/bin/sh\necho mailer-says-hello\ncat >/dev/null\n' >"$BATS_TEST_TMPDIR/chatty"
	chmod +x "$BATS_TEST_TMPDIR/chatty"
	run --separate-stderr pipe --mail-to ops@example.org --mail-command "$BATS_TEST_TMPDIR/chatty" run --horizon 7d
	assert_success
	refute_output --partial mailer-says-hello
	[[ "$stderr" == *mailer-says-hello* ]]
}

@test "a workspace directory that cannot be made is exit 4 and nothing is written" {
	need_tools
	touch blocker
	run --separate-stderr pipe --run-dir blocker/runs run --all
	assert_failure 4
	[ "$stderr" = "pipeline.sh: cannot create directory '$ws/blocker/runs'" ]
	[ ! -e configs ] && [ ! -e history.jsonl ] && [ ! -e logs ]
	mkdir -p runs/.lock # a lock file that cannot be opened
	run --separate-stderr pipe run --all
	assert_failure 4
	[ "$stderr" = "pipeline.sh: cannot open the lock file '$ws/runs/.lock'" ]
	[ ! -e history.jsonl ]
}

@test "rollback refuses a run id that is not a plain name before it changes anything" {
	need_tools
	lenient
	CHRONOPT_RUN_ID=run-1 run pipe run --horizon 7d
	assert_success
	CHRONOPT_NOW=2026-11-24T02:00:00Z CHRONOPT_RUN_ID=run-2 run pipe run --horizon 7d --force
	assert_success
	before=$(tree_sums "$ws")
	CHRONOPT_RUN_ID='../x' run --separate-stderr pipe rollback 7d
	assert_failure 2
	[ "$stderr" = "pipeline.sh: run id '../x' is not a plain name" ]
	[ "$before" = "$(tree_sums "$ws")" ]
}

@test "run and rollback refuse to deploy into the source tree's configs/ unless it is named" {
	need_tools
	before=$(tree_sums "$CHRONOPT_ROOT/configs")
	cd "$CHRONOPT_ROOT"
	run --separate-stderr "$PIPE" --series "$ws/series.csv" --model random_walk \
		--run-dir "$ws/runs" --history "$ws/h.jsonl" --log-dir "$ws/logs" run --all
	assert_failure 2
	[[ "$stderr" == "pipeline.sh: the deployed configs would go into the source tree's '$CHRONOPT_ROOT/configs': "* ]]
	run --separate-stderr "$PIPE" --history "$ws/h.jsonl" --log-dir "$ws/logs" rollback 7d
	assert_failure 2
	cd "$ws"
	[ "$before" = "$(tree_sums "$CHRONOPT_ROOT/configs")" ]
	[ ! -e runs ] && [ ! -e h.jsonl ] && [ ! -e logs ]
}

@test "a run while another holds the run lock is exit 5 naming its pid; a killed run's lock is no lock" {
	need_tools
	mkdir -p runs
	(exec 9>>runs/.lock && flock 9 && echo "$BASHPID" >runs/.lock && exec sleep 30) &
	holder=$!
	for _ in $(seq 1000); do [ "$(cat runs/.lock 2>/dev/null)" != "$holder" ] || break; sleep 0.01; done
	run --separate-stderr pipe run --horizon 7d
	kill "$holder"
	wait "$holder" || true
	assert_failure 5
	[ "$stderr" = "pipeline.sh: another pipeline run (pid $holder) holds '$ws/runs/.lock'" ]
	[ ! -e history.jsonl ]
	# the holder was killed: the file with its pid stays, the lock does not
	[ "$(cat runs/.lock)" = "$holder" ]
	CHRONOPT_RUN_ID=run-1 run --separate-stderr pipe run --horizon 7d
	assert_success
	[ "$(wc -l <history.jsonl)" -eq 1 ]
}

@test "champion-challenger: a run starts a challenger, a later run decides it; each step is recorded, mailed, shown" {
	need_tools
	make_capture
	jq '.deploy.mode = "challenger" | .challenger.origins = 3' "$FIX/settings-lenient.json" >"$BATS_TEST_TMPDIR/s.json"
	sed -i "s|^CHRONOPT_CONFIG=.*|CHRONOPT_CONFIG=$BATS_TEST_TMPDIR/s.json|" chronopt.env
	printf 'CHRONOPT_MAIL_TO=ops@example.org\nCHRONOPT_MAIL_COMMAND=%s -s {subject} {to}\n' "$BATS_TEST_TMPDIR/capture" >>chronopt.env
	cp series.csv full.csv
	head -n -12 full.csv >series.csv
	# no champion yet: the first approved candidate is the champion
	CHRONOPT_NOW=2026-11-23T02:00:00Z CHRONOPT_RUN_ID=r1 pipe run --horizon 7d >/dev/null 2>&1
	[ -e configs/7d.json ] && [ ! -e configs/7d.challenger.json ]
	# the next approved candidate goes live beside it
	CHRONOPT_NOW=2026-11-24T02:00:00Z CHRONOPT_RUN_ID=r2 run --separate-stderr pipe run --horizon 7d --force
	assert_success
	[ -e configs/7d.challenger.json ]
	[ "$(jq -r .challenger.start_date configs/7d.challenger.json)" = "$(tail -1 series.csv | cut -d, -f2)" ]
	[ "$(jq -r .run_id configs/7d.json)" = r1 ]
	[ "$(tail -1 history.jsonl | jq -r .outcome)" = challenger_started ]
	grep -qx 'chronopt .*7d challenger started.*' "$CAPTURE_DIR"/1.argv
	grep -q '^7d: challenger started: started the challenger' "$CAPTURE_DIR"/1.body
	# not enough origins yet: scored, nothing changes
	CHRONOPT_NOW=2026-11-25T02:00:00Z CHRONOPT_RUN_ID=r3 run --separate-stderr pipe run --horizon 7d
	assert_success
	[ "$(jq -r .challenger.action runs/r3/05-challenge.ndjson)" = scored ]
	[ "$(jq -r .outcome history.jsonl | grep -c challenger_scored)" = 1 ]
	run --separate-stderr pipe status
	assert_success
	assert_output --regexp "  challenger    [^ ]*configs/7d.challenger.json: context"
	assert_output --partial "Challengers (newest record per horizon):"
	assert_output --regexp "champion RMSE [0-9.]+, challenger RMSE [0-9.]+ on 0 of 3 origins|champion RMSE n/a, challenger RMSE n/a on 0 of 3 origins"
	# twelve more observations: the decision
	cp full.csv series.csv
	CHRONOPT_NOW=2026-12-01T02:00:00Z CHRONOPT_RUN_ID=r4 run --separate-stderr pipe run --horizon 7d
	assert_success
	act=$(jq -r .challenger.action runs/r4/05-challenge.ndjson)
	[[ $act == promoted || $act == retired ]]
	assert_output --partial "7d: challenger $act: 7d: challenger $act after 3 origins"
	[ ! -e configs/7d.challenger.json ]
	[ "$(jq -r .outcome history.jsonl | grep -c "challenger_$act")" = 1 ]
	if [ "$act" = promoted ]; then [ "$(jq -r .run_id configs/7d.json)" = r2 ]; else [ "$(jq -r .run_id configs/7d.json)" = r1 ]; fi
	last=$(ls "$CAPTURE_DIR"/*.argv | sort -V | tail -1)
	grep -q "7d challenger $act" "$last"
	[ -z "$(git -C configs status --porcelain)" ]
	# the dashboard shows what became of it, with the scores
	grep -q "<span class=\"chal-state\">$act</span>" report.html
	grep -q 'class="chal-origins">3 of 3</span>' report.html
}
