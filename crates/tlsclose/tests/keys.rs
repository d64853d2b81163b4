//! `--keylog`, `$SSLKEYLOGFILE` and key logs inside a pcapng, as a user
//! sees them: what is decrypted, what falls back, what is warned about.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tlsclose_testkit::cli::{flows, output};
use tlsclose_testkit::{case, tlsclose};

fn bin() -> Command {
    tlsclose!()
}

fn tmp(name: &str) -> PathBuf {
    tlsclose_testkit::tmp("keys", name)
}

fn run(args: &[&str], capture: &Path) -> Output {
    output(bin().args(args).arg(capture))
}

#[test]
fn keylog_reads_encrypted_alerts_for_certain() {
    let c = case("ossl-tls13-chacha20");
    let keys = c.join("sslkeys.log");
    let out = run(
        &["-f", "json", "--keylog", keys.to_str().expect("utf-8")],
        &c.join("capture.pcap"),
    );
    assert_eq!(out.status.code(), Some(0));
    let f = &flows(&out)[0];
    assert_eq!(f["decrypted"], true);
    assert_eq!(f["confidence"], "certain");
    assert_eq!(f["client_close_notify"], "seen");
    assert_eq!(f["alerts"]["server"][0], "warning:close_notify");
    assert_eq!(f["notes"].as_array().map(Vec::len), Some(0));

    // without keys: inferred, and nothing says "decrypted"
    let out = run(&["-f", "json"], &c.join("capture.pcap"));
    let f = &flows(&out)[0];
    assert_eq!(f["decrypted"], false);
    assert_eq!(f["client_close_notify"], "inferred");

    // the table says it too
    let out = run(
        &["--keylog", keys.to_str().expect("utf-8")],
        &c.join("capture.pcap"),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("certain (decrypted)"));
}

#[test]
fn sslkeylogfile_is_read_and_keylog_repeats() {
    let c = case("ossl-tls12-aes128-gcm");
    let out = bin()
        .env("SSLKEYLOGFILE", c.join("sslkeys.log"))
        .args(["-f", "json"])
        .arg(c.join("capture.pcap"))
        .output()
        .expect("run");
    assert_eq!(flows(&out)[0]["decrypted"], true);

    // two key logs, two captures: each flow finds its own secrets
    let other = case("ossl-tls13-aes128-ccm8");
    let out = bin()
        .args(["-f", "json", "--keylog"])
        .arg(c.join("sslkeys.log"))
        .arg("--keylog")
        .arg(other.join("sslkeys.log"))
        .arg(c.join("capture.pcap"))
        .arg(other.join("capture.pcap"))
        .output()
        .expect("run");
    let f = flows(&out);
    assert_eq!(f.len(), 2);
    assert!(f.iter().all(|f| f["decrypted"] == true), "{f:?}");
}

#[test]
fn key_log_inside_the_pcapng_is_used() {
    let out = run(&["-f", "json"], &case("fmt-pcapng-dsb/capture.pcapng"));
    assert_eq!(out.status.code(), Some(0));
    let f = &flows(&out)[0];
    assert_eq!(f["decrypted"], true);
    assert_eq!(f["server_close_notify"], "seen");
}

#[test]
fn missing_or_wrong_keys_fall_back_with_a_note() {
    let c = case("ossl-tls12-aes128-cbc-sha");
    // secrets of another connection
    let out = run(
        &[
            "-f",
            "json",
            "--keylog",
            case("ossl-tls12-aes128-gcm/sslkeys.log")
                .to_str()
                .expect("utf-8"),
        ],
        &c.join("capture.pcap"),
    );
    let f = &flows(&out)[0];
    assert_eq!(f["decrypted"], false);
    assert_eq!(f["confidence"], "likely");
    assert_eq!(f["notes"][0], "keys: none for this client random");

    // the right client random, a corrupted master secret
    let text = std::fs::read_to_string(c.join("sslkeys.log")).expect("read");
    let bad: String = text
        .lines()
        .map(|l| {
            if l.starts_with("CLIENT_RANDOM") {
                format!("{}0\n", &l[..l.len() - 1])
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let path = tmp("corrupted.log");
    std::fs::write(&path, bad).expect("write");
    let out = run(
        &["-f", "json", "--keylog", path.to_str().expect("utf-8")],
        &c.join("capture.pcap"),
    );
    assert_eq!(out.status.code(), Some(0));
    let f = &flows(&out)[0];
    assert_eq!(f["decrypted"], false);
    assert_eq!(f["client_close_notify"], "inferred");
    let note = f["notes"][0].as_str().expect("a note");
    assert!(note.starts_with("keys: decrypt failed at frame "), "{note}");
}

#[test]
fn garbage_key_log_lines_are_warnings_and_a_missing_keylog_an_error() {
    let c = case("ossl-tls13-aes128-gcm");
    let text = std::fs::read_to_string(c.join("sslkeys.log")).expect("read");
    let path = tmp("garbage.log");
    std::fs::write(&path, format!("{text}this is not a key log\n")).expect("write");
    let out = run(
        &["-f", "json", "--keylog", path.to_str().expect("utf-8")],
        &c.join("capture.pcap"),
    );
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = text.lines().count() + 1;
    assert!(
        stderr.contains(&format!(
            "garbage.log:{line}: unknown label \"this\", line skipped"
        )),
        "{stderr}"
    );
    assert_eq!(flows(&out)[0]["decrypted"], true);

    let out = run(
        &["-f", "json", "--keylog", "/nonexistent/keys.log"],
        &c.join("capture.pcap"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read key log /nonexistent/keys.log")
    );

    // an unreadable $SSLKEYLOGFILE is only a warning
    let out = bin()
        .env("SSLKEYLOGFILE", "/nonexistent/keys.log")
        .args(["-f", "json"])
        .arg(c.join("capture.pcap"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: cannot read key log"));
}

#[test]
fn data_after_close_notify_is_read_from_decrypted_types_in_tls13() {
    for (name, keyless) in [
        ("py-tls13-data-after-cn-client", "fin-only"),
        ("py-tls13-data-after-cn-server", "fin-only"),
    ] {
        let c = case(name);
        let out = run(
            &[
                "-f",
                "json",
                "--keylog",
                c.join("sslkeys.log").to_str().expect("utf-8"),
            ],
            &c.join("capture.pcap"),
        );
        assert_eq!(flows(&out)[0]["ending"], "data-after-alert", "{name}");
        let out = run(&["-f", "json"], &c.join("capture.pcap"));
        assert_eq!(flows(&out)[0]["ending"], keyless, "{name}");
    }
}

#[test]
fn tls13_alpn_is_read_from_the_encrypted_extensions_with_keys() {
    // TLS 1.3 sends the selected ALPN in the encrypted EncryptedExtensions:
    // without keys it is unknown; with them, the server's choice
    for (name, tls12) in [("curl-h2-nginx-tls13", 0), ("audit-h2-goaway", 8)] {
        let c = case(name);
        let keys = c.join("sslkeys.log");
        let keyless = flows(&run(&["-f", "json"], &c.join("capture.pcap")));
        let keyed = flows(&run(
            &["-f", "json", "--keylog", keys.to_str().expect("utf-8")],
            &c.join("capture.pcap"),
        ));
        assert_eq!(keyless.len(), keyed.len());
        let tls13 = |f: &&serde_json::Value| f["version"] == "TLS 1.3";
        assert!(
            keyless.iter().filter(tls13).all(|f| f["alpn"].is_null()),
            "{name}"
        );
        assert!(keyed.iter().filter(tls13).count() > 0, "{name}");
        for f in keyed.iter().filter(tls13) {
            assert_eq!(f["decrypted"], true, "{name}: {f}");
            assert_eq!(f["alpn"], "h2", "{name}: {f}");
        }
        // TLS 1.2 has it in the plaintext ServerHello either way
        let h2_12 = |v: &[serde_json::Value]| {
            v.iter()
                .filter(|f| f["version"] == "TLS 1.2" && f["alpn"] == "h2")
                .count()
        };
        assert_eq!((h2_12(&keyless), h2_12(&keyed)), (tls12, tls12), "{name}");
    }
}
