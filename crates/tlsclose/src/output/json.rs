//! A flow's JSON line, written by hand into a reused byte buffer: the
//! keys are written as they are (they need no escaping), strings are copied
//! straight when nothing in them needs escaping (else serde_json escapes
//! them), and numbers, floats and the small enums go through serde_json, so
//! the bytes are exactly serde_json's. No String or `serde_json::Value` is
//! built per flow (Display values are formatted into one reused String).
//! Escaping every key and value byte by byte was 13 % of the instructions
//! on the tiny benchmark capture.
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

    fn display(&mut self, k: &str, v: impl Display) -> io::Result<()> {
        self.key(k);
        self.display_value(v)
    }

    /// A Display value as a JSON string, formatted in the reused String.
    fn display_value(&mut self, v: impl Display) -> io::Result<()> {
        self.text.clear();
        let _ = write!(self.text, "{v}");
        string(&mut self.bytes, &self.text)
    }

    /// A capture time: epoch seconds, or ISO 8601 in UTC.
    fn time(&mut self, k: &str, t: f64) -> io::Result<()> {
        if self.iso {
            self.key(k);
            self.display_value(Iso(t))
        } else {
            self.ser(k, &t)
        }
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
        self.display("client", client)?;
        self.display("server", server)?;
        self.word("ending", ending.as_str());
        self.word("closer", closer.as_str());
        self.word("client_close_notify", client_close_notify.as_str());
        self.word("server_close_notify", server_close_notify.as_str());
        self.bool("close_notify_answered", *close_notify_answered);
        self.word("initiator", initiator.as_str());
        self.bool("keepalive_race", *keepalive_race);
        self.ser("race_window_s", race_window_s)?;
        self.opt_num("race_frame", *race_frame);
        self.ser("idle_before_first_signal", idle_before_first_signal)?;
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
        self.ser("alerts", alerts)?;
        self.ser("idle_before_close", idle_before_close)?;
        match teardown {
            Some(t) if self.iso => {
                self.key("teardown");
                self.bytes.push(b'{');
                self.ser("kind", &t.kind)?;
                self.ser("by", &t.by)?;
                self.ser("frame", &t.frame)?;
                self.time("time", t.time)?;
                self.bytes.push(b'}');
            }
            _ => self.ser("teardown", teardown)?,
        }
        self.opt_num("teardown_frame", *teardown_frame);
        self.num("first_frame", *first_frame);
        self.num("last_frame", *last_frame);
        self.time("first_time", *first_time)?;
        self.time("last_time", *last_time)?;
        self.num("packets", *packets);
        self.ser("app_bytes", app_bytes)?;
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
        self.display("wireshark_filter", WiresharkFilter::of(r))?;
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
    use super::{string, Iso};

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
        use tlsclose_analysis::{CloseNotify, Closer, Confidence, Ending};
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
