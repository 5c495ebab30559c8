#!/usr/bin/env bash
# End-to-end benchmark of `rapport analyze` (charts and every output included) on generated
# exports, next to the time to merely inflate the same archive (`unzip -p` for zips,
# `gzip -dc` for tar.gz). Prints a Markdown table for BENCHMARKS.md.
#
#   scripts/bench.sh [CASE...]     CASE = linkedin:N | x:N | mastodon:N | bluesky:N
#   default: linkedin:10000 linkedin:100000 linkedin:1000000 x:100000 x:1000000 mastodon:1000000
#
# Builds the release binary and the generators (examples/gen_*.rs, deterministic seed 7),
# generates each export once under target/bench/, then keeps the fastest of 3 runs of each
# command (peak RSS of that run, from /usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(linkedin:10000 linkedin:100000 linkedin:1000000 x:100000 x:1000000 mastodon:1000000)
cargo build --release --quiet --bin rapport --example gen_linkedin --example gen_x --example gen_mastodon --example gen_bluesky
bin=target/release/rapport
ex=target/release/examples
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

echo "| export | items | archive MB | uncompressed MB | inflate s | analyze s | ratio | peak RSS MB | RSS / uncompressed |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for c in "${cases[@]}"; do
  kind=${c%%:*}; n=${c##*:}
  case $kind in
    linkedin) f="$dir/linkedin-$n.zip"; [ -f "$f" ] || "$ex/gen_linkedin" --activities "$n" --out "$f" 2> /dev/null ;;
    x) f="$dir/x-$n.zip"; [ -f "$f" ] || "$ex/gen_x" --tweets "$n" --out "$f" 2> /dev/null ;;
    mastodon) f="$dir/mastodon-$n.tar.gz"; [ -f "$f" ] || "$ex/gen_mastodon" --statuses "$n" --out "$f" 2> /dev/null ;;
    bluesky) f="$dir/bluesky-$n.car"; [ -f "$f" ] || "$ex/gen_bluesky" --posts "$n" --out "$f" 2> /dev/null ;;
    *) echo "unknown case $c" >&2; exit 2 ;;
  esac
  amb=$(du -k "$f" | awk '{printf "%.1f", $1/1024}')
  case $f in
    *.zip) umb=$(unzip -l "$f" | tail -1 | awk '{printf "%.1f", $1/1048576}')
           read -r tu _ < <(best_of_3 sh -c "unzip -p '$f' > /dev/null") ;;
    *.tar.gz) umb=$(gzip -dc "$f" | wc -c | awk '{printf "%.1f", $1/1048576}')
           read -r tu _ < <(best_of_3 sh -c "gzip -dc '$f' > /dev/null") ;;
    *) umb=$amb; read -r tu _ < <(best_of_3 sh -c "cat '$f' > /dev/null") ;;
  esac
  read -r ta rss < <(best_of_3 "$bin" -q analyze --export "$f" --out "$dir/out-$kind-$n")
  ratio=$(awk "BEGIN{printf \"%.2f\", $ta / ($tu > 0.01 ? $tu : 0.01)}")
  rmb=$(awk "BEGIN{printf \"%.0f\", $rss / 1024}")
  rr=$(awk "BEGIN{printf \"%.2f\", ($rss / 1024) / $umb}")
  echo "| $kind | $n | $amb | $umb | $tu | $ta | ${ratio}x | $rmb | ${rr}x |"
done
