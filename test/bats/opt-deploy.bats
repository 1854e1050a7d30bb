#!/usr/bin/env bats
# opt-deploy: deploy, rollback, status, watch; locks, hostile input, crash safety.

setup() {
	load deploy_helper
	cd "$BATS_TEST_TMPDIR"
	CFG="$BATS_TEST_TMPDIR/cfg"
}

# deploy envelope N with context CTX and RMSE R into $CFG
deploy_one() {
	envelope "$1" "$2" "$3" | opt-deploy deploy --config-dir "$CFG" >/dev/null
}

three_deploys() {
	deploy_one 1 90 10
	deploy_one 2 180 9
	deploy_one 3 270 8
}

ctx() { jq -r .context_length "$CFG/7d.json"; }

# ---------------------------------------------------------------- usage

@test "--help prints usage to stdout and exits 0" {
	run --separate-stderr opt-deploy --help
	assert_success
	assert_output --partial "usage: opt-deploy deploy"
	[ -z "$stderr" ]
}

@test "no command is a usage error" {
	run --separate-stderr opt-deploy
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-deploy: missing command (deploy, challenge, rollback, status, watch)" ]
}

@test "an unknown command is a usage error" {
	run --separate-stderr opt-deploy frobnicate
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-deploy: unknown command 'frobnicate' (deploy, challenge, rollback, status, watch)" ]
}

@test "a bad --wait is a usage error" {
	run --separate-stderr opt-deploy deploy --wait soon
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-deploy: --wait 'soon' must be milliseconds in 0..86400000" ]
}

# ---------------------------------------------------------------- deploy

@test "the first deploy creates the repository, the config and one commit" {
	run --separate-stderr sh -c 'envelope_line=$1; printf "%s\n" "$envelope_line" | opt-deploy deploy --config-dir "$2"' sh "$(envelope 1 90 10)" "$CFG"
	assert_success
	[ "$(printf '%s' "$output" | jq -r .deployment.status)" = done ]
	[ "$(printf '%s' "$output" | jq -r .deployment.deployed)" = true ]
	[ "$(printf '%s' "$output" | jq -r .deployment.backup)" = null ]
	[ "$(printf '%s' "$output" | jq -r .search.candidate.context_length)" = 90 ]
	jq -e '.horizon == "7d" and .context_length == 90 and .deployed_at == "2026-11-23T02:00:00Z" and .previous == null' "$CFG/7d.json"
	jq -e '.reasons == ["RMSE 10 is better"] and .validation.rmse == 10 and .validation.seconds_per_window == 0.5' "$CFG/7d.json"
	[ "$(git -C "$CFG" rev-list --count HEAD)" -eq 1 ]
	[ "$(git -C "$CFG" log -1 --format='%an <%ae> %aI')" = "chronopt <chronopt@localhost> 2026-11-23T02:00:00+00:00" ]
	[ "$(git -C "$CFG" log -1 --format=%s)" = "deploy 7d: validation rmse 10" ]
	[ "$(printf '%s' "$output" | jq -r .deployment.revision)" = "$(git -C "$CFG" rev-parse HEAD)" ]
	[ -z "$(git -C "$CFG" status --porcelain)" ]
	fsck_clean "$CFG"
}

@test "a second deploy backs up the current config and names it in \"previous\"" {
	deploy_one 1 90 10
	cp "$CFG/7d.json" old.json
	CHRONOPT_NOW=2026-11-30T02:00:00Z deploy_one 2 180 9
	cmp old.json "$CFG/backups/7d_20261130T020000Z.json"
	jq -e '.previous == "7d_20261130T020000Z.json" and .context_length == 180' "$CFG/7d.json"
	[ "$(git -C "$CFG" rev-list --count HEAD)" -eq 2 ]
	git -C "$CFG" show HEAD --stat --format= | grep -q 'backups/7d_20261130T020000Z.json'
	[ -z "$(git -C "$CFG" status --porcelain)" ]
}

@test "deploys within the same second get distinct backup names" {
	three_deploys
	[ -f "$CFG/backups/7d_20261123T020000Z.json" ]
	[ -f "$CFG/backups/7d_20261123T020000Z-2.json" ]
	[ "$(ls "$CFG/backups" | wc -l)" -eq 2 ]
}

@test "the commit message carries horizon, metrics and reasons, JSON-escaped, with a one-line subject" {
	envelope 1 90 10 | jq -c '.validation.reasons = ["line one\nSigned-off-by: evil <e@x>", "tab\there \"quoted\""]' |
		opt-deploy deploy --config-dir "$CFG" >/dev/null
	[ "$(git -C "$CFG" log -1 --format=%s)" = "deploy 7d: validation rmse 10" ]
	body=$(git -C "$CFG" log -1 --format=%b)
	printf '%s\n' "$body" | grep -qx 'horizon: "7d"'
	printf '%s\n' "$body" | grep -qx 'run_id: "run-1"'
	printf '%s\n' "$body" | grep -q '^metrics: {"validation_rmse":10,"validation_mape":1.5,"validation_mae":10'
	printf '%s\n' "$body" | grep -qF 'reasons: ["line one\nSigned-off-by: evil <e@x>","tab\there \"quoted\""]'
	! printf '%s\n' "$body" | grep -q '^Signed-off-by'
	[ "$(git -C "$CFG" log -1 --format='%(trailers)')" = "" ]
}

@test "CHRONOPT_GIT_EMAIL sets the committer's address; a hostile one is refused" {
	CHRONOPT_GIT_EMAIL=ops@example.org deploy_one 1 90 10
	[ "$(git -C "$CFG" log -1 --format=%ae)" = "ops@example.org" ]
	before=$(tree_sum "$CFG")
	run --separate-stderr env CHRONOPT_GIT_EMAIL='x> <y' sh -c 'envelope() { :; }; cat | opt-deploy deploy --config-dir "$1"' sh "$CFG" <<<"$(envelope 2 180 9)"
	assert_failure 2
	[ "$stderr" = "opt-deploy: <stdin>:1: horizon '7d': CHRONOPT_GIT_EMAIL is not a plain e-mail address" ]
	# the failed commit put the old config back; only a spare backup remains
	jq -e '.context_length == 90' "$CFG/7d.json"
	fsck_clean "$CFG"
}

@test "an envelope that was not approved is skipped and nothing is touched" {
	run --separate-stderr sh -c 'printf "%s\n" "$1" | opt-deploy deploy --config-dir "$2"' sh "$(envelope 1 90 10 false)" "$CFG"
	assert_success
	[ "$(printf '%s' "$output" | jq -r .deployment.status)" = skipped ]
	[ "$(printf '%s' "$output" | jq -r .deployment.reason)" = "not approved: crafted" ]
	[ ! -e "$CFG" ]
}

@test "an envelope without a validation section is skipped" {
	run --separate-stderr sh -c 'printf "%s\n" "$1" | jq -c "del(.validation)" | opt-deploy deploy --config-dir "$2"' sh "$(envelope 1 90 10)" "$CFG"
	assert_success
	[ "$(printf '%s' "$output" | jq -r .deployment.reason)" = "not validated: the envelope has no validation section" ]
	[ ! -e "$CFG" ]
}

@test "a horizon an earlier stage failed is skipped, the others deployed, exit 7 (partly failed)" {
	failed=$(envelope 2 90 10 | jq -c '.horizon = {"name":"90d","steps":90} | del(.validation) |
		.search = {"status":"error","reason":"series too short","exit":3}')
	run --separate-stderr sh -c 'printf "%s\n%s\n" "$1" "$2" | opt-deploy deploy --config-dir "$3"' sh \
		"$(envelope 1 90 10)" "$failed" "$CFG"
	assert_failure 7
	[ "$(echo "${lines[0]}" | jq -r .deployment.deployed)" = true ]
	[ "$(echo "${lines[1]}" | jq -c '[.deployment.status, .deployment.reason]')" = '["skipped","search error: series too short"]' ]
	[ -f "$CFG/7d.json" ] && [ ! -e "$CFG/90d.json" ]
}

@test "unknown envelope fields pass through unchanged" {
	run --separate-stderr sh -c 'printf "%s\n" "$1" | jq -c ".extra = {\"keep\": [1, \"x\"]}" | opt-deploy deploy --config-dir "$2"' sh "$(envelope 1 90 10)" "$CFG"
	assert_success
	[ "$(printf '%s' "$output" | jq -c .extra)" = '{"keep":[1,"x"]}' ]
}

@test "--dry-run says what it would do and leaves every file byte-identical" {
	deploy_one 1 90 10
	before=$(tree_sum "$CFG")
	run --separate-stderr sh -c 'printf "%s\n" "$1" | opt-deploy deploy --dry-run --config-dir "$2"' sh "$(envelope 2 180 9)" "$CFG"
	assert_success
	[ "$(printf '%s' "$output" | jq -r .deployment.dry_run)" = true ]
	[ "$(printf '%s' "$output" | jq -r .deployment.deployed)" = false ]
	printf '%s' "$output" | jq -r .deployment.summary | grep -q "^dry run: would back up the current config to backups/7d_20261123T020000Z.json, write '.*cfg/7d.json' and commit it; nothing was changed$"
	[ "$(tree_sum "$CFG")" = "$before" ]
}

@test "--dry-run with no config directory creates nothing" {
	run --separate-stderr sh -c 'printf "%s\n" "$1" | opt-deploy deploy --dry-run --config-dir "$2"' sh "$(envelope 1 90 10)" "$CFG"
	assert_success
	printf '%s' "$output" | jq -r .deployment.summary | grep -q "in a new git repository; nothing was changed"
	[ ! -e "$CFG" ]
}

@test "a candidate without search.candidate is bad input and writes nothing" {
	run --separate-stderr sh -c 'printf "%s\n" "$1" | jq -c "del(.search.candidate)" | opt-deploy deploy --config-dir "$2"' sh "$(envelope 1 90 10)" "$CFG"
	assert_failure 3
	[ "$stderr" = "opt-deploy: <stdin>:1: horizon '7d': envelope has no \"search\".\"candidate\"" ]
	[ -z "$output" ]
}

# ---------------------------------------------------------------- hostile and broken input

@test "held-out figures opt-trigger would refuse are bad input and nothing is deployed" {
	deploy_one 1 90 10
	before=$(tree_sum "$CFG")
	for edit in '.validation.candidate.rmse = 0' '.validation.candidate.rmse = -1' \
	            'del(.validation.candidate.rmse) | del(.search.candidate.validation_rmse)' \
	            '.validation.windows.last_date = "2026-02-30"' '.validation.windows.last_date = 5'; do
		run --separate-stderr sh -c 'printf "%s\n" "$1" | jq -c "$2" | opt-deploy deploy --config-dir "$3"' sh "$(envelope 2 180 9)" "$edit" "$CFG"
		assert_failure 3
		[[ "$stderr" == "opt-deploy: <stdin>:1: horizon '7d': "* ]]
		[ -z "$output" ]
		[ "$(tree_sum "$CFG")" = "$before" ]
	done
	# a valid date is recorded for opt-trigger
	envelope 2 180 9 | jq -c '.validation.windows.last_date = "2026-09-14"' | opt-deploy deploy --config-dir "$CFG" >/dev/null
	jq -e '.validation.last_origin_date == "2026-09-14" and .validation_rmse == 9' "$CFG/7d.json"
}

@test "hostile horizon names in envelopes are refused before any path is built" {
	for h in '../x' 'a/b' '' "$(printf 'h%.0s' $(seq 1 300))" '-rf' '.git'; do
		line=$(envelope 1 90 10 | jq -c --arg h "$h" '.horizon.name = $h | .search.candidate.horizon = $h')
		run --separate-stderr sh -c 'printf "%s\n" "$1" | opt-deploy deploy --config-dir "$2"' sh "$line" "$CFG"
		assert_failure 3
		[[ "$stderr" == "opt-deploy: <stdin>:1: horizon name '"*"' is not a plain name ([A-Za-z0-9_-], 1-32 chars)" ]]
		[ ! -e "$CFG" ]
		[ ! -e "$BATS_TEST_TMPDIR/x.json" ]
	done
}

@test "hostile horizon names given to rollback and status leave everything as it was" {
	deploy_one 1 90 10
	deploy_one 2 180 9
	before=$(tree_sum "$CFG")
	for h in '../x' 'a/b' '' "$(printf 'h%.0s' $(seq 1 300))"; do
		run --separate-stderr opt-deploy rollback "$h" --config-dir "$CFG"
		assert_failure 2
		[[ "$stderr" == "opt-deploy: horizon name '"*"' is not a plain name ([A-Za-z0-9_-], 1-32 chars)" ]]
		run --separate-stderr opt-deploy status --horizon "$h" --config-dir "$CFG"
		assert_failure 2
	done
	[ "$(tree_sum "$CFG")" = "$before" ]
}

@test "rollback --to refuses paths that are not backups of the horizon" {
	three_deploys
	before=$(tree_sum "$CFG")
	for to in '../7d.json' '/etc/passwd' 'backups/7d_20261123T020000Z.json' '15d_20261123T020000Z.json' 'nope'; do
		run --separate-stderr opt-deploy rollback 7d --to "$to" --config-dir "$CFG"
		assert_failure 3
		[[ "$stderr" == "opt-deploy: '"*"' is neither a backup of this horizon nor a git revision" ]]
	done
	[ "$(tree_sum "$CFG")" = "$before" ]
}

@test "rollback --to with control characters is one line of usage error" {
	three_deploys
	before=$(tree_sum "$CFG")
	run --separate-stderr opt-deploy rollback 7d --to "$(printf 'HEAD\nx')" --config-dir "$CFG"
	assert_failure 2
	[ "${#stderr_lines[@]}" -eq 1 ]
	[ "$stderr" = "opt-deploy: --to needs a backup file name or a git revision" ]
	[ "$(tree_sum "$CFG")" = "$before" ]
}

@test "a corrupt current config stops the deploy and leaves everything as it was" {
	deploy_one 1 90 10
	printf '{"horizon":"7d","context_length":' >"$CFG/7d.json"
	before=$(tree_sum "$CFG")
	run --separate-stderr sh -c 'printf "%s\n" "$1" | opt-deploy deploy --config-dir "$2"' sh "$(envelope 2 180 9)" "$CFG"
	assert_failure 3
	[[ "$stderr" == "opt-deploy: <stdin>:1: horizon '7d': "*"cfg/7d.json: invalid JSON near column 33; fix it or use 'opt-deploy rollback 7d --to ...'" ]]
	[ -z "$output" ]
	[ "$(tree_sum "$CFG")" = "$before" ]
}

@test "a config of another horizon in 7d.json counts as corrupt" {
	deploy_one 1 90 10
	jq '.horizon = "15d"' "$CFG/7d.json" >x && cp x "$CFG/7d.json"
	run --separate-stderr sh -c 'printf "%s\n" "$1" | opt-deploy deploy --config-dir "$2"' sh "$(envelope 2 180 9)" "$CFG"
	assert_failure 3
	[[ "$stderr" == *"config is for horizon '15d', not '7d'"* ]]
}

@test "a corrupt config is reported by status and can be replaced by rollback --to" {
	three_deploys
	printf 'garbage' >"$CFG/7d.json"
	run --separate-stderr opt-deploy status --horizon 7d --config-dir "$CFG" --json
	assert_success
	[ "$(printf '%s' "$output" | jq -r '.horizons[0].state')" = corrupt ]
	run --separate-stderr opt-deploy rollback 7d --config-dir "$CFG"
	assert_failure 3
	[[ "$stderr" == *"invalid JSON near column 1; name the version to restore with --to" ]]
	run --separate-stderr opt-deploy rollback 7d --to 7d_20261123T020000Z.json --config-dir "$CFG"
	assert_success
	[ "$(ctx)" = 90 ]
	# the corrupt bytes were kept as a backup too: nothing is ever lost
	grep -rlx garbage "$CFG/backups" >/dev/null
}

@test "a read-only config directory leaves everything as it was" {
	deploy_one 1 90 10
	before=$(tree_sum "$CFG")
	envelope 2 180 9 >env.ndjson
	run_readonly "$CFG" sh -c 'opt-deploy deploy --config-dir "$1" <"$2"' sh "$CFG" env.ndjson
	assert_failure 4
	[[ "$stderr" == "opt-deploy: <stdin>:1: horizon '7d': cannot create '"*"cfg/.deploy.lock': "* ]]
	[ -z "$output" ]
	[ "$(tree_sum "$CFG")" = "$before" ]
}

@test "a config directory without a git repository gets one, with the existing config backed up" {
	mkdir "$CFG"
	envelope 0 60 11 | jq .search.candidate >"$CFG/7d.json"
	cp "$CFG/7d.json" hand.json
	deploy_one 1 90 10
	[ "$(git -C "$CFG" rev-list --count HEAD)" -eq 1 ]
	cmp hand.json "$CFG/backups/7d_20261123T020000Z.json"
	git -C "$CFG" show HEAD:backups/7d_20261123T020000Z.json | cmp - hand.json
	fsck_clean "$CFG"
}

@test "a broken git repository stops the deploy before any change" {
	deploy_one 1 90 10
	rm -rf "$CFG/.git"
	printf 'gitdir: /nonexistent\n' >"$CFG/.git"
	before=$(tree_sum "$CFG")
	run --separate-stderr sh -c 'printf "%s\n" "$1" | opt-deploy deploy --config-dir "$2"' sh "$(envelope 2 180 9)" "$CFG"
	assert_failure 4
	[[ "$stderr" == "opt-deploy: <stdin>:1: horizon '7d': "*"cfg: git: cannot "* ]]
	[ "$(tree_sum "$CFG")" = "$before" ]
}

@test "a repository in a bad state stops the deploy and the rollback before any change" {
	deploy_one 1 90 10
	deploy_one 2 180 9
	cp -a "$CFG" pristine
	for state in head conflict; do
		rm -rf "$CFG" && cp -a pristine "$CFG"
		case $state in
		head) printf 'garbage\n' >"$CFG/.git/HEAD" ;;
		conflict)
			blob=$(git -C "$CFG" hash-object -w 7d.json)
			printf '100644 %s 1\t7d.json\n100644 %s 2\t7d.json\n' "$blob" "$blob" |
				git -C "$CFG" update-index --index-info ;;
		esac
		before=$(tree_sum "$CFG")
		run --separate-stderr sh -c 'CHRONOPT_NOW=2026-11-24T00:00:00Z opt-deploy deploy --config-dir "$2" <<EOF
$1
EOF' sh "$(envelope 3 270 8)" "$CFG"
		assert_failure 4
		[[ "$stderr" == "opt-deploy: <stdin>:1: horizon '7d': "*"cfg: git: "* ]] || { echo "$state: $stderr"; false; }
		[ "${#stderr_lines[@]}" -eq 1 ]
		[ -z "$output" ]
		[ "$(tree_sum "$CFG")" = "$before" ] || { echo "$state: deploy changed files"; false; }
		CHRONOPT_NOW=2026-11-24T00:00:00Z run --separate-stderr opt-deploy rollback 7d --config-dir "$CFG"
		assert_failure 4
		[ "$(tree_sum "$CFG")" = "$before" ] || { echo "$state: rollback changed files"; false; }
	done
}

@test "what a killed deploy left in the repository is removed under the lock, and said" {
	deploy_one 1 90 10
	deploy_one 2 180 9
	: >"$CFG/.git/index.lock"
	: >"$CFG/.git/HEAD.lock"
	: >"$CFG/.git/config.lock"
	: >"$CFG/.git/refs/heads/main.lock"
	: >"$CFG/.git/objects/tmp_object_git2_AbC123"
	: >"$CFG/.7d.json.tmp-Xy12Zw"
	: >"$CFG/backups/.7d_20261123T020000Z.json.tmp-Qw34Er"
	mkdir -p "$CFG/.git-new-Ab12Cd/.git/objects"
	run --separate-stderr sh -c 'CHRONOPT_NOW=2026-11-24T00:00:00Z opt-deploy deploy --config-dir "$2" <<EOF
$1
EOF' sh "$(envelope 3 270 8)" "$CFG"
	assert_success
	[ "$(ctx)" = 270 ]
	for f in .git/index.lock .git/HEAD.lock .git/config.lock .git/refs/heads/main.lock \
		.git/objects/tmp_object_git2_AbC123 .7d.json.tmp-Xy12Zw \
		backups/.7d_20261123T020000Z.json.tmp-Qw34Er .git-new-Ab12Cd; do
		[ ! -e "$CFG/$f" ] || { echo "$f left"; false; }
		printf '%s\n' "${stderr_lines[@]}" | grep -qxF "opt-deploy: removed '$CFG/$f', left behind by a process that was killed" ||
			{ echo "$f not reported: $stderr"; false; }
	done
	[ "${#stderr_lines[@]}" -eq 8 ]
	[ -z "$(git -C "$CFG" status --porcelain)" ]
	fsck_clean "$CFG"
	# the same for a rollback
	: >"$CFG/.git/index.lock"
	run --separate-stderr opt-deploy rollback 7d --config-dir "$CFG"
	assert_success
	[ "$stderr" = "opt-deploy: removed '$CFG/.git/index.lock', left behind by a process that was killed" ]
	[ "$(ctx)" = 180 ]
}

@test "a backups directory that is a symbolic link is refused, exit 4, nothing written" {
	deploy_one 1 90 10
	mkdir elsewhere
	ln -s "$PWD/elsewhere" "$CFG/backups"
	before=$(tree_sum "$CFG")
	run --separate-stderr sh -c 'printf "%s\n" "$1" | opt-deploy deploy --config-dir "$2"' sh "$(envelope 2 180 9)" "$CFG"
	assert_failure 4
	[ "$stderr" = "opt-deploy: <stdin>:1: horizon '7d': '$CFG/backups' is a symbolic link; backups must be a directory in '$CFG'" ]
	[ -z "$output" ]
	[ "$(tree_sum "$CFG")" = "$before" ]
	[ -z "$(ls -A elsewhere)" ]
	run --separate-stderr opt-deploy rollback 7d --to 7d_20261123T020000Z.json --config-dir "$CFG"
	assert_failure 4
	[ "$(tree_sum "$CFG")" = "$before" ]
	[ -z "$(ls -A elsewhere)" ]
}

# ---------------------------------------------------------------- locking

@test "a held lock makes a deploy exit busy and touch nothing" {
	deploy_one 1 90 10
	# a holder: a subshell that flocks the file, writes its pid, sleeps
	(exec 9>>"$CFG/.deploy.lock" && flock 9 && echo "$BASHPID" >"$CFG/.deploy.lock" && exec sleep 30) &
	holder=$!
	for _ in $(seq 1000); do [ "$(cat "$CFG/.deploy.lock" 2>/dev/null)" != "$holder" ] || break; sleep 0.01; done
	before=$(tree_sum "$CFG")
	run --separate-stderr sh -c 'printf "%s\n" "$1" | opt-deploy deploy --config-dir "$2"' sh "$(envelope 2 180 9)" "$CFG"
	kill "$holder"
	wait "$holder" || true
	assert_failure 5
	[[ "$stderr" == "opt-deploy: <stdin>:1: horizon '7d': '"*"cfg/.deploy.lock' is held by pid $holder" ]]
	[ "$(tree_sum "$CFG")" = "$before" ]
}

@test "with --wait a deploy waits for the lock to be released" {
	deploy_one 1 90 10
	(exec 9>>"$CFG/.deploy.lock" && flock 9 && echo "$BASHPID" >"$CFG/.deploy.lock" && exec sleep 0.5) &
	holder=$!
	for _ in $(seq 1000); do [ "$(cat "$CFG/.deploy.lock" 2>/dev/null)" != "$holder" ] || break; sleep 0.01; done
	run --separate-stderr sh -c 'printf "%s\n" "$1" | opt-deploy deploy --wait 20000 --config-dir "$2"' sh "$(envelope 2 180 9)" "$CFG"
	wait
	assert_success
	[ "$(ctx)" = 180 ]
}

@test "a lock file left by a killed process is taken without a person" {
	deploy_one 1 90 10
	sleep 30 &
	dead=$!
	kill -9 "$dead"
	wait "$dead" || true
	printf '%s\n' "$dead" >"$CFG/.deploy.lock"
	run --separate-stderr sh -c 'printf "%s\n" "$1" | opt-deploy deploy --config-dir "$2"' sh "$(envelope 2 180 9)" "$CFG"
	assert_success
	[ "$(ctx)" = 180 ]
	[ ! -e "$CFG/.deploy.lock" ]
}

@test "two concurrent deploys never interleave" {
	deploy_one 1 90 10
	for i in 2 3 4 5; do
		(envelope "$i" "$((i * 90))" "$((10 - i))" | opt-deploy deploy --wait 60000 --config-dir "$CFG" >"out$i") &
	done
	wait
	[ "$(git -C "$CFG" rev-list --count HEAD)" -eq 5 ]
	[ "$(ls "$CFG/backups" | wc -l)" -eq 4 ]
	[ -z "$(git -C "$CFG" status --porcelain)" ]
	fsck_clean "$CFG"
	# every deploy saved exactly the config the previous one wrote: the
	# chain of "previous" names runs through all five versions
	n=1
	cur=$(cat "$CFG/7d.json")
	while p=$(printf '%s' "$cur" | jq -r .previous) && [ "$p" != null ]; do
		cur=$(cat "$CFG/backups/$p")
		n=$((n + 1))
	done
	[ "$n" -eq 5 ]
	[ "$(printf '%s' "$cur" | jq -r .context_length)" = 90 ]
}

# ---------------------------------------------------------------- rollback

@test "rollback after three deploys walks back one version at a time" {
	three_deploys
	[ "$(ctx)" = 270 ]
	CHRONOPT_NOW=2026-11-24T00:00:00Z run --separate-stderr opt-deploy rollback 7d --config-dir "$CFG"
	assert_success
	[ "$output" = "rolled '$CFG/7d.json' back to backups/7d_20261123T020000Z-2.json (replaced config saved as backups/7d_20261124T000000Z.json), commit $(git -C "$CFG" rev-parse --short=12 HEAD)" ]
	[ "$(ctx)" = 180 ]
	CHRONOPT_NOW=2026-11-24T00:00:00Z run --separate-stderr opt-deploy rollback 7d --config-dir "$CFG"
	assert_success
	[ "$(ctx)" = 90 ]
	run --separate-stderr opt-deploy rollback 7d --config-dir "$CFG"
	assert_failure 3
	[ "$stderr" = "opt-deploy: '$CFG/7d.json' is the first deployed version: there is no earlier one" ]
	[ "$(ctx)" = 90 ]
	[ "$(git -C "$CFG" log --format=%s | head -2 | tr '\n' '|')" = "rollback 7d to 7d_20261123T020000Z.json|rollback 7d to 7d_20261123T020000Z-2.json|" ]
	[ -z "$(git -C "$CFG" status --porcelain)" ]
	fsck_clean "$CFG"
}

@test "rollback restores a backup byte for byte" {
	three_deploys
	opt-deploy rollback 7d --config-dir "$CFG" >/dev/null
	cmp "$CFG/7d.json" "$CFG/backups/7d_20261123T020000Z-2.json"
}

@test "rollback --to a named backup, then forward again to the newest" {
	three_deploys
	cp "$CFG/7d.json" newest.json
	run --separate-stderr opt-deploy rollback 7d --to 7d_20261123T020000Z.json --config-dir "$CFG"
	assert_success
	[ "$(ctx)" = 90 ]
	# the replaced (newest) config was backed up, so it can be restored by name
	CHRONOPT_NOW=2026-11-25T00:00:00Z opt-deploy rollback 7d --config-dir "$CFG" 2>/dev/null || true
	run --separate-stderr opt-deploy rollback 7d --to 7d_20261123T020000Z-3.json --config-dir "$CFG"
	assert_success
	cmp "$CFG/7d.json" newest.json
}

@test "rollback --to a git revision" {
	three_deploys
	first=$(git -C "$CFG" rev-list --reverse HEAD | head -1)
	run --separate-stderr opt-deploy rollback 7d --to "$first" --config-dir "$CFG" --json
	assert_success
	[ "$(printf '%s' "$output" | jq -r .restored)" = "git:$first" ]
	[ "$(ctx)" = 90 ]
	[ "$(git -C "$CFG" log -1 --format=%s)" = "rollback 7d to a git revision" ]
	git -C "$CFG" log -1 --format=%b | grep -qx "to: \"$first\""
	run --separate-stderr opt-deploy rollback 7d --to HEAD~2 --config-dir "$CFG"
	assert_success
	[ "$(ctx)" = 180 ]
}

@test "rollback --dry-run touches nothing" {
	three_deploys
	before=$(tree_sum "$CFG")
	run --separate-stderr opt-deploy rollback 7d --dry-run --config-dir "$CFG"
	assert_success
	[ "$output" = "dry run: would back up '$CFG/7d.json' and restore backups/7d_20261123T020000Z-2.json; nothing was changed" ]
	[ "$(tree_sum "$CFG")" = "$before" ]
}

@test "rollback of a horizon never deployed says so" {
	run --separate-stderr opt-deploy rollback 30d --config-dir "$CFG"
	assert_failure 3
	[ "$stderr" = "opt-deploy: '$CFG/30d.json' does not exist: nothing to roll back" ]
}

# ---------------------------------------------------------------- status

@test "status shows current config, when and why, metrics, backups and revision" {
	three_deploys
	run --separate-stderr opt-deploy status --config-dir "$CFG"
	assert_success
	assert_line "7d: deployed"
	assert_line "  deployed at   2026-11-23T02:00:00Z"
	assert_line "  metrics       validation rmse 8, mape 1.5 %"
	assert_line "  backups       2"
	assert_line "  git revision  $(git -C "$CFG" rev-parse --short=12 HEAD)  deploy 7d: validation rmse 8"
	assert_line "  why           RMSE 8 is better"
	assert_line "15d: not deployed"
	assert_line "90d: not deployed"
}

@test "status --json" {
	three_deploys
	opt-deploy rollback 7d --config-dir "$CFG" >/dev/null
	run --separate-stderr opt-deploy status --json --horizon 7d --config-dir "$CFG"
	assert_success
	printf '%s' "$output" | jq -e --arg rev "$(git -C "$CFG" rev-parse HEAD)" '
		.horizons | length == 1 and .[0].horizon == "7d" and .[0].state == "deployed" and
		.[0].settings.context_length == 180 and .[0].metrics.validation_rmse == 9 and
		.[0].backups == 3 and .[0].revision == $rev and
		.[0].last_change == "rollback 7d to 7d_20261123T020000Z-2.json" and
		.[0].reasons == ["RMSE 9 is better"]'
}

@test "status of a config directory that is a file is an I/O error, not four corrupt configs" {
	printf 'x\n' >notadir
	run --separate-stderr opt-deploy status --config-dir notadir
	assert_failure 4
	[ "$stderr" = "opt-deploy: 'notadir' is not a directory" ]
	[ -z "$output" ]
	run --separate-stderr opt-deploy status --json --horizon 7d --config-dir notadir
	assert_failure 4
	[ -z "$output" ]
}

# ---------------------------------------------------------------- notify

@test "--notify runs the command without a shell, with the deploy in its environment" {
	cat >notify.sh <<-'EOS'
	#!/bin/sh
	printf '%s|%s|%s|%s|%s\n' "$1" "$CHRONOPT_NOTIFY_ACTION" "$CHRONOPT_NOTIFY_HORIZON" "$CHRONOPT_NOTIFY_CONFIG" "$CHRONOPT_NOTIFY_REVISION" >>"$(dirname "$0")/notified"
	echo "to stdout"
	EOS
	chmod +x notify.sh
	run --separate-stderr sh -c 'printf "%s\n" "$1" | opt-deploy deploy --notify "$2 arg;\$(touch pwned)" --config-dir "$3"' sh "$(envelope 1 90 10)" "$BATS_TEST_TMPDIR/notify.sh" "$CFG"
	assert_success
	[ "$(printf '%s' "$output" | jq -r .deployment.notify.exit_status)" = 0 ]
	[ "$(cat notified)" = "arg;\$(touch|deploy|7d|$CFG/7d.json|$(git -C "$CFG" rev-parse HEAD)" ]
	[ ! -e pwned ]
	# the command's stdout went to stderr: stdout carries envelopes only
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
	[[ "$stderr" == *"to stdout"* ]]
}

@test "a failing notify command is reported and the deploy stands" {
	run --separate-stderr sh -c 'printf "%s\n" "$1" | opt-deploy deploy --notify false --config-dir "$2"' sh "$(envelope 1 90 10)" "$CFG"
	assert_success
	[ "$(printf '%s' "$output" | jq -r .deployment.notify.exit_status)" = 1 ]
	[ "$(ctx)" = 90 ]
}

# ---------------------------------------------------------------- watch

@test "watch: a healthy command keeps the config" {
	three_deploys
	run --separate-stderr opt-deploy watch 7d --health true --checks 5 --interval 0 --config-dir "$CFG"
	assert_success
	assert_output "7d: healthy: 5 observations, 0 failed (longest run 0)"
	[ "$(ctx)" = 270 ]
}

@test "watch: two failures in a row are tolerated" {
	three_deploys
	cat >flaky.sh <<-'EOS'
	#!/bin/sh
	n=$(cat "$(dirname "$0")/count" 2>/dev/null || echo 0); n=$((n + 1)); echo $n >"$(dirname "$0")/count"
	[ $((n % 3)) -eq 0 ]
	EOS
	chmod +x flaky.sh
	run --separate-stderr opt-deploy watch 7d --health "$BATS_TEST_TMPDIR/flaky.sh" --checks 9 --interval 0 --config-dir "$CFG"
	assert_success
	assert_output "7d: healthy: 9 observations, 6 failed (longest run 2)"
	[ "$(ctx)" = 270 ]
}

@test "watch: three consecutive failures roll back and record why" {
	three_deploys
	run --separate-stderr opt-deploy watch 7d --health false --checks 10 --interval 0 --config-dir "$CFG" --exit-code
	assert_failure 1
	assert_line "7d: 3 consecutive failed forecasts (rollback at 3)"
	[ "$(ctx)" = 180 ]
	[ "$(git -C "$CFG" log -1 --format=%s)" = "rollback 7d to 7d_20261123T020000Z-2.json" ]
	git -C "$CFG" log -1 --format=%b | grep -qx 'why: "watch (health command): 3 consecutive failed forecasts (rollback at 3)"'
}

@test "watch: a forecast log within the baseline keeps the config" {
	three_deploys
	printf 'forecast_date,target_date,predicted,actual,seconds\n' >log.csv
	printf '2026-11-23,2026-11-24,100,%s,0.6\n' 95 108 97 105 >>log.csv
	run --separate-stderr opt-deploy watch 7d --log log.csv --config-dir "$CFG" --json
	assert_success
	printf '%s' "$output" | jq -e '.rolled_back == false and .observations == 4 and .baseline_rmse == 8'
	[ "$(ctx)" = 270 ]
}

@test "watch: an RMSE spike over 50 % rolls back" {
	three_deploys
	printf 'forecast_date,target_date,predicted,actual\n2026-11-23,2026-11-24,100,87\n2026-11-23,2026-11-25,100,113\n' >log.csv
	run --separate-stderr opt-deploy watch 7d --log log.csv --config-dir "$CFG"
	assert_success
	assert_line "7d: RMSE 13 over 2 forecasts is 62.5 % above the baseline 8 (rollback above 50 %)"
	[ "$(ctx)" = 180 ]
}

@test "watch: RMSE exactly at the limit does not roll back" {
	three_deploys
	printf 'predicted,actual\n100,88\n100,112\n' >log.csv
	run --separate-stderr opt-deploy watch 7d --log log.csv --config-dir "$CFG"
	assert_success
	[ "$(ctx)" = 270 ]
}

@test "watch: inference time over 3x the baseline rolls back" {
	three_deploys
	printf 'predicted,actual,seconds\n100,100,1.7\n100,100,1.5\n' >log.csv
	run --separate-stderr opt-deploy watch 7d --log log.csv --config-dir "$CFG"
	assert_success
	assert_line "7d: inference time 1.6 s is 3.20 times the baseline 0.5 s (rollback above 3x)"
	[ "$(ctx)" = 180 ]
	printf 'predicted,actual,seconds\n100,100,1.5\n' >log.csv
	run --separate-stderr opt-deploy watch 7d --log log.csv --config-dir "$CFG"
	assert_success
	[ "$(ctx)" = 180 ]
}

@test "watch: errors or times too large to square still roll back" {
	three_deploys
	printf 'predicted,actual\n1e200,100\n' >log.csv
	run --separate-stderr opt-deploy watch 7d --log log.csv --config-dir "$CFG" --json
	assert_success
	printf '%s' "$output" | jq -e '.rolled_back == true'
	[ "$(ctx)" = 180 ]
	printf 'predicted,actual,seconds\n100,100,1e308\n100,100,1e308\n' >log.csv
	run --separate-stderr opt-deploy watch 7d --log log.csv --config-dir "$CFG" --json
	assert_success
	printf '%s' "$output" | jq -e '.rolled_back == true'
	[ "$(ctx)" = 90 ]
}

@test "watch: failed forecasts in the log count as failures; rows before the deploy are ignored" {
	three_deploys
	printf 'forecast_date,predicted,actual,status\n' >log.csv
	printf '2026-11-01,,,error\n2026-11-01,,,error\n2026-11-01,,,error\n' >>log.csv
	run --separate-stderr opt-deploy watch 7d --log log.csv --config-dir "$CFG"
	assert_success
	[ "$(ctx)" = 270 ]
	printf '2026-11-23,,,error\n2026-11-23,x,,ok\n2026-11-24,100,,timeout\n' >>log.csv
	run --separate-stderr opt-deploy watch 7d --log log.csv --config-dir "$CFG"
	assert_success
	assert_line "7d: 3 consecutive failed forecasts (rollback at 3)"
	[ "$(ctx)" = 180 ]
}

@test "watch: a malformed log is bad input and changes nothing" {
	three_deploys
	printf 'when,what\n1,2\n' >log.csv
	run --separate-stderr opt-deploy watch 7d --log log.csv --config-dir "$CFG"
	assert_failure 3
	[ "$stderr" = "opt-deploy: log.csv:1: header needs columns 'predicted' and 'actual'" ]
	printf 'predicted,actual\n1,abc\n' >log.csv
	run --separate-stderr opt-deploy watch 7d --log log.csv --config-dir "$CFG"
	assert_failure 3
	[ "$stderr" = "opt-deploy: log.csv:2: actual 'abc' is not a number" ]
	[ "$(ctx)" = 270 ]
}

@test "watch: a rollback is recorded in the history (outcome rolled_back, source watch)" {
	three_deploys
	printf 'predicted,actual\n100,87\n100,113\n' >log.csv
	mkdir h
	CHRONOPT_RUN_ID=watch-1 run --separate-stderr opt-deploy watch 7d --log log.csv --config-dir "$CFG" \
		--history "$BATS_TEST_TMPDIR/h/history.jsonl" --json
	assert_success
	[ "$(ctx)" = 180 ]
	printf '%s' "$output" | jq -e '.rolled_back and .history.record == 1 and (.history.file | endswith("h/history.jsonl"))'
	[ "$(wc -l <h/history.jsonl)" -eq 1 ]
	jq -e '.run_id == "watch-1" and .horizon == "7d" and .steps == 7 and .outcome == "rolled_back"
		and .success == false and .deployment.action == "rollback" and .deployment.source == "watch"
		and .deployment.status == "done" and .deployment.restored == "7d_20261123T020000Z-2.json"
		and .deployment.watch.observations == 2 and .deployment.watch.rmse == 13
		and .deployment.watch.baseline_rmse == 8
		and (.reason | test("^rolled .* back to backups/7d_20261123T020000Z-2.json")) and (.deployment.reason | startswith("watch (forecast log): RMSE 13"))' \
		h/history.jsonl
	# opt-history reads it like any record
	run --separate-stderr opt-history show --file h/history.jsonl --json
	assert_success
	printf '%s' "$output" | jq -e 'select(.record == 1) | .outcome == "rolled_back"'
	# without --history: $CHRONOPT_HISTORY, else ./history.jsonl
	printf 'predicted,actual\n100,80\n' >log.csv
	run --separate-stderr opt-deploy watch 7d --log log.csv --config-dir "$CFG"
	assert_success
	assert_line "7d: recorded in history.jsonl (record 1)"
	jq -e '.outcome == "rolled_back" and .deployment.restored == "7d_20261123T020000Z.json"' history.jsonl
}

@test "watch: a healthy verdict or a dry run writes no history record" {
	three_deploys
	printf 'predicted,actual\n100,101\n' >ok.csv
	printf 'predicted,actual\n100,80\n' >bad.csv
	run --separate-stderr opt-deploy watch 7d --log ok.csv --config-dir "$CFG" --history h.jsonl
	assert_success
	run --separate-stderr opt-deploy watch 7d --log bad.csv --config-dir "$CFG" --history h.jsonl --dry-run --json
	assert_success
	printf '%s' "$output" | jq -e '.rolled_back == false and .rollback.dry_run and (has("history") | not)'
	[ ! -e h.jsonl ]
	[ "$(ctx)" = 270 ]
}

@test "watch: a history that cannot be written leaves the rollback done and says so (exit 4)" {
	three_deploys
	printf 'predicted,actual\n100,80\n' >bad.csv
	run --separate-stderr opt-deploy watch 7d --log bad.csv --config-dir "$CFG" --history "$BATS_TEST_TMPDIR/none/h.jsonl"
	assert_failure 4
	[ "$(ctx)" = 180 ]
	assert_line "7d: RMSE 20 over 1 forecasts is 150.0 % above the baseline 8 (rollback above 50 %)"
	[[ "$stderr" == "opt-deploy: the rollback is done but not recorded in '$BATS_TEST_TMPDIR/none/h.jsonl': "* ]]
	[ "$(wc -l <<<"$stderr")" -eq 1 ]
}

# ---------------------------------------------------------------- crash safety

# Prepare $CFG with two deploys (one backup), the next envelope, and the
# config a clean deploy of it produces (in a copy of the directory).
crash_setup() {
	deploy_one 1 90 10
	deploy_one 2 180 9
	envelope 3 270 8 >next.ndjson
	cp -a "$CFG" ref
	opt-deploy deploy --config-dir ref <next.ndjson >/dev/null
	cp "$CFG/7d.json" old.json
	cp ref/7d.json new.json
	files_sum "$CFG/backups" >backups.before
}

# After an interrupted deploy: the config parses and is the old or the new
# one, every earlier backup is intact, git fsck is clean, and the next
# deploy works with no manual step.
crash_check() {
	local what=$1
	jq -e . "$CFG/7d.json" >/dev/null || { echo "$what: config does not parse"; return 1; }
	cmp -s "$CFG/7d.json" old.json || cmp -s "$CFG/7d.json" new.json ||
		{ echo "$what: config is neither the old nor the new one"; return 1; }
	while read -r sum name; do
		[ "$(sha256sum <"$CFG/backups/$name" | cut -d' ' -f1)" = "$sum" ] ||
			{ echo "$what: backup $name lost or changed"; return 1; }
	done <backups.before
	fsck_clean "$CFG" || { echo "$what: fsck"; return 1; }
	CHRONOPT_NOW=2026-12-01T00:00:00Z opt-deploy deploy --config-dir "$CFG" <next.ndjson >/dev/null ||
		{ echo "$what: the next deploy failed"; return 1; }
	jq -e '.context_length == 270' "$CFG/7d.json" >/dev/null
	# only temp files of a killed durable_write may stay untracked
	[ -z "$(git -C "$CFG" status --porcelain | grep -v '^?? \(backups/\)\?\.[^/]*\.tmp-')" ] ||
		{ echo "$what: work tree not clean after redeploy: $(git -C "$CFG" status --porcelain)"; return 1; }
	fsck_clean "$CFG"
}

@test "crash safety: a failure between any two deploy steps leaves the old or the new config" {
	for step in lock backup write add commit; do
		rm -rf "$CFG" ref
		crash_setup
		run --separate-stderr env CHRONOPT_DEPLOY_FAIL_AT="$step" opt-deploy deploy --config-dir "$CFG" <next.ndjson
		if [ "$step" = commit ]; then
			# committed, then failed: the line is written with status partial
			[ "$status" -eq 4 ] || { echo "$step: status $status"; return 1; }
			[ "$(printf '%s' "$output" | jq -r .deployment.status)" = partial ]
			cmp "$CFG/7d.json" new.json
		else
			[ "$status" -eq 4 ] || { echo "$step: status $status"; return 1; }
			[ "$stderr" = "opt-deploy: <stdin>:1: horizon '7d': injected failure after step '$step' (CHRONOPT_DEPLOY_FAIL_AT)" ]
			[ -z "$output" ]
			cmp "$CFG/7d.json" old.json || { echo "$step: failure did not restore the old config"; return 1; }
		fi
		[ ! -e "$CFG/.deploy.lock" ] || { echo "$step: lock left behind"; return 1; }
		crash_check "fail after $step"
	done
}

@test "crash safety: a kill between any two deploy steps leaves the old or the new config" {
	for step in lock backup write add commit; do
		rm -rf "$CFG" ref
		crash_setup
		run --separate-stderr env CHRONOPT_DEPLOY_FAIL_AT="kill:$step" opt-deploy deploy --config-dir "$CFG" <next.ndjson
		[ "$status" -eq 137 ] || { echo "kill:$step: status $status"; return 1; }
		[ -z "$output" ]
		# the killed process's lock file may stay; the kernel released the lock
		crash_check "kill after $step"
	done
}

@test "crash safety: the durable helper's faults and kills inside the writes" {
	for fault in open write fsync rename dirsync kill:open kill:write kill:fsync kill:rename kill:dirsync kill:partial; do
		rm -rf "$CFG" ref
		crash_setup
		run --separate-stderr env CHRONOPT_FAIL_AT="$fault" opt-deploy deploy --config-dir "$CFG" <next.ndjson
		[ "$status" -ne 0 ] || { echo "$fault: succeeded"; return 1; }
		crash_check "CHRONOPT_FAIL_AT=$fault"
	done
}

@test "crash safety: rollback interrupted between any two steps" {
	for step in lock backup write add commit kill:lock kill:backup kill:write kill:add kill:commit; do
		rm -rf "$CFG"
		three_deploys
		cp "$CFG/7d.json" new3.json
		files_sum "$CFG/backups" >backups.before
		run --separate-stderr env CHRONOPT_DEPLOY_FAIL_AT="$step" opt-deploy rollback 7d --config-dir "$CFG"
		[ "$status" -ne 0 ] || { echo "$step: succeeded"; return 1; }
		cmp -s "$CFG/7d.json" new3.json || cmp -s "$CFG/7d.json" "$CFG/backups/7d_20261123T020000Z-2.json" ||
			{ echo "$step: config is neither"; return 1; }
		while read -r sum name; do
			[ "$(sha256sum <"$CFG/backups/$name" | cut -d' ' -f1)" = "$sum" ] || { echo "$step: backup lost"; return 1; }
		done <backups.before
		fsck_clean "$CFG" || { echo "$step: fsck"; return 1; }
	done
}

@test "the man page examples run" {
	three_deploys
	export CHRONOPT_CONFIG_DIR="$CFG"
	printf 'predicted,actual\n100,101\n' >7d.csv
	run bash -c 'opt-deploy status --horizon 7d &&
		opt-deploy rollback 7d &&
		opt-deploy rollback 7d --to 7d_20261123T020000Z.json &&
		opt-deploy watch 7d --log 7d.csv --exit-code'
	assert_success
	[ "$(ctx)" = 90 ]
}

@test "a full stdout is exit 4 with exactly one message, for deploy and status" {
	envelope 1 90 10 >env
	run --separate-stderr bash -c "opt-deploy deploy --config-dir '$CFG' <env >/dev/full"
	assert_failure 4
	assert_equal "$stderr" "opt-deploy: error writing envelope: No space left on device"
	run --separate-stderr bash -c "opt-deploy status --config-dir '$CFG' --horizon 7d --json >/dev/full"
	assert_failure 4
	assert_equal "$stderr" "opt-deploy: error writing standard output: No space left on device"
}

# ---------------------------------------------------------------- challenger

# ch_envelope N H STEPS CTX RMSE MODEL START — an approved envelope whose
# series ends on START (the challenger's start date)
ch_envelope() {
	printf '{"schema":"chronopt/1","run_id":"run-%s","seed":42,"series":{"path":"s.csv","id":"USDCLP","last_date":"%s","length":5000},' "$1" "$7"
	printf '"horizon":{"name":"%s","steps":%s},"search":{"status":"done","candidate":{"horizon":"%s","context_length":%s,' "$2" "$3" "$2" "$4"
	printf '"num_samples":100,"temperature":1.0,"top_k":0,"top_p":1.0,"validation_rmse":%s,"model":{"dir":"%s"}}},' "$5" "$6"
	printf '"validation":{"status":"done","approved":true,"summary":"crafted","reasons":["better"],"candidate":{"rmse":%s,"seconds":1},"windows":{"count":30}}}\n' "$5"
}

# ch_setup H STEPS START [SERIES]: champion random_walk (context 90), challenger drift (context 540)
ch_setup() {
	ch_envelope 1 "$1" "$2" 90 10 random_walk "$3" | opt-deploy deploy --config-dir cfg >/dev/null
	ch_envelope 2 "$1" "$2" 540 9 drift "$3" | opt-deploy deploy --as-challenger --config-dir cfg >dep.out
}

@test "challenger: an approved candidate goes live beside the champion, committed, and is recorded as started" {
	ch_setup 7d 7 2025-01-02
	jq -e '.deployment.challenger == true and .deployment.deployed == false and .deployment.status == "done"' dep.out
	[ "$(jq -r .deployment.config dep.out)" = cfg/7d.challenger.json ]
	jq -e '.challenger == {"started_at":"2026-11-23T02:00:00Z","start_date":"2025-01-02","origins_required":20,"level":0.05,"run_id":"run-2"}' cfg/7d.challenger.json
	jq -e '.context_length == 540 and .model.dir == "drift" and .validation_rmse == 9' cfg/7d.challenger.json
	# the champion is untouched
	jq -e '.context_length == 90' cfg/7d.json
	[ "$(git -C cfg log --format=%s -1)" = "challenger 7d: start, validation rmse 9" ]
	[ -z "$(git -C cfg status --porcelain)" ]
	opt-history record --file h.jsonl <dep.out >/dev/null
	[ "$(jq -r .outcome h.jsonl)" = challenger_started ]
	run --separate-stderr opt-deploy status --config-dir cfg --horizon 7d
	assert_output --partial "challenger    cfg/7d.challenger.json: context 540, samples 100, since 2025-01-02, decides after 20 origins"
	opt-deploy status --config-dir cfg --horizon 7d --json | jq -e '.horizons[0].challenger.state == "live" and .horizons[0].challenger.origins_required == 20'
	# deploy.mode and challenger.* in the settings do the same; without a champion it is the champion
	jq '.deploy.mode = "challenger" | .challenger.origins = 5 | .challenger.level = 0.1' "$CHRONOPT_ROOT/configs/chronopt.json" >set.json
	ch_envelope 3 30d 30 90 10 random_walk 2025-01-02 | opt-deploy deploy --config set.json --config-dir cfg | jq -e '.deployment.deployed == true'
	[ ! -e cfg/30d.challenger.json ]
	ch_envelope 4 30d 30 540 9 drift 2025-01-02 | opt-deploy deploy --config set.json --config-dir cfg >/dev/null
	jq -e '.challenger.origins_required == 5 and .challenger.level == 0.1' cfg/30d.challenger.json
	jq '.deploy.mode = "both"' "$CHRONOPT_ROOT/configs/chronopt.json" >bad.json
	run --separate-stderr opt-deploy deploy --config bad.json --config-dir cfg </dev/null
	assert_failure 3
	[ "$stderr" = 'opt-deploy: settings: deploy.mode must be "champion" or "challenger"' ]
}

@test "challenger: scores accumulate on the origins after its start, and nothing changes before the decision" {
	head -n 5881 "$CHRONOPT_ROOT/testdata/usdclp_daily.csv" >short.csv # ends 2026-08-03
	ch_setup 7d 7 2026-07-20
	before=$(tree_sum cfg)
	run --separate-stderr opt-deploy challenge --series short.csv --model random_walk --horizon 7d --config-dir cfg
	assert_success
	echo "$output" >c1
	jq -e '.challenger.action == "scored" and .challenger.decided == false' c1
	[ "$(jq .challenger.scores.origins_used c1)" -lt 20 ]
	n1=$(jq .challenger.scores.origins_used c1)
	[ "$n1" -ge 1 ]
	[ "$(jq -r .challenger.scores.first_origin_date c1)" = 2026-07-20 ]
	[ "$(tree_sum cfg)" = "$before" ]
	# five more observations: five more origins
	head -n 5886 "$CHRONOPT_ROOT/testdata/usdclp_daily.csv" >short.csv
	opt-deploy challenge --series short.csv --model random_walk --horizon 7d --config-dir cfg >c2
	[ "$(jq .challenger.scores.origins_used c2)" = $((n1 + 5)) ]
	jq -e '.challenger.scores | .champion_rmse > 0 and .challenger_rmse > 0 and (.wins + .losses + .ties) == .origins_used' c2
	opt-history record --file h.jsonl <c2 >/dev/null
	[ "$(jq -r .outcome h.jsonl)" = challenger_scored ]
	[ "$(tree_sum cfg)" = "$before" ]
	# no challenger: no line
	run --separate-stderr opt-deploy challenge --series short.csv --model random_walk --horizon 30d --config-dir cfg
	assert_success
	[ -z "$output" ]
}

@test "challenger: promoted when significantly better, in one commit; the champion is backed up" {
	ch_setup 30d 30 2024-01-02
	run --separate-stderr opt-deploy challenge --series "$CHRONOPT_ROOT/testdata/usdclp_daily.csv" --model random_walk --horizon 30d --config-dir cfg
	assert_success
	echo "$output" >c
	jq -e '.challenger.action == "promoted" and .challenger.decided and .challenger.scores.test.name == "dm"' c
	jq -e '.challenger.scores.test.p_value < 0.05 and .challenger.scores.origins_used == 20' c
	jq -e '.challenger.scores.challenger_rmse < .challenger.scores.champion_rmse' c
	[ ! -e cfg/30d.challenger.json ]
	jq -e '.context_length == 540 and .model.dir == "drift" and .challenger == null' cfg/30d.json
	jq -e '.promoted_from.start_date == "2024-01-02" and (.promoted_from.challenger_sha256 | length) == 64' cfg/30d.json
	jq -e '.promoted_from.scores.test.p_value < 0.05' cfg/30d.json
	jq -e '.context_length == 90' "cfg/backups/$(jq -r .previous cfg/30d.json)"
	[ "$(git -C cfg log --format=%s -1)" = "promote 30d challenger: it becomes the config" ]
	[ "$(git -C cfg show --name-status --format= HEAD | sort | tr '\t' ' ')" = "$(printf 'A backups/%s\nD 30d.challenger.json\nM 30d.json' "$(jq -r .previous cfg/30d.json)")" ]
	[ -z "$(git -C cfg status --porcelain)" ]
	fsck_clean cfg
	opt-history record --file h.jsonl <c >/dev/null
	[ "$(jq -r .outcome h.jsonl)" = challenger_promoted ]
	# done: a second run has nothing to do
	run --separate-stderr opt-deploy challenge --series "$CHRONOPT_ROOT/testdata/usdclp_daily.csv" --model random_walk --horizon 30d --config-dir cfg
	assert_success
	[ -z "$output" ]
}

@test "challenger: retired when not significantly better; the champion stays" {
	ch_setup 7d 7 2025-01-02
	champ=$(sha256sum <cfg/7d.json)
	opt-deploy challenge --series "$CHRONOPT_ROOT/testdata/usdclp_daily.csv" --model random_walk --horizon 7d --config-dir cfg >c
	jq -e '.challenger.action == "retired" and .challenger.scores.test.p_value >= 0.05' c
	[ ! -e cfg/7d.challenger.json ]
	[ "$(sha256sum <cfg/7d.json)" = "$champ" ]
	[ "$(git -C cfg log --format=%s -1)" = "retire 7d challenger: the champion stays" ]
	[ "$(git -C cfg show --name-status --format= HEAD | tr '\t' ' ')" = "D 7d.challenger.json" ]
	[ -z "$(git -C cfg status --porcelain)" ]
	opt-history record --file h.jsonl <c >/dev/null
	[ "$(jq -r .outcome h.jsonl)" = challenger_retired ]
	# --dry-run says what it would do and changes nothing
	ch_envelope 3 7d 7 540 9 drift 2025-01-02 | opt-deploy deploy --as-challenger --config-dir cfg >/dev/null
	before=$(tree_sum cfg)
	opt-deploy challenge --dry-run --series "$CHRONOPT_ROOT/testdata/usdclp_daily.csv" --model random_walk --horizon 7d --config-dir cfg >c
	jq -e '.challenger.action == "retired" and .challenger.dry_run' c
	[[ "$(jq -r .challenger.summary c)" == "7d: challenger would be retired after 20 origins"* ]]
	[ "$(tree_sum cfg)" = "$before" ]
}

@test "challenger: the same decisions and p-values on 1000 times the series" {
	awk -F, 'NR == 1 { print; next } { printf "%s,%s,%.10g\n", $1, $2, $3 * 1000 }' "$CHRONOPT_ROOT/testdata/usdclp_daily.csv" >big.csv
	for s in "$CHRONOPT_ROOT/testdata/usdclp_daily.csv" big.csv; do
		for hz in "7d 7 2025-01-02" "30d 30 2024-01-02" "7d 7 2026-01-02"; do
			set -- $hz
			rm -rf cfg
			ch_setup "$1" "$2" "$3"
			opt-deploy challenge --series "$s" --model random_walk --horizon "$1" --config-dir cfg |
				jq -r '.challenger | [.action, .scores.test.name, (.scores.test.p_value * 1e6 | round), .scores.wins, (.scores.rmse_ratio * 1e6 | round)] | @tsv'
		done >"$(basename "$s").dec"
	done
	cat usdclp_daily.csv.dec
	cmp usdclp_daily.csv.dec big.csv.dec
	grep -q promoted usdclp_daily.csv.dec
	grep -q retired usdclp_daily.csv.dec
}

@test "challenger: a malformed or mistyped challenger file is refused with exit 3, one line naming it, nothing changed" {
	ch_setup 7d 7 2025-01-02
	good=$(cat cfg/7d.challenger.json)
	for bad in '{"horizon":"7d", oops' \
		"$(jq -c '.challenger.origins_required = "20"' <<<"$good")" \
		"$(jq -c '.challenger.origins_required = 2' <<<"$good")" \
		"$(jq -c '.challenger.level = 0' <<<"$good")" \
		"$(jq -c '.challenger.start_date = "2025-13-01"' <<<"$good")" \
		"$(jq -c '.challenger = [1]' <<<"$good")" \
		"$(jq -c 'del(.challenger)' <<<"$good")" \
		"$(jq -c '.context_length = "540"' <<<"$good")" \
		"$(jq -c '.horizon = "30d"' <<<"$good")"; do
		printf '%s\n' "$bad" >cfg/7d.challenger.json
		before=$(tree_sum cfg)
		run --separate-stderr opt-deploy challenge --series "$CHRONOPT_ROOT/testdata/usdclp_daily.csv" --model random_walk --horizon 7d --config-dir cfg
		assert_failure 3
		[ -z "$output" ]
		[ "${#stderr_lines[@]}" = 1 ]
		[[ "$stderr" == "opt-deploy: cfg/7d.challenger.json"* ]]
		[ "$(tree_sum cfg)" = "$before" ]
		# status reports it instead of failing
		opt-deploy status --config-dir cfg --horizon 7d --json | jq -e '.horizons[0].challenger.state == "corrupt"'
	done
	printf '%s\n' "$(jq -c '.challenger.level = "x"' <<<"$good")" >cfg/7d.challenger.json
	run --separate-stderr opt-deploy challenge --series "$CHRONOPT_ROOT/testdata/usdclp_daily.csv" --model random_walk --horizon 7d --config-dir cfg
	[ "$stderr" = 'opt-deploy: cfg/7d.challenger.json: "challenger"."level" must be a number in (0, 0.5]' ]
	run --separate-stderr opt-deploy challenge --model random_walk --config-dir cfg
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-deploy: challenge needs --series FILE and --model MODEL" ]
}

# ------------------------------------------------------------- ensembles

ENS='[{"weight":0.75,"model":{"dir":"drift","sha256":null},"config":{"context_length":60,"num_samples":100,"temperature":1,"top_k":0,"top_p":1}},{"weight":0.25,"model":{"dir":"random_walk","sha256":null},"config":{"context_length":30,"num_samples":50,"temperature":1,"top_k":0,"top_p":1}}]'

@test "an ensemble candidate is deployed with its members; history, report and the tools read it back" {
	envelope 1 60 10 | jq -c --argjson e "$ENS" '.search.candidate.ensemble = $e' >env
	opt-deploy deploy --config-dir "$CFG" <env | opt-history record --file h.jsonl >run
	[ "$(jq -c .ensemble "$CFG/7d.json")" = "$(jq -c . <<<"$ENS")" ]
	run --separate-stderr opt-deploy status --config-dir "$CFG" --horizon 7d --json
	assert_success
	[ "$(jq -r '.horizons[0].deployed // .[0].deployed // empty' <<<"$output" | head -1)" != false ]
	[ "$(jq -c .config.ensemble h.jsonl)" = "$(jq -c . <<<"$ENS")" ]
	opt-report --format text <run >report.txt
	grep -qx '  ensemble    0.75 x drift (context 60) + 0.25 x random_walk (context 30)' report.txt
	opt-report --history h.jsonl --config-dir "$CFG" --html r.html
	grep -q 'ensemble 0.75 x drift (context 60) + 0.25 x random_walk (context 30)' r.html
	# the deployed file runs: opt-backtest and opt-forecast combine its members
	run --separate-stderr opt-backtest --series "$CHRONOPT_ROOT/testdata/usdclp_daily.csv" --config "$CFG/7d.json" --origins 5
	assert_success
	run --separate-stderr opt-forecast --config "$CFG/7d.json" --values 10,11,12,13,14,15 --steps 3
	assert_success
	# drift's point from 5 values: 15 + h; random walk's: 15
	jq -e '[.point[] ] == [15 + 0.75 * 1, 15 + 0.75 * 2, 15 + 0.75 * 3]' <<<"$output"
}

@test "a malformed ensemble candidate is bad input (3) and the config directory is left as it was" {
	deploy_one 1 90 10
	before=$(tree_sum "$CFG")
	envelope 2 60 9 | jq -c --argjson e "$ENS" '.search.candidate.ensemble = ($e | .[0].weight = -0.75)' >env
	run --separate-stderr opt-deploy deploy --config-dir "$CFG" <env
	assert_failure 3
	[ "$stderr" = "opt-deploy: <stdin>:1: horizon '7d': candidate for '7d': ensemble member 1: 'weight' must be a number in (0, 1]" ]
	[ "$(tree_sum "$CFG")" = "$before" ]
}
