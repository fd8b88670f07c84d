#!/usr/bin/env bash
# The Type II window on a generated organisation (default l) on SQLite and PostgreSQL:
# `evident window --format json` as a whole process (best of 3, peak memory), the report's
# workbook, and the one-off rebuild of the per-record history from the kept runs.
# Usage: bench/window.sh [SIZE]   (PostgreSQL from EVIDENT_BENCH_PG_URL)
# Prints Markdown table rows, ready for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-l}
target=${CARGO_TARGET_DIR:-target}
bin="$(realpath "$target/release/evident")"
[ -x "$bin" ] || { echo "build first: cargo build --release -p evident" >&2; exit 1; }
pg_admin=${EVIDENT_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test}
work=$(mktemp -d)
cleanup() {
  rm -rf "$work"
  psql "$pg_admin" -qc "DROP DATABASE IF EXISTS evident_bench_window WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
export EVIDENT_ACTOR=bench

source bench/measure.sh

echo "| size | db | outcome rows | spans | window --format json (peak RSS) | exceptions | report window xlsx | history rebuild (one-off) |"
echo "|---|---|---|---|---|---|---|---|"
for db in sqlite postgres; do
  ws="$work/$db"
  unset EVIDENT_DATABASE_URL
  if [ "$db" = postgres ]; then
    psql "$pg_admin" -qc "DROP DATABASE IF EXISTS evident_bench_window WITH (FORCE)" >/dev/null 2>&1
    psql "$pg_admin" -qc "CREATE DATABASE evident_bench_window" >/dev/null
    export EVIDENT_DATABASE_URL="${pg_admin%/*}/evident_bench_window"
    sql() { psql "$EVIDENT_DATABASE_URL" -Atc "$1"; }
  else
    sql() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); r=c.execute(sys.argv[2]).fetchone(); c.commit(); print(r[0] if r else "")' "$ws/evident.db" "$1"; }
  fi
  "$bin" --workspace "$ws" generate --size "$size" --seed 1 >/dev/null
  outcomes=$(sql "SELECT COUNT(*) FROM check_outcomes")
  spans=$(sql "SELECT COUNT(*) FROM check_spans")
  read -r win_s win_rss < <(best_of_3 "$bin" --workspace "$ws" window --format json)
  exceptions=$("$bin" --workspace "$ws" window --format json | python3 -c 'import json,sys; w=json.load(sys.stdin); print("%d (%s)" % (len(w["exceptions"]), w["opinion"]["predicted"]))')
  read -r xlsx_s _ < <(measure "$bin" --workspace "$ws" report window --out "$work/w.xlsx")
  sql "DELETE FROM check_spans" >/dev/null
  read -r rebuild_s rebuild_rss < <(measure "$bin" --workspace "$ws" window --format json)
  printf '| %s | %s | %s | %s | %s s (%s MiB) | %s | %s s | %s s (%s MiB) |\n' \
    "$size" "$db" "$outcomes" "$spans" "$win_s" "$(( win_rss / 1024 ))" "$exceptions" "$xlsx_s" "$rebuild_s" "$(( rebuild_rss / 1024 ))"
done
