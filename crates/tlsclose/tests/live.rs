//! Live input: a capture fed slowly through a pipe (as `tcpdump -w - |
//! tlsclose -` would) gives each flow's line as the flow ends, not at the
//! end of the input.

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::process::{ChildStdin, Stdio};
use std::time::{Duration, Instant};
use tlsclose_testkit::capture::pcap_records;
use tlsclose_testkit::{case, tlsclose};

/// The file header and the records (header and data) of a pcap.
fn split_pcap(data: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let records = pcap_records(data).into_iter().map(|r| data[r].to_vec());
    (data[..24].to_vec(), records.collect())
}

/// `tlsclose --format json -` fed by `feed` on a thread of its own (given
/// the pipe and the clock the lines are timed by): every line, parsed, with
/// when it came out, and what `feed` returned. Asserts a clean exit.
fn piped_json<T: Send + 'static>(
    feed: impl FnOnce(ChildStdin, Instant) -> T + Send + 'static,
) -> (Vec<(Duration, Value)>, T) {
    let mut child = tlsclose!()
        .args(["--format", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tlsclose runs");
    let stdin = child.stdin.take().expect("stdin");
    let start = Instant::now();
    let feeder = std::thread::spawn(move || feed(stdin, start));
    let stdout = child.stdout.take().expect("stdout");
    let mut lines: Vec<(Duration, Value)> = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("a line");
        lines.push((start.elapsed(), serde_json::from_str(&line).expect("JSON")));
    }
    assert!(child.wait().expect("exit").success());
    (lines, feeder.join().expect("feeder"))
}

#[test]
fn a_flow_is_printed_when_it_ends_while_the_pipe_is_still_open() {
    let capture = case("sample/capture.pcap");
    let data = std::fs::read(capture).expect("sample capture");
    let (header, packets) = split_pcap(&data);
    let n = packets.len();
    // one packet every 30 ms, like a live capture in slow motion; the
    // times each packet was written, by frame number (1-based)
    let (lines, (written, closed)) = piped_json(move |mut stdin, start| {
        let mut written = Vec::with_capacity(n);
        stdin.write_all(&header).expect("header");
        stdin.flush().expect("flush");
        for p in packets {
            stdin.write_all(&p).expect("packet");
            stdin.flush().expect("flush");
            written.push(start.elapsed());
            std::thread::sleep(Duration::from_millis(30));
        }
        // the pipe stays open a while after the last packet
        std::thread::sleep(Duration::from_millis(1500));
        let closed = start.elapsed();
        drop(stdin);
        (written, closed)
    });
    let flows: Vec<&(Duration, Value)> = lines
        .iter()
        .filter(|(_, v)| v.get("ending").is_some())
        .collect();
    assert_eq!(flows.len(), 6, "the sample's six flows");
    let early: Vec<_> = flows.iter().filter(|(at, _)| *at < closed).collect();
    assert!(
        early.len() >= 3,
        "at least the three flows closed by FIN on both sides come out before the input ends \
         (got {} of 6)",
        early.len()
    );
    // each came out after its own last packet was written (and, above,
    // before the input ended): printed as the flow ended. No bound on how
    // soon: a loaded machine may take its time.
    for (at, v) in early {
        let last = v["last_frame"].as_u64().expect("last_frame") as usize;
        let sent = written[last - 1];
        assert!(
            *at >= sent,
            "flow {} printed {:?} before its last packet was written",
            v["client"],
            sent.saturating_sub(*at)
        );
    }
    // the first flow to end came out long before the last packet was
    // written
    let (first_at, first) = flows[0];
    assert_ne!(first["ending"], "open", "{first}");
    assert!(
        *first_at < written[n - 1],
        "the first flow came out before the input ended"
    );
}

/// Packets written all at once, then the first half of the last one and
/// a quiet pipe: the frames read before that half are handed on (and the
/// flows they end printed) without waiting for the rest of the record.
#[test]
fn frames_before_a_half_written_record_are_not_held_back() {
    let data = std::fs::read(case("sample/capture.pcap")).expect("sample capture");
    let (header, packets) = split_pcap(&data);
    let Some((last, whole)) = packets.split_last() else {
        panic!("the sample has packets");
    };
    let (first_half, second_half) = last.split_at(last.len() / 2);
    let (whole, first_half, second_half) =
        (whole.concat(), first_half.to_vec(), second_half.to_vec());
    let (lines, rest) = piped_json(move |mut stdin, start| {
        stdin.write_all(&header).expect("header");
        stdin.write_all(&whole).expect("packets");
        stdin.write_all(&first_half).expect("half a record");
        stdin.flush().expect("flush");
        std::thread::sleep(Duration::from_millis(2000));
        let rest = start.elapsed();
        stdin.write_all(&second_half).expect("the rest");
        drop(stdin);
        rest
    });
    let early = lines
        .iter()
        .filter(|(at, v)| v.get("ending").is_some() && *at < rest)
        .count();
    assert!(
        early >= 3,
        "the flows closed by FIN on both sides come out while the last record is half \
         written (got {early})"
    );
}

/// The sample's first frame of the flow from `client` (read from a run
/// over the whole file).
fn first_frame_of(client: &str) -> usize {
    let out = tlsclose_testkit::cli::output(
        tlsclose!()
            .args(["--format", "json", "-q"])
            .arg(case("sample/capture.pcap")),
    );
    let flows = tlsclose_testkit::cli::flows(&out);
    let flow = flows
        .iter()
        .find(|f| f["client"] == client)
        .expect("the flow in the sample");
    flow["first_frame"].as_u64().expect("first_frame") as usize
}

/// The sample through a pipe up to the second FIN of the nginx keepalive
/// close (19 frames, the second FIN its 18th, the final ACK its 19th), then
/// a quiet pipe for `quiet`, then the rest: that flow's line, when it came
/// out, when the pipe was quiet (from, to), and the second FIN's frame.
fn quiet_before_the_final_ack(quiet: Duration) -> (Duration, Value, (Duration, Duration), u64) {
    let data = std::fs::read(case("sample/capture.pcap")).expect("sample capture");
    let (header, packets) = split_pcap(&data);
    let client = "127.0.0.1:53760";
    let second_fin = first_frame_of(client) + 17;
    let (lines, quiet) = piped_json(move |mut stdin, start| {
        stdin.write_all(&header).expect("header");
        for p in &packets[..second_fin] {
            stdin.write_all(p).expect("packet");
        }
        stdin.flush().expect("flush");
        let quiet_from = start.elapsed();
        std::thread::sleep(quiet);
        let quiet_to = start.elapsed();
        for p in &packets[second_fin..] {
            stdin.write_all(p).expect("packet");
        }
        drop(stdin);
        (quiet_from, quiet_to)
    });
    let (at, flow) = lines
        .into_iter()
        .find(|(_, v)| v["client"] == client)
        .expect("the flow");
    (at, flow, quiet, second_fin as u64)
}

#[test]
fn a_quiet_pipe_still_releases_a_flow_waiting_for_its_final_ack() {
    // quiet for longer than the wait for the final ACK (5 s after the
    // flow's last packet)
    let (at, flow, (quiet_from, quiet_to), second_fin) =
        quiet_before_the_final_ack(Duration::from_secs(8));
    assert_eq!(flow["last_frame"], second_fin);
    // the wall clock moved the capture clock on while the pipe was quiet
    assert!(
        at < quiet_to && at > quiet_from + Duration::from_secs(4),
        "printed at {at:?}, the pipe was quiet from {quiet_from:?} to {quiet_to:?}"
    );
}

#[test]
fn a_final_ack_after_a_quiet_spell_of_3_s_is_still_the_flows() {
    let (at, flow, (_, quiet_to), second_fin) = quiet_before_the_final_ack(Duration::from_secs(3));
    assert_eq!(flow["last_frame"], second_fin + 1);
    assert!(
        at >= quiet_to,
        "printed at {at:?}, before the final ACK was written at {quiet_to:?}"
    );
}

/// Starts `tlsclose ARGS -` on a pipe fed the sample's header and first
/// `k` packets, which then stays open (as a live capture would), and after
/// `wait` sends it `signal` with kill(1): its output, stderr and status.
fn interrupted(args: &[&str], k: usize, signal: &str) -> (String, String, Option<i32>) {
    let data = std::fs::read(case("sample/capture.pcap")).expect("sample capture");
    let (header, packets) = split_pcap(&data);
    let mut child = tlsclose!()
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tlsclose runs");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(&header).expect("header");
    for p in packets.iter().take(k) {
        stdin.write_all(p).expect("packet");
    }
    stdin.flush().expect("flush");
    // the packets are read, and the pipe is still open
    std::thread::sleep(Duration::from_millis(700));
    let killed = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let start = Instant::now();
    let out = child.wait_with_output().expect("tlsclose ends");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "it ends soon after the signal, the pipe still open"
    );
    drop(stdin);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn ctrl_c_on_a_live_pipe_reports_the_open_flows_and_the_summary_with_status_130() {
    if !tlsclose_testkit::require_tool("kill") {
        return;
    }
    // 60 of the 94 packets: three flows ended, the fourth is open
    let (stdout, stderr, code) = interrupted(&["--format", "json"], 60, "INT");
    assert_eq!(code, Some(130), "{stderr}");
    let lines = tlsclose_testkit::cli::json_lines(&stdout);
    let summary = lines.last().expect("a summary line");
    assert_eq!(summary["summary"], true, "the summary comes last: {stdout}");
    let flows: Vec<&Value> = lines.iter().filter(|v| v.get("ending").is_some()).collect();
    assert!(flows.len() >= 3, "{stdout}");
    assert_eq!(summary["tls_flows"].as_u64(), Some(flows.len() as u64));
    assert!(
        flows.iter().any(|f| f["ending"] == "open"),
        "the flows still open at the signal are reported as open: {stdout}"
    );
    assert!(
        flows.iter().all(|f| f["last_frame"].as_u64() <= Some(60)),
        "{stdout}"
    );
    assert!(stderr.contains("interrupted by SIGINT"), "{stderr}");
}

#[test]
fn sigterm_in_table_format_prints_the_table_and_exits_143() {
    if !tlsclose_testkit::require_tool("kill") {
        return;
    }
    let (stdout, stderr, code) = interrupted(&["-q"], 60, "TERM");
    assert_eq!(code, Some(143), "{stderr}");
    assert!(stdout.contains("ending"), "the table: {stdout}");
    let last = stdout.lines().last().unwrap_or_default();
    assert!(last.contains(" TLS flows: "), "the summary line: {stdout}");
    assert!(last.contains("open"), "{last}");
}

#[test]
fn a_table_on_a_live_pipe_says_once_that_it_comes_at_the_end() {
    if !tlsclose_testkit::require_tool("kill") {
        return;
    }
    let (_, stderr, code) = interrupted(&[], 60, "INT");
    assert_eq!(code, Some(130));
    let says = "the table is printed when the input ends (or at Ctrl-C); --format json writes \
                each flow as it ends";
    assert_eq!(stderr.matches(says).count(), 1, "{stderr}");
    // JSON streams: nothing to say
    let (_, stderr, _) = interrupted(&["-f", "json"], 60, "INT");
    assert!(!stderr.contains("the table is printed"), "{stderr}");
}
