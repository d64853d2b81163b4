#!/usr/bin/env python3
"""Makes the damaged captures in testdata/damaged-<kind>/ from real ones.

Each folder gets: the capture (capture.pcap, capture.pcapng or
capture.pcap.gz), README.md (what was damaged and what tlsclose must do),
expected.jsonl (the flows that must still be reported: the verdict fields
for flows whose meaningful packets all survive, only the addresses for
flows that lost some), expected-exit (the exit status) and
expected-stderr (one line per line tlsclose must print on standard error,
each a fragment that line must contain; `{file}` is the capture's path).
crates/tlsclose/tests/damaged.rs runs the binary on every folder.

The sources are testdata/sample (six connections, one after the other)
and testdata/fmt-pcap-nsec. Deterministic, Python standard library only:
run it again after changing a source and commit what changes.
"""
import gzip
import json
import os
import shutil
import struct
import zlib

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
TESTDATA = os.path.join(ROOT, "testdata")
FIELDS = ["ending", "closer", "client_close_notify", "server_close_notify", "version", "sni"]


# ----- reading the sources -----------------------------------------------------

class Pcap:
    def __init__(self, path):
        with open(path, "rb") as f:
            data = f.read()
        assert data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"), path
        self.header = data[:24]
        self.nsec = data[:4] == b"\x4d\x3c\xb2\xa1"
        self.snaplen, self.link = struct.unpack("<II", data[16:24])
        self.records = []  # (sec, frac, orig, frame bytes)
        at = 24
        while at < len(data):
            sec, frac, incl, orig = struct.unpack("<IIII", data[at:at + 16])
            self.records.append((sec, frac, orig, data[at + 16:at + 16 + incl]))
            at += 16 + incl

    def bytes(self, records=None):
        out = bytearray(self.header)
        for sec, frac, orig, frame in (self.records if records is None else records):
            out += struct.pack("<IIII", sec, frac, len(frame), orig) + frame
        return bytes(out)

    def offsets(self):
        """Byte offset of each record (0-based frame index)."""
        offs, at = [], 24
        for _, _, _, frame in self.records:
            offs.append(at)
            at += 16 + len(frame)
        return offs


def tcp_of(frame):
    """((a, b) canonical endpoints, bare) of an Ethernet/IPv4/TCP frame;
    bare: no payload and no SYN/FIN/RST (a pure ACK, whose loss changes no
    verdict)."""
    if len(frame) < 54 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return None
    ihl = (frame[14] & 15) * 4
    total = struct.unpack(">H", frame[16:18])[0]
    src = "%d.%d.%d.%d" % tuple(frame[26:30])
    dst = "%d.%d.%d.%d" % tuple(frame[30:34])
    t = 14 + ihl
    sport, dport = struct.unpack(">HH", frame[t:t + 4])
    off = (frame[t + 12] >> 4) * 4
    flags = frame[t + 13]
    payload = total - ihl - off
    a, b = sorted([f"{src}:{sport}", f"{dst}:{dport}"])
    return (a, b), payload == 0 and flags & 0x07 == 0


def flows_of(pcap):
    """Canonical endpoints -> list of (frame index, bare)."""
    flows = {}
    for i, (_, _, _, frame) in enumerate(pcap.records):
        t = tcp_of(frame)
        if t:
            flows.setdefault(t[0], []).append((i, t[1]))
    return flows


def expected_lines(case):
    with open(os.path.join(TESTDATA, case, "expected.jsonl")) as f:
        return [json.loads(l) for l in f if l.strip().startswith("{")]


def expectations(pcap, case, survivors):
    """expected.jsonl lines for the flows of `pcap` given the frame indexes
    that are still read."""
    exp = {tuple(sorted([e["client"], e["server"]])): e for e in expected_lines(case)}
    out = []
    for key, frames in flows_of(pcap).items():
        kept = [f for f in frames if f[0] in survivors]
        if not kept:
            continue
        lost = [f for f in frames if f[0] not in survivors]
        e = exp.get(key)
        if e is None:
            continue  # not a TLS flow
        if all(bare for _, bare in lost):
            out.append({k: e[k] for k in ["client", "server"] + FIELDS if k in e})
        else:
            out.append({"client": e["client"], "server": e["server"], "partial": True})
    return out


# ----- pcapng ----------------------------------------------------------------

def block(be, btype, body):
    e = ">" if be else "<"
    body = body + b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def options(be, opts):
    e = ">" if be else "<"
    out = b""
    for code, value in opts:
        out += struct.pack(e + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)
    return out + (struct.pack(e + "HH", 0, 0) if opts else b"")


def shb(be):
    e = ">" if be else "<"
    body = struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1)
    return block(be, 0x0A0D0D0A, body + options(be, [(4, b"tlsclose make-damaged.py")]))


def idb(be, link, extra_opts=()):
    e = ">" if be else "<"
    body = struct.pack(e + "HHI", link, 0, 262144)
    return block(be, 1, body + options(be, [(9, b"\x06")] + list(extra_opts)))


def epb(be, rec, extra_opts=()):
    e = ">" if be else "<"
    sec, frac, orig, frame = rec
    ts = sec * 1_000_000 + frac
    body = struct.pack(e + "IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(frame), orig)
    body += frame + b"\0" * (-len(frame) % 4)
    return block(be, 6, body + options(be, list(extra_opts)))


def pcapng(pcap, be=False):
    """The capture as one pcapng section; returns bytes and each EPB's offset."""
    out = bytearray(shb(be) + idb(be, pcap.link))
    offs = []
    for rec in pcap.records:
        offs.append(len(out))
        out += epb(be, rec)
    return bytes(out), offs


# ----- cases -------------------------------------------------------------------

def write_case(kind, name, data, readme, expected, exit_code, stderr):
    d = os.path.join(TESTDATA, f"damaged-{kind}")
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
    with open(os.path.join(d, "README.md"), "w") as f:
        f.write(readme.strip() + "\n")
    with open(os.path.join(d, "expected.jsonl"), "w") as f:
        for e in expected:
            f.write(json.dumps(e) + "\n")
    with open(os.path.join(d, "expected-exit"), "w") as f:
        f.write(f"{exit_code}\n")
    with open(os.path.join(d, "expected-stderr"), "w") as f:
        for line in stderr:
            # one line of standard error per line, its fragments tab-separated
            f.write("\t".join([line] if isinstance(line, str) else line) + "\n")


def main():
    sample = Pcap(os.path.join(TESTDATA, "sample", "capture.pcap"))
    nsec = Pcap(os.path.join(TESTDATA, "fmt-pcap-nsec", "capture.pcap"))
    n = len(sample.records)
    everything = set(range(n))
    offs = sample.offsets()
    raw = sample.bytes()
    assert raw == open(os.path.join(TESTDATA, "sample", "capture.pcap"), "rb").read()
    src = "Made by scripts/make-damaged.py from testdata/sample/capture.pcap (six TLS connections, one after the other, 94 frames)"

    def exp(survivors, pcap=sample, case="sample"):
        return expectations(pcap, case, survivors)

    # --- whole-file problems
    write_case("empty", "capture.pcap", b"",
               "An empty file. tlsclose says so and exits 2; there is nothing to report.",
               [], 2, [["error: {file}", "empty file"]])
    write_case("text", "capture.pcap",
               b"# notes\nThis is a text file saved with a .pcap name by mistake.\n",
               "A text file with a capture's name. tlsclose names the file and its first bytes "
               "(at byte offset 0) and exits 2.",
               [], 2, ["error: {file}: not a pcap or pcapng capture (first bytes, at byte offset 0: 23 20 6e 6f)"])
    write_case("no-packets", "capture.pcap", raw[:24],
               f"{src}: only its 24-byte file header, no packets. Not damage, but worth a word: "
               "tlsclose warns that there are no packets and exits 0.",
               [], 0, ["warning: {file}: no packets after the file header (24 bytes read)"])

    # --- cuts
    write_case("cut-file-header", "capture.pcap", raw[:10],
               f"{src}, cut after 10 bytes, inside the pcap file header. Nothing can be read: "
               "tlsclose names the file and offset 0 and exits 2.",
               [], 2, ["error: {file}: capture is cut short at byte offset 0"])
    cut = offs[49] + 7
    write_case("cut-record-header", "capture.pcap", raw[:cut],
               f"{src}, cut 7 bytes into the record header of frame 50 (byte offset {offs[49]}). "
               "A cut is how a capture ends when tcpdump is killed or the disk fills: tlsclose "
               "warns with the offset and the last whole frame, reports every flow read "
               "before it (the one in progress as it was), and exits 0.",
               exp(set(range(49))), 0,
               [f"warning: {{file}}: capture is cut short at byte offset {offs[49]} (after frame 49)"])
    cut = offs[93] + 16 + 20
    write_case("cut-last-packet", "capture.pcap", raw[:cut],
               f"{src}, cut 20 bytes into the data of its last frame (94, a bare ACK). "
               "A cut in the last packet loses no flow: all six are reported with their "
               "verdicts, with a warning; exit 0.",
               exp(set(range(93))), 0,
               [f"warning: {{file}}: capture is cut short at byte offset {offs[93]} (after frame 93)"])

    # --- lying lengths in a pcap record (frame 40, in the rst connection)
    def lie(value):
        recs = list(sample.records)
        out = bytearray(sample.bytes(recs))
        struct.pack_into("<I", out, offs[39] + 8, value)
        return bytes(out)

    survivors = everything - {39}
    for kind, value, what in [
        ("caplen-zero", 0, "a captured length of 0 (its 74 bytes of data still follow)"),
        ("caplen-over-snaplen", 262144 + 1000, "a captured length of 263144, above the snapshot length 262144 and the original length"),
        ("caplen-4gb", 0xFFFFFFF0, "a captured length of 4294967280 (near 4 GB)"),
    ]:
        write_case(kind, "capture.pcap", lie(value),
                   f"{src}; the record header of frame 40 (byte offset {offs[39]}) claims {what}. "
                   "A plainly wrong length in pcap can be recovered from: tlsclose warns with the "
                   "offset, skips to the next plausible record (saying how many bytes), loses "
                   "frame 40 only, reports all six flows, and exits 0.",
                   exp(survivors), 0,
                   [[f"warning: {{file}}: byte offset {offs[39]} (after frame 39): pcap record of frame 40",
                     f"; skipped {16 + len(sample.records[39][3])} bytes to the next valid record at offset {offs[40]}"]])

    # --- two captures glued together
    glued = raw + nsec.bytes()
    write_case("two-captures", "capture.pcap", glued,
               f"{src}, followed by testdata/fmt-pcap-nsec/capture.pcap (with its own pcap file "
               "header, nanosecond timestamps), as `cat a.pcap b.pcap` makes. tlsclose warns "
               f"at byte offset {len(raw)} and reads on with the second header: seven flows, exit 0.",
               exp(everything) + expectations(nsec, "fmt-pcap-nsec", set(range(len(nsec.records)))), 0,
               [f"warning: {{file}}: byte offset {len(raw)} (after frame 94): a second pcap file header follows"])

    # --- gzip
    gz = gzip.compress(raw, compresslevel=6, mtime=0)
    write_case("gzip-cut", "capture.pcap.gz", gz[: len(gz) * 6 // 10],
               f"{src}, gzip-compressed and cut at 60% of the compressed file. tlsclose reads "
               "what decompresses, warns that the gzip stream ends early (with the offset in "
               "the decompressed data), reports the flows read, and exits 0 (a cut).",
               [], 0, [["warning: {file}: capture is cut short at byte offset", "the gzip stream ends early"]])
    # A longer capture (the sample, then the records of a bulk transfer),
    # compressed in two parts with a full flush between, the block after it
    # made corrupt. The decoder hands out what it decompressed in steps (up
    # to some 40 KiB late), so the damage is put 50 KiB after the sample.
    bulk = Pcap(os.path.join(TESTDATA, "py-tls12-bulk-then-cn", "capture.pcap"))
    assert bulk.link == sample.link and not bulk.nsec
    longer = sample.bytes(sample.records + bulk.records)
    half = len(raw)
    while half < len(raw) + 50_000:
        half += 16 + struct.unpack("<I", longer[half + 8:half + 12])[0]
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = c.compress(longer[:half]) + c.flush(zlib.Z_FULL_FLUSH)
    at = len(body)
    body += c.compress(longer[half:]) + c.flush()
    body = bytearray(body)
    body[at] = 0xFF  # an invalid block type
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = struct.pack("<II", zlib.crc32(longer) & 0xFFFFFFFF, len(longer) & 0xFFFFFFFF)
    write_case("gzip-corrupt", "capture.pcap.gz", header + bytes(body) + trailer,
               f"{src}, followed by the records of testdata/py-tls12-bulk-then-cn (one bulk "
               f"transfer), gzip-compressed, with the deflate data made corrupt at byte {half} of "
               "the decompressed data (an invalid block type). What decompresses before the "
               "damage is read (the decoder gives it in steps, so up to some 40 KiB before the "
               "damage are lost); tlsclose names the file, the offset in the decompressed data "
               "and the last frame, reports the flows read (the sample's six, and the bulk "
               "transfer as far as it got), and exits 2: the rest is unreadable.",
               [], 2, [["error: {file}: read error after byte offset", "of the decompressed data (after frame", "corrupt deflate stream"]])

    # --- pcapng
    ng, ng_offs = pcapng(sample)
    src_ng = src.replace("capture.pcap (", "capture.pcap written as pcapng (one section, one interface, ")
    write_case("ng-cut-section-header", "capture.pcapng", ng[:20],
               f"{src_ng}, cut after 20 bytes, inside the section header block (the file header). "
               "Nothing can be read: exit 2.",
               [], 2, ["error: {file}: capture is cut short at byte offset 0"])
    cut = ng_offs[49] + 40
    write_case("ng-cut-block", "capture.pcapng", ng[:cut],
               f"{src_ng}, cut 40 bytes into the enhanced packet block of frame 50 "
               f"(byte offset {ng_offs[49]}). As for pcap: a warning, the flows read before, exit 0.",
               exp(set(range(49))), 0,
               [f"warning: {{file}}: capture is cut short at byte offset {ng_offs[49]} (after frame 49)"])
    cut = ng_offs[93] + 30
    write_case("ng-cut-last-block", "capture.pcapng", ng[:cut],
               f"{src_ng}, cut inside the block of its last frame (94, a bare ACK): all six "
               "flows with their verdicts, a warning, exit 0.",
               exp(set(range(93))), 0,
               [f"warning: {{file}}: capture is cut short at byte offset {ng_offs[93]} (after frame 93)"])

    def ng_patch(patch):
        out = bytearray(ng)
        patch(out, ng_offs[39], struct.unpack("<I", ng[ng_offs[39] + 4:ng_offs[39] + 8])[0])
        return bytes(out)

    blen = struct.unpack("<I", ng[ng_offs[39] + 4:ng_offs[39] + 8])[0]
    resync = (f"tlsclose warns with the offset, scans to the next valid block (saying how many "
              f"bytes it skipped: the {blen}-byte block of frame 40), reports all six flows, and exits 0.")
    for kind, patch, what, frag in [
        ("ng-block-length-past-end", lambda b, o, l: struct.pack_into("<I", b, o + 4, 0x00FFFFF0),
         "a block length of 16777200, past the end of the file", "claims 16777200 bytes, more than remain in the file"),
        ("ng-block-length-not-multiple-of-4", lambda b, o, l: struct.pack_into("<I", b, o + 4, l + 2),
         f"a block length of {blen + 2}, not a multiple of 4", f"has an impossible length {blen + 2}"),
        ("ng-trailer-mismatch", lambda b, o, l: struct.pack_into("<I", b, o + l - 4, l + 8),
         f"a trailing block length of {blen + 8} where the leading one says {blen}",
         f"trailing length {blen + 8} differs from leading length {blen}"),
    ]:
        write_case(kind, "capture.pcapng", ng_patch(patch),
                   f"{src_ng}; the enhanced packet block of frame 40 (byte offset {ng_offs[39]}) has "
                   f"{what}. {resync}",
                   exp(survivors), 0,
                   [[f"warning: {{file}}: byte offset {ng_offs[39]} (after frame 39)", frag,
                     f"skipped {blen} bytes to the next valid block at offset {ng_offs[40]}"]])

    # unknown block types and options: legal, skipped
    out = bytearray(shb(False) + idb(False, sample.link, [(0x7FF1, b"unknown option"), (2, b"eth0")]))
    unknown_at = None
    for i, rec in enumerate(sample.records):
        if i == 30:
            unknown_at = len(out)
            out += block(False, 0x00001234, b"a block of a type this reader does not know")
            out += block(False, 0x00000BAD, struct.pack("<I", 32473) + b"custom data")
        out += epb(False, rec, [(1, b"a comment"), (0x7FF2, b"\x01\x02\x03")] if i % 3 == 0 else [])
    write_case("ng-unknown-blocks-and-options", "capture.pcapng", bytes(out),
               f"{src_ng}, with options of unknown codes on the interface and on every third "
               f"packet block, and before frame 31 a block of unknown type 0x00001234 and a "
               "custom block. Readers skip these (the format says so); tlsclose reads all six "
               "flows, says once that it skipped a block of unknown type, and exits 0.",
               exp(everything), 0,
               [f"warning: {{file}}: byte offset {unknown_at} (after frame 30): block of unknown type 0x00001234"])

    # a second section with the other byte order
    first = sample.records[:47]
    second = sample.records[47:]
    out = bytearray(shb(False) + idb(False, sample.link))
    for rec in first:
        out += epb(False, rec)
    out += shb(True) + idb(True, sample.link)
    for rec in second:
        out += epb(True, rec)
    write_case("ng-second-section-big-endian", "capture.pcapng", bytes(out),
               f"{src_ng}: frames 1-47 in a little-endian section, then a second section header "
               "in the middle, big-endian, with its own interface and frames 48-94. Legal "
               "pcapng: all six flows, nothing on standard error, exit 0.",
               exp(everything), 0, [])

    # The gzip cases' flows depend on how far decompression got: the flows
    # whole in the first `upto` frames must be there; the others may be
    # (whole or in part).
    bulk_flow = expectations(bulk, "py-tls12-bulk-then-cn", set(range(len(bulk.records))))
    for kind, upto, more in (("gzip-cut", 36, []), ("gzip-corrupt", n, bulk_flow)):
        p = os.path.join(TESTDATA, f"damaged-{kind}", "expected.jsonl")
        required = [e for e in exp(set(range(upto))) if not e.get("partial")]
        names = {(e["client"], e["server"]) for e in required}
        optional = [{"client": e["client"], "server": e["server"], "partial": True, "optional": True}
                    for e in exp(everything) + more if (e["client"], e["server"]) not in names]
        with open(p, "w") as f:
            for e in required + optional:
                f.write(json.dumps(e) + "\n")


if __name__ == "__main__":
    main()
