//! The proxy-shutdown audit (issue 12) on captures of real servers whose
//! idle timeouts were set: the races are flagged on exactly the racing
//! flows, with and without keys. The truth is `truth.json`, written by the
//! script that made the capture (what each client did), not by tlsclose.

use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(name)
}

fn run(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_tlsclose"))
        .args(args)
        .output()
        .expect("run tlsclose");
    assert!(
        out.status.success(),
        "tlsclose {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
        .collect()
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
