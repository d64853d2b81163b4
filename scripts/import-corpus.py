#!/usr/bin/env python3
"""Copy the shared corpus of real captures into testdata/ so that the
project's tests stand on their own.

For every ../shared/corpus/cases/<case>/ this writes testdata/<case>/ with:
  capture.*             the capture, unchanged
  README.md             one line: what the capture shows (from about.txt)
  expected.jsonl        the keyless verdicts (expected-nokeys.jsonl; the
                        spec's inference rules), computed by an independent
                        tshark-based oracle, never by tlsclose
  expected-keys.jsonl   the verdicts with the key log (expected.jsonl)
  sslkeys.log           the NSS key log (throwaway keys)
  decode.txt            (STARTTLS cases) the oracle's decode-as hint

Expected files are copied, never edited. Then testdata/sample/expected.jsonl
is rebuilt from the expected lines of the six cases merged into
testdata/sample/capture.pcap, made anew (mergecap -a, in SAMPLE's order,
which is the cases' time order): the same
lines, with teardown_frame moved by the frames of the cases before it, so
that they name the merged capture's frames (checked: the sample's flows
start at those offsets).

Usage: scripts/import-corpus.py [CORPUS]
"""
import json
import struct
import os
import shutil
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
corpus = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "..", "shared", "corpus")
cases = os.path.join(corpus, "cases")
out_root = os.path.join(root, "testdata")

n = 0
for case in sorted(os.listdir(cases)):
    src = os.path.join(cases, case)
    if not os.path.isdir(src):
        continue
    dst = os.path.join(out_root, case)
    os.makedirs(dst, exist_ok=True)
    for name in sorted(os.listdir(src)):
        s = os.path.join(src, name)
        if name.startswith("capture.") or name in ("sslkeys.log", "decode.txt"):
            shutil.copyfile(s, os.path.join(dst, name))
        elif name == "expected-nokeys.jsonl":
            shutil.copyfile(s, os.path.join(dst, "expected.jsonl"))
        elif name == "expected.jsonl":
            shutil.copyfile(s, os.path.join(dst, "expected-keys.jsonl"))
        elif name == "about.txt":
            text = " ".join(open(s).read().split())
            with open(os.path.join(dst, "README.md"), "w") as f:
                f.write(f"{text}\n\n(Imported from the shared corpus case `{case}` by scripts/import-corpus.py.)\n")
    n += 1
print(f"imported {n} cases into {out_root}")

# the sample capture: these cases, appended in this order (the order of
# their times: each case keeps its own timestamps, and the sample's frames
# are in time order)
SAMPLE = [
    "py-tls12-open",
    "py-tls12-data-after-cn-server",
    "py-tls13-unread-data-rst",
    "ossl-tls13-server-answers-bare-fin",
    "nginx-tls13-keepalive-timeout",
    "curl-h2-nginx-tls13",
]


def pcap_frames(path):
    """Frames in a classic pcap (either byte order)."""
    data = open(path, "rb").read()
    end = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    at, n = 24, 0
    while at + 16 <= len(data):
        (incl,) = struct.unpack(end + "I", data[at + 8:at + 12])
        at += 16 + incl
        n += 1
    return n


sample_inputs = [os.path.join(out_root, c, "capture.pcap") for c in SAMPLE]
subprocess.run(
    ["mergecap", "-a", "-F", "pcap", "-w", os.path.join(out_root, "sample", "capture.pcap")]
    + sample_inputs,
    check=True,
)
lines, offset = [], 0
for case in SAMPLE:
    src = os.path.join(out_root, case)
    for line in open(os.path.join(src, "expected.jsonl")):
        if line.strip():
            flow = json.loads(line)
            if flow.get("teardown_frame") is not None:
                flow["teardown_frame"] += offset
            lines.append(json.dumps(flow))
    offset += pcap_frames(os.path.join(src, "capture.pcap"))
with open(os.path.join(out_root, "sample", "expected.jsonl"), "w") as f:
    f.write("".join(line + "\n" for line in lines))
print(f"rebuilt testdata/sample/expected.jsonl ({len(lines)} flows, {offset} frames)")
