//! Captures joined across a quiet spell or a clock step (as `mergecap -a`
//! joins them, the second one's times shifted as `editcap -t` shifts them):
//! the joined capture gives the union of both captures' flows, each with
//! the verdict its capture gives alone, and every flow's printed times are
//! its frames' own timestamps. With and without a single outlier frame (a
//! timestamp 30 years ahead) between the two.
//!
//! The pairs are drawn from the corpus cases in testdata/ (classic pcaps
//! of one link type, no 4-tuple in common) by a seeded generator:
//! `JOINED_SEED=n` replays a run, `JOINED_PAIRS=n` draws more pairs.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tlsclose_testkit::capture::{pcap_header, pcap_record, pcap_records, pcap_times};
use tlsclose_testkit::cli::{flows, output, stderr};
use tlsclose_testkit::paths::{capture_in, cases_with, name_of};
use tlsclose_testkit::{tlsclose, tmp, Prng};

const S: i64 = 1_000_000_000;

/// The shifts of the second capture: past the flow timeout, a day, a
/// year, and an hour back.
const SHIFTS: [(&str, i64); 4] = [
    ("+400s", 400 * S),
    ("+1day", 86_400 * S),
    ("+1year", 365 * 86_400 * S),
    ("-1hour", -3600 * S),
];

/// A classic pcap read independently of the tool: link type and frames
/// (own time in ns, captured bytes, length on the wire).
struct Pcap {
    link: u32,
    frames: Vec<(i64, Vec<u8>, u32)>,
}

fn read_pcap(path: &Path) -> Option<Pcap> {
    let data = std::fs::read(path).ok()?;
    let be = match data.get(..4)? {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => false,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => true,
        _ => return None,
    };
    let word = |b: &[u8]| {
        let b = [b[0], b[1], b[2], b[3]];
        if be {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    let times = pcap_times(&data);
    let frames = pcap_records(&data)
        .into_iter()
        .zip(times)
        .map(|(r, t)| {
            let orig = word(&data[r.start + 12..r.start + 16]);
            (t, data[r.start + 16..r.end].to_vec(), orig)
        })
        .collect();
    Some(Pcap {
        link: word(&data[20..24]),
        frames,
    })
}

/// A little-endian ns pcap of these frames.
fn write_pcap(path: &Path, link: u32, frames: &[(i64, Vec<u8>, u32)]) {
    let mut v = pcap_header(false, true, link, 262_144);
    for (t, data, orig) in frames {
        let (sec, ns) = (t.div_euclid(S), t.rem_euclid(S));
        v.extend(pcap_record(false, sec as u32, ns as u32, data, *orig));
    }
    std::fs::write(path, v).expect("write the joined capture");
}

/// The tool's flows for a capture (JSON), keyed by (client, server, first
/// frame).
fn run(path: &Path) -> (BTreeMap<(String, String, u64), Value>, String) {
    let out = output(tlsclose!().args(["--format", "json"]).arg(path));
    assert!(out.status.success(), "{}: {}", path.display(), stderr(&out));
    let map = flows(&out)
        .into_iter()
        .map(|f| {
            let key = (
                f["client"].as_str().unwrap_or_default().to_owned(),
                f["server"].as_str().unwrap_or_default().to_owned(),
                f["first_frame"].as_u64().unwrap_or_default(),
            );
            (key, f)
        })
        .collect();
    (map, stderr(&out))
}

/// What must not change when a capture is joined to another.
const VERDICT: [&str; 14] = [
    "ending",
    "closer",
    "initiator",
    "close_notify_answered",
    "client_close_notify",
    "server_close_notify",
    "keepalive_race",
    "version",
    "sni",
    "confidence",
    "alerts",
    "idle_before_close",
    "packets",
    "midstream",
];

/// The frame-numbered fields, moved by `offset` frames.
const FRAMES: [&str; 4] = ["first_frame", "last_frame", "teardown_frame", "race_frame"];

struct Case {
    name: String,
    path: PathBuf,
    pcap: Pcap,
    flows: BTreeMap<(String, String, u64), Value>,
}

fn cases() -> Vec<Case> {
    cases_with("expected.jsonl", false)
        .into_iter()
        .filter(|d| !name_of(d).starts_with("clock-") && name_of(d) != "sample")
        .filter_map(|d| {
            let path = capture_in(&d)?;
            if path.extension().and_then(|e| e.to_str()) != Some("pcap") {
                return None;
            }
            let pcap = read_pcap(&path)?;
            // the corpus's own captures: in time order, with flows
            if pcap.frames.windows(2).any(|w| w[1].0 < w[0].0) {
                return None;
            }
            let (flows, _) = run(&path);
            if flows.is_empty() {
                return None;
            }
            Some(Case {
                name: name_of(&d),
                path,
                pcap,
                flows,
            })
        })
        .collect()
}

fn tuples(c: &Case) -> Vec<(String, String)> {
    c.flows
        .keys()
        .map(|(a, b, _)| (a.clone(), b.clone()))
        .collect()
}

/// Joins `b` after `a` (its times shifted by `shift`, an outlier frame
/// between them when `outlier`), runs the tool, and checks the union.
fn check(a: &Case, b: &Case, label: &str, shift: i64, outlier: bool) -> Vec<String> {
    let mut frames = a.pcap.frames.clone();
    if outlier {
        // a frame too short to decode, 30 years ahead: only its time counts
        let (t, data, _) = &a.pcap.frames[0];
        let last = a.pcap.frames.last().map_or(*t, |f| f.0);
        let cut = data[..data.len().min(4)].to_vec();
        frames.push((last + 30 * 365 * 86_400 * S, cut, 4));
    }
    let offset = frames.len() as u64;
    let b_first = b.pcap.frames[0].0;
    let a_last = a.pcap.frames.last().map_or(0, |f| f.0);
    // the second capture starts `shift` after the first one ends
    let move_by = a_last - b_first + shift;
    frames.extend(
        b.pcap
            .frames
            .iter()
            .map(|(t, d, o)| (t + move_by, d.clone(), *o)),
    );
    let name = format!(
        "{}+{}{}{}.pcap",
        a.name,
        b.name,
        label,
        if outlier { "+outlier" } else { "" }
    );
    let path = tmp("joined", &name);
    write_pcap(&path, a.pcap.link, &frames);
    let own: Vec<f64> = frames.iter().map(|f| f.0 as f64 / 1e9).collect();
    let (got, _) = run(&path);
    let mut problems = Vec::new();
    let what = format!(
        "{} then {} ({label}{})",
        a.name,
        b.name,
        if outlier { ", outlier" } else { "" }
    );
    let mut want = Vec::new();
    for ((c, s, first), f) in &a.flows {
        want.push(((c.clone(), s.clone(), *first), f.clone(), 0u64));
    }
    for ((c, s, first), f) in &b.flows {
        want.push(((c.clone(), s.clone(), first + offset), f.clone(), offset));
    }
    if got.len() != want.len() {
        problems.push(format!(
            "{what}: {} flows, alone {} + {}",
            got.len(),
            a.flows.len(),
            b.flows.len()
        ));
    }
    for (key, alone, moved) in want {
        let Some(g) = got.get(&key) else {
            problems.push(format!("{what}: flow {key:?} missing"));
            continue;
        };
        for field in VERDICT {
            if g[field] != alone[field] {
                problems.push(format!(
                    "{what}: {key:?} {field}: alone {}, joined {}",
                    alone[field], g[field]
                ));
            }
        }
        for field in FRAMES {
            let expected = alone[field].as_u64().map(|n| Value::from(n + moved));
            let expected = expected.unwrap_or(Value::Null);
            if g[field] != expected {
                problems.push(format!(
                    "{what}: {key:?} {field}: expected {expected}, joined {}",
                    g[field]
                ));
            }
        }
        // the printed times are the frames' own
        let frame_time = |frame: &Value| {
            let n = frame.as_u64().unwrap_or_default() as usize;
            own.get(n.wrapping_sub(1)).copied()
        };
        for (time, frame) in [
            (&g["first_time"], &g["first_frame"]),
            (&g["last_time"], &g["last_frame"]),
            (&g["teardown"]["time"], &g["teardown"]["frame"]),
        ] {
            if frame.is_null() && time.is_null() {
                continue;
            }
            let same = match (time.as_f64(), frame_time(frame)) {
                (Some(t), Some(o)) => (t - o).abs() < 2e-6,
                _ => false,
            };
            if !same {
                problems.push(format!(
                    "{what}: {key:?}: time {time} for frame {frame}, whose own time is {:?}",
                    frame_time(frame)
                ));
            }
        }
    }
    let _ = std::fs::remove_file(&path);
    problems
}

#[test]
fn joined_captures_give_the_union_of_their_flows_with_their_own_times() {
    let cases = cases();
    assert!(
        cases.len() >= 100,
        "expected the corpus's pcaps in testdata/, found {}",
        cases.len()
    );
    let mut rng = Prng::from_env("JOINED_SEED", 17);
    let pairs: usize = std::env::var("JOINED_PAIRS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let mut problems = Vec::new();
    let mut checked = 0;
    let mut tries = 0;
    while checked < pairs && tries < pairs * 20 {
        tries += 1;
        let a = &cases[rng.below(cases.len() as u64) as usize];
        let b = &cases[rng.below(cases.len() as u64) as usize];
        let (ta, tb) = (tuples(a), tuples(b));
        if a.name == b.name || a.pcap.link != b.pcap.link || ta.iter().any(|t| tb.contains(t)) {
            continue;
        }
        checked += 1;
        let (label, shift) = SHIFTS[checked % SHIFTS.len()];
        for outlier in [false, true] {
            problems.extend(check(a, b, label, shift, outlier));
        }
    }
    assert_eq!(checked, pairs, "not enough pairs without a common 4-tuple");
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Every shift on one pair that reads a TLS 1.3 and a TLS 1.2 capture
/// (the shape of the report: the second flow was lost).
#[test]
fn each_shift_keeps_both_flows_of_two_python_captures() {
    let by_name = |n: &str| {
        cases()
            .into_iter()
            .find(|c| c.name == n)
            .unwrap_or_else(|| panic!("testdata/{n}"))
    };
    let (a, b) = (
        by_name("py-tls13-unwrap-both"),
        by_name("py-tls12-unwrap-both"),
    );
    assert!(a.path.is_file() && b.path.is_file());
    let mut problems = Vec::new();
    for (label, shift) in SHIFTS.into_iter().chain([("+600s", 600 * S)]) {
        for outlier in [false, true] {
            problems.extend(check(&a, &b, label, shift, outlier));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
