//! The reader parses pcap and pcapng with pcap-parser's block and record
//! parsers, inside its own buffer window, and keeps its own code for four
//! things pcap-parser 0.17 gets wrong or does not do. Each test below shows
//! pcap-parser's behaviour on the input and the reader's.

use pcap_parser::{parse_block_be, parse_block_le, Block};
use std::io::Cursor;
use tlsclose_capture::CaptureReader;
use tlsclose_testkit::capture::{self, shb};

/// An Ethernet interface (snaplen 0: none) with the given raw options.
fn idb(be: bool, options: &[(u16, &[u8])]) -> Vec<u8> {
    capture::idb(be, capture::LINK_ETHERNET as u16, 0, options)
}

/// A whole frame on interface 0, `ts` in the interface's units.
fn epb(be: bool, ts: u64, data: &[u8]) -> Vec<u8> {
    capture::epb(be, 0, ts, data, data.len() as u32)
}

/// (timestamp in ns, frame bytes) of every frame, and the warnings.
fn read_all(bytes: Vec<u8>) -> (Vec<(i64, Vec<u8>)>, Vec<String>) {
    let mut r = CaptureReader::from_reader("test", Box::new(Cursor::new(bytes))).expect("opens");
    let mut frames = Vec::new();
    while let Some(f) = r.next_frame().expect("reads") {
        frames.push((f.ts.as_nanos(), f.data.to_vec()));
    }
    (frames, r.take_warnings())
}

/// The IDB as pcap-parser reads it.
fn their_idb(bytes: &[u8], be: bool) -> (Option<u64>, i64) {
    let parsed = if be {
        parse_block_be(bytes)
    } else {
        parse_block_le(bytes)
    };
    match parsed {
        Ok((_, Block::InterfaceDescription(idb))) => (idb.ts_resolution(), idb.ts_offset()),
        other => panic!("pcap-parser did not read the IDB: {other:?}"),
    }
}

#[test]
fn power_of_two_time_resolution_is_read_from_the_raw_option() {
    // if_tsresol 0x94: units of 2^-20 s (as some hardware timestamping
    // writes); the packet is at 3.5 s.
    let tsresol: &[u8] = &[0x80 | 20];
    let interface = idb(false, &[(9, tsresol)]);
    // pcap-parser: no resolution at all (it compares the byte, flag bit
    // included, with 63).
    assert_eq!(their_idb(&interface, false).0, None);
    let mut f = shb(false);
    f.extend_from_slice(&interface);
    f.extend_from_slice(&epb(false, (3 << 20) + (1 << 19), b"frame"));
    let (frames, warnings) = read_all(f);
    assert_eq!(frames, vec![(3_500_000_000, b"frame".to_vec())]);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn time_offset_of_a_big_endian_section_is_read_in_its_byte_order() {
    // if_tsoffset 1000 s in a big-endian section.
    let offset = 1000i64.to_be_bytes();
    let interface = idb(true, &[(14, &offset)]);
    // pcap-parser reads the option as little-endian whatever the section.
    let (_, theirs) = their_idb(&interface, true);
    assert_ne!(theirs, 1000);
    assert_eq!(theirs, i64::from_le_bytes(offset));
    let mut f = shb(true);
    f.extend_from_slice(&interface);
    f.extend_from_slice(&epb(true, 2_000_000, b"frame")); // 2 s in µs
    let (frames, _) = read_all(f);
    assert_eq!(frames, vec![(1_002_000_000_000, b"frame".to_vec())]);
}

#[test]
fn damage_is_skipped_by_resynchronising() {
    let mut f = shb(false);
    f.extend_from_slice(&idb(false, &[]));
    f.extend_from_slice(&epb(false, 1_000_000, b"one"));
    let damaged_at = f.len();
    let mut bad = epb(false, 2_000_000, b"two");
    bad[4..8].copy_from_slice(&0x7777_7777u32.to_le_bytes()); // a lying length
    f.extend_from_slice(&bad);
    f.extend_from_slice(&epb(false, 3_000_000, b"three"));
    f.extend_from_slice(&epb(false, 4_000_000, b"four"));

    // pcap-parser: the damaged block is an error (or asks for 2 GB more),
    // with no way to find the next block: "three" and "four" are lost.
    assert!(parse_block_le(&f[damaged_at..]).is_err());

    let (frames, warnings) = read_all(f);
    let datas: Vec<Vec<u8>> = frames.into_iter().map(|(_, d)| d).collect();
    assert_eq!(
        datas,
        vec![b"one".to_vec(), b"three".to_vec(), b"four".to_vec()]
    );
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("skipped"), "{warnings:?}");
}

#[test]
fn the_obsolete_packet_block_is_read() {
    // Packet Block (type 2): 16-bit interface id, 16-bit drops count, then
    // as an EPB (old writers, and libpcap < 1.1 era files).
    let pb = capture::pb(false, 0, 5_000_000, b"old", 3); // 5 s in µs
                                                          // pcap-parser does not know it.
    assert!(matches!(parse_block_le(&pb), Ok((_, Block::Unknown(_)))));
    let mut f = shb(false);
    f.extend_from_slice(&idb(false, &[]));
    f.extend_from_slice(&pb);
    let (frames, _) = read_all(f);
    assert_eq!(frames, vec![(5_000_000_000, b"old".to_vec())]);
}
