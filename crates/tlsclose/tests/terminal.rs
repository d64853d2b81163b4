//! The table as a real terminal shows it: tlsclose runs in a tmux pane of
//! 80, 100 and 120 columns (its width from the terminal, no COLUMNS), and
//! the pane's screen is read back. Ending, closer, race and idle time show
//! at 80; columns with one value on every row are said above the table;
//! nothing is wider than the pane and no word is broken.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use tlsclose_testkit::case;

/// The screen of a `width`-column tmux pane after `tlsclose -q CAPTURE`.
fn screen(width: usize, capture: &Path) -> String {
    // a server per test and width (the tests run in parallel)
    let tag = capture
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let socket = format!("tlsclose-test-{}-{tag}-{width}", std::process::id());
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux runs")
    };
    let done = "--tlsclose-done--";
    let cmd = format!(
        "env -u COLUMNS -u LINES -u SSLKEYLOGFILE -u NO_COLOR {} -q {}; echo {done}; sleep 60",
        env!("CARGO_BIN_EXE_tlsclose"),
        capture.display()
    );
    let w = width.to_string();
    let started = tmux(&["new-session", "-d", "-x", &w, "-y", "200", "sh", "-c", &cmd]);
    assert!(
        started.status.success(),
        "tmux: {}",
        String::from_utf8_lossy(&started.stderr)
    );
    let start = Instant::now();
    let text = loop {
        let out = tmux(&["capture-pane", "-p", "-J", "-S", "0", "-E", "199"]);
        let _ = out.status;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if text.contains(done) || start.elapsed() > Duration::from_secs(20) {
            break text;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    tmux(&["kill-server"]);
    assert!(
        text.contains(done),
        "tlsclose did not finish in tmux:\n{text}"
    );
    let text = text.split(done).next().unwrap_or_default().to_string();
    text.trim_end().to_string()
}

/// The pane's lines as written: `capture-pane -J` joins the lines the
/// terminal wrapped, so a line wider than the pane shows as one.
fn widest(text: &str) -> usize {
    text.lines()
        .map(|l| l.trim_end().chars().count())
        .max()
        .unwrap_or(0)
}

/// The titles of the table's columns (the header's first line).
fn titles(text: &str) -> Vec<String> {
    text.lines()
        .find(|l| l.starts_with('│'))
        .unwrap_or_default()
        .trim_matches('│')
        .split('┆')
        .map(|c| c.trim().to_string())
        .collect()
}

fn words_whole(text: &str, width: usize) {
    // no line is wider than the pane, so nothing was wrapped by the
    // terminal, inside a word or not
    assert!(
        widest(text) <= width,
        "{width}: a line is {} wide:\n{text}",
        widest(text)
    );
}

#[test]
fn the_race_capture_in_80_100_and_120_column_terminals() {
    if !tlsclose_testkit::require_tool_with("tmux", "-V") {
        return;
    }
    let capture = case("audit-keepalive-race/capture.pcap");
    for width in [80, 100, 120] {
        let text = screen(width, &capture);
        words_whole(&text, width);
        let t = titles(&text);
        for want in ["#", "client", "server", "ending", "closer", "idle", "race"] {
            assert!(
                t.iter().any(|c| c == want),
                "{width}: no {want} column in {t:?}\n{text}"
            );
        }
        // the SNI is the same on every row: said once, above the table
        assert!(!t.iter().any(|c| c == "SNI"), "{width}: {t:?}");
        assert!(
            text.lines()
                .next()
                .is_some_and(|l| l.starts_with("All flows: ") && l.contains("SNI server.test")),
            "{width}:\n{text}"
        );
        // the races are on screen: 12 rows say yes, and the summary counts them
        let races = text
            .lines()
            .filter(|l| {
                l.starts_with('│')
                    && l.split('┆')
                        .any(|c| c.trim_matches(|c: char| c == '│' || c.is_whitespace()) == "yes")
            })
            .count();
        assert_eq!(races, 12, "{width}:\n{text}");
        assert!(
            text.replace('\n', " ").contains("(12 keep-alive races)"),
            "{width}:\n{text}"
        );
        // the legend says what closer means; addresses are whole
        assert!(
            text.replace('\n', " ")
                .contains("closer = whose FIN or RST came first"),
            "{width}:\n{text}"
        );
        assert!(text.contains("127.0.0.1:8443"), "{width}");
        if width >= 120 {
            assert!(
                text.replace('\n', " ")
                    .contains("started by = who sent the first close signal"),
                "{width}:\n{text}"
            );
        }
    }
}

#[test]
fn the_sample_in_80_100_and_120_column_terminals() {
    if !tlsclose_testkit::require_tool_with("tmux", "-V") {
        return;
    }
    let capture = case("sample/capture.pcap");
    let mut shown = Vec::new();
    for width in [80, 100, 120] {
        let text = screen(width, &capture);
        words_whole(&text, width);
        let t = titles(&text);
        for want in ["client", "server", "ending", "closer", "idle"] {
            assert!(
                t.iter().any(|c| c == want),
                "{width}: no {want} in {t:?}\n{text}"
            );
        }
        // no flow raced: no race column, and the line above says so
        assert!(!t.iter().any(|c| c == "race"), "{width}: {t:?}");
        let above = text.lines().next().unwrap_or_default();
        assert_eq!(
            above, "All flows: SNI server.test, no keep-alive race",
            "{width}"
        );
        for addr in ["127.0.0.1:53760", "127.0.0.1:21740", "127.0.0.1:36012"] {
            assert!(text.contains(addr), "{width}: {addr}");
        }
        let flat = text.replace('\n', " ");
        assert!(
            flat.contains("6 TLS flows: 1 close_notify-then-fin, 2 fin-only, 1 rst, 1 data-after-alert, 1 open;"),
            "{width}:\n{text}"
        );
        // what is not shown is named (wrapped at words, not inside them)
        assert!(flat.contains("--wide shows all): "), "{width}");
        shown.push(t.len());
    }
    assert!(
        shown[0] < shown[1] || shown[1] < shown[2],
        "wider shows more: {shown:?}"
    );
}
