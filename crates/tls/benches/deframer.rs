//! Throughput of the record deframer on the shapes that dominate real
//! captures: bulk application data (16 KiB records in MSS-sized pushes,
//! bodies skipped), many small records (handshakes, alerts, kept bodies),
//! and resynchronisation over ciphertext after a gap.
//!
//! Run: `cargo bench -p tlsclose-tls --bench deframer`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use tlsclose_tls::{DeframeEvent, Deframer, DeframerConfig, StartMode};

/// A record stream: a handshake record, then `n` application_data records
/// of `len` bytes, then a 26-byte alert.
fn stream(n: usize, len: usize) -> Vec<u8> {
    let mut s = Vec::new();
    let mut rec = |t: u8, body_len: usize, fill: u8| {
        s.extend_from_slice(&[t, 3, 3]);
        s.extend_from_slice(&(body_len as u16).to_be_bytes());
        s.extend((0..body_len).map(|i| fill ^ (i as u8).wrapping_mul(31)));
    };
    rec(22, 80, 0);
    for i in 0..n {
        rec(23, len, i as u8);
    }
    rec(21, 26, 7);
    s
}

fn run(data: &[u8], push: usize, mode: StartMode) -> usize {
    let mut d: Deframer<u64> = Deframer::new(mode, DeframerConfig::default());
    let mut records = 0usize;
    let mut sink = |ev: DeframeEvent<'_, u64>| {
        if let DeframeEvent::Record(r) = ev {
            records += 1;
            black_box(r.header.length);
        }
    };
    for (i, chunk) in data.chunks(push).enumerate() {
        d.push(chunk, i as u64, &mut sink);
    }
    d.finish(&mut sink);
    records
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("deframer");
    for (name, n, len, push) in [
        ("bulk-16k-records-mss-pushes", 256, 16401, 1448),
        ("small-records-one-push-each", 20000, 40, 45),
        ("small-records-many-per-push", 20000, 40, 65535),
    ] {
        let data = stream(n, len);
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_with_input(BenchmarkId::new(name, data.len()), &data, |b, d| {
            b.iter(|| run(black_box(d), push, StartMode::StreamStart))
        });
    }
    // mid-stream: the first 1000 bytes are missing, the deframer scans
    let data = stream(64, 16401);
    let cut = &data[1000..];
    g.throughput(Throughput::Bytes(cut.len() as u64));
    g.bench_with_input(
        BenchmarkId::new("midstream-resync", cut.len()),
        &cut,
        |b, d| b.iter(|| run(black_box(d), 1448, StartMode::MidStream)),
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
