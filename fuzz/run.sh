#!/usr/bin/env bash
# Runs every fuzz target for a bounded time and fails (exit 1) if any finds a crash: a
# panic, an abort, a stack overflow, a run over the time limit or over the memory limit.
#
#   bash fuzz/run.sh                      # every target, 30 s each
#   FUZZ_SECONDS=300 bash fuzz/run.sh iod # one target, longer
#
# Stable Rust: cargo-fuzz builds without a sanitizer (`-s none`, which needs no -Z flag);
# safe Rust needs none to find what is hunted here. The build has debug assertions and
# overflow checks on. Inputs: the committed seeds (fuzz/seeds/<target>), a few lines of the
# real data in ../shared/data when it is there, and what earlier runs kept (fuzz/corpus,
# not committed). A crash is saved in fuzz/artifacts/<target>/; the log says how to replay it.
#
# Environment: FUZZ_SECONDS (per target, default 30), FUZZ_TIMEOUT (seconds one input may
# take, default 10), FUZZ_RSS_MB (memory limit, default 2048), SHARED_DATA (default
# ../shared/data beside the repository).
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TERM_COLOR=never

SECONDS_EACH=${FUZZ_SECONDS:-30}
TIMEOUT=${FUZZ_TIMEOUT:-10}
RSS_MB=${FUZZ_RSS_MB:-2048}
DATA=${SHARED_DATA:-$(cd .. && pwd)/../shared/data}
CARGO_FUZZ_VERSION=0.13.2
ALL_TARGETS=(query_params csv_assets geojson_assets osm iod opening_hours oruk_feed activity_json)
if [ $# -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi

# The largest input each target tries (bytes): a little over the query-string limit; the
# 500-character opening_hours limit in UTF-8; files of some dozen lines.
max_len() {
  case "$1" in
    query_params) echo 4200 ;;
    opening_hours) echo 2048 ;;
    *) echo 16384 ;;
  esac
}

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi

echo "building the fuzz targets"
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
cargo fuzz build -s none --target "$TRIPLE"
BIN=target/$TRIPLE/release

# Extra seeds from the real data (not committed): a few dozen lines of each file.
seed_from_data() {
  [ -d "$DATA" ] || {
    echo "note: $DATA is missing; fuzzing from the committed seeds only"
    return 0
  }
  mkdir -p corpus/csv_assets corpus/geojson_assets corpus/iod
  local assets="$DATA/assets_england_libraries_2016.csv"
  if [ -f "$assets" ]; then
    head -n 30 "$assets" >corpus/csv_assets/data-assets-head
    # The same rows as GeoJSON points.
    python3 - "$assets" >corpus/geojson_assets/data-assets-head <<'EOF' || true
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8-sig")))[:20]
features = []
for r in rows:
    lat, lon = float(r.pop("lat")), float(r.pop("lon"))
    r["tags"] = [t for t in r["tags"].split(";") if t]
    features.append({"type": "Feature", "properties": r,
                     "geometry": {"type": "Point", "coordinates": [lon, lat]}})
print(json.dumps({"type": "FeatureCollection", "features": features}))
EOF
  fi
  if [ -f "$DATA/libraries_england_2016.csv" ]; then
    head -n 20 "$DATA/libraries_england_2016.csv" >corpus/csv_assets/data-libraries-head
  fi
  # IoD: the first 30 areas of Files 1, 2 and 6, their points, then their boundaries.
  local f1="$DATA/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz"
  local f2="$DATA/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"
  local f6="$DATA/File_6_-_IoD2019_Population_Denominators.csv.gz"
  local pts="$DATA/lsoa2011_centroids_england.csv.gz"
  local bnd="$DATA/lsoa2011_boundaries_england.geojson.gz"
  if [ -f "$f1" ] && [ -f "$f2" ] && [ -f "$f6" ] && [ -f "$pts" ]; then
    {
      zcat "$f1" | head -n 31 || true
      printf '%%%%'
      zcat "$f2" | head -n 31 || true
      printf '%%%%'
      zcat "$f6" | head -n 31 || true
      printf '%%%%'
      zcat "$pts" | head -n 31 || true
      printf '%%%%'
    } >corpus/iod/data-points
    if [ -f "$bnd" ]; then
      python3 - "$f1" "$bnd" >corpus/iod/data-boundaries <<'EOF' || true
import gzip, json, sys
imd = gzip.open(sys.argv[1], "rt", encoding="utf-8").read().splitlines()[:6]
codes = {line.split(",")[0].lstrip("\ufeff") for line in imd[1:]}
doc = json.load(gzip.open(sys.argv[2], "rt", encoding="utf-8"))
doc["features"] = [f for f in doc["features"] if f["properties"].get("LSOA11CD") in codes]
sys.stdout.write("\n".join(imd) + "\n%%%%%%%%" + json.dumps(doc, separators=(",", ":")))
EOF
    fi
  fi
}
seed_from_data

failed=()
summary=()
for t in "${TARGETS[@]}"; do
  [ -d "seeds/$t" ] || {
    echo "FATAL: no fuzz target $t (targets: ${ALL_TARGETS[*]})" >&2
    exit 2
  }
  mkdir -p "corpus/$t" "artifacts/$t"
  dict=()
  [ -f "dicts/$t.dict" ] && dict=("-dict=dicts/$t.dict")
  marker=$(mktemp)
  log=$(mktemp)
  printf '\n==== fuzz %s for %ss\n' "$t" "$SECONDS_EACH"
  # The seeds are read; new inputs are written to corpus/<target>. The log leaves out a
  # line for each new input and the dictionary libFuzzer recommends.
  set +e
  # The binaries run directly: `cargo fuzz run` would build again first.
  "$BIN/$t" -artifact_prefix="artifacts/$t/" -max_total_time="$SECONDS_EACH" \
    -timeout="$TIMEOUT" -rss_limit_mb="$RSS_MB" -max_len="$(max_len "$t")" \
    -print_final_stats=1 "${dict[@]}" "corpus/$t" "seeds/$t" 2>&1 | tee "$log" |
    awk '/^###### Recommended dictionary/ { skip = 1 } !skip && !/^#[0-9]+[[:space:]]+(NEW|REDUCE)/
      /^###### End of recommended dictionary/ { skip = 0 }'
  rc=${PIPESTATUS[0]}
  set -e
  status=ok
  if [ "$rc" != 0 ] || grep -q -E '^==[0-9]+== ERROR: libFuzzer|^SUMMARY: libFuzzer' "$log"; then
    status=FAILED
  fi
  new=$(find "artifacts/$t" -type f -newer "$marker" | sort)
  [ -n "$new" ] && status=FAILED
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
  summary+=("$(printf '%-16s %-7s %10s runs %8s/s  corpus %s' "$t" "$status" "${execs:-?}" "${rate:-?}" "$(find "corpus/$t" -type f | wc -l)")")
  if [ "$status" != ok ]; then
    failed+=("$t")
    for a in $new; do
      echo "CRASH in $t: fuzz/$a"
      echo "  replay:   (cd fuzz && cargo fuzz run -s none $t $a)"
      echo "  minimise: (cd fuzz && cargo fuzz tmin -s none $t $a)"
    done
  fi
  rm -f "$marker" "$log"
done

printf '\n==== fuzz summary (%ss a target)\n' "$SECONDS_EACH"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FATAL: fuzzing found crashes in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzzing found no crash"
