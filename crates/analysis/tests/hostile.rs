//! Hostile traffic, generated in the test (nothing large in the repo):
//! every resource limit holds and is counted, time stays linear in the
//! input, and the peak RSS of the process stays under 256 MiB. Each
//! scenario runs in a child process of its own (see `common::isolated`),
//! so that the peak RSS measured (VmHWM) is the scenario's.
mod common;

use common::*;
use tlsclose_analysis::{AnalyzerConfig, Ending, FlowReport};

const RSS_LIMIT_KIB: u64 = 256 * 1024;
const T0: u64 = 1_700_000_000_000_000;

fn assert_rss(rss: u64, what: &str) {
    assert!(
        rss < RSS_LIMIT_KIB,
        "{what}: peak RSS {} MiB is over 256 MiB",
        rss / 1024
    );
}

/// The whole input may take at most 10 times as long as its first quarter
/// (linear: 4; quadratic: 16). Loose, for busy machines.
fn assert_linear(quarter: f64, all: f64, what: &str) {
    let ratio = all / quarter.max(1e-3);
    assert!(
        ratio < 10.0,
        "{what}: the whole input took {ratio:.1}x the time of its first quarter \
         ({quarter:.2} s, then {all:.2} s)"
    );
}

fn field(line: &str, key: &str) -> f64 {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{key} missing in {line}"))
}

/// A short, normal TLS 1.2-looking connection (client `n`): ClientHello
/// with SNI "legit.test", ServerHello, a record each way, FINs.
fn legit(n: u32, t0: u64) -> Vec<Pkt> {
    let ch = record(
        22,
        TLS1_2,
        &handshake(1, &client_hello(&[(0, sni_ext(b"legit.test"))])),
    );
    let mut sh_body = vec![3, 3];
    sh_body.extend_from_slice(&[9; 32]);
    sh_body.extend_from_slice(&[0, 0xc0, 0x2f, 0]);
    let sh = record(22, TLS1_2, &handshake(2, &sh_body));
    connection(
        n,
        t0,
        &[ch, record(23, TLS1_2, &[1; 40])],
        &[sh, record(23, TLS1_2, &[2; 40])],
    )
}

fn find_sni<'a>(reports: &'a [FlowReport], sni: &str) -> Option<&'a FlowReport> {
    reports.iter().find(|r| r.sni.as_deref() == Some(sni))
}

// ----- a SYN flood ------------------------------------------------------------

/// `n` SYNs from distinct clients, 1 µs apart, none answered, then one
/// real connection.
fn syn_flood(n: u32) -> impl Iterator<Item = Pkt> + Send {
    (0..n)
        .map(|i| {
            let (c, s) = endpoints(i);
            Pkt {
                ts_us: T0 + u64::from(i),
                src: c,
                dst: s,
                seq: i.wrapping_mul(2_654_435_761),
                ack: 0,
                flags: SYN,
                payload: vec![],
            }
        })
        .chain(legit(n + 1, T0 + u64::from(n)))
}

#[test]
fn syn_flood_of_a_million_half_open_flows() {
    let Some((rss, _, line)) = isolated("syn_flood_of_a_million_half_open_flows", || {
        let r = run_timed(syn_flood(1_000_000), AnalyzerConfig::default(), 1_000_000);
        let (small, large) = (r.quarter_secs, r.secs);
        let legit = find_sni(&r.reports, "legit.test").map(|f| f.ending);
        assert_eq!(
            legit,
            Some(Ending::FinOnly),
            "the real connection after the flood"
        );
        format!(
            "small={small} large={large} frames={} peak_live={} evicted={} non_tls={}",
            r.frames, r.peak_live_flows, r.stats.table.evicted_flows, r.stats.non_tls_flows
        )
    }) else {
        return;
    };
    assert_rss(rss, "SYN flood");
    let max = AnalyzerConfig::default().table.max_flows as f64;
    assert!(field(&line, "peak_live") <= max);
    assert!(field(&line, "evicted") >= 1_000_000.0 - max);
    // every flow is accounted for: the half-open ones are non-TLS flows
    assert_eq!(field(&line, "non_tls"), 1_000_000.0);
    assert_linear(field(&line, "small"), field(&line, "large"), "SYN flood");
}

// ----- a million one-byte segments in reverse order ----------------------------

fn reverse_segments(n: u32) -> impl Iterator<Item = Pkt> + Send {
    let (c, s) = endpoints(7);
    let isn = 4_000_000_000u32; // the stream wraps around 2^32 on the way
    let handshake = vec![
        Pkt {
            ts_us: T0,
            src: c,
            dst: s,
            seq: isn,
            ack: 0,
            flags: SYN,
            payload: vec![],
        },
        Pkt {
            ts_us: T0 + 1,
            src: s,
            dst: c,
            seq: 77,
            ack: isn + 1,
            flags: SYN | ACK,
            payload: vec![],
        },
    ];
    let data = (0..n).rev().map(move |i| Pkt {
        ts_us: T0 + 2 + u64::from(n - i),
        src: c,
        dst: s,
        seq: isn.wrapping_add(1).wrapping_add(i),
        ack: 78,
        flags: ACK,
        payload: vec![(i % 251) as u8],
    });
    let fin = std::iter::once(Pkt {
        ts_us: T0 + 10 + u64::from(n),
        src: c,
        dst: s,
        seq: isn.wrapping_add(1).wrapping_add(n),
        ack: 78,
        flags: FIN | ACK,
        payload: vec![],
    });
    handshake.into_iter().chain(data).chain(fin)
}

#[test]
fn a_million_one_byte_segments_in_reverse_order() {
    let Some((rss, _, line)) = isolated("a_million_one_byte_segments_in_reverse_order", || {
        let r = run_timed(
            reverse_segments(1_000_000),
            AnalyzerConfig::default(),
            1_000_000,
        );
        let (small, large) = (r.quarter_secs, r.secs);
        format!(
            "small={small} large={large} frames={} limit_gaps={} peak_held={}",
            r.frames, r.stats.limits.reassembly_limit_gaps, r.stats.table.peak_held_bytes
        )
    }) else {
        return;
    };
    assert_rss(rss, "reverse segments");
    // the per-direction limit was reached and counted, and held memory bounded
    assert!(field(&line, "limit_gaps") >= 1.0);
    let limit = AnalyzerConfig::default().table.reassembly_limit as f64;
    assert!(field(&line, "peak_held") <= 2.0 * limit);
    assert_linear(
        field(&line, "small"),
        field(&line, "large"),
        "reverse segments",
    );
}

// ----- held bytes over many flows ----------------------------------------------

/// `flows` connections, each sending `per_flow` 1000-byte segments after a
/// hole, interleaved.
fn hoarders(flows: u32, per_flow: u32) -> impl Iterator<Item = Pkt> + Send {
    let syns = (0..flows).map(|f| {
        let (c, s) = endpoints(f);
        Pkt {
            ts_us: T0 + u64::from(f),
            src: c,
            dst: s,
            seq: 0,
            ack: 0,
            flags: SYN,
            payload: vec![],
        }
    });
    let data = (1..=per_flow).flat_map(move |k| {
        (0..flows).map(move |f| {
            let (c, s) = endpoints(f);
            Pkt {
                ts_us: T0 + 1_000_000 + u64::from(k) * 1000 + u64::from(f),
                src: c,
                dst: s,
                seq: 1 + 2000 * k, // a 1000-byte hole before each
                ack: 0,
                flags: ACK,
                payload: vec![0x17; 1000],
            }
        })
    });
    syns.chain(data)
}

#[test]
fn out_of_order_bytes_held_over_all_flows_are_bounded() {
    let Some((rss, _, line)) =
        isolated("out_of_order_bytes_held_over_all_flows_are_bounded", || {
            // 400 flows x 500 segments: 200 MB held without the total limit
            let r = run(hoarders(400, 500), AnalyzerConfig::default());
            format!(
                "peak_held={} total_hits={} total_gaps={}",
                r.stats.table.peak_held_bytes,
                r.stats.table.total_limit_hits,
                r.stats.limits.reassembly_total_limit_gaps
            )
        })
    else {
        return;
    };
    assert_rss(rss, "hoarding flows");
    let total = AnalyzerConfig::default().table.reassembly_total_limit as f64;
    assert!(field(&line, "peak_held") <= total);
    assert!(field(&line, "total_hits") >= 1.0);
    assert!(field(&line, "total_gaps") >= 1.0);
}

// ----- sequence numbers jumping by 2 GB -----------------------------------------

#[test]
fn sequence_number_jumping_by_2_gb() {
    let Some((rss, _, line)) = isolated("sequence_number_jumping_by_2_gb", || {
        let mut pkts = legit(1, T0);
        // after the client's records (the packet before its FIN), segments
        // 2^31 - 1 and 2^31 ahead and behind
        let fin_at = pkts
            .iter()
            .position(|p| p.flags & FIN != 0)
            .unwrap_or(pkts.len());
        let base = pkts[fin_at].clone();
        let mut extra = Vec::new();
        for (k, jump) in [
            (1u64, 0x7fff_ffffu32),
            (2, 0x8000_0000),
            (3, 0x8000_0001),
            (4, 0xffff_ffff),
        ] {
            extra.push(Pkt {
                ts_us: base.ts_us - 500 + k,
                flags: ACK | PSH,
                seq: base.seq.wrapping_add(jump),
                payload: record(23, TLS1_2, &[5; 100]),
                ..base.clone()
            });
        }
        pkts.splice(fin_at..fin_at, extra);
        let r = run(pkts.into_iter(), AnalyzerConfig::default());
        let f = find_sni(&r.reports, "legit.test").expect("the flow is reported");
        // the same connection without the jumps
        let plain = run(legit(1, T0).into_iter(), AnalyzerConfig::default());
        let p = find_sni(&plain.reports, "legit.test").expect("the plain flow");
        let verdict = |f: &FlowReport| {
            format!(
                "{:?} {:?} {:?} {:?} {:?} {:?}",
                f.ending,
                f.closer,
                f.client_close_notify,
                f.server_close_notify,
                f.teardown_frame.map(|_| ()),
                f.version
            )
        };
        println!(
            "jumped: {} gap {}; plain: {}",
            verdict(f),
            f.gap,
            verdict(p)
        );
        format!(
            "flows={} same_verdict={} gap={} plain_gap={} peak_held={}",
            r.reports.len(),
            u8::from(verdict(f) == verdict(p)),
            u8::from(f.gap),
            u8::from(p.gap),
            r.stats.table.peak_held_bytes
        )
    }) else {
        return;
    };
    assert_rss(rss, "2 GB jump");
    assert_eq!(field(&line, "flows"), 1.0, "{line}");
    // the jumps change nothing the capture shows of the connection's end
    assert_eq!(field(&line, "same_verdict"), 1.0, "{line}");
    assert_eq!(field(&line, "plain_gap"), 0.0, "{line}");
    // the segments ahead are held (bounded: four of 100 bytes, with their
    // bookkeeping), and bytes never captured before them are a gap
    assert_eq!(field(&line, "gap"), 1.0, "{line}");
    let held = field(&line, "peak_held");
    assert!(held > 0.0 && held <= 4.0 * (100.0 + 128.0), "{line}");
}

// ----- record headers claiming 16 KiB + 2048 and 65535 bytes --------------------

#[test]
fn record_headers_claiming_18432_and_65535_bytes() {
    let Some((rss, _, line)) = isolated("record_headers_claiming_18432_and_65535_bytes", || {
        let ch = record(
            22,
            TLS1_2,
            &handshake(1, &client_hello(&[(0, sni_ext(b"big.test"))])),
        );
        let mut server = vec![record(
            22,
            TLS1_2,
            &handshake(2, &{
                let mut b = vec![3, 3];
                b.extend_from_slice(&[9; 32]);
                b.extend_from_slice(&[0, 0xc0, 0x2f, 0]);
                b
            }),
        )];
        // the largest plausible record (16 KiB + 2048), in 1000-byte pieces
        let big = record(23, TLS1_2, &vec![0xab; 16384 + 2048]);
        server.extend(big.chunks(1000).map(<[u8]>::to_vec));
        // a header claiming 65535 bytes (impossible), a little junk, then
        // records again: the record layer resynchronises
        let mut lie = vec![23, 3, 3, 0xff, 0xff];
        lie.extend_from_slice(&[0x5a; 300]);
        server.push(lie);
        for _ in 0..3 {
            server.push(record(23, TLS1_2, &[7; 500]));
        }
        server.push(record(21, TLS1_2, &[0x11; 26])); // an encrypted alert, last
        let pkts = connection(3, T0, &[ch], &server);
        let r = run(pkts.into_iter(), AnalyzerConfig::default());
        let f = find_sni(&r.reports, "big.test").expect("the flow is reported");
        let resync = f
            .notes
            .iter()
            .any(|n| matches!(n, tlsclose_analysis::Note::Resynced { .. }));
        format!(
            "flows={} resync={} app_bytes={}",
            r.reports.len(),
            u8::from(resync),
            f.app_bytes[1]
        )
    }) else {
        return;
    };
    assert_rss(rss, "huge record headers");
    assert_eq!(field(&line, "flows"), 1.0);
    assert_eq!(
        field(&line, "resync"),
        1.0,
        "the record layer says it resynchronised"
    );
    assert!(field(&line, "app_bytes") >= 18432.0);
}

// ----- a ClientHello with thousands of extensions, huge names --------------------

#[test]
fn client_hello_with_thousands_of_extensions() {
    let Some((rss, secs, line)) = isolated("client_hello_with_thousands_of_extensions", || {
        let mut exts: Vec<(u16, Vec<u8>)> = Vec::new();
        exts.push((0, sni_ext(&[b'h'; 2000])));
        // 400 ALPN names
        let mut names = Vec::new();
        for k in 0..400u32 {
            let n = format!("proto-{k}");
            names.push(n.len() as u8);
            names.extend_from_slice(n.as_bytes());
        }
        let mut alpn = (names.len() as u16).to_be_bytes().to_vec();
        alpn.extend_from_slice(&names);
        exts.push((16, alpn));
        for k in 0..6000u16 {
            exts.push((0x1000 + k, vec![]));
        }
        let hello = handshake(1, &client_hello(&exts));
        // a handshake message over several records
        let records: Vec<Vec<u8>> = hello.chunks(16384).map(|c| record(22, TLS1_2, c)).collect();
        let mut pkts = Vec::new();
        for k in 0..50u32 {
            pkts.extend(connection(k, T0 + u64::from(k) * 100_000, &records, &[]));
        }
        let r = run(pkts.into_iter(), AnalyzerConfig::default());
        let sni_len = r
            .reports
            .first()
            .and_then(|f| f.sni.as_ref())
            .map_or(0, String::len);
        let noted = r
            .reports
            .iter()
            .all(|f| f.notes.contains(&tlsclose_analysis::Note::NamesCut));
        format!(
            "flows={} sni_len={sni_len} names_cut={} noted={}",
            r.reports.len(),
            r.stats.limits.names_cut_flows,
            u8::from(noted)
        )
    }) else {
        return;
    };
    assert_rss(rss, "thousands of extensions");
    assert_eq!(field(&line, "flows"), 50.0);
    assert_eq!(field(&line, "sni_len"), 255.0);
    assert_eq!(field(&line, "names_cut"), 50.0);
    assert_eq!(field(&line, "noted"), 1.0);
    assert!(secs < 60.0, "50 hostile hellos took {secs:.1} s");
}

// ----- thousands of alerts -------------------------------------------------------

#[test]
fn thousands_of_alerts_in_one_flow() {
    let Some((rss, _, line)) = isolated("thousands_of_alerts_in_one_flow", || {
        let ch = record(
            22,
            TLS1_2,
            &handshake(1, &client_hello(&[(0, sni_ext(b"alerts.test"))])),
        );
        let alerts: Vec<u8> = (0..20_000)
            .flat_map(|_| record(21, TLS1_2, &[1, 0]))
            .collect();
        let server: Vec<Vec<u8>> = alerts.chunks(1400).map(<[u8]>::to_vec).collect();
        let pkts = connection(9, T0, &[ch], &server);
        let r = run(pkts.into_iter(), AnalyzerConfig::default());
        let f = find_sni(&r.reports, "alerts.test").expect("reported");
        let kept = f.alerts.server.len();
        format!(
            "kept={kept} capped={} not_kept={}",
            r.stats.limits.alert_capped_flows, r.stats.limits.alerts_not_kept
        )
    }) else {
        return;
    };
    assert_rss(rss, "alerts");
    let max = tlsclose_analysis::MAX_ALERTS as f64;
    assert_eq!(field(&line, "kept"), max);
    assert_eq!(field(&line, "capped"), 1.0);
    assert_eq!(field(&line, "not_kept"), 20_000.0 - max);
}

// ----- partial hellos in many flows -------------------------------------------------

/// `flows` connections, each sending three 16 KiB records of a ClientHello
/// that claims 60000 bytes and never ends, in 1400-byte segments, all the
/// connections interleaved.
fn partial_hellos(flows: u32) -> impl Iterator<Item = Pkt> + Send {
    let mut message = vec![1, 0, 0xea, 0x60]; // client_hello, 60000 bytes
    message.extend(std::iter::repeat_n(0x42u8, 3 * 16384 - 4));
    let stream: Vec<u8> = message
        .chunks(16384)
        .flat_map(|c| record(22, TLS1_2, c))
        .collect();
    let segments: Vec<Vec<u8>> = stream.chunks(1400).map(<[u8]>::to_vec).collect();
    let syns = (0..flows).map(|f| {
        let (c, s) = endpoints(f);
        Pkt {
            ts_us: T0 + u64::from(f),
            src: c,
            dst: s,
            seq: 0,
            ack: 0,
            flags: SYN,
            payload: vec![],
        }
    });
    let data = (0..segments.len()).flat_map(move |k| {
        let segments = segments.clone();
        (0..flows).map(move |f| {
            let (c, s) = endpoints(f);
            let seq = 1 + segments.iter().take(k).map(|x| x.len() as u32).sum::<u32>();
            Pkt {
                ts_us: T0 + 1_000_000 + (k as u64) * 10_000 + u64::from(f),
                src: c,
                dst: s,
                seq,
                ack: 0,
                flags: ACK,
                payload: segments[k].clone(),
            }
        })
    });
    syns.chain(data)
}

#[test]
fn partial_hellos_in_thousands_of_flows_are_bounded() {
    let Some((rss, _, line)) = isolated("partial_hellos_in_thousands_of_flows_are_bounded", || {
        // 3000 flows x ~48 KiB of hello held: 144 MB without the total limit
        let r = run(partial_hellos(3000), AnalyzerConfig::default());
        format!(
            "peak_held={} shed={} flows={}",
            r.stats.table.peak_held_bytes,
            r.stats.limits.buffers_shed_flows,
            r.stats.non_tls_flows + r.stats.tls_flows
        )
    }) else {
        return;
    };
    assert_rss(rss, "partial hellos");
    let total = AnalyzerConfig::default().table.reassembly_total_limit as f64;
    assert!(field(&line, "peak_held") <= total);
    assert!(field(&line, "shed") >= 1.0);
    assert_eq!(field(&line, "flows"), 3000.0);
}
