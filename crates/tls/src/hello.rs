//! ClientHello / ServerHello: just the fields the verdict and reports need.
//!
//! Layouts: RFC 8446 §4.1.2 (ClientHello), §4.1.3 (ServerHello and
//! HelloRetryRequest), RFC 5246 §7.4.1; extensions: server_name (RFC 6066
//! §3), ALPN (RFC 7301 §3.1), supported_versions (RFC 8446 §4.2.1),
//! encrypt_then_mac (RFC 7366), extended_master_secret (RFC 7627).
//!
//! Parsing is linear in the body length and what is stored is capped, so a
//! hostile hello with thousands of extensions costs nothing special.
use crate::record::handshake_header;
use crate::types::{is_grease, CipherSuite, HandshakeType, ProtocolVersion};
use nom::bytes::streaming::take;
use nom::multi::length_data;
use nom::number::streaming::{be_u16, be_u8};
use nom::Parser;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    pub legacy_version: ProtocolVersion,
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    pub cipher_suites: Vec<CipherSuite>,
    /// server_name extension, host_name entry (lossy UTF-8, length-capped).
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    /// supported_versions extension, GREASE values removed.
    pub supported_versions: Vec<ProtocolVersion>,
    pub extension_count: usize,
    /// A name (SNI, ALPN) was longer than [`HelloLimits::max_name_len`], or
    /// there were more ALPN names than [`HelloLimits::max_alpn_names`]:
    /// what is kept was cut.
    pub names_cut: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    pub legacy_version: ProtocolVersion,
    pub random: [u8; 32],
    pub cipher_suite: CipherSuite,
    /// supported_versions extension (TLS 1.3), if present.
    pub selected_version: Option<ProtocolVersion>,
    pub alpn: Option<String>,
    /// The random is the HelloRetryRequest magic (RFC 8446 §4.1.3).
    pub is_hello_retry_request: bool,
    pub extended_master_secret: bool,
    pub encrypt_then_mac: bool,
    /// The ALPN name was longer than [`HelloLimits::max_name_len`] and was cut.
    pub names_cut: bool,
}

impl ServerHello {
    /// The negotiated version: supported_versions when present, else legacy_version.
    pub fn negotiated_version(&self) -> ProtocolVersion {
        self.selected_version.unwrap_or(self.legacy_version)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelloError {
    /// The body ends before a field it announces.
    Truncated,
    /// A length or value is impossible.
    Malformed(&'static str),
}

impl std::fmt::Display for HelloError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HelloError::Truncated => f.write_str("hello truncated"),
            HelloError::Malformed(what) => write!(f, "malformed hello: {what}"),
        }
    }
}

impl std::error::Error for HelloError {}

/// SHA-256("HelloRetryRequest"): the ServerHello.random of a
/// HelloRetryRequest (RFC 8446 §4.1.3).
pub const HELLO_RETRY_REQUEST_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Longest host name / ALPN protocol name stored by default (bytes).
pub const MAX_NAME_LEN: usize = 255;
/// Most ALPN protocol names stored from one ClientHello by default.
pub const MAX_ALPN_NAMES: usize = 16;

/// How much of the names a hello carries is kept (a hostile hello may
/// carry a 64 KiB name or thousands of ALPN names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HelloLimits {
    /// Longest host name / ALPN protocol name kept (bytes); longer ones are cut.
    pub max_name_len: usize,
    /// Most ALPN protocol names kept from one ClientHello.
    pub max_alpn_names: usize,
}

impl Default for HelloLimits {
    fn default() -> Self {
        HelloLimits {
            max_name_len: MAX_NAME_LEN,
            max_alpn_names: MAX_ALPN_NAMES,
        }
    }
}

const EXT_SERVER_NAME: u16 = 0;
const EXT_ALPN: u16 = 16;
const EXT_ENCRYPT_THEN_MAC: u16 = 22;
const EXT_EXTENDED_MASTER_SECRET: u16 = 23;
const EXT_SUPPORTED_VERSIONS: u16 = 43;

type NomErr<'a> = nom::error::Error<&'a [u8]>;

/// Runs a streaming parser over a complete body: running out of bytes means
/// the body was truncated.
fn run<'a, O>(
    i: &'a [u8],
    mut p: impl Parser<&'a [u8], Output = O, Error = NomErr<'a>>,
    what: &'static str,
) -> Result<(&'a [u8], O), HelloError> {
    p.parse(i).map_err(|e| match e {
        nom::Err::Incomplete(_) => HelloError::Truncated,
        _ => HelloError::Malformed(what),
    })
}

/// Like [`run`] but inside an already delimited block, where running out of
/// bytes means an inner length overruns its block.
fn inner<'a, O>(
    i: &'a [u8],
    p: impl Parser<&'a [u8], Output = O, Error = NomErr<'a>>,
    what: &'static str,
) -> Result<(&'a [u8], O), HelloError> {
    run(i, p, what).map_err(|_| HelloError::Malformed(what))
}

fn random32(i: &[u8]) -> Result<(&[u8], [u8; 32]), HelloError> {
    let (i, r) = run(i, take(32usize), "random")?;
    let random: [u8; 32] = r.try_into().map_err(|_| HelloError::Truncated)?;
    Ok((i, random))
}

fn session_id(i: &[u8]) -> Result<(&[u8], &[u8]), HelloError> {
    let (i, len) = run(i, be_u8, "session_id")?;
    if len > 32 {
        return Err(HelloError::Malformed("session_id longer than 32 bytes"));
    }
    run(i, take(len), "session_id")
}

/// Calls `f(type, data)` for each extension of the (optional) extensions
/// block; returns the number of extensions.
fn for_each_extension<'a>(
    i: &'a [u8],
    mut f: impl FnMut(u16, &'a [u8]),
) -> Result<usize, HelloError> {
    if i.is_empty() {
        // RFC 5246 §7.4.1.2: the extensions block may be absent.
        return Ok(0);
    }
    let (_trailing, mut exts) = run(i, length_data(be_u16), "extensions")?;
    let mut count = 0usize;
    while !exts.is_empty() {
        let (rest, (ty, data)) = inner(
            exts,
            (be_u16, length_data(be_u16)),
            "extension overruns the extensions block",
        )?;
        f(ty, data);
        count = count.saturating_add(1);
        exts = rest;
    }
    Ok(count)
}

/// A u8-length-prefixed vector (streaming).
fn ld8(i: &[u8]) -> nom::IResult<&[u8], &[u8]> {
    length_data(be_u8).parse(i)
}

/// A u16-length-prefixed vector (streaming).
fn ld16(i: &[u8]) -> nom::IResult<&[u8], &[u8]> {
    length_data(be_u16).parse(i)
}

/// A big-endian u16 from a 2-byte chunk (0 for any other length).
fn be16(c: &[u8]) -> u16 {
    match c {
        [a, b] => u16::from_be_bytes([*a, *b]),
        _ => 0,
    }
}

/// A name as text, at most `max` bytes of it; sets `cut` when it was longer.
fn lossy_name(b: &[u8], max: usize, cut: &mut bool) -> String {
    let kept = match b.get(..max) {
        Some(k) if k.len() < b.len() => {
            *cut = true;
            k
        }
        _ => b,
    };
    String::from_utf8_lossy(kept).into_owned()
}

/// server_name (RFC 6066 §3): the first host_name entry.
fn parse_sni(data: &[u8], limits: &HelloLimits, cut: &mut bool) -> Option<String> {
    let (_, mut list) = ld16(data).ok()?;
    while !list.is_empty() {
        let (rest, (name_type, name)) =
            (be_u8::<_, NomErr>, length_data(be_u16)).parse(list).ok()?;
        if name_type == 0 {
            return Some(lossy_name(name, limits.max_name_len, cut));
        }
        list = rest;
    }
    None
}

/// application_layer_protocol_negotiation (RFC 7301 §3.1): up to `max`
/// names; `cut` when there were more, or a name was too long.
fn parse_alpn(data: &[u8], max: usize, limits: &HelloLimits, cut: &mut bool) -> Vec<String> {
    let mut out = Vec::new();
    let Ok((_, mut list)) = ld16(data) else {
        return out;
    };
    while !list.is_empty() {
        let Ok((rest, name)) = ld8(list) else {
            break;
        };
        if out.len() >= max {
            *cut = true;
            break;
        }
        out.push(lossy_name(name, limits.max_name_len, cut));
        list = rest;
    }
    out
}

/// Parses a ClientHello handshake *body* (after the 4-byte handshake
/// header), names kept within the default [`HelloLimits`].
pub fn parse_client_hello(body: &[u8]) -> Result<ClientHello, HelloError> {
    parse_client_hello_with(body, &HelloLimits::default())
}

/// [`parse_client_hello`] with the given limits on the names kept.
pub fn parse_client_hello_with(
    body: &[u8],
    limits: &HelloLimits,
) -> Result<ClientHello, HelloError> {
    let (i, legacy_version) = run(body, be_u16, "legacy_version")?;
    let (i, random) = random32(i)?;
    let (i, sid) = session_id(i)?;
    let (i, suites) = run(i, length_data(be_u16), "cipher_suites")?;
    if suites.len() % 2 != 0 {
        return Err(HelloError::Malformed("odd cipher_suites length"));
    }
    let cipher_suites = suites
        .chunks_exact(2)
        .map(|c| CipherSuite(be16(c)))
        .collect();
    let (i, _compression) = run(i, length_data(be_u8), "compression_methods")?;

    let mut sni = None;
    let mut alpn: Option<Vec<String>> = None;
    let mut versions: Option<Vec<ProtocolVersion>> = None;
    let mut names_cut = false;
    let extension_count = for_each_extension(i, |ty, data| match ty {
        EXT_SERVER_NAME if sni.is_none() => sni = parse_sni(data, limits, &mut names_cut),
        EXT_ALPN if alpn.is_none() => {
            alpn = Some(parse_alpn(
                data,
                limits.max_alpn_names,
                limits,
                &mut names_cut,
            ))
        }
        EXT_SUPPORTED_VERSIONS if versions.is_none() => {
            let list = ld8(data).map(|(_, l)| l).unwrap_or(&[]);
            versions = Some(
                list.chunks_exact(2)
                    .map(be16)
                    .filter(|&v| !is_grease(v))
                    .map(ProtocolVersion)
                    .collect(),
            );
        }
        _ => {}
    })?;

    Ok(ClientHello {
        legacy_version: ProtocolVersion(legacy_version),
        random,
        session_id: sid.to_vec(),
        cipher_suites,
        sni,
        alpn: alpn.unwrap_or_default(),
        supported_versions: versions.unwrap_or_default(),
        extension_count,
        names_cut,
    })
}

/// Parses a ServerHello handshake body, names kept within the default
/// [`HelloLimits`].
pub fn parse_server_hello(body: &[u8]) -> Result<ServerHello, HelloError> {
    parse_server_hello_with(body, &HelloLimits::default())
}

/// [`parse_server_hello`] with the given limits on the names kept.
///
/// A TLS 1.3 draft in `legacy_version` (see [`ProtocolVersion::tls13_draft`])
/// may use the layout of drafts before 22, which had neither
/// legacy_session_id_echo nor legacy_compression_method
/// (draft-ietf-tls-tls13-21 §4.1.3; from draft 22 on the version moved to
/// supported_versions and the TLS 1.2 layout came back). The layout is
/// chosen by the draft number and must account for every byte of the body;
/// when it does not, the other layout is tried.
pub fn parse_server_hello_with(
    body: &[u8],
    limits: &HelloLimits,
) -> Result<ServerHello, HelloError> {
    let (_, legacy) = run(body, be_u16, "legacy_version")?;
    let legacy = ProtocolVersion(legacy);
    if legacy.tls13_draft().is_none() {
        return server_hello_layout(body, limits, false).map(|(sh, _)| sh);
    }
    let early = legacy.draft_number().is_some_and(|n| n < 22);
    match server_hello_layout(body, limits, early) {
        Ok((sh, true)) => Ok(sh),
        first => match server_hello_layout(body, limits, !early) {
            Ok((sh, true)) => Ok(sh),
            _ => first.map(|(sh, _)| sh),
        },
    }
}

/// One ServerHello layout: `early_draft` leaves out the session id and
/// compression method. Also says whether the extensions block (or its
/// absence) ends the body exactly.
fn server_hello_layout(
    body: &[u8],
    limits: &HelloLimits,
    early_draft: bool,
) -> Result<(ServerHello, bool), HelloError> {
    let (i, legacy_version) = run(body, be_u16, "legacy_version")?;
    let (i, random) = random32(i)?;
    let i = if early_draft { i } else { session_id(i)?.0 };
    let (i, suite) = run(i, be_u16, "cipher_suite")?;
    let i = if early_draft {
        i
    } else {
        run(i, be_u8, "compression_method")?.0
    };
    let exact = i.is_empty() || matches!(ld16(i), Ok((rest, _)) if rest.is_empty());

    let mut selected_version = None;
    let mut alpn = None;
    let mut ems = false;
    let mut etm = false;
    let mut names_cut = false;
    for_each_extension(i, |ty, data| match ty {
        EXT_SUPPORTED_VERSIONS if selected_version.is_none() => {
            if let Ok((_, v)) = be_u16::<_, NomErr>(data) {
                selected_version = Some(ProtocolVersion(v));
            }
        }
        EXT_ALPN if alpn.is_none() => {
            alpn = parse_alpn(data, 1, limits, &mut names_cut)
                .into_iter()
                .next()
        }
        EXT_EXTENDED_MASTER_SECRET => ems = true,
        EXT_ENCRYPT_THEN_MAC => etm = true,
        _ => {}
    })?;

    let sh = ServerHello {
        legacy_version: ProtocolVersion(legacy_version),
        random,
        cipher_suite: CipherSuite(suite),
        selected_version,
        alpn,
        is_hello_retry_request: random == HELLO_RETRY_REQUEST_RANDOM,
        extended_master_secret: ems,
        encrypt_then_mac: etm,
        names_cut,
    };
    Ok((sh, exact))
}

/// Joins plaintext handshake record bodies into whole handshake messages
/// (a message may span records; a record may hold several messages).
/// Bounded: a message announced longer than `max_message` is skipped.
#[derive(Debug)]
pub struct HandshakeAssembler {
    max_message: usize,
    /// Header plus body of the message being joined (at most 4 + max_message).
    buf: Vec<u8>,
    /// Body bytes still to skip of an oversized message.
    skip: usize,
    skipped: u64,
}

const HS_HEADER_LEN: usize = 4;

impl HandshakeAssembler {
    pub fn new(max_message: usize) -> Self {
        HandshakeAssembler {
            max_message,
            buf: Vec::new(),
            skip: 0,
            skipped: 0,
        }
    }

    /// Adds a handshake record body; calls `f` for each message completed.
    pub fn push(&mut self, body: &[u8], f: &mut dyn FnMut(HandshakeType, &[u8])) {
        let mut i = body;
        while !i.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(i.len());
                self.skip -= n;
                i = i.get(n..).unwrap_or(&[]);
                continue;
            }
            if self.buf.is_empty() {
                // Fast path: a whole message inside this body, no copy.
                if let Ok((rest, (ty, len))) = handshake_header(i) {
                    let len = len as usize;
                    if len > self.max_message {
                        self.skipped = self.skipped.saturating_add(1);
                        self.skip = len;
                        i = rest;
                        continue;
                    }
                    if let (Some(msg), Some(after)) = (rest.get(..len), rest.get(len..)) {
                        f(ty, msg);
                        i = after;
                        continue;
                    }
                }
            }
            // Slow path: collect the header, then the body, in `buf`.
            if self.buf.len() < HS_HEADER_LEN {
                let n = (HS_HEADER_LEN - self.buf.len()).min(i.len());
                self.buf.extend_from_slice(i.get(..n).unwrap_or(&[]));
                i = i.get(n..).unwrap_or(&[]);
                if self.buf.len() < HS_HEADER_LEN {
                    break;
                }
            }
            let Ok((_, (ty, len))) = handshake_header(&self.buf) else {
                break;
            };
            let len = len as usize;
            if len > self.max_message {
                self.skipped = self.skipped.saturating_add(1);
                self.skip = len;
                self.buf.clear();
                continue;
            }
            let have = self.buf.len() - HS_HEADER_LEN;
            let n = (len - have.min(len)).min(i.len());
            self.buf.extend_from_slice(i.get(..n).unwrap_or(&[]));
            i = i.get(n..).unwrap_or(&[]);
            if self.buf.len() == HS_HEADER_LEN + len {
                f(ty, self.buf.get(HS_HEADER_LEN..).unwrap_or(&[]));
                self.buf.clear();
            }
        }
    }

    /// Forget a partial message (after a gap or when the record layer lost sync).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.skip = 0;
    }

    /// Messages skipped so far because they were longer than `max_message`.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// True when part of a message is waiting for more bytes.
    pub fn has_partial(&self) -> bool {
        !self.buf.is_empty() || self.skip > 0
    }

    /// Bytes held for the message being joined.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn unhex(s: &str) -> Vec<u8> {
        let digits: Vec<u8> = s.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
        digits
            .chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).expect("ascii"), 16).expect("hex"))
            .collect()
    }

    /// The handshake body inside a one-message handshake record.
    fn body_of(record: &[u8]) -> Vec<u8> {
        record[9..].to_vec()
    }

    // Real hellos from the corpus captures (curl 8 / nginx / OpenSSL 3).
    const CH_CURL: &str = include_str!("../testdata/client_hello_curl.hex");
    const CH_OPENSSL_TLS12: &str = include_str!("../testdata/client_hello_openssl_tls12.hex");
    const SH_TLS13_NGINX: &str = include_str!("../testdata/server_hello_tls13_nginx.hex");
    const SH_TLS12_NGINX_H2: &str = include_str!("../testdata/server_hello_tls12_nginx_h2.hex");
    const SH_OPENSSL_TLS12: &str = include_str!("../testdata/server_hello_openssl_tls12.hex");

    #[test]
    fn curl_client_hello() {
        let rec = unhex(CH_CURL);
        assert_eq!(&rec[..6], &[0x16, 3, 1, 2, 0, 1]);
        let ch = parse_client_hello(&body_of(&rec)).expect("parses");
        assert_eq!(ch.legacy_version, ProtocolVersion::TLS1_2);
        assert_eq!(ch.sni.as_deref(), Some("server.test"));
        assert_eq!(ch.alpn, vec!["h2".to_string(), "http/1.1".to_string()]);
        assert_eq!(
            ch.supported_versions,
            vec![
                ProtocolVersion::TLS1_3,
                ProtocolVersion::TLS1_2,
                ProtocolVersion::TLS1_1,
                ProtocolVersion::TLS1_0
            ]
        );
        assert_eq!(ch.cipher_suites.len(), 31);
        assert_eq!(ch.cipher_suites[0], CipherSuite(0x1302));
        assert_eq!(ch.cipher_suites[30], CipherSuite(0x00ff));
        assert_eq!(ch.session_id.len(), 32);
        assert_eq!(ch.extension_count, 12);
    }

    #[test]
    fn openssl_tls12_client_hello() {
        let ch = parse_client_hello(&body_of(&unhex(CH_OPENSSL_TLS12))).expect("parses");
        assert_eq!(ch.legacy_version, ProtocolVersion::TLS1_2);
        assert_eq!(ch.sni.as_deref(), Some("server.test"));
        assert!(ch.alpn.is_empty());
        assert!(ch.supported_versions.is_empty());
        assert_eq!(
            ch.cipher_suites,
            vec![CipherSuite(0xc02b), CipherSuite(0x00ff)]
        );
        assert_eq!(ch.extension_count, 7);
    }

    #[test]
    fn tls13_server_hello() {
        let sh = parse_server_hello(&body_of(&unhex(SH_TLS13_NGINX))).expect("parses");
        assert_eq!(sh.legacy_version, ProtocolVersion::TLS1_2);
        assert_eq!(sh.selected_version, Some(ProtocolVersion::TLS1_3));
        assert_eq!(sh.negotiated_version(), ProtocolVersion::TLS1_3);
        assert_eq!(sh.cipher_suite, CipherSuite(0x1302));
        assert_eq!(sh.random[..4], [0x88, 0x20, 0x17, 0x2a]);
        assert!(!sh.is_hello_retry_request);
        assert_eq!(sh.alpn, None);
    }

    #[test]
    fn tls12_server_hellos() {
        let sh = parse_server_hello(&body_of(&unhex(SH_TLS12_NGINX_H2))).expect("parses");
        assert_eq!(sh.negotiated_version(), ProtocolVersion::TLS1_2);
        assert_eq!(sh.selected_version, None);
        assert_eq!(sh.cipher_suite, CipherSuite(0xc02c));
        assert_eq!(sh.alpn.as_deref(), Some("h2"));
        assert!(sh.extended_master_secret);
        assert!(!sh.encrypt_then_mac);

        let sh = parse_server_hello(&body_of(&unhex(SH_OPENSSL_TLS12))).expect("parses");
        assert_eq!(sh.negotiated_version(), ProtocolVersion::TLS1_2);
        assert_eq!(sh.cipher_suite, CipherSuite(0xc02b));
        assert_eq!(sh.random[..4], [0xa3, 0x28, 0x2a, 0xfd]);
        assert!(sh.extended_master_secret);
        assert!(!sh.encrypt_then_mac);
    }

    /// A ServerHello body with the given random and extensions.
    fn server_hello(random: [u8; 32], exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend_from_slice(&random);
        b.push(0);
        b.extend_from_slice(&[0x13, 0x01, 0]);
        let mut e = Vec::new();
        for (t, d) in exts {
            e.extend_from_slice(&t.to_be_bytes());
            e.extend_from_slice(&(d.len() as u16).to_be_bytes());
            e.extend_from_slice(d);
        }
        b.extend_from_slice(&(e.len() as u16).to_be_bytes());
        b.extend_from_slice(&e);
        b
    }

    /// A ClientHello body with the given extensions block contents.
    fn client_hello(ext_block: &[u8]) -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend_from_slice(&[7; 32]);
        b.push(0);
        b.extend_from_slice(&[0, 2, 0x13, 0x01, 1, 0]);
        b.extend_from_slice(&(ext_block.len() as u16).to_be_bytes());
        b.extend_from_slice(ext_block);
        b
    }

    fn ext(t: u16, d: &[u8]) -> Vec<u8> {
        let mut e = t.to_be_bytes().to_vec();
        e.extend_from_slice(&(d.len() as u16).to_be_bytes());
        e.extend_from_slice(d);
        e
    }

    #[test]
    fn hello_retry_request() {
        let hrr = server_hello(
            HELLO_RETRY_REQUEST_RANDOM,
            &[(43, vec![3, 4]), (51, vec![0, 0x1d])],
        );
        let sh = parse_server_hello(&hrr).expect("parses");
        assert!(sh.is_hello_retry_request);
        assert_eq!(sh.negotiated_version(), ProtocolVersion::TLS1_3);
        let mut r = HELLO_RETRY_REQUEST_RANDOM;
        r[31] ^= 1;
        assert!(
            !parse_server_hello(&server_hello(r, &[]))
                .expect("parses")
                .is_hello_retry_request
        );
    }

    /// A draft-14 ServerHello as draft-ietf-tls-tls13-14 §6.3.1.2 lays it
    /// out: version 0x7f0e, random, cipher suite, extensions (key_share,
    /// then numbered 40, with an x25519 share); no session id, no
    /// compression method.
    fn draft14_server_hello() -> Vec<u8> {
        let mut b = vec![0x7f, 0x0e];
        b.extend_from_slice(&[0x5a; 32]);
        b.extend_from_slice(&[0x13, 0x01]);
        let mut share = vec![0x00, 0x1d, 0x00, 0x20];
        share.extend_from_slice(&[0x42; 32]);
        let exts = ext(40, &share);
        b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        b.extend_from_slice(&exts);
        b
    }

    #[test]
    fn early_draft_server_hello_has_no_session_id() {
        let sh = parse_server_hello(&draft14_server_hello()).expect("parses");
        assert_eq!(sh.negotiated_version(), ProtocolVersion(0x7f0e));
        assert!(sh.negotiated_version().is_tls13());
        assert_eq!(sh.negotiated_version().to_string(), "TLS 1.3 (draft 14)");
        assert_eq!(sh.cipher_suite, CipherSuite::TLS_AES_128_GCM_SHA256);
        assert_eq!(sh.random, [0x5a; 32]);
        assert_eq!(sh.selected_version, None);
        // read with the TLS 1.2 layout, the random's next byte (0x13) would
        // be a session id length and the rest garbage
        assert!(!matches!(
            server_hello_layout(&draft14_server_hello(), &HelloLimits::default(), false),
            Ok((_, true))
        ));
    }

    #[test]
    fn late_draft_and_experiment_server_hellos_use_the_tls12_layout() {
        // draft 23 as Facebook deployed it (0xfb17) and BoringSSL's
        // experiment 2: legacy_version 0x0303, the version in
        // supported_versions
        for v in [0xfb17u16, 0x7e02, 0x7f1c] {
            let sh = parse_server_hello(&server_hello([3; 32], &[(43, v.to_be_bytes().to_vec())]))
                .expect("parses");
            assert_eq!(sh.negotiated_version(), ProtocolVersion(v));
            assert!(sh.negotiated_version().is_tls13());
        }
        // a draft-22+ number in legacy_version itself with the TLS 1.2 layout
        let mut b = server_hello([3; 32], &[]);
        b[..2].copy_from_slice(&[0x7f, 0x16]);
        let sh = parse_server_hello(&b).expect("parses");
        assert_eq!(sh.negotiated_version().to_string(), "TLS 1.3 (draft 22)");
        // an early draft number with the TLS 1.2 layout (the layout that
        // fits wins)
        b[..2].copy_from_slice(&[0x7f, 0x12]);
        let sh = parse_server_hello(&b).expect("parses");
        assert_eq!(sh.cipher_suite, CipherSuite(0x1301));
        // and a late draft number with the early layout
        let mut d = draft14_server_hello();
        d[..2].copy_from_slice(&[0x7f, 0x17]);
        let sh = parse_server_hello(&d).expect("parses");
        assert_eq!(sh.cipher_suite, CipherSuite(0x1301));
        assert_eq!(sh.random, [0x5a; 32]);
    }

    #[test]
    fn early_draft_server_hello_truncated_is_an_error() {
        let d = draft14_server_hello();
        for cut in [1, 10, 34, 35] {
            assert!(parse_server_hello(&d[..cut]).is_err(), "{cut}");
        }
    }

    #[test]
    fn server_hello_flags_and_no_extensions() {
        let sh = parse_server_hello(&server_hello([1; 32], &[(22, vec![]), (23, vec![])]))
            .expect("parses");
        assert!(sh.encrypt_then_mac && sh.extended_master_secret);
        // No extensions block at all is legal (RFC 5246 §7.4.1.3).
        let mut bare = server_hello([1; 32], &[]);
        bare.truncate(bare.len() - 2);
        let sh = parse_server_hello(&bare).expect("parses");
        assert!(!sh.encrypt_then_mac && sh.selected_version.is_none());
    }

    #[test]
    fn grease_versions_removed_and_names_capped() {
        let mut block = ext(43, &[8, 0x7a, 0x7a, 3, 4, 3, 3, 0xfa, 0xfa]);
        let long = vec![b'a'; 1000];
        let mut sni = vec![0u8];
        sni.extend_from_slice(&(long.len() as u16).to_be_bytes());
        sni.extend_from_slice(&long);
        let mut sni_list = (sni.len() as u16).to_be_bytes().to_vec();
        sni_list.extend_from_slice(&sni);
        block.extend(ext(0, &sni_list));
        // 40 ALPN names, one with invalid UTF-8
        let mut names = vec![2, 0xff, b'x'];
        for k in 0..39u8 {
            names.extend_from_slice(&[3, b'p', b'0' + k / 10, b'0' + k % 10]);
        }
        let mut alpn = (names.len() as u16).to_be_bytes().to_vec();
        alpn.extend_from_slice(&names);
        block.extend(ext(16, &alpn));
        let ch = parse_client_hello(&client_hello(&block)).expect("parses");
        assert_eq!(
            ch.supported_versions,
            vec![ProtocolVersion::TLS1_3, ProtocolVersion::TLS1_2]
        );
        assert_eq!(ch.sni.as_ref().map(|s| s.len()), Some(255));
        assert_eq!(ch.alpn.len(), MAX_ALPN_NAMES);
        assert_eq!(ch.alpn[0], "\u{fffd}x");
        assert_eq!(ch.alpn[1], "p00");
        assert_eq!(ch.extension_count, 3);
        assert!(ch.names_cut);

        // other limits
        let limits = HelloLimits {
            max_name_len: 10,
            max_alpn_names: 2,
        };
        let ch = parse_client_hello_with(&client_hello(&block), &limits).expect("parses");
        assert_eq!(ch.sni.as_deref(), Some("aaaaaaaaaa"));
        assert_eq!(ch.alpn, vec!["\u{fffd}x".to_string(), "p00".to_string()]);
        assert!(ch.names_cut);

        // within the limits nothing is cut
        let ch = parse_client_hello(&client_hello(&ext(43, &[2, 3, 4]))).expect("parses");
        assert!(!ch.names_cut);
    }

    #[test]
    fn truncated_hellos_are_errors() {
        for fixture in [CH_CURL, CH_OPENSSL_TLS12] {
            let body = body_of(&unhex(fixture));
            for n in 0..body.len() {
                match parse_client_hello(&body[..n]) {
                    Err(HelloError::Truncated) => {}
                    // Cut exactly before the extensions block: a legal hello.
                    Ok(ch) => assert_eq!(ch.extension_count, 0, "prefix {n}"),
                    Err(e) => panic!("prefix {n}: {e:?}"),
                }
            }
        }
        for fixture in [SH_TLS13_NGINX, SH_TLS12_NGINX_H2, SH_OPENSSL_TLS12] {
            let body = body_of(&unhex(fixture));
            for n in 0..body.len() {
                match parse_server_hello(&body[..n]) {
                    Err(HelloError::Truncated) => {}
                    Ok(sh) => assert!(sh.selected_version.is_none(), "prefix {n}"),
                    Err(e) => panic!("prefix {n}: {e:?}"),
                }
            }
        }
    }

    #[test]
    fn malformed_hellos() {
        let mut b = client_hello(&[]);
        b[34] = 33; // session_id length
        assert_eq!(
            parse_client_hello(&b),
            Err(HelloError::Malformed("session_id longer than 32 bytes"))
        );
        let mut b = client_hello(&[]);
        b[36] = 3; // odd cipher_suites length
        assert!(matches!(
            parse_client_hello(&b),
            Err(HelloError::Malformed(_))
        ));
        // an extension overrunning the block
        let b = client_hello(&[0, 0, 0, 9, 1]);
        assert!(matches!(
            parse_client_hello(&b),
            Err(HelloError::Malformed(_))
        ));
        // garbage inside an extension is ignored, not fatal
        let b = client_hello(&ext(0, &[0, 9, 0]));
        assert_eq!(parse_client_hello(&b).expect("parses").sni, None);
    }

    #[test]
    fn many_extensions_in_linear_time() {
        let build = |n: usize| {
            let mut block = Vec::new();
            for k in 0..n {
                block.extend(ext(1000 + (k % 50) as u16, &[]));
            }
            block.extend(ext(16, &[0, 3, 2, b'h', b'2']));
            client_hello(&block)
        };
        let small = build(500);
        let big = build(5000);
        let time = |b: &[u8]| {
            let t = Instant::now();
            for _ in 0..20 {
                let ch = parse_client_hello(b).expect("parses");
                assert_eq!(ch.alpn, vec!["h2".to_string()]);
            }
            t.elapsed()
        };
        let ch = parse_client_hello(&big).expect("parses");
        assert_eq!(ch.extension_count, 5001);
        let (ts, tb) = (time(&small), time(&big));
        assert!(tb < Duration::from_secs(2), "{tb:?}");
        // 10x the extensions, far less than 100x the time
        assert!(tb < ts * 40 + Duration::from_millis(20), "{ts:?} {tb:?}");
    }

    fn collect(asm: &mut HandshakeAssembler, body: &[u8], out: &mut Vec<(u8, Vec<u8>)>) {
        asm.push(body, &mut |t, m| out.push((t.0, m.to_vec())));
    }

    #[test]
    fn assembler_joins_and_splits() {
        let mut stream = Vec::new();
        let msgs: Vec<(u8, Vec<u8>)> = vec![
            (2, vec![1; 70]),
            (11, vec![2; 1500]),
            (12, vec![]),
            (14, vec![3; 5]),
        ];
        for (t, m) in &msgs {
            stream.push(*t);
            stream.extend_from_slice(&(m.len() as u32).to_be_bytes()[1..]);
            stream.extend_from_slice(m);
        }
        for chunk in [1usize, 3, 4, 7, 100, 5000] {
            let mut asm = HandshakeAssembler::new(4096);
            let mut out = Vec::new();
            for c in stream.chunks(chunk) {
                collect(&mut asm, c, &mut out);
            }
            assert_eq!(out, msgs, "chunk {chunk}");
            assert!(!asm.has_partial());
        }
    }

    #[test]
    fn assembler_skips_oversized_and_resets() {
        let mut stream = vec![11, 0, 0x10, 0];
        stream.extend(vec![9; 4096]);
        stream.extend_from_slice(&[20, 0, 0, 2, 0xaa, 0xbb]);
        for chunk in [1usize, 5, 4100, 9000] {
            let mut asm = HandshakeAssembler::new(1000);
            let mut out = Vec::new();
            for c in stream.chunks(chunk) {
                collect(&mut asm, c, &mut out);
                assert!(asm.buffered() <= 1004);
            }
            assert_eq!(out, vec![(20, vec![0xaa, 0xbb])]);
            assert_eq!(asm.skipped(), 1);
        }
        let mut asm = HandshakeAssembler::new(1000);
        let mut out = Vec::new();
        collect(&mut asm, &[1, 0, 0, 10, 1, 2], &mut out);
        assert!(asm.has_partial());
        asm.reset();
        collect(&mut asm, &[20, 0, 0, 1, 7], &mut out);
        assert_eq!(out, vec![(20, vec![7])]);
    }
}
