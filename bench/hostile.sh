#!/usr/bin/env bash
# Hostile load: the release build on 127.0.0.1 with the 3,238 real libraries and the IoD2019
# areas (points and boundaries), rate limits OFF (the worst case: nothing but the work
# budget stands between the attackers and the server), and for DURATION (default 60 s) at
# once (bench/hostile.py):
#   - 512 distinct report requests (each a ~30 MiB GeoJSON body), from 8 threads;
#   - 250 concurrent logins with made-up usernames, each from its own forwarded address;
#   - 4 what-if senders with 1,000 candidates at 100 km;
#   - 6 unauthenticated 60 MiB uploads to /v1/admin/imports, again and again;
# while wrk reads /v1/assets?near=... at random centres (4 connections). Resident memory is
# sampled every 0.5 s during the attack and for 30 s after it.
# The attackers run at the lowest CPU priority (nice 19): on a real deployment they are
# elsewhere, and on this machine's 2 cores their own Python would otherwise take the CPU the
# server and the reader need (the server's work is what is measured, not the attack's).
# Targets (issue 11): memory never above 400 MiB, public read p99 <= 50 ms with no errors
# (no 5xx, no 408, no socket error) during the attack, memory under 250 MiB within 30 s
# after. Prints the figures and PASS or FAIL for each; exits 1 on a FAIL.
#
#   bench/hostile.sh                      # 60 s
#   DURATION=20 bench/hostile.sh          # a quick run
#   MALLOC_ARENA_MAX=2 bench/hostile.sh   # as the Docker image runs it
# Needs ../shared/data; installs wrk from Debian's packages if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
OUT=bench/out/hostile
DURATION=${DURATION:-60}
PORT=${PORT:-18191}
mkdir -p "$OUT"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

cargo build --release --quiet --bins
BIN=target/release/community-assets
target/release/generate-assets 2000 7 "$DATA" | python3 -c '
import csv, sys
for row in csv.DictReader(sys.stdin):
    print(row["lat"] + "," + row["lon"])' > "$OUT/centres.txt"

export DATABASE_URL="$OUT/hostile.sqlite3"
if [ ! -s "$DATABASE_URL" ]; then
  echo "== import: libraries, IoD2019 areas with points and boundaries"
  $BIN import assets "$DATA/assets_england_libraries_2016.csv" 2>/dev/null
  $BIN import areas --imd "$DATA/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz" \
    --domains "$DATA/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz" \
    --population "$DATA/File_6_-_IoD2019_Population_Denominators.csv.gz" \
    --points "$DATA/lsoa2011_centroids_england.csv.gz" \
    --boundaries "$DATA/lsoa2011_boundaries_england.geojson.gz" 2>/dev/null
fi

# Attackers may say who they are in X-Forwarded-For (as if behind a proxy): the per-address
# login throttle then cannot simply refuse them all, and the password-check budget is tested.
RATE_LIMIT_PER_MINUTE=0 TRUSTED_PROXIES=127.0.0.1 JWT_SECRET=$(head -c 32 /dev/urandom | base64) \
  $BIN serve --bind "127.0.0.1:$PORT" 2>"$OUT/server.log" &
PID=$!
SAMPLER=
trap 'kill $PID $SAMPLER 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null; do sleep 0.05; done
rss() { awk '/VmRSS/ {print $2/1024}' "/proc/$PID/status"; }
echo "== ready: $(rss) MiB resident (MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-glibc default})"

READ='/v1/assets?near={lat},{lon}&radius_m=2000&limit=50'
read_load() { wrk -t1 -c4 -d"$1" --latency -s bench/wrk-query.lua "http://127.0.0.1:$PORT" -- "$OUT/centres.txt" "$READ"; }
echo "== public reads alone (10 s)"
read_load 10s | grep RESULT | tee "$OUT/reads-alone.txt"

start=$(date +%s.%N)
( while kill -0 $PID 2>/dev/null; do
    echo "$(echo "$(date +%s.%N) - $start" | bc),$(rss)"; sleep 0.5
  done ) > "$OUT/rss.csv" &
SAMPLER=$!
echo "== attack for $DURATION s, public reads meanwhile"
nice -n 19 python3 bench/hostile.py "$PORT" "$DURATION" > "$OUT/attack.json" &
ATTACK=$!
read_load "${DURATION}s" > "$OUT/reads-attacked.txt"
grep RESULT "$OUT/reads-attacked.txt"
wait $ATTACK
attack_end=$(echo "$(date +%s.%N) - $start" | bc)
echo "== attackers' answers (kind status: count)"
cat "$OUT/attack.json"
sleep 30
kill $SAMPLER 2>/dev/null || true
echo "== server errors logged: $(grep -c ' ERROR ' "$OUT/server.log" || true)"

peak=$(cut -d, -f2 "$OUT/rss.csv" | sort -n | tail -1)
after=$(awk -F, -v t="$attack_end" '$1 >= t + 29 {print $2; exit}' "$OUT/rss.csv")
p99=$(grep -o 'p99_ms=[0-9.]*' "$OUT/reads-attacked.txt" | cut -d= -f2)
errors=$(grep -o 'errors=[0-9]*' "$OUT/reads-attacked.txt" | cut -d= -f2)
status=0
check() { if [ "$1" = 1 ]; then echo "PASS $2"; else echo "FAIL $2"; status=1; fi; }
echo "== targets"
check "$(echo "$peak <= 400" | bc)" "peak resident memory $peak MiB (<= 400)"
check "$(echo "$p99 <= 50" | bc)" "public read p99 $p99 ms during the attack (<= 50)"
check "$([ "$errors" = 0 ] && echo 1 || echo 0)" "public read errors during the attack: $errors (none)"
check "$(echo "${after:-9999} < 250" | bc)" "resident memory 30 s after the attack ${after:-?} MiB (< 250)"
exit $status
