#!/usr/bin/env python3
"""Builds the testdata/clock-* cases: real corpus captures whose frame
timestamps are rewritten the way misbehaving capture clocks write them
(the packets themselves are untouched, so the verdicts are the original
case's, computed by the corpus oracle).

Usage: scripts/make-clock-cases.py   (from the repository root)
"""
import os
import shutil
import struct

YEAR = 31_557_600
HOUR = 3600

# case: (source case, description, {frame: new_ts} or a function of (frame, ts))
CASES = {
    "clock-future-synack-starttls": (
        "py-tls13-starttls-smtp",
        "The SYN-ACK (frame 2) carries a timestamp 30 years in the future, as in "
        "a public capture set where one SYN-ACK of each of six STARTTLS flows "
        "does: the flow must survive it (no idle timeout) and get its verdict.",
        lambda n, ts: ts + 30 * YEAR if n == 2 else ts,
    ),
    "clock-past-outlier": (
        "py-tls12-starttls-smtp",
        "The server's last application data record (frame 16) carries the "
        "timestamp 0 (1970): one frame in the past; the verdict is the "
        "original's and idle_before_close is not computed across it.",
        lambda n, ts: 0 if n == 16 else ts,
    ),
    "clock-step-back": (
        "py-tls12-starttls-smtp",
        "From the ClientHello (frame 11) on, every timestamp is one hour "
        "earlier (an NTP step backwards mid-flow): the capture clock holds "
        "still, the flow keeps its verdict, one warning names frame 11.",
        lambda n, ts: ts - HOUR if n >= 11 else ts,
    ),
}


def rewrite(src, dst, f):
    data = open(src, "rb").read()
    magic = data[:4]
    if magic == b"\xd4\xc3\xb2\xa1":
        e, scale = "<", 1_000_000
    elif magic == b"\x4d\x3c\xb2\xa1":
        e, scale = "<", 1_000_000_000
    else:
        raise SystemExit(f"{src}: not a little-endian pcap")
    out = bytearray(data[:24])
    off, n = 24, 0
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(e + "IIII", data[off : off + 16])
        n += 1
        ts = sec + frac / scale
        new = f(n, ts)
        if new != ts:
            sec = int(new) & 0xFFFFFFFF
        out += struct.pack(e + "IIII", sec, frac, incl, orig)
        out += data[off + 16 : off + 16 + incl]
        off += 16 + incl
    open(dst, "wb").write(out)


def main():
    for case, (source, what, f) in CASES.items():
        d = os.path.join("testdata", case)
        os.makedirs(d, exist_ok=True)
        rewrite(os.path.join("testdata", source, "capture.pcap"), os.path.join(d, "capture.pcap"), f)
        shutil.copy(os.path.join("testdata", source, "expected.jsonl"), os.path.join(d, "expected.jsonl"))
        with open(os.path.join(d, "README.md"), "w") as r:
            r.write(
                f"{what}\n\nMade by scripts/make-clock-cases.py from `testdata/{source}` "
                "(only frame timestamps rewritten; expected.jsonl is that case's, "
                "computed by the corpus oracle).\n"
            )


if __name__ == "__main__":
    main()
