//! Which flows a run reports: `--ending`, `--server`, `--client`, `--sni`,
//! `--port` and `--flow CLIENT-SERVER`. Applied to every flow before any
//! output sees it.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use tlsclose_analysis::{Ending, Endpoint, FlowReport};

/// `ADDR[:PORT]` or `ADDR/PREFIX[:PORT]`; IPv6 as `ADDR`, `ADDR/PREFIX`,
/// `[ADDR]:PORT` or `[ADDR/PREFIX]:PORT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrPattern {
    pub ip: IpAddr,
    /// Leading bits that must match (32 / 128: the address itself).
    pub prefix: u8,
    pub port: Option<u16>,
}

impl AddrPattern {
    pub fn matches(&self, ep: SocketAddr) -> bool {
        if self.port.is_some_and(|p| p != ep.port()) {
            return false;
        }
        match (self.ip, ep.ip()) {
            (IpAddr::V4(want), IpAddr::V4(got)) => {
                prefix_eq(&want.octets(), &got.octets(), self.prefix)
            }
            (IpAddr::V6(want), IpAddr::V6(got)) => {
                prefix_eq(&want.octets(), &got.octets(), self.prefix)
            }
            (IpAddr::V4(want), IpAddr::V6(got)) => got
                .to_ipv4_mapped()
                .is_some_and(|g| prefix_eq(&want.octets(), &g.octets(), self.prefix)),
            (IpAddr::V6(_), IpAddr::V4(_)) => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let bits = usize::from(bits);
    let (whole, rest) = (bits / 8, bits % 8);
    if a.get(..whole) != b.get(..whole) {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    match (a.get(whole), b.get(whole)) {
        (Some(x), Some(y)) => x & mask == y & mask,
        _ => true,
    }
}

fn parse_ip_prefix(s: &str) -> Result<(IpAddr, u8), String> {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let ip = IpAddr::from_str(addr).map_err(|_| format!("`{addr}` is not an IP address"))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => max,
        Some(p) => match p.parse::<u8>() {
            Ok(n) if n <= max => n,
            _ => return Err(format!("`/{p}`: a prefix length is 0 to {max}")),
        },
    };
    Ok((ip, prefix))
}

impl FromStr for AddrPattern {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let port = |p: &str| {
            p.parse::<u16>()
                .map_err(|_| format!("`{p}` is not a port number"))
        };
        let (ip, prefix, port) = if let Some(rest) = s.strip_prefix('[') {
            let (inner, after) = rest
                .split_once(']')
                .ok_or_else(|| format!("`{s}`: missing `]`"))?;
            let (ip, prefix) = parse_ip_prefix(inner)?;
            let port = match after {
                "" => None,
                _ => {
                    Some(port(after.strip_prefix(':').ok_or_else(|| {
                        format!("`{s}`: expected `:PORT` after `]`")
                    })?)?)
                }
            };
            (ip, prefix, port)
        } else if let Ok(ip_prefix) = parse_ip_prefix(s) {
            (ip_prefix.0, ip_prefix.1, None)
        } else if let Some((addr, p)) = s.rsplit_once(':') {
            // IPv4 (or IPv4/prefix) with a port
            let (ip, prefix) = parse_ip_prefix(addr)?;
            if ip.is_ipv6() {
                return Err(format!(
                    "`{s}`: write an IPv6 address with a port as [ADDR]:PORT"
                ));
            }
            (ip, prefix, Some(port(p)?))
        } else {
            return Err(parse_ip_prefix(s)
                .err()
                .unwrap_or_else(|| format!("`{s}` is not an address")));
        };
        Ok(AddrPattern { ip, prefix, port })
    }
}

impl fmt::Display for AddrPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let full = if self.ip.is_ipv4() { 32 } else { 128 };
        let addr = if self.prefix == full {
            self.ip.to_string()
        } else {
            format!("{}/{}", self.ip, self.prefix)
        };
        match (self.port, self.ip) {
            (None, _) => f.write_str(&addr),
            (Some(p), IpAddr::V4(_)) => write!(f, "{addr}:{p}"),
            (Some(p), IpAddr::V6(_)) => write!(f, "[{addr}]:{p}"),
        }
    }
}

/// A case-insensitive glob: `*` any run of characters, `?` one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob(pub String);

impl Glob {
    pub fn matches(&self, text: &str) -> bool {
        let p: Vec<char> = self.0.chars().flat_map(char::to_lowercase).collect();
        let t: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
        // iterative matching with one backtrack point (the last `*`)
        let (mut pi, mut ti) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while ti < t.len() {
            match p.get(pi) {
                Some('*') => {
                    star = Some((pi, ti));
                    pi += 1;
                }
                Some(&c) if c == '?' || Some(&c) == t.get(ti) => {
                    pi += 1;
                    ti += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        pi = sp + 1;
                        ti = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        p.get(pi..)
            .is_some_and(|rest| rest.iter().all(|&c| c == '*'))
    }
}

impl FromStr for Glob {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(Glob(s.to_owned()))
    }
}

/// `--flow`: a flow by its id (the table's `#`: the number of its first
/// frame, see [`crate::FlowId`]) or a connection by its two ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowSel {
    Number(u64),
    Tuple(SocketAddr, SocketAddr),
}

impl FromStr for FlowSel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim().trim_start_matches('#');
        if let Ok(n) = s.parse::<u64>() {
            return if n == 0 {
                Err("flows are numbered from 1".into())
            } else {
                Ok(FlowSel::Number(n))
            };
        }
        // IPv6 addresses hold no `-`: the separator is the only one
        let (a, b) = s.split_once('-').ok_or_else(|| {
            format!("`{s}`: expected a flow number or CLIENT-SERVER (ip:port-ip:port)")
        })?;
        let ep = |x: &str| {
            SocketAddr::from_str(x.trim())
                .map_err(|_| format!("`{x}` is not ip:port (IPv6 as [addr]:port)"))
        };
        Ok(FlowSel::Tuple(ep(a)?, ep(b)?))
    }
}

/// The client and server of a report.
pub fn endpoints(r: &FlowReport) -> (SocketAddr, SocketAddr) {
    let sa = |e: Endpoint| SocketAddr::new(e.ip, e.port);
    (sa(r.client), sa(r.server))
}

/// The filters of a run; a flow passes when it matches every kind given
/// (and any one value of each kind).
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub endings: Vec<Ending>,
    pub servers: Vec<AddrPattern>,
    pub clients: Vec<AddrPattern>,
    pub snis: Vec<Glob>,
    pub ports: Vec<u16>,
    pub tuple: Option<(SocketAddr, SocketAddr)>,
}

impl Selection {
    /// True when some filter was given.
    pub fn is_active(&self) -> bool {
        !self.endings.is_empty()
            || !self.servers.is_empty()
            || !self.clients.is_empty()
            || !self.snis.is_empty()
            || !self.ports.is_empty()
            || self.tuple.is_some()
    }

    pub fn matches(&self, r: &FlowReport) -> bool {
        if !self.endings.is_empty() && !self.endings.contains(&r.ending) {
            return false;
        }
        if !self.snis.is_empty() {
            match &r.sni {
                Some(sni) if self.snis.iter().any(|g| g.matches(sni)) => {}
                _ => return false,
            }
        }
        if self.servers.is_empty()
            && self.clients.is_empty()
            && self.ports.is_empty()
            && self.tuple.is_none()
        {
            return true;
        }
        let (client, server) = endpoints(r);
        (self.servers.is_empty() || self.servers.iter().any(|p| p.matches(server)))
            && (self.clients.is_empty() || self.clients.iter().any(|p| p.matches(client)))
            && (self.ports.is_empty()
                || self
                    .ports
                    .iter()
                    .any(|&p| p == client.port() || p == server.port()))
            && self
                .tuple
                .is_none_or(|(a, b)| (a, b) == (client, server) || (b, a) == (client, server))
    }

    /// The filters as a person would write them, for summaries and reports.
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        let join = |v: Vec<String>| v.join(",");
        if !self.endings.is_empty() {
            out.push(format!(
                "--ending {}",
                join(self.endings.iter().map(|e| e.to_string()).collect())
            ));
        }
        for s in &self.servers {
            out.push(format!("--server {s}"));
        }
        for c in &self.clients {
            out.push(format!("--client {c}"));
        }
        for g in &self.snis {
            out.push(format!("--sni {}", g.0));
        }
        if !self.ports.is_empty() {
            out.push(format!(
                "--port {}",
                join(self.ports.iter().map(|p| p.to_string()).collect())
            ));
        }
        if let Some((a, b)) = self.tuple {
            out.push(format!("--flow {a}-{b}"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap_or_else(|_| panic!("{s}"))
    }
    fn pat(s: &str) -> AddrPattern {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn address_patterns() {
        assert!(pat("10.0.0.1").matches(sa("10.0.0.1:443")));
        assert!(!pat("10.0.0.1").matches(sa("10.0.0.2:443")));
        assert!(pat("10.0.0.1:443").matches(sa("10.0.0.1:443")));
        assert!(!pat("10.0.0.1:443").matches(sa("10.0.0.1:8443")));
        assert!(pat("10.1.0.0/16").matches(sa("10.1.200.3:1")));
        assert!(!pat("10.1.0.0/16").matches(sa("10.2.0.3:1")));
        assert!(pat("10.1.0.0/12:443").matches(sa("10.15.0.3:443")));
        assert!(pat("::1").matches(sa("[::1]:443")));
        assert!(pat("[::1]:443").matches(sa("[::1]:443")));
        assert!(!pat("[::1]:443").matches(sa("[::1]:80")));
        assert!(pat("2001:db8::/32").matches(sa("[2001:db8:1::5]:443")));
        assert!(pat("[2001:db8::/32]:443").matches(sa("[2001:db8:1::5]:443")));
        assert!(!pat("::1").matches(sa("127.0.0.1:443")));
        assert!(pat("127.0.0.1").matches(sa("[::ffff:127.0.0.1]:443")));
        assert_eq!(pat("[::1]:443").to_string(), "[::1]:443");
        assert_eq!(pat("10.0.0.0/8:443").to_string(), "10.0.0.0/8:443");
        for bad in [
            "",
            "host",
            "10.0.0.1:http",
            "::1:443x",
            "[::1",
            "10.0.0.0/33",
            "1.2.3.4:99999",
        ] {
            assert!(bad.parse::<AddrPattern>().is_err(), "{bad}");
        }
    }

    #[test]
    fn globs() {
        let g = |p: &str, t: &str| Glob(p.into()).matches(t);
        assert!(g("*.example.com", "api.example.com"));
        assert!(g("*.example.com", "A.B.Example.COM"));
        assert!(!g("*.example.com", "example.com"));
        assert!(g("*example*", "example"));
        assert!(g("api?.test", "api1.test"));
        assert!(!g("api?.test", "api.test"));
        assert!(g("*", ""));
        assert!(g("a*b*c", "aXbYbZc"));
        assert!(!g("a*b*c", "aXbYbZ"));
        assert!(g("server.test", "server.test"));
        assert!(!g("server.test", "server.test.evil"));
    }

    #[test]
    fn flow_selectors() {
        assert_eq!("3".parse::<FlowSel>(), Ok(FlowSel::Number(3)));
        assert_eq!("#12".parse::<FlowSel>(), Ok(FlowSel::Number(12)));
        assert!("0".parse::<FlowSel>().is_err());
        assert_eq!(
            "10.0.0.1:5000-10.0.0.2:443".parse::<FlowSel>(),
            Ok(FlowSel::Tuple(sa("10.0.0.1:5000"), sa("10.0.0.2:443")))
        );
        assert_eq!(
            "[::1]:5000-[::1]:443".parse::<FlowSel>(),
            Ok(FlowSel::Tuple(sa("[::1]:5000"), sa("[::1]:443")))
        );
        assert!("10.0.0.1-10.0.0.2".parse::<FlowSel>().is_err());
    }
}
