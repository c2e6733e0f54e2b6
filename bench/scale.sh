#!/usr/bin/env bash
# Scale benchmark (issue 14): N synthetic assets (default 1,000,000: the canonical import CSV,
# 70 % cafes, clustered where people live) plus the IoD2019 areas (points), release build,
# 127.0.0.1 only. Medians of RUNS (default 3) runs. Prints:
#   1. `import assets` of the N-row file into an empty database: wall time, peak memory;
#   2. start-up to ready (process start to /health/ready) and resident memory after it;
#   3. admin PATCH answered and visible on the same instance (p50/p99), the first admin list
#      after a write, resident memory every 1,000 writes over WRITES (default 10,000) writes,
#      and, on PostgreSQL, the delay until a second instance shows a write (LISTEN/NOTIFY);
#   4. nearby (2 km, 50 items) with wrk, 16 connections, random population-weighted centres;
#   5. on PostgreSQL (or PEER=1): the PostGIS peer on the same N points and the same centres:
#      geography(Point) with a GiST index, ST_DWithin(geog, p, 2000) ORDER BY
#      ST_Distance(geog, p) LIMIT 50, pgbench -M prepared, 16 clients (installs Debian's
#      postgresql-15-postgis-3 if missing), and the ratio.
#
#   bench/scale.sh                                   # SQLite (a file in bench/out/scale)
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bench/scale.sh
#                                                    # PostgreSQL: a fresh database scale_bench
#                                                    # on that server (dropped and created)
#   N=100000 RUNS=1 WRITES=2000 bench/scale.sh       # smaller and quicker
#   STEPS="startup writes" bench/scale.sh            # some steps, on the last import
#   BIN=/path/to/release/community-assets bench/scale.sh   # no build
# Needs ../shared/data; installs wrk (and PostGIS for the peer) from Debian's packages.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
N=${N:-1000000}
RUNS=${RUNS:-3}
WRITES=${WRITES:-10000}
DURATION=${DURATION:-20s}
STEPS=${STEPS:-import startup writes nearby peer}
PORT_A=${PORT_A:-18281}
PORT_B=${PORT_B:-18282}
OUT=bench/out/scale
mkdir -p "$OUT"
export RATE_LIMIT_PER_MINUTE=0 RATE_LIMIT_KEY_PER_MINUTE=0 RUST_LOG=${RUST_LOG:-warn}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
if [ -z "${BIN:-}" ]; then cargo build --release --quiet --bins; fi
BIN=${BIN:-target/release/community-assets}
GEN="$(dirname "$BIN")/generate-assets"
has() { [[ " $STEPS " == *" $1 "* ]]; }
median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

CSV="$OUT/synthetic-$N.csv"
[ -s "$CSV" ] || { echo "== generating $N synthetic assets"; "$GEN" "$N" 2019 "$DATA" > "$CSV"; }
# Query centres: another population-weighted sample, as lat,lon lines.
[ -s "$OUT/centres.txt" ] || "$GEN" 2000 7 "$DATA" | python3 -c '
import csv, sys
for row in csv.DictReader(sys.stdin):
    print(row["lat"] + "," + row["lon"])' > "$OUT/centres.txt"

if [[ "${DATABASE_URL:-}" == postgres* ]]; then
  BACKEND=postgres
  ADMIN_URL=$DATABASE_URL
  fresh_db() {
    psql "$ADMIN_URL" -v ON_ERROR_STOP=1 -qc "DROP DATABASE IF EXISTS scale_bench WITH (FORCE)" \
      -c "CREATE DATABASE scale_bench"
  }
  export DATABASE_URL="${ADMIN_URL%/*}/scale_bench"
else
  BACKEND=sqlite
  export DATABASE_URL="$OUT/scale.sqlite3"
  fresh_db() { rm -f "$OUT"/scale.sqlite3*; }
fi
echo "== $BACKEND, N=$N, RUNS=$RUNS"

if has import; then
  : > "$OUT/import.txt"
  for run in $(seq "$RUNS"); do
    fresh_db
    /usr/bin/time -f "%e %M" -o "$OUT/time.txt" $BIN import assets "$CSV" > /dev/null 2>"$OUT/import.log" \
      || { cat "$OUT/import.log"; exit 1; }
    read -r secs kib < "$OUT/time.txt"
    echo "import run $run: $secs s, peak $((kib / 1024)) MiB"
    echo "$secs $kib" >> "$OUT/import.txt"
  done
  echo "MEDIAN import of $N rows: $(cut -d' ' -f1 "$OUT/import.txt" | median) s, peak $(( $(cut -d' ' -f2 "$OUT/import.txt" | median | cut -d. -f1) / 1024 )) MiB"
  echo "== import areas (IoD2019 Files 1, 2, 6; LSOA 2011 points)"
  $BIN import areas --imd "$DATA/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz" \
    --domains "$DATA/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz" \
    --population "$DATA/File_6_-_IoD2019_Population_Denominators.csv.gz" \
    --points "$DATA/lsoa2011_centroids_england.csv.gz" >/dev/null 2>&1
fi

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
rss() { awk '$1 == "VmRSS:" {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
serve() { # port log: starts a server and waits until it is ready; sets SERVED (its pid) and READY_S
  local start; start=$(date +%s.%N)
  $BIN serve --bind "127.0.0.1:$1" >/dev/null 2>"$2" &
  SERVED=$!; PIDS+=("$SERVED")
  for _ in $(seq 6000); do curl -sf "http://127.0.0.1:$1/health/ready" >/dev/null && break; sleep 0.01; done
  curl -sf "http://127.0.0.1:$1/health/ready" >/dev/null || { cat "$2"; echo "FATAL: not ready" >&2; exit 1; }
  READY_S=$(echo "$(date +%s.%N) - $start" | bc)
}
stop() { kill "$1"; wait "$1" 2>/dev/null || true; }

JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
export JWT_SECRET JWT_TTL_SECONDS=86400
if has startup; then
  : > "$OUT/startup.txt"
  for run in $(seq "$RUNS"); do
    serve "$PORT_A" "$OUT/server-a.log"; pid=$SERVED secs=$READY_S
    sleep 1
    echo "start-up run $run: ready after $(printf %.2f "$secs") s, resident memory $(rss "$pid") MiB"
    echo "$secs $(rss "$pid")" >> "$OUT/startup.txt"
    stop "$pid"
  done
  echo "MEDIAN start-up to ready: $(cut -d' ' -f1 "$OUT/startup.txt" | median) s, resident memory after it $(cut -d' ' -f2 "$OUT/startup.txt" | median) MiB"
fi

if has writes || has nearby; then
  serve "$PORT_A" "$OUT/server-a.log"; PID_A=$SERVED
  A=http://127.0.0.1:$PORT_A
  # Random published ids near the query centres, for the writes.
  python3 - "$A" "$OUT/centres.txt" > "$OUT/ids.txt" <<'EOF'
import json, sys, urllib.request
url, centres = sys.argv[1], [l.strip() for l in open(sys.argv[2])][:200]
ids = set()
for c in centres:
    with urllib.request.urlopen(f"{url}/v1/assets?near={c}&radius_m=5000&limit=20") as r:
        ids.update(item["id"] for item in json.load(r)["items"])
print("\n".join(sorted(ids)))
EOF
fi

if has writes; then
  PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
  COMMUNITY_ASSETS_PASSWORD=$PASSWORD $BIN users add "scale-$$" --role admin >/dev/null 2>&1
  TOKEN=$(curl -sf -X POST "$A/v1/auth/token" -H 'Content-Type: application/json' \
    -d "{\"username\":\"scale-$$\",\"password\":\"$PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  B=""
  if [ "$BACKEND" = postgres ]; then
    serve "$PORT_B" "$OUT/server-b.log"; B=http://127.0.0.1:$PORT_B
  fi
  echo "== $WRITES admin writes through A ($(wc -l < "$OUT/ids.txt") assets written)${B:+; instance B on the same database}"
  python3 bench/scale_writes.py "$A" "$TOKEN" "$OUT/ids.txt" "$WRITES" "$OUT" "$B" "$PID_A"
fi

if has nearby; then
  path='/v1/assets?near={lat},{lon}&radius_m=2000&limit=50'
  wrk -t1 -c16 -d5s -s bench/wrk-query.lua "$A" -- "$OUT/centres.txt" "$path" >/dev/null # warm-up
  echo "== nearby ($RUNS runs of $DURATION, 16 connections): $path"
  for _ in $(seq "$RUNS"); do
    wrk -t2 -c16 -d"$DURATION" -s bench/wrk-query.lua "$A" -- "$OUT/centres.txt" "$path" | grep RESULT
  done | tee "$OUT/nearby.txt"
  NEARBY=$(sed 's/.*rps=\([0-9]*\).*/\1/' "$OUT/nearby.txt" | median)
  echo "MEDIAN nearby: $NEARBY req/s; resident memory of A now $(rss "$PID_A") MiB"
fi

if has peer && { [ "$BACKEND" = postgres ] || [ -n "${PEER:-}" ]; }; then
  PG=${ADMIN_URL:-${PEER_URL:-postgres://postgres@127.0.0.1:5432/postgres}}
  PEER_DB="${PG%/*}/scale_postgis"
  ver=$(psql "$PG" -Atc "SHOW server_version_num" | cut -c1-2)
  if ! psql "$PG" -Atc "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'" | grep -q 1; then
    echo "== installing postgresql-$ver-postgis-3"
    apt-get update -qq && apt-get install -y -qq "postgresql-$ver-postgis-3" >/dev/null
  fi
  psql "$PG" -v ON_ERROR_STOP=1 -qc "DROP DATABASE IF EXISTS scale_postgis WITH (FORCE)" -c "CREATE DATABASE scale_postgis"
  echo "== PostGIS peer: $N points, geography(Point) + GiST"
  python3 -c '
import csv, sys
w = csv.writer(sys.stdout)
for i, r in enumerate(csv.DictReader(open(sys.argv[1]))):
    w.writerow([i, r["name"], r["category"], r["lat"], r["lon"]])' "$CSV" > "$OUT/peer.csv"
  psql "$PEER_DB" -v ON_ERROR_STOP=1 -q <<EOF
CREATE EXTENSION postgis;
CREATE TABLE assets (id bigint PRIMARY KEY, name text, category text, lat float8, lon float8, geog geography(Point, 4326));
\copy assets (id, name, category, lat, lon) FROM '$OUT/peer.csv' CSV
UPDATE assets SET geog = ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography;
CREATE INDEX assets_geog ON assets USING gist (geog);
CREATE TABLE centres (id int PRIMARY KEY, geog geography(Point, 4326));
EOF
  awk -F, '{printf "%d\tSRID=4326;POINT(%s %s)\n", NR, $2, $1}' "$OUT/centres.txt" \
    | psql "$PEER_DB" -v ON_ERROR_STOP=1 -qc "\copy centres FROM STDIN"
  psql "$PEER_DB" -qc "VACUUM ANALYZE"
  cat > "$OUT/peer.sql" <<EOF
\set c random(1, $(wc -l < "$OUT/centres.txt"))
SELECT a.id, a.name, a.category, ST_Distance(a.geog, c.geog) AS distance_m
  FROM assets a, centres c
 WHERE c.id = :c AND ST_DWithin(a.geog, c.geog, 2000)
 ORDER BY ST_Distance(a.geog, c.geog) LIMIT 50;
EOF
  pgbench "$PEER_DB" -n -M prepared -c16 -j2 -T5 -f "$OUT/peer.sql" >/dev/null 2>&1 # warm-up
  echo "== PostGIS peer ($RUNS runs of $DURATION, pgbench -M prepared, 16 clients)"
  for _ in $(seq "$RUNS"); do
    pgbench "$PEER_DB" -n -M prepared -c16 -j2 -T"${DURATION%s}" -f "$OUT/peer.sql" 2>/dev/null \
      | awk '/^tps/ {printf "tps=%.0f\n", $3}'
  done | tee "$OUT/peer.txt"
  PEER_TPS=$(sed 's/tps=//' "$OUT/peer.txt" | median)
  echo "MEDIAN PostGIS peer: $PEER_TPS queries/s"
  [ -n "${NEARBY:-}" ] && echo "RATIO nearby / PostGIS: $(echo "scale=2; $NEARBY / $PEER_TPS" | bc)"
fi
