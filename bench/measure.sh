# Sourced by the bench scripts: timing and peak memory of whole commands.

# "seconds peak_kib" of one run of a command (its output discarded).
measure() {
  local s e rss
  s=$(date +%s.%N)
  rss=$( { /usr/bin/time -f '%M' "$@" >/dev/null; } 2>&1 | tail -n1 )
  e=$(date +%s.%N)
  printf '%.2f %d\n' "$(echo "$e - $s" | bc -l)" "$rss"
}
# Best wall time of three runs, and the peak memory seen.
best_of_3() {
  local best=999999 peak=0 t r
  for _ in 1 2 3; do
    read -r t r < <(measure "$@")
    best=$(echo "if ($t < $best) $t else $best" | bc -l); [ "$r" -gt "$peak" ] && peak=$r
  done
  printf '%.2f %d\n' "$best" "$peak"
}
