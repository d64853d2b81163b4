//! The NSS key log format (what `SSLKEYLOGFILE` makes curl, browsers,
//! OpenSSL, Go and Python write) and pcapng Decryption Secrets Blocks that
//! carry it.
//!
//! One line per secret: `LABEL <client random, 64 hex digits> <secret hex>`
//! (draft-ietf-tls-keylogfile), and NSS's `RSA <first 8 bytes of the
//! encrypted pre-master secret, 16 hex digits> <48-byte pre-master secret>`.
//! Taken: `CLIENT_RANDOM`, `PMS_CLIENT_RANDOM`, `RSA`, and the TLS 1.3
//! traffic and exporter secrets (`CLIENT_EARLY_TRAFFIC_SECRET` included).
//! Lines starting with `#` and blank lines are skipped silently; lines that
//! cannot be read are skipped with a [`KeyLogWarning`] naming the source and
//! line number; well-formed lines of labels that protect no record
//! (`EARLY_EXPORTER_SECRET`, `ECH_*`) are counted in one warning per label
//! and source. `CLIENT_/SERVER_TRAFFIC_SECRET_N` (OpenSSL, after each
//! KeyUpdate) are taken silently: the decrypter derives those secrets. Warnings are returned
//! to the caller (nothing is printed here).

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// Secrets type of a pcapng Decryption Secrets Block holding a TLS key log
/// ("TLSK", pcapng §4.7).
pub const DSB_TLS_KEY_LOG: u32 = 0x544c_534b;

/// Most warnings kept from one source; the rest are counted in a last one.
const MAX_WARNINGS_PER_SOURCE: usize = 100;

/// Longest secret accepted (bytes): TLS 1.3 secrets are one hash long (32
/// or 48), the TLS ≤ 1.2 master secret is 48; a pre-master secret of a
/// finite-field Diffie-Hellman exchange is as long as its prime (up to
/// 8192 bits).
const MAX_SECRET_LEN: usize = 1024;

/// Line numbers quoted in the warning for a label that is not used.
const LINES_QUOTED: usize = 5;

/// A secret's bytes. `Debug` shows only the length.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: &[u8]) -> Secret {
        Secret(bytes.to_vec())
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

/// The labels of the key log format that carry a secret this crate uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretLabel {
    /// `CLIENT_RANDOM`: the TLS ≤ 1.2 master secret (48 bytes).
    ClientRandom,
    /// `PMS_CLIENT_RANDOM`: the TLS ≤ 1.2 pre-master secret, from which the
    /// master secret is derived once the hellos (and, with
    /// extended_master_secret, the handshake up to ClientKeyExchange) are
    /// read.
    PreMasterSecret,
    ClientEarlyTrafficSecret,
    ClientHandshakeTrafficSecret,
    ServerHandshakeTrafficSecret,
    ClientTrafficSecret0,
    ServerTrafficSecret0,
    ExporterSecret,
}

impl SecretLabel {
    pub const ALL: [SecretLabel; 8] = [
        SecretLabel::ClientRandom,
        SecretLabel::PreMasterSecret,
        SecretLabel::ClientEarlyTrafficSecret,
        SecretLabel::ClientHandshakeTrafficSecret,
        SecretLabel::ServerHandshakeTrafficSecret,
        SecretLabel::ClientTrafficSecret0,
        SecretLabel::ServerTrafficSecret0,
        SecretLabel::ExporterSecret,
    ];

    /// The label as written in a key log.
    pub fn as_str(self) -> &'static str {
        match self {
            SecretLabel::ClientRandom => "CLIENT_RANDOM",
            SecretLabel::PreMasterSecret => "PMS_CLIENT_RANDOM",
            SecretLabel::ClientEarlyTrafficSecret => "CLIENT_EARLY_TRAFFIC_SECRET",
            SecretLabel::ClientHandshakeTrafficSecret => "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            SecretLabel::ServerHandshakeTrafficSecret => "SERVER_HANDSHAKE_TRAFFIC_SECRET",
            SecretLabel::ClientTrafficSecret0 => "CLIENT_TRAFFIC_SECRET_0",
            SecretLabel::ServerTrafficSecret0 => "SERVER_TRAFFIC_SECRET_0",
            SecretLabel::ExporterSecret => "EXPORTER_SECRET",
        }
    }

    fn parse(s: &str) -> Option<SecretLabel> {
        SecretLabel::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// Lengths a secret of this label may have.
    fn valid_len(self, len: usize) -> bool {
        match self {
            SecretLabel::ClientRandom => len == 48,
            SecretLabel::PreMasterSecret => (1..=MAX_SECRET_LEN).contains(&len),
            _ => len == 32 || len == 48,
        }
    }
}

impl fmt::Display for SecretLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Labels that are well formed but carry nothing record decryption
/// needs: skipped, and counted in one warning per label and source.
const UNUSED_LABELS: [(&str, &str); 3] = [
    (
        "EARLY_EXPORTER_SECRET",
        "an exporter secret protects no record",
    ),
    (
        "ECH_SECRET",
        "Encrypted Client Hello secrets: the outer hello identifies the connection",
    ),
    (
        "ECH_CONFIG",
        "Encrypted Client Hello secrets: the outer hello identifies the connection",
    ),
];

/// Labels taken without a word although not stored: OpenSSL logs the
/// secrets after each KeyUpdate, which the decrypter derives from
/// `*_TRAFFIC_SECRET_0` itself (RFC 8446 §7.2).
const DERIVED_LABELS: [&str; 2] = ["CLIENT_TRAFFIC_SECRET_N", "SERVER_TRAFFIC_SECRET_N"];

/// The `RSA` label: the pre-master secret of an RSA key exchange, keyed by
/// the first 8 bytes of its encryption in the ClientKeyExchange.
const RSA_LABEL: &[u8] = b"RSA";

/// Everything a key log holds for one client random.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    /// TLS ≤ 1.2 master secret (`CLIENT_RANDOM`).
    pub master_secret: Option<Secret>,
    /// TLS ≤ 1.2 pre-master secret (`PMS_CLIENT_RANDOM`).
    pub pre_master_secret: Option<Secret>,
    pub client_early_traffic_secret: Option<Secret>,
    pub client_handshake_traffic_secret: Option<Secret>,
    pub server_handshake_traffic_secret: Option<Secret>,
    pub client_traffic_secret_0: Option<Secret>,
    pub server_traffic_secret_0: Option<Secret>,
    pub exporter_secret: Option<Secret>,
}

impl Secrets {
    pub fn get(&self, label: SecretLabel) -> Option<&Secret> {
        self.slot(label).as_ref()
    }

    fn slot(&self, label: SecretLabel) -> &Option<Secret> {
        match label {
            SecretLabel::ClientRandom => &self.master_secret,
            SecretLabel::PreMasterSecret => &self.pre_master_secret,
            SecretLabel::ClientEarlyTrafficSecret => &self.client_early_traffic_secret,
            SecretLabel::ClientHandshakeTrafficSecret => &self.client_handshake_traffic_secret,
            SecretLabel::ServerHandshakeTrafficSecret => &self.server_handshake_traffic_secret,
            SecretLabel::ClientTrafficSecret0 => &self.client_traffic_secret_0,
            SecretLabel::ServerTrafficSecret0 => &self.server_traffic_secret_0,
            SecretLabel::ExporterSecret => &self.exporter_secret,
        }
    }

    fn slot_mut(&mut self, label: SecretLabel) -> &mut Option<Secret> {
        match label {
            SecretLabel::ClientRandom => &mut self.master_secret,
            SecretLabel::PreMasterSecret => &mut self.pre_master_secret,
            SecretLabel::ClientEarlyTrafficSecret => &mut self.client_early_traffic_secret,
            SecretLabel::ClientHandshakeTrafficSecret => &mut self.client_handshake_traffic_secret,
            SecretLabel::ServerHandshakeTrafficSecret => &mut self.server_handshake_traffic_secret,
            SecretLabel::ClientTrafficSecret0 => &mut self.client_traffic_secret_0,
            SecretLabel::ServerTrafficSecret0 => &mut self.server_traffic_secret_0,
            SecretLabel::ExporterSecret => &mut self.exporter_secret,
        }
    }
}

/// Why a key log line (or block) was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyLogProblem {
    /// The first field is no label this crate knows (shown cut to 40 bytes).
    UnknownLabel(String),
    /// Not `LABEL CLIENT_RANDOM SECRET`: this many fields.
    FieldCount(usize),
    /// The client random is not 64 hex digits.
    BadClientRandom,
    /// The secret is not an even number of hex digits.
    BadSecretHex,
    /// The secret has a length its label cannot have.
    BadSecretLength { label: SecretLabel, len: usize },
    /// The same label and client random came earlier with another secret;
    /// the first one is kept.
    Conflicting { label: SecretLabel },
    /// A Decryption Secrets Block of another kind (WireGuard, ZigBee…).
    UnsupportedDsbType(u32),
    /// Well-formed lines of a label that decryption does not use: how many,
    /// the first line numbers, and why.
    NotUsed {
        label: &'static str,
        count: usize,
        lines: Vec<usize>,
        why: &'static str,
    },
    /// An `RSA` line whose first field is not 16 hex digits (the first 8
    /// bytes of the encrypted pre-master secret).
    BadRsaPrefix,
    /// More lines were skipped than the warnings kept tell.
    MoreSkipped(usize),
}

impl fmt::Display for KeyLogProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyLogProblem::UnknownLabel(l) => write!(f, "unknown label {l:?}, line skipped"),
            KeyLogProblem::FieldCount(n) => write!(
                f,
                "{n} field(s) where LABEL CLIENT_RANDOM SECRET was expected, line skipped"
            ),
            KeyLogProblem::BadClientRandom => {
                f.write_str("client random is not 64 hex digits, line skipped")
            }
            KeyLogProblem::BadSecretHex => f.write_str("secret is not hex, line skipped"),
            KeyLogProblem::BadSecretLength { label, len } => {
                write!(f, "{len}-byte secret cannot be a {label}, line skipped")
            }
            KeyLogProblem::Conflicting { label } => write!(
                f,
                "a different {label} for this client random came earlier (kept), line skipped"
            ),
            KeyLogProblem::UnsupportedDsbType(t) => write!(
                f,
                "Decryption Secrets Block of type 0x{t:08x} is not a TLS key log, skipped"
            ),
            KeyLogProblem::MoreSkipped(n) => write!(f, "{n} more line(s) skipped"),
            KeyLogProblem::NotUsed {
                label,
                count,
                lines,
                why,
            } => {
                let shown: Vec<String> = lines.iter().map(usize::to_string).collect();
                let more = if *count > lines.len() { ", …" } else { "" };
                write!(
                    f,
                    "{count} {label} line(s) skipped (line {}{more}): {why}",
                    shown.join(", ")
                )
            }
            KeyLogProblem::BadRsaPrefix => f.write_str(
                "RSA line without the 16 hex digits of the encrypted pre-master secret's \
                 first 8 bytes, line skipped",
            ),
        }
    }
}

/// A line or block that was skipped, and where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLogWarning {
    /// The file name, or what the caller called the source (e.g.
    /// `capture.pcapng (DSB 1)`).
    pub source: String,
    /// 1-based line number; `None` for a problem with the whole source.
    pub line: Option<usize>,
    pub problem: KeyLogProblem,
}

impl fmt::Display for KeyLogWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(n) => write!(f, "{}:{n}: {}", self.source, self.problem),
            None => write!(f, "{}: {}", self.source, self.problem),
        }
    }
}

/// A key log file could not be read at all.
#[derive(Debug)]
#[non_exhaustive]
pub enum KeyLogError {
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl fmt::Display for KeyLogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyLogError::Io { path, source } => write!(f, "cannot read key log {path}: {source}"),
        }
    }
}

impl std::error::Error for KeyLogError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            KeyLogError::Io { source, .. } => Some(source),
        }
    }
}

/// Secrets by client random, merged from any number of sources.
#[derive(Debug, Clone, Default)]
pub struct KeyLog {
    by_random: HashMap<[u8; 32], Secrets>,
    /// `RSA` lines: pre-master secrets by the first 8 bytes of their
    /// encryption (the ClientKeyExchange of an RSA key exchange).
    rsa: HashMap<[u8; 8], Secret>,
    /// Secret lines taken (duplicates of a known secret included).
    lines: usize,
}

impl KeyLog {
    pub fn new() -> KeyLog {
        KeyLog::default()
    }

    /// Reads a key log file. The warnings name the file and line of every
    /// line skipped.
    pub fn from_file(path: impl AsRef<Path>) -> Result<(KeyLog, Vec<KeyLogWarning>), KeyLogError> {
        let mut log = KeyLog::new();
        let warnings = log.add_file(path)?;
        Ok((log, warnings))
    }

    /// Parses key log text; `source` names it in the warnings.
    pub fn parse(text: &str, source: &str) -> (KeyLog, Vec<KeyLogWarning>) {
        let mut log = KeyLog::new();
        let warnings = log.add_bytes(text.as_bytes(), source);
        (log, warnings)
    }

    /// Adds the secrets of a key log file.
    pub fn add_file(&mut self, path: impl AsRef<Path>) -> Result<Vec<KeyLogWarning>, KeyLogError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let data = std::fs::read(path).map_err(|source| KeyLogError::Io {
            path: name.clone(),
            source,
        })?;
        Ok(self.add_bytes(&data, &name))
    }

    /// Adds the secrets of key log text (bytes: a line that is not UTF-8 is
    /// skipped with a warning like any other unreadable line).
    pub fn add_bytes(&mut self, data: &[u8], source: &str) -> Vec<KeyLogWarning> {
        let mut warnings = Vec::new();
        let mut more = 0usize;
        let mut unused: Vec<(usize, usize, Vec<usize>)> = Vec::new();
        for (n, line) in data.split(|&b| b == b'\n').enumerate() {
            let result = self.add_line(line);
            if let Err(LineProblem::Unused(i)) = result {
                match unused.iter_mut().find(|u| u.0 == i) {
                    Some(u) => {
                        u.1 += 1;
                        if u.2.len() < LINES_QUOTED {
                            u.2.push(n + 1);
                        }
                    }
                    None => unused.push((i, 1, vec![n + 1])),
                }
                continue;
            }
            if let Err(LineProblem::Bad(problem)) = result {
                if warnings.len() < MAX_WARNINGS_PER_SOURCE {
                    warnings.push(KeyLogWarning {
                        source: source.to_owned(),
                        line: Some(n + 1),
                        problem,
                    });
                } else {
                    more += 1;
                }
            }
        }
        if more > 0 {
            warnings.push(KeyLogWarning {
                source: source.to_owned(),
                line: None,
                problem: KeyLogProblem::MoreSkipped(more),
            });
        }
        for (i, count, lines) in unused {
            let (label, why) = UNUSED_LABELS.get(i).copied().unwrap_or(("?", ""));
            warnings.push(KeyLogWarning {
                source: source.to_owned(),
                line: None,
                problem: KeyLogProblem::NotUsed {
                    label,
                    count,
                    lines,
                    why,
                },
            });
        }
        warnings
    }

    /// Adds the secrets of a pcapng Decryption Secrets Block. Only TLS key
    /// logs ([`DSB_TLS_KEY_LOG`]) are read; other types give one warning.
    pub fn add_dsb(&mut self, secrets_type: u32, data: &[u8], source: &str) -> Vec<KeyLogWarning> {
        if secrets_type != DSB_TLS_KEY_LOG {
            return vec![KeyLogWarning {
                source: source.to_owned(),
                line: None,
                problem: KeyLogProblem::UnsupportedDsbType(secrets_type),
            }];
        }
        // the block's data may be padded with NULs
        let end = data
            .iter()
            .rposition(|&b| b != 0)
            .map_or(0, |p| p.saturating_add(1));
        self.add_bytes(data.get(..end).unwrap_or(data), source)
    }

    /// Adds every secret of `other` (the first secret for a label wins).
    pub fn merge(&mut self, other: &KeyLog) {
        for (prefix, pms) in &other.rsa {
            self.rsa.entry(*prefix).or_insert_with(|| pms.clone());
        }
        for (random, secrets) in &other.by_random {
            let mine = self.by_random.entry(*random).or_default();
            for label in SecretLabel::ALL {
                if mine.get(label).is_none() {
                    if let Some(s) = secrets.get(label) {
                        *mine.slot_mut(label) = Some(s.clone());
                    }
                }
            }
        }
        self.lines = self.lines.saturating_add(other.lines);
    }

    /// The secrets logged for a connection's ClientHello.random.
    pub fn lookup(&self, client_random: &[u8; 32]) -> Option<&Secrets> {
        self.by_random.get(client_random)
    }

    /// The pre-master secret of an `RSA` line whose key is the first 8
    /// bytes of `encrypted_pre_master` (a ClientKeyExchange's content).
    pub fn lookup_rsa(&self, encrypted_pre_master: &[u8]) -> Option<&Secret> {
        let prefix: [u8; 8] = encrypted_pre_master.get(..8)?.try_into().ok()?;
        self.rsa.get(&prefix)
    }

    /// True when `RSA` lines were read: any TLS ≤ 1.2 connection with an
    /// RSA key exchange may be decrypted once its ClientKeyExchange is read.
    pub fn has_rsa(&self) -> bool {
        !self.rsa.is_empty()
    }

    /// Connections (client randoms, and `RSA` pre-master secrets) with at
    /// least one secret.
    pub fn len(&self) -> usize {
        self.by_random.len() + self.rsa.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_random.is_empty() && self.rsa.is_empty()
    }

    /// One line; `Ok(())` also for comments and blank lines.
    fn add_line(&mut self, line: &[u8]) -> Result<(), LineProblem> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let trimmed = trim_ascii(line);
        if trimmed.is_empty() || trimmed.first() == Some(&b'#') {
            return Ok(());
        }
        let fields: Vec<&[u8]> = trimmed
            .split(|b| b.is_ascii_whitespace())
            .filter(|f| !f.is_empty())
            .collect();
        let label_text = fields.first().copied().unwrap_or(&[]);
        if label_text == RSA_LABEL {
            return self.add_rsa_line(&fields).map_err(LineProblem::Bad);
        }
        let label = match std::str::from_utf8(label_text)
            .ok()
            .and_then(SecretLabel::parse)
        {
            Some(l) => l,
            None => {
                if DERIVED_LABELS.iter().any(|l| l.as_bytes() == label_text) {
                    return Ok(());
                }
                if let Some(i) = UNUSED_LABELS
                    .iter()
                    .position(|(l, _)| l.as_bytes() == label_text)
                {
                    return Err(LineProblem::Unused(i));
                }
                let shown = label_text.get(..40).unwrap_or(label_text);
                return Err(LineProblem::Bad(KeyLogProblem::UnknownLabel(
                    String::from_utf8_lossy(shown).into_owned(),
                )));
            }
        };
        self.add_secret_line(label, &fields)
            .map_err(LineProblem::Bad)
    }

    /// `RSA <first 8 bytes of the encrypted PMS> <48-byte PMS>`.
    fn add_rsa_line(&mut self, fields: &[&[u8]]) -> Result<(), KeyLogProblem> {
        let [_, prefix_hex, secret_hex] = fields else {
            return Err(KeyLogProblem::FieldCount(fields.len()));
        };
        let mut prefix = [0u8; 8];
        if !decode_hex(prefix_hex, &mut prefix) {
            return Err(KeyLogProblem::BadRsaPrefix);
        }
        let mut pms = [0u8; 48];
        if secret_hex.len() % 2 != 0 || !secret_hex.iter().all(u8::is_ascii_hexdigit) {
            return Err(KeyLogProblem::BadSecretHex);
        }
        if !decode_hex(secret_hex, &mut pms) {
            return Err(KeyLogProblem::BadSecretLength {
                label: SecretLabel::PreMasterSecret,
                len: secret_hex.len() / 2,
            });
        }
        match self.rsa.get(&prefix) {
            Some(old) if old.as_bytes() != pms => {
                return Err(KeyLogProblem::Conflicting {
                    label: SecretLabel::PreMasterSecret,
                })
            }
            Some(_) => {}
            None => {
                self.rsa.insert(prefix, Secret::new(&pms));
            }
        }
        self.lines = self.lines.saturating_add(1);
        Ok(())
    }

    /// `LABEL <client random> <secret>`.
    fn add_secret_line(
        &mut self,
        label: SecretLabel,
        fields: &[&[u8]],
    ) -> Result<(), KeyLogProblem> {
        let [_, random_hex, secret_hex] = fields else {
            return Err(KeyLogProblem::FieldCount(fields.len()));
        };
        let mut random = [0u8; 32];
        if random_hex.len() != 64 || !decode_hex(random_hex, &mut random) {
            return Err(KeyLogProblem::BadClientRandom);
        }
        if secret_hex.len() % 2 != 0 || !secret_hex.iter().all(u8::is_ascii_hexdigit) {
            return Err(KeyLogProblem::BadSecretHex);
        }
        if secret_hex.len() > 2 * MAX_SECRET_LEN {
            return Err(KeyLogProblem::BadSecretLength {
                label,
                len: secret_hex.len() / 2,
            });
        }
        let mut secret = vec![0u8; secret_hex.len() / 2];
        if !decode_hex(secret_hex, &mut secret) {
            return Err(KeyLogProblem::BadSecretHex);
        }
        if !label.valid_len(secret.len()) {
            return Err(KeyLogProblem::BadSecretLength {
                label,
                len: secret.len(),
            });
        }
        let slot = self.by_random.entry(random).or_default().slot_mut(label);
        match slot {
            Some(old) if old.as_bytes() != secret.as_slice() => {
                return Err(KeyLogProblem::Conflicting { label })
            }
            Some(_) => {}
            None => *slot = Some(Secret(secret)),
        }
        self.lines = self.lines.saturating_add(1);
        Ok(())
    }
}

/// Why a line was not taken.
enum LineProblem {
    /// A label of [`UNUSED_LABELS`] (its index).
    Unused(usize),
    Bad(KeyLogProblem),
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |p| p + 1);
    b.get(start..end).unwrap_or(&[])
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes `hex` (exactly `2 * out.len()` digits) into `out`.
fn decode_hex(hex: &[u8], out: &mut [u8]) -> bool {
    if hex.len() != out.len() * 2 {
        return false;
    }
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        match pair {
            [h, l] => match (hex_val(*h), hex_val(*l)) {
                (Some(h), Some(l)) => *o = h << 4 | l,
                _ => return false,
            },
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests;
