//! The Markdown report for a ticket stays under 60,000 characters (a
//! GitHub comment holds 65,536) whatever the capture: the conclusion, the
//! findings and the per-server table first, then as many flow diagrams as
//! fit, the rest counted and `--report-flows` named. Checked on the corpus
//! (the 42-flow audit capture, gen-mixed-1m) and on 10,000 connections
//! generated here (`tlsclose_testkit::scripted`), whose truth is known by
//! construction; and its opening sentences follow the findings' numbers.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use tlsclose_testkit::capture::{pcap_of, write, Pkt};
use tlsclose_testkit::cli::{output, stderr};
use tlsclose_testkit::scripted::{tls12, Act, Side, Step};
use tlsclose_testkit::{case, tlsclose, tmp};

const BUDGET: usize = 60_000;
const T0: u64 = 1_760_000_000_000_000;
const FLOWS: u32 = 10_000;
const SERVERS: u32 = 500;

/// Server `s`'s idle timeout: 1, 1.5 or 2 s.
fn timeout(s: u32) -> f64 {
    1.0 + 0.5 * f64::from(s % 3)
}

/// Flow `i`'s script by its kind (i % 10), towards a server with idle
/// timeout `t`: a response at 20 ms, then
/// - 0–3: the server's idle close (close_notify, FIN), the client's FIN;
/// - 4: a request 30 ms after the server's idle close, answered by RST;
/// - 5: the client's RST;
/// - 6: the server's bare FIN right after its own data;
/// - 7: the server's RST after 3 s of silence;
/// - 8: the client's bare FIN;
/// - 9: still open at the end.
fn script(i: u32, t: f64) -> Vec<Step> {
    use Act::*;
    use Side::*;
    let close = 0.02 + t;
    let mut s: Vec<Step> = vec![(0.01, Client, Data(300)), (0.02, Server, Data(2000))];
    match i % 10 {
        0..=3 => s.extend([
            (close, Server, CloseNotify),
            (close, Server, Fin),
            (close + 0.0005, Client, Fin),
        ]),
        4 => s.extend([
            (close, Server, CloseNotify),
            (close, Server, Fin),
            (close + 0.03, Client, Data(300)),
            (close + 0.0301, Server, Rst),
        ]),
        5 => s.push((0.5, Client, Rst)),
        6 => s.extend([
            (0.3, Server, Data(700)),
            (0.3, Server, Fin),
            (0.3005, Client, Fin),
        ]),
        7 => s.push((3.02, Server, Rst)),
        8 => s.extend([(0.4, Client, Fin), (0.4005, Server, Fin)]),
        _ => {}
    }
    s
}

/// `flows` connections over `servers` servers (server of flow i: i /
/// 10 % servers), with the idle timeout `timeout_of` each server.
fn capture(name: &str, flows: u32, servers: u32, timeout_of: fn(u32) -> f64) -> PathBuf {
    let path = tmp("report-size", name);
    let mut pkts: Vec<Pkt> = Vec::new();
    for i in 0..flows {
        let s = (i / 10) % servers;
        let c = (
            Ipv4Addr::new(
                10,
                (i / 60_000) as u8,
                ((i / 250) % 250) as u8,
                (i % 250 + 1) as u8,
            ),
            20000 + (i % 40000) as u16,
        );
        let srv = (
            Ipv4Addr::new(198, 51, (100 + s / 250) as u8, (s % 250 + 1) as u8),
            443,
        );
        pkts.extend(tls12(
            c,
            srv,
            T0 + u64::from(i) * 1000,
            &script(i, timeout_of(s)),
        ));
    }
    pkts.sort_by_key(|p| p.ts_us);
    write(&path, &pcap_of(&pkts));
    path
}

fn report(cap: &Path, name: &str, args: &[&str]) -> String {
    let path = tmp("report-size", name);
    let out = output(
        tlsclose!()
            .arg(cap)
            .arg("--report")
            .arg(&path)
            .arg("-q")
            .args(args),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::read_to_string(&path).expect("the report")
}

/// The flows described and drawn, as the report counts them.
struct Flows {
    described: usize,
    drawn: usize,
    intro: String,
}

/// Checks the layout every Markdown report has, and returns its counts.
fn layout(md: &str, name: &str) -> Flows {
    let at = |s: &str| {
        md.find(s)
            .unwrap_or_else(|| panic!("{name} has {s:?}:\n{md}"))
    };
    // the conclusion (line 3), then what was read, the findings, the
    // endings, the servers, the flows
    assert!(md.starts_with("# TLS connection endings in "), "{name}");
    let conclusion = md.lines().nth(2).expect("a conclusion");
    assert!(
        conclusion.contains(" TLS connections ended cleanly")
            || conclusion.contains("TLS connection ended cleanly"),
        "{name}: {conclusion}"
    );
    let order = [
        "- Capture: ",
        "- Made with: tlsclose ",
        "\n## Findings\n",
        "\n## Endings\n",
        "\n## Per server\n",
        "\n## Flows that did not end with close_notify then FIN, or raced the close\n",
    ];
    for w in order.windows(2) {
        assert!(at(w[0]) < at(w[1]), "{name}: {:?} before {:?}", w[0], w[1]);
    }
    // one diagram per flow drawn, no text ladder
    assert!(!md.contains("```text"), "{name}");
    let drawn = md.matches("\n### #").count();
    assert_eq!(md.matches("```mermaid\n").count(), drawn, "{name}");
    let intro = md
        .split("or raced the close\n\n")
        .nth(1)
        .and_then(|s| s.lines().next())
        .expect("the flows' first line")
        .to_string();
    let described = intro
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{name}: {intro}"));
    Flows {
        described,
        drawn,
        intro,
    }
}

/// The sentence that says how many were left out and how to draw them.
fn left_out(f: &Flows) -> String {
    format!(
        "{} flows; the first {} are drawn, as many as fit in 60,000 characters (a GitHub comment \
         holds 65,536); the other {} are left out (`--report-flows {}` draws them all, past that \
         size).",
        f.described,
        f.drawn,
        f.described - f.drawn,
        f.described
    )
}

#[test]
fn ten_thousand_flows_make_a_report_under_the_budget() {
    let cap = capture("10k.pcap", FLOWS, SERVERS, timeout);
    let md = report(&cap, "10k.md", &[]);
    let size = md.chars().count();
    println!("10,000 flows: {size} characters");
    assert!(size < BUDGET, "{size} characters");
    let f = layout(&md, "10k");
    // described: every flow but the clean idle closes (kinds 0-3)
    assert_eq!(f.described, 6000, "{}", f.intro);
    assert!(f.drawn >= 10 && f.drawn < 6000, "{}", f.drawn);
    assert!(f.intro.starts_with(&left_out(&f)), "{}", f.intro);
    // the flows drawn are the first in the capture, in order
    let numbers: Vec<u64> = md
        .split("\n### #")
        .skip(1)
        .filter_map(|s| s.split(' ').next().and_then(|n| n.parse().ok()))
        .collect();
    // (a flow's number is its first frame: the flows' numbers in order,
    // every one but the clean kinds 0-3 of each ten)
    let mut ids: Vec<u64> =
        tlsclose_testkit::cli::flows(&output(tlsclose!().args(["-q", "-f", "json"]).arg(&cap)))
            .iter()
            .filter_map(|f| f["flow"].as_u64())
            .collect();
    ids.sort_unstable();
    assert_eq!(ids.len(), 10_000);
    let expected: Vec<u64> = ids
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 10 >= 4)
        .map(|(_, &id)| id)
        .take(f.drawn)
        .collect();
    assert_eq!(numbers, expected);
    // 20 servers in the table, the others counted
    let table = md.split("\n## Per server\n\n").nth(1).expect("the table");
    assert_eq!(
        table.lines().take_while(|l| l.starts_with('|')).count(),
        2 + 20
    );
    assert!(
        md.contains("480 more servers (9600 flows): `--group-by server` lists every one."),
        "{md}"
    );
    // the conclusion, from the findings' numbers
    let conclusion = md.lines().nth(2).expect("a conclusion");
    for s in [
        // the races end cleanly: the server closed properly
        "5000 of 10000 TLS connections ended cleanly (close_notify, then FIN); 2000 ended with a \
         FIN alone, 2000 with an RST and 1000 were still open when the capture ended.",
        "1000 requests raced the servers' idle timeouts (2.00s, 1.50s and 1.00s)",
        "keep the clients' idle timeout under 1.00s (e.g. 700ms)",
        // two resets a server agree on no timeout worth naming
        "500 servers reset idle connections instead of closing them (1000 RSTs",
        "2 more findings below: truncation-risk and client-reset.",
    ] {
        assert!(conclusion.contains(s), "{s:?} in {conclusion}");
    }

    // --report-flows N draws N, whatever the size
    let md = report(&cap, "10k-40.md", &["--report-flows", "40"]);
    let f = layout(&md, "10k, 40");
    assert_eq!(f.drawn, 40);
    assert!(
        f.intro.starts_with(
            "6000 flows; the first 40 are drawn (`--report-flows` asked for 40; \
             `--report-flows 6000` draws them all)"
        ),
        "{}",
        f.intro
    );
}

#[test]
fn the_corpus_reports_stay_under_the_budget() {
    // the 42 flows of the audit capture: every one described is drawn
    let md = report(&case("audit-keepalive-race/capture.pcap"), "race.md", &[]);
    let size = md.chars().count();
    println!("audit-keepalive-race: {size} characters");
    assert!(size < BUDGET, "{size}");
    let f = layout(&md, "race");
    assert_eq!((f.described, f.drawn), (28, 28), "{}", f.intro);
    assert!(f.intro.starts_with("28 flows. Each has"), "{}", f.intro);

    // gen-mixed-1m (106 flows, 69 described): as many as fit
    let md = report(&case("gen-mixed-1m/capture.pcap"), "mixed.md", &[]);
    let size = md.chars().count();
    println!("gen-mixed-1m: {size} characters");
    assert!(size < BUDGET, "{size}");
    let f = layout(&md, "mixed");
    assert_eq!(f.described, 69);
    assert!(f.drawn >= 20 && f.drawn < 69, "{}", f.drawn);
    assert!(f.intro.starts_with(&left_out(&f)), "{}", f.intro);
    // each diagram is whole: the last one drawn closes its fence
    assert!(md.trim_end().ends_with("```"));
}

#[test]
fn the_conclusion_follows_the_capture() {
    // one server, a 3 s idle timeout: other numbers, another fix
    let cap = capture("one.pcap", 40, 1, |_| 3.0);
    let md = report(&cap, "one.md", &[]);
    let conclusion = md.lines().nth(2).expect("a conclusion");
    for s in [
        "20 of 40 TLS connections ended cleanly (close_notify, then FIN); 8 ended with a FIN \
         alone, 8 with an RST and 4 were still open when the capture ended.",
        "4 requests raced server 198.51.100.1:443's idle timeout (3.00s)",
        "keep the clients' idle timeout under 3.00s (e.g. 2.20s)",
        "Server 198.51.100.1:443 resets idle connections after 3.00s instead of closing them",
    ] {
        assert!(conclusion.contains(s), "{s:?} in {conclusion}");
    }
    assert!(!conclusion.contains("1.00s"), "{conclusion}");
}

#[test]
fn the_readme_quotes_the_reports_opening_as_it_is() {
    let md = report(&case("audit-keepalive-race/capture.pcap"), "readme.md", &[]);
    let conclusion = md.lines().nth(2).expect("a conclusion");
    let readme = std::fs::read_to_string(tlsclose_testkit::paths::workspace().join("README.md"))
        .expect("README.md");
    let quoted: Vec<&str> = readme
        .split("On\n  `testdata/audit-keepalive-race` it opens:\n\n")
        .nth(1)
        .expect("the README quotes the report")
        .lines()
        .take_while(|l| l.starts_with("  > "))
        .map(|l| l.trim_start_matches("  > "))
        .collect();
    assert_eq!(quoted.join(" "), conclusion);
}
