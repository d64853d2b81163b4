//! Reports for people (issue 5), as a user runs them on shipped captures:
//! CSV, Markdown, --group-by, filters, --fail-on, --flow, completions and
//! the man page (--report, the Wireshark filters and --extract:
//! reports_export.rs). Markdown tables are rendered by cmark-gfm when it is
//! installed (.ci/run installs it).

use serde_json::Value;
use tlsclose_testkit::case;
use tlsclose_testkit::cli::{flows, json_lines, stderr, stdout, summary};

mod common;
use common::*;

// ---- CSV ---------------------------------------------------------------

/// RFC 4180 records (quoted fields may hold commas, quotes, line breaks).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\r') => {}
            (false, c) => field.push(c),
        }
    }
    assert!(!quoted, "unterminated quoted field");
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

#[test]
fn csv_has_a_header_and_the_json_fields_of_every_flow() {
    let csv = run(&["-f", "csv"], &sample());
    assert_eq!(csv.status.code(), Some(0), "{}", stderr(&csv));
    let rows = parse_csv(&stdout(&csv));
    let header = rows.first().expect("a header row").clone();
    assert_eq!(rows.len(), 7, "a header and six flows");
    for r in &rows {
        assert_eq!(
            r.len(),
            header.len(),
            "every row has the header's field count"
        );
    }
    for name in [
        "client",
        "server",
        "ending",
        "client_alerts",
        "server_alerts",
        "teardown_kind",
        "client_app_bytes",
        "wireshark_filter",
    ] {
        assert!(header.iter().any(|h| h == name), "column {name}");
    }
    // the same values as the JSON lines, flow by flow
    let json = flows(&run(&["-f", "json"], &sample()));
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    for (row, v) in rows.iter().skip(1).zip(&json) {
        for name in [
            "client",
            "server",
            "ending",
            "closer",
            "sni",
            "wireshark_filter",
        ] {
            assert_eq!(
                row[col(name)],
                v[name].as_str().unwrap_or_default(),
                "{name}"
            );
        }
        for name in ["first_frame", "last_frame", "packets"] {
            assert_eq!(row[col(name)], v[name].to_string(), "{name}");
        }
        let alerts: Vec<&str> = v["alerts"]["server"]
            .as_array()
            .expect("alerts")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(row[col("server_alerts")], alerts.join(";"));
        assert_eq!(row[col("client_app_bytes")], v["app_bytes"][0].to_string());
    }
    // the summary goes to standard error, the output stays one table
    assert!(stderr(&csv).contains("6 TLS flows"), "{}", stderr(&csv));
}

#[test]
fn csv_of_no_flow_is_still_a_header() {
    let out = run(&["-f", "csv", "--ending", "open", "--port", "1"], &sample());
    assert_eq!(out.status.code(), Some(0));
    let rows = parse_csv(&stdout(&out));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], "flow");
    assert_eq!(rows[0][1], "file");
}

// ---- Markdown ----------------------------------------------------------

#[test]
fn markdown_format_is_a_github_table() {
    let out = run(&["-f", "markdown"], &sample());
    assert_eq!(out.status.code(), Some(0));
    let md = stdout(&out);
    let tables = check_gfm_tables(&md);
    // 12 columns, then who started the close and the keep-alive race
    assert_eq!(tables, vec![14], "{md}");
    assert_eq!(md.lines().filter(|l| l.starts_with("| ")).count(), 2 + 6);
    assert!(
        md.contains("| 30 | 127.0.0.1:52198 | 127.0.0.1:20560 |"),
        "{md}"
    );
    check_rendered(&md, &tables);
    // grouped, too
    let out = run(&["-f", "markdown", "--group-by", "ending"], &sample());
    let md = stdout(&out);
    let tables = check_gfm_tables(&md);
    // 11 columns, then keep-alive races and idle timeouts
    assert_eq!(tables, vec![13], "{md}");
    check_rendered(&md, &tables);
}

// ---- --group-by --------------------------------------------------------

fn groups(args: &[&str]) -> Vec<Value> {
    let out = run(args, &sample());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines = json_lines(&stdout(&out));
    assert_eq!(
        lines.last().map(|l| l["summary"].clone()),
        Some(Value::Bool(true))
    );
    lines
        .into_iter()
        .filter(|v| v.get("group").is_some())
        .collect()
}

fn close(a: &Value, b: f64) -> bool {
    a.as_f64().is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn group_by_ending_counts_the_sample() {
    let g = groups(&["-f", "json", "--group-by", "ending"]);
    let names: Vec<&str> = g.iter().filter_map(|v| v["group"].as_str()).collect();
    assert_eq!(
        names,
        [
            "close_notify-then-fin",
            "fin-only",
            "rst",
            "data-after-alert",
            "open"
        ]
    );
    let fin_only = &g[1];
    assert_eq!(fin_only["group_by"], "ending");
    assert_eq!(fin_only["flows"], 2);
    assert_eq!(fin_only["endings"]["fin-only"]["count"], 2);
    assert_eq!(fin_only["endings"]["fin-only"]["percent"], 100.0);
    assert_eq!(fin_only["closer"]["client"], 2);
    // one of the two fin-only servers had sent close_notify (inferred)
    assert_eq!(fin_only["server_close_notify"]["count"], 1);
    assert_eq!(fin_only["server_close_notify"]["percent"], 50.0);
    assert_eq!(fin_only["client_close_notify"]["count"], 0);
    // idle before close: 0.000139 s (from the server's last record: the
    // client's own 26-byte record just before its FIN is a closing
    // preamble) and 0.300227 s
    assert!(close(
        &fin_only["idle_before_close"]["median"],
        (0.000139 + 0.300227) / 2.0
    ));
    assert!(close(&fin_only["idle_before_close"]["max"], 0.300227));
    // an open flow has no idle time
    assert_eq!(g[4]["idle_before_close"]["median"], Value::Null);
    assert_eq!(g[4]["closer"]["none"], 1);
}

#[test]
fn group_by_client_sni_and_server_on_the_sample() {
    // every flow of the sample comes from 127.0.0.1 (ports differ)
    let g = groups(&["-f", "json", "--group-by", "client"]);
    assert_eq!(g.len(), 1);
    let c = &g[0];
    assert_eq!(c["group"], "127.0.0.1");
    assert_eq!(c["flows"], 6);
    assert_eq!(c["endings"]["fin-only"]["count"], 2);
    assert_eq!(c["endings"]["fin-only"]["percent"], 33.3);
    assert_eq!(c["endings"]["rst"]["percent"], 16.7);
    assert_eq!(c["closer"]["client"], 3);
    assert_eq!(c["closer"]["server"], 2);
    assert_eq!(c["closer"]["none"], 1);
    assert_eq!(c["server_close_notify"]["count"], 3);
    assert_eq!(c["server_close_notify"]["percent"], 50.0);
    // idle: 1.001205 0.000094 0.299973 0.158977 0.300227 (open: none)
    assert!(close(&c["idle_before_close"]["median"], 0.299973));
    assert!(close(&c["idle_before_close"]["max"], 1.001205));

    let g = groups(&["-f", "json", "--group-by", "sni"]);
    assert_eq!(g.len(), 1);
    assert_eq!(g[0]["group"], "server.test");

    // six servers, one flow each, each with its own ending
    let g = groups(&["-f", "json", "--group-by", "server"]);
    assert_eq!(g.len(), 6);
    let by_server = |s: &str| g.iter().find(|v| v["group"] == s).expect(s).clone();
    let clean = by_server("127.0.0.1:21740");
    assert_eq!(clean["endings"]["close_notify-then-fin"]["count"], 1);
    assert_eq!(clean["closer"]["server"], 1);
    assert!(close(&clean["idle_before_close"]["median"], 1.001205));
    assert_eq!(by_server("127.0.0.1:20560")["endings"]["rst"]["count"], 1);
}

#[test]
fn group_by_in_every_format() {
    // CSV: a header, a row per group, same field count
    let out = run(&["-f", "csv", "--group-by", "server"], &sample());
    let rows = parse_csv(&stdout(&out));
    assert_eq!(rows.len(), 7);
    assert!(rows.iter().all(|r| r.len() == rows[0].len()));
    assert_eq!(&rows[0][..3], ["group_by", "group", "flows"]);
    assert!(rows[0].iter().any(|h| h == "fin-only_pct"));
    assert!(rows[0].iter().any(|h| h == "idle_median"));
    // a table for people
    let out = run(&["--group-by", "server"], &sample());
    let text = stdout(&out);
    assert!(text.contains("127.0.0.1:21740"), "{text}");
    assert!(text.contains("1 (100%)"), "{text}");
    assert!(text.contains("median / max"), "{text}");
    assert!(text
        .lines()
        .last()
        .unwrap_or_default()
        .starts_with("6 TLS flows"));
    // --group-by and --flow do not go together
    let out = run(&["--group-by", "server", "--flow", "1"], &sample());
    assert_eq!(out.status.code(), Some(2));
}

// ---- filters -----------------------------------------------------------

fn selected(args: &[&str]) -> Vec<Value> {
    let mut a = vec!["-f", "json"];
    a.extend(args);
    let out = run(&a, &sample());
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    let f = flows(&out);
    let s = summary(&out);
    assert_eq!(s["tls_flows"], 6, "the summary counts every flow");
    assert_eq!(
        s["filtered_out"].as_u64(),
        Some(6 - f.len() as u64),
        "{args:?}: the summary says how many were filtered out"
    );
    f
}

#[test]
fn filters_select_flows_before_every_output() {
    let f = selected(&["--ending", "fin-only,rst"]);
    assert_eq!(endings(&f), ["rst", "fin-only", "fin-only"]);
    assert_eq!(selected(&["--ending", "open", "--ending", "rst"]).len(), 2);
    assert_eq!(selected(&["--server", "127.0.0.1:21740"]).len(), 1);
    assert_eq!(selected(&["--server", "127.0.0.1"]).len(), 6);
    assert_eq!(selected(&["--server", "127.0.0.0/8:20560"]).len(), 1);
    assert_eq!(selected(&["--server", "10.0.0.1"]).len(), 0);
    assert_eq!(
        selected(&["--server", "127.0.0.1:21740", "--server", "127.0.0.1:20560"]).len(),
        2
    );
    assert_eq!(selected(&["--client", "127.0.0.1:52198"]).len(), 1);
    assert_eq!(selected(&["--sni", "*.test"]).len(), 6);
    assert_eq!(selected(&["--sni", "SERVER.*"]).len(), 6);
    assert_eq!(selected(&["--sni", "other.*"]).len(), 0);
    assert_eq!(selected(&["--port", "20560"]).len(), 1);
    assert_eq!(selected(&["--port", "20560,21740"]).len(), 2);
    assert_eq!(
        selected(&["--port", "52198"]).len(),
        1,
        "either side's port"
    );
    // kinds combine with AND
    let f = selected(&["--ending", "fin-only", "--port", "21440"]);
    assert_eq!(endings(&f), ["fin-only"]);
    assert_eq!(f[0]["server"], "127.0.0.1:21440");
    // no filter: no filtered_out in the summary
    let s = summary(&run(&["-f", "json"], &sample()));
    assert!(s.get("filtered_out").is_none());
}

#[test]
fn the_table_says_how_many_were_filtered_out_and_keeps_flow_numbers() {
    let out = run(&["--ending", "rst,open"], &sample());
    let text = stdout(&out);
    let last = text.lines().last().unwrap_or_default();
    assert!(last.contains("2 selected, 4 filtered out"), "{last}");
    // the rows keep their numbers (their first frames) under filters
    assert!(text.contains("│ 30 ┆ 127.0.0.1:52198"), "{text}");
    assert!(text.contains("│  1 ┆ 127.0.0.1:47188"), "{text}");
}

#[test]
fn bad_filter_values_are_usage_errors() {
    for args in [
        ["--ending", "closed"],
        ["--server", "example.com"],
        ["--port", "http"],
        ["--flow", "0"],
        ["--flow", "1.2.3.4-5.6.7.8"],
    ] {
        let out = run(&args, &sample());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(args[0]), "{args:?}: {}", stderr(&out));
    }
}

// ---- --fail-on ---------------------------------------------------------

#[test]
fn fail_on_sets_exit_status_1_for_selected_flows_only() {
    let code = |args: &[&str]| run(args, &sample()).status.code();
    assert_eq!(code(&["--fail-on", "rst"]), Some(1));
    assert_eq!(
        code(&["--fail-on", "fin-only,data-after-alert", "-f", "json"]),
        Some(1)
    );
    assert_eq!(code(&["--fail-on", "rst", "--ending", "fin-only"]), Some(0));
    assert_eq!(
        code(&["--fail-on", "rst", "--server", "127.0.0.1:21740"]),
        Some(0)
    );
    assert_eq!(code(&[]), Some(0));
    // a clean capture passes the usual CI gate
    let out = run(
        &["--fail-on", "fin-only,rst,data-after-alert", "-q"],
        &case("fmt-pcapng-multi-if/capture.pcapng"),
    );
    assert_eq!(out.status.code(), Some(0));
    // the output is written either way
    let out = run(&["--fail-on", "rst", "-f", "json"], &sample());
    assert_eq!(flows(&out).len(), 6);
    // an unreadable input wins: 2
    let out = bin()
        .args(["--fail-on", "rst", "-q"])
        .arg(sample())
        .arg(case("no-such-capture.pcap"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    // documented in --help with the other exit codes
    let help = stdout(&bin().arg("--help").output().expect("help"));
    for s in ["--fail-on", "Exit status:", "  0 ", "  1 ", "  2 "] {
        assert!(help.contains(s), "--help mentions {s:?}:\n{help}");
    }
}

// ---- --flow --------------------------------------------------------------

#[test]
fn flow_by_number_shows_its_details_and_ladder() {
    // a flow's number is its first frame (the sample's rst flow: 30 to 42)
    let out = run(&["--flow", "30"], &sample());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("Flow #30 in ") && text.contains("capture.pcap, one of 6 TLS flows\n"),
        "{text}"
    );
    assert!(text.contains("127.0.0.1:52198"), "{text}");
    assert!(text.contains("rst (closed by client"), "{text}");
    assert!(
        text.contains("ip.addr==127.0.0.1 && tcp.port==52198 && tcp.port==20560 && frame.number>=30 && frame.number<=42"),
        "{text}"
    );
    assert!(text.contains("How it ended:"), "{text}");
    let rst = text.lines().last().unwrap_or_default();
    assert!(
        rst.contains("client → server") && rst.contains("frame 42") && rst.contains("TCP RST"),
        "the ladder ends with the client's RST: {rst}"
    );
    // the Envoy-style idle close: the inferred close_notify says so
    let text = stdout(&run(&["--flow", "58"], &sample()));
    assert!(
        text.contains("server → client  +1.002s  frame 71  TLS alert (encrypted, 19 bytes, likely close_notify)"),
        "{text}"
    );
    assert!(
        text.contains("server → client  +1.002s  frame 72  TCP FIN"),
        "{text}"
    );
}

#[test]
fn flow_by_tuple_either_way_round_and_in_json() {
    for sel in [
        "127.0.0.1:52198-127.0.0.1:20560",
        "127.0.0.1:20560-127.0.0.1:52198",
    ] {
        let out = run(&["--flow", sel, "-f", "json"], &sample());
        assert_eq!(out.status.code(), Some(0));
        let f = flows(&out);
        assert_eq!(f.len(), 1, "{sel}");
        assert_eq!(f[0]["flow"], 30);
        assert_eq!(f[0]["ending"], "rst");
        let ladder = f[0]["ladder"].as_array().expect("the ladder in JSON");
        assert_eq!(
            ladder.last().map(|s| s["what"].clone()),
            Some("TCP RST".into())
        );
        assert_eq!(ladder.last().map(|s| s["frame"].clone()), Some(42.into()));
    }
    let out = run(
        &["--flow", "[::1]:34820-[::1]:21000"],
        &case("fmt-ipv6/capture.pcap"),
    );
    assert!(
        stdout(&out).contains("ipv6.addr==::1 && tcp.port==34820"),
        "{}",
        stdout(&out)
    );
    // the numbers are the table's, whatever the filters
    let out = run(
        &["--flow", "30", "--ending", "rst", "-f", "json"],
        &sample(),
    );
    assert_eq!(flows(&out).len(), 1);
    // a markdown section
    let out = run(&["--flow", "77", "-f", "markdown"], &sample());
    let md = stdout(&out);
    assert!(
        md.starts_with("### #77 · fin-only · 127.0.0.1:49552 → 127.0.0.1:21900"),
        "{md}"
    );
    check_gfm_tables(&md);
}

#[test]
fn flow_not_found_is_status_1_with_a_message() {
    for (args, says) in [
        (vec!["--flow", "7"], "no TLS flow starts at frame 7"),
        (
            vec!["--flow", "10.0.0.1:1-10.0.0.2:2"],
            "no flow matched --flow",
        ),
        (
            vec!["--flow", "30", "--ending", "open"],
            "flow #30 did not pass the filters",
        ),
    ] {
        let out = run(&args, &sample());
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
    }
}

// ---- progress, completions, man page --------------------------------------

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    let out = run(&[], &case("real-sll2-kernel-drops/capture.pcap"));
    let err = stderr(&out);
    assert!(!err.contains('\r') && !err.contains('\u{1b}'), "{err:?}");
}

#[test]
fn completions_and_man_page_come_from_the_clap_definition() {
    for (what, expect) in [
        ("bash", "--group-by"),
        ("zsh", "--fail-on"),
        ("fish", "extract"),
        ("elvish", "--report"),
        ("powershell", "--sni"),
        ("man", ".TH tlsclose"),
    ] {
        let out = bin().args(["--generate", what]).output().expect("run");
        assert_eq!(out.status.code(), Some(0), "{what}");
        let text = stdout(&out);
        assert!(text.contains(expect), "{what} has {expect}");
    }
    let man = stdout(&bin().args(["--generate", "man"]).output().expect("man"));
    assert!(
        man.contains(".SH \"EXIT STATUS\"") && man.contains("fail\\-on\\-finding"),
        "the man page documents the exit status"
    );
    // --generate stands alone
    let out = run(&["--generate", "bash"], &sample());
    assert_eq!(out.status.code(), Some(2));
}
