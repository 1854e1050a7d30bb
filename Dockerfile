# chronopt in a container: Debian 12, built in one stage, run in another as
# a non-root user, the workspace a volume.  See README.md, "In a container".
#
#   docker build -t chronopt .
#   docker run --rm -v chronopt-ws:/workspace -e CHRONOPT_MODEL=random_walk chronopt check
#   docker run --rm -v chronopt-ws:/workspace chronopt run --all
#   docker compose -f docker/compose.yaml up     (1 GB memory limit)
#
# The entrypoint is pipeline.sh, run in /workspace: every argument is a
# pipeline.sh command (run, status, watch, report, check, demo, ...).

# ------------------------------------------------------------------ build
FROM debian:12-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential pkg-config libcsv-dev libcjson-dev libopenblas-dev libgit2-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# What the build and `make install` read, and nothing else (no build/, no
# test data beyond the bundled series).
COPY Makefile pipeline.sh ./
COPY bin/ bin/
COPY lib/ lib/
COPY man/ man/
COPY configs/ configs/
COPY scripts/install-cron scripts/
COPY models/chronos-demo/config.json models/chronos-demo/model.safetensors models/chronos-demo/README.md models/chronos-demo/
COPY models/chronos-bolt-demo/config.json models/chronos-bolt-demo/model.safetensors models/chronos-bolt-demo/README.md models/chronos-bolt-demo/
COPY models/chronos-2-demo/config.json models/chronos-2-demo/model.safetensors models/chronos-2-demo/README.md models/chronos-2-demo/
COPY testdata/usdclp_daily.csv testdata/usdclp_daily.README.md testdata/
RUN make -j"$(nproc)" DEVELOPER=1 \
 && make install DESTDIR=/stage PREFIX=/usr/local

# -------------------------------------------------------------------- run
FROM debian:12-slim
# The tools' libraries, and what pipeline.sh calls: jq, flock (util-linux),
# logger (bsdutils), tzdata (the schedules' time zones), man for the pages.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcsv3 libcjson1 libopenblas0-pthread libgit2-1.5 jq tzdata man-db \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /stage/usr/local/ /usr/local/
RUN groupadd --system chronopt \
 && useradd --system --gid chronopt --home-dir /workspace --shell /usr/sbin/nologin chronopt \
 && mkdir -p /workspace \
 && chown chronopt:chronopt /workspace
RUN mandb -q /usr/local/share/man || true
# OpenBLAS threads pinned (the tools record them); the search's workers
# follow CHRONOPT_JOBS (default: the CPUs the container sees).
ENV LC_ALL=C.UTF-8 OPENBLAS_NUM_THREADS=1 TZ=America/Santiago
USER chronopt
WORKDIR /workspace
VOLUME ["/workspace"]
ENTRYPOINT ["/usr/local/bin/pipeline.sh"]
CMD ["--help"]
