#!/usr/bin/env bash
# Generated organisations of sizes s, m and l on SQLite and PostgreSQL: generate time, readiness
# (whole process, and the engines alone), a full check run, the reports, peak memory and sizes.
# Usage: bench/run.sh [SIZES...]   (default: s m l; PostgreSQL from EVIDENT_BENCH_PG_URL)
# Prints one Markdown table row per size and database, ready for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(s m l)
source bench/setup.sh
mib() { echo $(( $1 / 1024 )); }

echo "| size | db | generate | readiness (process) | load / checks / engine | check run | PDF | XLSX | gaps CSV | peak RSS (readiness) | DB size | vault |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for size in "${sizes[@]}"; do
  for db in sqlite postgres; do
    ws="$work/$size-$db"
    use_db "$db" "evident_bench_$size"
    read -r gen_s gen_rss < <(measure "$bin" --workspace "$ws" generate --size "$size" --seed 1)
    read -r ready_s ready_rss < <(best_of_3 "$bin" --workspace "$ws" readiness --format json)
    engine=$("$bin" --workspace "$ws" --format json bench readiness --runs 5 | python3 -c '
import json, sys; m = json.load(sys.stdin)["median_seconds"]
print("%.2f / %.2f / %.2f" % (m["load"], m["checks"], m["readiness_engine"]))')
    read -r check_s _ < <(best_of_3 "$bin" --workspace "$ws" check run --format json)
    read -r pdf_s _ < <(measure "$bin" --workspace "$ws" report readiness --out "$work/r.pdf")
    read -r xlsx_s _ < <(measure "$bin" --workspace "$ws" report controls --out "$work/c.xlsx")
    read -r gaps_s _ < <(measure "$bin" --workspace "$ws" report gaps --out "$work/g.csv")
    if [ "$db" = postgres ]; then
      db_bytes=$(psql "$pg_admin" -Atc "SELECT pg_database_size('evident_bench_$size')")
    else
      db_bytes=$(stat -c %s "$ws/evident.db")
    fi
    vault=$(du -sm "$ws/vault" | cut -f1)
    printf '| %s | %s | %s s (%s MiB) | %s s | %s s | %s s | %s s | %s s | %s s | %s MiB | %s MiB | %s MiB |\n' \
      "$size" "$db" "$gen_s" "$(mib "$gen_rss")" "$ready_s" "$engine" "$check_s" "$pdf_s" "$xlsx_s" "$gaps_s" \
      "$(mib "$ready_rss")" "$(( db_bytes / 1048576 ))" "$vault"
  done
done
