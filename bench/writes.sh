#!/usr/bin/env bash
# Writes against a running server on loopback: how long an evidence upload through the API takes
# to be answered (each answer only once the item is durable), how long the dashboard after it
# takes (the readiness snapshot brought up to date after the write), and how many small uploads
# 32 concurrent clients sustain. Resident memory before and after.
# Usage: bench/writes.sh WORKSPACE [SEQUENTIAL_UPLOADS] [DURATION]
#        (EVIDENT_DATABASE_URL for a PostgreSQL workspace)
# Prints the figures for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ws=$1; n=${2:-200}; duration=${3:-20s}
. bench/serve-signed-in.sh
echo "ready (first snapshot) after ${ready_after} s; RSS $(rss) MiB"

# One upload at a time, each followed by the dashboard: the write's answer, then the first page
# that must show it.
BASE=$base TOKEN=$token CONTROL=$control COOKIE=$cookie N=$n python3 - <<'PY'
import http.client, os, statistics, time, urllib.parse
base = urllib.parse.urlparse(os.environ["BASE"])
up, dash = [], []
for i in range(int(os.environ["N"])):
    boundary = "evidentbench"
    data = (f"seq-bench {time.time_ns()} {i}\n" * 4096)[:4096].encode()
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"control\"\r\n\r\n{os.environ['CONTROL']}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"seq-{i}.txt\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    c = http.client.HTTPConnection(base.hostname, base.port)
    t = time.perf_counter()
    c.request("POST", "/api/v1/evidence", body, {"Authorization": f"Bearer {os.environ['TOKEN']}",
              "Content-Type": f"multipart/form-data; boundary={boundary}"})
    r = c.getresponse(); r.read()
    up.append(time.perf_counter() - t)
    assert r.status == 201, r.status
    c = http.client.HTTPConnection(base.hostname, base.port)
    t = time.perf_counter()
    c.request("GET", "/", headers={"Cookie": f"evident_session={os.environ['COOKIE']}"})
    r = c.getresponse(); r.read()
    dash.append(time.perf_counter() - t)
    assert r.status == 200, r.status
def q(xs, p): return sorted(xs)[min(len(xs) - 1, int(len(xs) * p))] * 1000
print(f"sequential uploads (4 KiB, n={len(up)}): p50 {q(up, .5):.1f} ms, p90 {q(up, .9):.1f} ms, p99 {q(up, .99):.1f} ms")
print(f"dashboard right after each: p50 {q(dash, .5):.1f} ms, p90 {q(dash, .9):.1f} ms, p99 {q(dash, .99):.1f} ms, max {max(dash)*1000:.1f} ms")
PY
echo "RSS after the sequential uploads: $(rss) MiB"

# 32 clients uploading small files as fast as they are answered; every file different (identical
# bytes would be stored once).
cat >"$lua" <<LUA
local boundary = "evidentbench"
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init(args) n = 0 end
function request()
  n = n + 1
  local data = string.rep("concurrent bench " .. tid .. " " .. n .. " " .. os.time() .. "\n", 64)
  local body = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"control\"\r\n\r\n$control\r\n"
    .. "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c-" .. tid .. "-" .. n .. ".txt\"\r\n"
    .. "Content-Type: text/plain\r\n\r\n" .. data .. "\r\n--" .. boundary .. "--\r\n"
  return wrk.format("POST", "/api/v1/evidence", {
    ["Authorization"] = "Bearer $token",
    ["Content-Type"] = "multipart/form-data; boundary=" .. boundary,
  }, body)
end
LUA
out=$(wrk -t2 -c32 -d"$duration" --latency -s "$lua" "$base/api/v1/evidence")
echo "32 concurrent uploaders for $duration:"
awk '/Requests\/sec|Non-2xx|Socket errors|requests in/ {print "  " $0} $1 == "50%" || $1 == "99%" {print "  " $0}' <<<"$out"
echo "RSS after the concurrent uploads: $(rss) MiB"
