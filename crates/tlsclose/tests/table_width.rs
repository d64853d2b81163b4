//! The default table in a terminal of 80, 100 and 200 columns (COLUMNS
//! fixes the width as a terminal would): no line is wider than the
//! terminal, no cell is broken (every address, number and word of the full
//! table is whole in some row), the columns left out are named under the
//! table, `--wide` and a pipe give the full table, and the summary line
//! stays.

use tlsclose_testkit::cli::{output, stdout};
use tlsclose_testkit::{case, tlsclose};

fn table(columns: Option<&str>, extra: &[&str]) -> String {
    let mut cmd = tlsclose!();
    cmd.arg("-q").args(extra).arg(case("sample/capture.pcap"));
    if let Some(c) = columns {
        cmd.env("COLUMNS", c);
    }
    let out = output(&mut cmd);
    assert_eq!(out.status.code(), Some(0));
    stdout(&out)
}

/// The cells of the table's body rows, trimmed.
fn cells(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| l.starts_with('│'))
        .map(|l| {
            l.trim_matches('│')
                .split('┆')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

#[test]
fn the_table_fits_80_100_and_200_columns_without_breaking_cells() {
    let full = table(None, &[]);
    let full_cells: Vec<String> = cells(&full).into_iter().flatten().collect();
    let summary = full.lines().last().unwrap_or_default().to_string();
    assert!(summary.starts_with("6 TLS flows"), "{summary}");
    for width in [80usize, 100, 200] {
        let text = table(Some(&width.to_string()), &[]);
        for line in text.lines().filter(|l| l.starts_with(['┌', '│', '╞', '└'])) {
            assert!(line.chars().count() <= width, "{width}: {line}");
        }
        // every shown cell is a whole cell of the full table, or its
        // short form that the legend explains
        let legend = text.lines().find(|l| l.starts_with("Legend: "));
        for c in cells(&text).into_iter().flatten() {
            let long = c.replace("cn-", "close_notify-");
            let long = if long.contains("inferred") {
                long
            } else {
                long.replace("inf", "inferred")
            };
            assert!(
                full_cells.contains(&c) || full_cells.contains(&long),
                "{width}: `{c}` is not a whole cell"
            );
            if c != long {
                assert!(
                    legend.is_some_and(|l| l.contains("cn = close_notify")),
                    "{width}: `{c}` without a legend"
                );
            }
        }
        // the addresses and the ending are always there
        for want in ["127.0.0.1:53760", "127.0.0.1:21740", "-then-fin"] {
            assert!(text.contains(want), "{width}: {want}");
        }
        // the summary ends the output, wrapped at words to the width
        let flat = text.replace('\n', " ");
        assert!(
            flat.trim_end().ends_with(summary.as_str()),
            "{width}:\n{text}"
        );
        for line in text.lines() {
            assert!(line.chars().count() <= width, "{width}: {line}");
        }
        // the SNI and the (absent) race are the same on every row: said
        // once above the table
        assert_eq!(
            text.lines().next(),
            Some("All flows: SNI server.test, no keep-alive race"),
            "{width}"
        );
        let hidden = text.lines().find(|l| l.starts_with("Columns not shown"));
        if width >= 200 {
            assert_eq!(hidden, None, "{text}");
            assert!(text.contains("close_notify-then-fin") && text.contains("teardown"));
        } else {
            assert!(
                hidden.is_some(),
                "{width}: no line names the hidden columns"
            );
            // (wrapped at words: the names may go on over the next lines)
            let named = flat.split("Columns not shown").nth(1).unwrap_or_default();
            assert!(named.contains("teardown frame"), "{text}");
        }
    }
    // 100 columns show more than 80
    assert!(cells(&table(Some("100"), &[]))[0].len() > cells(&table(Some("80"), &[]))[0].len());
}

#[test]
fn wide_and_pipes_show_every_column() {
    let full = table(None, &[]);
    assert_eq!(table(Some("80"), &["--wide"]), full);
    assert!(full.contains("teardown") && !full.contains("Columns not shown"));
}

#[test]
fn group_tables_fit_too() {
    let text = table(Some("80"), &["--group-by", "server"]);
    for line in text.lines().filter(|l| l.starts_with(['┌', '│', '╞', '└'])) {
        assert!(line.chars().count() <= 80, "{line}");
    }
    assert!(text.contains("127.0.0.1:21740"));
    assert!(text.contains("Columns not shown"));
}
