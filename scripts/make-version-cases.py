#!/usr/bin/env python3
"""Builds the testdata cases of old and pre-standard TLS versions, record
by record from the specifications' layouts (no library can make these any
more: OpenSSL dropped SSL 2.0, SSL 3.0 and the TLS 1.3 drafts):

- tls13-draft14-close-notify: a TLS 1.3 draft-14 handshake
  (draft-ietf-tls-tls13-14: ServerHello = version 0x7f0e, random,
  cipher_suite, extensions; no session id, no compression method, no
  ChangeCipherSpec; encrypted records typed application_data with record
  version 3.1), then the server's and the client's 19-byte encrypted
  close_notify (2 + 1 content type + 16 tag) and FINs;
- tls13-fb23-close-notify: Facebook's draft 23 (0xfb17 in the
  ServerHello's supported_versions, TLS 1.2 layout, middlebox CCS), the
  client closing first;
- ssl3-close-notify: SSL 3.0 (RFC 6101) with TLS_RSA_WITH_3DES_EDE_CBC_SHA,
  encrypted close_notify alerts (2 + 20 MAC, padded to 24) both ways;
- sslv2-client-hello: an SSL 2.0 CLIENT-HELLO (version 0x0002) answered by
  an SSL 2.0 SERVER-HELLO, then the server's FIN.

Expected verdicts are set by construction (docs/ENDINGS.md), not by
tlsclose. Run from the repository root.
"""
import json
import os
import struct

T0 = 1_700_000_000


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(src, dst, sport, dport, seq, ack, flags, payload):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 0x50, flags, 65535, 0, 0)
    pseudo = bytes(src) + bytes(dst) + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
    c = csum(pseudo + tcp + payload)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 0, 0x4000, 64, 6, 0,
                     bytes(src), bytes(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = b"\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x01\x08\x00"
    return eth + ip + tcp + payload


SYN, ACK, FIN, PSH = 0x02, 0x10, 0x01, 0x08


class Conn:
    """A TCP connection on loopback addresses, one frame per call, 1 ms apart."""

    def __init__(self, cport, sport=443):
        self.c = ([127, 0, 0, 1], cport)
        self.s = ([127, 0, 0, 2], sport)
        self.seq = {"c": 1000, "s": 50000}
        self.frames = []
        self.t = T0 * 1_000_000
        self.send("c", SYN, b"", syn=True)
        self.send("s", SYN | ACK, b"", syn=True)
        self.send("c", ACK, b"")

    def send(self, who, flags, payload, syn=False):
        other = "s" if who == "c" else "c"
        (a, ap), (b, bp) = (self.c, self.s) if who == "c" else (self.s, self.c)
        seq = self.seq[who] - (1 if syn else 0)
        ack = self.seq[other] if flags & ACK else 0
        self.t += 1000
        self.frames.append((self.t, frame(a, b, ap, bp, seq, ack, flags, payload)))
        self.seq[who] += len(payload) + (1 if flags & FIN else 0)

    def data(self, who, payload):
        self.send(who, ACK | PSH, payload)

    def close(self, first):
        second = "c" if first == "s" else "s"
        self.send(first, FIN | ACK, b"")
        self.send(second, FIN | ACK, b"")
        self.send(first, ACK, b"")


def pcap(frames):
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)
    for t, f in frames:
        out += struct.pack("<IIII", t // 1_000_000, t % 1_000_000, len(f), len(f)) + f
    return out


def record(ty, version, body):
    return struct.pack("!BHH", ty, version, len(body)) + body


def hs(ty, body):
    return struct.pack("!B", ty) + len(body).to_bytes(3, "big") + body


def ext(ty, data):
    return struct.pack("!HH", ty, len(data)) + data


def vec8(b):
    return bytes([len(b)]) + b


def vec16(b):
    return struct.pack("!H", len(b)) + b


def sni(name):
    entry = b"\0" + vec16(name)
    return ext(0, vec16(entry))


def client_hello(legacy, suites, exts, session_id=b""):
    body = struct.pack("!H", legacy) + bytes(range(32)) + vec8(session_id)
    body += vec16(b"".join(struct.pack("!H", s) for s in suites)) + b"\x01\x00"
    if exts is not None:
        body += vec16(b"".join(exts))
    return hs(1, body)


def filler(n, seed):
    return bytes((seed * 31 + i * 7) & 0xFF for i in range(n))


def draft14():
    c = Conn(40001)
    key_share_c = ext(40, vec16(struct.pack("!HH", 0x001D, 32) + filler(32, 1)))
    versions = ext(43, vec8(struct.pack("!HH", 0x7F0E, 0x0303)))
    ch = client_hello(0x0303, [0x1301, 0x1302], [sni(b"draft14.test"), versions, key_share_c])
    c.data("c", record(22, 0x0301, ch))
    # draft-14 ServerHello: version, random, cipher_suite, extensions
    sh = struct.pack("!H", 0x7F0E) + filler(32, 2) + struct.pack("!H", 0x1301)
    sh += vec16(ext(40, struct.pack("!HH", 0x001D, 32) + filler(32, 3)))
    flight = record(22, 0x0301, hs(2, sh))
    # EncryptedExtensions .. Finished, encrypted
    flight += record(23, 0x0301, filler(900, 4))
    c.data("s", flight)
    c.data("c", record(23, 0x0301, filler(53, 5)))  # client Finished
    c.data("c", record(23, 0x0301, filler(120, 6)))  # request
    c.data("s", record(23, 0x0301, filler(400, 7)))  # response
    c.data("s", record(23, 0x0301, filler(19, 8)))  # close_notify
    c.data("c", record(23, 0x0301, filler(19, 9)))  # close_notify
    c.close("s")
    return c, [{"client": "127.0.0.1:40001", "server": "127.0.0.2:443",
                "ending": "close_notify-then-fin", "closer": "server",
                "client_close_notify": "inferred", "server_close_notify": "inferred",
                "version": "TLS 1.3 (draft 14)", "sni": "draft14.test"}]


def fb23():
    c = Conn(40002)
    key_share_c = ext(51, vec16(struct.pack("!HH", 0x001D, 32) + filler(32, 1)))
    versions = ext(43, vec8(struct.pack("!HH", 0xFB17, 0x0303)))
    ch = client_hello(0x0303, [0x1301], [sni(b"fb23.test"), versions, key_share_c],
                      session_id=filler(32, 10))
    c.data("c", record(22, 0x0301, ch))
    sh = struct.pack("!H", 0x0303) + filler(32, 2) + vec8(filler(32, 10)) + struct.pack("!HB", 0x1301, 0)
    sh += vec16(ext(43, struct.pack("!H", 0xFB17)) + ext(51, struct.pack("!HH", 0x001D, 32) + filler(32, 3)))
    flight = record(22, 0x0303, hs(2, sh)) + record(20, 0x0303, b"\x01") + record(23, 0x0303, filler(1100, 4))
    c.data("s", flight)
    c.data("c", record(20, 0x0303, b"\x01") + record(23, 0x0303, filler(53, 5)))
    c.data("c", record(23, 0x0303, filler(90, 6)))
    c.data("s", record(23, 0x0303, filler(700, 7)))
    c.data("c", record(23, 0x0303, filler(19, 8)))  # client close_notify
    c.data("s", record(23, 0x0303, filler(19, 9)))  # server close_notify
    c.close("c")
    return c, [{"client": "127.0.0.1:40002", "server": "127.0.0.2:443",
                "ending": "close_notify-then-fin", "closer": "client",
                "client_close_notify": "inferred", "server_close_notify": "inferred",
                "version": "TLS 1.3 (Facebook draft 23)", "sni": "fb23.test"}]


def ssl3():
    c = Conn(40003)
    ch = client_hello(0x0300, [0x000A, 0x0005], None)
    c.data("c", record(22, 0x0300, ch))
    sh = struct.pack("!H", 0x0300) + filler(32, 2) + vec8(filler(32, 11)) + struct.pack("!HB", 0x000A, 0)
    cert = hs(11, (600 + 3).to_bytes(3, "big") + (600).to_bytes(3, "big") + filler(600, 12))
    c.data("s", record(22, 0x0300, hs(2, sh) + cert + hs(14, b"")))
    cke = hs(16, filler(128, 13))  # SSL 3.0: the RSA-encrypted premaster, no length prefix
    c.data("c", record(22, 0x0300, cke) + record(20, 0x0300, b"\x01") + record(22, 0x0300, filler(64, 14)))
    c.data("s", record(20, 0x0300, b"\x01") + record(22, 0x0300, filler(64, 15)))
    c.data("c", record(23, 0x0300, filler(96, 16)))
    c.data("s", record(23, 0x0300, filler(512, 17)))
    c.data("s", record(21, 0x0300, filler(24, 18)))  # close_notify + MAC, padded
    c.data("c", record(21, 0x0300, filler(24, 19)))
    c.close("s")
    return c, [{"client": "127.0.0.1:40003", "server": "127.0.0.2:443",
                "ending": "close_notify-then-fin", "closer": "server",
                "client_close_notify": "inferred", "server_close_notify": "inferred",
                "version": "SSL 3.0", "sni": None}]


def sslv2():
    c = Conn(40004)
    specs = bytes([0x01, 0x00, 0x80, 0x07, 0x00, 0xC0, 0x03, 0x00, 0x80])
    body = struct.pack("!BHHHH", 1, 0x0002, len(specs), 0, 16) + specs + filler(16, 20)
    c.data("c", struct.pack("!H", 0x8000 | len(body)) + body)
    # SERVER-HELLO: msg 4, session_id_hit 0, certificate_type 1, version
    # 0x0002, certificate, cipher specs, connection id
    cert = filler(500, 21)
    sbody = struct.pack("!BBBHHHH", 4, 0, 1, 0x0002, len(cert), 3, 16) + cert + specs[:3] + filler(16, 22)
    c.data("s", struct.pack("!H", 0x8000 | len(sbody)) + sbody)
    c.close("s")
    # SSL 2.0 has no close_notify: the server's FIN ends it
    return c, [{"client": "127.0.0.1:40004", "server": "127.0.0.2:443",
                "ending": "fin-only", "closer": "server",
                "client_close_notify": "none", "server_close_notify": "none",
                "version": "SSL 2.0 ClientHello", "sni": None}]


CASES = {
    "tls13-draft14-close-notify": (draft14, "A TLS 1.3 draft-14 connection (ServerHello version 0x7f0e in the draft-14 layout: no session id, no compression method), closed by the server's and then the client's 19-byte encrypted close_notify and FINs: TLS 1.3 for every rule, reported as TLS 1.3 (draft 14)."),
    "tls13-fb23-close-notify": (fb23, "A TLS 1.3 connection as Facebook's draft 23 (0xfb17 in supported_versions), closed by the client's and then the server's 19-byte close_notify and FINs: reported as TLS 1.3 (Facebook draft 23)."),
    "ssl3-close-notify": (ssl3, "An SSL 3.0 connection (RFC 6101, 3DES-CBC-SHA) whose server sends an encrypted close_notify (24 bytes), answered, then FINs: reported as SSL 3.0."),
    "sslv2-client-hello": (sslv2, "An SSL 2.0 CLIENT-HELLO (version 0x0002) answered by an SSL 2.0 SERVER-HELLO, then FINs from the server: recognised as the start of TLS and reported as SSL 2.0 ClientHello; SSL 2.0 has no close_notify, so the ending is fin-only, closed by the server."),
}


def main():
    for case, (make, what) in CASES.items():
        conn, expected = make()
        d = os.path.join("testdata", case)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "capture.pcap"), "wb") as f:
            f.write(pcap(conn.frames))
        with open(os.path.join(d, "expected.jsonl"), "w") as f:
            for e in expected:
                f.write(json.dumps(e) + "\n")
        with open(os.path.join(d, "README.md"), "w") as f:
            f.write(what + "\n\nMade by scripts/make-version-cases.py (records built by hand from the "
                    "specification's layouts); expected.jsonl set by construction.\n")


if __name__ == "__main__":
    main()
