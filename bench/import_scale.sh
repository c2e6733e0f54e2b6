#!/usr/bin/env bash
# `import assets` of the canonical 1,000,000-row file (generate-assets 1000000 2019) into an
# empty database, release build: wall time and peak resident memory of RUNS imports, each
# into a fresh SQLite file, and (with PG_URL, e.g. postgres://postgres@127.0.0.1:5432) into a
# fresh PostgreSQL database `import_bench`. Prints each run and the medians.
#
#   bench/import_scale.sh
#   ROWS=100000 RUNS=3 PG_URL=postgres://postgres@127.0.0.1:5432 bench/import_scale.sh
#   IMPORT_BATCH_ROWS=20000 bench/import_scale.sh     # another batch size
#   FILE=../main/bench/out/scale/synthetic-1000000.csv bench/import_scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
OUT=bench/out
RUNS=${RUNS:-3}
ROWS=${ROWS:-1000000}
mkdir -p "$OUT"
cargo build --release --quiet --bins
BIN=target/release/community-assets
FILE=${FILE:-$OUT/synthetic-$ROWS.csv}   # FILE=... to reuse a generated file
[ -s "$FILE" ] || target/release/generate-assets "$ROWS" 2019 "$DATA" > "$FILE"

measure() { # label, database url
  local label=$1 url=$2
  /usr/bin/time -f "%e %M %U %S" -o "$OUT/time.txt" \
    env DATABASE_URL="$url" RUST_LOG=warn $BIN import assets "$FILE" 2>/dev/null > "$OUT/summary.txt"
  read -r secs kib user sys < "$OUT/time.txt"
  # CPU time (user + system) too: on a loaded machine the wall time says little.
  echo "$label: $secs s, $((kib / 1024)) MiB max RSS, CPU $user s user + $sys s system: $(cat "$OUT/summary.txt")"
  echo "$secs $((kib / 1024))" >> "$OUT/$label.runs"
}

median() { # file: "secs mib" lines
  awk '{s[NR]=$1; m[NR]=$2} END {n=asort(s); asort(m); i=int((n+1)/2); print "median of " n ": " s[i] " s, " m[i] " MiB"}' "$1"
}

rm -f "$OUT/sqlite.runs" "$OUT/postgres.runs"
for run in $(seq "$RUNS"); do
  rm -f "$OUT"/import-scale.sqlite3*
  measure sqlite "$OUT/import-scale.sqlite3"
done
echo "SQLite, $ROWS rows: $(median "$OUT/sqlite.runs")"

if [ -n "${PG_URL:-}" ]; then
  for run in $(seq "$RUNS"); do
    psql -q "$PG_URL/postgres" -c 'DROP DATABASE IF EXISTS import_bench' -c 'CREATE DATABASE import_bench'
    measure postgres "$PG_URL/import_bench"
  done
  echo "PostgreSQL, $ROWS rows: $(median "$OUT/postgres.runs")"
fi
