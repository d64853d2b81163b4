#!/usr/bin/env python3
"""Builds the testdata/clock-* cases: real corpus captures whose frame
timestamps are rewritten the way misbehaving capture clocks write them
(the packets themselves are untouched, so the verdicts are the original
case's, computed by the corpus oracle).

Usage: scripts/make-clock-cases.py   (from the repository root)
"""
import json
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
        "earlier (an NTP step backwards mid-flow): the flow keeps its verdict, "
        "its times are the frames' own (a note says the flow spans a step), "
        "the capture clock counts its durations on from the time before, "
        "and one warning names frame 11.",
        lambda n, ts: ts - HOUR if n >= 11 else ts,
    ),
    "clock-step-forward": (
        "py-tls12-starttls-smtp",
        "From the ClientHello (frame 11) on, every timestamp is one hour "
        "later (an NTP step forward mid-flow, or an hour without frames: "
        "the two look alike). With the default flow timeout the capture "
        "clock follows the step once frames 12 and 13 confirm it: the SMTP "
        "connection, idle across it and not yet TLS, is given up, and "
        "frames 11 on are read as if the capture started there (a "
        "mid-stream TLS flow with its own verdict), with a warning that "
        "names frame 11 and suggests --flow-timeout; with --flow-timeout "
        "7200 the flow is one and keeps the source's verdict. No "
        "expected.jsonl: tests/clock.rs checks both.",
        lambda n, ts: ts + HOUR if n >= 11 else ts,
    ),
}

NO_EXPECTED = {"clock-step-forward"}


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


STARTTLS = [
    "py-tls12-starttls-smtp",
    "py-tls12-starttls-smtp-fin-only",
    "py-tls13-starttls-smtp",
    "py-tls13-starttls-smtp-fin-only",
]
KEEP = ["client", "server", "ending", "closer", "client_close_notify", "server_close_notify",
        "version", "sni", "confidence"]


def records(path):
    """(seconds as float, frame bytes) of a little-endian pcap; its header."""
    data = open(path, "rb").read()
    scale = 1_000_000 if data[:4] == b"\xd4\xc3\xb2\xa1" else 1_000_000_000
    out, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack("<IIII", data[off : off + 16])
        out.append((sec + frac / scale, frac, scale, data[off + 16 : off + 16 + incl], orig))
        off += 16 + incl
    return data[:24], out


def interleaved_starttls():
    """The four STARTTLS cases at once (each starts 0.4 ms after the
    previous one, so all are live together), each SYN-ACK 20 to 29 years
    ahead (a different time each)."""
    d = os.path.join("testdata", "clock-future-synacks-interleaved")
    os.makedirs(d, exist_ok=True)
    merged, header, expected = [], None, []
    for k, case in enumerate(STARTTLS):
        hdr, recs = records(os.path.join("testdata", case, "capture.pcap"))
        header = header or hdr
        assert hdr == header, case
        t0 = recs[0][0]
        for n, (ts, frac, scale, frame, orig) in enumerate(recs, start=1):
            good = 1_800_000_000 + (ts - t0) + k * 0.0004
            bad = good + (20 + 3 * k) * YEAR if n == 2 else None
            merged.append((good, k, n, bad if bad is not None else good, frame, orig))
        for line in open(os.path.join("testdata", case, "expected.jsonl")):
            e = json.loads(line)
            expected.append({f: e[f] for f in KEEP if f in e})
    merged.sort(key=lambda m: (m[0], m[1], m[2]))
    out = bytearray(header[:4] + b"\x02\x00\x04\x00" + header[8:])
    out[:4] = b"\xd4\xc3\xb2\xa1"  # microseconds
    for _, _, _, t, frame, orig in merged:
        sec = int(t)
        usec = int(round((t - sec) * 1_000_000))
        if usec >= 1_000_000:
            sec, usec = sec + 1, usec - 1_000_000
        out += struct.pack("<IIII", sec, usec, len(frame), orig) + frame
    open(os.path.join(d, "capture.pcap"), "wb").write(out)
    with open(os.path.join(d, "expected.jsonl"), "w") as f:
        for e in expected:
            f.write(json.dumps(e) + "\n")
    with open(os.path.join(d, "README.md"), "w") as r:
        r.write(
            "The four STARTTLS cases (" + ", ".join(f"`{c}`" for c in STARTTLS) + ") at once, "
            "each starting 0.4 ms after the previous one, and each one's SYN-ACK 20, 23, 26 and "
            "29 years in the future (as the six STARTTLS flows of a public capture set): every "
            "flow survives and keeps its verdict; one warning names the first bad frame.\n\n"
            "Made by scripts/make-clock-cases.py (frames re-timed and merged; expected lines are "
            "the source cases' verdict fields, computed by the corpus oracle).\n"
        )


def main():
    interleaved_starttls()
    for case, (source, what, f) in CASES.items():
        d = os.path.join("testdata", case)
        os.makedirs(d, exist_ok=True)
        rewrite(os.path.join("testdata", source, "capture.pcap"), os.path.join(d, "capture.pcap"), f)
        if case not in NO_EXPECTED:
            shutil.copy(os.path.join("testdata", source, "expected.jsonl"), os.path.join(d, "expected.jsonl"))
        tail = ("only frame timestamps rewritten" if case in NO_EXPECTED else
                "only frame timestamps rewritten; expected.jsonl is that case's, computed by the "
                "corpus oracle")
        with open(os.path.join(d, "README.md"), "w") as r:
            r.write(f"{what}\n\nMade by scripts/make-clock-cases.py from `testdata/{source}` ({tail}).\n")


if __name__ == "__main__":
    main()
