//! The audit at the size of a real capture, on generated connections whose
//! truth is known by construction (`tlsclose_testkit::scripted`): findings
//! rolled up by kind over 40 servers and many client networks, with counts
//! that add up, bounded examples, and a text that fits on a screen; the new
//! kinds (servers that reset idle connections, requests that reached a
//! server just before its idle close and were never answered).

use serde_json::Value;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use tlsclose_testkit::capture::{pcap_of, write, Pkt};
use tlsclose_testkit::cli::{json_lines, output, stderr, stdout};
use tlsclose_testkit::scripted::{tls12, Act, Side, Step};
use tlsclose_testkit::{tlsclose, tmp};

const T0: u64 = 1_760_000_000_000_000;
const FLOWS: u32 = 4000;
const SERVERS: u32 = 40;

/// Flow `i`'s kind (i % 10) and script. The servers' idle timeout is 2 s:
/// the response at 20 ms, their close at 2.02 s.
fn script(i: u32) -> Vec<Step> {
    use Act::*;
    use Side::*;
    let exchange = [(0.01, Client, Data(300)), (0.02, Server, Data(2000))];
    let idle_close = [
        (2.02, Server, CloseNotify),
        (2.02, Server, Fin),
        (2.0205, Client, Fin),
    ];
    let mut s: Vec<Step> = exchange.to_vec();
    match i % 10 {
        // patient: the server's idle close
        0..=5 => s.extend(idle_close),
        // racing: a request 30 ms after the server's close, answered by RST
        6 => s.extend([
            (2.02, Server, CloseNotify),
            (2.02, Server, Fin),
            (2.05, Client, Data(300)),
            (2.0501, Server, Rst),
        ]),
        // a client that resets
        7 => s.push((0.5, Client, Rst)),
        // the first 5 servers reset their idle connections after 3 s; the
        // others' clients close cleanly
        8 if server(i) < 5 => s.push((3.02, Server, Rst)),
        8 => s.extend([
            (0.3, Client, CloseNotify),
            (0.3, Client, Fin),
            (0.3005, Server, CloseNotify),
            (0.3005, Server, Fin),
        ]),
        // a request 1 ms before the server's idle close, never answered
        _ => s.extend([
            (2.019, Client, Data(300)),
            (2.02, Server, CloseNotify),
            (2.02, Server, Fin),
            (2.021, Client, Rst),
        ]),
    }
    s
}

fn server(i: u32) -> u32 {
    (i / 10) % SERVERS
}

fn endpoints(i: u32) -> ((Ipv4Addr, u16), (Ipv4Addr, u16)) {
    let net = (i % 60) as u8;
    let host = ((i / 60) % 250 + 1) as u8;
    let c = (Ipv4Addr::new(10, 0, net, host), 20000 + (i % 40000) as u16);
    let s = (Ipv4Addr::new(198, 51, 100, 1 + server(i) as u8), 443);
    (c, s)
}

/// The capture, written once: the tests run in parallel, and one reading
/// it while another rewrote it saw a part of it.
fn capture() -> PathBuf {
    static ONCE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ONCE.get_or_init(write_capture).clone()
}

fn write_capture() -> PathBuf {
    let path = tmp("audit-scale", "many.pcap");
    let mut pkts: Vec<Pkt> = Vec::new();
    for i in 0..FLOWS {
        let (c, s) = endpoints(i);
        pkts.extend(tls12(c, s, T0 + u64::from(i) * 1000, &script(i)));
    }
    pkts.sort_by_key(|p| p.ts_us);
    write(&path, &pcap_of(&pkts));
    path
}

fn audit(args: &[&str]) -> (String, Vec<Value>) {
    let cap = capture();
    let out = output(tlsclose!().arg(&cap).arg("--audit").args(args));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let json = if args.contains(&"json") {
        json_lines(&text)
            .into_iter()
            .filter(|v| v.get("finding").is_some())
            .collect()
    } else {
        Vec::new()
    };
    (text, json)
}

fn kind<'a>(f: &'a [Value], k: &str) -> &'a Value {
    f.iter()
        .find(|v| v["finding"] == k)
        .unwrap_or_else(|| panic!("no {k} finding in {f:?}"))
}

fn sum(v: &Value, field: &str) -> u64 {
    v["by_subject"]
        .as_array()
        .expect("by_subject")
        .iter()
        .filter_map(|x| x[field].as_u64())
        .sum()
}

#[test]
fn findings_are_rolled_up_by_kind_with_counts_that_add_up() {
    let (_, f) = audit(&["--format", "json"]);
    let names: Vec<&str> = f.iter().filter_map(|v| v["finding"].as_str()).collect();
    assert_eq!(
        names,
        ["keepalive-race", "idle-reset", "client-reset"],
        "one finding per kind, most severe first"
    );
    let per_kind = u64::from(FLOWS / 10);

    let race = kind(&f, "keepalive-race");
    assert_eq!(race["subjects"], SERVERS);
    assert_eq!(race["count"], 2 * per_kind, "{race}");
    assert_eq!(sum(race, "races_after_close"), per_kind);
    assert_eq!(sum(race, "unanswered_before_close"), per_kind);
    assert_eq!(sum(race, "count"), 2 * per_kind);
    for x in race["by_subject"].as_array().expect("servers") {
        let t = x["server_idle_timeout_s"].as_f64().expect("a timeout");
        assert!((t - 2.0).abs() < 0.01, "{x}");
        assert_eq!(x["count"], 20, "{x}");
    }
    let w = race["race_window_max_s"].as_f64().expect("window");
    assert!((w - 0.03).abs() < 0.001, "{w}");

    let reset = kind(&f, "idle-reset");
    assert_eq!(reset["subjects"], 5);
    assert_eq!(reset["count"], 50, "{reset}");
    for x in reset["by_subject"].as_array().expect("servers") {
        let t = x["server_idle_timeout_s"]
            .as_f64()
            .expect("the resets' idle time");
        assert!((t - 3.0).abs() < 0.01, "{x}");
    }
    assert!(reset["severity"] == "warning");

    // client resets: by /24, each network's resetting clients counted
    let cr = kind(&f, "client-reset");
    assert_eq!(cr["subject"], "client network");
    assert_eq!(cr["count"], per_kind);
    assert_eq!(cr["subjects"], 6, "{cr}");
    assert_eq!(sum(cr, "count"), per_kind);
    for x in cr["by_subject"].as_array().expect("networks") {
        let net = x["subject"].as_str().expect("network");
        assert!(net.starts_with("10.0.") && net.ends_with(".0/24"), "{net}");
        assert!(x["clients"].as_u64() <= x["clients_seen"].as_u64(), "{x}");
    }
    // bounded examples, each a flow of its kind
    for v in &f {
        let ex = v["examples"].as_array().expect("examples");
        assert_eq!(ex.len(), 3, "{v}");
        assert!(ex.iter().all(|e| e["flow"].as_u64().is_some()));
    }
    // the races' examples come from three servers: the first of each
    let servers: std::collections::BTreeSet<&str> = race["examples"]
        .as_array()
        .expect("examples")
        .iter()
        .filter_map(|e| e["server"].as_str())
        .collect();
    assert_eq!(servers.len(), 3);
}

#[test]
fn the_text_fits_on_a_screen_and_names_the_top_servers() {
    let (text, _) = audit(&[]);
    let lines = text.lines().count();
    assert!(lines <= 45, "{lines} lines:\n{text}");
    for s in [
        "1. [warning] keepalive-race: 800 requests raced 40 servers' closes of idle connections (idle timeout 2.00s)",
        "400 requests came 30ms after the server had closed",
        "400 reached the server just before its close and were never answered",
        "2. [warning] idle-reset: 5 servers reset 50 idle connections instead of closing them",
        "3. [notice] client-reset: ",
        "Idle timeouts found: 2.00s (40 servers, 2800 of their 2850 idle closes).",
        "(2.00s for the shortest; e.g. 1.50s)",
        "37 more servers",
    ] {
        assert!(text.contains(s), "{s:?} in:\n{text}");
    }
    // at most three servers (or networks) named per finding, then a count
    assert_eq!(text.matches(" more server").count(), 2, "{text}");
    // and in a terminal of 100 columns, still about a screen
    let cap = capture();
    let out = output(tlsclose!().arg(&cap).arg("--audit").env("COLUMNS", "100"));
    let wrapped = stdout(&out);
    assert!(
        wrapped.lines().all(|l| l.chars().count() <= 100),
        "{wrapped}"
    );
    assert!(wrapped.lines().count() <= 60, "{wrapped}");
}

#[test]
fn fail_on_finding_names_the_kind_and_its_flows() {
    let cap = capture();
    let out =
        output(
            tlsclose!()
                .arg(&cap)
                .args(["--audit", "-q", "--fail-on-finding", "idle-reset"]),
        );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out)
            .contains("--fail-on-finding idle-reset matched: idle-reset (50 flows of 5 servers)"),
        "{}",
        stderr(&out)
    );
}

/// A server that sweeps its idle connections once a second (lighttpd,
/// `server.max-keep-alive-idle = 3`): it closes them 3.1 to 4.6 s after
/// the last request, not at one time.
fn sweeping_capture() -> PathBuf {
    use Act::*;
    use Side::*;
    let path = tmp("audit-scale", "sweep.pcap");
    let server = (Ipv4Addr::new(198, 51, 100, 200), 443);
    let mut pkts: Vec<Pkt> = Vec::new();
    for k in 0..20u32 {
        let client = (Ipv4Addr::new(10, 9, 0, 1 + k as u8), 30000 + k as u16);
        let close = 0.02 + 3.1 + 0.08 * f64::from(k);
        let steps = [
            (0.01, Client, Data(300)),
            (0.02, Server, Data(2000)),
            (close, Server, CloseNotify),
            (close, Server, Fin),
            (close + 0.0005, Client, Fin),
        ];
        pkts.extend(tls12(client, server, T0 + u64::from(k) * 250_000, &steps));
    }
    pkts.sort_by_key(|p| p.ts_us);
    write(&path, &pcap_of(&pkts));
    path
}

#[test]
fn a_sweeping_servers_timeout_is_its_floor_and_spread() {
    let cap = sweeping_capture();
    let run = |args: &[&str]| {
        let out = output(tlsclose!().arg(&cap).args(args));
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let g = json_lines(&run(&["--group-by", "server", "-f", "json"]));
    let line = &g[0];
    let floor = line["server_idle_timeout_s"].as_f64().expect("a floor");
    assert!((floor - 3.1).abs() < 0.001, "{line}");
    let spread = line["server_idle_timeout_sweep_s"]
        .as_array()
        .expect("a sweep")
        .iter()
        .filter_map(Value::as_f64)
        .collect::<Vec<_>>();
    assert_eq!(spread.len(), 2);
    assert!(
        (spread[0] - 3.1).abs() < 0.001 && (spread[1] - 4.62).abs() < 0.001,
        "{line}"
    );
    assert_eq!(line["server_idle_timeout_closes"], 20);
    assert_eq!(line["client_idle_timeout_sweep_s"], Value::Null);
    let table = run(&["--group-by", "server"]);
    assert!(table.contains("≈3s (sweep 3.1s–4.6s) (20/20)"), "{table}");
    let csv = run(&["--group-by", "server", "-f", "csv"]);
    assert!(csv
        .lines()
        .next()
        .is_some_and(|h| h.contains("server_idle_timeout_sweep_max_s")));
    assert!(csv.contains(",3.1,4.62,20,20,"), "{csv}");
    let audit = run(&["--audit"]);
    for s in [
        "1. [info] idle-timeout: server 198.51.100.200:443 closes idle connections after ≈3s (sweep 3.1s–4.6s)",
        "20 of the server's 20 closes of idle connections came 3.1s to 4.6s after the last traffic: a timeout of about 3s checked by a periodic sweep.",
    ] {
        assert!(audit.contains(s), "{s:?} in:\n{audit}");
    }
    // the audit's JSON keeps the spread
    let f = json_lines(&run(&["--audit", "-f", "json"]));
    assert_eq!(
        f[0]["by_subject"][0]["server_idle_timeout_sweep_s"][1],
        4.62
    );
}
