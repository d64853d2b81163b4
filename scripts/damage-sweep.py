#!/usr/bin/env python3
"""Random damage on every capture of testdata/, run through the binary:
no crash, no hang, peak RSS under 256 MiB, exit 0 or 2, and a message on
standard error whenever the file was cut or changed in a way that shows.

Usage: scripts/damage-sweep.py [--bin target/release/tlsclose] [--per-capture N] [--seed S]
Python standard library only; /usr/bin/time measures the peak RSS.
"""
import argparse
import glob
import os
import random
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def boundaries(data):
    """Offsets where a pcap record or pcapng block ends (a cut there cannot
    be told from the end of a capture)."""
    ends = set()
    if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = "<" if data[0] in (0xD4, 0x4D) else ">"
        at = 24
        while at + 16 <= len(data):
            ends.add(at)
            at += 16 + struct.unpack(e + "I", data[at + 8:at + 12])[0]
        ends.add(at)
    elif data[:4] == b"\x0a\x0d\x0d\x0a":
        at, e = 0, "<"
        while at + 12 <= len(data):
            if data[at:at + 4] == b"\x0a\x0d\x0d\x0a":
                e = "<" if data[at + 8:at + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            n = struct.unpack(e + "I", data[at + 4:at + 8])[0]
            if n < 12:
                break
            at += n
            ends.add(at)
    return ends


def damage(data, rng):
    """A damaged copy and what was done."""
    d = bytearray(data)
    kind = rng.choice(["cut", "flip", "zero", "delete", "duplicate", "insert", "cut+flip"])
    if kind in ("cut", "cut+flip"):
        d = d[: rng.randrange(1, len(d))]
    if kind in ("flip", "cut+flip"):
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(d))
            d[i] ^= 1 << rng.randrange(8)
    if kind == "zero":
        i = rng.randrange(len(d))
        d[i:i + rng.randint(1, 64)] = bytes(min(64, len(d) - i))
    if kind == "delete":
        i = rng.randrange(len(d))
        del d[i:i + rng.randint(1, 300)]
    if kind == "duplicate":
        i = rng.randrange(len(d))
        d[i:i] = d[i:i + rng.randint(1, 300)]
    if kind == "insert":
        i = rng.randrange(len(d))
        d[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))
    return bytes(d), kind


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "tlsclose"))
    ap.add_argument("--per-capture", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    caps = sorted(glob.glob(os.path.join(ROOT, "testdata", "*", "capture.*")))
    caps = [c for c in caps if "/damaged-" not in c]
    problems, runs, peak = [], 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for cap in caps:
            data = open(cap, "rb").read()
            ends = boundaries(data)
            for k in range(args.per_capture):
                bad, kind = damage(data, rng)
                path = os.path.join(tmp, f"{k}-" + os.path.basename(cap))
                with open(path, "wb") as f:
                    f.write(bad)
                try:
                    p = subprocess.run(["/usr/bin/time", "-f", "%M", args.bin, "-f", "json", path],
                                       capture_output=True, timeout=20)
                except subprocess.TimeoutExpired:
                    problems.append(f"{cap} ({kind}): hung")
                    continue
                runs += 1
                err = p.stderr.decode(errors="replace").strip().splitlines()
                rss_kb = int(err[-1]) if err and err[-1].isdigit() else 0
                peak = max(peak, rss_kb)
                msgs = err[:-1]
                where = f"{cap} ({kind}, {len(bad)} of {len(data)} bytes)"
                if p.returncode not in (0, 2):
                    problems.append(f"{where}: exit {p.returncode}: {msgs[-3:]}")
                if any("panicked" in m for m in msgs):
                    problems.append(f"{where}: panic")
                if rss_kb > 256 * 1024:
                    problems.append(f"{where}: peak RSS {rss_kb} KiB")
                if kind == "cut" and not cap.endswith(".gz") and not msgs and len(bad) not in ends:
                    problems.append(f"{where}: cut without a message")
    print(f"{runs} runs on {len(caps)} captures, peak RSS {peak // 1024} MiB, {len(problems)} problems")
    for pr in problems:
        print(" ", pr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
