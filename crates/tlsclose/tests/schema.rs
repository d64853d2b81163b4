//! docs/schema.json describes every object `tlsclose --format json` prints:
//! the output of many runs (every testdata capture's flows and summary,
//! `--flow`, each `--group-by` key, `--audit`, filters) is validated against
//! it with Python's jsonschema (Draft 2020-12), through
//! scripts/validate-json.py. Skips visibly without jsonschema (fails under
//! CI=true).

use std::io::Write;
use std::process::{Command, Stdio};
use tlsclose_testkit::cli::{output, stderr, stdout};
use tlsclose_testkit::paths::{capture_in, case, cases_with, workspace};
use tlsclose_testkit::tlsclose;
use tlsclose_testkit::tools::{python, require_python_module};

/// Runs the validator over `lines`; returns its report and success.
fn validate(lines: &str) -> (bool, String) {
    let script = workspace().join("scripts/validate-json.py");
    let mut child = Command::new(python())
        .arg(&script)
        .arg(workspace().join("docs/schema.json"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the validator");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(lines.as_bytes())
        .expect("write to the validator");
    let out = child.wait_with_output().expect("validator output");
    (
        out.status.success(),
        format!("{}{}", stdout(&out), stderr(&out)),
    )
}

fn json_of(args: &[&str]) -> String {
    let out = output(tlsclose!().args(["--format", "json", "-q"]).args(args));
    assert!(
        matches!(out.status.code(), Some(0..=2)),
        "{args:?}: {}",
        stderr(&out)
    );
    stdout(&out)
}

#[test]
fn every_json_object_follows_docs_schema_json() {
    if !require_python_module("jsonschema") {
        return;
    }
    let mut all = String::new();
    for dir in cases_with("expected.jsonl", false) {
        if let Some(cap) = capture_in(&dir) {
            all.push_str(&json_of(&[cap.to_str().expect("path")]));
        }
    }
    let race = case("audit-keepalive-race/capture.pcap");
    let race = race.to_str().expect("path");
    let sample = case("sample/capture.pcap");
    let sample = sample.to_str().expect("path");
    let linger = case("py-tls12-linger0/capture.pcap");
    let linger = linger.to_str().expect("path");
    let nocn = case("py-tls12-server-close-no-unwrap/capture.pcap");
    let nocn = nocn.to_str().expect("path");
    let keys = case("audit-keepalive-race/sslkeys.log");
    let keys = keys.to_str().expect("path");
    let h2o = case("http-close-h2o/capture.pcap");
    let h2o = h2o.to_str().expect("path");
    let h2o_keys = case("http-close-h2o/sslkeys.log");
    let h2o_keys = h2o_keys.to_str().expect("path");
    for args in [
        vec![race, "--group-by", "server"],
        vec![race, "--group-by", "client"],
        vec![sample, "--group-by", "sni"],
        vec![sample, "--group-by", "ending"],
        vec![race, "--audit"],
        vec![race, linger, nocn, sample, "--audit"],
        vec![sample, "--flow", "3"],
        vec![sample, "--flow", "3", "--time-format", "iso"],
        vec![race, "--time-format", "iso"],
        vec![sample, "--ending", "rst,fin-only"],
        vec![race, "--keylog", keys],
        // read with keys: close_kinds per group, the abrupt-close finding
        vec![h2o, "--keylog", h2o_keys, "--group-by", "server"],
        vec![h2o, "--keylog", h2o_keys, "--audit"],
    ] {
        all.push_str(&json_of(&args));
    }
    let (ok, report) = validate(&all);
    println!("{report}");
    assert!(ok, "{report}");
    for kind in ["flow", "group", "finding", "summary"] {
        assert!(
            report.contains(&format!("{kind} ")),
            "no {kind} lines: {report}"
        );
    }
}

#[test]
fn the_schema_rejects_what_it_should() {
    if !require_python_module("jsonschema") {
        return;
    }
    let sample = case("sample/capture.pcap");
    let line = json_of(&[sample.to_str().expect("path")])
        .lines()
        .next()
        .expect("a flow line")
        .to_owned();
    assert!(validate(&line).0);
    for (from, to) in [
        ("\"keepalive_race\":false", "\"keepalive_race\":\"no\""),
        ("\"initiator\":\"server\"", "\"initiator\":\"proxy\""),
        ("\"ending\":", "\"an_unknown_field\":1,\"ending\":"),
    ] {
        assert!(line.contains(from), "{line}");
        let bad = line.replacen(from, to, 1);
        let (ok, report) = validate(&bad);
        assert!(!ok, "{to} passed: {report}");
    }
}
