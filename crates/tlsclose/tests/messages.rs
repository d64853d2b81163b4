//! What the command line says: every non-zero exit says why on standard
//! error, impossible flags are refused with a message, and the help fits.

use std::process::{Command, Output};
use tlsclose_testkit::cli::{output, stderr, stdout};
use tlsclose_testkit::{case, tlsclose};

fn run(args: &[&str]) -> Output {
    output(tlsclose!().args(args))
}

fn sample() -> String {
    case("sample/capture.pcap").display().to_string()
}

fn race() -> String {
    case("audit-keepalive-race/capture.pcap")
        .display()
        .to_string()
}

fn help(flag: &str) -> String {
    let out = run(&[flag]);
    assert_eq!(out.status.code(), Some(0), "{flag}");
    stdout(&out)
}

// ---- exit status 1 says why --------------------------------------------

#[test]
fn fail_on_says_which_endings_matched_and_how_many_flows() {
    let out = run(&["--fail-on", "fin-only,rst", "-q", &sample()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "tlsclose: exit status 1: --fail-on fin-only,rst matched 3 of 6 selected flows: \
         2 fin-only, 1 rst\n"
    );
    // nothing matched: status 0, nothing said
    let out = run(&["--fail-on", "open", "--ending", "rst", "-q", &sample()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "");
}

#[test]
fn fail_on_finding_says_which_findings_and_how_many_flows() {
    let out = run(&[
        "--audit",
        "--fail-on-finding",
        "keepalive-race",
        "-q",
        &race(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("tlsclose: exit status 1: --fail-on-finding keepalive-race matched: ")
            && err.contains("keepalive-race (12 flows of 3 servers)"),
        "{err}"
    );
}

#[test]
fn a_flow_that_is_not_there_is_said_even_with_quiet() {
    // the sample's flows start at frames 1, 13, 30, 43, 58 and 77
    let out = run(&["--flow", "60", "-q", &sample()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no TLS flow starts at frame 60")
            && stderr(&out).contains("the nearest are #58 and #77"),
        "{}",
        stderr(&out)
    );
    let out = run(&["--flow", "99", "-q", &sample()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the nearest are #77)"),
        "{}",
        stderr(&out)
    );
    // there, but filtered out
    let out = run(&["--flow", "58", "--ending", "rst", "-q", &sample()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("flow #58 did not pass the filters --ending rst"),
        "{}",
        stderr(&out)
    );
}

// ---- flags checked ------------------------------------------------------

fn refused(args: &[&str], says: &str) {
    let mut all = args.to_vec();
    let s = sample();
    all.push(&s);
    let out = run(&all);
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    assert!(out.stdout.is_empty(), "{args:?} printed {}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: ") && err.contains(says),
        "{args:?}: {err}"
    );
}

#[test]
fn impossible_flags_are_refused_with_a_message() {
    refused(
        &["--audit", "-f", "csv"],
        "--audit writes a table, JSON or Markdown",
    );
    refused(&["--threads", "0"], "'--threads <N>'");
    refused(&["-j", "0"], "0 is not in 1..");
    refused(
        &["--flow-timeout", "0"],
        "out of range: 1 to 604800 seconds",
    );
    refused(&["--flow-timeout=-5"], "out of range");
    refused(&["--flow-timeout", "1e9"], "out of range");
    refused(&["--flow-timeout", "NaN"], "out of range");
    refused(&["--idle-timeout", "0.5"], "out of range");
    refused(&["--flow-timeout", "soon"], "not a number of seconds");
    refused(
        &["--time-format", "iso"],
        "--time-format iso is for --format json",
    );
}

#[test]
fn a_flow_timeout_shorter_than_servers_idle_timeouts_gets_a_note() {
    let out = run(&["--flow-timeout", "30", "-f", "json", &sample()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains(
            "tlsclose: note: --flow-timeout 30 s is shorter than the idle timeouts servers \
             commonly use"
        ),
        "{}",
        stderr(&out)
    );
    let out = run(&["--flow-timeout", "90", "-f", "json", &sample()]);
    assert!(!stderr(&out).contains("note:"), "{}", stderr(&out));
}

#[test]
fn the_old_idle_timeout_name_still_works_and_is_hidden() {
    let old = run(&["--idle-timeout", "400", "-f", "json", &sample()]);
    let new = run(&["--flow-timeout", "400", "-f", "json", &sample()]);
    assert_eq!(old.status.code(), Some(0));
    assert_eq!(old.stdout, new.stdout);
    let long = help("--help");
    assert!(long.contains("--flow-timeout <SECONDS>"));
    assert!(!long.contains("--idle-timeout <"), "the alias is hidden");
    // and the help says how it differs from the idle timeouts reported
    assert!(long.contains("not a server's idle timeout"), "{long}");
}

// ---- help ---------------------------------------------------------------

fn widest(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

#[test]
fn short_help_is_a_summary_that_fits_100_columns() {
    let short = help("-h");
    assert!(
        widest(&short) <= 100,
        "-h is {} wide:\n{short}",
        widest(&short)
    );
    assert!(
        short.lines().count() <= 60,
        "-h has {} lines",
        short.lines().count()
    );
    // the limits are in --help only
    assert!(!short.contains("--max-flows"));
    assert!(short.contains("--help"), "-h points at --help");
    assert!(short.contains("Exit status: 0"));
}

#[test]
fn long_help_has_the_exit_status_and_examples_and_fits_100_columns() {
    let long = help("--help");
    assert!(widest(&long) <= 100, "--help is {} wide", widest(&long));
    for s in [
        "Exit status:",
        "  0 ",
        "  1 ",
        "  2 ",
        "  130 ",
        "--fail-on-finding",
        "Examples:",
        "tlsclose capture.pcap",
        "tlsclose --audit",
        "tlsclose --report ticket.md",
        "| tlsclose -f json -",
        "duckdb",
        "--max-flows",
    ] {
        assert!(long.contains(s), "--help has {s:?}");
    }
    // each example command line stays whole (not wrapped inside)
    let ticket = long
        .lines()
        .find(|l| l.contains("tlsclose --report ticket.md"))
        .unwrap_or_default();
    assert!(ticket.trim_end().ends_with("capture.pcap"), "{ticket}");
}

#[test]
fn the_man_page_has_exit_status_examples_and_see_also_sections() {
    let out = run(&["--generate", "man"]);
    assert_eq!(out.status.code(), Some(0));
    let man = stdout(&out);
    for s in [".SH \"EXIT STATUS\"", ".SH EXAMPLES", ".SH \"SEE ALSO\""] {
        assert!(man.contains(s), "man page has {s}");
    }
    assert!(!man.contains(".SH EXTRA"), "no garbled EXTRA section");
    // rendered, the exit status is a list of codes
    if !tlsclose_testkit::require_tool("man") {
        return;
    }
    let page = tlsclose_testkit::tmp("messages", "tlsclose.1");
    std::fs::write(&page, &man).expect("write the page");
    let text = Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("MANWIDTH", "80")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .expect("man");
    let text = String::from_utf8_lossy(&text.stdout).replace(['\u{2010}'], "-");
    let status = text
        .split("EXIT STATUS")
        .nth(1)
        .and_then(|t| t.split("EXAMPLES").next())
        .unwrap_or_default();
    for code in ["0", "1", "2", "130"] {
        assert!(
            status
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{code} ")) || l.trim() == code),
            "EXIT STATUS lists {code}:\n{status}"
        );
    }
    assert!(status.contains("fail-on-finding"), "{status}");
}

// ---- key logs -----------------------------------------------------------

#[test]
fn a_key_log_for_another_capture_says_it_matched_nothing() {
    let keys = case("audit-keepalive-race/sslkeys.log")
        .display()
        .to_string();
    let out = run(&["--keylog", &keys, &sample()]);
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "tlsclose: key log {keys}: matched 0 of 6 TLS flows (6 with no CLIENT_RANDOM or \
             secret for their client random)\n"
        )),
        "{err}"
    );
    // the right one matches every flow
    let out = run(&["--keylog", &keys, &race()]);
    assert!(
        stderr(&out).contains(&format!("key log {keys}: matched 42 of 42 TLS flows\n")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_capture_given_as_key_log_is_an_error_naming_it() {
    let out = run(&["--keylog", &sample(), &sample()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "one line, no garbage: {err}");
    assert!(
        err.starts_with(&format!(
            "tlsclose: error: {} is not a key log (a pcap capture)",
            sample()
        )),
        "{err}"
    );
    // binary content that is no capture
    let junk = tlsclose_testkit::tmp("messages", "junk.bin");
    let bytes: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&junk, bytes).expect("write");
    let out = run(&["--keylog", &junk.display().to_string(), &sample()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is not a key log (binary, not text)"));
}

#[test]
fn skipped_key_log_lines_are_counted_naming_only_the_first_few() {
    let log = tlsclose_testkit::tmp("messages", "many-bad-lines.log");
    let text: String = (0..150).map(|i| format!("NOT_A_LABEL {i}\n")).collect();
    std::fs::write(&log, text).expect("write");
    let log = log.display().to_string();
    let out = run(&["--keylog", &log, &sample()]);
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    let named = err
        .lines()
        .filter(|l| l.starts_with(&format!("tlsclose: warning: {log}:")))
        .count();
    assert_eq!(named, 4, "three lines named, one count:\n{err}");
    assert!(
        err.contains(&format!(
            "{log}: 150 lines skipped in all (the first 3 named above)"
        )),
        "{err}"
    );
}

// ---- wrapping -----------------------------------------------------------

#[test]
fn the_audit_text_wraps_at_words_to_the_terminal() {
    // the capture under a folder name long enough that its path is wider
    // than the terminal, as in a deep checkout
    let long = tlsclose_testkit::tmp(
        "messages",
        &format!("{}/capture.pcap", "a-folder-with-a-long-name-".repeat(3)),
    );
    std::fs::create_dir_all(long.parent().expect("a folder")).expect("mkdir");
    std::fs::copy(race(), &long).expect("copy");
    let long = long.display().to_string();
    assert!(long.len() > 80);
    let full = stdout(&run(&["--audit", "-q", &long]));
    assert!(
        full.lines()
            .any(|l| l.chars().count() > 80 && l.contains(' ')),
        "the unwrapped audit has long lines of words"
    );
    let out = output(
        tlsclose!()
            .env("COLUMNS", "80")
            .args(["--audit", "-q", &long]),
    );
    let text = stdout(&out);
    // a line may pass 80 columns only when it is one word that cannot be
    // broken (the capture's path, as long as the checkout's folder makes it)
    for line in text.lines() {
        assert!(
            line.chars().count() <= 80 || line.split_whitespace().count() == 1,
            "a line of several words wider than 80 columns: {line:?}\n{text}"
        );
    }
    assert!(
        text.lines().filter(|l| l.chars().count() <= 80).count() > 10,
        "{text}"
    );
    // the same words in the same order: nothing cut inside a word
    let words = |t: &str| -> Vec<String> { t.split_whitespace().map(str::to_owned).collect() };
    assert_eq!(words(&text), words(&full));
}

// ---- JSON ---------------------------------------------------------------

fn keys_of(line: &str) -> Vec<String> {
    // the top-level keys in the order written (serde_json's Map sorts)
    let v: serde_json::Value = serde_json::from_str(line).expect("JSON");
    let mut keys: Vec<(usize, String)> = v
        .as_object()
        .expect("an object")
        .keys()
        .map(|k| {
            (
                line.find(&format!("\"{k}\":")).unwrap_or(usize::MAX),
                k.clone(),
            )
        })
        .collect();
    keys.sort();
    keys.into_iter().map(|(_, k)| k).collect()
}

#[test]
fn flow_n_in_json_keeps_the_streams_key_order() {
    let stream = stdout(&run(&["-f", "json", "-q", &sample()]));
    let rst = stream
        .lines()
        .find(|l| l.contains("\"ending\":\"rst\""))
        .expect("the sample's rst flow");
    let line: serde_json::Value = serde_json::from_str(rst).expect("JSON");
    let id = line["flow"]
        .as_u64()
        .expect("every line has its flow number");
    let detail = stdout(&run(&[
        "--flow",
        &id.to_string(),
        "-f",
        "json",
        "-q",
        &sample(),
    ]));
    let mut want = keys_of(rst);
    assert_eq!(want.first().map(String::as_str), Some("flow"));
    want.push("ladder".to_string());
    assert_eq!(keys_of(detail.lines().next().unwrap_or_default()), want);
    // and the same values as the stream's line for that flow
    let mut v: serde_json::Value =
        serde_json::from_str(detail.lines().next().unwrap_or_default()).expect("JSON");
    assert!(v["ladder"].as_array().is_some_and(|l| !l.is_empty()));
    if let Some(o) = v.as_object_mut() {
        o.remove("ladder");
    }
    assert_eq!(v, line);
}

/// Every streamed JSON line carries `flow`, the number the table prints in
/// `#` for the same connection, and `--flow` takes it.
#[test]
fn every_json_line_has_the_tables_number() {
    let stream = stdout(&run(&["-f", "json", "-q", &sample()]));
    let table = stdout(&run(&["--wide", "-q", &sample()]));
    let mut checked = 0;
    for l in stream.lines().filter(|l| !l.contains("\"summary\":true")) {
        let v: serde_json::Value = serde_json::from_str(l).expect("JSON");
        let id = v["flow"].as_u64().expect("flow");
        let client = v["client"].as_str().expect("client");
        // the table's row of that client starts with the same number
        let row = table
            .lines()
            .find(|r| r.contains(&format!(" {client} ")))
            .unwrap_or_else(|| panic!("no row for {client}:\n{table}"));
        let first_cell: String = row
            .trim_start_matches('│')
            .split('┆')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        assert_eq!(first_cell, id.to_string(), "{row}");
        assert_eq!(
            v["first_frame"].as_u64(),
            Some(id),
            "one capture: its first frame"
        );
        let detail = stdout(&run(&["--flow", &id.to_string(), "-q", &sample()]));
        assert!(
            detail.starts_with(&format!("Flow #{id} in ")) && detail.contains(client),
            "{detail}"
        );
        checked += 1;
    }
    assert_eq!(checked, 6);
}

#[test]
fn iso_times_are_the_captures_own_in_utc() {
    let epoch = stdout(&run(&["-f", "json", "-q", &sample()]));
    let iso = stdout(&run(&[
        "-f",
        "json",
        "-q",
        "--time-format",
        "iso",
        &sample(),
    ]));
    let e: serde_json::Value =
        serde_json::from_str(epoch.lines().next().unwrap_or_default()).expect("JSON");
    let i: serde_json::Value =
        serde_json::from_str(iso.lines().next().unwrap_or_default()).expect("JSON");
    // the first flow to end (frames 13 to 29): frame 13 at
    // 1795505787.978469 s after the epoch, its teardown frame 27 at
    // 1795505788.180879 (tshark's frame.time_epoch)
    let near = |v: &serde_json::Value, t: f64| v.as_f64().is_some_and(|x| (x - t).abs() < 1e-6);
    assert_eq!(e["first_frame"], 13, "{e}");
    assert!(near(&e["first_time"], 1_795_505_787.978_469), "{e}");
    assert_eq!(i["first_time"], "2026-11-24T07:36:27.978469Z");
    assert_eq!(i["teardown"]["time"], "2026-11-24T07:36:28.180879Z");
    assert!(near(&e["teardown"]["time"], 1_795_505_788.180_879), "{e}");
    // everything else is the same
    for k in [
        "client",
        "server",
        "ending",
        "first_frame",
        "teardown_frame",
    ] {
        assert_eq!(e[k], i[k], "{k}");
    }
}

// ---- README -------------------------------------------------------------

#[test]
fn the_readme_has_install_msrv_and_the_exit_status_of_help() {
    let root = tlsclose_testkit::paths::workspace();
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    let cargo = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    assert!(readme.contains("cargo install --path crates/tlsclose"));
    assert!(root.join("crates/tlsclose/Cargo.toml").is_file());
    let msrv = cargo
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("the workspace's rust-version");
    assert!(readme.contains(&format!("Rust {msrv} or newer")), "{msrv}");
    // each status of --help is a row of the README's table
    let long = help("--help");
    let status = long
        .split("Exit status:")
        .nth(1)
        .and_then(|t| t.split("Examples:").next())
        .unwrap_or_default();
    let codes: Vec<&str> = status
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| c.chars().all(|ch| ch.is_ascii_digit()))
        .collect();
    assert_eq!(codes, ["0", "1", "2", "130"]);
    let table = readme
        .split("## Exit status")
        .nth(1)
        .expect("an Exit status section");
    for c in codes {
        assert!(
            table.contains(&format!("\n| {c} | ")),
            "README's table has {c}"
        );
    }
    // the one-run example extracts a selection, not the whole capture
    assert!(readme.contains("--ending fin-only,rst --extract"));
}
