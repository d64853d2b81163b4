//! What the report tests share (reports.rs, reports_export.rs): running
//! the binary on the sample, temporary files, tshark's frames for a
//! display filter, and the GitHub-Markdown table checks.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tlsclose_testkit::cli::{output, stderr, stdout};
use tlsclose_testkit::{case, require_tool, tlsclose};

pub fn bin() -> Command {
    tlsclose!()
}

pub fn sample() -> PathBuf {
    case("sample/capture.pcap")
}

pub fn run(args: &[&str], input: &Path) -> Output {
    output(bin().args(args).arg(input))
}

pub fn tmp(name: &str) -> PathBuf {
    tlsclose_testkit::tmp("reports", name)
}

/// tshark's frame numbers (and tcp.stream) for a display filter.
pub fn tshark_frames(capture: &Path, filter: &str) -> Vec<(u64, String)> {
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

/// Cells of a GFM table line (an unescaped `|` separates cells; code spans
/// do not protect it on GitHub, so none may be left unescaped).
pub fn md_cells(line: &str) -> Vec<String> {
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
pub fn check_gfm_tables(md: &str) -> Vec<usize> {
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
pub fn check_rendered(md: &str, tables: &[usize]) {
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

/// The endings of flows, in order.
pub fn endings(f: &[Value]) -> Vec<&str> {
    f.iter().filter_map(|v| v["ending"].as_str()).collect()
}
