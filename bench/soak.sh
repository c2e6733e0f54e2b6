#!/usr/bin/env bash
# Soak: two instances of the release build on one PostgreSQL database, loaded for DURATION
# (default 5 minutes) with mixed traffic by two wrk processes (one per instance): 95%
# public reads over every public read endpoint, 5% admin writes (merge patches and
# verifications with If-Match, each wrk process on its own assets). Meanwhile:
#   - the resident memory of both servers is sampled every SAMPLE_S seconds (rss.csv);
#   - a probe PATCHes one asset through instance A every ~2 s and measures how long until
#     instance B's public API shows it (visible.csv): the write-to-visible delay.
# Fails (exit 1) on any error: a response other than 2xx/3xx, a socket error, a failed
# probe, or an ERROR line in a server's log. Prints a summary; raw outputs in bench/out/soak/.
#
#   bench/soak.sh                              # 5 minutes
#   DURATION=30s bench/soak.sh                 # a quick run
#   RATE=20 bench/soak.sh                      # paced: a random gap of 1/20 s on average before each
#                                              # request of a connection (default 0: flat out)
#   CONNS=8 WRITE_PCT=5 bench/soak.sh          # connections per instance, share of writes
#   ADMIN_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres SOAK_DB=community_assets_soak
#   BIN=/path/to/release/community-assets bench/soak.sh   # a binary built elsewhere (no build)
#   SYNTHETIC=100000 bench/soak.sh             # also 100,000 synthetic assets (as bench/mixed.sh)
#   MALLOC_ARENA_MAX=0 bench/soak.sh           # the servers with glibc's default arenas (not the image's 2)
# Needs ../shared/data and psql; installs wrk from Debian's packages if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# ==== Rate limiting: OFF for the soak ===================================================
# All soak traffic comes from 127.0.0.1, so per-address limits would answer 429 after the
# first burst. 0 switches a limit off (RATE_LIMIT_PER_MINUTE: per client address;
# RATE_LIMIT_KEY_PER_MINUTE: per API key). No proxy in front: nothing to trust.
export RATE_LIMIT_PER_MINUTE=${SOAK_RATE_LIMIT_PER_MINUTE:-0}
export RATE_LIMIT_KEY_PER_MINUTE=${SOAK_RATE_LIMIT_KEY_PER_MINUTE:-0}
# The work budget's share per client (WORK_PER_CLIENT: 2 costly requests in flight per
# address by default) is a per-address limit too: off, for the same reason. The budget's own
# bound stays (WORK_THREADS running, WORK_QUEUE waiting, 503 beyond), and a 503 fails the soak.
export WORK_PER_CLIENT=${SOAK_WORK_PER_CLIENT:-0}
unset TRUSTED_PROXIES
# ========================================================================================

DATA=${DATA:-../shared/data}
OUT=${OUT:-bench/out/soak}
DURATION=${DURATION:-300s}
CONNS=${CONNS:-8}
WRITE_PCT=${WRITE_PCT:-5}
RATE=${RATE:-0}
SAMPLE_S=${SAMPLE_S:-10}
PROBE_INTERVAL_S=${PROBE_INTERVAL_S:-2}
WRITE_SET=${WRITE_SET:-100}
PORT_A=${PORT_A:-18191}
PORT_B=${PORT_B:-18192}
ADMIN_DATABASE_URL=${ADMIN_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
SOAK_DB=${SOAK_DB:-community_assets_soak}
# As in the Docker image (see the Dockerfile); 0 = glibc's default (up to 8 arenas a core).
SERVER_ARENAS=${MALLOC_ARENA_MAX:-2}
A=http://127.0.0.1:$PORT_A
B=http://127.0.0.1:$PORT_B

seconds() { # 300, 300s, 5m, 1h -> seconds
  local d=$1
  case $d in
    *h) echo $(( ${d%h} * 3600 )) ;; *m) echo $(( ${d%m} * 60 )) ;; *s) echo "${d%s}" ;; *) echo "$d" ;;
  esac
}
DURATION_S=$(seconds "$DURATION")

rm -rf "$OUT" && mkdir -p "$OUT/fixture"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
# BIN=path/to/community-assets (with generate-assets beside it) skips the build.
if [ -z "${BIN:-}" ]; then cargo build --release --quiet --bins; fi
BIN=${BIN:-target/release/community-assets}

echo "== database $SOAK_DB (fresh)"
psql "$ADMIN_DATABASE_URL" -v ON_ERROR_STOP=1 -qc "DROP DATABASE IF EXISTS $SOAK_DB WITH (FORCE)" \
  -c "CREATE DATABASE $SOAK_DB"
export DATABASE_URL="${ADMIN_DATABASE_URL%/*}/$SOAK_DB"

echo "== import: the 3,238 real libraries${SYNTHETIC:+, $SYNTHETIC synthetic assets} and the IoD2019 areas with points"
$BIN import assets "$DATA/assets_england_libraries_2016.csv" 2>/dev/null
if [ -n "${SYNTHETIC:-}" ]; then
  mkdir -p bench/out
  CSV=bench/out/synthetic-$SYNTHETIC.csv
  [ -s "$CSV" ] || "$(dirname "$BIN")/generate-assets" "$SYNTHETIC" 2019 "$DATA" > "$CSV"
  $BIN import assets "$CSV" >/dev/null 2>&1
fi
$BIN import areas --imd "$DATA/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz" \
  --domains "$DATA/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz" \
  --population "$DATA/File_6_-_IoD2019_Population_Denominators.csv.gz" \
  --points "$DATA/lsoa2011_centroids_england.csv.gz"
PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
COMMUNITY_ASSETS_PASSWORD=$PASSWORD $BIN users add soak-admin --role admin

echo "== two instances"
JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
export JWT_SECRET
export JWT_TTL_SECONDS=86400
export RUST_LOG=${RUST_LOG:-info}
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
MALLOC_ARENA_MAX=$SERVER_ARENAS $BIN serve --bind "127.0.0.1:$PORT_A" 2>"$OUT/server-a.log" &
PID_A=$!; PIDS+=("$PID_A")
MALLOC_ARENA_MAX=$SERVER_ARENAS $BIN serve --bind "127.0.0.1:$PORT_B" 2>"$OUT/server-b.log" &
PID_B=$!; PIDS+=("$PID_B")
for url in $A $B; do
  for _ in $(seq 300); do curl -sf "$url/health/ready" >/dev/null && break; sleep 0.1; done
  curl -sf "$url/health/ready" >/dev/null || { echo "FATAL: $url is not ready" >&2; exit 1; }
done
TOKEN=$(curl -sf -X POST "$A/v1/auth/token" -H 'Content-Type: application/json' \
  -d "{\"username\":\"soak-admin\",\"password\":\"$PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

echo "== fixture: ids, write sets, centres, areas"
curl -sf "$A/v1/admin/export?format=csv" -H "Authorization: Bearer $TOKEN" > "$OUT/fixture/export.csv"
"$(dirname "$BIN")/generate-assets" 2000 7 "$DATA" > "$OUT/fixture/generated.csv"
PROBE=$(python3 - "$OUT/fixture" "$DATA" "$WRITE_SET" <<'EOF'
import csv, gzip, random, sys
fx, data, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = [r for r in csv.DictReader(open(f"{fx}/export.csv")) if r["status"] == "published"]
random.seed(2019)
random.shuffle(rows)
open(f"{fx}/ids.txt", "w").writelines(r["id"] + "\n" for r in rows)
# Disjoint write sets for the wrk process of each instance, and one asset for the probe.
open(f"{fx}/writes-a.txt", "w").writelines(f'{r["id"]} {r["version"]}\n' for r in rows[:n])
open(f"{fx}/writes-b.txt", "w").writelines(f'{r["id"]} {r["version"]}\n' for r in rows[n:2 * n])
probe = rows[2 * n]
# Query centres where people live (the generator's population-weighted sample).
open(f"{fx}/centres.txt", "w").writelines(
    f'{r["lat"]},{r["lon"]}\n' for r in csv.DictReader(open(f"{fx}/generated.csv")))
with gzip.open(f"{data}/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz", "rt", encoding="utf-8-sig") as f:
    imd = list(csv.DictReader(f))
random.shuffle(imd)
open(f"{fx}/lsoa.txt", "w").writelines(r["LSOA code (2011)"] + "\n" for r in imd[:2000])
las = sorted({r["Local Authority District code (2019)"] for r in imd})
open(f"{fx}/la.txt", "w").writelines(la + "\n" for la in las)
words = ["central", "library", "community", "road", "north", "park", "green", "hill", "street", "new"]
open(f"{fx}/words.txt", "w").writelines(w + "\n" for w in words)
print(probe["id"], probe["version"])
EOF
)
read -r PROBE_ID PROBE_VERSION <<<"$PROBE"
echo "$(wc -l < "$OUT/fixture/ids.txt") published assets; write sets of $WRITE_SET per instance; probe asset $PROBE_ID"

# Every kind of read once on each instance before the soak: a 4xx here is a bug of the
# soak's requests, not of the service.
echo "== preflight"
wrk -t1 -c1 -d2s -s bench/soak.lua "$A" -- "$OUT/fixture" a "$TOKEN" 0 0 1 cycle > "$OUT/preflight.txt"
python3 - "$OUT/preflight.txt" <<'EOF'
import json, sys
s = json.loads(open(sys.argv[1]).read().split("SOAK ", 1)[1])
bad = {k: v for k, v in s["statuses"].items() if any(not st.startswith(("2", "3")) for st in v)}
print(f'{s["requests"]} requests, {len(s["sent"])} kinds: {", ".join(sorted(s["sent"]))}')
if bad:
    sys.exit(f"FATAL: preflight errors: {bad}")
EOF

echo "== soak: $DURATION, $CONNS connections per instance, ${WRITE_PCT}% writes, rate per connection ${RATE}/s (0 = flat out), MALLOC_ARENA_MAX=$SERVER_ARENAS"
status() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || echo ""; }
sample() {
  echo "$(( $(date +%s) - START )),$(status "$PID_A" VmRSS),$(status "$PID_B" VmRSS),$(status "$PID_A" Threads),$(status "$PID_B" Threads)"
}
echo "elapsed_s,rss_a_kib,rss_b_kib,threads_a,threads_b" > "$OUT/rss.csv"
START=$(date +%s)
( while :; do sample >> "$OUT/rss.csv"; sleep "$SAMPLE_S"; done ) &
SAMPLER=$!; PIDS+=("$SAMPLER")
python3 bench/soak_probe.py "$A" "$B" "$TOKEN" "$PROBE_ID" "$PROBE_VERSION" "$DURATION_S" \
  "$OUT/visible.csv" "$PROBE_INTERVAL_S" &
PROBE_PID=$!; PIDS+=("$PROBE_PID")
wrk -t1 -c"$CONNS" -d"$DURATION" --timeout 10s --latency -s bench/soak.lua "$A" -- \
  "$OUT/fixture" a "$TOKEN" "$WRITE_PCT" "$RATE" 1 > "$OUT/wrk-a.txt" &
WRK_A=$!; PIDS+=("$WRK_A")
wrk -t1 -c"$CONNS" -d"$DURATION" --timeout 10s --latency -s bench/soak.lua "$B" -- \
  "$OUT/fixture" b "$TOKEN" "$WRITE_PCT" "$RATE" 1 > "$OUT/wrk-b.txt" &
WRK_B=$!; PIDS+=("$WRK_B")
wait "$WRK_A" || echo "wrk A exited with $?"
wait "$WRK_B" || echo "wrk B exited with $?"
wait "$PROBE_PID" || echo "the probe exited with $?"
kill "$SAMPLER" 2>/dev/null || true
sample >> "$OUT/rss.csv"

# Graceful stop: SIGTERM, and each instance must exit 0 within the 30 s shutdown timeout.
STOP=""
for p in "$PID_A" "$PID_B"; do
  kill -TERM "$p"
  for _ in $(seq 350); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then STOP="$STOP $p:still-running"; else
    rc=0; wait "$p" || rc=$?; STOP="$STOP $p:exit-$rc"; fi
done
echo "stopped:$STOP" > "$OUT/stop.txt"
psql "$DATABASE_URL" -Atc "SELECT 'database after the soak: data_version ' || (SELECT version FROM data_version)
  || ', ' || (SELECT count(*) FROM audit_log) || ' audit entries, '
  || pg_size_pretty(pg_database_size(current_database()))" > "$OUT/db.txt" || true

python3 - "$OUT" "$DURATION_S" "$CONNS" "$WRITE_PCT" "$RATE" "$SERVER_ARENAS" <<'EOF'
import csv, json, re, statistics, sys
out, duration, conns, write_pct, rate, arenas = sys.argv[1], float(sys.argv[2]), *sys.argv[3:]
failures = []

def load(name):
    text = open(f"{out}/{name}").read()
    if "SOAK " not in text:
        failures.append(f"{name}: wrk printed no summary")
        return None, text
    return json.loads(text.split("SOAK ", 1)[1].splitlines()[0]), text

print(f"\n==== soak summary ({duration:.0f} s, {conns} connections per instance, {write_pct}% writes, "
      f"rate/connection {rate} (0 = flat out), servers with MALLOC_ARENA_MAX={arenas})")
total_req = total_dur = 0
for inst in ("a", "b"):
    s, text = load(f"wrk-{inst}.txt")
    if not s:
        continue
    total_req += s["requests"]
    total_dur = max(total_dur, s["duration_s"])
    errors = {}
    for kind, by in s["statuses"].items():
        for st, n in by.items():
            if not st.startswith(("2", "3")):
                errors[f"{kind} {st}"] = n
    sock = {k: v for k, v in s["socket_errors"].items() if v}
    writes = sum(s["sent"].get(k, 0) for k in ("w_patch", "w_verify"))
    lat = s["latency_ms"]
    print(f"instance {inst.upper()}: {s['requests']} requests, {s['requests'] / s['duration_s']:.0f} req/s, "
          f"{writes} writes ({100 * writes / max(1, s['requests']):.1f}%), "
          f"latency p50 {lat['p50']:.2f} ms, p99 {lat['p99']:.2f} ms, p99.9 {lat['p999']:.2f} ms, max {lat['max']:.0f} ms")
    print(f"  errors by status: {errors or 'none'}; socket errors: {sock or 'none'}; "
          f"412 write conflicts: {s['write_conflicts']}")
    print("  requests by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(s["sent"].items(), key=lambda x: -x[1])))
    if errors:
        failures.append(f"instance {inst.upper()}: error responses {errors}")
    if sock:
        failures.append(f"instance {inst.upper()}: socket errors {sock}")
    if s["non_2xx_3xx"] and not errors:
        failures.append(f"instance {inst.upper()}: {s['non_2xx_3xx']} non-2xx/3xx responses")
if total_dur:
    print(f"both: {total_req} requests, {total_req / total_dur:.0f} req/s")

# Memory.
rows = [r for r in csv.DictReader(open(f"{out}/rss.csv")) if r["rss_a_kib"] and r["rss_b_kib"]]
t = [float(r["elapsed_s"]) for r in rows]
window_start = max(60.0, t[-1] - 240.0) if t else 0
for inst, col, tcol in (("A", "rss_a_kib", "threads_a"), ("B", "rss_b_kib", "threads_b")):
    mib = [int(r[col]) / 1024 for r in rows]
    threads = [int(r[tcol]) for r in rows if r.get(tcol)]
    if not mib:
        failures.append(f"instance {inst}: no memory samples")
        continue
    pts = [(x, y) for x, y in zip(t, mib) if x >= window_start]
    slope = ""
    if len(pts) >= 3 and pts[-1][0] - pts[0][0] >= 110:
        mx = statistics.fmean(x for x, _ in pts); my = statistics.fmean(y for _, y in pts)
        b = sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)
        slope = f", slope {b * 60:+.2f} MiB/min over {pts[0][0]:.0f}-{pts[-1][0]:.0f} s"
        if b * 60 > 1.0:
            slope += " (NOT FLAT)"
    else:
        slope = ", slope: run too short (needs 3 minutes: the first is warm-up)"
    print(f"RSS {inst}: first {mib[0]:.1f} MiB, last {mib[-1]:.1f} MiB, max {max(mib):.1f} MiB ({len(mib)} samples){slope}"
          + (f"; threads {min(threads)}-{max(threads)}" if threads else ""))

# Write-to-visible.
rows = list(csv.DictReader(open(f"{out}/visible.csv")))
ok = [r for r in rows if not r["error"]]
bad = [r for r in rows if r["error"]]
def pct(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]
if ok:
    ack = [float(r["visible_on_b_after_ack_ms"]) for r in ok]
    send = [float(r["visible_on_b_after_send_ms"]) for r in ok]
    patch = [float(r["patch_ms"]) for r in ok]
    print(f"write-to-visible on B ({len(ok)} probes), from A's answer: median {statistics.median(ack):.0f} ms, "
          f"p95 {pct(ack, 95):.0f} ms, max {max(ack):.0f} ms; from sending the PATCH: median "
          f"{statistics.median(send):.0f} ms, p95 {pct(send, 95):.0f} ms, max {max(send):.0f} ms")
    print(f"  PATCH on A: median {statistics.median(patch):.0f} ms, p95 {pct(patch, 95):.0f} ms, max {max(patch):.0f} ms; "
          f"visible on A when the PATCH returned: {sum(r['a_visible_on_return'] == '1' for r in ok)}/{len(ok)}")
    late = [r for r in ok if r["a_visible_on_return"] != "1"]
    if late:
        failures.append(f"{len(late)} probe(s): A did not show its own write when the PATCH returned")
if bad:
    failures.append(f"{len(bad)} failed probe(s), first: {bad[0]['error']}")
if not rows:
    failures.append("no probe ran")

# Server logs and shutdown.
for inst in ("a", "b"):
    lines = open(f"{out}/server-{inst}.log", errors="replace").read().splitlines()
    clean = [re.sub(r"\x1b\[[0-9;]*m", "", l) for l in lines]
    errs = [l for l in clean if " ERROR " in l]
    warns = [l for l in clean if " WARN " in l]
    rebuilt = [l for l in clean if "snapshot rebuilt" in l]
    print(f"server {inst.upper()} log: {len(errs)} ERROR, {len(warns)} WARN, {len(rebuilt)} 'snapshot rebuilt' lines")
    for l in (errs + warns)[:5]:
        print("   " + l[:300])
    if errs:
        failures.append(f"server {inst.upper()}: {len(errs)} ERROR log lines")
print(open(f"{out}/db.txt").read().strip())
stop = open(f"{out}/stop.txt").read().strip()
print(stop)
if "still-running" in stop or re.search(r"exit-[1-9]", stop):
    failures.append(f"graceful stop: {stop}")

if failures:
    print("\nSOAK FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("\nSOAK PASSED: no errors")
EOF
