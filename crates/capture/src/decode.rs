//! Frame → TCP segment decoding (STUB: to be implemented).

use crate::types::{Frame, Segment};
use std::fmt;

/// Why a frame carries no usable TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SkipReason {
    UnsupportedLinkType(u32),
    NotIp,
    NotTcp,
    IpFragment,
    Malformed,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::UnsupportedLinkType(l) => write!(f, "unsupported link type {l}"),
            SkipReason::NotIp => f.write_str("not IP"),
            SkipReason::NotTcp => f.write_str("not TCP"),
            SkipReason::IpFragment => f.write_str("IP fragment"),
            SkipReason::Malformed => f.write_str("malformed or truncated headers"),
        }
    }
}

/// Decodes the link, IP and TCP headers of a frame.
pub fn decode_segment<'a>(_frame: &Frame<'a>) -> Result<Segment<'a>, SkipReason> {
    todo!()
}
