#!/usr/bin/env bash
# Import with matching at scale: 100,000 rows of a second list against 100,000 assets
# already listed, release build, SQLite (or DATABASE_URL). The second list describes half of
# the listed places again the way another list would (other ids, names with case and
# apostrophe changes or a leading "The", positions moved 50-150 m) and adds 50,000 places of
# its own. Prints the median wall time and peak memory of RUNS imports, each into a fresh
# copy of the database, and the last run's counts.
#
#   bench/matching_import.sh
#   RUNS=5 bench/matching_import.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
OUT=bench/out
RUNS=${RUNS:-3}
mkdir -p "$OUT"
cargo build --release --quiet --bins
BIN=target/release/community-assets

[ -s "$OUT/synthetic-100k.csv" ] || target/release/generate-assets 100000 2019 "$DATA" > "$OUT/synthetic-100k.csv"
[ -s "$OUT/synthetic-50k-b.csv" ] || target/release/generate-assets 50000 77 "$DATA" > "$OUT/synthetic-50k-b.csv"
python3 - "$OUT/synthetic-100k.csv" "$OUT/synthetic-50k-b.csv" "$OUT/second-list-100k.csv" <<'PY'
import csv, math, random, sys
listed, own, out = sys.argv[1:]
rng = random.Random(5)
with open(listed) as f, open(own) as g, open(out, "w", newline="") as o:
    a, b = csv.DictReader(f), csv.DictReader(g)
    w = csv.DictWriter(o, fieldnames=a.fieldnames)
    w.writeheader()
    for i, row in enumerate(a):
        if i % 2:
            continue
        name = row["name"]
        r = rng.random()
        if r < 0.25:
            name = name.lower()
        elif r < 0.5:
            name = "The " + name
        elif r < 0.6:
            name = name.replace("'", "")
        d, bearing = rng.uniform(50, 150), rng.uniform(0, 2 * math.pi)
        lat = float(row["lat"]) + d * math.cos(bearing) / 111_320
        lon = float(row["lon"]) + d * math.sin(bearing) / (111_320 * math.cos(math.radians(lat)))
        row.update(source="second-list", source_id=f"s{i}", name=name,
                   lat=f"{lat:.6f}", lon=f"{lon:.6f}")
        w.writerow(row)
    for i, row in enumerate(b):
        row.update(source="second-list", source_id=f"own{i}")
        w.writerow(row)
PY

if [ -n "${DATABASE_URL:-}" ]; then
  echo "this script measures SQLite (DATABASE_URL unset)" >&2
  exit 1
fi
BASE="$OUT/matching-base.sqlite3"
rm -f "$BASE"*
DATABASE_URL="$BASE" $BIN import assets "$OUT/synthetic-100k.csv" 2>/dev/null
times=()
for run in $(seq "$RUNS"); do
  rm -f "$OUT"/matching-run.sqlite3*
  cp "$BASE" "$OUT/matching-run.sqlite3"
  /usr/bin/time -f "%e %M" -o "$OUT/time.txt" \
    env DATABASE_URL="$OUT/matching-run.sqlite3" $BIN import assets "$OUT/second-list-100k.csv" \
    2>/dev/null > "$OUT/summary.txt"
  read -r secs kib < "$OUT/time.txt"
  echo "run $run: $secs s, $((kib / 1024)) MiB max RSS: $(cat "$OUT/summary.txt")"
  times+=("$secs")
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print "median of " NR ": " a[int((NR+1)/2)] " s"}'
