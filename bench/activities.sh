#!/usr/bin/env bash
# HTTP benchmark of the activity search: 100,000 synthetic venues (placed where people live)
# holding 100,000 synthetic activities (kinds by venue, audiences, weekly/monthly/one-off
# schedules; `generate-activities`), served by a release build on 127.0.0.1, loaded with wrk
# at concurrency 16 from random population-weighted centres. Prints requests/s and p50/p99
# latency for each query, the median of RUNS runs. Needs ../shared/data; installs wrk from
# Debian's packages if missing (as bench/load.sh does).
#
#   bench/activities.sh                         # SQLite (default)
#   DATABASE_URL=postgres://... bench/activities.sh
#   DURATION=30s RUNS=5 bench/activities.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
OUT=bench/out
DURATION=${DURATION:-20s}
RUNS=${RUNS:-3}
PORT=${PORT:-18182}
mkdir -p "$OUT"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

cargo build --release --quiet --bins
BIN=target/release/community-assets

[ -s "$OUT/synthetic-100k.csv" ] || target/release/generate-assets 100000 2019 "$DATA" > "$OUT/synthetic-100k.csv"
# Query centres: another population-weighted sample, as lat,lon lines.
target/release/generate-assets 2000 7 "$DATA" | python3 -c '
import csv, sys
for row in csv.DictReader(sys.stdin):
    print(row["lat"] + "," + row["lon"])' > "$OUT/centres.txt"

if [ -z "${DATABASE_URL:-}" ]; then
  rm -f "$OUT"/activities.sqlite3*
  export DATABASE_URL="$OUT/activities.sqlite3"
fi
echo "== import (${DATABASE_URL%%://*})"
$BIN import assets "$OUT/synthetic-100k.csv" 2>/dev/null
/usr/bin/time -f "100,000 activities written: %e s wall, %M KiB max RSS" \
  target/release/generate-activities 100000 2026 "$(date -u +%F)"

echo "== start-up"
# One client address makes every request: no rate limit (as bench/load.sh).
export RATE_LIMIT_PER_MINUTE=0
$BIN serve --bind "127.0.0.1:$PORT" 2>"$OUT/activities-server.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null; do sleep 0.05; done
curl -s "http://127.0.0.1:$PORT/v1/activities?limit=1" | python3 -c 'import json,sys; print("public activities:", json.load(sys.stdin)["total"])'

run() {
  local name=$1 path=$2
  wrk -t1 -c16 -d5s -s bench/wrk-query.lua "http://127.0.0.1:$PORT" -- "$OUT/centres.txt" "$path" >/dev/null # warm-up
  echo "== $name ($RUNS runs of $DURATION, 16 connections): $path"
  for _ in $(seq "$RUNS"); do
    wrk -t1 -c16 -d"$DURATION" -s bench/wrk-query.lua "http://127.0.0.1:$PORT" -- "$OUT/centres.txt" "$path" | grep RESULT
  done | tee "$OUT/$name.txt"
  # Median of the runs, by requests/s (the machine is shared and noisy).
  sort -t= -k3 -n "$OUT/$name.txt" | sed -n "$(( (RUNS + 1) / 2 ))p" | sed 's/^RESULT/MEDIAN/'
}
run activities-near-day-audience '/v1/activities?near={lat},{lon}&radius_m=2000&day=tu&audience=older-people,dementia'
run activities-near-next '/v1/activities?near={lat},{lon}&radius_m=2000&sort=next'
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== resident memory after load: $(grep VmRSS /proc/$PID/status | awk '{print $2/1024 " MiB"}')"
