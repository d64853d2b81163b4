//! Unit tests of `table.rs`.

use super::*;
use std::net::{IpAddr, Ipv4Addr};
use tlsclose_capture::{Endpoint, TcpFlags};

/// Counts what it is given.
#[derive(Default)]
struct Count {
    bytes: u64,
    gaps: u64,
}

impl StreamConsumer for Count {
    fn segment(&mut self, _: Dir, _: &Segment<'_>, _: SegMeta) {}
    fn data(&mut self, _: Dir, _: bool, data: &[u8], _: SegMeta) {
        self.bytes += data.len() as u64;
    }
    fn gap(&mut self, _: Dir, len: u64, _: SegMeta) {
        self.gaps += len;
    }
    fn fin(&mut self, _: Dir, _: SegMeta) {}
    fn rst(&mut self, _: Dir, _: SegMeta) {}
}

fn ep(n: u32, port: u16) -> Endpoint {
    Endpoint {
        ip: IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n)),
        port,
    }
}

fn seg<'a>(
    client: u32,
    from_client: bool,
    seq: u32,
    flags: TcpFlags,
    payload: &'a [u8],
) -> Segment<'a> {
    let (c, s) = (ep(client, 40000), ep(0, 443));
    let (src, dst) = if from_client { (c, s) } else { (s, c) };
    Segment {
        src,
        dst,
        seq,
        ack: 0,
        flags,
        payload,
        wire_len: payload.len() as u32,
    }
}

const SYN: TcpFlags = TcpFlags {
    syn: true,
    ack: false,
    fin: false,
    rst: false,
    psh: false,
};
const DATA: TcpFlags = TcpFlags {
    syn: false,
    ack: false,
    fin: false,
    rst: false,
    psh: true,
};
const ACK: TcpFlags = TcpFlags {
    syn: false,
    ack: true,
    fin: false,
    rst: false,
    psh: false,
};
const FIN: TcpFlags = TcpFlags {
    syn: false,
    ack: false,
    fin: true,
    rst: false,
    psh: false,
};

fn meta(frame: u64) -> SegMeta {
    SegMeta::at(frame, Timestamp(1_000_000 * frame as i64))
}

#[test]
fn a_full_table_evicts_the_longest_idle_flows() {
    let mut t = FlowTable::<Count>::new(FlowTableConfig {
        max_flows: 32,
        ..FlowTableConfig::default()
    });
    let mut ended: Vec<(u64, EndReason)> = Vec::new();
    let mut frame = 0;
    // flow 0 stays busy while 200 half-open flows arrive
    for n in 0..200u32 {
        frame += 1;
        t.process(
            &seg(n + 1, true, 7, SYN, b""),
            meta(frame),
            &mut |_| Count::default(),
            &mut |f| ended.push((f.start.first.frame, f.reason)),
        );
        frame += 1;
        t.process(
            &seg(0, true, 100 + n, DATA, b"x"),
            meta(frame),
            &mut |_| Count::default(),
            &mut |f| ended.push((f.start.first.frame, f.reason)),
        );
        assert!(t.live_flows() <= 32);
    }
    assert!(t.stats().evicted_flows > 150);
    assert_eq!(t.stats().table_full_drops, 0);
    assert!(ended.iter().all(|e| e.1 == EndReason::Evicted));
    // the busy flow (first seen in frame 2) was never evicted
    assert!(!ended.iter().any(|e| e.0 == 2));
    let mut last = Vec::new();
    t.finish(&mut |f| last.push((f.start.first.frame, f.reason, f.consumer.bytes)));
    assert!(last.contains(&(2, EndReason::EndOfCapture, 200)));
}

#[test]
fn the_total_held_over_all_flows_is_bounded() {
    let limit = 4 * (100 + crate::HELD_SEGMENT_OVERHEAD);
    let mut t = FlowTable::<Count>::new(FlowTableConfig {
        reassembly_total_limit: limit,
        ..FlowTableConfig::default()
    });
    let mut done = Vec::new();
    let mut frame = 0;
    let payload = [7u8; 100];
    for n in 0..10u32 {
        frame += 1;
        t.process(
            &seg(n, true, 0, SYN, b""),
            meta(frame),
            &mut |_| Count::default(),
            &mut |f| done.push(f),
        );
    }
    // every flow holds segments after a hole at stream offset 0
    for k in 1..20u32 {
        for n in 0..10u32 {
            frame += 1;
            t.process(
                &seg(n, true, 1 + 1000 * k, DATA, &payload),
                meta(frame),
                &mut |_| Count::default(),
                &mut |f| done.push(f),
            );
            assert!(
                t.stats().held_bytes <= limit,
                "held {}",
                t.stats().held_bytes
            );
        }
    }
    assert!(t.stats().total_limit_hits > 0);
    assert!(t.stats().peak_held_bytes <= limit);
    t.finish(&mut |f| done.push(f));
    assert_eq!(t.stats().held_bytes, 0);
    let shared: u64 = done
        .iter()
        .flat_map(|f| f.reassembly.iter().map(|r| r.shared_limit_gaps))
        .sum();
    assert!(shared > 0);
    // nothing is lost silently: every byte is delivered or a gap
    for f in &done {
        assert_eq!(f.consumer.bytes + f.consumer.gaps, 19 * 1000 + 100);
    }
}

/// Ends of each flow handed out: (first frame, last frame, reason).
type Ends = Vec<(u64, u64, EndReason)>;

fn feed(t: &mut FlowTable<Count>, ends: &mut Ends, s: Segment<'_>, frame: u64, ts_ms: i64) {
    let m = SegMeta::at(frame, Timestamp(ts_ms * 1_000_000));
    t.process(&s, m, &mut |_| Count::default(), &mut |f| {
        ends.push((f.start.first.frame, f.last.frame, f.reason))
    });
}

fn with_ack(mut s: Segment<'_>, ack: u32) -> Segment<'_> {
    s.ack = ack;
    s.flags.ack = true;
    s
}

#[test]
fn a_flow_closed_by_fins_takes_its_final_ack() {
    let mut t = FlowTable::<Count>::new(FlowTableConfig::default());
    let mut ends = Ends::new();
    feed(&mut t, &mut ends, seg(1, true, 0, SYN, b""), 1, 0);
    feed(
        &mut t,
        &mut ends,
        with_ack(seg(1, false, 500, SYN, b""), 1),
        2,
        1,
    );
    feed(
        &mut t,
        &mut ends,
        with_ack(seg(1, true, 1, FIN, b""), 501),
        3,
        2,
    );
    // the server's FIN closes the flow; its ACK from the client is its last packet
    feed(
        &mut t,
        &mut ends,
        with_ack(seg(1, false, 501, FIN, b""), 2),
        4,
        3,
    );
    assert!(ends.is_empty(), "kept for the final ACK");
    // an ACK of something older is not the final one
    feed(
        &mut t,
        &mut ends,
        with_ack(seg(1, true, 2, DATA, b""), 501),
        5,
        4,
    );
    assert!(ends.is_empty());
    feed(
        &mut t,
        &mut ends,
        with_ack(seg(1, true, 2, ACK, b""), 502),
        6,
        5,
    );
    assert_eq!(ends, vec![(1, 6, EndReason::Closed)]);
    // a retransmission after that is late: no new flow
    feed(
        &mut t,
        &mut ends,
        with_ack(seg(1, false, 501, FIN, b""), 2),
        7,
        6,
    );
    t.finish(&mut |f| ends.push((f.start.first.frame, f.last.frame, f.reason)));
    assert_eq!(ends.len(), 1);
    assert_eq!(t.stats().late_segments, 1);
}

/// A flow table and what it hands back: each ended flow as (first frame,
/// last frame, segments, reason). Frames are numbered as they are fed.
struct Feeder {
    t: FlowTable<Count>,
    ends: Vec<(u64, u64, u64, EndReason)>,
    frame: u64,
}

impl Feeder {
    fn new(config: FlowTableConfig) -> Self {
        Feeder {
            t: FlowTable::new(config),
            ends: Vec::new(),
            frame: 0,
        }
    }

    /// Feeds `s` at `ms` milliseconds; its frame number.
    fn at(&mut self, ms: i64, s: Segment<'_>) -> u64 {
        self.frame += 1;
        let m = SegMeta::at(self.frame, Timestamp(ms * 1_000_000));
        let ends = &mut self.ends;
        self.t.process(&s, m, &mut |_| Count::default(), &mut |f| {
            ends.push((f.start.first.frame, f.last.frame, f.segments, f.reason))
        });
        self.frame
    }

    /// The capture clock says `ms` milliseconds.
    fn tick(&mut self, ms: i64) {
        let ends = &mut self.ends;
        self.t.tick(Timestamp(ms * 1_000_000), &mut |f| {
            ends.push((f.start.first.frame, f.last.frame, f.segments, f.reason))
        });
    }

    /// Client `n` opens and both sides close by FIN, the server's second
    /// (sequence 501, so the final ACK is the client's acknowledging 502),
    /// the server's FIN at `ms`: the first frame.
    fn closed_by_fins(&mut self, n: u32, ms: i64) -> u64 {
        let first = self.at(ms - 3, seg(n, true, 0, SYN, b""));
        self.at(ms - 2, with_ack(seg(n, false, 500, SYN, b""), 1));
        self.at(ms - 1, with_ack(seg(n, true, 1, FIN, b""), 501));
        self.at(ms, with_ack(seg(n, false, 501, FIN, b""), 2));
        first
    }

    /// The server's FIN again.
    fn fin_again(&mut self, n: u32, ms: i64) -> u64 {
        self.at(ms, with_ack(seg(n, false, 501, FIN, b""), 2))
    }

    /// The client's final ACK.
    fn final_ack(&mut self, n: u32, ms: i64) -> u64 {
        self.at(ms, with_ack(seg(n, true, 2, ACK, b""), 502))
    }
}

#[test]
fn the_wait_for_the_final_ack_follows_the_fins_backoff_within_its_bounds() {
    let cfg = FlowTableConfig::default();
    let s = |ms: i64| Timestamp(ms * 1_000_000);
    let at = |fin: i64, last: i64| cfg.final_ack_deadline(s(fin), s(last));
    // nothing after the second FIN: the least wait, 5 s
    assert_eq!(at(1000, 1000), s(6000));
    // a retransmission 1.2 s after it: still 5 s more
    assert_eq!(at(1000, 2200), s(7200));
    // one 6.4 s after it: 3 times that more (the next is due by 19.2 s)
    assert_eq!(at(0, 6400), s(25_600));
    // never past the tombstone's lifetime after the second FIN
    assert_eq!(at(0, 100_000), s(120_000));
    // nor quiet for longer than an open flow may be
    let short = FlowTableConfig {
        idle_timeout_ns: 2_000_000_000,
        ..cfg
    };
    assert_eq!(short.final_ack_deadline(s(0), s(6400)), s(8400));
}

#[test]
fn a_closed_flow_without_its_final_ack_ends_after_its_wait() {
    let mut f = Feeder::new(FlowTableConfig::default());
    f.closed_by_fins(1, 3);
    // a retransmitted FIN right away is the flow's
    let fin = f.fin_again(1, 4);
    // the clock moves on: past the old 1 s linger, up to the wait (5 s
    // after the last packet)
    for ms in [1004, 2004, 3004, 4004, 5003] {
        f.tick(ms);
    }
    assert!(f.ends.is_empty(), "still waiting: {:?}", f.ends);
    f.tick(5004);
    assert_eq!(f.ends, vec![(1, fin, 5, EndReason::Closed)]);
    // what comes after hits its tombstone: no new, mid-stream flow
    f.final_ack(1, 5100);
    f.t.finish(&mut |_| panic!("no flow is left"));
    assert_eq!(f.t.stats().late_segments, 1);
    assert_eq!(f.t.stats().flows, 1);
}

#[test]
fn a_final_ack_3_s_after_the_last_fin_is_joined() {
    let mut f = Feeder::new(FlowTableConfig::default());
    f.closed_by_fins(1, 3);
    // another flow's packets move the clock on (and sweep the table)
    for ms in [1000, 2000, 3000] {
        f.at(ms, seg(2, true, ms as u32, DATA, b"x"));
    }
    assert!(f.ends.is_empty());
    let ack = f.final_ack(1, 3003);
    assert_eq!(f.ends, vec![(1, ack, 5, EndReason::Closed)]);
    assert_eq!(f.t.stats().late_segments, 0);
}

#[test]
fn a_retransmitted_fin_and_its_ack_after_the_linger_are_joined() {
    let mut f = Feeder::new(FlowTableConfig::default());
    f.closed_by_fins(1, 3);
    f.tick(1003);
    f.tick(1103);
    f.fin_again(1, 1203);
    assert!(f.ends.is_empty());
    let ack = f.final_ack(1, 1303);
    assert_eq!(f.ends, vec![(1, ack, 6, EndReason::Closed)]);
    assert_eq!(f.t.stats().late_segments, 0);
}

#[test]
fn the_wait_follows_a_fin_retransmitted_with_backoff() {
    // Linux with its least RTO, 200 ms: the FIN again 0.2, 0.6, 1.4, 3.0,
    // 6.2, 12.6 and 25.4 s after it (6.4 s, then 12.8 s, between two: more
    // than the least wait), the final ACK after the last
    let mut f = Feeder::new(FlowTableConfig::default());
    let fin_at = 1000;
    f.closed_by_fins(1, fin_at);
    let mut ms = fin_at;
    for rto in [200, 400, 800, 1600, 3200, 6400, 12_800] {
        let next = ms + rto;
        while ms + 1000 < next {
            ms += 1000;
            f.tick(ms);
        }
        ms = next;
        f.fin_again(1, ms);
    }
    assert!(f.ends.is_empty(), "{:?}", f.ends);
    let ack = f.final_ack(1, ms + 1);
    assert_eq!(f.ends, vec![(1, ack, 4 + 7 + 1, EndReason::Closed)]);
}

#[test]
fn a_flow_that_never_gets_its_final_ack_ends_at_the_bound_then_its_tombstone_takes_the_rest() {
    let mut f = Feeder::new(FlowTableConfig::default());
    f.closed_by_fins(1, 0);
    // its FIN retransmitted with backoff from 1 s, for ever (the final ACK
    // never comes): 1, 3, 7, 15, 31, 63 and 127 s after it
    let mut fins = Vec::new();
    let mut ms = 0;
    let mut rto = 1000;
    for now in (1000..=130_000).step_by(1000) {
        if now == ms + rto {
            fins.push(f.fin_again(1, now));
            ms = now;
            rto *= 2;
        } else {
            f.tick(now);
        }
        if now < 120_000 {
            assert!(f.ends.is_empty(), "ended at {now} ms: {:?}", f.ends);
        }
    }
    // 2 minutes after the second FIN it ends, its last packet the FIN at 63 s
    assert_eq!(fins.len(), 7);
    assert_eq!(f.ends, vec![(1, fins[5], 4 + 6, EndReason::Closed)]);
    // the FIN at 127 s hit the tombstone; so does a final ACK now
    assert_eq!(f.t.stats().late_segments, 1);
    f.final_ack(1, 131_000);
    assert_eq!(f.t.stats().late_segments, 2);
    assert_eq!(f.t.live_flows(), 0);
    assert_eq!(f.t.stats().flows, 1);
}

#[test]
fn a_new_syn_while_waiting_for_the_final_ack_ends_the_old_flow_as_closed() {
    let mut f = Feeder::new(FlowTableConfig::default());
    let first = f.closed_by_fins(1, 3);
    f.tick(1003);
    f.tick(2003);
    assert!(f.ends.is_empty(), "still waiting for its final ACK");
    // a new connection on the 4-tuple, past the old 1 s linger: the old
    // flow ends as closed, not replaced (no port reuse), and a new one starts
    let syn = f.at(3000, seg(1, true, 99, SYN, b""));
    assert_eq!(f.ends, vec![(first, 4, 4, EndReason::Closed)]);
    assert_eq!(f.t.stats().port_reuses, 0);
    assert_eq!(f.t.live_flows(), 1);
    f.t.finish(&mut |e| {
        f.ends
            .push((e.start.first.frame, e.last.frame, e.segments, e.reason))
    });
    assert_eq!(f.ends.get(1), Some(&(syn, syn, 1, EndReason::EndOfCapture)));
    assert_eq!(f.t.stats().flows, 2);
    assert_eq!(f.t.stats().late_segments, 0);
}

#[test]
fn finished_flows_remembered_are_bounded() {
    let mut t = FlowTable::<Count>::new(FlowTableConfig {
        max_flows: 4,
        ..FlowTableConfig::default()
    });
    let mut frame = 0;
    for n in 0..10u32 {
        for (from_client, flags, seq) in [
            (true, SYN, 0),
            (true, FIN, 1),
            (false, FIN, 0),
            (true, ACK, 2),
        ] {
            frame += 1;
            let mut s = seg(n, from_client, seq, flags, b"");
            // the final ACK acknowledges the server's FIN (sequence 0)
            s.ack = 1;
            t.process(&s, meta(frame), &mut |_| Count::default(), &mut |_| {});
        }
    }
    assert_eq!(t.stats().flows, 10);
    assert_eq!(t.stats().closed_not_remembered, 6);
    assert_eq!(t.stats().evicted_flows, 0);
}

#[test]
fn a_flow_waiting_for_its_final_ack_makes_room_first_and_ends_as_closed() {
    let mut f = Feeder::new(FlowTableConfig {
        max_flows: 2,
        ..FlowTableConfig::default()
    });
    let waiting = f.closed_by_fins(1, 3);
    let open = f.at(10, seg(2, true, 0, SYN, b""));
    f.at(2000, seg(2, true, 1, DATA, b"x"));
    // a third flow finds the table full: the one idle the longest goes
    f.at(2001, seg(3, true, 0, SYN, b""));
    assert_eq!(f.ends, vec![(waiting, 4, 4, EndReason::Closed)]);
    assert_eq!(f.t.stats().evicted_flows, 0);
    assert_eq!(f.t.live_flows(), 2);
    // it left its tombstone: its final ACK starts no flow
    f.final_ack(1, 2002);
    assert_eq!(f.t.stats().late_segments, 1);
    assert!(!f.ends.iter().any(|e| e.0 == open));
}

/// A sweep that ended nothing soon sets when the next one can (the
/// earliest due in the table); a flow whose due comes earlier after that
/// (both FINs: its wait for the final ACK) still ends on time.
#[test]
fn a_flow_due_sooner_after_a_sweep_still_ends_on_time() {
    let mut f = Feeder::new(FlowTableConfig::default());
    let second = f.at(0, seg(2, true, 0, SYN, b""));
    f.closed_by_fins(1, 3);
    // flow 1 ends after its wait: the next due is its tombstone's end (120
    // s) or flow 2's idle timeout (300 s)
    f.tick(5004);
    assert_eq!(f.ends.len(), 1);
    // flow 2 closes by FINs at 10 s: due 5 s later
    f.at(9_998, with_ack(seg(2, false, 500, SYN, b""), 1));
    f.at(9_999, with_ack(seg(2, true, 1, FIN, b""), 501));
    let fin = f.at(10_000, with_ack(seg(2, false, 501, FIN, b""), 2));
    for ms in (11_000..15_000).step_by(1000) {
        f.tick(ms);
    }
    f.tick(14_999);
    assert_eq!(f.ends.len(), 1, "still waiting: {:?}", f.ends);
    f.tick(15_000);
    assert_eq!(f.ends.get(1), Some(&(second, fin, 4, EndReason::Closed)));
}

/// Sweeps that find nothing due skip the table, but what falls due
/// between them is found: a flow quiet for its idle timeout ends at the
/// first tick after it (not before, when a later segment moved it on).
#[test]
fn a_flow_idle_between_skipped_sweeps_ends_on_time() {
    let mut f = Feeder::new(FlowTableConfig {
        idle_timeout_ns: 10_000_000_000,
        ..FlowTableConfig::default()
    });
    let idle = f.at(0, seg(3, true, 0, SYN, b""));
    let last = f.at(5_000, seg(3, true, 1, DATA, b"x"));
    for s in 1..15 {
        f.tick(s * 1000);
    }
    assert!(f.ends.is_empty(), "due at 15 s: {:?}", f.ends);
    f.tick(15_000);
    assert_eq!(f.ends, vec![(idle, last, 2, EndReason::IdleTimeout)]);
}

/// A tombstone is forgotten once its lifetime (120 s) is over, though the
/// flow it was left by was due much later (its idle timeout, 300 s).
#[test]
fn a_tombstone_is_forgotten_on_time_between_skipped_sweeps() {
    let mut f = Feeder::new(FlowTableConfig::default());
    f.closed_by_fins(1, 3);
    let ack = f.final_ack(1, 4);
    assert_eq!(f.ends.last().map(|e| e.1), Some(ack));
    for s in 1..=120 {
        f.tick(s * 1000);
    }
    f.at(120_000, seg(1, true, 2, ACK, b""));
    assert_eq!(f.t.stats().late_segments, 1, "the tombstone is still there");
    f.tick(120_004);
    f.at(120_005, seg(1, true, 2, ACK, b""));
    assert_eq!(f.t.stats().late_segments, 1, "forgotten: a new flow");
    assert_eq!(f.t.stats().flows, 2);
}
