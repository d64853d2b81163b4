//! CSV (RFC 4180 quoting, LF line ends): a header row, then one row per flow with the same fields
//! as the JSON line. Nested fields are flattened: `alerts.client` becomes
//! `client_alerts` (`;`-joined), `teardown.kind` `teardown_kind`,
//! `app_bytes[0]` `client_app_bytes`.

use crate::text::words::NoteText;
use serde::Serialize;
use std::fmt::{self, Write as _};
use std::io::{self, Write};
use tlsclose_analysis::FlowReport;
use tlsclose_audit::{FlowId, WiresharkFilter};

/// A CSV column: its name and where its value is in the JSON object
/// (a JSON pointer).
pub struct Column {
    pub name: &'static str,
    /// Read by the test that every JSON field has a column, and that
    /// [`write_flow`] writes what the JSON says.
    #[cfg_attr(not(test), allow(dead_code))]
    pub pointer: &'static str,
}

const fn col(name: &'static str, pointer: &'static str) -> Column {
    Column { name, pointer }
}

/// Every field of a flow's JSON line, in the JSON's order.
pub const FLOW_COLUMNS: &[Column] = &[
    col("flow", "/flow"),
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
    // httpfields::NAMES
    col("http", "/http"),
    col("http_close", "/http_close"),
    col("http_close_by", "/http_close_by"),
    col("http_close_frame", "/http_close_frame"),
    col("goaway_error", "/goaway_error"),
    col("goaway_last_stream", "/goaway_last_stream"),
    col("goaways", "/goaways"),
    col("http_requests", "/http_requests"),
    col("response_complete", "/response_complete"),
    col("response_truncated", "/response_truncated"),
    col("close_kind", "/close_kind"),
    col("race_request", "/race_request"),
];

/// JSON fields with a column under another name (`teardown.frame` is
/// `teardown_frame`, kept once).
#[cfg(test)]
const COVERED_ELSEWHERE: &[&str] = &["/teardown/frame"];

/// A JSON value as one CSV cell: strings as they are, `null` empty,
/// arrays `;`-joined (what [`write_flow`] writes from the report itself).
#[cfg(test)]
fn cell(v: Option<&serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(items)) => items
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

pub fn write_row<W: Write + ?Sized, S: AsRef<str>>(
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

/// Reused buffers of the CSV writer (no allocation per flow once warm).
#[derive(Default)]
pub struct Scratch {
    cell: String,
    num: Vec<u8>,
}

/// One row being written: cells are separated and quoted as they come.
struct Row<'a, W: Write> {
    out: &'a mut W,
    scratch: &'a mut Scratch,
    first: bool,
}

impl<W: Write> Row<'_, W> {
    fn sep(&mut self) -> io::Result<()> {
        if !self.first {
            self.out.write_all(b",")?;
        }
        self.first = false;
        Ok(())
    }

    fn str(&mut self, s: &str) -> io::Result<()> {
        self.sep()?;
        self.out.write_all(field(s).as_bytes())
    }

    fn opt_str(&mut self, s: Option<&str>) -> io::Result<()> {
        self.str(s.unwrap_or(""))
    }

    /// A value as its `Display` (quoted when it needs to be).
    fn display(&mut self, v: impl fmt::Display) -> io::Result<()> {
        self.scratch.cell.clear();
        let _ = write!(self.scratch.cell, "{v}");
        let cell = std::mem::take(&mut self.scratch.cell);
        let r = self.str(&cell);
        self.scratch.cell = cell;
        r
    }

    /// `;`-joined values.
    fn list<T: fmt::Display>(&mut self, items: impl IntoIterator<Item = T>) -> io::Result<()> {
        self.scratch.cell.clear();
        for (i, v) in items.into_iter().enumerate() {
            if i > 0 {
                self.scratch.cell.push(';');
            }
            let _ = write!(self.scratch.cell, "{v}");
        }
        let cell = std::mem::take(&mut self.scratch.cell);
        let r = self.str(&cell);
        self.scratch.cell = cell;
        r
    }

    /// Numbers and booleans as JSON writes them (never quoted).
    fn num(&mut self, v: impl Serialize) -> io::Result<()> {
        self.sep()?;
        self.scratch.num.clear();
        serde_json::to_writer(&mut self.scratch.num, &v)?;
        self.out.write_all(&self.scratch.num)
    }

    /// A float as JSON writes it; not finite (JSON null) is empty.
    fn float(&mut self, v: Option<f64>) -> io::Result<()> {
        match v.filter(|v| v.is_finite()) {
            Some(v) => self.num(v),
            None => self.sep(),
        }
    }

    fn opt_num(&mut self, v: Option<u64>) -> io::Result<()> {
        match v {
            Some(v) => self.num(v),
            None => self.sep(),
        }
    }
}

/// A flow's row: the cells of [`FLOW_COLUMNS`], each as its JSON value
/// reads (strings as they are, null empty, arrays `;`-joined).
pub fn write_flow<W: Write>(
    out: &mut W,
    scratch: &mut Scratch,
    id: FlowId,
    r: &FlowReport,
) -> io::Result<()> {
    // every field, so that a new one is not forgotten (see json.rs)
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
        ladder: _,
        // written at the end (httpfields.rs)
        http: _,
        close_kind: _,
        response_truncated: _,
        race_request: _,
    } = r;
    let mut row = Row {
        out,
        scratch,
        first: true,
    };
    row.num(id)?;
    row.str(file)?;
    row.display(client)?;
    row.display(server)?;
    row.str(ending.as_str())?;
    row.str(closer.as_str())?;
    row.str(client_close_notify.as_str())?;
    row.str(server_close_notify.as_str())?;
    row.num(close_notify_answered)?;
    row.str(initiator.as_str())?;
    row.num(keepalive_race)?;
    row.float(*race_window_s)?;
    row.opt_num(*race_frame)?;
    row.float(*idle_before_first_signal)?;
    match version {
        Some(v) => row.display(v)?,
        None => row.sep()?,
    }
    row.opt_str(sni.as_deref())?;
    row.opt_str(alpn.as_deref())?;
    match cipher {
        Some(c) => row.display(c)?,
        None => row.sep()?,
    }
    row.str(confidence.as_str())?;
    row.num(decrypted)?;
    row.list(&alerts.client)?;
    row.list(&alerts.server)?;
    row.float(*idle_before_close)?;
    match teardown {
        Some(t) => {
            row.str(t.kind.as_str())?;
            row.str(t.by.as_str())?;
            row.float(Some(t.time))?;
        }
        None => {
            row.sep()?;
            row.sep()?;
            row.sep()?;
        }
    }
    row.opt_num(*teardown_frame)?;
    row.num(first_frame)?;
    row.num(last_frame)?;
    row.float(Some(*first_time))?;
    row.float(Some(*last_time))?;
    row.num(packets)?;
    row.num(app_bytes[0])?;
    row.num(app_bytes[1])?;
    row.num(gap)?;
    row.num(incomplete)?;
    row.num(midstream)?;
    row.list(notes.iter().map(NoteText))?;
    row.display(WiresharkFilter::of(r))?;
    for v in crate::output::httpfields::fields(r) {
        use crate::output::httpfields::Value;
        match v {
            Value::Null => row.sep()?,
            Value::Str(s) => row.str(&s)?,
            Value::Static(s) => row.str(s)?,
            Value::Num(n) => row.num(n)?,
            Value::Bool(b) => row.num(b)?,
        }
    }
    row.out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

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
                let meta = tlsclose_tcp::SegMeta::at(frame.number, frame.ts);
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
            let v = crate::output::json::value(r.first_frame, r).unwrap_or_default();
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

    /// The row written from the report is the JSON line's values, cell by cell.
    #[test]
    fn rows_are_the_json_values() {
        let mut scratch = Scratch::default();
        for r in sample_reports() {
            let v = crate::output::json::value(r.first_frame, &r).unwrap_or_default();
            let mut want = Vec::new();
            write_row(
                &mut want,
                FLOW_COLUMNS.iter().map(|c| cell(v.pointer(c.pointer))),
            )
            .unwrap_or_default();
            let mut got = Vec::new();
            write_flow(&mut got, &mut scratch, r.first_frame, &r).unwrap_or_default();
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want)
            );
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
