//! A Wireshark display filter that shows one flow's frames.

use std::fmt;
use std::net::IpAddr;
use tlsclose_analysis::{write_ip, Endpoint, FlowReport, Text};

/// A Wireshark display filter for the frames of one flow: both addresses
/// and ports (`ip.addr` / `ipv6.addr` and `tcp.port` match either
/// direction, each written once) and the frame range, which tells apart
/// connections that reused the same 4-tuple and pins the flow even where
/// tools number `tcp.stream` differently.
#[derive(Debug, Clone, Copy)]
pub struct WiresharkFilter {
    pub a: Endpoint,
    pub b: Endpoint,
    pub first_frame: u64,
    pub last_frame: u64,
}

impl WiresharkFilter {
    pub fn of(r: &FlowReport) -> WiresharkFilter {
        WiresharkFilter {
            a: r.client,
            b: r.server,
            first_frame: r.first_frame,
            last_frame: r.last_frame,
        }
    }
}

impl WiresharkFilter {
    /// The filter's text into `out` (a formatter, or a report line's bytes:
    /// it needs no escaping), piece by piece, without `write!`: every
    /// report line has one, and the formatting machinery cost 3,600
    /// instructions a flow.
    pub fn write_to(&self, out: &mut impl Text) -> fmt::Result {
        let mut num = itoa::Buffer::new();
        fn ip(out: &mut impl Text, ip: IpAddr) -> fmt::Result {
            out.put(match ip {
                IpAddr::V4(_) => "ip.addr==",
                IpAddr::V6(_) => "ipv6.addr==",
            })?;
            write_ip(out, ip)?;
            out.put(" && ")
        }
        ip(out, self.a.ip)?;
        if self.b.ip != self.a.ip {
            ip(out, self.b.ip)?;
        }
        for (i, port) in [self.a.port, self.b.port].into_iter().enumerate() {
            if i == 0 || port != self.a.port {
                out.put("tcp.port==")?;
                out.put(num.format(port))?;
                out.put(" && ")?;
            }
        }
        out.put("frame.number>=")?;
        out.put(num.format(self.first_frame))?;
        out.put(" && frame.number<=")?;
        out.put(num.format(self.last_frame))
    }
}

impl fmt::Display for WiresharkFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(s: &str) -> Endpoint {
        let sa: std::net::SocketAddr = s.parse().unwrap_or_else(|_| panic!("{s}"));
        Endpoint {
            ip: sa.ip(),
            port: sa.port(),
        }
    }

    fn filter(a: &str, b: &str, first_frame: u64, last_frame: u64) -> String {
        WiresharkFilter {
            a: ep(a),
            b: ep(b),
            first_frame,
            last_frame,
        }
        .to_string()
    }

    #[test]
    fn wireshark_filter_names_both_ends_and_the_frame_range() {
        assert_eq!(
            filter("10.0.0.1:50000", "10.0.0.2:443", 12, 40),
            "ip.addr==10.0.0.1 && ip.addr==10.0.0.2 && tcp.port==50000 && tcp.port==443 \
             && frame.number>=12 && frame.number<=40"
        );
        // the same address (loopback) or port once
        assert_eq!(
            filter("[::1]:443", "[::1]:443", 1, 2),
            "ipv6.addr==::1 && tcp.port==443 && frame.number>=1 && frame.number<=2"
        );
        assert_eq!(
            filter("10.0.0.1:443", "[::1]:443", 1, 2),
            "ip.addr==10.0.0.1 && ipv6.addr==::1 && tcp.port==443 && frame.number>=1 \
             && frame.number<=2"
        );
    }
}
