#!/usr/bin/env python3
"""Make testdata/joined-*: two corpus captures joined with mergecap -a, the
second shifted with editcap -t (a quiet spell, a clock step back), and one
with a single outlier frame between them (the first capture's first frame,
cut to 4 bytes by editcap -s, 30 years ahead).

Each case's expected.jsonl is the two source cases' expected lines (from the
corpus oracle, copied by import-corpus.py), frame numbers moved by the
frames before the second capture: never computed by tlsclose.

Usage: scripts/make-joined-cases.py   (needs editcap and mergecap)
"""
import json
import os
import struct
import subprocess
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
testdata = os.path.join(here, "..", "testdata")
FIRST, SECOND = "py-tls13-unwrap-both", "py-tls12-unwrap-both"
YEAR = 365 * 86400

CASES = {
    "joined-quiet-400s": (
        400, False,
        f"`{FIRST}` then `{SECOND}` (mergecap -a), the second starting 400 s after the first "
        "ends (longer than the default 300 s flow timeout): a quiet spell. Both flows, with the "
        "verdicts each capture gives alone and their frames' own times."),
    "joined-step-back-1h": (
        -3600, False,
        f"`{FIRST}` then `{SECOND}` (mergecap -a), the second's timestamps one hour before the "
        "first's end: a clock step back between two connections. Both flows, with their "
        "verdicts and their frames' own times; one warning names the step."),
    "joined-outlier-between": (
        400, True,
        f"`{FIRST}`, one frame 30 years ahead (its first frame cut to 4 bytes), then "
        f"`{SECOND}` 400 s after the first ends (mergecap -a): an outlier before a quiet spell. "
        "Both flows, with their verdicts and their frames' own times."),
}


def times(path):
    data = open(path, "rb").read()
    magic = data[:4]
    end = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nsec = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    out, at = [], 24
    while at + 16 <= len(data):
        sec, frac, incl = struct.unpack(end + "III", data[at:at + 12])
        out.append(sec + frac / (1e9 if nsec else 1e6))
        at += 16 + incl
    return out


def expected(case, offset):
    lines = []
    for line in open(os.path.join(testdata, case, "expected.jsonl")):
        if line.strip():
            flow = json.loads(line)
            if flow.get("teardown_frame") is not None:
                flow["teardown_frame"] += offset
            lines.append(json.dumps(flow))
    return lines


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


for name, (gap, outlier, readme) in CASES.items():
    a = os.path.join(testdata, FIRST, "capture.pcap")
    b = os.path.join(testdata, SECOND, "capture.pcap")
    out_dir = os.path.join(testdata, name)
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        ta, tb = times(a), times(b)
        shifted = os.path.join(tmp, "second.pcap")
        run("editcap", "-F", "pcap", "-t", "%.6f" % (ta[-1] - tb[0] + gap), b, shifted)
        parts = [a]
        if outlier:
            one = os.path.join(tmp, "one.pcap")
            run("editcap", "-F", "pcap", "-r", "-s", "4", "-t", str(30 * YEAR), a, one, "1")
            parts.append(one)
        parts.append(shifted)
        run("mergecap", "-a", "-F", "pcap", "-w", os.path.join(out_dir, "capture.pcap"), *parts)
    offset = len(ta) + (1 if outlier else 0)
    with open(os.path.join(out_dir, "expected.jsonl"), "w") as f:
        f.write("".join(line + "\n" for line in expected(FIRST, 0) + expected(SECOND, offset)))
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write(readme + "\n\nMade by scripts/make-joined-cases.py from the two corpus cases; "
                "expected.jsonl is theirs, frame numbers moved (the corpus oracle's lines, "
                "never tlsclose's).\n")
    print(name)
