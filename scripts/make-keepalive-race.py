#!/usr/bin/env python3
"""Makes testdata/<case>/: real TLS servers with idle timeouts set, and
three kinds of Python ssl clients racing them, captured on loopback.

    sudo scripts/make-keepalive-race.py [OUTDIR] [--seed N]

OUTDIR defaults to testdata/audit-keepalive-race. Needs root (unshare -n,
tcpdump), nginx, haproxy, openssl, tshark (for the oracle) and the shared
oracle (../shared/tools/oracle.py, found from the worktree).

Servers, each with its own idle timeout (the truth the tool must find):
  127.0.0.1:8443  nginx, TLS 1.3, keepalive_timeout 2s
  127.0.0.1:8444  nginx, TLS 1.2, keepalive_timeout 1500ms
  127.0.0.1:9443  haproxy, TLS 1.3, timeout http-keep-alive 1s

Clients (threads started with random jitter, several of each kind per server):
  patient   one or two requests, then waits; the server's idle timeout
            closes (close_notify + FIN); the client then closes, some after
            answering with their own close_notify (TLS 1.3: a 19-byte
            record that the closed server answers with RST: no race);
  racing    one request, then sends another one `timeout + delta` after the
            response (delta 30..300 ms): at the capture point it comes after
            the server's close_notify and FIN, and is answered by RST;
  closing   one request, then closes before the timeout, half of them with
            close_notify (unwrap), half with a bare FIN.
  pooled    from 127.0.0.2 to the first server only: a client pool whose own
            idle timeout (600 ms) is shorter than the server's: one or two
            requests, then close_notify + FIN 600 ms after the last response.

Writes capture.pcap, sslkeys.log, truth.json (what each client did, by
client port, and each server's configured timeout: written by this script,
not by tlsclose), expected.jsonl (the shared tshark oracle, keyless, plus
`kind` and `keepalive_race` from truth.json) and expected-keys.jsonl.
"""
import json
import os
import random
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ORACLE = os.path.join(ROOT, '..', 'shared', 'tools', 'oracle.py')

SERVERS = [
    # (name, port, TLS version, idle timeout in s)
    ('nginx', 8443, 'TLSv1.3', 2.0),
    ('nginx', 8444, 'TLSv1.2', 1.5),
    ('haproxy', 9443, 'TLSv1.3', 1.0),
]
PER_KIND = 4
POOL_CLIENT = '127.0.0.2'
POOL_TIMEOUT = 0.6
POOLED = 6
REQUEST = b'GET / HTTP/1.1\r\nHost: server.test\r\n\r\n'


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, **kw)


def make_certs(d):
    o = 'openssl'
    sh(f'{o} req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout {d}/server.key '
       f'-out {d}/server.crt -days 36500 -subj /CN=server.test '
       f'-addext subjectAltName=DNS:server.test,IP:127.0.0.1 2>/dev/null')
    with open(f'{d}/server.pem', 'w') as f:
        f.write(open(f'{d}/server.crt').read() + open(f'{d}/server.key').read())


def start_servers(w):
    os.makedirs(f'{w}/tmp', exist_ok=True)
    blocks = []
    for name, port, proto, to in SERVERS:
        if name != 'nginx':
            continue
        blocks.append(f'''server {{ listen 127.0.0.1:{port} ssl; ssl_certificate {w}/server.crt;
    ssl_certificate_key {w}/server.key; ssl_protocols {proto};
    keepalive_timeout {int(to * 1000)}ms; client_header_timeout 10s;
    location / {{ return 200 "ok\\n"; }} }}''')
    procs = [run_nginx(w, blocks)]
    procs += [run_haproxy(w, port, proto, to) for name, port, proto, to in SERVERS
              if name == 'haproxy']
    return procs


def run_nginx(w, blocks):
    """nginx with these `server` blocks, its files under w."""
    conf = f'''daemon off; worker_processes 1; pid {w}/nginx.pid; error_log {w}/nginx.err info;
events {{ worker_connections 256; }}
http {{ access_log off; client_body_temp_path {w}/tmp; proxy_temp_path {w}/tmp;
  fastcgi_temp_path {w}/tmp; uwsgi_temp_path {w}/tmp; scgi_temp_path {w}/tmp;
  {chr(10).join(blocks)} }}
'''
    open(f'{w}/nginx.conf', 'w').write(conf)
    return subprocess.Popen(['nginx', '-c', f'{w}/nginx.conf', '-p', w])


def run_haproxy(w, port, proto, to, bind=''):
    """haproxy answering 200 on port, keep-alive timeout `to` seconds;
    `bind`: more bind options (e.g. `alpn h2`)."""
    cfg = f'''global
  maxconn 200
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive {int(to * 1000)}ms
  timeout http-request 10s
frontend fe
  bind 127.0.0.1:{port} ssl crt {w}/server.pem {bind}ssl-min-ver {proto}
  http-request return status 200 content-type text/plain string ok
'''
    open(f'{w}/haproxy-{port}.cfg', 'w').write(cfg)
    return subprocess.Popen(['haproxy', '-db', '-f', f'{w}/haproxy-{port}.cfg'],
                            stdout=open(f'{w}/haproxy-{port}.log', 'w'), stderr=subprocess.STDOUT)


def start_capture(w):
    """tcpdump on lo into w/capture.pcap, once it listens."""
    tdump = subprocess.Popen(['tcpdump', '-i', 'lo', '-s', '0', '-U', '--immediate-mode', '-Z', 'root',
                              '-w', f'{w}/capture.pcap', 'tcp'], stderr=open(f'{w}/tcpdump.err', 'w'))
    for _ in range(60):
        if 'listening' in open(f'{w}/tcpdump.err').read():
            break
        time.sleep(0.05)
    return tdump


def contexts(keylog, alpn=None):
    """Client contexts for TLS 1.2 and 1.3 (no verification), logging keys."""
    ctxs = {}
    for proto in ('TLSv1.2', 'TLSv1.3'):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        v = ssl.TLSVersion.TLSv1_2 if proto == 'TLSv1.2' else ssl.TLSVersion.TLSv1_3
        ctx.minimum_version = v
        ctx.maximum_version = v
        if alpn:
            ctx.set_alpn_protocols(alpn)
        ctx.keylog_filename = keylog
        ctxs[proto] = ctx
    return ctxs


def read_response(s):
    """Reads one HTTP response (headers with Content-Length, then body)."""
    buf = b''
    while b'\r\n\r\n' not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise EOFError('closed before the response')
        buf += chunk
    head, body = buf.split(b'\r\n\r\n', 1)
    length = 0
    for line in head.split(b'\r\n'):
        if line.lower().startswith(b'content-length:'):
            length = int(line.split(b':', 1)[1])
    while len(body) < length:
        chunk = s.recv(4096)
        if not chunk:
            break
        body += chunk


def client(ctx, port, kind, plan, truth, lock):
    time.sleep(plan['start'])
    source = (POOL_CLIENT, 0) if kind == 'pooled' else None
    raw = socket.create_connection(('127.0.0.1', port), source_address=source)
    local = raw.getsockname()
    s = ctx.wrap_socket(raw, server_hostname='server.test')
    rec = dict(client=f'{local[0]}:{local[1]}', server=f'127.0.0.1:{port}', kind=kind,
               keepalive_race=(kind == 'racing'), plan=plan)
    try:
        for i in range(plan['requests']):
            if i:
                time.sleep(plan['between'])
            s.sendall(REQUEST)
            read_response(s)
        t_resp = time.monotonic()
        if kind == 'patient':
            while True:
                if not s.recv(4096):  # close_notify read (ragged EOFs suppressed)
                    break
            rec['saw'] = 'eof after %.3fs' % (time.monotonic() - t_resp)
            time.sleep(plan['after'])
            if plan['answer']:
                try:
                    s.unwrap()
                except (OSError, ssl.SSLError) as e:
                    rec['unwrap'] = repr(e)
            s.close()
        elif kind == 'racing':
            time.sleep(plan['timeout'] + plan['delta'] - (time.monotonic() - t_resp))
            rec['sent_after'] = round(time.monotonic() - t_resp, 4)
            s.sendall(REQUEST)
            try:
                got = s.recv(4096)
                rec['saw'] = 'eof' if not got else 'data %d' % len(got)
            except (OSError, ssl.SSLError) as e:
                rec['saw'] = repr(e)
            s.close()
        elif kind == 'pooled':
            time.sleep(POOL_TIMEOUT - (time.monotonic() - t_resp))
            s.unwrap()
            s.close()
        else:  # closing first
            time.sleep(plan['after'])
            if plan['answer']:
                s.unwrap()
            s.close()
    except Exception as e:  # recorded, the capture is checked by the oracle
        rec['error'] = repr(e)
        try:
            s.close()
        except OSError:
            pass
    with lock:
        truth.append(rec)


def inner(out, seed):
    rnd = random.Random(seed)
    w = tempfile.mkdtemp(prefix='kar-')
    sh('ip link set lo up')
    make_certs(w)
    tdump = start_capture(w)
    procs = start_servers(w)
    time.sleep(0.7)
    keylog = f'{w}/sslkeys.log'
    ctxs = contexts(keylog)
    truth, lock, threads = [], threading.Lock(), []
    for name, port, proto, to in SERVERS:
        for kind in ('patient', 'racing', 'closing'):
            for i in range(PER_KIND):
                plan = dict(start=round(rnd.uniform(0, 1.5), 3), requests=1, timeout=to)
                if kind == 'patient':
                    plan['requests'] = 1 + (i % 2)
                    plan['between'] = round(rnd.uniform(0.05, to * 0.5), 3)
                    plan['after'] = round(rnd.uniform(0.0, 0.05), 3)
                    plan['answer'] = i >= 2
                elif kind == 'racing':
                    plan['delta'] = round(rnd.uniform(0.03, 0.3), 3)
                else:
                    plan['after'] = round(rnd.uniform(0.1, to * 0.6), 3)
                    plan['answer'] = i % 2 == 0
                t = threading.Thread(target=client, args=(ctxs[proto], port, kind, plan, truth, lock))
                t.start()
                threads.append(t)
    name, port, proto, to = SERVERS[0]
    for i in range(POOLED):
        plan = dict(start=round(rnd.uniform(0, 1.5), 3), requests=1 + (i % 2), timeout=to,
                    between=round(rnd.uniform(0.05, POOL_TIMEOUT * 0.8), 3))
        t = threading.Thread(target=client, args=(ctxs[proto], port, 'pooled', plan, truth, lock))
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
    servers = {f'127.0.0.1:{port}': dict(software=name, version=proto, idle_timeout_s=to)
               for name, port, proto, to in SERVERS}
    truth.sort(key=lambda r: (r['server'], r['client']))
    clients = {POOL_CLIENT: dict(idle_timeout_s=POOL_TIMEOUT, to=f'127.0.0.1:{SERVERS[0][1]}')}
    json.dump(dict(seed=seed, servers=servers, clients=clients, flows=truth),
              open(f'{out}/truth.json', 'w'), indent=1)
    os.chmod(out, 0o755)
    shutil.rmtree(w, ignore_errors=True)


def expected(out):
    truth = json.load(open(f'{out}/truth.json'))
    by_client = {(f['client'], f['server']): f for f in truth['flows']}
    for name, keylog in (('expected.jsonl', None), ('expected-keys.jsonl', f'{out}/sslkeys.log')):
        cmd = [sys.executable, ORACLE, f'{out}/capture.pcap']
        if keylog:
            cmd += ['--keylog', keylog]
        lines = subprocess.run(cmd, stdout=subprocess.PIPE, check=True).stdout.decode().splitlines()
        with open(f'{out}/{name}', 'w') as f:
            for line in lines:
                r = json.loads(line)
                t = by_client.get((r['client'], r['server']))
                if t is None:
                    sys.exit(f'oracle flow {r["client"]} not in truth.json')
                r['kind'] = t['kind']
                r['keepalive_race'] = t['keepalive_race']
                f.write(json.dumps(r) + '\n')


def main(inner=None, script=None, case='audit-keepalive-race', seed=12, doc=None):
    """`[OUTDIR] [--seed N]`: runs `inner(out, seed)` in a network namespace
    of its own (as `script --inner`), then writes the expected files."""
    inner = inner or globals()['inner']
    script = script or os.path.abspath(__file__)
    args = sys.argv[1:]
    if args and args[0] in ('-h', '--help'):
        print(doc or __doc__)
        return
    if '--seed' in args:
        i = args.index('--seed')
        seed = int(args[i + 1])
        del args[i:i + 2]
    if args and args[0] == '--inner':
        inner(args[1], seed)
        return
    out = os.path.abspath(args[0] if args else os.path.join(ROOT, 'testdata', case))
    subprocess.run(['unshare', '-n', sys.executable, script, '--inner', out,
                    '--seed', str(seed)], check=True)
    expected(out)
    print(f'wrote {out}')


if __name__ == '__main__':
    main()
