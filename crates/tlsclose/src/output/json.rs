//! A flow's JSON line, written by hand into a reused byte buffer, to the
//! byte what serde_json would write (tests hold each piece to it): keys as
//! they are (they need no escaping); strings copied straight when nothing
//! in them needs escaping (else serde_json escapes them); counts with itoa
//! and floats with zmij, the crates serde_json calls; enums, addresses,
//! Wireshark filters and alert labels, which never need escaping, straight
//! into the line. No String or `serde_json::Value` is built per flow.
//! Escaping every key and value byte by byte was 13 % of the instructions
//! on the tiny benchmark capture; the formatting machinery for addresses,
//! filters and floats another 30 % of the line's cost.
//!
//! The field order is the JSON contract (`docs/schema.json`). A field added
//! to `FlowReport` does not compile here until it is written (the report is
//! destructured without `..`), nor in the CSV writer.

use crate::text::words::NoteText;
use serde::Serialize;
use std::fmt::{Display, Write as _};
use std::io;
use tlsclose_analysis::FlowReport;
use tlsclose_audit::{FlowId, WiresharkFilter};

/// Reused buffers of the JSON writer.
#[derive(Default)]
pub struct JsonLine {
    /// The line being written.
    pub bytes: Vec<u8>,
    /// Times as ISO 8601 strings instead of epoch seconds (`--time-format
    /// iso`).
    pub iso: bool,
    /// A Display value being formatted.
    text: String,
}

/// A float as serde_json writes it: the shortest text that reads back the
/// same (zmij, the crate serde_json calls), or null when not finite.
fn float(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        out.extend_from_slice(zmij::Buffer::new().format_finite(v).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// A string as JSON: as it is when no byte needs escaping (serde_json
/// escapes control characters, `"` and `\\` only).
fn string(out: &mut Vec<u8>, s: &str) -> io::Result<()> {
    let plain = s
        .as_bytes()
        .iter()
        .fold(true, |ok, &b| ok & (b >= 0x20) & (b != b'"') & (b != b'\\'));
    if plain {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        Ok(())
    } else {
        serde_json::to_writer(out, s).map_err(io::Error::from)
    }
}

impl JsonLine {
    /// A writer; `iso`: times as ISO 8601 (`--time-format iso`).
    pub fn new(iso: bool) -> JsonLine {
        JsonLine {
            iso,
            ..JsonLine::default()
        }
    }

    /// `"key":`, after a comma unless it is the object's first. Inlined,
    /// so that each key is a copy of known length, not a call to `memcpy`.
    #[inline(always)]
    fn key(&mut self, k: &str) {
        if self.bytes.last().is_some_and(|&b| b != b'{') {
            self.bytes.push(b',');
        }
        self.bytes.push(b'"');
        self.bytes.extend_from_slice(k.as_bytes());
        self.bytes.extend_from_slice(b"\":");
    }

    #[inline(always)]
    fn ser(&mut self, k: &str, v: &impl Serialize) -> io::Result<()> {
        self.key(k);
        serde_json::to_writer(&mut self.bytes, v).map_err(io::Error::from)
    }

    #[inline(always)]
    fn str(&mut self, k: &str, v: &str) -> io::Result<()> {
        self.key(k);
        string(&mut self.bytes, v)
    }

    fn opt_str(&mut self, k: &str, v: Option<&str>) -> io::Result<()> {
        match v {
            Some(v) => self.str(k, v),
            None => self.ser(k, &()),
        }
    }

    /// A Display value as a JSON string, formatted in the reused String.
    fn display_value(&mut self, v: impl Display) -> io::Result<()> {
        self.text.clear();
        let _ = write!(self.text, "{v}");
        string(&mut self.bytes, &self.text)
    }

    /// A capture time: epoch seconds, or ISO 8601 in UTC.
    fn time(&mut self, k: &str, t: f64) -> io::Result<()> {
        self.key(k);
        if self.iso {
            self.display_value(Iso(t))
        } else {
            float(&mut self.bytes, t);
            Ok(())
        }
    }

    /// Seconds, or null.
    #[inline(always)]
    fn opt_float(&mut self, k: &str, v: Option<f64>) {
        self.key(k);
        match v {
            Some(v) => float(&mut self.bytes, v),
            None => self.bytes.extend_from_slice(b"null"),
        }
    }

    /// Text that needs no escaping (an address, a Wireshark filter, an
    /// alert's label: a test holds each equal to its escaped self) as a
    /// JSON string, written straight into the line.
    #[inline(always)]
    fn plain(&mut self, write: impl FnOnce(&mut Vec<u8>) -> std::fmt::Result) {
        self.bytes.push(b'"');
        let _ = write(&mut self.bytes);
        self.bytes.push(b'"');
    }

    /// A name that needs no escaping (an enum's `as_str`, which a test
    /// holds equal to its serde name).
    #[inline(always)]
    fn word(&mut self, k: &str, v: &'static str) {
        self.key(k);
        self.bytes.push(b'"');
        self.bytes.extend_from_slice(v.as_bytes());
        self.bytes.push(b'"');
    }

    /// A count, by itoa as serde_json writes it.
    #[inline(always)]
    fn num(&mut self, k: &str, v: u64) {
        self.key(k);
        self.count(v);
    }

    /// A count's digits (a value without its key).
    #[inline(always)]
    fn count(&mut self, v: u64) {
        self.bytes
            .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }

    #[inline(always)]
    fn opt_num(&mut self, k: &str, v: Option<u64>) {
        match v {
            Some(v) => self.num(k, v),
            None => {
                self.key(k);
                self.bytes.extend_from_slice(b"null");
            }
        }
    }

    #[inline(always)]
    fn bool(&mut self, k: &str, v: bool) {
        self.key(k);
        self.bytes
            .extend_from_slice(if v { b"true" } else { b"false" });
    }

    /// The flow's line (without the newline) in `self.bytes`; `id`: its
    /// number in the run (`flow`, the table's `#`).
    pub fn write(&mut self, id: FlowId, r: &FlowReport) -> io::Result<()> {
        self.bytes.clear();
        // every field, so that a new one is not forgotten
        let FlowReport {
            file,
            client,
            server,
            ending,
            closer,
            client_close_notify,
            server_close_notify,
            close_notify_answered,
            initiator,
            keepalive_race,
            race_window_s,
            race_frame,
            idle_before_first_signal,
            version,
            sni,
            alpn,
            cipher,
            confidence,
            decrypted,
            alerts,
            idle_before_close,
            teardown,
            teardown_frame,
            first_frame,
            last_frame,
            first_time,
            last_time,
            packets,
            app_bytes,
            gap,
            incomplete,
            midstream,
            notes,
            ladder: _, // not part of the line (--flow adds it, in words)
            // written at the end (httpfields.rs)
            http: _,
            close_kind: _,
            response_truncated: _,
            race_request: _,
        } = r;
        self.bytes.push(b'{');
        self.num("flow", id);
        self.str("file", file)?;
        self.key("client");
        self.plain(|b| client.write_to(b));
        self.key("server");
        self.plain(|b| server.write_to(b));
        self.word("ending", ending.as_str());
        self.word("closer", closer.as_str());
        self.word("client_close_notify", client_close_notify.as_str());
        self.word("server_close_notify", server_close_notify.as_str());
        self.bool("close_notify_answered", *close_notify_answered);
        self.word("initiator", initiator.as_str());
        self.bool("keepalive_race", *keepalive_race);
        self.opt_float("race_window_s", *race_window_s);
        self.opt_num("race_frame", *race_frame);
        self.opt_float("idle_before_first_signal", *idle_before_first_signal);
        // a registry name as it is (the Display serde would go through
        // gives the same text); the rest through serde
        match version.and_then(|v| match v {
            tlsclose_analysis::Version::Negotiated(p) => p.name(),
            tlsclose_analysis::Version::Sslv2ClientHello => None,
        }) {
            Some(name) => self.str("version", name)?,
            None => self.ser("version", version)?,
        }
        self.opt_str("sni", sni.as_deref())?;
        self.opt_str("alpn", alpn.as_deref())?;
        match cipher.and_then(|c| c.0.name()) {
            Some(name) => self.str("cipher", name)?,
            None => self.ser("cipher", cipher)?,
        }
        self.word("confidence", confidence.as_str());
        self.bool("decrypted", *decrypted);
        self.key("alerts");
        self.bytes.push(b'{');
        for (k, list) in [("client", &alerts.client), ("server", &alerts.server)] {
            self.key(k);
            self.bytes.push(b'[');
            for (i, a) in list.iter().enumerate() {
                if i > 0 {
                    self.bytes.push(b',');
                }
                self.plain(|b| a.write_to(b));
            }
            self.bytes.push(b']');
        }
        self.bytes.push(b'}');
        self.opt_float("idle_before_close", *idle_before_close);
        self.key("teardown");
        match teardown {
            Some(t) => {
                self.bytes.push(b'{');
                self.word("kind", t.kind.as_str());
                self.word("by", t.by.as_str());
                self.num("frame", t.frame);
                self.time("time", t.time)?;
                self.bytes.push(b'}');
            }
            None => self.bytes.extend_from_slice(b"null"),
        }
        self.opt_num("teardown_frame", *teardown_frame);
        self.num("first_frame", *first_frame);
        self.num("last_frame", *last_frame);
        self.time("first_time", *first_time)?;
        self.time("last_time", *last_time)?;
        self.num("packets", *packets);
        self.key("app_bytes");
        self.bytes.push(b'[');
        self.count(app_bytes[0]);
        self.bytes.push(b',');
        self.count(app_bytes[1]);
        self.bytes.push(b']');
        self.bool("gap", *gap);
        self.bool("incomplete", *incomplete);
        self.bool("midstream", *midstream);
        self.key("notes");
        self.bytes.push(b'[');
        for (i, n) in notes.iter().enumerate() {
            if i > 0 {
                self.bytes.push(b',');
            }
            self.display_value(NoteText(n))?;
        }
        self.bytes.push(b']');
        self.key("wireshark_filter");
        self.plain(|b| WiresharkFilter::of(r).write_to(b));
        for (k, v) in crate::output::httpfields::NAMES
            .iter()
            .zip(crate::output::httpfields::fields(r))
        {
            use crate::output::httpfields::Value;
            match v {
                Value::Null => self.ser(k, &())?,
                Value::Str(s) => self.str(k, &s)?,
                Value::Static(s) => self.str(k, s)?,
                Value::Num(n) => self.ser(k, &n)?,
                Value::Bool(b) => self.bool(k, b),
            }
        }
        self.bytes.push(b'}');
        Ok(())
    }
}

impl JsonLine {
    /// The flow's line with more fields at its end (`--flow`: its ladder),
    /// in the stream's key order.
    /// `more`: keys and their values as JSON text.
    pub fn write_with(
        &mut self,
        id: FlowId,
        r: &FlowReport,
        more: &[(&str, Vec<u8>)],
    ) -> io::Result<()> {
        self.write(id, r)?;
        self.bytes.pop(); // the closing brace
        for (k, v) in more {
            self.key(k);
            self.bytes.extend_from_slice(v);
        }
        self.bytes.push(b'}');
        Ok(())
    }
}

/// A flow's JSON object as a `serde_json::Value` (tests compare the CSV
/// with it).
#[cfg(test)]
pub fn value(id: FlowId, r: &FlowReport) -> io::Result<serde_json::Value> {
    let mut line = JsonLine::default();
    line.write(id, r)?;
    serde_json::from_slice(&line.bytes).map_err(io::Error::from)
}

/// A capture time (epoch seconds) as ISO 8601 in UTC, to the microsecond:
/// `2026-11-23T10:17:38.267995Z`.
pub struct Iso(pub f64);

impl Display for Iso {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let us = (self.0 * 1e6).round() as i64;
        let secs = us.div_euclid(1_000_000);
        let micros = us.rem_euclid(1_000_000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        // days since 1970-01-01 to a civil date (Howard Hinnant's algorithm)
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}Z",
            sod / 3600,
            sod % 3600 / 60,
            sod % 60
        )
    }
}

/// One ladder line as `--flow --format json` gives it.
#[derive(Serialize)]
pub struct LadderLine {
    pub from: tlsclose_analysis::Role,
    pub frame: u64,
    /// Epoch seconds, or an ISO 8601 string (`--time-format iso`).
    pub time: serde_json::Value,
    pub what: String,
}

#[cfg(test)]
mod tests {
    use super::{float, string, Iso};
    use proptest::prelude::*;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    use tlsclose_analysis::{AlertLabel, Endpoint};
    use tlsclose_audit::WiresharkFilter;

    /// What the line writes straight (`JsonLine::plain`) is what escaping
    /// its Display text would give.
    fn plain_is_escaped(what: &str, write: impl Fn(&mut Vec<u8>) -> std::fmt::Result) {
        let mut raw = Vec::new();
        assert!(write(&mut raw).is_ok());
        let text = String::from_utf8_lossy(&raw).into_owned();
        let mut via_string = Vec::new();
        assert!(string(&mut via_string, &text).is_ok());
        let mut plain = vec![b'"'];
        plain.extend_from_slice(&raw);
        plain.push(b'"');
        assert_eq!(plain, via_string, "{what}");
        assert_eq!(
            plain,
            serde_json::to_vec(&text).unwrap_or_default(),
            "{what}"
        );
    }

    fn ip_of(v4: u32, v6: u128, six: bool) -> IpAddr {
        if six {
            IpAddr::V6(Ipv6Addr::from(v6))
        } else {
            IpAddr::V4(Ipv4Addr::from(v4))
        }
    }

    proptest! {
        /// Floats come out as serde_json writes them, not finite ones
        /// (null) included.
        #[test]
        fn floats_are_serde_jsons(bits: u64, small in -1e10f64..1e10) {
            for v in [f64::from_bits(bits), small, small.round(), small / 1e6] {
                let mut ours = Vec::new();
                float(&mut ours, v);
                prop_assert_eq!(ours, serde_json::to_vec(&v).unwrap_or_default(), "{}", v);
            }
        }

        /// Endpoints and Wireshark filters, IPv4 and IPv6 (mapped and
        /// compressed forms), need no escaping.
        #[test]
        fn addresses_and_filters_need_no_escaping(
            a4: u32, a6: u128, b4: u32, b6: u128, six_a: bool, six_b: bool,
            pa: u16, pb: u16, first: u64, last: u64, mapped: bool,
        ) {
            let a6 = if mapped { a6 & 0xffff_ffff | 0xffff_0000_0000 } else { a6 };
            let a = Endpoint { ip: ip_of(a4, a6, six_a), port: pa };
            let b = Endpoint { ip: ip_of(b4, b6, six_b), port: pb };
            plain_is_escaped("endpoint", |out| a.write_to(out));
            let f = WiresharkFilter { a, b, first_frame: first, last_frame: last };
            plain_is_escaped("filter", |out| f.write_to(out));
        }
    }

    /// Every alert label, read (every description at both levels and an
    /// unknown level), encrypted or inferred, needs no escaping.
    #[test]
    fn alert_labels_need_no_escaping() {
        use tlsclose_tls::{Alert, AlertDescription, AlertLevel};
        let mut labels = vec![
            AlertLabel::Encrypted,
            AlertLabel::InferredCloseNotify,
            AlertLabel::InferredFatal,
        ];
        for level in [1u8, 2, 7] {
            for d in 0..=255u8 {
                labels.push(AlertLabel::Read(Alert {
                    level: AlertLevel(level),
                    description: AlertDescription(d),
                }));
            }
        }
        for l in labels {
            plain_is_escaped(&l.to_string(), |out| l.write_to(out));
        }
    }

    #[test]
    fn iso_times_are_utc_to_the_microsecond() {
        assert_eq!(Iso(0.0).to_string(), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            Iso(951_782_400.5).to_string(),
            "2000-02-29T00:00:00.500000Z"
        );
        assert_eq!(
            Iso(1_795_505_858.267_995).to_string(),
            "2026-11-24T07:37:38.267995Z"
        );
        assert_eq!(Iso(-1.0).to_string(), "1969-12-31T23:59:59.000000Z");
        assert_eq!(
            Iso(4_102_444_799.999_999).to_string(),
            "2099-12-31T23:59:59.999999Z"
        );
    }

    /// The enums written by their `as_str` are written as serde names
    /// them, for every variant.
    #[test]
    fn enum_words_are_serde_names() {
        use tlsclose_analysis::{CloseNotify, Closer, Confidence, Ending, Role, TeardownKind};
        fn same<T: serde::Serialize>(v: T, word: &str) {
            let serde = serde_json::to_string(&v).unwrap_or_default();
            assert_eq!(serde, format!("\"{word}\""));
        }
        for e in Ending::ALL {
            same(e, e.as_str());
        }
        for c in [Closer::Client, Closer::Server, Closer::None] {
            same(c, c.as_str());
        }
        for c in [CloseNotify::Seen, CloseNotify::Inferred, CloseNotify::None] {
            same(c, c.as_str());
        }
        for c in [Confidence::Certain, Confidence::Likely, Confidence::Unknown] {
            same(c, c.as_str());
        }
        for k in [TeardownKind::Fin, TeardownKind::Rst] {
            same(k, k.as_str());
        }
        for r in [Role::Client, Role::Server] {
            same(r, r.as_str());
        }
    }

    /// Every registry name of a version and a cipher suite written as it
    /// is, as serde writes the report's Version and Cipher.
    #[test]
    fn registry_names_are_serde_text() {
        use tlsclose_analysis::{Cipher, Version};
        use tlsclose_tls::{CipherSuite, ProtocolVersion};
        for &p in ProtocolVersion::KNOWN {
            let serde = serde_json::to_vec(&Version::Negotiated(p)).unwrap_or_default();
            let mut ours = Vec::new();
            assert!(string(&mut ours, p.name().unwrap_or_default()).is_ok());
            assert_eq!(ours, serde, "{p:?}");
        }
        for &c in CipherSuite::KNOWN {
            let serde = serde_json::to_vec(&Cipher(c)).unwrap_or_default();
            let mut ours = Vec::new();
            assert!(string(&mut ours, c.name().unwrap_or_default()).is_ok());
            assert_eq!(ours, serde, "{c:?}");
        }
    }

    /// Strings come out exactly as serde_json writes them, escaped or not.
    #[test]
    fn strings_are_serde_jsons() {
        let mut cases: Vec<String> = vec![
            String::new(),
            "example.com".into(),
            "/tmp/a \"quoted\" path\\x.pcap".into(),
            "tab\there, newline\nthere, bell\u{7}, del\u{7f}".into(),
            "non-ASCII: ñ, 日本, 🦀".into(),
        ];
        // every single character below 0x80 and a few above, alone and inside
        for c in (0u32..0x80).chain([0x80, 0xff, 0x2028, 0xfffd]) {
            if let Some(c) = char::from_u32(c) {
                cases.push(c.to_string());
                cases.push(format!("ab{c}cd"));
            }
        }
        for s in &cases {
            let mut got = Vec::new();
            string(&mut got, s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
            let want = serde_json::to_vec(s).unwrap_or_default();
            assert_eq!(got, want, "{s:?}");
        }
    }
}
