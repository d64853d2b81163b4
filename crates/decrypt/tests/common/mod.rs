//! Records of real captures, reassembled with the project's own capture,
//! TCP and TLS crates (dev-dependencies only: the library depends on none
//! of them), then decrypted direction by direction.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use tlsclose_capture::{decode_segment, CaptureReader, Segment};
use tlsclose_decrypt::{KeyLog, RecordDecrypter, RecordError, SessionInfo, Side};
use tlsclose_tcp::{Dir, FlowTable, FlowTableConfig, SegMeta, StreamConsumer};
use tlsclose_tls::{
    parse_client_hello, parse_server_hello, ContentType, DeframeEvent, Deframer, DeframerConfig,
    HandshakeAssembler, HandshakeType, ProtocolVersion, StartMode,
};

pub use tlsclose_testkit::case as testdata;

pub fn capture_of(case: &str) -> PathBuf {
    tlsclose_testkit::paths::capture_of(case)
}

/// One record as captured.
#[derive(Debug, Clone)]
pub struct Rec {
    pub content_type: ContentType,
    pub version: ProtocolVersion,
    /// None when part of it fell into a gap.
    pub body: Option<Vec<u8>>,
    pub frame: u64,
}

#[derive(Default)]
struct DirRecs {
    deframer: Option<Deframer<u64>>,
    records: Vec<Rec>,
}

#[derive(Default)]
struct Collect {
    dirs: [DirRecs; 2],
    syn_dir: Option<Dir>,
}

fn on_event(recs: &mut Vec<Rec>, ev: DeframeEvent<'_, u64>) {
    if let DeframeEvent::Record(r) = ev {
        recs.push(Rec {
            content_type: r.header.content_type,
            version: r.header.version,
            body: r.body.map(<[u8]>::to_vec),
            frame: r.tag,
        });
    }
}

impl Collect {
    fn deframer(&mut self, dir: Dir, start_known: bool) -> &mut DirRecs {
        let d = &mut self.dirs[dir.index()];
        if d.deframer.is_none() {
            let config = DeframerConfig {
                keep_body_max: 1 << 15,
                ..DeframerConfig::default()
            };
            let mode = if start_known {
                StartMode::StreamStart
            } else {
                StartMode::MidStream
            };
            d.deframer = Some(Deframer::new(mode, config));
        }
        d
    }
    fn finish(&mut self, dir: Dir) {
        let d = &mut self.dirs[dir.index()];
        if let Some(df) = d.deframer.as_mut() {
            let recs = &mut d.records;
            df.finish(&mut |ev| on_event(recs, ev));
        }
    }
}

impl StreamConsumer for Collect {
    fn segment(&mut self, dir: Dir, seg: &Segment<'_>, _meta: SegMeta) {
        if seg.flags.syn && !seg.flags.ack && self.syn_dir.is_none() {
            self.syn_dir = Some(dir);
        }
    }
    fn data(&mut self, dir: Dir, start_known: bool, data: &[u8], meta: SegMeta) {
        let d = self.deframer(dir, start_known);
        let recs = &mut d.records;
        if let Some(df) = d.deframer.as_mut() {
            df.push(data, meta.frame, &mut |ev| on_event(recs, ev));
        }
    }
    fn gap(&mut self, dir: Dir, len: u64, meta: SegMeta) {
        let d = self.deframer(dir, false);
        let recs = &mut d.records;
        if let Some(df) = d.deframer.as_mut() {
            df.gap(len, meta.frame, &mut |ev| on_event(recs, ev));
        }
    }
    fn fin(&mut self, dir: Dir, _meta: SegMeta) {
        self.finish(dir);
    }
    fn rst(&mut self, dir: Dir, _meta: SegMeta) {
        self.finish(dir);
    }
}

/// A TCP connection's records, client's and server's.
pub struct Conn {
    /// The endpoints as `ip:port` (`[ip]:port` for IPv6), as in the
    /// expected lines.
    pub client_addr: String,
    pub server_addr: String,
    pub client: Vec<Rec>,
    pub server: Vec<Rec>,
}

/// Every TCP connection of a capture with its records, and the capture's
/// Decryption Secrets Blocks.
pub fn read_capture(path: &Path) -> (Vec<Conn>, Vec<(u32, Vec<u8>)>) {
    let mut reader = CaptureReader::open(path.to_str().expect("utf-8 path")).expect("open");
    let mut table: FlowTable<Collect> = FlowTable::new(FlowTableConfig::default());
    let mut done = Vec::new();
    while let Some(frame) = reader.next_frame().expect("readable capture") {
        let meta = SegMeta::at(frame.number, frame.ts);
        if let Ok(seg) = decode_segment(&frame) {
            table.process(&seg, meta, &mut |_| Collect::default(), &mut |f| {
                done.push(f)
            });
        }
    }
    table.finish(&mut |f| done.push(f));
    done.sort_by_key(|f| f.start.first.frame);
    let conns = done
        .into_iter()
        .map(|mut f| {
            f.consumer.finish(Dir::AtoB);
            f.consumer.finish(Dir::BtoA);
            let hello_dir = f.consumer.dirs.iter().position(|d| {
                d.records
                    .first()
                    .and_then(|r| r.body.as_ref())
                    .and_then(|b| b.first())
                    == Some(&1)
            });
            let cdir = match (f.consumer.syn_dir, hello_dir) {
                (Some(d), _) => d.index(),
                (None, Some(i)) => i,
                // neither: the higher port is the client's (ENDINGS.md)
                (None, None) => usize::from(f.start.key.b.port > f.start.key.a.port),
            };
            let [a, b] = f.consumer.dirs;
            let key = f.start.key;
            let (client, server, client_addr, server_addr) = if cdir == 0 {
                (a.records, b.records, key.a, key.b)
            } else {
                (b.records, a.records, key.b, key.a)
            };
            Conn {
                client_addr: client_addr.to_string(),
                server_addr: server_addr.to_string(),
                client,
                server,
            }
        })
        .collect();
    (conns, reader.take_decryption_secrets())
}

/// The session parameters from the hellos.
pub fn session_of(conn: &Conn) -> Option<SessionInfo> {
    fn hello(recs: &[Rec], want: HandshakeType) -> Option<Vec<u8>> {
        let mut asm = HandshakeAssembler::new(1 << 16);
        let mut found = None;
        for r in recs
            .iter()
            .filter(|r| r.content_type == ContentType::HANDSHAKE)
        {
            let body = r.body.as_ref()?;
            asm.push(body, &mut |t, m| {
                if t == want && found.is_none() {
                    found = Some(m.to_vec());
                }
            });
            if found.is_some() {
                break;
            }
        }
        found
    }
    let ch = parse_client_hello(&hello(&conn.client, HandshakeType::CLIENT_HELLO)?).ok()?;
    // the first ServerHello that is not a HelloRetryRequest
    let mut asm = HandshakeAssembler::new(1 << 16);
    let mut sh = None;
    for r in conn
        .server
        .iter()
        .filter(|r| r.content_type == ContentType::HANDSHAKE)
    {
        let Some(body) = r.body.as_ref() else { break };
        asm.push(body, &mut |t, m| {
            if t == HandshakeType::SERVER_HELLO && sh.is_none() {
                if let Ok(h) = parse_server_hello(m) {
                    if !h.is_hello_retry_request {
                        sh = Some(h);
                    }
                }
            }
        });
        if sh.is_some() {
            break;
        }
    }
    let sh = sh?;
    Some(SessionInfo {
        version: sh.negotiated_version(),
        cipher_suite: sh.cipher_suite,
        client_random: ch.random,
        server_random: sh.random,
        encrypt_then_mac: sh.encrypt_then_mac,
    })
}

/// What one record turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    /// Plaintext (before encryption) or decrypted: real content type and content.
    Read {
        content_type: ContentType,
        data: Vec<u8>,
        encrypted: bool,
        skipped: u64,
    },
    Failed(RecordError),
    Lost,
}

/// Every record of one side, read with `dec` (TLS 1.2: CCS switches it on;
/// TLS 1.3: only application_data records after the ServerHello go to it).
pub fn read_side(recs: &[Rec], mut dec: RecordDecrypter, tls13: bool) -> Vec<(u64, Out)> {
    let mut out = Vec::new();
    for r in recs {
        let Some(body) = r.body.as_ref() else {
            if tls13 && r.content_type != ContentType::APPLICATION_DATA {
                out.push((r.frame, Out::Lost));
                continue;
            }
            dec.record_lost();
            out.push((r.frame, Out::Lost));
            continue;
        };
        let o = match dec.decrypt(r.content_type, r.version, body) {
            Ok(p) => Out::Read {
                content_type: p.content_type,
                data: p.data.to_vec(),
                encrypted: p.encrypted,
                skipped: p.skipped,
            },
            Err(e) => Out::Failed(e),
        };
        if !tls13 && r.content_type == ContentType::CHANGE_CIPHER_SPEC {
            dec.change_cipher_spec();
        }
        out.push((r.frame, o));
    }
    out
}

/// A connection decrypted with a key log: each side's records.
pub struct Decrypted {
    pub session: SessionInfo,
    pub client: Vec<(u64, Out)>,
    pub server: Vec<(u64, Out)>,
}

pub fn decrypt_conn(conn: &Conn, log: &KeyLog) -> Result<Decrypted, String> {
    let session = session_of(conn).ok_or("no hellos")?;
    let secrets = log
        .lookup(&session.client_random)
        .ok_or("keys: none for this client random")?;
    let tls13 = session.version == ProtocolVersion::TLS1_3;
    let mk = |side| RecordDecrypter::new(&session, secrets, side).map_err(|e| e.to_string());
    // TLS 1.3: the client's records from its first encrypted one (after
    // the ServerHello); the server's after the ServerHello record itself
    Ok(Decrypted {
        session,
        client: read_side(&conn.client, mk(Side::Client)?, tls13),
        server: read_side(&conn.server, mk(Side::Server)?, tls13),
    })
}

/// Alerts of one side as `level:description`, in order.
pub fn alerts(side: &[(u64, Out)]) -> Vec<String> {
    side.iter()
        .filter_map(|(_, o)| match o {
            Out::Read {
                content_type, data, ..
            } if *content_type == ContentType::ALERT => {
                let a = tlsclose_tls::alert(data).ok()?.1;
                Some(a.to_string())
            }
            _ => None,
        })
        .collect()
}

/// The plaintext alerts of one side's records (2-byte alert bodies, sent
/// before encryption) as `level:description`, in order.
pub fn plain_alerts(recs: &[Rec]) -> Vec<String> {
    recs.iter()
        .filter(|r| r.content_type == ContentType::ALERT)
        .filter_map(|r| r.body.as_deref().filter(|b| b.len() == 2))
        .filter_map(|b| Some(tlsclose_tls::alert(b).ok()?.1.to_string()))
        .collect()
}

pub fn failures(side: &[(u64, Out)]) -> Vec<(u64, RecordError)> {
    side.iter()
        .filter_map(|(f, o)| match o {
            Out::Failed(e) => Some((*f, e.clone())),
            _ => None,
        })
        .collect()
}

/// The alerts of an expected line: (client's, server's).
pub fn alerts_of_line(line: &tlsclose_testkit::serde_json::Value) -> (Vec<String>, Vec<String>) {
    let side = |s: &str| -> Vec<String> {
        line["alerts"][s]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    (side("client"), side("server"))
}

/// The expected alerts of a case's flows (expected-keys.jsonl), per flow
/// in the file's order.
pub fn expected_alerts(case: &str) -> Vec<(Vec<String>, Vec<String>)> {
    tlsclose_testkit::cli::expected_flows(&testdata(case).join("expected-keys.jsonl"))
        .iter()
        .map(alerts_of_line)
        .collect()
}
