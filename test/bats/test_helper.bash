# test_helper.bash — shared setup for every chronopt bats suite.
#   load test_helper        (from a .bats file in test/bats/)
# Loads bats-support, bats-assert and bats-file from Debian's packages, puts
# the freshly built tools ($CHRONOPT_BIN, set by scripts/run-tests) first on
# PATH, and pins what tools read from the environment so tests do not depend
# on the machine: no inherited history/config paths, a fixed clock and run id
# (override per test when needed), one OpenBLAS thread.

bats_require_minimum_version 1.5.0

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load /usr/lib/bats/bats-file/load

: "${CHRONOPT_ROOT:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
: "${CHRONOPT_BIN:=$CHRONOPT_ROOT/build/bin}"
export CHRONOPT_ROOT CHRONOPT_BIN
export PATH="$CHRONOPT_BIN:$PATH"
export OPENBLAS_NUM_THREADS=1
export CHRONOPT_NOW=2026-11-23T02:00:00Z
export CHRONOPT_RUN_ID=test-run
unset CHRONOPT_HISTORY CHRONOPT_CONFIG CHRONOPT_CONFIG_DIR CHRONOPT_FAIL_AT CHRONOPT_CACHE CHRONOPT_CACHE_MAX_MB

# Fixtures shipped with the suites live in test/bats/fixtures/.
FIXTURES="$CHRONOPT_ROOT/test/bats/fixtures"
export FIXTURES

# CHRONOPT_WRAP (set by `make check VALGRIND=1`, see scripts/run-tests): a
# command put in front of every tool, e.g. "valgrind -q ...". The tools are
# reached through a directory of wrapper scripts that takes the place of
# $CHRONOPT_BIN, so tests calling "$CHRONOPT_BIN/tool" or plain "tool" both
# go through it.
if [ -n "${CHRONOPT_WRAP:-}" ]; then
	: "${CHRONOPT_REAL_BIN:=$CHRONOPT_BIN}"
	export CHRONOPT_REAL_BIN
	if [ ! -d "$BATS_RUN_TMPDIR/wrap-bin" ]; then
		mkdir -p "$BATS_RUN_TMPDIR/wrap-bin.$$"
		for tool in "$CHRONOPT_REAL_BIN"/*; do
			[ -f "$tool" ] && [ -x "$tool" ] || continue
			printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$CHRONOPT_WRAP" "$tool" \
				>"$BATS_RUN_TMPDIR/wrap-bin.$$/${tool##*/}"
			chmod +x "$BATS_RUN_TMPDIR/wrap-bin.$$/${tool##*/}"
		done
		mv -T "$BATS_RUN_TMPDIR/wrap-bin.$$" "$BATS_RUN_TMPDIR/wrap-bin" 2>/dev/null ||
			rm -rf "$BATS_RUN_TMPDIR/wrap-bin.$$"
	fi
	CHRONOPT_BIN="$BATS_RUN_TMPDIR/wrap-bin"
	export PATH="$CHRONOPT_BIN:$PATH"
fi
