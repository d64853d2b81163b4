//! A flow's JSON line, written straight to the output: serde_json
//! serialises each field in place (addresses, notes and the Wireshark
//! filter through `collect_str`, escaped as they are formatted), so no
//! String or `serde_json::Value` is built per flow.
//!
//! The field order is the JSON contract (`docs/schema.json`). A field added
//! to `FlowReport` does not compile here until it is written (the report is
//! destructured without `..`), nor in the CSV writer.

use crate::words::{NoteText, WiresharkFilter};
use serde::ser::{SerializeSeq, SerializeStruct, Serializer};
use serde::Serialize;
use std::fmt::Display;
use tlsclose_analysis::{FlowReport, Note};

/// A flow report as its JSON line.
pub struct JsonFlow<'a>(pub &'a FlowReport);

/// Any `Display` as a JSON string.
struct Str<T>(T);

impl<T: Display> Serialize for Str<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// The notes, in words.
struct Notes<'a>(&'a [Note]);

impl Serialize for Notes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for n in self.0 {
            seq.serialize_element(&Str(NoteText(n)))?;
        }
        seq.end()
    }
}

impl Serialize for JsonFlow<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
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
        let mut o = s.serialize_struct("FlowReport", 34)?;
        o.serialize_field("file", file)?;
        o.serialize_field("client", &Str(client))?;
        o.serialize_field("server", &Str(server))?;
        o.serialize_field("ending", ending)?;
        o.serialize_field("closer", closer)?;
        o.serialize_field("client_close_notify", client_close_notify)?;
        o.serialize_field("server_close_notify", server_close_notify)?;
        o.serialize_field("close_notify_answered", close_notify_answered)?;
        o.serialize_field("initiator", initiator)?;
        o.serialize_field("keepalive_race", keepalive_race)?;
        o.serialize_field("race_window_s", race_window_s)?;
        o.serialize_field("race_frame", race_frame)?;
        o.serialize_field("idle_before_first_signal", idle_before_first_signal)?;
        o.serialize_field("version", version)?;
        o.serialize_field("sni", sni)?;
        o.serialize_field("alpn", alpn)?;
        o.serialize_field("cipher", cipher)?;
        o.serialize_field("confidence", confidence)?;
        o.serialize_field("decrypted", decrypted)?;
        o.serialize_field("alerts", alerts)?;
        o.serialize_field("idle_before_close", idle_before_close)?;
        o.serialize_field("teardown", teardown)?;
        o.serialize_field("teardown_frame", teardown_frame)?;
        o.serialize_field("first_frame", first_frame)?;
        o.serialize_field("last_frame", last_frame)?;
        o.serialize_field("first_time", first_time)?;
        o.serialize_field("last_time", last_time)?;
        o.serialize_field("packets", packets)?;
        o.serialize_field("app_bytes", app_bytes)?;
        o.serialize_field("gap", gap)?;
        o.serialize_field("incomplete", incomplete)?;
        o.serialize_field("midstream", midstream)?;
        o.serialize_field("notes", &Notes(notes))?;
        o.serialize_field("wireshark_filter", &Str(WiresharkFilter::of(r)))?;
        o.end()
    }
}

/// One ladder line as `--flow --format json` gives it.
#[derive(Serialize)]
pub struct LadderLine {
    pub from: tlsclose_analysis::Role,
    pub frame: u64,
    pub time: f64,
    pub what: String,
}
