//! Reports that leave the terminal, as a user runs them on shipped
//! captures: --report (self-contained GitHub Markdown with flow diagrams),
//! the Wireshark filter of every flow (checked in tshark when it is
//! installed; .ci/run installs it) and --extract.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tlsclose_testkit::capture::pcapng_blocks;
use tlsclose_testkit::cli::{flows, stderr, stdout};
use tlsclose_testkit::{case, require_tool};

mod common;
use common::*;

// ---- --report ------------------------------------------------------------

#[test]
fn report_is_self_contained_github_markdown() {
    let path = tmp("report.md");
    let out = run(
        &["--report", path.to_str().expect("path"), "-f", "json"],
        &sample(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(flows(&out).len(), 6, "the main output is unchanged");
    let md = std::fs::read_to_string(&path).expect("the report");
    assert!(
        md.starts_with("# TLS connection endings in `capture.pcap`\n"),
        "{md}"
    );
    for s in [
        "capture.pcap` (pcap, 18.3 KiB, 94 frames, 6 TLS flows)",
        "time span: 2026-11-24 07:36:23.673 UTC to 2026-11-24 07:37:45.576 UTC (1m 22s)",
        "- Flows: 6 TLS, 0 other TCP; 94 packets",
        "## Endings",
        "| fin-only | 2 | 33.3% |",
        "## Per server",
        "| 127.0.0.1:21740 | 1 | 1 (100%) |",
        "## Flows that did not end with close_notify then FIN, or raced the close",
        "Wireshark filter: `ip.addr==127.0.0.1 && tcp.port==52198 && tcp.port==20560 && frame.number>=30 && frame.number<=42`",
        "C-xS: +0.300s frame 42 TCP RST",
    ] {
        assert!(md.contains(s), "the report has {s:?}:\n{md}");
    }
    // the conclusion first, from the endings and the findings
    let conclusion = md.lines().nth(2).expect("a conclusion");
    assert!(
        conclusion.starts_with(
            "1 of 6 TLS connections ended cleanly (close_notify, then FIN); 2 ended with a \
             FIN alone, 1 with an RST, 1 with data after an alert and 1 was still open"
        ),
        "{conclusion}"
    );
    assert!(
        conclusion.contains("1 client in 1 network reset 1 connection"),
        "{conclusion}"
    );
    // then the findings, the endings and the servers, before the flows
    let at = |s: &str| md.find(s).unwrap_or_else(|| panic!("{s}"));
    assert!(at("## Findings") < at("## Endings"));
    assert!(at("### 1. client 127.0.0.1 reset 1 connection") < at("## Endings"));
    assert!(at("## Endings") < at("## Per server"));
    assert!(at("## Per server") < at("## Flows that"));
    // every flow but the clean one, in order, each with a filter and one
    // diagram (no text ladder: that is --flow's)
    let sections: Vec<&str> = md.lines().filter(|l| l.starts_with("### #")).collect();
    assert_eq!(sections.len(), 5, "{md}");
    // (numbered by their first frames)
    for (s, n) in sections.iter().zip(["#1 ", "#13 ", "#30 ", "#43 ", "#77 "]) {
        assert!(s.starts_with(&format!("### {n}")), "{s}");
    }
    assert!(!md.contains("### #58 "), "the clean flow is not listed");
    assert_eq!(md.matches("- Wireshark filter: `").count(), 5);
    assert_eq!(md.matches("```mermaid\n").count(), 5);
    assert!(!md.contains("```text"));
    let tables = check_gfm_tables(&md);
    assert_eq!(tables, vec![3, 13], "{md}");
    check_rendered(&md, &tables);
}

/// The first frame of each flow's diagram in a Markdown report, by flow
/// number, with the frame the text before it names.
fn diagram_starts(md: &str) -> Vec<(u64, u64, Option<u64>)> {
    md.split("\n### #")
        .skip(1)
        .map(|s| {
            let number: u64 = s
                .split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("a flow number");
            let said: u64 = s
                .split("How it ended, from frame ")
                .nth(1)
                .and_then(|t| t.split([' ', ':']).next())
                .and_then(|n| n.parse().ok())
                .expect("the first frame, in words");
            let drawn = s
                .split("```mermaid\n")
                .nth(1)
                .and_then(|d| d.split(" frame ").nth(1))
                .and_then(|t| t.split(' ').next())
                .and_then(|n| n.parse().ok());
            (number, said, drawn)
        })
        .collect()
}

#[test]
fn a_flows_diagram_starts_where_the_report_and_its_text_ladder_do() {
    let cap = case("audit-keepalive-race/capture.pcap");
    let path = tmp("report-starts.md");
    let out = run(&["--report", path.to_str().expect("path"), "-q"], &cap);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let md = std::fs::read_to_string(&path).expect("report");
    let starts = diagram_starts(&md);
    assert_eq!(starts.len(), 28);
    let mut hidden = 0;
    for (number, said, drawn) in starts {
        assert_eq!(Some(said), drawn, "flow {number}");
        // --flow N's text ladder starts at the same frame
        let text = stdout(&run(&["--flow", &number.to_string()], &cap));
        let first = text
            .split("How it ended:\n")
            .nth(1)
            .and_then(|l| l.lines().find(|l| l.contains(" frame ")))
            .and_then(|l| l.split(" frame ").nth(1))
            .and_then(|t| t.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok());
        assert_eq!(first, Some(said), "flow {number}:\n{text}");
        hidden += u64::from(text.contains("earlier record"));
    }
    assert!(hidden > 0, "the premise: ladders with records left out");
}

#[test]
fn report_follows_the_filters_and_its_flow_limit() {
    let path = tmp("report-limited.md");
    let p = path.to_str().expect("path");
    let out = run(&["--report", p, "--report-flows", "2", "-q"], &sample());
    assert_eq!(out.status.code(), Some(0));
    let md = std::fs::read_to_string(&path).expect("report");
    assert_eq!(md.lines().filter(|l| l.starts_with("### #")).count(), 2);
    assert!(
        md.contains(
            "5 flows; the first 2 are drawn (`--report-flows` asked for 2; `--report-flows 5` draws them all)"
        ),
        "{md}"
    );
    check_gfm_tables(&md);

    let out = run(
        &["--report", p, "--server", "127.0.0.1:20560", "-q"],
        &sample(),
    );
    assert_eq!(out.status.code(), Some(0));
    let md = std::fs::read_to_string(&path).expect("report");
    assert!(
        md.contains("- Selected: 1 of 6 TLS flows, by `--server 127.0.0.1:20560`"),
        "{md}"
    );
    assert!(md.contains("| rst | 1 | 100% |"), "{md}");
    assert_eq!(md.lines().filter(|l| l.starts_with("### #30 ")).count(), 1);
    check_gfm_tables(&md);

    // a path that cannot be written fails before reading
    let out = run(&["--report", "/nonexistent-dir/r.md"], &sample());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/nonexistent-dir/r.md"),
        "{}",
        stderr(&out)
    );
}

// ---- Wireshark filters -------------------------------------------------

#[test]
fn every_flow_carries_a_wireshark_filter() {
    for v in flows(&run(&["-f", "json"], &sample())) {
        let f = v["wireshark_filter"].as_str().expect("a filter");
        let (c, s) = (
            v["client"].as_str().unwrap_or_default(),
            v["server"].as_str().unwrap_or_default(),
        );
        let port = |ep: &str| ep.rsplit(':').next().unwrap_or_default().to_string();
        assert!(f.starts_with("ip.addr==127.0.0.1 && "), "{f}");
        assert!(f.contains(&format!("tcp.port=={}", port(c))), "{f}");
        assert!(f.contains(&format!("tcp.port=={}", port(s))), "{f}");
        assert!(
            f.contains(&format!("frame.number>={}", v["first_frame"])),
            "{f}"
        );
        assert!(
            f.ends_with(&format!("frame.number<={}", v["last_frame"])),
            "{f}"
        );
    }
}

/// In tshark, each flow's filter selects exactly its frames: as many as it
/// has packets, from its first to its last frame, all of one TCP stream.
/// That stream holds no other frame but, after the flow's end (the second
/// FIN), its last bare ACK. Covers port reuse (the same 4-tuple twice),
/// IPv6, VLAN and pcapng with several interfaces.
#[test]
fn wireshark_filters_select_exactly_each_flow_in_tshark() {
    if !require_tool("tshark") {
        return;
    }
    for c in [
        "sample/capture.pcap",
        "py-tls13-port-reuse/capture.pcap",
        "py-mixed-three-flows/capture.pcap",
        "fmt-ipv6/capture.pcap",
        "fmt-pcapng-multi-if/capture.pcapng",
        "fmt-vlan-8021q/capture.pcap",
    ] {
        let capture = case(c);
        let all = flows(&run(&["-f", "json", "-q"], &capture));
        assert!(!all.is_empty(), "{c}");
        let mut seen_streams = BTreeSet::new();
        for v in &all {
            let filter = v["wireshark_filter"].as_str().expect("filter");
            let frames = tshark_frames(&capture, filter);
            let numbers: Vec<u64> = frames.iter().map(|f| f.0).collect();
            let last = v["last_frame"].as_u64().unwrap_or(0);
            assert_eq!(
                numbers.len() as u64,
                v["packets"].as_u64().unwrap_or(0),
                "{c}: {filter}"
            );
            assert_eq!(
                numbers.first().copied(),
                v["first_frame"].as_u64(),
                "{c}: {filter}"
            );
            assert_eq!(numbers.last().copied(), Some(last), "{c}: {filter}");
            let streams: BTreeSet<&String> = frames.iter().map(|f| &f.1).collect();
            assert_eq!(streams.len(), 1, "{c}: {filter}: one TCP stream");
            let stream = streams.into_iter().next().cloned().unwrap_or_default();
            assert!(
                seen_streams.insert(stream.clone()),
                "{c}: two flows in stream {stream}"
            );
            let whole: Vec<u64> = tshark_frames(&capture, &format!("tcp.stream=={stream}"))
                .iter()
                .map(|f| f.0)
                .collect();
            assert_eq!(
                whole[..numbers.len()],
                numbers[..],
                "{c}: {filter} is tcp.stream {stream}"
            );
            let after: Vec<u64> = whole[numbers.len()..].to_vec();
            if !after.is_empty() {
                let bare = tshark_frames(
                    &capture,
                    &format!("tcp.stream=={stream} && frame.number>{last} && tcp.len==0 && tcp.flags.syn==0"),
                );
                assert_eq!(
                    bare.len(),
                    after.len(),
                    "{c}: after {filter}, only bare ACKs: {after:?}"
                );
            }
        }
    }
}

// ---- --extract -----------------------------------------------------------

fn extract(args: &[&str], input: &Path, out_name: &str) -> (Output, PathBuf) {
    let out_path = tmp(out_name);
    let _ = std::fs::remove_file(&out_path);
    let mut a: Vec<&str> = vec!["--extract", out_path.to_str().expect("path")];
    a.extend(args);
    (run(&a, input), out_path)
}

#[test]
fn extract_writes_exactly_the_selected_flows_as_pcap() {
    let (out, path) = extract(
        &["--ending", "fin-only,rst", "-f", "json"],
        &sample(),
        "sel.pcap",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let chosen = flows(&out);
    assert_eq!(chosen.len(), 3);
    assert!(
        // frames 20–37, 38–50 and 80–94 (a flow closed by FINs takes its final ACK)
        stderr(&out).contains("wrote 46 packets of 3 flows"),
        "{}",
        stderr(&out)
    );
    // the same pcap header (byte order, version, snaplen, link type)
    let orig = std::fs::read(sample()).expect("sample");
    let got = std::fs::read(&path).expect("extract");
    assert_eq!(got[..24], orig[..24]);
    // tlsclose reads it back: the same flows, endings and packet counts
    let again = flows(&run(&["-f", "json"], &path));
    assert_eq!(again.len(), 3);
    for (a, b) in chosen.iter().zip(&again) {
        for k in [
            "client",
            "server",
            "ending",
            "closer",
            "packets",
            "client_close_notify",
            "server_close_notify",
        ] {
            assert_eq!(a[k], b[k], "{k}");
        }
    }
    let total: u64 = chosen.iter().filter_map(|v| v["packets"].as_u64()).sum();
    assert_eq!(total, 46);
    if require_tool("tshark") {
        let frames = tshark_frames(&path, "frame");
        assert_eq!(frames.len() as u64, total, "tshark -r reads every packet");
        let streams: BTreeSet<&String> = frames.iter().map(|f| &f.1).collect();
        assert_eq!(streams.len(), 3);
    }
}

#[test]
fn extract_keeps_pcapng_interfaces_and_decryption_secrets() {
    for (c, filter) in [
        ("fmt-pcapng-dsb/capture.pcapng", vec!["-q"]),
        (
            "fmt-pcapng-multi-if/capture.pcapng",
            vec!["-q", "--port", "22300"],
        ),
    ] {
        let input = case(c);
        let (out, path) = extract(&filter, &input, "sel.pcapng");
        assert_eq!(out.status.code(), Some(0), "{c}: {}", stderr(&out));
        let orig = pcapng_blocks(&std::fs::read(&input).expect("input"));
        let got = pcapng_blocks(&std::fs::read(&path).expect("extract"));
        let count = |v: &[u32], t: u32| v.iter().filter(|&&x| x == t).count();
        assert_eq!(
            got.first(),
            Some(&0x0A0D_0D0A),
            "{c}: starts with a section header"
        );
        for t in [1u32, 0x0A] {
            assert_eq!(
                count(&got, t),
                count(&orig, t),
                "{c}: blocks of type {t} kept"
            );
        }
        let want = flows(&run(&[&["-f", "json"][..], &filter[..]].concat(), &input));
        let again = flows(&run(&["-f", "json", "-q"], &path));
        assert_eq!(again.len(), want.len(), "{c}");
        for (a, b) in want.iter().zip(&again) {
            assert_eq!(a["client"], b["client"]);
            assert_eq!(a["packets"], b["packets"]);
            assert_eq!(a["ending"], b["ending"]);
        }
        let packets: u64 = want.iter().filter_map(|v| v["packets"].as_u64()).sum();
        assert_eq!(
            (count(&got, 6) + count(&got, 3) + count(&got, 2)) as u64,
            packets,
            "{c}"
        );
        if require_tool("tshark") {
            assert_eq!(tshark_frames(&path, "frame").len() as u64, packets, "{c}");
        }
    }
}

#[test]
fn extract_of_a_gzip_capture_or_of_nothing() {
    // gzip in, the capture format out (uncompressed)
    if require_tool("gzip") {
        let gz = tmp("sample.pcap.gz");
        let data = Command::new("gzip")
            .args(["-c"])
            .arg(sample())
            .output()
            .expect("gzip")
            .stdout;
        std::fs::write(&gz, data).expect("write");
        let (out, path) = extract(&["--ending", "open", "-q"], &gz, "from-gz.pcap");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let again = flows(&run(&["-f", "json"], &path));
        assert_eq!(endings(&again), ["open"]);
        assert_eq!(
            std::fs::read(&path).expect("x")[..4],
            [0xd4, 0xc3, 0xb2, 0xa1]
        );
    }
    // nothing selected: a valid, empty capture
    let (out, path) = extract(
        &["--ending", "open", "--port", "1", "-q"],
        &sample(),
        "none.pcap",
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read(&path).expect("x").len(), 24);
    let again = run(&["-f", "json"], &path);
    assert_eq!(again.status.code(), Some(0));
    assert!(flows(&again).is_empty());
}

#[test]
fn extract_of_a_capture_cut_short_copies_every_complete_frame() {
    let cut = tmp("cut.pcap");
    let data = std::fs::read(sample()).expect("sample");
    std::fs::write(&cut, &data[..9000]).expect("write");
    let (out, path) = extract(&["-q", "-f", "json"], &cut, "from-cut.pcap");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let packets: u64 = flows(&out)
        .iter()
        .filter_map(|v| v["packets"].as_u64())
        .sum();
    // the 47 complete frames, each in its flow: the final ACK of the flow
    // closed by FINs (frame 29) counts
    assert_eq!(packets, 47);
    let again = flows(&run(&["-f", "json", "-q"], &path));
    let again_packets: u64 = again.iter().filter_map(|v| v["packets"].as_u64()).sum();
    assert_eq!(again_packets, packets);
}

#[test]
fn extract_refuses_standard_input_and_overwriting_the_input() {
    let out = bin()
        .args(["--extract", tmp("x.pcap").to_str().expect("p"), "-"])
        .stdin(std::fs::File::open(sample()).expect("sample"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("standard input"), "{}", stderr(&out));
    let copy = tmp("input-copy.pcap");
    std::fs::copy(sample(), &copy).expect("copy");
    let out = run(&["--extract", copy.to_str().expect("p")], &copy);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("would overwrite"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(&copy).expect("x"),
        std::fs::read(sample()).expect("y")
    );
    // pcap and pcapng cannot go into one extract
    let out = bin()
        .args(["-q", "--extract", tmp("mixed.pcap").to_str().expect("p")])
        .arg(sample())
        .arg(case("fmt-pcapng/capture.pcapng"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("pcapng"), "{}", stderr(&out));
}
