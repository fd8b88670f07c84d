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
. bench/serve-signed-in.sh
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
