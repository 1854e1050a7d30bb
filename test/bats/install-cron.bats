#!/usr/bin/env bats
# install-cron: schedule, time zone, workspace checks, staggering, the
# systemd alternative, the watch entry.

bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

: "${CHRONOPT_ROOT:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
: "${CHRONOPT_BIN:=$CHRONOPT_ROOT/build/bin}"
export CHRONOPT_ROOT CHRONOPT_BIN
unset CHRONOPT_ENV CHRONOPT_MODEL CHRONOPT_SERIES CHRONOPT_CONFIG CHRONOPT_SYSLOG CHRONOPT_LOG_FILE

IC="$CHRONOPT_ROOT/scripts/install-cron"
PIPE="$CHRONOPT_ROOT/pipeline.sh"

# a workspace with an env file that names a model
mkws() {
	mkdir -p "$1"
	printf 'CHRONOPT_MODEL=random_walk\n' >"$1/chronopt.env"
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	ws=$BATS_TEST_TMPDIR/ws
	mkws "$ws"
}

# the job lines of an entry (not comments, not VAR=value)
jobs_of() { grep -E '^[0-9*]' "$@"; }

# What cron hands to sh for job line $1: the command after the user, with
# cron's \% turned back into %.
command_of() {
	local m h dom mon dow user cmd
	read -r m h dom mon dow user cmd <<<"$1"
	printf '%s' "${cmd//\\%/%}"
}

# Run job line $1 as cron would at local time "%u%H%M" $2 (date faked).
fire_at() {
	mkdir -p fakebin
	printf '#!/bin/sh\necho %s\n' "$2" >fakebin/date
	chmod +x fakebin/date
	# The tools are not found: the pipeline stops at once, after writing
	# its message into the job's log.
	CHRONOPT_BIN=/nonexistent PATH="$PWD/fakebin:$PATH" sh -c "$(command_of "$1")" || true
}

@test "default: Sundays 02:00 America/Santiago, environment pinned, logging to a file" {
	run --separate-stderr "$IC" --print --workspace "$ws" --bin "$CHRONOPT_BIN"
	assert_success
	assert_line "CRON_TZ=America/Santiago"
	assert_line "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	assert_line "CHRONOPT_BIN=\"$CHRONOPT_BIN\""
	assert_line "# run: sun 02:00 America/Santiago"
	job=$(jobs_of <<<"$output")
	[ "$(wc -l <<<"$job")" -eq 1 ]
	read -r m h dom mon dow user rest <<<"$job"
	# every quarter hour at the job's minute; the guard picks the local time
	[ "$m $h $dom $mon $dow" = "0,15,30,45 * * * *" ]
	[ "$user" = "$(id -un)" ]
	[[ $rest == 'case "$(TZ=America/Santiago date +\%u\%H\%M)" in 70200) '* ]]
	[[ $rest == *"--env '$ws/chronopt.env' run --all >>'$ws/logs/cron.log' 2>&1 ;; esac" ]]
}

@test "installs a 0644 file into the destination, named as asked" {
	mkdir cron.d
	run --separate-stderr "$IC" --dest "$BATS_TEST_TMPDIR/cron.d" --workspace "$ws" --name chronopt-fx
	assert_success
	[ "$stderr" = "install-cron: installed $BATS_TEST_TMPDIR/cron.d/chronopt-fx (sun 02:00 America/Santiago, 1 workspace(s))" ]
	[ "$(stat -c %a cron.d/chronopt-fx)" = 644 ]
	[ "$(ls -A cron.d)" = chronopt-fx ]
	run --separate-stderr "$IC" --dest "$BATS_TEST_TMPDIR/nowhere" --workspace "$ws"
	assert_failure 4
	[ "$stderr" = "install-cron: '$BATS_TEST_TMPDIR/nowhere' is not a directory" ]
}

@test "the job runs only at the local day and time asked for, whatever cron's time zone" {
	"$IC" --print --workspace "$ws" >entry
	job=$(jobs_of entry)
	cd "$ws"
	for now in 70100 70215 10200 60200 70200; do
		fire_at "$job" "$now"
		if [ "$now" = 70200 ]; then
			# ran: the pipeline wrote into the log
			grep -q "^pipeline.sh: tool '/nonexistent/opt-trigger' not found" logs/cron.log
		else
			[ ! -e logs/cron.log ] || { echo "fired at $now"; return 1; }
		fi
	done
}

@test "a schedule and a time zone: days, ranges, lists, daily; the minute's quarter" {
	run --separate-stderr "$IC" --print --workspace "$ws" --schedule 'mon-fri 06:37' --timezone Asia/Kathmandu
	assert_success
	job=$(jobs_of <<<"$output")
	read -r m _ _ _ _ _ rest <<<"$job"
	[ "$m" = "7,22,37,52" ]
	[[ $rest == 'case "$(TZ=Asia/Kathmandu date +\%u\%H\%M)" in 10637|20637|30637|40637|50637) '* ]]
	assert_line "CRON_TZ=Asia/Kathmandu"
	run "$IC" --print --workspace "$ws" --schedule 'sat,sun 23:00' --timezone UTC
	assert_success
	[[ $(jobs_of <<<"$output") == *" in 62300|72300) "* ]]
	run "$IC" --print --workspace "$ws" --schedule 'daily 00:05'
	[[ $(jobs_of <<<"$output") == *" in 10005|20005|30005|40005|50005|60005|70005) "* ]]
	run "$IC" --print --workspace "$ws" --schedule 'sat-mon 1:00'
	[[ $(jobs_of <<<"$output") == *" in 10100|60100|70100) "* ]]
	run "$IC" --print --workspace "$ws" --schedule '7 02:00'
	[[ $(jobs_of <<<"$output") == *" in 70200) "* ]]
}

@test "bad schedules, time zones, staggers and names are usage errors" {
	for s in 'sun' '02:00' 'sun 24:00' 'sun 02:60' 'funday 02:00' 'mon-xyz 02:00' 'sun 2:0'; do
		run --separate-stderr "$IC" --print --workspace "$ws" --schedule "$s"
		assert_failure 2
		[[ $stderr == "install-cron: schedule '$s"* ]] || { echo "$s: $stderr"; return 1; }
	done
	run --separate-stderr "$IC" --print --workspace "$ws" --timezone Mars/Olympus
	assert_failure 2
	[ "$stderr" = "install-cron: time zone 'Mars/Olympus' is not in /usr/share/zoneinfo (a name such as America/Santiago or UTC; install tzdata)" ]
	run --separate-stderr "$IC" --print --workspace "$ws" --timezone '../../etc/passwd'
	assert_failure 2
	run --separate-stderr "$IC" --print --workspace "$ws" --stagger 1441
	assert_failure 2
	run "$IC" --print --workspace "$ws" --name 'x.y'
	assert_failure 2
	mkws "$BATS_TEST_TMPDIR/100%"
	run "$IC" --print --workspace "$BATS_TEST_TMPDIR/100%"
	assert_failure 2
}

@test "a workspace that does not exist, has no env file or a bad one is refused before anything is written" {
	mkdir cron.d
	run --separate-stderr "$IC" --dest cron.d --workspace "$BATS_TEST_TMPDIR/nope"
	assert_failure 4
	[ "$stderr" = "install-cron: workspace '$BATS_TEST_TMPDIR/nope' does not exist (create it, with its env file, first; see pipeline.sh(1))" ]
	mkdir empty
	run --separate-stderr "$IC" --dest cron.d --workspace empty
	assert_failure 4
	[ "$stderr" = "install-cron: workspace '$BATS_TEST_TMPDIR/empty' has no readable env file '$BATS_TEST_TMPDIR/empty/chronopt.env' (see pipeline.sh(1), The env file)" ]
	# an env file without a model: the job would refuse every week
	: >empty/chronopt.env
	run --separate-stderr "$IC" --dest cron.d --workspace empty
	assert_failure 2
	[[ $stderr == "install-cron: workspace '$BATS_TEST_TMPDIR/empty': no model configured: "* ]]
	printf 'NOT A LINE\n' >empty/chronopt.env
	run --separate-stderr "$IC" --print --workspace empty
	assert_failure 3
	[ "$stderr" = "install-cron: workspace '$BATS_TEST_TMPDIR/empty': $BATS_TEST_TMPDIR/empty/chronopt.env:1: expected KEY=VALUE" ]
	[ -z "$(ls -A cron.d)" ]
	# --env names another file
	printf 'CHRONOPT_MODEL=random_walk\n' >other.env
	run --separate-stderr "$IC" --print --workspace empty --env other.env
	assert_success
	assert_output --partial "--env '$BATS_TEST_TMPDIR/other.env' run --all"
}

@test "several workspaces are staggered: the Nth starts N times --stagger minutes later, across midnight too" {
	mkws a && mkws b && mkws c
	run --separate-stderr "$IC" --print --workspace a --workspace b --workspace c --schedule 'sun 23:30' --stagger 20
	assert_success
	assert_line "# run: sun 23:30 America/Santiago; workspace N starts N*20 min later"
	mapfile -t j < <(jobs_of <<<"$output")
	[ ${#j[@]} -eq 3 ]
	[[ ${j[0]} == "0,15,30,45 "*" in 72330) cd '$BATS_TEST_TMPDIR/a' "* ]]
	[[ ${j[1]} == "5,20,35,50 "*" in 72350) cd '$BATS_TEST_TMPDIR/b' "* ]]
	[[ ${j[2]} == "10,25,40,55 "*" in 10010) cd '$BATS_TEST_TMPDIR/c' "* ]] # Monday 00:10
	# the same command line gives the same entry
	run "$IC" --print --workspace a --workspace b --workspace c --schedule 'sun 23:30' --stagger 20
	[ "$(jobs_of <<<"$output")" = "$(printf '%s\n' "${j[@]}")" ]
	# --env and --log name one workspace's files
	run --separate-stderr "$IC" --print --workspace a --workspace b --env x.env
	assert_failure 2
	run --separate-stderr "$IC" --print --workspace a --workspace b --log x.log
	assert_failure 2
}

@test "--watch adds the daily watch job; --syslog reaches the pipeline" {
	run --separate-stderr "$IC" --print --workspace "$ws" --watch --syslog
	assert_success
	mapfile -t j < <(jobs_of <<<"$output")
	[ ${#j[@]} -eq 2 ]
	[[ ${j[0]} == *" in 70200) "*"--env '$ws/chronopt.env' --syslog run --all >>"* ]]
	[[ ${j[1]} == *" in 10600|20600|30600|40600|50600|60600|70600) "*"--env '$ws/chronopt.env' --syslog watch --all >>"* ]]
	run "$IC" --print --workspace "$ws" --watch-schedule 'mon 07:45'
	[[ $(jobs_of <<<"$output" | tail -n 1) == "0,15,30,45 "*" in 10745) "*" watch --all >>"* ]]
}

@test "--systemd prints a service and a timer per job that systemd accepts" {
	mkws a && mkws b
	run --separate-stderr "$IC" --systemd --workspace a --workspace b --watch --stagger 30
	assert_success
	assert_line "# ---- chronopt-1.service"
	assert_line "# ---- chronopt-1.timer"
	assert_line "# ---- chronopt-1-watch.timer"
	assert_line "# ---- chronopt-2.service"
	assert_line "OnCalendar=Sun *-*-* 02:00:00 America/Santiago"
	assert_line "OnCalendar=Sun *-*-* 02:30:00 America/Santiago"
	assert_line "OnCalendar=Mon,Tue,Wed,Thu,Fri,Sat,Sun *-*-* 06:30:00 America/Santiago"
	assert_line "WorkingDirectory=$BATS_TEST_TMPDIR/b"
	assert_line "ExecStart=\"$PIPE\" --env \"$BATS_TEST_TMPDIR/a/chronopt.env\" run --all"
	assert_line "ExecStart=\"$PIPE\" --env \"$BATS_TEST_TMPDIR/b/chronopt.env\" watch --all"
	# Split into files and let systemd check them.
	mkdir units
	awk '/^# ---- /{f="units/" $3; next} f{print > f}' <<<"$output"
	[ "$(ls units | wc -l)" -eq 8 ]
	if ! command -v systemd-analyze >/dev/null; then
		skip "systemd-analyze is not installed: the units were not checked by systemd"
	fi
	while IFS= read -r cal; do
		systemd-analyze calendar "${cal#OnCalendar=}" >/dev/null
	done < <(grep -h '^OnCalendar=' units/*.timer)
	run systemd-analyze verify --man=no units/chronopt-1.service units/chronopt-1.timer
	[ "$status" -eq 0 ] || [[ $output == *"System has not been booted with systemd"* ]] || {
		echo "$output"
		return 1
	}
}

@test "install-cron --help is the usage text, exit 0" {
	run --separate-stderr "$IC" --help
	assert_success
	assert_line --index 0 "Usage: install-cron [--print | --systemd | --dest DIR] [--workspace DIR]..."
	run --separate-stderr "$IC" --frob
	assert_failure 2
	[ "$stderr" = "install-cron: unknown argument '--frob' (try --help)" ]
}

@test "the man page examples run" {
	sed -n '/^\.SH EXAMPLES/,/^\.SH SEE ALSO/p' "$CHRONOPT_ROOT/man/man1/chronopt-install-cron.1" |
		sed -n '/^\.nf/,/^\.fi/{/^\./d;p}' |
		sed -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" -e 's/\\e/\\/g' >examples.sh
	cat examples.sh
	[ "$(grep -c '^chronopt-install-cron ' examples.sh)" -eq 3 ]
	[ -z "$(sed 's/\\$//' examples.sh | grep -F '\' || true)" ] # no troff escape left
	# /srv is the test's; the installing example installs into a test directory
	sed -i -e "s|/srv/|$BATS_TEST_TMPDIR/srv/|g" \
		-e "s|^chronopt-install-cron |chronopt-install-cron --dest $BATS_TEST_TMPDIR/cron.d |" examples.sh
	for w in chronopt usdclp eurclp; do
		mkws "$BATS_TEST_TMPDIR/srv/$w"
	done
	mkdir cron.d path
	ln -s "$IC" path/chronopt-install-cron
	PATH="$PWD/path:$PATH" run --separate-stderr bash -e examples.sh
	assert_success
	[ "$(jobs_of cron.d/chronopt | wc -l)" -eq 4 ] # two workspaces, run and watch each
	grep -q " in 10630|20630|30630|40630|50630) cd '$BATS_TEST_TMPDIR/srv/usdclp' " cron.d/chronopt
	grep -q " in 10700|20700|30700|40700|50700) cd '$BATS_TEST_TMPDIR/srv/eurclp' " cron.d/chronopt
	assert_line "# ---- chronopt-watch.timer"
}
