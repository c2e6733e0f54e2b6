#!/usr/bin/env bash
# Property-based API testing with schemathesis against the server's own /openapi.json.
#
#   .ci/schemathesis.sh [BINARY]
#
# Builds the service (debug) unless BINARY is given, loads a throwaway SQLite database with
# the real libraries and the IoD2019 areas (points, no boundaries: quick), creates an admin
# with a random password, takes a bearer token, starts the server on a free port and runs
# schemathesis over EVERY operation, the admin ones authenticated with that token. Fails
# (non-zero, loudly) on any check of `--checks all` (5xx, responses as documented,
# schema-valid requests accepted, schema-violating ones refused, stateful checks), apart
# from the exceptions listed and explained in .ci/schemathesis.toml.
#
# Environment:
#   SCHEMATHESIS_MAX_EXAMPLES  test cases per operation and phase (default 150)
#   SCHEMATHESIS_SEED          the seed (default fixed, so that a commit always gets the same
#                              verdict); `random` for a new one each run (printed, to replay)
#   SCHEMATHESIS_WORKERS       concurrent requests (default 2)
#   SCHEMATHESIS_VERSION       the schemathesis version to install (default pinned below)
#   SCHEMATHESIS_VENV          where to install it (default target/schemathesis-venv)
#   SCHEMATHESIS_REPORT_DIR    where the JUnit and NDJSON reports go (default target/schemathesis)
#   DATA_DIR                   the real data (default ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-150}
SEED=${SCHEMATHESIS_SEED:-20261125}
[ "$SEED" != random ] || SEED=$RANDOM$RANDOM
VERSION=${SCHEMATHESIS_VERSION:-4.32.5}
VENV=${SCHEMATHESIS_VENV:-$PWD/target/schemathesis-venv}
REPORT_DIR=${SCHEMATHESIS_REPORT_DIR:-$PWD/target/schemathesis}
DATA=${DATA_DIR:-../shared/data}

say() { printf '\n---- schemathesis: %s\n' "$*"; }
die() {
  printf '\n######## SCHEMATHESIS FAILED: %s ########\n' "$*" >&2
  exit 1
}

# ---- the binary
if [ $# -ge 1 ]; then
  BIN=$(realpath "$1")
else
  say "cargo build"
  cargo build --quiet --bin community-assets
  BIN=$PWD/target/debug/community-assets
fi
[ -x "$BIN" ] || die "no executable at $BIN"

# ---- schemathesis, in its own virtualenv
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -qF "$VERSION"; then
  say "installing schemathesis $VERSION into $VENV"
  python3 -m venv "$VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi
"$VENV/bin/schemathesis" --version

# ---- a throwaway database with the real data
WORK=$(mktemp -d "${TMPDIR:-/tmp}/community-assets-schemathesis.XXXXXX")
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# The server's settings: only these, whatever the caller's environment holds.
unset JWT_SECRET_FILE JWT_ALGORITHM JWT_PRIVATE_KEY_FILE JWT_PUBLIC_KEY_FILE JWT_KID \
  JWT_PREVIOUS_SECRET JWT_PREVIOUS_SECRET_FILE JWT_PREVIOUS_PUBLIC_KEY_FILE JWT_PREVIOUS_KID \
  JWT_TTL_SECONDS BIND_ADDR WORKERS REFRESH_INTERVAL_MS CORS_ALLOWED_ORIGINS TRUSTED_PROXIES \
  REQUEST_TIMEOUT_SECONDS
export DATABASE_URL=$WORK/db.sqlite3
export JWT_SECRET
JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
# ======== rate limits: switched off for the fuzzer ========
# Per-client request limits would turn the fuzzer's traffic into 429s and hide everything
# behind them: switch every such limit off here (0 = no limit). The login back-off and the
# suggestion quota are behaviour under test (their 429s are documented) and stay on.
export RATE_LIMIT_PER_MINUTE=0
export RATE_LIMIT_KEY_PER_MINUTE=0
# ===========================================================

say "importing the real libraries and the IoD2019 areas (points only)"
"$BIN" import assets "$DATA/assets_england_libraries_2016.csv" 2>"$WORK/import.log" ||
  { cat "$WORK/import.log" >&2; die "importing the libraries failed"; }
"$BIN" import areas \
  --imd "$DATA/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz" \
  --domains "$DATA/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz" \
  --population "$DATA/File_6_-_IoD2019_Population_Denominators.csv.gz" \
  --points "$DATA/lsoa2011_centroids_england.csv.gz" ||
  die "importing the areas failed"

ADMIN=schemathesis-admin
PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '\n/+=')
COMMUNITY_ASSETS_PASSWORD=$PASSWORD "$BIN" users add "$ADMIN" --role admin ||
  die "could not create the admin account"

# ---- the server, on a free port chosen by the kernel (it logs the address it bound)
start_server() {
  say "starting the server"
  SERVER_LOG=$WORK/server-$(date +%s%N).log
  RUST_LOG=info,actix_server=warn LOG_FORMAT=json "$BIN" serve --bind 127.0.0.1:0 --workers 2 \
    2>"$SERVER_LOG" &
  SERVER_PID=$!
  API=
  for _ in $(seq 1 300); do
    API=$(grep -oE 'listening on http://127\.0\.0\.1:[0-9]+' "$SERVER_LOG" | head -n1 | sed 's/^listening on //') || true
    [ -n "$API" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$SERVER_LOG" >&2; die "the server exited at start-up"; }
    sleep 0.1
  done
  [ -n "$API" ] || { cat "$SERVER_LOG" >&2; die "the server did not start listening"; }
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$API/health/ready" 2>/dev/null && break
    sleep 0.2
  done
  curl -fsS -o /dev/null "$API/health/ready" || { cat "$SERVER_LOG" >&2; die "the server is not ready at $API"; }
  echo "server at $API (pid $SERVER_PID)"
}

# The server must have survived a pass, and logged no server error of its own.
check_server() {
  kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 50 "$SERVER_LOG" >&2; die "the server died during the run"; }
  if grep -E '"level":"ERROR".*"target":"community_assets|panicked at' "$SERVER_LOG" >&2; then
    echo "(the server logged the errors above)" >&2
    [ "$status" -ne 0 ] || status=1
  fi
}
status=0
start_server

# The run's admin, as it was made: active, an admin, with its password; and a fresh token.
# Run before each pass, since a pass may have disabled, demoted, re-passworded the account or
# revoked its tokens (through the CLI, as an operator would).
reset_admin() {
  "$BIN" users enable "$ADMIN" >/dev/null 2>&1 || true
  "$BIN" users set-role "$ADMIN" --role admin >/dev/null 2>&1 || true
  COMMUNITY_ASSETS_PASSWORD=$PASSWORD "$BIN" users set-password "$ADMIN" >/dev/null 2>&1 ||
    die "could not reset the admin's password"
  TOKEN=$(curl -fsS -X POST "$API/v1/auth/token" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$ADMIN\",\"password\":\"$PASSWORD\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])') ||
    die "could not get a bearer token"
}

# ---- the run
# Every operation, in passes. Some account operations stop the run's own admin token
# (schemathesis learns usernames from GET /v1/admin/users, its own among them): disabling,
# demoting or re-passwording an account, or revoking its tokens. Run in the main pass, they
# would turn every later admin request into a 401 or 403. So each of them runs after it, in
# a pass of its own, with the admin reset and a fresh token before each pass. Changing one's
# own password comes last: its wrong current passwords count as failed logins from this
# address, which then holds the next login back (429), as it should.
ACCOUNT_OPERATIONS=(revoke_tokens disable_user set_role set_password change_own_password)
rm -rf "$REPORT_DIR"
mkdir -p "$REPORT_DIR"
CHECKS=${SCHEMATHESIS_CHECKS:-all}
# The documented exceptions to `--checks all` (what OpenAPI cannot express), and the one
# check left out: `use_after_free` expects a 404 after DELETE, but DELETE archives (see
# the configuration file).
CONFIG=$PWD/.ci/schemathesis.toml
EXCLUDED_CHECKS=use_after_free
run_schemathesis() {
  local name=$1
  shift
  say "schemathesis ($name): $MAX_EXAMPLES examples an operation, seed $SEED"
  local started rc=0
  started=$(date +%s)
  # From the temporary folder: schemathesis keeps a cache of failures in ./.schemathesis.
  (cd "$WORK" && "$VENV/bin/schemathesis" --config-file "$CONFIG" run "$API/openapi.json" "$@" \
    --checks "$CHECKS" \
    --exclude-checks "$EXCLUDED_CHECKS" \
    --header "Authorization: Bearer $TOKEN" \
    --max-examples "$MAX_EXAMPLES" \
    --seed "$SEED" \
    --workers "${SCHEMATHESIS_WORKERS:-2}" \
    --request-timeout 30 \
    --generation-database none \
    --no-color \
    --report junit,ndjson --report-dir "$REPORT_DIR/$name") ||
    rc=$?
  echo "schemathesis ($name): exit status $rc, $(($(date +%s) - started)) s"
  [ "$rc" -eq 0 ] || status=$rc
}
reset_admin
run_schemathesis main $(printf -- '--exclude-operation-id %s ' "${ACCOUNT_OPERATIONS[@]}")
for op in "${ACCOUNT_OPERATIONS[@]}"; do
  # A fresh server for each account pass: the login back-off is kept per instance, and the
  # passes before it have spent this address's failed logins (random credentials sent to
  # POST /v1/auth/token), so the next login would rightly be held back (429).
  check_server
  kill "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  start_server
  reset_admin
  run_schemathesis "$op" --include-operation-id "$op"
done

# ---- the server must have survived, and logged no server error of its own
check_server
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=
cp "$SERVER_LOG" "$REPORT_DIR/server.log"

if [ "$status" -ne 0 ]; then
  die "exit status $status; replay with SCHEMATHESIS_SEED=$SEED; reports and the server's log in $REPORT_DIR"
fi
echo "schemathesis: every check passed (--checks all, apart from the documented exceptions)"
