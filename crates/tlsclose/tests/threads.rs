//! `--threads N`: the output is the same, byte for byte, for every N.

use std::path::{Path, PathBuf};
use tlsclose_testkit::cli::output;
use tlsclose_testkit::paths::testdata;
use tlsclose_testkit::tlsclose;

/// Standard output and error of one run.
fn run(threads: usize, args: &[&str], input: &Path) -> (Vec<u8>, Vec<u8>, Option<i32>) {
    let out = output(
        tlsclose!()
            .arg("-j")
            .arg(threads.to_string())
            .args(args)
            .arg(input),
    );
    (out.stdout, out.stderr, out.status.code())
}

fn captures() -> Vec<PathBuf> {
    let mut found = Vec::new();
    for case in std::fs::read_dir(testdata()).expect("testdata").flatten() {
        for name in [
            "capture.pcap",
            "capture.pcapng",
            "capture.pcap.gz",
            "capture.pcapng.gz",
        ] {
            let p = case.path().join(name);
            if p.exists() {
                found.push(p);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn every_testdata_capture_gives_the_same_output_with_1_2_and_4_threads() {
    let caps = captures();
    assert!(
        caps.len() > 100,
        "the testdata corpus ({} captures)",
        caps.len()
    );
    for cap in &caps {
        let keys = cap.with_file_name("sslkeys.log");
        let mut runs: Vec<Vec<&str>> = vec![vec!["-f", "json"], vec!["-f", "table"]];
        let keylog;
        if keys.exists() {
            keylog = keys.to_string_lossy().into_owned();
            runs.push(vec!["-f", "json", "--keylog", &keylog]);
        }
        for args in &runs {
            let one = run(1, args, cap);
            for n in [2, 4] {
                let other = run(n, args, cap);
                assert!(
                    one == other,
                    "{} {args:?}: -j 1 and -j {n} differ\n--- -j 1:\n{}{}\n--- -j {n}:\n{}{}",
                    cap.display(),
                    String::from_utf8_lossy(&one.0),
                    String::from_utf8_lossy(&one.1),
                    String::from_utf8_lossy(&other.0),
                    String::from_utf8_lossy(&other.1),
                );
            }
        }
    }
}

#[test]
fn a_generated_capture_gives_the_same_output_with_any_threads_and_limits() {
    let cap = testdata().join("gen-mixed-1m/capture.pcap");
    for args in [
        vec!["-f", "json"],
        vec!["-f", "csv"],
        // idle timeouts and evictions in several shares at once
        vec!["-f", "json", "--idle-timeout", "2", "--max-flows", "40"],
        vec!["-f", "json", "--reassembly-total-limit", "20000"],
    ] {
        let one = run(1, &args, &cap);
        assert_eq!(one.2, Some(0));
        let flows = String::from_utf8_lossy(&one.0)
            .lines()
            .filter(|l| l.contains("\"ending\"") || args[1] == "csv")
            .count();
        assert!(flows > 100, "{args:?}: {flows} flows");
        for n in [2, 3, 4, 16] {
            let other = run(n, &args, &cap);
            assert!(one == other, "{args:?}: -j 1 and -j {n} differ");
        }
    }
    // the evictions really happened in that run
    let (_, err, _) = run(
        2,
        &["-f", "json", "--idle-timeout", "2", "--max-flows", "40"],
        &cap,
    );
    assert!(String::from_utf8_lossy(&err).contains("flow table full"));
}
