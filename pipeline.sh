#!/bin/bash
# pipeline.sh — run the chronopt stages end to end; what cron runs.
#
# Usage: pipeline.sh [OPTIONS] COMMAND [ARGS]
#   run [--horizon H | --all] [--dry-run] [--force]
#                        trigger | search | validate | deploy | record, one run
#   status [--json]      series, model, deployed config per horizon, last
#                        optimizations, last run: text, or one JSON object
#   history [--horizon H] [--limit N]
#                        the recorded runs
#   rollback H [--to V]  restore the previous config of horizon H (or version V)
#   report               write the HTML dashboard
#   demo [--workspace DIR] [--model DIR]
#                        scratch workspace, run --all on the bundled data and the
#                        bundled demo model (unless --model), report
#   check                the settings as resolved, and whether a run could start
#   watch [--horizon H | --all] [--dry-run]
#                        baking-period check of each deployed config against its
#                        forecast log; rolls back (and records it) when a rule fires
#   replay --from DATE [--to DATE] [--day D] [--workspace DIR] [--incumbent DIR]
#          [--change-date DATE] [--next N] [--no-score | --score-only]
#                        what chronopt would have done: run --all every simulated
#                        week on the series as known that day, then score it
#   ids                  the series ids a run would take (--ids), one a line
#   summary RUN_ID       many series: the report and the one mail of run RUN_ID
#                        after its series were run elsewhere (GNU parallel)
#   cache stats [--json] | cache prune [--max-mb N] [--verify]
#                        the forecast cache (opt-cache(1))
#
# Options (anywhere on the line; each overrides the env file's KEY):
#   --env FILE           env file (default $CHRONOPT_ENV, else ./chronopt.env if present)
#   --series FILE        CHRONOPT_SERIES     series CSV (default: bundled testdata/usdclp_daily.csv)
#   --series-id ID       CHRONOPT_SERIES_ID  id in a long-format CSV (default: the tools' default)
#   --ids all|ID,ID      CHRONOPT_IDS        many series in one workspace: every id of the
#                                            long-format CSV, or these; each has its own
#                                            configs, history, runs and logs (paths with
#                                            {id}, default series/{id}/...), run in parallel
#                                            (--jobs); one report and one mail for all
#   --model SPEC         CHRONOPT_MODEL      Chronos checkpoint dir or baseline name; run
#                                            refuses to start without one (exit 2); demo
#                                            defaults to the bundled models/chronos-demo
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
#   --bin DIR            CHRONOPT_BIN        tool directory (default: build/bin next to this
#                                            script; installed, the script's own directory)
#   --seed N             CHRONOPT_SEED       seed of every random stream (default 42)
#   --jobs N             CHRONOPT_JOBS       opt-search worker processes (default: the number
#                                            of CPUs; results do not depend on it)
#   --cache DIR          CHRONOPT_CACHE      forecast cache shared by the runs (default ./cache;
#                                            replay: the replay workspace's cache, unless given);
#                                            "off" for none; results do not depend on it
#   --no-cache           CHRONOPT_CACHE=off
#   --cache-max-mb N     CHRONOPT_CACHE_MAX_MB
#                                            cache cap, least recently used evicted (default 1024)
#   --log FILE           CHRONOPT_LOG_FILE   also log every event to FILE, one tagged line each
#   --syslog             CHRONOPT_SYSLOG=1   also log every event to syslog (logger, tag chronopt)
#   --forecast-log TPL   CHRONOPT_FORECAST_LOG
#                                            the production forecast log watch reads, one CSV per
#                                            horizon; {horizon} in TPL is replaced by its name
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
# the lock); 7 partly failed (some horizons failed, the others went through
# every stage; with --ids: some series failed, the others ran); otherwise
# the failing stage's exit code (chronopt-envelope(7)).
set -euo pipefail

prog=pipeline.sh
self=$(readlink -f -- "${BASH_SOURCE[0]}")
here=$(dirname -- "$self")
# Installed (make install): PREFIX/bin/pipeline.sh, the tools beside it, the
# bundled settings, model and series in PREFIX/share/chronopt.  In the
# source tree: all of it here, the tools in build/bin.
if [ ! -f "$here/Makefile" ] && [ -f "$here/../share/chronopt/configs/chronopt.json" ]; then
	data=$(cd "$here/../share/chronopt" && pwd -P)
	default_bin=$here
else
	data=$here
	default_bin=$here/build/bin
fi

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

keys=(SERIES SERIES_ID IDS MODEL CONFIG CONFIG_DIR HISTORY RUN_DIR LOG_DIR REPORT MAIL_TO
	MAIL_COMMAND BIN SEED JOBS LOG_FILE SYSLOG FORECAST_LOG CACHE CACHE_MAX_MB)
path_keys=" SERIES CONFIG CONFIG_DIR HISTORY RUN_DIR LOG_DIR REPORT BIN LOG_FILE FORECAST_LOG CACHE "
declare -A opt=() file=()
env_dir="" # the env file's directory, once read

# Read the env file as data: KEY=VALUE, nothing evaluated.
read_env_file() {
	local f=$1 dir line n=0 key val
	if [ ! -f "$f" ] || [ ! -r "$f" ]; then
		die 4 "cannot read env file '$f'"
	fi
	dir=$(cd "$(dirname "$f")" && pwd -P)
	env_dir=$dir
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
		if [ -n "$val" ] && [[ $path_keys == *" $key "* ]] && [ "$key:$val" != CACHE:off ]; then
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
		if [ -n "$v" ] && [[ $path_keys == *" $k "* ]] && [ "$k:$v" != CACHE:off ]; then
			v=$(abspath "$v" "$PWD")
		fi
		printf -v "cfg_$k" '%s' "$v"
	done
	cache_given=0
	[ -n "$cfg_CACHE" ] && cache_given=1
	: "${cfg_CACHE:=$PWD/cache}"
	if [ -n "$cfg_CACHE_MAX_MB" ] && [[ ! $cfg_CACHE_MAX_MB =~ ^[1-9][0-9]{0,6}$ ]]; then
		die 2 "cache cap '$(flat "$cfg_CACHE_MAX_MB" 40)' is not an integer in 1..1048576 (MiB)"
	fi
	: "${cfg_SERIES:=$data/testdata/usdclp_daily.csv}"
	# No default model: run refuses without one (ops_require_model); the
	# demo names the bundled one itself.
	if [ -n "$cfg_MODEL" ] && { [[ $cfg_MODEL == */* ]] || [ -d "$cfg_MODEL" ]; }; then
		cfg_MODEL=$(abspath "$cfg_MODEL" "$PWD")
	fi
	if [ -z "$cfg_CONFIG" ]; then
		if [ -f "$PWD/configs/chronopt.json" ]; then
			cfg_CONFIG=$PWD/configs/chronopt.json
		else
			cfg_CONFIG=$data/configs/chronopt.json
		fi
	fi
	: "${cfg_CONFIG_DIR:=$PWD/configs}"
	: "${cfg_HISTORY:=$PWD/history.jsonl}"
	: "${cfg_RUN_DIR:=$PWD/runs}"
	: "${cfg_LOG_DIR:=$PWD/logs}"
	: "${cfg_REPORT:=$PWD/report.html}"
	: "${cfg_MAIL_COMMAND:=mail -s {subject\} {to\}}"
	: "${cfg_BIN:=$default_bin}"
	: "${cfg_SEED:=42}"
	[[ $cfg_SEED =~ ^[0-9]{1,15}$ ]] || die 2 "seed '$(flat "$cfg_SEED" 40)' is not an integer in 0..999999999999999"
	: "${cfg_JOBS:=$(nproc 2>/dev/null || echo 1)}"
	if [[ ! $cfg_JOBS =~ ^[1-9][0-9]{0,2}$ ]]; then
		die 2 "jobs '$(flat "$cfg_JOBS" 40)' is not an integer in 1..999"
	fi
	local p
	for p in cfg_SERIES cfg_MODEL cfg_CONFIG cfg_CONFIG_DIR cfg_HISTORY cfg_RUN_DIR cfg_LOG_DIR cfg_REPORT cfg_BIN \
		cfg_LOG_FILE cfg_FORECAST_LOG cfg_CACHE; do
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
	[ "$(cd "$cfg_CONFIG_DIR" 2>/dev/null && pwd -P)" != "$(cd "$data/configs" && pwd -P)" ] && return 0
	die 2 "the deployed configs would go into the source tree's '$data/configs': run from a workspace directory (see pipeline.sh demo), or give --config-dir"
}

tool() { # path of a stage tool, checked
	local t=$cfg_BIN/$1
	[ -x "$t" ] || die 4 "tool '$t' not found: build with make, or set CHRONOPT_BIN or --bin"
	printf '%s' "$t"
}

# ----------------------------------------------- what the output is about

# names_of [ENVELOPE_FILE]: the series id, its last date and the model that
# mails and status name: from the first envelope of the file when it has
# them, else from the last history record, else the settings (nm_series,
# nm_last, nm_length, nm_model).
names_of() {
	local f=${1:-} j=""
	nm_series="" nm_last="" nm_model="" nm_length=""
	if command -v jq >/dev/null; then
		if [ -n "$f" ] && [ -s "$f" ]; then
			j=$(head -n 1 -- "$f" | jq -c 'select((.series | type) == "object") | {s: .series, m: .model.dir}' 2>/dev/null) || j=""
		fi
		if [ -z "$j" ] && [ -s "$cfg_HISTORY" ]; then
			# the newest record that names a series (a rollback's does not)
			j=$(jq -c 'select(type == "object" and (.series | type) == "object") | {s: .series, m: .model.dir}' \
				-- "$cfg_HISTORY" 2>/dev/null | tail -n 1) || j=""
		fi
		if [ -n "$j" ]; then
			IFS=$'\x1f' read -r nm_series nm_last nm_length nm_model < <(jq -r \
				'def s: if . == null then "" else tostring | explode | map(if . < 32 or . == 127 then 32 else . end) | implode | .[0:200] end;
				 [(.s.id | s), (.s.last_date | s), (.s.length | s), (.m | s)] | join("\u001f")' <<<"$j") || true
		fi
	fi
	[ -n "$nm_series" ] || nm_series=${cfg_SERIES_ID:-$(basename -- "$cfg_SERIES")}
	[ -n "$nm_last" ] || nm_last="?"
	[ -n "$nm_model" ] || nm_model=$cfg_MODEL
}

# For a mail subject: "USDCLP (last 2026-09-23, model chronos-demo)".
names_subject() {
	local m=${nm_model%/}
	[[ $m == */* ]] && m=$(basename -- "$m")
	local last=$nm_last
	[ "$last" = "?" ] && last=unknown
	printf '%s (last %s, model %s)' "$(flat "$nm_series" 60)" "$(flat "$last" 10)" "$(flat "$m" 60)"
}

# For a mail body or status: the series and the model, two lines.
names_lines() {
	if [ "$nm_last" = "?" ]; then
		printf 'series %s, last date unknown (no run recorded yet)' "$(flat "$nm_series" 200)"
	else
		printf 'series %s, last date %s' "$(flat "$nm_series" 200)" "$(flat "$nm_last" 10)"
	fi
	[ -n "$nm_length" ] && printf ', %s observations' "$(flat "$nm_length" 12)"
	printf ' (%s)\n' "$(flat "$cfg_SERIES")"
	printf 'model %s\n' "$(flat "$nm_model")"
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
  ((.deployment.summary // .deployment.reason) | s),
  (.deployment.challenger | s),
  ([("trigger", "search", "validation", "deployment", "history") as $k
    | select(.[$k].status? == "error") | $k][0] | s),
  ([.trigger, .search, .validation, .deployment, .history
    | select(.status? == "error") | .reason][0] | s),
  (.validation | if .status? == "done" then
     def r: if type == "number" then (. * 10000 | round / 10000 | tostring) else "n/a" end;
     "held-out RMSE \(.candidate.rmse | r), random walk \(.random_walk.rmse | r), incumbent " +
     (if (.incumbent | type) == "object" then (.incumbent.rmse | r) else "none" end) +
     ", \(.windows.count // "?") windows" else "" end | s)
] | join("\u001f")'

summarize() { # summarize ENVELOPE_FILE DRY -> prints per-horizon lines, sets events
	local f=$1 dry=$2 h trig tsum sstat ssum appr vsum dstat dep dsum chal fstage freason held
	n_triggered=0 n_deployed=0 n_failed=0 n_passed=0 n_error=0
	events=() body_lines=()
	# Fields are split on US (0x1f), which s() has flattened out of the data;
	# a whitespace IFS such as tab would merge empty fields.
	while IFS=$'\x1f' read -r h trig tsum sstat ssum appr vsum dstat dep dsum chal fstage freason held; do
		name_ok "$h" || h="?"
		if [ -n "$fstage" ]; then
			summarize_failed "$h" "$trig" "$tsum" "$fstage" "$freason"
			continue
		fi
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
		# the held-out numbers stand beside the verdict
		[ -n "$held" ] && vsum="$vsum [$held]"
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
		if [ "$chal" = true ] && [ "$dry" = 0 ]; then
			events+=("$h challenger started")
			body_lines+=("$h: challenger started: $dsum")
		fi
		if [ "$dep" = true ] && [ "$dry" = 0 ]; then
			n_deployed=$((n_deployed + 1))
			events+=("$h deployed")
			body_lines+=("$h: deployed: $dsum")
		fi
	done < <(jq -r "$jq_lines" <"$f")
}

# summarize_challengers FILE DRY: the lines of 05-challenge (scored,
# promoted, retired): printed, and events and mail lines.
summarize_challengers() {
	[ -s "$1" ] || return 0
	local h act sum
	while IFS=$'\x1f' read -r h act sum; do
		name_ok "$h" || h="?"
		printf '%s: challenger %s: %s\n' "$h" "$act" "$sum"
		[ "$2" = 1 ] && continue
		events+=("$h challenger $act")
		body_lines+=("$h: challenger $act: $sum")
	done < <(jq -r 'def s: if . == null then "" else tostring | explode | map(if . < 32 or . == 127 then 32 else . end) | implode | .[0:400] end;
		[(.horizon.name | s), (.challenger.action | s), (.challenger.summary | s)] | join("\u001f")' <"$1")
}

# summarize_failed H TRIGGERED TRIGGER-SUMMARY STAGE REASON: a horizon that
# failed at STAGE (its section has status "error").
summarize_failed() {
	n_error=$((n_error + 1))
	[ "$2" = true ] && n_triggered=$((n_triggered + 1))
	events+=("$1 failed")
	[ -n "$3" ] && printf '%s: triggered: %s\n' "$1" "$3"
	[ -z "$3" ] && printf '%s:\n' "$1"
	printf '    FAILED at %s: %s\n' "$4" "${5:-no reason given}"
	body_lines+=("$1: FAILED at $4: ${5:-no reason given}")
}

mail_report() { # mail_report RUN_ID RUNDIR [ENVELOPE_FILE]
	[ -n "$cfg_MAIL_TO" ] || return 0
	[ ${#events[@]} -gt 0 ] || return 0
	local body subject hs="" e
	names_of "${3:-}"
	body=$(mktemp_or_die "${TMPDIR:-/tmp}/chronopt-mail.XXXXXX")
	tmpfiles+=("$body")
	for e in "${events[@]}"; do
		case "$e" in
		*" deployed" | *" validation failed" | *" failed" | *" challenger "*) hs="$hs${hs:+, }$e" ;;
		esac
	done
	if [ -z "$hs" ]; then
		hs="${events[0]}"
		[ ${#events[@]} -gt 1 ] && hs="$hs, ..."
	fi
	subject="chronopt $(names_subject): $hs"
	{
		printf 'chronopt run %s\n' "$1"
		names_lines
		printf '\n'
		local l
		for l in "${body_lines[@]}"; do
			printf '%s\n' "$(flat "$l" 600)"
		done
		# What was decided, rendered from the envelopes, never recomputed.
		if [ -n "${3:-}" ] && [ -s "$3" ] && [ -x "$cfg_BIN/opt-report" ]; then
			printf '\n'
			"$cfg_BIN/opt-report" --format text <"$3" 2>/dev/null || printf '(the text report could not be made)\n'
		fi
		printf '\nenvelopes and logs: %s\n' "$(flat "$2")"
		printf 'history: %s\nconfigs: %s\n' "$(flat "$cfg_HISTORY")" "$(flat "$cfg_CONFIG_DIR")"
	} >"$body"
	mail_send "$subject" "$body" || true
}

# stage NAME IN OUT CMD...: run one stage, IN -> OUT, stderr kept in the run
# dir, the exact command appended to the run's `commands` file (replayable).
# Exit 7 (partly failed) is not a stop: every line was written, those of
# the failed horizons with a section of status "error" that the later
# stages pass on; run_partial remembers it.
run_partial=0
stage() {
	local name=$1 in=$2 out=$3 rc=0
	shift 3
	{
		printf '# %s\n' "$name"
		printf '%q ' "$@"
		printf '<%q >%q\n' "$(basename "$in")" "$(basename "$out")"
	} >>"$rundir/commands"
	local t0=$SECONDS
	ops_event info "run $run_id: stage $name started"
	"$@" <"$in" >"$out.partial" 2>"$rundir/$name.stderr" || rc=$?
	ops_stage_event "$name" "$rc" $((SECONDS - t0)) "$rundir/$name.stderr"
	if [ $rc -eq 7 ]; then
		stage_partly_failed "$name"
		rc=0
	fi
	if [ $rc -ne 0 ]; then
		warn "stage $name failed (exit $rc):"
		tail -n 5 "$rundir/$name.stderr" | while IFS= read -r l; do
			printf '  %s\n' "$(flat "$l" 400)" >&2
		done
		return $rc
	fi
	mv -f "$out.partial" "$out"
}

# ------------------------------------------------------- partial failure

# stage_partly_failed NAME: a stage exited 7; its own failures (not those
# it passed on) are repeated on stderr, and the run goes on.
stage_partly_failed() {
	run_partial=1
	local l
	while IFS= read -r l; do
		case "$l" in
		*"failed, the others go on:"*) warn "stage $1: $(flat "$l" 400)" ;;
		esac
	done <"$rundir/$1.stderr"
}

# ------------------------------------------------ replays pinned to the run

# pin_settings: the run's own copy of the settings file, RUNDIR/settings.json,
# given to every stage, so a stage replayed from the run directory reads
# the settings the run read.
pin_settings() {
	cp -- "$cfg_CONFIG" "$rundir/settings.json" 2>/dev/null ||
		die 4 "cannot copy the settings '$(flat "$cfg_CONFIG")' into the run directory '$(flat "$rundir")'"
}

# pin_deployed: a copy of the deployed configs (CONFIG_DIR/*.json) in
# RUNDIR/deployed/, taken just before validation, which validates against
# it: the incumbent a verdict was made against stays in the run directory,
# and 20-validate replayed from there decides the same.
pin_deployed() {
	local d=$rundir/deployed f
	mkdir -- "$d" 2>/dev/null || die 4 "cannot create directory '$(flat "$d")'"
	[ -d "$cfg_CONFIG_DIR" ] || return 0
	for f in "$cfg_CONFIG_DIR"/*.json; do
		[ -f "$f" ] && [ ! -L "$f" ] || continue
		cp -p -- "$f" "$d/" 2>/dev/null || die 4 "cannot copy '$(flat "$f")' into '$(flat "$d")'"
	done
}

# A comment line in the commands file (not a command: replays skip it).
commands_note() {
	printf '# %s\n' "$1" >>"$rundir/commands"
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
	ops_require_model
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
		# flock(1): the kernel releases the lock when the run dies, however
		# it dies; the pid in the file is only for this message
		if ! flock -n "$lock_fd"; then
			local holder=""
			read -r holder <"$cfg_RUN_DIR/.lock" 2>/dev/null || true
			case $holder in
			'' | *[!0-9]*) die 5 "another pipeline run holds '$cfg_RUN_DIR/.lock'" ;;
			*) die 5 "another pipeline run (pid $holder) holds '$cfg_RUN_DIR/.lock'" ;;
			esac
		fi
		{ printf '%s\n' "$$" >"$cfg_RUN_DIR/.lock"; } 2>/dev/null ||
			die 4 "cannot write the lock file '$cfg_RUN_DIR/.lock'"
		rundir=$cfg_RUN_DIR/$run_id
		mkdir -- "$rundir" 2>/dev/null || die 4 "cannot create run directory '$(flat "$rundir")'"
	fi
	: >"$rundir/input.ndjson"
	pin_settings

	cache_env "$dry"
	local -a common=(--config "$rundir/settings.json" --config-dir "$cfg_CONFIG_DIR" --history "$cfg_HISTORY")
	local -a pinned=(--config "$rundir/settings.json" --config-dir "$rundir/deployed" --history "$cfg_HISTORY")
	local -a trig=("$t_trigger" --series "$cfg_SERIES" --model "$cfg_MODEL" --seed "$cfg_SEED" "${common[@]}")
	[ -n "$cfg_SERIES_ID" ] && trig+=(--id "$cfg_SERIES_ID")
	if [ $hset = 1 ]; then trig+=(--horizon "$horizon"); else trig+=(--all); fi
	[ $force = 1 ] && trig+=(--force)
	local -a dep=("$t_deploy" deploy "${common[@]}")
	[ $dry = 1 ] && dep+=(--dry-run)
	# 05-challenge: the live challengers (opt-deploy(1)) are scored against
	# their champions, promoted or retired before the trigger judges the
	# champion; it writes one line per horizon that has one
	local -a chal=("$t_deploy" challenge --series "$cfg_SERIES" --model "$cfg_MODEL" --seed "$cfg_SEED" "${common[@]}")
	[ -n "$cfg_SERIES_ID" ] && chal+=(--id "$cfg_SERIES_ID")
	[ $hset = 1 ] && chal+=(--horizon "$horizon")
	[ $dry = 1 ] && chal+=(--dry-run)

	local rc=0 last
	printf '%s: run %s%s (%s, model %s)\n' "$prog" "$run_id" "$([ $dry = 1 ] && printf ' (dry run)')" \
		"$(flat "$(basename "$cfg_SERIES")" 80)" "$(flat "$cfg_MODEL" 120)" >&2
	commands_note "00-trigger decides again when replayed: it reads the history, the deployed configs, the series and the clock as they are then"
	ops_event info "run $run_id: started$([ $dry = 1 ] && printf ' (dry run)') (series $cfg_SERIES, model $cfg_MODEL)"
	commands_note "05-challenge and 06-challenge-history act again when replayed: they promote, retire and record"
	{
		stage 05-challenge "$rundir/input.ndjson" "$rundir/05-challenge.ndjson" "${chal[@]}" &&
			{ [ $dry = 1 ] || [ ! -s "$rundir/05-challenge.ndjson" ] ||
				stage 06-challenge-history "$rundir/05-challenge.ndjson" "$rundir/06-challenge-history.ndjson" \
					"$t_history" record --history "$cfg_HISTORY"; } &&
		stage 00-trigger "$rundir/input.ndjson" "$rundir/00-trigger.ndjson" "${trig[@]}" &&
			stage 10-search "$rundir/00-trigger.ndjson" "$rundir/10-search.ndjson" "$t_search" "${common[@]}" \
				--jobs "$cfg_JOBS" &&
			pin_deployed &&
			commands_note "20-validate is pinned: it validates against deployed/, the configs deployed when it ran" &&
			stage 20-validate "$rundir/10-search.ndjson" "$rundir/20-validate.ndjson" "$t_validate" "${pinned[@]}" &&
			commands_note "30-deploy and 40-history act again when replayed: they deploy and record" &&
			stage 30-deploy "$rundir/20-validate.ndjson" "$rundir/30-deploy.ndjson" "${dep[@]}"
	} || rc=$?
	last=$rundir/30-deploy.ndjson
	if [ $rc -eq 0 ] && [ $dry = 0 ]; then
		stage 40-history "$rundir/30-deploy.ndjson" "$rundir/40-history.ndjson" "$t_history" record \
			--history "$cfg_HISTORY" || rc=$?
		last=$rundir/40-history.ndjson
	fi

	if [ $rc -ne 0 ]; then
		ops_event err "run $run_id: failed (exit $rc); envelopes and stderr in $rundir"
		events=("$(printf 'run failed (exit %d)' "$rc")")
		body_lines=("the run stopped at a stage that failed (exit $rc); see the *.stderr files")
		[ $dry = 0 ] && mail_report "$run_id" "$rundir" "$rundir/00-trigger.ndjson"
		[ $dry = 0 ] && { log_line "run $run_id exit $rc: a stage failed" || true; }
		[ $dry = 0 ] && { printf '%d\n' "$rc" >"$rundir/exit"; } 2>/dev/null
		warn "run $run_id failed; envelopes and stderr in $rundir"
		return $rc
	fi

	summarize "$last" "$dry"
	summarize_challengers "$rundir/05-challenge.ndjson" "$dry"
	local ev
	for ev in "${events[@]+"${events[@]}"}"; do
		case "$ev" in
		*" deployed") ops_event notice "run $run_id: $ev" ;;
		*) ops_event info "run $run_id: $ev" ;;
		esac
	done
	local what
	if [ "$n_triggered" -eq 0 ] && [ "$n_error" -eq 0 ]; then
		what="nothing to do: no horizon triggered"
	else
		what="$n_triggered triggered, $n_passed approved, $n_failed not approved, $n_deployed deployed"
	fi
	[ "$n_error" -gt 0 ] && what="$what, $n_error failed"
	local final=0
	[ $run_partial = 1 ] && final=7
	if [ $dry = 1 ]; then
		printf '%s (dry run: nothing deployed or recorded, no mail sent)\n' "$what"
		printf 'envelopes of this dry run: %s\n' "$rundir"
		return $final
	fi
	printf '%s\n' "$what"
	printf 'envelopes: %s\n' "$rundir"
	ops_event info "run $run_id: done: $what"
	# Keep the dashboard current after every recorded run.
	if [ -x "$cfg_BIN/opt-report" ]; then
		mkdirs "$(dirname "$cfg_REPORT")"
		"$cfg_BIN/opt-report" --history "$cfg_HISTORY" --config-dir "$cfg_CONFIG_DIR" --html "$cfg_REPORT" ||
			warn "warning: the report '$cfg_REPORT' could not be written"
	fi
	log_line "run $run_id exit $final: $what" || final=4
	mail_report "$run_id" "$rundir" "$last"
	# the run's exit code, read by `summary` when series ran elsewhere
	{ printf '%d\n' "$final" >"$rundir/exit"; } 2>/dev/null || warn "cannot write '$rundir/exit'"
	return $final
}

# cache_env DRY: the forecast cache the stages use (CHRONOPT_CACHE, read by
# every tool that opens a model); none for a dry run, which touches no file.
cache_env() {
	if [ "$1" = 1 ] || [ "$cfg_CACHE" = off ]; then
		export CHRONOPT_CACHE=
	else
		export CHRONOPT_CACHE=$cfg_CACHE
	fi
	if [ -n "$cfg_CACHE_MAX_MB" ]; then export CHRONOPT_CACHE_MAX_MB=$cfg_CACHE_MAX_MB; fi
}

# ------------------------------------------------------------ other commands

# cache stats|prune: opt-cache on the workspace's cache.
cmd_cache() {
	[ $# -ge 1 ] || die 2 "cache: give stats or prune"
	[ "$cfg_CACHE" != off ] || die 2 "cache: the cache is off (CHRONOPT_CACHE=off)"
	local t
	t=$(tool opt-cache)
	cache_env 0
	"$t" "$@" --cache "$cfg_CACHE"
}

# status: text for people, or with --json one JSON object for machines;
# never both.
cmd_status() {
	local json=0
	while [ $# -gt 0 ]; do
		case "$1" in
		--json) json=1 ;;
		*) die 2 "status: unexpected argument '$(flat "$1" 80)'" ;;
		esac
		shift
	done
	local t_deploy t_history
	t_deploy=$(tool opt-deploy)
	t_history=$(tool opt-history)
	command -v jq >/dev/null || die 4 "jq not found: run scripts/install-deps"
	names_of ""
	local last_run=""
	[ -f "$cfg_LOG_DIR/pipeline.log" ] && last_run=$(tail -n 1 -- "$cfg_LOG_DIR/pipeline.log")
	if [ $json = 1 ]; then
		status_json "$t_deploy" "$t_history" "$last_run"
		return
	fi
	local rc=0 lastopt
	names_lines
	printf '\nDeployed configs (%s):\n' "$(flat "$cfg_CONFIG_DIR")"
	"$t_deploy" status --config-dir "$cfg_CONFIG_DIR" --config "$cfg_CONFIG" || rc=$?
	challengers_text
	printf '\nLast optimization per horizon (%s):\n' "$(flat "$cfg_HISTORY")"
	lastopt=$("$t_history" last --history "$cfg_HISTORY") || rc=$?
	if [ -n "$lastopt" ]; then
		jq -r 'def s: tostring | explode | map(if . < 32 or . == 127 then 32 else . end) | implode;
			"  \(.horizon | s | .[0:32])\t\(.last // "never" | s | .[0:40])"' <<<"$lastopt" | expand -t 8
	else
		printf '  none recorded\n'
	fi
	if [ -n "$last_run" ]; then
		printf '\nLast run: %s\n' "$(flat "$last_run" 400)"
	fi
	return $rc
}

# challengers_text: per horizon, the newest challenger record of the history
# (started, scored, promoted, retired) with its scores so far.
challengers_text() {
	[ -s "$cfg_HISTORY" ] || return 0
	local out
	out=$(jq -r -s 'def s: if . == null then "n/a" else tostring | explode | map(if . < 32 or . == 127 then 32 else . end) | implode | .[0:300] end;
		[.[] | select((.outcome // "") | startswith("challenger_"))] | group_by(.horizon) | .[] | last |
		"  \(.horizon | s)\t\(.outcome | s)\t\(.optimization_date | s)" +
		(if .challenger.scores then "\n    champion RMSE \(.challenger.scores.champion_rmse | s), challenger RMSE \(.challenger.scores.challenger_rmse | s) on \(.challenger.scores.origins_used | s) of \(.challenger.scores.origins_required | s) origins, p \(.challenger.scores.test.p_value | s)" else "" end) +
		"\n    \(.reason | s)"' "$cfg_HISTORY" 2>/dev/null) || return 0
	[ -n "$out" ] || return 0
	printf '\nChallengers (newest record per horizon):\n%s\n' "$out" | expand -t 8
}

# status_json DEPLOY HISTORY LAST_RUN: one object on stdout
# {"series":{"id","last_date","length","path"},"model","config_dir","history",
#  "deployed":<opt-deploy status --json>,"last_optimization":[{"horizon","last"}],
#  "last_run":"..."|null}; nothing on stdout when a tool fails.
status_json() {
	local dep lastopt rc=0
	dep=$("$1" status --config-dir "$cfg_CONFIG_DIR" --config "$cfg_CONFIG" --json) || rc=$?
	[ $rc -eq 0 ] || return $rc
	lastopt=$("$2" last --history "$cfg_HISTORY") || rc=$?
	[ $rc -eq 0 ] || return $rc
	jq -n -c --argjson dep "${dep:-null}" --slurpfile last <(printf '%s\n' "$lastopt") \
		--arg id "$nm_series" --arg last_date "$nm_last" --arg length "$nm_length" \
		--arg path "$cfg_SERIES" --arg model "$nm_model" --arg cdir "$cfg_CONFIG_DIR" \
		--arg hist "$cfg_HISTORY" --arg run "$last_run" \
		'{series: {id: $id, last_date: (if $last_date == "?" then null else $last_date end),
		           length: (if $length == "" then null else ($length | tonumber? // null) end), path: $path},
		  model: $model, config_dir: $cdir, history: $hist, deployed: $dep,
		  last_optimization: $last, last_run: (if $run == "" then null else $run end)}'
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
	ops_event notice "rollback $run_id: $horizon: $summary"
	if [ -n "$cfg_MAIL_TO" ]; then
		local body
		body=$(mktemp_or_die "${TMPDIR:-/tmp}/chronopt-mail.XXXXXX")
		tmpfiles+=("$body")
		{
			names_of ""
			names_lines
			printf '\n%s: rolled back%s\n' "$horizon" "${to:+ to the requested version}"
			printf '%s: %s\n\n' "$horizon" "$(flat "$summary" 600)"
			printf 'configs: %s\nhistory: %s\n' "$(flat "$cfg_CONFIG_DIR")" "$(flat "$cfg_HISTORY")"
		} >"$body"
		names_of ""
		mail_send "chronopt $(names_subject): $horizon rolled back" "$body" || true
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
	# A model given by option, env file or $CHRONOPT_MODEL is the demo's;
	# otherwise the bundled demo model, named in the workspace's env file and
	# announced (ops_demo_model).
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
		cfg_CONFIG=$data/configs/demo.json
	fi
	local bundled=0
	ops_demo_model
	# A quantile model (Chronos-Bolt, Chronos-2) draws no samples and refuses a
	# search space that names sampling settings: its demo settings are
	# configs/demo-quantile.json (configs/demo.json with context_length only).
	if [ -z "${opt[CONFIG]+x}${file[CONFIG]+x}${CHRONOPT_CONFIG:-}" ] && [ -d "$cfg_MODEL" ] &&
		demo_quantile_model "$cfg_MODEL"; then
		cfg_CONFIG=$data/configs/demo-quantile.json
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
			[ $bundled = 1 ] && printf '# the bundled demo model (synthetic series only); name your own here\n'
			printf 'CHRONOPT_MODEL=%s\n' "$cfg_MODEL"
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
	# A workspace env file made before models were required names none.
	if [ -n "$model" ] || ! grep -Eq '^[[:space:]]*(export[[:space:]]+)?CHRONOPT_MODEL=[^[:space:]]' "$ws/chronopt.env"; then
		again+=(--model "$cfg_MODEL")
	fi
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
	# a partly failed run (7) still gets its report and the summary below
	local drc=0
	(cd "$ws" && "$self" "${again[@]}" run --all) || drc=$?
	[ $drc -eq 0 ] || [ $drc -eq 7 ] || return $drc
	(cd "$ws" && "$self" "${again[@]}" report >/dev/null)
	cat <<EOF

Demo done. In $ws:
  model:    $cfg_MODEL$([ $bundled = 1 ] && printf '   (the bundled demo model, not a production model)')
  configs:  $ws/configs        (deployed configs, a git repository; backups in configs/backups)
  history:  $ws/history.jsonl
  report:   $ws/report.html
  runs:     $ws/runs/<run id>/  (the envelope after each stage, stderr of each stage, commands)
Next:
  $self --env $ws/chronopt.env status
  $self --env $ws/chronopt.env history
  $self --env $ws/chronopt.env run --all     # again: the cooldown keeps it quiet
EOF
	return $drc
}

# demo_quantile_model DIR: true when the checkpoint in DIR is a quantile
# model, as the loader itself tells its family (opt-forecast's "family" for a
# one-step forecast of a tiny series); false for Chronos-T5 or a directory the
# loader refuses, or without opt-forecast or jq (the run then says why).
demo_quantile_model() {
	[ -x "$cfg_BIN/opt-forecast" ] && command -v jq >/dev/null || return 1
	"$cfg_BIN/opt-forecast" --model "$1" --values 1,2,3,4,5,6,7,8 --steps 1 --threads 1 2>/dev/null |
		jq -e '.family == "chronos-bolt" or .family == "chronos-2"' >/dev/null 2>&1
}

# ------------------------------------------------ operations (issue 17)
# The model requirement, `check`, `watch`, and the event log (--log FILE,
# --syslog).  Kept apart from the run's own code: the run calls
# ops_require_model once and ops_event at each stage event.

# The settings of this section, checked once after resolve_config.
ops_settings() {
	case "${cfg_SYSLOG:-0}" in
	0 | no | false | "") cfg_SYSLOG=0 ;;
	1 | yes | true) cfg_SYSLOG=1 ;;
	*) die 2 "syslog '$(flat "$cfg_SYSLOG" 20)' is not 0 or 1" ;;
	esac
	ops_log_warned=0
}

# ops_event PRIORITY MESSAGE: one tagged line to the log file and/or syslog.
# PRIORITY is a syslog level: err, warning, notice or info.  The file's line:
#   2026-11-23T02:00:00Z chronopt[PID]: info: run ID: stage 10-search done (exit 0, 3 s)
# syslog gets "run ID: ..." at user.PRIORITY with tag chronopt and the pid.
# A sink that cannot be written is warned about once and does not stop the run.
ops_event() {
	local pri=$1 msg
	[ -n "$cfg_LOG_FILE" ] || [ "$cfg_SYSLOG" = 1 ] || return 0
	msg=$(flat "$2" 900)
	if [ -n "$cfg_LOG_FILE" ]; then
		{ printf '%s chronopt[%d]: %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" $$ "$pri" "$msg" \
			>>"$cfg_LOG_FILE"; } 2>/dev/null || ops_log_failed "cannot write the log file '$(flat "$cfg_LOG_FILE")'"
	fi
	if [ "$cfg_SYSLOG" = 1 ]; then
		logger -t chronopt --id=$$ -p "user.$pri" -- "$msg" 2>/dev/null ||
			ops_log_failed "logger(1) failed: the events do not reach syslog"
	fi
	return 0
}
ops_log_failed() {
	[ "$ops_log_warned" = 1 ] && return 0
	ops_log_warned=1
	warn "warning: $1"
}

# ops_stage_event NAME RC SECONDS STDERR-FILE: the end of a stage, then what
# the tool wrote on stderr (its last 20 lines), each line tagged with the
# tool's own "tool: ..." prefix: err when the stage failed, warning for a
# line that says so, info otherwise.
ops_stage_event() {
	local name=$1 rc=$2 secs=$3 errf=$4 l pri
	[ -n "$cfg_LOG_FILE" ] || [ "$cfg_SYSLOG" = 1 ] || return 0
	if [ "$rc" -eq 0 ]; then
		ops_event info "run $run_id: stage $name done (exit 0, $secs s)"
	else
		ops_event err "run $run_id: stage $name failed (exit $rc, $secs s)"
	fi
	[ -s "$errf" ] || return 0
	while IFS= read -r l || [ -n "$l" ]; do
		[ -n "$l" ] || continue
		pri=info
		[ "$rc" -ne 0 ] && pri=err
		[ "$rc" -eq 0 ] && [[ ${l,,} == *warning* ]] && pri=warning
		ops_event "$pri" "run $run_id: $name: $l"
	done < <(tail -n 20 "$errf")
}

# A run needs a model named by --model, the env file or $CHRONOPT_MODEL:
# the bundled demo model is a toy trained on synthetic series, and a cron
# job that silently used it would report tuned settings of the toy.
ops_require_model() {
	[ -n "$cfg_MODEL" ] && return 0
	die 2 "no model configured: set CHRONOPT_MODEL in the env file (a Chronos checkpoint directory such as a downloaded amazon/chronos-t5-small, or a baseline: random_walk, drift, seasonal_naive[:P]) or give --model; pipeline.sh demo uses the bundled demo model"
}

# The demo's model when none is configured: the bundled demo model (else
# the random walk), said on stderr so nobody takes its results for the
# production model's.  Sets cfg_MODEL and bundled=1.
ops_demo_model() {
	[ -z "$cfg_MODEL" ] || return 0
	bundled=1
	if [ -f "$data/models/chronos-demo/model.safetensors" ]; then
		cfg_MODEL=$data/models/chronos-demo
		warn "demo: using the bundled demo model $cfg_MODEL (a small Chronos-T5 trained on synthetic series only, not a production model; --model DIR for a real checkpoint)"
	else
		cfg_MODEL=random_walk
		warn "demo: the bundled demo model is missing; using the random walk baseline (--model DIR for a real checkpoint)"
	fi
}

# check: everything a run needs, resolved and looked at; nothing written.
# Prints the settings; exits 2 (no model), 3 (a bad settings file), 4 (a
# missing file or tool) with the first problem.
cmd_check() {
	[ $# -eq 0 ] || die 2 "check: unexpected argument '$(flat "$1" 80)'"
	ops_require_model
	local t
	for t in opt-trigger opt-search opt-validate opt-deploy opt-history opt-report; do
		tool "$t" >/dev/null
	done
	command -v jq >/dev/null || die 4 "jq not found: run scripts/install-deps"
	[ -f "$cfg_SERIES" ] && [ -r "$cfg_SERIES" ] || die 4 "cannot read the series '$(flat "$cfg_SERIES")'"
	[ -f "$cfg_CONFIG" ] && [ -r "$cfg_CONFIG" ] || die 4 "cannot read the settings file '$(flat "$cfg_CONFIG")'"
	jq -e 'type == "object"' "$cfg_CONFIG" >/dev/null 2>&1 || die 3 "the settings file '$(flat "$cfg_CONFIG")' is not a JSON object"
	case "$cfg_MODEL" in
	/*)
		[ -f "$cfg_MODEL/config.json" ] && [ -f "$cfg_MODEL/model.safetensors" ] ||
			die 4 "model '$(flat "$cfg_MODEL")' is not a Chronos checkpoint directory (config.json, model.safetensors)"
		;;
	esac
	printf 'series      %s%s\n' "$cfg_SERIES" "${cfg_SERIES_ID:+ (id $cfg_SERIES_ID)}"
	printf 'model       %s\n' "$cfg_MODEL"
	printf 'settings    %s\n' "$cfg_CONFIG"
	printf 'configs     %s\n' "$cfg_CONFIG_DIR"
	printf 'history     %s\n' "$cfg_HISTORY"
	printf 'runs        %s\n' "$cfg_RUN_DIR"
	printf 'logs        %s\n' "$cfg_LOG_DIR"
	printf 'report      %s\n' "$cfg_REPORT"
	printf 'tools       %s\n' "$cfg_BIN"
	printf 'log file    %s\n' "${cfg_LOG_FILE:-(none)}"
	printf 'syslog      %s\n' "$([ "$cfg_SYSLOG" = 1 ] && echo yes || echo no)"
	printf 'forecasts   %s\n' "${cfg_FORECAST_LOG:-(none: watch has nothing to read)}"
	printf 'mail to     %s\n' "${cfg_MAIL_TO:-(nobody)}"
}

# watch: for each horizon with a deployed config and a forecast log, the
# baking-period rules of `opt-deploy watch` (it rolls back and records the
# rollback in the history); mailed and logged when one rolled back.
cmd_watch() {
	local horizon="" hset=0 all=0 dry=0
	while [ $# -gt 0 ]; do
		case "$1" in
		--horizon)
			[ $# -ge 2 ] || die 2 "option '--horizon' needs a value"
			horizon=$2 hset=1
			shift
			;;
		--all) all=1 ;;
		--dry-run) dry=1 ;;
		*) die 2 "watch: unknown argument '$(flat "$1" 80)'" ;;
		esac
		shift
	done
	[ $hset = 1 ] && [ $all = 1 ] && die 2 "watch: give --horizon H or --all, not both"
	if [ $hset = 1 ]; then
		name_ok "$horizon" || die 2 "horizon '$(flat "$horizon" 40)' is not a plain name ([A-Za-z0-9_-], 1-32 chars)"
	fi
	[ -n "$cfg_FORECAST_LOG" ] ||
		die 2 "watch: no forecast log configured: set CHRONOPT_FORECAST_LOG (e.g. forecasts/{horizon}.csv) or give --forecast-log"
	local t_deploy
	t_deploy=$(tool opt-deploy)
	command -v jq >/dev/null || die 4 "jq not found: run scripts/install-deps"
	local -a hs
	if [ $hset = 1 ]; then
		hs=("$horizon")
	else
		mapfile -t hs < <(jq -r '(.horizons // {"7d": 7, "15d": 15, "30d": 30, "90d": 90}) | keys_unsorted[]' "$cfg_CONFIG" 2>/dev/null) ||
			die 3 "cannot read the horizons of '$cfg_CONFIG'"
	fi
	run_id=${CHRONOPT_RUN_ID:-watch-$(date -u +%Y%m%dT%H%M%SZ)-$$}
	name_ok "$run_id" || die 2 "run id '$(flat "$run_id" 40)' is not a plain name"
	export CHRONOPT_RUN_ID=$run_id
	if [ $dry = 0 ]; then
		not_source_configs
		mkdirs "$cfg_RUN_DIR" "$(dirname "$cfg_HISTORY")"
		# The run lock: a watch never rolls back under a run that is deploying.
		{ exec {lock_fd}>>"$cfg_RUN_DIR/.lock"; } 2>/dev/null || die 4 "cannot open the lock file '$cfg_RUN_DIR/.lock'"
		flock -n "$lock_fd" || die 5 "another pipeline run holds '$cfg_RUN_DIR/.lock'"
	fi
	ops_event info "watch $run_id: started ($(printf '%s ' "${hs[@]}"| sed 's/ $//'))"
	local h f out rc=0 hrc rolled=0 verdict summary body=""
	out=$(mktemp_or_die "${TMPDIR:-/tmp}/chronopt-watch.XXXXXX")
	tmpfiles+=("$out")
	for h in "${hs[@]}"; do
		name_ok "$h" || continue
		f=${cfg_FORECAST_LOG//\{horizon\}/$h}
		if [ ! -f "$cfg_CONFIG_DIR/$h.json" ]; then
			printf '%s: nothing deployed\n' "$h"
			continue
		fi
		if [ ! -e "$f" ]; then
			printf '%s: no forecast log %s\n' "$h" "$(flat "$f")"
			ops_event warning "watch $run_id: $h: no forecast log '$f'"
			continue
		fi
		local -a args=(watch "$h" --log "$f" --config "$cfg_CONFIG" --config-dir "$cfg_CONFIG_DIR"
			--history "$cfg_HISTORY" --json)
		[ $dry = 1 ] && args+=(--dry-run)
		hrc=0
		"$t_deploy" "${args[@]}" >"$out" 2>"$out.err" || hrc=$?
		tmpfiles+=("$out.err")
		if [ ! -s "$out" ]; then
			# the watch did not get to a verdict: its message, and on
			warn "watch $h failed (exit $hrc):"
			sed 's/^/  /' "$out.err" >&2
			ops_event err "watch $run_id: $h: failed (exit $hrc): $(head -n 1 "$out.err")"
			[ $rc -ne 0 ] || rc=$hrc
			continue
		fi
		verdict=$(jq -r '.reason' "$out")
		if [ "$(jq -r '.rolled_back' "$out")" = true ]; then
			rolled=$((rolled + 1))
			summary=$(jq -r '.rollback.summary // ""' "$out")
			printf '%s: rolled back: %s\n    %s\n' "$h" "$(flat "$verdict" 400)" "$(flat "$summary" 400)"
			ops_event warning "watch $run_id: $h: rolled back: $verdict; $summary"
			log_line "watch $h rolled back: $(flat "$verdict" 300)" || rc=4
			body="$body$h: rolled back by the watch: $(flat "$verdict" 400)"$'\n'"$h: $(flat "$summary" 600)"$'\n'
		elif [ "$(jq -r '.rollback.dry_run // false' "$out")" = true ]; then
			printf '%s: would roll back (dry run): %s\n' "$h" "$(flat "$verdict" 400)"
		else
			printf '%s: %s\n' "$h" "$(flat "$verdict" 400)"
			ops_event info "watch $run_id: $h: $verdict"
		fi
		if [ $hrc -ne 0 ]; then
			sed 's/^/  /' "$out.err" >&2
			[ $rc -ne 0 ] || rc=$hrc
		fi
	done
	ops_event info "watch $run_id: done, $rolled rolled back (exit $rc)"
	if [ $rolled -gt 0 ] && [ -n "$cfg_MAIL_TO" ]; then
		local mail
		mail=$(mktemp_or_die "${TMPDIR:-/tmp}/chronopt-mail.XXXXXX")
		tmpfiles+=("$mail")
		{
			printf 'chronopt watch %s\n\n%s\n' "$run_id" "$body"
			printf 'configs: %s\nhistory: %s\n' "$(flat "$cfg_CONFIG_DIR")" "$(flat "$cfg_HISTORY")"
		} >"$mail"
		mail_send "chronopt: watch rolled back $rolled horizon(s)" "$mail" || true
	fi
	return $rc
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
	# One forecast cache for the incumbent, every simulated week and the
	# scoring: each week re-scores last week's windows from it. A --cache
	# given (option, env file, environment) is shared; else the replay
	# workspace has its own.
	[ $cache_given = 1 ] || cfg_CACHE=$ws/cache
	cache_env 0

	if [ $only = 1 ]; then
		[ -f "$ws/replay.json" ] || die 3 "'$(flat "$ws")' is not a replay workspace (no replay.json)"
		replay_score "$t_replay" "$ws" "$next"
		return
	fi
	[ -n "$from" ] || die 2 "replay: --from DATE is required"
	[ -n "$cfg_MODEL" ] || die 2 "replay: no model: give --model (a Chronos checkpoint directory or a baseline name)"
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
	# one cache for every simulated week: each week re-scores last week's
	# windows from it (a --cache given is shared with other workspaces)
	if [ "$cfg_CACHE" = off ]; then
		pass+=(--no-cache)
	else
		pass+=(--cache "$cfg_CACHE")
	fi
	[ -n "$cfg_CACHE_MAX_MB" ] && pass+=(--cache-max-mb "$cfg_CACHE_MAX_MB")
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

# ------------------------------------------------ many series (issue 17)
# A workspace of many series: CHRONOPT_IDS (--ids) is "all" (every id of
# the long-format CSV) or a comma-separated list.  Each id has its own
# configs, history, runs and logs: the paths CONFIG_DIR, HISTORY, RUN_DIR,
# LOG_DIR (and FORECAST_LOG) hold "{id}", replaced by the id (default
# W/series/{id}/configs, .../history.jsonl, .../runs, .../logs, W the env
# file's directory or the working directory).  Every command runs this
# script once per id, as a workspace of one series (--ids '' --series-id
# ID and the id's paths); run does so in parallel, then writes one report
# (W/report.html) and sends one mail; W/runs/RUN_ID/ keeps each id's
# output (ID.out, ID.err) and exit code (ID.rc).
# Ids are hostile input: only plain names (series_id_ok in lib/series.c)
# become directory names; anything else is refused before a file is written.

multi=0
id_ok() { [[ $1 =~ ^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$ ]]; }

# user_set KEY: the key was given by option, env file or environment.
user_set() {
	local e=CHRONOPT_$1
	[ -n "${opt[$1]+x}${file[$1]+x}${!e:-}" ]
}

# After resolve_config: the mode, the per-id path templates, the syntax of
# the ids given.
multi_settings() {
	multi=0
	[ -n "$cfg_IDS" ] || return 0
	multi=1
	[ -z "$cfg_SERIES_ID" ] || die 2 "give --series-id ID (one series) or --ids (several), not both"
	ws_root=${env_dir:-$PWD}
	local kv k sub v
	for kv in CONFIG_DIR:configs HISTORY:history.jsonl RUN_DIR:runs LOG_DIR:logs; do
		k=${kv%%:*} sub=${kv#*:}
		if user_set "$k"; then
			v=cfg_$k
			[[ ${!v} == *"{id}"* ]] ||
				die 2 "${k}: with several series (--ids) each needs its own: the path must contain {id} (e.g. series/{id}/$sub)"
		else
			printf -v "cfg_$k" '%s' "$ws_root/series/{id}/$sub"
		fi
	done
	user_set REPORT || cfg_REPORT=$ws_root/report.html
	[[ $cfg_REPORT != *"{id}"* ]] || die 2 "REPORT: one report for all series: its path cannot contain {id}"
	if [ "$cfg_IDS" != all ]; then
		local a
		local -a want
		IFS=, read -r -a want <<<"$cfg_IDS,"
		[ ${#want[@]} -gt 0 ] || die 2 "--ids: no series id given"
		for a in "${want[@]}"; do
			id_ok "$a" || die 2 "series id '$(flat "$a" 80)' is not a plain name (1-64 letters, digits, '.', '_' or '-', not starting with '.' or '-')"
		done
	fi
}

# multi_ids: ids (the selection, in the CSV's order for all, else as
# given, each once) and csv_ids (every id of the CSV), checked by
# opt-trigger --list-ids: a CSV with an id that is not plain stops here
# (exit 3), before anything is written.
multi_ids() {
	local out a t
	t=$(tool opt-trigger)
	out=$("$t" --list-ids --series "$cfg_SERIES") || exit $?
	mapfile -t csv_ids <<<"$out"
	ids=()
	if [ "$cfg_IDS" = all ]; then
		ids=("${csv_ids[@]}")
		return 0
	fi
	local -a want
	IFS=, read -r -a want <<<"$cfg_IDS,"
	for a in "${want[@]}"; do
		case " ${csv_ids[*]} " in
		*" $a "*) ;;
		*) die 2 "series id '$a' is not in '$(flat "$cfg_SERIES")' (it has: $(flat "${csv_ids[*]}" 200))" ;;
		esac
		case " ${ids[*]+"${ids[*]}"} " in *" $a "*) continue ;; esac
		ids+=("$a")
	done
}

idpath() { printf '%s' "${1//\{id\}/$2}"; } # idpath TEMPLATE ID

# child_args ID [JOBS]: the options of this script for series ID alone
# (into the array ca): a workspace of one series at the id's paths, no mail.
child_args() {
	local id=$1 hist
	hist=$(idpath "$cfg_HISTORY" "$id")
	ca=(--ids "" --series "$cfg_SERIES" --series-id "$id" --config "$cfg_CONFIG"
		--config-dir "$(idpath "$cfg_CONFIG_DIR" "$id")" --history "$hist"
		--run-dir "$(idpath "$cfg_RUN_DIR" "$id")" --log-dir "$(idpath "$cfg_LOG_DIR" "$id")"
		--report "$(dirname "$hist")/report.html" --mail-to "" --bin "$cfg_BIN" --seed "$cfg_SEED"
		--jobs "${2:-$cfg_JOBS}")
	[ -n "$cfg_MODEL" ] && ca+=(--model "$cfg_MODEL")
	[ -n "$cfg_LOG_FILE" ] && ca+=(--log "$cfg_LOG_FILE")
	[ "$cfg_SYSLOG" = 1 ] && ca+=(--syslog)
	[ -n "$cfg_FORECAST_LOG" ] && ca+=(--forecast-log "$(idpath "$cfg_FORECAST_LOG" "$id")")
	return 0
}

multi_list() {
	[ $# -eq 0 ] || die 2 "ids: unexpected argument '$(flat "$1" 80)'"
	if [ "$multi" = 0 ]; then
		[ -n "$cfg_SERIES_ID" ] && { printf '%s\n' "$cfg_SERIES_ID"; return 0; }
		"$(tool opt-trigger)" --list-ids --series "$cfg_SERIES"
		return
	fi
	multi_ids
	printf '%s\n' "${ids[@]}"
}

multi_run() {
	local a hset=0 all=0 dry=0
	local -a args=("$@")
	# the run's own arguments, checked once here rather than once per series
	while [ $# -gt 0 ]; do
		case "$1" in
		--horizon)
			[ $# -ge 2 ] || die 2 "option '--horizon' needs a value"
			name_ok "$2" || die 2 "horizon '$(flat "$2" 40)' is not a plain name ([A-Za-z0-9_-], 1-32 chars)"
			hset=1
			shift
			;;
		--all) all=1 ;;
		--dry-run) dry=1 ;;
		--force) ;;
		*) die 2 "run: unknown argument '$(flat "$1" 80)'" ;;
		esac
		shift
	done
	[ $hset = 1 ] && [ $all = 1 ] && die 2 "run: give --horizon H or --all, not both"
	ops_require_model
	command -v jq >/dev/null || die 4 "jq not found: run scripts/install-deps"
	multi_ids
	local run_id=${CHRONOPT_RUN_ID:-$(date -u +%Y%m%dT%H%M%SZ)-$$}
	name_ok "$run_id" || die 2 "run id '$(flat "$run_id" 40)' is not a plain name"
	export CHRONOPT_RUN_ID=$run_id
	local mdir
	if [ $dry = 1 ]; then
		mdir=$(mktemp -d "${TMPDIR:-/tmp}/chronopt-dry-run.XXXXXX" 2>/dev/null) ||
			die 4 "cannot create a temporary directory in '${TMPDIR:-/tmp}'"
	else
		mdir=$ws_root/runs/$run_id
		# several machines may run the ids of one run (GNU parallel): the
		# directory may exist, an id's files may not
		mkdirs "$mdir"
	fi
	local n=${#ids[@]} par jobs
	par=$((cfg_JOBS < n ? cfg_JOBS : n))
	jobs=$((cfg_JOBS / par))
	[ "$jobs" -ge 1 ] || jobs=1
	printf '%s: run %s: %d series (%s), %d at a time, %d search job%s each, model %s\n' "$prog" "$run_id" "$n" \
		"$(flat "${ids[*]}" 200)" "$par" "$jobs" "$([ $jobs = 1 ] || echo s)" "$(flat "$cfg_MODEL" 120)" >&2
	ops_event info "run $run_id: $n series started ($(flat "${ids[*]}" 300))"
	local id running=0
	for id in "${ids[@]}"; do
		if [ $running -ge $par ]; then
			wait -n || true
			running=$((running - 1))
		fi
		rm -f -- "$mdir/$id.rc"
		(
			child_args "$id" "$jobs"
			rc=0
			"$self" "${ca[@]}" run "${args[@]+"${args[@]}"}" >"$mdir/$id.out" 2>"$mdir/$id.err" </dev/null || rc=$?
			printf '%d\n' "$rc" >"$mdir/$id.rc"
		) &
		running=$((running + 1))
	done
	wait || true
	multi_summary "$run_id" "$mdir" "$dry"
}

# multi_why STDERR-FILE: the line that says why a series' run failed: the
# tool's own message when there is one, else the script's.
multi_why() {
	local l
	l=$(grep -v '^pipeline.sh: ' "$1" 2>/dev/null | head -n 1) || true
	[ -n "$l" ] || l=$(grep -v '^pipeline.sh: run ' "$1" 2>/dev/null | head -n 1) || true
	printf '%s' "${l#"${l%%[![:space:]]*}"}"
}

# multi_summary RUN_ID DIR DRY: per series what its run did, then (unless
# a dry run) the report of every series and one mail; returns 0 when every
# series' run exited 0, 7 when some failed or partly failed, the first
# failure's code when all failed.
multi_summary() {
	local run_id=$1 mdir=$2 dry=$3 id rc what first_rc=0 nfail=0 npart=0 nok=0 n_dep=0 n_trig=0 events=0
	local -a failed=() lines=()
	for id in "${ids[@]}"; do
		rc=""
		[ -f "$mdir/$id.rc" ] && read -r rc <"$mdir/$id.rc"
		if [ -z "$rc" ]; then
			# ran elsewhere: its run directory says how it ended
			local rd
			rd=$(idpath "$cfg_RUN_DIR" "$id")/$run_id
			[ -f "$rd/exit" ] && read -r rc <"$rd/exit"
		fi
		[[ $rc =~ ^[0-9]+$ ]] || rc=""
		what=""
		[ -f "$mdir/$id.out" ] && { what=$(grep -E '^[0-9]+ triggered|^nothing to do' "$mdir/$id.out" | tail -n 1) || true; }
		printf '== %s: ' "$id"
		if [ -z "$rc" ]; then
			printf 'no record of run %s for this series\n' "$run_id"
			nfail=$((nfail + 1)) failed+=("$id") events=1
			[ "$first_rc" != 0 ] || first_rc=4
			lines+=("$id: no record of run $run_id")
			continue
		fi
		if [ "$rc" = 0 ]; then
			nok=$((nok + 1))
			printf '%s\n' "${what:-done}"
		else
			nfail=$((nfail + 1)) failed+=("$id") events=1
			[ "$rc" = 7 ] && npart=$((npart + 1))
			[ "$first_rc" != 0 ] || first_rc=$rc
			[ "$rc" = 7 ] && printf 'partly failed (exit 7): %s\n' "${what:-}" ||
				printf 'FAILED (exit %s): %s\n' "$rc" "$(flat "$(multi_why "$mdir/$id.err")" 300)"
		fi
		if [[ $what =~ ^([0-9]+)\ triggered.*\ ([0-9]+)\ deployed ]]; then
			n_trig=$((n_trig + BASH_REMATCH[1])) n_dep=$((n_dep + BASH_REMATCH[2]))
			[ "${BASH_REMATCH[1]}" -gt 0 ] && events=1
		fi
		if [ "$rc" != 0 ] && [ "$rc" != 7 ]; then
			lines+=("$id: exit $rc: $(multi_why "$mdir/$id.err")")
		else
			lines+=("$id: exit $rc: ${what:-done}")
		fi
		[ -f "$mdir/$id.out" ] && grep -vE '^[0-9]+ triggered|^nothing to do|^envelopes' "$mdir/$id.out" | sed 's/^/   /' || true
	done
	local sum="${#ids[@]} series: $n_trig horizons triggered, $n_dep deployed, $((nfail - npart)) series failed, $npart partly"
	printf '%s\n' "$sum"
	[ $dry = 1 ] && printf '(dry run: nothing deployed or recorded, no mail sent; output in %s)\n' "$mdir"
	[ $dry = 1 ] || printf 'outputs: %s\n' "$mdir"
	ops_event "$([ $nfail -gt 0 ] && echo warning || echo info)" "run $run_id: done: $sum"
	local final=0
	if [ $nfail -gt 0 ]; then
		final=7
		[ $nok -eq 0 ] && [ $nfail -eq ${#ids[@]} ] && [ "$first_rc" != 7 ] && final=$first_rc
	fi
	[ $dry = 1 ] && return $final
	multi_report || true
	if [ -n "$cfg_MAIL_TO" ] && [ $events = 1 ]; then
		local body subject m=${cfg_MODEL%/}
		[[ $m == */* ]] && m=$(basename -- "$m")
		body=$(mktemp_or_die "${TMPDIR:-/tmp}/chronopt-mail.XXXXXX")
		tmpfiles+=("$body")
		subject="chronopt ${#ids[@]} series (model $(flat "$m" 60)): $n_dep deployed"
		[ $nfail -gt 0 ] && subject="$subject, $nfail series failed or partly failed ($(flat "${failed[*]}" 80))"
		{
			printf 'chronopt run %s: %s\n\n' "$run_id" "$sum"
			for a in "${lines[@]}"; do printf '%s\n' "$(flat "$a" 600)"; done
			for id in "${ids[@]}"; do
				printf '\n======== series %s\n' "$id"
				local rd
				rd=$(idpath "$cfg_RUN_DIR" "$id")/$run_id
				if [ -s "$rd/40-history.ndjson" ]; then
					"$cfg_BIN/opt-report" --format text <"$rd/40-history.ndjson" 2>/dev/null ||
						printf '(the text report could not be made)\n'
				elif [ -s "$mdir/$id.err" ]; then
					printf 'the run of this series failed:\n'
					tail -n 8 "$mdir/$id.err" | while IFS= read -r a; do printf '  %s\n' "$(flat "$a" 400)"; done
				else
					printf 'no run directory %s\n' "$(flat "$rd")"
				fi
			done
			printf '\nreport: %s\noutputs: %s\n' "$(flat "$cfg_REPORT")" "$(flat "$mdir")"
		} >"$body"
		mail_send "$subject" "$body" || true
	fi
	return $final
}

# multi_report: one dashboard of every series of the CSV that has a
# history (and of those just run).
multi_report() {
	local id h
	local -a pairs=()
	for id in "${csv_ids[@]}"; do
		h=$(idpath "$cfg_HISTORY" "$id")
		case " ${ids[*]} " in
		*" $id "*) ;;
		*) [ -f "$h" ] || continue ;;
		esac
		pairs+=(--history "$h" --config-dir "$(idpath "$cfg_CONFIG_DIR" "$id")")
	done
	[ ${#pairs[@]} -gt 0 ] || return 0
	mkdirs "$(dirname "$cfg_REPORT")"
	"$cfg_BIN/opt-report" "${pairs[@]}" --html "$cfg_REPORT" || {
		warn "warning: the report '$cfg_REPORT' could not be written"
		return 1
	}
}

multi_report_cmd() {
	[ $# -eq 0 ] || die 2 "report: unexpected argument '$(flat "$1" 80)'"
	tool opt-report >/dev/null
	multi_ids
	multi_report || exit 4
	printf 'report: %s\n' "$cfg_REPORT"
}

# summary RUN_ID: what `run` prints, reports and mails at its end, for a
# run whose series ran elsewhere (each by `--ids ID --mail-to '' run`).
multi_summary_cmd() {
	[ $# -eq 1 ] || die 2 "summary: which run? (pipeline.sh summary RUN_ID)"
	name_ok "$1" || die 2 "run id '$(flat "$1" 40)' is not a plain name"
	tool opt-report >/dev/null
	command -v jq >/dev/null || die 4 "jq not found: run scripts/install-deps"
	multi_ids
	mkdirs "$ws_root/runs/$1"
	multi_summary "$1" "$ws_root/runs/$1" 0
}

# status for every series: text, a header per series; --json one object
# {"workspace","series":[<status --json of each>]}.
multi_status() {
	local json=0 id rc=0 out
	while [ $# -gt 0 ]; do
		case "$1" in
		--json) json=1 ;;
		*) die 2 "status: unexpected argument '$(flat "$1" 80)'" ;;
		esac
		shift
	done
	multi_ids
	if [ $json = 1 ]; then
		command -v jq >/dev/null || die 4 "jq not found: run scripts/install-deps"
		out=$(mktemp_or_die "${TMPDIR:-/tmp}/chronopt-status.XXXXXX")
		tmpfiles+=("$out")
		for id in "${ids[@]}"; do
			child_args "$id"
			"$self" "${ca[@]}" status --json >>"$out" || return $?
		done
		jq -c -s --arg ws "$ws_root" '{workspace: $ws, series: .}' "$out"
		return
	fi
	local first=1
	for id in "${ids[@]}"; do
		[ $first = 1 ] || printf '\n'
		first=0
		printf '== series %s\n' "$id"
		child_args "$id"
		"$self" "${ca[@]}" status || rc=$?
	done
	return $rc
}

# multi_each CMD ARGS: CMD for every series in turn, a header before each;
# the first failure's exit code, after all.
multi_each() {
	local cmd=$1 id rc=0 r first=1
	shift
	multi_ids
	for id in "${ids[@]}"; do
		[ $first = 1 ] || printf '\n'
		first=0
		printf '== series %s\n' "$id"
		child_args "$id"
		r=0
		"$self" "${ca[@]}" "$cmd" "$@" || r=$?
		[ $rc -ne 0 ] || rc=$r
	done
	return $rc
}

# multi_one CMD ARGS: CMD for the one series --ids names.
multi_one() {
	local cmd=$1
	shift
	multi_ids
	[ ${#ids[@]} -eq 1 ] || die 2 "$cmd: one series at a time: give --ids ID"
	child_args "${ids[0]}"
	"$self" "${ca[@]}" "$cmd" "$@"
}

multi_check() {
	[ $# -eq 0 ] || die 2 "check: unexpected argument '$(flat "$1" 80)'"
	ops_require_model
	multi_ids
	local id
	for id in "${ids[@]}"; do
		child_args "$id"
		"$self" "${ca[@]}" check >/dev/null || exit $?
	done
	printf 'series      %s\n' "$cfg_SERIES"
	printf 'series ids  %s\n' "$(flat "${ids[*]}" 400)"
	printf 'model       %s\n' "$cfg_MODEL"
	printf 'settings    %s\n' "$cfg_CONFIG"
	printf 'configs     %s\n' "$cfg_CONFIG_DIR"
	printf 'history     %s\n' "$cfg_HISTORY"
	printf 'runs        %s\n' "$cfg_RUN_DIR"
	printf 'logs        %s\n' "$cfg_LOG_DIR"
	printf 'report      %s (all series)\n' "$cfg_REPORT"
	printf 'tools       %s\n' "$cfg_BIN"
	printf 'mail to     %s\n' "${cfg_MAIL_TO:-(nobody)}"
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
		--syslog) opt[SYSLOG]=1 ;;
		--no-cache) opt[CACHE]=off ;;
		--env | --series | --series-id | --ids | --model | --config | --config-dir | --history | --run-dir | \
			--log-dir | --report | --mail-to | --mail-command | --bin | --seed | --jobs | --log | --forecast-log | \
			--cache | --cache-max-mb)
			[ $# -ge 2 ] || die 2 "option '$1' needs a value"
			case "$1" in
			--env) env_file=$2 ;;
			--series) opt[SERIES]=$2 ;;
			--series-id) opt[SERIES_ID]=$2 ;;
			--ids) opt[IDS]=$2 ;;
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
			--log) opt[LOG_FILE]=$2 ;;
			--forecast-log) opt[FORECAST_LOG]=$2 ;;
			--cache) opt[CACHE]=$2 ;;
			--cache-max-mb) opt[CACHE_MAX_MB]=$2 ;;
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
	[ -n "$cmd" ] || die 2 "missing command: run, status, history, rollback, report, demo, check, watch, replay, ids, summary or cache (try --help)"
	if [ -z "$env_file" ]; then
		if [ -n "${CHRONOPT_ENV:-}" ]; then
			env_file=$CHRONOPT_ENV
		elif [ -f ./chronopt.env ]; then
			env_file=./chronopt.env
		fi
	fi
	[ -n "$env_file" ] && read_env_file "$env_file"
	resolve_config
	ops_settings
	multi_settings
	if [ "$multi" = 1 ]; then
		case "$cmd" in
		run) multi_run "${rest[@]+"${rest[@]}"}" ;;
		status) multi_status "${rest[@]+"${rest[@]}"}" ;;
		history) multi_each history "${rest[@]+"${rest[@]}"}" ;;
		rollback) multi_one rollback "${rest[@]+"${rest[@]}"}" ;;
		report) multi_report_cmd "${rest[@]+"${rest[@]}"}" ;;
		check) multi_check "${rest[@]+"${rest[@]}"}" ;;
		watch) multi_each watch "${rest[@]+"${rest[@]}"}" ;;
		ids) multi_list "${rest[@]+"${rest[@]}"}" ;;
		summary) multi_summary_cmd "${rest[@]+"${rest[@]}"}" ;;
		demo | replay) die 2 "$cmd runs one series: give --series-id ID instead of --ids" ;;
		*) die 2 "unknown command '$(flat "$cmd" 40)' (try --help)" ;;
		esac
		return
	fi
	case "$cmd" in
	ids) multi_list "${rest[@]+"${rest[@]}"}" ;;
	summary) die 2 "summary: only a workspace of many series (--ids) has run summaries" ;;
	run) cmd_run "${rest[@]+"${rest[@]}"}" ;;
	status) cmd_status "${rest[@]+"${rest[@]}"}" ;;
	history) cmd_history "${rest[@]+"${rest[@]}"}" ;;
	rollback) cmd_rollback "${rest[@]+"${rest[@]}"}" ;;
	report) cmd_report "${rest[@]+"${rest[@]}"}" ;;
	demo) cmd_demo "${rest[@]+"${rest[@]}"}" ;;
	check) cmd_check "${rest[@]+"${rest[@]}"}" ;;
	watch) cmd_watch "${rest[@]+"${rest[@]}"}" ;;
	replay) cmd_replay "${rest[@]+"${rest[@]}"}" ;;
	cache) cmd_cache "${rest[@]+"${rest[@]}"}" ;;
	*) die 2 "unknown command '$(flat "$cmd" 40)' (try --help)" ;;
	esac
}

main "$@"
