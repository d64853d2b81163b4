#!/usr/bin/env bash
# Regenerates docs/PERFORMANCE.md's table: generates the captures with the
# shared generator (reused when present), then for each file one hyperfine
# run side by side: tlsclose on one thread and on all cores in every format
# (json, table, csv, markdown), tshark's field dump (once), `tcpdump -r F
# -w /dev/null` and `cat`; peak RSS of each from /usr/bin/time; the verdicts
# checked against the generator's truth (benches/check_truth.py); and the
# memory on bulk 1 GB against bulk 4 GB; instructions per packet under
# callgrind (the first 30 MB of each file: tlsclose -j 1 -f json, tcpdump);
# the peak RSS with 100k and 1M connections open at once (LIVE=1,
# generated with --mix open=100); and the time on the 100k one with and
# without 30 minutes of one packet a second after it (benches/trickle.py). Prints a Markdown table on stdout
# (progress on stderr). About 5 minutes on a quiet 2-core machine once the
# captures exist (generating bulk 4G takes longer: FLAT=0 skips it).
#
#   benches/run.sh [WORKDIR]        (needs ~6 GB free)
#
# WORKDIR defaults to /dev/shm/tlsclose-bench (tmpfs) when /dev/shm has the
# room, else /tmp/bench: the project's VM reclaims the page cache of files
# it has not touched for a while (fincore showed 127 of 200 MB of the tiny
# capture resident between runs, 446 MB of 1 GB of bulk), so captures under
# /tmp are partly re-read from disk and times wander; tmpfs pages stay.
#
# Environment: RUNS=3 (hyperfine runs of each fast command), FILES="tiny:200M
# bulk:1G", FLAT=1 (memory on FLAT_FILES="bulk:1G bulk:4G"), TSHARK=1,
# CALLGRIND=1 (needs valgrind), LIVE=1 (LIVE_FLOWS="100000 1000000"),
# THREADS (default: nproc),
# BUILD=0 (use target/release/tlsclose as it is).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
shared=${SHARED:-$repo/../shared}
shm_free_gb=$(df -BG --output=avail /dev/shm 2>/dev/null | tail -1 | tr -dc 0-9 || true)
if [ -z "${1:-}" ] && [ -w /dev/shm ] && [ "${shm_free_gb:-0}" -ge 12 ]; then
  work=/dev/shm/tlsclose-bench
else
  work=${1:-/tmp/bench}
fi
runs=${RUNS:-3}
files=${FILES:-"tiny:200M bulk:1G"}
threads=${THREADS:-$(nproc)}
mkdir -p "$work"

need() { command -v "$1" >/dev/null 2>&1 || { echo "missing $1 (apt-get install $2)" >&2; exit 1; }; }
need hyperfine hyperfine
need /usr/bin/time time
need tcpdump tcpdump
[ "${TSHARK:-1}" = 1 ] && need tshark tshark

[ "${BUILD:-1}" = 1 ] && (cd "$repo" && cargo build --release -q -p tlsclose)
bin=$repo/target/release/tlsclose
say() { echo "run.sh: $*" >&2; }

# the capture of a profile and size, generated once
capture() {
  local f="$work/$1-$2.pcap"
  if [ ! -s "$f" ]; then
    say "generating $f"
    python3 "$shared/bench/mkbench.py" --profile "$1" --size "$2" -o "$f" -q
  fi
  echo "$f"
}

tshark_fields="tshark -n -Y 'tls.record.content_type==21 || tcp.flags.fin==1 || tcp.flags.reset==1' -T fields -E separator=/t -e frame.number -e tcp.stream -e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport -e tcp.flags.syn -e tcp.flags.fin -e tcp.flags.reset -e tls.record.content_type -e tls.record.length"

# peak RSS in MB of a shell command (its output to /dev/null)
rss() { /usr/bin/time -f %M bash -c "$1 > /dev/null 2>&1" 2>&1 | tail -1 | awk '{printf "%.0f", $1/1024}'; }

results="$work/results.jsonl"
: > "$results"
# note KEY VALUE...: one JSON line for the table below
note() { python3 -c 'import json,sys; a=sys.argv[1:]; print(json.dumps(dict(zip(a[::2],a[1::2]))))' "$@" >> "$results"; }

for spec in $files; do
  profile=${spec%%:*}; size=${spec#*:}
  f=$(capture "$profile" "$size")
  label="$profile $size"
  cat "$f" > /dev/null
  say "$label: verdicts against the truth"
  "$bin" -q -f json "$f" > "$work/out.jsonl"
  check=$(python3 "$here/check_truth.py" "$work/out.jsonl" "${f%.pcap}.truth.json" | tail -1)
  packets=$(tail -1 "$work/out.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["frames"])')
  mb=$(python3 -c "import os,sys; print(os.path.getsize(sys.argv[1])/1e6)" "$f")
  note kind file file "$label" mb "$mb" packets "$packets" check "$check"

  # one hyperfine run, every command side by side (each writes to /dev/null)
  cmds=(
    "$bin -q -j 1 -f json $f"
    "$bin -q -j $threads -f json $f"
    "$bin -q -j 1 -f table $f"
    "$bin -q -j $threads -f table $f"
    "$bin -q -j $threads -f csv $f"
    "$bin -q -j $threads -f markdown $f"
    "bash -c 'cat $f | $bin -q -j 1 -f json -'"
    "tcpdump -r $f -w /dev/null"
    "cat $f"
  )
  names=(
    "tlsclose -j 1 -f json" "tlsclose -j $threads -f json"
    "tlsclose -j 1 -f table" "tlsclose -j $threads -f table"
    "tlsclose -j $threads -f csv" "tlsclose -j $threads -f markdown"
    "cat F | tlsclose -j 1 -f json -"
    "tcpdump -r F -w /dev/null" "cat"
  )
  say "$label: hyperfine (${#cmds[@]} commands, $runs runs each)"
  hyperfine -N -i --warmup 1 --runs "$runs" --export-json "$work/hf.json" "${cmds[@]}" >/dev/null 2>&1
  for i in "${!cmds[@]}"; do
    note kind time file "$label" name "${names[$i]}" hf "$work/hf.json" index "$i" rss "$(rss "${cmds[$i]}")"
  done
  cp "$work/hf.json" "$work/hf-$profile-$size.json"
  python3 - "$work/hf-$profile-$size.json" "$results" <<'EOF'
import json, sys
# resolve the hyperfine figures now (hf.json is overwritten per file)
hf = json.load(open(sys.argv[1]))["results"]
lines = [json.loads(l) for l in open(sys.argv[2])]
for l in lines:
    if l.get("hf") and l.get("index") is not None and "mean" not in l:
        r = hf[int(l["index"])]
        l["mean"], l["stddev"] = r["mean"], r.get("stddev") or 0.0
        l["hf"] = None
with open(sys.argv[2], "w") as out:
    for l in lines:
        out.write(json.dumps(l) + "\n")
EOF
  if [ "${TSHARK:-1}" = 1 ]; then
    say "$label: tshark (once)"
    hyperfine --warmup 0 --runs 1 --export-json "$work/ts.json" "$tshark_fields -r $f > /dev/null" >/dev/null 2>&1
    t=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][0]['mean'])" "$work/ts.json")
    note kind time file "$label" name "tshark field dump (1 run)" mean "$t" stddev 0 rss "$(rss "$tshark_fields -r $f")"
  fi
done

if [ "${CALLGRIND:-1}" = 1 ]; then
  need valgrind valgrind
  for spec in $files; do
    profile=${spec%%:*}; size=${spec#*:}
    f=$(capture "$profile" "$size")
    cut="$work/$profile-$size-30M.pcap"
    head -c 30000000 "$f" > "$cut"
    say "$profile $size: callgrind on the first 30 MB"
    # the cut's last packet may be cut short: a warning, not an error
    # (exit status 2 for the cut: the summary line is still written)
    pk=$( ("$bin" -j 1 -f json "$cut" 2>/dev/null || true) | tail -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["frames"])')
    for c in "tlsclose -j 1 -f json:$bin -q -j 1 -f json $cut" "tcpdump -r F -w /dev/null:tcpdump -r $cut -w /dev/null"; do
      name=${c%%:*}; cmd=${c#*:}
      ir=$( (valgrind --tool=callgrind --callgrind-out-file=/dev/null $cmd 2>&1 >/dev/null || true) \
        | sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' | tail -1)
      note kind ir file "$profile $size" name "$name" ir "$ir" packets "$pk"
    done
  done
fi

if [ "${LIVE:-1}" = 1 ]; then
  # connections that never close, all open at the end: what a live flow
  # costs (the RSS over that of the six-flow sample capture, per flow)
  base_cap="$repo/testdata/sample/capture.pcap"
  for n in ${LIVE_FLOWS:-100000 1000000}; do
    f="$work/live-$n.pcap"
    if [ ! -s "$f" ]; then
      say "generating $f ($n connections left open)"
      python3 "$shared/bench/mkbench.py" --profile tiny --mix open=100 --flows "$n" \
        --concurrency "$n" --size 8G -o "$f" -q
    fi
    for j in 1 "$threads"; do
      say "live: $n open connections, -j $j"
      note kind live name "tlsclose -j $j -f json --max-flows $n" flows "$n" \
        rss "$(rss "$bin -q -j $j -f json --max-flows $n $f")" \
        base "$(rss "$bin -q -j $j -f json --max-flows $n $base_cap")"
    done
  done
  # the first of them again, then 30 min of one packet a second: a long
  # quiet spell over a table of idle live flows (each second's sweep must
  # not walk them all); --flow-timeout keeps them live throughout
  n=${LIVE_FLOWS:-100000}; n=${n%% *}
  f="$work/live-$n.pcap"; ft="$work/live-$n-trickle.pcap"
  [ -s "$ft" ] || python3 "$here/trickle.py" "$f" "$ft" 1800
  say "sweep: $n idle connections, with and without 30 min of trickle"
  cmds=()
  for j in 1 "$threads"; do
    for g in "$f" "$ft"; do
      cmds+=("$bin -q -j $j -f json --max-flows $n --flow-timeout 604800 $g")
    done
  done
  hyperfine -N -i --warmup 1 --runs "$runs" --export-json "$work/sweep.json" "${cmds[@]}" >/dev/null 2>&1
  for i in "${!cmds[@]}"; do
    note kind sweep hf "$work/sweep.json" index "$i" name "$(python3 -c 'import sys; a=sys.argv[1].split(); print(" ".join(["tlsclose"] + a[2:6]))' "${cmds[$i]}")" \
      capture "$( [ $((i % 2)) = 1 ] && echo "live $n + 30 min trickle" || echo "live $n")"
  done
fi

if [ "${FLAT:-1}" = 1 ]; then
  # the same profile, a file 4 times larger: memory must stay flat
  set -- ${FLAT_FILES:-bulk:1G bulk:4G}
  f1=$(capture "${1%%:*}" "${1#*:}")
  f4=$(capture "${2%%:*}" "${2#*:}")
  for fmt in json table; do
    for j in 1 "$threads"; do
      say "memory: -j $j -f $fmt on bulk 1G and 4G"
      note kind mem name "tlsclose -j $j -f $fmt" rss1 "$(rss "$bin -q -j $j -f $fmt $f1")" rss4 "$(rss "$bin -q -j $j -f $fmt $f4")"
    done
  done
fi

python3 - "$results" "$threads" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
files = {l["file"]: l for l in lines if l["kind"] == "file"}
print("| command | file | wall time (s) | packets/s | MB/s | max RSS (MB) | vs tshark |")
print("|---|---|---|---|---|---|---|")
for name in files:
    info = files[name]
    times = [l for l in lines if l["kind"] == "time" and l["file"] == name]
    tshark = next((l["mean"] for l in times if l["name"].startswith("tshark")), None)
    for l in times:
        t = float(l["mean"])
        pps = int(info["packets"]) / t if t else 0
        mbs = float(info["mb"]) / t if t else 0
        vs = f"{float(tshark) / t:.0f}×" if tshark and l["name"].startswith("tlsclose") else ""
        sd = f" ± {float(l['stddev']):.3f}" if float(l.get("stddev") or 0) else ""
        print(f"| {l['name']} | {name} | {t:.3f}{sd} | {pps/1e6:.2f} M | {mbs:.0f} | {l['rss']} | {vs} |")
print()
for name, info in files.items():
    print(f"- {name}: {float(info['mb']):.0f} MB, {int(info['packets']):,} packets; verdicts: {info['check']}")
mem = [l for l in lines if l["kind"] == "mem"]
if mem:
    print()
    print("| command | max RSS bulk 1 GB (MB) | max RSS bulk 4 GB (MB) |")
    print("|---|---|---|")
    for l in mem:
        print(f"| {l['name']} | {l['rss1']} | {l['rss4']} |")
ir = [l for l in lines if l["kind"] == "ir"]
if ir:
    print()
    print("| command (callgrind, first 30 MB) | file | instructions per packet |")
    print("|---|---|---|")
    for l in ir:
        print(f"| {l['name']} | {l['file']} | {int(l['ir']) / int(l['packets']):,.0f} |")
sweep = [l for l in lines if l["kind"] == "sweep"]
if sweep:
    hf = json.load(open(sweep[0]["hf"]))["results"]
    print()
    print("| command (--max-flows, --flow-timeout 604800) | capture | wall time (s) |")
    print("|---|---|---|")
    for l in sweep:
        r = hf[int(l["index"])]
        print(f"| {l['name']} | {l['capture']} | {r['mean']:.3f} ± {r.get('stddev') or 0:.3f} |")
live = [l for l in lines if l["kind"] == "live"]
if live:
    print()
    print("| command | connections open at the end | max RSS (MB) | per connection (KB) |")
    print("|---|---|---|---|")
    for l in live:
        per = (float(l["rss"]) - float(l["base"])) * 1024 / int(l["flows"])
        print(f"| {l['name']} | {int(l['flows']):,} | {l['rss']} | {per:.2f} |")
EOF
