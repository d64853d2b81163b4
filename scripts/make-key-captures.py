#!/usr/bin/env python3
"""Regenerates the keyed testdata cases made from real OpenSSL traffic:

  keys-bad-record-mac-tls12, keys-bad-record-mac-tls13
      Python ssl client -> a small TCP proxy that flips one byte in the
      client's first application-data record -> openssl s_server. The server
      cannot authenticate the record and answers with a fatal (encrypted)
      bad_record_mac alert, then closes.
  keys-renegotiation-tls12
      openssl s_client, TLS 1.2, sends a line, renegotiates (`R`), sends
      another line and ends (close_notify) -> openssl s_server
      -client_renegotiation. The second handshake travels encrypted under the
      first keys; the key log has a CLIENT_RANDOM line for each handshake.
  keys-rsa-pms-tls12-ems, keys-rsa-pms-tls12-no-ems
      Python ssl client -> openssl s_server, TLS 1.2 with an RSA key
      exchange (AES128-GCM-SHA256), with and without extended_master_secret;
      the client sends a line and closes with close_notify. sslkeys.log holds
      only an `RSA` line: the pre-master secret, decrypted from the
      ClientKeyExchange with the (throwaway) server key by openssl pkeyutl,
      keyed by the first 8 bytes of its encryption. The client's own
      CLIENT_RANDOM log is kept as client-random.log to check against.

Everything runs on loopback inside a network namespace of its own
(`unshare -n`, then `ip link set lo up`); tcpdump captures the leg between
the proxy (or client) and the server. The client writes the key log
(SSLKEYLOGFILE format). Needs root (for unshare and tcpdump), openssl,
tcpdump and ip.

Usage: scripts/make-key-captures.py [OUT_DIR]   (default: testdata/)
The expected files are not written here: they are derived from what the
bytes say (see each case's README.md) and checked with tshark.
"""
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

SERVER_PORT = 4433
PROXY_PORT = 4443


def in_own_netns():
    """Re-executes this script inside a new network namespace."""
    if os.environ.get("MAKE_KEY_CAPTURES_NETNS") == "1":
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        return
    env = dict(os.environ, MAKE_KEY_CAPTURES_NETNS="1")
    r = subprocess.run(["unshare", "-n", sys.executable] + sys.argv, env=env)
    sys.exit(r.returncode)


class FlipProxy(threading.Thread):
    """Forwards one connection; in the client->server direction it flips
    one byte in the middle of the body of the `flip_nth` record of type 23
    (application_data on the wire; 1-based)."""

    def __init__(self, flip_nth):
        super().__init__(daemon=True)
        self.flip_nth = flip_nth
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", PROXY_PORT))
        self.lsock.listen(1)
        self.flipped = None

    def run(self):
        c, _ = self.lsock.accept()
        s = socket.create_connection(("127.0.0.1", SERVER_PORT))
        done = threading.Event()

        def pump(src, dst, edit):
            buf = b""
            seen23 = 0
            while True:
                try:
                    data = src.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    try:
                        if buf:
                            dst.sendall(buf)
                        dst.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    done.set()
                    return
                if not edit:
                    try:
                        dst.sendall(data)
                    except OSError:
                        return
                    continue
                buf += data
                out = b""
                # forward whole records, editing the chosen one
                while len(buf) >= 5:
                    n = int.from_bytes(buf[3:5], "big")
                    if len(buf) < 5 + n:
                        break
                    rec = bytearray(buf[: 5 + n])
                    buf = buf[5 + n :]
                    if rec[0] == 23:
                        seen23 += 1
                        if seen23 == self.flip_nth and self.flipped is None:
                            at = 5 + n // 2
                            rec[at] ^= 0x01
                            self.flipped = at - 5
                    out += rec
                try:
                    dst.sendall(out)
                except OSError:
                    return

        t1 = threading.Thread(target=pump, args=(c, s, True), daemon=True)
        t2 = threading.Thread(target=pump, args=(s, c, False), daemon=True)
        t1.start()
        t2.start()
        t1.join(10)
        t2.join(10)
        for x in (c, s, self.lsock):
            x.close()


def start_capture(path):
    p = subprocess.Popen(
        ["tcpdump", "-i", "lo", "-U", "--immediate-mode", "-s", "0", "-w", path, f"tcp port {SERVER_PORT}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    # tcpdump says "listening on" once it is ready
    line = p.stderr.readline()
    if b"listening" not in line:
        raise RuntimeError(f"tcpdump: {line!r}")
    return p


def stop_capture(p):
    time.sleep(1.0)
    p.terminate()
    p.wait(5)


def start_server(tmp, args):
    p = subprocess.Popen(
        ["openssl", "s_server", "-accept", f"127.0.0.1:{SERVER_PORT}",
         "-cert", f"{tmp}/cert.pem", "-key", f"{tmp}/key.pem", "-naccept", "1"]
        + args,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # a probe connection would count against -naccept: wait by time
    time.sleep(0.7)
    return p


def bad_record_mac(tmp, out, version):
    """A proxy flips one byte of the client's first application data."""
    case = f"keys-bad-record-mac-{'tls12' if version == ssl.TLSVersion.TLSv1_2 else 'tls13'}"
    dest = os.path.join(out, case)
    os.makedirs(dest, exist_ok=True)
    keylog = os.path.join(tmp, f"{case}.keys")
    cap = os.path.join(tmp, f"{case}.pcap")
    tcpdump = start_capture(cap)
    server = start_server(tmp, ["-tls1_2" if version == ssl.TLSVersion.TLSv1_2 else "-tls1_3"])
    # TLS 1.3: the client's Finished is its first record of type 23
    proxy = FlipProxy(1 if version == ssl.TLSVersion.TLSv1_2 else 2)
    proxy.start()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = version
    ctx.maximum_version = version
    ctx.keylog_filename = keylog
    sock = socket.create_connection(("127.0.0.1", PROXY_PORT))
    tls = ctx.wrap_socket(sock, server_hostname="server.test")
    time.sleep(0.2)
    tls.sendall(b"GET / HTTP/1.0\r\nHost: server.test\r\n\r\n")
    error = None
    try:
        while tls.recv(4096):
            pass
    except (ssl.SSLError, OSError) as e:
        error = e
    time.sleep(0.2)
    tls.close()
    proxy.join(5)
    server.wait(5)
    stop_capture(tcpdump)
    shutil.copy(cap, os.path.join(dest, "capture.pcap"))
    shutil.copy(keylog, os.path.join(dest, "sslkeys.log"))
    print(f"{case}: byte {proxy.flipped} of the record body flipped; client saw {error!r}")


def renegotiation(tmp, out):
    """openssl s_client renegotiates a TLS 1.2 connection, then closes."""
    case = "keys-renegotiation-tls12"
    dest = os.path.join(out, case)
    os.makedirs(dest, exist_ok=True)
    keylog = os.path.join(tmp, f"{case}.keys")
    cap = os.path.join(tmp, f"{case}.pcap")
    tcpdump = start_capture(cap)
    server = start_server(tmp, ["-tls1_2", "-client_renegotiation"])
    client = subprocess.Popen(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{SERVER_PORT}",
         "-servername", "server.test", "-tls1_2", "-keylogfile", keylog],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for line, pause in [(b"before renegotiation\n", 0.5), (b"R\n", 1.0),
                        (b"after renegotiation\n", 0.5)]:
        time.sleep(pause)
        client.stdin.write(line)
        client.stdin.flush()
    time.sleep(0.5)
    # end of input: s_client sends close_notify and closes
    client.stdin.close()
    client.wait(5)
    time.sleep(0.3)
    server.terminate()
    server.wait(5)
    stop_capture(tcpdump)
    shutil.copy(cap, os.path.join(dest, "capture.pcap"))
    shutil.copy(keylog, os.path.join(dest, "sslkeys.log"))
    print(f"{case}: {sum(1 for _ in open(keylog))} key log line(s)")


def rsa_pre_master(tmp, out, ems):
    """TLS 1.2, RSA key exchange; the key log says `RSA <epms[:8]> <pms>`."""
    case = f"keys-rsa-pms-tls12-{'ems' if ems else 'no-ems'}"
    dest = os.path.join(out, case)
    os.makedirs(dest, exist_ok=True)
    keylog = os.path.join(tmp, f"{case}.keys")
    cap = os.path.join(tmp, f"{case}.pcap")
    tcpdump = start_capture(cap)
    server = start_server(tmp, ["-tls1_2", "-cipher", "AES128-GCM-SHA256"])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("AES128-GCM-SHA256")
    if not ems:
        ctx.options |= 0x1  # SSL_OP_NO_EXTENDED_MASTER_SECRET (OpenSSL 3)
    ctx.keylog_filename = keylog
    sock = socket.create_connection(("127.0.0.1", SERVER_PORT))
    tls = ctx.wrap_socket(sock, server_hostname="server.test")
    tls.sendall(b"hello over RSA\n")
    time.sleep(0.3)
    try:
        tls.unwrap().close()
    except (ssl.SSLError, OSError):
        tls.close()
    server.wait(5)
    stop_capture(tcpdump)
    # the encrypted pre-master secret of the ClientKeyExchange
    epms = subprocess.run(
        ["tshark", "-r", cap, "-Y", "tls.handshake.type == 16", "-T", "fields",
         "-e", "tls.handshake.epms"],
        check=True, capture_output=True, text=True,
    ).stdout.strip().replace(":", "")
    with open(os.path.join(tmp, "epms.bin"), "wb") as f:
        f.write(bytes.fromhex(epms))
    pms = subprocess.run(
        ["openssl", "pkeyutl", "-decrypt", "-inkey", f"{tmp}/key.pem",
         "-in", os.path.join(tmp, "epms.bin")],
        check=True, capture_output=True,
    ).stdout
    assert len(pms) == 48, len(pms)
    with open(os.path.join(dest, "sslkeys.log"), "w") as f:
        f.write(f"# the RSA pre-master secret, decrypted with the server key\n")
        f.write(f"RSA {epms[:16]} {pms.hex()}\n")
    shutil.copy(cap, os.path.join(dest, "capture.pcap"))
    shutil.copy(keylog, os.path.join(dest, "client-random.log"))
    print(f"{case}: pre-master secret {pms.hex()[:8]}…")


def main():
    in_own_netns()
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "testdata")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-keyout", f"{tmp}/key.pem", "-out", f"{tmp}/cert.pem",
             "-days", "3650", "-subj", "/CN=server.test"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        bad_record_mac(tmp, out, ssl.TLSVersion.TLSv1_2)
        bad_record_mac(tmp, out, ssl.TLSVersion.TLSv1_3)
        renegotiation(tmp, out)
        rsa_pre_master(tmp, out, True)
        rsa_pre_master(tmp, out, False)


if __name__ == "__main__":
    main()
