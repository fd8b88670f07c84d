#!/usr/bin/env bash
# The server under load on loopback: resident memory after start and after the load, and for the
# dashboard, the control list and a 100-row evidence page, p50/p99 latency and throughput with
# wrk (32 connections, 30 s, 2 threads). Signs in as a viewer (a session cookie, as a browser).
# Usage: bench/server.sh WORKSPACE [DURATION]   (EVIDENT_DATABASE_URL for a PostgreSQL workspace)
# Prints Markdown table rows for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ws=$1; duration=${2:-30s}
target=${CARGO_TARGET_DIR:-target}
bin="$(realpath "$target/release/evident")"
[ -x "$bin" ] || { echo "build first: cargo build --release -p evident" >&2; exit 1; }
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
export EVIDENT_ACTOR=bench
port=$(( 20000 + RANDOM % 20000 ))
email="bench-viewer-$port@bench.example"
password=$("$bin" --workspace "$ws" --format json users add "$email" --role viewer | python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])')
log=$(mktemp)
"$bin" --workspace "$ws" serve --bind "127.0.0.1:$port" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log" "$jar"' EXIT
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.2; done
rss() { awk '/VmRSS/ {print int($2/1024)}' "/proc/$pid/status"; }
jar=$(mktemp)
curl -s -c "$jar" -o /dev/null --data-urlencode "email=$email" --data-urlencode "password=$password" "http://127.0.0.1:$port/login"
# A one-time password is replaced at the first sign-in.
curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode "new_password=bench passphrase $port" \
  --data-urlencode "confirm=bench passphrase $port" "http://127.0.0.1:$port/login/password"
cookie=$(awk '$6 == "evident_session" {print $7}' "$jar")
[ -n "$cookie" ] || { echo "sign-in failed" >&2; cat "$log" >&2; exit 1; }
start_rss=$(rss)
# The first page computes the snapshot (readiness over every fact); time it separately.
first=$(curl -s -o /dev/null -w '%{time_total}' -H "Cookie: evident_session=$cookie" "http://127.0.0.1:$port/")
warm_rss=$(rss)
echo "first dashboard (computes the snapshot): ${first}s; RSS after start ${start_rss} MiB, after the first page ${warm_rss} MiB"
echo "| page | requests/s | p50 | p99 | errors |"
echo "|---|---|---|---|---|"
for path in "/" "/controls" "/evidence?per=100"; do
  out=$(wrk -t2 -c32 -d"$duration" --latency -H "Cookie: evident_session=$cookie" "http://127.0.0.1:$port$path")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
  echo "| \`$path\` | $rps | $p50 | $p99 | ${errors:-0} |"
done
echo "RSS after the load: $(rss) MiB"
