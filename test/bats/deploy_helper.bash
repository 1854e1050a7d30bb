# deploy_helper.bash — shared by opt-deploy.bats and opt-validate.bats.
load test_helper
unset CHRONOPT_DEPLOY_FAIL_AT CHRONOPT_GIT_EMAIL
# git CLI used only to inspect the repositories the tools make
export GIT_CONFIG_NOSYSTEM=1 HOME="$BATS_TEST_TMPDIR"

# envelope N CTX RMSE [approved] — one approved (or not) envelope line for 7d
envelope() {
	local approved=${4:-true}
	printf '{"schema":"chronopt/1","run_id":"run-%s","seed":42,"horizon":{"name":"7d","steps":7},' "$1"
	printf '"search":{"status":"done","candidate":{"horizon":"7d","context_length":%s,"num_samples":100,' "$2"
	printf '"temperature":1.0,"top_k":0,"top_p":1.0,"validation_rmse":%s,"validation_mape":1.5,' "$3"
	printf '"validation_mae":%s,"model":{"dir":"random_walk"}}},' "$3"
	printf '"validation":{"status":"done","approved":%s,"summary":"crafted",' "$approved"
	printf '"reasons":["RMSE %s is better"],"candidate":{"rmse":%s,"seconds":15},' "$3" "$3"
	printf '"windows":{"count":30}}}\n'
}

# every file (with .git) and its checksum, for "nothing changed" checks
tree_sum() {
	[ -e "$1" ] || { echo "absent"; return; }
	(cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum; find . | LC_ALL=C sort)
}

# files outside .git with checksums
files_sum() {
	[ -e "$1" ] || { echo "absent"; return; }
	(cd "$1" && find . -path ./.git -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}

fsck_clean() {
	run git -C "$1" fsck --full --strict
	[ "$status" -eq 0 ] || { echo "git fsck failed: $output"; return 1; }
	if printf '%s\n' "$output" | grep -Eiq '^(error|missing|broken|bad|fatal)'; then
		echo "git fsck: $output"
		return 1
	fi
}

# run a command with directory $1 read-only (a read-only bind mount when we
# are root, so that permissions are really enforced; else chmod)
run_readonly() {
	local dir=$1
	shift
	if [ "$(id -u)" -eq 0 ]; then
		run --separate-stderr unshare -m sh -c 'mount --bind -o ro "$1" "$1" && shift && exec "$@"' sh "$dir" "$@"
	else
		chmod -R a-w "$dir"
		run --separate-stderr "$@"
		chmod -R u+w "$dir"
	fi
}
