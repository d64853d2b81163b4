#!/usr/bin/env python3
"""Seed corpora for the fuzz targets (fuzz/corpus/<target>/), from the
captures in testdata/ and, when present, ../shared/corpus/cases/.

* capture_reader, pipeline: every capture as it is, plus a gzip copy of a
  few, deduplicated by content.
* deframer_split: each TCP direction's payload, concatenated in capture
  order (retransmissions dropped by sequence number), behind the target's
  two control bytes (flags 0 = stream start, no cuts); a mid-stream copy
  (flags 1) starts halfway through.
* reassembler: structured input (arbitrary); libFuzzer starts it empty.
* keylog: every key log (sslkeys.log) as it is.
* keyed_pipeline: each capture that has a key log beside it, behind the
  key log and its length (2 bytes, little-endian); a pcapng with
  Decryption Secrets Blocks behind an empty key log (length 0).

Python standard library only. Usage: scripts/fuzz-seeds.py [--max-size N]
"""
import argparse
import gzip
import hashlib
import os
import struct
import sys
import zlib

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


CASE_DIRS = [os.path.join(ROOT, "testdata"), os.path.join(ROOT, "..", "shared", "corpus", "cases")]


def captures():
    for base in CASE_DIRS:
        if not os.path.isdir(base):
            continue
        for case in sorted(os.listdir(base)):
            d = os.path.join(base, case)
            if not os.path.isdir(d):
                continue
            for name in sorted(os.listdir(d)):
                if name.startswith("capture."):
                    yield os.path.join(d, name)


def read_bytes(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            return None  # damaged on purpose (testdata/damaged-*)
    return data


def packets(data):
    """(link type, frame bytes) of a pcap or pcapng file; stops at damage."""
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = "<" if magic[0] in (0xD4, 0x4D) else ">"
        link = struct.unpack(e + "I", data[20:24])[0] & 0x03FFFFFF
        at = 24
        while at + 16 <= len(data):
            incl = struct.unpack(e + "I", data[at + 8:at + 12])[0]
            if at + 16 + incl > len(data):
                return
            yield link, data[at + 16:at + 16 + incl]
            at += 16 + incl
    elif magic == b"\x0a\x0d\x0d\x0a":
        at, e, links = 0, "<", []
        while at + 12 <= len(data):
            if data[at:at + 4] == b"\x0a\x0d\x0d\x0a":
                e = "<" if data[at + 8:at + 12] == b"\x4d\x3c\x2b\x1a" else ">"
                links = []
            btype, blen = struct.unpack(e + "II", data[at:at + 8])
            if blen < 12 or at + blen > len(data):
                return
            body = data[at + 8:at + blen - 4]
            if btype == 1 and len(body) >= 2:
                links.append(struct.unpack(e + "H", body[:2])[0])
            elif btype == 6 and len(body) >= 20:
                if_id, _, _, cap, _ = struct.unpack(e + "IIIII", body[:20])
                if if_id < len(links):
                    yield links[if_id], body[20:20 + cap]
            elif btype == 3 and len(body) >= 4 and links:
                yield links[0], body[4:]
            at += blen


def ip_of(link, f):
    """The IP packet inside a frame, or None."""
    if link == 1:  # Ethernet, VLAN tags skipped
        at = 12
        while at + 2 <= len(f) and f[at:at + 2] in (b"\x81\x00", b"\x88\xa8"):
            at += 4
        return f[at + 2:] if f[at:at + 2] in (b"\x08\x00", b"\x86\xdd") else None
    if link == 113:
        return f[16:]
    if link == 276:
        return f[20:]
    if link in (12, 14, 101, 228, 229):
        return f
    if link in (0, 108):
        return f[4:]
    return None


def tcp_of(ip):
    """((src, dst), seq, payload) of a TCP segment, or None."""
    if not ip:
        return None
    v = ip[0] >> 4
    if v == 4 and len(ip) >= 20:
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        if ip[9] != 6:
            return None
        src, dst, seg = ip[12:16], ip[16:20], ip[ihl:total]
    elif v == 6 and len(ip) >= 40:
        if ip[6] != 6:
            return None
        plen = struct.unpack(">H", ip[4:6])[0]
        src, dst, seg = ip[8:24], ip[24:40], ip[40:40 + plen]
    else:
        return None
    if len(seg) < 20:
        return None
    sport, dport, seq = struct.unpack(">HHI", seg[:8])
    off = (seg[12] >> 4) * 4
    return (src + bytes([sport >> 8, sport & 255]), dst + bytes([dport >> 8, dport & 255])), seq, seg[off:]


def streams(data):
    """Each direction's payload, retransmissions dropped."""
    out, nxt = {}, {}
    for link, f in packets(data):
        t = tcp_of(ip_of(link, f))
        if not t or not t[2]:
            continue
        key, seq, payload = t
        if key in nxt and ((seq - nxt[key]) & 0xFFFFFFFF) >= 0x80000000:
            continue  # old bytes again
        out.setdefault(key, bytearray()).extend(payload)
        nxt[key] = (seq + len(payload)) & 0xFFFFFFFF
    return [bytes(v) for v in out.values()]


class Corpus:
    def __init__(self, target, max_size):
        self.dir = os.path.join(ROOT, "fuzz", "corpus", target)
        self.max_size = max_size
        self.count = 0
        os.makedirs(self.dir, exist_ok=True)

    def add(self, data):
        if not data or len(data) > self.max_size:
            return
        name = hashlib.sha1(data).hexdigest()
        path = os.path.join(self.dir, name)
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
            self.count += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-size", type=int, default=256 * 1024)
    args = ap.parse_args()
    reader = Corpus("capture_reader", args.max_size)
    pipeline = Corpus("pipeline", args.max_size)
    deframer = Corpus("deframer_split", args.max_size)
    Corpus("reassembler", args.max_size)
    keylog = Corpus("keylog", args.max_size)
    keyed = Corpus("keyed_pipeline", args.max_size)
    for n, path in enumerate(captures()):
        with open(path, "rb") as f:
            raw = f.read()
        keys = os.path.join(os.path.dirname(path), "sslkeys.log")
        if os.path.exists(keys):
            with open(keys, "rb") as f:
                log = f.read()
            keylog.add(log)
            if len(log) < 0x10000:
                keyed.add(struct.pack("<H", len(log)) + log + raw)
        elif raw[:4] == b"\x0a\x0d\x0d\x0a" and (b"KSLT" in raw or b"TLSK" in raw):
            # a pcapng whose Decryption Secrets Block (type TLSK) holds the keys
            keyed.add(b"\x00\x00" + raw)
        for c in (reader, pipeline):
            c.add(raw)
            if n % 10 == 0 and raw[:2] != b"\x1f\x8b":
                c.add(gzip.compress(raw, mtime=0))
        data = read_bytes(path)
        if data is None:
            continue
        for s in streams(data):
            s = s[:64 * 1024]
            deframer.add(b"\x00\x00" + s)
            deframer.add(b"\x01\x00" + s[len(s) // 2:])
    for c in (reader, pipeline, deframer, keylog, keyed):
        print(f"fuzz/corpus/{os.path.basename(c.dir)}: {c.count} new seeds", file=sys.stderr)


if __name__ == "__main__":
    main()
