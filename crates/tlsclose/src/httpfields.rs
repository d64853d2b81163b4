//! The HTTP-level close fields of a flow (docs/ENDINGS.md, "Why it
//! closed"), in the order the JSON line and the CSV row end with them. One
//! list, so that the two formats cannot drift apart.

use std::fmt::Write as _;
use tlsclose_analysis::{h2_error_name, FlowReport, HttpCloseKind};

/// One field's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Str(String),
    Static(&'static str),
    Num(u64),
    Bool(bool),
}

/// The names of [`fields`], in order.
pub const NAMES: [&str; 12] = [
    "http",
    "http_close",
    "http_close_by",
    "http_close_frame",
    "goaway_error",
    "goaway_last_stream",
    "goaways",
    "http_requests",
    "response_complete",
    "response_truncated",
    "close_kind",
    "race_request",
];

/// A GOAWAY's error code: its RFC 9113 name, or hex.
pub fn goaway_error(code: u32) -> String {
    match h2_error_name(code) {
        Some(name) => name.to_string(),
        None => {
            let mut s = String::new();
            let _ = write!(s, "0x{code:x}");
            s
        }
    }
}

/// The values of [`NAMES`] for a flow.
pub fn fields(r: &FlowReport) -> [Value; 12] {
    let opt = |v: Option<u64>| v.map_or(Value::Null, Value::Num);
    let opt_bool = |v: Option<bool>| v.map_or(Value::Null, Value::Bool);
    let h = r.http.as_ref();
    let close = h.and_then(|h| h.close);
    let goaway = close.filter(|c| c.kind == HttpCloseKind::Goaway);
    [
        h.map_or(Value::Null, |h| Value::Static(h.protocol.as_str())),
        close.map_or(Value::Null, |c| Value::Static(c.kind.as_str())),
        close.map_or(Value::Null, |c| Value::Static(c.by.as_str())),
        opt(close.map(|c| c.frame)),
        goaway
            .and_then(|g| g.error_code)
            .map_or(Value::Null, |c| Value::Str(goaway_error(c))),
        opt(goaway.and_then(|g| g.last_stream_id).map(u64::from)),
        opt(h.map(|h| u64::from(h.goaways))),
        opt(h.map(|h| h.requests)),
        opt_bool(h.and_then(|h| h.response_complete)),
        opt_bool(r.response_truncated),
        Value::Static(r.close_kind.as_str()),
        opt_bool(r.race_request),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goaway_errors_are_named_or_hex() {
        assert_eq!(goaway_error(0), "NO_ERROR");
        assert_eq!(goaway_error(0xb), "ENHANCE_YOUR_CALM");
        assert_eq!(goaway_error(0x1ff), "0x1ff");
    }
}
