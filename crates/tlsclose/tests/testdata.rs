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
//! gap. The only exception is [`DISPUTED`]: one field of one case whose
//! expected value contradicts the capture's bytes, pinned to what the
//! bytes say, so that it still fails if the tool changes, and fails when
//! the corpus is corrected (then remove the entry).

use serde_json::{json, Value};
use tlsclose_testkit::cli::{expected_flows, flows, output, stderr};
use tlsclose_testkit::paths::{capture_in, cases_with, name_of};
use tlsclose_testkit::tlsclose;
use tlsclose_testkit::verdicts::{differences, keyed};

/// An expected field this project believes wrong (reported to the corpus
/// maintainers), in both expected files of the case.
struct Disputed {
    case: &'static str,
    field: &'static str,
    /// The value the capture's bytes support, as JSON.
    bytes_say: &'static str,
    #[allow(dead_code)] // documentation: why
    evidence: &'static str,
}

impl Disputed {
    fn bytes_say(&self) -> Value {
        serde_json::from_str(self.bytes_say).expect("DISPUTED value is JSON")
    }
}

const DISPUTED: &[Disputed] = &[Disputed {
    case: "fmt-snaplen-128",
    field: "alerts",
    bytes_say: r#"{"client": ["inferred:close_notify"], "server": ["inferred:close_notify"]}"#,
    evidence: "frames 12 (client) and 13 (server) are whole 97-byte frames holding one \
     encrypted alert record each (15 03 03 00 1a: content type 21, 26 bytes) \
     after application data, the last record of each side before the FINs; \
     the line's own client/server_close_notify say inferred, and every other \
     corpus line with an inferred close_notify (py-tls12-unwrap-both, the \
     same connection before editcap -s 128, included) lists \
     inferred:close_notify in alerts; only this hand-set line says []",
}];

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
        let disputed: Vec<_> = DISPUTED.iter().filter(|d| d.case == case).collect();
        for (field, want, is) in differences(&e, g) {
            if !disputed.iter().any(|d| d.field == field) {
                problems.push(format!(
                    "{case}: {} -> {}: {field} expected {want} got {is}",
                    k.0, k.1
                ));
            }
        }
        for d in disputed {
            let (field, bytes_say) = (d.field, d.bytes_say());
            if g[field] != bytes_say {
                problems.push(format!(
                    "{case}: {} -> {}: disputed {field}: the bytes say {bytes_say}, got {}",
                    k.0, k.1, g[field]
                ));
            }
            if e[field] == bytes_say {
                problems.push(format!(
                    "{case}: the expected {field} now agrees with the bytes: remove it from DISPUTED"
                ));
            }
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
    // the disputed field is pinned to what the bytes say, not skipped
    let d = &DISPUTED[0];
    let mut want = line("likely", json!({"client": [], "server": []}));
    let mut got = want.clone();
    got[d.field] = d.bytes_say();
    assert!(compare(d.case, vec![want.clone()], vec![got]).is_empty());
    assert_eq!(
        compare(d.case, vec![want.clone()], vec![want.clone()]).len(),
        1
    );
    want[d.field] = d.bytes_say();
    assert_eq!(compare(d.case, vec![want.clone()], vec![want]).len(), 1);
}

#[test]
fn the_disputed_case_exists() {
    for d in DISPUTED {
        let dir = tlsclose_testkit::case(d.case);
        assert!(dir.join("expected.jsonl").is_file(), "{}", d.case);
        assert!(!d.evidence.is_empty());
        d.bytes_say();
    }
}
