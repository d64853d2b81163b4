#!/usr/bin/env python3
"""Builds the testdata/tunnel-* (and fmt-ppp, fmt-chdlc) cases.

Each case takes a real corpus capture (Ethernet link type), keeps every
frame's inner IP packet, its timestamp and its order, and wraps it in one
encapsulation (or a stack of them): VXLAN, Geneve, GRE, ERSPAN I/II/III,
IP-in-IP, MPLS, PPPoE over QinQ, GTP-U, VLAN tags inside a tunnel, NFLOG, PPP
and Cisco HDLC link types. The expected verdicts are the unwrapped capture's
(copied from the source case: the tunnel adds nothing a verdict depends on).

With tshark on the PATH, each wrapped capture is checked: tshark must decode
the same TCP segments (ports, raw sequence and acknowledgment numbers,
flags, length) in the same frames as in the source capture, or the script
fails.

Python standard library only. Usage: scripts/make-tunnels.py [--no-check]
(from the repository root).
"""

import json
import os
import shutil
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTDATA = os.path.join(ROOT, "testdata")

# ----- pcap ------------------------------------------------------------------


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic == b"\xd4\xc3\xb2\xa1" or magic == b"\x4d\x3c\xb2\xa1":
        e = "<"
    elif magic == b"\xa1\xb2\xc3\xd4" or magic == b"\xa1\xb2\x3c\x4d":
        e = ">"
    else:
        raise SystemExit(f"{path}: not a pcap file")
    nsec = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0x03FFFFFF
    at = 24
    records = []
    while at + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(e + "IIII", data[at : at + 16])
        records.append((sec, frac, orig, data[at + 16 : at + 16 + incl]))
        at += 16 + incl
    return linktype, nsec, records


def write_pcap(path, linktype, nsec, records):
    magic = 0xA1B23C4D if nsec else 0xA1B2C3D4
    out = [struct.pack("<IHHiIII", magic, 2, 4, 0, 0, 262144, linktype)]
    for sec, frac, orig_extra, data in records:
        out.append(struct.pack("<IIII", sec, frac, len(data), len(data) + orig_extra))
        out.append(data)
    with open(path, "wb") as f:
        f.write(b"".join(out))


# ----- builders ----------------------------------------------------------------

MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4(proto, payload, src, dst, ident=0):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0x4000,
                    64, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def ipv6(nh, payload, src, dst):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64, src, dst) + payload


V4_A, V4_B = bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])
V6_A = bytes.fromhex("20010db8000000000000000000000001")
V6_B = bytes.fromhex("20010db8000000000000000000000002")


def outer_ip(v6, proto, payload, forward, ident=0):
    if v6:
        a, b = (V6_A, V6_B) if forward else (V6_B, V6_A)
        return ipv6(proto, payload, a, b)
    a, b = (V4_A, V4_B) if forward else (V4_B, V4_A)
    return ipv4(proto, payload, a, b, ident)


def udp(v6, sport, dport, payload, forward):
    length = 8 + len(payload)
    h = struct.pack("!HHHH", sport, dport, length, 0)
    if v6:
        a, b = (V6_A, V6_B) if forward else (V6_B, V6_A)
        pseudo = a + b + struct.pack("!IxxxB", length, 17)
        c = csum(pseudo + h + payload) or 0xFFFF
        h = h[:6] + struct.pack("!H", c)
    return outer_ip(v6, 17, h + payload, forward)


def eth(ethertype, payload, tags=(), forward=True):
    dst, src = (MAC_B, MAC_A) if forward else (MAC_A, MAC_B)
    out = dst + src
    for tpid, vid in tags:
        out += struct.pack("!HH", tpid, vid)
    return out + struct.pack("!H", ethertype) + payload


def ethertype_of(ip):
    return 0x86DD if ip[0] >> 4 == 6 else 0x0800


def vxlan(vni, l2):
    return struct.pack("!BxxxI", 0x08, vni << 8) + l2


def geneve(vni, proto, payload, options=b""):
    assert len(options) % 4 == 0
    return struct.pack("!BBHI", len(options) // 4, 0, proto, vni << 8) + options + payload


def gre(proto, payload, csum_bit=False, key=None, seq=None, routing=None):
    flags = 0
    rest = b""
    if csum_bit or routing is not None:
        flags |= 0x80 if csum_bit else 0
        flags |= 0x40 if routing is not None else 0
        rest += b"\0\0\0\0"  # checksum (filled below) and offset
    if key is not None:
        flags |= 0x20
        rest += struct.pack("!I", key)
    if seq is not None:
        flags |= 0x10
        rest += struct.pack("!I", seq)
    if routing is not None:
        for af, info in routing:
            rest += struct.pack("!HBB", af, 0, len(info)) + info
        rest += struct.pack("!HBB", 0, 0, 0)
    h = struct.pack("!BBH", flags, 0, proto) + rest
    if csum_bit:
        c = csum(h + payload)
        h = h[:4] + struct.pack("!H", c) + h[6:]
    return h + payload


def erspan2(session, l2, vlan=0):
    # ver 1, vlan, cos 0, en 0, t 0, session id, reserved, index
    return struct.pack("!HHI", (1 << 12) | vlan, session & 0x3FF, 7) + l2


def erspan3(session, frame, ts, ft=0, platform=True):
    w0 = (2 << 12) | 0  # ver 2, vlan 0
    w1 = session & 0x3FF  # cos, bso, t 0
    sgt = 0
    # p 0, ft, hw id 1, d 0, gra 3 (IEEE 1588), o
    low = (ft << 10) | (1 << 4) | (3 << 1) | (1 if platform else 0)
    h = struct.pack("!HHIHH", w0, w1, ts & 0xFFFFFFFF, sgt, low)
    if platform:
        # platform id 3: port id and upper timestamp (draft-foschiano §4.3)
        h += struct.pack("!II", (3 << 26) | 42, ts >> 32)
    return h + frame


def mpls(labels, payload):
    out = b""
    for i, label in enumerate(labels):
        bos = 1 if i == len(labels) - 1 else 0
        out += struct.pack("!I", (label << 12) | (bos << 8) | 64)
    return out + payload


def pppoe(session, ip):
    proto = 0x0057 if ip[0] >> 4 == 6 else 0x0021
    ppp = struct.pack("!H", proto) + ip
    return struct.pack("!BBHH", 0x11, 0, session, len(ppp)) + ppp


def gtpu(teid, ip, seq):
    # E and S flags: sequence number, N-PDU number, next extension type;
    # then a UDP Port extension (0x40, 1 word) chained to a PDU Session
    # Container (0x85, 2 words) ending the chain.
    ext = struct.pack("!BHB", 1, 2152, 0x85)
    ext += struct.pack("!BBBBBBBB", 2, 0x10, 9, 0, 0, 0, 0, 0)
    body = struct.pack("!HBB", seq & 0xFFFF, 0, 0x40) + ext + ip
    return struct.pack("!BBHI", 0x36, 0xFF, len(body), teid) + body


def nflog(ip):
    family = 10 if ip[0] >> 4 == 6 else 2

    def tlv(t, v):
        body = struct.pack("<HH", 4 + len(v), t) + v
        return body + b"\0" * ((-len(body)) % 4)

    hwproto = 0x86DD if family == 10 else 0x0800
    out = struct.pack("!BBH", family, 0, 5)
    out += tlv(1, struct.pack("!HBx", hwproto, 0))  # NFULA_PACKET_HDR
    out += tlv(10, b"tlsclose\0")  # NFULA_PREFIX
    out += tlv(9, ip)  # NFULA_PAYLOAD
    return out


# ----- the cases ---------------------------------------------------------------


def inner_ip(frame):
    """The IP packet of a plain Ethernet frame (VLAN tags skipped)."""
    at = 12
    t = struct.unpack("!H", frame[at : at + 2])[0]
    while t in (0x8100, 0x88A8, 0x9100):
        at += 4
        t = struct.unpack("!H", frame[at : at + 2])[0]
    if t not in (0x0800, 0x86DD):
        return None
    ip = frame[at + 2 :]
    if t == 0x0800:
        return ip[: struct.unpack("!H", ip[2:4])[0]]
    return ip[: 40 + struct.unpack("!H", ip[4:6])[0]]


class Ctx:
    """Per-frame facts a wrapper may use."""

    def __init__(self, index, ip, forward):
        self.index = index
        self.ip = ip
        self.forward = forward


def entropy_port(ip):
    return 49152 + (sum(ip[12:20]) * 131) % 16384


def w_vxlan(c):
    l2 = eth(ethertype_of(c.ip), c.ip, forward=c.forward)
    return 1, eth(0x0800, udp(False, entropy_port(c.ip), 4789, vxlan(5001, l2), c.forward))


def w_vxlan_8472(c):
    l2 = eth(ethertype_of(c.ip), c.ip, tags=[(0x8100, 100)], forward=c.forward)
    return 1, eth(0x86DD, udp(True, entropy_port(c.ip), 8472, vxlan(7, l2), c.forward))


def w_geneve(c):
    l2 = eth(ethertype_of(c.ip), c.ip, forward=c.forward)
    # two options: class 0x0108 (AWS), type 1, 8 bytes; class 0x0103, type 0x80, 4 bytes
    opts = struct.pack("!HBB", 0x0108, 1, 2) + struct.pack("!Q", 0x1122334455667788 + c.index)
    opts += struct.pack("!HBB", 0x0103, 0x80, 1) + struct.pack("!I", c.index)
    return 1, eth(0x0800, udp(False, entropy_port(c.ip), 6081, geneve(0, 0x6558, l2, opts), c.forward))


def w_gre(c):
    g = gre(ethertype_of(c.ip), c.ip, csum_bit=True, key=0xABCD, seq=c.index)
    return 1, eth(0x0800, outer_ip(False, 47, g, c.forward, c.index))


def w_gre_teb(c):
    l2 = eth(ethertype_of(c.ip), c.ip, forward=c.forward)
    return 1, eth(0x86DD, outer_ip(True, 47, gre(0x6558, l2, key=77), c.forward))


def w_gre_routing(c):
    route = [(0x0800, V4_A + V4_B)]
    g = gre(ethertype_of(c.ip), c.ip, routing=route)
    return 1, eth(0x0800, outer_ip(False, 47, g, c.forward, c.index))


def w_erspan1(c):
    l2 = eth(ethertype_of(c.ip), c.ip, forward=c.forward)
    return 1, eth(0x0800, outer_ip(False, 47, gre(0x88BE, l2), c.forward, c.index))


def w_erspan2(c):
    l2 = eth(ethertype_of(c.ip), c.ip, tags=[(0x8100, 300)], forward=c.forward)
    g = gre(0x88BE, erspan2(12, l2, vlan=300), seq=c.index)
    return 1, eth(0x0800, outer_ip(False, 47, g, c.forward, c.index))


def w_erspan3(c):
    l2 = eth(ethertype_of(c.ip), c.ip, forward=c.forward)
    g = gre(0x22EB, erspan3(99, l2, 1_000_000 + c.index), seq=c.index)
    return 1, eth(0x0800, outer_ip(False, 47, g, c.forward, c.index))


def w_ipip(outer_v6):
    def wrap(c):
        proto = 41 if c.ip[0] >> 4 == 6 else 4
        return 1, eth(0x86DD if outer_v6 else 0x0800, outer_ip(outer_v6, proto, c.ip, c.forward, c.index))

    return wrap


def w_mpls(c):
    return 1, eth(0x8847, mpls([1000, 16], c.ip), forward=c.forward)


def w_mpls_pw(c):
    l2 = eth(ethertype_of(c.ip), c.ip, forward=c.forward)
    cw = struct.pack("!I", c.index & 0xFFFF)  # first nibble 0, sequence number
    return 1, eth(0x8847, mpls([2000, 17], cw + l2), forward=c.forward)


def w_pppoe_qinq(c):
    return 1, eth(0x8864, pppoe(0x1234, c.ip), tags=[(0x88A8, 10), (0x8100, 20)], forward=c.forward)


def w_gtpu(c):
    teid = 0x1000 if c.forward else 0x2000
    return 1, eth(0x0800, udp(False, 2152, 2152, gtpu(teid, c.ip, c.index), c.forward))


def w_vlan_nested(c):
    inner = eth(ethertype_of(c.ip), c.ip, tags=[(0x88A8, 5), (0x8100, 6)], forward=c.forward)
    outer = udp(False, entropy_port(c.ip), 4789, vxlan(42, inner), c.forward)
    return 1, eth(0x0800, outer, tags=[(0x9100, 1), (0x8100, 2)])


def w_stack(c):
    # Ethernet, VLAN, MPLS, IPv4, GRE (TEB), Ethernet, IPv6, UDP, VXLAN,
    # Ethernet, VLAN, IPv4, UDP, GTP-U, then the packet.
    g = udp(False, 2152, 2152, gtpu(0x77, c.ip, c.index), c.forward)
    l2 = eth(0x0800, g, tags=[(0x8100, 9)], forward=c.forward)
    vx = udp(True, entropy_port(c.ip), 4789, vxlan(3, l2), c.forward)
    l2b = eth(0x86DD, vx, forward=c.forward)
    gr = outer_ip(False, 47, gre(0x6558, l2b, key=1), c.forward, c.index)
    return 1, eth(0x8847, mpls([300], gr), tags=[(0x8100, 8)], forward=c.forward)


def fragment_v4(eth_frame, size, reverse):
    """The outer IPv4 datagram of an Ethernet frame in fragments of `size`
    payload bytes (a multiple of 8), each in its own Ethernet frame."""
    head, ip = eth_frame[:14], eth_frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    payload = ip[ihl:]
    if len(payload) <= size:
        return [eth_frame]
    out = []
    for at in range(0, len(payload), size):
        chunk = payload[at : at + size]
        more = at + size < len(payload)
        h = bytearray(ip[:ihl])
        struct.pack_into("!H", h, 2, ihl + len(chunk))
        struct.pack_into("!H", h, 6, (at // 8) | (0x2000 if more else 0))
        struct.pack_into("!H", h, 10, 0)
        struct.pack_into("!H", h, 10, csum(bytes(h)))
        out.append(head + bytes(h) + chunk)
    return out[::-1] if reverse else out


def w_gtpu_fragmented(c):
    teid = 0x1000 if c.forward else 0x2000
    whole = eth(0x0800, udp(False, 2152, 2152, gtpu(teid, c.ip, c.index), c.forward))
    # the outer datagram fragmented (as a GTP-U path with a small MTU does),
    # every other one with its fragments in reverse order
    whole = whole[:14] + ipv4(17, whole[34:], whole[26:30], whole[30:34], c.index)
    return 1, fragment_v4(whole, 256, c.index % 2 == 0)


def w_nflog(c):
    return 239, nflog(c.ip)


def w_ppp(c):
    proto = 0x0057 if c.ip[0] >> 4 == 6 else 0x0021
    return 9, struct.pack("!BBH", 0xFF, 0x03, proto) + c.ip


def w_chdlc(c):
    return 104, struct.pack("!BBH", 0x0F, 0x00, ethertype_of(c.ip)) + c.ip


SAMPLE = "sample"
V6 = "fmt-ipv6"

# name, source case, wrapper, what (README), extra tshark options
CASES = [
    ("tunnel-vxlan", SAMPLE, w_vxlan, "VXLAN (RFC 7348, UDP 4789, VNI 5001) over IPv4", []),
    ("tunnel-vxlan-8472", V6, w_vxlan_8472,
     "VXLAN on Linux's UDP port 8472 over IPv6, the inner Ethernet frame with an 802.1Q tag (VID 100)",
     ["-d", "udp.port==8472,vxlan"]),
    ("tunnel-geneve", SAMPLE, w_geneve,
     "Geneve (RFC 8926, UDP 6081) with two options (12 and 8 bytes) carrying Ethernet (0x6558)", []),
    ("tunnel-gre", SAMPLE, w_gre,
     "GRE (RFC 2784/2890) with checksum, key and sequence number, carrying IPv4", []),
    ("tunnel-gre-teb", V6, w_gre_teb,
     "GRE with a key over IPv6, transparent Ethernet bridging (0x6558) carrying IPv6", []),
    ("tunnel-gre-routing", SAMPLE, w_gre_routing,
     "GRE with the routing present bit (RFC 1701): one source route entry and the empty one ending the list", []),
    ("tunnel-erspan-1", SAMPLE, w_erspan1, "ERSPAN type I (GRE 0x88BE without sequence number, no ERSPAN header)",
     []),
    ("tunnel-erspan-2", SAMPLE, w_erspan2,
     "ERSPAN type II (GRE 0x88BE with sequence number, 8-byte header), the mirrored frame 802.1Q-tagged", []),
    ("tunnel-erspan-3", V6, w_erspan3,
     "ERSPAN type III (GRE 0x22EB, 12-byte header with the platform-specific subheader)", []),
    ("tunnel-4in4", SAMPLE, w_ipip(False), "IPv4 in IPv4 (protocol 4)", []),
    ("tunnel-6in4", V6, w_ipip(False), "IPv6 in IPv4 (protocol 41, as 6in4 / SIT tunnels)", []),
    ("tunnel-4in6", SAMPLE, w_ipip(True), "IPv4 in IPv6 (next header 4, RFC 2473)", []),
    ("tunnel-6in6", V6, w_ipip(True), "IPv6 in IPv6 (next header 41, RFC 2473)", []),
    ("tunnel-mpls", SAMPLE, w_mpls, "an MPLS label stack of two labels (RFC 3032) carrying IPv4", []),
    ("tunnel-mpls-pw", V6, w_mpls_pw,
     "an MPLS Ethernet pseudowire with a control word (RFC 4385/4448) carrying IPv6",
     ["-d", "mpls.label==17,pwethcw"]),
    ("tunnel-pppoe-qinq", SAMPLE, w_pppoe_qinq,
     "PPPoE sessions (RFC 2516, PPP protocol 0x0021) over QinQ (802.1ad 0x88a8 then 802.1Q)", []),
    ("tunnel-gtpu", SAMPLE, w_gtpu,
     "GTP-U (3GPP TS 29.281, UDP 2152) G-PDUs with sequence numbers and two chained extension headers "
     "(UDP Port, then PDU Session Container)", []),
    ("tunnel-gtpu-fragmented", SAMPLE, w_gtpu_fragmented,
     "GTP-U whose outer IPv4 datagrams are fragmented (256-byte fragments, every other datagram's fragments "
     "in reverse order), reassembled before decoding", []),
    ("tunnel-vlan-nested", V6, w_vlan_nested,
     "VLAN tags at two levels: QinQ (0x9100, 0x8100) outside a VXLAN tunnel whose inner Ethernet frame has "
     "802.1ad + 802.1Q tags", []),
    ("tunnel-stack", SAMPLE, w_stack,
     "a deep stack: Ethernet, 802.1Q, MPLS, IPv4, GRE (Ethernet), IPv6, UDP, VXLAN, Ethernet, 802.1Q, "
     "IPv4, UDP, GTP-U with extension headers, then the packet", []),
    ("tunnel-nflog", SAMPLE, w_nflog,
     "Linux NFLOG (link type 239): the packets in NFULA_PAYLOAD after packet-header and prefix TLVs "
     "(little-endian host order)", []),
    ("fmt-ppp", SAMPLE, w_ppp, "link type PPP (9) with HDLC address/control bytes, protocol 0x0021", []),
    ("fmt-chdlc", V6, w_chdlc, "link type Cisco HDLC (104) carrying IPv6", []),
]

TCP_FIELDS = ["frame.number", "tcp.srcport", "tcp.dstport", "tcp.seq_raw", "tcp.ack_raw",
              "tcp.flags", "tcp.len"]


def tshark_tcp(path, extra):
    args = ["tshark", "-n", "-r", path] + extra + ["-Y", "tcp", "-T", "fields"]
    for f in TCP_FIELDS:
        args += ["-e", f]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.strip()]


def tshark_version():
    out = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else "tshark"


def main():
    check = "--no-check" not in sys.argv[1:]
    if check and shutil.which("tshark") is None:
        raise SystemExit("tshark not found (use --no-check to build without the check)")
    version = tshark_version() if check else None
    for name, source, wrap, what, extra in CASES:
        src_dir = os.path.join(TESTDATA, source)
        src_cap = os.path.join(src_dir, "capture.pcap")
        linktype, nsec, records = read_pcap(src_cap)
        assert linktype == 1, f"{source}: Ethernet sources only"
        first_src = None
        out = []
        out_link = None
        # the frame number, in the wrapped capture, that completes each
        # source frame (its last fragment when it is fragmented)
        renumber = {}
        for i, (sec, frac, orig, data) in enumerate(records):
            ip = inner_ip(data)
            if ip is None:
                raise SystemExit(f"{source}: frame {i + 1} is not IP")
            if first_src is None:
                first_src = ip[12:16] if ip[0] >> 4 == 4 else ip[8:24]
            forward = (ip[12:16] if ip[0] >> 4 == 4 else ip[8:24]) == first_src
            link, frames = wrap(Ctx(i + 1, ip, forward))
            assert out_link in (None, link)
            out_link = link
            for frame in frames if isinstance(frames, list) else [frames]:
                out.append((sec, frac, orig - len(data), frame))
            renumber[i + 1] = len(out)
        dst = os.path.join(TESTDATA, name)
        os.makedirs(dst, exist_ok=True)
        cap = os.path.join(dst, "capture.pcap")
        write_pcap(cap, out_link, nsec, out)
        copied = []
        for f in ("expected.jsonl", "sslkeys.log", "expected-keys.jsonl"):
            if not os.path.exists(os.path.join(src_dir, f)):
                continue
            copied.append(f)
            if len(out) == len(records) or not f.endswith(".jsonl"):
                shutil.copyfile(os.path.join(src_dir, f), os.path.join(dst, f))
                continue
            # fragments: the same verdicts, frame numbers in this capture's
            # numbering (a source frame's segment is decoded at the fragment
            # that completes it)
            with open(os.path.join(src_dir, f)) as src, open(os.path.join(dst, f), "w") as w:
                for line in src:
                    if line.strip().startswith("{"):
                        d = json.loads(line)
                        if isinstance(d.get("teardown_frame"), int):
                            d["teardown_frame"] = renumber[d["teardown_frame"]]
                        line = json.dumps(d) + "\n"
                    w.write(line)
        checked = ""
        if check:
            plain = tshark_tcp(src_cap, [])
            wrapped = tshark_tcp(cap, extra)
            if len(out) != len(records):
                # fragments: the frame numbers change, the segments do not
                plain = [line.split("\t", 1)[1] for line in plain]
                wrapped = [line.split("\t", 1)[1] for line in wrapped]
            if plain != wrapped or not plain:
                raise SystemExit(f"{name}: tshark decodes different TCP segments than in {source}")
            opts = f" (with `{' '.join(extra)}`)" if extra else ""
            checked = (f" Checked with {version.rstrip('.')}{opts}: it decodes the inner TCP of all "
                       f"{len(plain)} frames with the same ports, raw sequence and acknowledgment "
                       f"numbers, flags and lengths as in `{source}`.")
        with open(os.path.join(dst, "README.md"), "w") as f:
            f.write(
                f"The frames of `testdata/{source}` (their IP packets, timestamps and order) wrapped in "
                f"{what}. Outer addresses 192.0.2.1/2 or 2001:db8::1/2 follow the inner direction. "
                f"Made by scripts/make-tunnels.py. The expected verdicts are the unwrapped capture's "
                f"({', '.join(copied)} copied from `{source}`): the encapsulation must change nothing."
                + (" Frame numbers (`teardown_frame`) are translated to this capture's numbering: "
                   "the fragment that completes a source frame's datagram." if len(out) != len(records) else "")
                + f"{checked}\n"
            )
        print(f"{name}: {len(out)} frames, link type {out_link}")


if __name__ == "__main__":
    main()
