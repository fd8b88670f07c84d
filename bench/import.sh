#!/usr/bin/env bash
# HR import: a generated 10,000-person CSV (managers, leavers, contractors) imported into a new
# workspace, then re-imported unchanged, on SQLite and on PostgreSQL.
# Usage: bench/import.sh [PEOPLE]   (PostgreSQL from EVIDENT_BENCH_PG_URL, default the local server)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
target=${CARGO_TARGET_DIR:-target}
bin="$target/release/evident"
[ -x "$bin" ] || { echo "build first: cargo build --release -p evident" >&2; exit 1; }
pg_admin=${EVIDENT_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test}
work=$(mktemp -d)
trap 'rm -rf "$work"; psql "$pg_admin" -qc "DROP DATABASE IF EXISTS evident_bench_import" >/dev/null 2>&1 || true' EXIT

python3 - "$n" > "$work/hr.csv" <<'PY'
import random, sys
n = int(sys.argv[1]); random.seed(7)
depts = ["Engineering", "Sales", "Support", "Finance", "People", "Marketing", "Security", "IT"]
print("email,name,title,department,manager_email,employment_type,start_date,end_date")
for i in range(n):
    mgr = "" if i == 0 else f"person{random.randrange(0, max(1, i // 8 + 1))}@acme.example"
    kind = random.choices(["employee", "contractor", "intern"], [85, 12, 3])[0]
    start = f"20{random.randint(15, 26):02d}-{random.randint(1, 12):02d}-{random.randint(1, 28):02d}"
    end = f"2026-{random.randint(1, 10):02d}-{random.randint(1, 28):02d}" if random.random() < 0.08 and start < "2026-01-01" else ""
    print(f"person{i}@acme.example,Person {i},Title {i % 40},{random.choice(depts)},{mgr},{kind},{start},{end}")
PY

seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
run() {
  local label=$1
  EVIDENT_ACTOR=bench "$bin" init >/dev/null
  local first again rss
  first=$(seconds "$bin" import people "$work/hr.csv")
  again=$(seconds "$bin" import people "$work/hr.csv")
  rss=$( { /usr/bin/time -f '%M' "$bin" import people "$work/hr.csv" >/dev/null; } 2>&1 | tail -n1 )
  printf '%-10s first import %6.2f s   re-import (unchanged) %6.2f s   peak RSS %6d KiB\n' "$label" "$first" "$again" "$rss"
}
echo "$n people"
EVIDENT_HOME="$work/lite" run sqlite
psql "$pg_admin" -qc "CREATE DATABASE evident_bench_import" >/dev/null
EVIDENT_HOME="$work/pg" EVIDENT_DATABASE_URL="${pg_admin%/*}/evident_bench_import" run postgres
