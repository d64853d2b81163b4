//! Plain data types shared by every later stage.

use std::fmt::{self, Write as _};
use std::net::IpAddr;

/// Capture time in nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const fn from_nanos(ns: i64) -> Self {
        Timestamp(ns)
    }
    pub const fn as_nanos(self) -> i64 {
        self.0
    }
    /// Seconds as a float, for display and JSON.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    /// `self - earlier` in seconds (negative when out of order).
    pub fn secs_since(self, earlier: Timestamp) -> f64 {
        (self.0.saturating_sub(earlier.0)) as f64 / 1e9
    }
}

/// A link-layer header type (the LINKTYPE_* registry value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkType(pub u32);

impl LinkType {
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    /// LINKTYPE_RAW as some systems write it in files (DLT_RAW 12 / 14).
    pub const RAW_12: LinkType = LinkType(12);
    pub const RAW_14: LinkType = LinkType(14);
    pub const RAW: LinkType = LinkType(101);
    pub const PPP: LinkType = LinkType(9);
    pub const PPP_HDLC: LinkType = LinkType(50);
    pub const PPP_ETHER: LinkType = LinkType(51);
    pub const ATM_RFC1483: LinkType = LinkType(100);
    pub const C_HDLC: LinkType = LinkType(104);
    pub const LOOP: LinkType = LinkType(108);
    pub const ENC: LinkType = LinkType(109);
    pub const PFLOG: LinkType = LinkType(117);
    pub const PPP_WITH_DIR: LinkType = LinkType(204);
    pub const IPNET: LinkType = LinkType(226);
    pub const NFLOG: LinkType = LinkType(239);
    pub const NETANALYZER: LinkType = LinkType(240);
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    pub const LINUX_SLL2: LinkType = LinkType(276);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "NULL",
            1 => "ETHERNET",
            12 | 14 | 101 => "RAW",
            9 => "PPP",
            50 => "PPP_HDLC",
            51 => "PPP_ETHER",
            100 => "ATM_RFC1483",
            104 => "C_HDLC",
            108 => "LOOP",
            109 => "ENC",
            117 => "PFLOG",
            204 => "PPP_WITH_DIR",
            226 => "IPNET",
            239 => "NFLOG",
            240 => "NETANALYZER",
            113 => "LINUX_SLL",
            228 => "IPV4",
            229 => "IPV6",
            276 => "LINUX_SLL2",
            _ => return None,
        })
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n} ({})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// One captured frame, borrowed from the reader (the chunk of input it was
/// parsed in, or the copy of a record that straddled two chunks).
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// 1-based frame number within its file, as Wireshark counts them.
    pub number: u64,
    pub ts: Timestamp,
    pub link: LinkType,
    /// The captured bytes (possibly fewer than `orig_len`: snaplen).
    pub data: &'a [u8],
    /// Length of the packet on the wire.
    pub orig_len: u32,
    /// Byte offset of the frame's record/block in the (decompressed) file.
    pub file_offset: u64,
}

/// An IP address and TCP port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    pub ip: IpAddr,
    pub port: u16,
}

impl Endpoint {
    /// `ip:port`, IPv6 as `[addr]:port`, into `out` (a formatter or a
    /// report line's bytes) without the formatting machinery for IPv4.
    pub fn write_to(&self, out: &mut impl Text) -> fmt::Result {
        let mut text = StackText::default();
        let v6 = self.ip.is_ipv6();
        if v6 {
            text.push(b'[');
        }
        text.ip(self.ip);
        if v6 {
            text.push(b']');
        }
        text.push(b':');
        text.num(self.port);
        out.put(text.as_str())
    }
}

impl fmt::Display for Endpoint {
    /// `ip:port`, IPv6 as `[addr]:port`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

/// Where a report's text pieces go: a formatter, a String, or the bytes of
/// a JSON line (whose writer only uses it for text that needs no escaping).
pub trait Text {
    fn put(&mut self, s: &str) -> fmt::Result;
}

impl Text for fmt::Formatter<'_> {
    fn put(&mut self, s: &str) -> fmt::Result {
        self.write_str(s)
    }
}

impl Text for String {
    fn put(&mut self, s: &str) -> fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

impl Text for Vec<u8> {
    fn put(&mut self, s: &str) -> fmt::Result {
        self.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Writes `ip` as std's `Display` does. An IPv4 address is formatted by
/// hand: std's goes through the formatting machinery once per octet, and
/// every flow's report line writes four addresses (its ends, and again in
/// its Wireshark filter): about 1,000 instructions each, 8 % of a run on
/// small flows.
pub fn write_ip(out: &mut impl Text, ip: IpAddr) -> fmt::Result {
    let mut text = StackText::default();
    text.ip(ip);
    out.put(text.as_str())
}

/// Each octet's decimal digits: `[count, digits...]`.
#[allow(clippy::indexing_slicing)] // i < 256, the table's length
const OCTET_TEXT: [[u8; 4]; 256] = {
    let mut t = [[0u8; 4]; 256];
    let mut i = 0;
    while i < 256 {
        let (h, te, o) = ((i / 100) as u8, (i / 10 % 10) as u8, (i % 10) as u8);
        t[i] = if i >= 100 {
            [3, b'0' + h, b'0' + te, b'0' + o]
        } else if i >= 10 {
            [2, b'0' + te, b'0' + o, 0]
        } else {
            [1, b'0' + o, 0, 0]
        };
        i += 1;
    }
    t
};

/// A short text on the stack: an address (IPv6 at most 45 characters, in
/// brackets) and `:port`. Writes past its room are dropped (none is that
/// long).
struct StackText {
    buf: [u8; 56],
    len: usize,
}

impl Default for StackText {
    fn default() -> StackText {
        StackText {
            buf: [0; 56],
            len: 0,
        }
    }
}

impl StackText {
    /// An address as std's `Display` writes it: IPv4 by [`StackText::v4`],
    /// IPv6 through the formatting machinery (rare).
    fn ip(&mut self, ip: IpAddr) {
        match ip {
            IpAddr::V4(a) => self.v4(a),
            IpAddr::V6(a) => {
                let _ = write!(self, "{a}");
            }
        }
    }

    /// Dotted decimal, each octet's digits from a table (every report
    /// line writes four addresses; itoa per octet was 1.5 % of a run on
    /// small flows).
    fn v4(&mut self, a: std::net::Ipv4Addr) {
        for (i, o) in a.octets().into_iter().enumerate() {
            if i > 0 {
                self.push(b'.');
            }
            let entry = OCTET_TEXT.get(usize::from(o)).copied();
            let [len, digits @ ..] = entry.unwrap_or_default();
            for &d in digits.get(..usize::from(len)).unwrap_or(&[]) {
                self.push(d);
            }
        }
    }

    fn push(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn num(&mut self, v: u16) {
        for &b in itoa::Buffer::new().format(v).as_bytes() {
            self.push(b);
        }
    }

    fn as_str(&self) -> &str {
        // only whole UTF-8 strs (ASCII here) were written
        std::str::from_utf8(self.buf.get(..self.len).unwrap_or(&[])).unwrap_or("")
    }
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            self.push(b);
        }
        Ok(())
    }
}

/// TCP header flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpFlags {
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
    pub psh: bool,
}

/// A TCP segment decoded from a frame. `payload` borrows the frame.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    pub src: Endpoint,
    pub dst: Endpoint,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    /// The captured payload bytes.
    pub payload: &'a [u8],
    /// Payload length on the wire (from the IP length fields). Larger than
    /// `payload.len()` when the frame was cut by the snapshot length.
    pub wire_len: u32,
}

impl Segment<'_> {
    /// True when the capture holds fewer payload bytes than were sent.
    pub fn is_truncated(&self) -> bool {
        (self.payload.len() as u64) < u64::from(self.wire_len)
    }
}

#[cfg(test)]
mod tests {
    use super::{write_ip, Endpoint};
    use proptest::prelude::*;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    /// The hand-written IPv4 text is std's, for every kind of octet and
    /// port (one, two and three digits; 0 and the largest).
    fn same_as_std(ip: IpAddr, port: u16) {
        let e = Endpoint { ip, port };
        let want = match ip {
            IpAddr::V4(a) => format!("{a}:{port}"),
            IpAddr::V6(a) => format!("[{a}]:{port}"),
        };
        assert_eq!(e.to_string(), want);
        let mut s = String::new();
        assert!(write_ip(&mut s, ip).is_ok());
        assert_eq!(s, ip.to_string());
    }

    #[test]
    fn edge_addresses_print_as_std_does() {
        for o in [0u8, 1, 9, 10, 99, 100, 199, 255] {
            for port in [0u16, 7, 80, 443, 9999, 10000, 65535] {
                same_as_std(IpAddr::V4(Ipv4Addr::new(o, 255 - o, o / 2, 100)), port);
            }
        }
        same_as_std(IpAddr::V6(Ipv6Addr::LOCALHOST), 443);
        same_as_std(
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0xffff, 1)),
            65535,
        );
    }

    proptest! {
        #[test]
        fn any_v4_endpoint_prints_as_std_does(a: u32, port: u16) {
            same_as_std(IpAddr::V4(Ipv4Addr::from(a)), port);
        }
    }
}
