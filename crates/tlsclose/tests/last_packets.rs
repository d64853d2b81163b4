//! A flow closed by FIN on both sides keeps its last packets: the final ACK
//! of the last FIN is inside its frame range and its `--extract`.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/sample/capture.pcap")
}

/// The records (16-byte header and data) of a little-endian pcap.
fn records(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut off = 24;
    while off + 16 <= data.len() {
        let incl = u32::from_le_bytes(data[off + 8..off + 12].try_into().expect("4")) as usize;
        out.push(&data[off..off + 16 + incl]);
        off += 16 + incl;
    }
    out
}

#[test]
fn the_final_ack_is_in_the_flows_frame_range_and_extract() {
    let dir = std::env::temp_dir().join(format!("tlsclose-last-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let out_pcap = dir.join("flow.pcap");
    let _ = std::fs::remove_file(&out_pcap);
    let out = Command::new(env!("CARGO_BIN_EXE_tlsclose"))
        .args(["-q", "-f", "json", "--port", "53760", "--extract"])
        .arg(&out_pcap)
        .arg(sample())
        .output()
        .expect("runs");
    assert!(out.status.success());
    let flows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("ending").is_some())
        .collect();
    assert_eq!(flows.len(), 1);
    let f = &flows[0];
    // frames 1–19 of the sample: the server's FIN (15), its retransmission
    // (16), the client's FIN (18), then the server's final ACK (19)
    assert_eq!(f["ending"], "close_notify-then-fin");
    assert_eq!(f["teardown_frame"], 15);
    assert_eq!(f["last_frame"], 19);
    assert_eq!(f["packets"], 19);
    let orig = std::fs::read(sample()).expect("sample");
    let got = std::fs::read(&out_pcap).expect("extract");
    let (orig_recs, got_recs) = (records(&orig), records(&got));
    assert_eq!(got_recs.len(), 19);
    assert_eq!(
        got_recs,
        orig_recs[..19].to_vec(),
        "frames 1–19, byte for byte"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
