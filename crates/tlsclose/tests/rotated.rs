//! Rotated captures (`tcpdump -C`, `editcap -c`): files whose times follow
//! one another are one capture, so a capture split in pieces gives the
//! same flows as the whole; files that overlap in time stay separate.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use tlsclose_testkit::capture::pcap_records;
use tlsclose_testkit::cli::{flows, output, stderr, summary};
use tlsclose_testkit::{case, require_tool, tlsclose};

fn whole() -> PathBuf {
    case("gen-mixed-1m/capture.pcap")
}

fn tlsclose(args: &[&str], inputs: &[PathBuf]) -> (Vec<Value>, String) {
    let out = output(tlsclose!().args(args).args(inputs));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    (flows(&out), stderr(&out))
}

/// `editcap -c 400` of the generated capture, as pcap files in order.
fn split(dir: &Path) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).expect("dir");
    let status = Command::new("editcap")
        .args(["-F", "pcap", "-c", "400"])
        .arg(whole())
        .arg(dir.join("part.pcap"))
        .status()
        .expect("editcap runs");
    assert!(status.success());
    let mut parts: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("parts")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("part"))
        })
        .collect();
    parts.sort();
    parts
}

fn without_file(flows: &[Value]) -> Vec<Value> {
    flows
        .iter()
        .map(|f| {
            let mut f = f.clone();
            f.as_object_mut().expect("object").remove("file");
            f
        })
        .collect()
}

#[test]
fn a_capture_split_by_editcap_gives_the_same_flows_as_the_whole() {
    if !require_tool("editcap") {
        return;
    }
    let dir = tlsclose_testkit::tmp("rotated", "parts");
    let _ = std::fs::remove_dir_all(&dir);
    let parts = split(&dir);
    assert!(parts.len() >= 5, "{} parts", parts.len());
    let (all, _) = tlsclose(&["-q", "-f", "json"], &[whole()]);
    let (joined, _) = tlsclose(&["-q", "-f", "json"], &parts);
    assert!(all.len() > 100);
    // the same flows, verdicts, frame numbers (counted through the files)
    assert_eq!(without_file(&all), without_file(&joined));
    // `file` is where the flow ended: the part of its last frame, or a later
    // one for a flow ended by the clock (idle) or by the end of the capture
    let mut first = 1u64;
    let mut ranges = Vec::new();
    for p in &parts {
        let n = std::fs::read(p).map(|d| count_packets(&d)).expect("part");
        ranges.push((p.to_string_lossy().into_owned(), first, first + n - 1));
        first += n;
    }
    let mut in_last_part = 0;
    for f in &joined {
        let last = f["last_frame"].as_u64().expect("last_frame");
        let of_last = ranges
            .iter()
            .position(|(_, a, b)| (*a..=*b).contains(&last))
            .expect("a part");
        let file = f["file"].as_str().expect("file");
        let ended = ranges.iter().position(|r| r.0 == file).expect("a part");
        assert!(ended >= of_last, "{f}");
        if ended == of_last {
            in_last_part += 1;
        }
    }
    assert!(in_last_part > joined.len() / 2);
    // read as separate captures, a flow over two files is reported twice
    let (apart, _) = tlsclose(&["-q", "-f", "json", "--join", "never"], &parts);
    assert!(apart.len() > all.len(), "{} vs {}", apart.len(), all.len());
    // --extract of the joined files copies the same packets as of the whole
    let (a, b) = (dir.join("whole-x.pcap"), dir.join("parts-x.pcap"));
    let xa = a.to_string_lossy().into_owned();
    let xb = b.to_string_lossy().into_owned();
    tlsclose(
        &[
            "-q",
            "-f",
            "json",
            "--ending",
            "rst,fin-only",
            "--extract",
            &xa,
        ],
        &[whole()],
    );
    tlsclose(
        &[
            "-q",
            "-f",
            "json",
            "--ending",
            "rst,fin-only",
            "--extract",
            &xb,
        ],
        &parts,
    );
    let (da, db) = (std::fs::read(&a).expect("a"), std::fs::read(&b).expect("b"));
    assert!(count_packets(&da) > 100);
    assert_eq!(da, db, "the same packets, byte for byte");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn files_that_overlap_in_time_stay_separate_captures() {
    // the same capture twice: the second starts before the first ended
    // (two sensors), so each is read on its own
    let (once, _) = tlsclose(&["-q", "-f", "json"], &[whole()]);
    let (twice, _) = tlsclose(&["-q", "-f", "json"], &[whole(), whole()]);
    assert_eq!(twice.len(), 2 * once.len());
    assert_eq!(without_file(&twice[..once.len()]), without_file(&once));
    // the second capture's flows are numbered after every frame of the
    // first (a flow's number is its first frame counted through the run)
    let frames = summary(&output(tlsclose!().args(["-f", "json"]).arg(whole())))["frames"]
        .as_u64()
        .expect("frames");
    let renumbered: Vec<Value> = once
        .iter()
        .map(|f| {
            let mut f = f.clone();
            let id = f["flow"].as_u64().expect("flow");
            f["flow"] = (id + frames).into();
            f
        })
        .collect();
    assert_eq!(
        without_file(&twice[once.len()..]),
        without_file(&renumbered)
    );
    // --join always reads them as one (the copy is late retransmissions)
    let (forced, _) = tlsclose(
        &["-q", "-f", "json", "--join", "always"],
        &[whole(), whole()],
    );
    assert_ne!(forced.len(), twice.len());
}

/// Packets in a pcap.
fn count_packets(d: &[u8]) -> u64 {
    pcap_records(d).len() as u64
}
