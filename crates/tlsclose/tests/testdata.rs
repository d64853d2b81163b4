//! Runs the `tlsclose` binary over every case in `testdata/` and compares
//! its JSON verdicts with the case's `expected.jsonl` (keyless), then again
//! with the case's key log (`--keylog sslkeys.log`, or the capture's own
//! Decryption Secrets Block) against `expected-keys.jsonl`.
//!
//! The imported corpus cases' expectations come from an independent
//! tshark-based oracle (see testdata/README.md), never from this tool.
//! Every case must agree on every compared field, except the cases listed
//! in `KNOWN_DIFFERENCES` with the reason; a listed case that starts to
//! agree fails too, so the list stays true.

use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Fields compared for every flow.
const FIELDS: [&str; 6] = [
    "ending",
    "closer",
    "client_close_notify",
    "server_close_notify",
    "version",
    "sni",
];

/// Cases where the tool and the expected file disagree on purpose, with why.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[(
    "real-sll2-kernel-drops",
    "the expected file says fin-only with no close_notify because tshark does not \
         resynchronise after the dropped segments; frames 10 and 11 are the two close_notify \
         records (decrypted with the case's key log: inner type 21, alert 01 00), so the \
         ending is close_notify-then-fin, server, as the capture was made",
)];

/// The same with keys (`expected-keys.jsonl`).
const KNOWN_KEYED_DIFFERENCES: &[(&str, &str)] = &[
    (
        "real-sll2-kernel-drops",
        "the expected file says fin-only with no close_notify because tshark does not \
         resynchronise after the dropped segments; tlsclose resynchronises and decrypts both \
         close_notify records (frames 10 and 11, inner type 21, alert 01 00): \
         close_notify-then-fin, server, seen/seen, as the capture was made",
    ),
    (
        "synth-gap",
        "the expected line was set by construction for a keyless reader (server close_notify \
         inferred); with the key log the server's close_notify after the hole decrypts \
         (frame 17, AES-256-GCM, explicit nonce), so tlsclose says seen",
    ),
];

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

fn capture_of(dir: &Path) -> Option<PathBuf> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("capture."))
        })
        .collect();
    names.sort();
    names.into_iter().next()
}

fn jsonl(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .map(|l| serde_json::from_str::<Value>(l).expect("valid JSON line"))
        .filter(|v| v.get("ending").is_some())
        .collect()
}

/// Flows keyed by (client, server, repeat index), as conformance.py does.
fn keyed(flows: Vec<Value>) -> HashMap<(String, String, usize), Value> {
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let mut out = HashMap::new();
    for f in flows {
        let pair = (f["client"].to_string(), f["server"].to_string());
        let n = seen.entry(pair.clone()).or_default();
        out.insert((pair.0, pair.1, *n), f);
        *n += 1;
    }
    out
}

/// Differences between the tool's flows and the expected ones, as text.
fn compare(case: &str, expected: Vec<Value>, got: Vec<Value>) -> (usize, usize, Vec<String>) {
    let got = keyed(got);
    let exp = keyed(expected);
    let mut diffs = Vec::new();
    let mut endings_ok = 0;
    for (k, e) in &exp {
        let Some(g) = got.get(k) else {
            diffs.push(format!("{case}: flow {} -> {} #{} missing", k.0, k.1, k.2));
            continue;
        };
        if g["ending"] == e["ending"] {
            endings_ok += 1;
        }
        for f in FIELDS {
            if e.get(f).is_some() && e[f] != "any" && g[f] != e[f] {
                diffs.push(format!(
                    "{case}: {} -> {}: {f} expected {} got {}",
                    k.0, k.1, e[f], g[f]
                ));
            }
        }
    }
    for k in got.keys() {
        if !exp.contains_key(k) {
            diffs.push(format!(
                "{case}: unexpected flow {} -> {} #{}",
                k.0, k.1, k.2
            ));
        }
    }
    (exp.len(), endings_ok, diffs)
}

/// Runs every case that has `expected` and compares; `keys`: give the
/// case's key log. Returns (flows, endings that agree, failures).
fn run_cases(expected: &str, keys: bool, known: &[(&str, &str)]) -> (usize, usize, Vec<String>) {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(testdata())
        .expect("testdata/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join(expected).exists())
        // damaged captures have their own test (damaged.rs): exit status,
        // messages, and flows that may be partial
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("damaged-"))
        })
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 100,
        "expected the imported corpus in testdata/, found {} cases with {expected}",
        cases.len()
    );

    let (mut flows, mut endings_ok) = (0, 0);
    let mut failures = Vec::new();
    for dir in &cases {
        let case = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_string();
        let capture = capture_of(dir).unwrap_or_else(|| panic!("{case}: no capture.* file"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tlsclose"));
        // the caller's own key log must not change the verdicts
        cmd.env_remove("SSLKEYLOGFILE")
            .args(["--format", "json", "--quiet"]);
        let keylog = dir.join("sslkeys.log");
        if keys && keylog.exists() {
            cmd.arg("--keylog").arg(&keylog);
        }
        let out = cmd.arg(&capture).output().expect("run tlsclose");
        assert!(
            out.status.code().is_some(),
            "{case}: tlsclose was killed by a signal"
        );
        let expected = jsonl(&std::fs::read_to_string(dir.join(expected)).expect("read expected"));
        let (n, ok, diffs) = compare(
            &case,
            expected,
            jsonl(&String::from_utf8_lossy(&out.stdout)),
        );
        flows += n;
        endings_ok += ok;
        let listed = known.iter().any(|(c, _)| *c == case);
        match (listed, diffs.is_empty()) {
            (false, false) => failures.extend(diffs),
            (true, true) => failures.push(format!(
                "{case}: listed as a known difference but agrees now: remove it"
            )),
            _ => {}
        }
    }
    (flows, endings_ok, failures)
}

#[test]
fn every_testdata_case_agrees_with_its_expected_verdicts() {
    let (flows, endings_ok, failures) = run_cases("expected.jsonl", false, KNOWN_DIFFERENCES);
    let pct = 100.0 * endings_ok as f64 / flows as f64;
    eprintln!("testdata: {endings_ok}/{flows} endings agree ({pct:.1}%)");
    assert!(
        failures.is_empty(),
        "{} disagreement(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(pct >= 98.0, "ending agreement {pct:.1}% is below 98%");
}

#[test]
fn every_testdata_case_with_keys_agrees_with_its_expected_keyed_verdicts() {
    let (flows, endings_ok, failures) =
        run_cases("expected-keys.jsonl", true, KNOWN_KEYED_DIFFERENCES);
    let pct = 100.0 * endings_ok as f64 / flows as f64;
    eprintln!("testdata with keys: {endings_ok}/{flows} endings agree ({pct:.1}%)");
    assert!(
        failures.is_empty(),
        "{} disagreement(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(pct >= 99.0, "ending agreement {pct:.1}% is below 99%");
}
