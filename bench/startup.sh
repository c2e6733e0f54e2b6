#!/usr/bin/env bash
# Start-up at scale: the time from launching `serve` until /health/ready answers, and the
# resident memory (VmRSS) once ready, for RUNS start-ups (median printed). The database is
# prepared once and reused: COUNT synthetic assets (generate-assets, seed 2019) and, unless
# NO_AREAS=1, the IoD2019 areas with points and boundaries, as bench/load.sh imports them.
# SQLite only; 127.0.0.1 only. Needs ../shared/data.
#
#   bench/startup.sh                          # 1,000,000 assets + areas, 3 start-ups
#   COUNT=100000 NO_AREAS=1 bench/startup.sh  # 100,000 assets, no areas
#   BIN=/path/to/community-assets bench/startup.sh   # another build, on the same database
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-1000000}
RUNS=${RUNS:-3}
PORT=${PORT:-18191}
DATA=${DATA:-../shared/data}
OUT=bench/out
mkdir -p "$OUT"
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet --bins
  BIN=target/release/community-assets
fi
DB="$OUT/scale-$COUNT${NO_AREAS:+-noareas}.sqlite3"
export DATABASE_URL="$DB"

if [ ! -s "$DB" ]; then
  echo "== preparing $DB (once)"
  CSV="$OUT/synthetic-$COUNT.csv"
  [ -s "$CSV" ] || target/release/generate-assets "$COUNT" 2019 "$DATA" > "$CSV"
  /usr/bin/time -f "import assets: %e s, %M KiB max RSS" "$BIN" import assets "$CSV" >/dev/null
  if [ -z "${NO_AREAS:-}" ]; then
    /usr/bin/time -f "import areas: %e s, %M KiB max RSS" "$BIN" import areas \
      --imd "$DATA/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz" \
      --domains "$DATA/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz" \
      --population "$DATA/File_6_-_IoD2019_Population_Denominators.csv.gz" \
      --points "$DATA/lsoa2011_centroids_england.csv.gz" \
      --boundaries "$DATA/lsoa2011_boundaries_england.geojson.gz" >/dev/null
  fi
fi

echo "== $RUNS start-ups of $BIN on $DB"
: > "$OUT/startup.txt"
for run in $(seq "$RUNS"); do
  start=$(date +%s.%N)
  "$BIN" serve --bind "127.0.0.1:$PORT" 2>"$OUT/startup-server.log" &
  PID=$!
  until curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null; do
    kill -0 $PID 2>/dev/null || { echo "the server exited:"; tail "$OUT/startup-server.log"; exit 1; }
    sleep 0.01
  done
  ready=$(echo "$(date +%s.%N) - $start" | bc)
  # CPU time (user + system, all threads) until ready: less sensitive than the wall
  # clock to other work sharing the cores.
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$PID/stat")
  sleep 1
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")
  kill $PID
  wait $PID || true
  printf 'run %d: ready after %.2f s, VmRSS %d MiB, CPU %s s\n' "$run" "$ready" "$((rss / 1024))" "$cpu" | tee -a "$OUT/startup.txt"
done
median() { awk "{print \$$1}" "$OUT/startup.txt" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"; }
echo "median: ready after $(median 5) s, VmRSS $(median 8) MiB, CPU $(median 11) s"
