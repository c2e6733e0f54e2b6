#!/usr/bin/env bash
# Times `import postcodes` of the whole OS Code-Point Open file (1.75 million rows) into a
# fresh database: SQLite always, PostgreSQL when TEST_DATABASE_URL is set (a scratch
# database is created and dropped). Usage: bench/postcodes.sh [path/to/community-assets]
set -euo pipefail
BIN=${1:-target/release/community-assets}
FILE=../shared/data/postcodes_gb_codepoint_open_2025_10.csv.gz
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
echo "SQLite:"
/usr/bin/time -f "  %e s elapsed, %M KiB max resident" \
  env DATABASE_URL="$DIR/pc.sqlite3" "$BIN" import postcodes "$FILE"
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  DB=postcodes_bench_$$
  psql "$TEST_DATABASE_URL" -qc "CREATE DATABASE $DB"
  URL="${TEST_DATABASE_URL%/*}/$DB"
  echo "PostgreSQL:"
  /usr/bin/time -f "  %e s elapsed, %M KiB max resident" \
    env DATABASE_URL="$URL" "$BIN" import postcodes "$FILE" || true
  psql "$TEST_DATABASE_URL" -qc "DROP DATABASE $DB WITH (FORCE)"
fi
