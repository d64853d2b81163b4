#!/usr/bin/env python3
"""trickle.py IN OUT [SECONDS]: IN (a classic pcap) then its last packet
again once a second for SECONDS more (default 1800) of capture time.

benches/run.sh uses it on a capture of connections that are all still open
(mkbench.py --mix open=100): a long quiet spell over a large table of idle
live flows, the case of a proxy's keep-alive connections captured for an
hour, where each second's look for idle flows must not cost a walk over
all of them."""
import struct
import sys


def main() -> None:
    src, dst = sys.argv[1], sys.argv[2]
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 1800
    data = open(src, "rb").read()
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    off, last = 24, None
    while off + 16 <= len(data):
        ts, frac, incl, orig = struct.unpack(endian + "IIII", data[off : off + 16])
        last = (off, ts, frac, incl, orig)
        off += 16 + incl
    if last is None:
        sys.exit(f"{src}: no packet")
    at, ts, frac, incl, orig = last
    body = data[at + 16 : at + 16 + incl]
    with open(dst, "wb") as out:
        out.write(data[:off])
        for i in range(1, seconds + 1):
            out.write(struct.pack(endian + "IIII", ts + i, frac, incl, orig))
            out.write(body)


if __name__ == "__main__":
    main()
