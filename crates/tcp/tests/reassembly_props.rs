//! Property: however a byte stream is cut into segments, reordered and
//! duplicated, the reassembler gives back exactly the stream, once, in order.

use proptest::prelude::*;
use tlsclose_tcp::{Chunk, Reassembler};

/// Cuts `len` bytes at the given points into (start, end) ranges.
fn segments(len: usize, cuts: &[usize]) -> Vec<(usize, usize)> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (len + 1)).collect();
    points.push(0);
    points.push(len);
    points.sort_unstable();
    points.dedup();
    points.windows(2).map(|w| (w[0], w[1])).collect()
}

fn run(isn: u32, stream: &[u8], order: &[(usize, usize)], limit: usize) -> (Vec<u8>, u64) {
    let mut r = Reassembler::<()>::new(limit);
    r.syn(isn);
    let mut out = Vec::new();
    let mut gaps = 0;
    let mut sink = |c: Chunk<'_>, _: ()| match c {
        Chunk::Data(d) => out.extend_from_slice(d),
        Chunk::Gap(n) => gaps += n,
    };
    for &(s, e) in order {
        let seq = isn.wrapping_add(1).wrapping_add(s as u32);
        r.segment(seq, &stream[s..e], (e - s) as u32, (), &mut sink);
    }
    r.flush((), &mut sink);
    (out, gaps)
}

proptest! {
    #[test]
    fn any_segmentation_order_and_duplication_gives_the_stream(
        stream in proptest::collection::vec(any::<u8>(), 1..3000),
        cuts in proptest::collection::vec(any::<usize>(), 0..40),
        swaps in proptest::collection::vec((any::<usize>(), any::<usize>()), 0..40),
        dups in proptest::collection::vec((any::<usize>(), any::<usize>(), any::<usize>()), 0..10),
        isn in any::<u32>(),
    ) {
        let mut order = segments(stream.len(), &cuts);
        // duplicates and overlapping retransmissions of arbitrary ranges
        for (a, b, at) in dups {
            let (a, b) = (a % stream.len(), b % stream.len());
            let (s, e) = (a.min(b), a.max(b) + 1);
            let at = at % (order.len() + 1);
            order.insert(at, (s, e));
        }
        let n = order.len();
        for (i, j) in swaps {
            order.swap(i % n, j % n);
        }
        let (out, gaps) = run(isn, &stream, &order, usize::MAX);
        prop_assert_eq!(gaps, 0);
        prop_assert_eq!(out, stream);
    }

    #[test]
    fn a_missing_segment_is_one_gap_of_its_length(
        stream in proptest::collection::vec(any::<u8>(), 2..2000),
        cuts in proptest::collection::vec(any::<usize>(), 1..20),
        drop in any::<usize>(),
        isn in any::<u32>(),
    ) {
        let mut order = segments(stream.len(), &cuts);
        prop_assume!(order.len() > 1);
        // the last segment's loss cannot be seen without later bytes
        let (s, e) = order.remove(drop % (order.len() - 1));
        let (out, gaps) = run(isn, &stream, &order, usize::MAX);
        prop_assert_eq!(gaps, (e - s) as u64);
        let mut expect = stream[..s].to_vec();
        expect.extend_from_slice(&stream[e..]);
        prop_assert_eq!(out, expect);
    }

    #[test]
    fn held_bytes_never_exceed_the_limit(
        stream in proptest::collection::vec(any::<u8>(), 1..4000),
        cuts in proptest::collection::vec(any::<usize>(), 0..60),
        limit in 1usize..600,
    ) {
        let mut order = segments(stream.len(), &cuts);
        order.reverse();
        let mut r = Reassembler::<()>::new(limit);
        r.syn(7);
        let mut delivered = 0u64;
        for (s, e) in order {
            r.segment(8 + s as u32, &stream[s..e], (e - s) as u32, (), &mut |c, _| match c {
                Chunk::Data(d) => delivered += d.len() as u64,
                Chunk::Gap(n) => delivered += n,
            });
            // one segment may be held beyond the limit only until the next hole is given up
            prop_assert!(r.pending_bytes() <= limit.max(e - s));
        }
        r.flush((), &mut |c, _| match c {
            Chunk::Data(d) => delivered += d.len() as u64,
            Chunk::Gap(n) => delivered += n,
        });
        prop_assert_eq!(delivered, stream.len() as u64);
    }
}
