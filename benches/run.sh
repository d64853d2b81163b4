#!/usr/bin/env bash
# Regenerates docs/PERFORMANCE.md's figures: generates the captures with the
# shared generator, times tlsclose against tshark and `cat` with hyperfine,
# measures peak memory with /usr/bin/time, and checks the verdicts against
# the generator's truth files. Prints a Markdown table on stdout.
#
#   benches/run.sh [WORKDIR]        (default /tmp/bench; needs ~8 GB free)
#
# Environment: SIZES="bulk:1G tiny:200M" to choose files, RUNS=3,
# FLAT=1 to add bulk 4G (memory flatness), TSHARK=0 to skip tshark.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
shared=${SHARED:-$repo/../shared}
work=${1:-/tmp/bench}
runs=${RUNS:-3}
sizes=${SIZES:-"bulk:1G tiny:200M"}
[ "${FLAT:-0}" = 1 ] && sizes="$sizes bulk:4G"
mkdir -p "$work"

need() { command -v "$1" >/dev/null 2>&1 || { echo "missing $1 (apt-get install $2)" >&2; exit 1; }; }
need hyperfine hyperfine
need /usr/bin/time time
[ "${TSHARK:-1}" = 1 ] && need tshark tshark

(cd "$repo" && cargo build --release -q -p tlsclose)
bin=$repo/target/release/tlsclose

tshark_fields="tshark -n -Y 'tls.record.content_type==21 || tcp.flags.fin==1 || tcp.flags.reset==1' -T fields -E separator=/t -e frame.number -e tcp.stream -e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport -e tcp.flags.syn -e tcp.flags.fin -e tcp.flags.reset -e tls.record.content_type -e tls.record.length"

# mean seconds of one hyperfine command (from its JSON export)
mean() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][0]['mean'])" "$1"; }
# peak RSS in MB of a command
rss() { /usr/bin/time -f %M bash -c "$1 > /dev/null" 2>&1 >/dev/null | tail -1 | awk '{printf "%.0f", $1/1024}'; }

rows=()
row() { rows+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); }

for spec in $sizes; do
  profile=${spec%%:*}; size=${spec#*:}
  f="$work/$profile-$size.pcap"
  [ -s "$f" ] || python3 "$shared/bench/mkbench.py" --profile "$profile" --size "$size" --jobs 1 -o "$f" -q
  truth="${f%.pcap}.truth.json"
  mb=$(python3 -c "import os,sys; print(os.path.getsize(sys.argv[1])/1e6)" "$f")
  cat "$f" > /dev/null
  "$bin" -f json "$f" > "$work/out.jsonl"
  check=$(python3 "$here/check_truth.py" "$work/out.jsonl" "$truth" | tail -1)

  hyperfine -N --warmup 1 --runs "$runs" --export-json "$work/hf.json" "$bin -f json $f" >/dev/null
  t=$(mean "$work/hf.json")
  row "tlsclose -f json" "$profile $size" "$t" "$mb" "$(rss "$bin -f json $f")" "$check"

  # hyperfine sends the command's output to /dev/null itself
  hyperfine -N --warmup 1 --runs "$runs" --export-json "$work/hf.json" "cat $f" >/dev/null
  row "cat > /dev/null" "$profile $size" "$(mean "$work/hf.json")" "$mb" "$(rss "cat $f")" ""

  if [ "$profile:$size" = "bulk:1G" ] || [ "$profile:$size" = "tiny:200M" ]; then
    gzip -1 -c "$f" > "$f.gz"
    hyperfine --warmup 1 --runs "$runs" --export-json "$work/hf.json" "$bin -f json $f.gz > /dev/null" >/dev/null
    row "tlsclose (gzip -1 input)" "$profile $size" "$(mean "$work/hf.json")" "$mb" "$(rss "$bin -f json $f.gz")" ""
    hyperfine --warmup 1 --runs "$runs" --export-json "$work/hf.json" "zcat $f.gz > /dev/null" >/dev/null
    row "zcat > /dev/null" "$profile $size" "$(mean "$work/hf.json")" "$mb" "" ""
    hyperfine --warmup 1 --runs "$runs" --export-json "$work/hf.json" "cat $f | $bin -f json - > /dev/null" >/dev/null
    row "tlsclose - (stdin, fed by cat)" "$profile $size" "$(mean "$work/hf.json")" "$mb" "" ""
    if [ "${TSHARK:-1}" = 1 ]; then
      hyperfine --warmup 0 --runs 1 --export-json "$work/hf.json" "$tshark_fields -r $f > /dev/null" >/dev/null 2>&1
      row "tshark (alert/FIN/RST field dump)" "$profile $size" "$(mean "$work/hf.json")" "$mb" "$(rss "$tshark_fields -r $f")" ""
    fi
  fi
done

echo "| tool | file | wall time (s) | MB | max RSS (MB) | verdicts vs truth |"
echo "|---|---|---|---|---|---|"
for r in "${rows[@]}"; do
  # add MB/s: columns are | tool | file | t | MB | rss | check |
  echo "$r" | awk -F'|' '{t=$4+0; mb=$5+0; printf "|%s|%s| %.3f (%.0f MB/s) | %.0f |%s|%s|\n", $2, $3, t, (t>0? mb/t : 0), mb, $6, $7}'
done
