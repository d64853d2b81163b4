//! The sample captures in `tests/data` (copies of the corpus' `fmt-*` cases),
//! read frame by frame and compared with tshark's reading of them (the
//! `.tsv` next to each capture) and with pcap-parser's.

use pcap_parser::{Block, PcapBlockOwned, PcapError};
use std::path::{Path, PathBuf};
use tlsclose_capture::{decode_segment, CaptureFormat, CaptureReader, LinkType};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

struct Row {
    number: u64,
    time: String,
    len: u32,
    cap_len: usize,
    src: String,
    dst: String,
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u16,
    tcp_len: u32,
}

fn expected(case: &str) -> Vec<Row> {
    let text = std::fs::read_to_string(data_dir().join(format!("{case}.tsv"))).expect("tsv");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 12, "{case}: bad line {l:?}");
            Row {
                number: f[0].parse().expect("number"),
                time: f[1].to_string(),
                len: f[2].parse().expect("len"),
                cap_len: f[3].parse().expect("cap_len"),
                src: f[4].to_string(),
                dst: f[5].to_string(),
                sport: f[6].parse().expect("sport"),
                dport: f[7].parse().expect("dport"),
                seq: f[8].parse().expect("seq"),
                ack: f[9].parse().expect("ack"),
                flags: u16::from_str_radix(f[10].trim_start_matches("0x"), 16).expect("flags"),
                tcp_len: f[11].parse().expect("tcp_len"),
            }
        })
        .collect()
}

fn capture_path(case: &str) -> PathBuf {
    for ext in ["pcap", "pcapng"] {
        let p = data_dir().join(format!("{case}.{ext}"));
        if p.exists() {
            return p;
        }
    }
    panic!("no capture for {case}");
}

/// Reads a case and checks every frame against tshark; returns the link
/// types seen and the reader's format.
fn check_case(case: &str) -> (Vec<LinkType>, CaptureFormat, CaptureReader) {
    let rows = expected(case);
    let path = capture_path(case);
    let mut r = CaptureReader::open(path.to_str().expect("utf-8 path")).expect("opens");
    let mut links = Vec::new();
    let mut n = 0usize;
    while let Some(f) = r.next_frame().expect("no error") {
        let row = rows
            .get(n)
            .unwrap_or_else(|| panic!("{case}: extra frame {}", f.number));
        n += 1;
        assert_eq!(f.number, row.number, "{case}");
        let ns = f.ts.as_nanos();
        let time = format!("{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000);
        assert_eq!(time, row.time, "{case} frame {}", f.number);
        assert_eq!(f.orig_len, row.len, "{case} frame {}", f.number);
        assert_eq!(f.data.len(), row.cap_len, "{case} frame {}", f.number);
        if !links.contains(&f.link) {
            links.push(f.link);
        }
        let s = decode_segment(&f)
            .unwrap_or_else(|e| panic!("{case} frame {}: not decoded: {e}", f.number));
        assert_eq!(s.src.ip.to_string(), row.src, "{case} frame {}", f.number);
        assert_eq!(s.dst.ip.to_string(), row.dst, "{case} frame {}", f.number);
        assert_eq!((s.src.port, s.dst.port), (row.sport, row.dport), "{case}");
        assert_eq!(
            (s.seq, s.ack),
            (row.seq, row.ack),
            "{case} frame {}",
            f.number
        );
        assert_eq!(
            s.flags.fin,
            row.flags & 0x01 != 0,
            "{case} frame {}",
            f.number
        );
        assert_eq!(
            s.flags.syn,
            row.flags & 0x02 != 0,
            "{case} frame {}",
            f.number
        );
        assert_eq!(
            s.flags.rst,
            row.flags & 0x04 != 0,
            "{case} frame {}",
            f.number
        );
        assert_eq!(
            s.flags.psh,
            row.flags & 0x08 != 0,
            "{case} frame {}",
            f.number
        );
        assert_eq!(
            s.flags.ack,
            row.flags & 0x10 != 0,
            "{case} frame {}",
            f.number
        );
        assert_eq!(s.wire_len, row.tcp_len, "{case} frame {}", f.number);
        // What the snapshot length cut off the frame comes off the payload.
        let missing = row.len as usize - row.cap_len;
        assert_eq!(
            s.payload.len(),
            (row.tcp_len as usize).saturating_sub(missing),
            "{case} frame {}",
            f.number
        );
        assert_eq!(s.is_truncated(), missing > 0 && row.tcp_len > 0);
    }
    assert_eq!(n, rows.len(), "{case}: frame count");
    assert_eq!(r.stats().frames, rows.len() as u64);
    let size = std::fs::metadata(&path).expect("metadata").len();
    assert_eq!(r.stats().bytes_read, size, "{case}: whole file consumed");
    assert!(r.take_warnings().is_empty(), "{case}: warnings");
    let format = r.format();
    (links, format, r)
}

#[test]
fn pcap_link_types_match_tshark() {
    for (case, link) in [
        ("fmt-null-loopback", LinkType::NULL),
        ("fmt-rawip", LinkType::RAW),
        ("fmt-sll", LinkType::LINUX_SLL),
        ("fmt-sll2", LinkType::LINUX_SLL2),
        ("fmt-vlan-8021q", LinkType::ETHERNET),
        ("fmt-ipv6", LinkType::ETHERNET),
        ("fmt-pcap-bigendian", LinkType::ETHERNET),
        ("fmt-pcap-nsec", LinkType::ETHERNET),
    ] {
        let (links, format, _) = check_case(case);
        assert_eq!(links, vec![link], "{case}");
        assert_eq!(format, CaptureFormat::Pcap, "{case}");
    }
}

#[test]
fn pcapng_cases_match_tshark() {
    let (links, format, _) = check_case("fmt-pcapng");
    assert_eq!(
        (links, format),
        (vec![LinkType::ETHERNET], CaptureFormat::PcapNg)
    );

    // Named .pcap, but a pcapng file: recognised by its magic.
    let (_, format, _) = check_case("fmt-snaplen-128");
    assert_eq!(format, CaptureFormat::PcapNg);

    let (links, _, _) = check_case("fmt-pcapng-multi-if");
    assert!(links.contains(&LinkType::ETHERNET) && links.contains(&LinkType::LINUX_SLL));

    let (_, _, mut r) = check_case("fmt-pcapng-dsb");
    let secrets = r.take_decryption_secrets();
    assert_eq!(secrets.len(), 1);
    let (kind, data) = &secrets[0];
    assert_eq!(*kind, 0x544c_534b, "TLS key log secrets type");
    let text = String::from_utf8_lossy(data);
    assert!(text.contains("TRAFFIC_SECRET"), "{text}");
    assert!(r.take_decryption_secrets().is_empty(), "drained");
}

/// Frame bytes as pcap-parser reads them.
fn pcap_parser_frames(path: &Path) -> Vec<Vec<u8>> {
    let file = std::fs::File::open(path).expect("open");
    let mut reader = pcap_parser::create_reader(1 << 16, file).expect("pcap-parser reader");
    let mut out = Vec::new();
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                match block {
                    PcapBlockOwned::Legacy(b) => out.push(b.data.to_vec()),
                    PcapBlockOwned::NG(Block::EnhancedPacket(b)) => {
                        out.push(b.data[..b.caplen as usize].to_vec())
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(b)) => out.push(b.data.to_vec()),
                    _ => {}
                }
                reader.consume(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => reader.refill().expect("refill"),
            Err(e) => panic!("pcap-parser: {e:?}"),
        }
    }
    out
}

#[test]
fn frame_bytes_agree_with_pcap_parser() {
    let mut cases = 0;
    for entry in std::fs::read_dir(data_dir()).expect("data dir") {
        let path = entry.expect("entry").path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext != "pcap" && ext != "pcapng" {
            continue;
        }
        cases += 1;
        let theirs = pcap_parser_frames(&path);
        let mut r = CaptureReader::open(path.to_str().expect("utf-8")).expect("opens");
        let mut i = 0;
        while let Some(f) = r.next_frame().expect("reads") {
            assert_eq!(
                Some(&f.data.to_vec()),
                theirs.get(i),
                "{path:?} frame {}",
                f.number
            );
            i += 1;
        }
        assert_eq!(i, theirs.len(), "{path:?}");
    }
    assert_eq!(cases, 12);
}
