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
