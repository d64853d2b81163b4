use super::facts::{Name, OffClock, Recent};
use super::*;
use std::mem::size_of;
use tlsclose_capture::Timestamp;
use tlsclose_tls::ContentType;

/// A flow's state lives in every live flow, idle or not (the flow table's
/// box holds it inline): it must not grow back unnoticed. It was 1,176
/// bytes plus two boxed 232-byte deframers.
#[test]
fn flow_state_stays_compact() {
    let sizes = [
        ("FlowState", size_of::<FlowState>()),
        ("FlowFacts", size_of::<FlowFacts>()),
        ("DirFacts", size_of::<DirFacts>()),
        ("Recent", size_of::<Recent>()),
        ("HelloFacts", size_of::<HelloFacts>()),
        ("Deframer", size_of::<Option<Deframer<SegMeta>>>()),
        ("Rare", size_of::<Rare>()),
        ("OffClock", size_of::<OffClock>()),
    ];
    for (what, size) in sizes {
        eprintln!("{what}: {size} bytes");
    }
    assert!(size_of::<FlowState>() <= 744, "{sizes:?}");
    assert!(size_of::<Option<Name<30>>>() <= 32);
    assert!(size_of::<Option<Name<14>>>() <= 16);
}

fn meta(frame: u64, ts: i64, clock: i64) -> SegMeta {
    SegMeta {
        frame,
        ts: Timestamp(ts),
        clock: Timestamp(clock),
    }
}

#[test]
fn the_last_four_records_oldest_first() {
    let mut d = DirFacts::default();
    assert!(d.last_record().is_none());
    assert_eq!(d.recent_records().count(), 0);
    for i in 0..6u64 {
        // frames 3 and 5 are off the clock
        let clock = if i % 2 == 1 {
            1000 + i as i64
        } else {
            i as i64
        };
        let ct = ContentType(20 + i as u8 % 4);
        d.push_record(ct, 100 + i as u16, i, meta(10 + i, i as i64, clock));
        let kept: Vec<u64> = d.recent_records().map(|r| r.index).collect();
        let first = i.saturating_sub(3);
        assert_eq!(kept, (first..=i).collect::<Vec<_>>());
    }
    for r in d.recent_records() {
        let i = r.index;
        let clock = if i % 2 == 1 {
            1000 + i as i64
        } else {
            i as i64
        };
        assert_eq!(r.at, meta(10 + i, i as i64, clock));
        assert_eq!(r.length, 100 + i as u16);
        assert_eq!(r.content_type, ContentType(20 + i as u8 % 4));
        assert_eq!(r.decrypted, None);
    }
    // only the newest record, and only by its index, takes a decrypted type
    d.set_decrypted(4, ContentType::ALERT);
    assert!(d.recent_records().all(|r| r.decrypted.is_none()));
    d.set_decrypted(5, ContentType::ALERT);
    assert_eq!(
        d.last_record().map(|r| r.decrypted),
        Some(Some(ContentType::ALERT))
    );
    // a record pushed into that slot again starts without one
    for i in 6..10 {
        d.push_record(ContentType::APPLICATION_DATA, 1, i, meta(20 + i, 0, 0));
    }
    assert!(d.recent_records().all(|r| r.decrypted.is_none()));
    assert_eq!(d.recent_records().rev().map(|r| r.index).next(), Some(9));
}

#[test]
fn the_first_fin_and_rst_are_kept() {
    let mut d = DirFacts::default();
    assert!(d.fin().is_none() && d.rst().is_none());
    assert!(!d.closed_before(meta(1, 0, 0)));
    d.set_rst(meta(9, 90, 5000));
    d.set_fin(meta(7, 70, 70));
    d.set_fin(meta(8, 80, 80));
    d.set_rst(meta(10, 100, 100));
    assert_eq!(d.fin(), Some(meta(7, 70, 70)));
    assert_eq!(d.rst(), Some(meta(9, 90, 5000)));
    // records after the earlier of the two do not count
    assert!(!d.closed_before(meta(7, 0, 0)));
    assert!(d.closed_before(meta(8, 0, 0)));
    let mut r = DirFacts::default();
    r.set_rst(meta(3, 30, 30));
    assert!(!r.closed_before(meta(3, 0, 0)) && r.closed_before(meta(4, 0, 0)));
}

#[test]
fn names_are_kept_inline_when_short() {
    let cases = [
        String::new(),
        "h2".to_string(),
        "x".repeat(30),
        "y".repeat(31),
        "é".repeat(15),
        "é".repeat(16),
        "z".repeat(255),
        "w".repeat(300),
    ];
    for s in cases {
        let n = Name::<30>::new(s.clone());
        assert_eq!(n.as_str(), s);
        assert_eq!(matches!(n, Name::Inline { .. }), s.len() <= 30, "{s}");
        let a = Name::<14>::new(s.clone());
        assert_eq!(a.as_str(), s);
    }
}
