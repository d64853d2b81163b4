//! Capture time that misbehaves (testdata/clock-*, made by
//! scripts/make-clock-cases.py from real corpus captures): a frame far in
//! the future or the past, and a step backwards, leave the verdicts and the
//! per-flow times alone, and the user is warned once, with the frame.

use serde_json::Value;
use std::process::Output;
use tlsclose_testkit::capture::pcap_times;
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

/// The frames' own times (seconds) in a case's classic pcap.
fn own_times(name: &str) -> Vec<f64> {
    let data = std::fs::read(case(name).join("capture.pcap")).expect("capture");
    pcap_times(&data)
        .into_iter()
        .map(|ns| ns as f64 / 1e9)
        .collect()
}

fn same_time(printed: &Value, own: f64) -> bool {
    printed.as_f64().is_some_and(|t| (t - own).abs() < 2e-6)
}

#[test]
fn a_step_backwards_leaves_the_verdict_and_prints_the_frames_own_times() {
    let (flow, warnings) = flow_and_warnings("clock-step-back");
    assert_eq!(flow["ending"], "close_notify-then-fin");
    // the idle time is counted on the clock, across the step
    assert!(idle(&flow) < 1.0, "{flow}");
    let own = own_times("clock-step-back");
    let frame = |key: &str| flow[key].as_u64().expect("frame") as usize - 1;
    assert!(
        same_time(&flow["first_time"], own[frame("first_frame")]),
        "{flow}"
    );
    assert!(
        same_time(&flow["last_time"], own[frame("last_frame")]),
        "{flow}"
    );
    let teardown = flow["teardown"]["frame"].as_u64().expect("teardown frame") as usize - 1;
    assert!(
        same_time(&flow["teardown"]["time"], own[teardown]),
        "{flow}"
    );
    // one hour back, as recorded
    let first = flow["first_time"].as_f64().expect("first_time");
    let last = flow["last_time"].as_f64().expect("last_time");
    assert!((first - last - 3600.0).abs() < 1.0, "{flow}");
    assert!(
        flow["notes"].to_string().contains("step back"),
        "the flow spans a step: {flow}"
    );
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("runs backwards by 60 min at frame 11"),
        "{warnings:?}"
    );
    assert!(warnings[0].contains("shown as recorded"), "{warnings:?}");
}

/// testdata/sample is six captures one after the other (mergecap -a) in
/// the order of their times: no warning at all.
#[test]
fn the_sample_is_in_time_order_and_runs_without_a_warning() {
    let out = run("sample");
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty(), "{stderr}");
    let own = own_times("sample");
    assert!(
        own.windows(2).all(|w| w[0] <= w[1]),
        "sample out of time order"
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
/// frames: the clock follows it once confirmed, so the connection (only
/// SMTP so far) is given up as idle and the frames after the step are read
/// as if the capture started there: a mid-stream TLS flow with its own
/// verdict. The warning says so and what to do; with a flow timeout longer
/// than the step the flow is one and keeps its verdict.
#[test]
fn a_forward_step_is_elapsed_time_and_says_how_to_keep_the_flow() {
    let (flows, stderr) = run_with("clock-step-forward", &[]);
    assert_eq!(flows.len(), 1, "{flows:?}");
    assert_eq!(flows[0]["ending"], "close_notify-then-fin");
    assert_eq!(flows[0]["midstream"], true);
    assert_eq!(flows[0]["first_frame"], 11);
    let own = own_times("clock-step-forward");
    assert!(
        same_time(&flows[0]["first_time"], own[10]),
        "{:?}",
        flows[0]
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("jumps ahead by 60 min at frame 11") && stderr.contains("--flow-timeout"),
        "{stderr}"
    );
    let (flows, stderr) = run_with("clock-step-forward", &["--flow-timeout", "7200"]);
    assert_eq!(flows.len(), 1, "{flows:?}");
    assert_eq!(flows[0]["ending"], "close_notify-then-fin");
    assert_eq!(flows[0]["closer"], "server");
    assert_eq!(flows[0]["midstream"], false);
    assert!(flows[0]["idle_before_close"].as_f64().expect("idle") < 1.0);
    assert!(same_time(&flows[0]["first_time"], own[0]), "{:?}", flows[0]);
    assert!(stderr.is_empty(), "{stderr}");
}
