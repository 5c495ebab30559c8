#!/usr/bin/env bash
# End-to-end benchmark of `rapport analyze` (every output included: charts, report, tables) on
# generated exports, against the time to merely inflate the same archive in the same run
# (`unzip -p` for zips, `gzip -dc` for tar.gz, `cat` for the uncompressed CAR). Prints a
# Markdown table for BENCHMARKS.md.
#
#   scripts/bench.sh [CASE...]     CASE = PLATFORM:N, PLATFORM one of linkedin x mastodon
#                                  bluesky facebook instagram reddit, or linkedin-dense
#                                  (LinkedIn with 4-word messages: more activities per MB)
#                                  or bluesky-zip (the CAR in a zip: a CAR alone has no
#                                  inflate floor)
#   RUNS=5 (default) pairs per case; default cases: every platform at 10k, 100k and 1M.
#
# Builds the release binary and the generators (examples/gen_*.rs, seed 7), generates each export
# once under target/bench/, then runs the floor and rapport in turn (floor, rapport, floor,
# rapport, …: a drift of the machine's speed hits both alike) and reports the medians of the
# times, of the pair-by-pair ratios and of rapport's peak RSS (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
  for p in linkedin x mastodon bluesky facebook instagram reddit; do
    for n in 10000 100000 1000000; do cases+=("$p:$n"); done
  done
fi
cargo build --release --quiet --bin rapport --example gen_linkedin --example gen_x \
  --example gen_mastodon --example gen_bluesky --example gen_meta --example gen_reddit
bin=target/release/rapport
ex=target/release/examples
dir=target/bench
mkdir -p "$dir"

median() { sort -g | awk '{v[NR]=$1} END {if (NR % 2) print v[(NR+1)/2]; else printf "%.4f\n", (v[NR/2]+v[NR/2+1])/2}'; }

echo "| export | size arg | activities | archive MB | data MB | floor s | rapport s | ratio | peak RSS MB | RSS / data |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for c in "${cases[@]}"; do
  kind=${c%%:*}; n=${c##*:}
  case $kind in
    linkedin) f="$dir/linkedin-$n.zip"; [ -f "$f" ] || "$ex/gen_linkedin" --activities "$n" --out "$f" > /dev/null 2>&1 ;;
    linkedin-dense) f="$dir/linkedin-dense-$n.zip"; [ -f "$f" ] || "$ex/gen_linkedin" --activities "$n" --message-words 4 --out "$f" > /dev/null 2>&1 ;;
    x) f="$dir/x-$n.zip"; [ -f "$f" ] || "$ex/gen_x" --tweets "$n" --out "$f" > /dev/null 2>&1 ;;
    mastodon) f="$dir/mastodon-$n.tar.gz"; [ -f "$f" ] || "$ex/gen_mastodon" --statuses "$n" --out "$f" > /dev/null 2>&1 ;;
    bluesky) f="$dir/bluesky-$n.car"; [ -f "$f" ] || "$ex/gen_bluesky" --posts "$n" --out "$f" > /dev/null 2>&1 ;;
    bluesky-zip)
      car="$dir/bluesky-$n.car"; [ -f "$car" ] || "$ex/gen_bluesky" --posts "$n" --out "$car" > /dev/null 2>&1
      f="$dir/bluesky-$n.zip"; [ -f "$f" ] || (cd "$dir" && zip -q "bluesky-$n.zip" "bluesky-$n.car") ;;
    facebook|instagram) f="$dir/$kind-$n.zip"; [ -f "$f" ] || "$ex/gen_meta" --platform "$kind" --activities "$n" --out "$f" > /dev/null 2>&1 ;;
    reddit) f="$dir/reddit-$n.zip"; [ -f "$f" ] || "$ex/gen_reddit" --activities "$n" --out "$f" > /dev/null 2>&1 ;;
    *) echo "unknown case $c" >&2; exit 2 ;;
  esac
  case $f in
    *.zip) floor=(sh -c "unzip -p '$f' > /dev/null"); data=$(unzip -l "$f" | tail -1 | awk '{print $1}') ;;
    *.tar.gz) floor=(sh -c "gzip -dc '$f' > /dev/null"); data=$(gzip -dc "$f" | wc -c) ;;
    *) floor=(sh -c "cat '$f' > /dev/null"); data=$(wc -c < "$f") ;;
  esac
  out="$dir/out-$kind-$n"
  : > "$dir/floor.txt"; : > "$dir/rapport.txt"; : > "$dir/ratio.txt"; : > "$dir/rss.txt"
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e' -o "$dir/t.txt" "${floor[@]}"
    tf=$(cat "$dir/t.txt")
    /usr/bin/time -f '%e %M' -o "$dir/t.txt" "$bin" -q analyze --export "$f" --out "$out" > /dev/null
    read -r tr rss < "$dir/t.txt"
    echo "$tf" >> "$dir/floor.txt"; echo "$tr" >> "$dir/rapport.txt"; echo "$rss" >> "$dir/rss.txt"
    awk -v a="$tr" -v b="$tf" 'BEGIN {printf "%.4f\n", a / (b > 0.01 ? b : 0.01)}' >> "$dir/ratio.txt"
  done
  acts=$(sed -n 's/.*"activities": \([0-9]*\).*/\1/p' "$out/metrics.json" | head -1)
  mf=$(median < "$dir/floor.txt"); mr=$(median < "$dir/rapport.txt")
  mq=$(median < "$dir/ratio.txt"); mrss=$(median < "$dir/rss.txt")
  awk -v k="$kind" -v n="$n" -v a="$acts" -v am="$(wc -c < "$f")" -v d="$data" -v mf="$mf" \
      -v mr="$mr" -v mq="$mq" -v rss="$mrss" 'BEGIN {
    printf "| %s | %s | %s | %.1f | %.1f | %.2f | %.2f | %.2fx | %.0f | %.2fx |\n",
      k, n, a, am / 1048576, d / 1048576, mf, mr, mq, rss / 1024, (rss * 1024) / d }'
done
