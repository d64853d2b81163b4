//! Reader behaviour on captures written byte by byte in the tests: pcap
//! records (lying lengths included), pcapng blocks, format errors,
//! concatenated captures. Damaged pcapng, cuts at every byte, gzip and long
//! streams: reader_damage.rs.

use std::io::Cursor;
use tlsclose_capture::{CaptureError, CaptureFormat, CaptureReader, LinkType};
use tlsclose_testkit::capture::*;

mod common;
use common::*;

// ----- pcap -----------------------------------------------------------------

#[test]
fn pcap_all_four_magics() {
    let p1 = packet(1, 60);
    let p2 = packet(2, 100);
    for be in [false, true] {
        for nsec in [false, true] {
            let frac1 = if nsec { 123_456_789 } else { 123_456 };
            let mut f = pcap_header(be, nsec, 1, 65535);
            f.extend(pcap_record(be, 1_700_000_000, frac1, &p1, 60));
            f.extend(pcap_record(be, 1_700_000_001, 5, &p2, 1500));
            let o = read_ok(&f);
            assert_eq!(o.format, CaptureFormat::Pcap);
            assert!(!o.gzip);
            assert_eq!(o.frames.len(), 2);
            let ts1 = if nsec {
                1_700_000_000_123_456_789
            } else {
                1_700_000_000_123_456_000
            };
            let ts2 = 1_700_000_001_000_000_000 + if nsec { 5 } else { 5000 };
            assert_eq!(
                o.frames[0],
                Owned {
                    number: 1,
                    ts: ts1,
                    link: LinkType::ETHERNET,
                    data: p1.clone(),
                    orig_len: 60,
                    offset: 24,
                }
            );
            assert_eq!(
                o.frames[1],
                Owned {
                    number: 2,
                    ts: ts2,
                    link: LinkType::ETHERNET,
                    data: p2.clone(),
                    orig_len: 1500,
                    offset: 24 + 16 + 60,
                }
            );
            assert_eq!(o.stats.bytes_read, f.len() as u64);
            assert_eq!(o.stats.frames, 2);
            assert!(o.warnings.is_empty());
        }
    }
}

#[test]
fn pcap_link_type_from_header_without_fcs_bits() {
    let mut f = pcap_header(false, false, 276 | 0x1400_0000, 65535);
    f.extend(pcap_record(false, 1, 0, &packet(0, 40), 40));
    assert_eq!(read_ok(&f).frames[0].link, LinkType::LINUX_SLL2);
}

#[test]
fn pcap_small_reads() {
    let mut f = pcap_header(true, false, 101, 65535);
    for i in 0..50u8 {
        f.extend(pcap_record(true, 10, 0, &packet(i, 20 + i as usize), 500));
    }
    let o = read_from(Box::new(Trickle {
        inner: Cursor::new(f.clone()),
        max: 7,
        calls: 0,
    }))
    .expect("opens");
    assert!(o.end.is_ok());
    assert_eq!(o.frames.len(), 50);
    assert_eq!(o.frames[49].data, packet(49, 69));
    assert_eq!(o.stats.bytes_read, f.len() as u64);
}

#[test]
fn pcap_absurd_captured_length_is_malformed_after_earlier_frames() {
    let mut f = pcap_header(false, false, 1, 65535);
    f.extend(pcap_record(false, 1, 0, &packet(1, 50), 50));
    let bad_at = f.len() as u64;
    let mut rec = pcap_record(false, 2, 0, &packet(2, 50), 50);
    rec[8..12].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
    f.extend(rec);
    let o = read(&f).expect("opens");
    assert_eq!(o.frames.len(), 1);
    match err_of(&o) {
        CaptureError::Malformed { offset, frame, .. } => {
            assert_eq!((*offset, *frame), (bad_at, 1));
        }
        e => panic!("wrong error {e}"),
    }
    let msg = err_of(&o).to_string();
    assert!(
        msg.contains("test.cap") && msg.contains(&bad_at.to_string()),
        "{msg}"
    );
}

#[test]
fn pcap_captured_length_beyond_snaplen() {
    // Larger than the snapshot length and the original length: a lie.
    let mut f = pcap_header(false, false, 1, 100);
    f.extend(pcap_record(false, 1, 0, &packet(1, 50), 50));
    f.extend(pcap_record(false, 1, 0, &packet(2, 200), 150));
    let o = read(&f).expect("opens");
    assert_eq!(o.frames.len(), 1);
    assert!(matches!(
        err_of(&o),
        CaptureError::Malformed { offset: 90, .. }
    ));

    // Larger than the snapshot length but consistent: read, with a warning.
    let mut f = pcap_header(false, false, 1, 100);
    f.extend(pcap_record(false, 1, 0, &packet(1, 200), 1500));
    f.extend(pcap_record(false, 1, 0, &packet(2, 200), 1500));
    let o = read_ok(&f);
    assert_eq!(o.frames.len(), 2);
    assert_eq!(o.warnings.len(), 1, "{:?}", o.warnings);
    assert!(
        o.warnings[0].contains("snapshot length"),
        "{:?}",
        o.warnings
    );
}

/// Five records of 50 bytes; record 3's header is rewritten by `lie`.
fn pcap_with_lying_record(lie: impl Fn(&mut [u8])) -> (Vec<u8>, u64) {
    let mut f = pcap_header(false, false, 1, 65535);
    let mut bad_at = 0;
    for i in 1..=5u8 {
        let mut rec = pcap_record(false, 1_700_000_000 + u32::from(i), 0, &packet(i, 50), 50);
        if i == 3 {
            bad_at = f.len() as u64;
            lie(&mut rec[..16]);
        }
        f.extend(rec);
    }
    (f, bad_at)
}

#[test]
fn pcap_lying_lengths_resynchronise_at_the_next_record() {
    type Lie = Box<dyn Fn(&mut [u8])>;
    let lies: [(&str, Lie); 4] = [
        (
            "captured length 0",
            Box::new(|h| h[8..12].copy_from_slice(&0u32.to_le_bytes())),
        ),
        (
            "near 4 GB",
            Box::new(|h| h[8..12].copy_from_slice(&0xffff_fff0u32.to_le_bytes())),
        ),
        (
            "over snaplen and original",
            Box::new(|h| h[8..12].copy_from_slice(&70_000u32.to_le_bytes())),
        ),
        (
            "a little over the original",
            Box::new(|h| h[8..12].copy_from_slice(&57u32.to_le_bytes())),
        ),
    ];
    for (what, lie) in lies {
        let (f, bad_at) = pcap_with_lying_record(lie);
        let o = read(&f).expect("opens");
        assert!(
            o.end.is_ok(),
            "{what}: {:?}",
            o.end.as_ref().err().map(|e| e.to_string())
        );
        let got: Vec<(u64, Vec<u8>)> = o
            .frames
            .iter()
            .map(|f| (f.number, f.data.clone()))
            .collect();
        let want: Vec<(u64, Vec<u8>)> = [1u8, 2, 4, 5]
            .iter()
            .map(|&i| (u64::from(i), packet(i, 50)))
            .collect();
        assert_eq!(got, want, "{what}");
        assert_eq!(o.warnings.len(), 1, "{what}: {:?}", o.warnings);
        let w = &o.warnings[0];
        assert!(
            w.contains("test.cap")
                && w.contains(&format!("byte offset {bad_at}"))
                && w.contains("skipped 66 bytes"),
            "{what}: {w}"
        );
        assert_eq!(o.stats.skipped_bytes, 66, "{what}");
    }
}

#[test]
fn pcap_length_a_little_short_loses_the_rest_of_that_record() {
    // frame 3 is read short (as if cut by the snapshot length); its last
    // bytes are no record: skipped up to frame 4
    let (f, _) = pcap_with_lying_record(|h| h[8..12].copy_from_slice(&44u32.to_le_bytes()));
    let o = read(&f).expect("opens");
    assert!(o.end.is_ok());
    let datas: Vec<Vec<u8>> = o.frames.iter().map(|f| f.data.clone()).collect();
    assert_eq!(
        datas,
        vec![
            packet(1, 50),
            packet(2, 50),
            packet(3, 50)[..44].to_vec(),
            packet(4, 50),
            packet(5, 50)
        ]
    );
    assert_eq!(o.warnings.len(), 1, "{:?}", o.warnings);
    assert!(
        o.warnings[0].contains("skipped 6 bytes"),
        "{:?}",
        o.warnings
    );
}

#[test]
fn pcap_time_jump_that_chains_is_read() {
    let mut f = pcap_header(false, false, 1, 65535);
    f.extend(pcap_record(false, 1_000_000_000, 0, &packet(1, 50), 50));
    f.extend(pcap_record(false, 1_700_000_000, 0, &packet(2, 50), 50));
    f.extend(pcap_record(false, 1_700_000_001, 0, &packet(3, 50), 50));
    let o = read_ok(&f);
    assert_eq!(o.frames.len(), 3);
    assert!(o.warnings.is_empty(), "{:?}", o.warnings);
}

#[test]
fn pcap_odd_records_that_chain_are_read() {
    // captured length 0 with nothing after it in the record: a plausible
    // record follows, so it is read as an empty frame
    let mut f = pcap_header(false, false, 1, 65535);
    f.extend(pcap_record(false, 1_700_000_001, 0, &packet(1, 50), 50));
    f.extend(pcap_record(false, 1_700_000_002, 0, &[], 60));
    f.extend(pcap_record(false, 1_700_000_003, 0, &packet(3, 50), 50));
    let o = read_ok(&f);
    assert_eq!(o.frames.len(), 3);
    assert!(o.warnings.is_empty(), "{:?}", o.warnings);
}

#[test]
fn pcap_lie_in_the_last_record_is_a_cut() {
    let mut f = pcap_header(false, false, 1, 65535);
    f.extend(pcap_record(false, 1_700_000_001, 0, &packet(1, 50), 50));
    let mut rec = pcap_record(false, 1_700_000_002, 0, &packet(2, 50), 50);
    rec[8..12].copy_from_slice(&60u32.to_le_bytes());
    f.extend(rec);
    let o = read(&f).expect("opens");
    assert_eq!(o.frames.len(), 1);
    assert!(matches!(err_of(&o), CaptureError::Truncated { .. }));
}

#[test]
fn pcap_record_longer_than_the_buffer() {
    let big = packet(9, 5 << 20);
    let mut f = pcap_header(false, true, 1, 16 << 20);
    f.extend(pcap_record(false, 1, 0, &packet(1, 100), 100));
    f.extend(pcap_record(false, 2, 0, &big, big.len() as u32));
    f.extend(pcap_record(false, 3, 0, &packet(3, 100), 100));
    let o = read_ok(&f);
    assert_eq!(o.frames.len(), 3);
    assert!(o.frames[1].data == big);
    assert_eq!(o.frames[2].data, packet(3, 100));
}

// ----- pcapng -----------------------------------------------------------------

#[test]
fn pcapng_interfaces_spb_dsb_and_other_blocks() {
    let be = false;
    let mut f = shb(be);
    f.extend(idb(be, 1, 0, &[(2, b"eth0")])); // default: microseconds
    f.extend(idb(
        be,
        276,
        262144,
        &[(9, &[9]), (14, &100i64.to_le_bytes())], // ns, +100 s
    ));
    f.extend(idb(be, 101, 0, &[(9, &[0x80 | 10])])); // 2^-10 s
    f.extend(block(be, 0x1234_5678, b"unknown block")); // skipped
    f.extend(block(be, 4, &[0; 4])); // NRB, skipped
    let offsets_start = f.len() as u64;
    f.extend(epb(be, 0, 1_700_000_000_123_456, &packet(1, 60), 60));
    f.extend(epb(be, 1, 5_000_000_001, &packet(2, 61), 1000));
    f.extend(epb(be, 2, 3 * 1024 + 512, &packet(3, 62), 62));
    f.extend(spb(be, &packet(4, 63), 63));
    f.extend(dsb(be, TLS_KEY_LOG, b"CLIENT_RANDOM 00 11\n"));
    f.extend(block(be, 5, &[0; 8])); // ISB, skipped
    f.extend(pb(be, 1, 7, &packet(5, 64), 64));
    let o = read_ok(&f);
    assert_eq!(o.format, CaptureFormat::PcapNg);
    let got: Vec<(u64, i64, LinkType, usize)> = o
        .frames
        .iter()
        .map(|f| (f.number, f.ts, f.link, f.data.len()))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, 1_700_000_000_123_456_000, LinkType::ETHERNET, 60),
            (2, 105_000_000_001, LinkType::LINUX_SLL2, 61),
            (3, 3_500_000_000, LinkType::RAW, 62),
            // SPB: interface 0, the last timestamp.
            (4, 3_500_000_000, LinkType::ETHERNET, 63),
            // Obsolete packet block on interface 1.
            (5, 100_000_000_007, LinkType::LINUX_SLL2, 64),
        ]
    );
    assert_eq!(o.frames[0].offset, offsets_start);
    assert_eq!(o.frames[1].offset, offsets_start + 32 + 60);
    assert_eq!(o.frames[1].orig_len, 1000);
    assert_eq!(o.frames[3].data, packet(4, 63));
    assert_eq!(o.stats.other_blocks, 3);
    assert_eq!(o.stats.bytes_read, f.len() as u64);
    assert_eq!(
        o.secrets,
        vec![(TLS_KEY_LOG, b"CLIENT_RANDOM 00 11\n".to_vec())]
    );
    // the block of unknown type is said once; the known others are not
    assert_eq!(o.warnings.len(), 1, "{:?}", o.warnings);
    assert!(
        o.warnings[0].contains("unknown type 0x12345678"),
        "{:?}",
        o.warnings
    );
}

#[test]
fn pcapng_spb_captured_length() {
    let be = true;
    let mut f = shb(be);
    f.extend(idb(be, 1, 40, &[]));
    // The block holds 60 of 100 bytes; the interface's snaplen is 40.
    f.extend(spb(be, &packet(1, 60), 100));
    let o = read_ok(&f);
    assert_eq!(o.frames[0].data, packet(1, 40));
    assert_eq!(o.frames[0].orig_len, 100);

    let mut f = shb(be);
    f.extend(idb(be, 1, 0, &[]));
    f.extend(spb(be, &packet(1, 60), 100));
    f.extend(spb(be, &packet(2, 60), 30)); // padding is not data
    let o = read_ok(&f);
    assert_eq!(o.frames[0].data, packet(1, 60));
    assert_eq!(o.frames[1].data, packet(2, 30));
}

#[test]
fn pcapng_sections_with_both_byte_orders() {
    let mut f = shb(true);
    f.extend(idb(true, 1, 0, &[(9, &[9])]));
    f.extend(epb(true, 0, 10, &packet(1, 40), 40));
    f.extend(shb(false));
    f.extend(idb(false, 228, 0, &[(14, &(-1i64).to_le_bytes())]));
    f.extend(epb(false, 0, 2_000_000, &packet(2, 40), 40));
    // Interface 1 existed in no section: skipped with a warning.
    let bad_at = f.len() as u64;
    f.extend(epb(false, 1, 0, &packet(3, 40), 40));
    f.extend(epb(false, 0, 3_000_000, &packet(4, 40), 40));
    let o = read_ok(&f);
    let got: Vec<(u64, i64, LinkType)> =
        o.frames.iter().map(|f| (f.number, f.ts, f.link)).collect();
    assert_eq!(
        got,
        vec![
            (1, 10, LinkType::ETHERNET),
            (2, 1_000_000_000, LinkType::IPV4),
            (4, 2_000_000_000, LinkType::IPV4),
        ]
    );
    assert_eq!(o.warnings.len(), 1);
    let w = &o.warnings[0];
    assert!(
        w.contains("test.cap") && w.contains(&bad_at.to_string()) && w.contains("frame 3"),
        "{w}"
    );
    assert_eq!(o.stats.skipped_records, 1);
    assert_eq!(o.stats.frames, 4);
}

#[test]
fn pcapng_interfaces_belong_to_their_section() {
    let mut f = shb(false);
    f.extend(idb(false, 1, 0, &[]));
    f.extend(idb(false, 1, 0, &[]));
    f.extend(shb(false));
    f.extend(idb(false, 1, 0, &[]));
    f.extend(epb(false, 1, 0, &packet(1, 40), 40));
    f.extend(epb(false, 0, 0, &packet(2, 40), 40));
    let o = read_ok(&f);
    assert_eq!(o.frames.len(), 1);
    assert_eq!(o.frames[0].number, 2);
    assert_eq!(o.warnings.len(), 1);
}

#[test]
fn pcapng_epb_captured_length_beyond_block_is_skipped() {
    let mut f = shb(false);
    f.extend(idb(false, 1, 0, &[]));
    let mut bad = epb(false, 0, 0, &packet(1, 40), 40);
    bad[20..24].copy_from_slice(&400u32.to_le_bytes()); // caplen
    f.extend(bad);
    f.extend(epb(false, 0, 0, &packet(2, 40), 40));
    let o = read_ok(&f);
    assert_eq!(o.frames.len(), 1);
    assert_eq!(o.frames[0].number, 2);
    assert!(
        o.warnings[0].contains("frame 1 skipped"),
        "{:?}",
        o.warnings
    );
}

#[test]
fn pcapng_block_longer_than_the_buffer() {
    let big = packet(7, 5 << 20);
    let mut f = shb(false);
    f.extend(idb(false, 1, 0, &[]));
    f.extend(epb(false, 0, 1, &big, big.len() as u32));
    f.extend(epb(false, 0, 2, &packet(2, 40), 40));
    let o = read_ok(&f);
    assert_eq!(o.frames.len(), 2);
    assert!(o.frames[0].data == big);
    assert_eq!(o.frames[1].data, packet(2, 40));
}

#[test]
fn pcapng_unsupported_version() {
    let mut f = shb(false);
    f[12..14].copy_from_slice(&2u16.to_le_bytes());
    let o = read(&f).expect("opens");
    assert!(matches!(
        err_of(&o),
        CaptureError::Malformed { offset: 0, .. }
    ));
}

#[test]
fn pcapng_bad_tsresol_falls_back_to_microseconds_with_warning() {
    let mut f = shb(false);
    f.extend(idb(false, 1, 0, &[(9, &[42])]));
    f.extend(epb(false, 0, 7, &packet(1, 40), 40));
    let o = read_ok(&f);
    assert_eq!(o.frames[0].ts, 7000);
    assert_eq!(o.warnings.len(), 1);
}

#[test]
fn warnings_are_capped_until_drained() {
    let mut f = shb(false);
    for _ in 0..1500 {
        f.extend(epb(false, 9, 0, &packet(1, 4), 4));
    }
    let mut r = CaptureReader::from_reader("x", Box::new(Cursor::new(f))).expect("opens");
    assert!(r.next_frame().expect("reads").is_none());
    assert!(r.has_warnings());
    let w = r.take_warnings();
    assert_eq!(w.len(), 1001);
    assert!(w[1000].contains("500 more"), "{}", w[1000]);
    assert_eq!(r.stats().warnings, 1500);
    assert_eq!(r.stats().skipped_records, 1500);
    assert!(r.take_warnings().is_empty());
}

// ----- format errors ----------------------------------------------------------------

#[test]
fn empty_and_tiny_files() {
    let e = read(&[]).err().expect("error");
    assert!(e.to_string().contains("empty file"), "{e}");
    assert!(matches!(e, CaptureError::Truncated { offset: 0, .. }));
    let e = read(&[0xd4, 0xc3]).err().expect("error");
    assert!(e.to_string().contains("too short"), "{e}");
    let e = read(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0]).err().expect("error");
    assert!(e.to_string().contains("pcap file header"), "{e}");
    let e = read(&gzip(&[])).err().expect("error");
    assert!(e.to_string().contains("empty file (after gzip"), "{e}");
}

#[test]
fn unknown_magic_names_file_and_bytes() {
    let e = read(b"GET / HTTP/1.1\r\n").err().expect("error");
    match &e {
        CaptureError::UnknownFormat { file, magic } => {
            assert_eq!(file, "test.cap");
            assert_eq!(magic, b"GET ");
        }
        other => panic!("{other}"),
    }
    assert!(e.to_string().contains("47 45 54 20"), "{e}");
    let e = read(&gzip(b"not a capture")).err().expect("error");
    assert!(e.to_string().contains("gzip"), "{e}");
    // Gzip magic but not gzip data.
    let e = read(&[0x1f, 0x8b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        .err()
        .expect("error");
    assert!(
        matches!(e, CaptureError::ReadFailed { offset: 0, .. }),
        "{e}"
    );
}

#[test]
fn open_missing_file() {
    let e = CaptureReader::open("/nonexistent/x.pcap").expect_err("error");
    assert!(matches!(e, CaptureError::Io { .. }));
    assert!(e.to_string().contains("/nonexistent/x.pcap"), "{e}");
}

#[test]
fn open_a_file_on_disk() {
    let path = tlsclose_testkit::tmp("capture", "capture.bin.txt"); // the name does not matter
    let (plain, _) = ng_with_frames(3);
    std::fs::write(&path, gzip(&plain)).expect("write");
    let mut r = CaptureReader::open(path.to_str().expect("utf-8")).expect("opens");
    assert!(r.is_gzip());
    assert_eq!(r.format(), CaptureFormat::PcapNg);
    let mut n = 0;
    while r.next_frame().expect("reads").is_some() {
        n += 1;
    }
    assert_eq!(n, 3);
    let _ = std::fs::remove_file(&path);
}

// ----- concatenated captures ----------------------------------------------------------

#[test]
fn concatenated_pcap_files() {
    let mut f = pcap_header(false, false, 1, 65535);
    f.extend(pcap_record(false, 1, 0, &packet(1, 30), 30));
    let second_at = f.len();
    f.extend(pcap_header(true, true, 101, 65535));
    f.extend(pcap_record(true, 2, 7, &packet(2, 30), 30));
    let o = read_ok(&f);
    let got: Vec<(u64, i64, LinkType)> =
        o.frames.iter().map(|f| (f.number, f.ts, f.link)).collect();
    assert_eq!(
        got,
        vec![
            (1, 1_000_000_000, LinkType::ETHERNET),
            (2, 2_000_000_007, LinkType::RAW)
        ]
    );
    assert_eq!(o.warnings.len(), 1);
    assert!(
        o.warnings[0].contains(&second_at.to_string()),
        "{:?}",
        o.warnings
    );
}

#[test]
fn pcap_then_pcapng_then_pcap() {
    let mut f = pcap_header(false, false, 1, 65535);
    f.extend(pcap_record(false, 1, 0, &packet(1, 30), 30));
    let (ng, _) = ng_with_frames(2);
    f.extend(ng);
    f.extend(pcap_header(false, false, 113, 65535));
    f.extend(pcap_record(false, 1, 0, &packet(4, 30), 30));
    let o = read_ok(&f);
    assert_eq!(numbers(&o), vec![1, 2, 3, 4]);
    assert_eq!(o.frames[3].link, LinkType::LINUX_SLL);
    assert_eq!(o.warnings.len(), 2, "{:?}", o.warnings);
}
