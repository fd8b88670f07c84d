#!/usr/bin/env bash
# Evidence ingest throughput: `evident evidence add` of one large file beside `sha256sum` of
# the same file, both with the file in the page cache. Usage: bench/ingest.sh [SIZE_MIB] [RUNS]
# Needs a release build: cargo build --release -p evident (CARGO_TARGET_DIR respected).
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
runs=${2:-3}
target=${CARGO_TARGET_DIR:-target}
bin="$target/release/evident"
[ -x "$bin" ] || { echo "build first: cargo build --release -p evident" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
file="$work/evidence.bin"
head -c "$((size_mib << 20))" /dev/urandom > "$file"
export EVIDENT_HOME="$work/ws" EVIDENT_ACTOR=bench
"$bin" init >/dev/null
cat "$file" > /dev/null   # warm the page cache for both

seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
best() { sort -g | head -n1; }

sha=$(for _ in $(seq "$runs"); do seconds sha256sum "$file"; done | best)
add=$(for _ in $(seq "$runs"); do seconds "$bin" evidence add "$file" --control ACC-01; done | best)
get=$(for _ in $(seq "$runs"); do seconds "$bin" evidence get "$("$bin" evidence list --format json | python3 -c 'import json,sys;print(json.load(sys.stdin)[0]["id"])')" --out "$work/out.bin" --force; done | best)
rss=$( { /usr/bin/time -f '%M' "$bin" evidence add "$file" --control ACC-02 >/dev/null; } 2>&1 | tail -n1 )
cmp "$file" "$work/out.bin"

mbps() { echo "scale=0; $size_mib / $1" | bc -l; }
printf 'file: %d MiB random bytes, best of %d runs\n' "$size_mib" "$runs"
printf 'sha256sum:              %6.2f s  %5d MiB/s\n' "$sha" "$(mbps "$sha")"
printf 'evident evidence add:   %6.2f s  %5d MiB/s  (hash + age encryption + vault write + fsync + record)\n' "$add" "$(mbps "$add")"
printf 'evident evidence get:   %6.2f s  %5d MiB/s  (decrypt + re-hash + write)\n' "$get" "$(mbps "$get")"
printf 'peak RSS of one add:    %6d KiB\n' "$rss"
