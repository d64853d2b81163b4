//! Keys where the traffic is damaged or changes keys: a record that does
//! not decrypt costs that record only (the other direction, and the same
//! direction after it, stay decrypted), and a TLS 1.2 renegotiation
//! switches to the second handshake's keys at its ChangeCipherSpec.

use serde_json::Value;
use std::path::{Path, PathBuf};
use tlsclose_testkit::capture::{pcap_records, write};
use tlsclose_testkit::cli::{flows, output};
use tlsclose_testkit::{case, tlsclose};

fn tmp(name: &str) -> PathBuf {
    tlsclose_testkit::tmp("keys-damage", name)
}

/// The one TLS flow of `capture`, read with `keylog` (or without keys).
fn flow(capture: &Path, keylog: Option<&Path>) -> Value {
    let mut cmd = tlsclose!();
    cmd.args(["-f", "json"]);
    if let Some(k) = keylog {
        cmd.arg("--keylog").arg(k);
    }
    let out = output(cmd.arg(capture));
    assert_eq!(out.status.code(), Some(0), "{capture:?}");
    let flows = flows(&out);
    assert_eq!(flows.len(), 1, "{capture:?}: {flows:?}");
    flows.into_iter().next().unwrap_or_default()
}

fn notes(f: &Value) -> Vec<String> {
    f["notes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A copy of a classic pcap with the last byte of frame `frame` (1-based)
/// flipped: the end of the TLS record that frame completes.
fn flip_last_byte_of_frame(src: &Path, frame: usize, dst: &Path) {
    let mut data = std::fs::read(src).expect("read capture");
    let record = pcap_records(&data)
        .into_iter()
        .nth(frame - 1)
        .expect("the frame");
    data[record.end - 1] ^= 0x01;
    write(dst, &data);
}

#[test]
fn bad_record_mac_gives_the_servers_decrypted_alert_tls12_and_tls13() {
    for (name, frame) in [
        ("keys-bad-record-mac-tls12", 11),
        ("keys-bad-record-mac-tls13", 12),
    ] {
        let c = case(name);
        let capture = c.join("capture.pcap");
        let keyed = flow(&capture, Some(&c.join("sslkeys.log")));
        assert_eq!(keyed["ending"], "fin-only", "{name}");
        assert_eq!(keyed["closer"], "server", "{name}");
        assert_eq!(keyed["server_close_notify"], "none", "{name}");
        assert_eq!(
            keyed["alerts"]["server"][0], "fatal:bad_record_mac",
            "{name}"
        );
        assert_eq!(keyed["decrypted"], true, "{name}");
        assert_eq!(keyed["confidence"], "certain", "{name}");
        let n = notes(&keyed);
        assert_eq!(n.len(), 1, "{name}: {n:?}");
        assert!(
            n[0].starts_with(&format!(
                "keys: decrypt failed at frame {frame} (bad record MAC"
            )),
            "{name}: {n:?}"
        );
        assert!(n[0].contains("a client record"), "{name}: {n:?}");

        // without keys the fatal alert passes for a close_notify
        let keyless = flow(&capture, None);
        assert_eq!(keyless["ending"], "close_notify-then-fin", "{name}");
        assert_eq!(keyless["server_close_notify"], "inferred", "{name}");
        assert_eq!(keyless["decrypted"], false, "{name}");
    }
}

#[test]
fn a_corrupted_record_costs_only_itself() {
    // TLS 1.3: the client's first request (frame 11) is damaged; its second
    // request and its close_notify (frame 15) still decrypt, at the next
    // sequence numbers. TLS 1.2: the server's response (frame 11) is
    // damaged; its close_notify (frame 12) still decrypts.
    for (name, frame, role) in [
        ("curl-h1-two-requests-keepalive", 11, "client"),
        ("nginx-tls12-connection-close", 11, "server"),
    ] {
        let c = case(name);
        let damaged = tmp(&format!("{name}.pcap"));
        flip_last_byte_of_frame(&c.join("capture.pcap"), frame, &damaged);
        let f = flow(&damaged, Some(&c.join("sslkeys.log")));
        assert_eq!(f[format!("{role}_close_notify")], "seen", "{name}: {f}");
        assert_eq!(f["alerts"][role][0], "warning:close_notify", "{name}");
        assert_eq!(f["decrypted"], true, "{name}");
        assert_eq!(f["confidence"], "certain", "{name}");
        let n = notes(&f);
        assert_eq!(n.len(), 1, "{name}: {n:?}");
        assert!(
            n[0].starts_with(&format!("keys: decrypt failed at frame {frame} (")),
            "{name}: {n:?}"
        );
        assert!(
            n[0].ends_with(&format!("the {role}'s other records were read")),
            "{name}: {n:?}"
        );
        // and the undamaged capture has no such note
        let clean = flow(&c.join("capture.pcap"), Some(&c.join("sslkeys.log")));
        assert!(notes(&clean).is_empty(), "{name}: {:?}", notes(&clean));
    }
}

#[test]
fn close_notify_after_a_tls12_renegotiation_decrypts() {
    let c = case("keys-renegotiation-tls12");
    let capture = c.join("capture.pcap");
    let keylog = c.join("sslkeys.log");
    let f = flow(&capture, Some(&keylog));
    assert_eq!(f["ending"], "close_notify-then-fin");
    assert_eq!(f["client_close_notify"], "seen");
    assert_eq!(f["server_close_notify"], "seen");
    assert_eq!(f["alerts"]["client"][0], "warning:close_notify");
    assert_eq!(f["confidence"], "certain");
    assert_eq!(f["decrypted"], true);
    assert!(notes(&f).is_empty(), "{:?}", notes(&f));

    // without the second handshake's line, each side is read with keys up
    // to its second ChangeCipherSpec, then without: both close_notify
    // alerts are inferred again, and the notes say why
    let text = std::fs::read_to_string(&keylog).expect("read key log");
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("CLIENT_RANDOM"))
        .collect();
    assert_eq!(lines.len(), 2, "one line per handshake");
    let first_only = tmp("first-handshake-only.log");
    std::fs::write(&first_only, format!("{}\n", lines[0])).expect("write");
    let f = flow(&capture, Some(&first_only));
    assert_eq!(f["ending"], "close_notify-then-fin");
    assert_eq!(f["client_close_notify"], "inferred");
    assert_eq!(f["server_close_notify"], "inferred");
    assert_eq!(f["decrypted"], false);
    let n = notes(&f);
    assert_eq!(n.len(), 2, "{n:?}");
    for (note, side, frame) in [(&n[0], "client", 17), (&n[1], "server", 18)] {
        assert_eq!(
            note,
            &format!(
                "keys: {side} side read without keys from frame {frame}: renegotiated, and \
                 the key log has no secrets for the new client random"
            )
        );
    }
}

/// The (label, client random or id, secret) fields of a key log's lines.
fn key_lines(path: &Path) -> Vec<[String; 3]> {
    std::fs::read_to_string(path)
        .expect("read key log")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            match f.as_slice() {
                [a, b, c] => Some([a.to_string(), b.to_string(), c.to_string()]),
                _ => None,
            }
        })
        .collect()
}

#[test]
fn rsa_and_pms_client_random_lines_decrypt_with_and_without_ems() {
    for name in ["keys-rsa-pms-tls12-ems", "keys-rsa-pms-tls12-no-ems"] {
        let c = case(name);
        let capture = c.join("capture.pcap");
        let rsa = key_lines(&c.join("sslkeys.log"));
        assert_eq!(rsa.len(), 1, "{name}: one RSA line");
        assert_eq!(rsa[0][0], "RSA");
        let random = key_lines(&c.join("client-random.log"))
            .into_iter()
            .find(|l| l[0] == "CLIENT_RANDOM")
            .map(|l| l[1].clone())
            .expect("the client's CLIENT_RANDOM line");
        let pms = &rsa[0][2];
        let pms_log = tmp(&format!("{name}-pms.log"));
        std::fs::write(&pms_log, format!("PMS_CLIENT_RANDOM {random} {pms}\n")).expect("write");
        for keylog in [c.join("sslkeys.log"), pms_log, c.join("client-random.log")] {
            let f = flow(&capture, Some(&keylog));
            assert_eq!(f["decrypted"], true, "{name} {keylog:?}");
            assert_eq!(f["client_close_notify"], "seen", "{name} {keylog:?}");
            assert_eq!(f["server_close_notify"], "seen", "{name} {keylog:?}");
            assert_eq!(f["confidence"], "certain", "{name} {keylog:?}");
            assert!(notes(&f).is_empty(), "{name} {keylog:?}: {:?}", notes(&f));
        }

        // a wrong pre-master secret: nothing decrypts, both sides fall back
        let mut wrong = pms.clone();
        wrong.replace_range(10..12, if &pms[10..12] == "00" { "01" } else { "00" });
        let wrong_log = tmp(&format!("{name}-wrong.log"));
        std::fs::write(&wrong_log, format!("RSA {} {wrong}\n", rsa[0][1])).expect("write");
        let f = flow(&capture, Some(&wrong_log));
        assert_eq!(f["decrypted"], false, "{name}");
        assert_eq!(f["client_close_notify"], "inferred", "{name}");
        let n = notes(&f);
        assert_eq!(n.len(), 2, "{name}: {n:?}");
        assert!(
            n[0].ends_with("client side read without keys: no record decrypted"),
            "{name}: {n:?}"
        );

        // an RSA line of another connection
        let other_log = tmp(&format!("{name}-other.log"));
        std::fs::write(&other_log, format!("RSA 0000000000000000 {pms}\n")).expect("write");
        let f = flow(&capture, Some(&other_log));
        assert_eq!(f["decrypted"], false, "{name}");
        assert_eq!(notes(&f), ["keys: none for this client random"], "{name}");
    }
}

#[test]
fn key_log_labels_not_used_are_counted_in_a_warning() {
    let c = case("keys-rsa-pms-tls12-ems");
    let rsa = key_lines(&c.join("sslkeys.log"));
    let cr = "11".repeat(32);
    let s = "22".repeat(32);
    let log = tmp("unused-labels.log");
    std::fs::write(
        &log,
        format!(
            "RSA {} {}\nEARLY_EXPORTER_SECRET {cr} {s}\nECH_SECRET {cr} {s}\n\
             EARLY_EXPORTER_SECRET {cr} {s}\n",
            rsa[0][1], rsa[0][2]
        ),
    )
    .expect("write");
    let out = output(
        tlsclose!()
            .args(["-f", "json", "--keylog"])
            .arg(&log)
            .arg(c.join("capture.pcap")),
    );
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "unused-labels.log: 2 EARLY_EXPORTER_SECRET line(s) skipped (line 2, 4): an \
             exporter secret protects no record"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("unused-labels.log: 1 ECH_SECRET line(s) skipped (line 3)"),
        "{stderr}"
    );
    // the RSA line still serves the flow
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"decrypted\":true"));
}

#[test]
fn tls13_application_secrets_alone_read_the_close() {
    // a key log without the handshake traffic secrets: the handshake
    // records cannot be read, the application ones can
    let c = case("py-tls13-bulk-then-cn");
    let text = std::fs::read_to_string(c.join("sslkeys.log")).expect("read key log");
    let app_only: String = text
        .lines()
        .filter(|l| !l.contains("HANDSHAKE_TRAFFIC_SECRET"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(app_only.len(), text.len(), "the log had handshake secrets");
    let log = tmp("app-secrets-only.log");
    std::fs::write(&log, app_only).expect("write");
    let f = flow(&c.join("capture.pcap"), Some(&log));
    assert_eq!(f["decrypted"], true);
    assert_eq!(f["client_close_notify"], "seen");
    assert_eq!(f["server_close_notify"], "seen");
    assert_eq!(f["confidence"], "certain");
    let n = notes(&f);
    assert_eq!(n.len(), 2, "{n:?}");
    assert!(
        n[0].ends_with("client handshake record(s) not read: the key log has no client handshake traffic secret"),
        "{n:?}"
    );
}
