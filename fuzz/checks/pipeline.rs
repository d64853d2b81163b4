//! The whole pipeline: capture bytes in, flow reports out, with small
//! limits so that eviction, forced gaps, the total limit (holes and
//! partial hellos shed) are exercised.
//!
//! Shared by the fuzz target (fuzz/fuzz_targets/) and the regression test
//! that replays testdata/regressions/pipeline/ under `cargo test`.
use std::io::Cursor;
use tlsclose_analysis::{Analyzer, AnalyzerConfig, FlowReport, KeyStore};
use tlsclose_capture::{decode_segment, CaptureReader};
use tlsclose_tcp::{FlowTableConfig, SegMeta};

fn check_report(r: &FlowReport) {
    assert!(r.first_frame <= r.last_frame, "{r:?}");
    if let Some(t) = r.teardown_frame {
        assert!(t >= r.first_frame && t <= r.last_frame, "{r:?}");
    }
    assert!(r.packets >= 1);
    assert_eq!(r.teardown.map(|t| t.frame), r.teardown_frame, "{r:?}");
    // alert labels are JSON tokens (the binary writes the rest of the line)
    for a in r.alerts.client.iter().chain(&r.alerts.server) {
        assert!(!a.to_string().is_empty(), "{r:?}");
    }
}

/// Panics when the input breaks a property (see the module docs).
#[allow(dead_code)] // the keyed_pipeline target calls run() only
pub fn check(data: &[u8]) {
    run(data, None);
}

/// Runs the capture `data` through an analyzer, with `keys` when given
/// (and then the capture's Decryption Secrets Blocks too); panics when a
/// property breaks. Returns how many flows were decrypted.
pub fn run(data: &[u8], keys: Option<KeyStore>) -> u64 {
    let Ok(mut reader) = CaptureReader::from_reader("fuzz", Box::new(Cursor::new(data.to_vec())))
    else {
        return 0;
    };
    let config = AnalyzerConfig {
        table: FlowTableConfig {
            idle_timeout_ns: 5_000_000_000,
            max_flows: 8,
            reassembly_limit: 2048,
            // small enough that flows give up holes and shed partial
            // hellos for one another
            reassembly_total_limit: 16 << 10,
            ..FlowTableConfig::default()
        },
        ..AnalyzerConfig::default()
    };
    let keyed = keys.is_some();
    let mut analyzer = match keys {
        Some(keys) => Analyzer::with_keys(config, keys),
        None => Analyzer::new(config),
    };
    let mut reports = 0u64;
    let mut decrypted = 0u64;
    let mut emit = |r: FlowReport| {
        check_report(&r);
        assert!(keyed || !r.decrypted, "{r:?}");
        reports += 1;
        decrypted += u64::from(r.decrypted);
    };
    // a pcapng's Decryption Secrets Blocks serve the flows from the frame
    // read after them on, as in the binary
    let secrets = |reader: &mut CaptureReader, analyzer: &mut Analyzer| {
        if keyed {
            for (kind, block) in reader.take_decryption_secrets() {
                for w in analyzer.add_decryption_secrets(kind, &block, "fuzz") {
                    assert!(!w.to_string().is_empty());
                }
            }
        }
    };
    while let Ok(Some(frame)) = reader.next_frame() {
        if let Ok(seg) = decode_segment(&frame) {
            let meta = SegMeta::at(frame.number, frame.ts);
            analyzer.segment(&seg, meta, &mut emit);
        }
        assert!(analyzer.live_flows() <= config.table.max_flows);
        secrets(&mut reader, &mut analyzer);
    }
    secrets(&mut reader, &mut analyzer);
    analyzer.finish(&mut emit);
    assert_eq!(analyzer.live_flows(), 0);
    assert_eq!(analyzer.stats().tls_flows, reports);
    decrypted
}
