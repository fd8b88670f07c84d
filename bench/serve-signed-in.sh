# Sourced by bench/writes.sh and bench/soak.sh with $ws set: a viewer signed in with a session
# cookie (as a browser is) and a compliance manager's write token, then `evident serve` (release)
# on a free loopback port, waited for until /readyz says ready. Sets bin, base, pid, cookie,
# password (the viewer's), viewer, token, control (an applicable control's code), lua (a temp
# file for a wrk script), log, ready_after (seconds) and rss() (the server's MiB).
target=${CARGO_TARGET_DIR:-target}
bin="${bin:-$(realpath "$target/release/evident")}"
[ -x "$bin" ] || { echo "build first: cargo build --release -p evident" >&2; exit 1; }
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
export EVIDENT_ACTOR=bench
port=$(( 20000 + RANDOM % 20000 ))
ev() { "$bin" --workspace "$ws" --format json "$@"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
viewer="bench-viewer-$port@bench.example"; writer="bench-writer-$port@bench.example"
one_time=$(ev users add "$viewer" --role viewer | field '["password"]')
ev users add "$writer" --role compliance_manager >/dev/null
token=$(ev tokens create --user "$writer" --name "bench $port" --scope write | field '["secret"]')
control=$(ev controls list --only applicable | field '[0]["code"]')
log=$(mktemp); jar=$(mktemp); lua=$(mktemp --suffix .lua)
"$bin" --workspace "$ws" serve --bind "127.0.0.1:$port" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; cp "$log" /tmp/last-serve.log; rm -f "$log" "$jar" "$lua"' EXIT
base="http://127.0.0.1:$port"
rss() { awk '/VmRSS/ {print int($2/1024)}' "/proc/$pid/status"; }
started=$(date +%s.%N)
until [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")" = 200 ]; do sleep 0.05; done
ready_after=$(python3 -c "print(round($(date +%s.%N) - $started, 2))")
# A one-time password is replaced at the first sign-in.
password="bench passphrase $port"
curl -s -c "$jar" -o /dev/null --data-urlencode "email=$viewer" --data-urlencode "password=$one_time" "$base/login"
curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode "new_password=$password" \
  --data-urlencode "confirm=$password" "$base/login/password"
cookie=$(awk '$6 == "evident_session" {print $7}' "$jar")
[ -n "$cookie" ] || { echo "sign-in failed" >&2; cat "$log" >&2; exit 1; }
