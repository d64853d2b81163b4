//! Parsing straight from the input's chunks: a capture handed over in
//! chunks of any size, with records and blocks straddling their
//! boundaries, gives the same frames, warnings, error and counts as the
//! same capture handed over whole.

use super::input::Chunks;
use super::{open_input, CaptureReader, ReadAhead};
use crate::prefetch::Prefetch;
use proptest::prelude::*;
use std::io::{self, Cursor, Read};
use tlsclose_testkit::capture::{
    block, dsb, epb, gzip, idb, pb, pcap_header, pcap_record, shb, spb, u32b,
};

/// Hands the bytes out in pieces of the sizes given (in turn, over and
/// over): with [`Chunks::Direct`], one chunk per piece.
struct Pieces {
    data: Vec<u8>,
    pos: usize,
    sizes: Vec<usize>,
    turn: usize,
}

impl Pieces {
    fn new(data: &[u8], sizes: &[usize]) -> Pieces {
        Pieces {
            data: data.to_vec(),
            pos: 0,
            sizes: sizes.to_vec(),
            turn: 0,
        }
    }
}

impl Read for Pieces {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let size = self.sizes[self.turn % self.sizes.len()].max(1);
        self.turn += 1;
        let rest = &self.data[self.pos..];
        let n = rest.len().min(buf.len()).min(size);
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    frames: Vec<(u64, i64, u32, Vec<u8>, u32, u64)>,
    end: String,
    warnings: Vec<String>,
    stats: String,
    secrets: Vec<(u32, Vec<u8>)>,
}

fn outcome(r: Result<CaptureReader, super::CaptureError>) -> Outcome {
    let mut r = match r {
        Ok(r) => r,
        Err(e) => {
            return Outcome {
                frames: Vec::new(),
                end: format!("open: {e}"),
                warnings: Vec::new(),
                stats: String::new(),
                secrets: Vec::new(),
            }
        }
    };
    let mut frames = Vec::new();
    let mut warnings = Vec::new();
    let end = loop {
        match r.next_frame() {
            Ok(Some(f)) => frames.push((
                f.number,
                f.ts.0,
                f.link.0,
                f.data.to_vec(),
                f.orig_len,
                f.file_offset,
            )),
            Ok(None) => break "end".to_string(),
            Err(e) => break e.to_string(),
        }
        warnings.extend(r.take_warnings());
    };
    warnings.extend(r.take_warnings());
    Outcome {
        frames,
        end,
        warnings,
        stats: format!("{:?}", r.stats()),
        secrets: r.take_decryption_secrets(),
    }
}

/// Read as `from_reader` does, from one `read` call per piece.
fn in_pieces(data: &[u8], sizes: &[usize]) -> Outcome {
    outcome(CaptureReader::from_reader(
        "t",
        Box::new(Pieces::new(data, sizes)),
    ))
}

/// Read whole: one chunk (the captures here are smaller than a chunk).
fn whole(data: &[u8]) -> Outcome {
    outcome(CaptureReader::from_reader(
        "t",
        Box::new(Cursor::new(data.to_vec())),
    ))
}

/// Read ahead on a second thread in chunks of `chunk` bytes (`live`: each
/// read's bytes handed over at once).
fn ahead(data: &[u8], chunk: usize, depth: usize, live: bool) -> Outcome {
    let input: Box<dyn Read + Send> = Box::new(Pieces::new(data, &[chunk / 2 + 1, 3, chunk]));
    let p = if live {
        Prefetch::start(input, chunk, depth, true)
    } else {
        Prefetch::with_sizes(input, chunk, depth)
    };
    let p = p.expect("thread");
    outcome(CaptureReader::over_chunks(
        "t",
        Chunks::Ahead(Box::new(p)),
        false,
    ))
}

fn packet(tag: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| tag.wrapping_add(i as u8)).collect()
}

/// A pcap of records of assorted lengths (µs or ns, either byte order).
fn pcap(be: bool, nsec: bool) -> Vec<u8> {
    let mut f = pcap_header(be, nsec, 1, 65535);
    for (i, len) in [60usize, 1, 333, 17, 1514, 2, 90, 700, 41]
        .iter()
        .enumerate()
    {
        let i = i as u32;
        f.extend(pcap_record(
            be,
            1000 + i,
            i * 7,
            &packet(i as u8, *len),
            *len as u32,
        ));
    }
    f
}

/// Two pcapng sections (little-, then big-endian) with every block type.
fn pcapng() -> Vec<u8> {
    let mut f = shb(false);
    f.extend(idb(false, 1, 65535, &[(9, &[9])]));
    f.extend(idb(false, 101, 0, &[]));
    f.extend(epb(false, 0, 5_000_000_000, &packet(1, 100), 100));
    f.extend(spb(false, &packet(2, 61), 61));
    f.extend(pb(false, 1, 77, &packet(3, 45), 50));
    f.extend(dsb(false, 0x544c_534b, b"CLIENT_RANDOM 00 11\n"));
    f.extend(block(false, 4, &[0; 8])); // name resolution
    f.extend(block(false, 0x0BAD, &[1, 2, 3, 4, 5])); // custom
    f.extend(block(false, 0x1234, &[9; 20])); // unknown
    f.extend(epb(false, 7, 1, &packet(4, 10), 10)); // no such interface
    f.extend(epb(false, 1, 9_000_001, &packet(5, 1200), 1500));
    f.extend(shb(true));
    f.extend(idb(true, 1, 65535, &[(9, &[0x86])]));
    f.extend(epb(true, 0, 1 << 40, &packet(6, 300), 300));
    f.extend(dsb(true, 0x544c_534b, b"CLIENT_RANDOM 22 33\n"));
    f.extend(epb(true, 0, (1 << 40) + 64, &packet(7, 3), 3));
    f
}

/// The cases: every format, damage mid-file and at the end, concatenations.
fn cases() -> Vec<(&'static str, Vec<u8>)> {
    let mut v = vec![
        ("pcap le us", pcap(false, false)),
        ("pcap be ns", pcap(true, true)),
        ("pcapng", pcapng()),
    ];
    // a record whose length lies, mid-file: resynchronisation
    let mut lie = pcap(false, false);
    lie[24 + 16 + 60 + 8..24 + 16 + 60 + 12].copy_from_slice(&u32b(false, 40_000));
    v.push(("pcap lying length", lie.clone()));
    lie[24 + 16 + 60 + 8..24 + 16 + 60 + 12].copy_from_slice(&u32b(false, 3));
    v.push(("pcap short length", lie));
    let p = pcap(true, false);
    v.push(("pcap cut", p[..p.len() - 20].to_vec()));
    v.push(("pcap cut in a header", p[..p.len() - 41 - 10].to_vec()));
    let ng = pcapng();
    let mut bad = ng.clone();
    // the first EPB's trailing length
    let epb_at = shb(false).len() + idb(false, 1, 65535, &[(9, &[9])]).len() + 20;
    let epb_len = epb(false, 0, 0, &packet(1, 100), 100).len();
    bad[epb_at + epb_len - 4] ^= 0x40;
    v.push(("pcapng trailer mismatch", bad));
    v.push(("pcapng cut", ng[..ng.len() - 7].to_vec()));
    let mut past = ng.clone();
    let last = ng.len() - epb(true, 0, 0, &packet(7, 3), 3).len();
    past[last + 4..last + 8].copy_from_slice(&u32b(true, 4096));
    v.push(("pcapng length past the end", past));
    let mut joined = pcap(false, false);
    joined.extend(pcapng());
    joined.extend(pcap(true, true));
    v.push(("pcap + pcapng + pcap", joined));
    v.push(("gzip pcapng", gzip(&ng)));
    let gz = gzip(&pcap(false, true));
    v.push(("gzip cut", gz[..gz.len() - 30].to_vec()));
    v.push(("short", ng[..10].to_vec()));
    v
}

#[test]
fn chunks_of_every_size_give_what_the_whole_gives() {
    for (name, data) in cases() {
        let want = whole(&data);
        assert!(!want.frames.is_empty() || name == "short", "{name}");
        for size in 1..=data.len() + 1 {
            let got = in_pieces(&data, &[size]);
            assert_eq!(got, want, "{name}: chunks of {size} bytes");
        }
    }
}

#[test]
fn chunks_read_ahead_give_what_the_whole_gives() {
    for (name, data) in cases() {
        if name.starts_with("gzip") {
            continue; // (decompressed by `open_input`, below)
        }
        let want = whole(&data);
        for chunk in (1..=40).chain([97, 512, 1000, 4096]) {
            for (depth, live) in [(1, false), (3, false), (2, true)] {
                let got = ahead(&data, chunk, depth, live);
                assert_eq!(
                    got, want,
                    "{name}: chunks of {chunk}, depth {depth}, live {live}"
                );
            }
        }
    }
}

#[test]
fn gzip_read_ahead_gives_what_the_whole_gives() {
    for (name, data) in cases() {
        let want = whole(&data);
        for mode in [ReadAhead::Chunks, ReadAhead::Live] {
            let (chunks, gz) =
                open_input(Box::new(Pieces::new(&data, &[5, 700])), mode).expect("opens");
            let got = outcome(CaptureReader::over_chunks("t", chunks, gz));
            assert_eq!(got, want, "{name}: {mode:?}");
        }
    }
}

/// Records larger than a chunk, than the carry's kept capacity, and a
/// lying length that points far past the end, in chunks of a few sizes.
#[test]
fn records_larger_than_chunks() {
    let mut f = pcap_header(false, false, 1, 0);
    for (i, len) in [100usize, 3 << 20, 70_000, 10, (1 << 20) + 3, 5]
        .iter()
        .enumerate()
    {
        let i = i as u32;
        f.extend(pcap_record(
            false,
            50 + i,
            0,
            &packet(i as u8, *len),
            *len as u32,
        ));
    }
    let mut ng = shb(false);
    ng.extend(idb(false, 1, 0, &[]));
    for (i, len) in [2_500_000usize, 64, 65_536, 1].iter().enumerate() {
        ng.extend(epb(false, 0, i as u64, &packet(i as u8, *len), *len as u32));
    }
    let mut lie = ng.clone();
    lie[ng.len() - 40 + 4..ng.len() - 40 + 8].copy_from_slice(&u32b(false, 8 << 20));
    for (name, data) in [("pcap", f), ("pcapng", ng), ("pcapng lie", lie)] {
        let want = outcome(CaptureReader::from_reader(
            "t",
            Box::new(Pieces::new(&data, &[data.len()])),
        ));
        assert!(want.frames.len() >= 3, "{name}");
        for sizes in [
            &[1usize << 20][..],
            &[65_536],
            &[4099, 1, 77_777],
            &[333_333],
        ] {
            assert_eq!(in_pieces(&data, sizes), want, "{name}: {sizes:?}");
        }
        for chunk in [4096, 1 << 20] {
            assert_eq!(ahead(&data, chunk, 2, false), want, "{name}: ahead {chunk}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Chunk boundaries anywhere: the same outcome.
    #[test]
    fn random_chunk_boundaries(case in 0usize..16, sizes in prop::collection::vec(1usize..300, 1..40)) {
        let cases = cases();
        let (name, data) = &cases[case % cases.len()];
        prop_assert_eq!(in_pieces(data, &sizes), whole(data), "{}", name);
    }
}

/// Counts the `read` calls made on the input it wraps.
struct Counted<R>(R, std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.0.read(buf)
    }
}

/// How many frames `next_is_buffered` said were whole in the bytes read,
/// checking that the next frame then came without reading the input.
fn buffered_frames(data: &[u8], sizes: &[usize]) -> usize {
    use std::sync::atomic::Ordering;
    let reads = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let input = Counted(Pieces::new(data, sizes), std::sync::Arc::clone(&reads));
    let mut r = CaptureReader::from_reader("t", Box::new(input)).expect("a capture");
    let mut promised = 0;
    loop {
        let sure = r.next_is_buffered();
        let before = reads.load(Ordering::Relaxed);
        let frame = r.next_frame().map(|f| f.is_some());
        if sure {
            promised += 1;
            assert_eq!(
                reads.load(Ordering::Relaxed),
                before,
                "read after a promise: {sizes:?} after {promised} promises, {frame:?}, {} bytes",
                data.len()
            );
        }
        if !matches!(frame, Ok(true)) {
            return promised;
        }
    }
}

/// A live reader hands on its frames when the next one is not whole in
/// the bytes read: `next_is_buffered` must never promise a frame that
/// needs another read, in every format and at any chunk boundaries, and
/// it does promise the frames of a capture read in one piece.
#[test]
fn next_is_buffered_never_promises_a_frame_that_needs_a_read() {
    let sound = ["pcap le us", "pcap be ns", "pcapng", "pcap + pcapng + pcap"];
    for (name, data) in cases().into_iter().filter(|(n, _)| sound.contains(n)) {
        for sizes in [&[1usize][..], &[7, 100], &[60, 3, 250], &[4096]] {
            buffered_frames(&data, sizes);
        }
        let frames = whole(&data).frames.len();
        let promised = buffered_frames(&data, &[1 << 20]);
        // one piece: every pcap frame after the first is promised (the
        // first came with the header's read), and the end; in pcapng not
        // the frames after a new section or a packet of no interface
        if name.starts_with("pcap ") && !name.contains('+') {
            assert!(promised >= frames, "{name}: {promised} of {frames}");
        } else {
            assert!(2 * promised >= frames, "{name}: {promised} of {frames}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn next_is_buffered_holds_at_random_boundaries(
        case in 0usize..4,
        sizes in prop::collection::vec(1usize..300, 1..40),
    ) {
        let sound = ["pcap le us", "pcap be ns", "pcapng", "pcap + pcapng + pcap"];
        let cases: Vec<_> = cases().into_iter().filter(|(n, _)| sound.contains(n)).collect();
        let (_, data) = &cases[case % cases.len()];
        buffered_frames(data, &sizes);
    }
}
