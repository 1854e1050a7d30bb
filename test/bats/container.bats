#!/usr/bin/env bats
# The container recipe: Dockerfile (Debian 12, multi-stage, non-root, a
# workspace volume, pipeline.sh as entrypoint) and docker/compose.yaml
# (1 GB).  The image is built and run only where a docker daemon answers;
# elsewhere those tests are skipped and say why.  The recipe's own contract
# is checked everywhere.

bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

: "${CHRONOPT_ROOT:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
: "${CHRONOPT_BUILD:=$CHRONOPT_ROOT/build}"
DF=$CHRONOPT_ROOT/Dockerfile
COMPOSE=$CHRONOPT_ROOT/docker/compose.yaml

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# Skip unless a docker daemon answers (the client alone is not enough).
need_docker() {
	command -v docker >/dev/null || skip "docker is not installed: the image was not built or run"
	timeout 20 docker info >/dev/null 2>&1 || skip "no docker daemon answers (docker info failed): the image was not built or run"
}

@test "the Dockerfile: Debian 12 in both stages, a non-root user, the workspace a volume, pipeline.sh the entrypoint" {
	[ "$(grep -c '^FROM debian:12-slim' "$DF")" -eq 2 ]
	grep -qx 'FROM debian:12-slim AS build' "$DF"
	grep -qx 'COPY --from=build /stage/usr/local/ /usr/local/' "$DF"
	grep -qx 'USER chronopt' "$DF"
	grep -qx 'VOLUME \["/workspace"\]' "$DF"
	grep -qx 'WORKDIR /workspace' "$DF"
	grep -qx 'ENTRYPOINT \["/usr/local/bin/pipeline.sh"\]' "$DF"
	# the runtime packages are those of the libraries the tools link
	for lib in libcsv.so.3 libcjson.so.1 libopenblas.so.0 libgit2.so.1.5; do
		ldd "$CHRONOPT_BUILD/bin/opt-deploy" "$CHRONOPT_BUILD/bin/opt-search" | grep -q "$lib" ||
			{ echo "the tools no longer link $lib: update the Dockerfile"; return 1; }
	done
	grep -Eq 'libcsv3 libcjson1 libopenblas0-pthread libgit2-1.5 jq tzdata' "$DF"
}

@test "the build stage's files are enough for make install (built tools reused)" {
	# Copy exactly what the Dockerfile's COPY lines name, with the test
	# run's build directory (so nothing is compiled), and install.
	mkdir ctx
	grep '^COPY [^-]' "$DF" | while read -r _ args; do
		read -r -a words <<<"$args"
		dest=${words[-1]}
		unset 'words[-1]'
		for src in "${words[@]}"; do
			mkdir -p "ctx/$dest"
			if [ -d "$CHRONOPT_ROOT/$src" ]; then # COPY dir/ dest/ copies the contents
				cp -a "$CHRONOPT_ROOT/$src/." "ctx/$dest" || exit 1
			else
				cp -a "$CHRONOPT_ROOT/$src" "ctx/$dest" || exit 1
			fi
		done
	done
	[ -x ctx/pipeline.sh ] && [ -f ctx/models/chronos-demo/model.safetensors ]
	mkdir -p ctx/build && cp -a "$CHRONOPT_BUILD/." ctx/build/
	run make --no-print-directory -s -C ctx install DESTDIR="$PWD/stage" PREFIX=/usr/local B=build
	assert_success
	[ -x stage/usr/local/bin/pipeline.sh ] && [ -x stage/usr/local/bin/opt-search ]
	[ -f stage/usr/local/share/chronopt/configs/chronopt.json ]
	[ -f stage/usr/local/share/man/man1/pipeline.sh.1 ]
}

@test "the compose example limits memory to 1 GB and mounts the workspace" {
	grep -qx '    mem_limit: 1g' "$COMPOSE"
	grep -qx '    memswap_limit: 1g' "$COMPOSE"
	grep -qx '      - ./workspace:/workspace' "$COMPOSE"
	grep -qx '      dockerfile: Dockerfile' "$COMPOSE"
	if command -v docker >/dev/null && docker compose version >/dev/null 2>&1; then
		run docker compose -f "$COMPOSE" config
		assert_success
		assert_output --partial 'mem_limit: "1073741824"'
	else
		skip "docker compose is not installed: the file was not parsed by it"
	fi
}

@test "the image builds, runs as a non-root user, and runs the pipeline in its volume under 1 GB" {
	need_docker
	tag=chronopt-test:$$
	run docker build -q -t "$tag" "$CHRONOPT_ROOT"
	assert_success
	run docker run --rm --entrypoint id "$tag" -u
	assert_success
	[ "$output" != 0 ]
	mkdir -p ws && chmod 0777 ws
	{
		head -n 1 "$CHRONOPT_ROOT/testdata/usdclp_daily.csv"
		tail -n 1000 "$CHRONOPT_ROOT/testdata/usdclp_daily.csv"
	} >ws/series.csv
	cp "$CHRONOPT_ROOT/test/bats/fixtures/pipeline/settings.json" ws/settings.json
	printf 'CHRONOPT_SERIES=series.csv\nCHRONOPT_MODEL=random_walk\nCHRONOPT_CONFIG=settings.json\n' >ws/chronopt.env
	chmod -R a+rwX ws
	run docker run --rm --memory 1g -v "$PWD/ws:/workspace" "$tag" check
	assert_success
	assert_line "tools       /usr/local/bin"
	run docker run --rm --memory 1g -e CHRONOPT_NOW=2026-11-23T02:00:00Z -v "$PWD/ws:/workspace" "$tag" run --horizon 7d
	assert_success
	assert_line --partial "7d: triggered"
	[ -s ws/history.jsonl ] && [ -s ws/report.html ]
	run docker run --rm "$tag" --help
	assert_success
	docker rmi "$tag" >/dev/null || true
}
