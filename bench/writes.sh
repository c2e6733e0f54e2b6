#!/bin/sh
# Admin writes at scale: N synthetic assets (default 1,000,000) in a fresh database, two
# instances on it (A on 127.0.0.1:18181, B on :18182), then bench/write_latency.py: a PATCH's
# latency through A (visible on A when it returns), the delay until B shows it, A's first
# admin list after each write, and A's memory over the writes.
#
#   bench/writes.sh [N] [WRITES]                      # SQLite (B by its 1 s poll)
#   DATABASE_URL=postgres://... bench/writes.sh ...   # PostgreSQL (B by NOTIFY); a fresh,
#                                                      # empty database
# REUSE=1 with DATABASE_URL set skips the import and the account (a database this script made).
# Needs `cargo build --release` and ../shared/data. 127.0.0.1 only.
set -eu
N=${1:-1000000}
WRITES=${2:-200}
BIN=target/release/community-assets
CSV=${TMPDIR:-/tmp}/ca-synthetic-$N.csv
DB=${DATABASE_URL:-${TMPDIR:-/tmp}/ca-writes-$$.sqlite3}
PW='bench admin passphrase'
export DATABASE_URL="$DB"
if [ -z "${REUSE:-}" ]; then
  [ -s "$CSV" ] || target/release/generate-assets "$N" > "$CSV"
  /usr/bin/time -f 'import: %e s, peak %M KiB' "$BIN" import assets "$CSV"
  COMMUNITY_ASSETS_PASSWORD="$PW" "$BIN" users add bench --role admin
fi
export JWT_SECRET=bench-secret-of-at-least-32-bytes-long RATE_LIMIT_PER_MINUTE=0 RATE_LIMIT_KEY_PER_MINUTE=0
"$BIN" serve --bind 127.0.0.1:18181 2>/tmp/ca-writes-a.log & A=$!
"$BIN" serve --bind 127.0.0.1:18182 2>/tmp/ca-writes-b.log & B=$!
trap 'kill $A $B 2>/dev/null' EXIT
for port in 18181 18182; do
  until curl -sf http://127.0.0.1:$port/health/ready >/dev/null; do sleep 0.2; done
done
python3 bench/write_latency.py http://127.0.0.1:18181 http://127.0.0.1:18182 bench "$PW" "$WRITES" "$A"
