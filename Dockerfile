# Build: a release binary against Debian's libpq. Run: a slim image with libpq and curl
# (for the health check), as an unprivileged user.
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
COPY benches benches
RUN cargo build --release --locked --bin community-assets

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /var/lib/community-assets app \
    && mkdir -p /var/lib/community-assets && chown app /var/lib/community-assets
COPY --from=build /src/target/release/community-assets /usr/local/bin/community-assets
USER app
WORKDIR /var/lib/community-assets
ENV BIND_ADDR=0.0.0.0:8080
# Two malloc arenas instead of glibc's default of up to 8 per core: under a mixed load of
# reads and writes the resident memory then stays flat (bench/soak.sh: about 115 MiB
# instead of about 190 MiB and still creeping after 5 minutes).
ENV MALLOC_ARENA_MAX=2
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD curl -fsS http://127.0.0.1:8080/health/ready || exit 1
ENTRYPOINT ["community-assets"]
CMD ["serve"]
