//! Whole TLS 1.2 connections written from a script of what each side does
//! and when: a handshake, then application data, close_notify, FIN and RST
//! at given times. For the audit's and the reports' tests: idle closes, a
//! request racing a close, resets, thousands of flows over many servers.

use crate::capture::{Pkt, ACK, FIN, PSH, RST, SYN};
use crate::tls::{ccs, client_hello_record, opaque, server_hello_record, HANDSHAKE};
use std::net::Ipv4Addr;

/// What one side does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// An application-data record of this many body bytes.
    Data(usize),
    /// close_notify (an encrypted TLS 1.2 alert: 26 bytes of body).
    CloseNotify,
    Fin,
    Rst,
}

/// Who does it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// One step: at `secs` after the connection's start, `side` does `act`.
pub type Step = (f64, Side, Act);

/// A connection from `client` to `server` starting at `t0_us` (capture
/// time, µs): the TCP and TLS 1.2 handshakes (done within 4 ms), then the
/// steps in order of time. Each side's segments carry its next sequence
/// number; a FIN takes one.
pub fn tls12(
    client: (Ipv4Addr, u16),
    server: (Ipv4Addr, u16),
    t0_us: u64,
    steps: &[Step],
) -> Vec<Pkt> {
    let (mut cs, mut ss) = (1000u32, 5000u32);
    let mut v = Vec::new();
    let push =
        |v: &mut Vec<Pkt>, at: f64, side: Side, seq: u32, ack: u32, flags: u8, payload: Vec<u8>| {
            let (src, dst) = match side {
                Side::Client => (client, server),
                Side::Server => (server, client),
            };
            v.push(Pkt {
                ts_us: t0_us + (at * 1e6).round() as u64,
                src,
                dst,
                seq,
                ack,
                flags,
                payload,
            });
        };
    push(&mut v, 0.0, Side::Client, cs - 1, 0, SYN, vec![]);
    push(&mut v, 0.0001, Side::Server, ss - 1, cs, SYN | ACK, vec![]);
    push(&mut v, 0.0002, Side::Client, cs, ss, ACK, vec![]);
    let send =
        |v: &mut Vec<Pkt>, at: f64, side: Side, payload: Vec<u8>, cs: &mut u32, ss: &mut u32| {
            let n = payload.len() as u32;
            match side {
                Side::Client => {
                    push(v, at, side, *cs, *ss, ACK | PSH, payload);
                    *cs = cs.wrapping_add(n);
                }
                Side::Server => {
                    push(v, at, side, *ss, *cs, ACK | PSH, payload);
                    *ss = ss.wrapping_add(n);
                }
            }
        };
    send(
        &mut v,
        0.0005,
        Side::Client,
        client_hello_record(b"scripted.test"),
        &mut cs,
        &mut ss,
    );
    let mut flight = server_hello_record(false);
    flight.extend(opaque(HANDSHAKE, 900));
    send(&mut v, 0.001, Side::Server, flight, &mut cs, &mut ss);
    let mut fin = opaque(HANDSHAKE, 70);
    fin.extend(ccs());
    fin.extend(opaque(HANDSHAKE, 40));
    send(&mut v, 0.002, Side::Client, fin, &mut cs, &mut ss);
    let mut fin = ccs();
    fin.extend(opaque(HANDSHAKE, 40));
    send(&mut v, 0.003, Side::Server, fin, &mut cs, &mut ss);
    let mut steps = steps.to_vec();
    steps.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (at, side, act) in steps {
        match act {
            Act::Data(n) => send(&mut v, at, side, opaque(23, n), &mut cs, &mut ss),
            Act::CloseNotify => send(&mut v, at, side, opaque(21, 26), &mut cs, &mut ss),
            Act::Fin | Act::Rst => {
                let flags = if act == Act::Fin {
                    FIN | ACK
                } else {
                    RST | ACK
                };
                let (seq, ack) = match side {
                    Side::Client => (cs, ss),
                    Side::Server => (ss, cs),
                };
                push(&mut v, at, side, seq, ack, flags, vec![]);
                if act == Act::Fin {
                    match side {
                        Side::Client => cs = cs.wrapping_add(1),
                        Side::Server => ss = ss.wrapping_add(1),
                    }
                }
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_becomes_segments_in_order_with_sequence_numbers() {
        let c = (Ipv4Addr::new(10, 0, 0, 1), 40000);
        let s = (Ipv4Addr::new(10, 0, 0, 2), 443);
        let p = tls12(
            c,
            s,
            1_000_000,
            &[
                (0.5, Side::Client, Act::Data(100)),
                (0.01, Side::Server, Act::Data(10)),
                (2.0, Side::Server, Act::Fin),
            ],
        );
        assert_eq!(p.len(), 3 + 4 + 3);
        assert!(p.windows(2).all(|w| w[0].ts_us <= w[1].ts_us));
        let fin = p.last().expect("a FIN");
        assert_eq!(fin.flags, FIN | ACK);
        assert_eq!(fin.ts_us, 3_000_000);
        // the server's data came first (0.01 s), then the client's
        assert_eq!(p[7].src, s);
        assert_eq!(p[8].src, c);
        assert_eq!(p[8].seq, p[5].seq + p[5].payload.len() as u32);
    }
}
