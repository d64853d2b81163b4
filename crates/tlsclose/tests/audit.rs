//! The proxy-shutdown audit (issue 12) on captures of real servers whose
//! idle timeouts were set: the races are flagged on exactly the racing
//! flows, with and without keys. The truth is `truth.json`, written by the
//! script that made the capture (what each client did), not by tlsclose.

use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::process::Output;
use tlsclose_testkit::cli::{output, stderr};
use tlsclose_testkit::{case, tlsclose};

fn run(args: &[&str]) -> Output {
    let out = output(tlsclose!().args(args));
    assert!(out.status.success(), "tlsclose {args:?}: {}", stderr(&out));
    out
}

fn json_lines(out: &Output) -> Vec<Value> {
    tlsclose_testkit::cli::json_lines(&tlsclose_testkit::cli::stdout(out))
}

/// truth.json: (client, server) -> kind, and server -> configured timeout.
struct Truth {
    kinds: HashMap<(String, String), String>,
    timeouts: HashMap<String, f64>,
}

fn truth(dir: &Path) -> Truth {
    let text = std::fs::read_to_string(dir.join("truth.json")).expect("truth.json");
    let v: Value = serde_json::from_str(&text).expect("truth.json is JSON");
    let mut kinds = HashMap::new();
    for f in v["flows"].as_array().expect("flows") {
        let s = |k: &str| f[k].as_str().expect(k).to_owned();
        kinds.insert((s("client"), s("server")), s("kind"));
    }
    let timeouts = v["servers"]
        .as_object()
        .expect("servers")
        .iter()
        .map(|(k, s)| (k.clone(), s["idle_timeout_s"].as_f64().expect("timeout")))
        .collect();
    Truth { kinds, timeouts }
}

#[test]
fn races_are_flagged_on_exactly_the_racing_flows_with_and_without_keys() {
    let dir = case("audit-keepalive-race");
    let t = truth(&dir);
    let cap = dir.join("capture.pcap");
    let keys = dir.join("sslkeys.log");
    let cap = cap.to_str().expect("path");
    let keys = keys.to_str().expect("path");
    for args in [
        vec![cap, "--format", "json"],
        vec![cap, "--format", "json", "--keylog", keys],
    ] {
        let flows: Vec<Value> = json_lines(&run(&args))
            .into_iter()
            .filter(|v| v.get("summary").is_none())
            .collect();
        assert_eq!(flows.len(), t.kinds.len(), "{args:?}");
        let mut races = 0;
        for f in &flows {
            let key = (
                f["client"].as_str().expect("client").to_owned(),
                f["server"].as_str().expect("server").to_owned(),
            );
            let kind = t.kinds.get(&key).expect("flow in truth.json");
            let racing = kind == "racing";
            assert_eq!(f["keepalive_race"], Value::Bool(racing), "{args:?} {f}");
            match kind.as_str() {
                "racing" => {
                    races += 1;
                    // sent 30..300 ms after the timeout (the window is from
                    // the server's close_notify)
                    let w = f["race_window_s"].as_f64().expect("race_window_s");
                    assert!((0.0..0.4).contains(&w), "{f}");
                    assert_eq!(f["initiator"], "server", "{f}");
                }
                "patient" => {
                    assert_eq!(f["race_window_s"], Value::Null);
                    assert_eq!(f["initiator"], "server", "{f}");
                    let idle = f["idle_before_first_signal"].as_f64().expect("idle");
                    let to = t.timeouts[&key.1];
                    assert!((idle - to).abs() < 0.1, "{f}");
                }
                _ => {
                    assert_eq!(f["initiator"], "client", "{f}");
                    // nginx answers a client's close_notify with a bare FIN
                    if f["closer"] == "server" && f["server_close_notify"] == "none" {
                        assert_eq!(f["close_notify_answered"], false, "{f}");
                    }
                }
            }
        }
        assert_eq!(races, 12, "{args:?}");
    }
}

/// `tlsclose --audit` in JSON: the finding lines (not the summary).
fn findings(args: &[&str]) -> Vec<Value> {
    let mut all = vec!["--audit", "--format", "json"];
    all.extend_from_slice(args);
    json_lines(&run(&all))
        .into_iter()
        .filter(|v| v.get("summary").is_none())
        .collect()
}

fn of_kind<'a>(f: &'a [Value], kind: &str) -> Vec<&'a Value> {
    f.iter().filter(|v| v["finding"] == kind).collect()
}

#[test]
fn audit_finds_each_servers_idle_timeout_and_the_races_on_it() {
    let dir = case("audit-keepalive-race");
    let t = truth(&dir);
    let cap = dir.join("capture.pcap");
    let f = findings(&[cap.to_str().expect("path")]);
    // one finding for the kind, over the three servers
    let races = of_kind(&f, "keepalive-race");
    assert_eq!(races.len(), 1, "{f:?}");
    let r = races[0];
    assert_eq!(r["severity"], "warning");
    assert_eq!(r["subject"], "server");
    assert_eq!(r["count"], 12, "{r}");
    assert_eq!(r["subjects"], 3, "{r}");
    assert!(r["fix"]
        .as_str()
        .is_some_and(|s| s.contains("idle timeout")));
    // the shortest timeout is named in the fix, with a value below it
    assert!(
        r["fix"]
            .as_str()
            .is_some_and(|s| s.contains("1.00s for the shortest; e.g. 700ms")),
        "{r}"
    );
    let subjects = r["by_subject"].as_array().expect("by_subject");
    assert_eq!(subjects.len(), t.timeouts.len());
    for x in subjects {
        let server = x["subject"].as_str().expect("server");
        let want = t.timeouts[server];
        let got = x["server_idle_timeout_s"].as_f64().expect("a timeout");
        assert!((got - want).abs() < 0.1, "{server}: {got} vs {want}");
        assert_eq!(x["count"], 4, "{x}");
        assert_eq!(x["races_after_close"], 4, "{x}");
        assert_eq!(x["unanswered_before_close"], 0, "{x}");
        assert_eq!(x["server_idle_timeout_sweep_s"], Value::Null, "{x}");
    }
    // examples: racing flows by number, with a filter, one per server
    let examples = r["examples"].as_array().expect("examples");
    assert_eq!(examples.len(), 3);
    let mut servers = std::collections::BTreeSet::new();
    for e in examples {
        assert!(e["flow"].as_u64().is_some(), "{e}");
        assert!(e["wireshark_filter"]
            .as_str()
            .is_some_and(|w| w.contains("frame.number")));
        let key = (
            e["client"].as_str().expect("client").to_owned(),
            e["server"].as_str().expect("server").to_owned(),
        );
        assert_eq!(t.kinds[&key], "racing", "{e}");
        servers.insert(key.1);
    }
    assert_eq!(servers.len(), 3, "{examples:?}");
    // the closing-first clients' bare FINs come after the server answered
    // their requests: nothing could be cut, no truncation risk
    assert!(of_kind(&f, "truncation-risk").is_empty(), "{f:?}");
    assert!(of_kind(&f, "no-close-notify").is_empty());
    assert!(of_kind(&f, "client-reset").is_empty());
}

#[test]
fn audit_names_a_server_without_close_notify_and_its_truncation_risk() {
    let cap = case("py-tls12-server-close-no-unwrap/capture.pcap");
    let f = findings(&[cap.to_str().expect("path")]);
    let n = of_kind(&f, "no-close-notify");
    assert_eq!(n.len(), 1, "{f:?}");
    assert_eq!(n[0]["subject"], "server");
    assert_eq!(n[0]["subjects"], 1);
    let t = of_kind(&f, "truncation-risk");
    assert_eq!(t.len(), 1);
    assert!(t[0]["title"]
        .as_str()
        .is_some_and(|s| s.contains("from server")));
    assert_eq!(t[0]["by_subject"][0]["closer"], "server");
    assert_eq!(t[0]["examples"][0]["flow"], 1);
}

#[test]
fn audit_names_clients_that_reset() {
    let a = case("py-tls12-linger0/capture.pcap");
    let b = case("py-tls13-cn-then-linger0/capture.pcap");
    let f = findings(&[a.to_str().expect("path"), b.to_str().expect("path")]);
    let r = of_kind(&f, "client-reset");
    assert_eq!(r.len(), 1, "one client address: {f:?}");
    assert_eq!(r[0]["count"], 2);
    assert_eq!(r[0]["severity"], "notice");
    assert_eq!(r[0]["subject"], "client network");
    let net = &r[0]["by_subject"][0];
    assert_eq!(net["subject"], "127.0.0.0/24");
    assert_eq!(net["clients"], 1);
    assert!(
        r[0]["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("client 127.0.0.1 reset 2 connections")),
        "{}",
        r[0]
    );
    assert!(r[0]["evidence"]
        .as_str()
        .is_some_and(|e| e.contains("1 after its own close_notify")));
    // a flow's number is its first frame counted through both inputs: the
    // second input's first flow comes after every frame of the first
    let frames_a = tlsclose_testkit::cli::summary(&run(&["-f", "json", a.to_str().expect("path")]))
        ["frames"]
        .as_u64()
        .expect("frames");
    assert!(frames_a > 1);
    let numbers: Vec<u64> = r[0]["examples"]
        .as_array()
        .expect("examples")
        .iter()
        .filter_map(|e| e["flow"].as_u64())
        .collect();
    assert_eq!(numbers, vec![1, frames_a + 1]);
}

#[test]
fn audit_reports_an_idle_timeout_that_nothing_raced_as_information() {
    let cap = case("nginx-tls13-keepalive-timeout/capture.pcap");
    let f = findings(&[cap.to_str().expect("path")]);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["finding"], "idle-timeout");
    assert_eq!(f[0]["severity"], "info");
    // nginx keepalive_timeout 1s in that case
    let server = &f[0]["by_subject"][0];
    let got = server["server_idle_timeout_s"].as_f64().expect("timeout");
    assert!((got - 1.0).abs() < 0.1, "{got}");
    assert_eq!(server["server_idle_timeout_closes"], 1);
}

#[test]
fn servers_with_too_few_idle_closes_get_no_timeout_named() {
    // gen-mixed-1m: 20 servers closed idle connections once or twice each
    let cap = case("gen-mixed-1m/capture.pcap");
    let f = findings(&[cap.to_str().expect("path")]);
    let t = of_kind(&f, "idle-timeout");
    assert_eq!(t.len(), 1, "{f:?}");
    let title = t[0]["title"].as_str().expect("title");
    let evidence = t[0]["evidence"].as_str().expect("evidence");
    assert!(
        title.contains("too few times to tell its timeout"),
        "{title}"
    );
    assert!(
        !title.contains("()") && !evidence.contains(": ."),
        "{title} / {evidence}"
    );
    assert!(evidence.contains("at least 3 closes agree"), "{evidence}");
    // no fix built on a timeout one close shows
    assert!(t[0]["fix"].is_null(), "{}", t[0]["fix"]);
    let text = String::from_utf8_lossy(&run(&["--audit", cap.to_str().expect("path")]).stdout)
        .into_owned();
    assert!(!text.contains("timeout ()"), "{text}");
    assert!(!text.contains("agree on: ."), "{text}");
}

#[test]
fn audit_clean_closes_have_no_findings_and_fail_on_finding_sets_the_exit_status() {
    // client close_notify answered by the server's close_notify: nothing
    let clean = case("py-tls13-unwrap-both/capture.pcap");
    let clean = clean.to_str().expect("path");
    assert!(findings(&[clean]).is_empty());
    let out = run(&["--audit", clean]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Nothing to report"));

    let racy = case("audit-keepalive-race/capture.pcap");
    let racy = racy.to_str().expect("path");
    let status = |args: &[&str]| output(tlsclose!().args(args)).status.code();
    assert_eq!(
        status(&["--audit", "--fail-on-finding", "keepalive-race", racy]),
        Some(1)
    );
    assert_eq!(
        status(&["--audit", "--fail-on-finding", "client-reset", racy]),
        Some(0)
    );
    assert_eq!(
        status(&["--audit", "--fail-on-finding", "keepalive-race", clean]),
        Some(0)
    );
    // only with --audit
    assert_eq!(
        status(&["--fail-on-finding", "keepalive-race", racy]),
        Some(2)
    );
}

#[test]
fn audit_in_markdown_and_as_a_table() {
    let cap = case("audit-keepalive-race/capture.pcap");
    let cap = cap.to_str().expect("path");
    let md = String::from_utf8_lossy(&run(&["--audit", "--format", "markdown", cap]).stdout)
        .into_owned();
    assert!(md.starts_with("# tlsclose audit"));
    // one section per kind: the races on the three servers
    assert_eq!(md.matches("\n## ").count(), 1, "{md}");
    assert!(md.contains("`--flow "), "{md}");
    assert!(md.contains("**Fix:**"));
    assert!(md.contains("| 127.0.0.1:8443 | 4 | 18 | 2.00s |"), "{md}");
    let table = String::from_utf8_lossy(&run(&["--audit", cap]).stdout).into_owned();
    assert!(table.contains("1. [warning] keepalive-race"), "{table}");
    assert!(
        table.contains(
            "raced 3 servers' closes of idle connections (idle timeouts 2.00s, 1.50s and 1.00s)"
        ),
        "{table}"
    );
    assert!(
        table.contains("--flow N: a flow's Wireshark filter"),
        "{table}"
    );
    // --examples N: more or fewer flows per finding
    let json = |n: &str| findings(&[cap, "--examples", n]);
    assert_eq!(json("0")[0]["examples"].as_array().map(Vec::len), Some(0));
    assert_eq!(json("5")[0]["examples"].as_array().map(Vec::len), Some(5));
    assert_eq!(json("50")[0]["examples"].as_array().map(Vec::len), Some(12));
    let out = output(tlsclose!().args([cap, "--examples", "2"]));
    assert_eq!(out.status.code(), Some(2), "--examples needs --audit");
}

/// `--group-by KEY --format json`: the group lines by group.
fn groups(by: &str) -> HashMap<String, Value> {
    let cap = case("audit-keepalive-race/capture.pcap");
    json_lines(&run(&[
        cap.to_str().expect("path"),
        "--group-by",
        by,
        "--format",
        "json",
    ]))
    .into_iter()
    .filter(|v| v.get("summary").is_none())
    .map(|v| (v["group"].as_str().expect("group").to_owned(), v))
    .collect()
}

#[test]
fn group_by_server_finds_each_servers_idle_timeout_within_100ms() {
    let t = truth(&case("audit-keepalive-race"));
    let g = groups("server");
    assert_eq!(g.len(), t.timeouts.len());
    for (server, want) in &t.timeouts {
        let line = &g[server];
        let got = line["server_idle_timeout_s"].as_f64().expect("a timeout");
        assert!((got - want).abs() < 0.1, "{server}: {got} vs {want}");
        // every idle close the server made agrees (patient and racing)
        assert_eq!(line["server_idle_timeout_closes"], 8, "{line}");
        assert_eq!(line["server_idle_closes"], 8, "{line}");
        assert_eq!(line["keepalive_races"], 4, "{line}");
    }
    // towards the first server, the pool's 600 ms are most client closes
    let first = &g["127.0.0.1:8443"];
    let pool = first["client_idle_timeout_s"]
        .as_f64()
        .expect("pool timeout");
    assert!((pool - 0.6).abs() < 0.1, "{first}");
    // towards the others, clients close at random moments: no timeout
    assert_eq!(g["127.0.0.1:8444"]["client_idle_timeout_s"], Value::Null);
}

#[test]
fn group_by_client_finds_the_pools_idle_timeout_and_none_for_random_closes() {
    let g = groups("client");
    let pool = &g["127.0.0.2"];
    let got = pool["client_idle_timeout_s"]
        .as_f64()
        .expect("pool timeout");
    assert!((got - 0.6).abs() < 0.1, "{pool}");
    assert_eq!(pool["client_idle_timeout_closes"], 6);
    assert_eq!(pool["keepalive_races"], 0);
    let others = &g["127.0.0.1"];
    assert_eq!(others["client_idle_timeout_s"], Value::Null, "{others}");
    assert_eq!(others["keepalive_races"], 12);
}

#[test]
fn group_by_shows_races_and_timeouts_in_every_format() {
    let cap = case("audit-keepalive-race/capture.pcap");
    let cap = cap.to_str().expect("path");
    let text = |f: &str| {
        String::from_utf8_lossy(&run(&[cap, "--group-by", "server", "--format", f]).stdout)
            .into_owned()
    };
    let table = text("table");
    assert!(table.contains("2.00s (8/8) / 600ms (6/10)"), "{table}");
    let md = text("markdown");
    assert!(md.contains("keep-alive races"), "{md}");
    assert!(md.contains("1.50s (8/8) / -"), "{md}");
    let csv = text("csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (races, to) = (col("keepalive_races"), col("server_idle_timeout_s"));
    for row in lines {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells[races], "4", "{row}");
        let got: f64 = cells[to].parse().expect("a timeout");
        assert!(got > 0.9, "{row}");
    }
}

#[test]
fn the_markdown_report_describes_every_racing_flow_even_when_it_ended_cleanly() {
    let dir = case("audit-keepalive-race");
    let t = truth(&dir);
    let cap = dir.join("capture.pcap");
    let cap = cap.to_str().expect("path");
    let flows: Vec<Value> = json_lines(&run(&[cap, "--format", "json"]))
        .into_iter()
        .filter(|v| v.get("summary").is_none())
        .collect();
    // the racing clients of the truth, found by tlsclose as races
    let racing = t.kinds.values().filter(|k| *k == "racing").count();
    assert!(racing >= 10, "{racing}");
    let clean_races = flows
        .iter()
        .filter(|f| f["keepalive_race"] == true && f["ending"] == "close_notify-then-fin")
        .count();
    assert!(clean_races > 0, "the premise: races that ended cleanly");
    let described = flows
        .iter()
        .filter(|f| f["keepalive_race"] == true || f["ending"] != "close_notify-then-fin")
        .count();
    let path = tlsclose_testkit::paths::tmp("audit", "race.md");
    let p = path.to_str().expect("path");
    run(&[
        cap,
        "--report",
        p,
        "--report-flows",
        "1000",
        "--format",
        "json",
    ]);
    let md = std::fs::read_to_string(&path).expect("the report");
    // the flows' sections (the findings' headings are `### 1.` …)
    let sections: Vec<&str> = md.split("\n### #").skip(1).collect();
    assert_eq!(sections.len(), described, "{md}");
    let raced = sections
        .iter()
        .filter(|s| s.contains("- keep-alive race: yes"))
        .count();
    assert_eq!(raced, racing, "every racing flow described:\n{md}");
}

/// The ladder of a flow (`--flow CLIENT-SERVER --format json`).
fn ladder_of(cap: &str, client: &str, server: &str) -> Vec<Value> {
    let tuple = format!("{client}-{server}");
    let lines = json_lines(&run(&[cap, "--flow", &tuple, "--format", "json"]));
    lines
        .into_iter()
        .next()
        .and_then(|v| v["ladder"].as_array().cloned())
        .unwrap_or_default()
}

#[test]
fn http2_idle_timeouts_are_found_behind_the_servers_goaway() {
    let dir = case("audit-h2-goaway");
    let t = truth(&dir);
    let cap = dir.join("capture.pcap");
    let keys = dir.join("sslkeys.log");
    let cap = cap.to_str().expect("path");
    let keys = keys.to_str().expect("path");
    let flows: Vec<Value> = json_lines(&run(&[cap, "--format", "json"]))
        .into_iter()
        .filter(|v| v.get("summary").is_none())
        .collect();
    assert_eq!(flows.len(), t.kinds.len());
    // the premise: each idle close is GOAWAY (a small application-data
    // record) and close_notify from the server in the same millisecond
    let mut patient = 0;
    for f in &flows {
        let key = (
            f["client"].as_str().expect("client").to_owned(),
            f["server"].as_str().expect("server").to_owned(),
        );
        if t.kinds.get(&key).map(String::as_str) != Some("patient") {
            continue;
        }
        patient += 1;
        let ladder = ladder_of(cap, &key.0, &key.1);
        let alert = ladder
            .iter()
            .position(|l| {
                l["from"] == "server" && l["what"].as_str().is_some_and(|w| w.contains("alert"))
            })
            .expect("the server's close_notify");
        let before = &ladder[alert - 1];
        let what = before["what"].as_str().expect("what");
        assert!(
            before["from"] == "server" && what.starts_with("TLS application_data ("),
            "{ladder:?}"
        );
        let gap =
            ladder[alert]["time"].as_f64().expect("time") - before["time"].as_f64().expect("time");
        assert!(gap < 0.01, "{ladder:?}");
        // and the idle time is the server's timeout, measured before the GOAWAY
        let want = t.timeouts[&key.1];
        let got = f["idle_before_first_signal"].as_f64().expect("idle");
        assert!((got - want).abs() < 0.1, "{key:?}: {got} vs {want}");
        assert_eq!(f["initiator"], "server");
        assert_eq!(f["keepalive_race"], false);
    }
    assert_eq!(patient, 5 * t.timeouts.len());
    for extra in [vec![], vec!["--keylog", keys]] {
        let mut args = vec![cap, "--group-by", "server", "--format", "json"];
        args.extend(extra);
        let groups: Vec<Value> = json_lines(&run(&args))
            .into_iter()
            .filter(|v| v.get("group").is_some())
            .collect();
        assert_eq!(groups.len(), t.timeouts.len());
        for g in &groups {
            let server = g["group"].as_str().expect("group");
            let want = t.timeouts[server];
            let got = g["server_idle_timeout_s"]
                .as_f64()
                .unwrap_or_else(|| panic!("{g}"));
            assert!((got - want).abs() < 0.1, "{server}: {got} vs {want}");
            assert_eq!(g["server_idle_timeout_closes"], 5, "{g}");
            assert_eq!(g["keepalive_races"], 0, "{g}");
        }
    }
}

#[test]
fn idle_timeout_examples_are_closes_inside_the_timeout() {
    // haproxy closes at once after a client's GOAWAY: server closes after
    // no idle time, which are no examples of its idle timeout
    let dir = case("audit-h2-goaway");
    let t = truth(&dir);
    let cap = dir.join("capture.pcap");
    let cap = cap.to_str().expect("path");
    let idle: HashMap<(String, String), f64> = json_lines(&run(&[cap, "--format", "json"]))
        .into_iter()
        .filter_map(|v| {
            let key = (
                v["client"].as_str()?.to_owned(),
                v["server"].as_str()?.to_owned(),
            );
            Some((key, v["idle_before_first_signal"].as_f64()?))
        })
        .collect();
    let short = idle.values().filter(|i| **i < 0.01).count();
    assert!(
        short > 0,
        "the premise: server closes right after the client's GOAWAY"
    );
    let f = findings(&[cap]);
    let timeouts = of_kind(&f, "idle-timeout");
    assert_eq!(timeouts.len(), 1, "{f:?}");
    let finding = timeouts[0];
    assert_eq!(finding["subjects"], t.timeouts.len(), "{finding}");
    let examples = finding["examples"].as_array().expect("examples");
    assert_eq!(examples.len(), 3, "{finding}");
    for e in examples {
        let key = (
            e["client"].as_str().expect("client").to_owned(),
            e["server"].as_str().expect("server").to_owned(),
        );
        let want = t.timeouts[&key.1];
        let got = idle[&key];
        assert!((got - want).abs() < 0.1, "{key:?}: {got} vs {want}");
    }
    // ten per server: each server's examples all inside its timeout
    let more = findings(&[cap, "--examples", "30"]);
    let examples = of_kind(&more, "idle-timeout")[0]["examples"]
        .as_array()
        .expect("examples")
        .clone();
    assert_eq!(examples.len(), 15, "five patient clients per server");
    for e in &examples {
        let key = (
            e["client"].as_str().expect("client").to_owned(),
            e["server"].as_str().expect("server").to_owned(),
        );
        assert!((idle[&key] - t.timeouts[&key.1]).abs() < 0.1, "{e}");
    }
}

/// A http-close capture and its key log.
fn http_close(server: &str) -> (String, String) {
    let dir = case(&format!("http-close-{server}"));
    let path = |f: &str| dir.join(f).to_str().expect("path").to_owned();
    (path("capture.pcap"), path("sslkeys.log"))
}

#[test]
fn abrupt_close_names_h2o_with_keys_and_nothing_without() {
    let (cap, keys) = http_close("h2o");
    let f = findings(&[&cap, "--keylog", &keys]);
    let abrupt = of_kind(&f, "abrupt-close");
    let [a] = abrupt.as_slice() else {
        panic!("one abrupt-close finding: {f:?}");
    };
    assert_eq!(a["severity"], "warning");
    assert_eq!(a["subjects"], 1);
    let subject = &a["by_subject"][0];
    assert_eq!(subject["subject"], "127.0.0.1:8443", "{a}");
    // the truth: the clients whose connection ended with GOAWAY and a bare
    // EOF (h2o's idle close over HTTP/2)
    let text = std::fs::read_to_string(case("http-close-h2o").join("truth.json")).expect("truth");
    let truth: Value = serde_json::from_str(&text).expect("truth.json is JSON");
    let mut want: Vec<&str> = truth["flows"]
        .as_array()
        .expect("flows")
        .iter()
        .filter(|f| {
            f["end"] == "bare-eof" && f["goaways"].as_array().is_some_and(|g| !g.is_empty())
        })
        .map(|f| f["client"].as_str().expect("client"))
        .collect();
    want.sort_unstable();
    assert_eq!(want.len(), 2, "{truth}");
    let mut got: Vec<&str> = a["examples"]
        .as_array()
        .expect("examples")
        .iter()
        .map(|e| e["client"].as_str().expect("client"))
        .collect();
    got.sort_unstable();
    assert_eq!(got, want, "{a}");
    assert_eq!(a["count"], 2);
    assert_eq!(subject["abrupt_closes"]["goaway_then_fin"], 2, "{a}");
    assert_eq!(
        subject["abrupt_closes"]["rst_request_outstanding"], 0,
        "{a}"
    );
    for e in a["examples"].as_array().expect("examples") {
        let what = e["what"].as_str().expect("what");
        assert!(
            what.starts_with("GOAWAY (NO_ERROR, last stream 1) at frame "),
            "{what}"
        );
        assert!(what.contains("then the server's bare FIN"), "{what}");
    }
    // the other kinds' subjects keep their fields
    for other in f.iter().filter(|v| v["finding"] != "abrupt-close") {
        for s in other["by_subject"].as_array().expect("subjects") {
            assert!(s.get("abrupt_closes").is_none(), "{other}");
        }
    }
    let text =
        String::from_utf8_lossy(&run(&["--audit", &cap, "--keylog", &keys]).stdout).into_owned();
    assert!(
        text.contains(
            "[warning] abrupt-close: server 127.0.0.1:8443 sends GOAWAY then a bare FIN (no \
             close_notify): clients see an unexpected EOF"
        ),
        "{text}"
    );
    // without keys nothing is claimed
    let f = findings(&[&cap]);
    assert!(of_kind(&f, "abrupt-close").is_empty(), "{f:?}");
    let status = |args: &[&str]| output(tlsclose!().args(args)).status.code();
    let fail = ["--audit", "--fail-on-finding", "abrupt-close"];
    assert_eq!(
        status(&[&fail[..], &[&cap, "--keylog", &keys]].concat()),
        Some(1)
    );
    assert_eq!(status(&[&fail[..], &[&cap]].concat()), Some(0));
}

#[test]
fn servers_that_close_gracefully_get_no_abrupt_close() {
    // nginx, haproxy and caddy send close_notify after GOAWAY; their
    // abrupt closes are clients that gave up on a response (an RST)
    for server in ["nginx", "haproxy", "caddy"] {
        let (cap, keys) = http_close(server);
        let f = findings(&[&cap, "--keylog", &keys]);
        assert!(of_kind(&f, "abrupt-close").is_empty(), "{server}: {f:?}");
        assert!(!of_kind(&f, "client-reset").is_empty(), "{server}: {f:?}");
    }
}

#[test]
fn group_by_counts_graceful_and_abrupt_closes_with_keys_only() {
    let (cap, keys) = http_close("h2o");
    let lines = |args: &[&str]| -> Vec<Value> {
        let mut all = vec![cap.as_str()];
        all.extend_from_slice(args);
        json_lines(&run(&all))
            .into_iter()
            .filter(|v| v.get("summary").is_none())
            .collect()
    };
    // the flows' own close_kind, counted
    let mut want: HashMap<String, u64> = HashMap::new();
    for flow in lines(&["--keylog", &keys, "--format", "json"]) {
        *want
            .entry(flow["close_kind"].as_str().expect("close_kind").to_owned())
            .or_default() += 1;
    }
    let g = lines(&[
        "--keylog",
        &keys,
        "--group-by",
        "server",
        "--format",
        "json",
    ]);
    let [server] = g.as_slice() else {
        panic!("one server: {g:?}");
    };
    let kinds = &server["close_kinds"];
    for k in ["graceful", "abrupt", "idle", "unknown"] {
        assert_eq!(
            kinds[k].as_u64(),
            Some(want.get(k).copied().unwrap_or(0)),
            "{k}: {server}"
        );
    }
    assert_eq!(kinds["abrupt"], 4, "{server}");
    assert_eq!(kinds["graceful"], 1, "{server}");
    // without keys every close is unknown: no field, no column
    let g = lines(&["--group-by", "server", "--format", "json"]);
    assert!(g[0].get("close_kinds").is_none(), "{:?}", g[0]);
    let text = |args: &[&str]| {
        let mut all = vec![cap.as_str(), "--group-by", "server"];
        all.extend_from_slice(args);
        String::from_utf8_lossy(&run(&all).stdout).into_owned()
    };
    let csv = text(&["--keylog", &keys, "--format", "csv"]);
    let mut rows = csv.lines();
    let header: Vec<&str> = rows.next().expect("header").split(',').collect();
    let row: Vec<&str> = rows.next().expect("a row").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    assert_eq!(row[col("close_abrupt")], "4", "{csv}");
    assert_eq!(row[col("close_graceful")], "1", "{csv}");
    assert!(!text(&["--format", "csv"]).contains("close_abrupt"));
    let md = text(&["--keylog", &keys, "--format", "markdown"]);
    assert!(
        md.contains("close kind (keys) graceful / abrupt / idle / unknown"),
        "{md}"
    );
    assert!(md.contains("| 1 / 4 / 3 / 0 |"), "{md}");
    assert!(!text(&["--format", "markdown"]).contains("close kind"));
}
