//! Why the connection closed, read with keys (docs/ENDINGS.md, "Why it
//! closed"): the HTTP-level announcement of the close (`Connection:
//! close`, GOAWAY), whether the last response was whole, and from those
//! and the ending, whether the close was meant (`close_kind`). The ending
//! itself is not touched.

use crate::report::{CloseKind, HttpClose, HttpCloseKind, HttpReport, Role, TeardownKind};
use tlsclose_http::{Announcement, HttpFacts, LastResponse, Side};

/// The flow's close as the intent rules read it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Close {
    pub kind: TeardownKind,
    pub frame: u64,
    /// The closer had sent close_notify before its FIN or RST.
    pub closer_close_notify: bool,
    /// The frames of each side's first close_notify.
    pub close_notifies: [Option<u64>; 2],
}

/// What the intent adds to a report.
#[derive(Debug, Clone, Copy)]
pub(super) struct Intent {
    pub http: Option<HttpReport>,
    pub close_kind: CloseKind,
    pub response_truncated: Option<bool>,
}

fn role(s: Side) -> Role {
    match s {
        Side::Client => Role::Client,
        Side::Server => Role::Server,
    }
}

/// `facts`: the HTTP read with keys (None: no keys, or not HTTP);
/// `close`: the first FIN or RST (None: the flow is open);
/// `server_close_notify`: the server sent close_notify at all.
pub(super) fn intent(
    facts: Option<HttpFacts>,
    close: Option<Close>,
    server_close_notify: bool,
) -> Intent {
    let Some(h) = facts else {
        return Intent {
            http: None,
            close_kind: CloseKind::Unknown,
            response_truncated: None,
        };
    };
    let server_read = h.stopped != Some(Side::Server);
    let response_complete = match h.last_response {
        _ if !server_read => None,
        None => None,
        Some(LastResponse::Complete) => Some(true),
        Some(LastResponse::Incomplete) => Some(false),
        // delimited by the close: whole only if the TLS close says so
        Some(LastResponse::UntilClose) => Some(server_close_notify),
    };
    let http = HttpReport {
        protocol: h.protocol,
        close: h.announcement.map(|a| match a {
            Announcement::ConnectionClose { by, frame } => HttpClose {
                kind: HttpCloseKind::ConnectionClose,
                by: role(by),
                frame,
                error_code: None,
                last_stream_id: None,
            },
            Announcement::Goaway {
                by,
                frame,
                error_code,
                last_stream_id,
            } => HttpClose {
                kind: HttpCloseKind::Goaway,
                by: role(by),
                frame,
                error_code,
                last_stream_id,
            },
        }),
        goaways: h.goaways,
        requests: h.requests,
        response_complete,
    };
    let Some(c) = close else {
        return Intent {
            http: Some(http),
            close_kind: CloseKind::Unknown,
            response_truncated: Some(false),
        };
    };
    let cut = response_complete == Some(false);
    let truncated = (cut && !c.closer_close_notify).then_some(true);
    let response_truncated = truncated.or(response_complete.map(|_| false));
    // announced before the close
    let announced = h.announcement.filter(|a| a.frame() <= c.frame);
    let outstanding = h.outstanding.is_some_and(|n| n > 0);
    let close_kind = if let Some(a) = announced {
        // a close_notify (either side's) between the announcement and the
        // first FIN or RST: the side that announced closed its TLS, or
        // its peer answered the announcement with its own
        let cn_after = |f: &Option<u64>| f.is_some_and(|f| f >= a.frame() && f <= c.frame);
        if c.close_notifies.iter().any(cn_after) {
            CloseKind::Graceful
        } else {
            CloseKind::Abrupt
        }
    } else if (c.kind == TeardownKind::Rst && outstanding) || truncated == Some(true) {
        CloseKind::Abrupt
    } else if h.stopped.is_some() {
        // part of the HTTP was not read: an announcement may be missed
        CloseKind::Unknown
    } else {
        CloseKind::Idle
    };
    Intent {
        http: Some(http),
        close_kind,
        response_truncated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tlsclose_http::Protocol;

    fn facts(announcement: Option<Announcement>, last: Option<LastResponse>) -> HttpFacts {
        HttpFacts {
            protocol: Protocol::H2,
            announcement,
            goaways: u32::from(announcement.is_some()),
            requests: 1,
            last_response: last,
            outstanding: Some(u64::from(last == Some(LastResponse::Incomplete))),
            stopped: None,
        }
    }

    fn goaway(frame: u64) -> Option<Announcement> {
        Some(Announcement::Goaway {
            by: Side::Server,
            frame,
            error_code: Some(0),
            last_stream_id: Some(1),
        })
    }

    /// The server closes at frame 20, after its close_notify at 15 (`cn`).
    fn close(kind: TeardownKind, cn: bool) -> Option<Close> {
        Some(Close {
            kind,
            frame: 20,
            closer_close_notify: cn,
            close_notifies: [None, cn.then_some(15)],
        })
    }

    #[test]
    fn the_rules() {
        let done = Some(LastResponse::Complete);
        let cut = Some(LastResponse::Incomplete);
        let fin = TeardownKind::Fin;
        let rst = TeardownKind::Rst;
        let kind = |a, l, c, cn| intent(Some(facts(a, l)), c, cn).close_kind;
        // GOAWAY, close_notify, FIN (nginx, haproxy, Go)
        assert_eq!(
            kind(goaway(10), done, close(fin, true), true),
            CloseKind::Graceful
        );
        // GOAWAY, bare FIN
        assert_eq!(
            kind(goaway(10), done, close(fin, false), false),
            CloseKind::Abrupt
        );
        assert_eq!(
            kind(goaway(10), done, close(rst, false), false),
            CloseKind::Abrupt
        );
        // a GOAWAY after the close announced nothing
        assert_eq!(
            kind(goaway(30), done, close(fin, true), true),
            CloseKind::Idle
        );
        // no announcement: an idle close, unless something was cut
        assert_eq!(kind(None, done, close(fin, false), false), CloseKind::Idle);
        assert_eq!(kind(None, cut, close(fin, false), false), CloseKind::Abrupt);
        assert_eq!(kind(None, cut, close(rst, true), true), CloseKind::Abrupt);
        // the client announced and sent close_notify; the server's bare
        // FIN came first (nginx answers a close_notify so): graceful
        let client_cn = Close {
            kind: fin,
            frame: 20,
            closer_close_notify: false,
            close_notifies: [Some(12), None],
        };
        assert_eq!(
            kind(goaway(10), done, Some(client_cn), false),
            CloseKind::Graceful
        );
        // a close_notify before the announcement does not count
        let early = Close {
            close_notifies: [Some(8), None],
            ..client_cn
        };
        assert_eq!(
            kind(goaway(10), done, Some(early), false),
            CloseKind::Abrupt
        );
        // no keys, or still open
        assert_eq!(
            intent(None, close(fin, true), true).close_kind,
            CloseKind::Unknown
        );
        assert_eq!(kind(goaway(10), done, None, false), CloseKind::Unknown);
    }

    #[test]
    fn a_response_cut_by_a_bare_close_is_a_truncation() {
        let cut = Some(LastResponse::Incomplete);
        let t = |l, c: Option<Close>, scn| intent(Some(facts(None, l)), c, scn).response_truncated;
        assert_eq!(t(cut, close(TeardownKind::Fin, false), false), Some(true));
        assert_eq!(t(cut, close(TeardownKind::Fin, true), true), Some(false));
        assert_eq!(
            t(
                Some(LastResponse::Complete),
                close(TeardownKind::Fin, false),
                false
            ),
            Some(false)
        );
        // delimited by the close: whole with the server's close_notify
        let until = Some(LastResponse::UntilClose);
        assert_eq!(t(until, close(TeardownKind::Fin, false), false), Some(true));
        assert_eq!(t(until, close(TeardownKind::Fin, true), true), Some(false));
        assert_eq!(intent(None, None, false).response_truncated, None);
    }
}
