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

/// The ALPN protocol selected in a TLS 1.3 EncryptedExtensions message
/// *body* (RFC 8446 §4.3.1: the extensions block alone; RFC 7301 §3.1:
/// exactly one name), read once the server's handshake is decrypted.
/// `None` without ALPN or when the message is malformed.
pub fn parse_encrypted_extensions_alpn(body: &[u8]) -> Option<String> {
    let limits = HelloLimits::default();
    let mut alpn = None;
    let mut cut = false;
    for_each_extension(body, |ty, data| {
        if ty == EXT_ALPN && alpn.is_none() {
            alpn = parse_alpn(data, 1, &limits, &mut cut).into_iter().next();
        }
    })
    .ok()?;
    alpn
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
                // Fast path: whole messages inside this body, no copy.
                i = Self::whole_messages(i, self.max_message, f);
                if let Ok((rest, (_, len))) = handshake_header(i) {
                    let len = len as usize;
                    if len > self.max_message {
                        self.skipped = self.skipped.saturating_add(1);
                        self.skip = len;
                        i = rest;
                        continue;
                    }
                }
                if i.is_empty() {
                    break;
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

    /// The whole messages at the start of `body`, each at most
    /// `max_message` long, given to `f` without a copy; returns the rest,
    /// from the first message that is not whole or is oversized. What an
    /// assembler with nothing pending does with `body`, up to that rest:
    /// a caller can do without an assembler until a message spans bodies.
    pub fn whole_messages<'a>(
        mut body: &'a [u8],
        max_message: usize,
        f: &mut dyn FnMut(HandshakeType, &[u8]),
    ) -> &'a [u8] {
        while let Ok((rest, (ty, len))) = handshake_header(body) {
            let len = len as usize;
            if len > max_message {
                break;
            }
            let (Some(msg), Some(after)) = (rest.get(..len), rest.get(len..)) else {
                break;
            };
            f(ty, msg);
            body = after;
        }
        body
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
mod tests;
