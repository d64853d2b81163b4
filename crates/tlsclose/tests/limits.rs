//! Each resource limit, reached on a small generated capture: the binary
//! warns once per input and counts it in the summary, and reports every
//! flow anyway.

#[path = "../../analysis/tests/common/mod.rs"]
mod common;

use common::*;
use serde_json::Value;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Output};

const T0: u64 = 1_700_000_000_000_000;

fn write_capture(name: &str, pkts: Vec<Pkt>) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tlsclose-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    let mut bytes = Vec::new();
    PcapStream::new(pkts.into_iter())
        .read_to_end(&mut bytes)
        .expect("generate");
    std::fs::write(&path, bytes).expect("write capture");
    path
}

fn tlsclose(args: &[&str], capture: &PathBuf) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tlsclose"))
        .args(["--format", "json"])
        .args(args)
        .arg(capture)
        .output()
        .expect("run tlsclose")
}

fn summary(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().expect("a summary line");
    serde_json::from_str(last).expect("JSON summary")
}

fn flows(out: &Output) -> usize {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("\"ending\""))
        .count()
}

fn hello_with_sni(name: &[u8]) -> Vec<u8> {
    record(22, &handshake(1, &client_hello(&[(0, sni_ext(name))])))
}

#[test]
fn a_full_flow_table_evicts_and_says_so() {
    let mut pkts = Vec::new();
    for n in 0..20u32 {
        pkts.extend(connection(
            n,
            T0 + u64::from(n) * 100,
            &[hello_with_sni(b"a.test")],
            &[],
        ));
    }
    pkts.sort_by_key(|p| p.ts_us); // interleaved: up to 20 flows live at once
    let cap = write_capture("evict.pcap", pkts);
    let out = tlsclose(&["--max-flows", "5"], &cap);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("flow table full (--max-flows 5)") && stderr.contains("evict.pcap"),
        "{stderr}"
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
    let alerts: Vec<u8> = (0..50).flat_map(|_| record(21, &[1, 0])).collect();
    let pkts = connection(1, T0, &[hello_with_sni(b"alerts.test")], &[alerts]);
    let cap = write_capture("alerts.pcap", pkts);
    let out = tlsclose(&["--max-alerts", "4"], &cap);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--max-alerts 4"), "{stderr}");
    let s = summary(&out);
    assert_eq!(s["limits"]["alert_capped_flows"], 1);
    assert_eq!(s["limits"]["alerts_not_kept"], 46);
}

#[test]
fn long_names_are_cut_and_counted() {
    let pkts = connection(1, T0, &[hello_with_sni(b"a-very-long-name.example")], &[]);
    let cap = write_capture("names.pcap", pkts);
    let out = tlsclose(&["--max-name-len", "6"], &cap);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--max-name-len 6"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"sni\":\"a-very\""));
    assert_eq!(summary(&out)["limits"]["names_cut_flows"], 1);
}

/// A connection whose client sends `holes` segments after a hole each.
fn with_holes(n: u32, holes: u32) -> Vec<Pkt> {
    let mut pkts = connection(n, T0, &[hello_with_sni(b"holes.test")], &[]);
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
    let out = tlsclose(&["--reassembly-limit", "1000"], &cap);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--reassembly-limit 1000"), "{stderr}");
    assert!(summary(&out)["limits"]["reassembly_limit_gaps"].as_u64() > Some(0));

    let mut pkts = with_holes(1, 5);
    pkts.extend(with_holes(2, 5));
    pkts.sort_by_key(|p| p.ts_us);
    let cap = write_capture("holes2.pcap", pkts);
    let out = tlsclose(&["--reassembly-total-limit", "1500"], &cap);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--reassembly-total-limit 1500"), "{stderr}");
    assert!(summary(&out)["limits"]["reassembly_total_limit_gaps"].as_u64() > Some(0));
    assert_eq!(flows(&out), 2);
}

#[test]
fn limits_are_documented_in_help() {
    let out = Command::new(env!("CARGO_BIN_EXE_tlsclose"))
        .arg("--help")
        .output()
        .expect("run");
    let help = String::from_utf8_lossy(&out.stdout);
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
