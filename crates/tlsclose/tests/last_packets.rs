//! A flow closed by FIN on both sides keeps its last packets: the final ACK
//! of the last FIN is inside its frame range and its `--extract`, also when
//! it comes seconds late.

use serde_json::Value;
use std::path::PathBuf;
use tlsclose_testkit::capture::pcap_records;
use tlsclose_testkit::cli::{flows, output};
use tlsclose_testkit::{case, tlsclose, tmp};

fn sample() -> PathBuf {
    case("sample/capture.pcap")
}

/// The records (16-byte header and data) of a pcap.
fn records(data: &[u8]) -> Vec<&[u8]> {
    pcap_records(data).into_iter().map(|r| &data[r]).collect()
}

#[test]
fn the_final_ack_is_in_the_flows_frame_range_and_extract() {
    let out_pcap = tmp("last-packets", "flow.pcap");
    let _ = std::fs::remove_file(&out_pcap);
    let out = output(
        tlsclose!()
            .args(["-q", "-f", "json", "--port", "53760", "--extract"])
            .arg(&out_pcap)
            .arg(sample()),
    );
    assert!(out.status.success());
    let flows: Vec<Value> = flows(&out);
    assert_eq!(flows.len(), 1);
    let f = &flows[0];
    // the nginx keepalive close, 19 frames of the sample from its first:
    // the server's FIN (15th), its retransmission (16th), the client's FIN
    // (18th), then the server's final ACK (19th)
    assert_eq!(f["ending"], "close_notify-then-fin");
    let first = f["first_frame"].as_u64().expect("first_frame");
    assert_eq!(f["teardown_frame"], first + 14);
    assert_eq!(f["last_frame"], first + 18);
    assert_eq!(f["packets"], 19);
    let orig = std::fs::read(sample()).expect("sample");
    let got = std::fs::read(&out_pcap).expect("extract");
    let (orig_recs, got_recs) = (records(&orig), records(&got));
    assert_eq!(got_recs.len(), 19);
    let from = first as usize - 1;
    assert_eq!(
        got_recs,
        orig_recs[from..from + 19].to_vec(),
        "the flow's 19 frames, byte for byte"
    );
    let _ = std::fs::remove_file(&out_pcap);
}

#[test]
fn a_final_ack_after_the_old_one_second_wait_is_in_the_flows_frame_range_and_extract() {
    // testdata/late-final-ack: a final ACK 3 s after the last FIN (frames
    // 1-18), then a last FIN retransmitted at 1.2 s and answered at 1.3 s
    // (frames 19-37)
    let capture = case("late-final-ack/capture.pcap");
    let orig = std::fs::read(&capture).expect("capture");
    let orig_recs = records(&orig);
    for (port, first, last) in [("40462", 1, 18), ("59754", 19, 37)] {
        let out_pcap = tmp("last-packets", &format!("late-{port}.pcap"));
        let _ = std::fs::remove_file(&out_pcap);
        let out = output(
            tlsclose!()
                .args(["-q", "-f", "json", "--port", port, "--extract"])
                .arg(&out_pcap)
                .arg(&capture),
        );
        assert!(out.status.success());
        let flows: Vec<Value> = flows(&out);
        assert_eq!(flows.len(), 1, "port {port}");
        let f = &flows[0];
        assert_eq!(f["first_frame"], first);
        assert_eq!(f["last_frame"], last, "port {port}");
        assert_eq!(f["packets"], last - first + 1, "port {port}");
        let got = std::fs::read(&out_pcap).expect("extract");
        assert_eq!(
            records(&got),
            orig_recs[first as usize - 1..last as usize].to_vec(),
            "port {port}: the flow's frames, the late ones too, byte for byte"
        );
        let _ = std::fs::remove_file(&out_pcap);
    }
}
