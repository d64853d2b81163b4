//! The HTTP-level close fields of a flow (docs/ENDINGS.md, "Why it
//! closed"), in the order the JSON line and the CSV row end with them. One
//! list, so that the two formats cannot drift apart.

use tlsclose_analysis::{FlowReport, HttpCloseKind};

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
        goaway.and_then(|g| g.error_code).map_or(Value::Null, |c| {
            Value::Str(crate::text::words::goaway_error(c))
        }),
        opt(goaway.and_then(|g| g.last_stream_id).map(u64::from)),
        opt(h.map(|h| u64::from(h.goaways))),
        opt(h.map(|h| h.requests)),
        opt_bool(h.and_then(|h| h.response_complete)),
        opt_bool(r.response_truncated),
        Value::Static(r.close_kind.as_str()),
        opt_bool(r.race_request),
    ]
}
