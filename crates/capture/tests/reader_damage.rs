//! Reader behaviour on captures written byte by byte in the tests: damaged
//! pcapng (resynchronisation), captures cut at every byte, gzip (whole,
//! cut, corrupt), long streams and random damage. Records, blocks and
//! format errors: reader.rs.

use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::{Cursor, Read, Write};
use tlsclose_capture::{CaptureError, CaptureReader};
use tlsclose_testkit::capture::*;
use tlsclose_testkit::Prng;

mod common;
use common::*;

// ----- damaged pcapng: resynchronisation -----------------------------------------

#[test]
fn pcapng_trailer_mismatch_resynchronises() {
    let (mut f, starts) = ng_with_frames(4);
    let end1 = starts[2] - 4;
    f[end1..end1 + 4].copy_from_slice(&1234u32.to_le_bytes());
    let o = read_ok(&f);
    assert_eq!(numbers(&o), vec![1, 2, 3]);
    assert_eq!(o.frames[2].data, packet(3, 53));
    assert_eq!(o.warnings.len(), 1);
    let w = &o.warnings[0];
    assert!(w.contains(&format!("byte offset {}", starts[1])), "{w}");
    assert!(w.contains("trailing length 1234"), "{w}");
    assert_eq!(o.stats.skipped_bytes, (starts[2] - starts[1]) as u64);
}

#[test]
fn pcapng_impossible_leading_lengths_resynchronise() {
    for bad_len in [0u32, 8, 13, 102, 0x7fff_fff0, 0xffff_fffc] {
        let (mut f, starts) = ng_with_frames(4);
        f[starts[1] + 4..starts[1] + 8].copy_from_slice(&bad_len.to_le_bytes());
        let o = read_ok(&f);
        assert_eq!(numbers(&o), vec![1, 2, 3], "length {bad_len}");
        assert_eq!(o.warnings.len(), 1, "length {bad_len}");
        assert!(
            o.warnings[0].contains("impossible length"),
            "{:?}",
            o.warnings
        );
    }
}

#[test]
fn pcapng_length_past_the_end_in_the_middle_resynchronises() {
    let (mut f, starts) = ng_with_frames(4);
    f[starts[1] + 4..starts[1] + 8].copy_from_slice(&(1u32 << 20).to_le_bytes());
    let o = read_ok(&f);
    assert_eq!(numbers(&o), vec![1, 2, 3]);
    assert!(
        o.warnings[0].contains("more than remain"),
        "{:?}",
        o.warnings
    );
}

#[test]
fn pcapng_garbage_between_blocks_resynchronises() {
    let (mut f, starts) = ng_with_frames(3);
    f.splice(starts[1]..starts[1], [0xde, 0xad, 0xbe, 0xef, 0x01, 0x02]);
    let o = read_ok(&f);
    assert_eq!(numbers(&o), vec![1, 2, 3]);
    assert_eq!(o.stats.skipped_bytes, 6);
    assert_eq!(o.warnings.len(), 1);
}

#[test]
fn pcapng_damage_with_nothing_valid_after_is_malformed() {
    let (mut f, starts) = ng_with_frames(3);
    let last = f.len() - 4;
    f[last..].copy_from_slice(&7u32.to_le_bytes());
    let o = read(&f).expect("opens");
    assert_eq!(numbers(&o), vec![1, 2]);
    match err_of(&o) {
        CaptureError::Malformed { offset, frame, .. } => {
            assert_eq!((*offset, *frame), (starts[2] as u64, 2));
        }
        e => panic!("wrong error {e}"),
    }
}

// ----- cut files ------------------------------------------------------------------

/// Cuts `f` at every byte; `ends` are the offsets where a record or block
/// ends (clean places to stop), `frame_ends[i]` where frame i+1 ends.
fn check_every_cut(f: &[u8], header_len: usize, ends: &[usize], frame_ends: &[usize]) {
    let full = read_ok(f);
    assert_eq!(full.frames.len(), frame_ends.len());
    for cut in 0..f.len() {
        let input: Box<dyn Read + Send> = if cut % 3 == 0 {
            Box::new(Trickle {
                inner: Cursor::new(f[..cut].to_vec()),
                max: 5,
                calls: 0,
            })
        } else {
            Box::new(Cursor::new(f[..cut].to_vec()))
        };
        let o = match read_from(input) {
            Ok(o) => o,
            Err(e) => {
                assert!(cut < header_len.max(4), "cut {cut}: open failed: {e}");
                assert!(
                    matches!(e, CaptureError::Truncated { offset: 0, .. }),
                    "cut {cut}: {e}"
                );
                continue;
            }
        };
        let complete = frame_ends.iter().filter(|&&e| e <= cut).count();
        assert_eq!(o.frames, full.frames[..complete], "cut {cut}");
        if ends.contains(&cut) {
            assert!(o.end.is_ok(), "cut {cut}: {:?}", o.end.err());
        } else {
            match &o.end {
                Err(CaptureError::Truncated { frame, offset, .. }) => {
                    assert_eq!(*frame, complete as u64, "cut {cut}");
                    // The cut record or block starts at the last clean end.
                    let start = ends.iter().filter(|&&e| e <= cut).max().copied();
                    assert_eq!(*offset as usize, start.unwrap_or(0), "cut {cut}");
                }
                other => panic!("cut {cut}: {other:?}"),
            }
        }
    }
}

#[test]
fn pcap_cut_at_every_byte() {
    let mut f = pcap_header(false, false, 1, 65535);
    let mut ends = vec![f.len()];
    for i in 0..4u8 {
        f.extend(pcap_record(false, 1, 2, &packet(i, 30 + i as usize), 100));
        ends.push(f.len());
    }
    let frame_ends = ends[1..].to_vec();
    check_every_cut(&f, 24, &ends, &frame_ends);
}

#[test]
fn pcapng_cut_at_every_byte() {
    let mut f = shb(false);
    let mut ends = vec![f.len()];
    let mut frame_ends = Vec::new();
    let mut push = |f: &mut Vec<u8>, b: Vec<u8>, is_frame: bool| {
        f.extend(b);
        ends.push(f.len());
        if is_frame {
            frame_ends.push(f.len());
        }
    };
    push(&mut f, idb(false, 1, 0, &[(9, &[6])]), false);
    push(&mut f, epb(false, 0, 1, &packet(1, 33), 33), true);
    push(&mut f, dsb(false, TLS_KEY_LOG, b"x y z\n"), false);
    push(&mut f, spb(false, &packet(2, 21), 21), true);
    push(&mut f, block(false, 0x99, b"unknown"), false);
    push(&mut f, shb(true), false);
    push(&mut f, idb(true, 101, 0, &[]), false);
    push(&mut f, epb(true, 0, 1, &packet(3, 40), 40), true);
    let ends_all = ends.clone();
    // The first SHB is the file header: a cut inside it fails to open.
    check_every_cut(&f, shb(false).len(), &ends_all, &frame_ends);
}

#[test]
fn corrupt_gzip_keeps_the_frames_before_the_damage() {
    // 2000 frames of 116 bytes; the deflate stream is made corrupt right
    // after a sync flush half way (an invalid block type)
    let mut plain = pcap_header(false, false, 1, 65535);
    let mut half = 0;
    for i in 0..2000u32 {
        if i == 1000 {
            half = plain.len();
        }
        plain.extend(pcap_record(
            false,
            1_700_000_000 + i,
            0,
            &packet(i as u8, 100),
            100,
        ));
    }
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(&plain[..half]).expect("gzip");
    e.flush().expect("sync flush");
    let at = e.get_ref().len();
    e.write_all(&plain[half..]).expect("gzip");
    let mut gz = e.finish().expect("gzip");
    gz[at] = 0xff;
    for input in [
        Box::new(Cursor::new(gz.clone())) as Box<dyn Read + Send>,
        Box::new(Trickle {
            inner: Cursor::new(gz.clone()),
            max: 7,
            calls: 0,
        }),
    ] {
        let o = read_from(input).expect("opens");
        // all but the last few KiB decompressed before the damage (the
        // decoder gives its output in steps of up to 32 KiB)
        assert!(
            o.frames.len() >= 1000 - (48 << 10) / 116,
            "{} frames",
            o.frames.len()
        );
        assert!(o.frames.len() <= 1000);
        match err_of(&o) {
            CaptureError::ReadFailed { offset, gzip, .. } => {
                assert!(*gzip);
                assert!(
                    *offset <= half as u64 && *offset + (48 << 10) >= half as u64,
                    "{offset}"
                );
            }
            e => panic!("wrong error {e}"),
        }
        let msg = err_of(&o).to_string();
        assert!(
            msg.contains("test.cap") && msg.contains("decompressed"),
            "{msg}"
        );
    }
}

#[test]
fn gzip_pcap_and_pcapng() {
    let mut p = pcap_header(false, false, 1, 65535);
    p.extend(pcap_record(false, 1, 2, &packet(1, 30), 30));
    let (ng, _) = ng_with_frames(3);
    for plain in [p, ng] {
        let expect = read_ok(&plain);
        let o = read_ok(&gzip(&plain));
        assert!(o.gzip);
        assert_eq!(o.frames, expect.frames);
        assert_eq!(o.stats.bytes_read, plain.len() as u64);
        // Two gzip members, as `cat a.gz b.gz` makes: one stream.
        let half = plain.len() / 2;
        let mut two = gzip(&plain[..half]);
        two.extend(gzip(&plain[half..]));
        assert_eq!(read_ok(&two).frames, expect.frames);
    }
}

#[test]
fn gzip_cut_at_every_byte() {
    let (plain, _) = ng_with_frames(5);
    let full = read_ok(&plain);
    let z = gzip(&plain);
    for cut in 0..z.len() {
        match read(&z[..cut]) {
            Err(e) => {
                let msg = e.to_string();
                assert!(!msg.is_empty());
            }
            Ok(o) => {
                assert!(o.frames.len() <= full.frames.len());
                assert_eq!(o.frames, full.frames[..o.frames.len()], "cut {cut}");
                assert!(
                    o.end.is_err(),
                    "cut {cut}: a cut gzip stream must not end cleanly"
                );
            }
        }
    }
}

#[test]
fn gzip_cut_reports_the_early_end() {
    let (plain, _) = ng_with_frames(5);
    let z = gzip(&plain);
    // Only the 8-byte trailer missing: all frames, then an error.
    let o = read(&z[..z.len() - 8]).expect("opens");
    assert_eq!(o.frames.len(), 5);
    let msg = err_of(&o).to_string();
    assert!(msg.contains("gzip"), "{msg}");
}

// ----- streaming and robustness -------------------------------------------------------

/// Generates a pcap of `n` frames of varying sizes on the fly.
struct Generator {
    n: u32,
    next: u32,
    pending: Vec<u8>,
    at: usize,
    chunk: usize,
}

impl Read for Generator {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.pending.len() {
            if self.next == self.n {
                return Ok(0);
            }
            self.pending.clear();
            self.at = 0;
            if self.next == 0 {
                self.pending.extend(pcap_header(false, true, 1, 65535));
            }
            let len = 40 + (self.next as usize * 7919) % 3000;
            let tag = (self.next % 251) as u8;
            self.pending.extend(pcap_record(
                false,
                self.next,
                0,
                &packet(tag, len),
                len as u32,
            ));
            self.next += 1;
        }
        // Odd-sized reads so records straddle refills.
        self.chunk = self.chunk % 65521 + 4099;
        let n = buf.len().min(self.pending.len() - self.at).min(self.chunk);
        buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[test]
fn long_stream_with_records_across_refills() {
    let n = 12_000u32; // about 18 MB
    let mut r = CaptureReader::from_reader(
        "gen",
        Box::new(Generator {
            n,
            next: 0,
            pending: Vec::new(),
            at: 0,
            chunk: 0,
        }),
    )
    .expect("opens");
    let mut count = 0u32;
    let mut offset = 24u64;
    while let Some(f) = r.next_frame().expect("reads") {
        let len = 40 + (count as usize * 7919) % 3000;
        assert_eq!(f.number, u64::from(count) + 1);
        assert_eq!(f.file_offset, offset);
        assert_eq!(f.ts.as_nanos(), i64::from(count) * 1_000_000_000);
        assert!(
            f.data == packet((count % 251) as u8, len).as_slice(),
            "frame {}",
            f.number
        );
        offset += 16 + len as u64;
        count += 1;
    }
    assert_eq!(count, n);
    assert_eq!(r.stats().bytes_read, offset);
}

#[test]
fn random_damage_never_panics() {
    let mut rng = Prng::from_env("TLSCLOSE_FUZZ_SEED", 0x9e37_79b9_7f4a_7c15);
    let mut next = move || rng.next();
    let (ng, _) = ng_with_frames(6);
    let mut ng2 = ng.clone();
    ng2.extend(idb(false, 1, 0, &[(9, &[9])]));
    ng2.extend(spb(false, &packet(1, 10), 10));
    ng2.extend(dsb(false, 1, b"k"));
    let mut pc = pcap_header(false, false, 1, 200);
    for i in 0..6u8 {
        pc.extend(pcap_record(false, 1, 0, &packet(i, 50), 50));
    }
    // TLSCLOSE_FUZZ_ITERS=200000 cargo test --release ... for a longer run.
    let iters: usize = std::env::var("TLSCLOSE_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    let gz = gzip(&ng);
    for (base, compressed) in [(ng2, false), (pc, false), (gz, true)] {
        for _ in 0..iters {
            let mut f = base.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() as usize) % f.len();
                match next() % 3 {
                    0 => f[at] = next() as u8,
                    1 => f[at] ^= 0x80,
                    _ => f.truncate(at.max(1)),
                }
            }
            if let Ok(o) = read(&f) {
                // Offsets count decompressed bytes.
                let size = if compressed { u64::MAX } else { f.len() as u64 };
                let mut last = 0;
                for fr in &o.frames {
                    assert!(fr.number > last);
                    last = fr.number;
                    assert!(fr.offset < size);
                    let _ = tlsclose_capture::decode_segment(&tlsclose_capture::Frame {
                        number: fr.number,
                        ts: tlsclose_capture::Timestamp(fr.ts),
                        link: fr.link,
                        data: &fr.data,
                        orig_len: fr.orig_len,
                        file_offset: fr.offset,
                    });
                }
                assert!(o.stats.bytes_read <= size);
            }
        }
    }
}
