#!/usr/bin/env python3
"""Makes testdata/http-close-<server>/: real HTTP servers closing HTTP/1.1
and HTTP/2 connections (idle timeouts, `Connection: close`, responses cut
short), with curl and Python clients, captured on loopback with the
clients' key log.

    sudo scripts/make-http-close.py [SERVER ...] [--out DIR]

SERVER: nginx, haproxy, caddy, h2o (default: all four); each makes its own
case in DIR (default testdata/), http-close-SERVER. Needs root (unshare -n,
tcpdump), the Debian packages nginx, haproxy, caddy and h2o, curl, openssl,
tshark and the shared oracle (../shared/tools/oracle.py), as
scripts/make-keepalive-race.py, whose helpers it uses.

Every server listens on 127.0.0.1:8443 with TLS 1.2 and 1.3, ALPN h2 and
http/1.1, an idle (keep-alive) timeout of 1 s, and serves / (3 bytes) and
/big.bin (1 MiB). haproxy forwards to an nginx on 127.0.0.1:8080 (plain
HTTP/1.1).

Clients (one connection each; Python clients read frames and heads
themselves, and note what they saw: GOAWAY frames and their error codes,
`Connection: close`, and whether the server's close came with close_notify
or as a bare EOF; that is the truth the expected fields come from):
  h2-idle       HTTP/2 (TLS 1.3), GET /, then waits for the server's close;
  h2-idle-tls12 the same over TLS 1.2;
  h1-idle       HTTP/1.1 keep-alive, GET /, then waits;
  h1-close      HTTP/1.1, GET / with `Connection: close`, then reads to EOF;
  h2-cut        HTTP/2, GET /big.bin, reads 1 KiB, closes (an RST: the rest
                of the response is unread): a response cut short;
  h1-cut        the same over HTTP/1.1;
  curl-h2       curl --http2, GET / (curl closes);
  curl-h1       curl --http1.1, GET /;
  nginx only, races after the server's idle close:
  h2-late-goaway  waits for the server's close, then sends its own GOAWAY
                  (no request: a race without keys only);
  h2-late-request waits for the server's close, then sends a request on a
                  new stream (a race with and without keys);
  h1-late-request the same over HTTP/1.1.

Writes capture.pcap, sslkeys.log, truth.json (what each client did and saw)
and expected.jsonl / expected-keys.jsonl: the shared oracle's verdict lines
plus the fields of the HTTP-level close (docs/ENDINGS.md, "Why it closed")
derived from truth.json, never from tlsclose.
"""
import importlib.util
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
_spec = importlib.util.spec_from_file_location('kar', os.path.join(HERE, 'make-keepalive-race.py'))
kar = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(kar)

PORT = 8443
BACKEND = 8080
IDLE = 1.0
SERVERS = ['nginx', 'haproxy', 'caddy', 'h2o']
PREFACE = b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'
H2_ERRORS = ['NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR',
             'SETTINGS_TIMEOUT', 'STREAM_CLOSED', 'FRAME_SIZE_ERROR', 'REFUSED_STREAM', 'CANCEL',
             'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM', 'INADEQUATE_SECURITY',
             'HTTP_1_1_REQUIRED']
KINDS = ['h2-idle', 'h2-idle-tls12', 'h1-idle', 'h1-close', 'h2-cut', 'h1-cut', 'curl-h2', 'curl-h1']
RACES = ['h2-late-goaway', 'h2-late-request', 'h1-late-request']


def sh(cmd):
    subprocess.run(cmd, shell=True, check=True)


def start_capture(w):
    """tcpdump on lo, TLS port only (haproxy's fast backend traffic would
    make it drop packets), into w/capture.pcap, once it listens."""
    tdump = subprocess.Popen(['tcpdump', '-i', 'lo', '-s', '0', '-U', '--immediate-mode', '-Z', 'root',
                              '-B', '16384', '-w', f'{w}/capture.pcap', f'tcp port {PORT}'],
                             stderr=open(f'{w}/tcpdump.err', 'w'))
    for _ in range(60):
        if 'listening' in open(f'{w}/tcpdump.err').read():
            break
        time.sleep(0.05)
    return tdump


# --- servers -------------------------------------------------------------

def nginx_conf(w, tls_server=True):
    blocks = [f'''server {{ listen 127.0.0.1:{BACKEND}; root {w}/www; keepalive_timeout 30s; }}''']
    if tls_server:
        blocks.append(f'''server {{ listen 127.0.0.1:{PORT} ssl http2; ssl_certificate {w}/server.crt;
    ssl_certificate_key {w}/server.key; ssl_protocols TLSv1.2 TLSv1.3;
    keepalive_timeout {int(IDLE * 1000)}ms; root {w}/www; }}''')
    return blocks


def start_server(name, w):
    env = dict(os.environ, HOME=w, XDG_DATA_HOME=w, XDG_CONFIG_HOME=w)
    log = open(f'{w}/{name}.log', 'w')
    if name == 'nginx':
        return [kar.run_nginx(w, nginx_conf(w))]
    if name == 'haproxy':
        cfg = f'''global
  maxconn 200
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive {int(IDLE * 1000)}ms
  timeout http-request 10s
frontend fe
  bind 127.0.0.1:{PORT} ssl crt {w}/server.pem alpn h2,http/1.1
  default_backend be
backend be
  server s1 127.0.0.1:{BACKEND}
'''
        open(f'{w}/haproxy.cfg', 'w').write(cfg)
        backend = kar.run_nginx(w, nginx_conf(w, tls_server=False))
        return [backend, subprocess.Popen(['haproxy', '-db', '-f', f'{w}/haproxy.cfg'],
                                          stdout=log, stderr=subprocess.STDOUT)]
    if name == 'caddy':
        cfg = f'''{{
  admin off
  auto_https off
  storage file_system {w}/caddy
  servers {{
    timeouts {{
      idle {int(IDLE * 1000)}ms
    }}
  }}
}}
https://:{PORT} {{
  bind 127.0.0.1
  tls {w}/server.crt {w}/server.key
  root * {w}/www
  file_server
}}
'''
        open(f'{w}/Caddyfile', 'w').write(cfg)
        return [subprocess.Popen(['caddy', 'run', '--adapter', 'caddyfile', '--config', f'{w}/Caddyfile'],
                                 stdout=log, stderr=subprocess.STDOUT, env=env)]
    if name == 'h2o':
        cfg = f'''user: root
pid-file: {w}/h2o.pid
error-log: {w}/h2o.err
http1-request-timeout: {int(IDLE)}
http2-idle-timeout: {int(IDLE)}
listen:
  host: 127.0.0.1
  port: {PORT}
  ssl:
    certificate-file: {w}/server.crt
    key-file: {w}/server.key
    minimum-version: TLSv1.2
hosts:
  default:
    paths:
      /:
        file.dir: {w}/www
'''
        open(f'{w}/h2o.conf', 'w').write(cfg)
        return [subprocess.Popen(['h2o', '-c', f'{w}/h2o.conf'], stdout=log, stderr=subprocess.STDOUT)]
    raise SystemExit(f'unknown server {name}')


# --- HTTP/2 client -------------------------------------------------------

def frame(kind, flags, stream, payload=b''):
    return struct.pack('>I', len(payload))[1:] + bytes([kind, flags]) + struct.pack('>I', stream) + payload


def h2_request(stream, path):
    # HPACK, literals without indexing: :method GET, :scheme https, :path, :authority
    p = path.encode()
    block = bytes([0x82, 0x87, 0x04, len(p)]) + p + bytes([0x01, 11]) + b'server.test'
    return frame(1, 0x5, stream, block)  # HEADERS, END_STREAM | END_HEADERS


class Saw:
    """What a client saw of the server."""

    def __init__(self):
        self.goaways = []  # (error name, last stream id)
        self.end = None  # 'close_notify', 'bare-eof', 'reset'
        self.response_close = False

    def eof(self, e=None):
        if e is None:
            self.end = 'close_notify'
        elif isinstance(e, ssl.SSLEOFError):
            self.end = 'bare-eof'
        else:
            self.end = 'reset: ' + type(e).__name__


class H2Reader:
    def __init__(self, s, saw):
        self.s, self.saw, self.buf = s, saw, b''

    def frames(self):
        """Yields (kind, flags, stream, payload) until the connection ends."""
        while True:
            while len(self.buf) >= 9:
                length = int.from_bytes(self.buf[:3], 'big')
                if len(self.buf) < 9 + length:
                    break
                kind, flags = self.buf[3], self.buf[4]
                sid = int.from_bytes(self.buf[5:9], 'big') & 0x7fffffff
                payload = self.buf[9:9 + length]
                self.buf = self.buf[9 + length:]
                if kind == 4 and not flags & 1:
                    self.s.sendall(frame(4, 1, 0))  # SETTINGS ACK
                if kind == 7:
                    code = int.from_bytes(payload[4:8], 'big')
                    name = H2_ERRORS[code] if code < len(H2_ERRORS) else hex(code)
                    self.saw.goaways.append((name, int.from_bytes(payload[:4], 'big') & 0x7fffffff))
                yield kind, flags, sid, payload
            try:
                chunk = self.s.recv(65536)
            except (ssl.SSLEOFError, OSError) as e:
                self.saw.eof(e)
                return
            if not chunk:
                self.saw.eof()
                return
            self.buf += chunk

    def until_end(self, stream):
        for kind, flags, sid, _ in self.frames():
            if sid == stream and kind in (0, 1) and flags & 1:
                return True
        return False


def h2_client(s, kind, rec):
    saw = Saw()
    s.sendall(PREFACE + frame(4, 0, 0))
    r = H2Reader(s, saw)
    if kind == 'h2-cut':
        s.sendall(h2_request(1, '/big.bin'))
        got = 0
        for k, _, sid, payload in r.frames():
            if k == 0 and sid == 1:
                got += len(payload)
                if got >= 1024:
                    break
        time.sleep(0.2)
        rec['sent'] = ['request']
        return saw
    s.sendall(h2_request(1, '/'))
    rec['response_complete'] = r.until_end(1)
    sent = ['request']
    for _ in r.frames():  # the server's GOAWAY (if any) and its close
        pass
    if kind == 'h2-late-goaway':
        time.sleep(0.05)
        s.sendall(frame(7, 0, 0, struct.pack('>II', 0, 0)))
        sent.append('goaway')
        time.sleep(0.2)
    elif kind == 'h2-late-request':
        time.sleep(0.05)
        s.sendall(h2_request(3, '/'))
        sent.append('request')
        time.sleep(0.2)
    rec['sent'] = sent
    return saw


# --- HTTP/1.1 client -----------------------------------------------------

def h1_request(path, close=False):
    extra = 'Connection: close\r\n' if close else ''
    return f'GET {path} HTTP/1.1\r\nHost: server.test\r\n{extra}\r\n'.encode()


def h1_read(s, saw):
    """Reads one response (Content-Length); True when it was whole."""
    buf = b''
    while b'\r\n\r\n' not in buf:
        chunk = s.recv(4096)
        if not chunk:
            return False
        buf += chunk
    head, body = buf.split(b'\r\n\r\n', 1)
    length = 0
    for line in head.split(b'\r\n')[1:]:
        k, _, v = line.partition(b':')
        if k.strip().lower() == b'content-length':
            length = int(v)
        if k.strip().lower() == b'connection' and b'close' in v.lower():
            saw.response_close = True
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            return False
        body += chunk
    return True


def wait_eof(s, saw):
    try:
        while s.recv(65536):
            pass
        saw.eof()
    except (ssl.SSLEOFError, OSError) as e:
        saw.eof(e)


def h1_client(s, kind, rec):
    saw = Saw()
    if kind == 'h1-cut':
        s.sendall(h1_request('/big.bin'))
        s.recv(1024)
        time.sleep(0.2)
        rec['sent'] = ['request']
        return saw
    close = kind == 'h1-close'
    s.sendall(h1_request('/', close))
    rec['response_complete'] = h1_read(s, saw)
    rec['request_close'] = close
    wait_eof(s, saw)
    sent = ['request']
    if kind == 'h1-late-request':
        time.sleep(0.05)
        s.sendall(h1_request('/'))
        sent.append('request')
        time.sleep(0.2)
    rec['sent'] = sent
    return saw


# --- running -------------------------------------------------------------

def python_client(ctxs, kind, truth, lock):
    h2 = kind.startswith('h2')
    version = 'TLSv1.2' if kind.endswith('tls12') else 'TLSv1.3'
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    raw.connect(('127.0.0.1', PORT))
    local = raw.getsockname()
    s = ctxs[(version, h2)].wrap_socket(raw, server_hostname='server.test', suppress_ragged_eofs=False)
    rec = dict(client=f'{local[0]}:{local[1]}', server=f'127.0.0.1:{PORT}', kind=kind,
               alpn=s.selected_alpn_protocol(), version=version)
    try:
        saw = h2_client(s, kind, rec) if h2 else h1_client(s, kind, rec)
        rec.update(goaways=saw.goaways, end=saw.end, response_close=saw.response_close)
    except Exception as e:  # recorded; the oracle reads the capture
        rec['error'] = repr(e)
    try:
        s.close()
    except OSError:
        pass
    with lock:
        truth.append(rec)


def curl_client(kind, keylog, truth, lock, w):
    flag = '--http2' if kind == 'curl-h2' else '--http1.1'
    out = subprocess.run(['curl', '-sk', flag, '-o', '/dev/null', '-w', '%{local_port} %{size_download}',
                          f'https://127.0.0.1:{PORT}/'], stdout=subprocess.PIPE,
                         env=dict(os.environ, SSLKEYLOGFILE=keylog), check=False)
    port, size = (out.stdout.decode().split() + ['?', '?'])[:2]
    with lock:
        truth.append(dict(client=f'127.0.0.1:{port}', server=f'127.0.0.1:{PORT}', kind=kind,
                          alpn='h2' if kind == 'curl-h2' else 'http/1.1', version='TLSv1.3',
                          curl_exit=out.returncode, size=size, sent=['request'],
                          response_complete=out.returncode == 0))


def contexts(keylog):
    ctxs = {}
    for version in ('TLSv1.2', 'TLSv1.3'):
        for h2 in (False, True):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            v = getattr(ssl.TLSVersion, version.replace('.', '_'))
            ctx.minimum_version = ctx.maximum_version = v
            ctx.set_alpn_protocols(['h2'] if h2 else ['http/1.1'])
            ctx.keylog_filename = keylog
            ctxs[(version, h2)] = ctx
    return ctxs


def inner(server, out):
    w = tempfile.mkdtemp(prefix='httpclose-')
    os.chmod(w, 0o755)
    sh('ip link set lo up')
    kar.make_certs(w)
    os.makedirs(f'{w}/www', exist_ok=True)
    os.makedirs(f'{w}/tmp', exist_ok=True)
    open(f'{w}/www/index.html', 'w').write('ok\n')
    open(f'{w}/www/big.bin', 'wb').write(bytes(range(256)) * 4096)
    tdump = start_capture(w)
    procs = start_server(server, w)
    time.sleep(1.5)
    keylog = f'{w}/sslkeys.log'
    ctxs = contexts(keylog)
    truth, lock, threads = [], threading.Lock(), []
    kinds = KINDS + (RACES if server == 'nginx' else [])
    for i, kind in enumerate(kinds):
        if kind.startswith('curl'):
            t = threading.Thread(target=curl_client, args=(kind, keylog, truth, lock, w))
        else:
            t = threading.Thread(target=python_client, args=(ctxs, kind, truth, lock))
        t.start()
        threads.append(t)
        time.sleep(0.1)
    for t in threads:
        t.join()
    time.sleep(3)  # Go's HTTP/2 server closes a second after its GOAWAY
    tdump.send_signal(2)
    tdump.wait()
    for p in procs:
        p.terminate()
        p.wait()
    os.makedirs(out, exist_ok=True)
    shutil.copy(f'{w}/capture.pcap', f'{out}/capture.pcap')
    shutil.copy(keylog, f'{out}/sslkeys.log')
    versions = subprocess.run(f'{ {"nginx": "nginx -v", "haproxy": "haproxy -v", "caddy": "caddy version", "h2o": "h2o --version"}[server]} 2>&1 | head -1',
                              shell=True, stdout=subprocess.PIPE).stdout.decode().strip()
    truth.sort(key=lambda r: r['client'])
    json.dump(dict(server=server, software=versions, idle_timeout_s=IDLE, flows=truth),
              open(f'{out}/truth.json', 'w'), indent=1)
    os.chmod(out, 0o755)
    shutil.rmtree(w, ignore_errors=True)


# --- expected lines ------------------------------------------------------

def http_fields(t, keys):
    """The HTTP-level close fields a flow should have, from what its client
    did and saw (docs/ENDINGS.md, "Why it closed")."""
    if not keys:
        f = dict(http=None, http_close=None, close_kind='unknown', response_truncated=None,
                 race_request=None)
        if t['kind'] == 'h2-late-goaway':
            f['keepalive_race'] = True  # any application data counts
        elif 'late-request' in t['kind']:
            f['keepalive_race'] = True
        else:
            f['keepalive_race'] = False
        return f
    f = dict(http=t['alpn'])
    h2 = t['alpn'] == 'h2'
    cut = t['kind'].endswith('-cut')
    if t['kind'].startswith('curl'):
        f['response_complete'] = t['response_complete']
        return f
    goaways = t.get('goaways', [])
    sent = t.get('sent', [])
    if h2:
        if goaways:
            f.update(http_close='goaway', http_close_by='server', goaway_error=goaways[0][0],
                     goaway_last_stream=goaways[0][1])
        elif 'goaway' in sent:
            f.update(http_close='goaway', http_close_by='client', goaway_error='NO_ERROR')
        else:
            f.update(http_close=None)
        f['goaways'] = len(goaways) + sent.count('goaway')
    else:
        if t.get('request_close'):
            f.update(http_close='connection-close', http_close_by='client')
        elif t.get('response_close'):
            f.update(http_close='connection-close', http_close_by='server')
        else:
            f.update(http_close=None)
        f['goaways'] = 0
    if cut:
        f.update(response_complete=False, response_truncated=True, close_kind='abrupt')
    else:
        f.update(response_complete=t.get('response_complete'), response_truncated=False)
        # announced by the server before its close: graceful when its
        # close came with close_notify; nothing announced: an idle close
        announced = f['http_close'] is not None
        if announced:
            f['close_kind'] = 'graceful' if t.get('end') == 'close_notify' else 'abrupt'
        else:
            f['close_kind'] = 'idle'
    f['keepalive_race'] = 'late-request' in t['kind']
    f['race_request'] = True if 'late-request' in t['kind'] else None
    return f


def expected(out):
    truth = json.load(open(f'{out}/truth.json'))
    by_client = {(f['client'], f['server']): f for f in truth['flows']}
    for name, keylog in (('expected.jsonl', None), ('expected-keys.jsonl', f'{out}/sslkeys.log')):
        cmd = [sys.executable, kar.ORACLE, f'{out}/capture.pcap']
        if keylog:
            cmd += ['--keylog', keylog]
        lines = subprocess.run(cmd, stdout=subprocess.PIPE, check=True).stdout.decode().splitlines()
        with open(f'{out}/{name}', 'w') as f:
            for line in lines:
                r = json.loads(line)
                t = by_client.get((r['client'], r['server']))
                if t is None:
                    continue  # haproxy's backend connections are not TLS
                r['kind'] = t['kind']
                r.update(http_fields(t, keylog is not None))
                f.write(json.dumps(r) + '\n')


def main():
    args = sys.argv[1:]
    if args and args[0] in ('-h', '--help'):
        print(__doc__)
        return
    if args and args[0] == '--inner':
        inner(args[1], args[2])
        return
    outdir = os.path.join(ROOT, 'testdata')
    if '--out' in args:
        i = args.index('--out')
        outdir = os.path.abspath(args[i + 1])
        del args[i:i + 2]
    for server in args or SERVERS:
        out = os.path.join(outdir, f'http-close-{server}')
        subprocess.run(['unshare', '-n', sys.executable, os.path.abspath(__file__), '--inner',
                        server, out], check=True)
        expected(out)
        print(f'wrote {out}')


if __name__ == '__main__':
    main()
