//! Flows grouped by server, client, SNI or ending, with per-group counts.
//! Memory is per group, not per flow: the idle times are counted in
//! bounded sketches ([`crate::idle`]) for the median and the idle timeouts.

use crate::idle::{IdleCloses, Sketch};
use serde::Serialize;
use std::collections::HashMap;
use tlsclose_analysis::{CloseKind, CloseNotify, Closer, Ending, FlowReport};

/// What flows are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// the server's address and port
    Server,
    /// the client's address (its ports vary per connection)
    Client,
    /// the server name the client asked for
    Sni,
    /// the ending
    Ending,
}

impl GroupBy {
    pub const ALL: [GroupBy; 4] = [
        GroupBy::Server,
        GroupBy::Client,
        GroupBy::Sni,
        GroupBy::Ending,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Server => "server",
            GroupBy::Client => "client",
            GroupBy::Sni => "sni",
            GroupBy::Ending => "ending",
        }
    }

    /// What the flag's value means, in a few words (`--help`).
    pub fn about(self) -> &'static str {
        match self {
            GroupBy::Server => "the server's address and port",
            GroupBy::Client => "the client's address (its ports vary per connection)",
            GroupBy::Sni => "the server name the client asked for",
            GroupBy::Ending => "the ending",
        }
    }
}

/// Flows closed by the client, the server, nobody.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Closers {
    pub client: u64,
    pub server: u64,
    pub none: u64,
}

/// A count per ending.
#[derive(Debug, Clone, Copy, Default)]
struct EndingCounts {
    close_notify_then_fin: u64,
    fin_only: u64,
    rst: u64,
    data_after_alert: u64,
    open: u64,
}

impl EndingCounts {
    fn of(&self, e: Ending) -> u64 {
        match e {
            Ending::CloseNotifyThenFin => self.close_notify_then_fin,
            Ending::FinOnly => self.fin_only,
            Ending::Rst => self.rst,
            Ending::DataAfterAlert => self.data_after_alert,
            Ending::Open => self.open,
        }
    }

    fn of_mut(&mut self, e: Ending) -> &mut u64 {
        match e {
            Ending::CloseNotifyThenFin => &mut self.close_notify_then_fin,
            Ending::FinOnly => &mut self.fin_only,
            Ending::Rst => &mut self.rst,
            Ending::DataAfterAlert => &mut self.data_after_alert,
            Ending::Open => &mut self.open,
        }
    }
}

/// Flows by whether their close was meant (`close_kind`, read with keys;
/// docs/ENDINGS.md, "Why it closed").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CloseKinds {
    pub graceful: u64,
    pub abrupt: u64,
    pub idle: u64,
    pub unknown: u64,
}

impl CloseKinds {
    pub fn of(&self, k: CloseKind) -> u64 {
        match k {
            CloseKind::Graceful => self.graceful,
            CloseKind::Abrupt => self.abrupt,
            CloseKind::Idle => self.idle,
            CloseKind::Unknown => self.unknown,
        }
    }

    fn of_mut(&mut self, k: CloseKind) -> &mut u64 {
        match k {
            CloseKind::Graceful => &mut self.graceful,
            CloseKind::Abrupt => &mut self.abrupt,
            CloseKind::Idle => &mut self.idle,
            CloseKind::Unknown => &mut self.unknown,
        }
    }
}

/// Counts for one group.
#[derive(Debug, Clone, Default)]
pub struct GroupStats {
    pub flows: u64,
    /// Per ending (see [`GroupStats::count`]).
    endings: EndingCounts,
    /// Who closed.
    pub closer: Closers,
    /// Flows where the client / server sent close_notify (seen or inferred).
    pub client_close_notify: u64,
    pub server_close_notify: u64,
    /// Idle times before the close, seconds (flows that have one).
    pub idle: Sketch,
    /// Flows with a keep-alive race.
    pub races: u64,
    /// Idle times before the closes the server / the client started
    /// (their idle timeouts, docs/AUDIT.md).
    pub server_idle: IdleCloses,
    pub client_idle: IdleCloses,
    /// Per `close_kind`: graceful, abrupt, idle, unknown (without keys).
    pub close_kinds: CloseKinds,
    /// Flows whose HTTP was read with keys (`http` set): where the close
    /// kinds say something.
    pub http_read: u64,
}

impl GroupStats {
    pub fn add(&mut self, r: &FlowReport) {
        self.flows += 1;
        *self.endings.of_mut(r.ending) += 1;
        *match r.closer {
            Closer::Client => &mut self.closer.client,
            Closer::Server => &mut self.closer.server,
            Closer::None => &mut self.closer.none,
        } += 1;
        self.client_close_notify += u64::from(r.client_close_notify != CloseNotify::None);
        self.server_close_notify += u64::from(r.server_close_notify != CloseNotify::None);
        if let Some(idle) = r.idle_before_close.filter(|s| s.is_finite()) {
            self.idle.add(idle);
        }
        self.races += u64::from(r.keepalive_race);
        *self.close_kinds.of_mut(r.close_kind) += 1;
        self.http_read += u64::from(r.http.is_some());
        if let Some(idle) = r.idle_before_first_signal {
            match r.initiator {
                Closer::Server => self.server_idle.add(idle),
                Closer::Client => self.client_idle.add(idle),
                Closer::None => {}
            }
        }
    }

    /// Flows that ended `e`.
    pub fn count(&self, e: Ending) -> u64 {
        self.endings.of(e)
    }

    /// Median and maximum idle time before the close.
    pub fn idle_median_max(&self) -> Option<(f64, f64)> {
        Some((self.idle.median()?, self.idle.max()?))
    }
}

/// Flows grouped by one key.
#[derive(Debug)]
pub struct Groups {
    pub by: GroupBy,
    map: HashMap<String, GroupStats>,
}

impl Groups {
    pub fn new(by: GroupBy) -> Self {
        Groups {
            by,
            map: HashMap::new(),
        }
    }

    pub fn key(by: GroupBy, r: &FlowReport) -> String {
        match by {
            GroupBy::Server => r.server.to_string(),
            // a client's ports change with every connection: its address
            GroupBy::Client => r.client.ip.to_string(),
            GroupBy::Sni => r.sni.clone().unwrap_or_else(|| "(no SNI)".into()),
            GroupBy::Ending => r.ending.to_string(),
        }
    }

    pub fn add(&mut self, r: &FlowReport) {
        let key = Self::key(self.by, r);
        self.map.entry(key).or_default().add(r);
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Flows that ended `e`, over every group.
    pub fn count(&self, e: Ending) -> u64 {
        self.map.values().map(|s| s.count(e)).sum()
    }

    /// Some flow's HTTP was read with keys: the close kinds are worth
    /// showing (without, every flow's is `unknown`).
    pub fn close_intent_read(&self) -> bool {
        self.map.values().any(|s| s.http_read > 0)
    }

    /// Groups, most flows first (endings in their usual order).
    pub fn sorted(&self) -> Vec<(&str, &GroupStats)> {
        let mut v: Vec<(&str, &GroupStats)> =
            self.map.iter().map(|(k, s)| (k.as_str(), s)).collect();
        if self.by == GroupBy::Ending {
            v.sort_by_key(|(k, _)| Ending::parse(k).map(|e| e as usize));
        } else {
            v.sort_by(|a, b| b.1.flows.cmp(&a.1.flows).then_with(|| a.0.cmp(b.0)));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endings_are_counted_over_every_group() {
        let mut g = Groups::new(GroupBy::Server);
        for (server, port) in [(443, 1), (443, 2), (8443, 3)] {
            g.add(&crate::fixture::flow(server, port));
        }
        let mut rst = crate::fixture::flow(8443, 4);
        rst.ending = Ending::Rst;
        g.add(&rst);
        assert_eq!(g.count(Ending::FinOnly), 3);
        assert_eq!(g.count(Ending::Rst), 1);
        assert_eq!(g.count(Ending::Open), 0);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        let mut s = GroupStats::default();
        assert_eq!(s.idle_median_max(), None);
        for x in [3.0, 1.0, 2.0] {
            s.idle.add(x);
        }
        assert_eq!(s.idle_median_max(), Some((2.0, 3.0)));
        s.idle.add(4.0);
        assert_eq!(s.idle_median_max(), Some((2.5, 4.0)));
    }

    #[test]
    fn close_kinds_counted_per_server() {
        use crate::fixture::{flow, keyed};
        use tlsclose_analysis::{CloseKind, Role};
        let mut g = Groups::new(GroupBy::Server);
        // without keys: unknown, and nothing read
        g.add(&flow(443, 1));
        assert!(!g.close_intent_read());
        g.add(&keyed(flow(443, 2), CloseKind::Abrupt, Some(Role::Server)));
        g.add(&keyed(flow(443, 3), CloseKind::Abrupt, Some(Role::Server)));
        g.add(&keyed(
            flow(443, 4),
            CloseKind::Graceful,
            Some(Role::Server),
        ));
        g.add(&keyed(flow(443, 5), CloseKind::Idle, None));
        g.add(&keyed(
            flow(8443, 6),
            CloseKind::Graceful,
            Some(Role::Client),
        ));
        assert!(g.close_intent_read());
        let sorted = g.sorted();
        let [(a, s443), (b, s8443)] = sorted.as_slice() else {
            panic!("two servers: {sorted:?}");
        };
        assert_eq!((*a, *b), ("10.0.0.1:443", "10.0.0.1:8443"));
        assert_eq!(
            s443.close_kinds,
            CloseKinds {
                graceful: 1,
                abrupt: 2,
                idle: 1,
                unknown: 1
            }
        );
        assert_eq!(s443.http_read, 4);
        assert_eq!(s443.close_kinds.of(CloseKind::Abrupt), 2);
        assert_eq!(
            s8443.close_kinds,
            CloseKinds {
                graceful: 1,
                ..CloseKinds::default()
            }
        );
        // the sum is the flows
        let sum: u64 = CloseKind::ALL.iter().map(|&k| s443.close_kinds.of(k)).sum();
        assert_eq!(sum, s443.flows);
    }
}
