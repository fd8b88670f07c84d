#!/usr/bin/env bash
# The Type II window on a generated organisation (default l) on SQLite and PostgreSQL:
# `evident window --format json` as a whole process (best of 3, peak memory), the report's
# workbook, and the one-off rebuild of the per-record history from the kept runs.
# Usage: bench/window.sh [SIZE]   (PostgreSQL from EVIDENT_BENCH_PG_URL)
# Prints Markdown table rows, ready for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-l}
source bench/setup.sh

echo "| size | db | outcome rows | spans | window --format json (peak RSS) | exceptions | report window xlsx | history rebuild (one-off) |"
echo "|---|---|---|---|---|---|---|---|"
for db in sqlite postgres; do
  ws="$work/$db"
  use_db "$db" evident_bench_window
  if [ "$db" = postgres ]; then
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
