//! Reports for people (issue 5), as a user runs them on shipped captures:
//! formats, --group-by, --report, --flow, filters, --extract, --fail-on,
//! the Wireshark filters, completions and the man page. Checks that need
//! tshark (or cmark-gfm) run when it is installed (.ci/run installs both).

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tlsclose_testkit::capture::pcapng_blocks;
use tlsclose_testkit::cli::{flows, json_lines, output, stderr, stdout, summary};
use tlsclose_testkit::{case, require_tool, tlsclose};

fn bin() -> Command {
    tlsclose!()
}

fn sample() -> PathBuf {
    case("sample/capture.pcap")
}

fn run(args: &[&str], input: &Path) -> Output {
    output(bin().args(args).arg(input))
}

fn tmp(name: &str) -> PathBuf {
    tlsclose_testkit::tmp("reports", name)
}

/// tshark's frame numbers (and tcp.stream) for a display filter.
fn tshark_frames(capture: &Path, filter: &str) -> Vec<(u64, String)> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(capture)
        .args([
            "-Y",
            filter,
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "tcp.stream",
        ])
        .output()
        .expect("run tshark");
    assert!(out.status.success(), "tshark -Y {filter}: {}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| {
            let mut it = l.split('\t');
            let n = it.next().unwrap_or_default().parse().expect("frame number");
            (n, it.next().unwrap_or_default().to_string())
        })
        .collect()
}

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
    assert_eq!(rows[0][0], "file");
}

// ---- Markdown ----------------------------------------------------------

/// Cells of a GFM table line (an unescaped `|` separates cells; code spans
/// do not protect it on GitHub, so none may be left unescaped).
fn md_cells(line: &str) -> Vec<String> {
    let inner = line
        .trim()
        .strip_prefix('|')
        .and_then(|l| l.strip_suffix('|'))
        .unwrap_or_else(|| panic!("a table line starts and ends with |: {line}"));
    let mut cells = vec![String::new()];
    let mut escaped = false;
    for c in inner.chars() {
        if escaped {
            escaped = false;
            cells.last_mut().expect("cell").push(c);
        } else if c == '\\' {
            escaped = true;
            cells.last_mut().expect("cell").push(c);
        } else if c == '|' {
            cells.push(String::new());
        } else {
            cells.last_mut().expect("cell").push(c);
        }
    }
    cells
}

/// Checks every table of a Markdown text (outside code fences): a header
/// row, a delimiter row with as many cells, body rows with as many cells.
/// Returns the tables' column counts.
fn check_gfm_tables(md: &str) -> Vec<usize> {
    let mut tables = Vec::new();
    let mut in_fence = false;
    let lines: Vec<&str> = md.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.starts_with("```") {
            in_fence = !in_fence;
            i += 1;
            continue;
        }
        if in_fence || !line.starts_with('|') {
            i += 1;
            continue;
        }
        assert!(
            i == 0 || lines[i - 1].trim().is_empty(),
            "a table starts after a blank line: {line}"
        );
        let header = md_cells(line);
        let delim = md_cells(lines.get(i + 1).expect("a delimiter row"));
        assert_eq!(delim.len(), header.len(), "delimiter row of {line}");
        for d in &delim {
            let d = d.trim();
            assert!(
                d.len() >= 3
                    && d.trim_start_matches(':')
                        .trim_end_matches(':')
                        .chars()
                        .all(|c| c == '-'),
                "delimiter cell {d:?}"
            );
        }
        i += 2;
        while i < lines.len() && lines[i].starts_with('|') {
            assert_eq!(
                md_cells(lines[i]).len(),
                header.len(),
                "row {:?} has as many cells as the header {line:?}",
                lines[i]
            );
            i += 1;
        }
        tables.push(header.len());
    }
    assert!(!in_fence, "every code fence is closed");
    tables
}

/// Renders with cmark-gfm when it is installed: as many <table>s as found,
/// each row with its header's cell count.
fn check_rendered(md: &str, tables: &[usize]) {
    if !require_tool("cmark-gfm") {
        return; // Markdown checked by structure only
    }
    use std::io::Write;
    let mut child = Command::new("cmark-gfm")
        .args(["-e", "table"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("cmark-gfm");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(md.as_bytes())
        .expect("write");
    let html = String::from_utf8(child.wait_with_output().expect("html").stdout).expect("utf-8");
    let rendered: Vec<&str> = html.split("<table>").skip(1).collect();
    assert_eq!(
        rendered.len(),
        tables.len(),
        "every table renders as a table"
    );
    for (t, cols) in rendered.iter().zip(tables) {
        let t = t.split("</table>").next().unwrap_or_default();
        for row in t.split("<tr>").skip(1) {
            let cells = row.matches("<td").count() + row.matches("<th").count();
            assert_eq!(cells, *cols, "rendered row {row}");
        }
    }
    assert!(!html.contains("<script"), "no HTML passes through");
}

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
        md.contains("| 3 | 127.0.0.1:52198 | 127.0.0.1:20560 |"),
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

fn endings(f: &[Value]) -> Vec<&str> {
    f.iter().filter_map(|v| v["ending"].as_str()).collect()
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
    // the rows keep their numbers from the unfiltered table
    assert!(text.contains("│ 3 ┆ 127.0.0.1:52198"), "{text}");
    assert!(text.contains("│ 1 ┆ 127.0.0.1:47188"), "{text}");
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
    let out = run(&["--flow", "3"], &sample());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("Flow #3 of 6"), "{text}");
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
    let text = stdout(&run(&["--flow", "5"], &sample()));
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
        assert_eq!(f[0]["flow"], 3);
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
    let out = run(&["--flow", "3", "--ending", "rst", "-f", "json"], &sample());
    assert_eq!(flows(&out).len(), 1);
    // a markdown section
    let out = run(&["--flow", "6", "-f", "markdown"], &sample());
    let md = stdout(&out);
    assert!(
        md.starts_with("### #6 · fin-only · 127.0.0.1:49552 → 127.0.0.1:21900"),
        "{md}"
    );
    check_gfm_tables(&md);
}

#[test]
fn flow_not_found_is_status_1_with_a_message() {
    for args in [
        vec!["--flow", "7"],
        vec!["--flow", "10.0.0.1:1-10.0.0.2:2"],
        vec!["--flow", "3", "--ending", "open"],
    ] {
        let out = run(&args, &sample());
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains("no flow matched --flow"),
            "{}",
            stderr(&out)
        );
    }
}

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
    for (s, n) in sections.iter().zip(["#1 ", "#2 ", "#3 ", "#4 ", "#6 "]) {
        assert!(s.starts_with(&format!("### {n}")), "{s}");
    }
    assert!(!md.contains("### #5 "), "the clean flow is not listed");
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
    assert_eq!(md.lines().filter(|l| l.starts_with("### #3 ")).count(), 1);
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
