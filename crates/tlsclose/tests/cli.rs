//! The binary's behaviour as a user sees it: inputs, formats, exit status,
//! errors, pipes.

use serde_json::Value;
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use tlsclose_testkit::capture::{ipv4_tcp, pcap_file, Pkt, ACK, LINK_RAW, PSH, SYN};
use tlsclose_testkit::cli::{flows, stderr, summary};
use tlsclose_testkit::{case, tlsclose};

fn bin() -> Command {
    tlsclose!()
}

fn tmp(name: &str) -> PathBuf {
    tlsclose_testkit::tmp("cli", name)
}

#[test]
fn json_has_the_schema_fields_and_a_summary() {
    let out = bin()
        .args(["-f", "json"])
        .arg(case("sample/capture.pcap"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let f = flows(&out);
    assert_eq!(f.len(), 6);
    for key in [
        "file",
        "client",
        "server",
        "ending",
        "closer",
        "client_close_notify",
        "server_close_notify",
        "version",
        "sni",
        "confidence",
        "alerts",
        "first_frame",
        "last_frame",
        "first_time",
        "last_time",
        "teardown_frame",
    ] {
        assert!(
            f.iter().all(|v| v.get(key).is_some()),
            "every flow has {key}"
        );
    }
    let s = summary(&out);
    assert_eq!(s["tls_flows"], 6);
    for e in ["close_notify-then-fin", "rst", "data-after-alert", "open"] {
        assert_eq!(s["endings"][e], 1, "{e}");
    }
    assert_eq!(s["endings"]["fin-only"], 2);
}

#[test]
fn table_lists_every_flow_and_a_summary_line() {
    let out = bin()
        .arg(case("sample/capture.pcap"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for e in [
        "close_notify-then-fin",
        "fin-only",
        "rst",
        "data-after-alert",
        "open",
    ] {
        assert!(text.contains(e), "table shows {e}");
    }
    assert!(text
        .lines()
        .last()
        .unwrap_or("")
        .starts_with("6 TLS flows: 1 close_notify-then-fin, 2 fin-only"));
}

#[test]
fn gzip_is_detected_by_magic_not_name() {
    let raw = std::fs::read(case("sample/capture.pcap")).expect("read");
    let path = tmp("sample.bin");
    std::fs::write(&path, system_gzip(&raw)).expect("write");
    let plain = bin()
        .args(["-f", "json"])
        .arg(case("sample/capture.pcap"))
        .output()
        .expect("run");
    let zipped = bin().args(["-f", "json"]).arg(&path).output().expect("run");
    assert_eq!(
        zipped.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&zipped.stderr)
    );
    let strip = |v: Vec<Value>| {
        v.into_iter()
            .map(|mut x| {
                x["file"] = Value::Null;
                x
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(flows(&plain)), strip(flows(&zipped)));
}

/// gzip by the system's `gzip`, so the test does not share the reader's decoder.
fn system_gzip(raw: &[u8]) -> Vec<u8> {
    let mut child = Command::new("gzip")
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip is installed");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(raw)
        .expect("write");
    child.wait_with_output().expect("gzip").stdout
}

#[test]
fn standard_input_is_read_with_dash() {
    let raw = std::fs::read(case("py-tls13-port-reuse/capture.pcap")).expect("read");
    let mut child = bin()
        .args(["-f", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&raw)
        .expect("write");
    let out = child.wait_with_output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    let f = flows(&out);
    assert_eq!(f.len(), 2, "two connections on one 4-tuple (port reuse)");
    assert!(f.iter().all(|v| v["ending"] == "close_notify-then-fin"));
}

#[test]
fn several_files_in_one_run_name_their_file() {
    let a = case("fmt-vlan-8021q/capture.pcap");
    let b = case("fmt-pcapng/capture.pcapng");
    let out = bin()
        .args(["-f", "json"])
        .arg(&a)
        .arg(&b)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let f = flows(&out);
    assert_eq!(f.len(), 2);
    assert_eq!(f[0]["file"], a.to_string_lossy().as_ref());
    assert_eq!(f[1]["file"], b.to_string_lossy().as_ref());
    assert_eq!(summary(&out)["files"].as_array().map(Vec::len), Some(2));
}

#[test]
fn a_missing_or_foreign_file_is_exit_2_and_named_but_others_are_still_reported() {
    let text = tmp("notes.txt");
    std::fs::write(&text, "this is not a capture\n").expect("write");
    let out = bin()
        .args(["-f", "json", "/nonexistent/x.pcap"])
        .arg(&text)
        .arg(case("sample/capture.pcap"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/x.pcap"), "{err}");
    assert!(
        err.contains("notes.txt") && err.contains("not a pcap or pcapng"),
        "{err}"
    );
    assert_eq!(flows(&out).len(), 6, "the readable file is still reported");
}

#[test]
fn a_capture_cut_in_its_last_packet_keeps_every_flow_and_warns() {
    let raw = std::fs::read(case("py-tls13-port-reuse/capture.pcap")).expect("read");
    let path = tmp("cut.pcap");
    std::fs::write(&path, &raw[..raw.len() - 7]).expect("write");
    let out = bin().args(["-f", "json"]).arg(&path).output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cut.pcap") && err.contains("offset"),
        "warning names file and offset: {err}"
    );
    assert_eq!(flows(&out).len(), 2);
    assert_eq!(summary(&out)["warnings"], 1);
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    // many flows, so the output outgrows the pipe buffer
    let mut child = bin()
        .args(["-f", "json"])
        .args(std::iter::repeat_n(case("sample/capture.pcap"), 400))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("run");
    // not killed by SIGPIPE, no error: a reader that stops early is normal
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // no error about the pipe: only the sample's own warning (its clock
    // runs backwards once), one per file read, and fewer than 400 files:
    // it stopped when the pipe closed
    let err = stderr(&out);
    assert!(
        err.lines()
            .all(|l| l.contains("capture time runs backwards")),
        "{err}"
    );
    assert!(err.lines().count() < 400, "{err}");
}

#[test]
fn non_tls_flows_are_counted_not_listed() {
    // a pcap of one plain TCP exchange, written here
    let path = tmp("plain.pcap");
    std::fs::write(&path, plain_tcp_pcap()).expect("write");
    let out = bin().args(["-f", "json"]).arg(&path).output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert!(flows(&out).is_empty());
    assert_eq!(summary(&out)["non_tls_flows"], 1);
}

/// One plain TCP exchange (no TLS) as a raw-IP pcap.
fn plain_tcp_pcap() -> Vec<u8> {
    let (c, srv) = (
        (Ipv4Addr::new(10, 0, 0, 1), 40000),
        (Ipv4Addr::new(10, 0, 0, 2), 80),
    );
    let pkt = |from_client: bool, seq: u32, flags: u8, payload: &[u8]| Pkt {
        ts_us: 0,
        src: if from_client { c } else { srv },
        dst: if from_client { srv } else { c },
        seq,
        ack: 0,
        flags,
        payload: payload.to_vec(),
    };
    let packets = [
        pkt(true, 100, SYN, b""),
        pkt(false, 500, SYN | ACK, b""),
        pkt(true, 101, ACK | PSH, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    ];
    let frames: Vec<(u64, Vec<u8>)> = packets
        .iter()
        .enumerate()
        .map(|(i, p)| ((1_700_000_000 + i as u64) * 1_000_000, ipv4_tcp(p)))
        .collect();
    pcap_file(LINK_RAW, &frames)
}
