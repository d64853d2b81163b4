//! Throughput of one direction's reassembler: in-order MSS segments (the
//! common case: lent, never copied), a stream with adjacent pairs swapped
//! (held and released), and a stream with retransmissions.
//!
//! Run: `cargo bench -p tlsclose-tcp --bench reassembly`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use tlsclose_tcp::{Chunk, Reassembler};

const MSS: usize = 1448;

fn segments(total: usize) -> Vec<(u32, usize, usize)> {
    (0..total.div_ceil(MSS))
        .map(|i| {
            let s = i * MSS;
            (1 + s as u32, s, (s + MSS).min(total))
        })
        .collect()
}

fn run(data: &[u8], order: &[(u32, usize, usize)]) -> u64 {
    let mut r = Reassembler::<u32>::new(1 << 20);
    r.syn(0);
    let mut n = 0u64;
    let mut sink = |c: Chunk<'_>, _t: u32| {
        if let Chunk::Data(d) = c {
            n += d.len() as u64;
            black_box(d.first());
        }
    };
    for (i, &(seq, s, e)) in order.iter().enumerate() {
        r.segment(seq, &data[s..e], (e - s) as u32, i as u32, &mut sink);
    }
    r.flush(0, &mut sink);
    n
}

fn bench(c: &mut Criterion) {
    let total = 8 << 20;
    let data: Vec<u8> = (0..total).map(|i| (i * 7) as u8).collect();
    let in_order = segments(total);
    let mut swapped = in_order.clone();
    for pair in swapped.chunks_mut(50) {
        if pair.len() > 1 {
            pair.swap(0, 1);
        }
    }
    let mut retrans = Vec::new();
    for (i, s) in in_order.iter().enumerate() {
        retrans.push(*s);
        if i % 200 == 0 {
            retrans.push(*s);
        }
    }
    let mut g = c.benchmark_group("reassembly");
    g.throughput(Throughput::Bytes(total as u64));
    for (name, order) in [
        ("in-order", &in_order),
        ("pairs-swapped-2pct", &swapped),
        ("retransmit-0.5pct", &retrans),
    ] {
        g.bench_with_input(BenchmarkId::new(name, total), order, |b, o| {
            b.iter(|| run(black_box(&data), o))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
