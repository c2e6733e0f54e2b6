#!/usr/bin/env bash
# HTTP benchmark: 100,000 synthetic assets (placed where people live) plus the 3,238 real
# libraries, served by a release build on 127.0.0.1, loaded with wrk at concurrency 16 from
# random population-weighted centres; with the official IoD2019 areas (and boundaries) imported,
# also the access-gap reports, cold and cached. Prints requests/s, p50/p99 latency, start-up
# time and resident memory. Needs ../shared/data; installs wrk from Debian's packages if missing.
#
#   bench/load.sh                       # SQLite (default)
#   DATABASE_URL=postgres://... bench/load.sh
#   DURATION=30s RUNS=5 bench/load.sh     # each endpoint RUNS times; the median is printed
#   NO_AREAS=1 bench/load.sh              # assets only
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
OUT=bench/out
DURATION=${DURATION:-20s}
RUNS=${RUNS:-3}
PORT=${PORT:-18181}
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
  rm -f "$OUT"/bench.sqlite3*
  export DATABASE_URL="$OUT/bench.sqlite3"
fi
echo "== import (${DATABASE_URL%%://*})"
$BIN import assets "$DATA/assets_england_libraries_2016.csv" 2>/dev/null
/usr/bin/time -f "import of 100k synthetic rows: %e s wall, %M KiB max RSS" \
  $BIN import assets "$OUT/synthetic-100k.csv"

if [ -z "${NO_AREAS:-}" ]; then
  echo "== import areas (IoD2019 Files 1, 2, 6; LSOA 2011 points and boundaries)"
  /usr/bin/time -f "area import with boundaries: %e s wall, %M KiB max RSS" \
    $BIN import areas --imd "$DATA/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz" \
      --domains "$DATA/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz" \
      --population "$DATA/File_6_-_IoD2019_Population_Denominators.csv.gz" \
      --points "$DATA/lsoa2011_centroids_england.csv.gz" \
      --boundaries "$DATA/lsoa2011_boundaries_england.geojson.gz"
fi

echo "== start-up"
start=$(date +%s.%N)
# One client address makes every request: the per-address rate limit would answer 429.
# RATE_LIMIT=1 keeps the default limits on with a limit too high to reach, to measure their cost.
if [ -n "${RATE_LIMIT:-}" ]; then export RATE_LIMIT_PER_MINUTE=1000000000; else export RATE_LIMIT_PER_MINUTE=0; fi
$BIN serve --bind "127.0.0.1:$PORT" 2>"$OUT/server.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null; do sleep 0.02; done
echo "ready after $(echo "$(date +%s.%N) - $start" | bc) s (process start to /health/ready answering)"
grep -o 'snapshot built.*' "$OUT/server.log" | sed 's/\x1b\[[0-9;]*m//g' || true

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
if [ -z "${NO_AREAS:-}" ]; then
  # The first request after start-up is cold (nothing cached for this snapshot); the next
  # ones are cached. Server-Timing is the server's own time; curl's is end to end.
  for report in "access-gaps?category=museum,library,gallery,theatre,cafe&threshold_m=2000&max_decile=2" \
                "access-by-decile?category=museum,library,gallery,theatre,cafe&threshold_m=2000"; do
    echo "== /v1/reports/$report"
    for attempt in cold cached cached; do
      curl -s -o /dev/null -D "$OUT/headers.txt" -w "$attempt: %{time_total} s end to end, %{size_download} bytes, " \
        "http://127.0.0.1:$PORT/v1/reports/$report"
      grep -i '^server-timing' "$OUT/headers.txt" | tr -d '\r'
    done
  done
  run gaps-cached '/v1/reports/access-gaps?category=museum,library,gallery,theatre,cafe&threshold_m=2000&max_decile=2&limit=100'
fi
run nearby '/v1/assets?near={lat},{lon}&radius_m=2000&limit=50'
run nearest '/v1/assets/nearest?lat={lat}&lon={lon}&category=museum&k=10'
echo "== resident memory after load: $(grep VmRSS /proc/$PID/status | awk '{print $2/1024 " MiB"}')"
