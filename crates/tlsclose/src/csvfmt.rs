//! CSV (RFC 4180 quoting, LF line ends): a header row, then one row per flow with the same fields
//! as the JSON line. Nested fields are flattened: `alerts.client` becomes
//! `client_alerts` (`;`-joined), `teardown.kind` `teardown_kind`,
//! `app_bytes[0]` `client_app_bytes`.

use serde_json::Value;
use std::io::{self, Write};
use tlsclose_analysis::FlowReport;

/// A CSV column: its name and where its value is in the JSON object
/// (a JSON pointer).
pub struct Column {
    pub name: &'static str,
    pub pointer: &'static str,
}

const fn col(name: &'static str, pointer: &'static str) -> Column {
    Column { name, pointer }
}

/// Every field of a flow's JSON line, in the JSON's order.
pub const FLOW_COLUMNS: &[Column] = &[
    col("file", "/file"),
    col("client", "/client"),
    col("server", "/server"),
    col("ending", "/ending"),
    col("closer", "/closer"),
    col("client_close_notify", "/client_close_notify"),
    col("server_close_notify", "/server_close_notify"),
    col("close_notify_answered", "/close_notify_answered"),
    col("initiator", "/initiator"),
    col("keepalive_race", "/keepalive_race"),
    col("race_window_s", "/race_window_s"),
    col("race_frame", "/race_frame"),
    col("idle_before_first_signal", "/idle_before_first_signal"),
    col("version", "/version"),
    col("sni", "/sni"),
    col("alpn", "/alpn"),
    col("cipher", "/cipher"),
    col("confidence", "/confidence"),
    col("decrypted", "/decrypted"),
    col("client_alerts", "/alerts/client"),
    col("server_alerts", "/alerts/server"),
    col("idle_before_close", "/idle_before_close"),
    col("teardown_kind", "/teardown/kind"),
    col("teardown_by", "/teardown/by"),
    col("teardown_time", "/teardown/time"),
    col("teardown_frame", "/teardown_frame"),
    col("first_frame", "/first_frame"),
    col("last_frame", "/last_frame"),
    col("first_time", "/first_time"),
    col("last_time", "/last_time"),
    col("packets", "/packets"),
    col("client_app_bytes", "/app_bytes/0"),
    col("server_app_bytes", "/app_bytes/1"),
    col("gap", "/gap"),
    col("incomplete", "/incomplete"),
    col("midstream", "/midstream"),
    col("notes", "/notes"),
    col("wireshark_filter", "/wireshark_filter"),
];

/// JSON fields with a column under another name (`teardown.frame` is
/// `teardown_frame`, kept once).
#[cfg(test)]
const COVERED_ELSEWHERE: &[&str] = &["/teardown/frame"];

/// A JSON value as one CSV cell: strings as they are, `null` empty,
/// arrays `;`-joined.
pub fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| cell(Some(i)))
            .collect::<Vec<_>>()
            .join(";"),
        Some(other) => other.to_string(),
    }
}

/// One field, quoted when it holds a separator, a quote or a line break.
pub fn field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        std::borrow::Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

pub fn write_row<W: Write, S: AsRef<str>>(
    out: &mut W,
    cells: impl IntoIterator<Item = S>,
) -> io::Result<()> {
    let mut first = true;
    for c in cells {
        if !first {
            out.write_all(b",")?;
        }
        first = false;
        out.write_all(field(c.as_ref()).as_bytes())?;
    }
    out.write_all(b"\n")
}

pub fn write_flow<W: Write>(out: &mut W, r: &FlowReport) -> io::Result<()> {
    let v = serde_json::to_value(r)?;
    write_row(out, FLOW_COLUMNS.iter().map(|c| cell(v.pointer(c.pointer))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("x\ny"), "\"x\ny\"");
        let mut out = Vec::new();
        write_row(&mut out, ["a", "b,c", ""]).unwrap_or_default();
        assert_eq!(out, b"a,\"b,c\",\n");
    }

    /// The flows of the sample capture, analysed as the binary does.
    fn sample_reports() -> Vec<FlowReport> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/sample/capture.pcap"
        );
        let mut reader = match tlsclose_capture::CaptureReader::open(path) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        let mut analyzer = tlsclose_analysis::Analyzer::new(Default::default());
        let mut reports = Vec::new();
        while let Ok(Some(frame)) = reader.next_frame() {
            if let Ok(seg) = tlsclose_capture::decode_segment(&frame) {
                let meta = tlsclose_tcp::SegMeta {
                    frame: frame.number,
                    ts: frame.ts,
                };
                analyzer.segment(&seg, meta, &mut |r| reports.push(r));
            }
        }
        analyzer.finish(&mut |r| reports.push(r));
        reports
    }

    /// Every leaf of a JSON value, as JSON pointers (arrays are leaves).
    fn leaves(v: &Value, at: String, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    leaves(x, format!("{at}/{k}"), out);
                }
            }
            _ => out.push(at),
        }
    }

    #[test]
    fn every_json_field_has_a_column() {
        let reports = sample_reports();
        assert_eq!(reports.len(), 6);
        for r in &reports {
            let v = serde_json::to_value(r).unwrap_or_default();
            let mut all = Vec::new();
            leaves(&v, String::new(), &mut all);
            for p in all {
                let covered = FLOW_COLUMNS
                    .iter()
                    .any(|c| c.pointer == p || c.pointer.starts_with(&format!("{p}/")))
                    || COVERED_ELSEWHERE.contains(&p.as_str());
                assert!(covered, "JSON field {p} has no CSV column");
            }
            // and no column points at nothing (teardown is null when open)
            for c in FLOW_COLUMNS {
                let top = c.pointer.split('/').nth(1).unwrap_or_default();
                assert!(v.get(top).is_some(), "column {} points at nothing", c.name);
            }
        }
    }

    #[test]
    fn cells_flatten_json() {
        let v: Value = serde_json::json!({"a": ["x", "y"], "n": null, "b": true, "f": 1.5});
        assert_eq!(cell(v.pointer("/a")), "x;y");
        assert_eq!(cell(v.pointer("/n")), "");
        assert_eq!(cell(v.pointer("/b")), "true");
        assert_eq!(cell(v.pointer("/f")), "1.5");
        assert_eq!(cell(v.pointer("/missing")), "");
    }
}
