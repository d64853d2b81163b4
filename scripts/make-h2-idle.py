#!/usr/bin/env python3
"""Makes testdata/audit-h2-goaway/: nginx and haproxy serving HTTP/2 with
idle timeouts set, and minimal HTTP/2 clients over Python ssl, captured on
loopback.

    sudo scripts/make-h2-idle.py [OUTDIR] [--seed N]

OUTDIR defaults to testdata/audit-h2-goaway. Needs root (unshare -n,
tcpdump), nginx and haproxy (HTTP/2), openssl, tshark and the shared oracle (as
scripts/make-keepalive-race.py, whose helpers it uses).

An HTTP/2 server closing an idle connection sends GOAWAY (a small
application-data record), then close_notify, then FIN, in the same
millisecond: the idle time before its close must be measured from the
traffic before the GOAWAY, or every idle close looks like one after 0 s.

Servers (the truth the tool must find):
  127.0.0.1:8543  nginx, HTTP/2, TLS 1.3, keepalive_timeout 1200ms
  127.0.0.1:8544  nginx, HTTP/2, TLS 1.2, keepalive_timeout 800ms
  127.0.0.1:9543  haproxy, HTTP/2, TLS 1.3, timeout http-keep-alive 1s

Clients (threads started with random jitter):
  patient   one or two requests (streams 1 and 3), then waits: the server's
            GOAWAY, close_notify and FIN; half answer with close_notify;
  closing   one request, then its own GOAWAY, close_notify and FIN before
            the server's timeout.

Writes capture.pcap, sslkeys.log, truth.json and expected(-keys).jsonl as
make-keepalive-race.py does (the oracle's lines plus `kind` and
`keepalive_race`, false on every flow here).
"""
import importlib.util
import json
import os
import random
import shutil
import socket
import ssl
import struct
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
_spec = importlib.util.spec_from_file_location('kar', os.path.join(HERE, 'make-keepalive-race.py'))
kar = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(kar)

SERVERS = [
    # (software, port, TLS version, idle timeout in s)
    ('nginx', 8543, 'TLSv1.3', 1.2),
    ('nginx', 8544, 'TLSv1.2', 0.8),
    ('haproxy', 9543, 'TLSv1.3', 1.0),
]
PATIENT, CLOSING = 5, 3
PREFACE = b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'


def frame(kind, flags, stream, payload=b''):
    return struct.pack('>I', len(payload))[1:] + bytes([kind, flags]) + struct.pack('>I', stream) + payload


def request(stream):
    # HPACK: :method GET, :scheme https, :path /, :authority server.test
    block = bytes([0x82, 0x87, 0x84, 0x41, 11]) + b'server.test'
    return frame(1, 0x5, stream, block)  # HEADERS, END_STREAM | END_HEADERS


def read_until_end(s, stream, buf):
    """Reads frames until one of `stream` ends (END_STREAM); returns the rest."""
    while True:
        while len(buf) >= 9:
            length = int.from_bytes(buf[:3], 'big')
            if len(buf) < 9 + length:
                break
            kind, flags = buf[3], buf[4]
            sid = int.from_bytes(buf[5:9], 'big') & 0x7fffffff
            buf = buf[9 + length:]
            if sid == stream and kind in (0, 1) and flags & 0x1:
                return buf
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError('closed before the response')
        buf += chunk


def start_servers(w):
    os.makedirs(f'{w}/tmp', exist_ok=True)
    www = f'{w}/www'
    os.makedirs(www, exist_ok=True)
    open(f'{www}/index.html', 'w').write('ok\n')
    blocks = [f'''server {{ listen 127.0.0.1:{port} ssl http2; ssl_certificate {w}/server.crt;
    ssl_certificate_key {w}/server.key; ssl_protocols {proto};
    keepalive_timeout {int(to * 1000)}ms; root {www}; }}'''
              for name, port, proto, to in SERVERS if name == 'nginx']
    procs = [kar.run_nginx(w, blocks)]
    procs += [kar.run_haproxy(w, port, proto, to, bind='alpn h2 ')
              for name, port, proto, to in SERVERS if name == 'haproxy']
    return procs


def client(ctx, port, kind, plan, truth, lock):
    time.sleep(plan['start'])
    raw = socket.create_connection(('127.0.0.1', port))
    local = raw.getsockname()
    s = ctx.wrap_socket(raw, server_hostname='server.test')
    rec = dict(client=f'{local[0]}:{local[1]}', server=f'127.0.0.1:{port}', kind=kind,
               keepalive_race=False, plan=plan, alpn=s.selected_alpn_protocol())
    try:
        s.sendall(PREFACE + frame(4, 0, 0))  # SETTINGS
        buf = b''
        for i in range(plan['requests']):
            if i:
                time.sleep(plan['between'])
            stream = 1 + 2 * i
            s.sendall((frame(4, 1, 0) if i == 0 else b'') + request(stream))  # SETTINGS ACK
            buf = read_until_end(s, stream, buf)
        t_resp = time.monotonic()
        if kind == 'patient':
            while s.recv(65536):  # GOAWAY, then close_notify (EOF)
                pass
            rec['saw'] = 'eof after %.3fs' % (time.monotonic() - t_resp)
            if plan['answer']:
                try:
                    s.unwrap()
                except (OSError, ssl.SSLError) as e:
                    rec['unwrap'] = repr(e)
        else:
            time.sleep(plan['after'])
            last = 1 + 2 * (plan['requests'] - 1)
            s.sendall(frame(7, 0, 0, struct.pack('>II', last, 0)))  # GOAWAY, NO_ERROR
            s.unwrap()
        s.close()
    except Exception as e:  # recorded; the capture is checked by the oracle
        rec['error'] = repr(e)
        try:
            s.close()
        except OSError:
            pass
    with lock:
        truth.append(rec)


def inner(out, seed):
    rnd = random.Random(seed)
    w = tempfile.mkdtemp(prefix='h2idle-')
    kar.sh('ip link set lo up')
    kar.make_certs(w)
    tdump = kar.start_capture(w)
    procs = start_servers(w)
    time.sleep(0.7)
    keylog = f'{w}/sslkeys.log'
    ctxs = kar.contexts(keylog, alpn=['h2'])
    truth, lock, threads = [], threading.Lock(), []
    for name, port, proto, to in SERVERS:
        for kind, n in (('patient', PATIENT), ('closing', CLOSING)):
            for i in range(n):
                plan = dict(start=round(rnd.uniform(0, 1.5), 3), requests=1 + (i % 2), timeout=to,
                            between=round(rnd.uniform(0.05, to * 0.5), 3))
                if kind == 'patient':
                    plan['answer'] = i % 2 == 0
                else:
                    plan['requests'] = 1
                    plan['after'] = round(rnd.uniform(0.1, to * 0.6), 3)
                t = threading.Thread(target=client, args=(ctxs[proto], port, kind, plan, truth, lock))
                t.start()
                threads.append(t)
    for t in threads:
        t.join()
    time.sleep(0.5)
    tdump.send_signal(2)
    tdump.wait()
    for p in procs:
        p.terminate()
        p.wait()
    os.makedirs(out, exist_ok=True)
    shutil.copy(f'{w}/capture.pcap', f'{out}/capture.pcap')
    shutil.copy(keylog, f'{out}/sslkeys.log')
    servers = {f'127.0.0.1:{port}': dict(software=f'{name} (HTTP/2)', version=proto, idle_timeout_s=to)
               for name, port, proto, to in SERVERS}
    truth.sort(key=lambda r: (r['server'], r['client']))
    json.dump(dict(seed=seed, servers=servers, clients={}, flows=truth),
              open(f'{out}/truth.json', 'w'), indent=1)
    os.chmod(out, 0o755)
    shutil.rmtree(w, ignore_errors=True)


if __name__ == '__main__':
    kar.main(inner, os.path.abspath(__file__), 'audit-h2-goaway', seed=7, doc=__doc__)
