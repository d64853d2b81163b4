//! docs/SCALE.md's DuckDB session reproduces `--group-by server` and the
//! keep-alive race counts from several captures' JSON Lines: this runs its
//! SQL (docs/scale-group-by-server.sql, which SCALE.md quotes) with the
//! Python duckdb package over per-capture outputs and compares with
//! tlsclose's own numbers. Skips visibly without duckdb (fails under CI).

use serde_json::Value;
use std::collections::HashMap;
use std::process::Command;
use tlsclose_testkit::cli::{json_lines, output, stderr, stdout};
use tlsclose_testkit::paths::{case, tmp, workspace};
use tlsclose_testkit::tlsclose;
use tlsclose_testkit::tools::{python, require_python_module};

const CAPTURES: &[&str] = &[
    "audit-keepalive-race",
    "sample",
    "nginx-tls13-keepalive-timeout",
    "nginx-tls12-keepalive-timeout",
    "haproxy-keepalive-timeout",
    "py-tls12-linger0",
    "curl-h1-two-requests-keepalive",
];

/// Runs every statement of the SQL file in `dir` and prints the last
/// result as JSON rows.
const RUN_SQL: &str = r#"
import duckdb, json, sys
sql = open(sys.argv[1]).read()
con = duckdb.connect()
res = None
for stmt in sql.split(';'):
    if stmt.strip() and not all(l.strip().startswith('--') or not l.strip() for l in stmt.splitlines()):
        res = con.sql(stmt)
cols = res.columns
print(json.dumps([dict(zip(cols, r)) for r in res.fetchall()]))
"#;

#[test]
fn the_duckdb_session_reproduces_group_by_server_and_the_races() {
    if !require_python_module("duckdb") {
        return;
    }
    let dir = tmp("scale-duckdb", "fleet");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("out")).expect("out dir");
    let caps: Vec<String> = CAPTURES
        .iter()
        .map(|c| {
            case(&format!("{c}/capture.pcap"))
                .to_str()
                .expect("path")
                .to_owned()
        })
        .collect();
    // one JSON Lines file per capture, as a fleet writes them
    for (name, cap) in CAPTURES.iter().zip(&caps) {
        let out = output(tlsclose!().args(["--format", "json", "-q", cap]));
        assert!(out.status.success(), "{}", stderr(&out));
        std::fs::write(dir.join(format!("out/{name}.jsonl")), &out.stdout).expect("write");
    }
    let sql = workspace().join("docs/scale-group-by-server.sql");
    let out = Command::new(python())
        .args(["-c", RUN_SQL])
        .arg(&sql)
        .current_dir(&dir)
        .output()
        .expect("run python");
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: Vec<Value> = serde_json::from_str(stdout(&out).trim()).expect("rows");
    let by_sql: HashMap<String, Value> = rows
        .into_iter()
        .map(|r| (r["server"].as_str().expect("server").to_owned(), r))
        .collect();

    // tlsclose over the same captures in one run
    let out = output(
        tlsclose!()
            .args(["--format", "json", "-q", "--group-by", "server"])
            .args(&caps),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let groups: Vec<Value> = json_lines(&stdout(&out))
        .into_iter()
        .filter(|v| v.get("group").is_some())
        .collect();
    assert_eq!(groups.len(), by_sql.len());
    let close = |a: &Value, b: &Value| match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-6,
        _ => a.is_null() && b.is_null(),
    };
    let mut races = 0;
    let mut timeouts = 0;
    for g in &groups {
        let server = g["group"].as_str().expect("group");
        let s = &by_sql[server];
        assert_eq!(g["flows"], s["flows"], "{server}");
        for (e, col) in [
            ("close_notify-then-fin", "close_notify_then_fin"),
            ("fin-only", "fin_only"),
            ("rst", "rst"),
            ("data-after-alert", "data_after_alert"),
            ("open", "open"),
        ] {
            assert_eq!(g["endings"][e]["count"], s[col], "{server} {e}");
        }
        assert_eq!(g["closer"]["server"], s["closed_by_server"], "{server}");
        assert_eq!(g["keepalive_races"], s["keepalive_races"], "{server}");
        assert!(
            close(&g["idle_before_close"]["median"], &s["idle_median"]),
            "{server}"
        );
        assert!(
            close(&g["idle_before_close"]["max"], &s["idle_max"]),
            "{server}"
        );
        assert!(
            close(&g["server_idle_timeout_s"], &s["server_idle_timeout_s"]),
            "{server}: {} vs {}",
            g["server_idle_timeout_s"],
            s["server_idle_timeout_s"]
        );
        let closes = g["server_idle_timeout_closes"].as_u64().expect("closes");
        assert_eq!(
            s["server_idle_timeout_closes"].as_u64().unwrap_or(0),
            closes
        );
        races += g["keepalive_races"].as_u64().expect("races");
        timeouts += u64::from(!g["server_idle_timeout_s"].is_null());
    }
    // the comparison covered races and timeouts, not only empty columns
    assert_eq!(races, 12);
    assert!(timeouts >= 4, "{timeouts}");

    // SCALE.md quotes the SQL it runs
    let doc = std::fs::read_to_string(workspace().join("docs/SCALE.md")).expect("SCALE.md");
    let sql_text = std::fs::read_to_string(&sql).expect("sql");
    assert!(
        doc.contains(sql_text.trim()),
        "docs/SCALE.md quotes the SQL file"
    );
}
