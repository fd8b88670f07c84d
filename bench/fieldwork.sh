#!/usr/bin/env bash
# Fieldwork on a generated organisation (default l) on SQLite and PostgreSQL: producing the
# population of merged changes for an engagement (`populations run changes`, kept as evidence)
# and drawing a sample of 40 from it (`samples draw`), each as a whole process, best of 3.
# Usage: bench/fieldwork.sh [SIZE]   (PostgreSQL from EVIDENT_BENCH_PG_URL)
# Prints Markdown table rows, ready for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-l}
source bench/setup.sh

echo "| size | db | changes in the population | population run (peak RSS) | file | sample of 40 (peak RSS) | both |"
echo "|---|---|---|---|---|---|---|"
for db in sqlite postgres; do
  ws="$work/$db"
  use_db "$db" evident_bench_fieldwork
  "$bin" --workspace "$ws" generate --size "$size" --seed 1 >/dev/null
  "$bin" --workspace "$ws" audit create --name Bench --firm "Bench LLP" >/dev/null
  read -r pop_s pop_rss < <(best_of_3 "$bin" --workspace "$ws" populations run changes --engagement Bench)
  run=$("$bin" --workspace "$ws" populations run changes --engagement Bench --format json)
  id=$(echo "$run" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  count=$(echo "$run" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
  "$bin" --workspace "$ws" populations get "$id" --out "$work/pop.csv" >/dev/null
  file_mib=$(( $(stat -c %s "$work/pop.csv") / 1048576 ))
  read -r draw_s draw_rss < <(best_of_3 "$bin" --workspace "$ws" samples draw Bench --control CHG-01 \
    --population "$id" --seed bench --size 40)
  printf '| %s | %s | %s | %s s (%s MiB) | %s MiB | %s s (%s MiB) | %.2f s |\n' \
    "$size" "$db" "$count" "$pop_s" "$(( pop_rss / 1024 ))" "$file_mib" "$draw_s" "$(( draw_rss / 1024 ))" \
    "$(echo "$pop_s + $draw_s" | bc -l)"
done
