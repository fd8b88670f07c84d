#!/usr/bin/env bash
# Evidence pack throughput and memory: `evident pack create` of N items of 1 MiB each (half
# PDF-like random bytes, stored; half CSV-like text, deflated) beside `zip -r` of the same
# files, then `evident pack verify` and the standalone `evident-verify`.
# Usage: bench/pack.sh [ITEMS] [RUNS]. Needs a release build:
#   cargo build --release --workspace --bins   (CARGO_TARGET_DIR respected)
set -euo pipefail
cd "$(dirname "$0")/.."
items=${1:-1000}
runs=${2:-3}
target=${CARGO_TARGET_DIR:-target}
bin="$target/release/evident"
verifier="$target/release/evident-verify"
[ -x "$bin" ] && [ -x "$verifier" ] || { echo "build first: cargo build --release --workspace --bins" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/files"
export EVIDENT_HOME="$work/ws" EVIDENT_ACTOR=bench
"$bin" init >/dev/null
for i in $(seq 1 "$items"); do
  if (( i % 2 )); then
    f="$work/files/report-$i.pdf"; head -c $((1 << 20)) /dev/urandom > "$f"
  else
    f="$work/files/export-$i.csv"
    python3 -c "import random,sys; r=random.Random($i); sys.stdout.write(''.join(f'{r.randrange(10**6)},user{r.randrange(5000)}@example.com,{r.choice([\"keep\",\"revoke\",\"change\"])},2026-0{r.randrange(1,10)}-1{r.randrange(10)}\n' for _ in range(23000))[:1<<20])" > "$f"
  fi
  "$bin" evidence add "$f" --control ACC-01 >/dev/null
done
total_mib=$(du -sm "$work/files" | cut -f1)
cat "$work/files"/* > /dev/null   # warm the page cache (the vault's blobs are read by both runs)

seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
best() { sort -g | head -n1; }
rss() { /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>&1; tail -n1 "$work/rss"; }

zipt=$(for r in $(seq "$runs"); do rm -f "$work/z.zip"; seconds zip -q -r "$work/z.zip" "$work/files"; done | best)
packt=$(for r in $(seq "$runs"); do seconds "$bin" pack create --control ACC-01 --out "$work/p.zip"; done | best)
verifyt=$(for r in $(seq "$runs"); do seconds "$bin" pack verify "$work/p.zip"; done | best)
standalonet=$(for r in $(seq "$runs"); do seconds "$verifier" "$work/p.zip"; done | best)
pack_rss=$(rss "$bin" pack create --control ACC-01 --out "$work/p2.zip")
verify_rss=$(rss "$verifier" "$work/p.zip")
cmp "$work/p.zip" "$work/p2.zip"

mbps() { echo "scale=0; $total_mib / $1" | bc -l; }
printf 'pack: %d items, %d MiB of evidence, best of %d runs\n' "$items" "$total_mib" "$runs"
printf 'zip -r (deflate 6):        %6.2f s  %5d MiB/s  %d MiB\n' "$zipt" "$(mbps "$zipt")" "$(du -m "$work/z.zip" | cut -f1)"
printf 'evident pack create:       %6.2f s  %5d MiB/s  %d MiB  (decrypt + hash + zip + audit segment + sign + fsync)\n' "$packt" "$(mbps "$packt")" "$(du -m "$work/p.zip" | cut -f1)"
printf 'evident pack verify:       %6.2f s  %5d MiB/s\n' "$verifyt" "$(mbps "$verifyt")"
printf 'evident-verify:            %6.2f s  %5d MiB/s\n' "$standalonet" "$(mbps "$standalonet")"
printf 'peak RSS pack create:      %6d KiB\n' "$pack_rss"
printf 'peak RSS evident-verify:   %6d KiB\n' "$verify_rss"
