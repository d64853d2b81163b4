//! Runs the `tlsclose` binary over every case in `testdata/` and compares
//! its JSON flows with the case's `expected.jsonl` (keyless), then again
//! with the case's key log (`--keylog sslkeys.log`, or the capture's own
//! Decryption Secrets Block) against `expected-keys.jsonl`.
//!
//! The imported corpus cases' expectations come from an independent
//! tshark-based oracle, or were set by construction where tshark cannot
//! read the bytes (see testdata/README.md), never from this tool. Every
//! flow must agree on every field its expected line carries (`ending`,
//! `closer`, both close_notify states, `version`, `sni`, `confidence`,
//! `alerts`, `teardown_frame`, `gap`), and a line without `gap` means no
//! gap.

use serde_json::{json, Value};
use tlsclose_testkit::cli::{expected_flows, flows, output, stderr};
use tlsclose_testkit::paths::{capture_in, cases_with, name_of};
use tlsclose_testkit::tlsclose;
use tlsclose_testkit::verdicts::{differences, keyed};

/// Differences between the tool's flows and the expected ones, as text.
fn compare(case: &str, expected: Vec<Value>, got: Vec<Value>) -> Vec<String> {
    let got = keyed(got);
    let exp = keyed(expected);
    let mut problems = Vec::new();
    for (k, e) in &exp {
        let Some(g) = got.get(k) else {
            problems.push(format!("{case}: flow {} -> {} #{} missing", k.0, k.1, k.2));
            continue;
        };
        let mut e = e.clone();
        // a line without `gap` says the flow has none
        if e.get("gap").is_none() {
            e["gap"] = Value::Bool(false);
        }
        for (field, want, is) in differences(&e, g) {
            problems.push(format!(
                "{case}: {} -> {}: {field} expected {want} got {is}",
                k.0, k.1
            ));
        }
    }
    for k in got.keys().filter(|k| !exp.contains_key(*k)) {
        problems.push(format!(
            "{case}: unexpected flow {} -> {} #{}",
            k.0, k.1, k.2
        ));
    }
    problems
}

/// Runs every case that has `expected` and compares; `keys`: give the
/// case's key log. Returns (flows compared, failures).
fn run_cases(expected: &str, keys: bool) -> (usize, Vec<String>) {
    // damaged captures have their own test (damaged.rs): exit status,
    // messages, and flows that may be partial
    let cases = cases_with(expected, false);
    assert!(
        cases.len() >= 130,
        "expected the imported corpus in testdata/, found {} cases with {expected}",
        cases.len()
    );
    let mut flows_compared = 0;
    let mut failures = Vec::new();
    for dir in &cases {
        let case = name_of(dir);
        let capture = capture_in(dir).unwrap_or_else(|| panic!("{case}: no capture.* file"));
        let mut cmd = tlsclose!();
        cmd.args(["--format", "json", "--quiet"]);
        let keylog = dir.join("sslkeys.log");
        if keys && keylog.exists() {
            cmd.arg("--keylog").arg(&keylog);
        }
        let out = output(cmd.arg(&capture));
        if out.status.code() != Some(0) {
            failures.push(format!(
                "{case}: exit {:?}: {}",
                out.status.code(),
                stderr(&out)
            ));
        }
        let want = expected_flows(&dir.join(expected));
        flows_compared += want.len();
        failures.extend(compare(&case, want, flows(&out)));
    }
    (flows_compared, failures)
}

fn check(expected: &str, keys: bool) {
    let (n, failures) = run_cases(expected, keys);
    println!("{expected}: {n} flows compared on every field");
    assert!(n >= 130, "only {n} flows in the expected files");
    assert!(
        failures.is_empty(),
        "{} disagreement(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_testdata_case_agrees_with_its_expected_verdicts() {
    check("expected.jsonl", false);
}

#[test]
fn every_testdata_case_with_keys_agrees_with_its_expected_keyed_verdicts() {
    check("expected-keys.jsonl", true);
}

#[test]
fn a_disagreement_on_any_field_is_reported() {
    let line = |confidence: &str, alerts: Value| {
        json!({"client": "a:1", "server": "b:2", "ending": "rst", "confidence": confidence,
               "alerts": alerts, "gap": false})
    };
    let e = line("likely", json!({"client": [], "server": []}));
    assert!(compare("x", vec![e.clone()], vec![e.clone()]).is_empty());
    let p = compare(
        "x",
        vec![e.clone()],
        vec![line("certain", json!({"client": [], "server": []}))],
    );
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].contains("confidence"), "{p:?}");
    // an expected line without gap: a flow with a gap disagrees
    let mut no_gap = e.clone();
    no_gap.as_object_mut().map(|o| o.remove("gap"));
    let mut gapped = e.clone();
    gapped["gap"] = json!(true);
    assert_eq!(compare("x", vec![no_gap], vec![gapped]).len(), 1);
    // a missing and an extra flow
    let mut other = e.clone();
    other["client"] = json!("c:3");
    assert_eq!(compare("x", vec![e], vec![other]).len(), 2);
}
