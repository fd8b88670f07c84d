#!/usr/bin/env bash
# Soak: MINUTES minutes (default 10) at 64 connections of mixed reads and writes against one
# server — the dashboard, the control list and an evidence page read by a signed-in viewer;
# evidence uploads and task edits through the API; sign-ins — one wrk run per minute so latency,
# errors and resident memory are recorded over time.
# Usage: bench/soak.sh WORKSPACE [MINUTES]   (EVIDENT_DATABASE_URL for a PostgreSQL workspace)
# Prints one Markdown row per minute for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ws=$1; minutes=${2:-10}
target=${CARGO_TARGET_DIR:-target}
bin="$(realpath "$target/release/evident")"
[ -x "$bin" ] || { echo "build first: cargo build --release -p evident" >&2; exit 1; }
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
export EVIDENT_ACTOR=bench
port=$(( 20000 + RANDOM % 20000 ))
ev() { "$bin" --workspace "$ws" --format json "$@"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
viewer="soak-viewer-$port@bench.example"; writer="soak-writer-$port@bench.example"
one_time=$(ev users add "$viewer" --role viewer | field '["password"]')
ev users add "$writer" --role compliance_manager >/dev/null
token=$(ev tokens create --user "$writer" --name "soak $port" --scope write | field '["secret"]')
control=$(ev controls list --only applicable | field '[0]["code"]')
log=$(mktemp); jar=$(mktemp); lua=$(mktemp --suffix .lua)
"$bin" --workspace "$ws" serve --bind "127.0.0.1:$port" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log" "$jar" "$lua"' EXIT
base="http://127.0.0.1:$port"
rss() { awk '/VmRSS/ {print int($2/1024)}' "/proc/$pid/status"; }
until [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")" = 200 ]; do sleep 0.1; done
password="soak passphrase $port"
curl -s -c "$jar" -o /dev/null --data-urlencode "email=$viewer" --data-urlencode "password=$one_time" "$base/login"
curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode "new_password=$password" \
  --data-urlencode "confirm=$password" "$base/login/password"
cookie=$(awk '$6 == "evident_session" {print $7}' "$jar")
[ -n "$cookie" ] || { echo "sign-in failed" >&2; cat "$log" >&2; exit 1; }
enc() { python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
# Of every 20 requests: 12 page reads, 4 uploads, 3 task edits, 1 sign-in. Every upload is new
# bytes (identical ones would be stored once); task edits overwrite a few keys.
cat >"$lua" <<LUA
local boundary = "evidentsoak"
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init(args) n = 0 end
local pages = {"/", "/controls", "/evidence?per=50", "/gaps"}
function request()
  n = n + 1
  local k = n % 20
  if k < 12 then
    return wrk.format("GET", pages[(k % #pages) + 1], {["Cookie"] = "evident_session=$cookie"})
  elseif k < 16 then
    local data = string.rep("soak " .. tid .. " " .. n .. " " .. os.time() .. "\n", 32)
    local body = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"control\"\r\n\r\n$control\r\n"
      .. "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"soak-" .. tid .. "-" .. n .. ".txt\"\r\n"
      .. "Content-Type: text/plain\r\n\r\n" .. data .. "\r\n--" .. boundary .. "--\r\n"
    return wrk.format("POST", "/api/v1/evidence", {["Authorization"] = "Bearer $token",
      ["Content-Type"] = "multipart/form-data; boundary=" .. boundary}, body)
  elseif k < 19 then
    local body = '{"id":"SOAK-' .. tid .. '-' .. (n % 50) .. '","title":"Soak task ' .. n .. '","status":"open"}'
    return wrk.format("POST", "/api/v1/tasks", {["Authorization"] = "Bearer $token",
      ["Content-Type"] = "application/json"}, body)
  else
    return wrk.format("POST", "/login", {["Content-Type"] = "application/x-www-form-urlencoded"},
      "email=$(enc "$viewer")&password=$(enc "$password")")
  end
end
LUA
echo "| minute | requests/s | p50 | p99 | non-2xx/3xx | socket errors | RSS |"
echo "|---|---|---|---|---|---|---|"
for m in $(seq 1 "$minutes"); do
  out=$(wrk -t2 -c64 -d60s --latency -s "$lua" "$base")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  bad=$(awk '/Non-2xx or 3xx/ {print $NF}' <<<"$out"); sock=$(awk -F'Socket errors: ' '/Socket errors/ {print $2}' <<<"$out")
  echo "| $m | $rps | $p50 | $p99 | ${bad:-0} | ${sock:-0} | $(rss) MiB |"
done
grep -iE "error|panic" "$log" | head -5 || true
