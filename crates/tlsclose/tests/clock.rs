//! Capture time that misbehaves (testdata/clock-*, made by
//! scripts/make-clock-cases.py from real corpus captures): a frame far in
//! the future or the past, and a step backwards, leave the verdicts and the
//! per-flow times alone, and the user is warned once, with the frame.

use serde_json::Value;
use std::process::Output;
use tlsclose_testkit::cli::output;
use tlsclose_testkit::{case, tlsclose};

fn run(name: &str) -> Output {
    output(
        tlsclose!()
            .args(["--format", "json"])
            .arg(case(name).join("capture.pcap")),
    )
}

/// The one flow's JSON line and the stderr warnings.
fn flow_and_warnings(case: &str) -> (Value, Vec<String>) {
    let out = run(case);
    assert!(out.status.success(), "{case}: {out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let flows: Vec<Value> = stdout
        .lines()
        .filter(|l| l.contains("\"ending\""))
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(flows.len(), 1, "{case}: {stdout}");
    let warnings = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains("warning"))
        .map(str::to_owned)
        .collect();
    (flows[0].clone(), warnings)
}

fn idle(flow: &Value) -> f64 {
    flow["idle_before_close"]
        .as_f64()
        .expect("idle_before_close")
}

#[test]
fn a_synack_decades_ahead_does_not_end_the_starttls_flow() {
    let (flow, warnings) = flow_and_warnings("clock-future-synack-starttls");
    assert_eq!(flow["ending"], "close_notify-then-fin");
    assert_eq!(flow["version"], "TLS 1.3");
    assert_eq!(flow["server_close_notify"], "inferred");
    assert!(idle(&flow) < 1.0, "{flow}");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("frame 2's timestamp is 30.0 years after"),
        "{warnings:?}"
    );
}

#[test]
fn a_record_stamped_1970_does_not_make_the_flow_idle_for_decades() {
    let (flow, warnings) = flow_and_warnings("clock-past-outlier");
    assert_eq!(flow["ending"], "close_notify-then-fin");
    assert!(idle(&flow) < 1.0, "{flow}");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("frame 16's timestamp"), "{warnings:?}");
    assert!(
        warnings[0].contains("before the frames around it"),
        "{warnings:?}"
    );
}

#[test]
fn a_step_backwards_keeps_time_monotonic_for_the_flow() {
    let (flow, warnings) = flow_and_warnings("clock-step-back");
    assert_eq!(flow["ending"], "close_notify-then-fin");
    assert!(idle(&flow) < 1.0, "{flow}");
    let first = flow["first_time"].as_f64().expect("first_time");
    let last = flow["last_time"].as_f64().expect("last_time");
    let teardown = flow["teardown"]["time"].as_f64().expect("teardown time");
    assert!(first <= teardown && teardown <= last, "{flow}");
    assert!(last - first < 1.0, "{flow}");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("runs backwards by 60 min at frame 11"),
        "{warnings:?}"
    );
}

/// testdata/sample is six captures one after the other (mergecap -a): time
/// runs backwards by 66.7 s at frame 38 (and again at 51 and 68). One
/// warning, and the six flows keep their verdicts (testdata.rs).
#[test]
fn a_concatenated_capture_warns_once_that_time_runs_backwards() {
    let out = run("sample");
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains("capture time runs backwards by 66.7 s at frame 38"),
        "{stderr}"
    );
}

/// Four STARTTLS flows live at once, each with its SYN-ACK decades ahead
/// (a different time each): all four survive with their verdicts
/// (testdata.rs), and one warning names the first bad frame.
#[test]
fn interleaved_flows_with_future_synacks_all_survive() {
    let out = run("clock-future-synacks-interleaved");
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let endings: Vec<Value> = stdout
        .lines()
        .filter(|l| l.contains("\"ending\""))
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON line")["ending"].clone())
        .collect();
    assert_eq!(endings.len(), 4, "{stdout}");
    assert!(endings.iter().all(|e| e != "open"), "{endings:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("frame 2's timestamp is 20.0 years after"),
        "{stderr}"
    );
}

fn run_with(name: &str, args: &[&str]) -> (Vec<Value>, String) {
    let out = output(
        tlsclose!()
            .args(["--format", "json"])
            .args(args)
            .arg(case(name).join("capture.pcap")),
    );
    assert!(out.status.success(), "{out:?}");
    let flows = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("\"ending\""))
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    (flows, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A step forward of an hour mid-flow cannot be told from an hour without
/// frames: the clock follows it once confirmed, so the flow ends by the
/// idle timeout, and the warning says so and what to do; with an idle
/// timeout longer than the step the flow keeps its verdict.
#[test]
fn a_forward_step_is_elapsed_time_and_says_how_to_keep_the_flow() {
    let (flows, stderr) = run_with("clock-step-forward", &[]);
    assert_eq!(flows.len(), 1, "{flows:?}");
    assert_eq!(flows[0]["ending"], "open");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("jumps ahead by 60 min at frame 11") && stderr.contains("--idle-timeout"),
        "{stderr}"
    );
    let (flows, stderr) = run_with("clock-step-forward", &["--idle-timeout", "7200"]);
    assert_eq!(flows.len(), 1, "{flows:?}");
    assert_eq!(flows[0]["ending"], "close_notify-then-fin");
    assert_eq!(flows[0]["closer"], "server");
    assert!(flows[0]["idle_before_close"].as_f64().expect("idle") < 1.0);
    assert!(stderr.is_empty(), "{stderr}");
}
