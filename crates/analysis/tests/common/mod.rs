//! Hostile traffic made in the test (packets and records from
//! tlsclose-testkit, written as a pcap stream on the fly: nothing large in
//! memory or on disk) read back through the whole pipeline (reader,
//! decoder, flow table, analysis), timed and measured.
#![allow(dead_code, unused_imports)]

use tlsclose_analysis::{Analyzer, AnalyzerConfig, AnalyzerStats, FlowReport};
use tlsclose_capture::{decode_segment, CaptureReader};
use tlsclose_tcp::SegMeta;

pub use tlsclose_testkit::capture::*;
pub use tlsclose_testkit::rss::peak_rss_kib;
pub use tlsclose_testkit::tls::*;

/// What a run through the pipeline gave.
pub struct Run {
    pub reports: Vec<FlowReport>,
    pub stats: AnalyzerStats,
    pub frames: u64,
    pub peak_live_flows: usize,
    /// Seconds taken by the first quarter of the frames, and by all.
    pub quarter_secs: f64,
    pub secs: f64,
}

/// Reads the packets as a pcap through the whole pipeline. `expected`:
/// the number of packets, for the time of the first quarter.
pub fn run_timed<I: Iterator<Item = Pkt> + Send + 'static>(
    packets: I,
    config: AnalyzerConfig,
    expected: u64,
) -> Run {
    // CPU time, not wall time: it holds on a loaded machine
    let start = tlsclose_testkit::rss::thread_cpu_secs();
    let mut quarter_secs = 0.0;
    let mut reader = CaptureReader::from_reader("generated", Box::new(PcapStream::new(packets)))
        .expect("generated capture opens");
    let mut analyzer = Analyzer::new(config);
    let mut reports = Vec::new();
    let mut frames = 0u64;
    let mut peak = 0usize;
    while let Some(frame) = reader.next_frame().expect("generated capture reads") {
        frames += 1;
        let seg = decode_segment(&frame).expect("generated frames decode");
        let meta = SegMeta::at(frame.number, frame.ts);
        analyzer.segment(&seg, meta, &mut |r| reports.push(r));
        peak = peak.max(analyzer.live_flows());
        if frames == expected / 4 {
            quarter_secs = tlsclose_testkit::rss::thread_cpu_secs() - start;
        }
    }
    analyzer.finish(&mut |r| reports.push(r));
    Run {
        stats: analyzer.stats(),
        reports,
        frames,
        peak_live_flows: peak,
        quarter_secs,
        secs: tlsclose_testkit::rss::thread_cpu_secs() - start,
    }
}

/// Reads the packets as a pcap through the whole pipeline.
pub fn run<I: Iterator<Item = Pkt> + Send + 'static>(packets: I, config: AnalyzerConfig) -> Run {
    run_timed(packets, config, 0)
}

/// Runs `scenario` in a child process (this test binary again, only this
/// test) so that its peak RSS is its own; returns (peak RSS KiB, seconds,
/// the scenario's own output line) to the parent. In the child it runs
/// the scenario, prints the line and returns `None`.
pub fn isolated(name: &str, scenario: impl FnOnce() -> String) -> Option<(u64, f64, String)> {
    const VAR: &str = "TLSCLOSE_HOSTILE_CHILD";
    if std::env::var(VAR).as_deref() == Ok(name) {
        let t = tlsclose_testkit::rss::thread_cpu_secs();
        let line = scenario();
        let secs = tlsclose_testkit::rss::thread_cpu_secs() - t;
        println!("HOSTILE {} {secs} {line}", peak_rss_kib());
        return None;
    }
    let exe = std::env::current_exe().expect("test binary path");
    let out = std::process::Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(VAR, name)
        .output()
        .expect("run the scenario in a child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "scenario {name} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("HOSTILE ").map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("scenario {name} printed no result:\n{stdout}"));
    let mut parts = line.splitn(3, ' ');
    let rss = parts
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(u64::MAX);
    let secs = parts
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::MAX);
    let rest = parts.next().unwrap_or("").to_string();
    eprintln!("{name}: peak RSS {} MiB, {secs:.2} s, {rest}", rss / 1024);
    Some((rss, secs, rest))
}
pub mod script;
