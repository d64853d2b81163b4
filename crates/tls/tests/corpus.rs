//! The deframer and hello parsers over the corpus of real captures (the
//! copy in `testdata/`, or `$TLSCLOSE_CORPUS`: a shared corpus' `cases/`): for
//! every TCP direction the records must tile the stream from the start of
//! TLS to its end, and the plaintext alerts, SNI and negotiated version must
//! match the keyless verdicts (`expected.jsonl`; `expected-nokeys.jsonl`
//! in the shared corpus).
//!
//! A deliberately small pcap reader and reassembler live here so the test
//! depends on nothing but this crate (and the test kit's paths).
use std::collections::BTreeMap;
use std::path::PathBuf;
use tlsclose_tls::{
    alert, parse_client_hello, parse_server_hello, ContentType, DeframeEvent, Deframer,
    DeframerConfig, HandshakeAssembler, HandshakeType, StartMode,
};

/// The cases' folder and the name of their keyless expected file:
/// `$TLSCLOSE_CORPUS` (a shared corpus' `cases/`, `expected-nokeys.jsonl`)
/// or the copy imported into the workspace's `testdata/` (`expected.jsonl`).
fn corpus() -> (PathBuf, &'static str) {
    match std::env::var_os("TLSCLOSE_CORPUS") {
        Some(p) => (PathBuf::from(p), "expected-nokeys.jsonl"),
        None => (tlsclose_testkit::testdata(), "expected.jsonl"),
    }
}

struct Seg {
    frame: usize,
    src: (Vec<u8>, u16),
    dst: (Vec<u8>, u16),
    seq: u32,
    syn: bool,
    ack: bool,
    payload: Vec<u8>,
    /// TCP payload bytes not captured (snaplen).
    missing: usize,
}

fn u16be(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32be(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Classic pcap only (pcapng cases are skipped).
fn read_pcap(data: &[u8]) -> Option<Vec<Seg>> {
    let magic = data.get(..4)?;
    let le = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        _ => return None,
    };
    let rd32 = |at: usize| -> Option<u32> {
        let b: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let linktype = rd32(20)?;
    let mut at = 24;
    let mut out = Vec::new();
    let mut frame = 0;
    while at + 16 <= data.len() {
        let caplen = rd32(at + 8)? as usize;
        let pkt = data.get(at + 16..at + 16 + caplen)?;
        at += 16 + caplen;
        frame += 1;
        let ip = match linktype {
            1 => {
                let mut off = 12;
                let mut et = u16be(pkt, off)?;
                while et == 0x8100 || et == 0x88a8 {
                    off += 4;
                    et = u16be(pkt, off)?;
                }
                pkt.get(off + 2..)?
            }
            0 => pkt.get(4..)?,
            101 => pkt,
            113 => pkt.get(16..)?,
            276 => pkt.get(20..)?,
            _ => return None,
        };
        if let Some(s) = tcp_of(ip, frame) {
            out.push(s);
        }
    }
    Some(out)
}

fn tcp_of(ip: &[u8], frame: usize) -> Option<Seg> {
    let v = ip.first()? >> 4;
    let (src, dst, tcp, tcp_len) = match v {
        4 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            if *ip.get(9)? != 6 {
                return None;
            }
            let total = usize::from(u16be(ip, 2)?);
            (
                ip.get(12..16)?.to_vec(),
                ip.get(16..20)?.to_vec(),
                ip.get(ihl..)?,
                total.checked_sub(ihl)?,
            )
        }
        6 => {
            if *ip.get(6)? != 6 {
                return None;
            }
            (
                ip.get(8..24)?.to_vec(),
                ip.get(24..40)?.to_vec(),
                ip.get(40..)?,
                usize::from(u16be(ip, 4)?),
            )
        }
        _ => return None,
    };
    let doff = usize::from(tcp.get(12)? >> 4) * 4;
    let flags = *tcp.get(13)?;
    let want = tcp_len.checked_sub(doff)?;
    let captured = tcp.get(doff..).unwrap_or(&[]);
    let payload = captured.get(..want.min(captured.len()))?.to_vec();
    Some(Seg {
        frame,
        src: (src, u16be(tcp, 0)?),
        dst: (dst, u16be(tcp, 2)?),
        seq: u32be(tcp, 4)?,
        syn: flags & 0x02 != 0,
        ack: flags & 0x10 != 0,
        missing: want - payload.len(),
        payload,
    })
}

/// One direction of one connection, as in-order pushes and gaps.
#[derive(Default)]
struct Dir {
    isn: Option<u32>,
    syn: bool,
    segs: Vec<(u64, Vec<u8>, usize, usize)>, // offset, bytes, missing, frame
}

struct Conn {
    client_port: u16,
    server_port: u16,
    dirs: [Dir; 2], // 0: client → server
}

fn connections(segs: &[Seg]) -> Vec<Conn> {
    let mut conns: Vec<Conn> = Vec::new();
    let mut open: BTreeMap<(Vec<u8>, u16, Vec<u8>, u16), usize> = BTreeMap::new();
    for s in segs {
        let fwd = (s.src.0.clone(), s.src.1, s.dst.0.clone(), s.dst.1);
        let rev = (s.dst.0.clone(), s.dst.1, s.src.0.clone(), s.src.1);
        let fresh_syn = s.syn && !s.ack;
        let (idx, dir) = match (open.get(&fwd), open.get(&rev)) {
            (Some(&i), _) if !(fresh_syn && conns[i].dirs[0].isn.is_some()) => (i, 0),
            (_, Some(&i)) if !fresh_syn => (i, 1),
            _ => {
                // a new connection: the SYN sender (or the first sender
                // mid-stream: the higher port) is the client
                let client_first = fresh_syn || s.src.1 > s.dst.1;
                conns.push(Conn {
                    client_port: if client_first { s.src.1 } else { s.dst.1 },
                    server_port: if client_first { s.dst.1 } else { s.src.1 },
                    dirs: Default::default(),
                });
                let i = conns.len() - 1;
                open.retain(|k, _| *k != fwd && *k != rev);
                if client_first {
                    open.insert(fwd.clone(), i);
                    (i, 0)
                } else {
                    open.insert(rev.clone(), i);
                    (i, 1)
                }
            }
        };
        let d = &mut conns[idx].dirs[dir];
        if s.syn {
            d.isn = Some(s.seq.wrapping_add(1));
            d.syn = true;
            continue;
        }
        let isn = *d.isn.get_or_insert(s.seq);
        if s.payload.is_empty() && s.missing == 0 {
            continue;
        }
        let off = u64::from(s.seq.wrapping_sub(isn));
        d.segs.push((off, s.payload.clone(), s.missing, s.frame));
    }
    conns
}

#[derive(Default, Debug)]
struct Seen {
    start: Option<u64>,
    lost: usize,
    gaps: usize,
    alerts: Vec<String>,
    sni: Option<String>,
    version: Option<String>,
    tiles: bool,
    is_tls: bool,
}

fn deframe(d: &Dir) -> Seen {
    let mode = if d.syn {
        StartMode::StreamStart
    } else {
        StartMode::MidStream
    };
    let mut df = Deframer::new(mode, DeframerConfig::default());
    let mut seen = Seen {
        tiles: true,
        ..Default::default()
    };
    let mut asm = HandshakeAssembler::new(1 << 16);
    let mut next_record = None::<u64>;
    let mut handle = |e: DeframeEvent<'_, usize>, seen: &mut Seen| match e {
        DeframeEvent::TlsStart { offset } => {
            seen.start = Some(offset);
            next_record = Some(offset);
        }
        DeframeEvent::Record(r) => {
            if next_record != Some(r.offset) {
                seen.tiles = false;
            }
            next_record = Some(r.offset + 5 + u64::from(r.header.length));
            match (r.header.content_type, r.body) {
                (ContentType::ALERT, Some(b)) if b.len() == 2 => {
                    if let Ok((_, a)) = alert(b) {
                        seen.alerts.push(a.to_string());
                    }
                }
                (ContentType::HANDSHAKE, Some(b)) => asm.push(b, &mut |t, m| {
                    if t == HandshakeType::CLIENT_HELLO {
                        if let Ok(ch) = parse_client_hello(m) {
                            seen.sni = ch.sni;
                        }
                    } else if t == HandshakeType::SERVER_HELLO {
                        if let Ok(sh) = parse_server_hello(m) {
                            seen.version = Some(sh.negotiated_version().to_string());
                        }
                    }
                }),
                _ => {}
            }
        }
        DeframeEvent::LostSync { .. } => {
            seen.lost += 1;
            next_record = None;
        }
        DeframeEvent::Resync { offset, .. } => next_record = Some(offset),
        _ => {}
    };
    let mut segs = d.segs.clone();
    segs.sort_by_key(|s| s.0);
    let mut at = 0u64;
    for (off, bytes, missing, frame) in segs {
        let end = off + bytes.len() as u64 + missing as u64;
        if end <= at {
            continue; // retransmission
        }
        if off > at {
            seen.gaps += 1;
            df.gap(off - at, frame, &mut |e| handle(e, &mut seen));
            at = off;
        }
        let skip = (at - off) as usize;
        if let Some(new) = bytes.get(skip..) {
            df.push(new, frame, &mut |e| handle(e, &mut seen));
            at += new.len() as u64;
        }
        if missing > 0 {
            seen.gaps += 1;
            df.gap(end - at, frame, &mut |e| handle(e, &mut seen));
            at = end;
        }
    }
    df.finish(&mut |e| handle(e, &mut seen));
    // the records end exactly where the stream ends
    if next_record.is_some_and(|n| n != at) && seen.gaps == 0 {
        seen.tiles = false;
    }
    seen.is_tls = df.is_tls();
    seen
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let k = format!("\"{key}\": ");
    let rest = &line[line.find(&k)? + k.len()..];
    if let Some(r) = rest.strip_prefix('"') {
        Some(&r[..r.find('"')?])
    } else {
        Some(&rest[..rest.find([',', '}'])?])
    }
}

fn alerts_of(line: &str, side: &str) -> Vec<String> {
    let k = format!("\"{side}\": [");
    let Some(a) = line.find("\"alerts\"") else {
        return vec![];
    };
    let rest = &line[a..];
    let Some(s) = rest.find(&k) else {
        return vec![];
    };
    let list = &rest[s + k.len()..];
    let list = &list[..list.find(']').unwrap_or(0)];
    list.split(',')
        .map(|x| x.trim().trim_matches('"').to_string())
        .filter(|x| x.starts_with("warning:") || x.starts_with("fatal:"))
        .collect()
}

#[test]
fn corpus_streams_tile_and_match_the_keyless_verdicts() {
    let (dir, expected_name) = corpus();
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    cases.sort();
    for case in cases {
        let name = case
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        // in testdata/, the imported corpus only: the other cases
        // (damaged, tunnels, other link types) need more than this
        // test's small reader; their own tests read them
        let imported = std::fs::read_to_string(case.join("README.md"))
            .is_ok_and(|r| r.contains("Imported from the shared corpus"));
        if expected_name == "expected.jsonl" && !imported {
            continue;
        }
        let Ok(data) = std::fs::read(case.join("capture.pcap")) else {
            continue;
        };
        let Some(segs) = read_pcap(&data) else {
            continue;
        };
        let expected = std::fs::read_to_string(case.join(expected_name)).unwrap_or_default();
        let lines: Vec<&str> = expected.lines().collect();
        let conns = connections(&segs);
        let tls_conns: Vec<&Conn> = conns
            .iter()
            .filter(|c| {
                lines.iter().any(|l| {
                    field(l, "client").is_some_and(|v| v.ends_with(&format!(":{}", c.client_port)))
                })
            })
            .collect();
        for (k, line) in lines.iter().enumerate() {
            let cport = field(line, "client")
                .and_then(|c| c.rsplit(':').next())
                .unwrap_or("");
            let Some(conn) = tls_conns
                .iter()
                .filter(|c| c.client_port.to_string() == cport)
                .nth(
                    lines[..k]
                        .iter()
                        .filter(|l| field(l, "client") == field(line, "client"))
                        .count(),
                )
            else {
                failures.push(format!("{name}: flow {k} not found"));
                continue;
            };
            let _ = conn.server_port;
            let mut sni = None;
            let mut version = None;
            for (side, d) in ["client", "server"].iter().zip(conn.dirs.iter()) {
                if d.segs.is_empty() {
                    continue;
                }
                let seen = deframe(d);
                checked += 1;
                let ctx = format!("{name} flow {k} {side}");
                if !seen.is_tls {
                    failures.push(format!("{ctx}: no TLS found"));
                    continue;
                }
                if seen.gaps == 0 && (seen.lost > 0 || !seen.tiles) {
                    failures.push(format!("{ctx}: records do not tile the stream: {seen:?}"));
                }
                if name.contains("starttls") && seen.start.unwrap_or(0) == 0 {
                    failures.push(format!("{ctx}: STARTTLS start not found"));
                }
                let want = alerts_of(line, side);
                if seen.alerts != want {
                    failures.push(format!("{ctx}: alerts {:?} != {want:?}", seen.alerts));
                }
                sni = sni.or(seen.sni);
                version = version.or(seen.version);
            }
            let want_sni = field(line, "sni").filter(|s| *s != "null");
            if sni.as_deref() != want_sni {
                failures.push(format!("{name} flow {k}: sni {sni:?} != {want_sni:?}"));
            }
            let want_version = field(line, "version").filter(|s| *s != "null");
            if version.as_deref() != want_version {
                failures.push(format!(
                    "{name} flow {k}: version {version:?} != {want_version:?}"
                ));
            }
        }
    }
    eprintln!("{checked} directions checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 100, "only {checked} directions checked");
}
