#!/usr/bin/env bats
# Every man page documents the one exit-code table and renders cleanly.

setup() {
	cd "$CHRONOPT_ROOT"
	shopt -s nullglob
}

@test "every tool has a man page" {
	for src in bin/*.c; do
		t=$(basename "$src" .c)
		[ -f "man/man1/$t.1" ] || { echo "missing man/man1/$t.1"; return 1; }
	done
	# The pipeline script is a tool too.
	[ -f man/man1/pipeline.sh.1 ] || { echo "missing man/man1/pipeline.sh.1"; return 1; }
}

@test "every man page carries the same exit-code table" {
	want=$(sed -n '/^\.SH EXIT STATUS/,/^\.TE/p' man/man7/chronopt-envelope.7 | grep -E '^[0-7]	')
	[ "$(printf '%s\n' "$want" | wc -l)" -eq 8 ]
	for p in man/man1/*.1 man/man7/*.7; do
		got=$(sed -n '/^\.SH EXIT STATUS/,/^\.TE/p' "$p" | grep -E '^[0-7]	')
		[ "$got" = "$want" ] || { echo "$p: exit-code table differs"; return 1; }
	done
}

@test "man pages render without warnings" {
	for p in man/man1/*.1 man/man7/*.7; do
		out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$p" 2>&1 >/dev/null)
		[ -z "$out" ] || { echo "$p: $out"; return 1; }
	done
}

@test "every field a run writes into an envelope is named in a man page" {
	bin="${CHRONOPT_BIN:-$CHRONOPT_ROOT/build/bin}"
	cd "$BATS_TEST_TMPDIR"
	{ head -1 "$CHRONOPT_ROOT/testdata/usdclp_daily.csv"; tail -n 1500 "$CHRONOPT_ROOT/testdata/usdclp_daily.csv"; } >s.csv
	mkdir cfg
	c="$CHRONOPT_ROOT/configs/demo.json"
	export CHRONOPT_NOW=2026-11-23T02:00:00Z OPENBLAS_NUM_THREADS=1
	"$bin/opt-trigger" --series s.csv --all --model drift --config "$c" --config-dir cfg --history h.jsonl |
		"$bin/opt-search" --config "$c" --model drift --objectives rmse,cost |
		"$bin/opt-validate" --config "$c" --config-dir cfg |
		"$bin/opt-deploy" deploy --config-dir cfg |
		"$bin/opt-history" record --file h.jsonl >run.ndjson
	# a deployment and a refusal, so both shapes of each section are seen
	[ "$(jq -s 'map(select(.deployment.status == "done")) | length' run.ndjson)" -ge 1 ]
	[ "$(jq -s 'map(select(.validation.approved == false)) | length' run.ndjson)" -ge 1 ]
	keys=$(jq -r 'paths | map(select(type == "string")) | .[]' run.ndjson h.jsonl | sort -u)
	[ "$(wc -l <<<"$keys")" -gt 200 ]
	pages=$(cat "$CHRONOPT_ROOT"/man/man1/*.1 "$CHRONOPT_ROOT"/man/man7/*.7)
	undocumented=
	for k in $keys; do
		grep -qF -- "$k" <<<"$pages" || undocumented="$undocumented $k"
	done
	[ -z "$undocumented" ] || { echo "undocumented:$undocumented"; return 1; }
}
