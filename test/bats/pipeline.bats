#!/usr/bin/env bats
# pipeline.sh end to end on a trimmed USD/CLP series with the random walk,
# plus install-cron and opt-report.  Artifacts for people: test-output/.

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
	[[ ${argv[1]} == "chronopt: "* ]]
	[[ ${argv[1]} == *"7d"* ]]
	[ "${argv[2]}" = ops@example.org ]
	[ ${#argv[@]} -eq 3 ]
	grep -q '^chronopt run run-1$' "$CAPTURE_DIR/0.body"
	grep -q '^7d: optimization triggered: ' "$CAPTURE_DIR/0.body"
	grep -Eq '^7d: validation (passed|failed): ' "$CAPTURE_DIR/0.body"
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
	[ "${argv[*]}" = "-s chronopt: 7d rolled back ops@example.org" ]
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
	grep -q '^Subject: chronopt: ' msg
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
	grep -qF "series $odd/s \$(id).csv" "$CAPTURE_DIR/0.body"
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
	[[ $subject =~ ^chronopt:\ [A-Za-z0-9\ _.,:()+-]+$ ]]
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

@test "install-cron: Sundays 02:00 America/Santiago, environment pinned, logging to a file" {
	run --separate-stderr "$CHRONOPT_ROOT/scripts/install-cron" --print --workspace "$ws" --bin /opt/chronopt/bin
	assert_success
	assert_line "CRON_TZ=America/Santiago"
	assert_line "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	assert_line 'CHRONOPT_BIN="/opt/chronopt/bin"'
	assert_line "CHRONOPT_ENV=\"$ws/chronopt.env\""
	line=$(grep -v '^#' <<<"$output" | grep -v '=' || true)
	[ -z "$line" ] || true
	job=$(grep -E '^[0-9*]' <<<"$output")
	[ "$(wc -l <<<"$job")" -eq 1 ]
	read -r m h dom mon dow user rest <<<"$job"
	[ "$m $h $dom $mon $dow" = "0 * * * 6,0,1" ]
	[ "$user" = "$(id -un)" ]
	[[ $rest == *"TZ=America/Santiago date +\\%u\\%H"*"= 702 ]"* ]]
	[[ $rest == *"run --all >>'$ws/logs/cron.log' 2>&1" ]]

	mkdir "$BATS_TEST_TMPDIR/cron.d"
	run --separate-stderr "$CHRONOPT_ROOT/scripts/install-cron" --dest "$BATS_TEST_TMPDIR/cron.d" --workspace "$ws"
	assert_success
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/cron.d/chronopt")" = 644 ]
	[ "$(ls -A "$BATS_TEST_TMPDIR/cron.d")" = chronopt ]

	run "$CHRONOPT_ROOT/scripts/install-cron" --print --name 'x.y'
	assert_failure 2
	run "$CHRONOPT_ROOT/scripts/install-cron" --print --workspace "$ws/100%"
	assert_failure 2
}

@test "install-cron: the job runs only at 02 on Sunday in Santiago, whatever cron's time zone" {
	"$CHRONOPT_ROOT/scripts/install-cron" --print --workspace "$ws" >entry
	job=$(grep -E '^[0-9*]' entry)
	read -r _ _ _ _ _ _ cmd <<<"$job"
	cmd=${cmd//\\%/%} # what cron hands to sh
	mkdir fakebin
	for now in 701 703 102 702; do
		printf '#!/bin/sh\necho %s\n' "$now" >fakebin/date
		chmod +x fakebin/date
		PATH="$PWD/fakebin:$PATH" sh -c "$cmd" || true
		if [ "$now" = 702 ]; then
			[ -s logs/cron.log ] # ran: the pipeline wrote into the log
		else
			[ ! -e logs/cron.log ]
		fi
	done
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
	[ "$stderr" = "pipeline.sh: missing command: run, status, history, rollback, report, demo or replay (try --help)" ]
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
	grep -q -- "--config $FIX/settings.json" demo/runs/*/commands
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

@test "without a model setting the bundled demo model is used" {
	need_tools
	sed -i '/^CHRONOPT_MODEL=/d' chronopt.env
	run --separate-stderr pipe run --horizon 7d --dry-run --force
	assert_success
	[[ "$stderr" == *"model $CHRONOPT_ROOT/models/chronos-demo)"* ]]
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
