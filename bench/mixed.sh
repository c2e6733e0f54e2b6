#!/usr/bin/env bash
# Mixed traffic at scale (issue 14): two instances of the release build on one PostgreSQL
# database with 100,000 synthetic assets (plus the real libraries and the IoD2019 areas), loaded
# by bench/soak.sh twice for DURATION (default 60s): read-only, then with WRITE_PCT (default 5) %
# admin writes. Prints both throughputs and their ratio (target: mixed ≥ 70 % of read-only,
# zero errors; soak.sh fails on any error).
#
#   bench/mixed.sh
#   DURATION=120s SYNTHETIC=100000 WRITE_PCT=5 bench/mixed.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export SYNTHETIC=${SYNTHETIC:-100000} DURATION=${DURATION:-60s}
WRITE_PCT_MIXED=${WRITE_PCT:-5}
if [ -z "${BIN:-}" ]; then cargo build --release --quiet --bins; fi
export BIN=${BIN:-target/release/community-assets}
mkdir -p bench/out
for pct in 0 "$WRITE_PCT_MIXED"; do
  OUT=bench/out/mixed-$pct WRITE_PCT=$pct bench/soak.sh | tee "bench/out/mixed-$pct.txt" \
    | grep -E '^(instance|both|RSS|write-to-visible|====)'
done
python3 - <<'PY'
import re
def rps(pct):
    text = open(f"bench/out/mixed-{pct}.txt").read()
    return float(re.search(r"^both: \d+ requests, (\d+) req/s", text, re.M).group(1))
import os
r, m = rps(0), rps(os.environ.get("WRITE_PCT", "5"))
print(f"RATIO mixed / read-only: {m:.0f} / {r:.0f} req/s = {100 * m / r:.0f} %")
PY
