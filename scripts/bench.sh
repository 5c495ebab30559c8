#!/usr/bin/env bash
# End-to-end benchmark of `rapport analyze` on generated LinkedIn exports, next to the time to
# merely inflate the same archive (`unzip -p`). Prints a Markdown table for BENCHMARKS.md.
#
#   scripts/bench.sh [SIZES...]        default sizes: 10000 100000 1000000
#
# Builds the release binary and the generator, generates each export once (deterministic
# seed) under target/bench/, then takes the best of 3 runs of each command. Peak RSS comes
# from /usr/bin/time -v.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
cargo build --release --quiet --bin rapport --example gen_linkedin
bin=target/release/rapport
gen=target/release/examples/gen_linkedin
dir=target/bench
mkdir -p "$dir"

best_of_3() { # prints "seconds peak_kib" of the fastest of three runs
  local best="" rss=""
  for _ in 1 2 3; do
    /usr/bin/time -f '%e %M' -o "$dir/time.txt" "$@" > /dev/null 2>&1
    read -r s m < "$dir/time.txt"
    if [ -z "$best" ] || awk "BEGIN{exit !($s < $best)}"; then best=$s; rss=$m; fi
  done
  echo "$best $rss"
}

echo "| activities | zip MB | uncompressed MB | unzip -p s | analyze s | ratio | peak RSS MB | RSS / uncompressed |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in "${sizes[@]}"; do
  zip="$dir/linkedin-$n.zip"
  [ -f "$zip" ] || "$gen" --activities "$n" --out "$zip" 2> /dev/null
  zmb=$(du -k "$zip" | awk '{printf "%.1f", $1/1024}')
  umb=$(unzip -l "$zip" | tail -1 | awk '{printf "%.1f", $1/1048576}')
  read -r tu _ < <(best_of_3 sh -c "unzip -p '$zip' > /dev/null")
  read -r ta rss < <(best_of_3 "$bin" -q analyze --export "$zip" --out "$dir/out-$n")
  ratio=$(awk "BEGIN{printf \"%.2f\", $ta / ($tu > 0 ? $tu : 0.01)}")
  rmb=$(awk "BEGIN{printf \"%.0f\", $rss / 1024}")
  rr=$(awk "BEGIN{printf \"%.2f\", ($rss / 1024) / $umb}")
  echo "| $n | $zmb | $umb | $tu | $ta | ${ratio}x | $rmb | ${rr}x |"
done
