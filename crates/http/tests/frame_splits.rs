//! Any stream of HTTP/2 frames, cut into any pieces, gives the same frame
//! headers (and GOAWAY fields) as the stream read in one push.

use proptest::prelude::*;
use tlsclose_http::h2frame::{kind, Frame, FrameReader};

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() as u32).to_be_bytes();
    let mut v = vec![len[1], len[2], len[3], kind, flags];
    v.extend_from_slice(&stream.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

fn read(pieces: &[&[u8]]) -> Vec<Frame> {
    let mut r = FrameReader::new();
    let mut out = Vec::new();
    for p in pieces {
        r.push(p, &mut |f| out.push(f));
    }
    out
}

/// A frame: any type (GOAWAY often), flags, stream, payload of 0 to 40 bytes.
fn any_frame() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![Just(kind::GOAWAY), 0u8..=9],
        any::<u8>(),
        any::<u32>(),
        proptest::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(k, f, s, p)| frame(k, f, s, &p))
}

proptest! {
    #[test]
    fn any_pieces_give_the_same_frames(
        frames in proptest::collection::vec(any_frame(), 1..12),
        cuts in proptest::collection::vec(any::<usize>(), 0..10),
    ) {
        let bytes = frames.concat();
        let whole = read(&[&bytes]);
        prop_assert_eq!(whole.len(), frames.len());
        let mut at: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        at.sort_unstable();
        let mut pieces = Vec::new();
        let mut last = 0;
        for a in at {
            pieces.push(&bytes[last..a]);
            last = a;
        }
        pieces.push(&bytes[last..]);
        prop_assert_eq!(read(&pieces), whole);
    }
}
