//! The reader parses pcap and pcapng with pcap-parser's block and record
//! parsers, inside its own buffer window, and keeps its own code for four
//! things pcap-parser 0.17 gets wrong or does not do. Each test below shows
//! pcap-parser's behaviour on the input and the reader's.

use pcap_parser::{parse_block_be, parse_block_le, Block};
use std::io::Cursor;
use tlsclose_capture::CaptureReader;

fn w32(be: bool, v: u32) -> [u8; 4] {
    if be {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

fn w16(be: bool, v: u16) -> [u8; 2] {
    if be {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

fn block(be: bool, btype: u32, body: &[u8]) -> Vec<u8> {
    let padded = (body.len() + 3) & !3;
    let len = (12 + padded) as u32;
    let mut v = w32(be, btype).to_vec();
    v.extend_from_slice(&w32(be, len));
    v.extend_from_slice(body);
    v.resize(8 + padded, 0);
    v.extend_from_slice(&w32(be, len));
    v
}

fn shb(be: bool) -> Vec<u8> {
    let mut body = w32(be, 0x1a2b_3c4d).to_vec();
    body.extend_from_slice(&w16(be, 1));
    body.extend_from_slice(&w16(be, 0));
    body.extend_from_slice(&[0xff; 8]); // section length unknown
    block(be, 0x0A0D_0D0A, &body)
}

/// An IDB (Ethernet) with the given raw options (code, value).
fn idb(be: bool, options: &[(u16, &[u8])]) -> Vec<u8> {
    let mut body = w16(be, 1).to_vec();
    body.extend_from_slice(&[0, 0]);
    body.extend_from_slice(&w32(be, 0));
    for (code, value) in options {
        body.extend_from_slice(&w16(be, *code));
        body.extend_from_slice(&w16(be, value.len() as u16));
        body.extend_from_slice(value);
        body.resize((body.len() + 3) & !3, 0);
    }
    if !options.is_empty() {
        body.extend_from_slice(&[0; 4]); // opt_endofopt
    }
    block(be, 1, &body)
}

fn epb(be: bool, ts: u64, data: &[u8]) -> Vec<u8> {
    let mut body = w32(be, 0).to_vec();
    body.extend_from_slice(&w32(be, (ts >> 32) as u32));
    body.extend_from_slice(&w32(be, ts as u32));
    body.extend_from_slice(&w32(be, data.len() as u32));
    body.extend_from_slice(&w32(be, data.len() as u32));
    body.extend_from_slice(data);
    block(be, 6, &body)
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
    let mut body = w16(false, 0).to_vec();
    body.extend_from_slice(&w16(false, 0));
    body.extend_from_slice(&w32(false, 0));
    body.extend_from_slice(&w32(false, 5_000_000)); // 5 s in µs
    body.extend_from_slice(&w32(false, 3));
    body.extend_from_slice(&w32(false, 3));
    body.extend_from_slice(b"old");
    let pb = block(false, 2, &body);
    // pcap-parser does not know it.
    assert!(matches!(parse_block_le(&pb), Ok((_, Block::Unknown(_)))));
    let mut f = shb(false);
    f.extend_from_slice(&idb(false, &[]));
    f.extend_from_slice(&pb);
    let (frames, _) = read_all(f);
    assert_eq!(frames, vec![(5_000_000_000, b"old".to_vec())]);
}
