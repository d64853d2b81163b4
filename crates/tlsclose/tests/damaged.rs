//! Damaged captures (testdata/damaged-*, made by scripts/make-damaged.py):
//! the binary's exit status, its messages on standard error (the file and
//! the byte offset or frame), and the flows it still reports. Then every
//! capture in testdata/ cut inside its last packet: no flow may be lost.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use tlsclose_analysis::{Analyzer, AnalyzerConfig};
use tlsclose_capture::{decode_segment, CaptureError, CaptureReader};
use tlsclose_tcp::SegMeta;
use tlsclose_testkit::cli::{flows, json_lines, output, stderr};
use tlsclose_testkit::paths::{capture_in, cases_with, name_of};
use tlsclose_testkit::tlsclose;
use tlsclose_testkit::verdicts::{differences, pair};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The problems of one case, as text.
fn check_case(dir: &Path) -> Vec<String> {
    let case = name_of(dir);
    let capture = capture_in(dir).unwrap_or_else(|| panic!("{case}: no capture.* file"));
    let file = capture.display().to_string();
    let out = output(tlsclose!().args(["--format", "json"]).arg(&capture));
    let mut problems = Vec::new();
    let stderr = stderr(&out);

    // exit status, never a signal or a panic
    let want_exit: i32 = read(&dir.join("expected-exit"))
        .trim()
        .parse()
        .expect("exit");
    if out.status.code() != Some(want_exit) {
        problems.push(format!(
            "{case}: exit {:?}, expected {want_exit}",
            out.status.code()
        ));
    }
    if stderr.contains("panicked") {
        problems.push(format!("{case}: panicked: {stderr}"));
    }

    // one line per expected line, each with its fragments, naming the file
    // The sample is six captures one after the other (mergecap -a): its
    // time runs backwards at frame 38, which the capture clock warns about
    // (checked in tests/clock.rs); the damage warnings are what is compared.
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.contains(": capture time runs backwards"))
        .collect();
    let expected = read(&dir.join("expected-stderr"));
    let want: Vec<Vec<String>> = expected
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').map(|f| f.replace("{file}", &file)).collect())
        .collect();
    if lines.len() != want.len() {
        problems.push(format!(
            "{case}: {} lines on stderr, expected {}:\n{stderr}",
            lines.len(),
            want.len()
        ));
    }
    for (line, fragments) in lines.iter().zip(&want) {
        for f in fragments {
            if !line.contains(f.as_str()) {
                problems.push(format!("{case}: stderr line lacks {f:?}: {line}"));
            }
        }
        if !line.contains(&file)
            || !(line.contains("byte offset")
                || line.contains("frame")
                || line.contains("bytes read"))
        {
            problems.push(format!(
                "{case}: message without the file and an offset or frame: {line}"
            ));
        }
    }

    // the flows: every required one, with its verdict when whole; nothing
    // that is not in the capture
    let got = flows(&out);
    let expected = json_lines(&read(&dir.join("expected.jsonl")));
    for e in &expected {
        let optional = e.get("optional").and_then(Value::as_bool).unwrap_or(false);
        let partial = e.get("partial").and_then(Value::as_bool).unwrap_or(false);
        match got.iter().find(|g| pair(g) == pair(e)) {
            None if !optional => problems.push(format!("{case}: flow {:?} missing", pair(e))),
            None => {}
            Some(g) if !partial => {
                for (f, want, is) in differences(e, g) {
                    problems.push(format!("{case}: {:?}: {f} {is} expected {want}", pair(e)));
                }
            }
            Some(_) => {}
        }
    }
    for g in &got {
        if !expected.iter().any(|e| pair(e) == pair(g)) {
            problems.push(format!("{case}: unexpected flow {:?}", pair(g)));
        }
    }
    problems
}

#[test]
fn every_damaged_case_behaves_as_its_readme_says() {
    let cases = cases_with("expected-exit", true);
    assert!(cases.len() >= 20, "found {} damaged cases", cases.len());
    let problems: Vec<String> = cases.iter().flat_map(|d| check_case(d)).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ----- every capture, cut in its last packet ------------------------------------

/// Where the last record (pcap) or block (pcapng) starts and ends.
fn last_record(bytes: &[u8]) -> Option<(usize, usize)> {
    let u32_at = |at: usize, be: bool| -> Option<u32> {
        let a: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if be {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    };
    let magic = bytes.get(..4)?;
    let mut last = None;
    if magic == [0x0a, 0x0d, 0x0d, 0x0a] {
        let mut at = 0;
        let mut be = false;
        while at + 12 <= bytes.len() {
            if bytes.get(at..at + 4)? == [0x0a, 0x0d, 0x0d, 0x0a] {
                be = bytes.get(at + 8..at + 12)? == [0x1a, 0x2b, 0x3c, 0x4d];
            }
            let len = u32_at(at + 4, be)? as usize;
            if len < 12 {
                return None;
            }
            last = Some((at, at + len));
            at += len;
        }
    } else {
        let be = matches!(magic, [0xa1, 0xb2, ..]);
        let mut at = 24;
        while at + 16 <= bytes.len() {
            let len = 16 + u32_at(at + 8, be)? as usize;
            last = Some((at, at + len));
            at += len;
        }
    }
    last
}

/// (client, server) pairs reported, and whether the reader said it was cut.
fn flows_of(name: &str, bytes: Vec<u8>) -> (BTreeSet<(String, String)>, bool) {
    let mut reader =
        CaptureReader::from_reader(name, Box::new(std::io::Cursor::new(bytes))).expect("opens");
    let mut analyzer = Analyzer::new(AnalyzerConfig::default());
    let mut flows = BTreeSet::new();
    let mut cut = false;
    loop {
        match reader.next_frame() {
            Ok(Some(frame)) => {
                if let Ok(seg) = decode_segment(&frame) {
                    let meta = SegMeta::at(frame.number, frame.ts);
                    analyzer.segment(&seg, meta, &mut |r| {
                        flows.insert((r.client.to_string(), r.server.to_string()));
                    });
                }
            }
            Ok(None) => break,
            Err(e) => {
                cut = matches!(e, CaptureError::Truncated { .. });
                break;
            }
        }
    }
    analyzer.finish(&mut |r| {
        flows.insert((r.client.to_string(), r.server.to_string()));
    });
    (flows, cut)
}

#[test]
fn a_cut_in_the_last_packet_loses_no_flow() {
    let mut checked = 0;
    let mut problems = Vec::new();
    for dir in cases_with("expected.jsonl", false) {
        let capture = capture_in(&dir).unwrap_or_else(|| panic!("{}: no capture", dir.display()));
        let bytes = std::fs::read(&capture).expect("read capture");
        let Some((start, end)) = last_record(&bytes) else {
            continue; // gzip: covered by the reader's own tests
        };
        if end != bytes.len() {
            continue;
        }
        let name = capture.display().to_string();
        let (whole, _) = flows_of(&name, bytes.clone());
        // cut in the middle of the last record's data, and in its header
        for cut_at in [start + (end - start) / 2, start + 5] {
            let (cut_flows, said) = flows_of(&name, bytes[..cut_at].to_vec());
            if !said {
                problems.push(format!("{name} cut at {cut_at}: no truncation reported"));
            }
            if cut_flows != whole {
                problems.push(format!(
                    "{name} cut at {cut_at}: flows {cut_flows:?}, whole {whole:?}"
                ));
            }
        }
        checked += 1;
    }
    assert!(checked >= 100, "only {checked} captures checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
