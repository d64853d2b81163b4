//! Each resource limit, reached on a small generated capture: the binary
//! warns once per input and counts it in the summary, and reports every
//! flow anyway.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Output;
use tlsclose_testkit::capture::{connection, pcap_of, write, Pkt};
use tlsclose_testkit::cli::{output, stderr, stdout};
use tlsclose_testkit::tls::{client_hello_record, record, TLS1_2};
use tlsclose_testkit::{tlsclose, tmp};

const T0: u64 = 1_700_000_000_000_000;

fn write_capture(name: &str, pkts: Vec<Pkt>) -> PathBuf {
    let path = tmp("limits", name);
    write(&path, &pcap_of(&pkts));
    path
}

fn run(args: &[&str], capture: &PathBuf) -> Output {
    output(
        tlsclose!()
            .args(["--format", "json"])
            .args(args)
            .arg(capture),
    )
}

fn summary(out: &Output) -> Value {
    tlsclose_testkit::cli::summary(out)
}

fn flows(out: &Output) -> usize {
    tlsclose_testkit::cli::flows(out).len()
}

#[test]
fn a_full_flow_table_evicts_and_says_so() {
    let mut pkts = Vec::new();
    for n in 0..20u32 {
        pkts.extend(connection(
            n,
            T0 + u64::from(n) * 100,
            &[client_hello_record(b"a.test")],
            &[],
        ));
    }
    pkts.sort_by_key(|p| p.ts_us); // interleaved: up to 20 flows live at once
    let cap = write_capture("evict.pcap", pkts);
    let out = run(&["--max-flows", "5"], &cap);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("flow table full (--max-flows 5)") && err.contains("evict.pcap"),
        "{err}"
    );
    let s = summary(&out);
    assert!(
        s["limits"]["flows_evicted"].as_u64().unwrap_or(0) > 0,
        "{s}"
    );
    // evicted flows are still reported (some twice: before and after)
    assert!(flows(&out) >= 20);
}

#[test]
fn alerts_beyond_the_limit_are_counted() {
    let alerts: Vec<u8> = (0..50).flat_map(|_| record(21, TLS1_2, &[1, 0])).collect();
    let pkts = connection(1, T0, &[client_hello_record(b"alerts.test")], &[alerts]);
    let cap = write_capture("alerts.pcap", pkts);
    let out = run(&["--max-alerts", "4"], &cap);
    let err = stderr(&out);
    assert!(err.contains("--max-alerts 4"), "{err}");
    let s = summary(&out);
    assert_eq!(s["limits"]["alert_capped_flows"], 1);
    assert_eq!(s["limits"]["alerts_not_kept"], 46);
}

#[test]
fn long_names_are_cut_and_counted() {
    let pkts = connection(
        1,
        T0,
        &[client_hello_record(b"a-very-long-name.example")],
        &[],
    );
    let cap = write_capture("names.pcap", pkts);
    let out = run(&["--max-name-len", "6"], &cap);
    let err = stderr(&out);
    assert!(err.contains("--max-name-len 6"), "{err}");
    assert!(stdout(&out).contains("\"sni\":\"a-very\""));
    assert_eq!(summary(&out)["limits"]["names_cut_flows"], 1);
}

/// A connection whose client sends `holes` segments after a hole each.
fn with_holes(n: u32, holes: u32) -> Vec<Pkt> {
    let mut pkts = connection(n, T0, &[client_hello_record(b"holes.test")], &[]);
    let first = pkts
        .iter()
        .find(|p| !p.payload.is_empty())
        .cloned()
        .expect("a data packet");
    let at = pkts.len() - 3;
    let extra: Vec<Pkt> = (1..=holes)
        .map(|k| Pkt {
            ts_us: first.ts_us + u64::from(k),
            seq: first.seq.wrapping_add(100_000 * k),
            payload: vec![0x17; 300],
            ..first.clone()
        })
        .collect();
    pkts.splice(at..at, extra);
    pkts
}

#[test]
fn reassembly_limits_force_gaps_and_say_so() {
    let cap = write_capture("holes.pcap", with_holes(1, 10));
    let out = run(&["--reassembly-limit", "1000"], &cap);
    let err = stderr(&out);
    assert!(err.contains("--reassembly-limit 1000"), "{err}");
    assert!(summary(&out)["limits"]["reassembly_limit_gaps"].as_u64() > Some(0));

    let mut pkts = with_holes(1, 5);
    pkts.extend(with_holes(2, 5));
    pkts.sort_by_key(|p| p.ts_us);
    let cap = write_capture("holes2.pcap", pkts);
    let out = run(&["--reassembly-total-limit", "1500"], &cap);
    let err = stderr(&out);
    assert!(err.contains("--reassembly-total-limit 1500"), "{err}");
    assert!(summary(&out)["limits"]["reassembly_total_limit_gaps"].as_u64() > Some(0));
    assert_eq!(flows(&out), 2);
}

#[test]
fn limits_are_documented_in_help() {
    let out = output(tlsclose!().arg("--help"));
    let help = stdout(&out);
    for flag in [
        "--max-flows",
        "--reassembly-limit",
        "--reassembly-total-limit",
        "--max-alerts",
        "--max-name-len",
    ] {
        assert!(help.contains(flag), "{flag} in --help");
    }
}

#[test]
fn idle_timeout_ends_a_quiet_flow_as_open() {
    // a whole connection whose FINs come 20 s after its last record
    let mut pkts = connection(
        1,
        T0,
        &[
            client_hello_record(b"idle.test"),
            record(23, TLS1_2, &[1; 40]),
        ],
        &[record(23, TLS1_2, &[2; 40])],
    );
    let fin_at = pkts.len() - 3;
    for p in &mut pkts[fin_at..] {
        p.ts_us += 20_000_000;
    }
    let cap = write_capture("idle.pcap", pkts);
    let ending = |args: &[&str]| {
        let out = run(args, &cap);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let f = tlsclose_testkit::cli::flows(&out);
        assert_eq!(f.len(), 1, "{f:?}");
        (f[0]["ending"].clone(), f[0]["closer"].clone())
    };
    // the default timeout (300 s) waits for the FINs
    assert_eq!(ending(&[]), ("fin-only".into(), "client".into()));
    // 5 s: the flow ends as open before them (the late FINs alone are no
    // TLS flow)
    assert_eq!(
        ending(&["--idle-timeout", "5"]),
        ("open".into(), "none".into())
    );
}
