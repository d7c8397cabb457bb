# syntax=docker/dockerfile:1.7
# One image per service, all from this file: `docker build --target command .`
# (or dispatcher, query, archiver, sandbox-target). The stages share one
# compile, so building all five costs one build.
#
# cargo-chef compiles the dependencies from a recipe (Cargo.toml and
# Cargo.lock only) in a layer of its own: a change to our code rebuilds only
# our crates.

ARG RUST_VERSION=1.95
ARG CARGO_CHEF_VERSION=0.1.78

FROM rust:${RUST_VERSION}-slim-bookworm AS chef
ARG CARGO_CHEF_VERSION
# librdkafka builds with cmake-free configure, but needs a C toolchain, perl
# and OpenSSL's headers (TLS and SASL/SCRAM to MSK).
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential perl pkg-config libssl-dev \
    && rm -rf /var/lib/apt/lists/* \
    && cargo install cargo-chef --version "${CARGO_CHEF_VERSION}" --locked
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
# Extra cargo features, e.g. `--build-arg FEATURES=msk-iam` for MSK IAM auth.
ARG FEATURES=""
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json --features "${FEATURES}" \
    -p orch-command -p orch-dispatcher -p orch-query -p orch-archiver -p orch-sandbox-target -p orchctl
COPY . .
# The commit built, for --version, orch_build_info and span resources; set
# after the dependencies are cooked so a new commit reuses their layer.
ARG ORCH_GIT_COMMIT=unknown
ENV ORCH_GIT_COMMIT=${ORCH_GIT_COMMIT}
RUN cargo build --release --locked --features "${FEATURES}" \
    -p orch-command -p orch-dispatcher -p orch-query -p orch-archiver -p orch-sandbox-target -p orchctl --bins \
    && mkdir -p /out/spool

# glibc, libgcc, OpenSSL and CA certificates, no shell; runs as uid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=builder /src/target/release/orchctl /usr/local/bin/orchctl
ENV LOG_FORMAT=json RUST_LOG=info
USER 65532:65532

FROM runtime AS command
COPY --from=builder /src/target/release/orch-command /usr/local/bin/orch-command
# The spool holds accepted events while Kafka is away: mount a persistent
# volume here. The directory is the non-root user's, so a fresh volume is too.
COPY --from=builder --chown=65532:65532 /out/spool /var/lib/orch/spool
ENV COMMAND_LISTEN_ADDR=0.0.0.0:8080 COMMAND_SPOOL_DIR=/var/lib/orch/spool
VOLUME ["/var/lib/orch/spool"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/orchctl", "probe", "http://127.0.0.1:8080/ready"]
ENTRYPOINT ["/usr/local/bin/orch-command"]

FROM runtime AS dispatcher
COPY --from=builder /src/target/release/orch-dispatcher /usr/local/bin/orch-dispatcher
ENV DISPATCHER_LISTEN_ADDR=0.0.0.0:8081
EXPOSE 8081
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/orchctl", "probe", "http://127.0.0.1:8081/ready"]
ENTRYPOINT ["/usr/local/bin/orch-dispatcher"]

FROM runtime AS query
COPY --from=builder /src/target/release/orch-query /usr/local/bin/orch-query
ENV QUERY_LISTEN_ADDR=0.0.0.0:8082
EXPOSE 8082
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/orchctl", "probe", "http://127.0.0.1:8082/ready"]
ENTRYPOINT ["/usr/local/bin/orch-query"]

FROM runtime AS archiver
COPY --from=builder /src/target/release/orch-archiver /usr/local/bin/orch-archiver
ENV ARCHIVER_LISTEN_ADDR=0.0.0.0:8083
EXPOSE 8083
# /ready is 503 while the bucket does not answer a listing (dead letters wait
# in Kafka meanwhile); /health is the process alone.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/orchctl", "probe", "http://127.0.0.1:8083/ready"]
ENTRYPOINT ["/usr/local/bin/orch-archiver"]

FROM runtime AS sandbox-target
COPY --from=builder /src/target/release/orch-sandbox-target /usr/local/bin/orch-sandbox-target
ENV SANDBOX_LISTEN_ADDR=0.0.0.0:8090
EXPOSE 8090
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/orchctl", "probe", "http://127.0.0.1:8090/health"]
ENTRYPOINT ["/usr/local/bin/orch-sandbox-target"]
