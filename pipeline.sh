#!/bin/bash
# pipeline.sh — run the chronopt stages end to end; what cron runs.
#
# Usage: pipeline.sh [OPTIONS] COMMAND [ARGS]
#   run [--horizon H | --all] [--dry-run] [--force]
#                        trigger | search | validate | deploy | record, one run
#   status               deployed config per horizon, last optimizations, last run
#   history [--horizon H] [--limit N]
#                        the recorded runs
#   rollback H [--to V]  restore the previous config of horizon H (or version V)
#   report               write the HTML dashboard
#   demo [--workspace DIR] [--model DIR]
#                        scratch workspace, run --all on the bundled data, report
#   replay --from DATE [--to DATE] [--day D] [--workspace DIR] [--incumbent DIR]
#          [--change-date DATE] [--next N] [--no-score | --score-only]
#                        what chronopt would have done: run --all every simulated
#                        week on the series as known that day, then score it
#
# Options (anywhere on the line; each overrides the env file's KEY):
#   --env FILE           env file (default $CHRONOPT_ENV, else ./chronopt.env if present)
#   --series FILE        CHRONOPT_SERIES     series CSV (default: bundled testdata/usdclp_daily.csv)
#   --series-id ID       CHRONOPT_SERIES_ID  id in a long-format CSV (default: the tools' default)
#   --model SPEC         CHRONOPT_MODEL      Chronos checkpoint dir or baseline name
#                                            (default: bundled models/chronos-demo, else random_walk)
#   --config FILE        CHRONOPT_CONFIG     settings file (default ./configs/chronopt.json if
#                                            present, else the bundled configs/chronopt.json)
#   --config-dir DIR     CHRONOPT_CONFIG_DIR deployed configs, a git repo (default ./configs)
#   --history FILE       CHRONOPT_HISTORY    history file (default ./history.jsonl)
#   --run-dir DIR        CHRONOPT_RUN_DIR    one directory per run (default ./runs)
#   --log-dir DIR        CHRONOPT_LOG_DIR    pipeline.log, one line per run (default ./logs)
#   --report FILE        CHRONOPT_REPORT     dashboard (default ./report.html)
#   --mail-to ADDR       CHRONOPT_MAIL_TO    recipient(s), comma-separated (default: no mail)
#   --mail-command CMD   CHRONOPT_MAIL_COMMAND
#                                            words split on blanks, never evaluated; {subject}
#                                            and {to} are replaced by the subject and recipients
#                                            (default "mail -s {subject} {to}")
#   --bin DIR            CHRONOPT_BIN        tool directory (default: build/bin next to this script)
#   --seed N             CHRONOPT_SEED       seed of every random stream (default 42)
#   --jobs N             CHRONOPT_JOBS       opt-search worker processes (default: the number
#                                            of CPUs; results do not depend on it)
#   -h, --help           this text
#
# The env file: KEY=VALUE lines with the keys above, '#' comments, blank
# lines; a value may be wrapped in '...' or "..." (nothing inside is
# expanded).  It is read as data, never sourced.  Relative paths in it are
# relative to the file's directory; relative paths in options and in the
# environment are relative to the working directory.  Precedence: option,
# env file, environment variable of the same name, default.
#
# Exit status: 0 ok; 2 usage; 3 bad input; 4 I/O; 5 busy (another run holds
# the lock); otherwise the failing stage's exit code (see chronopt-envelope(7)).
set -euo pipefail

prog=pipeline.sh
self=$(readlink -f -- "${BASH_SOURCE[0]}")
here=$(dirname -- "$self")

# Files keep the user's umask, but are never writable by others.
umask "$(printf '%04o' $(($(umask) | 0002)))"

# ------------------------------------------------------------------ helpers

die() { # die CODE MESSAGE
	printf '%s: %s\n' "$prog" "$2" >&2
	exit "$1"
}
warn() { printf '%s: %s\n' "$prog" "$1" >&2; }
usage() {
	sed -n '2,/^set -euo/p' "$self" | sed '$d' | sed 's/^# \{0,1\}//'
}

# Plain names (horizons): what cp_name_ok() accepts.
name_ok() { [[ $1 =~ ^[A-Za-z0-9_][A-Za-z0-9_-]{0,31}$ ]]; }

# Make a path absolute against directory $2 (no symlink resolution, the
# path need not exist).
abspath() {
	case "$1" in
	/*) printf '%s' "$1" ;;
	*) printf '%s/%s' "$2" "$1" ;;
	esac
}

# One line of text from data for a terminal, a log or a mail body: control
# characters become spaces, at most $2 characters.
flat() {
	local s=${1//[$'\001'-$'\037'$'\177']/ }
	printf '%s' "${s:0:${2:-300}}"
}

tmpfiles=()
lock_fd="" # the run lock's descriptor once taken
cleanup() {
	local f
	for f in "${tmpfiles[@]+"${tmpfiles[@]}"}"; do
		rm -rf -- "$f"
	done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------ configuration

keys=(SERIES SERIES_ID MODEL CONFIG CONFIG_DIR HISTORY RUN_DIR LOG_DIR REPORT MAIL_TO
	MAIL_COMMAND BIN SEED JOBS)
path_keys=" SERIES CONFIG CONFIG_DIR HISTORY RUN_DIR LOG_DIR REPORT BIN "
declare -A opt=() file=()

# Read the env file as data: KEY=VALUE, nothing evaluated.
read_env_file() {
	local f=$1 dir line n=0 key val
	if [ ! -f "$f" ] || [ ! -r "$f" ]; then
		die 4 "cannot read env file '$f'"
	fi
	dir=$(cd "$(dirname "$f")" && pwd -P)
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		line=${line%$'\r'}
		[[ $line =~ ^[[:space:]]*(#.*)?$ ]] && continue
		if [[ ! $line =~ ^[[:space:]]*(export[[:space:]]+)?([A-Z_][A-Z0-9_]*)=(.*)$ ]]; then
			die 3 "$f:$n: expected KEY=VALUE"
		fi
		key=${BASH_REMATCH[2]} val=${BASH_REMATCH[3]}
		key=${key#CHRONOPT_}
		case " ${keys[*]} " in
		*" $key "*) ;;
		*) die 3 "$f:$n: unknown key '${BASH_REMATCH[2]}'" ;;
		esac
		if [[ $val =~ ^\'(.*)\'[[:space:]]*$ ]] || [[ $val =~ ^\"(.*)\"[[:space:]]*$ ]]; then
			val=${BASH_REMATCH[1]}
		else
			val=${val%"${val##*[![:space:]]}"}
		fi
		if [ -n "$val" ] && [[ $path_keys == *" $key "* ]]; then
			# A baseline name is a model spec, not a path.
			val=$(abspath "$val" "$dir")
		fi
		if [ "$key" = MODEL ] && [ -n "$val" ] && { [[ $val == */* ]] || [ -e "$dir/$val" ]; }; then
			val=$(abspath "$val" "$dir")
		fi
		file[$key]=$val
	done <"$f"
}

# Final value of every key: option > env file > environment > default.
resolve_config() {
	local k envname v
	for k in "${keys[@]}"; do
		envname=CHRONOPT_$k
		if [ -n "${opt[$k]+x}" ]; then
			v=${opt[$k]}
		elif [ -n "${file[$k]+x}" ]; then
			v=${file[$k]}
		elif [ -n "${!envname:-}" ]; then
			v=${!envname}
		else
			v=""
		fi
		if [ -n "$v" ] && [[ $path_keys == *" $k "* ]]; then
			v=$(abspath "$v" "$PWD")
		fi
		printf -v "cfg_$k" '%s' "$v"
	done
	: "${cfg_SERIES:=$here/testdata/usdclp_daily.csv}"
	if [ -z "$cfg_MODEL" ]; then
		if [ -f "$here/models/chronos-demo/model.safetensors" ]; then
			cfg_MODEL=$here/models/chronos-demo
		else
			cfg_MODEL=random_walk
		fi
	elif [[ $cfg_MODEL == */* ]] || [ -d "$cfg_MODEL" ]; then
		cfg_MODEL=$(abspath "$cfg_MODEL" "$PWD")
	fi
	if [ -z "$cfg_CONFIG" ]; then
		if [ -f "$PWD/configs/chronopt.json" ]; then
			cfg_CONFIG=$PWD/configs/chronopt.json
		else
			cfg_CONFIG=$here/configs/chronopt.json
		fi
	fi
	: "${cfg_CONFIG_DIR:=$PWD/configs}"
	: "${cfg_HISTORY:=$PWD/history.jsonl}"
	: "${cfg_RUN_DIR:=$PWD/runs}"
	: "${cfg_LOG_DIR:=$PWD/logs}"
	: "${cfg_REPORT:=$PWD/report.html}"
	: "${cfg_MAIL_COMMAND:=mail -s {subject\} {to\}}"
	: "${cfg_BIN:=$here/build/bin}"
	: "${cfg_SEED:=42}"
	[[ $cfg_SEED =~ ^[0-9]{1,15}$ ]] || die 2 "seed '$(flat "$cfg_SEED" 40)' is not an integer in 0..999999999999999"
	: "${cfg_JOBS:=$(nproc 2>/dev/null || echo 1)}"
	if [[ ! $cfg_JOBS =~ ^[1-9][0-9]{0,2}$ ]]; then
		die 2 "jobs '$(flat "$cfg_JOBS" 40)' is not an integer in 1..999"
	fi
	local p
	for p in cfg_SERIES cfg_MODEL cfg_CONFIG cfg_CONFIG_DIR cfg_HISTORY cfg_RUN_DIR cfg_LOG_DIR cfg_REPORT cfg_BIN; do
		case "${!p}" in
		*$'\n'*) die 2 "${p#cfg_}: a path cannot contain a newline" ;;
		esac
	done
	local -a mc
	read -r -a mc <<<"$cfg_MAIL_COMMAND"
	[ ${#mc[@]} -gt 0 ] || die 2 "the mail command is empty"
	if [ -n "$cfg_MAIL_TO" ]; then
		local IFS=, a
		for a in $cfg_MAIL_TO; do
			[[ $a =~ ^[A-Za-z0-9._%+=][A-Za-z0-9._%+=-]*(@[A-Za-z0-9][A-Za-z0-9.-]*)?$ ]] ||
				die 2 "mail recipient '$(flat "$a" 80)' is not a plain address"
		done
	fi
}

mktemp_or_die() { # mktemp_or_die PATH-TEMPLATE: mktemp, or stop with exit 4
	mktemp "$1" 2>/dev/null || die 4 "cannot create a temporary file in '$(flat "$(dirname "$1")")'"
}

mkdirs() { # mkdirs DIR...: create them or stop with exit 4
	local d
	for d in "$@"; do
		[ -d "$d" ] || mkdir -p -- "$d" 2>/dev/null || die 4 "cannot create directory '$(flat "$d")'"
	done
}

log_line() { # log_line TEXT: one line in pipeline.log; 1 (and a warning) when it cannot be written
	mkdirs "$cfg_LOG_DIR"
	{ printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" >>"$cfg_LOG_DIR/pipeline.log"; } 2>/dev/null && return 0
	warn "cannot write '$cfg_LOG_DIR/pipeline.log'"
	return 1
}

# The source tree's configs/ holds the settings; deployed configs and their
# git repository belong in a workspace. Refused unless asked for by name.
not_source_configs() {
	[ -n "${opt[CONFIG_DIR]+x}${file[CONFIG_DIR]+x}${CHRONOPT_CONFIG_DIR:-}" ] && return 0
	[ "$(cd "$cfg_CONFIG_DIR" 2>/dev/null && pwd -P)" != "$(cd "$here/configs" && pwd -P)" ] && return 0
	die 2 "the deployed configs would go into the source tree's '$here/configs': run from a workspace directory (see pipeline.sh demo), or give --config-dir"
}

tool() { # path of a stage tool, checked
	local t=$cfg_BIN/$1
	[ -x "$t" ] || die 4 "tool '$t' not found: build with make, or set CHRONOPT_BIN or --bin"
	printf '%s' "$t"
}

# ---------------------------------------------------------------------- mail

# mail_send SUBJECT BODYFILE: run the mail command with argv, never a shell
# string.  The subject is built by the caller from fixed words and checked
# names only; it is filtered once more here.
mail_send() {
	local subject=$1 body=$2 w
	[ -n "$cfg_MAIL_TO" ] || return 0
	subject=$(flat "$subject" 150)
	subject=${subject//[^A-Za-z0-9 _.,:()+-]/}
	local -a words argv rcpt
	read -r -a words <<<"$cfg_MAIL_COMMAND"
	[ ${#words[@]} -gt 0 ] || die 2 "the mail command is empty"
	IFS=, read -r -a rcpt <<<"$cfg_MAIL_TO"
	local have_to=0
	for w in "${words[@]}"; do
		case "$w" in
		'{subject}') argv+=("$subject") ;;
		'{to}')
			argv+=("${rcpt[@]}")
			have_to=1
			;;
		*) argv+=("$w") ;;
		esac
	done
	[ $have_to = 1 ] || argv+=("${rcpt[@]}")
	# Its output goes to stderr: stdout is the run's report.  The lock is
	# not inherited, so a mailer that leaves a process behind cannot hold it.
	local rc=0
	if [ -n "$lock_fd" ]; then
		"${argv[@]}" <"$body" >&2 {lock_fd}>&- || rc=$?
	else
		"${argv[@]}" <"$body" >&2 || rc=$?
	fi
	if [ $rc -ne 0 ]; then
		warn "warning: the mail command '${words[0]}' failed; report not mailed"
		return 1
	fi
}

# --------------------------------------------------------------------- run

# Per-line view of an envelope file, US-separated, control characters
# flattened: horizon, triggered, trigger summary, search status and summary, approved,
# validation summary, deployment status, deployed, deployment summary.
jq_lines='def s: if . == null then "" else tostring | explode | map(if . < 32 or . == 127 then 32 else . end) | implode | .[0:400] end;
[ (.horizon.name | s),
  (.trigger.should_optimize | s),
  ((.trigger.summary // .trigger.reason) | s),
  (.search.status | s),
  ((.search.summary // .search.reason) | s),
  (.validation.approved | s),
  ((.validation.summary // .validation.reason) | s),
  (.deployment.status | s),
  ((.deployment.deployed // (.deployment.action == "deployed")) | s),
  ((.deployment.summary // .deployment.reason) | s)
] | join("\u001f")'

summarize() { # summarize ENVELOPE_FILE DRY -> prints per-horizon lines, sets events
	local f=$1 dry=$2 h trig tsum sstat ssum appr vsum dstat dep dsum
	n_triggered=0 n_deployed=0 n_failed=0 n_passed=0
	events=() body_lines=()
	# Fields are split on US (0x1f), which s() has flattened out of the data;
	# a whitespace IFS such as tab would merge empty fields.
	while IFS=$'\x1f' read -r h trig tsum sstat ssum appr vsum dstat dep dsum; do
		name_ok "$h" || h="?"
		if [ "$trig" != true ]; then
			printf '%s: nothing to do: %s\n' "$h" "${tsum:-no trigger fired}"
			body_lines+=("$h: not triggered: ${tsum:-no trigger fired}")
			continue
		fi
		n_triggered=$((n_triggered + 1))
		events+=("$h optimization triggered")
		body_lines+=("$h: optimization triggered: $tsum" "$h: search: ${ssum:-$sstat}")
		printf '%s: triggered: %s\n' "$h" "$tsum"
		printf '    search:     %s\n' "${ssum:-${sstat:-not run}}"
		if [ -z "$appr" ]; then
			printf '    validation: %s\n' "${vsum:-not run}"
			continue
		fi
		printf '    validation: %s\n' "$vsum"
		if [ "$appr" = true ]; then
			n_passed=$((n_passed + 1))
			events+=("$h validation passed")
			body_lines+=("$h: validation passed: $vsum")
		else
			n_failed=$((n_failed + 1))
			events+=("$h validation failed")
			body_lines+=("$h: validation failed: $vsum")
			continue
		fi
		printf '    deployment: %s\n' "${dsum:-${dstat:-not run}}"
		if [ "$dep" = true ] && [ "$dry" = 0 ]; then
			n_deployed=$((n_deployed + 1))
			events+=("$h deployed")
			body_lines+=("$h: deployed: $dsum")
		fi
	done < <(jq -r "$jq_lines" <"$f")
}

mail_report() { # mail_report RUN_ID RUNDIR
	[ -n "$cfg_MAIL_TO" ] || return 0
	[ ${#events[@]} -gt 0 ] || return 0
	local body subject hs="" e
	body=$(mktemp_or_die "${TMPDIR:-/tmp}/chronopt-mail.XXXXXX")
	tmpfiles+=("$body")
	for e in "${events[@]}"; do
		case "$e" in
		*" deployed" | *" validation failed") hs="$hs${hs:+, }$e" ;;
		esac
	done
	if [ -z "$hs" ]; then
		hs="${events[0]}"
		[ ${#events[@]} -gt 1 ] && hs="$hs, ..."
	fi
	subject="chronopt: $hs"
	{
		printf 'chronopt run %s\n' "$1"
		printf 'series %s, model %s\n\n' "$(flat "$cfg_SERIES")" "$(flat "$cfg_MODEL")"
		local l
		for l in "${body_lines[@]}"; do
			printf '%s\n' "$(flat "$l" 600)"
		done
		printf '\nenvelopes and logs: %s\n' "$(flat "$2")"
		printf 'history: %s\nconfigs: %s\n' "$(flat "$cfg_HISTORY")" "$(flat "$cfg_CONFIG_DIR")"
	} >"$body"
	mail_send "$subject" "$body" || true
}

# stage NAME IN OUT CMD...: run one stage, IN -> OUT, stderr kept in the run
# dir, the exact command appended to the run's `commands` file (replayable).
stage() {
	local name=$1 in=$2 out=$3 rc=0
	shift 3
	{
		printf '# %s\n' "$name"
		printf '%q ' "$@"
		printf '<%q >%q\n' "$(basename "$in")" "$(basename "$out")"
	} >>"$rundir/commands"
	"$@" <"$in" >"$out.partial" 2>"$rundir/$name.stderr" || rc=$?
	if [ $rc -ne 0 ]; then
		warn "stage $name failed (exit $rc):"
		tail -n 5 "$rundir/$name.stderr" | while IFS= read -r l; do
			printf '  %s\n' "$(flat "$l" 400)" >&2
		done
		return $rc
	fi
	mv -f "$out.partial" "$out"
}

cmd_run() {
	local horizon="" hset=0 all=0 dry=0 force=0
	while [ $# -gt 0 ]; do
		case "$1" in
		--horizon)
			[ $# -ge 2 ] || die 2 "option '--horizon' needs a value"
			horizon=$2 hset=1
			shift
			;;
		--all) all=1 ;;
		--dry-run) dry=1 ;;
		--force) force=1 ;;
		*) die 2 "run: unknown argument '$(flat "$1" 80)'" ;;
		esac
		shift
	done
	[ $hset = 1 ] && [ $all = 1 ] && die 2 "run: give --horizon H or --all, not both"
	if [ $hset = 1 ]; then
		name_ok "$horizon" || die 2 "horizon '$(flat "$horizon" 40)' is not a plain name ([A-Za-z0-9_-], 1-32 chars)"
	fi
	local t_trigger t_search t_validate t_deploy t_history
	t_trigger=$(tool opt-trigger)
	t_search=$(tool opt-search)
	t_validate=$(tool opt-validate)
	t_deploy=$(tool opt-deploy)
	t_history=$(tool opt-history)
	command -v jq >/dev/null || die 4 "jq not found: run scripts/install-deps"

	local run_id=${CHRONOPT_RUN_ID:-}
	if [ -z "$run_id" ]; then
		run_id=$(date -u +%Y%m%dT%H%M%SZ)-$$
	fi
	name_ok "$run_id" || die 2 "run id '$(flat "$run_id" 40)' is not a plain name"
	export CHRONOPT_RUN_ID=$run_id

	if [ $dry = 1 ]; then
		# Nothing in the workspace is touched: envelopes go to a new temp dir.
		rundir=$(mktemp -d "${TMPDIR:-/tmp}/chronopt-dry-run.XXXXXX" 2>/dev/null) ||
			die 4 "cannot create a temporary directory in '${TMPDIR:-/tmp}'"
	else
		not_source_configs
		mkdirs "$cfg_RUN_DIR" "$cfg_LOG_DIR" "$cfg_CONFIG_DIR" "$(dirname "$cfg_HISTORY")"
		{ exec {lock_fd}>>"$cfg_RUN_DIR/.lock"; } 2>/dev/null || die 4 "cannot open the lock file '$cfg_RUN_DIR/.lock'"
		flock -n "$lock_fd" || die 5 "another pipeline run holds '$cfg_RUN_DIR/.lock'"
		rundir=$cfg_RUN_DIR/$run_id
		mkdir -- "$rundir" 2>/dev/null || die 4 "cannot create run directory '$(flat "$rundir")'"
	fi
	: >"$rundir/input.ndjson"

	local -a common=(--config "$cfg_CONFIG" --config-dir "$cfg_CONFIG_DIR" --history "$cfg_HISTORY")
	local -a trig=("$t_trigger" --series "$cfg_SERIES" --model "$cfg_MODEL" --seed "$cfg_SEED" "${common[@]}")
	[ -n "$cfg_SERIES_ID" ] && trig+=(--id "$cfg_SERIES_ID")
	if [ $hset = 1 ]; then trig+=(--horizon "$horizon"); else trig+=(--all); fi
	[ $force = 1 ] && trig+=(--force)
	local -a dep=("$t_deploy" deploy "${common[@]}")
	[ $dry = 1 ] && dep+=(--dry-run)

	local rc=0 last
	printf '%s: run %s%s (%s, model %s)\n' "$prog" "$run_id" "$([ $dry = 1 ] && printf ' (dry run)')" \
		"$(flat "$(basename "$cfg_SERIES")" 80)" "$(flat "$cfg_MODEL" 120)" >&2
	{
		stage 00-trigger "$rundir/input.ndjson" "$rundir/00-trigger.ndjson" "${trig[@]}" &&
			stage 10-search "$rundir/00-trigger.ndjson" "$rundir/10-search.ndjson" "$t_search" "${common[@]}" \
				--jobs "$cfg_JOBS" &&
			stage 20-validate "$rundir/10-search.ndjson" "$rundir/20-validate.ndjson" "$t_validate" "${common[@]}" &&
			stage 30-deploy "$rundir/20-validate.ndjson" "$rundir/30-deploy.ndjson" "${dep[@]}"
	} || rc=$?
	last=$rundir/30-deploy.ndjson
	if [ $rc -eq 0 ] && [ $dry = 0 ]; then
		stage 40-history "$rundir/30-deploy.ndjson" "$rundir/40-history.ndjson" "$t_history" record \
			--history "$cfg_HISTORY" || rc=$?
		last=$rundir/40-history.ndjson
	fi

	if [ $rc -ne 0 ]; then
		events=("$(printf 'run failed (exit %d)' "$rc")")
		body_lines=("the run stopped at a stage that failed (exit $rc); see the *.stderr files")
		[ $dry = 0 ] && mail_report "$run_id" "$rundir"
		[ $dry = 0 ] && { log_line "run $run_id exit $rc: a stage failed" || true; }
		warn "run $run_id failed; envelopes and stderr in $rundir"
		return $rc
	fi

	summarize "$last" "$dry"
	local what
	if [ "$n_triggered" -eq 0 ]; then
		what="nothing to do: no horizon triggered"
	else
		what="$n_triggered triggered, $n_passed approved, $n_failed not approved, $n_deployed deployed"
	fi
	if [ $dry = 1 ]; then
		printf '%s (dry run: nothing deployed or recorded, no mail sent)\n' "$what"
		printf 'envelopes of this dry run: %s\n' "$rundir"
		return 0
	fi
	printf '%s\n' "$what"
	printf 'envelopes: %s\n' "$rundir"
	# Keep the dashboard current after every recorded run.
	if [ -x "$cfg_BIN/opt-report" ]; then
		mkdirs "$(dirname "$cfg_REPORT")"
		"$cfg_BIN/opt-report" --history "$cfg_HISTORY" --config-dir "$cfg_CONFIG_DIR" --html "$cfg_REPORT" ||
			warn "warning: the report '$cfg_REPORT' could not be written"
	fi
	local logged=0
	log_line "run $run_id exit 0: $what" || logged=4
	mail_report "$run_id" "$rundir"
	return $logged
}

# ------------------------------------------------------------ other commands

cmd_status() {
	[ $# -eq 0 ] || die 2 "status: unexpected argument '$(flat "$1" 80)'"
	local rc=0
	printf 'Deployed configs (%s):\n' "$(flat "$cfg_CONFIG_DIR")"
	"$(tool opt-deploy)" status --config-dir "$cfg_CONFIG_DIR" --config "$cfg_CONFIG" || rc=$?
	printf '\nLast optimization per horizon (%s):\n' "$(flat "$cfg_HISTORY")"
	"$(tool opt-history)" last --history "$cfg_HISTORY" || rc=$?
	if [ -f "$cfg_LOG_DIR/pipeline.log" ]; then
		printf '\nLast run: %s\n' "$(flat "$(tail -n 1 "$cfg_LOG_DIR/pipeline.log")" 400)"
	fi
	return $rc
}

cmd_history() {
	local -a args=(show --history "$cfg_HISTORY")
	while [ $# -gt 0 ]; do
		case "$1" in
		--horizon)
			[ $# -ge 2 ] || die 2 "option '--horizon' needs a value"
			name_ok "$2" || die 2 "horizon '$(flat "$2" 40)' is not a plain name ([A-Za-z0-9_-], 1-32 chars)"
			args+=(--horizon "$2")
			shift
			;;
		--limit)
			[ $# -ge 2 ] || die 2 "option '--limit' needs a value"
			[[ $2 =~ ^[0-9]{1,9}$ ]] || die 2 "limit '$(flat "$2" 40)' is not a number"
			args+=(--limit "$2")
			shift
			;;
		*) die 2 "history: unknown argument '$(flat "$1" 80)'" ;;
		esac
		shift
	done
	"$(tool opt-history)" "${args[@]}"
}

cmd_rollback() {
	local horizon="" hset=0 to="" toset=0
	while [ $# -gt 0 ]; do
		case "$1" in
		--to)
			[ $# -ge 2 ] || die 2 "option '--to' needs a value"
			to=$2 toset=1
			shift
			;;
		--*) die 2 "rollback: unknown option '$(flat "$1" 80)'" ;;
		*)
			[ $hset = 0 ] || die 2 "rollback: one horizon only"
			horizon=$1 hset=1
			;;
		esac
		shift
	done
	[ $hset = 1 ] || die 2 "rollback: which horizon? (pipeline.sh rollback H [--to V])"
	name_ok "$horizon" || die 2 "horizon '$(flat "$horizon" 40)' is not a plain name ([A-Za-z0-9_-], 1-32 chars)"
	local run_id=${CHRONOPT_RUN_ID:-rollback-$(date -u +%Y%m%dT%H%M%SZ)-$$}
	name_ok "$run_id" || die 2 "run id '$(flat "$run_id" 40)' is not a plain name"
	not_source_configs
	local -a args=(rollback "$horizon" --config-dir "$cfg_CONFIG_DIR" --config "$cfg_CONFIG" --history "$cfg_HISTORY")
	if [ $toset = 1 ]; then
		[[ $to =~ ^[A-Za-z0-9_.:@^~][A-Za-z0-9_.:@^~/-]{0,199}$ ]] ||
			die 2 "version '$(flat "$to" 60)' is not a backup name or git revision"
		args+=(--to "$to")
	fi
	local t_deploy t_history steps
	t_deploy=$(tool opt-deploy)
	t_history=$(tool opt-history)
	command -v jq >/dev/null || die 4 "jq not found: run scripts/install-deps"
	steps=$(jq -r --arg h "$horizon" '(.horizons // {"7d": 7, "15d": 15, "30d": 30, "90d": 90})[$h] // empty' "$cfg_CONFIG") ||
		die 3 "cannot read the horizons of '$cfg_CONFIG'"
	[[ $steps =~ ^[0-9]{1,5}$ ]] || die 2 "unknown horizon '$horizon' (not in '$cfg_CONFIG')"
	local out rc=0 summary
	out=$(mktemp_or_die "${TMPDIR:-/tmp}/chronopt-rollback.XXXXXX")
	tmpfiles+=("$out")
	"$t_deploy" "${args[@]}" --json >"$out" || rc=$?
	if [ ! -s "$out" ]; then
		return $rc
	fi
	summary=$(jq -r '.summary // "rolled back"' "$out")
	printf '%s\n' "$(flat "$summary" 600)"
	if [ "$(jq -r '.changed' "$out")" != true ]; then
		return $rc
	fi
	# Record the rollback in the history (outcome rolled_back), as an
	# envelope whose deployment section is what opt-deploy reported.
	jq -c --arg run "$run_id" --arg h "$horizon" --argjson steps "$steps" --argjson seed "$cfg_SEED" \
		'{schema: "chronopt/1", run_id: $run, seed: $seed, horizon: {name: $h, steps: $steps},
		  deployment: (. + {status: "done", action: "rollback", seconds: 0})}' "$out" >"$out.env"
	tmpfiles+=("$out.env")
	"$t_history" record --history "$cfg_HISTORY" <"$out.env" >/dev/null || {
		rc=$?
		warn "the rollback is done but could not be recorded in '$cfg_HISTORY'"
	}
	log_line "rollback $horizon: $(flat "$summary" 300)" || rc=4
	if [ -n "$cfg_MAIL_TO" ]; then
		local body
		body=$(mktemp_or_die "${TMPDIR:-/tmp}/chronopt-mail.XXXXXX")
		tmpfiles+=("$body")
		{
			printf '%s: rolled back%s\n' "$horizon" "${to:+ to the requested version}"
			printf '%s: %s\n\n' "$horizon" "$(flat "$summary" 600)"
			printf 'configs: %s\nhistory: %s\n' "$(flat "$cfg_CONFIG_DIR")" "$(flat "$cfg_HISTORY")"
		} >"$body"
		mail_send "chronopt: $horizon rolled back" "$body" || true
	fi
	return $rc
}

cmd_report() {
	[ $# -eq 0 ] || die 2 "report: unexpected argument '$(flat "$1" 80)'"
	mkdirs "$(dirname "$cfg_REPORT")"
	"$(tool opt-report)" --history "$cfg_HISTORY" --config-dir "$cfg_CONFIG_DIR" --html "$cfg_REPORT"
	printf 'report: %s\n' "$cfg_REPORT"
}

cmd_demo() {
	# A model given by option or env file is the demo's; otherwise the
	# bundled one (or CHRONOPT_MODEL, which the run inherits).
	local ws=$PWD/demo-workspace model=${opt[MODEL]:-${file[MODEL]:-}}
	while [ $# -gt 0 ]; do
		case "$1" in
		--workspace)
			[ $# -ge 2 ] || die 2 "option '--workspace' needs a value"
			ws=$(abspath "$2" "$PWD")
			shift
			;;
		*) die 2 "demo: unknown argument '$(flat "$1" 80)'" ;;
		esac
		shift
	done
	case "$ws" in *$'\n'*) die 2 "the workspace path cannot contain a newline" ;; esac
	# --model DIR: a user's Chronos checkpoint (amazon/chronos-t5-*) replaces
	# the bundled model; a baseline name is accepted too.
	if [ -n "$model" ] && [ -d "$cfg_MODEL" ]; then
		if [ ! -f "$cfg_MODEL/config.json" ] || [ ! -f "$cfg_MODEL/model.safetensors" ]; then
			die 2 "model '$(flat "$model" 120)' is not a Chronos checkpoint directory (config.json, model.safetensors)"
		fi
	fi
	# The demo searches 10 windows 3 apart instead of 30 (configs/demo.json)
	# so it finishes in minutes on a small machine; --config picks another.
	if [ -z "${opt[CONFIG]+x}${file[CONFIG]+x}${CHRONOPT_CONFIG:-}" ]; then
		cfg_CONFIG=$here/configs/demo.json
	fi
	mkdirs "$ws"
	# The workspace holds only what the run writes, and its env file; the
	# series, the settings and the model are used where they are.
	if [ ! -f "$ws/chronopt.env" ]; then
		local tmp
		tmp=$(mktemp_or_die "$ws/.chronopt.env.XXXXXX")
		tmpfiles+=("$tmp")
		{
			printf '# chronopt demo workspace, made by pipeline.sh demo\n'
			printf 'CHRONOPT_SERIES=%s\n' "$cfg_SERIES"
			if [ -n "$model" ]; then
				printf 'CHRONOPT_MODEL=%s\n' "$cfg_MODEL"
			else
				printf '# CHRONOPT_MODEL: the bundled models/chronos-demo when present, else random_walk\n'
			fi
			printf 'CHRONOPT_CONFIG=%s\n' "$cfg_CONFIG"
			printf 'CHRONOPT_CONFIG_DIR=configs\nCHRONOPT_HISTORY=history.jsonl\nCHRONOPT_RUN_DIR=runs\n'
			printf 'CHRONOPT_LOG_DIR=logs\nCHRONOPT_REPORT=report.html\nCHRONOPT_SEED=%s\n' "$cfg_SEED"
			[ -n "$cfg_MAIL_TO" ] && printf 'CHRONOPT_MAIL_TO=%s\n' "$cfg_MAIL_TO"
		} >"$tmp"
		chmod "$(printf '%o' $((0666 & ~$(umask))))" "$tmp"
		mv -f -- "$tmp" "$ws/chronopt.env"
	elif [ -n "$model" ]; then
		warn "warning: '$ws/chronopt.env' exists; the model given is used for this run only"
	fi
	# The run in the workspace reads its env file; settings given to the demo
	# on the command line or in another env file are passed on as options.
	local -a again=(--env "$ws/chronopt.env" --bin "$cfg_BIN")
	[ -n "$model" ] && again+=(--model "$cfg_MODEL")
	local k
	for k in SERIES SERIES_ID CONFIG MAIL_TO MAIL_COMMAND SEED JOBS; do
		[ -n "${opt[$k]+x}${file[$k]+x}" ] || continue
		case $k in
		SERIES) again+=(--series "$cfg_SERIES") ;;
		SERIES_ID) again+=(--series-id "$cfg_SERIES_ID") ;;
		CONFIG) again+=(--config "$cfg_CONFIG") ;;
		MAIL_TO) again+=(--mail-to "$cfg_MAIL_TO") ;;
		MAIL_COMMAND) again+=(--mail-command "$cfg_MAIL_COMMAND") ;;
		SEED) again+=(--seed "$cfg_SEED") ;;
		JOBS) again+=(--jobs "$cfg_JOBS") ;;
		esac
	done
	printf '%s: demo workspace %s\n' "$prog" "$ws" >&2
	(cd "$ws" && "$self" "${again[@]}" run --all)
	(cd "$ws" && "$self" "${again[@]}" report >/dev/null)
	cat <<EOF

Demo done. In $ws:
  configs:  $ws/configs        (deployed configs, a git repository; backups in configs/backups)
  history:  $ws/history.jsonl
  report:   $ws/report.html
  runs:     $ws/runs/<run id>/  (the envelope after each stage, stderr of each stage, commands)
Next:
  $self --env $ws/chronopt.env status
  $self --env $ws/chronopt.env history
  $self --env $ws/chronopt.env run --all     # again: the cooldown keeps it quiet
EOF
}

# ------------------------------------------------------------------ replay
# pipeline.sh replay: what chronopt would have done (pipeline.sh(1),
# opt-replay(1)).  This function only drives: every simulated week it cuts
# the series to what was known that day (opt-replay cut), pins the clock
# (CHRONOPT_NOW) and runs this script's own `run --all` in the replay
# workspace; opt-replay score then scores the workspace.  The workspace:
#   replay.json            what was replayed (series, model, settings, seed, days)
#   incumbent/<h>.json     the first incumbent, deployed before the first week
#   weeks.tsv              date, run id, exit code, seconds of every week
#   weeks/<date>/series.csv, configs/<h>.json, run.out, run.err
#                          the series as known, the configs live after the run
#   configs/ history.jsonl runs/ logs/   the pipeline's own workspace files
#   replay.env             the weekly runs' env file: no mail
#   replay-kpi.json, replay.txt, replay.html   the KPI report

cmd_replay() {
	local from="" to="" day=sun ws=$PWD/replay-workspace incumbent="" change="" next=4 score=1 only=0
	while [ $# -gt 0 ]; do
		case "$1" in
		--from | --to | --day | --workspace | --incumbent | --change-date | --next)
			[ $# -ge 2 ] || die 2 "option '$1' needs a value"
			case "$1" in
			--from) from=$2 ;;
			--to) to=$2 ;;
			--day) day=$2 ;;
			--workspace) ws=$(abspath "$2" "$PWD") ;;
			--incumbent) incumbent=$(abspath "$2" "$PWD") ;;
			--change-date) change=$2 ;;
			--next) next=$2 ;;
			esac
			shift
			;;
		--no-score) score=0 ;;
		--score-only) only=1 ;;
		*) die 2 "replay: unknown argument '$(flat "$1" 80)'" ;;
		esac
		shift
	done
	local d
	for d in "$from" "$to" "$change"; do
		[ -z "$d" ] || [[ $d =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || die 2 "replay: '$(flat "$d" 40)' is not a date (YYYY-MM-DD)"
	done
	[[ $next =~ ^[1-9][0-9]{0,2}$ ]] || die 2 "replay: --next '$(flat "$next" 40)' is not an integer in 1..999"
	case "$ws" in *$'\n'*) die 2 "the workspace path cannot contain a newline" ;; esac
	[ $score = 0 ] && [ $only = 1 ] && die 2 "replay: give --no-score or --score-only, not both"
	local t_replay t_deploy
	t_replay=$(tool opt-replay)
	t_deploy=$(tool opt-deploy)
	command -v jq >/dev/null || die 4 "jq not found: run scripts/install-deps"
	if [ $only = 1 ]; then
		[ -f "$ws/replay.json" ] || die 3 "'$(flat "$ws")' is not a replay workspace (no replay.json)"
		replay_score "$t_replay" "$ws" "$next"
		return
	fi
	[ -n "$from" ] || die 2 "replay: --from DATE is required"
	if [ -e "$ws" ] && [ -n "$(ls -A -- "$ws" 2>/dev/null)" ]; then
		die 2 "replay: the workspace '$(flat "$ws")' is not empty: give a new --workspace"
	fi
	if [ -n "$incumbent" ] && [ ! -d "$incumbent" ]; then
		die 2 "replay: --incumbent '$(flat "$incumbent")' is not a directory of <horizon>.json configs"
	fi
	local -a sid=()
	[ -n "$cfg_SERIES_ID" ] && sid=(--id "$cfg_SERIES_ID")
	local -a weeks
	local out
	if [ -n "$to" ]; then
		out=$("$t_replay" weeks --from "$from" --to "$to" --day "$day") || exit $?
	else
		out=$("$t_replay" weeks --from "$from" --series "$cfg_SERIES" "${sid[@]}" --day "$day") || exit $?
	fi
	mapfile -t weeks <<<"$out"
	[ -n "${weeks[0]:-}" ] || die 3 "replay: no $(flat "$day" 10) between $from and the end of the replay"
	mkdirs "$ws/weeks" "$ws/incumbent" "$ws/configs"

	jq -n --arg series "$cfg_SERIES" --arg id "$cfg_SERIES_ID" --arg model "$cfg_MODEL" \
		--arg config "$cfg_CONFIG" --argjson seed "$cfg_SEED" --arg from "$from" --arg to "${to:-}" \
		--arg day "$day" --arg inc "$incumbent" --arg change "$change" --argjson jobs "$cfg_JOBS" \
		--argjson n "${#weeks[@]}" --arg first "${weeks[0]}" --arg last "${weeks[${#weeks[@]}-1]}" \
		'{schema: "chronopt-replay-workspace/1", series: $series, series_id: $id, model: $model,
		  config: $config, seed: $seed, from: $from, to: (if $to == "" then null else $to end),
		  day: $day, incumbent: (if $inc == "" then null else $inc end),
		  change_date: (if $change == "" then null else $change end), jobs: $jobs,
		  weeks: $n, first_week: $first, last_week: $last}' >"$ws/replay.json" ||
		die 4 "cannot write '$ws/replay.json'"
	: >"$ws/weeks.tsv"
	printf '# written by pipeline.sh replay: the weekly runs send no mail\nCHRONOPT_MAIL_TO=\n' >"$ws/replay.env" ||
		die 4 "cannot write '$ws/replay.env'"

	# The first incumbent: deployed (not recorded as an optimization) on
	# the series as known on the first simulated day.
	local first=${weeks[0]}
	mkdirs "$ws/weeks/$first"
	"$t_replay" cut --series "$cfg_SERIES" "${sid[@]}" --until "$first" >"$ws/weeks/$first/series.csv" || exit $?
	local -a incarg=()
	[ -n "$incumbent" ] && incarg=(--from-dir "$incumbent")
	CHRONOPT_NOW=$first CHRONOPT_RUN_ID=replay-incumbent "$t_replay" incumbent --series "$ws/weeks/$first/series.csv" \
		"${sid[@]}" --config "$cfg_CONFIG" --model "$cfg_MODEL" --seed "$cfg_SEED" --all "${incarg[@]}" \
		>"$ws/incumbent.ndjson" || exit $?
	CHRONOPT_NOW=$first "$t_deploy" deploy --config-dir "$ws/configs" --config "$cfg_CONFIG" \
		<"$ws/incumbent.ndjson" >"$ws/incumbent-deploy.ndjson" || exit $?
	cp -p -- "$ws"/configs/*.json "$ws/incumbent/" || die 4 "cannot copy the incumbent configs"

	local -a pass=(--series "" --model "$cfg_MODEL" --config "$cfg_CONFIG" --config-dir "$ws/configs"
		--history "$ws/history.jsonl" --run-dir "$ws/runs" --log-dir "$ws/logs" --report "$ws/report.html"
		--bin "$cfg_BIN" --seed "$cfg_SEED" --jobs "$cfg_JOBS")
	[ -n "$cfg_SERIES_ID" ] && pass+=(--series-id "$cfg_SERIES_ID")
	printf '%s: replay of %s from %s: %d weeks (%s), model %s, workspace %s\n' "$prog" \
		"$(flat "$(basename "$cfg_SERIES")" 80)" "$from" "${#weeks[@]}" "$day" "$(flat "$cfg_MODEL" 120)" \
		"$(flat "$ws")" >&2
	local w k=0 rc t0 t1
	for w in "${weeks[@]}"; do
		k=$((k + 1))
		mkdirs "$ws/weeks/$w/configs"
		[ -f "$ws/weeks/$w/series.csv" ] ||
			"$t_replay" cut --series "$cfg_SERIES" "${sid[@]}" --until "$w" >"$ws/weeks/$w/series.csv" || exit $?
		pass[1]=$ws/weeks/$w/series.csv
		t0=$EPOCHREALTIME
		rc=0
		CHRONOPT_NOW=$w CHRONOPT_RUN_ID=replay-$w "$self" --env "$ws/replay.env" "${pass[@]}" run --all \
			>"$ws/weeks/$w/run.out" 2>"$ws/weeks/$w/run.err" </dev/null || rc=$?
		t1=$EPOCHREALTIME
		case $rc in 130 | 143) die $rc "replay interrupted in the week of $w" ;; esac
		cp -p -- "$ws"/configs/*.json "$ws/weeks/$w/configs/" 2>/dev/null ||
			die 4 "cannot copy the configs live after the week of $w"
		printf '%s\treplay-%s\t%d\t%s\n' "$w" "$w" "$rc" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" >>"$ws/weeks.tsv" ||
			die 4 "cannot write '$ws/weeks.tsv'"
		printf '%s: week %d/%d %s: exit %d, %s\n' "$prog" "$k" "${#weeks[@]}" "$w" "$rc" \
			"$(flat "$(grep -E '^[0-9]+ triggered|^nothing to do' "$ws/weeks/$w/run.out" | tail -n 1)" 200)" >&2
	done
	[ $score = 1 ] || return 0
	replay_score "$t_replay" "$ws" "$next"
}

replay_score() { # replay_score OPT_REPLAY WORKSPACE NEXT: the KPI report, its text on stdout
	local t=$1 ws=$2 next=$3 rc=0
	"$t" score --workspace "$ws" --next "$next" --html "$ws/replay.html" --text "$ws/replay.txt" \
		>"$ws/replay-kpi.json.partial" || rc=$?
	if [ $rc -ne 0 ]; then
		rm -f -- "$ws/replay-kpi.json.partial"
		return $rc
	fi
	mv -f -- "$ws/replay-kpi.json.partial" "$ws/replay-kpi.json"
	cat -- "$ws/replay.txt"
	printf '\nKPI report: %s (JSON), %s (page)\n' "$ws/replay-kpi.json" "$ws/replay.html"
}

# --------------------------------------------------------------------- main

main() {
	local cmd="" env_file="" rest=()
	while [ $# -gt 0 ]; do
		case "$1" in
		-h | --help)
			usage
			exit 0
			;;
		--env | --series | --series-id | --model | --config | --config-dir | --history | --run-dir | \
			--log-dir | --report | --mail-to | --mail-command | --bin | --seed | --jobs)
			[ $# -ge 2 ] || die 2 "option '$1' needs a value"
			case "$1" in
			--env) env_file=$2 ;;
			--series) opt[SERIES]=$2 ;;
			--series-id) opt[SERIES_ID]=$2 ;;
			--model) opt[MODEL]=$2 ;;
			--config) opt[CONFIG]=$2 ;;
			--config-dir) opt[CONFIG_DIR]=$2 ;;
			--history) opt[HISTORY]=$2 ;;
			--run-dir) opt[RUN_DIR]=$2 ;;
			--log-dir) opt[LOG_DIR]=$2 ;;
			--report) opt[REPORT]=$2 ;;
			--mail-to) opt[MAIL_TO]=$2 ;;
			--mail-command) opt[MAIL_COMMAND]=$2 ;;
			--bin) opt[BIN]=$2 ;;
			--seed) opt[SEED]=$2 ;;
			--jobs) opt[JOBS]=$2 ;;
			esac
			shift
			;;
		*)
			if [ -z "$cmd" ]; then
				cmd=$1
			else
				rest+=("$1")
			fi
			;;
		esac
		shift
	done
	[ -n "$cmd" ] || die 2 "missing command: run, status, history, rollback, report, demo or replay (try --help)"
	if [ -z "$env_file" ]; then
		if [ -n "${CHRONOPT_ENV:-}" ]; then
			env_file=$CHRONOPT_ENV
		elif [ -f ./chronopt.env ]; then
			env_file=./chronopt.env
		fi
	fi
	[ -n "$env_file" ] && read_env_file "$env_file"
	resolve_config
	case "$cmd" in
	run) cmd_run "${rest[@]+"${rest[@]}"}" ;;
	status) cmd_status "${rest[@]+"${rest[@]}"}" ;;
	history) cmd_history "${rest[@]+"${rest[@]}"}" ;;
	rollback) cmd_rollback "${rest[@]+"${rest[@]}"}" ;;
	report) cmd_report "${rest[@]+"${rest[@]}"}" ;;
	demo) cmd_demo "${rest[@]+"${rest[@]}"}" ;;
	replay) cmd_replay "${rest[@]+"${rest[@]}"}" ;;
	*) die 2 "unknown command '$(flat "$cmd" 40)' (try --help)" ;;
	esac
}

main "$@"
