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

use crate::words::{NoteText, WiresharkFilter};
use serde::Serialize;
use std::fmt::{Display, Write as _};
use std::io;
use tlsclose_analysis::FlowReport;

/// Reused buffers of the JSON writer.
#[derive(Default)]
pub struct JsonLine {
    /// The line being written.
    pub bytes: Vec<u8>,
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
    /// `"key":`, after a comma unless it is the object's first.
    fn key(&mut self, k: &str) {
        if self.bytes.last().is_some_and(|&b| b != b'{') {
            self.bytes.push(b',');
        }
        self.bytes.push(b'"');
        self.bytes.extend_from_slice(k.as_bytes());
        self.bytes.extend_from_slice(b"\":");
    }

    fn ser(&mut self, k: &str, v: &impl Serialize) -> io::Result<()> {
        self.key(k);
        serde_json::to_writer(&mut self.bytes, v).map_err(io::Error::from)
    }

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

    fn bool(&mut self, k: &str, v: bool) {
        self.key(k);
        self.bytes
            .extend_from_slice(if v { b"true" } else { b"false" });
    }

    /// The flow's line (without the newline) in `self.bytes`.
    pub fn write(&mut self, r: &FlowReport) -> io::Result<()> {
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
        } = r;
        self.bytes.push(b'{');
        self.str("file", file)?;
        self.display("client", client)?;
        self.display("server", server)?;
        self.ser("ending", ending)?;
        self.ser("closer", closer)?;
        self.ser("client_close_notify", client_close_notify)?;
        self.ser("server_close_notify", server_close_notify)?;
        self.bool("close_notify_answered", *close_notify_answered);
        self.ser("initiator", initiator)?;
        self.bool("keepalive_race", *keepalive_race);
        self.ser("race_window_s", race_window_s)?;
        self.ser("race_frame", race_frame)?;
        self.ser("idle_before_first_signal", idle_before_first_signal)?;
        self.ser("version", version)?;
        self.opt_str("sni", sni.as_deref())?;
        self.opt_str("alpn", alpn.as_deref())?;
        self.ser("cipher", cipher)?;
        self.ser("confidence", confidence)?;
        self.bool("decrypted", *decrypted);
        self.ser("alerts", alerts)?;
        self.ser("idle_before_close", idle_before_close)?;
        self.ser("teardown", teardown)?;
        self.ser("teardown_frame", teardown_frame)?;
        self.ser("first_frame", first_frame)?;
        self.ser("last_frame", last_frame)?;
        self.ser("first_time", first_time)?;
        self.ser("last_time", last_time)?;
        self.ser("packets", packets)?;
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
        self.bytes.push(b'}');
        Ok(())
    }
}

/// A flow's JSON object as a `serde_json::Value` (for outputs that add
/// fields to it).
pub fn value(r: &FlowReport) -> io::Result<serde_json::Value> {
    let mut line = JsonLine::default();
    line.write(r)?;
    serde_json::from_slice(&line.bytes).map_err(io::Error::from)
}

/// One ladder line as `--flow --format json` gives it.
#[derive(Serialize)]
pub struct LadderLine {
    pub from: tlsclose_analysis::Role,
    pub frame: u64,
    pub time: f64,
    pub what: String,
}

#[cfg(test)]
mod tests {
    use super::string;

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
