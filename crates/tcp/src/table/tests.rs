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

#[test]
fn a_closed_flow_without_its_final_ack_ends_after_the_linger() {
    let cfg = FlowTableConfig::default();
    let linger_ms = cfg.close_linger_ns / 1_000_000;
    let mut t = FlowTable::<Count>::new(cfg);
    let mut ends = Ends::new();
    feed(&mut t, &mut ends, seg(1, true, 0, SYN, b""), 1, 0);
    feed(
        &mut t,
        &mut ends,
        with_ack(seg(1, true, 1, FIN, b""), 501),
        2,
        1,
    );
    feed(
        &mut t,
        &mut ends,
        with_ack(seg(1, false, 501, FIN, b""), 2),
        3,
        2,
    );
    // a retransmitted FIN inside the linger is the flow's
    feed(
        &mut t,
        &mut ends,
        with_ack(seg(1, false, 501, FIN, b""), 2),
        4,
        3,
    );
    // another flow's packets move the capture clock on
    feed(
        &mut t,
        &mut ends,
        seg(2, true, 0, SYN, b""),
        5,
        2 + linger_ms / 2,
    );
    assert!(ends.is_empty());
    feed(
        &mut t,
        &mut ends,
        seg(2, true, 1, DATA, b"x"),
        6,
        2 + linger_ms + 1001,
    );
    assert_eq!(ends, vec![(1, 4, EndReason::Closed)]);
    // a new connection on the 4-tuple of a flow that is over but for its
    // last packets ends the old one as closed, not as port reuse
    feed(&mut t, &mut ends, seg(3, true, 0, SYN, b""), 7, 10_000);
    feed(
        &mut t,
        &mut ends,
        with_ack(seg(3, true, 1, FIN, b""), 1),
        8,
        10_001,
    );
    feed(
        &mut t,
        &mut ends,
        with_ack(seg(3, false, 0, FIN, b""), 2),
        9,
        10_002,
    );
    feed(&mut t, &mut ends, seg(3, true, 99, SYN, b""), 10, 10_003);
    assert_eq!(ends.last(), Some(&(7, 9, EndReason::Closed)));
    assert_eq!(t.stats().port_reuses, 0);
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
