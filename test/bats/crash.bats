#!/usr/bin/env bats
# Crash injection: an LD_PRELOAD shim (test/crash/inject.c, built into
# $CHRONOPT_BUILD/test/inject.so) counts every write, fsync, rename, link and
# unlink that the processes of a scenario make on files of its workspace
# (our tools, libgit2 inside them, pipeline.sh's bash and coreutils), then
# the scenario is run again once per point and per mode: SIGKILL instead of
# the call (a crash), or the call failing with EIO. After each:
#   - the config parses and is the old or the new one (the history: the old
#     file or the old file plus the new record);
#   - a run that reported failure (EIO mode, non-zero exit) left the old one
#     (the pipeline: unless its deploy stage says the new one was deployed);
#   - git fsck --full --strict is clean;
#   - a plain rerun succeeds with no manual step, and leaves a clean work
#     tree and a clean fsck.
# Scenarios: deploy (first deployment, a later one), rollback, history
# record, a pipeline.sh run. make check sweeps every point of the first four
# (77, 50, 46 and 4 points on this tree: 354 injections) and 6 of the
# pipeline's 64 points, evenly spread (1, 12, 23, ...: a pipeline run takes
# seconds); CHRONOPT_CRASH_FULL=1 sweeps every point of the pipeline too.
# Champion-challenger: a challenger's promotion and its retirement by
# `opt-deploy challenge` (55 and 31 points on this tree); make check injects
# at every 2nd point (1, 3, ...), CHRONOPT_CRASH_FULL=1 at all 86 (172
# injections, all passed when written).
# A fault is injected into the one process that makes the call; writes
# glibc's stdio makes internally (the tools' standard output) are not seen,
# see inject.c. Each test
# prints the number of points and injections it covered (bats -t shows it).

load deploy_helper

SHIM="$CHRONOPT_BUILD/test/inject.so"
export CHRONOPT_NOW=2026-11-23T02:00:00Z OPENBLAS_NUM_THREADS=1

setup() {
	[ -f "$SHIM" ] || skip "the shim is not built (make $SHIM)"
	[ -z "${CHRONOPT_WRAP:-}" ] || skip "not under CHRONOPT_WRAP (valgrind): hundreds of runs"
	T=$BATS_TEST_TMPDIR
	W=$T/ws                  # the workspace every run uses (the shim's root)
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
}

# under_shim AT MODE CMD — run the shell command CMD in $W under the shim
# (bash included); AT 0 only counts
under_shim() {
	local log=/dev/null
	[ "$1" != 0 ] || log=$T/points.log
	head -c 8 /dev/zero >"$T/counter"
	(cd "$W" && env LD_PRELOAD="$SHIM" CHRONOPT_INJECT_ROOT="$W" CHRONOPT_INJECT_COUNTER="$T/counter" \
		CHRONOPT_INJECT_AT="$1" CHRONOPT_INJECT_MODE="$2" CHRONOPT_INJECT_LOG="$log" bash -c "$3")
}

# count_points CMD — the number of injection points of CMD (run on a fresh
# copy of the template $T/tpl); their list is left in $T/points.log
count_points() {
	rm -rf "$W" && cp -a "$T/tpl" "$W"
	: >"$T/points.log"
	under_shim 0 kill "$1" >/dev/null 2>"$T/err" || { echo "the counting run failed: $(cat "$T/err")" >&2; return 1; }
	od -An -tu8 "$T/counter" | tr -d ' '
}

# The points to inject at: all of 1..N, or every STEP-th from 1.
points() {
	local n=$1 step=${2:-1}
	seq 1 "$step" "$n"
}

fail_at() { # what point mode — a failure message with the call at that point
	echo "$1: $3 at point $2 ($(sed -n "$2p" "$T/points.log" | cut -d' ' -f2-)): ${*:4}"
	return 1
}

# ---------------------------------------------------------------- deploy

deploy_env() { envelope "$1" "$2" "$3"; }

# sweep_change NAME CMD [STEP] — for deploy and rollback: $T/tpl is the workspace
# before, $T/old the config before ("" when none), $T/new the config a clean
# run writes, $T/rerun.sh the plain rerun, $T/newctx its context_length.
sweep_change() {
	local name=$1 cmd=$2 step=${3:-1}
	local n at mode total=0
	n=$(count_points "$cmd")
	[ "$n" -gt 10 ] || { echo "$name: only $n points"; return 1; }
	for at in $(points "$n" "$step"); do
		for mode in kill eio; do
			rm -rf "$W" && cp -a "$T/tpl" "$W"
			local rc=0
			under_shim "$at" "$mode" "$cmd" >"$T/out" 2>"$T/err" || rc=$?
			total=$((total + 1))
			local cfg=$W/cfg/7d.json
			if [ -e "$cfg" ]; then
				jq -e . "$cfg" >/dev/null || fail_at "$name" "$at" "$mode" "config does not parse" || return 1
				if cmp -s "$cfg" "$T/new"; then
					[ $rc -eq 0 ] || [ $rc -eq 137 ] ||
						fail_at "$name" "$at" "$mode" "exit $rc but the new config is live: $(cat "$T/err")" || return 1
				else
					[ -s "$T/old" ] && cmp -s "$cfg" "$T/old" ||
						fail_at "$name" "$at" "$mode" "config is neither the old nor the new one" || return 1
				fi
			else
				[ ! -s "$T/old" ] || fail_at "$name" "$at" "$mode" "config is gone" || return 1
			fi
			[ $rc -ne 0 ] || cmp -s "$cfg" "$T/new" || fail_at "$name" "$at" "$mode" "exit 0 but the old config" || return 1
			if [ -d "$W/cfg/.git" ]; then
				fsck_clean "$W/cfg" || fail_at "$name" "$at" "$mode" "fsck after the fault" || return 1
			fi
			(cd "$W" && bash "$T/rerun.sh") >"$T/out2" 2>"$T/err2" ||
				fail_at "$name" "$at" "$mode" "the plain rerun failed: $(cat "$T/err2")" || return 1
			[ "$(jq -r .context_length "$cfg")" = "$(cat "$T/newctx")" ] ||
				fail_at "$name" "$at" "$mode" "the rerun did not leave the new config" || return 1
			[ -z "$(git -C "$W/cfg" status --porcelain)" ] ||
				fail_at "$name" "$at" "$mode" "work tree not clean after the rerun: $(git -C "$W/cfg" status --porcelain)" || return 1
			fsck_clean "$W/cfg" || fail_at "$name" "$at" "$mode" "fsck after the rerun" || return 1
		done
	done
	echo "# $name: $n injection points, $total injections (SIGKILL and EIO at each)" >&3
}

@test "crash injection: the first deployment, at every write, fsync, rename and unlink" {
	mkdir -p "$T/tpl"
	deploy_env 1 90 10 >"$T/tpl/env.ndjson"
	: >"$T/old"
	rm -rf "$W" && cp -a "$T/tpl" "$W"
	(cd "$W" && opt-deploy deploy --config-dir cfg <env.ndjson >/dev/null)
	cp "$W/cfg/7d.json" "$T/new"
	echo 90 >"$T/newctx"
	echo 'opt-deploy deploy --config-dir cfg <env.ndjson >/dev/null' >"$T/rerun.sh"
	sweep_change "deploy (first)" "$(cat "$T/rerun.sh")"
}

@test "crash injection: a later deployment, at every write, fsync, rename and unlink" {
	mkdir -p "$T/tpl"
	(cd "$T/tpl" && deploy_env 1 90 10 | opt-deploy deploy --config-dir cfg >/dev/null &&
		deploy_env 2 180 9 | opt-deploy deploy --config-dir cfg >/dev/null)
	deploy_env 3 270 8 >"$T/tpl/env.ndjson"
	cp "$T/tpl/cfg/7d.json" "$T/old"
	rm -rf "$W" && cp -a "$T/tpl" "$W"
	(cd "$W" && opt-deploy deploy --config-dir cfg <env.ndjson >/dev/null)
	cp "$W/cfg/7d.json" "$T/new"
	echo 270 >"$T/newctx"
	echo 'opt-deploy deploy --config-dir cfg <env.ndjson >/dev/null' >"$T/rerun.sh"
	sweep_change "deploy (later)" "$(cat "$T/rerun.sh")"
}

@test "crash injection: a rollback, at every write, fsync, rename and unlink" {
	mkdir -p "$T/tpl"
	(cd "$T/tpl" && deploy_env 1 90 10 | opt-deploy deploy --config-dir cfg >/dev/null &&
		deploy_env 2 180 9 | opt-deploy deploy --config-dir cfg >/dev/null &&
		deploy_env 3 270 8 | opt-deploy deploy --config-dir cfg >/dev/null)
	cp "$T/tpl/cfg/7d.json" "$T/old"
	cp "$T/tpl/cfg/backups/7d_20261123T020000Z-2.json" "$T/new"
	echo 180 >"$T/newctx"
	echo 'opt-deploy rollback 7d --to 7d_20261123T020000Z-2.json --config-dir cfg >/dev/null' >"$T/rerun.sh"
	sweep_change "rollback" "$(cat "$T/rerun.sh")"
}

@test "crash injection: opt-history record, at every write, fsync, rename and unlink" {
	mkdir -p "$T/tpl"
	deploy_env 1 90 10 >"$T/tpl/env1.ndjson"
	deploy_env 2 180 9 >"$T/tpl/env.ndjson"
	(cd "$T/tpl" && opt-history record --file h.jsonl <env1.ndjson >/dev/null)
	cp "$T/tpl/h.jsonl" "$T/old"
	rm -rf "$W" && cp -a "$T/tpl" "$W"
	local cmd='opt-history record --file h.jsonl <env.ndjson >/dev/null'
	(cd "$W" && bash -c "$cmd")
	cp "$W/h.jsonl" "$T/new"
	local n at mode total=0
	n=$(count_points "$cmd")
	[ "$n" -ge 3 ] || { echo "only $n points"; return 1; }
	for at in $(points "$n"); do
		for mode in kill eio; do
			rm -rf "$W" && cp -a "$T/tpl" "$W"
			local rc=0
			under_shim "$at" "$mode" "$cmd" >/dev/null 2>"$T/err" || rc=$?
			total=$((total + 1))
			if cmp -s "$W/h.jsonl" "$T/new"; then
				[ $rc -eq 0 ] || [ $rc -eq 137 ] || fail_at history "$at" "$mode" "exit $rc with the record written" || return 1
			else
				cmp -s "$W/h.jsonl" "$T/old" || fail_at history "$at" "$mode" "the file is neither the old nor the new one" || return 1
				[ $rc -ne 0 ] || fail_at history "$at" "$mode" "exit 0 without the record" || return 1
			fi
			(cd "$W" && bash -c "$cmd") 2>"$T/err2" || fail_at history "$at" "$mode" "the plain rerun failed: $(cat "$T/err2")" || return 1
			jq -c . "$W/h.jsonl" >/dev/null || fail_at history "$at" "$mode" "a line does not parse" || return 1
			opt-history show --file "$W/h.jsonl" >/dev/null || fail_at history "$at" "$mode" "show fails after the rerun" || return 1
		done
	done
	echo "# history record: $n injection points, $total injections (SIGKILL and EIO at each)" >&3
}

# a config without the measured times in it (optimization_time_seconds,
# seconds_per_window), which differ from run to run
norm() { jq -S 'walk(if type == "object" then with_entries(select(.key | test("seconds") | not)) else . end)' "$1"; }

@test "crash injection: a pipeline.sh run (a subset of points; CHRONOPT_CRASH_FULL=1 for all)" {
	mkdir -p "$T/tpl"
	{
		head -n 1 "$CHRONOPT_ROOT/testdata/usdclp_daily.csv"
		tail -n 600 "$CHRONOPT_ROOT/testdata/usdclp_daily.csv"
	} >"$T/tpl/series.csv"
	cat >"$T/tpl/chronopt.env" <<ENV
CHRONOPT_SERIES=series.csv
CHRONOPT_MODEL=random_walk
CHRONOPT_CONFIG=$CHRONOPT_ROOT/test/bats/fixtures/pipeline/settings-lenient.json
CHRONOPT_CONFIG_DIR=configs
CHRONOPT_HISTORY=history.jsonl
CHRONOPT_RUN_DIR=runs
CHRONOPT_LOG_DIR=logs
ENV
	local pipe="$CHRONOPT_ROOT/pipeline.sh --env chronopt.env run --horizon 7d"
	(cd "$T/tpl" && CHRONOPT_RUN_ID=r1 $pipe >/dev/null 2>&1)
	norm "$T/tpl/configs/7d.json" >"$T/old"
	local cmd="CHRONOPT_NOW=2026-11-25T02:00:00Z CHRONOPT_RUN_ID=r2 $pipe --force >/dev/null"
	rm -rf "$W" && cp -a "$T/tpl" "$W"
	(cd "$W" && bash -c "$cmd" 2>/dev/null)
	norm "$W/configs/7d.json" >"$T/new"
	! cmp -s "$T/old" "$T/new"
	local n at mode total=0 step
	n=$(count_points "$cmd")
	[ "$n" -gt 20 ] || { echo "only $n points"; return 1; }
	step=$(( (n + 5) / 6 ))
	[ "${CHRONOPT_CRASH_FULL:-0}" != 1 ] || step=1
	for at in $(points "$n" "$step"); do
		for mode in kill eio; do
			rm -rf "$W" && cp -a "$T/tpl" "$W"
			local rc=0
			under_shim "$at" "$mode" "$cmd" >/dev/null 2>"$T/err" || rc=$?
			total=$((total + 1))
			local cfg=$W/configs/7d.json
			jq -e . "$cfg" >/dev/null || fail_at pipeline "$at" "$mode" "config does not parse" || return 1
			norm "$cfg" >"$T/cur"
			if cmp -s "$T/cur" "$T/new"; then
				# a run that failed after its deploy stage: its page says so (kept as
				# .partial when the stage's own rename of it failed)
				[ $rc -eq 0 ] || [ $rc -eq 137 ] ||
					[ "$(jq -r .deployment.deployed "$W/runs/r2/30-deploy.ndjson" 2>/dev/null)" = true ] ||
					[ "$(jq -r .deployment.deployed "$W/runs/r2/30-deploy.ndjson.partial" 2>/dev/null)" = true ] ||
					fail_at pipeline "$at" "$mode" "exit $rc, the new config live and not said" || return 1
			else
				cmp -s "$T/cur" "$T/old" || fail_at pipeline "$at" "$mode" "config is neither the old nor the new one" || return 1
				[ $rc -ne 0 ] || fail_at pipeline "$at" "$mode" "exit 0 with the old config" || return 1
			fi
			fsck_clean "$W/configs" || fail_at pipeline "$at" "$mode" "fsck after the fault" || return 1
			(cd "$W" && CHRONOPT_NOW=2026-11-26T02:00:00Z CHRONOPT_RUN_ID=r3 bash -c "$pipe --force" >/dev/null 2>"$T/err2") ||
				fail_at pipeline "$at" "$mode" "the plain rerun failed: $(tail -3 "$T/err2")" || return 1
			jq -e . "$cfg" >/dev/null && jq -c . "$W/history.jsonl" >/dev/null ||
				fail_at pipeline "$at" "$mode" "config or history does not parse after the rerun" || return 1
			[ -z "$(git -C "$W/configs" status --porcelain)" ] ||
				fail_at pipeline "$at" "$mode" "work tree not clean after the rerun" || return 1
			fsck_clean "$W/configs" || fail_at pipeline "$at" "$mode" "fsck after the rerun" || return 1
		done
	done
	echo "# pipeline.sh run: $n injection points, $total injections at $(( total / 2 )) of them (every ${step}th)" >&3
}

# ---------------------------------------------------------------- challenger

# ch_env N H STEPS CTX RMSE MODEL START — an approved envelope (opt-deploy.bats' ch_envelope)
ch_env() {
	printf '{"schema":"chronopt/1","run_id":"run-%s","seed":42,"series":{"path":"s.csv","id":"USDCLP","last_date":"%s","length":5000},' "$1" "$7"
	printf '"horizon":{"name":"%s","steps":%s},"search":{"status":"done","candidate":{"horizon":"%s","context_length":%s,' "$2" "$3" "$2" "$4"
	printf '"num_samples":100,"temperature":1.0,"top_k":0,"top_p":1.0,"validation_rmse":%s,"model":{"dir":"%s"}}},' "$5" "$6"
	printf '"validation":{"status":"done","approved":true,"summary":"crafted","reasons":["better"],"candidate":{"rmse":%s,"seconds":1},"windows":{"count":30}}}\n' "$5"
}

# same_champion A B: the same config but for "previous" (a rerun after a
# crash that left the backup uncommitted names the next free backup)
same_champion() { [ "$(jq -S 'del(.previous)' "$1")" = "$(jq -S 'del(.previous)' "$2")" ]; }

# sweep_challenge NAME H: $T/tpl holds cfg/ with champion and challenger of
# H; the scenario is `opt-deploy challenge`, which promotes or retires. $T/new
# is the champion a clean run leaves. After each fault the state is one of
# the two consistent ones: the old champion and the old challenger file, or
# the new champion and no challenger file (or, after a crash between the
# promotion's steps, one that the new champion names in promoted_from, which
# no reader takes for live); a plain rerun completes the change.
sweep_challenge() {
	local name=$1 h=$2
	local cmd="opt-deploy challenge --series '$CHRONOPT_ROOT/testdata/usdclp_daily.csv' --model random_walk --horizon $h --config-dir cfg >/dev/null"
	local n at mode total=0
	n=$(count_points "$cmd")
	[ "$n" -gt 10 ] || { echo "$name: only $n points"; return 1; }
	# every 2nd point (from 1) under make check; CHRONOPT_CRASH_FULL=1: all
	local step=2
	[ "${CHRONOPT_CRASH_FULL:-0}" != 1 ] || step=1
	local cfg=$W/cfg/$h.json chf=$W/cfg/$h.challenger.json
	for at in $(points "$n" "$step"); do
		for mode in kill eio; do
			rm -rf "$W" && cp -a "$T/tpl" "$W"
			local rc=0
			under_shim "$at" "$mode" "$cmd" >"$T/out" 2>"$T/err" || rc=$?
			total=$((total + 1))
			jq -e . "$cfg" >/dev/null || fail_at "$name" "$at" "$mode" "champion does not parse" || return 1
			if cmp -s "$cfg" "$T/old"; then
				cmp -s "$chf" "$T/oldch" || [ ! -e "$chf" ] && [ "$name" = retirement ] ||
					cmp -s "$chf" "$T/oldch" ||
					fail_at "$name" "$at" "$mode" "the old champion without its challenger" || return 1
				[ $rc -ne 0 ] || [ ! -e "$chf" ] || fail_at "$name" "$at" "$mode" "exit 0 and nothing done" || return 1
			elif same_champion "$cfg" "$T/new"; then
				[ ! -e "$chf" ] || [ "$(jq -r .promoted_from.challenger_sha256 "$cfg")" = "$(sha256sum <"$chf" | cut -c1-64)" ] ||
					fail_at "$name" "$at" "$mode" "the new champion beside a live challenger" || return 1
				[ $rc -eq 0 ] || [ $rc -eq 137 ] ||
					fail_at "$name" "$at" "$mode" "exit $rc but the new champion is live: $(cat "$T/err")" || return 1
			else
				fail_at "$name" "$at" "$mode" "the champion is neither the old nor the new one" || return 1
			fi
			fsck_clean "$W/cfg" || fail_at "$name" "$at" "$mode" "fsck after the fault" || return 1
			(cd "$W" && bash -c "$cmd") 2>"$T/err2" ||
				fail_at "$name" "$at" "$mode" "the plain rerun failed: $(cat "$T/err2")" || return 1
			same_champion "$cfg" "$T/new" || fail_at "$name" "$at" "$mode" "the rerun did not leave the new champion" || return 1
			[ ! -e "$chf" ] || fail_at "$name" "$at" "$mode" "the rerun left the challenger file" || return 1
			# a kill after the commit leaves the (unlocked) lock file, which the next change takes
			[ -z "$(git -C "$W/cfg" status --porcelain | grep -vx '?? .deploy.lock')" ] ||
				fail_at "$name" "$at" "$mode" "work tree not clean after the rerun: $(git -C "$W/cfg" status --porcelain)" || return 1
			git -C "$W/cfg" cat-file -e "HEAD:$h.challenger.json" 2>/dev/null &&
				{ fail_at "$name" "$at" "$mode" "the challenger file is still committed" || return 1; }
			fsck_clean "$W/cfg" || fail_at "$name" "$at" "$mode" "fsck after the rerun" || return 1
		done
	done
	echo "# challenger $name: $n injection points, $total injections (SIGKILL and EIO at every ${step}th)" >&3
}

@test "crash injection: a challenger's promotion, at every write, fsync, rename and unlink" {
	mkdir -p "$T/tpl"
	(cd "$T/tpl" && ch_env 1 30d 30 90 10 random_walk 2024-01-02 | opt-deploy deploy --config-dir cfg >/dev/null &&
		ch_env 2 30d 30 540 9 drift 2024-01-02 | opt-deploy deploy --as-challenger --config-dir cfg >/dev/null)
	cp "$T/tpl/cfg/30d.json" "$T/old"
	cp "$T/tpl/cfg/30d.challenger.json" "$T/oldch"
	rm -rf "$W" && cp -a "$T/tpl" "$W"
	(cd "$W" && opt-deploy challenge --series "$CHRONOPT_ROOT/testdata/usdclp_daily.csv" --model random_walk --horizon 30d --config-dir cfg) >"$T/c"
	[ "$(jq -r .challenger.action "$T/c")" = promoted ]
	cp "$W/cfg/30d.json" "$T/new"
	sweep_challenge promotion 30d
}

@test "crash injection: a challenger's retirement, at every write, fsync, rename and unlink" {
	mkdir -p "$T/tpl"
	(cd "$T/tpl" && ch_env 1 7d 7 90 10 random_walk 2025-01-02 | opt-deploy deploy --config-dir cfg >/dev/null &&
		ch_env 2 7d 7 540 9 drift 2025-01-02 | opt-deploy deploy --as-challenger --config-dir cfg >/dev/null)
	cp "$T/tpl/cfg/7d.json" "$T/old"
	cp "$T/tpl/cfg/7d.challenger.json" "$T/oldch"
	cp "$T/tpl/cfg/7d.json" "$T/new"
	sweep_challenge retirement 7d
}
