#!/usr/bin/env bash
# Access reviews on a generated organisation (default l) on SQLite and PostgreSQL: starting a
# campaign over every system with accounts (`access-reviews start`: accounts read, reviewers
# resolved, the frozen list kept as evidence, every item stored), the joiner/mover/leaver
# reconciliation (`jml list`), each a whole process, best of 3; and the reviewer's inbox through
# the API (`GET /api/v1/access-reviews/inbox`, its first page of 500 and every campaign's counts)
# for the reviewer with the most items and for the median reviewer, best of 20 each. The three starts leave three open campaigns, so inboxes hold
# each reviewer's items three times over.
# Usage: bench/access_reviews.sh [SIZE]   (PostgreSQL from EVIDENT_BENCH_PG_URL)
# Prints Markdown table rows, ready for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-l}
source bench/setup.sh

echo "| size | db | accounts frozen | start a campaign (peak RSS) | jml list (peak RSS) | findings | largest inbox: items, time | median inbox: items, time |"
echo "|---|---|---|---|---|---|---|---|"
for db in sqlite postgres; do
  ws="$work/$db"
  use_db "$db" evident_bench_reviews
  "$bin" --workspace "$ws" generate --size "$size" --seed 1 >/dev/null
  due=$(date -u -d '+30 days' +%F)
  read -r start_s start_rss < <(best_of_3 "$bin" --workspace "$ws" access-reviews start --name Bench --due "$due")
  campaign=$("$bin" --workspace "$ws" --format json access-reviews list | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
  read -r items reviewer median < <("$bin" --workspace "$ws" --format json access-reviews show "$campaign" | python3 -c '
import collections, json, sys
d = json.load(sys.stdin)
ranked = collections.Counter(i["reviewer"] for i in d["items"] if "@" in i["reviewer"]).most_common()
print(len(d["items"]), ranked[0][0], ranked[len(ranked) // 2][0])')
  read -r jml_s jml_rss < <(best_of_3 "$bin" --workspace "$ws" jml list)
  findings=$("$bin" --workspace "$ws" --format json jml list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
  port=$(( 20000 + RANDOM % 20000 ))
  "$bin" --workspace "$ws" serve --bind "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.2; done
  results=()
  for who in "$reviewer" "$median"; do
    "$bin" --workspace "$ws" users add "$who" --role control_owner >/dev/null 2>&1 || true
    token=$("$bin" --workspace "$ws" --format json tokens create --user "$who" --name bench --scope read \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
    mine=$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/access-reviews/inbox" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
    best=999
    for _ in $(seq 1 20); do
      t=$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/access-reviews/inbox")
      best=$(echo "if ($t < $best) $t else $best" | bc -l)
    done
    results+=("$mine, $(printf '%.1f' "$(echo "$best * 1000" | bc -l)") ms")
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
  printf '| %s | %s | %s | %s s (%s MiB) | %s s (%s MiB) | %s | %s | %s |\n' \
    "$size" "$db" "$items" "$start_s" "$(( start_rss / 1024 ))" "$jml_s" "$(( jml_rss / 1024 ))" "$findings" \
    "${results[0]}" "${results[1]}"
done
