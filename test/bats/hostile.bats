#!/usr/bin/env bats
# hostile.bats — hostile input, case by case: envelopes given to every stage,
# deployed configs, CSVs, checkpoints and history files. Every case asserts
# the exit code, the one-line message (exactly) and that nothing was
# written: standard output empty and no file under the working directory
# (configs, history, .git) created, removed or modified. The inputs are printf formats
# (\\ is one backslash, \NNN an octal byte), so raw control bytes, NUL
# and bytes that are not UTF-8 stand in the table as what they are.

load deploy_helper

setup() {
	W=$BATS_TEST_TMPDIR/w
	mkdir -p "$W/configs"
	cd "$W"
	printf '%s\n' '{"schema":"chronopt-history/1","horizon":"7d","optimization_date":"2026-11-01T02:00:00Z","outcome":"not_triggered"}' >history.jsonl
	export CHRONOPT_HISTORY=$W/history.jsonl CHRONOPT_CONFIG_DIR=$W/configs
}

# Every entry under $W with its type and mode, and for files and links
# their size, inode and modification time to the nanosecond: any write,
# rename over, creation or removal shows (cheaper than hashing, which
# matters at 300 cases). A directory's own time is left out: a lock file
# made and removed again leaves nothing behind.
snapshot() {
	find "$W" \( -type d -printf '%P d %m\n' \) -o -printf '%P %y %s %i %m %T@\n' | LC_ALL=C sort
}

# refuse CODE MESSAGE CMD...: CMD with $BATS_TEST_TMPDIR/in on standard
# input exits CODE, prints MESSAGE as its only line on standard error,
# nothing on standard output, and leaves $W as it was.
refuse() {
	local code=$1 msg=$2 before
	shift 2
	before=$(snapshot)
	run --separate-stderr "$@" <"$BATS_TEST_TMPDIR/in"
	[ "$status" -eq "$code" ] || { echo "exit $status, expected $code: $stderr"; return 1; }
	[ "$stderr" = "$msg" ] || { printf 'stderr:   %s\nexpected: %s\n' "$stderr" "$msg"; return 1; }
	[ "${#stderr_lines[@]}" -eq 1 ]
	[ -z "$output" ] || { echo "wrote: $output"; return 1; }
	[ "$(snapshot)" = "$before" ] || { echo "the working directory changed"; return 1; }
}

# ------------------------------------------------------------- envelopes
# ENV[name] is one input line; EMSG[name] what every stage says about it
# after "<tool>: <stdin>:1: ".
declare -gA ENV EMSG

ENV[duplicate_top_key]='{"schema":"chronopt/1","run_id":"r","seed":1,"seed":2,"horizon":{"name":"7d","steps":7}}'
EMSG[duplicate_top_key]="duplicate key 'seed'"
ENV[duplicate_horizon_key]='{"schema":"chronopt/1","run_id":"r","seed":1,"horizon":{"name":"7d","steps":7,"name":"15d"}}'
EMSG[duplicate_horizon_key]="duplicate key 'name' in 'horizon'"
ENV[duplicate_section_key]='{"schema":"chronopt/1","run_id":"r","seed":1,"horizon":{"name":"7d","steps":7},"validation":{"status":"done","approved":false,"approved":true}}'
EMSG[duplicate_section_key]="duplicate key 'approved' in 'validation'"
ENV[duplicate_horizon_section]='{"schema":"chronopt/1","run_id":"r","seed":1,"horizon":{"name":"7d","steps":7},"horizon":{"name":"7d","steps":7}}'
EMSG[duplicate_horizon_section]="duplicate key 'horizon'"
ENV[nul_escape_in_name]='{"schema":"chronopt/1","run_id":"r","seed":1,"horizon":{"name":"7d\\u0000../x","steps":7}}'
EMSG[nul_escape_in_name]='string holds \u0000 (NUL) at column 67'
ENV[nul_escape_in_key]='{"schema":"chronopt/1","run_id":"r","seed":1,"horizon":{"name":"7d","steps":7},"ser\\u0000ies":{}}'
EMSG[nul_escape_in_key]='string holds \u0000 (NUL) at column 84'
ENV[raw_nul_byte]='{"schema":"chronopt/1","run_id":"r","seed":1,"horizon":{"name":"7d","steps":7},"x":"a\000b"}'
EMSG[raw_nul_byte]='NUL byte in envelope line'
ENV[raw_control_in_string]='{"schema":"chronopt/1","seed":1,"run_id":"r\001","horizon":{"name":"7d","steps":7}}'
EMSG[raw_control_in_string]='raw control character 0x01 in a string at column 44'
ENV[raw_tab_in_string]='{"schema":"chronopt/1","run_id":"r","seed":1,"horizon":{"name":"7d","steps":7},"trigger":{"status":"done","summary":"a\tb"}}'
EMSG[raw_tab_in_string]='raw control character 0x09 in a string at column 119'
ENV[raw_escape_sequence]='{"schema":"chronopt/1","run_id":"r","seed":1,"horizon":{"name":"7d","steps":7},"x":"\033[31mred"}'
EMSG[raw_escape_sequence]='raw control character 0x1b in a string at column 85'
ENV[raw_control_between_tokens]='{"schema":"chronopt/1","run_id":"r","seed":1,\013"horizon":{"name":"7d","steps":7}}'
EMSG[raw_control_between_tokens]='raw control character 0x0b at column 46'
ENV[not_utf8]='{"schema":"chronopt/1","run_id":"r","seed":1,"horizon":{"name":"7d","steps":7},"x":"caf\351"}'
EMSG[not_utf8]='not UTF-8 at column 88'
ENV[overlong_utf8]='{"schema":"chronopt/1","run_id":"r","seed":1,"horizon":{"name":"7d","steps":7},"x":"\300\257"}'
EMSG[overlong_utf8]='not UTF-8 at column 85'
ENV[seed_past_2_64]='{"schema":"chronopt/1","run_id":"r","seed":18446744073709551617,"horizon":{"name":"7d","steps":7}}'
EMSG[seed_past_2_64]='envelope "seed" must be an integer in 0..999999999999999'
ENV[seed_too_large]='{"schema":"chronopt/1","run_id":"r","seed":1e15,"horizon":{"name":"7d","steps":7}}'
EMSG[seed_too_large]='envelope "seed" must be an integer in 0..999999999999999'
ENV[seed_negative]='{"schema":"chronopt/1","run_id":"r","seed":-1,"horizon":{"name":"7d","steps":7}}'
EMSG[seed_negative]='envelope "seed" must be an integer in 0..999999999999999'
ENV[seed_string]='{"schema":"chronopt/1","run_id":"r","seed":"42","horizon":{"name":"7d","steps":7}}'
EMSG[seed_string]='envelope "seed" must be an integer in 0..999999999999999'
ENV[seed_missing]='{"schema":"chronopt/1","run_id":"r","horizon":{"name":"7d","steps":7}}'
EMSG[seed_missing]='envelope "seed" must be an integer in 0..999999999999999'
ENV[steps_infinite]='{"schema":"chronopt/1","run_id":"r","seed":1,"horizon":{"name":"7d","steps":1e999}}'
EMSG[steps_infinite]="number '1e999' at column 77 does not fit a double"
ENV[steps_zero]='{"schema":"chronopt/1","run_id":"r","seed":1,"horizon":{"name":"7d","steps":0}}'
EMSG[steps_zero]="horizon '7d': \"steps\" must be an integer in 1..10000"
ENV[horizon_path]='{"schema":"chronopt/1","run_id":"r","seed":1,"horizon":{"name":"../../etc/x","steps":7}}'
EMSG[horizon_path]="horizon name '../../etc/x' is not a plain name ([A-Za-z0-9_-], 1-32 chars)"
ENV[horizon_long_name]='{"schema":"chronopt/1","run_id":"r","seed":1,"horizon":{"name":"hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh","steps":7}}'
EMSG[horizon_long_name]="horizon name 'hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh...' is not a plain name ([A-Za-z0-9_-], 1-32 chars)"
ENV[run_id_missing]='{"schema":"chronopt/1","seed":1,"horizon":{"name":"7d","steps":7}}'
EMSG[run_id_missing]='envelope "run_id" must be a non-empty string of at most 4096 bytes'
ENV[run_id_number]='{"schema":"chronopt/1","run_id":7,"seed":1,"horizon":{"name":"7d","steps":7}}'
EMSG[run_id_number]='envelope "run_id" must be a non-empty string of at most 4096 bytes'
ENV[series_wrong_type]='{"schema":"chronopt/1","run_id":"r","seed":1,"horizon":{"name":"7d","steps":7},"series":"s.csv"}'
EMSG[series_wrong_type]='envelope "series" must be an object'
ENV[series_length_string]='{"schema":"chronopt/1","run_id":"r","seed":1,"horizon":{"name":"7d","steps":7},"series":{"path":"s.csv","id":"X","last_date":"2026-01-02","length":"30"}}'
EMSG[series_length_string]='envelope "series"."length" must be an integer in 1..2147483647'
ENV[series_bad_date]='{"schema":"chronopt/1","run_id":"r","seed":1,"horizon":{"name":"7d","steps":7},"series":{"path":"s.csv","id":"X","last_date":"2026-02-30","length":30}}'
EMSG[series_bad_date]='envelope "series"."last_date" must be a date (YYYY-MM-DD)'
ENV[series_missing_unknown]='{"schema":"chronopt/1","run_id":"r","seed":1,"horizon":{"name":"7d","steps":7},"series":{"path":"s.csv","id":"X","last_date":"2026-01-02","length":30,"missing":"ignore"}}'
EMSG[series_missing_unknown]='envelope "series"."missing" must be "error", "nan" or "drop"'
ENV[model_wrong_type]='{"schema":"chronopt/1","run_id":"r","seed":1,"horizon":{"name":"7d","steps":7},"series":{"path":"s.csv","id":"X","last_date":"2026-01-02","length":30},"model":"random_walk"}'
EMSG[model_wrong_type]='envelope "model" must be an object'
ENV[section_not_object]='{"schema":"chronopt/1","run_id":"r","seed":1,"horizon":{"name":"7d","steps":7},"trigger":[]}'
EMSG[section_not_object]='envelope "trigger" must be an object'
ENV[status_unknown]='{"schema":"chronopt/1","run_id":"r","seed":1,"horizon":{"name":"7d","steps":7},"search":{"status":"maybe"}}'
EMSG[status_unknown]='envelope "search"."status" must be done, skipped, partial or error'
ENV[should_optimize_string]='{"schema":"chronopt/1","run_id":"r","seed":1,"horizon":{"name":"7d","steps":7},"trigger":{"status":"done","should_optimize":"false"}}'
EMSG[should_optimize_string]='envelope "trigger"."should_optimize" must be true or false'
ENV[schema_escape]='{"schema":"chronopt/1\\u001b[2J","run_id":"r","seed":1,"horizon":{"name":"7d","steps":7}}'
EMSG[schema_escape]="unsupported schema 'chronopt/1\\x1b[2J' (expected 'chronopt/1')"

# env_case "TOOL [ARGS]" NAME
env_case() {
	printf "${ENV[$2]}\n" >"$BATS_TEST_TMPDIR/in"
	# shellcheck disable=SC2086
	refuse 3 "${1%% *}: <stdin>:1: ${EMSG[$2]}" $1
}

STAGES=("opt-trigger" "opt-search" "opt-search --plan" "opt-validate" "opt-deploy deploy" "opt-history record" "opt-report --format text")

# env_cases NAME: the line to every stage in turn
env_cases() {
	local s
	for s in "${STAGES[@]}"; do
		env_case "$s" "$1" || return 1
	done
}

@test "every stage: a duplicate key at the top level is refused, naming it" { env_cases duplicate_top_key; }
@test "every stage: a duplicate key inside horizon is refused, naming key and section" { env_cases duplicate_horizon_key; }
@test "every stage: a duplicate approved in validation is refused (which one would win?)" { env_cases duplicate_section_key; }
@test "every stage: two horizon sections are refused" { env_cases duplicate_horizon_section; }
@test "every stage: a decoded NUL in the horizon name is refused" { env_cases nul_escape_in_name; }
@test "every stage: a decoded NUL in a key is refused" { env_cases nul_escape_in_key; }
@test "every stage: a raw NUL byte is refused" { env_cases raw_nul_byte; }
@test "every stage: a raw control character in a string is refused" { env_cases raw_control_in_string; }
@test "every stage: a raw tab inside a string is refused" { env_cases raw_tab_in_string; }
@test "every stage: a raw terminal escape in a string is refused" { env_cases raw_escape_sequence; }
@test "every stage: a raw vertical tab between tokens is refused" { env_cases raw_control_between_tokens; }
@test "every stage: a Latin-1 byte is refused" { env_cases not_utf8; }
@test "every stage: an overlong UTF-8 form is refused" { env_cases overlong_utf8; }
@test "every stage: a seed past 2^64 is refused" { env_cases seed_past_2_64; }
@test "every stage: a seed past 15 digits is refused" { env_cases seed_too_large; }
@test "every stage: a negative seed is refused" { env_cases seed_negative; }
@test "every stage: a seed given as a string is refused" { env_cases seed_string; }
@test "every stage: an envelope without a seed is refused" { env_cases seed_missing; }
@test "every stage: steps of 1e999 is refused" { env_cases steps_infinite; }
@test "every stage: steps of 0 is refused" { env_cases steps_zero; }
@test "every stage: a horizon name that is a path is refused" { env_cases horizon_path; }
@test "every stage: a 300-byte horizon name is quoted only in part" { env_cases horizon_long_name; }
@test "every stage: an envelope without a run_id is refused" { env_cases run_id_missing; }
@test "every stage: a run_id that is a number is refused" { env_cases run_id_number; }
@test "every stage: series of the wrong type is refused" { env_cases series_wrong_type; }
@test "every stage: a series length given as a string is refused" { env_cases series_length_string; }
@test "every stage: a series last_date that is no calendar date is refused" { env_cases series_bad_date; }
@test "every stage: a series.missing rule that does not exist is refused" { env_cases series_missing_unknown; }
@test "every stage: a model that is not an object is refused" { env_cases model_wrong_type; }
@test "every stage: a stage section that is an array is refused" { env_cases section_not_object; }
@test "every stage: a section status outside done/skipped/partial/error is refused" { env_cases status_unknown; }
@test "every stage: should_optimize given as a string is refused" { env_cases should_optimize_string; }
@test "every stage: an unknown schema is quoted sanitized" { env_cases schema_escape; }

# ------------------------------------------------------- deployed configs
# CFG[name] is configs/7d.json when a valid approved envelope comes in;
# CMSG[name] what is wrong with it.
declare -gA CFG CMSG

CFG[duplicate_key]='{"horizon":"7d","context_length":180,"num_samples":100,"temperature":1.0,"top_k":0,"top_p":1.0,"validation_rmse":9,"num_samples":5}'
CMSG[duplicate_key]="duplicate key 'num_samples'"
CFG[duplicate_nested_key]='{"horizon":"7d","context_length":180,"num_samples":100,"temperature":1.0,"top_k":0,"top_p":1.0,"validation_rmse":9,"model":{"dir":"random_walk","dir":"/tmp/evil"}}'
CMSG[duplicate_nested_key]="duplicate key 'dir' in 'model'"
CFG[nul_escape]='{"horizon":"7d\\u0000x","context_length":180,"num_samples":100,"temperature":1.0,"top_k":0,"top_p":1.0,"validation_rmse":9}'
CMSG[nul_escape]='string holds \u0000 (NUL) at column 15'
CFG[raw_control]='{"horizon":"7d","context_length":180,"num_samples":100,"temperature":1.0,"top_k":0,"top_p":1.0,"validation_rmse":9,"note":"a\001b"}'
CMSG[raw_control]='raw control character 0x01 in a string at column 125'
CFG[not_utf8]='{"horizon":"7d","context_length":180,"num_samples":100,"temperature":1.0,"top_k":0,"top_p":1.0,"validation_rmse":9,"note":"\377"}'
CMSG[not_utf8]='not UTF-8 at column 124'
CFG[huge_number]='{"horizon":"7d","context_length":1e999,"num_samples":100,"temperature":1.0,"top_k":0,"top_p":1.0,"validation_rmse":9}'
CMSG[huge_number]="number '1e999' at column 34 does not fit a double"
CFG[num_samples_huge]='{"horizon":"7d","context_length":180,"num_samples":90071992547409930,"temperature":1.0,"top_k":0,"top_p":1.0,"validation_rmse":9}'
CMSG[num_samples_huge]="'num_samples' must be an integer in [1, 100000]"
CFG[context_length_string]='{"horizon":"7d","context_length":"180","num_samples":100,"temperature":1.0,"top_k":0,"top_p":1.0,"validation_rmse":9}'
CMSG[context_length_string]="'context_length' must be an integer in [1, 100000]"
CFG[top_p_zero]='{"horizon":"7d","context_length":180,"num_samples":100,"temperature":1.0,"top_k":0,"top_p":0,"validation_rmse":9}'
CMSG[top_p_zero]="'top_p' must be a number in (0, 1]"
CFG[temperature_negative]='{"horizon":"7d","context_length":180,"num_samples":100,"temperature":-1,"top_k":0,"top_p":1.0,"validation_rmse":9}'
CMSG[temperature_negative]="'temperature' must be a number in (0, 100]"
CFG[top_k_fraction]='{"horizon":"7d","context_length":180,"num_samples":100,"temperature":1.0,"top_k":1.5,"top_p":1.0,"validation_rmse":9}'
CMSG[top_k_fraction]="'top_k' must be an integer in [0, 100000]"
CFG[num_samples_zero]='{"horizon":"7d","context_length":180,"num_samples":0,"temperature":1.0,"top_k":0,"top_p":1.0,"validation_rmse":9}'
CMSG[num_samples_zero]="'num_samples' must be an integer in [1, 100000]"
CFG[other_horizon]='{"horizon":"15d","context_length":180,"num_samples":100,"temperature":1.0,"top_k":0,"top_p":1.0,"validation_rmse":9}'
CMSG[other_horizon]="config is for horizon '15d', not '7d'"
CFG[no_horizon]='{"context_length":180,"num_samples":100,"temperature":1.0,"top_k":0,"top_p":1.0,"validation_rmse":9}'
CMSG[no_horizon]='"horizon" is missing'
CFG[not_object]='[{"horizon":"7d","context_length":180,"num_samples":100,"temperature":1.0,"top_k":0,"top_p":1.0,"validation_rmse":9}]'
CMSG[not_object]='config is not a JSON object'
CFG[two_values]='{"horizon":"7d","context_length":180,"num_samples":100,"temperature":1.0,"top_k":0,"top_p":1.0,"validation_rmse":9} {}'
CMSG[two_values]='more than one JSON value (column 117)'
CFG[truncated]='{"horizon":"7d","context_length":180,"num_samples":100,"temperature":1.0,"top_k":0,"top_p":1.0,"validation_rmse":9'
CMSG[truncated]='invalid JSON near column 115'

# cfg_case deploy|rollback|watch NAME
cfg_case() {
	printf "${CFG[$2]}\n" >"$W/configs/7d.json"
	local p="opt-deploy: configs/7d.json: ${CMSG[$2]}"
	case $1 in
	deploy)
		envelope 1 180 9 >"$BATS_TEST_TMPDIR/in"
		refuse 3 "opt-deploy: <stdin>:1: horizon '7d': configs/7d.json: ${CMSG[$2]}; fix it or use 'opt-deploy rollback 7d --to ...'" \
			opt-deploy deploy --config-dir configs ;;
	rollback)
		: >"$BATS_TEST_TMPDIR/in"
		refuse 3 "$p; name the version to restore with --to" opt-deploy rollback 7d --config-dir configs ;;
	watch)
		: >"$BATS_TEST_TMPDIR/in"
		refuse 3 "$p" opt-deploy watch 7d --log /dev/null --config-dir configs ;;
	esac
}

@test "opt-deploy deploy, rollback and watch: a deployed config with a duplicate key is refused" { cfg_case deploy duplicate_key && cfg_case rollback duplicate_key && cfg_case watch duplicate_key; }
@test "opt-deploy deploy, rollback and watch: a deployed config with a duplicate key inside model is refused" { cfg_case deploy duplicate_nested_key && cfg_case rollback duplicate_nested_key && cfg_case watch duplicate_nested_key; }
@test "opt-deploy deploy, rollback and watch: a deployed config with a decoded NUL in the horizon is refused" { cfg_case deploy nul_escape && cfg_case rollback nul_escape && cfg_case watch nul_escape; }
@test "opt-deploy deploy, rollback and watch: a deployed config with a raw control character is refused" { cfg_case deploy raw_control && cfg_case rollback raw_control && cfg_case watch raw_control; }
@test "opt-deploy deploy, rollback and watch: a deployed config with a byte that is not UTF-8 is refused" { cfg_case deploy not_utf8 && cfg_case rollback not_utf8 && cfg_case watch not_utf8; }
@test "opt-deploy deploy, rollback and watch: a deployed config with a number that does not fit a double is refused" { cfg_case deploy huge_number && cfg_case rollback huge_number && cfg_case watch huge_number; }
@test "opt-deploy deploy, rollback and watch: a deployed config with num_samples past 2^56 is refused" { cfg_case deploy num_samples_huge && cfg_case rollback num_samples_huge && cfg_case watch num_samples_huge; }
@test "opt-deploy deploy, rollback and watch: a deployed config with context_length given as a string is refused" { cfg_case deploy context_length_string && cfg_case rollback context_length_string && cfg_case watch context_length_string; }
@test "opt-deploy deploy, rollback and watch: a deployed config with top_p 0 is refused" { cfg_case deploy top_p_zero && cfg_case rollback top_p_zero && cfg_case watch top_p_zero; }
@test "opt-deploy deploy, rollback and watch: a deployed config with a negative temperature is refused" { cfg_case deploy temperature_negative && cfg_case rollback temperature_negative && cfg_case watch temperature_negative; }
@test "opt-deploy deploy, rollback and watch: a deployed config with a fractional top_k is refused" { cfg_case deploy top_k_fraction && cfg_case rollback top_k_fraction && cfg_case watch top_k_fraction; }
@test "opt-deploy deploy, rollback and watch: a deployed config with num_samples 0 is refused" { cfg_case deploy num_samples_zero && cfg_case rollback num_samples_zero && cfg_case watch num_samples_zero; }
@test "opt-deploy deploy, rollback and watch: a deployed config with a config of another horizon is refused" { cfg_case deploy other_horizon && cfg_case rollback other_horizon && cfg_case watch other_horizon; }
@test "opt-deploy deploy, rollback and watch: a deployed config with no horizon is refused" { cfg_case deploy no_horizon && cfg_case rollback no_horizon && cfg_case watch no_horizon; }
@test "opt-deploy deploy, rollback and watch: a deployed config with an array, not an object is refused" { cfg_case deploy not_object && cfg_case rollback not_object && cfg_case watch not_object; }
@test "opt-deploy deploy, rollback and watch: a deployed config with two JSON values is refused" { cfg_case deploy two_values && cfg_case rollback two_values && cfg_case watch two_values; }
@test "opt-deploy deploy, rollback and watch: a deployed config with truncated JSON is refused" { cfg_case deploy truncated && cfg_case rollback truncated && cfg_case watch truncated; }

@test "opt-deploy deploy, rollback and watch: a deployed config with a raw NUL byte is refused" {
	printf '{"horizon":"7d"}\000\n' >"$W/configs/7d.json"
	envelope 1 180 9 >"$BATS_TEST_TMPDIR/in"
	refuse 3 "opt-deploy: <stdin>:1: horizon '7d': 'configs/7d.json' holds a NUL byte" opt-deploy deploy --config-dir configs
	: >"$BATS_TEST_TMPDIR/in"
	refuse 3 "opt-deploy: 'configs/7d.json' holds a NUL byte" opt-deploy rollback 7d --config-dir configs
	refuse 3 "opt-deploy: 'configs/7d.json' holds a NUL byte" opt-deploy watch 7d --log /dev/null --config-dir configs
}

@test "opt-deploy deploy: a corrupt config in a directory with no repository yet creates none" {
	printf '{"horizon":"7d","horizon":"7d"}\n' >"$W/configs/7d.json"
	envelope 1 180 9 >"$BATS_TEST_TMPDIR/in"
	refuse 3 "opt-deploy: <stdin>:1: horizon '7d': configs/7d.json: duplicate key 'horizon'; fix it or use 'opt-deploy rollback 7d --to ...'" \
		opt-deploy deploy --config-dir configs
	[ ! -e "$W/configs/.git" ]
}

@test "opt-deploy deploy: validation reasons that are not strings are refused before anything is written" {
	envelope 1 180 9 | jq -c '.validation.reasons = [1, {"a": 2}]' >"$BATS_TEST_TMPDIR/in"
	refuse 3 "opt-deploy: <stdin>:1: horizon '7d': \"validation\".\"reasons\" must be an array of strings" \
		opt-deploy deploy --config-dir configs
}

@test "opt-deploy deploy: a candidate whose setting is a string is refused before anything is written" {
	envelope 1 180 9 | jq -c '.search.candidate.context_length = "180"' >"$BATS_TEST_TMPDIR/in"
	refuse 3 "opt-deploy: <stdin>:1: horizon '7d': candidate for '7d': 'context_length' must be an integer in [1, 100000]" \
		opt-deploy deploy --config-dir configs
}


# ------------------------------------------------------------------ CSVs
# CSV[name] is s.csv; CSVMSG[name] what every loader says, after
# "<tool>: s.csv:".
declare -gA CSV CSVMSG

CSV[id_latin1]='unique_id,ds,y\nUSD\351CLP,2003-01-01,718.6\n'
CSVMSG[id_latin1]='2: not UTF-8 at column 4'
CSV[id_overlong]='unique_id,ds,y\n\300\257etc,2003-01-01,718.6\n'
CSVMSG[id_overlong]='2: not UTF-8 at column 1'
CSV[id_surrogate]='unique_id,ds,y\nA\355\240\200,2003-01-01,718.6\n'
CSVMSG[id_surrogate]='2: not UTF-8 at column 2'
CSV[id_truncated_sequence]='unique_id,ds,y\nUSDCLP,2003-01-01,718.6\nUSDCLP,2003-01-02,718.7\nUSDCLP\342\202,2003-01-03,718.8\n'
CSVMSG[id_truncated_sequence]='4: not UTF-8 at column 7'
CSV[id_control]='unique_id,ds,y\nUSD\033[2JCLP,2003-01-01,718.6\n'
CSVMSG[id_control]='2: control character 0x1b at column 4'
CSV[id_tab]='unique_id,ds,y\nUSDCLP,2003-01-01,718.6\nUSDCLP,2003-01-02,718.7\nUSD\tCLP,2003-01-03,718.8\n'
CSVMSG[id_tab]='4: control character 0x09 at column 4'
CSV[header_latin1]='d\344te,value\n2003-01-01,718.6\n'
CSVMSG[header_latin1]='1: not UTF-8 at column 2'
CSV[two_column_control]='date,value\n2003-01-01,718.6\n2003-01-02,\001718.7\n'
CSVMSG[two_column_control]='3: control character 0x01 at column 12'
CSV[nul_in_id]='unique_id,ds,y\nUSD\000CLP,2003-01-01,718.6\n'
CSVMSG[nul_in_id]='2: line contains a NUL byte'
CSV[quoted_id_latin1]='unique_id,ds,y\n"USD\351",2003-01-01,718.6\n'
CSVMSG[quoted_id_latin1]='2: not UTF-8 at column 5'
CSV[value_overflow]='unique_id,ds,y\nUSDCLP,2003-01-01,718.6\nUSDCLP,2003-01-02,718.7\nUSDCLP,2003-01-03,1e999\n'
CSVMSG[value_overflow]="4: value '1e999' is out of range"
CSV[value_past_2_1024]='unique_id,ds,y\nUSDCLP,2003-01-01,718.6\nUSDCLP,2003-01-02,718.7\nUSDCLP,2003-01-03,-179769313486231590772930519078902473361797697894230657273430081157732675805500963132708477322407536021120113879871393357658789768814416622492847430639474124377767893424865485276302219601246094119453082952085005768838150682342462881473913110540827237163350510684586298239947245938479716304835356329624224137216\n'
CSVMSG[value_past_2_1024]="4: value '-179769313486231590772930519078902473361...' is out of range"

# csv_case "TOOL ARGS" NAME (the series is s.csv in $W)
csv_case() {
	printf "${CSV[$2]}" >"$W/s.csv"
	: >"$BATS_TEST_TMPDIR/in"
	# shellcheck disable=SC2086
	refuse 3 "${1%% *}: s.csv:${CSVMSG[$2]}" $1
}

@test "opt-trigger, opt-backtest, opt-forecast: a CSV with an id in Latin-1 is refused with its line" { csv_case "opt-trigger --series s.csv --horizon 7d" id_latin1 && csv_case "opt-backtest --series s.csv" id_latin1 && csv_case "opt-forecast --model random_walk --series s.csv" id_latin1; }
@test "opt-trigger, opt-backtest, opt-forecast: a CSV with an overlong UTF-8 form in an id is refused with its line" { csv_case "opt-trigger --series s.csv --horizon 7d" id_overlong && csv_case "opt-backtest --series s.csv" id_overlong && csv_case "opt-forecast --model random_walk --series s.csv" id_overlong; }
@test "opt-trigger, opt-backtest, opt-forecast: a CSV with a UTF-16 surrogate encoded in an id is refused with its line" { csv_case "opt-trigger --series s.csv --horizon 7d" id_surrogate && csv_case "opt-backtest --series s.csv" id_surrogate && csv_case "opt-forecast --model random_walk --series s.csv" id_surrogate; }
@test "opt-trigger, opt-backtest, opt-forecast: a CSV with an id cut inside a multi-byte character is refused with its line" { csv_case "opt-trigger --series s.csv --horizon 7d" id_truncated_sequence && csv_case "opt-backtest --series s.csv" id_truncated_sequence && csv_case "opt-forecast --model random_walk --series s.csv" id_truncated_sequence; }
@test "opt-trigger, opt-backtest, opt-forecast: a CSV with an id with a terminal escape is refused with its line" { csv_case "opt-trigger --series s.csv --horizon 7d" id_control && csv_case "opt-backtest --series s.csv" id_control && csv_case "opt-forecast --model random_walk --series s.csv" id_control; }
@test "opt-trigger, opt-backtest, opt-forecast: a CSV with an id with a raw tab is refused with its line" { csv_case "opt-trigger --series s.csv --horizon 7d" id_tab && csv_case "opt-backtest --series s.csv" id_tab && csv_case "opt-forecast --model random_walk --series s.csv" id_tab; }
@test "opt-trigger, opt-backtest, opt-forecast: a CSV with a header in Latin-1 is refused with its line" { csv_case "opt-trigger --series s.csv --horizon 7d" header_latin1 && csv_case "opt-backtest --series s.csv" header_latin1 && csv_case "opt-forecast --model random_walk --series s.csv" header_latin1; }
@test "opt-trigger, opt-backtest, opt-forecast: a CSV with a control character before a value is refused with its line" { csv_case "opt-trigger --series s.csv --horizon 7d" two_column_control && csv_case "opt-backtest --series s.csv" two_column_control && csv_case "opt-forecast --model random_walk --series s.csv" two_column_control; }
@test "opt-trigger, opt-backtest, opt-forecast: a CSV with a NUL byte in an id is refused with its line" { csv_case "opt-trigger --series s.csv --horizon 7d" nul_in_id && csv_case "opt-backtest --series s.csv" nul_in_id && csv_case "opt-forecast --model random_walk --series s.csv" nul_in_id; }
@test "opt-trigger, opt-backtest, opt-forecast: a CSV with a quoted id in Latin-1 is refused with its line" { csv_case "opt-trigger --series s.csv --horizon 7d" quoted_id_latin1 && csv_case "opt-backtest --series s.csv" quoted_id_latin1 && csv_case "opt-forecast --model random_walk --series s.csv" quoted_id_latin1; }
@test "opt-trigger, opt-backtest, opt-forecast: a CSV with a value that overflows a double is refused with its line" { csv_case "opt-trigger --series s.csv --horizon 7d" value_overflow && csv_case "opt-backtest --series s.csv" value_overflow && csv_case "opt-forecast --model random_walk --series s.csv" value_overflow; }
@test "opt-trigger, opt-backtest, opt-forecast: a CSV with a value with 309 digits is refused with its line" { csv_case "opt-trigger --series s.csv --horizon 7d" value_past_2_1024 && csv_case "opt-backtest --series s.csv" value_past_2_1024 && csv_case "opt-forecast --model random_walk --series s.csv" value_past_2_1024; }

# ----------------------------------------------------------- checkpoints
# a copy of the tiny test checkpoint in $W/m, then broken one way
ckpt_case() {
	cp -r "$CHRONOPT_ROOT/testdata/chronos/relu-tied" "$W/m"
	rm -f "$W/m/golden.json"
	printf "$1" >"$W/m/$2"
	: >"$BATS_TEST_TMPDIR/in"
	refuse 3 "opt-backtest: m/$2: $3" opt-backtest --series "$CHRONOPT_ROOT/testdata/usdclp_daily.csv" --model m --origins 2
}

@test "opt-backtest: a checkpoint config.json that is cut short is refused" {
	ckpt_case '{"d_model":' config.json 'not a valid JSON object'
}

@test "opt-backtest: a checkpoint config.json that is an array is refused" {
	ckpt_case '[{"d_model":8}]' config.json 'not a valid JSON object'
}

@test "opt-backtest: a safetensors header length of 2^64-1 is refused" {
	ckpt_case '\377\377\377\377\377\377\377\377{}' model.safetensors 'header length 18446744073709551615 runs past the end of the file (10 bytes)'
}

@test "opt-backtest: a safetensors file without the tensors is refused naming the first missing one" {
	ckpt_case '\002\000\000\000\000\000\000\000{}' model.safetensors "tensor 'shared.weight' is missing"
}

@test "opt-backtest: a checkpoint of another architecture is refused naming it" {
	ckpt_case '{"architectures":["LlamaForCausalLM"],"model_type":"llama"}' config.json \
		"architecture 'LlamaForCausalLM' is not a Chronos model (T5ForConditionalGeneration, ChronosBoltModelForForecasting, Chronos2Model)"
}

# ------------------------------------------------------------ history files
@test "opt-history show: history records that break the strict JSON rules are refused with their line" {
	: >"$BATS_TEST_TMPDIR/in"
	local r='"schema":"chronopt-history/1","horizon":"7d","optimization_date":"2026-11-01T02:00:00Z"'
	printf '{%s,"outcome":"error","outcome":"deployed"}\n' "$r" >h1.jsonl
	refuse 3 "opt-history: h1.jsonl:1: duplicate key 'outcome'" opt-history show --file h1.jsonl
	printf '{%s,"outcome":"error","x":"\\u0000"}\n' "$r" >h2.jsonl
	refuse 3 "opt-history: h2.jsonl:1: string holds \\u0000 (NUL) at column 113" opt-history show --file h2.jsonl
	printf '{%s,"outcome":"err\001or"}\n' "$r" >h3.jsonl
	refuse 3 "opt-history: h3.jsonl:1: raw control character 0x01 in a string at column 104" opt-history show --file h3.jsonl
	printf '{%s,"outcome":"error","seed":-1e999}\n' "$r" >h4.jsonl
	refuse 3 "opt-history: h4.jsonl:1: number '-1e999' at column 115 does not fit a double" opt-history show --file h4.jsonl
	printf '{%s,"outcome":"\351"}\n' "$r" >h5.jsonl
	refuse 3 "opt-history: h5.jsonl:1: not UTF-8 at column 101" opt-history show --file h5.jsonl
}


# ------------------------------------------- opt-search units and results
@test "opt-search --run-unit and --reduce: lines that break the strict JSON rules, and an envelope the schema refuses" {
	printf '{"schema":"chronopt-search-unit/1","i":1,"i":2}\n' >"$BATS_TEST_TMPDIR/in"
	refuse 3 "opt-search: <stdin>:1: duplicate key 'i'" opt-search --run-unit
	printf '{"schema":"chronopt-search-result/1","x":"\\u0000"}\n' >"$BATS_TEST_TMPDIR/in"
	refuse 3 'opt-search: <stdin>:1: string holds \u0000 (NUL) at column 43' opt-search --reduce
	printf '{"schema":"chronopt-search-result/1","n":1e400}\n' >"$BATS_TEST_TMPDIR/in"
	refuse 3 "opt-search: <stdin>:1: number '1e400' at column 42 does not fit a double" opt-search --reduce
	printf '{"schema":"chronopt-search-result/1","line":1,"unit":0,"units":1,"plan":{},"envelope":{"schema":"chronopt/1","run_id":"r","seed":-5,"horizon":{"name":"7d","steps":7}}}\n' >"$BATS_TEST_TMPDIR/in"
	refuse 3 'opt-search: <stdin>: envelope 1: envelope "seed" must be an integer in 0..999999999999999' opt-search --reduce
}
