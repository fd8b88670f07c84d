#!/usr/bin/env bash
# The server's memory under hostile load: four clients download a 300 MB evidence item at once
# while twelve others post 100 MB bodies to the unauthenticated /login (six declaring their
# length, six chunked). Samples the server's resident memory every 100 ms and prints its peak.
# Usage: bench/memory.sh [SIZE_MB]   (EVIDENT_BIN to choose the binary; default the release one)
# Prints a Markdown table row for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${1:-300}
target=${CARGO_TARGET_DIR:-target}
bin="$(realpath "${EVIDENT_BIN:-$target/release/evident}")"
[ -x "$bin" ] || { echo "build first: cargo build --release -p evident (or set EVIDENT_BIN)" >&2; exit 1; }
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
ev() { "$bin" --workspace "$work/ws" "$@"; }
ev init --organisation "Memory bench" >/dev/null
head -c "$((size_mb * 1000000))" /dev/urandom >"$work/item.bin"
sha=$(sha256sum "$work/item.bin" | cut -d' ' -f1)
id=$(ev --format json evidence add "$work/item.bin" --control ACC-01 | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
rm "$work/item.bin"
ev users add reader@bench.example --role viewer >/dev/null
token=$(ev --format json tokens create --user reader@bench.example --name bench --scope read | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
port=$(( 20000 + RANDOM % 20000 ))
"$bin" --workspace "$work/ws" serve --bind "127.0.0.1:$port" >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.2; done
# The readiness snapshot is computed once at start; let it settle before measuring.
curl -s -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/evidence"
rss() { awk '/VmRSS/ {print int($2/1024)}' "/proc/$pid/status"; }
idle=$(rss)
peak=$idle
( while kill -0 $pid 2>/dev/null; do rss; sleep 0.1; done ) >"$work/samples" &
sampler=$!
head -c 100000000 /dev/zero >"$work/body"
start=$(date +%s.%N)
clients=()
for i in $(seq 1 12); do
  if [ $((i % 2)) -eq 0 ]; then chunked=(-H "Transfer-Encoding: chunked"); else chunked=(); fi
  curl -s -o /dev/null -w '%{http_code}\n' "${chunked[@]}" -H "Expect:" -H "Content-Type: application/x-www-form-urlencoded" \
    --data-binary @"$work/body" "http://127.0.0.1:$port/login" >>"$work/login-codes" &
  clients+=($!)
done
for i in $(seq 1 4); do
  (curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/evidence/$id/content" | sha256sum | cut -d' ' -f1 >>"$work/sums") &
  clients+=($!)
done
wait "${clients[@]}" || true
end=$(date +%s.%N)
kill $sampler 2>/dev/null || true
peak=$(sort -n "$work/samples" | tail -1)
hwm=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$pid/status")
good=$(grep -c "^$sha$" "$work/sums" || true)
codes=$(sort "$work/login-codes" | uniq -c | awk '{printf "%s×%s ", $1, $2}')
echo "| ${size_mb} MB item × 4 downloads + 12 × 100 MB to /login | idle ${idle} MiB | peak sampled ${peak} MiB | VmHWM ${hwm} MiB | ${good}/4 downloads intact | /login answers: ${codes}| $(printf '%.1f' "$(echo "$end - $start" | bc)") s |"
