#!/usr/bin/env python3
"""Builds testdata/late-final-ack: two corpus connections closed by FIN on
both sides whose final ACK comes after the old 1 s wait for it, one after
the other in one capture.

- `py-tls13-unwrap-both`: its final ACK (frame 18) 3 s after the client's
  FIN (frame 17), nothing between them.
- `py-tls12-unwrap-both`, 2 s later: the final ACK was lost before the
  capture point, so the client's FIN (source frame 17) is retransmitted
  1.2 s after it (a copy of its frame) and answered by the final ACK (source
  frame 18) at 1.3 s.

Only frame timestamps are rewritten and one frame copied; the bytes of every
frame are the source's. Expected lines: the source cases' verdict fields
(computed by the corpus oracle), frame numbers moved, and each flow's frame
range (first_frame, last_frame, packets, last_time) by construction: every
frame of the connection, the late ones included.

Usage: scripts/make-late-ack-cases.py   (from the repository root)
"""
import json
import os
import struct

CASE = "late-final-ack"
FIRST, SECOND = "py-tls13-unwrap-both", "py-tls12-unwrap-both"
US = 1_000_000


def records(case):
    """The pcap header and the records as [time in us, frame bytes, original length]."""
    data = open(os.path.join("testdata", case, "capture.pcap"), "rb").read()
    if data[:4] != b"\xd4\xc3\xb2\xa1":
        raise SystemExit(f"{case}: not a little-endian microsecond pcap")
    out, off = [], 24
    while off + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack("<IIII", data[off : off + 16])
        out.append([sec * US + usec, data[off + 16 : off + 16 + incl], orig])
        off += 16 + incl
    return data[:24], out


def tcp(frame):
    """(flags, seq, ack) of an Ethernet/IPv4/TCP frame."""
    ihl = (frame[14] & 15) * 4
    t = frame[14 + ihl :]
    seq, ack = struct.unpack(">II", t[4:12])
    return t[13], seq, ack


def check_close(case, recs):
    """Source frame 17 is the second FIN, 18 the pure ACK that acknowledges it."""
    fin_flags, fin_seq, _ = tcp(recs[16][1])
    ack_flags, _, ack = tcp(recs[17][1])
    assert len(recs) == 18, case
    assert fin_flags & 0x01, f"{case}: frame 17 is no FIN"
    assert ack_flags == 0x10 and ack == (fin_seq + 1) & 0xFFFFFFFF, f"{case}: frame 18 is no final ACK"


def expected(case, name, moved, first, last, packets, last_us):
    """The source case's line, frame numbers moved, with the frame range."""
    line = open(os.path.join("testdata", case, name)).readline()
    flow = json.loads(line)
    flow["teardown_frame"] += moved
    # seconds as the tool computes them from nanoseconds (f64 division)
    flow.update(first_frame=first, last_frame=last, packets=packets,
                last_time=float(last_us * 1000) / 1e9)
    client, server = flow["client"].rsplit(":", 1), flow["server"].rsplit(":", 1)
    assert client[0] == server[0] == "127.0.0.1"
    flow["wireshark_filter"] = (f"ip.addr=={client[0]} && tcp.port=={client[1]} && "
                                f"tcp.port=={server[1]} && frame.number>={first} && "
                                f"frame.number<={last}")
    return json.dumps(flow)


def main():
    header, a = records(FIRST)
    header_b, b = records(SECOND)
    assert header == header_b
    check_close(FIRST, a)
    check_close(SECOND, b)
    # the first: its final ACK 3 s after the FIN it acknowledges
    a[17][0] = a[16][0] + 3 * US
    # the second, starting 2 s after the first ends: its FIN again at 1.2 s,
    # the final ACK at 1.3 s
    shift = a[-1][0] + 2 * US - b[0][0]
    b = [[t + shift, f, o] for t, f, o in b]
    fin = b[16][0]
    b.insert(17, [fin + 1_200_000, b[16][1], b[16][2]])
    b[18][0] = fin + 1_300_000
    frames = a + b
    assert all(x[0] <= y[0] for x, y in zip(frames, frames[1:])), "in time order"

    d = os.path.join("testdata", CASE)
    os.makedirs(d, exist_ok=True)
    out = bytearray(header)
    for t, frame, orig in frames:
        out += struct.pack("<IIII", t // US, t % US, len(frame), orig) + frame
    open(os.path.join(d, "capture.pcap"), "wb").write(out)
    for name in ("expected.jsonl", "expected-keys.jsonl"):
        lines = [
            expected(FIRST, name, 0, 1, len(a), len(a), a[-1][0]),
            expected(SECOND, name, len(a), len(a) + 1, len(frames), len(b), b[-1][0]),
        ]
        open(os.path.join(d, name), "w").write("".join(line + "\n" for line in lines))
    keys = "".join(open(os.path.join("testdata", c, "sslkeys.log")).read() for c in (FIRST, SECOND))
    open(os.path.join(d, "sslkeys.log"), "w").write(keys)
    with open(os.path.join(d, "README.md"), "w") as r:
        r.write(
            f"Two connections closed by FIN on both sides whose final ACK comes late: `{FIRST}` "
            f"with its final ACK (frame {len(a)}) 3 s after the last FIN, then `{SECOND}` whose "
            f"last FIN (frame {len(a) + 17}) is retransmitted at 1.2 s (frame {len(a) + 18}, a "
            f"copy) and answered at 1.3 s (frame {len(frames)}). Each flow's frame range takes "
            "its late packets (last_frame, packets, "
            "last_time, the Wireshark filter, `--extract`); the verdicts are the sources'.\n\n"
            "Made by scripts/make-late-ack-cases.py from the two corpus cases (frame timestamps "
            "rewritten, one frame copied); the verdict fields of expected*.jsonl are theirs "
            "(the corpus oracle's, frame numbers moved), the frame ranges by construction.\n"
        )
    print(CASE)


if __name__ == "__main__":
    main()
